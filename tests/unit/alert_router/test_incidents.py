"""The pure incident lifecycle: decide() and plan_sweep() over small records, no I/O."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lambdas.alert_router.incidents.decide import decide, plan_after_silence, plan_sweep
from lambdas.alert_router.incidents.model import (
    APPLIED_KEPT,
    Incident,
    LifecycleConfig,
    Outcome,
    Plan,
    StepKind,
    Target,
    dumps,
    incident_key,
)
from lambdas.alert_router.models import Alert, SentryFacts, SourceKind, State
from lambdas.alert_router.rendering.context import RenderContext
from lambdas.alert_router.rendering.facts import format_elapsed
from lambdas.alert_router.rendering.incident import render_resolved_original
from lambdas.shared.alarm_metadata import Severity

T0 = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
CONFIG = LifecycleConfig(repeat_interval_seconds=3600, flapping_transitions=4, flapping_window_seconds=1800)
CONTEXT = RenderContext(environment="staging", display_time_zone="UTC")
ORIGINAL: dict[str, Any] = {
    "text": "🔴 [staging] ALARM · CRITICAL: api-5xx",
    "attachments": [
        {
            "color": "#d0021b",
            "blocks": [{"type": "header", "text": {"type": "plain_text", "text": "🔴 ALARM · CRITICAL · api-5xx"}}],
        }
    ],
}


def alert(state: State, minutes: float, message_id: str) -> Alert:
    return Alert(
        source=SourceKind.SNS_ALARM,
        message_id=message_id,
        state=state,
        alarm_name="api-5xx",
        alarm_arn="arn:aws:cloudwatch:ap-northeast-1:1:alarm:api-5xx",
        state_change_time=T0 + timedelta(minutes=minutes),
    )


def plan(previous: Incident | None, item: Alert, *, silenced: bool = False) -> Plan:
    return decide(
        previous,
        item,
        key="k",
        channel="alerts-critical",
        channel_id="C1",
        severity=Severity.CRITICAL,
        payload=ORIGINAL,
        context=CONTEXT,
        now=item.state_change_time.timestamp() if item.state_change_time else 0.0,
        config=CONFIG,
        silenced=silenced,
    )


def committed(result: Plan, ts: str = "1.0") -> Incident:
    """What the I/O loop stores once every step of the plan succeeded."""
    assert result.incident is not None
    incident = result.incident
    if result.outcome is Outcome.OPENED:
        incident = replace(incident, ts=ts)
    if result.message is not None and result.message.target is Target.NOTICE and result.message.kind is StepKind.POST:
        incident = replace(incident, notice_ts=f"notice-{ts}")
    if result.notice_update is not None:  # cleared: the record forgets the notice
        incident = replace(incident, notice_channel_id=None, notice_ts=None, notice=None, blind_since=None)
    return incident


def run(events: Sequence[tuple[State, float]]) -> tuple[list[Plan], Incident | None]:
    incident: Incident | None = None
    plans = []
    for index, (state, minutes) in enumerate(events):
        result = plan(incident, alert(state, minutes, f"m{index}"))
        plans.append(result)
        incident = committed(result, ts=f"{index}.0") if result.incident else incident
    return plans, incident


def test_first_alarm_opens_with_a_top_level_post() -> None:
    [opened], incident = run([(State.ALARM, 0)])
    assert opened.outcome is Outcome.OPENED
    assert opened.message is not None
    assert opened.message.kind is StepKind.POST
    assert opened.message.payload == ORIGINAL
    assert incident is not None
    assert incident.open
    assert incident.original == ORIGINAL


def test_alarm_again_replies_and_ok_resolves_with_an_update() -> None:
    plans, incident = run([(State.ALARM, 0), (State.ALARM, 5), (State.OK, 14)])
    again, resolved = plans[1], plans[2]
    assert again.outcome is Outcome.REPLIED
    assert again.message is not None
    assert again.message.kind is StepKind.REPLY
    assert resolved.outcome is Outcome.RESOLVED
    assert resolved.message is not None
    assert resolved.message.payload["text"] == "✅ Resolved after 14 min: api-5xx"
    assert resolved.update is not None
    assert incident is not None
    assert not incident.open
    assert incident.ts == "0.0"  # the thread of the first post


def test_the_same_message_id_twice_is_a_duplicate() -> None:
    _, incident = run([(State.ALARM, 0)])
    again = plan(incident, alert(State.ALARM, 0, "m0"))
    assert again.outcome is Outcome.DUPLICATE
    assert again.incident is None


def test_ok_with_no_record_is_posted_top_level_and_ok_after_ok_is_nothing() -> None:
    first = plan(None, alert(State.OK, 0, "m0"))
    assert first.outcome is Outcome.POSTED
    second = plan(committed(first), alert(State.OK, 1, "m1"))
    assert second.outcome is Outcome.NOTHING
    assert second.message is None


def test_insufficient_data_to_ok_with_no_record_is_data_arriving_not_posted() -> None:
    # routing leaves INSUFFICIENT_DATA -> OK to the lifecycle in bot-token mode
    first = plan(None, replace(alert(State.OK, 0, "m0"), previous_state=State.INSUFFICIENT_DATA))
    assert first.outcome is Outcome.NOTHING
    assert first.message is None
    assert first.incident is not None
    assert first.incident.state == "OK"
    assert plan(first.incident, alert(State.ALARM, 5, "m1")).outcome is Outcome.OPENED


def test_insufficient_data_with_nothing_open_posts_one_notice_and_opens_no_incident() -> None:
    result = plan(None, alert(State.INSUFFICIENT_DATA, 0, "m0"))
    assert result.outcome is Outcome.BLIND
    assert result.message is not None
    assert (result.message.kind, result.message.target) == (StepKind.POST, Target.NOTICE)
    assert result.incident is not None
    assert not result.incident.open
    assert result.incident.blind_since == T0.timestamp()


def test_flapping_is_announced_once_then_thread_only() -> None:
    events = [
        (State.ALARM, 0),
        (State.OK, 2),
        (State.ALARM, 4),
        (State.OK, 6),
        (State.ALARM, 8),
        (State.OK, 10),
        (State.ALARM, 12),
    ]
    plans, incident = run(events)
    outcomes = [p.outcome for p in plans]
    assert outcomes == [
        Outcome.OPENED,
        Outcome.RESOLVED,
        Outcome.OPENED,
        Outcome.RESOLVED,
        Outcome.FLAPPING,
        Outcome.RESOLVED,
        Outcome.REPLIED,
    ]
    notice = plans[4].message
    assert notice is not None
    assert notice.broadcast
    assert notice.payload["text"] == "🔁 Flapping: api-5xx"
    assert [p.message.kind for p in plans[4:] if p.message] == [StepKind.REPLY] * 3
    assert not any(p.message.broadcast for p in plans[5:] if p.message)
    assert incident is not None
    assert incident.flapping
    assert incident.ts == "2.0"  # the second incident's thread


def test_changes_spread_over_more_than_the_window_are_not_flapping() -> None:
    events = [(State.ALARM, 0), (State.OK, 10), (State.ALARM, 20), (State.OK, 30), (State.ALARM, 40)]
    plans, _ = run(events)
    assert Outcome.FLAPPING not in [p.outcome for p in plans]


def test_sweep_says_stable_again_after_a_quiet_window() -> None:
    events = [(State.ALARM, 0), (State.OK, 2), (State.ALARM, 4), (State.OK, 6), (State.ALARM, 8)]
    _, incident = run(events)
    assert incident is not None
    assert incident.flapping
    early = plan_sweep(
        incident, now=(T0 + timedelta(minutes=20)).timestamp(), silenced=False, config=CONFIG, context=CONTEXT
    )
    assert early.outcome is Outcome.IDLE
    stable = plan_sweep(
        incident, now=(T0 + timedelta(minutes=39)).timestamp(), silenced=False, config=CONFIG, context=CONTEXT
    )
    assert stable.outcome is Outcome.STABLE
    assert stable.message is not None
    assert stable.message.payload["text"] == "Stable again: api-5xx"
    assert stable.incident is not None
    assert not stable.incident.flapping


@pytest.mark.parametrize(
    ("minutes", "severity", "silenced", "expected"),
    [
        (61, "critical", False, Outcome.REPEATED),
        (59, "critical", False, Outcome.IDLE),
        (61, "warning", False, Outcome.IDLE),
        (61, "critical", True, Outcome.IDLE),
    ],
)
def test_sweep_repeats_only_long_open_critical_unsilenced_incidents(
    minutes: int, severity: str, silenced: bool, expected: Outcome
) -> None:
    _, incident = run([(State.ALARM, 0)])
    assert incident is not None
    incident = replace(incident, severity=severity)
    result = plan_sweep(
        incident, now=(T0 + timedelta(minutes=minutes)).timestamp(), silenced=silenced, config=CONFIG, context=CONTEXT
    )
    assert result.outcome is expected
    if expected is Outcome.REPEATED:
        assert result.message is not None
        assert result.message.broadcast
        assert result.incident is not None
        assert result.incident.repeats == 1


def test_sweep_repeats_a_failed_update_a_bounded_number_of_times() -> None:
    _, incident = run([(State.ALARM, 0), (State.OK, 5)])
    assert incident is not None
    stale = replace(incident, original_stale=True, update_attempts=1)
    repair = plan_sweep(stale, now=T0.timestamp() + 600, silenced=False, config=CONFIG, context=CONTEXT)
    assert repair.outcome is Outcome.REPAIRED
    assert repair.update is not None
    given_up = plan_sweep(
        replace(stale, update_attempts=5), now=T0.timestamp() + 600, silenced=False, config=CONFIG, context=CONTEXT
    )
    assert given_up.update is None


def test_incident_key_is_the_arn_else_a_stable_name_key() -> None:
    assert incident_key(alert(State.ALARM, 0, "m")) == "arn:aws:cloudwatch:ap-northeast-1:1:alarm:api-5xx"
    legacy = replace(alert(State.ALARM, 0, "m"), alarm_arn=None, account="1", region="ap-northeast-1")
    assert incident_key(legacy) == "alarm:1:ap-northeast-1:api-5xx"
    assert incident_key(Alert(source=SourceKind.UNPARSED, raw_text="x")) is None
    assert incident_key(replace(legacy, source=SourceKind.SENTRY)) is None


def test_a_sentry_metric_alert_is_keyed_on_its_rule_and_an_issue_alert_is_not() -> None:
    metric = Alert(
        source=SourceKind.SENTRY,
        state=State.ALARM,
        alarm_name="p95 latency",
        sentry=SentryFacts(resource="metric_alert", action="critical", alert_rule_id="7"),
    )
    assert incident_key(metric) == "sentry:metric-alert:7"
    assert incident_key(replace(metric, state=State.OK)) == "sentry:metric-alert:7"  # resolved: the same thread
    issue = replace(metric, sentry=SentryFacts(resource="event_alert", action="triggered", alert_rule_id="7"))
    assert incident_key(issue) is None  # no resolve ever arrives for an issue alert: it would never close
    assert incident_key(replace(metric, sentry=SentryFacts(resource="metric_alert"))) is None


# --- late notifications -------------------------------------------------------------------------------------------


def test_an_alarm_older_than_the_applied_ok_is_recorded_and_ignored() -> None:
    # Given an incident resolved at +10 min
    _, resolved = run([(State.ALARM, 0), (State.OK, 10)])
    assert resolved is not None
    # When an ALARM from +5 min arrives late (SNS out of order, or Lambda's retry of a failed event)
    late = plan(resolved, alert(State.ALARM, 5, "late"))
    # Then nothing is posted and nothing reopens; only the message id is remembered
    assert late.outcome is Outcome.LATE
    assert late.message is None
    assert late.update is None
    assert late.incident == replace(resolved, applied=(*resolved.applied, "late"))
    assert plan(late.incident, alert(State.ALARM, 5, "late")).outcome is Outcome.DUPLICATE


def test_a_late_ok_does_not_resolve_a_newer_alarm() -> None:
    _, reopened = run([(State.ALARM, 0), (State.OK, 10), (State.ALARM, 60)])
    assert reopened is not None
    assert reopened.open
    late = plan(reopened, alert(State.OK, 10, "ok-again"))
    assert late.outcome is Outcome.LATE
    assert late.incident is not None
    assert late.incident.open
    assert late.incident.state == State.ALARM.value


def test_a_claim_left_by_a_failed_invocation_counts_as_no_record() -> None:
    # Given the record a crashed first ALARM left behind: a claim with an empty state
    claim = Incident(key="k", alarm_name="api-5xx", channel="c", channel_id="C1", severity="critical", state="")
    # Then an OK is posted top-level (nothing known about it) and an ALARM opens
    assert plan(claim, alert(State.OK, 2, "m1")).outcome is Outcome.POSTED
    assert plan(claim, alert(State.ALARM, 0, "m0")).outcome is Outcome.OPENED


# --- silences -----------------------------------------------------------------------------------------------------


def test_a_silenced_alarm_keeps_its_state_and_rendering_until_the_silence_ends() -> None:
    silenced = plan(None, alert(State.ALARM, 0, "m0"), silenced=True)
    assert silenced.outcome is Outcome.SILENCED
    assert silenced.message is None
    assert silenced.incident is not None
    assert silenced.incident.state == "ALARM"
    assert not silenced.incident.open
    assert silenced.incident.held == ORIGINAL
    # When the silence ends with the alarm still in ALARM: a first ALARM's top-level post, opened at the ALARM
    announced = plan_after_silence(silenced.incident, now=T0.timestamp() + 3600)
    assert announced.outcome is Outcome.OPENED
    assert announced.message is not None
    assert announced.message.kind is StepKind.POST
    assert announced.message.payload == ORIGINAL
    assert announced.incident is not None
    assert announced.incident.open
    assert announced.incident.held is None
    assert announced.incident.opened_at == T0.timestamp()
    # And an alarm that recovered during the silence is not announced
    recovered = plan(silenced.incident, alert(State.OK, 30, "m1"), silenced=True)
    assert recovered.incident is not None
    assert recovered.incident.held is None
    assert plan_after_silence(recovered.incident, now=T0.timestamp() + 3600).outcome is Outcome.IDLE


def test_an_open_incident_is_not_silenced() -> None:
    _, opened = run([(State.ALARM, 0)])
    assert plan(opened, alert(State.OK, 5, "m1"), silenced=True).outcome is Outcome.RESOLVED


def test_resolved_original_keeps_blocks_and_replaces_its_status_line() -> None:
    once = render_resolved_original(ORIGINAL, T0.timestamp(), T0.timestamp() + 840, CONTEXT)
    twice = render_resolved_original(once, T0.timestamp(), T0.timestamp() + 900, CONTEXT)
    blocks = twice["attachments"][0]["blocks"]
    assert blocks[0]["text"]["text"] == "✅ RESOLVED · CRITICAL · api-5xx"
    assert twice["text"] == "✅ [staging] RESOLVED · CRITICAL: api-5xx"
    assert [b.get("block_id") for b in blocks] == [None, "incident-status"]
    assert blocks[1]["elements"][0]["text"] == "*Resolved* 2026-11-29 03:15:00 UTC · open for 15 min"
    assert ORIGINAL["attachments"][0]["color"] == "#d0021b"  # the input is not changed


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(40, "40 s"), (840, "14 min"), (3600, "1 h"), (3900, "1 h 5 min"), (86_400 + 7200, "1 d 2 h")],
)
def test_elapsed_time_words(seconds: float, text: str) -> None:
    assert format_elapsed(seconds) == text


# --- order: the alarm's state-change time decides, same-state repeats included ------------------------------------


def test_a_same_state_alarm_moves_the_incident_forward_so_an_older_ok_is_late() -> None:
    # Given ALARM at 0 min, and ALARM again at 3 min (the OK of 2 min failed on Slack and was not committed)
    _, incident = run([(State.ALARM, 0), (State.ALARM, 3)])
    assert incident is not None
    assert incident.latest_at == (T0 + timedelta(minutes=3)).timestamp()
    assert incident.last_change_at == T0.timestamp()  # no state *change*: flapping and "stable" keep counting
    # When Lambda retries the OK of 2 min
    retried = plan(incident, alert(State.OK, 2, "ok-of-2-min"))
    # Then it is late: nothing resolves, nothing is posted or updated
    assert retried.outcome is Outcome.LATE
    assert (retried.message, retried.update) == (None, None)
    assert retried.incident is not None
    assert retried.incident.open


def test_the_record_stays_bounded_however_many_notifications_arrive() -> None:
    # Given an alarm that keeps notifying (DynamoDB refuses items over 400 KB)
    def size_after(count: int) -> tuple[int, Incident]:
        events = [(State.ALARM if index % 2 == 0 else State.OK, index * 40.0) for index in range(count)]
        _, incident = run(events)
        assert incident is not None
        return len(dumps(incident.to_data()).encode()), incident

    small, _ = size_after(50)
    large, incident = size_after(500)
    # Then only the newest message ids are kept, and the item does not grow with the count
    assert len(incident.applied) == APPLIED_KEPT
    assert incident.applied[-1] == "m499"
    assert large <= small + 64  # the same shape; only the numbers in it differ
    assert large < 400 * 1024


# --- monitoring blind: one notice, cleared when data returns --------------------------------------------------


def blind_plan(previous: Incident | None, state: State, minutes: float, message_id: str, old: State) -> Plan:
    item = replace(alert(state, minutes, message_id), previous_state=old)
    if state is not State.INSUFFICIENT_DATA:
        return plan(previous, item)
    return decide(  # the router routes INSUFFICIENT_DATA to the errors channel, rendered as the notice
        previous,
        item,
        key="k",
        channel="alerts-errors",
        channel_id="C2",
        severity=Severity.WARNING,
        payload=NOTICE,
        context=CONTEXT,
        now=(T0 + timedelta(minutes=minutes)).timestamp(),
        config=CONFIG,
    )


NOTICE: dict[str, Any] = {
    "text": "⚪ [staging] Monitoring blind: api-5xx has had no data for 5 min",
    "attachments": [{"color": "#9b9b9b", "blocks": [
        {"type": "header", "text": {"type": "plain_text", "text": "⚪ MONITORING BLIND · api-5xx"}}]}],
}  # fmt: skip


def test_missing_data_is_one_notice_in_the_errors_channel_and_is_heard_once() -> None:
    first = blind_plan(None, State.INSUFFICIENT_DATA, 0, "m0", State.OK)
    assert first.outcome is Outcome.BLIND
    assert first.message is not None
    assert (first.message.kind, first.message.target, first.message.payload) == (StepKind.POST, Target.NOTICE, NOTICE)
    incident = committed(first)
    assert incident.notice_channel_id == "C2"
    assert not incident.open
    # A repeat of the same state (an alarm re-configured, say) says nothing more
    again = blind_plan(incident, State.INSUFFICIENT_DATA, 1, "m1", State.INSUFFICIENT_DATA)
    assert again.outcome is Outcome.NOTHING
    assert again.message is None


def test_data_back_resolves_the_notice_in_its_thread_and_in_place() -> None:
    incident = committed(blind_plan(None, State.INSUFFICIENT_DATA, 0, "m0", State.OK))
    back = blind_plan(incident, State.OK, 25, "m1", State.INSUFFICIENT_DATA)
    assert back.outcome is Outcome.DATA_BACK
    assert back.message is not None
    assert (back.message.kind, back.message.target) == (StepKind.REPLY, Target.NOTICE)
    assert "Data is back* after 25 min" in back.message.payload["blocks"][0]["text"]["text"]
    assert back.notice_update is not None
    assert back.notice_update.target is Target.NOTICE
    header = back.notice_update.payload["attachments"][0]["blocks"][0]["text"]["text"]
    assert header == "✅ DATA BACK · api-5xx"


def test_an_open_incident_that_loses_its_data_stays_open_and_says_so() -> None:
    # Given an open critical incident whose alarm goes ALARM -> INSUFFICIENT_DATA
    _, incident = run([(State.ALARM, 0)])
    assert incident is not None
    blind = blind_plan(incident, State.INSUFFICIENT_DATA, 5, "m1", State.ALARM)
    # Then the notice goes to the errors channel, the incident stays open, its first message says "no data"
    assert blind.outcome is Outcome.BLIND
    assert blind.message is not None
    assert blind.message.target is Target.NOTICE
    assert blind.update is not None
    assert blind.update.payload["attachments"][0]["blocks"][0]["text"]["text"].startswith("⚪ INSUFFICIENT DATA")
    incident = committed(blind)
    assert incident.open
    # When the data returns with the alarm still in ALARM: a reply, the original back to ALARM, the notice cleared
    again = blind_plan(incident, State.ALARM, 20, "m2", State.INSUFFICIENT_DATA)
    assert again.outcome is Outcome.REPLIED
    assert again.update is not None
    assert again.update.payload["attachments"][0]["blocks"][0]["text"]["text"].startswith("🔴 ALARM")
    assert again.notice_update is not None
    # And when it then recovers: resolved in its thread; no notice is left to clear
    resolved = plan(committed(again), replace(alert(State.OK, 30, "m3"), previous_state=State.ALARM))
    assert resolved.outcome is Outcome.RESOLVED
    assert resolved.notice_update is None


def test_an_alarm_from_insufficient_data_with_nothing_open_opens_an_incident_and_clears_the_notice() -> None:
    incident = committed(blind_plan(None, State.INSUFFICIENT_DATA, 0, "m0", State.OK))
    opened = blind_plan(incident, State.ALARM, 10, "m1", State.INSUFFICIENT_DATA)
    assert opened.outcome is Outcome.OPENED
    assert opened.message is not None
    assert opened.message.target is Target.INCIDENT
    assert opened.notice_update is not None


def test_a_failed_notice_update_is_repeated_by_the_sweep() -> None:
    incident = committed(blind_plan(None, State.INSUFFICIENT_DATA, 0, "m0", State.OK))
    back = blind_plan(incident, State.OK, 25, "m1", State.INSUFFICIENT_DATA)
    assert back.incident is not None
    assert back.notice_update is not None
    # Given the loop could not clear it (what loop.py stores then)
    stale = replace(back.incident, notice=back.notice_update.payload, notice_stale=True)
    assert stale.needs_sweep
    # Then the sweep redoes exactly that update
    repair = plan_sweep(
        stale, now=(T0 + timedelta(minutes=30)).timestamp(), silenced=False, config=CONFIG, context=CONTEXT
    )
    assert repair.outcome is Outcome.REPAIRED
    assert repair.notice_update is not None
    assert repair.notice_update.payload == back.notice_update.payload


# --- a deleted thread: every reply knows what to post instead ---------------------------------------------------


def test_every_reply_of_an_incident_says_what_to_post_if_its_thread_is_gone() -> None:
    plans, _ = run([(State.ALARM, 0), (State.ALARM, 5), (State.OK, 14)])
    assert [p.message.reanchor for p in plans[1:] if p.message] == [ORIGINAL, ORIGINAL]
    reopened = committed(plan(None, alert(State.ALARM, 0, "r0")), ts="9.0")
    reminder = plan_sweep(
        reopened, now=(T0 + timedelta(hours=2)).timestamp(), silenced=False, config=CONFIG, context=CONTEXT
    )
    assert reminder.outcome is Outcome.REPEATED
    assert reminder.message is not None
    assert reminder.message.reanchor is not None
    status = reminder.message.reanchor["attachments"][0]["blocks"][1]["elements"][0]["text"]
    assert status.startswith(
        "⏰ *Still in ALARM after 2 h* (reminder 1); the first message of this incident was deleted"
    )
