"""The check model and its condition vocabulary: parsing errors and verdicts, no I/O."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from lambdas.synthetic_monitor.checks import (
    DEFAULT_CHECKS,
    Check,
    CheckSpecError,
    DependencyHealth,
    Response,
    ServiceMetrics,
    judge,
    parse_checks,
    parse_condition,
)

NOW = 1_800_000_000.0

HEALTHY: dict[str, Any] = {
    "status": "healthy",
    "timestamp": "2026-01-17T10:00:00.000Z",
    "version": "1.0.0",
    "uptime": 86400,
    "checks": {
        "database": {"status": "healthy", "responseTime": 5},
        "redis": {"status": "healthy", "responseTime": 2},
        "externalServices": {
            "status": "healthy",
            "services": {"openai": {"status": "healthy"}, "stripe": {"status": "healthy"}, "s3": {"status": "healthy"}},
        },
    },
}


def _check(*conditions: dict[str, Any], extract: str | None = None) -> Check:
    spec: dict[str, Any] = {"name": "probe", "url": "/x", "conditions": list(conditions)}
    if extract:
        spec["extract"] = extract
    return parse_checks([spec], default_timeout_ms=3000)[0]


def _response(body: Any = None, *, status: int = 200, latency_ms: float = 10.0, raw: bytes | None = None) -> Response:
    payload = raw if raw is not None else json.dumps(body).encode()
    return Response(url="http://127.0.0.1/x", status_code=status, body=payload, latency_ms=latency_ms)


def _default(name: str) -> Check:
    return next(check for check in DEFAULT_CHECKS if check.name == name)


# --- the default checks -----------------------------------------------------------------------------


def test_default_checks_cover_the_four_health_endpoints() -> None:
    # Given / When: the built-in defaults
    urls = {check.name: check.url for check in DEFAULT_CHECKS}
    # Then: the report's four endpoints, each with a latency budget below its timeout
    assert urls == {"live": "/health/live", "ready": "/health/ready", "health": "/health", "metrics": "/health/metrics"}
    for check in DEFAULT_CHECKS:
        assert check.latency_budget_ms is not None
        assert check.latency_budget_ms < check.timeout_ms


def test_healthy_body_passes_the_default_health_check() -> None:
    # Given the report's example body
    # When it is judged by the default /health check
    result = judge(_default("health"), _response(HEALTHY), now=NOW)
    # Then it is ok and up, with no reason, and every dependency is extracted
    assert (result.ok, result.up, result.reason) == (True, True, None)
    assert result.dependencies == (
        DependencyHealth("database", True, 5.0),
        DependencyHealth("redis", True, 2.0),
        DependencyHealth("openai", True, None),
        DependencyHealth("stripe", True, None),
        DependencyHealth("s3", True, None),
    )


def test_degraded_status_is_named_as_body_status() -> None:
    # Given a degraded service whose dependencies all say healthy
    body = copy.deepcopy(HEALTHY)
    body["status"] = "degraded"
    # When judged
    result = judge(_default("health"), _response(body), now=NOW)
    # Then the reason says exactly what was wrong
    assert result.reason == 'body.status is "degraded"'
    assert not result.ok
    assert not result.up


def test_unhealthy_database_is_named_with_its_path() -> None:
    body = copy.deepcopy(HEALTHY)
    body["checks"]["database"]["status"] = "unhealthy"
    result = judge(_default("health"), _response(body), now=NOW)
    assert result.reason == 'checks.database.status is "unhealthy"'
    assert DependencyHealth("database", False, 5.0) in result.dependencies


def test_wildcard_names_the_failing_external_service() -> None:
    body = copy.deepcopy(HEALTHY)
    body["checks"]["externalServices"]["services"]["stripe"]["status"] = "unhealthy"
    result = judge(_default("health"), _response(body), now=NOW)
    assert result.reason == 'checks.externalServices.services.stripe.status is "unhealthy"'


def test_status_503_with_json_body_reports_both() -> None:
    # Given /health answering 503 with an unhealthy database
    body = copy.deepcopy(HEALTHY)
    body["status"] = "unhealthy"
    body["checks"]["database"]["status"] = "unhealthy"
    # When judged
    result = judge(_default("health"), _response(body, status=503), now=NOW)
    # Then the status comes first and the body is still read for dependency metrics
    assert result.reason == 'status 503; body.status is "unhealthy"; checks.database.status is "unhealthy"'
    assert result.dependencies[0] == DependencyHealth("database", False, 5.0)


def test_plain_text_error_page_says_status_only() -> None:
    # Given a load balancer's 503 page (not JSON)
    result = judge(_default("health"), _response(raw=b"Service Unavailable", status=503), now=NOW)
    # Then "status 503" explains it; "invalid JSON" would only be noise
    assert result.reason == "status 503"


def test_invalid_json_with_status_200() -> None:
    result = judge(_default("health"), _response(raw=b'{"status": "healthy",'), now=NOW)
    assert result.reason == "invalid JSON"
    assert not result.up


def test_missing_field_breaks_the_contract() -> None:
    body = copy.deepcopy(HEALTHY)
    del body["checks"]["redis"]
    result = judge(_default("health"), _response(body), now=NOW)
    assert result.reason == "contract: checks.redis missing; checks.redis.status missing"


def test_many_reasons_are_capped() -> None:
    result = judge(_default("health"), _response({"status": 1}), now=NOW)
    assert result.reason is not None
    assert result.reason.endswith("more)")
    assert result.reason.count(";") == 6


# --- latency budget: ok but still up ------------------------------------------------------------------


def test_latency_over_budget_is_not_ok_but_up() -> None:
    # Given a correct but slow answer
    result = judge(_check({"status": 200}, {"latency_below_ms": 100}), _response({}, latency_ms=150.4), now=NOW)
    # Then it fails the budget (performance) without counting as down (availability)
    assert result.reason == "latency 150 ms over 100 ms"
    assert not result.ok
    assert result.up


def test_latency_within_budget() -> None:
    result = judge(_check({"latency_below_ms": 100}), _response({}, latency_ms=99.9), now=NOW)
    assert result.ok


# --- the vocabulary, one condition at a time --------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "body", "reason"),
    [
        ({"status": 200}, {}, None),
        ({"status": [200, 204]}, {}, None),
        ({"path": "a.b", "equals": 1}, {"a": {"b": 1.0}}, None),
        ({"path": "a.b", "equals": 1}, {"a": {"b": True}}, "a.b is true"),
        ({"path": "flag", "equals": True}, {"flag": 1}, "body.flag is 1"),
        ({"path": "a.b", "equals": "x"}, {"a": {}}, "a.b missing"),
        ({"path": "a.b", "equals": "x"}, {"a": "string"}, "a.b missing"),
        ({"path": "items.1", "equals": "y"}, {"items": ["x", "y"]}, None),
        ({"path": "items.5", "equals": "y"}, {"items": ["x", "y"]}, "items.5 missing"),
        ({"path": "state", "in": ["ok", "warn"]}, {"state": "warn"}, None),
        ({"path": "state", "in": ["ok", "warn"]}, {"state": "down"}, 'body.state is "down"'),
        ({"path": "x", "exists": True}, {"x": None}, None),
        ({"path": "x", "exists": True}, {}, "body.x missing"),
        ({"path": "x", "exists": False}, {"x": 1}, "body.x present"),
        ({"path": "x", "exists": False}, {}, None),
        ({"path": "n", "is": "number"}, {"n": 1.5}, None),
        ({"path": "n", "is": "number"}, {"n": "1.5"}, 'body.n is "1.5", not number'),
        ({"path": "n", "is": "number"}, {"n": False}, "body.n is false, not number"),
        ({"path": "n", "is": "integer"}, {"n": 2.0}, None),
        ({"path": "n", "is": "string"}, {"n": 2}, "body.n is 2, not string"),
        (
            {"path": "s.*.status", "equals": "up"},
            {"s": {"a": {"status": "up"}, "b": {"status": "down"}}},
            's.b.status is "down"',
        ),
        ({"path": "s.*.status", "equals": "up"}, {"s": [{"status": "up"}, {}]}, "s.1.status missing"),
        ({"path": "s.*.status", "equals": "up"}, {"s": {}}, "s.*.status missing"),
        ({"body_contains": "ready"}, {"status": "ready"}, None),
        ({"body_contains": "ready"}, {"status": "ok"}, 'body lacks "ready"'),
        ({"contract": "live"}, {"status": "ok"}, None),
        ({"contract": "live"}, {"status": "up"}, 'contract: body.status is "up", not one of ["ok"]'),
        (
            {"contract": "metrics"},
            {},
            "contract: body.timestamp missing; contract: body.uptime missing; contract: body.cpu missing",
        ),
    ],
)
def test_condition_vocabulary(condition: dict[str, Any], body: Any, reason: str | None) -> None:
    # Given one condition and a 200 response with this body
    result = judge(_check(condition), _response(body), now=NOW)
    # Then the verdict and the reason are exact
    assert result.reason == reason
    assert result.ok is (reason is None)


def test_status_condition_reason() -> None:
    result = judge(_check({"status": 200}), _response({}, status=404), now=NOW)
    assert result.reason == "status 404"


def test_long_values_are_shortened_in_reasons() -> None:
    result = judge(_check({"path": "x", "equals": "a"}), _response({"x": "y" * 500}), now=NOW)
    assert result.reason is not None
    assert len(result.reason) < 80


def test_transport_error_is_the_reason() -> None:
    # Given a probe that timed out
    response = Response("http://127.0.0.1/x", None, b"", 3000.0, error="timeout after 3000 ms")
    # Then the check is down with that reason, and its latency is not a response time
    result = judge(_default("live"), response, now=NOW)
    assert (result.ok, result.up, result.complete, result.reason) == (False, False, False, "timeout after 3000 ms")


def test_certificate_days_come_from_not_after() -> None:
    response = Response("https://x/y", 200, b"{}", 5.0, certificate_not_after=NOW + 10.5 * 86_400)
    result = judge(_check({"status": 200}), response, now=NOW)
    assert result.certificate_days == pytest.approx(10.5)
    assert result.summary()["certificate_days"] == 10.5


def test_service_metrics_extraction() -> None:
    body = {"uptime": 12, "cpu": {"usagePercent": 12.5}, "memory": {"usagePercent": "n/a"}}
    result = judge(_check({"status": 200}, extract="service_metrics"), _response(body), now=NOW)
    assert result.service == ServiceMetrics(cpu_percent=12.5, memory_percent=None, uptime_seconds=12.0)


def test_dependencies_are_bounded_and_safe_names_only() -> None:
    checks = {f"dep{i}": {"status": "healthy", "responseTime": i} for i in range(30)}
    checks["bad name!"] = {"status": "healthy"}
    result = judge(_check({"status": 200}, extract="dependencies"), _response({"checks": checks}), now=NOW)
    assert len(result.dependencies) == 20
    assert all(" " not in dependency.name for dependency in result.dependencies)


def test_summary_has_the_fixed_keys() -> None:
    summary = judge(_default("live"), _response({"status": "ok"}, latency_ms=12.345), now=NOW).summary()
    assert {"name", "url", "ok", "status_code", "latency_ms", "reason"} <= set(summary)
    assert summary["latency_ms"] == 12.3
    json.dumps(summary)


# --- parsing errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("specs", "message"),
    [
        ([], "1 to 100 checks"),
        ("nope", "must be a list"),
        ([{"name": "Bad Name", "url": "/x", "conditions": [{"status": 200}]}], "checks[0].name"),
        ([{"name": "a", "url": "ftp://x", "conditions": [{"status": 200}]}], "checks[0] (a).url"),
        ([{"name": "a", "url": "/x", "conditions": []}], "non-empty list"),
        ([{"name": "a", "url": "/x", "conditions": [{"status": 200}], "retries": 2}], "unknown field(s) retries"),
        ([{"name": "a", "url": "/x", "timeout_ms": 50, "conditions": [{"status": 200}]}], "timeout_ms"),
        ([{"name": "a", "url": "/x", "extract": "all", "conditions": [{"status": 200}]}], "extract"),
        ([{"name": "a", "url": "/x", "timeout_ms": 500, "conditions": [{"latency_below_ms": 500}]}], "never fires"),
        (
            [{"name": "a", "url": "/x", "conditions": [{"status": 200}]}] * 2,
            "unique: a",
        ),
    ],
)
def test_invalid_check_specs_are_named(specs: Any, message: str) -> None:
    with pytest.raises(CheckSpecError, match=None) as raised:
        parse_checks(specs, default_timeout_ms=3000)
    assert message in str(raised.value)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("status", "expected an object"),
        ({"status": 99}, "HTTP status"),
        ({"status": True}, "HTTP status"),
        ({"latency_below_ms": 0}, "positive integer"),
        ({"body_contains": ""}, "non-empty string"),
        ({"contract": "other"}, "contract"),
        ({"path": "a..b", "equals": 1}, "dotted path"),
        ({"path": "a", "in": []}, "non-empty list"),
        ({"path": "a", "exists": "yes"}, "true or false"),
        ({"path": "a", "is": "date"}, "expected one of"),
        ({"path": "a", "matches": ".*"}, "unknown path test 'matches'"),
        ({"jsonpath": "$.a"}, "unknown condition"),
        ({"status": 200, "latency_below_ms": 5}, "unknown condition"),
    ],
)
def test_invalid_conditions_are_named(raw: Any, message: str) -> None:
    with pytest.raises(CheckSpecError) as raised:
        parse_condition(raw, "c")
    assert message in str(raised.value)


def test_check_timeout_defaults_and_overrides() -> None:
    checks = parse_checks(
        [
            {"name": "a", "url": "https://example.com/a", "conditions": [{"status": 200}]},
            {"name": "b", "url": "/b", "timeout_ms": 700, "conditions": [{"status": 200}]},
        ],
        default_timeout_ms=1500,
    )
    assert [check.timeout_ms for check in checks] == [1500, 700]
    assert checks[0].latency_budget_ms is None
