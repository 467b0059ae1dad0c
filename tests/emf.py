"""Reading EMF blobs back from captured stdout: what CloudWatch would store, for the functions' tests and the
tests that match alarms and dashboards against the metrics a handler really writes."""

from __future__ import annotations

import json
from typing import Any

MetricSignature = tuple[str, str, tuple[str, ...]]  # (namespace, metric name, dimension names)


def emf_blobs(stdout: str) -> list[dict[str, Any]]:
    """Every EMF blob (a JSON line with `_aws.CloudWatchMetrics`) in captured output; other lines are skipped."""
    blobs = []
    for line in stdout.splitlines():
        if not line.startswith("{"):
            continue
        try:
            document = json.loads(line)
        except ValueError:
            continue
        if isinstance(document, dict) and "CloudWatchMetrics" in document.get("_aws", {}):
            blobs.append(document)
    return blobs


def emf_signatures(stdout: str) -> set[MetricSignature]:
    """(namespace, metric name, dimension names) of every metric: what an alarm must match exactly."""
    signatures: set[MetricSignature] = set()
    for blob in emf_blobs(stdout):
        for directive in blob["_aws"]["CloudWatchMetrics"]:
            for dimension_set in directive["Dimensions"]:
                for metric in directive["Metrics"]:
                    signatures.add((directive["Namespace"], metric["Name"], tuple(dimension_set)))
    return signatures


def emf_values(stdout: str) -> list[tuple[str, dict[str, str], float, str]]:
    """(metric name, dimensions, value, unit) of every metric point."""
    points = []
    for blob in emf_blobs(stdout):
        for directive in blob["_aws"]["CloudWatchMetrics"]:
            dimensions = {name: blob[name] for dimension_set in directive["Dimensions"] for name in dimension_set}
            for metric in directive["Metrics"]:
                value = blob[metric["Name"]]
                # Powertools writes each value as a list (EMF allows several points per blob)
                for point in value if isinstance(value, list) else [value]:
                    points.append((metric["Name"], dimensions, point, metric["Unit"]))
    return points


MetricSeries = tuple[str, tuple[tuple[str, str], ...]]  # (namespace, sorted (dimension, value) pairs)


def emf_series(stdout: str) -> dict[str, set[MetricSeries]]:
    """metric name -> every (namespace, dimensions with their values) it was written with."""
    series: dict[str, set[MetricSeries]] = {}
    for blob in emf_blobs(stdout):
        for directive in blob["_aws"]["CloudWatchMetrics"]:
            for dimension_set in directive["Dimensions"]:
                dimensions = tuple(sorted((name, str(blob[name])) for name in dimension_set))
                for metric in directive["Metrics"]:
                    series.setdefault(metric["Name"], set()).add((directive["Namespace"], dimensions))
    return series


def emf_points(stdout: str, name: str) -> list[float]:
    """Every value written for metric `name`, in order."""
    return [value for metric, _, value, _ in emf_values(stdout) if metric == name]
