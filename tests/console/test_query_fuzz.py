"""Every list page answers any query string with a page, a 400 or (a page past
the end) a redirect to its first page, never a 500: out-of-range page numbers and
dates, garbage, and whatever hypothesis makes up."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import make_apps

LIST_PAGES = [
    "/apps/",
    "/scopes/",
    "/scopes/matrix/",
    "/scopes/okta.users.read/",  # the apps holding a scope, searchable
    "/audit/",
    "/sync/",
    "/reports/",
]
# Every query parameter some list page reads.
PARAMETERS = [
    "page",
    "before",
    "date_from",
    "date_to",
    "changed",
    "q",
    "type",
    "status",
    "scope",
    "manage",
    "unreadable",
    "sort",
    "kind",
    "held",
    "app",
    "actor",
    "action",
    "external",
    "show",
    "size",
    "risk",
    "pick",
    "resource",
    "window",
]
EDGE_VALUES = [
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "99999999999999999999999999",
    "-1",
    "0",
    "1e9",
    "NaN",
    "9999-12-31",
    "0001-01-01",
    "10000-01-01",
    "2026-02-30",
    "",
    "\x00",
    "x" * 5000,
]


def assert_answered(path, response, query):
    if response.status_code == 302:  # past the last page: back to the first
        assert response["Location"].split("?")[0] == path, query
        assert "page=" not in response["Location"], query
    else:
        assert response.status_code in (200, 400), (query, response.content[:300])


@pytest.fixture
def filled(admin):
    make_apps(3)
    return admin


@pytest.mark.parametrize("path", LIST_PAGES)
@pytest.mark.parametrize(
    "query",
    [
        {"page": "9223372036854775807"},
        {"page": "-1"},
        {"page": "99999999999999999999999999"},
        {"before": "9223372036854775808"},
        {"date_to": "9999-12-31"},
        {"date_from": "0001-01-01"},
        {"date_from": "9999-12-31", "date_to": "0001-01-01"},
        {"changed": "3650"},
        {"page": "garbage", "date_to": "garbage", "before": "garbage"},
        {"q": "\x00", "scope": "\x00", "actor": "\x00"},
    ],
)
def test_out_of_range_values_answer_a_page_or_400(filled, path, query):
    assert_answered(path, filled.get(path, query), query)


@pytest.mark.parametrize("path", LIST_PAGES)
def test_any_query_string_answers_a_page_or_400(filled, path):
    @settings(
        max_examples=25,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
        derandomize=True,
    )
    @given(
        st.dictionaries(
            st.sampled_from(PARAMETERS),
            st.sampled_from(EDGE_VALUES) | st.text(max_size=40),
            max_size=5,
        )
    )
    def check(query):
        assert_answered(path, filled.get(f"{path}?{urlencode(query)}"), query)

    check()
