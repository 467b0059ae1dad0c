"""A group of alarms of one fault -> one Slack message: the fault as the headline, every member named, then
the lead alarm's own message (rendering/layout.py: cause, first step, buttons, details) under it.

    🔴 CRITICAL · Database unhealthy · 3 alarms · production · since 12:14 JST   <- the lead's header block
    ready failing (critical) · CheckSuccess 0 < 1 for 3 min
    health failing · CheckSuccess 0 < 1 for 3 min
    dependency database · DependencyHealthy 0 < 1 for 3 min
    ───── then the rest of the lead's message

The lead's header keeps its block id (the severity an updated original says again), so one headline shows.
A group of one is exactly the alert's own message. The lock-screen `text` is the fault line with every
member: "🔴 [prod] CRITICAL · Database unhealthy · 3 alarms: ready failing (critical), health failing,
dependency database".
"""

from __future__ import annotations

import copy
from typing import Any

from lambdas.alert_router.grouping.plan import Group, Routed
from lambdas.alert_router.models import Payload, State
from lambdas.alert_router.rendering.blocks import context_block, header_block, section_block
from lambdas.alert_router.rendering.context import RenderContext
from lambdas.alert_router.rendering.facts import alarm_console_url, human_reason
from lambdas.alert_router.rendering.layout import SEPARATOR, clock, state_label
from lambdas.alert_router.rendering.text import (
    FALLBACK_TEXT_LIMIT,
    MAX_BLOCKS,
    SECTION_LIMIT,
    escape,
    link,
    slack_length,
    truncate,
)
from lambdas.shared.alarm_metadata import Severity

MEMBER_LINE_LIMIT = 480  # one member's line, its console link included; at most the storm threshold of them


def render_group(group: Group, payload: Payload, context: RenderContext) -> Payload:
    """`payload`: the lead alarm's own rendering (the handler renders it, with its fallback)."""
    if len(group.members) == 1:
        return payload
    # the words of the single message (layout.state_label): "CRITICAL · ...", a recovery "RESOLVED · ..."
    lead = group.lead.alert
    state = lead.state or State.ALARM
    emoji, word, _colour = state_label(state, group.lead.route.severity)
    label = SEPARATOR.join((word, group_title(group), f"{len(group.members)} alarms"))
    # where and since when, as the single message's headline says them
    when = clock(lead.state_change_time, context.display_time_zone, firing=state is State.ALARM)
    headline = SEPARATOR.join(part for part in (f"{emoji} {label}", context.environment, when) if part)
    labels = member_labels(group.members)
    text = f"{emoji} [{context.environment}] {escape(label)}: " + ", ".join(escape(item) for item in labels)
    lines = [_member_line(member, label) for member, label in zip(group.members, labels, strict=True)]
    added: list[dict[str, Any] | None] = [*packed_sections(lines), context_block([_grouped_line(group, labels)])]
    blocks = [block for block in added if block is not None]
    return with_group_head(payload, headline, blocks, truncate(text, FALLBACK_TEXT_LIMIT))


def _grouped_line(group: Group, labels: list[str]) -> str:
    """Why these are one message, and where the folded members would have gone."""
    line = f"One fault, grouped by {escape(group.key or 'fault')}"
    echoed = {id(member) for member in group.echoes}
    elsewhere: dict[str, list[str]] = {}
    for member, label in zip(group.members, labels, strict=True):
        if member.channel != group.channel:
            elsewhere.setdefault(member.channel, []).append(escape(label))
    for channel, names in sorted(elsewhere.items()):
        also = any(id(m) in echoed for m in group.members if m.channel == channel)
        verb = "also posted in" if also else "not posted again in"
        line += f" · {verb} #{escape(channel)}: {', '.join(names)}"
    return line


def group_title(group: Group) -> str:
    """What broke: the fault a member names ("Database unhealthy"), else the resource of the group."""
    return group.fault or resource_title(group.key) or member_labels(group.members)[0]


# namespace -> (dimension, what it names), the first one present wins ("AWS/RDS" "DBInstanceIdentifier" -> "RDS x")
_RESOURCE_WORDS = {
    "AWS/ApplicationELB": (("TargetGroup", "target group"), ("LoadBalancer", "load balancer")),
    "AWS/ECS": (("ServiceName", "ECS"), ("ClusterName", "ECS cluster")),
    "AWS/RDS": (("DBInstanceIdentifier", "RDS"),),
    "AWS/ElastiCache": (("CacheClusterId", "Redis"), ("ReplicationGroupId", "Redis")),
    "AWS/SQS": (("QueueName", "queue"),),
    "AWS/Lambda": (("FunctionName", "function"),),
}


def resource_title(key: str | None) -> str | None:
    """A group key in words: "AWS/RDS DBInstanceIdentifier=db-1" -> "RDS db-1", a target group by its name
    ("targetgroup/<name>/<id>" -> "target group <name>"); other keys as they are."""
    if not key:
        return None
    namespace, _, rest = key.partition(" ")
    dimensions = dict(pair.partition("=")[::2] for pair in rest.split())
    for dimension, words in _RESOURCE_WORDS.get(namespace, ()):
        value = dimensions.get(dimension)
        if value:
            parts = value.split("/")  # ALB ids are "app/<name>/<id>" and "targetgroup/<name>/<id>"
            return f"{words} {parts[1] if len(parts) == 3 else value}"
    return key


def shared_prefix(names: list[str]) -> str:
    """The words ("-"-separated) every name starts with, with their last "-": never a part of a word."""
    split = [name.split("-") for name in names]
    shared = []
    for words in zip(*split, strict=False):
        if len(set(words)) != 1:
            break
        shared.append(words[0])
    shared = shared[: min(len(words) for words in split) - 1]  # every name keeps a word of its own
    return "".join(f"{word}-" for word in shared)


def member_labels(members: tuple[Routed, ...]) -> list[str]:
    """Each member's name without what all share ("peoplebooster-prod-synthetic-"), in words; critical
    members say so ("ready failing (critical)")."""
    names = [member.alert.alarm_name or member.alert.subject or "alert" for member in members]
    prefix = shared_prefix(names) if len(names) > 1 else ""
    labels = []
    for member, name in zip(members, names, strict=True):
        short = name.removeprefix(prefix).replace("-", " ") or name
        labels.append(f"{short} (critical)" if member.route.severity is Severity.CRITICAL else short)
    return labels


def _member_line(member: Routed, label: str) -> str:
    """ "*ready failing (critical)* · CheckSuccess 0 < 1 for 3 min", the name linked to the alarm's console page."""
    alert = member.alert
    why = "recovered" if alert.state is State.OK else human_reason(alert) or alert.reason or ""
    console = alarm_console_url(alert)
    name = f"*{link(console, label) if console else escape(label)}*"
    if not why:
        return name
    # only the reason is cut, never the link
    return f"{name} · {truncate(escape(why), max(20, MEMBER_LINE_LIMIT - slack_length(name) - 3))}"


def packed_sections(lines: list[str]) -> list[dict[str, Any] | None]:
    """Lines packed into sections of at most Slack's section length, none cut."""
    sections: list[str] = []
    for line in lines:
        if sections and slack_length(sections[-1]) + 1 + slack_length(line) <= SECTION_LIMIT:
            sections[-1] += "\n" + line
        else:
            sections.append(line)
    return [section_block(text) for text in sections]


def with_group_head(payload: Payload, headline: str, blocks: list[dict[str, Any]], text: str) -> Payload:
    """The lead's top-level header says `headline` and `blocks` follow it; a lead without one (a fallback
    rendering) gets a header of its own first."""
    top = payload.get("blocks")
    if isinstance(top, list):
        at = next((i for i, block in enumerate(top) if block.get("type") == "header"), None)
        if at is not None:
            header = header_block(headline, top[at].get("block_id"))
            merged = [*top[:at], header, *blocks, *top[at + 1 :]]
            return {**payload, "text": text, "blocks": merged[:MAX_BLOCKS]}
    return with_blocks_first(payload, [header_block(headline), *blocks], text)


def with_blocks_first(payload: Payload, blocks: list[dict[str, Any]], text: str) -> Payload:
    """`payload` with `blocks` before its own (top level or in its attachment) and `text` as its lock-screen
    line; within Slack's 50 blocks (the payload's last blocks give way)."""
    if isinstance(payload.get("blocks"), list):
        return {**payload, "text": text, "blocks": (blocks + payload["blocks"])[:MAX_BLOCKS]}
    attachments = payload.get("attachments")
    if isinstance(attachments, list) and attachments and isinstance(attachments[0].get("blocks"), list):
        first = {**attachments[0], "blocks": (blocks + attachments[0]["blocks"])[:MAX_BLOCKS]}
        return {**payload, "text": text, "attachments": [first, *attachments[1:]]}
    return {**payload, "text": text, "blocks": blocks[:MAX_BLOCKS]}


def named_fallback(lead: Payload, group: Group) -> Payload:
    """When rendering the group failed (a bug): the lead's message, its text naming every member."""
    names = ", ".join(escape(label) for label in member_labels(group.members))
    text = str(lead.get("text", "")) + f" (grouped: {names})"
    return {**lead, "text": truncate(text, FALLBACK_TEXT_LIMIT)}


def named_reply(reply: Payload, name: str) -> Payload:
    """A thread reply of one member of a group: it shares the thread, so it says whose state it is."""
    named = copy.deepcopy(reply)
    named["text"] = truncate(f"{escape(name)} · {reply.get('text', '')}", FALLBACK_TEXT_LIMIT)
    for container in (named, *(named.get("attachments") or [])):
        for block in container.get("blocks") or []:
            if block.get("type") == "section" and isinstance(block.get("text"), dict):
                block["text"]["text"] = truncate(f"*{escape(name)}* · {block['text']['text']}", SECTION_LIMIT)
                return named
    return named
