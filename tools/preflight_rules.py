"""What preflight judges, as pure functions over the config and what AWS answered: one Finding per problem.

tools/preflight.py makes the read-only calls and hands the answers here; nothing here does I/O, so each rule is
tested with AWS's documented response shapes (tests/unit/tools/test_preflight_rules.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from infra.config import EnvironmentConfig
from lambdas.alert_router.settings import DEPLOYED_WEBHOOK_URL, Settings, SettingsError, parse_bot, parse_webhooks
from lambdas.sentry_intake.settings import SettingsError as SentrySettingsError
from lambdas.sentry_intake.settings import client_secret_from_text
from lambdas.shared.secret import Secret
from tools.aws_account import candidates

# A reserved upper bound is within a few percent of the real max_connections (RDS reserves memory for the OS).
MAX_CONNECTIONS_TOLERANCE = 0.15
# "You can reserve up to the Unreserved account concurrency value that is shown, minus 100 for functions that
# don't have reserved concurrency": https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html
UNRESERVED_MINIMUM = 100
# The hex ids of the example config committed in config/*.yaml: they exist in nobody's account.
EXAMPLE_IDS = frozenset(
    {
        "5f1c2d3e4a5b6c7d",
        "1a2b3c4d5e6f7a8b",
        "8b7a6f5e4d3c2b1a",
        "9e8d7c6b5a4f3e2d",
        "2b3c4d5e6f7a8b9c",
        "9c8b7a6f5e4d3c2b",
    }
)
# Reserved by RFC 2606 for documentation: never a real host or mailbox.
EXAMPLE_DOMAINS = ("example.com", "example.org", "example.net")
ROLES = ("backend", "frontend")


class Level(StrEnum):
    ERROR = "ERROR"
    WARNING = "WARNING"
    INFO = "INFO"


@dataclass(frozen=True)
class Finding:
    level: Level
    subject: str  # the config field (ecs.cluster_name) or the deployed resource (secret <name>)
    message: str

    @property
    def line(self) -> str:
        return f"{self.level} {self.subject}: {self.message}"


def error(subject: str, message: str) -> Finding:
    return Finding(Level.ERROR, subject, message)


def warning(subject: str, message: str) -> Finding:
    return Finding(Level.WARNING, subject, message)


def not_found(subject: str, what: str, known: Iterable[str], where: str = "") -> Finding:
    """`ERROR <subject>: <what> not found[ in <where>] (candidates: a, b)`: the id is wrong, here is what exists."""
    return error(subject, f"{what} not found{f' in {where}' if where else ''} (candidates: {candidates(known)})")


def placeholders(config: EnvironmentConfig) -> list[Finding]:
    """Every setting that is still an example: an RFC 2606 domain or an example id of the committed configs."""
    findings = []
    for path, value in _strings(config.model_dump(mode="json")):
        lowered = value.lower()
        if any(f"{domain}" in lowered for domain in EXAMPLE_DOMAINS):
            findings.append(error(path, f"{value!r} is a placeholder (an example.com address): put the real one"))
        elif set(value.split("/")) & EXAMPLE_IDS:
            findings.append(
                error(
                    path,
                    f"{value!r} is the example id committed in config/*.yaml: run make discover"
                    f" ENV={config.environment} CLUSTER=<cluster>, or copy the id from the console",
                )
            )
    return findings


def _strings(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _strings(value, f"{path}.{index}")
    elif isinstance(node, str):
        yield path, node


def judge_max_connections(
    configured: int, expected: int, *, exact: bool, how: str, alarm_percent: float
) -> Finding | None:
    """A warning with the right number when `configured` is not the instance's max_connections.

    `exact`: the parameter group sets the value. Otherwise `expected` comes from the class's whole memory, a
    slight upper bound, so a value a little below it is right and one above it is not.
    """
    if exact:
        wrong = configured != expected
    else:
        wrong = configured > expected or configured < expected * (1 - MAX_CONNECTIONS_TOLERANCE)
    if not wrong:
        return None
    fires_at = alarm_percent * configured / expected
    bound = "" if exact else " (a few percent less in practice: RDS reserves memory; SHOW max_connections is exact)"
    return warning(
        "rds.max_connections",
        f"{configured}, but {how} gives {expected}{bound}: set max_connections: {expected}; as configured, the"
        f" connections alarm ({alarm_percent:g}%) fires at {fires_at:.0f}% of the real limit",
    )


def judge_sizes(
    *, memory_gib: float | None, class_memory_gib: float | None, storage_gib: int | None, allocated_gib: int | None
) -> list[Finding]:
    """rds.memory_gib and rds.allocated_storage_gib, when set, must be the instance's: the FreeableMemory and
    FreeStorageSpace alarms are a share of them."""
    findings = []
    if memory_gib is not None and class_memory_gib is not None and abs(memory_gib - class_memory_gib) > 0.01:
        findings.append(
            warning(
                "rds.memory_gib",
                f"{memory_gib:g}, but the instance class has {class_memory_gib:g} GiB: set memory_gib:"
                f" {class_memory_gib:g} (the FreeableMemory alarm is a share of it)",
            )
        )
    if storage_gib is not None and allocated_gib is not None and storage_gib != allocated_gib:
        findings.append(
            warning(
                "rds.allocated_storage_gib",
                f"{storage_gib}, but the instance has {allocated_gib} GiB allocated: set allocated_storage_gib:"
                f" {allocated_gib} (the FreeStorageSpace alarm is a share of it)",
            )
        )
    return findings


def judge_members(configured: Sequence[str], group_id: str, members: Sequence[str]) -> Finding | None:
    if set(configured) == set(members):
        return None
    missing = sorted(set(members) - set(configured))
    extra = sorted(set(configured) - set(members))
    parts = ([f"missing: {', '.join(missing)}"] if missing else []) + (
        [f"not members: {', '.join(extra)}"] if extra else []
    )
    return error(
        "elasticache.cache_cluster_ids",
        f"[{', '.join(configured)}] are not the member clusters of {group_id!r} [{', '.join(members)}]"
        f" ({'; '.join(parts)}): each member is one Redis node the alarms watch",
    )


def judge_log_configuration(
    environment: str, region: str, service: str, task_definition: str, containers: Sequence[Mapping[str, Any]]
) -> list[str]:
    """Why a service's task definition does not send its logs to the stack's `/aws/ecs/<env>/*` groups.

    awslogs options: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html
    """
    ours = f"/aws/ecs/{environment}/"
    application = f"{ours}application"
    problems: list[str] = []
    groups = []
    for container in containers:
        name = container.get("name", "?")
        logging = container.get("logConfiguration") or {}
        options = logging.get("options") or {}
        if logging.get("logDriver") != "awslogs":
            problems.append(f"container {name} logs with {logging.get('logDriver') or 'no log driver'}, not awslogs")
            continue
        group = str(options.get("awslogs-group", ""))
        groups.append(group)
        if not group.startswith(ours):
            problems.append(f"container {name} logs to {group or '(no awslogs-group)'}, not {ours}*")
        elif options.get("awslogs-region", region) != region:
            problems.append(f"container {name} logs to {group} in {options['awslogs-region']}, not {region}")
    if application not in groups and not problems:
        problems.append(f"no container logs to {application}")
    if not problems:
        return []
    return [
        f"task definition {task_definition.rsplit('/', 1)[-1]} of service {service!r}: {'; '.join(problems)}: the"
        " stack's log groups, metric filters and saved queries see nothing from it (deployment guide: point the"
        " task definitions at the log groups)"
    ]


@dataclass(frozen=True)
class ReservedFunction:
    name: str
    reserved: int


def reserved_functions(template: Mapping[str, Any]) -> list[ReservedFunction]:
    """The template's functions with reserved concurrency (their fixed FunctionName and the number)."""
    functions = []
    for resource in template.get("Resources", {}).values():
        properties = resource.get("Properties", {})
        reserved = properties.get("ReservedConcurrentExecutions")
        if resource.get("Type") == "AWS::Lambda::Function" and isinstance(reserved, int):
            name = properties.get("FunctionName")
            functions.append(ReservedFunction(name if isinstance(name, str) else "(unnamed)", reserved))
    return sorted(functions, key=lambda function: function.name)


def judge_concurrency(
    functions: Sequence[ReservedFunction], *, limit: int, unreserved: int, reserved_now: int
) -> Finding | None:
    """An error when deploying would leave less unreserved concurrency than Lambda's minimum.

    `reserved_now`: what the stack's functions already reserve (an update only adds the difference).
    """
    needed = sum(function.reserved for function in functions)
    after = unreserved - (needed - reserved_now)
    if after >= UNRESERVED_MINIMUM:
        return None
    breakdown = ", ".join(f"{function.name} {function.reserved}" for function in functions)
    return error(
        "router.reserved_concurrency",
        f"the stack reserves {needed} concurrent executions ({breakdown}); the account allows {limit}, {unreserved}"
        f" unreserved, and Lambda keeps at least {UNRESERVED_MINIMUM} unreserved, so the deploy would fail"
        f" (it would leave {after}): lower router.reserved_concurrency or raise the quota 'Concurrent executions'"
        " (Service Quotas, AWS Lambda)",
    )


def judge_subscriptions(email: str, topic_arn: str, subscriptions: Sequence[Mapping[str, Any]]) -> Finding | None:
    """The fallback email must be a confirmed subscription of the fallback topic.

    An unconfirmed one is listed with SubscriptionArn "PendingConfirmation":
    https://docs.aws.amazon.com/sns/latest/api/API_ListSubscriptionsByTopic.html
    """
    mine = [
        item
        for item in subscriptions
        if item.get("Protocol") == "email" and str(item.get("Endpoint", "")).lower() == email.lower()
    ]
    topic = topic_arn.rsplit(":", 1)[-1]
    if not mine:
        return warning(
            "router.fallback_email",
            f"{email} is not subscribed to {topic}: deploy again (make deploy) to create the subscription",
        )
    if all(item.get("SubscriptionArn") == "PendingConfirmation" for item in mine):
        return warning(
            "router.fallback_email",
            f"{email} has not confirmed its subscription to {topic}: open the email from AWS Notifications and"
            " click Confirm subscription; until then the router's own alarms reach nobody when Slack fails",
        )
    return None


def slack_secret_problem(text: str, channels: Sequence[str]) -> str | None:
    """What the deployed router would make of its Slack secret, with its own parsers (settings.py)."""
    try:
        value = json.loads(text)
    except ValueError:
        return "is not JSON: the router rejects it"
    try:
        if isinstance(value, dict) and "bot_token" in value:
            token = value.get("bot_token")
            known = parse_bot(
                token if isinstance(token, str) else "",
                json.dumps(value.get("channel_ids")),
                "its channel_ids",
                Settings(),
            ).channel_ids
        else:
            known = parse_webhooks(text, "it", DEPLOYED_WEBHOOK_URL)
    except SettingsError as rejected:
        return f"is rejected by the router: {rejected}"
    missing = [channel for channel in channels if channel not in known]
    if missing:
        return f"has nothing for {', '.join('#' + c for c in missing)}: the router cannot post there"
    return None


@dataclass(frozen=True)
class WatchedMetric:
    subject: str
    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]


def watched_metrics(config: EnvironmentConfig) -> list[WatchedMetric]:
    """One metric per monitored resource that AWS publishes whenever the resource is alive (not on errors)."""
    ecs = config.ecs
    metrics = [
        WatchedMetric(
            f"ecs.{role}_service_name",
            "AWS/ECS",
            "CPUUtilization",
            (("ClusterName", ecs.cluster_name), ("ServiceName", getattr(ecs, f"{role}_service_name"))),
        )
        for role in ROLES
    ]
    metrics.append(
        WatchedMetric("alb.full_name", "AWS/ApplicationELB", "RequestCount", (("LoadBalancer", config.alb.full_name),))
    )
    metrics += [
        WatchedMetric(
            f"alb.target_groups.{index}.full_name",
            "AWS/ApplicationELB",
            "HealthyHostCount",
            (("TargetGroup", group.full_name), ("LoadBalancer", config.alb.full_name)),
        )
        for index, group in enumerate(config.alb.target_groups)
    ]
    metrics.append(
        WatchedMetric(
            "rds.instance_identifier",
            "AWS/RDS",
            "CPUUtilization",
            (("DBInstanceIdentifier", config.rds.instance_identifier),),
        )
    )
    metrics += [
        WatchedMetric(
            f"elasticache.cache_cluster_ids.{index}",
            "AWS/ElastiCache",
            "CPUUtilization",
            (("CacheClusterId", cluster), ("CacheNodeId", config.elasticache.cache_node_id)),
        )
        for index, cluster in enumerate(config.elasticache.cache_cluster_ids)
    ]
    return metrics


def sentry_secret_problem(text: str) -> str | None:
    try:
        client_secret_from_text(Secret(text))
    except SentrySettingsError as rejected:
        return f"is rejected by the Sentry intake: {rejected}"
    return None


def alarm_dimensions(alarm: Mapping[str, Any]) -> list[tuple[str, str]]:
    dimensions = [(d["Name"], d["Value"]) for d in alarm.get("Dimensions", [])]
    for query in alarm.get("Metrics", []):
        metric = query.get("MetricStat", {}).get("Metric", {})
        dimensions += [(d["Name"], d["Value"]) for d in metric.get("Dimensions", [])]
    return dimensions


def fields_by_id(config: EnvironmentConfig) -> dict[str, str]:
    fields = {
        config.ecs.cluster_name: "ecs.cluster_name",
        config.alb.full_name: "alb.full_name",
        config.rds.instance_identifier: "rds.instance_identifier",
    }
    fields |= {getattr(config.ecs, f"{role}_service_name"): f"ecs.{role}_service_name" for role in ROLES}
    fields |= {g.full_name: f"alb.target_groups.{i}.full_name" for i, g in enumerate(config.alb.target_groups)}
    fields |= {c: f"elasticache.cache_cluster_ids.{i}" for i, c in enumerate(config.elasticache.cache_cluster_ids)}
    return fields
