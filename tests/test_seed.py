"""Tests of hwcost.seed: the source article's claims, recomputed and classified."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from hwcost import catalog, economics, perf, seed
from hwcost.workload import SLO


@pytest.fixture(scope="module")
def audit() -> pd.DataFrame:
    return seed.audit()


def row(audit, claim_id) -> pd.Series:
    hit = audit[audit["claim_id"] == claim_id]
    assert len(hit) == 1, claim_id
    return hit.iloc[0]


# ----------------------------------------------------------------------------------------
# Shape of the audit table
# ----------------------------------------------------------------------------------------
def test_audit_columns_and_every_claim_listed(audit):
    required = {"claim_id", "section", "claim", "claimed_value", "claimed_unit", "inputs",
                "recomputed_value", "status", "difference_pct", "reason"}
    assert required <= set(audit.columns)
    assert list(audit.columns) == list(seed.AUDIT_COLUMNS)
    assert len(audit) == len(seed.claims())
    assert audit["claim_id"].is_unique
    assert set(audit["status"]) <= set(seed.STATUSES)
    assert (audit["reason"].str.len() > 10).all()
    assert (audit["claim"].str.len() > 5).all()


def test_audit_has_no_nan_or_inf_and_checked_claims_have_numbers(audit):
    for col in ("claimed_value", "recomputed_value", "recomputed_low", "recomputed_high",
                "difference_pct", "as_written_value"):
        assert str(audit[col].dtype) == "Float64"
        values = audit[col].dropna().astype(float)
        assert values.map(math.isfinite).all(), col
    checked = audit[audit["status"] != seed.NOT_CHECKABLE]
    assert checked["recomputed_value"].notna().all()
    assert checked["difference_pct"].notna().all()
    unchecked = audit[audit["status"] == seed.NOT_CHECKABLE]
    assert unchecked["difference_pct"].isna().all()


def test_all_four_statuses_occur(audit):
    s = seed.summary(audit)
    assert list(s["status"]) == list(seed.STATUSES)
    assert (s["claims"] > 0).all()
    assert s["claims"].sum() == len(audit)


def test_required_claims_are_covered(audit):
    ids = set(audit["claim_id"])
    required = {
        # per-provider USD per 1M tokens
        "runpod-4090-usd-per-mtok", "runpod-a100-usd-per-mtok", "runpod-h100-usd-per-mtok",
        # CoreWeave per-GPU prices
        "coreweave-l40s-per-gpu", "coreweave-a100-per-gpu", "coreweave-h100-per-gpu",
        # RTX 4090 amortization and effective hourly cost
        "rtx4090-amortized", "rtx4090-electricity", "rtx4090-effective",
        # 8x H100 cluster capex and hourly figures
        "h100x8-hardware-price", "h100x8-capex", "h100x8-amortized", "h100x8-operational",
        "h100x8-total",
        # Scenario 1 line by line
        "s1-throughput", "s1-requests-per-s", "s1-utilization", "s1-cloud-usd-per-request",
        "s1-cloud-usd-per-token", "s1-self-hosted-hourly", "s1-self-hosted-usd-per-request",
        "s1-savings",
        # Scenario 2 line by line, with utilization
        "s2-throughput", "s2-cloud-price", "s2-cloud-usd-per-mtok", "s2-cloud-utilization",
        "s2-cluster-throughput", "s2-cluster-amortized-per-gpu", "s2-cluster-amortized",
        "s2-cluster-power", "s2-cluster-total", "s2-cluster-usd-per-mtok",
        "s2-cloud-vs-self-ratio", "s2-cluster-utilization",
        # quantization table, batching example
        "quant-13b-fp16-memory", "quant-13b-int8-memory", "quant-13b-int4-memory",
        "quant-13b-int8-speedup", "quant-13b-int4-speedup", "batch-8-throughput",
        "batch-8-more-users",
        # FAQs: H100 vs A100, break-even, API vs self-hosted
        "faq-h100-vs-a100-batch-1", "faq-h100-vs-a100-moderate-batch",
        "faq-h100-vs-a100-high-batch", "faq-break-even-gpu-hours", "faq-break-even-months",
        "faq-api-input-prices", "faq-self-hosted-usd-per-mtok", "faq-api-crossover-volume",
    }
    assert required <= ids, required - ids


def test_status_follows_the_comparison_rule(audit):
    """Each status is what compare() gives for the row's own numbers (unless forced)."""
    by_id = {c.claim_id: c for c in seed.claims()}
    for r in audit.itertuples():
        c = by_id[r.claim_id]
        if r.status == seed.NOT_CHECKABLE:
            continue
        chk = c.check()
        lo = chk.low if chk.low is not None else chk.value
        hi = chk.high if chk.high is not None else chk.value
        a = c.claimed_value
        b = c.claimed_high if c.claimed_high is not None else a
        ok, diff = seed.compare(a, b, lo, hi, c.tolerance, c.relation)
        assert r.difference_pct == pytest.approx(diff)
        if chk.status is not None:
            assert r.status == chk.status
        elif not ok:
            assert r.status == seed.DISAGREES, r.claim_id
        else:
            assert r.status == (seed.IMPLAUSIBLE if chk.implausible else seed.AGREES), r.claim_id


# ----------------------------------------------------------------------------------------
# Hand-computed claims
# ----------------------------------------------------------------------------------------
def test_runpod_4090_cost_figure_right_formula_wrong(audit):
    r = row(audit, "runpod-4090-usd-per-mtok")
    assert r["recomputed_value"] == pytest.approx(0.34 / 3600 / 120 * 1e6)  # 0.787
    assert r["as_written_value"] == pytest.approx(100_000 * 0.34 / 3600 / 120)  # 0.0787
    assert r["status"] == seed.AGREES


@pytest.mark.parametrize("claim_id, price, low_tps, high_tps", [
    ("runpod-a100-usd-per-mtok", 1.39, 250, 400),
    ("runpod-h100-usd-per-mtok", 2.69, 500, 800),
])
def test_per_provider_ranges(audit, claim_id, price, low_tps, high_tps):
    r = row(audit, claim_id)
    assert r["recomputed_low"] == pytest.approx(price / 3600 / high_tps * 1e6)
    assert r["recomputed_high"] == pytest.approx(price / 3600 / low_tps * 1e6)
    assert r["status"] == seed.AGREES  # 1.39 in 0.97-1.54; 1.21 in 0.93-1.49


@pytest.mark.parametrize("claim_id, expected", [
    ("coreweave-l40s-per-gpu", 18.00 / 8), ("coreweave-a100-per-gpu", 21.60 / 8),
    ("coreweave-h100-per-gpu", 49.24 / 8),
])
def test_coreweave_per_gpu(audit, claim_id, expected):
    r = row(audit, claim_id)
    assert r["recomputed_value"] == pytest.approx(expected)
    assert r["status"] == seed.AGREES


def test_rtx4090_amortization_and_electricity(audit):
    assert row(audit, "rtx4090-amortized")["recomputed_value"] == pytest.approx(1600 / 26280)
    assert row(audit, "rtx4090-amortized")["status"] == seed.AGREES
    e = row(audit, "rtx4090-electricity")
    assert (e["recomputed_low"], e["recomputed_high"]) == (pytest.approx(0.045), pytest.approx(0.090))
    assert e["status"] == seed.DISAGREES
    assert e["difference_pct"] == pytest.approx(100 * (0.20 - 0.09) / 0.09)  # the larger end gap
    eff = row(audit, "rtx4090-effective")
    assert eff["recomputed_low"] == pytest.approx(1600 / 26280 + 0.045)
    assert eff["recomputed_high"] == pytest.approx(1600 / 26280 + 0.090)
    assert eff["status"] == seed.DISAGREES


def test_h100_cluster(audit):
    assert row(audit, "h100x8-hardware-price")["status"] == seed.IMPLAUSIBLE
    capex = row(audit, "h100x8-capex")
    assert capex["recomputed_value"] == pytest.approx(15_000)
    assert capex["status"] == seed.IMPLAUSIBLE  # arithmetic fine, $1,250 per H100 is not
    amort = row(audit, "h100x8-amortized")
    assert amort["recomputed_value"] == pytest.approx(15_000 / 26_280)  # 0.571, not 0.90
    assert amort["status"] == seed.DISAGREES
    ops = row(audit, "h100x8-operational")
    assert ops["recomputed_value"] == pytest.approx(8_000 / 8_760)  # 0.913, not 0.40
    assert ops["status"] == seed.DISAGREES
    total = row(audit, "h100x8-total")
    assert total["recomputed_value"] == pytest.approx(15_000 / 26_280 + 8_000 / 8_760)
    assert total["status"] == seed.DISAGREES


def test_scenario1_lines(audit):
    u = row(audit, "s1-utilization")
    assert u["recomputed_value"] == pytest.approx(100 * 50 * 650 / (86_400 * 120))  # 0.3135 %
    assert u["as_written_value"] == pytest.approx(100 * 50 / (86_400 * 0.185))
    assert u["status"] == seed.AGREES
    assert row(audit, "s1-requests-per-s")["recomputed_value"] == pytest.approx(120 / 650)
    cloud = row(audit, "s1-cloud-usd-per-request")
    assert cloud["recomputed_value"] == pytest.approx(0.34 * 24 / 50)  # 0.1632
    assert cloud["as_written_value"] == pytest.approx(0.34 * 3600 / (86_400 * 0.185 * 650) / 50)
    assert cloud["status"] == seed.DISAGREES
    assert cloud["difference_pct"] == pytest.approx(100 * (2.80 - 0.1632) / 0.1632)
    token = row(audit, "s1-cloud-usd-per-token")
    assert token["recomputed_value"] == pytest.approx(0.34 * 24 / 50 / 650)
    assert token["status"] == seed.DISAGREES
    own = row(audit, "s1-self-hosted-usd-per-request")
    assert own["recomputed_value"] == pytest.approx(0.16 * 24 / 50)
    assert own["status"] == seed.DISAGREES
    hourly = row(audit, "s1-self-hosted-hourly")
    assert hourly["recomputed_high"] == pytest.approx(1600 / 26280 + 0.450 * 0.20)
    savings = row(audit, "s1-savings")
    assert savings["recomputed_value"] == pytest.approx(100 * (1 - 0.16 / 0.34))
    assert savings["status"] == seed.AGREES


def test_scenario1_throughput_uses_a_precision_that_fits():
    assert not perf.estimate("llama-2-13b", "rtx-4090", precision="bf16",
                             input_tokens=500, output_tokens=150).fits
    c = seed.claim("s1-throughput").check()
    e8 = perf.estimate("llama-2-13b", "rtx-4090", precision="int8", input_tokens=500, output_tokens=150)
    assert c.low == pytest.approx(e8.output_tokens_per_s * e8.error_band[0])


def test_scenario2_lines(audit):
    assert row(audit, "s2-cloud-usd-per-mtok")["recomputed_value"] == pytest.approx(2.69 / 3600 * 1e6 / 600)
    assert row(audit, "s2-cloud-usd-per-mtok")["status"] == seed.AGREES
    assert row(audit, "s2-cluster-throughput")["recomputed_value"] == pytest.approx(2400)
    per_gpu = row(audit, "s2-cluster-amortized-per-gpu")
    assert per_gpu["recomputed_value"] == pytest.approx(3600 / 26280)
    assert per_gpu["status"] == seed.IMPLAUSIBLE
    assert row(audit, "s2-cluster-amortized")["status"] == seed.IMPLAUSIBLE
    assert row(audit, "s2-cluster-total")["recomputed_value"] == pytest.approx(1.35)
    mtok = row(audit, "s2-cluster-usd-per-mtok")
    assert mtok["recomputed_value"] == pytest.approx(1.35 / 3600 * 1e6 / 2400)  # 0.156
    assert mtok["status"] == seed.IMPLAUSIBLE
    ratio = row(audit, "s2-cloud-vs-self-ratio")
    assert ratio["recomputed_value"] == pytest.approx((2.69 / 600) / (1.35 / 2400))  # 7.97
    assert ratio["status"] == seed.DISAGREES
    u = row(audit, "s2-cloud-utilization")
    # one reading of the article's 600 tokens/s: output tokens (2,000 x 200 / (86,400 x 600))
    assert u["recomputed_value"] == pytest.approx(100 * 2000 * 200 / (86_400 * 600))  # 0.77 %
    assert u["status"] == seed.DISAGREES
    assert "read as output tokens" in u["reason"]
    assert row(audit, "s2-cluster-utilization")["recomputed_value"] == pytest.approx(
        100 * 2000 * 200 / (86_400 * 2400))  # 0.19 %
    power = row(audit, "s2-cluster-power")
    en = catalog.energy().set_index("id").loc["us-industrial-colo"]
    assert power["recomputed_high"] == pytest.approx(
        4 * 0.7 * en["pue_high"] * en["usd_per_kwh_high"])


def test_quantization_memory_from_perf(audit):
    for claim_id, precision in (("quant-13b-fp16-memory", "fp16"), ("quant-13b-int8-memory", "int8"),
                                ("quant-13b-int4-memory", "int4")):
        r = row(audit, claim_id)
        assert r["recomputed_value"] == pytest.approx(perf.weights_bytes("llama-2-13b", precision) / 1e9)
        assert r["status"] == seed.AGREES
    assert row(audit, "quant-13b-fp16-memory")["recomputed_value"] == pytest.approx(26.04, abs=0.01)


def test_quantization_speedup_bounded_by_bytes(audit):
    # memory-bound batch-1 decode: fewer weight bytes make it faster, but never by more than
    # the ratio of the bytes read (dequantization and the KV cache are not shrunk)
    r = row(audit, "quant-13b-int8-speedup")
    assert r["as_written_value"] == pytest.approx(200 / 150)
    bytes_ratio = perf.weights_bytes("llama-2-13b", "fp16") / perf.weights_bytes("llama-2-13b", "int8")
    assert 1 < r["recomputed_value"] < bytes_ratio
    assert row(audit, "quant-13b-int4-speedup")["recomputed_value"] > r["recomputed_value"]


def test_batching_example(audit):
    users = row(audit, "batch-8-more-users")
    assert users["recomputed_value"] == 7 and users["status"] == seed.DISAGREES
    cost = row(audit, "batch-cost-per-request")
    assert cost["recomputed_low"] == pytest.approx(80.0)  # 1 - 200/1000 by its own numbers
    assert cost["status"] == seed.DISAGREES
    assert row(audit, "batch-8-throughput")["as_written_value"] == pytest.approx(5.0)


def test_h100_vs_a100_faq(audit):
    b1 = row(audit, "faq-h100-vs-a100-batch-1")
    bw_ratio = 3350 / 2039
    assert b1["recomputed_value"] == pytest.approx(bw_ratio, rel=0.15)
    assert b1["status"] == seed.DISAGREES  # 20-30 % claimed, ~1.6x memory-bound
    assert row(audit, "faq-a100-bandwidth")["recomputed_value"] == pytest.approx(2.039)
    assert row(audit, "faq-h100-bandwidth")["status"] == seed.AGREES


def test_break_even_faq(audit):
    hours = row(audit, "faq-break-even-gpu-hours")
    expected_h = 10_000 / (2.69 - 500 / 730)
    assert hours["recomputed_value"] == pytest.approx(expected_h, rel=1e-6)  # ~4,987 h
    assert hours["status"] == seed.DISAGREES
    months = row(audit, "faq-break-even-months")
    assert months["recomputed_value"] == pytest.approx(expected_h / 730, rel=1e-6)  # ~6.8
    assert months["status"] == seed.DISAGREES
    assert row(audit, "faq-break-even-short-term")["status"] == seed.AGREES


def test_api_faq(audit):
    api = catalog.api_prices()
    r = row(audit, "faq-api-input-prices")
    assert r["recomputed_low"] == pytest.approx(api["usd_per_million_input_tokens"].min())
    assert r["recomputed_high"] == pytest.approx(api["usd_per_million_input_tokens"].max())
    crossover = row(audit, "faq-api-crossover-volume")
    assert crossover["status"] != seed.NOT_CHECKABLE
    assert crossover["recomputed_low"] > 1e8  # below 100M tokens/month the API wins
    self_hosted = row(audit, "faq-self-hosted-usd-per-mtok")
    assert self_hosted["recomputed_high"] > 2.0  # low utilization costs far more than $2/1M


def test_coreweave_does_not_lead_on_cost(audit):
    r = row(audit, "faq-coreweave-leads-on-cost")
    assert r["recomputed_low"] == pytest.approx(2.70 / 1.39)
    assert r["recomputed_high"] == pytest.approx(6.16 / 2.69)
    assert r["status"] == seed.DISAGREES


def test_catalog_price_claims_agree_with_catalog(audit):
    for claim_id, provider, gpu, n in (("runpod-4090-price", "runpod", "rtx-4090", 1),
                                       ("runpod-h100-price", "runpod", "h100-sxm", 1),
                                       ("coreweave-h100-bundle-price", "coreweave", "h100-sxm", 8)):
        rate = economics.cloud_rate(provider, gpu, gpus_per_instance=n)
        assert row(audit, claim_id)["recomputed_value"] == pytest.approx(rate.usd_per_instance_hour, rel=1e-3)


# ----------------------------------------------------------------------------------------
# compare() and Claim validation
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("args, ok, diff", [
    ((1.24, 1.24, 1.2454, 1.2454, 0.05, "approx"), True, 100 * (1.24 - 1.2454) / 1.2454),
    ((2.80, 2.80, 0.1632, 0.1632, 0.05, "approx"), False, 100 * (2.80 - 0.1632) / 0.1632),
    ((1.39, 1.39, 0.965, 1.544, 0.05, "approx"), True, 0.0),      # point inside range
    ((2.00, 2.00, 0.965, 1.544, 0.05, "approx"), False, 100 * (2.0 - 1.544) / 1.544),
    ((1.5, 2.0, 1.7, 1.7, 0.05, "approx"), True, 0.0),            # range contains point
    ((1.2, 1.3, 1.6, 1.6, 0.05, "approx"), False, 100 * (1.3 - 1.6) / 1.6),
    ((80, 150, 40, 90, 0.05, "approx"), True, 0.0),               # overlapping ranges
    ((0.10, 0.20, 0.045, 0.09, 0.05, "span"), False, 100 * (0.20 - 0.09) / 0.09),
    ((10, 50, 12, 44, 0.20, "span"), True, 100 * (10 - 12) / 12),
    ((2.0, 2.0, 1.95, 1.95, 0.05, "at_least"), True, 100 * (2.0 - 1.95) / 1.95),
    ((6.0, 6.0, 6.83, 6.83, 0.05, "at_least"), True, 0.0),
    ((1.0, 1.0, 1.94, 2.29, 0.05, "at_most"), False, 100 * (1.0 - 1.94) / 1.94),
])
def test_compare_rules(args, ok, diff):
    got_ok, got_diff = seed.compare(*args)
    assert got_ok is ok
    assert got_diff == pytest.approx(diff)


def test_compare_rejects_bad_ranges():
    with pytest.raises(ValueError, match="low <= high"):
        seed.compare(2.0, 1.0, 1.0, 1.0, 0.05)
    with pytest.raises(ValueError, match="finite"):
        seed.compare(float("nan"), 1.0, 1.0, 1.0, 0.05)
    with pytest.raises(ValueError, match="> 0"):
        seed.compare(1.0, 1.0, 0.0, 1.0, 0.05)


def test_claim_validation_and_lookup():
    with pytest.raises(ValueError, match="low > high"):
        seed.Claim("x", "s", "text", 5.0, "USD", claimed_high=1.0)
    with pytest.raises(ValueError, match="relation"):
        seed.Claim("x", "s", "text", 5.0, "USD", relation="roughly")
    with pytest.raises(ValueError, match="s1-utilization"):
        seed.claim("s1-utilisation")
    assert seed.claim("s1-savings").input_values == {"self_hosted_usd_per_hour": 0.16,
                                                     "cloud_usd_per_hour": 0.34}


def test_audit_of_a_custom_claim_list():
    c = seed.Claim("custom", "test", "a GPU-hour at $2 for 1,000 tokens/s costs $0.56/1M", 0.56,
                   "USD/1M tokens", (("usd_per_hour", 2.0, "USD/h"), ("tokens_per_s", 1000, "tokens/s")),
                   lambda x: seed.Check(value=economics.cost_per_million_tokens(x["usd_per_hour"], x["tokens_per_s"]),
                                        reason="2 / 3600 / 1000 x 1e6"))
    df = seed.audit([c])
    assert df.loc[0, "status"] == seed.AGREES
    assert df.loc[0, "recomputed_value"] == pytest.approx(0.5556, rel=1e-3)
    assert df.loc[0, "inputs"] == "usd_per_hour=2 USD/h; tokens_per_s=1000 tokens/s"


# ----------------------------------------------------------------------------------------
# Scenario comparison
# ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def comparison() -> pd.DataFrame:
    return seed.scenario_comparison()


def test_scenario_comparison_shape(comparison):
    assert list(comparison.columns) == list(seed.COMPARISON_COLUMNS)
    assert set(comparison["basis"]) == {"article", "corrected"}
    assert comparison["scenario"].nunique() == 2
    for col in ("usd_per_day", "usd_per_request", "usd_per_million_tokens", "utilization"):
        values = comparison[col].dropna().astype(float)
        assert values.map(math.isfinite).all()
    corrected = comparison[comparison["basis"] == "corrected"]
    assert corrected["usd_per_request"].notna().all()


def test_scenario_comparison_known_answers(comparison):
    c = comparison[comparison["basis"] == "corrected"].set_index("option")
    # always-on: the whole day's rent lands on the few requests
    assert c.loc["RunPod RTX 4090, on demand, always on", "usd_per_request"] == pytest.approx(0.34 * 24 / 50)
    assert c.loc["RunPod H100, on demand, always on", "usd_per_request"] == pytest.approx(2.69 * 24 / 2000)
    gpu_rows = c[c["gpu_id"].notna()]
    assert (gpu_rows["utilization"].astype(float) < 0.05).all()  # both scenarios leave GPUs idle
    # scale-to-zero never costs more than always-on at per-second billing
    assert c.loc["RunPod RTX 4090, scale to zero", "usd_per_request"] <= \
        c.loc["RunPod RTX 4090, on demand, always on", "usd_per_request"]
    # at these volumes the open-model API is the cheapest option
    api = c[c.index.str.startswith("API")]["usd_per_request"].min()
    assert api < gpu_rows["usd_per_request"].min()


def test_scenario_comparison_single_and_bad_input():
    one = seed.scenario_comparison(1)
    assert one["scenario"].nunique() == 1
    with pytest.raises(ValueError, match="scenario"):
        seed.scenario_comparison(3)
    with pytest.raises(ValueError, match="us-residentail"):
        seed.scenario_comparison(1, energy_home="us-residentail")
    with pytest.raises(ValueError, match="read_gbps"):
        seed.scenario_comparison(1, read_gbps=0)


# ----------------------------------------------------------------------------------------
# Tolerance cap, the claims added for full coverage, readable table
# ----------------------------------------------------------------------------------------
def _agrees(df) -> set:
    return set(df.loc[df["status"] == seed.AGREES, "claim_id"])


def test_stricter_tolerance_never_adds_an_agreement(audit):
    assert seed.audit(max_tolerance=None).equals(audit)
    # each claim's own tolerance is at most 25 %, so a 25 % cap changes nothing
    assert seed.audit(max_tolerance=0.25).equals(audit)
    loose, strict = _agrees(audit), _agrees(seed.audit(max_tolerance=0.02))
    assert strict <= loose and len(strict) < len(loose)
    # Scenario 1 utilization: 0.3 % claimed vs 0.3135 % recomputed, 4.3 % apart: agrees
    # within its own 10 % tolerance, not within 2 %
    assert "s1-utilization" in loose - strict
    with pytest.raises(ValueError, match="max_tolerance"):
        seed.audit(max_tolerance=-0.1)


def test_added_claims_gpu_memory_and_traffic_rules(audit):
    assert row(audit, "rtx4090-memory")["recomputed_value"] == catalog.gpu("rtx-4090").memory_gb
    assert row(audit, "rtx6000ada-memory")["status"] == seed.AGREES
    h100 = row(audit, "best-for-h100-traffic")
    assert h100["status"] == seed.NOT_CHECKABLE
    e = perf.estimate("llama-3.1-70b", "h100-sxm", precision="int4", batch_size="max",
                      input_tokens=500, output_tokens=200)
    capacity = e.output_tokens_per_s / 200 * 86_400
    assert f"{capacity:,.0f} requests/day" in h100["reason"]
    assert f"{5000 / capacity:.2%}" in h100["reason"]
    size = row(audit, "size-405b-self-hosted")
    # 4-8 H100s claimed; the fewest that hold 405B range from int4 to bf16 and overlap it
    assert size["recomputed_low"] == perf.min_gpus_to_fit("llama-3.1-405b", "h100-sxm", "int4",
                                                          input_tokens=500, output_tokens=200)
    assert size["status"] == seed.AGREES


def test_readable_audit_formats_without_missing_values(audit):
    r = seed.readable_audit(audit, width=40)
    assert list(r.columns) == ["section", "claim", "claimed", "unit", "recomputed", "as_printed",
                               "status", "difference_pct", "reason"]
    assert len(r) == len(audit)
    text = r.to_string()
    assert "nan" not in text.lower() and "<NA>" not in text
    assert r["claim"].str.len().max() <= 40 and r["reason"].str.len().max() <= 40
    s1 = r[audit["claim_id"] == "s1-cloud-usd-per-request"].iloc[0]
    assert s1["claimed"] == "2.8" and s1["recomputed"] == "0.163"
    assert s1["as_printed"] == f"{0.34 * 3600 / (86_400 * 0.185 * 650) / 50:.3g}"  # 2.36e-06
    assert s1["difference_pct"] == f"{100 * (2.80 - 0.1632) / 0.1632:+,.0f}"
    span = r[audit["claim_id"] == "rtx4090-electricity"].iloc[0]
    assert span["claimed"] == "0.1-0.2" and span["recomputed"] == "0.045-0.09"
    unchecked = r[audit["status"] == seed.NOT_CHECKABLE]
    assert (unchecked["difference_pct"] == "").all()


# ----------------------------------------------------------------------------------------
# Numbers of the article against the claims
# ----------------------------------------------------------------------------------------
def test_article_text_reads_txt_files_in_order_and_none_when_absent(tmp_path):
    assert seed.article_text(tmp_path / "missing") is None
    assert seed.article_text(tmp_path) is None
    (tmp_path / "b.txt").write_text("second", encoding="utf-8")
    (tmp_path / "a.txt").write_text("first", encoding="utf-8")
    assert seed.article_text(tmp_path) == "first\nsecond"


def test_number_coverage_classifies_each_number():
    c = seed.claim("runpod-h100-price")  # "RunPod H100 ($2.69/hour)", 2.69 USD/h
    text = "\n".join([
        "RunPod H100 ($2.69/hour):",                # quoted by the claim
        "Scenario 2: cheaper than $2.69 per hour",  # same value, another wording; label
        "As of March 2026 the rate was 7.77 USD",   # a date, and a number no claim has
        "Nvidia RTX 4090 runs 13B models",          # product name, model size
    ])
    cov = seed.number_coverage(text, [c])
    assert list(cov.columns) == list(seed.COVERAGE_COLUMNS)
    got = {(r.line, r.number): (r.coverage, r.note) for r in cov.itertuples()}
    assert got[(1, "$2.69")][0] == "audited here" and cov.iloc[0]["claim_ids"] == "runpod-h100-price"
    assert got[(2, "2")] == ("label", "product name or label")
    assert got[(2, "$2.69")][0] == "audited elsewhere"
    assert got[(3, "2026")] == ("label", "date or title")
    assert got[(3, "7.77")][0] == "not audited"
    assert got[(4, "4090")][0] == "label" and got[(4, "13B")][0] == "label"
    assert cov.loc[cov["number"] == "13B", "value"].iloc[0] == 13e9


def test_number_coverage_without_article_is_empty(monkeypatch, tmp_path):
    monkeypatch.setattr(seed, "ARTICLE_DIR", tmp_path / "absent")
    cov = seed.number_coverage()
    assert cov.empty and list(cov.columns) == list(seed.COVERAGE_COLUMNS)
    # the audit itself needs no article
    assert len(seed.audit()) == len(seed.claims())


def test_every_number_of_the_article_is_covered():
    text = seed.article_text()
    if text is None:
        pytest.skip("the source article is not beside the repository")
    cov = seed.number_coverage(text)
    missing = cov[cov["coverage"] == "not audited"]
    assert missing.empty, missing[["line", "number", "context"]].to_string()
    assert (cov["coverage"] == "audited here").mean() > 0.75


# ----------------------------------------------------------------------------------------
# Corrected options for any workload
# ----------------------------------------------------------------------------------------
def test_fitting_precision():
    assert seed.fitting_precision("llama-3.1-8b", "h100-sxm") == ("bf16", "")
    prec, note = seed.fitting_precision("llama-2-13b", "rtx-4090", input_tokens=500, output_tokens=150)
    assert perf.WEIGHT_BITS[prec] < 16 and "24 GB" in note and "BF16" in note
    assert perf.estimate("llama-2-13b", "rtx-4090", precision=prec, input_tokens=500, output_tokens=150).fits
    with pytest.raises(ValueError, match="llama-3.1-405b"):
        seed.fitting_precision("llama-3.1-405b", "rtx-4090")


@pytest.fixture(scope="module")
def s2_options():
    w = seed.SCENARIOS[2].workload()
    return seed.corrected_options(w, "h100-sxm", provider="runpod", offering="community")


def test_corrected_options_known_answers(s2_options):
    o = s2_options
    t = o.table
    assert list(t.columns) == list(seed.OPTION_COLUMNS)
    assert list(dict.fromkeys(t["kind"])) == list(seed.OPTION_KINDS)
    # 70B does not fit one 80 GiB GPU at 16-bit (141 GB of weights); at fp8 (70.6 GB) it does
    assert o.precision == "fp8" and "does not fit" in o.precision_note
    always = o.row("cloud, always on")
    # one replica, 24 h at the catalog's RunPod community H100 rate, plus 5 % of an
    # administrator (96,800 USD wage / 0.70 wage share) spread over 365 days
    rate = economics.cloud_rate("runpod", "h100-sxm", offering="community").usd_per_gpu_hour
    staff_day = 0.05 * 96_800 / 0.70 / 365
    assert o.cloud_operations_usd_per_year == pytest.approx(0.05 * 96_800 / 0.70)
    assert always["usd_per_day"] == pytest.approx(24 * rate + staff_day)
    assert always["usd_per_request"] == pytest.approx((24 * rate + staff_day) / 2000)
    assert always["usd_per_million_tokens"] == pytest.approx((24 * rate + staff_day) / (2000 * 700) * 1e6)
    # capacity: the highest rate within the default SLO, below the largest-batch throughput
    tps = o.output_tokens_per_s
    assert o.slo == seed.CAPACITY_SLO and o.rate_limit.feasible
    assert tps == pytest.approx(o.rate_limit.requests_per_s * 200)
    assert o.rate_limit.ttft_s <= seed.CAPACITY_SLO.ttft_s and o.rate_limit.tpot_s <= seed.CAPACITY_SLO.tpot_s
    assert 0 < tps < o.capacity.output_tokens_per_s
    assert always["utilization"] == pytest.approx(2000 * 200 / (86_400 * tps))
    s2z = o.row("cloud, scale to zero")
    assert s2z["usd_per_day"] <= always["usd_per_day"] + 24 * o.cold_start_s / 3600 * rate + 1e-9
    assert o.cold_start_s == pytest.approx(perf.model_load_seconds("llama-3.1-70b", "fp8", 2.0))
    own = o.row("self-hosted")
    assert o.operations_usd_per_year == pytest.approx(0.10 * 96_800 / 0.70)
    # one replica of an H100 SXM buys the 4-GPU HGX board it comes on, and pays for all of it
    assert (o.ownership.plan.n_gpus_bought, o.ownership.plan.spare_gpus) == (4, 3)
    assert own["usd_per_hour"] == pytest.approx(o.ownership.usd_per_hour)
    assert any("sold as hgx-4" in n for n in o.notes)
    # the board idle most of the day: below four full-load replicas once staff is taken out
    assert own["usd_per_hour"] - o.operations_usd_per_year / 8760 < 4 * o.owned_usd_per_replica_hour_full_load
    # a full box at full power, no staff: the one model's 8x H100 server per GPU-hour
    server = economics.ownership_cost("h100-sxm", 8, 1, utilization=1.0, operations_usd_per_year=0)
    assert o.owned_usd_per_replica_hour_full_load == pytest.approx(server.usd_per_gpu_hour)
    api = t[t["kind"] == "API"]
    cheapest = economics.api_price(api.iloc[0]["option"].removeprefix("API "))
    assert api.iloc[0]["usd_per_request"] == pytest.approx(
        (500 * cheapest.usd_per_million_input_tokens + 200 * cheapest.usd_per_million_output_tokens) / 1e6)
    assert api["usd_per_request"].is_monotonic_increasing
    kw = o.hybrid_kwargs()
    assert kw["cloud_usd_per_replica_hour"] == pytest.approx(rate)
    assert kw["replica_output_tokens_per_s"] == tps and kw["cloud_cold_start_s"] == o.cold_start_s


def test_corrected_options_latency_and_staff_options(s2_options):
    w = seed.SCENARIOS[2].workload()
    bare = seed.corrected_options(w, "h100-sxm", provider="runpod", offering="community", slo=None,
                                  staff_fraction=0, cloud_staff_fraction=0)
    # no latency target: the largest batch memory holds; no staff: the rent alone
    assert bare.output_tokens_per_s == bare.capacity.output_tokens_per_s and bare.rate_limit is None
    rate = economics.cloud_rate("runpod", "h100-sxm", offering="community").usd_per_gpu_hour
    assert bare.row("cloud, always on")["usd_per_day"] == pytest.approx(24 * rate)
    own, own0 = s2_options.row("self-hosted"), bare.row("self-hosted")
    assert own["usd_per_day"] > own0["usd_per_day"]
    # a tighter per-token target never raises the capacity
    tight = seed.corrected_options(w, "h100-sxm", provider="runpod", offering="community",
                                   slo=SLO(ttft_s=1.0, tpot_s=0.06))
    assert tight.output_tokens_per_s <= s2_options.output_tokens_per_s
    with pytest.raises(ValueError, match="meets no request rate"):
        seed.corrected_options(w, "h100-sxm", slo=SLO(tpot_s=1e-4))
    with pytest.raises(ValueError, match="staff_fraction"):
        seed.corrected_options(w, "h100-sxm", staff_fraction=-0.1)


def test_corrected_options_scale_with_volume(s2_options):
    w = seed.SCENARIOS[2].workload()
    ten = seed.corrected_options(dataclasses_replace(w, requests_per_day=20_000), "h100-sxm",
                                 provider="runpod", offering="community")
    a, b = s2_options.table.set_index("option"), ten.table.set_index("option")
    for opt in a.index[a["kind"] == "cloud, always on"]:
        assert b.loc[opt, "utilization"] == pytest.approx(10 * a.loc[opt, "utilization"])
        assert b.loc[opt, "usd_per_request"] == pytest.approx(a.loc[opt, "usd_per_request"] / 10)
    for opt in a.index[a["kind"] == "API"]:
        assert b.loc[opt, "usd_per_request"] == pytest.approx(a.loc[opt, "usd_per_request"])


def test_corrected_options_bundle_pays_whole_instance():
    o = seed.corrected_options(seed.SCENARIOS[2].workload(), "h100-sxm", provider="coreweave")
    row_ = o.row("cloud, always on")
    assert row_["usd_per_hour"] == pytest.approx(o.cloud.usd_per_instance_hour)
    assert any("whole instance" in n for n in o.notes)
    with pytest.raises(ValueError, match="energy"):
        seed.corrected_options(seed.SCENARIOS[2].workload(), "h100-sxm", energy="moon")


def dataclasses_replace(obj, **changes):
    import dataclasses

    return dataclasses.replace(obj, **changes)


def test_signed_pct_never_prints_minus_zero():
    assert seed._signed_pct(-0.3) == "0" and seed._signed_pct(0.2) == "0"
    assert seed._signed_pct(-12.6) == "-13" and seed._signed_pct(1616.4) == "+1,616"


def test_article_audit_fixes_of_the_cost_model(audit):
    # the RTX 4090's $1,600 is its 2022 launch MSRP; the catalog's 2026 sources say $2,200-2,800 new
    price = row(audit, "rtx4090-price")
    assert (price["recomputed_low"], price["recomputed_high"]) == (2200, 2800)
    assert price["status"] != seed.AGREES
    # self-hosting's low end: well-used owned hardware costs far less than the article's $0.15
    faq = row(audit, "faq-self-hosted-usd-per-mtok")
    assert faq["recomputed_low"] < 0.10 and faq["status"] != seed.AGREES
    # one reading of 600 tokens/s everywhere: output tokens
    cross = row(audit, "faq-api-crossover-volume")
    assert "read as output tokens" in cross["reason"]
    assert seed.ARTICLE_S2_OUTPUT_TOKENS_PER_S == 600
    # the cluster lines use the one cost-of-ownership model (8x H100 server: $2.0-2.3 per GPU-h)
    total = row(audit, "h100x8-total")
    assert "8x H100 server (GPUs, host, networking)" in total["reason"]
