"""Run the delivery of one message at most once per message id (the SNS MessageId, or Sentry's delivery id).

Deployed (IDEMPOTENCY_TABLE_NAME set): Powertools Idempotency with its DynamoDB persistence layer, so a
message SNS or Lambda delivers again is posted once, across concurrent and later invocations.
Local (no table): an in-memory equivalent with the same contract, in-progress state included. It is not a
Powertools BasePersistenceLayer subclass on purpose: importing any part of Powertools Idempotency imports
boto3 (~160 ms), which would double a local cold start for nothing.

The contract of `run_once(key, action) -> Once`:
- the first call runs `action` and remembers its result (for `ttl_seconds`); a later call returns that
  result as a duplicate without running it;
- while a call for the key is running, another raises `DeliveryInProgress` (Powertools' INPROGRESS): that
  record fails, Lambda retries the event later and then finds it delivered;
- when `action` raises, nothing is remembered, so the retry delivers it;
- when the store cannot be used (table unreachable, no permission), the message is delivered anyway
  (posting twice is better than not posting) and `Once.degraded` says why, so the handler logs, counts and
  alarms on it.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from lambdas.shared.aws import boto3_session as shared_boto3_session
from lambdas.shared.observability import scrub_secrets

Result = dict[str, Any]
KEY_PREFIX = "alert-router"  # stable across function renames and code changes


class DeliveryInProgress(Exception):
    """The same message is being delivered by another invocation (or thread) right now."""


@dataclass(frozen=True)
class Once:
    result: Result
    duplicate: bool = False
    degraded: str | None = None  # why idempotency could not be used: "<exception type>: <message>"


class Deduplicator(Protocol):
    def run_once(self, key: str, action: Callable[[], Result]) -> Once: ...


@dataclass
class InMemoryDeduplicator:
    ttl_seconds: int = 86_400
    in_progress_seconds: float = 900.0  # a claim left by a crashed call expires (Lambda's longest timeout)
    max_items: int = 1024  # a warm container must not grow without bound
    clock: Callable[[], float] = time.time
    _done: OrderedDict[str, tuple[float, Result]] = field(default_factory=OrderedDict, repr=False)
    _running: dict[str, float] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def run_once(self, key: str, action: Callable[[], Result]) -> Once:
        with self._lock:
            now = self.clock()
            remembered = self._done.get(key)
            if remembered is not None and remembered[0] > now:
                return Once(remembered[1], duplicate=True)
            if self._running.get(key, 0.0) > now:
                raise DeliveryInProgress(f"message {key} is being delivered by another invocation")
            self._running[key] = now + self.in_progress_seconds
        try:
            result = action()
        except BaseException:
            with self._lock:
                self._running.pop(key, None)
            raise
        with self._lock:
            self._running.pop(key, None)
            self._done[key] = (self.clock() + self.ttl_seconds, result)
            self._done.move_to_end(key)
            while len(self._done) > self.max_items:
                self._done.popitem(last=False)
        return Once(result)


class DynamoDBDeduplicator:
    """Powertools idempotent_function over a DynamoDB table (key `id`, TTL attribute `expiration`)."""

    def __init__(self, table_name: str, ttl_seconds: int, *, boto3_session: Any = None) -> None:
        from aws_lambda_powertools.utilities.idempotency import (  # noqa: PLC0415 - imports boto3
            DynamoDBPersistenceLayer,
            IdempotencyConfig,
        )

        # the process's one session by default: the secret's client already loaded botocore's data into it
        session = boto3_session if boto3_session is not None else shared_boto3_session()
        self._layer = DynamoDBPersistenceLayer(table_name=table_name, boto3_session=session)
        self.config = IdempotencyConfig(
            event_key_jmespath="message_id",
            expires_after_seconds=ttl_seconds,
            raise_on_no_idempotency_key=True,
            response_hook=_mark_duplicate,
        )

    def register_lambda_context(self, context: Any) -> None:
        # lets Powertools expire an in-progress record when this invocation times out
        self.config.register_lambda_context(context)

    def run_once(self, key: str, action: Callable[[], Result]) -> Once:
        from aws_lambda_powertools.utilities.idempotency import idempotent_function  # noqa: PLC0415
        from aws_lambda_powertools.utilities.idempotency.exceptions import (  # noqa: PLC0415
            IdempotencyAlreadyInProgressError,
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
        except IdempotencyAlreadyInProgressError:
            raise DeliveryInProgress(f"message {key} is being delivered by another invocation") from None
        except IdempotencyPersistenceLayerError as error:
            why = _why(error)
            if outcome:
                return Once(outcome[-1], degraded=why)  # delivered; only the bookkeeping failed
            if calls:
                raise  # the delivery itself failed: the event's retry tries again
            # The table is unreachable: posting twice is better than not posting (nothing is lost).
            return Once(action(), degraded=why)
        duplicate = bool(result.pop("_duplicate", False)) if isinstance(result, dict) else False
        return Once(result, duplicate=duplicate)


def _why(error: BaseException) -> str:
    """The store's failure with its type; Powertools wraps the boto error, which says what went wrong."""
    cause = error.__cause__ or error
    return scrub_secrets(f"{type(cause).__name__}: {cause}")[:300]


def _mark_duplicate(response: Any, idempotent_data: Any) -> Any:
    """Powertools calls this only when it answers from the store, i.e. for a duplicate."""
    return {**response, "_duplicate": True} if isinstance(response, dict) else response
