"""What preflight and smoke read from the real synthesized templates: the reserved concurrency the deploy will
ask Lambda for (issue 17, item 9) and the alarm smoke drives by default."""

from __future__ import annotations

from typing import Any

from tests.infra.conftest import Synthesized
from tools.preflight_rules import ReservedFunction, reserved_functions
from tools.smoke import candidates_of, choose

ACCOUNT_REGION = "ap-northeast-1:123456789012"


def test_production_reserves_10_concurrent_executions(production: Synthesized) -> None:
    assert reserved_functions(production.raw) == [
        ReservedFunction("peoplebooster-production-alert-router", 5),
        ReservedFunction("peoplebooster-production-sentry-intake", 2),
        ReservedFunction("peoplebooster-production-slack-actions", 2),
        ReservedFunction("peoplebooster-production-synthetic-monitor", 1),
    ]


def _deployed_alarms(synthesized: Synthesized) -> list[dict[str, Any]]:
    """The template's alarms as DescribeAlarms would return them once deployed (topic Refs resolved), all OK."""
    topics = {
        logical_id: f"arn:aws:sns:{ACCOUNT_REGION}:{topic['Properties']['TopicName']}"
        for logical_id, topic in synthesized.resources("AWS::SNS::Topic").items()
    }
    alarms = []
    for properties in synthesized.alarms_by_name().values():
        alarm = {key: value for key, value in properties.items() if key != "AlarmActions"}
        alarm["AlarmActions"] = [topics[action["Ref"]] for action in properties.get("AlarmActions", [])]
        alarm["StateValue"] = "OK"
        alarms.append(alarm)
    return alarms


def test_smoke_drives_a_non_paging_alarm_of_the_real_stack_by_default(staging: Synthesized) -> None:
    config = staging.config
    topic = f"arn:aws:sns:{ACCOUNT_REGION}:{config.prefix}-alerts"
    found = candidates_of(config, _deployed_alarms(staging))
    chosen = choose(config, found, topic, None, allow_critical=False)
    assert chosen.name == f"{config.prefix}-synthetic-metrics-failing"
    assert (chosen.route.channel, chosen.route.severity.value, chosen.actions) == ("alerts-errors", "warning", (topic,))
    # And the alarms the router pages for are the ones the stack marks critical
    paging = sorted(c.name for c in found if c.route.channel == config.slack_channels.critical)
    assert paging == sorted(config.prefix + "-" + name for name in _critical_names(staging))


def _critical_names(synthesized: Synthesized) -> list[str]:
    prefix = f"{synthesized.config.prefix}-"
    return [
        name.removeprefix(prefix)
        for name, properties in synthesized.alarms_by_name().items()
        if "Severity: critical" in properties.get("AlarmDescription", "")
    ]
