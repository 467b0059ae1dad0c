"""Edges the larger tests pass by: the longest silence, an alarm without a name, JSON that is not an object."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from lambdas.alert_router.incidents.silences import MAX_SILENCE, SilenceError, parse_duration
from lambdas.alert_router.intake.cloudwatch import parse_eventbridge
from lambdas.alert_router.routing.route import Override
from tests.unit.alert_router.test_eventbridge_parsing import fixture


def test_a_silence_may_last_exactly_the_longest_allowed_and_not_a_minute_more() -> None:
    assert parse_duration(f"{MAX_SILENCE.days}d") == MAX_SILENCE
    assert parse_duration("1m") == timedelta(minutes=1)
    for too_long in (f"{MAX_SILENCE.days}d1m", "0m"):
        with pytest.raises(SilenceError) as refused:
            parse_duration(too_long)
        assert str(refused.value) == f"duration must be between 1 minute and {MAX_SILENCE.days} days"
    with pytest.raises(SilenceError) as unreadable:
        parse_duration("soon")
    assert str(unreadable.value) == "duration 'soon' is not like 2h, 90m, 1d or 1h30m"


def test_an_override_never_matches_an_alert_without_an_alarm_name() -> None:
    everything = Override(match="*")
    assert not everything.matches(None)
    assert everything.matches("")
    assert Override(match="PB-*-5XX").matches("pb-production-5xx")  # case-insensitive on both sides
    assert not Override(match="pb-*-5xx").matches("pb-production-latency")


@pytest.mark.parametrize("reason_data", ["[73.0, 77.0]", '"text"', "not json", ""])
def test_reason_data_that_is_not_a_json_object_is_ignored(reason_data: str) -> None:
    event = fixture()
    event["detail"]["state"]["reasonData"] = reason_data
    own_stat = event["detail"]["configuration"]["metrics"][0]["metricStat"]["stat"]
    alert = parse_eventbridge(event)
    assert (alert.threshold, alert.statistic) == (None, own_stat)  # the metric's own stat still reads
    assert alert.datapoints == (1630.0, 1598.0, 1560.0, 1521.0, 1490.0)  # from the reason text instead
    assert json.loads(json.dumps(alert.reason)) == event["detail"]["state"]["reason"]
