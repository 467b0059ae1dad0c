"""Missing data is a signal (issue 11): an alarm in INSUFFICIENT_DATA means we cannot see the resource.

One "monitoring blind" notice in the errors channel, worded for a person: which alarm, which resource, for
how long, what it usually means (a wrong id in config, the resource deleted or stopped, the metric not
published) and what to check first. When data returns: a short "data is back" message (webhook mode), or
the notice resolved in place and in its thread (bot-token mode, see incidents/decide.py).
"""

from __future__ import annotations

from lambdas.alert_router.models import Alert, Payload, State
from lambdas.alert_router.rendering.blocks import code_span
from lambdas.alert_router.rendering.context import RenderContext
from lambdas.alert_router.rendering.facts import alarm_console_url, format_elapsed, format_times
from lambdas.alert_router.rendering.layout import Layout, Link, clock, compose, join, short_name
from lambdas.alert_router.rendering.text import escape
from lambdas.shared.alarm_metadata import parse_alarm_metadata

BLIND_LABEL = "MONITORING BLIND"
DATA_BACK_LABEL = "DATA BACK"
BLIND_COLOUR = "#9b9b9b"
RUNBOOK_SECTION = "README.md#monitoring-blind-no-data"  # in the folder of the alarm's own runbook
_USUAL_CAUSES = (
    "a wrong id in `config/&lt;env&gt;.yaml`, the resource deleted or stopped, or the metric not published"
    " (no traffic, a disabled feature)"
)

# (namespace, dimension, what it names, the command that shows whether it exists: {} is the id or name)
_RESOURCES = (
    ("AWS/RDS", "DBInstanceIdentifier", "RDS instance", "aws rds describe-db-instances --db-instance-identifier {}"),
    (
        "AWS/ElastiCache",
        "CacheClusterId",
        "Redis node",
        "aws elasticache describe-cache-clusters --cache-cluster-id {}",
    ),
    (
        "AWS/ElastiCache",
        "ReplicationGroupId",
        "Redis replication group",
        "aws elasticache describe-replication-groups --replication-group-id {}",
    ),
    ("AWS/ApplicationELB", "TargetGroup", "target group", "aws elbv2 describe-target-groups --names {}"),
    ("AWS/ApplicationELB", "LoadBalancer", "load balancer", "aws elbv2 describe-load-balancers --names {}"),
    ("AWS/ECS", "ServiceName", "ECS service", "aws ecs describe-services --cluster <cluster> --services {}"),
)


def blind_minutes(alert: Alert) -> int | None:
    """How long the alarm has had no data: its period times its evaluation periods, in whole minutes."""
    period = alert.period or next((query.period for query in alert.metrics if query.period), None)
    if not period:
        return None
    return max(1, period * (alert.evaluation_periods or 1) // 60)


def _resource(alert: Alert) -> tuple[str, str | None]:
    """("RDS instance `db-1`", the command that checks it) from the metric's namespace and dimensions."""
    metric = alert.primary_metric
    if metric is None:
        return "its metric", None
    dimensions = dict(metric.dimensions)
    for namespace, dimension, noun, command in _RESOURCES:
        if metric.namespace == namespace and dimension in dimensions:
            value = dimensions[dimension]
            parts = value.split("/")  # ALB ids are "app/<name>/<id>" and "targetgroup/<name>/<id>"
            return f"{noun} {code_span(value)}", command.format(parts[1] if len(parts) == 3 else value)
    named = ", ".join(f"{name} {code_span(value)}" for name, value in metric.dimensions)
    return named or "its metric", None


def render_blind_notice(alert: Alert, context: RenderContext) -> Payload:
    """INSUFFICIENT_DATA: the alarm cannot see its resource. Never a page: the errors channel only."""
    name = alert.alarm_name or "unnamed alarm"
    minutes = blind_minutes(alert)
    for_how_long = f"No data for {minutes} min" if minutes else "No data"
    metric = alert.primary_metric
    what = f"{code_span(f'{metric.namespace} {metric.metric_name}')} of " if metric and metric.namespace else ""
    resource, check = _resource(alert)
    more = []
    if alert.previous_state is State.ALARM:
        more.append("It was *in ALARM* when the data stopped: that alert is not resolved, we cannot see it.")
    more.append(f"*Usually:* {_USUAL_CAUSES}.")
    first = f"`{escape(check)}`" if check else "the metric in the CloudWatch console: when did it last have data?"
    runbook = parse_alarm_metadata(alert.description).runbook_url
    section = f"{runbook.rsplit('/', 1)[0]}/{RUNBOOK_SECTION}" if runbook else None
    times = format_times(alert.state_change_time, context.display_time_zone) if alert.state_change_time else None
    layout = Layout(
        emoji=State.INSUFFICIENT_DATA.emoji,
        label=BLIND_LABEL,
        what=short_name(name, context.environment),
        where=context.environment,
        when=clock(alert.state_change_time, context.display_time_zone, firing=True),
        colour=BLIND_COLOUR,
        environment=context.environment,
        cause=f"{for_how_long} from {what}{resource}: this alarm cannot tell whether it is healthy.",
        notification_cause=f"no data for {minutes} min" if minutes else "no data",
        more=tuple(more),
        first_step=first,
        links=(
            Link("What to do", section, "blind-help", primary=True),
            Link("Alarm runbook", runbook, "runbook"),
            Link("Console", alarm_console_url(alert), "console"),
        ),
        details=tuple(
            line
            for line in (
                join([f"Alarm {code_span(name)}", *(times or ())]),
                f"_{escape(alert.reason)}_" if alert.reason else None,
            )
            if line
        ),
    )
    return compose(layout)


def render_data_back(alert: Alert, context: RenderContext) -> Payload:
    """INSUFFICIENT_DATA -> OK (webhook mode, not right after a deploy): one short line where the notice was."""
    name = alert.alarm_name or "unnamed alarm"
    state = alert.state or State.OK
    return compose(
        Layout(
            emoji=State.OK.emoji,
            label=DATA_BACK_LABEL,
            what=short_name(name, context.environment),
            where=context.environment,
            when=clock(alert.state_change_time, context.display_time_zone, firing=False),
            colour=State.OK.colour,
            environment=context.environment,
            cause=f"Data is back, now {state.label}. If it was in ALARM before the data stopped, this is its recovery.",
            notification_cause=f"now {state.label}",
            links=(Link("Console", alarm_console_url(alert), "console"),),
        )
    )


def data_back_line(blind_seconds: float | None, state: State) -> str:
    """The thread reply and status line of a cleared notice (bot-token mode)."""
    how_long = f" after {format_elapsed(blind_seconds)}" if blind_seconds else ""
    return f"{State.OK.emoji} *Data is back*{how_long} · now {state.label}"
