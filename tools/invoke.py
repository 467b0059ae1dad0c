"""Run one Lambda handler locally with a test event and a stand-in context.

    python -m tools.invoke alert_router events/alert_router/cloudwatch_alarm.json
    make invoke FN=synthetic_monitor EVENT=events/synthetic_monitor/scheduled.json

The handler is the deployed one (`lambdas.<fn>.handler.lambda_handler`), configured from the environment:
SLACK_WEBHOOK_URLS for the router (without it, the payloads are printed, not sent), HEALTH_BASE_URL for
the synthetic monitor.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

from lambdas.shared.local_context import LocalLambdaContext

FUNCTIONS = ("alert_router", "synthetic_monitor")


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
    handler = importlib.import_module(f"lambdas.{args.function}.handler").lambda_handler
    context = LocalLambdaContext(function_name=f"local-{args.function.replace('_', '-')}")
    result = handler(event, context)
    print(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
