"""Lambda packaging without Docker: what goes into the asset, and what the runtime already provides."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra import packaging
from infra.app_builder import build_app
from infra.packaging import (
    LAMBDA_ARCHITECTURE,
    LAMBDA_RUNTIME,
    PROVIDED_BY_PLATFORM,
    remove_provided_packages,
    runtime_requirements,
)
from tests.infra.conftest import Synthesized


def test_runtime_requirements_are_pinned_and_leave_out_what_lambda_provides(tmp_path: Path) -> None:
    # Given a requirements file with comments, extras and a package the runtime provides
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(
        "# comment\naws-lambda-powertools[tracer]==3.37.0\nboto3==1.44.5  # runtime\n\nsentry-sdk==2.75.0\n"
    )
    # Then only the bundled ones remain, as written
    assert runtime_requirements(requirements) == ["aws-lambda-powertools[tracer]==3.37.0", "sentry-sdk==2.75.0"]


def test_the_projects_requirements_are_all_pinned() -> None:
    for line in runtime_requirements():
        assert "==" in line, line


def test_packages_pulled_in_as_dependencies_but_provided_by_lambda_are_removed(tmp_path: Path) -> None:
    # Given a --target folder where a dependency (aws-xray-sdk) pulled in botocore and jmespath
    for folder in ("botocore", "botocore-1.44.8.dist-info", "jmespath", "jmespath-1.1.0.dist-info", "bin",
                   "sentry_sdk", "sentry_sdk-2.75.0.dist-info"):  # fmt: skip
        (tmp_path / folder).mkdir()
    # When the bundler cleans it
    remove_provided_packages(tmp_path)
    # Then only what the runtime lacks is left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sentry_sdk", "sentry_sdk-2.75.0.dist-info"]
    assert "botocore" in PROVIDED_BY_PLATFORM


def test_functions_run_on_arm64_python_3_14() -> None:
    assert LAMBDA_RUNTIME.name == "python3.14"
    assert LAMBDA_ARCHITECTURE.name == "arm64"


def test_synthesis_with_bundling_builds_the_asset_through_the_local_bundler(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given bundling switched on (as `cdk synth` does) and no pip step (tests have no network)
    monkeypatch.setattr(packaging, "runtime_requirements", lambda: [])
    # When the staging app is synthesized, CDK calls LocalPipBundling through jsii
    assembly = build_app("staging", outdir=str(tmp_path), bundle_assets=True).synth()
    # Then one asset serves every function, with the lambdas package at its root (handler paths as in pytest)
    assets = [path for path in tmp_path.iterdir() if path.name.startswith("asset.") and path.is_dir()]
    assert len(assets) == 1
    assert (assets[0] / "lambdas" / "alert_router" / "handler.py").is_file()
    assert not list(assets[0].rglob("__pycache__"))
    assert assembly.stacks[0].stack_name == "peoplebooster-staging-monitoring"


def test_every_function_reports_the_code_release_to_sentry(staging: Synthesized) -> None:
    # Given the functions of the stack
    functions = staging.resources("AWS::Lambda::Function").values()
    releases = {function["Properties"]["Environment"]["Variables"]["SENTRY_RELEASE"] for function in functions}
    # Then they all carry the same release, derived from the code (a change of code is a new release)
    assert releases == {f"peoplebooster-monitoring@{packaging.source_hash()[:12]}"}
