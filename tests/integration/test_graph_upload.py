"""The alarm's graph in the incident thread (bot-token mode), against the local Slack Web API.

The upload is Slack's external upload (files.getUploadURLExternal -> the bytes POSTed to the upload URL ->
files.completeUploadExternal into the thread), through the router's own transport. The image comes from
CloudWatch's GetMetricWidgetImage, which moto does not implement: a botocore Stubber stands in for that
one call (its request is still validated against the API's model), everything else is real.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from pytest_httpserver import HTTPServer

from lambdas.alert_router import handler
from lambdas.alert_router.delivery.engine import DeliveryEngine, DeliveryError
from lambdas.alert_router.delivery.policy import RetryPolicy
from lambdas.alert_router.delivery.web_api import WebApiClient
from lambdas.alert_router.enrichment import defaults as enrichment_defaults
from lambdas.alert_router.enrichment.graph import GraphPoster, metric_widget
from lambdas.alert_router.incidents.store import InMemoryIncidentStore
from lambdas.alert_router.intake.events import parse_event
from lambdas.alert_router.models import Alert
from lambdas.alert_router.settings import load_settings
from lambdas.shared.local_context import LocalLambdaContext
from tools.local_slack import LocalSlackApi

EVENTS = Path(__file__).resolve().parents[2] / "events" / "alert_router"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64  # what GetMetricWidgetImage answers: the image's bytes
FAST = RetryPolicy(base_delay=0.05, max_delay=0.2, attempt_timeout=1.0, min_interval=0.0, reserve=0.1)
NOW = datetime(2026, 11, 29, 3, 20, tzinfo=UTC)


def alert_of(name: str) -> Alert:
    [alert] = parse_event(json.loads((EVENTS / name).read_text(encoding="utf-8")))
    return alert


@pytest.fixture
def api() -> Iterator[LocalSlackApi]:
    with LocalSlackApi() as server:
        yield server


def client_for(api: LocalSlackApi) -> WebApiClient:
    return WebApiClient(token=api.token, base_url=api.base_url, engine=DeliveryEngine(policy=FAST))


def stubbed_cloudwatch(*answers: dict[str, Any] | Exception) -> tuple[Any, Stubber]:
    """A CloudWatch client whose GetMetricWidgetImage answers `answers` in order (moto has no such API)."""
    client = boto3.client("cloudwatch", region_name="ap-northeast-1", aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(client)
    for answer in answers:
        if isinstance(answer, Exception):
            stubber.add_client_error(
                "get_metric_widget_image", service_error_code="InternalFailure", http_status_code=500
            )
        else:
            stubber.add_response("get_metric_widget_image", answer)
    stubber.activate()
    return client, stubber


class Counts:
    def __init__(self) -> None:
        self.counted: list[str] = []

    def __call__(self, name: str, value: int) -> None:
        self.counted += [name] * value


def poster(
    api: LocalSlackApi, cloudwatch: Any, counts: Counts, budget: float = 5.0, invocation_left: float = 60.0
) -> GraphPoster:
    def uploader_for(time_left: Callable[[], float]) -> WebApiClient:
        engine = DeliveryEngine(policy=FAST, remaining_seconds=lambda: time_left() + FAST.reserve)
        return WebApiClient(token=api.token, base_url=api.base_url, engine=engine)

    return GraphPoster(
        uploader_for=uploader_for,
        poster=client_for(api),
        cloudwatch=lambda: cloudwatch,
        count=counts,
        logger=logging.getLogger("graph-test"),
        budget_seconds=budget,
        now=lambda: NOW,
        remaining_seconds=lambda: invocation_left,
    )


def thread_of(api: LocalSlackApi, channel: str = "C0CRITICAL") -> str:
    report = client_for(api).post_message(channel, {"text": "🔴 an incident"})
    assert report.ts is not None
    return report.ts


# --- the upload itself --------------------------------------------------------------------------------------------


def test_a_file_goes_into_the_thread_by_the_external_upload(api: LocalSlackApi) -> None:
    # Given an incident's message
    ts = thread_of(api)
    # When a file is uploaded into its thread
    client_for(api).upload_file(
        "C0CRITICAL", thread_ts=ts, filename="graph.png", content=PNG, title="the graph", alt_text="a graph"
    )
    # Then Slack's three steps were taken (no files.upload), and the bytes are in the thread
    assert api.calls() == ["chat.postMessage", "files.getUploadURLExternal", "files.completeUploadExternal"]
    [shared] = api.files("C0CRITICAL")
    assert (shared["title"], shared["filename"], shared["bytes"], shared["thread_ts"]) == (
        "the graph", "graph.png", PNG, ts
    )  # fmt: skip
    assert [reply["files"][0]["title"] for reply in api.replies("C0CRITICAL", ts)] == ["the graph"]


def test_a_refused_completion_is_a_delivery_error(api: LocalSlackApi) -> None:
    ts = thread_of(api)
    api.fail("files.completeUploadExternal", error="not_in_channel")
    with pytest.raises(DeliveryError, match="not_in_channel"):
        client_for(api).upload_file("C0CRITICAL", thread_ts=ts, filename="g.png", content=PNG, title="t", alt_text="a")
    assert api.files("C0CRITICAL") == []


@pytest.mark.parametrize(
    "upload_url",
    ["https://files.example.com/upload/v1/F1", "http://127.0.0.1:9/upload/F1", "https://files.slack.com.evil.io/x"],
)
def test_the_bytes_go_only_to_slacks_file_host_or_the_apis_own_loopback(
    httpserver: HTTPServer, upload_url: str
) -> None:
    # Given a Web API (on loopback) whose getUploadURLExternal answers an upload URL elsewhere
    httpserver.expect_request("/api/files.getUploadURLExternal").respond_with_json(
        {"ok": True, "upload_url": upload_url, "file_id": "F1"}
    )
    client = WebApiClient(token="xoxb-test", base_url=httpserver.url_for("/api/"), engine=DeliveryEngine(policy=FAST))
    # When a file is uploaded, then nothing is sent there: the upload is refused
    with pytest.raises(DeliveryError, match="refused to upload"):
        client.upload_file("C1", thread_ts="1.1", filename="g.png", content=PNG, title="t", alt_text="a")
    assert [request.path for request, _ in httpserver.log] == ["/api/files.getUploadURLExternal"]


def test_the_upload_url_is_asked_form_encoded_with_the_files_length(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/files.getUploadURLExternal").respond_with_json({"ok": True})
    client = WebApiClient(token="xoxb-test", base_url=httpserver.url_for("/api/"), engine=DeliveryEngine(policy=FAST))
    with pytest.raises(DeliveryError, match="no upload_url"):
        client.upload_file("C1", thread_ts="1.1", filename="g.png", content=PNG, title="t", alt_text="a graph")
    [(request, _)] = httpserver.log
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert request.headers["Authorization"] == "Bearer xoxb-test"
    assert dict(request.form) == {"filename": "g.png", "length": str(len(PNG)), "alt_txt": "a graph"}


# --- the graph ----------------------------------------------------------------------------------------------------


def test_the_graph_is_drawn_by_cloudwatch_and_posted_in_the_thread(api: LocalSlackApi) -> None:
    # Given the 5xx alarm firing and its incident's thread
    alert = alert_of("sns_alb_target_5xx.json")
    widget = metric_widget(alert, now=NOW)
    assert widget is not None
    cloudwatch, stubber = stubbed_cloudwatch({"MetricWidgetImage": PNG})
    ts, counts = thread_of(api), Counts()
    # When the graph is attached
    assert poster(api, cloudwatch, counts).attach(alert, "C0CRITICAL", ts) is True
    # Then the thread has the image, and it was counted
    [shared] = api.files("C0CRITICAL")
    assert (shared["bytes"], shared["thread_ts"]) == (PNG, ts)
    assert shared["title"] == "peoplebooster-production-alb-backend-target-5xx: the hour before ALARM"
    assert counts.counted == ["GraphsAttached"]
    stubber.assert_no_pending_responses()


def test_the_widget_draws_the_alarms_metric_threshold_and_moment() -> None:
    alert = alert_of("sns_alb_target_5xx.json")
    widget = metric_widget(alert, now=NOW)
    assert widget is not None
    # The metric as the alarm watches it (SNS's SUM is the widget's Sum), per its period
    assert widget["metrics"] == [
        ["AWS/ApplicationELB", "HTTPCode_Target_5XX_Count",
         "LoadBalancer", "app/peoplebooster-production-alb/9e8d7c6b5a4f3e2d",
         "TargetGroup", "targetgroup/pb-production-backend/2b3c4d5e6f7a8b9c", {"stat": "Sum"}]
    ]  # fmt: skip
    assert (widget["period"], widget["region"]) == (300, "ap-northeast-1")
    assert widget["annotations"]["horizontal"] == [{"value": 10.0, "label": "threshold"}]
    assert widget["annotations"]["vertical"] == [{"value": "2026-11-29T03:15:01Z", "label": "ALARM"}]
    # The hour before the change, and no more than now after it
    assert (widget["start"], widget["end"]) == ("2026-11-29T02:15:01Z", "2026-11-29T03:20:00Z")


def test_a_metric_math_alarm_is_drawn_as_its_expression() -> None:
    widget = metric_widget(alert_of("sns_metric_math_alarm.json"), now=NOW)
    assert widget is not None
    rows = widget["metrics"]
    assert rows[0] == [{"expression": "100 * errors / requests", "id": "rate", "label": "5xx rate (%)"}]
    assert [row[-1]["id"] for row in rows[1:]] == ["errors", "requests"]
    assert all(row[-1]["visible"] is False for row in rows[1:])  # only the rate is drawn


def test_when_cloudwatch_fails_the_thread_gets_the_console_link(
    api: LocalSlackApi, caplog: pytest.LogCaptureFixture
) -> None:
    cloudwatch, _ = stubbed_cloudwatch(RuntimeError())
    ts, counts = thread_of(api), Counts()
    with caplog.at_level(logging.WARNING, logger="graph-test"):
        assert poster(api, cloudwatch, counts).attach(alert_of("sns_alb_target_5xx.json"), "C0CRITICAL", ts) is False
    # Then no file, a link to the alarm (whose page shows the graph), counted and logged with the error's type
    assert api.files("C0CRITICAL") == []
    [reply] = api.replies("C0CRITICAL", ts)
    assert "#alarmsV2:alarm/peoplebooster-production-alb-backend-target-5xx|" in reply["blocks"][0]["text"]["text"]
    assert counts.counted == ["GraphFailures"]
    [record] = [r for r in caplog.records if r.getMessage().startswith("graph not attached")]
    assert record.__dict__["error_type"] == "ClientError"


def test_when_slack_refuses_the_file_the_thread_gets_the_console_link(api: LocalSlackApi) -> None:
    cloudwatch, _ = stubbed_cloudwatch({"MetricWidgetImage": PNG})
    ts, counts = thread_of(api), Counts()
    api.fail("files.getUploadURLExternal", error="file_uploads_disabled")
    assert poster(api, cloudwatch, counts).attach(alert_of("sns_alb_target_5xx.json"), "C0CRITICAL", ts) is False
    assert len(api.replies("C0CRITICAL", ts)) == 1
    assert counts.counted == ["GraphFailures"]


def test_a_slow_cloudwatch_costs_the_graph_budget_and_no_more(api: LocalSlackApi) -> None:
    # Given CloudWatch answering after 3 s (the stub sleeps in botocore's before-call hook)
    cloudwatch, _ = stubbed_cloudwatch({"MetricWidgetImage": PNG})
    cloudwatch.meta.events.register("before-call.cloudwatch.GetMetricWidgetImage", lambda **_: time.sleep(3))
    ts, counts = thread_of(api), Counts()
    # When the graph has a 0.5 s budget
    started = time.monotonic()
    attached = poster(api, cloudwatch, counts, budget=0.5).attach(alert_of("sns_alb_target_5xx.json"), "C0CRITICAL", ts)
    # Then it gives up at the budget and posts the link
    assert attached is False
    assert time.monotonic() - started < 1.5
    assert counts.counted == ["GraphFailures"]
    assert len(api.replies("C0CRITICAL", ts)) == 1


def test_the_graph_waits_no_longer_than_the_invocation_has(api: LocalSlackApi) -> None:
    # Given CloudWatch answering after 3 s, a 5 s graph budget, and an invocation with 3.5 s left
    cloudwatch, _ = stubbed_cloudwatch({"MetricWidgetImage": PNG})
    cloudwatch.meta.events.register("before-call.cloudwatch.GetMetricWidgetImage", lambda **_: time.sleep(3))
    ts, counts = thread_of(api), Counts()
    started = time.monotonic()
    graphs = poster(api, cloudwatch, counts, budget=5.0, invocation_left=3.5)
    attached = graphs.attach(alert_of("sns_alb_target_5xx.json"), "C0CRITICAL", ts)
    # Then it gives up when the invocation's reserve begins (0.5 s), not at the budget, and posts the link
    assert attached is False
    assert time.monotonic() - started < 1.5
    assert counts.counted == ["GraphFailures"]
    assert len(api.replies("C0CRITICAL", ts)) == 1


class UnreadableStore:
    def get_incident(self, key: str) -> None:
        raise ConnectionError("DynamoDB unreachable")


class LifecycleWithUnreadableStore:
    store = UnreadableStore()


def test_an_unreadable_incident_store_skips_the_graph_and_keeps_the_alert(
    api: LocalSlackApi, caplog: pytest.LogCaptureFixture
) -> None:
    # Given an incident just opened (its message is out) and a store that cannot be read back
    cloudwatch, stubber = stubbed_cloudwatch()
    counts = Counts()
    graphs = poster(api, cloudwatch, counts)
    # When the graph is attached: it does not raise (a raise would fail, and so re-post, the delivered alert)
    with caplog.at_level(logging.WARNING, logger="graph-test"):
        graphs.attach_opened(LifecycleWithUnreadableStore(), alert_of("sns_alb_target_5xx.json"), {"outcome": "opened"})
    # Then it is counted and logged with the error's type, and CloudWatch was not asked
    assert counts.counted == ["GraphFailures"]
    [record] = [r for r in caplog.records if r.getMessage().startswith("graph skipped")]
    assert record.__dict__["error_type"] == "ConnectionError"
    stubber.assert_no_pending_responses()


# --- through the handler, bot-token mode -------------------------------------------------------------------------


def test_a_new_incident_gets_its_graph_and_a_reply_does_not(
    api: LocalSlackApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the router in bot-token mode with graphs on (the stack writes GRAPH_REGION)
    for name, value in {
        "SLACK_BOT_TOKEN": api.token,
        "SLACK_CHANNEL_IDS": api.channel_ids_json(),
        "SLACK_API_BASE_URL": api.base_url,
        "GRAPH_REGION": "ap-northeast-1",
        "ENVIRONMENT": "production",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("SLACK_WEBHOOK_URLS", raising=False)
    load_settings.cache_clear()
    cloudwatch, stubber = stubbed_cloudwatch({"MetricWidgetImage": PNG})
    monkeypatch.setattr(enrichment_defaults, "sdk_client", lambda *_: cloudwatch)
    event = json.loads((EVENTS / "sns_alb_target_5xx.json").read_text(encoding="utf-8"))
    context = LocalLambdaContext(function_name="alert-router", timeout_seconds=60)
    store = InMemoryIncidentStore()
    try:
        # When the alarm fires, and fires again (a new notification of the same incident)
        handler.lambda_handler(event, context, store=store)
        event["Records"][0]["Sns"]["MessageId"] += "-again"
        handler.lambda_handler(event, context, store=store)
    finally:
        load_settings.cache_clear()
    # Then the incident's thread has one graph: the first message got it, the repeat did not fetch another
    [post] = api.posts("C0CRITICAL")
    [shared] = api.files("C0CRITICAL")
    assert shared["thread_ts"] == post["ts"]
    stubber.assert_no_pending_responses()
