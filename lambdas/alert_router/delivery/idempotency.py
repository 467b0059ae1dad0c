"""Run the delivery of one message at most once per message id (the SNS MessageId).

Deployed (IDEMPOTENCY_TABLE_NAME set): Powertools Idempotency with its DynamoDB persistence layer, so a
message SNS or Lambda delivers again is posted once, across concurrent and later invocations.
Local (no table): an in-memory equivalent with the same contract. It is not a Powertools
BasePersistenceLayer subclass on purpose: importing any part of Powertools Idempotency imports boto3
(~160 ms), which would double a local cold start for nothing.

`run_once` returns (result, duplicate). When the action raises, nothing is remembered, so the retry
(Lambda's async retry of the whole event) delivers it.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

Result = dict[str, Any]
KEY_PREFIX = "alert-router"  # stable across function renames and code changes


class Deduplicator(Protocol):
    def run_once(self, key: str, action: Callable[[], Result]) -> tuple[Result, bool]: ...


@dataclass
class InMemoryDeduplicator:
    ttl_seconds: int = 86_400
    max_items: int = 1024  # a warm container must not grow without bound
    clock: Callable[[], float] = time.time
    _done: OrderedDict[str, tuple[float, Result]] = field(default_factory=OrderedDict, repr=False)

    def run_once(self, key: str, action: Callable[[], Result]) -> tuple[Result, bool]:
        now = self.clock()
        remembered = self._done.get(key)
        if remembered is not None and remembered[0] > now:
            return remembered[1], True
        result = action()
        self._done[key] = (now + self.ttl_seconds, result)
        self._done.move_to_end(key)
        while len(self._done) > self.max_items:
            self._done.popitem(last=False)
        return result, False


class DynamoDBDeduplicator:
    """Powertools idempotent_function over a DynamoDB table (key `id`, TTL attribute `expiration`)."""

    def __init__(self, table_name: str, ttl_seconds: int, *, boto3_session: Any = None) -> None:
        from aws_lambda_powertools.utilities.idempotency import (  # noqa: PLC0415 - imports boto3
            DynamoDBPersistenceLayer,
            IdempotencyConfig,
        )

        self._layer = DynamoDBPersistenceLayer(table_name=table_name, boto3_session=boto3_session)
        self.config = IdempotencyConfig(
            event_key_jmespath="message_id",
            expires_after_seconds=ttl_seconds,
            raise_on_no_idempotency_key=True,
            response_hook=_mark_duplicate,
        )

    def register_lambda_context(self, context: Any) -> None:
        # lets Powertools expire an in-progress record when this invocation times out
        self.config.register_lambda_context(context)

    def run_once(self, key: str, action: Callable[[], Result]) -> tuple[Result, bool]:
        from aws_lambda_powertools.utilities.idempotency import idempotent_function  # noqa: PLC0415
        from aws_lambda_powertools.utilities.idempotency.exceptions import (  # noqa: PLC0415
            IdempotencyPersistenceLayerError,
        )

        calls: list[str] = []
        outcome: list[Result] = []

        def deliver(record: dict[str, str]) -> Result:
            calls.append(record["message_id"])
            outcome.append(action())
            return outcome[-1]

        guarded = idempotent_function(
            deliver,
            data_keyword_argument="record",
            persistence_store=self._layer,
            config=self.config,
            key_prefix=KEY_PREFIX,
        )
        try:
            result: Result = guarded(record={"message_id": key})
        except IdempotencyPersistenceLayerError:
            if outcome:
                return outcome[-1], False  # delivered; only the bookkeeping failed (a redelivery may repeat)
            if calls:
                raise  # the delivery itself failed: the event's retry tries again
            # The table is unreachable: posting twice is better than not posting (nothing is lost).
            return {**action(), "idempotency": "unavailable"}, False
        duplicate = bool(result.pop("_duplicate", False)) if isinstance(result, dict) else False
        return result, duplicate


def _mark_duplicate(response: Any, idempotent_data: Any) -> Any:
    """Powertools calls this only when it answers from the store, i.e. for a duplicate."""
    return {**response, "_duplicate": True} if isinstance(response, dict) else response
