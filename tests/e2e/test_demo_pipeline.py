"""The demo's scenario end to end: real monitor -> local alarm evaluation -> real router -> local Slack."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path
from typing import Any

import pytest

from tools.demo import SCENARIOS, DemoFailure, Phase, acknowledge_from_slack, run_scenario
from tools.synth_all import synth_templates

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    (path,) = synth_templates(tmp_path_factory.mktemp("demo-templates"), ("staging",))
    loaded: dict[str, Any] = json.loads(Path(path).read_text())
    return loaded


def _text(payload: dict[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=False)


def test_full_scenario_fires_the_right_alarms_into_the_right_channels_and_recovers(template: dict[str, Any]) -> None:
    # Given the staging template and the demo's full scenario
    out = io.StringIO()
    # When it runs against the reference service and the local Slack receiver
    result = run_scenario(SCENARIOS["full"], template=template, out=out)
    # Then the database fault fired the database dependency alarm and the liveness fault the live alarm
    fired = set(result.alarms_fired)
    assert "peoplebooster-staging-synthetic-dependency-database" in fired
    assert "peoplebooster-staging-synthetic-live-failing" in fired
    # And the liveness alarm is Critical: its ALARM landed in #alerts-critical, never in the others
    critical = [_text(m) for m in result.messages.get("alerts-critical", [])]
    errors = [_text(m) for m in result.messages.get("alerts-errors", [])]
    assert any("synthetic-live-failing" in m and "ALARM" in m for m in critical)
    assert not any("synthetic-live-failing" in m for m in errors)
    assert any("synthetic-dependency-database" in m for m in errors)
    # And every alarm that fired came back to OK, announced in the same channel after its alarm
    for alarm in fired:
        changes = [(old, new) for name, old, new in result.transitions if name == alarm]
        assert changes[-1] == ("ALARM", "OK"), alarm
    for channel, payloads in result.messages.items():
        for alarm in fired:
            mine = [p for p in payloads if alarm in _text(p)]
            if mine:
                # the last message about it is its recovery: every ALARM message also says "OK → ALARM"
                assert mine[-1]["text"].startswith(f"✅ [staging] OK: {alarm} - "), (channel, alarm, mine[-1]["text"])
                assert mine[-1]["attachments"][0]["color"] == "#2eb67d", (channel, alarm)
                assert any(p["text"].startswith("🔴 [staging] ALARM") for p in mine[:-1]), (channel, alarm)
    # And the start-up INSUFFICIENT_DATA -> OK transitions were not announced as recoveries
    assert sum(len(p) for p in result.messages.values()) < len(result.transitions)


def test_a_metric_name_mismatch_is_caught(template: dict[str, Any]) -> None:
    # Given an alarm whose metric name differs from what the monitor writes (a typo)
    broken = copy.deepcopy(template)
    (alarm,) = [
        resource["Properties"]
        for resource in broken["Resources"].values()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
        and resource["Properties"]["AlarmName"] == "peoplebooster-staging-synthetic-live-failing"
    ]
    alarm["MetricName"] = "CheckSucess"
    # When the monitor runs, then the demo stops and says the alarm found no data, naming what it looked for
    with pytest.raises(DemoFailure) as failure:
        run_scenario((Phase("healthy service", {}),), template=broken, out=io.StringIO(), cycles_per_phase=1)
    message = str(failure.value)
    assert "alarms that never received data" in message
    assert "peoplebooster-staging-synthetic-live-failing: no datapoint matched" in message
    assert "CheckSucess" in message


def test_bot_token_mode_threads_the_incident_and_resolves_it_in_place(template: dict[str, Any]) -> None:
    # Given the /health/live scenario with the router in bot-token mode against the local Slack Web API
    result = run_scenario(SCENARIOS["live"], template=template, out=io.StringIO(), slack_mode="bot")
    # Then #alerts-critical has one top-level message for the incident, not one per state change
    posts = [_text(p) for p in result.messages["alerts-critical"]]
    assert len([p for p in posts if "synthetic-live-failing" in p]) == 1
    # And the channel view shows it resolved in place, with the recovery as a reply in its thread
    view = result.threads["alerts-critical"]
    assert "RESOLVED" in view.splitlines()[0]
    assert "↳ ✅ *Resolved after" in view
    assert "alerts-errors" not in result.threads


def test_the_demo_acknowledges_an_alarm_from_slack(template: dict[str, Any]) -> None:
    # Given the demo's step 9: an ALARM in bot-token mode, and a signed click on its Acknowledge button
    before, after = acknowledge_from_slack(template)
    # Then the message had the buttons, and after the click says who acknowledged, without that button
    assert "[ Acknowledge ]  [ Silence 1 h ]  [ Silence 4 h ]  [ Silence until resolved ]" in before
    assert "✋ *Acked* by <@U0ONCALL>" in after
    assert "[ Acknowledge ]" not in after
    assert "↳ ✋ *Acknowledged* by <@U0ONCALL>" in after
