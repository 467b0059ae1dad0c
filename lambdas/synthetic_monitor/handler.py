"""Lambda entry point of the synthetic monitor: probe every check, judge, publish EMF, return a summary.

Target failures (timeouts, 503s, unhealthy dependencies) are results and metrics, never exceptions.
Only a bug in the monitor (or invalid settings) raises, so Lambda's Errors metric and Sentry mean
"the monitor is broken", never "the service is down".

Local run: `HEALTH_BASE_URL=http://127.0.0.1:8080 make invoke FN=synthetic_monitor
EVENT=events/synthetic_monitor/manual.json` (start `python -m tools.health_service --port 8080` first).
"""

from __future__ import annotations

import ssl
import time
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from lambdas.shared.observability import init_sentry, traced
from lambdas.shared.synthetic_results import results_store
from lambdas.synthetic_monitor.checks import CheckResult, judge
from lambdas.synthetic_monitor.metrics import emit_metrics
from lambdas.synthetic_monitor.probe import Target, probe_all
from lambdas.synthetic_monitor.results import count_write_failures, keep_results
from lambdas.synthetic_monitor.settings import load_settings

SERVICE = "synthetic-monitor"
# Time kept back from the Lambda timeout for judging, EMF and the return, whatever RUN_DEADLINE_MS says.
RESERVE_MS = 2000
MIN_RUN_MS = 100
# Writing the results for the router: at most this long, and never into the last second of the Lambda.
RESULTS_BUDGET_MS = 2000
RESULTS_RESERVE_MS = 1000

logger = Logger(service=SERVICE)
init_sentry(SERVICE)  # at import, so Sentry's Lambda integration wraps the first invocation too


@logger.inject_lambda_context(log_event=False)
@traced
def lambda_handler(
    event: dict[str, Any], context: LambdaContext, *, ssl_context: ssl.SSLContext | None = None
) -> dict[str, Any]:
    """Run every check once. `ssl_context` lets tests trust a local self-signed certificate."""
    settings = load_settings()
    started = time.monotonic()
    run_deadline_ms = max(
        MIN_RUN_MS, min(settings.run_deadline_ms, context.get_remaining_time_in_millis() - RESERVE_MS)
    )
    targets = [Target(settings.url_of(check), check.timeout_ms, check.redirect_hosts) for check in settings.checks]
    responses = probe_all(targets, run_deadline_ms=run_deadline_ms, ssl_context=ssl_context)
    now = time.time()
    results = [
        judge(check, response, now=now, reading=settings.reading)
        for check, response in zip(settings.checks, responses, strict=True)
    ]
    emit_metrics(results, environment=settings.environment, namespace=settings.namespace)
    keep_results(
        results_store(settings.results_table),
        results,
        at=now,
        seconds=min(RESULTS_BUDGET_MS, context.get_remaining_time_in_millis() - RESULTS_RESERVE_MS) / 1000,
        logger=logger,
        count=lambda failures: count_write_failures(settings.namespace, settings.environment, failures),
    )

    summary = {
        "environment": settings.environment,
        "ok": all(result.ok for result in results),
        "duration_ms": round((time.monotonic() - started) * 1000, 1),
        "results": [result.summary() for result in results],
    }
    _log(results, source=event.get("source") if isinstance(event, dict) else None)
    return summary


def _log(results: list[CheckResult], *, source: Any) -> None:
    failing = [result.summary() for result in results if not result.ok]
    if failing:
        logger.warning("synthetic checks failing", extra={"failing": failing, "event_source": source})
    else:
        logger.info("synthetic checks ok", extra={"checks": len(results), "event_source": source})
    # What a body did not report: no failure, but someone should add it or configure its path.
    missing = {result.name: [w.detail for w in result.warnings] for result in results if result.warnings}
    if missing:
        logger.warning("health fields missing", extra={"missing": missing, "event_source": source})
