"""Health bodies as real services send them, one per library or API, each with where its shape comes from.

The values are invented; the shapes (field names, nesting, units, status words) are the libraries' own.
"""

from __future__ import annotations

from typing import Any

# --- GET /health ---------------------------------------------------------------------------------

# This project's design report (the /health example) = docs/health-contract.schema.json.
REPORT_HEALTH: dict[str, Any] = {
    "status": "healthy",
    "timestamp": "2026-01-17T10:00:00.000Z",
    "version": "1.0.0",
    "uptime": 86400,
    "checks": {
        "database": {"status": "healthy", "responseTime": 5},
        "redis": {"status": "healthy", "responseTime": 2},
        "externalServices": {
            "status": "healthy",
            "services": {"openai": {"status": "healthy"}, "stripe": {"status": "healthy"}, "s3": {"status": "healthy"}},
        },
    },
}

# @godaddy/terminus, lib/terminus.js: sendSuccess answers 200 `{status: 'ok', info, details: info}` with what the
# health check function resolved; sendFailure answers 503 `{status: 'error', error: causes, details: causes}` with
# the `causes` of the HealthCheckError it threw. The functions below resolve/throw indicator objects.
TERMINUS_OK: dict[str, Any] = {
    "status": "ok",
    "info": {"database": {"status": "up"}, "redis": {"status": "up"}},
    "details": {"database": {"status": "up"}, "redis": {"status": "up"}},
}
TERMINUS_ERROR: dict[str, Any] = {
    "status": "error",
    "error": {"redis": {"status": "down", "message": "connect ECONNREFUSED 10.0.2.15:6379"}},
    "details": {"redis": {"status": "down", "message": "connect ECONNREFUSED 10.0.2.15:6379"}},
}

# @nestjs/terminus, health-check/health-check.schema.js (its Swagger examples) and HealthCheckResult:
# status 'ok' | 'error' | 'shutting_down'; `info` holds the indicators that are "up", `error` those "down",
# `details` all of them; 503 when any is down.
NESTJS_OK: dict[str, Any] = {
    "status": "ok",
    "info": {"database": {"status": "up"}, "memory_heap": {"status": "up"}},
    "error": {},
    "details": {"database": {"status": "up"}, "memory_heap": {"status": "up"}},
}
NESTJS_ERROR: dict[str, Any] = {
    "status": "error",
    "info": {"database": {"status": "up"}},
    "error": {"redis": {"status": "down", "message": "Could not connect"}},
    "details": {"database": {"status": "up"}, "redis": {"status": "down", "message": "Could not connect"}},
}
# The same result without `details` (what a custom serializer of HealthCheckResult may drop).
NESTJS_SPLIT_ONLY: dict[str, Any] = {
    "status": "error",
    "info": {"database": {"status": "up"}},
    "error": {"redis": {"status": "down", "message": "Could not connect"}},
}

# IETF draft-inadarei-api-health-check-06, section 3 example (trimmed): status pass/warn/fail; `checks` maps
# "<component>:<measurement>" to an array of observations, each with its own status.
IETF_HEALTH: dict[str, Any] = {
    "status": "pass",
    "version": "1",
    "releaseId": "1.2.2",
    "serviceId": "f03e522f-1f44-4062-9b55-9587f91c9c41",
    "description": "health of authz service",
    "checks": {
        "cassandra:responseTime": [
            {
                "componentId": "dfd6cf2b-1b6e-4412-a0b8-f6f7797a60d2",
                "componentType": "datastore",
                "observedValue": 250,
                "observedUnit": "ms",
                "status": "pass",
                "time": "2018-01-17T03:36:48Z",
            }
        ],
        "cassandra:connections": [
            {
                "componentId": "dfd6cf2b-1b6e-4412-a0b8-f6f7797a60d2",
                "componentType": "datastore",
                "observedValue": 75,
                "status": "pass",
                "time": "2018-01-17T03:36:48Z",
            }
        ],
        "uptime": [
            {
                "componentType": "system",
                "observedValue": 1209600.245,
                "observedUnit": "s",
                "status": "pass",
                "time": "2018-01-17T03:36:48Z",
            }
        ],
    },
}

# express-actuator, lib/endpoints/health.js: GET /health answers `{status: "UP"}` and nothing else.
ACTUATOR_HEALTH: dict[str, Any] = {"status": "UP"}

# express-healthcheck (its default `healthy` function): GET /health answers 200 `{uptime: process.uptime()}`.
EXPRESS_HEALTHCHECK: dict[str, Any] = {"uptime": 3601.42}

# healthcheck-middleware (README): 200 `{status: 'success', uptime, memoryUsage: process.memoryUsage()}`, and 500
# `{status: 'failure', message}` when a check calls fail().
HEALTHCHECK_MIDDLEWARE_OK: dict[str, Any] = {
    "status": "success",
    "uptime": 3,
    "memoryUsage": {"rss": 32_587_776, "heapTotal": 29_604_500, "heapUsed": 14_572_104},
}
HEALTHCHECK_MIDDLEWARE_FAILURE: dict[str, Any] = {"status": "failure", "message": "some error"}

# @kunalnagarco/healthie (README): `{uptime: process.uptime(), status: "OK"}`.
HEALTHIE: dict[str, Any] = {"uptime": 36.883064168, "status": "OK"}

# A hand-written Express route: dependencies as an array of {name, status, responseTime}.
DEPENDENCY_ARRAY_HEALTH: dict[str, Any] = {
    "status": "OK",
    "version": "2.3.1",
    "uptime": 3600,
    "dependencies": [
        {"name": "postgres", "status": "ok", "responseTime": 4},
        {"name": "redis", "status": "ok", "responseTime": 1},
    ],
}

# --- GET /health/metrics -------------------------------------------------------------------------

# This project's design report = the strict contract's `metrics`.
REPORT_METRICS: dict[str, Any] = {
    "timestamp": "2026-01-17T10:00:00.000Z",
    "uptime": 86400,
    "cpu": {"usagePercent": 12.5},
    "memory": {"usagePercent": 40.0, "usedBytes": 429_496_730, "totalBytes": 1_073_741_824},
}

# Node's own APIs, as an Express route typically serves them: process.uptime() (seconds),
# process.memoryUsage() {rss, heapTotal, heapUsed, external, arrayBuffers} (bytes), process.cpuUsage()
# {user, system} (microseconds since start), os.totalmem()/os.freemem() (bytes), os.loadavg().
NODE_PROCESS_METRICS: dict[str, Any] = {
    "timestamp": 1768644000000,
    "uptime": 5400.25,
    "memory": {
        "rss": 157_286_400,
        "heapTotal": 83_886_080,
        "heapUsed": 62_914_560,
        "external": 2_097_152,
        "arrayBuffers": 524_288,
    },
    "cpu": {"user": 38_000_000, "system": 4_500_000},
    "system": {"totalmem": 2_147_483_648, "freemem": 1_610_612_736},
    "loadavg": [0.42, 0.35, 0.3],
}

# express-actuator, lib/endpoints/metrics.js: GET /metrics answers
# `{mem: process.memoryUsage(), uptime: process.uptime()}`.
ACTUATOR_METRICS: dict[str, Any] = {
    "mem": {"rss": 104_857_600, "heapTotal": 52_428_800, "heapUsed": 41_943_040, "external": 1_048_576},
    "uptime": 720.5,
}

# express-status-monitor, src/helpers/gather-os-metrics.js: a pidusage() stat (cpu in percent of one core,
# ctime and elapsed in ms) whose `memory` it turns into megabytes, plus load: os.loadavg(), timestamp,
# heap: v8.getHeapStatistics().
PIDUSAGE_METRICS: dict[str, Any] = {
    "cpu": 7.3,
    "memory": 96.2,
    "ppid": 1,
    "pid": 18,
    "ctime": 15_320,
    "elapsed": 3_600_000,
    "timestamp": 1768644000000,
    "load": [0.52, 0.4, 0.33],
    "heap": {"total_heap_size": 60_000_000, "used_heap_size": 45_000_000, "heap_size_limit": 2_197_815_296},
}

# prom-client, register.getMetricsAsJSON() with collectDefaultMetrics(): an array of
# {help, name, type, values: [{value, labels}], aggregator}; process_start_time_seconds is epoch seconds.
PROM_CLIENT_START = 1_768_640_000
PROM_CLIENT_METRICS: list[dict[str, Any]] = [
    {
        "help": "Total user and system CPU time spent in seconds.",
        "name": "process_cpu_seconds_total",
        "type": "counter",
        "values": [{"value": 42.5, "labels": {}}],
        "aggregator": "sum",
    },
    {
        "help": "Start time of the process since unix epoch in seconds.",
        "name": "process_start_time_seconds",
        "type": "gauge",
        "values": [{"value": PROM_CLIENT_START, "labels": {}}],
        "aggregator": "omit",
    },
    {
        "help": "Resident memory size in bytes.",
        "name": "process_resident_memory_bytes",
        "type": "gauge",
        "values": [{"value": 143_654_912, "labels": {}}],
        "aggregator": "sum",
    },
]

# systeminformation: si.currentLoad() {avgLoad, currentLoad (%), currentLoadUser, ...} served as `cpu`.
SYSTEMINFORMATION_METRICS: dict[str, Any] = {
    "cpu": {"avgLoad": 0.31, "currentLoad": 23.4, "currentLoadUser": 18.1, "currentLoadSystem": 5.3},
    "uptime": 86_000,
}
