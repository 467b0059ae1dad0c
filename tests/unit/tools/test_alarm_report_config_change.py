"""A tuning suggestion written into config/<env>.yaml: placed where the config model reads it, or refused."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from infra.config import CONFIG_DIR
from tools.alarm_report.config_keys import ConfigChangeError, config_change

STAGING = (CONFIG_DIR / "staging.yaml").read_text()


def _change(tmp_path: Path, text: str, key: str, value: float) -> tuple[dict[str, object], str]:
    path = tmp_path / "staging.yaml"
    path.write_text(text)
    changed, diff = config_change(path, key, value, shown_as="config/staging.yaml")
    return yaml.safe_load(changed), diff


def test_a_missing_section_is_added(tmp_path: Path) -> None:
    assert "thresholds:" not in STAGING
    loaded, diff = _change(tmp_path, STAGING, "thresholds.ecs_cpu_percent", 88)
    assert loaded["thresholds"] == {"ecs_cpu_percent": 88}
    assert diff.endswith("+thresholds:\n+  ecs_cpu_percent: 88\n")


def test_an_existing_key_is_replaced_keeping_its_comment_and_its_neighbours(tmp_path: Path) -> None:
    text = STAGING + "thresholds:\n    rds_cpu_percent: 85   # raised after the migration\n    ecs_cpu_percent: 80\n"
    loaded, diff = _change(tmp_path, text, "thresholds.rds_cpu_percent", 90)
    assert loaded["thresholds"] == {"rds_cpu_percent": 90, "ecs_cpu_percent": 80}
    assert "-    rds_cpu_percent: 85   # raised after the migration\n" in diff
    assert "+    rds_cpu_percent: 90   # raised after the migration\n" in diff


def test_the_key_goes_to_the_section_level_not_into_a_nested_list(tmp_path: Path) -> None:
    text = STAGING.replace(
        "synthetics:\n  schedule_minutes: 1\n",
        "synthetics:\n  checks:\n    - name: live\n      url: /health/live\n      conditions: [{status: 200}]\n"
        "  schedule_minutes: 1\n",
    )
    loaded, _ = _change(tmp_path, text, "synthetics.alarm_datapoints", 4)
    synthetics = loaded["synthetics"]
    assert isinstance(synthetics, dict)
    assert synthetics["alarm_datapoints"] == 4
    assert synthetics["checks"] == [{"name": "live", "url": "/health/live", "conditions": [{"status": 200}]}]


def test_a_value_the_config_refuses_is_not_suggested(tmp_path: Path) -> None:
    with pytest.raises(ConfigChangeError, match=r"thresholds.ecs_cpu_percent: 120 would not validate"):
        _change(tmp_path, STAGING, "thresholds.ecs_cpu_percent", 120)


def test_an_inline_section_is_left_to_a_person(tmp_path: Path) -> None:
    with pytest.raises(ConfigChangeError, match="written inline"):
        _change(tmp_path, STAGING + "thresholds: {rds_cpu_percent: 85}\n", "thresholds.ecs_cpu_percent", 88)
