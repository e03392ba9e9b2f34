"""Probes, request ids and log masking."""

import json
import logging

import pytest

from grantsconsole.okta_clients import WORKER_SCOPES
from grantsconsole.ops.logging import RedactingJsonFormatter, redact


def test_healthz_answers_without_touching_the_database(client):
    # No django_db mark: any query here raises "Database access not allowed".
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_healthz_is_get_only(client):
    assert client.post("/healthz").status_code == 405


def test_request_id_is_reused_when_well_formed(client):
    response = client.get(
        "/healthz", HTTP_X_REQUEST_ID="0b0c5a3e-9f1d-4c1e-8a55-3d2f8f0e1a22"
    )
    assert response["X-Request-ID"] == "0b0c5a3e-9f1d-4c1e-8a55-3d2f8f0e1a22"


def test_request_id_header_cannot_inject_log_text(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="x\nFAKE LOG LINE admin=1")
    assert "\n" not in response["X-Request-ID"]
    assert "FAKE" not in response["X-Request-ID"]
    assert len(response["X-Request-ID"]) == 32


def test_redact_masks_tokens_assertions_and_keys():
    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIwMHUxIn0.c2lnbmF0dXJl"
    text = (
        f"Authorization: Bearer {jwt} SSWS 00abcdefghijklmnopqrstuv "
        "client_assertion=abc.def.ghi&refresh_token=rt-secret-value "
        "-----BEGIN PRIVATE KEY-----\nMIIEv\n-----END PRIVATE KEY-----"
    )
    masked = redact(text)
    for secret in (
        jwt,
        "00abcdefghijklmnopqrstuv",
        "abc.def.ghi",
        "rt-secret-value",
        "MIIEv",
    ):
        assert secret not in masked


def test_json_log_line_keeps_newlines_inside_one_line():
    formatter = RedactingJsonFormatter("%(levelname)s %(message)s")
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "label\nFORGED access_token=abc", None, None
    )
    line = formatter.format(record)
    assert "\n" not in line
    assert json.loads(line)["message"] == "label\nFORGED access_token=[redacted]"


WORKER = "0oa1workerDEMO0000x7"
SUPER = "super.admin@example.com"


@pytest.fixture
def ready(sim, db):
    """GET /readyz as a signed-in Super Admin with a fresh worker client;
    returns its Okta check."""
    from grantsconsole.okta_clients import forget_worker_clients
    from tests.console.conftest import signed_in

    admin = signed_in(SUPER)

    def probe() -> tuple[int, dict]:
        forget_worker_clients()
        response = admin.get("/readyz")
        return response.status_code, response.json()["checks"]["okta"]

    yield probe
    forget_worker_clients()


@pytest.fixture
def anonymous_ready(sim, client):
    """GET /readyz without a session; returns (status, body, Okta requests made)."""
    from grantsconsole.okta_clients import forget_worker_clients

    def probe() -> tuple[int, dict, list[dict]]:
        forget_worker_clients()
        before = len(sim.requests())
        response = client.get("/readyz")
        return response.status_code, response.json(), sim.requests()[before:]

    yield probe
    forget_worker_clients()


@pytest.mark.django_db
def test_anonymous_readyz_says_only_up_and_costs_no_okta_request(anonymous_ready):
    assert anonymous_ready() == (200, {"ok": True}, [])


@pytest.mark.django_db
def test_anonymous_readyz_hides_the_workers_problem(anonymous_ready, sim, settings):
    """The worker's set-up is a Super Admin's business; the router only needs
    to know whether this process can serve (database and broker)."""
    settings.OKTA_WORKER_KEY_ID = "no-such-kid"
    sim.set_client_roles(WORKER, [])
    status, body, okta_requests = anonymous_ready()
    assert (status, body, okta_requests) == (200, {"ok": True}, [])


@pytest.mark.django_db
def test_anonymous_readyz_is_503_when_the_database_is_down(
    anonymous_ready, monkeypatch
):
    from grantsconsole.ops import views

    def down() -> dict:
        raise OSError("connection refused")

    monkeypatch.setattr(views, "_check_database", down)
    status, body, _ = anonymous_ready()
    assert (status, body) == (503, {"ok": False})


@pytest.mark.django_db
def test_readyz_ok_when_the_worker_can_read_grants(ready):
    status, okta = ready()
    assert (status, okta["ok"], okta["missing_scopes"]) == (200, True, [])


@pytest.mark.django_db
def test_readyz_ok_without_the_optional_okta_users_read(ready, sim):
    """Without okta.users.read the pages show ids instead of names: the worker
    still works, so readiness holds."""
    sim.oob_revoke("0oa1workerDEMO0000x7", "okta.users.read")
    status, okta = ready()
    assert (status, okta["ok"], okta["missing_scopes"]) == (200, True, [])


@pytest.mark.django_db
def test_readyz_quotes_okta_for_an_unknown_key_id(ready, settings):
    settings.OKTA_WORKER_KEY_ID = "no-such-kid"
    status, okta = ready()
    assert status == 503
    assert okta["problem"] == "token_key_id"
    assert okta["error"] == "invalid_client"
    assert okta["error_description"] == "The client_assertion JWT kid is invalid."


@pytest.mark.django_db
def test_readyz_quotes_okta_for_invalid_scope(ready, sim):
    for scope in WORKER_SCOPES:
        sim.oob_revoke(WORKER, scope)
    status, okta = ready()
    assert (status, okta["problem"], okta["error"]) == (
        503,
        "token_scope",
        "invalid_scope",
    )


@pytest.mark.django_db
def test_readyz_fails_when_the_worker_has_no_role_that_reads_grants(ready, sim):
    sim.set_client_roles(WORKER, [])
    status, okta = ready()
    assert status == 503
    assert okta["missing_scopes"] == []  # every scope is in the token ...
    assert okta["problem"] == "admin_role"  # ... and still no grant can be read
    assert okta["error"] == "E0000006"


@pytest.mark.django_db
def test_readyz_reports_how_far_usage_ingestion_has_read(sim, settings):
    from datetime import timedelta

    from django.utils import timezone

    from grantsconsole.usage.models import Gap, Observation
    from tests.console.conftest import signed_in

    now = timezone.now()
    Observation.objects.create(
        name="usage", observed_from=now - timedelta(days=40), observed_to=now
    )
    Gap.objects.create(started_at=now, ended_at=now, reason="test")
    usage = signed_in(SUPER).get("/readyz").json()["checks"]["usage"]
    assert usage["covered_days"] == 40
    assert usage["gaps"] == 1
    assert 0 <= usage["lag_seconds"] < 60
