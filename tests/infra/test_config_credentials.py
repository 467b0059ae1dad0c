"""Config refuses every URL that carries credentials, with one line that names the file and the field.

A URL such as https://user:pass@host would be copied into the template (the monitor's environment and the
alarm descriptions), Slack messages and logs; the refusal itself must not echo it either.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.config import ConfigError, load_config
from tests.infra.test_config import _write_variant

PASSWORD = "hunter2-s3cret"
CHECK = {"name": "live", "url": "/health/live", "conditions": [{"status": 200}]}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"health_base_url": f"https://monitor:{PASSWORD}@staging-api.example.com"}, "health_base_url"),
        ({"health_base_url": f"https://{PASSWORD}@staging-api.example.com"}, "health_base_url"),
        ({"runbook_base_url": f"https://bot:{PASSWORD}@github.example.com/docs"}, "runbook_base_url"),
        (
            {"synthetics.checks": [{**CHECK, "url": f"https://u:{PASSWORD}@other.example.com/ping"}]},
            "synthetics.checks",
        ),
    ],
)
def test_a_url_with_credentials_stops_synthesis_with_one_line(
    tmp_path: Path, change: dict[str, object], field: str
) -> None:
    # Given a staging config whose URL carries user:password@
    config_dir = _write_variant(tmp_path, change)
    # When it is loaded
    with pytest.raises(ConfigError) as raised:
        load_config("staging", config_dir)
    # Then one line names the file and the field, says why, and does not repeat the secret
    message = str(raised.value)
    assert message.startswith(f"{config_dir / 'staging.yaml'}: {field}: ")
    assert "must not contain credentials (user:password@)" in message
    assert "\n" not in message
    assert PASSWORD not in message


def test_the_brief_example_reads_as_written(tmp_path: Path) -> None:
    config_dir = _write_variant(tmp_path, {"health_base_url": "https://user:pass@host"})
    with pytest.raises(ConfigError) as raised:
        load_config("staging", config_dir)
    assert str(raised.value).startswith(
        f"{config_dir / 'staging.yaml'}: health_base_url: must not contain credentials (user:password@); "
    )


def test_the_sentry_dsn_keeps_its_public_key_userinfo(tmp_path: Path) -> None:
    # A DSN's "<key>@" is Sentry's public client key, not a credential: it stays accepted.
    dsn = "https://0123abcd@o1.ingest.sentry.io/42"
    assert load_config("staging", _write_variant(tmp_path, {"sentry.dsn": dsn})).sentry.dsn == dsn
