"""Pure decisions for a click on an incident's buttons (bot-token mode): (incident, click, its silence) -> a plan.

The click arrives from the interactivity endpoint as an `IncidentAction` (lambdas/shared/slack_actions.py):
who clicked which button on which message. The plan goes through the same claim/commit loop as alarm
notifications (loop.py), so a click and an ALARM for the same incident never overwrite each other.

Rules:
- A click is applied once: its id (`slack:<action_ts>:<user>`) joins the incident's applied ids, so
  Lambda's retry of the same event is a duplicate. A second click (a double click, a colleague) is a new
  click: it finds the work done and gets a private answer ("Already acknowledged by @x at 03:12"),
  nothing is echoed twice.
- A click on a message that is not the incident's current one (an earlier incident of the alarm), or on
  an incident that is resolved, changes nothing and is answered politely, privately. Unsilence is the
  exception: a silence for a time outlives the incident it was set on, and can be ended from it.
- Acknowledge: records who and when, stops reminders and escalation (and a pending escalation page), is
  echoed in the thread; the message shows "Acked by".
- Silence 1 h / 4 h / until resolved: an ad-hoc silence matching exactly this alarm's name (silences.py),
  stored before the echo; it stops reminders and escalation, and holds a new ALARM of the alarm while it
  lasts (the silence rules of decide.py). It expires by itself; "until resolved" ends when the incident
  resolves (decide.py), and lasts at most the longest silence (14 days) if it never does.
- Unsilence: ends that silence now (its summary follows at the next sweep, as for `make silence ACTION=expire`).
Each applied action is echoed in the thread and the message is updated (its buttons follow, see
rendering/actions.py). The clicking user's name is kept for the echo's notification text and the history.
"""

from __future__ import annotations

import glob
import hashlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from lambdas.alert_router.incidents.model import APPLIED_KEPT, Incident, Outcome, Plan, Step, StepKind
from lambdas.alert_router.incidents.silences import MAX_SILENCE, Silence, new_silence
from lambdas.alert_router.rendering.actions import (
    Click,
    Controls,
    clock,
    mention,
    render_ack_echo,
    render_answer,
    render_silence_echo,
    render_silence_ended,
    render_unsilence_echo,
    silence_words,
)
from lambdas.alert_router.rendering.context import RenderContext
from lambdas.shared.slack_actions import Action, IncidentAction


def controls_for(incident: Incident, now: float) -> Controls:
    """What the incident's message shows of its actions now (a silence past its end shows no more)."""
    silenced = incident.silence_id is not None and (
        incident.silence_until_resolved or (incident.silenced_until or 0.0) > now
    )
    return Controls(
        incident_key=incident.key,
        open=incident.open,
        acked_by=incident.acked_by,
        acked_at=incident.acked_at,
        silenced_by=incident.silenced_by if silenced else None,
        silenced_until=incident.silenced_until if silenced else None,
        until_resolved=incident.silence_until_resolved and silenced,
        escalated_at=incident.escalated_at,
        escalated_after=(incident.escalated_at - (incident.posted_at or incident.opened_at))
        if incident.escalated_at is not None
        else None,
    )


def silence_id_for(action: IncidentAction) -> str:
    """The same click always makes the same silence: a retried event finds it stored, never makes a second."""
    return "slack-" + hashlib.sha256(action.click_id.encode()).hexdigest()[:12]


def _answered(text: str, notes: tuple[str, ...] = ()) -> Plan:
    return Plan(Outcome.ANSWERED, None, answer=render_answer(text), notes=notes)


def _silence_active(incident: Incident, silence: Silence | None, now: float) -> bool:
    return incident.silence_id is not None and silence is not None and silence.active(now)


def plan_action(  # noqa: PLR0911 - one return per rule, in the order of the module docstring
    incident: Incident | None,
    action: IncidentAction,
    *,
    silence: Silence | None,
    now: float,
    context: RenderContext,
) -> Plan:
    """What one click does; `silence` is the stored silence the incident's `silence_id` names (if any)."""
    if incident is None or not incident.state:
        return _answered("I have no incident for this message: it is older than the incident table keeps (30 days).")
    if action.click_id in incident.applied:
        return Plan(Outcome.DUPLICATE, None, notes=("click already applied",))
    name = incident.alarm_name
    if incident.ts != action.message_ts:
        return _answered(
            f"This message is an earlier incident of {name}; nothing changed."
            + (" Its current incident is open: use the buttons on its newest message." if incident.open else "")
        )
    button = action.button
    applied = replace(incident, applied=(*incident.applied, action.click_id)[-APPLIED_KEPT:])
    base = incident.latest_original or incident.original
    update = Step(StepKind.UPDATE, base) if base is not None else None
    click = Click(action.user_id, action.user_name, now)

    if button.action is Action.UNSILENCE:
        if not _silence_active(incident, silence, now) or incident.silence_id is None:
            return _answered(f"{name} is not silenced (any more); nothing changed.")
        unsilenced = applied.without_silence()
        echo = Step(StepKind.REPLY, render_unsilence_echo(name, click, context))
        return Plan(Outcome.UNSILENCED, unsilenced, echo, update, end_silence=incident.silence_id)

    if not incident.open:
        resolved = f" at {clock(incident.resolved_at, context)}" if incident.resolved_at else ""
        return _answered(f"This incident of {name} is resolved{resolved}; nothing to {button.action.value}.")

    if button.action is Action.ACKNOWLEDGE:
        if incident.acked_by is not None and incident.acked_at is not None:
            return _answered(
                f"Already acknowledged by {mention(incident.acked_by)} at {clock(incident.acked_at, context)}."
            )
        acked = replace(applied, acked_by=action.user_id, acked_name=action.user_name, acked_at=now, page_pending=False)
        return Plan(Outcome.ACKNOWLEDGED, acked, Step(StepKind.REPLY, render_ack_echo(name, click, context)), update)

    if _silence_active(incident, silence, now):
        until = None if incident.silence_until_resolved else incident.silenced_until
        by = f" by {mention(incident.silenced_by)}" if incident.silenced_by else ""
        return _answered(f"Already silenced {silence_words(until, context)}{by}; Unsilence first to change it.")
    seconds = button.silence_seconds
    duration = MAX_SILENCE if button.until_resolved or seconds is None else timedelta(seconds=seconds)
    label = "until resolved" if button.until_resolved else f"for {duration.total_seconds() / 3600:g} h"
    stored = replace(
        new_silence(
            match=glob.escape(name),  # this alarm only: its name, with the pattern characters escaped
            duration=duration,
            reason=f"silenced from Slack {label}",
            created_by=f"@{action.user_name} (Slack)",
            now=datetime.fromtimestamp(now, UTC),
            silence_id=silence_id_for(action),
        ),
        incident_key=incident.key,
        until_resolved=button.until_resolved,
    )
    silenced = replace(
        applied,
        silence_id=stored.id,
        silenced_by=action.user_id,
        silenced_until=stored.until,
        silence_until_resolved=button.until_resolved,
    )
    until = None if button.until_resolved else stored.until
    echo = Step(StepKind.REPLY, render_silence_echo(name, click, until, context))
    return Plan(Outcome.SILENCED_FROM_SLACK, silenced, echo, update, silence=stored)


def plan_silence_ended(incident: Incident | None, silence_id: str, *, now: float, context: RenderContext) -> Plan:
    """A silence set from an incident's buttons ended by itself: said in its thread, the message updated."""
    if incident is None or not incident.state or incident.silence_id != silence_id:
        return Plan(Outcome.IDLE, None)  # unsilenced, resolved "until resolved", or a newer incident
    cleared = incident.without_silence()
    if incident.ts is None:
        return Plan(Outcome.SILENCE_ENDED, cleared)
    echo = Step(
        StepKind.REPLY,
        render_silence_ended(incident.alarm_name, silenced_by=incident.silenced_by, at=now, context=context),
    )
    base = incident.latest_original or incident.original
    update = Step(StepKind.UPDATE, base) if base is not None else None
    return Plan(Outcome.SILENCE_ENDED, cleared, echo, update)
