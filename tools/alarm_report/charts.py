"""Report -> PNG pictures with matplotlib's Agg backend (no display): a timeline and an hour-of-day heatmap.

Both are sized for a README (1000 px wide at 100 dpi) and show the alarms in the table's order.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # before pyplot: no display, same pixels everywhere

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
from matplotlib.patches import Patch

from tools.alarm_report.report import Report

WIDTH_INCHES = 10
DPI = 100
MAX_ROWS = 25
LEGEND_INCHES = 0.35  # room under the timeline for its legend
FLAP = "#f0a030"
INCIDENT = "#d62728"
OPEN = "#7f0000"
# matplotlib.dates has no annotations: one typed name for the conversion used here
_date_number: Callable[[datetime], float] = mdates.date2num


def _rows(report: Report) -> list[str]:
    return [s.name for s in report.fired][:MAX_ROWS]


def timeline(report: Report, path: Path) -> None:
    """One row per alarm that was in ALARM: flaps, longer episodes and still-open ones in three colours."""
    names = _rows(report)
    period, zone = report.period, report.zone
    figure, axes = plt.subplots(figsize=(WIDTH_INCHES, 1.9 + 0.38 * max(len(names), 1)), dpi=DPI)
    # a 1-minute flap in 14 days is 0.005 % of the axis: draw every episode at least this wide
    least = (period.until - period.since) * 0.003
    flap_limit = timedelta(minutes=report.rule.flap_minutes)
    for row, name in enumerate(names):
        for episode in report.episodes.get(name, []):
            length = episode.duration(period)
            colour = OPEN if episode.open else FLAP if length <= flap_limit else INCIDENT
            start = episode.start.astimezone(zone)
            axes.broken_barh(
                [(_date_number(start), max(length, least) / timedelta(days=1))],
                (row - 0.35, 0.7),
                facecolors=colour,
                hatch="//" if episode.open else None,
                edgecolor="white" if episode.open else colour,
                linewidth=0.3,
            )
    axes.set_yticks(range(len(names)), [report.short(n) for n in names], fontsize=9)
    axes.set_ylim(len(names) - 0.5, -0.5)
    axes.set_xlim(_date_number(period.since.astimezone(zone)), _date_number(period.until.astimezone(zone)))
    axes.xaxis.set_major_locator(mdates.AutoDateLocator(tz=zone, maxticks=10))  # type: ignore[no-untyped-call]
    axes.xaxis.set_major_formatter(mdates.DateFormatter("%b %d\n%H:%M", tz=zone))  # type: ignore[no-untyped-call]
    axes.tick_params(axis="x", labelsize=8)
    axes.set_xlabel(f"time ({zone.key})")
    axes.grid(axis="x", color="#dddddd", linewidth=0.6)
    axes.set_axisbelow(True)
    title = f"Time in ALARM: {report.title}"
    if not names:
        axes.text(0.5, 0.5, "no alarm was in ALARM in this period", ha="center", va="center", transform=axes.transAxes)
    axes.set_title(title, fontsize=12, loc="left")
    figure.legend(
        handles=[
            Patch(color=FLAP, label=f"flap (resolved within {report.rule.flap_minutes} min)"),
            Patch(color=INCIDENT, label="longer episode"),
            Patch(facecolor=OPEN, hatch="//", edgecolor="white", label="still in ALARM at the end"),
        ],
        loc="lower center",
        ncol=3,
        fontsize=8,
        frameon=False,
    )
    figure.tight_layout(rect=(0, LEGEND_INCHES / figure.get_figheight(), 1, 1))
    figure.savefig(path)
    plt.close(figure)


def hours(report: Report, path: Path) -> None:
    """Firings per alarm and hour of day in the display time zone, the count written in each cell."""
    names = [s.name for s in report.fired if s.firings][:MAX_ROWS]
    counts = [list(next(s for s in report.stats if s.name == name).hours) for name in names] or [[0] * 24]
    figure, axes = plt.subplots(figsize=(WIDTH_INCHES, 1.8 + 0.38 * max(len(names), 1)), dpi=DPI)
    peak = max(1, *(max(row) for row in counts))
    image = axes.imshow(counts, aspect="auto", cmap="Reds", vmin=0, vmax=peak)
    for row, values in enumerate(counts):
        for hour, count in enumerate(values):
            if count:
                light = count > 0.6 * peak
                axes.text(
                    hour, row, str(count), ha="center", va="center", fontsize=8, color="white" if light else "black"
                )
    axes.set_xticks(range(24), [f"{h:02d}" for h in range(24)], fontsize=8)
    axes.set_yticks(range(len(names)), [report.short(n) for n in names], fontsize=9)
    axes.set_xlabel(f"hour of day ({report.zone.key})")
    axes.set_title(f"Firings by hour of day: {report.title}", fontsize=12, loc="left")
    if not names:
        axes.set_yticks([])
        axes.text(11.5, 0, "no firings in this period", ha="center", va="center")
    colorbar = figure.colorbar(image, ax=axes, pad=0.01, fraction=0.03)
    colorbar.set_label("firings", fontsize=8)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
