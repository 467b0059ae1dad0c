"""Settings from the environment: defaults with no env, validation with clear messages, the local contract."""

from __future__ import annotations

from typing import Any

import pytest

from lambdas.alert_router.routing.route import Channels, Override
from lambdas.alert_router.settings import (
    LIMITS,
    Settings,
    SettingsError,
    load_webhooks,
    parse_overrides,
    settings_from_env,
)
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
        ("IDEMPOTENCY_TTL_SECONDS", "-1", "must be between 3600 and 604800"),
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


def _bounds(model: Any, field: str) -> tuple[int, int]:
    """(ge, le) of a pydantic field of infra/config.py."""
    metadata = model.model_fields[field].metadata
    low = next(item.ge for item in metadata if getattr(item, "ge", None) is not None)
    high = next(item.le for item in metadata if getattr(item, "le", None) is not None)
    return low, high


@pytest.mark.parametrize(
    ("variable", "model", "field", "unit"),
    [
        ("IDEMPOTENCY_TTL_SECONDS", "RouterConfig", "idempotency_ttl_hours", 3600),
        ("REPEAT_INTERVAL_MINUTES", "IncidentConfig", "repeat_interval_minutes", 1),
        ("FLAPPING_TRANSITIONS", "IncidentConfig", "flapping_transitions", 1),
        ("FLAPPING_WINDOW_MINUTES", "IncidentConfig", "flapping_window_minutes", 1),
        ("ESCALATION_MINUTES", "EscalationConfig", "after_minutes", 1),
    ],
)
def test_config_and_the_router_accept_the_same_range(variable: str, model: str, field: str, unit: int) -> None:
    # Config (synthesis) and the router (run time) must refuse the same values: one schema, one rule
    from infra import config

    low, high = _bounds(getattr(config, model), field)
    assert (low * unit, high * unit) == LIMITS[variable]


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"match": "*rds*"}, "at least one of severity, category, channel"),
        ({"match": "*rds*", "channel": "Alerts Critical"}, "channel must be a channel name"),
        ({"match": "*rds*", "severity": "urgent"}, "'urgent' is not a valid Severity"),
    ],
)
def test_config_refuses_an_override_for_the_routers_reason(override: dict[str, str], message: str) -> None:
    from infra.config import RouterOverride

    with pytest.raises(SettingsError, match=message):
        parse_overrides([override])
    with pytest.raises(ValueError, match=r"override|channel|severity"):  # and synthesis refuses it too
        RouterOverride.model_validate(override)
