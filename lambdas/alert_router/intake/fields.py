"""Typed getters for untrusted input: a field of the wrong type, or missing, is None (never an exception).

Every parser of the intake reads outside JSON through these, so input is never indexed blindly.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from lambdas.alert_router.models import State

_ARN = re.compile(r"^arn:(?P<partition>aws[a-z-]*):(?P<service>[a-z0-9-]+):(?P<region>[a-z0-9-]*):(?P<account>\d*):")


def dump(value: object) -> str:
    """Input as text for a person (and the logs); never raises, even for input nested beyond recursion."""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, indent=2, default=str)
    except (TypeError, ValueError, RecursionError):
        pass
    try:
        return repr(value)
    except RecursionError:
        return f"({type(value).__name__} nested too deeply to show)"


def get_str(mapping: Mapping[str, Any] | object, key: str) -> str | None:
    if not isinstance(mapping, Mapping):
        return None
    value = mapping.get(key)
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return None


def get_map(mapping: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = mapping.get(key)
    return value if isinstance(value, Mapping) else {}


def get_list(mapping: Mapping[str, Any], key: str) -> list[Any]:
    value = mapping.get(key)
    return value if isinstance(value, list) else []


def json_map(text: str | None) -> Mapping[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, Mapping) else {}


def to_float(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        try:
            number = float(value)
        except OverflowError:  # JSON allows integers of any size: 10**400 is no data either
            return None
    elif isinstance(value, float):
        number = value
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None  # NaN and inf are no data


def to_int(value: object) -> int | None:
    number = to_float(value)
    return int(number) if number is not None else None


def to_state(value: str | None) -> State | None:
    try:
        return State(value.upper()) if value else None
    except ValueError:
        return None


def to_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None  # a time without zone cannot be shown as UTC honestly


def parse_arn(arn: str | None) -> dict[str, str] | None:
    match = _ARN.match(arn or "")
    if not match:
        return None
    return {key: value for key, value in match.groupdict().items() if value}


def alarm_name_from_arn(arn: str | None) -> str | None:
    if not arn or ":alarm:" not in arn:
        return None
    return arn.split(":alarm:", 1)[1] or None
