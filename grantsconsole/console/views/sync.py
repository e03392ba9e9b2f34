"""Sync runs: live progress (htmx polling), outcome, per-app errors, "Sync now".

The progress fragment is polled every 2 s by htmx while a run is running
(``hx-trigger="every 2s"``); once no run is running the fragment is rendered
without the trigger, so polling stops. Without JavaScript a ``<meta refresh>``
is not used (CSP-friendly); the page shows a "Reload" link instead.
"""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from grantsconsole.accounts.access import super_admin_required, super_admin_write
from grantsconsole.console import selectors
from grantsconsole.console.forms import SyncStartForm
from grantsconsole.console.views.common import actor_of, is_htmx, render_page
from grantsconsole.grants.models import SyncRun
from grantsconsole.grants.services import people


def _runs_context() -> dict[str, object]:
    """The latest runs and the running ones among them, and who asked for
    them (two queries)."""
    runs = list(selectors.sync_runs())
    return {
        "people": people.directory(r.requested_by for r in runs),
        "running": [r for r in runs if r.status == SyncRun.Status.RUNNING],
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
    """One run: counters, message, the per-app errors and who asked for it."""
    run = SyncRun.objects.filter(pk=run_id).first()
    if run is None:
        raise Http404("Unknown sync run.")
    errors = sorted((run.errors or {}).items()) if isinstance(run.errors, dict) else []
    context = {
        "run": run,
        "errors": errors,
        "people": people.directory([run.requested_by]),
    }
    return render_page(request, "sync/detail.html", context, section="sync")


def _enqueue(kind: str, actor_login: str) -> None:
    """Queue a sync of ``kind`` after the transaction commits (the worker runs
    it); its run names ``actor_login`` as the admin who asked for it."""
    from grantsconsole.grants import tasks

    task = tasks.start_full_sync if kind == "full" else tasks.incremental_sync
    transaction.on_commit(
        lambda: task.delay(trigger="console", requested_by=actor_login)
    )


@require_POST
@super_admin_write
def sync_start(request: HttpRequest) -> HttpResponse:
    """ "Sync now": queue a full or incremental sync (POST, ``kind``)."""
    form = SyncStartForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a full or an incremental sync.")
        return redirect("sync-list")
    kind = form.cleaned_data["kind"]
    login = actor_of(request).login
    _enqueue(kind, login)
    messages.success(
        request,
        f"A {kind} sync was queued; its progress appears below once a worker starts it.",
    )
    if is_htmx(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = request.build_absolute_uri("/sync/")
        return response
    return redirect("sync-list")
