import pytest

from hwcost import catalog, seed

STEM = "09_source_audit"
# a 2 % cap on every claim's tolerance, listing only the disagreements
PARAMS = {"tolerance_pct": 2, "show_status": "disagrees"}


def check_default(r):
    claims = seed.claims()
    assert r["n_claims"] == len(claims)
    assert r["n_sections"] == len({c.section for c in claims})
    assert r["n_agrees"] + r["n_disagrees"] + r["n_implausible"] + r["n_not_checkable"] == r["n_claims"]
    assert r["n_rows_shown"] == r["n_claims"]  # show_status = "all"
    # claims without a recompute function are never checkable
    assert r["n_not_checkable"] >= sum(c.recompute is None for c in claims)
    # the $10,000 8x H100 cluster: 8 x the catalog's lowest new H100 SXM price is far more
    h100 = catalog.hardware_prices().query("gpu_id == 'h100-sxm' and condition == 'new'").iloc[0]
    assert r["h100x8_claimed_usd"] == 10_000
    assert r["h100x8_catalog_low_usd"] == pytest.approx(8 * h100["usd_low"])
    assert r["h100x8_status"] == seed.IMPLAUSIBLE
    # the largest gap: Scenario 2's cluster cost per token implies 100 % utilization, but
    # 2,000 requests of 200 output tokens at 2,400 tokens/s keep it 0.193 % busy
    busy_pct = 100 * 2000 * 200 / (86_400 * 2400)
    assert r["largest_difference_claim"] == "s2-cluster-utilization"
    assert r["largest_difference_pct"] == pytest.approx(100 * (100 - busy_pct) / busy_pct, rel=1e-5)
    # every number of the article is covered by a claim or is a label
    if r["article_found"]:
        assert r["n_not_audited"] == 0
        assert r["n_numbers"] > 200 and r["n_audited_here"] / r["n_numbers"] > 0.75


def check_alternative(r, d):
    assert r["n_claims"] == d["n_claims"]
    assert r["n_agrees"] < d["n_agrees"]  # a stricter cap never adds an agreement, and removes some
    assert r["n_disagrees"] > d["n_disagrees"]
    assert r["n_not_checkable"] == d["n_not_checkable"]  # the tolerance does not touch them
    assert r["n_rows_shown"] == r["n_disagrees"]  # show_status = "disagrees"
    if r["article_found"] and d["article_found"]:  # the scan needs the article beside the repo
        assert r["n_numbers"] == d["n_numbers"]
