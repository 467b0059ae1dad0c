"""Alarms on the monitored service (ECS, ALB, RDS, Redis): the design report's alarm table.

Choices (docs/operations/decisions.md has the reasons):
- "for 5 min" means sustained: 1-minute periods, all 5 breaching (M of N = 5 of 5), not one 5-minute average.
- ALB latency uses p95: p99 over a quiet minute is the single slowest request; p95 is what users feel.
- ALB ELB 5xx (the load balancer's own 502/503/504) is a second Critical alarm: when every target is
  down, the ALB answers 503 itself and the target 5xx count stays at zero.
- Missing data: a 5xx count that is absent means no errors (not breaching); ECS/ALB utilisation and latency
  absent means no tasks or no traffic, which the synthetic monitor judges (not breaching); RDS and Redis
  always report, so a gap is kept visible as INSUFFICIENT_DATA (missing).
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw
from constructs import Construct

from infra.alarm_factory import AlarmFactory
from infra.config import EnvironmentConfig
from lambdas.shared.alarm_metadata import Category, Severity

GT = cw.ComparisonOperator.GREATER_THAN_THRESHOLD
MINUTE = Duration.minutes(1)


@dataclass(frozen=True)
class ServiceMetrics:
    """Metric builders for the monitored service, shared by the alarms and the dashboard."""

    config: EnvironmentConfig

    def ecs(self, metric_name: str, service_name: str, period: Duration = MINUTE) -> cw.Metric:
        return cw.Metric(
            namespace="AWS/ECS",
            metric_name=metric_name,
            dimensions_map={"ClusterName": self.config.ecs.cluster_name, "ServiceName": service_name},
            statistic="Average",
            period=period,
        )

    def alb(self, metric_name: str, statistic: str, period: Duration = MINUTE, label: str | None = None) -> cw.Metric:
        return cw.Metric(
            namespace="AWS/ApplicationELB",
            metric_name=metric_name,
            dimensions_map={"LoadBalancer": self.config.alb.full_name},
            statistic=statistic,
            period=period,
            label=label,
        )

    def rds(self, metric_name: str, statistic: str = "Average", period: Duration = MINUTE) -> cw.Metric:
        return cw.Metric(
            namespace="AWS/RDS",
            metric_name=metric_name,
            dimensions_map={"DBInstanceIdentifier": self.config.rds.instance_identifier},
            statistic=statistic,
            period=period,
        )

    def redis(self, metric_name: str, cache_cluster_id: str, statistic: str) -> cw.Metric:
        return cw.Metric(
            namespace="AWS/ElastiCache",
            metric_name=metric_name,
            dimensions_map={
                "CacheClusterId": cache_cluster_id,
                "CacheNodeId": self.config.elasticache.cache_node_id,
            },
            statistic=statistic,
            period=MINUTE,
        )


class ServiceAlarmsConstruct(Construct):
    """Public attributes by concern so the dashboard can annotate its graphs with them."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: EnvironmentConfig, factory: AlarmFactory
    ) -> None:
        super().__init__(scope, construct_id)
        metrics = ServiceMetrics(config)
        limits = config.thresholds
        minutes = f"{limits.evaluation_minutes} min"

        def sustained_high(
            construct_id: str,
            *,
            name: str,
            summary: str,
            metric: cw.IMetric,
            threshold: float,
            missing: cw.TreatMissingData,
            runbook: str,
        ) -> cw.Alarm:
            """A Warning/performance alarm: above the threshold in every minute of the evaluation window."""
            return factory.create(
                self,
                construct_id,
                name=name,
                summary=summary,
                metric=metric,
                threshold=threshold,
                comparison=GT,
                evaluation_periods=limits.evaluation_minutes,
                treat_missing_data=missing,
                severity=Severity.WARNING,
                category=Category.PERFORMANCE,
                runbook=runbook,
            )

        def five_xx(construct_id: str, *, name: str, summary: str, metric_name: str) -> cw.Alarm:
            """A Critical/errors alarm on a 5xx count summed over the evaluation window."""
            return factory.create(
                self,
                construct_id,
                name=name,
                summary=summary,
                metric=metrics.alb(metric_name, "Sum", period=Duration.minutes(limits.evaluation_minutes)),
                threshold=limits.alb_target_5xx_count,
                comparison=GT,
                evaluation_periods=1,
                treat_missing_data=cw.TreatMissingData.NOT_BREACHING,  # no datapoint: no 5xx at all
                severity=Severity.CRITICAL,
                category=Category.ERRORS,
                runbook="alb-5xx-errors",
            )

        self.ecs_cpu: dict[str, cw.Alarm] = {}
        self.ecs_memory: dict[str, cw.Alarm] = {}
        for role, service_name in (
            ("backend", config.ecs.backend_service_name),
            ("frontend", config.ecs.frontend_service_name),
        ):
            self.ecs_cpu[role] = sustained_high(
                f"EcsCpuHigh{role.capitalize()}",
                name=f"ecs-{role}-cpu-high",
                summary=f"ECS {role} ({service_name}) CPU above {limits.ecs_cpu_percent:g}% for {minutes}.",
                metric=metrics.ecs("CPUUtilization", service_name),
                threshold=limits.ecs_cpu_percent,
                missing=cw.TreatMissingData.NOT_BREACHING,
                runbook="ecs-cpu-high",
            )
            self.ecs_memory[role] = sustained_high(
                f"EcsMemoryHigh{role.capitalize()}",
                name=f"ecs-{role}-memory-high",
                summary=f"ECS {role} ({service_name}) memory above {limits.ecs_memory_percent:g}% for {minutes}.",
                metric=metrics.ecs("MemoryUtilization", service_name),
                threshold=limits.ecs_memory_percent,
                missing=cw.TreatMissingData.NOT_BREACHING,
                runbook="ecs-memory-high",
            )

        self.alb_target_5xx = five_xx(
            "AlbTarget5xx",
            name="alb-target-5xx",
            summary=f"Targets behind the ALB returned more than {limits.alb_target_5xx_count} 5xx in {minutes}.",
            metric_name="HTTPCode_Target_5XX_Count",
        )
        self.alb_elb_5xx = five_xx(
            "AlbElb5xx",
            name="alb-elb-5xx",
            summary=(
                f"The ALB itself returned more than {limits.alb_target_5xx_count} 5xx in {minutes} "
                "(no healthy target, target timeout or connection error)."
            ),
            metric_name="HTTPCode_ELB_5XX_Count",
        )
        self.alb_latency = sustained_high(
            "AlbLatencyHigh",
            name="alb-latency-high",
            summary=f"ALB target response time p95 above {limits.alb_latency_seconds:g} s for {minutes}.",
            metric=metrics.alb("TargetResponseTime", "p95"),
            threshold=limits.alb_latency_seconds,
            missing=cw.TreatMissingData.NOT_BREACHING,
            runbook="alb-high-latency",
        )

        rds = config.rds
        connection_limit = rds.max_connections * limits.rds_connections_percent / 100
        self.rds_connections = sustained_high(
            "RdsConnectionsHigh",
            name="rds-connections-high",
            summary=(
                f"RDS {rds.instance_identifier} connections above {connection_limit:g} "
                f"({limits.rds_connections_percent:g}% of max_connections {rds.max_connections}) for {minutes}."
            ),
            metric=metrics.rds("DatabaseConnections", "Maximum"),
            threshold=connection_limit,
            missing=cw.TreatMissingData.MISSING,
            runbook="rds-connections-high",
        )
        self.rds_cpu = sustained_high(
            "RdsCpuHigh",
            name="rds-cpu-high",
            summary=f"RDS {rds.instance_identifier} CPU above {limits.rds_cpu_percent:g}% for {minutes}.",
            metric=metrics.rds("CPUUtilization"),
            threshold=limits.rds_cpu_percent,
            missing=cw.TreatMissingData.MISSING,
            runbook="rds-cpu-high",
        )

        self.redis_memory: dict[str, cw.Alarm] = {}
        self.redis_connections: dict[str, cw.Alarm] = {}
        for index, cluster_id in enumerate(config.elasticache.cache_cluster_ids, start=1):
            node = cluster_id.removeprefix(config.elasticache.replication_group_id + "-")
            self.redis_memory[cluster_id] = sustained_high(
                f"RedisMemoryHigh{index}",
                name=f"redis-{node}-memory-high",
                summary=f"Redis node {cluster_id} memory above {limits.redis_memory_percent:g}% for {minutes}.",
                metric=metrics.redis("DatabaseMemoryUsagePercentage", cluster_id, "Maximum"),
                threshold=limits.redis_memory_percent,
                missing=cw.TreatMissingData.MISSING,
                runbook="redis-memory-high",
            )
            self.redis_connections[cluster_id] = sustained_high(
                f"RedisConnectionsHigh{index}",
                name=f"redis-{node}-connections-high",
                summary=f"Redis node {cluster_id} has more than {limits.redis_connections} connections for {minutes}.",
                metric=metrics.redis("CurrConnections", cluster_id, "Maximum"),
                threshold=limits.redis_connections,
                missing=cw.TreatMissingData.MISSING,
                runbook="redis-connections-high",
            )
