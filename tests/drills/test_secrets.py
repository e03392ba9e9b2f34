"""Secrets in logs (A-22, ASVS 16.2.5): every log record at DEBUG level, from
every logger, during a real sign-in, a full sync, a grant, a refresh, a token
refresh and failures (401, 500, a refused grant, an outage), formatted the way
production ships them (JSON) and development prints them, contains no access,
refresh or ID token, client assertion, private key, client secret, SSWS token,
session id, CSRF secret, Fernet/HMAC key or SECRET_KEY.
"""

from __future__ import annotations

import logging
import re

import pytest
from django.conf import settings

from grantsconsole.accounts.models import OktaCredential
from grantsconsole.grants import services
from grantsconsole.grants.models import OktaApp
from grantsconsole.okta_clients import forget_worker_clients, worker_client
from grantsconsole.ops.logging import RedactingFormatter, RedactingJsonFormatter
from tests.accounts import flow
from tests.console.conftest import signed_in, web_app

pytestmark = pytest.mark.django_db

JWT = re.compile(r"eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]*")


class Capture(logging.Handler):
    """Every record of every logger (root handler + DEBUG everywhere)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def capture():
    handler = Capture()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    touched = []
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger):
            touched.append((logger, logger.level, logger.propagate))
            logger.setLevel(logging.DEBUG)
            if not logger.propagate:
                logger.addHandler(handler)
            del name
    yield handler
    root.removeHandler(handler)
    root.setLevel(old_level)
    for logger, level, _propagate in touched:
        logger.setLevel(level)
        if handler in logger.handlers:
            logger.removeHandler(handler)


def _pem_lines(pem: str) -> list[str]:
    return [x for x in pem.splitlines() if x.strip() and "-----" not in x]


@pytest.mark.design("A-22", "A-5", "A-20")
def test_no_secret_in_debug_logs_of_a_whole_session(sim, capture):
    settings.OKTA_ORG_URL = sim.url
    sim.set_rate_limit("apps", 100_000)
    forget_worker_clients()
    worker = worker_client()

    # Sign-in over the real flow; a full sync; a grant; a refresh.
    services.run_full_sync(client=worker, trigger="drill")
    client = signed_in(flow.SUPER)
    app = web_app(sim, without="okta.brands.read")
    client.post(f"/apps/{app['id']}/grants/grant", {"only": "okta.brands.read"})
    client.post(f"/apps/{app['id']}/refresh", {})
    cred = OktaCredential.objects.get()
    first_tokens = [cred.access_token, cred.refresh_token, cred.id_token]

    # Failures: Okta refuses the grant, errs on reads, rejects the token (the
    # console refreshes it), and an outage during a sync.
    sim.fault(method="POST", path=r"/grants$", status=400, times=1)
    client.post(f"/apps/{app['id']}/grants/grant", {"only": "okta.schemas.read"})
    sim.fault(method="GET", path=r"/grants$", status=500, times=2)
    client.post(f"/apps/{app['id']}/refresh", {})
    sim.fault(path=r"^/api/v1/", status=401, error_code="E0000011", times=1)
    client.post(f"/apps/{app['id']}/refresh", {})
    sim.fault(path=r"^/api/v1/apps$", kind="drop", times=2)
    services.run_full_sync(client=worker, trigger="drill", sleep=lambda s: None)
    sim.clear_faults()
    cred = OktaCredential.objects.filter(pk=cred.pk).first() or cred
    assert OktaApp.objects.exists()

    secrets = {
        "SECRET_KEY": settings.SECRET_KEY,
        "console client secret": settings.OKTA_CONSOLE_CLIENT_SECRET,
        "SSWS token": "00demoSuperAdminSSWStoken0000000000000000",
        "session id": client.cookies[settings.SESSION_COOKIE_NAME].value,
        "CSRF cookie": client.cookies.get(settings.CSRF_COOKIE_NAME).value
        if client.cookies.get(settings.CSRF_COOKIE_NAME)
        else "",
        "audit HMAC key": getattr(settings, "AUDIT_HMAC_KEY", ""),
        "token encryption key": getattr(settings, "TOKEN_ENCRYPTION_KEY", ""),
        "worker access token": getattr(worker.token_source, "_access_token", ""),
    }
    for i, token in enumerate([*first_tokens, cred.access_token, cred.refresh_token]):
        secrets[f"admin token {i}"] = token
    for i, line in enumerate(_pem_lines(settings.OKTA_WORKER_PRIVATE_KEY)):
        secrets[f"private key line {i}"] = line
    secrets = {k: v for k, v in secrets.items() if v and len(v) >= 12}
    assert len(secrets) >= 10, sorted(secrets)

    assert len(capture.records) > 50, "DEBUG logging was captured"
    leaks = []
    for formatter in (RedactingJsonFormatter(), RedactingFormatter()):
        for record in capture.records:
            line = formatter.format(record)
            leaks += [
                (name, record.name, line[:160])
                for name, value in secrets.items()
                if value in line
            ]
            if JWT.search(line):  # any token or client assertion
                leaks.append(("a JWT", record.name, line[:160]))
    assert leaks == []
