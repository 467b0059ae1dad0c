"""Pure rendering of what people do from Slack (bot-token mode): the buttons on an incident's message, the
line saying who acknowledged or silenced it, the thread echoes, the escalation, and private answers.

An incident's top-level message gets two blocks of ours, whatever the rest of the message looks like:
a context block (`CONTROLS_STATUS_BLOCK_ID`: "✋ Acked by @x at 03:12 UTC (12:12 JST)", the silence, the
escalation) and an actions block (lambdas/shared/slack_actions.BLOCK_ID) with the buttons that still make
sense. `with_controls` replaces them wherever they are and adds them at the end of the message's top-level
blocks, or of its last attachment's blocks when it has only attachments; the incident loop applies it to
every post and update of the message, so the buttons follow the incident's state:

    open            Acknowledge (until acknowledged), Silence 1 h / 4 h / until resolved, or Unsilence
    resolved        Unsilence while a silence set from its buttons lasts; otherwise no buttons

Button ids and the event the endpoint builds from a click: lambdas/shared/slack_actions.py.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from lambdas.alert_router.models import Payload, State
from lambdas.alert_router.rendering.blocks import context_block, message, section_block
from lambdas.alert_router.rendering.context import RenderContext
from lambdas.alert_router.rendering.facts import format_elapsed, format_times
from lambdas.alert_router.rendering.text import MAX_BLOCKS, escape
from lambdas.shared.slack_actions import BLOCK_ID, VALUE_LIMIT

CONTROLS_STATUS_BLOCK_ID = "incident-controls-status"
OUR_BLOCKS = frozenset({BLOCK_ID, CONTROLS_STATUS_BLOCK_ID})
ACK_EMOJI = "✋"
SILENCE_EMOJI = "🔕"
UNSILENCE_EMOJI = "🔔"
ESCALATION_EMOJI = "🚨"
_GREY = "#9b9b9b"
# (action_id, label, style)
_ACKNOWLEDGE = ("incident-acknowledge", "Acknowledge", "primary")
_SILENCES = (
    ("incident-silence-1h", "Silence 1 h", None),
    ("incident-silence-4h", "Silence 4 h", None),
    ("incident-silence-until-resolved", "Silence until resolved", None),
)
_UNSILENCE = ("incident-unsilence", "Unsilence", None)


@dataclass(frozen=True)
class Controls:
    """What the message of one incident shows of its actions."""

    incident_key: str
    open: bool
    acked_by: str | None = None  # Slack user id
    acked_at: float | None = None
    silenced_by: str | None = None
    silenced_until: float | None = None  # None with until_resolved
    until_resolved: bool = False
    escalated_at: float | None = None
    escalated_after: float | None = None  # seconds without acknowledgement when it escalated

    @property
    def silenced(self) -> bool:
        return self.silenced_by is not None


@dataclass(frozen=True)
class Click:
    """Who did something from Slack, and when."""

    user_id: str
    user_name: str
    at: float


def clock(moment: float, context: RenderContext) -> str:
    """03:12 UTC (12:12 JST): a time of day, for lines about today's incident."""
    utc, local = format_times(datetime.fromtimestamp(moment, UTC), context.display_time_zone)
    short_utc = utc.split(" ", 1)[1].rsplit(":", 1)[0] + " UTC"
    if local is None:
        return short_utc
    _date, time_of_day, zone = local.split(" ", 2)
    return f"{short_utc} ({time_of_day.rsplit(':', 1)[0]} {zone})"


def mention(user_id: str) -> str:
    return f"<@{user_id}>"


def group_mention(group_id: str) -> str:
    return f"<!subteam^{group_id}>"


def silence_words(until: float | None, context: RenderContext) -> str:
    return "until resolved" if until is None else f"until {clock(until, context)}"


def _status_lines(controls: Controls, context: RenderContext) -> list[str]:
    lines = []
    if controls.acked_by and controls.acked_at is not None:
        lines.append(f"{ACK_EMOJI} *Acked* by {mention(controls.acked_by)} at {clock(controls.acked_at, context)}")
    if controls.silenced and controls.silenced_by:
        until = None if controls.until_resolved else controls.silenced_until
        lines.append(f"{SILENCE_EMOJI} *Silenced* {silence_words(until, context)} by {mention(controls.silenced_by)}")
    if controls.escalated_at is not None and controls.open:
        waited = f" after {format_elapsed(controls.escalated_after)}" if controls.escalated_after else ""
        at = clock(controls.escalated_at, context)
        lines.append(f"{ESCALATION_EMOJI} *Escalated* at {at}: not acknowledged{waited}")
    return lines


def _buttons(controls: Controls) -> list[tuple[str, str, str | None]]:
    if not controls.open:
        return [_UNSILENCE] if controls.silenced and not controls.until_resolved else []
    buttons = [] if controls.acked_by else [_ACKNOWLEDGE]
    return [*buttons, _UNSILENCE] if controls.silenced else [*buttons, *_SILENCES]


def _button(action_id: str, label: str, style: str | None, value: str) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": label, "emoji": True},
        "value": value,
    }
    if style:
        button["style"] = style
    return button


def controls_blocks(controls: Controls, context: RenderContext) -> list[dict[str, Any]]:
    """The status line (if any) and the buttons (if any) of an incident's message."""
    blocks: list[dict[str, Any]] = []
    lines = _status_lines(controls, context)
    if lines:  # one line each (a context block would run them together with " · ")
        elements = [{"type": "mrkdwn", "text": "\n".join(lines), "verbatim": True}]
        blocks.append({"type": "context", "block_id": CONTROLS_STATUS_BLOCK_ID, "elements": elements})
    buttons = _buttons(controls) if len(controls.incident_key) <= VALUE_LIMIT else []
    if buttons:
        elements = [_button(action_id, label, style, controls.incident_key) for action_id, label, style in buttons]
        blocks.append({"type": "actions", "block_id": BLOCK_ID, "elements": elements})
    return blocks


def with_controls(payload: Payload, controls: Controls, context: RenderContext) -> Payload:
    """The message with our blocks replaced by the current ones (added at its end)."""
    updated: Payload = copy.deepcopy(dict(payload))
    ours = controls_blocks(controls, context)
    if isinstance(updated.get("blocks"), list):
        updated["blocks"] = _placed(updated["blocks"], ours)
        return updated
    attachments = [a for a in updated.get("attachments") or [] if isinstance(a, dict)]
    if attachments:
        for attachment in attachments:
            attachment["blocks"] = _placed(attachment.get("blocks") or [], [])
        attachments[-1]["blocks"] = _placed(attachments[-1]["blocks"], ours)
        return updated
    if ours:  # a plain-text message: its text as a section, then ours (Slack then shows the blocks)
        text = updated.get("text")
        head = section_block(escape(text)) if isinstance(text, str) else None
        updated["blocks"] = [block for block in (head, *ours) if block is not None]
    return updated


def _placed(blocks: list[Any], ours: list[dict[str, Any]]) -> list[Any]:
    kept = [b for b in blocks if not (isinstance(b, dict) and b.get("block_id") in OUR_BLOCKS)]
    return [*kept[: MAX_BLOCKS - len(ours)], *ours]


# --- the thread echoes and answers ------------------------------------------------------------------------------


def _note(text: str, colour: str, line: str, context_line: str | None = None) -> Payload:
    return message(text, colour, [section_block(line), context_block([context_line])])


def render_ack_echo(alarm_name: str, click: Click, context: RenderContext) -> Payload:
    return _note(
        f"{ACK_EMOJI} Acknowledged by {escape(click.user_name)}: {escape(alarm_name)}",
        State.OK.colour,
        f"{ACK_EMOJI} *Acknowledged* by {mention(click.user_id)} · no reminders or escalation for this incident",
        clock(click.at, context),
    )


def render_silence_echo(alarm_name: str, click: Click, until: float | None, context: RenderContext) -> Payload:
    words = silence_words(until, context)
    return _note(
        f"{SILENCE_EMOJI} Silenced {words} by {escape(click.user_name)}: {escape(alarm_name)}",
        _GREY,
        f"{SILENCE_EMOJI} *Silenced {words}* by {mention(click.user_id)} · no reminders or escalation; a new"
        " ALARM of this alarm is held and posted if it is still in ALARM when the silence ends",
        clock(click.at, context),
    )


def render_unsilence_echo(alarm_name: str, click: Click, context: RenderContext) -> Payload:
    return _note(
        f"{UNSILENCE_EMOJI} Unsilenced by {escape(click.user_name)}: {escape(alarm_name)}",
        _GREY,
        f"{UNSILENCE_EMOJI} *Unsilenced* by {mention(click.user_id)} · this alarm is posted again",
        clock(click.at, context),
    )


def render_silence_ended(alarm_name: str, *, silenced_by: str | None, at: float, context: RenderContext) -> Payload:
    by = f" (set by {mention(silenced_by)})" if silenced_by else ""
    return _note(
        f"{UNSILENCE_EMOJI} Silence ended: {escape(alarm_name)}",
        _GREY,
        f"{UNSILENCE_EMOJI} *Silence ended*{by} · this alarm is posted again",
        clock(at, context),
    )


def render_escalation(alarm_name: str, waited: float, group_id: str | None) -> Payload:
    """The re-announcement of a critical incident nobody acknowledged (broadcast to the channel)."""
    elapsed = format_elapsed(waited)
    who = f"{group_mention(group_id)} " if group_id else ""
    return message(
        f"{ESCALATION_EMOJI} {who}Not acknowledged after {elapsed}: {escape(alarm_name)}",
        State.ALARM.colour,
        [
            section_block(
                f"{ESCALATION_EMOJI} *Not acknowledged after {elapsed}*"
                + (f" · {who.strip()} please take over (secondary on-call)" if who else " · escalating")
                + "\nAcknowledge on the message above to stop reminders."
            )
        ],
    )


def render_escalation_page(
    alarm_name: str, *, waited: float, link: str | None, opened_at: float, context: RenderContext
) -> tuple[str, dict[str, str]]:
    """(SNS subject, per-protocol messages) for the escalation topic: email gets the story, SMS one line.
    https://docs.aws.amazon.com/sns/latest/dg/sns-send-custom-platform-specific-payloads-mobile-devices.html"""
    elapsed = format_elapsed(waited)
    line = f"[{context.environment}] CRITICAL not acknowledged after {elapsed}: {alarm_name}"
    times = format_times(datetime.fromtimestamp(opened_at, UTC), context.display_time_zone)
    opened = " / ".join(part for part in times if part)
    email = "\n".join(
        [
            line,
            "",
            f"Alarm: {alarm_name}",
            f"In ALARM since: {opened}",
            "Nobody acknowledged it in Slack. Open the incident, acknowledge it there and follow its runbook.",
            *([f"Slack: {link}"] if link else []),
        ]
    )
    # SNS: a subject is at most 100 printable ASCII characters (https://docs.aws.amazon.com/sns/latest/api/API_Publish.html)
    ascii_line = line.encode("ascii", errors="replace").decode()
    subject = ascii_line if len(ascii_line) <= 100 else ascii_line[:97] + "..."
    return subject, {"default": email, "email": email, "sms": line[:140]}


def render_answer(text: str) -> Payload:
    """An answer only the clicking user sees, through the click's response_url (it leaves the message as it is).
    https://docs.slack.dev/interactivity/handling-user-interaction (responding with response_url)"""
    return {"response_type": "ephemeral", "replace_original": False, "text": text}
