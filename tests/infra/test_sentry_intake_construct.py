"""The Sentry intake in the synthesized template: Function URL, secret, least privilege, throttling, alarms, output."""

from __future__ import annotations

import json
from typing import cast

import pytest
from aws_cdk import aws_cloudwatch as cw

from lambdas.sentry_intake import handler
from lambdas.sentry_intake.settings import load_settings, settings_from_env
from lambdas.shared.alarm_metadata import parse_alarm_metadata
from lambdas.shared.local_context import LocalLambdaContext
from tests.infra.conftest import Synthesized
from tests.unit.synthetic_monitor.emf import emf_blobs
from tools.sentry_events import build_event, with_fresh_times


def _intake(synth: Synthesized) -> tuple[str, dict]:  # type: ignore[type-arg]
    [(logical_id, function)] = [
        (key, value)
        for key, value in synth.resources("AWS::Lambda::Function").items()
        if value["Properties"].get("Handler") == "lambdas.sentry_intake.handler.lambda_handler"
    ]
    return logical_id, function["Properties"]


def test_function_is_throttled_and_configured_by_names_only(staging: Synthesized) -> None:
    _, props = _intake(staging)
    assert props["ReservedConcurrentExecutions"] == 2
    env = props["Environment"]["Variables"]
    assert set(env) >= {"SENTRY_CLIENT_SECRET_ARN", "ALERT_TOPIC_ARN"}
    assert "SENTRY_CLIENT_SECRET" not in env  # the secret value is never an env var


def test_function_url_is_public_because_sentry_signs_with_hmac(staging: Synthesized) -> None:
    logical_id, _ = _intake(staging)
    staging.template.has_resource_properties(
        "AWS::Lambda::Url", {"AuthType": "NONE", "TargetFunctionArn": {"Fn::GetAtt": [logical_id, "Arn"]}}
    )
    outputs = staging.raw["Outputs"]
    assert "SentryWebhookUrl" in outputs
    assert "SentryClientSecretName" in outputs


def test_secret_exists_with_the_documented_name(staging: Synthesized) -> None:
    staging.template.has_resource_properties(
        "AWS::SecretsManager::Secret", {"Name": "peoplebooster-staging/sentry-client-secret"}
    )


def test_role_may_only_read_its_secret_and_publish_to_the_alert_topic(staging: Synthesized) -> None:
    _, props = _intake(staging)
    role_id = props["Role"]["Fn::GetAtt"][0]
    policies = [
        p["Properties"]
        for p in staging.resources("AWS::IAM::Policy").values()
        if {"Ref": role_id} in p["Properties"]["Roles"]
    ]
    statements = [s for p in policies for s in p["PolicyDocument"]["Statement"]]
    actions = {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert "sns:Publish" in actions
    assert {"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"} <= actions
    assert {"kms:Decrypt", "kms:GenerateDataKey*"} & actions  # the topic's customer-managed key
    assert not any(a.endswith(":*") or a == "*" for a in actions)
    publish = next(s for s in statements if "sns:Publish" in json.dumps(s["Action"]))
    assert "AlertTopic" in json.dumps(publish["Resource"])
    secret_read = next(s for s in statements if "secretsmanager:GetSecretValue" in json.dumps(s["Action"]))
    assert "SentryIntakeClientSecret" in json.dumps(secret_read["Resource"])


@pytest.mark.parametrize("environment", ["staging", "production"])
@pytest.mark.parametrize(
    ("name", "metric_name"), [("sentry-intake-errors", "Errors"), ("sentry-intake-throttles", "Throttles")]
)
def test_lost_sentry_alerts_raise_an_alarm_that_reaches_a_human(
    synthesized: dict[str, Synthesized], environment: str, name: str, metric_name: str
) -> None:
    # Given the synthesized template (Sentry does not retry a webhook: a failed or throttled one is lost)
    synth = synthesized[environment]
    logical_id, _ = _intake(synth)
    alarm = synth.alarms_by_name()[f"{synth.config.prefix}-{name}"]
    # Then the first error/throttle in 5 minutes alarms, on the intake function's own Lambda metric
    assert alarm["Namespace"] == "AWS/Lambda"
    assert alarm["MetricName"] == metric_name
    assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": logical_id}}]
    assert alarm["Statistic"] == "Sum"
    assert alarm["Period"] == 300
    assert alarm["Threshold"] == 0
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert (alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (1, 1)
    assert alarm["TreatMissingData"] == "notBreaching"  # no webhook, no datapoint: nothing lost
    # And it goes to the router and to the fallback topic, in case the router is what is broken
    both = [synth.topic_ref("alerts"), synth.topic_ref("alerts-fallback")]
    assert alarm["AlarmActions"] == both
    assert alarm["OKActions"] == both
    metadata = parse_alarm_metadata(alarm["AlarmDescription"])
    assert metadata.severity == "warning"
    assert metadata.category == "errors"
    assert metadata.runbook_url == f"{synth.config.runbook_base}/runbooks/sentry-intake-failing.md"


def test_intake_alarms_are_on_the_dashboard_overview(staging: Synthesized) -> None:
    # AlarmFactory.created feeds the dashboard's alarm overview: the stack must pass its factory in.
    created = staging.stack.alarm_factory.created
    names = {cast(cw.CfnAlarm, alarm.node.default_child).alarm_name for alarm in created}
    prefix = staging.config.prefix
    assert {
        f"{prefix}-sentry-intake-errors",
        f"{prefix}-sentry-intake-throttles",
        f"{prefix}-sentry-intake-signature-mismatch",
    } <= names


def _router_variables(synth: Synthesized) -> dict[str, str]:
    [variables] = [
        function["Properties"]["Environment"]["Variables"]
        for function in synth.resources("AWS::Lambda::Function").values()
        if function["Properties"].get("Handler") == "lambdas.alert_router.handler.lambda_handler"
    ]
    return dict(variables)


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_the_replay_window_is_the_routers_memory_of_deliveries(
    synthesized: dict[str, Synthesized], environment: str
) -> None:
    # Given both functions as deployed: the router remembers a Sentry body's digest for its idempotency TTL
    synth = synthesized[environment]
    _, props = _intake(synth)
    intake_env = props["Environment"]["Variables"]
    # Then the intake refuses bodies older than exactly that memory, and its own parser reads it so
    assert intake_env["MAX_BODY_AGE_SECONDS"] == _router_variables(synth)["IDEMPOTENCY_TTL_SECONDS"]
    settings = settings_from_env({key: value for key, value in intake_env.items() if isinstance(value, str)})
    assert settings.max_body_age_seconds == synth.config.router.idempotency_ttl_hours * 3600


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_a_wrong_client_secret_raises_an_alarm_on_the_metric_the_handler_emits(
    synthesized: dict[str, Synthesized],
    environment: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given the deployed intake's environment, and a Sentry webhook signed with a secret it does not hold
    synth = synthesized[environment]
    _, props = _intake(synth)
    intake_env = props["Environment"]["Variables"]
    monkeypatch.delenv("SENTRY_CLIENT_SECRET_ARN", raising=False)
    monkeypatch.delenv("ALERT_TOPIC_ARN", raising=False)
    monkeypatch.setenv("SENTRY_CLIENT_SECRET", "the-secret-in-secrets-manager")
    monkeypatch.setenv("ENVIRONMENT", intake_env["ENVIRONMENT"])
    load_settings.cache_clear()
    capsys.readouterr()
    result = handler.lambda_handler(
        with_fresh_times(build_event("issue_created.json", secret="the-secret-sentry-uses")),
        LocalLambdaContext(function_name="sentry-intake"),
    )
    load_settings.cache_clear()
    assert result["statusCode"] == 401
    # Then the alarm watches exactly the metric the handler wrote: CloudWatch matches an alarm to a metric by
    # namespace, name and the complete dimension set (https://docs.aws.amazon.com/AmazonCloudWatch/latest/
    # monitoring/cloudwatch_concepts.html#Dimension: "the dimension combination you specified")
    [(namespace, dimensions)] = {
        (
            blob["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            tuple(sorted((k, blob[k]) for k in ("service", "environment"))),
        )
        for blob in emf_blobs(capsys.readouterr().out)
        if blob.get("SignatureMismatch") == [1.0]
    }
    alarm = synth.alarms_by_name()[f"{synth.config.prefix}-sentry-intake-signature-mismatch"]
    assert (alarm["Namespace"], alarm["MetricName"]) == (
        intake_env["POWERTOOLS_METRICS_NAMESPACE"],
        "SignatureMismatch",
    )
    assert alarm["Namespace"] == namespace  # the handler's default namespace is what the template sets
    assert tuple(sorted((d["Name"], d["Value"]) for d in alarm["Dimensions"])) == dimensions
    assert (alarm["Statistic"], alarm["Period"], alarm["Threshold"]) == ("Sum", 300, 0)
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["TreatMissingData"] == "notBreaching"
    both = [synth.topic_ref("alerts"), synth.topic_ref("alerts-fallback")]
    assert alarm["AlarmActions"] == both
    metadata = parse_alarm_metadata(alarm["AlarmDescription"])
    assert (metadata.severity, metadata.category) == ("warning", "errors")
    assert metadata.runbook_url == f"{synth.config.runbook_base}/runbooks/sentry-intake-failing.md"
