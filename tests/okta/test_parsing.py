"""Link headers, WWW-Authenticate challenges and rate-limit headers (no network)."""

import pytest
from requests.structures import CaseInsensitiveDict

from grantsconsole.okta.errors import (
    OktaForeignLink,
    OktaMalformedResponse,
    parse_www_authenticate,
)
from grantsconsole.okta.links import check_same_origin, parse_links
from grantsconsole.okta.pacing import bucket_for, parse_rate_limit_headers

ORG = "https://example.okta.com"


def test_links_one_header_per_relation_and_comma_joined():
    separate = [
        f'<{ORG}/api/v1/apps?limit=2>; rel="self"',
        f'<{ORG}/api/v1/apps?after=0oa2&limit=2>; rel="next"',
    ]
    assert parse_links(separate)["next"] == f"{ORG}/api/v1/apps?after=0oa2&limit=2"
    joined = ", ".join(separate)
    assert parse_links(joined) == parse_links(separate)
    assert parse_links(f"<{ORG}/x?a=1,2>; rel=next")["next"] == f"{ORG}/x?a=1,2"
    assert parse_links(f'<{ORG}/a>; rel="prev next"')["next"] == f"{ORG}/a"
    assert parse_links(None) == {}
    assert "next" not in parse_links(f'<{ORG}/api/v1/apps>; rel="self"')


def test_two_different_next_links_are_an_error():
    with pytest.raises(OktaMalformedResponse):
        parse_links(f'<{ORG}/a>; rel="next", <{ORG}/b>; rel="next"')


@pytest.mark.parametrize(
    "url",
    [
        "http://example.okta.com/api/v1/apps?after=x",
        "https://evil.example.com/api/v1/apps?after=x",
        "https://example.okta.com:8443/api/v1/apps?after=x",
        "https://example.okta.com.evil.com/api/v1/apps",
        "//evil.example.com/api/v1/apps",
    ],
)
def test_foreign_next_links_are_refused(url):
    with pytest.raises(OktaForeignLink):
        check_same_origin(url, ORG, "/api/v1/apps")


def test_same_origin_allows_default_port_and_checks_path():
    assert check_same_origin(
        "https://EXAMPLE.okta.com:443/api/v1/apps?after=1", ORG, "/api/v1/apps"
    )
    with pytest.raises(OktaForeignLink):
        check_same_origin(f"{ORG}/api/v1/users?after=1", ORG, "/api/v1/apps")


def test_www_authenticate_bearer_and_dpop_forms():
    bearer = (
        'Bearer authorization_uri="https://example.okta.com/oauth2/v1/authorize", '
        'realm="https://example.okta.com", scope="okta.groups.read", '
        'error="insufficient_scope", error_description="The access token provided '
        'does not contain the required scopes.", resource="/api/v1/groups"'
    )
    (challenge,) = parse_www_authenticate(bearer)
    assert challenge.scheme == "Bearer"
    assert challenge.error == "insufficient_scope"
    assert challenge.scope == "okta.groups.read"
    dpop = (
        'DPoP algs="RS256 RS384 RS512 ES256 ES384 ES512", '
        'authorization_uri="http://org/oauth2/v1/authorize", realm="http://org", '
        'scope="okta.policies.read", error="insufficient_scope", '
        'error_description="The access token provided does not contain the '
        'required scopes.", resource="/api/v1/policies"'
    )
    (challenge,) = parse_www_authenticate(dpop)
    assert (challenge.scheme, challenge.scope) == ("DPoP", "okta.policies.read")
    assert challenge.params["algs"].startswith("RS256 ")
    both = parse_www_authenticate(f"{dpop}, {bearer}")
    assert [c.scheme for c in both] == ["DPoP", "Bearer"]
    assert [c.scope for c in both] == ["okta.policies.read", "okta.groups.read"]
    assert parse_www_authenticate("") == []
    assert parse_www_authenticate('Bearer error="invalid_token"')[0].scope == ""


def test_rate_limit_headers_valid_garbled_and_duplicated():
    headers = CaseInsensitiveDict(
        {
            "X-Rate-Limit-Limit": "100",
            "X-Rate-Limit-Remaining": "42",
            "X-Rate-Limit-Reset": "1800000060",
            "Date": "Fri, 15 Jan 2027 08:00:00 GMT",
        }
    )
    info = parse_rate_limit_headers(headers)
    assert (info.valid, info.limit, info.remaining, info.reset) == (
        True,
        100,
        42,
        1800000060,
    )
    assert info.date is not None
    for name, value in [
        ("X-Rate-Limit-Reset", "1800000060, 1800000060"),
        ("X-Rate-Limit-Remaining", "lots"),
        ("X-Rate-Limit-Limit", "-1"),
    ]:
        broken = CaseInsensitiveDict(headers)
        broken[name] = value
        assert not parse_rate_limit_headers(broken).valid
    missing = CaseInsensitiveDict(headers)
    del missing["X-Rate-Limit-Reset"]
    assert not parse_rate_limit_headers(missing).valid
    concurrency = CaseInsensitiveDict(headers)
    concurrency["X-Rate-Limit-Limit"] = "0"
    concurrency["X-Rate-Limit-Remaining"] = "0"
    assert parse_rate_limit_headers(concurrency).concurrency


def test_buckets():
    assert bucket_for("/api/v1/apps") == "/api/v1/apps*"
    assert bucket_for("/api/v1/apps/0oa1/grants/oag1") == "/api/v1/apps*"
    assert bucket_for(f"{ORG}/api/v1/apps?after=1") == "/api/v1/apps*"
    assert bucket_for("/api/v1/apps/0oa1") == "/api/v1/apps/{appId}"
    assert bucket_for("/api/v1/logs?since=x") == "/api/v1/logs"
    assert bucket_for("/api/v1/users/00u1/roles") == "/api/v1/users*"
    assert bucket_for("/api/v1/groups") == "/api/v1/*"
    assert bucket_for(f"{ORG}/oauth2/v1/clients/0oa1/roles") == "/oauth2/v1/clients*"
    assert bucket_for("/api/v1/appsettings") == "/api/v1/*"


def test_json_strings_are_made_storable_and_valid_text_is_kept():
    """NUL and lone surrogates become their literal escapes; a surrogate pair
    (one character) and everything else stays as it was."""
    from grantsconsole.okta.transport import decode_json

    raw = b'{"label": "a\\ud800b\\u0000c\\udfff", "ok": ["\\ud83d\\ude00", "\\\\u0000", 1]}'
    assert decode_json(raw) == {
        "label": "a\\ud800b\\u0000c\\udfff",
        "ok": ["\U0001f600", "\\u0000", 1],
    }
    assert decode_json(b'{"label": "plain \\u00e9"}') == {"label": "plain \u00e9"}
