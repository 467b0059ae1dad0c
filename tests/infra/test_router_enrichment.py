"""The cause and the graph in the message, as the stack configures them (issue 13): config, environment, alarms."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infra.config import ConfigError, load_config
from lambdas.alert_router.settings import settings_from_env
from lambdas.shared.alarm_metadata import parse_alarm_metadata
from tests.infra.conftest import Synthesized
from tests.infra.test_config import _write_variant


def _router(synth: Synthesized) -> dict[str, Any]:
    function: dict[str, Any]
    (function,) = [
        resource["Properties"]
        for resource in synth.resources("AWS::Lambda::Function").values()
        if resource["Properties"]["Handler"] == "lambdas.alert_router.handler.lambda_handler"
    ]
    return function


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"router.oncall_handle": "@oncall"}, "router.oncall_handle: Value error, oncall_handle must be a Slack user"),
        ({"router.oncall_handle": "<!channel>"}, "oncall_handle must be a Slack user group"),
        (
            {"router.enrichment.budget_ms": 20_000},
            "router.enrichment.budget_ms: Input should be less than or equal to 10000",
        ),
        ({"router.enrichment.top_errors_minutes": 0}, "router.enrichment.top_errors_minutes: Input should be greater"),
        ({"router.enrichment.graph": True}, "router.enrichment.graph"),
    ],
)
def test_config_refuses_what_the_router_would(tmp_path: Path, change: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        load_config("staging", _write_variant(tmp_path, change))


def test_a_valid_oncall_handle_is_accepted(tmp_path: Path) -> None:
    config = load_config("staging", _write_variant(tmp_path, {"router.oncall_handle": "<!subteam^S0123ABCD>"}))
    assert config.router.oncall_handle == "<!subteam^S0123ABCD>"


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_the_router_reads_the_enrichment_config_from_its_environment(
    synthesized: dict[str, Synthesized], environment: str
) -> None:
    synth = synthesized[environment]
    variables = _router(synth)["Environment"]["Variables"]
    enrichment = synth.config.router.enrichment
    # The error log group, the results table and the graphs' region are references (the AWS-rules layer
    # asks for their calls; a local run copying the plain settings gets none of them)
    error_group = [lid for lid, group in synth.resources("AWS::Logs::LogGroup").items()
                   if group["Properties"].get("LogGroupName") == f"/aws/ecs/{environment}/error"]  # fmt: skip
    assert variables["ERROR_LOG_GROUP"] == {"Ref": error_group[0]}
    assert variables["GRAPH_REGION"] == {"Ref": "AWS::Region"}
    assert list(variables["SYNTHETIC_RESULTS_TABLE_NAME"]) == ["Ref"]
    # And the router parses the plain ones into what config says
    plain = {name: value for name, value in variables.items() if isinstance(value, str)}
    settings = settings_from_env({**plain, "ERROR_LOG_GROUP": f"/aws/ecs/{environment}/error"}).enrichment
    assert settings.top_errors is enrichment.top_errors is True
    assert settings.top_errors_on
    assert (settings.top_errors_minutes, settings.budget_seconds) == (15, enrichment.budget_ms / 1000)
    assert settings.graph_region is None  # the reference was left out: no graphs without CloudWatch
    assert "ONCALL_HANDLE" not in variables  # the shipped configs name nobody


def test_graphs_and_top_errors_off_write_neither(tmp_path: Path) -> None:
    from aws_cdk import App
    from aws_cdk.assertions import Template

    from infra.stack import MonitoringStack

    variant = _write_variant(
        tmp_path,
        {
            "router.enrichment.graphs": False,
            "router.enrichment.top_errors": False,
            "router.oncall_handle": "<@U0123ABCD>",
        },
    )
    config = load_config("staging", variant)
    stack = MonitoringStack(App(context={"aws:cdk:bundling-stacks": []}), config=config)
    template = Template.from_stack(stack).to_json()
    (variables,) = [
        r["Properties"]["Environment"]["Variables"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function" and r["Properties"]["FunctionName"].endswith("-alert-router")
    ]
    assert "GRAPH_REGION" not in variables
    assert "ERROR_LOG_GROUP" not in variables
    assert variables["TOP_ERRORS"] == "off"
    assert variables["ONCALL_HANDLE"] == "<@U0123ABCD>"
    # And no policy grants what the router does not call
    actions = {
        action
        for r in template["Resources"].values()
        if r["Type"] == "AWS::IAM::Policy"
        for statement in r["Properties"]["PolicyDocument"]["Statement"]
        for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
    }
    assert not actions & {"logs:StartQuery", "logs:GetQueryResults", "cloudwatch:GetMetricWidgetImage"}


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_causes_and_graphs_that_keep_failing_alarm_on_both_topics(
    synthesized: dict[str, Synthesized], environment: str
) -> None:
    synth = synthesized[environment]
    alarms = synth.alarms_by_name()
    both = [synth.topic_ref("alerts"), synth.topic_ref("alerts-fallback")]
    for name, metric in (
        ("router-enrichment-failures", "EnrichmentFailures"),
        ("router-graph-failures", "GraphFailures"),
    ):
        alarm = alarms[f"{synth.config.prefix}-{name}"]
        assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == (
            "PeopleBooster/AlertRouter",
            metric,
            "Sum",
        )
        assert {d["Name"]: d["Value"] for d in alarm["Dimensions"]} == {
            "service": "alert-router",
            "environment": environment,
        }
        assert (alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"], alarm["Threshold"]) == (6, 3, 1)
        assert alarm["TreatMissingData"] == "notBreaching"
        assert alarm["AlarmActions"] == alarm["OKActions"] == both
        assert parse_alarm_metadata(alarm["AlarmDescription"]).runbook_url.endswith("/router-errors.md")  # type: ignore[union-attr]


def test_the_monitors_results_table_keeps_an_hour(staging: Synthesized) -> None:
    (table,) = [
        t["Properties"]
        for lid, t in staging.resources("AWS::DynamoDB::Table").items()
        if lid.startswith("SyntheticsResults")
    ]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["SSESpecification"] == {"SSEEnabled": True}
