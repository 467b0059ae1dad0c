"""The Slack app manifest in the repository, and `make slack-manifest` filling in the deployed stack's URL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from botocore.stub import Stubber

from tools.slack_manifest import MANIFEST, PLACEHOLDER, interactivity_url, main, manifest_for

URL = "https://abcdefghijklmnop.lambda-url.ap-northeast-1.on.aws/"


def test_the_manifest_has_the_scopes_interactivity_and_one_placeholder() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    assert manifest["oauth_config"]["scopes"]["bot"] == ["chat:write", "files:write"]
    assert manifest["settings"]["interactivity"] == {"is_enabled": True, "request_url": PLACEHOLDER}
    assert len(manifest["display_information"]["name"]) <= 35  # Slack's limit for an app name
    assert manifest["features"]["bot_user"]["always_online"] is True


def test_the_url_from_the_stack_output_goes_into_the_request_url(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # moto's CloudFormation cannot create this stack (decisions.md): botocore's Stubber answers describe-stacks
    client = boto3.client("cloudformation", region_name="ap-northeast-1")
    outputs = [{"OutputKey": "SlackInteractivityUrl", "OutputValue": URL}, {"OutputKey": "Other", "OutputValue": "x"}]
    stack = {"StackName": "peoplebooster-staging-monitoring", "CreationTime": "2026-12-01T00:00:00Z",
             "StackStatus": "UPDATE_COMPLETE", "Outputs": outputs}  # fmt: skip
    with Stubber(client) as stub:
        stub.add_response("describe_stacks", {"Stacks": [stack]}, {"StackName": "peoplebooster-staging-monitoring"})
        assert interactivity_url("staging", cloudformation=client) == URL
    text = manifest_for(URL, MANIFEST.read_text(encoding="utf-8"))
    assert yaml.safe_load(text)["settings"]["interactivity"]["request_url"] == URL
    assert "# chat.postMessage and chat.update" in text  # the comments stay
    assert main(["--env", "staging", "--url", URL, "--out", str(tmp_path / "app.yaml")]) == 0
    assert yaml.safe_load((tmp_path / "app.yaml").read_text())["settings"]["interactivity"]["request_url"] == URL


@pytest.mark.parametrize("url", ["http://abc.lambda-url.on.aws/", "https://user:pw@abc.on.aws/", "not a url"])
def test_a_url_that_is_not_https_or_carries_credentials_is_refused(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--env", "staging", "--url", url]) == 1
    assert capsys.readouterr().err.startswith("slack-manifest: the interactivity URL must be an https URL")


def test_a_stack_without_the_output_says_deploy_first(capsys: pytest.CaptureFixture[str], monkeypatch: Any) -> None:
    client = boto3.client("cloudformation", region_name="ap-northeast-1")
    stack = {"StackName": "s", "CreationTime": "2026-12-01T00:00:00Z", "StackStatus": "UPDATE_COMPLETE"}
    with Stubber(client) as stub:
        stub.add_response("describe_stacks", {"Stacks": [stack]})
        monkeypatch.setattr(boto3, "client", lambda *a, **k: client)
        assert main(["--env", "staging"]) == 1
    assert capsys.readouterr().err == (
        "slack-manifest: stack peoplebooster-staging-monitoring has no output SlackInteractivityUrl:"
        " deploy the current stack first (make deploy)\n"
    )
