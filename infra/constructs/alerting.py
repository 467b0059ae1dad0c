"""Alert topics: where every alarm sends ALARM and OK.

Encrypted with a customer-managed KMS key that CloudWatch may use (the AWS-managed SNS key cannot be
used by CloudWatch alarms), and an SSL-only topic policy.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from infra.retention import kept_in_production


class AlertingConstruct(Construct):
    """`alert_topic` feeds the router; `fallback_topic` reaches a human when the router itself is broken."""

    def __init__(
        self, scope: Construct, construct_id: str, *, prefix: str, environment: str, fallback_email: str | None
    ) -> None:
        super().__init__(scope, construct_id)
        self.key = kms.Key(
            self,
            "TopicKey",
            alias=f"alias/{prefix}-alerts",
            description=f"Encrypts the {prefix} alert topics; CloudWatch alarms may publish with it",
            enable_key_rotation=True,
            pending_window=Duration.days(7),
            removal_policy=kept_in_production(environment),
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchAlarmsToPublish",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
                conditions=self._own_alarms_only(),
            )
        )
        self.alert_topic = self._topic("AlertTopic", f"{prefix}-alerts", "Alarms for the alert router")
        self.fallback_topic = self._topic(
            "FallbackTopic",
            f"{prefix}-alerts-fallback",
            "Alarms about the alert router itself (email, bypassing Slack)",
        )
        if fallback_email:
            self.fallback_topic.add_subscription(subscriptions.EmailSubscription(fallback_email))

    def _topic(self, construct_id: str, name: str, display_name: str) -> sns.Topic:
        topic = sns.Topic(
            self,
            construct_id,
            topic_name=name,
            display_name=display_name,
            master_key=self.key,
            enforce_ssl=True,
        )
        topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchAlarms",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[topic.topic_arn],
                conditions=self._own_alarms_only(),
            )
        )
        return topic

    def _own_alarms_only(self) -> dict[str, Any]:
        """Only alarms of this account and region may use the topics (no confused deputy: CloudWatch acts
        for every account, so without these conditions anyone's alarm could post into our Slack)."""
        stack = Stack.of(self)
        return {
            "StringEquals": {"aws:SourceAccount": stack.account},
            "ArnLike": {"aws:SourceArn": f"arn:{stack.partition}:cloudwatch:{stack.region}:{stack.account}:alarm:*"},
        }
