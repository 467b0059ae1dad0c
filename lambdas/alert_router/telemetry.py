"""The router's logs and metrics: the Powertools singletons, the counters, and what a log line keeps of an alert.

Metrics (EMF, namespace POWERTOOLS_METRICS_NAMESPACE, default PeopleBooster/AlertRouter), all Count:
    Received, Unparsed, Suppressed, Duplicates, Retries, DeliveryFailures,
    RenderFailures (a rendering bug; the alert was posted as received instead)   dimensions: service, environment
    Delivered                                    dimensions: service, environment, channel, severity
    bot-token mode: IncidentsOpened, ThreadReplies, Updates, UpdateFailures, Silenced, RepeatAnnouncements,
    FlappingNotices, and from the sweep the OpenIncidents gauge and SweepFailures   dimensions: service, environment
`service` is always "alert-router" (set explicitly, so POWERTOOLS_SERVICE_NAME cannot change the
dimension set under the alarms).
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from lambdas.alert_router.models import Alert, SourceKind
from lambdas.alert_router.routing.route import Route
from lambdas.shared.observability import scrub_secrets
from lambdas.shared.sentry_envelope import is_sentry_envelope

SERVICE = "alert-router"
METRICS_NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "PeopleBooster/AlertRouter"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE)


def count(name: str, value: int = 1) -> None:
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def count_delivered(environment: str, channel: str, route: Route) -> None:
    with single_metric(
        name="Delivered",
        unit=MetricUnit.Count,
        value=1,
        namespace=METRICS_NAMESPACE,
        default_dimensions={"service": SERVICE, "environment": environment},
    ) as metric:
        metric.add_dimension(name="channel", value=channel)
        metric.add_dimension(name="severity", value=route.severity.value)


def routed_log(alert: Alert, decision: Route) -> dict[str, Any]:
    """What the log keeps of an alert. Sentry: ids only (titles and descriptions are exception text that
    may hold personal data, issue 8). CloudWatch: the full, untruncated reason, and for input the router
    could not read, the whole text as received (scrubbed) - Slack gets truncated versions."""
    routed: dict[str, Any] = {
        "source": alert.source.value,
        "state": alert.state.value if alert.state else None,
        "channel": decision.channel,
        "severity": decision.severity.value,
        "category": decision.category.value if decision.category else None,
        "decided_by": decision.decided_by,
        "note": decision.note,
    }
    if alert.source is SourceKind.SENTRY:
        facts = alert.sentry
        return {
            **routed,
            "dedup_key": alert.dedup_key,
            "sentry_resource": facts.resource if facts else None,
            "sentry_action": facts.action if facts else None,
            "sentry_project": facts.project if facts else None,
            "sentry_issue_id": facts.issue_id if facts else None,
            "sentry_rule_id": facts.alert_rule_id if facts else None,
            "sentry_level": facts.level if facts else None,
        }
    routed.update(
        alarm_name=alert.alarm_name,
        alarm_kind=alert.alarm_kind.value if alert.alarm_kind else None,
        previous_state=alert.previous_state.value if alert.previous_state else None,
        reason=alert.reason,
    )
    if alert.raw_text is not None:
        routed["raw_length"] = len(alert.raw_text)
        routed["raw_text"] = (
            "(a Sentry webhook: not logged)" if is_sentry_envelope(alert.raw_text) else scrub_secrets(alert.raw_text)
        )
    return routed


def attempts_log(attempts: tuple[Any, ...]) -> list[dict[str, Any]]:
    return [
        {"status": a.status, "verdict": a.verdict.value, "answer": a.answer, "waited_s": round(a.waited, 3)}
        for a in attempts
    ]
