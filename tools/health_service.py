"""Reference health service: the contract the PeopleBooster backend must meet, runnable with faults.

Run it:  python -m tools.health_service --port 8080 [--tls] [--cert-days 90] [--metrics-shape node|report]
In tests: `with HealthService() as service: ...` (free port on 127.0.0.1; service.url).

The contract (JSON Schema: docs/health-contract.schema.json, the strict contract; the monitor's default,
tolerant contract accepts it and the other shapes of docs/health-contract-tolerant.schema.json; every
body is JSON, UTF-8):

  GET /health          200 with status "healthy" or "degraded", 503 with status "unhealthy":
                       {"status", "timestamp" (ISO 8601 UTC), "version", "uptime" (s),
                        "checks": {"database": {"status", "responseTime" (ms)},
                                   "redis":    {"status", "responseTime" (ms)},
                                   "externalServices": {"status", "services": {"openai": {"status"}, ...}}}}
                       Each status is "healthy", "degraded" or "unhealthy". The database or Redis
                       unhealthy makes the whole service unhealthy (503); an external service
                       unhealthy or degraded makes it degraded (200).
  GET /health/live     200 {"status": "ok"} while the process runs; consults no dependency.
  GET /health/ready    200 {"status": "ready"}, or 503 {"status": "not_ready"} while the database
                       or Redis is unhealthy.
  GET /health/metrics  200, in one of two shapes (`metrics_shape`):
                       "node" (the default): what an Express app serves from Node's own APIs, not the
                            report's field names: {"timestamp", "uptime": process.uptime() (s),
                            "memory": process.memoryUsage() {rss, heapTotal, heapUsed, external,
                            arrayBuffers} (bytes), "cpu": process.cpuUsage() {user, system} (us since start),
                            "system": {"totalmem", "freemem"} (os.totalmem()/os.freemem(), bytes), "loadavg"}
                       "report": {"timestamp", "uptime" (s), "cpu": {"usagePercent"},
                            "memory": {"usagePercent", "usedBytes", "totalBytes"}} (the strict contract)
  GET /                the front end: 200 text/html, a Next.js-like page holding `__NEXT_DATA__`

Every answer must arrive within the monitor's budgets (1 s; 2 s for /health) and be under 1 MiB.

Faults, switchable at run time with the Python API (`service.set_faults(database="unhealthy")`,
`service.reset()`) or over HTTP (`POST /__fault` with the same fields as JSON, `POST /__reset`,
`GET /__fault`):

  database, redis      "healthy" | "degraded" | "unhealthy"
  external             {"openai": "unhealthy", ...}: external services not healthy
  delay_ms             every endpoint answers this much later (slow)
  endpoints            {"/health/live": FAULT, ...} with FAULT one of
                       "500", "503"      that status with a plain-text body (like a load balancer)
                       "down"            the connection is closed without a response
                       "hang"            the request is read and never answered
                       "trickle"         200 headers, then one body byte every 100 ms, forever
                       "huge"            a 2 MiB body, streamed without Content-Length
                       "invalid_json"    200 with a truncated JSON body

TLS: `HealthService(tls=True, cert_days=N)` (or --tls) serves https with a self-signed certificate
for 127.0.0.1/localhost made at start-up with the `cryptography` package (installed with the dev
requirements); `service.cert_file` is its PEM, for a client that should trust it.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import ipaddress
import json
import os
import resource
import shutil
import socket
import ssl
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

Status = Literal["healthy", "degraded", "unhealthy"]
EndpointFault = Literal["500", "503", "down", "hang", "trickle", "huge", "invalid_json"]
MetricsShape = Literal["node", "report"]
STATUSES: tuple[str, ...] = ("healthy", "degraded", "unhealthy")
ENDPOINT_FAULTS: tuple[str, ...] = ("500", "503", "down", "hang", "trickle", "huge", "invalid_json")
METRICS_SHAPES: tuple[str, ...] = ("node", "report")
ENDPOINTS = ("/health", "/health/live", "/health/ready", "/health/metrics", "/")
FRONT_PAGE_MARKER = "__NEXT_DATA__"
FRONT_PAGE = (
    '<!DOCTYPE html><html lang="ja"><head><meta charset="utf-8"><title>PeopleBooster</title></head>'
    '<body><div id="__next"><main>PeopleBooster</main></div>'
    f'<script id="{FRONT_PAGE_MARKER}" type="application/json">'
    '{"props":{"pageProps":{}},"page":"/","query":{},"buildId":"reference"}</script></body></html>'
).encode()
EXTERNAL_SERVICES = ("openai", "stripe", "s3")
HUGE_BODY_BYTES = 2 * 1024 * 1024
TRICKLE_INTERVAL_S = 0.1


@dataclass(frozen=True)
class Faults:
    database: Status = "healthy"
    redis: Status = "healthy"
    external: dict[str, Status] = field(default_factory=dict)
    delay_ms: int = 0
    endpoints: dict[str, EndpointFault] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, raw: Any) -> Faults:
        """Validate a JSON fault description; ValueError names the bad field."""
        if not isinstance(raw, dict):
            raise ValueError("expected a JSON object")
        unknown = set(raw) - {"database", "redis", "external", "delay_ms", "endpoints"}
        if unknown:
            raise ValueError(f"unknown field(s): {', '.join(sorted(unknown))}")
        for key in ("database", "redis"):
            if raw.get(key, "healthy") not in STATUSES:
                raise ValueError(f"{key}: use one of {', '.join(STATUSES)}")
        external = raw.get("external", {})
        if not isinstance(external, dict) or any(
            name not in EXTERNAL_SERVICES or status not in STATUSES for name, status in external.items()
        ):
            raise ValueError(f"external: map of {', '.join(EXTERNAL_SERVICES)} to a status")
        delay = raw.get("delay_ms", 0)
        if not isinstance(delay, int) or isinstance(delay, bool) or not 0 <= delay <= 600_000:
            raise ValueError("delay_ms: an integer from 0 to 600000")
        endpoints = raw.get("endpoints", {})
        if not isinstance(endpoints, dict) or any(
            path not in ENDPOINTS or fault not in ENDPOINT_FAULTS for path, fault in endpoints.items()
        ):
            raise ValueError(f"endpoints: map of {', '.join(ENDPOINTS)} to one of {', '.join(ENDPOINT_FAULTS)}")
        return cls(
            database=raw.get("database", "healthy"),
            redis=raw.get("redis", "healthy"),
            external=dict(external),
            delay_ms=delay,
            endpoints=dict(endpoints),
        )


def health_body(faults: Faults, *, uptime: float, version: str) -> tuple[int, dict[str, Any]]:
    """The /health answer for these faults: (HTTP status, body)."""
    services = {name: {"status": faults.external.get(name, "healthy")} for name in EXTERNAL_SERVICES}
    external_ok = all(entry["status"] == "healthy" for entry in services.values())
    core = (faults.database, faults.redis)
    if "unhealthy" in core:
        status = "unhealthy"
    elif "degraded" in core or not external_ok:
        status = "degraded"
    else:
        status = "healthy"
    body = {
        "status": status,
        "timestamp": _now_iso(),
        "version": version,
        "uptime": round(uptime),
        "checks": {
            "database": {"status": faults.database, "responseTime": 5},
            "redis": {"status": faults.redis, "responseTime": 2},
            "externalServices": {"status": "healthy" if external_ok else "degraded", "services": services},
        },
    }
    return (503 if status == "unhealthy" else 200), body


def metrics_body(*, uptime: float, cpu_seconds: float, shape: MetricsShape = "node") -> dict[str, Any]:
    """This process's numbers in the given shape (see the module doc)."""
    page = os.sysconf("SC_PAGE_SIZE")
    total = page * os.sysconf("SC_PHYS_PAGES")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = usage.ru_maxrss * 1024  # kB on Linux
    if shape == "node":
        return {
            "timestamp": _now_iso(),
            "uptime": round(uptime, 3),
            # A Python process has no V8 heap: heapTotal/heapUsed are stand-ins of the right type and size order.
            "memory": {"rss": used, "heapTotal": used // 2, "heapUsed": used // 3, "external": 0, "arrayBuffers": 0},
            "cpu": {"user": round(usage.ru_utime * 1e6), "system": round(usage.ru_stime * 1e6)},
            "system": {"totalmem": total, "freemem": page * os.sysconf("SC_AVPHYS_PAGES")},
            "loadavg": [round(load, 2) for load in os.getloadavg()],
        }
    cpu = cpu_seconds / max(uptime, 1e-3) / (os.cpu_count() or 1) * 100
    return {
        "timestamp": _now_iso(),
        "uptime": round(uptime, 3),
        "cpu": {"usagePercent": round(cpu, 2)},
        "memory": {"usagePercent": round(used / total * 100, 2), "usedBytes": used, "totalBytes": total},
    }


def _now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a hung or trickling handler must not block stop()
    request_queue_size = 128  # socketserver's default backlog of 5 drops bursts of parallel probes

    def __init__(self, address: tuple[str, int], service: HealthService) -> None:
        super().__init__(address, _Handler)
        self.service = service

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that give up (the monitor's deadline) or reject the certificate are expected here."""


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    timeout = 10  # a client that connects and sends nothing cannot hold a thread forever

    def setup(self) -> None:
        context = self.server.service.ssl_context
        if context is not None:
            self.request.settimeout(self.timeout)
            self.request = context.wrap_socket(self.request, server_side=True)
        super().setup()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests and the demo read their own output."""

    def do_GET(self) -> None:
        service = self.server.service
        faults = service.faults
        if self.path == "/__fault":
            self._json(200, asdict(faults))
            return
        if self.path not in ENDPOINTS:
            self._json(404, {"error": "not found"})
            return
        if faults.delay_ms and service.stopping.wait(faults.delay_ms / 1000):
            return
        fault = faults.endpoints.get(self.path)
        if fault is not None:
            self._fault(fault)
            return
        uptime = time.monotonic() - service.started
        if self.path == "/":
            self._send(200, FRONT_PAGE, "text/html; charset=utf-8")
        elif self.path == "/health":
            self._json(*health_body(faults, uptime=uptime, version=service.version))
        elif self.path == "/health/live":
            self._json(200, {"status": "ok"})
        elif self.path == "/health/ready":
            ready = "unhealthy" not in (faults.database, faults.redis)
            self._json(200 if ready else 503, {"status": "ready" if ready else "not_ready"})
        else:
            cpu_seconds = time.process_time() - service.cpu_started
            self._json(200, metrics_body(uptime=uptime, cpu_seconds=cpu_seconds, shape=service.metrics_shape))

    def do_POST(self) -> None:
        service = self.server.service
        if self.path == "/__reset":
            self._json(200, asdict(service.reset()))
            return
        if self.path != "/__fault":
            self._json(404, {"error": "not found"})
            return
        length = int(self.headers.get("Content-Length") or 0)
        try:
            faults = Faults.from_dict(json.loads(self.rfile.read(length) or b"{}"))
        except ValueError as error:
            self._json(400, {"error": str(error)})
            return
        self._json(200, asdict(service.set_faults(faults)))

    def _fault(self, fault: EndpointFault) -> None:
        stopping = self.server.service.stopping
        if fault in ("500", "503"):
            self._send(int(fault), b"Service Unavailable" if fault == "503" else b"Internal Server Error", "text/plain")
        elif fault == "down":
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
        elif fault == "hang":
            stopping.wait()
        elif fault == "trickle":
            self._head(200, "application/json", length=100_000)
            while not stopping.wait(TRICKLE_INTERVAL_S):
                self.wfile.write(b" ")
                self.wfile.flush()
        elif fault == "huge":
            self._head(200, "application/json", length=None)
            self.wfile.write(b'{"padding": "' + b"x" * HUGE_BODY_BYTES + b'"}')
        else:
            self._send(200, b'{"status": "healthy", "checks": {', "application/json")

    def _json(self, status: int, body: dict[str, Any]) -> None:
        self._send(status, json.dumps(body).encode(), "application/json")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self._head(status, content_type, length=len(body))
        self.wfile.write(body)

    def _head(self, status: int, content_type: str, *, length: int | None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if length is not None:
            self.send_header("Content-Length", str(length))
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True


class HealthService:
    """The reference service on 127.0.0.1; a context manager, or start()/stop()."""

    def __init__(
        self,
        port: int = 0,
        *,
        tls: bool = False,
        cert_days: int = 90,
        version: str = "1.0.0",
        metrics_shape: MetricsShape = "node",
    ) -> None:
        self.version = version
        self.metrics_shape = metrics_shape
        self.started = time.monotonic()
        self.cpu_started = time.process_time()
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._faults = Faults()
        self._cert_dir: Path | None = None
        self.cert_file: Path | None = None
        self.ssl_context: ssl.SSLContext | None = None
        if tls:
            self._cert_dir = Path(tempfile.mkdtemp(prefix="health-service-"))
            self.cert_file, key_file = _self_signed(self._cert_dir, days=cert_days)
            self.ssl_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.ssl_context.load_cert_chain(self.cert_file, key_file)
        self._server = _Server(("127.0.0.1", port), self)
        # A short poll interval makes stop() quick (the default 0.5 s adds up over a test suite).
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="health-service", daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"{'https' if self.ssl_context else 'http'}://127.0.0.1:{self.port}"

    @property
    def faults(self) -> Faults:
        with self._lock:
            return self._faults

    def set_faults(self, faults: Faults | None = None, **changes: Any) -> Faults:
        """Replace the faults (`set_faults(Faults(...))`) or change some fields (`set_faults(redis="unhealthy")`)."""
        with self._lock:
            base = faults if faults is not None else self._faults
            self._faults = Faults.from_dict({**asdict(base), **changes})
            return self._faults

    def reset(self) -> Faults:
        return self.set_faults(Faults())

    def start(self) -> HealthService:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()  # releases hanging, trickling and delayed handlers
        self._server.shutdown()
        self._server.server_close()
        if self._cert_dir is not None:
            shutil.rmtree(self._cert_dir, ignore_errors=True)

    def __enter__(self) -> HealthService:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _self_signed(directory: Path, *, days: int) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost, valid `days` from now."""
    from cryptography import x509  # noqa: PLC0415 - a dev dependency, only for TLS mode
    from cryptography.hazmat.primitives import hashes, serialization  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import ec  # noqa: PLC0415
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID  # noqa: PLC0415

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    public = key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--tls", action="store_true", help="https with a self-signed certificate")
    parser.add_argument("--cert-days", type=int, default=90)
    parser.add_argument(
        "--metrics-shape", choices=METRICS_SHAPES, default="node", help="/health/metrics field names (module doc)"
    )
    parser.add_argument("--faults", default="{}", help='initial faults as JSON, e.g. \'{"redis": "unhealthy"}\'')
    args = parser.parse_args(argv)
    service = HealthService(args.port, tls=args.tls, cert_days=args.cert_days, metrics_shape=args.metrics_shape)
    service.set_faults(Faults.from_dict(json.loads(args.faults)))
    with service:
        print(f"health service on {service.url} (faults: POST {service.url}/__fault); Ctrl-C stops it", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
