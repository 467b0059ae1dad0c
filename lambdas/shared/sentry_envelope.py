"""The message the Sentry intake publishes to the alert topic, and the router reads back.

Both functions use this contract; neither imports the other's internals.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

SENTRY_SOURCE = "sentry"


def sentry_envelope(
    *, resource: str, delivery_id: str | None, hook_timestamp: str | None, payload: Mapping[str, Any]
) -> dict[str, Any]:
    """The SNS message the Sentry intake publishes: the verified webhook body plus its headers' facts."""
    return {
        "source": SENTRY_SOURCE,
        "resource": resource,
        "delivery_id": delivery_id,
        "hook_timestamp": hook_timestamp,
        "payload": payload,
    }


def is_sentry_envelope(text: str) -> bool:
    """Whether a message is the intake's Sentry envelope (its content stays out of the logs, issue 8)."""
    try:
        payload = json.loads(text)
    except ValueError:
        return False
    return isinstance(payload, Mapping) and payload.get("source") == SENTRY_SOURCE
