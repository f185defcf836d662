"""Tests of hwcost.optimization: hand-computed cases and physical relations of each lever."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hwcost import catalog, economics, perf
from hwcost import optimization as opt
from hwcost.workload import SLO, Workload

FAST = settings(max_examples=30, deadline=None)
MODEL = "llama-3.1-8b"
GPU = "h100-sxm"


# ----------------------------------------------------------------------------------------
# Prices and the operating batch
# ----------------------------------------------------------------------------------------
def test_gpu_rate_uses_the_provider_offer_then_the_cheapest():
    offers = catalog.cloud_prices()
    row = offers[(offers["provider"] == "runpod") & (offers["gpu_id"] == GPU)
                 & (offers["pricing"] == "on-demand")].sort_values("usd_per_gpu_hour").iloc[0]
    assert opt.gpu_rate(GPU, "runpod").usd_per_gpu_hour == pytest.approx(row["usd_per_gpu_hour"])
    # a GPU the provider does not rent: the cheapest on-demand offer of anyone
    gpu = next(g for g in offers["gpu_id"].unique()
               if g not in set(offers[offers["provider"] == "runpod"]["gpu_id"]))
    cheapest = economics.cloud_offers(gpu, pricing="on-demand").iloc[0]
    rate = opt.gpu_rate(gpu, "runpod")
    assert rate.usd_per_gpu_hour == pytest.approx(cheapest["usd_per_gpu_hour"])
    assert rate.provider == cheapest["provider"]


def test_gpu_rate_without_any_offer_says_which_gpus_have_one():
    unpriced = [g for g in catalog.gpu_ids() if g not in set(catalog.cloud_prices()["gpu_id"])]
    if not unpriced:
        pytest.skip("every catalog GPU has a cloud offer")
    with pytest.raises(ValueError, match="GPUs with offers"):
        opt.gpu_rate(unpriced[0], "runpod")


def test_operating_batch_without_target_is_the_memory_batch():
    most = perf.max_batch_by_memory(MODEL, GPU, input_tokens=512, output_tokens=256)
    assert opt.operating_batch(MODEL, GPU, input_tokens=512, output_tokens=256) == most
    # one more sequence does not fit
    assert not perf.estimate(MODEL, GPU, batch_size=most + 1, input_tokens=512, output_tokens=256).fits


def test_one_answer_for_the_largest_batch_under_a_tpot_target():
    # operating_batch and largest_batch_meeting used to differ (256 against 352 for a 20 ms
    # target): one respected the engine's default sequence cap, the other memory alone.
    from hwcost import matching

    kw = dict(n_gpus=1, precision="bf16", input_tokens=512, output_tokens=256)
    a = opt.operating_batch("llama-3.1-8b", "h100-sxm", tpot_target_s=0.02, **kw)
    b = matching.largest_batch_meeting("llama-3.1-8b", "h100-sxm", tpot_target_s=0.02, **kw)
    assert a == b == perf.largest_batch_meeting("llama-3.1-8b", "h100-sxm", tpot_target_s=0.02, **kw)
    assert a > 256  # beyond vLLM's default max_num_seqs: the cap is a setting, not a limit


def test_operating_batch_is_the_edge_of_the_target():
    target = 0.008
    b = opt.operating_batch(MODEL, GPU, tpot_target_s=target, input_tokens=512, output_tokens=256)
    assert b >= 1
    assert perf.estimate(MODEL, GPU, batch_size=b, input_tokens=512, output_tokens=256).tpot_s <= target
    nxt = perf.estimate(MODEL, GPU, batch_size=b + 1, input_tokens=512, output_tokens=256)
    assert (not nxt.fits) or nxt.tpot_s > target
    # a target below the batch-1 step cannot be met
    assert opt.operating_batch(MODEL, GPU, tpot_target_s=1e-6) == 0


@FAST
@given(st.floats(0.004, 0.05), st.floats(1.0, 3.0))
def test_operating_batch_grows_with_the_target(target, factor):
    small = opt.operating_batch(MODEL, GPU, tpot_target_s=target)
    large = opt.operating_batch(MODEL, GPU, tpot_target_s=target * factor)
    assert large >= small


# ----------------------------------------------------------------------------------------
# Speculative decoding
# ----------------------------------------------------------------------------------------
def test_speculative_table_known_answers():
    df = opt.speculative_table(acceptance_rates=(0.0, 0.5, 1.0), draft_tokens=(1, 4),
                               draft_cost_ratios=(0.0, 0.25))
    assert len(df) == 12
    row = df[(df.acceptance_rate == 0.5) & (df.draft_tokens == 1) & (df.draft_cost_ratio == 0.0)]
    assert row["speedup"].item() == pytest.approx(1.5)  # (1 - 0.25) / 0.5
    row = df[(df.acceptance_rate == 0.0) & (df.draft_tokens == 4) & (df.draft_cost_ratio == 0.25)]
    assert row["speedup"].item() == pytest.approx(0.5)  # 1 / (4 x 0.25 + 1): pure overhead
    assert row["latency_reduction"].item() == pytest.approx(-1.0)
    row = df[(df.acceptance_rate == 1.0) & (df.draft_tokens == 4) & (df.draft_cost_ratio == 0.0)]
    assert row["speedup"].item() == pytest.approx(5.0)
    assert np.allclose(df["latency_reduction"], 1 - 1 / df["speedup"])


def test_speculation_validates_its_inputs():
    with pytest.raises(ValueError, match="acceptance_rate"):
        opt.Speculation("llama-3.2-3b", 1.5, 4)
    with pytest.raises(ValueError, match="draft_tokens"):
        opt.Speculation("llama-3.2-3b", 0.5, 0)
    with pytest.raises(ValueError):
        opt.Speculation("no-such-model", 0.5, 4)


def test_speculative_at_batch_one_is_leviathan_with_the_step_time_ratio():
    sp = opt.Speculation("llama-3.2-3b", 0.7, 4)
    r = opt.speculative_at_batch("llama-3.1-70b", GPU, sp, batch_size=1, n_gpus=2, precision="fp8")
    st70 = perf.step_times("llama-3.1-70b", GPU, n_gpus=2, precision="fp8")
    st3 = perf.step_times("llama-3.2-3b", GPU, precision="fp8")
    c = st3.decode_step_seconds(1, 512) / st70.decode_step_seconds(1, 512)
    assert r.draft_cost_ratio == pytest.approx(c)
    # memory-bound: verifying 5 tokens costs about one step
    assert 1.0 <= r.verify_cost_ratio < 1.05
    assert r.speedup == pytest.approx(perf.speculative_speedup(0.7, 4, c), rel=0.05)
    assert r.expected_tokens_per_step == pytest.approx((1 - 0.7 ** 5) / 0.3)


def test_speculation_pays_less_at_large_batch():
    sp = opt.Speculation("llama-3.2-3b", 0.7, 4)
    kw = dict(n_gpus=2, precision="fp8")
    small = opt.speculative_at_batch("llama-3.1-70b", GPU, sp, batch_size=1, **kw)
    large = opt.speculative_at_batch("llama-3.1-70b", GPU, sp, batch_size=256, **kw)
    assert large.verify_cost_ratio > small.verify_cost_ratio
    assert large.speedup < small.speedup


# ----------------------------------------------------------------------------------------
# One configuration and its cost
# ----------------------------------------------------------------------------------------
def test_serving_point_cost_is_the_hourly_price_over_throughput():
    pt = opt.serving_point(MODEL, GPU, usd_per_gpu_hour=2.0, batch_size=8, input_tokens=512,
                           output_tokens=256)
    e = perf.estimate(MODEL, GPU, batch_size=8, input_tokens=512, output_tokens=256)
    assert pt.output_tokens_per_s == pytest.approx(e.output_tokens_per_s)
    assert pt.usd_per_million_output_tokens == pytest.approx(
        2.0 * pt.n_gpus / (3600 * e.output_tokens_per_s) * 1e6)
    half = opt.serving_point(MODEL, GPU, usd_per_gpu_hour=2.0, batch_size=8, utilization=0.5)
    assert half.usd_per_million_output_tokens == pytest.approx(2 * pt.usd_per_million_output_tokens)


def test_serving_point_uses_the_fewest_gpus_and_flags_a_missed_target():
    pt = opt.serving_point("llama-3.1-70b", GPU, usd_per_gpu_hour=1.0, precision="bf16",
                           batch_size=1)
    assert pt.n_gpus == perf.min_gpus_to_fit("llama-3.1-70b", GPU, "bf16", input_tokens=512,
                                             output_tokens=256)
    assert pt.usd_per_hour == pytest.approx(pt.n_gpus * 1.0)
    missed = opt.serving_point(MODEL, GPU, usd_per_gpu_hour=1.0, tpot_target_s=1e-6)
    assert missed.batch_size == 1 and not missed.meets_tpot_target


def test_serving_point_with_speculation_divides_decode_time():
    sp = opt.Speculation("llama-3.2-3b", 0.8, 4)
    plain = opt.serving_point(MODEL, GPU, usd_per_gpu_hour=1.0, batch_size=1)
    fast = opt.serving_point(MODEL, GPU, usd_per_gpu_hour=1.0, batch_size=1, speculation=sp)
    assert fast.speculative_speedup > 1
    assert fast.tpot_s == pytest.approx(plain.tpot_s / fast.speculative_speedup)
    assert fast.usd_per_million_output_tokens < plain.usd_per_million_output_tokens


# ----------------------------------------------------------------------------------------
# Quantization
# ----------------------------------------------------------------------------------------
def test_quantization_table_memory_speed_and_fit():
    df = opt.quantization_table("llama-3.1-70b", GPU, usd_per_gpu_hour=2.0).set_index("precision")
    assert list(df.index) == ["bf16", "fp8", "int8", "int4"]
    assert df.loc["bf16", "speedup_vs_baseline"] == pytest.approx(1.0)
    assert df.loc["bf16", "saving_vs_baseline"] == pytest.approx(0.0)
    # 8-bit weights are about half of 16-bit (16-bit embeddings and scales on top)
    assert 0.45 < df.loc["int8", "weights_vs_baseline"] < 0.56
    assert df.loc["int4", "weights_gb"] < df.loc["int8", "weights_gb"] < df.loc["bf16", "weights_gb"]
    assert np.allclose(df["bytes_speedup"], 1 / df["weights_vs_baseline"])
    # fewer bytes never need more GPUs
    assert df.loc["int4", "n_gpus"] <= df.loc["fp8", "n_gpus"] <= df.loc["bf16", "n_gpus"]
    # batch-1 decode is memory-bound: int4 is faster than bf16 on the same GPUs, but by less
    # than the byte ratio (overheads, KV reads, dequantization)
    assert 1 < df.loc["int4", "speedup_vs_baseline"] < df.loc["int4", "bytes_speedup"]


def test_quantization_table_marks_unsupported_precisions():
    df = opt.quantization_table(MODEL, "a100-80gb-sxm", usd_per_gpu_hour=1.0,
                                precisions=("bf16", "fp8", "int4")).set_index("precision")
    assert not df.loc["fp8", "supported"] and "fp8" in df.loc["fp8", "reason"]
    assert df.loc["int4", "supported"]
    assert opt.cheapest_precision(df.reset_index()) in ("bf16", "int4")
    with pytest.raises(ValueError):
        opt.cheapest_precision(df.reset_index().iloc[[1]])


# ----------------------------------------------------------------------------------------
# Batching
# ----------------------------------------------------------------------------------------
def test_batch_size_effect_relations():
    df = opt.batch_size_effect(MODEL, GPU, usd_per_gpu_hour=2.0, batch_sizes=(1, 8))
    first, eight = df.iloc[0], df.iloc[1]
    assert first["throughput_vs_first"] == 1 and first["cost_reduction"] == 0
    # cost per request falls exactly as throughput rises
    assert eight["cost_reduction"] == pytest.approx(1 - 1 / eight["throughput_vs_first"])
    assert eight["extra_latency_s"] > 0
    # each user is a little slower, the replica much faster
    assert eight["tokens_per_s_per_request"] <= first["tokens_per_s_per_request"]
    assert 4 < eight["throughput_vs_first"] <= 8


def test_scheduler_comparison_continuous_serves_most():
    w = Workload(MODEL, 50_000, input_tokens=256, output_tokens=128, output_tokens_cv=1.0)
    df = opt.scheduler_comparison(MODEL, GPU, w, SLO(ttft_s=2.0, tpot_s=0.05),
                                  usd_per_gpu_hour=2.0, n_requests=200).set_index("scheduler")
    assert set(df.index) == {"static", "dynamic", "continuous"}
    cont = df.loc["continuous"]
    assert cont["max_requests_per_s"] >= df["max_requests_per_s"].max() - 1e-12
    assert cont["saturation_requests_per_s"] >= df.loc["static", "saturation_requests_per_s"]
    # cost at the highest rate = price / output tokens per second
    assert cont["usd_per_million_output_tokens"] == pytest.approx(
        2.0 / (3600 * cont["output_tokens_per_s"]) * 1e6)
    # Little's law: users at once = rate x time in system > rate x best-case time
    assert cont["concurrent_users"] > 0
    assert cont["requests_per_day"] == pytest.approx(cont["max_requests_per_s"] * 86_400)


# ----------------------------------------------------------------------------------------
# Model caching
# ----------------------------------------------------------------------------------------
def test_load_time_is_weights_over_bandwidth():
    df = opt.load_time_table(MODEL, "bf16", read_gbps={"slow": 1.0, "fast": 4.0})
    w = perf.weights_bytes(MODEL, "bf16") / 1e9
    assert list(df["medium"]) == ["slow", "fast"]
    assert df["load_s"].tolist() == pytest.approx([w / 1.0, w / 4.0])
    with pytest.raises(ValueError):
        opt.load_time_table(MODEL, read_gbps={"broken": 0})


def test_keep_warm_vs_scale_to_zero():
    df = opt.keep_warm_vs_scale_to_zero(MODEL, GPU, requests_per_day=[1, 10, 100, 10_000],
                                        usd_per_gpu_hour=2.0, cold_start_s=60.0)
    # always on: 24 GPU-hours a day whatever the traffic
    assert np.allclose(df["always_on_usd_per_day"], 48.0)
    assert df.loc[0, "cheaper"] == "scale to zero"
    assert df.loc[0, "scale_to_zero_usd_per_day"] < 48.0
    # the busier, the fewer requests meet a stopped replica
    assert df["cold_start_request_share"].is_monotonic_decreasing
    assert np.allclose(df["keep_warm_premium"], df["always_on_usd_per_day"] / df["scale_to_zero_usd_per_day"])


# ----------------------------------------------------------------------------------------
# Flash attention
# ----------------------------------------------------------------------------------------
def test_flash_attention_helps_more_the_longer_the_prompt():
    df = opt.flash_attention_table(MODEL, GPU, input_tokens=[1024, 8192, 32768])
    assert (df["prefill_speedup"] >= 1).all()
    assert df["prefill_speedup"].is_monotonic_increasing
    assert (df["memory_per_gpu_gb_no_flash"] >= df["memory_per_gpu_gb_flash"]).all()
    assert (df["max_batch_size_no_flash"] <= df["max_batch_size_flash"]).all()
    assert df.attrs["n_gpus"] == 1


def test_flash_attention_default_lengths_respect_the_context():
    m = catalog.llm("llama-2-7b")
    df = opt.flash_attention_table(m, GPU, output_tokens=128)
    assert df["input_tokens"].max() + 128 <= m.max_context_tokens
    assert df["input_tokens"].min() == 1024


# ----------------------------------------------------------------------------------------
# What-ifs
# ----------------------------------------------------------------------------------------
def test_prune_layers_known_answer_llama2_7b():
    m = catalog.llm("llama-2-7b")  # 32 layers, vocab 32,000 x hidden 4,096, untied embeddings
    half = opt.prune_layers(m, 0.5)
    emb = 2 * 32_000 * 4_096 / 1e9
    assert half.n_layers == 16
    assert half.total_params_b == pytest.approx(emb + (m.total_params_b - emb) / 2)
    assert half.id == "llama-2-7b-pruned-16l"
    # KV cache per token scales with the layers kept
    assert perf.kv_cache_bytes_per_token(half) == pytest.approx(perf.kv_cache_bytes_per_token(m) / 2)
    assert opt.prune_layers(m, 1.0) is m
    with pytest.raises(ValueError, match="keep_fraction"):
        opt.prune_layers(m, 0.0)


@FAST
@given(st.floats(0.1, 1.0))
def test_distilled_student_is_never_larger_or_slower(f):
    m = catalog.llm(MODEL)
    s = opt.distill(m, f)
    assert s.total_params_b <= m.total_params_b + 1e-9
    assert 1 <= s.n_layers <= m.n_layers
    assert perf.weights_bytes(s) <= perf.weights_bytes(m)
    t_s = perf.step_times(s, GPU).decode_step_seconds(1, 512)
    t_m = perf.step_times(m, GPU).decode_step_seconds(1, 512)
    assert t_s <= t_m + 1e-12


def test_prune_tokens():
    assert opt.prune_tokens(1000, 0.8) == 800
    assert opt.prune_tokens(3, 0.1) == 1
    with pytest.raises(ValueError):
        opt.prune_tokens(100, 1.5)


# ----------------------------------------------------------------------------------------
# The waterfall
# ----------------------------------------------------------------------------------------
def test_waterfall_steps_and_changes():
    # a ~1B draft (a quarter of Llama 3.2 3B's layers): cheap enough to pay for an 8B target
    sp = opt.Speculation(opt.distill("llama-3.2-3b", 0.25), 0.7, 4)
    df = opt.lever_waterfall(MODEL, GPU, usd_per_gpu_hour=2.0, quantized_precision="fp8",
                             tpot_target_s=0.05, speculation=sp, layers_kept_fraction=0.75,
                             prompt_kept_fraction=0.5, distilled_size_fraction=0.5)
    assert list(df["lever"]) == ["baseline", "quantization", "flash attention",
                                 "speculative decoding", "batching", "layer pruning",
                                 "token pruning", "distillation"]
    cost = df["usd_per_million_output_tokens"].to_numpy()
    assert np.allclose(df["change_usd"].iloc[1:], np.diff(cost))
    assert np.allclose(df["change_pct"].iloc[1:], 100 * (cost[1:] / cost[:-1] - 1))
    base = opt.serving_point(MODEL, GPU, usd_per_gpu_hour=2.0, batch_size=1,
                             flash_attention=False, tpot_target_s=0.05)
    assert cost[0] == pytest.approx(base.usd_per_million_output_tokens)
    b = df.set_index("lever")
    assert b.loc["speculative decoding", "speculative_speedup"] > 1
    assert b.loc["batching", "batch_size"] > 1
    cost = "usd_per_million_output_tokens"
    assert b.loc["batching", cost] < b.loc["speculative decoding", cost]
    assert b.loc["token pruning", "input_tokens"] == 256
    assert b.loc["distillation", "params_b"] < b.loc["layer pruning", "params_b"] < b.loc["baseline", "params_b"]


def test_waterfall_neutral_levers_change_nothing():
    df = opt.lever_waterfall(MODEL, GPU, usd_per_gpu_hour=2.0, quantized_precision="fp8",
                             tpot_target_s=0.05)
    b = df.set_index("lever")
    for lever in ("speculative decoding", "layer pruning", "token pruning", "distillation"):
        assert b.loc[lever, "change_pct"] == pytest.approx(0.0)
    assert "not used" in b.loc["speculative decoding", "note"]
