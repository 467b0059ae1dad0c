"""The alert router in AWS: the function on the alert topic, its secret, idempotency table and dead letters.

Nothing is lost on the way to Slack: SNS invokes the function asynchronously; a failed event is retried
twice by Lambda, then kept whole in the dead-letter queue (an on-failure destination keeps the event and
the error). An event SNS cannot hand to Lambda at all lands in the same queue (subscription redrive).
The two alarms about the router go to the fallback topic as well, so they reach a human when the router
itself is what is broken.

The webhook URLs never appear in the template or the function's environment: the stack creates the
secret with a generated placeholder and the operator writes the real JSON into it
(`aws secretsmanager put-secret-value`); the function reads it at run time.
"""

from __future__ import annotations

import json

from aws_cdk import Acknowledgment, CfnOutput, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.alarm_factory import AlarmFactory
from infra.config import EnvironmentConfig
from infra.constructs.function import ProjectFunction
from lambdas.shared.alarm_metadata import Category, Severity

NAME = "alert-router"
HANDLER = "lambdas.alert_router.handler.lambda_handler"
NAMESPACE_SUFFIX = "AlertRouter"
# The actions Powertools' DynamoDBPersistenceLayer calls: read, create/overwrite, complete, delete on failure.
IDEMPOTENCY_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem")
MAX_EVENT_AGE = Duration.hours(6)  # Lambda's maximum: a Slack outage of a few hours still delivers late
RETRY_ATTEMPTS = 2
WIDGET_WIDTH = 6
WIDGET_HEIGHT = 6


class AlertRouterConstruct(Construct):
    """Public: `function`, `role`, `secret`, `table`, `dead_letter_queue`, `dlq_alarm`, `errors_alarm`,
    `widgets` (the dashboard row, added by the stack)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        factory: AlarmFactory,
        alert_topic: sns.ITopic,
        fallback_topic: sns.ITopic,
        dashboard_name: str,
    ) -> None:
        super().__init__(scope, construct_id)
        production = config.environment == "production"
        self.metrics_namespace = f"{config.metrics_namespace}/{NAMESPACE_SUFFIX}"

        self.secret = secretsmanager.Secret(
            self,
            "SlackWebhooks",
            secret_name=f"{config.prefix}/slack-webhooks",
            description=(
                "Slack incoming-webhook URL per channel of the alert router, JSON"
                ' {"alerts-critical": url, "alerts-errors": url, "alerts-performance": url}. Created with a'
                " generated placeholder; fill with aws secretsmanager put-secret-value."
            ),
            removal_policy=RemovalPolicy.RETAIN if production else RemovalPolicy.DESTROY,
        )
        Validations.of(self.secret).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-SMG4",
                reason=(
                    "Slack incoming-webhook URLs cannot be rotated by an API: a new URL is issued in Slack's UI"
                    " and written by the operator (docs: put-secret-value); the router re-reads it every 5 min."
                ),
            )
        )

        self.table = dynamodb.Table(
            self,
            "IdempotencyTable",
            partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
            time_to_live_attribute="expiration",
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            # Message ids expire within a day: nothing in it is worth keeping after the stack is gone.
            removal_policy=RemovalPolicy.DESTROY,
        )

        self.dead_letter_queue = sqs.Queue(
            self,
            "DeadLetterQueue",
            queue_name=f"{config.prefix}-alert-router-dlq",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        Validations.of(self.dead_letter_queue).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-SQS3",
                reason=(
                    "This queue is the dead-letter queue: the alert router's on-failure destination and its SNS"
                    " subscription's redrive target; a DLQ of a DLQ would only hide lost alerts."
                ),
            )
        )

        router = ProjectFunction(
            self,
            "Function",
            config=config,
            name=NAME,
            handler=HANDLER,
            description="Routes CloudWatch alarm notifications to the right Slack channel",
            timeout=Duration.seconds(config.router.timeout_seconds),
            memory_size=256,
            reserved_concurrency=config.router.reserved_concurrency,
            environment=router_environment(config, dashboard_name=dashboard_name)
            | {
                "SLACK_WEBHOOK_SECRET_ARN": self.secret.secret_arn,
                "IDEMPOTENCY_TABLE_NAME": self.table.table_name,
            },
            retry_attempts=RETRY_ATTEMPTS,
            max_event_age=MAX_EVENT_AGE,
            on_failure=destinations.SqsDestination(self.dead_letter_queue),
        )
        self.function = router.function
        self.role = router.role
        self.secret.grant_read(self.role)
        self.table.grant(self.role, *IDEMPOTENCY_ACTIONS)

        alert_topic.add_subscription(
            subscriptions.LambdaSubscription(self.function, dead_letter_queue=self.dead_letter_queue)
        )

        self.dlq_alarm = factory.create(
            self,
            "DeadLetterQueueAlarm",
            name="router-dead-letter-queue",
            summary=(
                "An alert notification could not be delivered to Slack and is waiting in the router's dead-letter queue"
            ),
            metric=self.dead_letter_queue.metric_approximate_number_of_messages_visible(
                statistic="Maximum", period=Duration.minutes(1)
            ),
            threshold=0,
            comparison=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
            # A lost alert may have been a Critical one: page like one.
            severity=Severity.CRITICAL,
            category=Category.ERRORS,
            runbook="router-dead-letter-queue",
            extra_topics=(fallback_topic,),
        )
        self.errors_alarm = factory.create(
            self,
            "ErrorsAlarm",
            name="router-errors",
            summary="The alert router failed an invocation (Slack delivery failed, bad secret or a bug)",
            metric=self.function.metric_errors(statistic="Sum", period=Duration.minutes(5)),
            threshold=0,
            comparison=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
            severity=Severity.WARNING,
            category=Category.ERRORS,
            runbook="router-errors",
            extra_topics=(fallback_topic,),
        )

        self.widgets = self._widgets(config)
        # Stack-level outputs with fixed names: the deployment guide refers to them.
        stack = Stack.of(self)
        CfnOutput(
            stack,
            "SlackWebhookSecretName",
            value=f"{config.prefix}/slack-webhooks",
            description="Fill with: aws secretsmanager put-secret-value --secret-id <this> --secret-string file://...",
        )
        CfnOutput(stack, "SlackWebhookSecretArn", value=self.secret.secret_arn)
        CfnOutput(stack, "AlertRouterDeadLetterQueueUrl", value=self.dead_letter_queue.queue_url)

    def _router_metric(self, name: str, environment: str, label: str) -> cw.Metric:
        # Exactly the handler's EMF dimension set (lambdas/alert_router/handler.py): service + environment.
        return cw.Metric(
            namespace=self.metrics_namespace,
            metric_name=name,
            dimensions_map={"service": NAME, "environment": environment},
            statistic="Sum",
            period=Duration.minutes(5),
            label=label,
        )

    def _widgets(self, config: EnvironmentConfig) -> list[cw.IWidget]:
        environment = config.environment
        delivered = cw.MathExpression(
            # One line per channel and severity, whatever channels the overrides add.
            expression=(
                f"SEARCH('{{{self.metrics_namespace},channel,environment,service,severity}}"
                f' MetricName="Delivered" service="{NAME}" environment="{environment}"\', \'Sum\', 300)'
            ),
            label="",
            period=Duration.minutes(5),
        )
        return [
            _graph(
                "Router invocations / errors / throttles",
                [
                    self.function.metric_invocations(statistic="Sum", label="invocations"),
                    self.function.metric_errors(statistic="Sum", label="errors"),
                    self.function.metric_throttles(statistic="Sum", label="throttles"),
                ],
                annotations=[self.errors_alarm.to_annotation()],
            ),
            _graph("Slack messages delivered (channel, severity)", [delivered]),
            _graph(
                "Router retries / failures / unparsed / suppressed",
                [
                    self._router_metric("Retries", environment, "retries"),
                    self._router_metric("DeliveryFailures", environment, "delivery failures"),
                    self._router_metric("Unparsed", environment, "unparsed"),
                    self._router_metric("Suppressed", environment, "suppressed"),
                    self._router_metric("Duplicates", environment, "duplicates"),
                ],
            ),
            _graph(
                "Router dead-letter queue (messages)",
                [
                    self.dead_letter_queue.metric_approximate_number_of_messages_visible(
                        statistic="Maximum", period=Duration.minutes(1), label="visible"
                    )
                ],
                annotations=[self.dlq_alarm.to_annotation()],
            ),
        ]


def router_environment(config: EnvironmentConfig, *, dashboard_name: str) -> dict[str, str]:
    """The router's plain-string settings (lambdas/alert_router/settings.py); ARNs and names are added apart."""
    return {
        "ENVIRONMENT": config.environment,
        "DISPLAY_TIME_ZONE": config.display_time_zone,
        "DASHBOARD_NAME": dashboard_name,  # the router builds the console link in the alarm's region
        "IDEMPOTENCY_TTL_SECONDS": str(config.router.idempotency_ttl_hours * 3600),
        "ROUTING_OVERRIDES": json.dumps(
            [override.model_dump(exclude_none=True) for override in config.router.overrides], separators=(",", ":")
        ),
        "CHANNELS": json.dumps(config.slack_channels.model_dump(), separators=(",", ":")),
        "SYNTHETICS_NAMESPACE": f"{config.metrics_namespace}/Synthetics",
        "POWERTOOLS_METRICS_NAMESPACE": f"{config.metrics_namespace}/{NAMESPACE_SUFFIX}",
        "POWERTOOLS_SERVICE_NAME": NAME,
    }


def _graph(
    title: str, metrics: list[cw.IMetric], *, annotations: list[cw.HorizontalAnnotation] | None = None
) -> cw.GraphWidget:
    return cw.GraphWidget(
        title=title,
        left=metrics,
        left_annotations=annotations,
        width=WIDGET_WIDTH,
        height=WIDGET_HEIGHT,
        legend_position=cw.LegendPosition.BOTTOM,
    )
