"""RDS event notifications -> Alert: what RDS publishes to an SNS topic of an event subscription.

The message is JSON with these keys (RDS's own example, and what RDS sends today):

    {"Event Source": "db-instance", "Event Time": "2026-11-29 03:02:11.123",
     "Identifier Link": "https://console.aws.amazon.com/rds/home?region=...#dbinstance:id=<id>",
     "Source ID": "<id>", "Source ARN": "arn:aws:rds:...:db:<id>",
     "Event ID": "http://docs.amazonwebservices.com/AmazonRDS/latest/UserGuide/USER_Events.html#RDS-EVENT-0004",
     "Event Message": "DB instance shutdown"}

https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Events.overview.html (subscribing, the message)
https://docs.aws.amazon.com/lambda/latest/dg/services-rds.html (the same message as an SNS record)

The message does not name the event's category; the category comes from the event id, by the table of
"Amazon RDS event categories and event messages"
(https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Events.Messages.html). `EVENT_CATEGORIES`
holds the ids of DB instance and DB cluster events that matter for on-call; an id not in it has no
category (routing/rds_rules.py then treats it as a notification). "Event Time" carries no zone: RDS
writes it in UTC.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from lambdas.alert_router.intake.fields import get_str, parse_arn
from lambdas.alert_router.models import Alert, RdsEventFacts, SourceKind

# The keys that make a JSON message an RDS event notification.
RDS_EVENT_KEYS = ("Event Source", "Source ID", "Event Message")
_EVENT_CODE = re.compile(r"(RDS-EVENT-\d{4})\b")

# Event id (RDS-EVENT-<number>) -> category (USER_Events.Messages.html, DB instance and DB cluster events).
_NUMBERS_BY_CATEGORY = {
    "availability": "0004 0006 0022 0221",
    "backup": "0001 0002",
    "creation": "0005",
    "deletion": "0003",
    "failover": "0013 0015 0034 0049 0050 0051 0065 0069 0070 0071 0072 0073",
    "failure": "0031 0035 0036 0058 0079 0080 0081 0219 0220 0222 0223 0224 0237",
    "low storage": "0007 0089 0227",
    "maintenance": "0026 0027 0047 0155",
    "notification": "0044 0048 0087 0088 0154",
    "recovery": "0020 0021 0023 0052 0053 0066",
    "restoration": "0008 0019",
}
EVENT_CATEGORIES: Mapping[str, str] = {
    f"RDS-EVENT-{number}": category for category, numbers in _NUMBERS_BY_CATEGORY.items() for number in numbers.split()
}


def is_rds_event(payload: Mapping[str, Any]) -> bool:
    return all(get_str(payload, key) for key in RDS_EVENT_KEYS)


def parse_rds_event(
    payload: Mapping[str, Any],
    *,
    message_id: str | None = None,
    topic_arn: str | None = None,
    subject: str | None = None,
) -> Alert:
    source_type = get_str(payload, "Event Source") or "unknown"
    source_id = get_str(payload, "Source ID") or "unknown"
    message = get_str(payload, "Event Message") or "RDS event"
    found = _EVENT_CODE.search(get_str(payload, "Event ID") or "")
    code = found.group(1) if found else None
    source_arn = get_str(payload, "Source ARN")
    arn = parse_arn(source_arn) or parse_arn(topic_arn) or {}
    moment = _event_time(get_str(payload, "Event Time"))
    link = get_str(payload, "Identifier Link")
    facts = RdsEventFacts(
        source_type=source_type,
        source_id=source_id,
        message=message,
        event_code=code,
        category=EVENT_CATEGORIES.get(code or ""),
        source_arn=source_arn,
        identifier_link=link if link and link.startswith("https://") else None,
        event_time=moment,
    )
    return Alert(
        source=SourceKind.RDS_EVENT,
        message_id=message_id,
        alarm_name=f"{source_id}: {message}",
        reason=message,
        region=arn.get("region"),
        partition=arn.get("partition"),
        account=arn.get("account"),
        state_change_time=moment,
        subject=subject,
        topic_arn=topic_arn,
        rds=facts,
    )


def _event_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
