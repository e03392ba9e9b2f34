"""The drills' scoreboard (issue 9), a pytest plugin loaded by tests/conftest.py.

Counts come from the test reports and from the drills' own comparisons
(:class:`Ledger`). Under pytest-xdist each worker sends its counts to the
controller when it finishes (``workeroutput``), and the controller prints one
scoreboard for the whole run.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field

import pytest

from tests.drills import designs

_COUNTERS = (
    "grants_lost",
    "grants_invented",
    "audit_lost",
    "audit_duplicated",
    "grant_checks",
    "audit_checks",
    "okta_writes_refused",
)


@dataclass
class Tally:
    """The drills' own counts for the scoreboard (one per test session)."""

    grants_lost: int = 0
    grants_invented: int = 0
    audit_lost: int = 0
    audit_duplicated: int = 0
    grant_checks: int = 0
    audit_checks: int = 0
    okta_writes_refused: int = 0  # unauthorized attempts proven not to reach Okta
    outcomes: dict[str, str] = field(default_factory=dict)  # nodeid -> outcome
    designs_of: dict[str, tuple[str, ...]] = field(default_factory=dict)
    durations: dict[str, float] = field(default_factory=dict)
    load: dict[str, float] = field(default_factory=dict)  # the load drill's figures
    started: float = field(default_factory=time.monotonic)


TALLY = Tally()


class Ledger:
    """What a drill found when it compared state; every count must be zero.

    ``grants(db, okta)``: ``{app_id: {scope_id, ...}}`` from the database and
    from the simulator; returns (lost, invented): grants Okta holds that the
    database lacks, and grants the database shows that Okta does not hold.
    ``audit(expected, actual)``: iterables of hashable keys (e.g. ``(action,
    app_id, scope_id)``) for the changes that happened and the audit rows
    written for them; returns (lost, duplicated).
    """

    def grants(
        self, db: Mapping[str, Iterable[str]], okta: Mapping[str, Iterable[str]]
    ) -> tuple[int, int]:
        have = {(a, s) for a, scopes in db.items() for s in scopes}
        want = {(a, s) for a, scopes in okta.items() for s in scopes}
        lost, invented = len(want - have), len(have - want)
        TALLY.grants_lost += lost
        TALLY.grants_invented += invented
        TALLY.grant_checks += 1
        return lost, invented

    def audit(self, expected: Iterable, actual: Iterable) -> tuple[int, int]:
        want, have = Counter(expected), Counter(actual)
        lost = sum((want - have).values())
        duplicated = sum((have - want).values())
        TALLY.audit_lost += lost
        TALLY.audit_duplicated += duplicated
        TALLY.audit_checks += 1
        return lost, duplicated

    def refused(self, attempts: int = 1) -> None:
        """Count unauthorized write attempts shown to have made no Okta call."""
        TALLY.okta_writes_refused += attempts


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "design(*ids): reliability-and-performance.md test designs"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        marker = item.get_closest_marker("design")
        if marker is not None:
            TALLY.designs_of[item.nodeid] = tuple(marker.args)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # Setup errors count as failures; "call" decides otherwise.
    if report.when == "call" or report.outcome != "passed":
        if report.nodeid not in TALLY.outcomes or report.outcome != "passed":
            TALLY.outcomes[report.nodeid] = report.outcome
        TALLY.durations[report.nodeid] = (
            TALLY.durations.get(report.nodeid, 0.0) + report.duration
        )


def _area(nodeid: str) -> str:
    return nodeid.split("::")[0].rsplit("/", 1)[-1].removeprefix("test_")[:-3]


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    drills = {n: o for n, o in TALLY.outcomes.items() if n.startswith("tests/drills/")}
    if not drills:
        return
    write = terminalreporter.write_line
    engine = (
        "PostgreSQL"
        if os.environ.get("DATABASE_URL", "").startswith("postgres")
        else "SQLite"
    )
    terminalreporter.section(f"drills scoreboard ({engine})", sep="=")
    by_area: dict[str, Counter] = {}
    for nodeid, outcome in drills.items():
        by_area.setdefault(_area(nodeid), Counter())[outcome] += 1
    total = Counter(drills.values())
    write(
        f"scenarios run {len(drills)}, passed {total['passed']}, "
        f"failed {total['failed']}   "
        f"({time.monotonic() - TALLY.started:.0f} s wall for the session)"
    )
    write(
        "  "
        + "  ".join(
            f"{area} {c['passed']}/{sum(c.values())}"
            for area, c in sorted(by_area.items())
        )
    )
    write(
        f"MUST BE ZERO  grants lost {TALLY.grants_lost}, invented "
        f"{TALLY.grants_invented}  (in {TALLY.grant_checks} DB-vs-Okta comparisons)"
    )
    write(
        f"MUST BE ZERO  audit rows lost {TALLY.audit_lost}, duplicated "
        f"{TALLY.audit_duplicated}  (in {TALLY.audit_checks} audit comparisons)"
    )
    write(
        f"unauthorized writes tried and shown not to reach Okta: "
        f"{TALLY.okta_writes_refused}"
    )
    if TALLY.load:
        f = TALLY.load
        write(
            f"load: {f['requests']:.0f} requests in {f['seconds']:.0f} s, 5xx "
            f"{f['5xx']:.0f}, p50 {f['p50_ms']:.0f} ms, p95 {f['p95_ms']:.0f} ms "
            f"(server p95 {f['server_p95_ms']:.0f} ms), sync runs crashed "
            f"{f['sync_crashes']:.0f}; budget p95 < 500 ms "
            + ("met" if f["p95_ms"] < 500 else "NOT met")
            + (" (asserted)" if f.get("asserted") else " (reported only: shared CPU)")
            + f"; machine load {f['load_per_core']:.1f} per core at start"
        )
    # Design ids: by a drill here, and by existing tests elsewhere in this session.
    drilled: dict[str, Counter] = {}
    for nodeid, ids in TALLY.designs_of.items():
        if nodeid in drills:
            for design in ids:
                drilled.setdefault(design, Counter())[drills[nodeid]] += 1
    elsewhere: dict[str, Counter] = {}
    for design, nodeids in designs.EXISTING.items():
        for nodeid in nodeids:
            for ran, outcome in TALLY.outcomes.items():
                if ran == nodeid or ran.startswith(nodeid + "["):
                    elsewhere.setdefault(design, Counter())[outcome] += 1
    cells = []
    for design in designs.ALL:
        d, e = drilled.get(design, Counter()), elsewhere.get(design, Counter())
        mark = "-"
        if d or e:
            bad = d["failed"] + e["failed"]
            mark = f"{d['passed']}+{e['passed']}" + ("!" if bad else "")
        elif design in designs.EXISTING:
            mark = "m"  # mapped to existing tests not run in this session
        cells.append(f"{design}:{mark}")
    write("designs (drills+existing passed; m = existing, not run here; - = none):")
    for start in range(0, len(cells), 10):
        write("  " + " ".join(f"{c:<10}" for c in cells[start : start + 10]))
    slow = sorted(
        ((d, n) for n, d in TALLY.durations.items() if n in drills), reverse=True
    )[:3]
    write(
        "slowest drills: " + ", ".join(f"{n.split('::')[-1]} {d:.1f}s" for d, n in slow)
    )


def pytest_sessionfinish(session: pytest.Session) -> None:
    """On an xdist worker: hand this worker's counts to the controller."""
    output = getattr(session.config, "workeroutput", None)
    if output is not None:
        data = asdict(TALLY)
        output["drills_tally"] = {
            k: data[k] for k in (*_COUNTERS, "designs_of", "load")
        }


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    """On the xdist controller: add up what a worker counted."""
    data = getattr(node, "workeroutput", {}).get("drills_tally")
    if not data:
        return
    for name in _COUNTERS:
        setattr(TALLY, name, getattr(TALLY, name) + data[name])
    TALLY.designs_of.update({k: tuple(v) for k, v in data["designs_of"].items()})
    if data["load"]:
        TALLY.load = data["load"]
