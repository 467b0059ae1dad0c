"""Pure core of the endpoint: an HTTP request in, its answer and the incident actions to hand over out.

Slack signs every request: `X-Slack-Signature` is `v0=` + the hex HMAC-SHA256 of `v0:<X-Slack-Request-Timestamp>:
<raw body>` with the app's signing secret, and a request whose timestamp is more than five minutes from now
is to be refused (a replay). https://docs.slack.dev/authentication/verifying-requests-from-slack

Order of checks: nothing but the size is answered before the signature, so an unsigned request gets 401
whatever else is wrong with it, and every refusal is the same 401 with an empty body:
1. body at most MAX_BODY_BYTES (413): the most a Function URL can carry, checked before any HMAC work;
2. the timestamp: ASCII digits only, within MAX_SKEW_SECONDS of now (401; a body the Function URL event
   cannot give back as bytes, broken base64, cannot have been signed: 401 too);
3. the signature, compared in constant time over bytes (401 when missing, malformed, non-ASCII or wrong).
   A fresh request with a well-formed `v0=<64 hex>` signature that does not match is also counted as
   SignatureMismatch: that is what a wrong or unfilled signing secret looks like;
4. only POST (405) - after the signature, so it answers only Slack;
5. the payload (interaction.py): the incident buttons it carries are accepted (200, handed to the router);
   anything else a valid request carries - another button, another interaction type, a form we cannot read -
   is acknowledged and changes nothing (200), so Slack shows the user no error.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass, field
from typing import Any

from lambdas.shared.function_url import HttpRequest
from lambdas.shared.secret import Secret
from lambdas.shared.slack_actions import IncidentAction
from lambdas.slack_actions.interaction import read_interaction

# A Function URL (BUFFERED) carries at most 6 MB: https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
MAX_BODY_BYTES = 6 * 1024 * 1024
MAX_SKEW_SECONDS = 300  # Slack's recommendation: refuse a timestamp more than five minutes away
VERSION = "v0"
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


@dataclass(frozen=True)
class Decision:
    status: int
    outcome: str  # accepted | ignored: <why> | rejected: <why>
    actions: tuple[IncidentAction, ...] = ()  # accepted: the clicks to hand to the router
    log: dict[str, Any] = field(default_factory=dict)  # ids and sizes only, never the body or a header's secret
    counts: tuple[str, ...] = ()  # metrics to count once each (handler.py documents them)

    def response(self) -> dict[str, Any]:
        """A Function URL response. The body is empty: Slack needs only the 200, a stranger learns nothing."""
        return {"statusCode": self.status, "headers": {"content-type": "text/plain"}, "body": ""}


def sign(timestamp: str, body: bytes, secret: Secret | str) -> str:
    """`v0=` + hex HMAC-SHA256 of `v0:<timestamp>:<body>`."""
    key = secret.reveal() if isinstance(secret, Secret) else secret
    base = f"{VERSION}:{timestamp}:".encode() + body
    return f"{VERSION}=" + hmac.new(key.encode(), base, hashlib.sha256).hexdigest()


def timestamp_fresh(header: str | None, now: float) -> bool:
    """X-Slack-Request-Timestamp: Unix seconds in ASCII digits, at most MAX_SKEW_SECONDS from now."""
    text = (header or "").strip()
    if not _TIMESTAMP.fullmatch(text):  # [0-9]: ASCII digits only
        return False
    return abs(now - int(text)) <= MAX_SKEW_SECONDS


def signature_valid(timestamp: str, body: bytes, signature: str | None, secret: Secret) -> bool:
    """Constant-time comparison over bytes: any header text (non-ASCII, surrogates) is simply no match."""
    candidate = (signature or "").strip()
    if not candidate or not candidate.isascii() or not secret.reveal():
        return False
    return hmac.compare_digest(sign(timestamp, body, secret).encode(), candidate.encode())


def decide(request: HttpRequest, secret: Secret, *, now: float) -> Decision:
    headers = request.headers
    body = request.body
    timestamp = headers.get("x-slack-request-timestamp")
    signature = headers.get("x-slack-signature")
    ids: dict[str, Any] = {"bytes": len(body) if body is not None else "undecodable"}
    if body is not None and len(body) > MAX_BODY_BYTES:
        return Decision(413, "rejected: too large", log=ids, counts=("Rejected",))
    if body is None or timestamp is None or not timestamp_fresh(timestamp, now):
        return Decision(401, "rejected: timestamp", log=ids, counts=("Rejected",))
    if not signature_valid(timestamp.strip(), body, signature, secret):
        slack_shaped = _SIGNATURE.fullmatch((signature or "").strip()) is not None
        counts = ("Rejected", "SignatureMismatch") if slack_shaped else ("Rejected",)
        return Decision(401, "rejected: signature", log=ids, counts=counts)
    if request.method != "POST":
        return Decision(405, "rejected: method", log=ids, counts=("Rejected",))
    interaction = read_interaction(body)
    log = {**ids, **interaction.log}
    if not interaction.actions:
        return Decision(200, f"ignored: {interaction.ignored}", log=log, counts=("Ignored",))
    return Decision(200, "accepted", actions=interaction.actions, log=log, counts=("Accepted",))
