"""The alarm metric's graph in the incident thread (bot-token mode), after the message is out.

`metric_widget` (pure) builds the CloudWatch metric widget of the alarm: its metric (or its metric-math
expression with the metrics it uses), its statistic and period, the threshold as a horizontal line and the
state change as a vertical one, over the hour before the change and the minutes after it
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Metric-Widget-Structure.html).
`GraphPoster` renders it with GetMetricWidgetImage
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricWidgetImage.html) and uploads
the PNG into the thread with Slack's external upload (delivery/web_api.py). All of it within the graph
budget; when any step fails, the thread gets a link to the alarm in the console instead (its page shows
the same graph), and the failure is logged with its type and counted (`GraphFailures`, with an alarm).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from lambdas.alert_router.delivery.engine import DeliveryReport
from lambdas.alert_router.incidents.model import incident_key
from lambdas.alert_router.models import AlarmKind, Alert, Payload
from lambdas.alert_router.rendering.facts import alarm_console_url
from lambdas.alert_router.rendering.text import escape, link
from lambdas.shared.bounded import bounded

BEFORE = timedelta(hours=1)
AFTER = timedelta(minutes=15)
WIDTH, HEIGHT = 800, 360
RESERVE_SECONDS = 3.0  # of the invocation, kept for the console link and the batch's other alerts
GRAPH_EMOJI = "📈"
OPENED = "opened"  # incidents.model.Outcome.OPENED, as the incident loop's result says it
_STATISTICS = {"sum": "Sum", "average": "Average", "minimum": "Minimum", "maximum": "Maximum",
               "samplecount": "SampleCount"}  # fmt: skip


class FileUploader(Protocol):
    def upload_file(
        self, channel_id: str, *, thread_ts: str, filename: str, content: bytes, title: str, alt_text: str
    ) -> DeliveryReport: ...


class ThreadPoster(Protocol):
    def post_message(
        self, channel_id: str, payload: Payload, *, thread_ts: str | None = None, broadcast: bool = False
    ) -> DeliveryReport: ...


def metric_widget(alert: Alert, *, now: datetime) -> dict[str, Any] | None:
    """The widget JSON of the alarm's graph; None when the alarm has no metric to draw (composite, unparsed)."""
    if alert.state_change_time is None or alert.alarm_kind is AlarmKind.COMPOSITE:
        return None
    metrics = _metric_rows(alert)
    if not metrics:
        return None
    start = alert.state_change_time - BEFORE
    end = min(alert.state_change_time + AFTER, now)
    widget: dict[str, Any] = {
        "metrics": metrics,
        "view": "timeSeries",
        "stacked": False,
        "title": alert.alarm_name or "alarm",
        "width": WIDTH,
        "height": HEIGHT,
        "start": _iso(start),
        "end": _iso(max(end, alert.state_change_time)),
        "timezone": "+0000",
        "annotations": {"vertical": [{"value": _iso(alert.state_change_time), "label": alert.state or "change"}]},
    }
    if alert.period:
        widget["period"] = alert.period
    if alert.region:
        widget["region"] = alert.region
    if alert.threshold is not None:
        widget["annotations"]["horizontal"] = [{"value": alert.threshold, "label": "threshold"}]
    return widget


def _metric_rows(alert: Alert) -> list[list[Any]]:
    if alert.metric_name and alert.namespace:
        row: list[Any] = [alert.namespace, alert.metric_name]
        for name, value in alert.dimensions:
            row += [name, value]
        options: dict[str, Any] = {"stat": _statistic(alert.statistic)} if alert.statistic else {}
        return [[*row, options]] if options else [row]
    rows: list[list[Any]] = []
    for query in alert.metrics:
        if query.expression:
            rows.append([{"expression": query.expression, "id": query.id, "label": query.label or query.id}])
        elif query.namespace and query.metric_name:
            metric: list[Any] = [query.namespace, query.metric_name]
            for name, value in query.dimensions:
                metric += [name, value]
            options = {"id": query.id, "visible": query.return_data}
            if query.stat:
                options["stat"] = _statistic(query.stat)
            if query.period:
                options["period"] = query.period
            rows.append([*metric, options])
    return rows


def _statistic(statistic: str) -> str:
    """SNS writes standard statistics in capitals (MINIMUM); the widget wants Minimum. p95 stays p95."""
    return _STATISTICS.get(statistic.lower(), statistic)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class IncidentLookup(Protocol):
    """The incident loop as far as the graph needs it: where an opened incident's message is."""

    @property
    def store(self) -> Any: ...


@dataclass
class GraphPoster:
    # an uploader whose Slack calls end by the deadline `time_left` counts down to
    uploader_for: Callable[[Callable[[], float]], FileUploader]
    poster: ThreadPoster  # posts the link, within the invocation's time
    cloudwatch: Callable[[], Any]  # a CloudWatch client, made on first use
    count: Callable[[str, int], None]
    logger: Any
    budget_seconds: float
    now: Callable[[], datetime]
    remaining_seconds: Callable[[], float] = lambda: float("inf")  # the invocation's time left

    def attach(self, alert: Alert, channel_id: str, thread_ts: str) -> bool:
        """The graph in the thread (True), else the console link there (False); never raises."""
        deadline = time.monotonic() + min(self.budget_seconds, self.remaining_seconds() - RESERVE_SECONDS)

        def time_left() -> float:
            return deadline - time.monotonic()

        try:
            widget = metric_widget(alert, now=self.now())
            if widget is None:
                return False  # nothing to draw: nothing failed
            image = bounded(
                lambda: self.cloudwatch().get_metric_widget_image(MetricWidget=json.dumps(widget), OutputFormat="png"),
                time_left(),
                what="GetMetricWidgetImage",
            )["MetricWidgetImage"]
            self.uploader_for(time_left).upload_file(
                channel_id,
                thread_ts=thread_ts,
                filename=f"{alert.alarm_name or 'alarm'}.png",
                content=image,
                title=f"{alert.alarm_name or 'alarm'}: the hour before {alert.state or 'the change'}",
                alt_text=f"Graph of {widget['metrics'][0][1] if alert.metric_name else 'the alarm metric'}",
            )
        except Exception as error:  # any failure: the link instead
            self.count("GraphFailures", 1)
            self.logger.warning(
                "graph not attached: the thread gets the console link",
                extra={"error_type": type(error).__name__, "error": str(error)[:300]},
            )
            self._post_link(alert, channel_id, thread_ts)
            return False
        self.count("GraphsAttached", 1)
        return True

    def attach_opened(self, lifecycle: IncidentLookup, alert: Alert, result: Mapping[str, Any]) -> None:
        """After the incident loop opened an incident (its first message posted): the graph into its thread."""
        if result.get("outcome") != OPENED:
            return
        key = incident_key(alert)
        error_type: str | None = None
        try:  # the alert is out: a failing lookup must not fail (and so re-post) it
            incident = lifecycle.store.get_incident(key) if key else None
        except Exception as error:
            incident, error_type = None, type(error).__name__
        if incident is None or not incident.ts:
            self.count("GraphFailures", 1)
            self.logger.warning(
                "graph skipped: the opened incident's message is not recorded",
                extra={"incident": key, "error_type": error_type},
            )
            return
        self.attach(alert, incident.channel_id, incident.ts)

    def _post_link(self, alert: Alert, channel_id: str, thread_ts: str) -> None:
        console = alarm_console_url(alert)
        if console is None:
            return
        where = link(console, "the alarm and its graph in the console")
        line = f"{GRAPH_EMOJI} The graph could not be attached: {where}"
        section = {"type": "section", "text": {"type": "mrkdwn", "text": line, "verbatim": True}}
        payload = {"text": f"{GRAPH_EMOJI} Graph: {escape(alert.alarm_name or 'alarm')}", "blocks": [section]}
        try:
            self.poster.post_message(channel_id, payload, thread_ts=thread_ts)
        except Exception as error:  # the alert itself is out; this was only its graph
            self.logger.error(
                "graph link not posted either", extra={"error_type": type(error).__name__, "error": str(error)[:300]}
            )
