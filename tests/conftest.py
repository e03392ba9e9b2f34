"""Shared fixtures. The simulator is the network: no test reaches the internet."""

# --- Okta org simulator (owner: SIM) ------------------------------------------------
# pytest-django loads the Django settings before any conftest is imported, so setting
# OKTA_ORG_URL here alone would be too late. We bind the simulator's socket now (a free
# loopback port, held so no parallel run can take it), export OKTA_ORG_URL (also seen
# by subprocesses such as Celery workers) and re-evaluate the settings module, so
# every setting derived from OKTA_ORG_URL matches the simulator for the whole session.
import importlib
import os
import socket
import sys
from datetime import timedelta

import pytest

# The drills' scoreboard: a plugin so the xdist controller prints it too.
pytest_plugins = ["tests.drills.scoreboard"]

_SIM_SOCKET = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
_SIM_SOCKET.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
_SIM_SOCKET.bind(("127.0.0.1", 0))
_SIM_SOCKET.listen(256)
SIM_URL = f"http://127.0.0.1:{_SIM_SOCKET.getsockname()[1]}"
os.environ["OKTA_ORG_URL"] = SIM_URL
# The suite before two-person approval grants critical scopes in one step (it tests
# confirmation, step-up and the write path); the approval gate's own tests, in
# tests/governance and the browser test, switch it on (settings.APPROVAL_MIN_RISK).
os.environ.setdefault("APPROVAL_MIN_RISK", "off")
# No policy file unless a test sets one: the demo policy would be evaluated
# after every sync and write of every test.
os.environ.setdefault("GOVERNANCE_POLICY_FILE", "off")


def _reload_django_settings() -> None:
    from django import conf

    module = os.environ.get("DJANGO_SETTINGS_MODULE", "grantsconsole.settings")
    if module in sys.modules:
        importlib.reload(sys.modules[module])
    if conf.settings.configured:
        conf.settings._wrapped = conf.Settings(module)


_reload_django_settings()


def _flush_may_empty_the_audit_tables() -> None:
    """Django's test flush empties tables with DELETE on SQLite, which the audit
    tables' append-only triggers refuse (grantsconsole/grants/append_only.py)."""
    from django.core.management.commands import flush

    from grantsconsole.grants import append_only

    handle = flush.Command.handle

    def handle_with_audit_guard_off(self, *args, **options):
        with append_only.suspended():
            return handle(self, *args, **options)

    flush.Command.handle = handle_with_audit_guard_off


_flush_may_empty_the_audit_tables()


def lift_sync_rate_limits(sim) -> None:
    """Raise the two rate-limit buckets a full sync spends, ``/api/v1/apps*`` and
    ``/oauth2/v1/clients*``, far above what a test's syncs need.

    At Okta's defaults (100 a minute each, docs/okta-api.md §5) one full sync of
    the demo org sends 66 requests in ``/api/v1/apps*`` (listing, grants, and the
    credentials behind compensating controls), more than the worker's 50% share,
    so the sync rightly waits a whole minute for the next window. Tests that are
    not about pacing would spend that minute idle; pacing itself is tested at
    the real limits (tests/okta/test_pacing.py, tests/oktasim/test_rate_limits.py,
    tests/grants/test_tasks.py)."""
    sim.set_rate_limit("apps", 100_000)
    sim.set_rate_limit("clients", 100_000)


@pytest.fixture(scope="session")
def sim_server():
    """The session's running simulator (demo org) on SIM_URL = settings.OKTA_ORG_URL."""
    from grantsconsole.oktasim.server import SimServer

    server = SimServer(sock=_SIM_SOCKET).start()
    assert server.url == SIM_URL
    yield server
    server.stop()


@pytest.fixture
def sim(sim_server):
    """Reset the simulator to the demo seed and return a SimControl for it."""
    from grantsconsole.oktasim.testing import SimControl

    control = SimControl(sim_server.url)
    control.reset()
    return control


@pytest.fixture(scope="session")
def django_db_modify_db_settings(request):
    """Give each pytest-xdist worker a PostgreSQL test database of its own
    (test_<name>_gw0, ...). pytest-django names them in ``settings.DATABASES``,
    but Django's connections still hold the dicts read before this conftest
    reloaded the settings, so the name is set where the connections read it."""
    from django.db import connections

    worker = getattr(request.config, "workerinput", {}).get("workerid")
    if not worker:
        return
    for alias in connections:
        db = connections[alias].settings_dict
        if db["ENGINE"].endswith("sqlite3"):
            continue
        test = db.setdefault("TEST", {})
        test["NAME"] = f"{test.get('NAME') or 'test_' + db['NAME']}_{worker}"


# The files that take longest (real workers, gunicorn, honcho, Chromium) start
# first, so pytest-xdist's other worker fills in around them instead of one of
# them starting last and running alone at the end.
SLOWEST_FIRST = (
    "tests/drills/test_workers.py",
    "tests/drills/test_load.py",
    "tests/grants/test_worker_failover.py",
    "tests/stack/",
    "tests/browser/",
    "tests/drills/test_okta_faults.py",
    "tests/drills/test_tampering.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        for position, prefix in enumerate(SLOWEST_FIRST):
            if item.nodeid.startswith(prefix):
                return position
        return len(SLOWEST_FIRST)

    items.sort(key=rank)  # stable: each file's own order is kept


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty Django cache: the anonymous rate limit
    counts per client address and minute, and every test client is 127.0.0.1."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def signed_in_as(sim, db):
    """Factory fixture: ``signed_in_as(SUPER)`` returns a Django test client signed
    in as that persona (:mod:`tests.factories`), without the OIDC round trip.

    The tokens are minted by the simulator (``sim.token``, the console app's
    scopes), so Okta accepts them; the user, its allauth social account and the
    :class:`OktaCredential` are created directly, and the credential is bound to
    the session with the product's own helpers, as ``AccountAdapter.post_login``
    binds it. ``force_login`` fires Django's ``user_logged_in``, which starts the
    session clocks. ``mfa=True`` gives an ID token with ``mfa`` in ``amr``; the
    auth time is the simulator's now, so step-up sees a recent sign-in. No
    ``sign_in`` audit row is written, and the Super Admin check of the sign-in is
    not made: a session for another persona is one the real sign-in would refuse,
    ended by the console's next role re-check. The real sign-in is tested in
    ``tests/accounts`` and the browser tests."""
    import jwt
    from allauth.socialaccount.models import SocialAccount
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.utils import timezone

    from grantsconsole.accounts import custody, oidc, session
    from tests.accounts import flow

    def sign_in(persona, *, enforce_csrf: bool = False, mfa: bool = False) -> Client:
        answer = sim.token(
            login=persona.login, scopes=settings.OKTA_CONSOLE_SCOPES, mfa=mfa
        )
        claims = jwt.decode(answer["id_token"], options={"verify_signature": False})
        userinfo = {"sub": claims["sub"], "preferred_username": persona.login}
        user, _ = get_user_model().objects.get_or_create(
            username=persona.login, defaults={"email": persona.login}
        )
        SocialAccount.objects.get_or_create(
            provider=oidc.PROVIDER_ID,
            uid=claims["sub"],
            defaults={
                "user": user,
                "extra_data": {"id_token": claims, "userinfo": userinfo},
            },
        )
        tokens = custody.SignInTokens(
            access_token=answer["access_token"],
            refresh_token=answer.get("refresh_token", ""),
            id_token=answer["id_token"],
            expires_at=timezone.now() + timedelta(seconds=answer["expires_in"]),
            scope=answer["scope"],
            claims=claims,
            userinfo=userinfo,
        )
        client = Client(HTTP_HOST=flow.HOST, enforce_csrf_checks=enforce_csrf)
        client.force_login(user, backend=settings.AUTHENTICATION_BACKENDS[0])
        cred = custody.create_credential(user, tokens)
        bound = client.session
        bound[session.CREDENTIAL] = str(cred.pk)
        bound.save()
        return client

    return sign_in
