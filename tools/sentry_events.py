"""Sentry webhook test events (Lambda Function URL, payload 2.0), signed with the documented test secret.

    python -m tools.sentry_events            # (re)writes events/sentry_intake/*.json
    SENTRY_CLIENT_SECRET=test-sentry-client-secret make invoke FN=sentry_intake \
        EVENT=events/sentry_intake/metric_alert_critical.json

TEST_SECRET is for tests and local use only; `tools/invoke.py` uses it for `FN=sentry_intake` when
SENTRY_CLIENT_SECRET is not set. The committed events carry fixed, long past times (so regenerating them
changes nothing): the Sentry-Hook-Timestamp header and the times inside the body. The intake refuses a
header older than MAX_HOOK_AGE_SECONDS and a body whose signed time is older than the router's memory
(MAX_BODY_AGE_SECONDS), so `tools/invoke.py` and the tests send them through `with_fresh_times`: it moves
the body's times to now and signs the body again, but only an event that was validly signed with the
secret it is given (a forged test event stays forged).
The payloads follow Sentry's integration-platform webhook documentation
(issue, issue alert, metric alert), trimmed to realistic essentials.
"""

from __future__ import annotations

import base64
import copy
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lambdas.sentry_intake.freshness import TIME_FIELDS, signed_time
from lambdas.sentry_intake.webhook import sign, signature_valid
from lambdas.shared.function_url import request_from_event
from lambdas.shared.secret import Secret

TEST_SECRET = "test-sentry-client-secret"  # a documented test value, not a credential
EVENTS_DIR = Path(__file__).resolve().parents[1] / "events" / "sentry_intake"
ORG = "https://peoplebooster.sentry.io"
FIXED_TIMESTAMP = "1764400000"  # 2025-11-29: what the committed events carry


def function_url_event(
    body: bytes,
    *,
    resource: str,
    request_id: str,
    secret: str | None = TEST_SECRET,
    base64_body: bool = False,
    timestamp: str = FIXED_TIMESTAMP,
) -> dict[str, Any]:
    """What Lambda receives from a Function URL for a Sentry POST (`secret=None`: unsigned)."""
    headers = {
        "content-type": "application/json",
        "request-id": request_id,
        "sentry-hook-resource": resource,
        "sentry-hook-timestamp": timestamp,
        "user-agent": "sentry-app",
        "host": "abcdefghij.lambda-url.ap-northeast-1.on.aws",
    }
    if secret is not None:
        headers["sentry-hook-signature"] = sign(body, secret)
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/",
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "abcdefghij",
            "domainName": "abcdefghij.lambda-url.ap-northeast-1.on.aws",
            "http": {"method": "POST", "path": "/", "protocol": "HTTP/1.1", "sourceIp": "35.184.238.160"},
            "requestId": "c2f0b1c4-0000-4000-8000-000000000001",
            "routeKey": "$default",
            "stage": "$default",
            "time": "29/Nov/2026:03:14:15 +0000",
            "timeEpoch": 1764386055000,
        },
        "body": base64.b64encode(body).decode() if base64_body else body.decode(),
        "isBase64Encoded": base64_body,
    }


def _metric_alert(action: str, *, name: str, aggregate: str, dataset: str, closed: bool) -> dict[str, Any]:
    title = {"critical": "Critical", "warning": "Warning", "resolved": "Resolved"}[action]
    return {
        "action": action,
        "actor": {"id": "sentry", "name": "Sentry", "type": "application"},
        "data": {
            "description_text": f"{aggregate} above threshold in the last 10 minutes",
            "description_title": f"{title}: {name}",
            "metric_alert": {
                "alert_rule": {
                    "aggregate": aggregate,
                    "dataset": dataset,
                    "environment": "production",
                    "id": "7",
                    "name": name,
                    "projects": ["peoplebooster-backend"],
                    "query": "",
                    "resolution": 1,
                    "status": 0,
                    "threshold_type": 0,
                    "time_window": 10,
                    "triggers": [
                        {"alert_threshold": 800, "label": "critical"},
                        {"alert_threshold": 500, "label": "warning"},
                    ],
                },
                "date_closed": "2026-11-29T03:40:00.000000Z" if closed else None,
                "date_detected": "2026-11-29T03:10:00.000000Z",
                "date_started": "2026-11-29T03:10:00.000000Z",
                "id": "4",
                "identifier": "2",
                "organization_id": "1",
                "projects": ["peoplebooster-backend"],
                "status": 2 if closed else 20,
                "title": name,
            },
            "web_url": f"{ORG}/alerts/rules/details/7/",
        },
        "installation": {"uuid": "7a485448-a9e2-4c85-8a3c-4f44175783c9"},
    }


def _issue_created() -> dict[str, Any]:
    return {
        "action": "created",
        "actor": {"id": "sentry", "name": "Sentry", "type": "application"},
        "data": {
            "issue": {
                "id": "1170820242",
                "shortId": "PEOPLEBOOSTER-BACKEND-2Q",
                "title": "KeyError: 'user_id'",
                "culprit": "app.api.users in get_profile",
                "level": "error",
                "status": "unresolved",
                "issueCategory": "error",
                "issueType": "error",
                "count": "3",
                "userCount": 2,
                "firstSeen": "2026-11-29T03:05:12.000000Z",
                "lastSeen": "2026-11-29T03:14:15.000000Z",
                "project": {"id": "2", "name": "peoplebooster-backend", "slug": "peoplebooster-backend"},
                "url": "https://sentry.io/api/0/issues/1170820242/",
                "web_url": f"{ORG}/issues/1170820242/",
                "project_url": f"{ORG}/projects/peoplebooster-backend/",
            }
        },
        "installation": {"uuid": "7a485448-a9e2-4c85-8a3c-4f44175783c9"},
    }


def _event_alert(level: str, rule: str) -> dict[str, Any]:
    return {
        "action": "triggered",
        "actor": {"id": "sentry", "name": "Sentry", "type": "application"},
        "data": {
            "event": {
                "event_id": "d11b3b1bfc4e4d6e8d4c0e9a1f0b2c3d",
                "issue_id": "1170820299",
                "title": 'OperationalError: connection to server at "db" failed',
                "culprit": "app.db.pool in acquire",
                "level": level,
                "type": "error",
                "datetime": "2026-11-29T03:14:15.123000Z",
                "project": 2,
                "tags": [["environment", "production"], ["level", level], ["server_name", "ip-10-0-1-23"]],
                "url": "https://sentry.io/api/0/projects/peoplebooster/peoplebooster-backend/events/d11b3b1b/",
                "web_url": f"{ORG}/issues/1170820299/events/d11b3b1bfc4e4d6e8d4c0e9a1f0b2c3d/",
                "issue_url": "https://sentry.io/api/0/issues/1170820299/",
                "exception": {"values": [{"type": "OperationalError", "value": "connection failed"}]},
            },
            "triggered_rule": rule,
            "issue_alert": {"title": rule, "settings": []},
        },
        "installation": {"uuid": "7a485448-a9e2-4c85-8a3c-4f44175783c9"},
    }


# file name -> (resource, Request-ID, payload, base64-encoded body)
EVENTS: dict[str, tuple[str, str, dict[str, Any], bool]] = {
    "event_alert_fatal.json": (
        "event_alert",
        "2f6c1d1e-0001-4a1b-9c1d-000000000001",
        _event_alert("fatal", "Database errors in production"),
        False,
    ),
    "issue_created.json": ("issue", "2f6c1d1e-0002-4a1b-9c1d-000000000002", _issue_created(), True),
    "metric_alert_critical.json": (
        "metric_alert",
        "2f6c1d1e-0003-4a1b-9c1d-000000000003",
        _metric_alert(
            "critical", name="p95 latency", aggregate="p95(transaction.duration)", dataset="transactions", closed=False
        ),
        False,
    ),
    "metric_alert_warning.json": (
        "metric_alert",
        "2f6c1d1e-0004-4a1b-9c1d-000000000004",
        _metric_alert("warning", name="Error count", aggregate="count()", dataset="events", closed=False),
        False,
    ),
    "metric_alert_resolved.json": (
        "metric_alert",
        "2f6c1d1e-0005-4a1b-9c1d-000000000005",
        _metric_alert(
            "resolved", name="p95 latency", aggregate="p95(transaction.duration)", dataset="transactions", closed=True
        ),
        False,
    ),
}


def build_event(name: str, secret: str = TEST_SECRET) -> dict[str, Any]:
    resource, request_id, payload, base64_body = EVENTS[name]
    body = json.dumps(payload, indent=2).encode()
    return function_url_event(body, resource=resource, request_id=request_id, secret=secret, base64_body=base64_body)


def fresh_payload(resource: str, payload: dict[str, Any], now: float | None = None) -> dict[str, Any]:
    """A copy of a webhook payload moved in time so that its newest time field (of those the intake judges
    freshness by, lambdas/sentry_intake/freshness.py) is now; the others keep their distance to it."""
    fresh = copy.deepcopy(payload)
    newest = signed_time(resource, fresh)
    path, names = TIME_FIELDS.get(resource, ((), ()))
    node: Any = fresh
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    if newest is None or not isinstance(node, dict):
        return fresh
    shift = (time.time() if now is None else now) - newest
    for name in names:
        value = node.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            node[name] = value + shift
        elif isinstance(value, str) and (moment := signed_time(resource, _only(path, name, value))) is not None:
            node[name] = datetime.fromtimestamp(moment + shift, UTC).isoformat().replace("+00:00", "Z")
    return fresh


def _only(path: tuple[str, ...], name: str, value: str) -> dict[str, Any]:
    """A payload holding one time field at `path`, to read it the way the intake does."""
    document: dict[str, Any] = {name: value}
    for key in reversed(path):
        document = {key: document}
    return document


def with_fresh_times(event: dict[str, Any], secret: str = TEST_SECRET, now: float | None = None) -> dict[str, Any]:
    """A copy of a Function URL event sent now: fresh Sentry-Hook-Timestamp and, when the event is validly
    signed with `secret`, fresh times inside the body, signed again with `secret`."""
    fresh = copy.deepcopy(event)
    moment = time.time() if now is None else now
    headers = fresh.get("headers")
    if not isinstance(headers, dict):
        return fresh
    headers["sentry-hook-timestamp"] = str(int(moment))
    body = request_from_event(fresh).body
    if body is None or not signature_valid(body, headers.get("sentry-hook-signature"), Secret(secret)):
        return fresh
    try:
        payload = json.loads(body)
    except ValueError:
        return fresh
    resource = str(headers.get("sentry-hook-resource"))
    new_body = json.dumps(fresh_payload(resource, payload, moment), indent=2).encode()
    fresh["body"] = base64.b64encode(new_body).decode() if fresh.get("isBase64Encoded") is True else new_body.decode()
    headers["sentry-hook-signature"] = sign(new_body, secret)
    return fresh


def main() -> int:
    EVENTS_DIR.mkdir(parents=True, exist_ok=True)
    for name in EVENTS:
        (EVENTS_DIR / name).write_text(json.dumps(build_event(name), indent=2) + "\n", encoding="utf-8")
        print(f"wrote {EVENTS_DIR / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
