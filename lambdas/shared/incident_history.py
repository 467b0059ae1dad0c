"""Incident history items in the router's incident table: one item per alarm state change, kept 90 days.

CloudWatch keeps alarm history for about 14 days. In bot-token mode the router writes what it applied to
the incident table as well, and `make alarm-report` reads it back (acknowledgements, and history older
than CloudWatch's). The writer and the reader share this module; it does no I/O: it builds the exact
DynamoDB requests (low-level attribute values, like lambdas/alert_router/incidents/store.py).

Item format (in the incident table, next to the `incident#` and `silence#` items):
    pk          S   "history#<alarm key>#<changed_at, epoch milliseconds, 13 digits>#<state>" - unique per
                    change, and the same again for the same change (a redelivered or re-put entry overwrites)
    kind        S   "history"
    alarm_key   S   the incident key: the alarm's ARN, else "alarm:<account>:<region>:<name>"
    alarm_name  S   the alarm's name (what CloudWatch's history and the report group by)
    state       S   the new state: ALARM | OK | INSUFFICIENT_DATA
    old_state   S   the state before (the notification's OldStateValue)
    changed_at  N   the alarm's StateChangeTime, epoch seconds (float)
    message_ts  S   optional: the Slack ts of the incident's thread
    acked_by    S   optional: who acknowledged the incident this ALARM opened
    acked_at    N   optional: when, epoch seconds
    expires_at  N   the table's TTL attribute: changed_at + 90 days (a re-put keeps the same expiry)

No `sweep` attribute: history never enters the sweep index.

The writer (the router, bot-token mode) needs only dynamodb:PutItem on the table, which it has:
    client.put_item(**put_request(table_name, HistoryEntry(...)))
for every state change it applies; an acknowledgement puts the same ALARM entry again with `acked_by` and
`acked_at` set (same pk, so the item is replaced, never duplicated). The reader scans with
`scan_request(table_name, since, until)` and follows `LastEvaluatedKey` (needs dynamodb:Scan): the table's
only key is `pk`, and a Scan with a filter on `kind` reads every item once, which is a few MB at most for
90 days of one stack's alarms.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

HISTORY_TTL_SECONDS = 90 * 86_400
# DynamoDB allows one TTL attribute per table: the incident table's (infra/constructs/alert_router.py).
TTL_ATTRIBUTE = "expires_at"
KIND = "history"
PK_PREFIX = "history#"
STATES = ("ALARM", "OK", "INSUFFICIENT_DATA")


class HistoryItemError(ValueError):
    """An item that is not a readable history entry; the message says which attribute."""


@dataclass(frozen=True)
class HistoryEntry:
    alarm_key: str
    alarm_name: str
    state: str
    old_state: str
    changed_at: float
    message_ts: str | None = None
    acked_by: str | None = None
    acked_at: float | None = None

    def __post_init__(self) -> None:
        for name, value in (("state", self.state), ("old_state", self.old_state)):
            if value not in STATES:
                raise HistoryItemError(f"{name} {value!r} is not one of {', '.join(STATES)}")
        if not self.alarm_key or not self.alarm_name:
            raise HistoryItemError("alarm_key and alarm_name are required")

    @property
    def pk(self) -> str:
        return f"{PK_PREFIX}{self.alarm_key}#{round(self.changed_at * 1000):013d}#{self.state}"

    @property
    def expires_at(self) -> int:
        return int(self.changed_at) + HISTORY_TTL_SECONDS


def to_item(entry: HistoryEntry) -> dict[str, Any]:
    """The entry as a low-level DynamoDB item."""
    item: dict[str, Any] = {
        "pk": {"S": entry.pk},
        "kind": {"S": KIND},
        "alarm_key": {"S": entry.alarm_key},
        "alarm_name": {"S": entry.alarm_name},
        "state": {"S": entry.state},
        "old_state": {"S": entry.old_state},
        "changed_at": {"N": repr(float(entry.changed_at))},
        TTL_ATTRIBUTE: {"N": str(entry.expires_at)},
    }
    if entry.message_ts:
        item["message_ts"] = {"S": entry.message_ts}
    if entry.acked_by:
        item["acked_by"] = {"S": entry.acked_by}
    if entry.acked_at is not None:
        item["acked_at"] = {"N": repr(float(entry.acked_at))}
    return item


def from_item(item: dict[str, Any]) -> HistoryEntry:
    """A history entry from a low-level item; HistoryItemError for anything else."""

    def text(name: str, *, required: bool = True) -> str | None:
        value = item.get(name, {}).get("S") if isinstance(item.get(name), dict) else None
        if value is None and required:
            raise HistoryItemError(f"attribute {name!r} missing or not a string")
        return value

    def number(name: str, *, required: bool = True) -> float | None:
        raw = item.get(name, {}).get("N") if isinstance(item.get(name), dict) else None
        if raw is None:
            if required:
                raise HistoryItemError(f"attribute {name!r} missing or not a number")
            return None
        try:
            return float(raw)
        except ValueError:
            raise HistoryItemError(f"attribute {name!r} is not a number: {raw!r}") from None

    if text("kind") != KIND:
        raise HistoryItemError(f"kind is {text('kind')!r}, not {KIND!r}")
    return HistoryEntry(
        alarm_key=str(text("alarm_key")),
        alarm_name=str(text("alarm_name")),
        state=str(text("state")),
        old_state=str(text("old_state")),
        changed_at=float(number("changed_at") or 0.0),
        message_ts=text("message_ts", required=False),
        acked_by=text("acked_by", required=False),
        acked_at=number("acked_at", required=False),
    )


def put_request(table_name: str, entry: HistoryEntry) -> dict[str, Any]:
    """The arguments of `put_item` that records (or, with an acknowledgement, re-records) the entry."""
    return {"TableName": table_name, "Item": to_item(entry)}


def scan_request(table_name: str, since: float, until: float) -> dict[str, Any]:
    """The arguments of the first `scan` page for entries changed in [since, until] (epoch seconds)."""
    return {
        "TableName": table_name,
        # `state` and `at`-like words are DynamoDB reserved words: every name goes through a placeholder.
        "FilterExpression": "#kind = :kind AND #changed BETWEEN :since AND :until",
        "ExpressionAttributeNames": {"#kind": "kind", "#changed": "changed_at"},
        "ExpressionAttributeValues": {
            ":kind": {"S": KIND},
            ":since": {"N": repr(float(since))},
            ":until": {"N": repr(float(until))},
        },
    }
