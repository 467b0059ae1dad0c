"""Alarms and graphs of the two ECS services (backend, frontend).

Missing data is not healthy here: a running service reports CPU and memory every minute, so silence
means a mistyped service name or no task at all. Both alarms keep it visible (MISSING), and the CPU
alarm, one per service, sends INSUFFICIENT_DATA as the "monitoring blind" notice.
With `ecs.container_insights`, a third alarm per service compares Container Insights' RunningTaskCount
with DesiredTaskCount (namespace ECS/ContainerInsights, dimensions ClusterName and ServiceName:
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Container-Insights-metrics-ECS.html).
"""

from __future__ import annotations

from collections.abc import Callable

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw
from constructs import Construct

from infra.alarm_factory import AlarmFactory
from infra.config import EcsConfig, EcsRole, Thresholds
from infra.constructs.dashboard import graph
from lambdas.shared.alarm_metadata import Category

MINUTE = Duration.minutes(1)


class EcsMonitoring(Construct):
    """`cpu`, `memory` and `tasks` alarms by role; `widgets` for the dashboard's ECS row."""

    def __init__(
        self, scope: Construct, construct_id: str, *, ecs: EcsConfig, thresholds: Thresholds, factory: AlarmFactory
    ) -> None:
        super().__init__(scope, construct_id)
        self.ecs = ecs
        self.services: tuple[tuple[EcsRole, str], ...] = (
            ("backend", ecs.backend_service_name),
            ("frontend", ecs.frontend_service_name),
        )
        minutes = thresholds.evaluation_minutes
        self.cpu: dict[EcsRole, cw.Alarm] = {}
        self.memory: dict[EcsRole, cw.Alarm] = {}
        self.tasks: dict[EcsRole, cw.Alarm] = {}
        for role, service in self.services:
            cpu, memory = thresholds.ecs_cpu_for(role), thresholds.ecs_memory_for(role)
            self.cpu[role] = factory.sustained(
                self,
                f"EcsCpuHigh{role.capitalize()}",
                name=f"ecs-{role}-cpu-high",
                summary=f"ECS {role} ({service}) CPU above {cpu:g}% for {minutes} min.",
                metric=self.metric("CPUUtilization", service),
                threshold=cpu,
                minutes=minutes,
                missing=cw.TreatMissingData.MISSING,
                runbook="ecs-cpu-high",
                notify_insufficient_data=True,
            )
            self.memory[role] = factory.sustained(
                self,
                f"EcsMemoryHigh{role.capitalize()}",
                name=f"ecs-{role}-memory-high",
                summary=f"ECS {role} ({service}) memory above {memory:g}% for {minutes} min.",
                metric=self.metric("MemoryUtilization", service),
                threshold=memory,
                minutes=minutes,
                missing=cw.TreatMissingData.MISSING,
                runbook="ecs-memory-high",
            )
            if ecs.container_insights:
                self.tasks[role] = factory.sustained(
                    self,
                    f"EcsTasksBelowDesired{role.capitalize()}",
                    name=f"ecs-{role}-tasks-below-desired",
                    summary=f"ECS {role} ({service}) ran fewer tasks than desired for {minutes} min.",
                    metric=self.missing_tasks(service),
                    threshold=0,
                    minutes=minutes,
                    missing=cw.TreatMissingData.MISSING,
                    runbook="ecs-tasks-below-desired",
                    category=Category.ERRORS,
                )
        self.widgets: list[cw.IWidget] = [
            graph(
                "ECS CPU utilisation (%)",
                [self.metric("CPUUtilization", name).with_(label=role) for role, name in self.services],
                alarms=_one_per_threshold(self.cpu, thresholds.ecs_cpu_for),
            ),
            graph(
                "ECS memory utilisation (%)",
                [self.metric("MemoryUtilization", name).with_(label=role) for role, name in self.services],
                alarms=_one_per_threshold(self.memory, thresholds.ecs_memory_for),
            ),
        ]
        if ecs.container_insights:
            self.widgets.append(
                graph(
                    "ECS running / desired tasks",
                    [
                        self.insights(metric, name).with_(label=f"{role} {word}")
                        for role, name in self.services
                        for metric, word in (("RunningTaskCount", "running"), ("DesiredTaskCount", "desired"))
                    ],
                )
            )

    def metric(self, metric_name: str, service_name: str) -> cw.Metric:
        return cw.Metric(
            namespace="AWS/ECS",
            metric_name=metric_name,
            dimensions_map={"ClusterName": self.ecs.cluster_name, "ServiceName": service_name},
            statistic="Average",
            period=MINUTE,
        )

    def insights(self, metric_name: str, service_name: str) -> cw.Metric:
        return cw.Metric(
            namespace="ECS/ContainerInsights",
            metric_name=metric_name,
            dimensions_map={"ClusterName": self.ecs.cluster_name, "ServiceName": service_name},
            statistic="Minimum" if metric_name == "RunningTaskCount" else "Maximum",
            period=MINUTE,
        )

    def missing_tasks(self, service_name: str) -> cw.MathExpression:
        return cw.MathExpression(
            expression="desired - running",
            using_metrics={
                "desired": self.insights("DesiredTaskCount", service_name),
                "running": self.insights("RunningTaskCount", service_name),
            },
            label="desired - running tasks",
            period=MINUTE,
        )


def _one_per_threshold(alarms: dict[EcsRole, cw.Alarm], limit: Callable[[EcsRole], float]) -> list[cw.Alarm]:
    """One threshold line per distinct threshold: services that share a threshold share its line."""
    by_threshold: dict[float, cw.Alarm] = {}
    for role, alarm in alarms.items():
        by_threshold.setdefault(limit(role), alarm)
    return list(by_threshold.values())
