"""The Sentry intake in AWS: a Lambda Function URL that verifies Sentry webhooks and publishes to the alert topic.

The URL's auth type is NONE because Sentry cannot sign requests with AWS SigV4: authenticity is the
`Sentry-Hook-Signature` HMAC, checked by the function with the client secret from Secrets Manager before
anything is published. Throttling is reserved concurrency (a flood can use at most that many executions,
and never starves the router or the rest of the account). The client secret is created with a
placeholder; the operator writes Sentry's client secret into it (docs/operations: deployment guide).

Sentry does not retry a failed webhook, so a failed or throttled invocation is a lost Sentry alert: two
alarms (errors, throttles) tell a human, through the fallback topic too in case the router is the problem.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, CfnOutput, Duration, Stack, Validations
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra.alarm_factory import AlarmFactory
from infra.config import EnvironmentConfig
from infra.constructs.dashboard import graph
from infra.constructs.function import ProjectFunction
from infra.retention import kept_in_production

NAME = "sentry-intake"
HANDLER = "lambdas.sentry_intake.handler.lambda_handler"
RESERVED_CONCURRENCY = 2  # Sentry sends a handful of webhooks a minute; a flood is capped here
TIMEOUT = Duration.seconds(10)  # verify + one SNS publish; Sentry gives up on a webhook after 1 s anyway
RUNBOOK = "sentry-intake-failing"
ALARM_PERIOD = Duration.minutes(5)
NAMESPACE_SUFFIX = "SentryIntake"  # the handler's default namespace is PeopleBooster/SentryIntake


class SentryIntakeConstruct(Construct):
    """Public: `function`, `role`, `secret`, `url` (the Function URL to register in Sentry), `errors_alarm`,
    `throttles_alarm`, `signature_mismatch_alarm`, `widgets` (the dashboard row). The stack grants the role
    what it needs (read the secret, publish to the topic)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        alert_topic: sns.ITopic,
        factory: AlarmFactory,
        fallback_topic: sns.ITopic,
    ) -> None:
        super().__init__(scope, construct_id)
        self.secret = secretsmanager.Secret(
            self,
            "ClientSecret",
            secret_name=f"{config.prefix}/sentry-client-secret",
            description=(
                "Client secret of the Sentry internal integration that sends alert webhooks; it signs each"
                " webhook (Sentry-Hook-Signature). Created with a generated placeholder; fill with"
                " aws secretsmanager put-secret-value."
            ),
            removal_policy=kept_in_production(config.environment),
        )
        Validations.of(self.secret).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-SMG4",
                reason=(
                    "Sentry issues the integration's client secret in its UI; it cannot be rotated by a Lambda."
                    " The operator writes a new one after rotating it in Sentry; the intake re-reads it every 5 min."
                ),
            )
        )
        intake = ProjectFunction(
            self,
            "Function",
            config=config,
            name=NAME,
            handler=HANDLER,
            description="Verifies Sentry alert webhooks and publishes them to the alert topic",
            timeout=TIMEOUT,
            memory_size=256,
            reserved_concurrency=RESERVED_CONCURRENCY,
            environment={
                "SENTRY_CLIENT_SECRET_ARN": self.secret.secret_arn,
                "ALERT_TOPIC_ARN": alert_topic.topic_arn,
                # The replay window is the router's memory of body digests (its idempotency TTL): issue 12.
                "MAX_BODY_AGE_SECONDS": str(config.router.idempotency_ttl_hours * 3600),
                "POWERTOOLS_METRICS_NAMESPACE": f"{config.metrics_namespace}/{NAMESPACE_SUFFIX}",
            },
        )
        self.function = intake.function
        self.role = intake.role
        Validations.of(intake).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
                reason=(
                    "Publishing to the KMS-encrypted alert topic needs kms:GenerateDataKey* on that one topic key"
                    " (CDK's Topic.grant_publish); the resource is the key's ARN, not '*'."
                ),
            ),
        )
        self.url = self.function.add_function_url(
            auth_type=lambda_.FunctionUrlAuthType.NONE,  # Sentry cannot sign with SigV4: the HMAC is the auth
            invoke_mode=lambda_.InvokeMode.BUFFERED,
        )
        # Any error or throttle is a Sentry alert nobody will see (Sentry does not retry): alarm on the first.
        self.errors_alarm, self.throttles_alarm, self.signature_mismatch_alarm = factory.signed_endpoint_alarms(
            self,
            name=NAME,
            function=self.function,
            signature_mismatch=intake_counter(config, "SignatureMismatch"),
            lost=(
                "The Sentry intake failed an invocation (secret unreadable or invalid, SNS publish failed, or a bug):"
                " that Sentry alert is lost",
                f"Sentry webhooks were throttled (reserved concurrency {RESERVED_CONCURRENCY}): those Sentry alerts"
                " are lost",
                "Sentry webhooks failed the signature check (the client secret in Secrets Manager is wrong or"
                " not filled in): those Sentry alerts are lost",
            ),
            runbook=RUNBOOK,
            extra_topics=(fallback_topic,),
        )
        self.widgets = self._widgets(config)
        stack = Stack.of(self)
        CfnOutput(
            stack,
            "SentryWebhookUrl",
            value=self.url.url,
            description="Register as the Webhook URL of the Sentry internal integration (Alert Rule Action on)",
        )
        CfnOutput(
            stack,
            "SentryClientSecretName",
            value=f"{config.prefix}/sentry-client-secret",
            description="Fill with: aws secretsmanager put-secret-value --secret-id <this> --secret-string <secret>",
        )

    def _widgets(self, config: EnvironmentConfig) -> list[cw.IWidget]:
        """The dashboard row: the function's health and what became of each webhook (handler.py's counters)."""
        return [
            graph(
                "Sentry intake invocations / errors / throttles",
                [
                    self.function.metric_invocations(statistic="Sum", label="invocations"),
                    self.function.metric_errors(statistic="Sum", label="errors"),
                    self.function.metric_throttles(statistic="Sum", label="throttles"),
                ],
                alarms=[self.errors_alarm],
            ),
            graph(
                "Sentry webhooks accepted / ignored / rejected",
                [intake_counter(config, name).with_(label=name) for name in ("Accepted", "Ignored", "Rejected")],
            ),
            graph(
                "Sentry webhooks refused or altered",
                [
                    intake_counter(config, name).with_(label=name)
                    for name in ("SignatureMismatch", "StaleBody", "Trimmed", "Unparsed")
                ],
                alarms=[self.signature_mismatch_alarm],
            ),
        ]


def intake_counter(config: EnvironmentConfig, name: str) -> cw.Metric:
    """One of the handler's counters, with its EMF dimension set (service + environment), summed per 5 min."""
    return cw.Metric(
        namespace=f"{config.metrics_namespace}/{NAMESPACE_SUFFIX}",
        metric_name=name,
        dimensions_map={"service": NAME, "environment": config.environment},
        statistic="Sum",
        period=ALARM_PERIOD,
    )
