"""How Sentry's facts map to severity and category: a data table (`SentryRouting`) of regexes, with the one
parser both config (infra/config.py) and the router's settings use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from typing import Any

from lambdas.alert_router.models import SentryFacts
from lambdas.shared.alarm_metadata import Category, Severity


@dataclass(frozen=True)
class SentryRouting:
    """How Sentry's facts map to severity and category; every entry is a case-insensitive regex."""

    critical_levels: str = r"fatal"
    # a rule "marked critical": its name says so ("[CRITICAL] checkout down", "Severity: Critical", "P1 ...")
    critical_rule: str = r".*(\[critical\]|\[fatal\]|severity\s*[:=]\s*(critical|fatal)|\bp1\b|\bsev[01]\b).*"
    performance_issue_category: str = r"performance|perf.*"
    performance_aggregate: str = (
        r".*(transaction\.duration|span\.duration|measurements\.|apdex|p\d+\(|percentile|avg\(.*duration"
        r"|epm\(|tpm\(|spm\(|eps\(|throughput|latency).*"
    )


class SentryRoutingError(ValueError):
    """SENTRY_ROUTING (or config router.sentry_routing) is invalid; the message names the entry."""


def parse_sentry_routing(value: Any) -> SentryRouting:
    """{entry: regex} -> SentryRouting; entries left out keep their defaults. An empty regex matches nothing."""
    if not isinstance(value, dict):
        raise SentryRoutingError("must be an object of entry -> regular expression")
    known = [entry.name for entry in fields(SentryRouting)]
    unknown = sorted(set(value) - set(known))
    if unknown:
        raise SentryRoutingError(f"unknown entry {unknown[0]!r}: use {', '.join(known)}")
    for entry, pattern in value.items():
        if not isinstance(pattern, str):
            raise SentryRoutingError(f"{entry}: must be a string (a regular expression)")
        try:
            re.compile(pattern, re.IGNORECASE | re.DOTALL)
        except re.error as error:
            raise SentryRoutingError(f"{entry}: not a regular expression ({error})") from None
    return replace(SentryRouting(), **value)


def _matches(pattern: str, text: str | None) -> bool:
    return bool(text) and re.fullmatch(pattern, text or "", re.IGNORECASE | re.DOTALL) is not None


def sentry_severity(facts: SentryFacts, table: SentryRouting) -> tuple[str, Severity]:
    if _matches(table.critical_levels, facts.level):
        return f"sentry level {facts.level}", Severity.CRITICAL
    if _matches(table.critical_rule, facts.rule_name):
        return "sentry rule marked critical", Severity.CRITICAL
    return "sentry default", Severity.WARNING


def sentry_category(facts: SentryFacts, table: SentryRouting) -> Category:
    if _matches(table.performance_issue_category, facts.issue_category):
        return Category.PERFORMANCE
    if facts.resource == "metric_alert" and _matches(table.performance_aggregate, facts.aggregate):
        return Category.PERFORMANCE
    return Category.ERRORS
