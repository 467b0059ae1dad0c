"""cdk-nag acknowledgements cover exactly what their reason names, so the next wildcard fails synthesis.

cdk-nag 3 reports AwsSolutions-IAM5 per policy and per finding (`Resource::<resource>` or `Action::<action>`),
and an acknowledgement applies to the construct it is made on and everything below it. Two statements on '*'
in one policy are one finding: acknowledging X-Ray's '*' on a function (or its role) also acknowledged any
later '*' in the same default policy. X-Ray's statement now lives in a policy of its own, acknowledged there.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import jsii
import pytest
from aws_cdk import App, CfnElement, Duration, Stack, Validations
from aws_cdk import aws_iam as iam
from cdk_nag import AwsSolutionsChecks

from infra.config import load_config
from infra.constructs.function import XRAY_ACTIONS, ProjectFunction
from tests.infra.conftest import Synthesized

Change = Callable[[ProjectFunction], None]


def _report(outdir: Path) -> dict[str, Any]:
    report: dict[str, Any] = json.loads((outdir / "validation-report.json").read_text(encoding="utf-8"))
    (plugin,) = report["pluginReports"]
    return dict(plugin)


def _violations(tmp_path: Path, change: Change | None) -> dict[str, list[str]]:
    """Synthesize one ProjectFunction (with `change` applied) under cdk-nag: rule -> violating construct paths."""
    app = App(outdir=str(tmp_path), context={"aws:cdk:bundling-stacks": []})
    function = ProjectFunction(
        Stack(app, "Probe"),
        "Function",
        config=load_config("staging"),
        name="probe",
        handler="lambdas.synthetic_monitor.handler.lambda_handler",
        description="cdk-nag probe",
        environment={},
        timeout=Duration.seconds(10),
    )
    if change is not None:
        change(function)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    failure = ""
    try:
        app.synth()
    except (RuntimeError, jsii.errors.JSIIError) as error:
        failure = str(error)
    violations = {
        violation["ruleName"]: [c["constructPath"] for c in violation["violatingConstructs"]]
        for violation in _report(tmp_path)["violations"]
    }
    assert ("ValidationFailed" in failure) is bool(violations)  # findings, and only findings, stop synthesis
    return violations


def _wildcard_resource(function: ProjectFunction) -> None:
    function.role.add_to_principal_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=["*"]))


def _wildcard_action(function: ProjectFunction) -> None:
    function.role.add_to_principal_policy(
        iam.PolicyStatement(actions=["s3:*"], resources=["arn:aws:s3:::peoplebooster-reports"])
    )


def test_a_function_as_shipped_synthesizes_under_cdk_nag(tmp_path: Path) -> None:
    assert _violations(tmp_path, None) == {}


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        (_wildcard_resource, "AwsSolutions-IAM5[Resource::*]"),
        (_wildcard_action, "AwsSolutions-IAM5[Action::s3:*]"),
    ],
    ids=["resource-star", "action-star"],
)
def test_a_new_wildcard_in_a_functions_role_fails_synthesis(tmp_path: Path, change: Change, rule: str) -> None:
    # Given a function whose role gets one more statement with a wildcard
    violations = _violations(tmp_path, change)
    # Then synthesis fails on that finding, in the role's default policy (X-Ray's own '*' stays acknowledged)
    assert violations == {rule: ["Probe/Function/Role/DefaultPolicy/Resource"]}


def test_each_wildcard_acknowledgement_covers_one_policy_holding_what_its_reason_names(
    synthesized: dict[str, Synthesized],
) -> None:
    for synth in synthesized.values():
        report = _report(synth.template_path.parent)
        acknowledged = [v for v in report["suppressedViolations"] if v["ruleName"] == "AwsSolutions-IAM5[Resource::*]"]
        # Given every acknowledged '*' resource: one per function (X-Ray), and the router's reads of the cause and
        # the graph (logs:GetQueryResults, logs:StopQuery, cloudwatch:GetMetricWidgetImage have no resource type)
        assert len(acknowledged) == len(synth.resources("AWS::Lambda::Function")) + 1 == 5
        places = sorted(violation["acknowledgedAt"].rsplit("/", 1)[-1] for violation in acknowledged)
        assert places == ["Reads", "TracingPolicy", "TracingPolicy", "TracingPolicy", "TracingPolicy"]
        for violation in acknowledged:
            # Then it was acknowledged on the very policy that holds it, not on a function or role above it
            (construct,) = violation["violatingConstructs"]
            assert construct["constructPath"] == violation["acknowledgedAt"] + "/Resource"
            policy = _resource_at(synth, construct["constructPath"])
            statements = policy["Properties"]["PolicyDocument"]["Statement"]
            if violation["acknowledgedAt"].endswith("/TracingPolicy"):
                # And a tracing policy holds X-Ray's two actions on '*' and nothing else
                (statement,) = statements
                assert sorted(statement["Action"]) == sorted(XRAY_ACTIONS)
                assert statement["Resource"] == "*"
                continue
            # And the router's reads grant on '*' only the actions that have no resource type
            wildcard = [a for st in statements if st["Resource"] == "*" for a in _actions(st)]
            assert sorted(wildcard) == sorted(NO_RESOURCE_TYPE_READS)


# https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatchlogs.html and
# list_amazoncloudwatch.html: these actions have no resource type, so '*' is the only resource that grants them
NO_RESOURCE_TYPE_READS = ("logs:GetQueryResults", "logs:StopQuery", "cloudwatch:GetMetricWidgetImage")


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else list(actions)


def _resource_at(synth: Synthesized, path: str) -> dict[str, Any]:
    """The template resource of the CloudFormation construct at `path`."""
    (element,) = [c for c in synth.stack.node.find_all() if c.node.path == path]
    resource: dict[str, Any] = synth.raw["Resources"][synth.stack.get_logical_id(cast(CfnElement, element))]
    return resource


def test_functions_still_trace_actively_with_the_policy_in_place_first(synthesized: dict[str, Synthesized]) -> None:
    for synth in synthesized.values():
        for function in synth.resources("AWS::Lambda::Function").values():
            # Then every function traces (Lambda records its segments)...
            assert function["Properties"]["TracingConfig"] == {"Mode": "Active"}
            # ...and is created after the X-Ray policy of its own role
            role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
            tracing = [
                logical_id
                for logical_id, policy in synth.resources("AWS::IAM::Policy").items()
                if {"Ref": role_id} in policy["Properties"]["Roles"]
                and "xray:PutTraceSegments" in json.dumps(policy["Properties"]["PolicyDocument"])
            ]
            assert len(tracing) == 1
            assert tracing[0] in function["DependsOn"]
