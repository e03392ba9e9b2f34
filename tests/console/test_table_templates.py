"""The long tables' row partials escape every value (A-14).

Each partial gets the same hostile text in every field that can come from Okta
or the database; the HTML must keep it as text (no tag, no attribute break-out),
and a parser must find exactly the elements the template writes itself.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html.parser import HTMLParser
from types import SimpleNamespace

import pytest
from django.template.loader import render_to_string

from grantsconsole.console.presenters import Holders, MatrixCell, MatrixRow, ScopeRow
from grantsconsole.console.templatetags import console as tags
from grantsconsole.grants.privilege import assess_integration
from grantsconsole.grants.services import api_services

EVIL = "\"'><script>alert(1)</script><img src=x onerror=alert(2)>&amp;"
WHEN = datetime(2026, 11, 29, 14, 5, tzinfo=UTC)


class Tags(HTMLParser):
    """The start tags and attribute values of a fragment."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [v or "" for _, v in attrs]

    def handle_data(self, data):
        self.text.append(data)


def render(name: str, **context) -> str:
    """The partial ``name`` (``template.html#partial``) rendered with ``context``."""
    return render_to_string(name, context)


def parsed(html: str) -> Tags:
    p = Tags()
    p.feed(str(html))
    return p


def assert_contained(html: str) -> Tags:
    """No tag of the hostile text became markup, and its text survived as text."""
    p = parsed(html)
    assert "script" not in p.tags
    assert "img" not in p.tags
    assert "<script>" not in html
    assert "<img" not in html
    assert any(EVIL in t or "alert(1)" in t for t in p.text + p.attrs)
    return p


def _event(**fields) -> SimpleNamespace:
    """An audit row as the audit page reads it."""
    row = {
        "seq": 7,
        "created_at": WHEN,
        "actor_id": "",
        "app_okta_id": "",
        "app_label": "",
    }
    return SimpleNamespace(**{**row, **fields})


def test_grant_rows_escape_scope_grantor_and_description():
    grant = SimpleNamespace(
        created_by_id=EVIL,
        created_by_type=EVIL,
        granted_by=EVIL,
        issuer=EVIL,  # not the org: the issuer warning shows it, escaped
        created=WHEN,
        first_seen_at=WHEN,
    )
    info = SimpleNamespace(resource=EVIL, description=EVIL, kind=EVIL, risk_reason=EVIL)
    rows = [
        ScopeRow(scope_id=EVIL, info=info, grant=grant, risk=EVIL, is_manage=True),
        ScopeRow(scope_id=EVIL, info=None, grant=None, risk="", is_manage=False),
    ]
    html = render(
        "apps/detail.html#grant-rows",
        rows=rows,
        editable=True,
        grant_url="/apps/x/grants/grant",
        revoke_url="/apps/x/grants/revoke",
    )
    p = assert_contained(html)
    assert p.tags.count("tr") == 2
    assert p.tags.count("button") == 2
    assert p.tags.count("input") == 2
    assert '<time datetime="2026-11-29T14:05:00+00:00">' in html


def test_scope_overview_and_uncatalogued_rows_escape_labels_and_ids():
    holders = Holders(count=5, preview=[(EVIL, EVIL), ("0oa1", "")])
    info = SimpleNamespace(name=EVIL, kind="manage", description=EVIL, risk_reason=EVIL)
    groups = [("okta.x", [{"info": info, "holders": holders, "risk": "critical"}])]
    html = render("scopes/list.html#scope-rows", rows=groups[0][1])
    p = assert_contained(html)
    # The scope link, two holder links, "all 5".
    assert p.tags.count("a") == 4
    # An id cannot leave its path segment: "/" and "?" are percent-encoded.
    assert all(not a.startswith('/scopes/"') for a in p.attrs)
    html = render(
        "scopes/list.html#uncatalogued-rows",
        uncatalogued=[("okta.x/../../admin?y", holders)],
    )
    assert 'href="/scopes/okta.x%2F..%2F..%2Fadmin%3Fy/"' in html
    assert_contained(html)


def test_matrix_app_and_audit_rows_escape_every_okta_string():
    app = SimpleNamespace(
        okta_id=EVIL,
        label=EVIL,
        client_id=EVIL,
        status=EVIL,
        removed_at=None,
        grants_state="unknown",
        grants_error=EVIL,
        application_type=EVIL,
        grant_count=3,
        manage_count=1,
        max_risk="high",
        synced_at=WHEN,
        last_change_at=None,
    )
    app.type_label = EVIL
    assert_contained(render("apps/list.html#app-row", app=app))
    matrix = render(
        "scopes/matrix.html#matrix-row",
        row=MatrixRow(
            app=app, cells=[MatrixCell("manage", "high", EVIL), None], manage_count=1
        ),
    )
    p = parsed(matrix)
    assert "script" not in p.tags
    assert "<script>" not in matrix
    assert p.tags.count("td") == 4  # the count, the effective privilege, two cells
    held = api_services.Holder(EVIL, EVIL, EVIL, (EVIL, "okta.users.manage"))
    matrix = render(
        "scopes/matrix.html#matrix-row",
        row=MatrixRow(
            app=None,
            cells=[MatrixCell("manage", "critical", EVIL), None],
            manage_count=1,
            integration=held,
            privilege=assess_integration(held.scopes),
        ),
    )
    p = parsed(matrix)
    assert "script" not in p.tags
    assert "<script>" not in matrix
    assert p.tags.count("td") == 4
    event = _event(
        action=EVIL,
        outcome=EVIL,
        actor_login=EVIL,
        app_okta_id=EVIL,
        app_label=EVIL,
        scope_id=EVIL,
        okta_request_id=EVIL,
    )
    assert_contained(render("audit/list.html#audit-row", e=event))
    assert_contained(render("apps/list.html#scope-options", scope_ids=[EVIL]))


@pytest.mark.parametrize(
    ("risk", "html"),
    [
        ("critical", '<span class="badge risk-critical">critical risk</span>'),
        ("low", '<span class="badge risk-low">low risk</span>'),
        (
            "odd<",
            '<span class="badge risk-high">odd&lt;</span>',
        ),  # unknown: styled high
        ("", ""),
    ],
)
def test_risk_badge_states_the_risk_in_words(risk, html):
    assert tags.risk_badge(risk) == html


def test_url_for_builds_what_reverse_builds_and_keeps_ids_in_one_segment():
    from django.urls import reverse

    app_url = tags.url_for("app-detail")
    assert app_url("0oa1x") == reverse("app-detail", args=["0oa1x"])
    assert app_url("a b&c") == reverse("app-detail", args=["a b&c"])
    assert app_url("../x") == "/apps/..%2Fx/"
    with pytest.raises(ValueError, match="one str argument"):
        tags.url_for("sync-detail")  # <int:run_id>


def test_cells_are_separated_in_the_text_of_a_row():
    """As the template loops wrote them: whitespace between cells, so a row's
    text reads "… Z Granted scope success …", not "ZGranted scopesuccess" (copy and paste,
    text search, and tests/browser's row filters rely on it)."""
    event = _event(
        action="grant",
        outcome="success",
        actor_login="a@example.com",
        scope_id="okta.groups.read",
        okta_request_id="req1",
    )
    text = "".join(parsed(render("audit/list.html#audit-row", e=event)).text)
    assert ":00Z\nGranted scope\nsuccess\na@example.com" in text


def test_url_for_follows_the_script_prefix():
    """Behind a path prefix (SCRIPT_NAME), as reverse() does; builders are
    cached per prefix, so one prefix never leaks into another's links."""
    from django.urls import get_script_prefix, reverse, set_script_prefix

    before = get_script_prefix()
    try:
        set_script_prefix("/console/")
        assert tags.url_for("app-detail")("0oa1") == "/console/apps/0oa1/"
        assert reverse("app-detail", args=["0oa1"]) == "/console/apps/0oa1/"
    finally:
        set_script_prefix(before)
    assert tags.url_for("app-detail")("0oa1") == reverse("app-detail", args=["0oa1"])
