"""Bot-token mode settings: the fixed local contract, validation without showing the token, lifecycle config."""

from __future__ import annotations

import json

import pytest

from lambdas.alert_router.incidents.model import LifecycleConfig
from lambdas.alert_router.settings import SLACK_API, SettingsError, load_bot, settings_from_env

TOKEN = "xoxb-test-XXXXXXXX"
IDS = json.dumps({"alerts-critical": "C0CRITICAL", "alerts-errors": "C0ERRORS", "alerts-performance": "C0PERF"})


def test_no_bot_token_is_webhook_mode_with_default_lifecycle() -> None:
    settings = settings_from_env({})
    assert load_bot(settings) is None
    assert settings.lifecycle == LifecycleConfig(3600, 4, 1800)
    assert settings.slack_api_base_url == SLACK_API
    assert settings.maintenance_windows == ()


def test_the_local_contract() -> None:
    settings = settings_from_env(
        {
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_CHANNEL_IDS": IDS,
            "SLACK_API_BASE_URL": "http://127.0.0.1:8123/api",
            "REPEAT_INTERVAL_MINUTES": "30",
            "FLAPPING_TRANSITIONS": "6",
            "FLAPPING_WINDOW_MINUTES": "20",
        }
    )
    bot = load_bot(settings)
    assert bot is not None
    assert bot.token == TOKEN
    assert bot.channel_ids["alerts-critical"] == "C0CRITICAL"
    assert bot.base_url == "http://127.0.0.1:8123/api/"
    assert settings.lifecycle == LifecycleConfig(1800, 6, 1200)
    assert TOKEN not in repr(settings)
    assert TOKEN not in repr(bot)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SLACK_BOT_TOKEN": "not-a-token", "SLACK_CHANNEL_IDS": IDS}, "not a Slack bot token"),
        ({"SLACK_BOT_TOKEN": TOKEN}, "SLACK_CHANNEL_IDS is not valid JSON"),
        ({"SLACK_BOT_TOKEN": TOKEN, "SLACK_CHANNEL_IDS": '{"alerts-critical": "#alerts"}'}, "channel id"),
    ],
)
def test_invalid_bot_settings_are_refused_without_the_token(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message) as raised:
        load_bot(settings_from_env(env))
    assert env["SLACK_BOT_TOKEN"] not in str(raised.value)


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/api/",
        "https://slack.com.evil/api/",
        "http://localhost.evil.example/api/",
        "http://localhost@evil.example/api/",
        "http://[::2]:9/api/",
        "http://10.0.0.1:9/api/",
    ],
)
def test_the_api_base_is_slack_or_loopback_only(url: str) -> None:
    # the token is sent to this URL: it must not be configurable to anywhere else
    with pytest.raises(SettingsError, match="SLACK_API_BASE_URL"):
        settings_from_env({"SLACK_API_BASE_URL": url})


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/api/", "http://localhost:9/api/", "http://[::1]:9/api"])
def test_every_loopback_spelling_is_accepted(url: str) -> None:
    assert settings_from_env({"SLACK_API_BASE_URL": url}).slack_api_base_url == url.rstrip("/") + "/"


@pytest.mark.parametrize("name", ["REPEAT_INTERVAL_MINUTES", "FLAPPING_WINDOW_MINUTES", "FLAPPING_TRANSITIONS"])
def test_lifecycle_numbers_must_be_whole_numbers(name: str) -> None:
    with pytest.raises(SettingsError) as raised:
        settings_from_env({name: "1.5"})
    assert str(raised.value) == f"{name} must be a whole number"


def test_bad_maintenance_windows_are_a_settings_error() -> None:
    with pytest.raises(SettingsError, match="MAINTENANCE_WINDOWS"):
        settings_from_env({"MAINTENANCE_WINDOWS": '[{"name": "x"}]'})
