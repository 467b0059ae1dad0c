"""The Sentry intake over real HTTP on 127.0.0.1, handing alerts to the real router and a local Slack.

A loopback server turns each HTTP request into a Lambda Function URL event (payload 2.0, base64 body), so
the signature is checked over the bytes that crossed the socket.
"""

from __future__ import annotations

import base64
import http.client
import io
import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from moto import mock_aws

from lambdas.alert_router import telemetry as router_telemetry
from lambdas.alert_router.delivery.engine import DeliveryEngine
from lambdas.alert_router.delivery.idempotency import InMemoryDeduplicator
from lambdas.alert_router.delivery.policy import RetryPolicy
from lambdas.alert_router.delivery.webhook import WebhookSender
from lambdas.alert_router.settings import load_settings as load_router_settings
from lambdas.alert_router.settings import load_webhooks
from lambdas.sentry_intake import handler
from lambdas.sentry_intake.publisher import LocalRouterPublisher, SnsPublisher
from lambdas.sentry_intake.settings import load_settings
from lambdas.sentry_intake.webhook import MAX_BODY_BYTES, sign
from lambdas.shared.local_context import LocalLambdaContext
from tests.unit.alert_router.slack_limits import slack_problems
from tools.local_slack import LocalSlack
from tools.sentry_events import EVENTS, TEST_SECRET, build_event, fresh_payload, with_fresh_times

# Every body in this module is "sent" at one moment, so a resent body is byte for byte the same.
SENT_AT = time.time()
EXPECTED_CHANNEL = {
    "event_alert_fatal.json": "alerts-critical",
    "issue_created.json": "alerts-errors",
    "metric_alert_critical.json": "alerts-performance",
    "metric_alert_warning.json": "alerts-errors",
    "metric_alert_resolved.json": "alerts-performance",
}


@dataclass
class Intake:
    port: int
    publisher: LocalRouterPublisher

    def post(self, body: bytes, headers: dict[str, str], method: str = "POST") -> tuple[int, dict[str, Any]]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        headers = {"Content-Type": "application/json", "Sentry-Hook-Timestamp": fresh_timestamp(), **headers}
        try:
            connection.request(method, "/", body=body, headers=headers)
            response = connection.getresponse()
            return response.status, json.loads(response.read() or b"{}")
        finally:
            connection.close()

    def send(
        self, name: str, *, secret: str | None = TEST_SECRET, body: bytes | None = None, request_id: str | None = None
    ) -> tuple[int, dict[str, Any]]:
        resource, event_request_id, payload, _ = EVENTS[name]
        raw = json.dumps(
            fresh_payload(resource, payload, SENT_AT)
        ).encode()  # sent now: the intake judges the body's time
        headers = {"Sentry-Hook-Resource": resource, "Request-ID": request_id or event_request_id}
        if secret is not None:
            headers["Sentry-Hook-Signature"] = sign(raw, secret)
        return self.post(body if body is not None else raw, headers)


def _shown_utc(moment: float) -> str:
    return datetime.fromtimestamp(int(moment), UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def fresh_timestamp() -> str:
    return str(int(time.time()))


def _server_for(publisher: LocalRouterPublisher) -> type[BaseHTTPRequestHandler]:
    class FunctionUrl(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            self.do_POST()

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            event = {
                "version": "2.0",
                "rawPath": self.path,
                "headers": {name.lower(): value for name, value in self.headers.items()},
                "requestContext": {"http": {"method": self.command, "path": self.path}},
                "body": base64.b64encode(body).decode(),
                "isBase64Encoded": True,
            }
            result = handler.lambda_handler(
                event, LocalLambdaContext(function_name="sentry-intake"), publisher=publisher
            )
            answer = str(result["body"]).encode()
            self.send_response(int(result["statusCode"]))
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return FunctionUrl


@pytest.fixture(scope="module")
def slack() -> Iterator[LocalSlack]:
    with LocalSlack() as server:
        yield server


@pytest.fixture
def intake(slack: LocalSlack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Intake]:
    slack.reset()
    for name in ("SENTRY_CLIENT_SECRET_ARN", "ALERT_TOPIC_ARN", "SLACK_WEBHOOK_SECRET_ARN", "IDEMPOTENCY_TABLE_NAME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SENTRY_CLIENT_SECRET", TEST_SECRET)
    monkeypatch.setenv("SLACK_WEBHOOK_URLS", slack.webhook_urls())
    monkeypatch.setenv("ENVIRONMENT", "staging")
    load_settings.cache_clear()
    load_router_settings.cache_clear()
    webhooks = load_webhooks(load_router_settings())
    assert webhooks is not None
    sender = WebhookSender(
        webhooks=webhooks, engine=DeliveryEngine(policy=RetryPolicy(min_interval=0.0, attempt_timeout=2.0))
    )
    publisher = LocalRouterPublisher(router_kwargs={"sender": sender, "deduplicator": InMemoryDeduplicator()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), _server_for(publisher))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield Intake(port=server.server_address[1], publisher=publisher)
    server.shutdown()
    server.server_close()
    load_settings.cache_clear()
    load_router_settings.cache_clear()


def delivered(slack: LocalSlack) -> int:
    return sum(len(messages) for messages in slack.all_messages().values())


@pytest.mark.parametrize("name", sorted(EXPECTED_CHANNEL))
def test_each_kind_lands_in_its_channel(name: str, intake: Intake, slack: LocalSlack) -> None:
    # Given a signed Sentry webhook; When it is POSTed to the intake
    status, body = intake.send(name)
    # Then it is accepted and the router posted one valid message to the expected channel
    assert (status, body) == (202, {"status": "accepted"})
    [payload] = slack.messages(EXPECTED_CHANNEL[name])
    assert delivered(slack) == 1
    assert slack_problems(payload) == []
    text = json.dumps(payload, ensure_ascii=False)
    assert "https://peoplebooster.sentry.io/" in text
    assert "None" not in text
    assert "null" not in text


def test_issue_message_shows_project_culprit_count_and_times(intake: Intake, slack: LocalSlack) -> None:
    intake.send("issue_created.json")
    [payload] = slack.messages("alerts-errors")
    text = json.dumps(payload, ensure_ascii=False)
    for expected in (
        "peoplebooster-backend",
        "app.api.users in get_profile",
        "3 events",
        f"First seen {_shown_utc(SENT_AT - 543)}",  # the fixture's first sighting, 9 min 3 s before the last
        f"Last seen {_shown_utc(SENT_AT)}",
        '"url": "https://peoplebooster.sentry.io/issues/1170820242/", "action_id": "sentry"',  # the button
    ):
        assert expected in text


@pytest.mark.parametrize(
    "tamper",
    ["unsigned", "forged", "changed-body"],
)
def test_unauthentic_requests_get_401_and_nothing_is_delivered(tamper: str, intake: Intake, slack: LocalSlack) -> None:
    # Given a webhook that is unsigned, signed with another secret, or replayed with a changed body
    name = "event_alert_fatal.json"
    if tamper == "changed-body":
        resource, request_id, payload, _ = EVENTS[name]
        original = json.dumps(fresh_payload(resource, payload, SENT_AT)).encode()
        changed = original.replace(b"Database errors", b"Everything fine")
        status, body = intake.post(
            changed,
            {
                "Sentry-Hook-Resource": resource,
                "Request-ID": request_id,
                "Sentry-Hook-Signature": sign(original, TEST_SECRET),
            },
        )
    else:
        status, body = intake.send(name, secret=None if tamper == "unsigned" else "not-the-secret")
    # Then it is refused, and neither the router nor Slack saw anything
    assert (status, body) == (401, {"status": "rejected: signature"})
    assert intake.publisher.results == []
    assert slack.all_messages() == {}


def test_an_unsigned_request_is_401_whatever_else_is_wrong(intake: Intake, slack: LocalSlack) -> None:
    # Given unsigned requests with another method, a broken body, or a stale timestamp
    answers = [
        intake.post(b"{}", {"Sentry-Hook-Resource": "issue"}, method="PUT"),
        intake.post(b'{"action": ', {"Sentry-Hook-Resource": "issue"}),
        intake.post(b"{}", {"Sentry-Hook-Resource": "issue", "Sentry-Hook-Timestamp": "1"}),
    ]
    # Then each gets 401 for its signature (only an oversize body is answered before it), and nothing is delivered
    assert answers == [(401, {"status": "rejected: signature"})] * 3
    assert slack.all_messages() == {}


def test_a_replay_with_its_old_captured_headers_is_refused_as_stale(intake: Intake, slack: LocalSlack) -> None:
    # Given a signed webhook captured with its headers and replayed ten minutes later, unchanged
    resource, request_id, payload, _ = EVENTS["issue_created.json"]
    raw = json.dumps(fresh_payload(resource, payload, SENT_AT)).encode()
    old = str(int(time.time()) - 600)
    headers = {"Sentry-Hook-Resource": resource, "Request-ID": request_id, "Sentry-Hook-Timestamp": old}
    status, body = intake.post(raw, {**headers, "Sentry-Hook-Signature": sign(raw, TEST_SECRET)})
    # Then it is refused (a replay with a new timestamp is caught by the body-digest idempotency instead)
    assert (status, body) == (401, {"status": "rejected: stale timestamp"})
    assert slack.all_messages() == {}


def test_redelivery_with_the_same_request_id_posts_once(intake: Intake, slack: LocalSlack) -> None:
    # Given Sentry delivers the same webhook twice (each publish gets a new SNS MessageId)
    first = intake.send("metric_alert_critical.json")
    second = intake.send("metric_alert_critical.json")
    # Then both are accepted, but Slack got one message
    assert first[0] == second[0] == 202
    assert len(slack.messages("alerts-performance")) == 1
    assert [r["results"][0]["status"] for r in intake.publisher.results] == ["delivered", "duplicate"]


def test_a_captured_body_replayed_under_a_new_request_id_posts_once(intake: Intake, slack: LocalSlack) -> None:
    # Given a signed webhook, and the same signed body replayed with a different Request-ID header
    first = intake.send("event_alert_fatal.json")
    replay = intake.send("event_alert_fatal.json", request_id="attacker-chosen-id")
    # Then both are accepted (the signature is valid) but the channel got one message
    assert first[0] == replay[0] == 202
    assert len(slack.messages("alerts-critical")) == 1
    assert [r["results"][0]["status"] for r in intake.publisher.results] == ["delivered", "duplicate"]


def test_an_oversize_body_is_refused_and_a_malformed_signed_one_still_reaches_slack(
    intake: Intake, slack: LocalSlack
) -> None:
    # Given a body over the Function URL's 6 MB (it cannot come through AWS) and a signed but broken body
    big = b'{"action": "critical", "pad": "' + b"x" * MAX_BODY_BYTES + b'"}'
    oversize = intake.post(big, {"Sentry-Hook-Resource": "metric_alert", "Sentry-Hook-Signature": "0" * 64})
    broken = b'{"action": "critical", '
    status, body = intake.post(
        broken, {"Sentry-Hook-Resource": "metric_alert", "Sentry-Hook-Signature": sign(broken, TEST_SECRET)}
    )
    # Then the first is 413, and the second (Sentry sent it: it is signed) is posted as an unreadable alert
    assert oversize == (413, {"status": "rejected: too large"})
    assert (status, body) == (202, {"status": "accepted"})
    [posted] = slack.messages("alerts-errors")
    assert "A Sentry alert arrived but could not be read (not valid JSON)" in json.dumps(posted)


def test_unrouted_resource_is_acknowledged_and_ignored(intake: Intake, slack: LocalSlack) -> None:
    raw = b'{"action": "created", "data": {"installation": {}}}'
    status, body = intake.post(
        raw, {"Sentry-Hook-Resource": "installation", "Sentry-Hook-Signature": sign(raw, TEST_SECRET)}
    )
    assert (status, body) == (202, {"status": "ignored"})
    assert slack.all_messages() == {}


@pytest.mark.parametrize("name", sorted(EXPECTED_CHANNEL))
def test_logs_hold_ids_but_no_payload_or_secret(name: str, intake: Intake, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the intake's and the router's JSON logs captured as Lambda would ship them
    stream = io.StringIO()
    monkeypatch.setattr(handler.logger.registered_handler, "stream", stream)
    router_stream = io.StringIO()
    capture = logging.StreamHandler(router_stream)
    capture.setFormatter(router_telemetry.logger.registered_formatter)
    router_logger = logging.getLogger(router_telemetry.logger.name)
    router_logger.addHandler(capture)
    # When a forged and then a genuine webhook arrive and the router posts the alert
    try:
        intake.send(name, secret="not-the-secret")
        intake.send(name)
    finally:
        router_logger.removeHandler(capture)
    logs, router_logs = stream.getvalue(), router_stream.getvalue()
    # Then the logs hold ids, and no title, description, culprit or message text of the payload, nor the secret
    assert '"message":"published"' in logs
    assert EVENTS[name][1] in logs  # the Request-ID
    assert '"message":"routed"' in router_logs
    assert '"dedup_key":"sentry:' in router_logs
    _, _, payload, _ = EVENTS[name]
    data = payload["data"]
    content = data.get("issue") or data.get("event") or {}
    texts = [content.get("title"), content.get("culprit"), data.get("description_text"), data.get("description_title")]
    for text in filter(None, texts):
        assert text not in logs
        assert json.dumps(text)[1:-1] not in router_logs
    assert TEST_SECRET not in logs + router_logs


# --- deployed path: publish to the alert topic (moto) ------------------------------------------------------


@mock_aws
def test_deployed_path_publishes_the_envelope_to_the_alert_topic(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a topic with a queue subscribed, and the intake configured with its ARN
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-northeast-1")
    sns = boto3.client("sns", region_name="ap-northeast-1")
    sqs = boto3.client("sqs", region_name="ap-northeast-1")
    topic_arn = sns.create_topic(Name="alerts")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="tap")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    monkeypatch.delenv("SENTRY_CLIENT_SECRET_ARN", raising=False)
    monkeypatch.setenv("SENTRY_CLIENT_SECRET", "deployed-secret")
    load_settings.cache_clear()
    # When a signed webhook arrives
    result = handler.lambda_handler(
        with_fresh_times(build_event("metric_alert_resolved.json", secret="deployed-secret"), "deployed-secret"),
        LocalLambdaContext(function_name="sentry-intake"),
        publisher=SnsPublisher(topic_arn, client=sns),
    )
    # Then it is accepted and the topic got the envelope the router understands
    assert result["statusCode"] == 202
    [message] = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    envelope = json.loads(json.loads(message["Body"])["Message"])
    assert envelope["source"] == "sentry"
    assert envelope["resource"] == "metric_alert"
    assert len(envelope["delivery_id"]) == 64  # the digest of the signed body
    assert envelope["payload"]["action"] == "resolved"


@mock_aws
def test_deployed_path_reads_the_client_secret_from_secrets_manager(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-northeast-1")
    secrets = boto3.client("secretsmanager", region_name="ap-northeast-1")
    arn = secrets.create_secret(Name="peoplebooster-staging/sentry-client-secret", SecretString="from-secrets-manager")[
        "ARN"
    ]
    monkeypatch.delenv("SENTRY_CLIENT_SECRET", raising=False)
    monkeypatch.setenv("SENTRY_CLIENT_SECRET_ARN", arn)
    load_settings.cache_clear()
    published: list[str] = []

    class Recorder:
        def publish(self, message: str) -> str:
            published.append(message)
            return "m-1"

    context = LocalLambdaContext(function_name="sentry-intake")
    good = handler.lambda_handler(
        with_fresh_times(build_event("issue_created.json", secret="from-secrets-manager"), "from-secrets-manager"),
        context,
        publisher=Recorder(),
    )
    bad = handler.lambda_handler(with_fresh_times(build_event("issue_created.json")), context, publisher=Recorder())
    assert (good["statusCode"], bad["statusCode"]) == (202, 401)
    assert len(published) == 1
    load_settings.cache_clear()
