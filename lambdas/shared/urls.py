"""One rule for URLs that come from configuration: no credentials in them, and never shown with any.

A URL such as `https://user:password@host` would be copied wherever the URL goes: the template (Lambda
environment, alarm descriptions), Slack messages and logs. Config (infra/config.py) and the synthetic
monitor's settings refuse it with the same words; secrets belong in Secrets Manager.
"""

from __future__ import annotations

import re

CREDENTIALS_REFUSED = (
    "must not contain credentials (user:password@); the URL is copied into the template, Slack messages and"
    " logs: keep secrets in Secrets Manager"
)
# scheme://userinfo@ : everything between "//" and the last "@" before the path.
_USERINFO = re.compile(r"^(?P<head>[A-Za-z][A-Za-z0-9+.-]*:)?//[^/?#]*@")


def has_credentials(url: str) -> bool:
    """Whether the URL's authority carries userinfo (`user@`, `user:password@`, even an empty `@`)."""
    return _USERINFO.match(url.strip()) is not None


def without_credentials(url: str) -> str:
    """The URL with any userinfo removed, for messages and logs."""
    return _USERINFO.sub(lambda match: f"{match.group('head') or ''}//", url.strip(), count=1)
