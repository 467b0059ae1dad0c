"""EMF output: metric names, units and exact dimension sets (the alarms' contract)."""

from __future__ import annotations

import pytest

from lambdas.synthetic_monitor import metric_names as names
from lambdas.synthetic_monitor.checks import CheckResult, DependencyHealth, ServiceMetrics
from lambdas.synthetic_monitor.metrics import emit_metrics
from tests.emf import emf_signatures, emf_values

NAMESPACE = "PeopleBooster/Synthetics"


def _result(name: str, **fields: object) -> CheckResult:
    values: dict[str, object] = {
        "url": f"https://api.example/{name}",
        "ok": True,
        "up": True,
        "status_code": 200,
        "latency_ms": 42.0,
        "complete": True,
        "reason": None,
    }
    values.update(fields)
    return CheckResult(name=name, **values)  # type: ignore[arg-type]


RESULTS = [
    _result("live", certificate_days=30.5),
    _result("ready", ok=False, up=False, status_code=None, latency_ms=3000.0, complete=False, reason="timeout"),
    _result(
        "health",
        dependencies=(DependencyHealth("database", False, 5.0), DependencyHealth("openai", True, None)),
    ),
    _result("metrics", service=ServiceMetrics(cpu_percent=12.5, memory_percent=40.0, uptime_seconds=86400.0)),
]


@pytest.fixture(autouse=True)
def _service_name_set(monkeypatch: pytest.MonkeyPatch) -> None:
    # The construct may set POWERTOOLS_SERVICE_NAME for the Logger; it must not reach the metrics.
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "synthetic-monitor")


def test_metric_signatures_are_exactly_the_contract(capsys: pytest.CaptureFixture[str]) -> None:
    # Given one run's results
    # When they are published
    emit_metrics(RESULTS, environment="staging", namespace=NAMESPACE)
    # Then every metric has the namespace and the dimension set of metric_names, and no `service`
    signatures = emf_signatures(capsys.readouterr().out)
    assert signatures == {(NAMESPACE, spec.name, spec.dimensions) for spec in names.ALL_METRICS}


def test_metric_values_units_and_dimensions(capsys: pytest.CaptureFixture[str]) -> None:
    emit_metrics(RESULTS, environment="staging", namespace=NAMESPACE)
    points = emf_values(capsys.readouterr().out)
    check = {"environment": "staging", "check": "live"}
    assert ("CheckSuccess", check, 1, "Count") in points
    assert ("CheckLatency", check, 42.0, "Milliseconds") in points
    assert ("CertificateDaysRemaining", check, 30.5, "None") in points
    # a timed-out check: success 0 and no latency (the timeout is not a response time)
    ready = {"environment": "staging", "check": "ready"}
    assert ("CheckSuccess", ready, 0, "Count") in points
    assert not [p for p in points if p[0] == "CheckLatency" and p[1] == ready]
    database = {"environment": "staging", "dependency": "database"}
    assert ("DependencyHealthy", database, 0, "Count") in points
    assert ("DependencyResponseTime", database, 5.0, "Milliseconds") in points
    openai = {"environment": "staging", "dependency": "openai"}
    assert ("DependencyHealthy", openai, 1, "Count") in points
    assert not [p for p in points if p[0] == "DependencyResponseTime" and p[1] == openai]
    service = {"environment": "staging"}
    assert ("ServiceCpu", service, 12.5, "Percent") in points
    assert ("ServiceMemory", service, 40.0, "Percent") in points
    assert ("ServiceUptime", service, 86400.0, "Seconds") in points


def test_every_check_gets_a_success_point_every_run(capsys: pytest.CaptureFixture[str]) -> None:
    # The dead-man's switch alarms on missing CheckSuccess: each check must write it on each run.
    emit_metrics(RESULTS, environment="staging", namespace=NAMESPACE)
    points = emf_values(capsys.readouterr().out)
    assert sorted(p[1]["check"] for p in points if p[0] == "CheckSuccess") == ["health", "live", "metrics", "ready"]


def test_slow_but_correct_counts_as_success(capsys: pytest.CaptureFixture[str]) -> None:
    emit_metrics([_result("live", ok=False, reason="latency 1500 ms over 1000 ms")], environment="e", namespace="N")
    assert ("CheckSuccess", {"environment": "e", "check": "live"}, 1, "Count") in emf_values(capsys.readouterr().out)
