"""The one rule for configured URLs: credentials are refused, and never shown."""

from __future__ import annotations

import pytest

from lambdas.shared.urls import has_credentials, without_credentials


@pytest.mark.parametrize(
    "url",
    [
        "https://user:pass@host",
        "https://user@host/health",
        "http://:secret@127.0.0.1:8080",
        "https://@host",
        "HTTPS://u:p@Host:443/x?y=1",
        "https://a@b@host/",
        "//user:pass@host/path",
        " https://user:pass@host ",
    ],
)
def test_userinfo_in_the_authority_is_credentials(url: str) -> None:
    assert has_credentials(url)
    shown = without_credentials(url)
    assert "@" not in shown.split("/")[2]
    assert "pass" not in shown
    assert "user" not in shown


@pytest.mark.parametrize(
    "url",
    [
        "https://host",
        "https://host/path@with-at",
        "https://host/?q=a@b",
        "https://host/#frag@x",
        "http://127.0.0.1:8080/health",
        "/health",
    ],
)
def test_an_at_sign_outside_the_authority_is_not_credentials(url: str) -> None:
    assert not has_credentials(url)
    assert without_credentials(url) == url
