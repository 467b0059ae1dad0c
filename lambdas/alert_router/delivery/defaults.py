"""The adapters a deployed or local run uses when the handler is not given any: built from the settings,
one per process (cached), so a warm container keeps its webhook spacing and its in-memory idempotency."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from lambdas.alert_router.delivery.engine import DeliveryEngine, Pacer
from lambdas.alert_router.delivery.idempotency import Deduplicator, DynamoDBDeduplicator, InMemoryDeduplicator
from lambdas.alert_router.delivery.webhook import DryRunSender, Sender, WebhookSender
from lambdas.alert_router.settings import Settings, load_webhooks


def default_sender(settings: Settings, context: Any) -> Sender:
    webhooks = load_webhooks(settings)
    if webhooks is None:
        return DryRunSender()
    sender = _webhook_sender(tuple(sorted(webhooks.items())))
    sender.engine.remaining_seconds = remaining_seconds(context)
    return sender


def engine_for(context: Any) -> DeliveryEngine:
    """An engine bound to this invocation's remaining time, pacing with the process's other engines."""
    return DeliveryEngine(remaining_seconds=remaining_seconds(context), pacer=process_pacer())


def remaining_seconds(context: Any) -> Callable[[], float]:
    def remaining() -> float:
        return float(context.get_remaining_time_in_millis()) / 1000

    return remaining


@functools.cache
def process_pacer() -> Pacer:
    # One per process: a warm container spaces its posts to a webhook or channel across invocations.
    return Pacer()


@functools.lru_cache(maxsize=4)
def _webhook_sender(webhooks: tuple[tuple[str, str], ...]) -> WebhookSender:
    # One sender per process (and per webhook set, so a rotated secret takes effect).
    return WebhookSender(webhooks=dict(webhooks), engine=DeliveryEngine(pacer=process_pacer()))


def default_deduplicator(settings: Settings, context: Any) -> Deduplicator:
    if settings.idempotency_table:
        deduplicator = _dynamodb_deduplicator(settings.idempotency_table, settings.idempotency_ttl_seconds)
        deduplicator.register_lambda_context(context)
        return deduplicator
    return _in_memory_deduplicator(settings.idempotency_ttl_seconds)


@functools.cache
def _dynamodb_deduplicator(table: str, ttl_seconds: int) -> DynamoDBDeduplicator:
    return DynamoDBDeduplicator(table, ttl_seconds)


@functools.cache
def _in_memory_deduplicator(ttl_seconds: int) -> InMemoryDeduplicator:
    return InMemoryDeduplicator(ttl_seconds=ttl_seconds)


def reset_process_adapters() -> None:
    """Forget the per-process adapters (tests that need a fresh process)."""
    _webhook_sender.cache_clear()
    process_pacer.cache_clear()
    _in_memory_deduplicator.cache_clear()
    _dynamodb_deduplicator.cache_clear()
