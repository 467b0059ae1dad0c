"""Both contracts on the bodies real libraries send (bodies.py): verdicts, what is published, what is missing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lambdas.synthetic_monitor.checks import (
    DEFAULT_CHECKS,
    STRICT_CHECK_SPECS,
    CheckResult,
    Response,
    judge,
    parse_checks,
)
from lambdas.synthetic_monitor.reading import (
    DEFAULT_METRIC_PATHS,
    STRICT,
    TOLERANT,
    DependencyHealth,
    Reading,
    ReadingError,
    ServiceMetrics,
    parse_metric_paths,
    read_service_metrics,
    reading_for,
    status_health,
)
from tests.unit.synthetic_monitor import bodies

NOW = 1_768_644_000.0
STRICT_CHECKS = parse_checks(STRICT_CHECK_SPECS, default_timeout_ms=3000)


def _judge(name: str, body: Any, *, status: int = 200, reading: Reading = TOLERANT) -> CheckResult:
    checks = STRICT_CHECKS if reading.contract == "strict" else DEFAULT_CHECKS
    check = next(check for check in checks if check.name == name)
    response = Response(f"https://api.example/{name}", status, json.dumps(body).encode(), 25.0)
    return judge(check, response, now=NOW, reading=reading)


def _fields(result: CheckResult) -> set[str]:
    return {warning.field for warning in result.warnings}


# --- GET /health, tolerant ------------------------------------------------------------------------

# id, body, HTTP status, reason (None: ok), published dependencies, FieldMissing fields
HEALTH_SHAPES: list[tuple[str, Any, int, str | None, dict[str, tuple[bool, float | None]], set[str]]] = [
    ("report", bodies.REPORT_HEALTH, 200, None,
     {"database": (True, 5.0), "redis": (True, 2.0), "openai": (True, None), "stripe": (True, None),
      "s3": (True, None)}, set()),
    ("godaddy-terminus-ok", bodies.TERMINUS_OK, 200, None,
     {"database": (True, None), "redis": (True, None)}, {"version", "uptime", "responseTime"}),
    ("godaddy-terminus-error", bodies.TERMINUS_ERROR, 503,
     'status 503; body.status is "error"; details.redis.status is "down"',
     {"redis": (False, None)}, {"version", "uptime", "responseTime"}),
    ("nestjs-terminus-ok", bodies.NESTJS_OK, 200, None,
     {"database": (True, None), "memory_heap": (True, None)}, {"version", "uptime", "responseTime"}),
    ("nestjs-terminus-error", bodies.NESTJS_ERROR, 503,
     'status 503; body.status is "error"; details.redis.status is "down"',
     {"database": (True, None), "redis": (False, None)}, {"version", "uptime", "responseTime"}),
    ("nestjs-info-and-error-only", bodies.NESTJS_SPLIT_ONLY, 503,
     'status 503; body.status is "error"; error.redis.status is "down"',
     {"database": (True, None), "redis": (False, None)}, {"version", "uptime", "responseTime"}),
    ("ietf-draft", bodies.IETF_HEALTH, 200, None, {"cassandra": (True, 250.0)}, set()),
    ("express-actuator", bodies.ACTUATOR_HEALTH, 200, None, {}, {"version", "uptime"}),
    ("express-healthcheck", bodies.EXPRESS_HEALTHCHECK, 200, None, {}, {"status", "version"}),
    ("healthcheck-middleware-ok", bodies.HEALTHCHECK_MIDDLEWARE_OK, 200, None, {}, {"version"}),
    ("healthcheck-middleware-failure", bodies.HEALTHCHECK_MIDDLEWARE_FAILURE, 500,
     'status 500; body.status is "failure"', {}, {"version", "uptime"}),
    ("healthie", bodies.HEALTHIE, 200, None, {}, {"version"}),
    ("dependency-array", bodies.DEPENDENCY_ARRAY_HEALTH, 200, None,
     {"postgres": (True, 4.0), "redis": (True, 1.0)}, set()),
]  # fmt: skip


@pytest.mark.parametrize(
    ("body", "status", "reason", "dependencies", "missing"),
    [row[1:] for row in HEALTH_SHAPES],
    ids=[row[0] for row in HEALTH_SHAPES],
)
def test_tolerant_health_reads_each_real_shape(
    body: Any, status: int, reason: str | None, dependencies: dict[str, tuple[bool, float | None]], missing: set[str]
) -> None:
    # Given a library's /health answer
    # When the default (tolerant) /health check judges it
    result = _judge("health", body, status=status)
    # Then status words decide, the dependencies are found wherever the library puts them
    assert result.reason == reason
    assert result.up is (reason is None)
    assert {d.name: (d.healthy, d.response_time_ms) for d in result.dependencies} == dependencies
    # And what the report asks for but the body lacks is a warning, never a failure
    assert _fields(result) == missing


@pytest.mark.parametrize(
    ("body", "status"),
    [(row[1], row[2]) for row in HEALTH_SHAPES if row[0] != "report"],
    ids=[row[0] for row in HEALTH_SHAPES if row[0] != "report"],
)
def test_strict_health_refuses_every_shape_but_the_reports(body: Any, status: int) -> None:
    # Given the same answers, judged by the strict contract (synthetics.contract: strict)
    result = _judge("health", body, status=status, reading=STRICT)
    # Then each fails, as before issue 15, and says so through the contract; strict never warns
    assert not result.up
    assert result.reason is not None
    assert "contract: " in result.reason
    assert result.warnings == ()


def test_strict_health_accepts_the_report_and_reads_it_as_before() -> None:
    result = _judge("health", bodies.REPORT_HEALTH, reading=STRICT)
    assert (result.ok, result.reason) == (True, None)
    assert result.dependencies[:2] == (DependencyHealth("database", True, 5.0), DependencyHealth("redis", True, 2.0))


def test_the_warnings_say_where() -> None:
    # Given a terminus body: two dependencies without response times, no version, no uptime
    result = _judge("health", bodies.TERMINUS_OK)
    # Then the log names each place, in body order
    assert [warning.detail for warning in result.warnings] == [
        "body.version missing",
        "body.uptime missing",
        "details.database.responseTime missing",
        "details.redis.responseTime missing",
    ]
    assert result.summary()["warnings"] == [warning.detail for warning in result.warnings]


@pytest.mark.parametrize(
    ("word", "health"),
    [("healthy", "healthy"), ("OK", "healthy"), ("Up", "healthy"), ("pass", "healthy"), (" UP ", "healthy"),
     ("success", "healthy"), ("degraded", "degraded"), ("WARN", "degraded"), ("down", "unhealthy"),
     ("FAIL", "unhealthy"), ("error", "unhealthy"), ("shutting_down", "unhealthy"), ("failure", "unhealthy"),
     ("green", None), ("", None), (True, None), (1, None), (None, None)],
)  # fmt: skip
def test_status_words_in_any_case(word: Any, health: str | None) -> None:
    assert status_health(word) == health


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"status": "green"}, 'body.status is "green", not a known status word'),
        ({"status": "ok", "details": {"db": {"status": 1}}}, "details.db.status is 1, not a known status word"),
        ({"status": "WARN"}, 'body.status is "WARN"'),
        ({"status": "ok", "checks": {"db": {"status": "degraded"}}}, 'checks.db.status is "degraded"'),
        (["ok"], 'body is ["ok"], not an object'),
    ],
)
def test_tolerant_health_names_what_is_not_healthy(body: Any, reason: str) -> None:
    result = _judge("health", body)
    assert result.reason == reason
    assert not result.up


def test_a_group_status_is_judged_and_its_members_published() -> None:
    # Given the report's externalServices group, degraded because stripe is
    body = json.loads(json.dumps(bodies.REPORT_HEALTH))
    body["status"] = "degraded"
    body["checks"]["externalServices"]["status"] = "degraded"
    body["checks"]["externalServices"]["services"]["stripe"]["status"] = "unhealthy"
    # Then the same reasons as the strict contract gives, and the members (not the group) are published
    result = _judge("health", body)
    assert result.reason == (
        'body.status is "degraded"; checks.externalServices.status is "degraded"; '
        'checks.externalServices.services.stripe.status is "unhealthy"'
    )
    assert "externalServices" not in {d.name for d in result.dependencies}
    assert DependencyHealth("stripe", False, None) in result.dependencies


def test_the_first_block_present_wins_and_one_name_is_published_once() -> None:
    # Given `checks` (read) and `details` (ignored), and two IETF observations of one component
    body = {
        "status": "pass",
        "checks": {
            "db:responseTime": [{"componentType": "datastore", "observedValue": 0.2, "observedUnit": "s",
                                 "status": "pass"}],
            "db:connections": [{"componentType": "datastore", "observedValue": 90, "status": "warn"}],
        },
        "details": {"other": {"status": "down"}},
    }  # fmt: skip
    result = _judge("health", body)
    # Then the component is unhealthy if any observation is, with its response time in ms
    assert result.reason == 'checks.db:connections.0.status is "warn"'
    assert result.dependencies == (DependencyHealth("db", False, 200.0),)


# --- GET /health/metrics, tolerant ----------------------------------------------------------------

# id, body, expected numbers (cpu %, memory %, memory bytes, uptime s), FieldMissing fields
METRICS_SHAPES: list[tuple[str, Any, tuple[float | None, ...], set[str]]] = [
    ("report", bodies.REPORT_METRICS, (12.5, 40.0, 429_496_730, 86_400), set()),
    ("node-process-and-os", bodies.NODE_PROCESS_METRICS,
     (None, 157_286_400 / 2_147_483_648 * 100, 157_286_400, 5400.25), {"cpu_percent"}),
    ("express-actuator", bodies.ACTUATOR_METRICS, (None, None, 104_857_600, 720.5),
     {"cpu_percent", "memory_percent"}),
    ("express-status-monitor-pidusage", bodies.PIDUSAGE_METRICS, (7.3, None, None, None),
     {"memory_percent", "memory_bytes", "uptime_seconds"}),
    ("prom-client-json", bodies.PROM_CLIENT_METRICS, (None, None, 143_654_912, NOW - bodies.PROM_CLIENT_START),
     {"cpu_percent", "memory_percent"}),
    ("systeminformation", bodies.SYSTEMINFORMATION_METRICS, (23.4, None, None, 86_000),
     {"memory_percent", "memory_bytes"}),
    ("healthcheck-middleware", bodies.HEALTHCHECK_MIDDLEWARE_OK, (None, None, 32_587_776, 3),
     {"cpu_percent", "memory_percent"}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("body", "numbers", "missing"), [row[1:] for row in METRICS_SHAPES], ids=[row[0] for row in METRICS_SHAPES]
)
def test_tolerant_metrics_reads_each_real_shape(
    body: Any, numbers: tuple[float | None, ...], missing: set[str]
) -> None:
    # Given a library's metrics answer
    # When the default /health/metrics check judges it
    result = _judge("metrics", body)
    # Then it is up (status, JSON, latency are all that is judged)
    assert (result.ok, result.up, result.reason) == (True, True, None)
    # And each number is read from wherever the library puts it, in the metric's unit
    assert result.service is not None
    read = (result.service.cpu_percent, result.service.memory_percent, result.service.memory_bytes,
            result.service.uptime_seconds)  # fmt: skip
    assert read == pytest.approx(numbers)
    # And each number it does not report is a warning with the number's name
    assert _fields(result) == missing


@pytest.mark.parametrize("body", [row[1] for row in METRICS_SHAPES[1:]], ids=[row[0] for row in METRICS_SHAPES[1:]])
def test_strict_metrics_refuses_every_shape_but_the_reports(body: Any) -> None:
    result = _judge("metrics", body, reading=STRICT)
    assert not result.up
    assert "cpu.usagePercent missing" in (result.reason or "")
    assert result.warnings == ()


def test_strict_metrics_reads_exactly_the_reports_fields() -> None:
    result = _judge("metrics", bodies.REPORT_METRICS, reading=STRICT)
    assert result.ok
    # memory_bytes is not a strict metric: strict publishes what it published before
    assert result.service == ServiceMetrics(cpu_percent=12.5, memory_percent=40.0, uptime_seconds=86400.0)


def test_invalid_json_is_a_failure_without_warnings() -> None:
    check = next(check for check in DEFAULT_CHECKS if check.name == "metrics")
    result = judge(check, Response("https://api.example/m", 200, b"<html>oops</html>", 5.0), now=NOW)
    assert (result.up, result.reason, result.warnings, result.service) == (False, "invalid JSON", (), None)


# --- configured candidate paths -----------------------------------------------------------------


def test_configured_paths_replace_a_numbers_defaults_and_convert_units() -> None:
    # Given express-status-monitor's body (memory in MB, elapsed in ms) and paths that say so
    paths = parse_metric_paths(
        {
            "memory_bytes": [{"path": "memory", "unit": "megabytes"}],
            "uptime_seconds": ["uptime", {"path": "elapsed", "unit": "milliseconds"}],
            "memory_percent": [{"used": "heap.used_heap_size", "total": "heap.heap_size_limit"}],
            "cpu_percent": [],
        }
    )
    service, missing = read_service_metrics(bodies.PIDUSAGE_METRICS, paths, now=NOW)
    # Then the numbers are converted, and a number configured with [] is neither read nor counted missing
    assert service is not None
    assert (service.cpu_percent, service.uptime_seconds) == (None, 3600.0)
    assert service.memory_percent == pytest.approx(45_000_000 / 2_197_815_296 * 100)
    assert service.memory_bytes == pytest.approx(96.2 * 1024 * 1024)
    assert missing == ()


@pytest.mark.parametrize(
    ("candidate", "body", "value"),
    [
        ({"path": "load", "unit": "fraction"}, {"load": 0.25}, 25.0),
        ({"free": "m.free", "total": "m.total"}, {"m": {"free": 1, "total": 4}}, 75.0),
        ({"used": "m.used", "total": "m.total"}, {"m": {"used": 1, "total": 0}}, None),  # no usable total
        ({"used": "m.used", "total": "m.total"}, {"m": {"used": 1}}, None),
        ("cpu", {"cpu": True}, None),  # JSON true is not a number
        ("cpu", {"cpu": "12%"}, None),
    ],
)
def test_candidate_forms(candidate: Any, body: Any, value: float | None) -> None:
    paths = parse_metric_paths({"cpu_percent": [candidate]})
    service, _ = read_service_metrics(body, paths, now=NOW)
    assert (service.cpu_percent if service else None) == value


def test_a_start_time_in_the_future_is_not_an_uptime() -> None:
    body = [{"name": "process_start_time_seconds", "values": [{"value": NOW + 60}]}]
    service, missing = read_service_metrics(body, DEFAULT_METRIC_PATHS, now=NOW)
    assert service is None
    assert "uptime_seconds" in {warning.field for warning in missing}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([], "metric_paths: expected an object"),
        ({"disk_percent": []}, "unknown number(s) disk_percent"),
        ({"cpu_percent": "cpu"}, "metric_paths.cpu_percent: expected a list"),
        ({"cpu_percent": ["a"] * 21}, "at most 20"),
        ({"cpu_percent": ["checks.*.cpu"]}, "metric_paths.cpu_percent[0]: 'checks.*.cpu' must be a dotted path"),
        ({"cpu_percent": ["a..b"]}, "must be a dotted path"),
        ({"uptime_seconds": [{"path": "up", "unit": "hours"}]}, "metric_paths.uptime_seconds[0].unit: 'hours'"),
        ({"memory_bytes": [{"used": "a", "total": "b"}]}, "metric_paths.memory_bytes[0]: expected a path"),
        ({"cpu_percent": [{"used": "a"}]}, "{used: P, total: T}"),
        ({"cpu_percent": [7]}, "metric_paths.cpu_percent[0]: expected a path"),
    ],
)
def test_bad_metric_paths_are_named(raw: Any, message: str) -> None:
    with pytest.raises(ReadingError) as raised:
        parse_metric_paths(raw)
    assert message in str(raised.value)


def test_strict_takes_no_metric_paths() -> None:
    assert reading_for("strict") is STRICT
    assert reading_for("tolerant") is TOLERANT
    with pytest.raises(ReadingError, match="metric_paths apply to the tolerant contract"):
        reading_for("strict", {"cpu_percent": []})
    with pytest.raises(ReadingError, match="contract 'lenient'"):
        reading_for("lenient")
