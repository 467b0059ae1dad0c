"""A 5xx alarm's top error messages: one Logs Insights query on the service's error log group.

StartQuery over the TOP_ERRORS_MINUTES before the state change, then GetQueryResults until the query is
Complete, all within the deadline; a query still running then is stopped (StopQuery: it would keep
scanning, and costing, for nothing) and the alert goes out without it.
https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_StartQuery.html
https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_GetQueryResults.html
https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_StopQuery.html

The query reads the fields of the service's JSON log lines, like the saved query `recent-errors-by-route`
(infra/constructs/logs.py): `level`, `status`, `message`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from lambdas.alert_router.enrichment.model import ErrorCount
from lambdas.alert_router.models import Alert, State
from lambdas.shared.bounded import bounded

TOP = 5
QUERY = f"filter level = 'error' or status >= 500 | stats count(*) as count by message | sort count desc | limit {TOP}"
POLL_SECONDS = 0.25
_FIVE_XX = re.compile(r"5xx", re.IGNORECASE)
DONE, RUNNING = "Complete", ("Scheduled", "Running")


class QueryFailed(RuntimeError):
    """Logs Insights answered Failed, Cancelled, Timeout or Unknown."""


def is_5xx_alarm(alert: Alert) -> bool:
    """An alarm in ALARM on a 5xx metric (HTTPCode_Target_5XX_Count, HTTPCode_ELB_5XX_Count, a 5xx rate)."""
    if alert.state is not State.ALARM:
        return False
    names = [alert.metric_name, *(query.metric_name for query in alert.metrics), *(q.label for q in alert.metrics)]
    return any(name and _FIVE_XX.search(name) for name in names)


def query_window(moment: datetime, minutes: int) -> tuple[int, int]:
    """(start, end) in epoch seconds: the `minutes` before the state change, and the minute after it."""
    return int((moment - timedelta(minutes=minutes)).timestamp()), int((moment + timedelta(minutes=1)).timestamp())


def top_errors(
    client: Any,
    log_group: str,
    window: tuple[int, int],
    *,
    time_left: Callable[[], float],
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[ErrorCount, ...]:
    """Run the query and read its rows; TimeoutError when `time_left()` runs out first."""
    start, end = window
    started = bounded(
        lambda: client.start_query(logGroupName=log_group, startTime=start, endTime=end, queryString=QUERY, limit=TOP),
        time_left(),
        what="StartQuery",
    )
    query_id = started["queryId"]
    try:
        while True:
            answer = bounded(lambda: client.get_query_results(queryId=query_id), time_left(), what="GetQueryResults")
            status = answer.get("status")
            if status == DONE:
                return parse_rows(answer.get("results", []))
            if status not in RUNNING:
                raise QueryFailed(f"the query ended {status}")
            if time_left() <= POLL_SECONDS:
                raise TimeoutError("the query did not complete in time")
            sleep(POLL_SECONDS)
    except TimeoutError as error:
        stop_failed = _stop(client, query_id, time_left)
        if stop_failed:  # said in the enrichment's log line: the query may run on for a while
            raise TimeoutError(f"{error} (and StopQuery failed: {stop_failed})") from error
        raise


def parse_rows(rows: Sequence[Sequence[Mapping[str, str]]]) -> tuple[ErrorCount, ...]:
    """Rows of [{"field": "message", "value": ...}, {"field": "count", "value": "12"}] -> counts, highest first."""
    found: list[ErrorCount] = []
    for row in rows:
        fields = {cell.get("field"): cell.get("value") for cell in row if isinstance(cell, Mapping)}
        message, count = fields.get("message"), fields.get("count")
        if message and count and count.isdigit():
            found.append(ErrorCount(count=int(count), message=" ".join(message.split())))
    return tuple(sorted(found, key=lambda error: -error.count)[:TOP])


def _stop(client: Any, query_id: str, time_left: Callable[[], float]) -> str | None:
    """Stop the query; the failure's type when that failed (the query then ends by itself, within 60 min)."""
    try:
        bounded(lambda: client.stop_query(queryId=query_id), max(time_left(), 0.5), what="StopQuery")
    except Exception as error:
        return type(error).__name__
    return None
