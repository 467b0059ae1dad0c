"""Enrichment's settings, read with the router's (settings.py) from the environment the construct writes:

    SYNTHETIC_RESULTS_TABLE_NAME  the synthetic monitor's results table (none: the process's own store, for
                                  local runs and the demo, where the monitor runs in the same process)
    ERROR_LOG_GROUP               the service's error log group, for the top errors of a 5xx alarm
    TOP_ERRORS                    "on" or "off" (default off): run the Logs Insights query for 5xx alarms
    TOP_ERRORS_MINUTES            how far back the query looks (15)
    ENRICHMENT_BUDGET_MS          the most one invocation waits for causes, all sources together (2000;
                                  0 turns enrichment off); never more than the invocation has left
    GRAPH_REGION                  bot-token mode attaches the metric's graph, drawn by CloudWatch in this region
                                  (unset: no graphs). The stack writes it as the deployment's region only when
                                  config's `graphs` is on; a local run has no CloudWatch to draw with
    GRAPH_BUDGET_MS               the most the graph (image and upload) may take after the message is out (8000)

config/<env>.yaml `router.enrichment` writes them; infra/config.py checks the same bounds (BOUNDS).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

# name -> (lowest, highest), in the variable's unit
BOUNDS = {
    "TOP_ERRORS_MINUTES": (1, 60),
    "ENRICHMENT_BUDGET_MS": (0, 10_000),
    "GRAPH_BUDGET_MS": (1000, 30_000),
}
DEFAULTS = {"TOP_ERRORS_MINUTES": 15, "ENRICHMENT_BUDGET_MS": 2000, "GRAPH_BUDGET_MS": 8000}


class EnrichmentSettingsError(ValueError):
    """An enrichment variable is invalid; the message names it."""


@dataclass(frozen=True)
class EnrichmentSettings:
    results_table: str | None = None
    error_log_group: str | None = None
    top_errors: bool = False
    top_errors_minutes: int = DEFAULTS["TOP_ERRORS_MINUTES"]
    budget_seconds: float = DEFAULTS["ENRICHMENT_BUDGET_MS"] / 1000
    graph_region: str | None = None
    graph_budget_seconds: float = DEFAULTS["GRAPH_BUDGET_MS"] / 1000

    @property
    def top_errors_on(self) -> bool:
        return self.top_errors and self.error_log_group is not None

    @property
    def graphs(self) -> bool:
        return self.graph_region is not None


def enrichment_from_env(get: Callable[[str], str | None]) -> EnrichmentSettings:
    """`get(name)`: the variable's stripped value, or None when unset."""
    return EnrichmentSettings(
        results_table=get("SYNTHETIC_RESULTS_TABLE_NAME"),
        error_log_group=get("ERROR_LOG_GROUP"),
        top_errors=_switch(get("TOP_ERRORS"), "TOP_ERRORS", default=False),
        top_errors_minutes=_bounded(get("TOP_ERRORS_MINUTES"), "TOP_ERRORS_MINUTES"),
        budget_seconds=_bounded(get("ENRICHMENT_BUDGET_MS"), "ENRICHMENT_BUDGET_MS") / 1000,
        graph_region=get("GRAPH_REGION"),
        graph_budget_seconds=_bounded(get("GRAPH_BUDGET_MS"), "GRAPH_BUDGET_MS") / 1000,
    )


def _switch(text: str | None, name: str, *, default: bool) -> bool:
    if text is None:
        return default
    if text.lower() not in ("on", "off"):
        raise EnrichmentSettingsError(f"{name} must be on or off")
    return text.lower() == "on"


def _bounded(text: str | None, name: str) -> int:
    if text is None:
        return DEFAULTS[name]
    low, high = BOUNDS[name]
    if not text.isdigit() or not low <= int(text) <= high:
        raise EnrichmentSettingsError(f"{name} must be a whole number from {low} to {high}")
    return int(text)
