"""Checks for CSV exports: quoted cells, and no cell a spreadsheet runs as a formula."""

from __future__ import annotations

import csv
import io
import re

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# One line of QUOTE_ALL CSV: every cell between double quotes.
QUOTED_LINE = re.compile(r'"(?:[^"]|"")*"(?:,"(?:[^"]|"")*")*')


def formula_cells(text: str) -> list[str]:
    """Cells that would start a formula when ``text`` is imported split on
    commas, on semicolons or on tabs (Python's csv module as the importer)."""
    found = []
    for delimiter in (",", ";", "\t"):
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            found += [f for f in row if f.startswith(FORMULA_PREFIXES)]
    return found


def assert_every_cell_quoted(text: str) -> None:
    for line in text.split("\r\n")[:-1]:
        assert QUOTED_LINE.fullmatch(line), line
