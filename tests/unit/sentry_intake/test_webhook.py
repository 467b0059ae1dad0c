"""The intake's pure decision: size, signature, freshness, method, resource, JSON, signed time; and the SNS message."""

from __future__ import annotations

import base64
import hashlib
import json
import time

import pytest

from lambdas.sentry_intake.settings import SettingsError, client_secret_from_text
from lambdas.sentry_intake.trimming import fit_envelope
from lambdas.sentry_intake.webhook import (
    MAX_BODY_BYTES,
    Decision,
    decide,
    sign,
    signature_valid,
)
from lambdas.shared.function_url import HttpRequest, request_from_event
from lambdas.shared.secret import Secret
from tools.sentry_events import (
    EVENTS,
    FIXED_TIMESTAMP,
    TEST_SECRET,
    build_event,
    function_url_event,
    with_fresh_times,
)

SECRET = "s3cr3t"
NOW = float(FIXED_TIMESTAMP) + 30  # the committed events' timestamp is 30 s old
MAX_AGE = 300


def judge(
    request: HttpRequest, secret: str = SECRET, *, now: float = NOW, max_age: int = MAX_AGE, max_body_age: int = 0
) -> Decision:
    return decide(request, Secret(secret), now=now, max_age=max_age, max_body_age=max_body_age)


def signed(body: bytes, resource: str = "metric_alert", method: str = "POST", **headers: str) -> HttpRequest:
    base = {
        "sentry-hook-resource": resource,
        "request-id": "req-1",
        "sentry-hook-timestamp": FIXED_TIMESTAMP,
        "sentry-hook-signature": sign(body, SECRET),
    }
    return HttpRequest(method=method, headers={**base, **headers}, body=body)


BODY = json.dumps({"action": "critical", "data": {"metric_alert": {}}}).encode()


def test_signature_is_hex_hmac_sha256_of_the_raw_body() -> None:
    # Given a known vector (computed independently: printf "{}" | openssl dgst -sha256 -hmac s3cr3t)
    # Then our signature matches it, and only it
    assert sign(b"{}", SECRET) == "608b0c406f3dda19702d71a048483b8c331283106d80a208e3cf43dbde505286"
    secret = Secret(SECRET)
    assert signature_valid(b"{}", sign(b"{}", SECRET), secret)
    assert signature_valid(b"{}", sign(b"{}", SECRET).upper(), secret)
    assert not signature_valid(b"{} ", sign(b"{}", SECRET), secret)
    assert not signature_valid(b"{}", sign(b"{}", "other"), secret)
    assert not signature_valid(b"{}", None, secret)
    assert not signature_valid(b"{}", "", secret)
    assert not signature_valid(b"{}", sign(b"{}", ""), Secret(""))
    assert not signature_valid(b"{}", "é" * 64, secret)  # compare_digest refuses non-ASCII str: bytes here


def test_signed_routed_webhook_is_accepted_with_an_envelope() -> None:
    decision = judge(signed(BODY, **{"sentry-hook-timestamp": "1764400000"}), SECRET)
    assert (decision.status, decision.outcome) == (202, "accepted")
    assert decision.message is not None
    assert json.loads(decision.message) == {
        "source": "sentry",
        "resource": "metric_alert",
        "delivery_id": hashlib.sha256(BODY).hexdigest(),
        "hook_timestamp": "1764400000",
        "payload": json.loads(BODY),
    }


@pytest.mark.parametrize(
    ("request_", "status"),
    [
        (HttpRequest("POST", {"sentry-hook-resource": "metric_alert"}, BODY), 401),
        (signed(BODY, **{"sentry-hook-signature": sign(BODY, "forged")}), 401),
        (HttpRequest("POST", signed(BODY).headers, BODY + b" "), 401),  # body changed after signing
        (signed(b"x" * (MAX_BODY_BYTES + 1)), 413),
        (signed(BODY, method="GET"), 405),
        (HttpRequest("GET", {}, b""), 401),  # unsigned: nothing but the size is answered before the signature
        (HttpRequest("POST", {}, b"{not json"), 401),
        (HttpRequest("POST", {}, None), 401),  # a body that could not be decoded cannot have been signed
    ],
    ids=[
        "unsigned",
        "forged",
        "changed-body",
        "oversize",
        "signed-get",
        "unsigned-get",
        "unsigned-malformed",
        "undecodable",
    ],
)
def test_refusals_publish_nothing(request_: HttpRequest, status: int) -> None:
    decision = judge(request_)
    assert decision.status == status
    assert decision.message is None


@pytest.mark.parametrize(
    ("body", "why"),
    [(b"{not json", "not valid JSON"), (b"[1, 2]", "not a JSON object"), (b"\xff\xfe", "not valid JSON")],
    ids=["malformed", "not-object", "not-utf8"],
)
def test_a_signed_unreadable_body_becomes_a_plain_text_alert_with_ids_only(body: bytes, why: str) -> None:
    decision = judge(signed(body))
    assert (decision.status, decision.outcome, decision.counts) == (202, "accepted", ("Accepted", "Unparsed"))
    assert decision.message is not None
    assert decision.message.startswith(f"A Sentry alert arrived but could not be read ({why}).")
    assert "Request-ID req-1" in decision.message
    assert hashlib.sha256(body).hexdigest()[:16] in decision.message


def test_an_unreadable_body_shows_the_request_id_only_when_it_is_a_plain_id() -> None:
    decision = judge(signed(b"{", **{"request-id": "<!channel> look here"}))
    assert decision.message is not None
    assert "Request-ID (not shown)" in decision.message
    assert "channel" not in decision.message


def test_oversize_is_refused_before_the_signature_is_computed() -> None:
    # an oversize unsigned body is 413, not 401: size is the cheapest check
    assert judge(HttpRequest("POST", {}, b"x" * (MAX_BODY_BYTES + 1))).status == 413


@pytest.mark.parametrize(
    ("timestamp", "max_age", "outcome"),
    [
        (str(int(NOW)), MAX_AGE, "accepted"),
        (str(int(NOW) - 299), MAX_AGE, "accepted"),
        (str(int(NOW) + 59), MAX_AGE, "accepted"),  # a little clock skew
        (str(int(NOW) - 301), MAX_AGE, "rejected: stale timestamp"),  # a lazy replay of captured headers
        (str(int(NOW) + 61), MAX_AGE, "rejected: stale timestamp"),
        ("yesterday", MAX_AGE, "rejected: stale timestamp"),
        (None, MAX_AGE, "rejected: stale timestamp"),
        ("1", 0, "accepted"),  # MAX_HOOK_AGE_SECONDS=0 turns the check off
    ],
)
def test_hook_timestamp_must_be_fresh(timestamp: str | None, max_age: int, outcome: str) -> None:
    request = signed(BODY)
    headers = {k: v for k, v in request.headers.items() if k != "sentry-hook-timestamp"}
    if timestamp is not None:
        headers["sentry-hook-timestamp"] = timestamp
    decision = judge(HttpRequest("POST", headers, BODY), max_age=max_age)
    assert decision.outcome == outcome
    assert decision.status == (202 if outcome == "accepted" else 401)


def test_an_unsigned_stale_request_is_refused_for_its_signature() -> None:
    # the signature comes first: a stranger learns nothing about the freshness rule
    assert judge(HttpRequest("POST", {"sentry-hook-timestamp": "1"}, BODY)).outcome == "rejected: signature"


@pytest.mark.parametrize(
    ("resource", "action"), [("installation", "created"), ("issue", "resolved"), ("metric_alert", "open"), (None, "x")]
)
def test_unrouted_resources_are_acknowledged_and_ignored(resource: str | None, action: str) -> None:
    body = json.dumps({"action": action, "data": {}}).encode()
    headers = {
        "sentry-hook-signature": sign(body, SECRET),
        "sentry-hook-timestamp": FIXED_TIMESTAMP,
        **({"sentry-hook-resource": resource} if resource else {}),
    }
    decision = judge(HttpRequest("POST", headers, body))
    assert (decision.status, decision.outcome, decision.message) == (202, "ignored", None)


def test_the_signed_body_not_the_request_id_identifies_the_delivery() -> None:
    # Given the same signed body delivered twice, once under another Request-ID (Sentry's signature does
    # not cover headers, so a captured body can be replayed with any Request-ID)
    first = judge(signed(BODY, **{"request-id": "req-1"}), SECRET)
    replayed = judge(signed(BODY, **{"request-id": "req-forged"}), SECRET)
    other = judge(signed(BODY.replace(b"critical", b"warning")), SECRET)
    # Then both carry the same delivery id, and a different body a different one
    delivery = [json.loads(decision.message or "{}").get("delivery_id") for decision in (first, replayed, other)]
    assert delivery[0] == delivery[1] == hashlib.sha256(BODY).hexdigest()
    assert delivery[2] != delivery[0]


def test_logs_carry_ids_only() -> None:
    decision = judge(signed(BODY), SECRET)
    assert set(decision.log) == {
        "resource",
        "request_id",
        "bytes",
        "action",
        "body_sha256",
        "delivery",
        "published_bytes",
    }
    assert 'metric_alert": {' not in json.dumps(decision.log)


def test_base64_bodies_are_decoded_to_the_signed_bytes() -> None:
    body = "日本語 ✓".encode()
    event = function_url_event(body, resource="issue", request_id="r", secret=SECRET, base64_body=True)
    request = request_from_event(event)
    assert request.body == body
    assert signature_valid(body, request.headers["sentry-hook-signature"], Secret(SECRET))


def test_broken_base64_is_refused_as_unsigned() -> None:
    event = {**function_url_event(b"{}", resource="issue", request_id="r"), "body": "%%%", "isBase64Encoded": True}
    request = request_from_event(event)
    assert request.body is None
    assert judge(request, TEST_SECRET).status == 401


@pytest.mark.parametrize("name", sorted(EVENTS))
def test_committed_events_are_signed_with_the_test_secret(name: str) -> None:
    # Given the committed event file; Then it is exactly what the tool writes (run `python -m tools.sentry_events`)
    from tools.sentry_events import EVENTS_DIR

    committed = json.loads((EVENTS_DIR / name).read_text())
    assert committed == build_event(name)
    assert judge(request_from_event(committed), TEST_SECRET).outcome == "accepted"
    # and with a real clock and the router's memory, once its times are refreshed as `make invoke` does
    now, memory = time.time(), 86_400
    stale = judge(request_from_event(committed), TEST_SECRET, now=now, max_body_age=memory)
    assert stale.outcome == "rejected: stale timestamp"
    header_only = request_from_event(with_fresh_times(committed, secret="another-secret"))  # not re-signed
    assert judge(header_only, TEST_SECRET, now=now, max_body_age=memory).outcome == "rejected: stale body"
    fresh = request_from_event(with_fresh_times(committed))
    assert judge(fresh, TEST_SECRET, now=now, max_body_age=memory).outcome == "accepted"


def test_a_small_envelope_is_published_whole() -> None:
    envelope = {"source": "sentry", "resource": "event_alert", "payload": {"data": {"event": {"exception": {}}}}}
    text, view = fit_envelope(envelope, original_bytes=10)
    assert (json.loads(text), view) == (envelope, "whole")


@pytest.mark.parametrize(
    ("text", "expected"), [("abc", "abc"), (' {"client_secret": "abc"} ', "abc"), ("abc\n", "abc")]
)
def test_client_secret_text(text: str, expected: str) -> None:
    assert client_secret_from_text(Secret(text)).reveal() == expected


@pytest.mark.parametrize("text", ["", "{}", '{"client_secret": ""}', "{oops"])
def test_empty_or_broken_client_secret_is_an_error_without_the_value(text: str) -> None:
    with pytest.raises(SettingsError) as error:
        client_secret_from_text(Secret(text))
    assert "oops" not in str(error.value)


def test_base64_helper_round_trip() -> None:
    assert base64.b64decode(build_event("issue_created.json")["body"]).startswith(b"{")
