"""Alarms and graphs of each Redis node (each member cluster of the replication group is one node):
the report's memory and connections, and AWS's recommended EngineCPUUtilization, Evictions, and
ReplicationLag when the group has replicas (CloudWatch user guide, "Recommended alarms").

ElastiCache reports its host and engine metrics every minute, so missing data means a mistyped id:
kept visible (MISSING), and the memory alarm of each node sends INSUFFICIENT_DATA as that node's one
"monitoring blind" notice. ReplicationLag is reported by replicas only, and which node is the replica
changes with a failover: every node has the alarm, and a node that reports none (the primary) is fine.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw
from constructs import Construct

from infra.alarm_factory import AlarmFactory
from infra.config import ElastiCacheConfig, Thresholds
from infra.constructs.dashboard import graph

MINUTE = Duration.minutes(1)


class RedisMonitoring(Construct):
    """Alarms by cache cluster id: `memory`, `connections`, `engine_cpu`, `evictions`, `replication_lag`."""

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
        minutes = thresholds.evaluation_minutes
        missing = cw.TreatMissingData.MISSING
        has_replicas = len(elasticache.cache_cluster_ids) > 1
        self.memory: dict[str, cw.Alarm] = {}
        self.connections: dict[str, cw.Alarm] = {}
        self.engine_cpu: dict[str, cw.Alarm] = {}
        self.evictions: dict[str, cw.Alarm] = {}
        self.replication_lag: dict[str, cw.Alarm] = {}
        for index, cluster_id in enumerate(elasticache.cache_cluster_ids, start=1):
            node = cluster_id.removeprefix(elasticache.replication_group_id + "-")
            self.memory[cluster_id] = factory.sustained(
                self,
                f"RedisMemoryHigh{index}",
                name=f"redis-{node}-memory-high",
                summary=f"Redis node {cluster_id} memory above {thresholds.redis_memory_percent:g}% for {minutes} min.",
                metric=self.metric("DatabaseMemoryUsagePercentage", cluster_id, "Maximum"),
                threshold=thresholds.redis_memory_percent,
                minutes=minutes,
                missing=missing,
                runbook="redis-memory-high",
                notify_insufficient_data=True,
            )
            self.connections[cluster_id] = factory.sustained(
                self,
                f"RedisConnectionsHigh{index}",
                name=f"redis-{node}-connections-high",
                summary=(
                    f"Redis node {cluster_id} has more than {thresholds.redis_connections} connections"
                    f" for {minutes} min."
                ),
                metric=self.metric("CurrConnections", cluster_id, "Maximum"),
                threshold=thresholds.redis_connections,
                minutes=minutes,
                missing=missing,
                runbook="redis-connections-high",
            )
            self.engine_cpu[cluster_id] = factory.sustained(
                self,
                f"RedisEngineCpuHigh{index}",
                name=f"redis-{node}-engine-cpu-high",
                summary=(
                    f"Redis node {cluster_id}: the Redis engine thread above {thresholds.redis_engine_cpu_percent:g}%"
                    f" CPU for {minutes} min."
                ),
                metric=self.metric("EngineCPUUtilization", cluster_id, "Average"),
                threshold=thresholds.redis_engine_cpu_percent,
                minutes=minutes,
                missing=missing,
                runbook="redis-engine-cpu-high",
            )
            self.evictions[cluster_id] = factory.sustained(
                self,
                f"RedisEvictions{index}",
                name=f"redis-{node}-evictions",
                summary=(
                    f"Redis node {cluster_id} evicted more than {thresholds.redis_evictions_per_minute:g} keys a minute"
                    f" for {minutes} min: it is out of memory for its data."
                ),
                metric=self.metric("Evictions", cluster_id, "Sum"),
                threshold=thresholds.redis_evictions_per_minute,
                minutes=minutes,
                missing=missing,
                runbook="redis-evictions",
            )
            if has_replicas:
                lag_minutes = thresholds.redis_replication_lag_minutes
                self.replication_lag[cluster_id] = factory.sustained(
                    self,
                    f"RedisReplicationLag{index}",
                    name=f"redis-{node}-replication-lag",
                    summary=(
                        f"Redis replica {cluster_id} lagged the primary by more than"
                        f" {thresholds.redis_replication_lag_seconds:g} s for {lag_minutes} min."
                    ),
                    metric=self.metric("ReplicationLag", cluster_id, "Maximum"),
                    threshold=thresholds.redis_replication_lag_seconds,
                    minutes=lag_minutes,
                    missing=cw.TreatMissingData.NOT_BREACHING,  # the primary reports no lag
                    runbook="redis-replication-lag",
                )
        ids = elasticache.cache_cluster_ids
        first = ids[0]
        self.widgets: list[cw.IWidget] = [
            graph(
                "Redis connections",
                [self.metric("CurrConnections", node, "Maximum").with_(label=node) for node in ids],
                alarms=[self.connections[first]],
            ),
            graph(
                "Redis memory usage (%)",
                [self.metric("DatabaseMemoryUsagePercentage", node, "Maximum").with_(label=node) for node in ids],
                alarms=[self.memory[first]],
            ),
            graph(
                "Redis engine CPU (%)",
                [self.metric("EngineCPUUtilization", node, "Average").with_(label=node) for node in ids],
                alarms=[self.engine_cpu[first]],
            ),
            graph(
                "Redis evictions per minute",
                [self.metric("Evictions", node, "Sum").with_(label=node) for node in ids],
            ),
        ]
        if has_replicas:
            self.widgets.append(
                graph(
                    "Redis replication lag (s)",
                    [self.metric("ReplicationLag", node, "Maximum").with_(label=node) for node in ids],
                )
            )

    def metric(self, metric_name: str, cache_cluster_id: str, statistic: str) -> cw.Metric:
        return cw.Metric(
            namespace="AWS/ElastiCache",
            metric_name=metric_name,
            dimensions_map={"CacheClusterId": cache_cluster_id, "CacheNodeId": self.elasticache.cache_node_id},
            statistic=statistic,
            period=MINUTE,
        )
