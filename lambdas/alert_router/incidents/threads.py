"""Bot-token mode's groups and digests (issue 13): one thread per fault, one digest per storm.

A group of alarms (grouping/plan.py) is delivered as:
- its lead through the usual lifecycle, with the group message as its payload: a new incident's first
  message is the group message, and the lead's thread is the group's;
- every other member as an incident anchored in that thread (a reply, `decide`'s anchor rule);
- the thread remembered as the group's (`GroupThread`), so a member arriving in a later batch, within the
  join window and while the lead's incident is open, replies there instead of posting a new message. A
  member routed to a more urgent channel than the thread's (a critical after a warning) never joins: it
  leads a new thread, where it pages.
A storm digest is posted top-level (no incident of its own), and each alert it names is recorded as an
incident in the digest's thread without a post of its own (a quiet anchor).

Each member's outcome is reported on its own: a member whose reply failed is retried by SQS without the
rest of its group posting again.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from lambdas.alert_router.grouping.plan import Digest, Group, Routed
from lambdas.alert_router.incidents.loop import Lifecycle
from lambdas.alert_router.incidents.model import Anchor, GroupThread, incident_key
from lambdas.alert_router.incidents.store import update_with_retry
from lambdas.alert_router.models import Payload

Outcome = tuple[Routed, dict[str, Any] | Exception]


def deliver_group(
    lifecycle: Lifecycle,
    group: Group,
    *,
    group_payload: Payload,
    payload_of: Callable[[Routed], Payload],
    join_window_seconds: float,
) -> list[Outcome]:
    """The group's members through the lifecycle: the lead opens (or continues) the thread, the rest join."""
    outcomes: list[Outcome] = []
    anchor, lead_key = _open_thread(lifecycle, group, join_window_seconds)
    members = [m for m in group.members if not any(m is echo for echo in group.echoes)]
    if anchor is None:
        lead, members = members[0], members[1:]
        outcomes.append(_attempt(lambda: lifecycle.handle(lead.alert, lead.route, group_payload), lead))
        anchor, lead_key = lifecycle.thread_of(lead.alert), incident_key(lead.alert)
    if anchor is not None and group.key is not None and lead_key is not None:
        _remember(lifecycle, group.key, anchor, lead_key)
    for member in members:
        outcomes.append(
            _attempt(partial(lifecycle.handle, member.alert, member.route, payload_of(member), anchor), member)
        )
    return outcomes


def deliver_digest(
    lifecycle: Lifecycle, digest: Digest, *, pages: list[Payload], payload_of: Callable[[Routed], Payload]
) -> list[Outcome]:
    """The digest top-level, then each alert it names recorded in its thread (nothing more posted)."""
    try:
        reports = [lifecycle.post(digest.channel, page) for page in pages]
    except Exception as error:  # the digest did not get through: every member is retried
        return [(member, error) for member in digest.members]
    first = reports[0]
    if first.ts is None:  # Slack always answers a post with its ts; without one there is no thread to keep
        return [(member, {**_base(member), "status": "delivered", "outcome": "digest"}) for member in digest.members]
    anchor = Anchor(channel_id=lifecycle.channel_id(digest.channel), ts=first.ts, quiet=True)
    return [
        _attempt(partial(lifecycle.handle, member.alert, member.route, payload_of(member), anchor), member)
        for member in digest.members
    ]


def _open_thread(lifecycle: Lifecycle, group: Group, window: float) -> tuple[Anchor | None, str | None]:
    """The group's thread when a later member may join it: in the lead's channel, recent, lead still open."""
    if group.key is None:
        return None, None
    thread = lifecycle.store.get_group(group.key)
    if thread is None or lifecycle.now() - thread.last_joined_at > window:
        return None, None
    if thread.channel_id != lifecycle.channel_id(group.channel):
        return None, None
    lead = lifecycle.store.get_incident(thread.lead)
    if lead is None or not lead.open or lead.ts != thread.ts:
        return None, None
    return Anchor(channel_id=thread.channel_id, ts=thread.ts), thread.lead


def _remember(lifecycle: Lifecycle, key: str, anchor: Anchor, lead_key: str) -> None:
    moment = lifecycle.now()

    def change(_current: GroupThread | None) -> GroupThread:
        return GroupThread(key=key, channel_id=anchor.channel_id, ts=anchor.ts, lead=lead_key, last_joined_at=moment)

    update_with_retry(lambda: lifecycle.store.get_group(key), change, lifecycle.store.put_group)


def _attempt(action: Callable[[], dict[str, Any]], member: Routed) -> Outcome:
    try:
        return member, action()
    except Exception as error:  # reported per member: the handler logs, counts and retries it
        return member, error


def _base(member: Routed) -> dict[str, Any]:
    return {"message_id": member.alert.message_id, "alarm_name": member.alert.alarm_name, "channel": member.channel}
