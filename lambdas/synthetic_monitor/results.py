"""The run's results, kept for the alert router: one record per check (lambdas/shared/synthetic_results.py).

A failed write never fails the run: the metrics are already out and the alarms work without it; the router
then words the alarm without the monitor's own reason. The failure is logged with its type and counted:
EMF `ResultsWriteFailures` is written on every run, 0 or 1, so its alarm always has data (like the checks'
own metrics) and a run that wrote nothing at all is the not-running alarm's case. The write is bounded by
the time the run has left.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from aws_lambda_powertools.metrics import EphemeralMetrics

from lambdas.shared.bounded import bounded
from lambdas.shared.synthetic_results import CheckRecord, ResultsStore
from lambdas.synthetic_monitor import metric_names as names
from lambdas.synthetic_monitor.checks import CheckResult


def records(results: Sequence[CheckResult], at: float) -> list[CheckRecord]:
    return [
        CheckRecord(
            check=result.name,
            at=at,
            url=result.url,
            ok=result.ok,
            up=result.up,
            status_code=result.status_code,
            latency_ms=result.latency_ms,
            complete=result.complete,
            reason=result.reason,
            dependencies={dependency.name: dependency.healthy for dependency in result.dependencies},
        )
        for result in results
    ]


def keep_results(
    store: ResultsStore,
    results: Sequence[CheckResult],
    *,
    at: float,
    seconds: float,
    logger: Any,
    count: Callable[[int], None],
) -> bool:
    """Write the run's records within `seconds`; False (logged) when that failed. Counts 0 or 1 failures."""
    try:
        bounded(lambda: store.write(records(results, at)), seconds, what="writing the check results")
    except Exception as error:  # any failure of the write: the run itself succeeded
        logger.warning(
            "check results not kept for the alert router",
            extra={"error_type": type(error).__name__, "error": str(error)[:300]},
        )
        count(1)
        return False
    count(0)
    return True


def count_write_failures(namespace: str, environment: str, failures: int) -> None:
    """One EMF point of ResultsWriteFailures (dimension: environment), printed at once."""
    blob = EphemeralMetrics(namespace=namespace, service="")
    blob.add_dimension(names.ENVIRONMENT, environment)
    blob.add_metric(name=names.RESULTS_WRITE_FAILURES.name, unit=names.RESULTS_WRITE_FAILURES.unit, value=failures)
    blob.flush_metrics()
