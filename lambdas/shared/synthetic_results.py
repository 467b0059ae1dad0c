"""The synthetic monitor's latest result per check, as the monitor writes it and the router reads it.

The monitor writes one item per check on every run (lambdas/synthetic_monitor/results.py); the router
reads them all with one Query when a synthetic alarm fires, to say what the check saw
(lambdas/alert_router/enrichment/synthetic.py). One DynamoDB table per stack:

    pk       "latest"                 (S, partition key: one Query returns every check)
    check    the check's name         (S, sort key)
    at       epoch seconds of the run (N)
    url, ok, up, status_code, latency_ms, complete, reason, dependencies ({name: healthy})
    ttl      epoch seconds (N, the table's TTL attribute): a check removed from config disappears

Without a table (local runs, the demo, tests) both sides use one in-process store, the way the incident
store works locally. The reader judges age itself: DynamoDB deletes expired items within days, not
at once.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

PARTITION = "latest"
TTL_ATTRIBUTE = "ttl"
TTL_SECONDS = 3600
# The monitor's pass/fail metrics and their dimensions (lambdas/synthetic_monitor/metric_names.py)
CHECK_SUCCESS = "CheckSuccess"
DEPENDENCY_HEALTHY = "DependencyHealthy"
CHECK_DIMENSION = "check"
DEPENDENCY_DIMENSION = "dependency"


@dataclass(frozen=True)
class CheckRecord:
    check: str
    at: float
    url: str
    ok: bool
    up: bool
    status_code: int | None
    latency_ms: float
    complete: bool
    reason: str | None
    dependencies: Mapping[str, bool] = field(default_factory=dict)


def to_item(record: CheckRecord, ttl_seconds: int = TTL_SECONDS) -> dict[str, Any]:
    """The DynamoDB item (resource API types: Decimal for numbers); absent facts are left out."""
    from decimal import Decimal  # noqa: PLC0415 - the writer's only: the router's cold start does not need it

    item: dict[str, Any] = {
        "pk": PARTITION,
        "check": record.check,
        "at": Decimal(str(round(record.at, 3))),
        "url": record.url,
        "ok": record.ok,
        "up": record.up,
        "latency_ms": Decimal(str(round(record.latency_ms, 1))),
        "complete": record.complete,
        TTL_ATTRIBUTE: int(record.at) + ttl_seconds,
    }
    if record.status_code is not None:
        item["status_code"] = record.status_code
    if record.reason:
        item["reason"] = record.reason
    if record.dependencies:
        item["dependencies"] = dict(record.dependencies)
    return item


def from_item(item: Mapping[str, Any]) -> CheckRecord | None:
    """A record from an item; an item of another shape (a newer writer, a hand edit) is None, not an error."""
    try:
        dependencies = item.get("dependencies") or {}
        return CheckRecord(
            check=str(item["check"]),
            at=float(item["at"]),
            url=str(item.get("url", "")),
            ok=bool(item["ok"]),
            up=bool(item["up"]),
            status_code=int(item["status_code"]) if item.get("status_code") is not None else None,
            latency_ms=float(item.get("latency_ms", 0)),
            complete=bool(item.get("complete", False)),
            reason=str(item["reason"]) if item.get("reason") else None,
            dependencies={str(name): bool(healthy) for name, healthy in dependencies.items()},
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


class ResultsStore(Protocol):
    def write(self, records: Sequence[CheckRecord]) -> None: ...

    def latest(self) -> list[CheckRecord]: ...


class InMemoryResults:
    """The process's store when no table is configured: the monitor and the router of one local process
    (the demo) share it."""

    def __init__(self) -> None:
        self._records: dict[str, CheckRecord] = {}
        self._lock = threading.Lock()

    def write(self, records: Sequence[CheckRecord]) -> None:
        with self._lock:
            self._records.update({record.check: record for record in records})

    def latest(self) -> list[CheckRecord]:
        with self._lock:
            return list(self._records.values())

    def clear(self) -> None:
        with self._lock:
            self._records.clear()


PROCESS_RESULTS = InMemoryResults()


BATCH = 25  # BatchWriteItem takes at most 25 requests
CLIENT_TIMEOUT_SECONDS = 1.0  # botocore's connect and per-read timeouts; the caller bounds the whole call


class DynamoDBResults:
    """The table (pk "latest", sort key "check"): BatchWriteItem of every check, Query of all of them.

    boto3 is imported by the first call: a function without a table never pays its import.
    https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchWriteItem.html
    https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_Query.html
    """

    def __init__(self, table: str, client: Any = None) -> None:
        self.table = table
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3  # noqa: PLC0415 - see the class docstring
            from botocore.config import Config  # noqa: PLC0415

            config = Config(
                connect_timeout=CLIENT_TIMEOUT_SECONDS,
                read_timeout=CLIENT_TIMEOUT_SECONDS,
                retries={"total_max_attempts": 2, "mode": "standard"},
            )
            self._client = boto3.client("dynamodb", config=config)
        return self._client

    def write(self, records: Sequence[CheckRecord]) -> None:
        from boto3.dynamodb.types import TypeSerializer  # noqa: PLC0415

        serializer = TypeSerializer()
        items = [{key: serializer.serialize(value) for key, value in to_item(record).items()} for record in records]
        for start in range(0, len(items), BATCH):
            chunk = [{"PutRequest": {"Item": item}} for item in items[start : start + BATCH]]
            answer = self.client.batch_write_item(RequestItems={self.table: chunk})
            left = answer.get("UnprocessedItems", {}).get(self.table)
            if left:  # throttled: once more, then it is the caller's failure to count
                again = self.client.batch_write_item(RequestItems={self.table: left})
                if again.get("UnprocessedItems", {}).get(self.table):
                    raise RuntimeError(f"{len(again['UnprocessedItems'][self.table])} results not written")

    def latest(self) -> list[CheckRecord]:
        from boto3.dynamodb.types import TypeDeserializer  # noqa: PLC0415

        deserializer = TypeDeserializer()
        answer = self.client.query(
            TableName=self.table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": PARTITION}},
        )
        items = ({key: deserializer.deserialize(value) for key, value in item.items()} for item in answer["Items"])
        return [record for record in map(from_item, items) if record is not None]


def results_store(table: str | None) -> ResultsStore:
    """The table's store when a table is named, else the process's."""
    return _dynamodb_results(table) if table else PROCESS_RESULTS


@functools.cache
def _dynamodb_results(table: str) -> DynamoDBResults:
    return DynamoDBResults(table)
