"""The scope page at sizes beyond the normal: the holders list is cut at a cap,
says so, and the apps to grant it to are still offered."""

from __future__ import annotations

import pytest

from grantsconsole.console import selectors
from tests.factories import make_apps


@pytest.mark.django_db
def test_holders_beyond_the_cap_are_cut_and_candidates_are_still_listed(
    admin, monkeypatch
):
    # make_apps gives each app scopes[(i + j) % 10]: with 5 grants each, half
    # the apps hold okta.users.manage (index 2) and half do not.
    make_apps(20, grants_per_app=5)
    monkeypatch.setattr(selectors, "SCOPE_APPS_LIMIT", 3)

    context = admin.get("/scopes/okta.users.manage/").context

    assert [a.label for a in context["holders"]] == ["App 0000", "App 0001", "App 0002"]
    assert context["truncated"]
    assert [a.label for a in context["candidates"]][:2] == ["App 0003", "App 0004"]
    assert len(context["candidates"]) == 10
