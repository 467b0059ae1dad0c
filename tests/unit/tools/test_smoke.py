"""smoke's choice of alarm and where it says the message appears (the router's own routing)."""

from __future__ import annotations

from typing import Any

import pytest

from infra.config import EnvironmentConfig, load_config
from lambdas.shared.alarm_metadata import Category, Severity, format_alarm_description
from tools.smoke import SmokeError, candidates_of, choose, expected_route

TOPIC = "arn:aws:sns:ap-northeast-1:123456789012:peoplebooster-staging-alerts"
FALLBACK = f"{TOPIC}-fallback"


def alarm(
    name: str, severity: Severity, category: Category, *, state: str = "OK", actions: tuple[str, ...] = (TOPIC,)
) -> dict[str, Any]:
    """An alarm as DescribeAlarms returns it, with our metadata in its description."""
    return {
        "AlarmName": f"peoplebooster-staging-{name}",
        "AlarmDescription": format_alarm_description(
            "summary", severity=severity, category=category, runbook_url="https://runbooks/x.md"
        ),
        "StateValue": state,
        "AlarmActions": list(actions),
        "Namespace": "AWS/ECS",
        "MetricName": "CPUUtilization",
        "Dimensions": [{"Name": "ClusterName", "Value": "c"}],
    }


ALARMS = [
    alarm("alb-target-5xx", Severity.CRITICAL, Category.ERRORS),
    alarm("ecs-backend-cpu-high", Severity.WARNING, Category.PERFORMANCE),
    alarm("router-errors", Severity.WARNING, Category.ERRORS, actions=(TOPIC, FALLBACK)),
    alarm("synthetic-dependency-database", Severity.WARNING, Category.ERRORS),
    alarm("synthetic-metrics-failing", Severity.WARNING, Category.ERRORS),
]


@pytest.fixture(scope="module")
def staging() -> EnvironmentConfig:
    return load_config("staging")


def test_the_default_is_a_warning_for_the_errors_channel_that_only_reaches_the_alert_topic(
    staging: EnvironmentConfig,
) -> None:
    chosen = choose(staging, candidates_of(staging, ALARMS), TOPIC, None, allow_critical=False)
    assert (chosen.name, chosen.route.channel) == ("peoplebooster-staging-synthetic-metrics-failing", "alerts-errors")
    # Without the preferred one: the first other warning for #alerts-errors (router-errors also emails: never)
    others = [a for a in ALARMS if not a["AlarmName"].endswith("metrics-failing")]
    chosen = choose(staging, candidates_of(staging, others), TOPIC, None, allow_critical=False)
    assert chosen.name == "peoplebooster-staging-synthetic-dependency-database"


def test_an_alarm_that_pages_needs_allow_critical(staging: EnvironmentConfig) -> None:
    found = candidates_of(staging, ALARMS)
    name = "peoplebooster-staging-alb-target-5xx"
    with pytest.raises(
        SmokeError, match=r"posts to #alerts-critical and pages: warn the channel, then add ALLOW_CRITICAL"
    ):
        choose(staging, found, TOPIC, name, allow_critical=False)
    assert choose(staging, found, TOPIC, name, allow_critical=True).route.channel == "alerts-critical"


def test_an_alarm_in_alarm_now_or_unknown_is_refused(staging: EnvironmentConfig) -> None:
    firing = [alarm("synthetic-metrics-failing", Severity.WARNING, Category.ERRORS, state="ALARM")]
    with pytest.raises(SmokeError, match=r"no warning alarm for #alerts-errors is OK now"):
        choose(staging, candidates_of(staging, firing), TOPIC, None, allow_critical=False)
    with pytest.raises(SmokeError, match=r"is in ALARM now \(a real problem\?\)"):
        choose(staging, candidates_of(staging, firing), TOPIC, firing[0]["AlarmName"], allow_critical=False)
    with pytest.raises(SmokeError, match=r"^no alarm 'x' in the staging stack \(alarms: peoplebooster-staging-alb"):
        choose(staging, candidates_of(staging, ALARMS), TOPIC, "x", allow_critical=False)


def test_the_channel_follows_the_environments_channels_and_overrides(staging: EnvironmentConfig) -> None:
    # Given staging posting to its own channels, with an override sending RDS alarms elsewhere
    raw = staging.model_dump(mode="json")
    raw["slack_channels"]["errors"] = "stg-alerts-errors"
    raw["router"]["overrides"] = [{"match": "*-rds-*", "channel": "team-db"}]
    config = EnvironmentConfig.model_validate(raw)
    assert expected_route(config, ALARMS[-1]).channel == "stg-alerts-errors"
    assert expected_route(config, alarm("rds-cpu-high", Severity.WARNING, Category.PERFORMANCE)).channel == "team-db"
