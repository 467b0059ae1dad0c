"""A threshold alarm's cause in words: the value that breached, the threshold, and for how long (pure).

    "CPUUtilization was 93.4%, above the 80% threshold, for 5 min"
    "5xx rate was 7.81%, at or above the 5% threshold, in 3 of 5 periods of 1 min"
    "RequestCount was 12, below the expected band, for 10 min"
    "CPUUtilization is back to 41.2%, within the 80% threshold"

The value is the newest datapoint CloudWatch lists in its reason. A metric-math label that ends in "(%)"
gives its numbers a per-cent sign.
"""

from __future__ import annotations

import re

from lambdas.alert_router.models import AlarmKind, Alert, State
from lambdas.alert_router.rendering.facts import BAND_WORDS, format_duration, format_number, subject_label, unit_suffix

_COMPARISON_WORDS = {
    "GreaterThanThreshold": "above",
    "GreaterThanOrEqualToThreshold": "at or above",
    "LessThanThreshold": "below",
    "LessThanOrEqualToThreshold": "at or below",
}
_PERCENT_LABEL = re.compile(r"\s*\(%\)\s*$")


def threshold_words(alert: Alert) -> str | None:  # noqa: PLR0911 - one return per alarm kind and state
    """The alarm's cause in a sentence; None when the alarm says too little (its own reason then stands)."""
    if alert.alarm_kind is AlarmKind.COMPOSITE:
        if alert.triggering_children:
            return f"Triggered by {', '.join(alert.triggering_children)}"
        return f"Rule {alert.alarm_rule}" if alert.alarm_rule else None
    subject = subject_label(alert)
    if subject is None:
        return None
    suffix = unit_suffix(alert.unit, alert.metric_name)
    if _PERCENT_LABEL.search(subject):
        subject, suffix = _PERCENT_LABEL.sub("", subject), "%"
    value = f"{format_number(alert.datapoints[0])}{suffix}" if alert.datapoints else None
    window = _for_how_long(alert)
    if alert.alarm_kind is AlarmKind.ANOMALY:
        band = BAND_WORDS.get(alert.comparison or "", "outside the expected band")
        if alert.state is State.OK:
            return f"{subject} is back within the expected band" + (f" ({value})" if value else "")
        return f"{subject} was {value}, {band}{window}" if value else f"{subject} {band}{window}"
    word = _COMPARISON_WORDS.get(alert.comparison or "")
    if word is None or alert.threshold is None:
        return None
    threshold = f"the {format_number(alert.threshold)}{suffix} threshold"
    if alert.state is State.OK:
        return f"{subject} is back to {value}, within {threshold}" if value else f"{subject} is back within {threshold}"
    if value:
        return (
            f"{subject} was {value}, {word} {threshold},{window}"
            if window
            else f"{subject} was {value}, {word} {threshold}"
        )
    return f"{subject} {word} {threshold}{window}"


def _for_how_long(alert: Alert) -> str:
    """ " for 5 min" (every period breached) or " in 3 of 5 periods of 1 min"; "" when unknown."""
    periods = alert.datapoints_to_alarm or alert.evaluation_periods
    period = alert.period or next((query.period for query in alert.metrics if query.period), None)
    if not period or not periods:
        return ""
    if alert.evaluation_periods and alert.datapoints_to_alarm and alert.datapoints_to_alarm < alert.evaluation_periods:
        return f" in {alert.datapoints_to_alarm} of {alert.evaluation_periods} periods of {format_duration(period)}"
    return f" for {format_duration(period * periods)}"
