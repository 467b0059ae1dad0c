"""The synthesized app with probe regions: one probe stack per Region, the home Region's combined alarms, their
metric math evaluated offline on made-up series, and the availability row.

The combined alarms' expressions are read from the template and run through tools/metric_math.py, whose
semantics are checked against CloudWatch's documented examples (tests/unit/tools/test_metric_math.py); the
alarm's state follows CloudWatch's M of N with its missing-data treatment
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarm-evaluation).
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any, cast

import boto3
import pytest
from aws_lambda_powertools.utilities.typing import LambdaContext
from moto.server import ThreadedMotoServer

from infra.app_builder import build_app
from infra.config import ConfigError, load_config
from infra.probe_stack import probe_stack_name
from infra.stack import stack_name
from lambdas.shared.alarm_metadata import parse_alarm_metadata
from lambdas.shared.local_context import LocalLambdaContext
from lambdas.synthetic_monitor import metric_names as names
from lambdas.synthetic_monitor.handler import lambda_handler
from lambdas.synthetic_monitor.home_region import home_region_client
from lambdas.synthetic_monitor.settings import load_settings, settings_from_env
from tests.aws_tables import FAKE_CREDENTIALS
from tests.infra.aws_rules import calls as aws
from tests.infra.aws_rules.policy import Decision, explain_failures
from tests.infra.aws_rules.policy import evaluate as iam_evaluate
from tests.infra.aws_rules.template import DeployedTemplate
from tests.infra.aws_rules.test_stack_calls import refused
from tests.infra.conftest import (
    PROBE_REGIONS,
    Probed,
    ProbeSynthesized,
    Synthesized,
    SynthesizedTemplate,
    probed_config_dir,
    resolve_join,
)
from tools import synth_all
from tools.health_service import HealthService
from tools.local_cloudwatch import COMPARISONS
from tools.metric_math import Series, evaluate

HOME = "ap-northeast-1"
REGIONS = (HOME, *PROBE_REGIONS)
CRITICAL = ("live", "ready", "frontend")
PREFIX = "peoplebooster-staging-"
PERIOD = 60.0


def _function(synth: SynthesizedTemplate) -> dict[str, Any]:
    (function,) = [
        dict(resource["Properties"])
        for resource in synth.resources("AWS::Lambda::Function").values()
        if resource["Properties"]["Handler"] == "lambdas.synthetic_monitor.handler.lambda_handler"
    ]
    return function


def _plain_environment(synth: SynthesizedTemplate) -> dict[str, str]:
    variables = _function(synth)["Environment"]["Variables"]
    return {key: value for key, value in variables.items() if isinstance(value, str)}


# --- the stacks ---------------------------------------------------------------------------------------


def test_one_probe_stack_per_region_pinned_to_it(probed: Probed) -> None:
    # Given staging with synthetics.probe_regions: [us-west-2, eu-west-1]
    assert set(probed.probes) == set(PROBE_REGIONS)
    assert probed.home.stack.stack_name == stack_name(probed.home.config)
    assert probed.home.stack.region == HOME
    for region, probe in probed.probes.items():
        # Then each probe stack is named after its Region and deploys there (not environment-agnostic)
        assert probe.stack.stack_name == probe_stack_name(probe.config, region) == f"{PREFIX}monitoring-probe-{region}"
        assert probe.stack.region == region
        # And it holds the monitor and its schedule, nothing that pages: alarms and topics live at home
        assert probe.resources("AWS::CloudWatch::Alarm") == {}
        assert probe.resources("AWS::SNS::Topic") == {}
        (rule,) = probe.resources("AWS::Events::Rule").values()
        assert rule["Properties"]["ScheduleExpression"] == "rate(1 minute)"


def test_a_probe_runs_the_home_monitors_checks_and_reports_home(probed: Probed) -> None:
    home = _plain_environment(probed.home)
    home_settings = settings_from_env(home)
    for region, probe in probed.probes.items():
        environment = _plain_environment(probe)
        # Then the probe's function has the home monitor's settings, plus where it is and where it reports
        assert {key: value for key, value in environment.items() if key not in ("METRICS_REGION", "PROBE_REGION")} == (
            home
        )
        assert (environment["METRICS_REGION"], environment["PROBE_REGION"]) == (HOME, region)
        # And the monitor's own parser reads the same checks, as a probe of that Region
        settings = settings_from_env(environment)
        assert settings.checks == home_settings.checks
        assert settings.namespace == home_settings.namespace
        assert settings.probe is not None
        assert (settings.probe.region, settings.probe.home) == (region, HOME)
        assert home_settings.probe is None
        # And the same function: handler, runtime, memory, timeout, one run at a time
        for key in ("Handler", "Runtime", "Architectures", "MemorySize", "Timeout", "FunctionName"):
            assert _function(probe)[key] == _function(probed.home)[key], key


def test_without_probe_regions_the_app_has_the_home_stack_only(probed: Probed) -> None:
    # The committed configs set none (docs/operations/cost.md, decisions.md): one stack per environment
    for environment in ("staging", "production"):
        assert load_config(environment).synthetics.probe_regions == []
    assert len(probed.templates) == 1 + len(PROBE_REGIONS)


def test_more_probe_regions_than_an_alarm_can_read_are_refused(tmp_path: Path) -> None:
    # Given four probe Regions: each Region's warning would read 3 critical checks x 5 Regions = 15 metrics
    config_dir = probed_config_dir(tmp_path, ("us-west-2", "eu-west-1", "us-east-1", "eu-central-1"))
    # Then synthesis stops with one line naming the file and the limit (CloudWatch: 10 metrics per alarm)
    with pytest.raises(ConfigError, match=r"config/staging.yaml: synthetics.probe_regions: .*at most 2 probe Regions"):
        build_app("staging", outdir=str(tmp_path / "out"), bundle_assets=False, config_dir=config_dir)


# --- the combined alarms ------------------------------------------------------------------------------


def _alarms(probed: Probed) -> dict[str, dict[str, Any]]:
    return {name.removeprefix(PREFIX): alarm for name, alarm in probed.home.alarms_by_name().items()}


def test_the_home_region_holds_the_combined_alarms(probed: Probed) -> None:
    alarms = _alarms(probed)
    # Then each critical check's failing alarm is critical and combines every Region; one warning per Region says
    # "unreachable from <region>"; each probe Region has its dead-man's switch; the others stay the home monitor's
    for check in CRITICAL:
        failing = alarms[f"synthetic-{check}-failing"]
        assert parse_alarm_metadata(failing["AlarmDescription"]).severity == "critical"
        assert _read_series(failing) == {(check, region) for region in REGIONS}
        assert (failing["Threshold"], failing["ComparisonOperator"]) == (2, "GreaterThanOrEqualToThreshold")
    for region in REGIONS:
        warning = alarms[f"synthetic-unreachable-from-{region}"]
        metadata = parse_alarm_metadata(warning["AlarmDescription"])
        assert metadata.severity == "warning"
        assert metadata.summary is not None
        assert metadata.summary.startswith(f"Unreachable from {region}:")
        assert metadata.runbook_url is not None
        assert metadata.runbook_url.endswith("synthetic-unreachable-from-region.md")
        assert _read_series(warning) == {(check, where) for check in CRITICAL for where in REGIONS}
        # CloudWatch allows 10 metrics per alarm (API_MetricDataQuery)
        assert len([query for query in warning["Metrics"] if "MetricStat" in query]) <= 10
    for region in PROBE_REGIONS:
        silent = alarms[f"synthetic-probe-{region}-silent"]
        assert parse_alarm_metadata(silent["AlarmDescription"]).severity == "warning"
        assert (silent["MetricName"], silent["Statistic"], silent["TreatMissingData"]) == (
            "CheckSuccess",
            "SampleCount",
            "breaching",
        )
        assert {(d["Name"], d["Value"]) for d in silent["Dimensions"]} == {
            ("environment", "staging"),
            ("check", "live"),
            ("region", region),
        }
    assert "MetricName" in alarms["synthetic-health-failing"]  # a degraded dependency is the same from anywhere


def _read_series(alarm: dict[str, Any]) -> set[tuple[str, str]]:
    """(check, region) of every CheckSuccess the alarm reads: the home series (no `region`) counts as home."""
    found = set()
    for query in alarm["Metrics"]:
        if "MetricStat" not in query:
            continue
        metric = query["MetricStat"]["Metric"]
        assert (metric["Namespace"], metric["MetricName"], query["MetricStat"]["Stat"]) == (
            names.DEFAULT_NAMESPACE,
            "CheckSuccess",
            "Minimum",
        )
        dimensions = {d["Name"]: d["Value"] for d in metric["Dimensions"]}
        # The home series keeps the dimensions of every alarm before probe regions; a probe's adds `region`
        expected = set(names.CHECK_DIMENSIONS if "region" not in dimensions else names.PROBE_CHECK_DIMENSIONS)
        assert set(dimensions) == expected
        found.add((dimensions["check"], dimensions.get("region", HOME)))
    return found


Scenario = dict[tuple[str, str], list[float | None]]  # (check, region) -> CheckSuccess per period (None: missing)


def _scenario(*failing: tuple[str, str], silent: tuple[str, ...] = ()) -> Scenario:
    """Three runs: every critical check up from every Region, except `failing` (0) and `silent` Regions (no data)."""
    return {
        (check, region): [None] * 3 if region in silent else [0.0 if (check, region) in failing else 1.0] * 3
        for check in CRITICAL
        for region in REGIONS
    }


def _datapoints(alarm: dict[str, Any], scenario: Scenario) -> list[float | None]:
    """The alarm's value in each period: every expression evaluated in dependency order, as CloudWatch does."""
    metrics: dict[str, Series] = {}
    periods: dict[str, int] = {}
    expressions = {}
    for query in alarm["Metrics"]:
        if "MetricStat" in query:
            metric = query["MetricStat"]["Metric"]
            dimensions = {d["Name"]: d["Value"] for d in metric["Dimensions"]}
            values = scenario[dimensions["check"], dimensions.get("region", HOME)]
            metrics[query["Id"]] = {PERIOD * i: value for i, value in enumerate(values) if value is not None}
            periods[query["Id"]] = query["MetricStat"]["Period"]
        else:
            expressions[query["Id"]] = query
    while expressions:
        ready = [
            query_id
            for query_id, query in expressions.items()
            if set(re.findall(r"[a-z][a-z0-9_]*", query["Expression"])) & set(expressions) == set()
        ]
        assert ready, "a cycle among the alarm's expressions"
        for query_id in ready:
            result = evaluate(expressions.pop(query_id)["Expression"], metrics, periods)
            assert isinstance(result, dict)
            metrics[query_id] = result
    (returned,) = [query["Id"] for query in alarm["Metrics"] if query.get("ReturnData", True)]
    return [metrics[returned].get(PERIOD * i) for i in range(3)]


def _state(alarm: dict[str, Any], values: list[float | None]) -> str:
    """ALARM when at least DatapointsToAlarm of the EvaluationPeriods breach (missing ones as the alarm treats them)."""
    compare = COMPARISONS[alarm["ComparisonOperator"]]
    missing_breaches = alarm["TreatMissingData"] == "breaching"
    breaching = sum(compare(v, alarm["Threshold"]) if v is not None else missing_breaches for v in values)
    assert len(values) == alarm["EvaluationPeriods"]
    return "ALARM" if breaching >= alarm["DatapointsToAlarm"] else "OK"


@pytest.mark.parametrize(
    ("scenario", "in_alarm"),
    [
        pytest.param(_scenario(), set(), id="up-everywhere"),
        # One Region down: a warning that names it, no page
        pytest.param(_scenario(("live", "us-west-2")), {"synthetic-unreachable-from-us-west-2"}, id="one-region"),
        pytest.param(
            _scenario(("live", "us-west-2"), ("ready", "us-west-2"), ("frontend", "us-west-2")),
            {"synthetic-unreachable-from-us-west-2"},
            id="one-region-every-check",
        ),
        # Our own path: the home Region alone fails the front end
        pytest.param(_scenario(("frontend", HOME)), {f"synthetic-unreachable-from-{HOME}"}, id="home-region-alone"),
        # 2 of 3 Regions down: critical, and the per-Region warnings stay quiet (one message, not three)
        pytest.param(
            _scenario(("live", "us-west-2"), ("live", "eu-west-1")), {"synthetic-live-failing"}, id="two-of-three"
        ),
        pytest.param(
            _scenario(*[(check, region) for check in CRITICAL for region in REGIONS]),
            {"synthetic-live-failing", "synthetic-ready-failing", "synthetic-frontend-failing"},
            id="down-everywhere",
        ),
        # Two Regions fail two different checks: no check is down from 2 Regions, so two warnings
        pytest.param(
            _scenario(("live", "us-west-2"), ("frontend", HOME)),
            {"synthetic-unreachable-from-us-west-2", f"synthetic-unreachable-from-{HOME}"},
            id="different-checks",
        ),
        # A probe that writes nothing is no outage: eu-west-1 silent, us-west-2 down is still one Region
        pytest.param(
            _scenario(("live", "us-west-2"), silent=("eu-west-1",)),
            {"synthetic-unreachable-from-us-west-2"},
            id="silent-probe-and-one-region",
        ),
        pytest.param(
            _scenario(("live", "us-west-2"), ("live", HOME), silent=("eu-west-1",)),
            {"synthetic-live-failing"},
            id="silent-probe-and-two-regions",
        ),
        # Nobody writes anything: the failing alarms page (nobody is watching), the warnings do not
        pytest.param(
            _scenario(silent=REGIONS),
            {"synthetic-live-failing", "synthetic-ready-failing", "synthetic-frontend-failing"},
            id="nobody-writes",
        ),
    ],
)
def test_combined_alarms_on_made_up_series(probed: Probed, scenario: Scenario, in_alarm: set[str]) -> None:
    # Given the home Region's combined alarms and three runs of CheckSuccess per check and Region
    alarms = _alarms(probed)
    combined = [f"synthetic-{check}-failing" for check in CRITICAL] + [
        f"synthetic-unreachable-from-{region}" for region in REGIONS
    ]
    # When CloudWatch's metric math and M of N judge them, then exactly these are in ALARM
    assert {
        name for name in combined if _state(alarms[name], _datapoints(alarms[name], scenario)) == "ALARM"
    } == in_alarm


def test_a_silent_probe_region_is_heard_by_its_own_switch(probed: Probed) -> None:
    alarms = _alarms(probed)
    for region in PROBE_REGIONS:
        switch = alarms[f"synthetic-probe-{region}-silent"]
        # Given the probe writing nothing for N periods (not run, or its puts failing): its switch is in ALARM
        assert _state(switch, [None, None, None]) == "ALARM"
        # And with one sample per run (SampleCount 1, whatever the checks found) it is OK; one run lost is forgiven
        assert _state(switch, [1.0, 1.0, 1.0]) == "OK"
        assert _state(switch, [1.0, None, 1.0]) == "OK"


# --- the dashboard ------------------------------------------------------------------------------------


def _availability_row(synth: SynthesizedTemplate) -> list[dict[str, Any]]:
    (dashboard,) = synth.resources("AWS::CloudWatch::Dashboard").values()
    widgets = json.loads(resolve_join(dashboard["Properties"]["DashboardBody"]))["widgets"]
    headers = [i for i, w in enumerate(widgets) if w["type"] == "text"]
    start, end = headers[1], headers[2]
    assert widgets[start]["properties"]["markdown"] == "## Availability: synthetic checks"
    return [w["properties"] for w in widgets[start + 1 : end]]


def test_the_availability_row_shows_each_regions_success(probed: Probed) -> None:
    row = {widget["title"]: widget for widget in _availability_row(probed.home)}
    # Then the home Region's checks come first, then one graph per probe Region, every check on it
    assert list(row)[:2] == [f"Synthetic checks up from {HOME} (1 = up)", f"Synthetic check latency from {HOME} (ms)"]
    for region in PROBE_REGIONS:
        lines = row[f"Synthetic checks up from {region} (1 = up)"]["metrics"]
        seen = {(line[1], dict(zip(line[2:-1:2], line[3:-1:2], strict=True))["region"]) for line in lines}
        assert seen == {("CheckSuccess", region)}
        assert [line[-1]["label"] for line in lines] == ["live", "ready", "health", "metrics", "frontend"]
    # And each probe's runs, errors and failed puts are read from its own Region (a dashboard may; an alarm may not)
    health = row["Probe Regions: runs, errors, failed puts (each in its own Region)"]["metrics"]
    assert {(line[1], line[-1]["region"]) for line in health} == {
        (name, region) for name in ("Invocations", "Errors", "ProbePutFailures") for region in PROBE_REGIONS
    }


# --- the grants, as AWS evaluates them -----------------------------------------------------------------


def _deployed(synth: Synthesized | ProbeSynthesized) -> DeployedTemplate:
    region = synth.stack.region
    assert isinstance(region, str)
    return DeployedTemplate(synth.raw, stack_name=synth.stack.stack_name, region=region)


def test_aws_allows_every_call_of_every_stack(probed: Probed) -> None:
    stacks: list[Synthesized | ProbeSynthesized] = [probed.home, *probed.probes.values()]
    for synth in stacks:
        t = _deployed(synth)
        # Given every call AWS documents for this stack (the probe's put into the home Region among them)
        found = [*aws.every_call(t)]
        # Then AWS allows each one
        failures = refused(found)
        assert not failures, f"{t.stack_name}: {len(failures)} of {len(found)} refused:\n" + explain_failures(failures)
    for region, probe in probed.probes.items():
        t = _deployed(probe)
        # And each probe has its schedule, its own logs and exactly one put, into the home Region
        assert list(aws.schedule_calls(t))
        assert list(aws.function_role_calls(t))
        (put,) = aws.metric_put_calls(t)
        assert put.request.context["aws:RequestedRegion"] == HOME != region
        assert put.request.context["cloudwatch:namespace"] == names.DEFAULT_NAMESPACE


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"cloudwatch:namespace": "AWS/Lambda"}, "another namespace"),
        ({"cloudwatch:namespace": "PeopleBooster/AlertRouter"}, "the router's namespace"),
        ({"aws:RequestedRegion": "us-west-2"}, "the probe's own Region"),
        ({"aws:RequestedRegion": "us-east-1"}, "any other Region"),
    ],
)
def test_the_probe_may_put_only_its_namespace_into_the_home_region(
    probed: Probed, change: dict[str, str], why: str
) -> None:
    # Given the probe's role making the put with one thing changed
    (put,) = aws.metric_put_calls(_deployed(probed.probes["us-west-2"]))
    request = dataclasses.replace(put.request, context={**put.request.context, **change})
    # Then no statement allows it
    assert iam_evaluate(request, put.policies).decision is Decision.IMPLICIT_DENY, why


def test_the_home_monitor_puts_nothing(probed: Probed) -> None:
    # EMF needs no cloudwatch:PutMetricData: the home Region's roles are not given it
    assert list(aws.metric_put_calls(_deployed(probed.home))) == []
    assert "cloudwatch:PutMetricData" not in json.dumps(probed.home.resources("AWS::IAM::Policy"))


# --- cdk-nag on every stack (cfn-lint on every template: tests/infra/test_gates.py) -----------------------


def test_cdk_nag_checked_every_stack_and_acknowledged_only_the_puts_and_tracing_wildcards(probed: Probed) -> None:
    report = json.loads((probed.home.template_path.parent / "validation-report.json").read_text())
    (plugin,) = report["pluginReports"]
    assert plugin["violations"] == []
    acknowledged = [v for v in plugin["suppressedViolations"] if v["ruleName"] == "AwsSolutions-IAM5[Resource::*]"]
    places = sorted(violation["acknowledgedAt"].split("/", 1)[0] + "/" + violation["acknowledgedAt"].rsplit("/", 1)[-1]
                    for violation in acknowledged)  # fmt: skip
    probes = [probe_stack_name(probed.home.config, region) for region in PROBE_REGIONS]
    # Then each probe stack's two '*' (X-Ray, PutMetricData) and the home stack's four (X-Ray) and the router's
    # reads (Logs Insights results, metric graphs) were judged there
    assert places == sorted(
        [f"{PREFIX}monitoring/TracingPolicy"] * 4
        + [f"{PREFIX}monitoring/Reads"]
        + [f"{stack}/TracingPolicy" for stack in probes]
        + [f"{stack}/PutIntoHomeRegion" for stack in probes]
    )


# --- the classic silent bug, across Regions: every probe series an alarm reads is one the probe writes -----


def test_every_probe_series_the_home_alarms_read_is_written_by_the_real_probe(
    probed: Probed, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a moto server standing in for CloudWatch, and the reference service up for every check
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    for name, value in {**FAKE_CREDENTIALS, "AWS_ENDPOINT_URL": endpoint}.items():
        monkeypatch.setenv(name, value)
    try:
        with HealthService() as service:
            # When each probe stack's function runs once with its synthesized environment
            for probe in probed.probes.values():
                for key, value in _plain_environment(probe).items():
                    monkeypatch.setenv(key, value)
                monkeypatch.setenv("HEALTH_BASE_URL", service.url)
                monkeypatch.setenv("FRONTEND_URL", f"{service.url}/")  # the reference service serves the page too
                load_settings.cache_clear()
                home_region_client.cache_clear()
                context = LocalLambdaContext(timeout_seconds=30)
                summary = lambda_handler({"source": "aws.events"}, cast(LambdaContext, context))
                assert summary["ok"] is True, summary
        # Then each metric with a `region` that a home alarm reads is one the probes wrote into the home Region
        # (compared as CloudWatch keys a metric: name and the set of dimensions; moto's GetMetricData would also
        # compare their order)
        cloudwatch = boto3.session.Session().client("cloudwatch", region_name=HOME, endpoint_url=endpoint)
        written = {_key(metric) for metric in cloudwatch.list_metrics(Namespace=names.DEFAULT_NAMESPACE)["Metrics"]}
        read = {
            _key(query["MetricStat"]["Metric"])
            for alarm in probed.home.alarms_by_name().values()
            for query in alarm.get("Metrics", [{"MetricStat": {"Metric": _single_metric(alarm)}}])
            if "MetricStat" in query
            and any(d["Name"] == "region" for d in query["MetricStat"]["Metric"].get("Dimensions", []))
        }
        assert len(read) == len(PROBE_REGIONS) * len(CRITICAL)
        assert read - written == set(), "home alarms read probe series that no probe writes"
    finally:
        load_settings.cache_clear()
        home_region_client.cache_clear()
        server.stop()


def _key(metric: dict[str, Any]) -> tuple[str, str, frozenset[tuple[str, str]]]:
    return (metric["Namespace"], metric["MetricName"], frozenset((d["Name"], d["Value"]) for d in metric["Dimensions"]))


def _single_metric(alarm: dict[str, Any]) -> dict[str, Any]:
    """A single-metric alarm's metric in MetricStat's shape."""
    return {key: alarm[key] for key in ("Namespace", "MetricName", "Dimensions") if key in alarm}


def test_synth_all_writes_every_stack_of_an_app_with_probe_regions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a staging config with probe regions; when `python -m tools.synth_all` runs on it (make lint's step)
    config_dir = probed_config_dir(tmp_path)
    assert synth_all.main(["--out", str(tmp_path / "out"), "--env", "staging", "--config-dir", str(config_dir)]) == 0
    # Then the home template and one per probe Region are written, for cfn-lint to read
    written = sorted(path.name for path in (tmp_path / "out").glob("*.template.json"))
    assert written == sorted(
        [f"{PREFIX}monitoring.template.json"] + [f"{PREFIX}monitoring-probe-{r}.template.json" for r in PROBE_REGIONS]
    )
    assert capsys.readouterr().out.count("synthesized ") == 3
    # And the tools that read the environment's alarms (demo, silence, leftovers) get the home stack's template
    home = synth_all.synth_home_template(tmp_path / "home", "staging", config_dir=config_dir)
    assert home.name == f"{PREFIX}monitoring.template.json"
    assert "AWS::CloudWatch::Dashboard" in home.read_text(encoding="utf-8")
