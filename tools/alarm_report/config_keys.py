"""Which config key drives which alarm property, derived by synthesis; and a suggested change as a YAML diff.

Derivation: synthesize the stack with the environment's config, then once more per tunable key with only
that key changed, and compare every alarm's Threshold, EvaluationPeriods, DatapointsToAlarm and Period.
A property that moved is driven by the key: `property = scale * value + offset` from the two points (the
constructs compute them linearly: rds_connections_percent gives max_connections * percent / 100).
No table to keep in step with the constructs, and an alarm no key moves is reported as such.

The change is shown as a unified diff of config/<env>.yaml; the changed text is validated by the real
config model before it is shown.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from infra.config import EnvironmentConfig, Thresholds
from tools.alarm_report.tuning import KeyEffect

# Every alarm-defining number of the config: all of thresholds.*, and the synthetic monitor's alarm keys.
TUNABLE_KEYS = (
    *(f"thresholds.{name}" for name in Thresholds.model_fields),
    "synthetics.alarm_datapoints",
    "synthetics.certificate_warning_days",
)
ALARM_PROPERTIES = ("Threshold", "EvaluationPeriods", "DatapointsToAlarm", "Period")
Template = Mapping[str, Any]


class ConfigChangeError(ValueError):
    """The suggested change cannot be written into the file automatically; the message says why."""


def synthesize(config: EnvironmentConfig) -> Template:
    """The stack's template for this config, without bundling the Lambda asset (about 0.5 s once warm)."""
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    from aws_cdk import App  # noqa: PLC0415 - starts jsii (seconds): only when suggestions are made

    from infra.stack import MonitoringStack  # noqa: PLC0415

    app = App(context={"aws:cdk:bundling-stacks": []})
    stack = MonitoringStack(app, config=config)
    template: Template = app.synth().get_stack_by_name(stack.stack_name).template
    return template


def alarm_properties(template: Template) -> dict[str, dict[str, float]]:
    found = {}
    for resource in template.get("Resources", {}).values():
        props = resource.get("Properties", {})
        if resource.get("Type") == "AWS::CloudWatch::Alarm" and isinstance(props.get("AlarmName"), str):
            found[props["AlarmName"]] = {p: float(props[p]) for p in ALARM_PROPERTIES if p in props}
    return found


def current_value(config: EnvironmentConfig, key: str) -> Any:
    section, name = key.split(".")
    return config.model_dump(mode="json")[section][name]


def with_value(config: EnvironmentConfig, key: str, value: float) -> EnvironmentConfig:
    """The config with one key changed, validated (ValidationError when the model refuses the value)."""
    section, name = key.split(".")
    data = config.model_dump(mode="json")
    data[section][name] = int(value) if isinstance(data[section][name], int) else value
    return EnvironmentConfig.model_validate(data)


def validator(config: EnvironmentConfig) -> Callable[[str, float], bool]:
    def valid(key: str, value: float) -> bool:
        try:
            with_value(config, key, value)
        except ValidationError:
            return False
        return True

    return valid


def derive_key_effects(
    config: EnvironmentConfig, *, synth: Callable[[EnvironmentConfig], Template] = synthesize
) -> dict[str, list[KeyEffect]]:
    """Alarm name -> the config keys that drive its properties (alarms no key drives are absent)."""
    base = alarm_properties(synth(config))
    effects: dict[str, list[KeyEffect]] = {}
    for key in TUNABLE_KEYS:
        value = current_value(config, key)
        if value is None:  # an unset override (thresholds.ecs_<service>_cpu_percent): the shared key drives it
            continue
        integer = isinstance(value, int)
        changed = _perturbed(config, key, value, integer)
        if changed is None:
            continue
        new_value, new_config = changed
        for name, props in alarm_properties(synth(new_config)).items():
            for prop, new in props.items():
                old = base.get(name, {}).get(prop)
                if old is not None and new != old:
                    scale = (new - old) / (new_value - value)
                    effects.setdefault(name, []).append(
                        KeyEffect(key, prop, scale, old - scale * value, float(value), integer)
                    )
    return effects


def _perturbed(
    config: EnvironmentConfig, key: str, value: float, integer: bool
) -> tuple[float, EnvironmentConfig] | None:
    for new in (value + 1, value - 1) if integer else (value * 0.5, value * 1.5):
        try:
            return new, with_value(config, key, new)
        except ValidationError:
            continue
    return None


def config_change(path: Path, key: str, value: float, *, shown_as: str) -> tuple[str, str]:
    """(the file's new text, its unified diff) setting `key` (section.name) to `value`, checked by the model."""
    text = path.read_text(encoding="utf-8")
    section, name = key.split(".")
    shown = f"{value:g}"
    changed = _set_key(text, section, name, shown)
    try:
        config = EnvironmentConfig.model_validate(yaml.safe_load(changed))
    except (ValidationError, yaml.YAMLError) as error:
        reason = " ".join(str(error).split())
        raise ConfigChangeError(f"{shown_as} with {key}: {shown} would not validate: {reason}") from None
    if float(current_value(config, key)) != float(value):
        raise ConfigChangeError(f"{shown_as}: could not place {key} automatically; set it by hand")
    lines = difflib.unified_diff(
        text.splitlines(keepends=True), changed.splitlines(keepends=True), f"a/{shown_as}", f"b/{shown_as}"
    )
    return changed, "".join(lines)


def _set_key(text: str, section: str, name: str, shown: str) -> str:
    lines = text.splitlines(keepends=True)
    header = next((i for i, line in enumerate(lines) if re.match(rf"^{section}:\s*(#.*)?$", line)), None)
    if header is None:
        if any(re.match(rf"^{section}:", line) for line in lines):
            raise ConfigChangeError(f"{section} is written inline; add {name}: {shown} by hand")
        ending = "" if not lines or lines[-1].endswith("\n") else "\n"
        return text + ending + f"{section}:\n  {name}: {shown}\n"
    end = header + 1
    while end < len(lines) and (lines[end].startswith((" ", "\t")) or not lines[end].strip()):
        end += 1
    first = next((re.match(r"^(\s+)\S", lines[i]) for i in range(header + 1, end) if lines[i].strip()), None)
    indent = first.group(1) if first else "  "
    for index in range(header + 1, end):
        # only the section's own keys (its first indentation), not a key of the same name deeper down
        found = re.match(rf"^{indent}{name}:\s*[^#\n]*?(\s*#.*)?$", lines[index].rstrip("\n"))
        if found:
            lines[index] = f"{indent}{name}: {shown}{found.group(1) or ''}\n"
            return "".join(lines)
    lines.insert(header + 1, f"{indent}{name}: {shown}\n")
    return "".join(lines)
