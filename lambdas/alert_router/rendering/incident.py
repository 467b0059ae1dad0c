"""Pure rendering of the incident thread: replies, the original updated in place, notices and summaries.

The top-level message of an incident is the router's usual rendering (render.render). Everything here
is smaller: a thread reply is one line with the state, the human reason and the time; the original, when
updated, keeps its blocks and gets a status line (block id `incident-status`, right under the headline) and
the new state's colour and headline prefix, so the channel shows at a glance what is still open. Firing
again, the headline takes back the severity its block id keeps (layout.py). Originals posted before the
layout of issue 13 (all blocks inside the attachment) are updated the same way inside their attachment.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from typing import Any

from lambdas.alert_router.models import Alert, Payload, State
from lambdas.alert_router.rendering.blind import DATA_BACK_LABEL, data_back_line
from lambdas.alert_router.rendering.context import RenderContext
from lambdas.alert_router.rendering.facts import format_elapsed, format_times, human_reason
from lambdas.alert_router.rendering.layout import HEADLINE_BLOCK_PREFIX, RESOLVED_LABEL, severity_look
from lambdas.alert_router.rendering.text import FALLBACK_TEXT_LIMIT, SECTION_LIMIT, escape, truncate
from lambdas.shared.alarm_metadata import Severity

STATUS_BLOCK_ID = "incident-status"
FIRING_LABEL = "ALARM"  # render_original: firing again, at the severity the headline's block id keeps
FLAPPING_EMOJI = "🔁"
REPEAT_EMOJI = "⏰"
SILENCE_EMOJI = "🔕"
# "🔴 CRITICAL" in the header, "🔴 [staging] CRITICAL" in the notification text (and the labels of before)
_PREFIX = re.compile(
    r"^(?:🔴|🟠|ℹ️|✅|⚪) (\[[^\]]*\] )?"  # noqa: RUF001 - the information emoji, on purpose
    r"(?:CRITICAL|WARNING|INFO|ALARM|OK|INSUFFICIENT DATA|RESOLVED|MONITORING BLIND|DATA BACK)"
)
_MAX_SUMMARY_LINES = 20


def _when(moment: float, context: RenderContext) -> str:
    utc, local = format_times(datetime.fromtimestamp(moment, UTC), context.display_time_zone)
    return f"{utc} ({local})" if local else utc


def _message(text: str, colour: str, lines: list[str | None], context_line: str | None = None) -> Payload:
    """A thread reply or notice: its line as a top-level block (shown once), the time in the coloured attachment
    (without a time, no attachment: its colour would have nothing to mark)."""
    body = "\n".join(line for line in lines if line)
    section = {"type": "section", "text": {"type": "mrkdwn", "text": truncate(body, SECTION_LIMIT), "verbatim": True}}
    payload: Payload = {"text": truncate(text, FALLBACK_TEXT_LIMIT), "blocks": [section]}
    if context_line:
        context = {"type": "context", "elements": [{"type": "mrkdwn", "text": context_line, "verbatim": True}]}
        payload["attachments"] = [{"color": colour, "blocks": [context]}]
    return payload


def render_state_reply(alert: Alert, context: RenderContext, *, again: bool) -> Payload:
    """A state notification inside the thread: "🔴 ALARM again · CPUUtilization 93% > 80% for 5 min"."""
    state = alert.state or State.ALARM
    word = f"{state.label} again" if again else state.label
    reason = human_reason(alert)
    name = escape(alert.alarm_name or "alarm")
    at = alert.state_change_time.timestamp() if alert.state_change_time else None
    return _message(
        f"{state.emoji} {word}: {name}" + (f" - {escape(reason)}" if reason else ""),
        state.colour,
        [f"{state.emoji} *{word}*" + (f" · {escape(reason)}" if reason else "")],
        _when(at, context) if at is not None else None,
    )


def render_resolved_reply(alert: Alert, opened_at: float, resolved_at: float, context: RenderContext) -> Payload:
    """The thread reply of a recovery: "✅ Resolved after 14 min"."""
    elapsed = format_elapsed(resolved_at - opened_at)
    reason = human_reason(alert)
    name = escape(alert.alarm_name or "alarm")
    return _message(
        f"{State.OK.emoji} Resolved after {elapsed}: {name}",
        State.OK.colour,
        [f"{State.OK.emoji} *Resolved after {elapsed}*", escape(reason) if reason else None],
        _when(resolved_at, context),
    )


def render_original(original: Mapping[str, Any], *, emoji: str, label: str, colour: str, status: str) -> Payload:
    """The top-level message as first posted, with a new headline prefix, colour and one status line.

    `label` FIRING_LABEL: firing again, with the emoji, label and colour of the severity the headline keeps."""
    updated: Payload = copy.deepcopy(dict(original))
    top = updated.get("blocks")
    attachments = updated.get("attachments") or []
    holder: list[dict[str, Any]] = top if top else next((a.get("blocks") or [] for a in attachments), [])
    header = next((block for block in holder if block.get("type") == "header"), None)
    kept = str(header.get("block_id", "")) if header else ""
    if label == FIRING_LABEL and kept.startswith(HEADLINE_BLOCK_PREFIX):
        emoji, label, colour = severity_look(Severity(kept.removeprefix(HEADLINE_BLOCK_PREFIX)))

    def new_prefix(found: re.Match[str]) -> str:
        return f"{emoji} {found.group(1) or ''}{label}"

    text = updated.get("text")
    if isinstance(text, str):
        updated["text"] = _PREFIX.sub(new_prefix, text, count=1)
    if header is not None:
        header["text"]["text"] = _PREFIX.sub(new_prefix, header["text"]["text"], count=1)
    status_block = {
        "type": "context",
        "block_id": STATUS_BLOCK_ID,
        "elements": [{"type": "mrkdwn", "text": truncate(status, 2000), "verbatim": True}],
    }
    blocks = [block for block in holder if block.get("block_id") != STATUS_BLOCK_ID]
    blocks.insert(1 if blocks and blocks[0] is header else 0, status_block)
    if top:
        updated["blocks"] = blocks[:50]
    elif attachments:
        attachments[0]["blocks"] = blocks[:50]
    for attachment in attachments:
        attachment["color"] = colour
    return updated


def render_resolved_original(
    original: Mapping[str, Any], opened_at: float, resolved_at: float, context: RenderContext
) -> Payload:
    status = f"*Resolved* {_when(resolved_at, context)} · open for {format_elapsed(resolved_at - opened_at)}"
    return render_original(original, emoji=State.OK.emoji, label=RESOLVED_LABEL, colour=State.OK.colour, status=status)


def render_reopened_original(original: Mapping[str, Any], at: float, context: RenderContext) -> Payload:
    status = f"*Flapping* · in ALARM again since {_when(at, context)}; updates in the thread"
    return render_original(
        original, emoji=State.ALARM.emoji, label=FIRING_LABEL, colour=State.ALARM.colour, status=status
    )


def render_blind_original(
    original: Mapping[str, Any], since: float, notice_channel: str, context: RenderContext
) -> Payload:
    """An open incident whose alarm lost its data: still open (we cannot see), the notice is elsewhere."""
    status = (
        f"*No data* since {_when(since, context)}: this alarm cannot see its resource; see the monitoring-blind"
        f" notice in #{escape(notice_channel)}"
    )
    state = State.INSUFFICIENT_DATA
    return render_original(original, emoji=state.emoji, label=state.label, colour=state.colour, status=status)


def render_cleared_notice(
    notice: Mapping[str, Any], blind_since: float | None, at: float, state: State, context: RenderContext
) -> Payload:
    """The monitoring-blind notice, resolved in place when data returns."""
    status = f"{data_back_line(at - blind_since if blind_since else None, state)} · {_when(at, context)}"
    return render_original(notice, emoji=State.OK.emoji, label=DATA_BACK_LABEL, colour=State.OK.colour, status=status)


def render_data_back_original(
    original: Mapping[str, Any], blind_since: float | None, at: float, context: RenderContext
) -> Payload:
    """An open incident's first message once its data is back and the alarm is still (again) in ALARM."""
    status = f"{data_back_line(at - blind_since if blind_since else None, State.ALARM)} · {_when(at, context)}"
    return render_original(
        original, emoji=State.ALARM.emoji, label=FIRING_LABEL, colour=State.ALARM.colour, status=status
    )


def render_data_back_reply(alarm_name: str, blind_since: float | None, at: float, state: State) -> Payload:
    """The reply in the notice's thread when data returns."""
    line = data_back_line(at - blind_since if blind_since else None, state)
    return _message(f"{State.OK.emoji} Data is back: {escape(alarm_name)} is {state.label}", State.OK.colour, [line])


def render_reminder_original(original: Mapping[str, Any], opened_at: float, now: float, repeat: int) -> Payload:
    """A reminder whose thread was deleted: the incident's first message again, as the new top-level post."""
    status = (
        f"{REPEAT_EMOJI} *Still in ALARM after {format_elapsed(now - opened_at)}* (reminder {repeat});"
        " the first message of this incident was deleted"
    )
    return render_original(
        original, emoji=State.ALARM.emoji, label=FIRING_LABEL, colour=State.ALARM.colour, status=status
    )


def render_flapping_notice(alarm_name: str, transitions: int, window_seconds: int, state: State) -> Payload:
    name = escape(alarm_name)
    line = (
        f"{FLAPPING_EMOJI} *Flapping*: {transitions} state changes within {format_elapsed(window_seconds)},"
        f" now {state.label}. Further changes go to this thread only until it is stable for"
        f" {format_elapsed(window_seconds)}."
    )
    return _message(f"{FLAPPING_EMOJI} Flapping: {name}", "#f2c744", [line])


def render_stable_notice(alarm_name: str, state: str, quiet_seconds: float) -> Payload:
    label = State(state).label if state in State.__members__ else state
    line = f"✔️ *Stable again*: no state change for {format_elapsed(quiet_seconds)}, now {escape(label)}."
    return _message(f"Stable again: {escape(alarm_name)}", "#9b9b9b", [line])


def render_repeat(alarm_name: str, opened_at: float, now: float, repeat: int) -> Payload:
    elapsed = format_elapsed(now - opened_at)
    line = f"{REPEAT_EMOJI} *Still in ALARM after {elapsed}* (reminder {repeat})"
    return _message(f"{REPEAT_EMOJI} Still in ALARM after {elapsed}: {escape(alarm_name)}", State.ALARM.colour, [line])


def render_silence_summary(
    *,
    reason: str,
    match: str,
    starts_at: float,
    until: float,
    counts: Mapping[str, int],
    context: RenderContext,
    still_alarming: Collection[str] = (),
) -> Payload:
    """Posted in a channel when a silence ends: what it kept out of that channel, and what is still in ALARM."""
    total = sum(counts.values())
    lines = [f"• {escape(name)} x{count}" for name, count in sorted(counts.items())]
    if len(lines) > _MAX_SUMMARY_LINES:
        lines = [*lines[:_MAX_SUMMARY_LINES], f"… and {len(lines) - _MAX_SUMMARY_LINES} more alarms"]
    if still_alarming:
        lines.append(
            f"{State.ALARM.emoji} *Still in ALARM*, posted now: " + ", ".join(escape(n) for n in sorted(still_alarming))
        )
    head = (
        f"{SILENCE_EMOJI} *Silence ended*: {escape(reason)} (`{escape(match)}`)"
        f" · {total} alert{'s' if total != 1 else ''} not posted"
    )
    return _message(
        f"{SILENCE_EMOJI} Silence ended: {total} alert{'s' if total != 1 else ''} not posted ({escape(reason)})",
        "#9b9b9b",
        [head, *lines],
        f"{_when(starts_at, context)} → {_when(until, context)}",
    )
