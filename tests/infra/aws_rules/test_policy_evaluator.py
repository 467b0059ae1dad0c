"""The evaluator itself, on the examples and rules of AWS's IAM documentation (each test cites its page)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.infra.aws_rules.policy import (
    Decision,
    Policy,
    Request,
    RolePrincipal,
    ServicePrincipal,
    UnsupportedPolicy,
    arn_match,
    evaluate,
)

ACCOUNT = "123456789012"
ROLE = RolePrincipal(f"arn:aws:iam::{ACCOUNT}:role/app")
SNS = ServicePrincipal("sns.amazonaws.com")


def _resource(*statements: dict[str, Any]) -> Policy:
    return Policy("resource policy", {"Version": "2012-10-17", "Statement": list(statements)}, "resource")


def _identity(*statements: dict[str, Any]) -> Policy:
    return Policy("identity policy", {"Version": "2012-10-17", "Statement": list(statements)}, "identity")


# The ARN condition example of the condition-operators page: an SQS queue that accepts SNS messages only
# from one topic. https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_ARN
QUEUE = f"arn:aws:sqs:us-east-1:{ACCOUNT}:QUEUE-ID"
TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT}:TOPIC-ID"
QUEUE_POLICY = _resource(
    {
        "Effect": "Allow",
        "Principal": {"Service": "sns.amazonaws.com"},
        "Action": "SQS:SendMessage",
        "Resource": QUEUE,
        "Condition": {"ArnEquals": {"aws:SourceArn": TOPIC}},
    }
)


def test_arn_condition_example_allows_its_topic_and_no_other() -> None:
    # Given the documented queue policy; when SNS sends for that topic, then it is allowed (the action
    # is matched case-insensitively: "SQS:SendMessage" covers sqs:SendMessage)
    own = Request(SNS, "sqs:SendMessage", QUEUE, {"aws:SourceArn": TOPIC})
    assert evaluate(own, [QUEUE_POLICY]).allowed
    # When another topic, or no topic at all, sends, then nothing allows it
    other = Request(SNS, "sqs:SendMessage", QUEUE, {"aws:SourceArn": f"arn:aws:sns:us-east-1:{ACCOUNT}:OTHER"})
    missing = Request(SNS, "sqs:SendMessage", QUEUE, {})
    assert evaluate(other, [QUEUE_POLICY]).decision is Decision.IMPLICIT_DENY
    # "If the key that you specify in a policy condition is not present in the request context, the values
    # do not match and the condition is false."
    assert evaluate(missing, [QUEUE_POLICY]).decision is Decision.IMPLICIT_DENY


def test_negated_operator_is_true_when_the_key_is_absent() -> None:
    # "If the policy condition requires that the key is not matched, such as StringNotLike or ArnNotLike,
    # and the right key is not present, the condition is true." (condition-operators page)
    policy = _identity(
        {
            "Effect": "Allow",
            "Action": "sqs:SendMessage",
            "Resource": "*",
            "Condition": {"ArnNotLike": {"aws:SourceArn": TOPIC}},
        }
    )
    assert evaluate(Request(ROLE, "sqs:SendMessage", QUEUE, {}), [policy]).allowed
    assert not evaluate(Request(ROLE, "sqs:SendMessage", QUEUE, {"aws:SourceArn": TOPIC}), [policy]).allowed


def test_arn_wildcards_do_not_cross_a_colon() -> None:
    # ArnLike/ArnEquals check each of the six colon-delimited parts of the ARN separately (condition-operators
    # page): a pattern written with "/" cannot match CloudWatch Logs' "log-group:<name>" form.
    group = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/ecs/staging/application"
    assert not arn_match(f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group/*", group)
    assert arn_match(f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:*", group)
    # The AWS managed policy CloudWatchLogsAPIKeyAccess conditions on exactly this form.
    assert arn_match("arn:aws:logs:*:*:log-group:*", group)
    # The region part must match on its own: "*" in the resource part does not swallow the region.
    assert not arn_match(f"arn:aws:logs:us-west-2:{ACCOUNT}:log-group:*", group)
    assert not arn_match("arn:aws:logs:*", group)  # fewer than six parts is no ARN pattern


def test_explicit_deny_wins_over_any_allow() -> None:
    # "An explicit deny in any policy overrides any allows."
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
    allow = _identity({"Effect": "Allow", "Action": "sqs:*", "Resource": "*"})
    deny_plain_http = _resource(
        {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "sqs:*", "Resource": QUEUE,
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    )  # fmt: skip
    over_http = Request(ROLE, "sqs:SendMessage", QUEUE, {"aws:SecureTransport": "false"})
    over_tls = Request(ROLE, "sqs:SendMessage", QUEUE, {"aws:SecureTransport": "true"})
    assert evaluate(over_http, [allow, deny_plain_http]).decision is Decision.EXPLICIT_DENY
    assert evaluate(over_tls, [allow, deny_plain_http]).allowed


def test_nothing_is_allowed_by_default() -> None:
    # "By default, all requests are implicitly denied" (evaluation-logic page).
    assert evaluate(Request(ROLE, "sqs:SendMessage", QUEUE), []).decision is Decision.IMPLICIT_DENY
    other_action = _identity({"Effect": "Allow", "Action": "sqs:ReceiveMessage", "Resource": QUEUE})
    assert evaluate(Request(ROLE, "sqs:SendMessage", QUEUE), [other_action]).decision is Decision.IMPLICIT_DENY


def test_resource_matching_is_case_sensitive_with_wildcards() -> None:
    # The Resource element page: "arn:aws:iam::account-ID-without-hyphens:user/*" covers every user; ARNs
    # are case-sensitive. https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
    policy = _identity({"Effect": "Allow", "Action": "iam:GetUser", "Resource": f"arn:aws:iam::{ACCOUNT}:user/*"})
    assert evaluate(Request(ROLE, "iam:GetUser", f"arn:aws:iam::{ACCOUNT}:user/Bob"), [policy]).allowed
    assert not evaluate(Request(ROLE, "iam:GetUser", f"arn:aws:iam::{ACCOUNT}:USER/Bob"), [policy]).allowed
    single = _identity({"Effect": "Allow", "Action": "iam:GetUser", "Resource": f"arn:aws:iam::{ACCOUNT}:user/B?b"})
    assert evaluate(Request(ROLE, "iam:GetUser", f"arn:aws:iam::{ACCOUNT}:user/Bob"), [single]).allowed
    assert not evaluate(Request(ROLE, "iam:GetUser", f"arn:aws:iam::{ACCOUNT}:user/Boob"), [single]).allowed


def test_values_of_one_key_are_ored_and_keys_are_anded() -> None:
    # "If a single condition key has multiple values, AWS evaluates them using a logical OR ... multiple
    # condition keys ... logical AND." https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition.html
    policy = _identity(
        {
            "Effect": "Allow",
            "Action": "sqs:SendMessage",
            "Resource": "*",
            "Condition": {
                "StringEquals": {"aws:PrincipalTag/department": ["finance", "hr", "legal"]},
                "StringLike": {"aws:PrincipalTag/role": "audit-*"},
            },
        }
    )
    both = {"aws:PrincipalTag/department": "hr", "aws:PrincipalTag/role": "audit-lead"}
    assert evaluate(Request(ROLE, "sqs:SendMessage", QUEUE, both), [policy]).allowed
    # Condition key names are case-insensitive; values of StringEquals are not.
    assert evaluate(Request(ROLE, "sqs:SendMessage", QUEUE, {k.upper(): v for k, v in both.items()}), [policy]).allowed
    assert not evaluate(
        Request(ROLE, "sqs:SendMessage", QUEUE, {**both, "aws:PrincipalTag/department": "HR"}), [policy]
    ).allowed
    assert not evaluate(
        Request(ROLE, "sqs:SendMessage", QUEUE, {"aws:PrincipalTag/department": "hr"}), [policy]
    ).allowed


def test_key_policy_naming_the_account_defers_to_iam() -> None:
    # The default key policy statement "Enable IAM User Permissions" (Principal the account root, kms:*)
    # lets IAM policies allow use of the key; without it, an IAM policy alone cannot.
    # https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-root-enable-iam
    key = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    root = _resource(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*", "Resource": "*"}
    )
    key_policy = Policy("key policy", root.document, "resource")
    grant = _identity({"Effect": "Allow", "Action": "kms:GenerateDataKey*", "Resource": key})
    request = Request(ROLE, "kms:GenerateDataKey", key)
    assert evaluate(request, [grant], key_policy=key_policy).allowed
    assert not evaluate(request, [], key_policy=key_policy).allowed  # the key policy alone gives the role nothing
    no_root = Policy("key policy", {"Statement": []}, "resource")
    assert not evaluate(request, [grant], key_policy=no_root).allowed  # IAM alone cannot open a key


def test_service_principal_must_be_named_exactly() -> None:
    regional = _resource(
        {
            "Effect": "Allow",
            "Principal": {"Service": "logs.us-east-1.amazonaws.com"},
            "Action": "kms:Decrypt",
            "Resource": "*",
        }
    )
    assert evaluate(Request(ServicePrincipal("logs.us-east-1.amazonaws.com"), "kms:Decrypt", "k"), [regional]).allowed
    assert not evaluate(
        Request(ServicePrincipal("logs.eu-west-1.amazonaws.com"), "kms:Decrypt", "k"), [regional]
    ).allowed


@pytest.mark.parametrize(
    "statement",
    [
        {"Effect": "Allow", "NotAction": "sqs:*", "Resource": "*"},
        {
            "Effect": "Allow",
            "Action": "sqs:*",
            "Resource": "*",
            "Condition": {"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}},
        },
        {
            "Effect": "Allow",
            "Action": "sqs:*",
            "Resource": "*",
            "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": "a"}},
        },
    ],
)
def test_what_is_not_modelled_is_refused_loudly(statement: dict[str, Any]) -> None:
    with pytest.raises(UnsupportedPolicy):
        evaluate(
            Request(ROLE, "sqs:SendMessage", QUEUE, {"aws:MultiFactorAuthAge": "10", "aws:TagKeys": "a"}),
            [_identity(statement)],
        )
