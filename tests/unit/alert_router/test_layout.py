"""The message for 3 a.m. (issue 13): headline, cause, first step, buttons on top; details small; one vocabulary.

Read as the person woken by it: the first block says how bad, what, where and since when; the next line
says why; then what to do first; the buttons open the runbook, the dashboard at the alarm's time and the
alarm. Metric ids, statistics and account numbers are in the small details, not in ten fields.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from lambdas.alert_router.enrichment.model import Enrichment, ErrorCount
from lambdas.alert_router.enrichment.threshold import threshold_words
from lambdas.alert_router.intake.events import parse_event, parse_sns_message
from lambdas.alert_router.models import Alert, SourceKind, State
from lambdas.alert_router.rendering.alarm import TIMES
from lambdas.alert_router.rendering.context import RenderContext
from lambdas.alert_router.rendering.facts import dashboard_window_url
from lambdas.alert_router.rendering.incident import render_reopened_original, render_resolved_original
from lambdas.alert_router.rendering.layout import short_name
from lambdas.alert_router.rendering.render import render
from lambdas.alert_router.routing.route import RoutingConfig, route
from lambdas.alert_router.settings import settings_from_env
from lambdas.shared.alarm_metadata import Severity
from lambdas.shared.sentry_envelope import sentry_envelope
from tests.unit.alert_router.slack_limits import slack_problems
from tools.sentry_events import EVENTS as SENTRY_EVENTS

EVENTS = Path(__file__).resolve().parents[3] / "events" / "alert_router"
ONCALL = "<!subteam^S0ONCALL1>"
SETTINGS = settings_from_env(
    {"ENVIRONMENT": "production", "DASHBOARD_NAME": "peoplebooster-production-service", "ONCALL_HANDLE": ONCALL}
)
LABELS = ("CRITICAL", "WARNING", "INFO", "RESOLVED", "MONITORING BLIND", "DATA BACK")


def alerts_of(name: str) -> list[Alert]:
    return parse_event(json.loads((EVENTS / name).read_text(encoding="utf-8")))


def rendered(alert: Alert, enrichment: Enrichment | None = None) -> dict[str, Any]:
    decision = route(alert, SETTINGS.routing)
    context = SETTINGS.render_context(alert.region or "ap-northeast-1")
    return render(alert, decision, context, enrichment) if enrichment else render(alert, decision, context)


def headline(payload: dict[str, Any]) -> str:
    text: str = payload["blocks"][0]["text"]["text"]
    return text


def body(payload: dict[str, Any]) -> str:
    text: str = payload["blocks"][1]["text"]["text"]
    return text


def buttons(payload: dict[str, Any]) -> dict[str, str]:
    return {e["action_id"]: e["url"] for b in payload["blocks"] if b["type"] == "actions" for e in b["elements"]}


def details(payload: dict[str, Any]) -> str:
    text: str = payload["attachments"][0]["blocks"][0]["elements"][0]["text"]
    return text


def layout_problems(payload: dict[str, Any]) -> list[str]:
    """What the 3 a.m. layout requires, beyond Slack's own rules (slack_problems)."""
    problems = slack_problems(payload)
    blocks = payload.get("blocks") or []
    if not blocks or blocks[0]["type"] != "header":
        problems.append("the first top-level block is not the headline")
    elif not any(f" {label} · " in headline(payload) for label in LABELS):
        problems.append(f"no severity word in {headline(payload)!r}")
    every = blocks + [b for a in payload.get("attachments", []) for b in a.get("blocks", [])]
    if any("fields" in block for block in every):
        problems.append("fields: the details belong in the small context")
    for url in buttons(payload).values():
        if not url.startswith("https://") or len(url) > 3000:
            problems.append(f"button url {url[:80]!r}")
    emoji, label = headline(payload).split(" · ", 1)[0].split(" ", 1)
    if not (payload["text"].startswith(f"{emoji} [") and f"] {label} · " in payload["text"]):
        problems.append("the notification text does not start like the headline")
    return problems


def every_test_event() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted(EVENTS.glob("*.json")):
        found += [(path.name, rendered(alert)) for alert in alerts_of(path.name)]
    for name, (resource, request_id, payload, _) in SENTRY_EVENTS.items():
        message = sentry_envelope(resource=resource, delivery_id=request_id, hook_timestamp=None, payload=payload)
        event = {"Records": [{"Sns": {"MessageId": "m", "Message": json.dumps(message)}}]}
        found += [(f"sentry {name}", rendered(alert)) for alert in parse_event(event)]
    return found


@pytest.mark.parametrize(("name", "payload"), every_test_event(), ids=[name for name, _ in every_test_event()])
def test_every_cloudwatch_sentry_and_rds_event_renders_in_the_layout(name: str, payload: dict[str, Any]) -> None:
    assert layout_problems(payload) == [], name


def test_a_critical_synthetic_alarm_reads_top_down() -> None:
    # Given the /health/live alarm firing, and what the monitor saw
    [alert] = alerts_of("sns_synthetic_live_check_failing.json")
    cause = Enrichment(cause="GET /health/live → timeout after 3000 ms")
    payload = rendered(alert, cause)
    # Then the headline says how bad, what, where and since when (the display zone: 03:14 UTC is 12:14 JST)
    assert headline(payload) == "🔴 CRITICAL · synthetic-live-failing · production · since 12:14 JST"
    # And the cause comes first, then the runbook's first step, then the on-call handle
    lines = body(payload).splitlines()
    assert lines[0] == "*GET /health/live → timeout after 3000 ms*"
    assert lines[1].startswith("👉 *First step:* From your machine: `curl -sS -m 5")
    assert lines[-1] == ONCALL
    # And the lock screen shows headline and cause in one line, and mentions on-call too
    assert payload["text"] == (
        f"🔴 [production] CRITICAL · synthetic-live-failing: GET /health/live → timeout after 3000 ms {ONCALL}"
    )
    # And three buttons: the runbook, the dashboard on the alarm's hour, the alarm in the console
    links = buttons(payload)
    assert list(links) == ["runbook", "dashboard", "console"]
    assert links["runbook"].endswith("/runbooks/synthetic-liveness-failing.md")
    assert links["dashboard"].endswith("#dashboards/dashboard/peoplebooster-production-service"
                                       "?start=2026-11-29T02:14:15.000Z&end=2026-11-29T03:44:15.000Z")  # fmt: skip
    assert links["console"].endswith("#alarmsV2:alarm/peoplebooster-production-synthetic-live-failing")
    # And the details keep metric, dimensions, statistic, times, account and the raw reason, out of the way
    small = details(payload)
    facts = (
        "`PeopleBooster/Synthetics CheckSuccess` (MINIMUM, 1 min)",
        "check = live",
        "OK → ALARM",
        "2026-11-29 03:14:15 UTC",
        "123456789012 / ap-northeast-1",
        "_Threshold Crossed: 3 out of",
    )
    for fact in facts:
        assert fact in small, fact
    assert payload["attachments"][0]["color"] == "#d0021b"
    assert layout_problems(payload) == []


def test_without_the_monitors_result_a_synthetic_alarm_says_what_the_check_is() -> None:
    # Given no enrichment (the results could not be read): not "CheckSuccess was 0, below the 1 threshold"
    [alert] = alerts_of("sns_synthetic_live_check_failing.json")
    assert body(rendered(alert)).startswith("*Synthetic check 'live' (GET https://api.peoplebooster.example.com")


def test_only_a_critical_alert_that_fires_mentions_on_call() -> None:
    [warning] = alerts_of("sns_metric_alarm_ecs_cpu.json")
    [recovery] = alerts_of("sns_ok_recovery.json")
    [critical] = alerts_of("sns_alb_target_5xx.json")
    assert ONCALL not in json.dumps(rendered(warning))
    assert ONCALL not in json.dumps(rendered(recovery))
    assert ONCALL in body(rendered(critical))


def test_a_recovery_says_resolved_at_and_no_first_step() -> None:
    [alert] = alerts_of("sns_ok_recovery.json")
    payload = rendered(alert)
    assert headline(payload) == "✅ RESOLVED · ecs-backend-cpu-high · production · at 12:41 JST"
    assert body(payload) == "*CPUUtilization is back to 41.2%, within the 80% threshold*"
    assert payload["attachments"][0]["color"] == State.OK.colour


def test_top_errors_follow_the_cause_of_a_5xx_alarm() -> None:
    [alert] = alerts_of("sns_alb_target_5xx.json")
    errors = (ErrorCount(12, "connect ECONNREFUSED 10.0.1.5:5432"), ErrorCount(3, "timeout <after> 30 s"))
    payload = rendered(alert, Enrichment(top_errors=errors))
    lines = body(payload).splitlines()
    assert lines[0] == "*HTTPCode_Target_5XX_Count was 137, above the 10 threshold, for 5 min*"
    assert lines[1:4] == [
        "*Top errors, last 15 min:*",
        f"• 12{TIMES} `connect ECONNREFUSED 10.0.1.5:5432`",
        f"• 3{TIMES} `timeout &lt;after&gt; 30 s`",
    ]
    assert slack_problems(payload) == []


@pytest.mark.parametrize(
    ("message", "words"),
    [
        ({"Trigger": {"MetricName": "CPUUtilization", "ComparisonOperator": "GreaterThanThreshold", "Threshold": 80,
                      "Period": 60, "EvaluationPeriods": 5}, "NewStateReason": "[93.4 (29/11/26 03:09:00)]"},
         "CPUUtilization was 93.4%, above the 80% threshold, for 5 min"),
        ({"Trigger": {"MetricName": "FreeStorageSpace", "Unit": "Bytes", "ComparisonOperator": "LessThanThreshold",
                      "Threshold": 2147483648, "Period": 300, "EvaluationPeriods": 1}},
         "FreeStorageSpace below the 2,147,483,648 B threshold for 5 min"),
        ({"Trigger": {"MetricName": "TargetResponseTime", "ExtendedStatistic": "p95", "Threshold": 3,
                      "ComparisonOperator": "GreaterThanOrEqualToThreshold", "Period": 60, "EvaluationPeriods": 5,
                      "DatapointsToAlarm": 3}, "NewStateReason": "[4.2 (29/11/26 03:09:00)]"},
         "TargetResponseTime (p95) was 4.2 s, at or above the 3 s threshold, in 3 of 5 periods of 1 min"),
        ({"NewStateValue": "OK", "Trigger": {"MetricName": "CPUUtilization", "Threshold": 80,
                                             "ComparisonOperator": "GreaterThanThreshold"},
          "NewStateReason": "[41.2 (29/11/26 03:09:00)]"},
         "CPUUtilization is back to 41.2%, within the 80% threshold"),
    ],
)  # fmt: skip
def test_threshold_alarms_say_value_and_threshold_in_words(message: dict[str, Any], words: str) -> None:
    alert = parse_sns_message(json.dumps({"AlarmName": "a", "NewStateValue": "ALARM", **message}))
    assert threshold_words(alert) == words


def test_a_metric_math_rate_reads_as_a_percentage() -> None:
    [alert] = alerts_of("sns_metric_math_alarm.json")
    assert threshold_words(alert) == "5xx rate was 7.81%, at or above the 5% threshold, in 3 of 5 periods of 1 min"


def test_sentry_says_one_severity_the_one_that_chose_the_channel() -> None:
    # Given Sentry's metric alert at its Critical trigger, routed at warning (a latency rule is no page)
    resource, request_id, payload, _ = SENTRY_EVENTS["metric_alert_critical.json"]
    message = sentry_envelope(resource=resource, delivery_id=request_id, hook_timestamp=None, payload=payload)
    [alert] = parse_event({"Records": [{"Sns": {"MessageId": "m", "Message": json.dumps(message)}}]})
    rendered_alert = rendered(alert)
    # Then the headline says WARNING once, without Sentry's "Critical:" in the title; the trigger is a detail
    assert headline(rendered_alert).startswith("🟠 WARNING · p95 latency · ")
    assert "Critical" not in headline(rendered_alert) + rendered_alert["text"]
    assert "Sentry trigger: critical" in details(rendered_alert)


def test_an_rds_shutdown_pages_with_what_to_check_first() -> None:
    # Given RDS's "DB instance shutdown" (category availability), once a blue INFO JSON dump
    [alert] = alerts_of("sns_rds_event_shutdown.json")
    decision = route(alert, SETTINGS.routing)
    assert (decision.channel, decision.severity) == ("alerts-critical", Severity.CRITICAL)
    payload = rendered(alert)
    # Then it reads like an alarm: what, which database, since when; why; the first command; the console
    assert headline(payload) == "🔴 CRITICAL · DB instance shutdown · peoplebooster-production-db · since 12:02 JST"
    lines = body(payload).splitlines()
    assert lines[0] == "*The database is not available: “DB instance shutdown” (peoplebooster-production-db)*"
    assert "aws rds describe-db-instances --db-instance-identifier peoplebooster-production-db" in lines[1]
    assert lines[-1] == ONCALL
    assert set(buttons(payload)) == {"rds", "rds-events", "dashboard", "rds-doc"}
    assert "RDS event `RDS-EVENT-0004` · category availability" in details(payload)
    assert "```" not in json.dumps(payload)  # no JSON dump


@pytest.mark.parametrize(
    ("event_code", "channel", "severity"),
    [
        ("RDS-EVENT-0013", "alerts-errors", Severity.WARNING),  # failover
        ("RDS-EVENT-0031", "alerts-critical", Severity.CRITICAL),  # failure
        ("RDS-EVENT-0089", "alerts-errors", Severity.WARNING),  # low storage
        ("RDS-EVENT-0002", "alerts-errors", Severity.INFO),  # backup
        ("RDS-EVENT-9999", "alerts-errors", Severity.INFO),  # an id the table does not know: a notification
    ],
)
def test_rds_events_are_routed_by_their_category(event_code: str, channel: str, severity: Severity) -> None:
    link = f"http://docs.amazonwebservices.com/AmazonRDS/latest/UserGuide/USER_Events.html#{event_code}"
    message = {"Event Source": "db-instance", "Source ID": "db-1", "Event Message": "m", "Event ID": link}
    [alert] = parse_event({"Records": [{"Sns": {"MessageId": "m", "Message": json.dumps(message)}}]})
    decision = route(alert, RoutingConfig())
    assert (decision.channel, decision.severity) == (channel, severity)


def test_the_original_of_an_incident_is_updated_in_the_new_layout() -> None:
    # Given a critical alarm's first message
    [alert] = alerts_of("sns_alb_target_5xx.json")
    original = rendered(alert)
    context = RenderContext(environment="production", display_time_zone="Asia/Tokyo")
    # When it resolves, then the headline says RESOLVED, the status line sits under it, the bar turns green
    resolved = render_resolved_original(original, 1_764_386_100.0, 1_764_386_700.0, context)
    assert headline(resolved).startswith("✅ RESOLVED · alb-backend-target-5xx · production")
    assert resolved["text"].startswith("✅ [production] RESOLVED · alb-backend-target-5xx")
    assert resolved["blocks"][1]["block_id"] == "incident-status"
    assert "open for 10 min" in resolved["blocks"][1]["elements"][0]["text"]
    assert resolved["attachments"][0]["color"] == State.OK.colour
    # And when it fires again (flapping), it says CRITICAL again, not a bare ALARM, with one status line
    reopened = render_reopened_original(resolved, 1_764_387_000.0, context)
    assert headline(reopened).startswith("🔴 CRITICAL · alb-backend-target-5xx")
    assert [block.get("block_id") for block in reopened["blocks"]].count("incident-status") == 1
    assert reopened["attachments"][0]["color"] == "#d0021b"
    assert slack_problems(reopened) == []


def test_an_original_posted_before_the_new_layout_is_still_updated() -> None:
    old = {"text": "🔴 [production] ALARM · CRITICAL: x - r", "attachments": [{"color": "#d0021b", "blocks": [
        {"type": "header", "text": {"type": "plain_text", "text": "🔴 ALARM · CRITICAL · x"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "r"}}]}]}  # fmt: skip
    resolved = render_resolved_original(old, 0.0, 60.0, RenderContext(display_time_zone="UTC"))
    blocks = resolved["attachments"][0]["blocks"]
    assert blocks[0]["text"]["text"] == "✅ RESOLVED · CRITICAL · x"
    assert blocks[1]["block_id"] == "incident-status"
    assert resolved["text"].startswith("✅ [production] RESOLVED")


def test_the_dashboard_opens_on_the_hour_of_the_alarm_only_when_it_is_ours() -> None:
    moment = datetime(2026, 11, 29, 3, 14, 15, tzinfo=UTC)
    ours = RenderContext(dashboard_url="https://c/#dashboards/dashboard/d", dashboard_in_console=True)
    assert dashboard_window_url(ours, moment) == (
        "https://c/#dashboards/dashboard/d?start=2026-11-29T02:14:15.000Z&end=2026-11-29T03:44:15.000Z"
    )
    theirs = RenderContext(dashboard_url="https://grafana.example/d/x?a=1")
    assert dashboard_window_url(theirs, moment) == "https://grafana.example/d/x?a=1"


@pytest.mark.parametrize(
    ("name", "environment", "short"),
    [
        ("peoplebooster-production-ecs-backend-cpu-high", "production", "ecs-backend-cpu-high"),
        ("peoplebooster-staging-rds-cpu-high", "production", "peoplebooster-staging-rds-cpu-high"),
        ("checkout-degraded", "production", "checkout-degraded"),
        ("peoplebooster-production-", "production", "peoplebooster-production-"),
    ],
)
def test_the_headline_drops_only_this_stacks_prefix(name: str, environment: str, short: str) -> None:
    assert short_name(name, environment) == short


def test_a_bad_oncall_handle_is_refused() -> None:
    from lambdas.alert_router.settings import SettingsError

    for handle in ("@oncall", "<!channel>", "<!subteam^s0abc>", "<@U123|name>"):
        with pytest.raises(SettingsError, match="ONCALL_HANDLE"):
            settings_from_env({"ONCALL_HANDLE": handle})
    assert settings_from_env({"ONCALL_HANDLE": "<@U0123ABCD>"}).oncall_handle == "<@U0123ABCD>"


def test_an_unparsed_notice_still_reads_as_received() -> None:
    payload = rendered(Alert(source=SourceKind.UNPARSED, raw_text='{"a": 1}', subject="Hi"))
    assert headline(payload) == "ℹ️ INFO · Hi · production"  # noqa: RUF001
    assert payload["blocks"][2]["text"]["text"].startswith("```")
