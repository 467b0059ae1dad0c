"""Every service alarm of the report's table, checked field by field on the synthesized template."""

from __future__ import annotations

from typing import Any

import pytest

from lambdas.shared.alarm_metadata import parse_alarm_metadata
from tests.infra.conftest import Synthesized

# name suffix, namespace, metric, dimensions, statistic, period, evaluation periods, threshold, missing data,
# severity, category, runbook file
STAGING_ALARMS: list[tuple[str, str, str, dict[str, str], str, int, int, float, str, str, str, str]] = [
    ("ecs-backend-cpu-high", "AWS/ECS", "CPUUtilization",
     {"ClusterName": "peoplebooster-staging", "ServiceName": "peoplebooster-staging-backend"},
     "Average", 60, 5, 80, "notBreaching", "warning", "performance", "ecs-cpu-high"),
    ("ecs-frontend-cpu-high", "AWS/ECS", "CPUUtilization",
     {"ClusterName": "peoplebooster-staging", "ServiceName": "peoplebooster-staging-frontend"},
     "Average", 60, 5, 80, "notBreaching", "warning", "performance", "ecs-cpu-high"),
    ("ecs-backend-memory-high", "AWS/ECS", "MemoryUtilization",
     {"ClusterName": "peoplebooster-staging", "ServiceName": "peoplebooster-staging-backend"},
     "Average", 60, 5, 80, "notBreaching", "warning", "performance", "ecs-memory-high"),
    ("ecs-frontend-memory-high", "AWS/ECS", "MemoryUtilization",
     {"ClusterName": "peoplebooster-staging", "ServiceName": "peoplebooster-staging-frontend"},
     "Average", 60, 5, 80, "notBreaching", "warning", "performance", "ecs-memory-high"),
    ("alb-target-5xx", "AWS/ApplicationELB", "HTTPCode_Target_5XX_Count",
     {"LoadBalancer": "app/peoplebooster-staging-alb/5f1c2d3e4a5b6c7d"},
     "Sum", 300, 1, 10, "notBreaching", "critical", "errors", "alb-5xx-errors"),
    ("alb-elb-5xx", "AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count",
     {"LoadBalancer": "app/peoplebooster-staging-alb/5f1c2d3e4a5b6c7d"},
     "Sum", 300, 1, 10, "notBreaching", "critical", "errors", "alb-5xx-errors"),
    ("alb-latency-high", "AWS/ApplicationELB", "TargetResponseTime",
     {"LoadBalancer": "app/peoplebooster-staging-alb/5f1c2d3e4a5b6c7d"},
     "p95", 60, 5, 3, "notBreaching", "warning", "performance", "alb-high-latency"),
    ("rds-connections-high", "AWS/RDS", "DatabaseConnections",
     {"DBInstanceIdentifier": "peoplebooster-staging-db"},
     "Maximum", 60, 5, 72, "missing", "warning", "performance", "rds-connections-high"),
    ("rds-cpu-high", "AWS/RDS", "CPUUtilization",
     {"DBInstanceIdentifier": "peoplebooster-staging-db"},
     "Average", 60, 5, 80, "missing", "warning", "performance", "rds-cpu-high"),
    ("redis-001-memory-high", "AWS/ElastiCache", "DatabaseMemoryUsagePercentage",
     {"CacheClusterId": "peoplebooster-staging-redis-001", "CacheNodeId": "0001"},
     "Maximum", 60, 5, 80, "missing", "warning", "performance", "redis-memory-high"),
    ("redis-001-connections-high", "AWS/ElastiCache", "CurrConnections",
     {"CacheClusterId": "peoplebooster-staging-redis-001", "CacheNodeId": "0001"},
     "Maximum", 60, 5, 1000, "missing", "warning", "performance", "redis-connections-high"),
]  # fmt: skip


@pytest.mark.parametrize("expected", STAGING_ALARMS, ids=[row[0] for row in STAGING_ALARMS])
def test_service_alarm_matches_the_report(staging: Synthesized, expected: tuple[Any, ...]) -> None:
    # Given the expected definition from the report's alarm table
    (suffix, namespace, metric, dimensions, statistic, period, evaluations, threshold, missing,
     severity, category, runbook) = expected  # fmt: skip
    # When the staging template is read
    alarm = staging.alarms_by_name()[f"peoplebooster-staging-{suffix}"]
    # Then every field is as designed
    assert alarm["Namespace"] == namespace
    assert alarm["MetricName"] == metric
    assert {d["Name"]: d["Value"] for d in alarm["Dimensions"]} == dimensions
    if statistic.startswith("p"):
        assert alarm["ExtendedStatistic"] == statistic
        assert "Statistic" not in alarm
    else:
        assert alarm["Statistic"] == statistic
    assert alarm["Period"] == period
    assert alarm["EvaluationPeriods"] == evaluations
    assert alarm["DatapointsToAlarm"] == evaluations
    assert alarm["Threshold"] == pytest.approx(threshold)
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["TreatMissingData"] == missing
    assert alarm["AlarmActions"] == [staging.topic_ref()]
    assert alarm["OKActions"] == [staging.topic_ref()]
    metadata = parse_alarm_metadata(alarm["AlarmDescription"])
    assert metadata.severity == severity
    assert metadata.category == category
    assert metadata.runbook_url == (
        f"https://github.com/peoplebooster/monitoring/blob/main/docs/operations/runbooks/{runbook}.md"
    )


def test_every_service_alarm_is_expected(staging: Synthesized) -> None:
    # Given the alarms of the service (the router, the monitor and the Sentry intake add their own)
    others = ("peoplebooster-staging-router", "peoplebooster-staging-synthetic", "peoplebooster-staging-sentry-intake")
    names = {name for name in staging.alarms_by_name() if not name.startswith(others)}
    # Then they are exactly the table above: nothing missing, nothing unreviewed
    assert names == {f"peoplebooster-staging-{row[0]}" for row in STAGING_ALARMS}


def test_production_alarms_each_redis_node_and_scales_rds_threshold(production: Synthesized) -> None:
    alarms = production.alarms_by_name()
    # Given two Redis nodes and max_connections 405 in config/production.yaml
    for node in ("001", "002"):
        assert f"peoplebooster-production-redis-{node}-memory-high" in alarms
        assert f"peoplebooster-production-redis-{node}-connections-high" in alarms
    # Then the RDS threshold is 80% of 405
    assert alarms["peoplebooster-production-rds-connections-high"]["Threshold"] == pytest.approx(324)


def test_every_alarm_carries_routing_metadata_and_both_actions(synthesized: dict[str, Synthesized]) -> None:
    for synth in synthesized.values():
        for name, alarm in synth.alarms_by_name().items():
            metadata = parse_alarm_metadata(alarm["AlarmDescription"])
            assert metadata.severity is not None, name
            assert metadata.category is not None, name
            assert metadata.runbook_url is not None, name
            assert alarm["AlarmActions"], name
            assert alarm["OKActions"], name
            assert name.startswith(f"{synth.config.prefix}-"), name
