"""Pure silence logic: durations, the all-critical guard, maintenance windows, matching and counting."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from lambdas.alert_router.incidents.silences import (
    MaintenanceWindow,
    SilenceError,
    expired,
    find_silence,
    new_silence,
    parse_duration,
    parse_windows,
    silences_everything,
)

NOW = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)  # a Sunday, 12:00 in Tokyo
CRITICAL_ALARMS = ("pb-production-alb-5xx", "pb-production-synthetic-live")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2h", timedelta(hours=2)),
        ("90m", timedelta(minutes=90)),
        ("1d", timedelta(days=1)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("45min", timedelta(minutes=45)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "2", "soon", "0m", "15d", "-1h"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(SilenceError):
        parse_duration(text)


@pytest.mark.parametrize("match", ["*", "**", "*?*", "pb-production-*", "*-*"])
def test_a_pattern_covering_every_critical_alarm_needs_the_flag(match: str) -> None:
    # Given a pattern that silences every critical alarm
    assert silences_everything(match, CRITICAL_ALARMS)
    # When created without the flag, it is refused; with it, it is created
    with pytest.raises(SilenceError, match="every critical alarm"):
        new_silence(
            match=match,
            duration=timedelta(hours=1),
            reason="r",
            created_by="me",
            now=NOW,
            critical_alarm_names=CRITICAL_ALARMS,
        )
    silence = new_silence(
        match=match,
        duration=timedelta(hours=1),
        reason="r",
        created_by="me",
        now=NOW,
        critical_alarm_names=CRITICAL_ALARMS,
        allow_all_critical=True,
    )
    assert silence.until - silence.starts_at == 3600


def test_a_narrow_pattern_needs_no_flag() -> None:
    assert not silences_everything("*alb-5xx*", CRITICAL_ALARMS)
    assert not silences_everything("*alb-5xx*")
    silence = new_silence(match="*ALB-5XX*", duration=timedelta(hours=2), reason=" deploy ", created_by="me", now=NOW)
    assert silence.matches("pb-production-alb-5xx")  # case-insensitive, like routing overrides
    assert not silence.matches("pb-production-synthetic-live")
    assert silence.reason == "deploy"


@pytest.mark.parametrize(("match", "reason"), [("", "r"), ("*alb*", " ")])
def test_a_silence_needs_a_match_and_a_reason(match: str, reason: str) -> None:
    with pytest.raises(SilenceError):
        new_silence(match=match, duration=timedelta(hours=1), reason=reason, created_by="me", now=NOW)


def test_active_silence_is_found_and_counts_what_it_suppressed() -> None:
    silence = new_silence(match="*alb*", duration=timedelta(hours=1), reason="r", created_by="me", now=NOW)
    hit = find_silence("pb-production-alb-5xx", [silence], (), NOW + timedelta(minutes=10))
    assert hit is not None
    assert hit.silence == silence
    assert find_silence("pb-production-alb-5xx", [silence], (), NOW + timedelta(hours=1)) is None
    counted = silence.with_suppressed("alerts-critical", "a", "key-a").with_suppressed("alerts-critical", "a", "key-a")
    assert counted.suppressed == {"alerts-critical": {"a": 2}}
    assert counted.keys == ("key-a",)  # each incident once: checked for "still in ALARM" when the silence ends
    assert type(counted).from_data(counted.to_data(), 1).keys == ("key-a",)
    assert counted.suppressed_total == 2
    assert silence.suppressed == {}  # unchanged: frozen values
    assert not counted.summary_due(NOW.timestamp())
    assert expired(counted, NOW).summary_due(NOW.timestamp())


def test_windows_from_config_and_their_occurrences() -> None:
    [window] = parse_windows(
        [{"name": "db", "match": "*rds*", "days": ["sat"], "start": "23:00", "end": "02:00", "time_zone": "Asia/Tokyo"}]
    )
    assert window == MaintenanceWindow("db", "*rds*", (5,), time(23), time(2), "Asia/Tokyo")
    # Saturday 23:30 JST is inside; Sunday 01:59 JST (crossing midnight) too; Sunday 02:00 JST is not
    inside = datetime(2026, 11, 28, 14, 30, tzinfo=UTC)
    start, end = window.occurrence(inside) or (None, None)
    assert (start, end) == (datetime(2026, 11, 28, 14, 0, tzinfo=UTC), datetime(2026, 11, 28, 17, 0, tzinfo=UTC))
    assert window.occurrence(datetime(2026, 11, 28, 16, 59, tzinfo=UTC)) is not None
    assert window.occurrence(datetime(2026, 11, 28, 17, 0, tzinfo=UTC)) is None
    hit = find_silence("pb-rds-cpu", [], [window], inside)
    assert hit is not None
    assert hit.silence.id == "window:db:2026-11-28T14:00Z"
    assert end is not None
    assert hit.silence.until == end.timestamp()


@pytest.mark.parametrize(
    "items",
    [
        {"name": "x"},
        [{"name": "x", "match": "*", "days": ["someday"], "start": "1:00", "end": "2:00"}],
        [{"name": "x", "match": "*", "days": ["mon"], "start": "01:00", "end": "01:00"}],
        [{"name": "x", "match": "*", "days": ["mon"], "start": "01:00", "end": "02:00", "time_zone": "Mars/Base"}],
    ],
)
def test_invalid_windows_are_refused(items: object) -> None:
    with pytest.raises(SilenceError):
        parse_windows(items)
