"""Tests of hwcost.pricing: hand-built price lists with known answers, and invariants."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hwcost import catalog, economics, perf
from hwcost import pricing as pr

FAST = settings(max_examples=40, deadline=None)


def _offer(id_, provider, gpu_id, usd_per_hour, gpus=1, pricing="on-demand", offering="standard",
           months=0, granularity=1, as_of=dt.date(2026, 10, 1)):
    return {"id": id_, "provider": provider, "offering": offering, "pricing": pricing,
            "commitment_months": months, "gpu_id": gpu_id, "gpus_per_instance": gpus,
            "usd_per_hour": usd_per_hour, "usd_per_gpu_hour": usd_per_hour / gpus,
            "billing_granularity_s": granularity, "as_of": as_of}


@pytest.fixture
def prices():
    return pd.DataFrame([
        _offer("a-h100-1x", "alpha", "h100-sxm", 2.00),
        _offer("a-h100-1x-spot", "alpha", "h100-sxm", 1.00, pricing="spot"),
        _offer("b-h100-8x", "beta", "h100-sxm", 24.00, gpus=8, granularity=3600),
        _offer("b-h100-8x-spot", "beta", "h100-sxm", 12.00, gpus=8, pricing="spot", granularity=3600),
        _offer("b-h100-8x-res", "beta", "h100-sxm", 16.00, gpus=8, pricing="reserved", months=12,
               granularity=3600),
        _offer("a-4090-1x", "alpha", "rtx-4090", 0.40, as_of=dt.date(2026, 1, 1)),
        _offer("c-l40s-8x", "gamma", "l40s", 16.00, gpus=8, granularity=60),
    ])


# ----------------------------------------------------------------------------------------
# Rounding and value per memory / bandwidth
# ----------------------------------------------------------------------------------------
def test_round_half_up_on_the_decimal_figure():
    # 49.24 / 8 = 6.155 exactly in decimal: a price list shows 6.16
    assert pr.round_half_up(6.155) == 6.16
    assert pr.round_half_up(49.24 / 8) == 6.16
    assert pr.round_half_up(2.245) == 2.25
    assert pr.round_half_up(2.244) == 2.24
    assert pr.round_half_up(1234.5, 0) == 1235


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "1.0", None, True])
def test_round_half_up_rejects_non_numbers(bad):
    with pytest.raises(ValueError, match="x must be a finite number"):
        pr.round_half_up(bad)


def test_offer_value_per_gb_and_per_tbps(prices):
    df = pr.offer_value(prices).set_index("id")
    # H100 SXM: 80 GB, 3.35 TB/s; 2.00 USD/h -> 0.025 USD/GB-h and 0.597 USD/(TB/s)-h
    assert df.loc["a-h100-1x", "usd_per_gb_hour"] == pytest.approx(2.00 / 80)
    assert df.loc["a-h100-1x", "usd_per_tbps_hour"] == pytest.approx(2.00 / 3.35)
    # RTX 4090: 24 GB, 1.008 TB/s
    assert df.loc["a-4090-1x", "usd_per_tbps_hour"] == pytest.approx(0.40 / 1.008)
    # a bundle is valued per GPU: 16 / 8 = 2.00 per L40S (48 GB)
    assert df.loc["c-l40s-8x", "usd_per_gb_hour"] == pytest.approx(2.00 / 48)
    assert list(pr.offer_value(prices)["usd_per_tbps_hour"]) == sorted(df["usd_per_tbps_hour"])


def test_offer_value_unknown_gpu_is_named(prices):
    gpus = catalog.gpus()
    with pytest.raises(ValueError, match="rtx-4090"):
        pr.offer_value(prices, gpus=gpus[gpus["id"] != "rtx-4090"])


def test_catalog_offers_all_have_value_metrics():
    df = pr.offer_value()
    assert len(df) == len(catalog.cloud_prices())
    assert np.isfinite(df[["usd_per_gb_hour", "usd_per_tbps_hour"]].to_numpy()).all()
    assert (df["usd_per_gb_hour"] > 0).all()


def test_cheapest_per_group(prices):
    c = pr.cheapest(prices, "gpu_id").set_index("gpu_id")
    assert c.loc["h100-sxm", "id"] == "a-h100-1x-spot"
    assert c.loc["rtx-4090", "usd_per_gpu_hour"] == 0.40
    with pytest.raises(ValueError, match="no_such"):
        pr.cheapest(prices, "no_such")


def test_cheapest_offer_and_cloud_equivalent(prices):
    rate = pr.cheapest_offer("h100-sxm", prices=prices)
    assert rate.offer_id == "a-h100-1x" and rate.usd_per_gpu_hour == 2.00
    assert pr.cheapest_offer("h100-sxm", pricing="spot", prices=prices).usd_per_gpu_hour == 1.00
    with pytest.raises(ValueError, match="no on-demand cloud offer for GPU 'b200'"):
        pr.cheapest_offer("b200", prices=prices)
    # offered GPUs map to themselves; an RTX 6000 Ada (48 GB Ada, no offer) to the L40S
    assert pr.cloud_equivalent("h100-sxm", prices=prices) == "h100-sxm"
    assert pr.cloud_equivalent("rtx-6000-ada", prices=prices) == "l40s"
    assert pr.cloud_equivalent("rtx-6000-ada") == "l40s"
    # a consumer card compares with a consumer card
    assert pr.cloud_equivalent("rtx-3090", prices=prices) == "rtx-4090"


# ----------------------------------------------------------------------------------------
# Cost per token per offer
# ----------------------------------------------------------------------------------------
def test_token_costs_known_answer(prices):
    kw = dict(precision="bf16", batch_size=8, input_tokens=512, output_tokens=128)
    df = pr.token_costs("llama-3.1-8b", prices=prices, **kw).set_index("id")
    e = perf.estimate("llama-3.1-8b", "h100-sxm", n_gpus=1, **kw)
    row = df.loc["a-h100-1x"]
    assert row["n_gpus"] == 1 and bool(row["fits"])
    assert row["output_tokens_per_s"] == pytest.approx(e.output_tokens_per_s)
    # the latency of that batch travels with its price
    assert row["tpot_s"] == pytest.approx(e.tpot_s) and row["ttft_s"] == pytest.approx(e.ttft_s)
    assert row["ttft_s"] == pytest.approx(e.prefill_s) and e.prefill_s > 0  # the prefill gives token 1
    # 2.00 USD/h / (3600 s/h x tokens/s) x 1e6
    assert row["usd_per_million_output_tokens"] == pytest.approx(2.00 / 3600 / e.output_tokens_per_s * 1e6)
    assert row["usd_per_million_tokens"] == pytest.approx(row["usd_per_million_output_tokens"] * 128 / 640)
    # a bundle's per-GPU price serves replicas that fill it; one replica alone pays 8 GPUs
    b = df.loc["b-h100-8x"]
    assert b["usd_per_replica_hour"] == pytest.approx(3.00)
    assert b["one_replica_usd_per_hour"] == pytest.approx(24.00)
    assert b["one_replica_usd_per_million_output_tokens"] == pytest.approx(
        8 * b["usd_per_million_output_tokens"])


def test_token_costs_scale_with_one_over_utilization(prices):
    full = pr.token_costs("llama-3.1-8b", prices=prices, batch_size=4)
    half = pr.token_costs("llama-3.1-8b", prices=prices, batch_size=4, utilization=0.25).set_index("id")
    full = full.set_index("id")
    ratio = (half["usd_per_million_output_tokens"] / full["usd_per_million_output_tokens"]).astype(float)
    np.testing.assert_allclose(ratio.to_numpy(), 4.0)


def test_token_costs_multi_gpu_replica(prices):
    df = pr.token_costs("llama-3.1-70b", prices=prices, precision="bf16", batch_size=1,
                        input_tokens=512, output_tokens=128).set_index("id")
    n = perf.min_gpus_to_fit("llama-3.1-70b", "h100-sxm", "bf16", input_tokens=512, output_tokens=128)
    assert df.loc["a-h100-1x", "n_gpus"] == n >= 2
    assert df.loc["a-h100-1x", "usd_per_replica_hour"] == pytest.approx(2.00 * n)


def test_token_costs_non_fitting_rows_last_with_reason(prices):
    # 405B at 4-bit is still ~200 GB of weights: more than 8 x 24 GB; 4 x 80 GB H100s hold it
    df = pr.token_costs("llama-3.1-405b", prices=prices, precision="int4", batch_size=1)
    r = df.set_index("id").loc["a-4090-1x"]
    assert not r["fits"] and "rtx-4090" in r["reason"] and "8" in r["reason"]
    assert pd.isna(r["usd_per_million_output_tokens"]) and pd.isna(r["n_gpus"])
    fits = df["fits"].to_numpy()
    assert fits.any() and not fits.all()
    assert list(fits) == sorted(fits, reverse=True)
    cost = df.loc[df["fits"], "usd_per_million_output_tokens"].astype(float).to_numpy()
    assert np.all(np.diff(cost) >= 0)


def test_token_costs_unsupported_precision_is_a_row_not_an_error():
    prices = pd.DataFrame([_offer("x-a100", "x", "a100-80gb-sxm", 1.5), _offer("x-h100", "x", "h100-sxm", 2.5)])
    df = pr.token_costs("llama-3.1-8b", prices=prices, precision="fp8").set_index("id")
    assert not df.loc["x-a100", "fits"] and "fp8" in df.loc["x-a100", "reason"]
    assert df.loc["x-h100", "fits"]
    assert df.index[0] == "x-h100"
    text = df.to_string()
    assert "nan" not in text.lower().replace("<na>", "")


@pytest.mark.parametrize("kw, match", [
    ({"utilization": 0}, "utilization"), ({"utilization": 1.5}, "utilization"),
    ({"batch_size": 0}, "batch_size"), ({"precision": "fp6"}, "precision"),
])
def test_token_costs_bad_input(prices, kw, match):
    with pytest.raises(ValueError, match=match):
        pr.token_costs("llama-3.1-8b", prices=prices, **kw)


@FAST
@given(u=st.floats(0.01, 1.0), price=st.floats(0.1, 50.0))
def test_cost_per_token_is_price_over_throughput(u, price):
    prices = pd.DataFrame([_offer("x", "x", "l40s", price)])
    r = pr.token_costs("llama-3.1-8b", prices=prices, batch_size=2, utilization=u).iloc[0]
    expected = economics.cost_per_million_tokens(price, r["output_tokens_per_s"], u)
    assert r["usd_per_million_output_tokens"] == pytest.approx(expected)
    assert math.isfinite(r["usd_per_million_output_tokens"])


# ----------------------------------------------------------------------------------------
# Bundles, discounts, providers, ages
# ----------------------------------------------------------------------------------------
def test_bundle_comparison(prices):
    df = pr.bundle_comparison(prices).set_index("id")
    assert set(df.index) == {"b-h100-8x", "b-h100-8x-spot", "b-h100-8x-res", "c-l40s-8x"}
    # 24 / 8 = 3.00 vs the one-GPU 2.00 -> 50 % premium
    assert df.loc["b-h100-8x", "usd_per_gpu_hour"] == pytest.approx(3.0)
    assert df.loc["b-h100-8x", "premium_fraction"] == pytest.approx(0.5)
    assert df.loc["b-h100-8x", "single_offer_id"] == "a-h100-1x"
    assert df.loc["b-h100-8x", "single_provider"] == "alpha"
    # spot compares with spot: 1.50 vs 1.00
    assert df.loc["b-h100-8x-spot", "premium_fraction"] == pytest.approx(0.5)
    # no one-GPU L40S offer: n/a, not NaN
    assert df.loc["c-l40s-8x", "single_offer_id"] == "n/a" == df.loc["c-l40s-8x", "single_provider"]
    assert pd.isna(df.loc["c-l40s-8x", "premium_fraction"])


def test_bundle_comparison_catalog_coreweave_h100_rounds_to_article_figure():
    df = pr.bundle_comparison().set_index("id")
    row = df.loc["coreweave-standard-h100-sxm-8x"]
    assert row["usd_per_gpu_hour"] == pytest.approx(6.155)
    assert row["usd_per_gpu_hour_cents"] == 6.16


def test_discounts(prices):
    df = pr.discounts(prices).set_index("id")
    assert set(df.index) == {"a-h100-1x-spot", "b-h100-8x-spot", "b-h100-8x-res"}
    assert df.loc["a-h100-1x-spot", "discount_fraction"] == pytest.approx(0.5)
    # reserved 16/24: 1/3 off, 12 months x 730 h x 2.00 USD/h committed per GPU
    assert df.loc["b-h100-8x-res", "discount_fraction"] == pytest.approx(1 / 3)
    assert df.loc["b-h100-8x-res", "commitment_usd_per_gpu"] == pytest.approx(2.0 * 12 * 730)
    # 20 % of spot time lost: 1.00 / 0.8 = 1.25 effective -> 37.5 % off
    d = pr.discounts(prices, interruption_overhead=0.2).set_index("id")
    assert d.loc["a-h100-1x-spot", "effective_usd_per_gpu_hour"] == pytest.approx(1.25)
    assert d.loc["a-h100-1x-spot", "effective_discount_fraction"] == pytest.approx(0.375)
    assert d.loc["b-h100-8x-res", "effective_usd_per_gpu_hour"] == pytest.approx(2.0)
    with pytest.raises(ValueError, match="interruption_overhead"):
        pr.discounts(prices, interruption_overhead=1.0)


def test_provider_summary(prices):
    df = pr.provider_summary(prices, gpu="h100-sxm").set_index("provider")
    # alpha is cheapest on both GPUs it offers; beta's H100 is 3.00 / 2.00
    assert df.loc["alpha", "price_index"] == pytest.approx(1.0)
    assert df.loc["beta", "price_index"] == pytest.approx(1.5)
    assert df.loc["alpha", "gpu_rank"] == 1 and df.loc["beta", "gpu_rank"] == 2
    assert pd.isna(df.loc["gamma", "gpu_rank"])
    assert bool(df.loc["alpha", "single_gpu"]) and not bool(df.loc["beta", "single_gpu"])
    assert df.loc["alpha", "finest_billing_s"] == 1 and df.loc["beta", "finest_billing_s"] == 3600
    assert bool(df.loc["beta", "has_spot"]) and bool(df.loc["beta", "has_reserved"])
    assert df.loc["alpha", "n_gpu_types"] == 2
    assert list(pr.provider_summary(prices, gpu="h100-sxm")["provider"][:2]) == ["alpha", "beta"]


def test_provider_summary_price_index_is_geometric_mean():
    prices = pd.DataFrame([
        _offer("a1", "a", "h100-sxm", 2.0), _offer("a2", "a", "l40s", 1.0),
        _offer("b1", "b", "h100-sxm", 4.0), _offer("b2", "b", "l40s", 0.5),
    ])
    df = pr.provider_summary(prices).set_index("provider")
    # a: (1 x 2)^(1/2); b: (2 x 1)^(1/2)
    assert df.loc["a", "price_index"] == pytest.approx(math.sqrt(2))
    assert df.loc["b", "price_index"] == pytest.approx(math.sqrt(2))


def test_price_ages(prices):
    df = pr.price_ages(prices, today=dt.date(2026, 11, 27), max_age_days=180).set_index("id")
    assert df.loc["a-h100-1x", "age_days"] == 57
    assert df.loc["a-4090-1x", "age_days"] == 330 and bool(df.loc["a-4090-1x", "stale"])
    assert not df.loc["a-h100-1x", "stale"]
    assert pr.price_ages(prices, today=dt.date(2026, 11, 27)).iloc[0]["id"] == "a-4090-1x"
    with pytest.raises(ValueError, match="max_age_days"):
        pr.price_ages(prices, max_age_days=0)


def test_prices_missing_columns_named():
    with pytest.raises(ValueError, match="usd_per_gpu_hour"):
        pr.offer_value(pd.DataFrame({"id": ["x"]}))
