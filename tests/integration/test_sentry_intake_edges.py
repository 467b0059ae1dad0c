"""The Sentry intake's edges (issue 12), through its handler with real signed requests.

Every case is a Function URL event signed like Sentry signs (HMAC-SHA256 of the raw body with the client
secret, tools/sentry_events.py). What the intake publishes is read back by the router's own parser, and
where it says "a human sees it", a local Slack receives it through the real router.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from lambdas.alert_router.idempotency import InMemoryDeduplicator
from lambdas.alert_router.models import Alert, SourceKind
from lambdas.alert_router.parsing import parse_event
from lambdas.alert_router.settings import load_settings as load_router_settings
from lambdas.alert_router.settings import load_webhooks
from lambdas.alert_router.slack import RetryPolicy, WebhookSender
from lambdas.sentry_intake import handler
from lambdas.sentry_intake.publisher import LocalRouterPublisher
from lambdas.sentry_intake.settings import load_settings
from lambdas.shared.local_context import LocalLambdaContext
from tests.unit.synthetic_monitor.emf import emf_blobs, emf_values
from tools.local_slack import LocalSlack
from tools.sentry_events import EVENTS, TEST_SECRET, function_url_event

# The committed payloads' newest time is 2026-11-29 03:14:15 UTC: "now" is a minute later.
NOW = datetime(2026, 11, 29, 3, 15, 15, tzinfo=UTC).timestamp()
HOUR = 3600.0
# SNS Publish: "Messages must be UTF-8 encoded strings and at most 256 KB in size (262,144 bytes, not
# 262,144 characters)"; message attributes count too (we send none). The topic's MaximumMessageSize
# defaults to 262,144. https://docs.aws.amazon.com/sns/latest/api/API_Publish.html and
# https://docs.aws.amazon.com/sns/latest/dg/large-message-payloads.html
SNS_LIMIT_BYTES = 262_144


@dataclass
class Recorder:
    """A publisher that keeps what would go to the alert topic."""

    messages: list[str] = field(default_factory=list)

    def publish(self, message: str) -> str:
        self.messages.append(message)
        return f"m-{len(self.messages)}"


@pytest.fixture(autouse=True)
def _intake_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("SENTRY_CLIENT_SECRET_ARN", "ALERT_TOPIC_ARN", "MAX_BODY_AGE_SECONDS", "MAX_HOOK_AGE_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SENTRY_CLIENT_SECRET", TEST_SECRET)
    monkeypatch.setenv("ENVIRONMENT", "staging")
    load_settings.cache_clear()
    yield
    load_settings.cache_clear()


def invoke(
    body: bytes,
    resource: str,
    publisher: Any,
    *,
    signature: str | None = None,
    now: float = NOW,
) -> dict[str, Any]:
    """POST `body` to the intake as the Function URL delivers it: signed with the test secret unless given."""
    event = function_url_event(body, resource=resource, request_id="2f6c1d1e-0009", base64_body=True)
    event["headers"]["sentry-hook-timestamp"] = str(int(now))  # Sentry stamps the send time (unsigned)
    if signature is not None:
        event["headers"]["sentry-hook-signature"] = signature
    context = LocalLambdaContext(function_name="sentry-intake")
    result: dict[str, Any] = handler.lambda_handler(event, context, publisher=publisher, now=lambda: now)
    return result


def status_of(result: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return int(result["statusCode"]), json.loads(result["body"])


def routed(message: str) -> Alert:
    """The router's reading of one published message (as SNS delivers it)."""
    record = {
        "Sns": {"MessageId": "m-1", "TopicArn": "arn:aws:sns:ap-northeast-1:123456789012:alerts", "Message": message}
    }
    [alert] = parse_event({"Records": [record]})
    return alert


def payload_of(name: str) -> tuple[str, dict[str, Any]]:
    resource, _, payload, _ = EVENTS[name]
    return resource, copy.deepcopy(payload)


def as_received(resource: str, payload: dict[str, Any]) -> Alert:
    """What the router would read from the whole payload, had it fitted."""
    return routed(json.dumps({"source": "sentry", "resource": resource, "delivery_id": "d", "payload": payload}))


# --- 1. a malformed signature is a 401, never a crash (anyone could page us through the errors alarm) ------


@pytest.mark.parametrize(
    "signature",
    [
        "é" * 64,
        "签名" * 32,
        "\udc80" * 64,  # a lone surrogate, as a JSON event can carry one
        "z" * 64,  # not hex
        "ab" * 31,  # too short
        "ab" * 320,  # too long
        "",
        "   ",
        "sha256=" + "0" * 64,
        '["a", "b"]',
    ],
    ids=["accented", "cjk", "surrogate", "not-hex", "short", "long", "empty", "blank", "prefixed", "list"],
)
def test_a_malformed_or_non_ascii_signature_is_a_401_with_no_detail(signature: str) -> None:
    # Given an anonymous request whose Sentry-Hook-Signature is malformed
    recorder = Recorder()
    resource, payload = payload_of("event_alert_fatal.json")
    # When it reaches the handler
    result = invoke(json.dumps(payload).encode(), resource, recorder, signature=signature)
    # Then it is refused like any forged request, and nothing is published
    assert status_of(result) == (401, {"status": "rejected: signature"})
    assert recorder.messages == []


def test_rejections_are_counted_and_a_sentry_shaped_mismatch_is_counted_apart(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given a scanner's request (no Sentry headers) and a Sentry-shaped request signed with another secret
    recorder = Recorder()
    resource, payload = payload_of("issue_created.json")
    body = json.dumps(payload).encode()
    capsys.readouterr()
    scanner = handler.lambda_handler(
        {"headers": {}, "body": "hello", "requestContext": {"http": {"method": "GET"}}},
        LocalLambdaContext(function_name="sentry-intake"),
        publisher=recorder,
        now=lambda: NOW,
    )
    mismatch = invoke(body, resource, recorder, signature="0" * 64)
    # Then both are 401; both count as Rejected, only the second as SignatureMismatch (a wrong or unfilled
    # client secret looks like this: every genuine webhook fails the check)
    assert (scanner["statusCode"], mismatch["statusCode"]) == (401, 401)
    emitted = emf_values(capsys.readouterr().out)
    assert sorted((name, value) for name, _, value, _ in emitted if value) == [
        ("Rejected", 1.0),
        ("Rejected", 1.0),
        ("SignatureMismatch", 1.0),
    ]
    assert {tuple(sorted(dims.items())) for _, dims, _, _ in emitted} == {
        (("environment", "staging"), ("service", "sentry-intake"))
    }


# --- 2 and 3. a signed alert of any size a Function URL can carry is delivered, within SNS's limit --------


def _with_long_stack_trace(payload: dict[str, Any], frames: int) -> dict[str, Any]:
    event = payload["data"]["event"]
    frame = {
        "filename": "app/db/pool.py",
        "function": "acquire",
        "lineno": 120,
        "context_line": "    connection = self._pool.get(timeout=self.timeout)  # " + "x" * 120,
        "pre_context": ["    def acquire(self):"] * 5,
        "post_context": ["        return connection"] * 5,
        "vars": {"self": "<Pool>", "timeout": 5, "attempt": 3},
        "in_app": True,
    }
    event["exception"]["values"][0]["stacktrace"] = {"frames": [frame] * frames}
    event["breadcrumbs"] = {"values": [{"category": "query", "message": "SELECT 1 -- " + "y" * 200}] * 400}
    event["contexts"] = {"runtime": {"name": "CPython", "version": "3.13"}, "trace": {"trace_id": "a" * 32}}
    event["request"] = {"url": "https://api.example/users/1", "data": {"blob": "z" * 50_000}}
    return payload


def test_a_signed_fatal_error_over_256_kib_is_trimmed_and_delivered() -> None:
    # Given a genuine issue alert for a fatal error whose stack trace and breadcrumbs make it ~800 KB
    resource, payload = payload_of("event_alert_fatal.json")
    payload = _with_long_stack_trace(payload, frames=1500)
    body = json.dumps(payload).encode()
    assert len(body) > 700_000
    recorder = Recorder()
    # When Sentry posts it
    result = invoke(body, resource, recorder)
    # Then it is accepted and one message is published that fits SNS and is marked trimmed
    assert status_of(result) == (202, {"status": "accepted"})
    [message] = recorder.messages
    assert len(message.encode("utf-8")) <= SNS_LIMIT_BYTES
    envelope = json.loads(message)
    assert envelope["trimmed"]["view"] == "router-fields"
    assert envelope["trimmed"]["original_bytes"] == len(body)
    assert "stacktrace" not in json.dumps(envelope)
    # and the router reads from it exactly what it would have read from the whole payload
    alert = routed(message)
    assert alert.source is SourceKind.SENTRY
    assert alert.sentry == as_received(resource, payload).sentry
    assert alert.sentry is not None
    assert alert.sentry.level == "fatal"


def test_a_signed_body_just_under_256_kib_is_published_within_the_limit() -> None:
    # Given a metric alert of 262,140 bytes (under the old size check; the envelope then adds bytes)
    resource, payload = payload_of("metric_alert_critical.json")
    payload["data"]["metric_alert"]["alert_rule"]["query"] = ""
    overhead = len(json.dumps(payload).encode())
    payload["data"]["metric_alert"]["alert_rule"]["query"] = "q" * (262_140 - overhead)
    body = json.dumps(payload).encode()
    assert len(body) == 262_140
    recorder = Recorder()
    # When Sentry posts it
    result = invoke(body, resource, recorder)
    # Then what is published (not the body) is what fits SNS, and the alert is the same to the router
    assert status_of(result) == (202, {"status": "accepted"})
    [message] = recorder.messages
    assert len(message.encode("utf-8")) <= SNS_LIMIT_BYTES
    assert routed(message).sentry == as_received(resource, payload).sentry


def test_a_body_no_trimming_can_fit_still_becomes_a_minimal_alert() -> None:
    # Given a signed issue whose title and culprit alone are 2 MB (nothing the router reads can be kept whole)
    resource, payload = payload_of("issue_created.json")
    issue = payload["data"]["issue"]
    issue["title"] = "KeyError: 'user_id' " + "k" * 1_000_000
    issue["culprit"] = "app.api.users in get_profile " + "c" * 1_000_000
    body = json.dumps(payload).encode()
    recorder = Recorder()
    # When Sentry posts it
    result = invoke(body, resource, recorder)
    # Then a minimal alert (ids, title, level, link) is delivered, within SNS's limit
    assert status_of(result) == (202, {"status": "accepted"})
    [message] = recorder.messages
    assert len(message.encode("utf-8")) <= SNS_LIMIT_BYTES
    assert json.loads(message)["trimmed"]["view"] == "minimal"
    facts = routed(message).sentry
    assert facts is not None
    assert facts.title is not None
    assert facts.title.startswith("KeyError: 'user_id' kkk")
    assert (facts.level, facts.issue_id, facts.issue_url, facts.project) == (
        "error",
        "1170820242",
        "https://peoplebooster.sentry.io/issues/1170820242/",
        "peoplebooster-backend",
    )


def test_non_ascii_and_lone_surrogates_fit_in_utf_8_bytes() -> None:
    # Given a signed metric alert full of Japanese text and a lone surrogate escape (valid JSON, not UTF-8 text)
    resource, payload = payload_of("metric_alert_warning.json")
    payload["data"]["description_text"] = "エラー率が高い" * 20_000 + "\udc80"
    body = json.dumps(payload).encode()  # ensure_ascii: the surrogate travels as \\udc80
    recorder = Recorder()
    result = invoke(body, resource, recorder)
    assert status_of(result) == (202, {"status": "accepted"})
    [message] = recorder.messages
    assert len(message.encode("utf-8")) <= SNS_LIMIT_BYTES  # would raise if a surrogate were left raw


def test_a_body_over_the_function_url_limit_is_refused_before_any_work() -> None:
    # A Function URL carries at most 6 MB per request; anything larger cannot be from Sentry through AWS
    recorder = Recorder()
    result = invoke(b"{" + b" " * (6 * 1024 * 1024) + b"}", "event_alert", recorder, signature="0" * 64)
    assert status_of(result) == (413, {"status": "rejected: too large"})
    assert recorder.messages == []


# --- 4. signed JSON the intake cannot read still reaches a human -------------------------------------------


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b'{"action": "triggered", "data": {"event": ' + b"[" * 100_000 + b"]" * 100_000 + b"}}", "nested deeper"),
        (b'{"action": "triggered", "data": {"event": ', "not valid JSON"),
        (b'["triggered"]', "not a JSON object"),
        (b'{"action": "triggered", "title": "\xff\xfe"}', "not valid JSON"),
    ],
    ids=["deeply-nested", "truncated", "not-an-object", "not-utf-8"],
)
def test_signed_but_unreadable_json_is_delivered_as_an_unparsed_alert(
    body: bytes, why: str, slack_router: LocalRouterPublisher, slack: LocalSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a signed issue alert whose body the intake cannot parse
    capsys.readouterr()
    # When Sentry posts it
    result = invoke(body, "event_alert", slack_router)
    # Then the intake counts it in its own namespace (the router runs in-process here, with its own)
    blobs = emf_blobs(capsys.readouterr().out)
    by_namespace = {(blob["_aws"]["CloudWatchMetrics"][0]["Namespace"], name) for blob in blobs for name in blob}
    assert {("PeopleBooster/SentryIntake", "Accepted"), ("PeopleBooster/SentryIntake", "Unparsed")} <= by_namespace
    assert ("PeopleBooster/AlertRouter", "Accepted") not in by_namespace
    # Then it is accepted and the router posts it as a message a human can act on (not the raw body)
    assert status_of(result) == (202, {"status": "accepted"})
    [posted] = slack.messages("alerts-errors")
    text = json.dumps(posted, ensure_ascii=False)
    assert "A Sentry alert arrived but could not be read" in text
    assert why in text
    assert "[[[[" not in text


# --- 5. a captured body replayed later: the replay window and the router's digest memory agree ------------


def test_a_replay_after_the_digest_memory_is_refused_by_the_signed_time(
    slack_router: LocalRouterPublisher, slack: LocalSlack, clock: list[float]
) -> None:
    # Given a signed issue alert delivered once (the router remembers its body digest for 24 h)
    resource, payload = payload_of("event_alert_fatal.json")
    body = json.dumps(payload).encode()
    assert status_of(invoke(body, resource, slack_router))[0] == 202
    # When the captured body is replayed with a fresh Sentry-Hook-Timestamp, 23 h and 25 h later
    clock[0] = NOW + 23 * HOUR
    within = invoke(body, resource, slack_router, now=clock[0])
    clock[0] = NOW + 25 * HOUR
    after = invoke(body, resource, slack_router, now=clock[0])
    # Then within the memory the router drops it as a duplicate; after it the intake refuses it by the
    # time inside the signed body; Slack got one message
    assert status_of(within) == (202, {"status": "accepted"})
    assert status_of(after) == (401, {"status": "rejected: stale body"})
    assert len(slack.messages("alerts-critical")) == 1
    assert [r["results"][0]["status"] for r in slack_router.results] == ["delivered", "duplicate"]


# --- the router through a local Slack, with a clock the test moves ---------------------------------------


@pytest.fixture(scope="module")
def slack() -> Iterator[LocalSlack]:
    with LocalSlack() as server:
        yield server


@pytest.fixture
def clock() -> list[float]:
    return [NOW]


@pytest.fixture
def slack_router(
    slack: LocalSlack, clock: list[float], monkeypatch: pytest.MonkeyPatch
) -> Iterator[LocalRouterPublisher]:
    slack.reset()
    for name in ("SLACK_WEBHOOK_SECRET_ARN", "IDEMPOTENCY_TABLE_NAME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SLACK_WEBHOOK_URLS", slack.webhook_urls())
    load_router_settings.cache_clear()
    webhooks = load_webhooks(load_router_settings())
    assert webhooks is not None
    sender = WebhookSender(webhooks=webhooks, policy=RetryPolicy(min_interval=0.0, request_timeout=2.0))
    deduplicator = InMemoryDeduplicator(ttl_seconds=24 * 3600, clock=lambda: clock[0])
    yield LocalRouterPublisher(router_kwargs={"sender": sender, "deduplicator": deduplicator})
    load_router_settings.cache_clear()
