"""Every fact the router reads from a Sentry webhook, field by field, with the fallbacks Sentry's shapes need.

Payload shapes: Sentry's integration-platform webhooks (https://docs.sentry.io/organization/integrations/
integration-platform/webhooks/): `issue` (data.issue), issue alerts `event_alert` (data.event,
data.triggered_rule) and `metric_alert` (data.metric_alert, data.description_title/_text, data.web_url).
Each value below is distinct, so a parser that reads the wrong key, or the keys in the wrong order, fails.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from lambdas.alert_router.intake.sentry import parse_sentry
from lambdas.alert_router.models import Alert, SentryFacts, SourceKind, State

TOPIC = "arn:aws:sns:ap-northeast-1:123456789012:peoplebooster-alerts"
ORG = "https://acme.sentry.io"


def envelope(resource: str, data: dict[str, Any], *, action: str | None = None, delivery_id: str | None = "d-1") -> Any:
    payload: dict[str, Any] = {"data": data}
    if action is not None:
        payload["action"] = action
    return {"source": "sentry", "resource": resource, "delivery_id": delivery_id, "payload": payload}


def parse(message: Any) -> Alert:
    return parse_sentry(message, message_id="sns-1", topic_arn=TOPIC, subject="Sentry")


ISSUE = {
    "id": "4711",
    "title": "KeyError: 'user_id'",
    "level": "ERROR",
    "issueCategory": "error",
    "project": {"slug": "backend", "name": "Backend API"},
    "culprit": "app.views.checkout",
    "count": "17",
    "firstSeen": "2026-11-29T03:00:00+00:00",
    "lastSeen": "2026-11-29T03:14:15+00:00",
    "web_url": f"{ORG}/issues/4711/",
    "project_url": f"{ORG}/projects/backend/",
}


def test_an_issue_webhook_gives_every_fact_of_the_issue() -> None:
    alert = parse(envelope("issue", {"issue": ISSUE}, action="created"))
    assert alert == Alert(
        source=SourceKind.SENTRY,
        message_id="sns-1",
        state=State.ALARM,
        previous_state=None,
        alarm_name="KeyError: 'user_id'",
        region="ap-northeast-1",
        partition="aws",
        account="123456789012",
        state_change_time=datetime(2026, 11, 29, 3, 14, 15, tzinfo=UTC),
        subject="Sentry",
        topic_arn=TOPIC,
        sentry=SentryFacts(
            resource="issue",
            action="created",
            title="KeyError: 'user_id'",
            level="error",  # Sentry's level in lower case, as the routing table writes it
            issue_category="error",
            project="backend",
            culprit="app.views.checkout",
            event_count=17,
            first_seen=datetime(2026, 11, 29, 3, 0, tzinfo=UTC),
            last_seen=datetime(2026, 11, 29, 3, 14, 15, tzinfo=UTC),
            issue_url=f"{ORG}/issues/4711/",
            project_url=f"{ORG}/projects/backend/",
            issue_id="4711",
        ),
        delivery_id="d-1",
    )


def test_an_issue_without_a_slug_is_named_by_its_project_name_and_a_numeric_id_is_read() -> None:
    issue = {**ISSUE, "project": {"name": "Backend API"}, "id": 4711, "count": 3}
    facts = parse(envelope("issue", {"issue": issue})).sentry
    assert facts is not None
    assert (facts.project, facts.issue_id, facts.event_count) == ("Backend API", "4711", 3)


EVENT = {
    "issue_id": "4712",
    "message": "connection to server at db failed",
    "tags": [["level", "Fatal"], ["environment", "production"], ["malformed"], "not-a-pair"],
    "type": "error",
    "url": "https://sentry.io/api/0/projects/acme/backend-worker/events/abc123/",
    "culprit": "worker.jobs.sync",
    "datetime": "2026-11-29T03:14:15.123000+00:00",
    "web_url": f"{ORG}/issues/4712/events/abc123/",
}


def test_an_issue_alert_reads_the_event_and_its_tags_when_the_event_has_no_own_fields() -> None:
    # Given an issue alert whose event carries message (no title), tags (no level/environment fields),
    # type (no issue_category), the API url (no project_slug) and datetime (no lastSeen)
    alert = parse(envelope("event_alert", {"event": EVENT, "triggered_rule": "Fatal errors"}, action="triggered"))
    assert alert.alarm_name == "connection to server at db failed"
    assert alert.state_change_time == datetime(2026, 11, 29, 3, 14, 15, 123000, tzinfo=UTC)
    assert alert.sentry == SentryFacts(
        resource="event_alert",
        action="triggered",
        title="connection to server at db failed",
        level="fatal",
        issue_category="error",
        project="backend-worker",  # from /api/0/projects/<org>/<slug>/events/<id>/
        sentry_environment="production",
        culprit="worker.jobs.sync",
        last_seen=datetime(2026, 11, 29, 3, 14, 15, 123000, tzinfo=UTC),
        issue_url=f"{ORG}/issues/4712/",  # the event's web URL without /events/<id>/
        rule_name="Fatal errors",
        issue_id="4712",
    )


def test_an_issue_alert_prefers_the_events_own_fields_over_tags_and_urls() -> None:
    event = {
        **EVENT,
        "title": "OperationalError",
        "level": "warning",
        "environment": "staging",
        "issue_category": "performance",
        "project_slug": "from-slug",
        "count": 5,
        "firstSeen": "2026-11-28T00:00:00+00:00",
    }
    data = {"event": event, "issue_alert": {"title": "Rule from issue_alert"}}
    facts = parse(envelope("event_alert", data)).sentry
    assert facts is not None
    assert (facts.title, facts.level, facts.sentry_environment, facts.issue_category, facts.project) == (
        "OperationalError",
        "warning",
        "staging",
        "performance",
        "from-slug",
    )
    assert (facts.event_count, facts.first_seen, facts.rule_name) == (
        5,
        datetime(2026, 11, 28, tzinfo=UTC),
        "Rule from issue_alert",
    )


def test_an_event_url_that_is_not_an_event_page_is_kept_and_no_url_gives_none() -> None:
    kept = parse(envelope("event_alert", {"event": {**EVENT, "web_url": f"{ORG}/issues/4712/"}})).sentry
    none = parse(envelope("event_alert", {"event": {**EVENT, "web_url": None, "url": None}})).sentry
    assert kept is not None
    assert none is not None
    assert kept.issue_url == f"{ORG}/issues/4712/"
    assert (none.issue_url, none.project) == (None, None)


def test_the_delivery_id_falls_back_to_the_webhook_datas_id() -> None:
    alert = parse(envelope("issue", {"issue": ISSUE, "id": "data-id"}, delivery_id=None))
    assert alert.delivery_id == "data-id"


METRIC_ALERT: dict[str, Any] = {
    "description_title": "Critical: p95 latency",
    "description_text": "p95(transaction.duration) above 800 ms in the last 10 minutes",
    "web_url": f"{ORG}/alerts/rules/details/42/",
    "metric_alert": {
        "id": 901,
        "title": "Incident title",
        "date_started": "2026-11-29T03:10:00+00:00",
        "date_closed": "2026-11-29T03:40:00+00:00",
        "projects": ["from-incident"],
        "alert_rule": {
            "id": 42,
            "name": "p95 latency",
            "environment": "production",
            "aggregate": "p95(transaction.duration)",
            "dataset": "transactions",
            "projects": ["backend", "frontend", 7],
        },
    },
}


@pytest.mark.parametrize(
    ("action", "state", "previous", "when"),
    [
        ("critical", State.ALARM, None, datetime(2026, 11, 29, 3, 10, tzinfo=UTC)),
        ("warning", State.ALARM, None, datetime(2026, 11, 29, 3, 10, tzinfo=UTC)),
        ("resolved", State.OK, State.ALARM, datetime(2026, 11, 29, 3, 40, tzinfo=UTC)),  # closed, not started
        ("something-new", State.ALARM, None, datetime(2026, 11, 29, 3, 10, tzinfo=UTC)),
    ],
)
def test_a_metric_alert_gives_its_rule_incident_and_state(
    action: str, state: State, previous: State | None, when: datetime
) -> None:
    alert = parse(envelope("metric_alert", METRIC_ALERT, action=action))
    assert (alert.state, alert.previous_state, alert.state_change_time) == (state, previous, when)
    assert alert.alarm_name == "p95 latency"  # the rule's name: the same for the firing and the resolved alert
    assert alert.description == alert.reason == "p95(transaction.duration) above 800 ms in the last 10 minutes"
    assert alert.sentry == SentryFacts(
        resource="metric_alert",
        action=action,
        title="Critical: p95 latency",
        project="backend, frontend",  # names only: the number is not a project slug
        sentry_environment="production",
        issue_url=f"{ORG}/alerts/rules/details/42/",
        rule_name="p95 latency",
        alert_rule_id="42",
        issue_id="901",
        aggregate="p95(transaction.duration)",
        dataset="transactions",
        description="p95(transaction.duration) above 800 ms in the last 10 minutes",
        first_seen=datetime(2026, 11, 29, 3, 10, tzinfo=UTC),
    )


def test_a_metric_alert_without_a_rule_name_or_title_falls_back_to_the_incident() -> None:
    incident = {key: value for key, value in METRIC_ALERT["metric_alert"].items() if key != "alert_rule"}
    data = {"metric_alert": {**incident, "alert_rule": {"id": " ", "projects": []}}}
    alert = parse(envelope("metric_alert", data, action="critical"))
    assert alert.sentry is not None
    assert (alert.alarm_name, alert.sentry.title, alert.sentry.project) == (
        "Incident title",
        "Incident title",
        "from-incident",
    )
    assert (alert.sentry.alert_rule_id, alert.sentry.rule_name) == (None, None)  # a blank id is no id


def test_ids_that_are_neither_text_nor_a_number_are_no_ids() -> None:
    for bad in (True, 4.5, ["1"], None):
        facts = parse(envelope("issue", {"issue": {**ISSUE, "id": bad}})).sentry
        assert facts is not None
        assert facts.issue_id is None, bad


def test_an_envelope_without_a_resource_or_data_is_still_an_alert() -> None:
    alert = parse_sentry({"payload": "not a mapping"})
    assert alert.sentry == SentryFacts(resource="unknown")
    assert (alert.state, alert.alarm_name, alert.region, alert.delivery_id) == (State.ALARM, None, None, None)
