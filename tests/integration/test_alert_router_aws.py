"""The router's AWS adapters through moto: DynamoDB idempotency (Powertools) and the webhook secret."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from lambdas.alert_router.delivery.idempotency import DeliveryInProgress, DynamoDBDeduplicator
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


def test_dynamodb_deduplicator_remembers_a_delivered_alert(table: str) -> None:
    # Given the Powertools-backed deduplicator on a (moto) table
    deduplicator = deduplicator_on(table)
    # When an alert is claimed, posted and completed, then claimed again (a redelivered batch)
    first = deduplicator.claim("message-1")
    assert first.duplicate is None
    assert deduplicator.complete(first, {"status": "delivered", "channel": "alerts-errors"}) is None
    again = deduplicator.claim("message-1")
    other = deduplicator.claim("message-2")
    # Then the second claim is the duplicate, with the stored result; another id is fresh
    assert again.duplicate == {"status": "delivered", "channel": "alerts-errors"}
    assert other.duplicate is None
    items = boto3.client("dynamodb", region_name=REGION).scan(TableName=table)["Items"]
    assert len(items) == 2
    assert all("expiration" in item for item in items)  # the TTL attribute the table's TTL must use


def test_a_claim_held_by_another_invocation_is_in_progress(table: str) -> None:
    # Given one invocation that claimed an alert and is still posting it
    deduplicator_on(table).claim("message-5")
    # When another invocation claims it, then it is told to retry later (SQS redelivers the record)
    with pytest.raises(DeliveryInProgress):
        deduplicator_on(table).claim("message-5")


def test_a_released_claim_is_not_remembered(table: str) -> None:
    # Given a claim whose message was not posted (Slack down), released
    deduplicator = deduplicator_on(table)
    claim = deduplicator.claim("message-3")
    assert deduplicator.release(claim) is None
    # Then the retry claims it afresh and posts it
    assert deduplicator.claim("message-3").duplicate is None


def test_records_keep_the_key_of_the_idempotent_function_used_before(table: str) -> None:
    # Given a record written by the router's previous release (Powertools idempotent_function, same prefix)
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, idempotent_function

    layer = DynamoDBPersistenceLayer(table_name=table)
    config = deduplicator_on(table).config

    def deliver(record: dict[str, str]) -> dict[str, str]:
        return {"status": "delivered"}

    idempotent_function(
        deliver, data_keyword_argument="record", persistence_store=layer, config=config, key_prefix="alert-router"
    )(record={"message_id": "message-6"})
    # When the new release sees the same message, then it is recognised as delivered
    assert deduplicator_on(table).claim("message-6").duplicate == {"status": "delivered"}


def test_unreachable_table_still_delivers_and_says_why(aws: None) -> None:
    # Given a table that does not exist (permissions or outage look the same to the router)
    deduplicator = deduplicator_on("missing-table")
    # When an alert is claimed, it is fresh (a duplicate is better than a lost alert) and says why
    claim = deduplicator.claim("message-4")
    assert claim.duplicate is None
    assert claim.degraded is not None
    assert claim.degraded.startswith("ResourceNotFoundException: ")
    # And completing it does not say it twice
    assert deduplicator.complete(claim, {"status": "delivered"}) is None


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
