"""Lambda packaging without Docker.

The asset is the repository's `lambdas/` package copied under its own name (so the handler path
`lambdas.<function>.handler.lambda_handler` is the same in Lambda and in pytest), plus the pinned
runtime requirements installed for the Lambda platform with pip's --platform/--only-binary.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling, Stack
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

REPO_ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = REPO_ROOT / "requirements.txt"
# The newest Lambda Python runtime that Powertools 3.37 supports.
LAMBDA_PYTHON_VERSION = "3.14"
LAMBDA_RUNTIME = lambda_.Runtime.PYTHON_3_14
LAMBDA_ARCHITECTURE = lambda_.Architecture.ARM_64
PIP_PLATFORM = "manylinux2014_aarch64"
# The Lambda runtime ships boto3 and what it needs. They are neither requested nor kept when a dependency
# pulls them in (aws-xray-sdk needs botocore): a bundled botocore would shadow the runtime's and no longer
# match its boto3, and would add ~25 MB.
PROVIDED_BY_PLATFORM = frozenset({"boto3", "botocore", "s3transfer", "jmespath"})
_IGNORED = ("__pycache__", "*.pyc", "*.pyo")


def runtime_requirements(requirements: Path = REQUIREMENTS) -> list[str]:
    """Pinned requirement lines of requirements.txt, less what the Lambda runtime provides."""
    lines = []
    for raw in requirements.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        name = re.split(r"[\[=<>!~ ;]", line, maxsplit=1)[0].lower().replace("_", "-")
        if name not in PROVIDED_BY_PLATFORM:
            lines.append(line)
    return lines


@jsii.implements(ILocalBundling)
class LocalPipBundling:
    """Copies lambdas/ and pip-installs the runtime requirements for arm64 Lambda, no Docker."""

    def try_bundle(self, output_dir: str, *_options: Any, **_keyword_options: Any) -> bool:
        # jsii passes the BundlingOptions struct positionally; nothing in it is needed here.
        out = Path(output_dir)
        shutil.copytree(REPO_ROOT / "lambdas", out / "lambdas", ignore=shutil.ignore_patterns(*_IGNORED))
        requirements = runtime_requirements()
        if requirements:
            subprocess.run(  # noqa: S603 - fixed argument list, no shell
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "--target",
                    str(out),
                    "--platform",
                    PIP_PLATFORM,
                    "--implementation",
                    "cp",
                    "--python-version",
                    LAMBDA_PYTHON_VERSION,
                    "--only-binary=:all:",
                    *requirements,
                ],
                check=True,
            )
            remove_provided_packages(out)
        return True


def remove_provided_packages(target: Path) -> None:
    """Delete what the Lambda runtime provides (PROVIDED_BY_PLATFORM) from an installed --target folder."""
    for name in PROVIDED_BY_PLATFORM:
        shutil.rmtree(target / name, ignore_errors=True)
        for metadata in target.glob(f"{name}-*.dist-info"):
            shutil.rmtree(metadata)
    shutil.rmtree(target / "bin", ignore_errors=True)  # console scripts of those packages (jp.py)


class _SharedCode(Construct):
    """Holds a stack's one Lambda asset, so every function of the stack shares it (bundled once)."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.code = lambda_.Code.from_asset(
            str(REPO_ROOT / "lambdas"),
            # The hash covers the requirements too, so a new pin is a new asset.
            asset_hash=source_hash(),
            asset_hash_type=AssetHashType.CUSTOM,
            bundling=BundlingOptions(
                image=DockerImage.from_registry("unused-local-bundling-only"),
                local=LocalPipBundling(),
            ),
        )


def lambda_code(scope: Construct) -> lambda_.Code:
    """The asset every function of `scope`'s stack runs (handlers differ, code is the same)."""
    stack = Stack.of(scope)
    holder = stack.node.try_find_child("LambdaCode")
    if not isinstance(holder, _SharedCode):
        holder = _SharedCode(stack, "LambdaCode")
    return holder.code


def source_hash() -> str:
    """SHA-256 over requirements.txt and every lambdas/ source file: the asset's identity and Sentry release."""
    digest = hashlib.sha256(REQUIREMENTS.read_bytes())
    for path in sorted((REPO_ROOT / "lambdas").rglob("*.py")):
        digest.update(str(path.relative_to(REPO_ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
