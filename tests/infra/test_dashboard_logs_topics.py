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


def test_dashboard_leads_with_the_alarm_overview_then_availability_then_the_service_then_our_pipeline(
    staging: Synthesized,
) -> None:
    # Given the dashboard in its reading order (CloudWatch lays widgets out in the order of the body)
    widgets = _dashboard(staging)["widgets"]
    headers = [w["properties"]["markdown"] for w in widgets if w["type"] == "text"]
    # Then every alarm's state comes first, then "is it up", then the service's parts, then the router's own rows
    assert headers == [
        "## Alarms",
        "## Availability: synthetic checks",
        "## ECS (Fargate)",
        "## Load balancer (ALB)",
        "## Database (RDS)",
        "## Cache (ElastiCache Redis)",
        "## Service health from /health and /health/metrics",
        "## Alert router",
        "## Incidents",
        "## Sentry intake",
        "## Slack buttons",
    ]
    assert widgets[1]["type"] == "alarm"
    # And the availability row opens with every check's success (1 = up), the front end's included
    first_graph = widgets[3]["properties"]
    assert first_graph["title"] == "Synthetic checks up (1 = up)"
    checks = {metric[-1]["label"] for metric in first_graph["metrics"]}
    assert checks == {"live", "ready", "health", "metrics", "frontend"}


def test_graphs_with_alarms_show_the_threshold(staging: Synthesized) -> None:
    widgets = _widgets_by_title(staging)
    latency = widgets["ALB target response time (s)"]["properties"]
    assert [a["value"] for a in latency["annotations"]["horizontal"]] == [3]
    labels = [metric[-1]["label"] for metric in latency["metrics"]]
    assert labels == [f"{tg} {stat}" for tg in ("backend", "frontend") for stat in ("p50", "p95", "p99")]
    rds = widgets["RDS connections"]["properties"]
    assert [a["value"] for a in rds["annotations"]["horizontal"]] == [180]  # 80% of max_connections 225


def test_target_group_graphs_tell_backend_from_frontend(staging: Synthesized) -> None:
    # Given the ALB row's graphs; then each target-group line carries both dimensions AWS documents
    # for target-group metrics: TargetGroup and LoadBalancer
    # https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html
    widgets = _widgets_by_title(staging)
    groups = {tg.name: tg.full_name for tg in staging.config.alb.target_groups}
    for title in ("ALB requests per minute", "ALB target response time (s)", "ALB healthy / unhealthy targets"):
        metrics = widgets[title]["properties"]["metrics"]
        # a line drawn through an expression is labelled on the expression; its metric is hidden, with an id
        labels = {m[0]["expression"].split()[0]: m[0]["label"] for m in metrics if "expression" in m[0]}
        for metric in (m for m in metrics if "expression" not in m[0]):
            _namespace, _name, *dims, options = metric
            pairs = dict(zip(dims[::2], dims[1::2], strict=True))
            assert pairs["LoadBalancer"] == staging.config.alb.full_name, title
            tg = options["label"].split()[0] if "label" in options else labels[options["id"]]
            assert pairs["TargetGroup"] == groups[tg], title


def test_log_groups_have_the_reports_retention_and_kms(synthesized: dict[str, Synthesized]) -> None:
    # Production's logs outlive the stack; staging may drop all but the audit trail. A failed first
    # create still deletes them (RetainExceptOnCreate), so the same deploy can run again.
    kept = "RetainExceptOnCreate"
    expected = {
        "staging": {
            "application": (30, "Delete"),
            "access": (30, "Delete"),
            "error": (90, "Delete"),
            "audit": (365, kept),
        },
        "production": {"application": (30, kept), "access": (30, kept), "error": (90, kept), "audit": (365, kept)},
    }
    for environment, kinds in expected.items():
        groups = {
            group["Properties"]["LogGroupName"]: group
            for group in synthesized[environment].resources("AWS::Logs::LogGroup").values()
            if group["Properties"]["LogGroupName"].startswith("/aws/ecs/")
        }
        assert set(groups) == {f"/aws/ecs/{environment}/{kind}" for kind in kinds}
        for kind, (days, deletion) in kinds.items():
            group = groups[f"/aws/ecs/{environment}/{kind}"]
            assert group["Properties"]["RetentionInDays"] == days, kind
            assert "KmsKeyId" in group["Properties"], kind
            assert group["DeletionPolicy"] == deletion, (environment, kind)


def test_nothing_is_plain_retain_so_a_failed_first_deploy_leaves_nothing(synthesized: dict[str, Synthesized]) -> None:
    # A plain Retain survives the rollback of the create that made it: the fixed-name secrets and log groups
    # then make the next create fail with "already exists", and each attempt leaves a KMS key behind.
    for synth in synthesized.values():
        plain = [lid for lid, r in synth.raw["Resources"].items() if r.get("DeletionPolicy") == "Retain"]
        assert plain == [], synth.config.environment
        kept = [r for r in synth.raw["Resources"].values() if r.get("DeletionPolicy") == "RetainExceptOnCreate"]
        assert all(r.get("UpdateReplacePolicy") == "Retain" for r in kept)
        assert any(r["Type"] == "AWS::KMS::Key" for r in kept)


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
