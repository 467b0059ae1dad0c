"""The Slack Web API for bot-token mode: chat.postMessage (top level or in a thread), chat.update, and a file
into a thread (the alarm's graph) with Slack's external upload.

Each call is one JSON POST with the bearer token, through the same engine and the same deadline-aware
transport as webhook mode (engine.py, lambdas/shared/deadline_http.py): the same retries within the
Lambda's time, the same plain-text fallback (`invalid_blocks` & co. answered as `ok: false`), the same
taxonomy, and `MessageGone` when the thread (thread_not_found) or the message (message_not_found) was
deleted. Posts are not spaced in advance (chat.postMessage allows short bursts per channel), but a 429
holds every later post to that channel until its Retry-After.

The upload is three calls, each through the same engine and deadline (files.upload is retired):
files.getUploadURLExternal (form-encoded: filename, length, alt text) answers an upload URL and a file id;
the bytes are POSTed to that URL (no token: the URL is the credential); files.completeUploadExternal (JSON)
shares the file into the thread. The upload URL comes from Slack's answer, so it is checked before any byte
goes out: only https://files.slack.com/, or the loopback origin of a loopback API base (tests, the demo).
https://docs.slack.dev/reference/methods/files.getUploadURLExternal
https://docs.slack.dev/reference/methods/files.completeUploadExternal
https://docs.slack.dev/messaging/working-with-files#upload

Why not slack_sdk's WebClient: its urllib transport has per-read timeouts only, so a trickling answer
outlived the Lambda, and any exception in it was indistinguishable from Slack not answering; the two calls
need no more than this file (measured cold start: docs/operations/decisions.md).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlencode, urlsplit

from lambdas.alert_router.delivery.answers import Answer, no_answer, plain_text, web_api_answer
from lambdas.alert_router.delivery.engine import DeliveryEngine, DeliveryError, DeliveryReport
from lambdas.alert_router.delivery.webhook import JSON_HEADERS, encode_payload
from lambdas.alert_router.models import Payload
from lambdas.alert_router.settings import SLACK_API
from lambdas.shared.deadline_http import TRANSPORT_ERRORS, Deadline, request

SLACK_UPLOAD_URL = re.compile(r"^https://files\.slack\.com/\S+$")
_LOOPBACK = re.compile(r"^http://(127\.0\.0\.1|localhost|\[::1\])(:\d+)?/")
FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded", "User-Agent": JSON_HEADERS["User-Agent"]}
UPLOAD_MAX_BODY = 4096  # the upload URL answers "OK - <length>"


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

    def upload_file(
        self, channel_id: str, *, thread_ts: str, filename: str, content: bytes, title: str, alt_text: str
    ) -> DeliveryReport:
        """`content` as a file in the thread `thread_ts`; DeliveryError when any of the three steps fails."""
        ticket: dict[str, Any] = {}
        arguments = {"filename": filename, "length": len(content), "alt_txt": alt_text[:1000]}
        self._call(
            "files.getUploadURLExternal", channel_id, {}, arguments, arguments, encode=_form, answered=ticket.update
        )
        upload_url, file_id = ticket.get("upload_url"), ticket.get("file_id")
        if not isinstance(upload_url, str) or not isinstance(file_id, str):
            raise DeliveryError("files.getUploadURLExternal answered no upload_url or file_id", channel=channel_id)
        self._upload(channel_id, upload_url, content)
        complete = {"files": [{"id": file_id, "title": title}], "channel_id": channel_id, "thread_ts": thread_ts}
        return self._call("files.completeUploadExternal", channel_id, {}, complete, complete)

    def _upload(self, channel_id: str, upload_url: str, content: bytes) -> DeliveryReport:
        if not self._upload_url_allowed(upload_url):
            raise DeliveryError(
                f"refused to upload to {urlsplit(upload_url).netloc!r}: not Slack's file host", channel=channel_id
            )

        def post(_: Payload, deadline: Deadline) -> Answer:
            headers = {"Content-Type": "application/octet-stream", "User-Agent": JSON_HEADERS["User-Agent"]}
            try:
                answer = request(
                    "POST", upload_url, body=content, headers=headers, deadline=deadline, max_body=UPLOAD_MAX_BODY
                )
            except TRANSPORT_ERRORS as error:
                return no_answer(error)
            if answer.status == 200:
                return Answer(status=200, ok=True, detail="uploaded")
            return Answer(status=answer.status, error=f"upload answered {answer.status}", detail=str(answer.status))

        return self.engine.deliver(
            channel=channel_id, what="the file upload", target=None, send=post, payload={}, plain={}
        )

    def _upload_url_allowed(self, url: str) -> bool:
        if SLACK_UPLOAD_URL.match(url):
            return True
        base = _LOOPBACK.match(self.base_url)
        return base is not None and url.startswith(base.group(0))

    def _call(
        self,
        method: str,
        channel_id: str,
        where: dict[str, Any],
        payload: Payload,
        plain: Payload,
        *,
        encode: Callable[[Payload], tuple[bytes, dict[str, str]]] | None = None,
        answered: Callable[[dict[str, Any]], None] | None = None,
    ) -> DeliveryReport:
        url = self.base_url + method
        auth = {"Authorization": f"Bearer {self.token}"}

        def call(message: Payload, deadline: Deadline) -> Answer:
            body, headers = (encode or _json)({**message, **where})
            try:
                answer = request("POST", url, body=body, headers={**headers, **auth}, deadline=deadline)
            except TRANSPORT_ERRORS as error:
                return no_answer(error)
            found = web_api_answer(answer.status, answer.body, answer.headers.get("retry-after"))
            if found.ok and answered is not None:
                answered(json.loads(answer.body))
            return found

        return self.engine.deliver(
            channel=channel_id,
            what=f"{method} to channel {channel_id!r}",
            target=f"channel:{channel_id}",
            send=call,
            payload=payload,
            plain=plain,
            spaced=False,
        )


def _json(message: Payload) -> tuple[bytes, dict[str, str]]:
    return encode_payload(message), JSON_HEADERS


def _form(message: Payload) -> tuple[bytes, dict[str, str]]:
    return urlencode({key: str(value) for key, value in message.items()}).encode(), FORM_HEADERS
