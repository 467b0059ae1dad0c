"""Slack incoming-webhook delivery: one POST per message, retried until Slack says `ok` or time runs out.

- Success is HTTP 200 with body `ok`, nothing else.
- 429: wait `Retry-After`, then retry. 5xx, timeouts, connection errors, an unexpected 200 body: bounded
  exponential backoff. Every wait and every request timeout fits in the Lambda's remaining time.
- 400 `invalid_payload`: one retry with a minimal plain-text message. Other 4xx (`no_service`,
  `channel_not_found`, `channel_is_archived`, ...): no retry, Slack's answer is reported.
- Posts to one webhook are spaced (about 1 per second, Slack's rate for incoming webhooks).
- A final failure raises `DeliveryError`, whose message names the channel and never the URL.

The HTTP transport is stdlib `http.client` (why not slack_sdk or requests: docs/operations/decisions.md).
`classify` is the pure decision; `WebhookSender` is the small loop around it; transport, sleep and clock
are injectable so tests run the whole fault matrix in milliseconds against a real local server.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol
from urllib.parse import urlsplit

from lambdas.alert_router.models import Payload
from lambdas.shared.observability import REDACTED, scrub_secrets

_BODY_LOG_LIMIT = 300


@dataclass(frozen=True)
class HttpResult:
    status: int | None  # None: no HTTP answer (timeout, connection error)
    body: str = ""
    retry_after: str | None = None
    error: str | None = None  # "timeout", "connection refused", ... (never contains the URL)


Transport = Callable[[str, bytes, float], HttpResult]


class Verdict(StrEnum):
    DELIVERED = "delivered"
    RETRY_AFTER = "retry-after"  # 429
    BACKOFF = "backoff"  # 5xx, timeout, connection error, unexpected answer
    PLAIN_TEXT = "plain-text"  # invalid_payload: retry once with a minimal message
    REJECTED = "rejected"  # other 4xx: retrying cannot help


def classify(result: HttpResult) -> Verdict:
    if result.status == 200 and result.body.strip() == "ok":
        return Verdict.DELIVERED
    if result.status == 429:
        return Verdict.RETRY_AFTER
    if result.status is not None and 400 <= result.status < 500:
        return Verdict.PLAIN_TEXT if "invalid_payload" in result.body else Verdict.REJECTED
    return Verdict.BACKOFF


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    base_delay: float = 0.5  # seconds; doubles per retry
    max_delay: float = 8.0
    max_retry_after: float = 30.0  # a longer Retry-After is capped; the remaining time still decides
    request_timeout: float = 5.0
    min_interval: float = 1.0  # between posts to one webhook
    reserve: float = 1.5  # seconds kept for logging, metrics and the idempotency write after the last try

    def backoff(self, retry: int) -> float:
        return min(self.max_delay, self.base_delay * 2.0 ** (retry - 1))

    def retry_after(self, header: str | None) -> float:
        try:
            seconds = float(header) if header is not None else 1.0
        except ValueError:
            seconds = 1.0
        return min(self.max_retry_after, max(0.0, seconds))


@dataclass(frozen=True)
class Attempt:
    status: int | None
    verdict: Verdict
    answer: str  # Slack's body or the transport error, scrubbed and shortened
    waited: float = 0.0  # seconds slept before this attempt
    plain_text: bool = False


@dataclass(frozen=True)
class DeliveryReport:
    channel: str
    attempts: tuple[Attempt, ...]
    dry_run: bool = False

    @property
    def plain_text_fallback(self) -> bool:
        return any(attempt.plain_text for attempt in self.attempts)


class DeliveryError(Exception):
    """Delivery failed for good. The message names channel and outcome, never a webhook URL."""

    def __init__(self, message: str, *, channel: str | None = None, attempts: tuple[Attempt, ...] = ()) -> None:
        super().__init__(scrub_secrets(message))
        self.channel = channel
        self.attempts = attempts


class Sender(Protocol):
    def send(self, channel: str, payload: Payload) -> DeliveryReport: ...


def http_post(url: str, body: bytes, timeout: float) -> HttpResult:
    """POST JSON with http.client: no redirects followed, one timeout for connect and read."""
    import http.client  # noqa: PLC0415 - ~30 ms; a dry run or a cold start without Slack does not need it

    parts = urlsplit(url)
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(parts.hostname or "", parts.port, timeout=timeout)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", path or "/", body=body, headers={"Content-Type": "application/json; charset=utf-8"})
        response = connection.getresponse()
        text = response.read(64 * 1024).decode("utf-8", errors="replace")
        return HttpResult(status=response.status, body=text, retry_after=response.getheader("Retry-After"))
    except TimeoutError:
        return HttpResult(status=None, error="timeout")
    except ConnectionRefusedError:
        return HttpResult(status=None, error="connection refused")
    except (OSError, http.client.HTTPException) as error:
        return HttpResult(status=None, error=f"connection error ({type(error).__name__})")
    finally:
        connection.close()


def _never_ends() -> float:
    return float("inf")


@dataclass
class WebhookSender:
    """Posts to the webhook of a channel; one instance per process keeps the per-webhook spacing."""

    webhooks: Mapping[str, str]
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    transport: Transport = http_post
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    remaining_seconds: Callable[[], float] = _never_ends
    _last_post: dict[str, float] = field(default_factory=dict, repr=False)

    def send(self, channel: str, payload: Payload) -> DeliveryReport:
        url = self.webhooks.get(channel)
        if not url:
            raise DeliveryError(f"no webhook configured for channel {channel!r}", channel=channel)
        attempts: list[Attempt] = []
        body = encode_payload(payload)
        plain_text = False
        retries_left = self.policy.max_attempts
        wait = 0.0
        while True:
            wait = max(wait, self._spacing_wait(url))
            timeout = min(self.policy.request_timeout, self.remaining_seconds() - self.policy.reserve - wait)
            if timeout <= 0.2:
                raise DeliveryError(
                    f"gave up on channel {channel!r}: not enough Lambda time left for another attempt"
                    + _last_answer(attempts),
                    channel=channel,
                    attempts=tuple(attempts),
                )
            if wait > 0:
                self.sleep(wait)
            self._last_post[url] = self.clock()
            result = self.transport(url, body, timeout)
            verdict = classify(result)
            attempts.append(Attempt(result.status, verdict, _answer(result, url), waited=wait, plain_text=plain_text))
            retries_left -= 1
            if verdict is Verdict.DELIVERED:
                return DeliveryReport(channel=channel, attempts=tuple(attempts))
            if verdict is Verdict.REJECTED or (verdict is Verdict.PLAIN_TEXT and plain_text):
                raise DeliveryError(
                    f"Slack rejected the message for channel {channel!r}" + _last_answer(attempts),
                    channel=channel,
                    attempts=tuple(attempts),
                )
            if retries_left <= 0:
                raise DeliveryError(
                    f"gave up on channel {channel!r} after {len(attempts)} attempts" + _last_answer(attempts),
                    channel=channel,
                    attempts=tuple(attempts),
                )
            if verdict is Verdict.PLAIN_TEXT:
                body, plain_text, wait = encode_payload(_minimal(payload)), True, 0.0
            elif verdict is Verdict.RETRY_AFTER:
                wait = self.policy.retry_after(result.retry_after)
            else:
                wait = self.policy.backoff(len(attempts))

    def _spacing_wait(self, url: str) -> float:
        last = self._last_post.get(url)
        return 0.0 if last is None else max(0.0, last + self.policy.min_interval - self.clock())


@dataclass
class DryRunSender:
    """No webhook configured: print what would be posted (local runs, `make invoke`)."""

    printer: Callable[[str], None] = print

    def send(self, channel: str, payload: Payload) -> DeliveryReport:
        text = json.dumps({"channel": channel, "payload": payload}, ensure_ascii=False, indent=2)
        self.printer(text.encode("utf-8", errors="replace").decode("utf-8"))  # printable even with a lone surrogate
        return DeliveryReport(channel=channel, attempts=(), dry_run=True)


def encode_payload(payload: Payload) -> bytes:
    """UTF-8 JSON. A lone surrogate (invalid input that Python strings can hold) becomes "?": it would
    fail the encoding on every retry (and a JSON escape of it may be refused by Slack's parser)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8", errors="replace")


def _minimal(payload: Payload) -> Payload:
    text = payload.get("text")
    return {"text": text if isinstance(text, str) and text.strip() else "Alert: the full message was rejected by Slack"}


def _answer(result: HttpResult, url: str) -> str:
    """Slack's answer for the log; the URL (and its secret path) is removed even if a proxy echoes it."""
    text = result.error or result.body.strip() or "(empty body)"
    secret_path = urlsplit(url).path
    text = text.replace(url, REDACTED)
    if len(secret_path) > 1:
        text = text.replace(secret_path, REDACTED)
    return scrub_secrets(text)[:_BODY_LOG_LIMIT]


def _last_answer(attempts: list[Attempt]) -> str:
    if not attempts:
        return ""
    last = attempts[-1]
    status = f"HTTP {last.status}" if last.status is not None else "no HTTP answer"
    return f" (last: {status}, {last.answer!r})"
