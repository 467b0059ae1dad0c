"""Every alarm carries its runbook's first step (issue 13), taken from the runbook at synthesis."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.runbooks import COMMANDS_IN_RUNBOOK, RUNBOOK_DIR, RunbookError, first_step, runbook_names
from lambdas.shared.alarm_metadata import MAX_DESCRIPTION_LENGTH, parse_alarm_metadata
from tests.infra.conftest import Synthesized

RUNBOOKS = sorted(path.stem for path in RUNBOOK_DIR.glob("*.md") if path.stem != "README")
NAMES = runbook_names(prefix="pb-production", environment="production", health_base_url="https://api.example.com/")


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_every_alarm_shows_its_runbooks_first_step(synthesized: dict[str, Synthesized], environment: str) -> None:
    synth = synthesized[environment]
    for name, alarm in synth.alarms_by_name().items():
        description = alarm["AlarmDescription"]
        metadata = parse_alarm_metadata(description)
        assert len(description) <= MAX_DESCRIPTION_LENGTH, name
        assert metadata.runbook_url is not None, name
        runbook = metadata.runbook_url.rsplit("/", 1)[-1].removesuffix(".md")
        # The step is the runbook's own, with this environment's names filled in
        names = runbook_names(
            prefix=synth.config.prefix, environment=environment, health_base_url=str(synth.config.health_base_url)
        )
        assert metadata.first_step == first_step(runbook, names), name
        assert "$PREFIX" not in metadata.first_step, name
        assert "<prefix>" not in metadata.first_step, name


@pytest.mark.parametrize("runbook", RUNBOOKS)
def test_every_runbook_has_a_first_step_a_person_can_act_on(runbook: str) -> None:
    step = first_step(runbook, NAMES)
    assert 20 <= len(step) <= 300, step
    for markdown in ("](", "**"):  # links and bold are made plain
        assert markdown not in step
    for variable in ("$PREFIX", "<prefix>", "$HEALTH_BASE_URL"):  # filled in
        assert variable not in step


def test_the_first_step_is_the_first_item_with_names_filled_in() -> None:
    step = first_step("synthetic-readiness-failing", NAMES)
    assert step.startswith('`curl -sS -m 5 "https://api.example.com/health/ready"`')
    assert first_step("ecs-cpu-high", NAMES).startswith("Dashboard `pb-production-service`, row ECS (Fargate)")


def test_an_item_that_introduces_commands_points_to_the_runbook() -> None:
    assert first_step("router-dead-letter-queue", NAMES).endswith(":" + COMMANDS_IN_RUNBOOK)


def test_a_runbook_without_its_steps_fails_synthesis(tmp_path: Path) -> None:
    (tmp_path / "empty.md").write_text("# Empty\n\n## Meaning\n\nNothing.\n", encoding="utf-8")
    with pytest.raises(RunbookError, match="no '## Investigate' section"):
        first_step("empty", NAMES, tmp_path)
    with pytest.raises(RunbookError, match="not found"):
        first_step("missing", NAMES, tmp_path)
