"""The synthetic monitor's alarms and dashboard row.

Choices (docs/operations/decisions.md has the reasons):
- Metric and dimension names come from lambdas/synthetic_monitor/metric_names.py, so the EMF and the
  alarms cannot drift apart; an alarm exists for exactly the checks the monitor runs.
- Period = schedule, M of N = `alarm_datapoints` of the same N: one lost probe does not alarm.
- The dead-man's switch is two-fold: the failing alarms treat missing CheckSuccess as breaching, and
  `synthetic-monitor-not-running` (Lambda Invocations < 1, breaching) says why they fire.
- A dependency that /health stops reporting is "we cannot see": its alarm sends INSUFFICIENT_DATA.
- One fault, one group (issue 13): every alarm about a host (its checks, their latency, its certificate,
  the dependencies its /health reports, the monitor that probes it) carries `Group: synthetic <host>`,
  so a database outage that fails /health/ready and /health is one message; a dependency alarm names
  the fault (`Fault: Database unhealthy`), and so does the monitor not running.
- With probe Regions (`Vantage`), each critical check's failing alarm counts the Regions (home included) whose
  CheckSuccess is 0: `critical_at` or more is critical. One warning per Region, "unreachable from <region>",
  fires when a critical check fails there while no critical check fails in `critical_at` Regions (the same
  metrics in the same alarm, so the warning and the critical can never both be in ALARM for one period).
  A Region that writes nothing counts as not failing (a dead probe is no outage); its own dead-man's switch,
  `synthetic-probe-<region>-silent`, says so.

Metric math as CloudWatch evaluates it (using-metric-math.html): `(m == 0)` is 1 or 0 at each time stamp of m;
in `a + b` a value missing from one series is 0, so a Region without a datapoint adds nothing; `IF(c, t, 0)`
takes t where c holds (0 where t has no value) and 0 elsewhere. tools/metric_math.py evaluates that subset
and tests/infra/test_probe_regions.py runs these expressions on made-up series.
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.alarm_factory import AlarmFactory
from infra.config import ConfigError
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
UNREACHABLE_RUNBOOK = "synthetic-unreachable-from-region"
SILENT_PROBE_RUNBOOK = "synthetic-probe-region-silent"
# A PutMetricAlarm's Metrics hold at most 10 MetricStat queries (and 10 expressions).
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricDataQuery.html
ALARM_METRICS_LIMIT = 10
LT = cw.ComparisonOperator.LESS_THAN_THRESHOLD
GE = cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
WIDGET_WIDTH = 6
WIDGET_HEIGHT = 6
# How a dependency is named in a group message's first line; others are capitalised.
DEPENDENCY_NAMES = {"openai": "OpenAI", "s3": "S3"}


@dataclass(frozen=True)
class Vantage:
    """Where the checks run from: the home Region and the probe Regions; `critical_at` of them failing is critical."""

    home: str
    probes: tuple[str, ...]
    critical_at: int

    @property
    def regions(self) -> tuple[str, ...]:
        return (self.home, *self.probes)


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

    def success(self, check: str, region: str, vantage: Vantage, label: str | None = None) -> cw.Metric:
        """A check's CheckSuccess as seen from `region`: the home series, or a probe's (with `region`)."""
        if region == vantage.home:
            return self.metric(names.CHECK_SUCCESS, "Minimum", label, check=check)
        return self.metric(names.PROBE_CHECK_SUCCESS, "Minimum", label, check=check, region=region)


class SyntheticAlarms(Construct):
    """`alarms` by short name (e.g. "synthetic-live-failing"); the dashboard's `availability_widgets` (is it up, from
    where) and `widgets` (what /health and /health/metrics report, certificates)."""

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
        vantage: Vantage | None = None,
        probe_function_name: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.settings = settings
        self.metrics = metrics
        self.vantage = vantage
        self.alarms: dict[str, cw.Alarm] = {}
        self._factory = factory
        self._datapoints = datapoints
        self.critical_checks = [check.name for check in settings.checks if check.name in CRITICAL_CHECKS]
        if vantage is not None:
            _refuse_more_metrics_than_an_alarm_reads(self.critical_checks, vantage, metrics.environment)
        for check in settings.checks:
            self._check_alarms(check)
        for dependency in names.KNOWN_DEPENDENCIES:
            self._dependency_alarm(dependency)
        for check in certificate_checks(settings):
            self._certificate_alarm(check, certificate_warning_days)
        self._monitor_alarms(function)
        if vantage is not None:
            for region in vantage.regions:
                self._unreachable_alarm(region, vantage)
            for region in vantage.probes:
                self._silent_probe_alarm(region, vantage)
        self.availability_widgets: list[cw.IWidget] = self._availability_widgets(probe_function_name)
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
        url: str | None = None,
        fault: str | None = None,
    ) -> None:
        """`url`: what the alarm is about (its group is that URL's host); the base URL by default."""
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
            group=synthetic_group(url or self.settings.base_url),
            fault=fault,
        )

    def _runs(self) -> str:
        return f"{self._datapoints} of {self._datapoints} runs"

    def _check_alarms(self, check: Check) -> None:
        url = self.settings.url_of(check)
        critical = check.name in CRITICAL_CHECKS
        if critical and self.vantage is not None:
            self._combined_failing_alarm(check, url, self.vantage)
        else:
            self._failing_alarm(check, url, critical=critical)
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
                url=url,
            )

    def _failing_alarm(self, check: Check, url: str, *, critical: bool) -> None:
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
            url=url,
        )

    def _combined_failing_alarm(self, check: Check, url: str, vantage: Vantage) -> None:
        regions = vantage.regions
        ids = {region: metric_id(check.name, region) for region in regions}
        self._alarm(
            f"synthetic-{check.name}-failing",
            summary=(
                f"Synthetic check '{check.name}' (GET {url}) failed from {vantage.critical_at} or more of the"
                f" {len(regions)} Regions ({', '.join(regions)}) in {self._runs()}, or no Region wrote a result:"
                " down for users, not one network path."
            ),
            metric=cw.MathExpression(
                expression=failing_count(list(ids.values())),
                using_metrics={ids[region]: self.metrics.success(check.name, region, vantage) for region in regions},
                label=f"Regions failing {check.name}",
                period=self.metrics.period,
            ),
            threshold=vantage.critical_at,
            comparison=GE,
            # A Region without a datapoint counts as not failing; when none writes, nobody is watching: alarm.
            missing=cw.TreatMissingData.BREACHING,
            severity=Severity.CRITICAL,
            category=Category.ERRORS,
            runbook=CRITICAL_CHECKS[check.name],
            url=url,
        )

    def _unreachable_alarm(self, region: str, vantage: Vantage) -> None:
        if not self.critical_checks:
            return
        checks = self.critical_checks
        period = self.metrics.period

        def seen_from(where: str) -> dict[str, cw.IMetric]:
            return {metric_id(check, where): self.metrics.success(check, where, vantage) for check in checks}

        # Intermediate expressions (CloudWatch lets an expression use another's id): each reads as what it counts.
        counts: dict[str, cw.IMetric] = {
            f"regions_failing_{_ident(check)}": cw.MathExpression(
                expression=failing_count([metric_id(check, where) for where in vantage.regions]),
                using_metrics={metric_id(check, where): self.metrics.success(check, where, vantage)
                               for where in vantage.regions},
                label=f"Regions failing {check}",
                period=period,
            )
            for check in checks
        }  # fmt: skip
        here = f"failing_in_{_ident(region)}"
        failing_here = cw.MathExpression(
            expression=f"({failing_count(list(seen_from(region)))}) > 0",
            using_metrics=seen_from(region),
            label=f"a critical check failing in {region}",
            period=period,
        )
        self._alarm(
            f"synthetic-unreachable-from-{region}",
            summary=(
                f"Unreachable from {region}: a critical synthetic check ({', '.join(checks)}) failed from {region} in"
                f" {self._runs()}, while fewer than {vantage.critical_at} of the {len(vantage.regions)} Regions saw"
                f" it fail. The service answers elsewhere: {region}'s path to it is broken."
            ),
            metric=cw.MathExpression(
                expression=unreachable_from(list(counts), here, critical_at=vantage.critical_at),
                using_metrics={**counts, here: failing_here},
                label=f"unreachable from {region}",
                period=period,
            ),
            threshold=1,
            comparison=GE,
            # No datapoint: no Region wrote a critical check; the dead-man's switches say why.
            missing=cw.TreatMissingData.NOT_BREACHING,
            severity=Severity.WARNING,
            category=Category.ERRORS,
            runbook=UNREACHABLE_RUNBOOK,
        )

    def _silent_probe_alarm(self, region: str, vantage: Vantage) -> None:
        # Every run puts every check's CheckSuccess: the first check's count is the probe's heartbeat.
        first = self.settings.checks[0].name
        self._alarm(
            f"synthetic-probe-{region}-silent",
            summary=(
                f"The probe in {region} put no results into {vantage.home} in {self._runs()}: it did not run, or its"
                f" PutMetricData failed (ProbePutFailures in {region}). The combined synthetic alarms count {region}"
                " as not failing until it reports again."
            ),
            metric=self.metrics.metric(names.PROBE_CHECK_SUCCESS, "SampleCount", check=first, region=region),
            threshold=1,
            comparison=LT,
            missing=cw.TreatMissingData.BREACHING,  # no datapoint is exactly the silence this alarm is for
            severity=Severity.WARNING,
            category=Category.ERRORS,
            runbook=SILENT_PROBE_RUNBOOK,
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
            fault=f"{DEPENDENCY_NAMES.get(dependency, dependency.capitalize())} unhealthy",
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
            url=self.settings.url_of(check),
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
            fault="Synthetic monitor not running",
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
        self._alarm(
            "synthetic-results-not-kept",
            summary=(
                f"The synthetic monitor could not keep its results for the alert router in {self._runs()}:"
                " synthetic alerts go out without the check's own reason (its logs say why)."
            ),
            metric=self.metrics.metric(names.RESULTS_WRITE_FAILURES, "Sum"),
            threshold=1,
            comparison=GE,
            missing=cw.TreatMissingData.NOT_BREACHING,  # no run, no point: the not-running alarm says so
            severity=Severity.WARNING,
            category=Category.ERRORS,
            runbook="synthetic-monitor-not-running",
        )

    def _availability_widgets(self, probe_function_name: str | None) -> list[cw.IWidget]:
        """Is it up, and from where: each check's success and latency, from the home Region and each probe."""
        checks = self.settings.checks
        metric = self.metrics.metric
        vantage = self.vantage
        budgets = [
            cw.HorizontalAnnotation(value=check.latency_budget_ms, label=f"{check.name} budget")
            for check in checks
            if check.latency_budget_ms is not None
        ]
        home = f" from {vantage.home}" if vantage else ""
        widgets: list[cw.IWidget] = [
            _graph(
                f"Synthetic checks up{home} (1 = up)",
                [metric(names.CHECK_SUCCESS, "Minimum", c.name, check=c.name) for c in checks],
                y_max=1,
            ),
            _graph(
                f"Synthetic check latency{home} (ms)",
                [metric(names.CHECK_LATENCY, "Maximum", c.name, check=c.name) for c in checks],
                annotations=budgets,
            ),
        ]
        if vantage is None:
            return widgets
        for region in vantage.probes:
            widgets.append(
                _graph(
                    f"Synthetic checks up from {region} (1 = up)",
                    [self.metrics.success(c.name, region, vantage, c.name) for c in checks],
                    y_max=1,
                )
            )
        widgets.append(
            _graph(
                "Synthetic check latency from the probe Regions (ms)",
                [
                    metric(names.PROBE_CHECK_LATENCY, "Maximum", f"{c.name} {region}", check=c.name, region=region)
                    for region in vantage.probes
                    for c in checks
                ],
                annotations=budgets,
            )
        )
        if probe_function_name is not None:
            widgets.append(self._probe_health_graph(probe_function_name, vantage))
        return widgets

    def _probe_health_graph(self, function_name: str, vantage: Vantage) -> cw.GraphWidget:
        """Each probe's runs, errors and failed puts, read from its own Region (dashboards may; alarms may not)."""
        period = self.metrics.period
        lines: list[cw.IMetric] = []
        for region in vantage.probes:
            for metric_name, word in (("Invocations", "runs"), ("Errors", "errors")):
                lines.append(
                    cw.Metric(
                        namespace="AWS/Lambda",
                        metric_name=metric_name,
                        dimensions_map={"FunctionName": function_name},
                        statistic="Sum",
                        period=period,
                        region=region,
                        label=f"{region} {word}",
                    )
                )
            lines.append(
                self.metrics.metric(names.PROBE_PUT_FAILURES, "Sum", f"{region} failed puts", region=region).with_(
                    region=region
                )
            )
        return _graph("Probe Regions: runs, errors, failed puts (each in its own Region)", lines)

    def _widgets(self) -> list[cw.IWidget]:
        """What /health and /health/metrics report about the service, and the certificates."""
        checks = self.settings.checks
        metric = self.metrics.metric
        # Every https check writes its own series (checks on one host draw one line on top of another).
        certificates = [
            metric(names.CERTIFICATE_DAYS_REMAINING, "Minimum", c.name, check=c.name)
            for c in checks
            if urlsplit(self.settings.url_of(c)).scheme == "https"
        ]
        return [
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


def metric_id(check: str, region: str) -> str:
    """A metric-math id for a check seen from a Region: letters, digits and `_`, starting with a lowercase letter
    (MetricDataQuery Id); a check name may start with a digit."""
    text = _ident(f"{check}_{region}")
    return text if text[0].isalpha() else f"m_{text}"


def _ident(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "_", name)


def failing_count(ids: Sequence[str]) -> str:
    """How many of these CheckSuccess series are 0 at a time stamp (a series without a value there adds 0)."""
    return " + ".join(f"({metric} == 0)" for metric in ids)


def unreachable_from(counts: Sequence[str], here: str, *, critical_at: int) -> str:
    """`here` (1 where a critical check fails in one Region) where every count of failing Regions is below
    `critical_at` (no critical alarm holds), else 0."""
    no_critical = " AND ".join(f"({count} < {critical_at})" for count in counts)
    return f"IF({no_critical}, {here}, 0)"


def _refuse_more_metrics_than_an_alarm_reads(
    critical_checks: Sequence[str], vantage: Vantage, environment: str
) -> None:
    """Each Region's warning reads every critical check from every Region."""
    reads = len(critical_checks) * len(vantage.regions)
    if reads > ALARM_METRICS_LIMIT:
        most = ALARM_METRICS_LIMIT // len(critical_checks) - 1
        raise ConfigError(
            f"config/{environment}.yaml: synthetics.probe_regions: {len(vantage.probes)} probe Regions with"
            f" {len(critical_checks)} critical checks ({', '.join(critical_checks)}) need alarms on {reads} metrics;"
            f" CloudWatch allows {ALARM_METRICS_LIMIT} per alarm, so at most {most} probe Regions"
        )


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


def synthetic_group(url: str) -> str:
    """The group of the alarms about one host: everything the monitor sees through it is one fault."""
    return f"synthetic {urlsplit(url).netloc.lower()}"


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
