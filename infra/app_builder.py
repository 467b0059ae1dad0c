"""Build the CDK app for one environment; shared by app.py, the tests and the demo."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks

from infra.config import CONFIG_DIR, load_config
from infra.probe_stack import ProbeStack
from infra.stack import MonitoringStack


def build_app(
    environment: str | None = None,
    *,
    outdir: str | None = None,
    bundle_assets: bool = True,
    extra_context: Mapping[str, Any] | None = None,
    config_dir: Path = CONFIG_DIR,
) -> App:
    """Validate config, compose the stack (and one probe stack per `synthetics.probe_regions`) and register cdk-nag
    on the app, so findings in any stack fail synthesis.

    `bundle_assets=False` skips pip-installing the Lambda asset: the template is the same, apart from the
    asset hash, which is what tests and the local demo need.
    """
    # cdk.json's feature flags apply to tests and the demo too, so every path synthesizes the same template.
    context: dict[str, Any] = {**_cdk_json_context(), **(extra_context or {})}
    context.pop("env", None)
    if not bundle_assets:
        context["aws:cdk:bundling-stacks"] = []
    app = App(outdir=outdir, context=context)
    env_name = environment or app.node.try_get_context("env") or "staging"
    config = load_config(str(env_name), config_dir)
    MonitoringStack(app, config=config)
    for region in config.synthetics.probe_regions:
        ProbeStack(app, config=config, region=region)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app


def _cdk_json_context() -> dict[str, Any]:
    cdk_json = Path(__file__).resolve().parent.parent / "cdk.json"
    context: dict[str, Any] = json.loads(cdk_json.read_text(encoding="utf-8")).get("context", {})
    return context
