from hwcost import catalog, perf

STEM = "05_model_gpu_matching"
# a 32k-token prompt: more KV cache per sequence can only keep or raise every GPU count
PARAMS = {"input_tokens": 32768, "output_tokens": 1024}


def check_default(r):
    cells = r["min_gpus"]
    assert r["n_cells"] == len(cells) and 0 < r["n_cells_fit"] <= r["n_cells"]
    assert r["n_cells_fit"] == sum(1 for v in cells.values() if v > 0)
    # 405.85e9 parameters x 2 bytes = 812 GB; 8 x 0.9 x 80 GB = 576 GB is too little and the
    # next count the heads allow is 16
    assert cells["llama-3.1-405b|h100-sxm|bf16"] == 16
    # 7.6e9 parameters x 2 bytes = 15 GB fit a 24 GB card
    assert cells["qwen2.5-7b|rtx-4090|bf16"] == 1
    # the A100 has no FP8 tensor cores
    assert cells["llama-3.1-70b|a100-80gb-sxm|fp8"] == -1
    # fewer bits never need more GPUs
    for key, n in cells.items():
        model, gpu, prec = key.split("|")
        if prec == "int4" and n > 0:
            n16 = cells[f"{model}|{gpu}|bf16"]
            assert n16 == -1 or n <= n16
    assert abs(r["weights_gb_16bit"]["llama-3.1-70b"] - 2 * catalog.llm("llama-3.1-70b").total_params_b) < 0.5
    # article table: 19 GPU options, split into the three outcomes
    assert r["n_options"] == 19
    assert r["n_hold_16bit"] + r["n_hold_quantized"] + r["n_hold_none"] == r["n_options"]
    # one B200 (180 GB) cannot hold 405B even at 4 bits (211 GB)
    assert r["holds"]["405B|b200|1|cloud"] == "no"
    assert r["holds"]["7B|rtx-4090|1|cloud"] == "yes, 16-bit"
    # a 70B model never fits one 80 GB GPU at 16-bit (141 GB of weights)
    assert r["holds"]["70B|h100-sxm|1|cloud"] != "yes, 16-bit"
    # FAQ: a 24 GB card's largest model is smaller than a 48 GB card's
    assert r["faq_rtx_4090_largest_params_b"] < r["faq_rtx_6000_ada_largest_params_b"]
    assert r["faq_rtx_4090_largest_params_b"] <= 24 * 8 / perf.WEIGHT_BITS["int4"]
    assert r["focus_n_configs"] >= 1 and r["focus_best_per_gpu"] > r["focus_fastest_tokens_per_s"] > 0


def check_alternative(r, default):
    assert set(r["min_gpus"]) == set(default["min_gpus"])
    for key, n_long in r["min_gpus"].items():
        n_short = default["min_gpus"][key]
        if n_short == -1:
            assert n_long == -1, key
        elif n_long != -1:
            assert n_long >= n_short, key
    assert r["n_cells_fit"] <= default["n_cells_fit"]
    # gemma-2-27b's 8,192-token window cannot take a 32k prompt
    assert all(v == -1 for k, v in r["min_gpus"].items() if k.startswith("gemma-2-27b|"))
    assert r["n_hold_16bit"] <= default["n_hold_16bit"]
    assert r["n_hold_none"] >= default["n_hold_none"]
    assert r["weights_gb_16bit"] == default["weights_gb_16bit"]
