"""Print the Slack app manifest of an environment, with its interactivity Request URL from the deployed stack.

    make slack-manifest ENV=staging                  # reads the stack output SlackInteractivityUrl
    python -m tools.slack_manifest --env staging --url https://abc.lambda-url.ap-northeast-1.on.aws/ --out app.yaml

The manifest lives in docs/operations/slack-app-manifest.yaml (scopes chat:write and files:write, interactivity
on); its placeholder URL is replaced by the URL of the deployed interactivity endpoint, so the app created from
it posts clicks to the right environment. Paste the output into api.slack.com -> Your Apps -> Create New App ->
From a manifest (or the app's App Manifest page). Reading the output needs AWS credentials for ENV.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import yaml
from botocore.exceptions import BotoCoreError, ClientError

from infra.config import ENVIRONMENTS, ConfigError, load_config
from infra.constructs.slack_actions import URL_OUTPUT
from infra.stack import stack_name

MANIFEST = Path(__file__).resolve().parent.parent / "docs" / "operations" / "slack-app-manifest.yaml"
PLACEHOLDER = f"https://stack-output-{URL_OUTPUT}.invalid/"
SCOPES = ("chat:write", "files:write")


class ManifestError(Exception):
    """Something the operator must fix; the message is one line."""


def interactivity_url(environment: str, *, cloudformation: Any = None) -> str:
    """The stack output SlackInteractivityUrl of the deployed stack of `environment`."""
    config = load_config(environment)
    stack = stack_name(config)
    try:
        client = cloudformation or boto3.client("cloudformation", region_name=config.region)
        found = client.describe_stacks(StackName=stack)
    except (BotoCoreError, ClientError) as error:
        raise ManifestError(
            f"cannot read stack {stack} (AWS credentials for {environment}?): {' '.join(str(error).split())};"
            " or pass --url"
        ) from None
    outputs = {o["OutputKey"]: o["OutputValue"] for o in found["Stacks"][0].get("Outputs", [])}
    if URL_OUTPUT not in outputs:
        raise ManifestError(f"stack {stack} has no output {URL_OUTPUT}: deploy the current stack first (make deploy)")
    return str(outputs[URL_OUTPUT])


def manifest_for(url: str, template: str) -> str:
    """The manifest text with the Request URL filled in, checked: an https URL, interactivity on, our scopes."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname or parts.username or parts.password:
        raise ManifestError(f"the interactivity URL must be an https URL without credentials, not {url!r}")
    if template.count(PLACEHOLDER) != 1:
        raise ManifestError(f"{MANIFEST.name} must hold the placeholder {PLACEHOLDER} exactly once")
    text = template.replace(PLACEHOLDER, url)
    manifest = yaml.safe_load(text)
    interactivity = manifest["settings"]["interactivity"]
    if interactivity != {"is_enabled": True, "request_url": url}:
        raise ManifestError(f"{MANIFEST.name}: settings.interactivity must be on, with the request URL only")
    if tuple(manifest["oauth_config"]["scopes"]["bot"]) != SCOPES:
        raise ManifestError(f"{MANIFEST.name}: the bot scopes must be {', '.join(SCOPES)}")
    return text


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.slack_manifest", description=__doc__.splitlines()[0])
    parser.add_argument("--env", choices=ENVIRONMENTS, default="staging")
    parser.add_argument("--url", help=f"the interactivity URL (default: the stack output {URL_OUTPUT})")
    parser.add_argument("--out", type=Path, help="write the manifest here (default: print it)")
    args = parser.parse_args(argv)
    try:
        text = manifest_for(args.url or interactivity_url(args.env), MANIFEST.read_text(encoding="utf-8"))
    except (ManifestError, ConfigError) as error:
        print(f"slack-manifest: {error}", file=sys.stderr)
        return 1
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.write_text(text, encoding="utf-8")
        print(f"wrote {args.out}: paste it into the Slack app's App Manifest page", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
