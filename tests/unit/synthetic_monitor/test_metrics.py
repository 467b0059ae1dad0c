"""EMF output: metric names, units and exact dimension sets (the alarms' contract)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from lambdas.synthetic_monitor import metric_names as names
from lambdas.synthetic_monitor.checks import DEFAULT_CHECKS, CheckResult, Response, judge
from lambdas.synthetic_monitor.metrics import emit_metrics, probe_metric_data
from lambdas.synthetic_monitor.reading import DependencyHealth, FieldWarning, ServiceMetrics
from tests.emf import emf_blobs, emf_signatures, emf_values
from tests.unit.synthetic_monitor import bodies

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
    _result(
        "metrics",
        service=ServiceMetrics(cpu_percent=12.5, memory_percent=40.0, uptime_seconds=86400.0, memory_bytes=2048.0),
        warnings=(FieldWarning("memory_percent", "memory_percent missing"),),
    ),
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
    assert ("ServiceMemoryBytes", service, 2048.0, "Bytes") in points
    assert ("FieldMissing", {"environment": "staging", "check": "metrics", "field": "memory_percent"}, 1, "Count") in (
        points
    )


def test_every_check_gets_a_success_point_every_run(capsys: pytest.CaptureFixture[str]) -> None:
    # The dead-man's switch alarms on missing CheckSuccess: each check must write it on each run.
    emit_metrics(RESULTS, environment="staging", namespace=NAMESPACE)
    points = emf_values(capsys.readouterr().out)
    assert sorted(p[1]["check"] for p in points if p[0] == "CheckSuccess") == ["health", "live", "metrics", "ready"]


def test_slow_but_correct_counts_as_success(capsys: pytest.CaptureFixture[str]) -> None:
    emit_metrics([_result("live", ok=False, reason="latency 1500 ms over 1000 ms")], environment="e", namespace="N")
    assert ("CheckSuccess", {"environment": "e", "check": "live"}, 1, "Count") in emf_values(capsys.readouterr().out)


def _judged(name: str, body: object) -> CheckResult:
    check = next(check for check in DEFAULT_CHECKS if check.name == name)
    return judge(check, Response(f"https://api.example/{name}", 200, json.dumps(body).encode(), 20.0), now=1.8e9)


def test_what_a_real_body_lacks_is_counted_once_per_field_and_run(capsys: pytest.CaptureFixture[str]) -> None:
    # Given a run against a terminus /health (no version, no uptime, two dependencies without response time)
    # and express-actuator metrics (no CPU, no memory percentage)
    results = [_judged("health", bodies.TERMINUS_OK), _judged("metrics", bodies.ACTUATOR_METRICS)]
    # When published
    emit_metrics(results, environment="staging", namespace=NAMESPACE)
    output = capsys.readouterr().out
    # Then each missing field is one FieldMissing point, with the check and the field as dimensions
    missing = sorted(
        (p[1]["check"], p[1]["field"], p[2]) for p in emf_values(output) if p[0] == names.FIELD_MISSING.name
    )
    assert missing == [
        ("health", "responseTime", 1),
        ("health", "uptime", 1),
        ("health", "version", 1),
        ("metrics", "cpu_percent", 1),
        ("metrics", "memory_percent", 1),
    ]
    # And the checks themselves count as up: a missing field is no failure
    assert {(p[1]["check"], p[2]) for p in emf_values(output) if p[0] == "CheckSuccess"} == {
        ("health", 1),
        ("metrics", 1),
    }
    # And what the actuator does report is published in its own unit: bytes, not a guessed percentage
    service = {p[0]: (p[2], p[3]) for p in emf_values(output) if p[1] == {"environment": "staging"}}
    assert service == {"ServiceMemoryBytes": (104_857_600, "Bytes"), "ServiceUptime": (720.5, "Seconds")}
    # And every blob is one dimension set (CloudWatch's EMF spec: Dimensions is an array of dimension sets)
    for blob in emf_blobs(output):
        assert len(blob["_aws"]["CloudWatchMetrics"][0]["Dimensions"]) == 1


def test_a_probe_writes_success_and_latency_per_check_with_its_region() -> None:
    # Given one run's results in a probe Region
    at = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    data = probe_metric_data(RESULTS, environment="staging", region="us-west-2", at=at)
    # Then each check has its success (1/0) and, when a full response came, its latency; nothing of /health's body
    points = {
        (datum["MetricName"], tuple((d["Name"], d["Value"]) for d in datum["Dimensions"])): (
            datum["Value"],
            datum["Unit"],
        )
        for datum in data
    }
    where = (("environment", "staging"), ("check", "{}"), ("region", "us-west-2"))

    def key(metric: str, check: str) -> tuple[str, tuple[tuple[str, str], ...]]:
        return metric, tuple((name, value.format(check)) for name, value in where)

    assert points == {
        **{key("CheckSuccess", r.name): (1.0 if r.up else 0.0, "Count") for r in RESULTS},
        **{key("CheckLatency", r.name): (r.latency_ms, "Milliseconds") for r in RESULTS if r.complete},
    }
    # And every datum has the contract's dimension set and the run's time stamp
    specs = {spec.name: spec for spec in names.PROBE_METRICS}
    for datum in data:
        assert tuple(d["Name"] for d in datum["Dimensions"]) == specs[datum["MetricName"]].dimensions
        assert datum["Timestamp"] == at
