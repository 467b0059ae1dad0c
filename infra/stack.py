"""The monitoring stack of one environment: composes one construct per concern."""

from __future__ import annotations

from typing import Any

from aws_cdk import Acknowledgment, Aspects, CfnOutput, Environment, Stack, Validations
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from infra.alarm_factory import AlarmFactory
from infra.config import ConfigError, EnvironmentConfig
from infra.constructs.alb_monitoring import AlbMonitoring
from infra.constructs.alert_router import AlertRouterConstruct
from infra.constructs.alerting import AlertingConstruct
from infra.constructs.dashboard import DashboardConstruct
from infra.constructs.ecs_monitoring import EcsMonitoring
from infra.constructs.escalation import EscalationConstruct
from infra.constructs.logs import LogsConstruct
from infra.constructs.rds_monitoring import RdsMonitoring
from infra.constructs.redis_monitoring import RedisMonitoring
from infra.constructs.router_enrichment import RouterEnrichment
from infra.constructs.sentry_intake import SentryIntakeConstruct
from infra.constructs.slack_actions import SlackActionsConstruct
from infra.constructs.synthetic_alarms import SyntheticAlarms, SyntheticMetrics, Vantage
from infra.constructs.synthetics import MAX_EVENT_AGE, SyntheticsConstruct
from infra.constructs.synthetics import NAME as MONITOR_NAME
from infra.retention import RetainExceptOnCreate
from lambdas.alert_router.incidents.silences import silences_everything


def stack_name(config: EnvironmentConfig) -> str:
    return f"{config.prefix}-monitoring"


class MonitoringStack(Stack):
    def __init__(self, scope: Construct, *, config: EnvironmentConfig, **kwargs: Any) -> None:
        # The configured region (and account, when given) pins the stack: without it, CDK writes
        # `unknown-region` and a manual deploy goes wherever the CLI's default region points.
        env = Environment(account=config.account, region=config.region) if config.account or config.region else None
        super().__init__(
            scope,
            stack_name(config),
            env=env,
            description=f"Monitoring and alerting for {config.service_name} ({config.environment})",
            tags={"service": config.service_name, "environment": config.environment, "managed-by": "cdk"},
            **kwargs,
        )
        self.config = config
        self.alerting = AlertingConstruct(
            self,
            "Alerting",
            prefix=config.prefix,
            environment=config.environment,
            fallback_email=config.router.fallback_email,
        )
        self.logs = LogsConstruct(
            self,
            "Logs",
            prefix=config.prefix,
            environment=config.environment,
            retention=config.log_retention,
            settings=config.logs,
        )
        self.alarm_factory = factory = AlarmFactory(config=config, topic=self.alerting.alert_topic)
        self.dashboard = DashboardConstruct(self, "Dashboard", prefix=config.prefix)

        limits = config.thresholds
        self.ecs = EcsMonitoring(self, "Ecs", ecs=config.ecs, thresholds=limits, factory=factory)
        self.alb = AlbMonitoring(self, "Alb", alb=config.alb, thresholds=limits, factory=factory)
        self.rds = RdsMonitoring(self, "Rds", rds=config.rds, thresholds=limits, factory=factory)
        self.redis = RedisMonitoring(self, "Redis", elasticache=config.elasticache, thresholds=limits, factory=factory)

        self.alert_router = AlertRouterConstruct(
            self,
            "AlertRouter",
            config=config,
            factory=factory,
            fallback_topic=self.alerting.fallback_topic,
            dashboard_name=self.dashboard.dashboard_name,
        )
        # The alert topic feeds the router's queue (SNS envelopes, not raw: the SNS MessageId is the
        # idempotency key); a message SNS cannot write there goes to the dead-letter queue. The subscription
        # writes the queue policy and the queue key's statement for SNS, both for this topic only.
        self.alerting.alert_topic.add_subscription(
            subscriptions.SqsSubscription(
                self.alert_router.queue, dead_letter_queue=self.alert_router.dead_letter_queue
            )
        )
        self._act_from_slack(config, factory)

        self.sentry_intake = SentryIntakeConstruct(
            self,
            "SentryIntake",
            config=config,
            alert_topic=self.alerting.alert_topic,
            factory=factory,
            fallback_topic=self.alerting.fallback_topic,
        )
        # Least privilege: read its one secret, publish to the alert topic (and use the topic key for that).
        self.sentry_intake.secret.grant_read(self.sentry_intake.role)
        self.alerting.alert_topic.grant_publish(self.sentry_intake.role)

        self.synthetics = SyntheticsConstruct(self, "Synthetics", config=config)
        # A late run is worthless: no retries, no replay after a minute.
        self.synthetics.rule.add_target(
            targets.LambdaFunction(self.synthetics.function, retry_attempts=0, max_event_age=MAX_EVENT_AGE)
        )
        self.synthetic_alarms = SyntheticAlarms(
            self,
            "SyntheticAlarms",
            settings=self.synthetics.settings,
            metrics=SyntheticMetrics(self.synthetics.namespace, config.environment, self.synthetics.period),
            function=self.synthetics.function,
            datapoints=config.synthetics.alarm_datapoints,
            certificate_warning_days=config.synthetics.certificate_warning_days,
            factory=factory,
            vantage=vantage(config),
            # The probe stacks' functions: the same physical name, in their own Regions.
            probe_function_name=f"{config.prefix}-{MONITOR_NAME}" if config.synthetics.probe_regions else None,
        )
        self._wire_router_enrichment(config, factory)

        # On-call's reading order: is it up (and from where), then the service's parts, then our own pipeline.
        rows = self.dashboard.add_row
        rows("Availability: synthetic checks", self.synthetic_alarms.availability_widgets)
        rows("ECS (Fargate)", self.ecs.widgets)
        rows("Load balancer (ALB)", self.alb.widgets)
        rows("Database (RDS)", self.rds.widgets)
        rows("Cache (ElastiCache Redis)", self.redis.widgets)
        rows("Service health from /health and /health/metrics", self.synthetic_alarms.widgets)
        rows("Alert router", self.alert_router.widgets)
        rows("Incidents", self.alert_router.incident_widgets)
        rows("Sentry intake", self.sentry_intake.widgets)
        rows("Slack buttons", [*self.slack_actions.widgets, *self.alert_router.action_widgets])
        self.dashboard.build(self.alarm_factory.created)
        _refuse_windows_that_silence_every_critical_alarm(config, self.alarm_factory.critical_names)

        # Whatever a construct keeps, a failed first create still deletes (infra/retention.py).
        Aspects.of(self).add(RetainExceptOnCreate())

        CfnOutput(self, "AlertTopicArn", value=self.alerting.alert_topic.topic_arn)
        CfnOutput(self, "DashboardName", value=self.dashboard.dashboard_name)
        CfnOutput(
            self,
            "LogsKeyArn",
            value=self.logs.key.key_arn,
            description="Key of the ECS log groups; adopted groups: aws logs associate-kms-key --kms-key-id <this>",
        )

    def _wire_router_enrichment(self, config: EnvironmentConfig, factory: AlarmFactory) -> None:
        """The cause and the graph in the message (issue 13): the monitor keeps its results, the router reads
        them, the error log and the metric graphs."""
        router, results = self.alert_router, self.synthetics.results_table
        assert results is not None  # the home stack's monitor keeps them
        self.router_enrichment = RouterEnrichment(
            self,
            "RouterEnrichment",
            enrichment=config.router.enrichment,
            oncall_handle=config.router.oncall_handle,
            environment=config.environment,
            metrics_namespace=router.metrics_namespace,
            error_log_group=self.logs.groups["error"],
            factory=factory,
            fallback_topic=self.alerting.fallback_topic,
        )
        for name, value in self.router_enrichment.environment.items():
            router.function.add_environment(name, value)
        router.function.add_environment("SYNTHETIC_RESULTS_TABLE_NAME", results.table_name)
        # lambdas/shared/synthetic_results.py: BatchWriteItem by the monitor, one Query by the router
        results.grant(self.synthetics.project_function.role, "dynamodb:BatchWriteItem")
        results.grant(router.role, "dynamodb:Query")
        if self.router_enrichment.policy is not None:
            router.role.attach_inline_policy(self.router_enrichment.policy)

    def _act_from_slack(self, config: EnvironmentConfig, factory: AlarmFactory) -> None:
        """Issue 14: the escalation topic the router publishes to, and the interactivity endpoint that hands
        button clicks to the router (bot-token mode; in webhook mode nothing posts buttons or escalates)."""
        router = self.alert_router
        self.escalation = EscalationConstruct(
            self, "Escalation", prefix=config.prefix, key=self.alerting.key, escalation=config.router.escalation
        )
        router.function.add_environment("ESCALATION_TOPIC_ARN", self.escalation.topic.topic_arn)
        self.escalation.topic.grant_publish(router.role)
        Validations.of(router.role).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
                reason=(
                    "Publishing to the KMS-encrypted escalation topic needs kms:GenerateDataKey* on that one topic key"
                    " (CDK's Topic.grant_publish); the resource is the key's ARN, not '*'."
                ),
            ),
        )
        self.slack_actions = SlackActionsConstruct(
            self,
            "SlackActions",
            config=config,
            router_function_arn=router.function.function_arn,
            factory=factory,
            fallback_topic=self.alerting.fallback_topic,
        )
        # Least privilege: its one secret, and an (asynchronous) invoke of the router's unqualified ARN only
        # (Function.grant_invoke would add `<arn>:*`, every version and alias).
        self.slack_actions.secret.grant_read(self.slack_actions.role)
        self.slack_actions.role.add_to_principal_policy(
            iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[router.function.function_arn])
        )
        CfnOutput(self, "EscalationTopicArn", value=self.escalation.topic.topic_arn)


def vantage(config: EnvironmentConfig) -> Vantage | None:
    """The Regions the checks run from, when probe stacks exist (config requires the home Region then)."""
    synthetics = config.synthetics
    if not synthetics.probe_regions or config.region is None:
        return None
    return Vantage(
        home=config.region,
        probes=tuple(synthetics.probe_regions),
        critical_at=synthetics.regions_failing_for_critical,
    )


def _refuse_windows_that_silence_every_critical_alarm(config: EnvironmentConfig, critical_names: list[str]) -> None:
    """Config alone cannot know which alarms are Critical; once every alarm exists, the stack checks."""
    for index, window in enumerate(config.router.incidents.maintenance_windows):
        if silences_everything(window.match, critical_names) and not window.allow_all_critical:
            raise ConfigError(
                f"config/{config.environment}.yaml: router.incidents.maintenance_windows.{index}.match: "
                f"{window.match!r} silences every critical alarm of this stack; set allow_all_critical: true"
            )
