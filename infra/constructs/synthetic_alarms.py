"""The synthetic monitor's alarms and dashboard row.

Choices (docs/operations/decisions.md has the reasons):
- Metric and dimension names come from lambdas/synthetic_monitor/metric_names.py, so the EMF and the
  alarms cannot drift apart; an alarm exists for exactly the checks the monitor runs.
- Period = schedule, M of N = `alarm_datapoints` of the same N: one lost probe does not alarm.
- The dead-man's switch is two-fold: the failing alarms treat missing CheckSuccess as breaching, and
  `synthetic-monitor-not-running` (Lambda Invocations < 1, breaching) says why they fire.
- A dependency that /health stops reporting is "we cannot see": its alarm sends INSUFFICIENT_DATA.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.alarm_factory import AlarmFactory
from lambdas.shared.alarm_metadata import Category, Severity
from lambdas.synthetic_monitor import metric_names as names
from lambdas.synthetic_monitor.checks import Check
from lambdas.synthetic_monitor.settings import Settings

CRITICAL_CHECKS = {
    "live": "synthetic-liveness-failing",
    "ready": "synthetic-readiness-failing",
    "frontend": "synthetic-frontend-failing",
}
DEGRADED_RUNBOOK = "synthetic-health-degraded"
LT = cw.ComparisonOperator.LESS_THAN_THRESHOLD
GE = cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
WIDGET_WIDTH = 6
WIDGET_HEIGHT = 6


@dataclass(frozen=True)
class SyntheticMetrics:
    """The monitor's metrics with their exact dimension sets, shared by the alarms and the graphs."""

    namespace: str
    environment: str
    period: Duration

    def metric(self, spec: names.MetricSpec, statistic: str, label: str | None = None, **values: str) -> cw.Metric:
        """A monitor metric with its exact dimension set: environment plus `values` (check= or dependency=)."""
        dimensions = {names.ENVIRONMENT: self.environment, **values}
        if set(dimensions) != set(spec.dimensions):
            raise ValueError(f"{spec.name} has dimensions {spec.dimensions}, not {tuple(dimensions)}")
        return cw.Metric(
            namespace=self.namespace,
            metric_name=spec.name,
            dimensions_map=dimensions,
            statistic=statistic,
            period=self.period,
            label=label,
        )


class SyntheticAlarms(Construct):
    """`alarms` by short name (e.g. "synthetic-live-failing") and `widgets` (the dashboard row)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        metrics: SyntheticMetrics,
        function: lambda_.IFunction,
        datapoints: int,
        certificate_warning_days: int,
        factory: AlarmFactory,
    ) -> None:
        super().__init__(scope, construct_id)
        self.settings = settings
        self.metrics = metrics
        self.alarms: dict[str, cw.Alarm] = {}
        self._factory = factory
        self._datapoints = datapoints
        for check in settings.checks:
            self._check_alarms(check)
        for dependency in names.KNOWN_DEPENDENCIES:
            self._dependency_alarm(dependency)
        for check in certificate_checks(settings):
            self._certificate_alarm(check, certificate_warning_days)
        self._monitor_alarms(function)
        self.widgets: list[cw.IWidget] = self._widgets()

    def _alarm(
        self,
        name: str,
        *,
        summary: str,
        metric: cw.IMetric,
        threshold: float,
        comparison: cw.ComparisonOperator,
        missing: cw.TreatMissingData,
        severity: Severity,
        category: Category,
        runbook: str,
        datapoints: int | None = None,
        notify_insufficient_data: bool = False,
    ) -> None:
        self.alarms[name] = self._factory.create(
            self,
            _construct_id(name),
            name=name,
            summary=summary,
            metric=metric,
            threshold=threshold,
            comparison=comparison,
            evaluation_periods=self._datapoints,
            datapoints_to_alarm=datapoints or self._datapoints,
            treat_missing_data=missing,
            severity=severity,
            category=category,
            runbook=runbook,
            notify_insufficient_data=notify_insufficient_data,
        )

    def _runs(self) -> str:
        return f"{self._datapoints} of {self._datapoints} runs"

    def _check_alarms(self, check: Check) -> None:
        url = self.settings.url_of(check)
        critical = check.name in CRITICAL_CHECKS
        self._alarm(
            f"synthetic-{check.name}-failing",
            summary=(
                f"Synthetic check '{check.name}' (GET {url}) failed in {self._runs()}, or the monitor wrote no result."
            ),
            metric=self.metrics.metric(names.CHECK_SUCCESS, "Minimum", check=check.name),
            threshold=1,
            comparison=LT,
            # Missing success data means nobody is watching: that must alarm, never look healthy.
            missing=cw.TreatMissingData.BREACHING,
            severity=Severity.CRITICAL if critical else Severity.WARNING,
            category=Category.ERRORS,
            runbook=CRITICAL_CHECKS.get(check.name, DEGRADED_RUNBOOK),
        )
        budget = check.latency_budget_ms
        if budget is not None:
            self._alarm(
                f"synthetic-{check.name}-latency-high",
                summary=f"Synthetic check '{check.name}' (GET {url}) took {budget} ms or more in {self._runs()}.",
                # One run per period, so Maximum is that run's latency.
                metric=self.metrics.metric(names.CHECK_LATENCY, "Maximum", check=check.name),
                threshold=budget,
                comparison=GE,  # the monitor's judge: under budget is `latency < budget`
                # No latency point means no complete response: the failing alarm covers that.
                missing=cw.TreatMissingData.NOT_BREACHING,
                severity=Severity.WARNING,
                category=Category.PERFORMANCE,
                runbook="synthetic-latency-high",
            )

    def _dependency_alarm(self, dependency: str) -> None:
        self._alarm(
            f"synthetic-dependency-{dependency}",
            summary=f"/health reported dependency '{dependency}' not healthy in {self._runs()}.",
            metric=self.metrics.metric(names.DEPENDENCY_HEALTHY, "Minimum", dependency=dependency),
            threshold=1,
            comparison=LT,
            # A dependency /health stops reporting must not turn OK: it shows as INSUFFICIENT_DATA, and
            # that is heard ("monitoring blind"). When /health itself is down, the health failing alarm says so.
            missing=cw.TreatMissingData.MISSING,
            severity=Severity.WARNING,
            category=Category.ERRORS,
            runbook=DEGRADED_RUNBOOK,
            notify_insufficient_data=True,
        )

    def _certificate_alarm(self, check: Check, warning_days: int) -> None:
        host = urlsplit(self.settings.url_of(check)).netloc
        self._alarm(
            f"synthetic-{check.name}-certificate-expiring",
            summary=f"The TLS certificate of {host} expires in less than {warning_days} days.",
            metric=self.metrics.metric(names.CERTIFICATE_DAYS_REMAINING, "Minimum", check=check.name),
            threshold=warning_days,
            comparison=LT,
            # Once expired, TLS verification fails and no days are written: keep the ALARM rather than
            # resolve to a misleading OK (the failing alarms page for the outage itself).
            missing=cw.TreatMissingData.IGNORE,
            severity=Severity.WARNING,
            category=Category.ERRORS,
            runbook="synthetic-certificate-expiring",
        )

    def _monitor_alarms(self, function: lambda_.IFunction) -> None:
        period = self.metrics.period
        self._alarm(
            "synthetic-monitor-not-running",
            summary=(
                f"The synthetic monitor was not invoked in {self._runs()}: nobody is watching the health "
                "endpoints, and the synthetic failing alarms fire for that reason, not for an outage."
            ),
            metric=function.metric_invocations(statistic="Sum", period=period),
            threshold=1,
            comparison=LT,
            missing=cw.TreatMissingData.BREACHING,  # Lambda writes no Invocations point for a silent minute
            # Critical, so it lands in the same channel as the live/ready alarms its silence sets off.
            severity=Severity.CRITICAL,
            category=Category.ERRORS,
            runbook="synthetic-monitor-not-running",
        )
        self._alarm(
            "synthetic-monitor-errors",
            summary=(
                f"The synthetic monitor raised (a bug, bad settings or a timeout) in a run within the last "
                f"{self._runs()}; its Sentry issue has the trace."
            ),
            metric=function.metric_errors(statistic="Sum", period=period),
            threshold=1,
            comparison=GE,
            missing=cw.TreatMissingData.NOT_BREACHING,  # no invocations is the not-running alarm's case
            severity=Severity.WARNING,
            category=Category.ERRORS,
            runbook="synthetic-monitor-not-running",
            datapoints=1,  # one failed run is a bug worth a look; it stays in ALARM for N periods, no flapping
        )

    def _widgets(self) -> list[cw.IWidget]:
        checks = self.settings.checks
        metric = self.metrics.metric
        budgets = [
            cw.HorizontalAnnotation(value=check.latency_budget_ms, label=f"{check.name} budget")
            for check in checks
            if check.latency_budget_ms is not None
        ]
        # Every https check writes its own series (checks on one host draw one line on top of another).
        certificates = [
            metric(names.CERTIFICATE_DAYS_REMAINING, "Minimum", c.name, check=c.name)
            for c in checks
            if urlsplit(self.settings.url_of(c)).scheme == "https"
        ]
        return [
            _graph(
                "Synthetic checks up (1 = up)",
                [metric(names.CHECK_SUCCESS, "Minimum", c.name, check=c.name) for c in checks],
                y_max=1,
            ),
            _graph(
                "Synthetic check latency (ms)",
                [metric(names.CHECK_LATENCY, "Maximum", c.name, check=c.name) for c in checks],
                annotations=budgets,
            ),
            _graph(
                "Dependencies healthy (1 = healthy)",
                [metric(names.DEPENDENCY_HEALTHY, "Minimum", d, dependency=d) for d in names.KNOWN_DEPENDENCIES],
                y_max=1,
            ),
            _graph(
                "Service CPU / memory (%) from /health/metrics",
                [metric(names.SERVICE_CPU, "Maximum", "CPU"), metric(names.SERVICE_MEMORY, "Maximum", "memory")],
                y_max=100,
            ),
            _graph(
                "Dependency response time (ms) from /health",
                [metric(names.DEPENDENCY_RESPONSE_TIME, "Maximum", d, dependency=d) for d in names.KNOWN_DEPENDENCIES],
            ),
            _graph(
                "Service uptime (hours) from /health/metrics",
                # Minimum per period: a restart shows as a drop to zero.
                [
                    cw.MathExpression(
                        expression="uptime / 3600",
                        using_metrics={"uptime": metric(names.SERVICE_UPTIME, "Minimum")},
                        label="uptime",
                        period=self.metrics.period,
                    )
                ],
            ),
            _graph(
                "Service memory (MiB) from /health/metrics, when it reports bytes without a total",
                [
                    cw.MathExpression(
                        expression="memory / 1048576",
                        using_metrics={"memory": metric(names.SERVICE_MEMORY_BYTES, "Maximum")},
                        label="memory (MiB)",
                        period=self.metrics.period,
                    )
                ],
            ),
            _graph(
                "Health fields missing (runs, by check and field: tolerant contract)",
                # One line per check and field that a body did not report; nothing is drawn while none is missing.
                [
                    cw.MathExpression(
                        expression=_search(self.metrics, names.FIELD_MISSING, "Sum"),
                        label="",
                        period=self.metrics.period,
                    )
                ],
            ),
            *([_graph("TLS certificate days remaining", certificates)] if certificates else []),
        ]


def _search(metrics: SyntheticMetrics, spec: names.MetricSpec, statistic: str) -> str:
    """A SEARCH over every series of `spec` in this environment, one graph line each (CloudWatch search syntax:
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/search-expression-syntax.html)."""
    schema = ",".join((metrics.namespace, *sorted(spec.dimensions)))
    terms = f'MetricName="{spec.name}" {names.ENVIRONMENT}="{metrics.environment}"'
    return f"SEARCH('{{{schema}}} {terms}', '{statistic}', {metrics.period.to_seconds()})"


def certificate_checks(settings: Settings) -> list[Check]:
    """One check per distinct https host: a host serves one certificate, so one alarm per host is enough
    (by default every check shares the base URL's host, so the first check carries it)."""
    chosen: dict[str, Check] = {}
    for check in settings.checks:
        parts = urlsplit(settings.url_of(check))
        if parts.scheme == "https":
            chosen.setdefault(parts.netloc.lower(), check)
    return list(chosen.values())


def _construct_id(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("-")) + "Alarm"


def _graph(
    title: str,
    metrics: Sequence[cw.IMetric],
    *,
    y_max: float | None = None,
    annotations: list[cw.HorizontalAnnotation] | None = None,
) -> cw.GraphWidget:
    return cw.GraphWidget(
        title=title,
        left=list(metrics),
        left_y_axis=cw.YAxisProps(min=0, max=y_max, show_units=False),
        left_annotations=annotations or None,
        width=WIDGET_WIDTH,
        height=WIDGET_HEIGHT,
        legend_position=cw.LegendPosition.BOTTOM,
    )
