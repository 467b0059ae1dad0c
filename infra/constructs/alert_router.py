"""The alert router in AWS: its intake queue, the function reading it, its secret, tables and dead letters.

Nothing is lost on the way to Slack (issue 13): the alert topic feeds an SQS queue (KMS-encrypted with a
key of its own that SNS may use for this topic only; the stack subscribes it), and the function reads it
through an event source mapping that gathers alarms for `router.grouping.wait_seconds` (the batching
window: the grouping wait), at most `router.intake.max_concurrency` batches at a time (Slack's pace per
channel is not raced), and reports failed records (`ReportBatchItemFailures`), so one bad record never
re-posts its batch. A record that fails `router.intake.max_receive_count` times is moved to the
dead-letter queue, where a message SNS could not hand to the queue at all lands too (subscription
redrive): both are the SNS envelope, which the runbook replays into the queue. The queue's visibility
timeout is six times the function's timeout plus the batching window, as AWS recommends for an event
source (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html).
The alarms about the router go to the fallback topic as well, so they reach a human when the router
itself is what is broken: a dead letter arriving, one waiting too long, errors, a failing sweep, and each
fallback the router takes (a parser or renderer failing, idempotency unavailable, Slack refusing Block
Kit, updates failing).

Bot-token mode (issue 7) keeps incidents and silences in a second table (lambdas/alert_router/
incidents/store.py describes it) and needs a sweep: an EventBridge schedule invokes the router with the
plain scheduled event every `router.incidents.sweep_minutes`. In webhook mode the sweep returns at once.

The webhook URLs (or the bot token) never appear in the template or the function's environment: the stack creates the
secret with a generated placeholder and the operator writes the real JSON into it
(`aws secretsmanager put-secret-value`); the function reads it at run time.
"""

from __future__ import annotations

import dataclasses
import json

from aws_cdk import Acknowledgment, CfnOutput, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.alarm_factory import AlarmFactory
from infra.config import EnvironmentConfig
from infra.constructs.function import ProjectFunction
from infra.retention import kept_in_production
from lambdas.alert_router.incidents.store import SWEEP_INDEX
from lambdas.shared.alarm_metadata import Category, Severity

NAME = "alert-router"
HANDLER = "lambdas.alert_router.handler.lambda_handler"
NAMESPACE_SUFFIX = "AlertRouter"
# The actions Powertools' DynamoDBPersistenceLayer calls: read, create/overwrite, complete, delete on failure.
IDEMPOTENCY_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem")
# What incident_store.DynamoDBIncidentStore calls: get_item and conditional put_item on the table, query on
# the sweep index. No update or delete: every write replaces the whole item, TTL removes old ones.
INCIDENT_TABLE_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem")
INCIDENT_INDEX_ACTIONS = ("dynamodb:Query",)
# AWS: a source queue's visibility timeout of at least six times the function's timeout (plus the batching
# window), so a batch retried after throttling is not received twice meanwhile.
VISIBILITY_TIMEOUT_FACTOR = 6
# Four days of alerts wait in the queue through an outage; the dead-letter queue keeps its messages longer,
# as AWS advises (a message keeps its first enqueue time when it is moved there).
INTAKE_RETENTION = Duration.days(4)
DEAD_LETTER_RETENTION = Duration.days(14)
# A dead letter not replayed within this long is an alert nobody saw: alarm on its age too (issue 17 item 4).
DEAD_LETTER_MAX_AGE = Duration.hours(1)
# An alert normally waits in the intake queue for the batching window plus one invocation. One older than
# this is not being read (the event source disabled or throttled, the function failing every batch) and
# would be lost when the retention ends: the backlog alarm says so long before.
INTAKE_MAX_AGE = Duration.minutes(15)
# The router's fallbacks (lambdas/alert_router/telemetry.py): metric -> (alarm name, what it means)
FALLBACK_ALARMS = {
    "ParseFailures": (
        "router-parse-failures",
        "The alert router's parser failed on a notification; it was posted as received, routed by its Severity line",
    ),
    "RenderFailures": (
        "router-render-failures",
        "The alert router could not render an alert (a bug); it was posted as received",
    ),
    "IdempotencyDegraded": (
        "router-idempotency-degraded",
        "The alert router's idempotency table failed; alerts were delivered without it and may be posted twice",
    ),
    "PlainTextFallbacks": (
        "router-plain-text-fallbacks",
        "Slack refused the alert router's Block Kit message; it was posted as plain text only",
    ),
    # bot-token mode, acting from Slack (issue 14)
    "HistoryWriteFailures": (
        "router-history-write-failures",
        "Bot-token mode: the incident history could not be written; the alarm report misses those state changes",
    ),
    "EscalationPageFailures": (
        "router-escalation-page-failures",
        "Bot-token mode: an escalation could not be published to the escalation topic (email, SMS); the sweep"
        " repeats it",
    ),
    "AnswerFallbacks": (
        "router-answer-fallbacks",
        "Bot-token mode: Slack refused the private answer to a button click; it was said in the thread instead",
    ),
}
ASYNC_RETRY_ATTEMPTS = 2
# The router's own alarms are one fault (it cannot deliver): one message when several fire together.
ROUTER_GROUP = "alert-router"
WIDGET_WIDTH = 6
WIDGET_HEIGHT = 6


class AlertRouterConstruct(Construct):
    """Public: `function`, `role`, `secret`, `table`, `incident_table`, `sweep_rule`, `queue` and its `queue_key`
    (the stack subscribes the queue to the alert topic), `dead_letter_queue`, `dlq_alarm`, `dlq_age_alarm`,
    `backlog_alarm`, `delivery_failures_alarm`, `errors_alarm`, `sweep_alarm`, `fallback_alarms` (metric -> alarm),
    `widgets`, `incident_widgets` and `action_widgets` (dashboard rows and a graph, added by the stack)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        factory: AlarmFactory,
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
                "Slack credentials of the alert router, JSON in one of two shapes: webhook mode"
                ' {"alerts-critical": url, "alerts-errors": url, "alerts-performance": url}, or bot-token mode'
                ' {"bot_token": <Slack bot token>, "channel_ids": {"alerts-critical": "C...", ...}}. Created with a'
                " generated placeholder; fill with aws secretsmanager put-secret-value."
            ),
            removal_policy=RemovalPolicy.RETAIN if production else RemovalPolicy.DESTROY,
        )
        Validations.of(self.secret).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-SMG4",
                reason=(
                    "Slack incoming-webhook URLs and bot tokens cannot be rotated by an API: a new one is issued"
                    " in Slack's UI and written by the operator (docs: put-secret-value); the router re-reads"
                    " it every 5 min."
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

        self.incident_table = dynamodb.Table(
            self,
            "IncidentTable",
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            time_to_live_attribute="expires_at",
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            # Open incidents' thread ts and the silences people created: losing them re-posts and un-silences.
            removal_policy=RemovalPolicy.RETAIN if production else RemovalPolicy.DESTROY,
        )
        self.incident_table.add_global_secondary_index(
            index_name=SWEEP_INDEX,
            partition_key=dynamodb.Attribute(name="sweep", type=dynamodb.AttributeType.STRING),
            projection_type=dynamodb.ProjectionType.ALL,
        )

        self.dead_letter_queue = sqs.Queue(
            self,
            "DeadLetterQueue",
            queue_name=f"{config.prefix}-alert-router-dlq",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=DEAD_LETTER_RETENTION,
        )
        Validations.of(self.dead_letter_queue).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-SQS3",
                reason=(
                    "This queue is the dead-letter queue: the intake queue's redrive target and its SNS"
                    " subscription's; a DLQ of a DLQ would only hide lost alerts."
                ),
            )
        )

        # A customer-managed key: SNS can only write to an encrypted queue whose key policy lets it (the
        # stack's subscription adds that statement, for the alert topic only).
        # https://docs.aws.amazon.com/sns/latest/dg/sns-enable-encryption-for-topic-sqs-queue-subscriptions.html
        self.queue_key = kms.Key(
            self,
            "QueueKey",
            alias=f"alias/{config.prefix}-alert-router-queue",
            description=f"Encrypts the {config.prefix} alert router's intake queue; SNS writes alerts with it",
            enable_key_rotation=True,
            pending_window=Duration.days(7),
            removal_policy=kept_in_production(config.environment),
        )
        wait = config.router.grouping.wait_seconds
        self.queue = sqs.Queue(
            self,
            "IntakeQueue",
            queue_name=f"{config.prefix}-alert-router-intake",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=self.queue_key,
            enforce_ssl=True,
            retention_period=INTAKE_RETENTION,
            visibility_timeout=Duration.seconds(VISIBILITY_TIMEOUT_FACTOR * config.router.timeout_seconds + wait),
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=self.dead_letter_queue, max_receive_count=config.router.intake.max_receive_count
            ),
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
                "INCIDENT_TABLE_NAME": self.incident_table.table_name,
            },
            # Asynchronous invocations: the sweep's schedule and the Slack buttons' clicks (lambdas/slack_actions).
            # Lambda retries a failed one twice, then records it in the dead-letter queue: a click is not lost.
            retry_attempts=ASYNC_RETRY_ATTEMPTS,
            max_event_age=Duration.minutes(max(1, config.router.incidents.sweep_minutes)),
            on_failure=destinations.SqsDestination(self.dead_letter_queue),
        )
        self.function = router.function
        # Grants the role ReceiveMessage, ChangeMessageVisibility, GetQueueUrl, DeleteMessage,
        # GetQueueAttributes on the queue and kms:Decrypt on its key.
        # https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html#events-sqs-permissions
        self.function.add_event_source(
            event_sources.SqsEventSource(
                self.queue,
                batch_size=config.router.intake.batch_size,
                max_batching_window=Duration.seconds(wait) if wait else None,
                max_concurrency=config.router.intake.max_concurrency,
                report_batch_item_failures=True,
            )
        )
        self.role = router.role
        self.secret.grant_read(self.role)
        self.table.grant(self.role, *IDEMPOTENCY_ACTIONS)
        # Not incident_table.grant(): with an index it also grants the actions on `<table>/index/*`.
        self.role.add_to_principal_policy(
            iam.PolicyStatement(actions=list(INCIDENT_TABLE_ACTIONS), resources=[self.incident_table.table_arn])
        )
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=list(INCIDENT_INDEX_ACTIONS),
                resources=[f"{self.incident_table.table_arn}/index/{SWEEP_INDEX}"],
            )
        )

        # The plain scheduled event (no Input): the handler recognises source aws.events + Scheduled Event.
        self.sweep_rule = events.Rule(
            self,
            "SweepSchedule",
            rule_name=f"{config.prefix}-alert-router-sweep",
            description="Bot-token mode: re-announce, repair, summarise silences (alert router sweep)",
            schedule=events.Schedule.rate(Duration.minutes(config.router.incidents.sweep_minutes)),
        )
        self.sweep_rule.add_target(
            targets.LambdaFunction(
                self.function,
                # A missed sweep is made good by the next one: no point queueing an old one.
                retry_attempts=0,
                max_event_age=Duration.minutes(max(1, config.router.incidents.sweep_minutes)),
            )
        )

        self.dlq_alarm, self.dlq_age_alarm = self._dead_letter_alarms(factory, fallback_topic)
        self.backlog_alarm = self._age_alarm(
            factory,
            fallback_topic,
            self.queue,
            name="router-intake-backlog",
            summary=(
                f"An alert has waited in the router's intake queue for more than {INTAKE_MAX_AGE.to_minutes()}"
                " minutes: the router is not reading it (event source disabled or throttled, or every batch failing)"
            ),
            max_age=INTAKE_MAX_AGE,
            period=Duration.minutes(1),
        )
        # A record whose message Slack did not take is retried by SQS, not raised: the invocation succeeds, so
        # Lambda's Errors no longer sees it. Heard within 5 minutes here, not only as a dead letter later.
        self.delivery_failures_alarm = factory.create_on_any(
            self,
            "DeliveryFailuresAlarm",
            name="router-delivery-failures",
            summary=(
                "The alert router could not post alerts to Slack; SQS delivers them again (then the dead-letter queue)"
            ),
            metric=self._alarm_metric("DeliveryFailures", config.environment),
            severity=Severity.WARNING,
            runbook="router-errors",
            extra_topics=(fallback_topic,),
            group=ROUTER_GROUP,
        )
        self.errors_alarm = factory.create_on_any(
            self,
            "ErrorsAlarm",
            name="router-errors",
            summary="The alert router failed an invocation (Slack delivery failed, bad secret or a bug)",
            metric=self.function.metric_errors(statistic="Sum", period=Duration.minutes(5)),
            severity=Severity.WARNING,
            runbook="router-errors",
            extra_topics=(fallback_topic,),
            group=ROUTER_GROUP,
        )

        sweep_period = Duration.minutes(config.router.incidents.sweep_minutes)
        self.sweep_alarm = factory.create(
            self,
            "SweepFailingAlarm",
            name="router-sweep-failing",
            summary=(
                "The incident sweep (repeats, flapping, silence summaries) left work undone in 3 sweeps running:"
                " Slack or the incident table keeps failing"
            ),
            # No label: a labelled metric would make CDK write the alarm as metric math.
            metric=cw.Metric(
                namespace=self.metrics_namespace,
                metric_name="SweepFailures",
                dimensions_map={"service": NAME, "environment": config.environment},
                statistic="Sum",
                period=sweep_period,
            ),
            threshold=1,
            comparison=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=3,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,  # webhook mode has no sweep
            severity=Severity.WARNING,
            category=Category.ERRORS,
            runbook="router-errors",
            extra_topics=(fallback_topic,),
            group=ROUTER_GROUP,
        )

        self.fallback_alarms = self._fallback_alarms(config, factory, fallback_topic)

        self.widgets = self._widgets(config)
        self.incident_widgets = self._incident_widgets(config.environment)
        # Bot-token mode's actions from Slack (issue 14): the stack puts it in the Slack buttons row
        self.action_widgets = [
            _graph(
                "Acted from Slack (buttons, escalations, history)",
                [
                    self._router_metric(name, config.environment, label)
                    for name, label in (
                        ("Acknowledged", "acknowledged"),
                        ("SilencedFromSlack", "silenced from Slack"),
                        ("Unsilenced", "unsilenced"),
                        ("ActionsAnswered", "clicks answered (nothing to do)"),
                        ("ActionsIgnored", "clicks ignored (webhook mode)"),
                        ("Escalations", "escalated"),
                        ("EscalationPages", "escalation topic"),
                        ("HistoryWrites", "history entries"),
                    )
                ],
            )
        ]
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
        CfnOutput(stack, "AlertRouterDeadLetterQueueArn", value=self.dead_letter_queue.queue_arn)
        CfnOutput(
            stack,
            "AlertRouterIntakeQueueArn",
            value=self.queue.queue_arn,
            description="Replay dead letters into it: aws sqs start-message-move-task --destination-arn <this>",
        )
        CfnOutput(
            stack,
            "IncidentTableName",
            value=self.incident_table.table_name,
            description="Incidents and silences (bot-token mode); make silence finds it through this output",
        )

    def _dead_letter_alarms(self, factory: AlarmFactory, fallback_topic: sns.ITopic) -> tuple[cw.Alarm, cw.Alarm]:
        """Each new dead letter is heard (issue 17 item 4), and so is one left waiting.

        NumberOfMessagesSent does not count a message SQS moves to a dead-letter queue under a redrive policy
        (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html),
        and "visible > 0" stays in ALARM from the first dead letter on, so a second one says nothing. The
        alarm is on the rise of the visible count from one minute to the next: DIFF(FILL(visible, 0)) > 0
        (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html). FILL makes
        the first message in an idle queue, which SQS stops reporting on, a rise from 0. Every arrival is
        one ALARM and, a minute later, one OK; the age alarm stays in ALARM while a dead letter waits.
        """
        visible = self.dead_letter_queue.metric_approximate_number_of_messages_visible(
            statistic="Maximum", period=Duration.minutes(1)
        )
        arrivals = cw.MathExpression(
            expression="DIFF(FILL(visible, 0))",
            using_metrics={"visible": visible},
            label="dead letters arrived",
            period=Duration.minutes(1),
        )
        arrived = factory.create_on_any(
            self,
            "DeadLetterQueueAlarm",
            name="router-dead-letter-queue",
            summary=("An alert could not be delivered to Slack and has just arrived in the router's dead-letter queue"),
            metric=arrivals,
            # A lost alert may have been a Critical one: page like one.
            severity=Severity.CRITICAL,
            runbook="router-dead-letter-queue",
            extra_topics=(fallback_topic,),
            group=ROUTER_GROUP,
        )
        waiting = self._age_alarm(
            factory,
            fallback_topic,
            self.dead_letter_queue,
            name="router-dead-letter-waiting",
            summary=(
                f"An alert has waited in the router's dead-letter queue for more than"
                f" {DEAD_LETTER_MAX_AGE.to_minutes()} minutes: replay it or discard it"
            ),
            max_age=DEAD_LETTER_MAX_AGE,
            period=Duration.minutes(5),
        )
        return arrived, waiting

    def _age_alarm(
        self,
        factory: AlarmFactory,
        fallback_topic: sns.ITopic,
        queue: sqs.IQueue,
        *,
        name: str,
        summary: str,
        max_age: Duration,
        period: Duration,
    ) -> cw.Alarm:
        """Critical when the oldest message of `queue` is older than `max_age` (an alert nobody saw yet)."""
        return factory.create(
            self,
            "".join(part.capitalize() for part in name.split("-")) + "Alarm",
            name=name,
            summary=summary,
            metric=queue.metric_approximate_age_of_oldest_message(statistic="Maximum", period=period),
            threshold=max_age.to_seconds(),
            comparison=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,  # an empty queue publishes no age
            severity=Severity.CRITICAL,
            category=Category.ERRORS,
            runbook="router-dead-letter-queue",
            extra_topics=(fallback_topic,),
            group=ROUTER_GROUP,
        )

    def _fallback_alarms(
        self, config: EnvironmentConfig, factory: AlarmFactory, fallback_topic: sns.ITopic
    ) -> dict[str, cw.Alarm]:
        """One warning per fallback the router takes: each means a bug, an outage or a message Slack refused."""
        alarms = {
            metric: factory.create_on_any(
                self,
                f"{metric}Alarm",
                name=name,
                summary=summary,
                metric=self._alarm_metric(metric, config.environment),
                severity=Severity.WARNING,
                runbook="router-errors",
                extra_topics=(fallback_topic,),
                group=ROUTER_GROUP,
            )
            for metric, (name, summary) in FALLBACK_ALARMS.items()
        }
        # A single failed chat.update is repaired by the next sweep: alarm when updates keep failing.
        alarms["UpdateFailures"] = factory.create(
            self,
            "UpdateFailuresAlarm",
            name="router-update-failures",
            summary="Bot-token mode: Slack message updates (resolved in place, notices cleared) keep failing",
            metric=self._alarm_metric("UpdateFailures", config.environment),
            threshold=1,
            comparison=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=3,
            datapoints_to_alarm=2,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
            severity=Severity.WARNING,
            category=Category.ERRORS,
            runbook="router-errors",
            extra_topics=(fallback_topic,),
            group=ROUTER_GROUP,
        )
        return alarms

    def _alarm_metric(self, name: str, environment: str) -> cw.Metric:
        # No label: a labelled metric would make CDK write the alarm as metric math.
        return cw.Metric(
            namespace=self.metrics_namespace,
            metric_name=name,
            dimensions_map={"service": NAME, "environment": environment},
            statistic="Sum",
            period=Duration.minutes(5),
        )

    def _router_metric(self, name: str, environment: str, label: str, statistic: str = "Sum") -> cw.Metric:
        # Exactly the handler's EMF dimension set (lambdas/alert_router/telemetry.py): service + environment.
        return cw.Metric(
            namespace=self.metrics_namespace,
            metric_name=name,
            dimensions_map={"service": NAME, "environment": environment},
            statistic=statistic,
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
            _graph(
                "Alerts received / delivered (channel, severity)",
                [self._router_metric("Received", environment, "received"), delivered],
            ),
            _graph(
                "Router retries / failures / unparsed / suppressed / grouped",
                [
                    self._router_metric("Retries", environment, "retries"),
                    self._router_metric("DeliveryFailures", environment, "delivery failures"),
                    self._router_metric("Unparsed", environment, "unparsed"),
                    self._router_metric("Suppressed", environment, "suppressed"),
                    self._router_metric("Duplicates", environment, "duplicates"),
                    self._router_metric("Grouped", environment, "folded into a group's message"),
                    self._router_metric("DigestMessages", environment, "storm digest messages"),
                ],
            ),
            _graph(
                "Router fallbacks (parse, render, idempotency, plain text)",
                [
                    self._router_metric("ParseFailures", environment, "parse failures"),
                    self._router_metric("RenderFailures", environment, "render failures"),
                    self._router_metric("IdempotencyDegraded", environment, "idempotency degraded"),
                    self._router_metric("PlainTextFallbacks", environment, "plain text fallbacks"),
                ],
            ),
            _graph(
                "Router intake queue / dead letters (messages)",
                [
                    self.queue.metric_approximate_number_of_messages_visible(
                        statistic="Maximum", period=Duration.minutes(1), label="waiting in the intake queue"
                    ),
                    self.dead_letter_queue.metric_approximate_number_of_messages_visible(
                        statistic="Maximum", period=Duration.minutes(1), label="dead letters"
                    ),
                ],
            ),
        ]

    def _incident_widgets(self, environment: str) -> list[cw.IWidget]:
        """Bot-token mode's counters (lambdas/alert_router/incidents/loop.py); empty graphs in webhook mode."""
        return [
            # a gauge written by each sweep: the latest value is the number of incidents open now
            _graph("Open incidents", [self._router_metric("OpenIncidents", environment, "open", "Maximum")]),
            _graph("Alerts silenced", [self._router_metric("Silenced", environment, "silenced")]),
            _graph(
                "Incident messages",
                [
                    self._router_metric("IncidentsOpened", environment, "incidents opened"),
                    self._router_metric("ThreadReplies", environment, "thread replies"),
                    self._router_metric("RepeatAnnouncements", environment, "repeat announcements"),
                    self._router_metric("FlappingNotices", environment, "flapping notices"),
                    self._router_metric("BlindNotices", environment, "monitoring-blind notices"),
                    self._router_metric("ReAnchored", environment, "re-posted (message deleted)"),
                    self._router_metric("GraphsAttached", environment, "graphs attached"),
                ],
            ),
            _graph(
                "Messages updated / update and sweep failures",
                [
                    self._router_metric("Updates", environment, "updates"),
                    self._router_metric("UpdateFailures", environment, "update failures"),
                    self._router_metric("SweepFailures", environment, "sweep failures"),
                ],
            ),
        ]


def router_environment(config: EnvironmentConfig, *, dashboard_name: str) -> dict[str, str]:
    """The router's plain-string settings (lambdas/alert_router/settings.py); ARNs and names are added apart."""
    incidents = config.router.incidents
    return {
        "ENVIRONMENT": config.environment,
        "DISPLAY_TIME_ZONE": config.display_time_zone,
        "DASHBOARD_NAME": dashboard_name,  # the router builds the console link in the alarm's region
        "IDEMPOTENCY_TTL_SECONDS": str(config.router.idempotency_ttl_hours * 3600),
        "ROUTING_OVERRIDES": json.dumps(
            [override.model_dump(exclude_none=True) for override in config.router.overrides], separators=(",", ":")
        ),
        "CHANNELS": json.dumps(config.slack_channels.model_dump(), separators=(",", ":")),
        # the whole table, defaults included: what Sentry alerts route by is visible in the template
        "SENTRY_ROUTING": json.dumps(dataclasses.asdict(config.router.sentry_routing_table()), separators=(",", ":")),
        "REPEAT_INTERVAL_MINUTES": str(incidents.repeat_interval_minutes),
        "FLAPPING_TRANSITIONS": str(incidents.flapping_transitions),
        "FLAPPING_WINDOW_MINUTES": str(incidents.flapping_window_minutes),
        "MAINTENANCE_WINDOWS": json.dumps(
            [window.lambda_spec() for window in incidents.maintenance_windows], separators=(",", ":")
        ),
        "GROUPING": json.dumps(config.router.grouping.lambda_spec(), separators=(",", ":")),
        **escalation_environment(config),
        "SYNTHETICS_NAMESPACE": f"{config.metrics_namespace}/Synthetics",
        "POWERTOOLS_METRICS_NAMESPACE": f"{config.metrics_namespace}/{NAMESPACE_SUFFIX}",
        "POWERTOOLS_SERVICE_NAME": NAME,
    }


def escalation_environment(config: EnvironmentConfig) -> dict[str, str]:
    """ESCALATION_MINUTES and ESCALATION_USER_GROUP (the topic's ARN is added by the stack, which makes it)."""
    escalation = config.router.escalation
    if not escalation.enabled:
        return {}
    group = {"ESCALATION_USER_GROUP": escalation.user_group_id} if escalation.user_group_id else {}
    return {"ESCALATION_MINUTES": str(escalation.after_minutes), **group}


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
