"""Alert delivery: what raise_alert stores and queues, the three destination
kinds, signing (checked by a receiver written apart from the console),
retries with backoff, the delivery log, and endpoints that fail, hang or
redirect."""

from __future__ import annotations

import json
import logging
import time
from unittest import mock

import pytest
from celery.exceptions import Retry
from django.core import mail
from django.core.management import call_command

from grantsconsole.governance import alerting, delivery, tasks
from grantsconsole.governance.alerting import raise_alert
from grantsconsole.governance.alerts_models import (
    Alert,
    AlertDelivery,
    AlertDestination,
)
from grantsconsole.grants.models import AuditEvent
from grantsconsole.oktasim.webhooks import WebhookInbox

pytestmark = pytest.mark.django_db

SECRET = "whsec-known-vector-0001"


def webhook(name: str, url: str, **fields) -> AlertDestination:
    row = AlertDestination(name=name, kind=fields.pop("kind", "webhook"), **fields)
    row.url = url
    if row.kind == "webhook":
        row.secret = SECRET
    row.save()
    return row


def alert(**fields) -> Alert:
    values = {
        "risk": "critical",
        "title": "okta.users.manage granted on Payroll outside the console",
        "details": {"actor": "org.admin@example.com", "source_ip": "203.0.113.9"},
        "scope_id": "okta.users.manage",
        **fields,
    }
    return raise_alert(fields.pop("kind", "out_of_band_change"), **values)


@pytest.fixture
def queued():
    """Deliveries queued to the broker, by delivery id (nothing is sent)."""
    with mock.patch.object(tasks.deliver_alert, "apply_async") as send:
        yield send


# --- signing --------------------------------------------------------------------


def test_the_signature_matches_a_known_vector():
    """HMAC-SHA256 over timestamp + "." + body, computed independently
    (openssl dgst -sha256 -hmac)."""
    body = b'{"id":1,"kind":"test"}'
    assert delivery.sign(SECRET, 1765000000, body) == (
        "sha256=3e370c61ba6666060c665078a15c61d544c3ccc3d680cac2968bf9513763f3b7"
    )


def test_the_local_receiver_verifies_signatures_and_the_replay_window():
    inbox = WebhookInbox(SECRET)
    body = b'{"id":1,"kind":"test"}'
    now = time.time()
    stamp = int(now)
    signed = {
        "x-grantsconsole-timestamp": str(stamp),
        "x-grantsconsole-signature": delivery.sign(SECRET, stamp, body),
    }
    assert inbox.check(signed, body, now) == "verified"
    assert inbox.check(signed, body + b" ", now) == "bad signature"
    assert inbox.check(signed, body, now + 301) == "timestamp outside the replay window"
    assert WebhookInbox("another-secret").check(signed, body, now) == "bad signature"
    assert inbox.check({}, body, now) == "unsigned"


# --- raising ----------------------------------------------------------------------


def test_each_matching_destination_gets_its_own_delivery_task(
    django_capture_on_commit_callbacks, queued
):
    a = webhook("A", "http://127.0.0.1:9/a")
    b = webhook("B", "http://127.0.0.1:9/b", kind="slack", min_risk="low")
    webhook("Too high", "http://127.0.0.1:9/c", min_risk="critical", enabled=False)
    webhook("Other kind", "http://127.0.0.1:9/d", kinds=["worker_unhealthy"])
    with django_capture_on_commit_callbacks(execute=True):
        raised = alert(risk="high")
    sent = {d.destination_id: d for d in raised.deliveries.all()}
    assert set(sent) == {a.pk, b.pk}
    assert sorted(c.args[0][0] for c in queued.call_args_list) == sorted(
        d.pk for d in sent.values()
    )
    assert all(d.status == "pending" and d.attempts == 0 for d in sent.values())


@pytest.mark.parametrize(
    ("min_risk", "kinds", "risk", "kind", "wanted"),
    [
        ("high", [], "high", "policy_violation", True),
        ("high", [], "medium", "policy_violation", False),
        ("low", ["grant_expiring"], "critical", "policy_violation", False),
        ("low", ["grant_expiring"], "low", "grant_expiring", True),
    ],
)
def test_filters_by_risk_and_kind(min_risk, kinds, risk, kind, wanted):
    row = AlertDestination(name="x", kind="email", min_risk=min_risk, kinds=kinds)
    assert row.wants(kind, risk) is wanted


def test_a_key_raises_once_and_bad_input_is_refused(queued):
    webhook("A", "http://127.0.0.1:9/a")
    first = alert(key="audit:7")
    assert alert(key="audit:7") == first
    assert AlertDelivery.objects.count() == 1
    with pytest.raises(ValueError, match="kind"):
        raise_alert("nonsense", risk="low", title="t", details={})
    with pytest.raises(ValueError, match="risk"):
        raise_alert("test", risk="severe", title="t", details={})


# --- the three kinds --------------------------------------------------------------


def test_a_json_webhook_is_signed_and_delivered(endpoint, queued):
    row = webhook("Receiver", endpoint.url + "/ok")
    raised = alert()
    sent = raised.deliveries.get()
    assert delivery.deliver(sent.pk) is None
    (_path, headers, body) = endpoint.received[0]
    assert WebhookInbox(SECRET).check(
        {k.lower(): v for k, v in headers.items()}, body, time.time()
    ) == ("verified")
    assert headers["X-Grantsconsole-Delivery"] == str(sent.pk)
    data = json.loads(body)
    assert data["kind"] == "out_of_band_change"
    assert data["details"]["source_ip"] == "203.0.113.9"
    sent.refresh_from_db()
    assert (sent.status, sent.attempts, sent.status_code) == ("delivered", 1, 200)
    assert sent.delivered_at is not None
    assert row.secret == SECRET
    assert SECRET not in row.secret_encrypted


def test_a_slack_webhook_gets_text_and_blocks(endpoint, queued):
    webhook("Slack", endpoint.url + "/ok", kind="slack")
    delivery.deliver(alert().deliveries.get().pk)
    body = endpoint.bodies()[0]
    assert body["text"].startswith("[critical] okta.users.manage granted on Payroll")
    assert "source_ip: 203.0.113.9" in json.dumps(body["blocks"])
    assert "X-Grantsconsole-Signature" not in endpoint.received[0][1]


def test_okta_text_cannot_mention_a_channel_or_split_a_mail_header(endpoint, queued):
    webhook("Slack", endpoint.url + "/ok", kind="slack", min_risk="low")
    AlertDestination.objects.create(
        name="Mailbox", kind="email", emails="sec@example.com", min_risk="low"
    )
    raised = alert(title="okta.users.manage on <!channel>\nBcc: x@example.com")
    for sent in raised.deliveries.all():
        assert delivery.deliver(sent.pk) is None
    assert "&lt;!channel&gt;" in endpoint.bodies()[0]["text"]
    assert "<!channel>" not in json.dumps(endpoint.bodies()[0])
    assert "\n" not in mail.outbox[0].subject


def test_an_email_goes_through_djangos_mail_backend(queued):
    AlertDestination.objects.create(
        name="Mailbox", kind="email", emails="sec@example.com, oncall@example.com"
    )
    delivery.deliver(alert().deliveries.get().pk)
    (sent,) = mail.outbox
    assert sent.to == ["sec@example.com", "oncall@example.com"]
    assert sent.subject.startswith("[grantsconsole critical] okta.users.manage")
    assert "source_ip: 203.0.113.9" in sent.body


# --- failures ---------------------------------------------------------------------


def test_a_500_is_retried_with_backoff_then_fails_once_audited(
    endpoint, queued, settings
):
    settings.ALERT_DELIVERY_ATTEMPTS = 3
    webhook("Flaky", endpoint.url + "/fail")
    sent = alert().deliveries.get()
    waits = []
    for _ in range(2):
        waits.append(delivery.deliver(sent.pk))
        sent.refresh_from_db()
        assert sent.status == "retrying"
        assert (sent.status_code, sent.error) == (500, "answered 500")
        assert sent.next_retry_at is not None
    assert all(1 <= w <= settings.ALERT_RETRY_BACKOFF_MAX for w in waits)
    assert not AuditEvent.objects.filter(action="alert_undelivered").exists()
    assert delivery.deliver(sent.pk) is None
    sent.refresh_from_db()
    assert (sent.status, sent.attempts, sent.next_retry_at) == ("failed", 3, None)
    (row,) = AuditEvent.objects.filter(action="alert_undelivered")
    assert row.outcome == "failure"
    assert row.detail["destination"] == "Flaky"
    assert row.detail["attempts"] == 3
    assert delivery.deliver(sent.pk) is None  # nothing more to do
    assert len(endpoint.received) == 3


def test_the_task_asks_celery_to_retry_with_the_backoff(endpoint, queued, settings):
    settings.ALERT_RETRY_BACKOFF = 7
    webhook("Flaky", endpoint.url + "/fail")
    sent = alert().deliveries.get()
    with (
        mock.patch.object(tasks.deliver_alert, "retry", side_effect=Retry) as retry,
        pytest.raises(Retry),
    ):
        tasks.deliver_alert.run(sent.pk)
    assert 1 <= retry.call_args.kwargs["countdown"] <= 7


def test_a_4xx_is_not_retried(endpoint, queued):
    webhook("Gone", endpoint.url + "/gone")
    sent = alert().deliveries.get()
    assert delivery.deliver(sent.pk) is None
    sent.refresh_from_db()
    assert (sent.status, sent.status_code) == ("failed", 410)


def test_a_redirect_is_never_followed(endpoint, other_host, queued):
    endpoint.redirect_to = other_host.url + "/ok"
    webhook("Redirecting", endpoint.url + "/redirect")
    sent = alert().deliveries.get()
    assert delivery.deliver(sent.pk) is None
    sent.refresh_from_db()
    assert sent.status == "failed"
    assert sent.status_code == 302
    assert f"a redirect to {other_host.url.removeprefix('http://')}" in sent.error
    assert other_host.received == []
    assert AuditEvent.objects.filter(action="alert_undelivered").count() == 1


def test_a_hung_endpoint_times_out_and_holds_up_no_other_delivery(
    endpoint, other_host, queued, settings
):
    settings.ALERT_WEBHOOK_TIMEOUT = 1
    endpoint.hang = 4
    webhook("Hangs", endpoint.url + "/hang")
    webhook("Fine", other_host.url + "/ok")
    raised = alert()
    hung = raised.deliveries.get(destination_name="Hangs")
    fine = raised.deliveries.get(destination_name="Fine")
    started = time.monotonic()
    assert delivery.deliver(hung.pk) is not None  # to be retried
    assert time.monotonic() - started < 3
    hung.refresh_from_db()
    assert (hung.status, hung.error) == ("retrying", "no answer within 1 s")
    delivery.deliver(fine.pk)
    fine.refresh_from_db()
    assert fine.status == "delivered"


def test_an_unreachable_endpoint_is_retried(queued):
    webhook("Nobody", "http://127.0.0.1:9/")  # the discard port: refused
    sent = alert().deliveries.get()
    assert delivery.deliver(sent.pk) is not None
    sent.refresh_from_db()
    assert sent.error.startswith("could not connect")


def test_a_broker_outage_does_not_fail_the_caller(django_capture_on_commit_callbacks):
    webhook("A", "http://127.0.0.1:9/a")
    with (
        mock.patch.object(
            tasks.deliver_alert, "apply_async", side_effect=OSError("broker down")
        ),
        django_capture_on_commit_callbacks(execute=True),
    ):
        raised = alert()
    assert raised.deliveries.get().status == "pending"


def test_deliver_now_attempts_in_this_process_and_queues_only_the_retry(
    endpoint, queued
):
    webhook("Fine", endpoint.url + "/ok")
    webhook("Flaky", endpoint.url + "/fail")
    raised = raise_alert(
        "worker_unhealthy", risk="high", title="t", details={}, deliver_now=True
    )
    assert raised.deliveries.get(destination_name="Fine").status == "delivered"
    flaky = raised.deliveries.get(destination_name="Flaky")
    assert flaky.status == "retrying"
    (call,) = queued.call_args_list
    assert call.args[0] == (flaky.pk,)
    assert call.kwargs["countdown"] >= 1


def test_scope_risk_reads_the_catalog():
    assert alerting.scope_risk("okta.users.manage") == "critical"
    assert alerting.scope_risk("okta.brands.read") == "low"


def test_the_demo_destination_delivers_to_the_simulators_receiver(sim, queued):
    """``make run``'s destination, signed with the demo secret, is verified by
    the simulator's receiver; a wrong secret is answered 401 and not retried."""
    call_command("demo_alert_destination", f"{sim.url}/__sim__/webhooks")
    call_command("demo_alert_destination", f"{sim.url}/__sim__/webhooks")  # updates
    row = AlertDestination.objects.get()
    assert delivery.deliver(alert().deliveries.get().pk) is None
    (got,) = sim.webhooks()
    assert got["verdict"] == "verified"
    assert got["body"]["scope_id"] == "okta.users.manage"
    row.secret = "not-the-receivers-secret"
    row.save()
    sent = alert(risk="high").deliveries.get()
    assert delivery.deliver(sent.pk) is None
    sent.refresh_from_db()
    assert (sent.status, sent.status_code) == ("failed", 401)
    assert sim.webhooks()[-1]["verdict"] == "bad signature"


def test_a_slack_url_is_not_logged_even_at_debug(endpoint, queued, caplog):
    """Its path is its credential; urllib3 quotes request paths at DEBUG."""
    webhook("Slack", endpoint.url + "/ok?T000/B000/XXXXSECRETXXXX", kind="slack")
    with caplog.at_level(logging.DEBUG):
        delivery.deliver(alert().deliveries.get().pk)
    assert endpoint.received
    assert "XXXXSECRETXXXX" not in caplog.text


def test_a_delivery_to_an_internal_address_is_refused_without_a_request(
    endpoint, queued, settings
):
    """Checked again at send time: the host may resolve elsewhere since it was
    saved."""
    webhook("Internal", endpoint.url + "/ok")
    settings.ALERT_WEBHOOK_ALLOW_PRIVATE = False
    sent = alert().deliveries.get()
    assert delivery.deliver(sent.pk) is None
    sent.refresh_from_db()
    assert sent.status == "failed"
    assert "internal address (127.0.0.1)" in sent.error
    assert endpoint.received == []
