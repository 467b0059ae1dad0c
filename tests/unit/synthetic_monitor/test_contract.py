"""The health contract: the docs copy, the Lambda's small validator versus jsonschema, the reference service."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from lambdas.synthetic_monitor.contract import SCHEMA, violations
from tests.unit.synthetic_monitor.test_checks import HEALTHY
from tools.health_service import Faults, health_body, metrics_body

DOCS_SCHEMA = Path(__file__).resolve().parents[3] / "docs" / "health-contract.schema.json"
METRICS: dict[str, Any] = {
    "timestamp": "2026-01-17T10:00:00.000Z",
    "uptime": 86400,
    "cpu": {"usagePercent": 12.5},
    "memory": {"usagePercent": 40.0, "usedBytes": 1, "totalBytes": 2},
}


def _jsonschema_errors(document: Any, contract: str) -> list[str]:
    schema = SCHEMA if contract == "health" else {"$defs": SCHEMA["$defs"], "$ref": f"#/$defs/{contract}"}
    validator = jsonschema.Draft202012Validator(schema)
    return [error.message for error in validator.iter_errors(document)]


def _mutated(base: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    document = copy.deepcopy(base)
    *parents, last = path.split(".")
    node = document
    for key in parents:
        node = node[key]
    if value is _DELETE:
        del node[last]
    else:
        node[last] = value
    return document


_DELETE = object()


def test_docs_copy_is_the_schema() -> None:
    # Given the schema the Lambda uses and the one in docs/
    # Then they are the same; to regenerate the docs copy:
    #   python -m lambdas.synthetic_monitor.contract > docs/health-contract.schema.json
    assert json.loads(DOCS_SCHEMA.read_text(encoding="utf-8")) == SCHEMA


def test_schema_is_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize(
    ("contract", "document"),
    [
        ("health", HEALTHY),
        ("health", _mutated(HEALTHY, "status", "degraded")),
        ("health", _mutated(HEALTHY, "checks.database.status", "unhealthy")),
        ("health", _mutated(HEALTHY, "checks.queue", {"status": "healthy", "responseTime": 1})),
        ("health", _mutated(HEALTHY, "status", "ok")),
        ("health", _mutated(HEALTHY, "uptime", "1 day")),
        ("health", _mutated(HEALTHY, "uptime", -1)),
        ("health", _mutated(HEALTHY, "uptime", True)),
        ("health", _mutated(HEALTHY, "version", _DELETE)),
        ("health", _mutated(HEALTHY, "checks.redis", _DELETE)),
        ("health", _mutated(HEALTHY, "checks.redis.responseTime", "2ms")),
        ("health", _mutated(HEALTHY, "checks.externalServices.services.s3", {"state": "healthy"})),
        ("health", _mutated(HEALTHY, "checks.externalServices.services", [])),
        ("health", _mutated(HEALTHY, "checks.queue", {"status": "healthy"})),
        ("health", []),
        ("health", None),
        ("metrics", METRICS),
        ("metrics", _mutated(METRICS, "cpu.usagePercent", "12%")),
        ("metrics", _mutated(METRICS, "memory.usedBytes", 1.5)),
        ("metrics", _mutated(METRICS, "memory.usedBytes", 2.0)),
        ("metrics", _mutated(METRICS, "cpu", _DELETE)),
        ("live", {"status": "ok"}),
        ("live", {"status": "healthy"}),
        ("ready", {"status": "not_ready"}),
        ("ready", {}),
    ],
)
def test_small_validator_agrees_with_jsonschema(contract: str, document: Any) -> None:
    # Given a valid or broken document
    # When both validators judge it
    ours = violations(document, contract)
    theirs = _jsonschema_errors(document, contract)
    # Then they agree on valid versus invalid
    assert (not ours) == (not theirs), (ours, theirs)


@pytest.mark.parametrize(
    "faults",
    [
        Faults(),
        Faults(database="unhealthy"),
        Faults(redis="degraded"),
        Faults(external={"openai": "unhealthy", "s3": "degraded"}),
    ],
)
def test_reference_service_bodies_meet_the_contract(faults: Faults) -> None:
    # Given the reference service's answers under these faults
    _status, body = health_body(faults, uptime=12.3, version="1.2.3")
    metrics = metrics_body(uptime=12.3, cpu_seconds=0.5)
    # Then jsonschema accepts them
    assert _jsonschema_errors(body, "health") == []
    assert _jsonschema_errors(metrics, "metrics") == []


def test_unhealthy_core_dependency_means_503_and_external_means_degraded() -> None:
    assert health_body(Faults(redis="unhealthy"), uptime=1, version="1")[0] == 503
    status, body = health_body(Faults(external={"stripe": "unhealthy"}), uptime=1, version="1")
    assert status == 200
    assert (body["status"], body["checks"]["externalServices"]["status"]) == ("degraded", "degraded")
