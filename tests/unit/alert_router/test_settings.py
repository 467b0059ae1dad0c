"""Settings from the environment: defaults with no env, validation with clear messages, the local contract."""

from __future__ import annotations

import pytest

from lambdas.alert_router.routing.route import Channels, Override
from lambdas.alert_router.settings import Settings, SettingsError, load_webhooks, settings_from_env
from lambdas.shared.alarm_metadata import Severity


def test_no_environment_at_all_gives_a_runnable_dry_run() -> None:
    settings = settings_from_env({})
    assert settings.environment == "local"
    assert settings.routing.channels == Channels()
    assert load_webhooks(settings) is None


def test_full_environment() -> None:
    settings = settings_from_env(
        {
            "ENVIRONMENT": "production",
            "DISPLAY_TIME_ZONE": "UTC",
            "DASHBOARD_NAME": "pb-prod",
            "IDEMPOTENCY_TABLE_NAME": "t",
            "IDEMPOTENCY_TTL_SECONDS": "3600",
            "CHANNELS": '{"critical": "prod-critical"}',
            "ROUTING_OVERRIDES": '[{"match": "*-batch-*", "severity": "info", "channel": "alerts-batch"}]',
        }
    )
    assert settings.routing.channels.critical == "prod-critical"
    assert settings.routing.overrides == (Override(match="*-batch-*", severity=Severity.INFO, channel="alerts-batch"),)
    assert settings.idempotency_ttl_seconds == 3600
    context = settings.render_context("ap-northeast-1")
    assert context.dashboard_url == (
        "https://ap-northeast-1.console.aws.amazon.com/cloudwatch/home?region=ap-northeast-1"
        "#dashboards/dashboard/pb-prod"
    )


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("ROUTING_OVERRIDES", "[{}]", r"ROUTING_OVERRIDES\[0\] needs a non-empty string 'match'"),
        ("ROUTING_OVERRIDES", '[{"match": "a", "severity": "loud"}]', r"ROUTING_OVERRIDES\[0\]"),
        ("ROUTING_OVERRIDES", "{", "ROUTING_OVERRIDES is not valid JSON"),
        ("CHANNELS", '{"pager": "x"}', "CHANNELS must be a JSON object"),
        ("IDEMPOTENCY_TTL_SECONDS", "-1", "must be positive"),
    ],
)
def test_invalid_settings_name_the_variable(name: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        settings_from_env({name: value})


def test_local_webhooks_allow_loopback_http() -> None:
    urls = '{"alerts-errors": "http://127.0.0.1:8080/alerts-errors", "alerts-critical": "https://hooks.slack.com/services/T/B/x"}'
    assert load_webhooks(Settings(local_webhook_urls=urls)) == {
        "alerts-errors": "http://127.0.0.1:8080/alerts-errors",
        "alerts-critical": "https://hooks.slack.com/services/T/B/x",
    }


@pytest.mark.parametrize(
    "urls",
    [
        '{"alerts-errors": "http://example.com/hook-secret"}',
        '{"alerts-errors": "https://hooks.slack.com.evil.example/hook-secret"}',
        '{"alerts-errors": 5}',
        "[]",
        "not json hook-secret",
    ],
)
def test_other_webhook_urls_are_refused_without_echoing_them(urls: str) -> None:
    with pytest.raises(SettingsError) as raised:
        load_webhooks(Settings(local_webhook_urls=urls))
    assert "hook-secret" not in str(raised.value)
    assert raised.value.__cause__ is None
