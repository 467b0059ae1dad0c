"""`make silence` (tools/silence.py) against a moto DynamoDB table laid out as the stack deploys it."""

from __future__ import annotations

import json
import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from infra.config import load_config
from lambdas.alert_router.incidents.store import DynamoDBIncidentStore
from lambdas.shared.alarm_metadata import Category, Severity, format_alarm_description
from tests.aws_tables import INCIDENT_TABLE, REGION, create_table
from tools.silence import CliError, critical_alarm_names, incident_table, main

REPO = Path(__file__).resolve().parents[2]
CRITICAL = ("peoplebooster-staging-alb-target-5xx", "peoplebooster-staging-synthetic-live")
WARNING = "peoplebooster-staging-rds-cpu"


def _alarm(name: str, severity: Severity) -> dict[str, Any]:
    description = format_alarm_description(
        "summary", severity=severity, category=Category.ERRORS, runbook_url="https://example.com/runbook.md"
    )
    return {"Type": "AWS::CloudWatch::Alarm", "Properties": {"AlarmName": name, "AlarmDescription": description}}


@pytest.fixture
def template(tmp_path: Path) -> Path:
    resources = {f"Alarm{i}": _alarm(name, Severity.CRITICAL) for i, name in enumerate(CRITICAL)}
    resources["Warning"] = _alarm(WARNING, Severity.WARNING)
    resources["Topic"] = {"Type": "AWS::SNS::Topic", "Properties": {}}
    path = tmp_path / "staging.template.json"
    path.write_text(json.dumps({"Resources": resources}))
    return path


@pytest.fixture
def aws(moto_dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.delenv("INCIDENT_TABLE_NAME", raising=False)
    create_table(moto_dynamodb, "incidents", INCIDENT_TABLE)
    # the deployed Slack secret in bot-token mode, where silences act (webhook mode: test_silence_cli_mode.py)
    bot = {"bot_token": "xoxb-test-XXXX", "channel_ids": {"alerts-critical": "C0CRITICAL"}}
    secrets = boto3.client("secretsmanager", region_name=REGION)
    secrets.create_secret(Name="peoplebooster-staging/slack-webhooks", SecretString=json.dumps(bot))
    return moto_dynamodb


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["--env", "staging", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _create(template: Path, match: str, *extra: str) -> list[str]:
    return [
        "create", "--table", "incidents", "--template", str(template), "--match", match, "--for", "2h",
        "--reason", "RDS maintenance", "--created-by", "alice", *extra,
    ]  # fmt: skip


def test_create_list_expire(aws: Any, template: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given an empty incident table
    # When a silence is created for the RDS alarms
    code, out, err = _run(capsys, *_create(template, "peoplebooster-staging-rds-*"))
    assert (code, err) == (0, "")
    found = re.search(r"created silence (\w+) in incidents", out)
    assert found, out
    silence_id = found.group(1)
    assert "match='peoplebooster-staging-rds-*'" in out
    assert "by=alice" in out
    assert "critical alarms covered: none" in out
    # Then it is stored where the router's sweep and matching find it
    [stored] = DynamoDBIncidentStore("incidents", client=aws).sweep_silences()
    assert (stored.id, stored.reason, stored.created_by) == (silence_id, "RDS maintenance", "alice")
    assert 7199 <= stored.until - stored.starts_at <= 7200

    # When the silences are listed, then it is there and active
    code, out, _ = _run(capsys, "list", "--table", "incidents")
    assert code == 0
    [line] = out.splitlines()
    assert line.startswith(f"{silence_id}  active")
    assert " JST -> " in line  # config/staging.yaml's display time zone

    # When it is expired, then it has ended now and is no longer listed as active
    code, out, _ = _run(capsys, "expire", "--table", "incidents", "--id", silence_id)
    assert code == 0
    assert out.startswith(f"expired silence {silence_id}; the next sweep posts")
    code, out, _ = _run(capsys, "list", "--table", "incidents")
    assert out.strip() == "no active silences in incidents"
    # And it stays listed with --all until the sweep has posted its summary
    code, out, _ = _run(capsys, "list", "--table", "incidents", "--all")
    assert out.startswith(f"{silence_id}  ended")


def test_a_pattern_covering_every_critical_alarm_needs_all_critical(
    aws: Any, template: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the two critical alarms of the template, when a pattern covers both
    code, out, err = _run(capsys, *_create(template, "peoplebooster-staging-*"))
    # Then it is refused with one line that says how to mean it, and nothing is stored
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        "silence: pattern 'peoplebooster-staging-*' silences every critical alarm of staging; add ALL_CRITICAL=yes"
        " (--all-critical) if that is really meant"
    ]
    assert DynamoDBIncidentStore("incidents", client=aws).sweep_silences() == []
    # And a pattern covering one of them is fine; with the flag, all of them too
    code, out, _ = _run(capsys, *_create(template, "*-alb-*"))
    assert code == 0
    assert f"critical alarms covered: {CRITICAL[0]}" in out
    code, out, _ = _run(capsys, *_create(template, "*", "--all-critical"))
    assert code == 0
    assert f"critical alarms covered: {', '.join(CRITICAL)}" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["create", "--table", "incidents", "--match", "x", "--for", "2h"], "create needs MATCH=<alarm name pattern>"),
        (["create", "--table", "incidents", "--match", "x", "--for", "2 weeks", "--reason", "r"],
         "duration '2 weeks' is not like 2h"),
        (["create", "--table", "incidents", "--match", "x", "--for", "15d", "--reason", "r"],
         "duration must be between 1 minute and 14 days"),
        (["expire", "--table", "incidents"], "expire needs ID=<silence id>"),
        (["expire", "--table", "incidents", "--id", "nope"], "no silence 'nope' in incidents"),
        (["list", "--table", "missing"], "AWS call failed: An error occurred (ResourceNotFoundException)"),
    ],
)  # fmt: skip
def test_errors_are_one_clear_line(
    aws: Any, template: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = _run(capsys, *argv, *(["--template", str(template)] if argv[0] == "create" else []))
    assert (code, out) == (1, "")
    assert len(err.splitlines()) == 1
    assert err.startswith(f"silence: {message}"), err


def _cloudformation(*, outputs: dict[str, str] | None = None, missing: bool = False) -> tuple[Any, Stubber]:
    """A real CloudFormation client whose answers are stubbed (moto's CloudFormation needs extras we lack)."""
    client = boto3.client("cloudformation", region_name=REGION)
    stubber = Stubber(client)
    expected = {"StackName": "peoplebooster-staging-monitoring"}
    if missing:
        stubber.add_client_error(
            "describe_stacks", "ValidationError", "Stack with id peoplebooster-staging-monitoring does not exist",
            expected_params=expected,
        )  # fmt: skip
    elif outputs is not None:
        stack = {
            "StackName": "peoplebooster-staging-monitoring",
            "CreationTime": datetime(2026, 11, 29, tzinfo=UTC),
            "StackStatus": "UPDATE_COMPLETE",
            "Outputs": [{"OutputKey": key, "OutputValue": value} for key, value in outputs.items()],
        }
        stubber.add_response("describe_stacks", {"Stacks": [stack]}, expected_params=expected)
    stubber.activate()
    return client, stubber


def test_the_table_comes_from_the_stack_output(aws: Any) -> None:
    config = load_config("staging")
    # Given the deployed stack's outputs, when neither --table nor INCIDENT_TABLE_NAME is given
    client, stubber = _cloudformation(outputs={"IncidentTableName": "pb-staging-incidents-1A2B", "Other": "x"})
    # Then the output names the table
    assert incident_table(None, config, {}, cloudformation=client) == "pb-staging-incidents-1A2B"
    stubber.assert_no_pending_responses()
    # And --table, then INCIDENT_TABLE_NAME, win without asking CloudFormation (no stubbed answer is left)
    assert incident_table("given", config, {"INCIDENT_TABLE_NAME": "env"}, cloudformation=client) == "given"
    assert incident_table(None, config, {"INCIDENT_TABLE_NAME": "env"}, cloudformation=client) == "env"


@pytest.mark.parametrize(
    ("stub", "message"),
    [
        (
            {"outputs": {"AlertTopicArn": "arn"}},
            "stack peoplebooster-staging-monitoring has no output IncidentTableName",
        ),
        ({"missing": True}, "no incident table: silences live in the deployed table"),
    ],
)
def test_a_missing_stack_or_output_is_one_clear_line(aws: Any, stub: dict[str, Any], message: str) -> None:
    client, _ = _cloudformation(**stub)
    with pytest.raises(CliError) as raised:
        incident_table(None, load_config("staging"), {}, cloudformation=client)
    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)


def test_without_credentials_it_says_silences_need_the_deployed_table(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Given a laptop without AWS credentials (no instance metadata either: nothing leaves the machine)
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "INCIDENT_TABLE_NAME",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ROLE_ARN",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    # When silences are listed
    code, out, err = _run(capsys, "list")
    # Then one line says where silences live and how to point the CLI at them
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        "silence: no incident table: silences live in the deployed table (stack peoplebooster-staging-monitoring,"
        " output IncidentTableName); pass --table or INCIDENT_TABLE_NAME, or use AWS credentials for staging"
        " (lookup failed: Unable to locate credentials)"
    ]


def test_critical_alarm_names_read_the_severity_line(template: Path) -> None:
    assert critical_alarm_names(json.loads(template.read_text())) == sorted(CRITICAL)
    assert critical_alarm_names({"Resources": {}}) == []


def test_make_passes_every_value_through_unharmed(tmp_path: Path) -> None:
    # Given values a shell would mangle if make pasted them into the command line
    reason = """it's "planned" $HOME; `date`"""
    result = subprocess.run(
        ["make", "-n", "silence", "MATCH=*-rds-*", "FOR=2h", f"REASON={reason}", "ALL_CRITICAL=yes", "ENV=production"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    # Then the recipe reads them from the environment (quoted), and the flag only appears for yes
    recipe = result.stdout.replace("\\\n", " ")
    assert '--match "$MATCH" --for "$FOR" --reason "$REASON"' in recipe
    assert "--env production" in recipe
    assert "--all-critical" in recipe
    without = subprocess.run(
        ["make", "-n", "silence", "ALL_CRITICAL=no"], cwd=REPO, capture_output=True, text=True, timeout=60, check=True
    )
    assert "--all-critical" not in without.stdout
