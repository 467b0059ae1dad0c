"""EventBridge `CloudWatch Alarm State Change` events parsed field by field (metric, metric math, composite).

The event shape is AWS's: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html
(lower-case keys; `state.reasonData` is JSON text; `configuration.metrics` entries carry `metricStat` or an
`expression`; a composite alarm has `configuration.alarmRule` and its children in `reasonData.triggeringAlarms`).
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lambdas.alert_router.intake.cloudwatch import parse_eventbridge
from lambdas.alert_router.models import AlarmKind, Alert, MetricQuery, SourceKind, State

FIXTURE = Path(__file__).resolve().parents[3] / "events" / "alert_router" / "eventbridge_alarm_state_change.json"
ALARM_ARN = "arn:aws:cloudwatch:ap-northeast-1:123456789012:alarm:peoplebooster-production-rds-connections-high"


def fixture() -> dict[str, Any]:
    event: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
    return event


def test_a_metric_alarms_state_change_gives_every_fact() -> None:
    event = fixture()
    description = event["detail"]["configuration"]["description"]
    reason = event["detail"]["state"]["reason"]
    alert = parse_eventbridge(event, subject="s", topic_arn="arn:aws:sns:ap-northeast-1:123456789012:t")
    assert alert == Alert(
        source=SourceKind.EVENTBRIDGE_ALARM,
        message_id="c4c1c1c9-6542-e61b-6ef0-8c4d36933a92",  # the event's id when no SNS MessageId is given
        alarm_kind=AlarmKind.METRIC,
        state=State.ALARM,
        previous_state=State.OK,
        alarm_name="peoplebooster-production-rds-connections-high",
        description=description,
        reason=reason,
        region="ap-northeast-1",
        partition="aws",
        account="123456789012",
        alarm_arn=ALARM_ARN,
        state_change_time=datetime(2026, 11, 29, 3, 20, 41, 204000, tzinfo=UTC),
        namespace="AWS/RDS",
        metric_name="DatabaseConnections",
        dimensions=(("DBInstanceIdentifier", "peoplebooster-production-db"),),
        statistic="Maximum",
        threshold=1441.6,
        comparison="GreaterThanThreshold",
        period=60,
        datapoints=(1630.0, 1598.0, 1560.0, 1521.0, 1490.0),  # newest first (reasonData lists them oldest first)
        subject="s",
        topic_arn="arn:aws:sns:ap-northeast-1:123456789012:t",
    )


def test_an_sns_message_id_wins_over_the_events_id() -> None:
    assert parse_eventbridge(fixture(), message_id="sns-7").message_id == "sns-7"


def test_facts_missing_from_the_event_come_from_the_alarm_arn_the_reason_and_the_event_time() -> None:
    # Given an event without alarmName, region, account, state timestamp, reasonData or metric stat/period
    event = fixture()
    del event["detail"]["alarmName"], event["region"], event["account"]
    del event["detail"]["state"]["timestamp"], event["detail"]["state"]["reasonData"]
    event["resources"] = [7, "arn:aws:rds:ap-northeast-1:123456789012:db:x", ALARM_ARN]
    metric = event["detail"]["configuration"]["metrics"][0]
    del metric["metricStat"]["period"], metric["metricStat"]["stat"]
    metric["period"] = 300  # the entry's own period is read when the stat has none
    alert = parse_eventbridge(event)
    assert alert.alarm_name == "peoplebooster-production-rds-connections-high"
    assert (alert.region, alert.account, alert.alarm_arn) == ("ap-northeast-1", "123456789012", ALARM_ARN)
    assert alert.state_change_time == datetime(2026, 11, 29, 3, 20, 41, tzinfo=UTC)  # the event's `time`
    assert alert.datapoints == (1630.0, 1598.0, 1560.0, 1521.0, 1490.0)  # read from the reason text
    assert (alert.statistic, alert.unit, alert.threshold, alert.period) == (None, None, None, 300)


def test_the_unit_and_statistic_of_reason_data_are_read() -> None:
    event = fixture()
    del event["detail"]["configuration"]["metrics"][0]["metricStat"]["stat"]
    reason_data = json.loads(event["detail"]["state"]["reasonData"])
    event["detail"]["state"]["reasonData"] = json.dumps(
        {**reason_data, "unit": "Count", "statistic": "Maximum", "recentDatapoints": [1.5, "x", 2]}
    )
    alert = parse_eventbridge(event)
    assert (alert.unit, alert.statistic, alert.datapoints) == ("Count", "Maximum", (2.0, 1.5))


def _metric_math(event: dict[str, Any]) -> dict[str, Any]:
    event = copy.deepcopy(event)
    stat = event["detail"]["configuration"]["metrics"][0]["metricStat"]
    event["detail"]["configuration"]["metrics"] = [
        {"id": "e1", "expression": "m1 * 100 / 90", "label": "Connections %", "returnData": True},
        {"id": "m1", "metricStat": stat, "returnData": False},
        "not an entry",
    ]
    return event


def test_a_metric_math_alarm_keeps_each_query_and_no_single_metric() -> None:
    alert = parse_eventbridge(_metric_math(fixture()))
    assert alert.alarm_kind is AlarmKind.METRIC_MATH
    assert alert.metrics == (
        MetricQuery(id="e1", expression="m1 * 100 / 90", label="Connections %", return_data=True),
        MetricQuery(
            id="m1",
            namespace="AWS/RDS",
            metric_name="DatabaseConnections",
            dimensions=(("DBInstanceIdentifier", "peoplebooster-production-db"),),
            stat="Maximum",
            period=60,
        ),
    )
    assert (alert.namespace, alert.metric_name, alert.dimensions) == (None, None, ())
    assert (alert.statistic, alert.period) == ("Maximum", 60)  # from reasonData


def test_an_anomaly_band_or_a_threshold_metric_makes_an_anomaly_alarm() -> None:
    event = _metric_math(fixture())
    event["detail"]["configuration"]["metrics"][0]["expression"] = "ANOMALY_DETECTION_BAND(m1, 2)"
    assert parse_eventbridge(event).alarm_kind is AlarmKind.ANOMALY
    event = _metric_math(fixture())
    event["detail"]["configuration"]["thresholdMetricId"] = "e1"
    alert = parse_eventbridge(event)
    assert (alert.alarm_kind, alert.threshold_metric_id) == (AlarmKind.ANOMALY, "e1")


def test_an_entry_without_an_id_is_shown_as_a_question_mark() -> None:
    event = _metric_math(fixture())
    del event["detail"]["configuration"]["metrics"][0]["id"]
    assert parse_eventbridge(event).metrics[0].id == "?"


def test_a_composite_alarm_names_the_children_that_triggered_it() -> None:
    event = fixture()
    configuration = event["detail"]["configuration"]
    del configuration["metrics"]
    configuration["alarmRule"] = 'ALARM("a") AND ALARM("b")'
    prefix = "arn:aws:cloudwatch:ap-northeast-1:123456789012:alarm:"
    event["detail"]["state"]["reasonData"] = json.dumps(
        {
            "triggeringAlarms": [
                {"arn": prefix + "a", "state": {"value": "ALARM"}},
                {"arn": "arn:aws:sns:ap-northeast-1:123456789012:not-an-alarm"},
                "not an entry",
                {"arn": prefix + "b"},
            ]
        }
    )
    alert = parse_eventbridge(event)
    assert (alert.alarm_kind, alert.alarm_rule) == (AlarmKind.COMPOSITE, 'ALARM("a") AND ALARM("b")')
    assert alert.triggering_children == ("a", "b")


def test_an_unknown_state_keeps_the_event_as_received() -> None:
    event = fixture()
    event["detail"]["state"]["value"] = "EXPLODED"
    alert = parse_eventbridge(event)
    assert alert.state is None
    assert alert.raw_text is not None
    assert json.loads(alert.raw_text) == event
    assert parse_eventbridge(fixture()).raw_text is None
