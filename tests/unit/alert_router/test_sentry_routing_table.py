"""SENTRY_ROUTING's parser: entries left out keep their defaults; every refusal names the entry and the reason."""

from __future__ import annotations

from typing import Any

import pytest

from lambdas.alert_router.routing.sentry_rules import SentryRouting, SentryRoutingError, parse_sentry_routing


def test_the_given_entries_replace_the_defaults_and_the_others_stay() -> None:
    table = parse_sentry_routing({"critical_levels": "fatal|error", "performance_aggregate": ""})
    assert table == SentryRouting(critical_levels="fatal|error", performance_aggregate="")
    assert parse_sentry_routing({}) == SentryRouting()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (["fatal"], "must be an object of entry -> regular expression"),
        (
            {"critical_levels": "fatal", "zz_unknown": "x", "aa_unknown": "y"},
            "unknown entry 'aa_unknown': use critical_levels, critical_rule, performance_issue_category, "
            "performance_aggregate",
        ),
        ({"critical_rule": 1}, "critical_rule: must be a string (a regular expression)"),
        (
            {"critical_levels": "fatal", "critical_rule": "[unclosed"},
            "critical_rule: not a regular expression (unterminated character set at position 0)",
        ),
    ],
)
def test_a_bad_table_is_refused_with_the_entry_and_the_reason(value: Any, message: str) -> None:
    with pytest.raises(SentryRoutingError) as refused:
        parse_sentry_routing(value)
    assert str(refused.value) == message
    assert refused.value.__cause__ is None  # `from None`: the re module's traceback is not the user's problem
