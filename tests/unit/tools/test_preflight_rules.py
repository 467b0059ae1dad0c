"""preflight's pure rules, on AWS's documented response shapes and AWS's documented formulas."""

from __future__ import annotations

import json

import pytest

from infra.config import load_config
from tools.aws_account import evaluate_max_connections
from tools.preflight_rules import (
    Level,
    ReservedFunction,
    judge_concurrency,
    judge_log_configuration,
    judge_max_connections,
    judge_subscriptions,
    placeholders,
    slack_secret_problem,
)

GIB = 1024**3
CHANNELS = ("alerts-critical", "alerts-errors", "alerts-performance")


@pytest.mark.parametrize(
    ("formula", "memory", "expected"),
    [
        # https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Limits.html#RDS_Limits.MaxConnections
        ("LEAST({DBInstanceClassMemory/9531392},5000)", 2 * GIB, 225),  # db.t4g.small, PostgreSQL
        ("LEAST({DBInstanceClassMemory/9531392},5000)", 16 * GIB, 1802),  # db.r6g.large
        ("LEAST({DBInstanceClassMemory/9531392},5000)", 64 * GIB, 5000),  # capped
        ("LEAST({DBInstanceClassMemory/9531392}, 5000)", 2 * GIB, 225),  # as people write it
        ("{DBInstanceClassMemory/12582880}", 16 * GIB, 1365),  # MySQL: "around 1,300" for 16 GiB
        ("GREATEST({log(DBInstanceClassMemory/805306368)*45},10)", 2 * GIB, None),  # not understood: None
    ],
)
def test_max_connections_formulas(formula: str, memory: int, expected: int | None) -> None:
    assert evaluate_max_connections(formula, memory) == expected


def test_the_committed_max_connections_are_too_low_for_their_classes() -> None:
    # Given the committed values (90 on db.t4g.small, 405 on db.r6g.large) against the formula from class memory
    staging = judge_max_connections(90, 225, exact=False, how="db.t4g.small", alarm_percent=80)
    production = judge_max_connections(405, 1802, exact=False, how="db.r6g.large", alarm_percent=80)
    # Then both are warnings that give the number, and the 80% alarm fires at 32% and 18% of the real limit
    assert staging is not None
    assert production is not None
    assert "set max_connections: 225" in staging.message
    assert "fires at 32% of the real limit" in staging.message
    assert "fires at 18% of the real limit" in production.message


@pytest.mark.parametrize(("configured", "wrong"), [(225, False), (200, False), (191, True), (226, True)])
def test_an_upper_bound_accepts_a_little_less_but_never_more(configured: int, wrong: bool) -> None:
    # DBInstanceClassMemory is the class memory minus what the OS and RDS reserve: the real value is a bit lower
    assert (judge_max_connections(configured, 225, exact=False, how="x", alarm_percent=80) is not None) is wrong


def test_an_explicit_parameter_group_value_must_match_exactly() -> None:
    assert judge_max_connections(300, 300, exact=True, how="pg", alarm_percent=80) is None
    assert judge_max_connections(299, 300, exact=True, how="pg", alarm_percent=80) is not None


def test_reserved_concurrency_must_leave_lambdas_minimum_of_100_unreserved() -> None:
    functions = [ReservedFunction("router", 5), ReservedFunction("intake", 2), ReservedFunction("monitor", 1)]
    # 108 unreserved - 8 = 100: allowed ("up to the Unreserved account concurrency ... minus 100")
    assert judge_concurrency(functions, limit=1000, unreserved=108, reserved_now=0) is None
    finding = judge_concurrency(functions, limit=1000, unreserved=107, reserved_now=0)
    assert finding is not None
    assert finding.level is Level.ERROR
    assert "the stack reserves 8 concurrent executions (router 5, intake 2, monitor 1)" in finding.message
    # A new account's quota of 10 cannot hold any reservation at all
    assert judge_concurrency(functions, limit=10, unreserved=10, reserved_now=0) is not None
    # An update only adds what the deployed functions do not reserve yet
    assert judge_concurrency(functions, limit=1000, unreserved=100, reserved_now=8) is None


def test_an_unconfirmed_email_subscription_is_pending_confirmation() -> None:
    # The shape ListSubscriptionsByTopic returns for an email endpoint that has not clicked the link:
    # https://docs.aws.amazon.com/sns/latest/api/API_ListSubscriptionsByTopic.html
    topic = "arn:aws:sns:ap-northeast-1:123456789012:pb-production-alerts-fallback"
    pending = {
        "SubscriptionArn": "PendingConfirmation",
        "Protocol": "email",
        "Endpoint": "SRE@pb.test",
        "TopicArn": topic,
    }
    confirmed = pending | {"SubscriptionArn": f"{topic}:0b5b3a0e-1111-2222-3333-444455556666"}
    finding = judge_subscriptions("sre@pb.test", topic, [pending])
    assert finding is not None
    assert finding.subject == "router.fallback_email"
    assert "has not confirmed its subscription to pb-production-alerts-fallback" in finding.message
    assert judge_subscriptions("sre@pb.test", topic, [confirmed]) is None
    assert judge_subscriptions("sre@pb.test", topic, [pending | {"Endpoint": "other@pb.test"}]) is not None


def _awslogs(group: str, **options: str) -> list[dict[str, object]]:
    """One container `app` with the awslogs driver:
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html"""
    return [
        {"name": "app", "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": group, **options}}}
    ]


@pytest.mark.parametrize(
    ("containers", "problem"),
    [
        (_awslogs("/aws/ecs/staging/application"), None),
        (_awslogs("/aws/ecs/staging/access"), "no container logs to /aws/ecs/staging/application"),
        (
            [{"name": "app", "logConfiguration": {"logDriver": "awsfirelens"}}],
            "container app logs with awsfirelens, not awslogs",
        ),
        ([{"name": "app"}], "container app logs with no log driver, not awslogs"),
        (
            _awslogs("/aws/ecs/staging/application", **{"awslogs-region": "us-east-1"}),
            "container app logs to /aws/ecs/staging/application in us-east-1, not ap-northeast-1",
        ),
        (
            _awslogs("/aws/ecs/production/application"),
            "container app logs to /aws/ecs/production/application, not /aws/ecs/staging/*",
        ),
    ],
)  # fmt: skip
def test_task_definition_log_configuration(containers: list[dict[str, object]], problem: str | None) -> None:
    found = judge_log_configuration(
        "staging", "ap-northeast-1", "svc", "arn:aws:ecs:r:1:task-definition/app:7", containers
    )
    if problem is None:
        assert found == []
    else:
        [line] = found
        assert line.startswith(f"task definition app:7 of service 'svc': {problem}: ")


def test_the_committed_production_config_is_all_placeholders() -> None:
    findings = placeholders(load_config("production"))
    assert [finding.subject for finding in findings] == [
        "alb.full_name",
        "alb.target_groups.0.full_name",
        "alb.target_groups.1.full_name",
        "health_base_url",
        "router.fallback_email",
        "synthetics.frontend_url",
    ]
    assert all(finding.level is Level.ERROR for finding in findings)


WEBHOOKS = {channel: f"https://hooks.slack.com/services/T/B/{channel}" for channel in CHANNELS}


@pytest.mark.parametrize(
    ("secret", "problem"),
    [
        ("Vq3`k!generated-placeholder", "is not JSON: the router rejects it"),
        (
            json.dumps(WEBHOOKS | {"alerts-critical": "https://example.com/x"}),
            "is rejected by the router: it: the URL for channel 'alerts-critical' is not an accepted webhook URL",
        ),
        (
            json.dumps({"bot_token": "not-a-token", "channel_ids": {}}),
            "is rejected by the router: the bot token is not a Slack bot token (xoxb-...)",
        ),
        (
            json.dumps({"bot_token": "xoxb-1", "channel_ids": {"alerts-critical": "C1"}}),
            "has nothing for #alerts-errors, #alerts-performance: the router cannot post there",
        ),
        (json.dumps(WEBHOOKS), None),
    ],
)
def test_the_slack_secret_is_judged_by_the_routers_own_parsers(secret: str, problem: str | None) -> None:
    assert slack_secret_problem(secret, CHANNELS) == problem
