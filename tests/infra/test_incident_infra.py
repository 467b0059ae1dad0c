"""Issue 7's infrastructure: the incident table, its grants, the sweep schedule, the settings and the dashboard row."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.config import CONFIG_DIR, ConfigError, load_config
from infra.constructs.alert_router import INCIDENT_INDEX_ACTIONS, INCIDENT_TABLE_ACTIONS
from lambdas.alert_router.incidents.model import Incident
from lambdas.alert_router.incidents.silences import parse_windows
from lambdas.alert_router.incidents.store import (
    Conflict,
    DynamoDBIncidentStore,
    create_silence,
    expire_silence,
    list_silences,
)
from lambdas.alert_router.intake.events import is_sweep
from lambdas.alert_router.settings import settings_from_env
from lambdas.shared.alarm_metadata import parse_alarm_metadata
from tests.aws_tables import CREATE_ARGUMENTS, IDEMPOTENCY_TABLE, INCIDENT_TABLE, RESULTS_TABLE, create_table
from tests.infra.conftest import Synthesized, resolve_join
from tools.silence import critical_alarm_names

ROUTER_HANDLER = "lambdas.alert_router.handler.lambda_handler"
SWEEP_EVENT = Path(__file__).resolve().parents[2] / "events" / "alert_router" / "scheduled" / "sweep.json"


def _router(synth: Synthesized) -> tuple[str, dict[str, Any]]:
    ((logical_id, function),) = [
        (logical_id, resource["Properties"])
        for logical_id, resource in synth.resources("AWS::Lambda::Function").items()
        if resource["Properties"]["Handler"] == ROUTER_HANDLER
    ]
    return logical_id, function


def _incident_table(synth: Synthesized) -> tuple[str, dict[str, Any]]:
    ((logical_id, resource),) = [
        (logical_id, resource)
        for logical_id, resource in synth.resources("AWS::DynamoDB::Table").items()
        if resource["Properties"]["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    ]
    return logical_id, resource


# --- the table ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("environment", "policy"), [("staging", "Delete"), ("production", "RetainExceptOnCreate")])
def test_incident_table_keys_index_ttl_pitr_and_retention(
    synthesized: dict[str, Synthesized], environment: str, policy: str
) -> None:
    # Given the synthesized environment, when its incident table is read
    _, resource = _incident_table(synthesized[environment])
    table = resource["Properties"]
    # Then it is the design of lambdas/alert_router/incidents/store.py
    assert table["AttributeDefinitions"] == [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "sweep", "AttributeType": "S"},
    ]
    assert table["GlobalSecondaryIndexes"] == [
        {
            "IndexName": "sweep",
            "KeySchema": [{"AttributeName": "sweep", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL"},
        }
    ]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["SSESpecification"] == {"SSEEnabled": True}
    # And open incidents and silences outlive a deleted production stack
    assert resource["DeletionPolicy"] == policy
    assert resource["UpdateReplacePolicy"] == ("Delete" if policy == "Delete" else "Retain")


def test_table_name_is_a_stack_output_and_the_function_setting(staging: Synthesized) -> None:
    table_id, _ = _incident_table(staging)
    _, function = _router(staging)
    assert staging.raw["Outputs"]["IncidentTableName"]["Value"] == {"Ref": table_id}
    assert function["Environment"]["Variables"]["INCIDENT_TABLE_NAME"] == {"Ref": table_id}


def test_the_moto_tables_of_the_tests_are_the_deployed_ones(staging: Synthesized) -> None:
    # Given the synthesized tables, reduced to what create_table takes
    deployed = [
        {key: table["Properties"][key] for key in CREATE_ARGUMENTS if key in table["Properties"]}
        for table in staging.resources("AWS::DynamoDB::Table").values()
    ]
    # Then the definitions the integration tests build their moto tables from are exactly those
    assert sorted(map(repr, deployed)) == sorted(map(repr, [INCIDENT_TABLE, IDEMPOTENCY_TABLE, RESULTS_TABLE]))


@pytest.fixture
def deployed_table(staging: Synthesized, moto_dynamodb: Any) -> Any:
    """A moto table created from the synthesized definition, with a client that records its operations."""
    _, resource = _incident_table(staging)
    create_table(moto_dynamodb, "incidents", resource["Properties"])
    return moto_dynamodb


def test_the_store_calls_only_what_the_role_grants(deployed_table: Any) -> None:
    # Given the store on the table as synthesized, with every DynamoDB operation recorded
    calls: list[tuple[str, str | None]] = []
    deployed_table.meta.events.register(
        "before-parameter-build.dynamodb.*",
        lambda model, params, **_: calls.append((model.name, params.get("IndexName"))),
    )
    store = DynamoDBIncidentStore("incidents", client=deployed_table)
    now = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)
    # When every operation of the lifecycle and the silence CLI runs, a lost race included
    incident = Incident(key="arn:a", alarm_name="a", channel="c", channel_id="C1", severity="critical", state="ALARM")
    stored = store.put_incident(incident, None)
    store.put_incident(stored, stored.version)
    with pytest.raises(Conflict):
        store.put_incident(stored, stored.version)
    assert store.get_incident("arn:a") is not None
    assert [i.key for i in store.sweep_incidents()] == []  # not open: not in the sparse index
    silence = create_silence(store, match="x-*", duration=timedelta(hours=1), reason="r", created_by="me", now=now)
    assert [s.id for s in list_silences(store, now=now)] == [silence.id]
    assert expire_silence(store, silence.id, now=now) is not None
    # Then it used GetItem and PutItem on the table and Query on the sweep index, nothing else
    actions = {f"dynamodb:{name}" for name, index in calls if index is None}
    index_actions = {f"dynamodb:{name}" for name, index in calls if index == "sweep"}
    assert actions == set(INCIDENT_TABLE_ACTIONS)
    assert index_actions == set(INCIDENT_INDEX_ACTIONS)
    assert {index for _, index in calls} == {None, "sweep"}


# --- the sweep schedule ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_sweep_rule_invokes_the_router_with_the_scheduled_event(
    synthesized: dict[str, Synthesized], environment: str
) -> None:
    synth = synthesized[environment]
    router_id, _ = _router(synth)
    ((rule_id, rule),) = [
        (logical_id, resource["Properties"])
        for logical_id, resource in synth.resources("AWS::Events::Rule").items()
        if resource["Properties"]["Name"] == f"{synth.config.prefix}-alert-router-sweep"
    ]
    assert rule["ScheduleExpression"] == f"rate({synth.config.router.incidents.sweep_minutes} minutes)"
    assert rule["State"] == "ENABLED"
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [router_id, "Arn"]}
    # The plain scheduled event (no Input): the shape of events/alert_router/scheduled/sweep.json
    assert not {"Input", "InputPath", "InputTransformer"} & set(target)
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": 300}
    sample = json.loads(SWEEP_EVENT.read_text())
    assert is_sweep(sample)
    assert sample["resources"][0].endswith(":rule/peoplebooster-production-alert-router-sweep")
    # And EventBridge may invoke the router from this rule only
    (permission,) = [
        p["Properties"]
        for p in synth.resources("AWS::Lambda::Permission").values()
        if p["Properties"]["Principal"] == "events.amazonaws.com"
        and p["Properties"]["FunctionName"] == {"Fn::GetAtt": [router_id, "Arn"]}
    ]
    assert permission["SourceArn"] == {"Fn::GetAtt": [rule_id, "Arn"]}


# --- settings ---------------------------------------------------------------------------------------------------


def _config_dir(tmp_path: Path, incidents: dict[str, Any]) -> Path:
    data = yaml.safe_load((CONFIG_DIR / "staging.yaml").read_text())
    data.setdefault("router", {})["incidents"] = incidents
    (tmp_path / "staging.yaml").write_text(yaml.safe_dump(data))
    return tmp_path


WINDOW = {
    "name": "weekly-db",
    "match": "peoplebooster-staging-rds-*",
    "days": ["sun"],
    "start": "02:00",
    "end": "04:00",
    "time_zone": "Asia/Tokyo",
}


def test_incident_settings_reach_the_router(staging: Synthesized) -> None:
    _, function = _router(staging)
    variables = function["Environment"]["Variables"]
    assert variables["REPEAT_INTERVAL_MINUTES"] == "60"
    assert variables["FLAPPING_TRANSITIONS"] == "4"
    assert variables["FLAPPING_WINDOW_MINUTES"] == "30"
    assert variables["MAINTENANCE_WINDOWS"] == "[]"


def test_configured_windows_and_intervals_mean_the_same_to_the_router(tmp_path: Path) -> None:
    from infra.constructs.alert_router import router_environment

    # Given a config with changed intervals and one maintenance window
    config = load_config(
        "staging",
        _config_dir(
            tmp_path,
            {
                "repeat_interval_minutes": 30,
                "flapping_transitions": 6,
                "flapping_window_minutes": 20,
                "sweep_minutes": 2,
                "maintenance_windows": [WINDOW],
            },
        ),
    )
    # When the router reads the environment the construct writes
    settings = settings_from_env(router_environment(config, dashboard_name="d"))
    # Then it runs with exactly those values
    assert settings.lifecycle.repeat_interval_seconds == 30 * 60
    assert settings.lifecycle.flapping_transitions == 6
    assert settings.lifecycle.flapping_window_seconds == 20 * 60
    assert settings.maintenance_windows == parse_windows([WINDOW])
    sunday_3am_tokyo = datetime(2026, 11, 28, 18, 0, tzinfo=UTC)
    assert settings.maintenance_windows[0].occurrence(sunday_3am_tokyo) is not None


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"end": "25:00"}, "router.incidents.maintenance_windows.0: Value error, ValueError hour must be in 0..23"),
        ({"start": "02:00", "end": "02:00"}, "router.incidents.maintenance_windows.0: Value error, needs a name"),
        ({"days": ["someday"]}, "router.incidents.maintenance_windows.0.days: Value error, unknown weekday 'someday'"),
        ({"time_zone": "Mars/Olympus"}, "router.incidents.maintenance_windows.0: Value error, ZoneInfoNotFoundError"),
        ({"match": "*"}, "router.incidents.maintenance_windows.0: Value error, match '*' silences every alarm"),
        ({"colour": "red"}, "router.incidents.maintenance_windows.0.colour: unknown key (not a setting of"),
    ],
)
def test_a_bad_maintenance_window_names_file_and_field(tmp_path: Path, change: dict[str, Any], expected: str) -> None:
    # Given a staging config with one bad maintenance window
    config_dir = _config_dir(tmp_path, {"maintenance_windows": [WINDOW | change]})
    # When it is loaded
    with pytest.raises(ConfigError) as raised:
        load_config("staging", config_dir)
    # Then one line names the file and the field
    message = str(raised.value)
    assert message.startswith(f"{config_dir / 'staging.yaml'}: {expected}"), message
    assert "\n" not in message


def test_a_window_silencing_everything_needs_the_flag(tmp_path: Path) -> None:
    config = load_config(
        "staging", _config_dir(tmp_path, {"maintenance_windows": [WINDOW | {"match": "*", "allow_all_critical": True}]})
    )
    assert config.router.incidents.maintenance_windows[0].lambda_spec() == WINDOW | {"match": "*"}


@pytest.mark.parametrize(
    ("incidents", "expected"),
    [
        ({"sweep_minutes": 45}, "router.incidents: Value error, sweep_minutes must not exceed"),
        ({"maintenance_windows": [WINDOW, WINDOW]}, "router.incidents: Value error, maintenance window names must be"),
        ({"flapping_transitions": 1}, "router.incidents.flapping_transitions: Input should be greater than or equal"),
    ],
)
def test_bad_incident_settings_name_file_and_field(tmp_path: Path, incidents: dict[str, Any], expected: str) -> None:
    config_dir = _config_dir(tmp_path, incidents)
    with pytest.raises(ConfigError, match=r"^.*staging\.yaml: " + expected.replace("(", r"\(")):
        load_config("staging", config_dir)


# --- dashboard and the critical alarms the silence guard knows -------------------------------------------------


def test_dashboard_has_an_incidents_row(staging: Synthesized) -> None:
    (dashboard,) = staging.resources("AWS::CloudWatch::Dashboard").values()
    widgets = json.loads(resolve_join(dashboard["Properties"]["DashboardBody"]))["widgets"]
    start = next(i for i, w in enumerate(widgets) if w["properties"].get("markdown") == "## Incidents")
    row = []
    for widget in widgets[start + 1 :]:
        if widget["type"] == "text":
            break
        row.append(widget)
    drawn = {}
    for widget in row:
        for metric in widget["properties"]["metrics"]:
            namespace, name, *pairs, options = metric
            assert namespace == "PeopleBooster/AlertRouter"
            assert dict(zip(pairs[::2], pairs[1::2], strict=True)) == {
                "service": "alert-router",
                "environment": "staging",
            }
            drawn[name] = options.get("stat", "Average")
    assert drawn == {
        "OpenIncidents": "Maximum",
        "GraphsAttached": "Sum",
        "Silenced": "Sum",
        "IncidentsOpened": "Sum",
        "ThreadReplies": "Sum",
        "RepeatAnnouncements": "Sum",
        "FlappingNotices": "Sum",
        "BlindNotices": "Sum",
        "ReAnchored": "Sum",
        "SweepFailures": "Sum",
        "Updates": "Sum",
        "UpdateFailures": "Sum",
    }
    assert sum(widget["width"] for widget in row) == 24


def test_critical_alarm_names_come_from_the_description_metadata(production: Synthesized) -> None:
    names = critical_alarm_names(production.raw)
    prefix = production.config.prefix
    assert f"{prefix}-router-dead-letter-queue" in names
    assert f"{prefix}-router-errors" not in names  # a warning
    every_critical = [
        name
        for name, alarm in production.alarms_by_name().items()
        if "Severity: critical" in str(alarm.get("AlarmDescription"))
    ]
    assert names == sorted(every_critical)


def test_a_sweep_failing_three_times_running_raises_a_warning_that_reaches_a_human(staging: Synthesized) -> None:
    # Given the alarm on the sweep's own failure count (the sweep logs and counts failures instead of raising)
    alarm = staging.alarms_by_name()["peoplebooster-staging-router-sweep-failing"]
    # Then it watches the handler's SweepFailures metric, over the sweep period, 3 sweeps running
    assert alarm["Namespace"] == "PeopleBooster/AlertRouter"
    assert alarm["MetricName"] == "SweepFailures"
    assert {d["Name"]: d["Value"] for d in alarm["Dimensions"]} == {
        "service": "alert-router",
        "environment": "staging",
    }
    assert (alarm["Statistic"], alarm["Period"], alarm["EvaluationPeriods"]) == ("Sum", 300, 3)
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanOrEqualToThreshold", 1)
    assert alarm["TreatMissingData"] == "notBreaching"
    metadata = parse_alarm_metadata(alarm["AlarmDescription"])
    assert (metadata.severity, metadata.category) == ("warning", "errors")
    assert alarm["AlarmActions"] == [staging.topic_ref("alerts"), staging.topic_ref("alerts-fallback")]
