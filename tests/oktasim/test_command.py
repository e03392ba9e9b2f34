"""``python manage.py oktasim`` as a real process: what it prints, the options."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def run_command():
    procs = []

    def start(*args: str) -> tuple[str, str]:
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "oktasim", "--port", "0", *args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            # Ctrl-C stops it; an xdist worker ignores SIGINT, and children inherit that.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        procs.append(proc)
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if "Press Ctrl-C" in line:
                break
        out = "".join(lines)
        m = re.search(r"listening on (http://127\.0\.0\.1:\d+)", out)
        assert m, out
        return m.group(1), out

    yield start
    for proc in procs:
        proc.send_signal(signal.SIGINT)
        try:
            # Read what it still writes: a full pipe would block its request log.
            proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_demo_start_prints_issuer_users_and_credentials(run_command):
    url, out = run_command()
    assert f"issuer (org URL):   {url}" in out
    for text in (
        "super.admin@example.com",
        "org.admin@example.com",
        "app.admin@example.com",
        "readonly.admin@example.com",
        "end.user@example.com",
        "Demo-Pass-2026!",
        "00demoSuperAdminSSWStoken0000000000000000",
        "0oa1consoleDEMO000x7",
        "demo-console-secret-not-for-production-0000000000",
        "0oa1workerDEMO0000x7",
        "worker-key.pem",
    ):
        assert text in out
    doc = requests.get(f"{url}/.well-known/openid-configuration", timeout=5).json()
    assert doc["issuer"] == url


def test_options_seed_file_apps_and_rate_limit(run_command, tmp_path):
    seed = {
        "users": [
            {
                "login": "root@example.org",
                "password": "pw-1",
                "roles": ["SUPER_ADMIN"],
                "api_token": "00customTokenForTheSeedFile000000000000",
            }
        ],
        "apps": [
            {"label": "Only App", "kind": "service", "grants": ["okta.users.read"]}
        ],
    }
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(seed))
    url, out = run_command("--seed", str(path), "--rate-limit", "7")
    assert "(1 apps, 1 users" in out
    r = requests.get(
        f"{url}/api/v1/apps",
        timeout=5,
        headers={"Authorization": "SSWS 00customTokenForTheSeedFile000000000000"},
    )
    assert [a["label"] for a in r.json()] == ["Only App"]
    assert r.headers["X-Rate-Limit-Limit"] == "7"
    url, out = run_command("--apps", "300")
    assert "(302 apps" in out


def test_example_seed_file_loads(sim):
    path = (
        Path(__file__).resolve().parents[2] / "grantsconsole/oktasim/seed/example.json"
    )
    info = sim.reset(seed=str(path))
    assert (info["apps"], info["users"]) == (4, 2)
    apps = {a["label"]: a for a in sim.state()["apps"]}
    assert apps["Team Wiki"]["status"] == "INACTIVE"
    assert [g["scopeId"] for g in apps["Reporting Service"]["grants"]] == [
        "okta.logs.read",
        "okta.users.read",
    ]
    r = requests.get(
        f"{sim.url}/api/v1/apps",
        timeout=5,
        headers={"Authorization": "SSWS 00exampleAliceSSWStoken00000000000000000"},
    )
    assert r.status_code == 200
    sim.reset()


def test_activity_option_back_fills_and_goes_live(run_command):
    url, out = run_command("--activity", "2", "--activity-days", "10")
    m = re.search(r"activity: .* (\d+) events back-filled over 10 days", out)
    assert m, out
    assert int(m.group(1)) > 200
    state = requests.get(f"{url}/__sim__/activity", timeout=10).json()
    assert state["live"] is True
    assert state["events_per_app_per_day"] == 2
    assert state["simulated_days"] == 10
