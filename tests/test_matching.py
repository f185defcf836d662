"""Tests for hwcost.matching: fits, GPU counts, the article's size table, workload curves."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hwcost import catalog, matching, perf

MODELS = ["llama-3.1-8b", "qwen2.5-14b", "qwen2.5-32b", "llama-3.1-70b", "mixtral-8x7b",
          "llama-3.1-405b"]
GPUS = ["rtx-4090", "l40s", "a100-80gb-sxm", "h100-sxm", "b200", "mi300x"]
PRECISIONS = ["bf16", "fp8", "int8", "int4"]


@pytest.fixture(scope="module")
def table():
    return matching.fit_table(MODELS, GPUS, PRECISIONS, input_tokens=512, output_tokens=128)


# ----------------------------------------------------------------------------------------
# fit_table
# ----------------------------------------------------------------------------------------
def test_fit_table_shape_and_columns(table):
    assert len(table) == len(MODELS) * len(GPUS) * len(PRECISIONS)
    assert list(table.columns) == list(matching._FIT_COLUMNS)
    assert set(table["status"]) <= {"fits", "precision not supported on this GPU/engine",
                                    "needs more than 64 GPUs",
                                    "exceeds the model's context window"}


def test_405b_bf16_on_h100_needs_16_gpus(table):
    # 405.85e9 parameters x 2 bytes = 811.7 GB; 8 x (0.9 x 80 GB) = 576 GB is too little and
    # the next count the 128 heads / 8 KV heads allow is 16.
    row = table[(table.model_id == "llama-3.1-405b") & (table.gpu_id == "h100-sxm")
                & (table.precision == "bf16")].iloc[0]
    assert row["weights_gb"] == pytest.approx(811.7, rel=0.001)
    assert row["min_n_gpus"] == 16


def test_fp8_on_a100_is_not_supported(table):
    row = table[(table.model_id == "llama-3.1-8b") & (table.gpu_id == "a100-80gb-sxm")
                & (table.precision == "fp8")].iloc[0]
    assert row["status"] == "precision not supported on this GPU/engine"
    assert str(row["min_n_gpus"]) == "<NA>"


def test_8b_bf16_fits_one_4090(table):
    # 8.03e9 x 2 B = 16.1 GB < 0.9 x 24 GB
    row = table[(table.model_id == "llama-3.1-8b") & (table.gpu_id == "rtx-4090")
                & (table.precision == "bf16")].iloc[0]
    assert row["min_n_gpus"] == 1 and row["status"] == "fits"
    est = perf.estimate("llama-3.1-8b", "rtx-4090", batch_size=1, input_tokens=512, output_tokens=128)
    assert row["tokens_per_s_per_request"] == pytest.approx(est.tokens_per_s_per_request)


@settings(max_examples=40, deadline=None)
@given(m=st.sampled_from(MODELS), g=st.sampled_from(GPUS), p=st.sampled_from(PRECISIONS))
def test_fit_table_agrees_with_perf_min_gpus(table, m, g, p):
    row = table[(table.model_id == m) & (table.gpu_id == g) & (table.precision == p)].iloc[0]
    try:
        expected = perf.min_gpus_to_fit(m, g, p, input_tokens=512, output_tokens=128, max_gpus=64)
    except ValueError:
        assert row["status"] == "precision not supported on this GPU/engine"
        return
    if expected is None:
        assert str(row["min_n_gpus"]) == "<NA>"
    else:
        assert int(row["min_n_gpus"]) == expected
        # at the count found the configuration fits, one valid count below it does not
        est = perf.estimate(m, g, n_gpus=expected, precision=p, input_tokens=512, output_tokens=128)
        assert est.fits
        assert row["output_tokens_per_s"] >= row["tokens_per_s_per_request"] * 0.99


def test_fewer_bits_never_need_more_gpus(table):
    piv = table.pivot_table(index=["model_id", "gpu_id"], columns="precision", values="min_n_gpus",
                            aggfunc="first", observed=True)
    both = piv[["bf16", "int4"]].dropna()
    assert (both["int4"] <= both["bf16"]).all()


@settings(max_examples=15, deadline=None)
@given(m=st.sampled_from(["llama-3.1-8b", "llama-3.1-70b", "qwen2.5-32b"]),
       g=st.sampled_from(["rtx-4090", "h100-sxm", "l40s"]),
       longer=st.integers(min_value=1, max_value=30_000))
def test_longer_context_needs_at_least_as_many_gpus(m, g, longer):
    short = matching.fit_table(m, g, ["bf16", "int4"], input_tokens=512, output_tokens=128, batch_size=4)
    long = matching.fit_table(m, g, ["bf16", "int4"], input_tokens=512 + longer, output_tokens=128,
                              batch_size=4)
    for a, b in zip(short["min_n_gpus"], long["min_n_gpus"]):
        if str(a) == "<NA>":
            assert str(b) == "<NA>"
        elif str(b) != "<NA>":
            assert b >= a


def test_fit_labels_bands(table):
    lab = matching.fit_labels(table)
    got = dict(zip(zip(lab.model_id, lab.gpu_id, lab.precision), zip(lab.gpus_needed, lab.band)))
    assert got[("llama-3.1-405b", "h100-sxm", "bf16")] == ("16", "9-16")
    assert got[("llama-3.1-8b", "rtx-4090", "bf16")] == ("1", "1")
    assert got[("llama-3.1-8b", "a100-80gb-sxm", "fp8")] == ("n/a", "none")
    assert set(lab["band"]) <= set(matching.GPU_COUNT_BANDS)
    ctx = matching.fit_labels(matching.fit_table("llama-2-7b", "h100-sxm", ["bf16"], input_tokens=8000))
    assert ctx["gpus_needed"].iloc[0] == "ctx"


def test_bad_precision_names_accepted_values():
    with pytest.raises(ValueError, match="accepted"):
        matching.fit_table("llama-3.1-8b", "h100-sxm", ["fp6"])


# ----------------------------------------------------------------------------------------
# max_batch_by_memory, largest models
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("m,g,n,p", [("llama-3.1-8b", "h100-sxm", 1, "bf16"),
                                     ("llama-3.1-70b", "h100-sxm", 2, "fp8"),
                                     ("qwen2.5-14b", "rtx-4090", 1, "int4")])
def test_max_batch_is_the_edge_of_fitting(m, g, n, p):
    k = matching.max_batch_by_memory(m, g, n_gpus=n, precision=p, input_tokens=1000, output_tokens=200)
    assert k >= 1
    kw = dict(n_gpus=n, precision=p, input_tokens=1000, output_tokens=200)
    assert perf.estimate(m, g, batch_size=k, **kw).fits
    assert not perf.estimate(m, g, batch_size=k + 1, **kw).fits


def test_max_batch_zero_when_nothing_fits():
    assert matching.max_batch_by_memory("llama-3.1-405b", "rtx-4090", precision="bf16") == 0


def test_max_batch_matches_kv_arithmetic():
    # Llama-3.1-8B bf16: 131,072 B of KV per token; one sequence of 1,200 tokens = 157 MB.
    st_ = perf.step_times("llama-3.1-8b", "h100-sxm")
    k = matching.max_batch_by_memory("llama-3.1-8b", "h100-sxm", input_tokens=1000, output_tokens=200)
    assert st_.kv_cache_bytes_per_token == 131_072
    assert k == pytest.approx(st_.kv_capacity_tokens / 1200, rel=0.05)


def test_largest_fitting_models_on_a_24gb_card():
    df = matching.largest_fitting_models(["rtx-4090"], ["bf16", "int4"])
    bf16 = df[df.precision == "bf16"].iloc[0]
    int4 = df[df.precision == "int4"].iloc[0]
    # a 24 GB card holds at most 0.9 x 24 / 2 = 10.8e9 parameters at 16-bit
    assert bf16["params_b"] <= 10.8
    assert int4["params_b"] > bf16["params_b"]
    assert int4["tokens_per_s_per_request"] > 0


# ----------------------------------------------------------------------------------------
# The article's size table
# ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def size_check():
    return matching.check_size_table()


def test_size_table_covers_every_size_class():
    df = matching.size_table()
    assert set(df["size_class"]) == {"7B", "13B", "30B", "70B", "405B"}
    assert all(catalog.gpu(g).id == g for g in df["gpu_id"])
    assert all(catalog.llm(m).id == m for m in df["model_id"])


def test_405b_does_not_fit_one_b200(size_check):
    # even int4 (4.156 bits) is 405.85e9 x 4.156 / 8 = 211 GB > 180 GB
    rows = size_check[(size_check.size_class == "405B") & (size_check.gpu_id == "b200")]
    assert len(rows) and (rows["holds"] == "no").all()
    assert (rows["min_n_gpus_16bit"] >= 8).all()


def test_7b_fits_a_4090_at_16_bit(size_check):
    rows = size_check[(size_check.size_class == "7B") & (size_check.gpu_id == "rtx-4090")]
    assert (rows["holds"] == "yes, 16-bit").all()
    assert (rows["kv_room_gb"] > 0).all() and (rows["max_sequences"] >= 1).all()


def test_size_check_is_consistent_with_estimate(size_check):
    for r in size_check.itertuples():
        if r.precision == "none":
            assert r.max_sequences == 0
            continue
        est = perf.estimate(r.model_id, r.gpu_id, n_gpus=r.n_gpus, precision=r.precision,
                            input_tokens=512, output_tokens=128)
        assert est.fits
        assert r.weights_gb == pytest.approx(est.weights_gb)
        assert r.max_sequences >= 1


def test_size_check_override_model():
    df = matching.check_size_table(["bf16"], models={"7B": "llama-2-7b"})
    assert (df.loc[df.size_class == "7B", "model_id"] == "llama-2-7b").all()


# ----------------------------------------------------------------------------------------
# Workloads
# ----------------------------------------------------------------------------------------
def test_reading_pace_hand_computed():
    # 238 words/min x 4/3 tokens/word = 317.3 tokens/min -> 0.189 s per token
    assert matching.READING_TPOT_S == pytest.approx(60 / (238 * 4 / 3))
    assert matching.READING_TPOT_S == pytest.approx(0.189, abs=0.001)


def test_workload_types_names_three_workloads():
    df = matching.workload_types()
    assert len(df) == 3 and df["binding_property"].str.len().min() > 0


@pytest.mark.parametrize("m,g,n,p", [("llama-3.1-8b", "l40s", 1, "bf16"),
                                     ("llama-3.1-70b", "h100-sxm", 2, "fp8")])
def test_batch_curve_trades_latency_for_throughput(m, g, n, p):
    c = matching.batch_curve(m, g, n_gpus=n, precision=p, input_tokens=1024, output_tokens=256)
    assert c["batch_size"].iloc[0] == 1
    assert c["batch_size"].iloc[-1] == matching.max_batch_by_memory(
        m, g, n_gpus=n, precision=p, input_tokens=1024, output_tokens=256)
    assert (np.diff(c["output_tokens_per_s"]) > 0).all()
    assert (np.diff(c["tokens_per_s_per_request"]) <= 1e-9).all()
    assert (np.diff(c["ttft_s"]) > 0).all()
    assert c["e2e_s"].iloc[0] == pytest.approx(c["ttft_s"].iloc[0] + 255 * c["tpot_s"].iloc[0])
    assert c["bound"].iloc[0] == "memory"
    assert (np.diff(c["arithmetic_intensity"]) > 0).all()


def test_largest_batch_meeting_is_the_edge():
    kw = dict(n_gpus=2, precision="fp8", input_tokens=1024, output_tokens=256)
    b = matching.largest_batch_meeting("llama-3.1-70b", "h100-sxm", ttft_target_s=1.0,
                                       tpot_target_s=0.05, **kw)
    assert b >= 1
    ok = perf.estimate("llama-3.1-70b", "h100-sxm", batch_size=b, **kw)
    assert ok.ttft_s <= 1.0 and ok.tpot_s <= 0.05
    nxt = perf.estimate("llama-3.1-70b", "h100-sxm", batch_size=b + 1, **kw)
    assert not nxt.fits or nxt.ttft_s > 1.0 or nxt.tpot_s > 0.05


def test_joining_ttft_is_between_batch_1_and_together():
    c = matching.batch_curve("llama-3.1-8b", "l40s", input_tokens=1024, output_tokens=256)
    # batch 1: nothing is running, joining = arriving alone
    assert c["ttft_joining_s"].iloc[0] == pytest.approx(c["ttft_s"].iloc[0], rel=0.02)
    later = c.iloc[1:]
    assert (later["ttft_joining_s"] < later["ttft_s"]).all()
    assert (np.diff(c["ttft_joining_s"]) >= 0).all()
    kw = dict(input_tokens=1024, output_tokens=256)
    together = matching.largest_batch_meeting("llama-3.1-8b", "l40s", ttft_target_s=0.5, **kw)
    joining = matching.largest_batch_meeting("llama-3.1-8b", "l40s", ttft_target_s=0.5,
                                             arrival="joining", **kw)
    assert 1 <= together <= joining
    with pytest.raises(ValueError, match="arrival"):
        matching.largest_batch_meeting("llama-3.1-8b", "l40s", arrival="later")


def test_largest_batch_meeting_without_targets_is_the_memory_limit():
    kw = dict(precision="bf16", input_tokens=500, output_tokens=200)
    assert matching.largest_batch_meeting("llama-3.1-8b", "l40s", **kw) == \
        matching.max_batch_by_memory("llama-3.1-8b", "l40s", **kw)


def test_largest_batch_meeting_zero_when_batch_1_misses():
    assert matching.largest_batch_meeting("llama-3.1-8b", "l40s", tpot_target_s=1e-4) == 0
    with pytest.raises(ValueError, match="tpot_target_s"):
        matching.largest_batch_meeting("llama-3.1-8b", "l40s", tpot_target_s=-1)


def test_phase_floors_hand_computed():
    # Llama-2-7B fp16: 13.48e9 B read at 3.35e12 B/s = 4.02 ms; prefill of 1000 tokens:
    # 2 x 6.74e9 x 1000 FLOP at 989.4e12 FLOP/s = 13.6 ms.
    f = matching.phase_floors("llama-2-7b", "h100-sxm", precision="fp16", input_tokens=1000)
    assert f["weight_read_s"] == pytest.approx(13.48e9 / 3.35e12, rel=0.01)
    assert f["prefill_flop_s"] == pytest.approx(2 * 6.74e9 * 1000 / 989.4e12, rel=0.01)
    assert f["prefill_flop_s"] > f["prefill_read_s"]  # prefill is compute-bound
    assert f["decode_intensity"] < f["ridge_point"]  # batch-1 decode is memory-bound
    half = matching.phase_floors("llama-2-7b", "h100-sxm", n_gpus=2, precision="fp16", input_tokens=1000)
    assert half["weight_read_s"] == pytest.approx(f["weight_read_s"] / 2)


def test_gpu_speedup_at_batch_1_is_about_the_bandwidth_ratio():
    df = matching.gpu_speedup("llama-2-13b", "h100-sxm", "a100-80gb-sxm", batch_sizes=[1, 32])
    bw = 3350 / 2039
    assert df["bandwidth_ratio"].iloc[0] == pytest.approx(bw)
    assert df["speedup"].iloc[0] == pytest.approx(bw, rel=0.1)
    assert (df["bound_gpu"].iloc[0], df["bound_baseline"].iloc[0]) == ("memory", "memory")
    assert df["compute_ratio"].iloc[0] == pytest.approx(989.4 / 312, rel=0.01)
    same = matching.gpu_speedup("llama-2-13b", "h100-sxm", "h100-sxm", batch_sizes=[1, 8])
    assert np.allclose(same["speedup"], 1.0)


def test_gpu_speedup_runs_a_model_too_large_for_one_card_on_the_fewest_gpus_that_hold_it():
    # 13B (26 GB at 16 bits) fits one card of each: one GPU, as before
    assert set(matching.gpu_speedup("llama-2-13b", "h100-sxm", "a100-80gb-sxm", batch_sizes=[1])["n_gpus"]) == {1}
    # 72.7B (~145 GB at 16 bits) needs two 80 GB cards on both sides; same count, same ratio
    df = matching.gpu_speedup("qwen2.5-72b", "h100-sxm", "a100-80gb-sxm", batch_sizes=[1])
    assert list(df["n_gpus"]) == [2]
    assert df["speedup"].iloc[0] == pytest.approx(3350 / 2039, rel=0.15)
    # 405B (~810 GB) is more than eight 80 GB cards hold: nothing to compare, no error
    assert matching.gpu_speedup("llama-3.1-405b", "h100-sxm", "a100-80gb-sxm", batch_sizes=[1]).empty


def test_inference_servers_has_engines_and_the_litellm_proxy():
    df = matching.inference_servers()
    assert set(perf.engines().index) < set(df.index)
    assert df.loc["litellm", "role"].startswith("proxy")
    assert df.loc["litellm", "docs_url"].startswith("https://docs.litellm.ai")
    eng = df.drop(index="litellm")
    assert ((eng["bandwidth_efficiency"] > 0) & (eng["bandwidth_efficiency"] < 1)).all()
    assert not df.isna().any().any()
    assert math.isclose(df.loc["vllm", "bandwidth_efficiency"],
                        perf.engines().loc["vllm", "bandwidth_efficiency"])


def test_bandwidth_speed_table_bound_is_bandwidth_over_weights():
    t = matching.bandwidth_speed_table("llama-3.1-8b", "bf16", input_tokens=512, output_tokens=128)
    h100 = t.set_index("gpu_id").loc["h100-sxm"]
    assert h100["min_n_gpus"] == 1
    assert h100["replica_bw_gbps"] == 3350.0
    assert h100["bandwidth_bound_tokens_per_s"] == pytest.approx(3350.0 / h100["weights_gb"])
    # no GPU beats reading its weights once per token at peak bandwidth
    assert (t["tokens_per_s_per_request"] < t["bandwidth_bound_tokens_per_s"]).all()
    assert (t["replica_bw_gbps"] == t["mem_bw_gbps"] * t["min_n_gpus"]).all()


def test_intensity_by_batch_powers_of_two():
    df = matching.intensity_by_batch("llama-3.1-8b", "bf16", 640, max_batch=4096)
    assert list(df["batch_size"]) == [1 << k for k in range(13)]
    assert df["arithmetic_intensity"].iloc[3] == perf.arithmetic_intensity("llama-3.1-8b", "bf16",
                                                                             8, 640)
    assert df["arithmetic_intensity"].is_monotonic_increasing
    assert list(matching.intensity_by_batch("llama-3.1-8b", max_batch=6)["batch_size"]) == [1, 2, 4]
