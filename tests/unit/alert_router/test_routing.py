"""Routing: severity/category sources in order, the rule table, overrides and the state rules."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from lambdas.alert_router.models import Alert, MetricQuery, SourceKind, State
from lambdas.alert_router.routing.route import Override, RoutingConfig, data_arriving_after_deploy, route
from lambdas.shared.alarm_metadata import Category, Severity

CONFIG = RoutingConfig()


def alarm(
    *,
    name: str = "some-alarm",
    description: str | None = None,
    namespace: str | None = None,
    metric: str | None = None,
    dimensions: tuple[tuple[str, str], ...] = (),
    state: State = State.ALARM,
    previous: State | None = State.OK,
    metrics: tuple[MetricQuery, ...] = (),
) -> Alert:
    return Alert(
        source=SourceKind.SNS_ALARM,
        alarm_name=name,
        description=description,
        namespace=namespace,
        metric_name=metric,
        dimensions=dimensions,
        state=state,
        previous_state=previous,
        metrics=metrics,
    )


@pytest.mark.parametrize(
    ("namespace", "metric", "dimensions", "channel", "severity"),
    [
        ("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", (), "alerts-critical", Severity.CRITICAL),
        ("AWS/ECS", "CPUUtilization", (), "alerts-performance", Severity.WARNING),
        ("AWS/ECS", "MemoryUtilization", (), "alerts-performance", Severity.WARNING),
        ("AWS/ApplicationELB", "TargetResponseTime", (), "alerts-performance", Severity.WARNING),
        ("AWS/RDS", "DatabaseConnections", (), "alerts-performance", Severity.WARNING),
        ("AWS/ElastiCache", "CurrConnections", (), "alerts-performance", Severity.WARNING),
        ("AWS/Lambda", "Errors", (), "alerts-errors", Severity.WARNING),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible", (), "alerts-errors", Severity.WARNING),
        ("AWS/ApplicationELB", "UnHealthyHostCount", (), "alerts-errors", Severity.WARNING),
        ("AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", (), "alerts-errors", Severity.WARNING),
        ("PeopleBooster/Synthetics", "CheckSuccess", (("check", "live"),), "alerts-critical", Severity.CRITICAL),
        ("PeopleBooster/Synthetics", "CheckSuccess", (("check", "ready"),), "alerts-critical", Severity.CRITICAL),
        ("PeopleBooster/Synthetics", "CheckSuccess", (("check", "health"),), "alerts-errors", Severity.WARNING),
        ("PeopleBooster/Synthetics", "DependencyHealthy", (("check", "health"),), "alerts-errors", Severity.WARNING),
        ("PeopleBooster/Synthetics", "CertificateDaysRemaining", (), "alerts-errors", Severity.WARNING),
        ("PeopleBooster/Synthetics", "CheckLatency", (("check", "live"),), "alerts-performance", Severity.WARNING),
        ("Custom/Thing", "Widgets", (), "alerts-errors", Severity.WARNING),  # fallback
    ],
)
def test_default_rule_table(
    namespace: str, metric: str, dimensions: tuple[tuple[str, str], ...], channel: str, severity: Severity
) -> None:
    # Given an alarm made outside this stack (no metadata in its description)
    alert = alarm(namespace=namespace, metric=metric, dimensions=dimensions)
    # When routed
    decision = route(alert, CONFIG)
    # Then the rule table decides
    assert (decision.channel, decision.severity) == (channel, severity)


def test_metadata_beats_the_rule_table() -> None:
    alert = alarm(
        namespace="AWS/ApplicationELB",
        metric="HTTPCode_Target_5XX_Count",
        description="Staging 5xx.\n\nSeverity: warning\nCategory: errors\nRunbook: https://x.example/rb",
    )
    decision = route(alert, CONFIG)
    assert (decision.channel, decision.severity, decision.decided_by) == ("alerts-errors", Severity.WARNING, "metadata")


def test_critical_goes_to_the_critical_channel_whatever_the_category() -> None:
    alert = alarm(description="Severity: critical\nCategory: performance", metric="CPUUtilization", namespace="AWS/ECS")
    assert route(alert, CONFIG).channel == "alerts-critical"


@pytest.mark.parametrize(
    ("name", "description"),
    [
        ("db-down", "Severity: Fatal"),
        ("db-down", "[CRITICAL] primary database unreachable"),
        ("FATAL-db-down", None),
        ("db-down", "FATAL: primary lost"),
    ],
)
def test_explicit_words_make_an_alarm_critical(name: str, description: str | None) -> None:
    decision = route(alarm(name=name, description=description), CONFIG)
    assert (decision.channel, decision.decided_by) == ("alerts-critical", "explicit word")


def test_prose_critical_in_lower_case_is_not_a_severity() -> None:
    decision = route(alarm(description="latency on the critical path", metric="Latency", namespace="X"), CONFIG)
    assert decision.channel == "alerts-performance"


def test_override_wins_and_can_pick_a_channel() -> None:
    config = RoutingConfig(overrides=(Override(match="*-batch-*", severity=Severity.INFO, channel="alerts-batch"),))
    alert = alarm(name="prod-batch-cpu", description="Severity: critical", metric="CPUUtilization", namespace="AWS/ECS")
    decision = route(alert, config)
    assert (decision.channel, decision.severity, decision.decided_by) == (
        "alerts-batch",
        Severity.INFO,
        "override *-batch-*",
    )


def test_override_category_only_keeps_the_other_sources_for_severity() -> None:
    config = RoutingConfig(overrides=(Override(match="PROD-*", category=Category.PERFORMANCE),))
    decision = route(alarm(name="prod-queue-depth", metric="Widgets", namespace="X"), config)
    assert (decision.channel, decision.category, decision.decided_by) == (
        "alerts-performance",
        Category.PERFORMANCE,
        "fallback",
    )


def test_ok_goes_where_its_alarm_goes() -> None:
    firing = alarm(namespace="AWS/ApplicationELB", metric="HTTPCode_Target_5XX_Count")
    resolved = alarm(
        namespace="AWS/ApplicationELB", metric="HTTPCode_Target_5XX_Count", state=State.OK, previous=State.ALARM
    )
    assert route(resolved, CONFIG).channel == route(firing, CONFIG).channel == "alerts-critical"


@pytest.mark.parametrize(
    "config",
    [
        CONFIG,
        RoutingConfig(overrides=(Override(match="*", channel="alerts-critical"),)),
        RoutingConfig(overrides=(Override(match="*", channel="alerts-performance"),)),
        RoutingConfig(overrides=(Override(match="*", severity=Severity.CRITICAL, channel="team-db-pager"),)),
    ],
    ids=["metadata-critical", "override-to-critical", "override-to-performance", "override-to-a-pager"],
)
@pytest.mark.parametrize("stateful", [False, True], ids=["webhook-mode", "bot-token-mode"])
def test_insufficient_data_goes_to_the_errors_channel_whatever_the_overrides(
    config: RoutingConfig, stateful: bool
) -> None:
    # Given a critical alarm (by its metadata, or an override) that lost its data
    alert = alarm(description="Severity: critical\nCategory: performance", state=State.INSUFFICIENT_DATA)
    # Then it is a monitoring-blind notice: never a page, never the critical or the performance channel
    decision = route(alert, config, stateful=stateful)
    assert decision.channel == "alerts-errors"
    assert decision.severity is Severity.WARNING
    assert decision.note is not None
    assert "monitoring blind" in decision.note


def test_insufficient_data_to_ok_long_after_a_deploy_is_data_back_in_the_errors_channel() -> None:
    # Given an alarm configured a week before the data came back (an RDS instance restarted, say)
    alert = alarm(state=State.OK, previous=State.INSUFFICIENT_DATA, description="Severity: critical")
    alert = replace(
        alert,
        configuration_updated=datetime(2026, 11, 20, tzinfo=UTC),
        state_change_time=datetime(2026, 11, 29, tzinfo=UTC),
    )
    # Then it is "data is back" where the monitoring-blind notice was (webhook mode), not a page
    decision = route(alert, CONFIG)
    assert (decision.channel, decision.data_back) == ("alerts-errors", True)
    assert decision.severity is Severity.WARNING
    # And in bot-token mode the lifecycle decides (the incident's own channel)
    stateful = route(alert, CONFIG, stateful=True)
    assert (stateful.channel, stateful.data_back) == ("alerts-critical", False)


def test_insufficient_data_to_ok_is_suppressed_with_a_reason() -> None:
    decision = route(alarm(state=State.OK, previous=State.INSUFFICIENT_DATA), CONFIG)
    assert decision.suppressed
    assert decision.note is not None
    assert "not a recovery" in decision.note


def test_unparsed_is_info_in_errors_never_critical() -> None:
    unparsed = Alert(source=SourceKind.UNPARSED, raw_text="FATAL [CRITICAL] Severity: critical")
    decision = route(unparsed, CONFIG)
    assert (decision.channel, decision.severity) == ("alerts-errors", Severity.INFO)


def test_metric_math_alarm_is_routed_by_its_metrics() -> None:
    alert = alarm(
        metrics=(
            MetricQuery(id="e1", expression="m1/m2"),
            MetricQuery(id="m1", namespace="AWS/Lambda", metric_name="Errors"),
        )
    )
    assert route(alert, CONFIG).channel == "alerts-errors"


def at(minute: int) -> datetime:
    return datetime(2026, 11, 29, 3, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("configured", "changed", "suppressed"),
    [
        (at(0), at(14), True),  # data arriving 14 min after a deploy (re)wrote the alarm
        (at(20), at(14), True),  # the configuration written just after: the same deploy
        (None, at(14), True),  # no configuration time (EventBridge): as before, not announced
        (at(0), at(16), False),  # long after: ALARM -> INSUFFICIENT_DATA -> OK, a recovery
        (datetime(2026, 11, 20, tzinfo=UTC), at(14), False),
    ],
)
def test_insufficient_data_to_ok_is_suppressed_only_after_a_deploy(
    configured: datetime | None, changed: datetime, suppressed: bool
) -> None:
    alert = replace(
        alarm(state=State.OK, previous=State.INSUFFICIENT_DATA),
        configuration_updated=configured,
        state_change_time=changed,
    )
    decision = route(alert, CONFIG)
    assert decision.suppressed is suppressed
    assert data_arriving_after_deploy(alert)[0] is suppressed
    assert decision.channel == (None if suppressed else "alerts-errors")


def test_with_incident_state_insufficient_data_to_ok_goes_to_the_lifecycle() -> None:
    # bot-token mode: the lifecycle resolves an open incident or posts nothing, so routing keeps the channel
    alert = replace(alarm(state=State.OK, previous=State.INSUFFICIENT_DATA), state_change_time=at(1))
    assert route(alert, CONFIG).suppressed
    assert route(alert, CONFIG, stateful=True).channel == "alerts-errors"


def test_an_alarm_with_an_unknown_state_is_info_in_errors() -> None:
    alert = replace(alarm(description="Severity: critical"), state=None, raw_text='{"AlarmName": "some-alarm"}')
    decision = route(alert, CONFIG)
    assert (decision.channel, decision.severity) == ("alerts-errors", Severity.INFO)
