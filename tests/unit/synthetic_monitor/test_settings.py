"""Settings from the environment: defaults with no environment at all, clear errors otherwise."""

from __future__ import annotations

import json

import pytest

from lambdas.synthetic_monitor.checks import DEFAULT_CHECKS
from lambdas.synthetic_monitor.settings import SettingsError, load_settings, settings_from_env


def test_no_environment_at_all_gives_runnable_defaults() -> None:
    settings = settings_from_env({})
    assert settings.base_url == "http://127.0.0.1:8080"
    assert settings.environment == "local"
    assert settings.checks == DEFAULT_CHECKS
    assert settings.run_deadline_ms == 10_000
    assert settings.namespace == "PeopleBooster/Synthetics"


def test_base_url_keeps_its_path_and_absolute_urls_win() -> None:
    # Given a base URL with a path prefix and one check with its own URL
    checks = [
        {"name": "a", "url": "/health", "conditions": [{"status": 200}]},
        {"name": "b", "url": "https://other.example/ping", "conditions": [{"status": 200}]},
    ]
    settings = settings_from_env({"HEALTH_BASE_URL": "https://api.example/v1/", "CHECKS": json.dumps(checks)})
    # Then paths join the base, absolute URLs stay
    assert [settings.url_of(check) for check in settings.checks] == [
        "https://api.example/v1/health",
        "https://other.example/ping",
    ]


def test_check_timeout_is_the_default_for_checks_without_one() -> None:
    settings = settings_from_env({"CHECK_TIMEOUT_MS": "2500"})
    assert {check.timeout_ms for check in settings.checks} == {2500}


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"HEALTH_BASE_URL": "127.0.0.1:8080"}, "HEALTH_BASE_URL"),
        ({"ENVIRONMENT": "prod env"}, "ENVIRONMENT"),
        ({"CHECK_TIMEOUT_MS": "3s"}, "CHECK_TIMEOUT_MS"),
        ({"RUN_DEADLINE_MS": "0"}, "RUN_DEADLINE_MS"),
        ({"CHECKS": "[{"}, "CHECKS: not valid JSON"),
        ({"CHECKS": "[]"}, "CHECKS: checks must hold"),
        # the default budgets (1000 ms) do not fit a 900 ms timeout
        ({"CHECK_TIMEOUT_MS": "900"}, "never fires"),
    ],
)
def test_invalid_settings_are_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as raised:
        settings_from_env(env)
    assert message in str(raised.value)


def test_load_settings_reads_os_environ_once(monkeypatch: pytest.MonkeyPatch) -> None:
    load_settings.cache_clear()
    monkeypatch.setenv("ENVIRONMENT", "staging")
    first = load_settings()
    monkeypatch.setenv("ENVIRONMENT", "production")
    assert load_settings() is first
    load_settings.cache_clear()
    assert load_settings().environment == "production"
    load_settings.cache_clear()


@pytest.mark.parametrize(
    "env",
    [
        {"HEALTH_BASE_URL": "https://monitor:hunter2-s3cret@api.example.com"},
        {"HEALTH_BASE_URL": "https://hunter2-s3cret@api.example.com/v1"},
        {
            "CHECKS": json.dumps(
                [{"name": "a", "url": "https://u:hunter2-s3cret@x.example/p", "conditions": [{"status": 200}]}]
            )
        },
    ],
    ids=["user-password", "token-as-user", "check-url"],
)
def test_a_url_with_credentials_is_refused_without_echoing_it(env: dict[str, str]) -> None:
    # Given the monitor's environment with a URL carrying credentials (the same rule as infra/config.py)
    with pytest.raises(SettingsError) as raised:
        settings_from_env(env)
    # Then the error names the variable and the rule, never the secret
    message = str(raised.value)
    assert message.startswith(("HEALTH_BASE_URL: must not contain credentials", "CHECKS: checks[0] (a).url: must not"))
    assert "hunter2-s3cret" not in message


def test_redirect_hosts_are_host_names_only() -> None:
    check = {"name": "a", "url": "/health", "conditions": [{"status": 200}], "redirect_hosts": ["Auth.Example.com"]}
    [parsed] = settings_from_env({"CHECKS": json.dumps([check])}).checks
    assert parsed.redirect_hosts == frozenset({"auth.example.com"})
    for bad in (["https://auth.example.com"], ["auth.example.com:443"], ["u:p@auth.example.com"], "auth", [""] * 11):
        with pytest.raises(SettingsError, match=r"CHECKS: checks\[0\] \(a\)\.redirect_hosts"):
            settings_from_env({"CHECKS": json.dumps([{**check, "redirect_hosts": bad}])})
