import math

import numpy as np
import pytest

from hwcost import economics, perf, seed
from hwcost.workload import BUSINESS_HOURS_PROFILE, Workload

STEM = "07_cost_scenarios"
# ten times Scenario 2's volume: one replica still covers it, so the always-on GPU is ten
# times as busy and each request carries a tenth of its cost; API prices per request stay
PARAMS = {"requests_per_day": 20_000}

MODEL, GPU, IN, OUT, RPD = "llama-3.1-70b", "h100-sxm", 500, 200, 2000
HYBRID_RPD = 1_000_000
ADMIN_USD = 96_800 / 0.70  # BLS median wage grossed up by the 70% wage share
OPS_SELF, OPS_CLOUD = 0.10 * ADMIN_USD, 0.05 * ADMIN_USD  # default staff shares (10 %, 5 %)


def _blended(api_id):
    return float(economics.api_price(api_id).blended_usd_per_million_tokens(IN, OUT))


def check_default(r):
    # the article's scenario lines, quoted and recomputed
    n_lines = sum(c.section in (seed.S1, seed.S2) for c in seed.claims())
    assert r["n_scenario_lines"] == n_lines and 0 < r["n_scenario_lines_agree"] < n_lines
    assert r["s1_article_usd_per_request"] == seed.claim("s1-cloud-usd-per-request").claimed_value == 2.80
    assert r["s1_recomputed_usd_per_request"] == pytest.approx(0.34 * 24 / 50)  # always on, 50 requests
    # one reading of the article's 600 tokens/s: output tokens (2,000 x 200 / (86,400 x 600))
    assert r["s2_implied_utilization_pct"] == pytest.approx(100 * 2000 * 200 / (86_400 * 600), rel=1e-5)
    # 13B does not fit a 24 GB card at 16-bit; the recorded precision does
    assert r["s1_precision"] in perf.PRECISIONS and perf.WEIGHT_BITS[r["s1_precision"]] < 16
    assert perf.weights_bytes("llama-2-13b", r["s1_precision"]) / 1e9 < 24
    # 70B on one 80 GB H100: not at 16-bit, yes at the recorded precision
    assert not perf.estimate(MODEL, GPU, precision="bf16", input_tokens=IN, output_tokens=OUT).fits
    assert perf.estimate(MODEL, GPU, precision=r["precision"], input_tokens=IN, output_tokens=OUT).fits
    # capacity within the latency targets (1 s first token, 100 ms per token, p95) is below
    # the throughput of the largest batch memory holds, and meets the targets
    assert 0 < r["capacity_output_tokens_per_s"] < r["max_batch_output_tokens_per_s"]
    assert r["capacity_ttft_s"] <= 1.0 and r["capacity_tpot_s"] <= 0.1
    assert r["ops_self_usd_per_year"] == pytest.approx(OPS_SELF, rel=1e-5)
    assert r["ops_cloud_usd_per_year"] == pytest.approx(OPS_CLOUD, rel=1e-5)
    # always-on cloud: the catalog rate for 24 h plus a day of staff time, shared by the day's requests
    rate = economics.cloud_rate("runpod", GPU).usd_per_gpu_hour
    day = rate * 24 + OPS_CLOUD / 365
    assert r["cloud_usd_per_hour"] == pytest.approx(rate)
    assert r["usd_per_request_always_on"] == pytest.approx(day / RPD, rel=1e-5)
    assert r["usd_per_million_tokens_always_on"] == pytest.approx(day / (RPD * (IN + OUT)) * 1e6, rel=1e-5)
    assert r["utilization_always_on"] == pytest.approx(
        RPD * OUT / (86_400 * r["capacity_output_tokens_per_s"]), rel=1e-4)
    # at 2,000 requests/day a request arrives every 43 s, inside the 5-minute idle timeout:
    # scale-to-zero saves (almost) nothing
    assert r["usd_per_request_scale_to_zero"] <= r["usd_per_request_always_on"] * 1.01
    # owning one H100 SXM replica buys the 4-GPU HGX board: 4 x (30,000 GPU + 9,000 host) + 5,000
    assert r["owned_n_gpus_bought"] == 4
    assert r["owned_capex_usd"] == pytest.approx(4 * (30_000 + 9_000) + 5_000)
    assert r["usd_per_request_self_hosted"] > r["usd_per_request_always_on"]  # a board for 1 % load
    # the cheapest API of the class, priced per token
    api = economics.api_price(r["api_cheapest_id"])
    assert r["usd_per_request_api_cheapest"] == pytest.approx(
        (IN * api.usd_per_million_input_tokens + OUT * api.usd_per_million_output_tokens) / 1e6, rel=1e-5)
    assert r["cheapest_option_kind"] == "API"
    # crossover: one owned replica's monthly cost with staff / the dearest API's price per token
    owned_staffed = r["owned_usd_per_replica_hour"] + OPS_SELF / 8760
    assert r["owned_with_staff_usd_per_replica_hour"] == pytest.approx(owned_staffed, rel=1e-5)
    offers = economics.api_offers_for_class(MODEL)
    dearest = max(_blended(i) for i in offers["id"])
    assert r["crossover_tokens_per_month_low"] == pytest.approx(owned_staffed * 730 / (dearest / 1e6), rel=1e-5)
    assert r["crossover_tokens_per_month_high"] >= r["crossover_tokens_per_month_low"]
    assert r["volume_tokens_per_month"] == pytest.approx(RPD * (IN + OUT) * 730 / 24)
    assert r["self_hosted_usd_per_million_tokens_at_capacity"] == pytest.approx(
        owned_staffed / (r["capacity_output_tokens_per_s"] * (IN + OUT) / OUT * 3600) * 1e6, rel=1e-5)
    _check_hybrid(r, rate)


def _check_hybrid(r, rate):
    peak, k = r["hybrid_peak_replicas"], r["hybrid_optimum_owned"]
    assert 0 <= k <= peak and peak >= 2
    owned = r["owned_usd_per_replica_hour"]
    assert r["hybrid_owned_to_rented_cost_ratio"] == pytest.approx(owned / rate, rel=1e-5)
    # an owned replica of a full 8x H100 server at full power, no staff: the one model
    server = economics.ownership_cost(GPU, 8, 1, utilization=1.0, operations_usd_per_year=0)
    assert owned == pytest.approx(server.usd_per_gpu_hour, rel=1e-5)
    assert r["hybrid_usd_per_day_all_owned"] == pytest.approx(peak * owned * 24, rel=1e-5)
    assert r["hybrid_usd_per_day_optimum"] <= min(r["hybrid_usd_per_day_all_cloud"], r["hybrid_usd_per_day_all_owned"])
    # staff time adds at most both shares to a split, at least the smaller one
    assert 0 <= r["hybrid_optimum_owned_with_staff"] <= peak
    extra = r["hybrid_usd_per_day_optimum_with_staff"] - r["hybrid_usd_per_day_optimum"]
    assert OPS_CLOUD / 365 * (1 - 1e-4) <= extra <= (OPS_SELF + OPS_CLOUD) / 365 * (1 + 1e-4)
    # marginal rule: own the i-th replica when it is needed in more than 24 x owned / rented
    # hours of the day (cold starts, billed to rented replicas, only tilt ties towards owning)
    w = Workload(MODEL, HYBRID_RPD, IN, OUT, daily_profile=BUSINESS_HOURS_PROFILE)
    capacity = r["capacity_output_tokens_per_s"] / OUT
    needed = np.ceil(w.hourly_requests() / 3600 / capacity - 1e-12)
    assert needed.max() == peak
    rule = sum(int((needed >= i).sum() * rate > 24 * owned) for i in range(1, peak + 1))
    assert k == rule


def check_alternative(r, d):
    assert r["utilization_always_on"] == pytest.approx(10 * d["utilization_always_on"], rel=1e-4)
    assert r["usd_per_request_always_on"] == pytest.approx(d["usd_per_request_always_on"] / 10, rel=1e-4)
    assert r["usd_per_million_tokens_always_on"] == pytest.approx(d["usd_per_million_tokens_always_on"] / 10,
                                                                  rel=1e-4)
    assert r["usd_per_request_api_cheapest"] == pytest.approx(d["usd_per_request_api_cheapest"])
    assert r["usd_per_request_self_hosted"] < d["usd_per_request_self_hosted"]
    assert r["usd_per_request_scale_to_zero"] < d["usd_per_request_scale_to_zero"]
    assert r["volume_tokens_per_month"] == pytest.approx(10 * d["volume_tokens_per_month"])
    # what does not depend on the volume
    for key in ("crossover_tokens_per_month_low", "crossover_tokens_per_month_high", "hybrid_optimum_owned",
                "n_scenario_lines", "s1_recomputed_usd_per_request", "capacity_output_tokens_per_s",
                "hybrid_optimum_owned_with_staff", "ops_self_usd_per_year"):
        assert r[key] == pytest.approx(d[key]), key
    assert math.isclose(r["cloud_usd_per_hour"], d["cloud_usd_per_hour"])
