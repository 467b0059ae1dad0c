"""The local metric-math evaluator against the examples of CloudWatch's own documentation.

Every expected value below is copied from https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html
("-" in the documentation: no value at that time stamp). If the evaluator disagrees with AWS's tables, these fail.
"""

from __future__ import annotations

import pytest

from tools.metric_math import Series, UnsupportedExpression, evaluate

NO = None  # the documentation's "-"


def series(*values: float | None) -> Series:
    """A time series with one point per minute; None leaves that minute without a value."""
    return {60.0 * index: float(value) for index, value in enumerate(values) if value is not None}


def values(result: float | Series, length: int) -> list[float | None]:
    assert isinstance(result, dict)
    return [result.get(60.0 * index) for index in range(length)]


# "Comparison and logical operators": metric1 [30, 20, 0, 0], metric2 [20, -, 20, -]
COMPARED = {"metric1": series(30, 20, 0, 0), "metric2": series(20, NO, 20, NO)}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("(metric1 < metric2)", [0, 0, 1, 0]),
        ("(metric1 >= 30)", [1, 0, 0, 0]),
        ("(metric1 > 15 AND metric2 > 15)", [1, 0, 0, 0]),
        ("(metric1 > 15 && metric2 > 15)", [1, 0, 0, 0]),
    ],
)
def test_comparison_and_logical_operators_as_documented(expression: str, expected: list[float]) -> None:
    assert values(evaluate(expression, COMPARED, {}), 4) == expected


# "Using IF expressions": metric1 [1, 1, 0, 0, -], metric2 [30, -, 0, 0, 30], metric3 [0, 0, 20, -, 20]
IF_INPUTS = {
    "metric1": series(1, 1, 0, 0, NO),
    "metric2": series(30, NO, 0, 0, 30),
    "metric3": series(0, 0, 20, NO, 20),
}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("IF(metric1, metric2, metric3)", [30, 0, 20, NO, NO]),
        ("IF(metric1, 5, metric3)", [5, 5, 20, NO, NO]),
        ("IF(metric1, metric2, 5)", [30, 0, 5, 5, NO]),
    ],
)
def test_if_expressions_as_documented(expression: str, expected: list[float | None]) -> None:
    assert values(evaluate(expression, IF_INPUTS, {}), 5) == expected


def test_if_with_a_scalar_condition_picks_a_whole_series() -> None:
    # "IF(scalar1, metric2, metric3)": metric2 when true, metric3 when false, empty when metric3 is omitted
    assert values(evaluate("IF(1, metric2, metric3)", IF_INPUTS, {}), 5) == [30, NO, 0, 0, 30]
    assert values(evaluate("IF(0, metric2, metric3)", IF_INPUTS, {}), 5) == [0, 0, 20, NO, 20]
    assert evaluate("IF(0, metric2)", IF_INPUTS, {}) == {}


def test_arithmetic_treats_a_missing_value_as_zero_and_drops_a_division_by_zero() -> None:
    # "Missing values in a time series are treated as 0. If the value of a data point causes a function to
    # attempt to divide by zero, the data point is dropped."
    metrics = {"errors": series(NO, 3, 0), "requests": series(50, 60, 0)}
    assert values(evaluate("100 * errors / requests", metrics, {}), 3) == [0, 5, NO]
    assert values(evaluate("-errors + requests", metrics, {}), 3) == [50, 57, 0]


def test_period_is_the_metrics_period_in_seconds() -> None:
    # The documentation's own example, PERIOD(m1)/60, and its rule: metrics only, not expressions
    assert evaluate("PERIOD(m1) / 60", {"m1": series(1)}, {"m1": 300}) == 5
    with pytest.raises(UnsupportedExpression, match="PERIOD takes a metric id"):
        evaluate("PERIOD(e1)", {"m1": series(1)}, {"m1": 300})


@pytest.mark.parametrize(
    "expression",
    ["SEARCH('{AWS/EC2} CPU', 'Average', 300)", "FILL(m1, 0)", "m1 +", "m1 % 2", "IF(m1)", "nothing * 2"],
)
def test_what_is_not_modelled_is_refused(expression: str) -> None:
    with pytest.raises(UnsupportedExpression):
        evaluate(expression, {"m1": series(1)}, {"m1": 60})
