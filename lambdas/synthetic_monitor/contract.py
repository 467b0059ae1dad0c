"""The health contract of the PeopleBooster backend, as JSON Schema, and a small validator for it.

SCHEMA is the single source: docs/health-contract.schema.json is this dict written out
(`python -m lambdas.synthetic_monitor.contract > docs/health-contract.schema.json`; a test keeps them
equal). The top level describes `GET /health`; `$defs` holds `/health/metrics`, `/health/live` and
`/health/ready`.

The Lambda does not ship jsonschema: `violations` understands the keywords this schema uses (type,
enum, required, properties, additionalProperties, minimum, local $ref) and ignores annotations. The
tests prove it agrees with jsonschema on valid and broken documents.
"""

from __future__ import annotations

import json
from typing import Any

_STATUS: dict[str, Any] = {
    "description": "healthy: fully working; degraded: working with reduced function; unhealthy: failing.",
    "enum": ["healthy", "degraded", "unhealthy"],
}

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://github.com/peoplebooster/monitoring/blob/main/docs/health-contract.schema.json",
    "title": "PeopleBooster GET /health",
    "description": (
        "Overall health of the backend and its dependencies. Answer 200 when status is healthy or "
        "degraded and 503 when unhealthy, with this body in every case. The synthetic monitor judges "
        "status and every dependency's status, and publishes responseTime per dependency."
    ),
    "type": "object",
    "required": ["status", "timestamp", "version", "uptime", "checks"],
    "properties": {
        "status": {"$ref": "#/$defs/status"},
        "timestamp": {"type": "string", "format": "date-time", "description": "ISO 8601, UTC."},
        "version": {"type": "string", "description": "Deployed application version."},
        "uptime": {"type": "number", "minimum": 0, "description": "Process uptime in seconds."},
        "checks": {
            "type": "object",
            "required": ["database", "redis", "externalServices"],
            "properties": {
                "database": {"$ref": "#/$defs/dependency"},
                "redis": {"$ref": "#/$defs/dependency"},
                "externalServices": {
                    "type": "object",
                    "required": ["status", "services"],
                    "properties": {
                        "status": {"$ref": "#/$defs/status"},
                        "services": {
                            "type": "object",
                            "description": "One entry per external service (openai, stripe, s3, ...).",
                            "additionalProperties": {
                                "type": "object",
                                "required": ["status"],
                                "properties": {"status": {"$ref": "#/$defs/status"}},
                            },
                        },
                    },
                },
            },
            "additionalProperties": {"$ref": "#/$defs/dependency"},
        },
    },
    "$defs": {
        "status": _STATUS,
        "dependency": {
            "type": "object",
            "required": ["status", "responseTime"],
            "properties": {
                "status": {"$ref": "#/$defs/status"},
                "responseTime": {"type": "number", "minimum": 0, "description": "Milliseconds."},
            },
        },
        "metrics": {
            "title": "PeopleBooster GET /health/metrics",
            "description": "Basic process metrics; 200 whenever the process can answer.",
            "type": "object",
            "required": ["timestamp", "uptime", "cpu", "memory"],
            "properties": {
                "timestamp": {"type": "string", "format": "date-time"},
                "uptime": {"type": "number", "minimum": 0, "description": "Seconds."},
                "cpu": {
                    "type": "object",
                    "required": ["usagePercent"],
                    "properties": {"usagePercent": {"type": "number", "minimum": 0}},
                },
                "memory": {
                    "type": "object",
                    "required": ["usagePercent"],
                    "properties": {
                        "usagePercent": {"type": "number", "minimum": 0},
                        "usedBytes": {"type": "integer", "minimum": 0},
                        "totalBytes": {"type": "integer", "minimum": 0},
                    },
                },
            },
        },
        "live": {
            "title": "PeopleBooster GET /health/live",
            "description": "200 while the process runs; no dependency is consulted.",
            "type": "object",
            "required": ["status"],
            "properties": {"status": {"enum": ["ok"]}},
        },
        "ready": {
            "title": "PeopleBooster GET /health/ready",
            "description": "200 when the instance can take traffic (database and Redis reachable), else 503.",
            "type": "object",
            "required": ["status"],
            "properties": {"status": {"enum": ["ready", "not_ready"]}},
        },
    },
}

# Contract names usable in a check's `{"contract": ...}` condition.
CONTRACTS = ("health", "metrics", "live", "ready")

_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "number": (int, float),
    "integer": (int,),
    "boolean": (bool,),
    "null": (type(None),),
}
_MAX_VIOLATIONS = 3


def contract_schema(name: str) -> dict[str, Any]:
    if name == "health":
        return SCHEMA
    schema: dict[str, Any] = SCHEMA["$defs"][name]
    return schema


def violations(document: Any, contract: str) -> list[str]:
    """The first few ways `document` breaks the named contract, as `path problem` strings; [] if none."""
    found: list[str] = []
    _check(document, contract_schema(contract), "", found)
    return found[:_MAX_VIOLATIONS]


def display_path(path: str) -> str:
    """A body path as reasons show it: a bare top-level key gets `body.` so `status` is not the HTTP status."""
    return path if "." in path else f"body.{path}"


def render_value(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def is_type(value: Any, type_name: str) -> bool:
    # JSON true/false are not numbers, though Python's bool is an int.
    if isinstance(value, bool) and type_name in ("number", "integer"):
        return False
    if type_name == "integer" and isinstance(value, float):
        return value.is_integer()
    return isinstance(value, _TYPES[type_name])


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        target: Any = SCHEMA
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        schema = target
    return schema


def _check(value: Any, schema: dict[str, Any], path: str, found: list[str]) -> None:
    schema = _resolve(schema)
    shown = display_path(path) if path else "body"
    if "type" in schema:
        types = [schema["type"]] if isinstance(schema["type"], str) else schema["type"]
        if not any(is_type(value, name) for name in types):
            found.append(f"{shown} is {render_value(value)}, not {' or '.join(types)}")
            return
    if "enum" in schema and value not in schema["enum"]:
        found.append(f"{shown} is {render_value(value)}, not one of {render_value(schema['enum'])}")
    if "minimum" in schema and is_type(value, "number") and value < schema["minimum"]:
        found.append(f"{shown} is {render_value(value)}, below {schema['minimum']}")
    if not isinstance(value, dict):
        return
    prefix = f"{path}." if path else ""
    for key in schema.get("required", ()):
        if key not in value:
            found.append(f"{display_path(prefix + key)} missing")
    properties: dict[str, Any] = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    for key, item in value.items():
        if key in properties:
            _check(item, properties[key], prefix + key, found)
        elif isinstance(extra, dict):
            _check(item, extra, prefix + key, found)
        elif extra is False:
            found.append(f"{display_path(prefix + key)} not allowed")


if __name__ == "__main__":
    print(json.dumps(SCHEMA, indent=2, ensure_ascii=False))
