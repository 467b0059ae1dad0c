"""RDS event categories -> severity and category: a data table, in code (one table for every environment).

The categories are RDS's own ("Amazon RDS event categories and event messages",
https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Events.Messages.html). What pages is what means
the database cannot serve now (the instance is down, failed, or stopped for lack of storage); what warns is
what degrades it or may need a hand (a failover, low storage, recovery); everything else is information in
the errors channel. An event whose category is unknown is a notification. Per-alarm overrides (config
`router.overrides`, matched on "<source id>: <message>") still apply on top.
"""

from __future__ import annotations

from collections.abc import Mapping

from lambdas.shared.alarm_metadata import Category, Severity

RDS_CATEGORY_SEVERITY: Mapping[str, Severity] = {
    "availability": Severity.CRITICAL,  # shut down, restarted, could not restart
    "failure": Severity.CRITICAL,  # failed, incompatible parameters or network, storage full
    "failover": Severity.WARNING,  # Multi-AZ promoted the standby: a minute of errors, then reconnects
    "low storage": Severity.WARNING,  # writes stop when it runs out: act within hours
    "recovery": Severity.WARNING,
    "maintenance": Severity.INFO,
    "notification": Severity.INFO,
    "backup": Severity.INFO,
    "configuration change": Severity.INFO,
    "creation": Severity.INFO,
    "deletion": Severity.INFO,
    "read replica": Severity.INFO,
    "restoration": Severity.INFO,
    "security": Severity.INFO,
    "security patching": Severity.INFO,
}
UNKNOWN_CATEGORY = "notification"


def rds_severity(category: str | None) -> tuple[str, Severity, Category]:
    """(the category it was routed by, severity, category): every RDS event is about errors, not speed."""
    known = category if category is not None and category in RDS_CATEGORY_SEVERITY else UNKNOWN_CATEGORY
    return known, RDS_CATEGORY_SEVERITY[known], Category.ERRORS
