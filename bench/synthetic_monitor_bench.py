"""Benchmark of the synthetic monitor: parallelism, cold start, and monthly cost beside CloudWatch Synthetics.

    .venv/bin/python -m bench.synthetic_monitor_bench [--runs 5]

1. N checks against a local server that answers after L ms: wall time of one handler run / L
   (median of the runs after a warm-up). Goals: 4 checks @ 200 ms <= 1.3; 50 checks @ 200 ms <= 1.5.
2. Cold start: a fresh interpreter imports the handler and runs the 4 default checks once against the
   local server; reported minus L. Goal < 150 ms. (This CPU; Lambda at 256 MB has a fraction of a vCPU.)
   Beside it, interleaved, a probe Region's monitor (synthetics.probe_regions) doing the same and putting its
   results into the home Region's CloudWatch (a moto server on 127.0.0.1): what boto3 and the put add.
3. Judging one /health body (the reference service's) with the tolerant default check beside the strict one:
   median microseconds per body, and their ratio (the judge is pure: no I/O in the loop).
4. Monthly cost of the default configuration beside CloudWatch Synthetics for the same coverage. The
   alarms are counted in the synthesized staging template (those named `*-synthetic-*`), the custom
   metrics in the EMF of one default run (+ one certificate metric per https check: the local run is http).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from moto.server import ThreadedMotoServer

from lambdas.shared.local_context import LocalLambdaContext
from lambdas.synthetic_monitor.checks import DEFAULT_CHECKS, STRICT_CHECK_SPECS, Response, judge, parse_checks
from lambdas.synthetic_monitor.reading import STRICT, TOLERANT
from tools.health_service import Faults, HealthService, health_body
from tools.synth_all import synth_home_template

ROOT = Path(__file__).resolve().parent.parent
LATENCY_MS = 200

# Published on-demand prices, us-east-1 (ap-northeast-1 charges the same for the Lambda arm64 and
# CloudWatch metric/alarm items below; logs ingestion there is $0.76/GB). Check before quoting.
PRICES: dict[str, tuple[float, str]] = {
    "lambda_request": (0.20 / 1_000_000, "https://aws.amazon.com/lambda/pricing/ (requests, $0.20 per 1M)"),
    "lambda_gb_second_arm64": (
        0.0000133334,
        "https://aws.amazon.com/lambda/pricing/ (Arm duration, first 7.5B GB-s/month)",
    ),
    "custom_metric_month": (0.30, "https://aws.amazon.com/cloudwatch/pricing/ (metrics, first 10,000)"),
    "standard_alarm_month": (0.10, "https://aws.amazon.com/cloudwatch/pricing/ (standard-resolution alarm)"),
    "logs_ingest_gb": (0.50, "https://aws.amazon.com/cloudwatch/pricing/ (logs ingestion, Standard class)"),
    "canary_run": (0.0012, "https://aws.amazon.com/cloudwatch/pricing/ (Synthetics, per canary run)"),
}
RUNS_PER_MONTH = 730 * 60  # every minute, 730 hours
MEMORY_MB = 256
TEMPLATE_ENVIRONMENT = "staging"


def _run_once(base_url: str, checks: list[dict[str, Any]] | None) -> tuple[float, dict[str, Any], str]:
    """One handler run; returns (seconds, summary, what it wrote to stdout: the EMF + logs)."""
    from lambdas.synthetic_monitor.handler import lambda_handler
    from lambdas.synthetic_monitor.settings import load_settings

    os.environ["HEALTH_BASE_URL"] = base_url
    if checks is None:
        os.environ.pop("CHECKS", None)
    else:
        os.environ["CHECKS"] = json.dumps(checks)
    load_settings.cache_clear()
    out = io.StringIO()
    started = time.perf_counter()
    with contextlib.redirect_stdout(out):
        summary = lambda_handler({"source": "bench"}, LocalLambdaContext(timeout_seconds=30))  # type: ignore[arg-type]
    return time.perf_counter() - started, summary, out.getvalue()


def judge_microseconds(batches: int = 15, per_batch: int = 1000) -> tuple[float, float]:
    """(tolerant, strict): median microseconds to judge the reference service's healthy /health body; the two
    alternate batch by batch, so a busy machine slows both alike."""
    _status, body = health_body(Faults(), uptime=3600, version="1.0.0")
    response = Response("https://api.example/health", 200, json.dumps(body).encode(), 20.0)
    strict_check = next(c for c in parse_checks(STRICT_CHECK_SPECS, default_timeout_ms=3000) if c.name == "health")
    tolerant_check = next(c for c in DEFAULT_CHECKS if c.name == "health")
    timings: dict[str, list[float]] = {"tolerant": [], "strict": []}
    for _ in range(batches):
        for name, check, reading in (("tolerant", tolerant_check, TOLERANT), ("strict", strict_check, STRICT)):
            started = time.perf_counter()
            for _ in range(per_batch):
                judge(check, response, now=0.0, reading=reading)
            timings[name].append((time.perf_counter() - started) / per_batch * 1e6)
    return statistics.median(timings["tolerant"]), statistics.median(timings["strict"])


def parallel_ratio(service: HealthService, count: int, runs: int) -> tuple[float, float]:
    checks = [
        {"name": f"c{i}", "url": "/health/live", "conditions": [{"status": 200}, {"latency_below_ms": 2000}]}
        for i in range(count)
    ]
    _run_once(service.url, checks)  # warm-up: imports, thread start-up paths
    times = []
    for _ in range(runs):
        seconds, summary, _ = _run_once(service.url, checks)
        if not summary["ok"]:
            raise SystemExit(f"benchmark run failed: {summary['results'][:2]}")
        times.append(seconds)
    latency = LATENCY_MS / 1000
    return statistics.median(times) / latency, max(times) / latency


_COLD = """
import json, sys, time
started = time.perf_counter()
from moto.server import ThreadedMotoServer

from lambdas.shared.local_context import LocalLambdaContext
from lambdas.synthetic_monitor.handler import lambda_handler
imported = time.perf_counter()
summary = lambda_handler({"source": "bench"}, LocalLambdaContext(timeout_seconds=30))
done = time.perf_counter()
sys.stderr.write(json.dumps({"import": imported - started, "total": done - started, "ok": summary["ok"]}))
"""


def cold_start(
    service: HealthService, attempts: int = 3, extra_env: dict[str, str] | None = None
) -> tuple[float, float]:
    """Best of `attempts` fresh interpreters: (import ms, import + first run - L ms)."""
    env = {**os.environ, "HEALTH_BASE_URL": service.url, "PYTHONDONTWRITEBYTECODE": "0", **(extra_env or {})}
    env.pop("CHECKS", None)
    best_import, best_total = math.inf, math.inf
    for _ in range(attempts):
        done = subprocess.run(
            [sys.executable, "-c", _COLD], cwd=ROOT, env=env, capture_output=True, text=True, check=True
        )
        result = json.loads(done.stderr.strip().splitlines()[-1])
        if not result["ok"]:
            raise SystemExit("cold-start run failed")
        best_import = min(best_import, result["import"] * 1000)
        best_total = min(best_total, result["total"] * 1000 - LATENCY_MS)
    return best_import, best_total


def home_and_probe_cold_starts(service: HealthService, attempts: int = 5) -> tuple[tuple[float, float], ...]:
    """The home monitor's cold start and a probe Region's, interleaved, best of `attempts` each."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    probe = {
        "METRICS_REGION": "ap-northeast-1",
        "PROBE_REGION": "us-west-2",
        "AWS_ENDPOINT_URL": f"http://{host}:{port}",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
    }
    try:
        runs = [(cold_start(service, 1), cold_start(service, 1, probe)) for _ in range(attempts)]
    finally:
        server.stop()
    return tuple((min(r[i][0] for r in runs), min(r[i][1] for r in runs)) for i in (0, 1))


def monitor_alarm_names(template: dict[str, Any]) -> list[str]:
    """The synthetic monitor's alarms in a synthesized template: every alarm named `*-synthetic-*`."""
    names = [
        resource.get("Properties", {}).get("AlarmName")
        for resource in template.get("Resources", {}).values()
        if resource.get("Type") == "AWS::CloudWatch::Alarm"
    ]
    return sorted(name for name in names if isinstance(name, str) and "-synthetic-" in name)


def synthesized_monitor_alarms(environment: str = TEMPLATE_ENVIRONMENT) -> list[str]:
    with tempfile.TemporaryDirectory(prefix="bench-synth-") as out:
        path = synth_home_template(Path(out), environment)
        template: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return monitor_alarm_names(template)


def emf_metrics(stdout: str) -> set[tuple[str, str, tuple[tuple[str, str], ...]]]:
    """Distinct custom metrics (namespace, name, dimension values) in captured EMF: each is billed a month."""
    metrics = set()
    for line in stdout.splitlines():
        if not line.startswith("{"):
            continue
        try:
            blob = json.loads(line)
        except ValueError:
            continue
        directives = blob.get("_aws", {}).get("CloudWatchMetrics", []) if isinstance(blob, dict) else []
        for directive in directives:
            for dimension_set in directive["Dimensions"]:
                dimensions = tuple((name, str(blob.get(name))) for name in dimension_set)
                for metric in directive["Metrics"]:
                    metrics.add((directive["Namespace"], metric["Name"], dimensions))
    return metrics


def monthly_cost(run_seconds: float, output: str, alarms: int) -> list[tuple[str, float]]:
    price = {name: value for name, (value, _source) in PRICES.items()}
    https_checks = len(DEFAULT_CHECKS)  # staging and production health URLs are https
    metrics = len(emf_metrics(output)) + https_checks  # + CertificateDaysRemaining per https check
    billed_ms = math.ceil(run_seconds * 1000)
    gb_seconds = RUNS_PER_MONTH * billed_ms / 1000 * MEMORY_MB / 1024
    log_gb = RUNS_PER_MONTH * (len(output.encode()) + 400) / 1e9  # + START/END/REPORT lines
    return [
        (f"Lambda requests ({RUNS_PER_MONTH:,}/month)", RUNS_PER_MONTH * price["lambda_request"]),
        (f"Lambda duration ({billed_ms} ms x {MEMORY_MB} MB arm64)", gb_seconds * price["lambda_gb_second_arm64"]),
        (f"custom metrics ({metrics})", metrics * price["custom_metric_month"]),
        (f"alarms ({alarms}, standard)", alarms * price["standard_alarm_month"]),
        (f"logs ingestion ({log_gb:.2f} GB EMF + logs)", log_gb * price["logs_ingest_gb"]),
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="synthetic monitor benchmark")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    os.environ.setdefault("ENVIRONMENT", "bench")
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"

    with HealthService() as service:
        service.set_faults(delay_ms=LATENCY_MS)
        four = parallel_ratio(service, 4, args.runs)
        fifty = parallel_ratio(service, 50, args.runs)
        (import_ms, cold_ms), (probe_import_ms, probe_cold_ms) = home_and_probe_cold_starts(service)
        default_seconds, _summary, output = _run_once(service.url, None)
    alarm_names = synthesized_monitor_alarms()
    tolerant_us, strict_us = judge_microseconds()

    print(f"{'measure':<44}{'result':>12}{'goal':>10}  verdict")
    rows = [
        (f"4 checks @ {LATENCY_MS} ms: run / L (median; max)", four[0], f"{four[1]:.2f}", 1.3),
        (f"50 checks @ {LATENCY_MS} ms: run / L (median; max)", fifty[0], f"{fifty[1]:.2f}", 1.5),
    ]
    for label, value, extra, goal in rows:
        verdict = "ok" if value <= goal else "MISSED"
        print(f"{label:<44}{value:>7.2f}; {extra:<4}{'<= ' + str(goal):>10}  {verdict}")
    cold_verdict = "ok" if cold_ms < 150 else "MISSED"
    print(f"{'cold start: import + first run - L (ms)':<44}{cold_ms:>12.0f}{'< 150':>10}  {cold_verdict}")
    print(f"{'  of which import (ms)':<44}{import_ms:>12.0f}")
    probe_ratio = f"ratio {probe_cold_ms / cold_ms:.2f}"
    print(f"{'probe Region: import + first run + put - L':<44}{probe_cold_ms:>12.0f}{'':>10}  {probe_ratio}")
    print(f"{'  of which import (ms)':<44}{probe_import_ms:>12.0f}")
    print(f"{'EMF + log bytes per default run':<44}{len(output.encode()):>12,}")
    judged = f"{tolerant_us:.0f} vs {strict_us:.0f}"
    print(f"{'judge /health: tolerant vs strict (us)':<44}{judged:>12}  ratio {tolerant_us / strict_us:.2f}")

    print("\nMonthly cost, default configuration (4 checks every minute), us-east-1 on-demand prices:")
    items = monthly_cost(default_seconds, output, len(alarm_names))
    for label, dollars in items:
        print(f"  {label:<52}${dollars:>8.2f}")
    ours = sum(dollars for _, dollars in items)
    canaries = len(DEFAULT_CHECKS) * RUNS_PER_MONTH * PRICES["canary_run"][0]
    synthetics_alarms = (len(DEFAULT_CHECKS) + 1) * PRICES["standard_alarm_month"][0]
    print(f"  {'this monitor, total':<52}${ours:>8.2f}")
    print(
        f"  {'CloudWatch Synthetics: 4 canaries x every minute':<52}${canaries:>8.2f}"
        f"  (+ ~${synthetics_alarms:.2f} alarms, + the canaries' own Lambda/S3)"
    )
    print(
        f"\nCounted, not assumed: {len(alarm_names)} alarms named '*-synthetic-*' in the synthesized"
        f" {TEMPLATE_ENVIRONMENT} template (tools.synth_all); {len(emf_metrics(output))} custom metrics in the EMF"
        f" of one default run against the local service, + {len(DEFAULT_CHECKS)} CertificateDaysRemaining"
        " (https in staging and production, http locally)."
    )
    print("\nPrices used (source pages):")
    for name, (value, source) in PRICES.items():
        print(f"  {name:<24}{value:<14.10g}{source}")


if __name__ == "__main__":
    main()
