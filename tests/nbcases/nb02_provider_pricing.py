import math

import pytest

from hwcost import catalog, perf

STEM = "02_provider_pricing"
# a small model on a 48 GB card, busy half of the paid hours
PARAMS = {"model": "llama-3.1-8b", "gpu": "l40s", "precision": "bf16", "utilization": 0.5}


def _on_demand(gpu_id):
    df = catalog.cloud_prices()
    return df[(df["gpu_id"] == gpu_id) & (df["pricing"] == "on-demand")]


def _offer(offer_id):
    df = catalog.cloud_prices()
    return df[df["id"] == offer_id].iloc[0]


def _check_common(r, gpu_id):
    od = _on_demand(gpu_id)
    assert r["gpu_class_cheapest_usd_per_gpu_hour"] == pytest.approx(od["usd_per_gpu_hour"].min())
    assert r["gpu_class_cheapest_provider"] == od.sort_values("usd_per_gpu_hour").iloc[0]["provider"]
    assert r["gpu_class_cheapest_any_usd_per_gpu_hour"] <= r["gpu_class_cheapest_usd_per_gpu_hour"]
    assert r["provider_cheapest_gpu_hour"] == r["gpu_class_cheapest_provider"]
    assert r["n_offers"] == len(catalog.cloud_prices())
    # the cheapest offer per token: replica price = n_gpus x the catalog's per-GPU price, and
    # USD/1M = USD/h / (3600 s x tokens/s x utilization) x 1e6
    offer = _offer(r["cheapest_token_offer"])
    assert offer["pricing"] == "on-demand" and offer["gpu_id"] == r["cheapest_token_gpu"]
    assert r["cheapest_token_usd_per_replica_hour"] == pytest.approx(
        r["cheapest_token_n_gpus"] * offer["usd_per_gpu_hour"], rel=1e-5)
    assert r["cheapest_usd_per_million_output_tokens"] == pytest.approx(
        r["cheapest_token_usd_per_replica_hour"] / (3600 * r["cheapest_token_output_tokens_per_s"]
                                                    * r["utilization"]) * 1e6, rel=1e-4)
    e = perf.estimate(r["model"], r["cheapest_token_gpu"], n_gpus=r["cheapest_token_n_gpus"],
                      precision=r["precision"], batch_size=r["batch_size"], input_tokens=500, output_tokens=200)
    assert r["cheapest_token_output_tokens_per_s"] == pytest.approx(e.output_tokens_per_s, rel=1e-4)
    # the ranked offers meet the per-token latency target at that batch (default 100 ms)
    assert r["cheapest_token_tpot_s"] == pytest.approx(e.tpot_s, rel=1e-4) and r["cheapest_token_tpot_s"] <= 0.1
    # cost scales as 1 / utilization
    assert r["utilization_cost_ratio"] == pytest.approx(1 / r["utilization"], rel=1e-4)
    # bandwidth value: the on-demand offer with the lowest USD per TB/s-hour
    g = catalog.gpus().set_index("id")["mem_bw_gbps"]
    od_all = catalog.cloud_prices()[catalog.cloud_prices()["pricing"] == "on-demand"]
    per_tbps = od_all["usd_per_gpu_hour"] / (od_all["gpu_id"].map(g) / 1000)
    assert r["best_bandwidth_usd_per_tbps_hour"] == pytest.approx(per_tbps.min(), rel=1e-5)
    # the article's figures, independent of parameters
    assert r["coreweave_h100_usd_per_gpu_hour"] == pytest.approx(49.24 / 8)
    assert r["coreweave_h100_usd_per_gpu_hour_cents"] == 6.16
    assert r["article_4090_usd_per_million"] == pytest.approx(0.34 / 3600 / 120 * 1e6, rel=1e-4)
    assert r["coreweave_claim_status"] == "disagrees"
    assert r["coreweave_price_index"] > 1
    assert 0 < r["median_spot_discount_fraction"] <= r["max_spot_discount_fraction"] < 1


def check_default(r):
    _check_common(r, "h100-sxm")
    assert r["utilization"] == 1.0
    assert r["cheapest_usd_per_million_output_tokens"] == pytest.approx(
        r["cheapest_usd_per_million_output_tokens_full"])
    single = _on_demand("h100-sxm")
    single = single[single["gpus_per_instance"] == 1]["usd_per_gpu_hour"].min()
    assert r["coreweave_h100_premium_fraction"] == pytest.approx(49.24 / 8 / single - 1, rel=1e-5)


def check_alternative(r, default):
    _check_common(r, "l40s")
    assert r["model"] == "llama-3.1-8b" and r["utilization"] == 0.5
    # half the busy hours: twice the cost per token of the same offer
    assert r["cheapest_usd_per_million_output_tokens"] == pytest.approx(
        2 * r["cheapest_usd_per_million_output_tokens_full"], rel=1e-4)
    # an 8B model holds on one GPU of every type that has BF16 math (the T4 has none), and
    # costs less per token than the 70B
    gpus = catalog.gpus().set_index("id")
    no_bf16 = catalog.cloud_prices()["gpu_id"].map(gpus["bf16_tflops"]).isna().sum()
    assert r["cheapest_token_n_gpus"] == 1 and r["n_offers_that_fit"] == r["n_offers"] - no_bf16
    assert r["cheapest_usd_per_million_output_tokens_full"] < default["cheapest_usd_per_million_output_tokens_full"]
    for key in ("coreweave_h100_usd_per_gpu_hour", "n_spot_pairs", "best_bandwidth_value_offer"):
        assert r[key] == default[key]
    assert math.isfinite(r["cheapest_usd_per_million_output_tokens"])
