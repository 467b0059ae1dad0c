"""Slack's block_actions payload -> the incident actions it carries; everything else is ignored with a reason."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lambdas.alert_router.rendering.actions import Controls, with_controls
from lambdas.alert_router.rendering.context import RenderContext
from lambdas.shared.slack_actions import BLOCK_ID, Action, ActionEventError, action_event, parse_action_event
from lambdas.slack_actions.interaction import read_interaction
from tools.slack_interactions import click, form_body

KEY = "arn:aws:cloudwatch:ap-northeast-1:123456789012:alarm:peoplebooster-production-alb-5xx-rate-high"
RESPONSE_URL = "https://hooks.slack.com/actions/T0/1/abc"


def posted(**controls: Any) -> dict[str, Any]:
    message = with_controls(
        {"text": "🔴 ALARM", "attachments": [{"blocks": []}]}, Controls(KEY, True, **controls), RenderContext()
    )
    return {**message, "ts": "1780000001.000001", "channel": "C0CRITICAL"}


def test_a_click_on_acknowledge_is_one_action_with_who_where_and_which_incident() -> None:
    payload = click(
        posted(), "Acknowledge", response_url=RESPONSE_URL, user_id="U0ALICE", user_name="alice", action_ts="1.5"
    )
    (action,) = read_interaction(form_body(payload)).actions
    assert action.button.action is Action.ACKNOWLEDGE
    assert (action.incident_key, action.user_id, action.user_name) == (KEY, "U0ALICE", "alice")
    assert (action.channel_id, action.message_ts, action.response_url) == (
        "C0CRITICAL",
        "1780000001.000001",
        RESPONSE_URL,
    )
    assert action.click_id == "slack:1.5:U0ALICE"
    # And the router's event carries it back whole
    assert parse_action_event(action_event(action)) == action


@pytest.mark.parametrize(
    ("label", "seconds", "until_resolved"),
    [("Silence 1 h", 3600, False), ("Silence 4 h", 14_400, False), ("Silence until resolved", None, True)],
)
def test_each_silence_button_says_how_long(label: str, seconds: int | None, until_resolved: bool) -> None:
    (action,) = read_interaction(form_body(click(posted(), label, response_url=RESPONSE_URL))).actions
    assert (action.button.action, action.button.silence_seconds, action.button.until_resolved) == (
        Action.SILENCE,
        seconds,
        until_resolved,
    )


def edited(change: Any) -> bytes:
    payload = click(posted(), "Acknowledge", response_url=RESPONSE_URL)
    change(payload)
    return form_body(payload)


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"", "not an interaction payload"),
        (b"payload=%7Bnot+json", "not an interaction payload"),
        (b"\xff\xfe", "not an interaction payload"),
        (b"command=%2Fdeploy&text=now", "not an interaction payload"),  # a slash command
        (form_body({"type": "view_submission", "user": {"id": "U1"}}), "interaction type view_submission"),
        (
            edited(lambda p: p["actions"][0].update(block_id="incident-links", action_id="runbook")),
            "no incident button",
        ),
        (edited(lambda p: p["actions"][0].update(action_id="incident-delete-everything")), "no incident button"),
        (edited(lambda p: p["actions"][0].update(value="")), "no incident button"),
        (edited(lambda p: p["actions"][0].update(value="k" * 2001)), "no incident button"),
        (edited(lambda p: p["container"].update(is_ephemeral=True)), "a button on an ephemeral message"),
        (edited(lambda p: p.pop("response_url")), "an incident button without user, channel, message or response URL"),
        (edited(lambda p: p.update(actions="nope")), "no incident button"),
    ],
)
def test_anything_else_is_ignored_with_a_reason(body: bytes, why: str) -> None:
    interaction = read_interaction(body)
    assert interaction.actions == ()
    assert interaction.ignored == why


def test_the_log_keeps_ids_only() -> None:
    payload = click(posted(), "Acknowledge", response_url=RESPONSE_URL, user_id="U0ALICE")
    log = json.dumps(read_interaction(form_body(payload)).log)
    assert "U0ALICE" in log
    assert "incident-acknowledge" in log
    for secretish in (RESPONSE_URL, payload["token"], KEY):
        assert secretish not in log


@pytest.mark.parametrize(
    "event",
    [
        {"source": "peoplebooster.slack-actions"},
        {
            "source": "peoplebooster.slack-actions",
            **dict.fromkeys(("incident_key", "user_id", "user_name", "channel_id", "message_ts", "action_ts"), "x"),
            "response_url": "x",
            "action_id": "nope",
        },
    ],
)
def test_a_broken_action_event_is_refused_loudly(event: dict[str, Any]) -> None:
    with pytest.raises(ActionEventError):
        parse_action_event(event)


def test_other_router_events_are_not_actions() -> None:
    assert parse_action_event({"Records": []}) is None
    assert parse_action_event({"source": "aws.events", "detail-type": "Scheduled Event"}) is None
    assert parse_action_event("text") is None
    assert BLOCK_ID == "incident-actions"
