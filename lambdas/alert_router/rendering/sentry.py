"""A Sentry alert -> its Slack message, in the same layout as an alarm's (layout.py).

One severity vocabulary: the headline says the router's severity (routing/sentry_rules.py), the one that
chose the channel. Sentry writes its metric alert's trigger into the title ("Critical: p95 latency"); that
word is taken off the title and shown in the details as "Sentry trigger: critical", so a message never says
WARNING and Critical at once.
"""

from __future__ import annotations

import re

from lambdas.alert_router.models import Alert, Payload, SentryFacts, State
from lambdas.alert_router.rendering.blocks import code_span
from lambdas.alert_router.rendering.context import RenderContext
from lambdas.alert_router.rendering.facts import dashboard_window_url, format_number, format_times
from lambdas.alert_router.rendering.layout import Layout, Link, clock, compose, join, state_label
from lambdas.alert_router.rendering.text import escape
from lambdas.alert_router.routing.route import Route
from lambdas.shared.alarm_metadata import Severity

_SENTRY_KIND = {"event_alert": "Sentry issue alert", "issue": "New Sentry issue", "metric_alert": "Sentry metric alert"}
_TRIGGER_IN_TITLE = re.compile(r"^(critical|warning|resolved)\s*:\s*", re.IGNORECASE)
_ISSUE_STEP = "Open the issue in Sentry: the latest event's stack trace and breadcrumbs show where it fails."
_METRIC_STEP = "Open the alert in Sentry: which transactions or issues drive {aggregate}? Then the dashboard."


def render_sentry(alert: Alert, facts: SentryFacts, route: Route, context: RenderContext) -> Payload:
    state = alert.state or State.ALARM
    firing = state is State.ALARM
    title = _TRIGGER_IN_TITLE.sub("", facts.title or facts.rule_name or "Sentry alert") or "Sentry alert"
    emoji, label, colour = state_label(state, route.severity)
    metric_alert = facts.resource == "metric_alert"
    aggregate = code_span(facts.aggregate) if facts.aggregate else "it"
    cause = _cause(facts)
    layout = Layout(
        emoji=emoji,
        label=label,
        what=title,
        where=join([facts.project, facts.sentry_environment], " / "),
        when=clock(alert.state_change_time, context.display_time_zone, firing=firing),
        colour=colour,
        environment=context.environment,
        cause=escape(cause) if cause else None,
        first_step=(_METRIC_STEP.format(aggregate=aggregate) if metric_alert else _ISSUE_STEP) if firing else None,
        mention=context.oncall if firing and route.severity is Severity.CRITICAL else None,
        links=(
            Link("Open in Sentry", _https(facts.issue_url), "sentry", primary=True),
            Link("Project", _https(facts.project_url), "sentry-project"),
            Link("Dashboard", dashboard_window_url(context, alert.state_change_time), "dashboard"),
        ),
        details=tuple(line for line in _details(facts, context) if line),
        severity=route.severity,
    )
    return compose(layout)


def _cause(facts: SentryFacts) -> str | None:
    if facts.resource == "metric_alert":
        return facts.description or facts.rule_name
    level = (facts.level or "error").capitalize()
    return join(
        [
            f"{level} in {facts.culprit}" if facts.culprit else level,
            f"{format_number(facts.event_count)} events" if facts.event_count is not None else None,
        ]
    )


def _details(facts: SentryFacts, context: RenderContext) -> list[str | None]:
    first = format_times(facts.first_seen, context.display_time_zone) if facts.first_seen else None
    last = format_times(facts.last_seen, context.display_time_zone) if facts.last_seen else None
    trigger = facts.action if facts.resource == "metric_alert" and facts.action else None
    return [
        join(
            [
                escape(_SENTRY_KIND.get(facts.resource, "Sentry")),
                f"Rule {escape(facts.rule_name)}" if facts.rule_name else None,
                f"Sentry trigger: {escape(trigger)}" if trigger else None,
                f"level {escape(facts.level)}" if facts.level else None,
            ]
        ),
        join(
            [
                f"Metric {code_span(facts.aggregate)}" if facts.aggregate else None,
                f"Culprit {code_span(facts.culprit)}" if facts.culprit else None,
            ]
        ),
        join(
            [
                "First seen " + " / ".join(t for t in first if t) if first else None,
                "Last seen " + " / ".join(t for t in last if t) if last else None,
            ]
        ),
    ]


def _https(url: str | None) -> str | None:
    # links come from the webhook body: only plain https links are shown
    return url if url and url.startswith("https://") else None
