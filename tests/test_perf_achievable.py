"""Per-GPU achievable rates, measured collectives and whole-tile expert GEMMs in hwcost.perf.

Literal values come from the cited tables (data/gpu_microbenchmarks.csv,
data/collective_microbenchmarks.csv) and from hand arithmetic.
"""

import math

import numpy as np
import pytest
from test_perf import make_gpu, make_llm, unit_cal  # the suite's hand-made GPU, model, calibration

from hwcost import catalog, perf
from hwcost.perf import features
from hwcost.perf import kernel as core


def test_achievable_fractions_are_the_median_of_a_gpus_own_measurements():
    # H100 PCIe: gpu-stream read 1942 of 2000 GB/s and a torch copy 1630 -> median 0.893;
    # BF16 GEMMs at 0.594 and 0.656 of 756.5 TFLOP/s -> 0.625.
    bw, gemm = features.achievable_fractions("h100-pcie")
    assert bw == pytest.approx((0.971 + 0.815) / 2, abs=1e-4)
    assert gemm == pytest.approx((0.594 + 0.656) / 2, abs=2e-3)
    # MI300X: BabelStream copy 4256 and gpu-stream read 4199 of 5300 GB/s; one BF16 GEMM.
    bw, gemm = features.achievable_fractions("mi300x")
    assert bw == pytest.approx((4256 + 4199) / 2 / 5300, abs=1e-4)
    assert gemm == pytest.approx(0.5112, abs=1e-4)


def test_a_geforce_gemm_above_its_datasheet_is_capped_at_one():
    # The RTX 4090's published BF16 GEMMs reach 1.017 and 1.003 of its 165.2 TFLOP/s rating
    # (boost clocks); the model never runs above the datasheet rate.
    assert features.achievable_fractions("rtx-4090")[1] == 1.0


def test_a_gpu_without_measurements_takes_its_peers_median():
    # No bandwidth row for the GB200: the median over NVIDIA datacenter HBM GPUs that have
    # one; the same value for any unmeasured GPU of that kind, including a user's own.
    gb200 = features.achievable_fractions("gb200")[0]
    assert features.achievable_fractions("h100-nvl")[0] == gb200
    assert features.achievable_fractions(make_gpu())[0] == gb200
    measured = [features.achievable_fractions(g)[0] for g in
                ("a100-40gb-sxm", "a100-80gb-sxm", "h100-pcie", "h100-sxm", "h200-sxm", "b200",
                 "b300")]
    assert gb200 == pytest.approx(float(np.median(measured)), rel=1e-12)
    for value in features.achievable_fractions("gaudi3") + features.achievable_fractions("t4"):
        assert 0.3 < value <= 1.0


def test_hopper_and_blackwell_bandwidth_from_published_streaming_runs():
    # Azure's BabelStream runs: Copy and Dot (TB/s) -> their median of the datasheet
    assert features.achievable_fractions("h100-sxm")[0] == pytest.approx((2.90 + 3.18) / 2 / 3.35, abs=1e-4)
    assert features.achievable_fractions("h200-sxm")[0] == pytest.approx((4.01 + 4.48) / 2 / 4.80, abs=1e-4)
    # A100 80GB SXM: a copy at 1776 GB/s and Azure's 1610 and 1750 of 2039 GB/s -> the middle one
    assert features.achievable_fractions("a100-80gb-sxm")[0] == pytest.approx(1750 / 2039, abs=1e-4)
    # B200: one OpenCL coalesced read, 6668.71 of the HGX B200 datasheet's 7700 GB/s
    assert features.achievable_fractions("b200")[0] == pytest.approx(6668.71 / 7700, abs=1e-4)


def test_engine_efficiency_is_a_share_of_the_achievable_rate_on_that_basis():
    g = catalog.gpu("mi300x")
    old = unit_cal(bw=0.5, comp=0.5)
    new = unit_cal(bw=0.5, comp=0.5, efficiency_basis="achievable")
    assert not old.achievable_basis and new.achievable_basis
    a_bw, a_c = features.achievable_fractions(g)
    f_old = features.efficiency_factors(old, "vllm", "amd", "bf16", g)
    f_new = features.efficiency_factors(new, "vllm", "amd", "bf16", g)
    # A calibration written before the achievable basis keeps its meaning (share of datasheet).
    assert f_old["eta_bw"] == 0.5 and f_old["eta_c"] == 0.5
    assert f_new["eta_bw"] == pytest.approx(0.5 * a_bw) and f_new["eta_c"] == pytest.approx(0.5 * a_c)
    # The decode step streams weights at datasheet x achievable x engine share.
    st = perf.step_times("llama-3.1-8b", g, precision="bf16", engine="vllm", calibration=new)
    mem, _, _ = core.decode_step_terms(st._f, 1.0, 0.0)
    weights = float(core.weights_read_per_gpu(st._f, 1.0))
    assert float(mem) == pytest.approx(weights / (5300e9 * a_bw * 0.5), rel=1e-12)


def test_measured_bus_bandwidth_replaces_the_rule_of_thumb_where_published():
    cal = unit_cal(efficiency_basis="achievable")
    # 8 x MI300X: rccl-tests busbw 318.98 GB/s at 16 GiB (below the 448 GB/s link rating x 0.8).
    assert features.measured_bus_bandwidth("mi300x", 8) == pytest.approx(318.98e9)
    assert perf.link("mi300x", 8, calibration=cal).link_gbps == pytest.approx(318.98)
    # 8 x H100 SXM: NVLS busbw 478.87 GB/s exceeds the 450 GB/s per-direction link (the
    # switch reduces in-network); a ring over the link never does, so the link caps it.
    assert features.measured_bus_bandwidth("h100-sxm", 8) == pytest.approx(478.87e9)
    assert perf.link("h100-sxm", 8, calibration=cal).link_gbps == pytest.approx(450.0)
    # The GPU count nearest the replica's: 4 x RTX 5090 measured 35 GB/s, 8 x 28 GB/s.
    assert features.measured_bus_bandwidth("rtx-5090", 3) == pytest.approx(35e9)
    assert features.measured_bus_bandwidth("rtx-5090", 16) == pytest.approx(28e9)
    # A bridged pair of H100 PCIe cards (116.26 GB/s) says nothing of four over PCIe 5.
    assert features.measured_bus_bandwidth("h100-pcie", 2) == pytest.approx(116.26e9)
    assert features.measured_bus_bandwidth("h100-pcie", 4) is None
    assert perf.link("h100-pcie", 4, calibration=cal).link_gbps == pytest.approx(64 * 0.8)
    # Unpublished systems keep 0.8 x the per-direction rate; datasheet-basis calibrations too.
    assert features.measured_bus_bandwidth("l40s", 2) is None
    assert perf.link("mi300x", 8, calibration=unit_cal()).link_gbps == pytest.approx(448 * 0.8)


def test_midsize_bus_bandwidth_is_the_slope_of_published_times():
    cal = unit_cal(efficiency_basis="achievable")
    # 8 x H100 SXM, nccl-tests: 41.99 us at 1 MiB, 57.02 us at 4 MiB: 15.03 us per 3 MiB,
    # a bus bandwidth of 2 x 7/8 x 3,145,728 B / 15.03 us = 366.27 GB/s (479 at 8 GiB).
    assert features.measured_midsize_bus_bandwidth("h100-sxm", 8) == pytest.approx(
        1.75 * 3145728 / 15.03e-6, rel=1e-9)
    # 8 x A100: 50.66 -> 102.76 us: 105.66 GB/s, under half its 231.58 GB/s at 8 GiB.
    assert features.measured_midsize_bus_bandwidth("a100-80gb-sxm", 8) == pytest.approx(
        1.75 * 3145728 / 52.10e-6, rel=1e-9)
    assert perf.link("a100-80gb-sxm", 8, calibration=cal).midsize_link_gbps == pytest.approx(
        105.6626, rel=1e-5)
    # No sweep published for B200: its 830 GB/s (capped at the 900 GB/s link) times the median
    # mid-size share of the five published systems (8x H200: 299.67 / 479.98 = 0.6243).
    assert features.midsize_bandwidth_ratio() == pytest.approx(299.6747 / 479.98, rel=1e-5)
    ln = perf.link("b200", 8, calibration=cal)
    assert ln.midsize_link_gbps == pytest.approx(ln.link_gbps * 299.6747 / 479.98, rel=1e-5)
    # Datasheet-basis calibrations keep one rate; one GPU exchanges nothing.
    plain = perf.link("a100-80gb-sxm", 8, calibration=unit_cal())
    assert plain.midsize_link_gbps == plain.link_gbps
    assert features.measured_midsize_bus_bandwidth("l40s", 4) is None


def test_prefill_all_reduces_send_each_chunk_separately():
    st = perf.step_times("llama-3.1-70b", "h100-sxm", n_gpus=8, precision="fp8",
                         engine="vllm", calibration=unit_cal(efficiency_basis="achievable"))
    f = st._f
    chunk = f["chunk"]
    # Eight chunks cost eight times one chunk's all-reduces (each chunk is its own message,
    # mostly at the mid-size rate), not one all-reduce of eight chunks' activations.
    one = float(core.comm_seconds(f, chunk, 1.0))
    assert float(core.comm_seconds(f, 8 * chunk, 8.0)) == pytest.approx(8 * one, rel=1e-12)
    msg = chunk * f["hidden"] * core.ACT_BYTES
    per = core.ring_allreduce_seconds(msg, 8.0, f["link_bw"], f["link_lat"], f["link_bw_mid"])
    assert one == pytest.approx(2 * f["n_layers"] * float(per), rel=1e-12)


def test_all_to_all_runs_at_the_midsize_rate():
    cal = unit_cal(efficiency_basis="achievable", allreduce_latency_s=10e-6)
    st = perf.step_times("deepseek-r1", "h200-sxm", n_gpus=8, precision="fp8",
                         layout="dp-attention+ep", calibration=cal)
    f = st._f
    # 8x H200: 299.67 GB/s at mid-size messages (the slope of the published 1 and 4 MiB times).
    assert f["link_bw_mid"] == pytest.approx(1.75 * 3145728 / 18.37e-6, rel=1e-9)
    # 64 tokens over 8 GPUs: 8 per GPU, dispatch and combine in each of the 58 MoE layers.
    want = 2 * 58 * (10e-6 + 8 * f["a2a"] / f["link_bw_mid"])
    assert st.comm_seconds(64) == pytest.approx(want, rel=1e-12)


def test_expert_tile_padding_by_hand():
    f = features.model_numbers(catalog.llm("gpt-oss-120b"), "int4", "bf16",
                               features.engine_specs()["generic"])
    assert f["moe_experts"] == 128.0
    # 956 tokens x top-4 over 128 experts: 29.875 rows each (all touched: 1 - (31/32)^956
    # differs from 1 by 1e-13), run as one 32-row tile.
    assert float(core.expert_tile_padding(f, 956.0)) == pytest.approx(32 / 29.875, rel=1e-9)
    # 8192 tokens: 256 rows per expert, four full 64-row tiles.
    assert float(core.expert_tile_padding(f, 8192.0)) == 1.0
    # 2080 tokens: 65 rows, two 64-row tiles.
    assert float(core.expert_tile_padding(f, 2080.0)) == pytest.approx(128 / 65, rel=1e-9)
    # One token: each of its 4 experts runs a 16-row tile for 1 row.
    assert float(core.expert_tile_padding(f, 1.0)) == pytest.approx(16.0, rel=1e-12)
    dense = features.model_numbers(make_llm(), "fp16", "fp16", features.engine_specs()["generic"])
    assert dense["moe_experts"] == 0.0
    assert float(core.expert_tile_padding(dense, 7.0)) == 1.0


def test_padding_adds_only_expert_flops():
    f = features.model_numbers(catalog.llm("mixtral-8x7b"), "bf16", "bf16",
                               features.engine_specs()["generic"])
    f.update(dp=np.float64(1.0), imb=np.float64(0.0), n=np.float64(1.0), tensor=True)
    # 10 tokens x top-2 of 8 experts: 2.5 rows per expert over the touched 94.4 %.
    touched = 1 - 0.75**10
    pad = 16 / (2.5 / touched)
    assert float(core.expert_tile_padding(f, 10.0)) == pytest.approx(pad, rel=1e-12)
    want = 2 * 10 * ((f["p_flops"] - f["p_expert"]) + f["p_expert"] * pad)
    assert float(core.linear_flops(f, 10.0, 1.0)) == pytest.approx(want, rel=1e-12)
    assert math.isclose(float(core.linear_flops(f, 8192.0, 1.0)), 2 * 8192 * f["p_flops"], rel_tol=1e-12)


def test_reference_tables_load_through_the_catalog_with_their_schema():
    micro = catalog.gpu_microbenchmarks()
    assert list(micro.columns) == [c.name for c in catalog.REFERENCE_SCHEMAS["gpu_microbenchmarks"]]
    assert set(micro["quantity"]) == {"memory_bandwidth", "gemm"}
    coll = catalog.collective_microbenchmarks()
    assert (coll["n_gpus"] >= 2).all() and coll["measured_value"].gt(0).all()
    # Copies: changing one does not change what the model reads.
    micro["fraction_of_datasheet"] = 0.0
    assert catalog.gpu_microbenchmarks()["fraction_of_datasheet"].gt(0).all()


def test_the_simulator_serves_a_replica_in_its_parallel_layout():
    from hwcost import serving

    kw = dict(gpu="h200-sxm", n_gpus=8, precision="fp8", engine="sglang")
    tp = serving.at_concurrency("deepseek-r1", 64, 1024, 256, rounds=3, **kw)
    dep = serving.at_concurrency("deepseek-r1", 64, 1024, 256, rounds=3, layout="dp-attention+ep", **kw)
    st = perf.step_times("deepseek-r1", layout="dp-attention+ep", **kw)
    same = serving.at_concurrency(st, 64, 1024, 256, rounds=3)
    # The model id with a layout is the step times built with it; the layout changes TPOT
    # (each GPU reads only its own sequences' latent cache instead of all of it).
    assert dep.tpot_s == same.tpot_s
    assert dep.tpot_s != tp.tpot_s
    solo = serving.unloaded_latency("deepseek-r1", 1024, 256, layout="dp-attention+ep", **kw)
    assert solo["tpot_s"] == pytest.approx(float(st.decode_step_seconds(1, 1024 + 128)), rel=0.05)
    with pytest.raises(ValueError, match="not a mixture-of-experts model; accepted for it: tp"):
        serving.at_concurrency("llama-3.1-8b", 4, 128, 16, gpu="h100-sxm", layout="ep", rounds=3)


def test_closed_loop_steady_state_by_hand_and_against_the_simulator():
    from hwcost import serving

    st = perf.step_times("llama-3.1-8b", "h100-sxm", engine="vllm")
    c, i, o = 64, 1024, 128
    decode = float(core.decode_total_seconds(st._f, float(c), float(i), float(o - 1)))
    prefill_one = st.prefill_seconds(i)
    tpot, tput = st.closed_loop(c, i, o)
    # A cycle of 64 completions: 127 decode steps of the full batch (each prefill gives its
    # request's first token) plus 64 single prefills; each request waits through the other
    # 63 prefills while it decodes its other 127 tokens.
    assert tpot == pytest.approx((decode + 63 * prefill_one) / 127, rel=1e-12)
    assert tput == pytest.approx(64 * 128 / (decode + 64 * prefill_one), rel=1e-12)
    # Under load TPOT is well above a quiet batch's step, and the simulator agrees.
    quiet = perf.estimate("llama-3.1-8b", "h100-sxm", engine="vllm", batch_size=c,
                          input_tokens=i, output_tokens=o)
    assert tpot > 1.5 * quiet.tpot_s
    sim = serving.at_concurrency(st, c, i, o, rounds=4)
    assert sim.tpot_s == pytest.approx(tpot, rel=0.02)
    assert sim.output_tokens_per_s == pytest.approx(tput, rel=0.02)
    # One request in flight: the closed loop is a batch of one.
    one = perf.estimate("llama-3.1-8b", "h100-sxm", engine="vllm", input_tokens=i, output_tokens=o)
    assert st.closed_loop(1, i, o)[1] == pytest.approx(one.output_tokens_per_s, rel=1e-9)


def test_measurements_taken_at_a_concurrency_are_scored_in_the_closed_loop():
    from hwcost.perf import fit

    rows = catalog.benchmarks()
    row = rows[rows["id"] == "sglang-inferencex-h200-deepseek-r1-fp8-tp8-c64-1024-1024-tpot"]
    assert row["load"].iloc[0] == "concurrency"
    # validate reads the row's dated costs (MLA layer, the engine's fixed costs) at its own
    # date; step_times at the calibration's: the same model once they are moved there.
    at_row_date = perf.calibration_as_of(None, row["as_of"].iloc[0])
    v = fit.validate(row)
    st = perf.step_times("deepseek-r1", "h200-sxm", n_gpus=8, precision="fp8", engine="sglang",
                         calibration=at_row_date)
    assert v["predicted"].iloc[0] == pytest.approx(st.closed_loop(64, 1024, 1024)[0], rel=1e-9)
    as_batch = fit.validate(row.assign(load=""))
    assert as_batch["predicted"].iloc[0] < v["predicted"].iloc[0]


def test_rows_run_without_flash_attention_are_scored_with_the_score_matrix():
    import datetime

    from hwcost.perf import fit

    rows = catalog.benchmarks()
    dated = rows[rows["id"] == "llamacpp-xd-rtx-4090x1-llama-3.1-8b-q4km-pp4096"]
    assert dated["flash_attention"].iloc[0] == "off"
    # Scored as llama.cpp runs today (the row itself predates its int8 products, below).
    row = dated.assign(as_of=datetime.date(2026, 6, 4))
    v = fit.validate(row)
    st = perf.step_times("llama-3.1-8b", "rtx-4090", precision="int4", kv_precision="fp16",
                         engine="llama.cpp", flash_attention=False,
                         calibration=perf.calibration_as_of(None, row["as_of"].iloc[0]))
    # prefill_tokens_per_s of a 4096-token prompt: 4096 / the pass without fused attention.
    assert v["predicted"].iloc[0] == pytest.approx(4096 / st.prefill_seconds(4096), rel=1e-9)
    # In May 2024 llama.cpp dequantized to FP16 (half the int8 rate): a slower prediction.
    assert fit.validate(dated)["predicted"].iloc[0] < v["predicted"].iloc[0]
    fused = fit.validate(row.assign(flash_attention=""))
    # Writing and re-reading the 32 heads' 4096 x 4096 score matrices costs time.
    assert fused["predicted"].iloc[0] > 1.1 * v["predicted"].iloc[0]


def test_a_flash_attention_cell_other_than_on_or_off_is_refused(tmp_path):
    rows = catalog.benchmarks()
    mine = rows[rows["id"] == "llamacpp-xd-rtx-4090x1-llama-3.1-8b-q4km-pp4096"].drop(
        columns="origin").assign(id="mine", flash_attention="maybe")
    path = tmp_path / "benchmarks.csv"
    mine.to_csv(path, index=False)
    with pytest.raises(ValueError, match="flash_attention.*maybe"):
        catalog.benchmarks(path=path)


def test_engines_that_allocate_kv_on_demand_hold_half_the_output_on_average():
    specs = features.engine_specs()
    assert features.kv_output_share(specs["vllm"]) == 0.5
    assert features.kv_output_share(specs["sglang"]) == 0.5
    assert features.kv_output_share(specs["tensorrt-llm"]) == 1.0  # GUARANTEED_NO_EVICT
    assert features.kv_output_share(specs["generic"]) == 1.0
    with pytest.raises(ValueError, match="kv_allocation 'lazy'"):
        features.kv_output_share({"kv_allocation": "lazy"})
    # Llama 3.1 8B (no sliding window), 1000-token prompts and outputs: a vLLM sequence holds
    # 1000 + 500 tokens of KV, a TensorRT-LLM one all 2000: exactly 3/4 of it.
    vllm = perf.step_times("llama-3.1-8b", "h100-sxm", engine="vllm")._f
    trt = perf.step_times("llama-3.1-8b", "h100-sxm", engine="tensorrt-llm")._f
    kv_vllm = core.memory_terms(vllm, 1000.0, 1000.0)[2]
    kv_trt = core.memory_terms(trt, 1000.0, 1000.0)[2]
    assert kv_vllm / kv_trt == pytest.approx(0.75, rel=1e-12)
    # 131072 bytes per token (32 layers x 8 KV heads x 128 x 2 x 2 bytes) x 1500 tokens.
    assert kv_vllm == pytest.approx(131072 * 1500, rel=1e-12)


def test_fp8_weights_get_an_fp8_kv_cache_only_where_the_engine_defaults_to_one():
    # Llama 3.1 70B: 2 (K, V) x 80 layers x 8 KV heads x 128 = 163,840 values per token.
    trt = perf.step_times("llama-3.1-70b", "h100-sxm", n_gpus=2, precision="fp8",
                          engine="tensorrt-llm")
    vllm = perf.step_times("llama-3.1-70b", "h100-sxm", n_gpus=2, precision="fp8", engine="vllm")
    assert (trt.kv_precision, trt.kv_cache_bytes_per_token) == ("fp8", 163_840)
    assert (vllm.kv_precision, vllm.kv_cache_bytes_per_token) == ("bf16", 327_680)
    # Naming the KV precision overrides the engine's default; FP4 weights keep an FP8 cache.
    named = perf.step_times("llama-3.1-70b", "h100-sxm", n_gpus=2, precision="fp8",
                            kv_precision="fp8", engine="vllm")
    assert named.kv_cache_bytes_per_token == 163_840
    assert features.default_kv_precision("fp4", catalog.gpu("b200"),
                                         features.engine_specs()["vllm"]) == "fp8"


def test_the_fits_jacobian_sparsity_holds_every_nonzero_derivative():
    # A parameter outside the pattern must not move a residual: perturb each one and compare.
    from hwcost.perf import fit

    design = fit._Design(fit._table(None))
    sel = ~design.holdout
    names = design.layout(sel)
    centre, _ = design.prior(names)
    pattern = design.jacobian_sparsity(names, sel)
    base = np.log(design.predict(centre, names)[sel])
    for j in range(len(names)):
        moved = centre.copy()
        moved[j] += 0.05
        changed = np.abs(np.log(design.predict(moved, names)[sel]) - base) > 0
        assert not (changed & ~pattern[: sel.sum(), j]).any(), names[j]
    # Engine factors touch only their own rows: the pattern is far from dense.
    assert pattern[: sel.sum()].mean() < 0.5


def test_a_finite_run_goes_in_whole_batches_by_hand():
    st = perf.step_times("llama-3.1-8b", "h100-sxm", engine="vllm")
    f, i, o = st._f, 1024.0, 128.0

    def one_batch(b):
        # prefill of b prompts (their first tokens) + 127 decode steps of b sequences
        return float(core.prefill_seconds(f, b, i, 0.0) + core.decode_total_seconds(f, b, i, o - 1))

    # 5 requests on 2 slots: two full batches, then one request alone.
    assert float(core.finite_run_seconds(f, 2.0, 5.0, i, o)) == pytest.approx(
        2 * one_batch(2.0) + one_batch(1.0), rel=1e-12)
    # 4 on 2: exactly two batches (no empty third one).
    assert float(core.finite_run_seconds(f, 2.0, 4.0, i, o)) == pytest.approx(2 * one_batch(2.0), rel=1e-12)
    # Fewer requests than slots: one batch of all of them.
    assert float(core.finite_run_seconds(f, 256.0, 3.0, i, o)) == pytest.approx(one_batch(3.0), rel=1e-12)
    # The public method is the same run, and refuses a job of no requests.
    assert st.finite_run(5, 2, 1024, 128) == pytest.approx(
        (2 * one_batch(2.0) + one_batch(1.0), 5 * 128 / (2 * one_batch(2.0) + one_batch(1.0))), rel=1e-12)
    with pytest.raises(ValueError, match="n_requests"):
        st.finite_run(0, 2, 1024, 128)
    # A partly filled last batch never raises the throughput above the steady state.
    for n in (257.0, 300.0, 511.0, 512.0, 3000.0):
        assert n * o / float(core.finite_run_seconds(f, 256.0, n, i, o)) <= 256 * o / one_batch(256.0) * (1 + 1e-12)


def test_offline_rows_with_a_request_count_are_scored_as_that_finite_run():
    from hwcost.perf import fit

    rows = catalog.benchmarks()
    row = rows[rows["id"] == "trtllm-perfov-h200-sxm-gpt-oss-120b-int4-tp1-max-1024-1024"]
    # TensorRT-LLM's performance overview: 3,000 requests of 1,024 + 1,024 tokens.
    assert int(row["num_requests"].iloc[0]) == 3000
    v = fit.validate(row)
    b = float(v["batch_size_used"].iloc[0])
    assert 1 <= b < 1500  # memory-limited: more than two batches
    # The engine's fixed costs as of the row's date, as validate reads them.
    st = perf.step_times("gpt-oss-120b", "h200-sxm", precision="int4", engine="tensorrt-llm",
                         calibration=perf.calibration_as_of(None, row["as_of"].iloc[0]))
    expected = 3000 * 1024 / float(core.finite_run_seconds(st._f, b, 3000.0, 1024.0, 1024.0))
    assert v["predicted"].iloc[0] == pytest.approx(expected, rel=1e-9)
    steady = fit.validate(row.assign(num_requests=np.nan))
    assert steady["predicted"].iloc[0] > v["predicted"].iloc[0]
    # More requests than a row's batch limit never lift that limit; fewer lower it.
    few = fit.validate(row.assign(num_requests=100))
    assert float(few["batch_size_used"].iloc[0]) == 100


@pytest.mark.parametrize("column,bad", [("num_requests", "0"), ("num_requests", "many"),
                                        ("num_requests", "2.5"), ("max_batch", "0"),
                                        ("max_batch", "lots"), ("max_batch", "1.5")])
def test_a_count_column_that_is_not_a_positive_integer_is_refused(tmp_path, column, bad):
    rows = catalog.benchmarks()
    mine = rows[rows["id"] == "trtllm-perfov-h200-sxm-gpt-oss-120b-int4-tp1-max-1024-1024"].drop(
        columns="origin").assign(id="mine", **{column: bad})
    path = tmp_path / "benchmarks.csv"
    mine.to_csv(path, index=False)
    with pytest.raises(ValueError, match=column):
        catalog.benchmarks(path=path)


def test_truncated_exponential_scale_gives_the_asked_mean():
    # Mean of an exponential of scale m truncated at L: m - L e^(-L/m) / (1 - e^(-L/m)).
    for mean, cap in ((200.0, 1800.0), (100.0, 300.0), (50.0, 5000.0)):
        m = float(core.truncated_exponential_scale(mean, cap))
        e = math.exp(-cap / m)
        assert m - cap * e / (1 - e) == pytest.approx(mean, rel=1e-9)
        assert m >= mean
    # A cap five times the mean raises the scale by about 4 %, ten times by 0.05 %.
    assert 104.0 < float(core.truncated_exponential_scale(100.0, 500.0)) < 104.5
    assert float(core.truncated_exponential_scale(100.0, 1000.0)) == pytest.approx(100.045, abs=1e-3)


def test_one_request_of_spread_length_costs_its_mean_steps_by_hand():
    # One request on one slot: no queue, the drain is the expected number of decode steps
    # (the mean) at batch 1, plus the prompt's prefill.
    st = perf.step_times("llama-3.1-8b", "h100-sxm", engine="vllm")
    f, i, o = st._f, 200.0, 201.0
    step = float(core.decode_step_seconds(f, 1.0, i + 100.0))
    hand = float(core.prefill_seconds(f, 1.0, i, 0.0)) + 200.0 * step
    assert float(core.varied_finite_run_seconds(f, 1.0, 1.0, i, o, 2048.0 - i)) == pytest.approx(
        hand, rel=2e-3)


def test_spread_lengths_drain_slower_than_equal_ones_and_match_a_simulation():
    st = perf.step_times("llama-3.1-8b", "h100-sxm", engine="vllm")
    f, i, o, cap = st._f, 220.0, 200.0, 1828.0
    b, n = 64.0, 1000.0
    spread = float(core.varied_finite_run_seconds(f, b, n, i, o, cap))
    equal = float(core.finite_run_seconds(f, b, n, i, o))
    # The tail of long answers runs at a small batch: more time for the same tokens.
    assert spread > equal
    # Thousands of requests: the drain is a small part and the rate nears the full batch's.
    big = 200_000.0
    full_rate = b * o / float(core.batch_pass_seconds(f, b, i, o))
    assert big * o / float(core.varied_finite_run_seconds(f, b, big, i, o, cap)) == pytest.approx(
        full_rate, rel=0.02)
    # Against a step-by-step simulation of the same run (exponential decode steps of mean
    # o - 1 truncated at the cap; a freed slot takes the next request; each step at the
    # batch still running, context i + (o - 1) / 2): the decode part agrees within 3 %.
    rng = np.random.default_rng(7)
    scale = float(core.truncated_exponential_scale(o - 1.0, cap - 1.0))
    step_at = {k: float(core.decode_step_seconds(f, float(k), i + (o - 1.0) / 2.0))
               for k in range(1, int(b) + 1)}

    def simulate():
        lives = []
        while len(lives) < n:
            x = rng.exponential(scale, 4000)
            lives.extend(np.ceil(x[x <= cap - 1.0]).tolist())
        left = lives[: int(n)]
        slots, t = [left.pop() for _ in range(int(b))], 0.0
        while slots:
            t += step_at[len(slots)]
            slots = [s - 1.0 for s in slots]
            done = len(slots) - sum(s > 0 for s in slots)
            slots = [s for s in slots if s > 0] + [left.pop() for _ in range(done) if left]
        return t

    # One run's drain hangs on its few longest answers: the mean of 16 runs.
    simulated = float(np.mean([simulate() for _ in range(16)]))
    prefill = (n / b) * float(core.prefill_seconds(f, b, i, 0.0))
    assert spread - prefill == pytest.approx(simulated, rel=0.03)
    # The public method: the same run, and a cap at or under the mean is refused.
    assert st.finite_run(1000, 64, 220, 200, max_output_tokens=1828)[0] == pytest.approx(spread, rel=1e-12)
    with pytest.raises(ValueError, match="max_output_tokens"):
        st.finite_run(1000, 64, 220, 200, max_output_tokens=150)


def test_spread_length_occupancy_ratio_by_hand_and_by_quadrature():
    from scipy.integrate import quad

    # Untruncated exponential steps X of mean 99 (L = 1 + X, mean 100):
    # E[L^2] = 1 + 2 x 99 + 2 x 99^2 = 19,801, over 100^2.
    assert float(core.spread_length_occupancy_ratio(100.0, 1e7)) == pytest.approx(1.9801, rel=1e-9)
    # Equal lengths (one token, no decode step) hold what they hold: 1.
    assert float(core.spread_length_occupancy_ratio(1.0, 100.0)) == pytest.approx(1.0, abs=1e-6)
    # ShareGPT as the clients sample it (mean 201 out, cap 2048 - 217): the truncated
    # exponential's moments by numerical integration.
    o, cap = 201.0, 2048.0 - 217.0
    m = float(core.truncated_exponential_scale(o - 1.0, cap - 1.0))

    def moment(k):
        return quad(lambda x: (1.0 + x) ** k * math.exp(-x / m), 0.0, cap - 1.0)[0]

    by_quadrature = moment(2) * moment(0) / moment(1) ** 2
    assert float(core.spread_length_occupancy_ratio(o, cap)) == pytest.approx(by_quadrature, rel=1e-9)
    assert 1.98 < by_quadrature < 1.99


def test_spread_output_lengths_fit_fewer_sequences():
    # Qwen3-32B BF16 on one H100 under vLLM, ShareGPT-like lengths (217 in, 201 out on
    # average): vLLM hands out KV blocks as tokens come, so a sequence holds on average its
    # prompt + half its output; with spread lengths, prompt + ratio x half.
    kw = dict(engine="vllm", batch_size="max", input_tokens=217, output_tokens=201)
    equal = perf.estimate("qwen3-32b", "h100-sxm", **kw)
    spread = perf.estimate("qwen3-32b", "h100-sxm", max_output_tokens=1831, **kw)
    f = perf.step_times("qwen3-32b", "h100-sxm", engine="vllm")._f
    fixed, _, _, act_seq = core.memory_terms(f, 217.0, 201.0)
    ratio = float(core.spread_length_occupancy_ratio(201.0, 1831.0))
    per_seq = float(core.kv_sequence_bytes(f, 217.0 + 0.5 * ratio * 201.0)) + float(act_seq)
    assert spread.batch_size == math.floor((0.9 * f["mem"] - float(fixed)) / per_seq)
    assert spread.batch_size < equal.batch_size
    assert spread.output_tokens_per_s < equal.output_tokens_per_s
    # Below memory's limit (a fixed batch) the spread changes nothing.
    few = dict(kw, batch_size=8)
    assert perf.estimate("qwen3-32b", "h100-sxm", max_output_tokens=1831, **few).tpot_s == \
        perf.estimate("qwen3-32b", "h100-sxm", **few).tpot_s
    with pytest.raises(ValueError, match="max_output_tokens"):
        perf.estimate("qwen3-32b", "h100-sxm", max_output_tokens=201, **kw)


def test_sharegpt_offline_rows_are_scored_with_spread_lengths():
    from hwcost.perf import fit

    rows = catalog.benchmarks()
    row = rows[rows["id"] == "vllm-gpustack-h100-gpt-oss-120b-int4-tp1-max-sharegpt"]
    assert row["lengths"].iloc[0] == "sharegpt" and int(row["num_requests"].iloc[0]) == 1000
    v = fit.validate(row)
    b = float(v["batch_size_used"].iloc[0])
    i, o = float(row["input_tokens"].iloc[0]), float(row["output_tokens"].iloc[0])
    st = perf.step_times("gpt-oss-120b", "h100-sxm", precision="int4", engine="vllm",
                         calibration=perf.calibration_as_of(None, row["as_of"].iloc[0]))
    expected = 1000 * o / float(core.varied_finite_run_seconds(
        st._f, b, 1000.0, i, o, fit.SHAREGPT_MAX_TOTAL_TOKENS - i))
    assert v["predicted"].iloc[0] == pytest.approx(expected, rel=1e-9)
    # The same row with equal lengths is predicted faster (no drain).
    assert fit.validate(row.assign(lengths=""))["predicted"].iloc[0] > v["predicted"].iloc[0]


def test_a_sharegpt_rows_batch_is_the_estimates_with_spread_lengths():
    from hwcost.perf import fit

    rows = catalog.benchmarks()
    row = rows[rows["id"] == "vllm-gpustack-h100-qwen3-32b-bf16-tp1-max-sharegpt"]
    i, o = int(row["input_tokens"].iloc[0]), int(row["output_tokens"].iloc[0])
    e = perf.estimate("qwen3-32b", "h100-sxm", engine="vllm", batch_size="max", input_tokens=i,
                      output_tokens=o, max_output_tokens=fit.SHAREGPT_MAX_TOTAL_TOKENS - i)
    v = fit.validate(row)
    # Memory, not vLLM's 256, limits it: the spread lengths' batch, not the equal ones'.
    assert int(v["batch_size_used"].iloc[0]) == e.batch_size < 256
    equal = fit.validate(row.assign(lengths=""))
    assert int(equal["batch_size_used"].iloc[0]) > e.batch_size


def test_llama_cpp_quantized_products_run_on_int8_tensor_cores_since_mid_2024():
    import datetime

    spec = features.engine_specs()["llama.cpp"]
    rtx4090, mi300x = catalog.gpu("rtx-4090"), catalog.gpu("mi300x")
    # GGUF int4/int8 weights times int8-quantized activations: the 4090's 660.6 int8 TOPS,
    # against 330.4 TFLOPS for FP16 with FP16 accumulation (the dequantize-then-cuBLAS path).
    assert features.peak_flops(rtx4090, "int4", spec) == pytest.approx(660.6e12)
    assert features.peak_flops(rtx4090, "int8", spec) == pytest.approx(660.6e12)
    assert features.peak_flops(rtx4090, "fp16", spec) == pytest.approx(330.4e12)
    # Only NVIDIA GPUs with int8 tensor cores; other engines dequantize to 16-bit.
    assert features.peak_flops(mi300x, "int4", spec) == pytest.approx(1307.4e12)
    vllm = features.engine_specs()["vllm"]
    assert features.peak_flops(rtx4090, "int4", vllm) == pytest.approx(165.2e12)
    # A benchmark row dated before the default changed runs the old path.
    before = features.engine_as_of(spec, datetime.date(2024, 5, 31))
    assert features.peak_flops(rtx4090, "int4", before) == pytest.approx(330.4e12)
    assert features.engine_as_of(spec, "2026-06-04") is spec
    assert features.engine_as_of(spec, None) is spec


def test_tensorrt_llm_read_a_grouped_query_cache_once_per_query_head_before_xqa():
    spec = features.engine_specs()["tensorrt-llm"]
    llama70, llama7 = catalog.llm("llama-2-70b"), catalog.llm("llama-2-7b")
    # Rows of December 2023 (v0.6) ran the masked multi-head attention kernel; from v0.8
    # (March 2024) the XQA kernels load each key-value head once for its query group.
    before = features.engine_as_of(spec, "2023-12-31")
    assert before["gqa_shared_kv_reads"] is False
    assert features.engine_as_of(spec, "2024-03-01").get("gqa_shared_kv_reads", True) is True
    # Llama 2 70B, 64 query heads over 8 key-value heads: 1 + 0.5 x (8 - 1) = 4.5 reads.
    assert features.gqa_kv_read_factor(llama70, before) == 4.5
    assert features.gqa_kv_read_factor(llama70, spec) == 1.0
    # Multi-head attention (Llama 2 7B, 32 over 32) and engines that always shared: 1.
    assert features.gqa_kv_read_factor(llama7, before) == 1.0
    assert features.gqa_kv_read_factor(llama70, features.engine_specs()["vllm"]) == 1.0
    # The decode step's KV term on 2 x H100 (FP8 cache: 2 x 8 x 128 B x 80 layers = 163,840 B
    # a token, half on each GPU) at 0.5 of 3.35 TB/s: 4.5 x 163,840 x 0.5 / 1.675e12 s per
    # token of context; the weights' term does not change.
    h100, cal = catalog.gpu("h100-sxm"), unit_cal()
    now, then = (core.decode_coefficients(features.model_features(
        llama70, h100, s, "tensorrt-llm", "fp8", "fp8", 2, True, cal, "tp"), 1.0) for s in (spec, before))
    assert then[1] == pytest.approx(4.5 * 163840 * 0.5 / 1.675e12, rel=1e-12)
    assert then[1] == pytest.approx(4.5 * now[1], rel=1e-12)
    assert then[0] == now[0]


def test_tensorrt_llm_engines_ignored_a_models_sliding_window_before_the_pytorch_backend():
    spec = features.engine_specs()["tensorrt-llm"]
    mistral = catalog.llm("mistral-7b")
    # The v0.17 engines (February 2025) attended over the runtime's window, the whole
    # sequence unless set; the PyTorch backend (default from June 2025) takes the model's.
    before = features.engine_as_of(spec, "2025-02-28")
    assert before["model_sliding_window"] is False
    assert features.engine_as_of(spec, "2025-06-18") is spec
    # Mistral 7B v0.1: 32 layers x 2 x 8 KV heads x 128 x 2 B = 131,072 B a token, all in
    # windowed (4,096-token) layers with the window, all in full layers without it.
    now = features.model_numbers(mistral, "bf16", "bf16", spec)
    then = features.model_numbers(mistral, "bf16", "bf16", before)
    assert (now["kv_f"], now["kv_s"], now["window"]) == (0.0, 131072.0, 4096.0)
    assert (then["kv_f"], then["kv_s"]) == (131072.0, 0.0)
    assert then["window"] == core.NO_WINDOW
    # A 20,000-token context then holds 20,000 tokens of cache instead of 4,096; the weights
    # are the same, and engines that always applied the window (vLLM) keep it.
    assert core.kv_sequence_bytes(then, 20000) == 20000 * 131072
    assert core.kv_sequence_bytes(now, 20000) == 4096 * 131072
    assert then["w_bytes"] == now["w_bytes"]
    vllm = features.engine_as_of(features.engine_specs()["vllm"], "2025-02-28")
    assert features.model_numbers(mistral, "bf16", "bf16", vllm)["window"] == 4096.0


def test_every_running_sequence_adds_host_time_to_a_decode_step():
    # Llama 3.1 8B on one H100 under vLLM with a calibration whose only change is 5 us of host
    # work per running sequence per step: a step of 200 sequences takes 200 x 5 us = 1 ms
    # longer at any context, one of a single sequence 5 us longer.
    cal = features.default_calibration()
    more = features.Calibration({**cal.data, "sequence_step_overhead_s": 5e-6})
    base = perf.step_times("llama-3.1-8b", "h100-sxm", engine="vllm",
                           calibration=features.Calibration({**cal.data, "sequence_step_overhead_s": 0.0}))
    st = perf.step_times("llama-3.1-8b", "h100-sxm", engine="vllm", calibration=more)
    for batch, context in ((200, 200_000), (1, 50)):  # tokens held by the whole batch
        assert st.decode_step_seconds(batch, context) - base.decode_step_seconds(batch, context) == \
            pytest.approx(batch * 5e-6, rel=1e-9)
    # The simulator's mixed iteration charges the same for its decoding sequences.
    assert st.iteration_seconds(0, 200, 200_000, 0) == pytest.approx(st.decode_step_seconds(200, 200_000), rel=1e-9)
    assert st.iteration_seconds(512, 200, 200_000, 0) - base.iteration_seconds(512, 200, 200_000, 0) == \
        pytest.approx(200 * 5e-6, rel=1e-9)
    # The stored calibration carries the fitted figure; a calibration without it, none.
    assert 0.0 < cal.sequence_step_overhead_s < 1e-4
    assert features.Calibration({}).sequence_step_overhead_s == 0.0


def test_a_compiled_prefill_pass_pays_its_own_fixed_cost_ratio():
    # A calibration with a fixed-cost ratio of 10 for prefill passes launched kernel by kernel
    # and 2 for compiled ones: vLLM's prefill pass pays 10 x its decode step's fixed cost,
    # LMDeploy's TurboMind 2 x, TensorRT-LLM 2 x with its engines (before 18 June 2025) and
    # 10 x with the PyTorch backend after.
    cal = features.Calibration({**features.default_calibration().data,
                                "prefill_overhead_ratio": 10.0,
                                "compiled_prefill_overhead_ratio": 2.0})
    specs = features.engine_specs()
    m, g = catalog.llm("llama-3.1-8b"), catalog.gpu("a100-80gb-sxm")
    trt = specs["tensorrt-llm"]
    cases = (("vllm", specs["vllm"], 10.0), ("lmdeploy", specs["lmdeploy"], 2.0),
             ("tensorrt-llm", features.engine_as_of(trt, "2025-02-28"), 2.0),
             ("tensorrt-llm", features.engine_as_of(trt, "2025-06-18"), 10.0))
    for eid, spec, ratio in cases:
        f = features.model_features(m, g, spec, eid, "bf16", "bf16", 1, True, cal)
        assert f["ovh_prefill"] == pytest.approx(ratio * f["ovh"], rel=1e-12)
    # One 512-token prompt is one prefill pass: moving the compiled ratio from 2 to 5 makes
    # LMDeploy's prefill 3 x its fixed cost longer and leaves vLLM's alone.
    later = features.Calibration({**cal.data, "compiled_prefill_overhead_ratio": 5.0})
    lm = features.model_features(m, g, specs["lmdeploy"], "lmdeploy", "bf16", "bf16", 1, True, cal)
    for eid, extra in (("lmdeploy", 3.0 * lm["ovh"]), ("vllm", 0.0)):
        a = perf.estimate(m, g, engine=eid, input_tokens=512, calibration=cal).prefill_s
        b = perf.estimate(m, g, engine=eid, input_tokens=512, calibration=later).prefill_s
        assert b - a == pytest.approx(extra, rel=1e-9, abs=1e-15)
    # A calibration from before the split uses its one ratio for both kinds.
    old = features.Calibration({"prefill_overhead_ratio": 7.0})
    assert old.compiled_prefill_overhead_ratio == 7.0
    assert features.prefill_overhead_ratio({}, old) == 7.0  # no flag: eager
    # The stored calibration fits both, the compiled one the smaller.
    stored = features.default_calibration()
    assert 1.0 < stored.compiled_prefill_overhead_ratio < stored.prefill_overhead_ratio


def test_tensorrt_llm_runs_mxfp4_experts_with_fp8_activations_on_blackwell():
    # gpt-oss's experts are published in MXFP4 (served as int4). TensorRT-LLM's MoE backend
    # multiplies them by MXFP8 activations on Blackwell: B200's FP8 rate, 4,500 TFLOP/s, with
    # the FP8 factor and no weight-only share. On H200, under vLLM, and for an AWQ int4 Llama
    # the products stay weight-only at the 16-bit rate (B200: 2,250 TFLOP/s).
    specs = features.engine_specs()
    oss, llama = catalog.llm("gpt-oss-120b"), catalog.llm("llama-3.1-8b")
    b200, h200 = catalog.gpu("b200"), catalog.gpu("h200-sxm")
    trt = specs["tensorrt-llm"]
    assert features.math_precision(oss, b200, "int4", trt) == "fp8"
    assert features.math_precision(oss, h200, "int4", trt) == "int4"
    assert features.math_precision(oss, b200, "int4", specs["vllm"]) == "int4"
    assert features.math_precision(llama, b200, "int4", trt) == "int4"
    assert features.math_precision(oss, b200, "fp4", trt) == "fp4"
    cal = features.default_calibration()
    f = features.model_features(oss, b200, trt, "tensorrt-llm", "int4", "bf16", 1, True, cal)
    assert f["peak"] == 4500e12
    assert (f["wo_c"], f["wo_bw"]) == (1.0, 1.0)
    fp8 = features.efficiency_factors(cal, "tensorrt-llm", "hbm", "fp8", b200)
    assert f["eta_c"] == pytest.approx(fp8["eta_c"], rel=1e-12)
    g = features.model_features(llama, b200, trt, "tensorrt-llm", "int4", "bf16", 1, True, cal)
    assert g["peak"] == 2250e12 and g["wo_c"] == cal.weight_only_factor
    # The weights are the same MXFP4 bytes either way; only the products' rate changes.
    h = features.model_features(oss, b200, specs["vllm"], "vllm", "int4", "bf16", 1, True, cal)
    assert h["w_bytes"] == f["w_bytes"]
    # A sweep gives each model its own rate: it agrees with the estimate of each point.
    df = perf.sweep(["gpt-oss-120b", "llama-3.1-8b"], ["b200", "h200-sxm"], precisions=["int4"],
                    batch_sizes=[256], engine="tensorrt-llm")
    for r in df.itertuples(index=False):
        e = perf.estimate(r.model_id, r.gpu_id, precision="int4", batch_size=256,
                          engine="tensorrt-llm")
        assert r.output_tokens_per_s == pytest.approx(e.output_tokens_per_s, rel=1e-9)


def test_attention_runs_at_the_cache_type_not_the_weights():
    vllm = features.engine_specs()["vllm"]
    h100, b200 = catalog.gpu("h100-sxm"), catalog.gpu("b200")
    # FP8 weights with a 16-bit cache (vLLM's default): attention at the BF16 rate, half FP8's
    assert features.attention_rate_ratio(h100, "fp8", "bf16", vllm) == pytest.approx(989.4 / 1978.9, rel=1e-3)
    # with an FP8 cache the products run in FP8, the weights' rate
    assert features.attention_rate_ratio(h100, "fp8", "fp8", vllm) == 1.0
    # 4-bit weights dequantize to BF16; an FP8 cache then attends twice as fast as they multiply
    assert features.attention_rate_ratio(h100, "int4", "fp8", vllm) == pytest.approx(1978.9 / 989.4, rel=1e-3)
    # FP4 weights on Blackwell: no FP4 attention, the FP8 cache's rate
    assert features.attention_rate_ratio(b200, "fp4", "fp8", vllm) == pytest.approx(
        b200.fp8_tflops / b200.fp4_tflops, rel=1e-9)
    assert features.attention_rate_ratio(h100, "bf16", "bf16", vllm) == 1.0
    # A 32k-token prompt of an FP8 model with a 16-bit cache: its attention (compute-bound)
    # takes the attention FLOPs at the BF16 rate, so the prefill is slower by exactly the
    # difference to the FP8 rate; estimate and sweep agree on it.
    st = perf.step_times("llama-3.1-8b", "h100-sxm", precision="fp8", kv_precision="bf16", engine="vllm")
    f = dict(st._f)
    assert f["attn_rate"] == pytest.approx(0.5, rel=1e-3)
    kv_bytes, _, _, attn, _ = core.prefill_terms(f, 1.0, 32768.0)
    peak = f["peak"] * f["eta_cp"]
    assert attn / (peak * f["attn_rate"]) > kv_bytes / (f["bw"] * f["eta_bw"])  # compute-bound
    slow = float(core.prefill_seconds(f, 1.0, 32768.0))
    fast = float(core.prefill_seconds(dict(f, attn_rate=1.0), 1.0, 32768.0))
    assert slow - fast == pytest.approx(attn / (peak * f["attn_rate"]) - attn / peak, rel=1e-9)
    est = perf.estimate("llama-3.1-8b", "h100-sxm", precision="fp8", kv_precision="bf16", engine="vllm",
                        batch_size=1, input_tokens=32768, output_tokens=16)
    sw = perf.sweep("llama-3.1-8b", "h100-sxm", precisions=("fp8",), kv_precision="bf16", engine="vllm",
                    batch_sizes=(1,), input_tokens=(32768,), output_tokens=(16,))
    assert est.ttft_s == pytest.approx(slow, rel=1e-9)
    assert float(sw["ttft_s"].iloc[0]) == pytest.approx(slow, rel=1e-9)


def test_max_batch_caps_the_batch_that_fills_memory():
    # Llama 3.1 8B FP8 on one L40S under vLLM, prompts of 871 tokens and 128 out (the MLPerf
    # llama3.1-8b means): vLLM's default limit on a 48 GB GPU is 256 sequences.
    kw = dict(precision="fp8", engine="vllm", batch_size="max", input_tokens=871, output_tokens=128)
    default = perf.estimate("llama-3.1-8b", "l40s", **kw)
    assert default.batch_size == 256
    # A limit below what memory holds is the batch, and it runs as that fixed batch.
    low = perf.estimate("llama-3.1-8b", "l40s", max_batch=64, **kw)
    fixed = perf.estimate("llama-3.1-8b", "l40s", **{**kw, "batch_size": 64})
    assert low.batch_size == 64
    assert low.output_tokens_per_s == pytest.approx(fixed.output_tokens_per_s, rel=1e-12)
    # A limit above it leaves memory as the limit: one sequence more no longer fits.
    high = perf.estimate("llama-3.1-8b", "l40s", max_batch=1024, **kw)
    assert 256 < high.batch_size < 1024
    assert perf.estimate("llama-3.1-8b", "l40s", **{**kw, "batch_size": high.batch_size}).fits
    assert not perf.estimate("llama-3.1-8b", "l40s", **{**kw, "batch_size": high.batch_size + 1}).fits
    assert high.output_tokens_per_s > default.output_tokens_per_s
    # On an H100 SXM (80 GB) the default of 1024 is above what memory holds: memory sets it.
    h100 = perf.estimate("llama-3.1-8b", "h100-sxm", **kw)
    assert h100.batch_size == perf.estimate("llama-3.1-8b", "h100-sxm", max_batch=4096, **kw).batch_size
    assert 256 < h100.batch_size < 1024
    with pytest.raises(ValueError, match="max_batch"):
        perf.estimate("llama-3.1-8b", "l40s", max_batch=0, **kw)


def test_vllm_caps_sequences_at_1024_on_large_gpus_since_april_2025():
    vllm = features.engine_specs()["vllm"]
    before = features.engine_as_of(vllm, "2025-03-01")
    # 70 GiB or more and not an A100: 1024; smaller GPUs and A100s: 256; rows dated before
    # April 2025 (V0, and V1 on most GPUs until then): 256 everywhere.
    for gpu_id, now, then in (("h100-sxm", 1024, 256), ("h200-sxm", 1024, 256), ("mi300x", 1024, 256),
                              ("a100-80gb-sxm", 256, 256), ("l40s", 256, 256), ("rtx-4090", 256, 256)):
        g = catalog.gpu(gpu_id)
        assert features.batch_cap(vllm, g) == now, gpu_id
        assert features.batch_cap(before, g) == then, gpu_id
    # Engines without the rule keep their plain cap (TensorRT-LLM 2048, SGLang none).
    assert features.batch_cap(features.engine_specs()["tensorrt-llm"], catalog.gpu("h100-sxm")) == 2048
    assert features.batch_cap(features.engine_specs()["sglang"], catalog.gpu("h100-sxm")) == math.inf
    assert perf.step_times("llama-3.1-8b", "h100-sxm", engine="vllm").max_batch_size == 1024
    assert perf.step_times("llama-3.1-8b", "l40s", engine="vllm").max_batch_size == 256


def test_a_benchmark_rows_max_batch_is_the_servers_sequence_limit():
    from hwcost.perf import fit

    rows = catalog.benchmarks()
    row = rows[rows["id"] == "mlperf-v5.1-redhat-h100-llama-3.1-8b-fp8-tp1-offline"]
    # Red Hat's MLPerf v5.1 run started vLLM with --max-num-seqs 1024.
    assert int(row["max_batch"].iloc[0]) == 1024
    e = perf.estimate("llama-3.1-8b", "h100-sxm", precision="fp8", kv_precision="fp8",
                      engine="vllm", batch_size="max", input_tokens=int(row["input_tokens"].iloc[0]),
                      output_tokens=int(row["output_tokens"].iloc[0]), max_batch=1024)
    v = fit.validate(row)
    assert int(v["batch_size_used"].iloc[0]) == e.batch_size > 256
    # Without the column the engine's default applies: 1024 on an H100 since April 2025 (the
    # same figure), 256 for a row dated before.
    assert int(fit.validate(row.assign(max_batch=np.nan))["batch_size_used"].iloc[0]) == e.batch_size
    default = fit.validate(row.assign(max_batch=np.nan, as_of="2025-03-01"))
    assert int(default["batch_size_used"].iloc[0]) == 256
    assert default["predicted"].iloc[0] < v["predicted"].iloc[0]
