"""The metadata lines of an alarm description: the First step line (issue 13) within CloudWatch's 1024."""

from __future__ import annotations

import pytest

from lambdas.shared.alarm_metadata import (
    MAX_DESCRIPTION_LENGTH,
    Category,
    Severity,
    format_alarm_description,
    parse_alarm_metadata,
)

RUNBOOK = "https://github.com/org/repo/blob/main/docs/operations/runbooks/ecs-cpu-high.md"


def describe(summary: str, first_step: str | None) -> str:
    return format_alarm_description(
        summary, severity=Severity.WARNING, category=Category.PERFORMANCE, runbook_url=RUNBOOK, first_step=first_step
    )


def test_the_first_step_is_written_and_read_back() -> None:
    text = describe("ECS CPU above 80%.", "Dashboard `x-service`, row ECS: one service or both?")
    assert text.endswith("\nFirst step: Dashboard `x-service`, row ECS: one service or both?")
    metadata = parse_alarm_metadata(text)
    assert metadata.first_step == "Dashboard `x-service`, row ECS: one service or both?"
    assert (metadata.severity, metadata.runbook_url, metadata.summary) == ("warning", RUNBOOK, "ECS CPU above 80%.")


def test_a_first_step_of_several_lines_becomes_one() -> None:
    text = describe("s", "Check the\n   dashboard\tfirst.")
    assert parse_alarm_metadata(text).first_step == "Check the dashboard first."


def test_a_long_first_step_gives_way_so_the_description_fits_cloudwatch() -> None:
    # Given a first step far longer than what is left of CloudWatch's 1024 characters
    text = describe("A summary.", "step " * 400)
    # Then the description is exactly at the limit, the step cut with an ellipsis, the other lines whole
    assert len(text) == MAX_DESCRIPTION_LENGTH
    metadata = parse_alarm_metadata(text)
    assert metadata.first_step is not None
    assert metadata.first_step.endswith("…")
    assert metadata.runbook_url == RUNBOOK


def test_without_room_for_a_useful_step_there_is_none() -> None:
    summary = "x" * (MAX_DESCRIPTION_LENGTH - 140)  # about 30 characters left after the other lines
    assert parse_alarm_metadata(describe(summary, "do this first, which is a long sentence")).first_step is None


def test_a_summary_too_long_by_itself_is_still_refused() -> None:
    with pytest.raises(ValueError, match="CloudWatch allows 1024"):
        describe("x" * MAX_DESCRIPTION_LENGTH, None)
