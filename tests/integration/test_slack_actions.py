"""Act from Slack end to end: a signed click -> the real interactivity endpoint -> the real router (bot-token mode)
-> a local Slack Web API on 127.0.0.1; state in memory or in moto's DynamoDB, the escalation topic in moto's SNS.

"Now" is a fake clock for the endpoint (the signature's timestamp) and the router alike, so silences that
expire after an hour and escalations after 15 minutes run in milliseconds.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import boto3
import pytest

from lambdas.alert_router import handler as router_handler
from lambdas.alert_router import telemetry
from lambdas.alert_router.delivery.idempotency import InMemoryDeduplicator
from lambdas.alert_router.incidents import defaults as incident_defaults
from lambdas.alert_router.incidents.store import (
    DynamoDBIncidentStore,
    IncidentStore,
    InMemoryIncidentStore,
    list_silences,
)
from lambdas.alert_router.settings import load_settings
from lambdas.shared.incident_history import HistoryEntry, from_item
from lambdas.shared.local_context import LocalLambdaContext
from lambdas.shared.slack_actions import action_event
from lambdas.slack_actions import handler as endpoint
from lambdas.slack_actions.handoff import LocalRouterInvoker
from lambdas.slack_actions.interaction import read_interaction
from lambdas.slack_actions.settings import load_settings as load_endpoint_settings
from tests.aws_tables import INCIDENT_TABLE, REGION, create_table
from tests.clock import FakeClock
from tests.emf import emf_points
from tests.integration.test_incident_lifecycle import CRITICAL, OPENED, alarm_event, web_api
from tests.unit.alert_router.slack_limits import slack_problems
from tools.alarm_report.aws import incident_history
from tools.alarm_report.episodes import Episode, Period
from tools.alarm_report.stats import opening_entry
from tools.local_slack import LocalSlackApi
from tools.slack_interactions import TEST_SIGNING_SECRET, NoSuchButton, buttons, click, form_body, signed_event

ALARM_NAME = "checkout-alb-5xx-rate-high"  # the alarm of events/alert_router/sns_metric_math_alarm.json
KEY = f"arn:aws:cloudwatch:ap-northeast-1:123456789012:alarm:{ALARM_NAME}"
ALICE, BOB = "U0ALICE", "U0BOB"
SILENCES = ["Acknowledge", "Silence 1 h", "Silence 4 h", "Silence until resolved"]


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
    monkeypatch.setenv("SLACK_BOT_TOKEN", api.token)
    monkeypatch.setenv("SLACK_CHANNEL_IDS", api.channel_ids_json())
    monkeypatch.setenv("SLACK_API_BASE_URL", api.base_url)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", TEST_SIGNING_SECRET)
    for cache in (load_settings, load_endpoint_settings, incident_defaults._sns_pager):
        cache.cache_clear()
    yield
    for cache in (load_settings, load_endpoint_settings, incident_defaults._sns_pager):
        cache.cache_clear()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(OPENED.timestamp(), advances=False)


@dataclass
class Stores:
    store: IncidentStore
    history: Callable[[], list[HistoryEntry]]


@pytest.fixture(params=["memory", "dynamodb"])
def stores(request: pytest.FixtureRequest) -> Stores:
    if request.param == "memory":
        memory = InMemoryIncidentStore()
        return Stores(memory, memory.history)
    client = request.getfixturevalue("moto_dynamodb")
    create_table(client, "incidents", INCIDENT_TABLE)

    def read() -> list[HistoryEntry]:
        items = [i for i in client.scan(TableName="incidents")["Items"] if i["kind"]["S"] == "history"]
        return sorted((from_item(i) for i in items), key=lambda e: (e.changed_at, e.state))

    return Stores(DynamoDBIncidentStore("incidents", client=client), read)


@pytest.fixture
def store(stores: Stores) -> IncidentStore:
    return stores.store


Router = Callable[..., dict[str, Any]]


@pytest.fixture
def router(api: LocalSlackApi, clock: FakeClock, store: IncidentStore) -> Router:
    def run(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
        result: dict[str, Any] = router_handler.lambda_handler(
            event,
            context or LocalLambdaContext(function_name="alert-router", timeout_seconds=60),
            deduplicator=InMemoryDeduplicator(),
            slack_api=web_api(api, clock),
            store=store,
            now=clock,
        )
        return result

    return run


Press = Callable[..., dict[str, Any]]


@pytest.fixture
def press(api: LocalSlackApi, clock: FakeClock, router: Router) -> Press:
    """Click a button on a message (default: the channel's first post) as Slack would: a signed request to the
    real endpoint, which hands the click to the router; the router's result."""

    def run(label: str, *, user: str = ALICE, message: dict[str, Any] | None = None) -> dict[str, Any]:
        shown = message or api.posts(CRITICAL)[0]
        payload = click(
            shown, label, response_url=api.response_url(), user_id=user, user_name=user[2:].lower(),
            action_ts=f"{clock():.6f}",
        )  # fmt: skip
        invoker = LocalRouterInvoker(router=router)
        event = signed_event(payload, timestamp=int(clock()))
        answer = endpoint.lambda_handler(
            event, LocalLambdaContext(function_name="slack-actions"), invoker=invoker, now=clock
        )
        assert answer["statusCode"] == 200
        (result,) = invoker.results
        return result

    return run


@dataclass
class Scene:
    """Everything of one test's Slack, router and clock, for tests that need most of it."""

    api: LocalSlackApi
    clock: FakeClock
    store: IncidentStore
    router: Router
    press: Press


@pytest.fixture
def scene(api: LocalSlackApi, clock: FakeClock, store: IncidentStore, router: Router, press: Press) -> Scene:
    return Scene(api, clock, store, router, press)


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    """The JSON log lines of the router and the endpoint (Powertools' handlers write to the real stdout)."""
    stream = io.StringIO()
    extra = logging.StreamHandler(stream)
    extra.setFormatter(telemetry.logger.registered_formatter)
    loggers = [logging.getLogger(name) for name in (telemetry.logger.name, endpoint.logger.name)]
    for logger in loggers:
        logger.addHandler(extra)
    yield stream
    for logger in loggers:
        logger.removeHandler(extra)


def log_lines(stream: io.StringIO, message: str) -> list[dict[str, Any]]:
    return [line for line in map(json.loads, stream.getvalue().splitlines()) if line["message"] == message]


def at(minutes: float, clock: FakeClock) -> None:
    clock.at(OPENED + timedelta(minutes=minutes))


def status_line(message: dict[str, Any]) -> str:
    blocks = [b for a in message.get("attachments", []) for b in a["blocks"]] + message.get("blocks", [])
    lines = [b["elements"][0]["text"] for b in blocks if b.get("block_id") == "incident-controls-status"]
    return "\n".join(lines)


def answers(api: LocalSlackApi) -> list[str]:
    return [r["text"] for r in api.responses()]


# --- acknowledge --------------------------------------------------------------------------------------------------


def test_acknowledge_records_who_and_when_updates_the_original_and_stops_repeats(
    api: LocalSlackApi, router: Router, press: Press, clock: FakeClock, stores: Stores
) -> None:
    # Given an open critical incident: its message carries the buttons
    router(alarm_event("ALARM", OPENED, "m-1"))
    [post] = api.posts(CRITICAL)
    assert list(buttons(post)) == SILENCES
    assert all(b["value"] == KEY for b in buttons(post).values())
    # When Alice acknowledges it three minutes later
    at(3, clock)
    result = press("Acknowledge")
    # Then the thread says so, and the original says who and when, keeps its other buttons
    assert result["outcome"] == "acknowledged"
    [echo] = api.replies(CRITICAL, post["ts"])
    assert echo["text"] == f"✋ Acknowledged by alice: {ALARM_NAME}"
    assert f"<@{ALICE}>" in json.dumps(echo)
    [post] = api.posts(CRITICAL)
    assert status_line(post) == f"✋ *Acked* by <@{ALICE}> at 03:17 UTC (12:17 JST)"
    assert list(buttons(post)) == SILENCES[1:]
    assert post["blocks"][0]["text"]["text"].startswith("🔴 CRITICAL")  # the rest is untouched
    for message in (post, echo):
        assert slack_problems({k: message[k] for k in ("text", "blocks", "attachments") if k in message}) == []
    # And the hourly reminder no longer comes
    at(65, clock)
    router({"action": "sweep"})
    assert [r["text"][:2] for r in api.replies(CRITICAL)] == ["✋ "]
    # And the incident history has the opening ALARM entry again, with who and when (the same item)
    [opened] = [e for e in stores.history() if e.state == "ALARM"]
    assert (opened.acked_by, opened.acked_at, opened.message_ts) == (
        "alice",
        (OPENED + timedelta(minutes=3)).timestamp(),
        post["ts"],
    )
    assert opened.changed_at == OPENED.timestamp()


def test_who_pressed_what_is_logged_by_the_endpoint_and_the_router(
    router: Router, press: Press, clock: FakeClock, json_logs: io.StringIO
) -> None:
    router(alarm_event("ALARM", OPENED, "m-1"))
    at(4, clock)
    press("Silence 4 h", user=BOB)
    # The endpoint logs the verified click's ids (who, which button, which message); the router what it did
    [handed] = log_lines(json_logs, "handed to the router")
    assert (handed["user"], handed["action_ids"], handed["channel"]) == (BOB, ["incident-silence-4h"], CRITICAL)
    [done] = log_lines(json_logs, "slack action")
    assert (done["user"], done["action_id"], done["outcome"]) == (BOB, "incident-silence-4h", "silenced-from-slack")
    assert done["message_ts"] == handed["message_ts"]


def test_double_clicks_and_redeliveries_are_idempotent(
    api: LocalSlackApi, router: Router, press: Press, clock: FakeClock
) -> None:
    router(alarm_event("ALARM", OPENED, "m-1"))
    first = api.posts(CRITICAL)[0]  # the message as a slow client still shows it
    at(2, clock)
    press("Acknowledge")
    # When Alice's second click (and Bob's) arrive from the message as it was
    clock.now += 0.4
    second = press("Acknowledge", message=first)
    third = press("Acknowledge", message=first, user=BOB)
    # Then nothing is echoed or updated again; each gets a private answer naming who acknowledged
    assert (second["outcome"], third["outcome"]) == ("answered", "answered")
    assert len(api.replies(CRITICAL)) == 1
    assert len(api.updates(CRITICAL)) == 1
    assert answers(api) == [f"Already acknowledged by <@{ALICE}> at 03:16 UTC (12:16 JST)."] * 2
    assert all(r["response_type"] == "ephemeral" and r["replace_original"] is False for r in api.responses())
    # And Lambda's retry of one click (the same event twice) applies it once, and answers nobody twice
    payload = click(first, "Silence 1 h", response_url=api.response_url(), user_id=BOB, action_ts="1.000001")
    (action,) = read_interaction(form_body(payload)).actions
    assert router(action_event(action))["outcome"] == "silenced-from-slack"
    assert router(action_event(action))["outcome"] == "duplicate"
    assert len(api.replies(CRITICAL)) == 2
    assert len(api.responses()) == 2


# --- silences -----------------------------------------------------------------------------------------------------


def test_silence_for_an_hour_then_it_ends_by_itself(
    api: LocalSlackApi, router: Router, press: Press, clock: FakeClock, store: IncidentStore
) -> None:
    router(alarm_event("ALARM", OPENED, "m-1"))
    at(1, clock)
    assert press("Silence 1 h")["outcome"] == "silenced-from-slack"
    # Then a silence of this alarm only, for an hour, echoed in the thread; the message offers Unsilence
    [silence] = list_silences(store, now=OPENED + timedelta(minutes=1))
    assert silence.match == ALARM_NAME
    assert silence.matches(ALARM_NAME)
    assert not silence.matches(ALARM_NAME + "-2")
    assert silence.until == (OPENED + timedelta(minutes=61)).timestamp()
    [echo] = api.replies(CRITICAL)
    assert echo["text"] == f"🔕 Silenced until 04:15 UTC (13:15 JST) by alice: {ALARM_NAME}"
    [post] = api.posts(CRITICAL)
    assert list(buttons(post)) == ["Acknowledge", "Unsilence"]
    assert status_line(post).startswith(f"🔕 *Silenced* until 04:15 UTC (13:15 JST) by <@{ALICE}>")
    # And while it lasts, no reminder and no escalation
    at(45, clock)
    router({"action": "sweep"})
    assert len(api.replies(CRITICAL)) == 1
    # When it ends (the sweep after 04:15): said in the thread, the silence buttons are back
    at(66, clock)
    router({"action": "sweep"})
    texts = [r["text"] for r in api.replies(CRITICAL)]
    assert texts[1] == f"🔔 Silence ended: {ALARM_NAME}"
    assert texts[2].startswith("⏰ Still in ALARM after 1 h 6 min")  # the reminder it held back
    [post] = api.posts(CRITICAL)
    assert list(buttons(post)) == SILENCES
    assert status_line(post) == ""
    router({"action": "sweep"})
    assert len(api.replies(CRITICAL)) == 3


def test_unsilence_ends_the_silence_now(
    api: LocalSlackApi, router: Router, press: Press, clock: FakeClock, store: IncidentStore
) -> None:
    router(alarm_event("ALARM", OPENED, "m-1"))
    press("Silence 4 h")
    at(5, clock)
    assert press("Unsilence", user=BOB)["outcome"] == "unsilenced"
    assert list_silences(store, now=OPENED + timedelta(minutes=5)) == []
    assert [r["text"] for r in api.replies(CRITICAL)][1] == f"🔔 Unsilenced by bob: {ALARM_NAME}"
    [post] = api.posts(CRITICAL)
    assert list(buttons(post)) == SILENCES
    # A second Unsilence (a double click on the stale message) changes nothing
    assert answers(api) == []
    with pytest.raises(NoSuchButton):
        press("Unsilence")


def test_a_silenced_alarm_that_recovers_and_fires_again_is_held_until_the_silence_ends(
    api: LocalSlackApi, router: Router, press: Press, clock: FakeClock
) -> None:
    router(alarm_event("ALARM", OPENED, "m-1"))
    press("Silence 1 h")
    # When it recovers: resolved in its thread; the silence outlives it, so the message keeps only Unsilence
    router(alarm_event("OK", OPENED + timedelta(minutes=10), "m-2"))
    [post] = api.posts(CRITICAL)
    assert list(buttons(post)) == ["Unsilence"]
    # When it fires again within the hour: nothing is posted
    held = router(alarm_event("ALARM", OPENED + timedelta(minutes=20), "m-3"))
    assert held["results"][0]["status"] == "silenced"
    assert len(api.posts(CRITICAL)) == 1
    # When the silence ends: the old thread says so, the held ALARM opens a new incident with its own buttons
    at(62, clock)
    router({"action": "sweep"})
    old, new, summary = api.posts(CRITICAL)
    assert api.replies(CRITICAL, old["ts"])[-1]["text"] == f"🔔 Silence ended: {ALARM_NAME}"
    assert buttons(old) == {}
    assert list(buttons(new)) == SILENCES
    assert summary["text"] == "🔕 Silence ended: 1 alert not posted (silenced from Slack for 1 h)"


def test_silence_until_resolved_ends_when_the_incident_resolves(
    api: LocalSlackApi, router: Router, press: Press, clock: FakeClock, store: IncidentStore
) -> None:
    router(alarm_event("ALARM", OPENED, "m-1"))
    press("Silence until resolved")
    [post] = api.posts(CRITICAL)
    assert "until resolved" in status_line(post)
    assert len(list_silences(store, now=OPENED)) == 1
    router(alarm_event("OK", OPENED + timedelta(minutes=10), "m-2"))
    # Then the silence ended with the incident, and the resolved message has no buttons
    assert list_silences(store, now=OPENED + timedelta(minutes=10)) == []
    [post] = api.posts(CRITICAL)
    assert buttons(post) == {}
    assert post["blocks"][0]["text"]["text"].startswith("✅ RESOLVED")
    # And the next ALARM is posted at once: nothing silences it
    router(alarm_event("ALARM", OPENED + timedelta(minutes=12), "m-3"))
    assert len(api.posts(CRITICAL)) == 2


# --- resolved and earlier incidents -------------------------------------------------------------------------------


@pytest.mark.parametrize("label", ["Acknowledge", "Silence 1 h"])
def test_a_click_on_a_resolved_incident_answers_politely_and_changes_nothing(scene: Scene, label: str) -> None:
    api, router, clock = scene.api, scene.router, scene.clock
    router(alarm_event("ALARM", OPENED, "m-1"))
    stale = api.posts(CRITICAL)[0]  # a phone that has not refreshed since
    router(alarm_event("OK", OPENED + timedelta(minutes=14), "m-2"))
    at(20, clock)
    result = scene.press(label, message=stale)
    assert result["outcome"] == "answered"
    verb = "acknowledge" if label == "Acknowledge" else "silence"
    assert answers(api) == [f"This incident of {ALARM_NAME} is resolved at 03:28 UTC (12:28 JST); nothing to {verb}."]
    assert [r["text"][:2] for r in api.replies(CRITICAL)] == ["✅ "]
    assert list_silences(scene.store, now=OPENED + timedelta(minutes=20)) == []


def test_a_click_on_an_earlier_incident_of_the_alarm_points_at_the_current_one(
    api: LocalSlackApi, router: Router, press: Press
) -> None:
    router(alarm_event("ALARM", OPENED, "m-1"))
    first = api.posts(CRITICAL)[0]
    router(alarm_event("OK", OPENED + timedelta(minutes=5), "m-2"))
    router(alarm_event("ALARM", OPENED + timedelta(hours=2), "m-3"))
    press("Acknowledge", message=first)
    assert answers(api) == [
        f"This message is an earlier incident of {ALARM_NAME}; nothing changed. Its current incident is open:"
        " use the buttons on its newest message."
    ]
    assert api.replies(CRITICAL, api.posts(CRITICAL)[1]["ts"]) == []


def test_a_failed_private_answer_is_said_in_the_thread(
    api: LocalSlackApi, router: Router, press: Press, capfd: pytest.CaptureFixture[str]
) -> None:
    router(alarm_event("ALARM", OPENED, "m-1"))
    press("Acknowledge")
    # Given Slack refusing the response URL (expired)
    api.fail("response_url", status=404, error="expired_url")
    press("Acknowledge", user=BOB, message={**api.posts(CRITICAL)[0], **_with_acknowledge()})
    # Then the answer is a thread reply mentioning Bob, and the fallback is counted
    assert api.replies(CRITICAL)[-1]["text"].startswith(f"<@{BOB}> Already acknowledged by <@{ALICE}>")
    assert emf_points(capfd.readouterr().out, "AnswerFallbacks") == [1.0]


def _with_acknowledge() -> dict[str, Any]:
    """An actions block with the Acknowledge button, as an unrefreshed client still shows it."""
    button = {
        "type": "button",
        "action_id": "incident-acknowledge",
        "text": {"type": "plain_text", "text": "Acknowledge"},
        "value": KEY,
    }
    return {"blocks": [{"type": "actions", "block_id": "incident-actions", "elements": [button]}]}


# --- escalation ---------------------------------------------------------------------------------------------------


@pytest.fixture
def escalation(monkeypatch: pytest.MonkeyPatch, moto_dynamodb: Any) -> Callable[[], list[dict[str, Any]]]:
    """Escalation after 15 min to S0SECONDARY and to an SNS topic (moto), whose messages an SQS queue collects."""
    sns = boto3.client("sns", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    topic = sns.create_topic(Name="peoplebooster-staging-alerts-escalation")["TopicArn"]
    queue = sqs.create_queue(QueueName="escalation-inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    monkeypatch.setenv("ESCALATION_MINUTES", "15")
    monkeypatch.setenv("ESCALATION_USER_GROUP", "S0SECONDARY")
    monkeypatch.setenv("ESCALATION_TOPIC_ARN", topic)
    load_settings.cache_clear()

    def received() -> list[dict[str, Any]]:
        messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(m["Body"]) for m in messages]

    return received


def test_an_unacknowledged_critical_incident_escalates_once_after_15_minutes(
    api: LocalSlackApi, router: Router, clock: FakeClock, escalation: Callable[[], list[dict[str, Any]]],
    capfd: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    router(alarm_event("ALARM", OPENED, "m-1"))
    at(10, clock)
    router({"action": "sweep"})
    assert api.replies(CRITICAL) == []
    # When the sweep finds it unacknowledged after 15 minutes
    at(16, clock)
    swept = router({"action": "sweep"})
    # Then one broadcast reply mentions the secondary group, the message says it escalated
    assert swept["outcomes"] == {"escalated": 1}
    [notice] = api.replies(CRITICAL)
    assert notice["reply_broadcast"] is True
    assert notice["text"] == f"🚨 <!subteam^S0SECONDARY> Not acknowledged after 16 min: {ALARM_NAME}"
    assert slack_problems({k: notice[k] for k in ("text", "blocks", "attachments") if k in notice}) == []
    [post] = api.posts(CRITICAL)
    assert status_line(post) == "🚨 *Escalated* at 03:30 UTC (12:30 JST): not acknowledged after 16 min"
    assert "Acknowledge" in buttons(post)
    # And the escalation topic got it: email the story, SMS one line
    [published] = escalation()
    assert published["Subject"] == f"[staging] CRITICAL not acknowledged after 16 min: {ALARM_NAME}"
    assert "Nobody acknowledged it in Slack" in published["Message"]
    assert f"https://slack.com/archives/{CRITICAL}/p{post['ts'].replace('.', '')}" in published["Message"]
    assert emf_points(capfd.readouterr().out, "Escalations") == [1.0]
    # And only once: the next sweeps add nothing until the hourly reminder
    at(30, clock)
    router({"action": "sweep"})
    assert len(api.replies(CRITICAL)) == 1
    assert escalation() == []
    at(16 + 61, clock)
    router({"action": "sweep"})
    assert api.replies(CRITICAL)[-1]["text"].startswith("⏰ Still in ALARM")


@pytest.mark.parametrize("stop", ["acknowledged", "resolved", "silenced"])
def test_acknowledge_resolve_or_silence_stops_the_escalation(
    scene: Scene, escalation: Callable[[], list[dict[str, Any]]], stop: str
) -> None:
    api, router, press, clock = scene.api, scene.router, scene.press, scene.clock
    router(alarm_event("ALARM", OPENED, "m-1"))
    at(5, clock)
    if stop == "acknowledged":
        press("Acknowledge")
    elif stop == "silenced":
        press("Silence until resolved")
    else:
        router(alarm_event("OK", OPENED + timedelta(minutes=5), "m-2"))
    at(20, clock)
    assert router({"action": "sweep"})["outcomes"].get("escalated") is None
    assert not any(r["text"].startswith("🚨") for r in api.replies(CRITICAL))
    assert escalation() == []


@pytest.mark.usefixtures("escalation")
def test_a_failed_escalation_page_is_counted_and_published_by_the_next_sweep(
    api: LocalSlackApi, router: Router, clock: FakeClock, monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    # Given an escalation topic that does not exist (yet): SNS answers NotFound
    real_topic = load_settings().escalation_topic_arn
    assert real_topic is not None
    monkeypatch.setenv("ESCALATION_TOPIC_ARN", real_topic + "-missing")
    load_settings.cache_clear()
    router(alarm_event("ALARM", OPENED, "m-1"))
    at(16, clock)
    router({"action": "sweep"})
    # Then Slack has the escalation, the failure is counted, and the topic has nothing
    assert len(api.replies(CRITICAL)) == 1
    assert emf_points(capfd.readouterr().out, "EscalationPageFailures") == [1.0]
    # When the topic exists at the next sweep, the page goes out then, once, and Slack hears nothing new
    boto3.client("sns", region_name=REGION).create_topic(Name="peoplebooster-staging-alerts-escalation-missing")
    at(21, clock)
    assert router({"action": "sweep"})["outcomes"] == {"escalation-paged": 1}
    at(26, clock)
    assert router({"action": "sweep"})["outcomes"] == {"idle": 1}
    assert len(api.replies(CRITICAL)) == 1


# --- the incident history writer (issue 16, item 5) ---------------------------------------------------------------


def test_every_state_change_is_written_to_the_incident_history(
    api: LocalSlackApi, router: Router, stores: Stores
) -> None:
    router(alarm_event("ALARM", OPENED, "m-1"))
    router(alarm_event("ALARM", OPENED + timedelta(minutes=2), "m-2", old="ALARM"))  # not a change
    router(alarm_event("OK", OPENED + timedelta(minutes=9), "m-3"))
    router(alarm_event("OK", OPENED + timedelta(minutes=9), "m-3"))  # a redelivery
    [post] = api.posts(CRITICAL)
    entries = stores.history()
    assert [(e.state, e.old_state, e.changed_at) for e in entries] == [
        ("ALARM", "OK", OPENED.timestamp()),
        ("OK", "ALARM", (OPENED + timedelta(minutes=9)).timestamp()),
    ]
    assert {(e.alarm_key, e.alarm_name, e.message_ts) for e in entries} == {(KEY, ALARM_NAME, post["ts"])}


class FailingHistory:
    """The store, with the history write failing (throttled, or a bug)."""

    def __init__(self, inner: IncidentStore) -> None:
        self.inner = inner

    def put_history(self, entry: HistoryEntry) -> None:
        raise RuntimeError("ProvisionedThroughputExceededException")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_a_failed_history_write_is_counted_and_never_costs_the_alert(
    api: LocalSlackApi,
    clock: FakeClock,
    store: IncidentStore,
    capfd: pytest.CaptureFixture[str],
    json_logs: io.StringIO,
) -> None:
    result = router_handler.lambda_handler(
        alarm_event("ALARM", OPENED, "m-1"),
        LocalLambdaContext(function_name="alert-router"),
        deduplicator=InMemoryDeduplicator(),
        slack_api=web_api(api, clock),
        store=FailingHistory(store),
        now=clock,
    )
    assert result["results"][0]["status"] == "delivered"
    assert len(api.posts(CRITICAL)) == 1
    assert emf_points(capfd.readouterr().out, "HistoryWriteFailures") == [1.0]
    [line] = log_lines(json_logs, "incident history not written")
    assert (line["level"], line["error_type"]) == ("ERROR", "RuntimeError")


def test_the_alarm_report_reads_the_acknowledgement_the_router_wrote(
    api: LocalSlackApi, press: Press, clock: FakeClock, moto_dynamodb: Any
) -> None:
    # Given the router writing to a moto incident table laid out as deployed: an incident, acknowledged, resolved
    create_table(moto_dynamodb, "deployed-incidents", INCIDENT_TABLE)
    store = DynamoDBIncidentStore("deployed-incidents", client=moto_dynamodb)

    def route(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
        result: dict[str, Any] = router_handler.lambda_handler(
            event, context or LocalLambdaContext(function_name="alert-router"),
            deduplicator=InMemoryDeduplicator(), slack_api=web_api(api, clock), store=store, now=clock,
        )  # fmt: skip
        return result

    route(alarm_event("ALARM", OPENED, "m-1"))
    at(4, clock)
    payload = click(api.posts(CRITICAL)[0], "Acknowledge", response_url=api.response_url(), user_id=ALICE,
                    user_name="alice", action_ts="9.9")  # fmt: skip
    (action,) = read_interaction(form_body(payload)).actions
    route(action_event(action))
    route(alarm_event("OK", OPENED + timedelta(minutes=30), "m-2"))
    # When the alarm report reads the table (tools/alarm_report, make alarm-report's reader)
    period = Period(OPENED - timedelta(days=1), OPENED + timedelta(days=1))
    entries, unreadable = incident_history(moto_dynamodb, "deployed-incidents", period)
    # Then it finds both changes and the episode's opening entry carries who acknowledged it
    assert unreadable == 0
    assert sorted(e.state for e in entries) == ["ALARM", "OK"]
    episode = Episode(ALARM_NAME, OPENED, OPENED + timedelta(minutes=30))
    opening = opening_entry(episode, entries)
    assert opening is not None
    assert (opening.acked_by, opening.acked_at) == ("alice", (OPENED + timedelta(minutes=4)).timestamp())
