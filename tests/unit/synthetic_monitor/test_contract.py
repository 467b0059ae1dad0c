"""The health contracts: the docs copies, the Lambda's small validator versus jsonschema, the tolerant schema versus
the tolerant judge, the reference service."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from lambdas.synthetic_monitor.contract import SCHEMA, TOLERANT_SCHEMA, violations
from lambdas.synthetic_monitor.reading import DEFAULT_METRIC_PATHS as TOLERANT_METRIC_PATHS
from lambdas.synthetic_monitor.reading import health_reasons, read_service_metrics
from tests.unit.synthetic_monitor import bodies
from tests.unit.synthetic_monitor.bodies import REPORT_HEALTH as HEALTHY
from tests.unit.synthetic_monitor.test_reading import HEALTH_SHAPES, NOW
from tools.health_service import Faults, health_body, metrics_body

DOCS = Path(__file__).resolve().parents[3] / "docs"
DOCS_SCHEMA = DOCS / "health-contract.schema.json"
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


def test_docs_copies_are_the_schemas() -> None:
    # Given the schemas the Lambda is built from and the ones in docs/
    # Then they are the same; to regenerate the docs copies:
    #   python -m lambdas.synthetic_monitor.contract > docs/health-contract.schema.json
    #   python -m lambdas.synthetic_monitor.contract tolerant > docs/health-contract-tolerant.schema.json
    assert json.loads(DOCS_SCHEMA.read_text(encoding="utf-8")) == SCHEMA
    tolerant = DOCS / "health-contract-tolerant.schema.json"
    assert json.loads(tolerant.read_text(encoding="utf-8")) == TOLERANT_SCHEMA


@pytest.mark.parametrize("schema", [SCHEMA, TOLERANT_SCHEMA], ids=["strict", "tolerant"])
def test_schemas_are_valid_json_schema(schema: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator.check_schema(schema)


def _tolerant_errors(document: Any) -> list[str]:
    return [error.message for error in jsonschema.Draft202012Validator(TOLERANT_SCHEMA).iter_errors(document)]


def _unreadable(document: Any) -> list[str]:
    """The tolerant judge's reasons that are about the body's form, not the service's health."""
    return [reason for reason in health_reasons(document) if "not a known status word" in reason or "body is" in reason]


_WORD_BROKEN = [
    ("status", lambda d: d.update(status="green")),
    ("status type", lambda d: d.update(status=True)),
    ("a dependency", lambda d: d.update(details={"db": {"status": "fine"}})),
    ("an array item", lambda d: d.update(dependencies=[{"name": "db", "status": "??"}])),
    ("a group member", lambda d: d.update(checks={"ext": {"status": "ok", "services": {"s3": {"status": 0}}}})),
    ("an IETF observation", lambda d: d.update(checks={"db:rt": [{"status": "passing"}]})),
]


@pytest.mark.parametrize(
    "document",
    [row[1] for row in HEALTH_SHAPES] + [{"status": "ok", "checks": "n/a"}, {"details": {"db": {"up": True}}}],
    ids=[row[0] for row in HEALTH_SHAPES] + ["block-not-a-block", "entry-without-status"],
)
def test_the_tolerant_schema_accepts_what_the_tolerant_judge_reads(document: Any) -> None:
    # Given a real library's body: the judge can read it (its verdict may still be "unhealthy")
    assert _unreadable(document) == []
    # Then the published tolerant schema accepts it too
    assert _tolerant_errors(document) == []


@pytest.mark.parametrize(("where", "breaks"), _WORD_BROKEN, ids=[row[0] for row in _WORD_BROKEN])
def test_the_tolerant_schema_refuses_what_the_tolerant_judge_cannot_read(where: str, breaks: Any) -> None:
    # Given a body with a status that is no status word, at this place
    document = copy.deepcopy(bodies.NESTJS_OK)
    document.pop("details")
    document.pop("info")
    document.pop("error")
    breaks(document)
    # Then both say so
    assert _unreadable(document), where
    assert _tolerant_errors(document), where


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
    metrics = metrics_body(uptime=12.3, cpu_seconds=0.5, shape="report")
    # Then jsonschema accepts them: the strict contract, and so the tolerant one
    assert _jsonschema_errors(body, "health") == []
    assert _jsonschema_errors(metrics, "metrics") == []
    assert _tolerant_errors(body) == []


def test_the_reference_services_node_metrics_break_the_strict_contract_and_read_tolerantly() -> None:
    # Given the reference service's default /health/metrics: Node's own field names
    metrics = metrics_body(uptime=12.3, cpu_seconds=0.5)
    # Then the strict contract refuses it, and the tolerant reading finds memory and uptime (CPU it cannot)
    assert _jsonschema_errors(metrics, "metrics") != []
    service, missing = read_service_metrics(metrics, TOLERANT_METRIC_PATHS, now=NOW)
    assert service is not None
    assert service.uptime_seconds == 12.3
    assert service.memory_bytes == metrics["memory"]["rss"]
    assert service.memory_percent == pytest.approx(metrics["memory"]["rss"] / metrics["system"]["totalmem"] * 100)
    assert [warning.field for warning in missing] == ["cpu_percent"]


def test_unhealthy_core_dependency_means_503_and_external_means_degraded() -> None:
    assert health_body(Faults(redis="unhealthy"), uptime=1, version="1")[0] == 503
    status, body = health_body(Faults(external={"stripe": "unhealthy"}), uptime=1, version="1")
    assert status == 200
    assert (body["status"], body["checks"]["externalServices"]["status"]) == ("degraded", "degraded")
