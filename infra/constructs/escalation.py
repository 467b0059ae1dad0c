"""The escalation topic: where a critical incident nobody acknowledged in Slack goes besides Slack (bot-token mode).

The router's sweep publishes to it once per incident, `router.escalation.after_minutes` after the incident was
posted without an acknowledgement (lambdas/alert_router/incidents/pager.py); email and SMS subscriptions come
from `router.escalation`. Encrypted with the alert topics' key (infra/constructs/alerting.py) and SSL-only.
Only the router publishes (the stack grants it), so the topic needs no statement for CloudWatch.
"""

from __future__ import annotations

from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from infra.config import EscalationConfig


class EscalationConstruct(Construct):
    """Public: `topic`."""

    def __init__(
        self, scope: Construct, construct_id: str, *, prefix: str, key: kms.IKey, escalation: EscalationConfig
    ) -> None:
        super().__init__(scope, construct_id)
        self.topic = sns.Topic(
            self,
            "Topic",
            topic_name=f"{prefix}-alerts-escalation",
            display_name="Critical incidents nobody acknowledged in Slack",
            master_key=key,
            enforce_ssl=True,
        )
        for email in escalation.emails:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
        for number in escalation.sms_numbers:
            self.topic.add_subscription(subscriptions.SmsSubscription(number))
