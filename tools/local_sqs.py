"""The router's SQS intake on 127.0.0.1 terms: no AWS, simulated time (the demo, tests and bench/).

    queue = LocalQueue(max_receive_count=5)
    queue.send_sns(sns_event)               # what SNS writes into the queue for each record: its envelope
    responses = queue.deliver(handler)      # batches of up to batch_size, as the event source mapping sends
    queue.dead_letters                      # records that failed max_receive_count times

The shapes are AWS's: an SQS record as Lambda receives it from an event source mapping
(https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html, "Example standard queue message event"),
whose body is the JSON envelope SNS writes for a subscribed queue without raw message delivery
(https://docs.aws.amazon.com/sns/latest/dg/sns-sqs-as-subscriber.html; note `SigningCertURL` and
`UnsubscribeURL` there, `SigningCertUrl` in a Lambda SNS event). The batching window is the caller's:
everything sent before `deliver` is one window (split into batches of `batch_size`), as when CloudWatch
changes several alarms within `router.grouping.wait_seconds`.
A record named in the handler's `batchItemFailures` is received again (its ApproximateReceiveCount one
higher) until it has been received `max_receive_count` times; then it is a dead letter, as SQS's redrive
policy moves it. An invocation that raises fails its whole batch the same way.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

QUEUE_ARN = "arn:aws:sqs:ap-northeast-1:123456789012:local-alert-router-intake"
SNS_SENDER_ID = "AIDAIT2UOQQY3AUEKVGXU"  # the SenderId SQS shows for messages from SNS
Handler = Callable[[dict[str, Any]], Mapping[str, Any]]


def sns_envelope(record: Mapping[str, Any]) -> str:
    """The body SNS writes into a subscribed queue for one record of a Lambda SNS event."""
    sns = record["Sns"]
    envelope = {
        "Type": sns.get("Type", "Notification"),
        "MessageId": sns["MessageId"],
        "TopicArn": sns["TopicArn"],
        "Message": sns["Message"],
        "Timestamp": sns.get("Timestamp", "2026-12-01T00:00:00.000Z"),
        "SignatureVersion": sns.get("SignatureVersion", "1"),
        "Signature": sns.get("Signature", "EXAMPLE"),
        "SigningCertURL": sns.get("SigningCertUrl", "https://sns.ap-northeast-1.amazonaws.com/cert.pem"),
        "UnsubscribeURL": sns.get("UnsubscribeUrl", "https://sns.ap-northeast-1.amazonaws.com/?Action=Unsubscribe"),
    }
    if sns.get("Subject"):
        envelope["Subject"] = sns["Subject"]
    return json.dumps(envelope)


@dataclass
class Message:
    message_id: str
    body: str
    sent_at: float
    receive_count: int = 0


@dataclass
class LocalQueue:
    queue_arn: str = QUEUE_ARN
    max_receive_count: int = 5
    batch_size: int = 500
    _waiting: list[Message] = field(default_factory=list)
    dead_letters: list[Message] = field(default_factory=list)
    _sent: int = 0

    def send(self, body: str, *, at: float = 1_796_000_000.0) -> Message:
        self._sent += 1
        digest = hashlib.sha256(f"{self._sent}|{body}".encode()).hexdigest()
        message_id = f"{digest[:8]}-{digest[8:12]}-4{digest[13:16]}-8{digest[17:20]}-{digest[20:32]}"
        message = Message(message_id=message_id, body=body, sent_at=at)
        self._waiting.append(message)
        return message

    def send_sns(self, event: Mapping[str, Any], *, at: float = 1_796_000_000.0) -> list[Message]:
        """Every record of a Lambda SNS event, as the alert topic's subscription writes it."""
        return [self.send(sns_envelope(record), at=at) for record in event.get("Records", [])]

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def _receive(self) -> list[Message]:
        """The next batch of what is waiting, each message received once more."""
        batch, self._waiting = self._waiting[: self.batch_size], self._waiting[self.batch_size :]
        for message in batch:
            message.receive_count += 1
        return batch

    def event(self, messages: list[Message]) -> dict[str, Any]:
        region = self.queue_arn.split(":")[3]
        return {
            "Records": [
                {
                    "messageId": message.message_id,
                    "receiptHandle": f"AQEB{message.message_id.replace('-', '')}{message.receive_count}",
                    "body": message.body,
                    "attributes": {
                        "ApproximateReceiveCount": str(message.receive_count),
                        "SentTimestamp": str(int(message.sent_at * 1000)),
                        "SenderId": SNS_SENDER_ID,
                        "ApproximateFirstReceiveTimestamp": str(int(message.sent_at * 1000) + 5),
                    },
                    "messageAttributes": {},
                    "md5OfBody": hashlib.md5(message.body.encode(), usedforsecurity=False).hexdigest(),
                    "eventSource": "aws:sqs",
                    "eventSourceARN": self.queue_arn,
                    "awsRegion": region,
                }
                for message in messages
            ]
        }

    def deliver(self, handler: Handler, *, rounds: int | None = None) -> list[Mapping[str, Any] | Exception]:
        """Hand every waiting message to `handler` in batches until none is waiting (or `rounds` batches);
        failed records come back, and after max_receive_count receives become dead letters."""
        answers: list[Mapping[str, Any] | Exception] = []
        while self._waiting and (rounds is None or len(answers) < rounds):
            batch = self._receive()
            try:
                answer: Mapping[str, Any] | Exception = handler(self.event(batch))
            except Exception as error:  # the whole batch failed: every record comes back
                answer = error
            answers.append(answer)
            if isinstance(answer, Exception):
                failed = {message.message_id for message in batch}
            else:
                failed = {item["itemIdentifier"] for item in answer.get("batchItemFailures") or []}
            for message in batch:
                if message.message_id not in failed:
                    continue
                if message.receive_count >= self.max_receive_count:
                    self.dead_letters.append(message)
                else:
                    self._waiting.append(message)
        return answers
