"""Every service alarm (ECS, ALB and its target groups, RDS, Redis), checked field by field on the template.

The table is the reviewed design: thresholds from the report and from AWS's recommended alarms, the
treatment of missing data, and which alarm of each resource sends INSUFFICIENT_DATA ("monitoring blind").
docs/operations/decisions.md (issue 11) has the same table with the reasons.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from lambdas.shared.alarm_metadata import parse_alarm_metadata
from tests.infra.conftest import Synthesized

ECS = {"ClusterName": "peoplebooster-staging"}
BACKEND_SVC = {**ECS, "ServiceName": "peoplebooster-staging-backend"}
FRONTEND_SVC = {**ECS, "ServiceName": "peoplebooster-staging-frontend"}
ALB = {"LoadBalancer": "app/peoplebooster-staging-alb/5f1c2d3e4a5b6c7d"}
BACKEND = {"TargetGroup": "targetgroup/pb-staging-backend/1a2b3c4d5e6f7a8b", **ALB}
FRONTEND = {"TargetGroup": "targetgroup/pb-staging-frontend/8b7a6f5e4d3c2b1a", **ALB}
RDS = {"DBInstanceIdentifier": "peoplebooster-staging-db"}
REDIS = {"CacheClusterId": "peoplebooster-staging-redis-001", "CacheNodeId": "0001"}
GIB, MIB = 1024**3, 1024**2


@dataclass(frozen=True)
class Expected:
    suffix: str
    namespace: str
    metric: str
    dimensions: dict[str, str]
    statistic: str
    period: int
    evaluations: int
    comparison: str
    threshold: float
    missing: str
    severity: str
    category: str
    runbook: str
    blind_notice: bool = False  # INSUFFICIENT_DATA goes to the alert topic


GT, LT = "GreaterThanThreshold", "LessThanThreshold"
STAGING_ALARMS = [
    Expected("ecs-backend-cpu-high", "AWS/ECS", "CPUUtilization", BACKEND_SVC,
             "Average", 60, 5, GT, 80, "missing", "warning", "performance", "ecs-cpu-high", blind_notice=True),
    Expected("ecs-frontend-cpu-high", "AWS/ECS", "CPUUtilization", FRONTEND_SVC,
             "Average", 60, 5, GT, 80, "missing", "warning", "performance", "ecs-cpu-high", blind_notice=True),
    Expected("ecs-backend-memory-high", "AWS/ECS", "MemoryUtilization", BACKEND_SVC,
             "Average", 60, 5, GT, 80, "missing", "warning", "performance", "ecs-memory-high"),
    Expected("ecs-frontend-memory-high", "AWS/ECS", "MemoryUtilization", FRONTEND_SVC,
             "Average", 60, 5, GT, 80, "missing", "warning", "performance", "ecs-memory-high"),
    Expected("alb-elb-5xx", "AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", ALB,
             "Sum", 300, 1, GT, 10, "notBreaching", "critical", "errors", "alb-5xx-errors"),
    Expected("alb-backend-target-5xx", "AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", BACKEND,
             "Sum", 300, 1, GT, 10, "notBreaching", "critical", "errors", "alb-5xx-errors"),
    Expected("alb-frontend-target-5xx", "AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", FRONTEND,
             "Sum", 300, 1, GT, 10, "notBreaching", "critical", "errors", "alb-5xx-errors"),
    Expected("alb-backend-no-healthy-targets", "AWS/ApplicationELB", "HealthyHostCount", BACKEND,
             "Minimum", 60, 5, LT, 1, "missing", "critical", "errors", "alb-no-healthy-targets", blind_notice=True),
    Expected("alb-frontend-no-healthy-targets", "AWS/ApplicationELB", "HealthyHostCount", FRONTEND,
             "Minimum", 60, 5, LT, 1, "missing", "critical", "errors", "alb-no-healthy-targets", blind_notice=True),
    Expected("alb-backend-unhealthy-targets", "AWS/ApplicationELB", "UnHealthyHostCount", BACKEND,
             "Maximum", 60, 5, GT, 0, "missing", "warning", "errors", "alb-unhealthy-targets"),
    Expected("alb-frontend-unhealthy-targets", "AWS/ApplicationELB", "UnHealthyHostCount", FRONTEND,
             "Maximum", 60, 5, GT, 0, "missing", "warning", "errors", "alb-unhealthy-targets"),
    # 80% of max_connections 225 (db.t4g.small: 2 GiB / 9531392)
    Expected("rds-connections-high", "AWS/RDS", "DatabaseConnections", RDS,
             "Maximum", 60, 5, GT, 180, "missing", "warning", "performance", "rds-connections-high"),
    Expected("rds-cpu-high", "AWS/RDS", "CPUUtilization", RDS,
             "Average", 60, 5, GT, 80, "missing", "warning", "performance", "rds-cpu-high", blind_notice=True),
    # 10% of 20 GiB allocated, 25% of 2 GiB memory
    Expected("rds-free-storage-low", "AWS/RDS", "FreeStorageSpace", RDS,
             "Minimum", 60, 5, LT, 2 * GIB, "missing", "warning", "errors", "rds-free-storage-low"),
    Expected("rds-freeable-memory-low", "AWS/RDS", "FreeableMemory", RDS,
             "Average", 60, 15, LT, 512 * MIB, "missing", "warning", "performance", "rds-freeable-memory-low"),
    Expected("redis-001-memory-high", "AWS/ElastiCache", "DatabaseMemoryUsagePercentage", REDIS,
             "Maximum", 60, 5, GT, 80, "missing", "warning", "performance", "redis-memory-high", blind_notice=True),
    Expected("redis-001-connections-high", "AWS/ElastiCache", "CurrConnections", REDIS,
             "Maximum", 60, 5, GT, 1000, "missing", "warning", "performance", "redis-connections-high"),
    Expected("redis-001-engine-cpu-high", "AWS/ElastiCache", "EngineCPUUtilization", REDIS,
             "Average", 60, 5, GT, 90, "missing", "warning", "performance", "redis-engine-cpu-high"),
    Expected("redis-001-evictions", "AWS/ElastiCache", "Evictions", REDIS,
             "Sum", 60, 5, GT, 0, "missing", "warning", "performance", "redis-evictions"),
]  # fmt: skip


@pytest.mark.parametrize("expected", STAGING_ALARMS, ids=[row.suffix for row in STAGING_ALARMS])
def test_service_alarm_matches_the_design(staging: Synthesized, expected: Expected) -> None:
    # When the staging template is read
    alarm = staging.alarms_by_name()[f"peoplebooster-staging-{expected.suffix}"]
    # Then every field is as designed
    assert alarm["Namespace"] == expected.namespace
    assert alarm["MetricName"] == expected.metric
    assert {d["Name"]: d["Value"] for d in alarm["Dimensions"]} == expected.dimensions
    if expected.statistic.startswith("p"):
        assert alarm["ExtendedStatistic"] == expected.statistic
        assert "Statistic" not in alarm
    else:
        assert alarm["Statistic"] == expected.statistic
    assert alarm["Period"] == expected.period
    assert alarm["EvaluationPeriods"] == alarm["DatapointsToAlarm"] == expected.evaluations
    assert alarm["Threshold"] == pytest.approx(expected.threshold)
    assert alarm["ComparisonOperator"] == expected.comparison
    assert alarm["TreatMissingData"] == expected.missing
    assert alarm["AlarmActions"] == [staging.topic_ref()]
    assert alarm["OKActions"] == [staging.topic_ref()]
    assert alarm.get("InsufficientDataActions", []) == ([staging.topic_ref()] if expected.blind_notice else [])
    metadata = parse_alarm_metadata(alarm["AlarmDescription"])
    assert (metadata.severity, metadata.category) == (expected.severity, expected.category)
    assert metadata.runbook_url == (
        f"https://github.com/peoplebooster/monitoring/blob/main/docs/operations/runbooks/{expected.runbook}.md"
    )


@dataclass(frozen=True)
class Gated:
    """A metric-math alarm: `expression` over the metrics in `inputs` (id -> metric name, statistic)."""

    suffix: str
    dimensions: dict[str, str]
    expression: str
    inputs: dict[str, tuple[str, str]]
    period: int
    evaluations: int
    threshold: float
    severity: str
    category: str
    runbook: str


P95_OF_BUSY_MINUTES = {"p95": ("TargetResponseTime", "p95"), "requests": ("RequestCount", "Sum")}
FIVE_XX_SHARE = {"errors": ("HTTPCode_Target_5XX_Count", "Sum"), "requests": ("RequestCount", "Sum")}
# Judged only with enough requests (thresholds.alb_latency_min_requests 50 per minute, alb_5xx_rate_min_requests
# 20 per window); tests/infra/test_metric_math_alarms.py evaluates the expressions as CloudWatch documents them.
STAGING_GATED_ALARMS = [
    *[
        Gated(f"alb-{tg}-latency-high", dims, "IF(requests >= 50, p95, 0)", P95_OF_BUSY_MINUTES,
              60, 5, 3, "warning", "performance", "alb-high-latency")
        for tg, dims in (("backend", BACKEND), ("frontend", FRONTEND))
    ],
    *[
        Gated(f"alb-{tg}-5xx-rate", dims, "IF(requests >= 20, 100 * errors / requests, 0)", FIVE_XX_SHARE,
              300, 1, 5, "critical", "errors", "alb-5xx-errors")
        for tg, dims in (("backend", BACKEND), ("frontend", FRONTEND))
    ],
]  # fmt: skip


@pytest.mark.parametrize("expected", STAGING_GATED_ALARMS, ids=[row.suffix for row in STAGING_GATED_ALARMS])
def test_request_gated_alarm_matches_the_design(staging: Synthesized, expected: Gated) -> None:
    alarm = staging.alarms_by_name()[f"peoplebooster-staging-{expected.suffix}"]
    # Then the alarm watches exactly one returned expression (PutMetricAlarm: one item has ReturnData true)
    # https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html
    (returned,) = [query for query in alarm["Metrics"] if query["ReturnData"]]
    assert returned["Expression"] == expected.expression
    assert "MetricName" not in alarm  # Metrics excludes the single-metric fields
    assert "Namespace" not in alarm
    # And its inputs are the target group's own metrics, each over the alarm's period
    inputs = {query["Id"]: query["MetricStat"] for query in alarm["Metrics"] if "MetricStat" in query}
    assert {i: (stat["Metric"]["MetricName"], stat["Stat"]) for i, stat in inputs.items()} == expected.inputs
    for stat in inputs.values():
        assert stat["Metric"]["Namespace"] == "AWS/ApplicationELB"
        assert {d["Name"]: d["Value"] for d in stat["Metric"]["Dimensions"]} == expected.dimensions
        assert stat["Period"] == expected.period
    assert alarm["EvaluationPeriods"] == alarm["DatapointsToAlarm"] == expected.evaluations
    assert alarm["Threshold"] == pytest.approx(expected.threshold)
    assert alarm["ComparisonOperator"] == GT
    assert alarm["TreatMissingData"] == "notBreaching"  # no requests at all: no datapoint, nothing to judge
    assert alarm["AlarmActions"] == alarm["OKActions"] == [staging.topic_ref()]
    metadata = parse_alarm_metadata(alarm["AlarmDescription"])
    assert (metadata.severity, metadata.category) == (expected.severity, expected.category)
    assert metadata.runbook_url is not None
    assert metadata.runbook_url.endswith(f"/runbooks/{expected.runbook}.md")


def test_every_service_alarm_is_expected(staging: Synthesized) -> None:
    # Given the alarms of the service (the router, the monitor and the Sentry intake add their own)
    others = tuple(
        f"peoplebooster-staging-{function}" for function in ("router", "synthetic", "sentry-intake", "slack-actions")
    )
    names = {name for name in staging.alarms_by_name() if not name.startswith(others)}
    # Then they are exactly the tables above: nothing missing, nothing unreviewed
    designed = [row.suffix for row in STAGING_ALARMS] + [row.suffix for row in STAGING_GATED_ALARMS]
    assert names == {f"peoplebooster-staging-{suffix}" for suffix in designed}


def test_each_watched_resource_sends_one_blind_notice(synthesized: dict[str, Synthesized]) -> None:
    # Given every alarm with an INSUFFICIENT_DATA action
    for synth in synthesized.values():
        blind = [a for a in synth.alarms_by_name().values() if a.get("InsufficientDataActions")]
        # Then each watches a different resource (heard once), and missing data is kept visible for it
        watched = [tuple(sorted((d["Name"], str(d["Value"])) for d in a["Dimensions"])) for a in blind]
        assert len(watched) == len(set(watched)), synth.config.environment
        assert all(a["TreatMissingData"] == "missing" for a in blind)
        # every ECS service, target group, the database, each Redis node and each /health dependency
        config = synth.config
        expected = 2 + len(config.alb.target_groups) + 1 + len(config.elasticache.cache_cluster_ids) + 5
        assert len(blind) == expected


def test_production_alarms_each_redis_node_with_replication_lag(production: Synthesized) -> None:
    alarms = production.alarms_by_name()
    # Given two Redis nodes (a primary and a replica) in config/production.yaml
    for node in ("001", "002"):
        for kind in ("memory-high", "connections-high", "engine-cpu-high", "evictions"):
            assert f"peoplebooster-production-redis-{node}-{kind}" in alarms
        lag = alarms[f"peoplebooster-production-redis-{node}-replication-lag"]
        assert (lag["MetricName"], lag["Threshold"], lag["EvaluationPeriods"]) == ("ReplicationLag", 10, 15)
        # The primary reports no lag, and a failover swaps the roles: no data is healthy here
        assert lag["TreatMissingData"] == "notBreaching"
    # Then the RDS thresholds follow the instance: 80% of 1802 connections, 10% of 100 GiB, 25% of 16 GiB
    assert alarms["peoplebooster-production-rds-connections-high"]["Threshold"] == pytest.approx(1441.6)
    assert alarms["peoplebooster-production-rds-free-storage-low"]["Threshold"] == pytest.approx(10 * GIB)
    assert alarms["peoplebooster-production-rds-freeable-memory-low"]["Threshold"] == pytest.approx(4 * GIB)


def test_staging_has_no_replication_lag_alarm_without_replicas(staging: Synthesized) -> None:
    assert not [name for name in staging.alarms_by_name() if name.endswith("replication-lag")]


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


def _alarm_from(synth: Synthesized, **config_changes: Any) -> dict[str, dict[str, Any]]:
    """The alarms of a stack built from staging's config with some sections replaced."""
    from aws_cdk import App
    from aws_cdk.assertions import Template

    from infra.stack import MonitoringStack

    config = synth.config.model_copy(update=config_changes)
    stack = MonitoringStack(App(context={"aws:cdk:bundling-stacks": []}), config=config)
    resources = Template.from_stack(stack).find_resources("AWS::CloudWatch::Alarm")
    return {r["Properties"]["AlarmName"]: r["Properties"] for r in resources.values()}


def test_container_insights_switch_adds_task_count_alarms(staging: Synthesized) -> None:
    # Given ecs.container_insights on
    alarms = _alarm_from(staging, ecs=staging.config.ecs.model_copy(update={"container_insights": True}))
    # Then each service alarms when fewer tasks run than desired (metric math over Container Insights)
    for role in ("backend", "frontend"):
        alarm = alarms[f"peoplebooster-staging-ecs-{role}-tasks-below-desired"]
        expressions = [m for m in alarm["Metrics"] if "Expression" in m]
        assert [e["Expression"] for e in expressions] == ["desired - running"]
        metrics = {m["Id"]: m["MetricStat"]["Metric"] for m in alarm["Metrics"] if "MetricStat" in m}
        assert {m["MetricName"] for m in metrics.values()} == {"RunningTaskCount", "DesiredTaskCount"}
        assert {m["Namespace"] for m in metrics.values()} == {"ECS/ContainerInsights"}
    # And without the switch there are none (staging's config)
    assert not [n for n in staging.alarms_by_name() if n.endswith("tasks-below-desired")]


def test_rds_thresholds_fall_back_to_floors_without_sizes(staging: Synthesized) -> None:
    rds = staging.config.rds.model_copy(update={"memory_gib": None, "allocated_storage_gib": None})
    alarms = _alarm_from(staging, rds=rds)
    assert alarms["peoplebooster-staging-rds-free-storage-low"]["Threshold"] == pytest.approx(5 * GIB)
    assert alarms["peoplebooster-staging-rds-freeable-memory-low"]["Threshold"] == pytest.approx(256 * MIB)


def test_shipped_max_connections_follow_rds_default_formula(synthesized: dict[str, Synthesized]) -> None:
    # RDS for PostgreSQL's default max_connections is LEAST({DBInstanceClassMemory/9531392}, 5000)
    # https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Limits.html#RDS_Limits.MaxConnections
    # The first configs said 90 and 405 for 2 and 16 GiB: the alarm fired at 40% and 22% of capacity.
    for synth in synthesized.values():
        rds = synth.config.rds
        assert rds.memory_gib is not None
        assert rds.max_connections == min(int(rds.memory_gib * GIB) // 9_531_392, 5000), synth.config.environment


def test_ecs_thresholds_can_differ_per_service(staging: Synthesized) -> None:
    # Given the frontend allowed more CPU and the backend more memory than the shared 80%
    thresholds = staging.config.thresholds.model_copy(
        update={"ecs_frontend_cpu_percent": 92, "ecs_backend_memory_percent": 88}
    )
    alarms = _alarm_from(staging, thresholds=thresholds)
    # Then each alarm uses its service's value, and the others keep the shared default
    threshold = {role: {kind: alarms[f"peoplebooster-staging-ecs-{role}-{kind}-high"]["Threshold"]
                        for kind in ("cpu", "memory")} for role in ("backend", "frontend")}  # fmt: skip
    assert threshold == {"backend": {"cpu": 80, "memory": 88}, "frontend": {"cpu": 92, "memory": 80}}
    assert "92%" in alarms["peoplebooster-staging-ecs-frontend-cpu-high"]["AlarmDescription"]
