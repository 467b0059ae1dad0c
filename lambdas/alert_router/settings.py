"""The router's settings, read once from the environment (set by the CDK construct; all optional locally).

Environment variables:
    ENVIRONMENT                  environment name shown in messages and used as metric dimension ("local")
    DISPLAY_TIME_ZONE            IANA zone for the second timestamp in messages ("Asia/Tokyo")
    DASHBOARD_URL                link to the dashboard; or DASHBOARD_NAME, turned into a console link
                                 in the region of the alarm
    SLACK_WEBHOOK_SECRET_ARN     Secrets Manager secret (ARN or name; SLACK_WEBHOOK_SECRET_NAME also works)
                                 holding {"alerts-critical": url, "alerts-errors": url,
                                 "alerts-performance": url}; only https://hooks.slack.com/ URLs are accepted
    SLACK_WEBHOOK_URLS           local only, when no secret is set: the same JSON, and http://127.0.0.1 URLs
                                 are allowed (neither set: dry run, payloads are printed)
    SLACK_BOT_TOKEN              local only: bot-token mode (xoxb-..., scope chat:write), before any webhook;
                                 deployed, the secret above holds {"bot_token": "xoxb-...", "channel_ids":
                                 {...}} instead of webhook URLs (the secret's shape decides the mode)
    SLACK_CHANNEL_IDS            local bot-token mode: JSON {"alerts-critical": "C...", "alerts-errors": "C...",
                                 "alerts-performance": "C..."} (channel name -> Slack channel id)
    SLACK_API_BASE_URL           Slack Web API base ("https://slack.com/api/"); only that or a loopback URL
                                 (http://127.0.0.1, http://localhost or http://[::1], any port)
    INCIDENT_TABLE_NAME          bot-token mode: DynamoDB table of incidents and silences (none: in memory)
    REPEAT_INTERVAL_MINUTES      re-announce an open critical incident after this long (60)
    FLAPPING_TRANSITIONS         more state changes than this within the window is flapping (4)
    FLAPPING_WINDOW_MINUTES      the flapping window, and the quiet time that makes it stable again (30)
    MAINTENANCE_WINDOWS          JSON list of {"name", "match", "days": ["sun"], "start": "02:00",
                                 "end": "04:00", "time_zone": "Asia/Tokyo"} (none); they apply in both modes
    ESCALATION_MINUTES           bot-token mode: re-announce a critical incident nobody acknowledged this long
                                 after its post, once (unset: no escalation; the stack sets 15 by default)
    ESCALATION_USER_GROUP        the Slack user group mentioned then (S..., the secondary on-call)
    ESCALATION_TOPIC_ARN         the escalation SNS topic it is also published to (email, SMS)
    IDEMPOTENCY_TABLE_NAME       DynamoDB table for idempotency on the SNS MessageId (none: in-memory)
    IDEMPOTENCY_TTL_SECONDS      how long a MessageId is remembered (86400)
    ROUTING_OVERRIDES            JSON list of {"match": "<shell pattern on alarm name>", "severity"?,
                                 "category"?, "channel"?}
    CHANNELS                     JSON {"critical": .., "errors": .., "performance": ..} channel names
                                 (alerts-critical / alerts-errors / alerts-performance)
    SYNTHETIC_RESULTS_TABLE_NAME, ERROR_LOG_GROUP, TOP_ERRORS, TOP_ERRORS_MINUTES, ENRICHMENT_BUDGET_MS,
    GRAPHS, GRAPH_BUDGET_MS      the cause and the graph in the message: enrichment/settings.py
    ONCALL_HANDLE                who a critical alert mentions: a user group <!subteam^S0123ABCD> or a user
                                 <@U0123ABCD> (none: nobody is mentioned)
    SENTRY_ROUTING               JSON {"critical_levels"?, "critical_rule"?, "performance_issue_category"?,
                                 "performance_aggregate"?}: regexes replacing routing.SentryRouting's defaults
    GROUPING                     JSON {"enabled"?, "inhibit"?, "storm_threshold"?, "join_window_minutes"?,
                                 "overrides"?: [{"match": "<alarm name pattern>", "group": "<key>"}]}: how
                                 alarms of one fault become one message (grouping/keys.py; defaults: on,
                                 inhibit, a digest above 20 alerts per channel, 30 min)
    SYNTHETICS_NAMESPACE         namespace of the synthetic monitor's metrics ("PeopleBooster/Synthetics")
    POWERTOOLS_METRICS_NAMESPACE metrics namespace ("PeopleBooster/AlertRouter")
    SENTRY_DSN, SENTRY_ENVIRONMENT, SENTRY_RELEASE
                                 Sentry (off without a DSN), see lambdas.shared.observability

The webhook URLs and the bot token are secrets: never logged, never in an exception message, never in env vars
of the deployed function.

This is the router's one schema. infra/config.py validates the same values at synthesis with these rules:
it calls `parse_overrides`, `parse_windows` and `parse_sentry_routing`, and its bounds are LIMITS (a test
compares them), so synthesis refuses what the router would refuse at run time.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lambdas.alert_router.enrichment.settings import EnrichmentSettings, EnrichmentSettingsError, enrichment_from_env
from lambdas.alert_router.grouping.keys import GroupingConfig, GroupingError, parse_grouping
from lambdas.alert_router.incidents.model import LifecycleConfig
from lambdas.alert_router.incidents.silences import MaintenanceWindow, SilenceError, parse_windows
from lambdas.alert_router.rendering.context import RenderContext
from lambdas.alert_router.rendering.facts import dashboard_console_url
from lambdas.alert_router.routing.route import Channels, Override, RoutingConfig
from lambdas.alert_router.routing.rules import SYNTHETICS_NAMESPACE, default_rules
from lambdas.alert_router.routing.sentry_rules import SentryRouting, SentryRoutingError, parse_sentry_routing
from lambdas.shared.alarm_metadata import Category, Severity
from lambdas.shared.aws import use_shared_session_for_secrets

SECRET_MAX_AGE_SECONDS = 300  # a rotated webhook is picked up within 5 minutes
DEPLOYED_WEBHOOK_URL = re.compile(r"^https://hooks\.slack\.com/\S+$")
_LOCAL_URL = re.compile(r"^(https://hooks\.slack\.com/|http://127\.0\.0\.1(:\d+)?/)\S*$")
SLACK_API = "https://slack.com/api/"
# the token is sent there: Slack itself, or a loopback server (tests, the demo)
_API_BASE = re.compile(r"^(https://slack\.com/api/|http://(127\.0\.0\.1|localhost|\[::1\])(:\d+)?/\S*)$")
_BOT_TOKEN = re.compile(r"^xox[bp]-[A-Za-z0-9-]+$")
_CHANNEL_ID = re.compile(r"^[A-Za-z0-9]+$")
# A user group or user mention in Slack's syntax: https://docs.slack.dev/messaging/formatting-message-text
ONCALL_HANDLE = re.compile(r"^(<!subteam\^[A-Z0-9]{2,20}>|<@[UW][A-Z0-9]{2,20}>)$")
# A channel name as config writes it (lower case, digits, hyphens; Slack allows up to 80 characters)
CHANNEL_NAME = re.compile(r"^[a-z][a-z0-9-]{0,40}$")
# name -> (lowest, highest) accepted, in the variable's own unit
LIMITS = {
    "IDEMPOTENCY_TTL_SECONDS": (3600, 7 * 86_400),
    "REPEAT_INTERVAL_MINUTES": (5, 1440),
    "FLAPPING_TRANSITIONS": (2, 50),
    "FLAPPING_WINDOW_MINUTES": (5, 1440),
    "ESCALATION_MINUTES": (5, 240),
}
USER_GROUP_ID = re.compile(r"^S[A-Z0-9]{6,20}$")  # a Slack user group id, as <!subteam^S...> mentions it


class SettingsError(Exception):
    """A setting is missing or invalid. The message names the variable, never a secret value."""


@dataclass(frozen=True)
class Settings:
    environment: str = "local"
    display_time_zone: str = "Asia/Tokyo"
    dashboard_url: str | None = None
    dashboard_name: str | None = None
    webhook_secret_id: str | None = None
    # the raw JSON; parsed (and validated) by load_webhooks; never in a repr (Sentry frames, logs)
    local_webhook_urls: str | None = field(default=None, repr=False)
    idempotency_table: str | None = None
    idempotency_ttl_seconds: int = 86_400
    routing: RoutingConfig = field(default_factory=RoutingConfig)
    local_bot_token: str | None = field(default=None, repr=False)
    local_channel_ids: str | None = None  # the raw JSON; validated by load_bot
    slack_api_base_url: str = SLACK_API
    incident_table: str | None = None
    lifecycle: LifecycleConfig = field(default_factory=LifecycleConfig)
    maintenance_windows: tuple[MaintenanceWindow, ...] = ()
    grouping: GroupingConfig = field(default_factory=GroupingConfig)
    oncall_handle: str | None = None
    enrichment: EnrichmentSettings = field(default_factory=EnrichmentSettings)
    escalation_topic_arn: str | None = None

    def render_context(self, region: str | None) -> RenderContext:
        dashboard = self.dashboard_url
        in_console = False
        if dashboard is None and self.dashboard_name and region:
            dashboard, in_console = dashboard_console_url(self.dashboard_name, region), True
        return RenderContext(
            environment=self.environment,
            display_time_zone=self.display_time_zone,
            dashboard_url=dashboard,
            dashboard_in_console=in_console,
            oncall=self.oncall_handle,
        )


def settings_from_env(environ: Mapping[str, str]) -> Settings:
    def get(name: str) -> str | None:
        value = environ.get(name, "").strip()
        return value or None

    channels = Channels(**_json_object(get("CHANNELS"), "CHANNELS", allowed={"critical", "errors", "performance"}))
    escalation = get("ESCALATION_MINUTES")
    group = get("ESCALATION_USER_GROUP")
    if group is not None and not USER_GROUP_ID.match(group):
        raise SettingsError("ESCALATION_USER_GROUP must be a Slack user group id (S...)")
    topic = get("ESCALATION_TOPIC_ARN")
    return Settings(
        environment=get("ENVIRONMENT") or "local",
        display_time_zone=get("DISPLAY_TIME_ZONE") or "Asia/Tokyo",
        dashboard_url=get("DASHBOARD_URL"),
        dashboard_name=get("DASHBOARD_NAME"),
        webhook_secret_id=get("SLACK_WEBHOOK_SECRET_ARN") or get("SLACK_WEBHOOK_SECRET_NAME"),
        local_webhook_urls=get("SLACK_WEBHOOK_URLS"),
        idempotency_table=get("IDEMPOTENCY_TABLE_NAME"),
        idempotency_ttl_seconds=_bounded_int(get("IDEMPOTENCY_TTL_SECONDS"), "IDEMPOTENCY_TTL_SECONDS", 86_400),
        routing=RoutingConfig(
            channels=channels,
            overrides=_json_overrides(get("ROUTING_OVERRIDES")),
            rules=default_rules(get("SYNTHETICS_NAMESPACE") or SYNTHETICS_NAMESPACE),
            sentry=_sentry_routing(get("SENTRY_ROUTING")),
        ),
        local_bot_token=get("SLACK_BOT_TOKEN"),
        local_channel_ids=get("SLACK_CHANNEL_IDS"),
        slack_api_base_url=_api_base(get("SLACK_API_BASE_URL")),
        incident_table=get("INCIDENT_TABLE_NAME"),
        lifecycle=LifecycleConfig(
            repeat_interval_seconds=60 * _bounded_int(get("REPEAT_INTERVAL_MINUTES"), "REPEAT_INTERVAL_MINUTES", 60),
            flapping_transitions=_bounded_int(get("FLAPPING_TRANSITIONS"), "FLAPPING_TRANSITIONS", 4),
            flapping_window_seconds=60 * _bounded_int(get("FLAPPING_WINDOW_MINUTES"), "FLAPPING_WINDOW_MINUTES", 30),
            escalate_after_seconds=60 * _bounded_int(escalation, "ESCALATION_MINUTES", 0) if escalation else None,
            escalation_group=group,
            escalation_paged=topic is not None,
        ),
        maintenance_windows=_windows(get("MAINTENANCE_WINDOWS")),
        grouping=_grouping(get("GROUPING")),
        oncall_handle=parse_oncall(get("ONCALL_HANDLE")),
        enrichment=_enrichment(get),
        escalation_topic_arn=topic,
    )


def _enrichment(get: Any) -> EnrichmentSettings:
    try:
        return enrichment_from_env(get)
    except EnrichmentSettingsError as error:
        raise SettingsError(str(error)) from None


def parse_oncall(text: str | None) -> str | None:
    """The on-call handle as Slack writes a mention; anything else is refused (it is put in messages as is)."""
    if text is None:
        return None
    if not ONCALL_HANDLE.match(text):
        raise SettingsError(
            "ONCALL_HANDLE must be a Slack user group <!subteam^S0123ABCD> or user <@U0123ABCD> (upper-case id)"
        )
    return text


@functools.cache
def load_settings() -> Settings:
    """Settings of this process (cached; tests call `load_settings.cache_clear()` after monkeypatching)."""
    return settings_from_env(os.environ)


def load_webhooks(settings: Settings) -> dict[str, str] | None:
    """Channel -> webhook URL from the secret, else from SLACK_WEBHOOK_URLS; None means dry run."""
    if settings.webhook_secret_id:
        # boto3 and Parameters cost ~100 ms to import: only a deployed function with a secret pays it.
        from aws_lambda_powertools.utilities.parameters import get_secret  # noqa: PLC0415

        use_shared_session_for_secrets()
        text = get_secret(settings.webhook_secret_id, max_age=SECRET_MAX_AGE_SECONDS)
        return parse_webhooks(text, "the webhook secret", DEPLOYED_WEBHOOK_URL)
    if settings.local_webhook_urls:
        return parse_webhooks(settings.local_webhook_urls, "SLACK_WEBHOOK_URLS", _LOCAL_URL)
    return None


@dataclass(frozen=True)
class BotConfig:
    """Bot-token mode: the token (a secret: never logged, not in repr) and channel name -> channel id."""

    token: str = field(repr=False)
    channel_ids: dict[str, str]
    base_url: str = SLACK_API


def secret_mode(text: str) -> str:
    """Which mode a Slack secret's text selects: "bot-token" ({"bot_token": ...}), "webhook" (a JSON object of
    URLs) or "invalid" (not a JSON object: the generated placeholder, or a typo). The router decides by this,
    and `make silence` asks it of the deployed secret."""
    try:
        value = json.loads(text)
    except ValueError:
        return "invalid"
    if not isinstance(value, dict):
        return "invalid"
    return "bot-token" if "bot_token" in value else "webhook"


def load_bot(settings: Settings) -> BotConfig | None:
    """Bot-token mode when SLACK_BOT_TOKEN is set (local) or the secret holds a bot token; else None."""
    if settings.local_bot_token:
        return parse_bot(settings.local_bot_token, settings.local_channel_ids, "SLACK_CHANNEL_IDS", settings)
    if settings.webhook_secret_id:
        from aws_lambda_powertools.utilities.parameters import get_secret  # noqa: PLC0415 - boto3

        use_shared_session_for_secrets()
        # cached by Parameters: load_webhooks reads the same value without another call
        text = get_secret(settings.webhook_secret_id, max_age=SECRET_MAX_AGE_SECONDS)
        if secret_mode(text) == "bot-token":  # otherwise load_webhooks reads (or reports) the secret
            value = json.loads(text)
            token, ids = value.get("bot_token"), value.get("channel_ids")
            return parse_bot(
                token if isinstance(token, str) else "", json.dumps(ids), "the secret's channel_ids", settings
            )
    return None


def parse_bot(token: str, channel_ids: str | None, source: str, settings: Settings) -> BotConfig:
    if not _BOT_TOKEN.match(token.strip()):
        raise SettingsError("the bot token is not a Slack bot token (xoxb-...)")
    try:
        ids: Any = json.loads(channel_ids or "")
    except ValueError:
        raise SettingsError(f"{source} is not valid JSON") from None
    if (
        not isinstance(ids, dict)
        or not ids
        or not all(isinstance(v, str) and _CHANNEL_ID.match(v) for v in ids.values())
    ):
        raise SettingsError(f"{source} must be a JSON object of channel name -> Slack channel id (C...)")
    return BotConfig(
        token=token.strip(), channel_ids={str(k): v for k, v in ids.items()}, base_url=settings.slack_api_base_url
    )


def _api_base(text: str | None) -> str:
    if text is None:
        return SLACK_API
    base = text if text.endswith("/") else text + "/"
    if not _API_BASE.match(base):
        raise SettingsError("SLACK_API_BASE_URL must be https://slack.com/api/ or a loopback http:// URL")
    return base


def _windows(text: str | None) -> tuple[MaintenanceWindow, ...]:
    if not text:
        return ()
    try:
        return parse_windows(json.loads(text))
    except ValueError as error:  # SilenceError too
        raise SettingsError(
            str(error) if isinstance(error, SilenceError) else "MAINTENANCE_WINDOWS is not JSON"
        ) from None


def _grouping(text: str | None) -> GroupingConfig:
    if not text:
        return GroupingConfig()
    try:
        return parse_grouping(json.loads(text))
    except GroupingError as error:
        raise SettingsError(f"GROUPING: {error}") from None
    except ValueError as error:
        raise SettingsError(f"GROUPING is not valid JSON: {error}") from None


def _sentry_routing(text: str | None) -> SentryRouting:
    if not text:
        return SentryRouting()
    try:
        return parse_sentry_routing(json.loads(text))
    except SentryRoutingError as error:
        raise SettingsError(f"SENTRY_ROUTING: {error}") from None
    except ValueError as error:
        raise SettingsError(f"SENTRY_ROUTING is not valid JSON: {error}") from None


def parse_webhooks(text: str, source: str, allowed: re.Pattern[str]) -> dict[str, str]:
    try:
        value = json.loads(text)
    except ValueError:
        raise SettingsError(f"{source} is not valid JSON") from None  # the text may hold URLs: not chained
    if not isinstance(value, dict) or not value:
        raise SettingsError(f"{source} must be a JSON object of channel name -> webhook URL")
    webhooks: dict[str, str] = {}
    for channel, url in value.items():
        if not isinstance(url, str) or not allowed.match(url.strip()):
            raise SettingsError(f"{source}: the URL for channel {channel!r} is not an accepted webhook URL")
        webhooks[str(channel)] = url.strip()
    return webhooks


def _json_object(text: str | None, name: str, *, allowed: set[str]) -> dict[str, str]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError as error:
        raise SettingsError(f"{name} is not valid JSON: {error}") from None
    if (
        not isinstance(value, dict)
        or not set(value) <= allowed
        or not all(isinstance(v, str) and CHANNEL_NAME.match(v) for v in value.values())
    ):
        raise SettingsError(f"{name} must be a JSON object of channel names for keys {sorted(allowed)}")
    return value


def _json_overrides(text: str | None) -> tuple[Override, ...]:
    if not text:
        return ()
    try:
        items: Any = json.loads(text)
    except ValueError as error:
        raise SettingsError(f"ROUTING_OVERRIDES is not valid JSON: {error}") from None
    return parse_overrides(items)


def parse_overrides(items: Any, where: str = "ROUTING_OVERRIDES") -> tuple[Override, ...]:
    """[{"match", "severity"?, "category"?, "channel"?}] -> Overrides; SettingsError names the entry and field."""
    if not isinstance(items, list):
        raise SettingsError(f"{where} must be a JSON list")
    overrides = []
    for index, item in enumerate(items):
        entry = f"{where}[{index}]"
        if not isinstance(item, dict) or not isinstance(item.get("match"), str) or not item["match"]:
            raise SettingsError(f"{entry} needs a non-empty string 'match'")
        if not any(item.get(key) for key in ("severity", "category", "channel")):
            raise SettingsError(f"{entry}: an override needs at least one of severity, category, channel")
        channel = item.get("channel")
        if channel is not None and not (isinstance(channel, str) and CHANNEL_NAME.match(channel)):
            raise SettingsError(f"{entry}: channel must be a channel name like alerts-critical")
        try:
            overrides.append(
                Override(
                    match=item["match"],
                    severity=Severity(item["severity"]) if item.get("severity") else None,
                    category=Category(item["category"]) if item.get("category") else None,
                    channel=channel,
                )
            )
        except ValueError as error:
            raise SettingsError(f"{entry}: {error}") from None
    return tuple(overrides)


def _bounded_int(text: str | None, name: str, default: int) -> int:
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number") from None
    low, high = LIMITS[name]
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low} and {high}")
    return value
