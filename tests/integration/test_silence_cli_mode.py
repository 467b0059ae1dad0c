"""`make silence` knows the Slack mode from the deployed secret's shape, as the router does (moto)."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from infra.config import load_config
from tests.aws_tables import INCIDENT_TABLE, REGION, create_table
from tools.silence import main, slack_mode

SECRET = "peoplebooster-staging/slack-webhooks"
WEBHOOKS = {"alerts-critical": "https://hooks.slack.com/services/T0/B0/XXXX"}
BOT = {"bot_token": "xoxb-test-XXXX", "channel_ids": {"alerts-critical": "C0CRITICAL"}}
CREATE = ["create", "--table", "incidents", "--match", "peoplebooster-staging-rds-*", "--for", "2h", "--reason", "r"]


@pytest.fixture
def secrets(moto_dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.delenv("INCIDENT_TABLE_NAME", raising=False)
    create_table(moto_dynamodb, "incidents", INCIDENT_TABLE)
    return boto3.client("secretsmanager", region_name=REGION)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["--env", "staging", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_in_webhook_mode_create_says_in_one_line_that_silences_need_bot_token_mode(
    secrets: Any, moto_dynamodb: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the deployed secret holds webhook URLs
    secrets.create_secret(Name=SECRET, SecretString=json.dumps(WEBHOOKS))
    # When a silence is created, then one line says why it would do nothing, and nothing is stored
    code, out, err = run(capsys, *CREATE)
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        "silence: peoplebooster-staging runs in webhook mode (peoplebooster-staging/slack-webhooks holds webhook"
        " URLs): ad-hoc silences need bot-token mode; router.incidents.maintenance_windows in"
        " config/staging.yaml apply in both modes"
    ]
    assert moto_dynamodb.scan(TableName="incidents")["Items"] == []
    # And listing still works, after the same line as a note
    code, out, err = run(capsys, "list", "--table", "incidents")
    assert code == 0
    assert err.startswith("note: peoplebooster-staging runs in webhook mode")
    assert "no active silences" in out


def test_in_bot_token_mode_nothing_is_said(secrets: Any, capsys: pytest.CaptureFixture[str]) -> None:
    secrets.create_secret(Name=SECRET, SecretString=json.dumps(BOT))
    assert run(capsys, "list", "--table", "incidents") == (0, "no active silences in incidents\n", "")


@pytest.mark.parametrize(
    ("stored", "mode"),
    [
        (json.dumps(BOT), "bot-token"),
        (json.dumps(WEBHOOKS), "webhook"),
        ("Zq9#generated-placeholder", "invalid"),
        (None, "unknown"),
    ],
)
def test_the_mode_is_the_secrets_shape(secrets: Any, stored: str | None, mode: str) -> None:
    if stored is not None:
        secrets.create_secret(Name=SECRET, SecretString=stored)
    assert slack_mode(load_config("staging"), secretsmanager=secrets) == mode
