"""Which models fit on which GPUs, how many GPUs each needs, and what each workload asks of them.

Three groups of functions, all built on :mod:`hwcost.perf` (no physics of their own):

- **Fit**: :func:`fit_table` gives, for every model x GPU x precision, the fewest GPUs of one
  replica that hold the weights, the workspace and the KV cache of ``batch_size`` sequences,
  with batch-1 and largest-batch throughput at that count; :func:`max_batch_by_memory` the
  most sequences a replica holds (engine batch cap ignored); :func:`largest_fitting_models`
  the largest catalog model per GPU and precision.
- **The article's table**: :data:`ARTICLE_SIZE_TABLE` is the source article's "Model Size vs.
  GPU Matching" section as data (one row per GPU option it names, each with how the text was
  read); :func:`check_size_table` says for each option whether the GPU(s) hold a
  representative model, at which precision and with how much room left for the KV cache.
- **Workloads**: :func:`workload_types` (chat, batch, streaming: what each needs and which
  hardware property binds it), :func:`batch_curve` (latency and throughput against batch
  size, with the roofline's arithmetic intensity), :func:`largest_batch_meeting` (the
  biggest batch within TTFT/TPOT targets), :func:`phase_floors` (the physical lower bounds of
  one decode step and one prefill) and :func:`gpu_speedup` (one GPU against another by batch).

:func:`inference_servers` compares the serving engines :mod:`hwcost.perf` knows, with their
fitted efficiency factors, plus LiteLLM, which the article lists as an inference server but
which is a proxy/router in front of them.

Names: ``min_n_gpus`` (fewest GPUs per replica), ``kv_room_gb`` (memory left for the KV cache
across a replica), ``max_sequences`` (sequences of ``input_tokens + output_tokens`` whose KV
cache fits), otherwise the canonical names of :mod:`hwcost.perf`.

References
----------
Williams, Waterman & Patterson, "Roofline: an insightful visual performance model for
multicore architectures", CACM 52(4), 2009 (ridge point). Pope et al., "Efficiently Scaling
Transformer Inference", MLSys 2023 (decode is memory-bound at small batch). Brysbaert, "How
many words do we read per minute? A review and meta-analysis of reading rate", Journal of
Memory and Language 109, 104047, 2019 (238 words/min silent reading of English non-fiction).
OpenAI Help Center, "What are tokens and how to count them?" (1 token is about 3/4 of an
English word).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from hwcost import catalog, perf, validate
from hwcost.article.sizes import (  # noqa: F401  (the article's table, re-exported)
    ARTICLE_SIZE_TABLE,
    SIZE_CLASS_MODELS,
    ArticleOption,
    size_table,
)
from hwcost.perf.batch import (  # noqa: F401  (one answer, re-exported here)
    largest_batch_meeting,
    max_batch_by_memory,
    ttft_joining_seconds,
)

from .errors import HwcostError

__all__ = [
    "PRECISION_ORDER",
    "NODE_GPUS",
    "READING_WORDS_PER_MIN",
    "TOKENS_PER_WORD",
    "READING_TPOT_S",
    "fit_table",
    "GPU_COUNT_BANDS",
    "fit_labels",
    "max_batch_by_memory",
    "largest_fitting_models",
    "workload_types",
    "batch_grid",
    "batch_curve",
    "largest_batch_meeting",
    "phase_floors",
    "gpu_speedup",
    "inference_servers",
]

#: Precisions from the most to the fewest bits per weight; fp8 before int8 (same size, and
#: fp8 runs its math on FP8 tensor cores where int8 is weight-only).
PRECISION_ORDER = ("bf16", "fp16", "fp8", "int8", "int4")
#: GPUs in one server node (NVIDIA HGX/DGX baseboards and AMD MI300X platforms hold 8);
#: replicas above this span several nodes.
NODE_GPUS = 8
#: Average silent reading rate of adults, English non-fiction (Brysbaert 2019). [words/min]
READING_WORDS_PER_MIN = 238.0
#: Tokens per English word (OpenAI: 1 token is about 3/4 of a word). [tokens/word]
TOKENS_PER_WORD = 4.0 / 3.0
#: Time per output token at which streamed text keeps pace with a reader. [s]
READING_TPOT_S = 60.0 / (READING_WORDS_PER_MIN * TOKENS_PER_WORD)


def _positive_int(name, value) -> int:
    """``value`` as an int >= 1, or an error naming ``name``."""
    return validate.positive_int(name, value)


def sorted_precisions(precisions) -> list[str]:
    ps = []
    for p in ([precisions] if isinstance(precisions, str) else list(precisions)):
        key = str(p).strip().lower()
        if key not in perf.PRECISIONS:
            raise HwcostError(f"unknown precision {p!r}; accepted: {', '.join(perf.PRECISIONS)}")
        if key not in ps:
            ps.append(key)
    if not ps:
        raise HwcostError("precisions must name at least one precision")
    return sorted(ps, key=PRECISION_ORDER.index)


def _objects(items, lookup, kind) -> list:
    """Catalog objects for ids or objects (each looked up once), duplicates dropped."""
    if items is None:
        items = (catalog.gpus() if kind == "gpu" else catalog.llms())["id"]
    items = [items] if isinstance(items, (str, catalog.GPU, catalog.LLM)) else list(items)
    if not items:
        raise HwcostError(f"the list of {kind}s is empty")
    out = {}
    for x in items:
        obj = lookup(x)
        out.setdefault(obj.id, obj)
    return list(out.values())


# ----------------------------------------------------------------------------------------
# Fit
# ----------------------------------------------------------------------------------------
_FIT_COLUMNS = (
    "model_id", "gpu_id", "precision", "params_b", "weights_gb", "min_n_gpus", "status",
    "memory_per_gpu_gb", "max_batch_size", "tokens_per_s_per_request", "output_tokens_per_s",
)


def fit_table(models=None, gpus=None, precisions=("bf16", "fp8", "int8", "int4"), *,
              batch_size: int = 1, input_tokens: int = 512, output_tokens: int = 128,
              engine=None, max_gpus: int = 64) -> pd.DataFrame:
    """Fewest GPUs per replica, and throughput there, for every model x GPU x precision.

    One vectorized :func:`hwcost.perf.sweep` over GPU counts 1..``max_gpus``; the same answer
    as :func:`hwcost.perf.min_gpus_to_fit` for each cell.

    Parameters
    ----------
    models, gpus : id or sequence of ids, optional
        Catalog ids (default: the whole catalog).
    precisions : str or sequence of str
        Weight precisions (:data:`hwcost.perf.PRECISIONS`).
    batch_size : int
        Concurrent sequences the replica must hold. [sequences]
    input_tokens, output_tokens : int
        Prompt and generated length of each sequence. [tokens]
    engine : str, optional
        Serving engine (:data:`hwcost.perf.ENGINES`); sets memory reserve and batch cap.
    max_gpus : int
        Largest replica tried. [GPUs]

    Returns
    -------
    pandas.DataFrame
        One row per model x GPU x precision: ``model_id, gpu_id, precision, params_b``
        (total parameters [1e9]), ``weights_gb`` [GB], ``min_n_gpus`` (nullable integer,
        missing where nothing fits), ``status`` (``fits``, or why not: no tensor support for
        the precision, the lengths exceed the model's context, more than ``max_gpus``
        needed), and at ``min_n_gpus``: ``memory_per_gpu_gb`` at ``batch_size`` [GB],
        ``max_batch_size`` (memory and engine cap) [sequences], ``tokens_per_s_per_request``
        at batch 1 [tokens/s] and ``output_tokens_per_s`` at ``max_batch_size`` [tokens/s].
    """
    m_objs = _objects(models, catalog.llm, "model")
    g_objs = _objects(gpus, catalog.gpu, "gpu")
    ms, gs = [m.id for m in m_objs], [g.id for g in g_objs]
    ps = sorted_precisions(precisions)
    b = _positive_int("batch_size", batch_size)
    top = _positive_int("max_gpus", max_gpus)
    batches = list(dict.fromkeys([b, 1, "max"]))
    sw = perf.sweep(m_objs, g_objs, precisions=ps, n_gpus=list(range(1, top + 1)), batch_sizes=batches,
                    input_tokens=input_tokens, output_tokens=output_tokens, engine=engine)
    sw = sw.assign(model_id=sw["model_id"].astype(str), gpu_id=sw["gpu_id"].astype(str),
                   precision=sw["precision"].astype(str), reason=sw["reason"].astype(str))
    keys = ["model_id", "gpu_id", "precision"]
    which = np.arange(len(sw)) % len(batches)  # one length each: batch varies fastest
    sw["_which"] = which
    at_b = sw[which == 0]
    first = at_b[at_b["n_gpus"] == 1].set_index(keys)
    min_n = at_b[at_b["fits"]].groupby(keys, observed=True)["n_gpus"].min()
    out = first[["weights_gb", "reason"]].copy()
    out["min_n_gpus"] = min_n.reindex(out.index).astype("Int64")
    out["status"] = np.where(out["min_n_gpus"].notna(), "fits", np.where(
        out["reason"].isin(["", "does not fit in memory"]), f"needs more than {top} GPUs",
        out["reason"]))
    # At min_n_gpus batch_size fits, hence batch 1 and the largest batch fit too.
    sel = sw.merge(min_n.rename("n_gpus").reset_index(), on=keys + ["n_gpus"]).set_index(keys)
    pick = {k: sel[sel["_which"] == batches.index(v)] for k, v in (("b", b), ("one", 1), ("max", "max"))}
    out["memory_per_gpu_gb"] = pick["b"]["memory_per_gpu_gb"].reindex(out.index)
    out["max_batch_size"] = pick["max"]["max_batch_size"].reindex(out.index)
    out["tokens_per_s_per_request"] = pick["one"]["tokens_per_s_per_request"].reindex(out.index)
    out["output_tokens_per_s"] = pick["max"]["output_tokens_per_s"].reindex(out.index)
    out["max_batch_size"] = out["max_batch_size"].astype("Int64")
    out = out.reset_index()
    params = {m.id: float(m.total_params_b) for m in m_objs}
    out["params_b"] = out["model_id"].map(params)
    out["model_id"] = pd.Categorical(out["model_id"], categories=ms)
    out["gpu_id"] = pd.Categorical(out["gpu_id"], categories=gs)
    out["precision"] = pd.Categorical(out["precision"], categories=ps)
    out = out.sort_values(keys).reset_index(drop=True)
    for k in keys:
        out[k] = out[k].astype(str)
    return out[list(_FIT_COLUMNS)]


#: Bands of GPU counts for charts (``band`` of :func:`fit_labels`); above 8 a replica spans
#: several nodes.
GPU_COUNT_BANDS = ("1", "2", "3-4", "5-8", "9-16", "over 16", "none")


def fit_labels(table: pd.DataFrame) -> pd.DataFrame:
    """Add chart labels to a :func:`fit_table` result.

    ``gpus_needed``: the count as text, ``n/a`` (no tensor support for the precision),
    ``ctx`` (lengths exceed the model's context window) or ``none`` (more GPUs than tried);
    ``band``: one of :data:`GPU_COUNT_BANDS` (``none`` for every non-fitting cell).
    """
    n = pd.to_numeric(table["min_n_gpus"], errors="coerce").to_numpy(dtype=float)
    status = table["status"].astype(str).to_numpy()
    text = np.where(status == "fits", np.nan_to_num(n, nan=0).astype(int).astype(str),
                    np.where(np.char.startswith(status.astype(str), "precision"), "n/a",
                             np.where(np.char.startswith(status.astype(str), "exceeds"), "ctx", "none")))
    edges = np.array([1, 2, 4, 8, 16])
    idx = np.searchsorted(edges, np.nan_to_num(n, nan=1e9), side="left")
    band = np.where(np.isfinite(n), np.array(GPU_COUNT_BANDS)[np.minimum(idx, 5)], "none")
    return table.assign(gpus_needed=text, band=band)


def largest_fitting_models(gpus, precisions=("bf16", "int4"), *, models=None,
                           n_gpus: int = 1, batch_size: int = 1, input_tokens: int = 512,
                           output_tokens: int = 128, engine=None) -> pd.DataFrame:
    """The largest catalog model (total parameters) that ``n_gpus`` of each GPU hold.

    Returns
    -------
    pandas.DataFrame
        One row per GPU x precision: ``gpu_id, precision, model_id`` ("none" when nothing
        fits), ``params_b`` [1e9, 0 when none], ``tokens_per_s_per_request`` at batch 1 on
        ``n_gpus`` GPUs [tokens/s, 0 when none].
    """
    table = fit_table(models, gpus, precisions, batch_size=batch_size, input_tokens=input_tokens,
                      output_tokens=output_tokens, engine=engine, max_gpus=n_gpus)
    rows = []
    for (g, p), grp in table.groupby(["gpu_id", "precision"], sort=False):
        ok = grp[grp["min_n_gpus"].notna()]
        if ok.empty:
            rows.append({"gpu_id": g, "precision": p, "model_id": "none", "params_b": 0.0,
                         "tokens_per_s_per_request": 0.0})
            continue
        best = ok.sort_values("params_b").iloc[-1]
        est = perf.estimate(best["model_id"], g, n_gpus=n_gpus, precision=p, batch_size=1,
                            input_tokens=input_tokens, output_tokens=output_tokens, engine=engine)
        rows.append({"gpu_id": g, "precision": p, "model_id": best["model_id"],
                     "params_b": float(best["params_b"]),
                     "tokens_per_s_per_request": float(est.tokens_per_s_per_request)})
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------------------
# The article's "Model Size vs. GPU Matching" table, checked (the table is article.sizes)
# ----------------------------------------------------------------------------------------
def _replica(model, gpu, n, precision, batch_size, input_tokens, output_tokens, engine):
    """(estimate, step_times) of one replica, or None where the combination is not allowed."""
    try:
        est = perf.estimate(model, gpu, n_gpus=n, precision=precision, batch_size=batch_size,
                            input_tokens=input_tokens, output_tokens=output_tokens, engine=engine)
        st = perf.step_times(model, gpu, n_gpus=n, precision=precision, engine=engine)
    except ValueError:
        return None
    return est, st


def check_size_table(precisions=("bf16", "fp8", "int8", "int4"), *, batch_size: int = 1,
                     input_tokens: int = 512, output_tokens: int = 128, engine=None,
                     models: dict | None = None) -> pd.DataFrame:
    """Does each GPU option of the article's size table hold its size class's model?

    For each option, the precisions are tried from the most bits to the fewest (bf16, fp8,
    int8, int4); the first at which ``n_gpus`` of the GPU hold ``batch_size`` sequences of
    ``input_tokens + output_tokens`` is the option's ``precision``.

    Parameters
    ----------
    precisions : sequence of str
        Precisions to try.
    batch_size, input_tokens, output_tokens, engine
        As for :func:`hwcost.perf.estimate`.
    models : dict, optional
        Size class -> catalog model id, overriding :data:`SIZE_CLASS_MODELS`.

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`size_table` plus ``params_b`` [1e9], ``precision`` (``none``
        where nothing fits), ``weights_gb`` at that precision [GB], ``kv_room_gb`` (memory
        left for the KV cache across the replica) [GB], ``max_sequences`` (sequences of
        ``input_tokens + output_tokens`` whose KV fits) [sequences], ``tokens_per_s_per_request``
        at batch 1 [tokens/s], ``min_n_gpus_16bit`` (fewest of this GPU at 16-bit; 0 = none
        up to 64), ``holds`` (``yes, 16-bit`` / ``only at fp8`` ... / ``no``) and ``verdict``
        (one line).
    """
    ps = sorted_precisions(precisions)
    reps = dict(SIZE_CLASS_MODELS, **(models or {}))
    base = size_table()
    objs = {k: catalog.llm(v) for k, v in reps.items()}
    gobj = {g: catalog.gpu(g) for g in base["gpu_id"].unique()}
    base["model_id"] = base["size_class"].map(lambda s: objs[s].id)
    counts = fit_table([objs[s] for s in base["size_class"].unique()], list(gobj.values()),
                       ["bf16", ps[-1]],
                       batch_size=batch_size, input_tokens=input_tokens,
                       output_tokens=output_tokens, engine=engine, max_gpus=64)
    fewest = {(r.model_id, r.gpu_id, r.precision): (int(r.min_n_gpus) if r.status == "fits" else 0)
            for r in counts.itertuples()}
    rows = []
    for o in base.itertuples(index=False):
        m, g = objs[o.size_class], gobj[o.gpu_id]
        found = None
        for p in ps:
            r = _replica(m, g, o.n_gpus, p, batch_size, input_tokens, output_tokens, engine)
            if r is not None and r[0].fits:
                found = (p, *r)
                break
        n16 = fewest[(m.id, o.gpu_id, "bf16")]
        row = {"params_b": float(m.total_params_b), "min_n_gpus_16bit": int(n16)}
        gpu_text = f"{o.n_gpus} x {o.gpu_id}" if o.n_gpus > 1 else f"one {o.gpu_id}"
        if found is None:
            row.update(precision="none", weights_gb=0.0, kv_room_gb=0.0, max_sequences=0,
                       tokens_per_s_per_request=0.0, holds="no")
            need = f"{n16} at 16-bit" if n16 else "more than 64 at 16-bit"
            lowest = fewest[(m.id, o.gpu_id, ps[-1])]
            if lowest:
                need += f", {lowest} at {ps[-1]}"
            row["verdict"] = f"{gpu_text} cannot hold {m.id} at any precision tried; needs {need}"
        else:
            p, est, st = found
            kv_gb = st.kv_capacity_tokens * st.kv_cache_bytes_per_token / 1e9
            seqs = max_batch_by_memory(m, g, n_gpus=o.n_gpus, precision=p,
                                       input_tokens=input_tokens, output_tokens=output_tokens,
                                       engine=engine)
            holds = "yes, 16-bit" if p in ("bf16", "fp16") else f"only at {p}"
            row.update(precision=p, weights_gb=float(est.weights_gb), kv_room_gb=float(kv_gb),
                       max_sequences=int(seqs),
                       tokens_per_s_per_request=float(est.tokens_per_s_per_request), holds=holds)
            row["verdict"] = (f"{gpu_text} holds {m.id} at {p} with {kv_gb:.1f} GB left for "
                              f"the KV cache ({seqs} sequences of {input_tokens + output_tokens} "
                              "tokens)")
        rows.append(row)
    extra = pd.DataFrame(rows)
    return pd.concat([base.reset_index(drop=True), extra], axis=1)


# ----------------------------------------------------------------------------------------
# Workloads
# ----------------------------------------------------------------------------------------
def workload_types() -> pd.DataFrame:
    """The article's three workload types: what each needs and which hardware property binds.

    ``article_prioritizes`` quotes the article; ``binding_property`` and ``why`` are the
    physics (checked with numbers by :func:`phase_floors` and :func:`batch_curve`).
    """
    rows = [
        {"workload": "chat (latency-sensitive)",
         "slo_metrics": "ttft_s, tpot_s, e2e_s at small batch",
         "article_prioritizes": "memory bandwidth, clock speed, latest optimizations",
         "binding_property": "memory bandwidth",
         "why": "a decode step at small batch reads every weight once; FLOPs are idle"},
        {"workload": "batch (throughput)",
         "slo_metrics": "output_tokens_per_s of the whole batch, cost per token",
         "article_prioritizes": "throughput, memory capacity, cost per token",
         "binding_property": "memory capacity, then compute",
         "why": "aggregate tokens/s grows with batch until the KV cache fills memory "
                "or the step turns compute-bound"},
        {"workload": "streaming",
         "slo_metrics": "ttft_s; tpot_s only faster than reading",
         "article_prioritizes": "first-token latency and sustained throughput",
         "binding_property": "compute (prefill) for ttft_s, bandwidth for tpot_s",
         "why": "the prompt's forward pass is a large matrix product; later tokens only "
                "need to outpace a reader"},
    ]
    return pd.DataFrame(rows)


def batch_grid(bmax: int) -> list[int]:
    """Powers of two up to ``bmax`` and ``bmax`` itself (empty when ``bmax`` < 1). [sequences]"""
    out = [1 << k for k in range(0, max(1, int(math.log2(max(bmax, 1))) + 1)) if (1 << k) <= bmax]
    if bmax >= 1 and bmax not in out:
        out.append(bmax)
    return out


def batch_curve(model, gpu, *, n_gpus: int = 1, precision: str = "bf16",
                input_tokens: int = 512, output_tokens: int = 128, engine=None,
                batch_sizes=None) -> pd.DataFrame:
    """Latency and throughput of one replica against batch size.

    Parameters
    ----------
    model, gpu, n_gpus, precision, input_tokens, output_tokens, engine
        As for :func:`hwcost.perf.estimate`.
    batch_sizes : sequence of int, optional
        Default: powers of two up to :func:`max_batch_by_memory`, and that largest batch.

    Returns
    -------
    pandas.DataFrame
        Fitting batches only: ``batch_size``, ``ttft_s`` (all prompts of the batch arrive
        together), ``ttft_joining_s`` (one request joins ``batch_size - 1`` running ones, as
        under continuous batching in steady state), ``tpot_s``, ``e2e_s`` (= ttft_s +
        (output_tokens - 1) x tpot_s) [s],
        ``tokens_per_s_per_request`` and ``output_tokens_per_s`` (aggregate) [tokens/s],
        ``bound`` of the decode step (memory/compute), ``arithmetic_intensity``
        (FLOP per byte of a decode step at the mean context) [FLOP/B] and
        ``memory_per_gpu_gb`` [GB].
    """
    model, gpu = catalog.llm(model), catalog.gpu(gpu)
    if batch_sizes is None:
        bmax = max_batch_by_memory(model, gpu, n_gpus=n_gpus, precision=precision,
                                   input_tokens=input_tokens, output_tokens=output_tokens,
                                   engine=engine)
        batch_sizes = batch_grid(bmax)
        if not batch_sizes:
            batch_sizes = [1]
    df = perf.sweep(model, gpu, precisions=precision, n_gpus=n_gpus,
                    batch_sizes=[int(b) for b in batch_sizes], input_tokens=input_tokens,
                    output_tokens=output_tokens, engine=engine)
    df = df[df["fits"]].reset_index(drop=True)
    ctx = input_tokens + output_tokens / 2.0
    df["e2e_s"] = df["ttft_s"] + (output_tokens - 1) * df["tpot_s"]
    df["ttft_joining_s"] = ttft_joining_seconds(model, gpu, df["batch_size"].to_numpy(), n_gpus=n_gpus,
                                         precision=precision, input_tokens=input_tokens,
                                         output_tokens=output_tokens, engine=engine)
    df["arithmetic_intensity"] = [perf.arithmetic_intensity(model, precision, int(b), ctx)
                                  for b in df["batch_size"]]
    df["bound"] = df["bound"].astype(str)
    cols = ["batch_size", "ttft_s", "ttft_joining_s", "tpot_s", "e2e_s", "tokens_per_s_per_request",
            "output_tokens_per_s", "bound", "arithmetic_intensity", "memory_per_gpu_gb"]
    return df[cols]


def phase_floors(model, gpu, *, n_gpus: int = 1, precision: str = "bf16",
                 input_tokens: int = 512) -> dict:
    """Physical lower bounds of one decode step and one prefill at peak hardware rates.

    Returns
    -------
    dict
        ``weight_read_s``: the weights of one GPU read once at peak bandwidth (the floor of a
        batch-1 decode step) [s]; ``decode_flop_s``: the FLOPs of one batch-1 decode token at
        peak tensor rate [s]; ``prefill_flop_s``: 2 x active parameters x ``input_tokens``
        FLOPs at peak [s]; ``prefill_read_s``: the weights read once [s] (prefill is
        compute-bound when ``prefill_flop_s`` exceeds it); ``ridge_point`` (peak FLOP per
        byte) [FLOP/B]; ``decode_intensity`` (FLOP per byte of a batch-1 decode step)
        [FLOP/B]. Tensor parallel replicas divide both work and rates by ``n_gpus``.
    """
    m = catalog.llm(model)
    g = catalog.gpu(gpu)
    n = _positive_int("n_gpus", n_gpus)
    i = _positive_int("input_tokens", input_tokens)
    w = perf.weights_bytes(m, precision)
    ridge = perf.ridge_point(g, precision)
    peak = ridge * g.mem_bw_gbps * 1e9
    flops_per_token = 2.0 * m.active_params_b * 1e9
    return {
        "weight_read_s": w / n / (g.mem_bw_gbps * 1e9),
        "decode_flop_s": flops_per_token / n / peak,
        "prefill_flop_s": flops_per_token * i / n / peak,
        "prefill_read_s": w / n / (g.mem_bw_gbps * 1e9),
        "ridge_point": ridge,
        "decode_intensity": perf.arithmetic_intensity(m, precision, 1, i),
    }


def bandwidth_speed_table(model, precision: str = "bf16", *, input_tokens: int = 512,
                          output_tokens: int = 128, engine=None) -> pd.DataFrame:
    """Batch-1 speed of ``model`` on every catalog GPU, beside the replica's bandwidth.

    Each GPU at the fewest GPUs that hold the model (:func:`fit_table`, batch 1); GPUs that
    cannot hold it are left out.

    Returns
    -------
    pandas.DataFrame
        The :func:`fit_table` columns of the fitting rows plus ``segment``, ``mem_bw_gbps``
        (one GPU) and ``replica_bw_gbps`` (``mem_bw_gbps`` x ``min_n_gpus``) [GB/s] and
        ``bandwidth_bound_tokens_per_s`` (the replica's bandwidth divided by the weights: the
        speed if every step only read the weights at peak bandwidth) [tokens/s].
    """
    fits = fit_table(model, None, [precision], batch_size=1, input_tokens=input_tokens,
                     output_tokens=output_tokens, engine=engine)
    gpus = catalog.gpus()[["id", "mem_bw_gbps", "segment"]]
    out = fits[fits["status"] == "fits"].merge(gpus, left_on="gpu_id", right_on="id")
    out["replica_bw_gbps"] = out["mem_bw_gbps"] * out["min_n_gpus"].astype(int)
    out["bandwidth_bound_tokens_per_s"] = out["replica_bw_gbps"] / out["weights_gb"]
    return out


def intensity_by_batch(model, precision: str = "bf16", context_tokens: float = 0,
                       max_batch: int = 4096) -> pd.DataFrame:
    """Arithmetic intensity of a decode step at powers of two up to ``max_batch``.

    Returns
    -------
    pandas.DataFrame
        ``batch_size`` [sequences] and ``arithmetic_intensity`` [FLOP/B] from
        :func:`hwcost.perf.arithmetic_intensity` at ``context_tokens`` per sequence (memory
        fit not checked).
    """
    sizes = [b for b in batch_grid(_positive_int("max_batch", max_batch)) if b & (b - 1) == 0]
    return pd.DataFrame({
        "batch_size": sizes,
        "arithmetic_intensity": [perf.arithmetic_intensity(model, precision, b, context_tokens)
                                 for b in sizes],
    })


def gpu_speedup(model, gpu, baseline_gpu, *, batch_sizes=(1, 8, 32), n_gpus: int | None = None,
                precision: str = "bf16", input_tokens: int = 512, output_tokens: int = 128,
                engine=None, max_gpus: int = 8) -> pd.DataFrame:
    """How much faster ``gpu`` serves ``model`` than ``baseline_gpu``, batch by batch.

    Both run on the same GPU count: ``n_gpus``, or by default the fewest (up to ``max_gpus``)
    at which one sequence of ``model`` fits on both cards (1 for a model that fits one card),
    so a model too large for one card is compared tensor-parallel rather than not at all.

    Returns
    -------
    pandas.DataFrame
        Batches that fit on both: ``batch_size``, ``n_gpus`` (per replica, on each card),
        ``tpot_s`` on each (``tpot_s_gpu``, ``tpot_s_baseline``) [s],
        ``output_tokens_per_s`` on each [tokens/s], ``speedup`` (aggregate tokens/s ratio),
        ``bound`` on each GPU and ``bandwidth_ratio`` and ``compute_ratio`` (peak ratios at
        ``precision``). Empty when no count up to ``max_gpus`` holds the model on both.
    """
    model, gpu, baseline_gpu = catalog.llm(model), catalog.gpu(gpu), catalog.gpu(baseline_gpu)
    if n_gpus is None:
        need = [perf.min_gpus_to_fit(model, g, precision, input_tokens=input_tokens,
                                     output_tokens=output_tokens, engine=engine, max_gpus=max_gpus)
                for g in (gpu, baseline_gpu)]
        n_gpus = None if None in need else max(need)  # a valid count for one card is for the other
        if n_gpus is None:
            return pd.DataFrame(columns=["batch_size", "n_gpus", "tpot_s_gpu", "tpot_s_baseline",
                                         "output_tokens_per_s_gpu", "output_tokens_per_s_baseline",
                                         "bound_gpu", "bound_baseline", "speedup", "bandwidth_ratio",
                                         "compute_ratio"])
    a = perf.sweep(model, gpu, precisions=precision, n_gpus=n_gpus, batch_sizes=list(batch_sizes),
                   input_tokens=input_tokens, output_tokens=output_tokens, engine=engine)
    b = perf.sweep(model, baseline_gpu, precisions=precision, n_gpus=n_gpus,
                   batch_sizes=list(batch_sizes), input_tokens=input_tokens,
                   output_tokens=output_tokens, engine=engine)
    keep = (a["fits"] & b["fits"]).to_numpy()
    ga, gb = gpu, baseline_gpu
    out = pd.DataFrame({
        "batch_size": a["batch_size"].to_numpy()[keep],
        "n_gpus": n_gpus,
        "tpot_s_gpu": a["tpot_s"].to_numpy()[keep],
        "tpot_s_baseline": b["tpot_s"].to_numpy()[keep],
        "output_tokens_per_s_gpu": a["output_tokens_per_s"].to_numpy()[keep],
        "output_tokens_per_s_baseline": b["output_tokens_per_s"].to_numpy()[keep],
        "bound_gpu": a["bound"].astype(str).to_numpy()[keep],
        "bound_baseline": b["bound"].astype(str).to_numpy()[keep],
    })
    out["speedup"] = out["output_tokens_per_s_gpu"] / out["output_tokens_per_s_baseline"]
    out["bandwidth_ratio"] = ga.mem_bw_gbps / gb.mem_bw_gbps
    out["compute_ratio"] = perf.ridge_point(ga, precision) * ga.mem_bw_gbps / (
        perf.ridge_point(gb, precision) * gb.mem_bw_gbps)
    return out


# ----------------------------------------------------------------------------------------
# Inference servers
# ----------------------------------------------------------------------------------------
#: What the article says of the servers it lists (quoted), by engine id.
ARTICLE_ON_SERVERS = {
    "vllm": "Gold standard for LLM serving. Implements continuous batching, flash attention, "
            "speculative decoding.",
    "tensorrt-llm": "NVIDIA's optimized inference engine ... kernel fusion and optimization.",
    "tgi": "Designed for Hugging Face models. Good performance, straightforward API.",
    "litellm": "Lightweight, supports multiple providers through unified API. Good for development.",
}
#: LiteLLM is not an inference engine: it forwards OpenAI-format requests to providers or to
#: engines such as vLLM, with routing, load balancing and spend tracking.
LITELLM = {
    "name": "LiteLLM (proxy/router)",
    "docs_url": "https://docs.litellm.ai/docs/simple_proxy",
    "role": "proxy/router, runs no model",
    "continuous_batching": "n/a",
    "paged_attention": "n/a",
    "speculative_decoding": "n/a",
    "quantization_formats": "n/a",
    "multi_gpu": "n/a (load-balances across deployments)",
    "amd_support": "n/a",
}


def inference_servers(calibration=None) -> pd.DataFrame:
    """Serving engines known to :mod:`hwcost.perf`, their fitted factors, plus LiteLLM.

    Returns
    -------
    pandas.DataFrame
        One row per engine (index ``engine``): ``name``, ``role`` (inference engine or
        proxy), capabilities (``continuous_batching``, ``paged_attention``,
        ``speculative_decoding``, ``quantization_formats``, ``multi_gpu``, ``amd_support``)
        as yes/no text, ``bandwidth_efficiency`` and ``compute_efficiency`` (achieved
        fractions of peak on NVIDIA HBM GPUs) and ``step_overhead_s`` [s] in use,
        ``calibration_rows`` (benchmark rows behind the fit; 0 = generic factors),
        ``article_says`` and ``docs_url`` (the source of the capability columns). LiteLLM's
        numeric columns are 0: it runs no model.
    """
    eng = perf.engines(calibration)
    yes = {True: "yes", False: "no"}
    out = pd.DataFrame({
        "name": eng["name"],
        "role": "inference engine",
        "continuous_batching": eng["continuous_batching"].map(yes),
        "paged_attention": eng["paged_attention"].map(yes),
        "speculative_decoding": eng["speculative_decoding"].map(yes),
        "quantization_formats": eng["quantization_formats"],
        "multi_gpu": eng["multi_gpu"],
        "amd_support": eng["amd_support"].map(yes),
        "bandwidth_efficiency": eng["bandwidth_efficiency"].astype(float),
        "compute_efficiency": eng["compute_efficiency"].astype(float),
        "step_overhead_s": eng["step_overhead_s"].astype(float),
        "calibration_rows": eng["calibration_rows"].astype(int),
        "docs_url": eng["docs_url"],
    })
    out.loc["generic", "role"] = "reference (engine=None)"
    lite = dict(LITELLM, bandwidth_efficiency=0.0, compute_efficiency=0.0, step_overhead_s=0.0,
                calibration_rows=0)
    out = pd.concat([out, pd.DataFrame([lite], index=pd.Index(["litellm"], name="engine"))])
    out["article_says"] = [ARTICLE_ON_SERVERS.get(k, "not mentioned") for k in out.index]
    out.index.name = "engine"
    return out
