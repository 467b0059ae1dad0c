"""Run one Lambda handler locally with a test event and a stand-in context.

    python -m tools.invoke alert_router events/alert_router/cloudwatch_alarm.json
    make invoke FN=synthetic_monitor EVENT=events/synthetic_monitor/scheduled.json

The handler is the deployed one (`lambdas.<fn>.handler.lambda_handler`), configured from the environment:
SLACK_WEBHOOK_URLS for the router (without it, the payloads are printed, not sent), HEALTH_BASE_URL for
the synthetic monitor. For the Sentry intake, SENTRY_CLIENT_SECRET is the client secret the signature is
checked with; when neither it nor SENTRY_CLIENT_SECRET_ARN is set, the test secret of
tools/sentry_events.py (which signed events/sentry_intake/) is used. The event is sent as if now: its
Sentry-Hook-Timestamp and, when it is validly signed with that secret, the times inside its body are moved
to now and the body signed again (the intake refuses stale ones); accepted alerts go straight to the local
router (which then posts to SLACK_WEBHOOK_URLS or prints). For the Slack actions endpoint,
SLACK_SIGNING_SECRET is the signing secret (default: the test secret of tools/slack_interactions.py, which
signed events/slack_actions/); a validly signed click is signed again as if sent now and handed to the local
router (in webhook mode the router answers that webhook mode has no incidents).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from pathlib import Path

from lambdas.shared.local_context import LocalLambdaContext

FUNCTIONS = ("alert_router", "synthetic_monitor", "sentry_intake", "slack_actions")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run a Lambda handler locally with a test event.")
    parser.add_argument("function", choices=FUNCTIONS)
    parser.add_argument("event", type=Path, help="path to a JSON test event (see events/<function>/)")
    args = parser.parse_args(argv)
    try:
        event = json.loads(args.event.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        print(f"cannot read the event {args.event}: {error}", file=sys.stderr)
        return 2
    if args.function == "sentry_intake":
        from tools.sentry_events import TEST_SECRET, with_fresh_times  # noqa: PLC0415 - this function only

        if not os.environ.get("SENTRY_CLIENT_SECRET_ARN"):
            os.environ.setdefault("SENTRY_CLIENT_SECRET", TEST_SECRET)
        event = with_fresh_times(event, os.environ.get("SENTRY_CLIENT_SECRET") or TEST_SECRET)
    if args.function == "slack_actions":
        from tools.slack_interactions import TEST_SIGNING_SECRET, with_fresh_signature  # noqa: PLC0415

        if not os.environ.get("SLACK_SIGNING_SECRET_ARN"):
            os.environ.setdefault("SLACK_SIGNING_SECRET", TEST_SIGNING_SECRET)
        event = with_fresh_signature(event, os.environ.get("SLACK_SIGNING_SECRET") or TEST_SIGNING_SECRET)
    handler = importlib.import_module(f"lambdas.{args.function}.handler").lambda_handler
    context = LocalLambdaContext(function_name=f"local-{args.function.replace('_', '-')}")
    result = handler(event, context)
    print(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
