"""Simulator throughput and large-org build benchmark (not a test).

Starts ``python -m grantsconsole.oktasim --apps N`` pinned to CPU 0 (the simulator
on one core), lifts its rate limits through ``/__sim__/rate-limits``, then drives
keep-alive GET traffic from client processes pinned to the other core and reports
requests/s and latency per scenario. Separately builds a ``--apps N`` org in a fresh
process and reports build time and peak RSS.

    .venv/bin/python bench/sim_throughput.py [--apps 10000] [--seconds 5]
        [--clients 2] [--threads 4]

Prints a table and writes JSON to ``bench/results/sim_throughput-<UTC time>.json``.
Targets (issue 2): >= 500 GET requests/s on one core; a 10,000-app org in < 10 s and
< 300 MB.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import random
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
SSWS = "SSWS 00demoSuperAdminSSWStoken0000000000000000"


def pin(cpu: int) -> bool:
    """Pin this process to ``cpu`` when the machine has it; True if pinned."""
    if hasattr(os, "sched_setaffinity") and cpu < (os.cpu_count() or 1):
        os.sched_setaffinity(0, {cpu})
        return True
    return False


def start_simulator(apps: int) -> tuple[subprocess.Popen, str]:
    cmd = [
        sys.executable,
        "-m",
        "grantsconsole.oktasim",
        "--port",
        "0",
        "--apps",
        str(apps),
    ]
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: pin(0),
    )
    line = proc.stdout.readline() if proc.stdout else ""
    m = re.search(r"listening on (http://\S+)", line)
    if not m:
        proc.kill()
        raise SystemExit(f"simulator did not start: {line!r}")
    return proc, m.group(1)


def control(
    url: str, path: str, body: dict | None = None, method: str = "POST"
) -> object:
    u = urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    data = json.dumps(body).encode() if body is not None else None
    conn.request(method, path, body=data, headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    raw = resp.read()
    conn.close()
    return json.loads(raw) if raw else None


def _client(
    url: str, paths: list[str], seconds: float, threads: int, cpu: int, out: mp.Queue
) -> None:
    """One client process: ``threads`` keep-alive connections issuing GETs."""
    import threading

    pin(cpu)
    u = urlsplit(url)
    stop_at = time.monotonic() + seconds
    lat: list[float] = []
    stats = {"n": 0, "bytes": 0, "errors": 0}
    lock = threading.Lock()

    def run(seed: int) -> None:
        rng = random.Random(seed)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        mine: list[float] = []
        n = nbytes = errors = 0
        while time.monotonic() < stop_at:
            path = rng.choice(paths)
            t = time.perf_counter()
            conn.request("GET", path, headers={"Authorization": SSWS})
            resp = conn.getresponse()
            body = resp.read()
            mine.append(time.perf_counter() - t)
            n += 1
            nbytes += len(body)
            if resp.status != 200:
                errors += 1
        conn.close()
        with lock:
            lat.extend(mine)
            stats["n"] += n
            stats["bytes"] += nbytes
            stats["errors"] += errors

    ts = [threading.Thread(target=run, args=(cpu * 1000 + i,)) for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    out.put({**stats, "lat": lat})


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` (Linux /proc), seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def drive(
    url: str,
    paths: list[str],
    seconds: float,
    clients: int,
    threads: int,
    server_pid: int,
) -> dict:
    out: mp.Queue = mp.Queue()
    cpu0 = cpu_seconds(server_pid)
    ncpu = os.cpu_count() or 1
    procs = [
        mp.Process(
            target=_client,
            args=(url, paths, seconds, threads, 1 % ncpu if ncpu > 1 else 0, out),
        )
        for _ in range(clients)
    ]
    t0 = time.monotonic()
    for p in procs:
        p.start()
    results = [out.get() for _ in procs]
    for p in procs:
        p.join()
    elapsed = time.monotonic() - t0
    server_cpu = cpu_seconds(server_pid) - cpu0
    lat = sorted(x for r in results for x in r["lat"])
    n = sum(r["n"] for r in results)
    return {
        "requests": n,
        "seconds": round(elapsed, 2),
        "rps": round(n / seconds, 1),
        "p50_ms": round(lat[len(lat) // 2] * 1000, 2) if lat else None,
        "p99_ms": round(lat[int(len(lat) * 0.99)] * 1000, 2) if lat else None,
        "mb_per_s": round(sum(r["bytes"] for r in results) / seconds / 1e6, 1),
        "errors": sum(r["errors"] for r in results),
        "server_cpu_s": round(server_cpu, 2),
        # requests per second of simulator CPU: its capacity on one fully used core
        "rps_per_server_core": round(n / server_cpu, 1) if server_cpu else None,
    }


def full_listing(url: str, server_pid: int) -> dict:
    """Page through every app (limit=200, following rel=next) on one connection."""
    u = urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    path: str | None = "/api/v1/apps?limit=200"
    pages = apps = 0
    cpu0 = cpu_seconds(server_pid)
    t = time.perf_counter()
    while path:
        conn.request("GET", path, headers={"Authorization": SSWS})
        resp = conn.getresponse()
        apps += len(json.loads(resp.read()))
        pages += 1
        nxt = [v for v in resp.headers.get_all("Link") or [] if 'rel="next"' in v]
        path = (
            urlsplit(nxt[0].split(">")[0].lstrip("<")).path
            + "?"
            + urlsplit(nxt[0].split(">")[0].lstrip("<")).query
            if nxt
            else None
        )
    elapsed = time.perf_counter() - t
    conn.close()
    return {
        "apps": apps,
        "pages": pages,
        "seconds": round(elapsed, 2),
        "server_cpu_s": round(cpu_seconds(server_pid) - cpu0, 2),
    }


def large_org_build(apps: int) -> dict:
    """Build a ``apps``-app org in a fresh process; time and peak RSS (MB)."""
    code = (
        "import resource, time, json\n"
        "from grantsconsole.oktasim.server import Simulator\n"
        "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "t = time.perf_counter()\n"
        f"sim = Simulator('http://127.0.0.1:1', apps={apps})\n"
        "build = time.perf_counter() - t\n"
        "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "org = sim.org\n"
        "grants = [len(a.grants) for a in org.apps.values() if a.is_oidc]\n"
        "print(json.dumps({'apps': len(org.apps), 'oidc_apps': len(grants),\n"
        "  'non_oidc_apps': len(org.apps) - len(grants), 'grants': sum(grants),\n"
        "  'grants_per_app_min': min(grants), 'grants_per_app_max': max(grants),\n"
        "  'events': len(org.events), 'build_seconds': round(build, 2),\n"
        "  'peak_rss_mb': round(peak / 1024, 1), 'rss_before_build_mb': round(base / 1024, 1)}))\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(res.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--apps", type=int, default=10000)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--clients", type=int, default=2, help="client processes")
    ap.add_argument(
        "--threads", type=int, default=4, help="connections per client process"
    )
    args = ap.parse_args()

    build = large_org_build(args.apps)
    proc, url = start_simulator(args.apps)
    try:
        big = 10**9
        control(
            url,
            "/__sim__/rate-limits",
            {"apps": big, "app": big, "logs": big, "api": big, "concurrency": None},
        )
        cold = full_listing(url, proc.pid)  # first pass: app JSON not yet cached
        state = control(url, "/__sim__/state", method="GET")
        oidc = [a["id"] for a in state["apps"] if a["name"] == "oidc_client"]  # type: ignore[index]
        ids = [a["id"] for a in state["apps"]]  # type: ignore[index]
        rng = random.Random(1)
        cursors = [""] + [f"&after={rng.choice(ids)}" for _ in range(200)]
        scenarios = {
            "list-apps limit=200": [f"/api/v1/apps?limit=200{c}" for c in cursors],
            "list-apps limit=20": [f"/api/v1/apps?limit=20{c}" for c in cursors],
            "list-grants": [f"/api/v1/apps/{a}/grants" for a in rng.sample(oidc, 500)],
            "get-app": [f"/api/v1/apps/{a}" for a in rng.sample(ids, 500)],
            "logs-poll limit=100": ["/api/v1/logs?limit=100"],
        }
        rows = {}
        for name, paths in scenarios.items():
            rows[name] = drive(
                url, paths, args.seconds, args.clients, args.threads, proc.pid
            )
    finally:
        proc.terminate()
        proc.wait(10)

    print(
        f"\nLarge org build (--apps {args.apps}): {build['build_seconds']} s, peak RSS "
        f"{build['peak_rss_mb']} MB ({build['apps']} apps, {build['non_oidc_apps']} non-OIDC, "
        f"{build['grants']} grants, {build['events']} log events)"
    )
    print(
        f"Cold full listing (JSON not cached yet): {cold['apps']} apps in {cold['pages']} "
        f"pages, {cold['seconds']} s ({cold['server_cpu_s']} s simulator CPU)"
    )
    print(
        f"\nSimulator on 1 core (CPU 0), {args.clients} client processes x {args.threads} "
        f"keep-alive connections, {args.seconds:g} s each, org of {args.apps} apps\n"
    )
    header = (
        f"{'scenario':<22}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'MB/s':>8}"
        f"{'errors':>8}{'sim CPU s':>11}{'req/sim-core-s':>16}"
    )
    print(header)
    print("-" * len(header))
    for name, r in rows.items():
        print(
            f"{name:<22}{r['rps']:>9}{r['p50_ms']:>9}{r['p99_ms']:>9}{r['mb_per_s']:>8}"
            f"{r['errors']:>8}{r['server_cpu_s']:>11}{r['rps_per_server_core']:>16}"
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS / f"sim_throughput-{stamp}.json"
    out.write_text(
        json.dumps(
            {
                "when": stamp,
                "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
                "settings": vars(args),
                "large_org_build": build,
                "cold_full_listing": cold,
                "throughput": rows,
            },
            indent=2,
        )
    )
    print(f"\nwrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
