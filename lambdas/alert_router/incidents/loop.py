"""Bot-token mode's I/O loop: read the incident, decide (pure), claim, talk to Slack, commit.

Concurrency and redelivery: a record is claimed with a lease (a conditional write on the version read)
before anything is posted, so of two invocations for one alarm only one posts; the other waits for the
lease, re-reads and decides again (usually "thread reply" or "duplicate": applied message ids are kept in
the record). A lease left by a crashed invocation expires after `lease_seconds`. When the Slack message
fails the lease is released and the error raised (Lambda retries, then the DLQ keeps the event); when only
chat.update fails the message and the state are kept and the original is marked stale for the sweep.

Every write of an incident record goes through that claim/commit loop (a silenced alert too), so a commit
fails only when the invocation's own lease expired.

Clicks on an incident's buttons (`act`, from the interactivity endpoint) go through the same loop: the
decision is actions.py's, the echo is the message step, a silence is stored (or ended) first, and the
clicking user's private answer is sent after the commit. Every post and update of an incident's first
message carries its buttons and status line for the state it leaves (rendering/actions.py). Every state
change applied, and every acknowledgement, is written to the incident history (store.put_history); a
failure there is logged and counted (HistoryWriteFailures) and never stops the alert.

The scheduled sweep (`sweep`) escalates and re-announces long-open critical incidents, says "stable again"
when flapping stops, repeats failed updates and escalation pages, posts silence summaries (announcing what
is still in ALARM, and in its thread when a silence set from an incident's buttons ends) and reports the
OpenIncidents gauge. A Slack failure or a busy incident there is logged and counted
(SweepFailures), not raised: the next sweep converges, and a raise would only send the schedule's event
through Lambda's retries into the DLQ and page for it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from lambdas.alert_router.delivery.engine import DeliveryError, DeliveryReport, MessageGone
from lambdas.alert_router.delivery.response_url import ResponseUrlClient
from lambdas.alert_router.delivery.web_api import SlackApi
from lambdas.alert_router.incidents.actions import controls_for, plan_action, plan_silence_ended
from lambdas.alert_router.incidents.decide import decide, in_thread, plan_after_silence, plan_sweep
from lambdas.alert_router.incidents.model import (
    Anchor,
    Incident,
    Outcome,
    Plan,
    Step,
    StepKind,
    Target,
    history_entries,
    incident_key,
)
from lambdas.alert_router.incidents.pager import Pager
from lambdas.alert_router.incidents.silences import Silence, SilenceHit, expired, find_silence
from lambdas.alert_router.incidents.store import Conflict, IncidentStore, update_with_retry
from lambdas.alert_router.models import Alert, Payload, State
from lambdas.alert_router.rendering.actions import mention, render_escalation_page, with_controls
from lambdas.alert_router.rendering.incident import render_silence_summary
from lambdas.alert_router.routing.route import Route
from lambdas.alert_router.settings import BotConfig, Settings
from lambdas.shared.slack_actions import IncidentAction

Counter = Callable[[str, int], None]
_STATUS = {
    Outcome.DUPLICATE: "duplicate",
    Outcome.NOTHING: "nothing-to-resolve",
    Outcome.LATE: "late-ignored",
    Outcome.SILENCED: "silenced",
}


class IncidentBusy(Exception):
    """Another invocation holds the alarm's lease for longer than this one can wait: retry the event later."""


def _wall_clock() -> float:
    return datetime.now(UTC).timestamp()


def _forever() -> float:
    return float("inf")


@dataclass
class Lifecycle:
    settings: Settings
    bot: BotConfig
    api: SlackApi
    store: IncidentStore
    count: Counter
    logger: Any  # Powertools Logger (info/warning/error with extra=)
    now: Callable[[], float] = _wall_clock
    sleep: Callable[[float], None] = time.sleep
    remaining_seconds: Callable[[], float] = _forever
    lease_seconds: float = 60.0
    max_wait_seconds: float = 20.0
    pager: Pager | None = None  # the escalation topic, when configured
    answers: ResponseUrlClient | None = None  # private answers to clicks
    _silences: list[Silence] | None = field(default=None, repr=False)

    # --- one alarm notification -------------------------------------------------------------------------------

    def handle(self, alert: Alert, decision: Route, payload: Payload, anchor: Anchor | None = None) -> dict[str, Any]:
        """`anchor`: the group's or digest's thread the alert belongs to (incidents/threads.py)."""
        channel = decision.channel or ""
        channel_id = self.channel_id(channel)
        key = incident_key(alert)
        base: dict[str, Any] = {"message_id": alert.message_id, "alarm_name": alert.alarm_name, "channel": channel}
        if key is None:  # no lifecycle (Sentry, unparsed input): a top-level post, as in webhook mode
            result = self._post(channel_id, payload)
            return {**base, "status": "delivered", "outcome": Outcome.POSTED.value, "retries": result.retries}
        hit = self._silence_hit(alert.alarm_name)
        context = self.settings.render_context(alert.region)

        def plan(previous: Incident | None) -> Plan:
            # the silence is applied here, under the lease: an incident opened meanwhile is not silenced
            decided = decide(
                previous,
                alert,
                key=key,
                channel=channel,
                channel_id=channel_id,
                severity=decision.severity,
                payload=payload,
                context=context,
                now=self.now(),
                config=self.settings.lifecycle,
                silenced=hit is not None,
            )
            return in_thread(decided, alert, anchor, payload=payload, context=context)

        applied, retries = self._apply(key, plan)
        outcome = applied.outcome
        status = _STATUS.get(outcome, "delivered")
        if outcome is Outcome.SILENCED and hit is not None:
            self._note_suppressed(hit, key, channel, alert.alarm_name or key)
            self.count("Silenced", 1)
            self.logger.info(
                "silenced",
                extra={"silence_id": hit.silence.id, "reason": hit.silence.reason, "match": hit.silence.match},
            )
            return {**base, "status": status, "outcome": outcome.value, "silence_id": hit.silence.id}
        return {**base, "status": status, "outcome": outcome.value, "retries": retries}

    def thread_of(self, alert: Alert) -> Anchor | None:
        """The thread of the alert's incident while it is open: where the rest of its group replies."""
        key = incident_key(alert)
        incident = self.store.get_incident(key) if key else None
        if incident is None or not incident.open or incident.ts is None:
            return None
        return Anchor(channel_id=incident.channel_id, ts=incident.ts)

    def post(self, channel: str, payload: Payload) -> DeliveryReport:
        """A top-level message that is no incident's (a storm digest)."""
        return self._post(self.channel_id(channel), payload)

    def channel_id(self, channel: str) -> str:
        channel_id = self.bot.channel_ids.get(channel)
        if not channel_id:
            raise DeliveryError(f"no channel id configured for channel {channel!r}", channel=channel)
        return channel_id

    def _silence_hit(self, alarm_name: str | None) -> SilenceHit | None:
        if self._silences is None:
            self._silences = self.store.sweep_silences()  # once per invocation
        now = datetime.fromtimestamp(self.now(), UTC)
        return find_silence(alarm_name, self._silences, self.settings.maintenance_windows, now)

    def _note_suppressed(self, hit: SilenceHit, key: str, channel: str | None, name: str) -> None:
        """Count the suppression (channel given) or only hand the key over, in the silence's record."""

        def change(current: Silence | None) -> Silence | None:
            if current is None:
                return None
            if channel is not None:
                return current.with_suppressed(channel, name, key)
            return None if key in current.keys else replace(current, keys=(*current.keys, key))

        stored = update_with_retry(
            lambda: self.store.get_silence(hit.silence.id) or (hit.silence if hit.window else None),
            change,
            self.store.put_silence,
        )
        if stored is not None and hit.window is not None and self._silences is not None:
            self._silences = [s for s in self._silences if s.id != stored.id] + [stored]

    def _post(self, channel_id: str, payload: Payload, **thread: Any) -> DeliveryReport:
        return self._counted(self.api.post_message(channel_id, payload, **thread))

    def _counted(self, report: DeliveryReport) -> DeliveryReport:
        if report.plain_text_fallback:
            self.count("PlainTextFallbacks", 1)
            self.logger.warning("Slack refused the message: sent as plain text", extra={"channel": report.channel})
        return report

    # --- the claim / post / commit loop -----------------------------------------------------------------------

    def _apply(self, key: str, plan_for: Callable[[Incident | None], Plan]) -> tuple[Plan, int]:
        """Decide, claim, execute, commit; the plan applied (the last one decided) and the Slack retries."""
        owner = uuid.uuid4().hex
        budget = min(self.max_wait_seconds, self.remaining_seconds() - 5.0)
        started = time.monotonic()
        wait = 0.05
        while True:
            previous = self.store.get_incident(key)
            moment = self.now()
            if previous is not None and previous.lease_owner and previous.lease_until > moment:
                if time.monotonic() - started + wait > budget:
                    raise IncidentBusy(f"incident {key} is being updated by another invocation")
                self.sleep(wait)
                wait = min(1.0, wait * 2)
                continue
            expected = previous.version if previous is not None else None
            plan = plan_for(previous)
            for note in plan.notes:
                self.logger.info("incident note", extra={"incident": key, "note": note})
            if plan.incident is None:
                return plan, 0
            if not plan.has_io:
                try:
                    self.store.put_incident(_released(plan.incident), expected)
                except Conflict:
                    continue
                self._record_history(plan, plan.incident)
                return plan, 0
            try:
                claimed = self.store.put_incident(self._claim(previous, plan.incident, owner, moment), expected)
            except Conflict:
                continue
            try:
                final, retries = self._execute(plan)
            except BaseException:
                try:
                    self.store.put_incident(_released(claimed), claimed.version)
                except Conflict:
                    self.logger.warning("lease already taken over", extra={"incident": key})
                raise
            try:
                self.store.put_incident(final, claimed.version)
            except Conflict:
                # every writer holds the lease: only possible when ours expired and another invocation took over
                self.logger.error("incident state not saved: lease expired during delivery", extra={"incident": key})
            self._record_history(plan, final)
            return plan, retries

    def _claim(self, previous: Incident | None, target: Incident, owner: str, moment: float) -> Incident:
        record = previous or Incident(
            key=target.key,
            alarm_name=target.alarm_name,
            channel=target.channel,
            channel_id=target.channel_id,
            severity=target.severity,
            state="",
        )
        # held for this invocation's remaining time (its Slack retries fit in it), at least lease_seconds
        lease = max(self.lease_seconds, min(self.remaining_seconds(), 900.0))
        return replace(record, lease_owner=owner, lease_until=moment + lease)

    def _execute(self, plan: Plan) -> tuple[Incident, int]:
        incident = plan.incident
        assert incident is not None  # _apply only executes plans with a target state
        retries = 0
        reanchored = False
        if plan.silence is not None:
            self._store_silence(plan.silence)
        if plan.end_silence is not None:
            self._end_silence(plan.end_silence)
        if plan.message is not None:
            incident, sent, reanchored = self._send(plan, plan.message, incident)
            retries += sent
        if plan.update is not None and incident.ts is not None and not reanchored:
            incident, sent = self._update_original(incident, plan.update.payload)
            retries += sent
        if plan.notice_update is not None:
            incident, sent = self._update_notice(incident, plan.notice_update.payload)
            retries += sent
        if plan.page:
            incident = self._page(incident)
        return _released(incident), retries

    def _send(self, plan: Plan, step: Step, incident: Incident) -> tuple[Incident, int, bool]:
        """The plan's message; a reply whose parent was deleted becomes a new top-level post (re-anchored)."""
        if step.target is Target.NOTICE:
            return self._send_to_notice(step, incident)
        if step.kind is StepKind.POST:
            opened = plan.outcome is Outcome.OPENED
            result = self._post(
                incident.channel_id, self._controlled(step.payload, incident) if opened else step.payload
            )
            if opened:
                incident = replace(incident, ts=result.ts)
                self.count("IncidentsOpened", 1)
            return incident, result.retries, False
        try:
            result = self._post(incident.channel_id, step.payload, thread_ts=incident.ts, broadcast=step.broadcast)
        except MessageGone:
            if step.reanchor is None:
                self.logger.warning("incident message deleted: this reply is dropped", extra={"incident": incident.key})
                return incident, 0, False
            moved = replace(incident, original=step.reanchor, latest_original=None)
            result = self._post(incident.channel_id, self._controlled(step.reanchor, moved))
            self.count("ReAnchored", 1)
            self.logger.warning(
                "incident message deleted in Slack: posted again top-level, the incident follows the new post",
                extra={"incident": incident.key, "old_ts": incident.ts, "new_ts": result.ts},
            )
            moved = replace(
                moved,
                ts=result.ts,
                original_stale=False,
                pending_update=None,
                anchored=False,  # a message of its own now
            )
            return moved, result.retries, True
        self.count("ThreadReplies", 1)
        if plan.outcome is Outcome.FLAPPING:
            self.count("FlappingNotices", 1)
        if plan.outcome is Outcome.REPEATED:
            self.count("RepeatAnnouncements", 1)
        if plan.outcome is Outcome.ESCALATED:
            self.count("Escalations", 1)
        return incident, result.retries, False

    def _send_to_notice(self, step: Step, incident: Incident) -> tuple[Incident, int, bool]:
        """The monitoring-blind notice (a top-level post in the errors channel) or a reply in its thread."""
        channel_id = incident.notice_channel_id or incident.channel_id
        if step.kind is StepKind.POST:
            result = self._post(channel_id, step.payload)
            self.count("BlindNotices", 1)
            return replace(incident, notice_ts=result.ts, notice_channel_id=channel_id), result.retries, False
        try:
            result = self._post(channel_id, step.payload, thread_ts=incident.notice_ts)
        except MessageGone:
            self.logger.warning("monitoring-blind notice deleted: nothing to clear", extra={"incident": incident.key})
            return _without_notice(incident), 0, False
        return incident, result.retries, False

    def _update_original(self, incident: Incident, payload: Payload) -> tuple[Incident, int]:
        """`payload` is the message without its buttons: they are added for the state the incident leaves."""
        assert incident.ts is not None
        try:
            shown = self._controlled(payload, incident)
            result = self._counted(self.api.update_message(incident.channel_id, incident.ts, shown))
        except MessageGone:
            # deleted in Slack: there is nothing to update, and the next reply re-anchors the incident
            self.logger.warning("incident message deleted: not updated", extra={"incident": incident.key})
            return replace(incident, original_stale=False, pending_update=None, update_attempts=0), 0
        except DeliveryError as error:
            # the thread reply is posted and kept; the sweep repeats the update
            self.count("UpdateFailures", 1)
            self.logger.error("chat.update failed, the sweep will retry", extra={"error": str(error)})
            attempts = incident.update_attempts + 1
            stale = replace(incident, original_stale=True, pending_update=payload, update_attempts=attempts)
            return replace(stale, latest_original=payload), 0
        self.count("Updates", 1)
        updated = replace(incident, original_stale=False, pending_update=None, update_attempts=0)
        return replace(updated, latest_original=payload), result.retries

    def _update_notice(self, incident: Incident, payload: Payload) -> tuple[Incident, int]:
        """Clear the monitoring-blind notice in place: once done (or the notice gone), the record forgets it."""
        if incident.notice_ts is None or incident.notice_channel_id is None:
            return _without_notice(incident), 0
        try:
            result = self._counted(self.api.update_message(incident.notice_channel_id, incident.notice_ts, payload))
        except MessageGone:
            return _without_notice(incident), 0
        except DeliveryError as error:
            self.count("UpdateFailures", 1)
            self.logger.error(
                "clearing the monitoring-blind notice failed, the sweep will retry", extra={"error": str(error)}
            )
            return replace(incident, notice=payload, notice_stale=True), 0
        self.count("Updates", 1)
        return _without_notice(incident), result.retries

    def _controlled(self, payload: Payload, incident: Incident) -> Payload:
        """The incident's first message with the buttons and status line of its state."""
        context = self.settings.render_context(_region(incident.key))
        return with_controls(payload, controls_for(incident, self.now()), context)

    def _store_silence(self, silence: Silence) -> None:
        try:
            self.store.put_silence(silence, None)
        except Conflict:  # stored by an earlier attempt of this click (its id is the click's)
            self.logger.info("silence already stored", extra={"silence_id": silence.id})
        self._silences = None  # read again at the next match

    def _end_silence(self, silence_id: str) -> None:
        moment = datetime.fromtimestamp(self.now(), UTC)
        update_with_retry(
            lambda: self.store.get_silence(silence_id),
            lambda current: expired(current, moment) if current is not None else None,
            self.store.put_silence,
        )
        self._silences = None

    def _page(self, incident: Incident) -> Incident:
        """Publish the escalation to the escalation topic; a failure is kept for the next sweep to repeat."""
        if self.pager is None:
            self.logger.warning("escalation not published: no escalation topic", extra={"incident": incident.key})
            return replace(incident, page_pending=False)
        context = self.settings.render_context(_region(incident.key))
        posted = incident.posted_at or incident.opened_at
        subject, messages = render_escalation_page(
            incident.alarm_name,
            waited=(incident.escalated_at or self.now()) - posted,
            link=_permalink(incident),
            opened_at=incident.opened_at,
            context=context,
        )
        try:
            message_id = self.pager.page(subject, messages)
        except Exception as error:  # botocore's errors, a timeout: the Slack escalation is posted either way
            self.count("EscalationPageFailures", 1)
            self.logger.error(
                "publishing the escalation failed, the next sweep repeats it",
                extra={"incident": incident.key, "error_type": type(error).__name__, "error": str(error)[:300]},
            )
            return replace(incident, page_pending=True)
        self.count("EscalationPages", 1)
        self.logger.info("escalation published", extra={"incident": incident.key, "message_id": message_id})
        return replace(incident, page_pending=False)

    def _record_history(self, plan: Plan, incident: Incident) -> None:
        """The incident history's entries for what the plan applied; a failure never costs the alert."""
        table_writes = 0
        try:
            for entry in history_entries(plan, incident):
                self.store.put_history(entry)
                table_writes += 1
        except Exception as error:  # the table, or an entry the format refuses: logged and counted
            self.count("HistoryWriteFailures", 1)
            self.logger.error(
                "incident history not written",
                extra={"incident": incident.key, "error_type": type(error).__name__, "error": str(error)[:300]},
            )
        if table_writes:
            self.count("HistoryWrites", table_writes)

    # --- a click on an incident's buttons ---------------------------------------------------------------------

    def act(self, action: IncidentAction) -> dict[str, Any]:
        key = action.incident_key
        context = self.settings.render_context(_region(key))

        def plan(previous: Incident | None) -> Plan:
            silence_id = previous.silence_id if previous is not None else None
            silence = self.store.get_silence(silence_id) if silence_id else None
            return plan_action(previous, action, silence=silence, now=self.now(), context=context)

        applied, _ = self._apply(key, plan)
        if applied.answer is not None:
            self._answer(action, applied.answer)
        match applied.outcome:  # each name written out: tests/infra/test_custom_metrics.py reads them here
            case Outcome.ACKNOWLEDGED:
                self.count("Acknowledged", 1)
            case Outcome.SILENCED_FROM_SLACK:
                self.count("SilencedFromSlack", 1)
            case Outcome.UNSILENCED:
                self.count("Unsilenced", 1)
            case Outcome.ANSWERED:
                self.count("ActionsAnswered", 1)
            case Outcome.DUPLICATE:
                self.count("Duplicates", 1)
        result = {
            "action": action.button.action.value,
            "outcome": applied.outcome.value,
            "user": action.user_id,
            "message_ts": action.message_ts,
        }
        self.logger.info("slack action", extra={**result, "incident": key, "action_id": action.action_id})
        return result

    def _answer(self, action: IncidentAction, payload: Payload) -> None:
        """The clicking user's private answer; if Slack refuses it, said in the clicked message's thread."""
        try:
            if self.answers is None:
                raise DeliveryError("no client for private answers", channel=action.channel_id)
            self.answers.answer(action.response_url, payload, channel=action.channel_id)
            return
        except DeliveryError as error:
            self.count("AnswerFallbacks", 1)
            self.logger.warning(
                "private answer failed: said in the thread instead",
                extra={"error_type": type(error).__name__, "error": str(error)},
            )
        note = {"text": f"{mention(action.user_id)} {payload.get('text', '')}"}
        try:
            self._post(action.channel_id, note, thread_ts=action.message_ts)
        except DeliveryError as error:
            self.logger.error(
                "the answer to a click reached nobody", extra={"error_type": type(error).__name__, "error": str(error)}
            )

    # --- the scheduled sweep ------------------------------------------------------------------------------------

    def sweep(self) -> dict[str, Any]:
        moment = self.now()
        now = datetime.fromtimestamp(moment, UTC)
        silences = self.store.sweep_silences()
        self._silences = silences
        outcomes: dict[str, int] = {}
        failures: list[str] = []
        summaries = 0
        for silence in silences:  # first: what they announce counts in the gauge
            if silence.summary_due(moment):
                try:
                    summaries += self._summarise(silence.id, moment)
                except (DeliveryError, IncidentBusy, Conflict) as error:
                    failures.append(f"silence {silence.id}: {error}")
        open_incidents = 0
        for listed in self.store.sweep_incidents():
            silenced = find_silence(listed.alarm_name, silences, self.settings.maintenance_windows, now) is not None
            context = self.settings.render_context(_region(listed.key))

            def plan(previous: Incident | None, silenced: bool = silenced, context: Any = context) -> Plan:
                if previous is None or not previous.state:
                    return Plan(Outcome.IDLE, None)
                return plan_sweep(
                    previous, now=moment, silenced=silenced, config=self.settings.lifecycle, context=context
                )

            try:
                outcome = self._apply(listed.key, plan)[0].outcome
            except (DeliveryError, IncidentBusy, Conflict) as error:
                failures.append(f"{listed.alarm_name}: {error}")
                open_incidents += 1 if listed.open else 0
                continue
            outcomes[outcome.value] = outcomes.get(outcome.value, 0) + 1
            current = self.store.get_incident(listed.key)
            open_incidents += 1 if current is not None and current.open else 0
        self.count("OpenIncidents", open_incidents)
        self.count("SweepFailures", len(failures))
        if failures:
            self.logger.error(
                "sweep incomplete, the next sweep retries",
                extra={"failures": len(failures), "errors": failures[:20], "outcomes": outcomes},
            )
        return {
            "sweep": "done" if not failures else "incomplete",
            "open_incidents": open_incidents,
            "outcomes": outcomes,
            "summaries": summaries,
            "failures": len(failures),
        }

    def _summarise(self, silence_id: str, moment: float) -> int:
        """Mark summarised first (conditional: one sweep wins), announce what is still in ALARM, post the
        summaries; undo the mark if Slack fails (announcements are idempotent: an open incident is skipped)."""

        def mark(current: Silence | None) -> Silence | None:
            if current is None or not current.summary_due(moment):
                return None
            return replace(current, summarised=True)

        stored = update_with_retry(lambda: self.store.get_silence(silence_id), mark, self.store.put_silence)
        if stored is None or not stored.summarised:
            return 0
        posted = 0
        context = self.settings.render_context(None)
        try:
            if stored.incident_key is not None:  # set from an incident's buttons: said in its thread first
                here = self.settings.render_context(_region(stored.incident_key))

                def ended(previous: Incident | None) -> Plan:
                    return plan_silence_ended(previous, silence_id, now=moment, context=here)

                self._apply(stored.incident_key, ended)
            alarming: dict[str, list[str]] = {}
            for key in stored.keys:
                still = self._announce_after_silence(key, moment)
                if still is not None:
                    alarming.setdefault(still.channel, []).append(still.alarm_name)
            for channel, counts in sorted(stored.suppressed.items()):
                payload = render_silence_summary(
                    reason=stored.reason,
                    match=stored.match,
                    starts_at=stored.starts_at,
                    until=stored.until,
                    counts=counts,
                    context=context,
                    still_alarming=alarming.get(channel, ()),
                )
                self._post(self.channel_id(channel), payload)
                posted += 1
        except (DeliveryError, IncidentBusy, Conflict):
            update_with_retry(
                lambda: self.store.get_silence(silence_id),
                lambda current: replace(current, summarised=False) if current is not None else None,
                self.store.put_silence,
            )
            raise
        self.logger.info(
            "silence summarised",
            extra={
                "silence_id": silence_id,
                "channels": posted,
                "suppressed": stored.suppressed_total,
                "still_in_alarm": sum(len(names) for names in alarming.values()),
            },
        )
        return posted

    def _announce_after_silence(self, key: str, moment: float) -> Incident | None:
        """Open (top-level post) a kept-back ALARM still in ALARM; the incident when it is open in ALARM now."""
        current = self.store.get_incident(key)
        if current is not None and not current.open and current.state == State.ALARM.value and current.held:
            other = self._silence_hit(current.alarm_name)
            if other is not None:  # another silence still covers it: that one announces it when it ends
                self._note_suppressed(other, key, None, current.alarm_name)
                return None

            def plan(previous: Incident | None) -> Plan:
                return plan_after_silence(previous, now=moment) if previous is not None else Plan(Outcome.IDLE, None)

            self._apply(key, plan)
            current = self.store.get_incident(key)
        return current if current is not None and current.open and current.state == State.ALARM.value else None


def _released(incident: Incident) -> Incident:
    return replace(incident, lease_owner=None, lease_until=0.0)


def _without_notice(incident: Incident) -> Incident:
    return replace(incident, notice_channel_id=None, notice_ts=None, notice=None, blind_since=None, notice_stale=False)


def _permalink(incident: Incident) -> str | None:
    """A link to the incident's message (Slack redirects it into the workspace of whoever opens it)."""
    if incident.ts is None:
        return None
    return f"https://slack.com/archives/{incident.channel_id}/p{incident.ts.replace('.', '')}"


def _region(key: str) -> str | None:
    """arn:aws:cloudwatch:<region>:... -> region (for the dashboard link in re-rendered originals)."""
    parts = key.split(":")
    return parts[3] if key.startswith("arn:") and len(parts) > 3 else None
