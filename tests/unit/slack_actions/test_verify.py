"""The endpoint's pure decision: Slack's v0 signature, the timestamp window, malformed headers, base64 bodies."""

from __future__ import annotations

import base64

import pytest

from lambdas.shared.function_url import HttpRequest, request_from_event
from lambdas.shared.secret import Secret
from lambdas.slack_actions.verify import MAX_BODY_BYTES, decide, sign, signature_valid, timestamp_fresh
from tools.slack_interactions import TEST_SIGNING_SECRET, form_body, signed_event

# Slack's documented example ("Verifying requests from Slack", https://docs.slack.dev/authentication/
# verifying-requests-from-slack): a slash command's body, its signing secret, timestamp and signature.
DOC_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
DOC_TIMESTAMP = "1531420618"
DOC_BODY = (
    b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
    b"&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
    b"&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
    b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
DOC_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
NOW = 1_780_000_000.0
# The same digits, full width: int() would read them; Slack never sends them
FULL_WIDTH_TIMESTAMP = "".join(chr(ord(digit) + 0xFEE0) for digit in DOC_TIMESTAMP)
PAYLOAD = {"type": "block_actions", "user": {"id": "U1"}, "actions": []}


def doc_request(**headers: str) -> HttpRequest:
    base = {"x-slack-request-timestamp": DOC_TIMESTAMP, "x-slack-signature": DOC_SIGNATURE}
    return HttpRequest("POST", {**base, **headers}, DOC_BODY)


def test_the_documented_example_signs_and_verifies() -> None:
    # Given Slack's own example; then our signature is Slack's, and it verifies
    assert sign(DOC_TIMESTAMP, DOC_BODY, DOC_SECRET) == DOC_SIGNATURE
    assert signature_valid(DOC_TIMESTAMP, DOC_BODY, DOC_SIGNATURE, Secret(DOC_SECRET))
    # When Slack's example arrives within five minutes of its timestamp, it passes the checks (a slash
    # command: not ours, so 200 and nothing handed over)
    decision = decide(doc_request(), Secret(DOC_SECRET), now=float(DOC_TIMESTAMP) + 299)
    assert (decision.status, decision.outcome, decision.actions) == (200, "ignored: not an interaction payload", ())


@pytest.mark.parametrize(
    "changed",
    [
        {"x-slack-signature": DOC_SIGNATURE[:-1] + "4"},  # one hex digit off
        {"x-slack-signature": DOC_SIGNATURE.upper()},  # hex is lower case: V0=A21... is another string
        {"x-slack-signature": "v1=" + DOC_SIGNATURE[3:]},  # another version
        {"x-slack-request-timestamp": str(int(DOC_TIMESTAMP) + 1)},  # the timestamp is signed too
    ],
)
def test_any_change_to_the_signed_parts_is_a_401(changed: dict[str, str]) -> None:
    decision = decide(doc_request(**changed), Secret(DOC_SECRET), now=float(DOC_TIMESTAMP))
    assert decision.status == 401
    assert decision.actions == ()


def test_a_changed_body_is_a_401() -> None:
    request = HttpRequest("POST", doc_request().headers, DOC_BODY + b"&x=1")
    assert decide(request, Secret(DOC_SECRET), now=float(DOC_TIMESTAMP)).status == 401


@pytest.mark.parametrize("offset", [-301, 301, -86_400, 10**9])
def test_a_timestamp_more_than_five_minutes_away_is_refused_even_when_signed(offset: int) -> None:
    # Given a request signed correctly for a timestamp far from now (a replay, or a forged future one)
    stamp = int(NOW) + offset
    body = form_body(PAYLOAD)
    request = HttpRequest(
        "POST", {"x-slack-request-timestamp": str(stamp), "x-slack-signature": sign(str(stamp), body, "s")}, body
    )
    # Then it is refused, and not counted as a wrong secret
    decision = decide(request, Secret("s"), now=NOW)
    assert (decision.status, decision.outcome, decision.counts) == (401, "rejected: timestamp", ("Rejected",))


def test_a_captured_request_replayed_later_is_refused() -> None:
    # Given a click Slack signed, accepted when it arrived
    event = signed_event(PAYLOAD, secret="s", timestamp=int(NOW))
    assert decide(request_from_event(event), Secret("s"), now=NOW + 1).status == 200
    # When the same bytes are posted again six minutes later, then 401
    assert decide(request_from_event(event), Secret("s"), now=NOW + 360).status == 401


@pytest.mark.parametrize(
    "headers",
    [
        {},  # nothing
        {"x-slack-signature": DOC_SIGNATURE},  # no timestamp
        {"x-slack-request-timestamp": DOC_TIMESTAMP},  # no signature
        {"x-slack-request-timestamp": "1531420618.5", "x-slack-signature": DOC_SIGNATURE},
        {"x-slack-request-timestamp": "soon", "x-slack-signature": DOC_SIGNATURE},
        {"x-slack-request-timestamp": FULL_WIDTH_TIMESTAMP, "x-slack-signature": DOC_SIGNATURE},
        {"x-slack-request-timestamp": "-1531420618", "x-slack-signature": DOC_SIGNATURE},
        {"x-slack-request-timestamp": DOC_TIMESTAMP, "x-slack-signature": "v0=" + "é" * 64},
        {"x-slack-request-timestamp": DOC_TIMESTAMP, "x-slack-signature": "v0=\udcff" + DOC_SIGNATURE[4:]},
        {"x-slack-request-timestamp": DOC_TIMESTAMP, "x-slack-signature": ""},
        {"x-slack-request-timestamp": DOC_TIMESTAMP, "x-slack-signature": "v0="},
    ],
)
def test_missing_or_malformed_headers_are_a_401_with_no_detail(headers: dict[str, str]) -> None:
    decision = decide(HttpRequest("POST", headers, DOC_BODY), Secret(DOC_SECRET), now=float(DOC_TIMESTAMP))
    assert decision.status == 401
    assert decision.response() == {"statusCode": 401, "headers": {"content-type": "text/plain"}, "body": ""}


def test_only_a_fresh_slack_shaped_signature_counts_as_a_wrong_secret() -> None:
    # Given Slack's example verified with another secret (what an unfilled or wrong secret looks like)
    wrong = decide(doc_request(), Secret("not-the-secret"), now=float(DOC_TIMESTAMP))
    # Then it is refused and counted apart; a garbage signature is only refused
    assert (wrong.status, wrong.counts) == (401, ("Rejected", "SignatureMismatch"))
    garbage = decide(doc_request(**{"x-slack-signature": "v0=zz"}), Secret(DOC_SECRET), now=float(DOC_TIMESTAMP))
    assert garbage.counts == ("Rejected",)


def test_an_empty_secret_verifies_nothing() -> None:
    body = form_body(PAYLOAD)
    assert not signature_valid(str(int(NOW)), body, sign(str(int(NOW)), body, ""), Secret(""))


def test_header_names_are_case_insensitive_and_base64_bodies_are_decoded_first() -> None:
    # Given a signed click whose headers arrive in another case and whose body is base64 (Function URLs)
    event = signed_event(PAYLOAD, secret="s", timestamp=int(NOW))
    event["headers"] = {name.title(): value for name, value in event["headers"].items()}  # X-Slack-Signature
    assert event["isBase64Encoded"] is True
    # Then the signature of the decoded bytes is checked, and it holds
    assert decide(request_from_event(event), Secret("s"), now=NOW).status == 200
    # And the same body not base64-encoded verifies too
    plain = signed_event(PAYLOAD, secret="s", timestamp=int(NOW), base64_body=False)
    assert decide(request_from_event(plain), Secret("s"), now=NOW).status == 200


def test_broken_base64_and_a_signature_of_the_encoded_text_are_refused() -> None:
    body = form_body(PAYLOAD)
    stamp = str(int(NOW))
    # Given a body that is not base64 at all
    broken = {**signed_event(PAYLOAD, secret="s", timestamp=int(NOW)), "body": "%%%not base64%%%"}
    assert decide(request_from_event(broken), Secret("s"), now=NOW).status == 401
    # Given a signature computed over the base64 text instead of the bytes Slack sent
    encoded = base64.b64encode(body)
    wrong = signed_event(body, secret="s", timestamp=int(NOW))
    wrong["headers"]["x-slack-signature"] = sign(stamp, encoded, "s")
    assert decide(request_from_event(wrong), Secret("s"), now=NOW).status == 401


def test_the_method_is_judged_after_the_signature() -> None:
    event = signed_event(PAYLOAD, secret="s", timestamp=int(NOW))
    event["requestContext"]["http"]["method"] = "GET"
    assert decide(request_from_event(event), Secret("s"), now=NOW).status == 405
    unsigned = {**event, "headers": {}}
    assert decide(request_from_event(unsigned), Secret("s"), now=NOW).status == 401


def test_a_body_over_the_function_url_limit_is_refused_before_any_work() -> None:
    request = HttpRequest("POST", {}, b"x" * (MAX_BODY_BYTES + 1))
    assert decide(request, Secret("s"), now=NOW).status == 413


def test_timestamp_window_edges() -> None:
    assert timestamp_fresh(str(int(NOW) - 300), NOW)
    assert timestamp_fresh(str(int(NOW) + 300), NOW)
    assert not timestamp_fresh(str(int(NOW) - 301), NOW)
    assert not timestamp_fresh(None, NOW)
    assert not timestamp_fresh(TEST_SIGNING_SECRET, NOW)
