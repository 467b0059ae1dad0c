"""A Sentry alert -> its Slack message, the same shape as an alarm's: header, summary, fields, links."""

from __future__ import annotations

from typing import Any

from lambdas.alert_router.models import Alert, Payload, SentryFacts, State
from lambdas.alert_router.rendering.blocks import (
    code_span,
    context_block,
    fields_block,
    header_block,
    message,
    section_block,
)
from lambdas.alert_router.rendering.context import RenderContext
from lambdas.alert_router.rendering.facts import format_number, format_times
from lambdas.alert_router.rendering.text import escape, link
from lambdas.alert_router.routing.route import Route

_SENTRY_KIND = {"event_alert": "Sentry issue alert", "issue": "New Sentry issue", "metric_alert": "Sentry metric alert"}


def render_sentry(alert: Alert, facts: SentryFacts, route: Route, context: RenderContext) -> Payload:
    """Same shape as an alarm message: header, summary, fields, links; the state decides emoji and colour."""
    state = alert.state or State.ALARM
    title = facts.title or facts.rule_name or "Sentry alert"
    severity = route.severity.value.upper()
    label = state.label if state is State.OK else f"{state.label} · {severity}"
    header = f"{state.emoji} {label} · {title}"
    kind = _SENTRY_KIND.get(facts.resource, "Sentry")
    fallback = f"{state.emoji} [{context.environment}] {label}: {escape(title)}" + (
        f" - {escape(facts.project)}" if facts.project else ""
    )
    summary = [
        f"*{escape(kind)}*" + (f" · {escape(facts.action)}" if facts.action else ""),
        f"_{escape(facts.description)}_" if facts.description else None,
    ]
    first = format_times(facts.first_seen, context.display_time_zone) if facts.first_seen else None
    last = format_times(facts.last_seen, context.display_time_zone) if facts.last_seen else None
    blocks: list[dict[str, Any] | None] = [
        header_block(header),
        section_block("\n".join(part for part in summary if part)),
        fields_block(
            [
                ("Environment", escape(context.environment)),
                ("Severity", f"{route.severity.value}" + (f" · {route.category.value}" if route.category else "")),
                ("Project", escape(facts.project) if facts.project else None),
                ("Sentry environment", escape(facts.sentry_environment) if facts.sentry_environment else None),
                ("Level", escape(facts.level) if facts.level else None),
                ("Culprit", code_span(facts.culprit) if facts.culprit else None),
                ("Events", format_number(facts.event_count) if facts.event_count is not None else None),
                ("Metric", code_span(facts.aggregate) if facts.aggregate else None),
                ("First seen", " / ".join(t for t in first if t) if first else None),
                ("Last seen", " / ".join(t for t in last if t) if last else None),
            ]
        ),
        context_block(
            [
                f"Rule {escape(facts.rule_name)}" if facts.rule_name else None,
                _https_link(facts.issue_url, "Open in Sentry"),
                _https_link(facts.project_url, "Project"),
                link(context.dashboard_url, "Dashboard") if context.dashboard_url else None,
            ]
        ),
    ]
    return message(fallback, state.colour, blocks)


def _https_link(url: str | None, label: str) -> str | None:
    # links come from the webhook body: only plain https links are shown
    return link(url, label) if url and url.startswith("https://") else None
