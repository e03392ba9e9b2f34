"""Hostile input: markup, script, RTL overrides, 10 kB strings and forged log
lines in everything Okta sends us (app labels, error summaries and causes), and
property-based fuzzing of the console's forms and query strings and of the Okta
client's response parsing. Nothing may execute, forge a log line, reach Okta
when it should not, or turn into a 500.
"""

from __future__ import annotations

import json
import logging
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grantsconsole.grants import services
from grantsconsole.grants.models import OktaApp, ScopeGrant
from grantsconsole.okta.models import (
    ParseError,
    parse_app,
    parse_grant,
    parse_log_event,
    parse_role,
)
from grantsconsole.okta_clients import forget_worker_clients, worker_client
from grantsconsole.ops.logging import RedactingFormatter, RedactingJsonFormatter
from tests.accounts import flow
from tests.conftest import lift_sync_rate_limits
from tests.console.conftest import signed_in

pytestmark = pytest.mark.django_db

FORGED_LINE = "2026-01-01 INFO user=admin granted okta.users.manage"
HOSTILE = {
    "img-onerror": "<img src=x onerror=alert(1)>",
    "script-breakout": '"><script>alert(1)</script>',
    "javascript-url": "javascript:alert(1)",
    "attribute-breakout": "' onmouseover='alert(1)' x='",
    "rtl-override": "Payroll \u202egnp.exe\u202c Portal",
    "log-injection": f"Innocent\n{FORGED_LINE}\r\n{FORGED_LINE}",
    "template-syntax": "{{ settings.SECRET_KEY }} {% debug %}",
    "ten-kb": "A" * 10_240 + "<b>bold</b>",
}
MARKUP = (
    "<script>alert",
    "<img src=x",
    "<b>bold</b>",
    "onmouseover='alert",
)


def _bodies(client, app_ids: list[str]) -> dict[str, str]:
    pages = ["/apps/", "/apps/?q=script", "/audit/", "/sync/", "/scopes/matrix/"]
    pages += [f"/apps/{a}/" for a in app_ids]
    pages += ["/scopes/okta.brands.read/", "/audit/export.csv", "/audit/export.json"]
    out = {}
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        raw = (
            b"".join(response.streaming_content)
            if response.streaming
            else response.content
        )
        out[url] = raw.decode()
    return out


@pytest.mark.design("A-14", "A-23", "A-12")
def test_hostile_app_labels_render_as_text_everywhere(sim, settings, caplog):
    settings.OKTA_ORG_URL = sim.url
    sim.set_rate_limit("apps", 100_000)
    created = {}
    for name, label in HOSTILE.items():
        app = sim.oob_app(
            "create", label=label, kind="web", grants=["okta.brands.read"]
        )
        created[name] = app["id"]
    lift_sync_rate_limits(sim)
    forget_worker_clients()
    caplog.set_level(logging.DEBUG)
    run = services.run_full_sync(client=worker_client(), trigger="drill")
    assert run.status == "succeeded", run.message
    for name, app_id in created.items():
        stored = OktaApp.objects.get(okta_id=app_id).label
        assert stored == HOSTILE[name][:500], name  # kept as text (truncated)
    client = signed_in(flow.SUPER)
    bodies = _bodies(client, list(created.values()))

    for url, body in bodies.items():
        if url.endswith((".csv", ".json")):
            continue
        for bad in MARKUP:
            assert bad not in body, (url, bad)
        assert "javascript:alert" not in re.findall(r'href="([^"]*)"', body), url
        assert 'href="javascript:' not in body.lower(), url
    detail = bodies[f"/apps/{created['script-breakout']}/"]
    assert "&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in detail
    # Template syntax in data is data, not template code.
    assert settings.SECRET_KEY not in "".join(bodies.values())
    # The CSV export cannot start a formula and the JSON stays valid JSON.
    json.loads(bodies["/audit/export.json"])
    # CSP: no inline script can run ('self' or nonces only).
    csp = client.get("/apps/")["Content-Security-Policy"]
    script_src = re.search(r"script-src([^;]*)", csp).group(1).split()
    assert script_src, csp
    assert all(s == "'self'" or s.startswith("'nonce-") for s in script_src), csp
    assert "object-src 'none'" in csp
    # Log injection: every record, formatted as production does (JSON)
    # and as development does (plain), is exactly one line.
    for formatter in (RedactingJsonFormatter(), RedactingFormatter()):
        for record in caplog.records:
            line = formatter.format(record)
            assert "\n" not in line, line[:200]
            assert "\r" not in line, line[:200]
            assert not line.startswith(FORGED_LINE)


@pytest.mark.design("A-14")
def test_hostile_okta_error_text_is_escaped(sim, settings):
    """Okta's errorSummary and errorCauses are shown to the admin as text."""
    settings.OKTA_ORG_URL = sim.url
    lift_sync_rate_limits(sim)
    forget_worker_clients()
    services.run_full_sync(client=worker_client(), trigger="drill")
    app = OktaApp.objects.filter(sign_on_mode="OPENID_CONNECT").exclude(
        grants__scope_id="okta.brands.read"
    )[0]
    body = {
        "errorCode": "E0000001",
        "errorSummary": "Api validation failed: <script>alert('summary')</script>",
        "errorLink": "E0000001",
        "errorId": "oae<img src=x onerror=alert(2)>",
        "errorCauses": [
            {"errorSummary": "<img src=x onerror=alert(3)>\n" + FORGED_LINE}
        ],
    }
    sim.fault(
        method="POST",
        path=rf"/api/v1/apps/{app.okta_id}/grants$",
        status=400,
        body=body,
        times=-1,
    )
    client = signed_in(flow.SUPER)
    response = client.post(
        f"/apps/{app.okta_id}/grants/grant", {"only": "okta.brands.read"}, follow=True
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Not done:" in page
    for bad in ("<script>alert", "<img src=x"):
        assert bad not in page, bad
    audit_page = client.get("/audit/").content.decode()
    assert "<script>alert" not in audit_page
    assert "<img src=x" not in audit_page
    sim.clear_faults()


def test_no_template_or_view_marks_okta_data_safe():
    """A-14 lint: no ``|safe``, ``{% autoescape off %}``, ``SafeString`` or
    ``mark_safe`` anywhere in the project's templates and code: Django escapes
    every value the templates render (tests/console/test_table_templates.py
    feeds the table partials hostile values), and helpers build HTML with
    ``format_html``."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    offenders = []
    for path in [
        *root.glob("templates/**/*.html"),
        *root.glob("grantsconsole/**/*.html"),
    ]:
        text = path.read_text()
        if re.search(r"\|\s*safe\b|autoescape\s+off", text):
            offenders.append(str(path))
    for path in root.glob("grantsconsole/**/*.py"):
        text = path.read_text()
        if re.search(r"SafeString\(|\bmark_safe\b", text):
            offenders.append(str(path.relative_to(root)))
    assert offenders == []


# --- property-based: forms and query strings --------------------------------------------

texts = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=300
) | st.sampled_from(
    [
        "okta.brands.read",
        "okta.users.manage",
        "",
        " ",
        "okta.",
        "../../etc",
        *list(HOSTILE.values()),
    ]
)


@pytest.fixture
def fuzz_org(sim, settings):
    settings.OKTA_ORG_URL = sim.url
    lift_sync_rate_limits(sim)
    forget_worker_clients()
    services.run_full_sync(client=worker_client(), trigger="drill")
    app = (
        OktaApp.objects.filter(sign_on_mode="OPENID_CONNECT", application_type="web")
        .exclude(client_id__endswith="DEMO000x7")
        .exclude(grants__scope_id="okta.brands.read")[0]
    )
    return app, signed_in(flow.SUPER)


@pytest.mark.design("A-14", "A-15")
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(only=texts, scopes=st.lists(texts, max_size=4), confirm=texts)
def test_fuzzed_grant_forms_never_500_and_unknown_scopes_never_reach_okta(
    fuzz_org, sim, only, scopes, confirm
):
    from grantsconsole.okta import scope_catalog

    app, client = fuzz_org
    mark = len(sim.requests())
    data = {"only": only, "scope": scopes, "confirm": confirm}
    for verb in ("grant", "revoke"):
        response = client.post(f"/apps/{app.okta_id}/grants/{verb}", data)
        assert response.status_code < 500, (verb, data, response.status_code)
    sent = [r for r in sim.requests()[mark:] if r["method"] in ("POST", "DELETE")]
    chosen = [only] if only else scopes
    if not all(scope_catalog.get(s) for s in chosen) or not chosen:
        assert sent == [], data
    # Whatever happened, the database agrees with Okta for this app.
    held = {
        g["scopeId"]
        for a in sim.state()["apps"]
        if a["id"] == app.okta_id
        for g in a["grants"]
    }
    local = set(
        ScopeGrant.objects.filter(app=app, revoked_at=None).values_list(
            "scope_id", flat=True
        )
    )
    assert local == held


@pytest.mark.design("A-14")
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    page=st.sampled_from(["/apps/", "/audit/", "/scopes/matrix/", "/sync/"]),
    params=st.dictionaries(
        st.sampled_from(
            [
                "q",
                "sort",
                "type",
                "status",
                "scope",
                "page",
                "after",
                "before",
                "action",
                "actor",
                "app",
                "from",
                "to",
                "changed",
                "manage",
                "fmt",
            ]
        ),
        texts,
        max_size=5,
    ),
)
def test_fuzzed_query_strings_never_500(fuzz_org, page, params):
    _, client = fuzz_org
    response = client.get(page, params)
    assert response.status_code < 500, (page, params, response.status_code)


# --- property-based: the Okta client's response parsing ------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | texts,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=5)
    ),
    max_leaves=20,
)
okta_like = st.fixed_dictionaries(
    {},
    optional={
        "id": json_values | texts,
        "label": json_values | texts,
        "name": json_values | st.just("oidc_client"),
        "signOnMode": json_values | st.just("OPENID_CONNECT"),
        "status": json_values | st.just("ACTIVE"),
        "created": json_values | st.just("2026-01-01T00:00:00.000Z"),
        "lastUpdated": json_values | st.just("2026-01-01T00:00:00.000Z"),
        "scopeId": json_values | st.just("okta.users.read"),
        "issuer": json_values | texts,
        "clientId": json_values | texts,
        "source": json_values | st.just("ADMIN"),
        "type": json_values | st.just("SUPER_ADMIN"),
        "uuid": json_values | texts,
        "published": json_values | st.just("2026-01-01T00:00:00.000Z"),
        "eventType": json_values | texts,
        "actor": json_values,
        "target": json_values,
        "outcome": json_values,
        "settings": json_values,
        "credentials": json_values,
        "_embedded": json_values,
        "_links": json_values,
    },
)


@pytest.mark.design("A-9")
@settings(max_examples=80, deadline=None)
@given(data=okta_like | json_values)
def test_parsers_return_a_value_or_a_parse_error_nothing_else(data):
    for parse in (parse_app, parse_grant, parse_role, parse_log_event):
        try:
            parsed = parse(data)
        except ParseError:
            continue
        # Whatever is accepted has text where text is promised.
        for field in ("id", "scope_id", "label", "type", "uuid"):
            if hasattr(parsed, field):
                assert isinstance(getattr(parsed, field), str), (parse, field)
