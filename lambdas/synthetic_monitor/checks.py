"""Checks as data, and how a response is judged: the pure core of the synthetic monitor.

A check is a plain dict (config/<env>.yaml `synthetics.checks`, or the CHECKS environment variable):

    {"name": "health", "url": "/health", "timeout_ms": 3000, "extract": "dependencies",
     "conditions": [{"status": 200}, {"latency_below_ms": 2000}, {"path": "status", "equals": "healthy"}]}

`url` is absolute or a path joined to the base URL (HEALTH_BASE_URL); it must not carry credentials
(`user:password@`). `timeout_ms` bounds the whole request (connect, TLS, headers and body).
`redirect_hosts` (optional) lists other host names a redirect may lead to; by default a redirect is
followed only to the check's own host (probe.py also refuses link-local, loopback, metadata and
unspecified addresses unless the check's own URL is one). `extract` publishes metrics read from the body:
"dependencies" (the /health contract) or "service_metrics" (the /health/metrics contract).

Condition vocabulary (in the spirit of Gatus; every condition of a check must hold):

    {"status": 200} or {"status": [200, 204]}   HTTP status is one of these     -> "status 503"
    {"latency_below_ms": 1000}                  full response within the budget -> "latency 1234 ms over 1000 ms"
    {"path": P, "equals": V}                    JSON value at P equals V        -> 'body.status is "degraded"'
    {"path": P, "in": [V, ...]}                 JSON value at P is one of these -> 'checks.redis.status is "down"'
    {"path": P, "exists": true|false}           P is present (or absent)        -> "uptime missing"
    {"path": P, "is": "number"}                 JSON type (number, integer, string, boolean, object, array)
    {"body_contains": "text"}                   raw body contains the text      -> 'body lacks "text"'
    {"contract": "health"}                      body matches the health contract (contract.py)

P is a dotted path into the JSON body (`checks.database.status`); a `*` segment means every member
(`checks.externalServices.services.*.status`) and each member must hold. A bare top-level key is shown
as `body.<key>` in reasons. When the body is not JSON, JSON conditions give one reason, `invalid JSON`,
unless the status was already wrong (a load balancer's 502 page says enough with `status 502`).

The latency budget is judged like any condition (`ok` is false when it is exceeded) but it does not
make the check `up` false: slowness is a performance alert, not an outage page.
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from lambdas.shared.urls import CREDENTIALS_REFUSED, has_credentials
from lambdas.synthetic_monitor.contract import CONTRACTS, display_path, is_type, render_value, violations

JsonValue = Any
Extract = Literal["dependencies", "service_metrics"]
EXTRACTS: tuple[Extract, ...] = ("dependencies", "service_metrics")

MAX_CHECKS = 100
MAX_REASONS = 6
MAX_DEPENDENCIES = 20
MAX_REDIRECT_HOSTS = 10
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
_PATH = re.compile(r"^[A-Za-z0-9_$@*-]+(\.[A-Za-z0-9_$@*-]+)*$")
_DEPENDENCY_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_HOST_NAME = re.compile(r"^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")
_MISSING = object()


class CheckSpecError(ValueError):
    """A check definition is invalid; the message names the check and the field."""


# --- the condition vocabulary ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StatusIn:
    codes: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class LatencyBelow:
    budget_ms: int


@dataclass(frozen=True, slots=True)
class PathEquals:
    path: str
    value: JsonValue


@dataclass(frozen=True, slots=True)
class PathIn:
    path: str
    values: tuple[JsonValue, ...]


@dataclass(frozen=True, slots=True)
class PathExists:
    path: str
    exists: bool


@dataclass(frozen=True, slots=True)
class PathIs:
    path: str
    type_name: str


@dataclass(frozen=True, slots=True)
class BodyContains:
    text: str


@dataclass(frozen=True, slots=True)
class MatchesContract:
    contract: str


Condition = StatusIn | LatencyBelow | PathEquals | PathIn | PathExists | PathIs | BodyContains | MatchesContract
_JSON_CONDITIONS = (PathEquals, PathIn, PathExists, PathIs, MatchesContract)
_TYPE_NAMES = ("number", "integer", "string", "boolean", "object", "array")


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    url: str
    timeout_ms: int
    conditions: tuple[Condition, ...]
    extract: Extract | None = None
    redirect_hosts: frozenset[str] = frozenset()  # other hosts a redirect may lead to (lower-case)

    @property
    def latency_budget_ms(self) -> int | None:
        """The latency budget, for the latency alarm's threshold; None when the check has none."""
        budgets = [c.budget_ms for c in self.conditions if isinstance(c, LatencyBelow)]
        return min(budgets) if budgets else None


# --- what the probe saw, and the verdict -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Response:
    """One probe's outcome. `error` is a transport failure (timeout, refused, TLS...), already worded."""

    url: str
    status_code: int | None
    body: bytes
    latency_ms: float
    error: str | None = None
    certificate_not_after: float | None = None  # epoch seconds, https only


@dataclass(frozen=True, slots=True)
class DependencyHealth:
    name: str
    healthy: bool
    response_time_ms: float | None


@dataclass(frozen=True, slots=True)
class ServiceMetrics:
    cpu_percent: float | None
    memory_percent: float | None
    uptime_seconds: float | None


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    url: str
    ok: bool  # every condition held
    up: bool  # answered and every condition except the latency budget held (the CheckSuccess metric)
    status_code: int | None
    latency_ms: float
    complete: bool  # a full response arrived, so latency_ms is a response time (not a timeout)
    reason: str | None
    dependencies: tuple[DependencyHealth, ...] = ()
    service: ServiceMetrics | None = None
    certificate_days: float | None = None

    def summary(self) -> dict[str, Any]:
        """The result as the handler returns it (a fixed contract: name, url, ok, status_code,
        latency_ms, reason), plus `up` and what the body told us."""
        summary: dict[str, Any] = {
            "name": self.name,
            "url": self.url,
            "ok": self.ok,
            "status_code": self.status_code,
            "latency_ms": round(self.latency_ms, 1),
            "reason": self.reason,
            "up": self.up,
        }
        if self.dependencies:
            summary["dependencies"] = {d.name: d.healthy for d in self.dependencies}
        if self.certificate_days is not None:
            summary["certificate_days"] = round(self.certificate_days, 1)
        return summary


# --- parsing ---------------------------------------------------------------------------------------


def parse_checks(specs: Any, *, default_timeout_ms: int) -> tuple[Check, ...]:
    """Validate plain check dicts (a list, from YAML or JSON) and build the typed checks; raise
    CheckSpecError naming the field."""
    if not isinstance(specs, list | tuple):
        raise CheckSpecError("checks must be a list of check objects")
    if not 1 <= len(specs) <= MAX_CHECKS:
        raise CheckSpecError(f"checks must hold 1 to {MAX_CHECKS} checks, not {len(specs)}")
    checks = tuple(_parse_check(spec, f"checks[{index}]", default_timeout_ms) for index, spec in enumerate(specs))
    names = [check.name for check in checks]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise CheckSpecError(f"check names must be unique: {', '.join(duplicates)}")
    return checks


def _parse_check(spec: Any, where: str, default_timeout_ms: int) -> Check:
    if not isinstance(spec, Mapping):
        raise CheckSpecError(f"{where}: expected an object with name, url, conditions")
    unknown = set(spec) - {"name", "url", "timeout_ms", "conditions", "extract", "redirect_hosts"}
    if unknown:
        raise CheckSpecError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    name = spec.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise CheckSpecError(f"{where}.name: {name!r} must match {_NAME.pattern} (it is a metric dimension)")
    where = f"{where} ({name})"
    url = spec.get("url")
    if isinstance(url, str) and has_credentials(url):  # checked first: the URL is never echoed
        raise CheckSpecError(f"{where}.url: {CREDENTIALS_REFUSED}")
    if not isinstance(url, str) or not (url.startswith("/") or re.match(r"^https?://[^/\s]+", url)):
        raise CheckSpecError(f"{where}.url: {url!r} must be a path (/health) or an http(s) URL")
    timeout_ms = spec.get("timeout_ms", default_timeout_ms)
    if not _is_int(timeout_ms) or not 100 <= timeout_ms <= 60_000:
        raise CheckSpecError(f"{where}.timeout_ms: {timeout_ms!r} must be an integer from 100 to 60000")
    extract = spec.get("extract")
    if extract is not None and extract not in EXTRACTS:
        raise CheckSpecError(f"{where}.extract: {extract!r} must be one of {', '.join(EXTRACTS)}")
    raw_conditions = spec.get("conditions")
    if not isinstance(raw_conditions, list) or not raw_conditions:
        raise CheckSpecError(f"{where}.conditions: expected a non-empty list")
    conditions = tuple(parse_condition(raw, f"{where}.conditions[{index}]") for index, raw in enumerate(raw_conditions))
    redirect_hosts = _parse_redirect_hosts(spec.get("redirect_hosts", []), f"{where}.redirect_hosts")
    check = Check(
        name=name,
        url=url,
        timeout_ms=timeout_ms,
        conditions=conditions,
        extract=extract,
        redirect_hosts=redirect_hosts,
    )
    budget = check.latency_budget_ms
    if budget is not None and budget >= timeout_ms:
        raise CheckSpecError(
            f"{where}: latency budget {budget} ms must be below timeout_ms {timeout_ms} (else it never fires)"
        )
    return check


def _parse_redirect_hosts(raw: Any, where: str) -> frozenset[str]:
    """Host names (or IP literals) only: no scheme, port, path or userinfo, at most MAX_REDIRECT_HOSTS."""
    if not isinstance(raw, list) or len(raw) > MAX_REDIRECT_HOSTS:
        raise CheckSpecError(f"{where}: expected a list of at most {MAX_REDIRECT_HOSTS} host names")
    hosts = set()
    for index, host in enumerate(raw):
        if not isinstance(host, str) or not _is_host(host.lower()):
            raise CheckSpecError(f"{where}[{index}]: expected a host name such as api.example.com (no scheme or port)")
        hosts.add(host.lower())
    return frozenset(hosts)


def _is_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return _HOST_NAME.match(host) is not None
    return True


def parse_condition(raw: Any, where: str = "condition") -> Condition:
    """One condition dict of the vocabulary above -> its typed form."""
    if not isinstance(raw, Mapping):
        raise CheckSpecError(f"{where}: expected an object such as {{'status': 200}}")
    keys = frozenset(raw)
    if keys == {"status"}:
        codes = raw["status"] if isinstance(raw["status"], list) else [raw["status"]]
        if not codes or not all(_is_int(code) and 100 <= code <= 599 for code in codes):
            raise CheckSpecError(f"{where}.status: expected an HTTP status or a list of them")
        return StatusIn(tuple(codes))
    if keys == {"latency_below_ms"}:
        budget = raw["latency_below_ms"]
        if not _is_int(budget) or budget <= 0:
            raise CheckSpecError(f"{where}.latency_below_ms: expected a positive integer")
        return LatencyBelow(budget)
    if keys == {"body_contains"}:
        if not isinstance(raw["body_contains"], str) or not raw["body_contains"]:
            raise CheckSpecError(f"{where}.body_contains: expected a non-empty string")
        return BodyContains(raw["body_contains"])
    if keys == {"contract"}:
        if raw["contract"] not in CONTRACTS:
            raise CheckSpecError(f"{where}.contract: expected one of {', '.join(CONTRACTS)}")
        return MatchesContract(raw["contract"])
    if "path" in keys and len(keys) == 2:
        return _parse_path_condition(raw, where)
    raise CheckSpecError(
        f"{where}: unknown condition {sorted(keys)}; use status, latency_below_ms, body_contains, contract, "
        "or path with one of equals, in, exists, is"
    )


def _parse_path_condition(raw: Mapping[str, Any], where: str) -> Condition:
    path = raw["path"]
    if not isinstance(path, str) or not _PATH.match(path):
        raise CheckSpecError(f"{where}.path: {path!r} must be a dotted path such as checks.database.status")
    if "equals" in raw:
        return PathEquals(path, raw["equals"])
    if "in" in raw:
        if not isinstance(raw["in"], list) or not raw["in"]:
            raise CheckSpecError(f"{where}.in: expected a non-empty list")
        return PathIn(path, tuple(raw["in"]))
    if "exists" in raw:
        if not isinstance(raw["exists"], bool):
            raise CheckSpecError(f"{where}.exists: expected true or false")
        return PathExists(path, raw["exists"])
    if "is" in raw:
        if raw["is"] not in _TYPE_NAMES:
            raise CheckSpecError(f"{where}.is: expected one of {', '.join(_TYPE_NAMES)}")
        return PathIs(path, raw["is"])
    other = next(iter(set(raw) - {"path"}))
    raise CheckSpecError(f"{where}: unknown path test {other!r}; use equals, in, exists or is")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# --- the default checks: the report's four health endpoints -----------------------------------------

DEFAULT_CHECK_SPECS: tuple[dict[str, Any], ...] = (
    {
        "name": "live",
        "url": "/health/live",
        "conditions": [{"status": 200}, {"latency_below_ms": 1000}],
    },
    {
        "name": "ready",
        "url": "/health/ready",
        "conditions": [{"status": 200}, {"latency_below_ms": 1000}],
    },
    {
        "name": "health",
        "url": "/health",
        "extract": "dependencies",
        "conditions": [
            {"status": 200},
            {"latency_below_ms": 2000},
            {"contract": "health"},
            {"path": "status", "equals": "healthy"},
            {"path": "checks.database.status", "equals": "healthy"},
            {"path": "checks.redis.status", "equals": "healthy"},
            {"path": "checks.externalServices.status", "equals": "healthy"},
            {"path": "checks.externalServices.services.*.status", "equals": "healthy"},
        ],
    },
    {
        "name": "metrics",
        "url": "/health/metrics",
        "extract": "service_metrics",
        "conditions": [
            {"status": 200},
            {"latency_below_ms": 1000},
            {"path": "uptime", "is": "number"},
            {"path": "cpu.usagePercent", "is": "number"},
            {"path": "memory.usagePercent", "is": "number"},
        ],
    },
)
DEFAULT_TIMEOUT_MS = 3000
DEFAULT_CHECKS = parse_checks(DEFAULT_CHECK_SPECS, default_timeout_ms=DEFAULT_TIMEOUT_MS)


# --- judging ---------------------------------------------------------------------------------------


def judge(check: Check, response: Response, *, now: float) -> CheckResult:
    """The verdict on one response: ok/up, a precise reason, and the numbers the body reports.

    `now` is epoch seconds, for the certificate's remaining days.
    """
    certificate_days = (
        (response.certificate_not_after - now) / 86_400 if response.certificate_not_after is not None else None
    )
    if response.error is not None:
        return CheckResult(
            name=check.name,
            url=response.url,
            ok=False,
            up=False,
            status_code=response.status_code,
            latency_ms=response.latency_ms,
            complete=False,
            reason=response.error,
            certificate_days=certificate_days,
        )

    document = _parse_json(response.body)
    status_failed = any(isinstance(c, StatusIn) and response.status_code not in c.codes for c in check.conditions)
    failures: list[str] = []
    slow: list[str] = []
    for condition in check.conditions:
        if isinstance(condition, _JSON_CONDITIONS) and document is _MISSING:
            if not status_failed and "invalid JSON" not in failures:
                failures.append("invalid JSON")
            continue
        reasons = _evaluate(condition, response, document)
        (slow if isinstance(condition, LatencyBelow) else failures).extend(reasons)

    every = failures + slow
    shown = every[:MAX_REASONS] + ([f"(+{len(every) - MAX_REASONS} more)"] if len(every) > MAX_REASONS else [])
    return CheckResult(
        name=check.name,
        url=response.url,
        ok=not every,
        up=not failures,
        status_code=response.status_code,
        latency_ms=response.latency_ms,
        complete=True,
        reason="; ".join(shown) or None,
        dependencies=_dependencies(document) if check.extract == "dependencies" else (),
        service=_service_metrics(document) if check.extract == "service_metrics" else None,
        certificate_days=certificate_days,
    )


def _evaluate(condition: Condition, response: Response, document: JsonValue) -> list[str]:  # noqa: PLR0911 - one return per condition kind
    match condition:
        case StatusIn(codes):
            return [] if response.status_code in codes else [f"status {response.status_code}"]
        case LatencyBelow(budget_ms):
            latency = round(response.latency_ms)
            return [] if response.latency_ms < budget_ms else [f"latency {latency} ms over {budget_ms} ms"]
        case BodyContains(text):
            found = text.encode() in response.body
            return [] if found else [f"body lacks {render_value(text)}"]
        case MatchesContract(contract):
            return [f"contract: {problem}" for problem in violations(document, contract)]
        case PathEquals(path, expected):
            return _each(document, path, lambda value: _json_equal(value, expected))
        case PathIn(path, allowed):
            return _each(document, path, lambda value: any(_json_equal(value, item) for item in allowed))
        case PathIs(path, type_name):
            return _each(document, path, lambda value: is_type(value, type_name), suffix=f", not {type_name}")
        case PathExists(path, exists):
            matches = list(_lookup(document, path))
            present = [shown for shown, value in matches if value is not _MISSING]
            if exists:
                return [f"{display_path(shown)} missing" for shown, value in matches if value is _MISSING]
            return [f"{display_path(shown)} present" for shown in present]
    raise AssertionError(f"unhandled condition {condition!r}")  # pragma: no cover - the union is closed


def _each(document: JsonValue, path: str, holds: Any, suffix: str = "") -> list[str]:
    reasons = []
    for shown, value in _lookup(document, path):
        if value is _MISSING:
            reasons.append(f"{display_path(shown)} missing")
        elif not holds(value):
            reasons.append(f"{display_path(shown)} is {render_value(value)}{suffix}")
    return reasons


def _json_equal(value: JsonValue, expected: JsonValue) -> bool:
    # JSON semantics: 1 == 1.0, but true is not 1.
    if isinstance(value, bool) or isinstance(expected, bool):
        return value is expected
    return bool(value == expected)


def _lookup(document: JsonValue, path: str) -> Iterator[tuple[str, JsonValue]]:
    """Every (concrete path, value) that `path` names; a `*` segment fans out over object members
    and array items. A part that does not exist yields (the path so far, _MISSING)."""
    nodes: list[tuple[str, JsonValue]] = [("", document)]
    for segment in path.split("."):
        following: list[tuple[str, JsonValue]] = []
        for prefix, node in nodes:
            joined = f"{prefix}.{segment}" if prefix else segment
            if node is _MISSING:
                following.append((joined, _MISSING))
            elif segment == "*":
                members = _members(node)
                following.extend((f"{prefix}.{key}" if prefix else key, item) for key, item in members)
                if not members:
                    following.append((joined, _MISSING))
            else:
                following.append((joined, _child(node, segment)))
        nodes = following
    yield from nodes


def _members(node: JsonValue) -> list[tuple[str, JsonValue]]:
    if isinstance(node, dict):
        return [(str(key), value) for key, value in node.items()]
    if isinstance(node, list):
        return [(str(index), value) for index, value in enumerate(node)]
    return []


def _child(node: JsonValue, segment: str) -> JsonValue:
    if isinstance(node, dict):
        return node.get(segment, _MISSING)
    if isinstance(node, list) and segment.isdigit() and int(segment) < len(node):
        return node[int(segment)]
    return _MISSING


def _parse_json(body: bytes) -> JsonValue:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return _MISSING


# --- numbers the body reports ------------------------------------------------------------------------


def _number(value: JsonValue) -> float | None:
    if is_type(value, "number") and math.isfinite(value):
        return float(value)
    return None


def _dependencies(document: JsonValue) -> tuple[DependencyHealth, ...]:
    """Each dependency under `checks` in a /health body; an entry with `services` (externalServices)
    stands for its members. At most MAX_DEPENDENCIES, with metric-safe names, to bound the dimensions."""
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
            response_time_ms=_number(entry.get("responseTime")),
        )
        for name, entry in entries
        if isinstance(entry, dict) and _DEPENDENCY_NAME.match(name)
    ]
    return tuple(found[:MAX_DEPENDENCIES])


def _service_metrics(document: JsonValue) -> ServiceMetrics | None:
    if not isinstance(document, dict):
        return None
    values = {
        "cpu_percent": _child_number(document, "cpu", "usagePercent"),
        "memory_percent": _child_number(document, "memory", "usagePercent"),
        "uptime_seconds": _number(document.get("uptime")),
    }
    return ServiceMetrics(**values) if any(v is not None for v in values.values()) else None


def _child_number(document: dict[str, Any], key: str, field: str) -> float | None:
    node = document.get(key)
    return _number(node.get(field)) if isinstance(node, dict) else None
