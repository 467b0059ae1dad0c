"""Create, list and expire silences of the alert router (bot-token mode) in an environment's incident table.

    make silence MATCH='peoplebooster-production-rds-*' FOR=2h REASON="RDS minor version upgrade" ENV=production
    make silence ACTION=list [ENV=...]
    make silence ACTION=expire ID=<id> [ENV=...]
    python -m tools.silence create --env production --match ... --for 2h --reason ... [--all-critical]

Silences live in the deployed stack's incident table, so this needs AWS credentials for the environment.
The table is `--table`, else $INCIDENT_TABLE_NAME, else the stack output `IncidentTableName`
(`aws cloudformation describe-stacks --stack-name <prefix>-monitoring --query
"Stacks[0].Outputs[?OutputKey=='IncidentTableName'].OutputValue" --output text`). A local run of the router
(make demo, make invoke) keeps its silences in memory for that process only: there is nothing to reach here.

Before creating a silence the critical alarms of ENV are read from its synthesized template (or
`--template <file>`), so a pattern that would silence all of them is refused without `--all-critical`
(`ALL_CRITICAL=yes`).

Ad-hoc silences act only in bot-token mode (webhook mode keeps no state to check them against). The mode
is the one the router picks: the shape of the deployed Slack secret `<prefix>/slack-webhooks` (read, never
shown; `lambdas.alert_router.settings.secret_mode`). In webhook mode `create` refuses in one line and names
the maintenance windows of config, which both modes apply; `list` and `expire` say it and go on (an old
silence can still be listed and ended).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from infra.config import ENVIRONMENTS, ConfigError, EnvironmentConfig, load_config
from infra.stack import stack_name
from lambdas.alert_router.incidents.silences import Silence, SilenceError, parse_duration
from lambdas.alert_router.incidents.store import DynamoDBIncidentStore, create_silence, expire_silence, list_silences
from lambdas.alert_router.settings import secret_mode
from lambdas.shared.alarm_metadata import Severity, parse_alarm_metadata

TABLE_OUTPUT = "IncidentTableName"


class CliError(Exception):
    """Something the operator must fix; the message is one line."""


def critical_alarm_names(template: Mapping[str, Any]) -> list[str]:
    """Names of the alarms whose description metadata says `Severity: critical`."""
    names = []
    for resource in template.get("Resources", {}).values():
        props = resource.get("Properties", {})
        if resource.get("Type") != "AWS::CloudWatch::Alarm" or not isinstance(props.get("AlarmName"), str):
            continue
        description = props.get("AlarmDescription")
        if isinstance(description, str) and parse_alarm_metadata(description).severity is Severity.CRITICAL:
            names.append(props["AlarmName"])
    return sorted(names)


def critical_alarms_of(environment: str, template_path: Path | None) -> list[str]:
    if template_path is not None:
        try:
            return critical_alarm_names(json.loads(template_path.read_text(encoding="utf-8")))
        except (OSError, ValueError) as error:
            raise CliError(f"cannot read the template {template_path}: {error}") from None
    # Imported here: synthesis starts jsii (seconds), which list and expire do not need.
    from tools.synth_all import synth_home_template  # noqa: PLC0415

    print(f"reading the critical alarms of {environment} from its synthesized template...", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="silence-synth-") as out:
        path = synth_home_template(Path(out), environment)
        return critical_alarm_names(json.loads(path.read_text(encoding="utf-8")))


def incident_table(
    explicit: str | None, config: EnvironmentConfig, environ: Mapping[str, str], *, cloudformation: Any = None
) -> str:
    """--table, else INCIDENT_TABLE_NAME, else the deployed stack's output (a CloudFormation client may be given)."""
    table = (explicit or environ.get("INCIDENT_TABLE_NAME", "")).strip()
    if table:
        return table
    stack = stack_name(config)
    try:
        client = cloudformation or boto3.client("cloudformation", region_name=config.region)
        found = client.describe_stacks(StackName=stack)
        outputs = {o["OutputKey"]: o["OutputValue"] for o in found["Stacks"][0].get("Outputs", [])}
    except (BotoCoreError, ClientError) as error:
        raise CliError(
            f"no incident table: silences live in the deployed table (stack {stack}, output {TABLE_OUTPUT}); "
            f"pass --table or INCIDENT_TABLE_NAME, or use AWS credentials for {config.environment} "
            f"(lookup failed: {_one_line(error)})"
        ) from None
    if TABLE_OUTPUT not in outputs:
        raise CliError(f"stack {stack} has no output {TABLE_OUTPUT}: deploy the current stack first (make deploy)")
    return str(outputs[TABLE_OUTPUT])


def slack_secret_name(config: EnvironmentConfig) -> str:
    return f"{config.prefix}/slack-webhooks"  # infra/constructs/alert_router.py (stack output SlackWebhookSecretName)


def slack_mode(config: EnvironmentConfig, *, secretsmanager: Any = None) -> str:
    """The router's mode in ENV, from its secret's shape: bot-token, webhook, invalid, or unknown (unreadable)."""
    try:
        client = secretsmanager or boto3.client("secretsmanager", region_name=config.region)
        text = client.get_secret_value(SecretId=slack_secret_name(config))["SecretString"]
    except (BotoCoreError, ClientError, KeyError):
        return "unknown"
    return secret_mode(text)


def mode_line(config: EnvironmentConfig, mode: str) -> str | None:
    """One line about silences in this mode; None in bot-token mode, where they act."""
    secret = slack_secret_name(config)
    windows = f"router.incidents.maintenance_windows in config/{config.environment}.yaml"
    if mode == "webhook":
        return (
            f"{config.prefix} runs in webhook mode ({secret} holds webhook URLs): ad-hoc silences need bot-token"
            f" mode; {windows} apply in both modes"
        )
    if mode == "invalid":
        return f"{secret} is not filled in (no Slack mode yet): a silence acts only once it holds a bot token"
    if mode == "unknown":
        return f"could not read {secret} to tell the Slack mode: silences act only in bot-token mode"
    return None


def current_user(environ: Mapping[str, str]) -> str:
    """Who creates the silence: git's user.name, else $USER."""
    try:
        name = subprocess.run(
            ["git", "config", "user.name"], capture_output=True, text=True, timeout=5, check=False
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        name = ""
    return name or environ.get("USER", "").strip() or "unknown"


def describe(silence: Silence, zone: ZoneInfo, now: datetime) -> str:
    def at(stamp: float) -> str:
        return datetime.fromtimestamp(stamp, zone).strftime("%Y-%m-%d %H:%M %Z")

    state = "active" if silence.active(now.timestamp()) else "ended"
    return (
        f"{silence.id}  {state:<6}  {at(silence.starts_at)} -> {at(silence.until)}  match={silence.match!r}"
        f"  suppressed={silence.suppressed_total}  by={silence.created_by}  reason={silence.reason!r}"
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tools.silence", description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("create", "list", "expire"))
    parser.add_argument("--env", choices=ENVIRONMENTS, default="staging")
    parser.add_argument("--table", help="incident table (default: $INCIDENT_TABLE_NAME, then the stack output)")
    parser.add_argument("--match", default="", help="create: shell-style pattern on the alarm name")
    parser.add_argument("--for", dest="duration", default="", help="create: 2h, 90m, 1d, 1h30m (at most 14 days)")
    parser.add_argument("--reason", default="", help="create: why (shown in the summary)")
    parser.add_argument("--all-critical", action="store_true", help="create: allow silencing every critical alarm")
    parser.add_argument("--created-by", default="", help="create: default git user.name, else $USER")
    parser.add_argument("--template", type=Path, help="create: synthesized template to read critical alarms from")
    parser.add_argument("--id", default="", help="expire: the silence id (from list)")
    parser.add_argument("--all", action="store_true", help="list: ended silences too (until summarised)")
    return parser


def run(args: argparse.Namespace, environ: Mapping[str, str], now: datetime) -> list[str]:
    """Do the action; the lines to print. Raises CliError or SilenceError."""
    try:
        config = load_config(args.env)
    except ConfigError as error:
        raise CliError(str(error)) from None
    zone = ZoneInfo(config.display_time_zone)
    # Arguments are checked before any AWS call or synthesis: a typo fails in milliseconds.
    if args.action == "create" and not (args.match.strip() and args.duration.strip() and args.reason.strip()):
        raise CliError("create needs MATCH=<alarm name pattern> FOR=<2h|90m|1d> REASON=<why>")
    if args.action == "expire" and not args.id.strip():
        raise CliError("expire needs ID=<silence id> (see make silence ACTION=list)")
    duration = parse_duration(args.duration) if args.action == "create" else None
    table = incident_table(args.table, config, environ)
    mode = slack_mode(config)
    line = mode_line(config, mode)
    if line is not None and mode == "webhook" and args.action == "create":
        raise CliError(line)
    if line is not None:
        print(f"note: {line}", file=sys.stderr)
    store = DynamoDBIncidentStore(table, client=boto3.client("dynamodb", region_name=config.region))
    if duration is not None:
        critical = critical_alarms_of(args.env, args.template)
        silence = create_silence(
            store,
            match=args.match,
            duration=duration,
            reason=args.reason,
            created_by=args.created_by.strip() or current_user(environ),
            now=now,
            critical_alarm_names=critical,
            allow_all_critical=args.all_critical,
        )
        covered = [name for name in critical if silence.matches(name)]
        return [
            f"created silence {silence.id} in {table}",
            describe(silence, zone, now),
            f"critical alarms covered: {', '.join(covered) if covered else 'none'}",
        ]
    if args.action == "expire":
        expired = expire_silence(store, args.id.strip(), now=now)
        if expired is None:
            raise CliError(f"no silence {args.id.strip()!r} in {table} (see make silence ACTION=list)")
        return [f"expired silence {expired.id}; the next sweep posts what it suppressed", describe(expired, zone, now)]
    silences = list_silences(store, now=now, include_ended=args.all)
    if not silences:
        return [f"no {'' if args.all else 'active '}silences in {table}"]
    return [describe(silence, zone, now) for silence in silences]


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        lines = run(args, os.environ if environ is None else environ, datetime.now(UTC))
    except SilenceError as error:
        message = str(error)
        if "allow_all_critical" in message:
            message = f"pattern {args.match!r} silences every critical alarm of {args.env}; add ALL_CRITICAL=yes"
            message += " (--all-critical) if that is really meant"
        print(f"silence: {message}", file=sys.stderr)
        return 1
    except CliError as error:
        print(f"silence: {error}", file=sys.stderr)
        return 1
    except (BotoCoreError, ClientError) as error:  # access denied, missing table...: one line, no traceback
        print(f"silence: AWS call failed: {_one_line(error)}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())


if __name__ == "__main__":
    sys.exit(main())
