from hwcost import catalog, matching, perf

STEM = "01_workload_types"
# a small model on a GDDR data-centre card instead of 70B on two H100s
PARAMS = {"model": "llama-3.1-8b", "gpu": "l40s", "n_gpus": 1, "precision": "bf16"}


def _common(r, model, gpu, n_gpus, precision, input_tokens=1024, output_tokens=256):
    g = catalog.gpu(gpu)
    m = catalog.llm(model)
    # the batch-1 step can never beat reading the weights at peak bandwidth
    floor = perf.weights_bytes(m, precision) / n_gpus / (g.mem_bw_gbps * 1e9)
    assert abs(r["weight_read_s"] / floor - 1) < 1e-4
    assert r["batch1_tpot_s"] > r["weight_read_s"]
    # e2e = ttft + (output - 1) x tpot
    e2e = r["batch1_ttft_s"] + (output_tokens - 1) * r["batch1_tpot_s"]
    assert abs(r["batch1_e2e_s"] - e2e) < 1e-3 * r["batch1_e2e_s"]
    # the prefill pass gives the first token
    assert abs(r["batch1_ttft_s"] - r["batch1_prefill_s"]) <= 1e-9 * r["batch1_ttft_s"]
    # batch-1 decode is memory-bound, prefill compute-bound
    assert r["decode_intensity"] < r["ridge_point"]
    assert r["prefill_flop_s"] > r["weight_read_s"]
    # KV bytes per token: 2 x layers x KV heads x head_dim x bytes
    kv_bytes = 1 if precision == "fp8" else 2
    assert r["kv_cache_bytes_per_token"] == 2 * m.n_layers * m.n_kv_heads * m.head_dim * kv_bytes
    # batch ordering: targets with prompts together <= joining <= memory; streaming >= joining
    assert 1 <= r["batch_meeting_targets"] <= r["batch_meeting_targets_joining"] <= r["max_batch_memory"]
    assert r["batch_meeting_targets_joining"] <= r["batch_streaming"] <= r["max_batch_memory"]
    assert r["throughput_batch1"] < r["throughput_max_batch"]
    assert r["tpot_max_batch_s"] > r["batch1_tpot_s"]
    assert abs(r["reading_tpot_s"] - 60 / (238 * 4 / 3)) < 1e-6
    assert r["bandwidth_speed_correlation"] > 0.8 and r["n_gpus_compared"] >= 5
    if r["ridge_batch"]:
        assert r["ridge_batch"] >= 2


def check_default(r):
    _common(r, "llama-3.1-70b", "h100-sxm", 2, "fp8")
    # 70.55e9 parameters at 8 bits (16-bit embeddings) weigh about 72 GB
    assert 70 < r["weights_gb"] < 75
    # the article's 1 s first-token bound allows the same batch as the default 1 s target
    assert r["batch_within_article_ttft"] == r["batch_meeting_targets"]


def check_alternative(r, default):
    _common(r, "llama-3.1-8b", "l40s", 1, "bf16")
    assert abs(r["weights_gb"] - 2 * catalog.llm("llama-3.1-8b").total_params_b) < 0.1
    # 8.03e9 parameters x 2 bytes read at 864 GB/s: 18.6 ms
    assert abs(r["weight_read_s"] - 8.03e9 * 2 / 864e9) < 2e-4
    assert r["kv_cache_bytes_per_token"] == 131_072 and default["kv_cache_bytes_per_token"] == 163_840
    assert r["throughput_max_batch"] > 0
    assert r["max_batch_memory"] == matching.max_batch_by_memory(
        "llama-3.1-8b", "l40s", precision="bf16", input_tokens=1024, output_tokens=256)
