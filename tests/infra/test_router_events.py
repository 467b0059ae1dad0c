"""The router's test events name alarms the stack creates and runbooks that exist (issue 17, item 12).

Events of the stack's own alarms are generated from the synthesized production template
(tools/router_events.py): a committed event that differs from what the template gives fails here, so a
renamed alarm, a changed threshold or a moved runbook shows as a test failure, not as a sample that lies.
The hand-written events (alarms made outside the stack) may not use the stack's alarm-name prefix for an
alarm it lacks, and every runbook link in any event must reach a page in docs/operations/runbooks.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.infra.conftest import Synthesized
from tests.infra.test_runbook_links import runbook_target
from tools import router_events

EVENTS = sorted(router_events.EVENTS_DIR.glob("*.json"))
_URL = re.compile(r"https?://[^\s\"'|<>\\)]+")
_ALARM_ARN = re.compile(r"arn:aws:cloudwatch:[a-z0-9-]+:\d+:alarm:([A-Za-z0-9._-]+)")
_RULE_NAME = re.compile(r'ALARM\(\\?"([^"\\]+)\\?"\)')


def _texts(event: Any) -> str:
    """The event with its SNS messages unwrapped, as one text to search."""
    records = event.get("Records", []) if isinstance(event, dict) else []
    return json.dumps(event) + "".join(str(record.get("Sns", {}).get("Message", "")) for record in records)


def _alarm_names(text: str) -> set[str]:
    names = set(re.findall(r'"[aA]larmName": ?"([^"\\]+)', text.replace('\\"', '"')))
    return names | set(_ALARM_ARN.findall(text)) | set(_RULE_NAME.findall(text))


@pytest.mark.parametrize("name", list(router_events.SCENARIOS))
def test_each_event_of_a_stack_alarm_is_what_the_template_gives(production: Synthesized, name: str) -> None:
    # Given the committed event and the one generated from today's template
    committed = (router_events.EVENTS_DIR / name).read_text(encoding="utf-8")
    generated = router_events.render(
        router_events.generate(
            name, production.raw, prefix=production.config.prefix, region=production.config.region or "ap-northeast-1"
        )
    )
    # Then they are the same (else: python -m tools.router_events)
    assert committed == generated, f"{name} is stale: run python -m tools.router_events"


@pytest.mark.parametrize("path", EVENTS, ids=[path.name for path in EVENTS])
def test_every_event_names_real_alarms_and_real_runbooks(production: Synthesized, path: Path) -> None:
    text = _texts(json.loads(path.read_text(encoding="utf-8")))
    alarms = production.alarms_by_name()
    prefix = f"{production.config.prefix}-"
    # Every alarm with the stack's prefix is one the stack creates
    ours = {alarm for alarm in _alarm_names(text) if alarm.startswith(prefix)}
    assert ours <= set(alarms), f"{path.name} names alarms the stack does not create: {sorted(ours - set(alarms))}"
    # And every runbook link reaches a page that exists
    base = production.config.runbook_base
    for url in _URL.findall(text):
        if url.startswith(base):
            file, _ = runbook_target(url, base)
            assert file.is_file(), f"{path.name} links {url}: {file} does not exist"


def test_the_stack_events_cover_the_alarm_kinds_a_person_meets_first() -> None:
    # The generated events include a critical synthetic check, a 5xx count, a threshold and a blind notice
    alarms = {scenario.alarm for _, records in router_events.SCENARIOS.values() for scenario in records
              if isinstance(scenario, router_events.Scenario)}  # fmt: skip
    assert {"synthetic-live-failing", "alb-backend-target-5xx", "ecs-backend-cpu-high", "rds-cpu-high"} <= alarms


def test_a_renamed_alarm_fails_the_check(production: Synthesized) -> None:
    # Given a template where the CPU alarm was renamed
    template = json.loads(json.dumps(production.raw).replace("ecs-backend-cpu-high", "ecs-backend-cpu-hot"))
    # Then the event cannot be generated for the old name (it would name an alarm that does not exist)
    with pytest.raises(KeyError):
        router_events.generate(
            "sns_metric_alarm_ecs_cpu.json", template, prefix=production.config.prefix, region="ap-northeast-1"
        )
