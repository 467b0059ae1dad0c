"""Grouping benchmark (issue 13): the router before (SNS invokes it once per alarm) and after (SQS batches,
grouped), side by side in one run, against the issue's numbers.

    .venv/bin/python -m bench.grouping_bench [--speedup 10]

- posts per incident: the demo's database fault (ready and /health failing, the database dependency),
  its alarms and recoveries, through the real monitor, the local alarm evaluator and the real router
  (tools/demo.py); the issue counted 6 before;
- state change -> first post: the router's own time, measured from handing it the fault's notifications
  to the local Slack accepting the first post, plus, after, the batching window the event source waits
  (`router.grouping.wait_seconds` of config/staging.yaml and production.yaml; added, not slept). SNS's and
  SQS's own delivery times are AWS's and not measured;
- a storm: 200 alarms at once into a local Slack that accepts one post per second per webhook and answers
  429 with Retry-After otherwise: posts, 429s, the time to the last post, and the posts when the same
  batch is delivered again. Run `--speedup` times faster (Slack's limit and the router's spacing alike) and
  reported in Slack's seconds; the issue measured 211 posts over 132-210 s before, from one container.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tools.demo import StormResult

ROOT = Path(__file__).resolve().parent.parent
FAULT_EVENT = ROOT / "events" / "alert_router" / "sqs_database_fault.json"
ISSUE_POSTS_PER_INCIDENT = 6
ISSUE_STORM = "211 posts over 132-210 s"
GOAL_POSTS_PER_INCIDENT = 3
GOAL_STORM_POSTS = 15


def first_post_seconds(intake: str, rounds: int = 5) -> float:
    """Median time from handing the router the fault's notifications to Slack accepting the first post."""
    from lambdas.alert_router.delivery.engine import DeliveryEngine, Pacer
    from lambdas.alert_router.delivery.idempotency import InMemoryDeduplicator
    from lambdas.alert_router.delivery.webhook import WebhookSender
    from lambdas.alert_router.handler import lambda_handler
    from lambdas.alert_router.settings import load_settings
    from lambdas.shared.local_context import LocalLambdaContext
    from tools.local_slack import LocalSlack

    event = json.loads(FAULT_EVENT.read_text())
    samples = []
    with LocalSlack() as slack:
        os.environ["SLACK_WEBHOOK_URLS"] = slack.webhook_urls()
        load_settings.cache_clear()
        for _ in range(rounds):
            slack.reset()
            # a fresh container each round: no spacing left over from the previous round's posts
            options: dict[str, Any] = {
                "deduplicator": InMemoryDeduplicator(),
                "sender": WebhookSender(json.loads(slack.webhook_urls()), DeliveryEngine(pacer=Pacer())),
            }
            context = LocalLambdaContext(function_name="alert-router")
            started = time.monotonic()
            with contextlib.redirect_stdout(io.StringIO()):
                if intake == "sns":  # before: one SNS invocation per notification, in the order they came
                    for record in event["Records"]:
                        envelope = json.loads(record["body"])
                        sns = {**envelope, "SigningCertUrl": envelope["SigningCertURL"]}
                        lambda_handler({"Records": [{"EventSource": "aws:sns", "Sns": sns}]}, context, **options)
                else:
                    lambda_handler(event, context, **options)
            samples.append(slack.accepted_at()[0] - started)
    return statistics.median(samples)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speedup", type=float, default=10.0, help="run Slack's 1 post/s this many times faster")
    args = parser.parse_args(argv)
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    warnings.filterwarnings("ignore", module="aws_lambda_powertools")  # its EMF notices, not the bench's
    from infra.config import load_config
    from tools.demo import SCENARIOS, load_template, run_scenario, run_storm

    template = load_template()
    windows = {env: load_config(env).router.grouping.wait_seconds for env in ("staging", "production")}
    rows: list[tuple[str, str, str, str]] = []
    incidents = {
        intake: run_scenario(SCENARIOS["database"], template=template, out=io.StringIO(), intake=intake)
        for intake in ("sns", "sqs")
    }
    posts = {intake: sum(len(items) for items in r.messages.values()) for intake, r in incidents.items()}
    rows.append(
        (
            "database fault: posts (alarms + recoveries)",
            f"{posts['sns']} (issue: {ISSUE_POSTS_PER_INCIDENT})",
            str(posts["sqs"]),
            f"<= {GOAL_POSTS_PER_INCIDENT}" + (" ok" if posts["sqs"] <= GOAL_POSTS_PER_INCIDENT else " MISSED"),
        )
    )
    before, after = first_post_seconds("sns"), first_post_seconds("sqs")
    window = windows["staging"]
    rows.append(
        (
            "database fault: state change -> first post",
            f"{before * 1000:.0f} ms",
            f"{window + after:.2f} s ({window} s window + {after * 1000:.0f} ms)",
            "-",
        )
    )
    storms = {intake: run_storm(template, count=200, intake=intake, speedup=args.speedup) for intake in ("sns", "sqs")}
    measures: list[tuple[str, Callable[[StormResult], str]]] = [
        ("storm of 200: posts", lambda s: str(s.posts)),
        ("storm of 200: 429 answers", lambda s: str(s.rate_limited)),
        ("storm of 200: time to the last post", lambda s: f"{s.seconds_to_last_post * args.speedup:.1f} s"),
        ("storm of 200: records failed / dead letters", lambda s: f"{s.failed_records} / {s.dead_letters}"),
        ("storm of 200 delivered again: new posts", lambda s: str(s.redelivered_posts)),
        ("storm of 200 recovering: posts", lambda s: str(s.recovery_posts)),
    ]
    for label, value in measures:
        goal = ""
        if label == "storm of 200: posts":
            goal = f"<= {GOAL_STORM_POSTS}" + (" ok" if storms["sqs"].posts <= GOAL_STORM_POSTS else " MISSED")
        elif "again" in label:
            goal = "0" + (" ok" if storms["sqs"].redelivered_posts == 0 else " MISSED")
        elif "last post" in label:
            goal = "within the invocation (60 s)" + (
                " ok" if storms["sqs"].seconds_to_last_post * args.speedup < 60 else " MISSED"
            )
        before_text = value(storms["sns"]) + (f" (issue: {ISSUE_STORM})" if label == "storm of 200: posts" else "")
        rows.append((label, before_text, value(storms["sqs"]), goal))
    print(
        f"grouping benchmark (Python {sys.version.split()[0]}; storms at {args.speedup:g}x Slack's pace, reported in"
        f" Slack's seconds; batching window {windows['staging']} s staging, {windows['production']} s production)"
    )
    print(f"{'measure':<46} {'before: SNS, one per alarm':<40} {'after: SQS, grouped':<38} goal")
    for name, was, now, goal in rows:
        print(f"{name:<46} {was:<40} {now:<38} {goal}")


if __name__ == "__main__":
    main()
