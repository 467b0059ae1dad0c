"""How long to wait before the next attempt, for both Slack transports (pure; the randomness is injected).

- Retries are limited by the time the Lambda has left, not by a count (the engine checks the time).
- Server errors and no answer: full jitter, a uniform wait in [0, min(max_delay, base_delay * 2^(n-1))]
  (AWS Architecture Blog, "Exponential Backoff And Jitter"), so containers that failed together do not
  come back together.
- 429: at least Retry-After (capped at max_retry_after; the time left still decides), plus a jitter of up
  to one more second (or one more Retry-After when it is shorter), so the containers Slack told the same
  time do not all return in the same instant and get 429 again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

Draw = Callable[[float, float], float]  # random.uniform(a, b) in production


@dataclass(frozen=True)
class RetryPolicy:
    base_delay: float = 0.5  # seconds: the ceiling of the first backoff; doubles per retry
    max_delay: float = 8.0
    max_retry_after: float = 30.0
    rate_limit_jitter: float = 1.0
    attempt_timeout: float = 5.0  # one request, connect to last byte; Slack answers in well under a second
    min_attempt: float = 0.5  # an attempt with less time than this is not started
    reserve: float = 1.5  # kept after the last attempt for logging, metrics and the idempotency write
    min_interval: float = 1.0  # between posts to one webhook or channel (Slack: about 1 per second)

    def backoff(self, retry: int, draw: Draw) -> float:
        """The wait before retry number `retry` (1 = the first retry) after a server error or no answer."""
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** (max(1, retry) - 1))
        return draw(0.0, ceiling)

    def rate_limited(self, retry_after: str | None, draw: Draw) -> float:
        """The wait after a 429: Retry-After (seconds; 1 s when missing or unreadable), capped, plus jitter."""
        try:
            seconds = float(retry_after) if retry_after is not None else 1.0
        except ValueError:
            seconds = 1.0
        floor = min(self.max_retry_after, max(0.0, seconds))
        return floor + draw(0.0, min(self.rate_limit_jitter, floor))
