"""Mutation testing of the pure stages (`make mutation`): runs mutmut, prints the score per stage.

    python -m tools.mutation            # a fresh run (minutes), then the score
    python -m tools.mutation --report   # the score of the last run (mutants/ is kept)

mutmut 3 (configured in pyproject.toml, [tool.mutmut]) copies lambdas/ and what the tests read into
mutants/, writes every mutant of the files in `only_mutate` there, and runs each mutant against the selected
tests that called the mutated function (it records which in a first traced run), niced so that it shares the
machine. A mutant is killed when a test fails, or times out; it survives when every test still passes.

Survivors are printed with their diff. A survivor that no test can kill, because the mutated code behaves
the same (an equivalent mutant), is listed with the reason in tools/mutation_equivalents.json, by file,
function and changed lines, so a renumbering of mutants does not lose the explanation; it is then shown as
explained, and only the others are new work.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import shutil
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MUTANTS = ROOT / "mutants"
LOG = ROOT / "build" / "mutation" / "mutmut.log"
SURVIVORS = ROOT / "build" / "mutation" / "survivors.txt"
EQUIVALENTS = ROOT / "tools" / "mutation_equivalents.json"
# mutmut's exit codes per mutant (mutmut.stats.status_by_exit_code); anything else is "suspicious"
KILLED = {1, 3}
TIMEOUT = {36, -24, 24, 152, 255}
SURVIVED = {0}
NO_TESTS = {5, 33}


def mutmut_config(pyproject: Path = ROOT / "pyproject.toml") -> dict[str, Any]:
    config: dict[str, Any] = tomllib.loads(pyproject.read_text(encoding="utf-8"))["tool"]["mutmut"]
    return config


def mutated_files(config: Mapping[str, Any], root: Path = ROOT) -> list[Path]:
    """The source files mutmut mutates (relative to root): those under source_paths matching only_mutate."""
    files = sorted(
        path.relative_to(root)
        for source in config["source_paths"]
        for path in (root / source).rglob("*.py")
        if "__pycache__" not in path.parts
    )
    return [path for path in files if any(fnmatch.fnmatch(str(path), pattern) for pattern in config["only_mutate"])]


def stage(path: Path) -> str:
    """The pipeline stage a file belongs to: its folder (intake, routing, ...), or the function's name."""
    return path.parent.name


@dataclass
class Tally:
    killed: int = 0
    timeout: int = 0
    survived: int = 0
    no_tests: int = 0
    other: int = 0  # suspicious, segfault, not checked: mutmut could not judge it

    @property
    def total(self) -> int:
        return self.killed + self.timeout + self.survived + self.no_tests + self.other

    @property
    def score(self) -> float:
        return (self.killed + self.timeout) / self.total if self.total else 0.0

    def add(self, exit_code: int | None) -> None:
        if exit_code in KILLED:
            self.killed += 1
        elif exit_code in TIMEOUT:
            self.timeout += 1
        elif exit_code in SURVIVED:
            self.survived += 1
        elif exit_code in NO_TESTS:
            self.no_tests += 1
        else:
            self.other += 1

    def merge(self, other: Tally) -> None:
        self.killed += other.killed
        self.timeout += other.timeout
        self.survived += other.survived
        self.no_tests += other.no_tests
        self.other += other.other


@dataclass
class Survivor:
    name: str  # mutmut's mutant name, e.g. lambdas.alert_router.delivery.policy.xǁRetryPolicyǁbackoff__mutmut_3
    path: Path
    status: str  # "survived" or "no tests"
    diff: str = ""
    changed: tuple[str, ...] = field(default=())  # the diff's -/+ lines, stripped: what identifies the mutant

    @property
    def function(self) -> str:
        mangled = self.name.partition("__mutmut_")[0].rpartition(".")[2]
        return mangled.removeprefix("x_").replace("ǁ", ".").strip(".")


def read_results(files: Iterable[Path], mutants: Path = MUTANTS) -> tuple[dict[Path, Tally], list[Survivor]]:
    tallies: dict[Path, Tally] = {}
    survivors: list[Survivor] = []
    for path in files:
        meta = mutants / f"{path}.meta"
        tally = tallies.setdefault(path, Tally())
        if not meta.is_file():
            continue
        codes: dict[str, int | None] = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
        for name, code in sorted(codes.items()):
            tally.add(code)
            if code in SURVIVED or code in NO_TESTS:
                survivors.append(Survivor(name, path, "survived" if code in SURVIVED else "no tests"))
    return tallies, survivors


def changed_lines(diff: str) -> tuple[str, ...]:
    return tuple(
        line[0] + " " + line[1:].strip()
        for line in diff.splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    )


def load_diffs(survivors: list[Survivor]) -> None:
    """Each survivor's diff, from mutmut's own files (run from the project root, as mutmut was)."""
    from mutmut.mutation.diff_apply import get_diff_for_mutant  # noqa: PLC0415 - a dev tool's import

    for survivor in survivors:
        survivor.diff = get_diff_for_mutant(survivor.name, path=survivor.path)
        survivor.changed = changed_lines(survivor.diff)


def equivalent_key(path: str, function: str, changed: Iterable[str]) -> str:
    return "\n".join([path, function, *changed])


def load_equivalents(source: Path = EQUIVALENTS) -> dict[str, str]:
    """Explained survivors: key (file, function, changed lines) -> why no test can kill it."""
    entries: list[dict[str, Any]] = json.loads(source.read_text(encoding="utf-8"))
    return {equivalent_key(e["file"], e["function"], e["changed"]): e["why"] for e in entries}


def report(files: list[Path], *, equivalents: Mapping[str, str], elapsed: float | None) -> int:
    tallies, survivors = read_results(files)
    load_diffs(survivors)
    explained = [s for s in survivors if equivalent_key(str(s.path), s.function, s.changed) in equivalents]
    unexplained = [s for s in survivors if s not in explained]

    by_stage: dict[str, Tally] = {}
    for path, tally in tallies.items():
        by_stage.setdefault(stage(path), Tally()).merge(tally)
    overall = Tally()
    for tally in by_stage.values():
        overall.merge(tally)

    header = (
        f"{'stage / file':<48} {'mutants':>7} {'killed':>7} {'timeout':>7} {'survived':>8} {'no test':>7} {'score':>7}"
    )
    print(header)
    print("-" * len(header))
    for name, stage_tally in by_stage.items():
        print(_row(name, stage_tally))
        for path, tally in tallies.items():
            if stage(path) == name:
                print(_row("  " + path.name, tally))
    print("-" * len(header))
    print(_row("overall", overall))
    if overall.other:
        print(f"{overall.other} mutants could not be judged (suspicious, crashed or not checked): see {_shown(LOG)}")
    print(
        f"survivors: {len(survivors)}, of which {len(explained)} are explained equivalents "
        f"({_shown(EQUIVALENTS)}) and {len(unexplained)} are not"
    )
    SURVIVORS.parent.mkdir(parents=True, exist_ok=True)
    SURVIVORS.write_text(
        "".join(f"# {s.name} ({s.status})\n{s.diff}\n\n" for s in unexplained)
        + "".join(f"# {s.name} (explained: {equivalents[_key(s)]})\n{s.diff}\n\n" for s in explained),
        encoding="utf-8",
    )
    for survivor in unexplained:
        print(f"\n# {survivor.name} ({survivor.status})\n{survivor.diff}")
    if unexplained:
        print(f"\nall survivors with their diffs: {_shown(SURVIVORS)}")
    if elapsed is not None:
        print(f"mutation run took {elapsed / 60:.1f} min (log: {_shown(LOG)})")
    return 0


def _key(survivor: Survivor) -> str:
    return equivalent_key(str(survivor.path), survivor.function, survivor.changed)


def _row(name: str, tally: Tally) -> str:
    return (
        f"{name:<48} {tally.total:>7} {tally.killed:>7} {tally.timeout:>7} {tally.survived:>8} "
        f"{tally.no_tests:>7} {tally.score:>7.1%}"
    )


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT))


# `mutmut run`, without the spinner it writes to file descriptor 1 whenever a test process prints during its
# stats, clean and forced-fail runs: a test capturing that descriptor (capfd: the EMF tests) would read it.
_MUTMUT_RUN = """
import sys
import mutmut.__main__ as mutmut_main
mutmut_main.print_status = lambda *args, **kwargs: None
sys.argv = ["mutmut", "run"]
mutmut_main.cli()
"""


def run_mutmut() -> float:
    """A fresh mutmut run (a kept mutants/ would keep verdicts from before the last test change)."""
    shutil.rmtree(MUTANTS, ignore_errors=True)
    LOG.parent.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    # tests print lone surrogates (bad input); the log must take them, not end the run
    env = {**os.environ, "PYTHONIOENCODING": "utf-8:backslashreplace", "PYTHONUNBUFFERED": "1"}
    with LOG.open("w", encoding="utf-8") as log:
        done = subprocess.run(
            ["nice", "-n", "19", sys.executable, "-c", _MUTMUT_RUN],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=log,
            check=False,
        )
    elapsed = time.monotonic() - start
    if done.returncode != 0:
        tail = LOG.read_text(encoding="utf-8", errors="replace")[-4000:]
        raise SystemExit(f"mutmut failed (exit {done.returncode}); end of {_shown(LOG)}:\n{tail}")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--report", action="store_true", help="only print the score of the last run")
    args = parser.parse_args(argv)
    files = mutated_files(mutmut_config())
    elapsed = None if args.report else run_mutmut()
    return report(files, equivalents=load_equivalents(), elapsed=elapsed)


if __name__ == "__main__":
    sys.exit(main())
