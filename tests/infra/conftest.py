"""Synthesize each environment once per test session (jsii start-up is the slow part), and staging once more with
probe regions (`probed`: the home stack and one probe stack per Region, from one app)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from aws_cdk.assertions import Template

from infra.app_builder import build_app
from infra.config import CONFIG_DIR, ENVIRONMENTS, EnvironmentConfig
from infra.probe_stack import ProbeStack
from infra.stack import MonitoringStack

# The example: two probe Regions besides staging's home Region (ap-northeast-1).
PROBE_REGIONS = ("us-west-2", "eu-west-1")


@dataclass(frozen=True)
class SynthesizedTemplate:
    config: EnvironmentConfig
    template: Template
    template_path: Path

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


@dataclass(frozen=True)
class Synthesized(SynthesizedTemplate):
    stack: MonitoringStack


@dataclass(frozen=True)
class ProbeSynthesized(SynthesizedTemplate):
    stack: ProbeStack


@dataclass(frozen=True)
class Probed:
    """One app with probe regions: the home stack, and each probe stack by Region."""

    home: Synthesized
    probes: dict[str, ProbeSynthesized]

    @property
    def templates(self) -> list[SynthesizedTemplate]:
        return [self.home, *self.probes.values()]


def _template(path: str) -> Template:
    return Template.from_json(json.loads(Path(path).read_text()))


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
            template=_template(artifact.template_full_path),
            template_path=Path(artifact.template_full_path),
            stack=stack,
        )
    return results


def probed_config_dir(directory: Path, regions: tuple[str, ...] = PROBE_REGIONS) -> Path:
    """A config directory whose staging.yaml is the committed one with `synthetics.probe_regions: regions`."""
    raw = yaml.safe_load((CONFIG_DIR / "staging.yaml").read_text(encoding="utf-8"))
    raw.setdefault("synthetics", {})["probe_regions"] = list(regions)
    (directory / "staging.yaml").write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return directory


@pytest.fixture(scope="session")
def probed(tmp_path_factory: pytest.TempPathFactory) -> Probed:
    config_dir = probed_config_dir(tmp_path_factory.mktemp("config-probed"))
    outdir = tmp_path_factory.mktemp("cdk-probed")
    app = build_app("staging", outdir=str(outdir), bundle_assets=False, config_dir=config_dir)
    assembly = app.synth()  # cdk-nag runs on every stack of the app: a finding in any raises here
    paths = {artifact.stack_name: artifact.template_full_path for artifact in assembly.stacks}
    (home,) = [child for child in app.node.children if isinstance(child, MonitoringStack)]
    probes = [child for child in app.node.children if isinstance(child, ProbeStack)]
    return Probed(
        home=Synthesized(
            config=home.config,
            template=_template(paths[home.stack_name]),
            template_path=Path(paths[home.stack_name]),
            stack=home,
        ),
        probes={
            probe.probe_region: ProbeSynthesized(
                config=probe.config,
                template=_template(paths[probe.stack_name]),
                template_path=Path(paths[probe.stack_name]),
                stack=probe,
            )
            for probe in probes
        },
    )


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
