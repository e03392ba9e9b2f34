"""One app's page, held first: the scopes the app holds by default, the "Add
scopes" picker (search and filters, server-side), the full catalog as a second
view, the view kept through a confirmation, a step-up and a write, and the
console's, the worker's and public clients' apps marked."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.http import HttpResponse

from grantsconsole.console.catalog import get_catalog
from tests.console.conftest import okta_grants, web_app

HX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "grant-collection"}
CONSOLE_APP = "0oa1consoleDEMO000x7"
WORKER_APP = "0oa1workerDEMO0000x7"


def _ticks(body: str) -> set[str]:
    """The scopes the page offers a checkbox for, in the grant collection table."""
    return set(re.findall(r'name="scope" value="([^"]+)" id="scope-', body))


def _picker(body: str) -> set[str]:
    """The scopes the picker offers to tick."""
    return set(re.findall(r'name="scope" value="([^"]+)" id="pick-', body))


def _hidden(body: str, form_id: str) -> dict[str, str]:
    form = body.split(f'id="{form_id}"')[1].split("</form>")[0]
    fields = re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form)
    return {name: value for name, value in fields if name != "csrfmiddlewaretoken"}


def _app_by_label(sim, label: str) -> dict:
    return next(a for a in sim.state()["apps"] if a["label"] == label)


def test_the_page_lists_the_held_scopes_by_default(admin, mirrored, sim):
    app = web_app(sim, holding="okta.apps.read")
    body = admin.get(f"/apps/{app['id']}/").content.decode()
    assert _ticks(body) == okta_grants(sim, app["id"])
    # the full catalog is a second view, one link away; the picker is closed
    assert 'href="?show=all#grant-collection"' in body
    assert 'href="?pick=1">Add scopes</a>' in body
    assert 'id="picker"' not in body
    full = admin.get(f"/apps/{app['id']}/?show=all").content.decode()
    assert len(_ticks(full)) >= len(get_catalog().by_id)
    # an app holding nothing says so and offers the picker
    empty = _app_by_label(sim, "Expense Reports")
    body = admin.get(f"/apps/{empty['id']}/").content.decode()
    assert "This app holds no Okta API scope." in body
    assert _ticks(body) == set()


def test_the_picker_filters_by_text_resource_kind_and_risk(admin, mirrored, sim):
    app = web_app(sim, holding="okta.apps.read", without="okta.users.manage")
    url = f"/apps/{app['id']}/?pick=1"
    every = _picker(admin.get(url).content.decode())
    assert "okta.apps.read" not in every  # held: listed as held, not offered
    assert every == set(get_catalog().by_id) - okta_grants(sim, app["id"])

    found = _picker(admin.get(url + "&q=BRANDS").content.decode())
    assert found
    assert all("brands" in s.lower() for s in found)
    described = _picker(admin.get(url + "&q=System+Log").content.decode())
    assert "okta.logs.read" in described  # matched by its description

    users = _picker(admin.get(url + "&resource=users").content.decode())
    assert "okta.users.manage" in users
    assert all(get_catalog().resource(s) == "users" for s in users)
    manage = _picker(admin.get(url + "&kind=manage").content.decode())
    assert manage
    assert all(get_catalog().get(s).kind == "manage" for s in manage)
    other = _picker(admin.get(url + "&kind=other").content.decode())
    assert "okta.users.read.self" in other
    assert all(get_catalog().get(s).kind not in ("read", "manage") for s in other)
    critical = _picker(admin.get(url + "&risk=critical").content.decode())
    assert "okta.users.manage" in critical
    assert all(get_catalog().risk(s) == "critical" for s in critical)
    low = _picker(admin.get(url + "&risk=low&kind=read").content.decode())
    assert "okta.brands.read" in low
    assert "okta.users.read" not in low

    nothing = admin.get(url + "&q=no-such-scope").content.decode()
    assert _picker(nothing) == set()
    assert "No catalog scope matches these filters." in nothing
    # a filter the form does not know is ignored, never a 500
    odd = admin.get(url + "&resource=%3Cscript%3E&risk=extreme&kind=x")
    assert odd.status_code == 200
    assert _picker(odd.content.decode()) == every


def test_the_live_filter_answers_its_results_and_keeps_what_was_ticked(
    admin, mirrored, sim
):
    app = web_app(sim, without="okta.brands.read")
    response = admin.get(
        f"/apps/{app['id']}/?pick=1&q=groups&scope=okta.brands.read",
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="picker-results",
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<fieldset id="picker-results"')
    assert "<html" not in body
    assert "HX-Target" in response["Vary"]
    offered = _picker(body)
    assert "okta.brands.read" in offered  # ticked before the filter changed
    assert 'value="okta.brands.read" id="pick-okta.brands.read" checked' in body
    assert all("groups" in s or s == "okta.brands.read" for s in offered)
    # every write form of the page takes the new filter (out of band for the
    # forms outside the results), so a write keeps the view the admin sees
    for form_id in ("picker-grant", "grant-form", "grant-by-id"):
        fields = body.split(f'<span id="view-{form_id}"')[1].split("</span>")[0]
        assert '<input type="hidden" name="q" value="groups">' in fields
    assert body.count('hx-swap-oob="true"') == 2


def test_granting_from_the_picker_keeps_the_view(admin, mirrored, sim):
    app = web_app(sim, without="okta.brands.read")
    page = admin.get(f"/apps/{app['id']}/?show=all&pick=1&q=brands").content.decode()
    view = {"show": "all", "pick": "1", "q": "brands"}
    assert _hidden(page, "picker-grant") == view
    assert _hidden(page, "grant-form") == view
    # without JavaScript: post/redirect/get back to the same view
    done = admin.post(
        f"/apps/{app['id']}/grants/grant", {"scope": ["okta.brands.read"], **view}
    )
    assert done.status_code == 302
    location = urlsplit(done["Location"])
    assert dict(parse_qsl(location.query)) == view
    assert location.fragment == "grant-collection"
    assert "okta.brands.read" in okta_grants(sim, app["id"])
    # in place: the revoke's confirmation carries the view, and after it the
    # swapped collection still has the picker, filtered, with the scope back
    # among the candidates
    asked = admin.post(
        f"/apps/{app['id']}/grants/revoke",
        {"only": "okta.brands.read", **view},
        **HX,
    ).content.decode()
    assert "Revoked." not in asked
    for name, value in view.items():
        assert f'name="{name}" value="{value}"' in asked
    body = admin.post(
        f"/apps/{app['id']}/grants/revoke",
        {"only": "okta.brands.read", "confirm": "yes", **view},
        **HX,
    ).content.decode()
    assert "Revoked." in body
    assert _hidden(body, "picker-grant") == view
    assert 'value="brands"' in body
    assert "okta.brands.read" in _picker(body)


def test_a_confirmation_and_a_step_up_carry_the_view(admin, mirrored, sim, monkeypatch):
    app = web_app(sim, without="okta.users.manage")
    view = {"show": "manage", "pick": "1", "kind": "manage", "risk": "critical"}
    asked = admin.post(
        f"/apps/{app['id']}/grants/grant", {"scope": ["okta.users.manage"], **view}
    ).content.decode()
    assert 'name="confirm" value="yes"' in asked
    confirm = asked.split('<div class="confirm"')[1]
    assert _hidden(confirm, "confirm-grant") == {
        "scope": "okta.users.manage",
        "confirm": "yes",
        **view,
    }
    assert (
        f'href="/apps/{app["id"]}/?show=manage&amp;pick=1&amp;kind=manage'
        '&amp;risk=critical" hx-get=' in confirm
    )

    pending = {}

    def step_up(request, resume_url, pending_post_data):
        pending.update(pending_post_data.dict())
        return HttpResponse("step up")

    monkeypatch.setattr("grantsconsole.console.views.apps.require_recent_auth", step_up)
    admin.post(
        f"/apps/{app['id']}/grants/grant",
        {"scope": ["okta.users.manage"], "confirm": "yes", **view},
    )
    assert {k: pending[k] for k in view} == view
    assert "okta.users.manage" not in okta_grants(sim, app["id"])


@pytest.mark.parametrize(
    ("okta_id", "mark"),
    [(CONSOLE_APP, "this console's app"), (WORKER_APP, "the worker's app")],
)
def test_the_consoles_and_the_workers_own_apps_are_marked(
    admin, mirrored, settings, okta_id, mark
):
    settings.OKTA_CONSOLE_CLIENT_ID = CONSOLE_APP
    settings.OKTA_WORKER_CLIENT_ID = WORKER_APP
    body = html.unescape(admin.get(f"/apps/{okta_id}/").content.decode())
    assert f'<span class="badge own-app">{mark}</span>' in body
    assert "_CLIENT_ID</code>)" in body
    listed = admin.get("/apps/?q=Grants+Console").content.decode()
    assert listed.count('class="badge own-app"') == 2
    matrix = html.unescape(admin.get("/scopes/matrix/?size=all").content.decode())
    assert f'<span class="badge own-app">{mark}</span>' in matrix


def test_a_public_client_holding_manage_scopes_is_flagged(admin, mirrored, sim):
    flagged = "public client with manage scopes"
    mobile = _app_by_label(sim, "Admin Mobile")  # native, okta.users.manage
    body = admin.get(f"/apps/{mobile['id']}/").content.decode()
    assert flagged in body
    assert "A public client holds manage scopes." in body
    directory = _app_by_label(sim, "Team Directory")  # browser, reads only
    assert flagged not in admin.get(f"/apps/{directory['id']}/").content.decode()
    web = _app_by_label(sim, "HR Onboarding")  # web app, manage scopes
    assert flagged not in admin.get(f"/apps/{web['id']}/").content.decode()
    listed = admin.get("/apps/?manage=on").content.decode()
    row = listed.split(">Admin Mobile</a>")[1].split("</tr>")[0]
    assert flagged in row
    assert flagged not in listed.split(">HR Onboarding</a>")[1].split("</tr>")[0]
