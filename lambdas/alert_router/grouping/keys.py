"""Which fault an alert belongs to, and the grouping settings.

The group key of an alert, from the first source that has one:
1. a config override whose shell-style pattern matches the alarm name (`router.grouping.overrides`);
2. the `Group:` line our stack writes into every alarm description (lambdas/shared/alarm_metadata.py);
3. the resource its metric watches (`resource_group`: namespace and dimensions), the rule the stack uses
   for the line, so alarms made elsewhere group the same way.
Only CloudWatch alarms in ALARM or OK group; monitoring-blind notices, "data is back", Sentry alerts and
input the router could not read stay messages of their own (key None).

`parse_grouping` is the one parser of the GROUPING setting; infra/config.py validates config with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from lambdas.alert_router.models import Alert, SourceKind, State
from lambdas.alert_router.routing.route import Route
from lambdas.shared.alarm_metadata import parse_alarm_metadata, resource_group

# name -> (lowest, highest) accepted; config's bounds are the same (a test compares them)
GROUPING_LIMITS = {"storm_threshold": (5, 200), "join_window_minutes": (1, 240)}
_KEYS = {"enabled", "inhibit", "storm_threshold", "join_window_minutes", "overrides"}
MAX_GROUP_KEY = 200


class GroupingError(ValueError):
    """The GROUPING setting is invalid; the message names the field."""


@dataclass(frozen=True)
class GroupOverride:
    """Alarms whose name matches `match` (shell-style, case-insensitive) belong to group `group`."""

    match: str
    group: str

    def matches(self, alarm_name: str | None) -> bool:
        return alarm_name is not None and fnmatchcase(alarm_name.lower(), self.match.lower())


@dataclass(frozen=True)
class GroupingConfig:
    enabled: bool = True
    inhibit: bool = True  # a folded member does not also post in its own channel
    storm_threshold: int = 20  # more alerts than this for one channel in one batch: one digest
    join_window_seconds: int = 1800  # bot-token mode: a later member joins an open group's thread this long
    overrides: tuple[GroupOverride, ...] = ()


def group_key(alert: Alert, route: Route, config: GroupingConfig) -> str | None:
    """The fault `alert` belongs to, or None when it is a message of its own."""
    groupable = (
        config.enabled
        and alert.source in (SourceKind.SNS_ALARM, SourceKind.EVENTBRIDGE_ALARM)
        and alert.state in (State.ALARM, State.OK)
        and not route.data_back
        and not alert.parse_error
    )
    if not groupable:
        return None
    override = next((item for item in config.overrides if item.matches(alert.alarm_name)), None)
    if override is not None:
        return override.group
    line = parse_alarm_metadata(alert.description).group
    if line:
        return line[:MAX_GROUP_KEY]
    metric = alert.primary_metric
    if metric is None or not metric.namespace:
        return None
    return resource_group(metric.namespace, metric.dimensions)[:MAX_GROUP_KEY]


def parse_grouping(value: Any) -> GroupingConfig:
    """{"enabled"?, "inhibit"?, "storm_threshold"?, "join_window_minutes"?, "overrides"?: [{"match", "group"}]}."""
    if value is None:
        return GroupingConfig()
    if not isinstance(value, Mapping):
        raise GroupingError("must be a JSON object")
    unknown = sorted(set(value) - _KEYS)
    if unknown:
        raise GroupingError(f"unknown key {unknown[0]!r} (known: {', '.join(sorted(_KEYS))})")
    defaults = GroupingConfig()
    return GroupingConfig(
        enabled=_bool(value, "enabled", defaults.enabled),
        inhibit=_bool(value, "inhibit", defaults.inhibit),
        storm_threshold=_bounded(value, "storm_threshold", defaults.storm_threshold),
        join_window_seconds=60 * _bounded(value, "join_window_minutes", defaults.join_window_seconds // 60),
        overrides=_overrides(value.get("overrides", [])),
    )


def _bool(value: Mapping[str, Any], name: str, default: bool) -> bool:
    found = value.get(name, default)
    if not isinstance(found, bool):
        raise GroupingError(f"{name} must be true or false")
    return found


def _bounded(value: Mapping[str, Any], name: str, default: int) -> int:
    found = value.get(name, default)
    low, high = GROUPING_LIMITS[name]
    if isinstance(found, bool) or not isinstance(found, int) or not low <= found <= high:
        raise GroupingError(f"{name} must be a whole number between {low} and {high}")
    return found


def _overrides(items: Any) -> tuple[GroupOverride, ...]:
    if not isinstance(items, list):
        raise GroupingError("overrides must be a list")
    found = []
    for index, item in enumerate(items):
        entry = f"overrides[{index}]"
        if not isinstance(item, Mapping) or set(item) != {"match", "group"}:
            raise GroupingError(f"{entry} must have exactly 'match' and 'group'")
        match, group = item["match"], item["group"]
        if not isinstance(match, str) or not match.strip():
            raise GroupingError(f"{entry}.match must be a non-empty alarm name pattern")
        if not isinstance(group, str) or not group.strip() or len(group) > MAX_GROUP_KEY:
            raise GroupingError(f"{entry}.group must be a non-empty name of at most {MAX_GROUP_KEY} characters")
        found.append(GroupOverride(match=match.strip(), group=group.strip()))
    return tuple(found)
