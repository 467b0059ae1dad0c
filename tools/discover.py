"""Write an environment's config from what the AWS account holds, keeping every other setting of the file.

    make discover ENV=staging CLUSTER=peoplebooster-staging [OUT=config/staging.yaml]
                  [BACKEND=<service>] [FRONTEND=<service>] [RDS=<instance>] [REDIS=<replication group>]
    python -m tools.discover --env staging --cluster NAME --out FILE [--backend NAME] [--frontend NAME]
                             [--rds ID] [--redis ID] [--config-dir DIR]

From the cluster (read-only calls, the current credentials; `AWS_ENDPOINT_URL` is honoured):
- the backend and frontend services: by name (a name part starting with backend/api/server, or
  frontend/web/next), or --backend/--frontend;
- their target groups and the ALB: the services' loadBalancers -> target group ARNs -> the load balancer;
- the RDS instance and the Redis replication group: --rds/--redis, else the one tagged
  environment=<env> (or env/stage), else the one whose name has the environment in it (staging/stg,
  production/prod/prd), else the only one in the region;
- `rds.max_connections` from the instance's parameter group, or AWS's default formula for its class.

Only the resource sections (`region`, `ecs`, `alb`, `rds`, `elasticache`) of config/<env>.yaml are replaced, as
text: every other setting and comment stays as it was (comments inside the replaced sections are not kept; the
max_connections line gets one saying where its number comes from). The result must load with
infra.config.load_config before anything is written. Two candidates for one role, or none, stop with a line
that lists them.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from botocore.exceptions import ClientError

from infra.config import CONFIG_DIR, ENVIRONMENTS, ConfigError, load_config
from tools.aws_account import (
    AccountError,
    Aws,
    EcsService,
    candidates,
    cluster_names,
    connect,
    db_instances,
    describe_failure,
    ecs_services,
    elasticache_tags,
    instance_class_memory_mib,
    load_balancers,
    max_connections,
    replication_groups,
    target_groups,
)
from tools.aws_account import (
    cluster as ecs_cluster,
)

ROLE_HINTS = {"backend": ("backend", "api", "server"), "frontend": ("frontend", "web", "next")}
ENVIRONMENT_HINTS = {"staging": ("staging", "stg", "stage"), "production": ("production", "prod", "prd")}
ENVIRONMENT_TAGS = ("environment", "env", "stage")
RESOURCE_SECTIONS = ("region", "ecs", "alb", "rds", "elasticache")
_TOP_LEVEL_KEY = re.compile(r"^([A-Za-z_][A-Za-z0-9_-]*)\s*:")


class DiscoverError(Exception):
    """The account does not say which resource to take; the message is one line and lists the candidates."""


# --- pure choices ---------------------------------------------------------------------------------------


def _parts(name: str) -> list[str]:
    return [part for part in re.split(r"[^a-z0-9]+", name.lower()) if part]


def pick_service(role: str, names: Sequence[str], explicit: str | None, cluster: str) -> tuple[str, str]:
    """The service for `role` and why; by --<role>, else the one name with a part starting with a role hint."""
    flag = f"--{role} NAME ({role.upper()}=NAME)"
    if explicit:
        if explicit not in names:
            raise DiscoverError(
                f"--{role} {explicit!r}: no such service in cluster {cluster!r} (candidates: {candidates(names)})"
            )
        return explicit, f"--{role}"
    hints = ROLE_HINTS[role]
    matches = [name for name in names if any(part.startswith(hints) for part in _parts(name))]
    if len(matches) == 1:
        return matches[0], f"name hint {'/'.join(hints)}"
    if matches:
        raise DiscoverError(
            f"two candidates for the {role} service in cluster {cluster!r}: {candidates(matches)}; pass {flag}"
        )
    raise DiscoverError(
        f"no {role} service in cluster {cluster!r}: no name has a part starting with {'/'.join(hints)}"
        f" (candidates: {candidates(names)}); pass {flag}"
    )


@dataclass(frozen=True)
class Tagged:
    id: str
    tags: tuple[tuple[str, str], ...]


def pick_for_environment(
    kind: str, flag: str, items: Sequence[Tagged], environment: str, explicit: str | None
) -> tuple[str, str]:
    """One of `items` for `environment`: the flag, a tag, the name, or the only one there is; and why."""
    ids = [item.id for item in items]
    if explicit:
        if explicit not in ids:
            raise DiscoverError(f"--{flag} {explicit!r}: no such {kind} (candidates: {candidates(ids)})")
        return explicit, f"--{flag}"
    hints = ENVIRONMENT_HINTS[environment]
    tagged = [
        item.id
        for item in items
        if any(key.lower() in ENVIRONMENT_TAGS and value.lower() in hints for key, value in item.tags)
    ]
    named = [item.id for item in items if set(_parts(item.id)) & set(hints)]
    for found, why in ((tagged, f"tag environment={environment}"), (named, f"name has {'/'.join(hints)}")):
        if len(found) == 1:
            return found[0], why
        if found:
            raise DiscoverError(
                f"two candidates for the {kind} ({why}): {candidates(found)}; pass --{flag} ID ({flag.upper()}=ID)"
            )
    if len(ids) == 1:
        return ids[0], "the only one in the region"
    raise DiscoverError(
        f"cannot tell which {kind} is {environment}'s: none is tagged environment={environment} or named so"
        f" (candidates: {candidates(ids)}); pass --{flag} ID ({flag.upper()}=ID)"
    )


def replace_sections(text: str, sections: Mapping[str, Any], comments: Mapping[str, str]) -> str:
    """`text` with each top-level key of `sections` replaced (or appended), everything else kept as written.

    A section is its key line and the indented (or blank) lines after it; a comment or key at column 0 starts
    something else. `comments` maps a nested key (`rds.max_connections`) to a comment for its line.
    """
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    output: list[str] = []
    done: set[str] = set()
    index = 0
    while index < len(lines):
        match = _TOP_LEVEL_KEY.match(lines[index])
        if not match or match.group(1) not in sections:
            output.append(lines[index])
            index += 1
            continue
        key = match.group(1)
        end = index + 1
        while end < len(lines) and (not lines[end].strip() or lines[end][0] in " \t"):
            end += 1
        while end > index + 1 and not lines[end - 1].strip():  # blank lines before the next section stay
            end -= 1
        output.append(_dumped(key, sections[key], comments))
        done.add(key)
        index = end
    output += [_dumped(key, value, comments) for key, value in sections.items() if key not in done]
    return "".join(output)


class _IndentedDumper(yaml.SafeDumper):
    """Lists indented under their key, as the committed configs write them."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _dumped(key: str, value: Any, comments: Mapping[str, str]) -> str:
    text = yaml.dump({key: value}, Dumper=_IndentedDumper, sort_keys=False, default_flow_style=False, width=120)
    for path, comment in comments.items():
        section, _, field = path.partition(".")
        if section == key:
            line = re.compile(rf"(?m)^(  {re.escape(field)}: .*)$")
            text = line.sub(lambda found: f"{found.group(1)}  # {comment}", text)  # noqa: B023 - used at once
    return text


# --- the account ----------------------------------------------------------------------------------------


@dataclass
class Discovery:
    sections: dict[str, Any]
    comments: dict[str, str]
    why: list[tuple[str, str, str]]  # (config field, value, how it was found)


def discover(aws: Aws, environment: str, args: argparse.Namespace, existing: Mapping[str, Any]) -> Discovery:
    found = Discovery(sections={"region": aws.region}, comments={}, why=[])
    discovered = {
        **_service(aws, args, found),
        "rds": _database(aws, environment, args, existing.get("rds") or {}, found),
        "elasticache": _cache(aws, environment, args, existing.get("elasticache") or {}, found),
    }
    # Settings of these sections the account cannot tell (ecs.container_insights, ...) stay as they were.
    for key, values in discovered.items():
        kept = existing.get(key)
        found.sections[key] = (kept if isinstance(kept, dict) else {}) | values
    return found


def _service(aws: Aws, args: argparse.Namespace, found: Discovery) -> dict[str, Any]:
    """The `ecs` and `alb` sections: the cluster's two services, their target groups and the ALB."""
    cluster = args.cluster
    if ecs_cluster(aws, cluster) is None:
        raise DiscoverError(
            f"cluster {cluster!r} not found in {aws.region} (candidates: {candidates(cluster_names(aws))})"
        )
    services = ecs_services(aws, cluster)
    chosen: dict[str, EcsService] = {}
    for role in ("backend", "frontend"):
        name, how = pick_service(role, sorted(services), getattr(args, role), cluster)
        chosen[role] = services[name]
        found.why.append((f"ecs.{role}_service_name", name, how))
    if chosen["backend"].name == chosen["frontend"].name:
        raise DiscoverError(
            f"service {chosen['backend'].name!r} is a candidate for both backend and frontend: pass --backend and"
            " --frontend"
        )
    alb, groups = _load_balancer(aws, chosen)
    found.why.append(("alb.full_name", alb, "the services' target groups"))
    found.why += [
        (f"alb.target_groups ({role})", name, f"loadBalancers of {chosen[role].name}") for role, name in groups
    ]
    return {
        "ecs": {
            "cluster_name": cluster,
            "backend_service_name": chosen["backend"].name,
            "frontend_service_name": chosen["frontend"].name,
        },
        "alb": {"full_name": alb, "target_groups": [{"name": role, "full_name": name} for role, name in groups]},
    }


def _database(
    aws: Aws, environment: str, args: argparse.Namespace, existing: Mapping[str, Any], found: Discovery
) -> dict[str, Any]:
    """The `rds` section: the instance, its max_connections, memory and allocated storage."""
    instances = db_instances(aws)
    rds_id, how = pick_for_environment(
        "RDS instance", "rds", [Tagged(i.identifier, i.tags) for i in instances], environment, args.rds
    )
    found.why.append(("rds.instance_identifier", rds_id, how))
    instance = next(i for i in instances if i.identifier == rds_id)
    rds: dict[str, Any] = {"instance_identifier": rds_id}
    try:
        memory_mib = instance_class_memory_mib(aws, instance.instance_class)
        limit = max_connections(aws, instance, memory_mib)
    except LookupError as reason:
        kept = existing.get("max_connections")
        if not isinstance(kept, int):
            raise DiscoverError(f"rds.max_connections: {reason}; set it in the config (SHOW max_connections)") from None
        rds["max_connections"] = kept
        found.why.append(("rds.max_connections", str(kept), f"kept from the config: {reason}"))
    else:
        rds |= {"max_connections": limit.value, "memory_gib": _number(memory_mib / 1024)}
        found.comments["rds.max_connections"] = limit.how
        found.why.append(("rds.max_connections", str(limit.value), limit.how))
        found.why.append(("rds.memory_gib", f"{memory_mib / 1024:g}", f"{instance.instance_class}'s memory"))
    if instance.allocated_storage_gib:
        rds["allocated_storage_gib"] = instance.allocated_storage_gib
        found.why.append(("rds.allocated_storage_gib", str(instance.allocated_storage_gib), "AllocatedStorage"))
    return rds


def _cache(
    aws: Aws, environment: str, args: argparse.Namespace, existing: Mapping[str, Any], found: Discovery
) -> dict[str, Any]:
    """The `elasticache` section: the replication group and its member clusters."""
    groups = replication_groups(aws)
    needs_tags = args.redis is None and len(groups) > 1
    redis_id, how = pick_for_environment(
        "Redis replication group",
        "redis",
        [Tagged(g.id, elasticache_tags(aws, g.arn) if needs_tags and g.arn else ()) for g in groups],
        environment,
        args.redis,
    )
    group = next(g for g in groups if g.id == redis_id)
    found.why.append(("elasticache.replication_group_id", redis_id, how))
    found.why.append(("elasticache.cache_cluster_ids", ", ".join(group.member_clusters), "the group's members"))
    redis: dict[str, Any] = {"replication_group_id": redis_id, "cache_cluster_ids": list(group.member_clusters)}
    if len(group.node_ids) == 1 and (existing.get("cache_node_id") or group.node_ids[0] != "0001"):
        redis["cache_node_id"] = group.node_ids[0]
    return redis


def _number(value: float) -> float | int:
    """2.0 -> 2 (as a person writes it in YAML), 0.5 -> 0.5."""
    return int(value) if value == int(value) else round(value, 2)


def _load_balancer(aws: Aws, services: Mapping[str, EcsService]) -> tuple[str, list[tuple[str, str]]]:
    """The one ALB behind the services' target groups, and each role's target group on it."""
    arns = sorted({arn for service in services.values() for arn in service.target_group_arns})
    if not arns:
        raise DiscoverError(
            f"neither {services['backend'].name!r} nor {services['frontend'].name!r} has a load balancer target group"
        )
    groups = {group.arn: group for group in target_groups(aws, arns=arns)}
    balancer_arns = sorted({lb for group in groups.values() for lb in group.load_balancer_arns})
    albs = [lb for lb in load_balancers(aws, balancer_arns) if lb.type == "application"] if balancer_arns else []
    if len(albs) != 1:
        found = candidates(lb.full_name for lb in albs)
        raise DiscoverError(f"the services' target groups belong to {len(albs)} application load balancers: {found}")
    alb = albs[0]
    chosen = []
    for role, service in services.items():
        on_alb = [
            groups[a].full_name
            for a in service.target_group_arns
            if a in groups and alb.arn in groups[a].load_balancer_arns
        ]
        if len(on_alb) > 1:
            raise DiscoverError(
                f"service {service.name!r} has {len(on_alb)} target groups on {alb.full_name}: {candidates(on_alb)}"
            )
        if on_alb:
            chosen.append((role, on_alb[0]))
    return alb.full_name, chosen


# --- the command ----------------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tools.discover", description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="staging", help="staging or production")
    parser.add_argument("--cluster", default="", help="the ECS cluster of the environment")
    parser.add_argument("--out", type=Path, help="where to write the config (default: <config-dir>/<env>.yaml)")
    parser.add_argument("--config-dir", type=Path, default=CONFIG_DIR, help="where <env>.yaml is (default: config/)")
    for role in ("backend", "frontend"):
        parser.add_argument(f"--{role}", default=None, help=f"the {role} service's name (default: by name hints)")
    parser.add_argument("--rds", default=None, help="the RDS instance identifier (default: by tag or name)")
    parser.add_argument("--redis", default=None, help="the Redis replication group id (default: by tag or name)")
    return parser


def _existing(environment: str, config_dir: Path) -> tuple[str, dict[str, Any]]:
    if environment not in ENVIRONMENTS:
        raise ConfigError(f"unknown environment {environment!r}: use one of {', '.join(ENVIRONMENTS)}")
    path = config_dir / f"{environment}.yaml"
    try:
        text = path.read_text(encoding="utf-8")
        raw = yaml.safe_load(text)
    except OSError as error:
        raise ConfigError(
            f"{path}: cannot read ({error.strerror or error}); discover keeps its other settings"
        ) from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML ({' '.join(str(error).split())})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of settings at the top level")
    return text, raw


def validated(environment: str, text: str, shown_as: Path) -> None:
    """Raise ConfigError unless `text` loads as <environment>.yaml with infra.config.load_config."""
    with tempfile.TemporaryDirectory(prefix="discover-") as directory:
        trial = Path(directory) / f"{environment}.yaml"
        trial.write_text(text, encoding="utf-8")
        try:
            load_config(environment, Path(directory))
        except ConfigError as error:
            raise ConfigError(str(error).replace(str(trial), str(shown_as))) from None


def run(args: argparse.Namespace, environ: Mapping[str, str], aws: Aws | None = None) -> list[str]:
    if not args.cluster.strip():
        raise ConfigError("--cluster is required (make discover ENV=... CLUSTER=<ECS cluster name>)")
    text, existing = _existing(args.env, args.config_dir)
    region = existing.get("region") if isinstance(existing.get("region"), str) else None
    account = str(existing["account"]) if existing.get("account") else None
    aws, account_id = connect(args.env, region, account, environ, aws)
    found = discover(aws, args.env, args, existing)
    result = replace_sections(text, found.sections, found.comments)
    out: Path = args.out or args.config_dir / f"{args.env}.yaml"
    try:
        validated(args.env, result, out)
    except ConfigError as error:
        raise ConfigError(f"the discovered config does not load, nothing written: {error}") from None
    try:
        out.write_text(result, encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"{out}: cannot write ({error.strerror or error})") from None
    width = max(len(field) for field, _, _ in found.why)
    return [
        f"discover: {args.env} in {aws.region}, account {account_id}, cluster {args.cluster}",
        *(f"  {field:<{width}}  {value}  ({how})" for field, value, how in found.why),
        f"wrote {out} (other settings and their comments kept); next: make preflight ENV={args.env}",
    ]


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None, aws: Aws | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        lines = run(args, os.environ if environ is None else environ, aws)
    except (ConfigError, AccountError, DiscoverError) as failure:
        print(f"discover: {failure}", file=sys.stderr)
        return 1
    except ClientError as failure:  # access denied and the like: one line, no traceback
        print(f"discover: {describe_failure(failure)}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
