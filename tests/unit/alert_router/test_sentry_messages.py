"""Sentry messages in the router: parsed into the same Alert, routed by the data table, deduplicated by Sentry's id."""

from __future__ import annotations

import json

import pytest

from lambdas.alert_router.intake.events import parse_event
from lambdas.alert_router.models import SourceKind, State
from lambdas.alert_router.rendering.context import RenderContext
from lambdas.alert_router.rendering.render import render
from lambdas.alert_router.routing.route import RoutingConfig, route
from lambdas.shared.sentry_envelope import sentry_envelope
from tests.unit.alert_router.slack_limits import slack_problems
from tools.sentry_events import EVENTS


def sns_event(name: str, message_id: str = "sns-1") -> dict:  # type: ignore[type-arg]
    resource, request_id, payload, _ = EVENTS[name]
    message = sentry_envelope(resource=resource, delivery_id=request_id, hook_timestamp=None, payload=payload)
    return {"Records": [{"Sns": {"MessageId": message_id, "Message": json.dumps(message)}}]}


@pytest.mark.parametrize(
    ("name", "channel", "state"),
    [
        ("event_alert_fatal.json", "alerts-critical", State.ALARM),
        ("issue_created.json", "alerts-errors", State.ALARM),
        ("metric_alert_critical.json", "alerts-performance", State.ALARM),
        ("metric_alert_warning.json", "alerts-errors", State.ALARM),
        ("metric_alert_resolved.json", "alerts-performance", State.OK),
    ],
)
def test_each_sentry_kind_is_parsed_and_routed(name: str, channel: str, state: State) -> None:
    [alert] = parse_event(sns_event(name))
    assert alert.source is SourceKind.SENTRY
    assert alert.state is state
    assert route(alert, RoutingConfig()).channel == channel
    assert slack_problems(render(alert, route(alert, RoutingConfig()), RenderContext())) == []


def test_resolved_goes_where_its_alert_went() -> None:
    [fired] = parse_event(sns_event("metric_alert_critical.json"))
    [resolved] = parse_event(sns_event("metric_alert_resolved.json"))
    assert route(fired, RoutingConfig()).channel == route(resolved, RoutingConfig()).channel


def test_rule_marked_critical_goes_to_critical() -> None:
    event = sns_event("metric_alert_warning.json")
    message = json.loads(event["Records"][0]["Sns"]["Message"])
    message["payload"]["data"]["metric_alert"]["alert_rule"]["name"] = "[CRITICAL] Error count"
    event["Records"][0]["Sns"]["Message"] = json.dumps(message)
    [alert] = parse_event(event)
    assert route(alert, RoutingConfig()).channel == "alerts-critical"


def test_dedup_key_is_sentrys_delivery_id_not_the_sns_message_id() -> None:
    [first] = parse_event(sns_event("issue_created.json", message_id="sns-1"))
    [again] = parse_event(sns_event("issue_created.json", message_id="sns-2"))
    assert first.dedup_key == again.dedup_key == "sentry:2f6c1d1e-0002-4a1b-9c1d-000000000002"


def test_cloudwatch_alerts_keep_the_sns_message_id_as_key() -> None:
    [alert] = parse_event({"Records": [{"Sns": {"MessageId": "m-1", "Message": "plain text"}}]})
    assert alert.dedup_key == "m-1"


def test_untrusted_sentry_text_is_escaped_and_non_https_links_dropped() -> None:
    event = sns_event("issue_created.json")
    message = json.loads(event["Records"][0]["Sns"]["Message"])
    issue = message["payload"]["data"]["issue"]
    issue["title"] = "<!channel> @here boom"
    issue["culprit"] = "<javascript:alert(1)|click>"
    issue["web_url"] = "javascript:alert(1)"
    event["Records"][0]["Sns"]["Message"] = json.dumps(message)
    [alert] = parse_event(event)
    payload = render(alert, route(alert, RoutingConfig()), RenderContext())
    # the header is plain_text (never parsed by Slack); every mrkdwn text must be escaped
    blocks = [b for b in payload["attachments"][0]["blocks"] if b["type"] != "header"]
    text = json.dumps([payload["text"], blocks])
    assert "<!channel>" not in text
    assert "&lt;!channel&gt;" in text
    assert "<javascript" not in text
    assert "Open in Sentry" not in text


def test_an_issue_alert_shows_its_project_and_leaves_out_what_sentry_does_not_send() -> None:
    # Given Sentry's issue alert (event_alert): one event, its project only in the event's API url, no
    # event count and no first seen (Sentry's documented payload carries neither)
    [alert] = parse_event(sns_event("event_alert_fatal.json"))
    assert alert.sentry is not None
    assert alert.sentry.project == "peoplebooster-backend"
    assert alert.sentry.issue_id == "1170820299"
    assert alert.sentry.event_count is None
    assert alert.sentry.first_seen is None
    # When it is rendered
    payload = render(alert, route(alert, RoutingConfig()), RenderContext())
    text = json.dumps(payload, ensure_ascii=False)
    # Then the project is where the headline says "where", and the missing facts are left out cleanly
    assert payload["blocks"][0]["text"]["text"].endswith("· peoplebooster-backend / production · since 12:14 JST")
    assert " events" not in text
    assert "First seen" not in text
    assert "Last seen 2026-11-29 03:14:15 UTC" in text
    assert "None" not in text
    assert slack_problems(payload) == []


def test_an_issue_alert_takes_count_and_first_seen_when_sentry_sends_them() -> None:
    event = sns_event("event_alert_fatal.json")
    message = json.loads(event["Records"][0]["Sns"]["Message"])
    message["payload"]["data"]["event"].update(count="42", firstSeen="2026-11-28T01:02:03.000000Z")
    event["Records"][0]["Sns"]["Message"] = json.dumps(message)
    [alert] = parse_event(event)
    assert alert.sentry is not None
    assert alert.sentry.event_count == 42
    assert alert.sentry.first_seen is not None


def test_metric_alert_ids_are_parsed() -> None:
    [alert] = parse_event(sns_event("metric_alert_critical.json"))
    assert alert.sentry is not None
    assert (alert.sentry.alert_rule_id, alert.sentry.issue_id) == ("7", "4")


def test_a_backtick_in_the_culprit_cannot_end_its_code_span() -> None:
    event = sns_event("issue_created.json")
    message = json.loads(event["Records"][0]["Sns"]["Message"])
    message["payload"]["data"]["issue"]["culprit"] = "app.views in `get` *bold* <https://evil|x>"
    event["Records"][0]["Sns"]["Message"] = json.dumps(message)
    [alert] = parse_event(event)
    payload = render(alert, route(alert, RoutingConfig()), RenderContext())
    details = payload["attachments"][0]["blocks"][0]["elements"][0]["text"]
    assert "Culprit `app.views in 'get' *bold* &lt;https://evil|x&gt;`" in details
