"""metric_paths candidates in each of their forms, and the contract validator's object rules."""

from __future__ import annotations

from typing import Any

import pytest

from lambdas.synthetic_monitor.contract import _check
from lambdas.synthetic_monitor.reading import NumberSource, ReadingError, parse_metric_paths


def test_every_candidate_form_is_read_in_its_numbers_unit() -> None:
    paths = parse_metric_paths(
        {
            "memory_bytes": ["mem.rss", {"path": "mem.heap"}, {"path": "mem.kb", "unit": "kilobytes"}],
            "cpu_percent": [{"free": "cpu.idle", "total": "cpu.all"}, {"used": "cpu.busy", "total": "cpu.all"}],
            "memory_percent": [],
        }
    )
    assert paths.memory_bytes == (
        NumberSource("mem.rss", "bytes"),  # a bare path and {path} are in the number's own (first) unit
        NumberSource("mem.heap", "bytes"),
        NumberSource("mem.kb", "kilobytes"),
    )
    assert paths.cpu_percent == (
        NumberSource("cpu.idle", "percent", total="cpu.all", free=True),
        NumberSource("cpu.busy", "percent", total="cpu.all", free=False),
    )
    assert paths.memory_percent == ()  # [] stops reading it


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            {"memory_bytes": [{"path": "x", "unit": "percent"}]},
            "metric_paths.memory_bytes[0].unit: 'percent' is not one of bytes, kilobytes, megabytes",
        ),
        (
            {"memory_bytes": [{"used": "a", "total": "b"}]},
            "metric_paths.memory_bytes[0]: expected a path, {path: P, unit: U}",
        ),
        (
            {"cpu_percent": [{"path": "x", "extra": 1}]},
            "metric_paths.cpu_percent[0]: expected a path, {path: P, unit: U}, {used: P, total: T} "
            "or {free: P, total: T}",
        ),
    ],
)
def test_a_candidate_of_another_form_is_refused_with_the_forms_it_may_take(raw: Any, message: str) -> None:
    with pytest.raises(ReadingError) as refused:
        parse_metric_paths(raw)
    assert str(refused.value) == message


def problems(value: Any, schema: dict[str, Any]) -> list[str]:
    found: list[str] = []
    _check(value, schema, "", found)
    return found


def test_a_closed_object_refuses_keys_it_does_not_name() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}, "additionalProperties": False}
    assert problems({"a": 1, "b": 2}, schema) == ["body.b not allowed"]
    assert problems({"a": 1, "b": 2}, {**schema, "additionalProperties": True}) == []


def test_an_object_of_entries_checks_each_entry_under_its_own_key() -> None:
    entry = {"type": "object", "properties": {"ms": {"type": "number", "minimum": 0}}}
    schema = {"type": "object", "additionalProperties": entry}
    assert problems({"db": {"ms": "slow"}, "cache": {"ms": 3}}, schema) == ['db.ms is "slow", not number']
    assert problems({"db": {"ms": -1}}, schema) == ["db.ms is -1, below 0"]
