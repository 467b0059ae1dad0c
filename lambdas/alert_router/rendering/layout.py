"""The one layout of every alert message, read the way someone woken at 3 a.m. reads it:

    🔴 CRITICAL · synthetic-ready-failing · production · since 12:14 JST          <- headline (header block)
    GET /health/ready → 503 in 12 ms; /health: checks.database.status is ...     <- the cause, bold
    👉 First step: `curl -sS -m 5 "https://api.../health/ready"` ...              <- what to do first
    @oncall                                                                       <- critical only
    [Runbook] [Dashboard] [Console]                                               <- link buttons
    ┃ Alarm `...` · CheckSuccess (Minimum) < 1 · check = ready · OK → ALARM ...   <- details, small, in the
    ┃ Threshold Crossed: 3 out of the last 3 datapoints ...                          coloured attachment

The headline, cause, first step and buttons are top-level blocks, so Slack shows the message once (without
top-level blocks it shows `text` above the attachment: the headline twice) and uses `text` only for the
notification: the lock-screen line, headline and cause in one. The details go into one small attachment:
it draws the state's colour bar (red, amber, green) that marks open and resolved messages when scrolling
a channel, and keeps the metric ids, statistics and account numbers out of the way.

The header's block id carries the severity (`headline-critical`), so an updated original
(rendering/incident.py) can say CRITICAL again after it was RESOLVED.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from lambdas.alert_router.models import Payload, State
from lambdas.alert_router.rendering.blocks import (
    actions_block,
    button,
    context_block,
    header_block,
    message,
    section_block,
)
from lambdas.alert_router.rendering.facts import zone_of
from lambdas.alert_router.rendering.text import HEADER_LIMIT, escape, slack_length, truncate
from lambdas.shared.alarm_metadata import Severity

HEADLINE_BLOCK_PREFIX = "headline-"
LINKS_BLOCK_ID = "links"
FIRST_STEP_EMOJI = "👉"
# the information emoji (U+2139 with the emoji variation selector) for info
SEVERITY_EMOJI = {Severity.CRITICAL: "🔴", Severity.WARNING: "🟠", Severity.INFO: "\u2139\ufe0f"}
SEVERITY_COLOUR = {Severity.CRITICAL: "#d0021b", Severity.WARNING: "#f2a600", Severity.INFO: "#439fe0"}
RESOLVED_LABEL = "RESOLVED"
SEPARATOR = " · "


@dataclass(frozen=True)
class Link:
    text: str
    url: str | None
    action_id: str
    primary: bool = False


@dataclass(frozen=True)
class Layout:
    """What one alert message says; every text is mrkdwn already escaped, except `what` and `where`
    (the header is plain text) and the link URLs."""

    emoji: str
    label: str  # CRITICAL | WARNING | INFO | RESOLVED | MONITORING BLIND | DATA BACK
    what: str
    colour: str
    environment: str
    where: str | None = None
    when: str | None = None  # "since 12:14 JST" / "at 12:20 JST"
    cause: str | None = None
    first_step: str | None = None
    more: tuple[str, ...] = ()  # further lines under the cause (top errors, a note)
    mention: str | None = None  # the on-call handle, for a critical alert that fires
    links: tuple[Link, ...] = ()
    details: tuple[str, ...] = ()
    severity: Severity | None = None
    notification_cause: str | None = None  # the cause as plain words for `text` (default: `cause`)
    extra_blocks: tuple[dict[str, Any], ...] = ()  # between the text and the buttons: raw input as code


def compose(layout: Layout) -> Payload:
    """The payload: headline, cause, first step, mention, buttons on top; details in the coloured attachment."""
    header = headline(layout)
    lines = [
        f"*{layout.cause}*" if layout.cause else None,
        *layout.more,
        f"{FIRST_STEP_EMOJI} *First step:* {layout.first_step}" if layout.first_step else None,
        layout.mention,
    ]
    body = "\n".join(line for line in lines if line)
    links = [button(link.text, link.url, link.action_id, primary=link.primary) for link in layout.links if link.url]
    cause = layout.notification_cause or layout.cause
    text = f"{layout.emoji} [{escape(layout.environment)}] {layout.label}{SEPARATOR}{escape(layout.what)}"
    if cause:
        text += f": {cause}"
    if layout.mention:
        text += f" {layout.mention}"
    block_id = f"{HEADLINE_BLOCK_PREFIX}{layout.severity.value}" if layout.severity else None
    return message(
        text,
        layout.colour,
        [
            header_block(header, block_id=block_id),
            section_block(body),
            *layout.extra_blocks,
            actions_block(links, LINKS_BLOCK_ID),
        ],
        [context_block(list(layout.details), separator="\n")],
    )


def headline(layout: Layout) -> str:
    """`🔴 CRITICAL · what · where · since 12:14 JST`: the name gives way when the header is too long."""
    head = f"{layout.emoji} {layout.label}{SEPARATOR}"
    tail = "".join(f"{SEPARATOR}{part}" for part in (layout.where, layout.when) if part)
    room = HEADER_LIMIT - slack_length(head) - slack_length(tail)
    what = layout.what if slack_length(layout.what) <= room else truncate(layout.what, max(room, 10), "…")
    return head + what + tail


def severity_look(severity: Severity) -> tuple[str, str, str]:
    """(emoji, label, colour) of something that fires at this severity."""
    return SEVERITY_EMOJI[severity], severity.value.upper(), SEVERITY_COLOUR[severity]


def clock(moment: datetime | None, zone_name: str, *, firing: bool) -> str | None:
    """ "since 12:14 JST" (firing) or "at 12:20 JST": the display zone, else UTC."""
    if moment is None:
        return None
    zone = zone_of(zone_name)
    local = moment.astimezone(zone) if zone is not None else moment.astimezone(UTC)
    name = (local.tzname() or zone_name) if zone is not None else "UTC"
    return f"{'since' if firing else 'at'} {local:%H:%M} {name}"


def short_name(alarm_name: str, environment: str) -> str:
    """`peoplebooster-production-ecs-backend-cpu-high` -> `ecs-backend-cpu-high` (the stack's `<service>-<env>-`
    prefix, when the name has it); any other name as it is."""
    found = re.match(rf"^[a-z0-9][a-z0-9-]*?-{re.escape(environment)}-(?=\S)", alarm_name)
    return alarm_name[found.end() :] if found else alarm_name


def state_label(state: State, severity: Severity) -> tuple[str, str, str]:
    """(emoji, label, colour) for an alarm's state: firing at its severity, or resolved."""
    if state is State.OK:
        return State.OK.emoji, RESOLVED_LABEL, State.OK.colour
    return severity_look(severity)


def join(parts: Sequence[str | None], separator: str = SEPARATOR) -> str | None:
    text = separator.join(part for part in parts if part)
    return text or None
