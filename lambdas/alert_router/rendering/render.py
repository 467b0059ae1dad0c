"""Pure rendering: (Alert, Route, RenderContext[, Enrichment]) -> a Slack payload in the one layout of
layout.py: top-level blocks (headline, cause, first step, buttons) that are read first, `text` for the
notification, and the details in a small attachment that gives the colour bar.

Rules: untrusted text is escaped (text.py); Slack's limits are respected by truncating with a visible marker;
a missing fact is left out, never rendered as `None`, `null` or an empty placeholder; times in UTC and in
the display time zone; console links are partition- and region-aware.
"""

from __future__ import annotations

from lambdas.alert_router.enrichment.model import NOTHING, Enrichment
from lambdas.alert_router.models import Alert, Payload, SourceKind, State
from lambdas.alert_router.rendering.alarm import render_alarm
from lambdas.alert_router.rendering.blind import render_blind_notice, render_data_back
from lambdas.alert_router.rendering.context import RenderContext
from lambdas.alert_router.rendering.rds import render_rds_event
from lambdas.alert_router.rendering.sentry import render_sentry
from lambdas.alert_router.rendering.unparsed import render_unparsed
from lambdas.alert_router.routing.route import Route


def render(alert: Alert, route: Route, context: RenderContext, enrichment: Enrichment = NOTHING) -> Payload:
    if alert.source is SourceKind.SENTRY and alert.sentry is not None:
        return render_sentry(alert, alert.sentry, route, context)
    if alert.source is SourceKind.RDS_EVENT and alert.rds is not None:
        return render_rds_event(alert, alert.rds, route, context)
    if alert.is_unparsed or alert.state is None:
        return render_unparsed(alert, context, route.severity)
    if alert.state is State.INSUFFICIENT_DATA:
        return render_blind_notice(alert, context)
    if route.data_back:
        return render_data_back(alert, context)
    return render_alarm(alert, route, context, enrichment)
