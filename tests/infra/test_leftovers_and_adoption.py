"""A deploy that can be run again, and log groups that already exist: tools/leftovers.py against moto, and
the `logs.adopt_existing` path that lets a stack use groups ECS or Terraform made.

moto checks no KMS key policy: whether CloudWatch Logs may use the stack's key for the adopted groups is
asked of the key policy with the AWS-rules evaluator (tests/infra/aws_rules)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_cdk import App
from aws_cdk.assertions import Template
from moto import mock_aws

from infra.stack import MonitoringStack
from tests.aws_tables import FAKE_CREDENTIALS, REGION
from tests.infra.aws_rules import calls as aws
from tests.infra.aws_rules.policy import Request, ServicePrincipal, evaluate
from tests.infra.aws_rules.template import DeployedTemplate
from tests.infra.conftest import Synthesized
from tools import leftovers

ECS_GROUPS = [f"/aws/ecs/staging/{kind}" for kind in ("application", "access", "error", "audit")]


@pytest.fixture
def account(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield {name: boto3.client(name, region_name=REGION) for name in ("logs", "secretsmanager", "kms")}


def _find(template: dict[str, Any], account: dict[str, Any]) -> list[leftovers.Leftover]:
    return leftovers.find_leftovers(
        template,
        prefix="peoplebooster-staging",
        logs=account["logs"],
        secrets=account["secretsmanager"],
        kms=account["kms"],
    )


def _adopting(staging: Synthesized) -> dict[str, Any]:
    config = staging.config.model_copy(update={"logs": staging.config.logs.model_copy(update={"adopt_existing": True})})
    stack = MonitoringStack(App(context={"aws:cdk:bundling-stacks": []}), config=config)
    return dict(Template.from_stack(stack).to_json())


def test_a_fresh_account_has_nothing_in_the_way(staging: Synthesized, account: dict[str, Any]) -> None:
    assert _find(staging.raw, account) == []


def test_ecs_made_log_groups_are_found_and_adopted_not_deleted(staging: Synthesized, account: dict[str, Any]) -> None:
    # Given the four groups made by ECS (or an earlier Terraform) before the first deploy
    for name in ECS_GROUPS:
        account["logs"].create_log_group(logGroupName=name)
    # When the stack's template is checked
    found = _find(staging.raw, account)
    # Then the create would fail on each, and the advice is to adopt them, with no delete command
    assert sorted(item.name for item in found) == sorted(ECS_GROUPS)
    advice = leftovers.clear_the_way(found, environment="staging")
    assert advice == [
        "adopt the existing log groups: set `logs: {adopt_existing: true}` in config/staging.yaml"
        " (docs/operations/deployment-guide.md#adopting-existing-log-groups)"
    ]
    # When the config adopts them, the stack creates none of them: nothing is in the way any more
    adopting = _adopting(staging)
    assert _find(adopting, account) == []
    # And the saved queries read the existing groups by name
    queries = [r["Properties"] for r in adopting["Resources"].values() if r["Type"] == "AWS::Logs::QueryDefinition"]
    assert {name for q in queries for name in q["LogGroupNames"]} == set(ECS_GROUPS)


def test_adopted_groups_can_be_encrypted_with_the_stacks_key(staging: Synthesized) -> None:
    # Given the adopting template; when the operator runs `aws logs associate-kms-key` for a group, CloudWatch
    # Logs uses the key with the group's ARN as encryption context (encrypt-log-data-kms.html)
    t = DeployedTemplate(_adopting(staging), stack_name="peoplebooster-staging-monitoring", region=REGION)
    (key_id,) = [
        lid for lid, key in t.resources("AWS::KMS::Key").items() if "log groups" in key["Properties"]["Description"]
    ]
    key_arn = t.get_att(key_id, "Arn")
    for name in ECS_GROUPS:
        for action in ("kms:GenerateDataKey", "kms:Decrypt"):
            request = Request(
                ServicePrincipal(f"logs.{REGION}.amazonaws.com"),
                action,
                key_arn,
                {"kms:EncryptionContext:aws:logs:arn": t.arn("logs", f"log-group:{name}")},
            )
            # Then the key policy allows it
            assert evaluate(request, (), key_policy=aws.key_policy_of(t, key_arn)).allowed, name


def test_a_kept_secret_and_an_orphaned_key_get_one_clean_up_command(
    staging: Synthesized, account: dict[str, Any]
) -> None:
    # Given what a failed deploy of the first release left: the fixed-name secret (plain Retain) and the
    # log key it created (no alias any more), plus a key that still encrypts a kept audit group
    account["secretsmanager"].create_secret(Name="peoplebooster-staging/slack-webhooks", SecretString="placeholder")
    orphan = account["kms"].create_key(Description="Encrypts the peoplebooster-staging ECS log groups")["KeyMetadata"]
    in_use = account["kms"].create_key(Description="Encrypts the peoplebooster-staging ECS log groups")["KeyMetadata"]
    account["logs"].create_log_group(logGroupName="/aws/ecs/staging/audit", kmsKeyId=in_use["Arn"])
    aliased = account["kms"].create_key(Description="Encrypts the peoplebooster-staging alert topics")["KeyMetadata"]
    account["kms"].create_alias(AliasName="alias/peoplebooster-staging-alerts", TargetKeyId=aliased["KeyId"])
    # When the stack's template is checked
    found = _find(staging.raw, account)
    # Then the secret and the orphan are found; the key the audit group uses and the aliased key are not
    assert {(item.kind, item.name) for item in found} == {
        ("secret", "peoplebooster-staging/slack-webhooks"),
        ("KMS key", orphan["KeyId"]),
        ("log group", "/aws/ecs/staging/audit"),
    }
    advice = leftovers.clear_the_way(found, environment="staging")
    # And there is one command that clears what may be deleted (the audit group is adopted, not deleted)
    (clean,) = [line for line in advice if line.startswith("clean up with: ")]
    assert clean == (
        "clean up with: aws secretsmanager delete-secret --secret-id peoplebooster-staging/slack-webhooks"
        f" --force-delete-without-recovery && aws kms schedule-key-deletion --key-id {orphan['KeyId']}"
        " --pending-window-in-days 7"
    )
    assert "delete-log-group" not in clean


def test_the_command_line_reports_and_exits_1(
    staging: Synthesized, account: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    account["logs"].create_log_group(logGroupName="/aws/lambda/peoplebooster-staging-alert-router")
    assert leftovers.main(["--env", "staging", "--template", str(staging.template_path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "log group /aws/lambda/peoplebooster-staging-alert-router already exists",
        "clean up with: aws logs delete-log-group --log-group-name /aws/lambda/peoplebooster-staging-alert-router",
    ]


def test_a_clean_account_exits_0(
    staging: Synthesized, account: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    assert leftovers.main(["--env", "staging", "--template", str(staging.template_path)]) == 0
    assert "nothing in the way" in capsys.readouterr().out


def test_an_endpoint_that_refuses_is_one_line(
    staging: Synthesized, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # discard port: nothing listens
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    assert leftovers.main(["--env", "staging", "--template", str(staging.template_path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("leftovers: AWS call failed: ")


def test_an_unreadable_template_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "t.json"
    broken.write_text("{not json", encoding="utf-8")
    assert leftovers.main(["--env", "staging", "--template", str(broken)]) == 1
    assert capsys.readouterr().err.startswith("leftovers: cannot read the template: ")
