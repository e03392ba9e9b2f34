"""The compensating-control reads (an app's client secrets, the org setting)
serve the org as it is now: after a reset, and after a secret is rotated out
of band through the control surface."""

from __future__ import annotations

from grantsconsole.oktasim import seed as demo


def _app_id(sim, label: str) -> str:
    return next(a["id"] for a in sim.state()["apps"] if a["label"] == label)


def test_a_reset_org_is_the_one_whose_setting_and_secrets_are_served(sim, ssws):
    setting = f"{sim.url}/api/v1/org/settings/clientPrivilegesSetting"
    assert ssws.get(setting).json() == {"clientPrivilegesSetting": True}
    seed = demo.demo_seed()
    seed["controls"] = {**seed["controls"], "client_privileges": False}
    sim.reset(seed=seed)
    assert ssws.get(setting).json() == {"clientPrivilegesSetting": False}


def test_a_rotated_secret_is_listed_and_the_old_one_deactivated(sim, ssws):
    crm = _app_id(sim, "Legacy CRM")  # one secret, three years old
    url = f"{sim.url}/api/v1/apps/{crm}/credentials/secrets"
    (old,) = ssws.get(url).json()
    sim.oob_app("rotate_secret", app_id=crm)
    listed = ssws.get(url).json()
    assert [(s["id"], s["status"]) for s in listed[:1]] == [(old["id"], "INACTIVE")]
    assert [s["status"] for s in listed[1:]] == ["ACTIVE"]
    assert listed[1]["created"] > old["created"]
