"""Shared helpers for the benchmarks in ``bench/`` (not a test; not in ``make test``).

What lives here:

* the machine's load (``uptime``) recorded with every result;
* seeds for the simulator: N OIDC apps plus M non-OIDC apps, written as a JSON
  seed file (``python -m grantsconsole.oktasim --seed PATH``);
* :class:`Sim`: the simulator in its own process on a free loopback port;
* scratch databases: one ``migrate`` into a template SQLite file per bench run,
  copied per scenario (SQLite) or a throwaway PostgreSQL (:class:`Postgres`,
  the same way ``.ci/with-services`` starts one);
* :func:`run_child`: a subprocess with its wall time and peak RSS (``os.wait4``);
* :func:`save`: JSON under ``bench/results/`` and :func:`table` for the terminal.

Times are seconds (wall clock, ``time.monotonic``), memory is MiB.
"""

from __future__ import annotations

import json
import math
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PYTHON = sys.executable
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SSWS = "00demoSuperAdminSSWStoken0000000000000000"
RESULT_PREFIX = "BENCH-RESULT "


# --- machine ------------------------------------------------------------------------
def load() -> dict[str, Any]:
    """The machine's load now: ``uptime`` text, 1/5/15-min load averages, cores."""
    try:
        text = subprocess.run(
            ["uptime"], capture_output=True, text=True, timeout=5
        ).stdout.strip()
    except OSError:
        text = ""
    return {
        "uptime": text,
        "loadavg": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- seeds --------------------------------------------------------------------------
def seed_dict(n_oidc: int, n_other: int = 0, rng_seed: int = 42) -> dict[str, Any]:
    """The demo org's users, console and worker apps, plus ``n_oidc`` generated OIDC
    apps (web/browser/native/service, 0-12 grants each) and ``n_other`` SAML /
    bookmark apps (not OIDC: a sync must list past them, never read their grants)."""
    from grantsconsole.oktasim import seed as sim_seed

    base = sim_seed.demo_seed()
    keep = [
        a
        for a in base["apps"]
        if a.get("id") in (sim_seed.CONSOLE_CLIENT_ID, sim_seed.WORKER_CLIENT_ID)
    ]
    rng = random.Random(rng_seed)
    kinds = ["web", "browser", "native", "service"]
    apps: list[dict[str, Any]] = []
    other_every = max(1, math.ceil(n_oidc / n_other)) if n_other else 0
    made_other = 0
    for i in range(n_oidc):
        apps.append(
            {
                "label": f"Bench {kinds[i % 4]} app {i:05d}",
                "kind": kinds[i % 4],
                "grants": rng.sample(sim_seed._POOL, rng.randint(0, 12)),
            }
        )
        if other_every and i % other_every == other_every - 1 and made_other < n_other:
            apps.append(
                {
                    "label": f"Bench SAML {made_other:05d}",
                    "kind": rng.choice(["saml", "bookmark"]),
                    "grants": [],
                }
            )
            made_other += 1
    while made_other < n_other:
        apps.append({"label": f"Bench SAML {made_other:05d}", "kind": "saml"})
        made_other += 1
    return {"users": base["users"], "apps": keep + apps}


def generated_seed(n_apps: int, n_other: int = 0) -> dict[str, Any]:
    """The simulator's generated org (``python -m grantsconsole.oktasim --apps N``:
    the demo users, console and worker apps, ``n_apps`` generated apps of which
    ~1% are not OIDC, the demo org's API service integrations and org setting),
    plus ``n_other`` more SAML apps, and the generated service apps given the
    demo org's mix of client admin roles in turn (SUPER_ADMIN, USER_ADMIN on
    groups, a CUSTOM role on a resource set, APP_ADMIN on apps, READ_ONLY_ADMIN,
    none), so a sync also reads role targets and resource sets."""
    from grantsconsole.oktasim import seed as sim_seed
    from grantsconsole.oktasim.privilege import DEMO_CLIENT_ROLES

    base = sim_seed.demo_seed()
    keep = [
        a
        for a in base["apps"]
        if a.get("id") in (sim_seed.CONSOLE_CLIENT_ID, sim_seed.WORKER_CLIENT_ID)
    ]
    mix = [*DEMO_CLIENT_ROLES.values(), []]
    apps = sim_seed.generated_apps(n_apps)
    for i, app in enumerate(a for a in apps if a["kind"] == "service"):
        app["roles"] = mix[i % len(mix)]
    apps += [
        {"label": f"Bench SAML {i:05d}", "kind": "saml", "grants": []}
        for i in range(n_other)
    ]
    return {**base, "apps": keep + apps}


def write_seed(
    workdir: Path, n_oidc: int, n_other: int = 0, generated: bool = False
) -> Path:
    """A seed file: :func:`seed_dict` or, with ``generated``, :func:`generated_seed`
    (then ``n_oidc`` counts the generated apps, ~1% of them not OIDC)."""
    kind = "generated" if generated else "bench"
    path = workdir / f"seed-{kind}-{n_oidc}-{n_other}.json"
    if not path.exists():
        make = generated_seed if generated else seed_dict
        path.write_text(json.dumps(make(n_oidc, n_other)))
    return path


# --- the simulator ------------------------------------------------------------------
class Sim:
    """``python -m grantsconsole.oktasim`` in its own process on a free port."""

    def __init__(self, seed_path: Path | str = "demo", rate_limit: int | None = None):
        cmd = [
            PYTHON,
            "-m",
            "grantsconsole.oktasim",
            "--port",
            "0",
            "--seed",
            str(seed_path),
        ]
        if rate_limit is not None:
            cmd += ["--rate-limit", str(rate_limit)]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        m = re.search(r"listening on (http://\S+) \((\d+) apps", line)
        if not m:
            self.proc.kill()
            raise SystemExit(f"simulator did not start: {line!r}")
        self.url = m.group(1)
        self.apps = int(m.group(2))
        from grantsconsole.oktasim.testing import SimControl

        self.control = SimControl(self.url, timeout=120)

    def limits(
        self, apps: int | None, window_seconds: float, concurrency: int | None = 75
    ) -> dict:
        """Set the ``/api/v1/apps*`` bucket to ``apps`` (None: Okta's default)
        per ``window_seconds`` (every bucket's window); returns the simulator's
        ``{"limits": {bucket: per window}, "window_seconds", ...}``."""
        body: dict[str, Any] = {
            "window_seconds": window_seconds,
            "concurrency": concurrency,
        }
        if apps is not None:
            body["apps"] = apps
        return self.control._call("POST", "/rate-limits", body)

    def unlimited(self) -> dict:
        """Rate limits off (every bucket 10**9 per window, no concurrency limit)."""
        big = 10**9
        return self.control._call(
            "POST",
            "/rate-limits",
            {
                "apps": big,
                "app": big,
                "logs": big,
                "api": big,
                "oauth2": big,
                "clients": big,
                "other": big,
                "concurrency": None,
            },
        )

    def requests(self, since: int = 0) -> list[dict]:
        return self.control.requests(since)

    def oidc_app_ids(self) -> list[str]:
        return [
            a["id"]
            for a in self.control.state()["apps"]
            if a["sign_on_mode"] == "OPENID_CONNECT"
        ]

    def app_count(self) -> int:
        """Every app of the org: what the listing pages through."""
        return len(self.control.state()["apps"])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()

    def __enter__(self) -> Sim:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --- databases ----------------------------------------------------------------------
def base_env(**extra: str) -> dict[str, str]:
    """Environment for a console/worker subprocess (demo defaults, no Redis)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_URL", "OKTA_", "REDIS_URL", "CELERY_"))
    }
    env.update(
        {
            "PYTHONPATH": str(ROOT),
            "DJANGO_SETTINGS_MODULE": "grantsconsole.settings",
            "DEBUG": "0",
            "LOG_LEVEL": "WARNING",
            # benchmarks sign in many times from one loopback address
            "ANONYMOUS_REQUESTS_PER_MINUTE": "1000000",
        }
    )
    env.update(extra)
    return env


class ScratchDbs:
    """SQLite scratch databases: ``migrate`` once into a template, copy per use."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.template = workdir / "template.sqlite3"
        self.count = 0

    def _migrate(self) -> None:
        env = base_env(DATABASE_URL=f"sqlite:///{self.template}")
        subprocess.run(
            [PYTHON, "manage.py", "migrate", "--noinput", "-v0"],
            cwd=ROOT,
            env=env,
            check=True,
        )

    def fresh(self, name: str = "") -> str:
        """A new migrated, empty SQLite database; returns its DATABASE_URL."""
        if not self.template.exists():
            self._migrate()
        self.count += 1
        path = self.workdir / f"db-{self.count}{'-' + name if name else ''}.sqlite3"
        shutil.copyfile(self.template, path)
        return f"sqlite:///{path}"


class Postgres:
    """A throwaway PostgreSQL cluster on a free loopback port (as in
    ``.ci/with-services``: initdb with trust auth, fsync off), stopped by
    :meth:`stop`. ``url`` is a DATABASE_URL for the ``postgres`` database."""

    def __init__(self, workdir: Path) -> None:
        bins = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: p.parts)
        if not bins:
            raise RuntimeError("PostgreSQL is not installed (bash .ci/system-packages)")
        self.bin = bins[-1]
        self.dir = workdir / "pg"
        self.dir.mkdir()
        self.as_pg = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
        if os.getuid() == 0:
            shutil.chown(self.dir, "postgres")
            shutil.chown(workdir, "postgres")
        self.port = free_port()
        subprocess.run(
            [
                *self.as_pg,
                str(self.bin / "initdb"),
                "-D",
                str(self.dir),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [
                *self.as_pg,
                str(self.bin / "pg_ctl"),
                "-D",
                str(self.dir),
                "-l",
                str(self.dir / "server.log"),
                "-w",
                "-t",
                "30",
                "-o",
                f"-h 127.0.0.1 -p {self.port} -k {self.dir} -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off",
                "start",
            ],
            check=True,
            capture_output=True,
        )
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        subprocess.run(
            [
                *self.as_pg,
                str(self.bin / "pg_ctl"),
                "-D",
                str(self.dir),
                "-m",
                "fast",
                "stop",
            ],
            capture_output=True,
        )


def workdir(prefix: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix=f"gc-bench-{prefix}-"))
    os.chmod(path, 0o755)
    return path


# --- subprocesses -------------------------------------------------------------------
@dataclass
class ChildResult:
    """A finished subprocess: exit code, output, wall time (s), peak RSS (MiB) and
    the JSON the child printed after ``BENCH-RESULT `` (``{}`` if none)."""

    returncode: int
    stdout: str
    stderr: str
    wall: float
    max_rss_mib: float
    result: dict[str, Any] = field(default_factory=dict)


def start_child(cmd: list[str], env: dict[str, str]) -> tuple[subprocess.Popen, float]:
    """Start a subprocess with output to temp files (no pipe can fill up)."""
    out = tempfile.TemporaryFile("w+")  # noqa: SIM115 - closed in finish_child
    err = tempfile.TemporaryFile("w+")  # noqa: SIM115 - closed in finish_child
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=err, text=True)
    proc._bench_files = (out, err)  # type: ignore[attr-defined]
    return proc, time.monotonic()


def running(proc: subprocess.Popen) -> bool:
    """True while the child runs; unlike ``poll()`` this does not reap it, so
    :func:`finish_child` still gets its rusage."""
    return os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None


def finish_child(proc: subprocess.Popen, started: float) -> ChildResult:
    """Wait for a child from :func:`start_child` and collect its rusage."""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    out, err = proc._bench_files  # type: ignore[attr-defined]
    out.seek(0)
    err.seek(0)
    stdout, stderr = out.read(), err.read()
    out.close()
    err.close()
    result: dict[str, Any] = {}
    for line in stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            result = json.loads(line[len(RESULT_PREFIX) :])
    return ChildResult(
        proc.returncode, stdout, stderr, wall, usage.ru_maxrss / 1024, result
    )


def run_child(cmd: list[str], env: dict[str, str]) -> ChildResult:
    proc, started = start_child(cmd, env)
    return finish_child(proc, started)


def sync_cmd(kind: str) -> list[str]:
    """Command line of ``bench/sync_child.py`` (the real ``manage.py sync_grants
    --full|--incremental`` with write counting); ``kind`` is full|incremental."""
    return [PYTHON, str(ROOT / "bench" / "sync_child.py"), f"--{kind}"]


def sync_env(db_url: str, org_url: str, share: float = 0.5, **extra: str) -> dict:
    return base_env(
        DATABASE_URL=db_url,
        OKTA_ORG_URL=org_url,
        OKTA_RATE_LIMIT_SHARE=str(share),
        **extra,
    )


# --- output -------------------------------------------------------------------------
def save(name: str, data: dict[str, Any]) -> Path:
    """Write ``data`` to ``bench/results/<name>-<UTC stamp>.json`` and
    ``<name>-latest.json``; returns the stamped path."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    text = json.dumps(data, indent=2, default=str)
    path = RESULTS / f"{name}-{stamp}.json"
    path.write_text(text)
    (RESULTS / f"{name}-latest.json").write_text(text)
    return path


def table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    """A plain-text (Markdown) table of ``rows`` over ``columns``."""

    def cell(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.3g}" if abs(v) < 100 else f"{v:.0f}"
        if v is None:
            return "-"
        return str(v)

    lines = [
        "| " + " | ".join(columns) + " |",
        "|" + "|".join("---" for _ in columns) + "|",
    ]
    for r in rows:
        lines.append("| " + " | ".join(cell(r.get(c)) for c in columns) + " |")
    return "\n".join(lines)


def pct(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values`` by nearest rank (0.0 if empty)."""
    if not values:
        return 0.0
    s = sorted(values)
    k = max(0, min(len(s) - 1, math.ceil(q * len(s)) - 1))
    return s[k]
