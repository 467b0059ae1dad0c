"""Every custom metric the Lambdas emit is graphed on the dashboard or watched by an alarm.

CloudWatch bills each custom metric (name + dimension set) for every hour it is written
(https://aws.amazon.com/cloudwatch/pricing/, "Metrics"): one nobody graphs or alarms on costs money and tells
nobody anything. Issue 17 found six such series of the synthetic monitor, written every minute ($1.80 a month).

Two views: by name, from every metric name the Lambdas' code can emit (read from the source, so rare paths
count too), and by series, from the EMF the real monitor prints against the reference health service.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from lambdas.synthetic_monitor import metric_names as names
from tests.infra.conftest import PROBE_REGIONS, Probed, Synthesized
from tests.infra.template_metrics import covered, graphed_metrics, monitor_series, searched_metrics, watched

LAMBDAS = Path(__file__).resolve().parents[2] / "lambdas"
EMITTERS = {"add_metric", "single_metric"}  # Powertools' calls, with the name as the `name=` keyword
COUNTERS = {"_count", "count"}  # the functions' own counters: the name is the first argument
# Written only by a probe stack's monitor (synthetics.probe_regions, none in the committed configs): watched on the
# home dashboard of an app with probe regions (test below).
PROBE_ONLY = {names.PROBE_PUT_FAILURES.name}


def emitted_names(function: str) -> set[str]:
    """Metric names in the function's source: Powertools calls, the functions' counters, the Sentry intake's
    `counts` and the monitor's MetricSpec contract."""
    names: set[str] = set()
    for path in (LAMBDAS / function).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "counts" for t in node.targets):
                names |= _tuple_texts(node.value)
            if not isinstance(node, ast.Call):
                continue
            called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if called in EMITTERS:
                names |= {_text(k.value) for k in node.keywords if k.arg == "name"} - {""}
            elif called in COUNTERS | {"MetricSpec"} and node.args:
                names |= {_text(node.args[0])} - {""}
            for keyword in node.keywords:
                if keyword.arg == "counts":
                    names |= _tuple_texts(keyword.value)
    return names


def _tuple_texts(node: ast.AST) -> set[str]:
    """The names in tuples of names, however joined: `("Accepted",) + (("Trimmed",) if ... else ())`."""
    tuples = [n for n in ast.walk(node) if isinstance(n, ast.Tuple)]
    return {_text(element) for t in tuples for element in t.elts} - {""}


def _text(node: ast.AST) -> str:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else ""


def _namespace(synth: Synthesized, function: str) -> str:
    (variables,) = [
        resource["Properties"]["Environment"]["Variables"]
        for resource in synth.resources("AWS::Lambda::Function").values()
        if str(resource["Properties"].get("Handler", "")).startswith(f"lambdas.{function}.")
    ]
    return str(variables["POWERTOOLS_METRICS_NAMESPACE"])


FUNCTIONS = ("alert_router", "sentry_intake", "slack_actions", "synthetic_monitor")


def test_the_scan_finds_the_metrics_each_function_documents() -> None:
    # The scan is the test's eyes: it must see every kind of emission each function uses
    assert {"Received", "Delivered", "DeliveryFailures", "OpenIncidents", "SweepFailures"} <= emitted_names(
        "alert_router"
    )
    assert emitted_names("sentry_intake") == {
        "Accepted", "Ignored", "Rejected", "SignatureMismatch", "StaleBody", "Trimmed", "Unparsed",
    }  # fmt: skip
    assert {"CheckSuccess", "ServiceUptime", "DependencyResponseTime"} <= emitted_names("synthetic_monitor")
    assert emitted_names("slack_actions") == {"Accepted", "Ignored", "Rejected", "SignatureMismatch"}
    assert {"Acknowledged", "Escalations", "HistoryWriteFailures", "AnswerFallbacks"} <= emitted_names("alert_router")


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_metric_name_a_function_emits_is_graphed_or_alarmed(
    synthesized: dict[str, Synthesized], function: str
) -> None:
    for synth in synthesized.values():
        # Given the namespace the function writes to, as deployed
        namespace = _namespace(synth, function)
        seen = {(ns, name) for ns, name, _dimensions in watched(synth)}
        # Then each name it can emit is on the dashboard or in an alarm
        unwatched = {(namespace, name) for name in emitted_names(function) - PROBE_ONLY} - seen
        assert unwatched == set(), synth.config.environment


def test_every_series_the_monitor_writes_is_graphed_or_alarmed(
    staging: Synthesized, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the series the real monitor writes with the synthesized environment (https reference service)
    emitted = monitor_series(staging, monkeypatch)
    # When the series are compared with what the dashboard and the alarms read
    seen, searches = watched(staging), searched_metrics(staging)
    unwatched = {series for series in emitted if not covered(series, seen, searches)}
    # Then none is written for nobody (each series is billed every hour the monitor writes it: all month)
    assert unwatched == set()
    # And the six of issue 17 are graphed: certificate days of every https check, dependency response times
    # and the service's uptime
    graphed = {(name, dict(dimensions).get("check") or dict(dimensions).get("dependency")) for _, name, dimensions
               in graphed_metrics(staging)}  # fmt: skip
    for check in ("ready", "health", "metrics"):
        assert ("CertificateDaysRemaining", check) in graphed
    assert {("DependencyResponseTime", "database"), ("DependencyResponseTime", "redis"), ("ServiceUptime", None)} <= (
        graphed
    )


def test_what_probe_stacks_write_is_graphed_or_alarmed_in_the_home_region(
    probed: Probed, staging: Synthesized, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an app with probe regions: each probe writes success and latency per check into the home Region, and
    # counts its failed puts in its own Region
    home = probed.home
    namespace = _namespace(home, "synthetic_monitor")
    series = {
        (namespace, spec.name, frozenset({("environment", "staging"), ("check", check.name), ("region", region)}))
        for spec in names.PROBE_METRICS
        for check in home.stack.synthetic_alarms.settings.checks
        for region in PROBE_REGIONS
    }
    # Then every one of those series, and the failure count, is on the home dashboard or in a home alarm
    seen = watched(home)
    assert series - seen == set()
    assert {(namespace, name) for name in PROBE_ONLY} <= {(ns, name) for ns, name, _dimensions in seen}
    # And the home monitor itself never writes what only probes write
    assert {name for _ns, name, _dimensions in monitor_series(staging, monkeypatch)} & PROBE_ONLY == set()
