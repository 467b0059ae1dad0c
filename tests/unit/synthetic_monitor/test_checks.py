"""The check model and its condition vocabulary: parsing errors and verdicts, no I/O."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from lambdas.synthetic_monitor.checks import (
    DEFAULT_CHECKS,
    STRICT_CHECK_SPECS,
    Check,
    CheckSpecError,
    Response,
    judge,
    parse_checks,
    parse_condition,
)
from lambdas.synthetic_monitor.reading import STRICT, TOLERANT, DependencyHealth, Reading, ServiceMetrics
from tests.unit.synthetic_monitor.bodies import REPORT_HEALTH as HEALTHY

NOW = 1_800_000_000.0
STRICT_CHECKS = parse_checks(STRICT_CHECK_SPECS, default_timeout_ms=3000)
BOTH = pytest.mark.parametrize("reading", [TOLERANT, STRICT], ids=["tolerant", "strict"])


def _check(*conditions: dict[str, Any], extract: str | None = None) -> Check:
    spec: dict[str, Any] = {"name": "probe", "url": "/x", "conditions": list(conditions)}
    if extract:
        spec["extract"] = extract
    return parse_checks([spec], default_timeout_ms=3000)[0]


def _response(
    body: Any = None,
    *,
    status: int = 200,
    latency_ms: float = 10.0,
    raw: bytes | None = None,
    content_type: str | None = "application/json",
) -> Response:
    payload = raw if raw is not None else json.dumps(body).encode()
    return Response(
        url="http://127.0.0.1/x", status_code=status, body=payload, latency_ms=latency_ms, content_type=content_type
    )


def _default(name: str, reading: Reading = TOLERANT) -> Check:
    checks = STRICT_CHECKS if reading is STRICT else DEFAULT_CHECKS
    return next(check for check in checks if check.name == name)


def _judge_default(name: str, response: Response, reading: Reading = TOLERANT) -> Any:
    return judge(_default(name, reading), response, now=NOW, reading=reading)


# --- the default checks (both contracts agree on the report's own bodies) ----------------------------


@pytest.mark.parametrize("checks", [DEFAULT_CHECKS, STRICT_CHECKS], ids=["tolerant", "strict"])
def test_default_checks_cover_the_four_health_endpoints(checks: tuple[Check, ...]) -> None:
    # Given / When: the built-in defaults
    urls = {check.name: check.url for check in checks}
    # Then: the report's four endpoints, each with a latency budget below its timeout
    assert urls == {"live": "/health/live", "ready": "/health/ready", "health": "/health", "metrics": "/health/metrics"}
    for check in checks:
        assert check.latency_budget_ms is not None
        assert check.latency_budget_ms < check.timeout_ms


@BOTH
def test_healthy_body_passes_the_default_health_check(reading: Reading) -> None:
    # Given the report's example body
    # When it is judged by the default /health check
    result = _judge_default("health", _response(HEALTHY), reading)
    # Then it is ok and up, with no reason, and every dependency is extracted
    assert (result.ok, result.up, result.reason) == (True, True, None)
    assert result.dependencies == (
        DependencyHealth("database", True, 5.0),
        DependencyHealth("redis", True, 2.0),
        DependencyHealth("openai", True, None),
        DependencyHealth("stripe", True, None),
        DependencyHealth("s3", True, None),
    )


@BOTH
def test_degraded_status_is_named_as_body_status(reading: Reading) -> None:
    # Given a degraded service whose dependencies all say healthy
    body = copy.deepcopy(HEALTHY)
    body["status"] = "degraded"
    # When judged
    result = _judge_default("health", _response(body), reading)
    # Then the reason says exactly what was wrong
    assert result.reason == 'body.status is "degraded"'
    assert not result.ok
    assert not result.up


@BOTH
def test_unhealthy_database_is_named_with_its_path(reading: Reading) -> None:
    body = copy.deepcopy(HEALTHY)
    body["checks"]["database"]["status"] = "unhealthy"
    result = _judge_default("health", _response(body), reading)
    assert result.reason == 'checks.database.status is "unhealthy"'
    assert DependencyHealth("database", False, 5.0) in result.dependencies


@BOTH
def test_wildcard_names_the_failing_external_service(reading: Reading) -> None:
    body = copy.deepcopy(HEALTHY)
    body["checks"]["externalServices"]["services"]["stripe"]["status"] = "unhealthy"
    result = _judge_default("health", _response(body), reading)
    assert result.reason == 'checks.externalServices.services.stripe.status is "unhealthy"'


@BOTH
def test_status_503_with_json_body_reports_both(reading: Reading) -> None:
    # Given /health answering 503 with an unhealthy database
    body = copy.deepcopy(HEALTHY)
    body["status"] = "unhealthy"
    body["checks"]["database"]["status"] = "unhealthy"
    # When judged
    result = _judge_default("health", _response(body, status=503), reading)
    # Then the status comes first and the body is still read for dependency metrics
    assert result.reason == 'status 503; body.status is "unhealthy"; checks.database.status is "unhealthy"'
    assert result.dependencies[0] == DependencyHealth("database", False, 5.0)


@BOTH
def test_plain_text_error_page_says_status_only(reading: Reading) -> None:
    # Given a load balancer's 503 page (not JSON)
    result = _judge_default("health", _response(raw=b"Service Unavailable", status=503), reading)
    # Then "status 503" explains it; "invalid JSON" would only be noise
    assert result.reason == "status 503"


@BOTH
def test_invalid_json_with_status_200(reading: Reading) -> None:
    result = _judge_default("health", _response(raw=b'{"status": "healthy",'), reading)
    assert result.reason == "invalid JSON"
    assert not result.up


def test_missing_field_breaks_the_strict_contract_only() -> None:
    body = copy.deepcopy(HEALTHY)
    del body["checks"]["redis"]
    result = _judge_default("health", _response(body), STRICT)
    assert result.reason == "contract: checks.redis missing; checks.redis.status missing"
    # The tolerant contract judges what is there
    assert _judge_default("health", _response(body)).reason is None


def test_many_reasons_are_capped() -> None:
    result = _judge_default("health", _response({"status": 1}), STRICT)
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
        ({"path": "name=b.v", "equals": 2}, [{"name": "a", "v": 1}, {"name": "b", "v": 2}], None),
        ({"path": "name=c.v", "equals": 2}, [{"name": "a", "v": 1}], "name=c.v missing"),
        ({"path": "checks.db:rt.0.status", "equals": "pass"}, {"checks": {"db:rt": [{"status": "pass"}]}}, None),
        ({"json": True}, [], None),
        ({"reports_healthy": True}, {"status": "UP"}, None),
        ({"reports_healthy": True}, {"status": "down"}, 'body.status is "down"'),
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


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("text/html", None),
        ("text/html; charset=utf-8", None),
        ("Text/HTML;charset=UTF-8", None),
        ("application/json", 'content type "application/json", not text/html'),
        (None, "content type missing, not text/html"),
        ("", "content type missing, not text/html"),
    ],
)
def test_content_type_is_the_media_type_of_the_header(header: str | None, reason: str | None) -> None:
    result = judge(_check({"content_type": "text/html"}), _response(raw=b"<p>x</p>", content_type=header), now=NOW)
    assert result.reason == reason


def test_an_error_page_is_judged_by_its_status_alone() -> None:
    # Given a page check and a load balancer's plain-text 502
    check = _check({"status": 200}, {"content_type": "text/html"}, {"body_contains": "__NEXT_DATA__"})
    result = judge(check, _response(raw=b"Bad Gateway", status=502, content_type="text/plain"), now=NOW)
    # Then the status says it all; its type and text are not judged
    assert result.reason == "status 502"


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
        ({"content_type": "html"}, "media type"),
        ({"content_type": 1}, "media type"),
        ({"json": False}, "c.json: expected true"),
        ({"reports_healthy": "yes"}, "c.reports_healthy: expected true"),
        ({"path": "a=b=c", "equals": 1}, "dotted path"),
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
