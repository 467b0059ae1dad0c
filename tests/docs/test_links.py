"""Docs must never send on-call to a page, heading or command that does not exist."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.docs.markdown_links import (
    Link,
    anchors,
    broken_link_reason,
    code_spans,
    github_slug,
    links,
    make_targets_mentioned,
    makefile_targets,
    top_level_heading,
)

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"


def markdown_files() -> list[Path]:
    files = sorted(DOCS.rglob("*.md"))
    readme = REPO / "README.md"
    # The README is written in parallel with the docs; it is checked as soon as it exists.
    return [readme, *files] if readme.exists() else files


def _id(path: Path) -> str:
    return str(path.relative_to(REPO))


# --- the rules themselves ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("heading", "slug"),
    [
        ("Incident levels", "incident-levels"),
        ("6. GitHub Actions (automatic deployment)", "6-github-actions-automatic-deployment"),
        ("ECS service (previous task definition)", "ecs-service-previous-task-definition"),
        ("Declaring an incident (P1/P2)", "declaring-an-incident-p1p2"),
        ("S3: restore a deleted or overwritten object", "s3-restore-a-deleted-or-overwritten-object"),
        ("`make deploy` and snake_case", "make-deploy-and-snake_case"),
        ("A [link](x.md) in **bold**", "a-link-in-bold"),
        ("障害対応フロー", "障害対応フロー"),
        ("Twenty-one  days", "twenty-one--days"),
    ],
)
def test_github_slug(heading: str, slug: str) -> None:
    assert github_slug(heading) == slug


def test_duplicate_headings_get_a_number_and_code_blocks_are_not_headings() -> None:
    # Given two headings with the same text and a comment line inside a code block
    text = '# Guide\n## Steps\n```bash\n# not a heading\n```\n## Steps\n<a id="custom"></a>\n'
    # When the anchors are collected
    found = anchors(text)
    # Then the second heading is -1, the comment is ignored and explicit anchors count
    assert found == {"guide", "steps", "steps-1", "custom"}


def test_broken_links_are_reported(tmp_path: Path) -> None:
    # Given a page with a good link, a missing file, a missing heading and an external link
    (tmp_path / "other.md").write_text("# Other\n## Real heading\n", encoding="utf-8")
    page = tmp_path / "page.md"
    page.write_text(
        "# Page\n[ok](other.md#real-heading) [gone](missing.md) [bad](other.md#nope) "
        "[web](https://example.com/x.md#y) [self](#page) `[code](nowhere.md)`\n",
        encoding="utf-8",
    )
    # When every link is checked
    reasons = {link.target: broken_link_reason(link, tmp_path) for link in links(page, page.read_text())}
    # Then exactly the two broken ones are reported, and links inside code are not links
    assert reasons == {
        "other.md#real-heading": None,
        "missing.md": "missing.md does not exist",
        "other.md#nope": "other.md has no heading for #nope",
        "https://example.com/x.md#y": None,
        "#page": None,
    }


def test_make_targets_are_read_from_code_only() -> None:
    text = (
        "Make sure you read this.\n"
        "Run `make deploy ENV=production` or `HEALTH_BASE_URL=http://127.0.0.1 make invoke FN=x EVENT=y`.\n"
        "```bash\nmake diff ENV=staging 2>&1 | tee out.txt   # the diff\nmake -s lint\ncmake build\n```\n"
    )
    mentioned = [target for _, code in code_spans(text) for target in make_targets_mentioned(code)]
    assert mentioned == ["deploy", "invoke", "diff", "lint"]


def test_makefile_targets_ignore_assignments_and_special_targets() -> None:
    makefile = "VENV := .venv\nPY ::= x\n.PHONY: a b\na b: dep ## two\n\tcmd\n$(VENV)/x: y\nclean:\n"
    assert makefile_targets(makefile) == {"a", "b", "clean"}


# --- the repository's docs ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", markdown_files(), ids=_id)
def test_every_relative_link_and_anchor_resolves(path: Path) -> None:
    found = links(path, path.read_text(encoding="utf-8"))
    broken = [
        f"{_id(link.source)}:{link.line}: ({link.target}) {reason}"
        for link in found
        if (reason := broken_link_reason(link, REPO)) is not None
    ]
    assert not broken, "\n".join(broken)


@pytest.mark.parametrize("path", markdown_files(), ids=_id)
def test_every_make_target_mentioned_exists(path: Path) -> None:
    targets = makefile_targets((REPO / "Makefile").read_text(encoding="utf-8"))
    missing = [
        f"{_id(path)}:{number}: make {target}"
        for number, code in code_spans(path.read_text(encoding="utf-8"))
        for target in make_targets_mentioned(code)
        if target not in targets
    ]
    assert not missing, "targets not in the Makefile:\n" + "\n".join(missing)


@pytest.mark.parametrize("path", markdown_files(), ids=_id)
def test_every_page_has_a_title(path: Path) -> None:
    assert top_level_heading(path.read_text(encoding="utf-8")), f"{_id(path)} has no top-level '# ' heading"


def test_docs_are_linked_from_somewhere() -> None:
    # Given every link in the docs and the README
    linked = {
        (link.source.parent / link.target.partition("#")[0]).resolve()
        for path in markdown_files()
        for link in links(path, path.read_text(encoding="utf-8"))
        if link.target.partition("#")[0] and not link.target.startswith(("http:", "https:"))
    }
    # Then no operations page is an orphan that on-call could never find
    orphans = [_id(path) for path in sorted((DOCS / "operations").rglob("*.md")) if path.resolve() not in linked]
    assert not orphans, f"not linked from any page: {orphans}"


def test_links_helper_reports_line_numbers() -> None:
    found = links(Path("x.md"), "# T\n\nsee [a](a.md)\n")
    assert found == [Link(Path("x.md"), 3, "a.md")]
