"""Pure incident lifecycle (bot-token mode): (stored incident, alert, time, config) -> a plan.

One record per alarm (its ARN, else account/region/name) holds the thread of the current or last incident:
channel, message `ts`, the original payload (for chat.update), opened/resolved times, the last state, the
recent transition times (flapping), repeat bookkeeping, the message ids already applied (SNS redelivery),
and the lease and version used by the store's conditional writes.

A plan has at most one message (a top-level post or a thread reply) and at most one chat.update, so a
failure leaves nothing half-done that a retry could post twice: the message is the part that matters and
is committed with the state; a failed update only marks the original stale for the sweep to redo.

Rules:
- ALARM with no open incident: a top-level post (the usual rendering) opens an incident.
- ALARM (or INSUFFICIENT_DATA) while open: a thread reply.
- OK while open: a thread reply "Resolved after 14 min" and the original updated in place.
- OK with nothing open: nothing to resolve (logged); with no record at all: posted top-level as in
  webhook mode (we know nothing about it), except INSUFFICIENT_DATA -> OK (data arriving after a deploy:
  nothing; routing does not suppress it in this mode). INSUFFICIENT_DATA with nothing open: top-level, no
  incident.
- More than `flapping_transitions` state changes within `flapping_window`: one flapping notice (broadcast
  to the channel), then thread-only replies, also for a re-ALARM after OK (the incident is re-opened in the
  same thread instead of a new top-level post), until no change for the window ("stable again", by the sweep).
- Escalation (sweep): a critical incident in ALARM that nobody acknowledged (or silenced) within
  `escalate_after` of its post is re-announced once in its thread with reply_broadcast, mentioning the
  escalation group, and (`escalation_paged`) published to the escalation topic; a failed publish is repeated
  by the next sweeps while nobody acknowledges. It counts as an announcement for the repeats.
- Repeat (sweep): a critical incident open for `repeat_interval` since its last announcement is
  re-announced in its thread with reply_broadcast, until somebody acknowledges it.
- Acknowledge, silence, unsilence (buttons): actions.py.
- Late (older than the last state change applied: Lambda's retry of an old ALARM after the OK was posted,
  SNS out of order): its message id is recorded, nothing else changes and nothing is posted.
- Anchored (issue 13: the alert is a member of a group whose lead's thread is open, or of a storm digest):
  an ALARM with nothing open opens its incident as a reply in that thread (quiet for a digest: recorded,
  not posted); the incident has no first message of its own and is not re-announced (the lead's is). For a
  digest, any message the plan would post (a reply, a top-level post) is left out: the digest names it.
- Silenced (a silence matches and no incident is open): nothing is posted; the state is kept (so the OK
  after the silence has nothing to resolve) with the rendering of an ALARM (`held`), which is posted as a
  first ALARM would be if the alarm is still in ALARM when the silence ends (`plan_after_silence`).

Records, plans and keys: model.py.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import replace
from typing import Concatenate, ParamSpec

from lambdas.alert_router.incidents.model import (
    APPLIED_KEPT,
    Anchor,
    Incident,
    LifecycleConfig,
    Outcome,
    Plan,
    StateChange,
    Step,
    StepKind,
    Target,
)
from lambdas.alert_router.models import Alert, Payload, State
from lambdas.alert_router.rendering.actions import render_escalation
from lambdas.alert_router.rendering.context import RenderContext
from lambdas.alert_router.rendering.group import named_reply
from lambdas.alert_router.rendering.incident import (
    render_blind_original,
    render_cleared_notice,
    render_data_back_original,
    render_data_back_reply,
    render_flapping_notice,
    render_reminder_original,
    render_reopened_original,
    render_repeat,
    render_resolved_original,
    render_resolved_reply,
    render_stable_notice,
    render_state_reply,
)
from lambdas.shared.alarm_metadata import Severity

P = ParamSpec("P")


def _fresh(incident: Incident, now: float) -> Incident:
    """A new incident of the alarm: nobody has acknowledged, silenced or escalated it yet."""
    return replace(
        incident.without_silence(),
        posted_at=now,
        latest_original=None,
        acked_by=None,
        acked_name=None,
        acked_at=None,
        escalated_at=None,
        page_pending=False,
    )


def _recent(times: tuple[float, ...], now: float, window: int) -> tuple[float, ...]:
    return tuple(t for t in times if now - t < window)


def _already_seen(previous: Incident, state: State, at: float, message_id: str | None) -> Plan | None:
    """A redelivery (duplicate), or a notification older than the newest one applied (late)."""
    if message_id and message_id in previous.applied:
        return Plan(Outcome.DUPLICATE, None, notes=("message already applied to the incident",))
    if at < max(previous.latest_at, previous.last_change_at):
        applied = (*previous.applied, message_id) if message_id else previous.applied
        late = replace(previous, applied=applied[-APPLIED_KEPT:])
        return Plan(Outcome.LATE, late, notes=(f"{state.value} older than the newest notification: ignored",))
    return None


def in_thread(plan: Plan, alert: Alert, anchor: Anchor | None, *, payload: Payload, context: RenderContext) -> Plan:
    """A decision for an alert that belongs to a group's or a digest's thread (`anchor`), or whose incident
    lives in one: a new incident opens as a reply there (quiet for a digest: recorded, not posted), and a
    reply in a shared thread names its alarm."""
    if anchor is None:
        return _named(plan, alert)
    if plan.outcome is Outcome.OPENED and plan.incident is not None:
        joined = replace(plan.incident, ts=anchor.ts, channel_id=anchor.channel_id, original=None, anchored=True)
        reply = (
            None
            if anchor.quiet
            else Step(StepKind.REPLY, render_state_reply(alert, context, again=False), reanchor=payload)
        )
        return _named(replace(plan, outcome=Outcome.JOINED, incident=joined, message=reply), alert)
    if anchor.quiet and plan.message is not None and plan.message.target is Target.INCIDENT:
        return replace(plan, message=None, notes=(*plan.notes, "named in a storm digest: not posted"))
    return _named(plan, alert)


def _named(plan: Plan, alert: Alert) -> Plan:
    """In a thread it shares (a group's), an incident's replies say which alarm they are about."""
    step = plan.message
    if plan.incident is None or not plan.incident.anchored or step is None or step.kind is not StepKind.REPLY:
        return plan
    if step.target is not Target.INCIDENT:
        return plan
    name = alert.alarm_name or plan.incident.alarm_name
    return replace(plan, message=replace(step, payload=named_reply(step.payload, name)))


def _recording_the_change(
    decide: Callable[Concatenate[Incident | None, Alert, P], Plan],
) -> Callable[Concatenate[Incident | None, Alert, P], Plan]:
    """`decide`, with the state change its plan applies (for the incident history): none for a redelivery, a
    late notification or a same-state repeat."""

    @functools.wraps(decide)
    def decided(previous: Incident | None, alert: Alert, /, *args: P.args, **kwargs: P.kwargs) -> Plan:
        plan = decide(previous, alert, *args, **kwargs)
        state = (alert.state or State.ALARM).value
        known = previous.state if previous is not None and previous.state else None
        if plan.outcome in (Outcome.DUPLICATE, Outcome.LATE) or known == state:
            return plan
        at = alert.state_change_time.timestamp() if alert.state_change_time else float(kwargs["now"])  # type: ignore[arg-type]
        return replace(plan, change=StateChange(old_state=_state_before(alert, known), new_state=state, at=at))

    return decided


def _state_before(alert: Alert, known: str | None) -> str:
    """The notification's previous state; else the record's; else (a Sentry metric alert's first) the opposite."""
    if alert.previous_state is not None:
        return alert.previous_state.value
    if known:
        return known
    return State.OK.value if alert.state is not State.OK else State.ALARM.value


@_recording_the_change
def decide(  # noqa: PLR0911 - one return per lifecycle rule, in the order of the module docstring
    previous: Incident | None,
    alert: Alert,
    *,
    key: str,
    channel: str,
    channel_id: str,
    severity: Severity,
    payload: Payload,
    context: RenderContext,
    now: float,
    config: LifecycleConfig,
    silenced: bool = False,
) -> Plan:
    """What one alarm notification does to its incident (payload: the usual top-level rendering; for
    INSUFFICIENT_DATA the monitoring-blind notice, and `channel` the errors channel). `in_thread` places
    the plan in a group's or digest's thread."""
    state = alert.state or State.ALARM
    at = alert.state_change_time.timestamp() if alert.state_change_time else now
    message_id = alert.message_id
    if previous is not None and not previous.state:
        previous = None  # a claim left by an invocation that failed before its first commit: no state yet
    if previous is not None and (stale := _already_seen(previous, state, at, message_id)) is not None:
        return stale

    notes: list[str] = []
    current = previous
    if current is not None and current.flapping and at - current.last_change_at >= config.flapping_window_seconds:
        notes.append("flapping ended without a sweep: quiet for the window")
        current = replace(current, flapping=False, transitions=())
    changed = current is None or current.state != state.value
    history = current.transitions if current else ()
    transitions = _recent((*history, at) if changed else history, at, config.flapping_window_seconds)
    newly_flapping = changed and len(transitions) > config.flapping_transitions and not (current and current.flapping)
    applied = ((*current.applied, message_id) if current else (message_id,)) if message_id else ()
    base = current or Incident(
        key=key,
        alarm_name=alert.alarm_name or key,
        channel=channel,
        channel_id=channel_id,
        severity=severity.value,
        state=state.value,
    )
    base = replace(
        base,
        state=state.value,
        transitions=transitions,
        last_change_at=at if changed else base.last_change_at,
        latest_at=max(base.latest_at, at),  # a same-state repeat moves it too: ordering by the alarm's time
        applied=applied[-APPLIED_KEPT:],
        held=None,
    )
    if silenced and not (current is not None and current.open):
        if state is not State.ALARM:
            return Plan(Outcome.SILENCED, base, notes=tuple(notes))
        # kept back; opened at this ALARM's time when the silence ends (plan_after_silence)
        held = replace(base, held=payload, opened_from=_state_before(alert, current.state if current else None))
        return Plan(Outcome.SILENCED, held, notes=tuple(notes))
    in_thread = current is not None and current.open and current.ts is not None
    flapping = (current is not None and current.flapping) or newly_flapping
    flap_notice = (
        Step(
            StepKind.REPLY,
            render_flapping_notice(base.alarm_name, len(transitions), config.flapping_window_seconds, state),
            broadcast=True,
            reanchor=payload,
        )
        if newly_flapping
        else None
    )
    if state is State.INSUFFICIENT_DATA and not (flapping and in_thread):
        return _blind(current, replace(base, flapping=flapping), at, payload, channel, channel_id, context, notes)
    clear = _clear_notice(current, state, at, context)

    if state is State.OK:
        return _recovered(
            current,
            base,
            alert,
            payload,
            at=at,
            flapping=flapping,
            flap_notice=flap_notice,
            clear=clear,
            context=context,
            notes=notes,
        )

    if in_thread and current is not None:
        reply = flap_notice or Step(
            StepKind.REPLY, render_state_reply(alert, context, again=not changed), reanchor=payload
        )
        update = None
        if clear is not None and current.original is not None:  # the original says "no data": not any more
            update = Step(
                StepKind.UPDATE, render_data_back_original(current.original, current.blind_since, at, context)
            )
        outcome = Outcome.FLAPPING if flap_notice else Outcome.REPLIED
        return Plan(outcome, replace(base, flapping=flapping), reply, update, clear, tuple(notes))
    if state is State.INSUFFICIENT_DATA:  # flapping, nothing open: a top-level post like any flapping change
        return Plan(Outcome.POSTED, replace(base, flapping=flapping), Step(StepKind.POST, payload), notes=tuple(notes))

    # ALARM with nothing open
    if flapping and current is not None and current.ts is not None:
        # re-open the last incident in its own thread: a flapping alarm gets no new top-level posts
        reopened = replace(base, open=True, flapping=True, resolved_at=None)
        reply = flap_notice or Step(StepKind.REPLY, render_state_reply(alert, context, again=True), reanchor=payload)
        update = (
            Step(StepKind.UPDATE, render_reopened_original(current.original, at, context)) if current.original else None
        )
        outcome = Outcome.FLAPPING if flap_notice else Outcome.REPLIED
        return Plan(outcome, reopened, reply, update, clear, tuple(notes))
    opened = replace(
        _fresh(base, now),
        open=True,
        ts=None,  # filled with the new post's ts
        original=payload,
        original_stale=False,
        pending_update=None,
        update_attempts=0,
        opened_at=at,
        opened_from=_state_before(alert, current.state if current else None),
        resolved_at=None,
        announced_at=now,
        repeats=0,
        flapping=False,
        channel=channel,
        channel_id=channel_id,
        severity=severity.value,
    )
    return Plan(Outcome.OPENED, opened, Step(StepKind.POST, payload), notice_update=clear, notes=tuple(notes))


def _recovered(
    current: Incident | None,
    base: Incident,
    alert: Alert,
    payload: Payload,
    *,
    at: float,
    flapping: bool,
    flap_notice: Step | None,
    clear: Step | None,
    context: RenderContext,
    notes: list[str],
) -> Plan:
    """OK: resolve the open incident in its thread (and the notice, if data was missing), else say little."""
    if current is not None and current.open and current.ts is not None:
        resolved = replace(base, open=False, resolved_at=at, flapping=flapping, page_pending=False)
        ended = None
        if current.silence_until_resolved and current.silence_id:
            # "Silence until resolved" ends here; a silence for a time outlives the incident
            ended = current.silence_id
            resolved = resolved.without_silence()
        update = None
        if current.original is not None:
            update = Step(StepKind.UPDATE, render_resolved_original(current.original, current.opened_at, at, context))
        reply = flap_notice or Step(
            StepKind.REPLY, render_resolved_reply(alert, current.opened_at, at, context), reanchor=payload
        )
        outcome = Outcome.FLAPPING if flap_notice else Outcome.RESOLVED
        return Plan(outcome, resolved, reply, update, clear, tuple(notes), end_silence=ended)
    if clear is not None and current is not None:
        back = render_data_back_reply(base.alarm_name, current.blind_since, at, State.OK)
        reply = Step(StepKind.REPLY, back, target=Target.NOTICE)
        return Plan(Outcome.DATA_BACK, replace(base, flapping=flapping), reply, notice_update=clear)
    if current is not None:
        return Plan(Outcome.NOTHING, replace(base, flapping=flapping), notes=(*notes, "no open incident"))
    if alert.previous_state is State.INSUFFICIENT_DATA:
        # routing leaves this to us in bot-token mode: with no record, data arriving, not a recovery
        return Plan(Outcome.NOTHING, base, notes=(*notes, "INSUFFICIENT_DATA -> OK with no incident"))
    return Plan(Outcome.POSTED, base, Step(StepKind.POST, payload), notes=tuple(notes))


def _blind(  # noqa: PLR0917 - decide's facts, passed through
    current: Incident | None,
    base: Incident,
    at: float,
    notice: Payload,
    channel: str,
    channel_id: str,
    context: RenderContext,
    notes: list[str],
) -> Plan:
    """INSUFFICIENT_DATA: one monitoring-blind notice in the errors channel; an open incident stays open (we
    cannot see whether it recovered) and its first message says that data stopped."""
    if current is not None and current.notice_ts is not None:
        return Plan(Outcome.NOTHING, base, notes=(*notes, "a monitoring-blind notice is already up"))
    blind = replace(base, notice_channel_id=channel_id, notice=notice, blind_since=at, notice_stale=False)
    update = None
    if current is not None and current.open and current.ts is not None and current.original is not None:
        update = Step(StepKind.UPDATE, render_blind_original(current.original, at, channel, context))
    post = Step(StepKind.POST, notice, target=Target.NOTICE)
    return Plan(Outcome.BLIND, blind, post, update, notes=tuple(notes))


def _clear_notice(current: Incident | None, state: State, at: float, context: RenderContext) -> Step | None:
    """Data is back (any state but INSUFFICIENT_DATA) while a notice is up: resolve the notice in place."""
    if current is None or current.notice_ts is None or current.notice is None:
        return None
    cleared = render_cleared_notice(current.notice, current.blind_since, at, state, context)
    return Step(StepKind.UPDATE, cleared, target=Target.NOTICE)


def plan_sweep(  # noqa: PLR0911 - one return per sweep rule
    incident: Incident,
    *,
    now: float,
    silenced: bool,
    config: LifecycleConfig,
    context: RenderContext,
    max_update_attempts: int = 5,
) -> Plan:
    """What the scheduled sweep does for one incident: stable again, a repeat, or a stale update redone."""
    if incident.notice_stale and incident.notice is not None and incident.notice_ts is not None:
        redo = Step(StepKind.UPDATE, incident.notice, target=Target.NOTICE)
        return Plan(Outcome.REPAIRED, replace(incident, notice_stale=False), notice_update=redo)
    if incident.ts is None:
        return Plan(Outcome.IDLE, replace(incident, flapping=False, original_stale=False, notice_stale=False))
    if incident.flapping and now - incident.last_change_at >= config.flapping_window_seconds:
        quiet = now - incident.last_change_at
        stable = replace(incident, flapping=False, transitions=())
        update = None
        if not incident.open and incident.original is not None and incident.resolved_at is not None:
            # the original may still say "flapping, in ALARM again": show the final resolution
            update = Step(
                StepKind.UPDATE,
                render_resolved_original(incident.original, incident.opened_at, incident.resolved_at, context),
            )
        message = Step(StepKind.REPLY, render_stable_notice(incident.alarm_name, incident.state, quiet))
        return Plan(Outcome.STABLE, stable, message, update)
    waiting = (
        incident.open
        and not incident.flapping
        and not incident.anchored
        and not silenced
        and incident.acked_at is None
        and incident.severity == Severity.CRITICAL.value
        and incident.state == State.ALARM.value
    )
    posted = incident.posted_at or incident.opened_at
    if (
        waiting
        and config.escalate_after_seconds is not None
        and incident.escalated_at is None
        and now - posted >= config.escalate_after_seconds
    ):
        escalation = render_escalation(incident.alarm_name, now - posted, config.escalation_group)
        base = incident.latest_original or incident.original
        escalated = replace(incident, escalated_at=now, announced_at=now, page_pending=config.escalation_paged)
        message = Step(StepKind.REPLY, escalation, broadcast=True, reanchor=base or escalation)
        update = Step(StepKind.UPDATE, base) if base is not None else None
        return Plan(Outcome.ESCALATED, escalated, message, update, page=config.escalation_paged)
    if incident.page_pending and incident.open and incident.acked_at is None:
        return Plan(Outcome.PAGED, replace(incident, page_pending=False), page=True)
    if waiting and now - incident.announced_at >= config.repeat_interval_seconds:
        repeat = incident.repeats + 1
        reminder = render_repeat(incident.alarm_name, incident.opened_at, now, repeat)
        reanchor = (
            render_reminder_original(incident.original, incident.opened_at, now, repeat)
            if incident.original is not None
            else reminder
        )
        message = Step(StepKind.REPLY, reminder, broadcast=True, reanchor=reanchor)
        return Plan(Outcome.REPEATED, replace(incident, announced_at=now, repeats=repeat), message)
    if incident.original_stale and incident.original is not None:
        if incident.update_attempts >= max_update_attempts:
            gave_up = replace(incident, original_stale=False, pending_update=None)
            return Plan(Outcome.IDLE, gave_up, notes=("gave up updating the original",))
        payload = incident.pending_update or render_resolved_original(
            incident.original, incident.opened_at, incident.resolved_at or incident.last_change_at, context
        )
        repaired = replace(incident, original_stale=False)
        return Plan(Outcome.REPAIRED, repaired, update=Step(StepKind.UPDATE, payload))
    return Plan(Outcome.IDLE, None)


def plan_after_silence(incident: Incident, *, now: float) -> Plan:
    """A silence ended: an alarm it kept back that is still in ALARM is announced as a first ALARM would be."""
    if incident.open or incident.state != State.ALARM.value or incident.held is None:
        return Plan(Outcome.IDLE, None)
    opened = replace(
        _fresh(incident, now),
        open=True,
        ts=None,  # filled with the new post's ts
        original=incident.held,
        held=None,
        original_stale=False,
        pending_update=None,
        update_attempts=0,
        opened_at=incident.last_change_at or now,
        resolved_at=None,
        announced_at=now,
        repeats=0,
        flapping=False,
    )
    return Plan(Outcome.OPENED, opened, Step(StepKind.POST, incident.held))
