import math

import pytest

from hwcost import perf

STEM = "06_scaling_patterns"
# four times the traffic on the same model and GPU: never fewer replicas or GPUs
PARAMS = {"requests_per_day": 8_000_000}
MODEL, GPU, PRECISION = "llama-3.1-70b", "h100-sxm", "fp8"


def _common(r):
    assert r["fewest_gpus"] == perf.min_gpus_to_fit(MODEL, GPU, PRECISION, engine="vllm",
                                                    input_tokens=512, output_tokens=256)
    # 16-bit weights need more GPUs than 8-bit, 8-bit more than 4-bit
    f = r["fewest_by_precision"]
    assert f["bf16"] >= f["fp8"] >= f["int4"] >= 1
    # tensor parallel: faster with more GPUs, below ideal, and slower over PCIe
    sp = {int(k): v for k, v in r["tp_speedup"].items()}
    ns = sorted(sp)
    assert sp[1] == pytest.approx(1.0)
    assert all(sp[a] < sp[b] < b / a * sp[a] for a, b in zip(ns, ns[1:]))
    comm, what_if = r["tp_comm_s"], r["what_if_comm_s"]
    for n in comm:
        if int(n) > 1:
            assert what_if[n] > comm[n] > 0
            assert r["what_if_speedup"][n] < sp[int(n)]
    # pipeline parallel never beats tensor parallel on one stream's time per token
    t = r["pp_tpot_batch1"]
    for link in ("nvlink", "pcie"):
        assert t[f"pipeline parallel, {link}"] > t[f"tensor parallel, {link}"]
        # nor one GPU's: a token still passes every layer, plus per-stage costs and hand-offs
        assert t[f"pipeline parallel, {link}"] >= {int(k): v for k, v in r["tp_step_s"].items()}[1]
    # concurrency: the SLO never allows more than memory and the TPOT target
    assert 0 < r["users_per_replica"]
    assert r["sequences_within_tpot"] <= r["max_sequences"]
    assert 1 < r["batch8_throughput_ratio"] <= 8 and r["batch8_extra_latency_s"] > 0
    # replicas: at least the utilization bound, GPUs = replicas x GPUs per replica
    assert r["feasible"]
    assert r["total_gpus"] == r["replicas"] * r["n_gpus_per_replica"]
    assert r["machines"] == math.ceil(r["total_gpus"] / 8)
    assert r["replicas"] >= math.ceil(r["peak_requests_per_s"] / r["saturation_requests_per_s"] - 1e-9)
    assert 0 < r["plan_utilization"] <= 0.9 + 1e-9
    assert r["plan_utilization"] == pytest.approx(
        r["peak_requests_per_s"] / r["replicas"] / r["saturation_requests_per_s"], rel=1e-4)


def check_default(r):
    _common(r)
    # 2,000,000 requests a day, flat: 2e6 / 86,400 = 23.15 per second
    assert r["peak_requests_per_s"] == pytest.approx(2e6 / 86_400, rel=1e-5)
    # 70B: 141 GB at 16 bits needs two 80 GB (85.9e9-byte) GPUs, 71 GB at 8 bits one
    assert r["fewest_by_precision"]["bf16"] == 2 and r["fewest_gpus"] == 1


def check_alternative(r, default):
    _common(r)
    assert r["peak_requests_per_s"] == pytest.approx(4 * default["peak_requests_per_s"], rel=1e-5)
    # more traffic never needs fewer replicas or GPUs; the replica itself is unchanged
    assert r["total_gpus"] >= default["total_gpus"]
    if r["n_gpus_per_replica"] == default["n_gpus_per_replica"]:
        # same replica, same capacity: only the count grows
        assert r["replicas"] >= default["replicas"]
        assert r["saturation_requests_per_s"] == pytest.approx(default["saturation_requests_per_s"], rel=1e-4)
    assert r["users_per_replica"] == pytest.approx(default["users_per_replica"], rel=1e-4)
