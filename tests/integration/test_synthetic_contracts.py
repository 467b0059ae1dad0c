"""The monitor's handler against loopback servers that answer like real libraries (tests/unit/.../bodies.py) and like
a front end: both contracts end to end, the front-end check, and the EMF as the handler prints it."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from typing import Any, cast

import pytest
from aws_lambda_powertools.utilities.typing import LambdaContext
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from lambdas.shared.local_context import LocalLambdaContext
from lambdas.synthetic_monitor import metric_names as names
from lambdas.synthetic_monitor.handler import lambda_handler
from lambdas.synthetic_monitor.settings import load_settings
from tests.emf import emf_values
from tests.unit.synthetic_monitor import bodies
from tools.health_service import FRONT_PAGE, FRONT_PAGE_MARKER, HealthService

PAGE = b"<!DOCTYPE html><html><body><div id=__next></div><script id=__NEXT_DATA__>{}</script></body></html>"
HTML = "text/html; charset=utf-8"


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("ENVIRONMENT", "test")
    monkeypatch.setenv("RUN_DEADLINE_MS", "2000")
    load_settings.cache_clear()
    yield
    load_settings.cache_clear()


Run = Callable[..., tuple[dict[str, dict[str, Any]], list[Any]]]


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Run:
    """One monitor run with these variables: (results by check name, EMF points as the handler printed them)."""

    def once(**env: str) -> tuple[dict[str, dict[str, Any]], list[Any]]:
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        load_settings.cache_clear()
        capsys.readouterr()
        summary = lambda_handler({"source": "aws.events"}, cast(LambdaContext, LocalLambdaContext()))
        return {result["name"]: result for result in summary["results"]}, emf_values(capsys.readouterr().out)

    return once


def _serve_health(server: HTTPServer, health: Any, status: int, metrics: Any) -> str:
    for path in ("/health/live", "/health/ready"):
        server.expect_request(path).respond_with_json({"status": "ok"})
    server.expect_request("/health").respond_with_json(health, status=status)
    server.expect_request("/health/metrics").respond_with_json(metrics)
    return server.url_for("/").rstrip("/")


def _missing(points: list[Any], check: str) -> set[str]:
    return {p[1]["field"] for p in points if p[0] == names.FIELD_MISSING.name and p[1]["check"] == check}


# --- both contracts against real libraries' answers --------------------------------------------------

# id, /health body, /health/metrics body, FieldMissing fields by check
SERVICES = [
    ("godaddy-terminus+express-actuator", bodies.TERMINUS_OK, bodies.ACTUATOR_METRICS,
     {"health": {"version", "uptime", "responseTime"}, "metrics": {"cpu_percent", "memory_percent"}}),
    ("ietf-draft+node-process", bodies.IETF_HEALTH, bodies.NODE_PROCESS_METRICS,
     {"health": set(), "metrics": {"cpu_percent"}}),
    ("healthie+prom-client", bodies.HEALTHIE, bodies.PROM_CLIENT_METRICS,
     {"health": {"version"}, "metrics": {"cpu_percent", "memory_percent"}}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("health", "metrics", "missing"), [row[1:] for row in SERVICES], ids=[row[0] for row in SERVICES]
)
def test_a_working_backend_in_another_shape_is_up_by_default_and_down_when_strict(
    httpserver: HTTPServer, run: Run, health: Any, metrics: Any, missing: dict[str, set[str]]
) -> None:
    # Given a healthy backend whose middleware words /health and /health/metrics its own way
    base_url = _serve_health(httpserver, health, 200, metrics)
    # When the monitor runs with the default contract
    results, points = run(HEALTH_BASE_URL=base_url)
    # Then every check is ok, and what the bodies lack is counted by name, not failed
    assert {name: (r["ok"], r["reason"]) for name, r in results.items()} == dict.fromkeys(results, (True, None))
    assert {p[1]["check"]: p[2] for p in points if p[0] == names.CHECK_SUCCESS.name} == dict.fromkeys(results, 1)
    assert {check: _missing(points, check) for check in missing} == missing
    # And with synthetics.contract: strict, the same backend fails /health and /health/metrics as before
    results, points = run(HEALTH_BASE_URL=base_url, HEALTH_CONTRACT="strict")
    assert "contract: " in results["health"]["reason"]
    assert "cpu.usagePercent missing" in results["metrics"]["reason"]
    assert {p[1]["check"]: p[2] for p in points if p[0] == names.CHECK_SUCCESS.name} == {
        "live": 1,
        "ready": 1,
        "health": 0,
        "metrics": 0,
    }
    assert not [p for p in points if p[0] == names.FIELD_MISSING.name]


def test_a_nestjs_backend_with_redis_down_publishes_the_dependency(httpserver: HTTPServer, run: Run) -> None:
    # Given @nestjs/terminus answering 503 with redis down
    base_url = _serve_health(httpserver, bodies.NESTJS_ERROR, 503, bodies.REPORT_METRICS)
    results, points = run(HEALTH_BASE_URL=base_url)
    # Then /health fails with the indicator's path, and DependencyHealthy says which dependency
    assert results["health"]["reason"] == 'status 503; body.status is "error"; details.redis.status is "down"'
    healthy = {p[1]["dependency"]: p[2] for p in points if p[0] == names.DEPENDENCY_HEALTHY.name}
    assert healthy == {"database": 1, "redis": 0}


# --- the front end ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def backend() -> Iterator[HealthService]:
    with HealthService() as running:
        yield running


def _frontend(run: Run, backend: HealthService, url: str, **env: str) -> tuple[dict[str, Any], list[Any]]:
    results, points = run(HEALTH_BASE_URL=backend.url, FRONTEND_URL=url, **env)
    return results["frontend"], [p for p in points if p[1].get("check") == "frontend"]


def test_a_next_js_page_passes(httpserver: HTTPServer, run: Run, backend: HealthService) -> None:
    # Given the front end answering GET / with its HTML page
    httpserver.expect_request("/").respond_with_data(PAGE, content_type=HTML)
    # When the monitor runs with the front end configured, marker included
    result, points = _frontend(run, backend, httpserver.url_for("/"), FRONTEND_MARKER="__NEXT_DATA__")
    # Then the frontend check is ok and publishes its success and latency like any check
    assert (result["ok"], result["status_code"], result["reason"]) == (True, 200, None)
    assert {p[0] for p in points} == {names.CHECK_SUCCESS.name, names.CHECK_LATENCY.name}


@pytest.mark.parametrize(
    ("respond", "reason"),
    [
        # the API answering on the front end's URL (a misrouted listener rule)
        (
            lambda s: s.respond_with_json({"status": "ok"}),
            'content type "application/json", not text/html; body lacks "__NEXT_DATA__"',
        ),
        (lambda s: s.respond_with_data(b"<html>maintenance</html>", content_type=HTML), 'body lacks "__NEXT_DATA__"'),
        (lambda s: s.respond_with_data(b"", content_type=HTML, status=404), "status 404"),
        (lambda s: s.respond_with_data(b"Bad Gateway", content_type="text/plain", status=502), "status 502"),
        (lambda s: s.respond_with_data(PAGE, headers={"Content-Type": ""}), "content type missing, not text/html"),
    ],
    ids=["wrong-content-type", "missing-marker", "not-found", "load-balancer-error", "no-content-type"],
)
def test_a_broken_page_fails_with_the_reason(
    httpserver: HTTPServer, run: Run, backend: HealthService, respond: Any, reason: str
) -> None:
    respond(httpserver.expect_request("/"))
    result, points = _frontend(run, backend, httpserver.url_for("/"), FRONTEND_MARKER="__NEXT_DATA__")
    assert (result["ok"], result["up"], result["reason"]) == (False, False, reason)
    assert ("CheckSuccess", 0) in {(p[0], p[2]) for p in points}


def _slow(delay_s: float) -> Any:
    def answer(_request: Request) -> Response:
        time.sleep(delay_s)
        return Response(PAGE, content_type=HTML)

    return answer


def test_a_slow_page_is_over_budget_but_up(httpserver: HTTPServer, run: Run, backend: HealthService) -> None:
    # Given a page that takes 400 ms against a 200 ms budget (timeout 1500 ms)
    httpserver.expect_request("/").respond_with_handler(_slow(0.4))
    result, points = _frontend(
        run, backend, httpserver.url_for("/"), FRONTEND_LATENCY_BUDGET_MS="200", FRONTEND_TIMEOUT_MS="1500"
    )
    # Then it is a performance problem (the latency alarm), not an outage (CheckSuccess stays 1)
    assert re.fullmatch(r"latency \d+ ms over 200 ms", result["reason"])
    assert (result["ok"], result["up"]) == (False, True)
    values = {p[0]: p[2] for p in points}
    assert values[names.CHECK_SUCCESS.name] == 1
    assert values[names.CHECK_LATENCY.name] >= 400


def test_a_page_slower_than_its_timeout_is_down(httpserver: HTTPServer, run: Run, backend: HealthService) -> None:
    httpserver.expect_request("/").respond_with_handler(_slow(1.0))
    result, points = _frontend(
        run, backend, httpserver.url_for("/"), FRONTEND_LATENCY_BUDGET_MS="200", FRONTEND_TIMEOUT_MS="500"
    )
    assert (result["up"], result["reason"]) == (False, "timeout after 500 ms")
    assert {p[0] for p in points} == {names.CHECK_SUCCESS.name}  # a timeout is no response time


def test_a_redirect_on_the_same_host_is_followed(httpserver: HTTPServer, run: Run, backend: HealthService) -> None:
    # Given Next.js's locale redirect from / to /ja
    httpserver.expect_request("/").respond_with_data(b"", status=307, headers={"Location": "/ja"})
    httpserver.expect_request("/ja").respond_with_data(PAGE, content_type=HTML)
    result, _ = _frontend(run, backend, httpserver.url_for("/"))
    assert (result["ok"], result["status_code"]) == (True, 200)


def test_the_reference_service_serves_the_front_end_the_demo_checks(run: Run, backend: HealthService) -> None:
    # Given the reference service (the demo's target) as the front end too
    backend.reset()
    result, _ = _frontend(run, backend, f"{backend.url}/", FRONTEND_MARKER=FRONT_PAGE_MARKER)
    assert (result["ok"], result["reason"]) == (True, None)
    assert FRONT_PAGE_MARKER.encode() in FRONT_PAGE
    # And its faults reach the page like any endpoint
    backend.set_faults(endpoints={"/": "503"})
    result, _ = _frontend(run, backend, f"{backend.url}/", FRONTEND_MARKER=FRONT_PAGE_MARKER)
    backend.reset()
    assert result["reason"] == "status 503"


def test_the_frontend_result_is_json_like_every_result(
    httpserver: HTTPServer, run: Run, backend: HealthService
) -> None:
    httpserver.expect_request("/").respond_with_data(PAGE, content_type=HTML)
    result, _ = _frontend(run, backend, httpserver.url_for("/"))
    assert json.loads(json.dumps(result))["url"] == httpserver.url_for("/")
