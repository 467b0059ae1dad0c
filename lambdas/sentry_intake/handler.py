"""Sentry intake Lambda (Function URL): verify a Sentry webhook, then hand it to the alert router.

The edge: it reads the client secret, applies the pure decision (lambdas/sentry_intake/webhook.py) and
publishes accepted alerts to the alert topic; the router does routing, rendering, delivery, retries,
dead-lettering and idempotency (on the SHA-256 of the signed body). Nothing is published unless the
signature is valid. Logs carry ids only (resource, action, Request-ID, body digest, size), never payload
content or the secret.
Environment variables are documented in lambdas/sentry_intake/settings.py.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger

from lambdas.sentry_intake.publisher import LocalRouterPublisher, Publisher, SnsPublisher
from lambdas.sentry_intake.settings import Settings, load_client_secret, load_settings
from lambdas.sentry_intake.webhook import decide, encode_message, request_from_event
from lambdas.shared.observability import init_sentry, traced

SERVICE = "sentry-intake"
logger = Logger(service=SERVICE)
init_sentry(SERVICE)


@traced
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(
    event: dict[str, Any],
    context: Any,
    *,
    publisher: Publisher | None = None,
    now: Callable[[], float] = time.time,
) -> dict[str, Any]:
    settings = load_settings()
    decision = decide(
        request_from_event(event),
        load_client_secret(settings),
        now=now(),
        max_age=settings.max_hook_age_seconds,
    )
    logger.set_correlation_id(decision.log.get("request_id"))
    if decision.message is not None:
        publisher = publisher or default_publisher(settings)
        message_id = publisher.publish(encode_message(decision.message))
        logger.info("published", extra={**decision.log, "message_id": message_id})
    elif decision.status >= 400:
        logger.warning("rejected", extra={**decision.log, "status": decision.status, "outcome": decision.outcome})
    else:
        logger.info("ignored: resource or action not routed", extra=decision.log)
    return decision.response()


def default_publisher(settings: Settings) -> Publisher:
    if settings.topic_arn:
        return _sns_publisher(settings.topic_arn)
    return LocalRouterPublisher()


_PUBLISHERS: dict[str, SnsPublisher] = {}


def _sns_publisher(topic_arn: str) -> SnsPublisher:
    # one client per warm container
    return _PUBLISHERS.setdefault(topic_arn, SnsPublisher(topic_arn))
