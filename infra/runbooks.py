"""The runbooks as the stack reads them at synthesis: each alarm's first step, taken from its runbook.

Every runbook in docs/operations/runbooks/ has an **Investigate** section whose first numbered item is what
to do first. The stack writes that item into the alarm's description as a `First step:` line
(lambdas/shared/alarm_metadata.py), so the Slack message can show it without anyone opening the runbook.
The text is made one line of plain text a person can act on: Markdown links become their label, bold
markers go, inline code stays (Slack shows it as code), and the names the runbooks write as variables
(`$PREFIX`, `<prefix>`, `$ENV`, `$HEALTH_BASE_URL`) become this environment's values, so a command can be
copied as it is. An item that ends in a colon introduces a code block: the line says the commands are in
the runbook, whose button sits next to it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path

RUNBOOK_DIR = Path(__file__).resolve().parent.parent / "docs" / "operations" / "runbooks"
INVESTIGATE = "## Investigate"
COMMANDS_IN_RUNBOOK = " (the commands are in the runbook)"
_FIRST_ITEM = re.compile(r"^1\.\s+(?P<text>.+)$")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]+\)")
_BOLD = re.compile(r"\*\*([^*]+)\*\*")


class RunbookError(ValueError):
    """A runbook is missing, or has no first step to show."""


@cache
def _runbook_text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def first_step(runbook: str, names: Mapping[str, str], directory: Path = RUNBOOK_DIR) -> str:
    """The first item of the runbook's Investigate section, as one line with `names` filled in."""
    path = directory / f"{runbook}.md"
    try:
        text = _runbook_text(path)
    except FileNotFoundError:
        raise RunbookError(f"runbook {runbook!r} not found: {path}") from None
    lines = text.splitlines()
    try:
        start = lines.index(INVESTIGATE) + 1
    except ValueError:
        raise RunbookError(f"{path.name}: no {INVESTIGATE!r} section") from None
    item: list[str] = []
    for line in lines[start:]:
        if line.startswith("## "):
            break
        if not item:
            found = _FIRST_ITEM.match(line)
            if found:
                item.append(found.group("text"))
            continue
        if not line.strip() or re.match(r"^\d+\.\s", line):
            break  # the item's first paragraph ends at a blank line or the next item
        item.append(line.strip())
    if not item:
        raise RunbookError(f"{path.name}: the {INVESTIGATE!r} section has no first item (1. ...)")
    step = _plain(" ".join(item), names)
    return step + COMMANDS_IN_RUNBOOK if step.endswith(":") else step


def _plain(text: str, names: Mapping[str, str]) -> str:
    text = _BOLD.sub(r"\1", _LINK.sub(r"\1", text))
    for variable, value in sorted(names.items(), key=lambda item: -len(item[0])):  # $PREFIX before $PRE...
        text = text.replace(variable, value)
    return " ".join(text.split())


def runbook_names(*, prefix: str, environment: str, health_base_url: str) -> dict[str, str]:
    """What the runbooks write as variables (docs/operations/runbooks/README.md, "Names used in every
    runbook"), with this environment's values."""
    return {
        "$PREFIX": prefix,
        "<prefix>": prefix,
        "$ENV": environment,
        "$HEALTH_BASE_URL": health_base_url.rstrip("/"),
    }
