"""The request-gated ALB alarms and the requests-per-minute graph, evaluated as CloudWatch evaluates metric math.

The expressions are read from the synthesized template and run through tools/metric_math.py, whose semantics are
checked against the examples of CloudWatch's metric-math documentation (tests/unit/tools/test_metric_math.py).
So these tests fail when an expression written in the construct does not do what the alarm says it does.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.infra.conftest import Synthesized, resolve_join
from tools.metric_math import Series, evaluate


def _inputs(alarm: dict[str, Any]) -> tuple[str, dict[str, str], dict[str, int]]:
    """(returned expression, metric id -> metric name, metric id -> period) of a metric-math alarm."""
    (returned,) = [query for query in alarm["Metrics"] if query["ReturnData"]]
    stats = {query["Id"]: query["MetricStat"] for query in alarm["Metrics"] if "MetricStat" in query}
    names = {metric_id: stat["Metric"]["MetricName"] for metric_id, stat in stats.items()}
    return returned["Expression"], names, {metric_id: stat["Period"] for metric_id, stat in stats.items()}


def _alarm_value(alarm: dict[str, Any], datapoints: dict[str, float | None]) -> float | None:
    """The alarm's datapoint for one period in which each metric (by name) had this value (None: no datapoint)."""
    expression, names, periods = _inputs(alarm)
    metrics: dict[str, Series] = {
        metric_id: ({} if datapoints[name] is None else {0.0: float(datapoints[name] or 0)})
        for metric_id, name in names.items()
    }
    result = evaluate(expression, metrics, periods)
    assert isinstance(result, dict)
    return result.get(0.0)


@pytest.mark.parametrize(
    ("requests", "p95", "breaches"),
    [
        (10, 8.0, False),  # a quiet minute: p95 is one slow request, not a latency problem
        (49, 8.0, False),  # just under thresholds.alb_latency_min_requests (50)
        (50, 3.5, True),  # enough requests for p95 to mean something, and slow
        (400, 2.0, False),  # busy and fast
    ],
)
def test_latency_alarm_breaches_only_in_minutes_with_enough_requests(
    staging: Synthesized, requests: int, p95: float, breaches: bool
) -> None:
    alarm = staging.alarms_by_name()["peoplebooster-staging-alb-backend-latency-high"]
    value = _alarm_value(alarm, {"RequestCount": requests, "TargetResponseTime": p95})
    assert value is not None
    assert (value > alarm["Threshold"]) is breaches


def test_latency_alarm_has_no_datapoint_without_requests(staging: Synthesized) -> None:
    # Given a minute without requests: the ALB writes neither RequestCount nor TargetResponseTime
    alarm = staging.alarms_by_name()["peoplebooster-staging-alb-frontend-latency-high"]
    # Then the expression has no datapoint, which the alarm treats as not breaching
    assert _alarm_value(alarm, {"RequestCount": None, "TargetResponseTime": None}) is None
    assert alarm["TreatMissingData"] == "notBreaching"


@pytest.mark.parametrize(
    ("requests", "errors", "rate_breaches", "count_breaches"),
    [
        (40, 3, True, False),  # a small-traffic outage the count (more than 10) does not see
        (5000, 12, False, True),  # traffic growth: the count fires on 0.24 %, the rate stays quiet
        (200, 30, True, True),  # both
        (10, 10, False, False),  # below alb_5xx_rate_min_requests (20): no rate judged on ten requests
        (100, None, False, False),  # no 5xx datapoint at all: the share is 0
    ],
)
def test_5xx_rate_alarm_judges_the_share_beside_the_count(
    staging: Synthesized, requests: int, errors: int | None, rate_breaches: bool, count_breaches: bool
) -> None:
    alarms = staging.alarms_by_name()
    rate = alarms["peoplebooster-staging-alb-backend-5xx-rate"]
    count = alarms["peoplebooster-staging-alb-backend-target-5xx"]
    value = _alarm_value(rate, {"RequestCount": requests, "HTTPCode_Target_5XX_Count": errors})
    assert value is not None
    assert (value > rate["Threshold"]) is rate_breaches
    # And the report's count alarm ("more than 10 in 5 min") still stands beside it, over the same window
    assert ((errors or 0) > count["Threshold"]) is count_breaches
    assert count["Period"] == _inputs(rate)[2]["requests"] == 300


@pytest.mark.parametrize("period", [60, 300, 3600])
def test_requests_per_minute_graph_stays_per_minute_when_the_period_grows(staging: Synthesized, period: int) -> None:
    # Given the ALB row's graph; the dashboard picks a longer period for a longer time range
    (dashboard,) = staging.resources("AWS::CloudWatch::Dashboard").values()
    body = json.loads(resolve_join(dashboard["Properties"]["DashboardBody"]))
    (widget,) = [w for w in body["widgets"] if w.get("properties", {}).get("title") == "ALB requests per minute"]
    lines = [m[0] for m in widget["properties"]["metrics"] if "expression" in m[0]]
    hidden = {m[-1]["id"]: m for m in widget["properties"]["metrics"] if "expression" not in m[0]}
    assert [line["label"] for line in lines] == [tg.name for tg in staging.config.alb.target_groups]
    for line in lines:
        (metric_id,) = [i for i in hidden if i in line["expression"]]
        assert hidden[metric_id][1] == "RequestCount"
        assert hidden[metric_id][-1]["stat"] == "Sum"
        # When a steady 120 requests per minute are summed over that period
        result = evaluate(line["expression"], {metric_id: {0.0: 120.0 * period / 60}}, {metric_id: period})
        # Then the line still reads 120 per minute
        assert isinstance(result, dict)
        assert result[0.0] == pytest.approx(120.0)
