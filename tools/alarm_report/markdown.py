"""Report -> Markdown (pure): the table first, then the findings in words, then the tuning suggestions."""

from __future__ import annotations

from datetime import datetime, timedelta

from tools.alarm_report.report import Report, TuningView
from tools.alarm_report.stats import AlarmStats
from tools.alarm_report.tuning import Outcome

TIMELINE_PNG = "timeline.png"
HOURS_PNG = "hours.png"


def duration(value: timedelta | None) -> str:
    if value is None:
        return "-"
    minutes = value.total_seconds() / 60
    if minutes < 1:
        return "<1 min"
    if minutes < 60:
        return f"{minutes:.0f} min"
    hours, rest = divmod(round(minutes), 60)
    if hours < 48:
        return f"{hours} h {rest:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def _count(number: int, word: str) -> str:
    return f"{number} {word}" if number == 1 else f"{number} {word}s"


def render(report: Report) -> str:
    lines = [f"# Alarm noise report: {report.title}", ""]
    lines += _header(report)
    lines += ["", "## Alarms, noisiest first", "", *_table(report), ""]
    lines += [
        f"![Time in ALARM per alarm]({TIMELINE_PNG})",
        "",
        f"![Firings by hour of day ({report.zone.key})]({HOURS_PNG})",
        "",
        "## Findings",
        "",
        *_findings(report),
        "## Tuning suggestions",
        "",
        *_tuning(report),
    ]
    if report.notes:
        lines += ["## Notes", "", *(f"- {note}" for note in report.notes), ""]
    return "\n".join(lines).rstrip() + "\n"


def _at(report: Report, moment: datetime) -> str:
    return moment.astimezone(report.zone).strftime("%Y-%m-%d %H:%M")


def _header(report: Report) -> list[str]:
    period, zone = report.period, report.zone.key
    lines = [
        f"Period: {_at(report, period.since)} to {_at(report, period.until)} {zone} ({period.days:.1f} days)."
        f" Times and hours of day are in {zone}.",
        "",
        *(f"- {source}" for source in report.sources),
        "",
        f"Ranking rule: {report.rule.describe()}.",
        f"A flap is a firing that resolved within {report.rule.flap_minutes} min. Time in ALARM counts every episode"
        " inside the period: an alarm still in ALARM at the end is open, never resolved; one already in ALARM at"
        " the start counts from the start (not as a firing). Median: of resolved episodes; longest: of all"
        " (`open` when it is still going).",
        f"Acknowledged: {report.acknowledgements}",
    ]
    if report.prefix:
        lines.append(f"Alarm names are shown without the `{report.prefix}` prefix.")
    return lines


def _busiest(stats: AlarmStats) -> str:
    ranked = sorted((-count, hour) for hour, count in enumerate(stats.hours) if count)[:2]
    return ", ".join(f"{hour:02d}h: {-negative}" for negative, hour in ranked) or "-"


def _table(report: Report) -> list[str]:
    rows = [
        "| # | alarm | firings | flaps/day | time in ALARM | median | longest | in ALARM at end | acknowledged"
        " | busiest hours | score |",
        "|---:|---|---:|---:|---:|---:|---:|---|---|---|---:|",
    ]
    for rank, stats in enumerate(report.stats, start=1):
        open_at_end = f"since {_at(report, stats.open_since)}" if stats.open_since else "no"
        longest = duration(stats.longest) + (" (open)" if stats.longest_open else "")
        rows.append(
            f"| {rank} | `{report.short(stats.name)}` | {stats.firings} | {stats.flaps_per_day:.2f}"
            f" | {duration(stats.time_in_alarm) if stats.time_in_alarm else '0'} | {duration(stats.median)}"
            f" | {longest} | {open_at_end} | {stats.ack_share} | {_busiest(stats)} | {stats.score} |"
        )
    return rows


def _names(report: Report, stats: list[AlarmStats]) -> str:
    return ", ".join(f"`{report.short(s.name)}`" for s in stats)


def _findings(report: Report) -> list[str]:
    rule, period = report.rule, report.period
    lines = ["**Tune these**: they fire and clear on their own, nobody acts.", ""]
    flapping = [s for s in report.stats if s.flaps and s.score]
    lines += [
        f"- `{report.short(s.name)}`: {_count(s.firings, 'firing')}, {s.flaps} resolved within {rule.flap_minutes} min"
        f" ({s.flaps_per_day:.2f} per day), {s.without_action} without action."
        for s in flapping
    ] or ["- None: no alarm flapped."]
    lines += ["", "**Stuck or never resolved**: in ALARM at the end of the period.", ""]
    stuck = [s for s in report.stats if s.open_since is not None]
    for s in stuck:
        assert s.open_since is not None
        since = period.until - s.open_since
        word = "stuck" if s.stuck(period, rule) else "still open"
        before = " (already in ALARM when the period began)" if s.open_before_period else ""
        lines.append(
            f"- `{report.short(s.name)}`: {word}, in ALARM since {_at(report, s.open_since)}{before}, {duration(since)}"
            " and not resolved."
        )
    if not stuck:
        lines.append("- None.")
    never = [s for s in report.stats if not s.firings and not s.time_in_alarm]
    lines += ["", "**Never fired** in the period:", ""]
    lines.append(f"- {len(never)}: {_names(report, never)}." if never else "- None: every alarm fired.")
    if not report.alarms_complete:
        lines.append(
            "- Only alarms that appear in the history are known here; `make alarm-report ENV=...` lists every"
            " alarm of the stack, quiet ones included."
        )
    ticket = [s for s in report.stats if s.ticket]
    lines += [
        "",
        f"**Ticket rule** (incident response: an alarm that fired without action {rule.ticket_firings} times within"
        f" {rule.ticket_days} days gets a ticket):",
        "",
        f"- Needs a ticket: {_names(report, ticket)}." if ticket else "- No alarm meets it.",
        "",
    ]
    return lines


def _tuning(report: Report) -> list[str]:
    if report.tuning_skipped:
        return [report.tuning_skipped, ""]
    t = report.tuning_rule
    lines = [
        f"Rule: replay the alarm's metric (GetMetricData, the alarm's period and statistic) through its M-of-N"
        f" evaluation with candidate settings: the threshold moved in steps of {t.threshold_step:.0%} of its"
        f" config value, or the evaluation window raised one datapoint at a time, up to {t.steps} steps each."
        f" A candidate qualifies when its replay still fires during every episode that lasted at least"
        f" {t.keep_minutes} min and during none of the flaps (resolved within {t.flap_minutes} min). The"
        " suggestion is the qualifying candidate that delays those incidents least, then the smallest change."
        " Nothing is suggested when the replay with the current settings does not reproduce the history.",
        "",
    ]
    if not report.tuning:
        return [*lines, "No alarm had flaps: nothing to tune.", ""]
    for view in report.tuning:
        lines += [f"### `{report.short(view.alarm_name)}`", "", *_suggestion(report, view), ""]
    return lines


def _suggestion(report: Report, view: TuningView) -> list[str]:
    found = view.suggestion
    if found is None:
        return [view.note or "No replay."]
    counts = (
        f"{_count(found.flaps, 'flap')} and {_count(found.incidents, 'incident')} of at least"
        f" {report.tuning_rule.keep_minutes} min;"
        f" the replay with the current settings fires during {found.baseline_flaps_seen} of the flaps and"
        f" {found.baseline_incidents_seen} of the incidents."
    )
    if found.outcome is Outcome.NOT_REPRODUCED:
        return [
            f"{counts} The metric does not explain the history (datapoints gone or the alarm changed): no suggestion."
        ]
    if found.outcome is Outcome.NONE_FOUND or found.candidate is None:
        return [f"{counts} None of the {found.tried} candidates drops every flap and keeps every incident."]
    lines = [
        f"{counts}",
        "",
        f"Suggested: **{found.candidate.label}**. Its replay keeps every incident, fires during none of the flaps,"
        f" and detects the incidents {found.delay_minutes:.0f} min later in total"
        f" ({found.tried} candidates tried).",
    ]
    if view.also_changes:
        lines += ["", f"The same key also drives {', '.join(f'`{report.short(n)}`' for n in view.also_changes)}."]
    if view.note:
        lines += ["", view.note]
    if view.diff:
        lines += ["", "```diff", view.diff.rstrip("\n"), "```"]
    return lines
