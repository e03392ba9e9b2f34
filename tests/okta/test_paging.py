"""Every list operation the client follows across pages (``Link: rel="next"``)
refuses a link that repeats one already followed (a paging loop would never
end) and a link to another host or API path (it would carry the token off the
org), before sending anything to it."""

from __future__ import annotations

import pytest

from grantsconsole.okta import OktaForeignLink, OktaMalformedResponse

from .conftest import CONSOLE_ID

SERVICES = "/integrations/api/v1/api-services"
ROLE = "/oauth2/v1/clients/0oa1workerDEMO0000x7/roles/ra1worker/targets/groups"

# (name, the path answered, how the client reads it)
LISTS = [
    (
        "grants",
        f"/api/v1/apps/{CONSOLE_ID}/grants",
        lambda c: c.list_grants(CONSOLE_ID),
    ),
    (
        "client roles",
        "/oauth2/v1/clients/0oa1workerDEMO0000x7/roles",
        lambda c: c.list_client_roles("0oa1workerDEMO0000x7"),
    ),
    (
        "role targets",
        ROLE,
        lambda c: c.list_group_target_role_for_client(
            "0oa1workerDEMO0000x7", "ra1worker"
        ),
    ),
    (
        "refresh tokens",
        f"/api/v1/apps/{CONSOLE_ID}/tokens",
        lambda c: c.list_oauth2_tokens_for_application(CONSOLE_ID),
    ),
    (
        "API service integrations",
        SERVICES,
        lambda c: c.list_api_service_integration_instances(),
    ),
]


@pytest.mark.parametrize(("name", "path", "read"), LISTS, ids=[n for n, _, _ in LISTS])
def test_a_repeated_paging_link_is_a_malformed_answer_not_a_loop(
    sim, ssws_client, name, path, read
):
    loop = f'<{sim.url}{path}?after=same>; rel="next"'
    sim.fault(f"^{path}$", status=200, body=[], headers={"Link": loop}, times=-1)
    with pytest.raises(OktaMalformedResponse, match="repeated a paging link"):
        read(ssws_client)
    assert len([r for r in sim.requests() if r["path"] == path]) == 2


@pytest.mark.parametrize(("name", "path", "read"), LISTS, ids=[n for n, _, _ in LISTS])
@pytest.mark.parametrize(
    "link",
    ["https://evil.example.net{path}", "{org}/api/v1/users"],
    ids=["host", "path"],
)
def test_a_paging_link_off_the_org_or_the_path_is_not_followed(
    sim, ssws_client, name, path, read, link
):
    url = link.format(path=path, org=sim.url)
    sim.fault(
        f"^{path}$", status=200, body=[], headers={"Link": f'<{url}>; rel="next"'}
    )
    with pytest.raises(OktaForeignLink):
        read(ssws_client)
    assert [r["path"] for r in sim.requests()] == [path]
