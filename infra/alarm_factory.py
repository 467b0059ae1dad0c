"""One way to make an alarm: stable name, routing metadata in the description, actions to the topic.

Every construct that alarms (service alarms, router, synthetics) goes through AlarmFactory, so each
alarm carries its severity, category, runbook link and the runbook's first step (lambdas/shared/
alarm_metadata.py, infra/runbooks.py) and sends
both ALARM and OK to the alert topic. An alarm whose silence means "we cannot see" (a wrong id, a
resource that stopped reporting) opts in to `notify_insufficient_data`: INSUFFICIENT_DATA then goes to
the alert topic too, where the router turns it into one "monitoring blind" notice (decisions.md lists
which alarms do, issue 11). One alarm per watched resource opts in, so a blind resource is heard once.

The `Group:` line (issue 13) is the resource the alarm's metric watches unless the caller names the group
(the synthetic monitor's alarms share the service's); a metric whose dimensions are tokens until deploy
(a function's name) gets no line, and the router derives the same key from the notification's dimensions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aws_cdk import Duration, Token
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.runbooks import first_step, runbook_names
from lambdas.shared.alarm_metadata import Category, Severity, format_alarm_description, resource_group


@dataclass
class AlarmFactory:
    config: EnvironmentConfig
    topic: sns.ITopic
    # Every alarm made, in order: the dashboard's overview and the tests read it.
    created: list[cw.Alarm] = field(default_factory=list)
    # Names of the Critical alarms, so a silence or maintenance window can be checked against them.
    critical_names: list[str] = field(default_factory=list)

    def runbook_url(self, runbook: str) -> str:
        return f"{self.config.runbook_base}/runbooks/{runbook}.md"

    def first_step(self, runbook: str) -> str:
        config = self.config
        names = runbook_names(
            prefix=config.prefix, environment=config.environment, health_base_url=str(config.health_base_url)
        )
        return first_step(runbook, names)

    def create(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        summary: str,
        metric: cw.IMetric,
        threshold: float,
        comparison: cw.ComparisonOperator,
        evaluation_periods: int,
        datapoints_to_alarm: int | None = None,
        treat_missing_data: cw.TreatMissingData,
        severity: Severity,
        category: Category,
        runbook: str,
        extra_topics: tuple[sns.ITopic, ...] = (),
        notify_insufficient_data: bool = False,
        group: str | None = None,
        fault: str | None = None,
    ) -> cw.Alarm:
        """Create `<service>-<env>-<name>` with ALARM and OK actions to the alert topic (and INSUFFICIENT_DATA
        with `notify_insufficient_data`; missing data must then be `MISSING`, or the state never happens)."""
        if notify_insufficient_data and treat_missing_data is not cw.TreatMissingData.MISSING:
            raise ValueError(f"{name}: INSUFFICIENT_DATA actions need treat_missing_data MISSING")
        alarm = cw.Alarm(
            scope,
            construct_id,
            alarm_name=f"{self.config.prefix}-{name}",
            alarm_description=format_alarm_description(
                summary,
                severity=severity,
                category=category,
                runbook_url=self.runbook_url(runbook),
                group=group or metric_group(metric),
                fault=fault,
                first_step=self.first_step(runbook),
            ),
            metric=metric,
            threshold=threshold,
            comparison_operator=comparison,
            evaluation_periods=evaluation_periods,
            datapoints_to_alarm=datapoints_to_alarm or evaluation_periods,
            treat_missing_data=treat_missing_data,
        )
        for topic in (self.topic, *extra_topics):
            action = cw_actions.SnsAction(topic)
            alarm.add_alarm_action(action)
            alarm.add_ok_action(action)
        if notify_insufficient_data:
            alarm.add_insufficient_data_action(cw_actions.SnsAction(self.topic))
        self.created.append(alarm)
        if severity is Severity.CRITICAL:
            self.critical_names.append(f"{self.config.prefix}-{name}")
        return alarm

    def create_on_any(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        summary: str,
        metric: cw.IMetric,
        severity: Severity,
        runbook: str,
        extra_topics: tuple[sns.ITopic, ...] = (),
        group: str | None = None,
    ) -> cw.Alarm:
        """An errors-category alarm on the first period whose count (errors, throttles, dead letters) is above 0.

        No data means nothing happened, so it is healthy.
        """
        return self.create(
            scope,
            construct_id,
            name=name,
            summary=summary,
            metric=metric,
            threshold=0,
            comparison=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
            severity=severity,
            category=Category.ERRORS,
            runbook=runbook,
            extra_topics=extra_topics,
            group=group,
        )

    def sustained(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        summary: str,
        metric: cw.IMetric,
        threshold: float,
        minutes: int,
        missing: cw.TreatMissingData,
        runbook: str,
        comparison: cw.ComparisonOperator = cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
        severity: Severity = Severity.WARNING,
        category: Category = Category.PERFORMANCE,
        notify_insufficient_data: bool = False,
    ) -> cw.Alarm:
        """Beyond the threshold in every one of `minutes` 1-minute periods (M of N = N of N): sustained, not a blip."""
        return self.create(
            scope,
            construct_id,
            name=name,
            summary=summary,
            metric=metric,
            threshold=threshold,
            comparison=comparison,
            evaluation_periods=minutes,
            treat_missing_data=missing,
            severity=severity,
            category=category,
            runbook=runbook,
            notify_insufficient_data=notify_insufficient_data,
        )

    def signed_endpoint_alarms(
        self,
        scope: Construct,
        *,
        name: str,
        function: lambda_.IFunction,
        signature_mismatch: cw.IMetric,
        lost: tuple[str, str, str],
        runbook: str,
        extra_topics: tuple[sns.ITopic, ...] = (),
    ) -> tuple[cw.Alarm, cw.Alarm, cw.Alarm]:
        """The three alarms of a public, HMAC-signed Function URL (the Sentry intake, the Slack buttons), each on
        the first occurrence in 5 minutes: `<name>-errors`, `<name>-throttles` (Lambda's metrics of `function`)
        and `<name>-signature-mismatch` (the handler's count of a well-formed signature that does not match: a
        wrong or unfilled secret, which no Lambda metric shows). `lost` says what each one cost, in that order."""
        period = Duration.minutes(5)
        errors, throttles, mismatch = lost
        metrics = (
            ("ErrorsAlarm", "errors", errors, function.metric_errors(statistic="Sum", period=period)),
            ("ThrottlesAlarm", "throttles", throttles, function.metric_throttles(statistic="Sum", period=period)),
            ("SignatureMismatchAlarm", "signature-mismatch", mismatch, signature_mismatch),
        )
        first, second, third = (
            self.create_on_any(
                scope,
                construct_id,
                name=f"{name}-{suffix}",
                summary=summary,
                metric=metric,
                severity=Severity.WARNING,
                runbook=runbook,
                extra_topics=extra_topics,
            )
            for construct_id, suffix, summary, metric in metrics
        )
        return first, second, third


def metric_group(metric: cw.IMetric) -> str | None:
    """The resource a metric (or every metric of an expression) is about, as `resource_group` names it;
    None when a name is a token until deploy or an expression spans several resources."""
    metrics = list(metric.using_metrics.values()) if isinstance(metric, cw.MathExpression) else [metric]
    groups = set()
    for item in metrics:
        if not isinstance(item, cw.Metric) or item.namespace is None:
            return None
        dimensions = (item.dimensions or {}).items()
        if Token.is_unresolved(item.namespace) or any(Token.is_unresolved(value) for _, value in dimensions):
            return None
        groups.add(resource_group(item.namespace, [(name, str(value)) for name, value in dimensions]))
    return groups.pop() if len(groups) == 1 else None
