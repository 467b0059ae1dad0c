"""Issue 13: the stack writes which fault each alarm belongs to, and config says how the router groups and
how its SQS intake reads; both are checked by the router's own rules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infra.config import ConfigError, GroupingConfig, load_config
from lambdas.alert_router.grouping.keys import GROUPING_LIMITS, group_key, parse_grouping
from lambdas.alert_router.grouping.plan import Group, Routed, plan_deliveries
from lambdas.alert_router.intake.events import parse_sns_message
from lambdas.alert_router.routing.route import RoutingConfig, route
from lambdas.alert_router.settings import settings_from_env
from lambdas.shared.alarm_metadata import parse_alarm_metadata
from tests.infra.conftest import Synthesized
from tests.infra.test_config import _write_variant
from tools.demo import lambda_environment


def _notification(alarm: dict[str, Any], state: str = "ALARM") -> str:
    """The alarm's notification as SNS delivers it, as far as grouping reads it (name, description, metric)."""
    return json.dumps(
        {
            "AlarmName": alarm["AlarmName"],
            "AlarmDescription": alarm["AlarmDescription"],
            "NewStateValue": state,
            "OldStateValue": "OK",
            "StateChangeTime": "2026-12-01T03:00:00.000+0000",
            "AlarmArn": f"arn:aws:cloudwatch:ap-northeast-1:111122223333:alarm:{alarm['AlarmName']}",
            "Trigger": {
                "Namespace": alarm.get("Namespace"),
                "MetricName": alarm.get("MetricName"),
                "Dimensions": [{"name": d["Name"], "value": str(d["Value"])} for d in alarm.get("Dimensions", [])],
            },
        }
    )


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_the_database_fault_is_one_group_that_names_its_cause(
    synthesized: dict[str, Synthesized], environment: str
) -> None:
    # Given the three alarms the demo's database fault fires, as their notifications arrive
    synth = synthesized[environment]
    alarms = synth.alarms_by_name()
    names = [f"{synth.config.prefix}-synthetic-{n}" for n in ("ready-failing", "health-failing", "dependency-database")]
    alerts = [parse_sns_message(_notification(alarms[name])) for name in names]
    config = settings_from_env(lambda_environment(synth.raw, "lambdas.alert_router")).grouping
    routed = [Routed(alert, route(alert, RoutingConfig())) for alert in alerts]
    # When the router groups them with the environment's settings
    (group,) = plan_deliveries(routed, config)
    # Then they are one message in the critical channel, leading with the cause the dependency names
    assert isinstance(group, Group)
    assert group.channel == "alerts-critical"
    assert group.fault == "Database unhealthy"
    assert group.key == f"synthetic {synth.config.health_base_url.host}"


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_every_alarm_has_a_group_and_the_router_reads_it(synthesized: dict[str, Synthesized], environment: str) -> None:
    synth = synthesized[environment]
    for name, alarm in synth.alarms_by_name().items():
        alert = parse_sns_message(_notification(alarm))
        key = group_key(alert, route(alert, RoutingConfig()), parse_grouping({}))
        line = parse_alarm_metadata(str(alarm["AlarmDescription"])).group
        # the Group line, or (metrics named by tokens until deploy) the resource from the notification
        assert key is not None, name
        assert line is None or key == line, name


def test_the_routers_own_alarms_are_one_group(staging: Synthesized) -> None:
    lines = {
        name: parse_alarm_metadata(str(alarm["AlarmDescription"])).group
        for name, alarm in staging.alarms_by_name().items()
        if "-router-" in name
    }
    assert len(lines) >= 8
    assert set(lines.values()) == {"alert-router"}


def test_config_bounds_are_the_routers() -> None:
    for name, (low, high) in GROUPING_LIMITS.items():
        field = GroupingConfig.model_fields[name]
        bounds = {type(item).__name__: item for item in field.metadata}
        assert (bounds["Ge"].ge, bounds["Le"].le) == (low, high), name


def test_the_shipped_grouping_reaches_the_router_and_the_event_source(staging: Synthesized) -> None:
    env = lambda_environment(staging.raw, "lambdas.alert_router")
    assert json.loads(env["GROUPING"]) == staging.config.router.grouping.lambda_spec()
    assert settings_from_env(env).grouping.storm_threshold == staging.config.router.grouping.storm_threshold


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"router.grouping.wait_seconds": 0},
            "router: Value error, intake.batch_size above 10 needs grouping.wait_seconds of at least 1",
        ),
        (
            {"router.intake.max_concurrency": 1},
            "router.intake.max_concurrency: Input should be greater than or equal to 2",
        ),
        ({"router.intake.max_concurrency": 3}, "router: Value error, intake.max_concurrency must not exceed"),
        ({"router.grouping.storm_threshold": 1}, "router.grouping.storm_threshold: Input should be greater than"),
        ({"router.grouping.overrides": [{"match": "x"}]}, "router.grouping.overrides.0.group: Field required"),
    ],
)
def test_bad_grouping_or_intake_config_names_the_field(
    tmp_path: Path, change: dict[str, object], expected: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config("staging", _write_variant(tmp_path, change))
    assert str(raised.value).startswith(f"{tmp_path / 'staging.yaml'}: {expected}")


def test_no_batching_window_is_allowed_with_batches_of_ten(tmp_path: Path) -> None:
    config = load_config(
        "staging", _write_variant(tmp_path, {"router.grouping.wait_seconds": 0, "router.intake.batch_size": 10})
    )
    assert config.router.grouping.wait_seconds == 0
