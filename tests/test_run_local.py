"""`make run`'s launcher (.ci/run-local): PORT and SIM_PORT choose the ports, and a
port already in use stops it before anything starts, saying what to do."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def _listening() -> Iterator[int]:
    """A port some other server holds for the duration."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


def _run_local(tmp_path: Path, **ports: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "CELERY_FS_DIR": str(tmp_path / "broker"),
        **ports,
    }
    env.pop("OKTA_ORG_URL", None)
    return subprocess.run(
        ["bash", ".ci/run-local"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("taken", ["PORT", "SIM_PORT"])
def test_a_taken_port_stops_make_run_before_anything_starts(tmp_path, taken):
    with _listening() as busy:
        ports = {"PORT": str(_free_port()), "SIM_PORT": str(_free_port())}
        ports[taken] = str(busy)
        result = _run_local(tmp_path, **ports)
    assert result.returncode == 1
    assert f"port {busy} " in result.stderr
    assert (
        f"({'the console' if taken == 'PORT' else 'the Okta org simulator'}, {taken})"
        in (result.stderr)
    )
    assert "make run PORT=" in result.stderr  # what to do instead
    assert "grantsconsole on the demo org" not in result.stdout  # nothing started


@pytest.mark.parametrize(
    "ports",
    [{"PORT": "80a"}, {"SIM_PORT": "70000"}, {"PORT": "8123", "SIM_PORT": "8123"}],
)
def test_a_bad_port_is_refused(tmp_path, ports):
    result = _run_local(tmp_path, **ports)
    assert result.returncode == 2
    assert "make run:" in result.stderr


@pytest.mark.slow
def test_make_run_serves_on_the_chosen_ports(tmp_path):
    """The console and the simulator really listen on PORT and SIM_PORT, and the
    console's Okta org is the simulator on SIM_PORT. (Slow: starts the worker and
    beat too.)"""
    port, sim_port = _free_port(), _free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "SIM_PORT": str(sim_port),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "CELERY_FS_DIR": str(tmp_path / "broker"),
    }
    env.pop("OKTA_ORG_URL", None)
    proc = subprocess.Popen(
        ["bash", ".ci/run-local"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                issuer = requests.get(
                    f"http://127.0.0.1:{sim_port}/.well-known/openid-configuration",
                    timeout=2,
                ).json()["issuer"]
                sign_in = requests.get(
                    f"http://127.0.0.1:{port}/accounts/login/", timeout=5
                )
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "make run did not start"
                time.sleep(0.5)
        assert issuer == f"http://127.0.0.1:{sim_port}"
        assert sign_in.status_code == 200
        assert "Sign in with Okta" in sign_in.text
        # DEBUG is off in development: static files still come from the sources
        css = requests.get(f"http://127.0.0.1:{port}/static/css/console.css", timeout=5)
        assert css.status_code == 200
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
