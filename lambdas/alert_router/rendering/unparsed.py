"""What the router could not read, shown as received: unparsed input, an alarm with a missing or unknown
state, and the fallback message when a renderer failed (a bug): no alert is lost."""

from __future__ import annotations

import json
from dataclasses import replace

from lambdas.alert_router.models import Alert, Payload
from lambdas.alert_router.rendering.blocks import code, section_block
from lambdas.alert_router.rendering.context import RenderContext
from lambdas.alert_router.rendering.layout import Layout, compose, severity_look
from lambdas.alert_router.rendering.text import escape
from lambdas.shared.alarm_metadata import Severity


def render_fallback(alert: Alert, context: RenderContext, severity: Severity) -> Payload:
    """The message when `render` failed (a bug): the alert's facts as received, so no alert is lost."""
    facts = (
        ("Alarm", alert.alarm_name),
        ("State", alert.state.value if alert.state else None),
        ("Previous state", alert.previous_state.value if alert.previous_state else None),
        ("Description", alert.description),
        ("Reason", alert.reason),
        ("Title", alert.sentry.title if alert.sentry else None),
        ("Link", alert.sentry.issue_url if alert.sentry else None),
    )
    text = "\n".join(f"{label}: {value}" for label, value in facts if value)
    raw = "\n\n".join(part for part in (text, alert.raw_text) if part)
    shown = replace(alert, raw_text=raw, subject=alert.alarm_name or alert.subject)
    return render_unparsed(shown, context, severity, why="The router could not render this alert (a bug)")


def render_unparsed(
    alert: Alert, context: RenderContext, severity: Severity = Severity.INFO, *, why: str | None = None
) -> Payload:
    """Shown as received: unparsed input, an alarm whose state is missing or unknown (named by it), and a
    notification a parser failed on (with the severity its description's metadata gave it)."""
    title = alert.alarm_name or alert.subject or "Unrecognised notification"
    raw = _readable(alert.raw_text or "")
    emoji, label, colour = severity_look(severity)
    if why is None and alert.parse_error:
        why = f"The router failed to read this notification ({escape(alert.parse_error)})"
    why = why or "The router did not recognise this message"
    source = alert.topic_arn.rsplit(":", 1)[-1] if alert.topic_arn else None
    layout = Layout(
        emoji=emoji,
        label=label,
        what=title,
        where=context.environment,
        colour=colour,
        environment=context.environment,
        cause=f"{why}; it is shown as received.",
        notification_cause=escape(why),
        extra_blocks=tuple(block for block in (section_block(code(raw)),) if block is not None),
        details=tuple(line for line in (f"Topic {escape(source)}" if source else None,) if line),
        severity=severity,
    )
    return compose(layout)


def _readable(raw: str) -> str:
    """JSON is shown indented (an RDS event on one line is hard to read); anything else as received."""
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        return raw
    return json.dumps(value, ensure_ascii=False, indent=2) if isinstance(value, dict | list) else raw
