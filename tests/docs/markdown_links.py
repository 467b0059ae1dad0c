"""Pure helpers for the docs tests: GitHub heading anchors, relative links, `make` targets in code.

Kept apart from the tests so each rule has its own small tests on strings (a checker that cannot
fail would prove nothing).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_HTML_ANCHOR = re.compile(r"""<a\s+(?:name|id)\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
_INLINE_CODE = re.compile(r"(`+)(.+?)\1")
# [text](target "title") and ![alt](target); the target has no spaces (or is in <...>).
_INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*(<[^>]+>|[^)\s]+)(?:\s+[\"'(].*?[\"')])?\s*\)")
_REFERENCE_DEFINITION = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*(<[^>]+>|\S+)", re.MULTILINE)
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
_MAKE = re.compile(r"(?<![\w./-])make((?:[ \t]+\S+)*)")
_MAKEFILE_RULE = re.compile(r"^([A-Za-z0-9_.%/-]+(?:[ \t]+[A-Za-z0-9_.%/-]+)*)[ \t]*:(?![=:])", re.MULTILINE)


@dataclass(frozen=True)
class Link:
    source: Path
    line: int
    target: str


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading: markdown removed, lowercase, punctuation dropped, spaces -> '-'."""
    text = _INLINE_CODE.sub(lambda match: match.group(2), heading)
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # a link in a heading keeps its text
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML
    text = text.replace("*", "").replace("~", "")
    text = text.strip().lower()
    # GitHub keeps letters, numbers, '_', '-' and spaces (Unicode letters too, e.g. Japanese).
    text = "".join(char for char in text if char.isalnum() or char in "_- ")
    return text.replace(" ", "-")


def prose_lines(text: str) -> Iterator[tuple[int, str]]:
    """(line number, line) for every line outside fenced code blocks."""
    in_fence = False
    for number, line in enumerate(text.splitlines(), start=1):
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        if not in_fence:
            yield number, line


def anchors(text: str) -> set[str]:
    """Every anchor a markdown file offers: heading slugs (duplicates get -1, -2...) and <a id/name>."""
    found: set[str] = set()
    seen: dict[str, int] = {}
    for _, line in prose_lines(text):
        found.update(_HTML_ANCHOR.findall(line))
        match = _HEADING.match(line)
        if not match:
            continue
        slug = github_slug(match.group(2))
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        found.add(slug if count == 0 else f"{slug}-{count}")
    return found


def top_level_heading(text: str) -> str | None:
    """The text of the first `# ` heading outside code, if any."""
    for _, line in prose_lines(text):
        match = _HEADING.match(line)
        if match and len(match.group(1)) == 1:
            return match.group(2)
    return None


def links(path: Path, text: str) -> list[Link]:
    """Inline links, images and reference definitions outside code blocks and code spans."""
    found: list[Link] = []
    for number, line in prose_lines(text):
        without_code = _INLINE_CODE.sub("", line)
        for match in _INLINE_LINK.finditer(without_code):
            found.append(Link(path, number, match.group(1).strip("<>")))
        for match in _REFERENCE_DEFINITION.finditer(without_code):
            found.append(Link(path, number, match.group(1).strip("<>")))
    return found


def is_external(target: str) -> bool:
    return bool(_SCHEME.match(target)) or target.startswith("//")


def broken_link_reason(link: Link, repo_root: Path) -> str | None:
    """None when a relative link resolves to a file (and heading); otherwise why it does not."""
    if is_external(link.target):
        return None
    path_part, _, anchor = link.target.partition("#")
    path_part = path_part.split("?", 1)[0]
    if path_part.startswith("/"):
        target = repo_root / path_part.lstrip("/")
    elif path_part:
        target = (link.source.parent / path_part).resolve()
    else:
        target = link.source
    if not target.exists():
        return f"{path_part} does not exist"
    readable = target.is_file() and target.suffix == ".md"
    if anchor and readable and anchor.lower() not in anchors(target.read_text(encoding="utf-8")):
        return f"{target.name} has no heading for #{anchor}"
    return None


def code_spans(text: str) -> Iterator[tuple[int, str]]:
    """(line number, code) for every line of a fenced block and every inline code span."""
    in_fence = False
    for number, line in enumerate(text.splitlines(), start=1):
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence:
            yield number, line
        else:
            for match in _INLINE_CODE.finditer(line):
                yield number, match.group(2)


def make_targets_mentioned(code: str) -> list[str]:
    """Targets of every `make ...` command in a piece of code: options and VAR=value are skipped."""
    targets: list[str] = []
    for match in _MAKE.finditer(code):
        for word in match.group(1).split():
            if word.startswith("#") or any(char in word for char in "<>|&;"):
                break  # a comment, a redirection or the next command
            if word.startswith("-") or "=" in word:
                continue
            targets.append(word)
    return targets


def makefile_targets(makefile_text: str) -> set[str]:
    """Explicit rule targets of a Makefile (variable assignments with := or ::= are not rules)."""
    targets: set[str] = set()
    for match in _MAKEFILE_RULE.finditer(makefile_text):
        targets.update(name for name in match.group(1).split() if not name.startswith("."))
    return targets
