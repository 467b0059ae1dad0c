"""AWS's question, asked of both environments' templates: would AWS allow each call made on the stack's behalf?

tests/infra/aws_rules/calls.py builds each request as the AWS documentation describes it (cited there);
tests/infra/aws_rules/policy.py evaluates the synthesized key, topic, queue, function and role policies
against it. A test that restates the template cannot see a wrong ARN format; this one can: the first
release's log-group key policy (`log-group/*`) fails here, and would have rolled back the first deploy.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable, Iterable

import pytest

from tests.infra.aws_rules import calls as aws
from tests.infra.aws_rules.policy import Decision, Request, Verdict, evaluate, explain_failures
from tests.infra.aws_rules.template import DeployedTemplate
from tests.infra.conftest import Synthesized

ENVIRONMENTS = ("staging", "production")


def deployed(synth: Synthesized, template: dict[str, object] | None = None) -> DeployedTemplate:
    region = synth.config.region or "ap-northeast-1"
    return DeployedTemplate(template or synth.raw, stack_name=f"{synth.config.prefix}-monitoring", region=region)


def with_context(call: aws.Call, changes: dict[str, str]) -> aws.Call:
    """The same call with some context keys changed (who AWS says it acts for)."""
    return dataclasses.replace(
        call, request=dataclasses.replace(call.request, context={**call.request.context, **changes})
    )


def refused(found: Iterable[aws.Call]) -> list[tuple[Request, Verdict]]:
    verdicts = [(call.request, evaluate(call.request, call.policies, key_policy=call.key_policy)) for call in found]
    return [(request, verdict) for request, verdict in verdicts if not verdict.allowed]


BUILDERS: dict[str, Callable[[DeployedTemplate], Iterable[aws.Call]]] = {
    "CloudWatch Logs uses the log-group key": aws.log_group_key_calls,
    "alarms publish to their topics (topic policy and topic key)": aws.alarm_action_calls,
    "SNS invokes Lambda and sends to SQS": aws.subscription_calls,
    "EventBridge invokes Lambda": aws.schedule_calls,
    "Sentry reaches the Function URL": aws.function_url_calls,
    "functions reach their resources through their roles": aws.function_role_calls,
}


@pytest.mark.parametrize("environment", ENVIRONMENTS)
@pytest.mark.parametrize("kind", list(BUILDERS))
def test_aws_allows_every_call_made_on_the_stacks_behalf(
    synthesized: dict[str, Synthesized], environment: str, kind: str
) -> None:
    # Given the deployed view of the template and the calls AWS documents for this kind
    found = list(BUILDERS[kind](deployed(synthesized[environment])))
    # Then there are such calls (an empty list would pass vacuously), and AWS allows each one
    assert found, f"{environment}: no calls found for {kind!r}"
    failures = refused(found)
    assert not failures, f"{environment}: {len(failures)} of {len(found)} calls refused:\n" + explain_failures(failures)


def test_every_log_group_alarm_action_and_subscription_is_covered(staging: Synthesized) -> None:
    # Given the staging template; then each encrypted log group, each alarm action and each
    # subscription produced at least one request (nothing was skipped)
    t = deployed(staging)
    log_requests = {c.request.context["kms:EncryptionContext:aws:logs:arn"] for c in aws.log_group_key_calls(t)}
    encrypted = [p for lid in t.resources("AWS::Logs::LogGroup") if "KmsKeyId" in (p := t.properties(lid))]
    assert len(log_requests) == len(encrypted) >= 4
    publishes = [c for c in aws.alarm_action_calls(t) if c.request.action == "sns:Publish"]
    actions = sum(
        len(t.properties(lid).get(kind, []))
        for lid in t.resources("AWS::CloudWatch::Alarm")
        for kind in aws.ALARM_ACTION_KINDS
    )
    assert len(publishes) == actions
    # InsufficientData actions are among them (the "monitoring blind" notices)
    assert any("InsufficientDataActions" in c.request.why for c in publishes)


def _with_log_key_condition(synth: Synthesized, pattern: str) -> DeployedTemplate:
    template = copy.deepcopy(synth.raw)
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::KMS::Key":
            continue
        for statement in resource["Properties"]["KeyPolicy"]["Statement"]:
            condition = statement.get("Condition", {}).get("ArnLike", {})
            if "kms:EncryptionContext:aws:logs:arn" in condition:
                condition["kms:EncryptionContext:aws:logs:arn"] = pattern
    return deployed(synth, template)


def test_the_first_release_log_key_policy_fails_this_layer(staging: Synthesized) -> None:
    # Given the key policy of the first release: log groups written as `log-group/*` (issue 11)
    region = staging.config.region
    old = _with_log_key_condition(staging, f"arn:aws:logs:{region}:111122223333:log-group/*")
    # When CloudWatch Logs creates and writes the four ECS log groups, then every call is refused
    found = list(aws.log_group_key_calls(old))
    assert found
    assert len(refused(found)) == len(found)


def test_log_key_serves_only_this_environments_groups(staging: Synthesized) -> None:
    # Given CloudWatch Logs asking for a log group the stack does not own (another environment's)
    t = deployed(staging)
    (call, *_rest) = aws.log_group_key_calls(t)
    foreign = t.arn("logs", "log-group:/aws/ecs/production/application")
    request = with_context(call, {"kms:EncryptionContext:aws:logs:arn": foreign}).request
    # Then the key refuses it: the key is this environment's, not a shared one
    assert evaluate(request, (), key_policy=call.key_policy).decision is Decision.IMPLICIT_DENY


def test_another_accounts_alarm_cannot_publish_or_use_the_topic_key(production: Synthesized) -> None:
    # Given an alarm of another account naming our topic (CloudWatch acts for every account: confused deputy)
    t = deployed(production)
    stranger = "arn:aws:cloudwatch:ap-northeast-1:999999999999:alarm:anything"
    found = [
        with_context(c, {"aws:SourceArn": stranger, "aws:SourceAccount": "999999999999"})
        for c in aws.alarm_action_calls(t)
    ]
    # Then neither the topic policy nor the key lets it through
    assert len(refused(found)) == len(found)


def test_sns_from_another_topic_cannot_invoke_the_router_or_fill_its_queue(staging: Synthesized) -> None:
    t = deployed(staging)
    found = [with_context(c, {"aws:SourceArn": t.arn("sns", "someone-elses-topic")}) for c in aws.subscription_calls(t)]
    assert found
    assert len(refused(found)) == len(found)


def test_the_intake_queue_key_lets_only_the_alert_topic_write(staging: Synthesized) -> None:
    # Given the queue key's statement for SNS without its topic condition (CDK writes it so when the flag
    # @aws-cdk/aws-sns-subscriptions:restrictSqsDescryption is off)
    template = copy.deepcopy(staging.raw)
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::KMS::Key":
            continue
        for statement in resource["Properties"]["KeyPolicy"]["Statement"]:
            if statement.get("Principal") == {"Service": "sns.amazonaws.com"}:
                statement.pop("Condition")
    loose = deployed(staging, template)
    foreign = {"aws:SourceArn": loose.arn("sns", "someone-elses-topic")}
    kms = [with_context(c, foreign) for c in aws.subscription_calls(loose) if c.request.action.startswith("kms:")]
    # Then another topic could use the key: what the synthesized key (tested above) refuses
    assert kms
    assert refused(kms) == []
    strict = [with_context(c, foreign) for c in aws.subscription_calls(deployed(staging)) if c.key_policy]
    assert len(refused(strict)) == len(strict) == len(kms)


def test_a_function_variable_with_undeclared_calls_fails_the_layer(staging: Synthesized) -> None:
    # Given a function that receives a new resource through its environment (e.g. a queue URL)
    template = copy.deepcopy(staging.raw)
    queue_id = next(lid for lid, r in template["Resources"].items() if r["Type"] == "AWS::SQS::Queue")
    function = next(r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function")
    function["Properties"]["Environment"]["Variables"]["NEW_QUEUE_URL"] = {"Ref": queue_id}
    # Then the layer refuses to guess what the code does with it
    with pytest.raises(ValueError, match="NEW_QUEUE_URL"):
        list(aws.function_role_calls(deployed(staging, template)))


def test_requests_are_built_from_resolved_arns(staging: Synthesized) -> None:
    # No request may carry an unresolved token: every ARN is what AWS would see
    text = json.dumps([c.request.describe() for c in aws.every_call(deployed(staging))])
    assert "Fn::" not in text
    assert "Ref" not in text
    assert "${" not in text
