"""Sentry webhooks (issue alert, issue created, metric alert) inside the intake's envelope -> Alert.

The envelope (lambdas/shared/sentry_envelope.py) is what the Sentry intake publishes to the alert topic.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from lambdas.alert_router.intake.fields import get_list, get_map, get_str, parse_arn, to_int, to_time
from lambdas.alert_router.models import Alert, SentryFacts, SourceKind, State

# Sentry's metric alert action -> our state; issue alerts and new issues are always a firing problem
_SENTRY_STATE = {"critical": State.ALARM, "warning": State.ALARM, "resolved": State.OK}


def parse_sentry(
    envelope: Mapping[str, Any],
    *,
    message_id: str | None = None,
    topic_arn: str | None = None,
    subject: str | None = None,
) -> Alert:
    """A Sentry webhook (event_alert, issue, metric_alert) inside the intake's envelope."""
    resource = get_str(envelope, "resource") or "unknown"
    body = get_map(envelope, "payload")
    data = get_map(body, "data")
    action = get_str(body, "action")
    if resource == "metric_alert":
        facts = _sentry_metric_alert(data, action)
        state = _SENTRY_STATE.get(action or "", State.ALARM)
        previous = State.ALARM if state is State.OK else None
        name = facts.rule_name or facts.title
        when = to_time(get_str(get_map(data, "metric_alert"), "date_closed" if state is State.OK else "date_started"))
    else:
        facts = _sentry_issue(data, resource, action)
        state, previous, name = State.ALARM, None, facts.title
        when = facts.last_seen
    arn = parse_arn(topic_arn) or {}
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
        delivery_id=get_str(envelope, "delivery_id") or get_str(data, "id"),
    )


def _sentry_metric_alert(data: Mapping[str, Any], action: str | None) -> SentryFacts:
    incident = get_map(data, "metric_alert")
    rule = get_map(incident, "alert_rule")
    projects = [item for item in get_list(rule, "projects") or get_list(incident, "projects") if isinstance(item, str)]
    return SentryFacts(
        resource="metric_alert",
        action=action,
        title=get_str(data, "description_title") or get_str(incident, "title"),
        project=", ".join(projects) or None,
        sentry_environment=get_str(rule, "environment"),
        issue_url=get_str(data, "web_url"),
        rule_name=get_str(rule, "name"),
        alert_rule_id=_id(rule.get("id")),
        issue_id=_id(incident.get("id")),
        aggregate=get_str(rule, "aggregate"),
        dataset=get_str(rule, "dataset"),
        description=get_str(data, "description_text"),
        first_seen=to_time(get_str(incident, "date_started")),
    )


def _sentry_issue(data: Mapping[str, Any], resource: str, action: str | None) -> SentryFacts:
    """`issue` webhooks carry data.issue; `event_alert` webhooks carry data.event (one event of the issue).

    An issue alert's event (Sentry's documented payload) has no event count and no first/last seen, and
    its `project` is the numeric id: the project slug comes from the event's API `url`
    (/api/0/projects/<org>/<slug>/events/<id>/); the event's time stands for "last seen".
    """
    issue = get_map(data, "issue")
    event = get_map(data, "event")
    source = issue or event
    project = get_map(issue, "project")
    tags = {
        str(pair[0]): str(pair[1])
        for pair in get_list(event, "tags")
        if isinstance(pair, list) and len(pair) == 2  # Sentry tags are [key, value] pairs
    }
    return SentryFacts(
        resource=resource,
        action=action,
        title=get_str(source, "title") or get_str(source, "message"),
        level=(get_str(source, "level") or tags.get("level") or "").lower() or None,
        issue_category=get_str(issue, "issueCategory") or get_str(event, "issue_category") or get_str(event, "type"),
        project=get_str(project, "slug")
        or get_str(project, "name")
        or get_str(event, "project_slug")
        or _project_from_event_url(get_str(event, "url")),
        sentry_environment=get_str(event, "environment") or tags.get("environment"),
        culprit=get_str(source, "culprit"),
        event_count=to_int(issue.get("count", event.get("count"))),
        first_seen=to_time(get_str(issue, "firstSeen")) or to_time(get_str(event, "firstSeen")),
        last_seen=to_time(get_str(issue, "lastSeen")) or to_time(get_str(event, "datetime")),
        issue_url=get_str(issue, "web_url") or _issue_web_url(get_str(event, "web_url")),
        project_url=get_str(issue, "project_url"),
        rule_name=get_str(data, "triggered_rule") or get_str(get_map(data, "issue_alert"), "title"),
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


def _issue_web_url(event_url: str | None) -> str | None:
    """An event's web URL ends in /events/<id>/; the issue is the part before it."""
    if not event_url:
        return None
    head, sep, _ = event_url.partition("/events/")
    return f"{head}/" if sep else event_url
