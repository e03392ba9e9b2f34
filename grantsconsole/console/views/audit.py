"""The audit page (filters, keyset pages, last chain verification, "Verify now")
and its exports.

Pages use keyset pagination on ``seq`` (``?before=<seq>``): no COUNT of the audit
table, ever. Exports stream (``StreamingHttpResponse``) every matching row, newest
first, reading the database in chunks, so memory stays flat at any size. Each
row keeps its stored columns (the ones the hash chain covers) and adds
``person_login``/``person_name``: who the actor is by the people directory at
export time ("" for an actor that is not a known user), one query per chunk.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    StreamingHttpResponse,
)
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from grantsconsole.accounts.access import auditor_allowed, super_admin_write
from grantsconsole.console import presenters, selectors
from grantsconsole.console.catalog import get_catalog
from grantsconsole.console.forms import AuditFilterForm
from grantsconsole.console.views.common import actor_of, render_page
from grantsconsole.grants import services
from grantsconsole.grants.models import AuditEvent
from grantsconsole.grants.safe_csv import csv_lines
from grantsconsole.grants.services import people
from grantsconsole.grants.services.people import Named

PAGE_SIZE = 50
EXPORT_CHUNK = 2000  # rows per fetch of a streamed export
EXPORT_FIELDS = (
    "seq",
    "created_at",
    "action",
    "outcome",
    "actor_id",
    "actor_login",
    "person_login",
    "person_name",
    "app_okta_id",
    "app_label",
    "scope_id",
    "okta_request_id",
    "detail",
    "row_hash",
)


@require_GET
@auditor_allowed
def audit_list(request: HttpRequest) -> HttpResponse:
    """Audit events, newest first, 50 per page, filterable.

    Queries: the auth ones, one page of rows (LIMIT 51), one for the stale
    banner and the last chain verification, and one for the people named.
    """
    form = AuditFilterForm(request.GET or None)
    filters = form.to_filters()
    page = presenters.audit_page(filters, form.before_seq(), size=PAGE_SIZE)
    freshness, verification = presenters.audit_status(request.user.pk)
    named = [verification.requested_by, verification.queued_by]
    named += [v for e in page.rows for v in (e.actor_id, e.actor_login)]
    context = {
        "people": people.directory(named),
        "form": form,
        "page": page,
        "verification": verification,
        "export_query": _export_query(request),
        "scope_ids": sorted(get_catalog().by_id),
    }
    return render_page(
        request, "audit/list.html", context, section="audit", freshness=freshness
    )


@require_GET
@auditor_allowed
def audit_detail(request: HttpRequest, seq: int) -> HttpResponse:
    """One audit row: every column, its place in the hash chain (its hash and
    MAC checked now, its link to the previous row, the last verification),
    its actor by name, links to its app and scope (for a Super Admin).
    Queries: the auth ones, the row (with the previous row's hash), the stale
    banner with the last verification, and the actor's name."""
    event = selectors.audit_row(seq)
    if event is None:
        raise Http404("Unknown audit row.")
    freshness, verification = presenters.audit_status(request.user.pk)
    context = {
        "people": people.directory([event.actor_id, event.actor_login]),
        "e": event,
        "chain": presenters.row_chain(event, verification),
        "detail_json": json.dumps(event.detail, indent=2, sort_keys=True),
    }
    return render_page(
        request, "audit/detail.html", context, section="audit", freshness=freshness
    )


@require_POST
@super_admin_write
def audit_verify(request: HttpRequest) -> HttpResponse:
    """ "Verify now" (POST): record who pressed it and queue a check of the
    whole audit trail for the worker (it can take a minute on a large trail)."""
    from grantsconsole.grants import tasks

    login = actor_of(request).login
    queued = services.request_verification(login)
    transaction.on_commit(
        lambda: tasks.verify_audit.delay(trigger="console", queued_id=queued.pk)
    )
    messages.success(
        request,
        "A check of the whole audit trail was queued; its result appears here "
        "once a worker has run it.",
    )
    return redirect("audit-list")


def _export_query(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("before", None)
    return query.urlencode()


def _named(events: Iterator[AuditEvent]) -> Iterator[tuple[AuditEvent, Named]]:
    """Each event with who its actor is (one directory query per chunk)."""
    for chunk in itertools.batched(events, EXPORT_CHUNK):
        found = people.directory(v for e in chunk for v in (e.actor_id, e.actor_login))
        for event in chunk:
            yield event, found.resolve(event.actor_login, event.actor_id)


def _row(event: AuditEvent, named: Named) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "created_at": event.created_at.isoformat(),
        "action": event.action,
        "outcome": event.outcome,
        "actor_id": event.actor_id,
        "actor_login": event.actor_login,
        "person_login": named.login if named.okta_id else "",
        "person_name": named.name,
        "app_okta_id": event.app_okta_id,
        "app_label": event.app_label,
        "scope_id": event.scope_id,
        "okta_request_id": event.okta_request_id,
        "detail": event.detail,
        "row_hash": event.row_hash,
    }


def _csv_lines(events: Iterator[AuditEvent]) -> Iterator[str]:
    header = [EXPORT_FIELDS]
    rows = ([_row(*item)[f] for f in EXPORT_FIELDS] for item in _named(events))
    return csv_lines(itertools.chain(header, rows))


def _json_chunks(events: Iterator[AuditEvent]) -> Iterator[str]:
    yield "["
    first = True
    for item in _named(events):
        yield ("\n" if first else ",\n") + json.dumps(_row(*item), sort_keys=True)
        first = False
    yield "\n]\n"


@require_GET
@auditor_allowed
def audit_export(request: HttpRequest, fmt: str) -> HttpResponse:
    """Every audit row matching the page's filters, as CSV or JSON, streamed.
    Intent rows are always included: an export with gaps in ``seq`` would
    read as a trail with rows cut out. A filter the page would refuse (an
    inverted date range, an app text matching too many apps) is a 400 with
    the reason, never a wider export."""
    if fmt not in ("csv", "json"):
        raise Http404("Unknown export format.")
    form = AuditFilterForm(request.GET or None)
    filters = form.to_filters()
    if form.errors:
        # An export is never quietly wider than what was asked for.
        return HttpResponseBadRequest(
            " ".join(str(e) for errors in form.errors.values() for e in errors),
            content_type="text/plain; charset=utf-8",
        )
    filters.include_intents = True
    events = selectors.audit_events(filters).iterator(chunk_size=EXPORT_CHUNK)
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    if fmt == "csv":
        response = StreamingHttpResponse(
            _csv_lines(events), content_type="text/csv; charset=utf-8"
        )
    else:
        response = StreamingHttpResponse(
            _json_chunks(events), content_type="application/json"
        )
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.{fmt}"'
    return response
