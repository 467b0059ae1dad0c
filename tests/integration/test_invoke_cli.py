"""`make invoke FN=... EVENT=...` (python -m tools.invoke): each function runs locally on its test events."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tools.health_service import HealthService
from tools.local_slack import LocalSlack

REPO_ROOT = Path(__file__).resolve().parents[2]
LOCAL_ONLY = (
    "SLACK_WEBHOOK_URLS",
    "SLACK_BOT_TOKEN",
    "SLACK_WEBHOOK_SECRET_ARN",
    "SLACK_SIGNING_SECRET",
    "SENTRY_DSN",
    "HEALTH_BASE_URL",
)


def _invoke(function: str, event: str, **env: str) -> tuple[int, dict[str, Any] | None, str]:
    clean = {key: value for key, value in os.environ.items() if key not in LOCAL_ONLY}
    result = subprocess.run(
        [sys.executable, "-m", "tools.invoke", function, event],
        cwd=REPO_ROOT,
        env={**clean, "POWERTOOLS_LOG_LEVEL": "ERROR", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    lines = result.stdout.splitlines()
    starts = [index for index, line in enumerate(lines) if line == "{"]  # the pretty-printed result, last
    printed = json.loads("\n".join(lines[starts[-1] :])) if starts else None
    return result.returncode, printed, result.stderr


def test_the_router_prints_payloads_when_no_webhook_is_configured() -> None:
    code, printed, _ = _invoke("alert_router", "events/alert_router/sns_metric_alarm_ecs_cpu.json")
    assert code == 0
    assert printed is not None
    assert [r["status"] for r in printed["results"]] == ["dry-run"]


def test_the_router_posts_to_the_local_webhooks() -> None:
    with LocalSlack() as slack:
        code, printed, _ = _invoke(
            "alert_router", "events/alert_router/sns_metric_alarm_ecs_cpu.json", SLACK_WEBHOOK_URLS=slack.webhook_urls()
        )
        assert code == 0
        assert printed is not None
        assert printed["results"][0]["channel"] == "alerts-performance"
        assert len(slack.messages("alerts-performance")) == 1


def test_the_router_takes_the_sqs_event_it_gets_deployed() -> None:
    # make invoke FN=alert_router EVENT=events/alert_router/sqs_database_fault.json: three SNS envelopes
    with LocalSlack() as slack:
        code, printed, _ = _invoke(
            "alert_router", "events/alert_router/sqs_database_fault.json", SLACK_WEBHOOK_URLS=slack.webhook_urls()
        )
        assert code == 0
        assert printed == {"batchItemFailures": []}
        [message] = slack.messages("alerts-critical")
        assert "Database unhealthy · 3 alarms" in message["text"]


def test_the_monitor_probes_health_base_url() -> None:
    with HealthService() as service:
        code, printed, _ = _invoke(
            "synthetic_monitor", "events/synthetic_monitor/manual.json", HEALTH_BASE_URL=service.url
        )
    assert code == 0
    assert printed is not None
    assert {r["name"] for r in printed["results"]} == {"health", "live", "ready", "metrics"}
    assert all(r["ok"] for r in printed["results"])
    assert all(r["url"].startswith(service.url) for r in printed["results"])


def test_a_signed_sentry_event_goes_through_the_router_to_slack() -> None:
    with LocalSlack() as slack:
        code, printed, _ = _invoke(
            "sentry_intake", "events/sentry_intake/event_alert_fatal.json", SLACK_WEBHOOK_URLS=slack.webhook_urls()
        )
        assert code == 0
        assert printed is not None
        assert printed["statusCode"] == 202
        assert len(slack.messages("alerts-critical")) == 1


def test_the_committed_slack_click_is_verified_now_and_handed_to_the_router() -> None:
    # Given the committed click (signed long ago with the test signing secret): it is signed again as if sent now
    code, printed, _ = _invoke("slack_actions", "events/slack_actions/block_action_acknowledge.json")
    assert code == 0
    assert printed == {"statusCode": 200, "headers": {"content-type": "text/plain"}, "body": ""}


def test_a_click_signed_with_another_secret_stays_refused() -> None:
    code, printed, _ = _invoke(
        "slack_actions", "events/slack_actions/block_action_acknowledge.json", SLACK_SIGNING_SECRET="another"
    )
    assert code == 0
    assert printed is not None
    assert printed["statusCode"] == 401


def test_an_unreadable_event_is_one_clear_line_and_exit_2() -> None:
    code, printed, stderr = _invoke("alert_router", "events/alert_router/no-such-event.json")
    assert code == 2
    assert printed is None
    assert stderr.startswith("cannot read the event events/alert_router/no-such-event.json")
