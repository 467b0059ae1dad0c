"""A probe Region's monitor through its handler: results put into the home Region's CloudWatch (a moto server on
127.0.0.1, reached through AWS_ENDPOINT_URL as boto3 honours it), never EMF; a failed put logged with its type
and counted in the probe's own Region, within the Lambda's time.

moto keeps each Region's metrics apart (the Region of the request's signature), so "into the home Region" is
asked of moto the way it is asked of CloudWatch: GetMetricData in the home Region finds the datapoints, in the
probe's Region it does not. https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import boto3
import pytest
import requests
from aws_lambda_powertools.utilities.typing import LambdaContext
from moto.server import ThreadedMotoServer

from lambdas.shared.local_context import LocalLambdaContext
from lambdas.synthetic_monitor import handler
from lambdas.synthetic_monitor import metric_names as names
from lambdas.synthetic_monitor.home_region import home_region_client
from lambdas.synthetic_monitor.settings import load_settings
from tests.aws_tables import FAKE_CREDENTIALS
from tests.emf import emf_values
from tools.health_service import HealthService

HOME, PROBE = "ap-northeast-1", "us-west-2"
CHECKS = ("live", "ready", "health", "metrics", "frontend")


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="module")
def service() -> Iterator[HealthService]:
    with HealthService() as running:
        yield running


@pytest.fixture
def probe_env(monkeypatch: pytest.MonkeyPatch, service: HealthService) -> Iterator[None]:
    """The monitor as a probe stack runs it: a probe of PROBE reporting into HOME (settings.probe_environment)."""
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_DEFAULT_REGION", PROBE)  # the Lambda's own Region: the put must not go there
    for name, value in {
        "ENVIRONMENT": "staging",
        "HEALTH_BASE_URL": service.url,
        "FRONTEND_URL": f"{service.url}/",
        "POWERTOOLS_METRICS_NAMESPACE": names.DEFAULT_NAMESPACE,
        "POWERTOOLS_SERVICE_NAME": "synthetic-monitor",
        "METRICS_REGION": HOME,
        "PROBE_REGION": PROBE,
    }.items():
        monkeypatch.setenv(name, value)
    service.reset()
    load_settings.cache_clear()
    home_region_client.cache_clear()
    yield
    load_settings.cache_clear()
    home_region_client.cache_clear()


def _point_at(monkeypatch: pytest.MonkeyPatch, endpoint: str) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    home_region_client.cache_clear()


def _run(timeout_seconds: float = 30) -> dict[str, Any]:
    context = LocalLambdaContext(
        function_name="peoplebooster-staging-synthetic-monitor", timeout_seconds=timeout_seconds
    )
    summary: dict[str, Any] = handler.lambda_handler({"source": "aws.events"}, cast(LambdaContext, context))
    return summary


def _cloudwatch(endpoint: str, region: str) -> Any:
    return boto3.session.Session().client("cloudwatch", region_name=region, endpoint_url=endpoint)


def _latest(cloudwatch: Any, metric: str, check: str, statistic: str = "Minimum") -> float | None:
    now = datetime.now(UTC)
    dimensions = [
        {"Name": names.ENVIRONMENT, "Value": "staging"},
        {"Name": names.CHECK, "Value": check},
        {"Name": names.REGION, "Value": PROBE},
    ]
    answer = cloudwatch.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "m",
                "MetricStat": {
                    "Metric": {"Namespace": names.DEFAULT_NAMESPACE, "MetricName": metric, "Dimensions": dimensions},
                    "Period": 60,
                    "Stat": statistic,
                },
            }
        ],
        StartTime=now - timedelta(minutes=5),
        EndTime=now + timedelta(minutes=1),
    )
    (result,) = answer["MetricDataResults"]
    return float(result["Values"][0]) if result["Values"] else None


@pytest.fixture
def endpoint(moto_server: str, monkeypatch: pytest.MonkeyPatch, probe_env: None) -> str:
    requests.post(f"{moto_server}/moto-api/reset", timeout=10).raise_for_status()
    _point_at(monkeypatch, moto_server)
    return moto_server


def test_a_probe_puts_each_checks_success_and_latency_into_the_home_region(
    endpoint: str, service: HealthService, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the front end's API down for users in the probe's Region (its /health/ready answers 503)
    service.set_faults(endpoints={"/health/ready": "503"})
    # When the probe's handler runs once
    summary = _run()
    # Then the home Region has every check's CheckSuccess (0 for ready) and latency, with region=us-west-2
    home = _cloudwatch(endpoint, HOME)
    success = {check: _latest(home, names.PROBE_CHECK_SUCCESS.name, check) for check in CHECKS}
    assert success == {"live": 1.0, "ready": 0.0, "health": 1.0, "metrics": 1.0, "frontend": 1.0}
    for check in CHECKS:
        latency = _latest(home, names.PROBE_CHECK_LATENCY.name, check, "Maximum")
        assert latency is not None
        assert latency > 0
    # And every series it wrote is one of the contract's probe series (names and dimension names)
    listed = home.list_metrics(Namespace=names.DEFAULT_NAMESPACE)["Metrics"]
    signatures = {(m["MetricName"], tuple(sorted(d["Name"] for d in m["Dimensions"]))) for m in listed}
    assert signatures == {(spec.name, tuple(sorted(spec.dimensions))) for spec in names.PROBE_METRICS}
    # And nothing went to the probe's own Region, nor to EMF (which would land there)
    assert _cloudwatch(endpoint, PROBE).list_metrics(Namespace=names.DEFAULT_NAMESPACE)["Metrics"] == []
    assert emf_values(capsys.readouterr().out) == []
    # And the summary is the monitor's usual one
    assert summary["ok"] is False
    assert {result["name"] for result in summary["results"]} == set(CHECKS)


def _failure_log(caplog: pytest.LogCaptureFixture) -> logging.LogRecord:
    (record,) = [r for r in caplog.records if r.getMessage() == "probe results not put into the home Region"]
    return record


def _closed_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_a_failed_put_is_logged_with_its_type_and_counted_in_the_probes_region(
    probe_env: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given the home Region's endpoint refusing connections
    _point_at(monkeypatch, _closed_port())
    # When the probe runs, then the run completes (the failure is no outage and no bug: nothing raises)
    with caplog.at_level(logging.ERROR):
        summary = _run()
    assert summary["ok"] is True
    stdout = capsys.readouterr().out
    # And the failure is logged at ERROR with the exception (and its type), where the put was going, what was lost
    record = _failure_log(caplog)
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None
    fields = record.__dict__
    assert (fields["error_type"], fields["home_region"], fields["datums"]) == ("ConnectionRefusedError", HOME, 10)
    # And counted with EMF in the probe's own Region (the home Region hears it as missing data)
    assert emf_values(stdout) == [
        (names.PROBE_PUT_FAILURES.name, {"environment": "staging", "region": PROBE}, 1, "Count")
    ]


def test_a_put_that_gets_no_answer_ends_by_the_deadline(
    probe_env: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given a home endpoint that accepts the connection and never answers
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        _point_at(monkeypatch, f"http://127.0.0.1:{silent.getsockname()[1]}")
        monkeypatch.setattr(handler, "PUT_BUDGET_MS", 400)
        # When the probe runs
        started = time.monotonic()
        with caplog.at_level(logging.ERROR):
            _run()
        elapsed = time.monotonic() - started
    # Then the put gave up at its deadline (not a socket timeout per read), logged and counted
    stdout = capsys.readouterr().out
    assert _failure_log(caplog).__dict__["error_type"] == "TimeoutError"
    assert [point[0] for point in emf_values(stdout)] == [names.PROBE_PUT_FAILURES.name]
    assert elapsed < 3.0  # the checks take milliseconds here; the put at most 0.4 s


def test_the_put_never_outlasts_the_lambdas_remaining_time(
    probe_env: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a Lambda with 3 s in all (the checks take milliseconds here), and a home endpoint that never answers
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        _point_at(monkeypatch, f"http://127.0.0.1:{silent.getsockname()[1]}")
        timeout = 3.0
        started = time.monotonic()
        with caplog.at_level(logging.ERROR):
            _run(timeout_seconds=timeout)
        elapsed = time.monotonic() - started
    # Then the handler returned within the Lambda's time: the put's deadline was that time less PUT_RESERVE_MS, not
    # its own 5 s budget (the reserve is for the logging and counting after it, which a loaded machine slows down)
    assert elapsed < timeout
    assert _failure_log(caplog).__dict__["error_type"] == "TimeoutError"
