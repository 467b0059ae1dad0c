"""The router as deployed since issue 13: SQS batches in (SNS envelopes), one message per fault out, storm
digests, partial batch failures, nothing lost and nothing posted twice, in webhook and bot-token mode.

Batches go through tools/local_sqs.py (AWS's record and envelope shapes, redelivery of the records the
handler names in `batchItemFailures`, dead letters after max receives) into the local Slack fakes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from lambdas.alert_router import handler
from lambdas.alert_router.delivery.engine import DeliveryEngine, Pacer
from lambdas.alert_router.delivery.idempotency import Deduplicator, DynamoDBDeduplicator, InMemoryDeduplicator
from lambdas.alert_router.delivery.policy import RetryPolicy
from lambdas.alert_router.delivery.web_api import WebApiClient
from lambdas.alert_router.delivery.webhook import WebhookSender
from lambdas.alert_router.incidents.store import InMemoryIncidentStore
from lambdas.alert_router.settings import load_settings
from lambdas.shared.local_context import LocalLambdaContext
from tests.aws_tables import IDEMPOTENCY_TABLE, create_table
from tests.clock import FakeClock
from tests.unit.alert_router.slack_limits import slack_problems
from tools.local_slack import LocalSlack, LocalSlackApi
from tools.local_sqs import LocalQueue
from tools.storm import storm_events

EVENTS = Path(__file__).resolve().parents[2] / "events" / "alert_router"
FAULT = [json.loads(r["body"]) for r in json.loads((EVENTS / "sqs_database_fault.json").read_text())["Records"]]
READY, HEALTH, DATABASE = (json.loads(envelope["Message"])["AlarmName"] for envelope in FAULT)
T0 = datetime(2026, 12, 1, 17, 14, tzinfo=UTC)
FAST = RetryPolicy(base_delay=0.05, max_delay=0.2, attempt_timeout=2.0, min_interval=0.0, reserve=0.1)


def fault(state: str = "ALARM", *, at: datetime = T0, only: tuple[str, ...] = ()) -> list[str]:
    """The database fault's SNS envelopes (ready failing, health failing, dependency database) in `state`."""
    bodies = []
    for envelope in FAULT:
        message = json.loads(envelope["Message"])
        if only and message["AlarmName"] not in only:
            continue
        message["NewStateValue"], message["OldStateValue"] = state, "OK" if state == "ALARM" else "ALARM"
        message["StateChangeTime"] = at.strftime("%Y-%m-%dT%H:%M:%S.000+0000")
        changed = {
            **envelope,
            "Message": json.dumps(message),
            "MessageId": f"{envelope['MessageId']}-{state}-{at:%H%M}",
        }
        bodies.append(json.dumps(changed))
    return bodies


@pytest.fixture(scope="module")
def slack() -> Iterator[LocalSlack]:
    with LocalSlack() as server:
        yield server


@pytest.fixture(autouse=True)
def environment(slack: LocalSlack, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    slack.reset()
    for name in ("SLACK_WEBHOOK_SECRET_ARN", "IDEMPOTENCY_TABLE_NAME", "SLACK_BOT_TOKEN", "GROUPING", "DASHBOARD_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ENVIRONMENT", "staging")
    monkeypatch.setenv("DASHBOARD_NAME", "peoplebooster-staging")
    monkeypatch.setenv("SLACK_WEBHOOK_URLS", slack.webhook_urls())
    load_settings.cache_clear()
    yield
    load_settings.cache_clear()


def router(slack: LocalSlack, deduplicator: Deduplicator, policy: RetryPolicy = FAST) -> Any:
    """The handler as the event source mapping invokes it: a 60 s invocation, webhooks of the local Slack."""
    engine = DeliveryEngine(policy=policy, pacer=Pacer())
    sender = WebhookSender(webhooks=json.loads(slack.webhook_urls()), engine=engine)

    def invoke(event: dict[str, Any]) -> dict[str, Any]:
        context = LocalLambdaContext(function_name="alert-router", timeout_seconds=60)
        engine.remaining_seconds = lambda: context.get_remaining_time_in_millis() / 1000
        answer: dict[str, Any] = handler.lambda_handler(event, context, sender=sender, deduplicator=deduplicator)
        return answer

    return invoke


def posted(slack: LocalSlack) -> list[dict[str, Any]]:
    return [payload for items in slack.all_messages().values() for payload in items]


# --- one fault, one message --------------------------------------------------------------------------------------


def test_the_committed_sqs_event_is_one_message_in_the_critical_channel(
    slack: LocalSlack, snapshot: SnapshotAssertion
) -> None:
    # Given the demo's database fault as the event source mapping delivers it (three SNS envelopes)
    event = json.loads((EVENTS / "sqs_database_fault.json").read_text())
    # When the router handles it
    answer = router(slack, InMemoryDeduplicator())(event)
    # Then SQS is told every record succeeded, in the documented shape, and nothing else
    assert answer == {"batchItemFailures": []}
    # And one message in #alerts-critical names the fault and all three alarms; #alerts-errors stays quiet
    assert set(slack.all_messages()) == {"alerts-critical"}
    [message] = slack.messages("alerts-critical")
    assert message["text"].startswith("🔴 [staging] CRITICAL · Database unhealthy · 3 alarms: ")
    for name in (READY, HEALTH, DATABASE):
        assert name in json.dumps(message)
    assert slack_problems(message) == []
    assert message == snapshot(extension_class=JSONSnapshotExtension)


def test_a_raw_message_record_is_delivered_too(slack: LocalSlack) -> None:
    event = json.loads((EVENTS / "sqs_raw_message_delivery.json").read_text())
    assert router(slack, InMemoryDeduplicator())(event) == {"batchItemFailures": []}
    [message] = slack.messages("alerts-performance")
    assert "ecs-backend-cpu-high" in message["text"]


def test_recoveries_are_one_message_too(slack: LocalSlack) -> None:
    queue = LocalQueue()
    for body in fault("OK"):
        queue.send(body)
    queue.deliver(router(slack, InMemoryDeduplicator()))
    [message] = posted(slack)
    assert message["text"].startswith("✅ [staging] RESOLVED · Database unhealthy · 3 alarms: ")


# --- partial failures, redelivery, idempotency ------------------------------------------------------------------


def test_a_failed_message_fails_only_its_records_and_their_retry_posts_them_once(slack: LocalSlack) -> None:
    # Given a batch with the database fault and an ECS CPU alarm, and the performance webhook failing once
    queue = LocalQueue()
    for body in fault():
        queue.send(body)
    cpu = json.loads((EVENTS / "sqs_raw_message_delivery.json").read_text())["Records"][0]["body"]
    cpu_record = queue.send(cpu)
    slack.fail("alerts-performance", status=410, body="channel_is_archived", times=1)
    # When SQS hands the batch over, and again the records reported failed
    answers = queue.deliver(router(slack, InMemoryDeduplicator()))
    # Then the first answer names only the CPU alarm's record, and its retry delivered it
    assert answers[0] == {"batchItemFailures": [{"itemIdentifier": cpu_record.message_id}]}
    assert answers[1:] == [{"batchItemFailures": []}]
    # And every alert was posted exactly once, none is a dead letter
    assert len(slack.messages("alerts-critical")) == 1
    assert len(slack.messages("alerts-performance")) == 1
    assert queue.dead_letters == []


def test_a_record_that_keeps_failing_ends_in_the_dead_letter_queue_and_the_rest_get_through(slack: LocalSlack) -> None:
    queue = LocalQueue(max_receive_count=5)
    for body in fault():
        queue.send(body)
    cpu = json.loads((EVENTS / "sqs_raw_message_delivery.json").read_text())["Records"][0]["body"]
    queue.send(cpu)
    slack.fail("alerts-performance", status=410, body="channel_is_archived", times=100)
    answers = queue.deliver(router(slack, InMemoryDeduplicator()))
    assert len(answers) == 5  # received five times
    assert [json.loads(m.body)["AlarmName"] for m in queue.dead_letters] == [
        "peoplebooster-production-ecs-backend-cpu-high"
    ]
    assert len(slack.messages("alerts-critical")) == 1  # posted once, not once per retry


def test_a_batch_delivered_again_in_other_batches_posts_nothing_new(slack: LocalSlack) -> None:
    # Given the fault delivered and posted once
    dedup = InMemoryDeduplicator()
    deliver = router(slack, dedup)
    first = LocalQueue()
    for body in fault():
        first.send(body)
    first.deliver(deliver)
    assert len(posted(slack)) == 1
    # When SQS delivers the same notifications again, re-batched (new SQS records, same SNS messages)
    again = LocalQueue(batch_size=2)
    for body in reversed(fault()):
        again.send(body)
    answers = again.deliver(deliver)
    # Then nothing more is posted and nothing failed
    assert answers == [{"batchItemFailures": []}, {"batchItemFailures": []}]
    assert len(posted(slack)) == 1


def test_a_group_is_idempotent_on_the_dynamodb_store(slack: LocalSlack, moto_dynamodb: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "alert-router")
    create_table(moto_dynamodb, "idempotency", IDEMPOTENCY_TABLE)
    deliver = router(slack, DynamoDBDeduplicator("idempotency", 3600))
    for batch_size in (3, 1):  # the second time the same alerts come one by one
        queue = LocalQueue(batch_size=batch_size)
        for body in fault():
            queue.send(body)
        assert all(a == {"batchItemFailures": []} for a in queue.deliver(deliver))
    assert len(posted(slack)) == 1
    assert moto_dynamodb.scan(TableName="idempotency")["Count"] == 3


# --- storms -------------------------------------------------------------------------------------------------


def test_a_storm_of_200_alarms_against_slacks_rate_limit_is_a_few_posts_none_lost(slack: LocalSlack) -> None:
    # Given Slack accepting one post per (scaled) second per webhook, 429 + Retry-After otherwise, and
    # answering the first two posts to #alerts-critical 429 anyway
    interval = 0.05
    for channel in slack.channels:
        slack.rate_limit(channel, interval=interval)
    slack.fail("alerts-critical", status=429, body="rate_limited", retry_after="0.1", times=2)
    deliver = router(slack, InMemoryDeduplicator(), RetryPolicy(min_interval=interval))
    queue = LocalQueue(batch_size=500)
    events = storm_events(200)
    for event in events:
        queue.send_sns(event)
    # When the batch is handled
    started = time.monotonic()
    answers = queue.deliver(deliver)
    took = time.monotonic() - started
    # Then within one invocation, at most 15 posts carry every alarm, none failed
    assert answers == [{"batchItemFailures": []}]
    assert took < 60
    messages = posted(slack)
    assert 1 <= len(messages) <= 15
    text = json.dumps(messages, ensure_ascii=False)
    for event in events:
        name = json.loads(event["Records"][0]["Sns"]["Message"])["AlarmName"]
        assert name.split("-", 3)[-1].split("-", 1)[1] in text, name  # named (its shared prefix said once)
    assert all(slack_problems(m) == [] for m in messages)
    # And delivered again (SQS at least once), it posts nothing new
    for event in events:
        queue.send_sns(event)
    assert queue.deliver(deliver) == [{"batchItemFailures": []}]
    assert len(posted(slack)) == len(messages)


# --- bot-token mode: one thread per fault ------------------------------------------------------------------


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalSlackApi]:
    with LocalSlackApi() as server:
        monkeypatch.setenv("SLACK_BOT_TOKEN", server.token)
        monkeypatch.setenv("SLACK_CHANNEL_IDS", server.channel_ids_json())
        monkeypatch.setenv("SLACK_API_BASE_URL", server.base_url)
        load_settings.cache_clear()
        yield server


def bot_router(api: LocalSlackApi, clock: FakeClock) -> Any:
    store, dedup = InMemoryIncidentStore(), InMemoryDeduplicator()

    def invoke(event: dict[str, Any]) -> dict[str, Any]:
        engine = DeliveryEngine(policy=FAST, remaining_seconds=clock.time_left(30.0), sleep=clock.sleep)
        client = WebApiClient(token=api.token, base_url=api.base_url, engine=engine)
        context = LocalLambdaContext(function_name="alert-router", timeout_seconds=60)
        answer: dict[str, Any] = handler.lambda_handler(
            event, context, deduplicator=dedup, slack_api=client, store=store, now=clock
        )
        return answer

    return invoke


def deliver_bodies(bodies: list[str], invoke: Any) -> None:
    queue = LocalQueue()
    for body in bodies:
        queue.send(body)
    assert queue.deliver(invoke) == [{"batchItemFailures": []}]


def test_bot_token_mode_opens_one_thread_per_fault_and_a_later_member_joins_it(api: LocalSlackApi) -> None:
    clock = FakeClock(T0.timestamp(), advances=False)
    invoke = bot_router(api, clock)
    # Given /health failing and the database dependency first (warnings: the errors channel)
    deliver_bodies(fault(only=(HEALTH, DATABASE)), invoke)
    [thread] = api.posts("C0ERRORS")
    assert thread["text"].startswith("🟠 [staging] WARNING · Database unhealthy · 2 alarms")
    [reply] = api.replies("C0ERRORS", thread["ts"])  # the other member, named (the thread is shared)
    assert reply["text"].startswith(f"{HEALTH} · 🔴 ALARM")
    # When /health failing's OK arrives five minutes later, it replies in that thread, naming itself
    clock.now += 300
    deliver_bodies(fault("OK", at=T0 + timedelta(minutes=5), only=(HEALTH,)), invoke)
    assert len(api.posts("C0ERRORS")) == 1
    assert api.replies("C0ERRORS", thread["ts"])[-1]["text"].startswith(f"{HEALTH} · ✅")


def test_bot_token_mode_a_more_urgent_member_does_not_hide_in_a_warning_thread(api: LocalSlackApi) -> None:
    clock = FakeClock(T0.timestamp(), advances=False)
    invoke = bot_router(api, clock)
    deliver_bodies(fault(only=(DATABASE,)), invoke)  # a warning thread in #alerts-errors
    clock.now += 60
    deliver_bodies(fault(at=T0 + timedelta(minutes=1), only=(READY,)), invoke)  # critical: it pages
    assert len(api.posts("C0CRITICAL")) == 1
    assert api.replies("C0ERRORS") == []


def test_bot_token_mode_joins_the_thread_of_a_later_batch_within_the_window_only(api: LocalSlackApi) -> None:
    clock = FakeClock(T0.timestamp(), advances=False)
    invoke = bot_router(api, clock)
    deliver_bodies(fault(only=(HEALTH,)), invoke)
    # within the join window (30 min by default): a reply in the thread
    clock.now += 600
    deliver_bodies(fault(at=T0 + timedelta(minutes=10), only=(DATABASE,)), invoke)
    assert len(api.posts("C0ERRORS")) == 1
    # after the lead resolved, a new alarm of the group opens a new thread
    clock.now += 60
    deliver_bodies(fault("OK", at=T0 + timedelta(minutes=11), only=(HEALTH,)), invoke)
    clock.now += 60
    deliver_bodies(fault(at=T0 + timedelta(minutes=12), only=(HEALTH,)), invoke)
    assert len(api.posts("C0ERRORS")) == 2


def test_bot_token_mode_a_storm_is_one_digest_and_its_alarms_post_nothing_more(api: LocalSlackApi) -> None:
    clock = FakeClock(T0.timestamp(), advances=False)
    invoke = bot_router(api, clock)
    queue = LocalQueue()
    for event in storm_events(60):
        queue.send_sns(event)
    assert queue.deliver(invoke) == [{"batchItemFailures": []}]
    tops = [post for channel in api.channel_ids.values() for post in api.posts(channel)]
    assert 1 <= len(tops) <= 3
    assert all("STORM" in post["text"] for post in tops)
    assert [r for channel in api.channel_ids.values() for r in api.replies(channel)] == []
    # And their recoveries, also a storm, are a digest too: no reply per alarm
    clock.now += 600
    for event in storm_events(60, state="OK", at=T0.timestamp() + 600):
        queue.send_sns(event)
    assert queue.deliver(invoke) == [{"batchItemFailures": []}]
    assert [r for channel in api.channel_ids.values() for r in api.replies(channel)] == []
    assert len([p for c in api.channel_ids.values() for p in api.posts(c)]) <= 6
