"""What enrichment adds to an alert: the cause in words, and the top errors of the service's error log."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ErrorCount:
    """One line of the error log's top messages: how often, and the message."""

    count: int
    message: str


@dataclass(frozen=True)
class Enrichment:
    """`cause` is plain words (the renderer escapes it); None: nothing better than the alarm's own facts."""

    cause: str | None = None
    top_errors: tuple[ErrorCount, ...] = ()
    top_errors_minutes: int = 15  # the window the top errors were counted in


NOTHING = Enrichment()
