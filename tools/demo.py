"""`make demo`: the whole alerting pipeline on 127.0.0.1, with no AWS account.

1. Synthesizes the staging stack (same code and config as `cdk deploy`; the Lambda asset is not built).
2. Starts the reference health service and a local Slack-compatible receiver on free loopback ports.
3. Runs the real synthetic monitor handler, one run per schedule period, against the healthy service.
4. Breaks the service (database unhealthy, then /health/live down) and evaluates the alarms read from
   the synthesized template against the EMF the monitor printed (tools/local_cloudwatch.py: a
   development stand-in for CloudWatch, not a replacement).
5. Sends every alarm state change as CloudWatch would: published to the alert topic, written into the
   router's intake queue as an SNS envelope, and handed to the real alert router in SQS batches
   (tools/local_sqs.py), as deployed. The batching window is simulated: the state changes of one
   evaluation (CloudWatch's minute) are one batch when the synthesized event source has a window
   (`router.grouping.wait_seconds`), so the alarms of one fault become one message.
6. Heals the service; the recoveries arrive, grouped the same way.
7. Prints the Slack messages by channel and a summary; exits non-zero with the reason if a step failed.
8. Runs the /health/live incident again with the router in bot-token mode against a local Slack Web API
   (chat.postMessage, chat.update) and prints the thread view: one message per incident, updated in place
   when it resolves, with the recovery in its thread.
9. Acknowledges a /health/live ALARM from Slack: a click on its Acknowledge button, signed as Slack signs it,
   sent to the real interactivity endpoint, which hands it to the router; prints the updated message.

Time is compressed: each monitor run stands for one schedule period (1 minute by default).

    python -m tools.demo                      # the full scenario
    python -m tools.demo --scenario database  # one fault only (database | live)
    python -m tools.demo --scenario storm     # 200 alarms at once into a local Slack that allows 1 post/s
    python -m tools.demo --replay events/alert_router/sqs_database_fault.json
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import json
import os
import ssl
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

REPO_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_DIR = REPO_ROOT / "build" / "demo-templates"
ENVIRONMENT = "staging"
CYCLES_PER_PHASE = 4  # enough for 3-of-3 alarms to fire and to recover
STORM_ALARMS = 200
ROUTER = "lambdas.alert_router"


@dataclass(frozen=True)
class Phase:
    title: str
    faults: Mapping[str, Any]
    expect_alarm: tuple[str, ...] = ()  # alarm-name suffixes that must be in ALARM at the end of the phase


SCENARIOS: dict[str, tuple[Phase, ...]] = {
    "full": (
        Phase("healthy service", {}),
        Phase("database unhealthy", {"database": "unhealthy"}, expect_alarm=("synthetic-dependency-database",)),
        Phase("/health/live down", {"endpoints": {"/health/live": "down"}}, expect_alarm=("synthetic-live-failing",)),
        Phase("service healed", {}),
    ),
    "database": (
        Phase("healthy service", {}),
        Phase("database unhealthy", {"database": "unhealthy"}, expect_alarm=("synthetic-dependency-database",)),
        Phase("service healed", {}),
    ),
    "live": (
        Phase("healthy service", {}),
        Phase("/health/live down", {"endpoints": {"/health/live": "down"}}, expect_alarm=("synthetic-live-failing",)),
        Phase("service healed", {}),
    ),
}


class DemoFailure(Exception):
    """A step of the demo did not do what it must; the message says which and why."""


@dataclass
class DemoResult:
    checks_run: int = 0
    transitions: list[tuple[str, str, str]] = field(default_factory=list)  # (alarm, old, new)
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # top-level posts by channel
    threads: dict[str, str] = field(default_factory=dict)  # bot-token mode: each channel as a terminal shows it
    alarms_without_data: list[str] = field(default_factory=list)
    not_evaluated: list[str] = field(default_factory=list)
    phase_messages: dict[str, int] = field(default_factory=dict)  # top-level messages each phase posted

    @property
    def alarms_fired(self) -> list[str]:
        return [alarm for alarm, _old, new in self.transitions if new == "ALARM"]


def lambda_environment(template: Mapping[str, Any], handler_module: str) -> dict[str, str]:
    """The plain-string environment the stack gives a function (tokens such as ARNs are left out)."""
    for resource in template.get("Resources", {}).values():
        props = resource.get("Properties", {})
        if resource.get("Type") == "AWS::Lambda::Function" and str(props.get("Handler", "")).startswith(handler_module):
            variables = props.get("Environment", {}).get("Variables", {})
            return {key: value for key, value in variables.items() if isinstance(value, str)}
    raise DemoFailure(f"the synthesized template has no Lambda function with handler {handler_module}.*")


@contextlib.contextmanager
def patched_environ(values: Mapping[str, str], remove: tuple[str, ...] = ()) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.update(values)
    for key in remove:
        os.environ.pop(key, None)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def run_scenario(
    phases: tuple[Phase, ...],
    *,
    template: Mapping[str, Any],
    out: TextIO,
    cycles_per_phase: int = CYCLES_PER_PHASE,
    alarm_filter: Callable[[str], bool] | None = None,
    slack_mode: str = "webhook",
    intake: str = "sqs",
) -> DemoResult:
    """Drive the real handlers through the phases; return what happened. Pure of printing to the terminal
    except through `out`, so the end-to-end test runs exactly this. `intake="sns"`: each state change is
    its own SNS invocation, as the router was deployed before the SQS intake (bench/ compares the two)."""
    from lambdas.shared.local_context import LocalLambdaContext  # noqa: PLC0415
    from tools.health_service import HealthService  # noqa: PLC0415
    from tools.local_cloudwatch import AlarmEvaluator, alarms_from_template, datapoints_from_emf  # noqa: PLC0415

    result = DemoResult()
    monitor_env = lambda_environment(template, "lambdas.synthetic_monitor")
    namespace = monitor_env.get("POWERTOOLS_METRICS_NAMESPACE", "")
    alarms, unsupported = alarms_from_template(template)
    local_alarms = [a for a in alarms if a.namespace == namespace and (alarm_filter is None or alarm_filter(a.name))]
    result.not_evaluated = unsupported + [
        f"{a.name}: {a.namespace} metrics have no local source" for a in alarms if a.namespace != namespace
    ]
    if not local_alarms:
        raise DemoFailure(f"no alarm in the template watches the monitor's namespace {namespace!r}")
    evaluator = AlarmEvaluator(local_alarms)
    period = max(alarm.period for alarm in local_alarms)
    clock = float(int(time.time()) // period * period)

    # https like the real target, so the certificate alarm is evaluated too (the monitor trusts the
    # reference service's self-signed certificate through the handler's ssl_context parameter).
    with HealthService(tls=True) as service, _local_slack(slack_mode) as slack:
        trust = ssl.create_default_context(cafile=str(service.cert_file))
        print(f"reference health service: {service.url}    {slack.describe()}", file=out)
        local = {
            "HEALTH_BASE_URL": service.url,
            "FRONTEND_URL": f"{service.url}/",  # the reference service serves the front end's page too
            **slack.router_env(),
            # The functions' JSON logs would drown the story; DEMO_LOG_LEVEL=INFO shows them.
            "POWERTOOLS_LOG_LEVEL": os.environ.get("DEMO_LOG_LEVEL", "ERROR"),
        }
        # Each function has its own environment in AWS (both set POWERTOOLS_METRICS_NAMESPACE, for one).
        monitor = _in_environ("lambdas.synthetic_monitor", {**monitor_env, **local})
        receive = _Intake(
            intake, template, _router_of_this_run({**lambda_environment(template, ROUTER), **local}, slack_mode), slack
        )

        for phase in phases:
            posted_before = sum(len(items) for items in slack.messages().values())
            service.reset()
            if phase.faults:
                service.set_faults(**phase.faults)
            print(f"\n── {phase.title} " + "─" * max(0, 60 - len(phase.title)), file=out)
            for _cycle in range(cycles_per_phase):
                captured = io.StringIO()
                with contextlib.redirect_stdout(captured):
                    summary = monitor(
                        {"source": "aws.events", "detail-type": "Scheduled Event"},
                        LocalLambdaContext(function_name="synthetic-monitor"),
                        ssl_context=trust,
                    )
                results = summary["results"]
                result.checks_run += len(results)
                print("  " + "  ".join(_check_cell(r) for r in results), file=out)
                evaluator.add(datapoints_from_emf(captured.getvalue().splitlines(), timestamp=clock + 1))
                clock += period
                changes = evaluator.evaluate(clock)
                for transition in changes:
                    result.transitions.append((transition.alarm.name, transition.old_state, transition.new_state))
                    print(f"  → {transition.alarm.name}: {transition.old_state} → {transition.new_state}", file=out)
                receive.deliver(changes, at=clock)
            result.phase_messages[phase.title] = sum(len(i) for i in slack.messages().values()) - posted_before
            firing = {name for name, state in evaluator.states.items() if state == "ALARM"}
            for suffix in phase.expect_alarm:
                if not any(name.endswith(suffix) for name in firing):
                    raise DemoFailure(f"after '{phase.title}' no alarm ending in {suffix!r} fired")
        # Checked first: an alarm that never saw a datapoint is a wiring bug (metric name, namespace or
        # dimensions differ between the monitor and the alarm), whatever state it ended in.
        result.alarms_without_data = [
            f"{a.name}: no datapoint matched {a.namespace} / {a.metric_name} / {dict(a.dimensions)}"
            for a in local_alarms
            if not evaluator.has_data_for(a)
        ]
        if result.alarms_without_data:
            raise DemoFailure(
                "alarms that never received data (does the monitor write what they watch?): "
                + "; ".join(result.alarms_without_data)
            )
        if phases and any(state == "ALARM" for state in evaluator.states.values()) and not phases[-1].faults:
            still = sorted(name for name, state in evaluator.states.items() if state == "ALARM")
            raise DemoFailure(f"the service was healed but these alarms did not recover: {', '.join(still)}")
        result.messages = slack.messages()
        result.threads = slack.threads()
    return result


class _Intake:
    """How the router receives the state changes of one evaluation: as deployed, SQS batches (one batching
    window: CloudWatch changed them together, within wait_seconds; one by one without a window), or, as
    before the SQS intake, one SNS invocation per notification (`kind="sns"`)."""

    def __init__(
        self, kind: str, template: Mapping[str, Any], route: Callable[[dict[str, Any]], dict[str, Any]], slack: Any
    ) -> None:
        from tools.local_sqs import LocalQueue  # noqa: PLC0415

        self.kind, self.route, self.slack = kind, route, slack
        self.window, batch_size, max_receives = intake_settings(template)
        self.queue = LocalQueue(batch_size=batch_size, max_receive_count=max_receives)

    def deliver(self, changes: list[Any], *, at: float) -> None:
        from tools.local_cloudwatch import sns_event_for  # noqa: PLC0415

        batches = [[t] for t in changes] if self.kind == "sns" or not self.window else [changes] if changes else []
        for batch in batches:
            names = [transition.alarm.name for transition in batch]
            before = _mentions(self.slack.transcript(), names)
            if self.kind == "sns":
                answers: list[Any] = [self.route(sns_event_for(transition)) for transition in batch]
            else:
                for transition in batch:
                    self.queue.send_sns(sns_event_for(transition), at=at)
                answers = list(self.queue.deliver(self.route))
            after = _mentions(self.slack.transcript(), names)
            _require_delivery(batch, answers, before, after, self.queue.dead_letters)


@dataclass
class StormResult:
    alarms: int
    posts: int  # top-level messages for the storm
    rate_limited: int  # 429s the local Slack answered
    seconds_to_last_post: float  # from handing the first batch to the router to Slack accepting the last post
    redelivered_posts: int  # new messages when the same notifications are delivered again
    recovery_posts: int  # messages for the same alarms recovering
    failed_records: int  # records the router reported failed (SQS delivers them again)
    dead_letters: int
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def run_storm(
    template: Mapping[str, Any], *, count: int = STORM_ALARMS, intake: str = "sqs", speedup: float = 1.0
) -> StormResult:
    """`count` alarms at once into a local Slack that accepts one post per second per webhook (429 with
    Retry-After otherwise), through the router as deployed (SQS batches) or, `intake="sns"`, one SNS
    invocation per alarm from one container as before. `speedup` runs Slack's limit and the router's
    spacing that many times faster (bench/); the demo runs them as Slack does."""
    from lambdas.alert_router.delivery.engine import DeliveryEngine, Pacer  # noqa: PLC0415
    from lambdas.alert_router.delivery.idempotency import InMemoryDeduplicator  # noqa: PLC0415
    from lambdas.alert_router.delivery.policy import RetryPolicy  # noqa: PLC0415
    from lambdas.alert_router.delivery.webhook import WebhookSender  # noqa: PLC0415
    from lambdas.shared.local_context import LocalLambdaContext  # noqa: PLC0415
    from tools.local_slack import LocalSlack  # noqa: PLC0415
    from tools.local_sqs import LocalQueue  # noqa: PLC0415
    from tools.storm import storm_events  # noqa: PLC0415

    interval = 1.0 / speedup
    _window, batch_size, max_receives = intake_settings(template)
    queue = LocalQueue(batch_size=batch_size, max_receive_count=max_receives)
    with LocalSlack() as slack:
        for channel in slack.channels:
            slack.rate_limit(channel, interval=interval)
        env = {
            **lambda_environment(template, ROUTER),
            "SLACK_WEBHOOK_URLS": slack.webhook_urls(),
            "POWERTOOLS_LOG_LEVEL": os.environ.get("DEMO_LOG_LEVEL", "ERROR"),
        }
        router = _in_environ(ROUTER, env)
        engine = DeliveryEngine(policy=RetryPolicy(min_interval=interval), pacer=Pacer())
        sender = WebhookSender(webhooks=json.loads(slack.webhook_urls()), engine=engine)
        deduplicator = InMemoryDeduplicator()

        def call(event: dict[str, Any]) -> dict[str, Any]:
            context = LocalLambdaContext(function_name="alert-router", timeout_seconds=900)
            engine.remaining_seconds = lambda: context.get_remaining_time_in_millis() / 1000
            with contextlib.redirect_stdout(io.StringIO()):
                return router(event, context, sender=sender, deduplicator=deduplicator)

        def storm(state: str) -> tuple[list[Any], float]:
            events = storm_events(count, state=state)
            started = time.monotonic()
            if intake == "sns":
                return [call(event) for event in events], started
            for event in events:
                queue.send_sns(event)
            return list(queue.deliver(call)), started

        answers, started = storm("ALARM")
        posts = len(slack.accepted_at())
        last = max(slack.accepted_at(), default=started) - started
        rate_limited = slack.rate_limited_total()
        messages = slack.all_messages()
        storm("ALARM")  # the same notifications again: SNS wrote them twice, or a batch came back
        redelivered = len(slack.accepted_at()) - posts
        storm("OK")
        recovered = len(slack.accepted_at()) - posts - redelivered
    failed = sum(len(a.get("batchItemFailures") or []) for a in answers if isinstance(a, Mapping))
    return StormResult(
        alarms=count,
        posts=posts,
        rate_limited=rate_limited,
        seconds_to_last_post=last,
        redelivered_posts=redelivered,
        recovery_posts=recovered,
        failed_records=failed,
        dead_letters=len(queue.dead_letters),
        messages=messages,
    )


def print_storm(result: StormResult, out: TextIO) -> None:
    print(
        f"\nstorm: {result.alarms} alarms at once -> {result.posts} posts, {result.rate_limited} answered 429,"
        f" last post after {result.seconds_to_last_post:.1f} s; {result.failed_records} records failed,"
        f" {result.dead_letters} dead letters",
        file=out,
    )
    print(
        f"storm delivered again: {result.redelivered_posts} new posts; the recoveries: {result.recovery_posts} posts",
        file=out,
    )


class _WebhookSlack:
    """Incoming webhooks, one per channel (the router's webhook mode)."""

    def __init__(self) -> None:
        from tools.local_slack import LocalSlack  # noqa: PLC0415

        self.server = LocalSlack()

    def describe(self) -> str:
        return f"local Slack webhooks: {self.server.base_url}"

    def router_env(self) -> dict[str, str]:
        return {"SLACK_WEBHOOK_URLS": self.server.webhook_urls()}

    def messages(self) -> dict[str, list[dict[str, Any]]]:
        return self.server.all_messages()

    def transcript(self) -> list[dict[str, Any]]:
        return [payload for items in self.server.all_messages().values() for payload in items]

    def threads(self) -> dict[str, str]:
        return {}


class _BotSlack:
    """The Slack Web API with a bot token (the router's bot-token mode: threads and in-place updates)."""

    def __init__(self) -> None:
        from tools.local_slack import LocalSlackApi  # noqa: PLC0415

        self.server = LocalSlackApi()

    def describe(self) -> str:
        return f"local Slack Web API: {self.server.base_url}"

    def router_env(self) -> dict[str, str]:
        return {
            "SLACK_BOT_TOKEN": self.server.token,
            "SLACK_CHANNEL_IDS": self.server.channel_ids_json(),
            "SLACK_API_BASE_URL": self.server.base_url,
        }

    def messages(self) -> dict[str, list[dict[str, Any]]]:
        posts = {name: self.server.posts(channel_id) for name, channel_id in self.server.channel_ids.items()}
        return {name: items for name, items in posts.items() if items}

    def transcript(self) -> list[dict[str, Any]]:
        """Every message posted (top level and in threads) and every update."""
        ids = self.server.channel_ids.values()
        return [m for c in ids for m in (*self.server.posts(c), *self.server.replies(c), *self.server.updates(c))]

    def threads(self) -> dict[str, str]:
        return {
            name: self.server.render_channel(channel_id)
            for name, channel_id in self.server.channel_ids.items()
            if self.server.posts(channel_id)
        }


def _router_of_this_run(env: Mapping[str, str], slack_mode: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The router handler with a run's own memory (as a fresh deployment's): a second run in this process,
    at the same simulated times, must not find its notifications already delivered."""
    from lambdas.alert_router.delivery.idempotency import InMemoryDeduplicator  # noqa: PLC0415
    from lambdas.alert_router.incidents.store import InMemoryIncidentStore  # noqa: PLC0415
    from lambdas.shared.local_context import LocalLambdaContext  # noqa: PLC0415

    router = _in_environ(ROUTER, env)
    memory: dict[str, Any] = {"deduplicator": InMemoryDeduplicator()}
    if slack_mode == "bot":
        memory["store"] = InMemoryIncidentStore()

    def route_batch(event: dict[str, Any]) -> dict[str, Any]:
        with contextlib.redirect_stdout(io.StringIO()):  # the router's EMF, not for the terminal
            return router(event, LocalLambdaContext(function_name="alert-router"), **memory)

    return route_batch


@contextlib.contextmanager
def _local_slack(mode: str) -> Iterator[_WebhookSlack | _BotSlack]:
    slack = _BotSlack() if mode == "bot" else _WebhookSlack()
    with slack.server:
        yield slack


def _require_delivery(
    transitions: list[Any], answers: list[Any], before: Counter[str], after: Counter[str], dead: list[Any]
) -> None:
    """An alarm and the recovery of an alarm must reach Slack: a new message names it (its own, or its
    group's); only start-up noise may be held back. No record may fail or end as a dead letter."""
    for answer in answers:
        if isinstance(answer, Exception) or answer.get("batchItemFailures"):
            raise DemoFailure(f"the router did not deliver every record of a batch: {answer!r}")
    if dead:
        raise DemoFailure(f"{len(dead)} notifications ended in the dead-letter queue")
    for transition in transitions:
        name, old, new = transition.alarm.name, transition.old_state, transition.new_state
        if (new == "ALARM" or (old == "ALARM" and new == "OK")) and after[name] <= before[name]:
            raise DemoFailure(f"no new Slack message names {name} after its {old} -> {new}")


def _mentions(transcript: list[dict[str, Any]], names: Iterable[str]) -> Counter[str]:
    """How many messages (posts, replies, updates) name each of `names` (in their text or links)."""
    texts = [json.dumps(payload, ensure_ascii=False) for payload in transcript]
    return Counter({name: sum(name in text for text in texts) for name in names})


def intake_settings(template: Mapping[str, Any]) -> tuple[int, int, int]:
    """(batching window in seconds, batch size, max receives) of the router's SQS intake in the template."""
    resources = template.get("Resources", {}).values()
    mapping = next((r["Properties"] for r in resources if r.get("Type") == "AWS::Lambda::EventSourceMapping"), None)
    queue = next(
        (
            r["Properties"]
            for r in resources
            if r.get("Type") == "AWS::SQS::Queue" and "RedrivePolicy" in r["Properties"]
        ),
        None,
    )
    if mapping is None or queue is None:
        raise DemoFailure("the synthesized template has no SQS intake (event source mapping and queue) for the router")
    return (
        int(mapping.get("MaximumBatchingWindowInSeconds", 0)),
        int(mapping.get("BatchSize", 10)),
        int(queue["RedrivePolicy"]["maxReceiveCount"]),
    )


def _in_environ(package: str, env: Mapping[str, str]) -> Callable[..., dict[str, Any]]:
    """The package's handler, imported and invoked only inside `env` (its settings cache is reset first)."""
    remove = ("SLACK_WEBHOOK_SECRET_ARN", "IDEMPOTENCY_TABLE_NAME")
    with patched_environ(env, remove):
        importlib.import_module(f"{package}.settings").load_settings.cache_clear()
        handler = _fresh_handler(f"{package}.handler")

    def call(event: dict[str, Any], context: Any, **options: Any) -> dict[str, Any]:
        with patched_environ(env, remove):
            return handler(event, context, **options)

    return call


def _fresh_handler(module: str) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """Import the handler after the environment is set (settings are read at import or first call)."""
    if module in sys.modules:
        importlib.reload(sys.modules[module])
    return importlib.import_module(module).lambda_handler  # type: ignore[no-any-return]


# --- 9. acting from Slack (issue 14) -------------------------------------------------------------------------


def acknowledge_from_slack(template: Mapping[str, Any]) -> tuple[str, str]:
    """The /health/live ALARM posted in bot-token mode with its buttons; an Acknowledge click, signed as Slack signs
    it, through the real interactivity endpoint (which hands it to the router). (The channel before, after.)"""
    from lambdas.alert_router.incidents.store import InMemoryIncidentStore  # noqa: PLC0415
    from lambdas.shared.local_context import LocalLambdaContext  # noqa: PLC0415
    from lambdas.slack_actions.handoff import LocalRouterInvoker  # noqa: PLC0415
    from tools.local_cloudwatch import Transition, alarms_from_template, sns_event_for  # noqa: PLC0415
    from tools.local_slack import LocalSlackApi  # noqa: PLC0415
    from tools.slack_interactions import TEST_SIGNING_SECRET, click, signed_event  # noqa: PLC0415

    alarms, _ = alarms_from_template(template)
    live = next((a for a in alarms if a.name.endswith("synthetic-live-failing")), None)
    if live is None:
        raise DemoFailure("the template has no synthetic-live-failing alarm to acknowledge")
    quiet = {"POWERTOOLS_LOG_LEVEL": os.environ.get("DEMO_LOG_LEVEL", "ERROR")}
    store = InMemoryIncidentStore()  # this step's own incidents
    with LocalSlackApi() as api:
        bot = {
            "SLACK_BOT_TOKEN": api.token,
            "SLACK_CHANNEL_IDS": api.channel_ids_json(),
            "SLACK_API_BASE_URL": api.base_url,
        }
        router = _in_environ(
            "lambdas.alert_router", {**lambda_environment(template, "lambdas.alert_router"), **bot, **quiet}
        )
        endpoint_env = lambda_environment(template, "lambdas.slack_actions")
        endpoint = _in_environ(
            "lambdas.slack_actions", {**endpoint_env, "SLACK_SIGNING_SECRET": TEST_SIGNING_SECRET, **quiet}
        )
        reason = "Threshold Crossed: 3 out of the last 3 datapoints were less than the threshold (1.0)."
        alarm = sns_event_for(Transition(live, "OK", "ALARM", reason, time.time()))
        with contextlib.redirect_stdout(io.StringIO()):  # the functions' EMF, not for the terminal
            router(alarm, LocalLambdaContext(function_name="alert-router"), store=store)
            channel = next(channel_id for channel_id in api.channel_ids.values() if api.posts(channel_id))
            (post,) = api.posts(channel)
            before = api.render_channel(channel)
            payload = click(
                post, "Acknowledge", response_url=api.response_url(), user_id="U0ONCALL", user_name="oncall"
            )
            invoker = LocalRouterInvoker(router=lambda event, context: router(event, context, store=store))
            answer = endpoint(signed_event(payload), LocalLambdaContext(function_name="slack-actions"), invoker=invoker)
        outcomes = [result.get("outcome") for result in invoker.results]
        if answer["statusCode"] != 200 or outcomes != ["acknowledged"]:
            raise DemoFailure(f"the Acknowledge click was not applied (HTTP {answer['statusCode']}, {outcomes})")
        return before, api.render_channel(channel)


def _check_cell(check: Mapping[str, Any]) -> str:
    mark = "✓" if check.get("ok") else "✗"
    detail = f"{check.get('latency_ms', 0):.0f}ms" if check.get("ok") else str(check.get("reason") or "failed")
    return f"{mark} {check.get('name')} ({detail})"


def print_messages(messages: Mapping[str, list[dict[str, Any]]], out: TextIO) -> None:
    from tools.local_slack import render_terminal  # noqa: PLC0415

    for channel in sorted(messages):
        print(f"\n#{channel}  ({len(messages[channel])} messages)", file=out)
        print("─" * 72, file=out)
        for payload in messages[channel]:
            print(_indent(render_terminal(payload)), file=out)
            print("", file=out)


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.splitlines())


def load_template(environment: str = ENVIRONMENT) -> dict[str, Any]:
    from tools.synth_all import synth_home_template  # noqa: PLC0415

    path = synth_home_template(TEMPLATE_DIR, environment)
    template: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return template


def replay(event_path: Path, out: TextIO) -> int:
    """Send one Lambda test event through the real router into the local Slack receiver."""
    from lambdas.shared.local_context import LocalLambdaContext  # noqa: PLC0415
    from tools.local_slack import LocalSlack  # noqa: PLC0415

    event = json.loads(event_path.read_text(encoding="utf-8"))
    with LocalSlack() as slack, patched_environ({"SLACK_WEBHOOK_URLS": slack.webhook_urls()}):
        router = _fresh_handler("lambdas.alert_router.handler")
        router(event, LocalLambdaContext(function_name="alert-router"))
        print_messages(slack.all_messages(), out)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the alerting pipeline locally on 127.0.0.1.")
    parser.add_argument("--scenario", choices=[*sorted(SCENARIOS), "storm"], default="full")
    parser.add_argument("--replay", type=Path, help="send one Lambda test event through the router and stop")
    parser.add_argument(
        "--no-threads", action="store_true", help="skip steps 8 and 9, bot-token mode's threads and buttons"
    )
    args = parser.parse_args(argv)
    out = sys.stdout
    started = time.monotonic()
    try:
        if args.replay:
            return replay(args.replay, out)
        print("1. synthesizing the staging stack (cdk-nag included) ...", file=out)
        template = load_template()
        if args.scenario == "storm":
            print(f"2. {STORM_ALARMS} alarms at once, into a local Slack that accepts 1 post/s per webhook", file=out)
            storm = run_storm(template)
            print_messages(storm.messages, out)
            print_storm(storm, out)
            return 0 if storm.failed_records == storm.dead_letters == storm.redelivered_posts == 0 else 1
        print("2-6. running the scenario with the real monitor and router handlers", file=out)
        result = run_scenario(SCENARIOS[args.scenario], template=template, out=out)
        threaded = None
        acknowledged = None
        if not args.no_threads:
            # steps 8 and 9 run now and are printed after step 7, the webhook messages
            print("   then the /health/live incident in bot-token mode, and a signed click on its button", file=out)
            threaded = run_scenario(SCENARIOS["live"], template=template, out=io.StringIO(), slack_mode="bot")
            acknowledged = acknowledge_from_slack(template)
    except DemoFailure as failure:
        print(f"\ndemo FAILED: {failure}", file=sys.stderr)
        return 1
    except Exception as error:  # a step of the real code failed: say which error, in one line
        print(f"\ndemo FAILED: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    print("\n7. Slack messages, by channel", file=out)
    print_messages(result.messages, out)
    if threaded is not None:
        print(
            "\n8. bot-token mode: one message per incident, the recovery in its thread, the original updated", file=out
        )
        for channel, view in sorted(threaded.threads.items()):
            print(f"\n#{channel}\n" + "─" * 72 + "\n" + _indent(view), file=out)
        print("", file=out)
    if acknowledged is not None:
        before, after = acknowledged
        print("\n9. Acknowledge from Slack: the ALARM with its buttons ...", file=out)
        print("─" * 72 + "\n" + _indent(before), file=out)
        print("   ... after the signed click: the click verified, the message updated, the thread told", file=out)
        print("─" * 72 + "\n" + _indent(after), file=out)
    for line in result.alarms_without_data:
        print(f"note: {line}", file=out)
    if result.not_evaluated:
        print(f"note: {len(result.not_evaluated)} alarms watch AWS metrics that have no local source "
              "(ECS, ALB, RDS, Redis, Lambda, SQS); CloudWatch evaluates them once deployed.", file=out)  # fmt: skip
    for title, posted in result.phase_messages.items():
        if posted:
            print(f"{title}: {posted} message{'s' if posted != 1 else ''}", file=out)
    per_channel = ", ".join(f"#{channel} {len(items)}" for channel, items in sorted(result.messages.items()))
    print(
        f"\nsummary: {result.checks_run} checks run, {len(result.alarms_fired)} alarms fired, "
        f"{len(result.transitions)} state changes; messages: {per_channel or 'none'}; "
        f"{time.monotonic() - started:.1f} s",
        file=out,
    )
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # the servers are threads of this process and stop with it
        print("\ninterrupted", file=sys.stderr)
        sys.exit(130)
