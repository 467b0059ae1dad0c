"""An RDS event notification -> its Slack message, in the alarm layout (layout.py): what happened to which
database, what to check first for its category, and buttons to the database and its events in the console.
"""

from __future__ import annotations

from urllib.parse import quote

from lambdas.alert_router.models import Alert, Payload, RdsEventFacts
from lambdas.alert_router.rendering.blocks import code_span
from lambdas.alert_router.rendering.context import RenderContext
from lambdas.alert_router.rendering.facts import console_base, dashboard_window_url, format_times
from lambdas.alert_router.rendering.layout import Layout, Link, clock, compose, join, severity_look
from lambdas.alert_router.rendering.text import escape
from lambdas.alert_router.routing.rds_rules import UNKNOWN_CATEGORY
from lambdas.alert_router.routing.route import Route
from lambdas.shared.alarm_metadata import Severity

EVENTS_DOC = "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Events.Messages.html"
_STATUS = "aws rds describe-db-instances --db-instance-identifier {id} --query 'DBInstances[0].DBInstanceStatus'"
_EVENTS = "aws rds describe-events --source-type {type} --source-identifier {id} --duration 120"
# category -> what to do first ({id}, {type}: the source); one command a person can paste
FIRST_STEPS = {
    "availability": f"Is it back? `{_STATUS}`; the app's errors meanwhile: runbook rds-connections-high.",
    "failure": f"The instance's status and the events before it: `{_EVENTS}`",
    "failover": "Check that the app reconnected: the synthetic ready check and `/health` (the DB status).",
    "low storage": "Free storage on the dashboard (row Database (RDS)); runbook rds-free-storage-low.",
    "recovery": f"Follow the recovery in the events: `{_EVENTS}`",
}
DEFAULT_STEP = f"What RDS reported around it: `{_EVENTS}`"
# category -> what it means for the service, said before RDS's own words
MEANING = {
    "availability": "The database is not available",
    "failure": "The database failed",
    "failover": "The database failed over to its standby",
    "low storage": "The database is running out of storage",
    "recovery": "The database is recovering",
    "maintenance": "Maintenance on the database",
}


def render_rds_event(alert: Alert, facts: RdsEventFacts, route: Route, context: RenderContext) -> Payload:
    emoji, label, colour = severity_look(route.severity)
    step = FIRST_STEPS.get(facts.category or "", DEFAULT_STEP).format(id=facts.source_id, type=facts.source_type)
    times = format_times(facts.event_time, context.display_time_zone) if facts.event_time else None
    region = alert.region
    events = f"{console_base(region, alert.partition)}/rds/home?region={region}#events:" if region else None
    layout = Layout(
        emoji=emoji,
        label=label,
        what=facts.message,
        where=facts.source_id,
        when=clock(facts.event_time, context.display_time_zone, firing=True),
        colour=colour,
        environment=context.environment,
        cause=escape(f"{MEANING.get(facts.category or '', 'RDS says')}: “{facts.message}” ({facts.source_id})"),
        first_step=escape(step) if route.severity is not Severity.INFO else None,
        mention=context.oncall if route.severity is Severity.CRITICAL else None,
        links=(
            Link("Database in console", facts.identifier_link or _instance_url(alert, facts), "rds", primary=True),
            Link("RDS events", events, "rds-events"),
            Link("Dashboard", dashboard_window_url(context, facts.event_time), "dashboard"),
            Link("What the event means", EVENTS_DOC, "rds-doc"),
        ),
        details=tuple(
            line
            for line in (
                join(
                    [
                        f"RDS event {code_span(facts.event_code)}" if facts.event_code else "RDS event",
                        f"category {escape(facts.category or UNKNOWN_CATEGORY)}",
                        *(times or ()),
                    ]
                ),
                join([f"Source {code_span(facts.source_arn)}" if facts.source_arn else None, escape(route.decided_by)]),
            )
            if line
        ),
        severity=route.severity,
    )
    return compose(layout)


def _instance_url(alert: Alert, facts: RdsEventFacts) -> str | None:
    if not alert.region or facts.source_type != "db-instance":
        return None
    base = console_base(alert.region, alert.partition)
    return f"{base}/rds/home?region={alert.region}#database:id={quote(facts.source_id, safe='')};is-cluster=false"
