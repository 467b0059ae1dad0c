"""Grouping (issue 13): which fault an alert belongs to, one message per fault, inhibition, storms."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lambdas.alert_router.grouping.keys import (
    GROUPING_LIMITS,
    GroupingConfig,
    GroupingError,
    GroupOverride,
    group_key,
    parse_grouping,
)
from lambdas.alert_router.grouping.plan import Digest, Group, Routed, plan_deliveries
from lambdas.alert_router.models import Alert, SourceKind, State
from lambdas.alert_router.routing.route import RoutingConfig, route
from lambdas.shared.alarm_metadata import (
    Category,
    Severity,
    format_alarm_description,
    parse_alarm_metadata,
    resource_group,
)

T0 = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
HOST = "synthetic api.example.com"


def alarm(
    name: str,
    *,
    severity: Severity = Severity.WARNING,
    category: Category = Category.ERRORS,
    group: str | None = HOST,
    fault: str | None = None,
    state: State = State.ALARM,
    at: datetime = T0,
    namespace: str = "PeopleBooster/Synthetics",
    dimensions: tuple[tuple[str, str], ...] = (("check", "x"), ("environment", "prod")),
) -> Routed:
    description = format_alarm_description(
        f"{name} is failing.",
        severity=severity,
        category=category,
        runbook_url="https://example.com/runbooks/x.md",
        group=group,
        fault=fault,
    )
    alert = Alert(
        source=SourceKind.SNS_ALARM,
        message_id=f"m-{name}-{state.value}",
        alarm_name=f"pb-prod-{name}",
        description=description,
        state=state,
        previous_state=State.OK if state is State.ALARM else State.ALARM,
        namespace=namespace,
        metric_name="CheckSuccess",
        dimensions=dimensions,
        state_change_time=at,
        region="ap-northeast-1",
    )
    return Routed(alert, route(alert, RoutingConfig()))


def database_fault(state: State = State.ALARM) -> list[Routed]:
    """The demo's fault: /health/ready failing (critical), /health failing, the database dependency."""
    return [
        alarm("synthetic-health-failing", state=state),
        alarm("synthetic-dependency-database", fault="Database unhealthy", state=state),
        alarm("synthetic-ready-failing", severity=Severity.CRITICAL, state=state, at=T0 + timedelta(seconds=1)),
    ]


# --- the metadata line -------------------------------------------------------------------------------------------


def test_group_and_fault_lines_round_trip_beside_severity() -> None:
    text = format_alarm_description(
        "x", severity=Severity.WARNING, category=Category.ERRORS, runbook_url="https://r", group="g  h", fault="F"
    )
    assert text.splitlines()[2:] == [
        "Severity: warning",
        "Category: errors",
        "Group: g h",
        "Fault: F",
        "Runbook: https://r",
    ]
    metadata = parse_alarm_metadata(text)
    assert (metadata.group, metadata.fault, metadata.runbook_url) == ("g h", "F", "https://r")


def test_resource_group_ignores_dimension_order_and_the_environment() -> None:
    one = resource_group("AWS/ECS", [("ServiceName", "api"), ("ClusterName", "c"), ("environment", "prod")])
    other = resource_group("AWS/ECS", [("ClusterName", "c"), ("ServiceName", "api")])
    assert one == other == "AWS/ECS ClusterName=c ServiceName=api"


# --- the key -----------------------------------------------------------------------------------------------------


def test_key_comes_from_an_override_then_the_group_line_then_the_resource() -> None:
    lined = alarm("a")
    assert group_key(lined.alert, lined.route, GroupingConfig()) == HOST
    overridden = GroupingConfig(overrides=(GroupOverride(match="pb-prod-a", group="mine"),))
    assert group_key(lined.alert, lined.route, overridden) == "mine"
    # an alarm made elsewhere (no Group line) groups by the resource its metric watches
    foreign = alarm("b", group=None, namespace="AWS/RDS", dimensions=(("DBInstanceIdentifier", "db-1"),))
    assert group_key(foreign.alert, foreign.route, GroupingConfig()) == "AWS/RDS DBInstanceIdentifier=db-1"


@pytest.mark.parametrize(
    "alert",
    [
        Alert(source=SourceKind.UNPARSED, raw_text="plain"),
        Alert(
            source=SourceKind.SNS_ALARM, alarm_name="a", state=State.INSUFFICIENT_DATA, namespace="N", metric_name="M"
        ),
        Alert(source=SourceKind.SENTRY, alarm_name="s", state=State.ALARM),
    ],
    ids=["unparsed", "monitoring-blind", "sentry"],
)
def test_what_is_told_on_its_own_never_groups(alert: Alert) -> None:
    assert group_key(alert, route(alert, RoutingConfig()), GroupingConfig()) is None


def test_grouping_off_makes_every_alert_its_own_message() -> None:
    plan = plan_deliveries(database_fault(), GroupingConfig(enabled=False))
    assert [len(d.members) for d in plan] == [1, 1, 1]


# --- one message per fault -------------------------------------------------------------------------------------


def test_one_fault_is_one_message_led_by_its_most_severe_member_in_its_channel() -> None:
    # Given the database fault's three alarms in one batch
    (group,) = plan_deliveries(database_fault(), GroupingConfig())
    # Then they are one message, in the critical channel, led by the critical alarm, every member in it
    assert isinstance(group, Group)
    assert group.channel == "alerts-critical"
    assert group.lead.alert.alarm_name == "pb-prod-synthetic-ready-failing"
    assert {m.alert.alarm_name for m in group.members} == {m.alert.alarm_name for m in database_fault()}
    assert group.fault == "Database unhealthy"
    # And the warnings, routed to the errors channel, are folded (inhibited): nothing else is posted
    assert {m.channel for m in group.folded} == {"alerts-errors"}
    assert group.echoes == ()


def test_with_inhibition_off_folded_members_also_post_in_their_own_channel() -> None:
    plan = plan_deliveries(database_fault(), GroupingConfig(inhibit=False))
    group = next(d for d in plan if isinstance(d, Group) and len(d.members) == 3)
    echoes = [d for d in plan if d is not group]
    assert len(group.echoes) == 2
    assert sorted((d.channel, d.members[0].alert.alarm_name) for d in echoes) == [
        ("alerts-errors", "pb-prod-synthetic-dependency-database"),
        ("alerts-errors", "pb-prod-synthetic-health-failing"),
    ]


def test_recoveries_group_the_same_way_but_never_with_alarms() -> None:
    plan = plan_deliveries([*database_fault(State.ALARM), *database_fault(State.OK)], GroupingConfig())
    assert sorted((d.members[0].alert.state, len(d.members)) for d in plan) == [(State.ALARM, 3), (State.OK, 3)]


def test_other_faults_stay_apart_and_the_most_severe_is_delivered_first() -> None:
    rds = alarm("rds-cpu-high", group=None, namespace="AWS/RDS", dimensions=(("DBInstanceIdentifier", "db"),))
    plan = plan_deliveries([rds, *database_fault()], GroupingConfig())
    assert [d.members[0].alert.alarm_name for d in plan] == ["pb-prod-synthetic-ready-failing", "pb-prod-rds-cpu-high"]


# --- storms ----------------------------------------------------------------------------------------------------


def storm(count: int) -> list[Routed]:
    return [
        alarm(f"svc{i:03d}-cpu-high", group=f"svc{i // 4}", category=Category.PERFORMANCE, at=T0 + timedelta(seconds=i))
        for i in range(count)
    ]


def test_a_channel_with_more_alerts_than_the_threshold_gets_one_digest_naming_every_one() -> None:
    alerts = storm(21)
    (digest,) = plan_deliveries(alerts, GroupingConfig(storm_threshold=20))
    assert isinstance(digest, Digest)
    assert digest.channel == "alerts-performance"
    assert sorted(str(m.alert.alarm_name) for m in digest.members) == sorted(str(a.alert.alarm_name) for a in alerts)
    assert len(digest.groups) == 6  # svc0 .. svc5, four each


def test_at_the_threshold_a_channel_still_gets_its_messages() -> None:
    plan = plan_deliveries(storm(20), GroupingConfig(storm_threshold=20))
    assert all(isinstance(d, Group) for d in plan)
    assert sum(len(d.members) for d in plan) == 20


def test_a_storm_in_one_channel_leaves_the_others_alone() -> None:
    plan = plan_deliveries([*storm(30), *database_fault()], GroupingConfig(storm_threshold=20))
    assert sorted((type(d).__name__, d.channel) for d in plan) == [
        ("Digest", "alerts-performance"),
        ("Group", "alerts-critical"),
    ]


# --- the setting -----------------------------------------------------------------------------------------------


def test_parse_grouping_reads_every_field() -> None:
    config = parse_grouping(
        {
            "enabled": True,
            "inhibit": False,
            "storm_threshold": 50,
            "join_window_minutes": 10,
            "overrides": [{"match": "*-rds-*", "group": "database"}],
        }
    )
    assert config == GroupingConfig(
        inhibit=False, storm_threshold=50, join_window_seconds=600, overrides=(GroupOverride("*-rds-*", "database"),)
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([], "must be a JSON object"),
        ({"inhibt": True}, "unknown key 'inhibt'"),
        ({"inhibit": "yes"}, "inhibit must be true or false"),
        ({"storm_threshold": GROUPING_LIMITS["storm_threshold"][1] + 1}, "storm_threshold must be a whole number"),
        ({"join_window_minutes": 0}, "join_window_minutes must be a whole number"),
        ({"overrides": [{"match": "x"}]}, "overrides[0] must have exactly 'match' and 'group'"),
        ({"overrides": [{"match": " ", "group": "g"}]}, "overrides[0].match must be a non-empty"),
    ],
)
def test_parse_grouping_names_what_is_wrong(value: object, message: str) -> None:
    with pytest.raises(GroupingError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_grouping(value)
