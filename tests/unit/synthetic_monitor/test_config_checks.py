"""infra/config.py validates `synthetics.checks` with the monitor's own parser."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from infra.config import SyntheticsConfig
from lambdas.synthetic_monitor.checks import DEFAULT_CHECKS


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
