"""The one delivery engine of both Slack transports: one message, attempted until Slack accepts it, refuses it
for good, or the Lambda's time is up.

- Every attempt is one request under a deadline (lambdas/shared/deadline_http.py): at most
  `policy.attempt_timeout`, and never past the invocation's remaining time minus `policy.reserve` (kept for
  logging, metrics and the idempotency write). Retries are limited by that time, not by a count.
- Waits come from policy.py (jittered backoff, Retry-After with its cap) and fit in the same time.
- One fallback ladder: the message as rendered (Block Kit), then once as plain text when Slack refused its
  content (answers.py says which answers those are).
- Posts to one webhook are spaced `policy.min_interval` apart within the process (`Pacer`; Slack allows
  about one per second), and a 429 holds every post to that target (a webhook, or a channel of the Web
  API, which allows short bursts) until its Retry-After.
- The outcome: a `DeliveryReport`, or `DeliveryError` (`MessageGone` when the thread or message was
  deleted), whose message names the channel and Slack's answer, never a URL or token.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from lambdas.alert_router.delivery.answers import Answer, Verdict, classify
from lambdas.alert_router.delivery.policy import Draw, RetryPolicy
from lambdas.alert_router.models import Payload
from lambdas.shared.deadline_http import Deadline
from lambdas.shared.observability import scrub_secrets

# One attempt: send this payload, answer by this deadline. Transports turn only transport failures into
# an Answer (no answer); a bug in them raises, and is never reported as Slack's silence.
Send = Callable[[Payload, Deadline], Answer]


@dataclass(frozen=True)
class Attempt:
    status: int | None
    verdict: Verdict
    answer: str  # Slack's answer or the transport's failure, scrubbed and short
    waited: float = 0.0  # seconds slept before this attempt
    plain_text: bool = False


@dataclass(frozen=True)
class DeliveryReport:
    channel: str
    attempts: tuple[Attempt, ...]
    ts: str | None = None  # Web API: the posted message's ts
    dry_run: bool = False

    @property
    def plain_text_fallback(self) -> bool:
        return any(attempt.plain_text for attempt in self.attempts)

    @property
    def retries(self) -> int:
        return max(0, len(self.attempts) - 1)


class DeliveryError(Exception):
    """Delivery failed for good. The message names channel and outcome, never a webhook URL or a token."""

    def __init__(self, message: str, *, channel: str | None = None, attempts: tuple[Attempt, ...] = ()) -> None:
        super().__init__(scrub_secrets(message))
        self.channel = channel
        self.attempts = attempts


class MessageGone(DeliveryError):
    """Slack answered thread_not_found or message_not_found: the message we referred to was deleted."""


def _never_ends() -> float:
    return float("inf")


class Pacer:
    """Per process: when the next post to a target (a webhook URL, a channel) may go out."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._not_before: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait_for(self, target: str) -> float:
        with self._lock:
            return max(0.0, self._not_before.get(target, 0.0) - self._clock())

    def after_post(self, target: str, interval: float) -> None:
        with self._lock:
            self._not_before[target] = max(self._not_before.get(target, 0.0), self._clock() + interval)

    def hold(self, target: str, seconds: float) -> None:
        """A 429 for one message: every post to that target waits, not only its retry."""
        with self._lock:
            self._not_before[target] = max(self._not_before.get(target, 0.0), self._clock() + seconds)


@dataclass
class DeliveryEngine:
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    remaining_seconds: Callable[[], float] = _never_ends  # the invocation's time left (Lambda context)
    sleep: Callable[[float], None] = time.sleep
    draw: Draw = random.uniform
    pacer: Pacer = field(default_factory=Pacer)

    def deliver(
        self,
        *,
        channel: str,
        what: str,
        target: str | None,
        send: Send,
        payload: Payload,
        plain: Payload,
        spaced: bool = True,
    ) -> DeliveryReport:
        """Deliver `payload` (then `plain`, if its content is refused). `target` is what a 429 holds (None:
        nothing), and what is spaced `policy.min_interval` apart when `spaced`."""
        attempts: list[Attempt] = []
        message, as_plain, wait = payload, False, 0.0
        while True:
            if target is not None:
                wait = max(wait, self.pacer.wait_for(target))
            budget = self.remaining_seconds() - self.policy.reserve - wait
            if budget < self.policy.min_attempt:
                raise DeliveryError(
                    f"gave up on {what} after {len(attempts)} attempts: not enough Lambda time left for another"
                    + _last_answer(attempts),
                    channel=channel,
                    attempts=tuple(attempts),
                )
            if wait > 0:
                self.sleep(wait)
            if target is not None and spaced:
                self.pacer.after_post(target, self.policy.min_interval)
            answer = send(message, Deadline.after(min(self.policy.attempt_timeout, budget)))
            verdict = classify(answer)
            attempts.append(Attempt(answer.status, verdict, answer.detail, waited=wait, plain_text=as_plain))
            if verdict is Verdict.DELIVERED:
                return DeliveryReport(channel=channel, attempts=tuple(attempts), ts=answer.ts)
            if verdict is Verdict.GONE:
                raise MessageGone(f"{what}: {answer.error}", channel=channel, attempts=tuple(attempts))
            if verdict is Verdict.REJECTED or (verdict is Verdict.PLAIN_TEXT and as_plain):
                raise DeliveryError(
                    f"Slack rejected {what}" + _last_answer(attempts), channel=channel, attempts=tuple(attempts)
                )
            if verdict is Verdict.PLAIN_TEXT:
                message, as_plain, wait = plain, True, 0.0
            elif verdict is Verdict.RATE_LIMITED:
                wait = self.policy.rate_limited(answer.retry_after, self.draw)
                if target is not None:
                    self.pacer.hold(target, wait)
            else:
                wait = self.policy.backoff(len(attempts), self.draw)


def _last_answer(attempts: list[Attempt]) -> str:
    if not attempts:
        return ""
    last = attempts[-1]
    status = f"HTTP {last.status}" if last.status is not None else "no HTTP answer"
    return f" (last: {status}, {last.answer!r})"
