"""Risk first: the apps list and the scopes overview sort and filter by highest
risk; the matrix colours and labels each cell by risk, links it to the scope on
the app's page, and shows as many rows as the admin picks, up to a stated cap."""

from __future__ import annotations

import re

from grantsconsole.console.catalog import RISK_RANK, get_catalog
from grantsconsole.console.views import scopes as scope_views
from grantsconsole.grants.models import OktaApp
from tests.factories import make_apps


def _labels(body: str) -> list[str]:
    rows = body.split("<tbody>")[1].split("</tbody>")[0]
    return re.findall(r'<a href="/apps/[^"]+/">([^<]+)</a>', rows)


def _rank(scope_id: str) -> int:
    return RISK_RANK[get_catalog().risk(scope_id)]


def test_the_apps_list_sorts_and_filters_by_highest_risk(admin, db):
    make_apps(10, grants_per_app=1)  # app i holds one scope each
    rank = dict(OktaApp.objects.values_list("label", "max_risk_rank"))
    assert len(set(rank.values())) > 2  # the fixture spans several risks

    body = admin.get("/apps/?sort=-risk").content.decode()
    riskiest_first = _labels(body)
    assert riskiest_first == sorted(rank, key=lambda label: (-rank[label], label))
    assert '<th scope="col" aria-sort="descending"><a href="?sort=risk">' in body
    assert _labels(admin.get("/apps/?sort=risk").content.decode())[0] == min(
        rank, key=lambda label: (rank[label], label)
    )

    high = _labels(admin.get("/apps/?risk=high").content.decode())
    assert high == sorted(label for label in rank if rank[label] >= RISK_RANK["high"])
    critical = _labels(admin.get("/apps/?risk=critical").content.decode())
    assert critical
    assert set(critical) < set(high)
    assert all(rank[label] == RISK_RANK["critical"] for label in critical)
    # a value the form does not offer is no filter, never a 500
    assert len(_labels(admin.get("/apps/?risk=extreme").content.decode())) == 10


def test_the_scopes_overview_sorts_and_filters_by_risk(admin, db):
    make_apps(10, grants_per_app=1)
    body = admin.get("/scopes/?risk=critical").content.decode()
    listed = re.findall(r'<a href="/scopes/([^/"]+)/"><code>', body)
    assert "okta.users.manage" in listed
    assert all(get_catalog().risk(s) == "critical" for s in listed)

    ordered = admin.get("/scopes/?sort=risk&held=1").content.decode()
    listed = re.findall(r'<a href="/scopes/([^/"]+)/"><code>', ordered)
    assert listed
    assert [_rank(s) for s in listed] == sorted(
        (_rank(s) for s in listed), reverse=True
    )
    assert ordered.count('scope="rowgroup"') == 1  # one list, not by resource
    assert '<option value="risk" selected>Riskiest first</option>' in ordered

    everything = admin.get("/scopes/?sort=risk").content.decode()
    assert len(re.findall(r'<a href="/scopes/[^"]+/"><code>', everything)) == len(
        get_catalog().by_id
    )
    assert admin.get("/scopes/?risk=extreme&sort=x").status_code == 200


def test_matrix_cells_show_risk_in_colour_and_words_and_link_to_the_scope(admin, db):
    [app] = make_apps(1, grants_per_app=3)  # apps.read, users.read, users.manage
    body = admin.get("/scopes/matrix/").content.decode()
    users = body.split('href="/apps/0oaT000000App/#row-okta.users.manage"')
    assert len(users) == 2  # the users family: its riskiest scope, manage
    cell = users[0].rsplit("<td", 1)[1] + users[1].split("</td>")[0]
    assert 'class="cell-manage cell-risk-critical"' in cell
    assert '<span aria-hidden="true">M!!!</span>' in cell
    assert (
        '<span class="visually-hidden">manage, critical risk: okta.users.manage</span>'
        in cell
    )
    assert "<strong>!!!</strong> critical" in body  # the legend
    # the link lands on that scope's row of the app's default (held) view
    page = admin.get(f"/apps/{app.okta_id}/").content.decode()
    assert 'id="row-okta.users.manage"' in page


def test_matrix_pages_by_the_size_picked_and_caps_all(admin, db, monkeypatch):
    make_apps(120, grants_per_app=1)
    rows = r'<tr><th scope="row" class="app">'

    def count(url: str) -> int:
        response = admin.get(url)
        assert response.status_code == 200, url
        return len(re.findall(rows, response.content.decode()))

    assert count("/scopes/matrix/") == 50
    assert count("/scopes/matrix/?size=100") == 100
    assert count("/scopes/matrix/?size=500") == 120
    assert count("/scopes/matrix/?size=7") == 50  # not offered: the default
    monkeypatch.setattr(scope_views, "MATRIX_MAX_ROWS", 80)
    body = admin.get("/scopes/matrix/?size=all").content.decode()
    assert len(re.findall(rows, body)) == 80
    assert '"All" shows at most 80 apps on one page' in body
    assert "120 apps, page 1 of 2." in body
    assert 'href="?size=all&amp;page=2"' in body
    assert count("/scopes/matrix/?size=all&page=2") == 40
