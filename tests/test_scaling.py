"""Tests of hwcost.scaling: all-reduce arithmetic, links, tensor vs pipeline parallel, replicas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hwcost import catalog, perf, serving
from hwcost import scaling as sc
from hwcost.workload import Workload

FAST = settings(max_examples=50, deadline=None)
BIG = "llama-3.1-70b"


# ----------------------------------------------------------------------------------------
# All-reduce and links
# ----------------------------------------------------------------------------------------
def test_allreduce_known_answer():
    # 10 us + 2 x 3/4 x 1 MB / 100 GB/s = 10 us + 15 us
    assert sc.allreduce_seconds(1e6, 4, 100.0, 10e-6) == pytest.approx(25e-6)
    assert sc.allreduce_seconds(1e6, 1, 100.0, 10e-6) == 0.0
    out = sc.allreduce_seconds([1e6, 2e6], 2, 100.0)
    assert out.tolist() == pytest.approx([1e-5, 2e-5])


def test_allreduce_midsize_rate_covers_the_first_16_mib():
    # 20 MiB over 8 GPUs: 16 MiB at 200 GB/s, 4 MiB at 400 GB/s, x 2 x 7/8, plus 10 us:
    # 10 + 1.75 x (83.88608 + 10.48576) us = 175.15072 us.
    t = sc.allreduce_seconds(20 * 2**20, 8, 400.0, 10e-6, midsize_link_gbps=200.0)
    assert t == pytest.approx(175.15072e-6, rel=1e-12)
    # Up to 16 MiB only the mid-size rate counts: 1 MB at 100 GB/s over 4 GPUs = 15 us.
    assert sc.allreduce_seconds(1e6, 4, 1000.0, 10e-6, midsize_link_gbps=100.0) == pytest.approx(25e-6)
    with pytest.raises(ValueError, match="midsize_link_gbps"):
        sc.allreduce_seconds(1e6, 4, 100.0, midsize_link_gbps=0.0)


@pytest.mark.parametrize("kw", [dict(message_bytes=-1), dict(n_gpus=0), dict(n_gpus=2.5),
                                dict(link_gbps=0), dict(latency_s=-1e-6)])
def test_allreduce_rejects_bad_input(kw):
    args = dict(message_bytes=1e6, n_gpus=2, link_gbps=100.0, latency_s=0.0)
    args.update(kw)
    with pytest.raises(ValueError, match=list(kw)[0]):
        sc.allreduce_seconds(**args)


@FAST
@given(st.floats(1e3, 1e9), st.integers(2, 64), st.floats(1.0, 1000.0))
def test_ring_traffic_approaches_twice_the_message(m, n, bw):
    t = sc.allreduce_seconds(m, n, bw)
    assert t <= 2 * m / (bw * 1e9) * (1 + 1e-12)
    assert t >= m / (bw * 1e9) * (1 - 1e-12)


def test_links_from_the_catalog():
    # NVLink 4: 900 GB/s bidirectional, 450 per direction; nccl-tests measured 478.87 GB/s
    # bus bandwidth on 8 x H100 SXM (in-switch reduction), capped at the link's 450
    # and at mid-size messages 366.27 GB/s (the slope of its published 1 and 4 MiB times)
    assert sc.link("h100-sxm", 8) == pytest.approx(
        {"kind": "nvlink", "link_gbps": 450.0, "latency_s": sc.link("h100-sxm", 8)["latency_s"],
         "midsize_link_gbps": 366.269062})
    # Infinity Fabric on 8 x MI300X: rccl-tests 318.98 GB/s, below 0.8 x 448
    assert sc.link("mi300x", 8)["link_gbps"] == pytest.approx(318.98)
    # an NVLink bridge joins two cards; four fall back to PCIe 5
    assert sc.link("h100-pcie", 2)["kind"] == "nvlink"
    four = sc.link("h100-pcie", 4)
    assert four["kind"] == "pcie"
    assert four["link_gbps"] == pytest.approx(perf.PCIE_GBPS[5] * perf.LINK_EFFICIENCY)
    assert four["latency_s"] == perf.PCIE_ALLREDUCE_LATENCY_S
    assert sc.link("l40s", 2)["link_gbps"] == pytest.approx(
        catalog.gpu("l40s").interconnect_gbps / 2 * perf.LINK_EFFICIENCY)


def test_link_what_ifs():
    pcie = sc.link_counterpart("h100-sxm")
    assert pcie.id == "h100-sxm@pcie5" and pcie.interconnect == "pcie5"
    assert pcie.mem_bw_gbps == catalog.gpu("h100-sxm").mem_bw_gbps
    assert sc.link(pcie, 4)["kind"] == "pcie"
    nv = sc.link_counterpart("l40s")
    assert sc.link(nv, 8)["kind"] == "nvlink"
    with pytest.raises(ValueError, match="interconnect"):
        sc.with_interconnect("l40s", "carrier-pigeon", 1.0)


def test_tp_comm_is_two_allreduces_per_layer():
    m = catalog.llm(BIG)
    lk = sc.link("h100-sxm", 4)
    tokens = 16
    expected = 2 * m.n_layers * sc.allreduce_seconds(tokens * m.hidden_size * sc.ACT_BYTES, 4,
                                                     lk["link_gbps"], lk["latency_s"],
                                                     lk["midsize_link_gbps"])
    assert sc.tp_comm_seconds(BIG, "h100-sxm", 4, tokens) == pytest.approx(expected)
    # 16 tokens are a mid-size message: the large-message rate alone would be too quick.
    quick = 2 * m.n_layers * sc.allreduce_seconds(tokens * m.hidden_size * sc.ACT_BYTES, 4,
                                                  lk["link_gbps"], lk["latency_s"])
    assert expected > quick
    assert sc.tp_comm_seconds(BIG, "h100-sxm", 1, tokens) == 0.0


# ----------------------------------------------------------------------------------------
# Fit and tensor-parallel speed
# ----------------------------------------------------------------------------------------
def test_fit_by_gpu_count():
    df = sc.fit_by_gpu_count(BIG, "h100-sxm", n_gpus=(1, 2, 3, 4, 8), precision="bf16",
                             tpot_target_s=0.05).set_index("n_gpus")
    assert not df.loc[3, "valid"] and "heads" in df.loc[3, "reason"]
    w = perf.weights_bytes(BIG, "bf16") / 1e9
    assert df.loc[4, "weights_per_gpu_gb"] == pytest.approx(w / 4)
    # 141 GB of weights: not on one 80 GB GPU, on four
    assert not df.loc[1, "fits"] and df.loc[4, "fits"] and df.loc[8, "fits"]
    valid = df[df["valid"]]
    fits = valid["fits"].to_numpy()
    assert all(fits[i] <= fits[i + 1] for i in range(len(fits) - 1))  # more GPUs never unfit
    assert df.loc[8, "tpot_s_batch1"] < df.loc[4, "tpot_s_batch1"]
    assert df.loc[4, "sequences_within_tpot"] <= df.loc[4, "max_sequences"]


def test_tensor_parallel_speedup_saturates():
    df = sc.tensor_parallel_scaling(BIG, "h100-sxm", n_gpus=(1, 2, 4, 8))
    assert df["comm_s"].iloc[0] == 0 and df["speedup"].iloc[0] == 1
    assert df["speedup"].is_monotonic_increasing
    assert (df["efficiency"].iloc[1:] < 1).all()
    assert df["efficiency"].is_monotonic_decreasing
    assert ((df["comm_share"] >= 0) & (df["comm_share"] < 1)).all()
    # every layer waits for the latest GPU: 1 + jitter x (H_n - 1), H_8 = 761/280
    j = perf.stored_calibration().sync_jitter
    assert df["sync_slowdown"].tolist() == pytest.approx(
        [1.0, 1 + j * 0.5, 1 + j * 13 / 12, 1 + j * 481 / 280], rel=1e-12)


def test_pcie_costs_more_than_nvlink():
    df = sc.interconnect_comparison(BIG, ["h100-sxm", sc.link_counterpart("h100-sxm")],
                                    n_gpus=(2, 4, 8), batch_size=16)
    nv = df[df["gpu_id"] == "h100-sxm"].set_index("n_gpus")
    pc = df[df["gpu_id"] == "h100-sxm@pcie5"].set_index("n_gpus")
    assert (pc["comm_s"] > nv["comm_s"]).all()
    assert (pc["decode_step_s"] > nv["decode_step_s"]).all()
    assert (pc["link_gbps"] < nv["link_gbps"]).all()


# ----------------------------------------------------------------------------------------
# Pipeline against tensor parallel
# ----------------------------------------------------------------------------------------
def test_pipeline_does_not_cut_latency():
    df = sc.pipeline_vs_tensor(BIG, "h100-sxm", n_gpus=4, batch_sizes=(1, 16), precision="fp8")
    t1 = perf.step_times(BIG, "h100-sxm", precision="fp8").decode_step_seconds(1, 1024)
    pp = df[df["strategy"] == "pipeline parallel"].set_index("batch_size")
    tp = df[df["strategy"] == "tensor parallel"].set_index("batch_size")
    assert pp.loc[1, "tpot_s"] >= t1  # the token still passes every layer, plus hand-offs
    assert (tp["tpot_s"] < pp["tpot_s"]).all()
    assert np.allclose(df["output_tokens_per_s"], df["batch_size"] / df["tpot_s"])
    assert pp.loc[16, "micro_batches"] == 4 and pp.loc[1, "micro_batches"] == 1


def test_pipeline_batch1_and_bubble_by_hand():
    """Batch 1: t1 + (p-1) x per-pass overhead + p hand-offs; with m < p stages idle."""
    p_, c, h = 4, 1024, catalog.llm(BIG).hidden_size
    st1 = perf.step_times(BIG, "h100-sxm", precision="fp8")
    lk = perf.link("h100-sxm", p_)
    xfer1 = lk.latency_s + 1 * h * 2 / (lk.link_gbps * 1e9)
    step_part = st1.stage_overhead_seconds(1e12)  # the per-pass part alone
    df = sc.pipeline_vs_tensor(BIG, "h100-sxm", n_gpus=p_, batch_sizes=(1, 2, 8), precision="fp8")
    pp = df[df["strategy"] == "pipeline parallel"].set_index("batch_size")
    t1 = st1.decode_step_seconds(1, c)
    assert pp.loc[1, "tpot_s"] == pytest.approx(t1 + (p_ - 1) * step_part + p_ * xfer1)
    # 2 sequences in 2 micro-batches: the period is still p stages (half the pipeline idle),
    # so throughput doubles against batch 1 at nearly the same time per token.
    assert pp.loc[2, "micro_batches"] == 2
    assert pp.loc[2, "tpot_s"] == pytest.approx(pp.loc[1, "tpot_s"])
    # 8 sequences in 4 micro-batches of 2: period = 4 stage times of a 2-sequence micro-batch.
    t2 = st1.decode_step_seconds(2, 2 * c)
    xfer2 = lk.latency_s + 2 * h * 2 / (lk.link_gbps * 1e9)
    stage = (t2 - st1.step_overhead_s) / p_ + st1.stage_overhead_seconds(p_) + xfer2
    assert pp.loc[8, "tpot_s"] == pytest.approx(p_ * stage)


def test_pipeline_catches_up_in_throughput_on_pcie_at_large_batch():
    g = sc.link_counterpart("h100-sxm")
    df = sc.pipeline_vs_tensor(BIG, g, n_gpus=4, batch_sizes=(1, 2048), precision="fp8")
    pp = df[df["strategy"] == "pipeline parallel"].set_index("batch_size")
    tp = df[df["strategy"] == "tensor parallel"].set_index("batch_size")
    assert tp.loc[1, "output_tokens_per_s"] > pp.loc[1, "output_tokens_per_s"]
    assert pp.loc[2048, "output_tokens_per_s"] > tp.loc[2048, "output_tokens_per_s"]
    assert pp.loc[2048, "comm_s_per_token"] < tp.loc[2048, "comm_s_per_token"]


# ----------------------------------------------------------------------------------------
# Replicas under load
# ----------------------------------------------------------------------------------------
def test_latency_vs_rate():
    w = Workload("llama-3.1-8b", 10_000, input_tokens=256, output_tokens=64)
    df = sc.latency_vs_rate("llama-3.1-8b", "h100-sxm", w, rates_per_s=[0.05, 5.0, 500.0],
                            replicas=(1, 2), saturation_requests_per_s=20.0, n_requests=150)
    # 500 requests/s is above 2 x 20: skipped
    assert set(df["requests_per_s"]) == {0.05, 5.0}
    assert len(df) == 4 and (df["n_rejected"] == 0).all()
    alone = serving.unloaded_latency("llama-3.1-8b", 256, 64, gpu="h100-sxm")
    low = df[(df["requests_per_s"] == 0.05) & (df["replicas"] == 1)].iloc[0]
    assert low["ttft_s"] == pytest.approx(alone["ttft_s"], rel=0.05)
    one = df[df["replicas"] == 1].set_index("requests_per_s")
    assert one.loc[5.0, "busy_fraction"] > one.loc[0.05, "busy_fraction"]


def _pp_table():
    rows = []
    for link, tp, pp in (("nvlink", (100.0, 800.0), (40.0, 700.0)),
                         ("pcie", (60.0, 400.0), (40.0, 690.0))):
        for b, t, q in zip((1, 64), tp, pp):
            rows += [{"link": link, "batch_size": b, "strategy": "tensor parallel",
                      "output_tokens_per_s": t},
                     {"link": link, "batch_size": b, "strategy": "pipeline parallel",
                      "output_tokens_per_s": q}]
    return pd.DataFrame(rows)


def test_pipeline_overtakes_and_link_gap_by_hand():
    table = _pp_table()
    # the pipeline beats tensor parallel only over PCIe, from batch 64
    assert sc.pipeline_overtakes(table) == {"pcie": 64}
    # pipeline throughput differs by 700/690 - 1 at batch 64 and not at batch 1
    assert sc.pipeline_link_gap(table) == pytest.approx(700 / 690 - 1)


def test_pipeline_vs_tensor_by_link_labels_each_gpu():
    pp = sc.pipeline_vs_tensor_by_link("llama-3.1-70b", ("h100-sxm", "h100-pcie"),
                                            n_gpus=4, batch_sizes=(1, 16), context_tokens=640,
                                            precision="fp8")
    assert len(pp) == 2 * 2 * 2
    assert list(pp["series"][:2]) == ["tensor parallel, nvlink", "pipeline parallel, nvlink"]
    one = sc.pipeline_vs_tensor("llama-3.1-70b", "h100-sxm", n_gpus=4, batch_sizes=(1, 16),
                                     context_tokens=640, precision="fp8")
    assert pp["tpot_s"].iloc[:4].tolist() == one["tpot_s"].tolist()
