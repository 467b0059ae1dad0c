"""Replay an alarm's metric with candidate settings and suggest the least change that drops its flaps (pure).

The metric comes from GetMetricData with the alarm's own period and statistic, so each value already is
what CloudWatch compared with the threshold; the replay feeds them, one per period, through the local
M-of-N evaluator (tools/local_cloudwatch.py), evaluated at every period end.

Rule (the report states it with the numbers used):
- flaps: real episodes that resolved within `flap_minutes`; incidents: real episodes that lasted at least
  `keep_minutes` (open ones up to the period end). Episodes in between constrain nothing.
- The replay with the current settings must overlap every incident and at least one flap (within one
  period), else the metric does not explain the history and nothing is suggested.
- Candidates: the threshold moved away from the normal range in steps of `threshold_step` of its config
  value (or of the threshold itself when no key drives it), and the evaluation window / datapoints to
  alarm raised one datapoint at a time, each up to `steps` steps.
- A candidate qualifies when its replay still overlaps every incident and overlaps no flap. The suggestion
  is the qualifying candidate that delays the incidents' detection least (in total, against the current
  replay), then the smallest relative change. Within a family (threshold, window) only the smallest
  qualifying step is a contender: a stricter one fires less and later, never earlier.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from tools.alarm_report.episodes import Episode, Period, episodes_of
from tools.alarm_report.history import ALARM, Transition
from tools.local_cloudwatch import AlarmDefinition, AlarmEvaluator, Datapoint

Series = Sequence[tuple[float, float]]  # (period start, epoch seconds; value), oldest first
RAISING = ("GreaterThanThreshold", "GreaterThanOrEqualToThreshold")


@dataclass(frozen=True)
class TuningRule:
    flap_minutes: int = 10
    keep_minutes: int = 15
    threshold_step: float = 0.05
    steps: int = 10


@dataclass(frozen=True)
class KeyEffect:
    """Config key `key` sets alarm property `prop` to `scale * value + offset` (derived by synthesis)."""

    key: str
    prop: str  # Threshold | EvaluationPeriods | DatapointsToAlarm | Period
    scale: float
    offset: float
    value: float  # the key's current value
    integer: bool  # the key takes whole numbers

    def prop_for(self, value: float) -> float:
        return self.scale * value + self.offset


@dataclass(frozen=True)
class Candidate:
    threshold: float
    evaluation_periods: int
    datapoints_to_alarm: int
    label: str
    change: float  # relative size of the change, for ties
    family: str  # "threshold" | "window"
    key: str | None = None  # the config key that makes this change, None: no key drives it
    key_value: float | None = None


class Outcome(StrEnum):
    SUGGESTED = "suggested"
    NOT_REPRODUCED = "not reproduced"
    NONE_FOUND = "no qualifying candidate"


@dataclass(frozen=True)
class Suggestion:
    alarm_name: str
    outcome: Outcome
    flaps: int
    incidents: int
    baseline_flaps_seen: int
    baseline_incidents_seen: int
    candidate: Candidate | None = None
    delay_minutes: float = 0.0
    tried: int = 0


@dataclass(frozen=True)
class _Counts:
    flaps: int
    incidents: int
    baseline_flaps_seen: int
    baseline_incidents_seen: int

    def suggestion(self, name: str, outcome: Outcome, **more: Any) -> Suggestion:
        return Suggestion(
            name, outcome, self.flaps, self.incidents, self.baseline_flaps_seen, self.baseline_incidents_seen, **more
        )


def replay(alarm: AlarmDefinition, series: Series, period: Period, *, initial_state: str) -> list[Episode]:
    """The episodes the alarm would have had over `period` with this metric."""
    # One value per period is already the alarm's statistic: any statistic of one sample returns it.
    definition = replace(alarm, statistic="Maximum")
    points = [
        Datapoint(alarm.namespace, alarm.metric_name, alarm.dimensions, start, value) for start, value in sorted(series)
    ]
    states = {alarm.name: initial_state}
    transitions = []
    step = alarm.period
    window = alarm.evaluation_periods * step
    first = math.ceil(period.since.timestamp() / step) * step
    low = high = 0
    for now in range(int(first), int(period.until.timestamp()) + 1, step):
        while high < len(points) and points[high].timestamp < now:
            high += 1
        while low < high and points[low].timestamp < now - window:
            low += 1
        evaluator = AlarmEvaluator([definition], datapoints=points[low:high], states=states)
        at = datetime.fromtimestamp(now, tz=UTC)
        transitions += [Transition(alarm.name, at, t.old_state, t.new_state) for t in evaluator.evaluate(now)]
    return episodes_of(alarm.name, transitions, period, state_before=initial_state)


def candidates(
    alarm: AlarmDefinition, effects: Sequence[KeyEffect], valid: Callable[[str, float], bool], rule: TuningRule
) -> list[Candidate]:
    """Threshold and window candidates, realised through a config key where one drives the property."""
    found = []
    raising = alarm.comparison in RAISING
    threshold_key = next((e for e in effects if e.prop == "Threshold"), None)
    for k in range(1, rule.steps + 1):
        factor = 1 + (k if raising else -k) * rule.threshold_step
        if threshold_key is not None:
            value = _rounded(threshold_key.value * factor, threshold_key.integer, up=raising)
            if value == threshold_key.value or not valid(threshold_key.key, value):
                continue
            threshold = threshold_key.prop_for(value)
            found.append(
                Candidate(
                    threshold,
                    alarm.evaluation_periods,
                    alarm.datapoints_to_alarm,
                    f"{threshold_key.key}: {_number(threshold_key.value)} -> {_number(value)}"
                    f" (threshold {_number(alarm.threshold)} -> {_number(threshold)})",
                    abs(value / threshold_key.value - 1) if threshold_key.value else float(k),
                    "threshold",
                    threshold_key.key,
                    value,
                )
            )
        else:
            threshold = alarm.threshold * factor if alarm.threshold else float(k if raising else -k)
            threshold = _rounded(threshold, False, up=raising)
            found.append(
                Candidate(
                    threshold,
                    alarm.evaluation_periods,
                    alarm.datapoints_to_alarm,
                    f"threshold {_number(alarm.threshold)} -> {_number(threshold)}",
                    abs(threshold / alarm.threshold - 1) if alarm.threshold else float(k),
                    "threshold",
                )
            )
    return found + _window_candidates(alarm, effects, valid, rule)


def _window_candidates(
    alarm: AlarmDefinition, effects: Sequence[KeyEffect], valid: Callable[[str, float], bool], rule: TuningRule
) -> list[Candidate]:
    window_keys = [e for e in effects if e.prop in ("EvaluationPeriods", "DatapointsToAlarm")]
    m, n = alarm.datapoints_to_alarm, alarm.evaluation_periods
    found = []
    key = window_keys[0].key if window_keys else None
    if key is not None and any(e.key != key for e in window_keys):
        return []  # two keys share the window: no single change to suggest
    for k in range(1, rule.steps + 1):
        if key is not None:
            current = window_keys[0].value
            value = current + k
            if not valid(key, value):
                break
            props = {e.prop: round(e.prop_for(value)) for e in window_keys}
            new_n, new_m = props.get("EvaluationPeriods", n), props.get("DatapointsToAlarm", m)
            if new_m > new_n:
                continue
            label = f"{key}: {_number(current)} -> {_number(value)} ({new_m} of {new_n} datapoints, was {m} of {n})"
            found.append(Candidate(alarm.threshold, new_n, new_m, label, k / current, "window", key, value))
        else:
            new_m = m + k
            new_n = max(n, new_m)
            label = f"{new_m} of {new_n} datapoints (was {m} of {n})"
            found.append(Candidate(alarm.threshold, new_n, new_m, label, k / m, "window"))
    return found


def suggest(
    alarm: AlarmDefinition,
    series: Series,
    period: Period,
    real: Sequence[Episode],
    *,
    effects: Sequence[KeyEffect],
    valid: Callable[[str, float], bool],
    rule: TuningRule = TuningRule(),
) -> Suggestion | None:
    """None when the alarm had no flaps (nothing to tune)."""
    flaps = [e for e in real if e.end is not None and e.duration(period) <= timedelta(minutes=rule.flap_minutes)]
    if not flaps:
        return None
    incidents = [e for e in real if e.duration(period) >= timedelta(minutes=rule.keep_minutes)]
    initial = ALARM if real and real[0].started_before else "OK"
    tolerance = timedelta(seconds=alarm.period)

    def seen_by(replayed: Sequence[Episode], episode: Episode) -> Episode | None:
        end = (episode.end or period.until) + tolerance
        return next((r for r in replayed if r.overlaps(episode.start - tolerance, end)), None)

    baseline = replay(alarm, series, period, initial_state=initial)
    baseline_incidents = [seen_by(baseline, e) for e in incidents]
    flaps_seen = sum(seen_by(baseline, e) is not None for e in flaps)
    counts = _Counts(len(flaps), len(incidents), flaps_seen, sum(r is not None for r in baseline_incidents))
    if flaps_seen == 0 or None in baseline_incidents:
        return counts.suggestion(alarm.name, Outcome.NOT_REPRODUCED)
    best: tuple[float, float, Candidate] | None = None
    tried = 0
    # Each family is ordered by growing change, and a stricter setting can only fire less and later: the
    # first candidate that keeps the flaps out ends its family, so does the first that loses an incident.
    for family in ("threshold", "window"):
        for candidate in (c for c in candidates(alarm, effects, valid, rule) if c.family == family):
            tried += 1
            changed = replace(
                alarm,
                threshold=candidate.threshold,
                evaluation_periods=candidate.evaluation_periods,
                datapoints_to_alarm=candidate.datapoints_to_alarm,
            )
            replayed = replay(changed, series, period, initial_state=initial)
            kept = [seen_by(replayed, e) for e in incidents]
            if None in kept:
                break
            if any(seen_by(replayed, e) is not None for e in flaps):
                continue
            delay = sum(
                max(0.0, (new.start - old.start) / timedelta(minutes=1))
                for new, old in zip(kept, baseline_incidents, strict=True)
                if new is not None and old is not None
            )
            if best is None or (delay, candidate.change) < best[:2]:
                best = (delay, candidate.change, candidate)
            break
    if best is None:
        return counts.suggestion(alarm.name, Outcome.NONE_FOUND, tried=tried)
    return counts.suggestion(alarm.name, Outcome.SUGGESTED, candidate=best[2], delay_minutes=best[0], tried=tried)


def _rounded(value: float, integer: bool, *, up: bool) -> float:
    """Whole numbers for integer keys (rounded away from the normal range), else 3 significant digits."""
    if integer:
        return float(math.ceil(value) if up else math.floor(value))
    if value == 0:
        return 0.0
    digits = 2 - math.floor(math.log10(abs(value)))
    return round(value, digits)


def _number(value: float) -> str:
    return f"{value:g}"
