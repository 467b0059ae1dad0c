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

# Event id -> category (USER_Events.Messages.html, DB instance and DB cluster events).
EVENT_CATEGORIES: Mapping[str, str] = {
    **dict.fromkeys(("RDS-EVENT-0004", "RDS-EVENT-0006", "RDS-EVENT-0022", "RDS-EVENT-0221"), "availability"),
    **dict.fromkeys(("RDS-EVENT-0001", "RDS-EVENT-0002"), "backup"),
    **dict.fromkeys(("RDS-EVENT-0005",), "creation"),
    **dict.fromkeys(("RDS-EVENT-0003",), "deletion"),
    **dict.fromkeys(
        (
            "RDS-EVENT-0013", "RDS-EVENT-0015", "RDS-EVENT-0034", "RDS-EVENT-0049", "RDS-EVENT-0050",
            "RDS-EVENT-0051", "RDS-EVENT-0065", "RDS-EVENT-0069", "RDS-EVENT-0070", "RDS-EVENT-0071",
            "RDS-EVENT-0072", "RDS-EVENT-0073",
        ),
        "failover",
    ),  # fmt: skip
    **dict.fromkeys(
        (
            "RDS-EVENT-0031", "RDS-EVENT-0035", "RDS-EVENT-0036", "RDS-EVENT-0058", "RDS-EVENT-0079",
            "RDS-EVENT-0080", "RDS-EVENT-0081", "RDS-EVENT-0219", "RDS-EVENT-0220", "RDS-EVENT-0222",
            "RDS-EVENT-0223", "RDS-EVENT-0224", "RDS-EVENT-0237",
        ),
        "failure",
    ),  # fmt: skip
    **dict.fromkeys(("RDS-EVENT-0007", "RDS-EVENT-0089", "RDS-EVENT-0227"), "low storage"),
    **dict.fromkeys(("RDS-EVENT-0026", "RDS-EVENT-0027", "RDS-EVENT-0047", "RDS-EVENT-0155"), "maintenance"),
    **dict.fromkeys(
        ("RDS-EVENT-0044", "RDS-EVENT-0048", "RDS-EVENT-0087", "RDS-EVENT-0088", "RDS-EVENT-0154"), "notification"
    ),
    **dict.fromkeys(
        ("RDS-EVENT-0020", "RDS-EVENT-0021", "RDS-EVENT-0023", "RDS-EVENT-0052", "RDS-EVENT-0053", "RDS-EVENT-0066"),
        "recovery",
    ),
    **dict.fromkeys(("RDS-EVENT-0008", "RDS-EVENT-0019"), "restoration"),
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
