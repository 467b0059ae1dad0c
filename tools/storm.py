"""An alarm storm: many CloudWatch alarms changing state at once, as SNS would deliver them (demo, bench).

    events = storm_events(200)          # 200 Lambda SNS events, one alarm state change each
    events = storm_events(200, state="OK")   # the same alarms recovering

The alarms are shaped like this stack's (tools/local_cloudwatch.py writes the same notification): per ECS
service a CPU and a memory alarm, per target group a 5xx (critical), an unhealthy-hosts and a latency
alarm, each with the `Severity:`, `Category:`, `Group:` and `Runbook:` lines the alarm factory writes, so
the router routes them to all three channels and groups them by resource.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from lambdas.shared.alarm_metadata import Category, Severity, format_alarm_description, resource_group

REGION = "ap-northeast-1"
ACCOUNT = "123456789012"
PREFIX = "peoplebooster-staging"
RUNBOOKS = "https://github.com/peoplebooster/monitoring/blob/main/docs/operations/runbooks"
# (alarm suffix, namespace, metric, statistic, threshold, severity, category, runbook, per: "service" | "tg")
KINDS = (
    ("cpu-high", "AWS/ECS", "CPUUtilization", "Average", 80.0, Severity.WARNING, Category.PERFORMANCE,
     "ecs-cpu-high", "service"),
    ("memory-high", "AWS/ECS", "MemoryUtilization", "Average", 85.0, Severity.WARNING, Category.PERFORMANCE,
     "ecs-memory-high", "service"),
    ("target-5xx", "AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "Sum", 10.0, Severity.CRITICAL,
     Category.ERRORS, "alb-5xx-errors", "tg"),
    ("unhealthy-targets", "AWS/ApplicationELB", "UnHealthyHostCount", "Maximum", 0.0, Severity.WARNING,
     Category.ERRORS, "alb-unhealthy-targets", "tg"),
    ("latency-high", "AWS/ApplicationELB", "TargetResponseTime", "p95", 3.0, Severity.WARNING,
     Category.PERFORMANCE, "alb-high-latency", "tg"),
)  # fmt: skip


def storm_events(count: int, *, state: str = "ALARM", at: float = 1_796_000_000.0) -> list[dict[str, Any]]:
    """`count` alarm notifications (ALARM, or OK for the recoveries), as `count` Lambda SNS events."""
    return [_event(index, state, at) for index in range(count)]


def _event(index: int, state: str, at: float) -> dict[str, Any]:
    kind, namespace, metric, statistic, threshold, severity, category, runbook, per = KINDS[index % len(KINDS)]
    unit = index // len(KINDS)
    if per == "service":
        dimensions = {"ClusterName": PREFIX, "ServiceName": f"{PREFIX}-svc{unit:02d}"}
        name = f"{PREFIX}-ecs-svc{unit:02d}-{kind}"
    else:
        dimensions = {
            "LoadBalancer": "app/peoplebooster-staging-alb/5f1c2d3e4a5b6c7d",
            "TargetGroup": f"targetgroup/pb-staging-svc{unit:02d}/{unit:016x}",
        }
        name = f"{PREFIX}-alb-svc{unit:02d}-{kind}"
    changed = datetime.fromtimestamp(at + index * 0.01, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"
    value = threshold * 1.5 + 1 if state == "ALARM" else threshold / 2
    verb = "greater than" if state == "ALARM" else "not greater than"
    message = {
        "AlarmName": name,
        "AlarmDescription": format_alarm_description(
            f"{metric} of svc{unit:02d} beyond {threshold:g}.",
            severity=severity,
            category=category,
            runbook_url=f"{RUNBOOKS}/{runbook}.md",
            group=resource_group(namespace, dimensions.items()),
        ),
        "AWSAccountId": ACCOUNT,
        "AlarmConfigurationUpdatedTimestamp": "2026-11-20T08:00:03.381+0000",
        "NewStateValue": state,
        "NewStateReason": (
            f"Threshold Crossed: 1 out of the last 1 datapoints [{value:g} (01/12/26 00:00:00)] was {verb}"
            f" the threshold ({threshold:g}) (minimum 1 datapoint for OK -> {state} transition)."
        ),
        "StateChangeTime": changed,
        "Region": "Asia Pacific (Tokyo)",
        "AlarmArn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{name}",
        "OldStateValue": "OK" if state == "ALARM" else "ALARM",
        "Trigger": {
            "MetricName": metric,
            "Namespace": namespace,
            "StatisticType": "ExtendedStatistic" if statistic.startswith("p") else "Statistic",
            ("ExtendedStatistic" if statistic.startswith("p") else "Statistic"): statistic,
            "Dimensions": [{"value": v, "name": k} for k, v in dimensions.items()],
            "Period": 60,
            "EvaluationPeriods": 1,
            "DatapointsToAlarm": 1,
            "ComparisonOperator": "GreaterThanThreshold",
            "Threshold": threshold,
            "TreatMissingData": "notBreaching",
        },
    }
    topic_arn = f"arn:aws:sns:{REGION}:{ACCOUNT}:{PREFIX}-alerts"
    message_id = hashlib.sha256(f"{name}|{state}|{at}".encode()).hexdigest()
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": f"{topic_arn}:storm",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": f"{message_id[:8]}-{message_id[8:12]}-{message_id[12:16]}-{message_id[16:28]}",
                    "TopicArn": topic_arn,
                    "Subject": f'{state}: "{name}" in Asia Pacific (Tokyo)'[:100],
                    "Message": json.dumps(message),
                    "Timestamp": changed.replace("+0000", "Z"),
                    "SignatureVersion": "1",
                    "Signature": "EXAMPLE",
                    "SigningCertUrl": f"https://sns.{REGION}.amazonaws.com/SimpleNotificationService.pem",
                    "UnsubscribeUrl": f"https://sns.{REGION}.amazonaws.com/?Action=Unsubscribe",
                    "MessageAttributes": {},
                },
            }
        ]
    }
