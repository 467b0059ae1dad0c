"""Alert router Lambda: SNS (or EventBridge) alarm notifications -> the right Slack channel, none lost.

The edge of the function: it wires settings, the pure core (parsing -> routing -> rendering) and the I/O
adapters (Slack webhooks, idempotency store), and owns logging, metrics, tracing and Sentry.
Environment variables are documented in lambdas/alert_router/settings.py.

Every record of the event is handled; a record that cannot be delivered does not stop the others, and
makes the invocation raise at the end, so Lambda's async retries and then the dead-letter destination
keep the original event. Successfully delivered records are remembered by message id, so the retry
does not post them twice.

Bot-token mode (a bot token instead of webhooks, see settings.py) adds the incident lifecycle
(lifecycle.py): one thread per incident, resolved in place, repeats, flapping, silences; a scheduled event
(`{"source": "aws.events", "detail-type": "Scheduled Event"}` or `{"action": "sweep"}`) runs the sweep.

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

import functools
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from lambdas.alert_router.idempotency import Deduplicator, DynamoDBDeduplicator, InMemoryDeduplicator, Result
from lambdas.alert_router.models import Alert, SourceKind, State
from lambdas.alert_router.parsing import is_sentry_envelope, parse_event
from lambdas.alert_router.rendering import Payload, RenderContext, render, render_fallback
from lambdas.alert_router.routing import Route, data_arriving_after_deploy, route
from lambdas.alert_router.settings import BotConfig, Settings, load_bot, load_settings, load_webhooks
from lambdas.alert_router.slack import DeliveryError, DryRunSender, Sender, WebhookSender
from lambdas.shared.observability import init_sentry, scrub_secrets, traced

if TYPE_CHECKING:  # bot-token mode's modules import slack_sdk: loaded only when that mode is on
    from lambdas.alert_router.incident_store import IncidentStore
    from lambdas.alert_router.lifecycle import Lifecycle
    from lambdas.alert_router.slack_api import SlackApi

SERVICE = "alert-router"
METRICS_NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "PeopleBooster/AlertRouter"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE)
init_sentry(SERVICE)


@traced
@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(
    event: dict[str, Any],
    context: Any,
    *,
    sender: Sender | None = None,
    deduplicator: Deduplicator | None = None,
    slack_api: SlackApi | None = None,
    store: IncidentStore | None = None,
    now: Callable[[], float] | None = None,
) -> dict[str, Any]:
    settings = load_settings()
    metrics.set_default_dimensions(environment=settings.environment)
    bot = load_bot(settings)
    lifecycle = _lifecycle(settings, bot, context, slack_api, store, now) if bot is not None else None
    if _is_sweep(event):
        if lifecycle is None:
            logger.info("sweep skipped: webhook mode keeps no incident state")
            return {"sweep": "skipped", "reason": "webhook mode"}
        return lifecycle.sweep()
    alerts = parse_event(event)
    metrics.add_metric(name="Received", unit=MetricUnit.Count, value=len(alerts))
    if lifecycle is None:
        sender = sender or default_sender(settings, context)
    deduplicator = deduplicator or default_deduplicator(settings, context)

    results: list[dict[str, Any]] = []
    failures: list[str] = []
    for alert in alerts:
        logger.set_correlation_id(alert.message_id)
        try:
            results.append(handle_alert(alert, settings, sender, deduplicator, lifecycle))
        except DeliveryError as error:
            _count("DeliveryFailures")
            _count("Retries", max(0, len(error.attempts) - 1))
            logger.error(
                "delivery failed",
                extra={
                    "channel": error.channel,
                    "error": str(error),
                    "attempts": _attempts_log(error.attempts),
                },
            )
            failures.append(f"{alert.message_id or 'record'}: {error}")
            results.append({"message_id": alert.message_id, "status": "failed", "error": str(error)})
        except Exception as error:  # e.g. the same message in progress elsewhere: retry the event later
            _count("DeliveryFailures")
            logger.exception("record not handled")
            failures.append(f"{alert.message_id or 'record'}: {type(error).__name__}")
            results.append({"message_id": alert.message_id, "status": "failed", "error": type(error).__name__})
    logger.set_correlation_id(None)
    if failures:
        raise DeliveryError(f"{len(failures)} of {len(alerts)} records not delivered: " + "; ".join(failures))
    return {"results": results}


def handle_alert(
    alert: Alert,
    settings: Settings,
    sender: Sender | None,
    deduplicator: Deduplicator,
    lifecycle: Lifecycle | None = None,
) -> dict[str, Any]:
    decision = route(alert, settings.routing, stateful=lifecycle is not None)
    logger.info("routed", extra=_routed_log(alert, decision))
    if alert.state is State.OK and alert.previous_state is State.INSUFFICIENT_DATA:
        logger.info(
            "INSUFFICIENT_DATA -> OK",
            extra={
                "announced": not decision.suppressed,
                "why": "incident lifecycle decides (bot-token mode)"
                if lifecycle is not None
                else data_arriving_after_deploy(alert)[1],
            },
        )
    if alert.is_unparsed:
        _count("Unparsed")
    base = {"message_id": alert.message_id, "alarm_name": alert.alarm_name}
    if decision.channel is None:
        _count("Suppressed")
        logger.info("suppressed", extra={"note": decision.note})
        return {**base, "status": "suppressed", "note": decision.note}

    channel = decision.channel
    payload = _render(alert, decision, settings.render_context(alert.region))

    def deliver() -> Result:
        if lifecycle is not None:
            return lifecycle.handle(alert, decision, payload)
        assert sender is not None  # webhook mode always has a sender
        report = sender.send(channel, payload)
        if report.attempts:
            logger.info("delivered", extra={"channel": channel, "attempts": _attempts_log(report.attempts)})
        return {
            **base,
            "status": "dry-run" if report.dry_run else "delivered",
            "channel": channel,
            "attempts": len(report.attempts),
            "plain_text_fallback": report.plain_text_fallback,
        }

    if alert.dedup_key:  # Sentry's delivery id for Sentry webhooks, else the SNS MessageId
        result, duplicate = deduplicator.run_once(alert.dedup_key, deliver)
    else:
        result, duplicate = deliver(), False
    if duplicate:
        _count("Duplicates")
        logger.info("duplicate message, already delivered", extra={"channel": channel})
        return {**result, "status": "duplicate"}
    if lifecycle is not None:
        _count("Retries", int(result.get("retries", 0)))
        logger.info("incident", extra={"outcome": result.get("outcome"), "status": result.get("status")})
        if result.get("status") == "delivered":
            _count_delivered(settings, channel, decision)
        return result
    _count("Retries", max(0, int(result.get("attempts", 0)) - 1))
    _count_delivered(settings, channel, decision)
    return result


def _routed_log(alert: Alert, decision: Route) -> dict[str, Any]:
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


def _render(alert: Alert, decision: Route, context: RenderContext) -> Payload:
    """A rendering bug must not lose the alert: it is then posted as received, and counted."""
    try:
        return render(alert, decision, context)
    except Exception:
        logger.exception("rendering failed: posting the alert as received")
        _count("RenderFailures")
        return render_fallback(alert, context)


def _is_sweep(event: object) -> bool:
    # kept here, not in lifecycle.py, so webhook mode does not import slack_sdk for it
    if not isinstance(event, dict):
        return False
    scheduled = event.get("source") == "aws.events" and event.get("detail-type") == "Scheduled Event"
    return scheduled or event.get("action") == "sweep"


def _lifecycle(  # noqa: PLR0917 - the handler's injectable adapters, passed through
    settings: Settings,
    bot: BotConfig,
    context: Any,
    slack_api: SlackApi | None,
    store: IncidentStore | None,
    now: Callable[[], float] | None,
) -> Lifecycle:
    from lambdas.alert_router.lifecycle import Lifecycle  # noqa: PLC0415 - bot-token mode only (slack_sdk)
    from lambdas.alert_router.slack_api import WebApiClient  # noqa: PLC0415

    def remaining() -> float:
        return float(context.get_remaining_time_in_millis()) / 1000

    lifecycle = Lifecycle(
        settings=settings,
        bot=bot,
        api=slack_api or WebApiClient(token=bot.token, base_url=bot.base_url, remaining_seconds=remaining),
        store=store or default_store(settings),
        count=_count,
        logger=logger,
        remaining_seconds=remaining,
    )
    if now is not None:
        lifecycle.now = now
    return lifecycle


def default_store(settings: Settings) -> IncidentStore:
    if settings.incident_table:
        return _dynamodb_store(settings.incident_table)
    return _in_memory_store()


@functools.cache
def _dynamodb_store(table: str) -> IncidentStore:
    from lambdas.alert_router.incident_store import DynamoDBIncidentStore  # noqa: PLC0415

    return DynamoDBIncidentStore(table)


@functools.cache
def _in_memory_store() -> IncidentStore:
    # one per process: several events handled by one local process see the same incidents
    from lambdas.alert_router.incident_store import InMemoryIncidentStore  # noqa: PLC0415

    return InMemoryIncidentStore()


def default_sender(settings: Settings, context: Any) -> Sender:
    webhooks = load_webhooks(settings)
    if webhooks is None:
        return DryRunSender()
    sender = _webhook_sender(tuple(sorted(webhooks.items())))
    sender.remaining_seconds = lambda: context.get_remaining_time_in_millis() / 1000
    return sender


@functools.lru_cache(maxsize=4)
def _webhook_sender(webhooks: tuple[tuple[str, str], ...]) -> WebhookSender:
    # One sender per process (and per webhook set, so a rotated secret takes effect): it keeps the spacing.
    return WebhookSender(webhooks=dict(webhooks))


def default_deduplicator(settings: Settings, context: Any) -> Deduplicator:
    if settings.idempotency_table:
        deduplicator = _dynamodb_deduplicator(settings.idempotency_table, settings.idempotency_ttl_seconds)
        deduplicator.register_lambda_context(context)
        return deduplicator
    return _in_memory_deduplicator(settings.idempotency_ttl_seconds)


@functools.cache
def _dynamodb_deduplicator(table: str, ttl_seconds: int) -> DynamoDBDeduplicator:
    return DynamoDBDeduplicator(table, ttl_seconds)


@functools.cache
def _in_memory_deduplicator(ttl_seconds: int) -> InMemoryDeduplicator:
    return InMemoryDeduplicator(ttl_seconds=ttl_seconds)


def _count(name: str, value: int = 1) -> None:
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def _count_delivered(settings: Settings, channel: str, decision: Route) -> None:
    with single_metric(
        name="Delivered",
        unit=MetricUnit.Count,
        value=1,
        namespace=METRICS_NAMESPACE,
        default_dimensions={"service": SERVICE, "environment": settings.environment},
    ) as metric:
        metric.add_dimension(name="channel", value=channel)
        metric.add_dimension(name="severity", value=decision.severity.value)


def _attempts_log(attempts: tuple[Any, ...]) -> list[dict[str, Any]]:
    return [
        {"status": a.status, "verdict": a.verdict.value, "answer": a.answer, "waited_s": round(a.waited, 3)}
        for a in attempts
    ]
