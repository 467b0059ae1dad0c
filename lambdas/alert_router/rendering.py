"""Pure rendering: (Alert, Route, RenderContext) -> Slack incoming-webhook payload.

The payload is Block Kit inside one attachment (the attachment gives the colour bar per state) plus a
top-level `text` that mobile notifications show. Rules:
- untrusted text (description, reason, names, raw input) is escaped for mrkdwn (&, <, >), so it cannot
  `@channel` or inject links;
- Slack's limits are respected by truncating characters (Python str indexes code points, so a code point
  is never split) with a visible marker; Japanese text is kept verbatim;
- a missing fact is left out, never rendered as `None`, `null` or an empty placeholder;
- times in UTC and in the display time zone; console links are partition- and region-aware.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from lambdas.alert_router.models import (
    UNPARSED_COLOUR,
    UNPARSED_EMOJI,
    AlarmKind,
    Alert,
    MetricQuery,
    SentryFacts,
    SourceKind,
    State,
)
from lambdas.alert_router.routing import Route
from lambdas.shared.alarm_metadata import parse_alarm_metadata

HEADER_LIMIT = 150
SECTION_LIMIT = 3000
FIELD_LIMIT = 2000
MAX_FIELDS = 10
MAX_BLOCKS = 50
CONTEXT_LIMIT = 2000  # a context element text, like a field
FALLBACK_TEXT_LIMIT = 1000  # the notification line; Slack allows more, phones show less
TRUNCATION_MARKER = "… [truncated]"

Payload = dict[str, Any]


@dataclass(frozen=True)
class RenderContext:
    environment: str = "local"
    display_time_zone: str = "Asia/Tokyo"
    dashboard_url: str | None = None


# --- text safety ------------------------------------------------------------------------------------------


_BROADCAST = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)


def escape(text: str) -> str:
    """Escape mrkdwn's control characters (&, <, >) and defuse bare @channel/@here/@everyone.

    A word joiner after "@" keeps the text readable while Slack's automatic parsing no longer sees a mention.
    """
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BROADCAST.sub("@\u2060\\1", escaped)


def truncate(text: str, limit: int, marker: str = TRUNCATION_MARKER) -> str:
    """At most `limit` code points; a cut text ends with the marker and never with half an HTML entity."""
    if len(text) <= limit:
        return text
    keep = max(0, limit - len(marker))
    cut = text[:keep]
    amp = cut.rfind("&", max(0, keep - 5))
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]  # "&am" would show as garbage
    return cut + marker[: max(0, limit - len(cut))]


def safe_url(url: str) -> str:
    """A URL placed inside <url|label>: characters that would end or split the link are percent-encoded."""
    return url.replace("|", "%7C").replace("<", "%3C").replace(">", "%3E").replace(" ", "%20")


def link(url: str, label: str) -> str:
    return f"<{safe_url(url)}|{escape(label)}>"


# --- numbers and the human reason ---------------------------------------------------------------------------

_COMPARISON_SYMBOL = {
    "GreaterThanOrEqualToThreshold": "≥",
    "GreaterThanThreshold": ">",
    "LessThanThreshold": "<",
    "LessThanOrEqualToThreshold": "≤",
}
_BAND_WORDS = {
    "GreaterThanUpperThreshold": "above the expected band",
    "LessThanLowerThreshold": "below the expected band",
    "LessThanLowerOrGreaterThanUpperThreshold": "outside the expected band",
}
_UNIT_SUFFIX = {"Percent": "%", "Seconds": " s", "Milliseconds": " ms", "Microseconds": " µs", "Bytes": " B"}
_PERCENT_METRIC = re.compile(r"(?i)(utilization|percent|percentage)$")
_SECONDS_METRIC = {"TargetResponseTime"}


def format_number(value: float) -> str:
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:,.3f}".rstrip("0").rstrip(".")


def unit_suffix(unit: str | None, metric_name: str | None) -> str:
    if unit and unit in _UNIT_SUFFIX:
        return _UNIT_SUFFIX[unit]
    if metric_name and _PERCENT_METRIC.search(metric_name):
        return "%"
    if metric_name in _SECONDS_METRIC:
        return " s"
    return ""


def format_duration(seconds: int) -> str:
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds % 60 == 0:
        return f"{seconds // 60} min"
    return f"{seconds} s"


def human_reason(alert: Alert) -> str | None:  # noqa: PLR0911 - one return per alarm kind and state
    """One line a human reads first: "CPUUtilization 93.4% > 80% for 5 min"."""
    if alert.alarm_kind is AlarmKind.COMPOSITE:
        if alert.triggering_children:
            return f"Triggered by {', '.join(alert.triggering_children)}"
        return f"Rule {alert.alarm_rule}" if alert.alarm_rule else alert.reason
    subject = _subject_label(alert)
    if subject is None:
        return alert.reason
    suffix = unit_suffix(alert.unit, alert.metric_name)
    value = f" {format_number(alert.datapoints[0])}{suffix}" if alert.datapoints else ""
    window = _window(alert)
    if alert.state is State.INSUFFICIENT_DATA:
        return f"{subject}: not enough data to evaluate{window}"
    if alert.alarm_kind is AlarmKind.ANOMALY:
        band = _BAND_WORDS.get(alert.comparison or "", "outside the expected band")
        if alert.state is State.OK:
            return f"{subject}{value} back within the expected band"
        return f"{subject}{value} {band}{window}"
    symbol = _COMPARISON_SYMBOL.get(alert.comparison or "")
    condition = f"{symbol} {format_number(alert.threshold)}{suffix}" if symbol and alert.threshold is not None else None
    if alert.state is State.OK:
        return f"{subject}{value} back to normal" + (f" (alarm when {condition}{window})" if condition else "")
    if condition:
        return f"{subject}{value} {condition}{window}"
    return alert.reason


def _subject_label(alert: Alert) -> str | None:
    if alert.metric_name:
        return f"{alert.metric_name} ({alert.statistic})" if _is_percentile(alert.statistic) else alert.metric_name
    returned = next((q for q in alert.metrics if q.return_data and q.id != alert.threshold_metric_id), None)
    if alert.alarm_kind is AlarmKind.ANOMALY:
        returned = next((q for q in alert.metrics if q.id != alert.threshold_metric_id and q.metric_name), returned)
    if returned is None:
        return None
    return returned.label or returned.metric_name or returned.expression


def _is_percentile(statistic: str | None) -> bool:
    return statistic is not None and re.fullmatch(r"(?i)(p|tm|tc|ts|wm)\d+(\.\d+)?", statistic) is not None


def _window(alert: Alert) -> str:
    periods = alert.datapoints_to_alarm or alert.evaluation_periods
    period = alert.period or next((q.period for q in alert.metrics if q.period), None)
    if not period or not periods:
        return ""
    if alert.evaluation_periods and alert.datapoints_to_alarm and alert.datapoints_to_alarm < alert.evaluation_periods:
        of = f"{alert.datapoints_to_alarm} of {alert.evaluation_periods}"
        return f" for {of} periods of {format_duration(period)}"
    return f" for {format_duration(period * periods)}"


# --- links ------------------------------------------------------------------------------------------------


def console_base(region: str, partition: str | None) -> str:
    partition = partition or _partition_of(region)
    if partition == "aws-cn":
        return f"https://{region}.console.amazonaws.cn"
    if partition == "aws-us-gov":
        return "https://console.amazonaws-us-gov.com"
    return f"https://{region}.console.aws.amazon.com"


def _partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def alarm_console_url(alert: Alert) -> str | None:
    if not alert.region or not alert.alarm_name:
        return None
    base = console_base(alert.region, alert.partition)
    return f"{base}/cloudwatch/home?region={alert.region}#alarmsV2:alarm/{quote(alert.alarm_name, safe='')}"


def dashboard_console_url(name: str, region: str, partition: str | None = None) -> str:
    base = console_base(region, partition)
    return f"{base}/cloudwatch/home?region={region}#dashboards/dashboard/{quote(name, safe='')}"


# --- time ------------------------------------------------------------------------------------------------


def format_times(moment: datetime, zone_name: str) -> tuple[str, str | None]:
    """("2026-11-29 03:14:15 UTC", "2026-11-29 12:14:15 JST") - the local one only when the zone is known."""
    utc = moment.astimezone(UTC)  # stdlib's UTC: correct even without a tz database
    utc_text = f"{utc:%Y-%m-%d %H:%M:%S} UTC"
    zone = _zone(zone_name)
    if zone is None or zone_name.upper() in ("UTC", "ETC/UTC"):
        return utc_text, None
    local = moment.astimezone(zone)
    return utc_text, f"{local:%Y-%m-%d %H:%M:%S} {local.tzname() or zone_name}"


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None  # no tz database in the runtime: UTC alone is still correct


# --- blocks ------------------------------------------------------------------------------------------------


def _header(text: str) -> dict[str, Any]:
    return {
        "type": "header",
        "text": {"type": "plain_text", "text": truncate(text, HEADER_LIMIT), "emoji": True},
    }


def _mrkdwn(text: str) -> dict[str, Any]:
    # verbatim: no automatic linking of URLs, channel names or mentions in text we did not write
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _section(mrkdwn: str) -> dict[str, Any] | None:
    if not mrkdwn.strip():
        return None  # Slack rejects an empty text; a missing fact is simply not shown
    return {"type": "section", "text": _mrkdwn(truncate(mrkdwn, SECTION_LIMIT))}


def _fields(pairs: list[tuple[str, str | None]]) -> dict[str, Any] | None:
    fields = [_mrkdwn(truncate(f"*{label}*\n{value}", FIELD_LIMIT)) for label, value in pairs if value][:MAX_FIELDS]
    return {"type": "section", "fields": fields} if fields else None


def _context(parts: list[str | None]) -> dict[str, Any] | None:
    text = "  ·  ".join(part for part in parts if part)
    return {"type": "context", "elements": [_mrkdwn(truncate(text, CONTEXT_LIMIT))]} if text else None


def _code(text: str, limit: int = SECTION_LIMIT) -> str:
    fence = "```"
    # a fence inside the raw text would end the code block early: break it with zero-width spaces
    body = truncate(escape(text).replace(fence, "`\u200b`\u200b`"), limit - 2 * len(fence) - 2)
    return f"{fence}\n{body}\n{fence}"


def _code_span(text: str) -> str:
    """Inline code; a backtick inside would end the span early (the rest then formatted), so it becomes '."""
    return "`" + escape(text).replace("`", "'") + "`"


def _dimensions_text(metric: MetricQuery | None) -> str | None:
    if metric is None or not metric.dimensions:
        return None
    return "\n".join(f"{escape(name)} = {escape(value)}" for name, value in metric.dimensions)


def _message(text: str, colour: str, blocks: list[dict[str, Any] | None]) -> Payload:
    kept = [block for block in blocks if block is not None][:MAX_BLOCKS]
    return {"text": truncate(text, FALLBACK_TEXT_LIMIT), "attachments": [{"color": colour, "blocks": kept}]}


def render(alert: Alert, route: Route, context: RenderContext) -> Payload:
    if alert.source is SourceKind.SENTRY and alert.sentry is not None:
        return _render_sentry(alert, alert.sentry, route, context)
    if alert.is_unparsed or alert.state is None:
        return _render_unparsed(alert, context)
    return _render_alarm(alert, route, context)


def render_fallback(alert: Alert, context: RenderContext) -> Payload:
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
    return _render_unparsed(replace(alert, raw_text=raw, subject=alert.alarm_name or alert.subject), context)


def _render_alarm(alert: Alert, route: Route, context: RenderContext) -> Payload:
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
    blocks: list[dict[str, Any] | None] = [_header(header), _section("\n".join(p for p in body if p))]

    metric = alert.primary_metric
    times = format_times(alert.state_change_time, context.display_time_zone) if alert.state_change_time else None
    transition = f"{alert.previous_state.label} → {state.label}" if alert.previous_state else state.label
    blocks.append(
        _fields(
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
        blocks.append(_section("*Metrics*\n" + "\n".join(lines)))
    if alert.alarm_kind is AlarmKind.COMPOSITE and alert.alarm_rule:
        children = "\n".join(f"• {escape(child)}" for child in alert.triggering_children)
        rule = f"*Rule*\n{_code_span(alert.alarm_rule)}" + (f"\n*Triggered by*\n{children}" if children else "")
        blocks.append(_section(rule))

    console = alarm_console_url(alert)
    dashboard = context.dashboard_url
    links = [
        link(console, "Open alarm in console") if console else None,
        link(dashboard, "Dashboard") if dashboard else None,
        link(metadata.runbook_url, "Runbook") if metadata.runbook_url else None,
    ]
    blocks.append(_context(links))
    if route.note:
        blocks.append(_context([escape(route.note)]))
    return _message(fallback, state.colour, blocks)


def _query_line(query: MetricQuery, threshold_id: str | None) -> str:
    role = " (band)" if query.id == threshold_id else ""
    if query.expression:
        label = f" {escape(query.label)}" if query.label else ""
        return f"{_code_span(query.id)}{role}{label} = {_code_span(query.expression)}"
    metric = " ".join(escape(part) for part in (query.namespace, query.metric_name) if part)
    stat = f" ({escape(query.stat)})" if query.stat else ""
    return f"{_code_span(query.id)}{role} {metric}{stat}"


def _render_unparsed(alert: Alert, context: RenderContext) -> Payload:
    """Shown as received: unparsed input, and an alarm whose state is missing or unknown (named by it)."""
    title = (alert.alarm_name if alert.state is None else None) or alert.subject or "Unrecognised notification"
    raw = _readable(alert.raw_text or "")
    header = f"{UNPARSED_EMOJI} INFO · {title}"
    fallback = f"{UNPARSED_EMOJI} [{context.environment}] INFO: {escape(title)}"
    source = alert.topic_arn.rsplit(":", 1)[-1] if alert.topic_arn else None
    blocks: list[dict[str, Any] | None] = [
        _header(header),
        _section(_code(raw)) if raw.strip() else None,
        _context(
            [
                f"Environment {escape(context.environment)}",
                f"Topic {escape(source)}" if source else None,
                "The router did not recognise this message; it is shown as received.",
            ]
        ),
    ]
    return _message(fallback, UNPARSED_COLOUR, blocks)


def _readable(raw: str) -> str:
    """JSON is shown indented (an RDS event on one line is hard to read); anything else as received."""
    try:
        value = json.loads(raw)
    except ValueError:
        return raw
    return json.dumps(value, ensure_ascii=False, indent=2) if isinstance(value, dict | list) else raw


# --- Sentry ------------------------------------------------------------------------------------------------

_SENTRY_KIND = {"event_alert": "Sentry issue alert", "issue": "New Sentry issue", "metric_alert": "Sentry metric alert"}


def _render_sentry(alert: Alert, facts: SentryFacts, route: Route, context: RenderContext) -> Payload:
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
        _header(header),
        _section("\n".join(part for part in summary if part)),
        _fields(
            [
                ("Environment", escape(context.environment)),
                ("Severity", f"{route.severity.value}" + (f" · {route.category.value}" if route.category else "")),
                ("Project", escape(facts.project) if facts.project else None),
                ("Sentry environment", escape(facts.sentry_environment) if facts.sentry_environment else None),
                ("Level", escape(facts.level) if facts.level else None),
                ("Culprit", _code_span(facts.culprit) if facts.culprit else None),
                ("Events", format_number(facts.event_count) if facts.event_count is not None else None),
                ("Metric", _code_span(facts.aggregate) if facts.aggregate else None),
                ("First seen", " / ".join(t for t in first if t) if first else None),
                ("Last seen", " / ".join(t for t in last if t) if last else None),
            ]
        ),
        _context(
            [
                f"Rule {escape(facts.rule_name)}" if facts.rule_name else None,
                _https_link(facts.issue_url, "Open in Sentry"),
                _https_link(facts.project_url, "Project"),
                link(context.dashboard_url, "Dashboard") if context.dashboard_url else None,
            ]
        ),
    ]
    return _message(fallback, state.colour, blocks)


def _https_link(url: str | None, label: str) -> str | None:
    # links come from the webhook body: only plain https links are shown
    return link(url, label) if url and url.startswith("https://") else None
