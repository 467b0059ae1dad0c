"""discover's pure choices: which service is which, which RDS/Redis is the environment's, and the text edit."""

from __future__ import annotations

import pytest
import yaml

from tools.discover import DiscoverError, Tagged, pick_for_environment, pick_service, replace_sections

SERVICES = ["pb-staging-api", "pb-staging-nextjs", "pb-staging-worker"]


def test_services_are_recognised_by_a_name_part() -> None:
    assert pick_service("backend", SERVICES, None, "c") == ("pb-staging-api", "name hint backend/api/server")
    assert pick_service("frontend", SERVICES, None, "c") == ("pb-staging-nextjs", "name hint frontend/web/next")
    # "rapid" has "api" inside, but no part starts with a hint
    with pytest.raises(DiscoverError, match=r"^no backend service in cluster 'c'"):
        pick_service("backend", ["pb-rapid", "pb-web"], None, "c")


def test_two_candidates_for_one_role_are_listed_and_a_flag_decides() -> None:
    names = ["pb-api", "pb-backend", "pb-web"]
    with pytest.raises(DiscoverError) as raised:
        pick_service("backend", names, None, "pb")
    assert str(raised.value) == (
        "two candidates for the backend service in cluster 'pb': pb-api, pb-backend; pass --backend NAME (BACKEND=NAME)"
    )
    assert pick_service("backend", names, "pb-backend", "pb") == ("pb-backend", "--backend")
    with pytest.raises(
        DiscoverError, match=r"--backend 'pb-svc': no such service in cluster 'pb' \(candidates: pb-api"
    ):
        pick_service("backend", names, "pb-svc", "pb")


def test_the_environments_instance_is_the_tagged_one_then_the_named_one_then_the_only_one() -> None:
    tagged = [Tagged("db-a", (("Environment", "Staging"),)), Tagged("db-b", (("environment", "production"),))]
    assert pick_for_environment("RDS instance", "rds", tagged, "staging", None) == ("db-a", "tag environment=staging")
    named = [Tagged("pb-stg-db", ()), Tagged("pb-prod-db", ())]
    assert pick_for_environment("RDS instance", "rds", named, "production", None) == (
        "pb-prod-db",
        "name has production/prod/prd",
    )
    assert pick_for_environment("RDS instance", "rds", [Tagged("main", ())], "staging", None) == (
        "main",
        "the only one in the region",
    )
    with pytest.raises(DiscoverError) as raised:
        pick_for_environment("RDS instance", "rds", [Tagged("a", ()), Tagged("b", ())], "staging", None)
    assert str(raised.value) == (
        "cannot tell which RDS instance is staging's: none is tagged environment=staging or named so"
        " (candidates: a, b); pass --rds ID (RDS=ID)"
    )
    with pytest.raises(DiscoverError, match=r"^two candidates for the RDS instance \(name has staging/stg/stage\)"):
        pick_for_environment("RDS instance", "rds", [Tagged("stg-a", ()), Tagged("stg-b", ())], "staging", None)


CONFIG = """# Header comment: kept.
service_name: pb
ecs: {cluster_name: old, backend_service_name: old-b, frontend_service_name: old-f}
# About RDS: a column-0 comment belongs to what follows it, so it stays.
rds:
  instance_identifier: old-db   # replaced with its section
  max_connections: 90

router:
  reserved_concurrency: 2
  # an indented comment inside a kept section
synthetics:
  schedule_minutes: 1"""


def test_only_the_resource_sections_are_replaced_and_everything_else_is_kept_as_written() -> None:
    sections = {
        "ecs": {"cluster_name": "c", "backend_service_name": "b", "frontend_service_name": "f"},
        "rds": {"instance_identifier": "db", "max_connections": 225},
        "elasticache": {"replication_group_id": "r", "cache_cluster_ids": ["r-001"]},
    }
    result = replace_sections(CONFIG, sections, {"rds.max_connections": "db.t4g.small (2048 MiB)"})
    assert result == (
        "# Header comment: kept.\n"
        "service_name: pb\n"
        "ecs:\n  cluster_name: c\n  backend_service_name: b\n  frontend_service_name: f\n"
        "# About RDS: a column-0 comment belongs to what follows it, so it stays.\n"
        "rds:\n  instance_identifier: db\n  max_connections: 225  # db.t4g.small (2048 MiB)\n"
        "\n"
        "router:\n  reserved_concurrency: 2\n  # an indented comment inside a kept section\n"
        "synthetics:\n  schedule_minutes: 1\n"
        "elasticache:\n  replication_group_id: r\n  cache_cluster_ids:\n    - r-001\n"
    )
    assert yaml.safe_load(result)["rds"] == sections["rds"]
