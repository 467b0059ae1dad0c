"""Rendering: escaping, Slack limits, no placeholders, times, console links."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from lambdas.alert_router.intake.events import parse_sns_message
from lambdas.alert_router.models import AlarmKind, Alert, SourceKind, State
from lambdas.alert_router.rendering.context import RenderContext
from lambdas.alert_router.rendering.facts import alarm_console_url, format_times, human_reason
from lambdas.alert_router.rendering.render import render
from lambdas.alert_router.rendering.text import escape, slack_length, truncate
from lambdas.alert_router.rendering.unparsed import render_fallback
from lambdas.alert_router.routing.route import RoutingConfig, route
from lambdas.shared.alarm_metadata import Severity
from tests.unit.alert_router.slack_limits import slack_problems

CONTEXT = RenderContext(
    environment="staging", display_time_zone="Asia/Tokyo", dashboard_url="https://dash.example/d?a=1&b=2"
)


def rendered(alert: Alert) -> dict[str, Any]:
    return render(alert, route(alert, RoutingConfig()), CONTEXT)


def all_text(payload: dict[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=False)


def headline(payload: dict[str, Any]) -> str:
    header = payload["blocks"][0]
    assert header["type"] == "header"
    text: str = header["text"]["text"]
    return text


def buttons(payload: dict[str, Any]) -> dict[str, str]:
    """action_id -> url of the link buttons."""
    return {
        element["action_id"]: element["url"]
        for block in payload["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    }


def details(payload: dict[str, Any]) -> str:
    text: str = payload["attachments"][0]["blocks"][0]["elements"][0]["text"]
    return text


def test_escape_neutralises_mentions_and_links() -> None:
    escaped = escape("<!channel> & <https://evil|click> @here @everyone")
    assert "<" not in escaped
    assert ">" not in escaped
    assert "&amp;" in escaped
    assert "@here" not in escaped
    assert "@everyone" not in escaped


@pytest.mark.parametrize("limit", [1, 5, 20, 150])
def test_truncate_keeps_the_limit_and_shows_a_marker(limit: int) -> None:
    text = "日本語のテキスト😀" * 40
    cut = truncate(text, limit)
    assert slack_length(cut) <= limit
    assert cut.endswith("… [truncated]"[: max(0, limit)]) or limit < len("… [truncated]")
    assert text.startswith(cut.split("…")[0])  # a prefix of code points, nothing broken


def test_truncate_never_leaves_half_an_entity() -> None:
    cut = truncate(escape("a" * 20 + "&&&&&&&&"), 36)
    body = cut.removesuffix("… [truncated]")
    assert not body.endswith(("&", "&a", "&am", "&amp"))


def test_short_text_is_untouched() -> None:
    assert truncate("abc", 3) == "abc"


def test_malicious_description_cannot_ping_or_link() -> None:
    # Given an alarm whose description tries @channel and a disguised link, and a runbook with "|"
    description = (
        "<!channel> pay attention <https://evil.example|click> @channel\nRunbook: https://evil.example/x|label"
    )
    alert = Alert(
        source=SourceKind.SNS_ALARM,
        state=State.ALARM,
        alarm_name="a<b>&c",
        description=description,
        reason="reason <@U123>",
    )
    # When rendered
    payload = rendered(alert)
    # Then every rule holds, nothing links or pings, and the runbook is a button (a URL field, no mrkdwn link)
    assert slack_problems(payload) == []
    text = all_text(payload)
    assert "<!channel>" not in text
    assert "<https://evil.example|click>" not in text
    assert "<@U123>" not in text
    assert buttons(payload)["runbook"] == "https://evil.example/x|label"


def test_huge_texts_are_truncated_within_slack_limits() -> None:
    # Given every text field far over Slack's limits
    huge = "長い説明 & <x> " * 2000
    alert = Alert(
        source=SourceKind.SNS_ALARM,
        state=State.ALARM,
        alarm_name="n" * 300,
        description=huge,
        reason=huge,
        namespace="AWS/ECS",
        metric_name="CPUUtilization",
        dimensions=tuple((f"d{i}", huge[:3000]) for i in range(30)),
        statistic="Average",
        region="ap-northeast-1",
        account="1",
        state_change_time=datetime(2026, 11, 29, tzinfo=UTC),
        alarm_kind=AlarmKind.METRIC,
    )
    payload = rendered(alert)
    assert slack_problems(payload) == []
    assert "… [truncated]" in all_text(payload)


def test_unparsed_message_is_shown_raw_and_truncated() -> None:
    payload = rendered(Alert(source=SourceKind.UNPARSED, raw_text="<!here> " + "x" * 10_000, subject="Hi"))
    assert slack_problems(payload) == []
    section = payload["blocks"][2]["text"]["text"]
    assert section.startswith("```\n&lt;!here&gt;")
    assert section.endswith("```")
    assert len(section) <= 3000


def test_missing_facts_are_left_out() -> None:
    # Given an alarm with only a name and a state
    payload = rendered(Alert(source=SourceKind.SNS_ALARM, state=State.ALARM, alarm_name="bare"))
    # Then nothing says None/null and no empty field is rendered
    assert slack_problems(payload) == []
    text = all_text(payload)
    assert "None" not in text
    assert "null" not in text


def test_japanese_text_is_verbatim() -> None:
    summary = "バックエンドのメモリ使用率が80%を超えています（5分間）"  # noqa: RUF001 - full-width on purpose
    payload = rendered(Alert(source=SourceKind.SNS_ALARM, state=State.ALARM, alarm_name="m", description=summary))
    assert summary in all_text(payload)


def test_times_in_utc_and_display_zone() -> None:
    moment = datetime(2026, 11, 29, 3, 14, 15, tzinfo=UTC)
    assert format_times(moment, "Asia/Tokyo") == ("2026-11-29 03:14:15 UTC", "2026-11-29 12:14:15 JST")
    assert format_times(moment, "UTC") == ("2026-11-29 03:14:15 UTC", None)
    assert format_times(moment, "Not/AZone") == ("2026-11-29 03:14:15 UTC", None)


@pytest.mark.parametrize(
    ("region", "partition", "expected"),
    [
        (
            "ap-northeast-1",
            "aws",
            "https://ap-northeast-1.console.aws.amazon.com/cloudwatch/home?region=ap-northeast-1",
        ),
        ("cn-north-1", "aws-cn", "https://cn-north-1.console.amazonaws.cn/cloudwatch/home?region=cn-north-1"),
        ("us-gov-west-1", "aws-us-gov", "https://console.amazonaws-us-gov.com/cloudwatch/home?region=us-gov-west-1"),
        ("cn-northwest-1", None, "https://cn-northwest-1.console.amazonaws.cn/cloudwatch/home?region=cn-northwest-1"),
    ],
)
def test_console_link_is_partition_aware_and_encodes_the_name(
    region: str, partition: str | None, expected: str
) -> None:
    alert = Alert(source=SourceKind.SNS_ALARM, alarm_name="a b/c|d日本", region=region, partition=partition)
    assert alarm_console_url(alert) == f"{expected}#alarmsV2:alarm/a%20b%2Fc%7Cd%E6%97%A5%E6%9C%AC"


def test_no_console_link_without_region() -> None:
    assert alarm_console_url(Alert(source=SourceKind.SNS_ALARM, alarm_name="a")) is None


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            {
                "NewStateValue": "ALARM",
                "NewStateReason": "[93.4 (29/11/26 03:09:00)]",
                "Trigger": {
                    "MetricName": "CPUUtilization",
                    "ComparisonOperator": "GreaterThanThreshold",
                    "Threshold": 80,
                    "Period": 60,
                    "EvaluationPeriods": 5,
                },
            },
            "CPUUtilization 93.4% > 80% for 5 min",
        ),
        (
            {
                "NewStateValue": "ALARM",
                "Trigger": {
                    "ThresholdMetricId": "ad1",
                    "ComparisonOperator": "LessThanLowerThreshold",
                    "Metrics": [
                        {"Id": "ad1", "Expression": "ANOMALY_DETECTION_BAND(m1)"},
                        {
                            "Id": "m1",
                            "MetricStat": {"Metric": {"MetricName": "RequestCount", "Namespace": "AWS/ApplicationELB"}},
                        },
                    ],
                },
            },
            "RequestCount below the expected band",
        ),
        (
            {
                "NewStateValue": "ALARM",
                "AlarmRule": "ALARM(a) OR ALARM(b)",
                "TriggeringChildren": [{"Arn": "arn:aws:cloudwatch:us-east-1:1:alarm:b"}],
            },
            "Triggered by b",
        ),
        ({"NewStateValue": "ALARM", "AlarmRule": "ALARM(a) OR ALARM(b)"}, "Rule ALARM(a) OR ALARM(b)"),
        ({"NewStateValue": "ALARM", "NewStateReason": "free text"}, "free text"),
    ],
)
def test_human_reason(message: dict[str, Any], expected: str) -> None:
    alert = parse_sns_message(json.dumps({"AlarmName": "n", **message}))
    assert human_reason(alert) == expected


def test_recovery_header_has_no_severity_and_green_colour() -> None:
    payload = rendered(Alert(source=SourceKind.SNS_ALARM, state=State.OK, previous_state=State.ALARM, alarm_name="x"))
    assert headline(payload) == "✅ RESOLVED · x · staging"
    assert payload["attachments"][0]["color"] == State.OK.colour


def test_dashboard_link_keeps_its_query() -> None:
    payload = rendered(Alert(source=SourceKind.SNS_ALARM, state=State.ALARM, alarm_name="x"))
    assert buttons(payload)["dashboard"] == "https://dash.example/d?a=1&b=2"


def test_without_a_known_display_zone_the_utc_time_is_still_converted_to_utc() -> None:
    tokyo = datetime(2026, 11, 29, 12, 14, 15, tzinfo=timezone(timedelta(hours=9)))
    assert format_times(tokyo, "Not/AZone") == ("2026-11-29 03:14:15 UTC", None)
    assert format_times(tokyo, "Asia/Tokyo") == ("2026-11-29 03:14:15 UTC", "2026-11-29 12:14:15 JST")


def test_an_alarm_with_an_unknown_state_keeps_name_description_and_reason() -> None:
    message = {
        "AlarmName": "rds-free-storage-low",
        "AlarmDescription": "RDS free storage below 10 GB",
        "NewStateReason": "Threshold Crossed: 1 datapoint",
        "NewStateValue": "PENDING",
    }
    payload = rendered(parse_sns_message(json.dumps(message)))
    text = all_text(payload)
    assert headline(payload).endswith("rds-free-storage-low · staging")
    for expected in ("rds-free-storage-low", "RDS free storage below 10 GB", "Threshold Crossed: 1 datapoint"):
        assert expected in text
    assert slack_problems(payload) == []


def test_the_fallback_rendering_keeps_the_alerts_facts() -> None:
    alert = parse_sns_message(
        json.dumps({"AlarmName": "a<b", "AlarmDescription": "desc", "NewStateValue": "ALARM", "NewStateReason": "r"})
    )
    payload = render_fallback(alert, CONTEXT, Severity.CRITICAL)
    text = all_text(payload)
    assert "Alarm: a&lt;b" in text
    assert "Description: desc" in text
    assert "Reason: r" in text
    assert slack_problems(payload) == []
    # And the header still says how bad it is: a critical alarm does not turn into INFO
    assert headline(payload) == "🔴 CRITICAL · a<b · staging"


# --- Slack's count: emoji as their short codes ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("ALARM", 5),
        ("日本語のアラーム", 8),  # one each: Slack takes 2,500 kana in a section, so not bytes
        ("→ · …", 5),  # punctuation is not emoji
        ("✅", len(":white_check_mark:")),  # Slack stores our emoji as their short codes
        ("🔴", len(":red_circle:")),
        ("ℹ️", len(":information_source:") + 1),  # noqa: RUF001 - and the variation selector
        ("🔥", len(":man_in_business_suit_levitating:")),  # any other emoji: at least the longest short code
        ("\U0001d400", 2),  # MATHEMATICAL BOLD CAPITAL A: outside the BMP, not an emoji: two UTF-16 code units
    ],
)
def test_slack_length_counts_emoji_as_slack_may(text: str, length: int) -> None:
    assert slack_length(text) >= length
    if not any(char in text for char in "🔥"):
        assert slack_length(text) == length


def test_an_alarm_named_in_emoji_still_fits_the_header_as_slack_counts_it() -> None:
    # Given an alarm whose name is mostly emoji (the old count let 150 of them into a 150-character header)
    name = "🔥" * 140 + "-checkout"
    alert = parse_sns_message(json.dumps({"AlarmName": name, "NewStateValue": "ALARM", "NewStateReason": "r"}))
    payload = rendered(alert)
    header = headline(payload)
    # Then the name is cut, visibly, to what Slack accepts, the rest of the headline kept, and the message is valid
    assert slack_length(header) <= 150
    assert header.endswith("… · staging")
    assert slack_problems(payload) == []
