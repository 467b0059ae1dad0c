"""`python -m tools.alarm_report --history FILE --out DIR` as a person runs it: files written, bad input one line."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "alarm_history"


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tools.alarm_report", *argv],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("alarm-report")
    result = _run(
        "--history", str(FIXTURES / "two_weeks.json"),
        "--incident-history", str(FIXTURES / "incidents_incident_history.json"),
        "--until", "2026-12-01T00:00:00Z",
        "--out", str(out),
    )  # fmt: skip
    assert (result.returncode, result.stderr) == (0, ""), result.stderr
    assert result.stdout.splitlines() == [f"wrote {out / name}" for name in ("report.md", "timeline.png", "hours.png")]
    return out


def _rows(markdown: str) -> list[list[str]]:
    table = markdown.split("## Alarms, noisiest first", 1)[1].split("\n\n", 2)[1]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in table.splitlines()[2:]]


def test_the_table_comes_first_noisiest_first(written: Path) -> None:
    markdown = (written / "report.md").read_text()
    assert markdown.startswith("# Alarm noise report: peoplebooster-staging\n")
    assert "Period: 2026-11-17 09:00 to 2026-12-01 09:00 Asia/Tokyo (14.0 days)" in markdown
    assert markdown.index("## Alarms, noisiest first") < markdown.index("## Findings") < markdown.index("## Tuning")
    rows = _rows(markdown)
    # Scores by hand (3 per flap without action, 1 per other firing without action):
    # backend cpu 8 flaps + 1 incident = 25; frontend memory 3 flaps = 9; target 5xx 2 flaps = 6; latency 2;
    # rds cpu 1 (two of three acknowledged) before redis connections 1 (fewer firings); live and quiet 0, live
    # first (time in ALARM)
    assert [(row[1], row[-1]) for row in rows] == [
        ("`ecs-backend-cpu-high`", "25"),
        ("`ecs-frontend-memory-high`", "9"),
        ("`alb-target-5xx`", "6"),
        ("`alb-latency-high`", "2"),
        ("`rds-cpu-high`", "1"),
        ("`redis-001-connections-high`", "1"),
        ("`synthetic-live-failing`", "0"),
        ("`rds-connections-high`", "0"),
    ]
    by_name = {row[1]: row for row in rows}
    assert by_name["`rds-cpu-high`"][8] == "2/3 (67%)"
    assert by_name["`ecs-backend-cpu-high`"][8] == "not recorded"  # not in the incident history
    assert by_name["`alb-latency-high`"][7] == "since 2026-11-28 15:00"  # 06:00 UTC
    assert by_name["`ecs-backend-cpu-high`"][9] == "03h: 7, 04h: 1"


def test_findings_in_words(written: Path) -> None:
    markdown = (written / "report.md").read_text()
    findings = markdown.split("## Findings", 1)[1].split("## Tuning", 1)[0]
    assert "- `ecs-backend-cpu-high`: 9 firings, 8 resolved within 10 min (0.57 per day), 9 without action." in findings
    stuck = "- `alb-latency-high`: stuck, in ALARM since 2026-11-28 15:00, 2 d 18 h and not resolved."
    assert stuck in findings
    assert "- 1: `rds-connections-high`." in findings  # never fired
    assert "Needs a ticket: `ecs-backend-cpu-high`, `ecs-frontend-memory-high`, `alb-target-5xx`." in findings
    notes = markdown.split("## Notes", 1)[1]
    assert "ConfigurationUpdate items (not state changes): 1, ignored." in notes
    assert "Already in ALARM at the period start (counted from the start, not as a firing): `synthetic-live" in notes


def test_pictures_are_pngs_at_readme_width(written: Path) -> None:
    for name in ("timeline.png", "hours.png"):
        with Image.open(written / name) as image:
            assert image.format == "PNG"
            assert image.width == 1000
            assert 300 <= image.height <= 1200


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"MetricAlarms": []}', r"has no AlarmHistoryItems list; expected the output of `aws cloudwatch"),
        ("ALARM OK ALARM", r"is not JSON \(line 1: Expecting value\)"),
        ('{"AlarmHistoryItems": []}', r"no state changes \(StateUpdate items\) to report$"),
        (
            '{"AlarmHistoryItems": [{"HistoryItemType": "Action", "AlarmName": "a"}]}',
            r"no state changes \(StateUpdate items\) to report \(items of other types ignored: 1\)$",
        ),
    ],
)
def test_bad_input_is_one_line_and_a_failure(tmp_path: Path, content: str, expected: str) -> None:
    history = tmp_path / "history.json"
    history.write_text(content)
    result = _run("--history", str(history), "--out", str(tmp_path / "out"))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    [line] = result.stderr.splitlines()
    assert re.search(r"^alarm-report: .*history\.json.*" + expected, line), line
    assert not (tmp_path / "out").exists()


def test_a_missing_file_and_a_bad_time_are_one_line(tmp_path: Path) -> None:
    missing = _run("--history", str(tmp_path / "nope.json"), "--out", str(tmp_path))
    assert (missing.returncode, missing.stderr.strip()) == (
        1,
        f"alarm-report: cannot read {tmp_path / 'nope.json'}: No such file or directory",
    )
    bad_time = _run("--history", str(FIXTURES / "quiet.json"), "--until", "tomorrow", "--out", str(tmp_path))
    assert bad_time.returncode == 1
    assert bad_time.stderr.splitlines() == [
        "alarm-report: --until 'tomorrow' is not an ISO 8601 time (e.g. 2026-11-30T00:00:00+09:00)"
    ]
