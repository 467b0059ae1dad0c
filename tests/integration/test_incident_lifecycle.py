"""Bot-token mode end to end: the handler against a local Slack Web API on 127.0.0.1, state in memory or moto.

Waits are injected (a recording sleep) and "now" is a fake clock, so repeats after an hour and flapping
windows run in milliseconds.
"""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from lambdas.alert_router import handler, telemetry
from lambdas.alert_router.delivery.defaults import reset_process_adapters
from lambdas.alert_router.delivery.engine import DeliveryEngine, DeliveryError, Pacer
from lambdas.alert_router.delivery.idempotency import InMemoryDeduplicator
from lambdas.alert_router.delivery.policy import RetryPolicy
from lambdas.alert_router.delivery.web_api import WebApiClient
from lambdas.alert_router.incidents import defaults as incident_defaults
from lambdas.alert_router.incidents.model import Incident
from lambdas.alert_router.incidents.store import (
    Conflict,
    DynamoDBIncidentStore,
    IncidentStore,
    InMemoryIncidentStore,
    create_silence,
    expire_silence,
    list_silences,
)
from lambdas.alert_router.settings import load_bot, load_settings
from lambdas.shared.local_context import LocalLambdaContext
from lambdas.shared.sentry_envelope import sentry_envelope
from tests.aws_tables import INCIDENT_TABLE, REGION, create_table
from tests.clock import FakeClock
from tests.emf import emf_points, emf_series
from tests.unit.alert_router.slack_limits import slack_problems
from tools.local_slack import FAKE_BOT_TOKEN, LocalSlackApi
from tools.sentry_events import EVENTS as SENTRY_EVENTS

EVENTS = Path(__file__).resolve().parents[2] / "events" / "alert_router"
CRITICAL = "C0CRITICAL"  # the metric-math ALB 5xx fixture is critical
OPENED = datetime(2026, 11, 29, 3, 14, 15, tzinfo=UTC)
FAST = RetryPolicy(base_delay=0.25, max_delay=2.0, attempt_timeout=2.0, min_interval=0.0, reserve=0.1)


def alarm_event(state: str, at: datetime, message_id: str, old: str | None = None) -> dict[str, Any]:
    """The ALB 5xx metric-math alarm (critical) in `state` at `at`, as SNS delivers it."""
    event: dict[str, Any] = json.loads((EVENTS / "sns_metric_math_alarm.json").read_text())
    sns = event["Records"][0]["Sns"]
    message = json.loads(sns["Message"])
    message["NewStateValue"] = state
    message["OldStateValue"] = old or ("OK" if state == "ALARM" else "ALARM")
    message["StateChangeTime"] = at.strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    sns["Message"] = json.dumps(message)
    sns["MessageId"] = message_id
    return event


@pytest.fixture(scope="module")
def api() -> Iterator[LocalSlackApi]:
    with LocalSlackApi() as server:
        yield server


@pytest.fixture(autouse=True)
def environment(api: LocalSlackApi, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    api.reset()
    for name in ("SLACK_WEBHOOK_SECRET_ARN", "SLACK_WEBHOOK_URLS", "IDEMPOTENCY_TABLE_NAME", "INCIDENT_TABLE_NAME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ENVIRONMENT", "staging")
    monkeypatch.setenv("DISPLAY_TIME_ZONE", "Asia/Tokyo")
    monkeypatch.setenv("SLACK_BOT_TOKEN", api.token)
    monkeypatch.setenv("SLACK_CHANNEL_IDS", api.channel_ids_json())
    monkeypatch.setenv("SLACK_API_BASE_URL", api.base_url)
    load_settings.cache_clear()
    yield
    load_settings.cache_clear()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(OPENED.timestamp(), advances=False)


@pytest.fixture
def dynamodb(moto_dynamodb: Any) -> Any:
    create_table(moto_dynamodb, "incidents", INCIDENT_TABLE)
    return moto_dynamodb


@pytest.fixture(params=["memory", "dynamodb"])
def store(request: pytest.FixtureRequest) -> IncidentStore:
    if request.param == "memory":
        return InMemoryIncidentStore()
    client = request.getfixturevalue("dynamodb")
    return DynamoDBIncidentStore("incidents", client=client)


def web_api(api: LocalSlackApi, clock: FakeClock, token: str | None = None) -> WebApiClient:
    # each invocation has 10 s for Slack: its waits run the time down
    engine = DeliveryEngine(
        policy=FAST, remaining_seconds=clock.time_left(10.0), sleep=clock.sleep, draw=highest, pacer=Pacer(clock)
    )
    return WebApiClient(token=token or api.token, base_url=api.base_url, engine=engine)


def highest(low: float, high: float) -> float:
    """The longest wait the policy allows (no randomness in these tests)."""
    return high


Invoke = Callable[..., dict[str, Any]]


@pytest.fixture
def invoke(api: LocalSlackApi, clock: FakeClock, store: IncidentStore) -> Invoke:
    def run(event: dict[str, Any], *, token: str | None = None, dedup: InMemoryDeduplicator | None = None) -> Any:
        return handler.lambda_handler(
            event,
            LocalLambdaContext(function_name="alert-router", timeout_seconds=60),
            deduplicator=dedup or InMemoryDeduplicator(),
            slack_api=web_api(api, clock, token),
            store=store,
            now=clock,
        )

    return run


def header(message: dict[str, Any]) -> str:
    """The headline of a message: its first top-level block (issue 13's layout)."""
    text: str = message["blocks"][0]["text"]["text"]
    return text


def texts(messages: list[dict[str, Any]]) -> list[str]:
    return [m["text"] for m in messages]


# --- the thread of one incident ---------------------------------------------------------------------------------


def test_alarm_alarm_ok_is_one_post_two_replies_and_one_update(api: LocalSlackApi, invoke: Invoke) -> None:
    # Given a critical alarm that fires, fires again, and recovers 14 minutes later
    invoke(alarm_event("ALARM", OPENED, "m-1"))
    invoke(alarm_event("ALARM", OPENED + timedelta(minutes=5), "m-2", old="ALARM"))
    result = invoke(alarm_event("OK", OPENED + timedelta(minutes=14), "m-3"))
    # Then the channel has one top-level message, two replies in its thread and one update of it
    [post] = api.posts(CRITICAL)
    replies = api.replies(CRITICAL)
    assert [r["thread_ts"] for r in replies] == [post["ts"], post["ts"]]
    assert replies[0]["text"].startswith("🔴 ALARM again: checkout-alb-5xx-rate-high")
    assert replies[1]["text"] == "✅ Resolved after 14 min: checkout-alb-5xx-rate-high"
    assert not any(r["reply_broadcast"] for r in replies)
    [update] = api.updates(CRITICAL)
    assert update["ts"] == post["ts"]
    assert result["results"][0]["outcome"] == "resolved"
    # And the original now says resolved, when, and for how long, in a valid message
    assert header(post).startswith("✅ RESOLVED · checkout-alb-5xx-rate-high")
    assert post["attachments"][0]["color"] == "#2eb67d"
    status = post["blocks"][1]["elements"][0]["text"]
    assert status == "*Resolved* 2026-11-29 03:28:15 UTC (2026-11-29 12:28:15 JST) · open for 14 min"
    for message in [post, *replies]:
        assert slack_problems({k: message[k] for k in ("text", "blocks", "attachments") if k in message}) == []
    assert api.posts("C0ERRORS") == api.posts("C0PERF") == []


def test_a_new_alarm_after_recovery_opens_a_new_thread(api: LocalSlackApi, invoke: Invoke) -> None:
    invoke(alarm_event("ALARM", OPENED, "m-1"))
    invoke(alarm_event("OK", OPENED + timedelta(minutes=10), "m-2"))
    invoke(alarm_event("ALARM", OPENED + timedelta(hours=2), "m-3"))
    first, second = api.posts(CRITICAL)
    assert header(first).startswith("✅ RESOLVED")
    assert header(second).startswith("🔴 CRITICAL")
    assert api.replies(CRITICAL, second["ts"]) == []


def test_ok_without_an_open_incident_after_alarm_is_not_posted_twice(api: LocalSlackApi, invoke: Invoke) -> None:
    invoke(alarm_event("ALARM", OPENED, "m-1"))
    invoke(alarm_event("OK", OPENED + timedelta(minutes=10), "m-2"))
    result = invoke(alarm_event("OK", OPENED + timedelta(minutes=11), "m-3", old="OK"))
    assert result["results"][0]["status"] == "nothing-to-resolve"
    assert len(api.replies(CRITICAL)) == 1


# --- redelivery and concurrency -----------------------------------------------------------------------------------


def test_redelivery_never_double_posts(api: LocalSlackApi, invoke: Invoke) -> None:
    # Given the same SNS message delivered three times, the idempotency memory lost in between
    event = alarm_event("ALARM", OPENED, "m-1")
    results = [invoke(event)["results"][0]["status"] for _ in range(3)]
    # Then the incident state recognises the message id
    assert results == ["delivered", "duplicate", "duplicate"]
    assert len(api.posts(CRITICAL)) == 1
    assert api.replies(CRITICAL) == []


@pytest.mark.parametrize("same_message", [True, False], ids=["redelivered", "two-notifications"])
def test_two_concurrent_invocations_never_double_post(api: LocalSlackApi, invoke: Invoke, same_message: bool) -> None:
    # Given a slow Slack, so both invocations are in flight at once
    api.latency = 0.3
    barrier = threading.Barrier(2)
    results: list[Any] = []
    errors: list[BaseException] = []

    def run(message_id: str) -> None:
        barrier.wait()
        try:
            results.append(invoke(alarm_event("ALARM", OPENED, message_id))["results"][0]["status"])
        except BaseException as error:
            errors.append(error)

    ids = ["m-1", "m-1"] if same_message else ["m-1", "m-2"]
    threads = [threading.Thread(target=run, args=(message_id,)) for message_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # Then exactly one top-level message; the second notification became a reply, a redelivery nothing
    assert errors == []
    assert len(api.posts(CRITICAL)) == 1
    if same_message:
        assert sorted(results) == ["delivered", "duplicate"]
        assert api.replies(CRITICAL) == []
    else:
        assert results == ["delivered", "delivered"]
        assert len(api.replies(CRITICAL)) == 1


# --- flapping ---------------------------------------------------------------------------------------------------


def test_flapping_collapses_into_one_thread_then_stable_again(
    api: LocalSlackApi, invoke: Invoke, clock: FakeClock
) -> None:
    # Given an alarm that changes state every 3 minutes (7 changes in 18 minutes; more than 4 in 30 is flapping)
    states = ["ALARM", "OK"] * 3 + ["ALARM"]
    for index, state in enumerate(states):
        invoke(alarm_event(state, OPENED + timedelta(minutes=3 * index), f"m-{index}"))
    # Then only the first two incidents were posted top-level; the 5th change raised one broadcast notice
    posts = api.posts(CRITICAL)
    assert len(posts) == 2
    replies = api.replies(CRITICAL, posts[1]["ts"])
    notices = [r for r in replies if r["text"].startswith("🔁 Flapping")]
    assert len(notices) == 1
    assert notices[0]["reply_broadcast"] is True
    assert [r["reply_broadcast"] for r in replies] == [False, True, False, False]
    assert header(posts[1]).startswith("🔴 CRITICAL")
    # When the sweep runs after 30 quiet minutes
    clock.at(OPENED + timedelta(minutes=18 + 31))
    swept = invoke({"action": "sweep"})
    # Then one "stable again" note, and the incident is a normal open incident again
    stable = [r for r in api.replies(CRITICAL, posts[1]["ts"]) if r["text"].startswith("Stable again")]
    assert len(stable) == 1
    assert swept["outcomes"]["stable-again"] == 1
    invoke({"action": "sweep"})
    assert len([r for r in api.replies(CRITICAL) if r["text"].startswith("Stable again")]) == 1


# --- repeats ------------------------------------------------------------------------------------------------------


def test_sweep_reannounces_a_long_open_critical_incident(
    api: LocalSlackApi, invoke: Invoke, clock: FakeClock, capfd: pytest.CaptureFixture[str]
) -> None:
    invoke(alarm_event("ALARM", OPENED, "m-1"))
    # When the sweep runs before and after the 1 h repeat interval
    clock.at(OPENED + timedelta(minutes=30))
    invoke({"source": "aws.events", "detail-type": "Scheduled Event", "resources": ["arn:aws:events:x:1:rule/s"]})
    assert api.replies(CRITICAL) == []
    clock.at(OPENED + timedelta(minutes=61))
    result = invoke(json.loads((EVENTS / "scheduled" / "sweep.json").read_text()))  # the committed test event
    invoke({"action": "sweep"})  # at once again: nothing new
    # Then exactly one reminder, broadcast to the channel from the thread
    [reminder] = api.replies(CRITICAL)
    assert reminder["reply_broadcast"] is True
    assert reminder["text"].startswith("⏰ Still in ALARM after 1 h 1 min")
    assert result["open_incidents"] == 1
    out = capfd.readouterr().out
    assert emf_points(out, "OpenIncidents") == [1.0, 1.0, 1.0]
    counts = ("PeopleBooster/AlertRouter", (("environment", "staging"), ("service", "alert-router")))
    assert emf_series(out)["OpenIncidents"] == {counts}


# --- silences -----------------------------------------------------------------------------------------------------


def test_a_silence_suppresses_then_summarises(
    api: LocalSlackApi, invoke: Invoke, clock: FakeClock, store: IncidentStore, capfd: pytest.CaptureFixture[str]
) -> None:
    # Given a 1 h silence on the ALB alarms
    silence = create_silence(
        store, match="*alb-5xx*", duration=timedelta(hours=1), reason="ALB migration", created_by="ops", now=OPENED
    )
    assert [s.id for s in list_silences(store, now=OPENED)] == [silence.id]
    # When the alarm fires twice during the silence and recovers after it
    first = invoke(alarm_event("ALARM", OPENED + timedelta(minutes=5), "m-1"))
    invoke(alarm_event("ALARM", OPENED + timedelta(minutes=6), "m-2", old="ALARM"))
    clock.at(OPENED + timedelta(minutes=70))
    ok = invoke(alarm_event("OK", OPENED + timedelta(minutes=70), "m-3"))
    # Then nothing was posted, and it was counted
    assert first["results"][0]["status"] == "silenced"
    assert ok["results"][0]["status"] == "nothing-to-resolve"
    assert api.posts(CRITICAL) == []
    assert api.replies(CRITICAL) == []
    assert emf_points(capfd.readouterr().out, "Silenced") == [1.0, 1.0]
    # When the sweep runs after the silence ended (twice)
    invoke({"action": "sweep"})
    invoke({"action": "sweep"})
    # Then one summary in the channel the alerts would have gone to
    [summary] = api.posts(CRITICAL)
    assert summary["text"] == "🔕 Silence ended: 2 alerts not posted (ALB migration)"
    assert "checkout-alb-5xx-rate-high x2" in json.dumps(summary, ensure_ascii=False)
    assert list_silences(store, now=OPENED + timedelta(minutes=70), include_ended=True) == []


def test_expiring_a_silence_ends_it_now(
    api: LocalSlackApi, invoke: Invoke, clock: FakeClock, store: IncidentStore
) -> None:
    silence = create_silence(
        store, match="*alb-5xx*", duration=timedelta(hours=2), reason="test", created_by="ops", now=OPENED
    )
    expired = expire_silence(store, silence.id, now=OPENED + timedelta(minutes=1))
    assert expired is not None
    assert expired.until == (OPENED + timedelta(minutes=1)).timestamp()
    assert expire_silence(store, "no-such-silence") is None
    clock.at(OPENED + timedelta(minutes=2))
    invoke(alarm_event("ALARM", OPENED + timedelta(minutes=2), "m-1"))
    assert len(api.posts(CRITICAL)) == 1  # posted: the silence is over
    invoke({"action": "sweep"})
    assert len(api.posts(CRITICAL)) == 1  # nothing suppressed: no summary


def test_an_open_incident_still_resolves_in_its_thread_during_a_silence(
    api: LocalSlackApi, invoke: Invoke, store: IncidentStore
) -> None:
    invoke(alarm_event("ALARM", OPENED, "m-1"))
    create_silence(store, match="*alb*", duration=timedelta(hours=1), reason="r", created_by="ops", now=OPENED)
    invoke(alarm_event("OK", OPENED + timedelta(minutes=3), "m-2"))
    assert len(api.replies(CRITICAL)) == 1
    assert len(api.updates(CRITICAL)) == 1


def test_maintenance_window_from_config_suppresses_and_summarises(
    api: LocalSlackApi, invoke: Invoke, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a Sunday 12:00-13:00 JST window (2026-11-29 is a Sunday; 03:14 UTC is 12:14 JST)
    window = {"name": "alb", "match": "*alb*", "days": ["sun"], "start": "12:00", "end": "13:00"}
    monkeypatch.setenv("MAINTENANCE_WINDOWS", json.dumps([window | {"time_zone": "Asia/Tokyo"}]))
    load_settings.cache_clear()
    result = invoke(alarm_event("ALARM", OPENED, "m-1"))
    assert result["results"][0]["status"] == "silenced"
    assert result["results"][0]["silence_id"] == "window:alb:2026-11-29T03:00Z"
    # When the window ends with the alarm still in ALARM (no OK arrived)
    clock.at(OPENED + timedelta(hours=1))
    invoke({"action": "sweep"})
    invoke({"action": "sweep"})
    # Then it is announced as a first ALARM (a top-level post that opens the incident), and summarised once
    announced, summary = api.posts(CRITICAL)
    assert header(announced).startswith("🔴 CRITICAL · checkout-alb-5xx-rate-high")
    assert summary["text"] == "🔕 Silence ended: 1 alert not posted (maintenance window alb)"
    assert "Still in ALARM*, posted now: checkout-alb-5xx-rate-high" in json.dumps(summary, ensure_ascii=False)
    # And its recovery resolves in the announced post's thread
    clock.at(OPENED + timedelta(hours=1, minutes=10))
    invoke(alarm_event("OK", OPENED + timedelta(hours=1, minutes=10), "m-2"))
    [resolved] = api.replies(CRITICAL, announced["ts"])
    assert resolved["text"] == "✅ Resolved after 1 h 10 min: checkout-alb-5xx-rate-high"


# --- Slack failures -----------------------------------------------------------------------------------------------


def test_rate_limited_then_success(api: LocalSlackApi, invoke: Invoke, clock: FakeClock) -> None:
    api.rate_limit(times=2, retry_after="3")
    result = invoke(alarm_event("ALARM", OPENED, "m-1"))
    assert clock.sleeps == [4.0, 4.0]  # Retry-After 3 s and the longest jitter
    assert result["results"][0]["retries"] == 2
    assert len(api.posts(CRITICAL)) == 1


def test_a_failed_update_keeps_the_thread_reply_and_the_sweep_repairs_it(
    api: LocalSlackApi, invoke: Invoke, clock: FakeClock
) -> None:
    invoke(alarm_event("ALARM", OPENED, "m-1"))
    api.fail("chat.update", error="cant_update_message")
    # When the recovery's chat.update fails
    result = invoke(alarm_event("OK", OPENED + timedelta(minutes=14), "m-2"))
    # Then the invocation succeeds, the reply is there, the original is not updated yet
    assert result["results"][0]["outcome"] == "resolved"
    assert texts(api.replies(CRITICAL)) == ["✅ Resolved after 14 min: checkout-alb-5xx-rate-high"]
    assert api.updates(CRITICAL) == []
    # And the next sweep updates the original
    clock.at(OPENED + timedelta(minutes=20))
    invoke({"action": "sweep"})
    [update] = api.updates(CRITICAL)
    assert header(update).startswith("✅ RESOLVED")
    assert len(api.replies(CRITICAL)) == 1


def test_a_failed_post_raises_and_the_retry_posts_once(api: LocalSlackApi, invoke: Invoke, clock: FakeClock) -> None:
    # Given Slack failing for longer than the invocation's time
    api.fail("chat.postMessage", status=500, error="internal_error", times=100)
    event = alarm_event("ALARM", OPENED, "m-1")
    with pytest.raises(DeliveryError, match="internal_error"):
        invoke(event)
    assert 0 < sum(clock.sleeps) <= 10.0
    # When Lambda retries the event, Slack is back: the lease was released and it posts once
    api.clear_faults()
    invoke(event)
    invoke(event)
    assert len(api.posts(CRITICAL)) == 1


def test_ok_false_is_reported_with_slacks_error(api: LocalSlackApi, invoke: Invoke) -> None:
    api.fail("chat.postMessage", error="channel_is_archived")
    with pytest.raises(DeliveryError, match="channel_is_archived") as raised:
        invoke(alarm_event("ALARM", OPENED, "m-1"))
    assert api.calls() == ["chat.postMessage"]  # not retried: retrying cannot help
    assert "C0CRITICAL" in str(raised.value)


# --- the token ----------------------------------------------------------------------------------------------------


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    extra = logging.StreamHandler(stream)
    extra.setFormatter(telemetry.logger.registered_formatter)
    router_logger = logging.getLogger(telemetry.logger.name)
    router_logger.addHandler(extra)
    root = logging.getLogger()
    root.addHandler(extra)  # slack_sdk logs through its own loggers
    yield stream
    root.removeHandler(extra)
    router_logger.removeHandler(extra)


def test_the_bearer_token_is_checked_and_never_logged(
    api: LocalSlackApi, invoke: Invoke, capfd: pytest.CaptureFixture[str], json_logs: io.StringIO
) -> None:
    # Given a wrong token, and then failures that make everything log
    with pytest.raises(DeliveryError, match="invalid_auth") as wrong:
        invoke(alarm_event("ALARM", OPENED, "m-1"), token="xoxb-test-WRONGTOKEN")
    assert api.auth_failures == 1
    api.fail("*", status=503, error="service_unavailable", times=100)
    with pytest.raises(DeliveryError) as unavailable:
        invoke(alarm_event("ALARM", OPENED, "m-2"))
    api.clear_faults()
    invoke(alarm_event("ALARM", OPENED, "m-3"))
    api.fail("chat.update", error=f"echo {FAKE_BOT_TOKEN}")
    invoke(alarm_event("OK", OPENED + timedelta(minutes=1), "m-4"))
    # Then no log line, output or exception contains a token
    captured = capfd.readouterr()
    logs = json_logs.getvalue()
    assert "chat.update failed" in logs
    for text in (logs, captured.out, captured.err, str(wrong.value), str(unavailable.value)):
        assert "xoxb-" not in text


# --- the default path: env only, one process ----------------------------------------------------------------------


def test_default_path_keeps_state_in_memory_for_the_process(api: LocalSlackApi) -> None:
    # Given only the local contract (SLACK_BOT_TOKEN, SLACK_CHANNEL_IDS, SLACK_API_BASE_URL) and no table
    incident_defaults._in_memory_store.cache_clear()
    reset_process_adapters()
    context = LocalLambdaContext(function_name="alert-router")
    # When several events are handled by this process
    handler.lambda_handler(alarm_event("ALARM", OPENED, "d-1"), context)
    handler.lambda_handler(alarm_event("OK", OPENED + timedelta(minutes=7), "d-2"), context)
    # Then they form one thread
    [post] = api.posts(CRITICAL)
    assert texts(api.replies(CRITICAL, post["ts"])) == ["✅ Resolved after 7 min: checkout-alb-5xx-rate-high"]
    assert len(api.updates(CRITICAL)) == 1
    incident_defaults._in_memory_store.cache_clear()


@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_webhook_mode_ignores_the_sweep(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SLACK_BOT_TOKEN")
    load_settings.cache_clear()
    result = handler.lambda_handler({"action": "sweep"}, LocalLambdaContext())
    assert result == {"sweep": "skipped", "reason": "webhook mode"}


def test_bot_mode_metrics_have_the_service_and_environment_dimensions(
    api: LocalSlackApi, invoke: Invoke, capfd: pytest.CaptureFixture[str]
) -> None:
    invoke(alarm_event("ALARM", OPENED, "m-1"))
    invoke(alarm_event("OK", OPENED + timedelta(minutes=2), "m-2"))
    series = emf_series(capfd.readouterr().out)
    counts = ("PeopleBooster/AlertRouter", (("environment", "staging"), ("service", "alert-router")))
    for name in ("IncidentsOpened", "ThreadReplies", "Updates"):
        assert series[name] == {counts}, name
    assert {tuple(name for name, _ in dims) for _, dims in series["Delivered"]} == {
        ("channel", "environment", "service", "severity")
    }


# --- the DynamoDB layout the infrastructure must create -----------------------------------------------------------


def incident_items(dynamodb: Any) -> list[dict[str, Any]]:
    """The incident records (the table also keeps history items, tests/integration/test_slack_actions.py)."""
    return [i for i in dynamodb.scan(TableName="incidents")["Items"] if i["kind"]["S"] == "incident"]


def test_dynamodb_items_have_the_documented_layout(api: LocalSlackApi, clock: FakeClock, dynamodb: Any) -> None:
    store = DynamoDBIncidentStore("incidents", client=dynamodb, clock=clock)
    context = LocalLambdaContext(function_name="alert-router")
    run = {"deduplicator": InMemoryDeduplicator(), "slack_api": web_api(api, clock), "store": store, "now": clock}
    handler.lambda_handler(alarm_event("ALARM", OPENED, "m-1"), context, **run)
    items = dynamodb.scan(TableName="incidents")["Items"]
    # the alarm's group thread (issue 13): where a later alarm of its group replies; never swept
    [group] = [i for i in items if i["kind"]["S"] == "group"]
    assert group["pk"]["S"].startswith("group#AWS/ApplicationELB ")
    assert "sweep" not in group
    assert int(group["expires_at"]["N"]) == int(OPENED.timestamp()) + 86_400
    [item] = incident_items(dynamodb)
    assert item["pk"]["S"] == "incident#arn:aws:cloudwatch:ap-northeast-1:123456789012:alarm:" + (
        "checkout-alb-5xx-rate-high"
    )
    assert item["kind"]["S"] == "incident"
    assert item["sweep"]["S"] == "incident"  # open: in the sparse index
    assert int(item["expires_at"]["N"]) == int(OPENED.timestamp()) + 30 * 86_400
    assert item["version"]["N"] == "2"  # the claim, then the commit
    handler.lambda_handler(alarm_event("OK", OPENED + timedelta(minutes=3), "m-2"), context, **run)
    [item] = incident_items(dynamodb)
    assert "sweep" not in item  # resolved: out of the index
    assert json.loads(item["data"]["S"])["open"] is False


def test_stored_incidents_round_trip(store: IncidentStore) -> None:
    incident = Incident(
        key="k",
        alarm_name="a",
        channel="c",
        channel_id="C1",
        severity="critical",
        state="ALARM",
        open=True,
        transitions=(1.5, 2.5),
        applied=("m",),
        original={"text": "x"},
    )
    stored = store.put_incident(incident, None)
    assert stored.version == 1
    assert store.get_incident("k") == stored
    with pytest.raises(Conflict):
        store.put_incident(incident, None)
    with pytest.raises(Conflict):
        store.put_incident(replace(stored, open=False), 7)
    assert [i.key for i in store.sweep_incidents()] == ["k"]
    store.put_incident(replace(stored, open=False), 1)
    assert store.sweep_incidents() == []


def test_the_secret_may_hold_a_bot_token_instead_of_webhooks(dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the deployed shape: the webhook secret holds a bot token and channel ids
    value = {"bot_token": FAKE_BOT_TOKEN, "channel_ids": {"alerts-critical": "C0CRITICAL", "alerts-errors": "C0E"}}
    arn = boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name="router-bot", SecretString=json.dumps(value)
    )["ARN"]
    monkeypatch.delenv("SLACK_BOT_TOKEN")
    monkeypatch.setenv("SLACK_WEBHOOK_SECRET_ARN", arn)
    load_settings.cache_clear()
    # Then bot-token mode is on, against Slack's real API base
    bot = load_bot(load_settings())
    assert bot is not None
    assert bot.channel_ids == value["channel_ids"]
    assert bot.base_url == "http://127.0.0.1:" + bot.base_url.split(":")[2]  # SLACK_API_BASE_URL from the fixture


# --- late notifications, interleaved writers, sweep failures, silence end, Sentry ---------------------------------


def test_a_late_alarm_retried_after_the_ok_reopens_nothing(
    api: LocalSlackApi, invoke: Invoke, clock: FakeClock
) -> None:
    # Given an ALARM that failed on Slack, then the OK (posted), then Lambda's retry of the old ALARM
    api.fail("chat.postMessage", status=500, error="internal_error", times=100)
    with pytest.raises(DeliveryError):
        invoke(alarm_event("ALARM", OPENED, "m-alarm"))
    api.clear_faults()
    clock.at(OPENED + timedelta(minutes=2))
    assert invoke(alarm_event("OK", OPENED + timedelta(minutes=2), "m-ok"))["results"][0]["outcome"] == "posted"
    clock.at(OPENED + timedelta(minutes=3))
    retried = invoke(alarm_event("ALARM", OPENED, "m-alarm"))
    # Then the late ALARM is recorded but neither posted nor reopening the incident
    assert retried["results"][0]["status"] == "late-ignored"
    assert [p["text"][:4] for p in api.posts(CRITICAL)] == ["✅ [s"]
    # And an hour later the sweep has nothing to re-announce
    clock.at(OPENED + timedelta(hours=1, minutes=5))
    swept = invoke({"action": "sweep"})
    assert swept["open_incidents"] == 0
    assert api.replies(CRITICAL) == []
    assert len(api.posts(CRITICAL)) == 1


class SignallingStore:
    """The store, with an event set once an invocation has claimed the incident (its lease is live)."""

    def __init__(self, inner: IncidentStore) -> None:
        self.inner = inner
        self.claimed = threading.Event()

    def put_incident(self, incident: Incident, expected_version: int | None) -> Incident:
        stored = self.inner.put_incident(incident, expected_version)
        if incident.lease_owner:
            self.claimed.set()
        return stored

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_a_silenced_alert_waits_for_the_lease_of_an_invocation_opening_the_incident(
    api: LocalSlackApi, clock: FakeClock, store: IncidentStore
) -> None:
    # Given invocation A posting the first ALARM (slow Slack: its lease is live meanwhile)
    api.latency = 0.4
    signalling = SignallingStore(store)

    def run(event: dict[str, Any]) -> Any:
        return handler.lambda_handler(
            event,
            LocalLambdaContext(function_name="alert-router", timeout_seconds=60),
            deduplicator=InMemoryDeduplicator(),
            slack_api=web_api(api, clock),
            store=signalling,
            now=clock,
        )

    results: list[dict[str, Any]] = []
    first = threading.Thread(target=lambda: results.append(run(alarm_event("ALARM", OPENED, "m-1"))))
    first.start()
    assert signalling.claimed.wait(timeout=10)
    # When a silence starts and invocation B handles the next notification while A still holds the lease
    create_silence(store, match="*alb-5xx*", duration=timedelta(hours=1), reason="r", created_by="ops", now=OPENED)
    second = run(alarm_event("ALARM", OPENED + timedelta(minutes=1), "m-2", old="ALARM"))
    first.join(timeout=30)
    # Then B waited for A and found the incident open: a thread reply, not silenced; A's thread ts is kept
    assert results[0]["results"][0]["outcome"] == "opened"
    assert second["results"][0]["outcome"] == "thread-reply"
    [post] = api.posts(CRITICAL)
    record = store.get_incident(post_key())
    assert record is not None
    assert record.ts == post["ts"]
    assert record.open
    # And the next ALARM is a reply in the same thread, not a second top-level post
    api.latency = 0.0
    run(alarm_event("ALARM", OPENED + timedelta(minutes=2), "m-3", old="ALARM"))
    assert len(api.posts(CRITICAL)) == 1
    assert len(api.replies(CRITICAL, post["ts"])) == 2


def post_key() -> str:
    return "arn:aws:cloudwatch:ap-northeast-1:123456789012:alarm:checkout-alb-5xx-rate-high"


def test_a_failing_sweep_is_logged_and_counted_not_raised_and_the_next_sweep_converges(
    api: LocalSlackApi, invoke: Invoke, clock: FakeClock, capfd: pytest.CaptureFixture[str], json_logs: io.StringIO
) -> None:
    invoke(alarm_event("ALARM", OPENED, "m-1"))
    # Given Slack down while the sweep re-announces the open critical incident
    clock.at(OPENED + timedelta(minutes=61))
    api.fail("chat.postMessage", status=500, error="internal_error", times=100)
    result = invoke({"action": "sweep"})
    api.clear_faults()
    # Then the sweep returns (no raise: no Lambda retry into the DLQ), says so and counts it
    assert result["sweep"] == "incomplete"
    assert result["failures"] == 1
    assert result["open_incidents"] == 1
    out = capfd.readouterr().out
    assert emf_points(out, "SweepFailures") == [1.0]
    error = next(json.loads(line) for line in json_logs.getvalue().splitlines() if "sweep incomplete" in line)
    assert error["level"] == "ERROR"
    assert error["failures"] == 1
    # And the next sweep, Slack back, re-announces once
    clock.at(OPENED + timedelta(minutes=66))
    assert invoke({"action": "sweep"})["failures"] == 0
    [reminder] = api.replies(CRITICAL)
    assert reminder["text"].startswith("⏰ Still in ALARM after 1 h 6 min")


def test_an_adhoc_silence_ending_announces_what_is_still_in_alarm(
    api: LocalSlackApi, invoke: Invoke, clock: FakeClock, store: IncidentStore
) -> None:
    # Given an outage that starts during a 1 h silence and outlasts it
    create_silence(store, match="*alb-5xx*", duration=timedelta(hours=1), reason="deploy", created_by="ops", now=OPENED)
    invoke(alarm_event("ALARM", OPENED + timedelta(minutes=30), "m-1"))
    assert api.posts(CRITICAL) == []
    # When the sweep runs after the silence ended
    clock.at(OPENED + timedelta(hours=1, minutes=1))
    result = invoke({"action": "sweep"})
    # Then the alarm is posted top-level as its first ALARM, the summary lists it, and the incident is open
    announced, summary = api.posts(CRITICAL)
    assert announced["text"].startswith("🔴 [staging] CRITICAL · checkout-alb-5xx-rate-high")
    assert "Still in ALARM" in json.dumps(summary, ensure_ascii=False)
    assert result["open_incidents"] == 1
    # And the sweep's repeat counts from the announcement, not from the silenced ALARM
    clock.at(OPENED + timedelta(hours=1, minutes=30))
    invoke({"action": "sweep"})
    assert api.replies(CRITICAL) == []


def test_a_sentry_metric_alert_resolves_in_its_thread(api: LocalSlackApi, invoke: Invoke) -> None:
    def sentry_event(name: str, message_id: str) -> dict[str, Any]:
        resource, request_id, payload, _ = SENTRY_EVENTS[name]
        message = sentry_envelope(resource=resource, delivery_id=request_id, hook_timestamp=None, payload=payload)
        return {"Records": [{"Sns": {"MessageId": message_id, "Message": json.dumps(message)}}]}

    perf = "C0PERF"
    # Given a Sentry metric alert that fires (critical), fires again, and resolves
    invoke(sentry_event("metric_alert_critical.json", "s-1"))
    invoke(sentry_event("metric_alert_critical.json", "s-2"))
    result = invoke(sentry_event("metric_alert_resolved.json", "s-3"))
    # Then one top-level post, its thread gets the repeat and the recovery, and it is updated in place
    [post] = api.posts(perf)
    assert texts(api.replies(perf, post["ts"]))[-1] == "✅ Resolved after 30 min: p95 latency"
    assert len(api.replies(perf, post["ts"])) == 2
    assert result["results"][0]["outcome"] == "resolved"
    [update] = api.updates(perf)
    assert update["ts"] == post["ts"]
    assert header(post).startswith("✅ RESOLVED")


# --- the lease follows the invocation's remaining time -----------------------------------------------------------


@pytest.mark.parametrize(("remaining", "lease"), [(300.0, 300.0), (20.0, 60.0), (3000.0, 900.0)])
def test_the_lease_covers_the_invocations_remaining_time(
    api: LocalSlackApi, clock: FakeClock, store: IncidentStore, remaining: float, lease: float
) -> None:
    # Given an invocation with `remaining` seconds left (its Slack retries may use all of it)
    claims: list[Incident] = []

    class Recording(SignallingStore):
        def put_incident(self, incident: Incident, expected_version: int | None) -> Incident:
            if incident.lease_owner:
                claims.append(incident)
            return super().put_incident(incident, expected_version)

    context = LocalLambdaContext(function_name="alert-router", timeout_seconds=remaining)
    handler.lambda_handler(
        alarm_event("ALARM", OPENED, "m-lease"),
        context,
        deduplicator=InMemoryDeduplicator(),
        slack_api=web_api(api, clock),
        store=Recording(store),
        now=clock,
    )
    # Then its claim lasts that long: no other invocation takes the incident over while it may still post;
    # at least a minute (a short invocation's lease would expire under a slow Slack), at most 15 min
    [claim] = claims
    assert claim.lease_until - clock.now == pytest.approx(lease, abs=1.0)


# --- monitoring blind (issue 11) in bot-token mode ---------------------------------------------------------------

ERRORS = "C0ERRORS"


def blind_event(at: datetime, message_id: str, old: str) -> dict[str, Any]:
    return alarm_event("INSUFFICIENT_DATA", at, message_id, old=old)


def test_an_incident_that_loses_its_data_gets_one_notice_which_data_back_clears(
    api: LocalSlackApi, invoke: Invoke
) -> None:
    # Given an open critical incident whose alarm goes ALARM -> INSUFFICIENT_DATA (twice: heard once)
    invoke(alarm_event("ALARM", OPENED, "m-1"))
    blind = invoke(blind_event(OPENED + timedelta(minutes=5), "m-2", old="ALARM"))
    invoke(blind_event(OPENED + timedelta(minutes=6), "m-3", old="INSUFFICIENT_DATA"))
    # Then one notice in #alerts-errors, nothing new in #alerts-critical, and its original says "no data"
    assert blind["results"][0]["outcome"] == "monitoring-blind"
    [notice] = api.posts(ERRORS)
    assert notice["text"].startswith("⚪ [staging] MONITORING BLIND · checkout-alb-5xx-rate-high")
    [post] = api.posts(CRITICAL)
    assert api.replies(CRITICAL) == []
    assert header(post).startswith("⚪ INSUFFICIENT DATA")
    assert "#alerts-errors" in json.dumps(post["blocks"][1], ensure_ascii=False)
    # When the data returns with the alarm still in ALARM, then a reply, the original back in ALARM, the notice
    # resolved in place
    invoke(alarm_event("ALARM", OPENED + timedelta(minutes=25), "m-4", old="INSUFFICIENT_DATA"))
    [post] = api.posts(CRITICAL)
    assert header(post).startswith("🔴 CRITICAL")
    assert [reply["text"][:7] for reply in api.replies(CRITICAL, post["ts"])] == ["🔴 ALARM"]
    [notice] = api.posts(ERRORS)
    assert header(notice).startswith("✅ DATA BACK")
    status = notice["blocks"][1]["elements"][0]["text"]
    assert status.startswith("✅ *Data is back* after 20 min · now ALARM")
    for message in (notice, post):
        assert slack_problems({k: message[k] for k in ("text", "blocks", "attachments") if k in message}) == []


def test_missing_data_with_nothing_open_is_cleared_in_the_notices_thread(api: LocalSlackApi, invoke: Invoke) -> None:
    invoke(blind_event(OPENED, "m-1", old="OK"))
    result = invoke(alarm_event("OK", OPENED + timedelta(minutes=12), "m-2", old="INSUFFICIENT_DATA"))
    assert result["results"][0]["outcome"] == "data-back"
    [notice] = api.posts(ERRORS)
    assert [reply["text"] for reply in api.replies(ERRORS, notice["ts"])] == [
        "✅ Data is back: checkout-alb-5xx-rate-high is OK"
    ]
    assert header(notice).startswith("✅ DATA BACK")
    assert api.posts(CRITICAL) == []  # never a page


def test_a_notice_that_could_not_be_cleared_is_cleared_by_the_sweep(
    api: LocalSlackApi, invoke: Invoke, clock: FakeClock
) -> None:
    invoke(blind_event(OPENED, "m-1", old="OK"))
    api.fail("chat.update", error="cant_update_message")
    invoke(alarm_event("OK", OPENED + timedelta(minutes=12), "m-2", old="INSUFFICIENT_DATA"))
    [notice] = api.posts(ERRORS)
    assert header(notice).startswith("⚪ MONITORING BLIND")
    clock.at(OPENED + timedelta(minutes=15))
    swept = invoke({"action": "sweep"})
    assert swept["outcomes"] == {"original-updated": 1}
    [notice] = api.posts(ERRORS)
    assert header(notice).startswith("✅ DATA BACK")
    assert invoke({"action": "sweep"})["outcomes"] == {}  # done: nothing left to sweep


def test_a_reply_to_a_deleted_thread_re_anchors_the_incident(
    api: LocalSlackApi, invoke: Invoke, store: IncidentStore, capfd: pytest.CaptureFixture[str]
) -> None:
    invoke(alarm_event("ALARM", OPENED, "m-1"))
    [first] = api.posts(CRITICAL)
    api.delete_message(CRITICAL, first["ts"])
    invoke(alarm_event("ALARM", OPENED + timedelta(minutes=5), "m-2", old="ALARM"))
    [again] = api.posts(CRITICAL)
    record = store.get_incident(post_key())
    assert record is not None
    assert (record.ts, record.open) == (again["ts"], True)
    assert emf_points(capfd.readouterr().out, "ReAnchored") == [1.0]
