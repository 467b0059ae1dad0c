"""Synthesize each environment once per test session (jsii start-up is the slow part)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from aws_cdk.assertions import Template

from infra.app_builder import build_app
from infra.config import ENVIRONMENTS, EnvironmentConfig
from infra.stack import MonitoringStack


@dataclass(frozen=True)
class Synthesized:
    config: EnvironmentConfig
    template: Template
    template_path: Path
    stack: MonitoringStack

    @property
    def raw(self) -> dict[str, Any]:
        return dict(self.template.to_json())

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {
            logical_id: resource
            for logical_id, resource in self.raw["Resources"].items()
            if resource["Type"] == resource_type
        }

    def topic_ref(self, suffix: str = "alerts") -> dict[str, str]:
        """`{"Ref": <logical id>}` of the topic named `<prefix>-<suffix>`, as alarm actions cite it."""
        (topic_id,) = [
            logical_id
            for logical_id, topic in self.resources("AWS::SNS::Topic").items()
            if topic["Properties"]["TopicName"] == f"{self.config.prefix}-{suffix}"
        ]
        return {"Ref": topic_id}

    def alarms_by_name(self) -> dict[str, dict[str, Any]]:
        return {
            alarm["Properties"]["AlarmName"]: alarm["Properties"]
            for alarm in self.resources("AWS::CloudWatch::Alarm").values()
        }


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Synthesized]:
    results = {}
    for environment in ENVIRONMENTS:
        outdir = tmp_path_factory.mktemp(f"cdk-{environment}")
        app = build_app(environment, outdir=str(outdir), bundle_assets=False)
        assembly = app.synth()  # runs cdk-nag: a finding raises here
        (stack,) = [child for child in app.node.children if isinstance(child, MonitoringStack)]
        (artifact,) = assembly.stacks
        results[environment] = Synthesized(
            config=stack.config,
            template=Template.from_json(json.loads(Path(artifact.template_full_path).read_text())),
            template_path=Path(artifact.template_full_path),
            stack=stack,
        )
    return results


@pytest.fixture(scope="session")
def staging(synthesized: dict[str, Synthesized]) -> Synthesized:
    return synthesized["staging"]


@pytest.fixture(scope="session")
def production(synthesized: dict[str, Synthesized]) -> Synthesized:
    return synthesized["production"]


def resolve_join(value: Any) -> str:
    """Flatten a Fn::Join of strings and tokens into one string, tokens shown as <token>."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(resolve_join(part) for part in parts)
    if isinstance(value, dict) and "Ref" in value:
        return f"<{value['Ref']}>"
    return "<token>"
