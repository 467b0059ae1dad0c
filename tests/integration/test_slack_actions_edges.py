"""The edges of acting from Slack: webhook mode tells the truth (windows apply, clicks do nothing), the deployed
endpoint reads its secret and hands over with an asynchronous invoke, and the signing secret shows nowhere."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from lambdas.alert_router import handler as router_handler
from lambdas.alert_router.delivery.idempotency import InMemoryDeduplicator
from lambdas.alert_router.settings import load_settings
from lambdas.shared import observability
from lambdas.shared.local_context import LocalLambdaContext
from lambdas.shared.slack_actions import action_event
from lambdas.slack_actions import handler as endpoint
from lambdas.slack_actions import verify
from lambdas.slack_actions.handoff import HandoffError, RouterInvoker
from lambdas.slack_actions.interaction import read_interaction
from lambdas.slack_actions.settings import SettingsError
from lambdas.slack_actions.settings import load_settings as load_endpoint_settings
from tests.emf import emf_points
from tests.integration.test_incident_lifecycle import alarm_event
from tests.unit.shared.test_observability import captured_by_sentry, sentry_inbox  # noqa: F401 - the fixture
from tools.local_slack import LocalSlack
from tools.slack_interactions import TEST_SIGNING_SECRET, click, form_body, signed_event

SECRET = "s1gn1ng-s3cret-that-must-never-show"
KEY = "arn:aws:cloudwatch:ap-northeast-1:123456789012:alarm:peoplebooster-production-alb-5xx-rate-high"
MESSAGE = {
    "ts": "1780000001.000001",
    "channel": "C0CRITICAL",
    "text": "🔴 ALARM",
    "blocks": [
        {
            "type": "actions",
            "block_id": "incident-actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": "incident-acknowledge",
                    "text": {"type": "plain_text", "text": "Acknowledge"},
                    "value": KEY,
                }
            ],
        }
    ],
}
RESPONSE_URL = "https://hooks.slack.com/actions/T0/1/abc"
CTX = LocalLambdaContext(function_name="slack-actions")


@pytest.fixture(autouse=True)
def clean(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in (
        "SLACK_WEBHOOK_SECRET_ARN",
        "SLACK_BOT_TOKEN",
        "IDEMPOTENCY_TABLE_NAME",
        "INCIDENT_TABLE_NAME",
        "SLACK_SIGNING_SECRET_ARN",
        "ROUTER_FUNCTION_NAME",
        "MAINTENANCE_WINDOWS",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ENVIRONMENT", "staging")
    load_settings.cache_clear()
    load_endpoint_settings.cache_clear()
    yield
    load_settings.cache_clear()
    load_endpoint_settings.cache_clear()


# --- webhook mode tells the truth ---------------------------------------------------------------------------------


@pytest.fixture
def webhooks(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalSlack]:
    with LocalSlack() as slack:
        monkeypatch.setenv("SLACK_WEBHOOK_URLS", slack.webhook_urls())
        load_settings.cache_clear()
        yield slack


def window_around_now(match: str) -> str:
    """A maintenance window, every day, from an hour ago to an hour from now (UTC)."""
    now = datetime.now(UTC)
    start, end = now - timedelta(hours=1), now + timedelta(hours=1)
    days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    return json.dumps(
        [{"name": "upgrade", "match": match, "days": days, "start": f"{start:%H:%M}", "end": f"{end:%H:%M}"}]
    )


def route(event: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = router_handler.lambda_handler(
        event, LocalLambdaContext(function_name="alert-router"), deduplicator=InMemoryDeduplicator()
    )
    return result


def test_webhook_mode_applies_maintenance_windows_logs_and_counts(
    webhooks: LocalSlack, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    # Given a window over the ALB alarms that covers now, in webhook mode
    monkeypatch.setenv("MAINTENANCE_WINDOWS", window_around_now("*alb-5xx*"))
    load_settings.cache_clear()
    # When the ALB alarm fires, then nothing is posted: the result says which window, and it is counted
    result = route(alarm_event("ALARM", datetime.now(UTC), "m-1"))
    assert result["results"][0] | {"message_id": None} == {
        "message_id": None,
        "alarm_name": "checkout-alb-5xx-rate-high",
        "status": "silenced",
        "window": "upgrade",
    }
    assert webhooks.all_messages() == {}
    assert emf_points(capfd.readouterr().out, "Silenced") == [1.0]
    # And an alarm the window does not match is posted as always
    monkeypatch.setenv("MAINTENANCE_WINDOWS", window_around_now("*rds*"))
    load_settings.cache_clear()
    assert route(alarm_event("ALARM", datetime.now(UTC), "m-2"))["results"][0]["status"] == "delivered"
    assert len(webhooks.messages("alerts-critical")) == 1


def test_webhook_mode_ignores_a_click_and_counts_it(webhooks: LocalSlack, capfd: pytest.CaptureFixture[str]) -> None:
    # A click can only come from bot-token mode's buttons; after a switch back to webhooks it changes nothing
    (action,) = read_interaction(form_body(click(MESSAGE, "Acknowledge", response_url=RESPONSE_URL))).actions
    assert route(action_event(action)) == {"action": "ignored", "reason": "webhook mode"}
    assert webhooks.all_messages() == {}
    # And it is counted (graphed in the Slack buttons row), not only logged
    assert emf_points(capfd.readouterr().out, "ActionsIgnored") == [1.0]


# --- the deployed endpoint: secret from Secrets Manager, an asynchronous invoke of the router ----------------------


class Recorder:
    def __init__(self) -> None:
        self.handed: list[Any] = []

    def hand_over(self, action: Any) -> None:
        self.handed.append(action)


@mock_aws
def test_deployed_path_reads_the_signing_secret_from_secrets_manager(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-northeast-1")
    secrets = boto3.client("secretsmanager", region_name="ap-northeast-1")
    arn = secrets.create_secret(Name="peoplebooster-staging/slack-signing-secret", SecretString=SECRET)["ARN"]
    monkeypatch.delenv("SLACK_SIGNING_SECRET", raising=False)
    monkeypatch.setenv("SLACK_SIGNING_SECRET_ARN", arn)
    load_endpoint_settings.cache_clear()
    recorder = Recorder()
    payload = click(MESSAGE, "Acknowledge", response_url=RESPONSE_URL)
    good = endpoint.lambda_handler(signed_event(payload, secret=SECRET), CTX, invoker=recorder)
    bad = endpoint.lambda_handler(signed_event(payload, secret=TEST_SIGNING_SECRET), CTX, invoker=recorder)
    assert (good["statusCode"], bad["statusCode"]) == (200, 401)
    assert len(recorder.handed) == 1


@mock_aws
def test_an_unfilled_signing_secret_fails_with_a_line_that_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-northeast-1")
    secrets = boto3.client("secretsmanager", region_name="ap-northeast-1")
    arn = secrets.create_secret(Name="peoplebooster-staging/slack-signing-secret", SecretString=" ")["ARN"]
    monkeypatch.setenv("SLACK_SIGNING_SECRET_ARN", arn)
    load_endpoint_settings.cache_clear()
    with pytest.raises(SettingsError, match="the Slack signing secret is empty"):
        endpoint.lambda_handler(signed_event({"type": "block_actions"}), CTX, invoker=Recorder())


def test_the_router_is_invoked_asynchronously_with_the_action_event() -> None:
    # moto's Lambda Invoke runs the function in Docker, which this machine lacks: botocore's Stubber checks the
    # request instead (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html: InvocationType Event -> 202).
    client = boto3.client("lambda", region_name="ap-northeast-1")
    (action,) = read_interaction(form_body(click(MESSAGE, "Acknowledge", response_url=RESPONSE_URL))).actions
    router_arn = "arn:aws:lambda:ap-northeast-1:123456789012:function:peoplebooster-staging-alert-router"
    with Stubber(client) as stub:
        expected = {
            "FunctionName": router_arn,
            "InvocationType": "Event",
            "Payload": json.dumps(action_event(action)).encode(),
        }
        stub.add_response("invoke", {"StatusCode": 202}, expected)
        stub.add_response("invoke", {"StatusCode": 200}, expected)
        invoker = RouterInvoker(router_arn, client=client)
        invoker.hand_over(action)
        with pytest.raises(HandoffError, match="answered 200"):
            invoker.hand_over(action)
        stub.assert_no_pending_responses()


def test_a_failed_hand_over_is_an_error_slack_shows(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the router cannot be reached: the click did nothing, so Slack must not hear "ok"
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)

    class Unreachable:
        def hand_over(self, action: Any) -> None:
            raise HandoffError("the router (r) answered 500 to the asynchronous invoke")

    with pytest.raises(HandoffError):
        endpoint.lambda_handler(
            signed_event(click(MESSAGE, "Acknowledge", response_url=RESPONSE_URL), secret=SECRET),
            CTX,
            invoker=Unreachable(),
        )


# --- the signing secret shows nowhere -----------------------------------------------------------------------------


@pytest.fixture
def endpoint_logs() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    extra = logging.StreamHandler(stream)
    extra.setFormatter(endpoint.logger.registered_formatter)
    logger = logging.getLogger(endpoint.logger.name)
    logger.addHandler(extra)
    yield stream
    logger.removeHandler(extra)


def test_the_signing_secret_is_never_logged_or_in_an_exception(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str], endpoint_logs: io.StringIO
) -> None:
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    payload = click(MESSAGE, "Acknowledge", response_url=RESPONSE_URL)
    # When every kind of request arrives: valid, forged, stale, signed with the secret as the body, unsigned
    recorder = Recorder()
    answers = [
        endpoint.lambda_handler(signed_event(payload, secret=SECRET), CTX, invoker=recorder),
        endpoint.lambda_handler(signed_event(payload, secret="guess"), CTX, invoker=recorder),
        endpoint.lambda_handler(signed_event(payload, secret=SECRET, timestamp=1), CTX, invoker=recorder),
        endpoint.lambda_handler(signed_event(SECRET.encode(), secret=SECRET), CTX, invoker=recorder),
        endpoint.lambda_handler({"headers": {"x-slack-signature": SECRET}}, CTX, invoker=recorder),
    ]
    assert [a["statusCode"] for a in answers] == [200, 401, 401, 200, 401]
    # And the hand-over fails with the secret in reach (frame variables)
    with pytest.raises(HandoffError) as failure:
        endpoint.lambda_handler(
            signed_event(payload, secret=SECRET), CTX, invoker=_Failing()
        )  # fmt: skip
    captured = capfd.readouterr()
    logs = endpoint_logs.getvalue()
    assert "handed to the router" in logs
    assert "rejected" in logs
    for text in (logs, captured.out, captured.err, str(failure.value), repr(failure.value)):
        assert SECRET not in text


class _Failing:
    def hand_over(self, action: Any) -> None:
        raise HandoffError("the router (r) answered 429 to the asynchronous invoke")


def test_sentry_events_never_carry_the_signing_secret(
    sentry_inbox: tuple[str, list[bytes]],  # noqa: F811 - the imported fixture
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dsn, received = sentry_inbox
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    payload = click(MESSAGE, "Acknowledge", response_url=RESPONSE_URL)

    def bug(body: bytes) -> None:
        raise RuntimeError("a bug while reading the payload")

    # Given a bug where the secret is a variable of the failing frames (verify.decide holds it)
    monkeypatch.setattr(verify, "read_interaction", bug)

    def failing_click() -> None:
        endpoint.lambda_handler(signed_event(payload, secret=SECRET), CTX, invoker=Recorder())

    # When the endpoint fails on a valid click with Sentry on (frame variables included, as the SDK sends them)
    sent = captured_by_sentry(dsn, received, "slack-actions", failing_click, SENTRY_ENVIRONMENT="staging")
    # Then Sentry got the exception with its frames, and neither the secret nor the response URL
    assert "a bug while reading the payload" in sent
    assert "Secret('[redacted]')" in sent  # the frame variable is there, as its marker
    assert SECRET not in sent
    assert RESPONSE_URL not in sent
    observability.reset_sentry_for_tests()
