"""Dashboard widgets, log groups and retention, encryption and the topic policy."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk.assertions import Match

from tests.infra.conftest import Synthesized, resolve_join

REPORT_WIDGETS = [
    "ECS CPU utilisation (%)",
    "ECS memory utilisation (%)",
    "ALB requests per minute",
    "ALB target response time (s)",
    "ALB 5xx / 4xx count",
    "RDS connections",
    "RDS CPU utilisation (%)",
    "RDS read / write IOPS",
    "Redis connections",
    "Redis memory usage (%)",
]


def _dashboard(synth: Synthesized) -> dict[str, Any]:
    (dashboard,) = synth.resources("AWS::CloudWatch::Dashboard").values()
    body: dict[str, Any] = json.loads(resolve_join(dashboard["Properties"]["DashboardBody"]))
    return body


def _widgets_by_title(synth: Synthesized) -> dict[str, dict[str, Any]]:
    return {
        widget["properties"]["title"]: widget
        for widget in _dashboard(synth)["widgets"]
        if "title" in widget.get("properties", {})
    }


def test_dashboard_has_the_reports_ten_widgets(staging: Synthesized) -> None:
    widgets = _widgets_by_title(staging)
    for title in REPORT_WIDGETS:
        assert title in widgets, title
        assert widgets[title]["type"] == "metric"


def test_dashboard_rows_have_headers_and_alarm_overview_comes_first(staging: Synthesized) -> None:
    widgets = _dashboard(staging)["widgets"]
    headers = [w["properties"]["markdown"] for w in widgets if w["type"] == "text"]
    assert headers[:5] == [
        "## Alarms",
        "## ECS (Fargate)",
        "## Load balancer (ALB)",
        "## Database (RDS)",
        "## Cache (ElastiCache Redis)",
    ]
    assert widgets[1]["type"] == "alarm"


def test_graphs_with_alarms_show_the_threshold(staging: Synthesized) -> None:
    widgets = _widgets_by_title(staging)
    latency = widgets["ALB target response time (s)"]["properties"]
    assert [a["value"] for a in latency["annotations"]["horizontal"]] == [3]
    stats = [metric[-1]["stat"] for metric in latency["metrics"]]
    assert stats == ["p50", "p95", "p99"]
    rds = widgets["RDS connections"]["properties"]
    assert [a["value"] for a in rds["annotations"]["horizontal"]] == [72]


def test_log_groups_have_the_reports_retention_and_kms(staging: Synthesized) -> None:
    expected = {
        "/aws/ecs/staging/application": (30, "Delete"),
        "/aws/ecs/staging/access": (30, "Delete"),
        "/aws/ecs/staging/error": (90, "Delete"),
        "/aws/ecs/staging/audit": (365, "Retain"),
    }
    groups = {
        group["Properties"]["LogGroupName"]: group
        for group in staging.resources("AWS::Logs::LogGroup").values()
        if group["Properties"]["LogGroupName"].startswith("/aws/ecs/")
    }
    assert set(groups) == set(expected)
    for name, (days, deletion) in expected.items():
        group = groups[name]
        assert group["Properties"]["RetentionInDays"] == days, name
        assert "KmsKeyId" in group["Properties"], name
        assert group["DeletionPolicy"] == deletion, name


def test_saved_queries_cover_the_first_questions(staging: Synthesized) -> None:
    queries = {
        q["Properties"]["Name"]: q["Properties"] for q in staging.resources("AWS::Logs::QueryDefinition").values()
    }
    assert set(queries) == {
        "peoplebooster-staging/recent-errors-by-route",
        "peoplebooster-staging/slowest-requests",
        "peoplebooster-staging/5xx-over-time",
        "peoplebooster-staging/audit-trail-for-one-user",
    }
    assert "status >= 500" in queries["peoplebooster-staging/5xx-over-time"]["QueryString"]
    assert "userId" in queries["peoplebooster-staging/audit-trail-for-one-user"]["QueryString"]


def test_topics_are_kms_encrypted_and_ssl_only(staging: Synthesized) -> None:
    topics = staging.resources("AWS::SNS::Topic")
    assert len(topics) >= 2
    for topic in topics.values():
        assert "KmsMasterKeyId" in topic["Properties"]
    staging.template.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Action": "sns:Publish",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        )
                    ]
                )
            }
        },
    )


def test_cloudwatch_may_use_the_topic_key(staging: Synthesized) -> None:
    staging.template.has_resource_properties(
        "AWS::KMS::Key",
        {
            "EnableKeyRotation": True,
            "KeyPolicy": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                                "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                            }
                        )
                    ]
                )
            },
        },
    )
