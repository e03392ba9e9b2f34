"""CSV exports open as text in a spreadsheet, whatever delimiter it splits on."""

from __future__ import annotations

import csv
import io

import pytest

from grantsconsole.grants.safe_csv import csv_lines
from tests.grants.csv_checks import assert_every_cell_quoted, formula_cells

HOSTILE = [
    '=HYPERLINK("http://evil","x")',
    '+cmd|" /C calc"!A0',
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
    'a;=HYPERLINK("http://evil")',
    "a\t=1+1",
    "a; =1",
    "a;\t=1+1",
    "first line\n=1+1",
    "a;;@x",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_no_cell_starts_a_formula_under_any_delimiter(value):
    text = "".join(
        csv_lines([["label", "detail"], [value, {"error": value}], [7, None]])
    )
    assert formula_cells(text) == []
    assert_every_cell_quoted(text)
    # Read back with the delimiter it was written with, the text is all there.
    row = list(csv.reader(io.StringIO(text, newline="")))[1]
    assert row[0].replace("'", "") == value.replace("'", "")


def test_plain_values_are_kept_as_they_are():
    text = "".join(csv_lines([["okta.apps.read", "Salesforce, Inc.", 42, None]]))
    assert text == '"okta.apps.read","Salesforce, Inc.","42",""\r\n'
