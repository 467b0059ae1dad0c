"""The probe against real servers on 127.0.0.1: every fault ends in the right reason within the deadline."""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer

from lambdas.synthetic_monitor.checks import Response
from lambdas.synthetic_monitor.probe import MAX_BODY_BYTES, Target, probe, probe_all
from tools.health_service import HealthService

TIMEOUT_MS = 400
# Generous: the bound is what matters (a hang must not last), not the exact time on a busy CI machine.
SLACK_S = 1.5


@pytest.fixture(scope="module")
def service() -> Iterator[HealthService]:
    with HealthService() as running:
        yield running


@pytest.fixture(autouse=True)
def _reset(request: pytest.FixtureRequest) -> None:
    if "service" in request.fixturenames:
        request.getfixturevalue("service").reset()


def _timed(target: Target, ssl_context: ssl.SSLContext | None = None) -> tuple[Response, float]:
    started = time.monotonic()
    response = probe(target, ssl_context=ssl_context)
    return response, time.monotonic() - started


def test_healthy_endpoint(service: HealthService) -> None:
    response, elapsed = _timed(Target(f"{service.url}/health/live", TIMEOUT_MS))
    assert response.status_code == 200
    assert response.body == b'{"status": "ok"}'
    assert response.error is None
    assert elapsed < SLACK_S


@pytest.mark.parametrize(
    ("fault", "status", "reason"),
    [
        ("hang", None, f"timeout after {TIMEOUT_MS} ms"),
        ("trickle", 200, f"timeout after {TIMEOUT_MS} ms"),
        ("huge", 200, "body over 1 MiB"),
        ("down", None, "connection closed without response"),
        ("503", 503, None),
        ("500", 500, None),
    ],
)
def test_endpoint_faults(service: HealthService, fault: str, status: int | None, reason: str | None) -> None:
    # Given /health with this fault
    service.set_faults(endpoints={"/health": fault})
    # When probed with a 400 ms budget
    response, elapsed = _timed(Target(f"{service.url}/health", TIMEOUT_MS))
    # Then the outcome is worded and the probe returned within the budget (plus slack), never hanging
    assert (response.status_code, response.error) == (status, reason)
    assert elapsed < TIMEOUT_MS / 1000 + SLACK_S


def test_trickle_cannot_stretch_the_deadline(service: HealthService) -> None:
    # Given a body trickling one byte per 100 ms: each read succeeds quickly, a per-read timeout never fires
    service.set_faults(endpoints={"/health": "trickle"})
    # When probed with a 600 ms total budget
    response, elapsed = _timed(Target(f"{service.url}/health", 600))
    # Then the total deadline stops it near 600 ms, not at the end of the 100 kB body
    assert response.error == "timeout after 600 ms"
    assert 0.55 < elapsed < 0.6 + SLACK_S


def test_slow_answer_is_a_timeout_only_past_the_budget(service: HealthService) -> None:
    service.set_faults(delay_ms=150)
    response, _ = _timed(Target(f"{service.url}/health/ready", 1000))
    assert response.error is None
    assert response.latency_ms >= 150
    slow, elapsed = _timed(Target(f"{service.url}/health/ready", 100))
    assert slow.error == "timeout after 100 ms"
    assert elapsed < 0.1 + SLACK_S


def test_connection_refused() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    response, _ = _timed(Target(f"http://127.0.0.1:{port}/health", TIMEOUT_MS))
    assert response.error == "connection refused"


def test_declared_huge_body_is_refused_without_reading_it(httpserver: HTTPServer) -> None:
    # Given a server declaring more than 1 MiB
    httpserver.expect_request("/big").respond_with_data(b"x" * (MAX_BODY_BYTES + 1))
    response, _ = _timed(Target(httpserver.url_for("/big"), 2000))
    assert response.error == "body over 1 MiB"


def test_exactly_1_mib_is_accepted(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/big").respond_with_data(b"x" * MAX_BODY_BYTES)
    response, _ = _timed(Target(httpserver.url_for("/big"), 2000))
    assert response.error is None
    assert len(response.body) == MAX_BODY_BYTES


def test_redirects_are_followed_and_limited(httpserver: HTTPServer) -> None:
    # Given /a -> /b -> 200, and a loop /loop -> /loop
    httpserver.expect_request("/a").respond_with_data("", status=302, headers={"Location": "/b"})
    httpserver.expect_request("/b").respond_with_data('{"ok": true}')
    httpserver.expect_request("/loop").respond_with_data("", status=301, headers={"Location": "/loop"})
    followed, _ = _timed(Target(httpserver.url_for("/a"), 2000))
    looped, _ = _timed(Target(httpserver.url_for("/loop"), 2000))
    # Then the final answer counts (reported under the configured URL), and a loop stops after 3 hops
    assert (followed.status_code, followed.body, followed.url) == (200, b'{"ok": true}', httpserver.url_for("/a"))
    assert looped.error == "more than 3 redirects"


def test_self_signed_certificate_fails_verification() -> None:
    with HealthService(tls=True) as tls_service:
        response, _ = _timed(Target(f"{tls_service.url}/health/live", 2000))
    assert response.error == "TLS verify failed"


def test_trusted_certificate_reports_its_expiry() -> None:
    # Given an https service whose certificate expires in 10 days, trusted by the client
    with HealthService(tls=True, cert_days=10) as tls_service:
        context = ssl.create_default_context(cafile=str(tls_service.cert_file))
        response, _ = _timed(Target(f"{tls_service.url}/health/live", 2000), ssl_context=context)
    # Then the probe succeeds and knows when the certificate ends
    assert response.status_code == 200
    assert response.certificate_not_after is not None
    assert 9.9 < (response.certificate_not_after - time.time()) / 86_400 <= 10


def test_probe_all_runs_in_parallel_and_returns_by_the_run_deadline(service: HealthService) -> None:
    # Given 20 targets that each answer after 300 ms, and one that hangs with a longer timeout
    service.set_faults(delay_ms=300)
    targets = [Target(f"{service.url}/health/live", 2000) for _ in range(20)]
    with HealthService() as hanging:
        hanging.set_faults(endpoints={"/health": "hang"})
        targets.append(Target(f"{hanging.url}/health", 5000))
        started = time.monotonic()
        # When probed with a 1 s run deadline
        responses = probe_all(targets, run_deadline_ms=1000)
        elapsed = time.monotonic() - started
    # Then the 20 ran concurrently, the hanging one is cut at the run deadline, all within ~1 s
    assert [r.status_code for r in responses[:20]] == [200] * 20
    assert responses[20].error == "timeout after 1000 ms"
    assert elapsed < 1.0 + SLACK_S


def test_a_bug_inside_a_probe_thread_is_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    # A failure of the monitor itself must not pass for a target failure.
    def broken(*_args: object, **_kwargs: object) -> None:
        raise KeyError("bug")

    monkeypatch.setattr("lambdas.synthetic_monitor.probe.probe", broken)
    with pytest.raises(KeyError):
        probe_all([Target("http://127.0.0.1:1/x", 100)], run_deadline_ms=500)
