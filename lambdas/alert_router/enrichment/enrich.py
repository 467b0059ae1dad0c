"""The enrichment stage's I/O edge: an alert in, its Enrichment out, within one deadline per invocation.

Sources, each read at most once per invocation (a batch of alarms shares them):
- the synthetic monitor's latest results (one DynamoDB Query) for alarms on its checks and dependencies;
- the top errors of the error log group (one Logs Insights query) for 5xx alarms, when config turns it on.
Threshold alarms need no I/O: their words come from the notification (threshold.py), in the renderer.

Every read is bounded by the deadline: the invocation's remaining time minus RESERVE_SECONDS, and at most
the configured budget from the first read. A source that fails or runs out of time adds nothing: the
failure is logged with its type and counted (`EnrichmentFailures`, which has an alarm), once per source
and invocation, and the alert goes out as it would have without it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from lambdas.alert_router.enrichment.model import NOTHING, Enrichment, ErrorCount
from lambdas.alert_router.enrichment.settings import EnrichmentSettings
from lambdas.alert_router.enrichment.synthetic import synthetic_cause, synthetic_target
from lambdas.alert_router.enrichment.top_errors import is_5xx_alarm, query_window, top_errors
from lambdas.alert_router.models import Alert, State
from lambdas.shared.bounded import bounded
from lambdas.shared.synthetic_results import CheckRecord, ResultsStore

RESERVE_SECONDS = 3.0  # kept for posting the alert: enrichment never eats into it
FAILURE_METRIC = "EnrichmentFailures"
Counter = Callable[[str, int], None]


def _never_ends() -> float:
    return float("inf")


def _wall_clock() -> float:
    return datetime.now(UTC).timestamp()


@dataclass
class Enricher:
    settings: EnrichmentSettings
    results: ResultsStore
    count: Counter
    logger: Any  # Powertools Logger
    logs_client: Callable[[], Any] | None = None  # a CloudWatch Logs client, made on first use
    remaining_seconds: Callable[[], float] = _never_ends
    now: Callable[[], float] = _wall_clock
    _deadline: float | None = field(default=None, repr=False)
    _records: list[CheckRecord] | None = field(default=None, repr=False)
    _errors: dict[tuple[int, int], tuple[ErrorCount, ...]] = field(default_factory=dict, repr=False)
    _failed: set[str] = field(default_factory=set, repr=False)

    def enrich(self, alert: Alert) -> Enrichment:
        if self.settings.budget_seconds <= 0 or alert.state is not State.ALARM:
            return NOTHING
        target = synthetic_target(alert)
        if target is not None:
            records = self._read("synthetic-results", self._latest_results)
            cause = synthetic_cause(target, records, now=self.now()) if records is not None else None
            return Enrichment(cause=cause) if cause else NOTHING
        if self.settings.top_errors_on and is_5xx_alarm(alert) and alert.state_change_time is not None:
            window = query_window(alert.state_change_time, self.settings.top_errors_minutes)
            errors = self._read("top-errors", lambda: self._top_errors(window))
            if errors:
                return Enrichment(top_errors=errors, top_errors_minutes=self.settings.top_errors_minutes)
        return NOTHING

    # --- the sources -----------------------------------------------------------------------------------------

    def _latest_results(self) -> list[CheckRecord]:
        if self._records is None:
            self._records = bounded(self.results.latest, self.time_left(), what="reading the synthetic results")
        return self._records

    def _top_errors(self, window: tuple[int, int]) -> tuple[ErrorCount, ...]:
        if window not in self._errors:
            assert self.settings.error_log_group is not None  # top_errors_on
            assert self.logs_client is not None
            self._errors[window] = top_errors(
                self.logs_client(), self.settings.error_log_group, window, time_left=self.time_left
            )
        return self._errors[window]

    # --- the deadline and the failures ----------------------------------------------------------------------

    def time_left(self) -> float:
        """Seconds until the deadline, set at the first read of the invocation."""
        if self._deadline is None:
            budget = min(self.settings.budget_seconds, self.remaining_seconds() - RESERVE_SECONDS)
            self._deadline = time.monotonic() + max(0.0, budget)
        return self._deadline - time.monotonic()

    def _read[T](self, source: str, read: Callable[[], T]) -> T | None:
        if source in self._failed:
            return None
        try:
            return read()
        except Exception as error:  # any failure of a source: the alert goes out without it
            self._failed.add(source)
            self.count(FAILURE_METRIC, 1)
            self.logger.warning(
                "enrichment failed: the alert is posted without it",
                extra={"enrichment": source, "error_type": type(error).__name__, "error": str(error)[:300]},
            )
            return None
