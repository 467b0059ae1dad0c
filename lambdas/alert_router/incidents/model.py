"""Bot-token mode's incident records and plans: what is stored per alarm, and what one decision asks the
I/O loop (loop.py) to do: at most one message (a top-level post or a thread reply), and at most one update
of the incident's first message and one of its monitoring-blind notice.

Keys: a CloudWatch alarm's ARN (else account/region/name); a Sentry metric alert's rule
(`sentry:metric-alert:<rule id>`, so critical/warning -> resolved thread like ALARM -> OK). Sentry issue
alerts have no key: our intake never hears that an issue is resolved, so an incident would never close.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from typing import Any

from lambdas.alert_router.incidents.silences import Silence
from lambdas.alert_router.models import Alert, Payload, SourceKind
from lambdas.shared.incident_history import HistoryEntry

APPLIED_KEPT = 20  # message ids remembered per alarm (a bound on the item's size); SNS redelivers within minutes


@dataclass(frozen=True)
class LifecycleConfig:
    repeat_interval_seconds: int = 3600
    flapping_transitions: int = 4  # more than this many changes within the window is flapping
    flapping_window_seconds: int = 1800
    # Escalation: a critical incident nobody acknowledged this long after its post is re-announced (None: off)
    escalate_after_seconds: int | None = None
    escalation_group: str | None = None  # the Slack user group mentioned then (S...)
    escalation_paged: bool = False  # and published to the escalation topic


@dataclass(frozen=True)
class Incident:
    key: str
    alarm_name: str
    channel: str  # channel name (route), for metrics and logs
    channel_id: str
    severity: str
    state: str  # last state applied
    open: bool = False
    ts: str | None = None  # the top-level message of the current/last incident
    original: Payload | None = None  # that message's payload, the base of chat.update
    original_stale: bool = False  # the last chat.update failed; the sweep repeats it
    pending_update: Payload | None = None  # that update, as it should have been
    update_attempts: int = 0
    opened_at: float = 0.0
    resolved_at: float | None = None
    last_change_at: float = 0.0  # of the last state *change* (flapping, "stable again")
    latest_at: float = 0.0  # the newest state-change time applied, same-state repeats included (ordering)
    transitions: tuple[float, ...] = ()
    announced_at: float = 0.0  # last (re-)announcement, for repeats
    repeats: int = 0
    flapping: bool = False
    applied: tuple[str, ...] = ()
    held: Payload | None = None  # an ALARM a silence kept back, posted if still in ALARM when it ends
    # In the thread of a group's lead or of a storm digest (issue 13): that message speaks for it, so it
    # has no first message of its own to update and is not re-announced on its own.
    anchored: bool = False
    # The monitoring-blind notice (INSUFFICIENT_DATA) in the errors channel, while it is up or being cleared
    notice_channel_id: str | None = None
    notice_ts: str | None = None
    notice: Payload | None = None  # what it shows, or (notice_stale) what it must be updated to
    blind_since: float | None = None
    notice_stale: bool = False  # clearing it failed; the sweep repeats the update
    # What people did from Slack (issue 14); reset when a new incident opens
    opened_from: str = ""  # the state before the ALARM that opened it (its history entry is put again on ack)
    posted_at: float = 0.0  # when its first message was posted: escalation counts from there
    latest_original: Payload | None = None  # the first message as last updated (the base of the next update)
    acked_by: str | None = None  # Slack user id
    acked_name: str | None = None
    acked_at: float | None = None
    silence_id: str | None = None  # a silence set from its buttons, while it lasts
    silenced_by: str | None = None
    silenced_until: float | None = None
    silence_until_resolved: bool = False
    escalated_at: float | None = None
    page_pending: bool = False  # publishing the escalation failed; the sweep repeats it
    lease_owner: str | None = None
    lease_until: float = 0.0
    version: int = 0  # store-managed, for conditional writes

    @property
    def needs_sweep(self) -> bool:
        """Open, flapping or with a stale original or notice: the sweep has something to check."""
        return self.open or self.flapping or self.original_stale or self.notice_stale

    def without_silence(self) -> Incident:
        """The incident with no silence of its buttons (ended, unsilenced, or a new incident)."""
        return replace(self, silence_id=None, silenced_by=None, silenced_until=None, silence_until_resolved=False)

    def to_data(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("version")
        return data

    @classmethod
    def from_data(cls, data: Mapping[str, Any], version: int) -> Incident:
        values = dict(data)
        values["transitions"] = tuple(float(t) for t in values.get("transitions", ()))
        values["applied"] = tuple(str(m) for m in values.get("applied", ()))
        known = {name for name in cls.__dataclass_fields__ if name != "version"}
        return cls(**{k: v for k, v in values.items() if k in known}, version=version)


@dataclass(frozen=True)
class Anchor:
    """The thread an alert joins instead of opening its own top-level message: a group's, or a digest's
    (`quiet`: the digest names it, so its state is recorded and nothing is posted in the thread)."""

    channel_id: str
    ts: str
    quiet: bool = False


@dataclass(frozen=True)
class GroupThread:
    """The open thread of a group of alarms (bot-token mode): a later member within the join window
    replies there while the lead's incident is open."""

    key: str  # the group key (grouping/keys.py)
    channel_id: str
    ts: str
    lead: str  # the lead alarm's incident key
    last_joined_at: float
    version: int = 0

    def to_data(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("version")
        return data

    @classmethod
    def from_data(cls, data: Mapping[str, Any], version: int) -> GroupThread:
        known = {name for name in cls.__dataclass_fields__ if name != "version"}
        return cls(**{k: v for k, v in data.items() if k in known}, version=version)


class StepKind(StrEnum):
    POST = "post"  # top-level message; its ts becomes the incident's (or the notice's)
    REPLY = "reply"  # in the incident's (or the notice's) thread
    UPDATE = "update"  # chat.update of the original (or of the notice)


class Target(StrEnum):
    INCIDENT = "incident"  # the incident's channel and first message
    NOTICE = "notice"  # the monitoring-blind notice, in the errors channel


@dataclass(frozen=True)
class Step:
    kind: StepKind
    payload: Payload
    broadcast: bool = False
    target: Target = Target.INCIDENT
    # a reply whose thread was deleted is posted top-level as this instead, and the incident re-anchored on it
    reanchor: Payload | None = None


class Outcome(StrEnum):
    OPENED = "opened"
    REPLIED = "thread-reply"
    RESOLVED = "resolved"
    FLAPPING = "flapping"
    POSTED = "posted"  # top-level, no incident (INSUFFICIENT_DATA, unknown OK)
    NOTHING = "nothing-to-resolve"
    DUPLICATE = "duplicate"
    REPEATED = "repeated"
    STABLE = "stable-again"
    REPAIRED = "original-updated"
    ACKNOWLEDGED = "acknowledged"
    SILENCED_FROM_SLACK = "silenced-from-slack"
    UNSILENCED = "unsilenced"
    SILENCE_ENDED = "silence-ended"
    ESCALATED = "escalated"
    PAGED = "escalation-paged"  # the escalation topic, published again after a failure
    ANSWERED = "answered"  # a click that changes nothing: the user gets a private answer
    IDLE = "idle"
    LATE = "late-ignored"  # older than the newest notification applied
    SILENCED = "silenced"
    BLIND = "monitoring-blind"  # INSUFFICIENT_DATA: the notice posted
    DATA_BACK = "data-back"  # the notice cleared
    JOINED = "joined-group"  # opened in a group's or a digest's thread


@dataclass(frozen=True)
class StateChange:
    """A state change applied to an incident: its incident-history entry (lambdas/shared/incident_history.py)."""

    old_state: str
    new_state: str
    at: float  # the alarm's StateChangeTime


@dataclass(frozen=True)
class Plan:
    outcome: Outcome
    incident: Incident | None  # the state to commit once the message step succeeded
    message: Step | None = None
    update: Step | None = None  # of the incident's first message
    notice_update: Step | None = None  # of the monitoring-blind notice
    notes: tuple[str, ...] = field(default_factory=tuple)
    change: StateChange | None = None  # the state change this plan applies, recorded in the incident history
    silence: Silence | None = None  # a silence to store before the message (set from a button)
    end_silence: str | None = None  # a silence to end before the message (unsilenced, or resolved)
    page: bool = False  # publish the escalation to the escalation topic after the message
    answer: Payload | None = None  # a private answer to the clicking user, after the commit

    @property
    def has_io(self) -> bool:
        """Anything to do besides storing the state: then the incident is claimed first."""
        steps = (self.message, self.update, self.notice_update, self.silence, self.end_silence)
        return self.page or any(step is not None for step in steps)


def history_entries(plan: Plan, incident: Incident) -> list[HistoryEntry]:
    """The incident-history entries for what `plan` applied, `incident` being the state committed: one for a
    state change (with the thread's ts), and for an acknowledgement the ALARM entry that opened the incident
    again, with who and when (same key: it replaces the first)."""
    entries = []
    if plan.change is not None:
        change = plan.change
        entries.append(
            HistoryEntry(
                alarm_key=incident.key,
                alarm_name=incident.alarm_name,
                state=change.new_state,
                old_state=change.old_state,
                changed_at=change.at,
                message_ts=incident.ts,
            )
        )
    if plan.outcome is Outcome.ACKNOWLEDGED and incident.acked_at is not None:
        entries.append(
            HistoryEntry(
                alarm_key=incident.key,
                alarm_name=incident.alarm_name,
                state="ALARM",
                old_state=incident.opened_from or "OK",
                changed_at=incident.opened_at,
                message_ts=incident.ts,
                acked_by=incident.acked_name or incident.acked_by,
                acked_at=incident.acked_at,
            )
        )
    return entries


def incident_key(alert: Alert) -> str | None:
    """The alarm's identity; None for what has no lifecycle (Sentry issue alerts, unparsed input, no name)."""
    if alert.state is None:
        return None
    if alert.source is SourceKind.SENTRY:
        facts = alert.sentry
        rule = facts.alert_rule_id if facts is not None and facts.resource == "metric_alert" else None
        return f"sentry:metric-alert:{rule}" if rule else None
    if alert.source not in (SourceKind.SNS_ALARM, SourceKind.EVENTBRIDGE_ALARM):
        return None
    if alert.alarm_arn:
        return alert.alarm_arn
    if not alert.alarm_name:
        return None
    return "alarm:" + ":".join(part for part in (alert.account, alert.region, alert.alarm_name) if part)


def dumps(data: Mapping[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))
