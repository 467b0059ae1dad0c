"""The health contracts of the PeopleBooster backend, as JSON Schema, and a small validator for the strict one.

SCHEMA is the strict contract (`synthetics.contract: strict`): every field of the report's example, the
monitor's only contract before issue 15. TOLERANT_SCHEMA documents what the default, tolerant contract
accepts; it is built from the constants reading.py judges with (status words, dependency blocks, candidate
paths), and a test checks that it and the judge agree. Both are written out to docs/ (a test keeps them equal):

    python -m lambdas.synthetic_monitor.contract > docs/health-contract.schema.json
    python -m lambdas.synthetic_monitor.contract tolerant > docs/health-contract-tolerant.schema.json

The top level describes `GET /health`; `$defs` holds `/health/metrics` (and, strict, `/health/live` and
`/health/ready`).

The Lambda does not ship jsonschema: `violations` understands the keywords this schema uses (type,
enum, required, properties, additionalProperties, minimum, local $ref) and ignores annotations. The
tests prove it agrees with jsonschema on valid and broken documents.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from lambdas.synthetic_monitor.paths import display_path, render_value
from lambdas.synthetic_monitor.reading import (
    DEFAULT_METRIC_PATHS,
    DEPENDENCY_BLOCKS,
    NUMBERS,
    RESPONSE_TIME_KEYS,
    SPLIT_BLOCKS,
    STATUS_WORDS,
    NumberSource,
)

_DOCS = "https://github.com/peoplebooster/monitoring/blob/main/docs"
_STATUS: dict[str, Any] = {
    "description": "healthy: fully working; degraded: working with reduced function; unhealthy: failing.",
    "enum": ["healthy", "degraded", "unhealthy"],
}

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": f"{_DOCS}/health-contract.schema.json",
    "title": "PeopleBooster GET /health (strict contract)",
    "description": (
        "Overall health of the backend and its dependencies. Answer 200 when status is healthy or "
        "degraded and 503 when unhealthy, with this body in every case. With synthetics.contract: strict "
        "the synthetic monitor requires every field below, judges status and every dependency's status, "
        "and publishes responseTime per dependency. The default contract is the tolerant one "
        "(health-contract-tolerant.schema.json)."
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


# --- the tolerant contract, from the constants the judge uses ---------------------------------------


def _any_case(words: list[str]) -> str:
    """A regex for these words in any letter case (JSON Schema's ECMA-262 patterns have no (?i) flag)."""
    spelled = ["".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in word) for word in words]
    return f"^\\s*({'|'.join(spelled)})\\s*$"


def _words(health: str) -> str:
    return "/".join(word for word, meaning in STATUS_WORDS.items() if meaning == health)


def _candidate(source: NumberSource) -> str:
    if source.total is not None:
        return f"{'free' if source.free else 'used'} {source.path} of {source.total}"
    return source.path if source.unit in ("percent", "bytes", "seconds") else f"{source.path} ({source.unit})"


_ENTRY: dict[str, Any] = {
    "description": (
        "A dependency: an object with a status (an entry without one is not a dependency and is ignored), "
        f"optionally a response time in ms ({', '.join(RESPONSE_TIME_KEYS)}) and a `services` object of "
        "dependencies grouped under it; or an array of such objects (the IETF draft's "
        '"<component>:<measurement>": [{"status", "observedValue", "observedUnit"}]).'
    ),
    "if": {"type": "object", "required": ["status"]},
    "then": {"properties": {"status": {"$ref": "#/$defs/status"}}},
    "properties": {"services": {"type": "object", "additionalProperties": {"$ref": "#/$defs/entry"}}},
    "items": {"$ref": "#/$defs/entry"},
}

TOLERANT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": f"{_DOCS}/health-contract-tolerant.schema.json",
    "title": "PeopleBooster GET /health (tolerant contract, the default)",
    "description": (
        "What the synthetic monitor accepts by default (synthetics.contract: tolerant). The body's status and "
        "every dependency's status decide the verdict; a body without a status leaves it to the HTTP status. "
        "A missing status, version, uptime or dependency response time is a warning (logged, metric "
        "FieldMissing), never a failure. Dependencies are read from the first of "
        f"{', '.join(DEPENDENCY_BLOCKS)} present, else from {' and '.join(SPLIT_BLOCKS)} together. The strict "
        "contract is health-contract.schema.json."
    ),
    "type": "object",
    "properties": {
        "status": {"$ref": "#/$defs/status"},
        "version": {"description": "Deployed application version; missing is a warning."},
        "uptime": {"description": "Process uptime in seconds (read like /health/metrics' uptime); missing: a warning."},
        **{block: {"$ref": "#/$defs/dependencies"} for block in DEPENDENCY_BLOCKS + SPLIT_BLOCKS},
    },
    "$defs": {
        "status": {
            "type": "string",
            "description": (
                f"Any letter case. Healthy: {_words('healthy')}; degraded: {_words('degraded')}; "
                f"unhealthy: {_words('unhealthy')}. Anything else fails the check as an unknown status word."
            ),
            "pattern": _any_case(list(STATUS_WORDS)),
        },
        "dependencies": {
            "description": (
                "Dependencies by name, or an array of dependencies each with a `name`; any other value is no block."
            ),
            "additionalProperties": {"$ref": "#/$defs/entry"},
            "items": {"$ref": "#/$defs/entry"},
        },
        "entry": _ENTRY,
        "metrics": {
            "title": "PeopleBooster GET /health/metrics (tolerant contract, the default)",
            "description": (
                "Any JSON, judged on HTTP status, JSON and latency only. Each number is read from the first of its "
                "candidate paths that holds one (synthetics.metric_paths replaces them); a number none holds is "
                "a warning (metric FieldMissing with the number's name). "
                + " ".join(
                    f"{name}: {', '.join(_candidate(source) for source in DEFAULT_METRIC_PATHS.of(name))}."
                    for name in NUMBERS
                )
            ),
        },
    },
}


if __name__ == "__main__":
    print(json.dumps(TOLERANT_SCHEMA if sys.argv[1:] == ["tolerant"] else SCHEMA, indent=2, ensure_ascii=False))
