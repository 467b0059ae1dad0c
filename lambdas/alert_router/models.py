"""The router's typed internal model: every input shape is parsed into one `Alert`.

Plain frozen dataclasses (no pydantic) keep the cold start small. Every optional fact is `None` or an
empty tuple when the input did not carry it; renderers skip what is missing instead of printing `None`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

# A Slack message as JSON: what every renderer returns and every transport sends.
Payload = dict[str, Any]


class State(StrEnum):
    ALARM = "ALARM"
    OK = "OK"
    INSUFFICIENT_DATA = "INSUFFICIENT_DATA"

    @property
    def emoji(self) -> str:
        return _STATE_EMOJI[self]

    @property
    def colour(self) -> str:
        return _STATE_COLOUR[self]

    @property
    def label(self) -> str:
        return _STATE_LABEL[self]


_STATE_EMOJI = {State.ALARM: "🔴", State.OK: "✅", State.INSUFFICIENT_DATA: "⚪"}
_STATE_COLOUR = {State.ALARM: "#d0021b", State.OK: "#2eb67d", State.INSUFFICIENT_DATA: "#9b9b9b"}
_STATE_LABEL = {State.ALARM: "ALARM", State.OK: "OK", State.INSUFFICIENT_DATA: "INSUFFICIENT DATA"}


class SourceKind(StrEnum):
    SNS_ALARM = "sns-alarm"
    EVENTBRIDGE_ALARM = "eventbridge-alarm"
    SENTRY = "sentry"
    RDS_EVENT = "rds-event"
    UNPARSED = "unparsed"


class AlarmKind(StrEnum):
    METRIC = "metric"
    METRIC_MATH = "metric-math"
    ANOMALY = "anomaly-detection"
    COMPOSITE = "composite"


Dimensions = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class SentryFacts:
    """What a Sentry webhook (issue, issue alert or metric alert) tells about the problem."""

    resource: str  # Sentry-Hook-Resource: event_alert | issue | metric_alert
    action: str | None = None  # triggered | created | critical | warning | resolved
    title: str | None = None
    level: str | None = None  # fatal | error | warning | info | debug
    issue_category: str | None = None  # error | performance | ...
    project: str | None = None
    sentry_environment: str | None = None
    culprit: str | None = None
    event_count: int | None = None
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    issue_url: str | None = None  # web URL of the issue (or of the metric alert rule)
    project_url: str | None = None
    rule_name: str | None = None  # the issue alert rule or metric alert rule that fired
    alert_rule_id: str | None = None  # metric alert: data.metric_alert.alert_rule.id (the incident key)
    aggregate: str | None = None  # metric alert: "p95(transaction.duration)", "count()", ...
    dataset: str | None = None
    description: str | None = None  # metric alert: "1000 events in the last 10 minutes"
    issue_id: str | None = None  # the issue (issue, event_alert) or the metric alert's incident


@dataclass(frozen=True)
class RdsEventFacts:
    """An RDS event notification (intake/rds.py): what happened to which database, and its category."""

    source_type: str  # db-instance | db-cluster | db-snapshot | ...
    source_id: str
    message: str
    event_code: str | None = None  # RDS-EVENT-0004
    category: str | None = None  # availability | failure | failover | low storage | ... (None: not known)
    source_arn: str | None = None
    identifier_link: str | None = None  # the console page of the source, as RDS sends it
    event_time: datetime | None = None


@dataclass(frozen=True)
class MetricQuery:
    """One entry of a metric-math or anomaly alarm's `Metrics` list."""

    id: str
    expression: str | None = None
    label: str | None = None
    namespace: str | None = None
    metric_name: str | None = None
    dimensions: Dimensions = ()
    stat: str | None = None
    period: int | None = None
    return_data: bool = False


@dataclass(frozen=True)
class Alert:
    source: SourceKind
    message_id: str | None = None
    # Alarm facts (None for unparsed input)
    alarm_kind: AlarmKind | None = None
    state: State | None = None
    previous_state: State | None = None
    alarm_name: str | None = None
    description: str | None = None
    reason: str | None = None
    region: str | None = None
    partition: str | None = None
    account: str | None = None
    alarm_arn: str | None = None
    state_change_time: datetime | None = None
    configuration_updated: datetime | None = None  # AlarmConfigurationUpdatedTimestamp (SNS only)
    # Single-metric trigger
    namespace: str | None = None
    metric_name: str | None = None
    dimensions: Dimensions = ()
    statistic: str | None = None
    unit: str | None = None
    threshold: float | None = None
    comparison: str | None = None
    period: int | None = None
    evaluation_periods: int | None = None
    datapoints_to_alarm: int | None = None
    treat_missing_data: str | None = None
    datapoints: tuple[float, ...] = ()
    # Metric math / anomaly detection
    metrics: tuple[MetricQuery, ...] = ()
    threshold_metric_id: str | None = None
    # Composite
    alarm_rule: str | None = None
    triggering_children: tuple[str, ...] = ()
    # Envelope and unparsed input
    subject: str | None = None
    topic_arn: str | None = None
    record_id: str | None = None  # the SQS message that carried it (batchItemFailures); None outside SQS
    raw_text: str | None = None  # unparsed input, or an alarm whose state is missing/unknown: as received
    parse_error: str | None = None  # a parser failed on this input: the exception's type
    parse_error_detail: str | None = None  # its message and where it was raised, for the log
    # Sentry webhooks (source SENTRY); delivery_id is Sentry's Request-ID, stable across redeliveries
    sentry: SentryFacts | None = None
    delivery_id: str | None = None
    # RDS event notifications (source RDS_EVENT)
    rds: RdsEventFacts | None = None

    @property
    def dedup_key(self) -> str | None:
        """What idempotency remembers: the sender's delivery id when there is one, else the SNS MessageId.

        SNS gives every publish a new MessageId, so a webhook Sentry delivers twice is only recognised by
        Sentry's own id.
        """
        return f"sentry:{self.delivery_id}" if self.delivery_id else self.message_id

    @property
    def is_unparsed(self) -> bool:
        return self.source is SourceKind.UNPARSED

    @property
    def primary_metric(self) -> MetricQuery | None:
        """The metric a human thinks of: the single metric, else the first metric of a math/anomaly alarm."""
        if self.metric_name:
            return MetricQuery(
                id="m1", namespace=self.namespace, metric_name=self.metric_name, dimensions=self.dimensions
            )
        return next((query for query in self.metrics if query.metric_name), None)
