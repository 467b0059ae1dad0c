"""The intake's settings never show the client secret: not in repr/str, logs, exceptions or Sentry events."""

from __future__ import annotations

import dataclasses
import io
import json
import logging

import pytest
from aws_lambda_powertools import Logger

from lambdas.sentry_intake.settings import (
    SettingsError,
    client_secret_from_text,
    load_client_secret,
    settings_from_env,
)
from tests.unit.shared.test_observability import captured_by_sentry, sentry_inbox  # noqa: F401 - the fixture

SECRET = "s3cr3t-client-value-0123456789"


def test_repr_str_and_formatting_never_show_the_secret() -> None:
    # Given settings read from a local environment holding the client secret
    settings = settings_from_env({"SENTRY_CLIENT_SECRET": SECRET, "ENVIRONMENT": "staging"})
    # Then no way of printing them shows it, though the secret is still there for the HMAC
    shown = [repr(settings), str(settings), f"{settings}", f"{settings!r}", str(dataclasses.asdict(settings))]
    shown.append(json.dumps(dataclasses.asdict(settings), default=str))
    for text in shown:
        assert SECRET not in text
        assert "[redacted]" in text
    assert load_client_secret(settings).reveal() == SECRET


def test_a_log_line_with_the_settings_does_not_show_the_secret() -> None:
    stream = io.StringIO()
    logger = Logger(service="sentry-intake-test", logger_handler=logging.StreamHandler(stream))
    settings = settings_from_env({"SENTRY_CLIENT_SECRET": SECRET})
    logger.info("settings", extra={"settings": settings, "secret": load_client_secret(settings)})
    assert "settings" in stream.getvalue()
    assert SECRET not in stream.getvalue()


@pytest.mark.parametrize("text", [f'{{"client_secret": "{SECRET}"', f'{{"other": "{SECRET}"}}'])
def test_errors_about_a_broken_secret_do_not_show_it(text: str) -> None:
    from lambdas.shared.secret import Secret

    with pytest.raises(SettingsError) as raised:
        client_secret_from_text(Secret(text))
    assert SECRET not in str(raised.value)
    assert SECRET not in repr(raised.value)


def test_sentry_events_from_the_intake_do_not_carry_the_secret(
    sentry_inbox: tuple[str, list[bytes]],  # noqa: F811 - the fixture imported above
) -> None:
    dsn, received = sentry_inbox
    settings = settings_from_env({"SENTRY_CLIENT_SECRET": SECRET})
    secret = load_client_secret(settings)

    def publish_failed(settings: object = settings, secret: object = secret) -> None:
        raise RuntimeError("publishing to the alert topic failed")

    # Given Sentry on (it sends every frame's local variables with an exception); When an exception is raised
    # where the settings and the loaded secret are locals
    payload = captured_by_sentry(dsn, received, "sentry-intake", publish_failed)
    # Then Sentry got the event, with the frames' variables, but not the secret
    assert "publishing to the alert topic failed" in payload
    assert "[redacted]" in payload
    assert SECRET not in payload
