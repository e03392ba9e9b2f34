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

import pytest

# The drills' scoreboard: a plugin so the xdist controller prints it too.
pytest_plugins = ["tests.drills.scoreboard"]

_SIM_SOCKET = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
_SIM_SOCKET.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
_SIM_SOCKET.bind(("127.0.0.1", 0))
_SIM_SOCKET.listen(256)
SIM_URL = f"http://127.0.0.1:{_SIM_SOCKET.getsockname()[1]}"
os.environ["OKTA_ORG_URL"] = SIM_URL


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
