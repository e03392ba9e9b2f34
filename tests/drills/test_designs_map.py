"""The design map stays true: every existing test it names is defined."""

from __future__ import annotations

import re
from pathlib import Path

from tests.drills import designs

ROOT = Path(__file__).resolve().parents[2]


def test_every_mapped_test_exists():
    missing = []
    for design, nodeids in designs.EXISTING.items():
        assert design in designs.ALL, design
        for nodeid in nodeids:
            path, name = nodeid.split("::")
            source = (ROOT / path).read_text()
            if not re.search(rf"^def {re.escape(name)}\(", source, re.MULTILINE):
                missing.append(f"{design}: {nodeid}")
    assert missing == []
