"""The enrichment adapters a deployed or local run uses: built per invocation (their deadline is the
invocation's), on per-process clients. boto3 is imported by the first client made, so an invocation that
needs no cause (webhook mode's Sentry alerts, threshold alarms) never pays for it."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from lambdas.alert_router.delivery.defaults import process_pacer, remaining_seconds
from lambdas.alert_router.delivery.engine import DeliveryEngine
from lambdas.alert_router.delivery.policy import RetryPolicy
from lambdas.alert_router.enrichment.enrich import Counter, Enricher
from lambdas.alert_router.enrichment.settings import EnrichmentSettings
from lambdas.alert_router.settings import BotConfig
from lambdas.shared.synthetic_results import results_store

if TYPE_CHECKING:  # bot-token mode only
    from lambdas.alert_router.delivery.web_api import WebApiClient
    from lambdas.alert_router.enrichment.graph import GraphPoster

SDK_TIMEOUT_SECONDS = 2.0  # connect and per-read timeouts of the Logs and CloudWatch clients (bounded() is the total)


def build_enricher(settings: EnrichmentSettings, context: Any, *, count: Counter, logger: Any) -> Enricher:
    return Enricher(
        settings=settings,
        results=results_store(settings.results_table),
        count=count,
        logger=logger,
        logs_client=functools.partial(sdk_client, "logs"),
        remaining_seconds=remaining_seconds(context),
    )


def build_graph_poster(
    settings: EnrichmentSettings, bot: BotConfig, context: Any, api: Any, *, count: Counter, logger: Any
) -> GraphPoster:
    from lambdas.alert_router.delivery.web_api import WebApiClient  # noqa: PLC0415 - bot-token mode only
    from lambdas.alert_router.enrichment.graph import GraphPoster  # noqa: PLC0415

    invocation_left = remaining_seconds(context)
    reserve = RetryPolicy().reserve

    def uploader_for(time_left: Callable[[], float]) -> WebApiClient:
        # the engine keeps `reserve` back from what it is given: give it the graph's time plus that
        engine = DeliveryEngine(
            remaining_seconds=lambda: min(invocation_left(), time_left() + reserve), pacer=process_pacer()
        )
        return WebApiClient(token=bot.token, base_url=bot.base_url, engine=engine)

    return GraphPoster(
        uploader_for=uploader_for,
        poster=api,
        cloudwatch=functools.partial(sdk_client, "cloudwatch", settings.graph_region),
        count=count,
        logger=logger,
        budget_seconds=settings.graph_budget_seconds,
        now=lambda: datetime.now(UTC),
        remaining_seconds=invocation_left,
    )


@functools.cache
def sdk_client(service: str, region: str | None = None) -> Any:
    import boto3  # noqa: PLC0415 - see the module docstring
    from botocore.config import Config  # noqa: PLC0415

    config = Config(
        connect_timeout=SDK_TIMEOUT_SECONDS,
        read_timeout=SDK_TIMEOUT_SECONDS,
        retries={"total_max_attempts": 2, "mode": "standard"},
    )
    return boto3.client(service, region_name=region, config=config)
