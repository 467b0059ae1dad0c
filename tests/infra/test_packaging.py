"""Lambda packaging without Docker: the lock, what goes into the asset, and what the runtime already provides."""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from infra import packaging
from infra.app_builder import build_app
from infra.lambda_platform import (
    LAMBDA_PYTHON_VERSION,
    LOCK,
    PIP_PLATFORM,
    PROVIDED_BY_PLATFORM,
    UV_PLATFORM,
    canonical_name,
    constraints_from_lock,
    pins,
    runtime_requirements,
)
from infra.packaging import (
    LAMBDA_ARCHITECTURE,
    LAMBDA_RUNTIME,
    BundlingError,
    compile_bytecode,
    install_locked_packages,
)
from tests.infra.conftest import Synthesized

# What `pip install --platform manylinux2014_aarch64 --python-version 3.13` installs for: the markers of the
# python3.13 arm64 runtime (Amazon Linux 2023, aarch64), https://docs.aws.amazon.com/lambda/latest/dg/lambda-python.html
LAMBDA_MARKERS = {
    "python_version": LAMBDA_PYTHON_VERSION,
    "python_full_version": f"{LAMBDA_PYTHON_VERSION}.0",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "platform_machine": "aarch64",
    "platform_system": "Linux",
    "sys_platform": "linux",
    "os_name": "posix",
}


def test_tests_run_on_the_python_of_the_lambda_runtime() -> None:
    # python3.13 is supported until 2029-06-30; python3.11 could no longer be created from 2026-07-31
    # (https://docs.aws.amazon.com/lambda/latest/dg/lambda-python.html, "Supported Python runtimes").
    assert f"{sys.version_info.major}.{sys.version_info.minor}" == LAMBDA_PYTHON_VERSION
    assert LAMBDA_RUNTIME.name == f"python{LAMBDA_PYTHON_VERSION}"
    assert LAMBDA_ARCHITECTURE.name == "arm64"


def test_pip_and_uv_name_the_same_lambda_platform() -> None:
    libc, machine = PIP_PLATFORM.split("_", 1)
    assert f"{machine}-{libc}" == UV_PLATFORM
    assert machine == LAMBDA_MARKERS["platform_machine"]


def test_runtime_requirements_leave_out_what_lambda_provides(tmp_path: Path) -> None:
    # Given a requirements file with comments, extras and packages the runtime provides
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(
        "# comment\naws-lambda-powertools[parser]==3.37.0\nboto3==1.44.5  # runtime\n\nPython_Dateutil==2.9.0\n"
        "sentry-sdk==2.75.0\n"
    )
    # Then only the bundled ones remain, as written
    assert runtime_requirements(requirements) == ["aws-lambda-powertools[parser]==3.37.0", "sentry-sdk==2.75.0"]


def test_the_lock_pins_every_runtime_requirement_at_its_version() -> None:
    # A pin changed in requirements.txt without `make lock` would bundle the old version
    locked = pins(LOCK.read_text(encoding="utf-8"))
    for line in runtime_requirements():
        requirement = Requirement(line)
        assert str(requirement.specifier).startswith("=="), line
        assert locked.get(canonical_name(requirement.name)) == str(requirement.specifier)[2:], (
            f"{line} is not what requirements.lock pins: run `make lock`"
        )


def test_the_lock_covers_every_transitive_dependency_on_the_lambda_platform() -> None:
    # Given the dependency metadata of the installed packages (make install constrains them to the lock)
    locked = pins(LOCK.read_text(encoding="utf-8"))
    needed: dict[str, str] = {}
    pending = [Requirement(line) for line in runtime_requirements()]
    while pending:
        requirement = pending.pop()
        name = canonical_name(requirement.name)
        if name in PROVIDED_BY_PLATFORM or name in needed:
            continue
        distribution = importlib.metadata.distribution(name)
        needed[name] = distribution.version
        for extra in requirement.extras or {""}:
            for text in distribution.requires or []:
                dependency = Requirement(text)
                if dependency.marker is None or dependency.marker.evaluate({**LAMBDA_MARKERS, "extra": extra}):
                    pending.append(dependency)
    # Then the lock holds exactly that closure for the Lambda platform, at the versions the tests run
    assert needed == locked


def test_every_locked_package_is_hash_checked_and_none_is_provided_by_the_runtime() -> None:
    hashes: dict[str, list[str]] = {}
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        pinned = pins(line)
        if pinned:
            hashes[next(iter(pinned))] = []
        elif line.strip().startswith("--hash=sha256:"):
            hashes[list(hashes)[-1]].append(line.strip())
    assert hashes, "requirements.lock pins nothing"
    assert all(hashes.values()), [name for name, found in hashes.items() if not found]
    assert not PROVIDED_BY_PLATFORM & set(hashes)


def test_constraints_from_the_lock_keep_the_pins_without_hashes() -> None:
    text = LOCK.read_text(encoding="utf-8")
    constraints = constraints_from_lock(text)
    assert "--hash" not in constraints
    assert "\\" not in constraints
    assert pins(constraints) == pins(text)


def _wheel(folder: Path, name: str, version: str, requires: str) -> Path:
    """A minimal pure-Python wheel (py3-none-any) that depends on `requires`."""
    module = name.replace("-", "_")
    path = folder / f"{module}-{version}-py3-none-any.whl"
    info = f"{module}-{version}.dist-info"
    files = {
        f"{module}/__init__.py": "VALUE = 1\n",
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nRequires-Dist: {requires}\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = [f"{file},sha256={_digest(body.encode())},{len(body)}" for file, body in files.items()]
    with zipfile.ZipFile(path, "w") as archive:
        for file, body in files.items():
            archive.writestr(file, body)
        archive.writestr(f"{info}/RECORD", "\n".join([*record, f"{info}/RECORD,,"]) + "\n")
    return path


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def test_the_bundler_installs_only_the_locked_files_and_nothing_they_pull_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a local index (no network) with one wheel that depends on a package nobody has
    index = tmp_path / "index"
    index.mkdir()
    wheel = _wheel(index, "demo-pkg", "1.0", "not-on-any-index==9")
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(index))
    good = hashlib.sha256(wheel.read_bytes()).hexdigest()
    lock = tmp_path / "requirements.lock"

    # When the lock names the wheel with its hash
    lock.write_text(f"demo-pkg==1.0 \\\n    --hash=sha256:{good}\n")
    install_locked_packages(tmp_path / "asset", lock=lock)
    # Then it is installed for the Lambda platform, and its dependency is not looked for (--no-deps)
    assert (tmp_path / "asset" / "demo_pkg" / "__init__.py").is_file()
    assert not list((tmp_path / "asset").rglob("*.pyc"))  # compile_bytecode compiles, for the runtime

    # When the hash does not match the file (a replaced upload), or the lock has no hash at all
    for tampered in (f"demo-pkg==1.0 \\\n    --hash=sha256:{'0' * 64}\n", "demo-pkg==1.0\n"):
        lock.write_text(tampered)
        # Then pip refuses to install anything
        with pytest.raises(subprocess.CalledProcessError):
            install_locked_packages(tmp_path / "refused", lock=lock)
        assert not (tmp_path / "refused" / "demo_pkg").exists()


def test_bytecode_is_compiled_for_the_runtime_and_never_checks_the_source(tmp_path: Path) -> None:
    # Given two builds of the same module in different folders
    for build in ("one", "two"):
        (tmp_path / build / "pkg").mkdir(parents=True)
        (tmp_path / build / "pkg" / "__init__.py").write_text("ANSWER = 'compiled'\n")
        compile_bytecode(tmp_path / build)
    tag = sys.implementation.cache_tag
    compiled = [tmp_path / build / "pkg" / "__pycache__" / f"__init__.{tag}.pyc" for build in ("one", "two")]
    # Then the files are the runtime's (cpython-313), hash-based and unchecked (flags 0b01, PEP 552),
    # and the same source gives the same bytes wherever it was built
    assert tag == f"cpython-{LAMBDA_PYTHON_VERSION.replace('.', '')}"
    assert int.from_bytes(compiled[0].read_bytes()[4:8], "little") == 0b01
    assert compiled[0].read_bytes() == compiled[1].read_bytes()
    # When the source changes after the build, Python still runs the shipped bytecode (no stat, no re-hash)
    (tmp_path / "one" / "pkg" / "__init__.py").write_text("ANSWER = 'source'\n")
    answer = subprocess.run(
        [sys.executable, "-B", "-c", "import pkg; print(pkg.ANSWER)"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(tmp_path / "one")},
        cwd=tmp_path,
    ).stdout.strip()
    assert answer == "compiled"


def test_bundling_refuses_an_interpreter_other_than_the_runtimes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a bundler running on another Python than the runtime's
    monkeypatch.setattr(packaging, "LAMBDA_PYTHON_VERSION", "3.12")
    # Then it stops with the reason instead of shipping bytecode the runtime cannot load
    with pytest.raises(BundlingError, match=r"the Lambda runtime is Python 3\.12"):
        compile_bytecode(tmp_path)


def test_the_asset_hash_covers_the_lock_and_the_build_recipe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a copy of the lock
    lock = tmp_path / "requirements.lock"
    lock.write_text(LOCK.read_text(encoding="utf-8"))
    monkeypatch.setattr(packaging, "LOCK", lock)
    before = packaging.source_hash()
    # When only a transitive pin's hash changes (a rebuilt wheel), the asset is a new one
    lock.write_text(lock.read_text().replace("--hash=sha256:", "--hash=sha256:0", 1))
    changed_lock = packaging.source_hash()
    # and when only the way it is built changes, too
    monkeypatch.setattr(packaging, "BUILD_RECIPE", packaging.BUILD_RECIPE + " other")
    assert len({before, changed_lock, packaging.source_hash()}) == 3


def test_synthesis_with_bundling_builds_the_asset_through_the_local_bundler(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given bundling switched on (as `cdk synth` does) and no pip step (tests have no network; see the test above)
    monkeypatch.setattr(packaging, "install_locked_packages", lambda *_args, **_kwargs: None)
    # When the staging app is synthesized, CDK calls LocalPipBundling through jsii
    assembly = build_app("staging", outdir=str(tmp_path), bundle_assets=True).synth()
    # Then one asset serves every function, with the lambdas package at its root (handler paths as in pytest)
    assets = [path for path in tmp_path.iterdir() if path.name.startswith("asset.") and path.is_dir()]
    assert len(assets) == 1
    assert (assets[0] / "lambdas" / "alert_router" / "handler.py").is_file()
    # and every module with its bytecode for the runtime's Python (Lambda's code folder is read-only)
    tag = f"cpython-{LAMBDA_PYTHON_VERSION.replace('.', '')}"
    for source in (assets[0] / "lambdas").rglob("*.py"):
        assert (source.parent / "__pycache__" / f"{source.stem}.{tag}.pyc").is_file(), source
    assert assembly.stacks[0].stack_name == "peoplebooster-staging-monitoring"


def test_every_function_reports_the_code_release_to_sentry(staging: Synthesized) -> None:
    # Given the functions of the stack
    functions = staging.resources("AWS::Lambda::Function").values()
    releases = {function["Properties"]["Environment"]["Variables"]["SENTRY_RELEASE"] for function in functions}
    # Then they all carry the same release, derived from the code (a change of code is a new release)
    assert releases == {f"peoplebooster-monitoring@{packaging.source_hash()[:12]}"}
