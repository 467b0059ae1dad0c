"""CloudWatch alarm notifications -> Alert: the SNS JSON of a state change, and EventBridge's
`CloudWatch Alarm State Change` event (delivered directly or wrapped in an SNS message).

Metric, percentile, metric-math, anomaly-detection and composite alarms; old messages without `AlarmArn`.
An alarm whose state is missing or unknown keeps its raw text (shown as received).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from lambdas.alert_router.intake.fields import (
    alarm_name_from_arn,
    dump,
    get_list,
    get_map,
    get_str,
    json_map,
    parse_arn,
    to_float,
    to_int,
    to_state,
    to_time,
)
from lambdas.alert_router.models import AlarmKind, Alert, Dimensions, MetricQuery, SourceKind

EVENTBRIDGE_DETAIL_TYPE = "CloudWatch Alarm State Change"
# "... [93.4 (29/11/26 03:09:00), 91.2 (29/11/26 03:08:00)] was greater than ..." -> 93.4, 91.2
_REASON_DATAPOINT = re.compile(r"([-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?) \(\d\d/\d\d/\d\d \d\d:\d\d:\d\d\)")
_REASON_COMPARISON = (
    ("greater than or equal to the threshold", "GreaterThanOrEqualToThreshold"),
    ("less than or equal to the threshold", "LessThanOrEqualToThreshold"),
    ("greater than the threshold", "GreaterThanThreshold"),
    ("less than the threshold", "LessThanThreshold"),
    ("greater than the upper thresholds", "GreaterThanUpperThreshold"),
    ("less than the lower thresholds", "LessThanLowerThreshold"),
    ("outside the band", "LessThanLowerOrGreaterThanUpperThreshold"),
)


def parse_cloudwatch_alarm(
    payload: Mapping[str, Any],
    *,
    message_id: str | None = None,
    topic_arn: str | None = None,
    subject: str | None = None,
) -> Alert:
    """The JSON CloudWatch publishes to SNS when an alarm changes state."""
    alarm_arn = get_str(payload, "AlarmArn")
    arn = parse_arn(alarm_arn) or parse_arn(topic_arn) or {}
    trigger = get_map(payload, "Trigger")
    metrics = tuple(_sns_metric_query(item) for item in get_list(trigger, "Metrics") if isinstance(item, Mapping))
    alarm_rule = get_str(payload, "AlarmRule")
    threshold_metric_id = get_str(trigger, "ThresholdMetricId")
    reason = get_str(payload, "NewStateReason")
    state = to_state(get_str(payload, "NewStateValue"))
    return Alert(
        source=SourceKind.SNS_ALARM,
        message_id=message_id,
        alarm_kind=_alarm_kind(alarm_rule, threshold_metric_id, metrics),
        state=state,
        previous_state=to_state(get_str(payload, "OldStateValue")),
        alarm_name=get_str(payload, "AlarmName") or alarm_name_from_arn(alarm_arn),
        description=get_str(payload, "AlarmDescription"),
        reason=reason,
        region=arn.get("region"),
        partition=arn.get("partition"),
        account=get_str(payload, "AWSAccountId") or arn.get("account"),
        alarm_arn=alarm_arn,
        state_change_time=to_time(get_str(payload, "StateChangeTime")),
        configuration_updated=to_time(get_str(payload, "AlarmConfigurationUpdatedTimestamp")),
        namespace=get_str(trigger, "Namespace"),
        metric_name=get_str(trigger, "MetricName"),
        dimensions=_dimensions(trigger.get("Dimensions")),
        statistic=get_str(trigger, "ExtendedStatistic") or get_str(trigger, "Statistic"),
        unit=get_str(trigger, "Unit"),
        threshold=to_float(trigger.get("Threshold")),
        comparison=get_str(trigger, "ComparisonOperator") or _comparison_from_reason(reason),
        period=to_int(trigger.get("Period")),
        evaluation_periods=to_int(trigger.get("EvaluationPeriods")),
        datapoints_to_alarm=to_int(trigger.get("DatapointsToAlarm")),
        treat_missing_data=get_str(trigger, "TreatMissingData"),
        datapoints=_datapoints_from_reason(reason),
        metrics=metrics,
        threshold_metric_id=threshold_metric_id,
        alarm_rule=alarm_rule,
        triggering_children=_children(payload.get("TriggeringChildren")),
        subject=subject,
        topic_arn=topic_arn,
        raw_text=None if state else dump(payload),  # no state to show: the message is shown as received
    )


def parse_eventbridge(
    event: Mapping[str, Any],
    *,
    message_id: str | None = None,
    topic_arn: str | None = None,
    subject: str | None = None,
) -> Alert:
    """An EventBridge `CloudWatch Alarm State Change` event (lower-case keys, reasonData as JSON text)."""
    detail = get_map(event, "detail")
    state = get_map(detail, "state")
    previous = get_map(detail, "previousState")
    configuration = get_map(detail, "configuration")
    resources = [item for item in get_list(event, "resources") if isinstance(item, str)]
    alarm_arn = next((item for item in resources if ":alarm:" in item), None)
    arn = parse_arn(alarm_arn) or {}
    reason_data = json_map(get_str(state, "reasonData"))
    metrics = tuple(
        _eventbridge_metric_query(item) for item in get_list(configuration, "metrics") if isinstance(item, Mapping)
    )
    single = metrics[0] if len(metrics) == 1 and metrics[0].metric_name else None
    alarm_rule = get_str(configuration, "alarmRule")
    reason = get_str(state, "reason")
    threshold_metric_id = get_str(configuration, "thresholdMetricId")
    children = tuple(
        name
        for item in get_list(reason_data, "triggeringAlarms")
        if isinstance(item, Mapping) and (name := alarm_name_from_arn(get_str(item, "arn")))
    )
    # recentDatapoints is oldest first; the model keeps the newest first, like the SNS reason text
    recent = (to_float(x) for x in reversed(get_list(reason_data, "recentDatapoints")))
    datapoints = tuple(v for v in recent if v is not None)
    new_state = to_state(get_str(state, "value"))
    return Alert(
        source=SourceKind.EVENTBRIDGE_ALARM,
        message_id=message_id or get_str(event, "id"),
        alarm_kind=_alarm_kind(alarm_rule, threshold_metric_id, () if single else metrics),
        state=new_state,
        previous_state=to_state(get_str(previous, "value")),
        alarm_name=get_str(detail, "alarmName") or alarm_name_from_arn(alarm_arn),
        description=get_str(configuration, "description"),
        reason=reason,
        region=get_str(event, "region") or arn.get("region"),
        partition=arn.get("partition"),
        account=get_str(event, "account") or arn.get("account"),
        alarm_arn=alarm_arn,
        state_change_time=to_time(get_str(state, "timestamp")) or to_time(get_str(event, "time")),
        namespace=single.namespace if single else None,
        metric_name=single.metric_name if single else None,
        dimensions=single.dimensions if single else (),
        statistic=(single.stat if single else None) or get_str(reason_data, "statistic"),
        unit=get_str(reason_data, "unit"),
        threshold=to_float(reason_data.get("threshold")),
        comparison=_comparison_from_reason(reason),
        period=(single.period if single else None) or to_int(reason_data.get("period")),
        datapoints=datapoints or _datapoints_from_reason(reason),
        metrics=() if single else metrics,
        threshold_metric_id=threshold_metric_id,
        alarm_rule=alarm_rule,
        triggering_children=children,
        subject=subject,
        topic_arn=topic_arn,
        raw_text=None if new_state else dump(event),
    )


def _dimensions(value: object) -> Dimensions:
    """SNS gives [{"name": .., "value": ..}] (any case); EventBridge gives {"Name": "value"}."""
    pairs: list[tuple[str, str]] = []
    if isinstance(value, Mapping):
        pairs = [(str(k), str(v)) for k, v in value.items() if isinstance(v, str | int | float)]
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, Mapping):
                name = get_str(item, "name") or get_str(item, "Name")
                dim_value = get_str(item, "value") or get_str(item, "Value")
                if name and dim_value:
                    pairs.append((name, dim_value))
    return tuple(pairs)


# The keys of one metric-math / anomaly entry: SNS writes them capitalised, EventBridge in camel case.
_SNS_KEYS = (
    "Id", "Expression", "Label", "MetricStat", "Metric", "Namespace", "MetricName", "Dimensions", "Stat", "Period",
    "ReturnData",
)  # fmt: skip
_EVENTBRIDGE_KEYS = (
    "id", "expression", "label", "metricStat", "metric", "namespace", "name", "dimensions", "stat", "period",
    "returnData",
)  # fmt: skip


def _sns_metric_query(item: Mapping[str, Any]) -> MetricQuery:
    return _metric_query(item, _SNS_KEYS)


def _eventbridge_metric_query(item: Mapping[str, Any]) -> MetricQuery:
    return _metric_query(item, _EVENTBRIDGE_KEYS)


def _metric_query(item: Mapping[str, Any], keys: tuple[str, ...]) -> MetricQuery:
    id_, expression, label, metric_stat, metric_key, namespace, name, dimensions, stat_key, period, returned = keys
    stat = get_map(item, metric_stat)
    metric = get_map(stat, metric_key)
    return MetricQuery(
        id=get_str(item, id_) or "?",
        expression=get_str(item, expression),
        label=get_str(item, label),
        namespace=get_str(metric, namespace),
        metric_name=get_str(metric, name),
        dimensions=_dimensions(metric.get(dimensions)),
        stat=get_str(stat, stat_key),
        period=to_int(stat.get(period)) or to_int(item.get(period)),
        return_data=item.get(returned) is True,
    )


def _alarm_kind(alarm_rule: str | None, threshold_metric_id: str | None, metrics: tuple[MetricQuery, ...]) -> AlarmKind:
    if alarm_rule:
        return AlarmKind.COMPOSITE
    if threshold_metric_id or any("ANOMALY_DETECTION_BAND" in (q.expression or "") for q in metrics):
        return AlarmKind.ANOMALY
    if metrics:
        return AlarmKind.METRIC_MATH
    return AlarmKind.METRIC


def _children(value: object) -> tuple[str, ...]:
    """TriggeringChildren: [{"Arn": .., "State": {..}}] in practice, [str] in the documented schema."""
    names: list[str] = []
    for item in value if isinstance(value, list) else []:
        arn = item if isinstance(item, str) else get_str(item, "Arn")
        name = alarm_name_from_arn(arn) or arn
        if name:
            names.append(name)
    return tuple(names)


def _datapoints_from_reason(reason: str | None) -> tuple[float, ...]:
    if not reason:
        return ()
    values = (to_float(value) for value in _REASON_DATAPOINT.findall(reason))
    return tuple(value for value in values if value is not None)  # "1e400" is inf: no data


def _comparison_from_reason(reason: str | None) -> str | None:
    lowered = (reason or "").lower()
    return next((operator for phrase, operator in _REASON_COMPARISON if phrase in lowered), None)
