"""Alarm noise report, pure core: history items -> transitions -> episodes -> statistics and ranking.

The fixtures (tests/fixtures/alarm_history/, README there) are DescribeAlarmHistory output as the CLI prints
it. Every expected number below is worked out by hand from the timeline the README lists.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from lambdas.shared.incident_history import HistoryEntry
from tools.alarm_report.episodes import Episode, Period, build_episodes
from tools.alarm_report.history import (
    HistoryFormatError,
    Transition,
    merged_transitions,
    parse_cli_output,
    parse_items,
    parse_scan_output,
)
from tools.alarm_report.stats import AlarmStats, NoiseRule, all_stats

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "alarm_history"
PREFIX = "peoplebooster-staging-"
TOKYO = ZoneInfo("Asia/Tokyo")
PERIOD = Period(datetime(2026, 11, 17, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))  # 14 days


def _stats(
    *names: str, history: Sequence[HistoryEntry] | None = None, period: Period = PERIOD
) -> dict[str, AlarmStats]:
    transitions = []
    for name in names:
        transitions += parse_cli_output((FIXTURES / f"{name}.json").read_text()).transitions
    episodes = build_episodes(transitions, period)
    found = all_stats(episodes.by_alarm, alarm_names=[], period=period, zone=TOKYO, rule=NoiseRule(), history=history)
    return {s.name.removeprefix(PREFIX): s for s in found}


def _minutes(value: timedelta | None) -> float | None:
    return None if value is None else value / timedelta(minutes=1)


def test_flapping_alarm() -> None:
    # Given eight 1-5 min flaps (3, 2, 4, 1, 3, 2, 5, 3 min) and one 45 min incident of ecs-backend-cpu-high
    stats = _stats("flapping")["ecs-backend-cpu-high"]
    # Then nine firings, eight of them flaps: 8 in 14 days
    assert (stats.firings, stats.flaps) == (9, 8)
    assert stats.flaps_per_day == pytest.approx(8 / 14)
    # 3+2+4+1+3+2+5+3 + 45 = 68 min in ALARM; sorted 1,2,2,3,3,3,4,5,45: median 3, longest 45
    assert _minutes(stats.time_in_alarm) == pytest.approx(68)
    assert (_minutes(stats.median), _minutes(stats.longest), stats.longest_open) == (3, 45, False)
    assert stats.open_since is None
    # Flaps at 18:xx UTC are 03:xx in Tokyo (UTC+9), 19:02 UTC is 04:02, the incident at 05:00 UTC is 14:00
    assert {hour: count for hour, count in enumerate(stats.hours) if count} == {3: 7, 4: 1, 14: 1}
    # No incident history: nothing was acknowledged, every firing counts as without action
    assert (stats.acknowledged, stats.ack_share, stats.without_action) == (None, "n/a", 9)
    assert stats.score == 8 * 3 + 1
    assert stats.ticket


def test_other_item_types_are_counted_not_read() -> None:
    parsed = parse_cli_output((FIXTURES / "flapping.json").read_text())
    # the fixture holds 9 episodes (18 state changes), 1 ConfigurationUpdate and 3 Action items
    assert len(parsed.transitions) == 18
    assert parsed.ignored == {
        "ConfigurationUpdate items (not state changes)": 1,
        "Action items (not state changes)": 3,
    }


def test_real_incidents_with_acknowledgements_from_the_incident_history() -> None:
    # Given rds-cpu-high in ALARM for 40, 25 and 130 min; the incident history acknowledges the first and the last
    history, other = parse_scan_output((FIXTURES / "incidents_incident_history.json").read_text())
    assert (len(history), other) == (6, 1)  # 3 ALARM + 3 OK entries, and one incident record (not history)
    stats = _stats("incidents", history=history)["rds-cpu-high"]
    assert (stats.firings, stats.flaps, stats.flaps_per_day) == (3, 0, 0)
    assert _minutes(stats.time_in_alarm) == pytest.approx(40 + 25 + 130)
    assert (_minutes(stats.median), _minutes(stats.longest)) == (40, 130)
    assert (stats.acknowledged, stats.ack_covered, stats.ack_share) == (2, 3, "2/3 (67%)")
    # Only the unacknowledged 25 min one is without action: weight 1, and one is not a ticket
    assert (stats.without_action, stats.score, stats.ticket) == (1, 1, False)
    # 01:00, 08:00 and 12:30 UTC are 10:00, 17:00 and 21:30 in Tokyo
    assert {hour for hour, count in enumerate(stats.hours) if count} == {10, 17, 21}


def test_stuck_alarm_is_open_not_resolved_and_an_alarm_already_in_alarm_counts_from_the_start() -> None:
    found = _stats("stuck")
    stuck = found["alb-latency-high"]
    # Given 30 min in ALARM on Nov 20, then ALARM from Nov 28 06:00 UTC with no OK until the end (Dec 1 00:00)
    assert stuck.firings == 2
    assert stuck.open_since == datetime(2026, 11, 28, 6, 0, 0, 417_000, tzinfo=UTC)
    open_minutes = (PERIOD.until - stuck.open_since) / timedelta(minutes=1)
    assert open_minutes == pytest.approx(66 * 60 - 0.417 / 60)
    assert _minutes(stuck.time_in_alarm) == pytest.approx(30 + open_minutes)
    # The median is of resolved episodes only; the longest is the open one
    assert (_minutes(stuck.median), stuck.longest_open) == (30, True)
    assert stuck.stuck(PERIOD, NoiseRule())
    assert stuck.flaps == 0
    # Given synthetic-live-failing whose first change in the period leaves ALARM at 00:20:00.417
    live = found["synthetic-live-failing"]
    # Then its episode runs from the period start, and it is not a firing of this period
    assert (live.firings, live.open_before_period, live.open_since) == (0, True, None)
    assert _minutes(live.time_in_alarm) == pytest.approx(20 + 0.417 / 60)
    assert live.score == 0


def test_quiet_alarm_never_fired() -> None:
    # Given only INSUFFICIENT_DATA <-> OK changes
    quiet = _stats("quiet")["rds-connections-high"]
    assert (quiet.firings, quiet.time_in_alarm, quiet.median, quiet.longest, quiet.score) == (
        0,
        timedelta(),
        None,
        None,
        0,
    )


def test_ranking_is_noisiest_first_by_the_stated_rule() -> None:
    ranked = list(_stats("flapping", "incidents", "stuck", "quiet"))
    # scores: cpu 25, latency 2 (two firings without action), rds-cpu 3 without history (3 firings x 1), live 0, quiet 0
    assert ranked == [
        "ecs-backend-cpu-high",
        "rds-cpu-high",
        "alb-latency-high",
        "synthetic-live-failing",
        "rds-connections-high",
    ]


def test_known_alarms_without_history_are_listed_as_quiet() -> None:
    found = all_stats({}, alarm_names=["a", "b"], period=PERIOD, zone=TOKYO, rule=NoiseRule(), history=None)
    assert [(s.name, s.firings, s.score) for s in found] == [("a", 0, 0), ("b", 0, 0)]


def test_ticket_rule_counts_firings_without_action_within_seven_days() -> None:
    def episodes(*days: float) -> list[Episode]:
        return [
            Episode("x", PERIOD.since + timedelta(days=d), PERIOD.since + timedelta(days=d, minutes=30)) for d in days
        ]

    def ticket(*days: float) -> bool:
        found = all_stats(
            {"x": episodes(*days)}, alarm_names=[], period=PERIOD, zone=TOKYO, rule=NoiseRule(), history=None
        )
        return found[0].ticket

    assert not ticket(1, 8.5)  # 7.5 days apart
    assert ticket(1, 7.9)
    assert ticket(0, 5, 13)


def _item(**overrides: Any) -> dict[str, Any]:
    data = {"version": "1.0", "oldState": {"stateValue": "OK"}, "newState": {"stateValue": "ALARM"}}
    return {
        "AlarmName": "a",
        "HistoryItemType": "StateUpdate",
        "Timestamp": "2026-11-20T00:00:00Z",
        "HistoryData": json.dumps(data),
        **overrides,
    }


@pytest.mark.parametrize(
    "item",
    [
        _item(HistoryData="not json"),
        _item(HistoryData=json.dumps({"oldState": {}, "newState": {"stateValue": "ALARM"}})),
        _item(HistoryData=json.dumps({"oldState": {"stateValue": "OK"}, "newState": {"stateValue": "FIRE"}})),
        _item(Timestamp="yesterday"),
        _item(AlarmName=""),
        _item(HistoryData=None),
    ],
)
def test_unreadable_state_updates_are_counted(item: dict[str, Any]) -> None:
    parsed = parse_items([item, _item()])
    assert len(parsed.transitions) == 1
    assert parsed.ignored == {"StateUpdate items without a readable name, time or HistoryData": 1}


def test_boto3_datetimes_and_cli_strings_mean_the_same_time() -> None:
    from_cli = parse_items([_item(Timestamp="2026-11-20T09:00:00.250000+09:00")]).transitions[0].at
    from_boto3 = parse_items([_item(Timestamp=datetime(2026, 11, 20, 0, 0, 0, 250_000, tzinfo=UTC))]).transitions[0].at
    assert from_cli == from_boto3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "is not JSON"),
        ('{"AlarmHistoryItems": [', "is not JSON"),
        ('{"MetricAlarms": []}', "has no AlarmHistoryItems list"),
        ("[1, 2]", "has no AlarmHistoryItems list"),
        ('{"AlarmHistoryItems": {"a": 1}}', "has no AlarmHistoryItems list"),
    ],
)
def test_not_the_cli_format(text: str, expected: str) -> None:
    with pytest.raises(HistoryFormatError, match=expected):
        parse_cli_output(text, source="h.json")


def test_history_older_than_cloudwatch_keeps_comes_from_the_incident_history() -> None:
    cut = datetime(2026, 11, 17, tzinfo=UTC)
    older = HistoryEntry("arn:x", "x", "ALARM", "OK", (cut - timedelta(days=3)).timestamp())
    resolved = HistoryEntry("arn:x", "x", "OK", "ALARM", (cut - timedelta(days=3) + timedelta(minutes=5)).timestamp())
    duplicate = HistoryEntry("arn:x", "x", "ALARM", "OK", (cut + timedelta(hours=1)).timestamp())
    recent = Transition("x", cut + timedelta(hours=1), "OK", "ALARM")
    merged = merged_transitions([recent], [older, resolved, duplicate], cut)
    # the two older entries, then CloudWatch's own change (the incident history's copy of it is not used)
    assert [(t.at, t.old_state, t.new_state) for t in merged] == [
        (cut - timedelta(days=3), "OK", "ALARM"),
        (cut - timedelta(days=3) + timedelta(minutes=5), "ALARM", "OK"),
        (recent.at, "OK", "ALARM"),
    ]
    long_period = Period(cut - timedelta(days=10), cut + timedelta(days=1))
    [first, second] = build_episodes(merged, long_period).by_alarm["x"]
    assert (first.duration(long_period), second.open) == (timedelta(minutes=5), True)
