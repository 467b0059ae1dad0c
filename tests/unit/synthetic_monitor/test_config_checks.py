"""infra/config.py validates `synthetics.checks`, `contract`, `metric_paths` and `frontend_*` with the monitor's
own parsers, and the monitor reads back what config says."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from infra.config import ConfigError, SyntheticsConfig, load_config
from lambdas.synthetic_monitor.checks import DEFAULT_CHECKS
from lambdas.synthetic_monitor.settings import options_environment, settings_from_env
from tests.infra.test_config import _write_variant


def test_default_config_runs_the_default_checks() -> None:
    assert SyntheticsConfig().parsed_checks() == DEFAULT_CHECKS


def test_configured_checks_are_parsed_with_the_configured_timeout() -> None:
    config = SyntheticsConfig(
        check_timeout_ms=2000, checks=[{"name": "ping", "url": "/ping", "conditions": [{"status": 204}]}]
    )
    (check,) = config.parsed_checks()
    assert (check.name, check.timeout_ms) == ("ping", 2000)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"checks": [{"name": "ping", "url": "/ping", "conditions": [{"stauts": 200}]}]}, "unknown condition"),
        (
            {
                "run_deadline_ms": 5000,
                "checks": [{"name": "a", "url": "/a", "timeout_ms": 6000, "conditions": [{"status": 200}]}],
            },
            "checks a: timeout_ms must not exceed run_deadline_ms",
        ),
        ({"check_timeout_ms": 800}, "never fires"),
    ],
)
def test_bad_checks_stop_synthesis(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as raised:
        SyntheticsConfig(**settings)
    assert message in str(raised.value)


# --- contract and front end (issue 15) -------------------------------------------------------------------

FRONTEND = {"frontend_url": "https://app.example.com", "frontend_marker": "__NEXT_DATA__"}


def test_shipped_configs_check_the_front_end_with_the_tolerant_contract() -> None:
    for environment in ("staging", "production"):
        synthetics = load_config(environment).synthetics
        assert synthetics.contract == "tolerant"
        assert [check.name for check in synthetics.parsed_checks()][-1] == "frontend"


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"contract": "strict"},
        {**FRONTEND, "frontend_latency_budget_ms": 2000, "frontend_timeout_ms": 4000},
        {"metric_paths": {"memory_bytes": [{"path": "memory", "unit": "megabytes"}], "cpu_percent": []}, **FRONTEND},
        {"checks": [{"name": "ping", "url": "/ping", "conditions": [{"status": 204}]}], **FRONTEND},
    ],
    ids=["defaults", "strict", "frontend", "metric-paths", "own-checks"],
)
def test_the_monitor_reads_back_what_config_says(settings: dict[str, Any]) -> None:
    # Given a synthetics config
    config = SyntheticsConfig(**settings)
    # When its options travel as the monitor's environment (the variables the construct writes)
    env = options_environment(contract=config.contract, metric_paths=config.metric_paths, frontend=config.frontend())
    if config.checks is not None:
        env["CHECKS"] = json.dumps(config.checks)
    monitor = settings_from_env(env)
    # Then the monitor runs exactly the checks config validated, and reads bodies the way config says
    assert monitor.checks == config.parsed_checks()
    assert monitor.reading == config.reading()


def test_the_frontend_url_is_normalised_to_a_page() -> None:
    frontend = SyntheticsConfig.model_validate({"frontend_url": "https://app.example.com"}).frontend()
    assert frontend is not None
    assert frontend.url == "https://app.example.com/"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"contract": "lenient"}, "Input should be 'tolerant' or 'strict'"),
        ({"contract": "strict", "metric_paths": {"cpu_percent": []}}, "metric_paths apply to the tolerant contract"),
        ({"metric_paths": {"cpu_percent": ["a b"]}}, "metric_paths.cpu_percent[0]: 'a b' must be a dotted path"),
        ({**FRONTEND, "frontend_latency_budget_ms": 6000}, "(frontend): latency budget 6000 ms must be below"),
        ({**FRONTEND, "run_deadline_ms": 5000}, "checks frontend: timeout_ms must not exceed run_deadline_ms"),
        ({"frontend_url": "ftp://app.example.com"}, "URL scheme should be 'http' or 'https'"),
        ({**FRONTEND, "frontend_marker": ""}, "at least 1 character"),
    ],
)
def test_bad_contract_or_frontend_settings_stop_synthesis(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as raised:
        SyntheticsConfig(**settings)
    assert message in str(raised.value)


def test_a_frontend_url_with_credentials_stops_synthesis_without_echoing_it(tmp_path: Path) -> None:
    # Given staging's config with a front-end URL that carries a password (the rule of lambdas/shared/urls.py)
    config_dir = _write_variant(
        tmp_path, {"synthetics.frontend_url": "https://preview:hunter2-s3cret@app.example.com/"}
    )
    # When it is loaded, then one line names the field and the rule, never the secret
    with pytest.raises(ConfigError) as raised:
        load_config("staging", config_dir)
    message = str(raised.value)
    assert message.startswith(f"{config_dir / 'staging.yaml'}: synthetics.frontend_url: must not contain credentials")
    assert "hunter2-s3cret" not in message
