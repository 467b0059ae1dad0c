"""One call under a total time bound, for SDK calls whose own timeouts are per read (botocore's are).

The call runs on a small per-process thread pool; the caller waits at most `seconds` and then gets
TimeoutError, while a call that is still running is left to end on its own (its client's connect and read
timeouts end it; its result is dropped). So a slow DynamoDB or CloudWatch answer costs the caller its
budget, never more: the alert goes out without what the call would have added.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

T = TypeVar("T")
WORKERS = 4


@functools.cache
def _pool() -> ThreadPoolExecutor:
    from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415 - imported by the first bounded call

    return ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="bounded")


def bounded(call: Callable[[], T], seconds: float, *, what: str) -> T:
    """`call()`'s result if it ends within `seconds`; TimeoutError (naming `what`) if not, or if no time is left."""
    if seconds <= 0:
        raise TimeoutError(f"{what}: no time left")
    future = _pool().submit(call)
    try:
        return future.result(timeout=seconds)
    except TimeoutError:
        future.cancel()  # not started yet: never runs; running: ends by its client's own timeouts
        raise TimeoutError(f"{what}: not done within {seconds:.2f} s") from None
