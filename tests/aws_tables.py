"""Moto DynamoDB tables laid out as the stack deploys them.

Each table is defined once, in CloudFormation's property names (which are also `create_table`'s
arguments); tests/infra/test_incident_infra.py checks these definitions against the synthesized
template, so a moto table cannot drift from the deployed one.
"""

from __future__ import annotations

from typing import Any

from lambdas.alert_router.incidents.store import SWEEP_INDEX

REGION = "ap-northeast-1"  # config/staging.yaml's region: the tools' clients use it
FAKE_CREDENTIALS = {
    "AWS_DEFAULT_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}

INCIDENT_TABLE: dict[str, Any] = {
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
    "AttributeDefinitions": [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "sweep", "AttributeType": "S"},
    ],
    "GlobalSecondaryIndexes": [
        {
            "IndexName": SWEEP_INDEX,
            "KeySchema": [{"AttributeName": "sweep", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL"},
        }
    ],
    "BillingMode": "PAY_PER_REQUEST",
}
IDEMPOTENCY_TABLE: dict[str, Any] = {
    "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
    "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
    "BillingMode": "PAY_PER_REQUEST",
}
# The synthetic monitor's latest results (lambdas/shared/synthetic_results.py)
RESULTS_TABLE: dict[str, Any] = {
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "check", "KeyType": "RANGE"}],
    "AttributeDefinitions": [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "check", "AttributeType": "S"},
    ],
    "BillingMode": "PAY_PER_REQUEST",
}
# The template's other properties (TTL, PITR, SSE) have no create_table equivalent in the same shape.
CREATE_ARGUMENTS = ("KeySchema", "AttributeDefinitions", "GlobalSecondaryIndexes", "BillingMode")


def create_table(client: Any, name: str, definition: dict[str, Any]) -> None:
    """Create table `name` from a definition above or from a synthesized table's Properties."""
    client.create_table(TableName=name, **{key: definition[key] for key in CREATE_ARGUMENTS if key in definition})
