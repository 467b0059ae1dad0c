"""The router's AWS adapters through moto: DynamoDB idempotency (Powertools) and the webhook secret."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from lambdas.alert_router.delivery.idempotency import DynamoDBDeduplicator, Once
from lambdas.alert_router.settings import Settings, SettingsError, load_webhooks
from lambdas.shared.local_context import LocalLambdaContext
from tests.aws_tables import IDEMPOTENCY_TABLE, REGION, create_table


def deduplicator_on(table: str) -> DynamoDBDeduplicator:
    deduplicator = DynamoDBDeduplicator(table, 3600)
    deduplicator.register_lambda_context(LocalLambdaContext(function_name="alert-router"))
    return deduplicator


@pytest.fixture
def aws(moto_dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "alert-router")


@pytest.fixture
def table(aws: None, moto_dynamodb: Any) -> str:
    create_table(moto_dynamodb, "idempotency", IDEMPOTENCY_TABLE)
    return "idempotency"


def test_dynamodb_deduplicator_runs_a_message_once(table: str) -> None:
    # Given the Powertools-backed deduplicator on a (moto) table
    deduplicator = deduplicator_on(table)
    calls: list[str] = []

    def deliver() -> dict[str, Any]:
        calls.append("posted")
        return {"status": "delivered", "channel": "alerts-errors"}

    # When the same message id is processed twice (and another id once)
    first = deduplicator.run_once("message-1", deliver)
    second = deduplicator.run_once("message-1", deliver)
    other = deduplicator.run_once("message-2", deliver)
    # Then it was posted once per id, and the duplicate is reported with the stored result
    assert calls == ["posted", "posted"]
    assert first == Once({"status": "delivered", "channel": "alerts-errors"})
    assert second == Once({"status": "delivered", "channel": "alerts-errors"}, duplicate=True)
    assert other.duplicate is False
    items = boto3.client("dynamodb", region_name=REGION).scan(TableName=table)["Items"]
    assert len(items) == 2
    assert all("expiration" in item for item in items)  # the TTL attribute the table's TTL must use


def test_failed_delivery_is_not_remembered(table: str) -> None:
    deduplicator = deduplicator_on(table)

    def broken() -> dict[str, Any]:
        raise RuntimeError("slack down")

    with pytest.raises(RuntimeError):
        deduplicator.run_once("message-3", broken)
    assert deduplicator.run_once("message-3", lambda: {"status": "delivered"}) == Once({"status": "delivered"})


def test_unreachable_table_still_delivers_and_says_why(aws: None) -> None:
    # Given a table that does not exist (permissions or outage look the same to the router)
    deduplicator = deduplicator_on("missing-table")
    delivered: list[str] = []

    def deliver() -> dict[str, Any]:
        delivered.append("posted")
        return {"status": "delivered"}

    # When a message is processed, it is delivered anyway (a duplicate is better than a lost alert), once
    once = deduplicator.run_once("message-4", deliver)
    assert delivered == ["posted"]
    assert once.result == {"status": "delivered"}
    assert once.duplicate is False
    # And the degradation is reported with the store's error type, for the log, the metric and the alarm
    assert once.degraded is not None
    assert once.degraded.startswith("ResourceNotFoundException: ")


def _secret(name: str, value: dict[str, str]) -> str:
    client = boto3.client("secretsmanager", region_name=REGION)
    arn: str = client.create_secret(Name=name, SecretString=json.dumps(value))["ARN"]
    return arn


def test_webhooks_come_from_the_secret(aws: None) -> None:
    urls = {c: f"https://hooks.slack.com/services/T000/B000/{c}" for c in ("alerts-critical", "alerts-errors")}
    arn = _secret("router-webhooks-ok", urls)
    assert load_webhooks(Settings(webhook_secret_id=arn, local_webhook_urls='{"x": "http://127.0.0.1/x"}')) == urls


def test_secret_with_a_non_slack_url_is_refused_without_showing_it(aws: None) -> None:
    arn = _secret("router-webhooks-bad", {"alerts-critical": "http://127.0.0.1:9/secret-token"})
    with pytest.raises(SettingsError) as raised:
        load_webhooks(Settings(webhook_secret_id=arn))
    assert "alerts-critical" in str(raised.value)
    assert "secret-token" not in str(raised.value)
