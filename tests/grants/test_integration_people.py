"""Who authorized an API service integration is a person the worker names,
like a grant's creator."""

from __future__ import annotations

import pytest

from grantsconsole.grants import services
from grantsconsole.grants.models import ApiServiceIntegration, OktaPerson
from grantsconsole.grants.services import people
from tests.factories import ORG_ADMIN

pytestmark = pytest.mark.django_db


def test_the_worker_names_who_authorized_an_integration(sim, worker_client):
    ApiServiceIntegration.objects.create(
        okta_id="0oa1integrationx0x7", name="Acme", created_by_id=ORG_ADMIN.okta_id
    )
    assert people.unnamed_ids() == [ORG_ADMIN.okta_id]
    assert services.refresh_people(worker_client) == 1
    assert OktaPerson.objects.get(okta_id=ORG_ADMIN.okta_id).login == ORG_ADMIN.login
