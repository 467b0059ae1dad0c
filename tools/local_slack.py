"""A local Slack-compatible incoming-webhook receiver, for tests and the demo (127.0.0.1 only).

    with LocalSlack() as slack:
        os.environ["SLACK_WEBHOOK_URLS"] = slack.webhook_urls()
        ...                                   # POST /<channel-name> answers "ok" and is recorded
        slack.fail("alerts-critical", status=429, body="rate_limited", retry_after="1", times=1)
        slack.messages("alerts-critical")     # the JSON payloads received, in order

`render_terminal(payload)` turns a Block Kit message into plain text for a terminal.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

DEFAULT_CHANNELS = ("alerts-critical", "alerts-errors", "alerts-performance")


@dataclass(frozen=True)
class Fault:
    status: int = 500
    body: str = "internal_error"
    retry_after: str | None = None
    delay: float = 0.0  # seconds before answering (a delay above the client's timeout is a timeout)


class LocalSlack:
    def __init__(self, channels: tuple[str, ...] = DEFAULT_CHANNELS) -> None:
        self.channels = channels
        self._lock = threading.Lock()
        self._messages: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self._requests: dict[str, int] = defaultdict(int)
        self._faults: dict[str, deque[Fault]] = defaultdict(deque)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="local-slack", daemon=True)

    # --- lifecycle ---
    def start(self) -> LocalSlack:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> LocalSlack:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # --- addresses ---
    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, channel: str) -> str:
        return f"{self.base_url}/{channel}"

    def webhook_urls(self) -> str:
        """The JSON for SLACK_WEBHOOK_URLS."""
        return json.dumps({channel: self.url(channel) for channel in self.channels})

    # --- faults and records (thread-safe) ---
    def fail(
        self,
        channel: str,
        *,
        status: int = 500,
        body: str = "internal_error",
        retry_after: str | None = None,
        delay: float = 0.0,
        times: int = 1,
    ) -> None:
        """The next `times` requests to `channel` get this answer instead of `ok`."""
        with self._lock:
            self._faults[channel].extend([Fault(status, body, retry_after, delay)] * times)

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """Payloads accepted (answered `ok`) on `channel`."""
        with self._lock:
            return list(self._messages[channel])

    def all_messages(self) -> dict[str, list[dict[str, Any]]]:
        with self._lock:
            return {channel: list(items) for channel, items in self._messages.items() if items}

    def request_count(self, channel: str) -> int:
        """Every request to `channel`, answered `ok` or not."""
        with self._lock:
            return self._requests[channel]

    def reset(self) -> None:
        with self._lock:
            self._messages.clear()
            self._requests.clear()
            self._faults.clear()

    def _receive(self, channel: str, body: bytes) -> tuple[Fault | None, dict[str, Any] | None]:
        with self._lock:
            self._requests[channel] += 1
            fault = self._faults[channel].popleft() if self._faults[channel] else None
        if fault is not None:
            return fault, None
        try:
            payload = json.loads(body)
        except ValueError:
            return Fault(status=400, body="invalid_payload"), None
        if not isinstance(payload, dict) or not (payload.get("text") or payload.get("blocks")):
            return Fault(status=400, body="no_text"), None
        with self._lock:
            self._messages[channel].append(payload)
        return None, payload


def _handler_for(slack: LocalSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            channel = self.path.strip("/").split("?", 1)[0]
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            if channel not in slack.channels:
                self._answer(404, "no_service")
                return
            fault, _ = slack._receive(channel, body)
            if fault is None:
                self._answer(200, "ok")
                return
            if fault.delay:
                time.sleep(fault.delay)
            self._answer(fault.status, fault.body, fault.retry_after)

        def _answer(self, status: int, body: str, retry_after: str | None = None) -> None:
            data = body.encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(data)))
                if retry_after is not None:
                    self.send_header("Retry-After", retry_after)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout): nothing to answer

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: tests and the demo print what matters

    return Handler


# --- terminal rendering ----------------------------------------------------------------------------------

_LINK = re.compile(r"<([^|<>]+)\|([^<>]+)>")


def _plain(mrkdwn: str) -> str:
    text = _LINK.sub(lambda m: f"{m.group(2)} <{m.group(1)}>", mrkdwn)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def render_terminal(payload: dict[str, Any]) -> str:
    """Block Kit (top level or inside attachments) as plain text lines; links as `text <url>`."""
    blocks: list[dict[str, Any]] = list(payload.get("blocks") or [])
    for attachment in payload.get("attachments") or []:
        blocks.extend(attachment.get("blocks") or [])
    if not blocks:
        return _plain(str(payload.get("text", "")))
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            title = block.get("text", {}).get("text", "")
            lines += [title, "=" * min(len(title), 80)]
        elif kind == "section":
            if block.get("text"):
                lines.append(_plain(block["text"].get("text", "")))
            for item in block.get("fields") or []:
                label, _, value = _plain(item.get("text", "")).partition("\n")
                lines.append(f"  {label.strip('*')}: {value.replace(chr(10), '; ')}")
        elif kind == "context":
            lines.append("  " + "  ".join(_plain(e.get("text", "")) for e in block.get("elements") or []))
    return "\n".join(lines)
