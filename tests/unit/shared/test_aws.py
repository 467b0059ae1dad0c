"""The router's AWS clients come from one boto3 session, so botocore's data is loaded once per cold start."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.parameters.constants import DEFAULT_PROVIDERS

from lambdas.alert_router.delivery.idempotency import DynamoDBDeduplicator
from lambdas.alert_router.settings import Settings, load_webhooks
from lambdas.shared.aws import boto3_session
from tests.aws_tables import REGION

WEBHOOKS = {"alerts-critical": "https://hooks.slack.com/services/T0/B0/critical"}


def test_the_secret_and_the_idempotency_table_are_read_through_one_session(
    moto_dynamodb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a fresh process's Parameters (no secrets provider yet) and the webhook secret in (moto) Secrets Manager
    monkeypatch.delitem(DEFAULT_PROVIDERS, "secrets", raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    secret = boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name="router-webhooks", SecretString=json.dumps(WEBHOOKS)
    )
    # When the router reads its webhooks and builds its idempotency layer, as the first event does
    assert load_webhooks(Settings(webhook_secret_id=secret["ARN"])) == WEBHOOKS
    deduplicator = DynamoDBDeduplicator("idempotency", 3600)
    # Then both clients were made by the process's one session: they share its botocore loader, which read the
    # endpoint rules and service models once (botocore keeps the loader on each client it creates)
    secrets_client = DEFAULT_PROVIDERS["secrets"].client
    assert secrets_client._loader is boto3_session()._session.get_component("data_loader")
    assert deduplicator._layer.client._loader is secrets_client._loader
    assert boto3_session() is boto3_session()
