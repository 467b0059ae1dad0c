"""The intake's entry point: any Lambda event -> a list of `Alert`, one per record, never an exception.

Shapes understood (each parser in its own module of this package):
- SQS records (the deployed intake: the alert topic feeds a queue the function reads in batches), whose
  body is the SNS envelope of the default subscription (`{"Type": "Notification", "MessageId", "TopicArn",
  "Message", ...}`, https://docs.aws.amazon.com/sns/latest/dg/sns-sqs-as-subscriber.html) or, with raw
  message delivery, the message itself; each Alert keeps its record's `messageId` (`record_id`), so a
  failed delivery is reported back for exactly its records (`batchItemFailures`). The SNS MessageId is
  still the idempotency key: SNS may deliver one notification to the queue twice, as two SQS messages;
- SNS records whose `Message` is a CloudWatch alarm notification, and EventBridge `CloudWatch Alarm State
  Change` events, delivered directly or wrapped in an SNS message (cloudwatch.py);
- Sentry webhooks that the Sentry intake wrapped in its envelope (sentry.py, lambdas/shared/sentry_envelope.py);
- RDS event notifications (rds.py);
- anything else (plain text, unknown JSON) becomes an unparsed Alert that
  carries the raw text, whole (the renderer cuts it for Slack, the handler logs it whole), so nothing is
  dropped;
- the scheduled sweep event of bot-token mode (`is_sweep`).
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from lambdas.alert_router.intake.cloudwatch import EVENTBRIDGE_DETAIL_TYPE, parse_cloudwatch_alarm, parse_eventbridge
from lambdas.alert_router.intake.fields import dump, get_map, get_str, parse_arn, to_state
from lambdas.alert_router.intake.rds import is_rds_event, parse_rds_event
from lambdas.alert_router.intake.sentry import parse_sentry
from lambdas.alert_router.models import Alert, SourceKind
from lambdas.shared.sentry_envelope import SENTRY_SOURCE

SQS_SOURCE = "aws:sqs"


def is_sqs_event(event: object) -> bool:
    """An event from the SQS event source mapping (its answer is `batchItemFailures`)."""
    if not isinstance(event, Mapping):
        return False
    records = event.get("Records")
    return isinstance(records, list) and bool(records) and all(_is_sqs_record(record) for record in records)


def _is_sqs_record(record: object) -> bool:
    return isinstance(record, Mapping) and record.get("eventSource") == SQS_SOURCE


def parse_event(event: object) -> list[Alert]:
    """Every record of the event becomes exactly one Alert; a broken record becomes an unparsed Alert."""
    if isinstance(event, Mapping):
        records = event.get("Records")
        if isinstance(records, list) and records:
            return [_parse_any_record(record) for record in records]
        if event.get("detail-type") == EVENTBRIDGE_DETAIL_TYPE:
            return [_safe(parse_eventbridge, event)]
    return [unparsed(dump(event), message_id=get_str(event, "id") if isinstance(event, Mapping) else None)]


def _parse_any_record(record: object) -> Alert:
    if not _is_sqs_record(record):
        return _safe(parse_record, record)
    assert isinstance(record, Mapping)
    # the record id survives a parser bug too: it is what SQS is told failed
    return replace(_safe(parse_sqs_record, record), record_id=get_str(record, "messageId"))


def parse_record(record: object) -> Alert:
    """One `Records[]` entry: an SNS notification."""
    if not isinstance(record, Mapping):
        return unparsed(dump(record))
    sns = record.get("Sns")
    if not isinstance(sns, Mapping):
        return unparsed(dump(record), message_id=get_str(record, "messageId"))
    message = sns.get("Message")
    message_id = get_str(sns, "MessageId")
    topic_arn = get_str(sns, "TopicArn")
    subject = get_str(sns, "Subject")
    if not isinstance(message, str):
        return unparsed(dump(message), message_id=message_id, subject=subject, topic_arn=topic_arn)
    return parse_sns_message(message, message_id=message_id, topic_arn=topic_arn, subject=subject)


def parse_sqs_record(record: Mapping[str, Any]) -> Alert:
    """One SQS message: an SNS envelope in its body (the default), or the raw message (raw delivery)."""
    record_id = get_str(record, "messageId")
    body = record.get("body")
    text = body if isinstance(body, str) else dump(body)
    try:
        envelope = json.loads(text)
    except (ValueError, RecursionError):
        envelope = None
    if (
        isinstance(envelope, Mapping)
        and envelope.get("Type") == "Notification"
        and isinstance(envelope.get("Message"), str)
    ):
        alert = parse_sns_message(
            envelope["Message"],
            message_id=get_str(envelope, "MessageId") or record_id,
            topic_arn=get_str(envelope, "TopicArn"),
            subject=get_str(envelope, "Subject"),
        )
    else:
        alert = parse_sns_message(text, message_id=record_id)
    return replace(alert, record_id=record_id)


def parse_sns_message(
    message: str, *, message_id: str | None = None, topic_arn: str | None = None, subject: str | None = None
) -> Alert:
    try:
        payload = json.loads(message)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than anything a sender writes
        payload = None
    envelope = {"message_id": message_id, "topic_arn": topic_arn, "subject": subject}
    if isinstance(payload, Mapping):
        if payload.get("detail-type") == EVENTBRIDGE_DETAIL_TYPE:
            return _safe(parse_eventbridge, payload, raw_text=message, **envelope)
        if payload.get("source") == SENTRY_SOURCE and isinstance(payload.get("payload"), Mapping):
            return _safe(parse_sentry, payload, raw_text=message, **envelope)
        if get_str(payload, "AlarmName") or get_str(payload, "AlarmArn"):
            return _safe(parse_cloudwatch_alarm, payload, raw_text=message, **envelope)
        if is_rds_event(payload):
            return _safe(parse_rds_event, payload, raw_text=message, **envelope)
    return unparsed(message, message_id=message_id, subject=subject, topic_arn=topic_arn)


def unparsed(
    text: str,
    *,
    message_id: str | None = None,
    subject: str | None = None,
    topic_arn: str | None = None,
) -> Alert:
    arn = parse_arn(topic_arn) or {}
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


def _safe(parser: Any, source: Any, *, raw_text: str | None = None, **envelope: Any) -> Alert:
    """A parser bug on one strange record must not lose it: it is delivered as received instead, with the
    failure (for the handler's log, metric and alarm) and what could still be read of it (name, description
    - whose `Severity:` line then routes it - and state)."""
    try:
        alert: Alert = parser(source, **envelope)
    except Exception as error:
        text = raw_text if raw_text is not None else dump(source)
        failed = unparsed(
            text,
            message_id=envelope.get("message_id"),
            subject=envelope.get("subject"),
            topic_arn=envelope.get("topic_arn"),
        )
        return replace(failed, **_salvage(source), parse_error=type(error).__name__, parse_error_detail=_where(error))
    return alert


def _salvage(source: object) -> dict[str, Any]:
    """The name, description and state of an alarm notification a parser failed on, where they can be read."""
    if not isinstance(source, Mapping):
        return {}
    detail = get_map(source, "detail")
    configuration = get_map(detail, "configuration")
    state = get_str(source, "NewStateValue") or get_str(get_map(detail, "state"), "value")
    return {
        "alarm_name": get_str(source, "AlarmName") or get_str(detail, "alarmName"),
        "description": get_str(source, "AlarmDescription") or get_str(configuration, "description"),
        "state": to_state(state),
    }


def _where(error: BaseException) -> str:
    """`<message> (at <file>:<line> in <function>)`: enough to find the bug, nothing from the input's shape."""
    frames = traceback.extract_tb(error.__traceback__)
    where = (
        f" (at {frames[-1].filename.rsplit('/', 2)[-2:][-1]}:{frames[-1].lineno} in {frames[-1].name})"
        if frames
        else ""
    )
    return f"{str(error)[:300]}{where}"


def is_sweep(event: object) -> bool:
    """The scheduled event of bot-token mode's sweep (EventBridge's own, or `{"action": "sweep"}` by hand)."""
    if not isinstance(event, Mapping):
        return False
    scheduled = event.get("source") == "aws.events" and event.get("detail-type") == "Scheduled Event"
    return scheduled or event.get("action") == "sweep"
