"""Bot-token mode's wiring: the incident loop with its Slack Web API client and its store (DynamoDB when
INCIDENT_TABLE_NAME is set, else in memory for the process). Imported only in bot-token mode."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from lambdas.alert_router.delivery.defaults import engine_for, remaining_seconds
from lambdas.alert_router.delivery.response_url import ResponseUrlClient
from lambdas.alert_router.delivery.web_api import SlackApi, WebApiClient
from lambdas.alert_router.incidents.loop import Counter, Lifecycle
from lambdas.alert_router.incidents.pager import Pager, SnsPager
from lambdas.alert_router.incidents.store import DynamoDBIncidentStore, IncidentStore, InMemoryIncidentStore
from lambdas.alert_router.settings import BotConfig, Settings


def build_lifecycle(  # noqa: PLR0917 - the handler's injectable adapters, passed through
    settings: Settings,
    bot: BotConfig,
    context: Any,
    slack_api: SlackApi | None,
    store: IncidentStore | None,
    now: Callable[[], float] | None,
    *,
    count: Counter,
    logger: Any,
    pager: Pager | None = None,
) -> Lifecycle:
    lifecycle = Lifecycle(
        settings=settings,
        bot=bot,
        api=slack_api or WebApiClient(token=bot.token, base_url=bot.base_url, engine=engine_for(context)),
        store=store or default_store(settings),
        count=count,
        logger=logger,
        remaining_seconds=remaining_seconds(context),
        pager=pager or default_pager(settings),
        answers=ResponseUrlClient(api_base_url=bot.base_url, engine=engine_for(context)),
    )
    if now is not None:
        lifecycle.now = now
    return lifecycle


def default_pager(settings: Settings) -> Pager | None:
    return _sns_pager(settings.escalation_topic_arn) if settings.escalation_topic_arn else None


@functools.cache
def _sns_pager(topic_arn: str) -> Pager:
    return SnsPager(topic_arn)  # one client per warm container


def default_store(settings: Settings) -> IncidentStore:
    if settings.incident_table:
        return _dynamodb_store(settings.incident_table)
    return _in_memory_store()


@functools.cache
def _dynamodb_store(table: str) -> IncidentStore:
    return DynamoDBIncidentStore(table)


@functools.cache
def _in_memory_store() -> IncidentStore:
    # one per process: several events handled by one local process see the same incidents
    return InMemoryIncidentStore()
