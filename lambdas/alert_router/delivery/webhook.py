"""Slack incoming webhooks (webhook mode): one POST of the message's JSON per attempt, through the engine.

Success is HTTP 200 with body `ok`, nothing else; every other answer is classified by answers.py and
handled by engine.py (retries within the Lambda's time, the plain-text fallback, the spacing per webhook).
The webhook URL is a secret: it never appears in a log line, an answer we keep, or an exception.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Protocol
from urllib.parse import urlsplit

from lambdas.alert_router.delivery.answers import Answer, no_answer, plain_text, webhook_answer
from lambdas.alert_router.delivery.engine import DeliveryEngine, DeliveryError, DeliveryReport
from lambdas.alert_router.models import Payload
from lambdas.shared.deadline_http import TRANSPORT_ERRORS, Deadline, request
from lambdas.shared.observability import REDACTED

JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "PeopleBooster-AlertRouter/1.0"}


class Sender(Protocol):
    def send(self, channel: str, payload: Payload) -> DeliveryReport: ...


def encode_payload(payload: Payload) -> bytes:
    """UTF-8 JSON. A lone surrogate (invalid input that Python strings can hold) becomes "?": it would
    fail the encoding on every retry (and a JSON escape of it may be refused by Slack's parser)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8", errors="replace")


def post_json(
    url: str, message: Payload, deadline: Deadline, read: Callable[[int, bytes, str | None], Answer]
) -> Answer:
    """One POST of the message as JSON: no answer on a transport failure, else Slack's answer as `read` reads it."""
    try:
        answer = request("POST", url, body=encode_payload(message), headers=JSON_HEADERS, deadline=deadline)
    except TRANSPORT_ERRORS as error:
        return no_answer(error)
    return read(answer.status, answer.body, answer.headers.get("retry-after"))


@dataclass
class WebhookSender:
    """Posts to the webhook of a channel; one instance per process keeps the per-webhook spacing."""

    webhooks: Mapping[str, str]
    engine: DeliveryEngine = field(default_factory=DeliveryEngine)

    def send(self, channel: str, payload: Payload) -> DeliveryReport:
        url = self.webhooks.get(channel)
        if not url:
            raise DeliveryError(f"no webhook configured for channel {channel!r}", channel=channel)

        def post(message: Payload, deadline: Deadline) -> Answer:
            return _without_url(post_json(url, message, deadline, webhook_answer), url)

        return self.engine.deliver(
            channel=channel,
            what=f"channel {channel!r}",
            target=url,
            send=post,
            payload=payload,
            plain=plain_text(payload),
        )


def _without_url(answer: Answer, url: str) -> Answer:
    """Slack's answer as logged: the URL (and its secret path) removed, even if a proxy echoes it."""
    detail = answer.detail.replace(url, REDACTED)
    secret_path = urlsplit(url).path
    if len(secret_path) > 1:
        detail = detail.replace(secret_path, REDACTED)
    return replace(answer, detail=detail)


@dataclass
class DryRunSender:
    """No webhook configured: print what would be posted (local runs, `make invoke`)."""

    printer: Callable[[str], None] = print

    def send(self, channel: str, payload: Payload) -> DeliveryReport:
        text = json.dumps({"channel": channel, "payload": payload}, ensure_ascii=False, indent=2)
        self.printer(text.encode("utf-8", errors="replace").decode("utf-8"))  # printable even with a lone surrogate
        return DeliveryReport(channel=channel, attempts=(), dry_run=True)
