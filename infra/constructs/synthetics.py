"""The synthetic monitor: its function, its schedule, its alarms and its dashboard row.

Choices (docs/operations/decisions.md has the reasons):
- Alarms are derived from the environment the function receives (`settings_from_env`, the Lambda's own
  parser), so an alarm exists for exactly the checks the monitor runs; metric and dimension names come
  from lambdas/synthetic_monitor/metric_names.py, so the EMF and the alarms cannot drift apart.
- Period = schedule, M of N = `alarm_datapoints` of the same N: one lost probe does not alarm.
- The dead-man's switch is two-fold: the failing alarms treat missing CheckSuccess as breaching, and
  `synthetic-monitor-not-running` (Lambda Invocations < 1, breaching) says why they fire.
- One run at a time (reserved concurrency 1) and no retries of late runs: the next run is a period away.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from aws_cdk import Acknowledgment, Duration, Fn, Validations
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from constructs import Construct

from infra.alarm_factory import AlarmFactory
from infra.config import EnvironmentConfig, VpcConfig
from infra.constructs.function import ProjectFunction
from lambdas.shared.alarm_metadata import Category, Severity
from lambdas.synthetic_monitor import metric_names as names
from lambdas.synthetic_monitor.checks import Check
from lambdas.synthetic_monitor.settings import Settings, settings_from_env

HANDLER = "lambdas.synthetic_monitor.handler.lambda_handler"
# Function name suffix and log `service` (the handler's Logger says the same; metrics carry no service).
NAME = "synthetic-monitor"
CRITICAL_CHECKS = {"live": "synthetic-liveness-failing", "ready": "synthetic-readiness-failing"}
DEGRADED_RUNBOOK = "synthetic-health-degraded"
# Lambda refuses more than 4 KB of environment; ProjectFunction adds its shared variables on top of ours.
ENVIRONMENT_BUDGET_BYTES = 3500
# EventBridge and Lambda's async queue both accept 60 s as the shortest event age.
MAX_EVENT_AGE = Duration.seconds(60)
LT = cw.ComparisonOperator.LESS_THAN_THRESHOLD
GE = cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
WIDGET_WIDTH = 6
WIDGET_HEIGHT = 6


class SyntheticsConstruct(Construct):
    """`function`, `rule`, `alarms` (by short name, e.g. "synthetic-live-failing"), `dashboard_widgets`."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: EnvironmentConfig, factory: AlarmFactory
    ) -> None:
        super().__init__(scope, construct_id)
        synthetics = config.synthetics
        self.namespace = f"{config.metrics_namespace}/{names.NAMESPACE_SUFFIX}"
        self.environment_name = config.environment
        self.period = Duration.minutes(synthetics.schedule_minutes)
        environment = monitor_environment(config, self.namespace)
        # The Lambda's own parser: synthesis fails on what the monitor would reject, and the alarms
        # below are made for exactly the checks it will run.
        self.settings: Settings = settings_from_env(environment)

        self.project_function = ProjectFunction(
            self,
            "Monitor",
            config=config,
            name=NAME,
            handler=HANDLER,
            description="Probes the service's health endpoints on a schedule and writes EMF metrics",
            environment=environment,
            timeout=Duration.seconds(synthetics.lambda_timeout_seconds),
            # One run at a time: an overlapping run (a slow target, a late event) would double the
            # probes the service sees and the datapoints of one period; the next run is a period away.
            reserved_concurrency=1,
            **(self._vpc_props(synthetics.vpc) if synthetics.vpc else {}),
        )
        self.function = self.project_function.function
        if synthetics.vpc:
            self._grant_vpc_access()
        # A late run is worthless: do not let Lambda's async queue retry it after a function error or
        # replay it minutes later after a throttle.
        self.function.configure_async_invoke(retry_attempts=0, max_event_age=MAX_EVENT_AGE)

        self.rule = events.Rule(
            self,
            "Schedule",
            rule_name=f"{config.prefix}-{NAME}",
            description=f"Runs the synthetic monitor every {synthetics.schedule_minutes} min",
            schedule=events.Schedule.rate(self.period),
        )
        self.rule.add_target(targets.LambdaFunction(self.function, retry_attempts=0, max_event_age=MAX_EVENT_AGE))

        self.alarms: dict[str, cw.Alarm] = {}
        self._factory = factory
        self._datapoints = synthetics.alarm_datapoints
        for check in self.settings.checks:
            self._check_alarms(check)
        for dependency in names.KNOWN_DEPENDENCIES:
            self._dependency_alarm(dependency)
        for check in certificate_checks(self.settings):
            self._certificate_alarm(check, synthetics.certificate_warning_days)
        self._monitor_alarms()
        self.dashboard_widgets: list[cw.IWidget] = self._widgets()

    # --- metrics ------------------------------------------------------------------------------------

    def metric(self, spec: names.MetricSpec, statistic: str, label: str | None = None, **values: str) -> cw.Metric:
        """A monitor metric with its exact dimension set: environment plus `values` (check= or dependency=)."""
        dimensions = {names.ENVIRONMENT: self.environment_name, **values}
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

    # --- alarms -------------------------------------------------------------------------------------

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
            metric=self.metric(names.CHECK_SUCCESS, "Minimum", check=check.name),
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
                metric=self.metric(names.CHECK_LATENCY, "Maximum", check=check.name),
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
            metric=self.metric(names.DEPENDENCY_HEALTHY, "Minimum", dependency=dependency),
            threshold=1,
            comparison=LT,
            # A dependency /health stops reporting must not turn OK: it shows as INSUFFICIENT_DATA.
            # When /health itself is down, the health failing alarm already says so.
            missing=cw.TreatMissingData.MISSING,
            severity=Severity.WARNING,
            category=Category.ERRORS,
            runbook=DEGRADED_RUNBOOK,
        )

    def _certificate_alarm(self, check: Check, warning_days: int) -> None:
        host = urlsplit(self.settings.url_of(check)).netloc
        self._alarm(
            f"synthetic-{check.name}-certificate-expiring",
            summary=f"The TLS certificate of {host} expires in less than {warning_days} days.",
            metric=self.metric(names.CERTIFICATE_DAYS_REMAINING, "Minimum", check=check.name),
            threshold=warning_days,
            comparison=LT,
            # Once expired, TLS verification fails and no days are written: keep the ALARM rather than
            # resolve to a misleading OK (the failing alarms page for the outage itself).
            missing=cw.TreatMissingData.IGNORE,
            severity=Severity.WARNING,
            category=Category.ERRORS,
            runbook="synthetic-certificate-expiring",
        )

    def _monitor_alarms(self) -> None:
        self._alarm(
            "synthetic-monitor-not-running",
            summary=(
                f"The synthetic monitor was not invoked in {self._runs()}: nobody is watching the health "
                "endpoints, and the synthetic failing alarms fire for that reason, not for an outage."
            ),
            metric=self.function.metric_invocations(statistic="Sum", period=self.period),
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
            metric=self.function.metric_errors(statistic="Sum", period=self.period),
            threshold=1,
            comparison=GE,
            missing=cw.TreatMissingData.NOT_BREACHING,  # no invocations is the not-running alarm's case
            severity=Severity.WARNING,
            category=Category.ERRORS,
            runbook="synthetic-monitor-not-running",
            datapoints=1,  # one failed run is a bug worth a look; it stays in ALARM for N periods, no flapping
        )

    # --- network ------------------------------------------------------------------------------------

    def _vpc_props(self, vpc: VpcConfig) -> dict[str, Any]:
        """Imported by id only (no context lookups), so synthesis stays offline."""
        imported = ec2.Vpc.from_vpc_attributes(self, "Vpc", vpc_id=vpc.vpc_id, availability_zones=Fn.get_azs())
        subnets = [ec2.Subnet.from_subnet_id(self, f"Subnet{i}", subnet) for i, subnet in enumerate(vpc.subnet_ids)]
        groups = [
            ec2.SecurityGroup.from_security_group_id(self, f"SecurityGroup{i}", group, mutable=False)
            for i, group in enumerate(vpc.security_group_ids)
        ]
        return {"vpc": imported, "vpc_subnets": ec2.SubnetSelection(subnets=subnets), "security_groups": groups}

    def _grant_vpc_access(self) -> None:
        # What AWSLambdaVPCAccessExecutionRole grants, inline (ProjectFunction's role has no managed policy).
        policy = iam.Policy(
            self,
            "VpcAccess",
            statements=[
                iam.PolicyStatement(
                    actions=[
                        "ec2:CreateNetworkInterface",
                        "ec2:DescribeNetworkInterfaces",
                        "ec2:DescribeSubnets",
                        "ec2:DeleteNetworkInterface",
                        "ec2:AssignPrivateIpAddresses",
                        "ec2:UnassignPrivateIpAddresses",
                    ],
                    resources=["*"],
                )
            ],
        )
        self.project_function.role.attach_inline_policy(policy)
        # Lambda checks these permissions when the function is created: the policy must exist first.
        self.function.node.add_dependency(policy)
        Validations.of(policy).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-IAM5[Resource::*]",
                reason=(
                    "Lambda's VPC networking: ec2:CreateNetworkInterface and DescribeNetworkInterfaces work only"
                    " on '*', and the ENIs Lambda creates and deletes have ids unknown at deploy time."
                ),
            )
        )

    # --- dashboard ----------------------------------------------------------------------------------

    def _widgets(self) -> list[cw.IWidget]:
        checks = self.settings.checks
        budgets = [
            cw.HorizontalAnnotation(value=check.latency_budget_ms, label=f"{check.name} budget")
            for check in checks
            if check.latency_budget_ms is not None
        ]
        return [
            _graph(
                "Synthetic checks up (1 = up)",
                [self.metric(names.CHECK_SUCCESS, "Minimum", c.name, check=c.name) for c in checks],
                y_max=1,
            ),
            _graph(
                "Synthetic check latency (ms)",
                [self.metric(names.CHECK_LATENCY, "Maximum", c.name, check=c.name) for c in checks],
                annotations=budgets,
            ),
            _graph(
                "Dependencies healthy (1 = healthy)",
                [self.metric(names.DEPENDENCY_HEALTHY, "Minimum", d, dependency=d) for d in names.KNOWN_DEPENDENCIES],
                y_max=1,
            ),
            _graph(
                "Service CPU / memory (%) from /health/metrics",
                [
                    self.metric(names.SERVICE_CPU, "Maximum", "CPU"),
                    self.metric(names.SERVICE_MEMORY, "Maximum", "memory"),
                ],
                y_max=100,
            ),
        ]


def monitor_environment(config: EnvironmentConfig, namespace: str) -> dict[str, str]:
    """The monitor's settings as environment variables (lambdas/synthetic_monitor/settings.py reads them)."""
    synthetics = config.synthetics
    environment = {
        "ENVIRONMENT": config.environment,
        "HEALTH_BASE_URL": str(config.health_base_url),
        "CHECK_TIMEOUT_MS": str(synthetics.check_timeout_ms),
        "RUN_DEADLINE_MS": str(synthetics.run_deadline_ms),
        "POWERTOOLS_METRICS_NAMESPACE": namespace,
        "POWERTOOLS_SERVICE_NAME": NAME,
    }
    if synthetics.checks is not None:
        environment["CHECKS"] = json.dumps(synthetics.checks, separators=(",", ":"))
    size = sum(len(key) + len(value.encode()) for key, value in environment.items())
    if size > ENVIRONMENT_BUDGET_BYTES:
        raise ValueError(
            f"synthetics: the monitor's environment would be {size} bytes (Lambda allows 4 KB in all); "
            "shorten or reduce synthetics.checks"
        )
    return environment


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
    metrics: list[cw.Metric],
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
