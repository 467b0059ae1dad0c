"""Alarms and graphs of the load balancer and each of its target groups (backend, frontend).

Metrics of a target group carry both dimensions, `TargetGroup` (targetgroup/<name>/<id>) and
`LoadBalancer` (app/<name>/<id>); HealthyHostCount and UnHealthyHostCount exist only per target group.
https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html

- `alb-<tg>-no-healthy-targets` (Critical): HealthyHostCount below 1. The ALB reports it every minute for
  every target group it routes to, so missing data means a mistyped id: that alarm sends INSUFFICIENT_DATA
  (the "monitoring blind" notice) and is the one that makes wrong ALB or target-group ids visible.
- `alb-<tg>-unhealthy-targets` (Warning): a target failing health checks while others still serve.
- `alb-<tg>-target-5xx` (Critical) and `alb-<tg>-latency-high` (Warning, p95): per target group, so an
  API outage and a front-end outage read differently. `alb-elb-5xx` stays per load balancer: when no
  target is healthy the ALB answers 503 itself and no target group counts it.
- `alb-<tg>-5xx-rate` (Critical): the same window's 5xx as a share of the group's requests, beside the count,
  so traffic growth does not turn the count into noise and a small-traffic outage is not hidden under it.

Both request-gated alarms are metric math that CloudWatch evaluates: `IF(requests >= N, value, 0)`. IF with a
comparison returns the true value where the condition holds and the scalar elsewhere, and a period with no
RequestCount datapoint yields no datapoint at all (treated as not breaching); in `errors / requests` a missing
5xx count is 0 (arithmetic treats missing values as 0).
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html ("Using IF expressions",
"Basic arithmetic functions")
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw
from constructs import Construct

from infra.alarm_factory import AlarmFactory
from infra.config import AlbConfig, TargetGroupConfig, Thresholds
from infra.constructs.dashboard import graph
from lambdas.shared.alarm_metadata import Category, Severity

MINUTE = Duration.minutes(1)
GT = cw.ComparisonOperator.GREATER_THAN_THRESHOLD
LT = cw.ComparisonOperator.LESS_THAN_THRESHOLD


class AlbMonitoring(Construct):
    """`elb_5xx`; per target group name: `no_healthy`, `unhealthy`, `target_5xx`, `error_rate`, `latency`; `widgets`."""

    def __init__(
        self, scope: Construct, construct_id: str, *, alb: AlbConfig, thresholds: Thresholds, factory: AlarmFactory
    ) -> None:
        super().__init__(scope, construct_id)
        self.alb = alb
        minutes = thresholds.evaluation_minutes
        window = Duration.minutes(minutes)
        self.elb_5xx = self._window_5xx(
            factory,
            "AlbElb5xx",
            name="alb-elb-5xx",
            summary=(
                f"The ALB itself returned more than {thresholds.alb_target_5xx_count} 5xx in {minutes} min "
                "(no healthy target, target timeout or connection error)."
            ),
            metric=self.metric("HTTPCode_ELB_5XX_Count", "Sum", period=window),
            threshold=thresholds.alb_target_5xx_count,
        )
        self.no_healthy: dict[str, cw.Alarm] = {}
        self.unhealthy: dict[str, cw.Alarm] = {}
        self.target_5xx: dict[str, cw.Alarm] = {}
        self.latency: dict[str, cw.Alarm] = {}
        self.error_rate: dict[str, cw.Alarm] = {}
        for group in alb.target_groups:
            cid = "".join(part.capitalize() for part in group.name.split("-"))
            self.no_healthy[group.name] = factory.sustained(
                self,
                f"NoHealthyTargets{cid}",
                name=f"alb-{group.name}-no-healthy-targets",
                summary=(
                    f"Target group {group.name} ({group.full_name}) had no healthy target for {minutes} min:"
                    " the ALB cannot serve it."
                ),
                metric=self.target_metric("HealthyHostCount", "Minimum", group),
                threshold=1,
                comparison=LT,
                minutes=minutes,
                missing=cw.TreatMissingData.MISSING,
                severity=Severity.CRITICAL,
                category=Category.ERRORS,
                runbook="alb-no-healthy-targets",
                notify_insufficient_data=True,
            )
            self.unhealthy[group.name] = factory.sustained(
                self,
                f"UnhealthyTargets{cid}",
                name=f"alb-{group.name}-unhealthy-targets",
                summary=f"Target group {group.name} had a target failing health checks for {minutes} min.",
                metric=self.target_metric("UnHealthyHostCount", "Maximum", group),
                threshold=0,
                minutes=minutes,
                missing=cw.TreatMissingData.MISSING,
                category=Category.ERRORS,
                runbook="alb-unhealthy-targets",
            )
            self.target_5xx[group.name] = self._window_5xx(
                factory,
                f"Target5xx{cid}",
                name=f"alb-{group.name}-target-5xx",
                summary=(
                    f"Targets of {group.name} returned more than {thresholds.alb_target_5xx_count} 5xx"
                    f" in {minutes} min."
                ),
                metric=self.target_metric("HTTPCode_Target_5XX_Count", "Sum", group, period=window),
                threshold=thresholds.alb_target_5xx_count,
            )
            rate_floor = thresholds.alb_5xx_rate_min_requests
            self.error_rate[group.name] = self._window_5xx(
                factory,
                f"ErrorRate{cid}",
                name=f"alb-{group.name}-5xx-rate",
                summary=(
                    f"Targets of {group.name} answered more than {thresholds.alb_5xx_rate_percent:g}% of requests"
                    f" with 5xx in {minutes} min (judged from {rate_floor} requests in the window)."
                ),
                metric=self._when_busy(
                    group,
                    "100 * errors / requests",
                    {"errors": self.target_metric("HTTPCode_Target_5XX_Count", "Sum", group, period=window)},
                    floor=rate_floor,
                    period=window,
                    label=f"{group.name} 5xx (% of requests)",
                ),
                threshold=thresholds.alb_5xx_rate_percent,
            )
            latency_floor = thresholds.alb_latency_min_requests
            self.latency[group.name] = factory.sustained(
                self,
                f"LatencyHigh{cid}",
                name=f"alb-{group.name}-latency-high",
                summary=(
                    f"Target group {group.name}: response time p95 above {thresholds.alb_latency_seconds:g} s"
                    f" for {minutes} min (minutes with {latency_floor} requests or more)."
                ),
                # A quiet minute's p95 is one or two requests: it counts as 0 below the floor.
                metric=self._when_busy(
                    group,
                    "p95",
                    {"p95": self.target_metric("TargetResponseTime", "p95", group)},
                    floor=latency_floor,
                    period=MINUTE,
                    label=f"{group.name} p95 (s)",
                ),
                threshold=thresholds.alb_latency_seconds,
                minutes=minutes,
                missing=cw.TreatMissingData.NOT_BREACHING,  # no requests, no latency: the synthetic monitor judges
                runbook="alb-high-latency",
            )
        self.widgets = self._widgets()

    def _window_5xx(
        self,
        factory: AlarmFactory,
        construct_id: str,
        *,
        name: str,
        summary: str,
        metric: cw.IMetric,
        threshold: float,
    ) -> cw.Alarm:
        """A Critical 5xx alarm on one window (the report's "in 5 min"); no datapoint means no 5xx."""
        return factory.create(
            self,
            construct_id,
            name=name,
            summary=summary,
            metric=metric,
            threshold=threshold,
            comparison=GT,
            evaluation_periods=1,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
            severity=Severity.CRITICAL,
            category=Category.ERRORS,
            runbook="alb-5xx-errors",
        )

    def _when_busy(
        self,
        group: TargetGroupConfig,
        value: str,
        inputs: dict[str, cw.IMetric],
        *,
        floor: int,
        period: Duration,
        label: str,
    ) -> cw.MathExpression:
        """`value` in periods with at least `floor` requests to the group, 0 in the others, none without requests."""
        return cw.MathExpression(
            expression=f"IF(requests >= {floor}, {value}, 0)",
            using_metrics={**inputs, "requests": self.target_metric("RequestCount", "Sum", group, period=period)},
            label=label,
            period=period,
        )

    def metric(
        self, metric_name: str, statistic: str, period: Duration = MINUTE, label: str | None = None
    ) -> cw.Metric:
        return cw.Metric(
            namespace="AWS/ApplicationELB",
            metric_name=metric_name,
            dimensions_map={"LoadBalancer": self.alb.full_name},
            statistic=statistic,
            period=period,
            label=label,
        )

    def target_metric(
        self, metric_name: str, statistic: str, group: TargetGroupConfig, period: Duration = MINUTE
    ) -> cw.Metric:
        return cw.Metric(
            namespace="AWS/ApplicationELB",
            metric_name=metric_name,
            dimensions_map={"TargetGroup": group.full_name, "LoadBalancer": self.alb.full_name},
            statistic=statistic,
            period=period,
        )

    def _widgets(self) -> list[cw.IWidget]:
        groups = self.alb.target_groups
        return [
            graph(
                "ALB requests per minute",
                # The dashboard's period grows with the time range: divide each period's Sum by its minutes.
                # PERIOD(m) is the metric's period in seconds (using-metric-math.html, functions table).
                [
                    cw.MathExpression(
                        expression=f"requests{index} / (PERIOD(requests{index}) / 60)",
                        using_metrics={f"requests{index}": self.target_metric("RequestCount", "Sum", g)},
                        label=g.name,
                        period=MINUTE,
                    )
                    for index, g in enumerate(groups)
                ],
            ),
            graph(
                "ALB target response time (s)",
                [
                    self.target_metric("TargetResponseTime", stat, g).with_(label=f"{g.name} {stat}")
                    for g in groups
                    for stat in ("p50", "p95", "p99")
                ],
                alarms=[self.latency[groups[0].name]],
            ),
            graph(
                "ALB 5xx / 4xx count",
                [
                    *[
                        self.target_metric(f"HTTPCode_Target_{c}_Count", "Sum", g).with_(label=f"{g.name} {c.lower()}")
                        for c in ("5XX", "4XX")
                        for g in groups
                    ],
                    self.metric("HTTPCode_ELB_5XX_Count", "Sum", label="ALB 5xx"),
                    self.metric("HTTPCode_ELB_4XX_Count", "Sum", label="ALB 4xx"),
                ],
                # The 5xx alarms sum 5-minute windows; their line is drawn on 1-minute bars, so not here.
            ),
            graph(
                "ALB healthy / unhealthy targets",
                [
                    self.target_metric(metric, stat, g).with_(label=f"{g.name} {word}")
                    for g in groups
                    for metric, stat, word in (
                        ("HealthyHostCount", "Minimum", "healthy"),
                        ("UnHealthyHostCount", "Maximum", "unhealthy"),
                    )
                ],
            ),
        ]
