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
    MAX_BODY_AGE_SECONDS        the alert router's digest memory (its idempotency TTL, IDEMPOTENCY_TTL_SECONDS;
                                default 86400): a body whose signed time is older than this less 5 minutes is
                                refused, so no replay outlives the router's memory of it (webhook.py). 0 turns the
                                check off. The construct sets it from router.idempotency_ttl_hours.
    POWERTOOLS_METRICS_NAMESPACE  EMF namespace (default PeopleBooster/SentryIntake)

The client secret is never logged, never in an exception message, never in env vars of the deployed function:
it travels as a `Secret`, whose repr and str are a marker, so a log line, an f-string, a traceback or Sentry's
frame variables cannot show it.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass

from lambdas.shared.secret import Secret, SecretFormatError, secret_value

SECRET_MAX_AGE_SECONDS = 300  # a rotated client secret is picked up within 5 minutes
DEFAULT_MAX_HOOK_AGE_SECONDS = 300
DEFAULT_MAX_BODY_AGE_SECONDS = 86_400  # the router's default idempotency TTL


class SettingsError(Exception):
    """A setting is missing or invalid; the message names the variable, never a secret value."""


@dataclass(frozen=True)
class Settings:
    environment: str = "local"
    secret_id: str | None = None
    local_secret: Secret | None = None
    topic_arn: str | None = None
    max_hook_age_seconds: int = DEFAULT_MAX_HOOK_AGE_SECONDS
    max_body_age_seconds: int = DEFAULT_MAX_BODY_AGE_SECONDS


def settings_from_env(environ: Mapping[str, str]) -> Settings:
    def get(name: str) -> str | None:
        return environ.get(name, "").strip() or None

    local_secret = get("SENTRY_CLIENT_SECRET")
    max_body_age = _non_negative_int("MAX_BODY_AGE_SECONDS", get("MAX_BODY_AGE_SECONDS"), DEFAULT_MAX_BODY_AGE_SECONDS)
    if 0 < max_body_age < MIN_BODY_AGE_SECONDS:
        raise SettingsError(f"MAX_BODY_AGE_SECONDS must be 0 (off) or at least {MIN_BODY_AGE_SECONDS}")
    return Settings(
        environment=get("ENVIRONMENT") or "local",
        secret_id=get("SENTRY_CLIENT_SECRET_ARN"),
        local_secret=Secret(local_secret) if local_secret else None,
        topic_arn=get("ALERT_TOPIC_ARN"),
        max_hook_age_seconds=_non_negative_int(
            "MAX_HOOK_AGE_SECONDS", get("MAX_HOOK_AGE_SECONDS"), DEFAULT_MAX_HOOK_AGE_SECONDS
        ),
        max_body_age_seconds=max_body_age,
    )


MIN_BODY_AGE_SECONDS = 3600  # the router's shortest idempotency TTL (router.idempotency_ttl_hours >= 1)


def _non_negative_int(name: str, value: str | None, default: int) -> int:
    if value is None:
        return default
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


def load_client_secret(settings: Settings) -> Secret:
    if settings.secret_id:
        from aws_lambda_powertools.utilities.parameters import get_secret  # noqa: PLC0415 - imports boto3

        return client_secret_from_text(Secret(get_secret(settings.secret_id, max_age=SECRET_MAX_AGE_SECONDS)))
    if settings.local_secret:
        return settings.local_secret
    raise SettingsError("no Sentry client secret: set SENTRY_CLIENT_SECRET_ARN (or SENTRY_CLIENT_SECRET locally)")


def client_secret_from_text(text: Secret) -> Secret:
    """The secret string, or {"client_secret": "..."} (the shape a JSON secret template gives)."""
    try:
        return secret_value(text, field="client_secret", what="the Sentry client secret")
    except SecretFormatError as error:
        raise SettingsError(str(error)) from None
