"""Where an accepted Sentry alert goes: the alert topic (deployed) or the router in-process (local).

Both adapters hand the router the same SNS-shaped message, so routing, rendering, delivery and
idempotency are the router's, unchanged.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol

SUBJECT = "Sentry alert"


class Publisher(Protocol):
    def publish(self, message: str) -> str:
        """Hand the message over; returns the message id."""
        ...


@dataclass
class SnsPublisher:
    topic_arn: str
    client: Any = None  # a boto3 SNS client; created lazily (boto3 costs ~100 ms to import)

    def publish(self, message: str) -> str:
        if self.client is None:
            import boto3  # noqa: PLC0415 - only the deployed path needs it

            self.client = boto3.client("sns")
        answer = self.client.publish(TopicArn=self.topic_arn, Message=message, Subject=SUBJECT)
        return str(answer["MessageId"])


@dataclass
class LocalRouterPublisher:
    """Local only: calls the real router handler with the event SNS would deliver for this publish."""

    topic_arn: str = "arn:aws:sns:ap-northeast-1:123456789012:local-alerts"
    router_kwargs: dict[str, Any] = field(default_factory=dict)  # e.g. sender=/deduplicator= in tests
    results: list[dict[str, Any]] = field(default_factory=list)

    def publish(self, message: str) -> str:
        from lambdas.alert_router.handler import lambda_handler  # noqa: PLC0415 - local path only
        from lambdas.shared.local_context import LocalLambdaContext  # noqa: PLC0415

        message_id = str(uuid.uuid4())  # like SNS: every publish gets a new MessageId
        event = {
            "Records": [
                {
                    "EventSource": "aws:sns",
                    "EventVersion": "1.0",
                    "Sns": {
                        "Type": "Notification",
                        "MessageId": message_id,
                        "TopicArn": self.topic_arn,
                        "Subject": SUBJECT,
                        "Message": message,
                    },
                }
            ]
        }
        context = LocalLambdaContext(function_name="local-alert-router")
        self.results.append(lambda_handler(event, context, **self.router_kwargs))
        return message_id
