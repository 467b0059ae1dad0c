"""`make preflight` (tools/preflight.py) against a moto account holding the service the config names.

Right ids pass; each wrong id is one ERROR line naming the config field, the id and the candidates. Lambda's
GetAccountSettings is the one call moto lacks ("Not yet implemented"), so the Lambda client is botocore's
Stubber on a real client (the responses in the API's documented shape); everything else is moto.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber

from tests.aws_tables import REGION
from tests.moto_account import (
    REPO,
    SESSION,
    VALID_WEBHOOKS,
    Clients,
    Service,
    build_service,
    config_for,
    deploy_stack_parts,
    moto_clients,
    put_metrics,
    reserved_template,
)
from tools import preflight as preflight_module
from tools.aws_account import Aws
from tools.health_service import HealthService
from tools.preflight import _parser, main, run

PREFIX = "peoplebooster-staging"
RESERVED = {"alert-router": 2, "sentry-intake": 2, "synthetic-monitor": 1}  # staging's stack


@pytest.fixture
def clients(moto_dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> Clients:
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")  # 0.5 s per test; no test here needs an AMI
    return moto_clients()


@pytest.fixture
def health() -> Iterator[HealthService]:
    with HealthService() as service:
        yield service


@pytest.fixture
def service(clients: Clients) -> Service:
    return build_service(clients)


def lambda_client(
    *, unreserved: int = 900, limit: int = 1000, deployed: dict[str, int] | None = None, prefix: str = PREFIX
) -> Any:
    """A Lambda client answering GetAccountSettings (moto lacks it) and GetFunctionConcurrency per function."""
    client = SESSION.client("lambda", region_name=REGION)
    stubber = Stubber(client)
    stubber.add_response(
        "get_account_settings",
        # https://docs.aws.amazon.com/lambda/latest/api/API_GetAccountSettings.html
        {"AccountLimit": {"ConcurrentExecutions": limit, "UnreservedConcurrentExecutions": unreserved}},
    )
    for name in sorted(RESERVED):
        function = f"{prefix}-{name}"
        if deployed is None:
            stubber.add_client_error(
                "get_function_concurrency", "ResourceNotFoundException", expected_params={"FunctionName": function}
            )
        else:
            stubber.add_response(
                "get_function_concurrency",
                {"ReservedConcurrentExecutions": deployed[name]},
                expected_params={"FunctionName": function},
            )
    stubber.activate()
    return client


def preflight(
    capsys: pytest.CaptureFixture[str], directory: Path, *, lambda_: Any = None, env: str = "staging"
) -> tuple[int, list[str], str]:
    template = reserved_template(directory, f"peoplebooster-{env}", RESERVED)
    stub = lambda_ or lambda_client(prefix=f"peoplebooster-{env}")
    aws = Aws(REGION, clients={"lambda": stub}, session=SESSION)
    code = main(["--env", env, "--config-dir", str(directory), "--template", str(template)], aws=aws)
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err


def problems(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith(("ERROR", "WARNING"))]


def test_right_ids_pass(
    service: Service, health: HealthService, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a config naming exactly what the account holds, and a healthy service behind health_base_url
    config_for(tmp_path, service, health_base_url=health.url)
    # When preflight runs
    code, lines, err = preflight(capsys, tmp_path)
    # Then nothing is wrong; the stack is not deployed yet, so its checks are skipped, and it says so
    assert (code, problems(lines), err) == (0, [], "")
    assert lines == [
        f"INFO stack: {PREFIX}-monitoring is not deployed yet: secrets, email and alarm checks skipped",
        f"preflight staging in {REGION}, account 123456789012: 0 errors, 0 warnings",
    ]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"ecs.backend_service_name": "pb-staging-api"},
            "ERROR ecs.backend_service_name: service 'pb-staging-api' not found in cluster 'pb-staging'"
            " (candidates: pb-staging-backend, pb-staging-frontend)",
        ),
        (
            {"alb.full_name": "app/pb-staging-alb/0123456789abcdef"},
            "ERROR alb.full_name: 'app/pb-staging-alb/0123456789abcdef' is not the id of load balancer"
            " 'pb-staging-alb': it is {alb} (recreated?)",
        ),
        (
            {"alb.full_name": "app/pb-stg-alb/0123456789abcdef"},
            "ERROR alb.full_name: load balancer 'pb-stg-alb' not found (candidates: {alb})",
        ),
        (
            {"alb.target_groups.1.full_name": "targetgroup/pb-staging-frontend/0123456789abcdef"},
            "ERROR alb.target_groups.1.full_name: 'targetgroup/pb-staging-frontend/0123456789abcdef' is not the id"
            " of target group 'pb-staging-frontend': it is {frontend_tg}",
        ),
        (
            {"alb.target_groups.0.full_name": "targetgroup/pb-stg-backend/0123456789abcdef"},
            "ERROR alb.target_groups.0.full_name: target group 'pb-stg-backend' not found (candidates: {backend_tg},"
            " {frontend_tg})",
        ),
        (
            {"rds.instance_identifier": "pb-staging-postgres"},
            "ERROR rds.instance_identifier: DB instance 'pb-staging-postgres' not found (candidates: pb-staging-db)",
        ),
        (
            {"elasticache.replication_group_id": "pb-staging-cache"},
            "ERROR elasticache.replication_group_id: replication group 'pb-staging-cache' not found"
            " (candidates: pb-staging-redis)",
        ),
        (
            {"elasticache.cache_cluster_ids": ["pb-staging-redis-001", "pb-staging-redis-002"]},
            "ERROR elasticache.cache_cluster_ids: [pb-staging-redis-001, pb-staging-redis-002] are not the member"
            " clusters of 'pb-staging-redis' [pb-staging-redis-001] (not members: pb-staging-redis-002): each"
            " member is one Redis node the alarms watch",
        ),
        (
            {"elasticache.cache_node_id": "0002"},
            "ERROR elasticache.cache_node_id: node '0002' is not in 'pb-staging-redis' (nodes: 0001)",
        ),
    ],
)
def test_each_wrong_id_is_one_error_naming_the_field_and_the_candidates(
    *,
    service: Service,
    health: HealthService,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    change: dict[str, Any],
    expected: str,
) -> None:
    # Given a config with one id that the account does not hold
    config_for(tmp_path, service, health_base_url=health.url, changes=change)
    # When preflight runs
    code, lines, _ = preflight(capsys, tmp_path)
    # Then that id is the one error (its metrics are not looked up a second time), and the deploy is blocked
    ids = {
        "alb": service.alb,
        "backend_tg": service.target_groups["backend"],
        "frontend_tg": service.target_groups["frontend"],
    }
    assert code == 1
    assert problems(lines) == [expected.format(**ids)]
    assert lines[-1].endswith(": 1 error, 0 warnings")


def test_an_unknown_cluster_is_one_error_and_its_services_are_not_looked_for(
    service: Service, health: HealthService, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_for(tmp_path, service, health_base_url=health.url, changes={"ecs.cluster_name": "pb-stg"})
    code, lines, _ = preflight(capsys, tmp_path)
    assert code == 1
    assert problems(lines) == ["ERROR ecs.cluster_name: cluster 'pb-stg' not found (candidates: pb-staging)"]


def test_target_groups_swapped_between_the_services_are_errors(
    service: Service, health: HealthService, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the backend's target group configured as the frontend's and the other way round
    swapped = {
        "alb.target_groups.0.full_name": service.target_groups["frontend"],
        "alb.target_groups.1.full_name": service.target_groups["backend"],
    }
    config_for(tmp_path, service, health_base_url=health.url, changes=swapped)
    code, lines, _ = preflight(capsys, tmp_path)
    # Then the per-service alarms would watch the other service: both are errors, each naming the right one
    assert code == 1
    assert problems(lines) == [
        f"ERROR alb.target_groups.0.full_name: target group {service.target_groups['frontend']} is not a target"
        f" group of the backend service 'pb-staging-backend' (its target groups: {service.target_groups['backend']})",
        f"ERROR alb.target_groups.1.full_name: target group {service.target_groups['backend']} is not a target"
        f" group of the frontend service 'pb-staging-frontend' (its target groups:"
        f" {service.target_groups['frontend']})",
    ]


def test_max_connections_is_checked_against_the_default_formula_and_the_parameter_group(
    clients: Clients, service: Service, health: HealthService, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given staging's committed value 90 for a db.t4g.small (2 GiB) on the default PostgreSQL parameter group:
    # LEAST({DBInstanceClassMemory/9531392}, 5000) = 2147483648 // 9531392 = 225
    config_for(tmp_path, service, health_base_url=health.url, changes={"rds.max_connections": 90})
    code, lines, _ = preflight(capsys, tmp_path)
    # Then a warning (not blocking) gives the right number and what the wrong one does to the alarm
    assert code == 0
    assert problems(lines) == [
        "WARNING rds.max_connections: 90, but db.t4g.small (2048 MiB), the postgres default:"
        " LEAST({DBInstanceClassMemory/9531392},5000) gives 225 (a few percent less in practice: RDS reserves"
        " memory; SHOW max_connections is exact): set max_connections: 225; as configured, the connections alarm"
        " (80%) fires at 32% of the real limit"
    ]

    # Given a parameter group that sets max_connections explicitly
    rds = clients("rds")
    rds.create_db_parameter_group(DBParameterGroupName="pb-pg16", DBParameterGroupFamily="postgres16", Description="x")
    rds.modify_db_parameter_group(
        DBParameterGroupName="pb-pg16",
        Parameters=[{"ParameterName": "max_connections", "ParameterValue": "300", "ApplyMethod": "pending-reboot"}],
    )
    rds.modify_db_instance(DBInstanceIdentifier=service.rds, DBParameterGroupName="pb-pg16", ApplyImmediately=True)
    config_for(tmp_path, service, health_base_url=health.url, changes={"rds.max_connections": 225})
    code, lines, _ = preflight(capsys, tmp_path)
    # Then that value is the right one, exactly
    assert problems(lines) == [
        "WARNING rds.max_connections: 225, but parameter group pb-pg16 (max_connections = 300) gives 300: set"
        " max_connections: 300; as configured, the connections alarm (80%) fires at 60% of the real limit"
    ]


def test_the_committed_example_configs_are_placeholders(
    tmp_path: Path, clients: Clients, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given config/staging.yaml as committed (example ids, example.com) and an empty account
    shutil.copy(REPO / "config" / "staging.yaml", tmp_path / "staging.yaml")
    code, lines, _ = preflight(capsys, tmp_path)
    # Then every example value is named, before anything is looked up, and the deploy is blocked
    assert code == 1
    placeholders = [line for line in lines if "placeholder" in line or "example id" in line]
    assert [line.split(":")[0] for line in placeholders] == [
        "ERROR alb.full_name",
        "ERROR alb.target_groups.0.full_name",
        "ERROR alb.target_groups.1.full_name",
        "ERROR health_base_url",
        "ERROR synthetics.frontend_url",
    ]
    assert "make discover ENV=staging CLUSTER=<cluster>" in placeholders[0]


def test_a_resource_without_datapoints_is_a_warning(
    clients: Clients, health: HealthService, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a Redis group and a backend service that published nothing in 24 h
    service = build_service(clients, metrics=False)
    put_metrics(clients, service, skip=(service.redis_members[0], service.services["backend"]))
    config_for(tmp_path, service, health_base_url=health.url)
    code, lines, _ = preflight(capsys, tmp_path)
    assert code == 0
    assert problems(lines) == [
        "WARNING ecs.backend_service_name: no AWS/ECS CPUUtilization datapoints in 24 h for ClusterName=pb-staging,"
        " ServiceName=pb-staging-backend: a wrong id, or the resource is idle; the alarms on it can never fire",
        "WARNING elasticache.cache_cluster_ids.0: no AWS/ElastiCache CPUUtilization datapoints in 24 h for"
        " CacheClusterId=pb-staging-redis-001, CacheNodeId=0001: a wrong id, or the resource is idle; the alarms"
        " on it can never fire",
    ]


def test_an_unreachable_health_url_is_one_warning_within_the_deadline(
    service: Service, health: HealthService, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a health service whose liveness endpoint never answers and whose readiness says 503
    health.set_faults(endpoints={"/health/live": "hang"}, database="unhealthy")
    config_for(tmp_path, service, health_base_url=health.url)
    started = time.monotonic()
    code, lines, _ = preflight(capsys, tmp_path)
    elapsed = time.monotonic() - started
    # Then preflight waits at most its total deadline (5 s, not 5 s per URL) and warns, per reason
    assert elapsed < 8
    warnings = problems(lines)
    assert code == 0
    assert warnings[0] == (
        f"WARNING health_base_url: {health.url}: timeout after 3000 ms: check live (/health/live); the synthetic"
        " monitor would alarm on it"
    )
    assert any("check ready (/health/ready)" in line and "503" in line for line in warnings)


def test_task_definitions_logging_elsewhere_are_warnings(
    clients: Clients, health: HealthService, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given services whose containers log to a group ECS's console made, not the stack's /aws/ecs/staging/*
    service = build_service(clients, log_group="/ecs/pb-staging")
    config_for(tmp_path, service, health_base_url=health.url)
    code, lines, _ = preflight(capsys, tmp_path)
    assert code == 0
    assert problems(lines) == [
        f"WARNING ecs.{role}_service_name: task definition pb-staging-{role}:1 of service 'pb-staging-{role}':"
        " container app logs to /ecs/pb-staging, not /aws/ecs/staging/*: the stack's log groups, metric filters"
        " and saved queries see nothing from it (deployment guide: point the task definitions at the log groups)"
        for role in ("backend", "frontend")
    ]


def test_reserved_concurrency_that_does_not_fit_blocks_the_deploy(
    service: Service, health: HealthService, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an account with 104 unreserved executions: the stack's 5 would leave 99, below Lambda's minimum 100
    config_for(tmp_path, service, health_base_url=health.url)
    code, lines, _ = preflight(capsys, tmp_path, lambda_=lambda_client(limit=1000, unreserved=104))
    assert code == 1
    assert problems(lines) == [
        "ERROR router.reserved_concurrency: the stack reserves 5 concurrent executions"
        f" ({PREFIX}-alert-router 2, {PREFIX}-sentry-intake 2, {PREFIX}-synthetic-monitor 1); the account"
        " allows 1000, 104 unreserved, and Lambda keeps at least 100 unreserved, so the deploy would fail (it"
        " would leave 99): lower router.reserved_concurrency or raise the quota 'Concurrent executions' (Service"
        " Quotas, AWS Lambda)"
    ]
    # And once the functions exist with those reservations, an update takes nothing more: it passes
    code, lines, _ = preflight(capsys, tmp_path, lambda_=lambda_client(unreserved=104, deployed=RESERVED))
    assert (code, problems(lines)) == (0, [])


@pytest.mark.parametrize(
    ("slack", "sentry", "expected"),
    [
        (
            None,
            None,
            [
                f"WARNING secret {PREFIX}/slack-webhooks: still the generated placeholder: no alert reaches Slack"
                " until it is filled (deployment guide: Slack webhooks and the secret)",
                f"WARNING secret {PREFIX}/sentry-client-secret: still the generated placeholder: Sentry's alert"
                " webhooks are refused until it is filled (deployment guide: Sentry alerts into Slack; ignore this if"
                " you do not use them)",
            ],
        ),
        (
            '{"alerts-critical": "https://hooks.slack.com/services/T/B/c"}',
            "0f" * 32,
            [
                f"WARNING secret {PREFIX}/slack-webhooks: has nothing for #alerts-errors, #alerts-performance: the"
                " router cannot post there"
            ],
        ),
        (
            '{"alerts-critical": "http://127.0.0.1:9/hook"}',
            '{"client_secret": ""}',
            [
                f"WARNING secret {PREFIX}/slack-webhooks: is rejected by the router: it: the URL for channel"
                " 'alerts-critical' is not an accepted webhook URL",
                f"WARNING secret {PREFIX}/sentry-client-secret: is rejected by the Sentry intake: the Sentry client"
                " secret is empty: fill it in Secrets Manager (see the README)",
            ],
        ),
        (
            '{"bot_token": "xoxb-1-2-abc", "channel_ids": {"alerts-critical": "C1", "alerts-errors": "C2",'
            ' "alerts-performance": "C3"}}',
            '{"client_secret": "' + "ab" * 32 + '"}',
            [],
        ),
    ],
)
def test_deployed_secrets_must_be_filled_in_a_shape_the_functions_accept(
    *,
    clients: Clients,
    service: Service,
    health: HealthService,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    slack: str | None,
    sentry: str | None,
    expected: list[str],
) -> None:
    # Given the deployed stack's secrets: as created, or filled with these values
    deploy_stack_parts(clients, PREFIX, slack=slack, sentry=sentry)
    config_for(tmp_path, service, health_base_url=health.url)
    code, lines, _ = preflight(capsys, tmp_path)
    # Then each unfilled or rejected one is a warning (deploying does not make it worse); no value is printed
    assert (code, problems(lines)) == (0, expected)
    assert not any("hooks.slack.com" in line or "xoxb" in line or "abab" in line for line in lines)


def test_the_fallback_email_must_be_subscribed_in_production(
    clients: Clients, health: HealthService, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given production's deployed stack with filled secrets but no subscription on the fallback topic
    service = build_service(clients, environment="production")
    topic = deploy_stack_parts(clients, "peoplebooster-production", slack=json.dumps(VALID_WEBHOOKS), sentry="ab" * 32)
    config_for(tmp_path, service, health_base_url=health.url)
    code, lines, _ = preflight(capsys, tmp_path, env="production")
    assert problems(lines) == [
        "WARNING router.fallback_email: sre-oncall@peoplebooster.test is not subscribed to"
        " peoplebooster-production-alerts-fallback: deploy again (make deploy) to create the subscription"
    ]
    # When the subscription exists (moto confirms email subscriptions at once), then nothing is said
    clients("sns").subscribe(TopicArn=topic, Protocol="email", Endpoint="sre-oncall@peoplebooster.test")
    code, lines, _ = preflight(capsys, tmp_path, env="production")
    assert (code, problems(lines)) == (0, [])


def test_an_alarm_stuck_in_insufficient_data_names_the_field_of_its_id(
    clients: Clients, service: Service, health: HealthService, tmp_path: Path
) -> None:
    # Given the deployed RDS CPU alarm in INSUFFICIENT_DATA (no data: its DB instance id is wrong)
    deploy_stack_parts(clients, PREFIX, slack=json.dumps(VALID_WEBHOOKS), sentry="ab" * 32)
    cloudwatch = clients("cloudwatch")
    cloudwatch.put_metric_alarm(
        AlarmName=f"{PREFIX}-rds-cpu-high",
        Namespace="AWS/RDS",
        MetricName="CPUUtilization",
        Dimensions=[{"Name": "DBInstanceIdentifier", "Value": service.rds}],
        Statistic="Average",
        Period=60,
        EvaluationPeriods=5,
        Threshold=80,
        ComparisonOperator="GreaterThanThreshold",
    )
    cloudwatch.set_alarm_state(AlarmName=f"{PREFIX}-rds-cpu-high", StateValue="INSUFFICIENT_DATA", StateReason="x")
    config_for(tmp_path, service, health_base_url=health.url)
    template = reserved_template(tmp_path, PREFIX, RESERVED)
    args = _parser().parse_args(["--env", "staging", "--config-dir", str(tmp_path), "--template", str(template)])

    def warnings_at(now: datetime) -> list[str]:
        findings, _ = run(args, {}, now, Aws(REGION, clients={"lambda": lambda_client()}, session=SESSION))
        return [f.line for f in findings if f.level == "WARNING"]

    # When preflight runs a few minutes later, then that is normal after a deploy: nothing is said
    assert warnings_at(datetime.now(UTC) + timedelta(minutes=5)) == []
    # When it is still so 40 minutes later, then it is a warning naming the config field of the id
    [line] = warnings_at(datetime.now(UTC) + timedelta(minutes=40))
    assert line.startswith(
        f"WARNING rds.instance_identifier: alarm {PREFIX}-rds-cpu-high has been INSUFFICIENT_DATA since "
    )
    assert line.endswith(f"UTC: its metric gets no data (DBInstanceIdentifier={service.rds}); is the id right?")


def test_credentials_in_another_region_are_refused_first_in_one_line(
    service: Service,
    health: HealthService,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given credentials whose region is not the config's (the CDK CLI would deploy there)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    config_for(tmp_path, service, health_base_url=health.url)
    code, lines, err = preflight(capsys, tmp_path)
    # Then nothing is checked (every answer would come from the wrong region): one line, exit 1
    assert (code, lines) == (1, [])
    assert err.splitlines() == [
        f"preflight: region: config/staging.yaml says {REGION} but the credentials' region is us-east-1 (AWS_REGION,"
        f" AWS_DEFAULT_REGION or the profile's region): switch the profile or set AWS_REGION={REGION}"
    ]


def test_credentials_of_another_account_are_refused_in_one_line(
    service: Service, health: HealthService, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_for(tmp_path, service, health_base_url=health.url, changes={"account": "111122223333"})
    code, lines, err = preflight(capsys, tmp_path)
    assert (code, lines) == (1, [])
    assert err.splitlines() == [
        "preflight: account: config/staging.yaml says 111122223333 but the credentials are for account 123456789012"
    ]


def test_container_insights_memory_and_storage_must_be_the_accounts(
    service: Service, health: HealthService, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a config that turns on the task-count alarms on a cluster without Container Insights, and sizes
    # the RDS alarms for another instance (the account's: db.t4g.small, 2 GiB, 20 GiB allocated)
    changes = {"ecs.container_insights": True, "rds.memory_gib": 4, "rds.allocated_storage_gib": 100}
    config_for(tmp_path, service, health_base_url=health.url, changes=changes)
    code, lines, _ = preflight(capsys, tmp_path)
    assert code == 0
    assert problems(lines) == [
        "WARNING ecs.container_insights: true, but cluster 'pb-staging' has Container Insights off: the task-count"
        " alarms get no data (aws ecs update-cluster-settings --cluster pb-staging --settings"
        " name=containerInsights,value=enabled, or set it false)",
        "WARNING rds.memory_gib: 4, but the instance class has 2 GiB: set memory_gib: 2 (the FreeableMemory alarm"
        " is a share of it)",
        "WARNING rds.allocated_storage_gib: 100, but the instance has 20 GiB allocated: set allocated_storage_gib:"
        " 20 (the FreeStorageSpace alarm is a share of it)",
    ]
    # And with the account's values nothing is said
    config_for(
        tmp_path, service, health_base_url=health.url, changes={"rds.memory_gib": 2, "rds.allocated_storage_gib": 20}
    )
    code, lines, _ = preflight(capsys, tmp_path)
    assert (code, problems(lines)) == (0, [])


def test_a_log_group_the_create_would_collide_with_blocks_the_first_deploy(
    clients: Clients, service: Service, health: HealthService, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the application log group that ECS made for the task definitions, and a template that creates it
    clients("logs").create_log_group(logGroupName="/aws/ecs/staging/application")
    config_for(tmp_path, service, health_base_url=health.url)
    template = reserved_template(tmp_path, PREFIX, RESERVED, log_groups=("/aws/ecs/staging/application",))
    aws = Aws(REGION, clients={"lambda": lambda_client()}, session=SESSION)
    code = main(["--env", "staging", "--config-dir", str(tmp_path), "--template", str(template)], aws=aws)
    lines = capsys.readouterr().out.splitlines()
    # Then the stack's create would fail "already exists": an error, and the way out (adopt, never delete)
    assert code == 1
    assert [line for line in lines if line.startswith(("ERROR", "INFO stack: adopt"))] == [
        "ERROR stack: log group /aws/ecs/staging/application already exists: creating the stack would fail on it",
        "INFO stack: adopt the existing log groups: set `logs: {adopt_existing: true}` in config/staging.yaml"
        " (docs/operations/deployment-guide.md#adopting-existing-log-groups)",
    ]


def test_the_stack_is_synthesized_once_per_run(
    service: Service, health: HealthService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given no --template: the concurrency and leftovers checks both need the stack's template (~10 s each)
    config_for(tmp_path, service, health_base_url=health.url)
    template = json.loads(reserved_template(tmp_path, PREFIX, RESERVED).read_text())
    synthesized: list[str] = []

    def synthesize(config: Any) -> dict[str, Any]:
        synthesized.append(config.environment)
        return dict(template)

    monkeypatch.setattr(preflight_module, "synthesized_template", synthesize)
    aws = Aws(REGION, clients={"lambda": lambda_client()}, session=SESSION)
    assert main(["--env", "staging", "--config-dir", str(tmp_path)], aws=aws) == 0
    # Then it is synthesized once
    assert synthesized == ["staging"]
