"""Deliver each alert at most once per message id (the SNS MessageId, or Sentry's delivery id), also when
several alerts travel in one Slack message (a group, a storm digest).

Deployed (IDEMPOTENCY_TABLE_NAME set): Powertools Idempotency's DynamoDB persistence layer, so an alert
SNS or SQS delivers again is posted once, across concurrent and later invocations. Local (no table): an
in-memory equivalent with the same contract, in-progress state included. It is not a Powertools
BasePersistenceLayer subclass on purpose: importing any part of Powertools Idempotency imports boto3
(~160 ms), which would double a local cold start for nothing.

The contract, per alert, in three steps (a message is posted between claim and complete):
- `claim(key)` records the key as in progress and returns a fresh `Claim`; for a key already delivered it
  returns a claim marked `duplicate` with the remembered result (nothing to post); while another
  invocation holds the key it raises `DeliveryInProgress` (Powertools' INPROGRESS): that record fails and
  SQS (or Lambda) delivers it again later, when it is found delivered;
- `complete(claim, result)` remembers the delivery for `ttl_seconds`;
- `release(claim)` forgets the claim when the message was not posted, so the retry posts it.
Claiming each member before the one message that carries them is what makes a group or digest
idempotent: a batch delivered again, however SQS re-batches its records, finds every alert it already
posted and posts only the rest.
When the store cannot be used (table unreachable, no permission) the alert is delivered anyway (posting
twice is better than not posting) and `Claim.degraded` says why, so the handler logs, counts and alarms.

Why not Powertools' `idempotent_function`: it wraps one call per key, and a group message is one call for
many keys; the persistence layer's own save_inprogress / save_success / delete_record are what it calls.
Records keep the key format of the `idempotent_function` the router used before (prefix `alert-router`,
JMESPath `message_id`), so a redelivery across the deploy is still recognised.
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
class Claim:
    key: str
    duplicate: Result | None = None  # already delivered: what its delivery returned
    degraded: str | None = None  # why the store could not be used: "<exception type>: <message>"


class Deduplicator(Protocol):
    def claim(self, key: str) -> Claim: ...
    def complete(self, claim: Claim, result: Result) -> str | None: ...  # why it could not remember, or None
    def release(self, claim: Claim) -> str | None: ...  # why it could not forget, or None


@dataclass
class InMemoryDeduplicator:
    ttl_seconds: int = 86_400
    in_progress_seconds: float = 900.0  # a claim left by a crashed call expires (Lambda's longest timeout)
    max_items: int = 4096  # a warm container must not grow without bound (a storm is a few hundred)
    clock: Callable[[], float] = time.time
    _done: OrderedDict[str, tuple[float, Result]] = field(default_factory=OrderedDict, repr=False)
    _running: dict[str, float] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def claim(self, key: str) -> Claim:
        with self._lock:
            now = self.clock()
            remembered = self._done.get(key)
            if remembered is not None and remembered[0] > now:
                return Claim(key, duplicate=remembered[1])
            if self._running.get(key, 0.0) > now:
                raise DeliveryInProgress(f"message {key} is being delivered by another invocation")
            self._running[key] = now + self.in_progress_seconds
        return Claim(key)

    def complete(self, claim: Claim, result: Result) -> str | None:
        with self._lock:
            self._running.pop(claim.key, None)
            self._done[claim.key] = (self.clock() + self.ttl_seconds, result)
            self._done.move_to_end(claim.key)
            while len(self._done) > self.max_items:
                self._done.popitem(last=False)
        return None

    def release(self, claim: Claim) -> str | None:
        with self._lock:
            self._running.pop(claim.key, None)
        return None


class DynamoDBDeduplicator:
    """Powertools' DynamoDBPersistenceLayer (key `id`, TTL attribute `expiration`), one record per alert."""

    def __init__(self, table_name: str, ttl_seconds: int, *, boto3_session: Any = None) -> None:
        from aws_lambda_powertools.utilities.idempotency import (  # noqa: PLC0415 - imports boto3
            DynamoDBPersistenceLayer,
            IdempotencyConfig,
        )

        # the process's one session by default: the secret's client already loaded botocore's data into it
        session = boto3_session if boto3_session is not None else shared_boto3_session()
        self._layer = DynamoDBPersistenceLayer(table_name=table_name, boto3_session=session)
        self.config = IdempotencyConfig(
            event_key_jmespath="message_id", expires_after_seconds=ttl_seconds, raise_on_no_idempotency_key=True
        )
        self._layer.configure(self.config, key_prefix=KEY_PREFIX)

    def register_lambda_context(self, context: Any) -> None:
        # an in-progress record expires with this invocation, so a crash does not hold the alert for a day
        self.config.register_lambda_context(context)

    def claim(self, key: str) -> Claim:
        from aws_lambda_powertools.utilities.idempotency.exceptions import (  # noqa: PLC0415
            IdempotencyItemAlreadyExistsError,
            IdempotencyItemNotFoundError,
        )

        data = {"message_id": key}
        context = self.config.lambda_context
        remaining = int(context.get_remaining_time_in_millis()) if context is not None else None
        for _attempt in range(2):  # a record released between our two calls is free: claim it again
            try:
                self._layer.save_inprogress(data=data, remaining_time_in_millis=remaining)
            except IdempotencyItemAlreadyExistsError as exists:
                try:
                    record = exists.old_data_record or self._layer.get_record(data=data)
                except IdempotencyItemNotFoundError:
                    continue
                except Exception as error:  # the store failed: deliver anyway, degraded
                    return Claim(key, degraded=_why(error))
                if record is not None and record.status == "COMPLETED":
                    return Claim(key, duplicate=record.response_json_as_dict() or {})
                break
            except Exception as error:  # the store failed: deliver anyway, degraded
                return Claim(key, degraded=_why(error))
            else:
                return Claim(key)
        raise DeliveryInProgress(f"message {key} is being delivered by another invocation")

    def complete(self, claim: Claim, result: Result) -> str | None:
        if claim.degraded:  # said once, at the claim
            return None
        try:
            self._layer.save_success(data={"message_id": claim.key}, result=result)
        except Exception as error:  # delivered; only the bookkeeping failed
            return _why(error)
        return None

    def release(self, claim: Claim) -> str | None:
        if claim.degraded:
            return None
        try:
            self._layer.delete_record(data={"message_id": claim.key}, exception=RuntimeError("not delivered"))
        except Exception as error:  # the in-progress record then expires with this invocation
            return _why(error)
        return None


def _why(error: BaseException) -> str:
    """The store's failure with its type; Powertools wraps the boto error, which says what went wrong."""
    cause = error.__cause__ or error
    return scrub_secrets(f"{type(cause).__name__}: {cause}")[:300]
