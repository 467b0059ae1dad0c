"""The router's logs and metrics: the Powertools singletons, the counters, and what a log line keeps of an alert.

Metrics (EMF, namespace POWERTOOLS_METRICS_NAMESPACE, default PeopleBooster/AlertRouter), all Count, with the
dimensions service + environment unless said otherwise:
    Received, Unparsed, Suppressed, Duplicates, Retries, DeliveryFailures
    Grouped (alerts folded into another's message), DigestMessages (storm digest messages posted)
    Delivered (alerts, by the channel of the message that carried them)  dimensions: + channel, severity
    fallbacks, each with an alarm (infra/constructs/alert_router.py):
        ParseFailures        a parser failed; the alert was posted as received, routed by its Severity line
        RenderFailures       a renderer failed; the alert was posted as received
        IdempotencyDegraded  the idempotency store failed; delivered without it (may post twice)
        PlainTextFallbacks   Slack refused the Block Kit message; it was posted as plain text
        UpdateFailures       bot-token mode: chat.update failed; the sweep repeats it
    bot-token mode: IncidentsOpened, ThreadReplies, Updates, Silenced, RepeatAnnouncements, FlappingNotices,
    BlindNotices (monitoring-blind notices posted), ReAnchored (a deleted thread parent posted again; a person
    deleted it, so no alarm), and from the sweep the OpenIncidents gauge and SweepFailures
`service` is always "alert-router" (set explicitly, so POWERTOOLS_SERVICE_NAME cannot change the
dimension set under the alarms).
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from lambdas.alert_router.delivery.engine import DeliveryError, DeliveryReport
from lambdas.alert_router.delivery.idempotency import DeliveryInProgress, Result
from lambdas.alert_router.models import Alert, SourceKind, State
from lambdas.alert_router.routing.route import Route, data_arriving_after_deploy
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


def note_routed(alert: Alert, decision: Route, *, stateful: bool) -> None:
    """Log the routing decision and count what it says about the input (unparsed, a parser failure, held back)."""
    logger.info("routed", extra=routed_log(alert, decision))
    if alert.state is State.OK and alert.previous_state is State.INSUFFICIENT_DATA:
        why = "incident lifecycle decides (bot-token mode)" if stateful else data_arriving_after_deploy(alert)[1]
        logger.info("INSUFFICIENT_DATA -> OK", extra={"announced": not decision.suppressed, "why": why})
    if alert.is_unparsed:
        count("Unparsed")
    if alert.parse_error:
        count("ParseFailures")
        logger.error(
            "parser failed: delivered as received",
            extra={"error_type": alert.parse_error, "error": alert.parse_error_detail},
        )
    if decision.suppressed:
        count("Suppressed")
        logger.info("suppressed", extra={"note": decision.note})


def webhook_result(report: DeliveryReport) -> Result:
    """A webhook delivery as the handler returns it, logged and counted."""
    if report.attempts:
        logger.info("delivered", extra={"channel": report.channel, "attempts": attempts_log(report.attempts)})
    if report.plain_text_fallback:
        count("PlainTextFallbacks")
        logger.warning(
            "Slack refused the message: delivered as plain text", extra={"attempts": attempts_log(report.attempts)}
        )
    return {
        "status": "dry-run" if report.dry_run else "delivered",
        "channel": report.channel,
        "attempts": len(report.attempts),
        "retries": report.retries,
        "plain_text_fallback": report.plain_text_fallback,
    }


def note_degraded(why: str | None) -> None:
    """The idempotency store could not be used for one alert (claim, remember or forget): said and counted."""
    if why:
        count("IdempotencyDegraded")
        logger.warning(
            "idempotency unavailable: delivered without it (a redelivery may post twice)",
            extra={"error": why, "error_type": why.split(":", 1)[0]},
        )


def record_failure(alert: Alert, error: Exception) -> tuple[Result, str]:
    """A record that did not get through: logged with its cause, counted; (its result, its line in the raise)."""
    record = alert.message_id or "record"
    if isinstance(error, DeliveryInProgress):  # the event's retry will find it delivered
        logger.warning("record in progress elsewhere: the event is retried later", extra={"error": str(error)})
        return {"message_id": alert.message_id, "status": "in-progress"}, f"{record}: in progress elsewhere"
    count("DeliveryFailures")
    if isinstance(error, DeliveryError):
        count("Retries", max(0, len(error.attempts) - 1))
        logger.error(
            "delivery failed",
            extra={"channel": error.channel, "error": str(error), "attempts": attempts_log(error.attempts)},
        )
        return {"message_id": alert.message_id, "status": "failed", "error": str(error)}, f"{record}: {error}"
    logger.exception("record not handled", extra={"error_type": type(error).__name__})  # a bug
    name = type(error).__name__
    return {"message_id": alert.message_id, "status": "failed", "error": name}, f"{record}: {name}"
