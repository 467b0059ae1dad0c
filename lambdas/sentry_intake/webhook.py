"""Pure core of the Sentry intake: HTTP request in, a decision out (respond, ignore, or hand over).

Order of checks: nothing but the size is answered before the signature, so an unsigned request gets 401
whatever else is wrong with it (a 405 or 400 would tell a stranger something about the endpoint):
1. body at most MAX_BODY_BYTES (413): a cheap guard, before any HMAC work on a large body;
2. `Sentry-Hook-Signature` = hex HMAC-SHA256 of the raw body bytes with the integration's client secret,
   compared in constant time (401 when missing or wrong). A body the Function URL event cannot give back
   as bytes (broken base64) cannot have been signed: 401 too;
3. `Sentry-Hook-Timestamp` fresh: at most `max_age` seconds old and at most FUTURE_SKEW_SECONDS ahead
   (401; `max_age` 0 turns the check off). Sentry does not sign this header, so it only stops a lazy
   replay that keeps the captured headers; the real replay guard is the router's idempotency on the
   digest of the signed body (a replayed body posts nothing new, whatever its headers say);
4. only POST (405) - after the signature, so it answers only Sentry;
5. the body is a JSON object (400);
6. resource/action we route (`event_alert` triggered, `issue` created, `metric_alert`
   critical/warning/resolved); anything else is acknowledged and ignored (202), so Sentry does not retry it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lambdas.shared.sentry_envelope import sentry_envelope

MAX_BODY_BYTES = 256 * 1024
FUTURE_SKEW_SECONDS = 60  # clocks differ a little; a timestamp further ahead is not Sentry's
ROUTED = {
    "event_alert": frozenset({"triggered"}),
    "issue": frozenset({"created"}),
    "metric_alert": frozenset({"critical", "warning", "resolved"}),
}


@dataclass(frozen=True)
class HttpRequest:
    method: str
    headers: Mapping[str, str]  # lower-case names
    body: bytes | None  # None: the event's body could not be turned back into bytes (broken base64)


@dataclass(frozen=True)
class Decision:
    status: int
    outcome: str  # accepted | ignored | rejected: <why>
    message: dict[str, Any] | None = None  # the alert to publish (accepted only)
    log: dict[str, str | None] = field(default_factory=dict)  # ids only, never payload content

    def response(self) -> dict[str, Any]:
        """A Function URL (payload 2.0) response; the body says only what the sender may know."""
        return {
            "statusCode": self.status,
            "headers": {"content-type": "application/json"},
            "body": json.dumps({"status": self.outcome}),
        }


def sign(body: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_valid(body: bytes, signature: str | None, secret: str) -> bool:
    if not signature or not secret:
        return False
    return hmac.compare_digest(sign(body, secret), signature.strip().lower())


def request_from_event(event: Mapping[str, Any]) -> HttpRequest:
    """A Lambda Function URL / API Gateway HTTP API (payload 2.0) event -> the raw request."""
    context = event.get("requestContext")
    http = context.get("http") if isinstance(context, Mapping) else None
    method = http.get("method") if isinstance(http, Mapping) else None
    headers = event.get("headers")
    body = event.get("body") or ""
    raw: bytes | None = None
    if isinstance(body, str) and event.get("isBase64Encoded") is True:
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raw = None  # decide() refuses it as unsigned
    elif isinstance(body, str):
        raw = body.encode(errors="surrogatepass")  # never raises; such bytes match no signature
    return HttpRequest(
        method=str(method or "POST").upper(),
        headers={str(k).lower(): str(v) for k, v in headers.items()} if isinstance(headers, Mapping) else {},
        body=raw,
    )


def timestamp_fresh(header: str | None, now: float, max_age: int) -> bool:
    """Sentry-Hook-Timestamp (Unix seconds) within [now - max_age, now + FUTURE_SKEW_SECONDS]."""
    if max_age <= 0:
        return True
    try:
        stamp = float((header or "").strip())
    except ValueError:
        return False
    return now - max_age <= stamp <= now + FUTURE_SKEW_SECONDS


def decide(  # noqa: PLR0911 - one return per refusal
    request: HttpRequest, secret: str, *, now: float, max_age: int
) -> Decision:
    """The intake's answer; `now` in Unix seconds, `max_age` the oldest Sentry-Hook-Timestamp accepted."""
    resource = request.headers.get("sentry-hook-resource")
    delivery_id = request.headers.get("request-id")
    body = request.body
    size = str(len(body)) if body is not None else "undecodable"
    ids: dict[str, str | None] = {"resource": resource, "request_id": delivery_id, "bytes": size}
    if body is not None and len(body) > MAX_BODY_BYTES:
        return Decision(413, "rejected: too large", log=ids)
    if body is None or not signature_valid(body, request.headers.get("sentry-hook-signature"), secret):
        return Decision(401, "rejected: signature", log=ids)
    if not timestamp_fresh(request.headers.get("sentry-hook-timestamp"), now, max_age):
        return Decision(401, "rejected: stale timestamp", log=ids)
    if request.method != "POST":
        return Decision(405, "rejected: method", log=ids)
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return Decision(400, "rejected: malformed JSON", log=ids)
    if not isinstance(payload, dict):
        return Decision(400, "rejected: not a JSON object", log=ids)
    action = payload.get("action") if isinstance(payload.get("action"), str) else None
    ids["action"] = action
    if resource not in ROUTED or action not in ROUTED[resource]:
        return Decision(202, "ignored", log=ids)
    # The digest of the signed body identifies the delivery, not Request-ID: the signature does not cover
    # headers, so a captured body replayed under a new Request-ID must still be a duplicate.
    body_digest = hashlib.sha256(body).hexdigest()
    ids["body_sha256"] = body_digest
    message = sentry_envelope(
        resource=resource,
        delivery_id=body_digest,
        hook_timestamp=request.headers.get("sentry-hook-timestamp"),
        payload=payload,
    )
    return Decision(202, "accepted", message=message, log=ids)


SNS_MESSAGE_LIMIT = 256 * 1024
# What the router reads from an issue alert's event; the rest (stack traces, breadcrumbs) may go.
_EVENT_KEYS = (
    "event_id",
    "issue_id",
    "title",
    "message",
    "level",
    "culprit",
    "environment",
    "datetime",
    "web_url",
    "issue_url",
    "project",
    "type",
    "issue_category",
    "tags",
)


def encode_message(message: Mapping[str, Any]) -> str:
    """The SNS message text, within SNS's 256 KiB: a large event keeps only the fields the router reads."""
    text = json.dumps(message, ensure_ascii=False, separators=(",", ":"))
    if len(text.encode()) <= SNS_MESSAGE_LIMIT:
        return text
    payload = dict(message.get("payload") or {})
    data = dict(payload.get("data") or {})
    event = data.get("event")
    if isinstance(event, Mapping):
        data["event"] = {key: event[key] for key in _EVENT_KEYS if key in event}
    data.pop("issue_alert", None)
    payload["data"] = data
    text = json.dumps({**message, "payload": payload}, ensure_ascii=False, separators=(",", ":"))
    if len(text.encode()) <= SNS_MESSAGE_LIMIT:
        return text
    raise ValueError("the Sentry webhook does not fit in an SNS message even without its event details")
