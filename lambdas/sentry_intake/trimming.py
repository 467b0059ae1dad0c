"""Fitting a verified Sentry alert into one SNS message, whatever its size: trimmed, never dropped.

SNS accepts at most 262,144 bytes per message, body and message attributes together (the topic's default
MaximumMessageSize; https://docs.aws.amazon.com/sns/latest/api/API_Publish.html, "Message": at most 256 KB,
"262,144 bytes, not 262,144 characters"; https://docs.aws.amazon.com/sns/latest/dg/large-message-payloads.html).
We publish no attributes, so the UTF-8 bytes of the message text are what must fit. A fatal error with a
long stack trace is larger than that; Sentry does not retry a webhook we refuse, so it is trimmed instead,
in three steps, the first that fits wins:
1. whole: the envelope as received;
2. router-fields: only the fields the router's Sentry parser reads (lambdas/alert_router/parsing.py,
   `parse_sentry`): stack frames, breadcrumbs, contexts, request data and the rest go; the router reads
   the same alert from it (a test compares);
3. minimal: ids, title, level and link, every string cut to MINIMAL_TEXT characters: small by construction
   (a few dozen strings of at most 500 characters, at most 12 bytes each when escaped), so it always fits.
A trimmed envelope says so: `"trimmed": {"view": "router-fields" | "minimal", "original_bytes": N}`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, Union

SNS_MESSAGE_LIMIT = 262_144
MINIMAL_TEXT = 500
MINIMAL_ITEMS = 5
_KEPT_TAGS = ("environment", "level")

Shape = Union[bool, Callable[[Any], Any], Mapping[str, "Shape"]]  # noqa: UP007 - a recursive alias needs the string form
KEEP: Shape = True


def _routing_tags(tags: Any) -> Any:
    """Sentry tags are [key, value] pairs; the router reads `environment` and `level` only (first of each)."""
    pairs = [pair for pair in tags if isinstance(pair, list) and len(pair) == 2] if isinstance(tags, list) else []
    return [next(pair for pair in pairs if pair[0] == key) for key in _KEPT_TAGS if any(p[0] == key for p in pairs)]


_ISSUE_FIELDS: dict[str, Shape] = dict.fromkeys(
    ("id", "title", "message", "level", "issueCategory", "culprit", "count", "firstSeen", "lastSeen"), KEEP
) | {"web_url": KEEP, "project_url": KEEP, "project": {"slug": KEEP, "name": KEEP}}
_EVENT_FIELDS: dict[str, Shape] = dict.fromkeys(
    (
        "issue_id",
        "title",
        "message",
        "level",
        "issue_category",
        "type",
        "project_slug",
        "url",
        "environment",
        "culprit",
        "count",
        "firstSeen",
        "datetime",
        "web_url",
    ),
    KEEP,
) | {"tags": _routing_tags}
_ISSUE_LIKE: Shape = {
    "action": KEEP,
    "data": {
        "id": KEEP,
        "issue": _ISSUE_FIELDS,
        "event": _EVENT_FIELDS,
        "triggered_rule": KEEP,
        "issue_alert": {"title": KEEP},
    },
}
ROUTER_FIELDS: dict[str, Shape] = {
    "metric_alert": {
        "action": KEEP,
        "data": {
            "id": KEEP,
            "description_title": KEEP,
            "description_text": KEEP,
            "web_url": KEEP,
            "metric_alert": {
                "id": KEEP,
                "title": KEEP,
                "date_started": KEEP,
                "date_closed": KEEP,
                "projects": KEEP,
                "alert_rule": dict.fromkeys(("id", "name", "aggregate", "dataset", "environment", "projects"), KEEP),
            },
        },
    },
    "issue": _ISSUE_LIKE,
    "event_alert": _ISSUE_LIKE,
}
_MINIMAL_ISSUE_LIKE: Shape = {
    "action": KEEP,
    "data": {
        "issue": {"id": KEEP, "title": KEEP, "level": KEEP, "web_url": KEEP, "project": {"slug": KEEP}},
        "event": dict.fromkeys(("issue_id", "title", "level", "web_url", "url", "project_slug"), KEEP)
        | {"tags": _routing_tags},
        "triggered_rule": KEEP,
    },
}
MINIMAL_FIELDS: dict[str, Shape] = {
    "metric_alert": {
        "action": KEEP,
        "data": {
            "description_title": KEEP,
            "web_url": KEEP,
            "metric_alert": {"id": KEEP, "title": KEEP, "projects": KEEP, "alert_rule": {"id": KEEP, "name": KEEP}},
        },
    },
    "issue": _MINIMAL_ISSUE_LIKE,
    "event_alert": _MINIMAL_ISSUE_LIKE,
}


def fit_envelope(envelope: Mapping[str, Any], *, original_bytes: int) -> tuple[str, str]:
    """(message text within SNS_MESSAGE_LIMIT bytes, the view used: whole | router-fields | minimal)."""
    text = encode(envelope)
    if _size(text) <= SNS_MESSAGE_LIMIT:
        return text, "whole"
    text = encode(_trimmed(envelope, "router-fields", ROUTER_FIELDS, None, original_bytes))
    if _size(text) <= SNS_MESSAGE_LIMIT:
        return text, "router-fields"
    return encode(_trimmed(envelope, "minimal", MINIMAL_FIELDS, MINIMAL_TEXT, original_bytes)), "minimal"


def _trimmed(
    envelope: Mapping[str, Any], view: str, shapes: Mapping[str, Shape], cut: int | None, original_bytes: int
) -> dict[str, Any]:
    shape = shapes.get(str(envelope.get("resource")), {"action": KEEP})
    return {
        **envelope,
        "payload": project(envelope.get("payload"), shape, cut=cut),
        "trimmed": {"view": view, "original_bytes": original_bytes},
    }


def project(value: Any, shape: Shape, *, cut: int | None = None) -> Any:
    """The part of `value` that `shape` names: mappings recurse, KEEP keeps a scalar or a list of scalars,
    a callable filters. `cut` bounds every string (characters) and list (to MINIMAL_ITEMS items)."""
    if callable(shape):
        return _bounded(shape(value), cut)
    if isinstance(shape, Mapping):
        if not isinstance(value, Mapping):
            return None
        kept = {key: project(value[key], sub, cut=cut) for key, sub in shape.items() if key in value}
        return {key: item for key, item in kept.items() if item is not None or value.get(key) is None}
    return _bounded(value, cut)


def _bounded(value: Any, cut: int | None) -> Any:
    if isinstance(value, str):
        return value if cut is None else value[:cut]
    if isinstance(value, list):
        items = value if cut is None else value[:MINIMAL_ITEMS]
        return [_bounded(item, cut) for item in items if not isinstance(item, Mapping)]
    if isinstance(value, Mapping):
        return None  # KEEP names a scalar field; an object in its place is not what the router reads
    return value


def encode(message: Mapping[str, Any]) -> str:
    """Compact JSON; UTF-8 text as is, unless the data holds a lone surrogate (valid JSON, invalid UTF-8):
    then ASCII escapes, which SNS and the router read the same."""
    text = json.dumps(message, ensure_ascii=False, separators=(",", ":"))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(message, ensure_ascii=True, separators=(",", ":"))
    return text


def _size(text: str) -> int:
    return len(text.encode("utf-8"))
