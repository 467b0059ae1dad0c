"""A secret value that never shows itself, and the one reading rule of the functions' single-value secrets.

Both Function URL endpoints (the Sentry intake, the Slack interactivity endpoint) verify an HMAC with a
secret read from Secrets Manager. The value travels as a `Secret`, whose repr and str are a marker, so a log
line, an f-string, a traceback or Sentry's frame variables cannot show it.
"""

from __future__ import annotations

import json


class SecretFormatError(ValueError):
    """The secret's text is unusable; the message names the secret, never its value."""


class Secret:
    """A secret string that never shows itself: `reveal()` is the only way to the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('[redacted]')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def secret_value(text: Secret, *, field: str, what: str) -> Secret:
    """The secret string, or `{"<field>": "..."}` (the shape a JSON secret template gives), stripped.

    SecretFormatError names `what` ("the Sentry client secret"); no plain local holds the value when it is
    raised, so a traceback's frame variables cannot show it.
    """
    if text.reveal().strip().startswith("{"):
        try:
            parsed = json.loads(text.reveal())
        except ValueError:
            raise SecretFormatError(f"{what} is not valid JSON") from None
        found = parsed.get(field) if isinstance(parsed, dict) else None
        del parsed  # may hold other secret fields
        text = Secret(found if isinstance(found, str) else "")
    if not text.reveal().strip():
        raise SecretFormatError(f"{what} is empty: fill it in Secrets Manager (see the README)")
    return Secret(text.reveal().strip())
