"""Tests of hwcost.economics: hand-computed cases, invariants, reproducible Monte Carlo."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hwcost import economics as e
from hwcost.workload import BUSINESS_HOURS_PROFILE, Workload

FAST = settings(max_examples=60, deadline=None)


# ----------------------------------------------------------------------------------------
# Core formulas, hand-computed
# ----------------------------------------------------------------------------------------
def test_cost_per_million_tokens_h100_example():
    # 2.69 USD/h / 3600 s/h / 600 tokens/s * 1e6 = 1.24537
    assert e.cost_per_million_tokens(2.69, 600) == pytest.approx(1.245370, rel=1e-6)


def test_cost_per_million_tokens_rtx4090_and_utilization():
    # 0.34 / 3600 / 120 * 1e6 = 0.78704; at 0.31 % utilization 253.9
    assert e.cost_per_million_tokens(0.34, 120) == pytest.approx(0.787037, rel=1e-5)
    assert e.cost_per_million_tokens(0.34, 120, 0.0031) == pytest.approx(0.787037 / 0.0031, rel=1e-5)


def test_cost_per_million_tokens_is_vectorized():
    u = np.array([0.25, 0.5, 1.0])
    out = e.cost_per_million_tokens(1.0, 100, u)
    assert isinstance(out, np.ndarray) and out.shape == (3,)
    np.testing.assert_allclose(out, 1e6 / 360000 / u)


def test_utilization_scenario1():
    # 50 requests x 650 tokens / (86400 s x 120 tokens/s) = 0.3135 %
    assert e.utilization(50, 650, 120) == pytest.approx(50 * 650 / (86400 * 120))
    assert e.utilization(50, 650, 120) == pytest.approx(0.0031346, rel=1e-4)


def test_billed_seconds_rounds_up_to_granularity():
    assert e.billed_seconds(61, 60) == 120
    assert e.billed_seconds(3600, 3600) == 3600
    assert e.billed_seconds(3601, 3600) == 7200
    assert e.billed_seconds(0.5, 1) == 1
    assert e.billed_seconds(10, 1, minimum_s=60) == 60


def test_power_cost_450w_card():
    # 450 W at USD 0.10-0.20/kWh = USD 0.045-0.090 per hour at full power
    assert e.power_usd_per_hour(450, 1.0, 1.0, 0.10) == pytest.approx(0.045)
    assert e.power_usd_per_hour(450, 1.0, 1.0, 0.20) == pytest.approx(0.090)
    # PUE and load scale linearly: 700 W x 0.5 x 1.5 x 0.12 = 0.063
    assert e.power_usd_per_hour(700, 0.5, 1.5, 0.12) == pytest.approx(0.063)


def test_bundle_per_gpu():
    assert e.bundle_usd_per_gpu_hour(49.24, 8) == pytest.approx(6.155)
    assert e.bundle_usd_per_gpu_hour(18.0, 8) == pytest.approx(2.25)


def test_amortization_rtx4090():
    # USD 1,600 over 3 years = 26,280 h -> USD 0.0609/h
    assert e.amortized_usd_per_hour(1600, 3) == pytest.approx(1600 / 26280)
    assert e.amortized_usd_per_hour(1600, 3, resale_usd=400) == pytest.approx(1200 / 26280)


# ----------------------------------------------------------------------------------------
# Request view
# ----------------------------------------------------------------------------------------
def test_always_on_gpu_100_requests_per_day():
    # USD 1.00/h x 24 h = USD 24/day over 100 requests = USD 0.24 per request
    w = Workload("any", requests_per_day=100, input_tokens=500, output_tokens=150)
    r = e.request_cost(w, e.Deployment(usd_per_gpu_hour=1.0, output_tokens_per_s=120))
    assert r.usd_per_day == pytest.approx(24.0)
    assert r.usd_per_request == pytest.approx(0.24)
    assert r.usd_per_month == pytest.approx(730.0)
    # tokens: 100 x 650 per day -> 24 / 65,000 x 1e6
    assert r.usd_per_million_tokens == pytest.approx(24 / 65000 * 1e6)
    assert r.usd_per_million_output_tokens == pytest.approx(24 / 15000 * 1e6)
    # busy: 100 x 150 tokens / 120 tokens/s = 125 s of 86,400 s
    assert r.utilization == pytest.approx(125 / 86400)
    assert r.replicas_peak == 1


def test_always_on_adds_replicas_for_peak_and_gpus_per_replica():
    # flat 864,000 requests/day = 10 req/s; replica does 1000 tok/s / 100 tok = 10 req/s
    # at max_utilization 0.5 -> 5 req/s -> 2 replicas x 4 GPUs x 24 h x USD 2 = USD 384/day
    w = Workload("any", requests_per_day=864_000, input_tokens=100, output_tokens=100)
    d = e.Deployment(usd_per_gpu_hour=2.0, output_tokens_per_s=1000, n_gpus=4, max_utilization=0.5)
    r = e.request_cost(w, d)
    assert r.replicas_peak == 2
    assert r.usd_per_day == pytest.approx(384.0)
    assert r.utilization == pytest.approx(0.5)


def test_autoscale_follows_profile():
    # profile: 12 busy hours at 2x, 12 empty hours; replica capacity 1 req/s
    profile = (2.0,) * 12 + (0.0,) * 12
    w = Workload("any", requests_per_day=86_400, input_tokens=10, output_tokens=10,
                 daily_profile=profile)
    d = e.Deployment(usd_per_gpu_hour=1.0, output_tokens_per_s=10, billing="autoscale")
    r = e.request_cost(w, d)
    # busy hours need 2 replicas (2 req/s), quiet hours none: 24 replica-hours
    assert r.billed_gpu_hours_per_day == pytest.approx(24.0)
    assert r.replicas_peak == 2
    always = e.request_cost(w, e.Deployment(usd_per_gpu_hour=1.0, output_tokens_per_s=10))
    assert always.billed_gpu_hours_per_day == pytest.approx(48.0)


def test_scale_to_zero_sparse_traffic_hand_case():
    # 24 requests/day flat = 1/h; busy 10 s each, idle timeout 50 s, cold start 20 s.
    # Window L = 60 s, rate 1/3600 /s: up share 1 - exp(-1/60); cold share exp(-1/60);
    # each hour bills up time + cold starts (per-second billing).
    w = Workload("any", requests_per_day=24, input_tokens=100, output_tokens=100)
    d = e.Deployment(usd_per_gpu_hour=3.6, output_tokens_per_s=10, billing="scale-to-zero",
                     cold_start_s=20, idle_timeout_s=50)
    r = e.request_cost(w, d)
    p_cold = math.exp(-60 / 3600)
    up_s = 3600 * (1 - p_cold)
    sessions = p_cold
    billed_per_hour = sessions * math.ceil(up_s / sessions + 20)
    assert r.billed_gpu_hours_per_day == pytest.approx(24 * billed_per_hour / 3600, rel=1e-9)
    assert r.cold_start_request_share == pytest.approx(p_cold)
    # about 80 billed seconds per request: USD 1.9/day vs USD 86.4/day always on
    assert 1.8 < r.usd_per_day < 2.0


def test_scale_to_zero_hourly_billing_costs_more_than_per_second():
    w = Workload("any", requests_per_day=50, input_tokens=500, output_tokens=150)
    per_s = e.request_cost(w, e.Deployment(0.34, 120, billing="scale-to-zero", cold_start_s=30))
    per_h = e.request_cost(w, e.Deployment(0.34, 120, billing="scale-to-zero", cold_start_s=30,
                                           billing_granularity_s=3600))
    always = e.request_cost(w, e.Deployment(0.34, 120))
    assert per_s.usd_per_day < per_h.usd_per_day
    assert per_s.usd_per_day < always.usd_per_day


def test_from_estimate_builds_deployment():
    class Est:
        fits, reason = True, ""
        n_gpus, batch_size, precision = 2, 1, "fp8"
        gpu_id, model_id = "h100-sxm", "llama-3.1-70b"
        output_tokens_per_s, ttft_s, tpot_s, output_tokens = 40.0, 0.2, 0.025, 101

    d = e.Deployment.from_estimate(Est(), usd_per_gpu_hour=2.0)
    assert d.n_gpus == 2 and d.usd_per_replica_hour == 4.0
    assert d.single_request_s == pytest.approx(0.2 + 100 * 0.025)

    class NoFit(Est):
        fits, reason = False, "weights exceed memory"

    with pytest.raises(ValueError, match="does not fit"):
        e.Deployment.from_estimate(NoFit(), usd_per_gpu_hour=2.0)


# ----------------------------------------------------------------------------------------
# Cloud catalog
# ----------------------------------------------------------------------------------------
def test_cloud_rate_from_catalog():
    r = e.cloud_rate("runpod", "h100-sxm", offering="community")
    assert r.usd_per_gpu_hour == pytest.approx(2.69)
    assert r.billing_granularity_s == 1
    cw = e.cloud_rate("coreweave", "h100-sxm", gpus_per_instance=8)
    assert cw.usd_per_gpu_hour == pytest.approx(49.24 / 8, rel=1e-3)
    assert cw.usd_per_instance_hour == pytest.approx(49.24, rel=1e-3)


def test_cloud_offers_filters_and_sorts():
    df = e.cloud_offers("h100-sxm", pricing="on-demand")
    assert (df["gpu_id"] == "h100-sxm").all()
    assert df["usd_per_gpu_hour"].is_monotonic_increasing


def test_spot_interruption_and_reserved():
    spot = e.CloudRate(2.0, pricing="spot", interruption_overhead=0.2)
    assert spot.effective_usd_per_gpu_hour == pytest.approx(2.5)
    reserved = e.CloudRate(3.0, pricing="reserved", commitment_months=12)
    assert reserved.commitment_usd == pytest.approx(3.0 * 12 * 730)
    d = reserved.deployment(100.0, billing="scale-to-zero")
    assert d.billing == "always-on"


def test_unknown_provider_and_gpu_name_closest():
    with pytest.raises(ValueError, match="runpod"):
        e.cloud_rate("runpood", "h100-sxm")
    with pytest.raises(ValueError, match="h100"):
        e.cloud_rate("runpod", "h100-sxmm")


# ----------------------------------------------------------------------------------------
# Self-hosted TCO, break-even, NPV
# ----------------------------------------------------------------------------------------
def test_tco_hand_case():
    # GPU 20,000 + server 4,000, networking+setup 2,000 for 2 GPUs (1,000 each), 4 years:
    # capex/GPU-h = 25,000 / 4 / 8760 = 0.71347;
    # power: (700 + 100) W x 0.5 x PUE 1.5 x 0.10 = 0.06;
    # colocation 1,752/y for 2 GPUs = 0.1/GPU-h; operations 8,760/y / 2 = 0.5/GPU-h;
    # maintenance 5 % x 24,000 / 8760 = 0.136986
    t = e.SelfHostedTCO(gpu_usd=20_000, tdp_w=700, usd_per_kwh=0.10, n_gpus=2,
                        server_share_usd=4_000, networking_usd=1_500, setup_usd=500,
                        amortization_years=4, average_load=0.5, host_power_w=100, pue=1.5,
                        colocation_usd_per_year=1_752, operations_usd_per_year=8_760,
                        maintenance_fraction_per_year=0.05)
    r = e.self_hosted_tco(t)
    assert r.capex_usd_per_gpu_hour == pytest.approx(25_000 / 4 / 8760)
    assert r.power_usd_per_gpu_hour == pytest.approx(0.06)
    assert r.colocation_usd_per_gpu_hour == pytest.approx(0.1)
    assert r.operations_usd_per_gpu_hour == pytest.approx(0.5)
    assert r.maintenance_usd_per_gpu_hour == pytest.approx(0.05 * 24_000 / 8760)
    total = 25_000 / 4 / 8760 + 0.06 + 0.1 + 0.5 + 0.05 * 24_000 / 8760
    assert r.usd_per_gpu_hour == pytest.approx(total)
    assert r.usd_per_hour == pytest.approx(2 * total)
    assert t.capex_usd == pytest.approx(50_000)
    bd = r.breakdown()
    assert bd["usd_per_gpu_hour"].sum() == pytest.approx(total)
    assert bd["share"].sum() == pytest.approx(1.0)
    # cost per 1M tokens of both GPUs together at 1,000 tokens/s, 50 % busy
    assert r.usd_per_million_tokens(1000, 0.5) == pytest.approx(2 * total / 3600 / 1000 / 0.5 * 1e6)


def test_tco_resale_and_discounting():
    base = dict(gpu_usd=10_000, tdp_w=300, usd_per_kwh=0.1, amortization_years=3)
    plain = e.self_hosted_tco(e.SelfHostedTCO(**base)).capex_usd_per_gpu_hour
    resale = e.self_hosted_tco(e.SelfHostedTCO(**base, resale_fraction=0.3)).capex_usd_per_gpu_hour
    assert resale == pytest.approx(7_000 / 3 / 8760)
    assert plain == pytest.approx(10_000 / 3 / 8760)
    # capital recovery factor at 10 %, 3 years = 0.402115
    assert e.capital_recovery_factor(0.10, 3) == pytest.approx(0.1 / (1 - 1.1 ** -3))
    disc = e.self_hosted_tco(e.SelfHostedTCO(**base, discount_rate=0.10)).capex_usd_per_gpu_hour
    assert disc == pytest.approx(10_000 * 0.402115 / 8760, rel=1e-5)


def test_article_break_even_faq():
    # USD 10,000 + USD 500/month vs USD 2.69/h used 24/7:
    # 10,000 / (2.69 x 730 - 500) = 6.832 months = 4,987 GPU-hours
    t = e.SelfHostedTCO(gpu_usd=10_000, tdp_w=700, usd_per_kwh=0.10, average_load=1e-9,
                        operations_usd_per_year=6_000)
    b = e.break_even(t, 2.69)
    assert b.reached
    assert b.months == pytest.approx(10_000 / (2.69 * 730 - 500), rel=1e-6)
    assert b.months == pytest.approx(6.832, abs=0.001)
    assert b.gpu_hours == pytest.approx(4987.4, abs=0.5)
    # half the use: 10,000 / (2.69 x 365 - 500) = 21.1 months
    half = e.break_even(t, 2.69, gpu_hours_per_month=365)
    assert half.months == pytest.approx(10_000 / (2.69 * 365 - 500), rel=1e-6)
    # discounting delays it
    assert e.break_even(t, 2.69, discount_rate=0.10).months > b.months


def test_break_even_never():
    t = e.SelfHostedTCO(gpu_usd=10_000, tdp_w=700, usd_per_kwh=0.10, operations_usd_per_year=24_000)
    b = e.break_even(t, 1.0)
    assert not b.reached and b.months is None and b.gpu_hours is None
    assert "never" in b.reason


def test_npv_hand_case():
    # r = 0, no resale, 36-month life: NPV(12) = -C + 12 s + C x (1 - 12/36)
    t = e.SelfHostedTCO(gpu_usd=12_000, tdp_w=500, usd_per_kwh=0.10, average_load=1e-9)
    run = e.self_hosted_tco(t).running_usd_per_gpu_hour * 730  # ~0 at load 1e-9
    expected = -12_000 + 12 * (2.0 * 730 - run) + 12_000 * (1 - 12 / 36)
    assert e.npv(t, 2.0, months=12) == pytest.approx(expected)
    assert e.npv(t, 2.0, months=12, discount_rate=0.08) < e.npv(t, 2.0, months=12)


def test_tco_from_catalog_uses_typical_values():
    t = e.tco_from_catalog("h100-sxm", energy="us-industrial-colo")
    assert t.gpu_usd == pytest.approx(30_000)
    assert t.tdp_w == pytest.approx(700)
    ranges = e.tco_inputs_from_catalog("h100-sxm")
    assert isinstance(ranges["gpu_usd"], e.Range)
    assert ranges["gpu_usd"].low <= t.gpu_usd <= ranges["gpu_usd"].high
    with pytest.raises(ValueError, match="us-industrial-colo"):
        e.tco_inputs_from_catalog("h100-sxm", energy="us-industrial-colo2")


def test_catalog_rows_follow_the_users_tables(tmp_path, monkeypatch):
    # the rows behind the ownership inputs are kept between calls, until a table changes
    from hwcost import catalog
    before = e.tco_inputs_from_catalog("h100-sxm")
    assert before["gpu_usd"].typical == pytest.approx(30_000)
    for table, key_col, key, changes in (
            ("hardware_prices", "gpu_id", "h100-sxm", {"usd_typical": "27500"}),
            ("energy", "id", "us-industrial-colo", {"usd_per_kwh_typical": "0.1"})):
        df = pd.read_csv(catalog.DATA_DIR / f"{table}.csv", dtype=str, keep_default_na=False)
        row = df[(df[key_col] == key) & ((df["condition"] == "new") if "condition" in df else True)].head(1)
        for col, value in changes.items():
            row[col] = value
        path = tmp_path / f"{table}.csv"
        row.to_csv(path, index=False)
        monkeypatch.setenv(catalog.ENV_VARS[table], str(path))
    after = e.tco_inputs_from_catalog("h100-sxm")
    assert after["gpu_usd"].typical == pytest.approx(27_500)
    assert after["usd_per_kwh"].typical == pytest.approx(0.1)
    assert after["server_share_usd"] == before["server_share_usd"]
    with pytest.raises(ValueError, match="no 'refurbished' price for h100-sxm; available: "):
        e.tco_inputs_from_catalog("h100-sxm", condition="refurbished")
    monkeypatch.delenv(catalog.ENV_VARS["hardware_prices"])
    monkeypatch.delenv(catalog.ENV_VARS["energy"])
    assert e.tco_inputs_from_catalog("h100-sxm")["gpu_usd"].typical == pytest.approx(30_000)


# ----------------------------------------------------------------------------------------
# API
# ----------------------------------------------------------------------------------------
def test_api_request_cost_prices_input_and_output_separately():
    api = e.ApiPrice(2.50, 10.00)
    # 1,000 input x 2.50 + 500 output x 10.00 per 1e6 = 0.0075
    assert e.api_request_cost(1000, 500, api) == pytest.approx(0.0075)
    assert api.blended_usd_per_million_tokens(1000, 500) == pytest.approx(7500 / 1500)
    w = Workload("any", requests_per_day=1000, input_tokens=1000, output_tokens=500)
    c = e.api_cost(w, api)
    assert c.usd_per_day == pytest.approx(7.5)
    assert c.usd_per_million_tokens == pytest.approx(5.0)


def test_api_price_lookup():
    p = e.api_price("together-llama-3.1-70b-turbo")
    assert p.usd_per_million_input_tokens == pytest.approx(0.88)
    df = e.api_prices_for("llama-3.1-70b")
    assert set(df["llm_id"]) == {"llama-3.1-70b"}
    with pytest.raises(ValueError, match="closest"):
        e.api_price("together-llama-3.1-70b-turb")


def test_api_crossover_hand_case():
    # replica USD 1/h = 730/month; API USD 1/1M -> first crossover 730M tokens/month.
    # capacity: 1,000 output tok/s with equal input -> 2,000 tok/s x 3600 x 730 = 5,256M.
    c = e.api_crossover(e.ApiPrice(1.0, 1.0), replica_usd_per_hour=1.0, output_tokens_per_s=1000,
                        input_tokens=100, output_tokens=100)
    assert c.reached
    assert c.tokens_per_month == pytest.approx(730e6)
    assert c.requests_per_month == pytest.approx(730e6 / 200)
    assert c.replica_capacity_tokens_per_month == pytest.approx(5256e6)
    assert c.always_cheaper_above_tokens_per_month == pytest.approx(730e6)
    never = e.api_crossover(e.ApiPrice(0.01, 0.01), replica_usd_per_hour=10.0,
                            output_tokens_per_s=100, input_tokens=100, output_tokens=100)
    assert not never.reached and never.tokens_per_month is None and "never" in never.reason


@FAST
@given(price=st.floats(0.05, 20), hourly=st.floats(0.2, 20), tps=st.floats(50, 5000),
       inp=st.integers(10, 4000), out=st.integers(10, 2000))
def test_api_crossover_staircase_property(price, hourly, tps, inp, out):
    api = e.ApiPrice(price, price * 2)
    c = e.api_crossover(api, replica_usd_per_hour=hourly, output_tokens_per_s=tps,
                        input_tokens=inp, output_tokens=out)
    p = float(api.blended_usd_per_million_tokens(inp, out)) / 1e6

    def self_cost(v):
        return math.ceil(v / c.replica_capacity_tokens_per_month - 1e-12) * c.replica_usd_per_month

    if not c.reached:
        assert c.self_hosted_usd_per_million_tokens_at_capacity > p * 1e6 * (1 - 1e-9)
        return
    v0 = c.always_cheaper_above_tokens_per_month
    for factor in (1.0, 1.01, 1.5, 2.7, 10.0, 33.3):
        v = v0 * factor
        assert self_cost(v) <= p * v * (1 + 1e-9)
    assert self_cost(c.tokens_per_month * 0.99) > p * c.tokens_per_month * 0.99


# ----------------------------------------------------------------------------------------
# Hybrid and refresh
# ----------------------------------------------------------------------------------------
def test_hybrid_hand_case():
    # 12 hours at 3 req/s, 12 at 1 req/s; replica 1 req/s (10 tok/s, 10 output tokens)
    profile = (3.0,) * 12 + (1.0,) * 12
    w = Workload("any", requests_per_day=2 * 86_400, input_tokens=10, output_tokens=10,
                 daily_profile=profile)
    kw = dict(owned_usd_per_replica_hour=1.0, cloud_usd_per_replica_hour=2.5,
              replica_output_tokens_per_s=10)
    one = e.hybrid_cost(w, owned_replicas=1, **kw)
    # owned 24 x 1.0 = 24; cloud 12 h x 2 replicas x 2.5 = 60
    assert one.owned_usd_per_day == pytest.approx(24.0)
    assert one.cloud_usd_per_day == pytest.approx(60.0)
    assert one.owned_utilization == pytest.approx(1.0)
    three = e.hybrid_cost(w, owned_replicas=3, **kw)
    assert three.usd_per_day == pytest.approx(72.0)
    assert three.owned_utilization == pytest.approx((12 * 3 + 12 * 1) / 72)
    sweep = e.hybrid_sweep(w, **kw)
    assert list(sweep["owned_replicas"]) == [0, 1, 2, 3]
    # 0: cloud 12x3 + 12x1 = 48 h x 2.5 = 120; 1: 84; 2: 48 + 30 = 78; 3: 72
    np.testing.assert_allclose(sweep["usd_per_day"], [120, 84, 78, 72])
    assert sweep.loc[sweep["cheapest"], "owned_replicas"].tolist() == [3]


def test_refresh_comparison():
    new = e.SelfHostedTCO(gpu_usd=26_280, tdp_w=700, usd_per_kwh=0.1, average_load=1.0)
    # new: 26,280 / 3 / 8760 = 1.0 + power 0.07 = 1.07 USD/h at 2,000 tok/s
    df = e.refresh_comparison(keep_running_usd_per_gpu_hour=0.2, keep_tokens_per_s=500,
                              new_tco=new, new_tokens_per_s=2000, years=2,
                              keep_resale_usd_now=8760, keep_resale_usd_later=0)
    keep = df.set_index("option").loc["keep"]
    move = df.set_index("option").loc["move"]
    assert keep["usd_per_gpu_hour"] == pytest.approx(0.2 + 8760 / (2 * 8760))
    assert move["usd_per_gpu_hour"] == pytest.approx(1.07)
    assert keep["usd_per_million_tokens"] == pytest.approx(0.7 / 3600 / 500 * 1e6)
    assert move["relative_cost"] == pytest.approx((1.07 / 2000) / (0.7 / 500))


# ----------------------------------------------------------------------------------------
# Uncertainty
# ----------------------------------------------------------------------------------------
def test_monte_carlo_is_reproducible_with_seed():
    inputs = {"hourly_usd": e.Range(2.0, 2.69, 4.0), "tokens_per_s": e.Range(400, 600, 800),
              "utilization": e.Range(0.2, 0.5, 0.9)}
    a = e.monte_carlo(e.cost_per_million_tokens, inputs, n=4000, seed=42)
    b = e.monte_carlo(e.cost_per_million_tokens, inputs, n=4000, seed=42)
    c = e.monte_carlo(e.cost_per_million_tokens, inputs, n=4000, seed=43)
    pd.testing.assert_frame_equal(a.summary, b.summary)
    assert not a.summary.equals(c.summary)
    p10, p50, p90 = a.p()
    assert p10 < p50 < p90
    # the typical point lies inside the P10-P90 band
    typical = e.cost_per_million_tokens(2.69, 600, 0.5)
    assert p10 < typical < p90


def test_pert_sampling_moments():
    rng = np.random.default_rng(0)
    r = e.Range(0.10, 0.12, 0.20)
    x = e.sample(r, 200_000, rng)
    assert x.min() >= 0.10 and x.max() <= 0.20
    assert x.mean() == pytest.approx(r.mean, rel=5e-3)  # (0.10 + 4 x 0.12 + 0.20) / 6
    t = e.sample(e.Range(0.10, 0.12, 0.20, distribution="triangular"), 200_000, rng)
    assert t.mean() == pytest.approx(0.14, rel=5e-3)
    assert (e.sample(e.Range(1.0, 1.0, 1.0), 5, rng) == 1.0).all()


def test_monte_carlo_tco_electricity_range():
    # electricity USD 0.10-0.20/kWh on a 450 W card: power cost P50 near the PERT median
    r = e.monte_carlo(lambda usd_per_kwh: e.power_usd_per_hour(450, 1.0, 1.0, usd_per_kwh),
                      {"usd_per_kwh": e.Range.between(0.10, 0.20)}, n=20_000, seed=7)
    p10, p50, p90 = r.p()
    assert 0.045 < p10 < p50 < p90 < 0.090
    assert p50 == pytest.approx(0.0675, rel=0.01)


def test_tornado_ranks_inputs_by_swing():
    def f(a, b, c):
        return a + 10 * b + 0 * c

    df = e.tornado(f, {"a": e.Range(0, 1, 2), "b": e.Range(0, 1, 2), "c": e.Range(0, 1, 5)})
    assert list(df["input"]) == ["b", "a", "c"]
    assert df.loc[0, "swing"] == pytest.approx(20)
    assert df.loc[0, "output_base"] == pytest.approx(11)
    assert list(df["rank"]) == [1, 2, 3]
    assert {"input", "output_low", "output_high"} <= set(df.columns)


def test_tornado_on_catalog_tco():
    inputs = e.tco_inputs_from_catalog("h100-sxm")
    df = e.tornado(lambda **k: e.self_hosted_usd_per_gpu_hour(**k)["total"], inputs)
    assert df.loc[0, "input"] == "gpu_usd"  # the purchase price moves the answer most
    mc = e.monte_carlo(lambda **k: e.self_hosted_usd_per_gpu_hour(**k), inputs, n=2000, seed=1)
    assert set(mc.summary["output"]) >= {"capex", "power", "total"}


def test_monte_carlo_rejects_non_finite_outputs():
    with pytest.raises(ValueError, match="non-finite"), np.errstate(invalid="ignore", divide="ignore"):
        e.monte_carlo(lambda x: np.log(x - 1.0), {"x": e.Range(0.5, 1.0, 1.5)}, n=100, seed=0)


# ----------------------------------------------------------------------------------------
# Bad input: ValueError naming the value
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("call, text", [
    (lambda: e.cost_per_million_tokens(-1.0, 100), "-1.0"),
    (lambda: e.cost_per_million_tokens(0.0, 100), "hourly_usd"),
    (lambda: e.cost_per_million_tokens(1.0, 0), "tokens_per_s"),
    (lambda: e.cost_per_million_tokens(1.0, 100, 0.0), "utilization"),
    (lambda: e.cost_per_million_tokens(1.0, 100, 1.5), "1.5"),
    (lambda: e.cost_per_million_tokens(1.0, 100, float("nan")), "nan"),
    (lambda: e.cost_per_million_tokens(1.0, np.array([100.0, -5.0])), "-5.0"),
    (lambda: e.amortized_usd_per_hour(1600, 0), "amortization"),
    (lambda: e.SelfHostedTCO(gpu_usd=1600, tdp_w=450, usd_per_kwh=0.1, amortization_years=0), "amortization_years"),
    (lambda: e.SelfHostedTCO(gpu_usd=-5, tdp_w=450, usd_per_kwh=0.1), "gpu_usd"),
    (lambda: e.SelfHostedTCO(gpu_usd=1600, tdp_w=450, usd_per_kwh=0.1, pue=0.9), "pue"),
    (lambda: e.Range(0.2, 0.15, 0.1), "low=0.2 > high=0.1"),
    (lambda: e.Range.between(0.2, 0.1), "low"),
    (lambda: e.Range(0.1, 0.3, 0.2), "typical"),
    (lambda: e.Deployment(usd_per_gpu_hour=0, output_tokens_per_s=10), "usd_per_gpu_hour"),
    (lambda: e.Deployment(1.0, 10, billing="sometimes"), "sometimes"),
    (lambda: e.CloudRate(1.0, pricing="cheap"), "cheap"),
    (lambda: e.break_even(e.SelfHostedTCO(gpu_usd=1, tdp_w=1, usd_per_kwh=0.1), -2.0), "-2.0"),
    (lambda: e.tco_from_catalog("h100-sxmm"), "h100-sxmm"),
    (lambda: e.cloud_rate("nosuchcloud", "h100-sxm"), "nosuchcloud"),
])
def test_bad_input_raises_value_error_naming_value(call, text):
    with pytest.raises(ValueError) as info:
        call()
    assert text in str(info.value)


# ----------------------------------------------------------------------------------------
# Invariants
# ----------------------------------------------------------------------------------------
@FAST
@given(hourly=st.floats(0.01, 100), tps=st.floats(1, 1e5), u1=st.floats(0.001, 1), u2=st.floats(0.001, 1))
def test_cost_falls_as_utilization_rises(hourly, tps, u1, u2):
    lo, hi = sorted((u1, u2))
    assert e.cost_per_million_tokens(hourly, tps, hi) <= e.cost_per_million_tokens(hourly, tps, lo)


@FAST
@given(requests=st.floats(1, 1e6), extra=st.floats(1.0, 100.0), hourly=st.floats(0.1, 10),
       tps=st.floats(10, 5000))
def test_cost_per_request_falls_with_volume_on_one_replica(requests, extra, hourly, tps):
    d = e.Deployment(hourly, tps)
    a = e.request_cost(Workload("x", requests, 500, 150), d)
    b = e.request_cost(Workload("x", requests * extra, 500, 150), d)
    if a.replicas_peak == b.replicas_peak:
        assert b.usd_per_request <= a.usd_per_request * (1 + 1e-12)
        assert b.utilization >= a.utilization * (1 - 1e-12)
    assert 0 < a.utilization <= 1 and math.isfinite(a.usd_per_request)


@FAST
@given(capex=st.floats(1000, 100_000), ops=st.floats(0, 20_000), c1=st.floats(0.5, 20),
       c2=st.floats(0.5, 20), hours=st.floats(50, 730))
def test_break_even_falls_as_cloud_price_rises(capex, ops, c1, c2, hours):
    t = e.SelfHostedTCO(gpu_usd=capex, tdp_w=700, usd_per_kwh=0.1, operations_usd_per_year=ops)
    lo, hi = sorted((c1, c2))
    a, b = e.break_even(t, lo, gpu_hours_per_month=hours), e.break_even(t, hi, gpu_hours_per_month=hours)
    if a.reached:
        assert b.reached and b.months <= a.months
        assert math.isfinite(a.months) and a.months > 0
    else:
        assert a.months is None


@FAST
@given(load=st.floats(0.01, 1), kwh=st.floats(0.01, 1), pue=st.floats(1, 2), years=st.floats(0.5, 8))
def test_tco_components_sum_and_scale(load, kwh, pue, years):
    t = e.SelfHostedTCO(gpu_usd=20_000, tdp_w=700, usd_per_kwh=kwh, average_load=load, pue=pue,
                        amortization_years=years, operations_usd_per_year=5_000)
    r = e.self_hosted_tco(t)
    parts = (r.capex_usd_per_gpu_hour + r.power_usd_per_gpu_hour + r.colocation_usd_per_gpu_hour
             + r.operations_usd_per_gpu_hour + r.maintenance_usd_per_gpu_hour)
    assert r.usd_per_gpu_hour == pytest.approx(parts)
    longer = e.self_hosted_tco(t.replace(amortization_years=years * 2))
    assert longer.usd_per_gpu_hour < r.usd_per_gpu_hour


def test_profile_shape_does_not_change_always_on_single_replica_cost():
    flat = Workload("x", 1000, 500, 150)
    shaped = Workload("x", 1000, 500, 150, daily_profile=BUSINESS_HOURS_PROFILE)
    d = e.Deployment(1.0, 500)
    assert e.request_cost(flat, d).usd_per_day == e.request_cost(shaped, d).usd_per_day


def test_whole_instance_bundle_pricing():
    node = e.CloudRate(49.24 / 8, gpus_per_instance=8)
    assert node.replica_usd_per_gpu_hour(1) == pytest.approx(49.24 / 8)
    # a lone 1-GPU replica pays for the whole 8-GPU node
    assert node.replica_usd_per_gpu_hour(1, whole_instance=True) == pytest.approx(49.24)
    assert node.replica_usd_per_gpu_hour(8, whole_instance=True) == pytest.approx(49.24 / 8)
    d = node.deployment(500.0, n_gpus=2, whole_instance=True)
    assert d.usd_per_replica_hour == pytest.approx(49.24)


def test_api_crossovers_table_for_a_model_class():
    df = e.api_crossovers("llama-3.1-70b", replica_usd_per_hour=1.6, output_tokens_per_s=300,
                          input_tokens=500, output_tokens=200)
    assert set(df["id"]) == set(e.api_prices_for("llama-3.1-70b")["id"])
    reached = df[df["reached"]]
    # 1.6 USD/h x 730 h / blended price per token
    for r in reached.itertuples():
        assert r.tokens_per_month == pytest.approx(1.6 * 730 / (r.api_usd_per_million_tokens / 1e6))
    assert df["tokens_per_month"].dropna().is_monotonic_increasing
    with pytest.raises(ValueError, match="llama-3.1-70"):
        e.api_crossovers("llama-3.1-70c", replica_usd_per_hour=1.6, output_tokens_per_s=300,
                         input_tokens=500, output_tokens=200)


def test_monte_carlo_self_hosted_cost_with_utilization_range():
    inputs = {**e.tco_inputs_from_catalog("h100-sxm"), "tokens_per_s": 600.0,
              "utilization": e.Range(0.1, 0.4, 0.9)}
    mc = e.monte_carlo(lambda **k: e.self_hosted_usd_per_million_tokens(**k), inputs, n=3000, seed=5)
    p10, p50, p90 = mc.p()
    typical = e.self_hosted_tco(e.tco_from_catalog("h100-sxm")).usd_per_million_tokens(600, 0.4)
    assert p10 < typical < p90
    tor = e.tornado(lambda **k: e.self_hosted_usd_per_million_tokens(**k), inputs)
    assert tor.loc[0, "input"] == "utilization"  # utilization moves the answer most


# ----------------------------------------------------------------------------------------
# Utilization of owned hardware
# ----------------------------------------------------------------------------------------
def test_average_load_known_values():
    assert e.average_load(1.0) == pytest.approx(1.0)
    assert e.average_load(0.5, 0.1) == pytest.approx(0.55)
    assert e.average_load(0.5, 0.0) == pytest.approx(0.5)
    np.testing.assert_allclose(e.average_load(np.array([0.2, 1.0]), 0.2), [0.36, 1.0])
    with pytest.raises(ValueError, match="utilization"):
        e.average_load(0.0)
    with pytest.raises(ValueError, match="idle_power_fraction"):
        e.average_load(0.5, 1.5)


def test_busy_gpu_hour_cost_hand_computed():
    # USD 1,600 over 3 years at half use: 1600 / 26280 / 0.5 = 0.12177 of capital per busy hour;
    # 450 W x 0.55 load x 0.15 USD/kWh / 0.5 = 0.07425 of power
    r = e.self_hosted_usd_per_busy_gpu_hour(0.5, 0.1, gpu_usd=1600, tdp_w=450, usd_per_kwh=0.15)
    assert r["capex"] == pytest.approx(1600 / 26280 / 0.5)
    assert r["power"] == pytest.approx(0.45 * 0.55 * 0.15 / 0.5)
    assert r["total"] == pytest.approx(r["capex"] + r["power"])


def test_busy_gpu_hour_cost_at_full_use_equals_wall_clock_cost():
    fields = dict(gpu_usd=30000, tdp_w=700, usd_per_kwh=0.09, server_share_usd=9000, pue=1.5,
                  operations_usd_per_year=8000, n_gpus=8, maintenance_fraction_per_year=0.03)
    busy = e.self_hosted_usd_per_busy_gpu_hour(1.0, **fields)
    wall = e.self_hosted_usd_per_gpu_hour(average_load=1.0, **fields)
    for k in wall:
        assert busy[k] == pytest.approx(wall[k])
    with pytest.raises(ValueError, match="average_load"):
        e.self_hosted_usd_per_busy_gpu_hour(0.5, average_load=0.5, **fields)


@FAST
@given(u=st.floats(0.01, 1.0), idle=st.floats(0.0, 0.3))
def test_busy_gpu_hour_cost_never_falls_as_use_falls(u, idle):
    fields = dict(gpu_usd=2000, tdp_w=450, usd_per_kwh=0.2, operations_usd_per_year=500)
    lo = e.self_hosted_usd_per_busy_gpu_hour(u, idle, **fields)["total"]
    hi = e.self_hosted_usd_per_busy_gpu_hour(1.0, idle, **fields)["total"]
    assert lo >= hi - 1e-12


def test_busy_gpu_hour_cost_runs_through_monte_carlo():
    inputs = e.tco_inputs_from_catalog("rtx-4090", energy="us-residential")
    inputs["utilization"] = e.Range(0.25, 0.5, 0.75)
    r = e.monte_carlo(lambda **kw: e.self_hosted_usd_per_busy_gpu_hour(**kw), inputs, n=500, seed=3)
    p10, p50, p90 = r.p("total")
    assert 0 < p10 < p50 < p90
    again = e.monte_carlo(lambda **kw: e.self_hosted_usd_per_busy_gpu_hour(**kw), inputs, n=500, seed=3)
    assert again.p("total") == (p10, p50, p90)


def _simple_tco():
    # 1 kW at 0.10 USD/kWh = 0.10 USD/h at full power; 876 USD/year of operations = 0.10 USD/h
    return e.SelfHostedTCO(gpu_usd=10_000, tdp_w=1000, usd_per_kwh=0.1, operations_usd_per_year=876)


def test_break_even_utilization_hand_computed():
    # saving per hour: 1.0 u - 0.10 - 0.10 (0.1 + 0.9 u) > 0  <=>  u > 0.11 / 0.91
    u = e.break_even_utilization(_simple_tco(), 1.0, idle_power_fraction=0.1)
    assert u == pytest.approx(0.11 / 0.91)
    curve = e.break_even_curve(_simple_tco(), 1.0, [u], idle_power_fraction=0.1)
    assert curve["savings_usd_per_gpu_month"].iloc[0] == pytest.approx(0.0, abs=1e-9)
    # a cloud rate below the running cost: never
    assert e.break_even_utilization(_simple_tco(), 0.15) is None
    assert e.break_even_utilization(_simple_tco(), 0.05) is None


def test_break_even_curve_matches_break_even_and_falls_with_use():
    curve = e.break_even_curve(_simple_tco(), 1.0, [0.05, 0.25, 0.5, 1.0], idle_power_fraction=0.1)
    assert list(curve["reached"]) == [False, True, True, True]
    assert pd.isna(curve["months"].iloc[0])
    full = e.break_even(_simple_tco(), 1.0)
    assert curve["months"].iloc[-1] == pytest.approx(full.months)
    # 10,000 / (730 x (1.0 - 0.2)) = 17.12 months at full use
    assert curve["months"].iloc[-1] == pytest.approx(10_000 / (730 * 0.8))
    months = curve["months"].iloc[1:].astype(float).to_numpy()
    assert np.all(np.diff(months) < 0)
    np.testing.assert_allclose(curve["gpu_hours_per_month"], np.array([0.05, 0.25, 0.5, 1.0]) * 730)
    discounted = e.break_even_curve(_simple_tco(), 1.0, [1.0], discount_rate=0.1)
    assert discounted["months"].iloc[0] > curve["months"].iloc[-1]
    with pytest.raises(ValueError, match="utilizations"):
        e.break_even_curve(_simple_tco(), 1.0, [0.0, 0.5])


# ----------------------------------------------------------------------------------------
# API offers for a model's size class, crossovers for a set of offers, cost vs volume
# ----------------------------------------------------------------------------------------
def _prices(rows):
    base = {"provider": "p", "model": "m", "source": "s", "as_of": "2026-01-01", "notes": ""}
    return pd.DataFrame([{**base, **r} for r in rows])


def test_api_offers_for_class_uses_the_model_itself_and_same_size_peers():
    df = e.api_offers_for_class("llama-3.1-70b")
    assert set(df["llm_id"]) == {"llama-3.1-70b", "llama-3.3-70b", "qwen2.5-72b"}
    assert set(df.loc[df["exact"], "llm_id"]) == {"llama-3.1-70b"}
    assert df["usd_per_million_blended_tokens"].is_monotonic_increasing
    first = df.iloc[0]
    assert first["usd_per_million_blended_tokens"] == pytest.approx(
        (3 * first["usd_per_million_input_tokens"] + first["usd_per_million_output_tokens"]) / 4)


def test_api_offers_for_class_falls_back_to_nearest_open_model():
    # no API sells Llama 2 13B: the nearest dense model with offers on a log scale is 8B,
    # not the 70B class (13/8 = 1.6x vs 70/13 = 5.4x)
    df = e.api_offers_for_class("llama-2-13b")
    assert set(df["llm_id"]) == {"llama-3.1-8b"} and not df["exact"].any()
    # closed models (no llm_id) never join a class
    assert df["llm_id"].map(lambda v: isinstance(v, str)).all()
    prices = _prices([
        {"id": "a-10b", "llm_id": "llama-3.1-8b", "usd_per_million_input_tokens": 1.0,
         "usd_per_million_output_tokens": 1.0},
        {"id": "closed", "llm_id": None, "usd_per_million_input_tokens": 0.01,
         "usd_per_million_output_tokens": 0.01},
    ])
    assert list(e.api_offers_for_class("llama-3.1-70b", prices=prices)["id"]) == ["a-10b"]
    with pytest.raises(ValueError, match="size_tolerance"):
        e.api_offers_for_class("llama-3.1-70b", size_tolerance=-0.1)


def test_api_crossovers_for_offers_matches_single_crossover():
    offers = e.api_offers_for_class("llama-3.1-70b")
    df = e.api_crossovers_for_offers(offers, replica_usd_per_hour=2.0, output_tokens_per_s=400,
                                     input_tokens=500, output_tokens=200)
    assert set(df["id"]) == set(offers["id"]) and "llm_id" in df
    for r in df.itertuples():
        one = e.api_crossover(e.api_price(r.id), replica_usd_per_hour=2.0, output_tokens_per_s=400,
                              input_tokens=500, output_tokens=200)
        assert r.reached == one.reached
        if one.reached:
            # 2 USD/h x 730 h / blended USD per token
            assert r.tokens_per_month == pytest.approx(2.0 * 730 / (r.api_usd_per_million_tokens / 1e6))
    with pytest.raises(ValueError, match="offers"):
        e.api_crossovers_for_offers(offers.iloc[0:0], replica_usd_per_hour=2.0, output_tokens_per_s=400,
                                    input_tokens=500, output_tokens=200)


def test_monthly_cost_curve_staircase_and_api_lines():
    prices = _prices([{"id": "x", "llm_id": "llama-3.1-70b", "usd_per_million_input_tokens": 1.0,
                       "usd_per_million_output_tokens": 3.0}])
    # replica: 100 output tokens/s with 300 in + 100 out -> 400 tokens/s of traffic
    # = 400 x 3600 x 730 = 1.0512e9 tokens/month; 1 USD/h -> 730 USD/month per replica
    cap = 400 * 3600 * 730
    v = np.array([1e6, cap, cap * 1.5])
    df = e.monthly_cost_curve(prices, replica_usd_per_hour=1.0, output_tokens_per_s=100,
                              input_tokens=300, output_tokens=100, tokens_per_month=v)
    own = df[df["kind"] == "replicas"]["usd_per_month"].to_numpy()
    np.testing.assert_allclose(own, [730, 730, 1460])
    api = df[df["kind"] == "api"]["usd_per_month"].to_numpy()
    np.testing.assert_allclose(api, v * (300 * 1.0 + 100 * 3.0) / 400 / 1e6)
    np.testing.assert_allclose(df["usd_per_million_tokens"], df["usd_per_month"] / df["tokens_per_month"] * 1e6)
    # at half the capacity per replica (max_utilization 0.5) the staircase steps twice as often
    half = e.monthly_cost_curve(prices, replica_usd_per_hour=1.0, output_tokens_per_s=100, input_tokens=300,
                                output_tokens=100, tokens_per_month=v, max_utilization=0.5)
    np.testing.assert_allclose(half[half["kind"] == "replicas"]["usd_per_month"], [730, 1460, 2190])
    with pytest.raises(ValueError, match="tokens_per_month"):
        e.monthly_cost_curve(prices, replica_usd_per_hour=1.0, output_tokens_per_s=100, input_tokens=300,
                             output_tokens=100, tokens_per_month=[0.0])


@FAST
@given(st.floats(0.1, 50), st.floats(10, 5000), st.floats(1e6, 1e11))
def test_monthly_cost_curve_replicas_never_cheaper_than_full_use(hourly, tps, volume):
    prices = _prices([{"id": "x", "llm_id": "llama-3.1-70b", "usd_per_million_input_tokens": 1.0,
                       "usd_per_million_output_tokens": 1.0}])
    df = e.monthly_cost_curve(prices, replica_usd_per_hour=hourly, output_tokens_per_s=tps, input_tokens=500,
                              output_tokens=200, tokens_per_month=[volume])
    own = df[df["kind"] == "replicas"].iloc[0]
    at_capacity = e.cost_per_million_tokens(hourly, tps * 700 / 200)
    assert own["usd_per_million_tokens"] >= at_capacity * (1 - 1e-9)


def test_break_even_utilization_within_a_horizon():
    # 10,000 USD repaid in 24 months at 0 %: 730 (1.0 u - 0.2 + ... ) -> u = (0.11 + 10000 / (730 x 24)) / 0.91
    u = e.break_even_utilization(_simple_tco(), 1.0, idle_power_fraction=0.1, months=24)
    assert u == pytest.approx((0.11 + 10_000 / (730 * 24)) / 0.91)
    # at that utilization the break-even month is the horizon, discounted or not
    for r in (0.0, 0.08):
        u = e.break_even_utilization(_simple_tco(), 1.0, idle_power_fraction=0.1, months=24, discount_rate=r)
        curve = e.break_even_curve(_simple_tco(), 1.0, [u], idle_power_fraction=0.1, discount_rate=r)
        assert curve["months"].iloc[0] == pytest.approx(24.0, rel=1e-6)
    # too short a horizon: no utilization is enough
    assert e.break_even_utilization(_simple_tco(), 1.0, months=6) is None
    assert e.break_even_utilization(_simple_tco(), 1.0, months=24) > e.break_even_utilization(_simple_tco(), 1.0)


def test_operations_usd_per_year_known_answers_and_recommend_reexport():
    from hwcost import recommend

    # a share of one administrator: wage / wage share of total compensation (BLS figures)
    assert e.operations_usd_per_year(0.1) == pytest.approx(0.1 * 96_800 / 0.70)
    assert e.operations_usd_per_year(e.CLOUD_STAFF_FRACTION) == pytest.approx(0.05 * 96_800 / 0.70)
    assert e.SELF_HOSTED_STAFF_FRACTION == 0.10
    np.testing.assert_allclose(e.operations_usd_per_year(np.array([0.0, 0.2]), wage_usd_per_year=70_000,
                                                         wage_share=0.7), [0.0, 20_000.0])
    with pytest.raises(ValueError, match="staff_fraction"):
        e.operations_usd_per_year(-0.1)
    # recommend prices staff with the same function and constants (one definition)
    assert recommend.operations_usd_per_year is e.operations_usd_per_year
    assert recommend.SELF_HOSTED_STAFF_FRACTION == e.SELF_HOSTED_STAFF_FRACTION


def test_idle_power_fraction_single_definition():
    from hwcost import seed

    assert seed.IDLE_POWER_FRACTION == e.IDLE_POWER_FRACTION
    assert e.average_load(0.5) == pytest.approx(e.IDLE_POWER_FRACTION + (1 - e.IDLE_POWER_FRACTION) * 0.5)
