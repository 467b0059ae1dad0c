"""The Slack Web API for bot-token mode: chat.postMessage (top level or in a thread) and chat.update.

Each call is one JSON POST with the bearer token, through the same engine and the same deadline-aware
transport as webhook mode (engine.py, lambdas/shared/deadline_http.py): the same retries within the
Lambda's time, the same plain-text fallback (`invalid_blocks` & co. answered as `ok: false`), the same
taxonomy, and `MessageGone` when the thread (thread_not_found) or the message (message_not_found) was
deleted. Posts are not spaced in advance (chat.postMessage allows short bursts per channel), but a 429
holds every later post to that channel until its Retry-After.

Why not slack_sdk's WebClient: its urllib transport has per-read timeouts only, so a trickling answer
outlived the Lambda, and any exception in it was indistinguishable from Slack not answering; the two calls
need no more than this file (measured cold start: docs/operations/decisions.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from lambdas.alert_router.delivery.answers import Answer, no_answer, plain_text, web_api_answer
from lambdas.alert_router.delivery.engine import DeliveryEngine, DeliveryReport
from lambdas.alert_router.delivery.webhook import JSON_HEADERS, encode_payload
from lambdas.alert_router.models import Payload
from lambdas.alert_router.settings import SLACK_API
from lambdas.shared.deadline_http import TRANSPORT_ERRORS, Deadline, request


class SlackApi(Protocol):
    def post_message(
        self, channel_id: str, payload: Payload, *, thread_ts: str | None = None, broadcast: bool = False
    ) -> DeliveryReport: ...

    def update_message(self, channel_id: str, ts: str, payload: Payload) -> DeliveryReport: ...


@dataclass
class WebApiClient:
    token: str = field(repr=False)
    base_url: str = SLACK_API
    engine: DeliveryEngine = field(default_factory=DeliveryEngine)

    def post_message(
        self, channel_id: str, payload: Payload, *, thread_ts: str | None = None, broadcast: bool = False
    ) -> DeliveryReport:
        where: dict[str, Any] = {"channel": channel_id}
        if thread_ts:
            where |= {"thread_ts": thread_ts, "reply_broadcast": broadcast}
        return self._call("chat.postMessage", channel_id, where, payload, plain_text(payload))

    def update_message(self, channel_id: str, ts: str, payload: Payload) -> DeliveryReport:
        # without `attachments` chat.update keeps the old ones: the plain version must clear them
        plain = {**plain_text(payload), "attachments": []}
        return self._call("chat.update", channel_id, {"channel": channel_id, "ts": ts}, payload, plain)

    def _call(
        self, method: str, channel_id: str, where: dict[str, Any], payload: Payload, plain: Payload
    ) -> DeliveryReport:
        url = self.base_url + method
        headers = {**JSON_HEADERS, "Authorization": f"Bearer {self.token}"}

        def call(message: Payload, deadline: Deadline) -> Answer:
            body = encode_payload({**message, **where})
            try:
                answer = request("POST", url, body=body, headers=headers, deadline=deadline)
            except TRANSPORT_ERRORS as error:
                return no_answer(error)
            return web_api_answer(answer.status, answer.body, answer.headers.get("retry-after"))

        return self.engine.deliver(
            channel=channel_id,
            what=f"{method} to channel {channel_id!r}",
            target=f"channel:{channel_id}",
            send=call,
            payload=payload,
            plain=plain,
            spaced=False,
        )
