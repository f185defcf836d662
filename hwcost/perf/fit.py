"""Fitting :mod:`hwcost.perf`'s efficiency factors to published measurements, and validation.

Few, physically meaningful factors, each bounded to its physical range:

- per engine (and a generic centre the engines shrink towards): the share it reaches of each
  GPU's *achievable* memory bandwidth and tensor throughput, both in (0, 1) through a
  logistic link, a fixed per-forward-pass overhead and a fixed per-layer overhead (both > 0,
  log link). The achievable rates are not fitted: they are the published microbenchmarks of
  every GPU (``data/gpu_microbenchmarks.csv``, :func:`hwcost.perf.features.achievable_fractions`),
  so a GPU without serving measurements still gets its own memory system and tensor cores;
- per GPU class (NVIDIA HBM = reference, GDDR, AMD): shifts of the two efficiency logits for
  what the microbenchmarks leave unexplained (software stacks that reach a different share
  of the same achievable rate);
- one factor in (0, 1) for what weight-only int8/int4 kernels reach relative to 16-bit ones,
  on bandwidth and compute alike (dequantizing costs instructions in both regimes);
- one factor in (0, 1) for the share of their (doubled) peak that FP8 matrix products reach
  relative to 16-bit ones;
- the latency of one all-reduce over NVLink / Infinity Fabric;
- the ratio of a prefill pass's fixed cost to a decode step's (prefill passes run without
  captured CUDA graphs and carry request setup);
- a logit shift from the batched-decode to the prefill compute efficiency (prefill GEMMs
  have thousands of rows; batched decode mixes smaller GEMMs, attention and sampling);
- the extra fixed cost of a routed-MoE layer per pass, the same for every engine (routing,
  permutation, grouped-GEMM launches; seconds, > 0, log link).

No per-row corrections. The fit minimizes a robust (soft-L1) sum of squared log errors plus
Gaussian priors on every parameter: on the generic centre, a well-tuned server's share of
the achievable rates (:data:`PRIOR_GENERIC`: most of the streaming bandwidth and of the GEMM
rate, with a tight logit sd: decode kernels stream weights like a copy kernel, prefill runs
the same large GEMMs as the microbenchmarks, minus attention, norms and sampling between
them); tight on engine deviations
(logit sd 0.5; 1.0 for the compute efficiency of llama.cpp, ExLlamaV2, LMDeploy and MLC LLM,
which run their own matrix kernels) and looser on GPU-class shifts (sd 1.0). Engine deviations
are kept tight on purpose: in the bundled table some engines were measured on one GPU family
only (ExLlamaV2 only on the RTX 4090), and a loose
engine prior would let the engine absorb what belongs to the hardware class, then carry it to
other GPUs. Leave-one-source-out validation agreed with this choice.
``scipy.optimize.least_squares`` from a fixed start (the priors' centres; each
leave-one-group-out refit starts at the fit to all rows, which halves its evaluations) makes
the fit deterministic; the Jacobian's sparsity (:meth:`_Design.jacobian_sparsity`) keeps it
fast.

Validation is out of sample first: :func:`cross_validate` refits without each source, each
GPU and each engine in turn and predicts the rows left out; a hold-out of whole sources
(:func:`is_held_out`, decided by the source's address) is never fitted at all and scored by
:func:`holdout_errors`. :func:`calibrate` stores both, per regime, as median and 90th
percentile of the absolute error (:func:`error_summary`), beside the figures of the
calibration it replaces.

A team's own runs (:mod:`hwcost.perf.measurements`) enter through :func:`fit_overlay`: three
shifts per (GPU, engine) on top of the stored factors, which stay as they are.

References
----------
Huber, "Robust Estimation of a Location Parameter", 1964 (robust loss). Gelman et al.,
"Bayesian Data Analysis", ch. 5 (hierarchical shrinkage).
"""

from __future__ import annotations

import copy
import hashlib
import math
import os
import re
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from hwcost import catalog
from hwcost.errors import HwcostError

from . import api, features
from . import kernel as core

CLASSES = ("hbm", "gddr", "amd")
METRICS = ("output_tokens_per_s", "tokens_per_s_per_request", "tpot_s", "ttft_s",
           "prefill_tokens_per_s")
REQUIRED = ("engine", "gpu_id", "n_gpus", "model_id", "precision", "batch_size",
            "input_tokens", "output_tokens", "metric", "value")

# Priors: (centre, standard deviation) on the link scale. The generic centre's efficiencies
# are shares of each GPU's achievable (microbenchmarked) rates, see the module notes.
PRIOR_GENERIC = {"zb": (features.logit(0.9), 0.5), "zc": (features.logit(0.75), 0.5),
                 "lo": (math.log(3e-4), 2.0), "ll": (math.log(2e-5), 1.5)}
PRIOR_ENGINE_SD = {"zb": 0.5, "zc": 0.5, "lo": 1.0, "ll": 1.0}
# llama.cpp, ExLlamaV2, LMDeploy TurboMind and MLC LLM run their own matrix kernels
# (llama.cpp: MMQ integer dot products for quantized weights; TurboMind: its own GEMM library;
# MLC LLM: kernels generated by the TVM compiler), not the cuBLAS/CUTLASS/Triton kernels the
# other servers share, so their compute efficiency may stray further from the common centre.
PRIOR_ENGINE_SD_BY_ENGINE = {"llama.cpp": {"zc": 1.0}, "exllamav2": {"zc": 1.0},
                             "lmdeploy": {"zc": 1.0}, "mlc-llm": {"zc": 1.0}}
PRIOR_CLASS_SD = {"zb": 1.0, "zc": 1.0}
PRIOR_WEIGHT_ONLY = (features.logit(0.85), 1.0)
PRIOR_ALLREDUCE = (math.log(10e-6), 1.0)
PRIOR_FP8 = (features.logit(0.75), 1.0)
# FP4 products: block scales every 16 (NVFP4) or 32 (MXFP4) elements, as with FP8 a share of
# the doubled peak is lost; same prior.
PRIOR_FP4 = PRIOR_FP8
PRIOR_PREFILL_OVERHEAD = (math.log(2.0), 1.5)
# A prefill pass that runs as one compiled pass (features.prefill_overhead_ratio) pays about
# what a decode step does: centred on a ratio of 1.
PRIOR_COMPILED_PREFILL_OVERHEAD = (0.0, 1.0)
# Extra fixed cost of a routed-MoE layer per pass (log scale, [s]): about a dozen more kernels
# (gate GEMM, top-k, permutation and its inverse, grouped GEMMs) at a few microseconds each.
PRIOR_MOE_LAYER = (math.log(50e-6), 1.0)
# Extra fixed cost of a multi-head latent attention layer per pass (log scale, [s]): the
# latent projections, their norms and the absorbed per-head products, a few more kernels
# than a grouped-query attention layer runs.
PRIOR_MLA_LAYER = (math.log(50e-6), 1.0)
PRIOR_PREFILL_COMPUTE_SHIFT = (0.0, 1.0)
# Host time per running sequence per decode step (log scale, [s]): the sampler, the stop
# checks, the scheduler's bookkeeping and the output handling each loop over the sequences,
# a few microseconds together.
PRIOR_SEQUENCE_STEP = (math.log(features.SEQUENCE_STEP_OVERHEAD_PRIOR_S), 1.5)
# Mean delay of one GPU's share of a tensor-parallel pass as a fraction of it (log scale, [-];
# features.synchronization_slowdown): a few per cent of clock and contention spread.
PRIOR_SYNC_JITTER = (math.log(0.03), 1.5)
# Change of the MLA layer cost's logarithm per year of measurement date (1/yr): no trend
# expected a priori; a factor e per year either way is one sd. FlashMLA, FlashInfer's MLA
# kernels and the engines' fused latent projections all came out during 2025.
PRIOR_MLA_TREND = (0.0, 1.0)
# Log ratio of the MLA layer cost on AMD Instinct GPUs to NVIDIA's: none expected a priori.
PRIOR_MLA_AMD = (0.0, 1.0)
# Change of an engine's fixed costs' logarithm per year of measurement date (1/yr): no trend
# expected a priori, a factor e^0.5 a year either way one sd. The engines rewrote their host
# side more than once: vLLM's scheduler and output processing (v0.6, 2024) and its V1 engine
# (2025), SGLang's overlapped scheduler (v0.4, 2024), TensorRT-LLM's PyTorch runtime (the
# default from v1.0, 2025; a Python loop where its C++ runtime ran before).
PRIOR_ENGINE_TREND = (0.0, 0.5)
# An engine's trend is fitted where its fitted rows are this many and span this long [yr].
ENGINE_TREND_MIN_ROWS = 10
ENGINE_TREND_MIN_YEARS = 1.0
DAYS_PER_YEAR = 365.25
ROBUST_SCALE = 0.15  # soft-L1 scale on log errors (about 15%)
# Relative change of the cost, the factors and the gradient at which a fit stops. The data
# scatter by ~10 %; at 1e-5 the fitted figures move in their fourth digit against scipy's
# default 1e-8, which took four times as many model evaluations.
FIT_TOLERANCE = 1e-5
BAND_PERCENTILES = features.ERROR_BAND_PERCENTILES


#: What each calibration-wide factor of ``calibration.json`` means (:func:`global_factors`).
GLOBAL_FACTORS = {
    "weight_only_efficiency_factor": "int8/int4 weight-only GEMMs' share of 16-bit compute rate",
    "weight_only_bandwidth_factor": "their share of streaming efficiency on the weights",
    "fp8_compute_factor": "share of the doubled FP8 peak that FP8 GEMMs reach vs 16-bit",
    "fp4_compute_factor": "share of the FP4 peak that block-scaled FP4 GEMMs reach vs 16-bit",
    "allreduce_latency_s": "fixed latency of one all-reduce over NVLink/Infinity Fabric [s]",
    "prefill_overhead_ratio": "fixed cost of a prefill pass / that of a decode step (eager prefill)",
    "compiled_prefill_overhead_ratio": "the same where prefill is one compiled pass",
    "sequence_step_overhead_s": "host time per running sequence per decode step [s]",
    "moe_layer_overhead_s": "fixed cost of a routed-MoE layer per pass [s] (routing, permutation)",
    "mla_layer_overhead_s": ("fixed cost of a latent-attention (MLA) layer per pass on NVIDIA, "
                             "at mla_layer_overhead_date [s]"),
    "mla_layer_overhead_amd_factor": "that cost on AMD Instinct / on NVIDIA",
    "mla_layer_overhead_log_change_per_year": "change of its logarithm per year of measurement date",
    "prefill_compute_logit_shift": "extra share of peak compute large prefill GEMMs reach (logit)",
    "sync_jitter": "mean lag of one tensor-parallel GPU as a share of a pass",
}


def global_factors(data: dict | None = None) -> pd.DataFrame:
    """The calibration-wide factors of a calibration's ``data`` (default: the stored one),
    with what each means (:data:`GLOBAL_FACTORS`): columns factor, value (4 significant
    digits), meaning. Factors a calibration lacks are left out."""
    data = features.stored_calibration().data if data is None else data
    return pd.DataFrame([{"factor": k, "value": f"{float(data[k]):.4g}", "meaning": m}
                         for k, m in GLOBAL_FACTORS.items() if k in data])


def _decimal_years(dates: pd.Series) -> np.ndarray:
    """Dates as decimal years (2026-07-02 -> about 2026.5); NaN where a date is missing."""
    d = pd.to_datetime(dates, errors="coerce")
    days = (d - pd.Timestamp("2000-01-01")).dt.days.to_numpy(float)
    return 2000.0 + days / DAYS_PER_YEAR


def _decimal_year(date) -> float:
    """One date (ISO text or timestamp) as a decimal year (:func:`_decimal_years`)."""
    return float(_decimal_years(pd.Series([date]))[0])


def _log_change(trend, stored, to) -> float:
    """Change of a dated cost's logarithm from its ``stored`` date to ``to`` on ``trend``
    [1/yr]: 0 where either date is missing (the cost is kept)."""
    return trend * (_decimal_year(to) - _decimal_year(stored)) if stored and to else 0.0


def calibration_as_of(calibration, date) -> features.Calibration:
    """A calibration's dated costs moved to ``date``: what it says of a run on that day.

    The MLA layer cost and each engine's fixed costs (step and per layer) change with the
    measurement date (``mla_layer_overhead_log_change_per_year``, each engine's
    ``overhead_log_change_per_year``); a calibration stores them at the date of the newest
    measurement it saw (``mla_layer_overhead_date``, each engine's ``overhead_date``), which
    estimates use. :func:`validate` reads every benchmark row at its own date: this
    calibration, given to :func:`hwcost.perf.estimate`, predicts a row of that date alike.

    Parameters
    ----------
    calibration : Calibration, dict or None
        The calibration (None: the one estimates use by default).
    date : str or datetime.date
        Measurement date (ISO ``YYYY-MM-DD``).
    """
    cal = features.as_calibration(calibration)
    if not math.isfinite(_decimal_year(date)):
        raise HwcostError(f"date must be a date such as '2025-06-30', got {date!r}")
    data = copy.deepcopy(cal.data)
    day = pd.Timestamp(date).date().isoformat()

    mla_date = data.get("mla_layer_overhead_date")
    if mla_date and "mla_layer_overhead_s" in data:
        data["mla_layer_overhead_s"] = float(data["mla_layer_overhead_s"]) * math.exp(_log_change(
            float(data.get("mla_layer_overhead_log_change_per_year", 0.0)), mla_date, day))
        data["mla_layer_overhead_date"] = day
    for ef in data.get("engines", {}).values():
        stored = ef.get("overhead_date")
        if stored:
            factor = math.exp(_log_change(float(ef.get("overhead_log_change_per_year", 0.0)),
                                          stored, day))
            for key in ("step_overhead_s", "layer_overhead_s"):
                if key in ef:
                    ef[key] = float(ef[key]) * factor
            ef["overhead_date"] = day
    return features.Calibration(data)


def _sig(z):
    return 1.0 / (1.0 + np.exp(-z))


def _share_logit(share: float) -> float:
    """Fit parameter of a stored share in (0, 1]: its logit; 50 (a sigmoid of 1) for 1."""
    return features.logit(min(share, 1 - 1e-12)) if share < 1 else 50.0


def _table(benchmarks) -> pd.DataFrame:
    if benchmarks is None:
        df = catalog.benchmarks()
    elif isinstance(benchmarks, (str, os.PathLike)):
        df = catalog.benchmarks(path=benchmarks)
    elif isinstance(benchmarks, pd.DataFrame):
        df = benchmarks.copy()
    else:
        raise HwcostError(
            f"benchmarks must be None, a path or a DataFrame, got {type(benchmarks).__name__}")
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise HwcostError(f"benchmarks table lacks column(s) {', '.join(missing)}; "
                         f"expected the data/benchmarks.csv columns")
    df = df.reset_index(drop=True)
    if "id" not in df.columns:
        df["id"] = [f"row-{k}" for k in range(len(df))]
    if "source" not in df.columns:
        df["source"] = "user"
    if "kv_precision" not in df.columns:
        df["kv_precision"] = None
    bad = ~df["metric"].isin(METRICS)
    if bad.any():
        raise HwcostError(f"unknown metric {df.loc[bad, 'metric'].iloc[0]!r}; accepted: {', '.join(METRICS)}")
    vals = pd.to_numeric(df["value"], errors="coerce")
    if (~np.isfinite(vals) | (vals <= 0)).any():
        raise HwcostError("benchmark values must be positive numbers")
    df["value"] = vals.astype(float)
    return df


def source_key(source: str) -> str:
    """The document a row comes from: its first URL (without fragment), else its text."""
    text = str(source or "")
    m = re.search(r"https?://[^\s;,)]+", text)
    if m:
        return m.group(0).split("#")[0].rstrip(".")
    return text.split(" (")[0].strip() or "unknown"


HOLDOUT_HEX_DIGITS = "123"
"""Hold-out rule: a source whose key (:func:`source_key`) has a SHA-256 digest starting with
one of these hex digits is never fitted (about 3/16 of sources). The rule was fixed before
any error was looked at and takes whole sources, so a new source falls in or out by its
address alone and rows from one document never sit on both sides."""

SHAREGPT_MAX_TOTAL_TOKENS = 2048
"""Prompt + output limit [tokens] of the ShareGPT samplers of vLLM's and SGLang's benchmark
clients: conversations longer than that (or with a prompt over 1,024 tokens) are dropped
(vLLM ``benchmarks/benchmark_dataset.py``, ``is_valid_sequence``: ``max_prompt_len=1024``,
``max_total_len=2048``). Rows with ``lengths`` = ``sharegpt`` cap their output lengths at
this limit less the prompt."""

CV_GROUPS = ("source", "gpu", "engine")
"""Groupings of the cross-validation: leave one source, one GPU, one engine out."""


def is_held_out(source: str) -> bool:
    """True when rows citing ``source`` belong to the hold-out (see :data:`HOLDOUT_HEX_DIGITS`)."""
    digest = hashlib.sha256(source_key(source).encode()).hexdigest()
    return digest[0] in HOLDOUT_HEX_DIGITS


def regime(metric: str, batch) -> str:
    """decode / ttft / throughput for a benchmark metric."""
    if metric in ("ttft_s", "prefill_tokens_per_s"):
        return "ttft"
    if metric in ("tpot_s", "tokens_per_s_per_request"):
        return "decode"
    return "decode" if str(batch).strip() == "1" else "throughput"


def _row_layout(row) -> str:
    """A benchmark row's parallel layout (``layout`` column; empty = ``tp``)."""
    value = row.get("layout") if hasattr(row, "get") else None
    if not isinstance(value, str) or not value.strip():
        return "tp"
    return value


def _column_numbers(df: pd.DataFrame, column: str) -> np.ndarray:
    """Values of an optional numeric ``column`` as floats (NaN where the column is missing or
    a cell is empty)."""
    if column not in df.columns:
        return np.full(len(df), np.nan)
    return pd.to_numeric(df[column], errors="coerce").to_numpy(float)


def _column_is(df: pd.DataFrame, column: str, value: str) -> np.ndarray:
    """Rows whose optional ``column`` holds ``value`` (case and spaces ignored; a missing
    column or an empty cell holds nothing)."""
    if column not in df.columns:
        return np.zeros(len(df), dtype=bool)
    return (df[column].fillna("").astype(str).str.strip().str.lower() == value).to_numpy()


def _rows(f: dict, sel) -> dict:
    """The features of the rows ``sel`` (arrays sliced, scalars kept)."""
    return {k: (v[sel] if np.ndim(v) else v) for k, v in f.items()}


def _row_flash_attention(row) -> bool:
    """Whether a benchmark row ran with fused (flash) attention (``flash_attention`` column;
    empty = ``on``, the default of every engine today; ``off`` for runs that materialized the
    score matrix, e.g. llama.cpp before its ``-fa`` option)."""
    value = row.get("flash_attention") if hasattr(row, "get") else None
    return not (isinstance(value, str) and value.strip().lower() == "off")


class _Design:
    """Benchmark rows turned into stacked feature arrays, ready for fast re-evaluation."""

    def __init__(self, df: pd.DataFrame, achievable: bool = True):
        feats, keep, skipped = [], [], []
        self.engine, self.klass, self.weight_only, self.fast, self.fp8 = [], [], [], [], []
        self.fp4 = []
        self.achievable = []
        batches, want_max = [], []
        # Features on the achievable basis (the one every fit produces: measured links and
        # each GPU's achievable rates), or on the datasheet basis of older calibrations.
        basis = "achievable" if achievable else "datasheet"
        unit = features.Calibration({"engines": {}, "gpu_classes": {}, "efficiency_basis": basis})
        for pos, row in df.iterrows():
            try:
                kv = row["kv_precision"] if isinstance(row["kv_precision"], str) and row["kv_precision"] else None
                m, g, eid, spec, prec, kvp, n = features.resolve_inputs(
                    row["model_id"], row["gpu_id"], int(row["n_gpus"]), row["precision"], kv, row["engine"])
                # The engine as it ran on the row's date (kernel paths that came later off).
                spec = features.engine_as_of(spec, row.get("as_of"))
                f = features.model_features(m, g, spec, eid, prec, kvp, n,
                                            _row_flash_attention(row), unit, _row_layout(row))
            except ValueError as exc:
                skipped.append((row["id"], str(exc)))
                continue
            feats.append(f)
            keep.append(pos)
            self.engine.append(eid)
            self.klass.append(features.gpu_class(g))
            self.achievable.append(features.achievable_fractions(g) if achievable else (1.0, 1.0))
            mp = features.math_precision(m, g, prec, spec)  # the products' precision
            self.weight_only.append(mp in features.WEIGHT_ONLY)
            self.fp8.append(mp == "fp8")
            self.fp4.append(mp == "fp4")
            self.fast.append(features.fast_link(g, n) and spec["multi_gpu_mode"] == "tensor" and n > 1)
            bs = str(row["batch_size"]).strip().lower()
            want_max.append(bs == "max")
            batches.append(1.0 if bs == "max" else float(bs))
        if not feats:
            raise HwcostError("no benchmark row could be evaluated: " + "; ".join(s for _, s in skipped[:3]))
        self.df = df.loc[keep].reset_index(drop=True)
        self.skipped = skipped
        self.f = {k: np.array([x[k] for x in feats]) for k in feats[0]}
        self.engine = np.array(self.engine)
        self.klass = np.array(self.klass)
        self.a_bw, self.a_c = (np.array(x, dtype=float) for x in zip(*self.achievable))
        self.weight_only = np.array(self.weight_only)
        self.fp8 = np.array(self.fp8)
        self.fp4 = np.array(self.fp4)
        self.fast = np.array(self.fast)
        # Replicas whose GPUs meet at every layer (tensor or expert parallel, n > 1).
        self.synced = np.asarray(self.f["tensor"], bool) & (self.f["n"] > 1)
        self.i = self.df["input_tokens"].to_numpy(float)
        self.o = self.df["output_tokens"].to_numpy(float)
        self.want_max = np.array(want_max)
        b = np.array(batches)
        # Requests sampled from ShareGPT by the vLLM/SGLang benchmark clients
        # (``lengths`` = sharegpt): output lengths spread around the row's mean, capped by
        # the samplers' prompt + output limit: long answers hold their KV longest
        # (features.with_spread_output_lengths), and an offline run drains at a shrinking
        # batch (kernel.varied_finite_run_seconds).
        self.sharegpt = _column_is(self.df, "lengths", "sharegpt")
        self.f = features.with_spread_output_lengths(
            self.f, self.o, np.where(self.sharegpt, SHAREGPT_MAX_TOTAL_TOKENS - self.i, np.nan))
        bmax_mem = core.max_batch_by_memory(self.f, self.i, self.o)
        # A run that set the engine's sequence limit (max_batch: vLLM --max-num-seqs, SGLang
        # --max-running-requests, TensorRT-LLM max_batch_size) fills memory up to it instead
        # of the engine's default.
        self.f = features.with_sequence_limit(self.f, _column_numbers(self.df, "max_batch"))
        bmax = np.maximum(np.minimum(bmax_mem, self.f["cap"]), 0.0)
        # A finite offline run of N requests (num_requests, all submitted at once) goes in
        # batches of at most N (kernel.finite_run_seconds); blank = a steady state.
        self.num_requests = _column_numbers(self.df, "num_requests")
        self.finite = self.want_max & np.isfinite(self.num_requests)
        bmax = np.where(self.finite, np.minimum(bmax, np.nan_to_num(self.num_requests)), bmax)
        # "max" runs the largest batch that fits; a requested concurrency above what fits is
        # served at the memory-limited batch (the engine queues the rest).
        used = np.where(self.want_max, bmax, np.minimum(b, np.maximum(bmax_mem, 1.0)))
        self.batch = np.maximum(used, 1.0)
        self.memory_ok = (bmax_mem >= 1) & (self.want_max | (b <= bmax_mem))
        self.metric = self.df["metric"].to_numpy()
        self.measured = self.df["value"].to_numpy(float)
        self.regime = np.array([regime(mt, bs) for mt, bs in zip(self.metric, self.df["batch_size"])])
        self.sources = np.array([source_key(s) for s in self.df["source"]])
        self.gpu = self.df["gpu_id"].astype(str).to_numpy()
        self.holdout = np.array([is_held_out(s) for s in self.sources], dtype=bool)
        # Rows measured with N requests always in flight (closed loop) are predicted in that
        # steady state (kernel.closed_loop_seconds); the others ran as one batch.
        self.closed_loop = _column_is(self.df, "load", "concurrency")
        # Measurement dates as decimal years. The MLA layer cost changes with them; the
        # newest latent-attention row's date is the one the stored cost applies at
        # (``mla_layer_overhead_date``). Rows without a date count as of that date.
        dates = (pd.to_datetime(self.df["as_of"], errors="coerce") if "as_of" in self.df.columns
                 else pd.Series(pd.NaT, index=self.df.index))
        self.year = _decimal_years(dates)
        mla_dates = dates[self.f["mla_layers"] > 0]
        self.mla_date = mla_dates.max().date().isoformat() if mla_dates.notna().any() else None
        self.reference_year = _decimal_year(self.mla_date) if self.mla_date else math.nan
        self.years_since_reference = np.nan_to_num(self.year - self.reference_year, nan=0.0)
        self.mla_amd = (self.f["mla_layers"] > 0) & (self.klass == features.MLA_FACTOR_CLASS)
        # Each engine's fixed costs change with its software over the measurement dates. The
        # stored costs apply at one date for every engine, the table's newest measurement
        # (``overhead_date``): the engines' costs are compared, and drawn toward the generic
        # ones, as of the same day.
        newest = dates.max() if dates.notna().any() else None
        self.engine_date = ({e: newest.date().isoformat() for e in sorted(set(self.engine))}
                            if newest is not None else {})
        self.years_since_engine_date = np.nan_to_num(
            self.year - (_decimal_year(newest) if newest is not None else math.nan), nan=0.0)

    def groups(self, by: str) -> np.ndarray:
        """Group label of every row for a leave-one-group-out split (:data:`CV_GROUPS`)."""
        if by == "source":
            return self.sources
        if by == "gpu":
            return self.gpu
        if by == "engine":
            return self.engine
        raise HwcostError(f"unknown grouping {by!r}; accepted: {', '.join(CV_GROUPS)}")

    def _engine_trend_identified(self, engine, sel) -> bool:
        """Whether ``engine``'s fitted rows (``sel``) date far enough apart, and are many
        enough, to fit its fixed costs' trend (:data:`ENGINE_TREND_MIN_ROWS`,
        :data:`ENGINE_TREND_MIN_YEARS`)."""
        years = self.year[sel & (self.engine == engine)]
        years = years[np.isfinite(years)]
        return (years.size >= ENGINE_TREND_MIN_ROWS
                and float(years.max() - years.min()) >= ENGINE_TREND_MIN_YEARS)

    # -- parameters ---------------------------------------------------------------------
    def layout(self, mask=None):
        sel = np.ones(len(self.df), bool) if mask is None else mask
        engines = sorted(e for e in set(self.engine[sel]) if e != "generic")
        classes = [c for c in CLASSES[1:] if (self.klass[sel] == c).any()]
        names = ["zb", "zc", "lo", "ll"]
        for e in engines:
            names += [f"{e}:zb", f"{e}:zc", f"{e}:lo", f"{e}:ll"]
        for c in classes:
            names += [f"class-{c}:zb", f"class-{c}:zc"]
        names += [f"{e}:trend" for e in engines if self._engine_trend_identified(e, sel)]
        names.append("prefill_overhead")
        if (self.f["eager"][sel] == 0).any():
            names.append("compiled_prefill_overhead")
        names.append("sequence_step")
        if (self.regime[sel] == "ttft").any():
            names.append("prefill_compute_shift")
        if (self.f["moe_layers"][sel] > 0).any():
            names.append("moe_layer")
        if (self.f["mla_layers"][sel] > 0).any():
            names.append("mla_layer")
            years = self.year[sel & (self.f["mla_layers"] > 0)]
            if np.isfinite(years).sum() > 1 and np.nanmax(years) > np.nanmin(years):
                names.append("mla_trend")
            if self.mla_amd[sel].any():
                names.append("mla_amd")
        if self.weight_only[sel].any():
            names += ["weight_only", "weight_only_bw"]
        if self.fp8[sel].any():
            names.append("fp8")
        if self.fp4[sel].any():
            names.append("fp4")
        if self.fast[sel].any():
            names.append("allreduce")
        if self.synced[sel].any():
            names.append("sync_jitter")
        return names

    @staticmethod
    def prior(names):
        centre, sd = [], []
        for name in names:
            if name in PRIOR_GENERIC:
                c, s = PRIOR_GENERIC[name]
            elif name.startswith("class-"):
                c, s = 0.0, PRIOR_CLASS_SD[name.split(":")[1]]
            elif name in ("weight_only", "weight_only_bw"):
                c, s = PRIOR_WEIGHT_ONLY
            elif name == "allreduce":
                c, s = PRIOR_ALLREDUCE
            elif name == "fp8":
                c, s = PRIOR_FP8
            elif name == "fp4":
                c, s = PRIOR_FP4
            elif name == "prefill_overhead":
                c, s = PRIOR_PREFILL_OVERHEAD
            elif name == "compiled_prefill_overhead":
                c, s = PRIOR_COMPILED_PREFILL_OVERHEAD
            elif name == "sequence_step":
                c, s = PRIOR_SEQUENCE_STEP
            elif name == "moe_layer":
                c, s = PRIOR_MOE_LAYER
            elif name == "mla_layer":
                c, s = PRIOR_MLA_LAYER
            elif name == "mla_trend":
                c, s = PRIOR_MLA_TREND
            elif name == "mla_amd":
                c, s = PRIOR_MLA_AMD
            elif name == "prefill_compute_shift":
                c, s = PRIOR_PREFILL_COMPUTE_SHIFT
            elif name == "sync_jitter":
                c, s = PRIOR_SYNC_JITTER
            elif name.endswith(":trend"):
                c, s = PRIOR_ENGINE_TREND
            else:
                eng, par = name.split(":")
                c, s = 0.0, PRIOR_ENGINE_SD_BY_ENGINE.get(eng, {}).get(par, PRIOR_ENGINE_SD[par])
            centre.append(c)
            sd.append(s)
        return np.array(centre), np.array(sd)

    def factor_arrays(self, theta, names):
        p = dict(zip(names, theta))
        zb = np.full(len(self.df), p["zb"])
        zc = np.full(len(self.df), p["zc"])
        lo = np.full(len(self.df), p["lo"])
        ll = np.full(len(self.df), p["ll"])
        for e in set(self.engine):
            sel = self.engine == e
            zb[sel] += p.get(f"{e}:zb", 0.0)
            zc[sel] += p.get(f"{e}:zc", 0.0)
            lo[sel] += p.get(f"{e}:lo", 0.0)
            ll[sel] += p.get(f"{e}:ll", 0.0)
            drift = p.get(f"{e}:trend", 0.0) * self.years_since_engine_date[sel]
            lo[sel] += drift
            ll[sel] += drift
        for c in CLASSES[1:]:
            sel = self.klass == c
            zb[sel] += p.get(f"class-{c}:zb", 0.0)
            zc[sel] += p.get(f"class-{c}:zc", 0.0)
        wo_c = np.where(self.weight_only, _sig(p.get("weight_only", 50.0)), 1.0)
        wo_bw = np.where(self.weight_only, _sig(p.get("weight_only_bw", p.get("weight_only", 50.0))), 1.0)
        low = (np.where(self.fp8, _sig(p.get("fp8", 50.0)), 1.0)
               * np.where(self.fp4, _sig(p.get("fp4", 50.0)), 1.0))
        jitter = math.exp(p["sync_jitter"]) if "sync_jitter" in p else 0.0
        sync = features.synchronization_slowdown(self.f["n"], jitter, self.f["tensor"])
        lat = math.exp(p["allreduce"]) if "allreduce" in p else 10e-6
        link_lat = np.where(self.fast, lat, self.f["link_lat"])
        eta = features.wait_for_latest_gpu({
            "eta_bw": self.a_bw * _sig(zb), "eta_c": self.a_c * _sig(zc) * low,
            "eta_cp": self.a_c * _sig(zc + p.get("prefill_compute_shift", 0.0)) * low}, sync)
        moe = math.exp(p["moe_layer"]) if "moe_layer" in p else 0.0
        mla = (np.exp(p["mla_layer"] + p.get("mla_trend", 0.0) * self.years_since_reference
                      + p.get("mla_amd", 0.0) * self.mla_amd)
               if "mla_layer" in p else 0.0)
        ovh = features.overhead_seconds(np.exp(lo), np.exp(ll), self.f["n_layers"], self.f["moe_layers"],
                                        moe, self.f["mla_layers"], mla)
        return {**eta, "ovh": ovh, "wo_bw": wo_bw, "wo_c": wo_c, "sync": sync,
                "link_lat": link_lat,
                "ratio": np.where(self.f["eager"] > 0, math.exp(p.get("prefill_overhead", 0.0)),
                                  math.exp(p.get("compiled_prefill_overhead", p.get("prefill_overhead", 0.0)))),
                "seq": math.exp(p["sequence_step"]) if "sequence_step" in p else 0.0}

    def overlay_shifts(self, cal) -> np.ndarray | None:
        """Per-row (bandwidth logit, compute logit, log overhead) shifts of ``cal``'s overlay."""
        if not (cal.data.get("overlay") or {}).get("entries"):
            return None
        gpus = self.df["gpu_id"].to_numpy()
        return np.array([cal.overlay_shift(catalog.gpu(g).id, e)
                         for g, e in zip(gpus, self.engine)], dtype=float).reshape(-1, 3)

    def predict(self, theta, names, shifts=None):
        """Predicted value of every row; ``shifts`` (rows x 3) applies an overlay."""
        f = dict(self.f)
        fa = self.factor_arrays(theta, names)
        if shifts is not None:
            fa["eta_bw"] = features.shifted_efficiency(fa["eta_bw"], shifts[:, 0])
            fa["eta_c"] = features.shifted_efficiency(fa["eta_c"], shifts[:, 1])
            fa["eta_cp"] = features.shifted_efficiency(fa["eta_cp"], shifts[:, 1])
            fa["ovh"] = fa["ovh"] * np.exp(shifts[:, 2])
        for k in ("eta_bw", "eta_c", "eta_cp", "ovh", "link_lat", "wo_bw", "wo_c", "sync"):
            f[k] = fa[k]
        f["ovh_prefill"] = f["ovh"] * fa["ratio"]
        f["ovh_seq"] = fa["seq"]
        r = api.evaluate(f, self.batch, self.i, self.o, np.zeros(len(self.df), bool))
        tpot, tput = r["tpot"], r["tput"]
        if self.closed_loop.any():
            loaded_tpot, loaded_tput = core.closed_loop_seconds(f, self.batch, self.i, self.o)
            tpot = np.where(self.closed_loop, loaded_tpot, tpot)
            tput = np.where(self.closed_loop, loaded_tput, tput)
        sel = self.finite & (self.metric == "output_tokens_per_s")
        if sel.any():
            sub = _rows(f, sel)
            n_req = self.num_requests[sel]
            tput = tput.copy()
            run = core.finite_run_seconds(sub, self.batch[sel], n_req, self.i[sel], self.o[sel])
            share = self.sharegpt[sel]
            if share.any():
                i2 = self.i[sel][share]
                run[share] = core.varied_finite_run_seconds(
                    _rows(sub, share), self.batch[sel][share], n_req[share], i2,
                    self.o[sel][share], SHAREGPT_MAX_TOTAL_TOKENS - i2)
            tput[sel] = n_req * self.o[sel] / run
        out = np.select(
            [self.metric == "output_tokens_per_s", self.metric == "tokens_per_s_per_request",
             self.metric == "tpot_s", self.metric == "ttft_s"],
            [tput, 1.0 / tpot, tpot, r["ttft"]],
            self.batch * self.i / r["prefill"],
        )
        return out

    def fit(self, mask=None, start=None):
        """Fitted ``(names, theta)`` on the rows of ``mask``, from the priors' centres, or
        from ``start`` (a name -> value mapping, e.g. a fit to more rows) where it has a name."""
        from scipy.optimize import least_squares

        sel = np.ones(len(self.df), bool) if mask is None else mask
        names = self.layout(sel)
        centre, sd = self.prior(names)
        log_meas = np.log(self.measured[sel])
        x0 = np.array([(start or {}).get(n, c) for n, c in zip(names, centre)], dtype=float)

        def residuals(theta):
            pred = self.predict(theta, names)[sel]
            return np.concatenate([np.log(pred) - log_meas, (theta - centre) / sd])

        res = least_squares(residuals, x0, method="trf", loss="soft_l1",
                            f_scale=ROBUST_SCALE, x_scale=1.0, max_nfev=2000,
                            ftol=FIT_TOLERANCE, xtol=FIT_TOLERANCE, gtol=FIT_TOLERANCE,
                            jac_sparsity=self.jacobian_sparsity(names, sel))
        return names, res.x

    def jacobian_sparsity(self, names, sel) -> np.ndarray:
        """Which residuals each parameter moves: an engine's factors only its own rows, a GPU
        class's shifts only that class's rows, a factor of one kind of row (weight-only, FP8,
        fast links, tensor-parallel replicas, MoE and MLA layers) only those rows, the generic
        and the other global factors every row; each prior residual only its parameter.
        Finite differences then perturb the parameters of different engines (and classes)
        together: about a third of the model evaluations."""
        n, p = int(sel.sum()), len(names)
        out = np.zeros((n + p, p), dtype=bool)
        engine, klass = self.engine[sel], self.klass[sel]
        # global factors that only some rows carry (1 or 0 elsewhere, see factor_arrays)
        only = {"weight_only": self.weight_only, "weight_only_bw": self.weight_only,
                "fp8": self.fp8, "fp4": self.fp4, "allreduce": self.fast, "sync_jitter": self.synced,
                "moe_layer": self.f["moe_layers"] > 0, "mla_layer": self.f["mla_layers"] > 0,
                "mla_trend": self.f["mla_layers"] > 0, "mla_amd": self.mla_amd,
                "compiled_prefill_overhead": self.f["eager"] == 0}
        for j, name in enumerate(names):
            if name.startswith("class-"):
                out[:n, j] = klass == name.split(":")[0][len("class-"):]
            elif ":" in name:
                out[:n, j] = engine == name.split(":")[0]
            elif name in only:
                out[:n, j] = np.asarray(only[name], bool)[sel]
            else:
                out[:n, j] = True
            out[n + j, j] = True
        return out


def _calibration_dict(design: _Design, names, theta, df_all) -> dict:
    p = dict(zip(names, theta))
    engines = {}
    n_rows = pd.Series(design.engine).value_counts().to_dict()
    generic = {"bandwidth_efficiency": float(_sig(p["zb"])), "compute_efficiency": float(_sig(p["zc"])),
               "step_overhead_s": float(math.exp(p["lo"])), "layer_overhead_s": float(math.exp(p["ll"])),
               "overhead_log_change_per_year": 0.0, "overhead_date": None,
               "n_rows": int(len(design.df)), "fitted": True}
    for key in features.engine_specs():
        if key == "generic":
            engines[key] = generic
            continue
        if f"{key}:zb" in p:
            engines[key] = {
                "bandwidth_efficiency": float(_sig(p["zb"] + p[f"{key}:zb"])),
                "compute_efficiency": float(_sig(p["zc"] + p[f"{key}:zc"])),
                "step_overhead_s": float(math.exp(p["lo"] + p[f"{key}:lo"])),
                "layer_overhead_s": float(math.exp(p["ll"] + p[f"{key}:ll"])),
                "overhead_log_change_per_year": float(p.get(f"{key}:trend", 0.0)),
                "overhead_date": design.engine_date.get(key),
                "n_rows": int(n_rows.get(key, 0)), "fitted": True,
            }
        else:
            engines[key] = dict(generic, n_rows=0, fitted=False)
    classes = {}
    kcount = pd.Series(design.klass).value_counts().to_dict()
    for c in CLASSES:
        classes[c] = {"bandwidth_logit_shift": float(p.get(f"class-{c}:zb", 0.0)),
                      "compute_logit_shift": float(p.get(f"class-{c}:zc", 0.0)),
                      "n_rows": int(kcount.get(c, 0))}
    return {
        "efficiency_basis": "achievable",
        "engines": engines,
        "gpu_classes": classes,
        "weight_only_efficiency_factor": float(_sig(p["weight_only"])) if "weight_only" in p else 1.0,
        "weight_only_bandwidth_factor": float(_sig(p["weight_only_bw"])) if "weight_only_bw" in p else 1.0,
        "allreduce_latency_s": float(math.exp(p["allreduce"])) if "allreduce" in p else 10e-6,
        "fp8_compute_factor": float(_sig(p["fp8"])) if "fp8" in p else 1.0,
        "fp4_compute_factor": float(_sig(p["fp4"])) if "fp4" in p else 1.0,
        "prefill_overhead_ratio": float(math.exp(p["prefill_overhead"])),
        "compiled_prefill_overhead_ratio": float(math.exp(p.get("compiled_prefill_overhead",
                                                               p["prefill_overhead"]))),
        "sequence_step_overhead_s": float(math.exp(p["sequence_step"])) if "sequence_step" in p else 0.0,
        "moe_layer_overhead_s": float(math.exp(p["moe_layer"])) if "moe_layer" in p else 0.0,
        "mla_layer_overhead_s": float(math.exp(p["mla_layer"])) if "mla_layer" in p else 0.0,
        "mla_layer_overhead_amd_factor": float(math.exp(p.get("mla_amd", 0.0))),
        "mla_layer_overhead_log_change_per_year": float(p.get("mla_trend", 0.0)),
        "mla_layer_overhead_date": design.mla_date,
        "prefill_compute_logit_shift": float(p.get("prefill_compute_shift", 0.0)),
        "sync_jitter": float(math.exp(p["sync_jitter"])) if "sync_jitter" in p else 0.0,
    }


def _round(x, digits=6):
    if isinstance(x, float):
        return float(f"{x:.{digits}g}") if math.isfinite(x) else None
    if isinstance(x, dict):
        return {k: _round(v, digits) for k, v in x.items()}
    if isinstance(x, list):
        return [_round(v, digits) for v in x]
    return x


def _mdape(err_pct: pd.Series, regimes: pd.Series) -> dict:
    out = {}
    for r in features.REGIMES:
        sel = regimes == r
        out[r] = float(err_pct[sel].abs().median()) if sel.any() else None
    out["all"] = float(err_pct.abs().median()) if len(err_pct) else None
    return out


def _bands(measured, predicted, regimes, metrics) -> dict:
    """10th-90th percentile of measured/predicted SPEED per regime (times are inverted, so a
    band applies to rates as it is and to times by division)."""
    is_time = np.isin(np.asarray(metrics), ("ttft_s", "tpot_s"))
    m, p = np.asarray(measured, float), np.asarray(predicted, float)
    ratio = pd.Series(np.where(is_time, p / m, m / p))
    rg = pd.Series(np.asarray(regimes))
    bands = {}
    for r in features.REGIMES:
        x = ratio[(rg == r).to_numpy()].dropna()
        if len(x) >= 3:
            lo, hi = np.percentile(x, BAND_PERCENTILES)
            bands[r] = [float(min(lo, 1.0)), float(max(hi, 1.0))]
    return bands


def _frame(design: _Design, pred, memory_ok) -> pd.DataFrame:
    d = design.df
    out = pd.DataFrame({
        "id": d["id"].to_numpy(), "engine": design.engine, "gpu_id": d["gpu_id"].to_numpy(),
        "model_id": d["model_id"].to_numpy(), "n_gpus": d["n_gpus"].to_numpy(int),
        "precision": d["precision"].to_numpy(), "batch_size": d["batch_size"].astype(str).to_numpy(),
        "input_tokens": design.i.astype(int), "output_tokens": design.o.astype(int),
        "metric": design.metric, "regime": design.regime, "measured": design.measured,
        "predicted": pred, "error_pct": (pred - design.measured) / design.measured * 100.0,
        "batch_size_used": design.batch.astype(int), "memory_ok": memory_ok,
        "source": design.sources,
    })
    return out


def _fit_all(df):
    design = _Design(df)
    names, theta = design.fit()
    return design, names, theta


def validate(benchmarks=None, calibration=None) -> pd.DataFrame:
    """Predicted against measured value for every benchmark row.

    Returns a DataFrame with id, engine, gpu_id, model_id, n_gpus, precision, batch_size,
    input_tokens, output_tokens, metric, regime (decode / ttft / throughput), measured,
    predicted, error_pct ((predicted - measured) / measured x 100), batch_size_used, source,
    held_out (the row's source is in the hold-out, never fitted). ``attrs`` carry the
    calibration's out-of-sample figures: ``out_of_sample`` (per ``leave_one_source_out``,
    ``leave_one_gpu_out``, ``leave_one_engine_out`` and ``holdout``, per regime: n, median
    and 90th percentile of the absolute error [%]) and ``previous_out_of_sample`` (the same
    for the calibration it replaced).
    """
    cal = features.as_calibration(calibration)
    design = _Design(_table(benchmarks), achievable=cal.achievable_basis)
    data = cal.data
    # Re-express the stored factors as a parameter vector for the design's rows.
    names, theta = _theta_from_calibration(design, data)
    pred = design.predict(theta, names, design.overlay_shifts(cal))
    out = _frame(design, pred, design.memory_ok)
    out["held_out"] = design.holdout
    out.attrs["mdape_pct"] = _mdape(out["error_pct"], out["regime"])
    out.attrs["skipped"] = design.skipped
    out.attrs["out_of_sample"] = data.get("out_of_sample") or {}
    out.attrs["previous_out_of_sample"] = data.get("previous_out_of_sample") or {}
    return out


def _theta_from_calibration(design: _Design, data: dict):
    names = ["zb", "zc", "lo", "ll"]
    engines = data.get("engines", {})
    gen = engines.get("generic") or features.engine_specs()["generic"]["prior"]
    tiny = 1e-30  # a zero layer overhead (old calibrations) as a vanishing one
    theta = [features.logit(gen["bandwidth_efficiency"]), features.logit(gen["compute_efficiency"]),
             math.log(gen["step_overhead_s"]), math.log(max(gen.get("layer_overhead_s", 0.0), tiny))]
    trends = []
    for e in sorted(set(design.engine) - {"generic"}):
        ef = engines.get(e) or features.engine_specs()[e]["prior"]
        # Stored fixed costs apply at their engine's stored date; the parameters at the
        # design's own (``engine_date``).
        trend = float(ef.get("overhead_log_change_per_year", 0.0))
        shift = _log_change(trend, ef.get("overhead_date"), design.engine_date.get(e))
        names += [f"{e}:zb", f"{e}:zc", f"{e}:lo", f"{e}:ll"]
        theta += [features.logit(ef["bandwidth_efficiency"]) - theta[0],
                  features.logit(ef["compute_efficiency"]) - theta[1],
                  math.log(ef["step_overhead_s"]) - theta[2] + shift,
                  math.log(max(ef.get("layer_overhead_s", 0.0), tiny)) - theta[3] + shift]
        trends.append((f"{e}:trend", trend))
    for c in CLASSES[1:]:
        cl = data.get("gpu_classes", {}).get(c, {})
        names += [f"class-{c}:zb", f"class-{c}:zc"]
        theta += [float(cl.get("bandwidth_logit_shift", 0.0)), float(cl.get("compute_logit_shift", 0.0))]
    q = float(data.get("weight_only_efficiency_factor", 1.0))
    names += ["weight_only", "weight_only_bw"]
    theta += [_share_logit(q), _share_logit(float(data.get("weight_only_bandwidth_factor", q)))]
    names.append("allreduce")
    theta.append(math.log(float(data.get("allreduce_latency_s", 10e-6))))
    names.append("prefill_overhead")
    theta.append(math.log(float(data.get("prefill_overhead_ratio", 1.0))))
    names.append("compiled_prefill_overhead")
    theta.append(math.log(float(data.get("compiled_prefill_overhead_ratio",
                                         data.get("prefill_overhead_ratio", 1.0)))))
    names.append("sequence_step")
    theta.append(math.log(max(float(data.get("sequence_step_overhead_s", 0.0)), tiny)))
    names += ["fp8", "fp4"]
    theta += [_share_logit(float(data.get("fp8_compute_factor", 1.0))),
              _share_logit(float(data.get("fp4_compute_factor", 1.0)))]
    moe = float(data.get("moe_layer_overhead_s", 0.0))
    mla = float(data.get("mla_layer_overhead_s", 0.0))
    trend = float(data.get("mla_layer_overhead_log_change_per_year", 0.0))
    # The stored cost is the one at the calibration's date; the design's rows are read
    # against their own newest latent-attention row.
    shift = _log_change(trend, data.get("mla_layer_overhead_date"), design.mla_date)
    names += ["moe_layer", "mla_layer", "mla_trend", "mla_amd", "prefill_compute_shift"]
    theta += [math.log(max(moe, tiny)), math.log(max(mla, tiny)) + shift, trend,
              math.log(float(data.get("mla_layer_overhead_amd_factor", 1.0))),
              float(data.get("prefill_compute_logit_shift", 0.0))]
    names.append("sync_jitter")
    theta.append(math.log(max(float(data.get("sync_jitter", 0.0)), tiny)))
    names += [n for n, _ in trends]
    theta += [t for _, t in trends]
    return names, np.array(theta)


def leave_one_source_out(benchmarks=None) -> pd.DataFrame:
    """Refit without each source in turn and predict that source's rows (out-of-sample).

    Same columns as :func:`validate` plus ``held_out_source``. ``df.attrs['mdape_pct']``
    holds the median absolute percentage error per regime and overall.
    """
    design = _Design(_table(benchmarks))
    pred = np.full(len(design.df), np.nan)
    held = np.empty(len(design.df), dtype=object)
    full = dict(zip(*design.fit()))  # each refit starts here (deterministic, about 2x faster)
    for src in sorted(set(design.sources)):
        test = design.sources == src
        if test.all():
            continue
        names, theta = design.fit(~test, start=full)
        pred[test] = design.predict(theta, names)[test]
        held[test] = src
    out = _frame(design, pred, design.memory_ok)
    out["held_out_source"] = held
    out = out[np.isfinite(out["predicted"])].reset_index(drop=True)
    out.attrs["mdape_pct"] = _mdape(out["error_pct"], out["regime"])
    out.attrs["mdape_by_source_pct"] = out.groupby("source")["error_pct"].apply(
        lambda e: float(e.abs().median())).to_dict()
    return out


def cross_validate(benchmarks=None, by=CV_GROUPS, *, holdout: bool = True) -> pd.DataFrame:
    """Leave-one-group-out predictions: for each grouping in ``by`` and each group, refit on
    the other rows and predict the group's rows.

    Rows of the hold-out (:func:`is_held_out`) are neither fitted nor predicted when
    ``holdout`` is true; :func:`holdout_errors` scores them. Returns the :func:`validate`
    columns plus ``held_out_by`` (``source``/``gpu``/``engine``) and ``group``; a group
    that holds every fitted row is skipped (nothing left to fit).
    """
    design = _Design(_table(benchmarks))
    usable = ~design.holdout if holdout else np.ones(len(design.df), bool)
    # Each refit starts from the fit to every usable row: the same optimum as from the priors
    # to the fit's tolerance (predictions within about 0.1 %), in about half the evaluations.
    full = dict(zip(*design.fit(usable)))
    frames = []
    for grouping in ([by] if isinstance(by, str) else list(by)):
        labels = design.groups(grouping)
        pred = np.full(len(design.df), np.nan)
        for g in sorted(set(labels[usable])):
            test = usable & (labels == g)
            train = usable & ~test
            if not train.any():
                continue
            names, theta = design.fit(train, start=full)
            pred[test] = design.predict(theta, names)[test]
        out = _frame(design, pred, design.memory_ok)
        out["held_out_by"] = grouping
        out["group"] = labels
        frames.append(out[np.isfinite(out["predicted"])])
    return pd.concat(frames, ignore_index=True)


def holdout_errors(benchmarks=None, calibration=None) -> pd.DataFrame:
    """The hold-out rows (:func:`is_held_out`) predicted with ``calibration`` (default the
    stored one, which was fitted without them): the :func:`validate` columns."""
    out = validate(benchmarks, calibration)
    return out[[is_held_out(s) for s in out["source"]]].reset_index(drop=True)


def error_summary(frame: pd.DataFrame, by: str | None = "held_out_by") -> pd.DataFrame:
    """Median and 90th percentile of the absolute percentage error per regime (and all rows).

    ``frame`` holds ``regime`` and ``error_pct`` (and ``by`` when given). Returns one row per
    (``by`` value,) regime with ``n``, ``median_abs_error_pct``, ``p90_abs_error_pct``.
    """
    rows = []
    keys = [None] if by is None else list(dict.fromkeys(frame[by]))
    for key in keys:
        sub = frame if key is None else frame[frame[by] == key]
        for r in (*features.REGIMES, "all"):
            e = (sub["error_pct"] if r == "all" else sub.loc[sub["regime"] == r, "error_pct"]).abs()
            e = e[np.isfinite(e)]
            row = {} if key is None else {by: key}
            row.update(regime=r, n=int(len(e)),
                       median_abs_error_pct=float(e.median()) if len(e) else float("nan"),
                       p90_abs_error_pct=float(np.percentile(e, 90)) if len(e) else float("nan"))
            rows.append(row)
    return pd.DataFrame(rows)


def _summary_dict(frame: pd.DataFrame) -> dict:
    out = {}
    for r in error_summary(frame, by=None).itertuples(index=False):
        if r.n:
            out[r.regime] = {"n": r.n, "median_abs_error_pct": r.median_abs_error_pct,
                             "p90_abs_error_pct": r.p90_abs_error_pct}
    return out


def out_of_sample_summary(benchmarks=None, *, holdout: bool = True,
                          calibration=None) -> dict:
    """Out-of-sample error figures as calibration.json stores them: per grouping of
    :func:`cross_validate` (``leave_one_<source|gpu|engine>_out``) and for the hold-out
    (with ``calibration``, default the stored one), per regime n / median / p90 of
    |error| [%]."""
    cv = cross_validate(benchmarks, holdout=holdout)
    out = {f"leave_one_{g}_out": _summary_dict(cv[cv["held_out_by"] == g])
           for g in dict.fromkeys(cv["held_out_by"])}
    if holdout:
        ho = holdout_errors(benchmarks, calibration)
        if len(ho):
            out["holdout"] = _summary_dict(ho)
    return out


def out_of_sample_table(block: dict | None) -> pd.DataFrame:
    """An ``out_of_sample`` block of calibration.json (see :func:`out_of_sample_summary`) as
    a table: ``check`` (e.g. ``leave one source out``, ``holdout``), ``regime``, ``n``,
    ``median_pct`` and ``p90_pct`` (absolute error [%])."""
    rows = [{"check": grouping.replace("_", " "), "regime": r, "n": f["n"],
             "median_pct": f["median_abs_error_pct"], "p90_pct": f["p90_abs_error_pct"]}
            for grouping, figs in (block or {}).items() for r, f in figs.items()]
    return pd.DataFrame(rows, columns=["check", "regime", "n", "median_pct", "p90_pct"])


def _table_hash(df: pd.DataFrame) -> str:
    cols = [c for c in ("id", *REQUIRED, "kv_precision", "layout", "load", "num_requests",
                        "max_batch", "lengths", "flash_attention", "source", "as_of")
            if c in df.columns]
    text = df[cols].astype(str).to_csv(index=False)
    return hashlib.sha256(text.encode()).hexdigest()


def calibrate(benchmarks=None, *, write=False, path=None, loso=True,
              holdout=None) -> features.Calibration:
    """Refit the efficiency factors to published measurements (reproducible).

    Parameters
    ----------
    benchmarks : DataFrame or path, optional
        Rows in the ``data/benchmarks.csv`` format; default the bundled table.
    write : bool
        Write the result to ``path`` (default ``hwcost/perf/calibration.json``) atomically
        (temporary file + ``os.replace``). Nothing is written otherwise.
    loso : bool or sequence of str
        Also run the leave-one-source-, GPU- and engine-out validations (stored as
        ``out_of_sample``, with the replaced file's figures as ``previous_out_of_sample``)
        and take the error bands from the leave-one-source-out residuals. A sequence of
        groupings (:data:`CV_GROUPS`, ``"source"`` among them) runs only those, e.g.
        ``("source",)``: a third of the refits of the full set.
    holdout : bool, optional
        Leave the hold-out sources (:func:`hwcost.perf.fit.is_held_out`) out of the fit;
        their errors are stored as ``out_of_sample['holdout']``. Default: true for the
        bundled table, false for a table passed in.

    Returns
    -------
    Calibration
    """
    if holdout is None:
        holdout = benchmarks is None
    groupings = CV_GROUPS if loso is True else tuple(loso or ())
    unknown = [g for g in groupings if g not in CV_GROUPS]
    if unknown or (groupings and "source" not in groupings):
        raise HwcostError(f"loso={loso!r}: give True, False or groupings from "
                          f"{', '.join(CV_GROUPS)} that include 'source'")
    df = _table(benchmarks)
    design = _Design(df)
    held = design.holdout if holdout else np.zeros(len(design.df), bool)
    if held.all():
        raise HwcostError("every benchmark row falls in the hold-out; pass holdout=False")
    names, theta = design.fit(~held)
    data = _calibration_dict(design, names, theta, df)
    pred = design.predict(theta, names)
    frame = _frame(design, pred, design.memory_ok)
    fitted = frame[~held]
    mdape = _mdape(fitted["error_pct"], fitted["regime"])
    bands = _bands(fitted["measured"], fitted["predicted"], fitted["regime"], fitted["metric"])
    band_source = "in-sample residuals"
    loso_mdape, loso_err, oos = None, {}, {}
    if groupings and len(set(design.sources[~held])) > 1:
        cv = cross_validate(df, by=groupings, holdout=holdout)
        for g in groupings:
            part = cv[cv["held_out_by"] == g]
            if len(part):
                oos[f"leave_one_{g}_out"] = _summary_dict(part)
        lo = cv[cv["held_out_by"] == "source"]
        loso_mdape = _mdape(lo["error_pct"], lo["regime"])
        loso_err = dict(zip(lo["id"], lo["error_pct"]))
        loso_bands = _bands(lo["measured"], lo["predicted"], lo["regime"], lo["metric"])
        for r, b in loso_bands.items():
            bands[r] = b
        band_source = "leave-one-source-out residuals (in-sample where a regime has < 3 rows)"
    if held.any():
        oos["holdout"] = _summary_dict(frame[held])
    previous = _stored_out_of_sample(Path(path) if path else features.CALIBRATION_PATH)
    residuals = [
        {"id": str(r.id), "engine": r.engine, "gpu_id": r.gpu_id, "metric": r.metric,
         "regime": r.regime, "measured": float(r.measured), "predicted": float(r.predicted),
         "error_pct": float(r.error_pct),
         "loso_error_pct": float(loso_err[r.id]) if r.id in loso_err else None,
         "held_out": bool(h),
         "memory_ok": bool(r.memory_ok), "batch_size_used": int(r.batch_size_used)}
        for r, h in zip(frame.itertuples(index=False), held)
    ]
    src = df.attrs.get("source_file")
    data = {
        "format_version": 1,
        "about": ("Efficiency factors of hwcost.perf fitted by hwcost.perf.calibrate() to the "
                  "benchmark table below; engines with n_rows 0 use the generic factors. "
                  "Efficiencies are for NVIDIA HBM GPUs; gpu_classes shift their logits. "
                  "error_bands: 10th-90th percentile of measured / predicted speed per regime (times inverted)."),
        "benchmarks": {"file": Path(src).name if src else "user table", "rows": int(len(df)),
                       "rows_used": int(len(design.df)),
                       "skipped": [{"id": str(i), "why": w} for i, w in design.skipped],
                       "sha256": _table_hash(df)},
        "method": ("robust (soft-L1, scale 0.15) least squares on log(predicted / measured) with "
                   "Gaussian priors; scipy.optimize.least_squares, trf with the Jacobian's "
                   f"sparsity, fixed start at the priors (each leave-one-group-out refit at the full fit), "
                   f"tolerances {FIT_TOLERANCE:g}"),
        **data,
        "error_bands": bands,
        "error_band_source": band_source,
        "mdape_pct": mdape,
        "loso_mdape_pct": loso_mdape,
        "holdout_rule": (f"sources whose SHA-256 of the source key starts with one of "
                         f"{', '.join(HOLDOUT_HEX_DIGITS)} are not fitted"
                         if holdout else "none: every row fitted"),
        "rows_fitted": int((~held).sum()),
        "out_of_sample": oos,
        "previous_out_of_sample": previous,
        "residuals": residuals,
    }
    data = _round(data)
    cal = features.Calibration(data)
    if write:
        _write_atomic(Path(path) if path else features.CALIBRATION_PATH, cal.to_json())
        if path is None:
            features.default_calibration.cache_clear()
    return cal


OVERLAY_PRIOR_SD = (1.0, 1.0, 1.0)
"""Prior standard deviations of an overlay's shifts (bandwidth logit, compute logit, log
overhead): wide enough that a few runs can move a prediction by a factor of two or more,
tight enough that a metric the runs do not inform (e.g. prefill, from decode-only runs)
stays near the bundled calibration."""


OVERLAY_MEASUREMENT_SD = 0.05
"""Assumed run-to-run noise of a team's own measurement, as a standard deviation of its
logarithm (about 5 %): the overlay fit weighs log errors by it against its priors."""


def fit_overlay(runs, calibration=None) -> features.Calibration:
    """Fit a calibration overlay to a team's own measurements.

    For every (GPU, engine) in ``runs`` three shifts are fitted on top of ``calibration``
    (default: the stored one, left untouched): the logit of the memory-bandwidth efficiency,
    the logit of the compute efficiency (decode and prefill alike) and the log of the fixed
    per-pass costs, by least squares on log(predicted / measured) (weighted by the
    measurement noise :data:`OVERLAY_MEASUREMENT_SD`) with Gaussian priors
    (:data:`OVERLAY_PRIOR_SD`) centred on no shift. Predictions for that GPU and engine then
    follow the team's runs; other GPUs and engines keep the bundled calibration.

    Parameters
    ----------
    runs : DataFrame or path
        Benchmark rows (the ``data/benchmarks.csv`` columns), e.g. from
        :func:`hwcost.perf.measurements.read_runs`, or a measurement file it reads.
    calibration : Calibration, optional
        The base (default: the stored calibration, whatever ``HWCOST_CALIBRATION`` says); an
        overlay already in it is replaced.

    Returns
    -------
    Calibration
        The base with ``data['overlay']``: ``entries`` (gpu_id, engine, the three shifts,
        n_rows) and ``rows`` (every row's measured value and predictions before and after).
    """
    from scipy.optimize import least_squares

    if isinstance(runs, (str, os.PathLike)):
        from . import measurements

        runs = measurements.read_runs(runs)
    base = features.bundled_calibration() if calibration is None else features.as_calibration(calibration)
    base = features.Calibration({k: v for k, v in base.data.items() if k != "overlay"})
    df = _table(runs)
    design = _Design(df, achievable=base.achievable_basis)
    names, theta = _theta_from_calibration(design, base.data)
    keys = [(str(catalog.gpu(g).id), str(e)) for g, e in zip(design.gpu, design.engine)]
    groups = list(dict.fromkeys(keys))
    index = np.array([groups.index(k) for k in keys])
    sd = np.tile(np.array(OVERLAY_PRIOR_SD), len(groups))
    log_meas = np.log(design.measured)

    def shifts_of(x):
        return x.reshape(-1, 3)[index]

    def residuals(x):
        pred = design.predict(theta, names, shifts_of(x))
        return np.concatenate([(np.log(pred) - log_meas) / OVERLAY_MEASUREMENT_SD, x / sd])

    # Plain squares: a team's few runs are all signal (no outlier to down-weight).
    res = least_squares(residuals, np.zeros(3 * len(groups)), method="trf", x_scale=1.0,
                        max_nfev=500)
    before = design.predict(theta, names)
    after = design.predict(theta, names, shifts_of(res.x))
    n_rows = pd.Series(index).value_counts().to_dict()
    entries = [{"gpu_id": g, "engine": e,
                "bandwidth_logit_shift": float(res.x[3 * k]),
                "compute_logit_shift": float(res.x[3 * k + 1]),
                "overhead_log_shift": float(res.x[3 * k + 2]),
                "n_rows": int(n_rows.get(k, 0))}
               for k, (g, e) in enumerate(groups)]
    rows = [{"id": str(i), "gpu_id": g, "engine": e, "model_id": m, "metric": mt,
             "batch_size": str(b), "input_tokens": int(ii), "output_tokens": int(oo),
             "measured": float(v), "predicted_before": float(pb), "predicted_after": float(pa),
             "source": str(src)}
            for i, (g, e), m, mt, b, ii, oo, v, pb, pa, src in zip(
                design.df["id"], keys, design.df["model_id"], design.metric,
                design.df["batch_size"], design.i, design.o, design.measured, before, after,
                design.df["source"])]
    overlay = {"format_version": 1,
               "about": ("Shifts fitted by hwcost.perf.fit_overlay() to a team's own runs, "
                         "applied on top of the stored calibration for their GPU and engine."),
               "base_sha256": hashlib.sha256(base.to_json().encode()).hexdigest(),
               "prior_sd": list(OVERLAY_PRIOR_SD),
               "entries": entries, "rows": rows,
               "skipped": [{"id": str(i), "why": w} for i, w in design.skipped]
               + [{"id": str(src), "why": w} for src, w in runs.attrs.get("skipped", [])]}
    return features.Calibration({**base.data, "overlay": _round(overlay)})


def overlay_comparison(calibration) -> pd.DataFrame:
    """Measured against predicted, before and after the overlay, for every row it was fitted
    to: ``measured``, ``predicted_before``, ``predicted_after`` and the two errors [%]."""
    rows = ((features.as_calibration(calibration).data.get("overlay") or {}).get("rows")) or []
    if not rows:
        raise HwcostError("this calibration carries no overlay (see hwcost.perf.fit_overlay)")
    df = pd.DataFrame(rows)
    df["error_before_pct"] = (df["predicted_before"] - df["measured"]) / df["measured"] * 100.0
    df["error_after_pct"] = (df["predicted_after"] - df["measured"]) / df["measured"] * 100.0
    return df


def save_overlay(calibration, path) -> Path:
    """Write the overlay of ``calibration`` (from :func:`fit_overlay`) to ``path`` as JSON,
    atomically; only the overlay is written, so later updates of the bundled calibration
    still apply under it. Returns the path."""
    cal = features.as_calibration(calibration)
    if not (cal.data.get("overlay") or {}).get("entries"):
        raise HwcostError("this calibration carries no overlay (see hwcost.perf.fit_overlay)")
    import json

    path = Path(path)
    _write_atomic(path, json.dumps({"overlay": cal.data["overlay"]}, indent=1) + "\n")
    return path


def _stored_out_of_sample(path: Path) -> dict | None:
    """The ``out_of_sample`` block of the calibration file about to be replaced, if any."""
    try:
        import json

        with open(path, encoding="utf-8") as fh:
            return json.load(fh).get("out_of_sample") or None
    except (OSError, ValueError, AttributeError):
        return None


def _write_atomic(path: Path, text: str) -> None:
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=str(path.parent))
    try:
        if path.exists():
            mode = path.stat().st_mode & 0o777
        else:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(tmp, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _overlay_from_measurement_file(path, base) -> features.Calibration:
    from . import measurements

    return fit_overlay(measurements.read_runs(path), base)


features.register_overlay_fitter(_overlay_from_measurement_file)
