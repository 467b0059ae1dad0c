"""The probe against real servers on 127.0.0.1: every fault ends in the right reason within the deadline."""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

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


@contextlib.contextmanager
def _redirecting(location: str, ssl_context: ssl.SSLContext | None = None) -> Iterator[str]:
    """A server whose every answer is `302 Location: <location>`, sent as raw latin-1 bytes (no escaping)."""

    class Redirect(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(302)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    if ssl_context is not None:
        server.socket = ssl_context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"{'https' if ssl_context else 'http'}://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    "location",
    [
        "/h\u00e9alth".encode().decode("latin-1"),  # UTF-8 bytes of a non-ASCII path: the request line is ASCII
        "http://[::1",  # unbalanced IPv6 bracket
        "http://127.0.0.1:99999/health",  # port out of range
        "https:///health",  # no host
    ],
    ids=["non-ascii-path", "broken-ipv6", "port-out-of-range", "no-host"],
)
def test_a_malformed_redirect_is_a_failed_result_not_an_exception(location: str) -> None:
    # Given a target that redirects to a Location the probe cannot follow
    with _redirecting(location) as url:
        # When the run probes it
        [response] = probe_all([Target(f"{url}/health", 2000)], run_deadline_ms=3000)
    # Then it is this target's failure, worded, with the redirect's status; the run goes on
    assert (response.status_code, response.error) == (302, "invalid redirect")


def test_an_invalid_configured_url_is_a_failed_result() -> None:
    [response] = probe_all([Target("http://127.0.0.1:70000/health", 500)], run_deadline_ms=1000)
    assert (response.status_code, response.error) == (None, "invalid URL")


def test_a_redirect_from_https_to_http_is_refused(httpserver: HTTPServer) -> None:
    # Given an https target (trusted) that redirects to a plain-http server that would answer 200
    httpserver.expect_request("/health").respond_with_data('{"status": "healthy"}')
    with HealthService(tls=True) as tls_service:
        assert tls_service.ssl_context is not None
        assert tls_service.cert_file is not None
        trusted = ssl.create_default_context(cafile=str(tls_service.cert_file))
        with _redirecting(httpserver.url_for("/health"), tls_service.ssl_context) as url:
            # When probed
            response = probe(Target(f"{url}/health", 2000), ssl_context=trusted)
    # Then the downgrade is not followed: the final hop would have had no TLS check at all
    assert (response.status_code, response.error) == (302, "redirect from https to http refused")
    assert len(httpserver.log) == 0


def test_an_unforeseen_exception_fails_only_its_target(
    service: HealthService, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a probe step that raises something no handler foresaw, for one target only
    import lambdas.synthetic_monitor.probe as probe_module

    real_read = probe_module._read_capped

    def read_or_break(response: object) -> bytes:
        if getattr(response, "status", None) == 503:
            raise KeyError("unforeseen")
        return real_read(response)  # type: ignore[arg-type]

    monkeypatch.setattr(probe_module, "_read_capped", read_or_break)
    service.set_faults(endpoints={"/health/ready": "503"})
    targets = [Target(f"{service.url}/health/live", 2000), Target(f"{service.url}/health/ready", 2000)]
    # When the run probes both
    with caplog.at_level(logging.ERROR):
        live, ready = probe_all(targets, run_deadline_ms=3000)
    # Then the other target is unaffected, this one is a failed result, and the bug is logged with its type
    assert (live.status_code, live.error) == (200, None)
    assert (ready.status_code, ready.error) == (503, "probe error (KeyError)")
    [record] = [r for r in caplog.records if r.getMessage() == "unexpected probe failure"]
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None
    assert record.__dict__["error_type"] == "KeyError"


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


# --- where redirects may lead (issue 12): never to the metadata endpoints or another host ---------------


@pytest.mark.parametrize(
    ("location", "reason"),
    [
        ("http://169.254.169.254/latest/meta-data/iam/", "redirect to 169.254.169.254 refused: link-local address"),
        ("http://169.254.170.2/v2/credentials/x", "redirect to 169.254.170.2 refused: link-local address"),
        ("http://[fd00:ec2::254]/latest/api/token", "redirect to fd00:ec2::254 refused: metadata address"),
        ("http://[fe80::1]/", "redirect to fe80::1 refused: link-local address"),
        ("http://[::ffff:169.254.169.254]/", "redirect to ::ffff:169.254.169.254 refused: link-local address"),
        ("http://0.0.0.0:9001/", "redirect to 0.0.0.0 refused: unspecified address"),
        ("http://u:hunter2@169.254.169.254/", "redirect to 169.254.169.254 refused: link-local address"),
    ],
)
def test_a_redirect_to_a_metadata_or_link_local_address_is_refused_before_connecting(
    location: str, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a check on 127.0.0.1 whose endpoint redirects to a credentials endpoint of AWS
    with _redirecting(location) as url, caplog.at_level(logging.WARNING):
        started = time.monotonic()
        # When probed with a long budget (an attempted connection to 169.254.x would wait it out)
        [response] = probe_all([Target(f"{url}/health", 5000)], run_deadline_ms=6000)
        elapsed = time.monotonic() - started
    # Then it is a failed check with a clear reason, decided without connecting, and logged without userinfo
    assert (response.status_code, response.error) == (302, reason)
    assert elapsed < 1.0
    [record] = [r for r in caplog.records if r.getMessage() == "redirect refused"]
    assert record.__dict__["reason"] == reason
    assert "hunter2" not in caplog.text


def test_a_redirect_to_another_host_is_refused_unless_listed(service: HealthService) -> None:
    # Given a check on 127.0.0.1 redirecting to the same service under another name (localhost)
    port = service.url.rsplit(":", 1)[1]
    with _redirecting(f"http://localhost:{port}/health/live") as url:
        refused = probe(Target(f"{url}/health", 2000))
        listed = probe(Target(f"{url}/health", 2000, redirect_hosts=frozenset({"localhost"})))
    # Then only the check's own host is followed by default; an allowlisted host is followed
    assert (refused.status_code, refused.error) == (
        302,
        "redirect to localhost refused: not the check's host (list it in redirect_hosts to allow it)",
    )
    assert (listed.status_code, listed.error, listed.body) == (200, None, b'{"status": "ok"}')


def _fake_dns(monkeypatch: pytest.MonkeyPatch, answers: dict[str, list[str]]) -> list[str]:
    """getaddrinfo answering `answers[name]` in turn (the last one repeats); other names resolve normally.

    There is no DNS in the tests: this stands in for a name server that rebinds a name.
    """
    real = socket.getaddrinfo
    asked: list[str] = []

    def getaddrinfo(host: object, port: object, *args: object, **kwargs: object) -> list[tuple[object, ...]]:
        if host not in answers:
            return list(real(host, port, *args, **kwargs))  # type: ignore[arg-type]
        asked.append(str(host))
        replies = answers[str(host)]
        address = replies[min(asked.count(str(host)), len(replies)) - 1]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, int(str(port))))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


def test_a_name_that_resolves_to_the_metadata_address_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an allowlisted redirect host whose DNS answer is 169.254.169.254 (DNS rebinding)
    _fake_dns(monkeypatch, {"rebind.test": ["169.254.169.254"]})
    with _redirecting("http://rebind.test/latest/meta-data/") as url:
        started = time.monotonic()
        response = probe(Target(f"{url}/health", 5000, redirect_hosts=frozenset({"rebind.test"})))
    # Then the resolved address is what counts: refused, without connecting
    assert (response.status_code, response.error) == (
        302,
        "redirect to rebind.test refused: it resolves to 169.254.169.254, a link-local address",
    )
    assert time.monotonic() - started < 1.0


def test_the_probe_connects_to_the_address_it_checked(service: HealthService, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a name that resolves to the service on 127.0.0.1 once, then to the metadata address
    asked = _fake_dns(monkeypatch, {"alias.test": ["127.0.0.1", "169.254.169.254"]})
    port = service.url.rsplit(":", 1)[1]
    with _redirecting(f"http://alias.test:{port}/health/live") as url:
        response = probe(Target(f"{url}/health", 3000, redirect_hosts=frozenset({"alias.test"})))
    # Then the name was resolved once and the probe reached the checked address (a second lookup would
    # have connected to 169.254.169.254 and timed out)
    assert asked == ["alias.test"]
    assert (response.status_code, response.error) == (200, None)
