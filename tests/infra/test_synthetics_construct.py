"""The synthetic monitor's construct: function, schedule, alarms field by field, and the alarms against the EMF
the real handler prints (the classic silent bug: an alarm on a metric or dimension set nobody writes)."""

from __future__ import annotations

import io
import json
import ssl
from collections.abc import Iterator
from contextlib import redirect_stdout
from typing import Any, cast

import pytest
from aws_cdk import App, Validations
from aws_cdk.assertions import Template
from aws_lambda_powertools.utilities.typing import LambdaContext
from cdk_nag import AwsSolutionsChecks

from infra.config import VpcConfig
from infra.stack import MonitoringStack
from lambdas.shared.alarm_metadata import parse_alarm_metadata
from lambdas.shared.local_context import LocalLambdaContext
from lambdas.synthetic_monitor import metric_names as names
from lambdas.synthetic_monitor.handler import lambda_handler
from lambdas.synthetic_monitor.settings import load_settings
from tests.emf import emf_blobs
from tests.infra.conftest import Synthesized
from tools.health_service import HealthService
from tools.local_cloudwatch import AlarmDefinition, AlarmEvaluator, datapoints_from_emf

PREFIX = "peoplebooster-staging-"
RUNBOOKS = "https://github.com/peoplebooster/monitoring/blob/main/docs/operations/runbooks"
CHECK, DEP = names.CHECK_DIMENSIONS, names.DEPENDENCY_DIMENSIONS

# name suffix, metric, dimension values (after environment), statistic, threshold, comparison, missing data,
# datapoints to alarm (None: all of N), severity, category, runbook
STAGING_SYNTHETIC_ALARMS: list[tuple[str, str, dict[str, str], str, float, str, str, int | None, str, str, str]] = [
    ("synthetic-live-failing", "CheckSuccess", {"check": "live"}, "Minimum", 1, "LessThanThreshold",
     "breaching", None, "critical", "errors", "synthetic-liveness-failing"),
    ("synthetic-ready-failing", "CheckSuccess", {"check": "ready"}, "Minimum", 1, "LessThanThreshold",
     "breaching", None, "critical", "errors", "synthetic-readiness-failing"),
    ("synthetic-health-failing", "CheckSuccess", {"check": "health"}, "Minimum", 1, "LessThanThreshold",
     "breaching", None, "warning", "errors", "synthetic-health-degraded"),
    ("synthetic-metrics-failing", "CheckSuccess", {"check": "metrics"}, "Minimum", 1, "LessThanThreshold",
     "breaching", None, "warning", "errors", "synthetic-health-degraded"),
    ("synthetic-frontend-failing", "CheckSuccess", {"check": "frontend"}, "Minimum", 1, "LessThanThreshold",
     "breaching", None, "critical", "errors", "synthetic-frontend-failing"),
    *[
        (f"synthetic-{check}-latency-high", "CheckLatency", {"check": check}, "Maximum", budget,
         "GreaterThanOrEqualToThreshold", "notBreaching", None, "warning", "performance", "synthetic-latency-high")
        for check, budget in (("live", 1000), ("ready", 1000), ("health", 2000), ("metrics", 1000), ("frontend", 3000))
    ],
    *[
        (f"synthetic-dependency-{dependency}", "DependencyHealthy", {"dependency": dependency}, "Minimum", 1,
         "LessThanThreshold", "missing", None, "warning", "errors", "synthetic-health-degraded")
        for dependency in ("database", "redis", "openai", "stripe", "s3")
    ],
    # staging's base URL is https and every default check shares its host: one certificate alarm
    ("synthetic-live-certificate-expiring", "CertificateDaysRemaining", {"check": "live"}, "Minimum", 21,
     "LessThanThreshold", "ignore", None, "warning", "errors", "synthetic-certificate-expiring"),
    # the front end is another https host: its own certificate alarm
    ("synthetic-frontend-certificate-expiring", "CertificateDaysRemaining", {"check": "frontend"}, "Minimum", 21,
     "LessThanThreshold", "ignore", None, "warning", "errors", "synthetic-certificate-expiring"),
    # the results kept for the alert router could not be written (issue 13)
    ("synthetic-results-not-kept", "ResultsWriteFailures", {}, "Sum", 1, "GreaterThanOrEqualToThreshold",
     "notBreaching", None, "warning", "errors", "synthetic-monitor-not-running"),
]  # fmt: skip


def _monitor_function(synth: Synthesized) -> tuple[str, dict[str, Any]]:
    (found,) = [
        (logical_id, resource["Properties"])
        for logical_id, resource in synth.resources("AWS::Lambda::Function").items()
        if resource["Properties"]["Handler"] == "lambdas.synthetic_monitor.handler.lambda_handler"
    ]
    return found


def _synthetic_alarms(synth: Synthesized) -> dict[str, dict[str, Any]]:
    return {
        name: alarm
        for name, alarm in synth.alarms_by_name().items()
        if name.startswith(f"{synth.config.prefix}-synthetic-")
    }


@pytest.mark.parametrize("expected", STAGING_SYNTHETIC_ALARMS, ids=[row[0] for row in STAGING_SYNTHETIC_ALARMS])
def test_synthetic_alarm_field_by_field(staging: Synthesized, expected: tuple[Any, ...]) -> None:
    # Given the designed alarm
    (suffix, metric, dimensions, statistic, threshold, comparison, missing, datapoints,
     severity, category, runbook) = expected  # fmt: skip
    # When the staging template is read
    alarm = staging.alarms_by_name()[PREFIX + suffix]
    # Then it watches the monitor's metric with the exact dimension set the monitor writes
    assert alarm["Namespace"] == "PeopleBooster/Synthetics"
    assert alarm["MetricName"] == metric
    assert {d["Name"]: d["Value"] for d in alarm["Dimensions"]} == {"environment": "staging", **dimensions}
    assert alarm["Statistic"] == statistic
    assert "Unit" not in alarm  # a unit filter that differs from the EMF unit would match nothing
    # And it is evaluated per schedule period, M of N
    assert alarm["Period"] == staging.config.synthetics.schedule_minutes * 60
    assert alarm["EvaluationPeriods"] == staging.config.synthetics.alarm_datapoints == 3
    assert alarm["DatapointsToAlarm"] == (datapoints or 3)
    assert alarm["Threshold"] == pytest.approx(threshold)
    assert alarm["ComparisonOperator"] == comparison
    assert alarm["TreatMissingData"] == missing
    # And it reaches the alert topic with its routing metadata
    assert alarm["AlarmActions"] == [staging.topic_ref()]
    assert alarm["OKActions"] == [staging.topic_ref()]
    metadata = parse_alarm_metadata(alarm["AlarmDescription"])
    assert (metadata.severity, metadata.category) == (severity, category)
    assert metadata.runbook_url == f"{RUNBOOKS}/{runbook}.md"


# name suffix, metric, comparison, datapoints to alarm, missing data, severity
MONITOR_ALARMS = [
    ("synthetic-monitor-not-running", "Invocations", "LessThanThreshold", 3, "breaching", "critical"),
    ("synthetic-monitor-errors", "Errors", "GreaterThanOrEqualToThreshold", 1, "notBreaching", "warning"),
]


@pytest.mark.parametrize("expected", MONITOR_ALARMS, ids=[row[0] for row in MONITOR_ALARMS])
def test_the_monitors_own_alarms_watch_its_function(staging: Synthesized, expected: tuple[Any, ...]) -> None:
    # Given the dead-man's switch and the monitor-bug alarm
    suffix, metric, comparison, datapoints, missing, severity = expected
    alarm = staging.alarms_by_name()[PREFIX + suffix]
    function_id, _ = _monitor_function(staging)
    # Then they count the monitor function's own Lambda metrics per schedule period
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == ("AWS/Lambda", metric, "Sum")
    assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": function_id}}]
    assert alarm["Period"] == 60
    assert (alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (3, datapoints)
    assert alarm["Threshold"] == 1
    assert alarm["ComparisonOperator"] == comparison
    # And a monitor that is never invoked (no Invocations point at all) alarms instead of looking healthy
    assert alarm["TreatMissingData"] == missing
    metadata = parse_alarm_metadata(alarm["AlarmDescription"])
    assert (metadata.severity, metadata.category) == (severity, "errors")
    assert metadata.runbook_url == f"{RUNBOOKS}/synthetic-monitor-not-running.md"
    assert alarm["AlarmActions"] == alarm["OKActions"] == [staging.topic_ref()]


def test_every_synthetic_alarm_is_expected(synthesized: dict[str, Synthesized]) -> None:
    # Given the designed list (production has the same checks and an https base URL)
    expected = {row[0] for row in STAGING_SYNTHETIC_ALARMS} | {row[0] for row in MONITOR_ALARMS}
    for synth in synthesized.values():
        # Then nothing is missing and nothing unreviewed was added
        prefix = f"{synth.config.prefix}-"
        assert {name.removeprefix(prefix) for name in _synthetic_alarms(synth)} == expected, synth.config.environment


def test_the_function_gets_its_settings_and_runs_one_at_a_time(staging: Synthesized) -> None:
    _, function = _monitor_function(staging)
    # Then it is named, timed and configured from the config
    assert function["FunctionName"] == "peoplebooster-staging-synthetic-monitor"
    assert function["Timeout"] == staging.config.synthetics.lambda_timeout_seconds
    assert function["ReservedConcurrentExecutions"] == 1
    variables = function["Environment"]["Variables"]
    assert variables["ENVIRONMENT"] == "staging"
    assert variables["HEALTH_BASE_URL"] == str(staging.config.health_base_url)
    assert variables["CHECK_TIMEOUT_MS"] == "3000"
    assert variables["RUN_DEADLINE_MS"] == "10000"
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "PeopleBooster/Synthetics"
    assert variables["POWERTOOLS_SERVICE_NAME"] == "synthetic-monitor"
    assert "CHECKS" not in variables  # staging uses the monitor's four default checks
    # And no value looks like a secret
    assert not any("hooks.slack.com" in str(value) or "SECRET" in key for key, value in variables.items())


def test_the_schedule_runs_the_monitor_every_period_without_late_retries(staging: Synthesized) -> None:
    function_id, _ = _monitor_function(staging)
    # Then one rule runs it every minute, and a missed run is dropped, not replayed late
    staging.template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "Name": "peoplebooster-staging-synthetic-monitor",
            "ScheduleExpression": "rate(1 minute)",
            "State": "ENABLED",
            "Targets": [
                {
                    "Arn": {"Fn::GetAtt": [function_id, "Arn"]},
                    "Id": "Target0",
                    "RetryPolicy": {"MaximumEventAgeInSeconds": 60, "MaximumRetryAttempts": 0},
                }
            ],
        },
    )
    # And Lambda's async queue does not retry it either
    staging.template.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig",
        {"FunctionName": {"Ref": function_id}, "MaximumEventAgeInSeconds": 60, "MaximumRetryAttempts": 0},
    )
    # And EventBridge may invoke it
    staging.template.has_resource_properties(
        "AWS::Lambda::Permission",
        {
            "Action": "lambda:InvokeFunction",
            "Principal": "events.amazonaws.com",
            "FunctionName": {"Fn::GetAtt": [function_id, "Arn"]},
        },
    )


def test_the_dashboard_has_the_synthetic_rows(staging: Synthesized) -> None:
    body = json.dumps(staging.resources("AWS::CloudWatch::Dashboard"))
    # Then the row header and its widgets are there, with the latency budgets drawn
    for text in ("## Availability: synthetic checks", "Synthetic checks up", "Synthetic check latency (ms)",
                 "## Service health from /health and /health/metrics", "Dependencies healthy", "Service CPU / memory",
                 "live budget", "health budget"):  # fmt: skip
        assert text in body, text
    for metric in ("ServiceCpu", "ServiceMemory", "DependencyHealthy"):
        assert metric in body, metric


# --- a variant: VPC, a 5-minute schedule, an http base URL and a check on another https host ---------


@pytest.fixture(scope="module")
def variant(staging: Synthesized, tmp_path_factory: pytest.TempPathFactory) -> Template:
    synthetics = staging.config.synthetics.model_copy(
        update={
            "schedule_minutes": 5,
            "alarm_datapoints": 2,
            "frontend_url": None,
            "vpc": VpcConfig(
                vpc_id="vpc-0abc", subnet_ids=["subnet-0a", "subnet-0b"], security_group_ids=["sg-0c"]
            ),
            "checks": [
                {"name": "live", "url": "/health/live", "conditions": [{"status": 200}]},
                {"name": "payments", "url": "https://pay.example.com/health",
                 "conditions": [{"status": 200}, {"latency_below_ms": 500}]},
                {"name": "payments-ready", "url": "https://PAY.example.com/ready", "conditions": [{"status": 200}]},
            ],
        }
    )  # fmt: skip
    config = staging.config.model_copy(
        update={"synthetics": synthetics, "health_base_url": "http://internal-alb.example.internal"}
    )
    app = App(outdir=str(tmp_path_factory.mktemp("cdk-variant")), context={"aws:cdk:bundling-stacks": []})
    stack = MonitoringStack(app, config=config)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    app.synth()  # cdk-nag findings (e.g. the VPC permissions) would raise here
    return Template.from_stack(stack)


def _alarms(template: Template) -> dict[str, dict[str, Any]]:
    return {
        resource["Properties"]["AlarmName"].removeprefix(PREFIX): resource["Properties"]
        for resource in template.find_resources("AWS::CloudWatch::Alarm").values()
    }


def test_variant_runs_in_the_vpc_with_network_permissions(variant: Template) -> None:
    # Then the function is attached to the configured subnets and security group, without a lookup
    variant.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "FunctionName": "peoplebooster-staging-synthetic-monitor",
            "VpcConfig": {"SubnetIds": ["subnet-0a", "subnet-0b"], "SecurityGroupIds": ["sg-0c"]},
        },
    )
    # And its role may manage the ENIs Lambda needs, before the function is created
    (policy_id,) = [
        logical_id
        for logical_id, policy in variant.find_resources("AWS::IAM::Policy").items()
        if "ec2:CreateNetworkInterface" in json.dumps(policy)
    ]
    functions = variant.find_resources(
        "AWS::Lambda::Function", {"Properties": {"FunctionName": "peoplebooster-staging-synthetic-monitor"}}
    )
    (function,) = functions.values()
    assert policy_id in function["DependsOn"]


def test_variant_schedule_and_periods_follow_the_config(variant: Template) -> None:
    variant.has_resource_properties(
        "AWS::Events::Rule",
        {"Name": "peoplebooster-staging-synthetic-monitor", "ScheduleExpression": "rate(5 minutes)"},
    )
    alarms = _alarms(variant)
    for name in ("synthetic-live-failing", "synthetic-payments-latency-high", "synthetic-monitor-not-running"):
        assert alarms[name]["Period"] == 300, name
        assert alarms[name]["EvaluationPeriods"] == 2, name


def test_variant_alarms_follow_the_checks(variant: Template) -> None:
    alarms = _alarms(variant)
    synthetic = {name for name in alarms if name.startswith("synthetic-")}
    # Then one failing alarm per check; latency only where a budget is set; one certificate alarm for the one
    # https host (the two payments checks share it, case aside; the http base URL has none)
    assert synthetic == {
        "synthetic-live-failing",
        "synthetic-payments-failing",
        "synthetic-payments-ready-failing",
        "synthetic-payments-latency-high",
        "synthetic-payments-certificate-expiring",
        *(f"synthetic-dependency-{dependency}" for dependency in names.KNOWN_DEPENDENCIES),
        "synthetic-monitor-not-running",
        "synthetic-monitor-errors",
        "synthetic-results-not-kept",
    }
    assert alarms["synthetic-payments-latency-high"]["Threshold"] == 500
    assert parse_alarm_metadata(alarms["synthetic-live-failing"]["AlarmDescription"]).severity == "critical"
    assert parse_alarm_metadata(alarms["synthetic-payments-failing"]["AlarmDescription"]).severity == "warning"
    # And the custom checks reach the function as JSON
    (function,) = variant.find_resources(
        "AWS::Lambda::Function", {"Properties": {"FunctionName": "peoplebooster-staging-synthetic-monitor"}}
    ).values()
    checks = json.loads(function["Properties"]["Environment"]["Variables"]["CHECKS"])
    assert [check["name"] for check in checks] == ["live", "payments", "payments-ready"]


# --- the classic silent bug: alarms against what the real monitor prints -----------------------------


@pytest.fixture
def monitor_env(staging: Synthesized, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """The synthesized function's plain-string environment, set for the real handler."""
    _, function = _monitor_function(staging)
    variables = {key: value for key, value in function["Environment"]["Variables"].items() if isinstance(value, str)}
    for key, value in variables.items():
        monkeypatch.setenv(key, value)
    yield variables
    load_settings.cache_clear()


def _run_monitor(base_url: str, monkeypatch: pytest.MonkeyPatch, ssl_context: ssl.SSLContext | None) -> str:
    monkeypatch.setenv("HEALTH_BASE_URL", base_url)
    monkeypatch.setenv("FRONTEND_URL", f"{base_url}/")  # the reference service serves the front end's page too
    load_settings.cache_clear()
    captured = io.StringIO()
    with redirect_stdout(captured):
        summary = lambda_handler(
            {"source": "aws.events"},
            cast(LambdaContext, LocalLambdaContext(timeout_seconds=30)),
            ssl_context=ssl_context,
        )
    assert summary["ok"] is True, summary
    return captured.getvalue()


def _emitted(stdout: str) -> set[tuple[str, str, frozenset[tuple[str, str]]]]:
    """(namespace, metric, dimension names AND values) of every metric the monitor printed."""
    emitted = set()
    for blob in emf_blobs(stdout):
        for directive in blob["_aws"]["CloudWatchMetrics"]:
            for dimension_set in directive["Dimensions"]:
                dimensions = frozenset((name, str(blob[name])) for name in dimension_set)
                for metric in directive["Metrics"]:
                    emitted.add((directive["Namespace"], metric["Name"], dimensions))
    return emitted


@pytest.mark.parametrize("tls", [False, True], ids=["http", "https"])
def test_every_synthetic_alarm_watches_a_metric_the_monitor_writes_and_stays_ok_when_healthy(
    staging: Synthesized, monitor_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tls: bool
) -> None:
    # Given the reference health service (https: a self-signed certificate the test trusts)
    with HealthService(tls=tls, cert_days=90) as service:
        context = ssl.create_default_context(cafile=str(service.cert_file)) if tls else None
        # When the real handler runs with the synthesized environment, once per period of the alarms' N
        runs = [
            _run_monitor(service.url, monkeypatch, context) for _ in range(staging.config.synthetics.alarm_datapoints)
        ]
    emitted = _emitted(runs[0])
    alarms = {
        name: alarm
        for name, alarm in _synthetic_alarms(staging).items()
        if alarm["Namespace"] == monitor_env["POWERTOOLS_METRICS_NAMESPACE"]
    }
    assert len(alarms) == len(STAGING_SYNTHETIC_ALARMS)
    # Then every alarm's namespace, metric and dimensions (names and values) is exactly one the monitor wrote
    for name, alarm in alarms.items():
        if alarm["MetricName"] == names.CERTIFICATE_DAYS_REMAINING.name and not tls:
            continue  # no certificate on http
        wanted = (
            alarm["Namespace"],
            alarm["MetricName"],
            frozenset((d["Name"], d["Value"]) for d in alarm["Dimensions"]),
        )
        assert wanted in emitted, f"{name} watches {wanted}, which the monitor never writes"
    # And after N healthy runs, CloudWatch's rules (local stand-in) hold every one of them OK
    definitions = [AlarmDefinition.from_template_properties(alarm) for alarm in alarms.values()]
    evaluator = AlarmEvaluator(definitions)
    period = definitions[0].period
    clock = 1_700_000_000.0 // period * period
    for stdout in runs:
        evaluator.add(datapoints_from_emf(stdout.splitlines(), timestamp=clock + 1))
        clock += period
    evaluator.evaluate(clock)
    states = dict(evaluator.states)
    if not tls:  # missing certificate data is ignored: the alarm keeps its initial state
        assert states.pop(f"{PREFIX}synthetic-live-certificate-expiring") == "INSUFFICIENT_DATA"
        assert states.pop(f"{PREFIX}synthetic-frontend-certificate-expiring") == "INSUFFICIENT_DATA"
    assert set(states.values()) == {"OK"}, states


def test_a_stopped_monitor_breaches_the_failing_alarms(staging: Synthesized) -> None:
    # Given no EMF at all (the monitor did not run) for N periods
    alarms = _synthetic_alarms(staging)
    definitions = [
        AlarmDefinition.from_template_properties(alarm)
        for alarm in alarms.values()
        if alarm["MetricName"] == names.CHECK_SUCCESS.name
    ]
    evaluator = AlarmEvaluator(definitions)
    # When the alarms are evaluated
    evaluator.evaluate(1_700_000_000.0)
    # Then every failing alarm is in ALARM: a broken monitor never looks like a healthy service
    assert len(definitions) == 5
    assert set(evaluator.states.values()) == {"ALARM"}
