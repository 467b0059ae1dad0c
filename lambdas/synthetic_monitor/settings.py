"""The monitor's settings, read once from the environment (set by its CDK construct).

Every variable is optional, so a local run needs none:

    HEALTH_BASE_URL               base URL for checks whose url is a path (default http://127.0.0.1:8080).
                                  Fixed contract: it overrides the configured base URL. A URL with
                                  credentials (user:password@) is refused, like in config.
    ENVIRONMENT                   the `environment` metric dimension (default "local")
    CHECKS                        JSON list of check objects (checks.py); default: the four health endpoints
    CHECK_TIMEOUT_MS              default total timeout per check (default 3000)
    HEALTH_CONTRACT               tolerant (default) or strict: how /health and /health/metrics are judged
                                  and read (reading.py)
    SERVICE_METRIC_PATHS          tolerant only: JSON object, number -> candidate paths replacing its defaults
    FRONTEND_URL                  the front end's page: adds the `frontend` check (same credentials rule)
    FRONTEND_MARKER               text the page must contain (optional)
    FRONTEND_LATENCY_BUDGET_MS    its latency budget (default 3000) and timeout (default 6000)
    FRONTEND_TIMEOUT_MS
    RUN_DEADLINE_MS               hard deadline of one run (default 10000; also capped by the Lambda's time left)
    RESULTS_TABLE_NAME            DynamoDB table where each run's results are kept for the alert router
                                  (results.py); unset: kept in the process (local runs, the demo)
    POWERTOOLS_METRICS_NAMESPACE  EMF namespace (default PeopleBooster/Synthetics)
    METRICS_REGION                probe stacks only: the home Region. Set, the results are put into its
                                  CloudWatch (PutMetricData) with a `region` dimension instead of printed as EMF
    PROBE_REGION                  probe stacks only (with METRICS_REGION): this probe's Region, the `region` value
    SENTRY_DSN                    read by lambdas.shared.observability.init_sentry
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lambdas.shared.urls import CREDENTIALS_REFUSED, has_credentials
from lambdas.synthetic_monitor.checks import (
    DEFAULT_TIMEOUT_MS,
    FRONTEND_LATENCY_BUDGET_MS,
    FRONTEND_TIMEOUT_MS,
    Check,
    CheckSpecError,
    Frontend,
    check_specs,
    parse_checks,
)
from lambdas.synthetic_monitor.metric_names import DEFAULT_NAMESPACE
from lambdas.synthetic_monitor.reading import CONTRACT_CHOICES, TOLERANT, Contract, Reading, ReadingError, reading_for

DEFAULT_BASE_URL = "http://127.0.0.1:8080"
DEFAULT_RUN_DEADLINE_MS = 10_000


_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]$")


class SettingsError(ValueError):
    """An environment variable is invalid: a deployment bug, so it raises (and reaches Sentry)."""


@dataclass(frozen=True, slots=True)
class ProbeRegion:
    """A probe stack's monitor: where it runs (`region`, the dimension value) and where its results go (`home`)."""

    region: str
    home: str


@dataclass(frozen=True, slots=True)
class Settings:
    base_url: str
    environment: str
    checks: tuple[Check, ...]
    run_deadline_ms: int
    namespace: str
    reading: Reading = TOLERANT
    probe: ProbeRegion | None = None
    results_table: str | None = None

    def url_of(self, check: Check) -> str:
        """A check's absolute URL: paths are appended to the base URL (keeping any base path)."""
        return self.base_url.rstrip("/") + check.url if check.url.startswith("/") else check.url


def settings_from_env(env: Mapping[str, str]) -> Settings:
    base_url = _url(env, "HEALTH_BASE_URL") or DEFAULT_BASE_URL
    environment = env.get("ENVIRONMENT", "").strip() or "local"
    if not re.match(r"^[A-Za-z0-9_-]{1,40}$", environment):
        raise SettingsError(f"ENVIRONMENT: {environment!r} must be 1-40 letters, digits, - or _")
    check_timeout_ms = _int(env, "CHECK_TIMEOUT_MS", DEFAULT_TIMEOUT_MS, low=100, high=60_000)
    run_deadline_ms = _int(env, "RUN_DEADLINE_MS", DEFAULT_RUN_DEADLINE_MS, low=100, high=600_000)
    contract = env.get("HEALTH_CONTRACT", "").strip() or "tolerant"
    if contract not in CONTRACT_CHOICES:
        raise SettingsError(f"HEALTH_CONTRACT: {contract!r} must be one of {', '.join(CONTRACT_CHOICES)}")
    try:
        reading = reading_for(contract, _json(env, "SERVICE_METRIC_PATHS"))
    except ReadingError as error:
        raise SettingsError(f"SERVICE_METRIC_PATHS: {error}") from error
    frontend_url = _url(env, "FRONTEND_URL")
    frontend = (
        Frontend(
            url=frontend_url,
            marker=env.get("FRONTEND_MARKER") or None,
            latency_budget_ms=_int(env, "FRONTEND_LATENCY_BUDGET_MS", FRONTEND_LATENCY_BUDGET_MS, low=100, high=60_000),
            timeout_ms=_int(env, "FRONTEND_TIMEOUT_MS", FRONTEND_TIMEOUT_MS, low=100, high=60_000),
        )
        if frontend_url
        else None
    )
    try:
        specs = check_specs(_json(env, "CHECKS"), contract=reading.contract, frontend=frontend)
        checks = parse_checks(specs, default_timeout_ms=check_timeout_ms)
    except CheckSpecError as error:
        raise SettingsError(f"CHECKS: {error}") from error
    return Settings(
        base_url=base_url,
        environment=environment,
        checks=checks,
        run_deadline_ms=run_deadline_ms,
        namespace=env.get("POWERTOOLS_METRICS_NAMESPACE", "").strip() or DEFAULT_NAMESPACE,
        reading=reading,
        probe=_probe(env),
        results_table=env.get("RESULTS_TABLE_NAME", "").strip() or None,
    )


def probe_environment(*, region: str, home: str) -> dict[str, str]:
    """The variables that make the monitor a probe of `region` reporting into `home` (a probe stack's)."""
    return {"METRICS_REGION": home, "PROBE_REGION": region}


def _probe(env: Mapping[str, str]) -> ProbeRegion | None:
    home, region = env.get("METRICS_REGION", "").strip(), env.get("PROBE_REGION", "").strip()
    if not home and not region:
        return None
    if not home or not region:
        raise SettingsError("METRICS_REGION and PROBE_REGION: set both (a probe stack) or neither (the home monitor)")
    for name, value in (("METRICS_REGION", home), ("PROBE_REGION", region)):
        if not _REGION.match(value):
            raise SettingsError(f"{name}: {value!r} is not a Region name")
    if home == region:
        raise SettingsError(f"PROBE_REGION: {region!r} is the home Region; the home monitor writes EMF instead")
    return ProbeRegion(region=region, home=home)


def options_environment(
    *, contract: Contract, metric_paths: Mapping[str, Any] | None, frontend: Frontend | None
) -> dict[str, str]:
    """The variables that give settings_from_env these options: what the construct writes for config's
    `synthetics.contract`, `metric_paths` and `frontend_*` (a test reads them back through settings_from_env)."""
    environment: dict[str, str] = {"HEALTH_CONTRACT": contract}
    if metric_paths is not None:
        environment["SERVICE_METRIC_PATHS"] = json.dumps(metric_paths, separators=(",", ":"))
    if frontend is not None:
        environment["FRONTEND_URL"] = frontend.url
        environment["FRONTEND_LATENCY_BUDGET_MS"] = str(frontend.latency_budget_ms)
        environment["FRONTEND_TIMEOUT_MS"] = str(frontend.timeout_ms)
        if frontend.marker:
            environment["FRONTEND_MARKER"] = frontend.marker
    return environment


@functools.cache
def load_settings() -> Settings:
    """settings_from_env(os.environ), once per process (tests call load_settings.cache_clear())."""
    return settings_from_env(os.environ)


def _url(env: Mapping[str, str], name: str) -> str:
    """An http(s) URL without credentials, or "" when unset."""
    url = env.get(name, "").strip()
    if url and has_credentials(url):  # checked first: the URL is never echoed
        raise SettingsError(f"{name}: {CREDENTIALS_REFUSED}")
    if url and not re.match(r"^https?://[^/\s]+(/\S*)?$", url):
        raise SettingsError(f"{name}: {url!r} is not an http(s) URL")
    return url


def _json(env: Mapping[str, str], name: str) -> Any:
    """The variable's JSON value, or None when unset."""
    raw = env.get(name, "").strip()
    try:
        return json.loads(raw) if raw else None
    except json.JSONDecodeError as error:
        raise SettingsError(f"{name}: not valid JSON ({error.msg} at {error.pos})") from error


def _int(env: Mapping[str, str], name: str, default: int, *, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise SettingsError(f"{name}: {raw!r} must be an integer from {low} to {high}")
    return int(raw)
