"""One fake clock for the tests: time that moves only when a test (or a sleep) moves it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime


class FakeClock:
    """Callable as a clock; `sleep` records each wait (rounded to ms) and, when `advances`, moves time on.

    With `advances=False` a sleep is only recorded: for code whose "now" is wall-clock time that the test
    sets explicitly (`at`), while its waits are checked separately.
    """

    def __init__(self, now: float = 1000.0, *, advances: bool = True) -> None:
        self.now = now
        self.advances = advances
        self.sleeps: list[float] = []
        self.slept = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 3))
        self.slept += seconds
        if self.advances:
            self.now += seconds

    def at(self, moment: datetime) -> None:
        self.now = moment.timestamp()

    def time_left(self, seconds: float) -> Callable[[], float]:
        """A Lambda's remaining time, `seconds` from now, that runs down with the clock and with every sleep
        (also when sleeping does not move `now`)."""
        start_now, start_slept = self.now, self.slept

        def remaining() -> float:
            moved = self.now - start_now
            return seconds - max(moved, self.slept - start_slept)

        return remaining
