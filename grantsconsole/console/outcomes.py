"""Okta's answers in plain words, one line per scope (or app) of a write.

The one presenter of write outcomes: :func:`describe` turns a per-scope result
of ``grants.services.scope_writes`` and :func:`from_error` an exception from
``grantsconsole.okta`` into an :class:`Outcome` the pages show. A failure's
short :func:`headline` comes from the HTTP status; its explanation is Okta's
error in plain words, written once, in ``okta/errors.py``
(``OktaError.explanation``: silent downscoping on a 403, the missing scope on
``insufficient_scope``, the wait on a rate limit).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from grantsconsole.okta.errors import OktaError


@dataclass(frozen=True)
class Outcome:
    """One line of a write's result: ``subject`` (a scopeId or an app label),
    ``ok``, a short ``headline`` and a longer ``explanation`` ("" when none).
    ``undo_seq``: for a revoke that removed a grant, the seq of its final audit
    row (what "Undo" names); ``app_okta_id``: the app, on lines of a bulk write;
    ``refresh_tokens``: that app can hold refresh tokens (not a service app,
    whose client credentials issue none), so a revoke offers to end them.
    """

    subject: str
    ok: bool
    headline: str
    explanation: str = ""
    undo_seq: int | None = None
    app_okta_id: str = ""
    refresh_tokens: bool = False


def headline(status: int | None, verb: str) -> str:
    """The short "Not done" line for a failed ``verb`` ("grant", "revoke",
    "refresh") by the HTTP status Okta answered (None: no answer)."""
    if status == 429:
        return "Not done: Okta's rate limit is used up."
    if status == 403:
        return f"Not done: Okta refused the {verb} (403)."
    if status == 401:
        return "Not done: Okta did not accept your sign-in any more (401)."
    if status == 404:
        return "Not done: Okta does not know this app or grant (404)."
    if status is not None and status >= 500:
        return f"Not done: Okta had an internal error ({status})."
    if status is not None:
        return f"Not done: Okta rejected the {verb} ({status})."
    return f"Not done: the {verb} could not reach Okta."


def from_error(subject: str, error: OktaError, *, verb: str) -> Outcome:
    """An :class:`Outcome` for an Okta error raised before any per-scope result
    existed: the same headline a failed result gets, Okta's explanation."""
    return Outcome(subject, False, headline(error.status, verb), error.explanation)


def describe(result: Any, *, verb: str) -> Outcome:
    """An :class:`Outcome` for one ``ScopeResult`` of ``grants.services.scope_writes``.

    ``ok``/``changed`` give the headline; a failure's ``status`` picks the
    headline and its ``message`` (Okta's answer in plain words: silent
    downscoping on 403, the missing scope, how long a rate limit lasts) is the
    explanation; ``attempted=False`` means an earlier scope's failure stopped
    the batch. A revoke that removed a grant carries ``undo_seq``.
    """
    subject = str(getattr(result, "scope_id", "") or "")
    message = str(getattr(result, "message", "") or "")
    if getattr(result, "ok", False):
        changed = getattr(result, "changed", True)
        if verb == "grant":
            done = "Granted." if changed else "Already granted (nothing to change)."
            return Outcome(subject, True, done, "")
        if not changed:
            return Outcome(subject, True, "Already revoked (nothing to change).", "")
        return Outcome(
            subject, True, "Revoked.", "", undo_seq=getattr(result, "audit_seq", None)
        )
    if not getattr(result, "attempted", True):
        return Outcome(
            subject,
            False,
            "Not tried: an earlier scope failed for a reason that applies to all.",
            message,
        )
    request_id = getattr(result, "okta_request_id", "")
    if request_id:
        message = f"{message} (Okta request {request_id})".strip()
    return Outcome(
        subject, False, headline(getattr(result, "status", None), verb), message
    )
