"""The intake's entry point: any Lambda event -> a list of `Alert`, one per record, never an exception.

Shapes understood (each parser in its own module of this package):
- SNS records whose `Message` is a CloudWatch alarm notification, and EventBridge `CloudWatch Alarm State
  Change` events, delivered directly or wrapped in an SNS message (cloudwatch.py);
- Sentry webhooks that the Sentry intake wrapped in its envelope (sentry.py, lambdas/shared/sentry_envelope.py);
- anything else (plain text, unknown JSON such as RDS event notifications) becomes an unparsed Alert that
  carries the raw text, whole (the renderer cuts it for Slack, the handler logs it whole), so nothing is
  dropped;
- the scheduled sweep event of bot-token mode (`is_sweep`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from lambdas.alert_router.intake.cloudwatch import EVENTBRIDGE_DETAIL_TYPE, parse_cloudwatch_alarm, parse_eventbridge
from lambdas.alert_router.intake.fields import dump, get_str, parse_arn
from lambdas.alert_router.intake.sentry import parse_sentry
from lambdas.alert_router.models import Alert, SourceKind
from lambdas.shared.sentry_envelope import SENTRY_SOURCE


def parse_event(event: object) -> list[Alert]:
    """Every record of the event becomes exactly one Alert; a broken record becomes an unparsed Alert."""
    if isinstance(event, Mapping):
        records = event.get("Records")
        if isinstance(records, list) and records:
            return [_safe(parse_record, record) for record in records]
        if event.get("detail-type") == EVENTBRIDGE_DETAIL_TYPE:
            return [_safe(parse_eventbridge, event)]
    return [unparsed(dump(event), message_id=get_str(event, "id") if isinstance(event, Mapping) else None)]


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
        if get_str(payload, "AlarmName") or get_str(payload, "AlarmArn"):
            return _safe(parse_cloudwatch_alarm, payload, **envelope)
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


def _safe(parser: Any, source: Any, **envelope: Any) -> Alert:
    """A parser bug on one strange record must not lose it: it is delivered raw instead."""
    try:
        alert: Alert = parser(source, **envelope)
    except Exception:
        text = source if isinstance(source, str) else dump(source)
        return unparsed(text, message_id=envelope.get("message_id"), subject=envelope.get("subject"))
    return alert


def is_sweep(event: object) -> bool:
    """The scheduled event of bot-token mode's sweep (EventBridge's own, or `{"action": "sweep"}` by hand)."""
    if not isinstance(event, Mapping):
        return False
    scheduled = event.get("source") == "aws.events" and event.get("detail-type") == "Scheduled Event"
    return scheduled or event.get("action") == "sweep"
