"""A large generated org (``--apps 10000``): size, shape, paging. (Its build time
is a benchmark's: ``bench/sim_throughput.py``.)"""

from __future__ import annotations

from grantsconsole.oktasim.seed import generated_apps


def test_generated_apps_have_0_to_12_grants_and_1_percent_non_oidc():
    apps = generated_apps(10000)
    oidc = [a for a in apps if a["kind"] in ("web", "browser", "native", "service")]
    assert len(apps) - len(oidc) == 100
    counts = [len(a["grants"]) for a in oidc]
    assert (min(counts), max(counts)) == (0, 12)
    assert {a["kind"] for a in oidc} == {"web", "browser", "native", "service"}


def test_a_ten_thousand_app_org_pages_completely(sim, ssws):
    info = sim.reset(apps=10000)
    assert info["apps"] == 10002  # plus the console and worker apps
    url = f"{sim.url}/api/v1/apps?limit=200&filter=name+eq+%22oidc_client%22"
    seen = 0
    while url:
        r = ssws.get(url)
        assert r.status_code == 200
        seen += len(r.json())
        url = r.links.get("next", {}).get("url")
    assert seen == 10002 - 100
    sim.reset()
