"""The metric contract between the monitor (EMF it prints) and the alarms and dashboard (CDK).

Both sides import these constants, so a renamed metric or dimension cannot silently leave an alarm
watching a metric nobody writes. Dimension sets are exact: CloudWatch treats every distinct set of
dimension names as a different metric, and the monitor never adds Powertools' `service` dimension.
"""

from __future__ import annotations

from dataclasses import dataclass

NAMESPACE_SUFFIX = "Synthetics"  # the namespace is f"{config.metrics_namespace}/{NAMESPACE_SUFFIX}"
DEFAULT_NAMESPACE = f"PeopleBooster/{NAMESPACE_SUFFIX}"

ENVIRONMENT = "environment"
CHECK = "check"
DEPENDENCY = "dependency"
FIELD = "field"
# A probe Region's results carry the Region they were probed from; the home Region's own series do not.
REGION = "region"

CHECK_DIMENSIONS = (ENVIRONMENT, CHECK)
DEPENDENCY_DIMENSIONS = (ENVIRONMENT, DEPENDENCY)
SERVICE_DIMENSIONS = (ENVIRONMENT,)
FIELD_DIMENSIONS = (ENVIRONMENT, CHECK, FIELD)
PROBE_CHECK_DIMENSIONS = (ENVIRONMENT, CHECK, REGION)
PROBE_DIMENSIONS = (ENVIRONMENT, REGION)


@dataclass(frozen=True, slots=True)
class MetricSpec:
    name: str
    unit: str  # a CloudWatch unit name, as EMF writes it
    dimensions: tuple[str, ...]


# 1 when the endpoint answered and every condition except the latency budget held; written for every
# check on every run, so missing data means the monitor itself did not run (the dead-man's switch).
CHECK_SUCCESS = MetricSpec("CheckSuccess", "Count", CHECK_DIMENSIONS)
# Time to the full body, written only when a complete response arrived (a timeout is CheckSuccess 0).
CHECK_LATENCY = MetricSpec("CheckLatency", "Milliseconds", CHECK_DIMENSIONS)
# https targets only: days until the served certificate's notAfter.
CERTIFICATE_DAYS_REMAINING = MetricSpec("CertificateDaysRemaining", "None", CHECK_DIMENSIONS)
# From the /health body: 1 when a dependency reports "healthy", and its responseTime when it has one.
DEPENDENCY_HEALTHY = MetricSpec("DependencyHealthy", "Count", DEPENDENCY_DIMENSIONS)
DEPENDENCY_RESPONSE_TIME = MetricSpec("DependencyResponseTime", "Milliseconds", DEPENDENCY_DIMENSIONS)
# From the /health/metrics body.
SERVICE_CPU = MetricSpec("ServiceCpu", "Percent", SERVICE_DIMENSIONS)
SERVICE_MEMORY = MetricSpec("ServiceMemory", "Percent", SERVICE_DIMENSIONS)
SERVICE_UPTIME = MetricSpec("ServiceUptime", "Seconds", SERVICE_DIMENSIONS)
# From /health/metrics when it reports memory in bytes (process.memoryUsage().rss): with no total, no percentage.
SERVICE_MEMORY_BYTES = MetricSpec("ServiceMemoryBytes", "Bytes", SERVICE_DIMENSIONS)
# Tolerant contract: 1 per run for each field a body did not report (field: status, version, uptime,
# responseTime, cpu_percent, memory_percent, memory_bytes, uptime_seconds); written only when missing.
FIELD_MISSING = MetricSpec("FieldMissing", "Count", FIELD_DIMENSIONS)
# A probe Region (synthetics.probe_regions) puts its results into the home Region's CloudWatch under the same
# names, with `region` added: a new series each (CloudWatch keys a metric by its dimension set), so the home
# series and every alarm on them stay as they are. What /health and /health/metrics report about the service is
# the same from anywhere, so a probe writes only what differs by vantage point: success and latency.
PROBE_CHECK_SUCCESS = MetricSpec(CHECK_SUCCESS.name, CHECK_SUCCESS.unit, PROBE_CHECK_DIMENSIONS)
PROBE_CHECK_LATENCY = MetricSpec(CHECK_LATENCY.name, CHECK_LATENCY.unit, PROBE_CHECK_DIMENSIONS)
# EMF in the probe's own Region: 1 per run whose put into the home Region failed (the put's failure cannot be
# counted where the put failed to go; the home Region hears it as the probe's missing data).
PROBE_PUT_FAILURES = MetricSpec("ProbePutFailures", "Count", PROBE_DIMENSIONS)
# 1 when the run's results could not be written for the alert router, else 0 (results.py; written after
# the write, so not one of ALL_METRICS, which emit_metrics writes).
RESULTS_WRITE_FAILURES = MetricSpec("ResultsWriteFailures", "Count", SERVICE_DIMENSIONS)

# What the home Region's monitor writes (EMF).
ALL_METRICS = (
    CHECK_SUCCESS,
    CHECK_LATENCY,
    CERTIFICATE_DAYS_REMAINING,
    DEPENDENCY_HEALTHY,
    DEPENDENCY_RESPONSE_TIME,
    SERVICE_CPU,
    SERVICE_MEMORY,
    SERVICE_UPTIME,
    SERVICE_MEMORY_BYTES,
    FIELD_MISSING,
)
# What a probe Region puts into the home Region, per check and run.
PROBE_METRICS = (PROBE_CHECK_SUCCESS, PROBE_CHECK_LATENCY)

# The dependencies the default /health contract reports; alarms are made for these names.
KNOWN_DEPENDENCIES = ("database", "redis", "openai", "stripe", "s3")
