"""Tuning suggestions: replay a metric through the local M-of-N evaluator with candidate settings (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tools.alarm_report.episodes import Episode, Period
from tools.alarm_report.tuning import KeyEffect, Outcome, TuningRule, candidates, replay, suggest
from tools.local_cloudwatch import AlarmDefinition

START = datetime(2026, 11, 20, tzinfo=UTC)
PERIOD = Period(START, START + timedelta(days=1))
NAME = "peoplebooster-staging-ecs-backend-cpu-high"
# What synthesis derives for the ECS CPU alarm (tests/integration/test_alarm_report_aws.py checks the derivation)
EFFECTS = [
    KeyEffect("thresholds.ecs_cpu_percent", "Threshold", 1.0, 0.0, 80.0, integer=False),
    KeyEffect("thresholds.evaluation_minutes", "EvaluationPeriods", 1.0, 0.0, 5.0, integer=True),
    KeyEffect("thresholds.evaluation_minutes", "DatapointsToAlarm", 1.0, 0.0, 5.0, integer=True),
]


def _valid(key: str, value: float) -> bool:
    return value <= (60 if key.endswith("minutes") else 100)


def _cpu_alarm() -> AlarmDefinition:
    """As the stack defines it: Average over 1 min above 80 in 5 of 5 periods, missing data not breaching."""
    return AlarmDefinition(
        name=NAME,
        description="",
        namespace="AWS/ECS",
        metric_name="CPUUtilization",
        dimensions=(("ClusterName", "c"), ("ServiceName", "s")),
        statistic="Average",
        period=60,
        evaluation_periods=5,
        datapoints_to_alarm=5,
        threshold=80,
        comparison="GreaterThanThreshold",
        treat_missing_data="notBreaching",
    )


def _series(spikes: dict[int, tuple[int, float]]) -> list[tuple[float, float]]:
    """One datapoint per minute of the day at 50 %, with spikes {first minute: (minutes, value)}."""
    values = dict.fromkeys(range(24 * 60), 50.0)
    for first, (length, value) in spikes.items():
        values.update(dict.fromkeys(range(first, first + length), value))
    return [((START + timedelta(minutes=m)).timestamp(), v) for m, v in sorted(values.items())]


def _at(minute: float) -> datetime:
    return START + timedelta(minutes=minute)


def _episode(first: int, last: int) -> Episode:
    return Episode(NAME, _at(first), _at(last))


# Three 6-minute spikes to 85 % and a 60-minute incident at 95 %.
FLAPS_AT = (100, 400, 900)
INCIDENT_AT = 600
SPIKES = {**dict.fromkeys(FLAPS_AT, (6, 85.0)), INCIDENT_AT: (60, 95.0)}
# By hand: a spike's datapoints are minutes m..m+5; the evaluation at the end of minute m+4 (t = m+5) sees five
# breaching values and alarms; at t = m+7 the window m+2..m+6 holds a 50: OK. So ALARM m+5 .. m+7.
# The incident (k..k+59): ALARM at k+5, OK at k+61.
REAL = [_episode(m + 5, m + 7) for m in FLAPS_AT] + [_episode(INCIDENT_AT + 5, INCIDENT_AT + 61)]


def test_replay_with_the_current_settings_reproduces_the_hand_derived_episodes() -> None:
    replayed = replay(_cpu_alarm(), _series(SPIKES), PERIOD, initial_state="OK")
    assert sorted((e.start, e.end) for e in replayed) == sorted((e.start, e.end) for e in REAL)


def test_a_threshold_above_the_flaps_and_below_the_incident_wins_it_delays_nothing() -> None:
    # Given flaps peaking at 85 and an incident at 95
    found = suggest(_cpu_alarm(), _series(SPIKES), PERIOD, REAL, effects=EFFECTS, valid=_valid)
    assert found is not None
    assert (found.flaps, found.incidents, found.baseline_flaps_seen, found.baseline_incidents_seen) == (3, 1, 3, 1)
    # Then 80 -> 84 still fires on 85; 80 -> 88 (two 5 % steps) does not, and 95 still alarms at once.
    # Raising the window to 7 minutes also drops the flaps but detects the incident 2 min later.
    assert found.outcome is Outcome.SUGGESTED
    assert found.candidate is not None
    assert (found.candidate.key, found.candidate.key_value, found.candidate.threshold) == (
        "thresholds.ecs_cpu_percent",
        88.0,
        88.0,
    )
    assert found.delay_minutes == 0


def test_when_flaps_peak_above_the_incident_only_a_longer_window_separates_them() -> None:
    # Given 6-minute spikes to 99 (above the incident's 95)
    spikes = {**dict.fromkeys(FLAPS_AT, (6, 99.0)), INCIDENT_AT: (60, 95.0)}
    found = suggest(_cpu_alarm(), _series(spikes), PERIOD, REAL, effects=EFFECTS, valid=_valid)
    assert found is not None
    assert found.candidate is not None
    # Then a threshold above 99 would lose the incident; 6 of 6 still fires once per spike (at m+6, OK at m+7);
    # 7 of 7 never sees 7 breaching minutes in a spike, and alarms on the incident 2 minutes later
    assert (found.candidate.key, found.candidate.key_value) == ("thresholds.evaluation_minutes", 7.0)
    assert (found.candidate.evaluation_periods, found.candidate.datapoints_to_alarm) == (7, 7)
    assert found.delay_minutes == pytest.approx(2)


def test_nothing_is_suggested_when_the_metric_does_not_explain_the_history() -> None:
    # Given a history whose episodes happened while the metric was at 50 %
    elsewhere = [_episode(200, 202), _episode(1000, 1060)]
    found = suggest(_cpu_alarm(), _series(SPIKES), PERIOD, elsewhere, effects=EFFECTS, valid=_valid)
    assert found is not None
    assert (found.outcome, found.baseline_flaps_seen, found.baseline_incidents_seen) == (Outcome.NOT_REPRODUCED, 0, 0)


def test_no_qualifying_candidate_is_said_so() -> None:
    # Given 17-minute spikes to 99 (longer than the 15-minute window the steps reach) and an incident at 95
    spikes = {**dict.fromkeys(FLAPS_AT, (17, 99.0)), INCIDENT_AT: (60, 95.0)}
    real = [_episode(m + 5, m + 18) for m in FLAPS_AT] + [_episode(INCIDENT_AT + 5, INCIDENT_AT + 61)]
    rule = TuningRule(flap_minutes=15)
    found = suggest(_cpu_alarm(), _series(spikes), PERIOD, real, effects=EFFECTS, valid=_valid, rule=rule)
    assert found is not None
    assert found.outcome is Outcome.NONE_FOUND
    # thresholds 84, 88, 92 still fire during the spikes and 96 is above the incident's 95 (it ends the
    # family); the ten window lengths 6..15 all still fire during a 17-minute spike
    assert found.tried == 4 + 10


def test_no_flaps_nothing_to_tune() -> None:
    incident = [_episode(INCIDENT_AT + 5, INCIDENT_AT + 61)]
    assert suggest(_cpu_alarm(), _series(SPIKES), PERIOD, incident, effects=EFFECTS, valid=_valid) is None


def test_candidates_without_a_config_key_and_for_a_lower_bound_alarm() -> None:
    # Given a latency alarm "CheckSuccess below 1" style: LessThanThreshold 1000, 3 of 3, no config key
    alarm = AlarmDefinition(
        name="x", description="", namespace="n", metric_name="m", dimensions=(), statistic="Minimum", period=60,
        evaluation_periods=3, datapoints_to_alarm=3, threshold=1000, comparison="LessThanThreshold",
        treat_missing_data="breaching",
    )  # fmt: skip
    found = candidates(alarm, [], _valid, TuningRule(steps=2))
    # Then the threshold moves down (away from the normal range) and the window grows, none through a key
    assert [(c.threshold, c.evaluation_periods, c.datapoints_to_alarm, c.key) for c in found] == [
        (950.0, 3, 3, None),
        (900.0, 3, 3, None),
        (1000, 4, 4, None),
        (1000, 5, 5, None),
    ]


def test_a_derived_threshold_is_moved_through_its_key() -> None:
    # Given the RDS connections alarm: threshold = max_connections (90) * percent / 100, percent 80 -> 72
    alarm = AlarmDefinition(
        name="rds", description="", namespace="AWS/RDS", metric_name="DatabaseConnections", dimensions=(),
        statistic="Maximum", period=60, evaluation_periods=5, datapoints_to_alarm=5, threshold=72,
        comparison="GreaterThanThreshold", treat_missing_data="missing",
    )  # fmt: skip
    effect = KeyEffect("thresholds.rds_connections_percent", "Threshold", 0.9, 0.0, 80.0, integer=False)
    first = candidates(alarm, [effect], _valid, TuningRule(steps=1))[0]
    # Then 80 % -> 84 % of 90 connections: 75.6
    assert first.key_value == 84.0
    assert first.threshold == pytest.approx(75.6)
