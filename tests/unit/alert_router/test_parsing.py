"""Parsing: every input shape becomes one Alert per record, and nothing raises."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from lambdas.alert_router.intake.events import parse_event, parse_sns_message
from lambdas.alert_router.models import AlarmKind, SourceKind, State

EVENTS = Path(__file__).resolve().parents[3] / "events" / "alert_router"


def load(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return event


def sns_event(
    message: str, *, subject: str | None = "ALARM: cut at 100 chars", message_id: str = "m-1"
) -> dict[str, Any]:
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "Sns": {
                    "MessageId": message_id,
                    "TopicArn": "arn:aws-cn:sns:cn-north-1:123456789012:alerts",
                    "Subject": subject,
                    "Message": message,
                },
            }
        ]
    }


def test_single_metric_alarm_reads_trigger_state_time_and_region() -> None:
    # Given the ECS CPU alarm fixture
    # When it is parsed
    [alert] = parse_event(load("sns_metric_alarm_ecs_cpu.json"))
    # Then every fact is in the model
    assert alert.source is SourceKind.SNS_ALARM
    assert alert.alarm_kind is AlarmKind.METRIC
    assert (alert.state, alert.previous_state) == (State.ALARM, State.OK)
    assert alert.alarm_name == "peoplebooster-production-ecs-backend-cpu-high"
    assert (alert.region, alert.partition, alert.account) == ("ap-northeast-1", "aws", "123456789012")
    assert alert.state_change_time == datetime(2026, 11, 29, 3, 14, 15, 926000, tzinfo=UTC)
    assert (alert.namespace, alert.metric_name, alert.statistic) == ("AWS/ECS", "CPUUtilization", "AVERAGE")
    assert alert.dimensions == (
        ("ClusterName", "peoplebooster-production"),
        ("ServiceName", "peoplebooster-production-backend"),
    )
    assert (alert.threshold, alert.comparison, alert.period, alert.evaluation_periods) == (
        80.0,
        "GreaterThanThreshold",
        60,
        5,
    )
    assert alert.datapoints[:2] == (93.4, 91.2)
    assert alert.message_id == "b2b6f2a0-8d3c-5b1e-9f0e-1c2d3e4f5a61"


def test_percentile_alarm_uses_extended_statistic() -> None:
    trigger = {
        "MetricName": "TargetResponseTime",
        "Namespace": "AWS/ApplicationELB",
        "StatisticType": "ExtendedStatistic",
        "ExtendedStatistic": "p95",
        "Period": 60,
        "EvaluationPeriods": 5,
        "DatapointsToAlarm": 5,
    }
    message = {"AlarmName": "latency", "NewStateValue": "ALARM", "Trigger": trigger}
    [alert] = parse_event(sns_event(json.dumps(message)))
    assert alert.statistic == "p95"
    assert alert.datapoints_to_alarm == 5


def test_the_stacks_p95_alarm_keeps_its_percentile_inside_the_metric_math() -> None:
    # The stack's latency alarm is p95 gated by the request count (metric math): the percentile is a query's stat
    [alert] = parse_event(load("sns_percentile_alarm_alb_latency_p95.json"))
    assert "p95" in {query.stat for query in alert.metrics}
    assert alert.datapoints_to_alarm is not None


def test_alarm_name_comes_from_the_message_not_the_subject() -> None:
    # Given a name longer than SNS's 100-character subject
    name = "x" * 180
    message = json.dumps(
        {"AlarmName": name, "NewStateValue": "ALARM", "AlarmArn": f"arn:aws:cloudwatch:eu-west-1:1:alarm:{name}"}
    )
    # When parsed
    [alert] = parse_event(sns_event(message, subject=f'ALARM: "{name[:80]}..."'))
    # Then the full name is used
    assert alert.alarm_name == name


def test_region_falls_back_to_the_topic_arn_for_messages_without_alarm_arn() -> None:
    [alert] = parse_event(
        sns_event(json.dumps({"AlarmName": "old", "NewStateValue": "OK", "Region": "China (Beijing)"}))
    )
    assert (alert.region, alert.partition, alert.alarm_arn) == ("cn-north-1", "aws-cn", None)


def test_legacy_fixture_without_alarm_arn() -> None:
    [alert] = parse_event(load("sns_legacy_without_alarm_arn.json"))
    assert alert.alarm_arn is None
    assert alert.region == "ap-northeast-1"
    assert alert.dimensions == (("CacheClusterId", "peoplebooster-production-redis-001"), ("CacheNodeId", "0001"))


def test_metric_math_alarm_keeps_its_queries() -> None:
    [alert] = parse_event(load("sns_metric_math_alarm.json"))
    assert alert.alarm_kind is AlarmKind.METRIC_MATH
    assert alert.metric_name is None
    assert [q.id for q in alert.metrics] == ["rate", "errors", "requests"]
    assert alert.metrics[0].expression == "100 * errors / requests"
    assert alert.metrics[1].metric_name == "HTTPCode_Target_5XX_Count"
    assert alert.primary_metric is not None
    assert alert.primary_metric.namespace == "AWS/ApplicationELB"


def test_anomaly_alarm_has_no_threshold_but_a_band() -> None:
    [alert] = parse_event(load("sns_anomaly_detection_alarm.json"))
    assert alert.alarm_kind is AlarmKind.ANOMALY
    assert alert.threshold is None
    assert alert.threshold_metric_id == "ad1"
    assert alert.comparison == "GreaterThanUpperThreshold"


def test_composite_alarm_reads_rule_and_triggering_child() -> None:
    [alert] = parse_event(load("sns_composite_alarm.json"))
    assert alert.alarm_kind is AlarmKind.COMPOSITE
    assert alert.alarm_rule is not None
    assert alert.alarm_rule.startswith("ALARM(")
    assert alert.triggering_children == ("peoplebooster-production-alb-backend-target-5xx",)


def test_composite_children_as_plain_strings_are_understood() -> None:
    message = json.dumps(
        {
            "AlarmName": "c",
            "NewStateValue": "ALARM",
            "AlarmRule": "ALARM(a)",
            "TriggeringChildren": ["arn:aws:cloudwatch:us-east-1:1:alarm:a"],
        }
    )
    [alert] = parse_event(sns_event(message))
    assert alert.triggering_children == ("a",)


def test_eventbridge_event_is_parsed_with_reason_data() -> None:
    [alert] = parse_event(load("eventbridge_alarm_state_change.json"))
    assert alert.source is SourceKind.EVENTBRIDGE_ALARM
    assert alert.message_id == "c4c1c1c9-6542-e61b-6ef0-8c4d36933a92"
    assert (alert.namespace, alert.metric_name) == ("AWS/RDS", "DatabaseConnections")
    assert alert.dimensions == (("DBInstanceIdentifier", "peoplebooster-production-db"),)
    assert alert.threshold == 1441.6
    assert alert.datapoints[0] == 1630.0  # newest first
    assert alert.comparison == "GreaterThanThreshold"
    assert alert.previous_state is State.OK


def test_eventbridge_event_wrapped_in_sns_is_recognised() -> None:
    [alert] = parse_event(sns_event(json.dumps(load("eventbridge_alarm_state_change.json")), message_id="sns-1"))
    assert alert.source is SourceKind.EVENTBRIDGE_ALARM
    assert alert.message_id == "sns-1"


@pytest.mark.parametrize(
    ("fixture", "raw_start"),
    [("sns_plain_text.json", "Deployment 2026.11.29-3")],
)
def test_anything_else_becomes_unparsed_with_its_raw_text(fixture: str, raw_start: str) -> None:
    [alert] = parse_event(load(fixture))
    assert alert.source is SourceKind.UNPARSED
    assert alert.raw_text is not None
    assert alert.raw_text.startswith(raw_start)
    assert alert.message_id is not None


def test_a_bad_record_in_a_batch_loses_no_other_record() -> None:
    alerts = parse_event(load("sns_batch_with_bad_record.json"))
    assert [a.source for a in alerts] == [SourceKind.SNS_ALARM, SourceKind.UNPARSED, SourceKind.SNS_ALARM]
    assert len({a.message_id for a in alerts}) == 3


@pytest.mark.parametrize(
    "message",
    [
        '{"AlarmName": 5, "NewStateValue": "ALARM"}',
        '{"AlarmName": "a", "Trigger": "not a map", "NewStateValue": ["x"], "StateChangeTime": "yesterday"}',
        '{"AlarmName": "a", "Trigger": {"Dimensions": [1, {"name": null}], '
        '"Metrics": [null, {"MetricStat": 3}], "Threshold": "NaN"}}',
        '{"AlarmArn": "arn:aws:cloudwatch:eu-west-1:1:alarm:from-arn"}',
        "[1, 2, 3]",
        "null",
        "",
    ],
)
def test_odd_messages_never_raise(message: str) -> None:
    alert = parse_sns_message(message, message_id="m")
    assert alert.message_id == "m"


def test_wrong_types_are_not_rendered_as_values() -> None:
    alert = parse_sns_message(
        '{"AlarmName": "a", "NewStateValue": "ALARM", "Trigger": {"Threshold": "NaN", "Period": true}}'
    )
    assert alert.threshold is None
    assert alert.period is None


@pytest.mark.parametrize("event", [None, [], "text", {"foo": "bar"}, {"Records": [None, 3, {"Sns": None}]}])
def test_unknown_event_shapes_become_unparsed_alerts(event: object) -> None:
    alerts = parse_event(event)
    assert alerts
    assert all(a.source is SourceKind.UNPARSED for a in alerts)


def test_an_overflowing_datapoint_in_the_reason_is_no_data() -> None:
    # "1e400" parses as inf, which no renderer can format: it is dropped like NaN
    reason = "Threshold Crossed: 2 datapoints [1e400 (29/11/26 03:09:00), 91.5 (29/11/26 03:08:00)] were greater"
    alert = parse_sns_message(json.dumps({"AlarmName": "a", "NewStateValue": "ALARM", "NewStateReason": reason}))
    assert alert.datapoints == (91.5,)


def test_the_configuration_time_is_read() -> None:
    message = {
        "AlarmName": "a",
        "NewStateValue": "OK",
        "AlarmConfigurationUpdatedTimestamp": "2026-11-20T08:00:03.381+0000",
    }
    alert = parse_sns_message(json.dumps(message))
    assert alert.configuration_updated == datetime(2026, 11, 20, 8, 0, 3, 381000, tzinfo=UTC)


@pytest.mark.parametrize("state", [None, "", "PENDING"])
def test_an_alarm_with_a_missing_or_unknown_state_keeps_its_text(state: str | None) -> None:
    message = {
        "AlarmName": "db-down",
        "AlarmDescription": "The database",
        "NewStateReason": "why",
        "NewStateValue": state,
    }
    alert = parse_sns_message(json.dumps(message))
    assert alert.source is SourceKind.SNS_ALARM
    assert alert.state is None
    assert (alert.alarm_name, alert.description, alert.reason) == ("db-down", "The database", "why")
    assert alert.raw_text is not None
    assert "The database" in alert.raw_text


def test_a_known_state_carries_no_raw_text() -> None:
    assert parse_sns_message(json.dumps({"AlarmName": "a", "NewStateValue": "ALARM"})).raw_text is None


def test_unrecognised_input_is_kept_whole_for_the_log() -> None:
    text = "x" * 50_000 + "end"
    [alert] = parse_event(sns_event(text))
    assert alert.raw_text == text  # the renderer cuts it for Slack; the handler logs it whole


def test_an_rds_event_is_read_with_its_category() -> None:
    # Given RDS's notification of a DB instance shutdown (RDS-EVENT-0004)
    [alert] = parse_event(load("sns_rds_event_shutdown.json"))
    # Then it is an RDS event, named by its source and message, in the availability category
    assert alert.source is SourceKind.RDS_EVENT
    assert alert.rds is not None
    assert (alert.rds.source_type, alert.rds.source_id) == ("db-instance", "peoplebooster-production-db")
    assert (alert.rds.event_code, alert.rds.category) == ("RDS-EVENT-0004", "availability")
    assert alert.alarm_name == "peoplebooster-production-db: DB instance shutdown"
    assert alert.rds.event_time == datetime(2026, 11, 29, 3, 2, 11, 123000, tzinfo=UTC)  # RDS writes UTC
    assert (alert.region, alert.account) == ("ap-northeast-1", "123456789012")


def test_an_rds_event_of_an_unknown_id_has_no_category_and_a_broken_one_is_kept() -> None:
    message = {"Event Source": "db-cluster", "Source ID": "c1", "Event Message": "Something new", "Event ID": "x"}
    [alert] = parse_event(sns_event(json.dumps(message)))
    assert alert.rds is not None
    assert (alert.rds.event_code, alert.rds.category, alert.rds.event_time) == (None, None, None)
    # And a message missing the keys of an RDS event is not one: it is shown as received
    [other] = parse_event(sns_event(json.dumps({"Event Source": "db-instance"})))
    assert other.source is SourceKind.UNPARSED
