"""Every alarm's Slack message links to its runbook: that page and heading must exist.

Also checks what the operations docs cite from the stack: dashboard rows and widgets (**bold** after
the word "row" or "widget"), saved Logs Insights queries and secrets (`<prefix>/<name>`), so a renamed
widget, query or secret cannot leave on-call looking for something that is not there.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from lambdas.shared.alarm_metadata import parse_alarm_metadata
from tests.docs.markdown_links import anchors, top_level_heading
from tests.infra.conftest import Synthesized

REPO = Path(__file__).resolve().parents[2]
OPERATIONS = REPO / "docs" / "operations"
RUNBOOKS = OPERATIONS / "runbooks"
# Every alarm kind of the stack, including the router's and the synthetic monitor's.
RUNBOOK_SLUGS = (
    "ecs-cpu-high",
    "ecs-memory-high",
    "ecs-tasks-below-desired",
    "alb-5xx-errors",
    "alb-high-latency",
    "alb-no-healthy-targets",
    "alb-unhealthy-targets",
    "rds-connections-high",
    "rds-cpu-high",
    "rds-free-storage-low",
    "rds-freeable-memory-low",
    "redis-memory-high",
    "redis-connections-high",
    "redis-engine-cpu-high",
    "redis-evictions",
    "redis-replication-lag",
    "router-dead-letter-queue",
    "router-errors",
    "synthetic-liveness-failing",
    "synthetic-readiness-failing",
    "synthetic-frontend-failing",
    "synthetic-health-degraded",
    "synthetic-latency-high",
    "synthetic-certificate-expiring",
    "synthetic-monitor-not-running",
    "synthetic-unreachable-from-region",
    "synthetic-probe-region-silent",
    "sentry-intake-failing",
    "slack-actions-failing",
)
SECTIONS = ("Meaning", "Likely causes", "Investigate", "Mitigate", "Escalate")
CITED_ROW = re.compile(r"\brows? \*\*([^*]+)\*\*")
CITED_WIDGET = re.compile(r"\bwidgets? \*\*([^*]+)\*\*")
# `<prefix>/<name>` is a saved query or a secret (both are named that way).
CITED_NAME = re.compile(r"<prefix>/([a-z0-9-]+)")


def runbook_target(url: str, runbook_base: str) -> tuple[Path, str]:
    """The file under docs/operations (and the anchor) that a runbook URL points at."""
    assert url.startswith(runbook_base + "/"), f"{url} is not under {runbook_base}"
    relative, _, anchor = url.removeprefix(runbook_base + "/").partition("#")
    return OPERATIONS / relative, anchor


def _description(alarm: dict[str, object]) -> str:
    description = alarm.get("AlarmDescription")
    assert isinstance(description, str), "the description must be a plain string for SNS to carry it"
    return description


def test_every_alarm_links_to_an_existing_runbook_and_heading(synthesized: dict[str, Synthesized]) -> None:
    problems = []
    for environment, synth in synthesized.items():
        alarms = synth.alarms_by_name()
        assert alarms, f"{environment}: no alarms synthesized"
        for name, alarm in alarms.items():
            url = parse_alarm_metadata(_description(alarm)).runbook_url
            if url is None:
                problems.append(f"{environment}: {name} has no Runbook: line")
                continue
            path, anchor = runbook_target(url, synth.config.runbook_base)
            if not path.is_file():
                problems.append(f"{environment}: {name} -> {path.relative_to(REPO)} does not exist")
                continue
            text = path.read_text(encoding="utf-8")
            if top_level_heading(text) is None:
                problems.append(f"{environment}: {name} -> {path.name} has no '# ' title")
            if anchor and anchor.lower() not in anchors(text):
                problems.append(f"{environment}: {name} -> {path.name} has no heading #{anchor}")
    assert not problems, "\n".join(problems)


def test_runbook_target_maps_urls_and_refuses_foreign_ones() -> None:
    base = "https://github.com/peoplebooster/monitoring/blob/main/docs/operations"
    assert runbook_target(f"{base}/runbooks/rds-cpu-high.md#mitigate", base) == (
        RUNBOOKS / "rds-cpu-high.md",
        "mitigate",
    )
    with pytest.raises(AssertionError):
        runbook_target("https://example.com/runbooks/rds-cpu-high.md", base)


@pytest.mark.parametrize("slug", RUNBOOK_SLUGS)
def test_every_alarm_kind_has_a_runbook_with_the_five_sections(slug: str) -> None:
    path = RUNBOOKS / f"{slug}.md"
    assert path.is_file(), f"missing runbook {path.relative_to(REPO)}"
    found = anchors(path.read_text(encoding="utf-8"))
    missing = [section for section in SECTIONS if section.lower().replace(" ", "-") not in found]
    assert not missing, f"{slug}.md lacks the sections {missing}"


def test_runbook_index_lists_every_runbook() -> None:
    index = (RUNBOOKS / "README.md").read_text(encoding="utf-8")
    pages = sorted(path.stem for path in RUNBOOKS.glob("*.md") if path.name != "README.md")
    assert sorted(RUNBOOK_SLUGS) == pages
    assert [slug for slug in pages if f"]({slug}.md)" not in index] == []


def _quoted(text: str) -> str:
    """A JSON string as it appears inside the dashboard body, itself a JSON string in the template."""
    return json.dumps(json.dumps(text))[1:-1]


def test_cited_dashboard_rows_widgets_queries_and_secrets_exist(staging: Synthesized) -> None:
    # Given the synthesized dashboard body, saved query names and secret names
    (dashboard,) = staging.resources("AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    named = {
        str(resource["Properties"]["Name"]).removeprefix(staging.config.prefix + "/")
        for kind in ("AWS::Logs::QueryDefinition", "AWS::SecretsManager::Secret")
        for resource in staging.resources(kind).values()
    }
    # When every runbook and guide is read
    problems = []
    for path in sorted(OPERATIONS.rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        for row in CITED_ROW.findall(text):
            if _quoted(f"## {row}") not in body:
                problems.append(f"{path.name}: dashboard row {row!r} does not exist")
        for widget in CITED_WIDGET.findall(text):
            if _quoted("title") + ":" + _quoted(widget) not in body:
                problems.append(f"{path.name}: dashboard widget {widget!r} does not exist")
        cited = set(CITED_NAME.findall(text))
        problems += [f"{path.name}: no saved query or secret {name!r}" for name in sorted(cited - named)]
    # Then each one is in the stack
    assert not problems, "\n".join(problems)
