"""When a Sentry webhook body was made, read from inside the signed body: the intake's replay window.

Sentry's signature covers the body and no header (docs.sentry.io, integration platform, webhooks:
`Sentry-Hook-Signature` is the HMAC-SHA256 of the body with the client secret), so a captured body can be
posted again under a fresh `Sentry-Hook-Timestamp`. The router drops a repeat of the same body while it
remembers the body's digest (its idempotency TTL, 24 h by default). A time inside the body cannot be
changed without breaking the signature: a body whose newest time is older than that memory is refused,
and a replay can never outlive the router's memory of the original.

The newest of the times each resource carries counts (a metric alert that resolves days after it started
carries its `date_closed`; an issue alert its event's `received`, Sentry's own receipt time).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

# Clock difference allowed between Sentry and us; the window is shortened by as much, so that
# window + skew never exceeds the router's memory.
CLOCK_SKEW_SECONDS = 300
# resource -> (path to the object holding the times, its time fields)
TIME_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "event_alert": (("data", "event"), ("received", "timestamp", "datetime")),
    "issue": (("data", "issue"), ("lastSeen", "firstSeen")),
    "metric_alert": (("data", "metric_alert"), ("date_closed", "date_detected", "date_started", "date_created")),
}


def signed_time(resource: str, payload: Mapping[str, Any]) -> float | None:
    """The newest time (Unix seconds) among the body's time fields for this resource; None when it has none."""
    path, names = TIME_FIELDS.get(resource, ((), ()))
    node: Any = payload
    for key in path:
        node = node.get(key) if isinstance(node, Mapping) else None
    if not isinstance(node, Mapping):
        return None
    times = [stamp for name in names if (stamp := _seconds(node.get(name))) is not None]
    return max(times, default=None)


def staleness(stamp: float, *, now: float, memory_seconds: int) -> str | None:
    """Why a body made at `stamp` is outside the replay window, or None when it is inside.

    Inside means now - (memory - skew) <= stamp <= now + skew: a replay accepted at time r then has
    r <= stamp + memory - skew <= (first delivery + skew) + memory - skew, so the router still remembers it.
    """
    if stamp < now - (memory_seconds - CLOCK_SKEW_SECONDS):
        return "older than the router's memory of deliveries"
    if stamp > now + CLOCK_SKEW_SECONDS:
        return "dated in the future"
    return None


def _seconds(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) and abs(value) < 1e11 else None  # NaN, inf, absurd: no time
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed.timestamp() if parsed.tzinfo else None
    return None
