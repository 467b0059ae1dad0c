"""The buttons and status line of an incident's message, wherever the rest of the message puts its blocks."""

from __future__ import annotations

from typing import Any

import pytest

from lambdas.alert_router.rendering.actions import (
    CONTROLS_STATUS_BLOCK_ID,
    Controls,
    render_escalation,
    render_escalation_page,
    with_controls,
)
from lambdas.alert_router.rendering.context import RenderContext
from lambdas.alert_router.settings import SettingsError, settings_from_env
from lambdas.shared.slack_actions import BLOCK_ID, BUTTONS
from tests.unit.alert_router.slack_limits import slack_problems

KEY = "arn:aws:cloudwatch:ap-northeast-1:123456789012:alarm:x"
CONTEXT = RenderContext(environment="staging", display_time_zone="Asia/Tokyo")
AT = 1_795_922_055.0  # 2026-11-29 03:14:15 UTC


def labels(payload: dict[str, Any]) -> list[str]:
    blocks = payload.get("blocks") or [b for a in payload.get("attachments", []) for b in a["blocks"]]
    (actions,) = [b for b in blocks if b.get("block_id") == BLOCK_ID]
    return [element["text"]["text"] for element in actions["elements"]]


@pytest.mark.parametrize(
    ("controls", "expected"),
    [
        (Controls(KEY, True), ["Acknowledge", "Silence 1 h", "Silence 4 h", "Silence until resolved"]),
        (Controls(KEY, True, acked_by="U1", acked_at=AT), ["Silence 1 h", "Silence 4 h", "Silence until resolved"]),
        (Controls(KEY, True, silenced_by="U1", silenced_until=AT + 3600), ["Acknowledge", "Unsilence"]),
        (Controls(KEY, False, silenced_by="U1", silenced_until=AT + 3600), ["Unsilence"]),
    ],
)
def test_the_buttons_follow_the_state(controls: Controls, expected: list[str]) -> None:
    payload = with_controls({"text": "t", "attachments": [{"color": "#e01e5a", "blocks": []}]}, controls, CONTEXT)
    assert labels(payload) == expected
    assert slack_problems(payload) == []
    blocks = payload["attachments"][0]["blocks"]
    assert {element["action_id"] for element in blocks[-1]["elements"]} <= set(BUTTONS)


def test_a_resolved_incident_keeps_who_acknowledged_and_loses_its_buttons() -> None:
    payload = with_controls({"text": "t", "blocks": []}, Controls(KEY, False, acked_by="U1", acked_at=AT), CONTEXT)
    assert payload["blocks"] == [
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": "✋ *Acked* by <@U1> at 03:14 UTC (12:14 JST)", "verbatim": True}],
            "block_id": CONTROLS_STATUS_BLOCK_ID,
        }
    ]


def test_top_level_blocks_get_ours_at_their_end_and_a_second_pass_replaces_them() -> None:
    # Given a message with top-level blocks (and a link button block of its own)
    links = {"type": "actions", "block_id": "incident-links", "elements": []}
    message = {"text": "t", "blocks": [{"type": "header", "text": {"type": "plain_text", "text": "h"}}, links]}
    once = with_controls(message, Controls(KEY, True), CONTEXT)
    twice = with_controls(once, Controls(KEY, True, acked_by="U1", acked_at=AT), CONTEXT)
    # Then ours come last, once, and the message's own blocks stay as they were
    assert [b.get("block_id") for b in twice["blocks"]] == [None, "incident-links", CONTROLS_STATUS_BLOCK_ID, BLOCK_ID]
    assert "Acknowledge" not in labels(twice)
    assert message["blocks"][1] is links  # not changed in place


def test_a_message_at_the_block_limit_keeps_room_for_ours() -> None:
    sections = [{"type": "section", "text": {"type": "mrkdwn", "text": str(n)}} for n in range(50)]
    payload = with_controls({"text": "t", "blocks": sections}, Controls(KEY, True), CONTEXT)
    assert len(payload["blocks"]) == 50
    assert payload["blocks"][-1]["block_id"] == BLOCK_ID


def test_a_plain_text_message_gets_its_text_as_a_section_then_the_buttons() -> None:
    payload = with_controls({"text": "ALARM <x> & y"}, Controls(KEY, True), CONTEXT)
    assert payload["blocks"][0]["text"]["text"] == "ALARM &lt;x&gt; &amp; y"
    assert labels(payload)[0] == "Acknowledge"


def test_an_incident_key_longer_than_a_button_value_gets_no_buttons() -> None:
    payload = with_controls({"text": "t", "blocks": []}, Controls("k" * 2001, True), CONTEXT)
    assert payload["blocks"] == []


def test_the_escalation_mentions_the_group_in_the_notification_text() -> None:
    notice = render_escalation("a-critical-alarm", 16 * 60, "S0SECONDARY")
    assert notice["text"] == "🚨 <!subteam^S0SECONDARY> Not acknowledged after 16 min: a-critical-alarm"
    assert slack_problems(notice) == []
    assert "escalating" in render_escalation("a", 900, None)["blocks"][0]["text"]["text"]


def test_the_escalation_page_fits_sns_email_and_sms() -> None:
    subject, messages = render_escalation_page(
        "é" * 200, waited=960, link="https://slack.com/archives/C1/p1", opened_at=AT, context=CONTEXT
    )
    assert len(subject) <= 100
    assert subject.isascii()
    assert set(messages) == {"default", "email", "sms"}
    assert len(messages["sms"]) <= 140
    assert "2026-11-29 03:14:15 UTC / 2026-11-29 12:14:15 JST" in messages["email"]


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"ESCALATION_MINUTES": "2"}, "ESCALATION_MINUTES must be between 5 and 240"),
        ({"ESCALATION_MINUTES": "soon"}, "ESCALATION_MINUTES must be a whole number"),
        ({"ESCALATION_USER_GROUP": "@oncall"}, "ESCALATION_USER_GROUP must be a Slack user group id"),
    ],
)
def test_escalation_settings_are_checked(environ: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        settings_from_env(environ)


def test_escalation_settings() -> None:
    settings = settings_from_env(
        {"ESCALATION_MINUTES": "15", "ESCALATION_USER_GROUP": "S0SECONDARY", "ESCALATION_TOPIC_ARN": "arn:t"}
    )
    assert settings.lifecycle.escalate_after_seconds == 900
    assert settings.lifecycle.escalation_group == "S0SECONDARY"
    assert settings.lifecycle.escalation_paged is True
    assert settings_from_env({}).lifecycle.escalate_after_seconds is None
