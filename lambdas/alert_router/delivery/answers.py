"""One error taxonomy for both Slack transports: what Slack answered, and what the engine does about it.

An incoming webhook answers `ok` (HTTP 200) or an error code as the body with a 4xx status; the Web API
answers JSON `{"ok": true|false, "error": ...}`, usually with HTTP 200, and 429 + Retry-After when rate
limited. Both are read into one `Answer`, and `classify` maps it to one `Verdict`:

    DELIVERED     webhook 200 `ok`; Web API `ok: true`
    RATE_LIMITED  429 (or `ratelimited`): wait Retry-After, then again
    RETRY         5xx, no answer, Slack's transient errors, an answer we do not understand (a 200 from a
                  captive portal): back off, then again while time is left
    PLAIN_TEXT    the message's blocks or attachments were refused: send it once more as plain text
    GONE          thread_not_found / message_not_found: the parent or original was deleted (the incident
                  loop re-anchors the incident on a new top-level post)
    REJECTED      anything else (invalid_auth, channel_not_found, not_in_channel, no_service, ...):
                  retrying cannot help, raise at once

Slack's error codes: https://docs.slack.dev/reference/methods/chat.postMessage (Errors),
https://docs.slack.dev/reference/methods/chat.update and
https://docs.slack.dev/messaging/sending-messages-using-incoming-webhooks (Handling errors).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from lambdas.alert_router.models import Payload
from lambdas.shared.deadline_http import NotHttp
from lambdas.shared.observability import scrub_secrets

# The content was refused, and a message of plain text would be accepted.
CONTENT_REFUSED = frozenset(
    {
        "invalid_payload",
        "invalid_blocks",
        "invalid_blocks_format",
        "invalid_attachments",
        "too_many_attachments",
        "msg_too_long",
        "msg_blocks_too_long",
        "no_text",
    }
)
GONE = frozenset({"thread_not_found", "message_not_found"})
TRANSIENT = frozenset({"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"})
_DETAIL_LIMIT = 300


class Verdict(StrEnum):
    DELIVERED = "delivered"
    RATE_LIMITED = "rate-limited"
    RETRY = "retry"
    PLAIN_TEXT = "plain-text"
    GONE = "gone"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Answer:
    status: int | None  # HTTP status; None: no HTTP answer at all
    ok: bool = False
    error: str | None = None  # Slack's error code, or the transport's failure ("timeout", "connection refused")
    retry_after: str | None = None
    ts: str | None = None  # Web API: the message's ts
    detail: str = ""  # what the log shows of the answer: scrubbed, short


def classify(answer: Answer) -> Verdict:  # noqa: PLR0911 - one return per verdict
    if answer.ok:
        return Verdict.DELIVERED
    if answer.status == 429 or answer.error == "ratelimited":
        return Verdict.RATE_LIMITED
    if answer.error in GONE:
        return Verdict.GONE
    if answer.error in CONTENT_REFUSED:
        return Verdict.PLAIN_TEXT
    if answer.status is None or answer.status >= 500 or answer.error in TRANSIENT:
        return Verdict.RETRY
    if answer.status >= 400 or answer.error is not None:
        return Verdict.REJECTED
    return Verdict.RETRY  # a 200 we cannot read as Slack's answer (a captive portal, a proxy): try again


def webhook_answer(status: int, body: bytes, retry_after: str | None) -> Answer:
    """An incoming webhook's answer: 200 `ok`, else the error code as the body."""
    text = body.decode("utf-8", errors="replace").strip()
    if status == 200 and text == "ok":
        return Answer(status=status, ok=True, detail="ok")
    looks_like_code = 0 < len(text) <= 64 and text.replace("_", "").isalnum() and status != 200
    return Answer(
        status=status,
        error=text if looks_like_code else None,
        retry_after=retry_after,
        detail=scrub_secrets(text or "(empty body)")[:_DETAIL_LIMIT],
    )


def web_api_answer(status: int, body: bytes, retry_after: str | None) -> Answer:
    """A Web API answer: JSON with `ok`, `error` and (for chat.postMessage / chat.update) `ts`."""
    try:
        data: Any = json.loads(body)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        text = body.decode("utf-8", errors="replace").strip() or "(empty body)"
        return Answer(status=status, retry_after=retry_after, detail=scrub_secrets(text)[:_DETAIL_LIMIT])
    error = data.get("error") if isinstance(data.get("error"), str) else None
    ts = data.get("ts") if isinstance(data.get("ts"), str) else None
    ok = data.get("ok") is True and status == 200
    return Answer(
        status=status,
        ok=ok,
        error=error,
        retry_after=retry_after,
        ts=ts,
        detail="ok" if ok else scrub_secrets(error or "ok: false without an error")[:_DETAIL_LIMIT],
    )


def no_answer(error: BaseException) -> Answer:
    """The transport got no HTTP answer (the caller passes only transport errors here, never a bug)."""
    if isinstance(error, TimeoutError):
        reason = "timeout"
    elif isinstance(error, ConnectionRefusedError):
        reason = "connection refused"
    elif isinstance(error, NotHttp):
        reason = "not an HTTP answer"
    else:
        reason = f"connection error ({type(error).__name__})"
    return Answer(status=None, error=reason, detail=reason)


def plain_text(payload: Payload) -> Payload:
    """The message as plain text only: its top-level `text` (the notification line every renderer writes)."""
    text = payload.get("text")
    return {"text": text if isinstance(text, str) and text.strip() else "Alert: the full message was refused by Slack"}
