"""The alert router end to end against a real Slack-compatible receiver on 127.0.0.1.

Waits are injected (a recording sleep), so the fault matrix checks the exact waits without sleeping.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from lambdas.alert_router import handler, telemetry
from lambdas.alert_router.delivery.defaults import reset_process_adapters
from lambdas.alert_router.delivery.engine import DeliveryEngine, DeliveryError, DeliveryReport, Pacer
from lambdas.alert_router.delivery.idempotency import InMemoryDeduplicator
from lambdas.alert_router.delivery.policy import RetryPolicy
from lambdas.alert_router.delivery.web_api import WebApiClient
from lambdas.alert_router.delivery.webhook import WebhookSender, encode_payload
from lambdas.alert_router.incidents.store import InMemoryIncidentStore
from lambdas.alert_router.intake import events as intake_events
from lambdas.alert_router.settings import load_settings, load_webhooks
from lambdas.shared.local_context import LocalLambdaContext
from tests.clock import FakeClock
from tests.emf import emf_blobs, emf_points, emf_series
from tests.unit.alert_router.slack_limits import slack_problems
from tools.local_slack import LocalSlack, LocalSlackApi, render_terminal

EVENTS = Path(__file__).resolve().parents[2] / "events" / "alert_router"
FAST = RetryPolicy(base_delay=0.25, max_delay=2.0, attempt_timeout=0.3, min_interval=0.0, reserve=0.1)
SPACED = replace(FAST, min_interval=1.0)

EXPECTED_CHANNELS = {
    "eventbridge_alarm_state_change.json": ["alerts-performance"],
    "sns_anomaly_detection_alarm.json": ["alerts-errors"],
    "sns_alb_target_5xx.json": ["alerts-critical"],
    "sns_batch_with_bad_record.json": ["alerts-performance", "alerts-errors", "alerts-errors"],
    "sns_composite_alarm.json": ["alerts-critical"],
    "sns_insufficient_data.json": ["alerts-errors"],
    "sns_japanese_description.json": ["alerts-performance"],
    "sns_legacy_without_alarm_arn.json": ["alerts-performance"],
    "sns_malicious_description.json": ["alerts-errors"],
    "sns_metric_alarm_ecs_cpu.json": ["alerts-performance"],
    "sns_metric_math_alarm.json": ["alerts-critical"],
    "sns_ok_recovery.json": ["alerts-performance"],
    "sns_percentile_alarm_alb_latency_p95.json": ["alerts-performance"],
    "sns_plain_text.json": ["alerts-errors"],
    "sns_synthetic_live_check_failing.json": ["alerts-critical"],
    "sns_rds_event_shutdown.json": ["alerts-critical"],
}


def load(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return event


@pytest.fixture(scope="module")
def slack() -> Iterator[LocalSlack]:
    with LocalSlack() as server:
        yield server


@pytest.fixture(autouse=True)
def environment(slack: LocalSlack, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    slack.reset()
    for name in (
        "SLACK_WEBHOOK_SECRET_ARN",
        "IDEMPOTENCY_TABLE_NAME",
        "ROUTING_OVERRIDES",
        "CHANNELS",
        "DASHBOARD_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ENVIRONMENT", "production")  # the events are production's alarms
    monkeypatch.setenv("DISPLAY_TIME_ZONE", "Asia/Tokyo")
    monkeypatch.setenv("DASHBOARD_NAME", "peoplebooster-production-service")
    monkeypatch.setenv("SLACK_WEBHOOK_URLS", slack.webhook_urls())
    load_settings.cache_clear()
    yield
    load_settings.cache_clear()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def sender_for(slack: LocalSlack, clock: FakeClock, policy: RetryPolicy = FAST) -> WebhookSender:
    webhooks = load_webhooks(load_settings())
    assert webhooks is not None
    engine = DeliveryEngine(
        policy=policy, remaining_seconds=clock.time_left(60.0), sleep=clock.sleep, draw=highest, pacer=Pacer(clock)
    )
    return WebhookSender(webhooks=webhooks, engine=engine)


def highest(low: float, high: float) -> float:
    """The longest wait the policy allows (no randomness in these tests)."""
    return high


def invoke(event: dict[str, Any], sender: Any, deduplicator: InMemoryDeduplicator | None = None) -> dict[str, Any]:
    result: dict[str, Any] = handler.lambda_handler(
        event,
        LocalLambdaContext(function_name="alert-router", timeout_seconds=60),
        sender=sender,
        deduplicator=deduplicator or InMemoryDeduplicator(),
    )
    return result


# --- every event kind lands in the expected channel, with a valid, reviewed payload --------------------------


@pytest.mark.parametrize("fixture", sorted(EXPECTED_CHANNELS))
def test_each_event_lands_in_its_channel(
    fixture: str, slack: LocalSlack, clock: FakeClock, snapshot: SnapshotAssertion
) -> None:
    # Given a realistic event and the local Slack
    event = load(fixture)
    # When the handler runs
    result = invoke(event, sender_for(slack, clock))
    # Then each record was posted once to the expected channel, with a valid message
    assert [r["channel"] for r in result["results"]] == EXPECTED_CHANNELS[fixture]
    received = slack.all_messages()
    assert sum(len(v) for v in received.values()) == len(EXPECTED_CHANNELS[fixture])
    for channel in set(EXPECTED_CHANNELS[fixture]):
        assert len(received[channel]) == EXPECTED_CHANNELS[fixture].count(channel)
    payloads = [p for channel in sorted(received) for p in received[channel]]
    for payload in payloads:
        assert slack_problems(payload) == []
    assert payloads == snapshot(extension_class=JSONSnapshotExtension)


def test_no_record_goes_to_critical_when_it_is_unparsed(slack: LocalSlack, clock: FakeClock) -> None:
    # Given JSON the router does not know, however loudly it says CRITICAL
    event = load("sns_plain_text.json")
    event["Records"][0]["Sns"]["Message"] = json.dumps({"Severity": "CRITICAL", "Source ID": "db-1", "detail": "x"})
    invoke(event, sender_for(slack, clock))
    assert slack.messages("alerts-critical") == []
    assert len(slack.messages("alerts-errors")) == 1


def insufficient_data_to_ok(configuration_updated: str | None, message_id: str = "m-id-ok") -> dict[str, Any]:
    """The OK recovery fixture (state change 2026-11-29T03:45:12Z) coming from INSUFFICIENT_DATA."""
    event = load("sns_ok_recovery.json")
    message = json.loads(event["Records"][0]["Sns"]["Message"])
    message["OldStateValue"] = "INSUFFICIENT_DATA"
    if configuration_updated is None:
        message.pop("AlarmConfigurationUpdatedTimestamp", None)
    else:
        message["AlarmConfigurationUpdatedTimestamp"] = configuration_updated
    event["Records"][0]["Sns"]["Message"] = json.dumps(message)
    event["Records"][0]["Sns"]["MessageId"] = message_id
    return event


@pytest.mark.parametrize(
    "configuration_updated",
    ["2026-11-29T03:35:00.000+0000", "2026-11-29T03:48:00.000+0000", None],
    ids=["10-min-after-a-deploy", "config-written-just-after", "config-time-unknown"],
)
def test_insufficient_data_to_ok_after_a_deploy_is_not_posted(
    configuration_updated: str | None, slack: LocalSlack, clock: FakeClock, json_logs: io.StringIO
) -> None:
    # Given INSUFFICIENT_DATA -> OK within 15 min of the alarm's (re)configuration, or with no configuration time
    result = invoke(insufficient_data_to_ok(configuration_updated), sender_for(slack, clock))
    # Then it is data arriving after a deploy: nothing is posted, and the decision is logged
    assert result["results"][0]["status"] == "suppressed"
    assert slack.all_messages() == {}
    logs = json_logs.getvalue()
    assert '"message":"INSUFFICIENT_DATA -> OK"' in logs
    assert '"announced":false' in logs


def test_insufficient_data_to_ok_long_after_the_configuration_is_data_back_once(
    slack: LocalSlack, clock: FakeClock, json_logs: io.StringIO
) -> None:
    # Given an alarm configured days ago going INSUFFICIENT_DATA (e.g. an RDS metric went missing) -> OK
    result = invoke(insufficient_data_to_ok("2026-11-20T08:00:03.381+0000"), sender_for(slack, clock))
    # Then one short "data is back" message, where the monitoring-blind notice was, and the decision is logged
    assert result["results"][0]["status"] == "delivered"
    [payload] = slack.messages("alerts-errors")
    assert payload["text"] == "✅ [production] DATA BACK · ecs-backend-cpu-high: now OK"
    assert slack.messages("alerts-performance") == []
    assert slack_problems(payload) == []
    logs = json_logs.getvalue()
    assert '"announced":true' in logs
    assert "long after the alarm's configuration update" in logs


def test_bot_mode_resolves_an_incident_through_insufficient_data(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given bot-token mode and an alarm going ALARM -> INSUFFICIENT_DATA -> OK, right after a deploy even
    with LocalSlackApi() as api:
        monkeypatch.delenv("SLACK_WEBHOOK_URLS")
        monkeypatch.setenv("SLACK_BOT_TOKEN", api.token)
        monkeypatch.setenv("SLACK_CHANNEL_IDS", api.channel_ids_json())
        monkeypatch.setenv("SLACK_API_BASE_URL", api.base_url)
        load_settings.cache_clear()
        store = InMemoryIncidentStore()
        client = WebApiClient(
            token=api.token, base_url=api.base_url, engine=DeliveryEngine(policy=FAST, sleep=lambda _: None)
        )
        results = []
        for old, new, minute in (
            ("OK", "ALARM", 0),
            ("ALARM", "INSUFFICIENT_DATA", 5),
            ("INSUFFICIENT_DATA", "OK", 10),
        ):
            event = insufficient_data_to_ok("2026-11-29T03:40:00.000+0000", message_id=f"m-{minute}")
            message = json.loads(event["Records"][0]["Sns"]["Message"])
            message.update(
                OldStateValue=old, NewStateValue=new, StateChangeTime=f"2026-11-29T03:{45 + minute}:12.000+0000"
            )
            event["Records"][0]["Sns"]["Message"] = json.dumps(message)
            result = handler.lambda_handler(
                event,
                LocalLambdaContext(function_name="alert-router", timeout_seconds=60),
                deduplicator=InMemoryDeduplicator(),
                slack_api=client,
                store=store,
            )
            results.append(result["results"][0].get("outcome"))
        # Then the lifecycle, not the router, decides: the blind spell is one notice in #alerts-errors, and
        # the OK resolves the incident in its thread and the notice in place
        assert results == ["opened", "monitoring-blind", "resolved"]
        incident = store.get_incident(
            "arn:aws:cloudwatch:ap-northeast-1:123456789012:alarm:peoplebooster-production-ecs-backend-cpu-high"
        )
        assert incident is not None
        assert not incident.open  # so the sweep does not re-announce it
        [post] = api.posts("C0PERF")
        assert [reply["text"][:24] for reply in api.replies("C0PERF", post["ts"])] == ["✅ Resolved after 10 min:"]
        [notice] = api.posts("C0ERRORS")
        assert notice["blocks"][0]["text"]["text"].startswith("✅ DATA BACK · ")
        assert incident.notice_ts is None  # cleared: nothing left for the sweep


def test_terminal_rendering_of_a_received_message(slack: LocalSlack, clock: FakeClock) -> None:
    invoke(load("sns_metric_alarm_ecs_cpu.json"), sender_for(slack, clock))
    [payload] = slack.messages("alerts-performance")
    text = render_terminal(payload)
    assert text.splitlines()[0] == "🟠 WARNING · ecs-backend-cpu-high · production · since 12:14 JST"
    assert "*CPUUtilization was 93.4%, above the 80% threshold, for 5 min*" in text
    assert (
        "[Runbook] <https://github.com/peoplebooster/monitoring/blob/main/docs/operations/runbooks/ecs-cpu-high.md>"
        in text
    )


# --- the fault matrix -----------------------------------------------------------------------------------------

CHANNEL = "alerts-performance"  # where the ECS CPU fixture goes


def deliver_cpu_alarm(slack: LocalSlack, clock: FakeClock, **kwargs: Any) -> dict[str, Any]:
    return invoke(load("sns_metric_alarm_ecs_cpu.json"), sender_for(slack, clock, **kwargs))


def test_a_refused_message_is_delivered_as_plain_text_and_says_so(slack: LocalSlack, clock: FakeClock) -> None:
    slack.fail(CHANNEL, status=400, body="invalid_blocks", times=1)
    result = deliver_cpu_alarm(slack, clock)
    assert result["results"][0]["plain_text_fallback"] is True
    [payload] = slack.messages(CHANNEL)
    assert set(payload) == {"text"}
    assert payload["text"].startswith("🟠 [production] WARNING · ecs-backend-cpu-high: CPUUtilization was 93.4%")


def test_posts_to_one_webhook_are_spaced(slack: LocalSlack, clock: FakeClock) -> None:
    # Given three alarms of three services (three faults, three messages) for the same channel in one batch
    event = load("sns_metric_alarm_ecs_cpu.json")
    records = [json.loads(json.dumps(event["Records"][0])) for _ in range(3)]
    for index, record in enumerate(records):
        record["Sns"]["MessageId"] = f"spaced-{index}"
        record["Sns"]["Message"] = record["Sns"]["Message"].replace("-backend", f"-service{index}")
    # When delivered
    invoke({"Records": records}, sender_for(slack, clock, policy=SPACED))
    # Then the second and third waited for the 1 s spacing
    assert clock.sleeps == [1.0, 1.0]
    assert len(slack.messages(CHANNEL)) == 3


def test_a_retry_waits_for_the_spacing_too(slack: LocalSlack, clock: FakeClock) -> None:
    # A retry is a post like any other for Slack's rate limit
    slack.fail(CHANNEL, status=500, body="internal_error", times=1)
    deliver_cpu_alarm(slack, clock, policy=SPACED)
    assert clock.sleeps == [1.0]


def test_one_failing_record_does_not_lose_the_others(slack: LocalSlack, clock: FakeClock) -> None:
    # Given a batch where the errors channel is broken
    slack.fail("alerts-errors", status=410, body="channel_is_archived", times=1)
    # When the batch is handled
    with pytest.raises(DeliveryError, match="1 of 3 records not delivered"):
        invoke(load("sns_batch_with_bad_record.json"), sender_for(slack, clock))
    # Then the other records were still delivered
    assert len(slack.messages("alerts-performance")) == 1
    assert len(slack.messages("alerts-errors")) == 1


def test_a_retry_of_a_partly_failed_batch_posts_only_what_is_missing(slack: LocalSlack, clock: FakeClock) -> None:
    deduplicator = InMemoryDeduplicator()
    slack.fail("alerts-errors", status=410, body="channel_is_archived", times=1)
    with pytest.raises(DeliveryError):
        invoke(load("sns_batch_with_bad_record.json"), sender_for(slack, clock), deduplicator)
    # When Lambda retries the same event
    result = invoke(load("sns_batch_with_bad_record.json"), sender_for(slack, clock), deduplicator)
    # Then the records delivered the first time are skipped, and the failed one is posted now (the warning
    # went to the errors channel before the info, so it was the one that failed)
    assert [r["status"] for r in result["results"]] == ["duplicate", "duplicate", "delivered"]
    assert len(slack.messages("alerts-performance")) == 1
    assert len(slack.messages("alerts-errors")) == 2


# --- idempotency -------------------------------------------------------------------------------------------------


def test_duplicate_message_id_posts_once(slack: LocalSlack, clock: FakeClock) -> None:
    deduplicator = InMemoryDeduplicator()
    event = load("sns_metric_alarm_ecs_cpu.json")
    first = invoke(event, sender_for(slack, clock), deduplicator)
    second = invoke(event, sender_for(slack, clock), deduplicator)
    assert first["results"][0]["status"] == "delivered"
    assert second["results"][0]["status"] == "duplicate"
    assert len(slack.messages(CHANNEL)) == 1


def test_default_path_uses_env_webhooks_and_in_memory_idempotency(slack: LocalSlack) -> None:
    # Given only SLACK_WEBHOOK_URLS (no injected adapters)
    reset_process_adapters()
    event = load("sns_composite_alarm.json")
    context = LocalLambdaContext(function_name="alert-router")
    # When the same message arrives twice
    handler.lambda_handler(event, context)
    handler.lambda_handler(event, context)
    # Then it is posted once, to the critical channel
    assert len(slack.messages("alerts-critical")) == 1


def test_dry_run_prints_the_payload_without_webhooks(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SLACK_WEBHOOK_URLS")
    load_settings.cache_clear()
    reset_process_adapters()
    result = handler.lambda_handler(load("sns_plain_text.json"), LocalLambdaContext())
    assert result["results"][0]["status"] == "dry-run"
    assert '"channel": "alerts-errors"' in capfd.readouterr().out


# --- logs and metrics ------------------------------------------------------------------------------------------


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    """The router's JSON log lines, exactly as Lambda would ship them (Powertools formatter)."""
    stream = io.StringIO()
    extra = logging.StreamHandler(stream)
    extra.setFormatter(telemetry.logger.registered_formatter)
    router_logger = logging.getLogger(telemetry.logger.name)  # the stdlib logger behind Powertools' Logger
    router_logger.addHandler(extra)
    yield stream
    router_logger.removeHandler(extra)


def test_logs_never_contain_a_webhook_url(
    slack: LocalSlack, clock: FakeClock, capfd: pytest.CaptureFixture[str], json_logs: io.StringIO
) -> None:
    # Given failures of every kind on every channel, some echoing the URL back
    for channel in slack.channels:
        slack.fail(channel, status=500, body=f"oops {slack.url(channel)}", times=2)
        slack.fail(channel, status=403, body="invalid_token", times=1)
    # When a batch fails to deliver
    with pytest.raises(DeliveryError) as raised:
        invoke(load("sns_batch_with_bad_record.json"), sender_for(slack, clock))
    # Then neither the logs, the output nor the exception show a webhook URL
    captured = capfd.readouterr()
    logs = json_logs.getvalue()
    assert "delivery failed" in logs
    assert "invalid_token" in logs
    for text in (logs, captured.out, captured.err, str(raised.value)):
        assert slack.base_url not in text
        assert "127.0.0.1" not in text
    assert '"correlation_id":"7ef24e0c-49f8-57da-fbca-d1e2f3041520"' in logs


def test_unrecognised_input_is_logged_whole_and_scrubbed(
    slack: LocalSlack, clock: FakeClock, json_logs: io.StringIO
) -> None:
    # Given an unrecognised message longer than anything Slack shows, with a webhook URL inside
    text = "RDS event: " + "あ" * 30_000 + " https://hooks.slack.com/services/T000/B000/XXXXSECRET end-of-text"
    event = {"Records": [{"Sns": {"MessageId": "m-long", "Message": text}}]}
    # When it is routed
    invoke(event, sender_for(slack, clock))
    # Then Slack got a truncated copy, and the log has all of it (length too), minus the secret
    [payload] = slack.messages("alerts-errors")
    assert "end-of-text" not in json.dumps(payload, ensure_ascii=False)
    [routed] = [json.loads(line) for line in json_logs.getvalue().splitlines() if '"message":"routed"' in line]
    assert routed["raw_length"] == len(text)
    assert routed["raw_text"].startswith("RDS event: ")
    assert routed["raw_text"].endswith("end-of-text")
    assert "XXXXSECRET" not in routed["raw_text"]


def test_a_rendering_bug_posts_the_alert_as_received_and_counts_it(
    slack: LocalSlack,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    json_logs: io.StringIO,
) -> None:
    # Given a renderer that raises (a bug, like format_number on inf was)
    def broken(*_: object) -> dict[str, Any]:
        raise OverflowError("cannot convert float infinity to integer")

    monkeypatch.setattr(handler, "render", broken)
    # When an alarm arrives
    result = invoke(load("sns_metric_alarm_ecs_cpu.json"), sender_for(slack, clock))
    # Then it is still delivered, with its name, description and reason, and the failure is counted
    assert result["results"][0]["status"] == "delivered"
    [payload] = slack.messages("alerts-performance")
    assert slack_problems(payload) == []
    text = json.dumps(payload, ensure_ascii=False)
    assert "peoplebooster-production-ecs-backend-cpu-high" in text
    assert "ECS backend (peoplebooster-production-backend) CPU above 80% for 5 min." in text
    assert "Threshold Crossed" in text
    assert emf_points(capfd.readouterr().out, "RenderFailures") == [1.0]
    assert "rendering failed" in json_logs.getvalue()


def test_a_parser_failure_is_logged_counted_and_routed_by_the_severity_line(
    slack: LocalSlack,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    json_logs: io.StringIO,
) -> None:
    # Given a parser that raises on a critical alarm (a bug nobody foresaw)
    def broken(*_: object, **__: object) -> Any:
        raise KeyError("Trigger")

    monkeypatch.setattr(intake_events, "parse_cloudwatch_alarm", broken)
    # When the alarm arrives
    result = invoke(load("sns_composite_alarm.json"), sender_for(slack, clock))
    # Then it still pages: routed by its description's "Severity: critical", shown as received, named
    assert result["results"][0]["channel"] == "alerts-critical"
    [payload] = slack.messages("alerts-critical")
    header = payload["blocks"][0]["text"]["text"]
    assert header == "🔴 CRITICAL · checkout-degraded · production"
    assert "failed to read this notification (KeyError)" in json.dumps(payload, ensure_ascii=False)
    assert slack_problems(payload) == []
    # And the failure is logged with its type and where it happened, and counted (the alarm watches it)
    [line] = [json.loads(line) for line in json_logs.getvalue().splitlines() if "parser failed" in line]
    assert (line["level"], line["error_type"]) == ("ERROR", "KeyError")
    assert "in broken" in line["error"]
    assert emf_points(capfd.readouterr().out, "ParseFailures") == [1.0]


def test_a_lone_surrogate_is_delivered_not_dead_lettered(slack: LocalSlack, clock: FakeClock) -> None:
    # Given a message holding a lone surrogate (invalid UTF-8 that json.loads happily returns)
    event = {"Records": [{"Sns": {"MessageId": "m-sur", "Message": "bad \udcff\ud800 text 日本語"}}]}
    # When it is delivered over real HTTP
    result = invoke(event, sender_for(slack, clock))
    # Then Slack got it at the first attempt, the rest of the text intact
    assert (result["results"][0]["status"], result["results"][0]["attempts"]) == ("delivered", 1)
    [payload] = slack.messages("alerts-errors")
    assert "text 日本語" in json.dumps(payload, ensure_ascii=False)


def test_an_inf_datapoint_in_the_reason_is_delivered(slack: LocalSlack, clock: FakeClock) -> None:
    event = load("sns_metric_alarm_ecs_cpu.json")
    message = json.loads(event["Records"][0]["Sns"]["Message"])
    message["NewStateReason"] = "Threshold Crossed: 1 datapoint [1e400 (29/11/26 03:09:00)] was greater than 80"
    event["Records"][0]["Sns"]["Message"] = json.dumps(message)
    assert invoke(event, sender_for(slack, clock))["results"][0]["status"] == "delivered"
    assert "1e400" in json.dumps(slack.messages("alerts-performance"))


def test_emf_metrics_have_the_documented_names_and_dimensions(
    slack: LocalSlack, clock: FakeClock, capfd: pytest.CaptureFixture[str]
) -> None:
    invoke(load("sns_batch_with_bad_record.json"), sender_for(slack, clock))
    out = capfd.readouterr().out
    blobs = emf_blobs(out)
    series = emf_series(out)
    counts = ("PeopleBooster/AlertRouter", (("environment", "production"), ("service", "alert-router")))
    assert series["Received"] == series["Unparsed"] == {counts}
    assert {tuple(name for name, _ in dims) for _, dims in series["Delivered"]} == {
        ("channel", "environment", "service", "severity")
    }
    delivered = [b for b in blobs if "Delivered" in b]
    assert sorted((b["channel"], b["severity"]) for b in delivered) == [
        ("alerts-errors", "info"),
        ("alerts-errors", "warning"),
        ("alerts-performance", "warning"),
    ]


# --- property: arbitrary SNS messages never make the handler raise ------------------------------------------

_KEYS = [
    "AlarmName", "AlarmDescription", "NewStateValue", "OldStateValue", "NewStateReason", "StateChangeTime",
    "AlarmArn", "Region", "AWSAccountId", "Trigger", "AlarmRule", "TriggeringChildren", "MetricName",
    "Namespace", "Dimensions", "Metrics", "Threshold", "ThresholdMetricId", "Period", "EvaluationPeriods",
    "ExtendedStatistic", "Statistic", "ComparisonOperator", "detail-type", "detail", "Id", "MetricStat",
]  # fmt: skip
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(
        ["ALARM", "OK", "INSUFFICIENT_DATA", "2026-11-29T03:14:15.926+0000", "arn:aws:cloudwatch:x:1:alarm:a"]
    ),
    st.text(max_size=40),
)
# any code point, with lone surrogates (category Cs: invalid UTF-8 a Python str can hold) in most examples;
# st.text() would draw them about once in 150 examples
_ANY_TEXT = st.lists(st.characters(categories=["Cs"]) | st.characters(), max_size=200).map("".join)
_JSON = st.recursive(
    _SCALARS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(_KEYS) | st.text(max_size=8), children, max_size=6)
    ),
    max_leaves=25,
)


class AcceptingSender:
    """Accepts any valid message; a message breaking Slack's rules is a failed test, not a delivery."""

    def send(self, channel: str, payload: dict[str, Any]) -> DeliveryReport:
        assert slack_problems(payload, placeholders=False) == [], payload
        encode_payload(payload)  # what goes on the wire: must never raise (a lone surrogate did)
        assert channel in ("alerts-critical", "alerts-errors", "alerts-performance")
        return DeliveryReport(channel=channel, attempts=())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    message=st.one_of(_JSON.map(json.dumps), _ANY_TEXT, _JSON.map(lambda v: json.dumps(v, ensure_ascii=False))),
    subject=st.one_of(st.none(), _ANY_TEXT),
    message_id=st.one_of(st.none(), st.uuids().map(str)),
)
def test_arbitrary_sns_messages_never_raise(message: str, subject: str | None, message_id: str | None) -> None:
    event = {
        "Records": [
            {"EventSource": "aws:sns", "Sns": {"MessageId": message_id, "Subject": subject, "Message": message}}
        ]
    }
    result = invoke(event, AcceptingSender())
    assert len(result["results"]) == 1
