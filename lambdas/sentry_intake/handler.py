"""Sentry intake Lambda (Function URL): verify a Sentry webhook, then hand it to the alert router.

The edge: it reads the client secret, applies the pure decision (lambdas/sentry_intake/webhook.py) and
publishes accepted alerts to the alert topic; the router does routing, rendering, delivery, retries,
dead-lettering and idempotency (on the SHA-256 of the signed body). Nothing is published unless the
signature is valid. Logs carry ids only (resource, action, Request-ID, body digest, sizes), never payload
content or the secret.
Environment variables are documented in lambdas/sentry_intake/settings.py.

Metrics (EMF, namespace POWERTOOLS_METRICS_NAMESPACE, default PeopleBooster/SentryIntake), all Count,
dimensions service ("sentry-intake"), environment:
    Accepted, Ignored, Rejected (every refusal: size, signature, stale, method),
    SignatureMismatch (a Sentry-shaped request whose signature does not match: a wrong or unfilled client
    secret; alarmed as sentry-intake-signature-mismatch), StaleBody (a signed body older than the router's
    digest memory: a replay, or a very old alert), Trimmed (published trimmed to fit SNS),
    Unparsed (signed but unreadable JSON, delivered as a plain-text alert).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from lambdas.sentry_intake.publisher import LocalRouterPublisher, Publisher, SnsPublisher
from lambdas.sentry_intake.settings import Settings, load_client_secret, load_settings
from lambdas.sentry_intake.webhook import decide
from lambdas.shared.function_url import request_from_event
from lambdas.shared.observability import init_sentry

SERVICE = "sentry-intake"
METRICS_NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "PeopleBooster/SentryIntake"
logger = Logger(service=SERVICE)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE)
init_sentry(SERVICE)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
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
        max_body_age=settings.max_body_age_seconds,
    )
    logger.set_correlation_id(decision.log.get("request_id"))  # type: ignore[arg-type]
    if decision.message is not None:
        publisher = publisher or default_publisher(settings)
        message_id = publisher.publish(decision.message)
        logger.info("published", extra={**decision.log, "message_id": message_id})
    elif decision.status >= 400:
        logger.warning("rejected", extra={**decision.log, "status": decision.status, "outcome": decision.outcome})
    else:
        logger.info("ignored: resource or action not routed", extra=decision.log)
    # Counted after publishing: Powertools' Metrics share one metric set per process, and the local
    # publisher runs the router in-process, whose flush would otherwise carry these into its namespace.
    metrics.set_default_dimensions(environment=settings.environment)
    for name in decision.counts:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
    return decision.response()


def default_publisher(settings: Settings) -> Publisher:
    if settings.topic_arn:
        return _sns_publisher(settings.topic_arn)
    return LocalRouterPublisher()


_PUBLISHERS: dict[str, SnsPublisher] = {}


def _sns_publisher(topic_arn: str) -> SnsPublisher:
    # one client per warm container
    return _PUBLISHERS.setdefault(topic_arn, SnsPublisher(topic_arn))
