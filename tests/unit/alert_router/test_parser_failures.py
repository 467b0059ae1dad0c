"""A parser that fails on one record loses nothing: the record is delivered as received, with what could be read.

(issue 12 item 3: a parser failure still routes by the description's `Severity:` line, so the name,
description and state are salvaged from both notification shapes, and the failure says where it happened.)
"""

from __future__ import annotations

import json
from typing import Any, NoReturn

import pytest

from lambdas.alert_router.intake import events
from lambdas.alert_router.models import SourceKind, State

TOPIC = "arn:aws:sns:ap-northeast-1:123456789012:alerts"


def broken(source: Any, **envelope: Any) -> NoReturn:
    raise KeyError("Trigger")


def sns(message: object) -> dict[str, Any]:
    return {
        "Records": [{"Sns": {"MessageId": "m-1", "TopicArn": TOPIC, "Subject": "s", "Message": json.dumps(message)}}]
    }


@pytest.fixture(autouse=True)
def parsers_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(events, "parse_cloudwatch_alarm", broken)
    monkeypatch.setattr(events, "parse_eventbridge", broken)


def test_an_sns_alarm_the_parser_fails_on_keeps_its_name_description_and_state() -> None:
    message = {"AlarmName": "checkout-5xx", "AlarmDescription": "Severity: critical", "NewStateValue": "alarm"}
    [alert] = events.parse_event(sns(message))
    assert alert.source is SourceKind.UNPARSED
    assert (alert.alarm_name, alert.description, alert.state) == ("checkout-5xx", "Severity: critical", State.ALARM)
    assert (alert.message_id, alert.subject, alert.topic_arn, alert.region) == ("m-1", "s", TOPIC, "ap-northeast-1")
    assert alert.raw_text == json.dumps(message)  # as received, byte for byte
    assert alert.parse_error == "KeyError"
    raised_at = broken.__code__.co_firstlineno + 1
    assert alert.parse_error_detail == f"'Trigger' (at test_parser_failures.py:{raised_at} in broken)"


def test_an_eventbridge_alarm_the_parser_fails_on_keeps_its_name_description_and_state() -> None:
    event = {
        "detail-type": "CloudWatch Alarm State Change",
        "id": "e-1",
        "detail": {
            "alarmName": "db-cpu",
            "state": {"value": "OK"},
            "configuration": {"description": "Severity: warning"},
        },
    }
    for alert in (events.parse_event(event)[0], events.parse_event(sns(event))[0]):
        assert (alert.alarm_name, alert.description, alert.state) == ("db-cpu", "Severity: warning", State.OK)
        assert alert.parse_error == "KeyError"
    [direct] = events.parse_event(event)
    assert direct.raw_text is not None
    assert json.loads(direct.raw_text) == event  # a direct event has no message text: it is dumped


def test_nothing_is_salvaged_from_what_is_not_an_object() -> None:
    assert events._salvage(["AlarmName"]) == {}
    assert events._salvage({}) == {"alarm_name": None, "description": None, "state": None}


def test_a_failure_without_a_traceback_is_its_message_cut_to_300_characters() -> None:
    assert events._where(ValueError("x" * 400)) == "x" * 300
