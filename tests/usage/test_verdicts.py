"""Each verdict, and the rule that nothing is called unused before the evidence
covers the window."""

from datetime import UTC, datetime, timedelta

import pytest

from grantsconsole.usage.verdicts import (
    Coverage,
    Evidence,
    Verdict,
    clamp_window,
    judge,
    missing,
    read_twin,
)

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
FULL = Coverage(NOW - timedelta(days=400), NOW)


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def test_a_scope_issued_within_the_window_is_in_use():
    j = judge("okta.users.read", Evidence(last_issued_at=ago(89)), FULL)
    assert j.verdict is Verdict.IN_USE


def test_a_scope_not_issued_within_the_window_is_unused():
    j = judge("okta.users.read", Evidence(last_issued_at=ago(91)), FULL)
    assert j.verdict is Verdict.UNUSED
    assert judge("okta.users.read", Evidence(), FULL).verdict is Verdict.UNUSED


def test_the_window_is_choosable():
    evidence = Evidence(last_issued_at=ago(120))
    assert judge("okta.users.read", evidence, FULL, window_days=90).verdict == "unused"
    assert judge("okta.users.read", evidence, FULL, window_days=180).verdict == "in use"


def test_a_manage_scope_issued_but_never_exercised_is_reducible_to_its_read_twin():
    j = judge("okta.users.manage", Evidence(last_issued_at=ago(3)), FULL)
    assert j.verdict is Verdict.REDUCIBLE
    assert "okta.users.read" in j.why


def test_a_manage_scope_exercised_by_a_write_is_in_use():
    evidence = Evidence(last_issued_at=ago(3), last_exercised_at=ago(80))
    assert judge("okta.users.manage", evidence, FULL).verdict is Verdict.IN_USE


def test_a_write_older_than_the_window_does_not_keep_manage_in_use():
    evidence = Evidence(last_issued_at=ago(3), last_exercised_at=ago(100))
    assert judge("okta.users.manage", evidence, FULL).verdict is Verdict.REDUCIBLE


def test_nothing_is_unused_or_reducible_before_the_whole_window_was_observed():
    partial = Coverage(NOW - timedelta(days=30), NOW)
    unused = judge("okta.users.read", Evidence(), partial)
    assert unused.verdict is Verdict.NO_DATA
    assert "30 of 90 days" in unused.why
    # Use seen inside the partial coverage is still use.
    used = judge("okta.users.read", Evidence(last_issued_at=ago(1)), partial)
    assert used.verdict is Verdict.IN_USE
    # Issued manage: reducibility is not proven yet, so it is in use.
    issued = judge("okta.users.manage", Evidence(last_issued_at=ago(1)), partial)
    assert issued.verdict is Verdict.IN_USE


def test_the_window_ends_where_reading_stopped_not_now():
    # Reading stopped 200 days ago: the last use before then still counts.
    stale = Coverage(NOW - timedelta(days=400), NOW - timedelta(days=200))
    j = judge("okta.users.read", Evidence(last_issued_at=ago(250)), stale)
    assert j.verdict is Verdict.IN_USE


def test_before_the_first_poll_there_is_no_data():
    j = judge("okta.users.read", Evidence(last_issued_at=ago(1)), Coverage(None, None))
    assert j.verdict is Verdict.NO_DATA


def test_missing_lists_denied_scopes_the_app_still_does_not_hold():
    denied = {
        "okta.groups.manage": ago(5),
        "okta.users.read": ago(5),  # granted since
        "okta.logs.read": ago(120),  # outside the window
    }
    assert missing({"okta.users.read"}, denied, FULL) == ["okta.groups.manage"]


@pytest.mark.parametrize(
    ("given", "days"),
    [(None, 90), ("x", 90), (7, 30), (400, 365), ("180", 180)],
)
def test_the_window_is_clamped_to_30_to_365_days(given, days):
    assert clamp_window(given) == days


def test_read_twins_exist_only_for_catalogued_reads():
    assert read_twin("okta.users.manage") == "okta.users.read"
    assert read_twin("okta.users.read") is None
    assert read_twin("okta.unknownThing.manage") is None


def test_a_grant_held_for_less_than_the_window_is_not_judged_unused_or_reducible():
    young = ago(10)
    j = judge("okta.users.read", Evidence(), FULL, held_since=young)
    assert j.verdict is Verdict.NO_DATA
    assert "held for 10 of 90 days" in j.why
    manage = Evidence(last_issued_at=ago(1))
    assert (
        judge("okta.users.manage", manage, FULL, held_since=young).verdict
        is Verdict.IN_USE
    )
    # Held since before the window: judged as usual.
    assert (
        judge("okta.users.read", Evidence(), FULL, held_since=ago(91)).verdict
        is Verdict.UNUSED
    )
