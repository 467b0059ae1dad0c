"""Alert router benchmark: parse + route + render per event, and cold start, against the issue's goals.

    .venv/bin/python -m bench.alert_router_bench

- per event: median over many rounds of parse_event -> route -> render for every file in
  events/alert_router/ (pure functions, no network, no logging);
- cold start: a fresh `python` process imports the handler and handles the first event with no webhook
  configured (dry run) and no AWS; minimum of several runs, as measured inside the child process.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events" / "alert_router"
GOAL_PER_EVENT_MS = 1.0
GOAL_COLD_START_MS = 150.0

_COLD_START = """
import io, json, sys, time, contextlib
start = time.perf_counter()
from lambdas.alert_router.handler import lambda_handler
from lambdas.shared.local_context import LocalLambdaContext
imported = time.perf_counter()
event = json.loads(open(sys.argv[1]).read())
with contextlib.redirect_stdout(io.StringIO()):
    lambda_handler(event, LocalLambdaContext())
done = time.perf_counter()
print(json.dumps({"import_ms": (imported - start) * 1000, "total_ms": (done - start) * 1000}))
"""


def per_event_ms(rounds: int = 200) -> tuple[float, int]:
    from lambdas.alert_router.intake.events import parse_event
    from lambdas.alert_router.rendering.render import render
    from lambdas.alert_router.routing.route import route
    from lambdas.alert_router.settings import settings_from_env

    settings = settings_from_env({"ENVIRONMENT": "bench", "DASHBOARD_NAME": "bench"})
    events = [json.loads(path.read_text()) for path in sorted(EVENTS.glob("*.json"))]
    alerts_per_round = sum(len(parse_event(event)) for event in events)
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        for event in events:
            for alert in parse_event(event):
                render(alert, route(alert, settings.routing), settings.render_context(alert.region))
        samples.append((time.perf_counter() - start) * 1000 / alerts_per_round)
    return statistics.median(samples), alerts_per_round


def cold_start_ms(runs: int = 7) -> tuple[float, float, float]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SLACK_", "IDEMPOTENCY_", "SENTRY_", "AWS_LAMBDA_"))
    }
    env["PYTHONPATH"] = str(ROOT)
    env["POWERTOOLS_LOG_LEVEL"] = "WARNING"
    event = str(EVENTS / "sns_metric_alarm_ecs_cpu.json")
    results = []
    walls = []
    for _ in range(runs):
        start = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", _COLD_START, event], capture_output=True, text=True, env=env, cwd=ROOT, check=True
        )
        walls.append((time.perf_counter() - start) * 1000)
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    best = min(results, key=lambda r: r["total_ms"])
    return best["import_ms"], best["total_ms"], min(walls)


def main() -> None:
    median, count = per_event_ms()
    import_ms, total_ms, wall_ms = cold_start_ms()
    rows = [
        (
            "parse+route+render, median per event",
            f"{median:.3f} ms",
            f"< {GOAL_PER_EVENT_MS:g} ms",
            median < GOAL_PER_EVENT_MS,
        ),
        ("cold start: import handler", f"{import_ms:.1f} ms", "", None),
        (
            "cold start: import + first event (dry run)",
            f"{total_ms:.1f} ms",
            f"< {GOAL_COLD_START_MS:g} ms",
            total_ms < GOAL_COLD_START_MS,
        ),
        ("whole fresh process incl. interpreter start", f"{wall_ms:.1f} ms", "", None),
    ]
    print(f"alert router benchmark ({count} alerts from {EVENTS.relative_to(ROOT)}, Python {sys.version.split()[0]})")
    print(f"{'measure':<46} {'measured':>10}  {'goal':>10}  verdict")
    for name, measured, goal, ok in rows:
        verdict = "" if ok is None else ("ok" if ok else "MISSED")
        print(f"{name:<46} {measured:>10}  {goal:>10}  {verdict}")


if __name__ == "__main__":
    main()
