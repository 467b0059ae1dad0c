"""SQS records as the event source mapping delivers them: an SNS envelope in the body, or a raw message.

Shapes: https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html (the record) and
https://docs.aws.amazon.com/sns/latest/dg/sns-sqs-as-subscriber.html (the envelope SNS writes).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lambdas.alert_router.delivery.idempotency import DeliveryInProgress, InMemoryDeduplicator
from lambdas.alert_router.intake.events import is_sqs_event, parse_event
from lambdas.alert_router.models import SourceKind, State
from lambdas.alert_router.settings import SettingsError, settings_from_env
from tests.clock import FakeClock

EVENTS = Path(__file__).resolve().parents[3] / "events" / "alert_router"


def load(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return event


def test_an_sns_envelope_in_the_body_is_the_alarm_with_the_sns_message_id() -> None:
    event = load("sqs_database_fault.json")
    assert is_sqs_event(event)
    alerts = parse_event(event)
    assert [a.alarm_name for a in alerts] == [
        "peoplebooster-staging-synthetic-ready-failing",
        "peoplebooster-staging-synthetic-health-failing",
        "peoplebooster-staging-synthetic-dependency-database",
    ]
    for alert, record in zip(alerts, event["Records"], strict=True):
        envelope = json.loads(record["body"])
        assert alert.source is SourceKind.SNS_ALARM
        assert alert.state is State.ALARM
        # the idempotency key is SNS's (one notification SNS wrote twice is two SQS messages)...
        assert alert.message_id == envelope["MessageId"]
        assert alert.topic_arn == envelope["TopicArn"]
        # ...and the record id is what batchItemFailures names
        assert alert.record_id == record["messageId"]


def test_a_raw_message_body_is_read_as_the_message_itself() -> None:
    event = load("sqs_raw_message_delivery.json")
    [alert] = parse_event(event)
    assert alert.alarm_name == "peoplebooster-production-ecs-backend-cpu-high"
    assert alert.message_id == alert.record_id == event["Records"][0]["messageId"]


@pytest.mark.parametrize("body", ["not json at all", '{"Type": "Notification", "Message": 42}', "[]"])
def test_a_body_the_router_cannot_read_is_still_an_alert_of_its_record(body: str) -> None:
    event = load("sqs_raw_message_delivery.json")
    event["Records"][0]["body"] = body
    [alert] = parse_event(event)
    assert alert.is_unparsed
    assert alert.record_id == event["Records"][0]["messageId"]


def test_sns_and_eventbridge_events_are_not_sqs_events() -> None:
    assert not is_sqs_event(load("sns_metric_alarm_ecs_cpu.json"))
    assert not is_sqs_event(load("eventbridge_alarm_state_change.json"))
    assert not is_sqs_event({"Records": []})


# --- claims ------------------------------------------------------------------------------------------------------


def test_a_claim_is_fresh_then_a_duplicate_once_completed() -> None:
    dedup = InMemoryDeduplicator()
    claim = dedup.claim("m-1")
    assert claim.duplicate is None
    with pytest.raises(DeliveryInProgress):
        dedup.claim("m-1")  # another invocation holds it
    assert dedup.complete(claim, {"status": "delivered"}) is None
    assert dedup.claim("m-1").duplicate == {"status": "delivered"}


def test_a_released_claim_is_free_again_and_remembered_ones_expire() -> None:
    clock = FakeClock()
    dedup = InMemoryDeduplicator(ttl_seconds=3600, clock=clock)
    assert dedup.release(dedup.claim("m-2")) is None
    crashed = dedup.claim("m-2")  # free again; now held by a call that never comes back
    assert crashed.duplicate is None
    clock.now += dedup.in_progress_seconds + 1  # its claim expires with the longest invocation
    dedup.complete(dedup.claim("m-2"), {"status": "delivered"})
    clock.now += 3601
    assert dedup.claim("m-2").duplicate is None


# --- the setting -----------------------------------------------------------------------------------------------


def test_the_grouping_setting_is_read_and_refused_with_its_name() -> None:
    settings = settings_from_env({"GROUPING": '{"storm_threshold": 40, "inhibit": false}'})
    assert (settings.grouping.storm_threshold, settings.grouping.inhibit) == (40, False)
    with pytest.raises(SettingsError, match="GROUPING: storm_threshold must be"):
        settings_from_env({"GROUPING": '{"storm_threshold": 1}'})
    with pytest.raises(SettingsError, match="GROUPING is not valid JSON"):
        settings_from_env({"GROUPING": "{"})
