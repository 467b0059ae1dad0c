"""A CloudWatch alarm notification -> its Slack message: header (state, severity, name), the human reason,
the facts as fields, metric-math and composite details, and links (console, dashboard, runbook)."""

from __future__ import annotations

from typing import Any

from lambdas.alert_router.models import AlarmKind, Alert, MetricQuery, Payload, State
from lambdas.alert_router.rendering.blocks import (
    code_span,
    context_block,
    fields_block,
    header_block,
    message,
    section_block,
)
from lambdas.alert_router.rendering.context import RenderContext
from lambdas.alert_router.rendering.facts import alarm_console_url, format_times, human_reason
from lambdas.alert_router.rendering.text import escape, link
from lambdas.alert_router.routing.route import Route
from lambdas.shared.alarm_metadata import parse_alarm_metadata

# INSUFFICIENT_DATA -> ALARM: the ALARM is the news; one line says the monitoring-blind notice is over
DATA_BACK_IN_ALARM = "Data is back: the alarm had no data before this (see its ⚪ monitoring-blind notice)"


def render_alarm(alert: Alert, route: Route, context: RenderContext) -> Payload:
    state = alert.state or State.ALARM
    name = alert.alarm_name or "unnamed alarm"
    env = context.environment
    severity = route.severity.value.upper()
    metadata = parse_alarm_metadata(alert.description)
    reason_line = human_reason(alert)
    summary = metadata.summary

    # a recovery is not "critical" any more: its severity only decides the channel
    label = state.label if state is State.OK else f"{state.label} · {severity}"
    header = f"{state.emoji} {label} · {name}"
    fallback = f"{state.emoji} [{env}] {label}: {escape(name)}" + (f" - {escape(reason_line)}" if reason_line else "")

    body = [f"*{escape(reason_line)}*" if reason_line else None, escape(summary) if summary else None]
    if alert.reason and alert.reason != reason_line:
        body.append(f"_{escape(alert.reason)}_")
    blocks: list[dict[str, Any] | None] = [header_block(header), section_block("\n".join(p for p in body if p))]

    metric = alert.primary_metric
    times = format_times(alert.state_change_time, context.display_time_zone) if alert.state_change_time else None
    transition = f"{alert.previous_state.label} → {state.label}" if alert.previous_state else state.label
    blocks.append(
        fields_block(
            [
                ("Environment", escape(env)),
                (
                    "Severity",
                    f"{route.severity.value}" + (f" · {route.category.value}" if route.category else ""),
                ),
                ("State", transition),
                ("Alarm type", alert.alarm_kind.value if alert.alarm_kind else None),
                (
                    "Metric",
                    escape(f"{metric.namespace} {metric.metric_name}") if metric and metric.namespace else None,
                ),
                ("Dimensions", _dimensions_text(metric)),
                ("Statistic", escape(alert.statistic) if alert.statistic else None),
                ("Time (UTC)", times[0] if times else None),
                (f"Time ({escape(context.display_time_zone)})", times[1] if times else None),
                (
                    "Account / region",
                    " / ".join(escape(p) for p in (alert.account, alert.region) if p) or None,
                ),
            ]
        )
    )
    if alert.alarm_kind in (AlarmKind.METRIC_MATH, AlarmKind.ANOMALY) and alert.metrics:
        lines = [_query_line(query, alert.threshold_metric_id) for query in alert.metrics]
        blocks.append(section_block("*Metrics*\n" + "\n".join(lines)))
    if alert.alarm_kind is AlarmKind.COMPOSITE and alert.alarm_rule:
        children = "\n".join(f"• {escape(child)}" for child in alert.triggering_children)
        rule = f"*Rule*\n{code_span(alert.alarm_rule)}" + (f"\n*Triggered by*\n{children}" if children else "")
        blocks.append(section_block(rule))

    console = alarm_console_url(alert)
    dashboard = context.dashboard_url
    links = [
        link(console, "Open alarm in console") if console else None,
        link(dashboard, "Dashboard") if dashboard else None,
        link(metadata.runbook_url, "Runbook") if metadata.runbook_url else None,
    ]
    blocks.append(context_block(links))
    if alert.previous_state is State.INSUFFICIENT_DATA and state is State.ALARM:
        blocks.append(
            context_block(
                [f"{State.OK.emoji} Data is back (it had none before): the ⚪ monitoring-blind notice is over"]
            )
        )
    if route.note:
        blocks.append(context_block([escape(route.note)]))
    return message(fallback, state.colour, blocks)


def _query_line(query: MetricQuery, threshold_id: str | None) -> str:
    role = " (band)" if query.id == threshold_id else ""
    if query.expression:
        label = f" {escape(query.label)}" if query.label else ""
        return f"{code_span(query.id)}{role}{label} = {code_span(query.expression)}"
    metric = " ".join(escape(part) for part in (query.namespace, query.metric_name) if part)
    stat = f" ({escape(query.stat)})" if query.stat else ""
    return f"{code_span(query.id)}{role} {metric}{stat}"


def _dimensions_text(metric: MetricQuery | None) -> str | None:
    if metric is None or not metric.dimensions:
        return None
    return "\n".join(f"{escape(name)} = {escape(value)}" for name, value in metric.dimensions)
