"""The service dashboard: the report's ten widgets in rows with headers, alarm lines on the graphs.

Other constructs add their own rows with `add_row(title, widgets)` (the router and the synthetic
monitor do). Rows are kept in order and written by `build(alarms)`, which the stack calls once at the
end of composition, so the status tile of every alarm, whoever made it, stands at the top.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.constructs.service_alarms import ServiceAlarmsConstruct, ServiceMetrics

FULL_WIDTH = 24
GRAPH_HEIGHT = 6


class DashboardConstruct(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        alarms: ServiceAlarmsConstruct,
    ) -> None:
        super().__init__(scope, construct_id)
        self.dashboard_name = f"{config.prefix}-service"
        self.dashboard = cw.Dashboard(
            self,
            "Dashboard",
            dashboard_name=self.dashboard_name,
            default_interval=Duration.hours(3),
            period_override=cw.PeriodOverride.AUTO,
        )
        self._rows: list[tuple[str, list[cw.IWidget]]] = []
        metrics = ServiceMetrics(config)
        services = (
            ("backend", config.ecs.backend_service_name),
            ("frontend", config.ecs.frontend_service_name),
        )

        self.add_row(
            "ECS (Fargate)",
            [
                _graph(
                    "ECS CPU utilisation (%)",
                    [metrics.ecs("CPUUtilization", name).with_(label=role) for role, name in services],
                    alarms=[alarms.ecs_cpu["backend"]],
                ),
                _graph(
                    "ECS memory utilisation (%)",
                    [metrics.ecs("MemoryUtilization", name).with_(label=role) for role, name in services],
                    alarms=[alarms.ecs_memory["backend"]],
                ),
            ],
        )
        self.add_row(
            "Load balancer (ALB)",
            [
                _graph("ALB requests per minute", [metrics.alb("RequestCount", "Sum", label="requests/min")]),
                _graph(
                    "ALB target response time (s)",
                    [metrics.alb("TargetResponseTime", stat, label=stat) for stat in ("p50", "p95", "p99")],
                    alarms=[alarms.alb_latency],
                ),
                _graph(
                    "ALB 5xx / 4xx count",
                    [
                        metrics.alb("HTTPCode_Target_5XX_Count", "Sum", label="target 5xx"),
                        metrics.alb("HTTPCode_ELB_5XX_Count", "Sum", label="ALB 5xx"),
                        metrics.alb("HTTPCode_Target_4XX_Count", "Sum", label="target 4xx"),
                        metrics.alb("HTTPCode_ELB_4XX_Count", "Sum", label="ALB 4xx"),
                    ],
                    # The 5xx alarms sum 5-minute windows; their line is drawn on 1-minute bars, so not here.
                ),
            ],
        )
        self.add_row(
            "Database (RDS)",
            [
                _graph(
                    "RDS connections",
                    [metrics.rds("DatabaseConnections", "Maximum").with_(label="connections (max)")],
                    alarms=[alarms.rds_connections],
                ),
                _graph("RDS CPU utilisation (%)", [metrics.rds("CPUUtilization")], alarms=[alarms.rds_cpu]),
                _graph(
                    "RDS read / write IOPS",
                    [
                        metrics.rds("ReadIOPS").with_(label="read"),
                        metrics.rds("WriteIOPS").with_(label="write"),
                    ],
                ),
            ],
        )
        redis_ids = config.elasticache.cache_cluster_ids
        self.add_row(
            "Cache (ElastiCache Redis)",
            [
                _graph(
                    "Redis connections",
                    [metrics.redis("CurrConnections", node, "Maximum").with_(label=node) for node in redis_ids],
                    alarms=[alarms.redis_connections[redis_ids[0]]],
                ),
                _graph(
                    "Redis memory usage (%)",
                    [
                        metrics.redis("DatabaseMemoryUsagePercentage", node, "Maximum").with_(label=node)
                        for node in redis_ids
                    ],
                    alarms=[alarms.redis_memory[redis_ids[0]]],
                ),
            ],
        )

    def add_row(self, title: str, widgets: Sequence[cw.IWidget]) -> None:
        """Queue a row: a markdown header across the dashboard, then the widgets side by side."""
        self._rows.append((title, list(widgets)))

    def build(self, alarms: Sequence[cw.IAlarm]) -> None:
        """Write the alarm overview, then every queued row. Call once, after all rows are added."""
        self._write_row(
            "Alarms",
            [cw.AlarmStatusWidget(title="All alarms", alarms=list(alarms), width=FULL_WIDTH, height=4)],
        )
        for title, widgets in self._rows:
            self._write_row(title, widgets)
        self._rows.clear()

    def _write_row(self, title: str, widgets: Sequence[cw.IWidget]) -> None:
        self.dashboard.add_widgets(cw.TextWidget(markdown=f"## {title}", width=FULL_WIDTH, height=1))
        self.dashboard.add_widgets(*widgets)


def _graph(title: str, metrics: Sequence[cw.IMetric], *, alarms: Sequence[cw.Alarm] = ()) -> cw.GraphWidget:
    annotations = [alarm.to_annotation() for alarm in alarms]  # the threshold as a horizontal line
    return cw.GraphWidget(
        title=title,
        left=list(metrics),
        left_annotations=annotations or None,
        width=8,
        height=GRAPH_HEIGHT,
        legend_position=cw.LegendPosition.BOTTOM,
    )
