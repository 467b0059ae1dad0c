"""The benchmark's cost counts come from the synthesized template and the EMF, not from an assumed list."""

from __future__ import annotations

import json

from bench.synthetic_monitor_bench import emf_metrics, monitor_alarm_names


def _alarm(name: object) -> dict[str, object]:
    return {"Type": "AWS::CloudWatch::Alarm", "Properties": {"AlarmName": name}}


def test_only_the_monitors_alarms_are_counted() -> None:
    # Given a template with monitor alarms, another construct's alarm and a non-alarm resource
    template = {
        "Resources": {
            "A": _alarm("pb-staging-synthetic-live-failing"),
            "B": _alarm("pb-staging-synthetic-monitor-not-running"),
            "C": _alarm("pb-staging-router-errors"),
            "D": {"Type": "AWS::Lambda::Function", "Properties": {"FunctionName": "pb-staging-synthetic-x"}},
        }
    }
    # Then only the two `-synthetic-` alarms count
    assert monitor_alarm_names(template) == [
        "pb-staging-synthetic-live-failing",
        "pb-staging-synthetic-monitor-not-running",
    ]


def test_emf_metrics_are_distinct_by_name_and_dimension_values() -> None:
    # Given two runs' worth of EMF for two checks (the same metric twice) and a log line in between
    def blob(check: str) -> str:
        directive = {
            "Namespace": "PeopleBooster/Synthetics",
            "Dimensions": [["environment", "check"]],
            "Metrics": [{"Name": "CheckSuccess", "Unit": "Count"}, {"Name": "CheckLatency", "Unit": "Milliseconds"}],
        }
        return json.dumps(
            {"_aws": {"CloudWatchMetrics": [directive]}, "environment": "bench", "check": check, "CheckSuccess": [1]}
        )

    stdout = "\n".join([blob("live"), '{"level": "INFO", "message": "ok"}', "not json", blob("ready"), blob("live")])
    # Then each (metric, dimension values) is one billed metric: 2 metrics x 2 checks
    assert len(emf_metrics(stdout)) == 4
