"""The console's own 404 and 500 pages, in production and in development: the
development default is DEBUG off, so `make run` shows them too; only DEBUG=true
(set by someone debugging) brings back Django's technical pages, which list
every route and setting."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from tests.factories import SUPER

ROOT = Path(__file__).resolve().parents[2]

REQUESTS = """
from django.test import Client
client = Client(raise_request_exception=False)
for path in ("/no/such/page/", "/test/boom/"):
    r = client.get(path)
    print(path, r.status_code, r.content.decode().replace("\\n", " "))
"""


def _development(env: dict[str, str]) -> dict[str, str]:
    """Status and page of an unknown URL and a failing view, asked in a fresh
    process that loads the development settings as `make run` does."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DEBUG", "GRANTSCONSOLE_ENV") and not k.startswith("DJANGO_")
    }
    shell = (
        "from django.conf import settings; "
        "settings.ROOT_URLCONF = 'tests.ops.error_urls'; " + REQUESTS
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", shell],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return {
        line.split(" ", 1)[0]: line.split(" ", 1)[1]
        for line in result.stdout.splitlines()
        if line.startswith("/")
    }


def test_development_shows_the_consoles_own_pages_by_default():
    pages = _development({})
    assert pages["/no/such/page/"].startswith("404 ")
    assert (
        "There is no such app, scope, sync run or report here"
        in pages["/no/such/page/"]
    )
    assert "URLconf" not in pages["/no/such/page/"]
    assert pages["/test/boom/"].startswith("500 ")
    assert "Something went wrong" in pages["/test/boom/"]
    assert "a bug in a view" not in pages["/test/boom/"]


def test_debug_on_brings_back_djangos_technical_pages():
    pages = _development({"DEBUG": "true"})
    assert pages["/no/such/page/"].startswith("404 ")
    assert "URLconf" in pages["/no/such/page/"]
    assert "a bug in a view" in pages["/test/boom/"]


@pytest.mark.urls("tests.ops.error_urls")
def test_the_consoles_pages_answer_with_debug_off(signed_in_as, settings):
    settings.DEBUG = False
    missing = signed_in_as(SUPER).get("/no/such/page/")
    assert missing.status_code == 404
    page = missing.content.decode()
    assert "There is no such app, scope, sync run or report here" in page
    assert 'class="site-nav"' in page  # the console's layout, nav included
    client = Client(raise_request_exception=False)
    failed = client.get("/test/boom/")
    assert failed.status_code == 500
    assert "Something went wrong" in failed.content.decode()
    assert "a bug in a view" not in failed.content.decode()
