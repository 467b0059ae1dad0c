"""Typed, validated configuration of one environment (config/<env>.yaml).

Everything that differs between staging and production lives here, not in the constructs.
A bad or missing value stops synthesis with one line naming the file and the field.
"""

from __future__ import annotations

import difflib
import functools
import re
import typing
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from lambdas.alert_router.enrichment.settings import BOUNDS as ENRICHMENT_BOUNDS
from lambdas.alert_router.enrichment.settings import DEFAULTS as ENRICHMENT_DEFAULTS
from lambdas.alert_router.grouping.keys import GROUPING_LIMITS, GroupingError, parse_grouping
from lambdas.alert_router.incidents.silences import WEEKDAYS, SilenceError, parse_windows, silences_everything
from lambdas.alert_router.routing.sentry_rules import SentryRouting, parse_sentry_routing
from lambdas.alert_router.settings import USER_GROUP_ID, SettingsError, parse_oncall, parse_overrides
from lambdas.shared.urls import CREDENTIALS_REFUSED, has_credentials
from lambdas.synthetic_monitor.checks import (
    DEFAULT_TIMEOUT_MS,
    FRONTEND_LATENCY_BUDGET_MS,
    FRONTEND_TIMEOUT_MS,
    Check,
    Frontend,
    check_specs,
    parse_checks,
)
from lambdas.synthetic_monitor.reading import Contract, Reading, ReadingError, reading_for

CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"
ENVIRONMENTS = ("staging", "production")

Percent = Annotated[float, Field(gt=0, le=100)]
PositiveInt = Annotated[int, Field(gt=0)]
Slug = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,40}$")]
ResourceId = Annotated[str, Field(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9._/:-]+$")]
EcsRole = Literal["backend", "frontend"]


class ConfigError(Exception):
    """A config file is missing, unreadable or invalid; the message is one line for a human."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EcsConfig(_Strict):
    cluster_name: ResourceId
    backend_service_name: ResourceId
    frontend_service_name: ResourceId
    # Container Insights publishes RunningTaskCount and DesiredTaskCount (ECS/ContainerInsights); turn on
    # only when the cluster has it enabled (`aws ecs update-cluster-settings --settings
    # name=containerInsights,value=enabled`), or the task-count alarms would have no data.
    container_insights: bool = False


class TargetGroupConfig(_Strict):
    name: Slug
    full_name: Annotated[str, Field(pattern=r"^targetgroup/[A-Za-z0-9-]+/[0-9a-f]+$")]


class AlbConfig(_Strict):
    full_name: Annotated[str, Field(pattern=r"^app/[A-Za-z0-9-]+/[0-9a-f]+$")]
    target_groups: Annotated[list[TargetGroupConfig], Field(min_length=1)]


class RdsConfig(_Strict):
    instance_identifier: ResourceId
    max_connections: Annotated[int, Field(gt=0, le=100_000)]
    # The instance class's memory and the allocated storage make the FreeableMemory and FreeStorageSpace
    # thresholds a share of what the instance has; unset, the alarms use the absolute floors in Thresholds.
    memory_gib: Annotated[float, Field(gt=0, le=4096)] | None = None
    allocated_storage_gib: Annotated[int, Field(gt=0, le=65_536)] | None = None


class ElastiCacheConfig(_Strict):
    """Redis nodes are alarmed one by one: each member cluster of the replication group is one node."""

    replication_group_id: ResourceId
    cache_cluster_ids: Annotated[list[ResourceId], Field(min_length=1, max_length=20)]
    cache_node_id: Annotated[str, Field(pattern=r"^[0-9]{4}$")] = "0001"


class Thresholds(_Strict):
    """Alarm thresholds; the defaults are the design report's alarm table."""

    ecs_cpu_percent: Percent = 80
    ecs_memory_percent: Percent = 80
    # Per-service overrides of the two above (unset: the shared value).
    ecs_backend_cpu_percent: Percent | None = None
    ecs_frontend_cpu_percent: Percent | None = None
    ecs_backend_memory_percent: Percent | None = None
    ecs_frontend_memory_percent: Percent | None = None
    alb_target_5xx_count: PositiveInt = 10
    # Per target group, beside the count: 5xx as a share of requests over the same window, judged only
    # when the window had at least `alb_5xx_rate_min_requests` requests (one failed request of two is no rate).
    alb_5xx_rate_percent: Percent = 5
    alb_5xx_rate_min_requests: PositiveInt = 20
    alb_latency_seconds: Annotated[float, Field(gt=0, le=60)] = 3
    # p95 is judged only in minutes with at least this many requests: on a quiet minute it is one request.
    alb_latency_min_requests: PositiveInt = 50
    rds_connections_percent: Percent = 80
    rds_cpu_percent: Percent = 80
    redis_memory_percent: Percent = 80
    redis_connections: PositiveInt = 1000
    evaluation_minutes: Annotated[int, Field(ge=1, le=60)] = 5
    # AWS's recommended alarms (CloudWatch user guide, "Recommended alarms"; decisions.md, issue 11).
    rds_free_storage_percent: Percent = 10
    rds_free_storage_floor_gib: Annotated[float, Field(gt=0)] = 5
    rds_freeable_memory_percent: Percent = 25
    rds_freeable_memory_floor_mib: Annotated[float, Field(gt=0)] = 256
    rds_memory_minutes: Annotated[int, Field(ge=1, le=60)] = 15
    redis_engine_cpu_percent: Percent = 90
    redis_evictions_per_minute: Annotated[float, Field(ge=0)] = 0
    redis_replication_lag_seconds: Annotated[float, Field(gt=0)] = 10
    redis_replication_lag_minutes: Annotated[int, Field(ge=1, le=60)] = 15

    def ecs_cpu_for(self, role: EcsRole) -> float:
        """The CPU threshold of one service: its override, else the shared one."""
        override = {"backend": self.ecs_backend_cpu_percent, "frontend": self.ecs_frontend_cpu_percent}[role]
        return self.ecs_cpu_percent if override is None else override

    def ecs_memory_for(self, role: EcsRole) -> float:
        """The memory threshold of one service: its override, else the shared one."""
        override = {"backend": self.ecs_backend_memory_percent, "frontend": self.ecs_frontend_memory_percent}[role]
        return self.ecs_memory_percent if override is None else override


class SlackChannels(_Strict):
    critical: Slug = "alerts-critical"
    errors: Slug = "alerts-errors"
    performance: Slug = "alerts-performance"


class LogRetention(_Strict):
    """Retention in days per ECS log group; CloudWatch accepts only its fixed list of values."""

    application: PositiveInt = 30
    access: PositiveInt = 30
    error: PositiveInt = 90
    audit: PositiveInt = 365
    lambda_functions: PositiveInt = 30

    @field_validator("*")
    @classmethod
    def _cloudwatch_accepts(cls, days: int) -> int:
        if days not in CLOUDWATCH_RETENTION_DAYS:
            raise ValueError(f"{days} is not a CloudWatch retention; use one of {CLOUDWATCH_RETENTION_DAYS}")
        return days


# The only values CloudWatch Logs accepts.
CLOUDWATCH_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 3653)


class LogsConfig(_Strict):
    """`adopt_existing`: the `/aws/ecs/<env>/*` groups already exist (made by ECS or an earlier Terraform):
    the stack uses them by name instead of creating them (docs/operations/deployment-guide.md)."""

    adopt_existing: bool = False


class RouterOverride(_Strict):
    """Alarms whose name matches `match` (shell-style pattern) get this severity and/or channel."""

    match: Annotated[str, Field(min_length=1)]
    severity: Literal["critical", "warning", "info"] | None = None
    category: Literal["errors", "performance"] | None = None
    channel: Slug | None = None

    @model_validator(mode="after")
    def _router_accepts(self) -> RouterOverride:
        try:  # the router's own rule: at least one of severity, category, channel; a channel name
            parse_overrides([self.model_dump(exclude_none=True)])
        except SettingsError as error:
            raise ValueError(str(error).removeprefix("ROUTING_OVERRIDES[0]: ")) from None
        return self


class MaintenanceWindowConfig(_Strict):
    """A recurring maintenance window: alarms whose name matches `match` (shell-style, case-insensitive) are
    not posted on `days` between `start` and `end` (wall clock in `time_zone`; an end before the start
    crosses midnight). Checked by the router's own parser (lambdas/alert_router/incidents/silences.py)."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    match: Annotated[str, Field(min_length=1)]
    days: Annotated[list[str], Field(min_length=1, max_length=7)]
    start: str
    end: str
    time_zone: str = "UTC"
    # A window whose pattern matches any alarm name silences the pager every week: only on purpose.
    allow_all_critical: bool = False

    @field_validator("days")
    @classmethod
    def _weekdays(cls, days: list[str]) -> list[str]:
        unknown = [day for day in days if day.lower()[:3] not in WEEKDAYS]
        if unknown:
            raise ValueError(f"unknown weekday {unknown[0]!r}: use {', '.join(WEEKDAYS)}")
        return days

    @model_validator(mode="after")
    def _router_accepts(self) -> MaintenanceWindowConfig:
        try:
            parse_windows([self.lambda_spec()])
        except SilenceError as error:
            raise ValueError(re.sub(r"^MAINTENANCE_WINDOWS\[0\]:?\s*", "", str(error))) from None
        if silences_everything(self.match) and not self.allow_all_critical:
            raise ValueError(
                f"match {self.match!r} silences every alarm, critical ones included; set allow_all_critical: true"
                " to mean it"
            )
        return self

    def lambda_spec(self) -> dict[str, Any]:
        """One item of the router's MAINTENANCE_WINDOWS."""
        return self.model_dump(exclude={"allow_all_critical"})


class IncidentConfig(_Strict):
    """Bot-token mode's incident lifecycle (lambdas/alert_router/incidents/decide.py) and its sweep schedule."""

    repeat_interval_minutes: Annotated[int, Field(ge=5, le=1440)] = 60
    flapping_transitions: Annotated[int, Field(ge=2, le=50)] = 4
    flapping_window_minutes: Annotated[int, Field(ge=5, le=1440)] = 30
    sweep_minutes: Annotated[int, Field(ge=1, le=60)] = 5
    maintenance_windows: list[MaintenanceWindowConfig] = []

    @model_validator(mode="after")
    def _consistent(self) -> IncidentConfig:
        # The sweep drives repeats and "stable again": slower than either, they would come late.
        if self.sweep_minutes > min(self.repeat_interval_minutes, self.flapping_window_minutes):
            raise ValueError("sweep_minutes must not exceed repeat_interval_minutes or flapping_window_minutes")
        names = [window.name for window in self.maintenance_windows]
        if len(names) != len(set(names)):
            raise ValueError("maintenance window names must be unique (they name the window's silence records)")
        return self


class GroupOverrideConfig(_Strict):
    """Alarms whose name matches `match` (shell-style pattern) belong to the group `group`."""

    match: Annotated[str, Field(min_length=1)]
    group: Annotated[str, Field(min_length=1, max_length=200)]


class GroupingConfig(_Strict):
    """One fault, one message (issue 13; lambdas/alert_router/grouping/). `wait_seconds` is the SQS event
    source's batching window: how long the router gathers alarms before it groups them (0: at once, one
    by one, in batches of at most 10). The rest is the router's GROUPING setting, checked by its parser."""

    wait_seconds: Annotated[int, Field(ge=0, le=300)] = 15
    enabled: bool = True
    inhibit: bool = True
    storm_threshold: Annotated[
        int, Field(ge=GROUPING_LIMITS["storm_threshold"][0], le=GROUPING_LIMITS["storm_threshold"][1])
    ] = 20
    join_window_minutes: Annotated[
        int, Field(ge=GROUPING_LIMITS["join_window_minutes"][0], le=GROUPING_LIMITS["join_window_minutes"][1])
    ] = 30
    overrides: list[GroupOverrideConfig] = []

    def lambda_spec(self) -> dict[str, Any]:
        """The router's GROUPING (everything but the batching window, which is the event source's)."""
        return self.model_dump(exclude={"wait_seconds"})

    @model_validator(mode="after")
    def _router_accepts(self) -> GroupingConfig:
        try:
            parse_grouping(self.lambda_spec())
        except GroupingError as error:
            raise ValueError(str(error)) from None
        return self


class IntakeConfig(_Strict):
    """The router's SQS intake: the queue the alert topic feeds and the event source reading it."""

    # Receives before SQS moves a message to the dead-letter queue; AWS suggests at least 5 for a Lambda
    # event source, so a throttled or briefly failing batch is retried, not set aside.
    max_receive_count: Annotated[int, Field(ge=1, le=1000)] = 5
    # Records per invocation (up to 10,000 with a batching window; Lambda also stops at a 6 MB payload).
    batch_size: Annotated[int, Field(ge=1, le=10_000)] = 500
    # Concurrent invocations the event source may start (AWS's minimum is 2): Slack's per-channel pace.
    max_concurrency: Annotated[int, Field(ge=2, le=1000)] = 2


def _enrichment_field(name: str) -> Any:
    low, high = ENRICHMENT_BOUNDS[name]
    return Field(default=ENRICHMENT_DEFAULTS[name], ge=low, le=high)


class EnrichmentConfig(_Strict):
    """The cause and the graph in the message (lambdas/alert_router/enrichment/settings.py; the same bounds)."""

    # 5xx alarms carry the top error messages of the error log group (one Logs Insights query each)
    top_errors: bool = False
    top_errors_minutes: int = _enrichment_field("TOP_ERRORS_MINUTES")
    # the most one invocation waits for causes (0: none are read)
    budget_ms: int = _enrichment_field("ENRICHMENT_BUDGET_MS")
    # bot-token mode: the alarm metric's graph in the incident thread
    graphs: bool = True
    graph_budget_ms: int = _enrichment_field("GRAPH_BUDGET_MS")


Email = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


class EscalationConfig(_Strict):
    """Bot-token mode: a critical incident nobody acknowledges (or silences) within `after_minutes` of its post is
    re-announced once in its thread, broadcast to the channel and mentioning the Slack user group `user_group_id`
    (the secondary on-call), and published to the escalation topic, which `emails` and `sms_numbers` subscribe
    to (docs/operations/incident-response.md, Escalation path)."""

    enabled: bool = True
    after_minutes: Annotated[int, Field(ge=5, le=240)] = 15
    # Slack's id of the user group (Slack: People -> User groups -> the group -> its id, S...), not its @handle
    user_group_id: Annotated[str, Field(pattern=USER_GROUP_ID.pattern)] | None = None
    emails: list[Email] = []
    # E.164 numbers; SMS from SNS needs the account out of the SMS sandbox (or each number verified)
    sms_numbers: list[Annotated[str, Field(pattern=r"^\+[1-9][0-9]{6,14}$")]] = []


class RouterConfig(_Strict):
    reserved_concurrency: Annotated[int, Field(ge=1, le=50)] = 5
    timeout_seconds: Annotated[int, Field(ge=10, le=300)] = 60
    idempotency_ttl_hours: Annotated[int, Field(ge=1, le=168)] = 24
    overrides: list[RouterOverride] = []
    # Second path for the router's own alarms (DLQ depth, router errors): they must reach a human
    # even when the router is broken, so they also go to an email subscription.
    fallback_email: Email | None = None
    incidents: IncidentConfig = IncidentConfig()
    escalation: EscalationConfig = EscalationConfig()
    # Entries replacing the regexes of the router's routing/sentry_rules.SentryRouting (unset: its defaults).
    sentry_routing: dict[str, str] = {}
    grouping: GroupingConfig = GroupingConfig()
    intake: IntakeConfig = IntakeConfig()
    enrichment: EnrichmentConfig = EnrichmentConfig()
    # Who a critical alert mentions: a Slack user group "<!subteam^S0123ABCD>" or a user "<@U0123ABCD>"
    oncall_handle: str | None = None

    @model_validator(mode="after")
    def _intake_fits(self) -> RouterConfig:
        # https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html: a batch of more
        # than 10 records needs a batching window of at least 1 s.
        if self.grouping.wait_seconds == 0 and self.intake.batch_size > 10:
            raise ValueError("intake.batch_size above 10 needs grouping.wait_seconds of at least 1 (AWS's rule)")
        # The event source's concurrency beyond the function's reserved concurrency would only be throttled.
        if self.intake.max_concurrency > self.reserved_concurrency:
            raise ValueError("intake.max_concurrency must not exceed reserved_concurrency")
        return self

    @field_validator("oncall_handle")
    @classmethod
    def _slack_mention(cls, handle: str | None) -> str | None:
        try:
            return parse_oncall(handle)  # the router's own rule
        except SettingsError as error:
            raise ValueError(str(error).replace("ONCALL_HANDLE", "oncall_handle")) from None

    @field_validator("sentry_routing")
    @classmethod
    def _router_parses(cls, entries: dict[str, str]) -> dict[str, str]:
        parse_sentry_routing(entries)  # the router's own parser: synthesis rejects what it would reject
        return entries

    @model_validator(mode="after")
    def _sweep_can_escalate_in_time(self) -> RouterConfig:
        if self.escalation.enabled and self.incidents.sweep_minutes > self.escalation.after_minutes:
            raise ValueError("incidents.sweep_minutes must not exceed escalation.after_minutes (the sweep escalates)")
        return self

    def sentry_routing_table(self) -> SentryRouting:
        """The whole table the router will use: defaults with this environment's entries applied."""
        return parse_sentry_routing(self.sentry_routing)


class VpcConfig(_Strict):
    vpc_id: Annotated[str, Field(pattern=r"^vpc-[0-9a-f]+$")]
    subnet_ids: Annotated[list[Annotated[str, Field(pattern=r"^subnet-[0-9a-f]+$")]], Field(min_length=1)]
    security_group_ids: Annotated[list[Annotated[str, Field(pattern=r"^sg-[0-9a-f]+$")]], Field(min_length=1)]


def _known_region(name: str) -> str:
    """A Region of the aws partition where Lambda runs, by botocore's bundled endpoint data (offline)."""
    if name not in _lambda_regions():
        close = difflib.get_close_matches(name, _lambda_regions(), n=1)
        raise ValueError(
            f"{name!r} is not an AWS Region with Lambda" + (f" (did you mean {close[0]}?)" if close else "")
        )
    return name


@functools.cache
def _lambda_regions() -> tuple[str, ...]:
    import botocore.session  # noqa: PLC0415 - synthesis only needs it with probe_regions

    return tuple(botocore.session.get_session().get_available_regions("lambda"))


RegionName = Annotated[str, AfterValidator(_known_region)]


class SyntheticsConfig(_Strict):
    schedule_minutes: Annotated[int, Field(ge=1, le=60)] = 1
    check_timeout_ms: Annotated[int, Field(ge=100, le=30_000)] = 3000
    run_deadline_ms: Annotated[int, Field(ge=500, le=60_000)] = 10_000
    lambda_timeout_seconds: Annotated[int, Field(ge=5, le=120)] = 30
    alarm_datapoints: Annotated[int, Field(ge=1, le=10)] = 3
    certificate_warning_days: Annotated[int, Field(ge=1, le=90)] = 21
    vpc: VpcConfig | None = None
    # None: the four default checks of lambdas/synthetic_monitor (the report's health endpoints).
    checks: list[dict[str, Any]] | None = None
    # How /health and /health/metrics are judged (lambdas/synthetic_monitor/reading.py): tolerant reads the common
    # Node shapes and counts what is missing (metric FieldMissing); strict requires docs/health-contract.schema.json.
    contract: Contract = "tolerant"
    # Tolerant only: number (cpu_percent, memory_percent, memory_bytes, uptime_seconds) -> candidate JSON paths that
    # replace its defaults, first present wins; [] stops reading a number the service does not report.
    metric_paths: dict[str, list[Any]] | None = None
    # The front end's page: set, it adds the `frontend` check (200, text/html, the marker if set, the budget).
    frontend_url: HttpUrl | None = None
    frontend_marker: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    frontend_latency_budget_ms: Annotated[int, Field(ge=100, le=30_000)] = FRONTEND_LATENCY_BUDGET_MS
    frontend_timeout_ms: Annotated[int, Field(ge=100, le=60_000)] = FRONTEND_TIMEOUT_MS
    # One probe stack per Region: the same function and checks, its results put into the home Region (`region`),
    # where alarms combine them. Empty: only the home Region probes (docs/operations/cost.md prices a Region).
    probe_regions: list[RegionName] = []
    # With probe regions: this many Regions (home included) failing a critical check is critical; fewer is a
    # warning per Region ("unreachable from <region>"). At least 2, or a single path could page.
    regions_failing_for_critical: Annotated[int, Field(ge=2, le=10)] = 2

    @model_validator(mode="after")
    def _probe_regions_distinct(self) -> SyntheticsConfig:
        repeated = sorted({region for region in self.probe_regions if self.probe_regions.count(region) > 1})
        if repeated:
            raise ValueError(f"probe_regions: {', '.join(repeated)} listed more than once")
        vantage_points = 1 + len(self.probe_regions)
        if self.probe_regions and self.regions_failing_for_critical > vantage_points:
            raise ValueError(
                f"regions_failing_for_critical: {self.regions_failing_for_critical} is more than the {vantage_points}"
                " Regions that probe (the home Region and probe_regions)"
            )
        return self

    @model_validator(mode="after")
    def _deadlines_nest(self) -> SyntheticsConfig:
        if self.check_timeout_ms > self.run_deadline_ms:
            raise ValueError("check_timeout_ms must not exceed run_deadline_ms")
        if self.run_deadline_ms > self.lambda_timeout_seconds * 1000 // 2:
            raise ValueError("run_deadline_ms must stay well below the Lambda timeout (at most half of it)")
        slow = [check.name for check in self.parsed_checks() if check.timeout_ms > self.run_deadline_ms]
        if slow:
            raise ValueError(f"checks {', '.join(slow)}: timeout_ms must not exceed run_deadline_ms")
        return self

    @field_validator("frontend_url", mode="before")
    @classmethod
    def _frontend_url_without_credentials(cls, url: object) -> object:
        return _refuse_credentials(url)

    @model_validator(mode="after")
    def _reading_parses(self) -> SyntheticsConfig:
        try:
            self.reading()  # the monitor's own parser, as for checks
        except ReadingError as error:
            raise ValueError(str(error)) from None
        return self

    @field_validator("checks")
    @classmethod
    def _checks_parse(cls, checks: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
        # The Lambda's own parser, so synthesis rejects exactly what the monitor would reject at run time.
        if checks is not None:
            parse_checks(checks, default_timeout_ms=DEFAULT_TIMEOUT_MS)
        return checks

    def parsed_checks(self) -> tuple[Check, ...]:
        """The checks the monitor will run (the contract's defaults when `checks` is unset, and the front end's),
        for alarms and dashboards."""
        specs = check_specs(self.checks, contract=self.contract, frontend=self.frontend())
        return parse_checks(specs, default_timeout_ms=self.check_timeout_ms)

    def frontend(self) -> Frontend | None:
        if self.frontend_url is None:
            return None
        return Frontend(
            url=str(self.frontend_url),
            marker=self.frontend_marker,
            latency_budget_ms=self.frontend_latency_budget_ms,
            timeout_ms=self.frontend_timeout_ms,
        )

    def reading(self) -> Reading:
        return reading_for(self.contract, self.metric_paths)


class SentryConfig(_Strict):
    # A DSN is Sentry's public client key: config is the right place for it. Its `<key>@` is the one
    # userinfo allowed in config (it is no credential); the pattern admits no password.
    dsn: Annotated[str, Field(pattern=r"^https://[0-9a-f]+@[A-Za-z0-9.-]+/[0-9]+$")] | None = None
    traces_sample_rate: Annotated[float, Field(ge=0, le=1)] = 0.0


class EnvironmentConfig(_Strict):
    service_name: Slug
    environment: Literal["staging", "production"]
    account: Annotated[str, Field(pattern=r"^[0-9]{12}$")] | None = None
    region: Annotated[str, Field(pattern=r"^[a-z]{2}(-[a-z]+)+-[0-9]$")] | None = None
    display_time_zone: str = "Asia/Tokyo"
    runbook_base_url: HttpUrl
    metrics_namespace: Annotated[str, Field(pattern=r"^[A-Za-z0-9]+$")] = "PeopleBooster"
    ecs: EcsConfig
    alb: AlbConfig
    rds: RdsConfig
    elasticache: ElastiCacheConfig
    health_base_url: HttpUrl
    thresholds: Thresholds = Thresholds()
    slack_channels: SlackChannels = SlackChannels()
    log_retention: LogRetention = LogRetention()
    logs: LogsConfig = LogsConfig()
    router: RouterConfig = RouterConfig()
    synthetics: SyntheticsConfig = SyntheticsConfig()
    sentry: SentryConfig = SentryConfig()

    @model_validator(mode="after")
    def _production_has_a_second_path(self) -> EnvironmentConfig:
        # The router's own alarms (DLQ depth, router errors) must reach a human when the router is broken.
        if self.environment == "production" and not self.router.fallback_email:
            raise ValueError(
                "router.fallback_email is required in production: the router's own alarms need a path around Slack"
            )
        return self

    @model_validator(mode="after")
    def _probe_regions_report_home(self) -> EnvironmentConfig:
        # The probes put their results into the home Region: it must be known, and be none of theirs.
        probes = self.synthetics.probe_regions
        if probes and self.region is None:
            raise ValueError("region is required with synthetics.probe_regions: the probes report into it")
        if self.region in probes:
            raise ValueError(
                f"synthetics.probe_regions: {self.region} is the home Region (region), which probes anyway"
            )
        return self

    @field_validator("runbook_base_url", "health_base_url", mode="before")
    @classmethod
    def _no_credentials(cls, url: object) -> object:
        return _refuse_credentials(url)

    @field_validator("display_time_zone")
    @classmethod
    def _known_time_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {name!r}") from error
        return name

    @property
    def prefix(self) -> str:
        """Stable prefix of every physical name: `<service>-<environment>`."""
        return f"{self.service_name}-{self.environment}"

    @property
    def runbook_base(self) -> str:
        return str(self.runbook_base_url).rstrip("/")


def _refuse_credentials(url: object) -> object:
    # A `mode="before"` validator, so pydantic never parses the URL and never puts it (and its password) in a message.
    if isinstance(url, str) and has_credentials(url):
        raise PydanticCustomError("url_credentials", CREDENTIALS_REFUSED)
    return url


def load_config(environment: str, config_dir: Path = CONFIG_DIR) -> EnvironmentConfig:
    """Read and validate config/<environment>.yaml; raise ConfigError with one clear line."""
    if environment not in ENVIRONMENTS:
        raise ConfigError(f"unknown environment {environment!r}: use one of {', '.join(ENVIRONMENTS)}")
    file = config_dir / f"{environment}.yaml"
    path = _shown(file)
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise ConfigError(f"{path}: file not found") from error
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML ({_one_line(str(error))})") from error
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of settings at the top level")
    if raw.get("environment", environment) != environment:
        raise ConfigError(f"{path}: environment: says {raw['environment']!r} but the file is for {environment!r}")
    try:
        config = EnvironmentConfig.model_validate(raw)
    except ValidationError as error:
        # A mistyped key also makes the right one "missing": the unknown key is the cause, so it comes first.
        problems = sorted(error.errors(), key=lambda problem: problem["type"] != "extra_forbidden")
        first = problems[0]
        field = ".".join(str(part) for part in first["loc"]) or "(top level)"
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise ConfigError(f"{path}: {field}: {_reason(first)}{more}") from error
    return config


def _reason(problem: ErrorDetails) -> str:
    if problem["type"] != "extra_forbidden":
        return _one_line(problem["msg"])
    *parents, key = problem["loc"]
    model = _model_at(parents)
    if model is None:
        return "unknown key"
    close = difflib.get_close_matches(str(key), list(model.model_fields), n=1)
    if close:
        return f"unknown key (did you mean {close[0]}?)"
    return f"unknown key (not a setting of {model.__name__} in infra/config.py)"


def _model_at(loc: list[int | str]) -> type[BaseModel] | None:
    """The config model that holds the keys at `loc` (list indexes skipped), or None for free-form data."""
    model: type[BaseModel] = EnvironmentConfig
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        found = _model_in(field.annotation) if field is not None else None
        if found is None:
            return None
        model = found
    return model


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model inside an annotation such as `X`, `X | None` or `list[X]`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in typing.get_args(annotation):
        if (found := _model_in(argument)) is not None:
            return found
    return None


def _shown(path: Path) -> Path:
    """The path as a person typed it: relative to the repository when inside it (config/staging.yaml)."""
    try:
        return path.resolve().relative_to(CONFIG_DIR.parent)
    except ValueError:
        return path


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()
