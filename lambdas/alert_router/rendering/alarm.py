"""A CloudWatch alarm notification -> its Slack message in the 3 a.m. layout (layout.py): headline, the cause
(enrichment's, else the threshold in words), the runbook's first step, buttons to the runbook, the dashboard
at the alarm's time and the alarm in the console; metric, dimensions, statistic, times, account and the raw
reason in the small details."""

from __future__ import annotations

from lambdas.alert_router.enrichment.model import NOTHING, Enrichment
from lambdas.alert_router.enrichment.synthetic import synthetic_target
from lambdas.alert_router.enrichment.threshold import threshold_words
from lambdas.alert_router.models import AlarmKind, Alert, MetricQuery, Payload, State
from lambdas.alert_router.rendering.blocks import code_span
from lambdas.alert_router.rendering.context import RenderContext
from lambdas.alert_router.rendering.facts import (
    alarm_console_url,
    dashboard_window_url,
    format_duration,
    format_times,
)
from lambdas.alert_router.rendering.layout import Layout, Link, clock, compose, join, short_name, state_label
from lambdas.alert_router.rendering.text import escape, truncate
from lambdas.alert_router.routing.route import Route
from lambdas.shared.alarm_metadata import Severity, parse_alarm_metadata

# INSUFFICIENT_DATA -> ALARM: the ALARM is the news; one line says the monitoring-blind notice is over
DATA_BACK_IN_ALARM = "Data is back (it had none before): the ⚪ monitoring-blind notice is over"
TOP_ERROR_LIMIT = 160  # one error message, in a line of its own
TIMES = "\u00d7"  # the multiplication sign: "12 times" as a count reads it


def render_alarm(alert: Alert, route: Route, context: RenderContext, enrichment: Enrichment = NOTHING) -> Payload:
    state = alert.state or State.ALARM
    name = alert.alarm_name or "unnamed alarm"
    metadata = parse_alarm_metadata(alert.description)
    emoji, label, colour = state_label(state, route.severity)
    firing = state is State.ALARM
    cause = enrichment.cause or _own_cause(alert, metadata.summary)
    more = [_top_errors(enrichment)] if enrichment.top_errors and firing else []
    if alert.previous_state is State.INSUFFICIENT_DATA and firing:
        more.append(f"{State.OK.emoji} {DATA_BACK_IN_ALARM}")
    critical = firing and route.severity is Severity.CRITICAL
    layout = Layout(
        emoji=emoji,
        label=label,
        what=short_name(name, context.environment),
        where=context.environment,
        when=clock(alert.state_change_time, context.display_time_zone, firing=firing),
        colour=colour,
        environment=context.environment,
        cause=escape(cause) if cause else None,
        more=tuple(more),
        first_step=escape(metadata.first_step) if metadata.first_step and firing else None,
        mention=context.oncall if critical else None,
        links=(
            Link("Runbook", metadata.runbook_url, "runbook", primary=True),
            Link("Dashboard", dashboard_window_url(context, alert.state_change_time), "dashboard"),
            Link("Console", alarm_console_url(alert), "console"),
        ),
        details=tuple(line for line in _details(alert, route, context, metadata.summary, cause) if line),
        severity=route.severity,
    )
    return compose(layout)


def _own_cause(alert: Alert, summary: str | None) -> str | None:
    """What the notification itself says: the threshold in words; for the synthetic monitor's pass/fail
    metrics (where "0 below 1" says nothing) what the check is, or that it passes again."""
    target = synthetic_target(alert)
    if target is not None:
        if alert.state is State.OK:
            kind, name = target
            return f"The {kind} {name!r} passes again"
        return summary or alert.reason
    return threshold_words(alert) or alert.reason or summary


def _top_errors(enrichment: Enrichment) -> str:
    lines = [f"*Top errors, last {enrichment.top_errors_minutes} min:*"]
    lines += [
        f"• {error.count}{TIMES} {code_span(truncate(error.message, TOP_ERROR_LIMIT, '…'))}"
        for error in enrichment.top_errors
    ]
    return "\n".join(lines)


def _details(
    alert: Alert, route: Route, context: RenderContext, summary: str | None, cause: str | None
) -> list[str | None]:
    state = alert.state or State.ALARM
    transition = f"{alert.previous_state.label} → {state.label}" if alert.previous_state else state.label
    times = format_times(alert.state_change_time, context.display_time_zone) if alert.state_change_time else None
    where = " / ".join(escape(part) for part in (alert.account, alert.region) if part) or None
    lines: list[str | None] = [
        escape(summary) if summary else None,
        join([f"Alarm {code_span(alert.alarm_name or 'unnamed alarm')}", transition, *(times or ()), where]),
    ]
    if alert.alarm_kind in (AlarmKind.METRIC_MATH, AlarmKind.ANOMALY) and alert.metrics:
        lines += [_query_line(query, alert.threshold_metric_id) for query in alert.metrics]
    elif alert.alarm_kind is AlarmKind.COMPOSITE and alert.alarm_rule:
        lines.append(f"Rule {code_span(alert.alarm_rule)}")
    else:
        lines.append(_metric_line(alert))
    if alert.reason and alert.reason != cause:
        lines.append(f"_{escape(alert.reason)}_")
    if route.note:
        lines.append(escape(route.note))
    return lines


def _metric_line(alert: Alert) -> str | None:
    metric = alert.primary_metric
    if metric is None or not metric.metric_name:
        return None
    name = code_span(" ".join(part for part in (metric.namespace, metric.metric_name) if part))
    how = join([alert.statistic, format_duration(alert.period) if alert.period else None], ", ")
    dimensions = ", ".join(f"{escape(key)} = {escape(value)}" for key, value in metric.dimensions)
    return join([f"{name} ({escape(how)})" if how else name, dimensions or None])


def _query_line(query: MetricQuery, threshold_id: str | None) -> str:
    role = " (band)" if query.id == threshold_id else ""
    if query.expression:
        label = f" {escape(query.label)}" if query.label else ""
        return f"{code_span(query.id)}{role}{label} = {code_span(query.expression)}"
    metric = " ".join(escape(part) for part in (query.namespace, query.metric_name) if part)
    stat = f" ({escape(query.stat)})" if query.stat else ""
    return f"{code_span(query.id)}{role} {metric}{stat}"
