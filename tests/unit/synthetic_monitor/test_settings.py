"""Settings from the environment: defaults with no environment at all, clear errors otherwise."""

from __future__ import annotations

import json

import pytest

from lambdas.synthetic_monitor.checks import (
    DEFAULT_CHECKS,
    STRICT_CHECK_SPECS,
    BodyContains,
    ContentTypeIs,
    LatencyBelow,
    StatusIn,
    parse_checks,
)
from lambdas.synthetic_monitor.reading import STRICT, TOLERANT
from lambdas.synthetic_monitor.settings import (
    ProbeRegion,
    SettingsError,
    load_settings,
    probe_environment,
    settings_from_env,
)


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
        # a probe needs both its Region and the home Region, two different Region names
        ({"METRICS_REGION": "ap-northeast-1"}, "METRICS_REGION and PROBE_REGION: set both"),
        ({"PROBE_REGION": "us-west-2"}, "METRICS_REGION and PROBE_REGION: set both"),
        ({"METRICS_REGION": "tokyo", "PROBE_REGION": "us-west-2"}, "METRICS_REGION: 'tokyo' is not a Region name"),
        ({"METRICS_REGION": "us-west-2", "PROBE_REGION": "us-west-2"}, "PROBE_REGION: 'us-west-2' is the home Region"),
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


# --- the contract and the front end -------------------------------------------------------------------


def test_strict_contract_restores_the_strict_checks_and_reading() -> None:
    settings = settings_from_env({"HEALTH_CONTRACT": "strict"})
    assert settings.checks == parse_checks(STRICT_CHECK_SPECS, default_timeout_ms=3000)
    assert settings.reading is STRICT
    # and the default is tolerant
    assert settings_from_env({}).reading is TOLERANT


def test_metric_paths_reach_the_reading() -> None:
    settings = settings_from_env({"SERVICE_METRIC_PATHS": json.dumps({"cpu_percent": ["process.cpu"]})})
    assert [source.path for source in settings.reading.metric_paths.cpu_percent] == ["process.cpu"]


def test_frontend_url_adds_the_frontend_check_after_the_others() -> None:
    # Given the front end's URL, a marker and a budget
    env = {
        "FRONTEND_URL": "https://app.example.com/",
        "FRONTEND_MARKER": "__NEXT_DATA__",
        "FRONTEND_LATENCY_BUDGET_MS": "2500",
    }
    settings = settings_from_env(env)
    # Then the default checks run, then `frontend`, with the page conditions and the default timeout
    assert [check.name for check in settings.checks] == ["live", "ready", "health", "metrics", "frontend"]
    frontend = settings.checks[-1]
    assert settings.url_of(frontend) == "https://app.example.com/"
    assert (frontend.timeout_ms, frontend.latency_budget_ms) == (6000, 2500)
    assert frontend.conditions == (
        StatusIn((200,)),
        ContentTypeIs("text/html"),
        BodyContains("__NEXT_DATA__"),
        LatencyBelow(2500),
    )
    # And it is added to configured checks too
    checks = [{"name": "ping", "url": "/ping", "conditions": [{"status": 200}]}]
    with_checks = settings_from_env({**env, "CHECKS": json.dumps(checks)})
    assert [check.name for check in with_checks.checks] == ["ping", "frontend"]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"HEALTH_CONTRACT": "lenient"}, "HEALTH_CONTRACT: 'lenient' must be one of tolerant, strict"),
        ({"SERVICE_METRIC_PATHS": "{"}, "SERVICE_METRIC_PATHS: not valid JSON"),
        ({"SERVICE_METRIC_PATHS": '{"disk": []}'}, "SERVICE_METRIC_PATHS: metric_paths: unknown number(s) disk"),
        (
            {"HEALTH_CONTRACT": "strict", "SERVICE_METRIC_PATHS": '{"cpu_percent": []}'},
            "SERVICE_METRIC_PATHS: metric_paths apply to the tolerant contract",
        ),
        ({"FRONTEND_URL": "app.example.com"}, "FRONTEND_URL: 'app.example.com' is not an http(s) URL"),
        ({"FRONTEND_URL": "https://a.example", "FRONTEND_TIMEOUT_MS": "2000"}, "(frontend): latency budget 3000 ms"),
        ({"FRONTEND_URL": "https://a.example", "FRONTEND_LATENCY_BUDGET_MS": "fast"}, "FRONTEND_LATENCY_BUDGET_MS"),
        (
            {"FRONTEND_URL": "https://a.example", "CHECKS": '[{"name": "frontend", "url": "/", "conditions": '
             '[{"status": 200}]}]'},
            "check names must be unique: frontend",
        ),
    ],
)  # fmt: skip
def test_invalid_contract_and_frontend_settings_are_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as raised:
        settings_from_env(env)
    assert message in str(raised.value)


def test_a_frontend_url_with_credentials_is_refused_without_echoing_it() -> None:
    with pytest.raises(SettingsError) as raised:
        settings_from_env({"FRONTEND_URL": "https://preview:hunter2-s3cret@app.example.com/"})
    assert str(raised.value).startswith("FRONTEND_URL: must not contain credentials")
    assert "hunter2-s3cret" not in str(raised.value)


def test_a_probe_stacks_variables_make_the_monitor_a_probe() -> None:
    # Given what a probe stack's construct writes (settings.probe_environment)
    settings = settings_from_env(probe_environment(region="us-west-2", home="ap-northeast-1"))
    # Then the monitor runs the same checks as a probe of us-west-2 reporting into ap-northeast-1
    assert settings.probe == ProbeRegion(region="us-west-2", home="ap-northeast-1")
    assert settings.checks == DEFAULT_CHECKS
    # And without them it is the home monitor (EMF)
    assert settings_from_env({}).probe is None
