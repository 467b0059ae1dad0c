"""What stands in the way of creating the stack: resources with the stack's fixed names that already exist.

    python -m tools.leftovers --env staging [--template <synthesized template>]

CloudFormation cannot create a resource whose fixed name is taken ("already exists"). That happens when
ECS or an earlier Terraform made the `/aws/ecs/<env>/*` log groups, when a deleted stack kept its secrets
and log groups, or after a failed deploy of a release older than RetainExceptOnCreate (issue 11), which
also left an orphaned KMS key per attempt. Read-only: prints one line per leftover and then the one
command that clears the way (or the config switch that adopts the log groups), exit 1; nothing found,
exit 0. Honours AWS_ENDPOINT_URL (boto3), so the tests point it at moto. `make preflight` calls
`find_leftovers` and prints `clear_the_way` the same way.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from infra.config import ENVIRONMENTS, ConfigError, load_config

ADOPTION_GUIDE = "docs/operations/deployment-guide.md#adopting-existing-log-groups"


@dataclass(frozen=True)
class FixedName:
    kind: str  # "log group" | "secret"
    name: str


@dataclass(frozen=True)
class Leftover:
    kind: str  # "log group" | "secret" | "KMS key"
    name: str
    detail: str = ""

    def line(self) -> str:
        return f"{self.kind} {self.name} already exists{f' ({self.detail})' if self.detail else ''}"


def fixed_names(template: Mapping[str, Any]) -> list[FixedName]:
    """The physical names the template would create (only plain strings: a generated name cannot collide)."""
    properties = {
        "AWS::Logs::LogGroup": ("log group", "LogGroupName"),
        "AWS::SecretsManager::Secret": ("secret", "Name"),
    }
    names = []
    for resource in template.get("Resources", {}).values():
        kind, prop = properties.get(resource.get("Type"), (None, None))
        name = resource.get("Properties", {}).get(prop) if prop else None
        if kind and isinstance(name, str):
            names.append(FixedName(kind, name))
    return names


def find_leftovers(template: Mapping[str, Any], *, prefix: str, logs: Any, secrets: Any, kms: Any) -> list[Leftover]:
    """Which fixed names of `template` exist in the account, and KMS keys of `prefix` that nothing uses."""
    found = []
    for fixed in fixed_names(template):
        if fixed.kind == "log group":
            groups = logs.describe_log_groups(logGroupNamePrefix=fixed.name).get("logGroups", [])
            if any(group["logGroupName"] == fixed.name for group in groups):
                found.append(Leftover("log group", fixed.name))
        else:
            try:
                secret = secrets.describe_secret(SecretId=fixed.name)
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                    continue
                raise
            found.append(Leftover("secret", fixed.name, "scheduled for deletion" if secret.get("DeletedDate") else ""))
    return found + orphaned_keys(prefix, kms, logs)


def orphaned_keys(prefix: str, kms: Any, logs: Any) -> list[Leftover]:
    """Enabled keys this stack would have made (their description names `prefix`) that no alias points at
    and no log group uses: what each failed attempt of the first release left behind ($1 a month each).
    A key that still encrypts a kept log group (the audit trail of a deleted stack) is never one."""
    in_use = {
        key_arn.rsplit("/", 1)[-1]
        for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix="/aws/ecs/")
        for group in page["logGroups"]
        if (key_arn := group.get("kmsKeyId"))
    }
    aliased = in_use | {
        alias["TargetKeyId"]
        for page in kms.get_paginator("list_aliases").paginate()
        for alias in page["Aliases"]
        if "TargetKeyId" in alias
    }
    orphans = []
    for page in kms.get_paginator("list_keys").paginate():
        for key in page["Keys"]:
            metadata = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
            ours = metadata.get("Description", "").startswith(f"Encrypts the {prefix} ")
            if ours and metadata.get("KeyState") == "Enabled" and key["KeyId"] not in aliased:
                orphans.append(Leftover("KMS key", key["KeyId"], f"{metadata['Description']}, no alias: orphaned"))
    return orphans


def clear_the_way(leftovers: Sequence[Leftover], *, environment: str) -> list[str]:
    """What to do, in one command where it can be one. ECS log groups are adopted, never deleted: they hold
    the service's logs. Secrets are deleted at once (a kept one holds the generated placeholder unless
    someone filled it: save it first), orphaned keys are scheduled for deletion (7 days)."""
    advice = []
    ecs_groups = [item for item in leftovers if item.kind == "log group" and item.name.startswith("/aws/ecs/")]
    if ecs_groups:
        advice.append(
            f"adopt the existing log groups: set `logs: {{adopt_existing: true}}` in config/{environment}.yaml"
            f" ({ADOPTION_GUIDE})"
        )
    commands = []
    for item in leftovers:
        if item.kind == "log group" and item not in ecs_groups:
            commands.append(f"aws logs delete-log-group --log-group-name {shlex.quote(item.name)}")
        elif item.kind == "secret":
            commands.append(
                f"aws secretsmanager delete-secret --secret-id {shlex.quote(item.name)} --force-delete-without-recovery"
            )
        elif item.kind == "KMS key":
            commands.append(f"aws kms schedule-key-deletion --key-id {item.name} --pending-window-in-days 7")
    if commands:
        advice.append("clean up with: " + " && ".join(commands))
    return advice


def _template(environment: str, template_path: Path | None) -> dict[str, Any]:
    if template_path is not None:
        loaded: dict[str, Any] = json.loads(template_path.read_text(encoding="utf-8"))
        return loaded
    from tools.synth_all import synth_home_template  # noqa: PLC0415 (synthesis starts jsii: only when needed)

    with tempfile.TemporaryDirectory(prefix="leftovers-synth-") as out:
        path = synth_home_template(Path(out), environment)
        synthesized: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return synthesized


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", choices=ENVIRONMENTS, required=True)
    parser.add_argument("--template", type=Path, help="a synthesized template (default: synthesize ENV)")
    args = parser.parse_args(argv)
    try:
        config = load_config(args.env)
        template = _template(args.env, args.template)
        session = boto3.session.Session(region_name=config.region)
        leftovers = find_leftovers(
            template,
            prefix=config.prefix,
            logs=session.client("logs"),
            secrets=session.client("secretsmanager"),
            kms=session.client("kms"),
        )
    except ConfigError as error:
        print(f"leftovers: {error}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as error:
        print(f"leftovers: cannot read the template: {error}", file=sys.stderr)
        return 1
    except (BotoCoreError, ClientError) as error:
        print(f"leftovers: AWS call failed: {' '.join(str(error).split())}", file=sys.stderr)
        return 1
    for item in leftovers:
        print(item.line())
    for line in clear_the_way(leftovers, environment=args.env):
        print(line)
    if not leftovers:
        print(f"nothing in the way: {config.prefix}-monitoring can be created")
    return 1 if leftovers else 0


if __name__ == "__main__":
    sys.exit(main())
