"""Incident history entries (lambdas/shared/incident_history.py) fit the deployed incident table.

The writer (the router, later) may only use what the router's role is granted; the reader (make alarm-report)
must find every entry through the Scan's pages; TTL must be the table's own attribute.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from infra.constructs.alert_router import INCIDENT_TABLE_ACTIONS
from lambdas.shared.incident_history import TTL_ATTRIBUTE, HistoryEntry, put_request
from tests.aws_tables import create_table
from tests.infra.conftest import Synthesized
from tools.alarm_report.aws import incident_history
from tools.alarm_report.episodes import Period

START = datetime(2026, 11, 20, tzinfo=UTC)
ARN = "arn:aws:cloudwatch:ap-northeast-1:123456789012:alarm:peoplebooster-staging-rds-cpu-high"


def _table_with_our_ttl(synth: Synthesized) -> dict[str, Any]:
    """DynamoDB has one TTL attribute per table: the incident table's must be the one the entries carry."""
    found = {
        logical_id: resource["Properties"]
        for logical_id, resource in synth.resources("AWS::DynamoDB::Table").items()
        if resource["Properties"].get("TimeToLiveSpecification") == {"AttributeName": TTL_ATTRIBUTE, "Enabled": True}
    }
    assert list(found) == [synth.raw["Outputs"]["IncidentTableName"]["Value"]["Ref"]]
    return next(iter(found.values()))


def _entry(minutes: float, state: str = "ALARM", **more: Any) -> HistoryEntry:
    old = "OK" if state == "ALARM" else "ALARM"
    at = (START + timedelta(minutes=minutes)).timestamp()
    return HistoryEntry(ARN, "peoplebooster-staging-rds-cpu-high", state, old, at, **more)


@pytest.fixture
def table(staging: Synthesized, moto_dynamodb: Any) -> Any:
    create_table(moto_dynamodb, "incidents", _table_with_our_ttl(staging))
    return moto_dynamodb


def test_the_writer_needs_only_what_the_router_is_granted(table: Any) -> None:
    # Given every DynamoDB operation recorded
    calls: list[str] = []
    table.meta.events.register("before-parameter-build.dynamodb.*", lambda model, **_: calls.append(model.name))
    # When the router records an ALARM, its OK, and then the acknowledgement of the ALARM
    table.put_item(**put_request("incidents", _entry(0)))
    table.put_item(**put_request("incidents", _entry(30, "OK")))
    table.put_item(**put_request("incidents", _entry(0, acked_by="alice", acked_at=START.timestamp() + 240)))
    # Then it used PutItem only, which the router's role has on the table
    assert {f"dynamodb:{name}" for name in calls} <= set(INCIDENT_TABLE_ACTIONS)
    # And the acknowledgement replaced the ALARM entry instead of adding one
    items = table.scan(TableName="incidents")["Items"]
    assert sorted((i["state"]["S"], "acked_by" in i) for i in items) == [("ALARM", True), ("OK", False)]
    # And no entry is in the sweep index (the sweep reads only what needs it)
    swept = table.scan(TableName="incidents", IndexName="sweep")["Items"]
    assert swept == []


def test_the_reader_follows_every_page_and_keeps_to_the_period(table: Any) -> None:
    # Given 7 entries, one of them a day before the period, and a scan forced into pages of 2 items
    for minutes in (-1440, 0, 10, 60, 70, 300, 305):
        state = "ALARM" if minutes in (-1440, 0, 60, 300) else "OK"
        table.put_item(**put_request("incidents", _entry(minutes, state)))
    table.put_item(TableName="incidents", Item={"pk": {"S": "incident#x"}, "kind": {"S": "incident"}})

    def small_pages(params: dict[str, Any], **_: Any) -> None:
        params["Limit"] = 2

    table.meta.events.register("provide-client-params.dynamodb.Scan", small_pages)
    pages: list[str] = []
    table.meta.events.register("before-parameter-build.dynamodb.Scan", lambda **_: pages.append("scan"))
    # When the report reads the period
    entries, unreadable = incident_history(table, "incidents", Period(START, START + timedelta(days=1)))
    # Then it has the six entries of the period, nothing else, and needed several pages for it
    assert sorted(e.changed_at for e in entries) == [
        (START + timedelta(minutes=m)).timestamp() for m in (0, 10, 60, 70, 300, 305)
    ]
    assert unreadable == 0  # the incident record is filtered out by the scan, not misread
    assert len(pages) >= 4
