import pytest

from hwcost import economics, optimization, perf

STEM = "04_optimization_strategies"
# the article's 13B model on the article's RTX 4090 at its scenario-1 request shape
PARAMS = {"model": "llama-2-13b", "gpu": "rtx-4090", "precision": "fp16",
          "requests_per_day": 5000, "input_tokens": 500, "output_tokens": 150}
DEFAULT = {"model": "llama-3.1-70b", "gpu": "h100-sxm", "provider": "runpod", "read_gbps": 2.0,
           "startup_s": 30, "acceptance_rate": 0.7, "draft_tokens": 4,
           "draft_model": "llama-3.2-3b"}


def _usd_per_mtok(usd_per_hour, tokens_per_s):
    return usd_per_hour / (3600 * tokens_per_s) * 1e6


def _common(r, model, gpu, baseline, input_tokens, output_tokens):
    price = r["usd_per_gpu_hour"]
    assert price == pytest.approx(economics.cloud_rate("runpod", gpu).usd_per_gpu_hour)
    w = r["weights_gb"]
    for prec, gb in w.items():
        assert gb == pytest.approx(perf.weights_bytes(model, prec, "vllm") / 1e9, rel=1e-4)
    # 8-bit weights are about half of 16-bit, 4-bit less again
    assert 0.45 < w["int8"] / w[baseline] < 0.56 and w["int4"] < w["int8"]
    n = r["n_gpus_by_precision"]
    assert n[baseline] >= n["int8"] >= n["int4"]
    # batch-1 decode: faster with fewer bytes, by less than the byte ratio
    s, b = r["speedup_by_precision"], r["bytes_speedup_by_precision"]
    assert s[baseline] == pytest.approx(1.0)
    assert 1 < s["int4"] < b["int4"]
    for prec, cost in r["quant_usd_per_mtok"].items():
        assert cost == pytest.approx(_usd_per_mtok(price * n[prec], r["quant_tokens_per_s"][prec]), rel=1e-4)
    q = r["quantized_precision"]
    assert r["quant_usd_per_mtok"][q] == min(v for k, v in r["quant_usd_per_mtok"].items() if k != baseline)
    # batching: cost per request falls exactly as throughput rises
    assert 1 < r["batch8_throughput_ratio"] <= 8
    assert r["batch8_cost_reduction"] == pytest.approx(1 - 1 / r["batch8_throughput_ratio"], rel=1e-4)
    # continuous batching serves at least as much as request-level batching
    mx, sat = r["sched_max_rps"], r["sched_saturation_rps"]
    assert mx["continuous"] >= max(mx["static"], mx["dynamic"])
    assert sat["continuous"] >= sat["static"] and r["continuous_vs_static_saturation"] >= 1
    assert r["continuous_usd_per_mtok"] == pytest.approx(
        _usd_per_mtok(price * n[q], r["continuous_output_tokens_per_s"]), rel=1e-4)
    # caching: load = weights / bandwidth; cold start = start-up + load
    assert r["load_s"] == pytest.approx(r["weights_gb_quantized"] / DEFAULT["read_gbps"], rel=1e-4)
    assert r["cold_start_s"] == pytest.approx(DEFAULT["startup_s"] + r["load_s"], rel=1e-4)
    assert r["always_on_usd_per_day"] >= 24 * price * n[q] - 1e-6
    # scale to zero bills at most each hour plus one cold start per hour
    assert r["scale_to_zero_usd_per_day"] <= r["always_on_usd_per_day"] * (1 + r["cold_start_s"] / 3600)
    assert r["cold_share_sparse"] > 0.9  # one request a day always meets a stopped replica
    # speculative decoding: Leviathan et al.'s expectation over the step-cost ratios
    a, k = DEFAULT["acceptance_rate"], DEFAULT["draft_tokens"]
    expected = (1 - a ** (k + 1)) / (1 - a)
    assert r["spec_speedup_batch1"] == pytest.approx(
        expected / (k * r["draft_cost_ratio"] + r["spec_verify_ratio_batch1"]), rel=1e-4)
    # at the operating batch: the same expression from the step times there; it can exceed
    # the batch-1 figure (a target whose step is mostly its KV reads verifies k + 1 tokens
    # per read) but never the tokens one verification yields (verifying costs >= one step)
    ctx = input_tokens + output_tokens / 2
    spec = optimization.Speculation(DEFAULT["draft_model"], a, k)
    op = optimization.speculative_at_batch(model, gpu, spec, batch_size=max(r["operating_batch"], 1),
                                           n_gpus=n[q], precision=q, engine="vllm",
                                           context_tokens=ctx)
    assert r["spec_speedup_operating"] == pytest.approx(op.speedup, rel=1e-4)
    assert op.verify_cost_ratio >= 1 and r["spec_speedup_operating"] < expected
    # flash attention gains grow with the prompt and never cost
    assert r["flash_speedup_longest"] >= r["flash_speedup_shortest"] >= 1
    assert r["no_flash_usd_per_mtok"] >= r["flash_usd_per_mtok"]
    # the waterfall: each step priced as price x GPUs / throughput; batching batches
    wc, wn, wt = r["waterfall_usd_per_mtok"], r["waterfall_n_gpus"], r["waterfall_tokens_per_s"]
    for lever, cost in wc.items():
        assert cost == pytest.approx(_usd_per_mtok(price * wn[lever], wt[lever]), rel=1e-4)
    assert wn["baseline"] == n[baseline] and wn["quantization"] == n[q]
    assert r["waterfall_batch"]["batching"] > 1
    assert wc["batching"] < wc["speculative decoding"]
    assert wc["distillation"] < wc["baseline"]
    assert r["total_reduction"] == pytest.approx(1 - wc["distillation"] / wc["baseline"], rel=1e-4)
    assert r["waterfall_gpus_at_peak"]["batching"] <= r["waterfall_gpus_at_peak"]["baseline"]


def check_default(r):
    _common(r, DEFAULT["model"], DEFAULT["gpu"], "bf16", 512, 256)
    # 141 GB of 16-bit weights: one 80 GB GPU holds 80 x 2^30 = 85.9e9 bytes, so two are needed
    # (2 x 85.9 x 0.9 usable = 154.6 GB); 8-bit (71 GB) and 4-bit weights fit one
    assert r["n_gpus_by_precision"]["bf16"] == 2
    assert r["n_gpus_by_precision"]["fp8"] == r["n_gpus_by_precision"]["int4"] == 1
    # what-ifs at their defaults (keep 80% of layers, 80% of prompts, a half-depth student):
    # each saves something, less than all; halving the layers saves more than dropping a fifth
    saved = r["what_if_saving"]
    assert all(0 < v < 1 for v in saved.values())
    assert saved["distillation"] > saved["layer pruning"]


def check_alternative(r, default):
    _common(r, PARAMS["model"], PARAMS["gpu"], "fp16", PARAMS["input_tokens"], PARAMS["output_tokens"])
    # 13.02e9 parameters x 2 bytes = 26.04 GB: two 24 GB cards at fp16, one once quantized
    assert r["weights_gb"]["fp16"] == pytest.approx(26.04, rel=1e-3)
    assert r["n_gpus_by_precision"]["fp16"] == 2
    assert r["n_gpus_by_precision"]["int8"] == r["n_gpus_by_precision"]["int4"] == 1
    # a smaller model loads faster from the same store
    assert r["load_s"] < default["load_s"]
    assert r["usd_per_gpu_hour"] < default["usd_per_gpu_hour"]
