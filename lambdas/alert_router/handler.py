"""Alert router Lambda: alarm notifications (SQS batches from the alert topic; SNS, EventBridge and test
events too) -> the right Slack channel, one message per fault, none lost.

The edge of the function and the only module that knows every stage: it wires the settings, the pure core
(intake -> routing -> grouping -> rendering) and the I/O (delivery to Slack, idempotency, bot-token mode's
incidents), and owns logging, metrics (telemetry.py), tracing and Sentry. Environment variables: settings.py.

One batch, in order:
1. every record is parsed and routed (a record that cannot be read is still an alert, shown as received);
2. each alert is claimed by its message id (delivery/idempotency.py): one already delivered is a duplicate
   and posts nothing, so a redelivered batch, however SQS re-batches it, posts only what is new;
3. the claimed alerts are grouped (grouping/): one message per fault in its most severe member's channel,
   a digest for a channel that would get more than the storm threshold;
4. each message is rendered and posted; every alert it carries is then remembered, or, when its message
   failed, released and reported.
An SQS batch answers `{"batchItemFailures": [{"itemIdentifier": <messageId>}]}` with the records whose
alerts were not delivered (the event source mapping has ReportBatchItemFailures), so SQS delivers only
those again, and after `max_receive_count` receives moves them to the dead-letter queue. Why not Powertools'
BatchProcessor: it handles each record on its own, and a group message is one delivery for many records
(decisions.md). Any other event raises DeliveryError when a record failed (Lambda's retries, as before).

Bot-token mode (a bot token instead of webhooks, see settings.py) adds the incident lifecycle
(incidents/): one thread per incident and per group, resolved in place, repeats, flapping, silences; a
scheduled event runs the sweep (intake.events.is_sweep); a click on an incident's buttons arrives from the
interactivity endpoint as an action event (lambdas/shared/slack_actions.py). Maintenance windows (config)
apply in both modes; webhook mode checks them before grouping.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from lambdas.alert_router.delivery.defaults import default_deduplicator, default_sender
from lambdas.alert_router.delivery.engine import DeliveryError
from lambdas.alert_router.delivery.idempotency import Claim, Deduplicator, Result
from lambdas.alert_router.delivery.webhook import Sender
from lambdas.alert_router.enrichment.defaults import build_enricher
from lambdas.alert_router.enrichment.enrich import Enricher
from lambdas.alert_router.enrichment.model import NOTHING
from lambdas.alert_router.grouping.plan import Delivery, Digest, Group, Routed, plan_deliveries
from lambdas.alert_router.incidents.model import incident_key
from lambdas.alert_router.incidents.silences import active_window
from lambdas.alert_router.intake.events import is_sqs_event, is_sweep, parse_event
from lambdas.alert_router.models import Alert, Payload
from lambdas.alert_router.rendering.digest import DigestPage, render_digest
from lambdas.alert_router.rendering.group import named_fallback, render_group
from lambdas.alert_router.rendering.render import render
from lambdas.alert_router.rendering.unparsed import render_fallback
from lambdas.alert_router.routing.route import route
from lambdas.alert_router.settings import Settings, load_bot, load_settings
from lambdas.alert_router.telemetry import (
    SERVICE,
    count,
    count_delivered,
    logger,
    metrics,
    note_degraded,
    note_routed,
    record_failure,
    webhook_result,
)
from lambdas.shared.observability import init_sentry
from lambdas.shared.slack_actions import ActionEventError, parse_action_event

if TYPE_CHECKING:  # bot-token mode's modules are imported only when that mode is on
    from lambdas.alert_router.delivery.web_api import SlackApi
    from lambdas.alert_router.enrichment.graph import GraphPoster
    from lambdas.alert_router.incidents.loop import Lifecycle
    from lambdas.alert_router.incidents.store import IncidentStore

init_sentry(SERVICE)

# One message's outcome for each alert it carries: its result, or why it was not delivered.
Outcomes = list[tuple[Routed, Result | Exception]]


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
            count("ActionsIgnored")  # old buttons pressed after a switch back from bot-token mode
            return {"action": "ignored", "reason": "webhook mode"}
        return lifecycle.act(action)
    alerts = parse_event(event)
    count("Received", len(alerts))
    if lifecycle is None:
        sender = sender or default_sender(settings, context)
    # issue 13: the cause in the message, and (bot-token mode) the graph in the incident's thread
    enricher = build_enricher(settings.enrichment, context, count=count, logger=logger)
    graphs = _graph_poster(settings, bot, lifecycle, context)
    deduplicator = deduplicator or default_deduplicator(settings, context)
    batch = Batch(settings, deduplicator, sender, lifecycle, enricher=enricher, graphs=graphs)
    results, failures = batch.deliver(alerts)
    logger.set_correlation_id(None)
    if is_sqs_event(event):
        failed = sorted({record for i in failures if (record := alerts[i].record_id)})
        logger.info("batch done", extra={"records": len(alerts), "failed": len(failed), "posts": batch.posts})
        return {"batchItemFailures": [{"itemIdentifier": record} for record in failed]}
    if failures:
        raise DeliveryError(f"{len(failures)} of {len(alerts)} records not delivered: " + "; ".join(failures.values()))
    return {"results": results}


class Batch:
    """One invocation's alerts through claim -> group -> enrich -> render -> post -> remember (module docstring)."""

    def __init__(
        self,
        settings: Settings,
        deduplicator: Deduplicator,
        sender: Sender | None,
        lifecycle: Lifecycle | None,
        *,
        enricher: Enricher | None = None,
        graphs: GraphPoster | None = None,
    ) -> None:
        self.settings = settings
        self.deduplicator = deduplicator
        self.sender = sender
        self.lifecycle = lifecycle
        self.enricher = enricher
        self.graphs = graphs
        self.posts = 0  # Slack messages posted (webhook mode; bot-token mode counts its own)

    def deliver(self, alerts: list[Alert]) -> tuple[list[Result], dict[int, str]]:
        """(a result per alert, in order; the index -> reason of each alert not delivered)."""
        results: dict[int, Result] = {}
        failures: dict[int, str] = {}
        claims: dict[int, Claim] = {}
        index: dict[int, int] = {}  # id(Routed) -> position in `alerts`
        routed: list[Routed] = []
        delivered: list[tuple[Routed, Result]] = []
        for i, alert in enumerate(alerts):
            logger.set_correlation_id(alert.message_id)
            try:
                admitted = self._admit(alert)
            except Exception as error:  # in progress elsewhere, or a bug: the record is retried
                results[i], failures[i] = record_failure(alert, error)
                continue
            if isinstance(admitted, dict):  # suppressed, held by a window, or a duplicate: nothing to post
                results[i] = admitted
                continue
            item, claim = admitted
            if claim is not None:
                claims[i] = claim
            index[id(item)] = i
            routed.append(item)
        for delivery in plan_deliveries(routed, self.settings.grouping):
            logger.set_correlation_id(delivery.members[0].alert.message_id)
            for member, outcome in self._deliver(delivery):
                i = index[id(member)]
                if isinstance(outcome, Exception):
                    results[i], failure = record_failure(member.alert, outcome)
                    failures[i] = failure
                elif i not in failures and i not in results:  # an echoed member: its group's result is kept
                    results[i] = outcome
                    self._counted(member, outcome)
                    delivered.append((member, outcome))
        for i, alert in enumerate(alerts):
            if i not in results:  # every alert is in a message (grouping/plan.py); a bug must not drop one
                results[i], failures[i] = record_failure(alert, RuntimeError("no message carried this alert"))
        for i, claim in claims.items():
            why = self.deduplicator.release(claim) if i in failures else self.deduplicator.complete(claim, results[i])
            note_degraded(why)
        # Graphs last: every message of the batch is out and remembered, and drawing one may take seconds
        for member, outcome in delivered:
            self._attach_graph(member, outcome)
        return [results[i] for i in range(len(alerts))], failures

    def _admit(self, alert: Alert) -> Result | tuple[Routed, Claim | None]:
        """The alert routed and claimed by its message id; or the result of one that posts nothing."""
        stateful = self.lifecycle is not None
        decision = route(alert, self.settings.routing, stateful=stateful)
        note_routed(alert, decision, stateful=stateful)
        base = {"message_id": alert.message_id, "alarm_name": alert.alarm_name}
        if decision.channel is None:
            return {**base, "status": "suppressed", "note": decision.note}
        if not stateful and (window := self._maintenance_window(alert)) is not None:
            return {**base, "status": "silenced", "window": window}
        if not alert.dedup_key:
            return Routed(alert, decision), None
        # the key: Sentry's delivery id for Sentry webhooks, else the SNS MessageId
        claim = self.deduplicator.claim(alert.dedup_key)
        note_degraded(claim.degraded)
        if claim.duplicate is not None:
            count("Duplicates")
            logger.info("duplicate message, already delivered", extra={"channel": decision.channel})
            return {**claim.duplicate, "status": "duplicate"}
        return Routed(alert, decision), claim

    # --- one message (or digest) ---------------------------------------------------------------------------

    def _deliver(self, delivery: Delivery) -> Outcomes:
        if isinstance(delivery, Digest):
            pages = render_digest(delivery, self._context(delivery.members[0].alert))
            count("DigestMessages", len(pages))
            if self.lifecycle is not None:
                from lambdas.alert_router.incidents.threads import deliver_digest  # noqa: PLC0415

                payloads = [page.payload for page in pages]
                return deliver_digest(self.lifecycle, delivery, pages=payloads, payload_of=self._payload)
            return self._post_digest(delivery, pages)
        payload = self._group_payload(delivery)
        if len(delivery.members) > 1:
            count("Grouped", len(delivery.members) - 1)
        if self.lifecycle is None:
            return self._post(delivery, payload)
        if delivery.key is None:  # a message of its own: no group thread to open or join
            lead = delivery.lead
            try:
                return [(lead, self.lifecycle.handle(lead.alert, lead.route, payload))]
            except Exception as error:  # reported for its record (logged, counted, retried)
                return [(lead, error)]
        from lambdas.alert_router.incidents.threads import deliver_group  # noqa: PLC0415

        return deliver_group(
            self.lifecycle,
            delivery,
            group_payload=payload,
            payload_of=self._payload,
            join_window_seconds=self.settings.grouping.join_window_seconds,
        )

    def _post(self, group: Group, payload: Payload) -> Outcomes:
        """Webhook mode: one post; every member delivered with it, or none."""
        assert self.sender is not None  # webhook mode always has a sender
        try:
            result = webhook_result(self.sender.send(group.channel, payload))
        except Exception as error:  # every member's record is retried
            return [(member, error) for member in group.members]
        self._posted(result)
        lead = group.lead.alert.alarm_name
        return [
            (member, {**_base(member), **result} | ({"grouped_with": lead} if index else {}))
            for index, member in enumerate(group.members)
        ]

    def _post_digest(self, digest: Digest, pages: list[DigestPage]) -> Outcomes:
        """Webhook mode: the pages in order; the alerts of a page that did not get through are retried."""
        assert self.sender is not None
        outcomes: Outcomes = []
        for number, page in enumerate(pages, start=1):
            try:
                result = webhook_result(self.sender.send(digest.channel, page.payload))
            except Exception as error:  # this page's alerts and the rest are retried
                outcomes += [(member, error) for later in pages[number - 1 :] for member in later.members]
                return outcomes
            self._posted(result)
            outcomes += [(m, {**_base(m), **result, "digest": f"{number} of {len(pages)}"}) for m in page.members]
        return outcomes

    def _posted(self, result: Result) -> None:
        self.posts += 1
        count("Retries", int(result.get("retries", 0)))

    def _counted(self, member: Routed, result: Result) -> None:
        """`Delivered` counts alerts (by the channel of the message that carried them and their severity)."""
        if self.lifecycle is not None:  # its results are per alert, retries included
            count("Retries", int(result.get("retries", 0)))
        if result.get("status") in ("delivered", "dry-run"):
            count_delivered(self.settings.environment, str(result.get("channel") or member.channel), member.route)

    def _maintenance_window(self, alert: Alert) -> str | None:
        """Webhook mode: the name of a configured maintenance window that holds this alarm now (bot-token mode
        applies them in its incident loop, with a summary when they end)."""
        if incident_key(alert) is None:
            return None
        window = active_window(alert.alarm_name, self.settings.maintenance_windows, datetime.now(UTC))
        if window is None:
            return None
        count("Silenced")
        logger.info("silenced by a maintenance window", extra={"window": window.name, "match": window.match})
        return window.name

    def _attach_graph(self, member: Routed, result: Result) -> None:
        """Bot-token mode: the alarm's graph into the thread of an incident this message opened."""
        if self.graphs is not None and self.lifecycle is not None:
            self.graphs.attach_opened(self.lifecycle, member.alert, result)

    # --- rendering, with its fallbacks -----------------------------------------------------------------------

    def _context(self, alert: Alert) -> Any:
        return self.settings.render_context(alert.region)

    def _payload(self, member: Routed) -> Payload:
        """An alert's own message. A rendering bug must not lose it: it is then posted as received, counted."""
        context = self._context(member.alert)
        try:
            enrichment = self.enricher.enrich(member.alert) if self.enricher is not None else NOTHING
            return render(member.alert, member.route, context, enrichment)
        except Exception:
            logger.exception("rendering failed: posting the alert as received")
            count("RenderFailures")
            return render_fallback(member.alert, context, member.route.severity)

    def _group_payload(self, group: Group) -> Payload:
        lead = self._payload(group.lead)
        if len(group.members) == 1:
            return lead
        try:
            return render_group(group, lead, self._context(group.lead.alert))
        except Exception:
            logger.exception("rendering the group failed: posting its lead, naming every member")
            count("RenderFailures")
            return named_fallback(lead, group)


def _base(member: Routed) -> Result:
    return {"message_id": member.alert.message_id, "alarm_name": member.alert.alarm_name}


def _graph_poster(settings: Settings, bot: Any, lifecycle: Lifecycle | None, context: Any) -> GraphPoster | None:
    """Bot-token mode with graphs on: the poster of the alarm's graph into a new incident's thread."""
    if lifecycle is None or bot is None or not settings.enrichment.graphs:
        return None
    from lambdas.alert_router.enrichment.defaults import build_graph_poster  # noqa: PLC0415 - bot-token mode only

    return build_graph_poster(settings.enrichment, bot, context, lifecycle.api, count=count, logger=logger)
