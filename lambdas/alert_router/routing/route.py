"""Pure, data-driven routing: Alert -> Route (channel, severity, category, and why).

Severity and category are each taken from the first source that knows them:
1. a config override whose shell-style pattern matches the alarm name (operator intent wins);
2. the metadata our stack writes into every alarm description (`Severity:` / `Category:` lines);
3. an explicit word in the description or name (`Severity: Fatal`, `FATAL`, `[CRITICAL]`);
4. the default rule table below (namespace + metric), encoding the design report's alarm table so that
   alarms created outside this stack still route sensibly;
5. the fallback: warning / errors.

Then: critical -> the critical channel whatever the category; otherwise the category's channel.
State rules: OK goes where its alarm goes. INSUFFICIENT_DATA is "monitoring blind" (issue 11): always the
errors channel at warning, whatever the severity, category or an override's channel, so missing data is
heard once and never pages. Unparsed input, and an alarm whose state is missing or unknown (shown as
received), is Info in the errors channel and never critical - unless a parser failed on it and the
description's `Severity:`/`Category:` lines could still be read: then those route it.
INSUFFICIENT_DATA -> OK: webhook mode keeps no state, so it is suppressed only when it looks like data
arriving after a deploy (the state change within DEPLOY_WINDOW of AlarmConfigurationUpdatedTimestamp, or
that timestamp absent, as in EventBridge events); otherwise it is one short "data is back" message in the
errors channel, where the notice was (`Route.data_back`). With incident state (`stateful=True`, bot-token
mode) it is never suppressed here: the lifecycle resolves the open incident and the notice, or posts nothing.

Sentry alerts (source SENTRY) are routed by `SentryRouting`, a data table: level fatal or an alert rule
marked critical -> critical; performance issues and metric alerts on latency/throughput -> performance;
everything else (a new error issue, an error-count metric alert) -> errors. A resolved metric alert
carries its rule, so it is routed to the channel of the alert it resolves, like a CloudWatch OK.
The table's defaults are below; an environment replaces entries through config (`router.sentry_routing`,
passed as SENTRY_ROUTING and read by `parse_sentry_routing`, the one parser both sides use).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from fnmatch import fnmatchcase

from lambdas.alert_router.models import Alert, RdsEventFacts, SentryFacts, SourceKind, State
from lambdas.alert_router.routing.rds_rules import rds_severity
from lambdas.alert_router.routing.rules import Rule, default_rules, explicit_severity, match_rule
from lambdas.alert_router.routing.sentry_rules import SentryRouting, sentry_category, sentry_severity
from lambdas.shared.alarm_metadata import Category, Severity, parse_alarm_metadata

# INSUFFICIENT_DATA -> OK this close to the alarm's (re)configuration is data arriving after a deploy
DEPLOY_WINDOW = timedelta(minutes=15)


@dataclass(frozen=True)
class Channels:
    critical: str = "alerts-critical"
    errors: str = "alerts-errors"
    performance: str = "alerts-performance"

    def for_category(self, category: Category | None) -> str:
        return self.performance if category is Category.PERFORMANCE else self.errors


@dataclass(frozen=True)
class Override:
    """Alarms whose name matches `match` (shell-style, case-insensitive) get these values."""

    match: str
    severity: Severity | None = None
    category: Category | None = None
    channel: str | None = None

    def matches(self, alarm_name: str | None) -> bool:
        return alarm_name is not None and fnmatchcase(alarm_name.lower(), self.match.lower())


@dataclass(frozen=True)
class RoutingConfig:
    channels: Channels = Channels()
    overrides: tuple[Override, ...] = ()
    rules: tuple[Rule, ...] = default_rules()
    sentry: SentryRouting = field(default_factory=SentryRouting)


@dataclass(frozen=True)
class Route:
    channel: str | None  # None: suppressed, nothing is posted
    severity: Severity
    category: Category | None
    decided_by: str  # where severity came from, for the log
    note: str | None = None  # why the route differs from the plain rule (suppression, demotion)
    data_back: bool = False  # INSUFFICIENT_DATA -> OK told as "data is back" (webhook mode)

    @property
    def suppressed(self) -> bool:
        return self.channel is None


def data_arriving_after_deploy(alert: Alert) -> tuple[bool, str]:
    """INSUFFICIENT_DATA -> OK without incident state: (is it data arriving after a deploy?, why)."""
    if alert.configuration_updated is None or alert.state_change_time is None:
        return True, "INSUFFICIENT_DATA -> OK, alarm configuration time unknown: taken as data arriving, not a recovery"
    if abs(alert.state_change_time - alert.configuration_updated) <= DEPLOY_WINDOW:
        return (
            True,
            "INSUFFICIENT_DATA -> OK within 15 min of the alarm's configuration update: data arriving after a deploy",
        )
    return False, "INSUFFICIENT_DATA -> OK long after the alarm's configuration update: data is back, announced"


def route(alert: Alert, config: RoutingConfig, *, stateful: bool = False) -> Route:  # noqa: PLR0911 - one per rule
    """`stateful`: an incident lifecycle (bot-token mode) receives the route and knows what is open."""
    channels = config.channels
    if alert.is_unparsed:
        return _route_unparsed(alert, channels)
    if alert.source is SourceKind.RDS_EVENT and alert.rds is not None:
        return route_rds(alert, alert.rds, config)
    if alert.state is None and alert.source is not SourceKind.SENTRY:
        # shown as received (rendering.py): Info, like any message the router cannot fully read
        return Route(channel=channels.errors, severity=Severity.INFO, category=None, decided_by="unknown state")
    if alert.source is SourceKind.SENTRY and alert.sentry is not None:
        return route_sentry(alert, alert.sentry, config)

    override = next((item for item in config.overrides if item.matches(alert.alarm_name)), None)
    metadata = parse_alarm_metadata(alert.description)
    explicit = explicit_severity(alert.description, alert.alarm_name)
    rule = match_rule(alert, config.rules)

    severity_sources: tuple[tuple[str, Severity | None], ...] = (
        (f"override {override.match}" if override else "override", override.severity if override else None),
        ("metadata", metadata.severity),
        ("explicit word", explicit),
        (f"rule {rule.name}" if rule else "rule", rule.severity if rule else None),
    )
    decided_by, severity = next(
        ((source, value) for source, value in severity_sources if value is not None),
        ("fallback", Severity.WARNING),
    )
    category = next(
        (
            value
            for value in (
                override.category if override else None,
                metadata.category,
                rule.category if rule else None,
            )
            if value is not None
        ),
        Category.ERRORS,
    )
    channel = channels.critical if severity is Severity.CRITICAL else channels.for_category(category)
    if override and override.channel:
        channel = override.channel

    if alert.state is State.INSUFFICIENT_DATA:
        # Missing data is a monitoring problem, not (yet) an outage: one notice where errors go, no page.
        return Route(
            channel=channels.errors,
            severity=Severity.WARNING,
            category=Category.ERRORS,
            decided_by=decided_by,
            note="INSUFFICIENT_DATA: monitoring blind, told in the errors channel and never critical",
        )
    if alert.state is State.OK and alert.previous_state is State.INSUFFICIENT_DATA and not stateful:
        arriving, why = data_arriving_after_deploy(alert)
        if arriving:
            return Route(channel=None, severity=severity, category=category, decided_by=decided_by, note=why)
        return Route(
            channel=channels.errors,
            severity=Severity.WARNING,
            category=Category.ERRORS,
            decided_by=decided_by,
            note=why,
            data_back=True,
        )
    return Route(channel=channel, severity=severity, category=category, decided_by=decided_by)


def _route_unparsed(alert: Alert, channels: Channels) -> Route:
    """Info in the errors channel; a notification a parser failed on goes by its description's metadata."""
    metadata = parse_alarm_metadata(alert.description) if alert.parse_error else None
    if metadata is None or metadata.severity is None:
        return Route(channel=channels.errors, severity=Severity.INFO, category=None, decided_by="unparsed")
    category = metadata.category or Category.ERRORS
    channel = channels.critical if metadata.severity is Severity.CRITICAL else channels.for_category(category)
    return Route(
        channel=channel,
        severity=metadata.severity,
        category=category,
        decided_by="metadata read from the raw notification",
        note=f"the router could not read this notification ({alert.parse_error}); routed by its Severity line",
    )


def route_rds(alert: Alert, facts: RdsEventFacts, config: RoutingConfig) -> Route:
    """By the event's category (rds_rules.py); an override on "<source id>: <message>" wins."""
    override = next((item for item in config.overrides if item.matches(alert.alarm_name)), None)
    category_name, severity, category = rds_severity(facts.category)
    decided_by = f"rds category {category_name}"
    if override and override.severity:
        decided_by, severity = f"override {override.match}", override.severity
    category = (override.category if override else None) or category
    channel = config.channels.critical if severity is Severity.CRITICAL else config.channels.for_category(category)
    if override and override.channel:
        channel = override.channel
    return Route(channel=channel, severity=severity, category=category, decided_by=decided_by)


def route_sentry(alert: Alert, facts: SentryFacts, config: RoutingConfig) -> Route:
    """The channel depends on the rule and the issue, not on the action, so `resolved` follows its alert."""
    override = next((item for item in config.overrides if item.matches(alert.alarm_name)), None)
    decided_by, severity = sentry_severity(facts, config.sentry)
    if override and override.severity:
        decided_by, severity = f"override {override.match}", override.severity
    category = (override.category if override else None) or sentry_category(facts, config.sentry)
    channel = config.channels.critical if severity is Severity.CRITICAL else config.channels.for_category(category)
    if override and override.channel:
        channel = override.channel
    return Route(channel=channel, severity=severity, category=category, decided_by=decided_by)
