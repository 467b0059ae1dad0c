"""The alert router's infrastructure, read from the synthesized templates, and its metric contract."""

from __future__ import annotations

import copy
import importlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lambdas.alert_router.delivery.idempotency import Claim
from lambdas.alert_router.enrichment import defaults as enrichment_defaults
from lambdas.alert_router.incidents import defaults as incident_defaults
from lambdas.alert_router.incidents.store import InMemoryIncidentStore
from lambdas.alert_router.settings import load_settings
from lambdas.shared import synthetic_results
from lambdas.shared.alarm_metadata import parse_alarm_metadata
from lambdas.shared.local_context import LocalLambdaContext
from lambdas.shared.slack_actions import action_event
from lambdas.slack_actions.interaction import read_interaction
from tests.clock import FakeClock
from tests.emf import emf_series
from tests.infra.conftest import Synthesized, resolve_join
from tools.demo import lambda_environment
from tools.local_slack import LocalSlack, LocalSlackApi
from tools.local_sqs import LocalQueue
from tools.slack_interactions import click, form_body
from tools.storm import storm_events

EVENTS_DIR = Path(__file__).resolve().parents[2] / "events" / "alert_router"
ROUTER_NAMESPACE = "PeopleBooster/AlertRouter"
ROUTER_HANDLER = "lambdas.alert_router.handler.lambda_handler"
POWERTOOLS_IDEMPOTENCY_ACTIONS = ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
SECRET_READ_ACTIONS = ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"]
SLACK_SECRET_PATTERN = re.compile(r"hooks\.slack\.com|xox[abprs]-", re.IGNORECASE)


def _one(synth: Synthesized, resource_type: str, **properties: Any) -> tuple[str, dict[str, Any]]:
    matches = [
        (logical_id, resource["Properties"])
        for logical_id, resource in synth.resources(resource_type).items()
        if all(resource["Properties"].get(key) == value for key, value in properties.items())
    ]
    assert len(matches) == 1, (resource_type, properties, [m[0] for m in matches])
    return matches[0]


def _router(synth: Synthesized) -> tuple[str, dict[str, Any]]:
    return _one(synth, "AWS::Lambda::Function", Handler=ROUTER_HANDLER)


def _queue_id(synth: Synthesized) -> str:
    logical_id, _ = _one(synth, "AWS::SQS::Queue", QueueName=f"{synth.config.prefix}-alert-router-dlq")
    return logical_id


def _secret_id(synth: Synthesized) -> str:
    logical_id, _ = _one(synth, "AWS::SecretsManager::Secret", Name=f"{synth.config.prefix}/slack-webhooks")
    return logical_id


def _table_id(synth: Synthesized, partition_key: str = "id") -> str:
    """The router's idempotency table (partition key `id`) or its incident table (`pk`)."""
    (logical_id,) = [
        logical_id
        for logical_id, table in synth.resources("AWS::DynamoDB::Table").items()
        if logical_id.startswith("AlertRouter")
        and table["Properties"]["KeySchema"] == [{"AttributeName": partition_key, "KeyType": "HASH"}]
    ]
    return logical_id


# --- the function ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_function_runtime_handler_concurrency_and_environment(
    synthesized: dict[str, Synthesized], environment: str
) -> None:
    # Given the synthesized environment and its config
    synth = synthesized[environment]
    config = synth.config
    # When the router function is read
    _, function = _router(synth)
    # Then it is the project's standard Lambda with the router's own settings
    assert function["FunctionName"] == f"{config.prefix}-alert-router"
    assert function["Runtime"] == "python3.13"
    assert function["Architectures"] == ["arm64"]
    assert function["MemorySize"] == 256
    assert function["Timeout"] == config.router.timeout_seconds
    assert function["ReservedConcurrentExecutions"] == config.router.reserved_concurrency
    assert function["TracingConfig"] == {"Mode": "Active"}
    variables = function["Environment"]["Variables"]
    assert variables["ENVIRONMENT"] == environment
    assert variables["DISPLAY_TIME_ZONE"] == "Asia/Tokyo"
    assert variables["DASHBOARD_NAME"] == f"{config.prefix}-service"
    assert variables["IDEMPOTENCY_TTL_SECONDS"] == str(config.router.idempotency_ttl_hours * 3600)
    assert json.loads(variables["ROUTING_OVERRIDES"]) == [
        override.model_dump(exclude_none=True) for override in config.router.overrides
    ]
    assert json.loads(variables["CHANNELS"]) == {
        "critical": "alerts-critical",
        "errors": "alerts-errors",
        "performance": "alerts-performance",
    }
    assert variables["SYNTHETICS_NAMESPACE"] == "PeopleBooster/Synthetics"
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == ROUTER_NAMESPACE
    assert variables["POWERTOOLS_SERVICE_NAME"] == "alert-router"
    # And the secret and the table are passed by reference, never by value
    assert variables["SLACK_WEBHOOK_SECRET_ARN"] == {"Ref": _secret_id(synth)}
    assert variables["IDEMPOTENCY_TABLE_NAME"] == {"Ref": _table_id(synth)}
    assert not [name for name, value in variables.items() if SLACK_SECRET_PATTERN.search(json.dumps(value))]


def test_router_settings_accept_the_synthesized_environment(synthesized: dict[str, Synthesized]) -> None:
    from lambdas.alert_router.settings import settings_from_env

    for synth in synthesized.values():
        # Given the plain-string environment of the deployed function
        _, function = _router(synth)
        variables = {k: v for k, v in function["Environment"]["Variables"].items() if isinstance(v, str)}
        # When the router parses it, then it is valid and means what the config says
        settings = settings_from_env(variables)
        assert settings.environment == synth.config.environment
        assert settings.dashboard_name == f"{synth.config.prefix}-service"
        assert settings.idempotency_ttl_seconds == synth.config.router.idempotency_ttl_hours * 3600
        assert len(settings.routing.overrides) == len(synth.config.router.overrides)


def test_no_template_contains_a_webhook_url_or_token(synthesized: dict[str, Synthesized]) -> None:
    for synth in synthesized.values():
        text = synth.template_path.read_text()
        assert not SLACK_SECRET_PATTERN.search(text), synth.config.environment


# --- the secret -----------------------------------------------------------------------------------------------


def test_secret_has_no_value_in_the_template_and_is_kept_in_production(
    synthesized: dict[str, Synthesized],
) -> None:
    for environment, policy in (("staging", "Delete"), ("production", "RetainExceptOnCreate")):
        synth = synthesized[environment]
        resource = synth.raw["Resources"][_secret_id(synth)]
        properties = resource["Properties"]
        # Then the stack creates it with a generated placeholder only; the operator writes the URLs
        assert "SecretString" not in properties
        assert properties["GenerateSecretString"] == {}
        assert resource["DeletionPolicy"] == policy
        assert resource["UpdateReplacePolicy"] == ("Delete" if policy == "Delete" else "Retain")
        # And the outputs tell the operator where to put them
        outputs = synth.raw["Outputs"]
        assert outputs["SlackWebhookSecretName"]["Value"] == f"{synth.config.prefix}/slack-webhooks"
        assert outputs["SlackWebhookSecretArn"]["Value"] == {"Ref": _secret_id(synth)}


# --- delivery path: subscription, async retries, dead letters ------------------------------------------------


def _intake_id(synth: Synthesized) -> str:
    logical_id, _ = _one(synth, "AWS::SQS::Queue", QueueName=f"{synth.config.prefix}-alert-router-intake")
    return logical_id


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_the_alert_topic_feeds_the_intake_queue_which_redrives_to_the_dlq(
    synthesized: dict[str, Synthesized], environment: str
) -> None:
    synth = synthesized[environment]
    router_id, function = _router(synth)
    intake = _intake_id(synth)
    # The alert topic's one subscription to the router is its queue, with SNS's own redrive to the DLQ
    (subscription,) = [
        s["Properties"]
        for s in synth.resources("AWS::SNS::Subscription").values()
        if s["Properties"]["TopicArn"] == synth.topic_ref("alerts")
    ]
    assert subscription["Protocol"] == "sqs"
    assert subscription["Endpoint"] == {"Fn::GetAtt": [intake, "Arn"]}
    assert "RawMessageDelivery" not in subscription  # SNS envelopes: the SNS MessageId is the idempotency key
    assert subscription["RedrivePolicy"] == {"deadLetterTargetArn": {"Fn::GetAtt": [_queue_id(synth), "Arn"]}}
    # And nothing invokes the router from SNS any more
    assert not [
        p
        for p in synth.resources("AWS::Lambda::Permission").values()
        if p["Properties"]["Principal"] == "sns.amazonaws.com"
    ]
    # The queue: its own KMS key, max receives and the visibility AWS recommends for an event source
    # (at least six times the function's timeout; plus the batching window)
    queue = synth.raw["Resources"][intake]["Properties"]
    router = synth.config.router
    assert queue["KmsMasterKeyId"] == {"Fn::GetAtt": [queue["KmsMasterKeyId"]["Fn::GetAtt"][0], "Arn"]}
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [_queue_id(synth), "Arn"]},
        "maxReceiveCount": router.intake.max_receive_count,
    }
    assert queue["VisibilityTimeout"] >= 6 * function["Timeout"] + router.grouping.wait_seconds
    assert (
        queue["MessageRetentionPeriod"]
        < synth.raw["Resources"][_queue_id(synth)]["Properties"]["MessageRetentionPeriod"]
    )
    # The event source mapping: the batching window, batch size, concurrency and partial batch responses
    _, mapping = _one(synth, "AWS::Lambda::EventSourceMapping", FunctionName={"Ref": router_id})
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": [intake, "Arn"]}
    assert mapping["MaximumBatchingWindowInSeconds"] == router.grouping.wait_seconds
    assert mapping["BatchSize"] == router.intake.batch_size
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": router.intake.max_concurrency}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_asynchronous_invocations_are_retried_then_kept_in_the_dead_letter_queue(staging: Synthesized) -> None:
    # The sweep's schedule and the Slack buttons' clicks invoke the router asynchronously (alerts come from the
    # intake queue, whose redrive keeps them): a failed click is retried twice, then recorded in the DLQ
    router_id, _ = _router(staging)
    _, invoke_config = _one(staging, "AWS::Lambda::EventInvokeConfig", FunctionName={"Ref": router_id})
    assert invoke_config["MaximumRetryAttempts"] == 2
    assert invoke_config["MaximumEventAgeInSeconds"] == 60 * staging.config.router.incidents.sweep_minutes
    destination = invoke_config["DestinationConfig"]["OnFailure"]["Destination"]
    assert destination == {"Fn::GetAtt": [_queue_id(staging), "Arn"]}


def test_dead_letter_queue_is_encrypted_ssl_only_and_keeps_two_weeks(staging: Synthesized) -> None:
    queue_id = _queue_id(staging)
    queue = staging.raw["Resources"][queue_id]["Properties"]
    assert queue["SqsManagedSseEnabled"] is True
    assert queue["MessageRetentionPeriod"] == 14 * 24 * 3600
    (policy,) = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in staging.resources("AWS::SQS::QueuePolicy").values()
        if p["Properties"]["Queues"] == [{"Ref": queue_id}]
    ]
    deny = [s for s in policy if s["Effect"] == "Deny"]
    assert deny == [
        {
            "Action": "sqs:*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Resource": {"Fn::GetAtt": [queue_id, "Arn"]},
        }
    ]
    # And only the alert topic's SNS may write dead letters into it from outside the account's role
    (allow,) = [s for s in policy if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "sns.amazonaws.com"}
    assert allow["Condition"] == {"ArnEquals": {"aws:SourceArn": staging.topic_ref("alerts")}}


# --- idempotency table ----------------------------------------------------------------------------------------


def test_idempotency_table_key_ttl_pitr_and_encryption(staging: Synthesized) -> None:
    table = staging.raw["Resources"][_table_id(staging)]["Properties"]
    assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert table["AttributeDefinitions"] == [{"AttributeName": "id", "AttributeType": "S"}]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["SSESpecification"] == {"SSEEnabled": True}


# --- IAM ------------------------------------------------------------------------------------------------------


def test_role_grants_exactly_what_the_router_does(synthesized: dict[str, Synthesized]) -> None:
    for synth in synthesized.values():
        _, function = _router(synth)
        role_id = function["Role"]["Fn::GetAtt"][0]
        # Given every policy attached to the router's role (inline or managed)
        assert "ManagedPolicyArns" not in synth.raw["Resources"][role_id]["Properties"]
        statements = [
            statement
            for policy in synth.resources("AWS::IAM::Policy").values()
            if {"Ref": role_id} in policy["Properties"]["Roles"]
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        ]
        grants: dict[str, list[str]] = {}
        for statement in statements:  # one entry per resource, whichever policies and statements grant it
            for resource in (
                statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            ):
                grants.setdefault(json.dumps(resource, sort_keys=True), []).extend(_list(statement["Action"]))
        grants = {resource: sorted(actions) for resource, actions in grants.items()}
        # Then each resource gets exactly its actions, and '*' only for X-Ray and the actions without a resource type
        assert all(s["Effect"] == "Allow" and "Condition" not in s for s in statements)
        table_arn = json.dumps({"Fn::GetAtt": [_table_id(synth), "Arn"]}, sort_keys=True)
        incident_arn = {"Fn::GetAtt": [_table_id(synth, "pk"), "Arn"]}
        sweep_index = json.dumps({"Fn::Join": ["", [incident_arn, "/index/sweep"]]}, sort_keys=True)
        secret_arn = json.dumps({"Ref": _secret_id(synth)}, sort_keys=True)
        intake_arn = json.dumps({"Fn::GetAtt": [_intake_id(synth), "Arn"]}, sort_keys=True)
        intake_key = synth.raw["Resources"][_intake_id(synth)]["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"][0]
        key_arn = json.dumps({"Fn::GetAtt": [intake_key, "Arn"]}, sort_keys=True)
        log_group = json.dumps({"Fn::GetAtt": [function["LoggingConfig"]["LogGroup"]["Ref"], "Arn"]}, sort_keys=True)
        (topic_id,) = [
            i
            for i, t in synth.resources("AWS::SNS::Topic").items()
            if t["Properties"]["TopicName"].endswith("-escalation")
        ]
        escalation_topic = json.dumps({"Ref": topic_id}, sort_keys=True)
        (topic_key_id,) = synth.resources("AWS::KMS::Key").keys() - {_logs_key(synth), intake_key}
        topic_key = json.dumps({"Fn::GetAtt": [topic_key_id, "Arn"]}, sort_keys=True)
        dead_letters = json.dumps({"Fn::GetAtt": [_queue_id(synth), "Arn"]}, sort_keys=True)
        assert grants == {
            table_arn: POWERTOOLS_IDEMPOTENCY_ACTIONS,
            # incident_store.DynamoDBIncidentStore: get_item, conditional put_item, query on the sweep index
            json.dumps(incident_arn, sort_keys=True): ["dynamodb:GetItem", "dynamodb:PutItem"],
            sweep_index: ["dynamodb:Query"],
            secret_arn: SECRET_READ_ACTIONS,
            # the event source mapping polls with the function's role (Lambda's SQS permissions)
            intake_arn: [
                "sqs:ChangeMessageVisibility",
                "sqs:DeleteMessage",
                "sqs:GetQueueAttributes",
                "sqs:GetQueueUrl",
                "sqs:ReceiveMessage",
            ],
            key_arn: ["kms:Decrypt"],
            # the on-failure destination of its asynchronous invocations (the sweep, the Slack buttons' clicks)
            dead_letters: ["sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:SendMessage"],
            log_group: ["logs:CreateLogStream", "logs:PutLogEvents"],
            # enrichment (issue 13): the monitor's results, the error log's top errors, the metric graph
            json.dumps({"Fn::GetAtt": [_results_table_id(synth), "Arn"]}, sort_keys=True): ["dynamodb:Query"],
            json.dumps({"Fn::GetAtt": [_error_log_group_id(synth), "Arn"]}, sort_keys=True): ["logs:StartQuery"],
            '"*"': [
                "cloudwatch:GetMetricWidgetImage",
                "logs:GetQueryResults",
                "logs:StopQuery",
                "xray:PutTelemetryRecords",
                "xray:PutTraceSegments",
            ],
            # the escalation topic (issue 14): publish, with its KMS key
            escalation_topic: ["sns:Publish"],
            topic_key: ["kms:Decrypt", "kms:GenerateDataKey*"],
        }, synth.config.environment


def _logs_key(synth: Synthesized) -> str:
    (logical_id,) = [
        i for i, k in synth.resources("AWS::KMS::Key").items() if "log groups" in k["Properties"]["Description"]
    ]
    return logical_id


def _results_table_id(synth: Synthesized) -> str:
    (logical_id,) = [lid for lid in synth.resources("AWS::DynamoDB::Table") if lid.startswith("SyntheticsResults")]
    return logical_id


def _error_log_group_id(synth: Synthesized) -> str:
    (logical_id,) = [
        lid
        for lid, group in synth.resources("AWS::Logs::LogGroup").items()
        if group["Properties"].get("LogGroupName") == f"/aws/ecs/{synth.config.environment}/error"
    ]
    return logical_id


def _list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


# --- alarms ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_router_alarms_reach_both_topics(synthesized: dict[str, Synthesized], environment: str) -> None:
    synth = synthesized[environment]
    alarms = synth.alarms_by_name()
    both = [synth.topic_ref("alerts"), synth.topic_ref("alerts-fallback")]
    router_id, _ = _router(synth)
    # name, namespace, metric, dimensions, statistic, period, threshold, severity, runbook
    expected = [
        ("router-dead-letter-waiting", "AWS/SQS", "ApproximateAgeOfOldestMessage",
         [{"Name": "QueueName", "Value": {"Fn::GetAtt": [_queue_id(synth), "QueueName"]}}],
         "Maximum", 300, "critical", "router-dead-letter-queue"),
        ("router-errors", "AWS/Lambda", "Errors",
         [{"Name": "FunctionName", "Value": {"Ref": router_id}}],
         "Sum", 300, "warning", "router-errors"),
    ]  # fmt: skip
    for name, namespace, metric, dimensions, statistic, period, severity, runbook in expected:
        alarm = alarms[f"{synth.config.prefix}-{name}"]
        assert alarm["Namespace"] == namespace
        assert alarm["MetricName"] == metric
        assert alarm["Dimensions"] == dimensions
        assert alarm["Statistic"] == statistic
        assert alarm["Period"] == period
        assert alarm["EvaluationPeriods"] == 1
        assert alarm["DatapointsToAlarm"] == 1
        assert alarm["Threshold"] == (3600 if name == "router-dead-letter-waiting" else 0)
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
        assert alarm["TreatMissingData"] == "notBreaching"
        # And both the Slack path and the path around the router get ALARM and OK
        assert alarm["AlarmActions"] == both
        assert alarm["OKActions"] == both
        metadata = parse_alarm_metadata(alarm["AlarmDescription"])
        assert metadata.severity == severity
        assert metadata.category == "errors"
        assert metadata.runbook_url == f"{synth.config.runbook_base}/runbooks/{runbook}.md"


def test_fallback_topic_mails_a_human_in_production(production: Synthesized) -> None:
    _one(
        production,
        "AWS::SNS::Subscription",
        Protocol="email",
        Endpoint="sre-oncall@peoplebooster.example.com",
        TopicArn=production.topic_ref("alerts-fallback"),
    )


# --- dashboard ------------------------------------------------------------------------------------------------


def _dashboard_widgets(synth: Synthesized) -> list[dict[str, Any]]:
    (dashboard,) = synth.resources("AWS::CloudWatch::Dashboard").values()
    body = json.loads(resolve_join(dashboard["Properties"]["DashboardBody"]))
    widgets: list[dict[str, Any]] = body["widgets"]
    return widgets


def _router_row(synth: Synthesized) -> list[dict[str, Any]]:
    widgets = _dashboard_widgets(synth)
    start = next(i for i, w in enumerate(widgets) if w["properties"].get("markdown") == "## Alert router")
    row = []
    for widget in widgets[start + 1 :]:
        if widget["type"] == "text":
            break
        row.append(widget)
    return row


def test_dashboard_row_shows_invocations_deliveries_failures_and_dlq(staging: Synthesized) -> None:
    row = _router_row(staging)
    titles = [w["properties"]["title"] for w in row]
    assert titles == [
        "Router invocations / errors / throttles",
        "Alerts received / delivered (channel, severity)",
        "Router retries / failures / unparsed / suppressed / grouped",
        "Router fallbacks (parse, render, idempotency, plain text)",
        "Router intake queue / dead letters (messages)",
    ]
    lambda_metrics = [m[1] for m in row[0]["properties"]["metrics"]]
    assert lambda_metrics == ["Invocations", "Errors", "Throttles"]
    # The invocations graph carries its alarm's threshold line
    assert row[0]["properties"]["annotations"]["horizontal"][0]["value"] == 0
    queues = [m[1:4] for m in row[4]["properties"]["metrics"]]
    assert [q[0] for q in queues] == ["ApproximateNumberOfMessagesVisible"] * 2


# --- the handler's EMF matches what the template watches ------------------------------------------------------


@pytest.fixture
def deployed_router(staging: Synthesized, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, LocalSlack]]:
    """The real handler module, imported with the function's plain-string env from the template and a local Slack."""
    env = lambda_environment(staging.raw, "lambdas.alert_router")
    with LocalSlack() as slack:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("SLACK_WEBHOOK_URLS", slack.webhook_urls())
        monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "WARNING")
        for name in ("SLACK_WEBHOOK_SECRET_ARN", "IDEMPOTENCY_TABLE_NAME", "SENTRY_DSN"):
            monkeypatch.delenv(name, raising=False)
        load_settings.cache_clear()
        importlib.reload(importlib.import_module("lambdas.alert_router.telemetry"))  # the namespace is read at import
        module = importlib.reload(importlib.import_module("lambdas.alert_router.handler"))
        yield module, slack
    # Leave the module as other tests import it: built from their environment, not this one.
    monkeypatch.undo()
    load_settings.cache_clear()
    importlib.reload(importlib.import_module("lambdas.alert_router.telemetry"))
    importlib.reload(module)


def _event(name: str, **message_changes: Any) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS_DIR / name).read_text())
    if message_changes:
        event = copy.deepcopy(event)
        for record in event["Records"]:
            message = json.loads(record["Sns"]["Message"])
            message.update(message_changes)
            record["Sns"]["Message"] = json.dumps(message)
            record["Sns"]["MessageId"] = f"{record['Sns']['MessageId']}-changed"
    return event


class _NoCloudWatch:
    def get_metric_widget_image(self, **_: Any) -> Any:
        raise ConnectionError("CloudWatch is unreachable")


def _emit_every_fallback(module: Any, slack: LocalSlack, context: Any, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Drive the handler through each fallback it has; the metric names it writes are read back from EMF."""
    with monkeypatch.context() as patch:  # ParseFailures: a parser bug, routed by the Severity line instead

        def broken_parser(*_args: Any, **_kwargs: Any) -> Any:
            raise KeyError("a parser bug")

        intake = importlib.import_module("lambdas.alert_router.intake.events")
        patch.setattr(intake, "parse_cloudwatch_alarm", broken_parser)
        module.lambda_handler(_event("sns_composite_alarm.json"), context)

    class Unavailable:  # IdempotencyDegraded: the store fails, the message is delivered without it
        def claim(self, key: str) -> Claim:
            return Claim(key, degraded="ResourceNotFoundException: no table")

        def complete(self, claim: Claim, result: Any) -> str | None:
            return None

        def release(self, claim: Claim) -> str | None:
            return None

    module.lambda_handler(_event("sns_anomaly_detection_alarm.json"), context, deduplicator=Unavailable())
    slack.fail("alerts-performance", status=400, body="invalid_blocks")  # PlainTextFallbacks
    module.lambda_handler(_event("sns_japanese_description.json"), context)
    with monkeypatch.context() as patch:  # EnrichmentFailures: the monitor's results cannot be read

        def unreadable() -> Any:
            raise ConnectionError("the results table is unreachable")

        patch.setattr(synthetic_results.PROCESS_RESULTS, "latest", unreadable)
        module.lambda_handler(_event("sns_synthetic_live_check_failing.json", OldStateValue="OK"), context)
    return ["ParseFailures", "RenderFailures", "IdempotencyDegraded", "PlainTextFallbacks", "EnrichmentFailures"]


def _alarm(message_id: str) -> dict[str, Any]:
    """The critical metric-math alarm's ALARM under its own MessageId (the process's idempotency remembers ids)."""
    event = _event("sns_metric_math_alarm.json")
    event["Records"][0]["Sns"]["MessageId"] = message_id
    return event


def _emit_every_bot_fallback(module: Any, api: LocalSlackApi, context: Any, patch: pytest.MonkeyPatch) -> list[str]:
    """Bot-token mode's fallbacks of acting from Slack (issue 14): the history write, the private answer to a
    click, the escalation page."""

    class NoHistory(InMemoryIncidentStore):
        def put_history(self, entry: Any) -> None:
            raise RuntimeError("ProvisionedThroughputExceededException")

    class NoTopic:
        def page(self, subject: str, messages: Any) -> str:
            raise RuntimeError("NotFound: Topic does not exist")

    opened = 1_795_922_055.0  # the fixture's StateChangeTime, 2026-11-29 03:14:15 UTC
    clock = FakeClock(opened + 60, advances=False)
    store = NoHistory()
    module.lambda_handler(_alarm("issue-14-a"), context, store=store, now=clock)  # HistoryWriteFailures, posted
    post = api.posts("C0CRITICAL")[-1]
    # AnswerFallbacks: a second click on Acknowledge, whose private answer Slack refuses
    for user, action_ts in (("U0ALICE", "1.1"), ("U0BOB", "1.2")):
        payload = click(post, "Acknowledge", response_url=api.response_url(), user_id=user, action_ts=action_ts)
        (action,) = read_interaction(form_body(payload)).actions
        if user == "U0BOB":
            api.fail("response_url", status=404, error="expired_url")
        module.lambda_handler(action_event(action), context, store=store, now=clock)
    # EscalationPageFailures: an unacknowledged incident escalated after 15 minutes, its topic unreachable
    patch.setenv("ESCALATION_TOPIC_ARN", "arn:aws:sns:ap-northeast-1:123456789012:nowhere")
    patch.setattr(incident_defaults, "default_pager", lambda settings: NoTopic())
    load_settings.cache_clear()
    unacknowledged = InMemoryIncidentStore()
    module.lambda_handler(_alarm("issue-14-b"), context, store=unacknowledged, now=clock)
    clock.now = opened + 20 * 60
    assert module.lambda_handler({"action": "sweep"}, context, store=unacknowledged, now=clock)["outcomes"] == {
        "escalated": 1
    }
    return ["HistoryWriteFailures", "AnswerFallbacks", "EscalationPageFailures"]


def test_handler_emf_matches_the_dashboard_and_alarms(
    staging: Synthesized,
    deployed_router: tuple[Any, LocalSlack],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    module, slack = deployed_router
    context = LocalLambdaContext(function_name="alert-router", timeout_seconds=60)
    # Given events that make the router emit every metric it has
    module.lambda_handler(_event("sns_plain_text.json"), context)  # Received, Unparsed, Delivered
    module.lambda_handler(_event("sns_metric_alarm_ecs_cpu.json"), context)  # Delivered, Retries
    module.lambda_handler(_event("sns_metric_alarm_ecs_cpu.json"), context)  # Duplicates
    module.lambda_handler(_event("sqs_database_fault.json"), context)  # Grouped
    storm = LocalQueue()  # DigestMessages
    for event in storm_events(60):  # 36 alarms for #alerts-critical: more than the threshold of 20
        storm.send_sns(event)
    storm.deliver(lambda event: module.lambda_handler(event, context))
    module.lambda_handler(  # Suppressed: data arriving right after a deploy
        _event(
            "sns_ok_recovery.json",
            OldStateValue="INSUFFICIENT_DATA",
            AlarmConfigurationUpdatedTimestamp="2026-11-29T03:40:00.000+0000",
        ),
        context,
    )
    slack.fail("alerts-critical", status=404, body="no_service", times=1)
    with pytest.raises(Exception, match="not delivered"):
        module.lambda_handler(_event("sns_synthetic_live_check_failing.json"), context)  # DeliveryFailures
    with monkeypatch.context() as patch:  # RenderFailures: a rendering bug, posted as received instead

        def broken_render(*_args: Any) -> Any:
            raise ValueError("a rendering bug")

        patch.setattr(module, "render", broken_render)
        module.lambda_handler(_event("sns_percentile_alarm_alb_latency_p95.json"), context)
    fallbacks = _emit_every_fallback(module, slack, context, monkeypatch)
    with LocalSlackApi() as api, monkeypatch.context() as patch:  # SweepFailures: a sweep in bot-token mode
        patch.setenv("SLACK_BOT_TOKEN", api.token)
        patch.setenv("SLACK_CHANNEL_IDS", api.channel_ids_json())
        patch.setenv("SLACK_API_BASE_URL", api.base_url)
        load_settings.cache_clear()
        sweep = json.loads((EVENTS_DIR / "scheduled" / "sweep.json").read_text())
        assert module.lambda_handler(sweep, context)["sweep"] == "done"
        # GraphFailures: CloudWatch cannot draw the new incident's graph (the thread gets the console link)
        patch.setenv("GRAPH_REGION", "ap-northeast-1")
        load_settings.cache_clear()
        patch.setattr(enrichment_defaults, "sdk_client", lambda *_: _NoCloudWatch())
        # UpdateFailures: the recovery's chat.update of an incident fails
        module.lambda_handler(_event("sns_metric_math_alarm.json"), context)
        api.fail("chat.update", error="cant_update_message")
        module.lambda_handler(_event("sns_metric_math_alarm.json", NewStateValue="OK", OldStateValue="ALARM"), context)
        fallbacks += _emit_every_bot_fallback(module, api, context, patch)
    load_settings.cache_clear()
    emitted = emf_series(capsys.readouterr().out)
    counts = {("environment", "staging"), ("service", "alert-router")}
    for name in ("Received", "Unparsed", "Duplicates", "Suppressed", "Retries", "DeliveryFailures", "RenderFailures"):
        assert emitted[name] == {(ROUTER_NAMESPACE, tuple(sorted(counts)))}, name
    assert {dims for _, dims in emitted["Delivered"]} >= {
        tuple(sorted({*counts, ("channel", "alerts-errors"), ("severity", "info")})),
        tuple(sorted({*counts, ("channel", "alerts-performance"), ("severity", "warning")})),
    }

    # Then every router metric the dashboard draws is one the handler writes, with the same dimensions
    watched = 0
    for widget in _router_row(staging):
        for metric in widget["properties"].get("metrics", []):
            first = metric[0]
            if isinstance(first, dict):  # the SEARCH expression over Delivered
                search = re.fullmatch(r"SEARCH\('\{([^}]*)\} (.*)', 'Sum', 300\)", first["expression"])
                assert search, first["expression"]
                namespace, *dimension_names = search.group(1).split(",")
                filters = dict(re.findall(r'(\w+)="([^"]*)"', search.group(2)))
                assert filters.pop("MetricName") == "Delivered"
                for emitted_namespace, dims in emitted["Delivered"]:
                    assert namespace == emitted_namespace
                    assert sorted(dimension_names) == sorted(name for name, _ in dims)
                    assert set(filters.items()) <= set(dims)
                watched += 1
            elif first == ROUTER_NAMESPACE:
                name, pairs = metric[1], metric[2:-1] if isinstance(metric[-1], dict) else metric[2:]
                dims = tuple(sorted(zip(pairs[::2], pairs[1::2], strict=True)))
                assert emitted[name] == {(ROUTER_NAMESPACE, dims)}, name
                watched += 1
    assert watched == 13  # Delivered (a SEARCH), Received and the 11 counters and fallbacks of the router's row
    # And every alarm on a router metric watches exactly what the handler writes (a different name or
    # dimension set would be a different CloudWatch metric: an alarm that never sees a datapoint)
    router_alarms = {
        name: alarm for name, alarm in staging.alarms_by_name().items() if alarm.get("Namespace") == ROUTER_NAMESPACE
    }
    for alarm_name, alarm in router_alarms.items():
        dims = tuple(sorted((d["Name"], d["Value"]) for d in alarm["Dimensions"]))
        assert (ROUTER_NAMESPACE, dims) in emitted[alarm["MetricName"]], alarm_name
    # And each fallback the handler took has an alarm, to both topics (the router itself may be broken)
    alarmed = {alarm["MetricName"]: alarm for alarm in router_alarms.values()}
    both = [staging.topic_ref("alerts"), staging.topic_ref("alerts-fallback")]
    for metric in (*fallbacks, "UpdateFailures", "GraphFailures"):
        assert metric in emitted, f"the handler did not write {metric}"
        assert metric in alarmed, f"no alarm on {metric}"
        assert alarmed[metric]["AlarmActions"] == both, metric
        assert parse_alarm_metadata(alarmed[metric]["AlarmDescription"]).severity == "warning", metric
