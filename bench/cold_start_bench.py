"""Cold start of the alert router as deployed, side by side with terraform-aws-notify-slack's Lambda.

    .venv/bin/python -m bench.cold_start_bench [--runs 9]

Each run is a fresh `python` process that imports a handler and handles one SNS CloudWatch alarm event, timed
inside the process (import, first event) and from outside (the whole process, interpreter start included).
Runs of every variant are interleaved, so a busy moment of this shared machine hits all of them; medians
and the ratio to the peer are printed. A second table prices what the first event imports, each statement
in fresh processes against the asset (median time over an empty `python -c pass`).

The router runs from an asset built as `make synth` builds it (infra/packaging.py: the locked wheels, bytecode
compiled for the runtime's Python), for this machine's CPU, with the environment and tracing mode that the
synthesized staging template gives its function. Nothing leaves 127.0.0.1:
- Secrets Manager and DynamoDB are a moto server; boto3 finds it through AWS_ENDPOINT_URL. The router's three
  calls (GetSecretValue, then the idempotency record's PutItem and UpdateItem) cost moto's own work, which AWS
  does not charge to the function: the "AWS answered at once" variants point AWS_ENDPOINT_URL at a loopback
  server that answers each call from memory instead, so that what is left is the function's own work
  ("with no AWS calls", issue 12);
- hooks.slack.com resolves to a loopback HTTPS server (a certificate for hooks.slack.com from a throw-away CA
  that the child trusts through SSL_CERT_FILE), so both functions post over TLS as they do deployed;
- the X-Ray variables Lambda sets for active tracing are set too, the daemon address on 127.0.0.1.

The peer (functions/notify_slack.py) is read from a fetched copy of github:terraform-aws-modules/
terraform-aws-notify-slack at run time and never committed: set NOTIFY_SLACK_REPO to its git directory or
checkout, or fetch it into /work/.mirror. Without it the peer is not measured and the bench says how to get it.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import glob
import io
import json
import logging
import os
import platform
import shutil
import ssl
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EVENT = ROOT / "events" / "alert_router" / "sns_metric_alarm_ecs_cpu.json"
WORK = ROOT / "build" / "cold-start-bench"
ROUTER_HANDLER = "lambdas.alert_router.handler.lambda_handler"  # the contract path, as in the template
PEER_REPO = "terraform-aws-modules/terraform-aws-notify-slack"
PEER_FILE = "functions/notify_slack.py"
PEER_MIRRORS = ("/work/.mirror/terraform-aws-modules+terraform-aws-notify-slack/repo",)
SLACK_HOST = "hooks.slack.com"
PEER_PATH = "/services/T000/B000/peer"
PEER_WEBHOOK = f"https://{SLACK_HOST}{PEER_PATH}"
GOAL_RATIO = 0.8  # router / peer, import plus one event (issue 12)
AT_ONCE = "router, AWS answered at once"
ROUTER_SECRET = json.dumps(
    {
        channel: f"https://{SLACK_HOST}/services/T000/B000/{channel}"
        for channel in ("alerts-critical", "alerts-errors", "alerts-performance")
    }
)

# The child: loopback name resolution for Slack is set up before the clock starts; then import + one event.
_CHILD = """
import importlib, json, os, socket, sys, time
_resolve = socket.getaddrinfo
_slack_port = int(os.environ["BENCH_SLACK_PORT"])
def _loopback(host, port, *args, **kwargs):
    if host == "hooks.slack.com":
        return _resolve("127.0.0.1", _slack_port, *args, **kwargs)
    return _resolve(host, port, *args, **kwargs)
socket.getaddrinfo = _loopback
class Context:  # what Lambda hands the handler; defined here so neither side imports anything before the clock
    function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
    memory_limit_in_mb = 256
    aws_request_id = "5e7f1a52-0000-4000-8000-000000000001"
    invoked_function_arn = "arn:aws:lambda:ap-northeast-1:123456789012:function:" + function_name
    log_group_name = "/aws/lambda/" + function_name
    log_stream_name = "bench"
    function_version = "$LATEST"
    deadline = time.monotonic() + 30
    def get_remaining_time_in_millis(self):
        return int((self.deadline - time.monotonic()) * 1000)
event = json.loads(open(sys.argv[2]).read())
for record in event["Records"]:  # a new message each run, or the idempotency table answers "duplicate"
    record["Sns"]["MessageId"] = os.urandom(16).hex()
context = Context()
start = time.perf_counter()
module_name, _, function_name = sys.argv[1].rpartition(".")
handler = getattr(importlib.import_module(module_name), function_name)
imported = time.perf_counter()
handler(event, context)
done = time.perf_counter()
timing = {"import_ms": (imported - start) * 1000, "total_ms": (done - start) * 1000}
sys.stderr.write("BENCH " + json.dumps(timing) + "\\n")
"""


@dataclass
class Variant:
    name: str
    handler: str
    path: list[Path]  # PYTHONPATH: the asset (or the peer's folder) first, as /var/task is in Lambda
    env: dict[str, str]
    samples: list[dict[str, float]] = field(default_factory=list)

    def median(self, key: str) -> float:
        return statistics.median(sample[key] for sample in self.samples)


# --- loopback Slack over TLS --------------------------------------------------------------------------------


def _certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A throw-away CA and a hooks.slack.com certificate it signs: (ca.pem, cert.pem, key.pem)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cold-start bench CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, SLACK_HOST)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(SLACK_HOST)]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return paths


class _Slack(ThreadingHTTPServer):
    """Answers every webhook POST `ok` over TLS and counts the posts per path."""

    daemon_threads = True

    def __init__(self, cert: Path, key: Path) -> None:
        self.posts: dict[str, int] = {}
        self._lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _SlackHandler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.socket = context.wrap_socket(self.socket, server_side=True)

    def count(self, path: str) -> None:
        with self._lock:
            self.posts[path] = self.posts.get(path, 0) + 1


class _SlackHandler(BaseHTTPRequestHandler):
    server: _Slack

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.count(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def _serving(server: ThreadingHTTPServer) -> Iterator[int]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


# --- AWS answered at once ------------------------------------------------------------------------------------


class _CannedAws(ThreadingHTTPServer):
    """Answers the JSON-protocol calls the two functions make (by X-Amz-Target) from memory, at once, and counts
    them; any other call is answered with an error and fails the bench, so a new call cannot go unseen."""

    daemon_threads = True

    def __init__(self, answers: Mapping[str, dict[str, Any]]) -> None:
        self.answers = dict(answers)
        self.calls: dict[str, int] = {}
        self.unexpected: list[str] = []
        self._lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _CannedAwsHandler)

    def answer(self, target: str) -> dict[str, Any] | None:
        with self._lock:
            if target not in self.answers:
                self.unexpected.append(target)
                return None
            self.calls[target] = self.calls.get(target, 0) + 1
            return self.answers[target]


class _CannedAwsHandler(BaseHTTPRequestHandler):
    server: _CannedAws
    protocol_version = "HTTP/1.1"  # keep-alive, as AWS endpoints answer

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        target = self.headers.get("X-Amz-Target", "")
        answer = self.server.answer(target)
        status, body = (200, answer) if answer is not None else (400, {"__type": "UnknownOperationException"})
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _canned_answers(secret_arn: str, secret_string: str) -> dict[str, dict[str, Any]]:
    """What AWS answers to each call (shapes from the Secrets Manager, DynamoDB and KMS API references)."""
    return {
        "secretsmanager.GetSecretValue": {
            "ARN": secret_arn,
            "Name": secret_arn.rpartition(":")[2],
            "VersionId": "00000000-0000-4000-8000-000000000001",
            "SecretString": secret_string,
            "VersionStages": ["AWSCURRENT"],
            "CreatedDate": 1_796_000_000,
        },
        "DynamoDB_20120810.PutItem": {},  # the idempotency record claimed (INPROGRESS)
        "DynamoDB_20120810.UpdateItem": {},  # and completed with the result
        "TrentService.Decrypt": {  # the peer's KMS-encrypted webhook
            "KeyId": "arn:aws:kms:ap-northeast-1:123456789012:key/00000000-0000-4000-8000-000000000002",
            "Plaintext": base64.b64encode(PEER_WEBHOOK.encode()).decode(),
            "EncryptionAlgorithm": "SYMMETRIC_DEFAULT",
        },
    }


# --- the router as deployed ---------------------------------------------------------------------------------


def _deployed_function(handler: str) -> dict[str, Any]:
    """The synthesized staging template's function with this handler (no bundling: only its properties)."""
    from infra.app_builder import build_app

    with tempfile.TemporaryDirectory() as outdir:
        assembly = build_app("staging", outdir=outdir, bundle_assets=False).synth()
        template = assembly.stacks[0].template
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Lambda::Function" and resource["Properties"]["Handler"] == handler:
            properties: dict[str, Any] = resource["Properties"]
            return properties
    raise SystemExit(f"no function with handler {handler} in the staging template")


def _aws_resources(endpoint: str) -> tuple[dict[str, str], str]:
    """The router's secret and tables in the moto server (values for the template's references), and the
    peer's webhook URL encrypted with a KMS key, as its `kms_key_arn` option deploys it."""
    import boto3

    from tests.aws_tables import (
        FAKE_CREDENTIALS,
        IDEMPOTENCY_TABLE,
        INCIDENT_TABLE,
        REGION,
        RESULTS_TABLE,
        create_table,
    )

    session = boto3.session.Session(
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        region_name=REGION,
    )
    secret = session.client("secretsmanager", endpoint_url=endpoint).create_secret(
        Name="bench-router-webhooks", SecretString=ROUTER_SECRET
    )
    dynamodb = session.client("dynamodb", endpoint_url=endpoint)
    create_table(dynamodb, "bench-idempotency", IDEMPOTENCY_TABLE)
    create_table(dynamodb, "bench-incidents", INCIDENT_TABLE)
    create_table(dynamodb, "bench-results", RESULTS_TABLE)
    kms = session.client("kms", endpoint_url=endpoint)
    key = kms.create_key(Description="bench notify-slack webhook")["KeyMetadata"]["KeyId"]
    encrypted = kms.encrypt(KeyId=key, Plaintext=PEER_WEBHOOK.encode())["CiphertextBlob"]
    # issue 14: the escalation topic (published to only by the sweep of an unacknowledged incident)
    escalation = session.client("sns", endpoint_url=endpoint).create_topic(Name="bench-alerts-escalation")
    references = {
        "ESCALATION_TOPIC_ARN": escalation["TopicArn"],
        "SLACK_WEBHOOK_SECRET_ARN": secret["ARN"],
        "IDEMPOTENCY_TABLE_NAME": "bench-idempotency",
        "INCIDENT_TABLE_NAME": "bench-incidents",
        # issue 13: a threshold alarm reads none of them, the router only needs to parse them
        "SYNTHETIC_RESULTS_TABLE_NAME": "bench-results",
        "ERROR_LOG_GROUP": "/aws/ecs/staging/error",
        "GRAPH_REGION": "ap-northeast-1",
    }
    return references, base64.b64encode(encrypted).decode()


def _router_env(function: Mapping[str, Any], resources: Mapping[str, str]) -> dict[str, str]:
    env: dict[str, str] = {}
    for name, value in function["Environment"]["Variables"].items():
        if isinstance(value, str):
            env[name] = value
        elif name in resources:
            env[name] = resources[name]
        else:
            raise SystemExit(f"the router's {name} is a reference the bench has no loopback resource for: {value}")
    env["AWS_LAMBDA_FUNCTION_NAME"] = "bench-alert-router"
    env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = str(function.get("MemorySize", 128))
    # what Lambda sets for these settings (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html)
    if function.get("LoggingConfig", {}).get("LogFormat") == "JSON":
        env["AWS_LAMBDA_LOG_FORMAT"] = "JSON"
    if function.get("TracingConfig", {}).get("Mode") == "Active":
        env["_X_AMZN_TRACE_ID"] = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
        env["AWS_XRAY_CONTEXT_MISSING"] = "LOG_ERROR"
        env["AWS_XRAY_DAEMON_ADDRESS"] = "127.0.0.1:2000"  # nothing listens: UDP segments would be dropped
    return env


def _build_router_assets(work: Path) -> tuple[Path, Path]:
    """The asset as bundled, for this machine's CPU: with bytecode, and without it (to measure what it saves)."""
    from infra.packaging import build_asset

    pip_platform = f"manylinux2014_{platform.machine()}"
    with_pyc, without_pyc = work / "asset", work / "asset-no-bytecode"
    for folder in (with_pyc, without_pyc):
        shutil.rmtree(folder, ignore_errors=True)
    build_asset(with_pyc, pip_platform=pip_platform)
    build_asset(without_pyc, pip_platform=pip_platform, bytecode=False)
    return with_pyc, without_pyc


def _baseline_asset(asset: Path, ref: str, work: Path) -> Path:
    """The same asset with lambdas/ as of commit `ref` (bytecode compiled alike): the router before a change."""
    from infra.packaging import compile_bytecode

    out = work / "asset-baseline"
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(asset, out, ignore=lambda folder, names: ["lambdas"] if Path(folder) == asset else [])
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "lambdas"], capture_output=True, check=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(out, filter="data")
    compile_bytecode(out)
    return out


# --- the peer -----------------------------------------------------------------------------------------------


def _peer_source() -> str | None:
    """functions/notify_slack.py of a fetched terraform-aws-notify-slack (git directory or checkout)."""
    candidates = [os.environ["NOTIFY_SLACK_REPO"]] if os.environ.get("NOTIFY_SLACK_REPO") else []
    candidates += [path for pattern in PEER_MIRRORS for path in glob.glob(pattern)]
    for candidate in candidates:
        checkout = Path(candidate) / PEER_FILE
        if checkout.is_file():
            return checkout.read_text(encoding="utf-8")
        shown = subprocess.run(
            ["git", "--git-dir", candidate, "show", f"HEAD:{PEER_FILE}"], capture_output=True, text=True, check=False
        )
        if shown.returncode == 0:
            return shown.stdout
    return None


def _peer_env(webhook: str) -> dict[str, str]:
    # the module's own variables (its README); a webhook that does not start with "http" is KMS-decrypted
    return {
        "SLACK_WEBHOOK_URL": webhook,
        "SLACK_CHANNEL": "alerts",
        "SLACK_USERNAME": "notify_slack",
        "SLACK_EMOJI": ":aws:",
        "LOG_EVENTS": "False",
        "AWS_LAMBDA_FUNCTION_NAME": "bench-notify-slack",
    }


# --- running ------------------------------------------------------------------------------------------------


def _base_env(endpoint: str, slack_port: int, ca: Path) -> dict[str, str]:
    from infra.lambda_platform import LAMBDA_PYTHON_VERSION
    from infra.packaging import LAMBDA_TASK_ROOT
    from tests.aws_tables import FAKE_CREDENTIALS, REGION

    keep = ("PATH", "HOME", "LANG", "TMPDIR")
    return (
        {name: os.environ[name] for name in keep if name in os.environ}
        | FAKE_CREDENTIALS
        | {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_REGION": REGION,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_python{LAMBDA_PYTHON_VERSION}",
            "LAMBDA_TASK_ROOT": LAMBDA_TASK_ROOT,
            "SSL_CERT_FILE": str(ca),
            "BENCH_SLACK_PORT": str(slack_port),
            "PYTHONDONTWRITEBYTECODE": "1",  # Lambda's code folder is read-only: nothing is cached between runs
        }
    )


def _run(variant: Variant, base: Mapping[str, str], cwd: Path) -> None:
    env = {**base, **variant.env, "PYTHONPATH": os.pathsep.join(str(p) for p in variant.path)}
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, variant.handler, str(EVENT)],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        check=False,
    )
    wall = (time.perf_counter() - start) * 1000
    lines = [line for line in done.stderr.splitlines() if line.startswith("BENCH ")]
    if done.returncode != 0 or not lines:
        raise SystemExit(f"{variant.name} failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    sample = json.loads(lines[-1].removeprefix("BENCH "))
    variant.samples.append({"import_ms": sample["import_ms"], "total_ms": sample["total_ms"], "wall_ms": wall})


def _verify_delivered(slack: _Slack, variants: list[Variant], runs: int) -> None:
    """Every run posted its message once: a variant that failed to deliver would look fast."""
    router_posts = sum(count for path, count in slack.posts.items() if path != PEER_PATH)
    expected_router = runs * sum(1 for v in variants if v.handler == ROUTER_HANDLER)
    expected_peer = runs * sum(1 for v in variants if v.handler != ROUTER_HANDLER)
    if router_posts != expected_router or slack.posts.get(PEER_PATH, 0) != expected_peer:
        raise SystemExit(f"expected {expected_router} router and {expected_peer} peer posts, Slack saw {slack.posts}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=9, help="fresh processes per variant (median reported)")
    parser.add_argument(
        "--baseline", metavar="GIT_REF", help="also run the router of this commit (its lambdas/ in the same asset)"
    )
    args = parser.parse_args(argv)

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the moto server's request log
    WORK.mkdir(parents=True, exist_ok=True)
    function = _deployed_function(ROUTER_HANDLER)
    with_pyc, without_pyc = _build_router_assets(WORK)
    ca, cert, key = _certificates(WORK)
    peer_source = _peer_source()
    peer_dir = WORK / "peer"
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    try:
        host, port = moto.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        references, encrypted_webhook = _aws_resources(endpoint)
        router_env = _router_env(function, references)
        canned = _CannedAws(_canned_answers(references["SLACK_WEBHOOK_SECRET_ARN"], ROUTER_SECRET))
        with _serving(canned) as canned_port:
            at_once = {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{canned_port}"}
            variants = [
                Variant("router, as deployed", ROUTER_HANDLER, [with_pyc], router_env),
                Variant(AT_ONCE, ROUTER_HANDLER, [with_pyc], router_env | at_once),
                Variant("router, no bytecode in the asset", ROUTER_HANDLER, [without_pyc], router_env),
            ]
            if args.baseline:
                baseline = _baseline_asset(with_pyc, args.baseline, WORK)
                variants.append(Variant(f"router at {args.baseline}", ROUTER_HANDLER, [baseline], router_env))
            if peer_source is not None:
                shutil.rmtree(peer_dir, ignore_errors=True)
                peer_dir.mkdir()
                (peer_dir / "notify_slack.py").write_text(peer_source, encoding="utf-8")
                peer = "notify_slack.lambda_handler"
                variants += [
                    Variant("peer: notify_slack.py", peer, [peer_dir], _peer_env(PEER_WEBHOOK)),
                    Variant("peer, webhook URL KMS-encrypted", peer, [peer_dir], _peer_env(encrypted_webhook)),
                    Variant(
                        "peer, KMS-encrypted, AWS at once", peer, [peer_dir], _peer_env(encrypted_webhook) | at_once
                    ),
                ]
            slack = _Slack(cert, key)
            with _serving(slack) as slack_port:
                base = _base_env(endpoint, slack_port, ca)
                for _ in range(args.runs):
                    for variant in variants:
                        _run(variant, base, WORK)
                _verify_delivered(slack, variants, args.runs)
                _verify_answered_at_once(canned, variants, args.runs)
                imports = _import_costs(with_pyc, peer_dir if peer_source is not None else None, base, args.runs)
    finally:
        moto.stop()
    _report(variants, function, args.runs)
    _report_imports(imports, args.runs)


def _verify_answered_at_once(canned: _CannedAws, variants: list[Variant], runs: int) -> None:
    """The loopback AWS saw exactly the calls it answers: a new call would make that variant measure an error."""
    if canned.unexpected:
        raise SystemExit(f"calls the loopback AWS does not answer: {sorted(set(canned.unexpected))}")
    routers = runs * sum(1 for v in variants if v.handler == ROUTER_HANDLER and "AWS_ENDPOINT_URL" in v.env)
    if canned.calls.get("secretsmanager.GetSecretValue", 0) != routers:
        raise SystemExit(f"expected {routers} GetSecretValue calls at the loopback AWS, saw {canned.calls}")


# What the first event imports and creates, priced one by one (each includes what it imports itself).
IMPORTS = (
    ("import boto3", "import boto3"),
    ("boto3 session + Secrets Manager client", "import boto3; boto3.session.Session().client('secretsmanager')"),
    (
        "one session, Secrets Manager + DynamoDB",
        "import boto3; s = boto3.session.Session(); s.client('secretsmanager'); s.client('dynamodb')",
    ),
    (
        "two sessions, one client each",
        "import boto3; boto3.session.Session().client('secretsmanager'); boto3.session.Session().client('dynamodb')",
    ),
    ("Powertools Logger + Metrics", "from aws_lambda_powertools import Logger, Metrics"),
    ("Powertools Parameters (imports boto3)", "import aws_lambda_powertools.utilities.parameters"),
    ("Powertools Idempotency (imports boto3)", "import aws_lambda_powertools.utilities.idempotency"),
    ("router: import lambdas.alert_router.handler", "import lambdas.alert_router.handler"),
)
PEER_IMPORT = ("peer: import notify_slack (boto3, 2 clients)", "import notify_slack")


def _import_costs(asset: Path, peer_dir: Path | None, base: Mapping[str, str], runs: int) -> dict[str, list[float]]:
    """Fresh-process wall time of each statement minus that of `pass` (interpreter start), interleaved."""
    statements = [("python -c pass", "pass"), *IMPORTS]
    if peer_dir is not None:
        statements.append(PEER_IMPORT)
    samples: dict[str, list[float]] = {name: [] for name, _ in statements}
    for _ in range(runs):
        for name, statement in statements:
            path = peer_dir if statement == PEER_IMPORT[1] and peer_dir is not None else asset
            env = {**base, "PYTHONPATH": str(path)}
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", statement], env=env, cwd=WORK, check=True, capture_output=True)
            samples[name].append((time.perf_counter() - start) * 1000)
    return samples


def _report_imports(samples: Mapping[str, list[float]], runs: int) -> None:
    start = statistics.median(samples["python -c pass"])
    print(f"\nwhat the first event imports: fresh process, median of {runs}, minus `python -c pass` ({start:.1f} ms)")
    for name, times in samples.items():
        if name != "python -c pass":
            print(f"  {name:<48} {statistics.median(times) - start:>7.1f} ms")


def _report(variants: list[Variant], function: Mapping[str, Any], runs: int) -> None:
    tracing = function.get("TracingConfig", {}).get("Mode", "PassThrough")
    print(
        f"cold start: import + one SNS alarm event, fresh process, median of {runs} "
        f"(Python {sys.version.split()[0]}, {platform.machine()}; router tracing {tracing})"
    )
    peer = next((v for v in variants if v.handler != ROUTER_HANDLER), None)
    print(f"{'variant':<36} {'import':>9} {'+ event':>9} {'process':>9} {'/peer':>7} {'/peer (process)':>16}")
    for variant in variants:
        total, wall = variant.median("total_ms"), variant.median("wall_ms")
        ratio = f"{total / peer.median('total_ms'):.2f}x" if peer else "-"
        wall_ratio = f"{wall / peer.median('wall_ms'):.2f}x" if peer else "-"
        print(
            f"{variant.name:<36} {variant.median('import_ms'):>7.1f}ms {total:>7.1f}ms {wall:>7.1f}ms "
            f"{ratio:>7} {wall_ratio:>16}"
        )
    if peer is None:
        print(
            f"peer not measured: fetch github:{PEER_REPO} (into /work/.mirror) or set NOTIFY_SLACK_REPO to a "
            f"clone, then run again"
        )
        return
    for variant in variants:
        if variant.name in ("router, as deployed", AT_ONCE):
            ratio_to_peer = variant.median("total_ms") / peer.median("total_ms")
            verdict = "ok" if ratio_to_peer <= GOAL_RATIO else "MISSED"
            print(f"goal: {variant.name} <= {GOAL_RATIO}x the peer (import + event): {ratio_to_peer:.2f}x {verdict}")


if __name__ == "__main__":
    main()
