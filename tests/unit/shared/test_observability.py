"""Sentry set-up and secret scrubbing shared by the Lambdas, against a real loopback Sentry endpoint."""

from __future__ import annotations

import gzip
import json
import threading
import zlib
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from lambdas.shared import observability
from lambdas.shared.observability import REDACTED, init_sentry, scrub_secrets

WEBHOOK = "https://hooks.slack.com/services/T0000000/B0000000/XXXXXXXXXXXXXXXXXXXXXXXX"
BOT_TOKEN = "xoxb-0000-XXXXXXXX"


def test_scrub_secrets_removes_webhooks_tokens_and_signatures() -> None:
    text = (
        f"posting to {WEBHOOK} failed; token {BOT_TOKEN}; Authorization: Bearer abc.def; "
        '{"sentry-hook-signature": "deadbeef", "client_secret": "s3cr3t"}'
    )
    scrubbed = scrub_secrets(text)
    for secret in (WEBHOOK, BOT_TOKEN, "abc.def", "deadbeef", "s3cr3t"):
        assert secret not in scrubbed
    assert scrubbed.count(REDACTED) == 5
    assert scrubbed.startswith("posting to [redacted] failed")


def test_without_a_dsn_sentry_stays_off() -> None:
    observability.reset_sentry_for_tests()
    assert init_sentry("alert-router", environ={}) is False
    assert init_sentry("alert-router", environ={"SENTRY_DSN": "  "}) is False


class _SentryInbox(BaseHTTPRequestHandler):
    received: list[bytes]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        encoding = self.headers.get("Content-Encoding", "")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        self.server.received.append(body)  # type: ignore[attr-defined]
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: Any) -> None:  # silence the default stderr log
        return


@pytest.fixture
def sentry_inbox() -> Iterator[tuple[str, list[bytes]]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SentryInbox)
    server.received = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://publickey@127.0.0.1:{server.server_address[1]}/1", server.received  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()


def captured_by_sentry(dsn: str, received: list[bytes], service: str, fail: Callable[[], object], **env: str) -> str:
    """Sentry switched on for `service` against the loopback inbox; what it received for the exception `fail` raises."""
    import sentry_sdk

    observability.reset_sentry_for_tests()
    try:
        assert init_sentry(service, environ={"SENTRY_DSN": dsn, **env}) is True
        try:
            fail()
        except Exception as error:
            sentry_sdk.capture_exception(error)
        sentry_sdk.flush(timeout=5)
    finally:
        sentry_sdk.get_client().close(timeout=1)
        observability.reset_sentry_for_tests()
    return b"".join(received).decode("utf-8", "replace")


def test_events_carry_environment_release_service_and_no_secret(sentry_inbox: tuple[str, list[bytes]]) -> None:
    dsn, received = sentry_inbox

    def slack_said_no() -> None:
        raise RuntimeError(f"Slack said no for {WEBHOOK} with {BOT_TOKEN}")

    # Given Sentry switched on for the router, as the construct configures it; When an error whose message
    # holds a webhook URL and a bot token is reported
    payload = captured_by_sentry(
        dsn, received, "alert-router", slack_said_no, SENTRY_ENVIRONMENT="staging", SENTRY_RELEASE="monitoring@abc123"
    )
    # Then the loopback Sentry got the event with our tags, and neither secret
    events = [json.loads(line) for line in payload.splitlines() if line.startswith("{") and '"exception"' in line]
    assert len(events) == 1
    (event,) = events
    assert event["environment"] == "staging"
    assert event["release"] == "monitoring@abc123"
    assert event["tags"]["service"] == "alert-router"
    assert WEBHOOK not in payload
    assert BOT_TOKEN not in payload
    assert "Slack said no for [redacted]" in payload
