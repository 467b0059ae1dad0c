"""Slack's interaction payload -> the incident actions it carries (pure).

Slack posts interactions as `application/x-www-form-urlencoded` with one `payload` field holding JSON; a
button click is `type: block_actions` with the clicked element in `actions`, the message it sits on in
`container` (`message_ts`, `channel_id`), the user in `user` and a `response_url` for answers only that user
sees. https://docs.slack.dev/reference/interaction-payloads/block_actions-payload

Only the router's incident buttons are actions (block `BLOCK_ID`, an action id of `BUTTONS`, the incident key
as value); everything else - the message's link buttons (Slack sends a payload for those too), other
interaction types, an ephemeral message's buttons - is ignored with a reason. The log keeps ids only: never
the payload's text, its `token`, or the response URL.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from lambdas.shared.slack_actions import BLOCK_ID, BUTTONS, VALUE_LIMIT, IncidentAction

_SHOWN = 64  # characters of an id a log line keeps


@dataclass(frozen=True)
class Interaction:
    actions: tuple[IncidentAction, ...] = ()
    ignored: str | None = None  # why nothing is handed over
    log: dict[str, Any] = field(default_factory=dict)


def read_interaction(body: bytes) -> Interaction:  # noqa: PLR0911 - one return per reason to ignore
    try:
        form = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True, max_num_fields=20)
        payload: Any = json.loads(form["payload"][0])
    except (ValueError, KeyError, IndexError, RecursionError):  # UnicodeDecodeError is a ValueError
        return Interaction(ignored="not an interaction payload")
    if not isinstance(payload, Mapping):
        return Interaction(ignored="not an interaction payload")
    kind = _text(payload.get("type"))
    log: dict[str, Any] = {"type": kind[:_SHOWN], "user": _text(_get(payload, "user", "id"))[:_SHOWN]}
    if kind != "block_actions":
        return Interaction(ignored=f"interaction type {kind[:_SHOWN] or 'missing'}", log=log)
    container = _get(payload, "container")
    channel_id = _text(_get(container, "channel_id")) or _text(_get(payload, "channel", "id"))
    message_ts = _text(_get(container, "message_ts")) or _text(_get(payload, "message", "ts"))
    log |= {"channel": channel_id[:_SHOWN], "message_ts": message_ts[:_SHOWN]}
    clicked = payload.get("actions")
    elements = [item for item in clicked if isinstance(item, Mapping)] if isinstance(clicked, list) else []
    log["action_ids"] = [_text(item.get("action_id"))[:_SHOWN] for item in elements][:5]
    if _get(container, "is_ephemeral") is True:
        return Interaction(ignored="a button on an ephemeral message", log=log)
    user = _get(payload, "user")
    user_id = _text(_get(user, "id"))
    common = {
        "user_id": user_id,
        "user_name": _text(_get(user, "username")) or _text(_get(user, "name")) or user_id,
        "channel_id": channel_id,
        "message_ts": message_ts,
        "response_url": _text(payload.get("response_url")),
    }
    actions = tuple(
        IncidentAction(
            action_id=_text(item.get("action_id")),
            incident_key=_text(item.get("value")),
            action_ts=_text(item.get("action_ts")),
            **common,
        )
        for item in elements
        if item.get("block_id") == BLOCK_ID
        and item.get("action_id") in BUTTONS
        and 0 < len(_text(item.get("value"))) <= VALUE_LIMIT
        and _text(item.get("action_ts"))
    )
    if not actions:
        return Interaction(ignored="no incident button", log=log)
    if not all((user_id, channel_id, message_ts, common["response_url"])):
        return Interaction(ignored="an incident button without user, channel, message or response URL", log=log)
    return Interaction(actions=actions, log=log)


def _get(value: Any, *path: str) -> Any:
    for key in path:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""
