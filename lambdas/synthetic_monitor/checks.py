"""Checks as data, and how a response is judged: the pure core of the synthetic monitor.

A check is a plain dict (config/<env>.yaml `synthetics.checks`, or the CHECKS environment variable):

    {"name": "health", "url": "/health", "timeout_ms": 3000, "extract": "dependencies",
     "conditions": [{"status": 200}, {"latency_below_ms": 2000}, {"path": "status", "equals": "healthy"}]}

`url` is absolute or a path joined to the base URL (HEALTH_BASE_URL); it must not carry credentials
(`user:password@`). `timeout_ms` bounds the whole request (connect, TLS, headers and body).
`redirect_hosts` (optional) lists other host names a redirect may lead to; by default a redirect is
followed only to the check's own host (probe.py also refuses link-local, loopback, metadata and
unspecified addresses unless the check's own URL is one). `extract` publishes metrics read from the body:
"dependencies" (/health) or "service_metrics" (/health/metrics), the way the contract says (reading.py:
tolerant by default, strict on request); what the tolerant reading cannot find is a warning, never a failure.

Condition vocabulary (in the spirit of Gatus; every condition of a check must hold):

    {"status": 200} or {"status": [200, 204]}   HTTP status is one of these     -> "status 503"
    {"latency_below_ms": 1000}                  full response within the budget -> "latency 1234 ms over 1000 ms"
    {"path": P, "equals": V}                    JSON value at P equals V        -> 'body.status is "degraded"'
    {"path": P, "in": [V, ...]}                 JSON value at P is one of these -> 'checks.redis.status is "down"'
    {"path": P, "exists": true|false}           P is present (or absent)        -> "uptime missing"
    {"path": P, "is": "number"}                 JSON type (number, integer, string, boolean, object, array)
    {"body_contains": "text"}                   raw body contains the text      -> 'body lacks "text"'
    {"content_type": "text/html"}               media type of Content-Type      -> 'content type "text/plain", not ...'
    {"json": true}                              the body is JSON                -> "invalid JSON"
    {"reports_healthy": true}                   the body's status and every dependency's status are healthy
                                                words, in the common shapes (reading.py)
                                                -> 'details.redis.status is "down"'
    {"contract": "health"}                      body matches the strict health contract (contract.py)

P is a dotted path into the JSON body (`checks.database.status`, paths.py); a `*` segment means every member
(`checks.externalServices.services.*.status`) and each member must hold. A bare top-level key is shown
as `body.<key>` in reasons. When the body is not JSON, JSON conditions give one reason, `invalid JSON`,
unless the status was already wrong (a load balancer's 502 page says enough with `status 502`); for the
same reason `content_type` and `body_contains` are not judged when the status is wrong.

The latency budget is judged like any condition (`ok` is false when it is exceeded) but it does not
make the check `up` false: slowness is a performance alert, not an outage page.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from lambdas.shared.urls import CREDENTIALS_REFUSED, has_credentials
from lambdas.synthetic_monitor.contract import CONTRACTS, is_type, violations
from lambdas.synthetic_monitor.paths import MISSING, PATH, JsonValue, display_path, lookup, parse_json, render_value
from lambdas.synthetic_monitor.reading import (
    TOLERANT,
    Contract,
    DependencyHealth,
    FieldWarning,
    Reading,
    ServiceMetrics,
    health_reasons,
    health_warnings,
    published_dependencies,
    read_service_metrics,
    strict_dependencies,
)

Extract = Literal["dependencies", "service_metrics"]
EXTRACTS: tuple[Extract, ...] = ("dependencies", "service_metrics")

MAX_CHECKS = 100
MAX_REASONS = 6
MAX_REDIRECT_HOSTS = 10
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
_MEDIA_TYPE = re.compile(r"^[a-z0-9!#$&^_.+-]+/[a-z0-9!#$&^_.+-]+$")
_HOST_NAME = re.compile(r"^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")


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


@dataclass(frozen=True, slots=True)
class ContentTypeIs:
    media_type: str  # lower case, without parameters


@dataclass(frozen=True, slots=True)
class IsJson:
    pass


@dataclass(frozen=True, slots=True)
class ReportsHealthy:
    pass


Condition = (
    StatusIn
    | LatencyBelow
    | PathEquals
    | PathIn
    | PathExists
    | PathIs
    | BodyContains
    | MatchesContract
    | ContentTypeIs
    | IsJson
    | ReportsHealthy
)
_JSON_CONDITIONS = (PathEquals, PathIn, PathExists, PathIs, MatchesContract, IsJson, ReportsHealthy)
# Not judged when the status is already wrong: an error page's type or text says nothing more.
_PAGE_CONDITIONS = (ContentTypeIs, BodyContains)
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
    content_type: str | None = None  # the Content-Type header, as sent


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
    warnings: tuple[FieldWarning, ...] = ()  # what the body did not report (tolerant contract): not failures

    def summary(self) -> dict[str, Any]:
        """The result as the handler returns it (a fixed contract: name, url, ok, status_code,
        latency_ms, reason), plus `up` and what the body told us (and did not)."""
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
        if self.warnings:
            summary["warnings"] = [warning.detail for warning in self.warnings]
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
    if len(keys) == 1 and (key := next(iter(keys))) in _ONE_KEY_CONDITIONS:
        return _ONE_KEY_CONDITIONS[key](raw[key], f"{where}.{key}")
    if "path" in keys and len(keys) == 2:
        return _parse_path_condition(raw, where)
    raise CheckSpecError(
        f"{where}: unknown condition {sorted(keys)}; use {', '.join(_ONE_KEY_CONDITIONS)}, "
        "or path with one of equals, in, exists, is"
    )


def _status_in(value: Any, where: str) -> Condition:
    codes = value if isinstance(value, list) else [value]
    if not codes or not all(_is_int(code) and 100 <= code <= 599 for code in codes):
        raise CheckSpecError(f"{where}: expected an HTTP status or a list of them")
    return StatusIn(tuple(codes))


def _latency_below(value: Any, where: str) -> Condition:
    if not _is_int(value) or value <= 0:
        raise CheckSpecError(f"{where}: expected a positive integer")
    return LatencyBelow(value)


def _body_contains(value: Any, where: str) -> Condition:
    if not isinstance(value, str) or not value:
        raise CheckSpecError(f"{where}: expected a non-empty string")
    return BodyContains(value)


def _content_type(value: Any, where: str) -> Condition:
    if not isinstance(value, str) or not _MEDIA_TYPE.match(value.lower()):
        raise CheckSpecError(f"{where}: expected a media type such as text/html")
    return ContentTypeIs(value.lower())


def _matches_contract(value: Any, where: str) -> Condition:
    if value not in CONTRACTS:
        raise CheckSpecError(f"{where}: expected one of {', '.join(CONTRACTS)}")
    return MatchesContract(value)


def _flag(condition: Condition) -> Callable[[Any, str], Condition]:
    def parse(value: Any, where: str) -> Condition:
        if value is not True:
            raise CheckSpecError(f"{where}: expected true")
        return condition

    return parse


_ONE_KEY_CONDITIONS: dict[str, Callable[[Any, str], Condition]] = {
    "status": _status_in,
    "latency_below_ms": _latency_below,
    "body_contains": _body_contains,
    "content_type": _content_type,
    "json": _flag(IsJson()),
    "reports_healthy": _flag(ReportsHealthy()),
    "contract": _matches_contract,
}


def _parse_path_condition(raw: Mapping[str, Any], where: str) -> Condition:
    path = raw["path"]
    if not isinstance(path, str) or not PATH.match(path):
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


# --- the default checks: the report's four health endpoints, and the front end when configured ------

_LIVE_AND_READY: tuple[dict[str, Any], ...] = (
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
)
# Tolerant (the default): /health is judged on its status words, /health/metrics on status, JSON and latency;
# what either body does not report is a warning (reading.py).
DEFAULT_CHECK_SPECS: tuple[dict[str, Any], ...] = (
    *_LIVE_AND_READY,
    {
        "name": "health",
        "url": "/health",
        "extract": "dependencies",
        "conditions": [{"status": 200}, {"latency_below_ms": 2000}, {"reports_healthy": True}],
    },
    {
        "name": "metrics",
        "url": "/health/metrics",
        "extract": "service_metrics",
        "conditions": [{"status": 200}, {"latency_below_ms": 1000}, {"json": True}],
    },
)
# Strict (`synthetics.contract: strict`): every field of docs/health-contract.schema.json, as before issue 15.
STRICT_CHECK_SPECS: tuple[dict[str, Any], ...] = (
    *_LIVE_AND_READY,
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
FRONTEND_CHECK = "frontend"
FRONTEND_LATENCY_BUDGET_MS = 3000
FRONTEND_TIMEOUT_MS = 6000  # above the budget, so a slow page reports its latency rather than a timeout


@dataclass(frozen=True, slots=True)
class Frontend:
    """The front end's page (config `synthetics.frontend_*`): GET answers 200 with HTML, optionally holding
    `marker` (any text the page always renders, e.g. Next.js's `__NEXT_DATA__`), within the budget."""

    url: str
    marker: str | None = None
    latency_budget_ms: int = FRONTEND_LATENCY_BUDGET_MS
    timeout_ms: int = FRONTEND_TIMEOUT_MS

    def check_spec(self) -> dict[str, Any]:
        conditions: list[dict[str, Any]] = [{"status": 200}, {"content_type": "text/html"}]
        if self.marker:
            conditions.append({"body_contains": self.marker})
        conditions.append({"latency_below_ms": self.latency_budget_ms})
        return {"name": FRONTEND_CHECK, "url": self.url, "timeout_ms": self.timeout_ms, "conditions": conditions}


def check_specs(configured: Any, *, contract: Contract, frontend: Frontend | None) -> Any:
    """The check dicts the monitor runs: the configured ones, else the contract's defaults; plus the front end's.
    Not validated here: parse_checks judges the result (a non-list is passed through for it to refuse)."""
    defaults = STRICT_CHECK_SPECS if contract == "strict" else DEFAULT_CHECK_SPECS
    specs: Sequence[Any] = defaults if configured is None else configured
    if frontend is None or not isinstance(specs, list | tuple):
        return specs
    return [*specs, frontend.check_spec()]


# --- judging ---------------------------------------------------------------------------------------


def judge(check: Check, response: Response, *, now: float, reading: Reading = TOLERANT) -> CheckResult:
    """The verdict on one response: ok/up, a precise reason, and what the body reports (read per `reading`).

    `now` is epoch seconds, for the certificate's remaining days (and an uptime given as a start time).
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

    document = parse_json(response.body)
    status_failed = any(isinstance(c, StatusIn) and response.status_code not in c.codes for c in check.conditions)
    failures: list[str] = []
    slow: list[str] = []
    for condition in check.conditions:
        if isinstance(condition, _JSON_CONDITIONS) and document is MISSING:
            if not status_failed and "invalid JSON" not in failures:
                failures.append("invalid JSON")
            continue
        if isinstance(condition, _PAGE_CONDITIONS) and status_failed:
            continue
        reasons = _evaluate(condition, response, document)
        (slow if isinstance(condition, LatencyBelow) else failures).extend(reasons)

    every = failures + slow
    shown = every[:MAX_REASONS] + ([f"(+{len(every) - MAX_REASONS} more)"] if len(every) > MAX_REASONS else [])
    dependencies, service, warnings = _extract(check.extract, document, reading, now=now)
    return CheckResult(
        name=check.name,
        url=response.url,
        ok=not every,
        up=not failures,
        status_code=response.status_code,
        latency_ms=response.latency_ms,
        complete=True,
        reason="; ".join(shown) or None,
        dependencies=dependencies,
        service=service,
        certificate_days=certificate_days,
        warnings=warnings,
    )


def _extract(
    extract: Extract | None, document: JsonValue, reading: Reading, *, now: float
) -> tuple[tuple[DependencyHealth, ...], ServiceMetrics | None, tuple[FieldWarning, ...]]:
    """What the body reports, and (tolerant contract only) what it does not: a body that is not JSON has
    already failed the check, so it gives neither."""
    if extract is None or document is MISSING:
        return (), None, ()
    if extract == "dependencies":
        if not reading.tolerant:
            return strict_dependencies(document), None, ()
        uptime = reading.metric_paths.uptime_seconds
        return published_dependencies(document), None, health_warnings(document, uptime=uptime, now=now)
    service, missing = read_service_metrics(document, reading.metric_paths, now=now)
    return (), service, missing if reading.tolerant else ()


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
        case ContentTypeIs(media_type):
            return _content_type_reasons(response.content_type, media_type)
        case IsJson():
            return []  # judge() already said "invalid JSON" if it is not
        case ReportsHealthy():
            return health_reasons(document)
        case PathEquals(path, expected):
            return _each(document, path, lambda value: _json_equal(value, expected))
        case PathIn(path, allowed):
            return _each(document, path, lambda value: any(_json_equal(value, item) for item in allowed))
        case PathIs(path, type_name):
            return _each(document, path, lambda value: is_type(value, type_name), suffix=f", not {type_name}")
        case PathExists(path, exists):
            matches = list(lookup(document, path))
            present = [shown for shown, value in matches if value is not MISSING]
            if exists:
                return [f"{display_path(shown)} missing" for shown, value in matches if value is MISSING]
            return [f"{display_path(shown)} present" for shown in present]
    raise AssertionError(f"unhandled condition {condition!r}")  # pragma: no cover - the union is closed


def _content_type_reasons(header: str | None, media_type: str) -> list[str]:
    sent = (header or "").split(";", 1)[0].strip().lower()  # "text/html; charset=utf-8" is text/html
    if sent == media_type:
        return []
    return [f"content type {render_value(sent) if sent else 'missing'}, not {media_type}"]


def _each(document: JsonValue, path: str, holds: Any, suffix: str = "") -> list[str]:
    reasons = []
    for shown, value in lookup(document, path):
        if value is MISSING:
            reasons.append(f"{display_path(shown)} missing")
        elif not holds(value):
            reasons.append(f"{display_path(shown)} is {render_value(value)}{suffix}")
    return reasons


def _json_equal(value: JsonValue, expected: JsonValue) -> bool:
    # JSON semantics: 1 == 1.0, but true is not 1.
    if isinstance(value, bool) or isinstance(expected, bool):
        return value is expected
    return bool(value == expected)
