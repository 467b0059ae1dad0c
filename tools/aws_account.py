"""Read-only lookups in the AWS account of the current credentials: what preflight, discover and smoke share.

Every call goes through boto3 with the current credentials. boto3 (>= 1.28) honours `AWS_ENDPOINT_URL` (and
`AWS_ENDPOINT_URL_<SERVICE>`), so the tests point these tools at a moto server on 127.0.0.1 with no code for it.
Lookups return small typed records; judging them is the caller's business. A call that cannot be made at all
(no credentials, an endpoint that refuses, a wrong region) raises `AccountError` with one line for a human.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
)

from infra.config import ConfigError, EnvironmentConfig, load_config

# Short bounds: a person waits for these tools. Two attempts ride out a throttle; a dead endpoint fails fast.
CLIENT_CONFIG = Config(connect_timeout=5, read_timeout=20, retries={"max_attempts": 2, "mode": "standard"})
SHOWN_CANDIDATES = 10

# AWS's documented default `max_connections` per engine, in the parameter groups' own formula syntax:
# https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Limits.html#RDS_Limits.MaxConnections
# DBInstanceClassMemory is the class's memory minus what the OS and RDS reserve, so a value computed from the
# class's whole memory is a slight upper bound (a few percent: `SHOW max_connections` gives the exact one).
DEFAULT_MAX_CONNECTIONS_FORMULAS = {
    "postgres": "LEAST({DBInstanceClassMemory/9531392},5000)",
    "mysql": "{DBInstanceClassMemory/12582880}",
    "mariadb": "{DBInstanceClassMemory/12582880}",
}
_MEMORY_TERM = r"\{DBInstanceClassMemory/(\d+)\}"
_FORMULAS = (
    re.compile(rf"^LEAST\({_MEMORY_TERM},(\d+)\)$"),
    re.compile(rf"^{_MEMORY_TERM}$"),
)

T = TypeVar("T")


class AccountError(Exception):
    """The account cannot be asked at all (credentials, endpoint, region); the message is one line."""


def one_line(error: BaseException | str) -> str:
    return " ".join(str(error).split())


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def refusal(error: ClientError) -> str:
    """`GetAccountSettings answered AccessDenied: <message>`: what AWS said, without an HTML error page."""
    message = " ".join(str(error.response.get("Error", {}).get("Message", "")).split())
    shown = f": {message}" if message and not message.startswith("<") else ""
    return f"{error.operation_name} answered {error_code(error) or 'an error'}{shown}"


def describe_failure(error: BaseException) -> str:
    """One line for a failed AWS call, saying what to do where the cause is clear."""
    if isinstance(error, NoCredentialsError | PartialCredentialsError):
        return (
            "no AWS credentials: log in (aws sso login --profile ...; export AWS_PROFILE=...) or set"
            " AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
        )
    if isinstance(error, EndpointConnectionError):
        return f"cannot reach AWS: {one_line(error)} (check AWS_ENDPOINT_URL, the network or the region)"
    if isinstance(error, ClientError) and error_code(error) in {"ExpiredToken", "ExpiredTokenException"}:
        return "the AWS credentials have expired: log in again (aws sso login --profile ...)"
    if isinstance(error, ClientError):
        return f"AWS call failed: {refusal(error)}"
    return f"AWS call failed: {one_line(error)}"


def load_config_or_fail(environment: str, config_dir: Any) -> EnvironmentConfig:
    """load_config, with a file that exists but cannot be read also reported in one line."""
    try:
        return load_config(environment, config_dir)
    except OSError as error:  # load_config reports a missing file; permission or a directory land here
        raise ConfigError(f"{config_dir}/{environment}.yaml: cannot read ({error.strerror or error})") from None


def credentials_region(environ: Mapping[str, str]) -> str | None:
    """The region the CDK CLI and boto3 would use: AWS_REGION, then AWS_DEFAULT_REGION, then the profile's."""
    explicit = environ.get("AWS_REGION", "").strip()
    if explicit:
        return explicit
    region = boto3.session.Session().region_name
    return str(region) if region else None


@dataclass
class Aws:
    """Clients for one region, created on first use from one session (it loads each service model once);
    `clients` lets a test hand in its own (a Stubber's), `session` one shared by many runs."""

    region: str
    clients: dict[str, Any] = field(default_factory=dict)
    session: boto3.session.Session | None = None

    def client(self, service: str) -> Any:
        if service not in self.clients:
            self.session = self.session or boto3.session.Session()
            self.clients[service] = self.session.client(service, region_name=self.region, config=CLIENT_CONFIG)
        return self.clients[service]


def connect(
    environment: str, region: str | None, account: str | None, environ: Mapping[str, str], aws: Aws | None = None
) -> tuple[Aws, str]:
    """Clients in the config's `region` and the account id; AccountError when the credentials disagree.

    A mismatch is refused before anything is looked up: every other answer would come from the wrong place.
    """
    found = credentials_region(environ)
    if region and found and found != region:
        raise AccountError(
            f"region: config/{environment}.yaml says {region} but the credentials' region is {found} (AWS_REGION,"
            f" AWS_DEFAULT_REGION or the profile's region): switch the profile or set AWS_REGION={region}"
        )
    region = region or found
    if not region:
        raise AccountError(f"no region: set region in config/{environment}.yaml or AWS_REGION")
    aws = aws or Aws(region)
    actual = str(call(aws.client("sts").get_caller_identity)["Account"])
    if account and actual != account:
        raise AccountError(
            f"account: config/{environment}.yaml says {account} but the credentials are for account {actual}"
        )
    return aws, actual


def call(function: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run one AWS call; failures that mean "cannot ask at all" become AccountError, ClientErrors pass."""
    try:
        return function(*args, **kwargs)
    except (NoCredentialsError, PartialCredentialsError, EndpointConnectionError, NoRegionError) as error:
        raise AccountError(describe_failure(error)) from None
    except ClientError as error:
        if error_code(error) in {
            "ExpiredToken",
            "ExpiredTokenException",
            "InvalidClientTokenId",
            "UnrecognizedClientException",
        }:
            raise AccountError(describe_failure(error)) from None
        raise
    except BotoCoreError as error:
        raise AccountError(describe_failure(error)) from None


def paged(client: Any, operation: str, key: str, **arguments: Any) -> list[Any]:
    items: list[Any] = []
    for page in call(lambda: list(client.get_paginator(operation).paginate(**arguments))):
        items.extend(page.get(key, []))
    return items


def candidates(names: Iterable[str]) -> str:
    """`a, b, c (+4 more)`, or `none`."""
    unique = sorted(set(names))
    if not unique:
        return "none"
    shown = ", ".join(unique[:SHOWN_CANDIDATES])
    return shown + (f" (+{len(unique) - SHOWN_CANDIDATES} more)" if len(unique) > SHOWN_CANDIDATES else "")


def arn_resource(arn: str, kind: str) -> str:
    """The part of an ARN from `kind/`: `targetgroup/<name>/<hex>` or `app/<name>/<hex>` (for `loadbalancer/`).

    These are the CloudWatch dimension values (TargetGroup, LoadBalancer) the config holds:
    https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html
    """
    resource = arn.split(":", 5)[-1]
    return resource.removeprefix("loadbalancer/") if kind == "loadbalancer" else resource


# --- ECS -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EcsService:
    name: str
    target_group_arns: tuple[str, ...]
    task_definition: str


def cluster_names(aws: Aws) -> list[str]:
    return [arn.rsplit("/", 1)[-1] for arn in paged(aws.client("ecs"), "list_clusters", "clusterArns")]


@dataclass(frozen=True)
class Cluster:
    name: str
    container_insights: bool  # its containerInsights setting is enabled (or enhanced)


def cluster(aws: Aws, name: str) -> Cluster | None:
    """The active cluster `name` with its settings, or None."""
    found = call(aws.client("ecs").describe_clusters, clusters=[name], include=["SETTINGS"])
    for item in found.get("clusters", []):
        if item.get("status") == "ACTIVE":
            settings = {s.get("name"): s.get("value") for s in item.get("settings", [])}
            return Cluster(
                name=item["clusterName"],
                container_insights=settings.get("containerInsights") in {"enabled", "enhanced"},
            )
    return None


def service_names(aws: Aws, cluster: str) -> list[str]:
    return [arn.rsplit("/", 1)[-1] for arn in paged(aws.client("ecs"), "list_services", "serviceArns", cluster=cluster)]


def ecs_services(aws: Aws, cluster: str, names: Sequence[str] | None = None) -> dict[str, EcsService]:
    """The cluster's active services by name (only `names`, when given)."""
    ecs = aws.client("ecs")
    if names is None:
        names = service_names(aws, cluster)
    services: dict[str, EcsService] = {}
    for start in range(0, len(names), 10):  # DescribeServices takes at most 10
        batch = list(names[start : start + 10])
        found = call(ecs.describe_services, cluster=cluster, services=batch)
        for item in found.get("services", []):
            if item.get("status") != "ACTIVE":
                continue
            services[item["serviceName"]] = EcsService(
                name=item["serviceName"],
                target_group_arns=tuple(
                    lb["targetGroupArn"] for lb in item.get("loadBalancers", []) if lb.get("targetGroupArn")
                ),
                task_definition=item.get("taskDefinition", ""),
            )
    return services


def container_definitions(aws: Aws, task_definition: str) -> list[dict[str, Any]]:
    found = call(aws.client("ecs").describe_task_definition, taskDefinition=task_definition)
    return list(found["taskDefinition"].get("containerDefinitions", []))


# --- Elastic Load Balancing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadBalancer:
    arn: str
    full_name: str  # app/<name>/<hex>
    type: str


@dataclass(frozen=True)
class TargetGroup:
    arn: str
    full_name: str  # targetgroup/<name>/<hex>
    load_balancer_arns: tuple[str, ...]


def _load_balancer(item: Mapping[str, Any]) -> LoadBalancer:
    arn = item["LoadBalancerArn"]
    return LoadBalancer(arn=arn, full_name=arn_resource(arn, "loadbalancer"), type=item.get("Type", ""))


def _target_group(item: Mapping[str, Any]) -> TargetGroup:
    arn = item["TargetGroupArn"]
    return TargetGroup(
        arn=arn, full_name=arn_resource(arn, "targetgroup"), load_balancer_arns=tuple(item.get("LoadBalancerArns", []))
    )


def _unless_missing(code: str, function: Callable[..., T], /, **kwargs: Any) -> T | None:
    """The call's answer, or None when AWS answers `code` (the resource does not exist)."""
    try:
        return call(function, **kwargs)
    except ClientError as error:
        if error_code(error) == code:
            return None
        raise


def load_balancer_named(aws: Aws, name: str) -> LoadBalancer | None:
    elb = aws.client("elbv2")
    found = _unless_missing("LoadBalancerNotFound", elb.describe_load_balancers, Names=[name])
    return _load_balancer(found["LoadBalancers"][0]) if found and found.get("LoadBalancers") else None


def load_balancers(aws: Aws, arns: Sequence[str] | None = None) -> list[LoadBalancer]:
    arguments = {"LoadBalancerArns": list(arns)} if arns else {}
    return [
        _load_balancer(item)
        for item in paged(aws.client("elbv2"), "describe_load_balancers", "LoadBalancers", **arguments)
    ]


def target_group_named(aws: Aws, name: str) -> TargetGroup | None:
    elb = aws.client("elbv2")
    found = _unless_missing("TargetGroupNotFound", elb.describe_target_groups, Names=[name])
    return _target_group(found["TargetGroups"][0]) if found and found.get("TargetGroups") else None


def target_groups(aws: Aws, *, arns: Sequence[str] = (), load_balancer_arn: str | None = None) -> list[TargetGroup]:
    arguments: dict[str, Any] = {}
    if arns:
        arguments["TargetGroupArns"] = list(arns)
    if load_balancer_arn:
        arguments["LoadBalancerArn"] = load_balancer_arn
    return [
        _target_group(item)
        for item in paged(aws.client("elbv2"), "describe_target_groups", "TargetGroups", **arguments)
    ]


# --- RDS ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DbInstance:
    identifier: str
    instance_class: str
    engine: str
    parameter_group: str | None
    allocated_storage_gib: int | None = None
    tags: tuple[tuple[str, str], ...] = ()


def _db_instance(item: Mapping[str, Any]) -> DbInstance:
    groups = item.get("DBParameterGroups", [])
    return DbInstance(
        identifier=item["DBInstanceIdentifier"],
        instance_class=item.get("DBInstanceClass", ""),
        engine=item.get("Engine", ""),
        parameter_group=groups[0]["DBParameterGroupName"] if groups else None,
        allocated_storage_gib=item.get("AllocatedStorage"),
        tags=tuple((tag["Key"], tag["Value"]) for tag in item.get("TagList", [])),
    )


def db_instance(aws: Aws, identifier: str) -> DbInstance | None:
    rds = aws.client("rds")
    found = _unless_missing("DBInstanceNotFound", rds.describe_db_instances, DBInstanceIdentifier=identifier)
    return _db_instance(found["DBInstances"][0]) if found and found.get("DBInstances") else None


def db_instances(aws: Aws) -> list[DbInstance]:
    return [_db_instance(item) for item in paged(aws.client("rds"), "describe_db_instances", "DBInstances")]


@dataclass(frozen=True)
class MaxConnections:
    value: int
    how: str  # where the number comes from, for a person: the parameter group, or the formula and the memory
    exact: bool  # set in the parameter group; otherwise computed from the class's whole memory (an upper bound)


def evaluate_max_connections(formula: str, memory_bytes: int) -> int | None:
    """A parameter group's max_connections formula for a class with `memory_bytes`; None if not understood.

    RDS formula division keeps the integer part:
    https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ParamValuesRef.html
    """
    text = formula.replace(" ", "")
    for pattern in _FORMULAS:
        match = pattern.match(text)
        if match:
            value = memory_bytes // int(match.group(1))
            return min(value, int(match.group(2))) if pattern.groups == 2 else value
    return None


def max_connections(aws: Aws, instance: DbInstance, memory_mib: int | None = None) -> MaxConnections:
    """The instance's max_connections: the parameter group's explicit value, else its formula (or the engine's
    documented default) over the class's memory (`memory_mib`, else looked up). Raises LookupError with a reason
    when it cannot tell."""
    formula = DEFAULT_MAX_CONNECTIONS_FORMULAS.get(instance.engine)
    source = f"the {instance.engine} default"
    if instance.parameter_group:
        parameters = paged(
            aws.client("rds"), "describe_db_parameters", "Parameters", DBParameterGroupName=instance.parameter_group
        )
        value = next(
            (
                str(p["ParameterValue"])
                for p in parameters
                if p.get("ParameterName") == "max_connections" and p.get("ParameterValue")
            ),
            None,
        )
        if value is not None and value.strip().isdigit():
            return MaxConnections(
                int(value),
                f"parameter group {instance.parameter_group} (max_connections = {value.strip()})",
                exact=True,
            )
        if value is not None:
            formula, source = value, f"parameter group {instance.parameter_group}"
    if formula is None:
        raise LookupError(f"no documented max_connections default for engine {instance.engine!r}")
    memory_mib = memory_mib or instance_class_memory_mib(aws, instance.instance_class)
    computed = evaluate_max_connections(formula, memory_mib * 1024 * 1024)
    if computed is None:
        raise LookupError(f"cannot evaluate the max_connections formula {formula!r} of {source}")
    return MaxConnections(computed, f"{instance.instance_class} ({memory_mib} MiB), {source}: {formula}", exact=False)


def instance_class_memory_mib(aws: Aws, instance_class: str) -> int:
    """Memory of a DB instance class from its EC2 instance type (db.r6g.large -> r6g.large)."""
    instance_type = instance_class.removeprefix("db.")
    try:
        found = call(aws.client("ec2").describe_instance_types, InstanceTypes=[instance_type])
    except ClientError as error:
        raise LookupError(f"cannot read the memory of {instance_class} ({one_line(error)})") from None
    types = found.get("InstanceTypes", [])
    if not types:
        raise LookupError(f"no EC2 instance type {instance_type} for the memory of {instance_class}")
    return int(types[0]["MemoryInfo"]["SizeInMiB"])


# --- ElastiCache --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReplicationGroup:
    id: str
    arn: str
    member_clusters: tuple[str, ...]
    node_ids: tuple[str, ...]


def _replication_group(item: Mapping[str, Any]) -> ReplicationGroup:
    node_ids = {
        member["CacheNodeId"]
        for group in item.get("NodeGroups", [])
        for member in group.get("NodeGroupMembers", [])
        if member.get("CacheNodeId")
    }
    return ReplicationGroup(
        id=item["ReplicationGroupId"],
        arn=item.get("ARN", ""),
        member_clusters=tuple(item.get("MemberClusters", [])),
        node_ids=tuple(sorted(node_ids)),
    )


def replication_group(aws: Aws, group_id: str) -> ReplicationGroup | None:
    elasticache = aws.client("elasticache")
    found = _unless_missing(
        "ReplicationGroupNotFoundFault", elasticache.describe_replication_groups, ReplicationGroupId=group_id
    )
    return _replication_group(found["ReplicationGroups"][0]) if found and found.get("ReplicationGroups") else None


def replication_groups(aws: Aws) -> list[ReplicationGroup]:
    items = paged(aws.client("elasticache"), "describe_replication_groups", "ReplicationGroups")
    return [_replication_group(item) for item in items]


def elasticache_tags(aws: Aws, arn: str) -> tuple[tuple[str, str], ...]:
    found = call(aws.client("elasticache").list_tags_for_resource, ResourceName=arn)
    return tuple((tag["Key"], tag["Value"]) for tag in found.get("TagList", []))


def metric_has_data(results: Mapping[str, Any]) -> bool:
    return any(not math.isnan(value) for value in results.get("Values", []))
