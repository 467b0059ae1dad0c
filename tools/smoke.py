"""After a deploy: drive one alarm to ALARM and back, and say where its Slack message should appear.

    make smoke ENV=staging [ALARM=<alarm name>] [ALLOW_CRITICAL=yes] [HOLD=30]
    python -m tools.smoke --env staging [--alarm NAME] [--allow-critical] [--hold SECONDS] [--config-dir DIR]

CloudWatch's SetAlarmState sets the state of a deployed alarm until its next evaluation; the state change goes
through the alarm's actions, the alert topic and the router like a real one. The default alarm is one that does
not page: a warning the router sends to the errors channel (#alerts-errors), whose only action is the alert
topic (no fallback email), and which is OK now (a change from OK is what the router posts).
`--alarm` picks another; one the router sends to the critical channel needs --allow-critical. Where the message
should appear is computed with the router's own routing (lambdas/alert_router/routing/) and this environment's
channels and overrides, from the Severity/Category lines of the alarm's description.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")  # aws_cdk starts jsii

from botocore.exceptions import ClientError

from infra.config import CONFIG_DIR, ConfigError, EnvironmentConfig
from lambdas.alert_router.models import Alert, MetricQuery, SourceKind, State
from lambdas.alert_router.routing.route import Route, route
from lambdas.alert_router.settings import settings_from_env
from lambdas.shared.alarm_metadata import Severity
from tools.aws_account import AccountError, Aws, call, candidates, connect, describe_failure, load_config_or_fail, paged

PREFERRED = "synthetic-metrics-failing"  # the /health/metrics check: a warning nobody acts on at once
DEFAULT_HOLD_SECONDS = 30  # ALARM is delivered before OK is sent (SNS invokes the router asynchronously)


class SmokeError(Exception):
    """The smoke test cannot or should not run; the message is one line."""


@dataclass(frozen=True)
class Candidate:
    name: str
    state: str
    actions: tuple[str, ...]
    route: Route


def expected_route(config: EnvironmentConfig, alarm: Mapping[str, Any]) -> Route:
    """Where the deployed router sends this alarm's ALARM: its own routing, with this environment's settings."""
    # Imported here: aws_cdk starts jsii (seconds), which a run refused at its first line should not wait for.
    from infra.constructs.alert_router import router_environment  # noqa: PLC0415

    routing = settings_from_env(router_environment(config, dashboard_name=f"{config.prefix}-service")).routing
    metrics = tuple(
        MetricQuery(
            id=query.get("Id", ""),
            namespace=query.get("MetricStat", {}).get("Metric", {}).get("Namespace"),
            metric_name=query.get("MetricStat", {}).get("Metric", {}).get("MetricName"),
            dimensions=_dimensions(query.get("MetricStat", {}).get("Metric", {}).get("Dimensions", [])),
            expression=query.get("Expression"),
        )
        for query in alarm.get("Metrics", [])
    )
    alert = Alert(
        source=SourceKind.SNS_ALARM,
        state=State.ALARM,
        previous_state=State.OK,
        alarm_name=alarm["AlarmName"],
        description=alarm.get("AlarmDescription"),
        namespace=alarm.get("Namespace"),
        metric_name=alarm.get("MetricName"),
        dimensions=_dimensions(alarm.get("Dimensions", [])),
        metrics=metrics,
    )
    return route(alert, routing)


def _dimensions(items: Sequence[Mapping[str, str]]) -> tuple[tuple[str, str], ...]:
    return tuple((item["Name"], item["Value"]) for item in items)


def candidates_of(config: EnvironmentConfig, alarms: Sequence[Mapping[str, Any]]) -> list[Candidate]:
    return [
        Candidate(
            name=alarm["AlarmName"],
            state=alarm.get("StateValue", ""),
            actions=tuple(alarm.get("AlarmActions", [])),
            route=expected_route(config, alarm),
        )
        for alarm in alarms
    ]


def choose(
    config: EnvironmentConfig, found: Sequence[Candidate], alert_topic: str, requested: str | None, allow_critical: bool
) -> Candidate:
    """The alarm to drive (pure): the requested one, else a non-paging default."""
    channels = config.slack_channels
    if requested:
        chosen = next((candidate for candidate in found if candidate.name == requested), None)
        if chosen is None:
            names = candidates(candidate.name for candidate in found)
            raise SmokeError(f"no alarm {requested!r} in the {config.environment} stack (alarms: {names})")
        if chosen.route.channel == channels.critical and not allow_critical:
            raise SmokeError(
                f"{requested} posts to #{channels.critical} and pages: warn the channel, then add ALLOW_CRITICAL=yes"
                " (--allow-critical)"
            )
    else:
        kind = [
            candidate
            for candidate in found
            if candidate.route.channel == channels.errors
            and candidate.route.severity is Severity.WARNING
            and candidate.actions == (alert_topic,)
            and candidate.state == "OK"
        ]
        if not kind:
            raise SmokeError(
                f"no warning alarm for #{channels.errors} is OK now with only the alert topic as action: pick one"
                f" with ALARM=<name> (alarms: {candidates(c.name for c in found)})"
            )
        chosen = next((c for c in kind if c.name == f"{config.prefix}-{PREFERRED}"), kind[0])
    if chosen.state == "ALARM":
        raise SmokeError(f"{chosen.name} is in ALARM now (a real problem?): pick another with ALARM=<name>")
    return chosen


def drive(
    cloudwatch: Any,
    alarm: str,
    *,
    hold_seconds: float,
    who: str,
    say: Callable[[str], None],
    sleep: Callable[[float], None],
) -> None:
    """ALARM, read back, wait, OK, read back."""
    for state, reason in (
        ("ALARM", f"Smoke test by {who} (make smoke): please ignore"),
        ("OK", f"Smoke test by {who} (make smoke) ended"),
    ):
        call(cloudwatch.set_alarm_state, AlarmName=alarm, StateValue=state, StateReason=reason)
        now = call(cloudwatch.describe_alarms, AlarmNames=[alarm])["MetricAlarms"][0]
        say(f"  {alarm} -> {state}: CloudWatch now shows {now['StateValue']} ({now.get('StateReason', '')})")
        if state == "ALARM" and hold_seconds > 0:
            say(f"  waiting {hold_seconds:g} s so that the ALARM is delivered before the OK...")
            sleep(hold_seconds)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tools.smoke", description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="staging", help="staging or production")
    parser.add_argument("--config-dir", type=Path, default=CONFIG_DIR, help="where <env>.yaml is (default: config/)")
    parser.add_argument("--alarm", default="", help="the alarm to drive (default: a warning for #alerts-errors)")
    parser.add_argument("--allow-critical", action="store_true", help="allow an alarm that pages")
    parser.add_argument("--hold", type=float, default=DEFAULT_HOLD_SECONDS, help="seconds between ALARM and OK")
    return parser


def run(
    args: argparse.Namespace,
    environ: Mapping[str, str],
    say: Callable[[str], None],
    aws: Aws | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    config = load_config_or_fail(args.env, args.config_dir)
    aws, account = connect(config.environment, config.region, config.account, environ, aws)
    cloudwatch = aws.client("cloudwatch")
    alarms = paged(cloudwatch, "describe_alarms", "MetricAlarms", AlarmNamePrefix=f"{config.prefix}-")
    if not alarms:
        raise SmokeError(
            f"no alarms named {config.prefix}-* in {aws.region} (account {account}): deploy first"
            f" (make deploy ENV={config.environment})"
        )
    topic = f"arn:aws:sns:{aws.region}:{account}:{config.prefix}-alerts"
    chosen = choose(config, candidates_of(config, alarms), topic, args.alarm.strip() or None, args.allow_critical)
    channel = f"#{chosen.route.channel}"
    category = chosen.route.category.value if chosen.route.category else "none"
    say(f"smoke: {chosen.name} ({chosen.route.severity.value}, {category}) in {config.environment}")
    say(f"  expect in Slack {channel}: the ALARM within a minute, then the OK (bot-token mode: the OK is a reply")
    say("  'resolved' in the ALARM's thread and the message turns green; webhook mode: a second message)")
    drive(
        cloudwatch,
        chosen.name,
        hold_seconds=max(0.0, args.hold),
        who=environ.get("USER", "").strip() or "an operator",
        say=say,
        sleep=sleep,
    )
    say(f"smoke: done. CloudWatch sets the real state again at the next evaluation. Nothing in {channel} within")
    say(
        f"  2 min: read the router's log group /aws/lambda/{config.prefix}-alert-router, its dead-letter queue"
        f" {config.prefix}-alert-router-dlq, and docs/operations/runbooks/router-errors.md"
    )


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None, aws: Aws | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        run(args, os.environ if environ is None else environ, print, aws)
    except (ConfigError, AccountError, SmokeError) as failure:
        print(f"smoke: {failure}", file=sys.stderr)
        return 1
    except ClientError as failure:
        print(f"smoke: {describe_failure(failure)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
