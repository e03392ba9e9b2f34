"""CSV that a spreadsheet opens as text: every CSV export is written here.

Cells carry values from Okta (app labels, logins, error text) that anyone who can
edit an app can set, and a spreadsheet runs a cell that looks like a formula
(OWASP "CSV injection"). So every cell is quoted, and a formula prefix (``=``,
``+``, ``-``, ``@``, tab, CR) gets a leading ``'`` where a cell starts and after
each ``;``, tab, CR or LF inside it: an import that splits on ``;`` or tabs, or
reads line by line, starts a new cell there.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

# A formula prefix at the start of the text or right after a separator that some
# import may split on; the lookahead lets "a;\t=b" neutralise both the tab and "=".
_FORMULA_START = re.compile(r"(^|[;\t\r\n])(?=[=+\-@\t\r])")


def cell(value: Any) -> str:
    """The text of one cell: "" for None, compact JSON for dicts and lists, else
    ``str(value)``; with ``'`` before every formula prefix (see the module)."""
    if value is None:
        return ""
    if isinstance(value, dict | list):
        value = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return _FORMULA_START.sub(r"\1'", str(value))


class _Echo:
    """A file-like object whose ``write`` returns the text (for csv.writer)."""

    def write(self, text: str) -> str:
        return text


def csv_lines(rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """Each row as one CSV line (``\\r\\n``-terminated), every cell quoted and
    passed through :func:`cell`. Lazy, for streaming responses; ``"".join`` it
    for a whole file."""
    writer = csv.writer(_Echo(), quoting=csv.QUOTE_ALL)
    for row in rows:
        yield writer.writerow([cell(value) for value in row])
