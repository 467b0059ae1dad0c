"""Alert router Lambda: SNS (or EventBridge) alarm notifications -> the right Slack channel, none lost.

The edge of the function and the only module that knows every stage: it wires the settings, the pure core
(intake -> routing -> rendering) and the I/O (delivery to Slack, idempotency, bot-token mode's incidents),
and owns logging, metrics (telemetry.py), tracing and Sentry. Environment variables: settings.py.

Every record of the event is handled; a record that cannot be delivered does not stop the others, and
makes the invocation raise at the end, so Lambda's async retries and then the dead-letter destination
keep the original event. Successfully delivered records are remembered by message id, so the retry
does not post them twice.

Bot-token mode (a bot token instead of webhooks, see settings.py) adds the incident lifecycle
(incidents/): one thread per incident, resolved in place, repeats, flapping, silences; a scheduled event
runs the sweep (intake.events.is_sweep); a click on an incident's buttons arrives from the interactivity
endpoint as an action event (lambdas/shared/slack_actions.py). Maintenance windows (config) apply in both
modes; webhook mode checks them before posting.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from lambdas.alert_router.delivery.defaults import default_deduplicator, default_sender
from lambdas.alert_router.delivery.engine import DeliveryError
from lambdas.alert_router.delivery.idempotency import Deduplicator, Once, Result
from lambdas.alert_router.delivery.webhook import Sender
from lambdas.alert_router.incidents.model import incident_key
from lambdas.alert_router.incidents.silences import active_window
from lambdas.alert_router.intake.events import is_sweep, parse_event
from lambdas.alert_router.models import Alert, Payload
from lambdas.alert_router.rendering.context import RenderContext
from lambdas.alert_router.rendering.render import render
from lambdas.alert_router.rendering.unparsed import render_fallback
from lambdas.alert_router.routing.route import Route, route
from lambdas.alert_router.settings import Settings, load_bot, load_settings
from lambdas.alert_router.telemetry import (
    SERVICE,
    count,
    count_delivered,
    logger,
    metrics,
    note_once,
    note_routed,
    record_failure,
    webhook_result,
)
from lambdas.shared.observability import init_sentry, traced
from lambdas.shared.slack_actions import ActionEventError, parse_action_event

if TYPE_CHECKING:  # bot-token mode's modules are imported only when that mode is on
    from lambdas.alert_router.delivery.web_api import SlackApi
    from lambdas.alert_router.incidents.loop import Lifecycle
    from lambdas.alert_router.incidents.store import IncidentStore

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
    lifecycle = None
    if bot is not None:
        from lambdas.alert_router.incidents.defaults import build_lifecycle  # noqa: PLC0415 - bot-token mode only

        lifecycle = build_lifecycle(settings, bot, context, slack_api, store, now, count=count, logger=logger)
    if is_sweep(event):
        if lifecycle is None:
            logger.info("sweep skipped: webhook mode keeps no incident state")
            return {"sweep": "skipped", "reason": "webhook mode"}
        return lifecycle.sweep()
    try:
        action = parse_action_event(event)
    except ActionEventError as error:  # the endpoint's bug: kept by Lambda's retries and the dead-letter queue
        logger.error("action event refused", extra={"error": str(error)})
        raise
    if action is not None:
        if lifecycle is None:
            logger.warning("Slack action ignored: webhook mode has no incidents", extra={"action_id": action.action_id})
            return {"action": "ignored", "reason": "webhook mode"}
        return lifecycle.act(action)
    alerts = parse_event(event)
    count("Received", len(alerts))
    if lifecycle is None:
        sender = sender or default_sender(settings, context)
    deduplicator = deduplicator or default_deduplicator(settings, context)

    results: list[dict[str, Any]] = []
    failures: list[str] = []
    for alert in alerts:
        logger.set_correlation_id(alert.message_id)
        try:
            results.append(handle_alert(alert, settings, sender, deduplicator, lifecycle))
        except Exception as error:  # delivery failed, in progress elsewhere, or a bug: the event is retried
            result, failure = record_failure(alert, error)
            results.append(result)
            failures.append(failure)
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
    note_routed(alert, decision, stateful=lifecycle is not None)
    base = {"message_id": alert.message_id, "alarm_name": alert.alarm_name}
    if decision.channel is None:
        return {**base, "status": "suppressed", "note": decision.note}
    channel = decision.channel
    if lifecycle is None and incident_key(alert) is not None:  # bot-token mode applies windows in its loop
        window = active_window(alert.alarm_name, settings.maintenance_windows, datetime.now(UTC))
        if window is not None:
            count("Silenced")
            logger.info("silenced by a maintenance window", extra={"window": window.name, "match": window.match})
            return {**base, "status": "silenced", "window": window.name}
    payload = _render(alert, decision, settings.render_context(alert.region))

    def deliver() -> Result:
        if lifecycle is not None:
            return lifecycle.handle(alert, decision, payload)
        assert sender is not None  # webhook mode always has a sender
        return {**base, **webhook_result(sender.send(channel, payload))}

    # Sentry's delivery id for Sentry webhooks, else the SNS MessageId
    once = deduplicator.run_once(alert.dedup_key, deliver) if alert.dedup_key else Once(deliver())
    note_once(once, channel)
    if once.duplicate:
        return {**once.result, "status": "duplicate"}
    count("Retries", int(once.result.get("retries", 0)))
    if once.result.get("status") in ("delivered", "dry-run"):
        count_delivered(settings.environment, channel, decision)
    return once.result


def _render(alert: Alert, decision: Route, context: RenderContext) -> Payload:
    """A rendering bug must not lose the alert: it is then posted as received, and counted."""
    try:
        return render(alert, decision, context)
    except Exception:
        logger.exception("rendering failed: posting the alert as received")
        count("RenderFailures")
        return render_fallback(alert, context, decision.severity)
