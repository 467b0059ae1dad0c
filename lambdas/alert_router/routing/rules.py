"""The default rule table for CloudWatch alarms (namespace + metric -> severity, category) and the explicit
severity words a description or name may carry. Data, not code paths: alarms created outside this stack
still route sensibly.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from lambdas.alert_router.models import Alert, MetricQuery
from lambdas.shared.alarm_metadata import Category, Severity

SYNTHETICS_NAMESPACE = "PeopleBooster/Synthetics"
# The synthetic monitor's liveness, readiness and front-end checks: failing means users are affected now.
CRITICAL_SYNTHETIC_CHECKS = frozenset({"live", "ready", "frontend", "health-live", "health-ready"})


@dataclass(frozen=True)
class Rule:
    """Default severity/category for a namespace + metric (regex, full match), optionally one dimension."""

    name: str
    namespace: str  # regex; ".*" for any namespace
    metric: str  # regex
    severity: Severity
    category: Category
    when: Callable[[MetricQuery], bool] | None = None

    def matches(self, metric: MetricQuery) -> bool:
        return (
            re.fullmatch(self.namespace, metric.namespace or "") is not None
            and re.fullmatch(self.metric, metric.metric_name or "") is not None
            and (self.when is None or self.when(metric))
        )


def _critical_check(metric: MetricQuery) -> bool:
    return any(
        name.lower() == "check" and value.lower() in CRITICAL_SYNTHETIC_CHECKS for name, value in metric.dimensions
    )


def default_rules(synthetics_namespace: str = SYNTHETICS_NAMESPACE) -> tuple[Rule, ...]:
    """The report's alarm table and the synthetic monitor's alarms; first match wins."""
    synthetics = re.escape(synthetics_namespace)
    crit, warn = Severity.CRITICAL, Severity.WARNING
    errors, perf = Category.ERRORS, Category.PERFORMANCE
    return (
        Rule("alb-target-5xx", r"AWS/ApplicationELB", r"HTTPCode_Target_5XX_Count", crit, errors),
        Rule("synthetic-live-ready", synthetics, r"CheckSuccess", crit, errors, when=_critical_check),
        Rule(
            "synthetic-check",
            synthetics,
            r"CheckSuccess|DependencyHealthy|CertificateDaysRemaining",
            warn,
            errors,
        ),
        Rule("synthetic-latency", synthetics, r"CheckLatency", warn, perf),
        Rule(
            "dlq-depth",
            r"AWS/SQS",
            r"ApproximateNumberOfMessagesVisible|ApproximateAgeOfOldestMessage",
            warn,
            errors,
        ),
        Rule(
            "lambda-errors",
            r"AWS/Lambda",
            r"Errors|Throttles|DeadLetterErrors|DestinationDeliveryFailures",
            warn,
            errors,
        ),
        Rule("health-checks", r".*", r"(?i).*(unhealthy|healthcheck|healthy).*", warn, errors),
        Rule("error-counts", r".*", r"(?i).*(error|fault|fail|5xx|4xx).*", warn, errors),
        Rule(
            "resource-usage",
            r".*",
            r"(?i).*(cpu|memory|latency|responsetime|duration|connection|iops|swap|evictions).*",
            warn,
            perf,
        ),
    )


_EXPLICIT_SEVERITY = (
    (re.compile(r"(?i)\bseverity\s*[:=]\s*(critical|fatal|sev0|sev1|p1)\b"), Severity.CRITICAL),
    (re.compile(r"(?i)\[(critical|fatal)\]"), Severity.CRITICAL),
    (re.compile(r"\b(CRITICAL|FATAL)\b"), Severity.CRITICAL),  # upper case only: "critical path" is prose
    (re.compile(r"(?i)\bseverity\s*[:=]\s*(warning|warn|error|high|medium)\b"), Severity.WARNING),
    (re.compile(r"(?i)\[(warning|warn)\]"), Severity.WARNING),
    (re.compile(r"(?i)\bseverity\s*[:=]\s*(info|low|notice)\b"), Severity.INFO),
    (re.compile(r"(?i)\[info\]"), Severity.INFO),
)


def explicit_severity(*texts: str | None) -> Severity | None:
    for text in texts:
        if not text:
            continue
        for pattern, severity in _EXPLICIT_SEVERITY:
            if pattern.search(text):
                return severity
    return None


def match_rule(alert: Alert, rules: tuple[Rule, ...]) -> Rule | None:
    candidates = [alert.primary_metric] if alert.metric_name else [q for q in alert.metrics if q.metric_name]
    for rule in rules:
        if any(metric is not None and rule.matches(metric) for metric in candidates):
            return rule
    return None
