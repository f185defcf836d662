"""Tests for hwcost.perf: hand-computed answers, physical invariants, calibration."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from hwcost import catalog, perf
from hwcost.errors import HwcostError
from hwcost.perf import features, fit
from hwcost.perf import kernel as core

TODAY = dt.date(2026, 11, 27)
FAST = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def make_gpu(**kw) -> catalog.GPU:
    base = dict(
        id="test-gpu", vendor="nvidia", name="Test GPU", aliases=(), segment="datacenter",
        memory_gb=80.0, memory_type="HBM3", mem_bw_gbps=2000.0, bf16_tflops=500.0,
        fp16_tflops=500.0, fp8_tflops=1000.0, int8_tops=1000.0, int4_tops=None, tdp_w=500.0,
        interconnect="nvlink4", interconnect_gbps=800.0, pcie_gen=5, form_factor="sxm",
        launch_year=2024, source="test", as_of=TODAY,
    )
    base.update(kw)
    return catalog.GPU(**base)


def make_llm(**kw) -> catalog.LLM:
    """Llama-2-7B shapes (6.74e9 parameters, MHA)."""
    base = dict(
        id="test-llm", name="Test LLM", hf_repo=None, aliases=(), total_params_b=6.74,
        active_params_b=6.74, n_layers=32, hidden_size=4096, n_heads=32, n_kv_heads=32,
        head_dim=128, intermediate_size=11008, n_experts=None, n_experts_active=None,
        n_shared_experts=None, moe_intermediate_size=None, n_dense_layers=None,
        vocab_size=32000, max_context_tokens=4096, attention="mha",
        sliding_window_tokens=None, sliding_layer_fraction=None, kv_lora_rank=None,
        qk_rope_head_dim=None, native_precision="fp16", source="test", as_of=TODAY,
    )
    base.update(kw)
    return catalog.LLM(**base)


def unit_cal(bw=0.5, comp=0.5, overhead=0.0, layer=0.0, **extra) -> perf.Calibration:
    """Calibration with round factors for hand computation."""
    engines = {k: {"bandwidth_efficiency": bw, "compute_efficiency": comp,
                   "step_overhead_s": overhead, "layer_overhead_s": layer}
               for k in features.engine_specs()}
    data = {"engines": engines, "gpu_classes": {}, "weight_only_efficiency_factor": 1.0,
            "fp8_compute_factor": 1.0, "prefill_overhead_ratio": 1.0,
            "allreduce_latency_s": 10e-6, "moe_layer_overhead_s": 0.0,
            "prefill_compute_logit_shift": 0.0, "error_bands": {}}
    data.update(extra)
    return perf.Calibration(data)


# ------------------------------------------------------------------------------------------
# Hand-computed sizes
# ------------------------------------------------------------------------------------------
def test_llama2_7b_fp16_weights_13_5_gb():
    assert perf.weights_bytes(make_llm(), "fp16") == pytest.approx(13.48e9, rel=1e-12)
    assert perf.weights_bytes("llama-2-7b", "fp16") / 1e9 == pytest.approx(13.5, abs=0.05)


def test_llama31_70b_kv_bytes_per_token():
    # 2 (K and V) x 80 layers x 8 KV heads x 128 x 2 bytes
    assert perf.kv_cache_bytes_per_token("llama-3.1-70b", "bf16") == 327_680
    assert perf.kv_cache_bytes_per_token("llama-3.1-70b", "fp8") == 163_840


def test_mla_kv_is_latent_plus_rope():
    # DeepSeek-V3: 61 layers x (512 + 64) x 2 bytes
    assert perf.kv_cache_bytes_per_token("deepseek-v3", "bf16") == 61 * 576 * 2 == 70_272


def test_sliding_window_caps_kv():
    m = make_llm(n_kv_heads=8, sliding_window_tokens=4096, sliding_layer_fraction=0.5,
                 max_context_tokens=32768)
    per_layer = 2 * 8 * 128 * 2
    assert perf.kv_cache_bytes(m, "bf16", 1000) == 32 * per_layer * 1000
    # 16 full layers hold 10000 tokens, 16 windowed layers only 4096.
    assert perf.kv_cache_bytes(m, "bf16", 10000) == 16 * per_layer * 10000 + 16 * per_layer * 4096


def test_int4_weights_keep_16_bit_embeddings():
    m = make_llm()
    emb = 32000 * 4096
    body = 6.74e9 - 2 * emb
    expected = body * (4 + 20 / 128) / 8 + 2 * emb * 2
    assert perf.weights_bytes(m, "int4") == pytest.approx(expected, rel=1e-12)
    assert 4.125 <= perf.WEIGHT_BITS["int4"] <= 4.25  # group-128 FP16 scales (+ 4-bit zeros)
    bits = perf.weights_bytes(m, "int4") * 8 / 6.74e9
    assert 4.5 < bits < 4.7  # the 16-bit embeddings (4% of the parameters) add ~0.46 bits
    # llama.cpp GGUF Q4_K_M quantizes every tensor at about 4.85 bits.
    assert perf.weights_bytes(m, "int4", engine="llama.cpp") == pytest.approx(6.74e9 * 4.85 / 8)


def test_mlc_q4f16_1_quantizes_every_tensor_and_lmdeploy_keeps_awq_layout():
    m = make_llm()
    # MLC LLM q4f16_1: 4-bit values with one FP16 scale per 32, embeddings and lm_head too.
    assert perf.weights_bytes(m, "int4", engine="mlc-llm") == pytest.approx(6.74e9 * 4.5 / 8)
    # LMDeploy's AWQ w4a16 keeps 16-bit embeddings: the generic group-128 layout.
    assert perf.weights_bytes(m, "int4", engine="lmdeploy") == perf.weights_bytes(m, "int4")
    assert perf.weights_bytes(m, "fp16", engine="mlc-llm") == perf.weights_bytes(m, "fp16")


def test_lmdeploy_and_mlc_memory_reserves():
    # LMDeploy gives the KV cache 0.8 of the memory left after weights and workspace,
    # TensorRT-LLM 0.9 of it (same prefill chunk and runtime allowance): capacities 8:9.
    lm = perf.step_times("llama-3.1-8b", "h100-sxm", precision="bf16", engine="turbomind")
    trt = perf.step_times("llama-3.1-8b", "h100-sxm", precision="bf16", engine="tensorrt-llm")
    assert lm.engine == "lmdeploy" and lm.max_batch_size == 128
    assert lm.kv_capacity_tokens / trt.kv_capacity_tokens == pytest.approx(0.8 / 0.9, abs=1e-4)
    # MLC LLM budgets 0.85 of device memory, vLLM 0.9: 0.05 x 80 GiB fewer bytes of KV at
    # 32 layers x 8 KV heads x 128 x 2 (K, V) x 2 bytes = 131072 bytes per token.
    mlc = perf.step_times("llama-3.1-8b", "h100-sxm", precision="fp16", engine="MLC_LLM")
    vl = perf.step_times("llama-3.1-8b", "h100-sxm", precision="fp16", engine="vllm")
    assert mlc.engine == "mlc-llm" and mlc.max_batch_size is None
    assert vl.kv_capacity_tokens - mlc.kv_capacity_tokens == pytest.approx(
        0.05 * 80 * 2**30 / 131072, abs=1)


def test_tied_embeddings_detected_from_parameter_count():
    assert features.tied_embeddings(catalog.llm("llama-3.2-3b"))
    assert features.tied_embeddings(catalog.llm("gemma-2-27b"))
    assert not features.tied_embeddings(catalog.llm("llama-2-7b"))
    assert not features.tied_embeddings(catalog.llm("qwen2.5-7b"))


def test_moe_expected_distinct_experts():
    assert core.expected_experts_fraction(2 / 8, 1) == pytest.approx(0.25)
    assert core.expected_experts_fraction(2 / 8, 4) == pytest.approx(1 - 0.75**4)
    assert core.expected_experts_fraction(0.0, 1000) == 0.0


def test_moe_reads_only_active_experts_at_batch_1():
    m = catalog.llm("mixtral-8x7b")
    f = features.model_numbers(m, "bf16", "bf16", features.engine_specs()["generic"])
    read1 = float(core.weights_read_bytes(f, 1))
    read_all = float(core.weights_read_bytes(f, 10_000))
    assert read1 / 1e9 == pytest.approx(2 * 12.9, rel=0.03)  # ~active parameters x 2 bytes
    assert read_all == pytest.approx(f["w_fixed"] + f["w_expert"])
    assert read_all / 1e9 == pytest.approx(2 * 46.7, rel=0.02)


def test_model_load_seconds():
    assert perf.model_load_seconds(make_llm(), "fp16", read_gbps=6.74) == pytest.approx(2.0)
    assert perf.model_load_seconds("llama-3.1-70b", "bf16", 2.0) == pytest.approx(
        perf.weights_bytes("llama-3.1-70b", "bf16") / 2e9)
    with pytest.raises(ValueError, match="read_gbps"):
        perf.model_load_seconds("llama-2-7b", "fp16", 0)


def test_speculative_speedup_known_values():
    # Leviathan et al.: (1 - a^(k+1)) / ((1 - a) (k c + 1))
    assert perf.speculative_speedup(0.8, 4, 0.05) == pytest.approx((1 - 0.8**5) / 0.2 / 1.2)
    assert perf.speculative_speedup(1.0, 4, 0.0) == pytest.approx(5.0)
    assert perf.speculative_speedup(0.0, 3, 0.1) == pytest.approx(1 / 1.3)
    out = perf.speculative_speedup(np.array([0.5, 0.9]), 3, 0.0)
    assert out.shape == (2,) and out[1] > out[0]
    for bad in ((1.2, 4, 0.1), (0.5, 0, 0.1), (0.5, 2.5, 0.1), (0.5, 4, -1)):
        with pytest.raises(ValueError):
            perf.speculative_speedup(*bad)


# ------------------------------------------------------------------------------------------
# Hand-computed times
# ------------------------------------------------------------------------------------------
def test_batch1_decode_is_bandwidth_bound_by_hand():
    g = make_gpu()
    m = make_llm()
    cal = unit_cal(bw=0.5, overhead=0.001, layer=20e-6)
    st_ = perf.step_times(m, g, precision="fp16", calibration=cal)
    # Bytes read per step: all weights except the input embedding table.
    read = 6.74e9 * 2 - 32000 * 4096 * 2
    # Fixed cost: 1 ms per step + 20 us for each of the 32 layers.
    fixed = 0.001 + 32 * 20e-6
    assert st_.step_overhead_s == pytest.approx(fixed, rel=1e-12)
    # The products' arithmetic, 2 FLOPs per byte read at 250 TFLOP/s, is 1/250 of the
    # 1 TB/s read: the smooth roofline adds sqrt(1 + 0.004^2) - 1 = 8e-6 of it.
    weights = read / (2000e9 * 0.5) * math.sqrt(1 + 0.004**2)
    expected = weights + fixed
    assert st_.decode_step_seconds(1, 0) == pytest.approx(expected, rel=1e-12)
    # With 1000 cached tokens: + 1000 x 524,288 bytes of KV.
    expected_kv = weights + 1000 * 524_288 / (2000e9 * 0.5) + fixed
    assert st_.decode_step_seconds(1, 1000) == pytest.approx(expected_kv, rel=1e-12)


def test_step_overhead_grows_with_layers():
    g = make_gpu()
    cal = unit_cal(bw=0.5, overhead=0.001, layer=20e-6)
    shallow = perf.step_times(make_llm(), g, precision="fp16", calibration=cal)
    deep = perf.step_times(make_llm(n_layers=64, total_params_b=13.22, active_params_b=13.22),
                           g, precision="fp16", calibration=cal)
    assert shallow.step_overhead_s == pytest.approx(0.001 + 32 * 20e-6)
    assert deep.step_overhead_s == pytest.approx(0.001 + 64 * 20e-6)
    # Twice the layers at about twice the bytes: the step more than doubles its byte time
    # by the 32 extra layers' fixed cost.
    bytes_deep = 13.22e9 * 2 - 32000 * 4096 * 2
    assert deep.decode_step_seconds(1, 0) == pytest.approx(
        bytes_deep / (2000e9 * 0.5) * math.sqrt(1 + 0.004**2) + 0.001 + 64 * 20e-6, rel=1e-12)


def moe_twin():
    """A MoE model with the dense test model's active shapes: 8 experts of half the MLP
    width, top-2, so a token runs through exactly as many weights as in ``make_llm()``."""
    dense_mlp = 3 * 4096 * 11008 * 32
    experts = 3 * 4096 * 5504 * 8 * 32  # = 4 x dense_mlp
    return make_llm(id="test-moe", total_params_b=(6.74e9 - dense_mlp + experts) / 1e9,
                    n_experts=8, n_experts_active=2, n_shared_experts=0,
                    moe_intermediate_size=5504, n_dense_layers=0)


def test_moe_routed_expert_parameters_from_layer_shapes():
    assert features.routed_expert_params(moe_twin()) == 3 * 4096 * 5504 * 8 * 32
    assert features.routed_expert_params(catalog.llm("mixtral-8x7b")) == 3 * 4096 * 14336 * 8 * 32
    # DeepSeek-V3: 256 routed experts of width 2048 in 61 - 3 dense = 58 layers.
    assert features.routed_expert_params(catalog.llm("deepseek-v3")) == 3 * 7168 * 2048 * 256 * 58
    # Expert visits: MoE layers x (top-k + shared).
    assert perf.moe_expert_visits(catalog.llm("deepseek-v3")) == 58 * (8 + 1)
    assert perf.moe_expert_visits(catalog.llm("gpt-oss-120b")) == 36 * 4
    assert perf.moe_expert_visits(make_llm()) == 0


def test_moe_batch1_step_slower_than_dense_of_same_active_size_by_hand():
    g = make_gpu()
    cal = unit_cal(bw=0.5, overhead=0.001, layer=20e-6, moe_layer_overhead_s=50e-6)
    dense = perf.step_times(make_llm(), g, precision="fp16", calibration=cal)
    moe = perf.step_times(moe_twin(), g, precision="fp16", calibration=cal)
    # Same bytes and FLOPs per token at batch 1 (2 of 8 half-width experts = the dense MLP);
    # the MoE pays 50 us more for each of its 32 routed-MoE layers, whatever the engine.
    extra = 50e-6 * 32
    other = perf.step_times(moe_twin(), g, precision="fp16", engine="vllm",
                            calibration=unit_cal(bw=0.5, overhead=0.001, layer=80e-6,
                                                 moe_layer_overhead_s=50e-6))
    assert other.step_overhead_s == pytest.approx(0.001 + 80e-6 * 32 + extra, rel=1e-12)
    assert moe.step_overhead_s == pytest.approx(dense.step_overhead_s + extra, rel=1e-12)
    # The products differ only by the routed experts' whole row tiles, which add arithmetic
    # that the smooth roofline charges a little of (under 0.5 %).
    dense_products = dense.decode_step_seconds(1, 0) - dense.step_overhead_s
    moe_products = moe.decode_step_seconds(1, 0) - moe.step_overhead_s
    assert dense_products <= moe_products <= dense_products * 1.005
    assert moe.decode_step_seconds(1, 0) > dense.decode_step_seconds(1, 0)


def test_mla_layers_pay_their_own_fixed_cost_by_hand():
    # DeepSeek-V3: 61 layers, all multi-head latent attention, 58 of them routed MoE.
    g = catalog.gpu("h200-sxm")
    base = dict(bw=0.5, overhead=0.001, layer=20e-6, moe_layer_overhead_s=50e-6)
    plain = perf.step_times("deepseek-v3", g, n_gpus=8, calibration=unit_cal(**base))
    mla = perf.step_times("deepseek-v3", g, n_gpus=8,
                          calibration=unit_cal(**base, mla_layer_overhead_s=40e-6))
    assert plain.step_overhead_s == pytest.approx(0.001 + 20e-6 * 61 + 50e-6 * 58, rel=1e-12)
    assert mla.step_overhead_s == pytest.approx(plain.step_overhead_s + 40e-6 * 61, rel=1e-12)
    assert mla.decode_step_seconds(4, 1000) == pytest.approx(
        plain.decode_step_seconds(4, 1000) + 40e-6 * 61, rel=1e-9)
    # Grouped-query attention models carry no MLA layer: the same calibration leaves them alone.
    gqa = [perf.step_times("llama-3.1-70b", g, n_gpus=8, calibration=unit_cal(**base, **extra))
           for extra in ({}, {"mla_layer_overhead_s": 40e-6})]
    assert gqa[0].step_overhead_s == gqa[1].step_overhead_s


def test_mla_layer_cost_on_amd_takes_its_factor_by_hand():
    base = dict(bw=0.5, overhead=0.001, layer=20e-6, moe_layer_overhead_s=50e-6,
                mla_layer_overhead_s=40e-6)
    cal = unit_cal(**base, mla_layer_overhead_amd_factor=2.5)
    assert cal.mla_layer_overhead_on("amd") == pytest.approx(100e-6, rel=1e-12)
    assert cal.mla_layer_overhead_on("hbm") == pytest.approx(40e-6, rel=1e-12)
    # DeepSeek-V3 on 8 MI300X: 61 MLA layers, each 40 us x (2.5 - 1) = 60 us dearer.
    amd = [perf.step_times("deepseek-v3", "mi300x", n_gpus=8, calibration=c)
           for c in (unit_cal(**base), cal)]
    assert amd[1].step_overhead_s == pytest.approx(amd[0].step_overhead_s + 60e-6 * 61, rel=1e-12)
    # NVIDIA parts and grouped-query attention models are left alone.
    for model, gpu in (("deepseek-v3", "h200-sxm"), ("llama-3.1-70b", "mi300x")):
        pair = [perf.step_times(model, gpu, n_gpus=8, calibration=c)
                for c in (unit_cal(**base), cal)]
        assert pair[0].step_overhead_s == pair[1].step_overhead_s
    # sweep reads the same per-GPU cost as step_times
    df = perf.sweep("deepseek-v3", ["h200-sxm", "mi300x"], precisions="fp8", n_gpus=8,
                    batch_sizes=[1], input_tokens=128, output_tokens=2, calibration=cal)
    for gpu, row in zip(("h200-sxm", "mi300x"), df.itertuples()):
        one = perf.estimate("deepseek-v3", gpu, n_gpus=8, precision="fp8", batch_size=1,
                            input_tokens=128, output_tokens=2, calibration=cal)
        assert row.tpot_s == pytest.approx(one.tpot_s, rel=1e-9)


def test_mla_layer_cost_follows_its_trend_over_measurement_dates_by_hand():
    assert fit._decimal_years(pd.Series(["2000-01-01", "2026-07-02"])).tolist() == pytest.approx(
        [2000.0, 2000.0 + 9679 / 365.25])
    row = {"engine": "sglang", "gpu_id": "h200-sxm", "n_gpus": 8, "model_id": "deepseek-r1",
           "precision": "fp8", "batch_size": "1", "input_tokens": 1000, "output_tokens": 200,
           "metric": "tpot_s", "value": 0.02, "source": "s"}
    rows = pd.DataFrame([{**row, "id": "old", "as_of": "2025-03-18"},
                         {**row, "id": "new", "as_of": "2026-03-18"},
                         {**row, "id": "undated", "as_of": None, "gpu_id": "mi300x"}])
    design = fit._Design(fit._table(rows))
    assert design.mla_date == "2026-03-18"
    assert design.years_since_reference.tolist() == pytest.approx([-365 / 365.25, 0.0, 0.0])
    names = design.layout()
    assert {"mla_layer", "mla_trend", "mla_amd"} <= set(names)
    centre, _ = design.prior(names)
    p = dict(zip(names, centre))
    p.update(mla_layer=math.log(50e-6), mla_trend=-1.0, mla_amd=math.log(2.0))
    theta = np.array([p[n] for n in names])
    ovh = design.factor_arrays(theta, names)["ovh"]
    base = design.factor_arrays(np.array([p[n] if n != "mla_layer" else -50.0 for n in names]),
                                names)["ovh"]
    # a year before the newest date: e times dearer; undated rows count as of that date
    # (the MI300X one pays the AMD factor 2)
    assert (ovh - base).tolist() == pytest.approx(
        [61 * 50e-6 * math.exp(365 / 365.25), 61 * 50e-6, 61 * 100e-6], rel=1e-9)


def test_engine_fixed_costs_follow_their_trend_over_measurement_dates_by_hand():
    row = {"engine": "vllm", "gpu_id": "h100-sxm", "n_gpus": 1, "model_id": "llama-3.1-8b",
           "precision": "bf16", "batch_size": "1", "input_tokens": 1000, "output_tokens": 200,
           "metric": "tpot_s", "value": 0.01, "source": "s"}
    dates = ["2024-03-18"] * 5 + ["2025-03-18"] * 4 + ["2025-03-19"]
    rows = pd.DataFrame([{**row, "id": f"r{k}", "as_of": d} for k, d in enumerate(dates)]
                        + [{**row, "id": "undated", "as_of": None}])
    design = fit._Design(fit._table(rows))
    assert design.engine_date == {"vllm": "2025-03-19"}
    assert design.years_since_engine_date.tolist() == pytest.approx(
        [-366 / 365.25] * 5 + [-1 / 365.25] * 4 + [0.0, 0.0])
    names = design.layout()
    assert "vllm:trend" in names
    # ten dated rows over a year identify a trend; nine, or a span under a year, do not
    assert "vllm:trend" not in design.layout(np.arange(11) != 0)
    assert "vllm:trend" not in design.layout(np.arange(11) >= 5)
    centre, _ = design.prior(names)
    p = dict(zip(names, centre))
    p.update({"lo": math.log(100e-6), "ll": math.log(20e-6), "vllm:trend": -0.5})
    ovh = design.factor_arrays(np.array([p[n] for n in names]), names)["ovh"]
    # 32 layers; a year and a day before the newest date the fixed costs were e^(0.5 x 1.002)
    # times higher; undated rows count as of that date
    now = 100e-6 + 32 * 20e-6
    assert ovh[0] == pytest.approx(now * math.exp(0.5 * 366 / 365.25), rel=1e-9)
    assert ovh[-2:].tolist() == pytest.approx([now, now], rel=1e-9)


def test_calibration_as_of_moves_the_dated_costs_by_hand():
    data = {"engines": {"vllm": {"bandwidth_efficiency": 0.8, "compute_efficiency": 0.7,
                                 "step_overhead_s": 2e-4, "layer_overhead_s": 3e-5,
                                 "overhead_log_change_per_year": -0.5,
                                 "overhead_date": "2026-01-01"},
                        "sglang": {"bandwidth_efficiency": 0.8, "compute_efficiency": 0.7,
                                   "step_overhead_s": 2e-4, "layer_overhead_s": 3e-5}},
            "mla_layer_overhead_s": 6e-5, "mla_layer_overhead_log_change_per_year": -1.0,
            "mla_layer_overhead_date": "2026-01-01"}
    moved = perf.calibration_as_of(data, "2025-01-01").data
    year = 365 / 365.25
    assert moved["engines"]["vllm"]["step_overhead_s"] == pytest.approx(2e-4 * math.exp(0.5 * year))
    assert moved["engines"]["vllm"]["layer_overhead_s"] == pytest.approx(3e-5 * math.exp(0.5 * year))
    assert moved["engines"]["vllm"]["overhead_date"] == "2025-01-01"
    assert moved["engines"]["sglang"] == data["engines"]["sglang"]  # no date, no trend
    assert moved["mla_layer_overhead_s"] == pytest.approx(6e-5 * math.exp(year))
    assert data["engines"]["vllm"]["step_overhead_s"] == 2e-4  # the input is left as it was
    with pytest.raises(HwcostError, match="date must be a date"):
        perf.calibration_as_of(data, "last spring")


def test_validate_reads_a_row_at_its_own_date_like_estimate_with_calibration_as_of():
    rows = catalog.benchmarks()
    row = rows[rows["id"] == "vllm-qwen-a100-qwen2.5-14b-bf16-tp1-bs1-1-2048"]
    stored = perf.stored_calibration().data
    assert str(row["as_of"].iloc[0]) < stored["engines"]["vllm"]["overhead_date"]
    at_row = perf.calibration_as_of(None, row["as_of"].iloc[0])
    est = perf.estimate("qwen2.5-14b", "a100-80gb-sxm", engine="vllm", input_tokens=1,
                        output_tokens=2048, calibration=at_row)
    assert fit.validate(row)["predicted"].iloc[0] == pytest.approx(est.output_tokens_per_s, rel=1e-9)
    today = perf.estimate("qwen2.5-14b", "a100-80gb-sxm", engine="vllm", input_tokens=1,
                          output_tokens=2048)
    trend = stored["engines"]["vllm"]["overhead_log_change_per_year"]
    # an older run paid more fixed cost where the engine's costs fell since (and less where
    # they grew)
    assert (est.output_tokens_per_s - today.output_tokens_per_s) * trend > 0


def test_moe_at_large_batch_reads_all_experts_by_hand():
    g = make_gpu()
    cal = unit_cal(bw=0.5, comp=0.5)
    moe = perf.step_times(moe_twin(), g, precision="fp16", calibration=cal)
    experts = 3 * 4096 * 5504 * 8 * 32 * 2  # bytes of all routed experts
    emb = 32000 * 4096 * 2
    fixed = perf.weights_bytes(moe_twin(), "fp16") - emb - experts  # without the input table
    mem1, _, _ = core.decode_step_terms(moe._f, 1.0, 0.0)
    mem_big, _, _ = core.decode_step_terms(moe._f, 4096.0, 0.0)
    assert mem1 == pytest.approx((fixed + experts / 4) / (2000e9 * 0.5), rel=1e-12)
    # 4096 tokens x top-2 of 8: every expert is touched, (1 - (3/4)^4096) = 1.
    assert mem_big == pytest.approx((fixed + experts) / (2000e9 * 0.5), rel=1e-12)


def test_gpt_oss_int4_keeps_attention_and_router_16_bit():
    m = catalog.llm("gpt-oss-120b")
    experts = 3 * 2880 * 2880 * 128 * 36
    emb = 2 * 201088 * 2880
    other = 116.8e9 - emb - experts
    expected = experts * (4 + 20 / 128) / 8 + other * 2 + emb * 2
    assert perf.weights_bytes(m, "int4") == pytest.approx(expected, rel=1e-12)
    # A checkpoint without the expert-only native format quantizes every linear layer.
    plain = dataclasses.replace(m, native_precision="bf16")
    assert perf.weights_bytes(plain, "int4") == pytest.approx(
        (experts + other) * (4 + 20 / 128) / 8 + emb * 2, rel=1e-12)


def test_smooth_roofline_by_hand():
    # At the ridge sqrt(2) x either time; 3 ms against 4 ms: 5 ms; far from it the larger.
    assert float(core.roofline_seconds(2.0, 2.0)) == pytest.approx(2.0 * math.sqrt(2.0), rel=1e-12)
    assert float(core.roofline_seconds(3e-3, 4e-3)) == pytest.approx(5e-3, rel=1e-12)
    assert float(core.roofline_seconds(4e-3, 3e-3)) == pytest.approx(5e-3, rel=1e-12)
    assert float(core.roofline_seconds(1.0, 0.1)) == pytest.approx(1.0, rel=5e-3)
    assert float(core.roofline_seconds(0.0, 0.0)) == 0.0
    assert float(core.roofline_seconds(0.0, 7.0)) == 7.0
    out = core.roofline_seconds(np.array([1.0, 6.0]), np.array([1.0, 8.0]))
    assert out.tolist() == pytest.approx([math.sqrt(2.0), 10.0])


def test_long_prefill_is_compute_bound_by_hand():
    g = make_gpu()
    m = make_llm()
    cal = unit_cal(bw=0.5, comp=0.5, overhead=0.0)
    st_ = perf.step_times(m, g, precision="fp16", engine="vllm", calibration=cal)
    t = 4096
    linear = 2 * (6.74e9 - 32000 * 4096) * t
    attention = 4 * 32 * 128 * 32 * t * (t + 1) / 2
    assert linear > 12 * attention  # the products dominate (5.4e13 against 4.4e12 FLOP)
    weights = 2 * (6.74e9 - 32000 * 4096) / 1e12  # 13.2 ms to read them once at 1 TB/s
    # The products meet the weight reads on the smooth roofline; the attention is its own kernel.
    want = math.hypot(linear / (500e12 * 0.5), weights) + attention / (500e12 * 0.5)
    assert st_.prefill_seconds(t) == pytest.approx(want, rel=1e-12)
    # Prefill GEMMs run at their own efficiency: a logit shift of ln 3 turns 0.5 into 0.75,
    # while batched decode keeps 0.5.
    shifted = unit_cal(bw=0.5, comp=0.5, overhead=0.0, prefill_compute_logit_shift=math.log(3.0))
    st2 = perf.step_times(m, g, precision="fp16", engine="vllm", calibration=shifted)
    want2 = math.hypot(linear / (500e12 * 0.75), weights) + attention / (500e12 * 0.75)
    assert st2.prefill_seconds(t) == pytest.approx(want2, rel=1e-12)
    _, comp, _ = core.decode_step_terms(st2._f, 512.0, 0.0)
    assert comp == pytest.approx(2 * (6.74e9 - 32000 * 4096) * 512 / (500e12 * 0.5), rel=1e-12)


def test_tensor_parallel_allreduce_cost_by_hand():
    g = make_gpu()
    m = make_llm()
    cal = unit_cal(bw=0.5, overhead=0.0, allreduce_latency_s=10e-6)
    one = perf.step_times(m, g, precision="fp16", calibration=cal)
    two = perf.step_times(m, g, precision="fp16", n_gpus=2, calibration=cal)
    link = 800e9 / 2 * perf.LINK_EFFICIENCY  # per direction, achieved
    msg = 4096 * 2  # one token x hidden x 2 bytes
    comm = 2 * 32 * (10e-6 + 2 * (2 - 1) / 2 * msg / link)
    assert two.decode_step_seconds(1, 0) == pytest.approx(one.decode_step_seconds(1, 0) / 2 + comm)
    # Over PCIe the all-reduce latency is the fixed PCIe figure.
    pcie = perf.step_times(m, make_gpu(interconnect="pcie5", interconnect_gbps=128.0),
                           precision="fp16", n_gpus=2, calibration=cal)
    comm_p = 2 * 32 * (perf.PCIE_ALLREDUCE_LATENCY_S + msg / (64e9 * perf.LINK_EFFICIENCY))
    assert pcie.decode_step_seconds(1, 0) == pytest.approx(one.decode_step_seconds(1, 0) / 2 + comm_p)


def test_weight_only_factors_touch_the_weights_not_the_kv_cache_by_hand():
    g = make_gpu()
    m = make_llm()
    plain = unit_cal(bw=0.5, comp=0.5)
    wo = unit_cal(bw=0.5, comp=0.5, weight_only_efficiency_factor=0.5,
                  weight_only_bandwidth_factor=0.8)
    a = perf.step_times(m, g, precision="int8", calibration=plain)
    b = perf.step_times(m, g, precision="int8", calibration=wo)
    m0, mf, ms, c0, *_ = core.decode_coefficients(a._f, 1.0)
    # the weights stream at 0.8 and their products run at 0.5 of the plain efficiencies
    assert b.decode_step_seconds(1, 0) == pytest.approx(math.hypot(m0 / 0.8, c0 / 0.5), rel=1e-12)
    # the KV cache (memory-bound at batch 1) is read at the plain streaming efficiency
    kv = 1000 * 2 * 32 * 32 * 128 * 2 / (2000e9 * 0.5)
    for steps in (a, b):
        assert steps.decode_step_seconds(1, 2000) - steps.decode_step_seconds(1, 1000) == pytest.approx(kv, rel=1e-9)
    # a prefill's products too (one pass of 512 tokens): weights at 0.8, math at 0.5 x 0.5
    _, _, lin, _, _ = core.prefill_terms(a._f, 1.0, 512.0, 0.0)
    w = core.weights_read_per_gpu(a._f, 512.0)
    assert 512 <= a._f["chunk"]
    assert b.prefill_seconds(512) - a.prefill_seconds(512) == pytest.approx(
        math.hypot(w / (2000e9 * 0.5 * 0.8), lin / (500e12 * 0.25))
        - math.hypot(w / (2000e9 * 0.5), lin / (500e12 * 0.5)), rel=1e-9)
    # older calibrations without the bandwidth factor apply the compute one to the weights
    old = unit_cal(bw=0.5, comp=0.5, weight_only_efficiency_factor=0.5)
    assert old.weight_only_bandwidth_factor == 0.5


def test_fp4_and_fp8_compute_factors_touch_their_own_products_by_hand():
    g = make_gpu(fp4_tflops=2000.0)
    m = make_llm()
    cal = unit_cal(bw=0.5, comp=0.5, fp8_compute_factor=0.8, fp4_compute_factor=0.6)
    got = {p: perf.step_times(m, g, precision=p, calibration=cal).compute_efficiency
           for p in ("fp16", "fp8", "fp4")}
    assert got == pytest.approx({"fp16": 0.5, "fp8": 0.4, "fp4": 0.3}, rel=1e-12)
    # a prefill's products (weights' and attention's) run at 0.3 instead of 0.5; one pass of
    # 512 tokens, no overhead, one GPU: weights and KV streams are unchanged
    a = perf.step_times(m, g, precision="fp4", calibration=unit_cal(bw=0.5, comp=0.5))
    b = perf.step_times(m, g, precision="fp4", calibration=cal)
    kv, _, lin, attn, _ = core.prefill_terms(a._f, 1.0, 512.0, 0.0)
    w = core.weights_read_per_gpu(a._f, 512.0)
    assert 512 <= a._f["chunk"] and a._f["attn_rate"] == pytest.approx(0.5)  # FP8 cache

    def by_hand(eta):
        return (math.hypot(w / (2000e9 * 0.5), lin / (2000e12 * eta))
                + max(kv / (2000e9 * 0.5), attn / (1000e12 * eta)))

    assert b.prefill_seconds(512) - a.prefill_seconds(512) == pytest.approx(
        by_hand(0.3) - by_hand(0.5), rel=1e-9)
    # calibrations written before the FP4 factor left FP4 products at the plain efficiency
    assert unit_cal().fp4_compute_factor == 1.0


def test_harmonic_numbers_and_synchronization_slowdown_by_hand():
    assert features.harmonic_number([0, 1, 2, 4, 8]).tolist() == pytest.approx(
        [0.0, 1.0, 1.5, 25 / 12, 761 / 280], rel=1e-12)
    # 1 + jitter x (H_n - 1): 8 GPUs at 10 % -> 1 + 0.1 x 481/280
    got = features.synchronization_slowdown([1, 2, 8], 0.1)
    assert got.tolist() == pytest.approx([1.0, 1.05, 1 + 0.1 * 481 / 280], rel=1e-12)
    # layer split engines do not meet per layer; no jitter, no slowdown
    assert features.synchronization_slowdown(8, 0.1, tensor=False) == 1.0
    assert features.synchronization_slowdown(8, 0.0) == 1.0
    with pytest.raises(ValueError, match="whole numbers >= 0"):
        features.harmonic_number(-1)


def test_tensor_parallel_gpus_wait_for_the_latest_by_hand():
    g = make_gpu()
    m = make_llm()
    plain = unit_cal(bw=0.5, overhead=0.0, allreduce_latency_s=10e-6)
    jittery = unit_cal(bw=0.5, overhead=0.0, allreduce_latency_s=10e-6, sync_jitter=0.2)
    link = 800e9 / 2 * perf.LINK_EFFICIENCY
    for n, slow in ((1, 1.0), (2, 1.1), (4, 1 + 0.2 * 13 / 12)):
        a = perf.step_times(m, g, precision="fp16", n_gpus=n, calibration=plain)
        b = perf.step_times(m, g, precision="fp16", n_gpus=n, calibration=jittery)
        # one token's all-reduces (decode) and 2048 tokens' (prefill), 2 per layer
        ring = 0.0 if n == 1 else 2 * (n - 1) / n
        comm1 = 0.0 if n == 1 else 2 * 32 * (10e-6 + ring * 4096 * 2 / link)
        comm_p = 0.0 if n == 1 else 2 * 32 * (10e-6 + ring * 2048 * 4096 * 2 / link)
        # memory and compute time stretch by the slowdown; the all-reduces do not
        assert b.decode_step_seconds(1, 0) - comm1 == pytest.approx(
            slow * (a.decode_step_seconds(1, 0) - comm1), rel=1e-12)
        assert b.prefill_seconds(2048) - comm_p == pytest.approx(
            slow * (a.prefill_seconds(2048) - comm_p), rel=1e-12)
    # the sweep stretches each GPU count by its own slowdown
    sw = perf.sweep([m], [g], precisions=("fp16",), n_gpus=(1, 2, 4), batch_sizes=(1,),
                    input_tokens=(512,), output_tokens=(64,), calibration=jittery)
    for n in (1, 2, 4):
        e = perf.estimate(m, g, n_gpus=n, precision="fp16", batch_size=1, input_tokens=512,
                          output_tokens=64, calibration=jittery)
        row = sw[sw.n_gpus == n].iloc[0]
        assert row.tpot_s == pytest.approx(e.tpot_s, rel=1e-9)


def test_public_link_and_comm_seconds_by_hand():
    g = make_gpu()  # NVLink, 800 GB/s both directions
    m = make_llm()
    cal = unit_cal(bw=0.5, overhead=0.0, allreduce_latency_s=10e-6)
    ln = perf.link(g, 2, calibration=cal)
    # A datasheet-basis calibration sends every size at one rate.
    assert ln == perf.Link(kind="nvlink", link_gbps=400 * perf.LINK_EFFICIENCY, latency_s=10e-6,
                           midsize_link_gbps=400 * perf.LINK_EFFICIENCY)
    bridge = make_gpu(interconnect="nvlink-bridge", interconnect_gbps=112.5, pcie_gen=4)
    assert perf.link(bridge, 2, calibration=cal).kind == "nvlink"
    four = perf.link(bridge, 4, calibration=cal)  # a 2-GPU bridge cannot join 4: PCIe 4.0
    assert four == perf.Link(kind="pcie", link_gbps=32 * perf.LINK_EFFICIENCY,
                             latency_s=perf.PCIE_ALLREDUCE_LATENCY_S,
                             midsize_link_gbps=32 * perf.LINK_EFFICIENCY)
    two = perf.step_times(m, g, precision="fp16", n_gpus=2, calibration=cal)
    msg = 16 * 4096 * 2  # 16 tokens x hidden x 2 bytes
    want = 2 * 32 * (10e-6 + 2 * (2 - 1) / 2 * msg / (ln.link_gbps * 1e9))
    assert two.comm_seconds(16) == pytest.approx(want)
    assert np.allclose(two.comm_seconds(np.array([16, 16])), want)
    # It is the communication term inside a decode step.
    one = perf.step_times(m, g, precision="fp16", calibration=cal)
    assert one.comm_seconds(16) == 0.0
    assert two.decode_step_seconds(16, 0) == pytest.approx(one.decode_step_seconds(16, 0) / 2
                                                           + two.comm_seconds(16))
    with pytest.raises(ValueError, match="tokens"):
        two.comm_seconds(0)
    with pytest.raises(ValueError, match="n_gpus"):
        perf.link(g, 0)


def test_stage_overhead_splits_the_per_layer_part_by_hand():
    cal = unit_cal(overhead=1e-3, layer=2e-5)
    st = perf.step_times(make_llm(), make_gpu(), precision="fp16", calibration=cal)
    layer_part = st.step_overhead_s - 1e-3
    assert layer_part > 0
    assert st.stage_overhead_seconds(1) == pytest.approx(st.step_overhead_s)
    assert st.stage_overhead_seconds(4) == pytest.approx(1e-3 + layer_part / 4)
    with pytest.raises(ValueError, match="n_stages"):
        st.stage_overhead_seconds(0)


def test_layer_split_divides_memory_not_time():
    g = make_gpu(interconnect="pcie4", interconnect_gbps=64.0)
    m = make_llm()
    cal = unit_cal()
    one = perf.estimate(m, g, precision="fp16", engine="llama.cpp", calibration=cal)
    two = perf.estimate(m, g, precision="fp16", engine="llama.cpp", n_gpus=2, calibration=cal)
    assert two.memory_per_gpu_gb < one.memory_per_gpu_gb
    assert two.tpot_s >= one.tpot_s
    assert perf.estimate(m, g, precision="fp16", engine="llama.cpp", n_gpus=3, calibration=cal).fits


def test_consumer_fp16_accumulate_doubles_llama_cpp_rate():
    g = catalog.gpu("rtx-4090")
    assert perf.ridge_point(g, "fp16", engine="llama.cpp") == pytest.approx(
        2 * perf.ridge_point(g, "fp16"))
    assert perf.ridge_point("h100-sxm", "fp16", engine="llama.cpp") == pytest.approx(
        perf.ridge_point("h100-sxm", "fp16"))


def test_roofline_helpers():
    assert perf.ridge_point("h100-sxm", "bf16") == pytest.approx(989.4e12 / 3350e9)
    # Dense bf16 at batch 1: 2 FLOPs per 2-byte weight.
    assert perf.arithmetic_intensity(make_llm(), "fp16", 1) == pytest.approx(1.0)
    assert perf.arithmetic_intensity(make_llm(), "fp16", 64) > perf.arithmetic_intensity(make_llm(), "fp16", 8)
    b = perf.ridge_batch_size("llama-3.1-8b", "h100-sxm", "bf16")
    assert b is not None and 50 < b < 2000
    st_ = perf.step_times("llama-3.1-8b", "h100-sxm")
    mem, comp, _ = core.decode_step_terms(st_._f, np.array([b - 1.0, b]), 0.0)
    assert comp[1] >= mem[1] and comp[0] < mem[0]
    assert perf.ridge_batch_size("llama-2-7b", "h100-sxm", "bf16", context_tokens=4000) is None


# ------------------------------------------------------------------------------------------
# Estimate
# ------------------------------------------------------------------------------------------
def test_estimate_definitions_are_consistent_with_step_times():
    kw = dict(precision="bf16", batch_size=8, input_tokens=300, output_tokens=50)
    e = perf.estimate("llama-3.1-8b", "h100-sxm", **kw)
    st_ = perf.step_times("llama-3.1-8b", "h100-sxm", precision="bf16")
    assert e.fits and e.bound == "memory"
    assert e.prefill_s == pytest.approx(st_.prefill_seconds(8 * 300, 0, 8))
    # the prefill pass gives the first token; the other 49 come from decode steps over
    # caches of 300 .. 348 tokens
    steps = [st_.decode_step_seconds(8, 8 * (300 + k)) for k in range(0, 49)]
    assert e.ttft_s == pytest.approx(e.prefill_s, rel=1e-12)
    assert e.decode_s == pytest.approx(sum(steps), rel=1e-10)
    assert e.tpot_s == pytest.approx(np.mean(steps))
    assert e.tokens_per_s_per_request == pytest.approx(1 / e.tpot_s)
    assert e.output_tokens_per_s == pytest.approx(8 * 50 / (e.prefill_s + e.decode_s))
    assert e.e2e_s == pytest.approx(e.prefill_s + e.decode_s)
    assert 0 < e.bandwidth_efficiency <= 1 and 0 < e.compute_efficiency <= 1
    lo, hi = e.error_band
    assert lo <= 1 <= hi


@pytest.mark.parametrize("model, kw", [
    ("gemma-2-27b", dict(input_tokens=4000, output_tokens=300, flash_attention=False)),
    ("mixtral-8x7b", dict(input_tokens=100, output_tokens=40, batch_size=16, n_gpus=2)),
    ("gpt-oss-20b", dict(input_tokens=50, output_tokens=200, precision="int4")),
])
def test_closed_form_decode_sum_equals_step_by_step(model, kw):
    kw = dict(kw)
    b = kw.pop("batch_size", 1)
    n = kw.pop("n_gpus", 1)
    prec = kw.pop("precision", "bf16")
    flash = kw.pop("flash_attention", True)
    e = perf.estimate(model, "h200-sxm", batch_size=b, n_gpus=n, precision=prec,
                      flash_attention=flash, **kw)
    st_ = perf.step_times(model, "h200-sxm", n_gpus=n, precision=prec, flash_attention=flash)
    i, o = kw["input_tokens"], kw["output_tokens"]
    steps = st_.decode_step_seconds(np.full(o - 1, b), b * (i + np.arange(0, o - 1)))
    assert e.fits
    assert e.decode_s == pytest.approx(float(np.sum(steps)), rel=1e-10)


def test_output_tokens_1_is_the_prefill_alone():
    # One output token comes out of the prefill pass: no decode step; TPOT is the step a
    # second token would take.
    e = perf.estimate("llama-3.1-8b", "h100-sxm", output_tokens=1)
    st_ = perf.step_times("llama-3.1-8b", "h100-sxm")
    assert e.decode_s == 0.0 and e.ttft_s == e.prefill_s == e.e2e_s
    assert e.tpot_s == pytest.approx(st_.decode_step_seconds(1, 512)) and e.tpot_s > 0
    assert e.output_tokens_per_s == pytest.approx(1 / e.ttft_s)


def test_batch_max_uses_memory_and_engine_cap():
    e = perf.estimate("llama-3.1-8b", "l40s", engine="vllm", batch_size="max",
                      input_tokens=128, output_tokens=128)
    assert e.fits and e.batch_size == e.max_batch_size == 256  # vLLM max_num_seqs
    # On GPUs of 70 GiB or more (not A100s) vLLM's default is 1024 sequences.
    big = perf.estimate("llama-3.1-8b", "h100-sxm", engine="vllm", batch_size="max",
                        input_tokens=128, output_tokens=128)
    assert big.fits and big.batch_size == big.max_batch_size == 1024
    e2 = perf.estimate("llama-3.1-70b", "h100-sxm", n_gpus=4, engine="vllm", batch_size="max",
                       input_tokens=8000, output_tokens=2000)
    assert e2.fits and 1 <= e2.batch_size == e2.max_batch_size < 256
    over = perf.estimate("llama-3.1-70b", "h100-sxm", n_gpus=4, engine="vllm",
                         batch_size=e2.max_batch_size + 1, input_tokens=8000, output_tokens=2000)
    assert not over.fits


def test_not_fitting_gives_reason_and_suggestion_never_nan():
    e = perf.estimate("llama-3.1-70b", "h100-sxm", precision="bf16")
    assert not e.fits
    assert "needs" in e.reason and "h100-sxm" in e.reason
    assert e.ttft_s is None and e.tpot_s is None and e.output_tokens_per_s is None
    assert e.bound is None
    for name, value in e.to_dict().items():
        if isinstance(value, float):
            assert math.isfinite(value), name
    n = e.suggested_n_gpus
    assert n is not None and perf.estimate("llama-3.1-70b", "h100-sxm", n_gpus=n).fits
    smaller = [k for k in perf.valid_gpu_counts("llama-3.1-70b") if k < n]
    assert all(not perf.estimate("llama-3.1-70b", "h100-sxm", n_gpus=k).fits for k in smaller)
    assert e.suggested_precision in ("fp8", "int8", "int4")
    assert perf.estimate("llama-3.1-70b", "h100-sxm", precision=e.suggested_precision).fits
    assert str(n) in e.suggestion
    assert perf.min_gpus_to_fit("llama-3.1-70b", "h100-sxm", "bf16") == n


def test_context_window_exceeded():
    e = perf.estimate("llama-2-7b", "h100-sxm", input_tokens=4000, output_tokens=200)
    assert not e.fits and "context window" in e.reason
    assert perf.min_gpus_to_fit("llama-2-7b", "h100-sxm", input_tokens=4000, output_tokens=200) is None


def test_flash_attention_off_costs_memory_and_time_on_long_prompts():
    on = perf.estimate("llama-3.1-8b", "h100-sxm", input_tokens=8000, output_tokens=10)
    off = perf.estimate("llama-3.1-8b", "h100-sxm", input_tokens=8000, output_tokens=10,
                        flash_attention=False)
    assert off.fits and off.prefill_s > on.prefill_s and off.activation_gb > on.activation_gb
    # 32 heads x 32768^2 fp32 scores (137 GB) cannot be materialized on one H100.
    assert not perf.estimate("llama-3.1-8b", "h100-sxm", input_tokens=32768, output_tokens=10,
                             flash_attention=False).fits
    assert perf.estimate("llama-3.1-8b", "h100-sxm", input_tokens=32768, output_tokens=10).fits


def test_kv_head_replication_and_mla_replication():
    e8 = perf.estimate("llama-3.1-70b", "h100-sxm", n_gpus=8, batch_size=4)
    e16 = perf.estimate("llama-3.1-70b", "h100-sxm", n_gpus=16, batch_size=4)
    e4 = perf.estimate("llama-3.1-70b", "h100-sxm", n_gpus=4, batch_size=4)
    assert e4.kv_cache_gb == pytest.approx(e8.kv_cache_gb)
    assert e16.kv_cache_gb == pytest.approx(2 * e8.kv_cache_gb)  # each KV head on 2 GPUs
    d8 = perf.estimate("deepseek-v3", "h200-sxm", n_gpus=8, precision="fp8", batch_size=4)
    d16 = perf.estimate("deepseek-v3", "h200-sxm", n_gpus=16, precision="fp8", batch_size=4)
    assert d16.kv_cache_gb == pytest.approx(2 * d8.kv_cache_gb)  # latent on every GPU


def test_int4_faster_than_bf16_at_batch_1_on_any_gpu():
    a = perf.estimate("llama-3.1-8b", "a100-80gb-sxm", precision="bf16")
    q = perf.estimate("llama-3.1-8b", "a100-80gb-sxm", precision="int4")
    assert q.fits and q.tpot_s < a.tpot_s
    assert q.kv_precision == "bf16"  # weight-only: activations and KV stay 16-bit
    assert perf.estimate("llama-3.1-8b", "h100-sxm", precision="fp8").kv_precision == "fp8"


def test_sweep_matches_estimate():
    df = perf.sweep(["llama-3.1-8b", "mixtral-8x7b"], ["h100-sxm", "a100-80gb-sxm", "rtx-4090"],
                    precisions=("bf16", "fp8", "int4"), n_gpus=(1, 2, 3), batch_sizes=(1, 32, "max"),
                    input_tokens=(256, 2000), output_tokens=(1, 300), engine="vllm")
    assert len(df) == 2 * 3 * 3 * 3 * 3 * 2 * 2
    assert not df.loc[df.fits, ["ttft_s", "tpot_s", "output_tokens_per_s"]].isna().any().any()
    assert df.loc[~df.fits, "tpot_s"].isna().all()
    fp8_a100 = df[(df.gpu_id == "a100-80gb-sxm") & (df.precision == "fp8")]
    assert (~fp8_a100.fits).all() and (fp8_a100.reason == "precision not supported on this GPU/engine").all()
    three = df[(df.n_gpus == 3) & (df.reason != "precision not supported on this GPU/engine")]
    assert len(three) and (three.reason == "n_gpus not allowed by the model's heads").all()
    sample = df[df.fits].iloc[::7]
    assert len(sample) > 10
    for r in sample.itertuples():
        bs = r.batch_size
        e = perf.estimate(r.model_id, r.gpu_id, n_gpus=r.n_gpus, precision=r.precision,
                          batch_size=bs, input_tokens=r.input_tokens,
                          output_tokens=r.output_tokens, engine="vllm")
        assert e.fits
        assert r.ttft_s == pytest.approx(e.ttft_s, rel=1e-9)
        assert r.tpot_s == pytest.approx(e.tpot_s, rel=1e-9)
        assert r.output_tokens_per_s == pytest.approx(e.output_tokens_per_s, rel=1e-9)
        assert r.memory_per_gpu_gb == pytest.approx(e.memory_per_gpu_gb, rel=1e-9)
        assert r.kv_cache_gb == pytest.approx(e.kv_cache_gb, rel=1e-9)
        assert r.bound == e.bound
    maxed = df[df.fits & (df.batch_size == df.max_batch_size)]
    assert len(maxed) > 0


def test_sweep_keeps_the_order_of_fixed_and_max_batches():
    # Fixed batches and "max" are evaluated apart (a fixed batch's step costs do not vary with
    # the lengths); the grid must come back in the order asked, as single-batch sweeps give it.
    kw = dict(precisions=("bf16", "fp8"), n_gpus=(1, 2), input_tokens=(256, 4000),
              output_tokens=(1, 300), engine="vllm")
    order = (32, "max", 1, "max")
    df = perf.sweep(["llama-3.1-8b", "mixtral-8x7b"], ["h100-sxm", "l40s"], batch_sizes=order, **kw)
    parts = [perf.sweep(["llama-3.1-8b", "mixtral-8x7b"], ["h100-sxm", "l40s"], batch_sizes=b, **kw)
             for b in order]
    cols = ["model_id", "gpu_id", "precision", "n_gpus"]
    keys = ["input_tokens", "output_tokens"]
    # rows run model, GPU, precision, n, batch, input, output: 4 batches x 4 lengths per block
    block = 4 * len(kw["input_tokens"]) * len(kw["output_tokens"])
    assert len(df) == block * 2 * 2 * 2 * 2
    for k, part in enumerate(parts):
        got = df.iloc[[j for j in range(len(df)) if (j % block) // 4 == k]].reset_index(drop=True)
        pd.testing.assert_frame_equal(got, part.reset_index(drop=True))
        assert got[cols + keys].equals(part[cols + keys])
    second = df.iloc[[j for j in range(len(df)) if (j % block) // 4 == 1]]
    assert second.fits.sum() >= 16
    assert (second[second.fits].batch_size == second[second.fits].max_batch_size).all()


def test_decode_graph_limit_by_engine_release_gpu_memory_and_gpu_count():
    sglang = features.engine_specs()["sglang"]

    def limit(gpu, n, day=None):
        spec = features.engine_as_of(sglang, day) if day else sglang
        return features.decode_graph_max_batch(spec, catalog.gpu(gpu), n)

    # since 2025-09-12, by memory: 80 GiB -> 256 below 4 GPUs, 512 from 4; 141 GB the same;
    # 180 GB and more 512; 48 GB 32 / 160; 24 GB 24 / 80
    assert (limit("h100-sxm", 1), limit("h100-sxm", 4)) == (256, 512)
    assert (limit("h200-sxm", 2), limit("b200", 1), limit("mi300x", 8)) == (256, 512, 512)
    assert (limit("l40s", 1), limit("l40s", 4), limit("rtx-4090", 1), limit("rtx-4090", 4)) == (32, 160, 24, 80)
    # from 2024-12-05 to then: 8 / 80 under 25,000 MiB, else 160; before, 160 everywhere
    assert (limit("rtx-4090", 1, "2025-03-18"), limit("rtx-4090", 4, "2025-03-18")) == (8, 80)
    assert limit("h100-sxm", 1, "2025-09-11") == 160 and limit("h100-sxm", 1, "2025-09-12") == 256
    assert limit("rtx-4090", 1, "2024-09-06") == 160
    # engines that capture every batch they run
    for engine in ("vllm", "tensorrt-llm", "generic"):
        assert features.decode_graph_max_batch(features.engine_specs()[engine], catalog.gpu("h100-sxm"), 1) == math.inf


def test_a_decode_step_past_the_captured_batch_pays_the_eager_fixed_cost():
    # SGLang on one H100: a step of 257 sequences is launched operation by operation, so its
    # fixed cost is an eager pass's (ovh_prefill) instead of a graph replay's (ovh); one of 256
    # replays. The rest of the step is the same affine function of the batch.
    st_ = perf.step_times("llama-3.1-8b", "h100-sxm", engine="sglang")
    f = st_._f
    assert f["graph_max"] == 256 and f["ovh_prefill"] > 5 * f["ovh"]
    m0, mf, ms, c0, cf, cs, sf, ss, fixed = core.decode_coefficients(f, 257.0)
    assert fixed == pytest.approx(f["ovh_prefill"] + float(core.comm_seconds(f, 257.0))
                                  + 257 * f["ovh_seq"], rel=1e-12)
    jump = st_.decode_step_seconds(257, 257 * 1000) - st_.decode_step_seconds(256, 256 * 1000)
    no_jump = st_.decode_step_seconds(256, 256 * 1000) - st_.decode_step_seconds(255, 255 * 1000)
    assert jump - no_jump == pytest.approx(f["ovh_prefill"] - f["ovh"], rel=0.02)
    # the simulator's scalar iteration agrees with the array path on both sides
    for b in (256, 257):
        assert st_.iteration_seconds(0, b, b * 1000) == pytest.approx(
            st_.iteration_seconds(np.array(0.0), np.array(float(b)), np.array(b * 1000.0)), rel=1e-12)
    # vLLM on the same GPU replays every decode batch it runs
    v = perf.step_times("llama-3.1-8b", "h100-sxm", engine="vllm")
    assert math.isinf(v._f["graph_max"])
    assert (v.decode_step_seconds(257, 257 * 1000) - v.decode_step_seconds(256, 256 * 1000)) < 2 * no_jump + 1e-6
    # under attention data parallelism the limit is per rank: 8 ranks of 512 hold 4,096
    f8 = perf.step_times("deepseek-r1", "h200-sxm", n_gpus=8, precision="fp8", engine="sglang",
                         layout="dp-attention+ep")._f
    assert f8["graph_max"] == 512 and f8["dp"] == 8
    assert core.decode_overhead_seconds(f8, 4096.0) == f8["ovh"]
    assert core.decode_overhead_seconds(f8, 4104.0) == f8["ovh_prefill"]


def test_decode_step_paths_agree_with_the_kernel():
    # plain numbers take the scalar path (coefficients kept per batch size), one batch size over
    # an array of contexts keeps its coefficients too; both agree with the kernel's arrays
    cases = [("llama-3.1-8b", "h100-sxm", dict(engine="sglang")),
             ("mixtral-8x7b", "a100-80gb-sxm", dict(n_gpus=2, engine="vllm")),
             ("deepseek-r1", "h200-sxm", dict(n_gpus=8, precision="fp8", engine="sglang",
                                              layout="dp-attention+ep")),
             ("llama-3.1-70b", "l40s", dict(n_gpus=4, flash_attention=False))]
    for model, gpu, kw in cases:
        st_ = perf.step_times(model, gpu, **kw)
        for b in (1, 7, 256, 257, 1000, 4104):
            contexts = np.array([0.0, 100.0, 5000.0, 40000.0]) * b
            kernel = core.decode_step_seconds(st_._f, np.float64(b), contexts / b)
            assert np.allclose(st_.decode_step_seconds(b, contexts), kernel, rtol=1e-12, atol=0)
            for c, k in zip(contexts, kernel):
                assert st_.decode_step_seconds(b, float(c)) == pytest.approx(k, rel=1e-12)
    with pytest.raises(ValueError, match="batch_size"):
        st_.decode_step_seconds(0, 10.0)
    with pytest.raises(ValueError, match="context_tokens"):
        st_.decode_step_seconds(4, -1.0)


def test_iteration_seconds_reads_weights_once():
    st_ = perf.step_times("llama-3.1-8b", "h100-sxm")
    mixed = st_.iteration_seconds(256, 16, 16 * 1000)
    assert mixed < st_.prefill_seconds(256) + st_.decode_step_seconds(16, 16 * 1000)
    assert mixed >= st_.decode_step_seconds(16, 16 * 1000) * 0.999
    assert st_.iteration_seconds(0, 16, 16 * 1000) == pytest.approx(st_.decode_step_seconds(16, 16 * 1000))
    assert st_.kv_capacity_tokens > 100_000
    assert st_.max_batch_size == 256


# ------------------------------------------------------------------------------------------
# Bad input
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kw, match", [
    (dict(precision="fp6"), r"unknown precision 'fp6'; accepted: fp16, bf16, fp8, int8, int4, fp4"),
    (dict(kv_precision="q4"), "unknown kv_precision"),
    (dict(engine="magic"), r"unknown engine 'magic'; accepted: None, vllm"),
    (dict(batch_size=0), "batch_size must be a whole number >= 1"),
    (dict(batch_size="lots"), "batch_size"),
    (dict(batch_size=2.5), "batch_size"),
    (dict(input_tokens=-5), "input_tokens must be a whole number >= 1"),
    (dict(output_tokens=0), "output_tokens"),
    (dict(n_gpus=3), r"n_gpus=3 does not divide the 32 attention heads.*accepted: 1, 2, 4, 8"),
    (dict(n_gpus=0), "n_gpus must be a whole number >= 1"),
])
def test_bad_input_raises_value_error(kw, match):
    with pytest.raises(ValueError, match=match):
        perf.estimate("llama-3.1-8b", "h100-sxm", **kw)


def test_gpu_precision_support():
    with pytest.raises(ValueError, match=r"no fp8 tensor support.*accepted on this GPU"):
        perf.estimate("llama-3.1-8b", "a100-80gb-sxm", precision="fp8")
    assert perf.estimate("llama-3.1-8b", "a100-80gb-sxm", precision="int8").fits
    with pytest.raises(ValueError, match="does not run on AMD"):
        perf.estimate("llama-3.1-8b", "mi300x", engine="tensorrt-llm")
    with pytest.raises(ValueError, match="does not serve 'fp8' weights"):
        perf.estimate("llama-3.1-8b", "rtx-4090", engine="llama.cpp", precision="fp8")
    with pytest.raises(ValueError, match="no bf16 tensor support"):
        perf.estimate("llama-3.1-8b", make_gpu(bf16_tflops=None))


def test_kv_head_rule_for_more_gpus_than_kv_heads():
    # 8 KV heads: 16 GPUs replicate each twice (allowed).
    assert perf.estimate("llama-3.1-70b", "h100-sxm", n_gpus=16).fits
    # Mixtral 8x22B: 48 heads, 8 KV heads. 12 divides the heads but is not a multiple of 8;
    # 6 does not divide the 8 KV heads.
    with pytest.raises(ValueError, match="not a multiple"):
        perf.estimate("mixtral-8x22b", "h100-sxm", n_gpus=12, precision="fp8")
    with pytest.raises(ValueError, match="does not divide the 8 KV heads"):
        perf.estimate("mixtral-8x22b", "h100-sxm", n_gpus=6, precision="fp8")
    assert perf.valid_gpu_counts("mixtral-8x22b", max_gpus=48) == [1, 2, 4, 8, 16, 24, 48]
    # MLA has no KV-head constraint; layer split has none either.
    assert 32 in perf.valid_gpu_counts("deepseek-v3")
    assert 3 in perf.valid_gpu_counts("llama-3.1-8b", engine="llama.cpp")


def test_step_times_rejects_bad_sizes():
    st_ = perf.step_times("llama-3.1-8b", "h100-sxm")
    with pytest.raises(ValueError, match="batch_size"):
        st_.decode_step_seconds(0, 100)
    with pytest.raises(ValueError, match="new_tokens"):
        st_.prefill_seconds(-3)


# ------------------------------------------------------------------------------------------
# Physical invariants (hypothesis)
# ------------------------------------------------------------------------------------------
MODELS = ["llama-3.1-8b", "llama-2-13b", "mixtral-8x7b", "gemma-2-27b", "gpt-oss-20b", "qwen2.5-7b"]
GPUS = ["h100-sxm", "a100-80gb-sxm", "l40s", "rtx-4090", "mi300x", "h200-sxm"]
ENGINES = [None, "vllm", "tensorrt-llm", "llama.cpp", "sglang"]


def _supported(gpu, engine, precision):
    try:
        features.resolve_inputs("llama-3.1-8b", gpu, 1, precision, None, engine)
        return True
    except ValueError:
        return False


@FAST
@given(model=st.sampled_from(MODELS), gpu=st.sampled_from(GPUS),
       precision=st.sampled_from(["bf16", "int4", "fp8"]), engine=st.sampled_from(ENGINES),
       factor=st.floats(1.0, 5.0), batch=st.integers(1, 64),
       i=st.integers(1, 6000), o=st.integers(1, 1500), flash=st.booleans())
def test_more_bandwidth_is_never_slower(model, gpu, precision, engine, factor, batch, i, o, flash):
    assume(_supported(gpu, engine, precision))
    g = catalog.gpu(gpu)
    fast = dataclasses.replace(g, mem_bw_gbps=g.mem_bw_gbps * factor)
    kw = dict(precision=precision, engine=engine, batch_size=batch, input_tokens=i,
              output_tokens=o, flash_attention=flash)
    a = perf.estimate(model, g, **kw)
    b = perf.estimate(model, fast, **kw)
    assert a.fits == b.fits
    if a.fits:
        assert b.tpot_s <= a.tpot_s * (1 + 1e-12)
        assert b.ttft_s <= a.ttft_s * (1 + 1e-12)
        assert b.output_tokens_per_s >= a.output_tokens_per_s * (1 - 1e-12)


@FAST
@given(model=st.sampled_from(MODELS), gpu=st.sampled_from(GPUS), engine=st.sampled_from(ENGINES),
       b1=st.integers(1, 300), extra=st.integers(1, 300), i=st.integers(1, 4000),
       o=st.integers(1, 1000), n=st.sampled_from([1, 2]), flash=st.booleans())
def test_more_batch_never_less_aggregate_throughput(model, gpu, engine, b1, extra, i, o, n, flash):
    assume(_supported(gpu, engine, "bf16"))
    # A mixture of experts computes its experts in whole tiles, so its throughput steps down
    # where a pass's rows per expert cross a tile edge (expert_tile_padding's tests): dense
    # models only.
    assume(features.routed_expert_params(catalog.llm(model)) == 0)
    b2 = b1 + extra
    kw = dict(engine=engine, input_tokens=i, output_tokens=o, n_gpus=n, flash_attention=flash)
    try:
        small = perf.estimate(model, gpu, batch_size=b1, **kw)
    except ValueError:
        assume(False)
    big = perf.estimate(model, gpu, batch_size=b2, **kw)
    assume(small.fits and big.fits)
    # Past the engine's largest captured decode batch a step is launched eagerly and costs
    # more (tested below); on one side of it:
    limit = features.decode_graph_max_batch(features.engine_specs()[small.engine], catalog.gpu(gpu), n)
    assume((b1 <= limit) == (b2 <= limit))
    # Throughput rises with the batch and saturates at the compute roof; it never falls.
    assert big.output_tokens_per_s >= small.output_tokens_per_s * (1 - 1e-9)
    assert big.tpot_s >= small.tpot_s * (1 - 1e-9)  # each sequence waits at least as long


@FAST
@given(model=st.sampled_from(MODELS + ["llama-3.1-70b", "deepseek-v3"]), gpu=st.sampled_from(GPUS),
       engine=st.sampled_from(ENGINES), mem1=st.floats(8, 300), extra=st.floats(0, 300),
       batch=st.integers(1, 128), i=st.integers(1, 8000), o=st.integers(1, 2000),
       flash=st.booleans())
def test_fits_is_monotone_in_memory(model, gpu, engine, mem1, extra, batch, i, o, flash):
    precision = "fp8" if model == "deepseek-v3" else "bf16"
    assume(_supported(gpu, engine, precision))
    g = catalog.gpu(gpu)
    small = dataclasses.replace(g, memory_gb=mem1)
    big = dataclasses.replace(g, memory_gb=mem1 + extra)
    kw = dict(engine=engine, batch_size=batch, input_tokens=i, output_tokens=o,
              flash_attention=flash, precision=precision)
    a = perf.estimate(model, small, **kw)
    b = perf.estimate(model, big, **kw)
    if a.fits:
        assert b.fits
    assert b.max_batch_size >= a.max_batch_size


@FAST
@given(p0=st.floats(-5, 5), p1=st.floats(-2, 2), q0=st.floats(-5, 5), q1=st.floats(-2, 2),
       lo=st.integers(0, 50), n=st.integers(0, 80))
def test_sum_of_max_of_affine_is_exact(p0, p1, q0, q1, lo, n):
    hi = lo + n
    i = np.arange(lo, hi)
    brute = float(np.maximum(p0 + p1 * i, q0 + q1 * i).sum())
    fast = float(core._sum_max_affine(p0, p1, q0, q1, float(lo), float(hi)))
    assert fast == pytest.approx(brute, rel=1e-9, abs=1e-9)


@FAST
@given(a=st.floats(0, 1), da=st.floats(0, 1), k=st.integers(1, 16), c=st.floats(0, 1))
def test_speculative_speedup_grows_with_acceptance(a, da, k, c):
    b = min(1.0, a + da)
    assert perf.speculative_speedup(b, k, c) >= perf.speculative_speedup(a, k, c) * (1 - 1e-12)
    assert perf.speculative_speedup(a, k, c) <= (k + 1) / (k * c + 1) + 1e-12


# ------------------------------------------------------------------------------------------
# Engines, calibration and validation
# ------------------------------------------------------------------------------------------
def test_engines_table_has_capabilities_sources_and_factors():
    df = perf.engines()
    for col in ("continuous_batching", "paged_attention", "speculative_decoding", "flash_attention",
                "quantization_formats", "multi_gpu", "amd_support", "docs_url",
                "bandwidth_efficiency", "compute_efficiency", "step_overhead_s", "layer_overhead_s"):
        assert col in df.columns, col
    assert {"vllm", "tensorrt-llm", "sglang", "tgi", "llama.cpp", "exllamav2"} <= set(df.index)
    assert df["docs_url"].str.startswith("https://").all()
    assert ((df.bandwidth_efficiency > 0) & (df.bandwidth_efficiency <= 1)).all()
    assert ((df.compute_efficiency > 0) & (df.compute_efficiency <= 1)).all()
    assert (df.step_overhead_s > 0).all() and (df.layer_overhead_s > 0).all()
    assert not df.loc["tensorrt-llm", "amd_support"] and df.loc["vllm", "amd_support"]
    assert perf.ENGINES["vllm"]["memory_fraction"] == 0.9
    assert perf.ENGINES["llama.cpp"]["memory_fraction"] == 1.0


@pytest.fixture(scope="module")
def stored():
    with open(perf.CALIBRATION_PATH, encoding="utf-8") as fh:
        return json.load(fh)


def test_stored_calibration_is_reproducible_from_the_table(stored):
    fresh = perf.calibrate(loso=False).data
    assert fresh["benchmarks"]["sha256"] == stored["benchmarks"]["sha256"], (
        "data/benchmarks.csv changed since calibration.json was written: run "
        "hwcost.perf.calibrate(write=True)")
    for key, ef in stored["engines"].items():
        for name in ("bandwidth_efficiency", "compute_efficiency", "step_overhead_s",
                     "layer_overhead_s", "overhead_log_change_per_year"):
            assert fresh["engines"][key][name] == pytest.approx(ef[name], rel=1e-4, abs=1e-9), (
                key, name)
        assert fresh["engines"][key].get("overhead_date") == ef.get("overhead_date")
    for name in ("weight_only_efficiency_factor", "weight_only_bandwidth_factor",
                 "fp8_compute_factor", "fp4_compute_factor", "allreduce_latency_s",
                 "prefill_overhead_ratio", "compiled_prefill_overhead_ratio",
                 "sequence_step_overhead_s", "moe_layer_overhead_s", "mla_layer_overhead_s",
                 "mla_layer_overhead_amd_factor",
                 "mla_layer_overhead_log_change_per_year", "prefill_compute_logit_shift",
                 "sync_jitter"):
        assert fresh[name] == pytest.approx(stored[name], rel=1e-4)
    assert fresh == perf.calibrate(loso=False).data  # deterministic


def test_stored_factors_are_physical(stored):
    for ef in stored["engines"].values():
        assert 0 < ef["bandwidth_efficiency"] <= 1
        assert 0 < ef["compute_efficiency"] <= 1
        assert 0 < ef["step_overhead_s"] < 0.05
        assert 0 < ef["layer_overhead_s"] < 1e-3
        # an engine's fixed costs change by less than a factor e^2 a year
        assert abs(ef["overhead_log_change_per_year"]) < 2
    newest = str(catalog.benchmarks()["as_of"].max())[:10]
    for key in ("vllm", "sglang", "tensorrt-llm", "llama.cpp"):
        assert stored["engines"][key]["overhead_log_change_per_year"] != 0.0
        assert stored["engines"][key]["overhead_date"] == newest
    assert 0 < stored["weight_only_efficiency_factor"] <= 1
    assert 0 < stored["weight_only_bandwidth_factor"] <= 1
    # a tensor-parallel GPU's mean lag: a share of the pass, not a multiple of it
    assert 0 < stored["sync_jitter"] < 0.5
    assert 0 < stored["fp8_compute_factor"] <= 1
    assert 0 < stored["fp4_compute_factor"] <= 1
    assert 1e-6 < stored["allreduce_latency_s"] < 1e-3
    assert 1e-6 < stored["moe_layer_overhead_s"] < 1e-3
    assert 1e-6 < stored["mla_layer_overhead_s"] < 1e-3
    # AMD's MLA kernels within a factor 4 of NVIDIA's; the trend under a factor e^2 a year
    assert 0.25 < stored["mla_layer_overhead_amd_factor"] < 4
    assert abs(stored["mla_layer_overhead_log_change_per_year"]) < 2
    mla_rows = catalog.benchmarks()["model_id"].map(lambda m: catalog.llm(m).attention == "mla")
    assert stored["mla_layer_overhead_date"] == str(catalog.benchmarks()["as_of"][mla_rows].max())[:10]
    assert abs(stored["prefill_compute_logit_shift"]) < 3
    for lo, hi in stored["error_bands"].values():
        assert 0 < lo <= 1 <= hi


def test_validation_meets_target_and_covers_every_row(stored):
    v = perf.validate()
    assert len(v) == len(catalog.benchmarks())
    assert set(v.regime) == {"decode", "ttft", "throughput"}
    assert np.isfinite(v.predicted).all() and (v.predicted > 0).all()
    np.testing.assert_allclose(v.error_pct, (v.predicted - v.measured) / v.measured * 100)
    fitted = v[~v.held_out]
    assert stored["rows_fitted"] == len(fitted) < len(v)
    # In-sample ceilings; TTFT rows mix in-engine and client-side timings (served requests
    # carry tokenization and scheduling the model does not cost), so theirs is looser.
    for regime, ceiling in (("decode", 15.0), ("ttft", 20.0), ("throughput", 15.0)):
        mdape = fitted.loc[fitted.regime == regime, "error_pct"].abs().median()
        assert mdape <= ceiling, (regime, mdape)
        assert mdape == pytest.approx(stored["mdape_pct"][regime], rel=1e-3)
    assert stored["loso_mdape_pct"]["all"] is not None


def test_stored_out_of_sample_figures_are_reproducible(stored):
    # The hold-out figures in calibration.json are those of the stored factors on the rows
    # the fit never saw, recomputed here from the table.
    ho = perf.holdout_errors()
    assert len(ho) > 10 and ho.source.map(fit.is_held_out).all()
    summary = perf.error_summary(ho, by=None).set_index("regime")
    oos = stored["out_of_sample"]
    for regime, fig in oos["holdout"].items():
        assert summary.loc[regime, "n"] == fig["n"]
        assert summary.loc[regime, "median_abs_error_pct"] == pytest.approx(fig["median_abs_error_pct"], rel=1e-4)
        assert summary.loc[regime, "p90_abs_error_pct"] == pytest.approx(fig["p90_abs_error_pct"], rel=1e-4)
    for grouping in ("source", "gpu", "engine"):
        figs = oos[f"leave_one_{grouping}_out"]
        assert set(figs) >= {"decode", "ttft", "throughput", "all"}
        assert figs["all"]["n"] == stored["rows_fitted"]
        for fig in figs.values():
            assert 0 < fig["median_abs_error_pct"] <= fig["p90_abs_error_pct"]
    assert perf.validate().attrs["out_of_sample"] == oos


def test_holdout_rule_takes_whole_sources_by_address():
    # A source's side is decided by its address alone (SHA-256 of the source key).
    table = catalog.benchmarks()
    keys = table.source.map(fit.source_key)
    side = table.source.map(fit.is_held_out)
    assert side.groupby(keys).nunique().max() == 1
    assert 0.05 < side.mean() < 0.35
    assert fit.is_held_out("https://example.org/a.md (table 2)") == fit.is_held_out("https://example.org/a.md#x")


def test_error_summary_by_hand():
    frame = pd.DataFrame({"regime": ["decode"] * 10 + ["ttft"],
                          "error_pct": [1, -2, 3, -4, 5, -6, 7, -8, 9, -10, 50.0]})
    s = perf.error_summary(frame, by=None).set_index("regime")
    assert s.loc["decode", "median_abs_error_pct"] == 5.5
    assert s.loc["decode", "p90_abs_error_pct"] == pytest.approx(9.1)  # numpy linear
    assert s.loc["ttft", "n"] == 1 and s.loc["all", "n"] == 11
    assert s.loc["all", "median_abs_error_pct"] == 6.0


def test_calibrate_from_user_dataframe_writes_atomically(tmp_path):
    table = catalog.benchmarks()
    mine = table[table.engine == "llama.cpp"].copy()
    out = tmp_path / "cal.json"
    cal = perf.calibrate(mine, write=True, path=out, loso=True)
    on_disk = json.loads(out.read_text())
    assert on_disk["benchmarks"]["rows"] == len(mine)
    assert on_disk["engines"]["llama.cpp"]["n_rows"] == len(mine)
    assert not list(tmp_path.glob("*.tmp"))
    assert on_disk["loso_mdape_pct"]["all"] is not None
    e = perf.estimate("llama-3.1-8b", "rtx-4090", engine="llama.cpp", precision="int4",
                      calibration=cal)
    shift = on_disk["gpu_classes"]["gddr"]["bandwidth_logit_shift"]
    eta = features.sigmoid(features.logit(on_disk["engines"]["llama.cpp"]["bandwidth_efficiency"]) + shift)
    # A fitted calibration's efficiencies are shares of the GPU's achievable bandwidth.
    assert on_disk["efficiency_basis"] == "achievable"
    achievable = features.achievable_fractions("rtx-4090")[0]
    assert e.fits
    assert e.bandwidth_efficiency == pytest.approx(
        achievable * eta * on_disk["weight_only_bandwidth_factor"])
    lo = perf.leave_one_source_out(mine)
    assert set(lo.held_out_source) == set(lo.source)
    assert len(lo) == len(mine)


def test_calibrate_rejects_bad_tables():
    with pytest.raises(ValueError, match="lacks column"):
        perf.calibrate(pd.DataFrame({"engine": ["vllm"]}), loso=False)
    bad = catalog.benchmarks().head(3).copy()
    bad["metric"] = "joules"
    with pytest.raises(ValueError, match="unknown metric"):
        perf.calibrate(bad, loso=False)


@pytest.mark.parametrize("model,gpu,n,kw", [
    ("llama-3.1-8b", "h100-sxm", 1, {}),
    ("gemma-2-27b", "l40s", 2, {}),                       # sliding-window layers
    ("deepseek-r1", "h200-sxm", 8, {"precision": "fp8"}),  # MLA, routed MoE
    ("deepseek-r1", "h200-sxm", 8, {"precision": "fp8", "layout": "dp-attention+ep"}),
    ("llama-3.1-8b", "rtx-4090", 1, {"flash_attention": False}),
])
def test_iteration_seconds_scalar_path_equals_array_path(model, gpu, n, kw):
    # One iteration given as Python numbers takes a float-only path (the simulator's);
    # it must be the same function as the array path, to rounding.
    st_ = perf.step_times(model, gpu, n_gpus=n, **kw)
    rng = np.random.default_rng(7)
    for _ in range(300):
        p = int(rng.integers(0, 700))
        b = int(rng.integers(0 if p else 1, 96))
        dc = float(rng.integers(b, b * 5000 + 1))
        pc = int(rng.integers(0, 9000))  # crosses gemma's 4096-token window
        scalar = st_.iteration_seconds(p, b, dc, pc)
        assert isinstance(scalar, float)
        array = st_.iteration_seconds(np.array([p]), np.array([b]), np.array([dc]), np.array([pc]))
        assert scalar == pytest.approx(float(array[0]), rel=1e-12)


def test_iteration_seconds_scalar_path_rejects_bad_input():
    st_ = perf.step_times("llama-3.1-8b", "h100-sxm")
    with pytest.raises(ValueError, match="prefill_tokens"):
        st_.iteration_seconds(-1, 4, 4000)
    with pytest.raises(ValueError, match="decode_context_tokens"):
        st_.iteration_seconds(10, 4, float("nan"))
    with pytest.raises(ValueError, match="prefill_tokens \\+ decode_batch_size > 0"):
        st_.iteration_seconds(0, 0, 0)


def test_readme_quotes_the_stored_out_of_sample_figures(stored):
    # The README's accuracy table is the stored calibration's out-of-sample figures.
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    labels = {"leave_one_source_out": "leave one source out", "leave_one_gpu_out": "leave one GPU out",
              "leave_one_engine_out": "leave one engine out", "holdout": "hold-out (never fitted)"}
    for key, label in labels.items():
        figs = stored["out_of_sample"][key]
        row = next(ln for ln in readme.splitlines() if ln.startswith(f"| {label} |"))
        for regime in ("decode", "ttft", "throughput"):
            f = figs[regime]
            assert f"{f['median_abs_error_pct']:.1f}% / {f['p90_abs_error_pct']:.0f}%" in row, (label, regime)
        assert row.rstrip().endswith(f"| {figs['all']['n']} |")


# ------------------------------------------------------------------------------------------
# Parallel layouts: expert parallelism and attention data parallelism
# ------------------------------------------------------------------------------------------
def test_all_to_all_cost_under_attention_dp_by_hand():
    g = make_gpu()  # NVLink 800 GB/s both ways: 400 x 0.8 = 320 GB/s per direction achieved
    cal = unit_cal(bw=0.5, allreduce_latency_s=10e-6)
    st_ = perf.step_times(moe_twin(), g, precision="fp16", n_gpus=2, layout="dp-attention+ep",
                          calibration=cal)
    # Top-2 of 8 experts, 4 per GPU: a token's experts sit on the other GPU with probability
    # 1 - (1/2)^2 = 0.75; it is sent there once: 0.75 x 4096 x 2 bytes = 6144 B per token.
    assert features.remote_gpus_per_token(2, 2) == pytest.approx(0.75, rel=1e-12)
    assert st_._f["a2a"] == pytest.approx(6144.0, rel=1e-12)
    # 16 tokens over 2 GPUs = 8 per GPU; 32 MoE layers x (dispatch + combine).
    want = 2 * 32 * (10e-6 + 8 * 6144 / 320e9)
    assert st_.comm_seconds(16) == pytest.approx(want, rel=1e-12)
    # Tensor parallel on the same GPUs: two ring all-reduces per layer instead.
    tp = perf.step_times(moe_twin(), g, precision="fp16", n_gpus=2, calibration=cal)
    assert tp.comm_seconds(16) == pytest.approx(2 * 32 * (10e-6 + 16 * 4096 * 2 / 320e9), rel=1e-12)
    # DeepSeek-R1 on 8 GPUs: top-8 of 256 experts reach 7 x (1 - (7/8)^8) = 4.59 other GPUs.
    assert features.remote_gpus_per_token(8, 8) == pytest.approx(4.594737589, rel=1e-9)
    assert features.remote_gpus_per_token(8, 1) == 0.0


def test_mla_kv_share_under_attention_dp_by_hand():
    m = catalog.llm("deepseek-r1")
    kw = dict(n_gpus=8, precision="fp8", calibration=unit_cal())
    tp = perf.step_times(m, "h200-sxm", **kw)
    dp = perf.step_times(m, "h200-sxm", layout="dp-attention+ep", **kw)
    # The latent cache has no heads to split: under TP every GPU reads the whole batch's KV;
    # with attention DP a GPU reads its own sequences' only: 16 over 8 GPUs = 2 each.
    assert float(core.kv_share_of_pass(tp._f, 16.0)) == 1.0
    assert float(core.kv_share_of_pass(dp._f, 16.0)) == pytest.approx(1 / 8, rel=1e-12)
    # 9 sequences: the busiest GPU holds 2 of them.
    assert float(core.kv_share_of_pass(dp._f, 9.0)) == pytest.approx(2 / 9, rel=1e-12)
    _, mf_tp, *_ = core.decode_coefficients(tp._f, 16.0)
    _, mf_dp, *_ = core.decode_coefficients(dp._f, 16.0)
    assert mf_dp == pytest.approx(mf_tp / 8, rel=1e-12)
    # Memory: each GPU stores 1/8 of the KV (TP replicates the latent cache on all 8).
    assert float(core.kv_memory_share(tp._f)) == 1.0
    assert float(core.kv_memory_share(dp._f)) == pytest.approx(1 / 8, rel=1e-12)


def test_expert_parallel_weight_shares_by_hand():
    g = make_gpu()
    cal = unit_cal(bw=0.5, comp=0.5)
    experts = 3 * 4096 * 5504 * 8 * 32 * 2  # bytes of all routed experts (fp16)
    emb = 32000 * 4096 * 2
    total = perf.weights_bytes(moe_twin(), "fp16")
    st = {lay: perf.step_times(moe_twin(), g, precision="fp16", n_gpus=2, layout=lay,
                               calibration=cal) for lay in ("tp", "ep", "dp-attention+ep")}
    # Stored per GPU: TP and EP halve everything; attention DP keeps the non-expert weights
    # (attention, norms, embeddings) on every GPU and halves the experts.
    assert float(core.weights_memory_per_gpu(st["tp"]._f)) == pytest.approx(total / 2, rel=1e-12)
    assert float(core.weights_memory_per_gpu(st["ep"]._f)) == pytest.approx(total / 2, rel=1e-12)
    assert float(core.weights_memory_per_gpu(st["dp-attention+ep"]._f)) == pytest.approx(
        total - experts + experts / 2, rel=1e-12)
    # Read per decode step at batch 1 (top-2 of 8: a quarter of the experts), per GPU.
    fixed = total - emb - experts  # without the input-embedding table
    for lay, own in (("tp", fixed / 2), ("ep", fixed / 2), ("dp-attention+ep", fixed)):
        assert float(core.weights_read_per_gpu(st[lay]._f, 1.0)) == pytest.approx(
            own + experts / 4 / 2, rel=1e-12), lay


def test_moe_load_imbalance_by_hand():
    # Top-2 of 8 experts on 2 GPUs: routes of one token to one GPU have variance
    # 2 x 1/2 x 1/2 x 6/7 = 3/7; the busier of 2 GPUs is Blom's z_2 = 0.5895 sd above the mean.
    z2 = features.expected_max_standard_normal(2)
    assert z2 == pytest.approx(0.5894558, rel=1e-6)
    assert features.moe_load_imbalance(8, 2, 2) == pytest.approx(z2 * math.sqrt(3 / 7), rel=1e-12)
    # DeepSeek-R1 on 8 GPUs: v = 8/8 x 7/8 x 248/255, z_8 = 1.4342.
    v = 8 * (1 / 8) * (7 / 8) * 248 / 255
    assert features.moe_load_imbalance(256, 8, 8) == pytest.approx(
        features.expected_max_standard_normal(8) * math.sqrt(v), rel=1e-12)
    assert features.moe_load_imbalance(256, 8, 1) == 0.0
    g = make_gpu()
    cal = unit_cal(bw=0.5, comp=0.5)
    ep = perf.step_times(moe_twin(), g, precision="fp16", n_gpus=2, layout="ep", calibration=cal)
    tp = perf.step_times(moe_twin(), g, precision="fp16", n_gpus=2, calibration=cal)
    imb = features.moe_load_imbalance(8, 2, 2)
    # The busiest GPU runs (1 + imb / sqrt(T)) / 2 of the expert work; TP splits it evenly.
    assert float(core.expert_share(ep._f, 64.0)) == pytest.approx((1 + imb / 8) / 2, rel=1e-12)
    assert float(core.expert_share(tp._f, 64.0)) == 0.5
    # Compute term at 64 tokens: only the expert FLOPs grow. 64 tokens x 2 routes over 8
    # experts touch all of them (1 - (3/4)^64 = 1 - 1e-8) with 16 rows each: one full
    # 16-row tile each, no padding.
    p_exp = 3 * 4096 * 5504 * 32 * 2  # two experts a token visits, 32 layers
    pad = float(core.expert_tile_padding(tp._f, 64.0))
    assert pad == pytest.approx(1.0, rel=1e-7)
    _, _, _, c_ep, *_ = core.decode_coefficients(ep._f, 64.0)
    _, _, _, c_tp, *_ = core.decode_coefficients(tp._f, 64.0)
    peak = 500e12 * 0.5
    assert c_ep - c_tp == pytest.approx(2 * 64 * p_exp * pad * imb / 8 / 2 / peak, rel=1e-9)


def test_mla_attention_flops_prefill_expanded_decode_absorbed():
    f = features.model_numbers(catalog.llm("deepseek-r1"), "fp8", "fp8", features.engine_specs()["generic"])
    # Prefill: per-head keys of 128 + 64 dims and values of 128; decode: every head attends
    # over the 512 + 64 latent (scores) and the 512 latent (values).
    assert f["attn_f"] == 2 * 128 * (2 * 128 + 64) * 61
    assert f["attn_dec_f"] == 2 * 128 * (2 * 512 + 64) * 61
    dense = features.model_numbers(catalog.llm("llama-3.1-8b"), "bf16", "bf16", features.engine_specs()["generic"])
    assert dense["attn_dec_f"] == dense["attn_f"] == 4 * 32 * 128 * 32


def test_layout_is_checked_and_reaches_estimate_and_sweep():
    with pytest.raises(ValueError, match="not a mixture-of-experts"):
        perf.estimate("llama-3.1-8b", "h100-sxm", n_gpus=2, layout="ep")
    with pytest.raises(ValueError, match="accepted: tp, ep, dp-attention\\+ep"):
        perf.estimate("mixtral-8x7b", "h100-sxm", n_gpus=2, layout="zigzag")
    with pytest.raises(ValueError, match="tensor-parallel engine"):
        perf.step_times("mixtral-8x7b", "rtx-4090", n_gpus=2, engine="llama.cpp", layout="ep")
    assert features.check_layout("DEP") == "dp-attention+ep"
    kw = dict(n_gpus=8, precision="fp8", input_tokens=1024, output_tokens=1024, engine="tensorrt-llm")
    e = perf.estimate("deepseek-r1", "h200-sxm", batch_size=64, layout="dp-attention+ep", **kw)
    assert e.layout == "dp-attention+ep"
    df = perf.sweep("deepseek-r1", "h200-sxm", precisions="fp8", n_gpus=8, batch_sizes=[64, "max"],
                    input_tokens=1024, output_tokens=1024, engine="tensorrt-llm",
                    layout="dp-attention+ep")
    assert df["tpot_s"].iloc[0] == pytest.approx(e.tpot_s, rel=1e-12)
    assert df["output_tokens_per_s"].iloc[0] == pytest.approx(e.output_tokens_per_s, rel=1e-12)
    emax = perf.estimate("deepseek-r1", "h200-sxm", batch_size="max", layout="dp-attention+ep", **kw)
    assert df["batch_size"].iloc[1] == emax.batch_size
    # The latent cache split 8 ways holds more sequences than replicated under TP.
    tp = perf.estimate("deepseek-r1", "h200-sxm", batch_size="max", **kw)
    assert emax.max_batch_size > tp.max_batch_size
    mixed = perf.sweep(["llama-3.1-8b", "mixtral-8x7b"], "h100-sxm", n_gpus=2, layout="ep")
    assert list(mixed["fits"]) == [False, True]
    assert mixed["reason"].iloc[0] == "expert-parallel layout needs a mixture-of-experts model"


def test_roofline_per_kernel_class_by_hand():
    # Llama-2-7B shapes, fp16, batch 512 at 1000 tokens of context: the matrix products are
    # compute-bound, the attention streams the KV cache. The two are separate kernels, so
    # the step pays both: 2 x 6.609e9 x 512 FLOP at 250 TFLOP/s plus 512 x 1000 x 524,288 B
    # of KV at 1 TB/s, not the larger of the summed memory and compute times. The products
    # read their 13.2 ms of weights in 2.048x that time of arithmetic: the smooth roofline
    # charges sqrt(1 + (1 / 2.048)^2) of the arithmetic.
    g = make_gpu()  # 2000 GB/s, 500 TFLOP/s fp16
    st_ = perf.step_times(make_llm(), g, precision="fp16", calibration=unit_cal(bw=0.5, comp=0.5))
    p_flops = 6.74e9 - 32000 * 4096  # every weight but the input-embedding lookup
    linear = 2 * p_flops * 512 / 250e12 * math.sqrt(1 + (250 / 512) ** 2)
    kv = 512 * 1000 * (2 * 32 * 32 * 128 * 2) / 1e12
    assert linear > p_flops * 2 / 1e12 * 2.048  # products compute-bound
    assert st_.decode_step_seconds(512, 512 * 1000) == pytest.approx(linear + kv, rel=1e-9)
    # The closed-form sum over steps and the mixed iteration follow the same rule.
    total = float(core.decode_total_seconds(st_._f, 512.0, 1000.0, 3.0))
    want = sum(linear + 512 * (1000 + i) * 524288 / 1e12 for i in range(3))
    assert total == pytest.approx(want, rel=1e-9)
    assert st_.iteration_seconds(0, 512, 512 * 1000.0) == pytest.approx(linear + kv, rel=1e-9)
def test_estimate_on_fewest_gpus_picks_the_smallest_replica_that_holds_the_model():
    # 72.7B parameters at 16 bits (~145 GB) do not fit one 80 GB H100; two hold them
    assert not perf.estimate("qwen2.5-72b", "h100-sxm", batch_size=1).fits
    e = perf.estimate_on_fewest_gpus("qwen2.5-72b", "h100-sxm", batch_size=1)
    assert e.n_gpus == 2 == perf.min_gpus_to_fit("qwen2.5-72b", "h100-sxm", batch_size=1) and e.fits
    # a model that fits one card is estimated on one card, unchanged
    one = perf.estimate_on_fewest_gpus("llama-3.1-8b", "h100-sxm", batch_size=16)
    assert one.n_gpus == 1
    assert one.output_tokens_per_s == perf.estimate("llama-3.1-8b", "h100-sxm", batch_size=16).output_tokens_per_s
    # 405B at 16 bits (~810 GB) is more than eight 24 GB cards hold
    assert perf.estimate_on_fewest_gpus("llama-3.1-405b", "rtx-4090", batch_size=16) is None
    assert perf.output_tokens_per_s_per_gpu("llama-3.1-405b", "rtx-4090", batch_size=16) == (None, None)


def test_output_tokens_per_s_per_gpu_shares_the_replica_throughput():
    tps, n = perf.output_tokens_per_s_per_gpu("qwen2.5-72b", "rtx-4090", batch_size=16)
    e = perf.estimate("qwen2.5-72b", "rtx-4090", n_gpus=n, batch_size=16)
    assert n == 8 and e.fits
    assert tps == pytest.approx(e.output_tokens_per_s / 8)


@pytest.mark.parametrize("bad", [("gpu",), ("source", "banana"), ("engine", "gpu")])
def test_calibrate_refuses_groupings_it_cannot_run(bad):
    # leave one source out sets the error bands, so any subset must hold it
    with pytest.raises(ValueError, match="include 'source'"):
        perf.calibrate(loso=bad)


def test_global_factors_table_lists_what_a_calibration_holds():
    table = perf.global_factors({"sync_jitter": 0.123456, "fp8_compute_factor": 0.8,
                                 "engines": {}})
    assert table["factor"].tolist() == ["fp8_compute_factor", "sync_jitter"]
    assert table["value"].tolist() == ["0.8", "0.1235"]
    assert table["meaning"].tolist() == [perf.GLOBAL_FACTORS["fp8_compute_factor"],
                                         perf.GLOBAL_FACTORS["sync_jitter"]]
    # every factor of the stored calibration has its meaning
    assert set(perf.global_factors()["factor"]) == set(perf.GLOBAL_FACTORS)
