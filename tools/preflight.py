"""Check an environment's config against the AWS account before a deploy: read-only, one line per problem.

    make preflight ENV=staging [CONFIG_DIR=config] [TEMPLATE=cdk.out/x.template.json]
    python -m tools.preflight --env staging [--config-dir DIR] [--template FILE]

With the current credentials (boto3; `AWS_ENDPOINT_URL` is honoured, so tests use a moto server), it checks:
- the credentials' region and account are the config's (anything else is refused first, in one line);
- every configured id exists: the ECS cluster and services, the services' target groups, the ALB and its
  target groups (the hex ids too), the RDS instance, the Redis replication group and its member clusters;
- `rds.max_connections` against the parameter group or AWS's default formula for the instance class;
- no placeholders (`example.com`, the example ids committed in config/*.yaml);
- each monitored resource has CloudWatch datapoints in the last 24 h; the health URLs answer;
- the services' task definitions send their logs to the stack's groups `/aws/ecs/<env>/*`;
- the stack's reserved Lambda concurrency fits the account's unreserved concurrency;
- once the stack is deployed: the Slack and Sentry secrets are filled, the fallback email subscription is
  confirmed, and no alarm is stuck in INSUFFICIENT_DATA.

The rules are pure functions in tools/preflight_rules.py; this module makes the calls and prints.

Output: `ERROR <config field or resource>: <what, and what to do>` (blocks a deploy: exit 1), `WARNING ...`
(fix it, but deploying does not make it worse) and `INFO ...`, then a summary line. Input that stops the
checks (unknown environment, unreadable config, no credentials, an endpoint that refuses) is one line on stderr
and exit 1.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")  # aws_cdk starts jsii

from botocore.exceptions import ClientError

from infra.config import CONFIG_DIR, ConfigError, EnvironmentConfig
from lambdas.synthetic_monitor.checks import judge
from lambdas.synthetic_monitor.probe import Target, probe_all
from tools.aws_account import (
    AccountError,
    Aws,
    EcsService,
    call,
    candidates,
    cluster_names,
    connect,
    container_definitions,
    db_instance,
    db_instances,
    describe_failure,
    ecs_services,
    error_code,
    instance_class_memory_mib,
    load_balancer_named,
    load_balancers,
    load_config_or_fail,
    max_connections,
    metric_has_data,
    one_line,
    paged,
    refusal,
    replication_group,
    replication_groups,
    service_names,
    target_group_named,
    target_groups,
)
from tools.aws_account import (
    cluster as ecs_cluster,
)
from tools.leftovers import clear_the_way, find_leftovers
from tools.preflight_rules import (
    ROLES,
    UNRESERVED_MINIMUM,
    Finding,
    Level,
    alarm_dimensions,
    error,
    fields_by_id,
    judge_concurrency,
    judge_log_configuration,
    judge_max_connections,
    judge_members,
    judge_sizes,
    judge_subscriptions,
    not_found,
    placeholders,
    reserved_functions,
    sentry_secret_problem,
    slack_secret_problem,
    warning,
    watched_metrics,
)

HEALTH_DEADLINE_MS = 5000  # all health URLs together: preflight must not hang on a dead host
METRIC_WINDOW = timedelta(hours=24)
STUCK_AFTER = timedelta(minutes=30)  # INSUFFICIENT_DATA for a few minutes after a deploy is normal
# Stack states in which the deployed resources exist and can be checked.
DEPLOYED_STATES = frozenset(
    {"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE", "IMPORT_ROLLBACK_COMPLETE"}
)
# --- the checks: I/O plus the judging above ------------------------------------------------------------


@dataclass
class Context:
    config: EnvironmentConfig
    aws: Aws
    account: str
    now: datetime
    template: Callable[[], Mapping[str, Any]]
    findings: list[Finding]

    @property
    def failed_subjects(self) -> set[str]:
        return {finding.subject for finding in self.findings if finding.level is Level.ERROR}


def check_ecs(context: Context) -> dict[str, EcsService]:
    """The cluster and both services; returns the services found, by role."""
    config, aws = context.config, context.aws
    cluster = config.ecs.cluster_name
    found_cluster = ecs_cluster(aws, cluster)
    if found_cluster is None:
        context.findings.append(not_found("ecs.cluster_name", f"cluster {cluster!r}", cluster_names(aws)))
        return {}
    if config.ecs.container_insights and not found_cluster.container_insights:
        context.findings.append(
            warning(
                "ecs.container_insights",
                f"true, but cluster {cluster!r} has Container Insights off: the task-count alarms get no data"
                f" (aws ecs update-cluster-settings --cluster {cluster} --settings name=containerInsights,"
                "value=enabled, or set it false)",
            )
        )
    wanted = {role: getattr(config.ecs, f"{role}_service_name") for role in ROLES}
    found = ecs_services(aws, cluster, sorted(set(wanted.values())))
    if set(wanted.values()) - set(found):
        existing = service_names(aws, cluster)
        for role, name in wanted.items():
            if name not in found:
                context.findings.append(
                    not_found(f"ecs.{role}_service_name", f"service {name!r}", existing, f"cluster {cluster!r}")
                )
    return {role: found[name] for role, name in wanted.items() if name in found}


def check_task_logs(context: Context, services: Mapping[str, EcsService]) -> None:
    for role, service in services.items():
        if not service.task_definition:
            continue
        containers = container_definitions(context.aws, service.task_definition)
        for problem in judge_log_configuration(
            context.config.environment, context.aws.region, service.name, service.task_definition, containers
        ):
            context.findings.append(warning(f"ecs.{role}_service_name", problem))


def check_alb(context: Context, services: Mapping[str, EcsService]) -> None:
    config, aws = context.config, context.aws
    _, name, _ = config.alb.full_name.split("/")
    balancer = load_balancer_named(aws, name)
    if balancer is None:
        names = [lb.full_name for lb in load_balancers(aws) if lb.type == "application"]
        context.findings.append(not_found("alb.full_name", f"load balancer {name!r}", names))
    elif balancer.full_name != config.alb.full_name:
        context.findings.append(
            error(
                "alb.full_name",
                f"{config.alb.full_name!r} is not the id of load balancer {name!r}: it is {balancer.full_name}"
                " (recreated?)",
            )
        )
        balancer = None
    for index, configured in enumerate(config.alb.target_groups):
        subject = f"alb.target_groups.{index}.full_name"
        group_name = configured.full_name.split("/")[1]
        group = target_group_named(aws, group_name)
        if group is None:
            known = target_groups(aws, load_balancer_arn=balancer.arn) if balancer else target_groups(aws)
            context.findings.append(not_found(subject, f"target group {group_name!r}", (g.full_name for g in known)))
            continue
        if group.full_name != configured.full_name:
            context.findings.append(
                error(
                    subject,
                    f"{configured.full_name!r} is not the id of target group {group_name!r}: it is {group.full_name}",
                )
            )
            continue
        if balancer and balancer.arn not in group.load_balancer_arns:
            context.findings.append(
                error(
                    subject,
                    f"target group {configured.full_name} does not serve {config.alb.full_name}: its metrics never"
                    " carry that LoadBalancer dimension",
                )
            )
        service = services.get(configured.name)
        if service is not None and group.arn not in service.target_group_arns:
            context.findings.append(
                error(
                    subject,
                    f"target group {configured.full_name} is not a target group of the {configured.name} service"
                    f" {service.name!r} (its target groups: {_group_names(service)})",
                )
            )
        elif (
            configured.name not in ROLES
            and services
            and not any(group.arn in s.target_group_arns for s in services.values())
        ):
            context.findings.append(
                error(subject, f"target group {configured.full_name} serves neither the backend nor the frontend")
            )


def _group_names(service: EcsService) -> str:
    return candidates(arn.split(":", 5)[-1] for arn in service.target_group_arns)


def check_rds(context: Context) -> None:
    config, aws = context.config, context.aws
    instance = db_instance(aws, config.rds.instance_identifier)
    if instance is None:
        known = [item.identifier for item in db_instances(aws)]
        context.findings.append(
            not_found("rds.instance_identifier", f"DB instance {config.rds.instance_identifier!r}", known)
        )
        return
    try:
        memory_mib = instance_class_memory_mib(aws, instance.instance_class)
        expected = max_connections(aws, instance, memory_mib)
    except LookupError as reason:
        context.findings.append(warning("rds.max_connections", f"cannot check {config.rds.max_connections}: {reason}"))
        return
    context.findings.extend(
        judge_sizes(
            memory_gib=config.rds.memory_gib,
            class_memory_gib=memory_mib / 1024,
            storage_gib=config.rds.allocated_storage_gib,
            allocated_gib=instance.allocated_storage_gib,
        )
    )
    finding = judge_max_connections(
        config.rds.max_connections,
        expected.value,
        exact=expected.exact,
        how=expected.how,
        alarm_percent=config.thresholds.rds_connections_percent,
    )
    if finding:
        context.findings.append(finding)


def check_redis(context: Context) -> None:
    config, aws = context.config, context.aws
    group = replication_group(aws, config.elasticache.replication_group_id)
    if group is None:
        known = [item.id for item in replication_groups(aws)]
        what = f"replication group {config.elasticache.replication_group_id!r}"
        context.findings.append(not_found("elasticache.replication_group_id", what, known))
        return
    finding = judge_members(config.elasticache.cache_cluster_ids, group.id, group.member_clusters)
    if finding:
        context.findings.append(finding)
    if group.node_ids and config.elasticache.cache_node_id not in group.node_ids:
        context.findings.append(
            error(
                "elasticache.cache_node_id",
                f"node {config.elasticache.cache_node_id!r} is not in {group.id!r}"
                f" (nodes: {', '.join(group.node_ids)})",
            )
        )


def check_metrics(context: Context) -> None:
    """Resources that exist but publish nothing leave their alarms blind: warn (not for ids already in error)."""
    failed = context.failed_subjects
    if "elasticache.replication_group_id" in failed:
        failed.add("elasticache.cache_cluster_ids")
    fields = fields_by_id(context.config) | {context.config.elasticache.cache_node_id: "elasticache.cache_node_id"}

    def blocked(field: str) -> bool:
        return any(field == bad or field.startswith(f"{bad}.") for bad in failed)

    metrics = [
        metric
        for metric in watched_metrics(context.config)
        if not blocked(metric.subject) and not any(blocked(fields.get(value, "")) for _, value in metric.dimensions)
    ]
    if not metrics:
        return
    queries = [
        {
            "Id": f"m{index}",
            "MetricStat": {
                "Metric": {
                    "Namespace": metric.namespace,
                    "MetricName": metric.name,
                    "Dimensions": [{"Name": n, "Value": v} for n, v in metric.dimensions],
                },
                "Period": 3600,
                "Stat": "SampleCount",
            },
            "ReturnData": True,
        }
        for index, metric in enumerate(metrics)
    ]
    cloudwatch = context.aws.client("cloudwatch")
    results = paged(
        cloudwatch,
        "get_metric_data",
        "MetricDataResults",
        MetricDataQueries=queries,
        StartTime=context.now - METRIC_WINDOW,
        EndTime=context.now,
    )
    with_data = {item["Id"] for item in results if metric_has_data(item)}
    for index, metric in enumerate(metrics):
        if f"m{index}" not in with_data:
            dimensions = ", ".join(f"{n}={v}" for n, v in metric.dimensions)
            context.findings.append(
                warning(
                    metric.subject,
                    f"no {metric.namespace} {metric.name} datapoints in 24 h for {dimensions}: a wrong id, or the"
                    " resource is idle; the alarms on it can never fire",
                )
            )


def check_health(context: Context) -> None:
    config = context.config
    if "health_base_url" in context.failed_subjects:
        return  # a placeholder: probing example.com says nothing
    base = str(config.health_base_url).rstrip("/")
    checks = config.synthetics.parsed_checks()
    targets = [
        Target(base + check.url if check.url.startswith("/") else check.url, check.timeout_ms) for check in checks
    ]
    responses = probe_all(targets, run_deadline_ms=HEALTH_DEADLINE_MS)
    failed: dict[str, list[str]] = {}  # reason -> the checks failing with it
    for check, response in zip(checks, responses, strict=True):
        result = judge(check, response, now=time.time())
        if not result.up:
            failed.setdefault(result.reason or "failed", []).append(f"{check.name} ({check.url})")
    for reason, names in failed.items():
        context.findings.append(
            warning(
                "health_base_url",
                f"{base}: {reason}: check {', '.join(names)}; the synthetic monitor would alarm on it",
            )
        )


def check_concurrency(context: Context) -> None:
    functions = reserved_functions(context.template())
    if not functions:
        return
    lambda_client = context.aws.client("lambda")
    try:
        settings = call(lambda_client.get_account_settings)["AccountLimit"]
    except ClientError as failure:
        needed = sum(function.reserved for function in functions)
        context.findings.append(
            warning(
                "router.reserved_concurrency",
                f"cannot read the account's Lambda concurrency ({refusal(failure)}); the stack reserves {needed}:"
                f" check that `aws lambda get-account-settings` shows at least {needed + UNRESERVED_MINIMUM}"
                " UnreservedConcurrentExecutions",
            )
        )
        return
    reserved_now = 0
    for function in functions:
        try:
            current = call(lambda_client.get_function_concurrency, FunctionName=function.name)
        except ClientError as failure:
            if error_code(failure) != "ResourceNotFoundException":
                raise
            continue
        reserved_now += int(current.get("ReservedConcurrentExecutions") or 0)
    finding = judge_concurrency(
        functions,
        limit=int(settings["ConcurrentExecutions"]),
        unreserved=int(settings["UnreservedConcurrentExecutions"]),
        reserved_now=reserved_now,
    )
    if finding:
        context.findings.append(finding)


def deployed_status(context: Context) -> str | None:
    cloudformation = context.aws.client("cloudformation")
    stack_name = _stack_name(context.config)
    try:
        stacks = call(cloudformation.describe_stacks, StackName=stack_name)["Stacks"]
    except ClientError as failure:
        if error_code(failure) == "ValidationError" and "does not exist" in str(failure):
            return None
        raise
    return str(stacks[0]["StackStatus"]) if stacks else None


def check_secrets(context: Context) -> None:
    prefix = context.config.prefix
    channels = list(context.config.slack_channels.model_dump().values())
    secrets = context.aws.client("secretsmanager")
    for name, problem_of, unfilled in (
        (
            f"{prefix}/slack-webhooks",
            lambda text: slack_secret_problem(text, channels),
            "no alert reaches Slack until it is filled (deployment guide: Slack webhooks and the secret)",
        ),
        (
            f"{prefix}/sentry-client-secret",
            sentry_secret_problem,
            "Sentry's alert webhooks are refused until it is filled (deployment guide: Sentry alerts into Slack;"
            " ignore this if you do not use them)",
        ),
    ):
        subject = f"secret {name}"
        try:
            versions = call(secrets.list_secret_version_ids, SecretId=name, MaxResults=10)["Versions"]
            text = call(secrets.get_secret_value, SecretId=name).get("SecretString", "")
        except ClientError as failure:
            if error_code(failure) == "ResourceNotFoundException":
                context.findings.append(warning(subject, "not found, though the stack is deployed"))
                continue
            raise
        # The stack creates the secret with a generated random string; put-secret-value adds a version.
        if len(versions) <= 1:
            context.findings.append(warning(subject, f"still the generated placeholder: {unfilled}"))
            continue
        problem = problem_of(text)
        if problem:
            context.findings.append(warning(subject, problem))


def check_fallback_email(context: Context) -> None:
    email = context.config.router.fallback_email
    if not email:
        return
    topic = f"arn:aws:sns:{context.aws.region}:{context.account}:{context.config.prefix}-alerts-fallback"
    try:
        subscriptions = paged(context.aws.client("sns"), "list_subscriptions_by_topic", "Subscriptions", TopicArn=topic)
    except ClientError as failure:
        if error_code(failure) != "NotFound":
            raise
        subscriptions = []
    finding = judge_subscriptions(email, topic, subscriptions)
    if finding:
        context.findings.append(finding)


def check_alarms(context: Context) -> None:
    config = context.config
    alarms = paged(
        context.aws.client("cloudwatch"),
        "describe_alarms",
        "MetricAlarms",
        AlarmNamePrefix=f"{config.prefix}-",
        StateValue="INSUFFICIENT_DATA",
    )
    fields = fields_by_id(config)
    for alarm in alarms:
        since = alarm.get("StateUpdatedTimestamp")
        if alarm.get("StateValue") != "INSUFFICIENT_DATA" or not isinstance(since, datetime):
            continue
        if context.now - since < STUCK_AFTER:
            continue
        dimensions = alarm_dimensions(alarm)
        subject = next((fields[value] for _, value in dimensions if value in fields), f"alarm {alarm['AlarmName']}")
        shown = ", ".join(f"{n}={v}" for n, v in dimensions)
        context.findings.append(
            warning(
                subject,
                f"alarm {alarm['AlarmName']} has been INSUFFICIENT_DATA since {since.astimezone(UTC):%Y-%m-%d %H:%M}"
                f" UTC: its metric gets no data ({shown or 'metric math'}); is the id right?",
            )
        )


def _guarded(context: Context, subject: str, check: Callable[[], None]) -> None:
    """A check whose AWS call is refused (AccessDenied, an API the endpoint lacks) is a warning, not the end."""
    try:
        check()
    except ClientError as failure:
        context.findings.append(warning(subject, f"cannot check: {refusal(failure)}"))


def run_checks(context: Context) -> list[Finding]:
    context.findings.extend(placeholders(context.config))
    services: dict[str, EcsService] = {}

    def ecs() -> None:
        services.update(check_ecs(context))
        check_task_logs(context, services)

    _guarded(context, "ecs.cluster_name", ecs)
    _guarded(context, "alb.full_name", lambda: check_alb(context, services))
    _guarded(context, "rds.instance_identifier", lambda: check_rds(context))
    _guarded(context, "elasticache.replication_group_id", lambda: check_redis(context))
    _guarded(context, "metrics", lambda: check_metrics(context))
    check_health(context)
    _guarded(context, "router.reserved_concurrency", lambda: check_concurrency(context))

    name = _stack_name(context.config)
    try:
        status = deployed_status(context)
    except ClientError as failure:
        context.findings.append(warning("stack", f"cannot tell whether {name} is deployed: {refusal(failure)}"))
        return context.findings
    if status is None or status == "ROLLBACK_COMPLETE":  # the deploy will create the stack
        _guarded(context, "stack", lambda: check_leftovers(context))
    if status in DEPLOYED_STATES:
        _guarded(context, "secrets", lambda: check_secrets(context))
        _guarded(context, "router.fallback_email", lambda: check_fallback_email(context))
        _guarded(context, "alarms", lambda: check_alarms(context))
    elif status is None:
        context.findings.append(
            Finding(Level.INFO, "stack", f"{name} is not deployed yet: secrets, email and alarm checks skipped")
        )
    else:
        context.findings.append(
            Finding(Level.INFO, "stack", f"{name} is {status}: secrets, email and alarm checks skipped")
        )
    return context.findings


def check_leftovers(context: Context) -> None:
    """Resources with the stack's fixed names that exist already: the create would fail ("already exists")."""
    aws = context.aws
    leftovers = call(
        find_leftovers,
        context.template(),
        prefix=context.config.prefix,
        logs=aws.client("logs"),
        secrets=aws.client("secretsmanager"),
        kms=aws.client("kms"),
    )
    for leftover in leftovers:
        context.findings.append(error("stack", f"{leftover.line()}: creating the stack would fail on it"))
    for advice in clear_the_way(leftovers, environment=context.config.environment):
        context.findings.append(Finding(Level.INFO, "stack", advice))


def _stack_name(config: EnvironmentConfig) -> str:
    # Imported here: aws_cdk starts jsii (seconds), which a run refused at its first line should not wait for.
    from infra.stack import stack_name  # noqa: PLC0415

    return stack_name(config)


def synthesized_template(config: EnvironmentConfig) -> dict[str, Any]:
    """This config's stack template, synthesized without bundling the Lambda asset (no cdk-nag: faster)."""
    # Imported here: jsii starts in seconds, which the checks that do not need the template should not pay.
    from aws_cdk import App  # noqa: PLC0415

    from infra.stack import MonitoringStack  # noqa: PLC0415

    print(
        "preflight: synthesizing the stack to count its reserved concurrency (--template FILE skips it)...",
        file=sys.stderr,
    )
    with tempfile.TemporaryDirectory(prefix="preflight-synth-") as out:
        app = App(outdir=out, context={"aws:cdk:bundling-stacks": []})
        stack = MonitoringStack(app, config=config)
        template: dict[str, Any] = app.synth().get_stack_by_name(stack.stack_name).template
    return template


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tools.preflight", description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="staging", help="staging or production")
    parser.add_argument("--config-dir", type=Path, default=CONFIG_DIR, help="where <env>.yaml is (default: config/)")
    parser.add_argument("--template", type=Path, help="the synthesized template (default: synthesize it)")
    return parser


def run(
    args: argparse.Namespace, environ: Mapping[str, str], now: datetime, aws: Aws | None = None
) -> tuple[list[Finding], str]:
    """All findings and what was checked; raises ConfigError or AccountError when the checks cannot run."""
    config = load_config_or_fail(args.env, args.config_dir)
    aws, account = connect(config.environment, config.region, config.account, environ, aws)

    @functools.cache  # the concurrency and leftovers checks both read it: synthesize once
    def template() -> Mapping[str, Any]:
        if args.template is None:
            return synthesized_template(config)
        try:
            loaded: dict[str, Any] = json.loads(args.template.read_text(encoding="utf-8"))
        except (OSError, ValueError) as failure:
            raise ConfigError(f"cannot read the template {args.template}: {one_line(failure)}") from None
        return loaded

    context = Context(config=config, aws=aws, account=account, now=now, template=template, findings=[])
    return run_checks(context), f"{config.environment} in {aws.region}, account {account}"


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None, aws: Aws | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        findings, checked = run(args, os.environ if environ is None else environ, datetime.now(UTC), aws)
    except (ConfigError, AccountError) as failure:
        print(f"preflight: {failure}", file=sys.stderr)
        return 1
    except ClientError as failure:  # access denied and the like: one line, no traceback
        print(f"preflight: {describe_failure(failure)}", file=sys.stderr)
        return 1
    for finding in findings:
        print(finding.line)
    errors = sum(finding.level is Level.ERROR for finding in findings)
    warnings = sum(finding.level is Level.WARNING for finding in findings)
    print(f"preflight {checked}: {errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
