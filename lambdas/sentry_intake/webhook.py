"""Pure core of the Sentry intake: HTTP request in, a decision out (respond, ignore, or hand over).

Order of checks: nothing but the size is answered before the signature, so an unsigned request gets 401
whatever else is wrong with it (a 405 or 400 would tell a stranger something about the endpoint):
1. body at most MAX_BODY_BYTES (413): the most a Function URL can carry, checked before any HMAC work;
2. `Sentry-Hook-Signature` = hex HMAC-SHA256 of the raw body bytes with the integration's client secret,
   compared in constant time over bytes (401 when missing, malformed, non-ASCII or wrong: one answer, no
   detail). A body the Function URL event cannot give back as bytes (broken base64) cannot have been
   signed: 401 too. A refused request that looks like Sentry's (a known resource, a 64-hex signature) is
   counted as SignatureMismatch: that is what a wrong or unfilled client secret looks like;
3. `Sentry-Hook-Timestamp` fresh: at most `max_age` seconds old and at most FUTURE_SKEW_SECONDS ahead
   (401; `max_age` 0 turns the check off). Sentry does not sign this header, so it only stops a lazy
   replay that keeps the captured headers;
4. only POST (405) - after the signature, so it answers only Sentry;
5. a resource we route (`event_alert`, `issue`, `metric_alert`); anything else is acknowledged and ignored
   (202), so Sentry does not retry it;
6. the body is JSON, an object, nested at most MAX_JSON_DEPTH deep. A signed body that is not is still
   Sentry's alert: it is delivered as a plain-text message the router posts as received (its "unparsed"
   path), naming only ids, so a human looks in Sentry (202);
7. the action is one we route (`event_alert` triggered, `issue` created, `metric_alert`
   critical/warning/resolved), else 202 ignored;
8. the body's own time (freshness.py) is inside the replay window, which `max_body_age` (the router's
   idempotency TTL on the body digest) bounds: else 401. A replay the router would no longer recognise
   as a duplicate is refused here, one it would recognise is dropped there;
9. the envelope is fitted into one SNS message (trimming.py): trimmed when too large, never refused.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass, field
from typing import Any

from lambdas.sentry_intake.freshness import signed_time, staleness
from lambdas.sentry_intake.trimming import fit_envelope
from lambdas.shared.function_url import HttpRequest, json_response
from lambdas.shared.secret import Secret
from lambdas.shared.sentry_envelope import sentry_envelope

# A Function URL (BUFFERED) invokes with the Invoke API: at most 6 MB for the whole request ("Invocation
# payload (request and response): 6 MB each for synchronous invocations",
# https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html; AWS::Lambda::Url InvokeMode).
# Nothing larger can reach the function deployed; locally it bounds the HMAC and parsing work.
MAX_BODY_BYTES = 6 * 1024 * 1024
FUTURE_SKEW_SECONDS = 60  # clocks differ a little; a Sentry-Hook-Timestamp further ahead is not Sentry's
MAX_JSON_DEPTH = 64  # Sentry's payloads nest about 10 deep; the router re-parses what we publish
ROUTED = {
    "event_alert": frozenset({"triggered"}),
    "issue": frozenset({"created"}),
    "metric_alert": frozenset({"critical", "warning", "resolved"}),
}
# Sentry-Hook-Resource values Sentry documents (integration platform, webhooks).
SENTRY_RESOURCES = frozenset({"installation", "event_alert", "issue", "metric_alert", "error", "comment"})
_HEX_SIGNATURE = re.compile(r"[0-9a-f]{64}")
_PLAIN_ID = re.compile(r"[A-Za-z0-9-]{1,64}")
_SHOWN_HEADER_CHARS = 64  # header values are the sender's; logs keep a bounded prefix


@dataclass(frozen=True)
class Decision:
    status: int
    outcome: str  # accepted | ignored | rejected: <why>
    message: str | None = None  # the SNS message text to publish (accepted only), within SNS's limit
    log: dict[str, str | int | None] = field(default_factory=dict)  # ids and sizes only, never payload content
    counts: tuple[str, ...] = ()  # metrics to count once each (handler.py documents them)

    def response(self) -> dict[str, Any]:
        """A Function URL (payload 2.0) response; the body says only what the sender may know."""
        return json_response(self.status, {"status": self.outcome})


def sign(body: bytes, secret: str | Secret) -> str:
    key = secret.reveal() if isinstance(secret, Secret) else secret
    return hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


def signature_valid(body: bytes, signature: str | None, secret: Secret) -> bool:
    """Constant-time comparison over bytes: any header text (non-ASCII, surrogates) is simply no match."""
    candidate = (signature or "").strip().lower()
    if not candidate or not candidate.isascii() or not secret.reveal():
        return False
    return hmac.compare_digest(sign(body, secret).encode(), candidate.encode())


def timestamp_fresh(header: str | None, now: float, max_age: int) -> bool:
    """Sentry-Hook-Timestamp (Unix seconds) within [now - max_age, now + FUTURE_SKEW_SECONDS]."""
    if max_age <= 0:
        return True
    try:
        stamp = float((header or "").strip())
    except ValueError:
        return False
    return now - max_age <= stamp <= now + FUTURE_SKEW_SECONDS


def read_json(body: bytes) -> tuple[dict[str, Any] | None, str | None]:
    """(the JSON object, None), or (None, why it cannot be read). Depth is bounded: the C parser raises
    RecursionError past about 1000 levels, and anything deeper than MAX_JSON_DEPTH is refused below that."""
    too_deep = f"JSON nested deeper than {MAX_JSON_DEPTH} levels"
    try:
        value = json.loads(body.decode("utf-8"))
    except RecursionError:
        return None, too_deep
    except ValueError:  # UnicodeDecodeError included
        return None, "not valid JSON"
    if _deeper_than(value, MAX_JSON_DEPTH):
        return None, too_deep
    if not isinstance(value, dict):
        return None, "not a JSON object"
    return value, None


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether objects/arrays nest more than `limit` levels (iterative: no recursion on hostile input)."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        node, depth = pending.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False


def decide(  # noqa: PLR0911 - one return per refusal
    request: HttpRequest, secret: Secret, *, now: float, max_age: int, max_body_age: int
) -> Decision:
    """The intake's answer; `now` in Unix seconds, `max_age` the oldest Sentry-Hook-Timestamp accepted,
    `max_body_age` the router's digest memory in seconds (0: the body's time is not judged)."""
    headers = request.headers
    resource = headers.get("sentry-hook-resource")
    signature = headers.get("sentry-hook-signature")
    body = request.body
    ids: dict[str, str | int | None] = {
        "resource": _shown(resource),
        "request_id": _shown(headers.get("request-id")),
        "bytes": len(body) if body is not None else "undecodable",
    }
    if body is not None and len(body) > MAX_BODY_BYTES:
        return Decision(413, "rejected: too large", log=ids, counts=("Rejected",))
    if body is None or not signature_valid(body, signature, secret):
        sentry_shaped = resource in SENTRY_RESOURCES and _HEX_SIGNATURE.fullmatch((signature or "").strip().lower())
        counts = ("Rejected", "SignatureMismatch") if sentry_shaped else ("Rejected",)
        return Decision(401, "rejected: signature", log=ids, counts=counts)
    if not timestamp_fresh(headers.get("sentry-hook-timestamp"), now, max_age):
        return Decision(401, "rejected: stale timestamp", log=ids, counts=("Rejected",))
    if request.method != "POST":
        return Decision(405, "rejected: method", log=ids, counts=("Rejected",))
    if resource not in ROUTED:
        return Decision(202, "ignored", log=ids, counts=("Ignored",))
    # The digest of the signed body identifies the delivery, not Request-ID: the signature does not cover
    # headers, so a captured body replayed under a new Request-ID must still be a duplicate.
    body_digest = hashlib.sha256(body).hexdigest()
    ids["body_sha256"] = body_digest
    payload, unreadable = read_json(body)
    if payload is None:
        text = unparsed_alert(unreadable or "unreadable", resource=resource, request=request, digest=body_digest)
        log = {**ids, "delivery": "unparsed", "why": unreadable, "published_bytes": len(text.encode())}
        return Decision(202, "accepted", message=text, log=log, counts=("Accepted", "Unparsed"))
    action = payload.get("action") if isinstance(payload.get("action"), str) else None
    ids["action"] = _shown(action)
    if action not in ROUTED[resource]:
        return Decision(202, "ignored", log=ids, counts=("Ignored",))
    stamp = signed_time(resource, payload)
    if max_body_age > 0:
        ids["body_time"] = int(stamp) if stamp is not None else "none"
        why = staleness(stamp, now=now, memory_seconds=max_body_age) if stamp is not None else None
        if why is not None:
            return Decision(401, "rejected: stale body", log={**ids, "why": why}, counts=("Rejected", "StaleBody"))
    envelope = sentry_envelope(
        resource=resource,
        delivery_id=body_digest,
        hook_timestamp=(headers.get("sentry-hook-timestamp") or "")[:32] or None,
        payload=payload,
    )
    text, view = fit_envelope(envelope, original_bytes=len(body))
    log = {**ids, "delivery": view, "published_bytes": len(text.encode())}
    return Decision(
        202, "accepted", message=text, log=log, counts=("Accepted",) + (("Trimmed",) if view != "whole" else ())
    )


def unparsed_alert(why: str, *, resource: str, request: HttpRequest, digest: str) -> str:
    """Plain text for the router's "shown as received" path: what happened and where to look, ids only
    (the Request-ID header is the sender's: shown only when it is a plain id)."""
    request_id = request.headers.get("request-id") or ""
    shown_id = request_id if _PLAIN_ID.fullmatch(request_id) else "(not shown)"
    size = len(request.body or b"")
    return (
        f"A Sentry alert arrived but could not be read ({why}). Open Sentry (Alerts, Issues) to see what fired.\n"
        f"Resource {resource}, Request-ID {shown_id}, body SHA-256 {digest[:16]}, {size} bytes; the signature"
        " was valid, so Sentry sent it."
    )


def _shown(value: str | None) -> str | None:
    return value[:_SHOWN_HEADER_CHARS] if value is not None else None
