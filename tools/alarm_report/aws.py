"""The AWS edge: the stack's alarms, their history, their metrics and the incident table's history entries.

Each function takes a boto3 client, follows the API's pagination and returns plain data for the pure core.
- DescribeAlarms with AlarmNamePrefix "<service>-<env>-" (metric and composite alarms);
- DescribeAlarmHistory per alarm, HistoryItemType StateUpdate (without an AlarmName the API returns only
  one alarm type, so each alarm is asked by name);
  https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarmHistory.html
- GetMetricData with the alarm's own metric, period and statistic. CloudWatch keeps 1-minute datapoints
  for 15 days, 5-minute ones for 63 days, so an older part of a long period comes back empty.
  https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html
  https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricStatistics.html (retention)
- Scan of the incident table for history entries (lambdas/shared/incident_history.py).
"""

from __future__ import annotations

from typing import Any

from lambdas.shared.incident_history import HistoryEntry, HistoryItemError, from_item, scan_request
from tools.alarm_report.episodes import Period
from tools.local_cloudwatch import AlarmDefinition

Series = list[tuple[float, float]]


def describe_alarms(cloudwatch: Any, prefix: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(metric alarms, composite alarms) whose names start with `prefix`, as DescribeAlarms returns them."""
    metric: list[dict[str, Any]] = []
    composite: list[dict[str, Any]] = []
    pages = cloudwatch.get_paginator("describe_alarms").paginate(
        AlarmNamePrefix=prefix, AlarmTypes=["MetricAlarm", "CompositeAlarm"]
    )
    for page in pages:
        metric += page.get("MetricAlarms", [])
        composite += page.get("CompositeAlarms", [])
    return metric, composite


def alarm_history(cloudwatch: Any, names: list[str], period: Period) -> list[dict[str, Any]]:
    """Every StateUpdate item of these alarms in the period (the API's item dicts, oldest first per alarm)."""
    items: list[dict[str, Any]] = []
    paginator = cloudwatch.get_paginator("describe_alarm_history")
    for name in names:
        for page in paginator.paginate(
            AlarmName=name,
            HistoryItemType="StateUpdate",
            StartDate=period.since,
            EndDate=period.until,
            ScanBy="TimestampAscending",
        ):
            items += page.get("AlarmHistoryItems", [])
    return items


def metric_series(cloudwatch: Any, alarm: AlarmDefinition, period: Period) -> Series:
    """The alarm's metric with its period and statistic, from N periods before the period start (warm-up)."""
    stat: dict[str, Any] = {
        "Metric": {
            "Namespace": alarm.namespace,
            "MetricName": alarm.metric_name,
            "Dimensions": [{"Name": name, "Value": value} for name, value in alarm.dimensions],
        },
        "Period": alarm.period,
        "Stat": alarm.statistic,
    }
    if alarm.unit:
        stat["Unit"] = alarm.unit
    series: Series = []
    pages = cloudwatch.get_paginator("get_metric_data").paginate(
        MetricDataQueries=[{"Id": "m", "MetricStat": stat, "ReturnData": True}],
        StartTime=period.since.timestamp() - alarm.evaluation_periods * alarm.period,
        EndTime=period.until,
        ScanBy="TimestampAscending",
    )
    for page in pages:
        for result in page.get("MetricDataResults", []):
            series += [(t.timestamp(), float(v)) for t, v in zip(result["Timestamps"], result["Values"], strict=True)]
    return sorted(series)


def incident_history(dynamodb: Any, table: str, period: Period) -> tuple[list[HistoryEntry], int]:
    """(history entries changed in the period, count of unreadable history items)."""
    entries: list[HistoryEntry] = []
    unreadable = 0
    request = scan_request(table, period.since.timestamp(), period.until.timestamp())
    while True:
        page = dynamodb.scan(**request)
        for item in page.get("Items", []):
            try:
                entries.append(from_item(item))
            except HistoryItemError:
                unreadable += 1
        if "LastEvaluatedKey" not in page:
            return entries, unreadable
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
