"""Cold start of the Slack interactivity endpoint beside the Sentry intake, against Slack's 3-second budget.

    .venv/bin/python -m bench.slack_actions_bench [--runs 9]

Each run is a fresh `python` process that imports a handler and answers one signed request (a click on
Acknowledge; a signed Sentry issue webhook), timed inside the process: the import, the first request, and
both once more with boto3 and the two clients a deployed function creates (Secrets Manager for the secret,
Lambda or SNS to hand over), which is what the first deployed request adds. The hand-over itself is a recorder:
nothing leaves the process. Runs are interleaved, medians and the ratio to the intake are printed, and the
endpoint's deployed-like cold start as a share of the 3 s Slack waits (a 256 MB Lambda has a fraction of this
machine's CPU: the share is a floor).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SLACK_BUDGET_SECONDS = 3.0

_CHILD = r"""
import json, sys, time
started = time.perf_counter()
kind, with_boto3 = sys.argv[1], sys.argv[2] == "1"
if kind == "slack":
    from lambdas.slack_actions import handler
    from tools.slack_interactions import signed_event
    imported = time.perf_counter()
    message = {"ts": "1.1", "channel": "C1", "blocks": [{"type": "actions", "block_id": "incident-actions",
               "elements": [{"type": "button", "action_id": "incident-acknowledge",
                             "text": {"type": "plain_text", "text": "Acknowledge"}, "value": "k"}]}]}
    from tools.slack_interactions import click
    event = signed_event(click(message, "Acknowledge", response_url="https://hooks.slack.com/actions/T/1/x"))
    class Recorder:
        def hand_over(self, action): pass
    extra = {"invoker": Recorder()}
else:
    from lambdas.sentry_intake import handler
    from tools.sentry_events import build_event, with_fresh_times
    imported = time.perf_counter()
    event = with_fresh_times(build_event("issue_created.json"))
    class Recorder:
        def publish(self, message): return "m-1"
    extra = {"publisher": Recorder()}
if with_boto3:
    import boto3
    boto3.client("secretsmanager", region_name="ap-northeast-1")
    boto3.client("lambda" if kind == "slack" else "sns", region_name="ap-northeast-1")
from lambdas.shared.local_context import LocalLambdaContext
answer = handler.lambda_handler(event, LocalLambdaContext(function_name="bench"), **extra)
done = time.perf_counter()
assert answer["statusCode"] in (200, 202), answer
print(json.dumps({"import_ms": (imported - started) * 1000, "total_ms": (done - started) * 1000}), file=sys.stderr)
"""


def one_run(kind: str, with_boto3: bool) -> dict[str, float]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "POWERTOOLS_LOG_LEVEL": "ERROR",
        "SLACK_SIGNING_SECRET": "test-slack-signing-secret-not-real",
        "SENTRY_CLIENT_SECRET": "test-sentry-client-secret",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    for name in ("SLACK_SIGNING_SECRET_ARN", "SENTRY_CLIENT_SECRET_ARN", "ROUTER_FUNCTION_NAME", "SENTRY_DSN"):
        env.pop(name, None)
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, kind, "1" if with_boto3 else "0"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=True,
        timeout=60,
    )
    result: dict[str, float] = json.loads(done.stderr.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args(argv)
    variants = [(kind, boto) for boto in (False, True) for kind in ("slack", "sentry")]
    samples: dict[tuple[str, bool], list[dict[str, float]]] = {variant: [] for variant in variants}
    for _ in range(args.runs):  # interleaved: a busy moment of the machine hits every variant
        for variant in variants:
            samples[variant].append(one_run(*variant))

    def median(variant: tuple[str, bool], key: str) -> float:
        return statistics.median(sample[key] for sample in samples[variant])

    print(f"cold start, import + first request, median of {args.runs} fresh processes (this machine)")
    for boto in (False, True):
        label = "with boto3 and its 2 clients (deployed)" if boto else "local secret, no boto3"
        slack, sentry = median(("slack", boto), "total_ms"), median(("sentry", boto), "total_ms")
        print(
            f"  {label:42} slack-actions {slack:6.0f} ms (import {median(('slack', boto), 'import_ms'):4.0f})"
            f"   sentry-intake {sentry:6.0f} ms   ratio {slack / sentry:4.2f}"
        )
    deployed = median(("slack", True), "total_ms") / 1000
    print(f"  slack-actions deployed-like cold start: {deployed / SLACK_BUDGET_SECONDS:.0%} of Slack's 3 s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
