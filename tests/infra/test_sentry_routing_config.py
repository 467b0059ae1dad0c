"""Issue 8: the Sentry routing table is data in config, parsed by the router's own parser on both sides."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.config import CONFIG_DIR, ConfigError, load_config
from infra.constructs.alert_router import router_environment
from lambdas.alert_router.intake.events import parse_event
from lambdas.alert_router.models import Alert
from lambdas.alert_router.routing.route import route
from lambdas.alert_router.routing.sentry_rules import SentryRouting, SentryRoutingError, parse_sentry_routing
from lambdas.alert_router.settings import SettingsError, settings_from_env
from lambdas.shared.sentry_envelope import sentry_envelope
from tests.infra.conftest import Synthesized
from tools.sentry_events import EVENTS


def _config_dir(tmp_path: Path, sentry_routing: dict[str, Any] | None) -> Path:
    data = yaml.safe_load((CONFIG_DIR / "staging.yaml").read_text())
    if sentry_routing is not None:
        data.setdefault("router", {})["sentry_routing"] = sentry_routing
    (tmp_path / "staging.yaml").write_text(yaml.safe_dump(data))
    return tmp_path


def _sentry_alert(name: str) -> Alert:
    resource, request_id, payload, _ = EVENTS[name]
    message = sentry_envelope(resource=resource, delivery_id=request_id, hook_timestamp=None, payload=payload)
    [alert] = parse_event({"Records": [{"Sns": {"MessageId": "sns-1", "Message": json.dumps(message)}}]})
    return alert


def _channel_through_the_environment(config_dir: Path, event_name: str) -> str | None:
    # config -> the function's environment (as the construct writes it) -> the router's settings -> route
    config = load_config("staging", config_dir)
    settings = settings_from_env(router_environment(config, dashboard_name="d"))
    return route(_sentry_alert(event_name), settings.routing).channel


@pytest.mark.parametrize(
    ("event_name", "default_channel", "override", "overridden_channel"),
    [
        # an error-count metric alert is an error by default; this team counts every metric alert as performance
        ("metric_alert_warning.json", "alerts-errors", {"performance_aggregate": ".*"}, "alerts-performance"),
        # a new error issue pages when "error" is a critical level here
        ("issue_created.json", "alerts-errors", {"critical_levels": "fatal|error"}, "alerts-critical"),
        # a fatal event stops paging when no level is critical (an empty regex matches nothing)
        ("event_alert_fatal.json", "alerts-critical", {"critical_levels": ""}, "alerts-errors"),
    ],
)
def test_a_config_override_changes_where_a_sentry_alert_lands(
    tmp_path: Path, event_name: str, default_channel: str, override: dict[str, str], overridden_channel: str
) -> None:
    # Given the shipped config (no sentry_routing) and the same config with one entry replaced
    (tmp_path / "default").mkdir()
    (tmp_path / "changed").mkdir()
    default_dir = _config_dir(tmp_path / "default", None)
    changed_dir = _config_dir(tmp_path / "changed", override)
    # When the same Sentry alert is routed with each
    # Then the default lands where the code's table sends it, and the override moves it
    assert _channel_through_the_environment(default_dir, event_name) == default_channel
    assert _channel_through_the_environment(changed_dir, event_name) == overridden_channel


def test_without_the_section_the_table_is_the_codes_defaults() -> None:
    config = load_config("staging")
    assert config.router.sentry_routing == {}
    settings = settings_from_env(router_environment(config, dashboard_name="d"))
    assert settings.routing.sentry == SentryRouting()


@pytest.mark.parametrize(
    ("sentry_routing", "expected"),
    [
        (
            {"critical_levels": "(fatal"},
            "router.sentry_routing: Value error, critical_levels: not a regular expression",
        ),
        ({"critical_level": "fatal"}, "router.sentry_routing: Value error, unknown entry 'critical_level': use"),
        ({"critical_levels": 3}, "router.sentry_routing.critical_levels: Input should be a valid string"),
    ],
)
def test_a_bad_entry_names_file_and_field(tmp_path: Path, sentry_routing: dict[str, Any], expected: str) -> None:
    config_dir = _config_dir(tmp_path, sentry_routing)
    with pytest.raises(ConfigError) as raised:
        load_config("staging", config_dir)
    message = str(raised.value)
    assert message.startswith(f"{config_dir / 'staging.yaml'}: {expected}")
    assert "\n" not in message


def test_the_router_rejects_what_the_config_rejects() -> None:
    # the same parser: a bad SENTRY_ROUTING stops the function with a message naming the variable
    with pytest.raises(SentryRoutingError, match="not a regular expression"):
        parse_sentry_routing({"critical_rule": "[unclosed"})
    with pytest.raises(SettingsError, match=r"^SENTRY_ROUTING: critical_rule: not a regular expression"):
        settings_from_env({"SENTRY_ROUTING": '{"critical_rule": "[unclosed"}'})
    with pytest.raises(SettingsError, match=r"^SENTRY_ROUTING is not valid JSON"):
        settings_from_env({"SENTRY_ROUTING": "{"})
    with pytest.raises(SettingsError, match=r"^SENTRY_ROUTING: must be an object"):
        settings_from_env({"SENTRY_ROUTING": "[]"})


def test_the_template_carries_the_whole_table(synthesized: dict[str, Synthesized]) -> None:
    for synth in synthesized.values():
        (function,) = [
            resource["Properties"]
            for resource in synth.resources("AWS::Lambda::Function").values()
            if resource["Properties"]["Handler"] == "lambdas.alert_router.handler.lambda_handler"
        ]
        table = json.loads(function["Environment"]["Variables"]["SENTRY_ROUTING"])
        assert table == dataclasses.asdict(synth.config.router.sentry_routing_table())
        assert set(table) == {entry.name for entry in dataclasses.fields(SentryRouting)}
