"""The cold-start bench measures the function the template deploys, and says so when the peer is missing."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bench.cold_start_bench import PEER_FILE, _peer_source, _router_env


def test_the_router_runs_with_the_templates_environment_and_tracing_mode() -> None:
    # Given a function as synthesized: plain values, a reference to the secret, active tracing
    function = {
        "Environment": {"Variables": {"ENVIRONMENT": "staging", "SLACK_WEBHOOK_SECRET_ARN": {"Ref": "Secret"}}},
        "TracingConfig": {"Mode": "Active"},
        "MemorySize": 256,
    }
    # When the bench builds the child's environment
    env = _router_env(function, {"SLACK_WEBHOOK_SECRET_ARN": "arn:aws:secretsmanager:ap-northeast-1:1:secret:x"})
    # Then references become the loopback resources, and Lambda's own variables are there
    assert env["ENVIRONMENT"] == "staging"
    assert env["SLACK_WEBHOOK_SECRET_ARN"] == "arn:aws:secretsmanager:ap-northeast-1:1:secret:x"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["_X_AMZN_TRACE_ID"].startswith("Root=1-")
    assert env["AWS_XRAY_DAEMON_ADDRESS"].startswith("127.0.0.1:")


def test_a_reference_without_a_loopback_resource_stops_the_bench() -> None:
    # A new table in the template must not silently run the router against real AWS names
    function = {"Environment": {"Variables": {"NEW_TABLE_NAME": {"Ref": "NewTable"}}}}
    with pytest.raises(SystemExit, match="NEW_TABLE_NAME"):
        _router_env(function, {})


def test_the_peer_is_read_from_a_fetched_git_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given no copy of terraform-aws-notify-slack
    monkeypatch.setattr("bench.cold_start_bench.PEER_MIRRORS", (str(tmp_path / "absent"),))
    monkeypatch.delenv("NOTIFY_SLACK_REPO", raising=False)
    assert _peer_source() is None
    # When a bare git directory like the fetch tool's holds the file
    work = tmp_path / "work"
    (work / "functions").mkdir(parents=True)
    (work / PEER_FILE).write_text("def lambda_handler(event, context): ...\n")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@localhost"]
    subprocess.run([*git, "init", "-q", str(work)], check=True)
    subprocess.run([*git, "-C", str(work), "add", "."], check=True)
    subprocess.run([*git, "-C", str(work), "commit", "-q", "-m", "peer"], check=True)
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(tmp_path / "repo")], check=True)
    monkeypatch.setenv("NOTIFY_SLACK_REPO", str(tmp_path / "repo"))
    # Then the bench finds the handler's source
    assert _peer_source() == "def lambda_handler(event, context): ...\n"
