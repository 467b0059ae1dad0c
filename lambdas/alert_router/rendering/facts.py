"""An alarm's facts in words: the human reason ("CPUUtilization 93.4% > 80% for 5 min"), numbers, units,
durations, times in UTC and the display zone, and partition- and region-aware console links."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from lambdas.alert_router.models import AlarmKind, Alert, State
from lambdas.alert_router.rendering.context import RenderContext

_COMPARISON_SYMBOL = {
    "GreaterThanOrEqualToThreshold": "≥",
    "GreaterThanThreshold": ">",
    "LessThanThreshold": "<",
    "LessThanOrEqualToThreshold": "≤",
}
BAND_WORDS = {
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


def format_elapsed(seconds: float) -> str:
    """14 min, 1 h 5 min, 2 d 3 h, 40 s."""
    total = max(0, int(seconds))
    days, rest = divmod(total, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min"
    return f"{secs} s"


def human_reason(alert: Alert) -> str | None:  # noqa: PLR0911 - one return per alarm kind and state
    """One line a human reads first: "CPUUtilization 93.4% > 80% for 5 min"."""
    if alert.alarm_kind is AlarmKind.COMPOSITE:
        if alert.triggering_children:
            return f"Triggered by {', '.join(alert.triggering_children)}"
        return f"Rule {alert.alarm_rule}" if alert.alarm_rule else alert.reason
    subject = subject_label(alert)
    if subject is None:
        return alert.reason
    suffix = unit_suffix(alert.unit, alert.metric_name)
    value = f" {format_number(alert.datapoints[0])}{suffix}" if alert.datapoints else ""
    window = alarm_window(alert)
    if alert.state is State.INSUFFICIENT_DATA:
        return f"{subject}: not enough data to evaluate{window}"
    if alert.alarm_kind is AlarmKind.ANOMALY:
        band = BAND_WORDS.get(alert.comparison or "", "outside the expected band")
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


def subject_label(alert: Alert) -> str | None:
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


def alarm_window(alert: Alert) -> str:
    periods = alert.datapoints_to_alarm or alert.evaluation_periods
    period = alert.period or next((q.period for q in alert.metrics if q.period), None)
    if not period or not periods:
        return ""
    if alert.evaluation_periods and alert.datapoints_to_alarm and alert.datapoints_to_alarm < alert.evaluation_periods:
        of = f"{alert.datapoints_to_alarm} of {alert.evaluation_periods}"
        return f" for {of} periods of {format_duration(period)}"
    return f" for {format_duration(period * periods)}"


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


# The dashboard opens on the hour before the state change and the half hour after it.
DASHBOARD_BEFORE = timedelta(hours=1)
DASHBOARD_AFTER = timedelta(minutes=30)


def dashboard_window_url(context: RenderContext, moment: datetime | None) -> str | None:
    """The dashboard link, opened on the alarm's time window when it is our dashboard's console page.

    The console's dashboard route takes `start` and `end` after the dashboard name (what the console itself
    writes when a time range is picked), as ISO 8601 times: the format CloudWatch documents for a dashboard's
    `start`/`end` (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html).
    """
    if context.dashboard_url is None or moment is None or not context.dashboard_in_console:
        return context.dashboard_url
    start, end = (moment - DASHBOARD_BEFORE).astimezone(UTC), (moment + DASHBOARD_AFTER).astimezone(UTC)
    return f"{context.dashboard_url}?start={start:%Y-%m-%dT%H:%M:%S}.000Z&end={end:%Y-%m-%dT%H:%M:%S}.000Z"


def format_times(moment: datetime, zone_name: str) -> tuple[str, str | None]:
    """("2026-11-29 03:14:15 UTC", "2026-11-29 12:14:15 JST") - the local one only when the zone is known."""
    utc = moment.astimezone(UTC)  # stdlib's UTC: correct even without a tz database
    utc_text = f"{utc:%Y-%m-%d %H:%M:%S} UTC"
    zone = zone_of(zone_name)
    if zone is None or zone_name.upper() in ("UTC", "ETC/UTC"):
        return utc_text, None
    local = moment.astimezone(zone)
    return utc_text, f"{local:%Y-%m-%d %H:%M:%S} {local.tzname() or zone_name}"


def zone_of(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None  # no tz database in the runtime: UTC alone is still correct
