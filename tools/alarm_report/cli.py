"""Write the alarm noise report (Markdown and PNG) from a history file or straight from AWS.

    python -m tools.alarm_report --history FILE --out DIR [--incident-history FILE] [--env ENV]
    python -m tools.alarm_report --env production --days 14 --out DIR      (make alarm-report ENV=... DAYS=14)

FILE is the output of `aws cloudwatch describe-alarm-history --output json` (add `--history-item-type
StateUpdate`; other item types are counted and ignored). --incident-history is the output of `aws dynamodb
scan --table-name <incident table> --output json` (bot-token mode's history entries, for acknowledgements).
Without --history the tool reads CloudWatch (DescribeAlarms by the `<service>-<env>-` prefix,
DescribeAlarmHistory, GetMetricData for the tuning suggestions) and the incident table (--table, else
$INCIDENT_TABLE_NAME, else the stack output IncidentTableName) with the current AWS credentials.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")  # synthesis for the config keys

from botocore.exceptions import BotoCoreError, ClientError

from infra.config import CONFIG_DIR, ENVIRONMENTS, ConfigError, EnvironmentConfig, load_config
from tools.alarm_report import aws, charts, markdown
from tools.alarm_report.episodes import Period
from tools.alarm_report.history import (
    HistoryFormatError,
    Transition,
    merged_transitions,
    parse_cli_output,
    parse_items,
    parse_scan_output,
    parse_time,
)
from tools.alarm_report.report import Inputs, Report, TuningView, build_report
from tools.alarm_report.stats import NoiseRule
from tools.alarm_report.tuning import KeyEffect, Suggestion, TuningRule, suggest
from tools.local_cloudwatch import AlarmDefinition, UnsupportedAlarm

CLOUDWATCH_HISTORY_DAYS = 14  # how long CloudWatch keeps alarm history
REPORT_MD = "report.md"


class CliError(Exception):
    """Something the operator must fix; the message is one line."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tools.alarm_report", description=__doc__.splitlines()[0])
    parser.add_argument("--history", type=Path, help="describe-alarm-history JSON (else: read AWS for --env)")
    parser.add_argument("--incident-history", type=Path, help="`aws dynamodb scan` JSON of the incident table")
    parser.add_argument("--env", choices=ENVIRONMENTS, help="config for the time zone, names and AWS reads")
    parser.add_argument("--out", type=Path, required=True, help="directory for report.md and the PNGs")
    parser.add_argument("--days", type=float, default=14, help="period length (default 14)")
    parser.add_argument("--until", help="period end, ISO 8601 (default: now; with --history the last item)")
    parser.add_argument("--since", help="period start, ISO 8601 (default: --days before the end)")
    parser.add_argument("--flap-minutes", type=int, default=NoiseRule.flap_minutes)
    parser.add_argument("--keep-minutes", type=int, default=TuningRule.keep_minutes)
    parser.add_argument("--table", help="incident table (default: $INCIDENT_TABLE_NAME, then the stack output)")
    return parser


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CliError(f"cannot read {path}: {getattr(error, 'strerror', None) or error}") from None


def _moment(text: str | None, name: str) -> datetime | None:
    if text is None:
        return None
    moment = parse_time(text)
    if moment is None:
        raise CliError(f"--{name} {text!r} is not an ISO 8601 time (e.g. 2026-11-30T00:00:00+09:00)")
    return moment


def _period(args: argparse.Namespace, default_until: datetime) -> Period:
    until = _moment(args.until, "until") or default_until
    since = _moment(args.since, "since") or until - timedelta(days=args.days)
    try:
        return Period(since, until)
    except ValueError as error:
        raise CliError(str(error)) from None


def _infer_environment(names: Sequence[str]) -> EnvironmentConfig | None:
    """The environment whose `<service>-<env>-` prefix most alarm names carry (a file needs no --env)."""
    best: tuple[int, EnvironmentConfig] | None = None
    for environment in ENVIRONMENTS:
        try:
            config = load_config(environment)
        except ConfigError:
            continue
        matching = sum(name.startswith(config.prefix + "-") for name in names)
        if matching and (best is None or matching > best[0]):
            best = (matching, config)
    return best[1] if best else None


def _own(transitions: list[Transition], prefix: str, ignored: Counter[str]) -> list[Transition]:
    own = [t for t in transitions if t.alarm_name.startswith(prefix)]
    if len(own) < len(transitions):
        ignored[f"state changes of alarms without the `{prefix}` prefix"] += len(transitions) - len(own)
    return own


def inputs_from_files(args: argparse.Namespace) -> tuple[Inputs, EnvironmentConfig | None]:
    parsed = parse_cli_output(_read(args.history), source=str(args.history))
    if not parsed.transitions:
        others = sum(parsed.ignored.values())
        raise CliError(
            f"{args.history}: no state changes (StateUpdate items) to report"
            + (f" (items of other types ignored: {others})" if others else "")
        )
    config = load_config(args.env) if args.env else _infer_environment([t.alarm_name for t in parsed.transitions])
    transitions = _own(parsed.transitions, config.prefix + "-", parsed.ignored) if config else parsed.transitions
    if not transitions:
        raise CliError(f"{args.history}: no state changes of {config.prefix if config else ''} alarms")
    period = _period(args, max(t.at for t in transitions))
    history, acknowledgements = None, "n/a: no incident history given (`--incident-history`, bot-token mode only)."
    sources = [
        f"Alarm history: {args.history} ({len(transitions)} state changes of"
        f" {len({t.alarm_name for t in transitions})} alarms)."
    ]
    if args.incident_history:
        history, other = parse_scan_output(_read(args.incident_history), source=str(args.incident_history))
        if other:
            parsed.ignored["incident table items that are not history entries"] += other
        acknowledgements = _acknowledgement_source(f"{args.incident_history}", len(history))
        sources.append(f"Incident history: {args.incident_history} ({len(history)} entries).")
    if args.until is None:
        sources.append("The period ends at the last state change in the file (set --until to change it).")
    zone = ZoneInfo(config.display_time_zone) if config else ZoneInfo("UTC")
    if config is None:
        sources.append("No environment matched the alarm names: times are in UTC (pass --env).")
    inputs = Inputs(
        title=config.prefix if config else str(args.history.name),
        period=period,
        zone=zone,
        transitions=transitions,
        alarm_names=sorted({t.alarm_name for t in transitions}),
        history=history,
        acknowledgements=acknowledgements,
        sources=sources,
        ignored=parsed.ignored,
        alarms_complete=False,
        prefix=config.prefix + "-" if config else None,
    )
    return inputs, config


def _acknowledgement_source(where: str, entries: int) -> str:
    return (
        f"from the incident history ({where}, {entries} entries; bot-token mode): acknowledged firings / firings"
        " it recorded. Webhook mode records none (n/a)."
    )


@dataclass
class Clients:
    """The boto3 clients of the AWS edge; tests hand in moto clients and a Stubber'd history client."""

    cloudwatch: Any
    history: Any  # DescribeAlarmHistory (the same client as cloudwatch in real use)
    dynamodb: Any
    cloudformation: Any = None

    @classmethod
    def for_region(cls, region: str | None) -> Clients:
        import boto3  # noqa: PLC0415 - file mode does not need it

        cloudwatch = boto3.client("cloudwatch", region_name=region)
        return cls(cloudwatch, cloudwatch, boto3.client("dynamodb", region_name=region))


def inputs_from_aws(
    args: argparse.Namespace, config: EnvironmentConfig, clients: Clients, now: datetime, environ: Mapping[str, str]
) -> tuple[Inputs, list[dict[str, Any]]]:
    """(inputs, the metric alarms as DescribeAlarms returned them)."""
    from tools import silence  # noqa: PLC0415 - imports the CDK stack module (its name): AWS mode only

    period = _period(args, now)
    prefix = config.prefix + "-"
    metric_alarms, composite = aws.describe_alarms(clients.cloudwatch, prefix)
    names = sorted(a["AlarmName"] for a in [*metric_alarms, *composite])
    if not names:
        raise CliError(f"no alarms named {prefix}* in {config.region or 'the default region'}: is the stack deployed?")
    parsed = parse_items(aws.alarm_history(clients.history, names, period))
    sources = [
        f"Alarms: DescribeAlarms, prefix `{prefix}`, {len(names)} alarms ({len(composite)} composite).",
        f"Alarm history: DescribeAlarmHistory ({len(parsed.transitions)} state changes; CloudWatch keeps about"
        f" {CLOUDWATCH_HISTORY_DAYS} days).",
    ]
    try:
        table = silence.incident_table(args.table, config, environ, cloudformation=clients.cloudformation)
    except silence.CliError as error:
        history = None
        acknowledgements = f"n/a: no incident table ({error})."
    else:
        history, unreadable = aws.incident_history(clients.dynamodb, table, period)
        if unreadable:
            parsed.ignored["unreadable incident history items"] += unreadable
        acknowledgements = _acknowledgement_source(f"table {table}", len(history))
        sources.append(f"Incident history: table {table}, {len(history)} entries in the period (Scan).")
    transitions = parsed.transitions
    cloudwatch_from = now - timedelta(days=CLOUDWATCH_HISTORY_DAYS)
    if history is not None and period.since < cloudwatch_from:
        transitions = merged_transitions(transitions, history, cloudwatch_from)
        sources.append(
            f"Before {cloudwatch_from:%Y-%m-%d %H:%M} UTC the state changes come from the incident history"
            " (CloudWatch no longer has them)."
        )
    inputs = Inputs(
        title=config.prefix,
        period=period,
        zone=ZoneInfo(config.display_time_zone),
        transitions=transitions,
        alarm_names=names,
        history=history,
        acknowledgements=acknowledgements,
        sources=sources,
        ignored=parsed.ignored,
        alarms_complete=True,
        prefix=prefix,
    )
    return inputs, metric_alarms


def tune(
    report: Report,
    *,
    config: EnvironmentConfig,
    metric_alarms: Sequence[dict[str, Any]],
    cloudwatch: Any,
    derive: Callable[[EnvironmentConfig], dict[str, list[KeyEffect]]],
    config_file: Path,
) -> list[TuningView]:
    """A replay and, where one qualifies, a config change for every alarm that flapped."""
    from tools.alarm_report.config_keys import validator  # noqa: PLC0415

    flapping = [s.name for s in report.stats if s.flaps]
    if not flapping:
        return []
    # DescribeAlarms may list a single-metric alarm with an empty `Metrics` (metric math) list: not math
    definitions = {a["AlarmName"]: {k: v for k, v in a.items() if v or k != "Metrics"} for a in metric_alarms}
    print(f"alarm-report: deriving config keys by synthesizing {config.prefix} (seconds)...", file=sys.stderr)
    effects = derive(config)
    valid = validator(config)
    views = []
    for name in flapping:
        try:
            alarm = AlarmDefinition.from_template_properties(definitions[name])
        except KeyError:
            views.append(TuningView(name, note="Not a metric alarm (composite): nothing to replay."))
            continue
        except UnsupportedAlarm as error:
            views.append(TuningView(name, note=f"No replay: {error}."))
            continue
        series = aws.metric_series(cloudwatch, alarm, report.period)
        if not series:
            views.append(TuningView(name, note="GetMetricData returned no datapoints for the period: no replay."))
            continue
        own = effects.get(name, [])
        episodes = report.episodes.get(name, [])
        found = suggest(alarm, series, report.period, episodes, effects=own, valid=valid, rule=report.tuning_rule)
        views.append(_view(name, found, effects, config_file))
    return views


def _view(name: str, found: Suggestion | None, effects: Mapping[str, list[KeyEffect]], config_file: Path) -> TuningView:
    from tools.alarm_report.config_keys import ConfigChangeError, config_change  # noqa: PLC0415

    candidate = found.candidate if found is not None else None
    if candidate is None:
        return TuningView(name, found)
    if candidate.key is None or candidate.key_value is None:
        return TuningView(
            name,
            found,
            note="No key under `thresholds.*` or `synthetics.*` drives this property: the change needs code"
            " (the alarm's construct in infra/constructs/).",
        )
    others = tuple(sorted(n for n, own in effects.items() if n != name and any(e.key == candidate.key for e in own)))
    shown = f"config/{config_file.name}"
    try:
        _, diff = config_change(config_file, candidate.key, candidate.key_value, shown_as=shown)
    except ConfigChangeError as error:
        return TuningView(name, found, note=str(error), also_changes=others)
    return TuningView(name, found, diff=diff, also_changes=others)


def write(report: Report, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / REPORT_MD, out / markdown.TIMELINE_PNG, out / markdown.HOURS_PNG]
    paths[0].write_text(markdown.render(report), encoding="utf-8")
    charts.timeline(report, paths[1])
    charts.hours(report, paths[2])
    return paths


def _report(inputs: Inputs, args: argparse.Namespace) -> Report:
    rule = NoiseRule(flap_minutes=args.flap_minutes)
    tuning_rule = TuningRule(flap_minutes=args.flap_minutes, keep_minutes=args.keep_minutes)
    return build_report(inputs, rule=rule, tuning_rule=tuning_rule)


def run(
    args: argparse.Namespace,
    *,
    clients: Clients | None = None,
    now: datetime | None = None,
    environ: Mapping[str, str] | None = None,
    derive: Callable[[EnvironmentConfig], dict[str, list[KeyEffect]]] | None = None,
    config_dir: Path = CONFIG_DIR,
) -> list[Path]:
    """Build and write the report; the paths written. Raises CliError, HistoryFormatError, ConfigError."""
    if args.history is not None:
        inputs, _ = inputs_from_files(args)
        report = replace(
            _report(inputs, args),
            tuning_skipped="Not computed from a file: the suggestions replay the alarms' metrics, which"
            " `make alarm-report ENV=<env>` reads from CloudWatch (GetMetricData).",
        )
        return write(report, args.out)
    if args.env is None:
        raise CliError("pass --history FILE, or --env ENV to read the history from AWS")
    config = load_config(args.env, config_dir)
    clients = clients or Clients.for_region(config.region)
    inputs, metric_alarms = inputs_from_aws(args, config, clients, now or datetime.now(UTC), environ or os.environ)
    report = _report(inputs, args)
    if derive is None:
        from tools.alarm_report.config_keys import derive_key_effects  # noqa: PLC0415

        derive = derive_key_effects
    views = tune(
        report,
        config=config,
        metric_alarms=metric_alarms,
        cloudwatch=clients.cloudwatch,
        derive=derive,
        config_file=config_dir / f"{args.env}.yaml",
    )
    return write(replace(report, tuning=views), args.out)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        paths = run(args)
    except (CliError, HistoryFormatError, ConfigError) as error:
        print(f"alarm-report: {error}", file=sys.stderr)
        return 1
    except (BotoCoreError, ClientError) as error:  # no credentials, access denied: one line, no traceback
        print(
            f"alarm-report: AWS call failed: {' '.join(str(error).split())} (this reads CloudWatch with the current"
            " AWS credentials; --history FILE reads a file instead)",
            file=sys.stderr,
        )
        return 1
    for path in paths:
        print(f"wrote {path}")
    return 0
