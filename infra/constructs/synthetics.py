"""The synthetic monitor: its function and its schedule (its alarms and graphs: synthetic_alarms.py).

Choices (docs/operations/decisions.md has the reasons):
- The function's settings are parsed by the Lambda's own parser (`settings_from_env`), so synthesis fails
  on what the monitor would reject, and the alarms are made for exactly the checks it runs.
- One run at a time (reserved concurrency 1) and no retries of late runs: the next run is a period away.
- Each run's results are kept for the alert router in `results_table` (lambdas/shared/synthetic_results.py:
  one item per check, a TTL), so a synthetic alarm's message says what the check saw. The stack grants the
  monitor its writes and the router its reads.
"""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import Acknowledgment, Duration, Fn, RemovalPolicy, Validations
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from constructs import Construct

from infra.config import EnvironmentConfig, VpcConfig
from infra.constructs.function import ProjectFunction
from lambdas.shared import synthetic_results
from lambdas.synthetic_monitor import metric_names as names
from lambdas.synthetic_monitor.settings import Settings, options_environment, probe_environment, settings_from_env

HANDLER = "lambdas.synthetic_monitor.handler.lambda_handler"
# Function name suffix and log `service` (the handler's Logger says the same; metrics carry no service).
NAME = "synthetic-monitor"
# Lambda refuses more than 4 KB of environment; ProjectFunction adds its shared variables on top of ours.
ENVIRONMENT_BUDGET_BYTES = 3500
# EventBridge and Lambda's async queue both accept 60 s as the shortest event age.
MAX_EVENT_AGE = Duration.seconds(60)


class SyntheticsConstruct(Construct):
    """`function`, `rule`, `settings` (what the monitor will run), `namespace`, `period`, `results_table`.

    `probe_region` makes it a probe stack's monitor: it runs there and reports into config.region (the home
    Region), and keeps no results table (the router reads the home monitor's). The stack adds the rule's target
    (EventBridge invoking the function), the results table's grants and, for a probe, the put grant."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: EnvironmentConfig, probe_region: str | None = None
    ) -> None:
        super().__init__(scope, construct_id)
        synthetics = config.synthetics
        self.namespace = metrics_namespace(config)
        self.period = Duration.minutes(synthetics.schedule_minutes)
        environment = monitor_environment(config, self.namespace, probe_region=probe_region)
        self.settings: Settings = settings_from_env(environment)

        self.project_function = ProjectFunction(
            self,
            "Monitor",
            config=config,
            name=NAME,
            handler=HANDLER,
            description=(
                "Probes the service's health endpoints on a schedule and writes EMF metrics"
                if probe_region is None
                else f"Probes the service's health endpoints from {probe_region}; puts results into {config.region}"
            ),
            environment=environment,
            timeout=Duration.seconds(synthetics.lambda_timeout_seconds),
            # One run at a time: an overlapping run (a slow target, a late event) would double the
            # probes the service sees and the datapoints of one period; the next run is a period away.
            reserved_concurrency=1,
            **(self._vpc_props(synthetics.vpc) if synthetics.vpc else {}),
        )
        self.function = self.project_function.function
        self.results_table = None if probe_region is not None else self._results_table()
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

    def _results_table(self) -> dynamodb.Table:
        """The latest results, for the alert router (keys and attributes: lambdas/shared/synthetic_results.py)."""
        table = dynamodb.Table(
            self,
            "ResultsTable",
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="check", type=dynamodb.AttributeType.STRING),
            time_to_live_attribute=synthetic_results.TTL_ATTRIBUTE,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            # the latest run's results, rewritten every run: nothing in it outlives an hour
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.function.add_environment("RESULTS_TABLE_NAME", table.table_name)
        return table

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


def metrics_namespace(config: EnvironmentConfig) -> str:
    """Where the monitor's metrics go, in the home Region: the probes' too."""
    return f"{config.metrics_namespace}/{names.NAMESPACE_SUFFIX}"


def monitor_environment(
    config: EnvironmentConfig, namespace: str, *, probe_region: str | None = None
) -> dict[str, str]:
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
    environment.update(
        options_environment(
            contract=synthetics.contract, metric_paths=synthetics.metric_paths, frontend=synthetics.frontend()
        )
    )
    if synthetics.checks is not None:
        environment["CHECKS"] = json.dumps(synthetics.checks, separators=(",", ":"))
    if probe_region is not None:
        if config.region is None:  # config refuses probe_regions without a home Region
            raise ValueError("a probe needs the home Region (config.region)")
        environment.update(probe_environment(region=probe_region, home=config.region))
    size = sum(len(key) + len(value.encode()) for key, value in environment.items())
    if size > ENVIRONMENT_BUDGET_BYTES:
        raise ValueError(
            f"synthetics: the monitor's environment would be {size} bytes (Lambda allows 4 KB in all); "
            "shorten or reduce synthetics.checks"
        )
    return environment
