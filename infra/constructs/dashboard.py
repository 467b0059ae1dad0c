"""The service dashboard: rows with headers, the status of every alarm at the top.

Each monitoring construct brings its own widgets (`widgets`), and the stack adds them as rows with
`add_row(title, widgets)` in the order on-call reads them. Rows are kept in order and written by
`build(alarms)`, which the stack calls once at the end of composition, so the status tile of every alarm,
whoever made it, stands at the top.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw
from constructs import Construct

FULL_WIDTH = 24
GRAPH_HEIGHT = 6


class DashboardConstruct(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, prefix: str) -> None:
        super().__init__(scope, construct_id)
        self.dashboard_name = f"{prefix}-service"
        self.dashboard = cw.Dashboard(
            self,
            "Dashboard",
            dashboard_name=self.dashboard_name,
            default_interval=Duration.hours(3),
            period_override=cw.PeriodOverride.AUTO,
        )
        self._rows: list[tuple[str, list[cw.IWidget]]] = []

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


def graph(
    title: str, metrics: Sequence[cw.IMetric], *, alarms: Sequence[cw.Alarm] = (), width: int = 8
) -> cw.GraphWidget:
    """A service graph; each alarm in `alarms` draws its threshold as a horizontal line."""
    annotations = [alarm.to_annotation() for alarm in alarms]
    return cw.GraphWidget(
        title=title,
        left=list(metrics),
        left_annotations=annotations or None,
        width=width,
        height=GRAPH_HEIGHT,
        legend_position=cw.LegendPosition.BOTTOM,
    )
