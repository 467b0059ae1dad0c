"""The alert router's cause and graph (issue 13): what it may read for them, and the alarms on their fallbacks.

- The policy of its reads: Logs Insights on the service's error log group (when config turns the top errors
  on), and CloudWatch's GetMetricWidgetImage for the graph. StartQuery is authorized on the log group;
  GetQueryResults, StopQuery and GetMetricWidgetImage have no resource type, so only "*" grants them
  (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatchlogs.html,
  https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html): they sit
  in a policy of their own whose "*" is acknowledged there and nowhere else.
- Two warnings, to both topics like every router fallback: causes that could not be read
  (`EnrichmentFailures`) and graphs that could not be attached (`GraphFailures`). One failure is noise
  (the next alert tries again); the alarms fire when it keeps happening.
- `environment`: what the router reads the settings from (lambdas/alert_router/enrichment/settings.py); the
  error log group and the graphs' region are references, so the AWS-rules test layer asks for their calls.

The stack attaches the policy to the router's role and adds the environment to its function; the results
table of the synthetic monitor (constructs/synthetics.py) is granted there too.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Aws, Duration, Validations
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra.alarm_factory import AlarmFactory
from infra.config import EnrichmentConfig
from infra.constructs.alert_router import NAME, ROUTER_GROUP
from lambdas.shared.alarm_metadata import Category, Severity

# metric -> (alarm name, what it means)
ENRICHMENT_ALARMS = {
    "EnrichmentFailures": (
        "router-enrichment-failures",
        "The alert router could not read an alert's cause (the synthetic monitor's results, the top errors) in"
        " 3 of the last 6 periods; alerts went out without it",
    ),
    "GraphFailures": (
        "router-graph-failures",
        "Bot-token mode: the alert router could not attach the alarm's graph to incident threads in 3 of the"
        " last 6 periods; the threads got a console link instead",
    ),
}


class RouterEnrichment(Construct):
    """Public: `policy` (attach to the router's role), `alarms` (metric -> alarm), `environment`."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        enrichment: EnrichmentConfig,
        oncall_handle: str | None,
        environment: str,
        metrics_namespace: str,
        error_log_group: logs.ILogGroup,
        factory: AlarmFactory,
        fallback_topic: sns.ITopic,
    ) -> None:
        super().__init__(scope, construct_id)
        statements = []
        if enrichment.top_errors:
            # the group's ARN with its trailing ":*", the form IAM policies use for StartQuery
            # (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_LogGroup.html, `arn`)
            statements.append(
                iam.PolicyStatement(actions=["logs:StartQuery"], resources=[error_log_group.log_group_arn])
            )
            statements.append(iam.PolicyStatement(actions=["logs:GetQueryResults", "logs:StopQuery"], resources=["*"]))
        if enrichment.graphs:
            statements.append(iam.PolicyStatement(actions=["cloudwatch:GetMetricWidgetImage"], resources=["*"]))
        self.policy = iam.Policy(self, "Reads", statements=statements) if statements else None
        if self.policy is not None:
            Validations.of(self.policy).acknowledge(
                Acknowledgment(
                    id="AwsSolutions::AwsSolutions-IAM5[Resource::*]",
                    reason=(
                        "logs:GetQueryResults, logs:StopQuery and cloudwatch:GetMetricWidgetImage have no resource"
                        " type in the Service Authorization Reference: '*' is the only resource that grants them."
                    ),
                )
            )
        self.alarms = {
            metric: factory.create(
                self,
                f"{metric}Alarm",
                name=name,
                summary=summary,
                metric=cw.Metric(
                    namespace=metrics_namespace,
                    metric_name=metric,
                    dimensions_map={"service": NAME, "environment": environment},  # the router's `service`
                    statistic="Sum",
                    period=Duration.minutes(5),
                ),
                threshold=1,
                comparison=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                evaluation_periods=6,
                datapoints_to_alarm=3,
                treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
                severity=Severity.WARNING,
                category=Category.ERRORS,
                runbook="router-errors",
                extra_topics=(fallback_topic,),
                group=ROUTER_GROUP,  # the router's own alarms are one fault: one message
            )
            for metric, (name, summary) in ENRICHMENT_ALARMS.items()
        }
        self.environment = {
            "TOP_ERRORS": "on" if enrichment.top_errors else "off",
            "TOP_ERRORS_MINUTES": str(enrichment.top_errors_minutes),
            "ENRICHMENT_BUDGET_MS": str(enrichment.budget_ms),
            "GRAPH_BUDGET_MS": str(enrichment.graph_budget_ms),
        }
        if enrichment.graphs:
            # A reference to the deployment's region, on purpose: a local run (the demo, the tests) copies only
            # the plain settings of the template, and has no CloudWatch to draw a graph with.
            self.environment["GRAPH_REGION"] = Aws.REGION
        if enrichment.top_errors:
            self.environment["ERROR_LOG_GROUP"] = error_log_group.log_group_name
        if oncall_handle:
            self.environment["ONCALL_HANDLE"] = oncall_handle
