"""A storm in one channel -> one digest (and continuations when Slack's limits need them).

    🔴 ALARM STORM · 200 alerts
    180 in ALARM (12 critical, 168 warning) · 20 recovered
    By resource: RDS pb-prod-db (40) · ECS pb-prod-backend (31) · synthetic api.example.com (12)
    <Alarms in ALARM (console)> · <Dashboard>
    RDS pb-prod-db (40): cpu-high, connections-high, ...        every alarm named, none dropped
    ...

Names drop the prefix all of them share (said once, in the last line), and in a group the prefix its
members share ("svc07-" of "svc07-cpu-high"). A continuation ("2 of 3") carries
on where the previous message stopped; each message stays within `MESSAGE_BUDGET` characters of text and
Slack's 50 blocks, and every section within 3,000.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from lambdas.alert_router.grouping.plan import Digest, Group, Routed
from lambdas.alert_router.models import Payload, State
from lambdas.alert_router.rendering.blocks import context_block, header_block, message, section_block
from lambdas.alert_router.rendering.context import RenderContext
from lambdas.alert_router.rendering.facts import console_base
from lambdas.alert_router.rendering.group import resource_title, shared_prefix
from lambdas.alert_router.rendering.text import MAX_BLOCKS, SECTION_LIMIT, escape, link, slack_length
from lambdas.shared.alarm_metadata import Severity

# Text per message: well under what Slack renders in one message, and readable on a phone in a few screens.
MESSAGE_BUDGET = 12_000
TOP_RESOURCES = 5
_OTHER = "Other alerts"
Block = dict[str, Any]


@dataclass(frozen=True)
class DigestPage:
    """One message of a digest and the alerts it names: delivered when this message is posted."""

    payload: Payload
    members: tuple[Routed, ...]


def render_digest(digest: Digest, context: RenderContext) -> list[DigestPage]:
    """The digest's messages, in order: the first with the counts and links, then the continuations."""
    members = digest.members
    alarming = [m for m in members if m.alert.state is not State.OK]
    state = State.ALARM if alarming else State.OK
    prefix = _shared_prefix(members)
    label = f"{'ALARM STORM' if alarming else 'RECOVERIES'} · {len(members)} alerts"
    severities = Counter(m.route.severity for m in alarming)
    words = ", ".join(f"{severities[s]} {s.value}" for s in Severity if severities[s])
    states = f"{len(alarming)} in ALARM" + (f" ({words})" if words else "")
    recovered = len(members) - len(alarming)
    if recovered:
        states += f" · {recovered} recovered"
    resources = Counter({_title(group): len(group.members) for group in digest.groups})
    most = " · ".join(f"{escape(name)} ({count})" for name, count in resources.most_common(TOP_RESOURCES))
    summary = f"*{states}*\n*By resource:* {most}" + (
        f" (and {len(resources) - TOP_RESOURCES} more)" if len(resources) > TOP_RESOURCES else ""
    )
    region = next((m.alert.region for m in members if m.alert.region), None)
    partition = next((m.alert.partition for m in members if m.alert.partition), None)
    links = [
        link(alarms_in_alarm_url(region, partition), "Alarms in ALARM (console)") if region else None,
        link(context.dashboard_url, "Dashboard") if context.dashboard_url else None,
    ]
    head = [header_block(f"{state.emoji} {label}"), section_block(summary), context_block(links)]
    pages = _pages([block for block in head if block is not None], _group_sections(digest.groups, prefix))
    text = f"{state.emoji} [{context.environment}] {label}: {states} (one digest instead of {len(members)} messages)"
    footer = f"Names without `{escape(prefix)}`; " if prefix else ""
    found = []
    for index, (blocks, members) in enumerate(pages, start=1):
        if len(pages) > 1:
            footer_line = f"{footer}message {index} of {len(pages)} of this digest"
        else:
            footer_line = footer.removesuffix("; ")
        shown = [header_block(f"{state.emoji} {label} · {index} of {len(pages)}")] if index > 1 else []
        tail = context_block([footer_line]) if footer_line else None
        page_text = text if index == 1 else f"{state.emoji} [{context.environment}] {label}, {index} of {len(pages)}"
        found.append(DigestPage(message(page_text, state.colour, [*shown, *blocks, tail]), members))
    return found


def alarms_in_alarm_url(region: str, partition: str | None = None) -> str:
    """The CloudWatch console's list of alarms in ALARM state, in the alarms' region."""
    return (
        f"{console_base(region, partition)}/cloudwatch/home?region={quote(region)}#alarmsV2:?~(alarmStateFilter~'ALARM)"
    )


def _title(group: Group) -> str:
    return (group.fault or resource_title(group.key) or _OTHER) if group.key else _OTHER


def _shared_prefix(members: tuple[Routed, ...]) -> str:
    names = [m.alert.alarm_name for m in members if m.alert.alarm_name]
    if len(names) < 2 or len(names) < len(members):
        return ""
    return shared_prefix(names)


def _name(member: Routed, prefix: str) -> str:
    alert = member.alert
    name = (alert.alarm_name or alert.subject or alert.message_id or "alert").removeprefix(prefix) or "alert"
    marks = " (critical)" if member.route.severity is Severity.CRITICAL and alert.state is not State.OK else ""
    return escape(name) + marks + (" (OK)" if alert.state is State.OK else "")


def _group_sections(groups: tuple[Group, ...], prefix: str) -> list[tuple[Block, tuple[Routed, ...]]]:
    """One line per group (alerts without a group together) naming each of its alerts, lines packed into
    sections of at most Slack's length (a group too long for one is continued in the next); each section
    with the alerts it names."""
    titled: dict[str, list[Routed]] = {}
    for group in groups:
        titled.setdefault(_title(group), []).extend(group.members)
    sections: list[tuple[Block, tuple[Routed, ...]]] = []
    text, named = "", list[Routed]()
    for title, members in titled.items():
        inner = _shared_prefix(tuple(members))  # the group's own, longer than the digest's when it has one
        strip = inner if len(inner) > len(prefix) else prefix
        line = f"*{escape(title)}* ({len(members)}): "
        if text and slack_length(text) + 1 + slack_length(line) + 40 > SECTION_LIMIT:
            sections.append(_section(text, named))
            text, named = "", []
        text += ("\n" if text else "") + line
        first = True
        for member in members:
            name = _name(member, strip)
            if named and slack_length(text) + 2 + slack_length(name) > SECTION_LIMIT:
                sections.append(_section(text, named))
                text, named, first = "", [], True
            text += ("" if first else ", ") + name
            named.append(member)
            first = False
    sections.append(_section(text, named))
    return sections


def _section(text: str, members: list[Routed]) -> tuple[Block, tuple[Routed, ...]]:
    block = section_block(text)
    assert block is not None  # a section always names at least one alert
    return block, tuple(members)


def _pages(
    head: list[Block], bodies: list[tuple[Block, tuple[Routed, ...]]]
) -> list[tuple[list[Block], tuple[Routed, ...]]]:
    """The head and then the sections, split into messages of at most MAX_BLOCKS - 2 blocks (room for a
    continuation's header and the footer) and MESSAGE_BUDGET characters."""
    pages: list[tuple[list[Block], list[Routed]]] = [(list(head), [])]
    used = sum(_size(block) for block in head)
    for block, members in bodies:
        size = _size(block)
        if len(pages[-1][0]) >= MAX_BLOCKS - 2 or used + size > MESSAGE_BUDGET:
            pages.append(([], []))
            used = 0
        pages[-1][0].append(block)
        pages[-1][1].extend(members)
        used += size
    return [(blocks, tuple(members)) for blocks, members in pages]


def _size(block: Block) -> int:
    text = block.get("text")
    return slack_length(text["text"]) if isinstance(text, dict) else 0
