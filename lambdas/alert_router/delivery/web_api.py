"""Slack Web API adapter for bot-token mode: chat.postMessage (top level or in a thread) and chat.update.

slack_sdk's WebClient does the HTTP, the bearer token and the `ok: false` -> SlackApiError mapping; its
retry hook gets one handler of ours (`DeadlineRetryHandler`) so every wait fits the Lambda's remaining time,
with the same policy as webhook mode (slack.RetryPolicy): 429 waits Retry-After, 5xx / timeouts / connection
errors back off exponentially, then `DeliveryError` (the channel id and Slack's error, never the token).
slack_sdk is imported here only, and this module only in bot-token mode, so webhook mode's cold start
does not pay its ~90 ms.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from lambdas.alert_router.delivery.webhook import DeliveryError, RetryPolicy
from lambdas.alert_router.models import Payload
from lambdas.shared.observability import scrub_secrets


@dataclass(frozen=True)
class ApiResult:
    ts: str | None
    retries: int = 0


class SlackApi(Protocol):
    def post_message(
        self, channel_id: str, payload: Payload, *, thread_ts: str | None = None, broadcast: bool = False
    ) -> ApiResult: ...

    def update_message(self, channel_id: str, ts: str, payload: Payload) -> ApiResult: ...


def _never_ends() -> float:
    return float("inf")


class DeadlineRetryHandler(RetryHandler):
    """429 (Retry-After), 5xx and no-answer errors, retried only while another attempt fits the deadline."""

    def __init__(self, policy: RetryPolicy, sleep: Callable[[float], None], remaining: Callable[[], float]) -> None:
        super().__init__(max_retry_count=policy.max_attempts - 1)
        self.policy = policy
        self.sleep = sleep
        self.remaining = remaining
        self.waits: list[float] = []

    def _wait(self, state: RetryState, response: HttpResponse | None) -> float:
        if response is not None and response.status_code == 429:
            values = {k.lower(): v for k, v in response.headers.items()}.get("retry-after")
            header = values[0] if isinstance(values, list) and values else values
            return self.policy.retry_after(header if isinstance(header, str) else None)
        return self.policy.backoff(state.current_attempt + 1)

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is not None:
            retryable = response.status_code == 429 or response.status_code >= 500
        else:
            retryable = error is not None  # timeout, refused, reset: no answer at all
        return retryable and self._wait(state, response) + self.policy.reserve + 0.2 < self.remaining()

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        wait = self._wait(state, response)
        self.waits.append(wait)
        state.next_attempt_requested = True
        if wait > 0:
            self.sleep(wait)
        state.increment_current_attempt()


@dataclass
class WebApiClient:
    """One WebClient per call (cheap, no I/O): the retry handler's bookkeeping is per call and thread-safe."""

    token: str = field(repr=False)
    base_url: str = "https://slack.com/api/"
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    sleep: Callable[[float], None] = time.sleep
    remaining_seconds: Callable[[], float] = _never_ends

    def post_message(
        self, channel_id: str, payload: Payload, *, thread_ts: str | None = None, broadcast: bool = False
    ) -> ApiResult:
        arguments: dict[str, Any] = {"channel": channel_id, **payload}
        if thread_ts:
            arguments["thread_ts"] = thread_ts
            arguments["reply_broadcast"] = broadcast
        return self._call("chat_postMessage", channel_id, arguments)

    def update_message(self, channel_id: str, ts: str, payload: Payload) -> ApiResult:
        return self._call("chat_update", channel_id, {"channel": channel_id, "ts": ts, **payload})

    def _call(self, method: str, channel_id: str, arguments: dict[str, Any]) -> ApiResult:
        timeout = min(self.policy.request_timeout, self.remaining_seconds() - self.policy.reserve)
        if timeout <= 0.2:
            raise DeliveryError(f"gave up on channel {channel_id!r}: not enough Lambda time left", channel=channel_id)
        handler = DeadlineRetryHandler(self.policy, self.sleep, self.remaining_seconds)
        client = WebClient(
            token=self.token, base_url=self.base_url, timeout=max(1, round(timeout)), retry_handlers=[handler]
        )
        api_name = method.replace("_", ".", 1)
        try:
            response = getattr(client, method)(**arguments)
        except SlackApiError as error:
            answer = error.response.get("error") if isinstance(error.response.data, dict) else None
            status = error.response.status_code
            raise DeliveryError(
                scrub_secrets(
                    f"Slack answered {answer or 'an error'} to {api_name} for channel {channel_id!r}"
                    f" (HTTP {status}, {len(handler.waits) + 1} attempts)"
                ),
                channel=channel_id,
            ) from None
        except Exception as error:  # no answer: timeout, refused, reset (after the retries that fitted)
            raise DeliveryError(
                f"no answer from Slack to {api_name} for channel {channel_id!r} ({type(error).__name__},"
                f" {len(handler.waits) + 1} attempts)",
                channel=channel_id,
            ) from None
        ts = response.get("ts")
        return ApiResult(ts=str(ts) if ts else None, retries=len(handler.waits))
