"""Observability shared by the Lambdas: Sentry set-up and secret scrubbing.

Each function keeps its own Powertools Logger and Metrics singletons (its own service and namespace);
this module holds what both need in the same shape. sentry_sdk is imported only when a DSN switches it
on, so a local run or a cold start without it stays fast.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

# Webhook URLs, bot/app tokens, bearer headers and Secrets Manager payloads must never leave the function.
_SECRET_PATTERNS = (
    re.compile(r"https://hooks\.slack(?:-gov)?\.com/[^\s\"'<>]+"),
    re.compile(r"\bxox[abposr]-[A-Za-z0-9-]+"),
    re.compile(r"\bxapp-[A-Za-z0-9-]+"),
    re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]+"),
    re.compile(r"(?i)(sentry-hook-signature|client_secret|signing_secret)([\"']?\s*[:=]\s*[\"']?)[^\s\"',}]+"),
)
REDACTED = "[redacted]"


def scrub_secrets(text: str) -> str:
    """Replace every secret-looking substring (webhook URL, token, signature) with a marker."""
    for pattern in _SECRET_PATTERNS:
        if pattern.groups >= 2:
            text = pattern.sub(lambda match: f"{match.group(1)}{match.group(2)}{REDACTED}", text)
        else:
            text = pattern.sub(REDACTED, text)
    return text


def scrub_value(value: Any) -> Any:
    """scrub_secrets applied through nested dicts, lists and strings (for Sentry events)."""
    if isinstance(value, str):
        return scrub_secrets(value)
    if isinstance(value, Mapping):
        return {key: scrub_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [scrub_value(item) for item in value]
    return value


def _before_send(event: dict[str, Any], _hint: dict[str, Any]) -> dict[str, Any]:
    scrubbed: dict[str, Any] = scrub_value(event)
    return scrubbed


_sentry_enabled: bool | None = None


def init_sentry(service: str, environ: Mapping[str, str] | None = None) -> bool:
    """Start Sentry once per process when SENTRY_DSN is set; without a DSN Sentry stays off, quietly.

    Tags: environment (SENTRY_ENVIRONMENT), release (SENTRY_RELEASE), service. No PII is sent and
    every event passes through scrub_value, so webhook URLs and tokens cannot reach Sentry.
    """
    global _sentry_enabled  # noqa: PLW0603 - Sentry is a process-wide client; initialise it once
    if _sentry_enabled is not None:
        return _sentry_enabled
    env = os.environ if environ is None else environ
    dsn = env.get("SENTRY_DSN", "").strip()
    if not dsn:
        _sentry_enabled = False
        return False

    import sentry_sdk  # noqa: PLC0415 - costs ~100 ms; only when Sentry is on
    from sentry_sdk.integrations.aws_lambda import AwsLambdaIntegration  # noqa: PLC0415

    sentry_sdk.init(
        dsn=dsn,
        environment=env.get("SENTRY_ENVIRONMENT") or env.get("ENVIRONMENT") or "local",
        release=env.get("SENTRY_RELEASE") or None,
        send_default_pii=False,
        traces_sample_rate=float(env.get("SENTRY_TRACES_SAMPLE_RATE", "0") or 0),
        integrations=[AwsLambdaIntegration(timeout_warning=True)],
        before_send=_before_send,  # type: ignore[arg-type]
    )
    sentry_sdk.set_tag("service", service)
    _sentry_enabled = True
    return True


def reset_sentry_for_tests() -> None:
    global _sentry_enabled  # noqa: PLW0603
    _sentry_enabled = None
