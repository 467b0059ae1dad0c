"""What the report says, as data: built from transitions, the incident history and the tuning results (pure)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from lambdas.shared.incident_history import HistoryEntry
from tools.alarm_report.episodes import Episode, Period, build_episodes
from tools.alarm_report.history import Transition
from tools.alarm_report.stats import AlarmStats, NoiseRule, all_stats
from tools.alarm_report.tuning import Suggestion, TuningRule


@dataclass(frozen=True)
class TuningView:
    """One alarm's tuning result as the report shows it."""

    alarm_name: str
    suggestion: Suggestion | None = None
    note: str | None = None  # why there is no replay, or what the suggestion cannot do
    diff: str | None = None  # the change to config/<env>.yaml
    also_changes: tuple[str, ...] = ()  # other alarms the same key drives


@dataclass(frozen=True)
class Report:
    title: str
    prefix: str  # common name prefix, left out of the table and the pictures
    period: Period
    zone: ZoneInfo
    rule: NoiseRule
    tuning_rule: TuningRule
    stats: list[AlarmStats]
    episodes: dict[str, list[Episode]]
    sources: list[str]
    notes: list[str]
    acknowledgements: str  # where the acknowledged column comes from, or why it is n/a
    tuning: list[TuningView] = field(default_factory=list)
    tuning_skipped: str | None = None  # why no suggestions were computed at all
    alarms_complete: bool = True  # the alarm list is the stack's (else: only those in the history)

    def short(self, name: str) -> str:
        return name.removeprefix(self.prefix) if self.prefix and name != self.prefix else name

    @property
    def fired(self) -> list[AlarmStats]:
        return [s for s in self.stats if s.firings or s.time_in_alarm]


def common_prefix(names: Iterable[str]) -> str:
    """`<service>-<env>-` when every name shares it (cut at the last dash), else ''."""
    ordered = sorted(names)
    if len(ordered) < 2:
        return ordered[0].rsplit("-", 1)[0] + "-" if ordered and "-" in ordered[0] else ""
    first, last = ordered[0], ordered[-1]
    shared = next((i for i, (a, b) in enumerate(zip(first, last, strict=False)) if a != b), min(len(first), len(last)))
    cut = first[:shared].rfind("-")
    return first[: cut + 1] if cut > 0 else ""


@dataclass(frozen=True)
class Inputs:
    """Everything a report is built from, whichever edge (a file, AWS) read it."""

    title: str
    period: Period
    zone: ZoneInfo
    transitions: list[Transition]
    alarm_names: list[str]
    history: list[HistoryEntry] | None  # None: no incident history was read
    acknowledgements: str  # where acknowledgements come from, or why they are n/a
    sources: list[str]
    ignored: Counter[str]
    alarms_complete: bool  # alarm_names is the stack's list (else: only the alarms in the history)
    prefix: str | None = None  # None: the names' common prefix


def build_report(inputs: Inputs, *, rule: NoiseRule, tuning_rule: TuningRule) -> Report:
    transitions, period, zone = inputs.transitions, inputs.period, inputs.zone
    episodes = build_episodes(transitions, period)
    names = sorted(set(inputs.alarm_names) | set(episodes.by_alarm))
    stats = all_stats(episodes.by_alarm, alarm_names=names, period=period, zone=zone, rule=rule, history=inputs.history)
    notes = [f"{reason}: {count}, ignored." for reason, count in sorted(inputs.ignored.items())]
    if episodes.outside_period:
        notes.append(
            f"{episodes.outside_period} state changes outside the period: ignored (used for the starting state)."
        )
    prefix = common_prefix(names) if inputs.prefix is None else inputs.prefix
    started_before = sorted(s.name.removeprefix(prefix) for s in stats if s.open_before_period)
    if started_before:
        notes.append(
            "Already in ALARM at the period start (counted from the start, not as a firing): "
            + ", ".join(f"`{name}`" for name in started_before)
            + "."
        )
    return Report(
        title=inputs.title,
        prefix=prefix,
        period=period,
        zone=zone,
        rule=rule,
        tuning_rule=tuning_rule,
        stats=stats,
        episodes=episodes.by_alarm,
        sources=list(inputs.sources),
        notes=notes,
        acknowledgements=inputs.acknowledgements,
        alarms_complete=inputs.alarms_complete,
    )
