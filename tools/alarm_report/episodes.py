"""Transitions + period -> ALARM episodes per alarm (pure).

An episode runs from a transition into ALARM to the next transition out of it.
- Still in ALARM at the end of the period: the episode is open (end None), never counted as resolved.
- Already in ALARM at the start (the state after the last change before the period, else the old state of
  the first change in it): the episode is counted from the period start and marked `started_before`; it
  is not a firing of this period.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from tools.alarm_report.history import ALARM, Transition


@dataclass(frozen=True)
class Period:
    since: datetime
    until: datetime

    def __post_init__(self) -> None:
        if self.until <= self.since:
            raise ValueError(f"the period ends ({self.until:%Y-%m-%d %H:%M}) before it starts")

    @property
    def days(self) -> float:
        return (self.until - self.since) / timedelta(days=1)


@dataclass(frozen=True)
class Episode:
    alarm_name: str
    start: datetime
    end: datetime | None  # None: still in ALARM at the end of the period
    started_before: bool = False

    @property
    def open(self) -> bool:
        return self.end is None

    def duration(self, period: Period) -> timedelta:
        return (self.end or period.until) - self.start

    def overlaps(self, start: datetime, end: datetime) -> bool:
        """True when the episode shares time with [start, end] (an open one lasts past any end)."""
        return self.start <= end and (self.end is None or self.end >= start)


@dataclass(frozen=True)
class Episodes:
    by_alarm: dict[str, list[Episode]]
    outside_period: int  # transitions after the period or before it (used only for the starting state)


def build_episodes(transitions: Iterable[Transition], period: Period) -> Episodes:
    grouped: dict[str, list[Transition]] = defaultdict(list)
    for transition in transitions:
        grouped[transition.alarm_name].append(transition)
    outside = 0
    by_alarm = {}
    for name, items in sorted(grouped.items()):
        items.sort(key=lambda t: t.at)
        before = [t for t in items if t.at < period.since]
        inside = [t for t in items if period.since <= t.at <= period.until]
        outside += len(items) - len(inside)
        by_alarm[name] = episodes_of(name, inside, period, state_before=before[-1].new_state if before else None)
    return Episodes(by_alarm, outside)


def episodes_of(
    name: str, transitions: Sequence[Transition], period: Period, *, state_before: str | None = None
) -> list[Episode]:
    """Episodes of one alarm from its transitions inside the period, oldest first."""
    initial = state_before or (transitions[0].old_state if transitions else None)
    episodes: list[Episode] = []
    opened: datetime | None = period.since if initial == ALARM else None
    started_before = opened is not None
    for transition in transitions:
        if transition.new_state == ALARM and opened is None:
            opened, started_before = transition.at, False
        elif transition.new_state != ALARM and opened is not None:
            episodes.append(Episode(name, opened, transition.at, started_before))
            opened = None
    if opened is not None:
        episodes.append(Episode(name, opened, None, started_before))
    return episodes
