"""Small rules of the synthetic checks: how values are shown, what counts as an integer, what a spec may say."""

from __future__ import annotations

from typing import Any

import pytest

from lambdas.synthetic_monitor.checks import CheckSpecError, parse_condition
from lambdas.synthetic_monitor.contract import is_type
from lambdas.synthetic_monitor.paths import render_value
from lambdas.synthetic_monitor.reading import strict_dependencies


def test_a_value_is_shown_as_json_and_cut_to_60_characters() -> None:
    exactly = "x" * 58  # 60 characters with its quotes: shown whole
    assert render_value(exactly) == f'"{exactly}"'
    longer = "y" * 59  # 61 characters: cut to 57 and an ellipsis, 60 in all
    assert render_value(longer) == '"' + "y" * 56 + "..."
    assert render_value({"ä": [1, None]}) == '{"ä": [1, null]}'  # not ASCII-escaped: a person reads it


@pytest.mark.parametrize(
    ("value", "type_name", "expected"),
    [(True, "integer", False), (False, "number", False), (3.0, "integer", True), (3.5, "integer", False)],
)
def test_json_booleans_are_not_numbers_and_whole_floats_are_integers(
    value: Any, type_name: str, expected: bool
) -> None:
    assert is_type(value, type_name) is expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"path": "a", "is": "thing"}, "condition.is: expected one of number, integer, string, boolean, object, array"),
        ({"path": "a", "matches": 1}, "condition: unknown path test 'matches'; use equals, in, exists or is"),
        ({"contract": "nope"}, "condition.contract: expected one of health, metrics, live, ready"),
    ],
)
def test_a_bad_condition_says_what_it_may_be(raw: Any, message: str) -> None:
    with pytest.raises(CheckSpecError) as refused:
        parse_condition(raw)
    assert str(refused.value) == message


@pytest.mark.parametrize("document", [[{"checks": {}}], "healthy", None, 3])
def test_a_body_that_is_not_an_object_has_no_strict_dependencies(document: Any) -> None:
    assert strict_dependencies(document) == ()
