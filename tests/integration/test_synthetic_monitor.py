"""The monitor's handler end to end against the reference health service on 127.0.0.1."""

from __future__ import annotations

import json
import re
import socket
import ssl
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from aws_lambda_powertools.utilities.typing import LambdaContext

from lambdas.shared.local_context import LocalLambdaContext
from lambdas.synthetic_monitor import metric_names as names
from lambdas.synthetic_monitor.handler import lambda_handler
from lambdas.synthetic_monitor.settings import SettingsError, load_settings
from tests.integration.test_synthetic_probe import _redirecting
from tests.unit.synthetic_monitor.emf import emf_signatures, emf_values
from tools.health_service import HealthService

EVENTS = Path(__file__).resolve().parents[2] / "events" / "synthetic_monitor"
SCHEDULED = json.loads((EVENTS / "scheduled.json").read_text(encoding="utf-8"))
RUN_DEADLINE_MS = 600
SLACK_S = 1.5  # generous bound on top of the deadline: no timing flakiness on a busy machine


@pytest.fixture(scope="module")
def service() -> Iterator[HealthService]:
    with HealthService() as running:
        yield running


_env: pytest.MonkeyPatch


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    global _env  # noqa: PLW0603 - lets _run point the monitor at a server through this test's monkeypatch
    _env = monkeypatch
    monkeypatch.setenv("ENVIRONMENT", "test")
    monkeypatch.setenv("RUN_DEADLINE_MS", str(RUN_DEADLINE_MS))
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "synthetic-monitor")
    load_settings.cache_clear()
    yield
    load_settings.cache_clear()


def _run(
    base_url: str, context: LocalLambdaContext, event: dict[str, Any] | None = None, **kwargs: Any
) -> tuple[dict[str, Any], float]:
    _env.setenv("HEALTH_BASE_URL", base_url)
    load_settings.cache_clear()
    started = time.monotonic()
    summary = lambda_handler(event if event is not None else SCHEDULED, cast(LambdaContext, context), **kwargs)
    return summary, time.monotonic() - started


def _by_name(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {result["name"]: result for result in summary["results"]}


def test_healthy_service(
    service: HealthService, lambda_context: LocalLambdaContext, capsys: pytest.CaptureFixture[str]
) -> None:
    service.reset()
    # When the monitor runs against a healthy service
    summary, _ = _run(service.url, lambda_context)
    # Then every check is ok, with the fixed result keys, and the summary is JSON
    json.dumps(summary)
    assert summary["ok"] is True
    results = _by_name(summary)
    assert set(results) == {"live", "ready", "health", "metrics"}
    for result in results.values():
        assert {"name", "url", "ok", "status_code", "latency_ms", "reason"} <= set(result)
        assert (result["ok"], result["status_code"], result["reason"]) == (True, 200, None)
    assert results["health"]["url"] == f"{service.url}/health"
    # And the EMF carries the check, dependency and service metrics with the contract's dimensions
    output = capsys.readouterr().out
    signatures = emf_signatures(output)
    assert {(names.DEFAULT_NAMESPACE, spec.name, spec.dimensions) for spec in names.ALL_METRICS} - signatures == {
        (names.DEFAULT_NAMESPACE, "CertificateDaysRemaining", names.CHECK_DIMENSIONS)  # http: no certificate
    }
    healthy = {p[1]["dependency"]: p[2] for p in emf_values(output) if p[0] == names.DEPENDENCY_HEALTHY.name}
    assert healthy == dict.fromkeys(names.KNOWN_DEPENDENCIES, 1)


HEALTH_UNHEALTHY = 'status 503; body.status is "unhealthy"; checks.{dep}.status is "unhealthy"'
TIMEOUT = f"timeout after {RUN_DEADLINE_MS} ms"


@pytest.mark.parametrize(
    ("faults", "expected"),
    [
        (
            {"database": "unhealthy"},
            {"health": HEALTH_UNHEALTHY.format(dep="database"), "ready": "status 503", "live": None},
        ),
        ({"redis": "unhealthy"}, {"health": HEALTH_UNHEALTHY.format(dep="redis"), "ready": "status 503"}),
        (
            {"external": {"openai": "degraded"}},
            {
                "health": 'body.status is "degraded"; checks.externalServices.status is "degraded"; '
                'checks.externalServices.services.openai.status is "degraded"',
                "ready": None,
            },
        ),
        ({"endpoints": {"/health/live": "503"}}, {"live": "status 503", "health": None}),
        ({"endpoints": {"/health": "500"}}, {"health": "status 500"}),
        ({"endpoints": {"/health/live": "down"}}, {"live": "connection closed without response"}),
        ({"endpoints": {"/health": "hang"}}, {"health": TIMEOUT, "live": None}),
        ({"endpoints": {"/health/metrics": "trickle"}}, {"metrics": TIMEOUT}),
        ({"endpoints": {"/health": "huge"}}, {"health": "body over 1 MiB"}),
        ({"endpoints": {"/health": "invalid_json"}}, {"health": "invalid JSON"}),
        ({"delay_ms": 5000}, dict.fromkeys(("live", "ready", "health", "metrics"), TIMEOUT)),
    ],
)
def test_faults_give_the_right_reason_within_the_deadline(
    service: HealthService, lambda_context: LocalLambdaContext, faults: dict[str, Any], expected: dict[str, Any]
) -> None:
    # Given the service with this fault
    service.reset()
    service.set_faults(**faults)
    # When the monitor runs with a 600 ms run deadline
    summary, elapsed = _run(service.url, lambda_context)
    # Then each named check has exactly this outcome, and the run ended within the deadline
    results = _by_name(summary)
    for name, reason in expected.items():
        assert (results[name]["ok"], results[name]["reason"]) == (reason is None, reason), name
    assert summary["ok"] is False
    assert elapsed < RUN_DEADLINE_MS / 1000 + SLACK_S


def test_slow_answer_breaks_the_latency_budget_only(
    service: HealthService,
    lambda_context: LocalLambdaContext,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given a 200 ms latency budget and a service answering after 250 ms
    check = {"name": "live", "url": "/health/live", "conditions": [{"status": 200}, {"latency_below_ms": 200}]}
    monkeypatch.setenv("CHECKS", json.dumps([check]))
    service.reset()
    service.set_faults(delay_ms=250)
    # When the monitor runs
    summary, _ = _run(service.url, lambda_context)
    # Then the check is not ok (over budget) but still up: CheckSuccess 1, latency above 200
    (result,) = summary["results"]
    assert re.fullmatch(r"latency \d+ ms over 200 ms", result["reason"])
    assert (result["ok"], result["up"]) == (False, True)
    points = {p[0]: p[2] for p in emf_values(capsys.readouterr().out)}
    assert points["CheckSuccess"] == 1
    assert points["CheckLatency"] >= 250


def test_connection_refused_everywhere(lambda_context: LocalLambdaContext) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    summary, _ = _run(f"http://127.0.0.1:{port}", lambda_context)
    assert {result["reason"] for result in summary["results"]} == {"connection refused"}


def test_self_signed_tls_fails_verification(lambda_context: LocalLambdaContext) -> None:
    with HealthService(tls=True) as tls_service:
        summary, _ = _run(tls_service.url, lambda_context)
    assert {result["reason"] for result in summary["results"]} == {"TLS verify failed"}


def test_certificate_days_are_published_for_https(
    lambda_context: LocalLambdaContext, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an https service with a certificate expiring in 15 days, trusted by the monitor
    with HealthService(tls=True, cert_days=15) as tls_service:
        context = ssl.create_default_context(cafile=str(tls_service.cert_file))
        summary, _ = _run(tls_service.url, lambda_context, ssl_context=context)
    # Then every check passes and publishes the days left
    assert summary["ok"] is True
    days = [p[2] for p in emf_values(capsys.readouterr().out) if p[0] == "CertificateDaysRemaining"]
    assert len(days) == 4
    assert all(14.9 < day <= 15 for day in days)


def test_the_lambda_timeout_caps_the_run(service: HealthService, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a long RUN_DEADLINE_MS but only 2.5 s left in the Lambda (2 s are kept for the rest)
    monkeypatch.setenv("RUN_DEADLINE_MS", "20000")
    service.reset()
    service.set_faults(endpoints={"/health": "hang"})
    context = LocalLambdaContext(timeout_seconds=2.5)
    # When the monitor runs
    summary, elapsed = _run(service.url, context)
    # Then the hanging check is cut well before the Lambda would time out
    assert re.fullmatch(r"timeout after (4\d\d|500) ms", _by_name(summary)["health"]["reason"])
    assert elapsed < 2.5


@pytest.mark.parametrize("event_file", sorted(p.name for p in EVENTS.glob("*.json")))
def test_every_sample_event_runs(service: HealthService, lambda_context: LocalLambdaContext, event_file: str) -> None:
    service.reset()
    event = json.loads((EVENTS / event_file).read_text(encoding="utf-8"))
    summary, _ = _run(service.url, lambda_context, event)
    assert summary["ok"] is True


def test_a_broken_configuration_raises(lambda_context: LocalLambdaContext, monkeypatch: pytest.MonkeyPatch) -> None:
    # A bug in the monitor's own set-up is an error (Lambda Errors, Sentry), never a quiet result.
    monkeypatch.setenv("CHECKS", '[{"name": "x"}]')
    with pytest.raises(SettingsError, match="CHECKS"):
        _run("http://127.0.0.1:9", lambda_context)


def test_a_checks_redirect_hosts_reach_the_probe(
    service: HealthService, lambda_context: LocalLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given two checks on a server that redirects to the service under another name, one allowing that name
    port = service.url.rsplit(":", 1)[1]
    service.reset()
    with _redirecting(f"http://localhost:{port}/health/live") as url:
        checks = [
            {"name": "listed", "url": f"{url}/a", "conditions": [{"status": 200}], "redirect_hosts": ["localhost"]},
            {"name": "unlisted", "url": f"{url}/b", "conditions": [{"status": 200}]},
        ]
        monkeypatch.setenv("CHECKS", json.dumps(checks))
        # When the monitor runs
        summary, _ = _run(service.url, lambda_context)
    # Then only the check that lists the host follows the redirect
    results = _by_name(summary)
    assert (results["listed"]["ok"], results["listed"]["status_code"]) == (True, 200)
    assert results["unlisted"]["reason"] == (
        "redirect to localhost refused: not the check's host (list it in redirect_hosts to allow it)"
    )
