"""When one GPU is not enough: tensor parallelism, pipeline parallelism and replicas.

Three reasons to use more than one GPU, each with its own remedy:

- **the model does not fit** one GPU: split it, by tensor parallelism (every layer's matrices
  across GPUs, :func:`fit_by_gpu_count`) or pipeline parallelism (layers in stages);
- **one stream is too slow** for the time-per-token target: tensor parallelism divides the
  weight reads of each step (:func:`tensor_parallel_scaling`), at the price of two
  all-reduces per layer whose cost depends on the link (:func:`interconnect_comparison`);
- **the traffic is too much** for one replica: more replicas behind a load balancer
  (:func:`hwcost.serving.replicas_needed`; :func:`latency_vs_rate` shows the queue build up).

Pipeline parallelism is modelled simply (:func:`pipeline_vs_tensor`): ``p`` stages hold
``1/p`` of the layers each; a batch of ``B`` sequences is cut into ``m`` micro-batches that
follow each other through the stages. A sequence's next token needs its previous one to have
left the last stage, so one token of a micro-batch takes ``max(m, p)`` stage times: the time
per output token is that of one GPU running all layers (no reduction), and the replica's
throughput is ``B / (max(m, p) x stage time)``. With ``m = p`` micro-batches of ``B/p`` the
pipeline is full. Tensor parallelism divides each step's time by about ``p`` and adds the
all-reduces; at equal batch it is faster per token, and pipeline parallelism catches up in
throughput only where the step is compute-bound and the all-reduces are expensive (PCIe).

Communication follows :mod:`hwcost.perf`: a ring all-reduce of ``M`` bytes over ``n`` GPUs
costs ``latency + 2 (n - 1)/n x M / bandwidth`` (Patarasuk & Yuan 2009); a tensor-parallel
forward pass does two per layer, of ``tokens x hidden x 2`` bytes each. Links: NVLink (or
Infinity Fabric) where all the replica's GPUs share it (a 2-GPU NVLink bridge covers only 2),
PCIe otherwise, at :data:`hwcost.perf.LINK_EFFICIENCY` of the per-direction bandwidth.

References
----------
Shoeybi et al., "Megatron-LM: Training Multi-Billion Parameter Language Models Using Model
Parallelism", 2019 (tensor parallelism, two all-reduces per layer). Huang et al., "GPipe",
NeurIPS 2019 (pipeline parallelism with micro-batches). Patarasuk & Yuan, "Bandwidth optimal
all-reduce algorithms for clusters of workstations", JPDC 2009. Pope et al., "Efficiently
Scaling Transformer Inference", MLSys 2023.
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import numpy as np
import pandas as pd

from . import catalog, perf, serving, validate
from .errors import HwcostError
from .perf.kernel import ring_allreduce_seconds
from .serving import Arrivals, Lengths
from .workload import Workload

__all__ = [
    "ACT_BYTES",
    "allreduce_seconds",
    "link",
    "with_interconnect",
    "link_counterpart",
    "tp_comm_seconds",
    "fit_by_gpu_count",
    "tensor_parallel_scaling",
    "interconnect_comparison",
    "pipeline_vs_tensor",
    "pipeline_vs_tensor_by_link",
    "pipeline_overtakes",
    "pipeline_link_gap",
    "latency_vs_rate",
]

#: Bytes per activation element exchanged between GPUs (BF16/FP16). [B]
ACT_BYTES = 2.0


def _count(name: str, value) -> int:
    return validate.positive_int(name, value)


def _positive(name: str, value) -> float:
    return validate.positive(name, value)


# ----------------------------------------------------------------------------------------
# Links and all-reduce
# ----------------------------------------------------------------------------------------
def allreduce_seconds(message_bytes, n_gpus, link_gbps, latency_s=0.0, midsize_link_gbps=None):
    """Time of one ring all-reduce.

    ``latency_s + 2 (n - 1)/n x message_bytes / (link_gbps x 1e9)``; 0 for one GPU. With
    ``midsize_link_gbps``, the first ``perf.ALLREDUCE_MIDSIZE_MAX_BYTES`` of the message
    move at that rate (:func:`hwcost.perf.kernel.ring_allreduce_seconds`).

    Parameters
    ----------
    message_bytes : float or array
        Size of the tensor reduced. [B]
    n_gpus : int or array
        GPUs taking part (>= 1).
    link_gbps : float or array
        Achieved per-direction bandwidth between neighbours. [GB/s]
    latency_s : float or array
        Fixed cost per all-reduce (launch, synchronisation, hops). [s]
    midsize_link_gbps : float or array, optional
        Achieved per-direction bandwidth at mid-size messages (:func:`link`). [GB/s]

    Returns
    -------
    float or ndarray
        [s]

    References
    ----------
    Patarasuk & Yuan, JPDC 2009: the ring sends ``2 (n - 1)/n`` of the message per GPU,
    the bandwidth-optimal amount.
    """
    m = np.asarray(message_bytes, dtype=float)
    n = np.asarray(n_gpus, dtype=float)
    bw = np.asarray(link_gbps, dtype=float)
    lat = np.asarray(latency_s, dtype=float)
    if np.any(~np.isfinite(m)) or np.any(m < 0):
        raise HwcostError(f"message_bytes must be >= 0, got {message_bytes!r}")
    if np.any(~np.isfinite(n)) or np.any((n < 1) | (n != np.floor(n))):
        raise HwcostError(f"n_gpus must be a whole number >= 1, got {n_gpus!r}")
    if np.any(~np.isfinite(bw)) or np.any(bw <= 0):
        raise HwcostError(f"link_gbps must be > 0, got {link_gbps!r}")
    if np.any(~np.isfinite(lat)) or np.any(lat < 0):
        raise HwcostError(f"latency_s must be >= 0, got {latency_s!r}")
    mid = None
    if midsize_link_gbps is not None:
        mid = np.asarray(midsize_link_gbps, dtype=float)
        if np.any(~np.isfinite(mid)) or np.any(mid <= 0):
            raise HwcostError(f"midsize_link_gbps must be > 0, got {midsize_link_gbps!r}")
        mid = mid * 1e9
    t = np.asarray(ring_allreduce_seconds(m, n, bw * 1e9, lat, mid))
    return float(t) if t.ndim == 0 else t


def link(gpu, n_gpus: int) -> dict:
    """The link a replica of ``n_gpus`` x ``gpu`` communicates over, as :mod:`hwcost.perf` uses it.

    Returns
    -------
    dict
        ``kind`` (``"nvlink"``/``"infinity-fabric"`` or ``"pcie"``), ``link_gbps`` (achieved
        per-direction bandwidth at large messages), ``midsize_link_gbps`` (the same up to
        ``perf.ALLREDUCE_MIDSIZE_MAX_BYTES``, the sizes a decode step or a prefill chunk
        sends) [GB/s] and ``latency_s``
        (per all-reduce) [s].
    """
    ln = perf.link(gpu, _count("n_gpus", n_gpus))
    return {"kind": ln.kind, "link_gbps": ln.link_gbps, "latency_s": ln.latency_s,
            "midsize_link_gbps": ln.midsize_link_gbps}


def with_interconnect(gpu, interconnect: str, interconnect_gbps: float) -> catalog.GPU:
    """The same GPU with another link (a what-if: e.g. an SXM part on PCIe only).

    Parameters
    ----------
    gpu : id or catalog.GPU
    interconnect : str
        ``pcie4``, ``pcie5``, ``nvlink4``, ``nvlink-bridge``, ... (as in ``data/gpus.csv``).
    interconnect_gbps : float
        Bidirectional bandwidth of that link, as the catalog gives it. [GB/s]

    Returns
    -------
    catalog.GPU
        ``id`` ``<gpu>@<interconnect>``.
    """
    g = catalog.gpu(gpu)
    kind = str(interconnect).strip().lower()
    if not kind.startswith(("pcie", "nvlink", "infinity")):
        raise HwcostError(f"interconnect must be pcie*, nvlink* or infinity-fabric, got {interconnect!r}")
    gen = int(kind[4:]) if kind.startswith("pcie") and kind[4:].isdigit() else g.pcie_gen
    return dataclasses.replace(g, id=f"{g.id}@{kind}", aliases=(), interconnect=kind,
                               interconnect_gbps=_positive("interconnect_gbps", interconnect_gbps),
                               pcie_gen=gen)


def link_counterpart(gpu) -> catalog.GPU:
    """The same GPU with the other kind of link, to isolate what the link costs (a what-if).

    A GPU whose catalog link is NVLink (or Infinity Fabric) gets PCIe of its generation
    (:data:`hwcost.perf.PCIE_GBPS` per direction); a PCIe GPU gets fourth-generation NVLink
    at 900 GB/s (the H100 SXM's).
    """
    g = catalog.gpu(gpu)
    if g.interconnect.startswith(("nvlink", "infinity")):
        gen = int(g.pcie_gen) if g.pcie_gen else 4
        return with_interconnect(g, f"pcie{gen}", 2 * perf.PCIE_GBPS.get(gen, 32.0))
    return with_interconnect(g, "nvlink4", 900.0)


def tp_comm_seconds(model, gpu, n_gpus: int, tokens, *, precision: str = "bf16",
                    engine=None) -> float:
    """All-reduce time of one tensor-parallel forward pass over ``tokens`` tokens [s].

    ``2 x layers x allreduce_seconds(tokens x hidden x 2 B, n, link)``: exactly the
    communication term of :func:`hwcost.perf.step_times` (0 for one GPU).
    """
    st = perf.step_times(model, gpu, n_gpus=n_gpus, precision=precision, engine=engine)
    t = np.asarray(tokens, dtype=float)
    if np.any(~np.isfinite(t)) or np.any(t <= 0):
        raise HwcostError(f"tokens must be > 0, got {tokens!r}")
    return st.comm_seconds(t)


# ----------------------------------------------------------------------------------------
# Fit and tensor-parallel speed
# ----------------------------------------------------------------------------------------
def fit_by_gpu_count(model, gpu, *, n_gpus: Sequence[int] = (1, 2, 4, 8),
                     precision: str = "bf16", input_tokens: int = 512, output_tokens: int = 256,
                     tpot_target_s: float | None = None, engine=None) -> pd.DataFrame:
    """What a tensor-parallel replica of each size holds and how fast it is.

    Parameters
    ----------
    model, gpu : ids or objects
    n_gpus : sequence of int
        Replica sizes; counts the model's attention heads do not allow are listed with a
        reason.
    precision, input_tokens, output_tokens, engine
        As for :func:`hwcost.perf.estimate`.
    tpot_target_s : float, optional
        Target for ``sequences_within_tpot``. [s]

    Returns
    -------
    DataFrame
        ``n_gpus, valid, fits, weights_per_gpu_gb, max_sequences`` (by memory; the engine's
        default sequence cap is a setting),
        ``sequences_within_tpot`` (largest batch meeting ``tpot_target_s``; equals
        ``max_sequences`` without a target), ``tpot_s_batch1`` [s],
        ``output_tokens_per_s_max`` (at ``sequences_within_tpot``) [tokens/s],
        ``output_tokens_per_s_per_gpu`` [tokens/s] and ``reason``. Numbers are 0 where the
        replica cannot serve.
    """
    from .optimization import operating_batch

    rows = []
    for n in n_gpus:
        n = _count("n_gpus", n)
        row = {"n_gpus": n, "valid": True, "fits": False, "weights_per_gpu_gb": 0.0,
               "max_sequences": 0, "sequences_within_tpot": 0, "tpot_s_batch1": 0.0,
               "output_tokens_per_s_max": 0.0, "output_tokens_per_s_per_gpu": 0.0, "reason": ""}
        try:
            e1 = perf.estimate(model, gpu, n_gpus=n, precision=precision, input_tokens=input_tokens,
                               output_tokens=output_tokens, engine=engine)
        except ValueError as exc:
            row.update(valid=False, reason=str(exc))
            rows.append(row)
            continue
        row["weights_per_gpu_gb"] = e1.weights_gb / n
        if not e1.fits:
            row["reason"] = e1.reason
            rows.append(row)
            continue
        most = perf.max_batch_by_memory(model, gpu, n_gpus=n, precision=precision,
                                        input_tokens=input_tokens, output_tokens=output_tokens,
                                        engine=engine)
        b = operating_batch(model, gpu, n_gpus=n, precision=precision, input_tokens=input_tokens,
                            output_tokens=output_tokens, tpot_target_s=tpot_target_s, engine=engine)
        row.update(fits=True, max_sequences=int(most), sequences_within_tpot=b,
                   tpot_s_batch1=e1.tpot_s)
        if b >= 1:
            eb = perf.estimate(model, gpu, n_gpus=n, precision=precision, batch_size=b,
                               input_tokens=input_tokens, output_tokens=output_tokens, engine=engine)
            row.update(output_tokens_per_s_max=eb.output_tokens_per_s,
                       output_tokens_per_s_per_gpu=eb.output_tokens_per_s / n)
        else:
            row["reason"] = f"batch 1 misses the {tpot_target_s:g} s TPOT target"
        rows.append(row)
    return pd.DataFrame(rows)


def tensor_parallel_scaling(model, gpu, *, n_gpus: Sequence[int] = (1, 2, 4, 8),
                            batch_size: int = 1, context_tokens: int = 1024,
                            precision: str = "bf16", engine=None) -> pd.DataFrame:
    """Decode step time against tensor-parallel degree, with its communication share.

    Times are computed whether or not the model fits the replica's memory (the physics of a
    step does not depend on it); ``fits`` says whether it does at this batch and context.

    Parameters
    ----------
    model, gpu : ids or objects
    n_gpus : sequence of int
        Degrees to try (invalid ones for the model's heads are skipped).
    batch_size : int
        Sequences decoded together. [sequences]
    context_tokens : int
        Context per sequence. [tokens]
    precision, engine
        As for :func:`hwcost.perf.step_times`.

    Returns
    -------
    DataFrame
        ``n_gpus, link, decode_step_s, comm_s, comm_share, sync_slowdown`` (how much longer
        the GPUs' memory and compute time runs because every layer waits for the latest GPU,
        :func:`hwcost.perf.synchronization_slowdown`), ``tokens_per_s_per_request, speedup``
        (over the smallest degree in the table), ``efficiency`` (speedup over the GPU ratio)
        and ``fits``.
    """
    b = _count("batch_size", batch_size)
    c = _count("context_tokens", context_tokens)
    rows = []
    for n in n_gpus:
        n = _count("n_gpus", n)
        try:
            st = perf.step_times(model, gpu, n_gpus=n, precision=precision, engine=engine)
        except ValueError:
            continue
        step = float(st.decode_step_seconds(b, b * c))
        comm = tp_comm_seconds(model, gpu, n, b, precision=precision, engine=engine)
        e = perf.estimate(model, gpu, n_gpus=n, precision=precision, batch_size=b,
                          input_tokens=max(1, c - 1), output_tokens=1, engine=engine)
        rows.append({"n_gpus": n, "link": link(gpu, n)["kind"] if n > 1 else "none",
                     "decode_step_s": step, "comm_s": comm, "comm_share": comm / step,
                     "sync_slowdown": st.sync_slowdown,
                     "tokens_per_s_per_request": 1.0 / step, "fits": bool(e.fits)})
    if not rows:
        raise HwcostError(f"none of n_gpus={list(n_gpus)} is a valid tensor-parallel degree "
                         f"for {catalog.llm(model).id}")
    df = pd.DataFrame(rows)
    df["speedup"] = df["decode_step_s"].iloc[0] / df["decode_step_s"]
    df["efficiency"] = df["speedup"] / (df["n_gpus"] / df["n_gpus"].iloc[0])
    return df[["n_gpus", "link", "decode_step_s", "comm_s", "comm_share", "sync_slowdown",
               "tokens_per_s_per_request", "speedup", "efficiency", "fits"]]


def interconnect_comparison(model, gpus: Sequence, *, n_gpus: Sequence[int] = (2, 4, 8),
                            batch_size: int = 1, context_tokens: int = 1024,
                            precision: str = "bf16", engine=None) -> pd.DataFrame:
    """:func:`tensor_parallel_scaling` for several GPUs (or link what-ifs), one table.

    Parameters
    ----------
    model : id or object
    gpus : sequence of ids or catalog.GPU (e.g. from :func:`with_interconnect`)
    n_gpus, batch_size, context_tokens, precision, engine
        As for :func:`tensor_parallel_scaling`.

    Returns
    -------
    DataFrame
        ``gpu_id, interconnect`` (the catalog's link), then the columns of
        :func:`tensor_parallel_scaling` plus ``link_gbps`` and ``midsize_link_gbps``
        (:func:`link`) [GB/s] and ``allreduce_latency_s`` [s].
    """
    parts = []
    for g in gpus:
        g = catalog.gpu(g)
        df = tensor_parallel_scaling(model, g, n_gpus=n_gpus, batch_size=batch_size,
                                     context_tokens=context_tokens, precision=precision,
                                     engine=engine)
        links = [link(g, n) for n in df["n_gpus"]]
        df.insert(0, "interconnect", g.interconnect)
        df.insert(0, "gpu_id", g.id)
        df["link_gbps"] = [x["link_gbps"] for x in links]
        df["midsize_link_gbps"] = [x["midsize_link_gbps"] for x in links]
        df["allreduce_latency_s"] = [x["latency_s"] for x in links]
        parts.append(df)
    return pd.concat(parts, ignore_index=True)


# ----------------------------------------------------------------------------------------
# Pipeline against tensor parallelism
# ----------------------------------------------------------------------------------------
def pipeline_vs_tensor(model, gpu, *, n_gpus: int = 4, batch_sizes: Sequence[int] = (1, 4, 16, 64),
                       micro_batches: int | None = None, context_tokens: int = 1024,
                       precision: str = "bf16", engine=None) -> pd.DataFrame:
    """Decode latency and throughput of ``n_gpus`` GPUs as a pipeline and as tensor parallel.

    Pipeline (see the module notes): stage time ``s(b) = (t1(b) - o)/p + o_s + x(b)`` with
    ``t1`` one GPU's decode step over all layers for a micro-batch of ``b``, ``o`` its fixed
    overhead, ``o_s`` a stage's share of it (the per-pass part in full, the per-layer part
    for ``1/p`` of the layers: :meth:`hwcost.perf.StepTimes.stage_overhead_seconds`) and
    ``x`` the activation transfer to the next stage (``latency + b x hidden x 2 B / link``,
    counted at every stage, the last one's return of the sampled tokens included: slightly
    pessimistic); time per output token ``max(m, p) x s(B/m)``; throughput
    ``B / (max(m, p) x s(B/m))``. At ``B = 1`` this is ``t1 + (p-1) o_step + p x``: never
    faster than one GPU. With ``m < p`` micro-batches ``(p - m)/p`` of the stage-time is
    idle (the bubble); steady-state decode with ``m >= p`` has no fill or drain bubble.
    Tensor parallel: one step of the whole batch over ``p`` GPUs
    (:func:`hwcost.perf.step_times`), all-reduces included. Memory fit is not checked (both
    hold ``1/p`` of the weights per GPU).

    Simplifications: decode only (prefills interleaved into the stream, which lengthen
    stages unevenly, are left out); layers split evenly, the embedding and output layer
    not charged to the first and last stage; equal micro-batches and contexts.

    Parameters
    ----------
    model, gpu : ids or objects
    n_gpus : int
        GPUs (pipeline stages, or tensor-parallel degree). Must be a valid tensor-parallel
        degree for the model.
    batch_sizes : sequence of int
        Concurrent sequences ``B``. [sequences]
    micro_batches : int, optional
        ``m``; default ``p`` (capped at ``B``).
    context_tokens : int
        Context per sequence. [tokens]
    precision, engine
        As for :func:`hwcost.perf.step_times`.

    Returns
    -------
    DataFrame
        Two rows per batch (``strategy`` = ``tensor parallel`` / ``pipeline parallel``):
        ``batch_size, micro_batches, tpot_s`` [s], ``output_tokens_per_s`` [tokens/s] and
        ``comm_s_per_token`` (time per output token spent on links) [s].
    """
    p = _count("n_gpus", n_gpus)
    c = _count("context_tokens", context_tokens)
    st1 = perf.step_times(model, gpu, n_gpus=1, precision=precision, engine=engine)
    stp = perf.step_times(model, gpu, n_gpus=p, precision=precision, engine=engine)
    lk = link(gpu, p)
    hidden = float(catalog.llm(model).hidden_size)
    ovh = float(st1.step_overhead_s)
    stage_ovh = float(st1.stage_overhead_seconds(p))
    rows = []
    for bsz in batch_sizes:
        B = _count("batch_size", bsz)
        t_tp = float(stp.decode_step_seconds(B, B * c))
        comm_tp = tp_comm_seconds(model, gpu, p, B, precision=precision, engine=engine)
        rows.append({"strategy": "tensor parallel", "batch_size": B, "micro_batches": 1,
                     "tpot_s": t_tp, "output_tokens_per_s": B / t_tp, "comm_s_per_token": comm_tp})
        m = min(B, _count("micro_batches", micro_batches) if micro_batches else p)
        b = B / m
        t1 = float(st1.decode_step_seconds(b, b * c))
        xfer = (lk["latency_s"] + b * hidden * ACT_BYTES / (lk["link_gbps"] * 1e9)) if p > 1 else 0.0
        stage = (t1 - ovh) / p + stage_ovh + xfer
        period = max(m, p) * stage
        rows.append({"strategy": "pipeline parallel", "batch_size": B, "micro_batches": m,
                     "tpot_s": period, "output_tokens_per_s": B / period,
                     "comm_s_per_token": max(m, p) * xfer})
    return pd.DataFrame(rows)


def pipeline_vs_tensor_by_link(model, gpus: Sequence, *, n_gpus: int = 4,
                               batch_sizes: Sequence[int] = (1, 4, 16, 64), **kwargs) -> pd.DataFrame:
    """:func:`pipeline_vs_tensor` for each GPU of ``gpus``, labelled by the link it uses.

    ``kwargs`` go to :func:`pipeline_vs_tensor`. Adds ``link`` (the link kind between
    ``n_gpus`` of that GPU, :func:`link`) and ``series`` (``"<strategy>, <link>"``).
    """
    parts = [pipeline_vs_tensor(model, g, n_gpus=n_gpus, batch_sizes=batch_sizes, **kwargs)
             .assign(link=link(g, n_gpus)["kind"]) for g in gpus]
    out = pd.concat(parts, ignore_index=True)
    out["series"] = out["strategy"] + ", " + out["link"]
    return out


def pipeline_overtakes(table: pd.DataFrame) -> dict:
    """Smallest batch at which pipeline parallelism out-produces tensor parallelism, per link.

    Parameters
    ----------
    table : DataFrame
        As from :func:`pipeline_vs_tensor_by_link` (``link, batch_size, strategy,
        output_tokens_per_s``).

    Returns
    -------
    dict
        ``{link: batch_size}`` [sequences] for the links where the pipeline ever makes more
        output tokens per second; links where it never does are absent.
    """
    wide = table.pivot_table(index=["link", "batch_size"], columns="strategy",
                             values="output_tokens_per_s")
    ahead = wide[wide["pipeline parallel"] > wide["tensor parallel"]].reset_index()
    return {k: int(v) for k, v in ahead.groupby("link")["batch_size"].min().items()}


def pipeline_link_gap(table: pd.DataFrame) -> float:
    """Largest relative difference of the pipeline's throughput between links, at one batch.

    ``max over batches of (fastest link / slowest link) - 1`` for the ``pipeline parallel``
    rows of a :func:`pipeline_vs_tensor_by_link` table [1]; 0 with one link.
    """
    pipe = table[table["strategy"] == "pipeline parallel"].pivot(
        index="batch_size", columns="link", values="output_tokens_per_s")
    return float((pipe.max(axis=1) / pipe.min(axis=1)).max() - 1)


# ----------------------------------------------------------------------------------------
# Replicas under load
# ----------------------------------------------------------------------------------------
def latency_vs_rate(model, gpu, workload: Workload, *, rates_per_s: Sequence[float],
                    replicas: Sequence[int] = (1, 2, 4), n_gpus: int = 1,
                    precision: str = "bf16", engine=None, percentile: float = 95.0,
                    saturation_requests_per_s: float | None = None, max_load: float = 1.0,
                    n_requests: int = 400, seed: int = 0) -> pd.DataFrame:
    """Simulated latency percentiles against arrival rate for several replica counts.

    Continuous batching on each replica; Poisson arrivals dealt round-robin
    (:func:`hwcost.serving.simulate`); the same seed at every rate (common random numbers).
    Each run simulates ``n_requests`` per replica, so every count sees as many requests per
    replica.

    Parameters
    ----------
    model, gpu : ids or objects
    workload : Workload
        Token lengths and their spread (``requests_per_day`` is not used).
    rates_per_s : sequence of float
        Total arrival rates. [1/s]
    replicas : sequence of int
    n_gpus, precision, engine
        The replica, as for :func:`hwcost.perf.step_times`.
    percentile : float
        (0, 100].
    saturation_requests_per_s : float, optional
        One replica's saturation throughput [1/s]; with it, rates above ``max_load x
        replicas x saturation`` are skipped (a finite run cannot show the queue of an
        overloaded server: it only grows with the length of the run).
    max_load : float
        See above; > 0. [-]
    n_requests, seed : int

    Returns
    -------
    DataFrame
        ``replicas, requests_per_s, ttft_s, tpot_s, e2e_s`` (at ``percentile``) [s],
        ``busy_fraction`` and ``n_rejected``.
    """
    st = perf.step_times(model, gpu, n_gpus=n_gpus, precision=precision, engine=engine)
    lin = Lengths.from_cv(workload.input_tokens, workload.input_tokens_cv)
    lout = Lengths.from_cv(workload.output_tokens, workload.output_tokens_cv)
    rows = []
    for r in replicas:
        r = _count("replicas", r)
        for rate in rates_per_s:
            if saturation_requests_per_s is not None and rate > (
                    _positive("max_load", max_load) * r
                    * _positive("saturation_requests_per_s", saturation_requests_per_s)):
                continue
            arr = Arrivals.poisson(_positive("rate", rate), _count("n_requests", n_requests) * r,
                                   input_tokens=lin, output_tokens=lout, seed=seed)
            res = serving.simulate(st, arr, replicas=r, warmup_fraction=0.1)
            rows.append({"replicas": r, "requests_per_s": float(rate),
                         "ttft_s": res.percentile("ttft_s", percentile),
                         "tpot_s": res.percentile("tpot_s", percentile),
                         "e2e_s": res.percentile("e2e_s", percentile),
                         "busy_fraction": res.busy_fraction, "n_rejected": res.n_rejected})
    return pd.DataFrame(rows)
