"""A probe stack: the synthetic monitor in one more Region (`synthetics.probe_regions`), reporting home.

The same function and checks as the home Region's (infra/constructs/synthetics.py), pinned to the probe Region;
its results go into the home Region's CloudWatch with a `region` dimension (lambdas/synthetic_monitor/
home_region.py), where the combined alarms and the per-Region dead-man's switch read them
(infra/constructs/synthetic_alarms.py). The stack holds no alarm and no topic: an alarm here could not read the
home Region's metrics, and everything that pages lives in the home stack.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Acknowledgment, Aspects, Environment, Stack, Validations
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.constructs.synthetics import MAX_EVENT_AGE, SyntheticsConstruct
from infra.retention import RetainExceptOnCreate

# PutMetricData has no resource types; these condition keys narrow it.
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/iam-cw-condition-keys-namespace.html
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-requestedregion
NAMESPACE_KEY = "cloudwatch:namespace"
REQUESTED_REGION_KEY = "aws:RequestedRegion"


def probe_stack_name(config: EnvironmentConfig, region: str) -> str:
    return f"{config.prefix}-monitoring-probe-{region}"


class ProbeStack(Stack):
    def __init__(self, scope: Construct, *, config: EnvironmentConfig, region: str, **kwargs: Any) -> None:
        super().__init__(
            scope,
            probe_stack_name(config, region),
            env=Environment(account=config.account, region=region),
            description=f"Synthetic probe of {config.service_name} ({config.environment}) from {region}",
            tags={
                "service": config.service_name,
                "environment": config.environment,
                "probe-region": region,
                "managed-by": "cdk",
            },
            **kwargs,
        )
        self.config = config
        self.probe_region = region
        self.synthetics = SyntheticsConstruct(self, "Synthetics", config=config, probe_region=region)
        self.synthetics.rule.add_target(
            targets.LambdaFunction(self.synthetics.function, retry_attempts=0, max_event_age=MAX_EVENT_AGE)
        )
        self.put_policy = self._grant_put_into_home_region(config.region or "")
        Aspects.of(self).add(RetainExceptOnCreate())

    def _grant_put_into_home_region(self, home: str) -> iam.Policy:
        """cloudwatch:PutMetricData, only into the monitor's namespace and only in the home Region."""
        policy = iam.Policy(
            self,
            "PutIntoHomeRegion",
            statements=[
                iam.PolicyStatement(
                    actions=["cloudwatch:PutMetricData"],
                    resources=["*"],
                    conditions={"StringEquals": {NAMESPACE_KEY: self.synthetics.namespace, REQUESTED_REGION_KEY: home}},
                )
            ],
            roles=[self.synthetics.project_function.role],
        )
        # The first run must find the grant in place.
        self.synthetics.function.node.add_dependency(policy)
        Validations.of(policy).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-IAM5[Resource::*]",
                reason=(
                    "cloudwatch:PutMetricData has no resource types, so only '*'; the statement is narrowed by"
                    f" {NAMESPACE_KEY} (the monitor's namespace) and {REQUESTED_REGION_KEY} (the home Region)."
                ),
            )
        )
        return policy
