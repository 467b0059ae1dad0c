"""Slack interactivity endpoint Lambda (Function URL): verify a click on an incident button, hand it to the router.

The edge: it reads the signing secret, applies the pure decision (verify.py) and hands accepted clicks to the
alert router (handoff.py), which acknowledges, silences and answers in Slack. Nothing is handed over unless
the signature is valid and fresh. It answers Slack at once (an empty 200): the incident work happens after,
in the router. Logs carry ids only (user, channel, message ts, action ids, sizes), never the payload, the
response URL or the secret. Environment variables: settings.py.

Metrics (EMF, namespace POWERTOOLS_METRICS_NAMESPACE, default PeopleBooster/SlackActions), all Count,
dimensions service ("slack-actions"), environment:
    Accepted (clicks handed to the router), Ignored (validly signed, nothing of ours: changes nothing),
    Rejected (every refusal: size, timestamp, signature, method), SignatureMismatch (a fresh, Slack-shaped
    signature that does not match: a wrong or unfilled signing secret; alarmed as slack-actions-signature-mismatch).
A failed hand-over raises: the invocation is an error (alarmed as slack-actions-errors) and Slack shows the
user that the click failed, which is the truth.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from lambdas.shared.function_url import request_from_event
from lambdas.shared.observability import init_sentry
from lambdas.slack_actions.handoff import Invoker, LocalRouterInvoker, RouterInvoker
from lambdas.slack_actions.settings import Settings, load_settings, load_signing_secret
from lambdas.slack_actions.verify import decide

SERVICE = "slack-actions"
METRICS_NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "PeopleBooster/SlackActions"
logger = Logger(service=SERVICE)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE)
init_sentry(SERVICE)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(
    event: dict[str, Any],
    context: Any,
    *,
    invoker: Invoker | None = None,
    now: Callable[[], float] = time.time,
) -> dict[str, Any]:
    settings = load_settings()
    decision = decide(request_from_event(event), load_signing_secret(settings), now=now())
    if decision.actions:
        invoker = invoker or default_invoker(settings)
        for action in decision.actions:
            invoker.hand_over(action)
        logger.info("handed to the router", extra=decision.log)
    elif decision.status >= 400:
        logger.warning("rejected", extra={**decision.log, "status": decision.status, "outcome": decision.outcome})
    else:
        logger.info(decision.outcome, extra=decision.log)
    # Counted after the hand-over: the local invoker runs the router in-process, and Powertools' Metrics share
    # one metric set per process (the router's flush would otherwise carry these into its namespace).
    metrics.set_default_dimensions(environment=settings.environment)
    for name in decision.counts:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
    return decision.response()


_INVOKERS: dict[str, RouterInvoker] = {}


def default_invoker(settings: Settings) -> Invoker:
    if settings.router_function:
        # one client per warm container
        return _INVOKERS.setdefault(settings.router_function, RouterInvoker(settings.router_function))
    return LocalRouterInvoker()
