"""`make mutation`'s configuration names what exists, so a rename cannot silently mutate (or test) nothing."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from tools.mutation import (
    EQUIVALENTS,
    ROOT,
    Tally,
    changed_lines,
    mutated_files,
    mutmut_config,
    read_results,
    stage,
)

CONFIG = mutmut_config()


@pytest.mark.parametrize("pattern", CONFIG["only_mutate"])
def test_every_mutated_pattern_matches_a_source_file(pattern: str) -> None:
    assert mutated_files({**CONFIG, "only_mutate": [pattern]}), f"{pattern} matches no file under lambdas/"


@pytest.mark.parametrize("path", CONFIG["pytest_add_cli_args_test_selection"] + CONFIG["also_copy"])
def test_every_selected_test_and_copied_folder_exists(path: str) -> None:
    assert (ROOT / path).exists(), path


def test_the_issues_stages_are_all_mutated() -> None:
    # issue 12 item 6: parsing, routing, incidents, delivery and the synthetic checks
    stages = {stage(path) for path in mutated_files(CONFIG)}
    assert stages == {"intake", "routing", "incidents", "delivery", "synthetic_monitor"}


def test_mutmut_runs_from_the_project_root_on_the_lambdas_package() -> None:
    # tests import lambdas.<function>...; mutmut puts mutants/ first on sys.path, so the package must be copied whole
    assert CONFIG["source_paths"] == ["lambdas"]


def _functions(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.FunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef):
            names |= {f"{node.name}.{item.name}" for item in node.body if isinstance(item, ast.FunctionDef)}
    return names


def test_each_explained_survivor_names_a_mutated_function_and_a_reason() -> None:
    files = {str(path) for path in mutated_files(CONFIG)}
    for entry in json.loads(EQUIVALENTS.read_text(encoding="utf-8")):
        assert entry["file"] in files, entry
        assert entry["function"] in _functions(ROOT / entry["file"]), entry
        assert entry["changed"], entry
        assert len(entry["why"]) > 20, entry


def test_results_are_counted_by_mutmuts_exit_codes(tmp_path: Path) -> None:
    # Given mutmut's record of one file: killed (1), survived (0), timeout (36), no tests (33), not run (None)
    source = Path("lambdas/alert_router/delivery/policy.py")
    meta = tmp_path / f"{source}.meta"
    meta.parent.mkdir(parents=True)
    codes = {
        f"lambdas.alert_router.delivery.policy.x_f__mutmut_{n}": code for n, code in enumerate([1, 0, 36, 33, None])
    }
    meta.write_text(json.dumps({"exit_code_by_key": codes}))
    # When it is read
    tallies, survivors = read_results([source], mutants=tmp_path)
    # Then a timeout counts as killed, and the survivor and the untested mutant are listed
    tally = tallies[source]
    assert (tally.killed, tally.timeout, tally.survived, tally.no_tests, tally.other) == (1, 1, 1, 1, 1)
    assert tally.score == pytest.approx(2 / 5)
    assert [(s.name.rpartition("_")[2], s.status, s.function) for s in survivors] == [
        ("1", "survived", "f"),
        ("3", "no tests", "f"),
    ]
    assert Tally().score == 0.0


def test_a_survivor_is_identified_by_its_changed_lines_not_its_number() -> None:
    diff = "--- a.py\n+++ a.py\n@@ -1,2 +1,2 @@\n def f():\n-    return 1\n+    return 2\n"
    assert changed_lines(diff) == ("- return 1", "+ return 2")
