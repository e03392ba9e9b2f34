"""Sync runs: live progress (htmx polling), outcome, per-app errors, "Sync now".

"Sync now" records a queued run (``services.queue_sync``) and opens its page,
which follows it: the run's live fragment is polled every 2 s by htmx while the
run is queued or running (``hx-trigger="every 2s"``) and rendered without the
trigger once it ended, so polling stops. The list's progress fragment does the
same for every queued or running run. Without JavaScript a ``<meta refresh>``
is not used (CSP-friendly); the pages show a "Reload" link instead.
"""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from grantsconsole.accounts.access import super_admin_required, super_admin_write
from grantsconsole.console import selectors
from grantsconsole.console.forms import SyncStartForm
from grantsconsole.console.views.common import actor_of, is_htmx, render_page
from grantsconsole.grants import services
from grantsconsole.grants.models import SyncRun
from grantsconsole.grants.services import people


def _runs_context() -> dict[str, object]:
    """The latest runs, the queued or running ones among them, and who asked
    for them (two queries)."""
    runs = list(selectors.sync_runs())
    return {
        "people": people.directory(r.requested_by for r in runs),
        "running": [r for r in runs if not r.is_finished],
        "runs": runs,
    }


@require_GET
@super_admin_required
def sync_list(request: HttpRequest) -> HttpResponse:
    """Latest sync runs with outcome and counters; live progress of running ones.

    Queries: the auth ones, the stale banner, the latest 30 runs (+ running
    ones) and who asked for them.
    """
    context = {**_runs_context(), "form": SyncStartForm()}
    return render_page(request, "sync/list.html", context, section="sync")


@require_GET
@super_admin_required
def sync_progress(request: HttpRequest) -> HttpResponse:
    """The progress fragment alone (what htmx polls): running runs and the recent
    runs table. Two queries after auth (the runs, who asked for them)."""
    return render(request, "sync/list.html#progress", _runs_context())


@require_GET
@super_admin_required
def sync_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    """One run: who asked for it, elapsed time, counters, message and the
    per-app errors. From htmx, the live fragment alone (what the page polls
    while the run is queued or running). Two queries after auth (the run, who asked for it) (plus the stale
    banner for the whole page)."""
    run = SyncRun.objects.filter(pk=run_id).first()
    if run is None:
        raise Http404("Unknown sync run.")
    named = {"run": run, "people": people.directory([run.requested_by])}
    if is_htmx(request):
        return render(request, "sync/detail.html#live", named)
    errors = sorted((run.errors or {}).items()) if isinstance(run.errors, dict) else []
    context = {**named, "errors": errors}
    return render_page(request, "sync/detail.html", context, section="sync")


def _enqueue(run: SyncRun) -> None:
    """Hand the queued ``run`` to the worker after the transaction commits."""
    from grantsconsole.grants import tasks

    task = tasks.start_full_sync if run.kind == "full" else tasks.incremental_sync
    transaction.on_commit(
        lambda: task.delay(
            trigger="console", requested_by=run.requested_by, run_id=run.pk
        )
    )


@require_POST
@super_admin_write
def sync_start(request: HttpRequest) -> HttpResponse:
    """ "Sync now" (POST, ``kind``): record a queued full or incremental run
    naming the admin, hand it to the worker, and open its page (which follows
    it until it ends)."""
    form = SyncStartForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a full or an incremental sync.")
        return redirect("sync-list")
    run = services.queue_sync(
        form.cleaned_data["kind"], requested_by=actor_of(request).login
    )
    _enqueue(run)
    messages.success(
        request,
        f"{run.kind.title()} sync #{run.pk} was queued; this page follows it "
        "until it ends.",
    )
    url = reverse("sync-detail", args=[run.pk])
    if is_htmx(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)
