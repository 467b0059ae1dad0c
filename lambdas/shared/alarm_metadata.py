"""The metadata our stack writes into every alarm description, and reads back in the router.

CloudWatch sends the description (not tags) in each notification, so routing facts travel there,
as `Key: value` lines a human also reads in the console:

    ECS backend CPU above 80% for 5 minutes.

    Severity: warning
    Category: performance
    Group: AWS/ECS ClusterName=pb-production ServiceName=pb-production-backend
    Runbook: https://github.com/org/repo/blob/main/docs/operations/runbooks/ecs-cpu-high.md
    First step: Dashboard `peoplebooster-production-service`, row ECS (Fargate): one service or both?

`Group:` names the fault an alarm belongs to: the router folds the alarms of one group that fire
together into one message (lambdas/alert_router/grouping/). By default it is the resource the alarm
watches (`resource_group`: the metric's namespace and dimensions, the same rule the router applies to
alarms without the line); alarms that watch one thing through several metrics share one (the synthetic
monitor's checks and dependencies share the service's host). An alarm that names a cause rather than a
symptom adds `Fault: <words>` ("Database unhealthy"), which a group message leads with.

The same cdk-monitoring-constructs convention (`Runbook: <url>`) lets alarms made elsewhere join in.
`First step:` is the runbook's first investigation step, written by the stack at synthesis
(infra/runbooks.py): the Slack message shows it, so the first thing to do is in the alert itself. It is
the part of the description that gives way: it is shortened to keep the whole within CloudWatch's limit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
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
    group: str | None = None
    fault: str | None = None
    first_step: str | None = None


_LINE = re.compile(
    r"^\s*(severity|category|group|fault|runbook|first step)\s*:\s*(\S.*?)\s*$", re.IGNORECASE | re.MULTILINE
)
# Dimensions that say which deployment a metric is from, not which resource: left out of a group key.
_NOT_A_RESOURCE = frozenset({"environment"})
ELLIPSIS = "…"
# Less room than this for the first step: it is left out rather than cut to a stub.
MIN_FIRST_STEP = 40


def resource_group(namespace: str, dimensions: Iterable[tuple[str, str]]) -> str:
    """The default group of an alarm: the resource its metric is about ("AWS/RDS DBInstanceIdentifier=db-1").

    Dimensions sorted by name, so CloudWatch's order (SNS sends them in any order) does not matter."""
    named = " ".join(f"{name}={value}" for name, value in sorted(dimensions) if name.lower() not in _NOT_A_RESOURCE)
    return f"{namespace} {named}".strip()


def format_alarm_description(
    summary: str,
    *,
    severity: Severity,
    category: Category,
    runbook_url: str,
    group: str | None = None,
    fault: str | None = None,
    first_step: str | None = None,
) -> str:
    lines = [f"Severity: {severity.value}", f"Category: {category.value}"]
    if group:
        lines.append(f"Group: {_one_line(group)}")
    if fault:
        lines.append(f"Fault: {_one_line(fault)}")
    text = f"{summary.strip()}\n\n" + "\n".join([*lines, f"Runbook: {runbook_url}"])
    if first_step:
        step = _one_line(first_step)  # one line: the parser reads to the end of the line
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
        group=found.get("group"),
        fault=found.get("fault"),
        first_step=found.get("first step"),
    )


def _one_line(text: str) -> str:
    return " ".join(text.split())


_E = TypeVar("_E", bound=StrEnum)


def _enum_or_none(enum: type[_E], value: str | None) -> _E | None:
    if value is None:
        return None
    try:
        return enum(value.strip().lower())
    except ValueError:
        return None
