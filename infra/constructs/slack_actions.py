"""The Slack interactivity endpoint in AWS: a Lambda Function URL that verifies button clicks and hands them to
the alert router (lambdas/slack_actions).

The URL's auth type is NONE because Slack cannot sign requests with AWS SigV4: authenticity is Slack's v0
request signature (`X-Slack-Signature`, HMAC-SHA256 with the app's signing secret), checked by the function
with the secret from Secrets Manager before anything is handed over. With AuthType NONE the function's resource
policy must still allow anyone lambda:InvokeFunctionUrl (lambda:FunctionUrlAuthType = NONE) and, for URLs
created since October 2025, lambda:InvokeFunction (lambda:InvokedViaFunctionUrl); add_function_url writes both
(https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html; tests/infra/aws_rules/calls.py evaluates them).
Throttling is reserved concurrency (a flood can use at most that many executions, and never starves the router
or the rest of the account). The signing secret is created with a generated placeholder; the operator writes
the Slack app's signing secret into it (docs/operations/deployment-guide.md, "Buttons in Slack").

A failed, throttled or refused click is a button that did nothing while someone waits on it: three alarms
(errors, throttles, signature mismatch) tell a human, through the fallback topic too. The stack grants the role
what it needs: read its secret, invoke the router.
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
from infra.constructs.function import ProjectFunction
from infra.retention import kept_in_production

NAME = "slack-actions"
HANDLER = "lambdas.slack_actions.handler.lambda_handler"
STORED_AS = "slack-signing-secret"  # its name in Secrets Manager: <prefix>/<this>
RESERVED_CONCURRENCY = 2  # people click a few buttons a minute at most; a flood is capped here
# Slack shows the user an error unless the answer comes within 3 s: the function only verifies and makes one
# asynchronous invoke, and gets 1 GB for the CPU of a cold start (boto3 and its two clients: bench/
# slack_actions_bench.py). A cold start slower than 3 s still hands the click over (the timeout leaves room): the
# user saw an error, the thread shows the click applied, and a second click is answered "already done".
MEMORY_MB = 1024
TIMEOUT = Duration.seconds(10)
RUNBOOK = "slack-actions-failing"
ALARM_PERIOD = Duration.minutes(5)
NAMESPACE_SUFFIX = "SlackActions"  # the handler's default namespace is PeopleBooster/SlackActions
URL_OUTPUT = "SlackInteractivityUrl"


class SlackActionsConstruct(Construct):
    """Public: `function`, `role`, `secret`, `url` (the app's interactivity Request URL), `errors_alarm`,
    `throttles_alarm`, `signature_mismatch_alarm`, `widgets` (the dashboard row, added by the stack)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        router_function_arn: str,
        factory: AlarmFactory,
        fallback_topic: sns.ITopic,
    ) -> None:
        super().__init__(scope, construct_id)
        self.metrics_namespace = f"{config.metrics_namespace}/{NAMESPACE_SUFFIX}"
        self.secret = secretsmanager.Secret(
            self,
            "SigningSecret",
            secret_name=f"{config.prefix}/{STORED_AS}",
            description=(
                "Signing secret of the Slack app whose buttons (Acknowledge, Silence) post to the interactivity"
                " endpoint; it signs each request (X-Slack-Signature). Created with a generated placeholder; fill"
                " with aws secretsmanager put-secret-value."
            ),
            removal_policy=kept_in_production(config.environment),
        )
        Validations.of(self.secret).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-SMG4",
                reason=(
                    "Slack issues the app's signing secret (Basic Information -> Regenerate); no Lambda can rotate"
                    " it. The operator writes the new one after regenerating it; the endpoint re-reads it every 5 min."
                ),
            )
        )
        endpoint = ProjectFunction(
            self,
            "Function",
            config=config,
            name=NAME,
            handler=HANDLER,
            description="Verifies Slack button clicks on incident messages and hands them to the alert router",
            timeout=TIMEOUT,
            memory_size=MEMORY_MB,
            reserved_concurrency=RESERVED_CONCURRENCY,
            environment={
                "SLACK_SIGNING_SECRET_ARN": self.secret.secret_arn,
                "ROUTER_FUNCTION_NAME": router_function_arn,
                "POWERTOOLS_METRICS_NAMESPACE": self.metrics_namespace,
            },
        )
        self.function = endpoint.function
        self.role = endpoint.role
        self.url = self.function.add_function_url(
            auth_type=lambda_.FunctionUrlAuthType.NONE,  # Slack cannot sign with SigV4: the v0 HMAC is the auth
            invoke_mode=lambda_.InvokeMode.BUFFERED,
        )
        # A click that did nothing while someone waits on it: alarm on the first error, throttle or mismatch
        self.errors_alarm, self.throttles_alarm, self.signature_mismatch_alarm = factory.signed_endpoint_alarms(
            self,
            name=NAME,
            function=self.function,
            signature_mismatch=self._metric("SignatureMismatch", config.environment),
            lost=(
                "The Slack interactivity endpoint failed an invocation (signing secret unreadable, the router could"
                " not be invoked, or a bug): a click on Acknowledge or Silence did nothing",
                f"Slack button clicks were throttled (reserved concurrency {RESERVED_CONCURRENCY}): those clicks did"
                " nothing",
                "Slack button clicks failed the signature check (the signing secret in Secrets Manager is wrong or"
                " not filled in): the buttons do nothing",
            ),
            runbook=RUNBOOK,
            extra_topics=(fallback_topic,),
        )
        # 9 + 9 wide: the router's graph of what the clicks did (6) completes the row
        self.widgets: list[cw.IWidget] = [
            cw.GraphWidget(
                title="Slack clicks: handed to the router / ignored / refused",
                left=[
                    self._metric("Accepted", config.environment, "handed to the router"),
                    self._metric("Ignored", config.environment, "ignored (not an incident button)"),
                    self._metric("Rejected", config.environment, "refused (signature, timestamp, method)"),
                    self._metric("SignatureMismatch", config.environment, "signature mismatch (wrong secret)"),
                ],
                width=9,
                height=6,
            ),
            cw.GraphWidget(
                title="Slack endpoint invocations / errors / throttles",
                left=[
                    self.function.metric_invocations(statistic="Sum", label="invocations"),
                    self.function.metric_errors(statistic="Sum", label="errors"),
                    self.function.metric_throttles(statistic="Sum", label="throttles"),
                ],
                left_annotations=[self.errors_alarm.to_annotation()],
                width=9,
                height=6,
            ),
        ]
        stack = Stack.of(self)
        CfnOutput(
            stack,
            URL_OUTPUT,
            value=self.url.url,
            description="The Slack app's Interactivity Request URL (make slack-manifest writes it into the manifest)",
        )
        CfnOutput(
            stack,
            "SlackSigningSecretName",
            value=f"{config.prefix}/{STORED_AS}",
            description="Fill with the app's Signing Secret: aws secretsmanager put-secret-value --secret-id <this>",
        )

    def _metric(self, name: str, environment: str, label: str | None = None) -> cw.Metric:
        # Exactly the handler's EMF dimension set: service + environment. No label on an alarm's metric: a
        # labelled metric would make CDK write the alarm as metric math.
        return cw.Metric(
            namespace=self.metrics_namespace,
            metric_name=name,
            dimensions_map={"service": NAME, "environment": environment},
            statistic="Sum",
            period=ALARM_PERIOD,
            label=label,
        )
