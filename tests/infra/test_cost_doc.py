"""docs/operations/cost.md prices the alarms the templates really have: counted from them, not by hand."""

from __future__ import annotations

import re
from pathlib import Path

from tests.infra.conftest import Synthesized

COST = Path(__file__).resolve().parents[2] / "docs" / "operations" / "cost.md"


def test_cost_doc_counts_the_synthesized_alarms(synthesized: dict[str, Synthesized]) -> None:
    # Given the number of alarms in each environment's template
    counts = {env: len(synth.resources("AWS::CloudWatch::Alarm")) for env, synth in synthesized.items()}
    text = COST.read_text(encoding="utf-8")
    # Then the summary and the alarm row say those numbers, and the row's price is 10 cents each
    summary = re.search(r"(\d+) alarms in staging and (\d+) in production", text)
    assert summary is not None
    assert (int(summary[1]), int(summary[2])) == (counts["staging"], counts["production"])
    row = re.search(
        r"^\| CloudWatch alarms \| (\d+) in staging, (\d+) in production:.*\| \$([\d.]+) \| \$([\d.]+) \|$", text, re.M
    )
    assert row is not None
    assert (int(row[1]), int(row[2])) == (counts["staging"], counts["production"])
    assert (round(float(row[3]) * 100), round(float(row[4]) * 100)) == (
        counts["staging"] * 10,
        counts["production"] * 10,
    )
