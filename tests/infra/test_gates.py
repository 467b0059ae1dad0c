"""The security and lint gates: cdk-nag on every synth, cfn-lint on every template."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from aws_cdk import App, Stack, Validations
from aws_cdk import aws_sns as sns
from cdk_nag import AwsSolutionsChecks

from tests.infra.conftest import Probed, Synthesized


def test_cdk_nag_reports_no_findings(synthesized: dict[str, Synthesized]) -> None:
    # Given both environments synthesized with the AwsSolutions pack registered (the fixture would
    # have raised on a finding); the validation report then lists no violation
    for synth in synthesized.values():
        report = json.loads((synth.template_path.parent / "validation-report.json").read_text())
        violations = [v for plugin in report["pluginReports"] for v in plugin.get("violations", [])]
        assert violations == [], synth.config.environment


def test_cdk_nag_is_really_on_it_fails_an_insecure_topic(tmp_path: Path) -> None:
    # Given an app with the same gate and a topic with neither KMS nor an SSL-only policy
    app = App(outdir=str(tmp_path))
    stack = Stack(app, "Insecure")
    sns.Topic(stack, "Plain")
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    # When it is synthesized, then cdk-nag stops it and names the rule
    with pytest.raises(Exception, match="ValidationFailed"):
        app.synth()
    report = (tmp_path / "validation-report.json").read_text()
    assert "AwsSolutions-SNS3" in report


def test_cfn_lint_passes_on_every_template(synthesized: dict[str, Synthesized], probed: Probed) -> None:
    # Both environments, and every stack of an app with probe regions (the home stack and each probe stack)
    paths = [str(synth.template_path) for synth in (*synthesized.values(), *probed.templates)]
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run(
        [str(cfn_lint), "--non-zero-exit-code", "error", "--", *paths],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
