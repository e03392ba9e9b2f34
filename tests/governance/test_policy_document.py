"""The policy document: what each rule kind accepts, and the refusal of an
invalid text with the line, the rule and why."""

from __future__ import annotations

from pathlib import Path

import pytest

from grantsconsole.governance.policy import PolicyInvalid, Problem, parse

DEMO = Path(__file__).resolve().parents[2] / "policy" / "demo.yaml"


def problems(text: str) -> list[Problem]:
    with pytest.raises(PolicyInvalid) as caught:
        parse(text)
    return caught.value.problems


def test_the_demo_policy_is_valid_and_holds_the_example_rules():
    policy = parse(DEMO.read_text())
    assert [r.kind for r in policy.rules] == [
        "forbid_scopes",
        "forbid_scopes",
        "require_auth_method",
        "require_owner_and_end",
    ]
    assert policy.allowlisted("0oa1consoleDEMO000x7", "okta.appGrants.manage")
    assert not policy.allowlisted("0oa1workerDEMO0000x7", "okta.appGrants.manage")


def test_scope_patterns_take_ids_globs_and_the_word_manage():
    policy = parse(
        "version: 1\nrules:\n"
        "  - {id: a, kind: forbid_scopes, scopes: [okta.users.read, 'okta.*.manage']}\n"
        "  - {id: b, kind: forbid_scopes, scopes: [manage]}\n"
    )
    a, b = (r.scopes for r in policy.rules)
    assert a.matches("okta.users.read")
    assert a.matches("okta.apps.manage")
    assert not a.matches("okta.users.read.self")
    assert b.matches("okta.users.manage")
    # The catalog's *.manage self scopes are not manage scopes.
    assert not b.matches("okta.myAccount.email.manage")


@pytest.mark.parametrize(
    ("text", "line", "rule", "why"),
    [
        ("version: 1\nrules:\n  - id: x\n    kind: [\n", 5, "", "not valid YAML"),
        ("version: 2\n", 1, "", "version must be 1"),
        ("- a\n", 1, "", "must be a mapping"),
        (
            "version: 1\nrules:\n  - id: no-admin\n    kind: forbid_scopes\n"
            "    scopes: [users.manage]\n",
            5,
            "no-admin",
            "'users.manage' in scopes is not a scopeId",
        ),
        (
            "version: 1\nrules:\n  - id: keys\n    kind: require_auth_method\n"
            "    method: secret\n",
            5,
            "keys",
            "method must be one of",
        ),
        (
            "version: 1\nrules:\n  - id: k\n    kind: forbid_scope\n",
            4,
            "k",
            "kind 'forbid_scope' is not one of",
        ),
        (
            "version: 1\nrules:\n  - id: k\n    kind: require_owner_and_end\n"
            "    colour: red\n",
            5,
            "k",
            "unknown key 'colour'",
        ),
        (
            "version: 1\nrules:\n  - {id: a, kind: require_owner_and_end}\n"
            "  - {id: a, kind: require_owner_and_end}\n",
            4,
            "a",
            "the id a is used twice",
        ),
        (
            "version: 1\napps:\n  0oaX:\n    allowed_scopes: [okta.users.read]\n"
            "    required_scopes: [okta.users.manage]\n",
            5,
            "apps.0oaX",
            "okta.users.manage is required but not in allowed_scopes",
        ),
        (
            "version: 1\napps:\n  0oaX:\n    allowed_scopes: []\n"
            "  0oaX:\n    allowed_scopes: []\n",
            5,
            "",
            "the key '0oaX' is given twice",
        ),
        (
            "version: 1\nrules:\n  - id: p\n    kind: forbid_scopes\n"
            "    scopes: [okta.users.manage]\n    app_types: [spa]\n",
            6,
            "p",
            "app_types has 'spa'",
        ),
    ],
)
def test_an_invalid_policy_is_refused_with_line_rule_and_why(text, line, rule, why):
    found = problems(text)
    assert any(p.line == line and p.rule == rule and why in p.why for p in found), found
    assert str(found[0]).startswith("line ")
