"""The cause in the message (issue 13): the monitor keeps its results, the router words them; 5xx alarms carry
the error log's top errors; every source may fail or be slow without delaying or losing the alert.

DynamoDB through moto, with the table laid out as the stack deploys it (tests/aws_tables.py). Logs Insights
through moto where it implements it (StartQuery, GetQueryResults; it does not run `stats` and has no
StopQuery): a botocore Stubber plays a query that stays Running, and one that answers stats rows as the
API reference shows them.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import boto3
import pytest
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.stub import Stubber

from lambdas.alert_router import handler as router
from lambdas.alert_router.enrichment import defaults as enrichment_defaults
from lambdas.alert_router.enrichment.enrich import Enricher
from lambdas.alert_router.enrichment.model import ErrorCount
from lambdas.alert_router.enrichment.settings import EnrichmentSettings
from lambdas.alert_router.enrichment.synthetic import synthetic_cause
from lambdas.alert_router.enrichment.top_errors import QUERY, parse_rows, query_window, top_errors
from lambdas.alert_router.intake.events import parse_event
from lambdas.alert_router.models import Alert
from lambdas.alert_router.rendering.alarm import TIMES
from lambdas.alert_router.settings import load_settings
from lambdas.shared import synthetic_results
from lambdas.shared.local_context import LocalLambdaContext
from lambdas.shared.synthetic_results import CheckRecord, DynamoDBResults
from lambdas.synthetic_monitor import handler as monitor
from lambdas.synthetic_monitor.settings import load_settings as load_monitor_settings
from tests.aws_tables import FAKE_CREDENTIALS, REGION, RESULTS_TABLE, create_table
from tests.emf import emf_values
from tools.health_service import HealthService
from tools.local_slack import LocalSlack

EVENTS = Path(__file__).resolve().parents[2] / "events" / "alert_router"
TABLE = "results"
NOW = 1_764_386_055.0  # 2026-11-29T03:14:15Z, the alarm's state change


def alert_of(name: str, **changes: str) -> Alert:
    text = (EVENTS / name).read_text(encoding="utf-8")
    for old, new in changes.items():
        text = text.replace(old, new)
    [alert] = parse_event(json.loads(text))
    return alert


class Counts:
    def __init__(self) -> None:
        self.counted: list[str] = []

    def __call__(self, name: str, value: int) -> None:
        self.counted += [name] * value


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    from moto import mock_aws

    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        create_table(client, TABLE, RESULTS_TABLE)
        yield client


def enricher(results: Any, counts: Counts, **settings: Any) -> Enricher:
    return Enricher(
        settings=EnrichmentSettings(**settings),
        results=results,
        count=counts,
        logger=logging.getLogger("enrichment-test"),
        now=lambda: NOW,
    )


def record(check: str, *, up: bool, reason: str | None, at: float = NOW - 30, **more: Any) -> CheckRecord:
    return CheckRecord(
        check=check,
        at=at,
        url=f"https://api.peoplebooster.example.com/health{'' if check == 'health' else '/' + check}",
        ok=up,
        up=up,
        status_code=more.pop("status", 200 if up else 503),
        latency_ms=more.pop("latency", 12.0),
        complete=more.pop("complete", True),
        reason=reason,
        **more,
    )


# --- the monitor keeps its results, the router reads them --------------------------------------------------------


def test_the_monitors_own_reason_reaches_the_ready_alarms_message(
    aws: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the service with its database unhealthy, and the monitor writing into the results table
    with HealthService() as service, LocalSlack() as slack:
        service.set_faults(database="unhealthy")
        for name, value in {"HEALTH_BASE_URL": service.url, "RESULTS_TABLE_NAME": TABLE, "ENVIRONMENT": "production",
                            "RUN_DEADLINE_MS": "2000"}.items():  # fmt: skip
            monkeypatch.setenv(name, value)
        load_monitor_settings.cache_clear()
        monitor.lambda_handler({"source": "aws.events"}, cast(LambdaContext, LocalLambdaContext(timeout_seconds=30)))
        # When the readiness alarm fires and the router (reading the same table) posts it
        monkeypatch.setenv("SYNTHETIC_RESULTS_TABLE_NAME", TABLE)
        monkeypatch.setenv("SLACK_WEBHOOK_URLS", slack.webhook_urls())
        load_settings.cache_clear()
        event = json.loads((EVENTS / "sns_synthetic_live_check_failing.json").read_text().replace("live", "ready"))
        try:
            router.lambda_handler(event, LocalLambdaContext(function_name="alert-router", timeout_seconds=60))
        finally:
            load_settings.cache_clear()
            load_monitor_settings.cache_clear()
        [message] = slack.messages("alerts-critical")
    # Then the message says what broke: the 503 of /health/ready, and the database /health reports unhealthy
    cause = message["blocks"][1]["text"]["text"].splitlines()[0]
    assert cause.startswith("*GET /health/ready → 503 in ")
    assert 'checks.database.status is "unhealthy"' in cause
    assert "database" in message["text"]


def test_a_dependency_alarm_names_the_check_that_reports_it() -> None:
    records = [record("health", up=False, reason='status 503; checks.redis.status is "down"',
                      dependencies={"database": True, "redis": False})]  # fmt: skip
    cause = synthetic_cause(("dependency", "redis"), records, now=NOW)
    assert cause == '/health reports redis not healthy: GET /health → 503 in 12 ms: checks.redis.status is "down"'


def test_a_timeout_and_a_passing_again_are_said_as_such() -> None:
    timed_out = record("live", up=False, reason="timeout after 3000 ms", complete=False, status=None)
    assert synthetic_cause(("check", "live"), [timed_out], now=NOW) == "GET /health/live → timeout after 3000 ms"
    passing = record("live", up=True, reason=None)
    assert synthetic_cause(("check", "live"), [passing], now=NOW) == (
        "GET /health/live → 200 in 12 ms: passing again in the monitor's latest run"
    )


def test_an_old_result_is_not_told_as_the_cause() -> None:
    stale = record("ready", up=False, reason="status 503", at=NOW - 16 * 60)
    assert synthetic_cause(("check", "ready"), [stale], now=NOW) is None


def test_one_query_serves_every_alarm_of_the_invocation(aws: Any) -> None:
    # Given the monitor's records in the table
    DynamoDBResults(TABLE, aws).write([record("ready", up=False, reason="status 503")])
    reads: list[int] = []
    store = DynamoDBResults(TABLE, aws)
    latest = store.latest

    def counted() -> list[CheckRecord]:
        reads.append(1)
        return latest()

    store.latest = counted  # type: ignore[method-assign]
    counts = Counts()
    sources = enricher(store, counts)
    # When two synthetic alarms are enriched in one invocation
    live = alert_of("sns_synthetic_live_check_failing.json")
    ready = alert_of("sns_synthetic_live_check_failing.json", live="ready")
    assert sources.enrich(live).cause is None  # no result of the live check
    assert sources.enrich(ready).cause == "GET /health/ready → 503 in 12 ms"
    # Then the table was read once, and nothing failed
    assert (reads, counts.counted) == ([1], [])


def test_a_missing_table_adds_nothing_and_is_logged_and_counted_once(
    aws: Any, caplog: pytest.LogCaptureFixture
) -> None:
    counts = Counts()
    sources = enricher(DynamoDBResults("no-such-table", aws), counts)
    alert = alert_of("sns_synthetic_live_check_failing.json")
    with caplog.at_level(logging.WARNING, logger="enrichment-test"):
        assert sources.enrich(alert).cause is None
        assert sources.enrich(alert).cause is None  # a second alarm does not try again
    assert counts.counted == ["EnrichmentFailures"]
    [failure] = [r for r in caplog.records if r.getMessage().startswith("enrichment failed")]
    assert (failure.__dict__["enrichment"], failure.__dict__["error_type"]) == (
        "synthetic-results",
        "ResourceNotFoundException",
    )


def test_a_slow_source_costs_the_budget_and_no_more(caplog: pytest.LogCaptureFixture) -> None:
    class Slow:
        def latest(self) -> list[CheckRecord]:
            time.sleep(3)
            return []

        def write(self, records: Any) -> None:
            raise AssertionError("not written here")

    counts = Counts()
    sources = enricher(Slow(), counts, budget_seconds=0.3)
    started = time.monotonic()
    assert sources.enrich(alert_of("sns_synthetic_live_check_failing.json")).cause is None
    assert time.monotonic() - started < 1.0
    assert counts.counted == ["EnrichmentFailures"]


def test_the_invocations_remaining_time_bounds_the_budget() -> None:
    sources = enricher(synthetic_results.InMemoryResults(), Counts(), budget_seconds=2.0)
    sources.remaining_seconds = lambda: 3.5  # 0.5 s after the reserve kept for posting
    assert 0.3 < sources.time_left() <= 0.5


def test_the_monitors_failed_write_is_logged_counted_and_the_run_succeeds(
    aws: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    with HealthService() as service:
        for name, value in {"HEALTH_BASE_URL": service.url, "RESULTS_TABLE_NAME": "no-such-table",
                            "ENVIRONMENT": "production", "RUN_DEADLINE_MS": "2000"}.items():  # fmt: skip
            monkeypatch.setenv(name, value)
        load_monitor_settings.cache_clear()
        try:
            summary = monitor.lambda_handler(
                {"source": "aws.events"}, cast(LambdaContext, LocalLambdaContext(timeout_seconds=30))
            )
        finally:
            load_monitor_settings.cache_clear()
    output = capsys.readouterr().out
    assert summary["ok"] is True
    points = [p for p in emf_values(output) if p[0] == "ResultsWriteFailures"]
    assert points == [("ResultsWriteFailures", {"environment": "production"}, 1.0, "Count")]  # and 0 on success
    [line] = [r for r in caplog.records if r.getMessage() == "check results not kept for the alert router"]
    assert line.__dict__["error_type"] == "ResourceNotFoundException"


# --- the top errors of a 5xx alarm --------------------------------------------------------------------------------


def test_the_query_runs_on_the_error_log_group_over_the_minutes_before_the_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given moto's Logs (it runs StartQuery and GetQueryResults, not `stats`)
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    from moto import mock_aws

    with mock_aws():
        logs = boto3.client("logs", region_name=REGION)
        logs.create_log_group(logGroupName="/aws/ecs/production/error")
        window = query_window(datetime.fromtimestamp(NOW, UTC), 15)
        # When the query runs, then it completes within the time (no rows moto can count) and asks the API right
        assert top_errors(logs, "/aws/ecs/production/error", window, time_left=lambda: 2.0) == ()
        # And a log group that does not exist is the API's error, for the enricher to log and count
        with pytest.raises(logs.exceptions.ResourceNotFoundException):
            top_errors(logs, "/aws/ecs/production/missing", window, time_left=lambda: 2.0)
    assert window == (int(NOW) - 900, int(NOW) + 60)


def stubbed_logs() -> tuple[Any, Stubber]:
    client = boto3.client("logs", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    return client, Stubber(client)


def test_a_query_still_running_at_the_deadline_is_stopped() -> None:
    # Given a query that stays Running (moto completes every query at once, and has no StopQuery), and the
    # time running out after the second poll
    client, stubber = stubbed_logs()
    start = {"logGroupName": "g", "startTime": 0, "endTime": 60, "queryString": QUERY, "limit": 5}
    stubber.add_response("start_query", {"queryId": "q-1"}, start)
    stubber.add_response("get_query_results", {"status": "Running", "results": []}, {"queryId": "q-1"})
    stubber.add_response("get_query_results", {"status": "Running", "results": []}, {"queryId": "q-1"})
    stubber.add_response("stop_query", {"success": True}, {"queryId": "q-1"})
    left = iter([2.0, 2.0, 2.0, 2.0, 0.1, 0.1])
    with stubber:
        with pytest.raises(TimeoutError, match=r"did not complete in time$"):
            top_errors(client, "g", (0, 60), time_left=lambda: next(left), sleep=lambda _: None)
        # Then StopQuery was called (the query does not scan on, and bill, for nothing), and nothing else
        stubber.assert_no_pending_responses()


def test_rows_are_read_as_the_api_reference_shows_them() -> None:
    rows = [
        [{"field": "message", "value": "connect ECONNREFUSED 10.0.1.5:5432"}, {"field": "count", "value": "12"}],
        [{"field": "message", "value": "timeout\n after 30 s"}, {"field": "count", "value": "3"}],
        [{"field": "@ptr", "value": "x"}],  # a row without the fields: skipped
    ]
    assert parse_rows(rows) == (
        ErrorCount(12, "connect ECONNREFUSED 10.0.1.5:5432"),
        ErrorCount(3, "timeout after 30 s"),
    )


def test_a_5xx_alarm_posts_with_its_top_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the router with top errors on (the stack writes TOP_ERRORS and ERROR_LOG_GROUP)
    client, stubber = stubbed_logs()
    stubber.add_response("start_query", {"queryId": "q-2"})
    stubber.add_response(
        "get_query_results",
        {"status": "Complete", "results": [[{"field": "message", "value": "db pool exhausted"},
                                            {"field": "count", "value": "41"}]]},
    )  # fmt: skip
    stubber.activate()
    monkeypatch.setattr(enrichment_defaults, "sdk_client", lambda *_: client)
    with LocalSlack() as slack:
        settings = {
            "SLACK_WEBHOOK_URLS": slack.webhook_urls(),
            "TOP_ERRORS": "on",
            "ERROR_LOG_GROUP": "/aws/ecs/production/error",
            "ENVIRONMENT": "production",
        }
        for name, value in settings.items():
            monkeypatch.setenv(name, value)
        load_settings.cache_clear()
        try:
            event = json.loads((EVENTS / "sns_alb_target_5xx.json").read_text())
            router.lambda_handler(event, LocalLambdaContext(function_name="alert-router", timeout_seconds=60))
        finally:
            load_settings.cache_clear()
        [message] = slack.messages("alerts-critical")
    # Then the message carries them under the cause
    assert f"• 41{TIMES} `db pool exhausted`" in message["blocks"][1]["text"]["text"]
    stubber.assert_no_pending_responses()
