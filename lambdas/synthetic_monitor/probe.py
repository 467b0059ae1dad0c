"""HTTP probing with hard time bounds: the I/O edge of the synthetic monitor.

Guarantees, whatever the server does (hang, trickle one byte at a time, stream gigabytes):
- one deadline per request covers connect, TLS handshake, headers and body. Every socket read gets
  only the time left until that deadline (not a fresh per-read timeout), so a trickling server
  cannot stretch a request past it;
- the body is read at most MAX_BODY_BYTES (+1 to notice the excess); redirects at most MAX_REDIRECTS,
  only to the check's own host (or its `redirect_hosts`) and never to a link-local, loopback, metadata or
  unspecified address unless the check's own URL is one (redirects.py). Every host is resolved once and
  the probe connects to the checked addresses, so a name rebound between check and connect changes nothing;
- all probes of a run run in parallel threads, and `probe_all` returns by the run deadline even if a
  thread is stuck where no socket timeout reaches (a DNS lookup): that probe reports a timeout;
- whatever one target answers (a malformed redirect, an https->http downgrade, a certificate date the
  stdlib cannot parse), its probe ends in a failed Response: one bad target never stops the run, because
  a run without metrics makes every CheckSuccess alarm (missing = breaching) page.

Only stdlib (http.client, ssl): requests has no total deadline and costs ~60 ms of cold start.
TLS is always verified against the system trust store (or the given context).
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from aws_lambda_powertools import Logger

from lambdas.shared.deadline_http import Deadline, DeadlineSocket
from lambdas.shared.urls import without_credentials
from lambdas.synthetic_monitor.checks import Response
from lambdas.synthetic_monitor.redirects import address_kind, address_refusal, host_refusal, is_address

MAX_BODY_BYTES = 1 << 20
MAX_REDIRECTS = 3
USER_AGENT = "PeopleBooster-SyntheticMonitor/1.0"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024
# Time for a stuck thread's own deadline to fire before probe_all gives up on it.
_JOIN_GRACE_S = 0.2

# A child of the handler's Logger (same service); ERROR records also reach Sentry's logging integration.
logger = Logger(service="synthetic-monitor", child=True)


@dataclass(frozen=True, slots=True)
class Target:
    url: str
    timeout_ms: int
    redirect_hosts: frozenset[str] = frozenset()  # hosts besides the URL's own that a redirect may reach


class _Failure(Exception):
    """A failure worded by the probe itself (body too large, redirects, invalid URL)."""


class _RedirectRefused(_Failure):
    """A redirect the policy refuses (redirects.py); logged, then a failed check like any _Failure."""


# (family, socket address) pairs, in the resolver's order.
Addresses = list[tuple[socket.AddressFamily, tuple[object, ...]]]


def default_ssl_context() -> ssl.SSLContext:
    return ssl.create_default_context()


def probe(target: Target, *, deadline_ms: int | None = None, ssl_context: ssl.SSLContext | None = None) -> Response:
    """GET target.url within min(target.timeout_ms, deadline_ms); every failure is a worded Response.

    A failure nobody foresaw is still this target's failure, not the run's: it is logged at ERROR with
    its type (so Sentry and the logs show the monitor needs a fix) and reported as `probe error (<type>)`.
    """
    budget_ms = min(target.timeout_ms, deadline_ms) if deadline_ms is not None else target.timeout_ms
    started = time.monotonic()
    deadline = Deadline(started + budget_ms / 1000)
    statuses: list[int] = []  # the status line, when one arrived before a failure
    try:
        body, not_after, content_type = _get(target, deadline, ssl_context, statuses)
    except _RedirectRefused as error:
        logger.warning("redirect refused", extra={"target": without_credentials(target.url), "reason": str(error)})
        reason = str(error)
    except (OSError, http.client.HTTPException, _Failure) as error:
        reason = _describe(error, budget_ms)
    except Exception as error:  # see the docstring: one target must not end the run
        logger.exception(
            "unexpected probe failure",
            extra={"error_type": type(error).__name__, "target": without_credentials(target.url)},
        )
        reason = f"probe error ({type(error).__name__})"
    else:
        latency = (time.monotonic() - started) * 1000
        return Response(
            target.url, statuses[-1], body, latency, certificate_not_after=not_after, content_type=content_type
        )
    elapsed = (time.monotonic() - started) * 1000
    status = statuses[-1] if statuses else None
    return Response(target.url, status, b"", elapsed, error=reason)


def _get(
    target: Target, deadline: Deadline, ssl_context: ssl.SSLContext | None, statuses: list[int]
) -> tuple[bytes, float | None, str | None]:
    """(body, certificate notAfter, Content-Type) of the final answer, after the redirects the policy allows."""
    url = target.url
    _check_url(url, failure="invalid URL")
    origin_host = urlsplit(url).hostname or ""
    addresses = _resolve(url)
    # The kinds of address the check itself lives on stay allowed for its redirects (127.0.0.1 locally).
    origin_kinds = frozenset(kind for _, sockaddr in addresses if (kind := address_kind(str(sockaddr[0]))))
    for _ in range(MAX_REDIRECTS + 1):
        sock, not_after = _connect(url, addresses, deadline, ssl_context)
        with sock:
            response = _send(sock, url, deadline)
            statuses.append(response.status)
            location = response.getheader("Location")
            if response.status not in _REDIRECTS or not location:
                return _read_capped(response), not_after, response.getheader("Content-Type")
        url = _redirect_target(url, location)
        addresses = _allowed_addresses(url, origin_host, target.redirect_hosts, origin_kinds)
    raise _Failure(f"more than {MAX_REDIRECTS} redirects")


def _allowed_addresses(
    url: str, origin_host: str, allowed_hosts: frozenset[str], origin_kinds: frozenset[str]
) -> Addresses:
    """The addresses to connect to for a redirect target, once the policy allows them (else _RedirectRefused).

    An address literal is judged before its host name, so a redirect to 169.254.169.254 says what it is.
    """
    host = urlsplit(url).hostname or ""
    if is_address(host) and (refusal := address_refusal(host, [host], origin_kinds=origin_kinds)):
        raise _RedirectRefused(refusal)
    if refusal := host_refusal(host, origin_host=origin_host, allowed_hosts=allowed_hosts):
        raise _RedirectRefused(refusal)
    addresses = _resolve(url)
    if refusal := address_refusal(host, [str(sockaddr[0]) for _, sockaddr in addresses], origin_kinds=origin_kinds):
        raise _RedirectRefused(refusal)
    return addresses


def _resolve(url: str) -> Addresses:
    """Every address of the URL's host (one DNS lookup); socket.gaierror when there is none."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    found = socket.getaddrinfo(parts.hostname or "", port, type=socket.SOCK_STREAM)
    return [(family, sockaddr) for family, _, _, _, sockaddr in found]


def _redirect_target(url: str, location: str) -> str:
    try:
        target = urljoin(url, location)
    except ValueError as error:  # an unbalanced "[" in the host
        raise _Failure("invalid redirect") from error
    scheme = urlsplit(target).scheme
    if scheme not in ("http", "https"):
        raise _Failure(f"redirect to unsupported URL {without_credentials(target)}")
    # The TLS check belongs to the final answer too: following a downgrade would report an https
    # check as fine while its answer came over plain http.
    if urlsplit(url).scheme == "https" and scheme == "http":
        raise _Failure("redirect from https to http refused")
    _check_url(target, failure="invalid redirect")
    return target


def _check_url(url: str, *, failure: str) -> None:
    """What _connect and _send need: ASCII (the request line is), a host, a port in range."""
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError when out of range or not a number
    except ValueError as error:
        raise _Failure(failure) from error
    if not url.isascii() or not parts.hostname:
        raise _Failure(failure)


_WORDING: tuple[tuple[type[BaseException], str], ...] = (
    (ssl.SSLCertVerificationError, "TLS verify failed"),
    (ConnectionRefusedError, "connection refused"),
    (socket.gaierror, "DNS lookup failed"),
    (http.client.RemoteDisconnected, "connection closed without response"),
    (ConnectionResetError, "connection reset"),
)


def _describe(error: BaseException, budget_ms: int) -> str:
    """The reason a human reads in the alert: short, stable (no addresses or errno noise)."""
    if isinstance(error, TimeoutError):
        return f"timeout after {budget_ms} ms"
    if isinstance(error, _Failure):
        return str(error)
    for kind, wording in _WORDING:
        if isinstance(error, kind):
            return wording
    if isinstance(error, ssl.SSLError):
        return f"TLS error ({error.reason or 'handshake failed'})"
    if isinstance(error, http.client.HTTPException):
        return f"invalid HTTP response ({type(error).__name__})"
    strerror = error.strerror if isinstance(error, OSError) else None
    return f"network error ({strerror or type(error).__name__})"


def _open(addresses: Addresses, deadline: Deadline) -> socket.socket:
    """A TCP connection to the first of `addresses` that answers (like socket.create_connection, but to
    addresses already resolved and checked)."""
    failure: OSError = OSError("no address to connect to")
    for family, sockaddr in addresses:
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.settimeout(deadline.remaining())
            sock.connect(sockaddr)
        except OSError as error:
            sock.close()
            if isinstance(error, TimeoutError):
                raise
            failure = error
        except BaseException:
            sock.close()
            raise
        else:
            return sock
    raise failure


def _connect(
    url: str, addresses: Addresses, deadline: Deadline, ssl_context: ssl.SSLContext | None
) -> tuple[socket.socket, float | None]:
    parts = urlsplit(url)
    https = parts.scheme == "https"
    host = parts.hostname or ""
    sock = _open(addresses, deadline)
    if not https:
        return sock, None
    try:
        # CPython bounds the whole handshake by the socket timeout, not each record.
        sock.settimeout(deadline.remaining())
        tls = (ssl_context or default_ssl_context()).wrap_socket(sock, server_hostname=host)
    except BaseException:
        sock.close()
        raise
    not_after = (tls.getpeercert() or {}).get("notAfter")
    return tls, ssl.cert_time_to_seconds(not_after) if isinstance(not_after, str) else None


def _send(sock: socket.socket, url: str, deadline: Deadline) -> http.client.HTTPResponse:
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host = parts.netloc.rpartition("@")[2]  # never send userinfo
    request = (
        f"GET {target} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {USER_AGENT}\r\n"
        "Accept: application/json, */*;q=0.5\r\nConnection: close\r\n\r\n"
    )
    sock.settimeout(deadline.remaining())
    sock.sendall(request.encode("ascii"))
    response = http.client.HTTPResponse(DeadlineSocket(sock, deadline), method="GET")  # type: ignore[arg-type]
    response.begin()
    return response


def _read_capped(response: http.client.HTTPResponse) -> bytes:
    declared = response.getheader("Content-Length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _Failure("body over 1 MiB")
    chunks: list[bytes] = []
    size = 0
    while chunk := response.read(_CHUNK):
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _Failure("body over 1 MiB")
        chunks.append(chunk)
    return b"".join(chunks)


def probe_all(
    targets: Sequence[Target], *, run_deadline_ms: int, ssl_context: ssl.SSLContext | None = None
) -> list[Response]:
    """Probe every target in parallel; return, in order, by run_deadline_ms (+ a short grace) at the latest.

    probe() turns every Exception into a failed Response; anything that still escapes a thread (a bug
    in probe's own error path, a BaseException) is re-raised here rather than passed off as a result.
    """
    started = time.monotonic()
    context = ssl_context
    if context is None and any(t.url.startswith("https:") for t in targets):
        context = default_ssl_context()  # once per run: loading the trust store costs a few ms
    outcomes: list[Response | BaseException | None] = [None] * len(targets)

    def run(index: int) -> None:
        try:
            outcomes[index] = probe(targets[index], deadline_ms=run_deadline_ms, ssl_context=context)
        except BaseException as error:  # handed to the caller's thread below
            outcomes[index] = error

    # Daemon threads: one stuck in a DNS lookup must not hold up the run or the process exit.
    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(len(targets))]
    for thread in threads:
        thread.start()
    give_up_at = started + run_deadline_ms / 1000 + _JOIN_GRACE_S
    for thread in threads:
        thread.join(max(0.0, give_up_at - time.monotonic()))

    responses: list[Response] = []
    for target, outcome in zip(targets, outcomes, strict=True):
        if isinstance(outcome, BaseException):
            raise outcome
        if outcome is None:
            budget = min(target.timeout_ms, run_deadline_ms)
            elapsed = (time.monotonic() - started) * 1000
            responses.append(Response(target.url, None, b"", elapsed, error=f"timeout after {budget} ms"))
        else:
            responses.append(outcome)
    return responses
