"""What the Lambda runtime is, and the locked packages the asset adds to it. Standard library only.

`python -m infra.lambda_platform lock` re-resolves requirements.lock (the asset's packages, transitive ones
included, with the hashes of the wheels pip installs for the Lambda platform). The Makefile runs it before
the virtual environment exists too (`python-version`, `constraints`), so nothing here imports a dependency.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = REPO_ROOT / "requirements.txt"
LOCK = REPO_ROOT / "requirements.lock"
# python3.13: the newest Lambda runtime whose Python this toolchain also tests on (docs/operations/decisions.md).
LAMBDA_PYTHON_VERSION = "3.13"
PIP_PLATFORM = "manylinux2014_aarch64"  # arm64 Lambda; uv spells the same target aarch64-manylinux2014
UV_PLATFORM = "aarch64-manylinux2014"
# The Lambda runtime ships boto3 and what it needs: neither locked nor bundled. A bundled botocore would
# shadow the runtime's and no longer match its boto3, and would add ~25 MB. urllib3, which botocore also
# uses, is locked and bundled on purpose: sentry-sdk needs it, and the lock resolves it within boto3's range.
PROVIDED_BY_PLATFORM = frozenset({"boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six"})

_REQUIREMENT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")


def canonical_name(name: str) -> str:
    """PEP 503 normalised project name (`Python_Dateutil` -> `python-dateutil`)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(text: str) -> dict[str, str]:
    """name -> version of every `name==version` line of a requirements or lock file (comments and hashes skipped)."""
    found = {}
    for raw in text.splitlines():
        match = _REQUIREMENT.match(raw.split("#", 1)[0].strip())
        if match:
            found[canonical_name(match.group(1))] = match.group(2)
    return found


def runtime_requirements(requirements: Path = REQUIREMENTS) -> list[str]:
    """Requirement lines of requirements.txt that the asset bundles (less what the Lambda runtime provides)."""
    lines = []
    for raw in requirements.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if canonical_name(re.split(r"[\[=<>!~ ;]", line, maxsplit=1)[0]) not in PROVIDED_BY_PLATFORM:
            lines.append(line)
    return lines


def constraints_from_lock(text: str) -> str:
    """The lock without its hashes, for `pip install -c`: hashes in a constraints file would switch pip into
    hash-checking mode for every development package too."""
    kept = []
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("--hash=") or line.startswith("#") or not line:
            continue
        kept.append(line.removesuffix("\\").strip())
    return "\n".join(kept) + "\n"


def lock_command(uv: str, *, requirements: Path = REQUIREMENTS, output: Path = LOCK) -> list[str]:
    """uv resolves requirements.txt for the Lambda platform and Python (not for the machine it runs on).

    boto3 stays in the resolution so that the locked urllib3 fits the runtime's botocore; the packages the
    runtime provides are resolved but not written (`--no-emit-package`), so they are never bundled.
    """
    excluded = [arg for name in sorted(PROVIDED_BY_PLATFORM) for arg in ("--no-emit-package", name)]
    return [
        uv,
        "pip",
        "compile",
        "--quiet",
        "--generate-hashes",
        "--python-platform",
        UV_PLATFORM,
        "--python-version",
        LAMBDA_PYTHON_VERSION,
        "--custom-compile-command",
        "make lock",
        *excluded,
        "--output-file",
        str(output.relative_to(REPO_ROOT)),
        str(requirements.relative_to(REPO_ROOT)),
    ]


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else ""
    if command == "python-version":
        print(LAMBDA_PYTHON_VERSION)
        return 0
    if command == "constraints":
        sys.stdout.write(constraints_from_lock(LOCK.read_text(encoding="utf-8")))
        return 0
    if command == "lock" and len(argv) == 3:
        return subprocess.run(lock_command(argv[2]), cwd=REPO_ROOT, check=False).returncode  # noqa: S603
    print("usage: python -m infra.lambda_platform python-version | constraints | lock <path to uv>", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
