"""The escalation topic (bot-token mode): a critical incident nobody acknowledged is published there too, for the
email and SMS subscriptions of `router.escalation` (infra/constructs/escalation.py).

One SNS Publish with `MessageStructure: json`, so email gets the whole story and SMS one line
(https://docs.aws.amazon.com/sns/latest/api/API_Publish.html). A failure raises; the loop logs it, counts
EscalationPageFailures and the next sweep publishes again while nobody acknowledges.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol


class Pager(Protocol):
    def page(self, subject: str, messages: Mapping[str, str]) -> str:
        """Publish; returns the message id."""
        ...


@dataclass
class SnsPager:
    topic_arn: str
    client: Any = None  # a boto3 SNS client, created at the first page (most invocations never page)

    def page(self, subject: str, messages: Mapping[str, str]) -> str:
        if self.client is None:
            import boto3  # noqa: PLC0415 - ~90 ms, only when an escalation is published

            self.client = boto3.client("sns")
        answer = self.client.publish(
            TopicArn=self.topic_arn, Subject=subject, Message=json.dumps(dict(messages)), MessageStructure="json"
        )
        return str(answer["MessageId"])
