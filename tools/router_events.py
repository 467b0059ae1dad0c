"""The alert router's test events for the stack's own alarms, generated from the synthesized template.

    python -m tools.router_events            # (re)writes those events/alert_router/*.json (production)
    python -m tools.router_events --check    # exit 1 when one differs from what the template gives

Each event is the notification CloudWatch sends for one of the alarms the stack creates (SCENARIOS: which
alarm, which state change, which datapoints): its name, description (severity, category, runbook, first
step), metric, dimensions, statistic, period, threshold and missing-data treatment are the template's, so
the events cannot name an alarm the stack does not create, a runbook that does not exist, or a threshold
the alarm does not have (issue 17, item 12). The shapes are CloudWatch's: the SNS message of an alarm
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Notify_Users_Alarm_Changes.html, with the
fields CloudWatch writes) and the EventBridge `CloudWatch Alarm State Change` event
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html).
The other events (alarms made outside the stack: anomaly detection, composite, metric math; plain text,
RDS events, a malicious description) are written by hand; tests/infra/test_router_events.py checks that
they name no alarm of the stack's prefix that it lacks and link no runbook that does not exist.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

EVENTS_DIR = Path(__file__).resolve().parents[1] / "events" / "alert_router"
ENVIRONMENT = "production"
ACCOUNT = "123456789012"  # the events' example account (config leaves `account` unset)
REGION_NAMES = {"ap-northeast-1": "Asia Pacific (Tokyo)", "us-east-1": "US East (N. Virginia)"}
CONFIGURED_AT = "2026-11-20T08:00:03.381+0000"
_WORDS = {
    "GreaterThanThreshold": "greater than",
    "GreaterThanOrEqualToThreshold": "greater than or equal to",
    "LessThanThreshold": "less than",
    "LessThanOrEqualToThreshold": "less than or equal to",
}


@dataclass(frozen=True)
class Scenario:
    alarm: str  # the name after `<prefix>-`
    new: str  # ALARM | OK | INSUFFICIENT_DATA
    old: str
    at: str  # the state change, UTC (ISO, no zone)
    datapoints: tuple[float, ...] = ()  # newest first
    message_id: str = "00000000-0000-5000-8000-000000000000"
    summary: str | None = None  # replaces the description's first line (the Japanese event)
    legacy: bool = False  # an old message: no AlarmArn, no AlarmConfigurationUpdatedTimestamp


SCENARIOS: dict[str, tuple[str, Sequence[Scenario | str]]] = {
    # file: (kind, the records in order; a str is a record sent as it is)
    "sns_metric_alarm_ecs_cpu.json": (
        "sns",
        [Scenario("ecs-backend-cpu-high", "ALARM", "OK", "2026-11-29T03:14:15.926", (93.4, 91.2, 88.7, 86.1, 84.9),
                  "b2b6f2a0-8d3c-5b1e-9f0e-1c2d3e4f5a61")],
    ),
    "sns_ok_recovery.json": (
        "sns",
        [Scenario("ecs-backend-cpu-high", "OK", "ALARM", "2026-11-29T03:41:15.102", (41.2,),
                  "d4d8b4c2-af5e-5d30-b120-3e4f5a6b7c83")],
    ),
    "sns_percentile_alarm_alb_latency_p95.json": (
        "sns",
        [Scenario("alb-backend-latency-high", "ALARM", "OK", "2026-11-29T03:16:02.440",
                  (4.213, 3.871, 3.522, 3.308, 3.104), "c3c7a3b1-9e4d-5c2f-a01f-2d3e4f5a6b72")],
    ),
    "sns_alb_target_5xx.json": (
        "sns",
        [Scenario("alb-backend-target-5xx", "ALARM", "OK", "2026-11-29T03:15:01.733", (137.0,),
                  "d7e8f9a0-b1c2-5d3e-8f4a-5b6c7d8e9f0a")],
    ),
    "sns_synthetic_live_check_failing.json": (
        "sns",
        [Scenario("synthetic-live-failing", "ALARM", "OK", "2026-11-29T03:14:15.117", (0.0, 0.0, 0.0),
                  "a1257b3f-7c2b-5a0d-2efd-041526374853")],
    ),
    "sns_insufficient_data.json": (
        "sns",
        [Scenario("rds-cpu-high", "INSUFFICIENT_DATA", "OK", "2026-11-29T03:21:44.005", (),
                  "e5e9c5d3-b06f-5e41-c231-4f5a6b7c8d94")],
    ),
    "sns_japanese_description.json": (
        "sns",
        [Scenario("ecs-backend-memory-high", "ALARM", "OK", "2026-11-29T03:18:40.551", (88.0, 86.5, 84.2, 83.0, 81.7),
                  "5cd02cea-27d6-55b8-d9a8-bfc0d1e2f30b",
                  summary="バックエンドのメモリ使用率が80%を超えています（5分間）。担当：インフラチーム")],  # noqa: RUF001
    ),
    "sns_legacy_without_alarm_arn.json": (
        "sns",
        [Scenario("redis-001-memory-high", "ALARM", "OK", "2026-11-29T03:25:09.870", (86.3, 85.0, 84.1, 82.6, 81.2),
                  "29adf9b7-f4a3-5285-a675-8d9eafbfc0d8", legacy=True)],
    ),
    "eventbridge_alarm_state_change.json": (
        "eventbridge",
        [Scenario("rds-connections-high", "ALARM", "OK", "2026-11-29T03:20:41.204",
                  (1630.0, 1598.0, 1560.0, 1521.0, 1490.0), "c4c1c1c9-6542-e61b-6ef0-8c4d36933a92")],
    ),
    "sns_batch_with_bad_record.json": (
        "sns",
        [
            Scenario("ecs-backend-cpu-high", "ALARM", "OK", "2026-11-29T03:14:15.926", (93.4, 91.2, 88.7, 86.1, 84.9),
                     "7ef24e0c-49f8-57da-fbca-d1e2f3041520"),
            '{"AlarmName": "truncated',
            Scenario("alb-backend-unhealthy-targets", "ALARM", "OK", "2026-11-29T03:30:02.318",
                     (2.0, 1.0, 1.0, 1.0, 1.0), "90146a2e-6b1a-59fc-1dec-f30415263742"),
        ],
    ),
}  # fmt: skip


def alarms_of(template: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The template's alarms by name, their few intrinsic values resolved (a queue's name)."""
    resources = template["Resources"]
    found = {}
    for resource in resources.values():
        if resource["Type"] == "AWS::CloudWatch::Alarm":
            properties = _resolved(resource["Properties"], resources)
            found[properties["AlarmName"]] = properties
    return found


def _resolved(value: Any, resources: Mapping[str, Any]) -> Any:
    if isinstance(value, dict):
        if set(value) == {"Fn::GetAtt"} and value["Fn::GetAtt"][1] == "QueueName":
            return resources[value["Fn::GetAtt"][0]]["Properties"]["QueueName"]
        return {key: _resolved(item, resources) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolved(item, resources) for item in value]
    return value


def generate(name: str, template: Mapping[str, Any], *, prefix: str, region: str) -> dict[str, Any]:
    kind, records = SCENARIOS[name]
    alarms = alarms_of(template)
    topic = f"arn:aws:sns:{region}:{ACCOUNT}:{prefix}-alerts"
    if kind == "eventbridge":
        (scenario,) = records
        assert isinstance(scenario, Scenario)
        return _eventbridge(scenario, alarms[f"{prefix}-{scenario.alarm}"], region)
    built = []
    for record in records:
        if isinstance(record, str):
            built.append(_sns_record(record, topic, "ALARM", "8f035f1d-5a09-58eb-0cdb-e2f304152631", None))
            continue
        properties = alarms[f"{prefix}-{record.alarm}"]
        message = _sns_message(record, properties, region, topic)
        subject = f'{record.new}: "{properties["AlarmName"]}" in {REGION_NAMES[region]}'
        built.append(
            _sns_record(json.dumps(message, ensure_ascii=False), topic, record.new, record.message_id, subject)
        )
    return {"Records": built}


def _sns_record(message: str, topic: str, state: str, message_id: str, subject: str | None) -> dict[str, Any]:
    return {
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "EventSubscriptionArn": f"{topic}:2f7c7a4e-5b1d-4e8a-9a43-0c1f6d5f7e21",
        "Sns": {
            "Type": "Notification",
            "MessageId": message_id,
            "TopicArn": topic,
            "Subject": (subject or f"{state}: notification")[:100],
            "Message": message,
            "Timestamp": "2026-11-29T03:14:16.012Z",
            "SignatureVersion": "1",
            "Signature": "EXAMPLE",
            "SigningCertUrl": "https://sns.ap-northeast-1.amazonaws.com/SimpleNotificationService-EXAMPLE.pem",
            "UnsubscribeUrl": f"https://sns.ap-northeast-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={topic}",
            "MessageAttributes": {},
        },
    }


def _description(scenario: Scenario, properties: Mapping[str, Any]) -> str:
    description: str = properties["AlarmDescription"]
    if scenario.summary is None:
        return description
    return scenario.summary + "\n" + description.split("\n", 1)[1]


def _dimensions(properties: Mapping[str, Any]) -> list[dict[str, str]]:
    """CloudFormation's `{"Name", "Value"}` dimensions as SNS sends them (`{"value", "name"}`)."""
    return [{"value": item["Value"], "name": item["Name"]} for item in properties.get("Dimensions", [])]


def _math_queries(properties: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A metric-math alarm's `Metrics` as SNS sends them (events/alert_router/sns_metric_math_alarm.json)."""
    queries = []
    for query in properties["Metrics"]:
        if "Expression" in query:
            entry = {"Expression": query["Expression"], "Id": query["Id"], "Label": query.get("Label", "")}
        else:
            stat, metric = query["MetricStat"], query["MetricStat"]["Metric"]
            entry = {
                "Id": query["Id"],
                "MetricStat": {
                    "Metric": {
                        "Dimensions": _dimensions(metric),
                        "MetricName": metric["MetricName"],
                        "Namespace": metric["Namespace"],
                    },
                    "Period": stat["Period"],
                    "Stat": stat["Stat"],
                },
            }
        queries.append(entry | {"ReturnData": query.get("ReturnData", True)})
    return queries


def _period(properties: Mapping[str, Any]) -> int:
    """The alarm's period: its own, or (metric math) that of its first metric."""
    if "Period" in properties:
        return int(properties["Period"])
    return int(next(q["MetricStat"]["Period"] for q in properties["Metrics"] if "MetricStat" in q))


def _sns_message(scenario: Scenario, properties: Mapping[str, Any], region: str, topic: str) -> dict[str, Any]:
    trigger: dict[str, Any] = {}
    if "Metrics" in properties:
        trigger |= {"Period": _period(properties)}
    else:
        trigger |= {"MetricName": properties["MetricName"], "Namespace": properties["Namespace"]}
        if "ExtendedStatistic" in properties:
            trigger |= {"StatisticType": "ExtendedStatistic", "ExtendedStatistic": properties["ExtendedStatistic"]}
        else:
            trigger |= {"StatisticType": "Statistic", "Statistic": properties["Statistic"].upper()}
        trigger |= {"Unit": None, "Dimensions": _dimensions(properties), "Period": properties["Period"]}
    trigger |= {
        "EvaluationPeriods": properties["EvaluationPeriods"],
        "DatapointsToAlarm": properties.get("DatapointsToAlarm", properties["EvaluationPeriods"]),
        "ComparisonOperator": properties["ComparisonOperator"],
        "Threshold": float(properties["Threshold"]),
        "TreatMissingData": properties.get("TreatMissingData", "missing"),
        "EvaluateLowSampleCountPercentile": "",
    }
    if "Metrics" in properties:
        trigger["Metrics"] = _math_queries(properties)
    arn = f"arn:aws:cloudwatch:{region}:{ACCOUNT}:alarm:{properties['AlarmName']}"
    message: dict[str, Any] = {
        "AlarmName": properties["AlarmName"],
        "AlarmDescription": _description(scenario, properties),
        "AWSAccountId": ACCOUNT,
        "AlarmConfigurationUpdatedTimestamp": CONFIGURED_AT,
        "NewStateValue": scenario.new,
        "NewStateReason": reason(scenario, properties),
        "StateChangeTime": f"{scenario.at}+0000",
        "Region": REGION_NAMES[region],
        "AlarmArn": arn,
        "OldStateValue": scenario.old,
        "OKActions": [topic],
        "AlarmActions": [topic],
        "InsufficientDataActions": [topic] if properties.get("InsufficientDataActions") else [],
        "Trigger": trigger,
    }
    if scenario.legacy:
        del message["AlarmArn"], message["AlarmConfigurationUpdatedTimestamp"]
    return message


def reason(scenario: Scenario, properties: Mapping[str, Any]) -> str:
    """NewStateReason in CloudWatch's words, from the alarm's threshold and the scenario's datapoints."""
    evaluation = int(properties["EvaluationPeriods"])
    needed = int(properties.get("DatapointsToAlarm", evaluation))
    if scenario.new == "INSUFFICIENT_DATA":
        return f"Insufficient Data: {evaluation} datapoint{'s were' if evaluation != 1 else ' was'} unknown."
    period = timedelta(seconds=_period(properties))
    start = datetime.fromisoformat(scenario.at).replace(second=0, microsecond=0) - period
    points = ", ".join(
        f"{value} ({start - i * period:%d/%m/%y %H:%M:%S})" for i, value in enumerate(scenario.datapoints)
    )
    words = _WORDS[properties["ComparisonOperator"]]
    threshold = float(properties["Threshold"])
    count = len(scenario.datapoints)
    if scenario.new == "OK":
        return (
            f"Threshold Crossed: {count} out of the last {evaluation} datapoints [{points}] was not {words} the"
            f" threshold ({threshold}) (minimum 1 datapoint for ALARM -> OK transition)."
        )
    verb = "was" if count == 1 else "were"
    return (
        f"Threshold Crossed: {count} out of the last {evaluation} datapoints [{points}] {verb} {words} the threshold"
        f" ({threshold}) (minimum {needed} datapoint{'s' if needed != 1 else ''} for OK -> ALARM transition)."
    )


def _eventbridge(scenario: Scenario, properties: Mapping[str, Any], region: str) -> dict[str, Any]:
    arn = f"arn:aws:cloudwatch:{region}:{ACCOUNT}:alarm:{properties['AlarmName']}"
    reason_data = {
        "version": "1.0",
        "queryDate": f"{scenario.at}+0000",
        "statistic": properties["Statistic"],
        "period": properties["Period"],
        "recentDatapoints": list(reversed(scenario.datapoints)),
        "threshold": float(properties["Threshold"]),
    }
    return {
        "version": "0",
        "id": scenario.message_id,
        "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch",
        "account": ACCOUNT,
        "time": scenario.at[:19] + "Z",
        "region": region,
        "resources": [arn],
        "detail": {
            "alarmName": properties["AlarmName"],
            "state": {
                "value": scenario.new,
                "reason": reason(scenario, properties),
                "reasonData": json.dumps(reason_data),
                "timestamp": f"{scenario.at}+0000",
            },
            "previousState": {"value": scenario.old, "timestamp": "2026-11-28T22:41:00.312+0000"},
            "configuration": {
                "description": _description(scenario, properties),
                "metrics": [
                    {
                        "id": "m1",
                        "metricStat": {
                            "metric": {
                                "namespace": properties["Namespace"],
                                "name": properties["MetricName"],
                                "dimensions": {
                                    item["Name"]: item["Value"] for item in properties.get("Dimensions", [])
                                },
                            },
                            "period": properties["Period"],
                            "stat": properties["Statistic"],
                        },
                        "returnData": True,
                    }
                ],
            },
        },
    }


def render(event: Mapping[str, Any]) -> str:
    return json.dumps(event, ensure_ascii=False, indent=2) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 on a difference")
    args = parser.parse_args(argv)
    from infra.config import load_config  # noqa: PLC0415 - synthesis is the slow part
    from tools.synth_all import synth_templates  # noqa: PLC0415

    config = load_config(ENVIRONMENT)
    (path,) = synth_templates(Path("build/router-events"), (ENVIRONMENT,))
    template = json.loads(Path(path).read_text(encoding="utf-8"))
    stale = []
    for name in SCENARIOS:
        text = render(generate(name, template, prefix=config.prefix, region=config.region or "ap-northeast-1"))
        file = EVENTS_DIR / name
        if file.exists() and file.read_text(encoding="utf-8") == text:
            continue
        stale.append(name)
        if not args.check:
            file.write_text(text, encoding="utf-8")
    if stale:
        print(("differs from the template: " if args.check else "written: ") + ", ".join(stale))
    return 1 if stale and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
