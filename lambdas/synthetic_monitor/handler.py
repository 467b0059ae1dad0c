"""Lambda entry point of the synthetic monitor: probe every check, judge, publish the metrics, return a summary.

The home Region's monitor publishes EMF; a probe Region's (settings.probe) puts success and latency into the home
Region's CloudWatch (home_region.py) before the Lambda's time runs out, and a failed put is logged with its type
and counted in its own Region (`ProbePutFailures`); the home Region hears it as the probe's missing data
(`synthetic-probe-<region>-silent`).

Target failures (timeouts, 503s, unhealthy dependencies) are results and metrics, never exceptions.
Only a bug in the monitor (or invalid settings) raises, so Lambda's Errors metric and Sentry mean
"the monitor is broken", never "the service is down".

Local run: `HEALTH_BASE_URL=http://127.0.0.1:8080 make invoke FN=synthetic_monitor
EVENT=events/synthetic_monitor/manual.json` (start `python -m tools.health_service --port 8080` first).
"""

from __future__ import annotations

import ssl
import time
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from lambdas.shared.deadline_http import TRANSPORT_ERRORS, Deadline
from lambdas.shared.observability import init_sentry
from lambdas.shared.synthetic_results import results_store
from lambdas.synthetic_monitor.checks import CheckResult, judge
from lambdas.synthetic_monitor.metrics import count_put_failure, emit_metrics, probe_metric_data
from lambdas.synthetic_monitor.probe import Target, probe_all
from lambdas.synthetic_monitor.results import count_write_failures, keep_results
from lambdas.synthetic_monitor.settings import ProbeRegion, Settings, load_settings

SERVICE = "synthetic-monitor"
# Time kept back from the Lambda timeout for judging, EMF and the return, whatever RUN_DEADLINE_MS says.
RESERVE_MS = 2000
MIN_RUN_MS = 100
# A probe's put into the home Region: at most this long, and never past the Lambda's time minus PUT_RESERVE_MS
# (kept to log, count a failure and return).
PUT_BUDGET_MS = 5000
PUT_RESERVE_MS = 500
# Writing the results for the router: at most this long, and never into the last second of the Lambda.
RESULTS_BUDGET_MS = 2000
RESULTS_RESERVE_MS = 1000

logger = Logger(service=SERVICE)
init_sentry(SERVICE)  # at import, so Sentry's Lambda integration wraps the first invocation too


@logger.inject_lambda_context(log_event=False)
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
    if settings.probe is None:
        emit_metrics(results, environment=settings.environment, namespace=settings.namespace)
        # Only the home monitor's results are read by the router (a probe's are alarmed in the home Region).
        keep_results(
            results_store(settings.results_table),
            results,
            at=now,
            seconds=min(RESULTS_BUDGET_MS, context.get_remaining_time_in_millis() - RESULTS_RESERVE_MS) / 1000,
            logger=logger,
            count=lambda failures: count_write_failures(settings.namespace, settings.environment, failures),
        )
    else:
        budget_ms = min(PUT_BUDGET_MS, context.get_remaining_time_in_millis() - PUT_RESERVE_MS)
        deadline = Deadline.after(max(budget_ms, 0) / 1000)
        _put_in_home_region(results, settings, settings.probe, at=datetime.fromtimestamp(now, UTC), deadline=deadline)

    summary = {
        "environment": settings.environment,
        "ok": all(result.ok for result in results),
        "duration_ms": round((time.monotonic() - started) * 1000, 1),
        "results": [result.summary() for result in results],
    }
    _log(results, source=event.get("source") if isinstance(event, dict) else None)
    return summary


def _put_in_home_region(
    results: list[CheckResult], settings: Settings, probe: ProbeRegion, *, at: datetime, deadline: Deadline
) -> None:
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415 - only probe stacks load botocore

    from lambdas.synthetic_monitor.home_region import home_region_client  # noqa: PLC0415

    data = probe_metric_data(results, environment=settings.environment, region=probe.region, at=at)
    try:
        home_region_client(probe.home).put(settings.namespace, data, deadline=deadline)
    except (ClientError, BotoCoreError, *TRANSPORT_ERRORS) as error:
        logger.exception(
            "probe results not put into the home Region",
            extra={"error_type": type(error).__name__, "home_region": probe.home, "datums": len(data)},
        )
        count_put_failure(environment=settings.environment, region=probe.region, namespace=settings.namespace)


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
