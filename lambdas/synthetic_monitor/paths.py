"""Dotted paths into a JSON body: the one lookup shared by the conditions (checks.py) and the readers (reading.py).

A path is segments joined by dots:

    checks.database.status        object members
    items.0                       an array item by index
    checks.*.status               `*`: every member of an object or item of an array
    name=process_cpu_seconds_total.values.0.value
                                  `key=value`: the first array item (an object) whose `key` is that text
                                  (prom-client's `register.getMetricsAsJSON()` is such an array)

Keys may hold letters, digits and `_ $ @ : -` (`:` for the IETF health draft's `db:responseTime`).
A part that does not exist yields MISSING, with the path walked so far, so a reason can say which part.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from typing import Any

JsonValue = Any


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()  # Any: it stands where a JSON value would
_KEY = r"[A-Za-z0-9_$@*:-]+"
_SEGMENT = rf"{_KEY}(?:=[A-Za-z0-9_$@:-]+)?"
PATH = re.compile(rf"^{_SEGMENT}(\.{_SEGMENT})*$")


def lookup(document: JsonValue, path: str) -> Iterator[tuple[str, JsonValue]]:
    """Every (concrete path, value) that `path` names; MISSING for a part that does not exist."""
    nodes: list[tuple[str, JsonValue]] = [("", document)]
    for segment in path.split("."):
        following: list[tuple[str, JsonValue]] = []
        for prefix, node in nodes:
            joined = f"{prefix}.{segment}" if prefix else segment
            if node is MISSING:
                following.append((joined, MISSING))
            elif segment == "*":
                members = _members(node)
                following.extend((f"{prefix}.{key}" if prefix else key, item) for key, item in members)
                if not members:
                    following.append((joined, MISSING))
            else:
                following.append((joined, _child(node, segment)))
        nodes = following
    yield from nodes


def value_at(document: JsonValue, path: str) -> JsonValue:
    """The first value `path` names, or MISSING."""
    return next(lookup(document, path))[1]


def display_path(path: str) -> str:
    """A body path as reasons show it: a bare top-level key gets `body.` so `status` is not the HTTP status."""
    return path if "." in path else f"body.{path}"


def render_value(value: JsonValue) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def number(value: JsonValue) -> float | None:
    """A finite JSON number as a float; None for anything else (true/false are not numbers in JSON)."""
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def parse_json(body: bytes) -> JsonValue:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return MISSING


def _members(node: JsonValue) -> list[tuple[str, JsonValue]]:
    if isinstance(node, dict):
        return [(str(key), value) for key, value in node.items()]
    if isinstance(node, list):
        return [(str(index), value) for index, value in enumerate(node)]
    return []


def _child(node: JsonValue, segment: str) -> JsonValue:
    if isinstance(node, dict):
        return node.get(segment, MISSING)
    if isinstance(node, list):
        if segment.isdigit():
            return node[int(segment)] if int(segment) < len(node) else MISSING
        key, is_filter, wanted = segment.partition("=")
        if is_filter:
            return next((item for item in node if isinstance(item, dict) and item.get(key) == wanted), MISSING)
    return MISSING
