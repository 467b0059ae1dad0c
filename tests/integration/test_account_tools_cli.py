"""preflight, discover and smoke as a person runs them: `make ...` and `python -m tools.<x>` in a subprocess,
against a moto server on 127.0.0.1 reached through AWS_ENDPOINT_URL (boto3 honours it; the tools have no code
for it). Bad input is one line on stderr, never a traceback.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml
from moto.server import ThreadedMotoServer

from infra.config import load_config
from lambdas.shared.alarm_metadata import Category, Severity, format_alarm_description
from tests.aws_tables import FAKE_CREDENTIALS
from tests.moto_account import REPO, Clients, build_service, config_for, moto_clients, reserved_template
from tools.discover import RESOURCE_SECTIONS
from tools.health_service import HealthService

PREFIX = "peoplebooster-staging"
TOOLS = ("preflight", "discover", "smoke")


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")  # 0.5 s per reset; no test here needs an AMI
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
        server.stop()


@pytest.fixture
def endpoint(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """An empty account on the moto server for this test."""
    requests.post(f"{moto_server}/moto-api/reset", timeout=10).raise_for_status()
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    return moto_server


@pytest.fixture
def clients(endpoint: str) -> Clients:
    return moto_clients(endpoint_url=endpoint)


@pytest.fixture
def health() -> Iterator[HealthService]:
    with HealthService() as service:
        yield service


def _environment(**extra: str) -> dict[str, str]:
    """This process's environment without any AWS setting, plus `extra`."""
    clean = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    return {**clean, "AWS_EC2_METADATA_DISABLED": "true", **extra}


def _account_environment(endpoint: str) -> dict[str, str]:
    return _environment(**FAKE_CREDENTIALS, AWS_ENDPOINT_URL=endpoint)


def _run(command: list[str], environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=REPO, env=environment, capture_output=True, text=True, timeout=180, check=False)


def _tool(tool: str, *arguments: str, environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return _run([sys.executable, "-m", f"tools.{tool}", *arguments], environment)


def test_make_preflight_passes_on_the_right_ids(
    clients: Clients, endpoint: str, health: HealthService, tmp_path: Path
) -> None:
    # Given the moto account's service and a config naming it
    service = build_service(clients)
    config_for(tmp_path, service, health_base_url=health.url)
    template = reserved_template(tmp_path, PREFIX, {"alert-router": 2, "sentry-intake": 2, "synthetic-monitor": 1})
    # When `make preflight` runs with AWS_ENDPOINT_URL pointing at the moto server
    done = _run(
        ["make", "--no-print-directory", "preflight", "ENV=staging", f"CONFIG_DIR={tmp_path}", f"TEMPLATE={template}"],
        _account_environment(endpoint),
    )
    # Then there is no error; the one warning is the API moto lacks (GetAccountSettings), said as a warning
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert not [line for line in lines if line.startswith("ERROR")]
    assert [line for line in lines if line.startswith("WARNING")] == [
        "WARNING router.reserved_concurrency: cannot read the account's Lambda concurrency (GetAccountSettings"
        " answered 404); the stack reserves 5: check that `aws lambda get-account-settings` shows at least 105"
        " UnreservedConcurrentExecutions"
    ]
    assert lines[-1] == "preflight staging in ap-northeast-1, account 123456789012: 0 errors, 1 warning"


def test_preflight_exits_1_on_a_wrong_id(
    clients: Clients, endpoint: str, health: HealthService, tmp_path: Path
) -> None:
    service = build_service(clients)
    config_for(tmp_path, service, health_base_url=health.url, changes={"ecs.frontend_service_name": "pb-staging-web"})
    template = reserved_template(tmp_path, PREFIX, {})
    done = _tool(
        "preflight", "--env", "staging", "--config-dir", str(tmp_path), "--template", str(template),
        environment=_account_environment(endpoint),
    )  # fmt: skip
    assert done.returncode == 1
    assert (
        "ERROR ecs.frontend_service_name: service 'pb-staging-web' not found in cluster 'pb-staging'"
        " (candidates: pb-staging-backend, pb-staging-frontend)"
    ) in done.stdout.splitlines()


def test_make_discover_writes_a_config_that_loads_and_passes_preflight(
    clients: Clients, endpoint: str, health: HealthService, tmp_path: Path
) -> None:
    # Given the account's service and the committed config (example ids) with reachable health and front-end URLs
    # (with Container Insights on, which the account cannot tell discover: it must be kept)
    service = build_service(clients, prefix="peoplebooster", container_insights=True)
    committed = (
        (REPO / "config" / "staging.yaml")
        .read_text(encoding="utf-8")
        .replace("https://staging-api.peoplebooster.example.com", health.url)
        .replace("https://staging.peoplebooster.example.com/", f"{health.url}/")
        .replace("\necs:\n", "\necs:\n  container_insights: true\n")
    )
    (tmp_path / "staging.yaml").write_text(committed, encoding="utf-8")
    out = tmp_path / "out" / "staging.yaml"
    out.parent.mkdir()
    # When `make discover` runs for the cluster
    done = _run(
        ["make", "--no-print-directory", "discover", "ENV=staging", "CLUSTER=peoplebooster-staging",
         f"CONFIG_DIR={tmp_path}", f"OUT={out}"],
        _account_environment(endpoint),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (
        done.stdout.splitlines()[-1]
        == f"wrote {out} (other settings and their comments kept); next: make preflight ENV=staging"
    )
    # Then the file loads, names the account's resources and max_connections from the class (db.t4g.small: 225)
    config = load_config("staging", out.parent)
    assert (config.ecs.cluster_name, config.ecs.backend_service_name, config.ecs.frontend_service_name) == (
        service.cluster,
        service.services["backend"],
        service.services["frontend"],
    )
    assert config.alb.full_name == service.alb
    assert {g.name: g.full_name for g in config.alb.target_groups} == service.target_groups
    rds = config.rds
    assert (rds.instance_identifier, rds.max_connections, rds.memory_gib, rds.allocated_storage_gib) == (
        service.rds,
        225,
        2,
        20,
    )
    assert (config.elasticache.replication_group_id, config.elasticache.cache_cluster_ids) == (
        service.redis,
        service.redis_members,
    )
    # And every other setting, and every comment outside the replaced sections, is as it was
    before = yaml.safe_load(committed)
    after = yaml.safe_load(out.read_text(encoding="utf-8"))
    unchanged = set(before) - set(RESOURCE_SECTIONS)
    assert {key: after[key] for key in unchanged} == {key: before[key] for key in unchanged}
    assert config.ecs.container_insights is True
    assert _comments_outside(out.read_text(encoding="utf-8")) == _comments_outside(committed)
    # And preflight finds nothing wrong with it
    template = reserved_template(tmp_path, PREFIX, {})
    checked = _tool(
        "preflight", "--env", "staging", "--config-dir", str(out.parent), "--template", str(template),
        environment=_account_environment(endpoint),
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout
    assert checked.stdout.splitlines()[-1].endswith(": 0 errors, 0 warnings")


def test_make_smoke_drives_the_alarm_and_says_where_to_look(clients: Clients, endpoint: str) -> None:
    # Given a deployed alert topic and a warning alarm for #alerts-errors
    topic = clients("sns").create_topic(Name=f"{PREFIX}-alerts")["TopicArn"]
    clients("cloudwatch").put_metric_alarm(
        AlarmName=f"{PREFIX}-synthetic-metrics-failing",
        AlarmDescription=format_alarm_description(
            "The metrics check failed",
            severity=Severity.WARNING,
            category=Category.ERRORS,
            runbook_url="https://r/x.md",
        ),
        Namespace="PeopleBooster/Synthetics",
        MetricName="CheckSuccess",
        Dimensions=[{"Name": "Check", "Value": "metrics"}],
        Statistic="Minimum",
        Period=60,
        EvaluationPeriods=3,
        Threshold=1,
        ComparisonOperator="LessThanThreshold",
        AlarmActions=[topic],
        OKActions=[topic],
    )
    done = _run(["make", "--no-print-directory", "smoke", "ENV=staging", "HOLD=0"], _account_environment(endpoint))
    assert done.returncode == 0, done.stderr
    assert "expect in Slack #alerts-errors" in done.stdout
    assert f"{PREFIX}-synthetic-metrics-failing -> ALARM: CloudWatch now shows ALARM" in done.stdout
    state = clients("cloudwatch").describe_alarms(AlarmNames=[f"{PREFIX}-synthetic-metrics-failing"])["MetricAlarms"][0]
    assert state["StateValue"] == "OK"
    assert "Smoke test by" in state["StateReason"]


def _comments_outside(text: str) -> list[str]:
    """The comment lines that are not inside one of the sections discover replaces."""
    comments, section = [], ""
    for line in text.splitlines():
        if line[:1].isalpha():
            section = line.split(":", 1)[0]
        if "#" in line and (line.startswith("#") or section not in RESOURCE_SECTIONS):
            comments.append(line)
    return comments


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _arguments(tool: str, config_dir: Path, env: str = "staging") -> list[str]:
    extra = ["--cluster", "pb-staging"] if tool == "discover" else []
    return ["--env", env, "--config-dir", str(config_dir), *extra]


@pytest.mark.parametrize("tool", TOOLS)
@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("unknown environment", "unknown environment 'prod': use one of staging, production"),
        ("unreadable config", "staging.yaml: cannot read (Is a directory)"),
        ("invalid YAML", "staging.yaml: not valid YAML"),
        ("endpoint refuses", "cannot reach AWS: Could not connect to the endpoint URL"),
        ("no credentials", "no AWS credentials: log in"),
    ],
)
def test_bad_input_is_one_line_never_a_traceback(tool: str, case: str, expected: str, tmp_path: Path) -> None:
    # Given a valid config unless the case breaks it
    (tmp_path / "staging.yaml").write_text((REPO / "config" / "staging.yaml").read_text(encoding="utf-8"))
    environment = _environment(**FAKE_CREDENTIALS, AWS_ENDPOINT_URL=f"http://127.0.0.1:{_closed_port()}")
    env = "staging"
    if case == "unknown environment":
        env = "prod"
    elif case == "unreadable config":
        (tmp_path / "staging.yaml").unlink()
        (tmp_path / "staging.yaml").mkdir()
    elif case == "invalid YAML":
        (tmp_path / "staging.yaml").write_text("ecs: [unclosed\n")
    elif case == "no credentials":
        environment = _environment(
            AWS_CONFIG_FILE=str(tmp_path / "none"), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none")
        )
    done = _tool(tool, *_arguments(tool, tmp_path, env), environment=environment)
    # Then one line on stderr, prefixed with the tool, and nothing on stdout
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    [line] = done.stderr.splitlines()
    assert line.startswith(f"{tool}: ")
    assert expected in line
    assert done.stdout == ""


def test_make_deploy_runs_preflight_before_cdk_deploy() -> None:
    done = _run(["make", "-n", "--no-print-directory", "deploy", "ENV=production"], _environment())
    commands = [line for line in done.stdout.splitlines() if "tools.preflight" in line or "cdk deploy" in line]
    assert commands == [
        ".venv/bin/python -m tools.preflight --env production",
        # every stack of the environment: the home stack and its probe stacks (synthetics.probe_regions)
        "node_modules/.bin/cdk deploy -c env=production --all --require-approval broadening",
    ]


def test_a_failed_preflight_stops_make_deploy_before_cdk(tmp_path: Path) -> None:
    # Given credentials whose region is not the config's: preflight refuses in one line
    done = _run(
        ["make", "--no-print-directory", "deploy", "ENV=staging"],
        _environment(**FAKE_CREDENTIALS, AWS_REGION="us-east-1", AWS_ENDPOINT_URL=f"http://127.0.0.1:{_closed_port()}"),
    )
    # Then make stops there: cdk deploy never runs
    assert done.returncode != 0
    assert "preflight: region: config/staging.yaml says ap-northeast-1 but the credentials' region is us-east-1" in (
        done.stderr
    )
    assert "tools.preflight --env staging" in done.stdout
    assert "cdk deploy" not in done.stdout
