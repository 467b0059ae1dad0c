"""The demo's scenario end to end: real monitor -> local alarm evaluation -> real router -> local Slack."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path
from typing import Any

import pytest

from tools.demo import SCENARIOS, DemoFailure, Phase, acknowledge_from_slack, run_scenario, run_storm
from tools.synth_all import synth_home_template

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path = synth_home_template(tmp_path_factory.mktemp("demo-templates"), "staging")
    loaded: dict[str, Any] = json.loads(Path(path).read_text())
    return loaded


def _text(payload: dict[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=False)


def test_full_scenario_fires_the_right_alarms_into_the_right_channels_and_recovers(template: dict[str, Any]) -> None:
    # Given the staging template and the demo's full scenario
    out = io.StringIO()
    # When it runs against the reference service and the local Slack receiver, through the SQS intake
    result = run_scenario(SCENARIOS["full"], template=template, out=out)
    # Then the database fault fired the database dependency alarm and the liveness fault the live alarm
    fired = set(result.alarms_fired)
    assert "peoplebooster-staging-synthetic-dependency-database" in fired
    assert "peoplebooster-staging-synthetic-live-failing" in fired
    # And the liveness alarm is Critical: its ALARM landed in #alerts-critical, never in the others
    critical = [_text(m) for m in result.messages.get("alerts-critical", [])]
    assert any("synthetic-live-failing" in m and "ALARM" in m for m in critical)
    assert not any(
        "synthetic-live-failing" in m for c, ms in result.messages.items() if c != "alerts-critical" for m in ms
    )
    # And every alarm that fired came back to OK, its recovery named in a later message than its alarm
    for alarm in fired:
        changes = [(old, new) for name, old, new in result.transitions if name == alarm]
        assert changes[-1] == ("ALARM", "OK"), alarm
        mine = [p for payloads in result.messages.values() for p in payloads if alarm in _text(p)]
        # the last message about it is its recovery (alone, or the group it recovered with)
        assert mine[-1]["text"].startswith("✅ [staging] RESOLVED · "), (alarm, mine[-1]["text"])
        assert mine[-1]["attachments"][0]["color"] == "#2eb67d", alarm
        firing = ("🔴 [staging] CRITICAL · ", "🟠 [staging] WARNING · ")
        assert any(p["text"].startswith(firing) for p in mine[:-1]), alarm
    # And the start-up INSUFFICIENT_DATA -> OK transitions were not announced as recoveries
    assert sum(len(p) for p in result.messages.values()) < len(result.transitions)


def test_the_database_fault_is_one_message_that_names_the_database_and_one_recovery(
    template: dict[str, Any],
) -> None:
    # Given the database scenario (ready and /health failing, the database dependency unhealthy)
    result = run_scenario(SCENARIOS["database"], template=template, out=io.StringIO())
    # Then the fault is one critical message and its recovery one more: at most 3 messages (6 before)
    assert result.phase_messages["database unhealthy"] == 1
    assert sum(len(p) for p in result.messages.values()) <= 3
    [alarm] = [p for p in result.messages["alerts-critical"] if p["text"].startswith("🔴")]
    # And it leads with the cause, and names all three alarms
    assert alarm["text"].startswith("🔴 [staging] CRITICAL · Database unhealthy · 3 alarms: ")
    for name in ("ready-failing", "health-failing", "dependency-database"):
        assert f"peoplebooster-staging-synthetic-{name}" in _text(alarm)
    assert "alerts-errors" not in result.messages  # the warnings are folded into it


def test_before_the_sqs_intake_the_same_fault_was_six_messages(template: dict[str, Any]) -> None:
    # The baseline the issue measured: SNS invoking the router once per state change, nothing to group
    result = run_scenario(SCENARIOS["database"], template=template, out=io.StringIO(), intake="sns")
    assert sum(len(p) for p in result.messages.values()) == 6


def test_a_storm_of_200_alarms_is_a_few_posts_and_none_again_when_redelivered(template: dict[str, Any]) -> None:
    # Scaled 20 times faster than Slack's 1 post/s, the router's spacing with it
    storm = run_storm(template, count=200, speedup=20)
    assert 1 <= storm.posts <= 15
    assert storm.failed_records == storm.dead_letters == storm.redelivered_posts == 0
    assert 1 <= storm.recovery_posts <= 15


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
    assert "[Acknowledge]  [Silence 1 h]  [Silence 4 h]  [Silence until resolved]" in before
    assert "✋ *Acked* by <@U0ONCALL>" in after
    assert "[ Acknowledge ]" not in after
    assert "↳ ✋ *Acknowledged* by <@U0ONCALL>" in after
