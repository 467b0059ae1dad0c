"""Pure parsing: any Lambda event -> a list of `Alert`, one per record, never an exception.

Shapes understood:
- SNS records whose `Message` is a CloudWatch alarm notification (metric, percentile, metric-math,
  anomaly-detection and composite alarms; old messages without `AlarmArn`);
- EventBridge `CloudWatch Alarm State Change` events, delivered directly or wrapped in an SNS message;
- Sentry webhooks (issue alert, issue created, metric alert) that the Sentry intake wrapped in an SNS
  message marked `"source": "sentry"` (see `sentry_envelope`);
- anything else (plain text, unknown JSON such as RDS event notifications) becomes an unparsed Alert that
  carries the raw text, whole (the renderer cuts it for Slack, the handler logs it whole), so nothing is
  dropped. An alarm whose state is missing or unknown keeps its raw text too.

Fields are read through small typed getters: input from outside is never indexed blindly.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from lambdas.alert_router.models import AlarmKind, Alert, Dimensions, MetricQuery, SentryFacts, SourceKind, State

EVENTBRIDGE_DETAIL_TYPE = "CloudWatch Alarm State Change"
_ARN = re.compile(r"^arn:(?P<partition>aws[a-z-]*):(?P<service>[a-z0-9-]+):(?P<region>[a-z0-9-]*):(?P<account>\d*):")
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


def parse_event(event: object) -> list[Alert]:
    """Every record of the event becomes exactly one Alert; a broken record becomes an unparsed Alert."""
    if isinstance(event, Mapping):
        records = event.get("Records")
        if isinstance(records, list) and records:
            return [_safe(parse_record, record) for record in records]
        if event.get("detail-type") == EVENTBRIDGE_DETAIL_TYPE:
            return [_safe(parse_eventbridge, event)]
    return [unparsed(_dump(event), message_id=_str(event, "id") if isinstance(event, Mapping) else None)]


def parse_record(record: object) -> Alert:
    """One `Records[]` entry: an SNS notification."""
    if not isinstance(record, Mapping):
        return unparsed(_dump(record))
    sns = record.get("Sns")
    if not isinstance(sns, Mapping):
        return unparsed(_dump(record), message_id=_str(record, "messageId"))
    message = sns.get("Message")
    message_id = _str(sns, "MessageId")
    topic_arn = _str(sns, "TopicArn")
    subject = _str(sns, "Subject")
    if not isinstance(message, str):
        return unparsed(_dump(message), message_id=message_id, subject=subject, topic_arn=topic_arn)
    return parse_sns_message(message, message_id=message_id, topic_arn=topic_arn, subject=subject)


def parse_sns_message(
    message: str, *, message_id: str | None = None, topic_arn: str | None = None, subject: str | None = None
) -> Alert:
    try:
        payload = json.loads(message)
    except ValueError:
        payload = None
    envelope = {"message_id": message_id, "topic_arn": topic_arn, "subject": subject}
    if isinstance(payload, Mapping):
        if payload.get("detail-type") == EVENTBRIDGE_DETAIL_TYPE:
            return _safe(parse_eventbridge, payload, **envelope)
        if payload.get("source") == SENTRY_SOURCE and isinstance(payload.get("payload"), Mapping):
            return _safe(parse_sentry, payload, **envelope)
        if _str(payload, "AlarmName") or _str(payload, "AlarmArn"):
            return _safe(parse_cloudwatch_alarm, payload, **envelope)
    return unparsed(message, message_id=message_id, subject=subject, topic_arn=topic_arn)


def parse_cloudwatch_alarm(
    payload: Mapping[str, Any],
    *,
    message_id: str | None = None,
    topic_arn: str | None = None,
    subject: str | None = None,
) -> Alert:
    """The JSON CloudWatch publishes to SNS when an alarm changes state."""
    alarm_arn = _str(payload, "AlarmArn")
    arn = _parse_arn(alarm_arn) or _parse_arn(topic_arn) or {}
    trigger = _map(payload, "Trigger")
    metrics = tuple(_sns_metric_query(item) for item in _list(trigger, "Metrics") if isinstance(item, Mapping))
    alarm_rule = _str(payload, "AlarmRule")
    threshold_metric_id = _str(trigger, "ThresholdMetricId")
    reason = _str(payload, "NewStateReason")
    state = _state(_str(payload, "NewStateValue"))
    return Alert(
        source=SourceKind.SNS_ALARM,
        message_id=message_id,
        alarm_kind=_alarm_kind(alarm_rule, threshold_metric_id, metrics),
        state=state,
        previous_state=_state(_str(payload, "OldStateValue")),
        alarm_name=_str(payload, "AlarmName") or _alarm_name_from_arn(alarm_arn),
        description=_str(payload, "AlarmDescription"),
        reason=reason,
        region=arn.get("region"),
        partition=arn.get("partition"),
        account=_str(payload, "AWSAccountId") or arn.get("account"),
        alarm_arn=alarm_arn,
        state_change_time=_time(_str(payload, "StateChangeTime")),
        configuration_updated=_time(_str(payload, "AlarmConfigurationUpdatedTimestamp")),
        namespace=_str(trigger, "Namespace"),
        metric_name=_str(trigger, "MetricName"),
        dimensions=_dimensions(trigger.get("Dimensions")),
        statistic=_str(trigger, "ExtendedStatistic") or _str(trigger, "Statistic"),
        unit=_str(trigger, "Unit"),
        threshold=_float(trigger.get("Threshold")),
        comparison=_str(trigger, "ComparisonOperator") or _comparison_from_reason(reason),
        period=_int(trigger.get("Period")),
        evaluation_periods=_int(trigger.get("EvaluationPeriods")),
        datapoints_to_alarm=_int(trigger.get("DatapointsToAlarm")),
        treat_missing_data=_str(trigger, "TreatMissingData"),
        datapoints=_datapoints_from_reason(reason),
        metrics=metrics,
        threshold_metric_id=threshold_metric_id,
        alarm_rule=alarm_rule,
        triggering_children=_children(payload.get("TriggeringChildren")),
        subject=subject,
        topic_arn=topic_arn,
        raw_text=None if state else _dump(payload),  # no state to show: the message is shown as received
    )


def parse_eventbridge(
    event: Mapping[str, Any],
    *,
    message_id: str | None = None,
    topic_arn: str | None = None,
    subject: str | None = None,
) -> Alert:
    """An EventBridge `CloudWatch Alarm State Change` event (lower-case keys, reasonData as JSON text)."""
    detail = _map(event, "detail")
    state = _map(detail, "state")
    previous = _map(detail, "previousState")
    configuration = _map(detail, "configuration")
    resources = [item for item in _list(event, "resources") if isinstance(item, str)]
    alarm_arn = next((item for item in resources if ":alarm:" in item), None)
    arn = _parse_arn(alarm_arn) or {}
    reason_data = _json_map(_str(state, "reasonData"))
    metrics = tuple(
        _eventbridge_metric_query(item) for item in _list(configuration, "metrics") if isinstance(item, Mapping)
    )
    single = metrics[0] if len(metrics) == 1 and metrics[0].metric_name else None
    alarm_rule = _str(configuration, "alarmRule")
    reason = _str(state, "reason")
    threshold_metric_id = _str(configuration, "thresholdMetricId")
    children = tuple(
        name
        for item in _list(reason_data, "triggeringAlarms")
        if isinstance(item, Mapping) and (name := _alarm_name_from_arn(_str(item, "arn")))
    )
    # recentDatapoints is oldest first; the model keeps the newest first, like the SNS reason text
    recent = (_float(x) for x in reversed(_list(reason_data, "recentDatapoints")))
    datapoints = tuple(v for v in recent if v is not None)
    new_state = _state(_str(state, "value"))
    return Alert(
        source=SourceKind.EVENTBRIDGE_ALARM,
        message_id=message_id or _str(event, "id"),
        alarm_kind=_alarm_kind(alarm_rule, threshold_metric_id, () if single else metrics),
        state=new_state,
        previous_state=_state(_str(previous, "value")),
        alarm_name=_str(detail, "alarmName") or _alarm_name_from_arn(alarm_arn),
        description=_str(configuration, "description"),
        reason=reason,
        region=_str(event, "region") or arn.get("region"),
        partition=arn.get("partition"),
        account=_str(event, "account") or arn.get("account"),
        alarm_arn=alarm_arn,
        state_change_time=_time(_str(state, "timestamp")) or _time(_str(event, "time")),
        namespace=single.namespace if single else None,
        metric_name=single.metric_name if single else None,
        dimensions=single.dimensions if single else (),
        statistic=(single.stat if single else None) or _str(reason_data, "statistic"),
        unit=_str(reason_data, "unit"),
        threshold=_float(reason_data.get("threshold")),
        comparison=_comparison_from_reason(reason),
        period=(single.period if single else None) or _int(reason_data.get("period")),
        datapoints=datapoints or _datapoints_from_reason(reason),
        metrics=() if single else metrics,
        threshold_metric_id=threshold_metric_id,
        alarm_rule=alarm_rule,
        triggering_children=children,
        subject=subject,
        topic_arn=topic_arn,
        raw_text=None if new_state else _dump(event),
    )


SENTRY_SOURCE = "sentry"
# Sentry's metric alert action -> our state; issue alerts and new issues are always a firing problem
_SENTRY_STATE = {"critical": State.ALARM, "warning": State.ALARM, "resolved": State.OK}


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


def parse_sentry(
    envelope: Mapping[str, Any],
    *,
    message_id: str | None = None,
    topic_arn: str | None = None,
    subject: str | None = None,
) -> Alert:
    """A Sentry webhook (event_alert, issue, metric_alert) inside the intake's envelope."""
    resource = _str(envelope, "resource") or "unknown"
    body = _map(envelope, "payload")
    data = _map(body, "data")
    action = _str(body, "action")
    if resource == "metric_alert":
        facts = _sentry_metric_alert(data, action)
        state = _SENTRY_STATE.get(action or "", State.ALARM)
        previous = State.ALARM if state is State.OK else None
        name = facts.rule_name or facts.title
        when = _time(_str(_map(data, "metric_alert"), "date_closed" if state is State.OK else "date_started"))
    else:
        facts = _sentry_issue(data, resource, action)
        state, previous, name = State.ALARM, None, facts.title
        when = facts.last_seen
    arn = _parse_arn(topic_arn) or {}
    return Alert(
        source=SourceKind.SENTRY,
        message_id=message_id,
        state=state,
        previous_state=previous,
        alarm_name=name,
        description=facts.description,
        reason=facts.description,
        region=arn.get("region"),
        partition=arn.get("partition"),
        account=arn.get("account"),
        state_change_time=when,
        subject=subject,
        topic_arn=topic_arn,
        sentry=facts,
        delivery_id=_str(envelope, "delivery_id") or _str(data, "id"),
    )


def _sentry_metric_alert(data: Mapping[str, Any], action: str | None) -> SentryFacts:
    incident = _map(data, "metric_alert")
    rule = _map(incident, "alert_rule")
    projects = [item for item in _list(rule, "projects") or _list(incident, "projects") if isinstance(item, str)]
    return SentryFacts(
        resource="metric_alert",
        action=action,
        title=_str(data, "description_title") or _str(incident, "title"),
        project=", ".join(projects) or None,
        sentry_environment=_str(rule, "environment"),
        issue_url=_str(data, "web_url"),
        rule_name=_str(rule, "name"),
        alert_rule_id=_id(rule.get("id")),
        issue_id=_id(incident.get("id")),
        aggregate=_str(rule, "aggregate"),
        dataset=_str(rule, "dataset"),
        description=_str(data, "description_text"),
        first_seen=_time(_str(incident, "date_started")),
    )


def _sentry_issue(data: Mapping[str, Any], resource: str, action: str | None) -> SentryFacts:
    """`issue` webhooks carry data.issue; `event_alert` webhooks carry data.event (one event of the issue).

    An issue alert's event (Sentry's documented payload) has no event count and no first/last seen, and
    its `project` is the numeric id: the project slug comes from the event's API `url`
    (/api/0/projects/<org>/<slug>/events/<id>/); the event's time stands for "last seen".
    """
    issue = _map(data, "issue")
    event = _map(data, "event")
    source = issue or event
    project = _map(issue, "project")
    tags = {
        str(pair[0]): str(pair[1])
        for pair in _list(event, "tags")
        if isinstance(pair, list) and len(pair) == 2  # Sentry tags are [key, value] pairs
    }
    return SentryFacts(
        resource=resource,
        action=action,
        title=_str(source, "title") or _str(source, "message"),
        level=(_str(source, "level") or tags.get("level") or "").lower() or None,
        issue_category=_str(issue, "issueCategory") or _str(event, "issue_category") or _str(event, "type"),
        project=_str(project, "slug")
        or _str(project, "name")
        or _str(event, "project_slug")
        or _project_from_event_url(_str(event, "url")),
        sentry_environment=_str(event, "environment") or tags.get("environment"),
        culprit=_str(source, "culprit"),
        event_count=_int(issue.get("count", event.get("count"))),
        first_seen=_time(_str(issue, "firstSeen")) or _time(_str(event, "firstSeen")),
        last_seen=_time(_str(issue, "lastSeen")) or _time(_str(event, "datetime")),
        issue_url=_str(issue, "web_url") or _issue_web_url(_str(event, "web_url")),
        project_url=_str(issue, "project_url"),
        rule_name=_str(data, "triggered_rule") or _str(_map(data, "issue_alert"), "title"),
        issue_id=_id(issue.get("id")) or _id(event.get("issue_id")),
    )


_PROJECT_IN_API_URL = re.compile(r"/api/0/projects/[^/]+/(?P<slug>[^/?#]+)/")


def _project_from_event_url(url: str | None) -> str | None:
    match = _PROJECT_IN_API_URL.search(url or "")
    return match.group("slug") if match else None


def _id(value: object) -> str | None:
    """Sentry ids come as strings or numbers."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    return value.strip() or None if isinstance(value, str) else None


def is_sentry_envelope(text: str) -> bool:
    """Whether a message is the intake's Sentry envelope (its content stays out of the logs, issue 8)."""
    try:
        payload = json.loads(text)
    except ValueError:
        return False
    return isinstance(payload, Mapping) and payload.get("source") == SENTRY_SOURCE


def _issue_web_url(event_url: str | None) -> str | None:
    """An event's web URL ends in /events/<id>/; the issue is the part before it."""
    if not event_url:
        return None
    head, sep, _ = event_url.partition("/events/")
    return f"{head}/" if sep else event_url


def unparsed(
    text: str,
    *,
    message_id: str | None = None,
    subject: str | None = None,
    topic_arn: str | None = None,
) -> Alert:
    arn = _parse_arn(topic_arn) or {}
    return Alert(
        source=SourceKind.UNPARSED,
        message_id=message_id,
        subject=subject,
        topic_arn=topic_arn,
        region=arn.get("region"),
        partition=arn.get("partition"),
        account=arn.get("account"),
        raw_text=text,
    )


# --- helpers -------------------------------------------------------------------------------------------


def _safe(parser: Any, source: Any, **envelope: Any) -> Alert:
    """A parser bug on one strange record must not lose it: it is delivered raw instead."""
    try:
        alert: Alert = parser(source, **envelope)
    except Exception:
        text = source if isinstance(source, str) else _dump(source)
        return unparsed(text, message_id=envelope.get("message_id"), subject=envelope.get("subject"))
    return alert


def _dump(value: object) -> str:
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, indent=2, default=str)
    except (TypeError, ValueError):
        return repr(value)


def _str(mapping: Mapping[str, Any] | object, key: str) -> str | None:
    if not isinstance(mapping, Mapping):
        return None
    value = mapping.get(key)
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return None


def _map(mapping: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = mapping.get(key)
    return value if isinstance(value, Mapping) else {}


def _list(mapping: Mapping[str, Any], key: str) -> list[Any]:
    value = mapping.get(key)
    return value if isinstance(value, list) else []


def _json_map(text: str | None) -> Mapping[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, Mapping) else {}


def _float(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None  # NaN and inf are no data


def _int(value: object) -> int | None:
    number = _float(value)
    return int(number) if number is not None else None


def _state(value: str | None) -> State | None:
    try:
        return State(value.upper()) if value else None
    except ValueError:
        return None


def _time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None  # a time without zone cannot be shown as UTC honestly


def _parse_arn(arn: str | None) -> dict[str, str] | None:
    match = _ARN.match(arn or "")
    if not match:
        return None
    return {key: value for key, value in match.groupdict().items() if value}


def _alarm_name_from_arn(arn: str | None) -> str | None:
    if not arn or ":alarm:" not in arn:
        return None
    return arn.split(":alarm:", 1)[1] or None


def _dimensions(value: object) -> Dimensions:
    """SNS gives [{"name": .., "value": ..}] (any case); EventBridge gives {"Name": "value"}."""
    pairs: list[tuple[str, str]] = []
    if isinstance(value, Mapping):
        pairs = [(str(k), str(v)) for k, v in value.items() if isinstance(v, str | int | float)]
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, Mapping):
                name = _str(item, "name") or _str(item, "Name")
                dim_value = _str(item, "value") or _str(item, "Value")
                if name and dim_value:
                    pairs.append((name, dim_value))
    return tuple(pairs)


def _sns_metric_query(item: Mapping[str, Any]) -> MetricQuery:
    stat = _map(item, "MetricStat")
    metric = _map(stat, "Metric")
    return MetricQuery(
        id=_str(item, "Id") or "?",
        expression=_str(item, "Expression"),
        label=_str(item, "Label"),
        namespace=_str(metric, "Namespace"),
        metric_name=_str(metric, "MetricName"),
        dimensions=_dimensions(metric.get("Dimensions")),
        stat=_str(stat, "Stat"),
        period=_int(stat.get("Period")) or _int(item.get("Period")),
        return_data=item.get("ReturnData") is True,
    )


def _eventbridge_metric_query(item: Mapping[str, Any]) -> MetricQuery:
    stat = _map(item, "metricStat")
    metric = _map(stat, "metric")
    return MetricQuery(
        id=_str(item, "id") or "?",
        expression=_str(item, "expression"),
        label=_str(item, "label"),
        namespace=_str(metric, "namespace"),
        metric_name=_str(metric, "name"),
        dimensions=_dimensions(metric.get("dimensions")),
        stat=_str(stat, "stat"),
        period=_int(stat.get("period")) or _int(item.get("period")),
        return_data=item.get("returnData") is True,
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
        arn = item if isinstance(item, str) else _str(item, "Arn")
        name = _alarm_name_from_arn(arn) or arn
        if name:
            names.append(name)
    return tuple(names)


def _datapoints_from_reason(reason: str | None) -> tuple[float, ...]:
    if not reason:
        return ()
    values = (_float(value) for value in _REASON_DATAPOINT.findall(reason))
    return tuple(value for value in values if value is not None)  # "1e400" is inf: no data


def _comparison_from_reason(reason: str | None) -> str | None:
    lowered = (reason or "").lower()
    return next((operator for phrase, operator in _REASON_COMPARISON if phrase in lowered), None)
