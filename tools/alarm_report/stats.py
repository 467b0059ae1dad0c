"""Episodes -> per-alarm statistics and the noise ranking (pure).

Definitions (the report states them):
- firing: a transition into ALARM inside the period (an episode already open at the start is not one);
- flap: a firing that resolved within `flap_minutes`;
- time in ALARM: every episode's time inside the period, open ones up to the period end;
- median duration: of resolved episodes; longest: of all, an open one up to the period end;
- acknowledged: the incident history (bot-token mode) has the ALARM entry that opened the episode with
  `acked_at` set; firings without such an entry count as "without action" but not in the share;
- noise score: each firing without action weighs `flap_weight` if it was a flap, else `other_weight`;
  acknowledged firings weigh nothing. Noisiest first: score, then firings, then time in ALARM, then name;
- ticket: at least `ticket_firings` firings without action within any `ticket_days` days (the incident
  response guide's rule).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from lambdas.shared.incident_history import HistoryEntry
from tools.alarm_report.episodes import Episode, Period
from tools.alarm_report.history import ALARM

# The opening ALARM entry and CloudWatch's history item carry the same StateChangeTime; allow for rounding.
ENTRY_MATCH_SECONDS = 60


@dataclass(frozen=True)
class NoiseRule:
    flap_minutes: int = 10
    flap_weight: int = 3
    other_weight: int = 1
    stuck_hours: int = 24
    ticket_firings: int = 2
    ticket_days: int = 7

    def describe(self) -> str:
        return (
            f"noise score = {self.flap_weight} per firing that resolved within {self.flap_minutes} min without"
            f" action + {self.other_weight} per other firing without action (acknowledged firings count 0);"
            " ties by firings, then time in ALARM"
        )


@dataclass(frozen=True)
class AlarmStats:
    name: str
    firings: int
    flaps: int
    flaps_per_day: float
    time_in_alarm: timedelta
    median: timedelta | None
    longest: timedelta | None
    longest_open: bool
    open_since: datetime | None  # in ALARM at the end of the period since then
    open_before_period: bool  # that open episode (or another) began before the period
    acknowledged: int | None  # None: no incident history was read
    ack_covered: int  # firings the incident history has an ALARM entry for
    without_action: int
    hours: tuple[int, ...]  # firings per hour of day in the display time zone
    score: int
    ticket: bool

    @property
    def ack_share(self) -> str:
        if self.acknowledged is None:
            return "n/a"
        if self.ack_covered == 0:
            return "n/a" if self.firings == 0 else "not recorded"
        return f"{self.acknowledged}/{self.ack_covered} ({self.acknowledged / self.ack_covered:.0%})"

    def stuck(self, period: Period, rule: NoiseRule) -> bool:
        return self.open_since is not None and period.until - self.open_since >= timedelta(hours=rule.stuck_hours)


def entries_by_alarm(entries: Iterable[HistoryEntry]) -> dict[str, list[HistoryEntry]]:
    grouped: dict[str, list[HistoryEntry]] = defaultdict(list)
    for entry in entries:
        grouped[entry.alarm_name].append(entry)
    return grouped


def opening_entry(episode: Episode, entries: Sequence[HistoryEntry]) -> HistoryEntry | None:
    """The incident history's ALARM entry that opened this episode, if the router recorded it."""
    start = episode.start.timestamp()
    found = [e for e in entries if e.state == ALARM and abs(e.changed_at - start) <= ENTRY_MATCH_SECONDS]
    return min(found, key=lambda e: abs(e.changed_at - start)) if found else None


def alarm_stats(
    name: str,
    *,
    episodes: Sequence[Episode],
    period: Period,
    zone: ZoneInfo,
    rule: NoiseRule,
    history: Sequence[HistoryEntry] | None,
) -> AlarmStats:
    """`history`: this alarm's incident history entries, or None when no incident history was read."""
    firings = [e for e in episodes if not e.started_before]
    flap_limit = timedelta(minutes=rule.flap_minutes)
    flaps = [e for e in firings if e.end is not None and e.duration(period) <= flap_limit]
    resolved = [e.duration(period) for e in episodes if e.end is not None]
    longest = max(episodes, key=lambda e: e.duration(period), default=None)
    opened = [e for e in episodes if e.open]
    entries = [opening_entry(e, history) if history is not None else None for e in firings]
    acted = [entry is not None and entry.acked_at is not None for entry in entries]
    hours = [0] * 24
    for episode in firings:
        hours[episode.start.astimezone(zone).hour] += 1
    without_action = [episode for episode, done in zip(firings, acted, strict=True) if not done]
    flap_ids = {id(e) for e in flaps}
    score = sum(rule.flap_weight if id(e) in flap_ids else rule.other_weight for e in without_action)
    return AlarmStats(
        name=name,
        firings=len(firings),
        flaps=len(flaps),
        flaps_per_day=len(flaps) / period.days,
        time_in_alarm=sum((e.duration(period) for e in episodes), timedelta()),
        median=timedelta(seconds=statistics.median(d.total_seconds() for d in resolved)) if resolved else None,
        longest=longest.duration(period) if longest else None,
        longest_open=bool(longest and longest.open),
        open_since=opened[-1].start if opened else None,
        open_before_period=any(e.started_before for e in episodes),
        acknowledged=None if history is None else sum(acted),
        ack_covered=sum(entry is not None for entry in entries),
        without_action=len(without_action),
        hours=tuple(hours),
        score=score,
        ticket=_most_within([e.start for e in without_action], timedelta(days=rule.ticket_days)) >= rule.ticket_firings,
    )


def _most_within(times: Sequence[datetime], window: timedelta) -> int:
    """The largest number of `times` inside any window of this length."""
    ordered = sorted(times)
    return max((sum(1 for t in ordered[i:] if t - start < window) for i, start in enumerate(ordered)), default=0)


def all_stats(
    episodes: Mapping[str, Sequence[Episode]],
    *,
    alarm_names: Iterable[str],
    period: Period,
    zone: ZoneInfo,
    rule: NoiseRule,
    history: Iterable[HistoryEntry] | None,
) -> list[AlarmStats]:
    """Every known alarm (those with no episodes too), noisiest first."""
    grouped = entries_by_alarm(history) if history is not None else None
    names = sorted(set(alarm_names) | set(episodes))
    found = [
        alarm_stats(
            name,
            episodes=episodes.get(name, []),
            period=period,
            zone=zone,
            rule=rule,
            history=None if grouped is None else grouped.get(name, []),
        )
        for name in names
    ]
    return sorted(found, key=lambda s: (-s.score, -s.firings, -s.time_in_alarm, s.name))
