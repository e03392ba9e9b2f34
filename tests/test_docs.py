"""The READMEs and docs/ link only to files and headings that exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [
    ROOT / "README.md",
    *sorted((ROOT / "docs").glob("*.md")),
    *sorted((ROOT / "grantsconsole").glob("*/README.md")),
    ROOT / "bench" / "README.md",
]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def _anchors(path: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to '-'."""
    return {
        re.sub(r"[^\w\- ]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
        for line in path.read_text("utf-8").splitlines()
        if line.startswith("#")
    }


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(doc: Path):
    broken = []
    for target in LINK.findall(doc.read_text("utf-8")):
        if re.match(r"[a-z]+:", target):
            continue  # https:, mailto:
        name, _, anchor = target.partition("#")
        path = (doc.parent / name).resolve() if name else doc
        missing_anchor = (
            anchor and path.suffix == ".md" and anchor not in _anchors(path)
        )
        if not path.exists() or missing_anchor:
            broken.append(target)
    assert broken == []


def test_the_readme_opens_with_the_quick_start_and_links_the_operator_docs():
    readme = (ROOT / "README.md").read_text("utf-8")
    first = re.search(r"^## (.+)$", readme, re.MULTILINE)
    assert first is not None
    assert first.group(1) == "Quick start for Super Admins"
    for doc in ("simulator", "contributing", "performance", "reliability"):
        assert f"(docs/{doc}.md)" in readme
    assert "(grantsconsole/oktasim/DEVIATIONS.md)" in readme
