"""The monitor's settings, read once from the environment (set by its CDK construct).

Every variable is optional, so a local run needs none:

    HEALTH_BASE_URL               base URL for checks whose url is a path (default http://127.0.0.1:8080).
                                  Fixed contract: it overrides the configured base URL. A URL with
                                  credentials (user:password@) is refused, like in config.
    ENVIRONMENT                   the `environment` metric dimension (default "local")
    CHECKS                        JSON list of check objects (checks.py); default: the four health endpoints
    CHECK_TIMEOUT_MS              default total timeout per check (default 3000)
    RUN_DEADLINE_MS               hard deadline of one run (default 10000; also capped by the Lambda's time left)
    POWERTOOLS_METRICS_NAMESPACE  EMF namespace (default PeopleBooster/Synthetics)
    SENTRY_DSN                    read by lambdas.shared.observability.init_sentry
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from lambdas.shared.urls import CREDENTIALS_REFUSED, has_credentials
from lambdas.synthetic_monitor.checks import (
    DEFAULT_CHECK_SPECS,
    DEFAULT_TIMEOUT_MS,
    Check,
    CheckSpecError,
    parse_checks,
)
from lambdas.synthetic_monitor.metric_names import DEFAULT_NAMESPACE

DEFAULT_BASE_URL = "http://127.0.0.1:8080"
DEFAULT_RUN_DEADLINE_MS = 10_000


class SettingsError(ValueError):
    """An environment variable is invalid: a deployment bug, so it raises (and reaches Sentry)."""


@dataclass(frozen=True, slots=True)
class Settings:
    base_url: str
    environment: str
    checks: tuple[Check, ...]
    run_deadline_ms: int
    namespace: str

    def url_of(self, check: Check) -> str:
        """A check's absolute URL: paths are appended to the base URL (keeping any base path)."""
        return self.base_url.rstrip("/") + check.url if check.url.startswith("/") else check.url


def settings_from_env(env: Mapping[str, str]) -> Settings:
    base_url = env.get("HEALTH_BASE_URL", "").strip() or DEFAULT_BASE_URL
    if has_credentials(base_url):  # checked first: the URL is never echoed
        raise SettingsError(f"HEALTH_BASE_URL: {CREDENTIALS_REFUSED}")
    if not re.match(r"^https?://[^/\s]+(/\S*)?$", base_url):
        raise SettingsError(f"HEALTH_BASE_URL: {base_url!r} is not an http(s) URL")
    environment = env.get("ENVIRONMENT", "").strip() or "local"
    if not re.match(r"^[A-Za-z0-9_-]{1,40}$", environment):
        raise SettingsError(f"ENVIRONMENT: {environment!r} must be 1-40 letters, digits, - or _")
    check_timeout_ms = _int(env, "CHECK_TIMEOUT_MS", DEFAULT_TIMEOUT_MS, low=100, high=60_000)
    run_deadline_ms = _int(env, "RUN_DEADLINE_MS", DEFAULT_RUN_DEADLINE_MS, low=100, high=600_000)
    raw_checks = env.get("CHECKS", "").strip()
    try:
        specs = json.loads(raw_checks) if raw_checks else list(DEFAULT_CHECK_SPECS)
        checks = parse_checks(specs, default_timeout_ms=check_timeout_ms)
    except json.JSONDecodeError as error:
        raise SettingsError(f"CHECKS: not valid JSON ({error.msg} at {error.pos})") from error
    except CheckSpecError as error:
        raise SettingsError(f"CHECKS: {error}") from error
    return Settings(
        base_url=base_url,
        environment=environment,
        checks=checks,
        run_deadline_ms=run_deadline_ms,
        namespace=env.get("POWERTOOLS_METRICS_NAMESPACE", "").strip() or DEFAULT_NAMESPACE,
    )


@functools.cache
def load_settings() -> Settings:
    """settings_from_env(os.environ), once per process (tests call load_settings.cache_clear())."""
    return settings_from_env(os.environ)


def _int(env: Mapping[str, str], name: str, default: int, *, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise SettingsError(f"{name}: {raw!r} must be an integer from {low} to {high}")
    return int(raw)
