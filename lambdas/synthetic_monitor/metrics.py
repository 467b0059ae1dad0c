"""The metrics of one run, names and dimensions from metric_names.

The home Region's monitor prints EMF: one blob per dimension set (and per missing field), which CloudWatch Logs
turns into metrics in the function's own Region. EphemeralMetrics keeps no state between runs, and service=""
stops Powertools from adding a `service` dimension even when POWERTOOLS_SERVICE_NAME is set: the alarms use
exactly the dimension sets in metric_names.

A probe Region's monitor cannot use EMF (it would land in the probe's Region, where the home Region's alarms
cannot read it): `probe_metric_data` builds the PutMetricData datums that home_region.py sends there.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from aws_lambda_powertools.metrics import EphemeralMetrics

from lambdas.synthetic_monitor import metric_names as names
from lambdas.synthetic_monitor.checks import CheckResult


def emit_metrics(results: Sequence[CheckResult], *, environment: str, namespace: str) -> None:
    for result in results:
        blob = _blob(namespace, environment, names.CHECK, result.name)
        _add(blob, names.CHECK_SUCCESS, 1 if result.up else 0)
        if result.complete:
            _add(blob, names.CHECK_LATENCY, result.latency_ms)
        if result.certificate_days is not None:
            _add(blob, names.CERTIFICATE_DAYS_REMAINING, result.certificate_days)
        blob.flush_metrics()
        for field in dict.fromkeys(warning.field for warning in result.warnings):
            blob = _blob(namespace, environment, names.CHECK, result.name)
            blob.add_dimension(names.FIELD, field)
            _add(blob, names.FIELD_MISSING, 1)
            blob.flush_metrics()

    seen: set[str] = set()
    for result in results:
        for dependency in result.dependencies:
            if dependency.name in seen:  # two checks reading the same dependency: the first one counts
                continue
            seen.add(dependency.name)
            blob = _blob(namespace, environment, names.DEPENDENCY, dependency.name)
            _add(blob, names.DEPENDENCY_HEALTHY, 1 if dependency.healthy else 0)
            if dependency.response_time_ms is not None:
                _add(blob, names.DEPENDENCY_RESPONSE_TIME, dependency.response_time_ms)
            blob.flush_metrics()

    service = next((r.service for r in results if r.service is not None), None)
    if service is not None:
        blob = _blob(namespace, environment)
        for spec, value in (
            (names.SERVICE_CPU, service.cpu_percent),
            (names.SERVICE_MEMORY, service.memory_percent),
            (names.SERVICE_UPTIME, service.uptime_seconds),
            (names.SERVICE_MEMORY_BYTES, service.memory_bytes),
        ):
            if value is not None:
                _add(blob, spec, value)
        blob.flush_metrics()


def _blob(namespace: str, environment: str, key: str | None = None, value: str | None = None) -> EphemeralMetrics:
    blob = EphemeralMetrics(namespace=namespace, service="")
    blob.add_dimension(names.ENVIRONMENT, environment)
    if key is not None and value is not None:
        blob.add_dimension(key, value)
    return blob


def _add(blob: EphemeralMetrics, spec: names.MetricSpec, value: float) -> None:
    blob.add_metric(name=spec.name, unit=spec.unit, value=value)


def probe_metric_data(
    results: Sequence[CheckResult], *, environment: str, region: str, at: datetime
) -> list[dict[str, Any]]:
    """PutMetricData's `MetricData` for a probe Region's run: success per check, latency when a response came.

    At most two datums per check; the checks fit in Lambda's 4 KB of environment, far below PutMetricData's 1,000
    metrics per request (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html).
    """
    data: list[dict[str, Any]] = []
    for result in results:
        dimensions = [
            {"Name": names.ENVIRONMENT, "Value": environment},
            {"Name": names.CHECK, "Value": result.name},
            {"Name": names.REGION, "Value": region},
        ]
        values = [(names.PROBE_CHECK_SUCCESS, 1.0 if result.up else 0.0)]
        if result.complete:
            values.append((names.PROBE_CHECK_LATENCY, result.latency_ms))
        for spec, value in values:
            data.append(
                {"MetricName": spec.name, "Dimensions": dimensions, "Value": value, "Unit": spec.unit, "Timestamp": at}
            )
    return data


def count_put_failure(*, environment: str, region: str, namespace: str) -> None:
    """EMF in the probe's own Region: this run's results did not reach the home Region."""
    blob = _blob(namespace, environment, names.REGION, region)
    _add(blob, names.PROBE_PUT_FAILURES, 1)
    blob.flush_metrics()
