"""Batch work: a processing window, near-saturation capacity, batch and cached API prices."""

import re

import numpy as np
import pytest

from hwcost import economics, recommend, scenario
from hwcost.requirements import (
    BATCH_MAX_UTILIZATION,
    MAX_UTILIZATION,
    SLO,
    Constraints,
    Workload,
    build_case,
    planning_utilization,
    window_mask,
)


def test_a_nightly_window_concentrates_the_day_in_eight_hours():
    w = Workload("llama-3.1-8b", 1_000_000, 800, 20, window_hours=8)
    hourly = w.hourly_requests()
    assert hourly.sum() == pytest.approx(1_000_000)
    assert hourly[:8] == pytest.approx([125_000] * 8)
    assert (hourly[8:] == 0).all()
    # the peak rate is the day's volume over 8 h, three times the mean rate
    assert w.peak_requests_per_s == pytest.approx(1_000_000 / (8 * 3600))
    assert w.is_batch and not Workload("llama-3.1-8b", 10).is_batch


def test_window_wraps_past_midnight_with_partial_hours():
    mask = window_mask(22.5, 8)
    assert sum(mask) == pytest.approx(8)
    assert mask[22] == 0.5 and mask[23] == 1 and mask[6] == 0.5 and mask[7] == 0
    w = Workload("llama-3.1-8b", 80_000, window_hours=8, window_start_hour=22.5)
    assert w.hourly_requests()[6] == pytest.approx(5_000)


@pytest.mark.parametrize("field, value, fragment", [
    ("window_hours", 0, "window_hours"), ("window_hours", 25, "(0, 24]"),
    ("window_start_hour", 24, "[0, 24)"), ("cached_input_share", 1.5, "[0, 1]"),
])
def test_bad_window_or_cache_share_is_named(field, value, fragment):
    with pytest.raises(ValueError, match=re.escape(fragment)):
        Workload("llama-3.1-8b", 1000, **{field: value})


def test_one_capacity_rule():
    assert planning_utilization(SLO(ttft_s=1.0)) == MAX_UTILIZATION == 0.9
    assert planning_utilization(SLO()) == BATCH_MAX_UTILIZATION == 0.97
    from hwcost import serving

    assert serving.MAX_UTILIZATION == MAX_UTILIZATION
    # the default follows the SLO, also after the SLO is replaced
    c = Constraints()
    assert c.utilization_cap == 0.97
    c2 = build_case(build_case(model="llama-3.1-8b", requests_per_day=10), ttft_s=1.0).constraints
    assert c2.utilization_cap == 0.9
    assert Constraints(max_utilization=0.5).utilization_cap == 0.5


def test_batch_window_needs_more_owned_hardware_than_the_same_volume_over_a_day():
    c = Constraints(gpus=("l40s",), precisions=("fp8",), n_gpus_options=(1,), allow_cloud=False,
                    allow_api=False, availability=0.9)
    day = recommend.rank(Workload("llama-3.1-8b", 1_000_000, 800, 20), c, simulate=False).iloc[0]
    night = recommend.rank(Workload("llama-3.1-8b", 1_000_000, 800, 20, window_hours=8), c,
                           simulate=False).iloc[0]
    assert night["replicas"] >= 3 * day["replicas"] - 1
    assert night["utilization"] < day["utilization"]


def test_batch_and_cached_api_prices():
    p = economics.ApiPrice(0.20, 0.60, id="x", batch_usd_per_million_input_tokens=0.10,
                           batch_usd_per_million_output_tokens=0.30,
                           cached_usd_per_million_input_tokens=0.05)
    assert p.has_batch and p.batch().usd_per_million_input_tokens == 0.10
    assert p.input_usd_per_million_tokens(0.5) == pytest.approx(0.125)
    w = Workload("llama-3.1-8b", 1_000_000, 800, 20, cached_input_share=0.5)
    cost = economics.api_cost(w, p)
    # 1M x (800 x 0.125 + 20 x 0.60) / 1e6 per day
    assert cost.usd_per_day == pytest.approx(800 * 0.125 + 20 * 0.60)
    plain = economics.ApiPrice(0.20, 0.60)
    assert not plain.has_batch
    with pytest.raises(ValueError, match="no batch prices"):
        plain.batch()
    assert economics.api_cost(w, plain).usd_per_day == pytest.approx(800 * 0.20 + 20 * 0.60)


def test_api_rows_read_batch_columns_when_present():
    row = {"usd_per_million_input_tokens": 0.2, "usd_per_million_output_tokens": 0.6,
           "provider": "p", "model": "m", "id": "p-m", "llm_id": None,
           "batch_usd_per_million_input_tokens": 0.1, "batch_usd_per_million_output_tokens": float("nan")}
    price = economics._api_row_to_price(row)
    assert price.batch_usd_per_million_input_tokens == 0.1 and not price.has_batch
    assert price.cached_usd_per_million_input_tokens is None


def test_nightly_batch_scenario_loads():
    sc = scenario.load("nightly-batch-classification")
    assert sc.workload.window_hours == 8 and sc.workload.cached_input_share == 0.5
    assert np.count_nonzero(sc.workload.hourly_requests()) == 8
    assert sc.constraints.utilization_cap == BATCH_MAX_UTILIZATION
