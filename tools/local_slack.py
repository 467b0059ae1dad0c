"""A local Slack-compatible incoming-webhook receiver, for tests and the demo (127.0.0.1 only).

    with LocalSlack() as slack:
        os.environ["SLACK_WEBHOOK_URLS"] = slack.webhook_urls()
        ...                                   # POST /<channel-name> answers "ok" and is recorded
        slack.fail("alerts-critical", status=429, body="rate_limited", retry_after="1", times=1)
        slack.fail("alerts-critical", mode="trickle", pace=1.0)   # the answer one byte per second
        slack.fail("alerts-critical", mode="stall")               # reads the request, never answers
        slack.fail("alerts-critical", mode="endless")             # 200 and a body that never ends
        slack.rate_limit("alerts-critical", interval=1.0)         # Slack's 1 post/s per webhook, else 429
        slack.messages("alerts-critical")     # the JSON payloads received, in order
        slack.accepted_at()                   # when each accepted post arrived (time.monotonic), in order
        slack.rate_limited_total()            # 429s answered by the rate limits, every channel

A local Slack Web API (bot-token mode): chat.postMessage and chat.update, bearer token checked.

    with LocalSlackApi() as api:
        os.environ |= {"SLACK_BOT_TOKEN": api.token, "SLACK_CHANNEL_IDS": api.channel_ids_json(),
                       "SLACK_API_BASE_URL": api.base_url}
        api.rate_limit(times=1, retry_after="2")   # the next call answers 429 {"ok": false, "error": "ratelimited"}
        api.fail("chat.update", error="cant_update_message")   # the next chat.update answers ok: false
        api.fail("chat.postMessage", error="invalid_blocks")   # Slack refusing the blocks (plain text passes)
        api.fail("*", mode="trickle", pace=1.0)                # the same misbehaviours as the webhooks
        api.delete_message("C0CRITICAL", ts)                   # then thread_not_found / message_not_found
        api.posts("C0CRITICAL"), api.replies("C0CRITICAL", ts), api.updates("C0CRITICAL")
        url = api.response_url()      # a click's response_url on this server; api.responses() what was posted
        api.fail("response_url", status=404, error="expired_url")   # response URLs fail like any method
        print(api.render_channel("C0CRITICAL"))     # top-level messages (as updated) with their threads
        api.files("C0CRITICAL")     # files shared (the external upload: files.getUploadURLExternal, the bytes
                                    # POSTed to its upload_url on this server, files.completeUploadExternal)

`render_terminal(payload)` turns a Block Kit message into plain text for a terminal.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal, Self
from urllib.parse import parse_qs

DEFAULT_CHANNELS = ("alerts-critical", "alerts-errors", "alerts-performance")
FAKE_BOT_TOKEN = "xoxb-test-XXXXXXXX"  # obviously fake; tests assert it never reaches a log
DEFAULT_CHANNEL_IDS = {"alerts-critical": "C0CRITICAL", "alerts-errors": "C0ERRORS", "alerts-performance": "C0PERF"}


# How a faulty answer misbehaves: "answer" sends it (after `delay`); "trickle" sends it one byte every `pace`
# seconds; "stall" reads the request and never answers; "endless" answers 200 with a body that never ends.
Mode = Literal["answer", "trickle", "stall", "endless"]
STUCK_FOR_AT_MOST = 60.0  # a stalled or endless answer ends by then (or when the server stops or resets)


@dataclass(frozen=True)
class Fault:
    status: int = 500
    body: str = "internal_error"
    retry_after: str | None = None
    delay: float = 0.0  # seconds before answering (a delay above the client's timeout is a timeout)
    mode: Mode = "answer"
    pace: float = 1.0


class _LoopbackServer:
    """A threaded HTTP server on 127.0.0.1 (a free port), started and stopped with the object."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], thread_name: str) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name=thread_name, daemon=True)
        self._released = threading.Event()  # set: every stalled, trickling or endless answer stops now

    def release_stuck_answers(self) -> None:
        self._released.set()
        self._released = threading.Event()

    # --- lifecycle ---
    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._released.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def _origin(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"


class LocalSlack(_LoopbackServer):
    def __init__(self, channels: tuple[str, ...] = DEFAULT_CHANNELS) -> None:
        self.channels = channels
        self._lock = threading.Lock()
        self._messages: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self._requests: dict[str, int] = defaultdict(int)
        self._faults: dict[str, deque[Fault]] = defaultdict(deque)
        self._rate: dict[str, float] = {}  # channel -> seconds between accepted posts
        self._last_accepted: dict[str, float] = {}
        self._rate_limited: dict[str, int] = defaultdict(int)
        self._accepted_at: list[float] = []
        self.latency = 0.0  # seconds before every answer: makes concurrent senders overlap in tests
        super().__init__(_handler_for(self), "local-slack")

    # --- addresses ---
    @property
    def base_url(self) -> str:
        return self._origin

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
        mode: Mode = "answer",
        pace: float = 1.0,
        times: int = 1,
    ) -> None:
        """The next `times` requests to `channel` get this answer instead of `ok`."""
        with self._lock:
            self._faults[channel].extend([Fault(status, body, retry_after, delay, mode, pace)] * times)

    def clear_faults(self) -> None:
        """Slack is back: forget the faults not yet used."""
        with self._lock:
            self._faults.clear()
        self.release_stuck_answers()

    def rate_limit(self, channel: str, *, interval: float = 1.0) -> None:
        """Accept at most one post per `interval` seconds on `channel`, like Slack's 1 per second per webhook;
        an earlier post gets 429 with Retry-After = the seconds until the next one is accepted (fractional
        below a second, so tests can run the limit faster than Slack's whole seconds)."""
        with self._lock:
            self._rate[channel] = interval

    def rate_limited(self, channel: str) -> int:
        """How many posts to `channel` were answered 429 by the rate limit."""
        with self._lock:
            return self._rate_limited[channel]

    def rate_limited_total(self) -> int:
        """How many posts, to any channel, were answered 429 by the rate limits."""
        with self._lock:
            return sum(self._rate_limited.values())

    def accepted_at(self) -> list[float]:
        """The time.monotonic() of each post answered `ok`, in order."""
        with self._lock:
            return list(self._accepted_at)

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
            self._rate.clear()
            self._last_accepted.clear()
            self._rate_limited.clear()
            self._accepted_at.clear()
            self.latency = 0.0
        self.release_stuck_answers()

    def _receive(self, channel: str, body: bytes) -> tuple[Fault | None, dict[str, Any] | None]:
        with self._lock:
            self._requests[channel] += 1
            fault = self._faults[channel].popleft() if self._faults[channel] else None
            if fault is None and channel in self._rate:
                fault = self._over_rate(channel)
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
            self._accepted_at.append(time.monotonic())
        return None, payload

    def _over_rate(self, channel: str) -> Fault | None:
        """Called under the lock: a 429 when the channel's last accepted post is less than its interval ago."""
        now = time.monotonic()
        interval = self._rate[channel]
        wait = self._last_accepted.get(channel, float("-inf")) + interval - now
        if wait <= 0:
            self._last_accepted[channel] = now
            return None
        self._rate_limited[channel] += 1
        retry_after = str(math.ceil(wait)) if interval >= 1 else f"{wait:.3f}"
        return Fault(status=429, body="rate_limited", retry_after=retry_after)


def _send(
    handler: BaseHTTPRequestHandler, status: int, content_type: str, data: bytes, retry_after: str | None
) -> None:
    try:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(data)))
        if retry_after is not None:
            handler.send_header("Retry-After", retry_after)
        handler.end_headers()
        handler.wfile.write(data)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the client gave up (timeout): nothing to answer


def _misbehave(handler: BaseHTTPRequestHandler, fault: Fault, data: bytes, released: threading.Event) -> bool:
    """Answer as the fault's mode says; False for a plain answer (the caller sends it). Ends when the client
    goes away, the server is released (reset, stop) or after STUCK_FOR_AT_MOST seconds."""
    if fault.mode == "answer":
        return False
    handler.close_connection = True
    give_up = time.monotonic() + STUCK_FOR_AT_MOST
    try:
        if fault.mode == "stall":
            released.wait(STUCK_FOR_AT_MOST)
        elif fault.mode == "trickle":
            head = f"HTTP/1.1 {fault.status} Slow\r\nContent-Length: {len(data)}\r\nConnection: close\r\n\r\n"
            for byte in head.encode() + data:
                if released.wait(fault.pace) or time.monotonic() > give_up:
                    break
                handler.wfile.write(bytes([byte]))
                handler.wfile.flush()
        else:  # endless: a 200 whose body never ends, as fast as the client reads it
            handler.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n")
            while not released.is_set() and time.monotonic() < give_up:
                handler.wfile.write(b"ok" * 4096)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the client gave up: that is the point
    return True


def _handler_for(slack: LocalSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            channel = self.path.strip("/").split("?", 1)[0]
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            if channel not in slack.channels:
                self._answer(404, "no_service")
                return
            if slack.latency:
                time.sleep(slack.latency)
            fault, _ = slack._receive(channel, body)
            if fault is None:
                self._answer(200, "ok")
                return
            if fault.delay:
                time.sleep(fault.delay)
            if not _misbehave(self, fault, fault.body.encode(), slack._released):
                self._answer(fault.status, fault.body, fault.retry_after)

        def _answer(self, status: int, body: str, retry_after: str | None = None) -> None:
            _send(self, status, "text/plain", body.encode(), retry_after)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: tests and the demo print what matters

    return Handler


# --- the Web API (bot-token mode) ------------------------------------------------------------------------


@dataclass(frozen=True)
class ApiFault:
    status: int = 200
    error: str = "internal_error"
    retry_after: str | None = None
    mode: Mode = "answer"
    pace: float = 1.0


class LocalSlackApi(_LoopbackServer):
    """chat.postMessage / chat.update on 127.0.0.1 with Slack's answers: `ok`, `ts`, `channel`, errors."""

    def __init__(self, token: str = FAKE_BOT_TOKEN, channel_ids: dict[str, str] | None = None) -> None:
        self.token = token
        self.channel_ids = dict(channel_ids or DEFAULT_CHANNEL_IDS)
        self._lock = threading.Lock()
        self._counter = 0
        self._messages: dict[str, list[dict[str, Any]]] = defaultdict(list)  # channel id -> posts, in order
        self._updates: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self._responses: list[dict[str, Any]] = []  # posts to response URLs (answers to clicks), in order
        self._calls: list[str] = []
        self._faults: dict[str, deque[ApiFault]] = defaultdict(deque)  # method ("*": any) -> next answers
        self._uploads: dict[str, dict[str, Any]] = {}  # file id -> what getUploadURLExternal was told, and the bytes
        self._files: dict[str, list[dict[str, Any]]] = defaultdict(list)  # channel id -> files shared
        self.auth_failures = 0
        self.latency = 0.0  # seconds before every answer: makes concurrent clients overlap in tests
        super().__init__(_api_handler_for(self), "local-slack-api")

    @property
    def base_url(self) -> str:
        """The SLACK_API_BASE_URL (ends with /api/ like Slack's)."""
        return f"{self._origin}/api/"

    def channel_ids_json(self) -> str:
        """The JSON for SLACK_CHANNEL_IDS."""
        return json.dumps(self.channel_ids)

    # --- faults ---
    def rate_limit(self, *, times: int = 1, retry_after: str = "1", method: str = "*") -> None:
        """The next `times` calls (of `method`, default any) answer 429 + Retry-After, error `ratelimited`."""
        self.fail(method, status=429, error="ratelimited", retry_after=retry_after, times=times)

    def fail(
        self,
        method: str = "*",
        *,
        status: int = 200,
        error: str = "internal_error",
        retry_after: str | None = None,
        mode: Mode = "answer",
        pace: float = 1.0,
        times: int = 1,
    ) -> None:
        """The next `times` calls of `method` ("chat.update", "chat.postMessage", "*") answer `ok: false`
        (or misbehave as `mode` says, see Fault)."""
        with self._lock:
            self._faults[method].extend([ApiFault(status, error, retry_after, mode, pace)] * times)

    def clear_faults(self) -> None:
        """Slack is back: forget the faults not yet used."""
        with self._lock:
            self._faults.clear()
        self.release_stuck_answers()

    def delete_message(self, channel_id: str, ts: str) -> None:
        """Delete a message as a person in Slack would; its thread replies stay (Slack keeps them too),
        but the thread can no longer be replied to (thread_not_found) nor the message updated."""
        with self._lock:
            self._messages[channel_id] = [m for m in self._messages[channel_id] if m["ts"] != ts]

    # --- records ---
    def posts(self, channel_id: str) -> list[dict[str, Any]]:
        """Top-level messages of a channel (broadcast thread replies are not top-level), as last updated."""
        with self._lock:
            return [json.loads(json.dumps(m)) for m in self._messages[channel_id] if not m.get("thread_ts")]

    def replies(self, channel_id: str, thread_ts: str | None = None) -> list[dict[str, Any]]:
        """Thread replies of a channel (of one thread when thread_ts is given), in order."""
        with self._lock:
            return [
                json.loads(json.dumps(m))
                for m in self._messages[channel_id]
                if m.get("thread_ts") and (thread_ts is None or m["thread_ts"] == thread_ts)
            ]

    def updates(self, channel_id: str) -> list[dict[str, Any]]:
        """Every accepted chat.update of a channel (ts + new payload), in order."""
        with self._lock:
            return [json.loads(json.dumps(m)) for m in self._updates[channel_id]]

    def files(self, channel_id: str) -> list[dict[str, Any]]:
        """Files shared into a channel by files.completeUploadExternal: id, title, filename, bytes, thread_ts."""
        with self._lock:
            return [dict(item) for item in self._files[channel_id]]

    def calls(self) -> list[str]:
        """Every API method called (answered ok or not), in order."""
        with self._lock:
            return list(self._calls)

    def reset(self) -> None:
        with self._lock:
            self._messages.clear()
            self._updates.clear()
            self._responses.clear()
            self._calls.clear()
            self._faults.clear()
            self._uploads.clear()
            self._files.clear()
            self.auth_failures = 0
            self.latency = 0.0
        self.release_stuck_answers()

    def render_channel(self, channel_id: str) -> str:
        """The channel as a terminal shows it: each top-level message, then its thread indented."""
        lines: list[str] = []
        for post in self.posts(channel_id):
            lines.append(render_terminal(post))
            for reply in self.replies(channel_id, post["ts"]):
                marker = "  ↳ (also sent to the channel) " if reply.get("reply_broadcast") else "  ↳ "
                lines.append(marker + render_terminal(reply).replace("\n", "\n    "))
            lines.append("")
        return "\n".join(lines)

    # --- response URLs (answers to a click that only the clicking user sees) ---
    def response_url(self) -> str:
        """A response_url as Slack gives one with each click (https://hooks.slack.com/actions/... in Slack)."""
        with self._lock:
            self._counter += 1
            return f"{self._origin}/actions/T0LOCAL/{self._counter}/local{self._counter:06d}"

    def responses(self) -> list[dict[str, Any]]:
        """Every accepted post to a response URL (url + payload), in order."""
        with self._lock:
            return [json.loads(json.dumps(r)) for r in self._responses]

    def _respond(self, path: str, args: dict[str, Any]) -> tuple[int, dict[str, Any], str | None]:
        if not args.get("text"):
            return 200, {"ok": False, "error": "no_text"}, None
        with self._lock:
            self._responses.append({"url": f"{self._origin}{path}", **args})
        return 200, {"ok": True}, None

    # --- the API ---
    def _next_fault(self, method: str) -> ApiFault | None:
        with self._lock:
            self._calls.append(method)
            queue = self._faults[method] if self._faults[method] else self._faults["*"]
            return queue.popleft() if queue else None

    def _call(  # noqa: PLR0911 - one return per answer, as Slack gives them
        self, method: str, authorization: str | None, args: dict[str, Any]
    ) -> tuple[int, dict[str, Any], str | None]:
        if authorization != f"Bearer {self.token}":
            with self._lock:
                self.auth_failures += 1
            return 200, {"ok": False, "error": "not_authed" if not authorization else "invalid_auth"}, None
        if method == "files.getUploadURLExternal":
            return self._upload_url(args)
        if method == "files.completeUploadExternal":
            return self._complete_upload(args)
        channel = str(args.get("channel") or "")
        if channel not in self.channel_ids.values():
            return 200, {"ok": False, "error": "channel_not_found"}, None
        if not (args.get("text") or args.get("blocks") or args.get("attachments")):
            return 200, {"ok": False, "error": "no_text"}, None
        if method == "chat.postMessage":
            return self._post(channel, args)
        if method == "chat.update":
            return self._update(channel, args)
        return 200, {"ok": False, "error": "unknown_method"}, None

    def _post(self, channel: str, args: dict[str, Any]) -> tuple[int, dict[str, Any], str | None]:
        with self._lock:
            thread_ts = args.get("thread_ts")
            if thread_ts and not any(m["ts"] == thread_ts for m in self._messages[channel]):
                return 200, {"ok": False, "error": "thread_not_found"}, None
            self._counter += 1
            ts = f"{1_780_000_000 + self._counter}.{self._counter:06d}"
            message: dict[str, Any] = {k: args[k] for k in ("text", "blocks", "attachments", "thread_ts") if k in args}
            message.update({"ts": ts, "channel": channel, "reply_broadcast": bool(args.get("reply_broadcast"))})
            self._messages[channel].append(message)
        return 200, {"ok": True, "channel": channel, "ts": ts, "message": message}, None

    def _update(self, channel: str, args: dict[str, Any]) -> tuple[int, dict[str, Any], str | None]:
        with self._lock:
            ts = args.get("ts")
            message = next((m for m in self._messages[channel] if m["ts"] == ts), None)
            if message is None:
                return 200, {"ok": False, "error": "message_not_found"}, None
            for key in ("text", "blocks", "attachments"):
                if key in args:
                    message[key] = args[key]
            self._updates[channel].append(
                {"ts": ts, **{k: args[k] for k in ("text", "blocks", "attachments") if k in args}}
            )
        return 200, {"ok": True, "channel": channel, "ts": ts}, None

    # --- the external file upload (https://docs.slack.dev/messaging/working-with-files#upload) ---
    def _upload_url(self, args: dict[str, Any]) -> tuple[int, dict[str, Any], str | None]:
        length = str(args.get("length") or "")
        if not args.get("filename") or not length.isdigit() or int(length) <= 0:
            return 200, {"ok": False, "error": "invalid_arguments"}, None
        with self._lock:
            self._counter += 1
            file_id = f"F{self._counter:08d}"
            self._uploads[file_id] = {"filename": args["filename"], "length": int(length), "data": None}
        return 200, {"ok": True, "upload_url": f"{self._origin}/upload/{file_id}", "file_id": file_id}, None

    def _receive_upload(self, file_id: str, data: bytes) -> tuple[int, str]:
        """The POST of the bytes to the upload URL: 200 "OK - <length>" as Slack answers."""
        with self._lock:
            upload = self._uploads.get(file_id)
            if upload is None:
                return 404, "not found"
            upload["data"] = data
        return 200, f"OK - {len(data)}"

    def _complete_upload(self, args: dict[str, Any]) -> tuple[int, dict[str, Any], str | None]:
        files = args.get("files")
        files = json.loads(files) if isinstance(files, str) else files
        channel, thread_ts = str(args.get("channel_id") or ""), args.get("thread_ts")
        if not isinstance(files, list) or not files:
            return 200, {"ok": False, "error": "invalid_arguments"}, None
        if channel not in self.channel_ids.values():
            return 200, {"ok": False, "error": "channel_not_found"}, None
        with self._lock:
            uploads = [self._uploads.get(str(item.get("id"))) for item in files if isinstance(item, dict)]
            if len(uploads) != len(files) or any(u is None or u["data"] is None for u in uploads):
                return 200, {"ok": False, "error": "file_not_found"}, None
            if thread_ts and not any(m["ts"] == thread_ts for m in self._messages[channel]):
                return 200, {"ok": False, "error": "thread_not_found"}, None
            shared = []
            for item, upload in zip(files, uploads, strict=True):
                assert upload is not None
                entry = {"id": item["id"], "title": item.get("title") or upload["filename"],
                         "filename": upload["filename"], "bytes": upload["data"], "thread_ts": thread_ts}  # fmt: skip
                self._files[channel].append(entry)
                shared.append({"id": entry["id"], "title": entry["title"], "size": len(upload["data"])})
            self._counter += 1
            ts = f"{1_780_000_000 + self._counter}.{self._counter:06d}"
            text = " ".join(f"📎 {item['title']}" for item in shared)
            self._messages[channel].append(
                {
                    "text": text,
                    "ts": ts,
                    "channel": channel,
                    "thread_ts": thread_ts,
                    "files": shared,
                    "reply_broadcast": False,
                }
            )
        return 200, {"ok": True, "files": [{"id": item["id"], "title": item["title"]} for item in shared]}, None


def _api_args(content_type: str, body: bytes) -> dict[str, Any]:
    if content_type.startswith("application/json"):
        value = json.loads(body or b"{}")
        return value if isinstance(value, dict) else {}
    args: dict[str, Any] = {key: values[-1] for key, values in parse_qs(body.decode()).items()}
    for key in ("blocks", "attachments"):  # form-encoded clients send these as JSON strings
        if isinstance(args.get(key), str):
            args[key] = json.loads(args[key])
    return args


def _api_handler_for(api: LocalSlackApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            if self.path.startswith("/upload/"):  # the upload URL: no token, the URL is the credential
                status, said = api._receive_upload(self.path.removeprefix("/upload/"), body)
                _send(self, status, "text/plain", said.encode(), None)
                return
            path = self.path.split("?", 1)[0]
            method = "response_url" if path.startswith("/actions/") else path.removeprefix("/api/").strip("/")
            try:
                args = _api_args(self.headers.get("Content-Type") or "", body)
            except ValueError:
                self._answer(200, {"ok": False, "error": "invalid_json"})
                return
            if api.latency:
                time.sleep(api.latency)
            fault = api._next_fault(method)
            if fault is None and method == "response_url":  # no token: the URL itself is the credential
                self._answer(*api._respond(path, args))
                return
            if fault is None:
                self._answer(*api._call(method, self.headers.get("Authorization"), args))
                return
            answer = {"ok": False, "error": fault.error}
            misfit = Fault(fault.status, json.dumps(answer), fault.retry_after, mode=fault.mode, pace=fault.pace)
            if not _misbehave(self, misfit, misfit.body.encode(), api._released):
                self._answer(fault.status, answer, fault.retry_after)

        def _answer(self, status: int, answer: dict[str, Any], retry_after: str | None = None) -> None:
            _send(self, status, "application/json; charset=utf-8", json.dumps(answer).encode(), retry_after)

        def log_message(self, format: str, *args: Any) -> None:
            pass

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
        elif kind == "actions":  # buttons: a link button shows where it goes
            lines.append(
                "  "
                + "  ".join(
                    f"[{e.get('text', {}).get('text', '')}]" + (f" <{e['url']}>" if e.get("url") else "")
                    for e in block.get("elements") or []
                )
            )
    return "\n".join(lines)
