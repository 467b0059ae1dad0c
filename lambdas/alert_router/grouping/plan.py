"""The routed alerts of one batch -> the messages to post: groups (one per fault) and storm digests.

- Alerts with the same group key and the same state (ALARM, or OK: recoveries group the same way) form
  one group. Its lead is the most severe member (then the earliest, then by name); the group posts one
  message, in the lead's channel.
- Inhibition: a member routed to another channel is named in the group message and does not also post
  in its own channel; with `inhibit` off it does (an echo: a message of its own as well).
- Storms: a channel that would receive more than `storm_threshold` alerts from one batch gets one digest
  (with continuations when Slack's limits need them) instead of a message per group.
- Deliveries are ordered most severe first, so a page is not queued behind a warning; otherwise in the
  order of the batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from lambdas.alert_router.grouping.keys import GroupingConfig, group_key
from lambdas.alert_router.models import Alert
from lambdas.alert_router.routing.route import Route
from lambdas.shared.alarm_metadata import Severity, parse_alarm_metadata

SEVERITY_RANK = {Severity.CRITICAL: 0, Severity.WARNING: 1, Severity.INFO: 2}
_EPOCH = datetime.fromtimestamp(0, UTC)


@dataclass(frozen=True)
class Routed:
    """An alert and where routing sends it (never suppressed: those are not delivered at all)."""

    alert: Alert
    route: Route

    @property
    def channel(self) -> str:
        assert self.route.channel is not None  # suppressed alerts never reach grouping
        return self.route.channel

    @property
    def rank(self) -> tuple[int, datetime, str]:
        return (
            SEVERITY_RANK[self.route.severity],
            self.alert.state_change_time or _EPOCH,
            self.alert.alarm_name or self.alert.message_id or "",
        )


@dataclass(frozen=True)
class Group:
    """One message: the lead's, naming every member. A group of one is exactly the alert's own message."""

    channel: str
    members: tuple[Routed, ...]  # the lead first
    key: str | None = None
    echoes: tuple[Routed, ...] = ()  # members that also post on their own (inhibition off)

    @property
    def lead(self) -> Routed:
        return self.members[0]

    @property
    def fault(self) -> str | None:
        """The cause a member names (`Fault:` line), the most severe such member's."""
        return next((f for m in self.members if (f := parse_alarm_metadata(m.alert.description).fault)), None)

    @property
    def folded(self) -> tuple[Routed, ...]:
        """Members whose own channel is not the group's: posted only here (inhibited), unless echoed."""
        return tuple(member for member in self.members if member.channel != self.channel)


@dataclass(frozen=True)
class Digest:
    """A storm in one channel: every group of the batch for that channel, in one digest."""

    channel: str
    groups: tuple[Group, ...] = field(default_factory=tuple)

    @property
    def members(self) -> tuple[Routed, ...]:
        return tuple(member for group in self.groups for member in group.members)


Delivery = Group | Digest


def plan_deliveries(routed: Sequence[Routed], config: GroupingConfig) -> list[Delivery]:
    """Group, fold and digest; every alert of `routed` is in at least one delivery (none is dropped)."""
    by_key: dict[tuple[str, str], list[Routed]] = {}
    groups: list[Group] = []
    for item in routed:
        key = group_key(item.alert, item.route, config)
        if key is None:
            groups.append(Group(channel=item.channel, members=(item,)))
        else:
            by_key.setdefault((key, item.alert.state or ""), []).append(item)
    for (key, _state), items in by_key.items():
        members = tuple(sorted(items, key=lambda m: m.rank))
        group = Group(channel=members[0].channel, members=members, key=key)
        echoes = () if config.inhibit else group.folded
        groups.append(Group(channel=group.channel, members=members, key=key, echoes=echoes))
        # an echo is the member's own message, outside the group (no key: it opens no group thread)
        groups += [Group(channel=echo.channel, members=(echo,)) for echo in echoes]
    counts: dict[str, int] = {}
    for group in groups:
        counts[group.channel] = counts.get(group.channel, 0) + len(group.members)
    stormy = {channel for channel, count in counts.items() if count > config.storm_threshold}
    deliveries: list[Delivery] = [group for group in groups if group.channel not in stormy]
    for channel in sorted(stormy):
        inside = tuple(sorted((g for g in groups if g.channel == channel), key=lambda g: g.lead.rank))
        deliveries.append(Digest(channel=channel, groups=inside))
    return sorted(deliveries, key=_urgency)


def _urgency(delivery: Delivery) -> int:
    """Most severe first; otherwise the batch's order (the sort is stable)."""
    return min(SEVERITY_RANK[member.route.severity] for member in delivery.members)
