"""Shared defaults of every Lambda in this project: one place for runtime, architecture and logging."""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.constructs.logs import RETENTION
from infra.packaging import LAMBDA_ARCHITECTURE, LAMBDA_RUNTIME, lambda_code, source_hash

# What Lambda's active tracing needs in the execution role (the actions CDK's `tracing=` would grant).
# https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html
XRAY_ACTIONS = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")


class ProjectFunction(Construct):
    """Python 3.13 on arm64, X-Ray active, JSON logs into an explicit log group with retention.

    `function_name` is `<service>-<env>-<name>`; `handler` is the module path under lambdas/.
    Environment values are names and settings only: secrets are read at run time from Secrets Manager.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        name: str,
        handler: str,
        description: str,
        environment: Mapping[str, str],
        timeout: Duration,
        memory_size: int = 256,
        reserved_concurrency: int | None = None,
        **function_props: object,
    ) -> None:
        super().__init__(scope, construct_id)
        function_name = f"{config.prefix}-{name}"
        self.log_group = logs.LogGroup(
            self,
            "LogGroup",
            log_group_name=f"/aws/lambda/{function_name}",
            retention=RETENTION[config.log_retention.lambda_functions],
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Runs {function_name}",
        )
        self.log_group.grant_write(self.role)
        # Active tracing's two X-Ray actions accept only '*': they have no resource types
        # (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsx-ray.html). They live
        # in a policy of their own, the only place IAM5[Resource::*] is acknowledged, so a '*' added to the
        # role's default policy later fails synthesis. Lambda's `tracing=` would put the statement into the
        # default policy, so tracing is set on the CfnFunction below.
        self.tracing_policy = iam.Policy(
            self,
            "TracingPolicy",
            statements=[iam.PolicyStatement(actions=list(XRAY_ACTIONS), resources=["*"])],
            roles=[self.role],
        )
        Validations.of(self.tracing_policy).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-IAM5[Resource::*]",
                reason="X-Ray PutTraceSegments/PutTelemetryRecords (active tracing) only accept '*'.",
            )
        )
        sentry_env = {"SENTRY_DSN": config.sentry.dsn} if config.sentry.dsn else {}
        self.function = lambda_.Function(
            self,
            "Function",
            function_name=function_name,
            description=description,
            runtime=LAMBDA_RUNTIME,
            architecture=LAMBDA_ARCHITECTURE,
            code=lambda_code(self),
            handler=handler,
            role=self.role,
            timeout=timeout,
            memory_size=memory_size,
            reserved_concurrent_executions=reserved_concurrency,
            logging_format=lambda_.LoggingFormat.JSON,
            log_group=self.log_group,
            environment={
                "ENVIRONMENT": config.environment,
                "POWERTOOLS_LOG_LEVEL": "INFO",
                "SENTRY_ENVIRONMENT": config.environment,
                "SENTRY_TRACES_SAMPLE_RATE": str(config.sentry.traces_sample_rate),
                # The code's identity: Sentry groups errors by release, so a fix shows as a new release.
                "SENTRY_RELEASE": f"{config.service_name}-monitoring@{source_hash()[:12]}",
                **sentry_env,
                **environment,
            },
            **function_props,  # type: ignore[arg-type]
        )
        cfn_function = cast(lambda_.CfnFunction, self.function.node.default_child)
        cfn_function.tracing_config = lambda_.CfnFunction.TracingConfigProperty(mode="Active")
        # Lambda sends traces with the role's permissions from the first invocation: the policy comes first.
        self.function.node.add_dependency(self.tracing_policy)
        # The finding every function of this project shares, accepted once here.
        Validations.of(self).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-L1",
                reason=(
                    f"{LAMBDA_RUNTIME.name}, not the newest runtime: the tests and the shipped bytecode run on this"
                    " Python, the newest one the toolchain has (decisions.md, issue 12); supported until 2029-06-30."
                ),
            ),
        )
