"""Fitting a verified alert into SNS: the router reads the same alert from a trimmed envelope, and the
minimal view fits whatever the payload holds."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lambdas.alert_router.parsing import parse_event
from lambdas.sentry_intake.trimming import ROUTER_FIELDS, SNS_MESSAGE_LIMIT, fit_envelope, project
from tools.sentry_events import EVENTS

PAD = "p" * 300_000  # more than SNS takes, in fields the router never reads


def _facts(message: str) -> Any:
    [alert] = parse_event({"Records": [{"Sns": {"MessageId": "m", "Message": message}}]})
    return alert.sentry, alert.alarm_name, alert.state, alert.state_change_time


def _envelope(resource: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "source": "sentry",
        "resource": resource,
        "delivery_id": "d" * 64,
        "hook_timestamp": "1",
        "payload": payload,
    }


def _padded(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload with large fields the router does not read, at every level it walks."""
    padded = copy.deepcopy(payload)
    padded["actor"] = {"name": PAD}
    data = padded["data"]
    data["extra"] = PAD
    for key in ("event", "issue", "metric_alert"):
        if key in data:
            data[key]["breadcrumbs"] = {"values": [{"message": PAD}]}
            data[key]["contexts"] = {"os": {"name": PAD}}
    if "metric_alert" in data:
        data["metric_alert"]["alert_rule"]["triggers"] = [{"actions": [{"settings": PAD}]}]
    return padded


@pytest.mark.parametrize("name", sorted(EVENTS))
def test_the_router_reads_the_same_alert_from_the_router_fields(name: str) -> None:
    # Given each kind of Sentry webhook, padded past SNS's limit with fields the router never reads
    resource, _, payload, _ = EVENTS[name]
    padded = _padded(payload)
    # When it is fitted
    text, view = fit_envelope(_envelope(resource, padded), original_bytes=1)
    # Then it fits, is marked, and the router's parser reads exactly what it reads from the whole payload
    assert view == "router-fields"
    assert len(text.encode()) <= SNS_MESSAGE_LIMIT
    assert json.loads(text)["trimmed"] == {"view": "router-fields", "original_bytes": 1}
    assert PAD not in text
    assert _facts(text) == _facts(json.dumps(_envelope(resource, payload)))


def test_projection_keeps_only_named_fields_and_scalars() -> None:
    shape = ROUTER_FIELDS["issue"]
    value = {"action": "created", "data": {"issue": {"title": {"nested": "object"}, "level": "error", "stack": [1]}}}
    assert project(value, shape) == {"action": "created", "data": {"issue": {"level": "error"}}}
    assert project("not an object", shape) is None


_text = st.text(min_size=1, max_size=300) | st.just("\udc80" * 300) | st.just("\U0001f525" * 300)


@settings(max_examples=25, deadline=None)
@given(resource=st.sampled_from(["event_alert", "issue", "metric_alert"]), text=_text, many=st.integers(1, 20))
def test_whatever_the_payload_holds_the_published_message_fits(resource: str, text: str, many: int) -> None:
    # Given a payload whose every field the router reads is huge (lists long, strings of any characters)
    big = (text * (20_000 // len(text) + 1))[:20_000]  # 20,000 characters, up to 240 KB escaped
    tags = [["level", big]] * many + [["environment", big]] * many
    event = dict.fromkeys(("title", "message", "level", "culprit", "web_url", "url", "issue_id", "project_slug"), big)
    issue = dict.fromkeys(("id", "title", "level", "culprit", "web_url", "firstSeen", "lastSeen"), big)
    incident = {
        "id": big,
        "title": big,
        "projects": [big] * many,
        "alert_rule": {"id": big, "name": big, "projects": [big] * many},
    }
    data = {
        "event": {**event, "tags": tags},
        "issue": {**issue, "project": {"slug": big, "name": big}},
        "metric_alert": incident,
        "description_title": big,
        "description_text": big,
        "web_url": big,
        "triggered_rule": big,
    }
    # When fitted
    text_out, _ = fit_envelope(_envelope(resource, {"action": big, "data": data}), original_bytes=1)
    # Then it is valid UTF-8 within SNS's limit, and the router can read it
    assert len(text_out.encode("utf-8")) <= SNS_MESSAGE_LIMIT
    json.loads(text_out)
