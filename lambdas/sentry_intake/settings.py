"""The Sentry intake's settings, from the environment (set by its CDK construct; all optional locally).

Environment variables:
    ENVIRONMENT                 environment name ("local")
    SENTRY_CLIENT_SECRET_ARN    Secrets Manager secret (ARN or name) holding the Sentry integration's client
                                secret (the plain string, or JSON {"client_secret": "..."})
    SENTRY_CLIENT_SECRET        local only, when no secret ARN is set: the client secret itself (tests,
                                `make invoke`, the demo; tools/sentry_events.py documents the test secret)
    ALERT_TOPIC_ARN             the alert topic to publish to; without it (local) the alert goes straight to
                                the router handler in-process
    MAX_HOOK_AGE_SECONDS        oldest Sentry-Hook-Timestamp accepted, in seconds (default 300; 0 turns the
                                check off). `make invoke` refreshes the committed events' timestamp.

The client secret is never logged, never in an exception message, never in env vars of the deployed function.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass

SECRET_MAX_AGE_SECONDS = 300  # a rotated client secret is picked up within 5 minutes
DEFAULT_MAX_HOOK_AGE_SECONDS = 300


class SettingsError(Exception):
    """A setting is missing or invalid; the message names the variable, never a secret value."""


@dataclass(frozen=True)
class Settings:
    environment: str = "local"
    secret_id: str | None = None
    local_secret: str | None = None
    topic_arn: str | None = None
    max_hook_age_seconds: int = DEFAULT_MAX_HOOK_AGE_SECONDS


def settings_from_env(environ: Mapping[str, str]) -> Settings:
    def get(name: str) -> str | None:
        return environ.get(name, "").strip() or None

    return Settings(
        environment=get("ENVIRONMENT") or "local",
        secret_id=get("SENTRY_CLIENT_SECRET_ARN"),
        local_secret=get("SENTRY_CLIENT_SECRET"),
        topic_arn=get("ALERT_TOPIC_ARN"),
        max_hook_age_seconds=_non_negative_int("MAX_HOOK_AGE_SECONDS", get("MAX_HOOK_AGE_SECONDS")),
    )


def _non_negative_int(name: str, value: str | None) -> int:
    if value is None:
        return DEFAULT_MAX_HOOK_AGE_SECONDS
    try:
        number = int(value)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number of seconds") from None
    if number < 0:
        raise SettingsError(f"{name} must not be negative")
    return number


@functools.cache
def load_settings() -> Settings:
    """Settings of this process (cached; tests call `load_settings.cache_clear()` after monkeypatching)."""
    return settings_from_env(os.environ)


def load_client_secret(settings: Settings) -> str:
    if settings.secret_id:
        from aws_lambda_powertools.utilities.parameters import get_secret  # noqa: PLC0415 - imports boto3

        return client_secret_from_text(get_secret(settings.secret_id, max_age=SECRET_MAX_AGE_SECONDS))
    if settings.local_secret:
        return settings.local_secret
    raise SettingsError("no Sentry client secret: set SENTRY_CLIENT_SECRET_ARN (or SENTRY_CLIENT_SECRET locally)")


def client_secret_from_text(text: str) -> str:
    """The secret string, or {"client_secret": "..."} (the shape a JSON secret template gives)."""
    value = text.strip()
    if value.startswith("{"):
        try:
            parsed = json.loads(value)
        except ValueError:
            raise SettingsError("the Sentry client secret is not valid JSON") from None
        value = parsed.get("client_secret", "") if isinstance(parsed, dict) else ""
        value = value.strip() if isinstance(value, str) else ""
    if not value:
        raise SettingsError("the Sentry client secret is empty: fill it in Secrets Manager (see the README)")
    return value
