"""The local alarm evaluator used by the demo: CloudWatch's rules for what this stack's alarms use."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tools.local_cloudwatch import (
    AlarmDefinition,
    AlarmEvaluator,
    Datapoint,
    UnsupportedAlarm,
    aggregate,
    alarms_from_template,
    datapoints_from_emf,
    sns_event_for,
)

DIMS = (("check", "live"), ("environment", "staging"))


def _alarm(**overrides: Any) -> AlarmDefinition:
    props = {
        "AlarmName": "svc-staging-synthetic-live-failing",
        "AlarmDescription": "Live check failing.\n\nSeverity: critical",
        "Namespace": "PeopleBooster/Synthetics",
        "MetricName": "CheckSuccess",
        "Dimensions": [{"Name": "environment", "Value": "staging"}, {"Name": "check", "Value": "live"}],
        "Statistic": "Minimum",
        "Period": 60,
        "EvaluationPeriods": 3,
        "DatapointsToAlarm": 3,
        "Threshold": 1,
        "ComparisonOperator": "LessThanThreshold",
        "TreatMissingData": "breaching",
        **overrides,
    }
    return AlarmDefinition.from_template_properties(props)


def _point(minute: int, value: float, dims: tuple[tuple[str, str], ...] = DIMS) -> Datapoint:
    return Datapoint("PeopleBooster/Synthetics", "CheckSuccess", dims, minute * 60 + 1, value)


def test_three_of_three_failures_alarm_then_one_success_recovers() -> None:
    # Given a 3-of-3 alarm on CheckSuccess < 1
    evaluator = AlarmEvaluator([_alarm()])
    states: list[tuple[int, str]] = []
    # When the check succeeds twice, fails three times, then succeeds
    for minute, value in enumerate([1, 1, 0, 0, 0, 1]):
        evaluator.add([_point(minute, value)])
        states.extend((minute, t.new_state) for t in evaluator.evaluate((minute + 1) * 60))
    # Then it goes OK once data covers it, ALARM on the third failure, OK on the first success
    assert states == [(0, "OK"), (4, "ALARM"), (5, "OK")]


def test_two_failures_do_not_page() -> None:
    evaluator = AlarmEvaluator([_alarm()])
    for minute, value in enumerate([1, 1, 1, 0, 0, 1, 1]):
        evaluator.add([_point(minute, value)])
        evaluator.evaluate((minute + 1) * 60)
    assert evaluator.states["svc-staging-synthetic-live-failing"] == "OK"


@pytest.mark.parametrize(
    ("treatment", "expected"),
    [("breaching", "ALARM"), ("notBreaching", "OK"), ("missing", "INSUFFICIENT_DATA"), ("ignore", "OK")],
)
def test_missing_data_treatment(treatment: str, expected: str) -> None:
    # Given an alarm that was OK with data
    evaluator = AlarmEvaluator([_alarm(TreatMissingData=treatment)])
    for minute in range(3):
        evaluator.add([_point(minute, 1)])
    evaluator.evaluate(180)
    # When no data arrives for three periods
    evaluator.evaluate(360)
    # Then the state follows the treatment
    assert evaluator.states["svc-staging-synthetic-live-failing"] == expected


def test_datapoints_with_other_dimensions_do_not_count() -> None:
    # Given failures reported with an extra `service` dimension (the classic EMF/alarm mismatch)
    evaluator = AlarmEvaluator([_alarm(TreatMissingData="missing")])
    wrong = (("check", "live"), ("environment", "staging"), ("service", "synthetic-monitor"))
    for minute in range(3):
        evaluator.add([_point(minute, 0, dims=wrong)])
    # Then the alarm has no data: it neither fires nor looks healthy
    assert evaluator.evaluate(180) == []
    assert evaluator.states["svc-staging-synthetic-live-failing"] == "INSUFFICIENT_DATA"
    assert not evaluator.has_data_for(evaluator.alarms[0])


def test_statistics() -> None:
    samples = [1.0, 2.0, 3.0, 4.0, 100.0]
    assert aggregate("Average", samples) == 22
    assert aggregate("Sum", samples) == 110
    assert aggregate("Minimum", samples) == 1
    assert aggregate("Maximum", samples) == 100
    assert aggregate("SampleCount", samples) == 5
    assert aggregate("p50", samples) == 3
    assert aggregate("p95", samples) == 100


def test_emf_lines_become_datapoints_and_other_lines_are_ignored() -> None:
    blob = {
        "_aws": {
            "Timestamp": 1_700_000_000_000,
            "CloudWatchMetrics": [
                {
                    "Namespace": "PeopleBooster/Synthetics",
                    "Dimensions": [["environment", "check"]],
                    "Metrics": [
                        {"Name": "CheckSuccess", "Unit": "Count"},
                        {"Name": "CheckLatency", "Unit": "Milliseconds"},
                    ],
                }
            ],
        },
        "environment": "staging",
        "check": "live",
        "CheckSuccess": [0.0],
        "CheckLatency": 12.5,
    }
    lines = ["not json", '{"level": "INFO"}', json.dumps(blob)]
    points = datapoints_from_emf(lines, timestamp=42)
    assert {(p.metric_name, p.value, p.timestamp) for p in points} == {
        ("CheckSuccess", 0, 42),
        ("CheckLatency", 12.5, 42),
    }
    assert points[0].dimensions == DIMS


def test_unsupported_alarms_are_reported_not_dropped() -> None:
    template = {
        "Resources": {
            "A": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"AlarmName": "math", "Metrics": []}},
            "B": {"Type": "AWS::SNS::Topic", "Properties": {}},
        }
    }
    alarms, skipped = alarms_from_template(template)
    assert alarms == []
    assert skipped == ["math: metric math and anomaly alarms are not modelled locally"]
    with pytest.raises(UnsupportedAlarm):
        aggregate("TM(10%:90%)", [1.0])


def test_state_change_becomes_the_sns_message_cloudwatch_sends() -> None:
    evaluator = AlarmEvaluator([_alarm()])
    (transition,) = evaluator.evaluate(180)  # no data, treated as breaching
    event = sns_event_for(transition)
    record = event["Records"][0]
    message = json.loads(record["Sns"]["Message"])
    assert record["EventSource"] == "aws:sns"
    assert message["AlarmName"] == "svc-staging-synthetic-live-failing"
    assert (message["OldStateValue"], message["NewStateValue"]) == ("INSUFFICIENT_DATA", "ALARM")
    assert (
        message["AlarmArn"] == "arn:aws:cloudwatch:ap-northeast-1:123456789012:alarm:svc-staging-synthetic-live-failing"
    )
    assert message["Trigger"]["Dimensions"] == [
        {"value": "live", "name": "check"},
        {"value": "staging", "name": "environment"},
    ]
    assert message["Trigger"]["Statistic"] == "MINIMUM"
    assert message["StateChangeTime"] == "1970-01-01T00:03:00.000+0000"


def test_reasons_are_worded_as_cloudwatch_words_them() -> None:
    # Given a success, three failed runs, then a success (periods start at 00:00, 00:01, ... UTC, 1 Jan 1970)
    evaluator = AlarmEvaluator([_alarm()])
    reasons: list[str] = []
    for minute, value in enumerate([1, 0, 0, 0, 1]):
        evaluator.add([_point(minute, value)])
        reasons.extend(t.reason for t in evaluator.evaluate((minute + 1) * 60))
    # Then the reasons have CloudWatch's shape, newest datapoint first
    assert reasons == [
        "Threshold Crossed: 1 out of the last 3 datapoints [1.0 (01/01/70 00:00:00)] was not less than the"
        " threshold (1.0) (minimum 1 datapoint for ALARM -> OK transition).",
        "Threshold Crossed: 3 out of the last 3 datapoints [0.0 (01/01/70 00:03:00), 0.0 (01/01/70 00:02:00),"
        " 0.0 (01/01/70 00:01:00)] were less than the threshold (1.0) (minimum 3 datapoints for OK -> ALARM"
        " transition).",
        "Threshold Crossed: 1 out of the last 3 datapoints [1.0 (01/01/70 00:04:00)] was not less than the"
        " threshold (1.0) (minimum 1 datapoint for ALARM -> OK transition).",
    ]


def test_the_router_reads_the_values_back_from_the_reason() -> None:
    from lambdas.alert_router.parsing import parse_event

    evaluator = AlarmEvaluator([_alarm(Threshold=80, ComparisonOperator="GreaterThanThreshold", Statistic="Maximum")])
    for minute in range(3):
        evaluator.add([_point(minute, 93.4)])
    (transition,) = evaluator.evaluate(180)
    (alert,) = parse_event(sns_event_for(transition))
    assert alert.alarm_name == "svc-staging-synthetic-live-failing"
    assert alert.datapoints == (93.4, 93.4, 93.4)


def test_only_states_with_actions_are_published() -> None:
    # Given two alarms that lose their data: one sends INSUFFICIENT_DATA to the topic, one has no such action
    actions = {"AlarmActions": [{"Ref": "Topic"}], "OKActions": [{"Ref": "Topic"}]}
    heard = _alarm(AlarmName="heard", TreatMissingData="missing", InsufficientDataActions=[{"Ref": "Topic"}], **actions)
    silent = _alarm(AlarmName="silent", TreatMissingData="missing", **actions)
    evaluator = AlarmEvaluator([heard, silent])
    for minute in range(3):
        evaluator.add([_point(minute, 1)])
    ok = evaluator.evaluate(3 * 60)
    # When no more data comes for the whole window
    blind = evaluator.evaluate(6 * 60 + 1)
    # Then both go OK, then INSUFFICIENT_DATA; CloudWatch publishes the OKs and only the opted-in blindness
    assert [(t.alarm.name, t.new_state, t.notifies) for t in ok] == [("heard", "OK", True), ("silent", "OK", True)]
    assert [(t.alarm.name, t.new_state, t.notifies) for t in blind] == [
        ("heard", "INSUFFICIENT_DATA", True),
        ("silent", "INSUFFICIENT_DATA", False),
    ]
