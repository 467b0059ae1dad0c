"""The metadata our stack writes into every alarm description, and reads back in the router.

CloudWatch sends the description (not tags) in each notification, so routing facts travel there,
as `Key: value` lines a human also reads in the console:

    ECS backend CPU above 80% for 5 minutes.

    Severity: warning
    Category: performance
    Runbook: https://github.com/org/repo/blob/main/docs/operations/runbooks/ecs-cpu-high.md
    First step: Dashboard `peoplebooster-production-service`, row ECS (Fargate): one service or both?

The same cdk-monitoring-constructs convention (`Runbook: <url>`) lets alarms made elsewhere join in.
`First step:` is the runbook's first investigation step, written by the stack at synthesis
(infra/runbooks.py): the Slack message shows it, so the first thing to do is in the alert itself. It is
the part of the description that gives way: it is shortened to keep the whole within CloudWatch's limit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

MAX_DESCRIPTION_LENGTH = 1024  # CloudWatch's limit for AlarmDescription


class Severity(StrEnum):
    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"


class Category(StrEnum):
    ERRORS = "errors"
    PERFORMANCE = "performance"


@dataclass(frozen=True)
class AlarmMetadata:
    severity: Severity | None = None
    category: Category | None = None
    runbook_url: str | None = None
    summary: str | None = None
    first_step: str | None = None


_LINE = re.compile(r"^\s*(severity|category|runbook|first step)\s*:\s*(\S.*?)\s*$", re.IGNORECASE | re.MULTILINE)
ELLIPSIS = "…"
# Less room than this for the first step: it is left out rather than cut to a stub.
MIN_FIRST_STEP = 40


def format_alarm_description(
    summary: str, *, severity: Severity, category: Category, runbook_url: str, first_step: str | None = None
) -> str:
    text = f"{summary.strip()}\n\nSeverity: {severity.value}\nCategory: {category.value}\nRunbook: {runbook_url}"
    if first_step:
        step = " ".join(first_step.split())  # one line: the parser reads to the end of the line
        room = MAX_DESCRIPTION_LENGTH - len(text) - len("\nFirst step: ")
        if len(step) > room:
            step = step[: max(0, room - len(ELLIPSIS))].rstrip() + ELLIPSIS
        if room >= MIN_FIRST_STEP:
            text += f"\nFirst step: {step}"
    if len(text) > MAX_DESCRIPTION_LENGTH:
        raise ValueError(f"alarm description is {len(text)} characters; CloudWatch allows {MAX_DESCRIPTION_LENGTH}")
    return text


def parse_alarm_metadata(description: str | None) -> AlarmMetadata:
    """Read the Severity/Category/Runbook lines; anything missing or unknown stays None."""
    if not description:
        return AlarmMetadata()
    found: dict[str, str] = {}
    for match in _LINE.finditer(description):
        found.setdefault(match.group(1).lower(), match.group(2))
    severity = _enum_or_none(Severity, found.get("severity"))
    category = _enum_or_none(Category, found.get("category"))
    runbook = found.get("runbook")
    runbook_url = runbook if runbook and re.match(r"^https?://\S+$", runbook) else None
    first_line = description.strip().splitlines()[0].strip() if description.strip() else ""
    summary = None if _LINE.match(first_line) else first_line or None
    return AlarmMetadata(
        severity=severity,
        category=category,
        runbook_url=runbook_url,
        summary=summary,
        first_step=found.get("first step"),
    )


_E = TypeVar("_E", bound=StrEnum)


def _enum_or_none(enum: type[_E], value: str | None) -> _E | None:
    if value is None:
        return None
    try:
        return enum(value.strip().lower())
    except ValueError:
        return None
