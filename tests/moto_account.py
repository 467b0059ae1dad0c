"""A moto account holding what one environment's config names: the monitored service and, optionally, the stack.

`build_service` creates, through the ordinary AWS APIs, the resources a PeopleBooster environment has (an ECS
cluster with a backend and a frontend service behind one ALB, their target groups, an RDS instance and a Redis
replication group) and their CloudWatch metrics. `config_for` writes the config file that names them, keeping
the committed config's other settings. `deploy_stack_parts` adds what the deployed stack would hold (its
CloudFormation stack, secrets, fallback topic, an alarm). The same functions drive an in-process `mock_aws` or a
moto server (clients with `endpoint_url`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import yaml

from tests.aws_tables import REGION

REPO = Path(__file__).resolve().parents[1]
Clients = Callable[[str], Any]
# One session for every test: it parses each service's model once (a new client costs ~100 ms otherwise).
# Its credentials are read at its first client, inside a test: the fake ones of tests/aws_tables.py.
SESSION = boto3.session.Session()


def moto_clients(**options: Any) -> Clients:
    """Clients of SESSION in REGION, one per service (`endpoint_url=` for a moto server)."""
    made: dict[str, Any] = {}

    def client(service: str) -> Any:
        if service not in made:
            made[service] = SESSION.client(service, region_name=REGION, **options)
        return made[service]

    return client


APPLICATION_LOGS = "/aws/ecs/{environment}/application"
VALID_WEBHOOKS = {
    "alerts-critical": "https://hooks.slack.com/services/T0/B1/critical",
    "alerts-errors": "https://hooks.slack.com/services/T0/B2/errors",
    "alerts-performance": "https://hooks.slack.com/services/T0/B3/performance",
}


@dataclass
class Service:
    """The ids the config must name (what discover should find and preflight should accept)."""

    environment: str
    cluster: str
    services: dict[str, str]  # role -> ECS service name
    alb: str  # app/<name>/<hex>
    target_groups: dict[str, str]  # role -> targetgroup/<name>/<hex>
    rds: str
    redis: str
    redis_members: list[str]
    arns: dict[str, str] = field(default_factory=dict)


def _network(ec2: Any) -> tuple[list[str], str]:
    """Two subnets in two zones (an ALB needs them) and their VPC."""
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{zone}")["Subnet"]
        for i, zone in enumerate("ac", start=1)
    ]
    return [subnet["SubnetId"] for subnet in subnets], vpc


def build_service(
    clients: Clients,
    *,
    environment: str = "staging",
    prefix: str = "pb",
    log_group: str | None = None,
    metrics: bool = True,
    extra_services: tuple[str, ...] = (),
    container_insights: bool = False,
) -> Service:
    """The monitored service of one environment; `extra_services` adds services without a load balancer."""
    name = f"{prefix}-{environment}"
    ec2, elb, ecs = clients("ec2"), clients("elbv2"), clients("ecs")
    subnets, vpc = _network(ec2)
    balancer = elb.create_load_balancer(Name=f"{name}-alb", Subnets=subnets, Type="application")["LoadBalancers"][0]
    groups: dict[str, dict[str, Any]] = {}
    for port, role in ((80, "backend"), (8080, "frontend")):
        group = elb.create_target_group(Name=f"{name}-{role}", Protocol="HTTP", Port=port, VpcId=vpc)
        groups[role] = group["TargetGroups"][0]
        elb.create_listener(
            LoadBalancerArn=balancer["LoadBalancerArn"],
            Protocol="HTTP",
            Port=port,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": groups[role]["TargetGroupArn"]}],
        )
    insights = "enabled" if container_insights else "disabled"
    ecs.create_cluster(clusterName=name, settings=[{"name": "containerInsights", "value": insights}])
    logs = log_group or APPLICATION_LOGS.format(environment=environment)
    services = {}
    for role in ("backend", "frontend", *extra_services):
        service = f"{name}-{role}"
        ecs.register_task_definition(
            family=service,
            containerDefinitions=[
                {
                    "name": "app",
                    "image": "public.ecr.aws/docker/library/node:22",
                    "memory": 512,
                    "logConfiguration": {
                        "logDriver": "awslogs",
                        "options": {"awslogs-group": logs, "awslogs-region": REGION, "awslogs-stream-prefix": role},
                    },
                }
            ],
        )
        balanced = (
            [{"targetGroupArn": groups[role]["TargetGroupArn"], "containerName": "app", "containerPort": 80}]
            if role in groups
            else []
        )
        ecs.create_service(
            cluster=name, serviceName=service, taskDefinition=service, desiredCount=1, loadBalancers=balanced
        )
        services[role] = service
    add_database(clients, f"{name}-db", environment)
    group = add_cache(clients, f"{name}-redis", environment)
    found = Service(
        environment=environment,
        cluster=name,
        services={role: services[role] for role in ("backend", "frontend")},
        alb=balancer["LoadBalancerArn"].split("loadbalancer/", 1)[1],
        target_groups={role: g["TargetGroupArn"].split(":", 5)[-1] for role, g in groups.items()},
        rds=f"{name}-db",
        redis=group["ReplicationGroupId"],
        redis_members=list(group["MemberClusters"]),
        arns={f"targetgroup:{role}": g["TargetGroupArn"] for role, g in groups.items()}
        | {"loadbalancer": balancer["LoadBalancerArn"]},
    )
    if metrics:
        put_metrics(clients, found)
    return found


def add_database(clients: Clients, identifier: str, environment: str, instance_class: str = "db.t4g.small") -> None:
    """A PostgreSQL instance on the default parameter group, tagged environment=<environment>."""
    clients("rds").create_db_instance(
        DBInstanceIdentifier=identifier,
        DBInstanceClass=instance_class,
        Engine="postgres",
        MasterUsername="app",
        MasterUserPassword="not-a-real-password-1",
        AllocatedStorage=20,
        Tags=[{"Key": "environment", "Value": environment}],
    )


def add_cache(clients: Clients, group_id: str, environment: str) -> dict[str, Any]:
    """A Redis replication group of one node, tagged environment=<environment>."""
    created: dict[str, Any] = clients("elasticache").create_replication_group(
        ReplicationGroupId=group_id,
        ReplicationGroupDescription="sessions",
        Engine="redis",
        CacheNodeType="cache.t4g.small",
        NumCacheClusters=1,
        Tags=[{"Key": "environment", "Value": environment}],
    )["ReplicationGroup"]
    return created


def metric_data(service: Service) -> Iterator[tuple[str, str, dict[str, str]]]:
    """(namespace, metric, dimensions) of the metrics AWS publishes for these resources while they live."""
    for name in service.services.values():
        yield "AWS/ECS", "CPUUtilization", {"ClusterName": service.cluster, "ServiceName": name}
    yield "AWS/ApplicationELB", "RequestCount", {"LoadBalancer": service.alb}
    for group in service.target_groups.values():
        yield "AWS/ApplicationELB", "HealthyHostCount", {"TargetGroup": group, "LoadBalancer": service.alb}
    yield "AWS/RDS", "CPUUtilization", {"DBInstanceIdentifier": service.rds}
    for member in service.redis_members:
        yield "AWS/ElastiCache", "CPUUtilization", {"CacheClusterId": member, "CacheNodeId": "0001"}


def put_metrics(clients: Clients, service: Service, *, skip: tuple[str, ...] = ()) -> None:
    cloudwatch = clients("cloudwatch")
    for namespace, metric, dimensions in metric_data(service):
        if set(dimensions.values()) & set(skip):
            continue
        cloudwatch.put_metric_data(
            Namespace=namespace,
            MetricData=[
                {
                    "MetricName": metric,
                    "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()],
                    # in the past: CloudWatch (and moto) count datapoints before the query's end time
                    "Timestamp": datetime.now(UTC) - timedelta(minutes=5),
                    "Value": 1.0,
                }
            ],
        )


def resource_settings(service: Service, *, max_connections: int = 220) -> dict[str, Any]:
    """The config's resource sections for these resources (db.t4g.small: LEAST(2 GiB / 9531392, 5000) = 225)."""
    return {
        "region": REGION,
        "ecs": {
            "cluster_name": service.cluster,
            "backend_service_name": service.services["backend"],
            "frontend_service_name": service.services["frontend"],
        },
        "alb": {
            "full_name": service.alb,
            "target_groups": [{"name": role, "full_name": name} for role, name in service.target_groups.items()],
        },
        "rds": {"instance_identifier": service.rds, "max_connections": max_connections},
        "elasticache": {"replication_group_id": service.redis, "cache_cluster_ids": service.redis_members},
    }


def config_for(
    directory: Path, service: Service, *, health_base_url: str, changes: dict[str, Any] | None = None
) -> Path:
    """Write <directory>/<env>.yaml: the committed config with these resources, `changes` applied last."""
    raw = yaml.safe_load((REPO / "config" / f"{service.environment}.yaml").read_text(encoding="utf-8"))
    raw |= resource_settings(service) | {"health_base_url": health_base_url}
    raw.setdefault("synthetics", {})["frontend_url"] = f"{health_base_url}/"  # the reference service serves a page
    if service.environment == "production":
        raw["router"]["fallback_email"] = "sre-oncall@peoplebooster.test"
    for dotted, value in (changes or {}).items():
        *parents, last = dotted.split(".")
        node = raw
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        node[int(last) if isinstance(node, list) else last] = value
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{service.environment}.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


def reserved_template(directory: Path, prefix: str, reserved: dict[str, int], log_groups: tuple[str, ...] = ()) -> Path:
    """A template holding the stack's functions with reserved concurrency (what preflight counts) and, if
    given, fixed-name log groups (what it looks for before a create)."""
    resources: dict[str, Any] = {
        f"Function{index}": {
            "Type": "AWS::Lambda::Function",
            "Properties": {"FunctionName": f"{prefix}-{name}", "ReservedConcurrentExecutions": count},
        }
        for index, (name, count) in enumerate(reserved.items())
    }
    resources |= {
        f"LogGroup{index}": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": name}}
        for index, name in enumerate(log_groups)
    }
    path = directory / "template.json"
    path.write_text(json.dumps({"Resources": resources}), encoding="utf-8")
    return path


def deploy_stack_parts(clients: Clients, prefix: str, *, slack: str | None, sentry: str | None) -> str:
    """What the deployed stack holds that preflight reads: the stack, its two secrets (created with a generated
    string, then filled when `slack`/`sentry` is given) and the fallback topic. Returns the fallback topic ARN."""
    clients("cloudformation").create_stack(
        StackName=f"{prefix}-monitoring",
        TemplateBody=json.dumps({"Resources": {"AlertTopic": {"Type": "AWS::SNS::Topic"}}}),
    )
    secrets = clients("secretsmanager")
    for name, value in ((f"{prefix}/slack-webhooks", slack), (f"{prefix}/sentry-client-secret", sentry)):
        secrets.create_secret(Name=name, SecretString="Vq3`k!generated-placeholder-8Hs")
        if value is not None:
            secrets.put_secret_value(SecretId=name, SecretString=value)
    return str(clients("sns").create_topic(Name=f"{prefix}-alerts-fallback")["TopicArn"])
