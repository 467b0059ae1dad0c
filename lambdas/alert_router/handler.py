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
runs the sweep (intake.events.is_sweep).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lambdas.alert_router.delivery.defaults import default_deduplicator, default_sender
from lambdas.alert_router.delivery.engine import DeliveryError
from lambdas.alert_router.delivery.idempotency import Deduplicator, Result
from lambdas.alert_router.delivery.webhook import Sender
from lambdas.alert_router.intake.events import is_sweep, parse_event
from lambdas.alert_router.models import Alert, Payload, State
from lambdas.alert_router.rendering.context import RenderContext
from lambdas.alert_router.rendering.render import render
from lambdas.alert_router.rendering.unparsed import render_fallback
from lambdas.alert_router.routing.route import Route, data_arriving_after_deploy, route
from lambdas.alert_router.settings import Settings, load_bot, load_settings
from lambdas.alert_router.telemetry import SERVICE, attempts_log, count, count_delivered, logger, metrics, routed_log
from lambdas.shared.observability import init_sentry, traced

if TYPE_CHECKING:  # bot-token mode's modules import slack_sdk: loaded only when that mode is on
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
        except DeliveryError as error:
            count("DeliveryFailures")
            count("Retries", max(0, len(error.attempts) - 1))
            logger.error(
                "delivery failed",
                extra={"channel": error.channel, "error": str(error), "attempts": attempts_log(error.attempts)},
            )
            failures.append(f"{alert.message_id or 'record'}: {error}")
            results.append({"message_id": alert.message_id, "status": "failed", "error": str(error)})
        except Exception as error:  # e.g. the same message in progress elsewhere: retry the event later
            count("DeliveryFailures")
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
    logger.info("routed", extra=routed_log(alert, decision))
    if alert.state is State.OK and alert.previous_state is State.INSUFFICIENT_DATA:
        why = "incident lifecycle decides (bot-token mode)" if lifecycle else data_arriving_after_deploy(alert)[1]
        logger.info("INSUFFICIENT_DATA -> OK", extra={"announced": not decision.suppressed, "why": why})
    if alert.is_unparsed:
        count("Unparsed")
    base = {"message_id": alert.message_id, "alarm_name": alert.alarm_name}
    if decision.channel is None:
        count("Suppressed")
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
            logger.info("delivered", extra={"channel": channel, "attempts": attempts_log(report.attempts)})
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
        count("Duplicates")
        logger.info("duplicate message, already delivered", extra={"channel": channel})
        return {**result, "status": "duplicate"}
    if lifecycle is not None:
        count("Retries", int(result.get("retries", 0)))
        logger.info("incident", extra={"outcome": result.get("outcome"), "status": result.get("status")})
        if result.get("status") == "delivered":
            count_delivered(settings.environment, channel, decision)
        return result
    count("Retries", max(0, int(result.get("attempts", 0)) - 1))
    count_delivered(settings.environment, channel, decision)
    return result


def _render(alert: Alert, decision: Route, context: RenderContext) -> Payload:
    """A rendering bug must not lose the alert: it is then posted as received, and counted."""
    try:
        return render(alert, decision, context)
    except Exception:
        logger.exception("rendering failed: posting the alert as received")
        count("RenderFailures")
        return render_fallback(alert, context)
