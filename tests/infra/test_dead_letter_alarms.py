"""Issue 17 item 4: every new dead letter is heard, and so is one left waiting.

The question is CloudWatch's: given the dead-letter queue's metric as SQS publishes it, does the alarm
go to ALARM again for a second dead letter? The synthesized alarm's metric-math expression is evaluated
minute by minute by tools/metric_math.py, which models FILL and DIFF as CloudWatch documents them
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html): FILL(m, 0)
gives 0 where m has no datapoint; DIFF(m) is each value minus the one before it (none for the first).
SQS stops publishing for a queue that has been idle (no datapoints), and a message moved to the queue by
a redrive policy is not counted in NumberOfMessagesSent
(https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html),
so ApproximateNumberOfMessagesVisible is the metric that sees it.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.infra.conftest import Synthesized
from tools.metric_math import evaluate

# Minute by minute, the DLQ's ApproximateNumberOfMessagesVisible (Maximum) as SQS would publish it:
# idle (no data), one dead letter, it waits, a second one, both replayed, idle again.
VISIBLE: list[float | None] = [None, None, None, 1, 1, 1, 1, 2, 2, 2, 0, 0, None, None]
ARRIVALS = [3, 7]  # the minutes a dead letter arrived


def states(values: list[float | None], threshold: float) -> list[str]:
    """A 1-of-1 alarm, GreaterThanThreshold, missing data not breaching."""
    return ["ALARM" if value is not None and value > threshold else "OK" for value in values]


def transitions_to_alarm(found: list[str]) -> list[int]:
    return [
        minute for minute, state in enumerate(found) if state == "ALARM" and (minute == 0 or found[minute - 1] == "OK")
    ]


def evaluate_alarm(alarm: dict[str, Any], visible: list[float | None]) -> list[float | None]:
    """The alarm's returned expression, minute by minute, over the DLQ's visible messages (None: no datapoint)."""
    (returned,) = [m for m in alarm["Metrics"] if m.get("ReturnData", True) and "Expression" in m]
    (metric,) = [m for m in alarm["Metrics"] if "MetricStat" in m]
    stamps = tuple(60.0 * minute for minute in range(len(visible)))
    series = {stamp: value for stamp, value in zip(stamps, visible, strict=True) if value is not None}
    result = evaluate(returned["Expression"], {metric["Id"]: series}, {metric["Id"]: 60}, stamps)
    assert isinstance(result, dict)
    return [result.get(stamp) for stamp in stamps]


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_each_new_dead_letter_alarms_again(synthesized: dict[str, Synthesized], environment: str) -> None:
    synth = synthesized[environment]
    alarm = synth.alarms_by_name()[f"{synth.config.prefix}-router-dead-letter-queue"]
    # Given the expression's input: the dead-letter queue's visible messages, per minute
    (metric,) = [m for m in alarm["Metrics"] if "MetricStat" in m]
    stat = metric["MetricStat"]
    assert (stat["Metric"]["Namespace"], stat["Metric"]["MetricName"]) == (
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
    )
    assert (stat["Stat"], stat["Period"]) == ("Maximum", 60)
    (dimension,) = stat["Metric"]["Dimensions"]
    assert dimension["Name"] == "QueueName"
    assert dimension["Value"]["Fn::GetAtt"][1] == "QueueName"
    dlq = synth.raw["Resources"][dimension["Value"]["Fn::GetAtt"][0]]["Properties"]
    assert dlq["QueueName"] == f"{synth.config.prefix}-alert-router-dlq"
    # When CloudWatch evaluates it minute by minute
    found = states(evaluate_alarm(alarm, VISIBLE), alarm["Threshold"])
    # Then every arrival is an ALARM of its own (a message to #alerts-critical and the fallback email)
    assert alarm["TreatMissingData"] == "notBreaching"
    assert transitions_to_alarm(found) == ARRIVALS
    # while the old alarm ("visible > 0") heard only the first
    assert transitions_to_alarm(states(VISIBLE, 0)) == ARRIVALS[:1]


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_a_dead_letter_left_waiting_alarms_on_its_age(synthesized: dict[str, Synthesized], environment: str) -> None:
    synth = synthesized[environment]
    alarm = synth.alarms_by_name()[f"{synth.config.prefix}-router-dead-letter-waiting"]
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == (
        "AWS/SQS",
        "ApproximateAgeOfOldestMessage",
        "Maximum",
    )
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["Threshold"] == 3600  # seconds: an hour
    assert alarm["TreatMissingData"] == "notBreaching"  # an empty queue publishes no age
    assert alarm["AlarmActions"] == [synth.topic_ref("alerts"), synth.topic_ref("alerts-fallback")]
