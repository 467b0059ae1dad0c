"""The interactivity endpoint and the escalation topic in the synthesized templates (issue 14): the Function URL,
its secret, least privilege, throttling, its alarms on the metrics the handler writes, the outputs the manifest
and the guide use; the router's escalation settings and topic."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from aws_cdk import App
from aws_cdk.assertions import Template

from infra.config import CONFIG_DIR, load_config
from infra.constructs.slack_actions import URL_OUTPUT
from infra.stack import MonitoringStack
from lambdas.shared.alarm_metadata import parse_alarm_metadata
from lambdas.shared.local_context import LocalLambdaContext
from lambdas.slack_actions import handler
from lambdas.slack_actions.settings import load_settings
from tests.emf import emf_blobs
from tests.infra.conftest import Synthesized
from tools.slack_interactions import signed_event
from tools.slack_manifest import PLACEHOLDER


def _function(synth: Synthesized, module: str) -> tuple[str, dict[str, Any]]:
    [(logical_id, function)] = [
        (key, value)
        for key, value in synth.resources("AWS::Lambda::Function").items()
        if value["Properties"].get("Handler") == f"lambdas.{module}.handler.lambda_handler"
    ]
    return logical_id, function["Properties"]


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_the_endpoint_answers_fast_is_throttled_and_configured_by_names_only(
    synthesized: dict[str, Synthesized], environment: str
) -> None:
    synth = synthesized[environment]
    _, props = _function(synth, "slack_actions")
    router_id, _ = _function(synth, "alert_router")
    assert props["ReservedConcurrentExecutions"] == 2
    # Slack shows an error after 3 s: a cold start gets 1 GB's CPU, and a slower one still hands the click over
    assert (props["MemorySize"], props["Timeout"]) == (1024, 10)
    env = props["Environment"]["Variables"]
    assert env["ROUTER_FUNCTION_NAME"] == {"Fn::GetAtt": [router_id, "Arn"]}
    assert set(env) >= {"SLACK_SIGNING_SECRET_ARN", "POWERTOOLS_METRICS_NAMESPACE"}
    assert "SLACK_SIGNING_SECRET" not in env  # the value is never an env var


def test_the_url_is_public_because_slack_signs_with_hmac_and_is_an_output(staging: Synthesized) -> None:
    logical_id, _ = _function(staging, "slack_actions")
    (url_id,) = [
        key
        for key, url in staging.resources("AWS::Lambda::Url").items()
        if url["Properties"]["TargetFunctionArn"] == {"Fn::GetAtt": [logical_id, "Arn"]}
    ]
    assert staging.raw["Resources"][url_id]["Properties"]["AuthType"] == "NONE"
    outputs = staging.raw["Outputs"]
    assert outputs[URL_OUTPUT]["Value"] == {"Fn::GetAtt": [url_id, "FunctionUrl"]}
    assert "SlackSigningSecretName" in outputs
    assert "EscalationTopicArn" in outputs
    # the manifest's placeholder names that output, so `make slack-manifest` and the guide agree with the stack
    assert URL_OUTPUT in PLACEHOLDER


def test_the_signing_secret_is_created_kept_and_acknowledged_for_rotation(production: Synthesized) -> None:
    [(_, secret)] = [
        (key, value)
        for key, value in production.resources("AWS::SecretsManager::Secret").items()
        if value["Properties"]["Name"] == "peoplebooster-production/slack-signing-secret"
    ]
    assert "GenerateSecretString" in secret["Properties"]  # a placeholder, never a value in the template
    assert secret["DeletionPolicy"] == "RetainExceptOnCreate"  # infra/retention.py: a failed first create cleans up
    report = json.loads((production.template_path.parent / "validation-report.json").read_text())
    (plugin,) = report["pluginReports"]
    acknowledged = {
        (v["ruleName"], c["constructPath"]) for v in plugin["suppressedViolations"] for c in v["violatingConstructs"]
    }
    assert (
        "AwsSolutions-SMG4",
        "peoplebooster-production-monitoring/SlackActions/SigningSecret/Resource",
    ) in acknowledged


def test_the_role_may_read_its_secret_and_invoke_the_router_only(staging: Synthesized) -> None:
    _, props = _function(staging, "slack_actions")
    router_id, _ = _function(staging, "alert_router")
    role_id = props["Role"]["Fn::GetAtt"][0]
    statements = [
        statement
        for policy in staging.resources("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    invoke = [s for s in statements if "lambda:" in json.dumps(s["Action"])]
    # the unqualified ARN only: not `<arn>:*` (every version and alias), which Function.grant_invoke would add
    assert invoke == [
        {"Action": "lambda:InvokeFunction", "Effect": "Allow", "Resource": {"Fn::GetAtt": [router_id, "Arn"]}}
    ]
    secrets = [s for s in statements if "secretsmanager:" in json.dumps(s["Action"])]
    assert len(secrets) == 1
    assert "SlackActionsSigningSecret" in json.dumps(secrets[0]["Resource"])
    actions = {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert not ({"sns:Publish", "dynamodb:PutItem"} & actions)


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_a_wrong_signing_secret_raises_an_alarm_on_the_metric_the_handler_emits(
    synthesized: dict[str, Synthesized],
    environment: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given the deployed endpoint's environment, and a click signed with a secret it does not hold
    synth = synthesized[environment]
    _, props = _function(synth, "slack_actions")
    env = props["Environment"]["Variables"]
    monkeypatch.delenv("SLACK_SIGNING_SECRET_ARN", raising=False)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "the-secret-in-secrets-manager")
    monkeypatch.setenv("ENVIRONMENT", env["ENVIRONMENT"])
    load_settings.cache_clear()
    capsys.readouterr()
    answer = handler.lambda_handler(
        signed_event({"type": "block_actions"}, secret="the-secret-slack-uses"),
        LocalLambdaContext(function_name="slack-actions"),
    )
    load_settings.cache_clear()
    assert answer["statusCode"] == 401
    # Then the alarm watches exactly that metric (namespace, name, the whole dimension set)
    [(namespace, dimensions)] = {
        (
            blob["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            tuple(sorted((k, blob[k]) for k in ("service", "environment"))),
        )
        for blob in emf_blobs(capsys.readouterr().out)
        if blob.get("SignatureMismatch") == [1.0]
    }
    alarm = synth.alarms_by_name()[f"{synth.config.prefix}-slack-actions-signature-mismatch"]
    assert (alarm["Namespace"], alarm["MetricName"]) == (env["POWERTOOLS_METRICS_NAMESPACE"], "SignatureMismatch")
    assert alarm["Namespace"] == namespace
    assert tuple(sorted((d["Name"], d["Value"]) for d in alarm["Dimensions"])) == dimensions
    assert (alarm["Statistic"], alarm["Period"], alarm["Threshold"]) == ("Sum", 300, 0)


@pytest.mark.parametrize("name", ["slack-actions-errors", "slack-actions-throttles"])
def test_a_failed_or_throttled_click_alarms_to_a_human_with_its_runbook(staging: Synthesized, name: str) -> None:
    logical_id, _ = _function(staging, "slack_actions")
    alarm = staging.alarms_by_name()[f"{staging.config.prefix}-{name}"]
    assert alarm["Namespace"] == "AWS/Lambda"
    assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": logical_id}}]
    assert alarm["AlarmActions"] == [staging.topic_ref("alerts"), staging.topic_ref("alerts-fallback")]
    metadata = parse_alarm_metadata(alarm["AlarmDescription"])
    assert metadata.runbook_url == f"{staging.config.runbook_base}/runbooks/slack-actions-failing.md"


# --- escalation ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_the_router_escalates_after_15_minutes_to_a_kms_encrypted_topic_by_default(
    synthesized: dict[str, Synthesized], environment: str
) -> None:
    synth = synthesized[environment]
    _, router = _function(synth, "alert_router")
    env = router["Environment"]["Variables"]
    assert env["ESCALATION_MINUTES"] == "15"
    assert "ESCALATION_USER_GROUP" not in env  # none configured
    (topic_id,) = [
        key
        for key, topic in synth.resources("AWS::SNS::Topic").items()
        if topic["Properties"]["TopicName"] == f"{synth.config.prefix}-alerts-escalation"
    ]
    assert env["ESCALATION_TOPIC_ARN"] == {"Ref": topic_id}
    topic = synth.raw["Resources"][topic_id]["Properties"]
    assert topic["KmsMasterKeyId"] == synth.raw["Resources"][synth.topic_ref()["Ref"]]["Properties"]["KmsMasterKeyId"]


def test_configured_emails_and_numbers_subscribe_and_the_group_is_mentioned(tmp_path: Path) -> None:
    # Given production's config with an escalation group, an email and a phone number
    raw = yaml.safe_load((CONFIG_DIR / "production.yaml").read_text())
    raw["router"]["escalation"] = {
        "after_minutes": 10,
        "user_group_id": "S0SECONDARY",
        "emails": ["secondary@peoplebooster.example.com"],
        "sms_numbers": ["+819012345678"],
    }
    (tmp_path / "production.yaml").write_text(yaml.safe_dump(raw))
    config = load_config("production", tmp_path)
    stack = MonitoringStack(App(context={"aws:cdk:bundling-stacks": []}), config=config)
    template = Template.from_stack(stack)
    # Then the topic has both subscriptions, and the router the group and the minutes
    template.has_resource_properties(
        "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "secondary@peoplebooster.example.com"}
    )
    template.has_resource_properties("AWS::SNS::Subscription", {"Protocol": "sms", "Endpoint": "+819012345678"})
    (router,) = [
        f["Properties"]["Environment"]["Variables"]
        for f in template.to_json()["Resources"].values()
        if f["Type"] == "AWS::Lambda::Function" and f["Properties"]["Handler"].startswith("lambdas.alert_router.")
    ]
    assert (router["ESCALATION_MINUTES"], router["ESCALATION_USER_GROUP"]) == ("10", "S0SECONDARY")


@pytest.mark.parametrize(
    ("escalation", "message"),
    [
        ({"user_group_id": "@secondary"}, "router.escalation.user_group_id"),
        ({"sms_numbers": ["090-1234-5678"]}, "router.escalation.sms_numbers.0"),
        ({"after_minutes": 3}, "router.escalation.after_minutes"),
        ({"after_minutes": 5}, "sweep_minutes must not exceed escalation.after_minutes"),
    ],
)
def test_escalation_config_is_validated(tmp_path: Path, escalation: dict[str, Any], message: str) -> None:
    from infra.config import ConfigError

    raw = yaml.safe_load((CONFIG_DIR / "staging.yaml").read_text())
    raw["router"]["escalation"] = escalation
    if escalation.get("after_minutes") == 5:
        raw["router"]["incidents"] = {"sweep_minutes": 6, "repeat_interval_minutes": 60}
    (tmp_path / "staging.yaml").write_text(yaml.safe_dump(raw))
    with pytest.raises(ConfigError, match=message):
        load_config("staging", tmp_path)
