"""A Lambda Function URL request (payload format 2.0) as the raw bytes that were signed, and its answer.

Both Function URL endpoints verify an HMAC over the raw body, so the body must come back byte for byte:
a base64 body (`isBase64Encoded`, which Function URLs use for form and binary bodies) is decoded, and a
body that cannot be decoded is None (it cannot have been signed). Header names are lower-cased (HTTP
header names are case-insensitive; Function URLs already send them lower-case).
https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html (request and response payloads)
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class HttpRequest:
    method: str
    headers: Mapping[str, str]  # lower-case names
    body: bytes | None  # None: the event's body could not be turned back into bytes (broken base64)


def request_from_event(event: object) -> HttpRequest:
    """A Lambda Function URL / API Gateway HTTP API (payload 2.0) event -> the raw request."""
    if not isinstance(event, Mapping):
        return HttpRequest(method="POST", headers={}, body=None)
    context = event.get("requestContext")
    http = context.get("http") if isinstance(context, Mapping) else None
    method = http.get("method") if isinstance(http, Mapping) else None
    headers = event.get("headers")
    body = event.get("body") or ""
    raw: bytes | None = None
    if isinstance(body, str) and event.get("isBase64Encoded") is True:
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raw = None  # refused as unsigned
    elif isinstance(body, str):
        raw = body.encode(errors="surrogatepass")  # never raises; such bytes match no signature
    return HttpRequest(
        method=str(method or "POST").upper(),
        headers={str(k).lower(): str(v) for k, v in headers.items()} if isinstance(headers, Mapping) else {},
        body=raw,
    )


def json_response(status: int, body: Mapping[str, Any]) -> dict[str, Any]:
    """A Function URL response with a JSON body."""
    return {"statusCode": status, "headers": {"content-type": "application/json"}, "body": json.dumps(body)}
