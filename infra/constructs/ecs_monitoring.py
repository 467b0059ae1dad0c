"""Alarms and graphs of the two ECS services (backend, frontend).

Missing data is not healthy here: a running service reports CPU and memory every minute, so silence
means a mistyped service name or no task at all. Both alarms keep it visible (MISSING), and the CPU
alarm, one per service, sends INSUFFICIENT_DATA as the "monitoring blind" notice.
With `ecs.container_insights`, a third alarm per service compares Container Insights' RunningTaskCount
with DesiredTaskCount (namespace ECS/ContainerInsights, dimensions ClusterName and ServiceName:
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Container-Insights-metrics-ECS.html).
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw
from constructs import Construct

from infra.alarm_factory import AlarmFactory
from infra.config import EcsConfig, Thresholds
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
        self.services = (("backend", ecs.backend_service_name), ("frontend", ecs.frontend_service_name))
        minutes = thresholds.evaluation_minutes
        self.cpu: dict[str, cw.Alarm] = {}
        self.memory: dict[str, cw.Alarm] = {}
        self.tasks: dict[str, cw.Alarm] = {}
        for role, service in self.services:
            self.cpu[role] = factory.sustained(
                self,
                f"EcsCpuHigh{role.capitalize()}",
                name=f"ecs-{role}-cpu-high",
                summary=f"ECS {role} ({service}) CPU above {thresholds.ecs_cpu_percent:g}% for {minutes} min.",
                metric=self.metric("CPUUtilization", service),
                threshold=thresholds.ecs_cpu_percent,
                minutes=minutes,
                missing=cw.TreatMissingData.MISSING,
                runbook="ecs-cpu-high",
                notify_insufficient_data=True,
            )
            self.memory[role] = factory.sustained(
                self,
                f"EcsMemoryHigh{role.capitalize()}",
                name=f"ecs-{role}-memory-high",
                summary=f"ECS {role} ({service}) memory above {thresholds.ecs_memory_percent:g}% for {minutes} min.",
                metric=self.metric("MemoryUtilization", service),
                threshold=thresholds.ecs_memory_percent,
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
                alarms=[self.cpu["backend"]],
            ),
            graph(
                "ECS memory utilisation (%)",
                [self.metric("MemoryUtilization", name).with_(label=role) for role, name in self.services],
                alarms=[self.memory["backend"]],
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
