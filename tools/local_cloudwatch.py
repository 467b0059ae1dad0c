"""A local stand-in for CloudWatch alarm evaluation: a development tool, not a replacement for CloudWatch.

It reads alarm definitions from a synthesized template, datapoints from the EMF lines a Lambda printed,
and evaluates the alarms the way CloudWatch does for what this stack uses: threshold and comparison,
statistic (Average, Sum, Minimum, Maximum, SampleCount, pNN), period, M out of N datapoints and the
treatment of missing data. Each state change becomes the SNS message CloudWatch would publish.

Not covered (and refused loudly rather than guessed): metric math and anomaly-detection alarms,
composite alarms, and CloudWatch's look-back beyond N periods for missing data.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanThreshold": lambda value, threshold: value > threshold,
    "GreaterThanOrEqualToThreshold": lambda value, threshold: value >= threshold,
    "LessThanThreshold": lambda value, threshold: value < threshold,
    "LessThanOrEqualToThreshold": lambda value, threshold: value <= threshold,
}
COMPARISON_WORDS = {
    "GreaterThanThreshold": "greater than",
    "GreaterThanOrEqualToThreshold": "greater than or equal to",
    "LessThanThreshold": "less than",
    "LessThanOrEqualToThreshold": "less than or equal to",
}


ACTION_KEYS = {"ALARM": "AlarmActions", "OK": "OKActions", "INSUFFICIENT_DATA": "InsufficientDataActions"}


class UnsupportedAlarm(ValueError):
    """The template holds an alarm this evaluator does not model."""


@dataclass(frozen=True)
class Datapoint:
    namespace: str
    metric_name: str
    dimensions: tuple[tuple[str, str], ...]
    timestamp: float  # seconds since the epoch
    value: float


@dataclass(frozen=True)
class AlarmDefinition:
    name: str
    description: str
    namespace: str
    metric_name: str
    dimensions: tuple[tuple[str, str], ...]
    statistic: str
    period: int
    evaluation_periods: int
    datapoints_to_alarm: int
    threshold: float
    comparison: str
    treat_missing_data: str
    unit: str | None = None
    # The states whose change CloudWatch publishes: those with actions (INSUFFICIENT_DATA only when the
    # alarm opted in; the others change state silently).
    notified_states: frozenset[str] = frozenset({"ALARM", "OK"})

    @classmethod
    def from_template_properties(cls, props: Mapping[str, Any]) -> AlarmDefinition:
        name = str(props.get("AlarmName", "?"))
        if "Metrics" in props or "MetricName" not in props:
            raise UnsupportedAlarm(f"{name}: metric math and anomaly alarms are not modelled locally")
        statistic = props.get("Statistic") or props.get("ExtendedStatistic")
        if not statistic:
            raise UnsupportedAlarm(f"{name}: no statistic")
        evaluation_periods = int(props["EvaluationPeriods"])
        return cls(
            name=name,
            description=str(props.get("AlarmDescription", "")),
            namespace=str(props["Namespace"]),
            metric_name=str(props["MetricName"]),
            dimensions=_dimension_key({d["Name"]: str(d["Value"]) for d in props.get("Dimensions", [])}),
            statistic=str(statistic),
            period=int(props["Period"]),
            evaluation_periods=evaluation_periods,
            datapoints_to_alarm=int(props.get("DatapointsToAlarm", evaluation_periods)),
            threshold=float(props["Threshold"]),
            comparison=str(props["ComparisonOperator"]),
            treat_missing_data=str(props.get("TreatMissingData", "missing")),
            unit=props.get("Unit"),
            notified_states=frozenset(state for state, key in ACTION_KEYS.items() if props.get(key)),
        )


def alarms_from_template(template: Mapping[str, Any]) -> tuple[list[AlarmDefinition], list[str]]:
    """The alarms of a synthesized template; unsupported ones are returned as reasons, not dropped silently."""
    alarms, skipped = [], []
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") != "AWS::CloudWatch::Alarm":
            continue
        try:
            alarms.append(AlarmDefinition.from_template_properties(resource["Properties"]))
        except UnsupportedAlarm as error:
            skipped.append(str(error))
    return alarms, skipped


def datapoints_from_emf(lines: Iterable[str], *, timestamp: float | None = None) -> list[Datapoint]:
    """Datapoints of every EMF blob among `lines` (other lines are ignored).

    `timestamp` replaces the blob's own: the demo compresses time, one monitor run per schedule period.
    """
    points = []
    for line in lines:
        blob = _json_object(line)
        meta = blob.get("_aws") if blob else None
        if not isinstance(meta, dict) or blob is None:
            continue
        when = timestamp if timestamp is not None else float(meta.get("Timestamp", 0)) / 1000
        for directive in meta.get("CloudWatchMetrics", []):
            namespace = directive.get("Namespace", "")
            for dimension_set in directive.get("Dimensions", []):
                dims = _dimension_key({name: str(blob.get(name, "")) for name in dimension_set})
                for metric in directive.get("Metrics", []):
                    raw = blob.get(metric.get("Name"))
                    for value in raw if isinstance(raw, list) else [raw]:
                        if isinstance(value, int | float) and not isinstance(value, bool):
                            points.append(Datapoint(namespace, metric["Name"], dims, when, float(value)))
    return points


@dataclass
class Transition:
    alarm: AlarmDefinition
    old_state: str
    new_state: str
    reason: str
    at: float
    reason_data: dict[str, Any] = field(default_factory=dict)

    @property
    def notifies(self) -> bool:
        """Whether CloudWatch would publish this change (the alarm has actions for the new state)."""
        return self.new_state in self.alarm.notified_states


@dataclass
class AlarmEvaluator:
    """Holds every alarm's state; `evaluate(now)` returns the state changes at that moment."""

    alarms: Sequence[AlarmDefinition]
    datapoints: list[Datapoint] = field(default_factory=list)
    states: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for alarm in self.alarms:
            self.states.setdefault(alarm.name, "INSUFFICIENT_DATA")

    def add(self, points: Iterable[Datapoint]) -> None:
        self.datapoints.extend(points)

    def has_data_for(self, alarm: AlarmDefinition) -> bool:
        return any(_matches(alarm, point) for point in self.datapoints)

    def evaluate(self, now: float) -> list[Transition]:
        transitions = []
        for alarm in self.alarms:
            new_state, reason, values = self._judge(alarm, now)
            old_state = self.states[alarm.name]
            if new_state != old_state:
                self.states[alarm.name] = new_state
                transitions.append(
                    Transition(
                        alarm,
                        old_state,
                        new_state,
                        reason,
                        now,
                        {"recentDatapoints": values, "threshold": alarm.threshold},
                    )
                )
        return transitions

    def _judge(self, alarm: AlarmDefinition, now: float) -> tuple[str, str, list[float]]:
        """The new state and CloudWatch's own wording of the reason (the router reads the values back)."""
        periods = []  # newest first, as CloudWatch lists them: (period start, value or None)
        for index in range(alarm.evaluation_periods):
            start, end = now - (index + 1) * alarm.period, now - index * alarm.period
            samples = [p.value for p in self.datapoints if _matches(alarm, p) and start <= p.timestamp < end]
            periods.append((start, aggregate(alarm.statistic, samples) if samples else None))
        present = [(start, value) for start, value in periods if value is not None]
        compare = COMPARISONS[alarm.comparison]
        missing = len(periods) - len(present)
        breaching = [(start, value) for start, value in present if compare(value, alarm.threshold)]
        treatment = alarm.treat_missing_data
        values = [round(float(value), 3) for _start, value in present]
        if not present:
            if treatment == "breaching":
                return (
                    "ALARM",
                    (
                        f"Threshold Crossed: no datapoints were received for {missing} periods and {missing} missing"
                        " datapoints were treated as [Breaching]."
                    ),
                    [],
                )
            if treatment == "notBreaching":
                return (
                    "OK",
                    (
                        f"Threshold Crossed: no datapoints were received for {missing} periods and {missing} missing"
                        " datapoints were treated as [NonBreaching]."
                    ),
                    [],
                )
            if treatment == "ignore":
                return self.states[alarm.name], "no data; state kept (missing data ignored)", []
            return "INSUFFICIENT_DATA", f"Insufficient Data: {missing} datapoints were unknown.", []
        counted_missing = missing if treatment == "breaching" else 0
        words = COMPARISON_WORDS[alarm.comparison]
        total = len(periods)
        if len(breaching) + counted_missing >= alarm.datapoints_to_alarm:
            return (
                "ALARM",
                (
                    f"Threshold Crossed: {len(breaching) + counted_missing} out of the last {total} datapoints"
                    f" [{_listed(breaching)}] {_was(breaching)} {words} the threshold ({float(alarm.threshold)})"
                    f" (minimum {_count(alarm.datapoints_to_alarm)} for OK -> ALARM transition)."
                ),
                values,
            )
        healthy = [(start, value) for start, value in present if not compare(value, alarm.threshold)]
        return (
            "OK",
            (
                f"Threshold Crossed: {len(healthy)} out of the last {total} datapoints [{_listed(healthy)}]"
                f" {_was(healthy)} not {words} the threshold ({float(alarm.threshold)})"
                " (minimum 1 datapoint for ALARM -> OK transition)."
            ),
            values,
        )


def _listed(points: Sequence[tuple[float, float]]) -> str:
    """`93.4 (29/11/26 03:14:00), ...`: CloudWatch's datapoint list, period start times in UTC."""
    return ", ".join(
        f"{round(float(value), 3)!r} ({datetime.fromtimestamp(start, tz=UTC).strftime('%d/%m/%y %H:%M:%S')})"
        for start, value in points
    )


def _was(points: Sequence[object]) -> str:
    return "was" if len(points) == 1 else "were"


def _count(datapoints: int) -> str:
    return f"{datapoints} datapoint" if datapoints == 1 else f"{datapoints} datapoints"


def aggregate(statistic: str, samples: Sequence[float]) -> float:
    if statistic == "Average":
        return sum(samples) / len(samples)
    if statistic == "Sum":
        return float(sum(samples))
    if statistic == "Minimum":
        return min(samples)
    if statistic == "Maximum":
        return max(samples)
    if statistic == "SampleCount":
        return float(len(samples))
    if statistic.startswith("p"):
        ordered = sorted(samples)
        rank = max(0, math.ceil(float(statistic[1:]) / 100 * len(ordered)) - 1)
        return ordered[rank]
    raise UnsupportedAlarm(f"statistic {statistic} is not modelled locally")


def sns_event_for(
    transition: Transition,
    *,
    region: str = "ap-northeast-1",
    account: str = "123456789012",
    topic_name: str = "local-alerts",
) -> dict[str, Any]:
    """The SNS-to-Lambda event CloudWatch would cause for this state change (same message shape)."""
    alarm = transition.alarm
    changed = datetime.fromtimestamp(transition.at, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"
    statistic_key = "ExtendedStatistic" if alarm.statistic.startswith("p") else "Statistic"
    message = {
        "AlarmName": alarm.name,
        "AlarmDescription": alarm.description,
        "AWSAccountId": account,
        "AlarmConfigurationUpdatedTimestamp": changed,
        "NewStateValue": transition.new_state,
        "NewStateReason": transition.reason,
        "StateChangeTime": changed,
        "Region": "Asia Pacific (Tokyo)" if region == "ap-northeast-1" else region,
        "AlarmArn": f"arn:aws:cloudwatch:{region}:{account}:alarm:{alarm.name}",
        "OldStateValue": transition.old_state,
        "OKActions": [],
        "AlarmActions": [],
        "InsufficientDataActions": [],
        "Trigger": {
            "MetricName": alarm.metric_name,
            "Namespace": alarm.namespace,
            "StatisticType": "ExtendedStatistic" if statistic_key == "ExtendedStatistic" else "Statistic",
            statistic_key: alarm.statistic.upper() if statistic_key == "Statistic" else alarm.statistic,
            "Unit": alarm.unit,
            "Dimensions": [{"value": value, "name": name} for name, value in alarm.dimensions],
            "Period": alarm.period,
            "EvaluationPeriods": alarm.evaluation_periods,
            "DatapointsToAlarm": alarm.datapoints_to_alarm,
            "ComparisonOperator": alarm.comparison,
            "Threshold": alarm.threshold,
            "TreatMissingData": alarm.treat_missing_data,
            "EvaluateLowSampleCountPercentile": "",
        },
    }
    topic_arn = f"arn:aws:sns:{region}:{account}:{topic_name}"
    message_id = hashlib.sha256(f"{alarm.name}|{transition.at}|{transition.new_state}".encode()).hexdigest()[:32]
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": f"{topic_arn}:local-subscription",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": message_id,
                    "TopicArn": topic_arn,
                    "Subject": f'{transition.new_state}: "{alarm.name}" in {message["Region"]}'[:100],
                    "Message": json.dumps(message),
                    "Timestamp": changed.replace("+0000", "Z"),
                    "SignatureVersion": "1",
                    "Signature": "local",
                    "SigningCertUrl": "https://sns.local/cert.pem",
                    "UnsubscribeUrl": "https://sns.local/unsubscribe",
                    "MessageAttributes": {},
                },
            }
        ]
    }


def _matches(alarm: AlarmDefinition, point: Datapoint) -> bool:
    return (
        point.namespace == alarm.namespace
        and point.metric_name == alarm.metric_name
        and point.dimensions == alarm.dimensions
    )


def _dimension_key(dimensions: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(dimensions.items()))


def _json_object(line: str) -> dict[str, Any] | None:
    line = line.strip()
    if not line.startswith("{"):
        return None
    try:
        value = json.loads(line)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None
