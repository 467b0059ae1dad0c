"""One HTTP request under one deadline: connect, TLS, sending, the status line, headers and body all end by it.

A socket timeout is not a deadline: CPython resets it on every read, so a server that trickles one byte
per second keeps `http.client` waiting for as long as it likes. Here every read of the response waits only
for the time left until the deadline, and the body is read at most `max_body` bytes, so an endless body ends
too. The synthetic monitor's probe (a GET with redirects) reads through the same `Deadline` and
`DeadlineSocket`.

Only the stdlib (`socket`, `ssl`, `http.client`): requests and urllib3 have no total deadline either, and
cost 60-100 ms of cold start. Not bounded: the DNS lookup inside `socket.create_connection` (the resolver
has its own timeouts; the callers' retries stop at their own deadline).

Failures are the caller's to word: TimeoutError (the deadline passed), OSError (refused, reset, TLS, DNS)
and NotHttp (the answer was not HTTP). Anything else is a bug and propagates as such.
`socket`, `ssl` and `http.client` (with the `email` package it parses headers with) cost about 30 ms to
import: they are imported by the first request, not by the cold start of a function that may not send one.
"""

from __future__ import annotations

import io
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    import socket
    import ssl

DEFAULT_MAX_BODY = 64 * 1024


class NotHttp(Exception):
    """What came back was not an HTTP answer (http.client.HTTPException, re-raised as ours)."""


TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (TimeoutError, OSError, NotHttp)


class Deadline:
    """A moment on the monotonic clock; `remaining()` is the time left, TimeoutError once it has passed."""

    def __init__(self, at: float) -> None:
        self.at = at

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        return cls(time.monotonic() + seconds)

    def remaining(self) -> float:
        left = self.at - time.monotonic()
        if left <= 0:
            raise TimeoutError("deadline passed")
        return left


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    headers: Mapping[str, str]  # lower-case names
    body: bytes  # at most max_body bytes of it


class DeadlineReader(io.RawIOBase):
    """The read side of a socket where every read waits at most until the deadline."""

    def __init__(self, sock: socket.socket, deadline: Deadline) -> None:
        self._sock = sock
        self._deadline = deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        self._sock.settimeout(self._deadline.remaining())
        return self._sock.recv_into(buffer)


class DeadlineSocket:
    """What http.client.HTTPResponse needs from a socket (makefile), bound to the deadline."""

    def __init__(self, sock: socket.socket, deadline: Deadline) -> None:
        self._reader = DeadlineReader(sock, deadline)

    def makefile(self, _mode: str) -> io.BufferedReader:
        return io.BufferedReader(self._reader)


def request(
    method: str,
    url: str,
    *,
    body: bytes,
    headers: Mapping[str, str],
    deadline: Deadline,
    max_body: int = DEFAULT_MAX_BODY,
    ssl_context: ssl.SSLContext | None = None,
) -> HttpAnswer:
    """Send one request (no redirects followed) and read its answer, all before `deadline`."""
    import http.client  # noqa: PLC0415 - see the module docstring
    import socket  # noqa: PLC0415
    import ssl  # noqa: PLC0415

    parts = urlsplit(url)
    https = parts.scheme == "https"
    host = parts.hostname or ""
    sock = socket.create_connection((host, parts.port or (443 if https else 80)), timeout=deadline.remaining())
    try:
        if https:
            # CPython bounds the whole handshake by the socket timeout
            sock.settimeout(deadline.remaining())
            sock = (ssl_context or ssl.create_default_context()).wrap_socket(sock, server_hostname=host)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        request_head = (
            f"{method} {target} HTTP/1.1\r\nHost: {parts.netloc.rpartition('@')[2]}\r\n{head}"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        sock.settimeout(deadline.remaining())  # since Python 3.5 a bound for the whole sendall
        sock.sendall(request_head.encode("latin-1") + body)
        response = http.client.HTTPResponse(DeadlineSocket(sock, deadline), method=method)  # type: ignore[arg-type]
        try:
            response.begin()
            data = response.read(max_body)
        except http.client.HTTPException as error:
            raise NotHttp(f"{type(error).__name__}: {error}"[:200]) from error
        finally:
            # Closed here, with its socket: left to its finalizer, it would flush a reader that the garbage
            # collector may have closed first (a traceback kept in a log record keeps it alive until then).
            response.close()
        return HttpAnswer(
            status=response.status, headers={name.lower(): value for name, value in response.getheaders()}, body=data
        )
    finally:
        sock.close()
