"""The replay window: a body's own (signed) time, judged against the router's memory of deliveries."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lambdas.sentry_intake.freshness import CLOCK_SKEW_SECONDS, signed_time, staleness
from tools.sentry_events import EVENTS

DAY = 86_400


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("event_alert_fatal.json", "2026-11-29T03:14:15.123000+00:00"),  # the event's datetime
        ("issue_created.json", "2026-11-29T03:14:15+00:00"),  # lastSeen, newer than firstSeen
        ("metric_alert_critical.json", "2026-11-29T03:10:00+00:00"),  # date_started = date_detected
        ("metric_alert_resolved.json", "2026-11-29T03:40:00+00:00"),  # date_closed, newer than the start
    ],
)
def test_the_newest_signed_time_counts(name: str, expected: str) -> None:
    from datetime import datetime

    resource, _, payload, _ = EVENTS[name]
    assert signed_time(resource, payload) == datetime.fromisoformat(expected).timestamp()


def test_sentrys_receipt_time_of_an_event_wins_over_the_clients_clock() -> None:
    # An issue alert's event carries `received` (Sentry's clock) besides `datetime` (the SDK's clock)
    payload = {"data": {"event": {"datetime": "2026-11-27T00:00:00Z", "received": 1_796_000_000.5}}}
    assert signed_time("event_alert", payload) == 1_796_000_000.5


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"data": []},
        {"data": {"event": {"datetime": "yesterday", "received": "soon"}}},
        {"data": {"event": {"received": True}}},
    ],
)
def test_no_readable_time_is_none(payload: dict[str, object]) -> None:
    assert signed_time("event_alert", payload) is None
    assert signed_time("installation", {"data": {"installation": {"date": "2026-11-29T00:00:00Z"}}}) is None


def test_the_window_plus_the_clock_skew_never_outlives_the_memory() -> None:
    now = 2_000_000_000.0
    # inside: up to memory - skew old, up to skew ahead
    assert staleness(now - (DAY - CLOCK_SKEW_SECONDS), now=now, memory_seconds=DAY) is None
    assert staleness(now + CLOCK_SKEW_SECONDS, now=now, memory_seconds=DAY) is None
    # outside
    assert staleness(now - (DAY - CLOCK_SKEW_SECONDS) - 1, now=now, memory_seconds=DAY) == (
        "older than the router's memory of deliveries"
    )
    assert staleness(now + CLOCK_SKEW_SECONDS + 1, now=now, memory_seconds=DAY) == "dated in the future"


@given(
    first=st.floats(min_value=1.7e9, max_value=2.1e9),
    body_offset=st.floats(min_value=-3 * DAY, max_value=DAY),
    replay_delay=st.floats(min_value=0, max_value=10 * DAY),
    memory=st.integers(min_value=3600, max_value=7 * DAY),
)
def test_an_accepted_replay_is_always_within_the_routers_memory(
    first: float, body_offset: float, replay_delay: float, memory: int
) -> None:
    # Given a body (signed time `stamp`) first delivered at `first`, then replayed at `replay`
    stamp, replay = first + body_offset, first + replay_delay
    accepted_first = staleness(stamp, now=first, memory_seconds=memory) is None
    accepted_replay = staleness(stamp, now=replay, memory_seconds=memory) is None
    # Then whenever both are accepted, the router still remembers the first (it forgets at first + memory)
    if accepted_first and accepted_replay:
        assert replay <= first + memory
