"""The one delivery engine, through both Slack transports, against the local Slack fakes on 127.0.0.1.

Waits are recorded by a fake clock (no sleeping) except where the point is real time: a trickling,
stalled or endless answer, and five containers sharing one rate-limited webhook.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any, Protocol

import pytest

from lambdas.alert_router.delivery.engine import DeliveryEngine, DeliveryError, DeliveryReport, MessageGone, Pacer
from lambdas.alert_router.delivery.policy import RetryPolicy
from lambdas.alert_router.delivery.web_api import WebApiClient
from lambdas.alert_router.delivery.webhook import WebhookSender
from tests.clock import FakeClock
from tools.local_slack import LocalSlack, LocalSlackApi, Mode

FAST = RetryPolicy(base_delay=0.25, max_delay=2.0, attempt_timeout=2.0, min_interval=0.0, reserve=0.1)
CHANNEL = "alerts-critical"
CHANNEL_ID = "C0CRITICAL"
MESSAGE = {
    "text": "🔴 [staging] ALARM · CRITICAL: checkout-5xx",
    "attachments": [{"color": "#d0021b", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "5xx"}}]}],
}


def highest(low: float, high: float) -> float:
    """The draw that always picks the top of the jitter range: the longest wait the policy allows."""
    return high


class Transport(Protocol):
    """One Slack transport and its fake, with Slack's answers in that transport's own dialect."""

    def send(self, payload: dict[str, Any]) -> DeliveryReport: ...
    def server_error(self, times: int) -> None: ...
    def rate_limit(self, retry_after: str, times: int) -> None: ...
    def refuse(self, error: str, times: int = 1) -> None: ...
    def misbehave(self, mode: Mode, pace: float = 1.0) -> None: ...
    def accepted(self) -> list[dict[str, Any]]: ...
    def requests(self) -> int: ...


class Webhook:
    def __init__(self, slack: LocalSlack, engine: DeliveryEngine) -> None:
        self.slack = slack
        self.sender = WebhookSender(webhooks={CHANNEL: slack.url(CHANNEL)}, engine=engine)

    def send(self, payload: dict[str, Any]) -> DeliveryReport:
        return self.sender.send(CHANNEL, payload)

    def server_error(self, times: int) -> None:
        self.slack.fail(CHANNEL, status=503, body="service_unavailable", times=times)

    def rate_limit(self, retry_after: str, times: int) -> None:
        self.slack.fail(CHANNEL, status=429, body="rate_limited", retry_after=retry_after, times=times)

    def refuse(self, error: str, times: int = 1) -> None:
        status = {"no_service": 404, "channel_is_archived": 410, "invalid_token": 403}.get(error, 400)
        self.slack.fail(CHANNEL, status=status, body=error, times=times)

    def misbehave(self, mode: Mode, pace: float = 1.0) -> None:
        self.slack.fail(CHANNEL, status=200, body="ok", mode=mode, pace=pace)

    def accepted(self) -> list[dict[str, Any]]:
        return self.slack.messages(CHANNEL)

    def requests(self) -> int:
        return self.slack.request_count(CHANNEL)


class WebApi:
    def __init__(self, api: LocalSlackApi, engine: DeliveryEngine) -> None:
        self.api = api
        self.client = WebApiClient(token=api.token, base_url=api.base_url, engine=engine)

    def send(self, payload: dict[str, Any]) -> DeliveryReport:
        return self.client.post_message(CHANNEL_ID, payload)

    def server_error(self, times: int) -> None:
        self.api.fail("chat.postMessage", status=503, error="service_unavailable", times=times)

    def rate_limit(self, retry_after: str, times: int) -> None:
        self.api.rate_limit(times=times, retry_after=retry_after)

    def refuse(self, error: str, times: int = 1) -> None:
        self.api.fail("chat.postMessage", error=error, times=times)  # HTTP 200, ok: false, like Slack

    def misbehave(self, mode: Mode, pace: float = 1.0) -> None:
        self.api.fail("chat.postMessage", status=200, mode=mode, pace=pace)

    def accepted(self) -> list[dict[str, Any]]:
        return self.api.posts(CHANNEL_ID)

    def requests(self) -> int:
        return len(self.api.calls())


@pytest.fixture(scope="module")
def slack() -> Iterator[LocalSlack]:
    with LocalSlack() as server:
        yield server


@pytest.fixture(scope="module")
def api() -> Iterator[LocalSlackApi]:
    with LocalSlackApi() as server:
        yield server


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


MakeTransport = Callable[..., Transport]


@pytest.fixture(params=["webhook", "web-api"])
def transport_for(
    request: pytest.FixtureRequest, slack: LocalSlack, api: LocalSlackApi, clock: FakeClock
) -> MakeTransport:
    """A factory: the transport under test with an engine on the fake clock (or the real one)."""
    slack.reset()
    api.reset()

    def make(
        *, remaining: float = 60.0, policy: RetryPolicy = FAST, draw: Callable[[float, float], float] = highest
    ) -> Transport:
        engine = DeliveryEngine(
            policy=policy,
            remaining_seconds=clock.time_left(remaining),
            sleep=clock.sleep,
            draw=draw,
            pacer=Pacer(clock),
        )
        return Webhook(slack, engine) if request.param == "webhook" else WebApi(api, engine)

    return make


# --- retries: Retry-After, jitter, the time left ------------------------------------------------------------------


def test_429_waits_retry_after_plus_at_most_a_second_then_delivers(
    transport_for: MakeTransport, clock: FakeClock
) -> None:
    transport = transport_for()
    transport.rate_limit("7", times=2)
    report = transport.send(MESSAGE)
    assert len(report.attempts) == 3
    assert clock.sleeps == [8.0, 8.0]  # the longest jitter: 7 s + 1 s
    assert len(transport.accepted()) == 1


def test_server_errors_back_off_with_full_jitter_up_to_the_doubling_ceiling(
    transport_for: MakeTransport, clock: FakeClock
) -> None:
    transport = transport_for()
    transport.server_error(times=3)
    report = transport.send(MESSAGE)
    assert len(report.attempts) == 4
    assert clock.sleeps == [0.25, 0.5, 1.0]  # the ceilings; a real draw waits anywhere below them
    assert transport.requests() == 4


def test_retries_are_limited_by_the_time_left_not_by_a_count(transport_for: MakeTransport, clock: FakeClock) -> None:
    # Given Slack failing 20 times in a row while the Lambda has a minute left (the old sender stopped at 6)
    transport = transport_for(remaining=60.0)
    transport.server_error(times=20)
    # Then the 21st attempt delivers, and every wait fitted in the time
    report = transport.send(MESSAGE)
    assert len(report.attempts) == 21
    assert sum(clock.sleeps) < 60.0 - FAST.reserve


def test_retries_stop_when_the_time_left_would_not_fit_another_attempt(
    transport_for: MakeTransport, clock: FakeClock
) -> None:
    transport = transport_for(remaining=10.0)
    transport.server_error(times=100)
    with pytest.raises(DeliveryError, match="not enough Lambda time left") as raised:
        transport.send(MESSAGE)
    assert "service_unavailable" in str(raised.value)
    assert sum(clock.sleeps) <= 10.0 - FAST.reserve


def test_a_retry_after_longer_than_the_cap_is_capped(transport_for: MakeTransport, clock: FakeClock) -> None:
    # Given Slack asking for an hour's pause, and two minutes left
    transport = transport_for(remaining=120.0)
    transport.rate_limit("3600", times=1)
    # Then the wait is the cap (30 s) plus the jitter, and the retry delivers
    transport.send(MESSAGE)
    assert clock.sleeps == [31.0]
    assert len(transport.accepted()) == 1


def test_a_retry_after_beyond_the_deadline_gives_up_at_once(transport_for: MakeTransport, clock: FakeClock) -> None:
    transport = transport_for(remaining=10.0)
    transport.rate_limit("20", times=5)
    with pytest.raises(DeliveryError, match="not enough Lambda time left"):
        transport.send(MESSAGE)
    assert transport.requests() == 1  # a 20 s wait does not fit in 10 s
    assert clock.sleeps == []


def test_five_containers_do_not_retry_in_lock_step(slack: LocalSlack) -> None:
    # Given five containers that got the same server error at the same time (real random jitter)
    slack.reset()
    waits: list[list[float]] = []
    for _ in range(5):
        clock = FakeClock()
        slack.fail(CHANNEL, status=500, body="internal_error", times=2)
        engine = DeliveryEngine(policy=FAST, sleep=clock.sleep, pacer=Pacer(clock))
        WebhookSender(webhooks={CHANNEL: slack.url(CHANNEL)}, engine=engine).send(CHANNEL, MESSAGE)
        waits.append(clock.sleeps)
    # Then each came back at its own time, within the policy's ceilings
    assert len({tuple(w) for w in waits}) == 5
    assert all(0 <= first <= 0.25 and 0 <= second <= 0.5 for first, second in waits)


def test_no_answer_in_time_is_retried(transport_for: MakeTransport, slack: LocalSlack, api: LocalSlackApi) -> None:
    # Given an answer that comes after the attempt's 0.3 s
    transport = transport_for(policy=replace(FAST, attempt_timeout=0.3))
    if isinstance(transport, Webhook):
        slack.fail(CHANNEL, status=200, body="ok", delay=0.6)
    else:
        api.latency = 0.6
        threading.Timer(0.4, lambda: setattr(api, "latency", 0.0)).start()
    report = transport.send(MESSAGE)
    assert report.attempts[0].answer == "timeout"
    assert report.attempts[-1].verdict.value == "delivered"


@pytest.mark.parametrize("kind", ["webhook", "web-api"])
def test_connection_refused_is_retried_then_fails_without_the_address(clock: FakeClock, kind: str) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    engine = DeliveryEngine(policy=FAST, remaining_seconds=clock.time_left(5.0), sleep=clock.sleep, draw=highest)
    closed = f"http://127.0.0.1:{port}/"
    webhook = WebhookSender(webhooks={CHANNEL: closed + CHANNEL}, engine=engine)
    web_api = WebApiClient(token="xoxb-test-X", base_url=closed + "api/", engine=engine)

    def send() -> DeliveryReport:
        if kind == "webhook":
            return webhook.send(CHANNEL, MESSAGE)
        return web_api.post_message(CHANNEL_ID, MESSAGE)

    with pytest.raises(DeliveryError, match="connection refused") as raised:
        send()
    assert len(raised.value.attempts) > 1
    assert "127.0.0.1" not in str(raised.value)


# --- one fallback ladder, one taxonomy ------------------------------------------------------------------------


@pytest.mark.parametrize("error", ["invalid_blocks", "invalid_attachments", "invalid_payload", "msg_blocks_too_long"])
def test_refused_content_is_sent_again_as_plain_text(transport_for: MakeTransport, error: str) -> None:
    transport = transport_for()
    transport.refuse(error)
    report = transport.send(MESSAGE)
    assert report.plain_text_fallback
    [accepted] = transport.accepted()
    assert accepted["text"] == MESSAGE["text"]
    assert not accepted.get("attachments")
    assert not accepted.get("blocks")


def test_plain_text_refused_too_fails(transport_for: MakeTransport) -> None:
    transport = transport_for()
    transport.refuse("invalid_blocks", times=2)
    with pytest.raises(DeliveryError, match="rejected"):
        transport.send(MESSAGE)
    assert transport.requests() == 2


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        ("web-api", "channel_not_found"),
        ("web-api", "not_in_channel"),
        ("web-api", "invalid_auth"),
        ("web-api", "channel_is_archived"),
        ("webhook", "no_service"),
        ("webhook", "channel_is_archived"),
        ("webhook", "invalid_token"),
    ],
)
def test_permanent_errors_raise_at_once_with_slacks_answer(
    slack: LocalSlack, api: LocalSlackApi, clock: FakeClock, kind: str, error: str
) -> None:
    slack.reset()
    api.reset()
    engine = DeliveryEngine(policy=FAST, sleep=clock.sleep, pacer=Pacer(clock))
    transport: Transport = Webhook(slack, engine) if kind == "webhook" else WebApi(api, engine)
    transport.refuse(error)
    with pytest.raises(DeliveryError, match=error) as raised:
        transport.send(MESSAGE)
    assert transport.requests() == 1
    assert "http" not in str(raised.value)
    assert clock.sleeps == []


def test_a_200_that_is_not_slacks_answer_is_retried(slack: LocalSlack, clock: FakeClock) -> None:
    # Given a 200 that is not Slack's `ok` (a captive portal, a proxy page)
    slack.reset()
    engine = DeliveryEngine(policy=FAST, sleep=clock.sleep, draw=highest, pacer=Pacer(clock))
    transport = Webhook(slack, engine)
    slack.fail(CHANNEL, status=200, body="<html>captive portal</html>")
    # Then it is not taken for a delivery
    assert len(transport.send(MESSAGE).attempts) == 2
    assert len(transport.accepted()) == 1


def test_a_deleted_parent_is_reported_as_gone_not_as_a_failure(api: LocalSlackApi, clock: FakeClock) -> None:
    api.reset()
    client = WebApiClient(token=api.token, base_url=api.base_url, engine=DeliveryEngine(policy=FAST, sleep=clock.sleep))
    parent = client.post_message(CHANNEL_ID, MESSAGE)
    assert parent.ts is not None
    api.delete_message(CHANNEL_ID, parent.ts)
    with pytest.raises(MessageGone, match="thread_not_found"):
        client.post_message(CHANNEL_ID, {"text": "reply"}, thread_ts=parent.ts)
    with pytest.raises(MessageGone, match="message_not_found"):
        client.update_message(CHANNEL_ID, parent.ts, MESSAGE)
    assert clock.sleeps == []  # neither is retried


def test_a_bug_in_our_code_is_not_reported_as_no_answer_from_slack(transport_for: MakeTransport) -> None:
    # Given a payload our own code cannot encode (a bug upstream: renderers return JSON types only)
    transport = transport_for()
    # Then the bug surfaces as itself, with its type, instead of as Slack's silence
    with pytest.raises(TypeError, match="not JSON serializable"):
        transport.send({"text": object()})
    assert transport.requests() == 0


def test_a_429_holds_the_next_post_to_the_same_target_too(transport_for: MakeTransport, clock: FakeClock) -> None:
    # Given one message rate limited for 3 s and another right behind it
    transport = transport_for()
    transport.rate_limit("3", times=1)
    transport.send(MESSAGE)
    clock.sleeps.clear()
    clock.now -= 1.0  # the second message arrives before the hold is over (the first waited 4 s)
    transport.send(MESSAGE)
    # Then the second waited for the rest of the hold instead of being refused again
    assert clock.sleeps == [1.0]
    assert transport.requests() == 3


def test_web_api_posts_are_not_spaced_in_advance(api: LocalSlackApi, clock: FakeClock) -> None:
    # Slack allows short bursts per channel; only a 429 holds the channel (test above)
    api.reset()
    engine = DeliveryEngine(policy=replace(FAST, min_interval=1.0), sleep=clock.sleep, pacer=Pacer(clock))
    client = WebApiClient(token=api.token, base_url=api.base_url, engine=engine)
    for _ in range(3):
        client.post_message(CHANNEL_ID, MESSAGE)
    assert clock.sleeps == []
    assert len(api.posts(CHANNEL_ID)) == 3


# --- real time: answers that never end, and an alarm storm ------------------------------------------------------


@pytest.mark.parametrize(("mode", "pace"), [("trickle", 0.2), ("stall", 1.0)])
@pytest.mark.parametrize("kind", ["webhook", "web-api"])
def test_an_answer_that_trickles_or_stalls_is_cut_off_at_the_deadline(
    slack: LocalSlack, api: LocalSlackApi, kind: str, mode: Mode, pace: float
) -> None:
    # Given an answer that trickles (one byte every 0.2 s: within any per-read timeout) or never comes, and
    # a Lambda with 2 s left, 0.5 s of it reserved
    slack.reset()
    api.reset()
    transport = _real_time(slack, api, kind, seconds_left=2.0)
    transport.misbehave(mode, pace=pace)
    started = time.monotonic()
    # When a message is sent, then the attempt ends at the deadline and the delivery fails in time
    with pytest.raises(DeliveryError, match="not enough Lambda time left") as raised:
        transport.send(MESSAGE)
    assert time.monotonic() - started < 2.0 - 0.5 + 0.3
    assert [attempt.answer for attempt in raised.value.attempts] == ["timeout"]


@pytest.mark.parametrize("kind", ["webhook", "web-api"])
def test_an_endless_answer_is_read_no_further_than_its_cap_and_retried(
    slack: LocalSlack, api: LocalSlackApi, kind: str
) -> None:
    # Given a 200 whose body never ends, then Slack's normal answer
    slack.reset()
    api.reset()
    transport = _real_time(slack, api, kind, seconds_left=5.0)
    transport.misbehave("endless")
    started = time.monotonic()
    # Then the body is read up to the cap, taken for what it is (not Slack's answer), and the retry delivers
    report = transport.send(MESSAGE)
    assert [attempt.verdict.value for attempt in report.attempts] == ["retry", "delivered"]
    assert report.attempts[0].answer.startswith("okok")
    assert time.monotonic() - started < 2.0


def _real_time(slack: LocalSlack, api: LocalSlackApi, kind: str, *, seconds_left: float) -> Transport:
    started = time.monotonic()
    engine = DeliveryEngine(
        policy=replace(FAST, reserve=0.5, attempt_timeout=5.0),
        remaining_seconds=lambda: seconds_left - (time.monotonic() - started),
    )
    return Webhook(slack, engine) if kind == "webhook" else WebApi(api, engine)


def test_an_alarm_storm_from_five_containers_on_one_webhook_loses_nothing(slack: LocalSlack) -> None:
    # Given Slack's limit of one post per interval on one webhook, and five containers each posting four alerts
    # as fast as their own spacing allows (the real ratio: 5 containers at 1/s each against Slack's 1/s,
    # here ten times faster)
    slack.reset()
    interval = 0.1
    slack.rate_limit(CHANNEL, interval=interval)
    policy = RetryPolicy(base_delay=interval, max_delay=1.0, min_interval=interval, reserve=0.5)
    failures: list[BaseException] = []

    def container(index: int) -> None:
        started = time.monotonic()
        engine = DeliveryEngine(policy=policy, remaining_seconds=lambda: 30.0 - (time.monotonic() - started))
        sender = WebhookSender(webhooks={CHANNEL: slack.url(CHANNEL)}, engine=engine)
        for alert in range(4):
            try:
                sender.send(CHANNEL, {"text": f"alert {index}-{alert}"})
            except DeliveryError as error:
                failures.append(error)

    threads = [threading.Thread(target=container, args=(index,)) for index in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # Then every alert was delivered (none dead-lettered), after Slack rate limited the storm
    assert failures == []
    assert len(slack.messages(CHANNEL)) == 20
    assert slack.rate_limited(CHANNEL) > 0
