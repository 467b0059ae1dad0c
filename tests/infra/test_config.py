"""Bad configs fail with one line that names the file and the field."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from aws_cdk import App

from infra.config import CONFIG_DIR, ConfigError, load_config
from infra.stack import MonitoringStack

REPO_ROOT = Path(__file__).resolve().parents[2]


def _write_variant(tmp_path: Path, change: dict[str, object], remove: tuple[str, ...] = ()) -> Path:
    data = yaml.safe_load((CONFIG_DIR / "staging.yaml").read_text())
    for dotted in remove:
        *parents, leaf = dotted.split(".")
        node = data
        for part in parents:
            node = node[part]
        del node[leaf]
    for dotted, value in change.items():
        *parents, leaf = dotted.split(".")
        node = data
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    (tmp_path / "staging.yaml").write_text(yaml.safe_dump(data))
    return tmp_path


def test_shipped_configs_load() -> None:
    assert load_config("staging").thresholds.ecs_cpu_percent == 80
    assert load_config("production").rds.max_connections == 1802


@pytest.mark.parametrize(
    ("change", "remove", "expected"),
    [
        ({}, ("rds.max_connections",), "rds.max_connections: Field required"),
        ({"rds.max_connections": "lots"}, (), "rds.max_connections: Input should be a valid integer"),
        (
            {"thresholds.ecs_cpu_percent": 150},
            (),
            "thresholds.ecs_cpu_percent: Input should be less than or equal to 100",
        ),
        (
            {"log_retention.error": 100},
            (),
            "log_retention.error: Value error, 100 is not a CloudWatch retention",
        ),
        ({"display_time_zone": "Mars/Olympus"}, (), "display_time_zone: Value error, unknown time zone"),
        ({"alb.full_name": "my-alb"}, (), "alb.full_name: String should match pattern"),
        ({"surprise": 1}, (), "surprise: unknown key (not a setting of EnvironmentConfig in infra/config.py)"),
        (
            {"synthetics.run_deadline_ms": 29000},
            (),
            "synthetics: Value error, run_deadline_ms must stay well below",
        ),
    ],
)
def test_bad_value_names_file_and_field(
    tmp_path: Path, change: dict[str, object], remove: tuple[str, ...], expected: str
) -> None:
    # Given a staging config with one bad or missing value
    config_dir = _write_variant(tmp_path, change, remove)
    # When it is loaded
    with pytest.raises(ConfigError) as raised:
        load_config("staging", config_dir)
    # Then the one-line message names the file and the field
    message = str(raised.value)
    assert message.startswith(f"{config_dir / 'staging.yaml'}: {expected}")
    assert "\n" not in message


@pytest.mark.parametrize(
    ("change", "remove", "expected"),
    [
        # a required key mistyped: the typo is the cause, the "missing" key its consequence
        ({"servce_name": "peoplebooster"}, ("service_name",),
         "servce_name: unknown key (did you mean service_name?) (and 1 more)"),
        ({"ecs.cluster_nme": "peoplebooster-staging"}, ("ecs.cluster_name",),
         "ecs.cluster_nme: unknown key (did you mean cluster_name?) (and 1 more)"),
        # keys with defaults: only the typo is wrong
        ({"thresholds.ecs_cpu_precent": 90}, (),
         "thresholds.ecs_cpu_precent: unknown key (did you mean ecs_cpu_percent?)"),
        ({"thresholds.ecs_backnd_cpu_percent": 90}, (),
         "thresholds.ecs_backnd_cpu_percent: unknown key (did you mean ecs_backend_cpu_percent?)"),
        ({"router.incidents.sweep_minuts": 5}, (),
         "router.incidents.sweep_minuts: unknown key (did you mean sweep_minutes?)"),
        ({"synthetics.vpc": {"vpc_id": "vpc-0a", "subnet_id": ["subnet-0a"], "security_group_ids": ["sg-0a"]}}, (),
         "synthetics.vpc.subnet_id: unknown key (did you mean subnet_ids?) (and 1 more)"),
        # nothing close: say where the keys are
        ({"thresholds.pager_volume": 11}, (),
         "thresholds.pager_volume: unknown key (not a setting of Thresholds in infra/config.py)"),
    ],
)  # fmt: skip
def test_a_mistyped_key_is_named_as_unknown_before_anything_it_makes_missing(
    tmp_path: Path, change: dict[str, object], remove: tuple[str, ...], expected: str
) -> None:
    # Given a staging config with a key spelled wrong (the right key gone, when it is required)
    config_dir = _write_variant(tmp_path, change, remove)
    # When it is loaded
    with pytest.raises(ConfigError) as raised:
        load_config("staging", config_dir)
    # Then the one line names the unknown key and the key it most likely means, never "Field required" first
    assert str(raised.value) == f"{config_dir / 'staging.yaml'}: {expected}"


def test_a_mistyped_key_inside_a_list_item_is_named_with_its_index(tmp_path: Path) -> None:
    # Given the second target group's full_name spelled wrong
    data = yaml.safe_load((CONFIG_DIR / "staging.yaml").read_text())
    group = data["alb"]["target_groups"][1]
    group["ful_name"] = group.pop("full_name")
    (tmp_path / "staging.yaml").write_text(yaml.safe_dump(data))
    # Then the message points at that item and suggests the field of a target group
    with pytest.raises(ConfigError) as raised:
        load_config("staging", tmp_path)
    assert str(raised.value) == (
        f"{tmp_path / 'staging.yaml'}: alb.target_groups.1.ful_name: unknown key (did you mean full_name?) (and 1 more)"
    )


def test_per_service_ecs_thresholds_override_the_shared_ones(tmp_path: Path) -> None:
    # Given an override for the frontend's CPU and the backend's memory only
    config_dir = _write_variant(
        tmp_path, {"thresholds.ecs_frontend_cpu_percent": 90, "thresholds.ecs_backend_memory_percent": 85}
    )
    thresholds = load_config("staging", config_dir).thresholds
    # Then those services use them, and the others keep the report's 80%
    assert (thresholds.ecs_cpu_for("backend"), thresholds.ecs_cpu_for("frontend")) == (80, 90)
    assert (thresholds.ecs_memory_for("backend"), thresholds.ecs_memory_for("frontend")) == (85, 80)
    # And an override is a percentage like the shared value
    with pytest.raises(ConfigError, match=r"thresholds.ecs_backend_cpu_percent: Input should be less than or equal"):
        load_config("staging", _write_variant(tmp_path, {"thresholds.ecs_backend_cpu_percent": 150}))


def test_unknown_environment_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown environment 'qa'"):
        load_config("qa")
    with pytest.raises(ConfigError, match=r"staging\.yaml: file not found"):
        load_config("staging", tmp_path)


def test_file_for_another_environment_is_refused(tmp_path: Path) -> None:
    config_dir = _write_variant(tmp_path, {"environment": "production"})
    with pytest.raises(ConfigError, match="says 'production' but the file is for 'staging'"):
        load_config("staging", config_dir)


@pytest.mark.slow
def test_cdk_app_prints_one_clear_line_for_an_unknown_environment() -> None:
    # Given the CDK app as `cdk synth -c env=qa` would run it
    env = {**os.environ, "CDK_CONTEXT_JSON": '{"env": "qa"}', "CDK_OUTDIR": "/tmp/never-written"}
    result = subprocess.run(
        [sys.executable, "app.py"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # Then it exits 1 with one line, not a jsii stack trace
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "config error: unknown environment 'qa': use one of staging, production"
    ]


def test_shipped_config_errors_name_the_file_as_the_user_sees_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the shipped production file without its fallback email (the second path for the router's alarms)
    data = yaml.safe_load((CONFIG_DIR / "production.yaml").read_text())
    del data["router"]["fallback_email"]
    monkeypatch.setattr(yaml, "safe_load", lambda _text: data)
    # Then production refuses it, naming config/production.yaml relative to the repository
    with pytest.raises(ConfigError) as raised:
        load_config("production")
    assert str(raised.value).startswith(
        "config/production.yaml: (top level): Value error, router.fallback_email is required in production"
    )


def test_a_window_covering_every_critical_alarm_of_the_stack_needs_the_flag(tmp_path: Path) -> None:
    # Given a weekly window whose pattern is not a catch-all, but covers every Critical alarm of this stack
    window = {
        "name": "weekly",
        "match": "peoplebooster-staging-*",
        "days": ["sun"],
        "start": "02:00",
        "end": "04:00",
        "time_zone": "Asia/Tokyo",
    }
    config = load_config("staging", _write_variant(tmp_path, {"router.incidents": {"maintenance_windows": [window]}}))
    # When the stack is built, then it refuses with one line naming the field
    with pytest.raises(ConfigError, match=r"maintenance_windows\.0\.match: 'peoplebooster-staging-\*' silences every"):
        MonitoringStack(App(), config=config)
    # And with the explicit flag it builds
    flagged = {**window, "allow_all_critical": True}
    config = load_config("staging", _write_variant(tmp_path, {"router.incidents": {"maintenance_windows": [flagged]}}))
    assert MonitoringStack(App(), config=config).alarm_factory.critical_names
    # And a window for one resource builds without it
    narrow = {**window, "match": "peoplebooster-staging-rds-*"}
    config = load_config("staging", _write_variant(tmp_path, {"router.incidents": {"maintenance_windows": [narrow]}}))
    assert MonitoringStack(App(), config=config)
