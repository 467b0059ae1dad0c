"""`make discover` (tools/discover.py) against a moto account: which resources it takes, and when it refuses."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from infra.config import load_config
from tests.aws_tables import REGION
from tests.moto_account import REPO, SESSION, Clients, add_cache, add_database, build_service, moto_clients
from tools.aws_account import Aws
from tools.discover import main


@pytest.fixture
def clients(moto_dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> Clients:
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    return moto_clients()


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    shutil.copy(REPO / "config" / "staging.yaml", tmp_path / "staging.yaml")
    return tmp_path


def discover(capsys: pytest.CaptureFixture[str], config_dir: Path, *arguments: str) -> tuple[int, str, str]:
    code = main(["--env", "staging", "--config-dir", str(config_dir), *arguments], aws=Aws(REGION, session=SESSION))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_an_unknown_cluster_lists_the_clusters(
    clients: Clients, config_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    build_service(clients)
    code, out, err = discover(capsys, config_dir, "--cluster", "pb-stg")
    assert (code, out) == (1, "")
    assert err == f"discover: cluster 'pb-stg' not found in {REGION} (candidates: pb-staging)\n"


def test_two_candidates_for_the_backend_are_listed_and_a_flag_decides(
    clients: Clients, config_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a cluster with a backend service and an "api" service (a worker without a load balancer)
    service = build_service(clients, extra_services=("api",))
    before = (config_dir / "staging.yaml").read_text()
    # When discover runs without a flag, then it stops, lists both and writes nothing
    code, _, err = discover(capsys, config_dir, "--cluster", "pb-staging")
    assert code == 1
    assert err == (
        "discover: two candidates for the backend service in cluster 'pb-staging': pb-staging-api,"
        " pb-staging-backend; pass --backend NAME (BACKEND=NAME)\n"
    )
    assert (config_dir / "staging.yaml").read_text() == before
    # When --backend names one, then the config is written with it and its target group
    code, out, err = discover(capsys, config_dir, "--cluster", "pb-staging", "--backend", "pb-staging-backend")
    assert (code, err) == (0, ""), err
    assert "  ecs.backend_service_name          pb-staging-backend  (--backend)" in out.splitlines()
    config = load_config("staging", config_dir)
    assert config.ecs.backend_service_name == "pb-staging-backend"
    assert {g.name: g.full_name for g in config.alb.target_groups} == service.target_groups


def test_the_environments_database_and_cache_are_found_by_tag(
    clients: Clients, config_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the staging service and, in the same region, production's database and cache
    build_service(clients)
    add_database(clients, "shared-db-2", "production", instance_class="db.r6g.large")
    add_cache(clients, "shared-cache-2", "production")
    code, out, err = discover(capsys, config_dir, "--cluster", "pb-staging")
    assert (code, err) == (0, ""), err
    # Then the ones tagged environment=staging are taken, and the output says why
    assert "  rds.instance_identifier           pb-staging-db  (tag environment=staging)" in out.splitlines()
    assert "  elasticache.replication_group_id  pb-staging-redis  (tag environment=staging)" in out.splitlines()
    config = load_config("staging", config_dir)
    assert (config.rds.instance_identifier, config.rds.max_connections) == ("pb-staging-db", 225)
    # And --rds takes another (a db.r6g.large: 16 GiB // 9531392 = 1802)
    code, _, err = discover(capsys, config_dir, "--cluster", "pb-staging", "--rds", "shared-db-2")
    assert (code, err) == (0, "")
    assert load_config("staging", config_dir).rds.max_connections == 1802


def test_nothing_is_written_when_the_result_would_not_load(
    clients: Clients, config_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a config whose other settings are invalid (a threshold above 100%)
    build_service(clients)
    path = config_dir / "staging.yaml"
    path.write_text(path.read_text() + "thresholds:\n  ecs_cpu_percent: 180\n")
    before = path.read_text()
    code, _, err = discover(capsys, config_dir, "--cluster", "pb-staging")
    assert code == 1
    assert err == (
        f"discover: the discovered config does not load, nothing written: {path}:"
        " thresholds.ecs_cpu_percent: Input should be less than or equal to 100\n"
    )
    assert path.read_text() == before
