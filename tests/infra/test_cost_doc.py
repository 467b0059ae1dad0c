"""docs/operations/cost.md prices what the templates really have: counted from them, not by hand.

Alarms (and the alarm metrics CloudWatch bills, one per metric an alarm reads), the dashboard's metrics against
the free tier's 50, the monitor's always-on custom metrics from its real output, the sweep's always-on metrics
from the router's code, the keys and their rotation, one month length, and the total as the sum of its rows.
Prices: https://aws.amazon.com/cloudwatch/pricing/, https://aws.amazon.com/kms/pricing/.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.infra.conftest import Synthesized
from tests.infra.template_metrics import dashboard_entries, monitor_series

REPO = Path(__file__).resolve().parents[2]
COST = REPO / "docs" / "operations" / "cost.md"
ALARM_METRIC = 0.10
CUSTOM_METRIC = 0.30
FREE_DASHBOARD_METRICS = 50  # "3 dashboards for up to 50 metrics" per account
HOURS = 730
TIMES = "\N{MULTIPLICATION SIGN}"  # the sign cost.md writes its arithmetic with


@pytest.fixture(scope="module")
def text() -> str:
    return COST.read_text(encoding="utf-8")


def _row(text: str, component: str) -> tuple[str, str, str]:
    """(what, staging, production) of the table row whose first cell is `component`."""
    match = re.search(rf"^\| {re.escape(component)} \| (.*) \| ([^|]*) \| ([^|]*) \|$", text, re.M)
    assert match is not None, component
    return match[1], match[2].strip(), match[3].strip()


def _dollars(cell: str) -> float:
    """The first amount of a cell: `$4.90`, `about $0.25 (...)`, `< $0.01` (as 0.01), `$0.10 (Tokyo $0.15)`."""
    found = re.search(r"\$([\d.]+)", cell)
    assert found is not None, cell
    return float(found[1])


def alarm_metrics(synth: Synthesized) -> int:
    """What CloudWatch bills: one alarm metric per metric an alarm reads (each MetricStat of metric math)."""
    return sum(
        len([query for query in alarm["Metrics"] if "MetricStat" in query]) if "Metrics" in alarm else 1
        for alarm in synth.alarms_by_name().values()
    )


def test_cost_doc_counts_the_synthesized_alarms(synthesized: dict[str, Synthesized], text: str) -> None:
    # Given the number of alarms, and of alarm metrics, in each environment's template
    counts = {env: len(synth.resources("AWS::CloudWatch::Alarm")) for env, synth in synthesized.items()}
    billed = {env: alarm_metrics(synth) for env, synth in synthesized.items()}
    assert billed["staging"] > counts["staging"]  # the request-gated alarms read two metrics each
    # Then the summary and the alarm row say those numbers, and the row prices each alarm metric at 10 cents
    summary = re.search(r"(\d+) alarms in staging and (\d+) in production", text)
    assert summary is not None
    assert (int(summary[1]), int(summary[2])) == (counts["staging"], counts["production"])
    what, staging, production = _row(text, "CloudWatch alarms")
    head = re.match(r"(\d+) in staging, (\d+) in production \((\d+) and (\d+) alarm metrics\)", what)
    assert head is not None
    assert tuple(map(int, head.groups())) == (counts["staging"], counts["production"], *billed.values())
    assert (_dollars(staging), _dollars(production)) == pytest.approx(
        (billed["staging"] * ALARM_METRIC, billed["production"] * ALARM_METRIC)
    )


def test_the_dashboard_is_priced_as_more_than_the_free_tiers_fifty_metrics(
    synthesized: dict[str, Synthesized], text: str
) -> None:
    # Given the distinct metrics each dashboard's graphs read (expressions and the search aside)
    counts = {}
    for env, synth in synthesized.items():
        metrics = {
            (entry[0], entry[1], tuple(part for part in entry[2:] if not isinstance(part, dict)))
            for entry in dashboard_entries(synth)
            if not isinstance(entry[0], dict)
        }
        counts[env] = len(metrics)
    # Then the row says those numbers, and prices the dashboard at $3.00: more than 50 metrics is never free
    what, staging, production = _row(text, "Dashboard")
    numbers = re.search(r"(\d+) metrics in staging and (\d+) in production", what)
    assert numbers is not None
    assert (int(numbers[1]), int(numbers[2])) == (counts["staging"], counts["production"])
    assert min(counts.values()) > FREE_DASHBOARD_METRICS
    assert (_dollars(staging), _dollars(production)) == (3.00, 3.00)
    assert "free if" not in what


def test_the_monitors_always_on_metrics_are_counted_from_its_output(
    staging: Synthesized, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    # Given one run of the real monitor (synthesized environment) against the https reference service
    series = len(monitor_series(staging, monkeypatch))
    # Then the row counts that many metrics, each billed all month (written every minute)
    what, staging_cell, production_cell = _row(text, "Custom metrics, synthetic monitor")
    assert what.startswith(f"{series} metrics:")
    assert f"{series} {TIMES} $0.30" in what
    assert _dollars(staging_cell) == _dollars(production_cell) == pytest.approx(series * CUSTOM_METRIC)


def sweep_always_on_metrics() -> list[str]:
    """The metrics the router's sweep counts on every run: the `self.count(...)` statements at the top level
    of `Lifecycle.sweep` (not inside a loop or a condition)."""
    tree = ast.parse((REPO / "lambdas" / "alert_router" / "incidents" / "loop.py").read_text(encoding="utf-8"))
    (sweep,) = [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef) and node.name == "sweep"]
    return [
        str(statement.value.args[0].value)
        for statement in sweep.body
        if isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Call)
        and isinstance(statement.value.func, ast.Attribute)
        and statement.value.func.attr == "count"
        and isinstance(statement.value.args[0], ast.Constant)
    ]


def test_bot_token_modes_always_on_metrics_are_all_priced(text: str) -> None:
    # Given the metrics every sweep writes (every 5 minutes: every hour of the month)
    always_on = sweep_always_on_metrics()
    assert always_on == ["OpenIncidents", "SweepFailures"]
    # Then the router row names each of them as billed all month, and prices them together
    what, _staging, _production = _row(text, "Custom metrics, alert router")
    sweep_part = what[what.index("written by every sweep") :]
    for name in always_on:
        assert f"`{name}`" in sweep_part, name
    assert f"{len(always_on)} {TIMES} $0.30 = ${len(always_on) * CUSTOM_METRIC:.2f}" in sweep_part


def test_the_keys_and_their_yearly_rotation_are_priced(synthesized: dict[str, Synthesized], text: str) -> None:
    for synth in synthesized.values():
        keys = synth.resources("AWS::KMS::Key").values()
        # Given the customer-managed keys, each rotated every year (KMS's default period)
        assert all(key["Properties"]["EnableKeyRotation"] is True for key in keys)
        assert all(key["Properties"].get("RotationPeriodInDays", 365) == 365 for key in keys)
        count = len(keys)
        # Then the row prices $1 per key, plus $1 for each of the first two rotations
        what, staging, _production = _row(text, "KMS")
        assert what.startswith(f"{count} keys")
        assert _dollars(staging) == count * 1.00
        assert f"year 2: ${count * 2:.2f}; from year 3: ${count * 3:.2f}" in staging


def test_one_month_length_everywhere(text: str) -> None:
    # A month is 730 hours in cost.md, the README and the bench (bench/synthetic_monitor_bench.py: 730 * 60)
    assert "Month = 730 hours" in text
    assert not re.search(r"\b720\b|43,200|8,640", text)
    assert f"{HOURS * 60:,}" in text  # monitor runs
    assert f"{HOURS * 12:,}" in text  # sweeps
    # And the README's Synthetics comparison is the same number as cost.md's
    canaries = 4 * HOURS * 60 * 0.0012
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert f"${canaries:.2f}" in readme
    assert f"${canaries:.2f}" in text


def test_the_total_is_the_sum_of_the_rows(text: str) -> None:
    table = text[text.index("| Component |") : text.index("| **Total**")]
    rows = [line for line in table.splitlines()[2:] if line.startswith("| ")]
    sums = [0.0, 0.0]
    for line in rows:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        for column, cell in enumerate(cells[-2:]):
            sums[column] += _dollars(cell) if "$" in cell else 0.0
    amount = r"\*\*about \$([\d.]+)\*\*"
    total = re.search(rf"^\| \*\*Total\*\* \(first year\) \| \| {amount} \| {amount} \|$", text, re.M)
    assert total is not None
    assert (float(total[1]), float(total[2])) == pytest.approx(tuple(sums), abs=0.10)
