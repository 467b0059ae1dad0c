"""The configured region (and account) pin the stack: no `unknown-region`, no deploy to the CLI's default."""

from __future__ import annotations

import json
from pathlib import Path

from aws_cdk import Token

from tests.infra.conftest import Synthesized


def test_the_stack_environment_is_the_configured_region(synthesized: dict[str, Synthesized]) -> None:
    for synth in synthesized.values():
        # Given config with a region and no account
        assert synth.config.region == "ap-northeast-1"
        assert synth.config.account is None
        # Then the stack's region is that region, the account is left to the credentials
        assert synth.stack.region == "ap-northeast-1"
        assert Token.is_unresolved(synth.stack.account)
        # And the cloud assembly says so (what `cdk deploy` reads)
        manifest = json.loads((Path(synth.template_path).parent / "manifest.json").read_text())
        environments = {
            a["environment"] for a in manifest["artifacts"].values() if a["type"] == "aws:cloudformation:stack"
        }
        assert environments == {"aws://unknown-account/ap-northeast-1"}
