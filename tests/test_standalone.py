"""The repository stands alone: a clone in any folder has everything its code,
tests and build need, and nothing reaches for files beside or above it."""

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# A path outside the clone: the folder beside it, a fixed path of one machine, or
# a parent more than the repository's own depth up from a file inside it.
OUTSIDE = re.compile(r"\.\./shared|/wor[k]/|\bshared/okta\b|parents\[[3-9]\]")


def _tracked_files() -> list[Path]:
    out = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    return [ROOT / name for name in out.split("\0") if name]


def test_no_code_test_or_build_file_refers_outside_the_repository():
    offenders = []
    for path in _tracked_files():
        if (
            path.suffix not in {".py", ".sh", ".cfg", ".toml", ".txt"}
            and path.name
            not in {
                "Makefile",
                "Procfile",
                "Procfile.dev",
            }
            and ".ci" not in path.parts
        ):
            continue
        if path == Path(__file__).resolve() or not path.is_file():
            continue
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
            if OUTSIDE.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


def test_okta_reference_files_are_committed():
    for name in ("okta-management.cut.yaml", "okta-scopes.yaml", "SOURCE.md"):
        assert (ROOT / "spec" / name).is_file(), name
