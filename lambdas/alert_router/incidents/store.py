"""Incident and silence state: DynamoDB when INCIDENT_TABLE_NAME is set, else in memory for the process.

Every write is conditional on the version read (optimistic locking): `put(record, expected_version)` stores
version + 1 or raises `Conflict`; expected None means "must not exist yet". The caller re-reads and
decides again on a conflict, so two concurrent invocations for one alarm never lose an update.

Table design (one table, on-demand):
    pk          S   partition key: "incident#<alarm ARN or alarm key>" | "silence#<id>" | "group#<group key>"
    kind        S   "incident" | "silence" | "group" (the open thread of a group of alarms, issue 13)
    version     N   optimistic lock
    data        S   the record as JSON (lossless floats, no Decimal juggling, one attribute to evolve)
    sweep       S   sparse: "incident" while open / flapping / original stale, "silence" until summarised;
                    removed when nothing is left to do
    expires_at  N   TTL (epoch seconds): incidents 30 days after their last write, silences 7 days after
                    they end, group threads a day after their last member joined
    GSI "sweep" (partition key `sweep`, projection ALL): the sweep and silence matching query it instead of
    scanning the table. IAM: GetItem, PutItem on the table, Query on the table and its indexes.

Incident history (`history#...` items, 90 days, lambdas/shared/incident_history.py) is written by
`put_history`: one unconditional PutItem per state change applied (and again for an acknowledgement), read
by `make alarm-report`. In memory the entries are kept by their key for the process.

The silence CLI calls `create_silence`, `list_silences` and `expire_silence` below with `store_from_env()`.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar

from lambdas.alert_router.incidents.model import GroupThread, Incident, dumps
from lambdas.alert_router.incidents.silences import Silence, expired, new_silence
from lambdas.shared.incident_history import HistoryEntry, put_request

SWEEP_INDEX = "sweep"
INCIDENT_TTL_SECONDS = 30 * 86_400
SILENCE_TTL_AFTER_END_SECONDS = 7 * 86_400
GROUP_TTL_SECONDS = 86_400  # far beyond the join window (at most 4 h): only the table's tidiness

_R = TypeVar("_R", Incident, Silence, GroupThread)


class Conflict(Exception):
    """The record changed since it was read (or exists although it should not)."""


class IncidentStore(Protocol):
    def get_incident(self, key: str) -> Incident | None: ...
    def put_incident(self, incident: Incident, expected_version: int | None) -> Incident: ...
    def sweep_incidents(self) -> list[Incident]: ...
    def get_silence(self, silence_id: str) -> Silence | None: ...
    def put_silence(self, silence: Silence, expected_version: int | None) -> Silence: ...
    def sweep_silences(self) -> list[Silence]: ...
    def get_group(self, key: str) -> GroupThread | None: ...
    def put_group(self, thread: GroupThread, expected_version: int | None) -> GroupThread: ...

    def put_history(self, entry: HistoryEntry) -> None: ...


def _expected(version: int) -> int | None:
    return version if version > 0 else None


@dataclass
class InMemoryIncidentStore:
    """The same contract in the process: locally several events in one process behave as deployed."""

    _items: dict[str, tuple[int, str]] = field(default_factory=dict, repr=False)
    _history: dict[str, HistoryEntry] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _get(self, pk: str) -> tuple[int, dict[str, Any]] | None:
        with self._lock:
            item = self._items.get(pk)
        return (item[0], json.loads(item[1])) if item else None

    def _put(self, pk: str, data: dict[str, Any], expected_version: int | None) -> int:
        with self._lock:
            current = self._items.get(pk)
            if (current[0] if current else None) != expected_version:
                raise Conflict(pk)
            version = (expected_version or 0) + 1
            self._items[pk] = (version, dumps(data))  # serialised: callers never share mutable state
            return version

    def get_incident(self, key: str) -> Incident | None:
        found = self._get(f"incident#{key}")
        return Incident.from_data(found[1], found[0]) if found else None

    def put_incident(self, incident: Incident, expected_version: int | None) -> Incident:
        version = self._put(f"incident#{incident.key}", incident.to_data(), expected_version)
        return replace(incident, version=version)

    def sweep_incidents(self) -> list[Incident]:
        with self._lock:
            keys = [pk for pk in self._items if pk.startswith("incident#")]
        found = [self.get_incident(pk.removeprefix("incident#")) for pk in keys]
        return [incident for incident in found if incident is not None and incident.needs_sweep]

    def get_silence(self, silence_id: str) -> Silence | None:
        found = self._get(f"silence#{silence_id}")
        return Silence.from_data(found[1], found[0]) if found else None

    def put_silence(self, silence: Silence, expected_version: int | None) -> Silence:
        version = self._put(f"silence#{silence.id}", silence.to_data(), expected_version)
        return replace(silence, version=version)

    def sweep_silences(self) -> list[Silence]:
        with self._lock:
            keys = [pk for pk in self._items if pk.startswith("silence#")]
        found = [self.get_silence(pk.removeprefix("silence#")) for pk in keys]
        return [silence for silence in found if silence is not None and not silence.summarised]

    def get_group(self, key: str) -> GroupThread | None:
        found = self._get(f"group#{key}")
        return GroupThread.from_data(found[1], found[0]) if found else None

    def put_group(self, thread: GroupThread, expected_version: int | None) -> GroupThread:
        version = self._put(f"group#{thread.key}", thread.to_data(), expected_version)
        return replace(thread, version=version)

    def put_history(self, entry: HistoryEntry) -> None:
        with self._lock:
            self._history[entry.pk] = entry  # the same change again replaces its entry, as in the table

    def history(self) -> list[HistoryEntry]:
        """The entries kept, by alarm and time (tests, the demo)."""
        with self._lock:
            return sorted(self._history.values(), key=lambda e: (e.alarm_key, e.changed_at, e.state))


class DynamoDBIncidentStore:
    """The table described in the module docstring, through the low-level client (no Decimal conversions)."""

    def __init__(self, table_name: str, *, client: Any = None, clock: Callable[[], float] | None = None) -> None:
        if client is None:
            import boto3  # noqa: PLC0415 - ~90 ms; only bot-token mode with a table pays it

            client = boto3.client("dynamodb")
        self._client = client
        self._table = table_name
        self._clock = clock or (lambda: datetime.now(UTC).timestamp())

    def _get(self, pk: str) -> tuple[int, dict[str, Any]] | None:
        item = self._client.get_item(TableName=self._table, Key={"pk": {"S": pk}}, ConsistentRead=True).get("Item")
        return (int(item["version"]["N"]), json.loads(item["data"]["S"])) if item else None

    def _put(  # noqa: PLR0917 - one private call shape for both record kinds
        self, pk: str, kind: str, data: dict[str, Any], expected: int | None, sweep: bool, expires: float
    ) -> int:
        version = (expected or 0) + 1
        item: dict[str, Any] = {
            "pk": {"S": pk},
            "kind": {"S": kind},
            "version": {"N": str(version)},
            "data": {"S": dumps(data)},
            "expires_at": {"N": str(int(expires))},
        }
        if sweep:
            item["sweep"] = {"S": kind}
        condition: dict[str, Any] = (
            {"ConditionExpression": "attribute_not_exists(pk)"}
            if expected is None
            else {
                "ConditionExpression": "version = :expected",
                "ExpressionAttributeValues": {":expected": {"N": str(expected)}},
            }
        )
        try:
            self._client.put_item(TableName=self._table, Item=item, **condition)
        except self._client.exceptions.ConditionalCheckFailedException:
            raise Conflict(pk) from None
        return version

    def _query(self, kind: str) -> list[tuple[int, dict[str, Any]]]:
        found: list[tuple[int, dict[str, Any]]] = []
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": SWEEP_INDEX,
            "KeyConditionExpression": "sweep = :kind",
            "ExpressionAttributeValues": {":kind": {"S": kind}},
        }
        while True:
            page = self._client.query(**kwargs)
            found += [(int(item["version"]["N"]), json.loads(item["data"]["S"])) for item in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                return found
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def get_incident(self, key: str) -> Incident | None:
        found = self._get(f"incident#{key}")
        return Incident.from_data(found[1], found[0]) if found else None

    def put_incident(self, incident: Incident, expected_version: int | None) -> Incident:
        expires = self._clock() + INCIDENT_TTL_SECONDS
        version = self._put(
            f"incident#{incident.key}", "incident", incident.to_data(), expected_version, incident.needs_sweep, expires
        )
        return replace(incident, version=version)

    def sweep_incidents(self) -> list[Incident]:
        # the index is eventually consistent: the sweep re-reads each record before acting on it
        return [Incident.from_data(data, version) for version, data in self._query("incident")]

    def get_silence(self, silence_id: str) -> Silence | None:
        found = self._get(f"silence#{silence_id}")
        return Silence.from_data(found[1], found[0]) if found else None

    def put_silence(self, silence: Silence, expected_version: int | None) -> Silence:
        expires = silence.until + SILENCE_TTL_AFTER_END_SECONDS
        version = self._put(
            f"silence#{silence.id}", "silence", silence.to_data(), expected_version, not silence.summarised, expires
        )
        return replace(silence, version=version)

    def sweep_silences(self) -> list[Silence]:
        return [Silence.from_data(data, version) for version, data in self._query("silence")]

    def get_group(self, key: str) -> GroupThread | None:
        found = self._get(f"group#{key}")
        return GroupThread.from_data(found[1], found[0]) if found else None

    def put_group(self, thread: GroupThread, expected_version: int | None) -> GroupThread:
        expires = thread.last_joined_at + GROUP_TTL_SECONDS
        version = self._put(f"group#{thread.key}", "group", thread.to_data(), expected_version, False, expires)
        return replace(thread, version=version)

    def put_history(self, entry: HistoryEntry) -> None:
        self._client.put_item(**put_request(self._table, entry))


def update_with_retry(
    read: Callable[[], _R | None], change: Callable[[_R | None], _R | None], write: Callable[[_R, int | None], _R]
) -> _R | None:
    """Read, change, conditionally write; on a conflict read again (bounded: conflicts mean real contention)."""
    for _ in range(20):
        current = read()
        changed = change(current)
        if changed is None:
            return current
        try:
            return write(changed, _expected(current.version) if current is not None else None)
        except Conflict:
            continue
    raise Conflict("too many concurrent updates")


# --- the API of the silence CLI (make silence / silences / unsilence) -----------------------------------------


def store_from_env(environ: dict[str, str] | None = None) -> IncidentStore:
    """DynamoDB when INCIDENT_TABLE_NAME is set (the CLI needs AWS credentials), else a fresh in-memory store."""
    env = os.environ if environ is None else environ
    table = env.get("INCIDENT_TABLE_NAME", "").strip()
    return DynamoDBIncidentStore(table) if table else InMemoryIncidentStore()


def create_silence(
    store: IncidentStore,
    *,
    match: str,
    duration: timedelta,
    reason: str,
    created_by: str,
    now: datetime | None = None,
    critical_alarm_names: Collection[str] = (),
    allow_all_critical: bool = False,
) -> Silence:
    """Validate (SilenceError) and store a silence starting now."""
    silence = new_silence(
        match=match,
        duration=duration,
        reason=reason,
        created_by=created_by,
        now=now or datetime.now(UTC),
        critical_alarm_names=critical_alarm_names,
        allow_all_critical=allow_all_critical,
    )
    return store.put_silence(silence, None)


def list_silences(store: IncidentStore, *, now: datetime | None = None, include_ended: bool = False) -> list[Silence]:
    """Ad-hoc and maintenance-window silences not yet summarised, active ones first, by end time."""
    stamp = (now or datetime.now(UTC)).timestamp()
    silences = [s for s in store.sweep_silences() if include_ended or s.active(stamp)]
    return sorted(silences, key=lambda s: (not s.active(stamp), s.until))


def expire_silence(store: IncidentStore, silence_id: str, *, now: datetime | None = None) -> Silence | None:
    """End a silence now; the next sweep posts its summary. None when there is no such silence."""
    moment = now or datetime.now(UTC)
    return update_with_retry(
        lambda: store.get_silence(silence_id),
        lambda current: expired(current, moment) if current is not None else None,
        store.put_silence,
    )
