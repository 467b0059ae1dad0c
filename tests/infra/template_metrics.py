"""The metrics a synthesized template reads (each dashboard graph line, each alarm's metrics), and the series
the real synthetic monitor writes with the template's environment.

A metric is (namespace, metric name, dimensions as a frozenset of (name, value)); values that are tokens in the
template (a function name, a queue name) read `<token>` or `<LogicalId>`.
"""

from __future__ import annotations

import json
import re
import ssl
from typing import Any

import pytest

from tests.infra.conftest import Synthesized, resolve_join
from tests.infra.test_synthetics_construct import _emitted, _monitor_function, _run_monitor
from tools.health_service import HealthService

Metric = tuple[str, str, frozenset[tuple[str, str]]]
# SEARCH('{Namespace,dim,...} MetricName="X" dim="value" ...', 'Sum', 300): a graph line per matching metric
SEARCH = re.compile(r"SEARCH\('\{(?P<namespace>[^,}]+)[^}]*\}(?P<terms>[^']*)'")


def dashboard_body(synth: Synthesized) -> dict[str, Any]:
    (dashboard,) = synth.resources("AWS::CloudWatch::Dashboard").values()
    body: dict[str, Any] = json.loads(resolve_join(dashboard["Properties"]["DashboardBody"]))
    return body


def dashboard_entries(synth: Synthesized) -> list[list[Any]]:
    """Every entry of every graph's `metrics` array: a metric, or an expression (`[{"expression": ...}]`)."""
    return [entry for widget in dashboard_body(synth)["widgets"] for entry in widget["properties"].get("metrics", [])]


def graphed_metrics(synth: Synthesized) -> set[Metric]:
    """The metrics the dashboard's graphs read (those behind expressions too); a SEARCH yields
    (namespace, metric name, the dimension values it filters on)."""
    found: set[Metric] = set()
    for entry in dashboard_entries(synth):
        if isinstance(entry[0], dict):
            for search in SEARCH.finditer(entry[0]["expression"]):
                terms = dict(re.findall(r'(\w+)="([^"]*)"', search["terms"]))
                name = terms.pop("MetricName")
                found.add((search["namespace"], name, frozenset(terms.items())))
            continue
        namespace, name, *rest = entry
        dimensions = [part for part in rest if not isinstance(part, dict)]
        found.add((namespace, name, frozenset(zip(dimensions[::2], dimensions[1::2], strict=True))))
    return found


def alarm_metrics(synth: Synthesized) -> list[set[Metric]]:
    """Per alarm, the metrics it reads: its one metric, or each MetricStat of its metric math."""
    alarms = []
    for alarm in synth.alarms_by_name().values():
        if "Metrics" in alarm:
            stats = [query["MetricStat"]["Metric"] for query in alarm["Metrics"] if "MetricStat" in query]
        else:
            stats = [alarm]
        alarms.append({_metric(stat) for stat in stats})
    return alarms


def _metric(stat: dict[str, Any]) -> Metric:
    dimensions = frozenset((d["Name"], resolve_join(d["Value"])) for d in stat.get("Dimensions", []))
    return (stat["Namespace"], stat["MetricName"], dimensions)


def searched_metrics(synth: Synthesized) -> set[Metric]:
    """The dashboard's SEARCH expressions as (namespace, metric name, the dimension values they filter on):
    each covers every series of that name whose dimensions include those values."""
    found: set[Metric] = set()
    for entry in dashboard_entries(synth):
        if isinstance(entry[0], dict):
            for search in SEARCH.finditer(entry[0]["expression"]):
                terms = dict(re.findall(r'(\w+)="([^"]*)"', search["terms"]))
                found.add((search["namespace"], terms.pop("MetricName"), frozenset(terms.items())))
    return found


def covered(series: Metric, watched_metrics: set[Metric], searches: set[Metric]) -> bool:
    """A series is looked at when a graph or an alarm reads exactly it, or a SEARCH graph matches it."""
    namespace, name, dimensions = series
    return series in watched_metrics or any(
        (namespace, name) == (ns, metric) and terms <= dimensions for ns, metric, terms in searches
    )


def watched(synth: Synthesized) -> set[Metric]:
    """Everything a person or an alarm looks at: graphed or alarmed."""
    return graphed_metrics(synth).union(*alarm_metrics(synth))


def monitor_series(synth: Synthesized, monkeypatch: pytest.MonkeyPatch) -> set[Metric]:
    """Every series one run of the real monitor writes, with the synthesized function's environment, against
    the https reference health service (a certificate, and every dependency the contract reports)."""
    _, function = _monitor_function(synth)
    for key, value in function["Environment"]["Variables"].items():
        if isinstance(value, str):
            monkeypatch.setenv(key, value)
    with HealthService(tls=True, cert_days=90) as service:
        stdout = _run_monitor(service.url, monkeypatch, ssl.create_default_context(cafile=str(service.cert_file)))
    emitted: set[Metric] = _emitted(stdout)
    return emitted
