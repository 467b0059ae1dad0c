"""Group and digest messages (issue 13): the fault first, every alert named, within Slack's limits."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from lambdas.alert_router.grouping.keys import GroupingConfig
from lambdas.alert_router.grouping.plan import Digest, Group, Routed, plan_deliveries
from lambdas.alert_router.models import Payload, State
from lambdas.alert_router.rendering.context import RenderContext
from lambdas.alert_router.rendering.digest import MESSAGE_BUDGET, alarms_in_alarm_url, render_digest
from lambdas.alert_router.rendering.group import named_reply, render_group, resource_title
from lambdas.alert_router.rendering.incident import render_resolved_original
from lambdas.alert_router.rendering.render import render
from lambdas.alert_router.rendering.text import slack_length
from lambdas.shared.alarm_metadata import Category
from tests.unit.alert_router.slack_limits import slack_problems
from tests.unit.alert_router.test_grouping import T0, alarm, database_fault

CONTEXT = RenderContext(environment="prod", dashboard_url="https://example.com/dashboard")


def group_of(members: list[Routed]) -> Group:
    (group,) = plan_deliveries(members, GroupingConfig())
    assert isinstance(group, Group)
    return group


def lead_payload(group: Group) -> Payload:
    return render(group.lead.alert, group.lead.route, CONTEXT)


def test_a_group_of_one_is_exactly_the_alerts_own_message() -> None:
    group = group_of([alarm("synthetic-health-failing")])
    assert render_group(group, lead_payload(group), CONTEXT) == lead_payload(group)


def test_the_group_message_leads_with_the_fault_and_names_every_member() -> None:
    # Given the database fault as one group
    group = group_of(database_fault())
    payload = render_group(group, lead_payload(group), CONTEXT)
    # Then the lock-screen line says what broke, how bad, and every member (critical ones say so)
    assert payload["text"] == (
        "🔴 [prod] CRITICAL · Database unhealthy · 3 alarms: "
        "ready failing (critical), dependency database, health failing"
    )
    blocks = payload["blocks"]
    # The headline is the group's, once: the lead's own header block (its id kept) says it
    lead = lead_payload(group)
    assert blocks[0] == {
        **lead["blocks"][0],
        "text": {
            **lead["blocks"][0]["text"],
            "text": "🔴 CRITICAL · Database unhealthy · 3 alarms · prod · since 12:00 JST",
        },
    }
    assert [b["type"] for b in blocks].count("header") == 1
    # And each member has a line with its reason, linked to its alarm in the console
    members = blocks[1]["text"]["text"].splitlines()
    assert len(members) == 3
    assert members[0].startswith(
        "*<https://ap-northeast-1.console.aws.amazon.com/cloudwatch/home?region=ap-northeast-1"
    )
    assert "pb-prod-synthetic-ready-failing|ready failing (critical)>*" in members[0]
    # And the folded members' channel is named: they are not posted there again
    assert "not posted again in #alerts-errors: dependency database, health failing" in blocks[2]["elements"][0]["text"]
    # And then comes the rest of the lead's own message (cause, first step, buttons; details), unchanged
    assert blocks[3:] == lead["blocks"][1:]
    assert payload["attachments"] == lead["attachments"]
    assert slack_problems(payload) == []


def test_the_recovery_of_a_group_says_ok_without_the_old_severity() -> None:
    group = group_of(database_fault(State.OK))
    payload = render_group(group, lead_payload(group), CONTEXT)
    assert payload["text"].startswith("✅ [prod] RESOLVED · Database unhealthy · 3 alarms: ")
    assert "recovered" in payload["blocks"][1]["text"]["text"]


def test_bot_token_mode_resolves_a_group_message_in_place() -> None:
    # The incident loop marks an original resolved through its headline block: the group's header is that block
    group = group_of(database_fault())
    original = render_group(group, lead_payload(group), CONTEXT)
    resolved = render_resolved_original(original, 0.0, 600.0, CONTEXT)
    assert (
        resolved["blocks"][0]["text"]["text"] == "✅ RESOLVED · Database unhealthy · 3 alarms · prod · since 12:00 JST"
    )
    assert resolved["text"].startswith("✅ [prod] RESOLVED · Database unhealthy · 3 alarms: ")


def test_a_member_reply_in_a_shared_thread_says_whose_it_is() -> None:
    reply: Payload = {
        "text": "🔴 ALARM · x",
        "attachments": [{"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "🔴 *ALARM*"}}]}],
    }
    named = named_reply(reply, "pb-prod-synthetic-health-failing")
    assert named["text"] == "pb-prod-synthetic-health-failing · 🔴 ALARM · x"
    assert named["attachments"][0]["blocks"][0]["text"]["text"] == "*pb-prod-synthetic-health-failing* · 🔴 *ALARM*"
    assert reply["attachments"][0]["blocks"][0]["text"]["text"] == "🔴 *ALARM*"  # the original is not changed


@pytest.mark.parametrize(
    ("key", "title"),
    [
        ("AWS/RDS DBInstanceIdentifier=db-1", "RDS db-1"),
        ("AWS/ApplicationELB LoadBalancer=app/alb/1f TargetGroup=targetgroup/api/2e", "target group api"),
        ("AWS/ApplicationELB LoadBalancer=app/alb/1f", "load balancer alb"),
        ("AWS/ECS ClusterName=c ServiceName=api", "ECS api"),
        ("synthetic api.example.com", "synthetic api.example.com"),
    ],
)
def test_group_keys_read_as_resources(key: str, title: str) -> None:
    assert resource_title(key) == title


# --- digests ---------------------------------------------------------------------------------------------------


def storm_digest(count: int, per_group: int = 5) -> Digest:
    members = [
        alarm(
            f"svc{i // per_group:03d}-check{i % per_group}-" + "long" * 10,
            group=f"AWS/ECS ClusterName=c ServiceName=svc{i // per_group:03d}",
            category=Category.PERFORMANCE,
            at=T0 + timedelta(seconds=i),
        )
        for i in range(count)
    ]
    (digest,) = plan_deliveries(members, GroupingConfig(storm_threshold=20))
    assert isinstance(digest, Digest)
    return digest


def test_a_digest_counts_and_links_and_names_every_alert() -> None:
    digest = storm_digest(200)
    pages = render_digest(digest, CONTEXT)
    first = pages[0].payload
    text = json.dumps([page.payload for page in pages], ensure_ascii=False)
    blocks = first["blocks"]
    assert blocks[0]["text"]["text"] == "🔴 ALARM STORM · 200 alerts"
    summary = blocks[1]["text"]["text"]
    assert summary.startswith("*200 in ALARM (200 warning)*\n*By resource:* ECS svc000 (5) · ECS svc001 (5)")
    assert "(and 35 more)" in summary
    console = alarms_in_alarm_url("ap-northeast-1")
    assert f"<{console}|Alarms in ALARM (console)>" in blocks[2]["elements"][0]["text"]
    # Every alarm is named (its prefix shared with the rest of its group said once), and each page says
    # which alerts it carries
    for member in digest.members:
        name = member.alert.alarm_name
        assert name is not None
        assert name.removeprefix("pb-prod-").split("-", 1)[1] in text
    assert sorted(id(m) for page in pages for m in page.members) == sorted(id(m) for m in digest.members)
    for page in pages:
        assert slack_problems(page.payload) == []


def test_a_digest_too_big_for_one_message_continues_and_drops_nothing() -> None:
    digest = storm_digest(1000, per_group=1)
    pages = render_digest(digest, CONTEXT)
    assert len(pages) > 1
    for index, page in enumerate(pages, start=1):
        blocks = page.payload["blocks"]
        assert len(blocks) <= 50
        assert sum(slack_length(b["text"]["text"]) for b in blocks if b["type"] == "section") <= MESSAGE_BUDGET + 3000
        assert slack_problems(page.payload) == []
        if index > 1:
            assert blocks[0]["text"]["text"].endswith(f"· {index} of {len(pages)}")
    assert sum(len(page.members) for page in pages) == 1000


def test_the_console_link_is_in_the_alarms_region_and_partition() -> None:
    assert alarms_in_alarm_url("cn-north-1").startswith("https://cn-north-1.console.amazonaws.cn/cloudwatch/home")
    assert alarms_in_alarm_url("eu-west-1") == (
        "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#alarmsV2:?~(alarmStateFilter~'ALARM)"
    )
