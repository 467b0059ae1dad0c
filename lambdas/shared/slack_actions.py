"""The contract between the Slack interactivity endpoint and the alert router: the buttons' ids, and the event
the endpoint hands the router.

Buttons: an incident's top-level message (bot-token mode) carries one actions block, `BLOCK_ID`; each
button's `action_id` says what it does (`BUTTONS`) and its `value` is the incident key. The router renders
them (lambdas/alert_router/rendering/actions.py); the endpoint reads Slack's `block_actions` payload back
(lambdas/slack_actions/interaction.py).

Event: the endpoint invokes the router asynchronously with `action_event(...)`, a top-level object whose
`source` is `SOURCE`. The router receives nothing else of that shape: SNS wraps every message in `Records`,
EventBridge events carry `aws.*` sources, the sweep is EventBridge's scheduled event. `parse_action_event`
reads it back: None for any other event, ActionEventError for an event that claims the source but is not
a complete action (a bug in the endpoint: logged by the router, never guessed at).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

SOURCE = "peoplebooster.slack-actions"
BLOCK_ID = "incident-actions"
VALUE_LIMIT = 2000  # Slack's limit for a button's value: a longer incident key gets no buttons


class Action(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    SILENCE = "silence"
    UNSILENCE = "unsilence"


@dataclass(frozen=True)
class Button:
    action: Action
    silence_seconds: int | None = None  # SILENCE: how long; None with until_resolved
    until_resolved: bool = False


# action_id -> what the button does
BUTTONS: dict[str, Button] = {
    "incident-acknowledge": Button(Action.ACKNOWLEDGE),
    "incident-silence-1h": Button(Action.SILENCE, silence_seconds=3600),
    "incident-silence-4h": Button(Action.SILENCE, silence_seconds=4 * 3600),
    "incident-silence-until-resolved": Button(Action.SILENCE, until_resolved=True),
    "incident-unsilence": Button(Action.UNSILENCE),
}


class ActionEventError(ValueError):
    """An event with the endpoint's source that is not a complete action; the message names the field."""


@dataclass(frozen=True)
class IncidentAction:
    """One click, as Slack's signed payload said it: who, on which message, which button."""

    action_id: str  # a key of BUTTONS
    incident_key: str  # the button's value
    user_id: str
    user_name: str
    channel_id: str
    message_ts: str  # the message the button is on
    action_ts: str  # Slack's time of the click: with the user, the click's identity (a redelivery is the same)
    response_url: str  # where an answer only the user sees goes

    @property
    def button(self) -> Button:
        return BUTTONS[self.action_id]

    @property
    def click_id(self) -> str:
        return f"slack:{self.action_ts}:{self.user_id}"


_FIELDS = tuple(IncidentAction.__dataclass_fields__)


def action_event(action: IncidentAction) -> dict[str, Any]:
    """The router's event for one click."""
    return {"source": SOURCE, **asdict(action)}


def parse_action_event(event: object) -> IncidentAction | None:
    """The click in a router event; None when the event is not the endpoint's."""
    if not isinstance(event, Mapping) or event.get("source") != SOURCE:
        return None
    values: dict[str, str] = {}
    for name in _FIELDS:
        value = event.get(name)
        if not isinstance(value, str) or not value:
            raise ActionEventError(f"the action event has no {name}")
        values[name] = value
    if values["action_id"] not in BUTTONS:
        raise ActionEventError(f"the action event names an unknown button {values['action_id'][:64]!r}")
    return IncidentAction(**values)
