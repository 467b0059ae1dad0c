"""Lambda packaging without Docker.

The asset is the repository's `lambdas/` package copied under its own name (so the handler path
`lambdas.<function>.handler.lambda_handler` is the same in Lambda and in pytest), plus the packages of
requirements.lock installed for the Lambda platform with `pip --require-hashes --no-deps`, and bytecode
compiled by the runtime's Python (infra/lambda_platform.py says which runtime and platform).
"""

from __future__ import annotations

import compileall
import hashlib
import py_compile
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling, Stack
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.lambda_platform import LAMBDA_PYTHON_VERSION, LOCK, PIP_PLATFORM, REPO_ROOT

LAMBDA_RUNTIME = lambda_.Runtime.PYTHON_3_13
LAMBDA_ARCHITECTURE = lambda_.Architecture.ARM_64
# Lambda's code folder: compiled files name their source there, so the bytecode does not depend on the build folder.
LAMBDA_TASK_ROOT = "/var/task"
_IGNORED = ("__pycache__", "*.pyc", "*.pyo")
# Everything besides the files that decides what the asset contains: a change of any of these is a new asset.
BUILD_RECIPE = f"pip --require-hashes --no-deps {PIP_PLATFORM} cp{LAMBDA_PYTHON_VERSION} bytecode=unchecked-hash"


class BundlingError(Exception):
    """The asset cannot be built as deployed (wrong interpreter for the bytecode)."""


def install_locked_packages(target: Path, *, pip_platform: str = PIP_PLATFORM, lock: Path = LOCK) -> None:
    """pip-install exactly the lock's wheels for the Lambda platform into `target`; any other file is refused.

    --no-deps: the lock is complete (what the runtime provides is left out of it on purpose);
    --no-compile: pip would compile for its own interpreter with timestamps, see compile_bytecode.
    """
    subprocess.run(  # noqa: S603 - fixed argument list, no shell
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--require-hashes",
            "--no-deps",
            "--no-compile",
            "--target",
            str(target),
            "--platform",
            pip_platform,
            "--implementation",
            "cp",
            "--python-version",
            LAMBDA_PYTHON_VERSION,
            "--only-binary=:all:",
            "--requirement",
            str(lock),
        ],
        check=True,
    )
    shutil.rmtree(target / "bin", ignore_errors=True)  # console scripts: nothing in Lambda runs them


def compile_bytecode(target: Path) -> None:
    """Compile every module of `target` for the runtime's Python, so a cold start does not compile them.

    Lambda's code folder is read-only: without shipped .pyc files every cold start compiles every module it
    imports. unchecked-hash: the runtime never stats or re-hashes the sources (zip timestamps cannot stale
    them), and the files depend only on the sources, so the same input builds the same asset.
    """
    if f"{sys.version_info.major}.{sys.version_info.minor}" != LAMBDA_PYTHON_VERSION:
        raise BundlingError(
            f"the Lambda runtime is Python {LAMBDA_PYTHON_VERSION}, the bundler runs Python "
            f"{sys.version.split()[0]}: its bytecode would not load there (make install builds .venv on "
            f"python{LAMBDA_PYTHON_VERSION})"
        )
    compiled = compileall.compile_dir(
        target,
        ddir=LAMBDA_TASK_ROOT,
        quiet=1,
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )
    if not compiled:
        raise BundlingError("compileall failed on the asset (a syntax error for the runtime's Python?)")


def build_asset(out: Path, *, pip_platform: str = PIP_PLATFORM, bytecode: bool = True) -> None:
    """The asset's content in `out`: lambdas/, the locked packages, and (normally) their bytecode."""
    shutil.copytree(REPO_ROOT / "lambdas", out / "lambdas", ignore=shutil.ignore_patterns(*_IGNORED))
    install_locked_packages(out, pip_platform=pip_platform)
    if bytecode:
        compile_bytecode(out)


@jsii.implements(ILocalBundling)
class LocalPipBundling:
    """Builds the asset for arm64 Lambda on this machine (build_asset), no Docker."""

    def try_bundle(self, output_dir: str, *_options: Any, **_keyword_options: Any) -> bool:
        # jsii passes the BundlingOptions struct positionally; nothing in it is needed here.
        build_asset(Path(output_dir))
        return True


class _SharedCode(Construct):
    """Holds a stack's one Lambda asset, so every function of the stack shares it (bundled once)."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.code = lambda_.Code.from_asset(
            str(REPO_ROOT / "lambdas"),
            # The hash covers the lock and the build recipe too, so a new pin is a new asset.
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
    """SHA-256 over the build recipe, requirements.lock and every lambdas/ source file: the asset's identity
    and Sentry release."""
    digest = hashlib.sha256(BUILD_RECIPE.encode())
    digest.update(LOCK.read_bytes())
    for path in sorted((REPO_ROOT / "lambdas").rglob("*.py")):
        digest.update(str(path.relative_to(REPO_ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
