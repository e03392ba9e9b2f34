"""An app's owner: the form to change it and the change (a Super Admin)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_POST

from grantsconsole.accounts.access import super_admin_required, super_admin_write
from grantsconsole.console.views.apps import _app_or_404
from grantsconsole.console.views.common import actor_of, render_page
from grantsconsole.governance import owners
from grantsconsole.governance.owners_models import AppOwner
from grantsconsole.grants.models import OktaPerson
from grantsconsole.okta_clients import worker_client

#: people offered in the owner form's list
PEOPLE_LISTED = 300


@require_GET
@super_admin_required
def owner_edit(request: HttpRequest, okta_id: str) -> HttpResponse:
    """The form: pick a known person (the people directory) or type a login."""
    app = _app_or_404(okta_id, present=True)
    context = {
        "app": app,
        "owner": AppOwner.objects.filter(app=app).first(),
        "people": OktaPerson.objects.exclude(login="")
        .exclude(state=OktaPerson.State.DELETED)
        .order_by("login")[:PEOPLE_LISTED],
    }
    return render_page(request, "governance/owner_edit.html", context, section="apps")


@require_POST
@super_admin_write
def owner_set(request: HttpRequest, okta_id: str) -> HttpResponse:
    """Assign the app's owner: ``person`` (an Okta user id from the list) or
    ``login`` (typed, checked with Okta's users API through the worker's
    client, which may read users). A refusal is said on the form, nothing
    changed."""
    app = _app_or_404(okta_id, present=True)
    typed = request.POST.get("login", "").strip()
    person = None
    try:
        if typed:
            person = owners.find_person(worker_client(), typed)
        else:
            person = owners.known_person(request.POST.get("person", ""))
            if person is None:
                raise owners.OwnerRefused(
                    "Choose someone from the list or type a login."
                )
    except ImproperlyConfigured:
        messages.error(
            request,
            "The worker has no Okta credentials, so a typed login cannot be "
            "checked: choose someone from the list.",
        )
    except owners.OwnerRefused as exc:
        messages.error(request, str(exc))
    if person is None:
        return redirect("owner-edit", app.okta_id)
    owners.assign_owner(app, person, actor=actor_of(request))
    messages.success(request, f"{person.name} now owns {app.label or app.okta_id}.")
    return redirect("app-detail", app.okta_id)
