"""What a health body reports: its status words, its dependencies and its numbers. Pure, no I/O.

The design report shows `GET /health` by one example and names `GET /health/metrics` only as "CPU, memory,
uptime". A Node service words these the way its middleware does, so the default contract, `tolerant`, reads
the common ways (each default below names where it comes from) and says what it could not find instead of
failing; `strict` (config `synthetics.contract: strict`) reads exactly the fields of
docs/health-contract.schema.json, as the monitor did before.

Tolerant reading:
- a status is a word of STATUS_WORDS, in any case: healthy/ok/up/pass, degraded/warn, unhealthy/down/fail/error;
- the dependencies are in the first of DEPENDENCY_BLOCKS that is an object or an array, else in `info` and
  `error` together (@nestjs/terminus without `details`). In an object, an entry with a `status` is one
  dependency; an entry with a `services` object (this project's `externalServices`) has its own status judged
  and its members published; an entry that is an array is the IETF draft's `"<component>:<measurement>": [...]`
  (its `system` observations are judged, not published). In an array, each item with a `name` and a `status`
  is one. Every status found is judged; only what names a dependency is published;
- a number is read through its ordered candidate paths (MetricPaths): the first that holds a usable number
  wins, converted to the metric's unit. A percentage can be a ratio of two paths (used/total or free/total);
  bytes without a total stay bytes (ServiceMemoryBytes): they never become a guessed percentage;
- what is missing (a number, the body's `status`, `version` or `uptime`, a dependency's response time) is a
  FieldWarning: logged and counted (metric FieldMissing), never a failure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from lambdas.synthetic_monitor.paths import PATH, JsonValue, display_path, number, render_value, value_at

Contract = Literal["tolerant", "strict"]
CONTRACT_CHOICES: tuple[Contract, ...] = ("tolerant", "strict")
Health = Literal["healthy", "degraded", "unhealthy"]

# Sources: this project's contract (healthy/degraded/unhealthy); the IETF draft "Health Check Response Format for
# HTTP APIs" (draft-inadarei-api-health-check-06: pass/warn/fail, and it accepts ok/up and error/down from Node and
# Spring); @godaddy/terminus (ok/error); @nestjs/terminus (ok/error/shutting_down, indicators up/down);
# express-actuator (UP); express-status-monitor's health checks (ok/failed); healthcheck-middleware
# (success/failure); Spring-style OUT_OF_SERVICE.
STATUS_WORDS: dict[str, Health] = {
    **dict.fromkeys(("healthy", "ok", "up", "pass", "success"), "healthy"),
    **dict.fromkeys(("degraded", "warn", "warning"), "degraded"),
    **dict.fromkeys(
        ("unhealthy", "down", "fail", "failed", "failure", "error", "shutting_down", "out_of_service"), "unhealthy"
    ),
}
# `checks`: this project and the IETF draft; `details`: @godaddy/terminus and @nestjs/terminus (every indicator);
# `dependencies`: a common hand-written name; `components`: Spring-style actuators. First one present wins.
DEPENDENCY_BLOCKS = ("checks", "details", "dependencies", "components")
# @nestjs/terminus also splits its indicators into `info` (up) and `error` (down): used when no block above is there.
SPLIT_BLOCKS = ("info", "error")
# Milliseconds under these names; the IETF draft's `observedValue` of a `:responseTime` measurement also counts.
RESPONSE_TIME_KEYS = ("responseTime", "responseTimeMs", "response_time", "response_time_ms")
_OBSERVED_UNITS = {"ms": 1.0, "s": 1000.0}

MAX_DEPENDENCIES = 20
MAX_CANDIDATES = 20
_DEPENDENCY_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class ReadingError(ValueError):
    """A contract name or metric path configuration is invalid; the message names the field."""


# --- what a body reports --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DependencyHealth:
    """A dependency as published (metrics DependencyHealthy, DependencyResponseTime)."""

    name: str
    healthy: bool
    response_time_ms: float | None


@dataclass(frozen=True, slots=True)
class ServiceMetrics:
    cpu_percent: float | None
    memory_percent: float | None
    uptime_seconds: float | None
    memory_bytes: float | None = None


@dataclass(frozen=True, slots=True)
class FieldWarning:
    """Something a body did not report. `field` is the FieldMissing metric's dimension (a fixed vocabulary:
    status, version, uptime, responseTime, and the names of NUMBERS); `detail` says where, for the log."""

    field: str
    detail: str


@dataclass(frozen=True, slots=True)
class DependencyStatus:
    """One status a /health body gives for a dependency, where it gives it."""

    where: str  # the entry's path: its status is at `<where>.status`
    name: str  # the metric dimension
    status: JsonValue  # as written
    response_time_ms: float | None
    published: bool  # False for a group's own summary status (externalServices): its members are published
    grouped: bool  # a member of a `services` group: the report gives those no responseTime


def status_health(value: JsonValue) -> Health | None:
    """The health a status word means; None for anything that is not one of STATUS_WORDS."""
    return STATUS_WORDS.get(value.strip().lower()) if isinstance(value, str) else None


def dependency_statuses(document: JsonValue) -> list[DependencyStatus]:
    """Every dependency status of a /health body, tolerant of the block's name and shape (see the module doc)."""
    if not isinstance(document, dict):
        return []
    found: list[DependencyStatus] = []
    for prefix, block in _blocks(document):
        if isinstance(block, list):
            found.extend(_listed(prefix, block))
            continue
        for name, entry in block.items():
            found.extend(_entries(f"{prefix}.{name}", str(name), entry))
    return found


def _blocks(document: dict[str, Any]) -> list[tuple[str, dict[str, Any] | list[Any]]]:
    for key in DEPENDENCY_BLOCKS:
        if isinstance(document.get(key), dict | list):
            return [(key, document[key])]
    return [(key, document[key]) for key in SPLIT_BLOCKS if isinstance(document.get(key), dict)]


def _listed(prefix: str, block: list[Any]) -> list[DependencyStatus]:
    """[{name, status, ...}, ...]: an item without a name is judged, not published."""
    found = []
    for index, item in enumerate(block):
        if isinstance(item, dict) and "status" in item:
            name = item.get("name")
            named = name if isinstance(name, str) else ""
            found.append(_entry(f"{prefix}.{index}", named, item, published=bool(named)))
    return found


def _entries(where: str, name: str, entry: JsonValue) -> list[DependencyStatus]:
    if isinstance(entry, list):  # IETF draft: "<component>:<measurement>": [{status, observedValue, ...}, ...]
        component, _, measurement = name.partition(":")
        return [
            # componentType "system" (uptime, cpu, memory of the service itself) is judged, not a dependency
            _entry(
                f"{where}.{index}",
                component,
                item,
                published=item.get("componentType") != "system",
                ietf_measurement=measurement,
            )
            for index, item in enumerate(entry)
            if isinstance(item, dict) and "status" in item
        ]
    if not isinstance(entry, dict):
        return []
    services = entry.get("services")
    found = [_entry(where, name, entry, published=not isinstance(services, dict))] if "status" in entry else []
    if isinstance(services, dict):
        found.extend(
            _entry(f"{where}.services.{member}", str(member), item, grouped=True)
            for member, item in services.items()
            if isinstance(item, dict) and "status" in item
        )
    return found


def _entry(
    where: str,
    name: str,
    entry: dict[str, Any],
    *,
    published: bool = True,
    grouped: bool = False,
    ietf_measurement: str | None = None,
) -> DependencyStatus:
    return DependencyStatus(
        where=where,
        name=name,
        status=entry["status"],
        response_time_ms=_response_time(entry, ietf_measurement),
        published=published,
        grouped=grouped,
    )


def _response_time(entry: dict[str, Any], ietf_measurement: str | None) -> float | None:
    if ietf_measurement == "responseTime":
        observed, factor = number(entry.get("observedValue")), _OBSERVED_UNITS.get(str(entry.get("observedUnit")))
        return observed * factor if observed is not None and factor is not None else None
    return next((found for key in RESPONSE_TIME_KEYS if (found := number(entry.get(key))) is not None), None)


def health_reasons(document: JsonValue) -> list[str]:
    """Why a /health body does not report healthy: its `status`, then each dependency's. A body without a
    `status` leaves the verdict to the HTTP status (and gets a FieldWarning from health_warnings)."""
    if not isinstance(document, dict):
        return [f"body is {render_value(document)}, not an object"]
    reasons = _not_healthy("status", document["status"]) if "status" in document else []
    for dependency in dependency_statuses(document):
        reasons.extend(_not_healthy(f"{dependency.where}.status", dependency.status))
    return reasons


def _not_healthy(path: str, status: JsonValue) -> list[str]:
    health = status_health(status)
    if health == "healthy":
        return []
    shown = f"{display_path(path)} is {render_value(status)}"
    return [shown if health is not None else f"{shown}, not a known status word"]


def published_dependencies(document: JsonValue) -> tuple[DependencyHealth, ...]:
    """The dependencies to publish, one per name (healthy only when every status given for it is healthy;
    the first response time), at most MAX_DEPENDENCIES with metric-safe names, to bound the dimensions."""
    merged: dict[str, DependencyHealth] = {}
    for dependency in dependency_statuses(document):
        if not dependency.published or not _DEPENDENCY_NAME.match(dependency.name):
            continue
        healthy = status_health(dependency.status) == "healthy"
        seen = merged.get(dependency.name)
        if seen is None:
            merged[dependency.name] = DependencyHealth(dependency.name, healthy, dependency.response_time_ms)
        else:
            first_time = seen.response_time_ms if seen.response_time_ms is not None else dependency.response_time_ms
            merged[dependency.name] = DependencyHealth(dependency.name, seen.healthy and healthy, first_time)
    return tuple(merged.values())[:MAX_DEPENDENCIES]


def health_warnings(document: JsonValue, *, uptime: tuple[NumberSource, ...], now: float) -> tuple[FieldWarning, ...]:
    """The report's optional /health fields this body lacks: `status` (then the HTTP status decided),
    `version`, `uptime` (read like /health/metrics' uptime), a dependency's response time."""
    if not isinstance(document, dict):
        return ()
    warnings = []
    if "status" not in document:
        warnings.append(FieldWarning("status", "body.status missing: the HTTP status decided"))
    if "version" not in document:
        warnings.append(FieldWarning("version", "body.version missing"))
    if read_number(document, uptime, now=now) is None:
        warnings.append(FieldWarning("uptime", "body.uptime missing"))
    statuses = dependency_statuses(document)
    timed = {dependency.name for dependency in statuses if dependency.response_time_ms is not None}
    untimed = {
        dependency.name: dependency.where
        for dependency in reversed(statuses)  # reversed: the first entry of a name is the one named
        if dependency.published and not dependency.grouped and dependency.name not in timed
    }
    warnings.extend(FieldWarning("responseTime", f"{at}.responseTime missing") for at in reversed(untimed.values()))
    return tuple(warnings)


def strict_dependencies(document: JsonValue) -> tuple[DependencyHealth, ...]:
    """The strict contract's reading: each entry under `checks`, healthy only when its status is exactly
    "healthy"; an entry with `services` (externalServices) stands for its members."""
    checks = document.get("checks") if isinstance(document, dict) else None
    if not isinstance(checks, dict):
        return ()
    entries: list[tuple[str, JsonValue]] = []
    for name, entry in checks.items():
        services = entry.get("services") if isinstance(entry, dict) else None
        entries.extend(services.items() if isinstance(services, dict) else [(name, entry)])
    found = [
        DependencyHealth(
            name=name,
            healthy=entry.get("status") == "healthy",
            response_time_ms=number(entry.get("responseTime")),
        )
        for name, entry in entries
        if isinstance(entry, dict) and _DEPENDENCY_NAME.match(name)
    ]
    return tuple(found[:MAX_DEPENDENCIES])


# --- numbers through candidate paths ----------------------------------------------------------------

# Conversion factors to each number's unit (the first unit listed is the number's own).
UNITS: dict[str, dict[str, float]] = {
    "cpu_percent": {"percent": 1.0, "fraction": 100.0},
    "memory_percent": {"percent": 1.0, "fraction": 100.0},
    "memory_bytes": {"bytes": 1.0, "kilobytes": 1024.0, "megabytes": 1024.0**2},
    # epoch_seconds: a start time (prom-client's process_start_time_seconds); uptime = now - value.
    "uptime_seconds": {"seconds": 1.0, "milliseconds": 0.001, "epoch_seconds": 0.0},
}
NUMBERS = tuple(UNITS)
_FACTORS = {unit: factor for units in UNITS.values() for unit, factor in units.items()}
_RATIO_NUMBERS = ("cpu_percent", "memory_percent")


@dataclass(frozen=True, slots=True)
class NumberSource:
    """One candidate for a number: the value at `path` in `unit`, or with `total`, a percentage of that path's
    value (`free`: `path` is what is free, so the percentage used is (total - free) / total)."""

    path: str
    unit: str
    total: str | None = None
    free: bool = False


@dataclass(frozen=True, slots=True)
class MetricPaths:
    """Ordered candidates per number; an empty tuple means the number is not read (nor counted missing)."""

    cpu_percent: tuple[NumberSource, ...]
    memory_percent: tuple[NumberSource, ...]
    memory_bytes: tuple[NumberSource, ...]
    uptime_seconds: tuple[NumberSource, ...]

    def of(self, number_name: str) -> tuple[NumberSource, ...]:
        sources: tuple[NumberSource, ...] = getattr(self, number_name)
        return sources


def _percent(path: str) -> NumberSource:
    return NumberSource(path, "percent")


def _bytes(path: str) -> NumberSource:
    return NumberSource(path, "bytes")


def _seconds(path: str, unit: str = "seconds") -> NumberSource:
    return NumberSource(path, unit)


# Node's process.cpuUsage() ({user, system} in microseconds since start) is not read: one sample of a cumulative
# counter gives no current percentage. A top-level `memory` number is not read either: pidusage reports bytes,
# express-status-monitor megabytes. Configure a path for either when the unit is known.
DEFAULT_METRIC_PATHS = MetricPaths(
    cpu_percent=(
        _percent("cpu.usagePercent"),  # this project (docs/health-contract.schema.json)
        _percent("cpu.currentLoad"),  # systeminformation's si.currentLoad() served as `cpu`
        _percent("cpu"),  # pidusage / express-status-monitor: `cpu` is a percentage of one core
        _percent("cpuPercent"),
        _percent("cpu_percent"),
        _percent("checks.cpu:utilization.0.observedValue"),  # the IETF draft's example system check
    ),
    memory_percent=(
        _percent("memory.usagePercent"),  # this project
        _percent("memoryPercent"),
        _percent("memory_percent"),
        NumberSource("memory.usedBytes", "percent", total="memory.totalBytes"),  # this project's byte counts
        # process.memoryUsage().rss as a share of os.totalmem(), or os.freemem() of os.totalmem() (Node's os API)
        NumberSource("memory.rss", "percent", total="system.totalmem"),
        NumberSource("memory.rss", "percent", total="os.totalmem"),
        NumberSource("system.freemem", "percent", total="system.totalmem", free=True),
        NumberSource("os.freemem", "percent", total="os.totalmem", free=True),
        NumberSource("freemem", "percent", total="totalmem", free=True),
    ),
    memory_bytes=(
        _bytes("memory.usedBytes"),  # this project
        _bytes("memory.rss"),  # process.memoryUsage() served as `memory`
        _bytes("mem.rss"),  # express-actuator GET /metrics: {mem: process.memoryUsage(), uptime}
        _bytes("memoryUsage.rss"),
        _bytes("process.memoryUsage.rss"),  # nearform/stats: {process: {memoryUsage, cpuUsage, uptime}}
        _bytes("rss"),
        _bytes("name=process_resident_memory_bytes.values.0.value"),  # prom-client register.getMetricsAsJSON()
    ),
    uptime_seconds=(
        _seconds("uptime"),  # this project, express-actuator, express-healthcheck: process.uptime()
        _seconds("process.uptime"),  # nearform/stats
        _seconds("uptimeSeconds"),
        _seconds("uptime_seconds"),
        _seconds("checks.uptime.0.observedValue"),  # the IETF draft's example ("observedUnit": "s")
        _seconds("name=process_start_time_seconds.values.0.value", "epoch_seconds"),  # prom-client
    ),
)
# The strict contract reads exactly what it requires, as before.
STRICT_METRIC_PATHS = MetricPaths(
    cpu_percent=(_percent("cpu.usagePercent"),),
    memory_percent=(_percent("memory.usagePercent"),),
    memory_bytes=(),
    uptime_seconds=(_seconds("uptime"),),
)


def read_number(document: JsonValue, sources: tuple[NumberSource, ...], *, now: float) -> float | None:
    """The first candidate that holds a usable number, in the number's unit; None when none does."""
    for source in sources:
        value = number(value_at(document, source.path))
        if value is None:
            continue
        if source.total is not None:
            total = number(value_at(document, source.total))
            if total is None or total <= 0:
                continue
            return ((total - value) if source.free else value) / total * 100
        if source.unit == "epoch_seconds":
            if value > now:
                continue
            return now - value
        return value * _FACTORS[source.unit]
    return None


def read_service_metrics(
    document: JsonValue, paths: MetricPaths, *, now: float
) -> tuple[ServiceMetrics | None, tuple[FieldWarning, ...]]:
    """The numbers of a /health/metrics body, and a FieldWarning per number none of its candidates holds."""
    values = {name: read_number(document, paths.of(name), now=now) for name in NUMBERS}
    missing = tuple(
        FieldWarning(name, f"{name} missing: none of its {len(paths.of(name))} paths holds a number")
        for name, value in values.items()
        if value is None and paths.of(name)
    )
    service = ServiceMetrics(**values) if any(value is not None for value in values.values()) else None
    return service, missing


# --- configuration ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reading:
    """How the monitor reads bodies: the contract and, for the tolerant one, the candidate paths."""

    contract: Contract = "tolerant"
    metric_paths: MetricPaths = DEFAULT_METRIC_PATHS

    @property
    def tolerant(self) -> bool:
        return self.contract == "tolerant"


TOLERANT = Reading()
STRICT = Reading("strict", STRICT_METRIC_PATHS)


def reading_for(contract: str, metric_paths: Any = None) -> Reading:
    """The Reading for config's `contract` and `metric_paths` (None: the defaults); ReadingError names the field."""
    if contract not in CONTRACT_CHOICES:
        raise ReadingError(f"contract {contract!r}: use one of {', '.join(CONTRACT_CHOICES)}")
    if contract == "strict":
        if metric_paths is not None:
            raise ReadingError(
                "metric_paths apply to the tolerant contract; strict reads exactly cpu.usagePercent, "
                "memory.usagePercent and uptime"
            )
        return STRICT
    return TOLERANT if metric_paths is None else Reading("tolerant", parse_metric_paths(metric_paths))


def parse_metric_paths(raw: Any) -> MetricPaths:
    """{number: [candidate, ...]} -> MetricPaths; each listed number's candidates replace its defaults.

    A candidate is a path (the value in the number's own unit), {"path": P, "unit": U}, or for a percentage
    {"used": P, "total": T} or {"free": P, "total": T}.
    """
    if not isinstance(raw, Mapping):
        raise ReadingError(f"metric_paths: expected an object with any of {', '.join(NUMBERS)}")
    unknown = sorted(set(raw) - set(NUMBERS))
    if unknown:
        raise ReadingError(f"metric_paths: unknown number(s) {', '.join(map(str, unknown))}; use {', '.join(NUMBERS)}")
    overrides: dict[str, tuple[NumberSource, ...]] = {}
    for name, candidates in raw.items():
        where = f"metric_paths.{name}"
        if not isinstance(candidates, list) or len(candidates) > MAX_CANDIDATES:
            raise ReadingError(f"{where}: expected a list of at most {MAX_CANDIDATES} candidates ([] stops reading it)")
        overrides[name] = tuple(_candidate(item, name, f"{where}[{index}]") for index, item in enumerate(candidates))
    return replace(DEFAULT_METRIC_PATHS, **overrides)


def _candidate(raw: Any, number_name: str, where: str) -> NumberSource:
    if isinstance(raw, str):
        return NumberSource(_path(raw, where), _own_unit(number_name))
    keys = frozenset(raw) if isinstance(raw, Mapping) else frozenset()
    if keys in ({"path"}, {"path", "unit"}):
        unit = raw.get("unit", _own_unit(number_name))
        if unit not in UNITS[number_name]:
            raise ReadingError(f"{where}.unit: {unit!r} is not one of {', '.join(UNITS[number_name])}")
        return NumberSource(_path(raw["path"], f"{where}.path"), unit)
    if keys in ({"used", "total"}, {"free", "total"}) and number_name in _RATIO_NUMBERS:
        part = "used" if "used" in keys else "free"
        return NumberSource(
            _path(raw[part], f"{where}.{part}"),
            "percent",
            total=_path(raw["total"], f"{where}.total"),
            free=part == "free",
        )
    ratio = ", {used: P, total: T} or {free: P, total: T}" if number_name in _RATIO_NUMBERS else ""
    raise ReadingError(f"{where}: expected a path, {{path: P, unit: U}}{ratio}")


def _own_unit(number_name: str) -> str:
    return next(iter(UNITS[number_name]))


def _path(raw: Any, where: str) -> str:
    if not isinstance(raw, str) or not PATH.match(raw) or "*" in raw.split("."):
        raise ReadingError(f"{where}: {raw!r} must be a dotted path without * (such as memory.rss)")
    return raw
