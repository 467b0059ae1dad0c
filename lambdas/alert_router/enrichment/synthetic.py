"""A synthetic alarm's cause: what the monitor itself saw in its latest run (pure).

    "GET /health/ready → 503 in 12 ms · /health → 503: body.status is "unhealthy"; checks.database.status is
     "unhealthy""
    "GET /health/live → timeout after 3000 ms"
    "/health reports database not healthy: GET /health → 503: checks.database.status is "unhealthy""

The alarm names its check (CheckSuccess, dimension `check`) or its dependency (DependencyHealthy, dimension
`dependency`); the records are the monitor's latest per check (lambdas/shared/synthetic_results.py). A
failing check's line is followed by the other checks failing in the same run (at most two), since one fault
shows in several: /health/ready says 503, /health says which dependency. Records older than MAX_AGE are
not used: an old result would tell a cause that may be over.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import urlsplit

from lambdas.alert_router.models import Alert
from lambdas.shared.synthetic_results import (
    CHECK_DIMENSION,
    CHECK_SUCCESS,
    DEPENDENCY_DIMENSION,
    DEPENDENCY_HEALTHY,
    CheckRecord,
)

MAX_AGE_SECONDS = 15 * 60
OTHERS_SHOWN = 2
_STATUS_REASON = re.compile(r"^status \d{3}$")


def synthetic_target(alert: Alert) -> tuple[str, str] | None:
    """("check", name) or ("dependency", name) when the alarm watches one of the monitor's pass/fail metrics."""
    metric = alert.primary_metric
    if metric is None:
        return None
    dimensions = dict(metric.dimensions)
    if metric.metric_name == CHECK_SUCCESS and CHECK_DIMENSION in dimensions:
        return CHECK_DIMENSION, dimensions[CHECK_DIMENSION]
    if metric.metric_name == DEPENDENCY_HEALTHY and DEPENDENCY_DIMENSION in dimensions:
        return DEPENDENCY_DIMENSION, dimensions[DEPENDENCY_DIMENSION]
    return None


def synthetic_cause(target: tuple[str, str], records: Sequence[CheckRecord], *, now: float) -> str | None:
    """The cause in the monitor's words; None when no fresh record speaks to it."""
    fresh = [record for record in records if 0 <= now - record.at <= MAX_AGE_SECONDS]
    kind, name = target
    if kind == DEPENDENCY_DIMENSION:
        reporting = [record for record in fresh if record.dependencies.get(name) is False]
        if not reporting:
            return None
        return f"{_path(reporting[0].url)} reports {name} not healthy: {describe(reporting[0])}"
    own = next((record for record in fresh if record.check == name), None)
    if own is None:
        return None
    if own.up:
        return f"{describe(own)}: passing again in the monitor's latest run"
    others = [describe(record) for record in fresh if record.check != name and not record.up][:OTHERS_SHOWN]
    return " · ".join([describe(own), *others])


def describe(record: CheckRecord) -> str:
    """`GET /health/ready → 503 in 12 ms`, and what else the check found wrong."""
    request = f"GET {_path(record.url)}"
    if not record.complete:
        return f"{request} → {record.reason or 'no answer'}"
    answer = f"{request} → {record.status_code} in {round(record.latency_ms)} ms"
    reasons = [part for part in (record.reason or "").split("; ") if part and not _STATUS_REASON.match(part)]
    return f"{answer}: {'; '.join(reasons)}" if reasons else answer


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path or url if parts.scheme else url
