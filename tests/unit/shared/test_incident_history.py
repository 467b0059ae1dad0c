"""The incident history item format shared by the router (writer) and the alarm report (reader)."""

from __future__ import annotations

from typing import Any

import pytest

from lambdas.shared.incident_history import (
    HISTORY_TTL_SECONDS,
    HistoryEntry,
    HistoryItemError,
    from_item,
    put_request,
    scan_request,
    to_item,
)

ARN = "arn:aws:cloudwatch:ap-northeast-1:123456789012:alarm:peoplebooster-production-rds-cpu-high"
CHANGED = 1_764_000_000.25  # 2025-11-24T16:00:00.25Z


def _entry(**overrides: Any) -> HistoryEntry:
    values: dict[str, Any] = {
        "alarm_key": ARN,
        "alarm_name": "peoplebooster-production-rds-cpu-high",
        "state": "ALARM",
        "old_state": "OK",
        "changed_at": CHANGED,
        **overrides,
    }
    return HistoryEntry(**values)


def test_an_entry_survives_the_item_round_trip_with_and_without_the_optional_fields() -> None:
    plain = _entry()
    acked = _entry(message_ts="1764000000.000100", acked_by="alice", acked_at=CHANGED + 240)
    for entry in (plain, acked):
        assert from_item(to_item(entry)) == entry
    assert {"message_ts", "acked_by", "acked_at"}.isdisjoint(to_item(plain))


def test_the_key_is_unique_per_change_and_stable_for_a_re_put() -> None:
    # The same change acknowledged later is the same item: the writer re-puts it, nothing is duplicated
    assert _entry().pk == _entry(acked_by="alice", acked_at=CHANGED + 60).pk
    assert _entry().pk == f"history#{ARN}#1764000000250#ALARM"
    assert _entry().pk != _entry(state="OK", old_state="ALARM").pk
    assert _entry().pk != _entry(changed_at=CHANGED + 0.001).pk


def test_ttl_is_ninety_days_after_the_change_in_epoch_seconds() -> None:
    # DynamoDB TTL wants a Number in Unix epoch seconds:
    # https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/time-to-live-ttl-before-you-start.html
    item = to_item(_entry(acked_by="alice", acked_at=CHANGED + 86_400))
    assert HISTORY_TTL_SECONDS == 90 * 24 * 3600
    assert item["expires_at"] == {"N": str(int(CHANGED) + 90 * 86_400)}
    assert "sweep" not in item  # history never enters the sweep index


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"kind": {"S": "incident"}}, "kind is 'incident'"),
        ({"state": {"S": "FIRE"}}, "state 'FIRE'"),
        ({"old_state": None}, "'old_state' missing"),
        ({"changed_at": {"S": "yesterday"}}, "'changed_at' missing or not a number"),
        ({"changed_at": {"N": "soon"}}, "'changed_at' is not a number"),
        ({"alarm_name": {"S": ""}}, "alarm_key and alarm_name are required"),
    ],
)
def test_other_items_are_refused_with_the_attribute_named(change: dict[str, Any], expected: str) -> None:
    item = {**to_item(_entry()), **change}
    item = {name: value for name, value in item.items() if value is not None}
    with pytest.raises(HistoryItemError, match=expected):
        from_item(item)


def test_requests_name_the_table() -> None:
    assert put_request("t", _entry())["TableName"] == "t"
    scan = scan_request("t", 1.0, 2.0)
    assert scan["TableName"] == "t"
    assert scan["ExpressionAttributeValues"][":since"] == {"N": "1.0"}
