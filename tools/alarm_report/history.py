"""Alarm history items -> state transitions (pure).

The input is DescribeAlarmHistory's answer, as `aws cloudwatch describe-alarm-history --output json` prints
it (`{"AlarmHistoryItems": [...]}`) or as boto3 returns it (Timestamp a datetime instead of a string).
Each AlarmHistoryItem has AlarmName, AlarmType, HistoryItemType (ConfigurationUpdate | StateUpdate | Action,
newer accounts also AlarmContributorStateUpdate | AlarmContributorAction), HistorySummary, Timestamp and
HistoryData, a JSON *string*: for StateUpdate items
    {"version": "1.0", "oldState": {"stateValue": "OK", "stateReason": "..."},
     "newState": {"stateValue": "ALARM", "stateReason": "Threshold Crossed: ...", "stateReasonData": {...}}}
https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarmHistory.html
https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_AlarmHistoryItem.html
https://docs.aws.amazon.com/cli/latest/reference/cloudwatch/describe-alarm-history.html (output example)

Only StateUpdate items are transitions; other types and unreadable items are counted, never fatal.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from lambdas.shared.incident_history import HistoryEntry, HistoryItemError, from_item

STATES = ("OK", "ALARM", "INSUFFICIENT_DATA")
ALARM = "ALARM"


class HistoryFormatError(ValueError):
    """The input is not DescribeAlarmHistory's output; the message is one line for a human."""


@dataclass(frozen=True)
class Transition:
    alarm_name: str
    at: datetime  # timezone-aware, UTC
    old_state: str
    new_state: str


@dataclass
class ParsedHistory:
    transitions: list[Transition] = field(default_factory=list)
    ignored: Counter[str] = field(default_factory=Counter)  # reason -> count


def parse_cli_output(text: str, *, source: str = "input") -> ParsedHistory:
    """`aws cloudwatch describe-alarm-history --output json` text -> transitions (HistoryFormatError if not)."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise HistoryFormatError(
            f"{source} is not JSON (line {error.lineno}: {error.msg}); expected the output of "
            "`aws cloudwatch describe-alarm-history --output json`"
        ) from None
    items = document.get("AlarmHistoryItems") if isinstance(document, dict) else None
    if not isinstance(items, list):
        raise HistoryFormatError(
            f"{source} has no AlarmHistoryItems list; expected the output of "
            "`aws cloudwatch describe-alarm-history --output json`"
        )
    return parse_items(items)


def parse_items(items: Iterable[Any]) -> ParsedHistory:
    parsed = ParsedHistory()
    for item in items:
        kind = item.get("HistoryItemType") if isinstance(item, Mapping) else None
        if kind != "StateUpdate":
            parsed.ignored[f"{kind or 'untyped'} items (not state changes)"] += 1
            continue
        transition = _transition(item)
        if transition is None:
            parsed.ignored["StateUpdate items without a readable name, time or HistoryData"] += 1
        else:
            parsed.transitions.append(transition)
    parsed.transitions.sort(key=lambda t: (t.alarm_name, t.at))
    return parsed


def _transition(item: Mapping[str, Any]) -> Transition | None:
    name, at = item.get("AlarmName"), parse_time(item.get("Timestamp"))
    try:
        data = json.loads(item.get("HistoryData") or "")
        old, new = data["oldState"]["stateValue"], data["newState"]["stateValue"]
    except (TypeError, KeyError, ValueError):
        return None
    if not isinstance(name, str) or not name or at is None or old not in STATES or new not in STATES:
        return None
    return Transition(name, at, old, new)


def parse_time(value: object) -> datetime | None:
    """An ISO 8601 string (the CLI prints `2026-11-30T03:14:00.123000+00:00` or `...Z`) or a datetime."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return None
    else:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_scan_output(text: str, *, source: str = "input") -> tuple[list[HistoryEntry], int]:
    """`aws dynamodb scan --output json` of the incident table -> (history entries, items that are not ones)."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise HistoryFormatError(f"{source} is not JSON (line {error.lineno}: {error.msg})") from None
    items = document.get("Items") if isinstance(document, dict) else None
    if not isinstance(items, list):
        raise HistoryFormatError(
            f"{source} has no Items list; expected the output of `aws dynamodb scan --output json`"
        )
    entries, other = [], 0
    for item in items:
        try:
            entries.append(from_item(item))
        except HistoryItemError:
            other += 1
    return entries, other


def merged_transitions(
    cloudwatch: Iterable[Transition], entries: Iterable[HistoryEntry], cloudwatch_from: datetime
) -> list[Transition]:
    """CloudWatch's transitions from `cloudwatch_from` on, the incident history's before it (older than
    CloudWatch keeps): the router records every state change it applies, with the state before it."""
    older = [
        Transition(e.alarm_name, datetime.fromtimestamp(e.changed_at, tz=UTC), e.old_state, e.state)
        for e in entries
        if e.changed_at < cloudwatch_from.timestamp()
    ]
    recent = [t for t in cloudwatch if t.at >= cloudwatch_from]
    return sorted([*older, *recent], key=lambda t: (t.alarm_name, t.at))
