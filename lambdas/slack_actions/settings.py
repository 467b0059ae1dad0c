"""The interactivity endpoint's settings, from the environment (set by its CDK construct; all optional locally).

Environment variables:
    ENVIRONMENT                   environment name ("local")
    SLACK_SIGNING_SECRET_ARN      Secrets Manager secret (ARN or name) holding the Slack app's signing secret
                                  (the plain string, or JSON {"signing_secret": "..."})
    SLACK_SIGNING_SECRET          local only, when no secret ARN is set: the signing secret itself (tests, the
                                  demo; tools/slack_interactions.py documents the test secret)
    ROUTER_FUNCTION_NAME          the alert router (name or ARN), invoked asynchronously with each click;
                                  unset (local): the router handler runs in-process
    POWERTOOLS_METRICS_NAMESPACE  EMF namespace (default PeopleBooster/SlackActions)

The signing secret is never logged, never in an exception message, never in env vars of the deployed function:
it travels as a `Secret` (lambdas/shared/secret.py).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass

from lambdas.shared.secret import Secret, SecretFormatError, secret_value

SECRET_MAX_AGE_SECONDS = 300  # a rotated signing secret is picked up within 5 minutes


class SettingsError(Exception):
    """A setting is missing or invalid; the message names the variable, never a secret value."""


@dataclass(frozen=True)
class Settings:
    environment: str = "local"
    secret_id: str | None = None
    local_secret: Secret | None = None
    router_function: str | None = None


def settings_from_env(environ: Mapping[str, str]) -> Settings:
    def get(name: str) -> str | None:
        return environ.get(name, "").strip() or None

    local_secret = get("SLACK_SIGNING_SECRET")
    return Settings(
        environment=get("ENVIRONMENT") or "local",
        secret_id=get("SLACK_SIGNING_SECRET_ARN"),
        local_secret=Secret(local_secret) if local_secret else None,
        router_function=get("ROUTER_FUNCTION_NAME"),
    )


@functools.cache
def load_settings() -> Settings:
    """Settings of this process (cached; tests call `load_settings.cache_clear()` after monkeypatching)."""
    return settings_from_env(os.environ)


def load_signing_secret(settings: Settings) -> Secret:
    if settings.secret_id:
        from aws_lambda_powertools.utilities.parameters import get_secret  # noqa: PLC0415 - imports boto3

        text = Secret(get_secret(settings.secret_id, max_age=SECRET_MAX_AGE_SECONDS))
        try:
            return secret_value(text, field="signing_secret", what="the Slack signing secret")
        except SecretFormatError as error:
            raise SettingsError(str(error)) from None
    if settings.local_secret:
        return settings.local_secret
    raise SettingsError("no Slack signing secret: set SLACK_SIGNING_SECRET_ARN (or SLACK_SIGNING_SECRET locally)")
