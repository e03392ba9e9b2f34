"""Okta's answers in plain words, one line per scope (or app) of a write.

``describe()`` turns whatever a grant/revoke/refresh produced — a per-scope
result from ``grantsconsole.grants.services`` or an exception from
``grantsconsole.okta`` — into an :class:`Outcome` the pages show. The wording for
Okta's errors comes from the errors themselves (``OktaError.explanation``:
silent downscoping on a 403, the missing scope on ``insufficient_scope``, the
wait on a rate limit), plus what it means for this change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from grantsconsole.okta.errors import (
    OktaError,
    OktaInsufficientScope,
    OktaPermissionDenied,
    OktaRateLimited,
)


@dataclass(frozen=True)
class Outcome:
    """One line of a write's result: ``subject`` (a scopeId or an app label),
    ``ok``, a short ``headline`` and a longer ``explanation`` ("" when none)."""

    subject: str
    ok: bool
    headline: str
    explanation: str = ""


def explain_error(error: BaseException, *, verb: str) -> tuple[str, str]:
    """(headline, explanation) for an error raised while ``verb``-ing ("grant" …)."""
    if isinstance(error, OktaRateLimited):
        wait = (
            f"about {error.retry_after:.0f} seconds"
            if error.retry_after is not None
            else "a minute"
        )
        return (
            f"Not done: Okta's rate limit is used up; try again in {wait}.",
            error.explanation,
        )
    if isinstance(error, OktaInsufficientScope):
        scope = error.scope or "okta.appGrants.manage"
        return (
            f"Not done: the console's token lacks the Okta API scope {scope}.",
            f"Grant {scope} to the console app (its Okta API Scopes tab), then sign "
            f"out and in again so your token carries it. {error.explanation}",
        )
    if isinstance(error, OktaPermissionDenied):
        return (
            "Not done: Okta refused (403). Your token carried the scope, but Okta "
            "checked your admin role only at the call (silent downscoping).",
            error.explanation,
        )
    if isinstance(error, OktaError):
        status = f" ({error.status})" if error.status else ""
        return (f"Not done: Okta answered with an error{status}.", error.explanation)
    return (f"Not done: the {verb} failed unexpectedly.", "")


def _headline_for_status(status: int | None, verb: str) -> str:
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


def describe(result: Any, *, verb: str) -> Outcome:
    """An :class:`Outcome` for one ``ScopeResult`` of ``grants.services.scope_writes``.

    ``ok``/``changed`` give the headline; a failure's ``status`` picks the
    headline and its ``message`` (Okta's answer in plain words: silent
    downscoping on 403, the missing scope, how long a rate limit lasts) is the
    explanation; ``attempted=False`` means an earlier scope's failure stopped
    the batch.
    """
    subject = str(getattr(result, "scope_id", "") or "")
    message = str(getattr(result, "message", "") or "")
    if getattr(result, "ok", False):
        changed = getattr(result, "changed", True)
        if verb == "grant":
            headline = "Granted." if changed else "Already granted (nothing to change)."
        else:
            headline = "Revoked." if changed else "Already revoked (nothing to change)."
        return Outcome(subject, True, headline, "")
    if not getattr(result, "attempted", True):
        return Outcome(
            subject,
            False,
            "Not tried: an earlier scope failed for a reason that applies to all.",
            message,
        )
    headline = _headline_for_status(getattr(result, "status", None), verb)
    request_id = getattr(result, "okta_request_id", "")
    if request_id:
        message = f"{message} (Okta request {request_id})".strip()
    return Outcome(subject, False, headline, message)
