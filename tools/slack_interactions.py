"""Signed Slack interaction requests, as the Function URL delivers them, for tests and the demo (no Slack needed).

    from tools.slack_interactions import TEST_SIGNING_SECRET, click, signed_event
    payload = click(posted_message, "Acknowledge", user_id="U0ONCALL", response_url=api.response_url())
    event = signed_event(payload)                       # what the Function URL hands the endpoint
    lambdas.slack_actions.handler.lambda_handler(event, context)   # with SLACK_SIGNING_SECRET=TEST_SIGNING_SECRET

`click` finds the button in a message the router posted (so a test clicks what is really there) and builds
Slack's `block_actions` payload for it (https://docs.slack.dev/reference/interaction-payloads/block_actions-payload);
`signed_event` form-encodes it (`payload=<json>`) and signs it as Slack does (`v0:<timestamp>:<body>`).
The test secret is obviously fake.
"""

from __future__ import annotations

import base64
import copy
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from lambdas.shared.slack_actions import BLOCK_ID
from lambdas.slack_actions.verify import sign

TEST_SIGNING_SECRET = "test-slack-signing-secret-not-real"  # a fixture, never a real secret


class NoSuchButton(LookupError):
    """The message has no button with that label in our actions block."""


def buttons(message: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Label -> button element of the message's incident actions block (top level or in its attachments)."""
    blocks: list[Any] = list(message.get("blocks") or [])
    for attachment in message.get("attachments") or []:
        blocks += attachment.get("blocks") or []
    found: dict[str, dict[str, Any]] = {}
    for block in blocks:
        if block.get("type") == "actions" and block.get("block_id") == BLOCK_ID:
            found |= {element["text"]["text"]: element for element in block["elements"]}
    return found


def click(
    message: Mapping[str, Any],
    label: str,
    *,
    response_url: str,
    user_id: str = "U0ONCALL",
    user_name: str = "oncall",
    action_ts: str | None = None,
) -> dict[str, Any]:
    """The `block_actions` payload of `user_id` clicking the button `label` on `message` (a posted message
    with its `ts` and `channel`, as the local Slack Web API records it)."""
    found = buttons(message)
    if label not in found:
        raise NoSuchButton(f"no button {label!r} on the message (it has: {', '.join(found) or 'none'})")
    button = found[label]
    return {
        "type": "block_actions",
        "user": {"id": user_id, "username": user_name, "name": user_name, "team_id": "T0LOCAL"},
        "api_app_id": "A0LOCAL",
        "token": "legacy-verification-token-unused",  # Slack still sends it; nobody must read it
        "container": {
            "type": "message",
            "message_ts": message["ts"],
            "channel_id": message["channel"],
            "is_ephemeral": False,
        },
        "trigger_id": "0000000000.0000000000.local",
        "team": {"id": "T0LOCAL", "domain": "local"},
        "channel": {"id": message["channel"], "name": "alerts"},
        "message": {"ts": message["ts"], "text": message.get("text", "")},
        "response_url": response_url,
        "actions": [
            {
                "type": "button",
                "block_id": BLOCK_ID,
                "action_id": button["action_id"],
                "value": button["value"],
                "text": button["text"],
                "action_ts": action_ts or f"{time.time():.6f}",
            }
        ],
    }


def form_body(payload: Mapping[str, Any]) -> bytes:
    """The body Slack posts: `application/x-www-form-urlencoded` with the JSON in `payload`."""
    return urlencode({"payload": json.dumps(payload, separators=(",", ":"))}).encode()


def signed_event(
    payload: Mapping[str, Any] | bytes,
    *,
    secret: str = TEST_SIGNING_SECRET,
    timestamp: int | None = None,
    base64_body: bool = True,
    headers: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The Function URL event (payload format 2.0) of Slack posting `payload` (or these raw body bytes), signed
    with `secret` at `timestamp` (now). Function URLs base64-encode form bodies, as `base64_body` does."""
    body = payload if isinstance(payload, bytes) else form_body(payload)
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signed = {
        "content-type": "application/x-www-form-urlencoded",
        "x-slack-request-timestamp": stamp,
        "x-slack-signature": sign(stamp, body, secret),
        "user-agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
    }
    return {
        "version": "2.0",
        "rawPath": "/",
        "headers": {**signed, **(headers or {})},
        "requestContext": {"http": {"method": "POST", "path": "/"}},
        "body": base64.b64encode(body).decode() if base64_body else body.decode(),
        "isBase64Encoded": base64_body,
    }


def with_fresh_signature(
    event: dict[str, Any], secret: str = TEST_SIGNING_SECRET, now: float | None = None
) -> dict[str, Any]:
    """A copy of a Function URL event sent now: when it is validly signed with `secret` (whatever its age), a
    fresh X-Slack-Request-Timestamp signed again (the endpoint refuses one older than 5 minutes); a forged or
    unsigned event is returned as it is, and stays refused."""
    fresh = copy.deepcopy(event)
    headers = fresh.get("headers")
    if not isinstance(headers, dict) or not isinstance(fresh.get("body"), str):
        return fresh
    body = base64.b64decode(fresh["body"]) if fresh.get("isBase64Encoded") is True else fresh["body"].encode()
    stamp, signature = str(headers.get("x-slack-request-timestamp")), str(headers.get("x-slack-signature"))
    if not hmac.compare_digest(sign(stamp, body, secret), signature):
        return fresh
    moment = str(int(time.time() if now is None else now))
    headers["x-slack-request-timestamp"] = moment
    headers["x-slack-signature"] = sign(moment, body, secret)
    return fresh
