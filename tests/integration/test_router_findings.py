"""The alert router's findings of issue 12, each reproduced through the deployed entry point only.

Every test here drives `lambdas.alert_router.handler.lambda_handler` as Lambda does, configured by the
environment (webhook or bot-token mode against the local Slack fakes), with the handler's own default
adapters: no internal module is imported, so each test also ran against the router before the fixes and
failed there (see docs/operations/decisions.md, "Router restructure and delivery engine (issue 12)").
Alarm names and message ids are unique per test: the default adapters live as long as the process.
"""

from __future__ import annotations

import io
import json
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import redirect_stdout
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from lambdas.alert_router.handler import lambda_handler
from lambdas.alert_router.settings import load_settings
from lambdas.shared.local_context import LocalLambdaContext
from tests.emf import emf_points
from tools.local_slack import LocalSlack, LocalSlackApi

EVENTS = Path(__file__).resolve().parents[2] / "events" / "alert_router"
CRITICAL = "C0CRITICAL"
T1 = datetime(2026, 11, 29, 3, 14, 15, tzinfo=UTC)


def alarm_event(name: str, state: str, at: datetime, message_id: str, *, old: str = "OK", **changes: Any) -> Any:
    """The critical ALB 5xx alarm fixture, renamed (a fresh incident per test, and a fault of its own: the
    router would otherwise group it with the other tests' alarms of the same target group), in `state` at `at`."""
    event: dict[str, Any] = json.loads((EVENTS / "sns_metric_math_alarm.json").read_text())
    sns = event["Records"][0]["Sns"]
    message = json.loads(sns["Message"])
    description = changes.pop("AlarmDescription", message.get("AlarmDescription")) or ""
    message.update(
        AlarmName=name,
        AlarmDescription=f"{description}\nGroup: {name}",
        AlarmArn=f"arn:aws:cloudwatch:ap-northeast-1:123456789012:alarm:{name}",
        NewStateValue=state,
        OldStateValue=old,
        StateChangeTime=at.strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
        **changes,
    )
    sns["Message"] = json.dumps(message)
    sns["MessageId"] = message_id
    return event


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def invoke(event: Any, seconds: float = 30.0) -> Any:
    with redirect_stdout(io.StringIO()):  # EMF and logs: not what these tests read
        return lambda_handler(event, LocalLambdaContext(function_name="alert-router", timeout_seconds=seconds))


def _local_router(monkeypatch: pytest.MonkeyPatch, **env: str) -> None:
    """The router's environment for one Slack mode, nothing deployed: no secret, no tables."""
    for name in ("SLACK_WEBHOOK_SECRET_ARN", "SLACK_WEBHOOK_URLS", "SLACK_BOT_TOKEN", "IDEMPOTENCY_TABLE_NAME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("INCIDENT_TABLE_NAME", raising=False)
    for name, value in {"ENVIRONMENT": "staging", **env}.items():
        monkeypatch.setenv(name, value)
    load_settings.cache_clear()


@pytest.fixture
def bot(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalSlackApi]:
    with LocalSlackApi() as api:
        _local_router(
            monkeypatch,
            SLACK_BOT_TOKEN=api.token,
            SLACK_CHANNEL_IDS=api.channel_ids_json(),
            SLACK_API_BASE_URL=api.base_url,
        )
        yield api
    load_settings.cache_clear()


@pytest.fixture
def webhooks(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalSlack]:
    with LocalSlack() as slack:
        _local_router(monkeypatch, SLACK_WEBHOOK_URLS=slack.webhook_urls())
        yield slack
    load_settings.cache_clear()


@pytest.fixture
def router_logs() -> Iterator[io.StringIO]:
    """The router's log lines, as its Logger (service "alert-router") formats them for CloudWatch."""
    stream = io.StringIO()
    router_logger = logging.getLogger("alert-router")
    extra = logging.StreamHandler(stream)
    extra.setFormatter(router_logger.handlers[0].formatter)
    router_logger.addHandler(extra)
    yield stream
    router_logger.removeHandler(extra)


def header(message: dict[str, Any]) -> str:
    text: str = message["blocks"][0]["text"]["text"]
    return text


# --- incident order follows the alarm's state-change time ------------------------------------------------------


def test_a_late_ok_does_not_resolve_an_incident_whose_alarm_fired_again(bot: LocalSlackApi) -> None:
    name = unique("late-ok")
    # Given ALARM at t1, then the OK of t2 failing on a Slack 500 (retried by Lambda later)
    invoke(alarm_event(name, "ALARM", T1, unique("m1")))
    ok = alarm_event(name, "OK", T1 + timedelta(minutes=2), unique("m2"), old="ALARM")
    bot.fail("chat.postMessage", status=500, error="internal_error", times=1000)
    with pytest.raises(Exception, match="internal_error"):
        invoke(ok, seconds=2.5)
    bot.clear_faults()
    # And the alarm firing again at t3
    invoke(alarm_event(name, "ALARM", T1 + timedelta(minutes=3), unique("m3")))
    # When Lambda retries the OK from t2
    result = invoke(ok)
    # Then it is recognised as older than the ALARM of t3: nothing says "Resolved", the original is not rewritten
    assert result["results"][0]["status"] == "late-ignored"
    [post] = bot.posts(CRITICAL)
    assert header(post).startswith("🔴 CRITICAL")
    assert not any("Resolved" in reply["text"] for reply in bot.replies(CRITICAL, post["ts"]))
    assert bot.updates(CRITICAL) == []


# --- a deleted parent: a new top-level post re-anchors the incident --------------------------------------------


def test_an_alarm_firing_again_after_its_message_was_deleted_is_posted_again(bot: LocalSlackApi) -> None:
    name = unique("deleted-parent")
    invoke(alarm_event(name, "ALARM", T1, unique("m1")))
    [first] = bot.posts(CRITICAL)
    # Given someone deleted the incident's message in Slack
    bot.delete_message(CRITICAL, first["ts"])
    # When the alarm fires again, and then recovers
    invoke(alarm_event(name, "ALARM", T1 + timedelta(minutes=5), unique("m2"), old="ALARM"))
    resolved = invoke(alarm_event(name, "OK", T1 + timedelta(minutes=9), unique("m3"), old="ALARM"))
    # Then the ALARM was posted again top-level, and the incident followed it: resolved in its thread, in place
    [again] = bot.posts(CRITICAL)
    assert again["ts"] != first["ts"]
    assert resolved["results"][0]["outcome"] == "resolved"
    assert [reply["text"][:20] for reply in bot.replies(CRITICAL, again["ts"])] == ["✅ Resolved after 9 m"]
    assert header(again).startswith("✅ RESOLVED")


def test_a_recovery_after_the_message_was_deleted_does_not_fail_the_event(bot: LocalSlackApi) -> None:
    name = unique("deleted-original")
    invoke(alarm_event(name, "ALARM", T1, unique("m1")))
    [first] = bot.posts(CRITICAL)
    bot.delete_message(CRITICAL, first["ts"])
    # When the OK arrives (its reply and the update of the original both refer to the deleted message)
    result = invoke(alarm_event(name, "OK", T1 + timedelta(minutes=4), unique("m2"), old="ALARM"))
    # Then the event succeeds and the recovery is visible, posted top-level instead
    assert result["results"][0]["status"] == "delivered"
    [posted] = bot.posts(CRITICAL)
    assert posted["text"].startswith(f"✅ [staging] RESOLVED · {name}:")


def test_the_sweep_does_not_keep_failing_on_a_deleted_message_it_could_not_update(
    bot: LocalSlackApi, capsys: pytest.CaptureFixture[str]
) -> None:
    name = unique("deleted-stale")
    invoke(alarm_event(name, "ALARM", T1, unique("m1")))
    [first] = bot.posts(CRITICAL)
    # Given the recovery's update of the original failing (so the sweep repeats it), then the message deleted
    bot.fail("chat.update", error="cant_update_message")
    invoke(alarm_event(name, "OK", T1 + timedelta(minutes=4), unique("m2"), old="ALARM"))
    bot.delete_message(CRITICAL, first["ts"])
    capsys.readouterr()
    # When the sweep runs twice, then nothing fails (no UpdateFailures, which alarm): there is nothing to update
    context = LocalLambdaContext(function_name="alert-router")
    assert lambda_handler({"action": "sweep"}, context)["failures"] == 0
    assert lambda_handler({"action": "sweep"}, context)["failures"] == 0
    assert emf_points(capsys.readouterr().out, "UpdateFailures") == []


# --- the in-memory deduplicator has an in-progress state -------------------------------------------------------


def test_two_concurrent_deliveries_of_one_message_in_one_process_post_once(webhooks: LocalSlack) -> None:
    # Given a slow Slack and the same SNS message handled twice at once by one process
    webhooks.latency = 0.5
    event = json.loads((EVENTS / "sns_metric_alarm_ecs_cpu.json").read_text())
    event["Records"][0]["Sns"]["MessageId"] = unique("concurrent")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def run() -> None:
        barrier.wait()
        try:
            invoke(event)
            outcomes.append("returned")
        except Exception:
            outcomes.append("raised")

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # Then it was posted once; the other invocation failed its record, so Lambda retries it later
    assert len(webhooks.messages("alerts-performance")) == 1
    assert sorted(outcomes) == ["raised", "returned"]
    # And that retry finds it delivered
    assert invoke(event)["results"][0]["status"] == "duplicate"


# --- a parser failure does not turn a critical alarm into INFO -------------------------------------------------


def test_a_critical_alarm_with_an_absurd_number_in_it_still_pages(webhooks: LocalSlack) -> None:
    # Given a critical alarm whose threshold is an integer too large for a float (valid JSON)
    name = unique("huge-threshold")
    event = alarm_event(name, "ALARM", T1, unique("m"), AlarmDescription="ALB 5xx.\n\nSeverity: critical")
    message = json.loads(event["Records"][0]["Sns"]["Message"])
    message["Trigger"]["Threshold"] = 10**400
    event["Records"][0]["Sns"]["Message"] = json.dumps(message)
    # Then it is delivered to the critical channel as critical, not as INFO in the errors channel
    invoke(event)
    assert webhooks.messages("alerts-errors") == []
    [posted] = webhooks.messages("alerts-critical")
    assert "CRITICAL" in header(posted)


# --- idempotency degradation is logged and counted -------------------------------------------------------------


def test_an_unreachable_idempotency_table_is_logged_and_counted(
    webhooks: LocalSlack,
    moto_dynamodb: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    router_logs: io.StringIO,
) -> None:
    # Given the deployed idempotency path on a table that does not exist (an outage looks the same)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "alert-router")
    monkeypatch.setenv("IDEMPOTENCY_TABLE_NAME", unique("missing-table"))
    load_settings.cache_clear()
    event = json.loads((EVENTS / "sns_metric_alarm_ecs_cpu.json").read_text())
    event["Records"][0]["Sns"]["MessageId"] = unique("degraded")
    # When a message is handled
    lambda_handler(event, LocalLambdaContext(function_name="alert-router"))
    # Then it is delivered once, and the degradation is in the log (with the error's type) and the metrics
    assert len(webhooks.messages("alerts-performance")) == 1
    assert emf_points(capsys.readouterr().out, "IdempotencyDegraded") == [1.0]
    [line] = [json.loads(line) for line in router_logs.getvalue().splitlines() if "idempotency unavailable" in line]
    assert line["level"] == "WARNING"
    assert line["error_type"] == "ResourceNotFoundException"


# --- a trickling answer is cut off at the deadline ---------------------------------------------------------------


def test_a_trickling_webhook_answer_is_cut_off_at_the_deadline(webhooks: LocalSlack) -> None:
    # Given Slack answering one byte every 0.25 s (each read is quick: only a deadline stops it), 3 s left
    webhooks.fail("alerts-performance", status=200, body="ok", mode="trickle", pace=0.25)
    event = json.loads((EVENTS / "sns_metric_alarm_ecs_cpu.json").read_text())
    event["Records"][0]["Sns"]["MessageId"] = unique("trickle")
    started = time.monotonic()
    # Then the invocation fails in its own time (Lambda retries it), instead of being killed past its timeout
    with pytest.raises(Exception, match="not enough Lambda time left"):
        invoke(event, seconds=3.0)
    assert time.monotonic() - started < 3.0


def test_a_trickling_web_api_answer_is_cut_off_at_the_deadline(bot: LocalSlackApi) -> None:
    bot.fail("chat.postMessage", status=200, mode="trickle", pace=0.25)
    started = time.monotonic()
    with pytest.raises(Exception, match="not enough Lambda time left"):
        invoke(alarm_event(unique("trickle"), "ALARM", T1, unique("m")), seconds=3.0)
    assert time.monotonic() - started < 3.0


# --- refused blocks fall back to plain text in both modes ----------------------------------------------------------


@pytest.mark.parametrize("error", ["invalid_blocks", "invalid_attachments"])
def test_refused_blocks_are_posted_as_plain_text_by_webhook(webhooks: LocalSlack, error: str) -> None:
    webhooks.fail("alerts-performance", status=400, body=error)
    event = json.loads((EVENTS / "sns_metric_alarm_ecs_cpu.json").read_text())
    event["Records"][0]["Sns"]["MessageId"] = unique("refused")
    invoke(event)
    [posted] = webhooks.messages("alerts-performance")
    assert set(posted) == {"text"}


@pytest.mark.parametrize("error", ["invalid_blocks", "invalid_attachments"])
def test_refused_blocks_are_posted_as_plain_text_in_bot_token_mode(bot: LocalSlackApi, error: str) -> None:
    bot.fail("chat.postMessage", error=error)
    name = unique("refused")
    invoke(alarm_event(name, "ALARM", T1, unique("m")))
    [posted] = bot.posts(CRITICAL)
    assert posted["text"].startswith(f"🔴 [staging] CRITICAL · {name}:")
    assert "attachments" not in posted
