"""Issue 17 item 4: every new dead letter is heard, and so is one left waiting.

The question is CloudWatch's: given the dead-letter queue's metric as SQS publishes it, does the alarm
go to ALARM again for a second dead letter? The synthesized alarm's metric-math expression is evaluated
minute by minute the way CloudWatch documents FILL and DIFF
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html): FILL(m, 0)
gives 0 where m has no datapoint; DIFF(m) is each value minus the one before it (none for the first).
SQS stops publishing for a queue that has been idle (no datapoints), and a message moved to the queue by
a redrive policy is not counted in NumberOfMessagesSent
(https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html),
so ApproximateNumberOfMessagesVisible is the metric that sees it.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest

from tests.infra.conftest import Synthesized

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


def evaluate(alarm: dict[str, Any], series: dict[str, list[float | None]]) -> list[float | None]:
    """The alarm's returned expression over `series` (metric id -> values), FILL and DIFF as documented."""
    (returned,) = [m for m in alarm["Metrics"] if m.get("ReturnData", True) and "Expression" in m]
    match = re.fullmatch(r"DIFF\(FILL\((\w+), (\d+)\)\)", returned["Expression"])
    assert match, f"an expression this test does not model: {returned['Expression']}"
    filled = [value if value is not None else float(match[2]) for value in series[match[1]]]
    return [None] + [current - previous for previous, current in itertools.pairwise(filled)]


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
    found = states(evaluate(alarm, {metric["Id"]: VISIBLE}), alarm["Threshold"])
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
