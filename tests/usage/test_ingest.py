"""Reading System Log events as usage evidence: each kind, each skip reason,
recording twice counts once, retention. No simulator: the events are built
with Okta's shapes and recorded directly."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from grantsconsole.okta.models import parse_log_event, unreadable_event
from grantsconsole.usage import ingest
from grantsconsole.usage.ingest import Skip, read_event, record_events
from grantsconsole.usage.models import (
    DailyUsage,
    Kind,
    ScopeUsage,
    SkippedEvents,
    UsageEvent,
)
from tests.usage.events import SERVICE_APP, denied, event, token_grant, write

DAY = date(2026, 12, 1)
AT = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def read(raw):
    return read_event(parse_log_event(raw))


def test_a_token_grant_is_evidence_of_its_okta_scopes_being_issued():
    found = read(token_grant("openid, okta.users.read, okta.apps.manage"))
    assert found.kind == Kind.ISSUED
    assert found.client_id == SERVICE_APP
    assert found.scopes == ("okta.users.read", "okta.apps.manage")
    assert (found.grant_type, found.client_auth_type) == (
        "client_credentials",
        "private_key_jwt",
    )


def test_a_users_token_is_the_client_apps_evidence_not_the_users():
    raw = token_grant(
        "okta.apps.read",
        actor=("00uAdaAdmin", "User"),
        targets=[{"id": "0oaConsole", "type": "PublicClientApp"}],
    )
    assert read(raw).client_id == "0oaConsole"
    # client.id, when Okta sends it, names the app directly.
    assert read({**raw, "client": {"id": "0oaOther"}}).client_id == "0oaOther"


def test_a_denied_token_request_is_demand_for_the_requested_scopes():
    found = read(denied("okta.roles.manage okta.users.read"))
    assert found.kind == Kind.DENIED
    assert found.scopes == ("okta.roles.manage", "okta.users.read")


@pytest.mark.parametrize(
    ("event_type", "scope_id"),
    [
        ("user.lifecycle.deactivate", "okta.users.manage"),
        ("group.user_membership.add", "okta.groups.manage"),
        ("app.oauth2.admin.consent.grant", "okta.appGrants.manage"),
        ("user.account.privilege.grant", "okta.roles.manage"),
    ],
)
def test_a_write_with_client_id_exercises_the_scope_the_table_maps(
    event_type, scope_id
):
    found = read(write(event_type))
    assert (found.kind, found.client_id, found.scopes) == (
        Kind.EXERCISED,
        SERVICE_APP,
        (scope_id,),
    )


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (event("user.session.start", client_id=SERVICE_APP), Skip.UNMAPPED),
        (write(client_id=None), Skip.NO_CLIENT_ID),
        (write(client_id=""), Skip.NO_CLIENT_ID),
        (write(client_id={"id": "x"}), Skip.NO_CLIENT_ID),
        (write(outcome="FAILURE"), Skip.WRITE_FAILED),
        (token_grant({"okta.users.read": True}), Skip.GRANTED_SHAPE),
        (token_grant(42), Skip.GRANTED_SHAPE),
        (token_grant(["okta.users.read", 7]), Skip.GRANTED_SHAPE),
        (token_grant("openid, profile"), Skip.NO_OKTA_SCOPE),
        (token_grant(uuid="u" * 65), Skip.MALFORMED),
        (token_grant(None), Skip.NO_OKTA_SCOPE),
        (token_grant(actor=("00uAda", "User")), Skip.NO_CLIENT_APP),
        (denied({"scopes": 1}), Skip.REQUESTED_SHAPE),
        (
            event("app.oauth2.token.grant.access_token", outcome="FAILURE"),
            Skip.TOKEN_FAILED,
        ),
    ],
)
def test_an_event_that_is_no_evidence_says_why(raw, reason):
    assert read(raw) == reason


def test_granted_scopes_as_a_list_of_strings_is_read_too():
    assert read(token_grant(["okta.users.read"])).scopes == ("okta.users.read",)


def test_odd_optional_fields_never_fail_the_parse_and_are_named():
    raw = token_grant(3, debug={"grantType": ["x"]})
    raw["client"] = "not an object"
    raw["outcome"] = {"result": "SUCCESS", "reason": 5}
    parsed = parse_log_event(raw)
    assert set(parsed.unreadable_fields) == {
        "grantedScopes",
        "grantType",
        "client",
        "outcome.reason",
    }
    assert parsed.granted_scopes == ()
    assert parsed.client_id == ""


@pytest.mark.django_db
def test_recording_counts_each_kind_per_day_and_keeps_the_latest_times():
    later = AT + timedelta(hours=3)
    events = [
        parse_log_event(e)
        for e in (
            token_grant("okta.users.manage", published=AT),
            token_grant("okta.users.manage", published=later),
            write("user.lifecycle.create", published=AT),
            denied("okta.roles.manage", published=later),
        )
    ]
    tally = record_events(events, today=DAY)
    assert (tally.recorded, tally.skipped, tally.duplicates) == (4, 0, 0)
    rows = {
        r.scope_id: (r.issued, r.exercised, r.denied)
        for r in DailyUsage.objects.filter(client_id=SERVICE_APP, day=DAY)
    }
    assert rows == {"okta.users.manage": (2, 1, 0), "okta.roles.manage": (0, 0, 1)}
    latest = ScopeUsage.objects.get(client_id=SERVICE_APP, scope_id="okta.users.manage")
    assert (latest.last_issued_at, latest.last_exercised_at) == (later, AT)
    assert latest.last_denied_at is None


@pytest.mark.django_db
def test_recording_the_same_events_twice_counts_them_once():
    raws = [token_grant("okta.users.manage"), write(), token_grant("okta.apps.read")]
    events = [parse_log_event(e) for e in raws]
    record_events(events, today=DAY)
    again = record_events([*events, events[0]], today=DAY)
    assert (again.recorded, again.duplicates) == (0, 4)
    assert UsageEvent.objects.count() == 3
    row = DailyUsage.objects.get(scope_id="okta.users.manage")
    assert (row.issued, row.exercised) == (1, 1)


@pytest.mark.django_db
def test_skipped_events_are_counted_per_day_and_reason_with_an_example():
    bad = {"uuid": "broken-1", "published": "2026-11-30T08:00:00Z", "eventType": 7}
    record_events(
        [
            parse_log_event(write(client_id=None)),
            parse_log_event(write(client_id=None)),
        ],
        [unreadable_event(bad, ValueError("'eventType' is not a string"))],
        today=DAY,
    )
    rows = {
        (r.day, r.reason): (r.count, r.example_uuid)
        for r in SkippedEvents.objects.all()
    }
    assert rows[(date(2026, 11, 30), Skip.MALFORMED)] == (1, "broken-1")
    assert rows[(DAY, Skip.NO_CLIENT_ID)][0] == 2
    assert not DailyUsage.objects.exists()  # a skipped event is never evidence


@pytest.mark.django_db
def test_purge_keeps_raw_events_and_roll_ups_for_their_own_windows(settings):
    settings.USAGE_RAW_RETENTION_DAYS = 120
    settings.USAGE_ROLLUP_RETENTION_DAYS = 1095
    now = timezone.now()
    for age in (119, 121):
        record_events(
            [
                parse_log_event(
                    token_grant("okta.users.read", published=now - timedelta(days=age))
                )
            ],
            today=now.date(),
        )
    DailyUsage.objects.create(
        client_id="x",
        scope_id="okta.users.read",
        day=(now - timedelta(days=1096)).date(),
    )
    raw, rollups = ingest.purge(now)
    assert (raw, rollups) == (1, 1)
    assert UsageEvent.objects.count() == 1
    # The roll-ups of the purged raw event stay: "unused" stays provable.
    assert DailyUsage.objects.filter(client_id=SERVICE_APP).count() == 2


@pytest.mark.django_db
def test_the_pages_get_skips_per_reason_and_the_gaps_newest_first():
    from grantsconsole.usage import selectors
    from grantsconsole.usage.models import Gap

    today = timezone.now().date()
    for age, reason, count in (
        (0, Skip.NO_CLIENT_ID, 3),
        (2, Skip.NO_CLIENT_ID, 4),
        (1, Skip.MALFORMED, 1),
        (40, Skip.MALFORMED, 100),  # older than the 30 days asked for
    ):
        SkippedEvents.objects.create(
            day=today - timedelta(days=age), reason=reason, count=count
        )
    summary = selectors.skipped_summary(days=30)
    assert [(s.reason, s.count, s.last_day) for s in summary] == [
        (Skip.NO_CLIENT_ID, 7, today),
        (Skip.MALFORMED, 1, today - timedelta(days=1)),
    ]
    old, new = AT - timedelta(days=200), AT - timedelta(days=10)
    for start in (old, new):
        Gap.objects.create(started_at=start, ended_at=start, reason="away")
    assert [g.started_at for g in selectors.gaps()] == [new, old]
