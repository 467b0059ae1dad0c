"""`make alarm-report ENV=staging` against AWS stand-ins: moto for DescribeAlarms, GetMetricData and DynamoDB,
a botocore Stubber for DescribeAlarmHistory (moto 5.2 does not implement it).

The alarms put into moto are the staging stack's own, from its synthesized template; the config keys come
from the same derivation the tool runs; the suggested change is applied and synthesized again.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from infra.config import CONFIG_DIR, load_config
from lambdas.shared.incident_history import HistoryEntry, put_request
from tests.aws_tables import FAKE_CREDENTIALS, INCIDENT_TABLE, REGION, create_table
from tools.alarm_report.cli import Clients, _parser, run
from tools.alarm_report.config_keys import alarm_properties, config_change, derive_key_effects, synthesize
from tools.alarm_report.tuning import KeyEffect

pytestmark = pytest.mark.slow

NOW = datetime(2026, 11, 22, tzinfo=UTC)
SINCE = NOW - timedelta(days=2)
PREFIX = "peoplebooster-staging-"
CPU = PREFIX + "ecs-backend-cpu-high"
CPU_DIMENSIONS = [
    {"Name": "ClusterName", "Value": "peoplebooster-staging"},
    {"Name": "ServiceName", "Value": "peoplebooster-staging-backend"},
]
ARN = f"arn:aws:cloudwatch:{REGION}:123456789012:alarm:{CPU}"
# Three 6-minute spikes to 85 % and a 60-minute incident at 95 % (minutes after SINCE). With 5 of 5 one-minute
# datapoints above 80 the alarm fires at the end of a spike's fifth minute and clears two minutes later; the
# incident alarms at +5 and clears at +61 (tests/unit/tools/test_alarm_report_tuning.py works this out).
FLAPS_AT = (300, 1500, 2400)
INCIDENT_AT = 1800
EPISODES = [(m + 5, m + 7) for m in FLAPS_AT] + [(INCIDENT_AT + 5, INCIDENT_AT + 61)]


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return dict(synthesize(load_config("staging")))


@pytest.fixture(scope="module")
def effects() -> dict[str, list[KeyEffect]]:
    return derive_key_effects(load_config("staging"))


def test_config_keys_are_derived_from_what_synthesis_does(effects: dict[str, list[KeyEffect]]) -> None:
    def of(name: str) -> set[tuple[str, str, float, float]]:
        return {(e.key, e.prop, round(e.scale, 6), round(e.offset, 6)) for e in effects.get(PREFIX + name, [])}

    # A percent threshold is the key itself; 5 of 5 one-minute datapoints is evaluation_minutes twice
    window = {
        ("thresholds.evaluation_minutes", "EvaluationPeriods", 1, 0),
        ("thresholds.evaluation_minutes", "DatapointsToAlarm", 1, 0),
    }
    assert of("ecs-backend-cpu-high") == {("thresholds.ecs_cpu_percent", "Threshold", 1, 0), *window}
    # RDS connections: 80 % of max_connections (225 in config/staging.yaml) -> threshold = 2.25 * percent
    assert of("rds-connections-high") == {("thresholds.rds_connections_percent", "Threshold", 2.25, 0), *window}
    # The 5xx alarms sum over one period of evaluation_minutes: the key sets the period (60 s per minute)
    assert of("alb-backend-target-5xx") == {
        ("thresholds.alb_target_5xx_count", "Threshold", 1, 0),
        ("thresholds.evaluation_minutes", "Period", 60, 0),
    }
    # The synthetic checks alarm on alarm_datapoints of the same number of one-minute runs
    assert of("synthetic-live-failing") == {
        ("synthetics.alarm_datapoints", "EvaluationPeriods", 1, 0),
        ("synthetics.alarm_datapoints", "DatapointsToAlarm", 1, 0),
    }
    # The router's own alarms have no key
    assert of("router-dead-letter-queue") == set()


def _put_alarms(cloudwatch: Any, template: dict[str, Any]) -> list[str]:
    """The template's alarms as PutMetricAlarm arguments (tokens in dimensions become placeholders)."""
    names = []
    keys = (
        "AlarmName", "AlarmDescription", "Namespace", "MetricName", "Statistic", "ExtendedStatistic", "Period",
        "EvaluationPeriods", "DatapointsToAlarm", "Threshold", "ComparisonOperator", "TreatMissingData",
    )  # fmt: skip
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::CloudWatch::Alarm":
            continue
        props = resource["Properties"]
        arguments = {key: props[key] for key in keys if key in props}
        arguments["Dimensions"] = [
            {"Name": d["Name"], "Value": d["Value"] if isinstance(d["Value"], str) else "token"}
            for d in props.get("Dimensions", [])
        ]
        cloudwatch.put_metric_alarm(**arguments)
        names.append(props["AlarmName"])
    return sorted(names)


def _put_cpu_metric(cloudwatch: Any) -> None:
    values = dict.fromkeys(range(-10, 2 * 24 * 60), 50.0)
    for first in FLAPS_AT:
        values.update(dict.fromkeys(range(first, first + 6), 85.0))
    values.update(dict.fromkeys(range(INCIDENT_AT, INCIDENT_AT + 60), 95.0))
    data = [
        {
            "MetricName": "CPUUtilization",
            "Dimensions": CPU_DIMENSIONS,
            "Timestamp": SINCE + timedelta(minutes=minute, seconds=20),
            "Value": value,
        }
        for minute, value in sorted(values.items())
    ]
    for start in range(0, len(data), 500):
        cloudwatch.put_metric_data(Namespace="AWS/ECS", MetricData=data[start : start + 500])


def _state_item(minute: int, old: str, new: str) -> dict[str, Any]:
    data = {"version": "1.0", "oldState": {"stateValue": old}, "newState": {"stateValue": new, "stateReason": "r"}}
    return {
        "AlarmName": CPU,
        "AlarmType": "MetricAlarm",
        "Timestamp": SINCE + timedelta(minutes=minute),
        "HistoryItemType": "StateUpdate",
        "HistoryData": json.dumps(data),
        "HistorySummary": f"Alarm updated from {old} to {new}",
    }


def _stub_history(client: Any, names: list[str]) -> Stubber:
    """DescribeAlarmHistory is not in moto: each alarm's pages stubbed, the CPU alarm's split in two."""
    stubber = Stubber(client)
    items = [
        item for start, end in EPISODES for item in (_state_item(start, "OK", "ALARM"), _state_item(end, "ALARM", "OK"))
    ]
    expected = {"HistoryItemType": "StateUpdate", "StartDate": SINCE, "EndDate": NOW, "ScanBy": "TimestampAscending"}
    for name in names:
        if name == CPU:
            stubber.add_response(
                "describe_alarm_history",
                {"AlarmHistoryItems": items[:5], "NextToken": "page-2"},
                {"AlarmName": name, **expected},
            )
            stubber.add_response(
                "describe_alarm_history",
                {"AlarmHistoryItems": items[5:]},
                {"AlarmName": name, **expected, "NextToken": "page-2"},
            )
        else:
            stubber.add_response("describe_alarm_history", {"AlarmHistoryItems": []}, {"AlarmName": name, **expected})
    stubber.activate()
    return stubber


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("INCIDENT_TABLE_NAME", raising=False)
    with mock_aws():
        yield


def _args(out: Path, *extra: str) -> argparse.Namespace:
    return _parser().parse_args(["--env", "staging", "--days", "2", "--out", str(out), *extra])


def test_report_from_aws_with_a_tuning_suggestion(
    aws: None, template: dict[str, Any], effects: dict[str, list[KeyEffect]], tmp_path: Path
) -> None:
    # Given the staging alarms in CloudWatch, the CPU metric of a flapping alarm, its history, and the incident
    # history of bot-token mode with the incident acknowledged
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    names = _put_alarms(cloudwatch, template)
    _put_cpu_metric(cloudwatch)
    stubber = _stub_history(boto3.client("cloudwatch", region_name=REGION), names)
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    create_table(dynamodb, "incidents", INCIDENT_TABLE)
    for start, end in EPISODES:
        opened, resolved = ((SINCE + timedelta(minutes=m)).timestamp() for m in (start, end))
        incident = start == INCIDENT_AT + 5
        by, at = ("alice", opened + 180) if incident else (None, None)
        for entry in (
            HistoryEntry(ARN, CPU, "ALARM", "OK", opened, message_ts="1763683200.000100", acked_by=by, acked_at=at),
            HistoryEntry(ARN, CPU, "OK", "ALARM", resolved, message_ts="1763683200.000100"),
        ):
            dynamodb.put_item(**put_request("incidents", entry))
    clients = Clients(cloudwatch, stubber.client, dynamodb)

    # When the report is made for the last two days
    args = _args(tmp_path, "--table", "incidents")
    paths = run(args, clients=clients, now=NOW, environ={}, derive=lambda _: effects)

    # Then every alarm's history was asked for, page by page
    stubber.assert_no_pending_responses()
    markdown = (tmp_path / "report.md").read_text()
    assert [p.name for p in paths] == ["report.md", "timeline.png", "hours.png"]
    assert f"prefix `{PREFIX}`, {len(names)} alarms (0 composite)" in markdown
    row = next(line for line in markdown.splitlines() if line.startswith("| 1 | `ecs-backend-cpu-high`"))
    # 4 firings, 3 flaps of 2 min in 2 days, 3 x 3 + 0 (the incident was acknowledged) = 9
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert (cells[2], cells[3], cells[8], cells[10]) == ("4", "1.50", "1/4 (25%)", "9")
    # The quiet alarms of the stack are listed too
    assert f"- {len(names) - 1}: " in markdown
    # And the tuning suggestion is the threshold between the flaps (85) and the incident (95), as a config change
    tuning = markdown.split("## Tuning suggestions", 1)[1]
    assert "Suggested: **thresholds.ecs_cpu_percent: 80 -> 88 (threshold 80 -> 88)**" in tuning
    assert "3 flaps and 1 incident of at least 15 min" in tuning
    assert "keeps every incident, fires during none of the flaps, and detects the incidents 0 min later" in tuning
    assert "The same key also drives `ecs-frontend-cpu-high`." in tuning
    assert "+thresholds:\n+  ecs_cpu_percent: 88\n" in tuning
    assert "--- a/config/staging.yaml\n+++ b/config/staging.yaml\n" in tuning


def test_the_suggested_change_synthesizes_to_the_suggested_threshold(tmp_path: Path) -> None:
    # Given the change the report shows, applied to a copy of the config directory
    changed, _ = config_change(
        CONFIG_DIR / "staging.yaml", "thresholds.rds_connections_percent", 84, shown_as="config/staging.yaml"
    )
    for name in os.listdir(CONFIG_DIR):
        (tmp_path / name).write_text((CONFIG_DIR / name).read_text())
    (tmp_path / "staging.yaml").write_text(changed)
    # When the stack is synthesized from it
    alarms = alarm_properties(synthesize(load_config("staging", tmp_path)))
    # Then the RDS connections alarm has 84 % of max_connections 225 as its threshold
    assert alarms[PREFIX + "rds-connections-high"]["Threshold"] == pytest.approx(0.84 * 225)


def test_without_an_incident_table_acknowledgements_are_not_available(aws: None, tmp_path: Path) -> None:
    # Given one alarm and no incident table to be found (webhook mode or not deployed)
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    cloudwatch.put_metric_alarm(
        AlarmName=CPU, Namespace="AWS/ECS", MetricName="CPUUtilization", Dimensions=CPU_DIMENSIONS,
        Statistic="Average", Period=60, EvaluationPeriods=5, Threshold=80, ComparisonOperator="GreaterThanThreshold",
    )  # fmt: skip
    stubber = _stub_history(boto3.client("cloudwatch", region_name=REGION), [CPU])
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    with Stubber(cloudformation) as lookup:  # moto's CloudFormation needs extras this project does not install
        lookup.add_client_error("describe_stacks", "ValidationError", "Stack with id x does not exist")
        clients = Clients(cloudwatch, stubber.client, boto3.client("dynamodb", region_name=REGION), cloudformation)
        run(_args(tmp_path), clients=clients, now=NOW, environ={}, derive=lambda _: {})
    markdown = (tmp_path / "report.md").read_text()
    assert "Acknowledged: n/a: no incident table (" in markdown
    row = next(line for line in markdown.splitlines() if "`ecs-backend-cpu-high`" in line)
    assert "| n/a |" in row
