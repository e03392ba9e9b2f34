"""The verdict on one held grant, from its evidence and what the console has seen.

- **in use**: issued in a token, or exercised by a logged write, within the
  window (``window_days``, default 90, choosable 30-365);
- **unused**: never issued within the window;
- **reducible**: a ``manage`` scope issued but never exercised by a logged
  write within the window, so its ``read`` twin would do;
- **no data yet**: the console has not observed the whole window, and no use
  was seen; never "unused" or "reducible" before the evidence covers the
  window.

"Missing" (requested and denied) is about scopes an app does *not* hold; see
:func:`missing`. Read scopes can only be judged by issuance: Okta does not log
reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from grantsconsole.okta import scopes

DEFAULT_WINDOW_DAYS = 90
MIN_WINDOW_DAYS = 30
MAX_WINDOW_DAYS = 365


class Verdict(StrEnum):
    IN_USE = "in use"
    UNUSED = "unused"
    REDUCIBLE = "reducible"
    NO_DATA = "no data yet"
    MISSING = "missing"


@dataclass(frozen=True, slots=True)
class Coverage:
    """The unbroken stretch of the System Log read completely (aware UTC;
    both None before the first poll)."""

    observed_from: datetime | None
    observed_to: datetime | None

    def days(self) -> int:
        """Whole days covered (0 before the first poll)."""
        if self.observed_from is None or self.observed_to is None:
            return 0
        return max(0, (self.observed_to - self.observed_from).days)

    def covers(self, window_days: int) -> bool:
        """True when the last ``window_days`` up to ``observed_to`` were all read."""
        return self.days() >= window_days


@dataclass(frozen=True, slots=True)
class Evidence:
    """The latest evidence for one app and scope (aware UTC; None: never seen)."""

    last_issued_at: datetime | None = None
    last_exercised_at: datetime | None = None
    last_denied_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Judgement:
    verdict: Verdict
    why: str


def clamp_window(days: int | str | None) -> int:
    """A window in days within 30-365 (the default 90 for anything unreadable)."""
    try:
        value = int(days)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return DEFAULT_WINDOW_DAYS
    return min(MAX_WINDOW_DAYS, max(MIN_WINDOW_DAYS, value))


def read_twin(scope_id: str) -> str | None:
    """``okta.users.read`` for ``okta.users.manage``: the catalogued read scope
    of a manage scope's resource; None when there is none."""
    if not (scopes.is_manage(scope_id) and scope_id.endswith(".manage")):
        return None
    twin = scope_id.removesuffix(".manage") + ".read"
    return twin if scopes.get(twin) is not None else None


def judge(
    scope_id: str,
    evidence: Evidence,
    coverage: Coverage,
    *,
    window_days: int = DEFAULT_WINDOW_DAYS,
    held_since: datetime | None = None,
) -> Judgement:
    """The verdict on a held ``scope_id``, judged over the ``window_days`` that
    end at ``coverage.observed_to`` (so a console that stopped reading does not
    slowly turn every grant "unused"). ``held_since`` (aware UTC: Okta's
    ``created`` of the grant, else when the console first saw it; None:
    unknown, taken as long held) counts like coverage: a grant held for less
    than the window has not had the window to be used, so it is never
    "unused" or "reducible" yet."""
    if coverage.observed_to is None:
        return Judgement(Verdict.NO_DATA, "The System Log has not been read yet.")
    since = coverage.observed_to - timedelta(days=window_days)
    issued = _within(evidence.last_issued_at, since)
    exercised = _within(evidence.last_exercised_at, since)
    complete = coverage.covers(window_days)
    covered = f"{coverage.days()} of {window_days} days observed"
    if complete and held_since is not None and held_since > since:
        complete = False
        held_days = max(0, (coverage.observed_to - held_since).days)
        covered = f"held for {held_days} of {window_days} days"
    if exercised:
        return Judgement(Verdict.IN_USE, "Exercised by a logged write.")
    twin = read_twin(scope_id)
    if issued and twin is not None:
        if complete:
            return Judgement(
                Verdict.REDUCIBLE,
                f"Issued, but no write needing it was logged in {window_days} "
                f"days: {twin} would do.",
            )
        return Judgement(Verdict.IN_USE, f"Issued; no write logged yet ({covered}).")
    if issued:
        return Judgement(Verdict.IN_USE, "Issued in a token.")
    if not complete:
        return Judgement(Verdict.NO_DATA, f"No use seen, but only {covered}.")
    return Judgement(Verdict.UNUSED, f"Not issued in any token in {window_days} days.")


def missing(
    held: set[str],
    denied: dict[str, datetime | None],
    coverage: Coverage,
    *,
    window_days: int = DEFAULT_WINDOW_DAYS,
) -> list[str]:
    """The scopes an app asked for and was denied within the window and still
    does not hold (``denied``: scope → last denied at), sorted."""
    if coverage.observed_to is None:
        return []
    since = coverage.observed_to - timedelta(days=window_days)
    return sorted(s for s, at in denied.items() if s not in held and _within(at, since))


def _within(at: datetime | None, since: datetime) -> bool:
    return at is not None and at >= since
