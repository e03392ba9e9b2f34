"""Okta's errors read the same on every path that shows a write's outcome."""

from __future__ import annotations

import pytest

from grantsconsole.console.outcomes import describe, from_error
from grantsconsole.grants.services.scope_writes import ScopeResult
from grantsconsole.okta.errors import (
    OktaInsufficientScope,
    OktaPermissionDenied,
    OktaRateLimited,
    OktaServerError,
)


@pytest.mark.parametrize(
    "error",
    [
        OktaPermissionDenied(status=403),
        OktaInsufficientScope(status=403, scope="okta.appGrants.manage"),
        OktaRateLimited(status=429, retry_after=30),
        OktaServerError(status=503),
    ],
    ids=type,
)
def test_a_raised_okta_error_reads_like_the_same_error_as_a_scope_result(error):
    """One headline per HTTP status and Okta's own explanation, whether the
    error came back as a per-scope result or was raised before one existed."""
    returned = ScopeResult(
        "okta.groups.read",
        ok=False,
        changed=False,
        message=error.explanation,
        status=error.status,
    )

    raised = from_error("okta.groups.read", error, verb="grant")

    assert raised == describe(returned, verb="grant")
    assert raised.headline.startswith("Not done:")
    assert raised.explanation == error.explanation
