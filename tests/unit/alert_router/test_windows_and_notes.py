"""Maintenance windows (parsing, occurrences, their silence record) and the routing note of data after a deploy."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest

from lambdas.alert_router.incidents.silences import (
    MaintenanceWindow,
    Silence,
    SilenceError,
    parse_windows,
    window_silence,
)
from lambdas.alert_router.models import Alert, SourceKind, State
from lambdas.alert_router.routing.route import DEPLOY_WINDOW, data_arriving_after_deploy

NIGHTLY = {"name": "db-maintenance", "match": "pb-*-rds-*", "days": ["Sunday", "wed"], "start": "23:30", "end": "01:00"}


def test_a_window_is_read_with_its_days_times_and_zone() -> None:
    assert parse_windows([{**NIGHTLY, "time_zone": "Asia/Tokyo"}, {**NIGHTLY, "name": "utc"}]) == (
        MaintenanceWindow("db-maintenance", "pb-*-rds-*", (6, 2), time(23, 30), time(1, 0), "Asia/Tokyo"),
        MaintenanceWindow("utc", "pb-*-rds-*", (6, 2), time(23, 30), time(1, 0), "UTC"),
    )


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ({"name": "x"}, "MAINTENANCE_WINDOWS must be a JSON list"),
        ([NIGHTLY, "x"], "MAINTENANCE_WINDOWS[1] must be an object"),
        ([{**NIGHTLY, "days": ["someday"]}], "MAINTENANCE_WINDOWS[0]: ValueError tuple.index(x): x not in tuple"),
        ([{**NIGHTLY, "start": "25:00"}], "MAINTENANCE_WINDOWS[0]: ValueError hour must be in 0..23"),
        ([{k: v for k, v in NIGHTLY.items() if k != "match"}], "MAINTENANCE_WINDOWS[0]: KeyError 'match'"),
        (
            [{**NIGHTLY, "time_zone": "Mars/Base"}],
            "MAINTENANCE_WINDOWS[0]: ZoneInfoNotFoundError 'No time zone found with key Mars/Base'",
        ),
        ([{**NIGHTLY, "end": "23:30"}], "MAINTENANCE_WINDOWS[0] needs a name, a match, days and distinct start/end"),
        ([{**NIGHTLY, "days": []}], "MAINTENANCE_WINDOWS[0] needs a name, a match, days and distinct start/end"),
        ([{**NIGHTLY, "name": ""}], "MAINTENANCE_WINDOWS[0] needs a name, a match, days and distinct start/end"),
    ],
)
def test_a_bad_window_is_refused_with_where_and_why(items: Any, message: str) -> None:
    with pytest.raises(SilenceError) as refused:
        parse_windows(items)
    assert str(refused.value) == message


def test_an_occurrence_crossing_midnight_started_on_its_day_and_ends_the_next() -> None:
    [window] = parse_windows([{**NIGHTLY, "time_zone": "Asia/Tokyo"}])
    # Sunday 23:30 JST = Sunday 14:30 UTC; Monday 01:00 JST = Sunday 16:00 UTC
    occurrence = (datetime(2026, 11, 29, 14, 30, tzinfo=UTC), datetime(2026, 11, 29, 16, 0, tzinfo=UTC))
    assert window.occurrence(datetime(2026, 11, 29, 14, 30, tzinfo=UTC)) == occurrence  # its first minute
    assert window.occurrence(datetime(2026, 11, 29, 15, 59, tzinfo=UTC)) == occurrence  # Monday 00:59 JST
    assert window.occurrence(datetime(2026, 11, 29, 16, 0, tzinfo=UTC)) is None  # its end is outside
    assert window.occurrence(datetime(2026, 11, 29, 14, 29, tzinfo=UTC)) is None
    assert window.occurrence(datetime(2026, 11, 30, 14, 30, tzinfo=UTC)) is None  # Monday is not a window day


def test_a_daytime_window_ends_on_its_own_day() -> None:
    window = MaintenanceWindow("deploys", "*", (1,), time(10, 0), time(11, 0))
    tuesday = datetime(2026, 12, 1, 10, 30, tzinfo=UTC)
    assert window.occurrence(tuesday) == (tuesday.replace(minute=0), tuesday.replace(hour=11, minute=0))


def test_an_occurrence_is_kept_as_a_silence_created_by_config() -> None:
    window = MaintenanceWindow("db-maintenance", "pb-*-rds-*", (6,), time(23, 30), time(1, 0))
    start, end = datetime(2026, 11, 29, 23, 30, tzinfo=UTC), datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
    assert window_silence(window, (start, end)) == Silence(
        id="window:db-maintenance:2026-11-29T23:30Z",
        match="pb-*-rds-*",
        starts_at=start.timestamp(),
        until=end.timestamp(),
        reason="maintenance window db-maintenance",
        created_by="config",
        kind="window",
    )


CHANGED = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
RECOVERY = Alert(
    source=SourceKind.SNS_ALARM,
    state=State.OK,
    previous_state=State.INSUFFICIENT_DATA,
    configuration_updated=CHANGED,
)


def test_data_within_the_deploy_window_of_a_configuration_update_is_data_arriving() -> None:
    for after in (timedelta(0), DEPLOY_WINDOW, -DEPLOY_WINDOW):
        assert data_arriving_after_deploy(replace(RECOVERY, state_change_time=CHANGED + after)) == (
            True,
            "INSUFFICIENT_DATA -> OK within 15 min of the alarm's configuration update: data arriving after a deploy",
        )
    late = replace(RECOVERY, state_change_time=CHANGED + DEPLOY_WINDOW + timedelta(seconds=1))
    assert data_arriving_after_deploy(late) == (
        False,
        "INSUFFICIENT_DATA -> OK long after the alarm's configuration update: data is back, announced",
    )
    assert data_arriving_after_deploy(replace(RECOVERY, configuration_updated=None)) == (
        True,
        "INSUFFICIENT_DATA -> OK, alarm configuration time unknown: taken as data arriving, not a recovery",
    )
