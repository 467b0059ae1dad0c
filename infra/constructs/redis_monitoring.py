"""Alarms and graphs of each Redis node (each member cluster of the replication group is one node):
the report's memory and connections, and AWS's recommended EngineCPUUtilization, Evictions, and
ReplicationLag when the group has replicas (CloudWatch user guide, "Recommended alarms").

ElastiCache reports its host and engine metrics every minute, so missing data means a mistyped id:
kept visible (MISSING), and the memory alarm of each node sends INSUFFICIENT_DATA as that node's one
"monitoring blind" notice. ReplicationLag is reported by replicas only, and which node is the replica
changes with a failover: every node has the alarm, and a node that reports none (the primary) is fine.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw
from constructs import Construct

from infra.alarm_factory import AlarmFactory
from infra.config import ElastiCacheConfig, Thresholds
from infra.constructs.dashboard import graph

MINUTE = Duration.minutes(1)


@dataclass(frozen=True)
class NodeAlarm:
    """One alarm of every node: `redis-<node>-<kind>`, `metric` beyond `threshold` for `minutes` 1-minute periods."""

    kind: str
    metric: str
    statistic: str
    threshold: float
    minutes: int
    finding: str  # what the node did, after "Redis node <id> "
    runbook: str
    title: str  # of its dashboard graph
    missing: cw.TreatMissingData = cw.TreatMissingData.MISSING
    blind_notice: bool = False


def node_alarms(thresholds: Thresholds, *, has_replicas: bool) -> list[NodeAlarm]:
    minutes = thresholds.evaluation_minutes
    alarms = [
        NodeAlarm("memory-high", "DatabaseMemoryUsagePercentage", "Maximum", thresholds.redis_memory_percent, minutes,
                  f"used more than {thresholds.redis_memory_percent:g}% of its memory", "redis-memory-high",
                  "Redis memory usage (%)", blind_notice=True),
        NodeAlarm("connections-high", "CurrConnections", "Maximum", thresholds.redis_connections, minutes,
                  f"had more than {thresholds.redis_connections} connections", "redis-connections-high",
                  "Redis connections"),
        NodeAlarm("engine-cpu-high", "EngineCPUUtilization", "Average", thresholds.redis_engine_cpu_percent, minutes,
                  f"ran its engine thread above {thresholds.redis_engine_cpu_percent:g}% CPU", "redis-engine-cpu-high",
                  "Redis engine CPU (%)"),
        NodeAlarm("evictions", "Evictions", "Sum", thresholds.redis_evictions_per_minute, minutes,
                  f"evicted more than {thresholds.redis_evictions_per_minute:g} keys a minute (full for its data)",
                  "redis-evictions", "Redis evictions per minute"),
    ]  # fmt: skip
    if has_replicas:
        alarms.append(
            NodeAlarm("replication-lag", "ReplicationLag", "Maximum", thresholds.redis_replication_lag_seconds,
                      thresholds.redis_replication_lag_minutes,
                      f"lagged its primary by more than {thresholds.redis_replication_lag_seconds:g} s",
                      "redis-replication-lag", "Redis replication lag (s)",
                      missing=cw.TreatMissingData.NOT_BREACHING)  # the primary reports no lag
        )  # fmt: skip
    return alarms


class RedisMonitoring(Construct):
    """`alarms[kind][cache cluster id]` (kinds of `node_alarms`) and `widgets` for the Cache row."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        elasticache: ElastiCacheConfig,
        thresholds: Thresholds,
        factory: AlarmFactory,
    ) -> None:
        super().__init__(scope, construct_id)
        self.elasticache = elasticache
        has_replicas = len(elasticache.cache_cluster_ids) > 1
        self.alarms: dict[str, dict[str, cw.Alarm]] = {}
        for spec in node_alarms(thresholds, has_replicas=has_replicas):
            camel = "".join(part.capitalize() for part in spec.kind.split("-"))
            for index, cluster_id in enumerate(elasticache.cache_cluster_ids, start=1):
                node = cluster_id.removeprefix(elasticache.replication_group_id + "-")
                self.alarms.setdefault(spec.kind, {})[cluster_id] = factory.sustained(
                    self,
                    f"Redis{camel}{index}",
                    name=f"redis-{node}-{spec.kind}",
                    summary=f"Redis node {cluster_id} {spec.finding} for {spec.minutes} min.",
                    metric=self.metric(spec.metric, cluster_id, spec.statistic),
                    threshold=spec.threshold,
                    minutes=spec.minutes,
                    missing=spec.missing,
                    runbook=spec.runbook,
                    notify_insufficient_data=spec.blind_notice,
                )
        ids = elasticache.cache_cluster_ids
        self.widgets: list[cw.IWidget] = [
            graph(
                spec.title,
                [self.metric(spec.metric, node, spec.statistic).with_(label=node) for node in ids],
                alarms=[self.alarms[spec.kind][ids[0]]],
            )
            for spec in node_alarms(thresholds, has_replicas=has_replicas)
        ]

    def metric(self, metric_name: str, cache_cluster_id: str, statistic: str) -> cw.Metric:
        return cw.Metric(
            namespace="AWS/ElastiCache",
            metric_name=metric_name,
            dimensions_map={"CacheClusterId": cache_cluster_id, "CacheNodeId": self.elasticache.cache_node_id},
            statistic=statistic,
            period=MINUTE,
        )
