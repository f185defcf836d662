"""The estimate API of the performance model: step times, estimates, sweeps and engine tables.

Built on :mod:`hwcost.perf.features` (what a configuration is) and :mod:`hwcost.perf.kernel`
(the vectorized arithmetic). See :mod:`hwcost.perf` for the model.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, fields
from typing import Iterable

import numpy as np
import pandas as pd

from hwcost import catalog
from hwcost import validate as checks  # perf.validate is the benchmark comparison

from ..errors import HwcostError
from . import kernel as core
from .features import (
    DEVICE_MEMORY_BYTES_PER_GB,
    MAX_GPUS,
    WEIGHT_BITS,
    WEIGHT_ONLY,
    as_calibration,
    batch_cap,
    check_layout,
    check_precision,
    decode_graph_max_batch,
    default_calibration,
    default_kv_precision,
    engine_numbers,
    engine_specs,
    gpu_class,
    gpu_count_problem,
    layout_numbers,
    link_bandwidth_latency,
    math_precision,
    midsize_link_bandwidth,
    model_features,
    model_numbers,
    overhead_seconds,
    peak_flops,
    positive_int,
    prefill_overhead_ratio,
    product_numbers,
    resolve_engine_id,
    resolve_inputs,
    routed_expert_params,
    synchronization_slowdown,
    wait_for_latest_gpu,
    with_sequence_limit,
    with_spread_output_lengths,
)


@dataclass(frozen=True)
class StepTimes:
    """Per-iteration timing of one replica, vectorized over numpy inputs.

    Build with :func:`step_times`. Attributes are the replica's KV capacity and limits;
    methods return seconds and accept arrays.
    """

    model_id: str
    gpu_id: str
    engine: str
    precision: str
    kv_precision: str
    n_gpus: int
    flash_attention: bool
    kv_cache_bytes_per_token: float
    kv_capacity_tokens: int
    max_batch_size: int | None
    bandwidth_efficiency: float
    compute_efficiency: float
    step_overhead_s: float
    _f: dict = field(repr=False, compare=False, hash=False)
    #: Parallel layout of the replica (:data:`hwcost.perf.features.LAYOUTS`).
    layout: str = "tp"
    #: How much longer the GPUs' memory and compute time runs because every layer waits for
    #: the latest GPU (:func:`hwcost.perf.features.synchronization_slowdown`; 1 on one GPU).
    sync_slowdown: float = 1.0

    #: :meth:`iteration_seconds` on plain numbers costs a few microseconds (the serving
    #: simulator then calls it for every mixed iteration instead of fitting recurring shapes)
    scalar_iteration_is_cheap = True

    def decode_step_seconds(self, batch_size, context_tokens):
        """One decode iteration of ``batch_size`` sequences holding ``context_tokens`` in total [s]."""
        if (batch_size.__class__ in _PY_NUMBERS and context_tokens.__class__ in _PY_NUMBERS
                and batch_size > 0 and 0 <= context_tokens < math.inf):
            # the simulators' per-step calls: the scalar path of iteration_seconds, which
            # keeps each batch size's coefficients (agreement with the arrays is tested)
            return self._iteration_scalar(0.0, batch_size, context_tokens, 0.0)
        b = np.asarray(batch_size, dtype=float)
        c = np.asarray(context_tokens, dtype=float)
        _check_nonneg("batch_size", b, strict=True)
        _check_nonneg("context_tokens", c)
        # one batch size over many contexts (a stretch of steps): its coefficients are kept
        co = self._terms().coefficients(float(b)) if b.ndim == 0 else None
        return _scalar(core.decode_step_seconds(self._f, b, c / b, co))

    def verify_step_seconds(self, batch_size, context_tokens, tokens_per_sequence):
        """One speculative-decoding verification pass of ``batch_size`` sequences holding
        ``context_tokens`` in total, each checking ``tokens_per_sequence`` tokens (drafted
        tokens + 1) [s]. See :func:`hwcost.perf.kernel.verify_step_seconds`."""
        b = np.asarray(batch_size, dtype=float)
        c = np.asarray(context_tokens, dtype=float)
        q = np.asarray(tokens_per_sequence, dtype=float)
        _check_nonneg("batch_size", b, strict=True)
        _check_nonneg("context_tokens", c)
        _check_nonneg("tokens_per_sequence", q, strict=True)
        return _scalar(core.verify_step_seconds(self._f, b, c / b, q))

    def prefill_seconds(self, new_tokens, context_tokens=0, n_sequences=1):
        """One forward pass over ``new_tokens`` prompt tokens after ``context_tokens`` cached [s].

        ``n_sequences`` splits the tokens over that many equal prompts (attention is per
        prompt); ``context_tokens`` is per sequence.
        """
        t = np.asarray(new_tokens, dtype=float)
        c = np.asarray(context_tokens, dtype=float)
        s = np.asarray(n_sequences, dtype=float)
        _check_nonneg("new_tokens", t, strict=True)
        _check_nonneg("context_tokens", c)
        _check_nonneg("n_sequences", s, strict=True)
        return _scalar(core.prefill_seconds(self._f, s, t / s, c))

    def closed_loop(self, concurrency, input_tokens, output_tokens):
        """Steady state of ``concurrency`` requests always in flight: ``(tpot_s,
        output_tokens_per_s)`` [s, tokens/s].

        Each new prompt is prefilled in a pass of its own while the batch waits, so TPOT under
        load is the batch's decode step plus the other requests' prefills spread over a
        request's output (:func:`hwcost.perf.kernel.closed_loop_seconds`). The analytic mean
        of :func:`hwcost.serving.at_concurrency` without chunking, and how the calibration
        scores measurements taken at a concurrency.
        """
        c = np.asarray(concurrency, dtype=float)
        i = np.asarray(input_tokens, dtype=float)
        o = np.asarray(output_tokens, dtype=float)
        _check_nonneg("concurrency", c, strict=True)
        _check_nonneg("input_tokens", i, strict=True)
        _check_nonneg("output_tokens", o, strict=True)
        tpot, tput = core.closed_loop_seconds(self._f, c, i, o)
        return _scalar(tpot), _scalar(tput)

    def finite_run(self, n_requests, batch_size, input_tokens, output_tokens,
                   max_output_tokens=None):
        """An offline job of ``n_requests`` requests on ``batch_size`` slots:
        ``(seconds, output_tokens_per_s)`` [s, tokens/s].

        With every output ``output_tokens`` long (``max_output_tokens`` None): whole batches
        and the partly filled last one, no batch larger than the job
        (:func:`hwcost.perf.kernel.finite_run_seconds`). With ``max_output_tokens``, output
        lengths spread around the mean ``output_tokens`` as in chat datasets (exponential,
        truncated there; ShareGPT as vLLM's and SGLang's benchmark clients sample it:
        :data:`hwcost.perf.fit.SHAREGPT_MAX_TOTAL_TOKENS` less ``input_tokens``): the slots
        stay full while requests queue, then the run
        drains at a shrinking batch (:func:`hwcost.perf.kernel.varied_finite_run_seconds`).
        How the calibration scores offline benchmark rows that state their request count.
        ``batch_size`` is what fits, e.g. :func:`estimate`'s ``max_batch_size`` (with the
        same ``max_output_tokens``: spread lengths fit fewer).
        """
        n = np.asarray(n_requests, dtype=float)
        b = np.asarray(batch_size, dtype=float)
        i = np.asarray(input_tokens, dtype=float)
        o = np.asarray(output_tokens, dtype=float)
        for name, v in (("n_requests", n), ("batch_size", b), ("input_tokens", i),
                        ("output_tokens", o)):
            _check_nonneg(name, v, strict=True)
        if max_output_tokens is None:
            t = core.finite_run_seconds(self._f, b, n, i, o)
        else:
            cap = _output_cap(max_output_tokens, output_tokens)
            t = core.varied_finite_run_seconds(self._f, b, n, i, o, cap)
        return _scalar(t), _scalar(n * o / t)

    def comm_seconds(self, tokens):
        """Inter-GPU communication time of one forward pass over ``tokens`` tokens [s].

        Tensor-parallel engines: two ring all-reduces of ``tokens x hidden x 2 B`` per layer,
        each ``latency + 2 (n-1)/n x message / link bandwidth``. Layer-split engines: one
        activation hand-off per stage boundary. 0 for one GPU. This is the communication
        term already inside :meth:`decode_step_seconds` (``tokens`` = batch size),
        :meth:`prefill_seconds` and :meth:`iteration_seconds`; it is exposed to show the
        share of a step the link takes.
        """
        t = np.asarray(tokens, dtype=float)
        _check_nonneg("tokens", t, strict=True)
        return _scalar(core.comm_seconds(self._f, t))

    def stage_overhead_seconds(self, n_stages=1):
        """Fixed cost of one decode pass through a pipeline stage holding ``1/n_stages`` of the layers [s].

        :attr:`step_overhead_s` is ``step + layer x layers`` plus the MoE and MLA layers' own
        fixed costs
        (:func:`overhead_seconds`): each stage pays the per-pass part ``step`` in full and
        the per-layer part for its own layers only. ``n_stages=1`` gives
        :attr:`step_overhead_s`.
        """
        k = np.asarray(n_stages, dtype=float)
        _check_nonneg("n_stages", k, strict=True)
        step = self._f["ovh_step"]
        return _scalar(step + (self._f["ovh"] - step) / k)

    def iteration_seconds(self, prefill_tokens, decode_batch_size, decode_context_tokens,
                          prefill_context_tokens=0):
        """One continuous-batching iteration: a prefill chunk plus one decode token per sequence.

        Weights are read once for both; the chunk attends to itself and to
        ``prefill_context_tokens`` cached tokens of its own sequence; the decode sequences
        hold ``decode_context_tokens`` in total. [s]
        """
        if (prefill_tokens.__class__ in _PY_NUMBERS and decode_batch_size.__class__ in _PY_NUMBERS
                and decode_context_tokens.__class__ in _PY_NUMBERS
                and prefill_context_tokens.__class__ in _PY_NUMBERS):
            return self._iteration_scalar(prefill_tokens, decode_batch_size,
                                          decode_context_tokens, prefill_context_tokens)
        f = self._f
        p = np.asarray(prefill_tokens, dtype=float)
        b = np.asarray(decode_batch_size, dtype=float)
        dc = np.asarray(decode_context_tokens, dtype=float)
        pc = np.asarray(prefill_context_tokens, dtype=float)
        for name, v in (("prefill_tokens", p), ("decode_batch_size", b),
                        ("decode_context_tokens", dc), ("prefill_context_tokens", pc)):
            _check_nonneg(name, v)
        tokens = p + b
        if np.any(tokens <= 0):
            raise HwcostError("an iteration needs prefill_tokens + decode_batch_size > 0")
        ctx = np.where(b > 0, dc / np.maximum(b, 1.0), 0.0)
        m0, mf, ms, c0, cf, cs, sf, ss, _ = core.decode_coefficients(f, b)
        bw = f["bw"] * f["eta_bw"]
        cw = np.minimum(ctx, f["window"])
        dec_kv_t = mf * ctx + ms * cw  # time of the decode part's KV reads
        dec_score = (sf * ctx + ss * cw) * bw
        pkv, pscore, plin, pattn, _ = core.prefill_terms(f, np.where(p > 0, 1.0, 0.0), p, pc)
        peak_p = f["peak"] * f["eta_cp"]
        # Roofline per kernel class (kernel module): the products, then the attention.
        bw_w, peak_pw = core.weight_product_rates(f, "eta_cp")
        lin_t = core.roofline_seconds(core.weights_read_per_gpu(f, tokens) / bw_w, c0 + plin / peak_pw)
        attn_t = np.maximum(dec_kv_t + pkv / bw,
                            cf * ctx + cs * cw + pattn / (peak_p * f["attn_rate"]))
        t = lin_t + attn_t + (dec_score + pscore) / bw
        ovh = (np.where(p > 0, f["ovh_prefill"], core.decode_overhead_seconds(f, b))
               + core.sequence_host_seconds(f, b))
        return _scalar(t + ovh + core.comm_seconds(f, tokens))

    def _iteration_scalar(self, p, b, dc, pc) -> float:
        """:meth:`iteration_seconds` for one iteration given as Python numbers.

        The serving simulator asks for one mixed iteration at a time, with prompt-chunk
        shapes that rarely repeat; through numpy each call costs ~0.2 ms of array overhead.
        Here the terms that depend on the decode batch (:func:`kernel.decode_coefficients`)
        and on the tokens in the pass (weights read, communication) are computed by the
        kernel once per value and cached, and the prompt chunk's attention work
        (:func:`kernel.prefill_terms` for one sequence) is evaluated in plain floats.
        Agreement with the array path is a tested invariant (1e-12 relative).
        """
        if not (p >= 0 and b >= 0 and dc >= 0 and pc >= 0) or math.isinf(p + b + dc + pc):
            for name, v in (("prefill_tokens", p), ("decode_batch_size", b),
                            ("decode_context_tokens", dc), ("prefill_context_tokens", pc)):
                _check_nonneg(name, np.asarray(v, dtype=float))
        tokens = p + b
        if tokens <= 0:
            raise HwcostError("an iteration needs prefill_tokens + decode_batch_size > 0")
        return self._terms().iteration(float(p), float(b), float(dc), float(pc))

    def _terms(self) -> "_ScalarTerms":
        terms = self.__dict__.get("_scalar_terms")
        if terms is None:
            terms = _ScalarTerms(self._f)
            object.__setattr__(self, "_scalar_terms", terms)  # a cache, not state
        return terms


_PY_NUMBERS = frozenset((int, float, np.int64, np.float64, np.int32))
_roofline = core.roofline_seconds_scalar


class _ScalarTerms:
    """Per-replica constants and caches of :meth:`StepTimes._iteration_scalar`."""

    __slots__ = ("f", "bw", "peak_p", "peak_pa", "bw_w", "peak_pw", "tdiv", "kv_t", "window",
                 "kv_f", "kv_s", "noflash",
                 "score_f", "score_s", "p_flops2", "attn_f", "attn_s", "ovh", "ovh_prefill",
                 "dec", "tok", "pad", "a1", "p_exp2", "imb", "graph_max")

    def __init__(self, f):
        self.f = f
        self.bw = float(f["bw"] * f["eta_bw"])
        self.peak_p = float(f["peak"] * f["eta_cp"])
        # weight-only products read and multiply their weights at their own shares
        self.bw_w, self.peak_pw = (float(x) for x in core.weight_product_rates(f, "eta_cp"))
        self.peak_pa = self.peak_p * float(f["attn_rate"])  # the prompt's attention
        self.tdiv = float(core.time_divisor(f))
        # One prompt's share of the pass on the busiest GPU (kernel.attention_share for one
        # sequence) and its KV share (kernel.kv_share_of_pass).
        self.a1 = float(core.attention_share(f, 1.0))
        self.kv_t = float(core.kv_share_of_pass(f, 1.0))
        self.p_exp2 = 2.0 * float(f["p_expert"])
        self.imb = float(f["imb"])
        self.window = float(f["window"])
        self.kv_f, self.kv_s = float(f["kv_f"]), float(f["kv_s"])
        self.noflash = 1.0 - float(f["flash"])
        self.score_f, self.score_s = float(f["score_f"]), float(f["score_s"])
        self.p_flops2 = 2.0 * float(f["p_flops"])
        self.attn_f, self.attn_s = float(f["attn_f"]), float(f["attn_s"])
        self.ovh, self.ovh_prefill = float(f["ovh"]), float(f["ovh_prefill"])
        # per rank: kernel.decode_overhead_seconds
        self.graph_max = float(f.get("graph_max", math.inf)) * max(float(f["dp"]), 1.0)
        self.dec: dict = {}
        self.tok: dict = {}
        self.pad: dict = {}

    def coefficients(self, b: float) -> tuple:
        """:func:`kernel.decode_coefficients` of a batch of ``b`` sequences, kept per ``b``."""
        co = self.dec.get(b)
        if co is None:
            co = self.dec[b] = tuple(float(x) for x in core.decode_coefficients(self.f, b))
        return co

    def iteration(self, p, b, dc, pc):
        m0, mf, ms, c0, cf, cs, sf, ss, _ = self.coefficients(b)
        tokens = p + b
        tk = self.tok.get(tokens)
        if tk is None:
            tk = self.tok[tokens] = (
                float(core.weights_read_per_gpu(self.f, tokens)) / self.bw_w,
                float(core.comm_seconds(self.f, tokens)))
        w = self.window
        ctx = dc / b if b > 0 else 0.0
        cw = ctx if ctx < w else w
        bw = self.bw
        if p > 0:  # kernel.prefill_terms for one sequence of p new tokens after pc cached
            pairs_f = p * pc + p * (p + 1.0) * 0.5
            m = w - pc
            m = 0.0 if m < 0.0 else (p if m > p else m)
            pairs_s = m * pc + m * (m + 1.0) * 0.5 + (p - m) * w
            pkv = ((self.kv_f * pc + self.kv_s * (pc if pc < w else w)) * self.kv_t
                   + p * (self.kv_f + self.kv_s) * self.kv_t)
            a = self.a1
            pscore = self.noflash * (self.score_f * pairs_f + self.score_s * pairs_s) * a
            eshare = (1.0 + self.imb / math.sqrt(p if p > 1.0 else 1.0)) / self.tdiv
            pad = self.pad.get(p)
            if pad is None:
                pad = self.pad[p] = float(core.expert_tile_padding(self.f, p)) if self.p_exp2 else 1.0
            plin = ((self.p_flops2 - self.p_exp2) * a + self.p_exp2 * eshare * pad) * p
            pattn = (self.attn_f * pairs_f + self.attn_s * pairs_s) * a
            ovh = self.ovh_prefill
        else:
            pkv = pscore = plin = pattn = 0.0
            ovh = self.ovh if b <= self.graph_max else self.ovh_prefill
        lin_m = tk[0]
        lin_c = c0 + plin / self.peak_pw
        att_m = mf * ctx + ms * cw + pkv / bw
        att_c = cf * ctx + cs * cw + pattn / self.peak_pa
        t = (_roofline(lin_m, lin_c) + (att_m if att_m > att_c else att_c)
             + ((sf * ctx + ss * cw) * bw + pscore) / bw)
        return t + ovh + float(core.sequence_host_seconds(self.f, b)) + tk[1]


def _scalar(x):
    x = np.asarray(x)
    return float(x) if x.ndim == 0 else x


def _check_nonneg(name, v, strict=False):
    (checks.positive if strict else checks.non_negative)(name, v, array=True)


def _output_cap(max_output_tokens, output_tokens) -> np.ndarray:
    """``max_output_tokens`` checked as the cap of output lengths spread around the mean
    ``output_tokens`` (positive and above it) [tokens]."""
    cap = np.asarray(max_output_tokens, dtype=float)
    _check_nonneg("max_output_tokens", cap, strict=True)
    if np.any(cap <= np.asarray(output_tokens, dtype=float)):
        raise HwcostError(
            f"max_output_tokens={max_output_tokens!r} must exceed the mean "
            f"output_tokens={output_tokens!r}: it caps a spread of lengths around it")
    return cap


def step_times(model, gpu, *, n_gpus=1, precision="bf16", kv_precision=None, engine=None,
               flash_attention=True, calibration=None, layout=None) -> StepTimes:
    """Per-step timing functions of one replica (see :class:`StepTimes`).

    ``kv_capacity_tokens`` is the number of KV tokens the replica holds after weights,
    workspace, runtime and the engine's reserve, at :attr:`kv_cache_bytes_per_token` each
    (sliding-window layers counted in full: a conservative figure for long contexts).
    ``layout`` is the replica's parallel layout (:data:`hwcost.perf.features.LAYOUTS`;
    None = ``"tp"``), as for :func:`estimate`.
    """
    m, g, engine_id, spec, precision, kv_precision, n = resolve_inputs(
        model, gpu, n_gpus, precision, kv_precision, engine)
    layout = check_layout(layout, m, spec)
    cal = as_calibration(calibration)
    f = model_features(m, g, spec, engine_id, precision, kv_precision, n, flash_attention, cal,
                       layout)
    per_token = f["kv_f"] + f["kv_s"]
    # Per-GPU memory left for KV after weights, one chunk's workspace, runtime and reserve.
    fixed, _, _, _ = core.memory_terms(f, 1.0, 0.0)
    fixed = float(fixed)
    free = f["mem_frac"] * (f["mem"] - fixed) if f["free_mode"] else f["mem_frac"] * f["mem"] - fixed
    kv_per_gpu_token = per_token * float(core.kv_memory_share(f))
    capacity = max(0, int(free // kv_per_gpu_token))
    cap = batch_cap(spec, g)
    return StepTimes(
        model_id=m.id, gpu_id=g.id, engine=engine_id, precision=precision,
        kv_precision=kv_precision, n_gpus=n, flash_attention=bool(flash_attention),
        kv_cache_bytes_per_token=float(per_token), kv_capacity_tokens=capacity,
        max_batch_size=int(cap) if math.isfinite(cap) else None,
        bandwidth_efficiency=f["eta_bw"] * f["wo_bw"], compute_efficiency=f["eta_c"] * f["wo_c"],
        step_overhead_s=f["ovh"],
        _f=f, layout=layout, sync_slowdown=float(f["sync"]),
    )


def decode_step_seconds(model, gpu, batch_size=1, context_tokens=512, **kwargs) -> float:
    """One decode step of ``batch_size`` sequences of ``context_tokens`` each [s].

    Keyword arguments (``n_gpus``, ``precision``, ``kv_precision``, ``engine``,
    ``flash_attention``) as for :func:`estimate`. Accepts arrays for the two sizes.
    """
    st = step_times(model, gpu, **kwargs)
    b = np.asarray(batch_size, dtype=float)
    return st.decode_step_seconds(b, b * np.asarray(context_tokens, dtype=float))


def prefill_seconds(model, gpu, input_tokens=512, batch_size=1, **kwargs) -> float:
    """Prefill of ``batch_size`` prompts of ``input_tokens`` each, no cached context [s]."""
    st = step_times(model, gpu, **kwargs)
    b = np.asarray(batch_size, dtype=float)
    return st.prefill_seconds(b * np.asarray(input_tokens, dtype=float), 0, b)


# ----------------------------------------------------------------------------------------
# Estimate
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Estimate:
    """Performance of one configuration. Times in seconds, memory in GB (10^9 bytes).

    Timing fields are None when ``fits`` is False. ``error_band = (low, high)``: measured
    ``output_tokens_per_s`` and ``tokens_per_s_per_request`` fell between low x and high x
    the prediction for 80% of the validation rows of this regime (decode at batch 1,
    throughput otherwise); ``ttft_error_band`` likewise for ``ttft_s``. For a time, divide:
    measured time lies in [pred / high, pred / low].
    """

    fits: bool
    reason: str
    suggestion: str | None
    suggested_n_gpus: int | None
    suggested_precision: str | None
    model_id: str
    gpu_id: str
    engine: str
    n_gpus: int
    precision: str
    kv_precision: str
    batch_size: int
    input_tokens: int
    output_tokens: int
    flash_attention: bool
    weights_gb: float
    kv_cache_gb: float
    kv_cache_bytes_per_token: float
    activation_gb: float
    memory_per_gpu_gb: float
    usable_memory_per_gpu_gb: float
    max_batch_size: int
    prefill_s: float | None
    ttft_s: float | None
    tpot_s: float | None
    decode_s: float | None
    e2e_s: float | None
    output_tokens_per_s: float | None
    tokens_per_s_per_request: float | None
    bound: str | None
    bandwidth_efficiency: float
    compute_efficiency: float
    step_overhead_s: float
    error_band: tuple[float, float]
    ttft_error_band: tuple[float, float]
    layout: str = "tp"

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def evaluate(f, batch, input_tokens, output_tokens, want_max, valid=True):
    """Vectorized evaluation of configurations; returns a dict of arrays (see sweep)."""
    i = input_tokens
    o = output_tokens
    bmax_mem = core.max_batch_by_memory(f, i, o)
    bmax = np.maximum(np.minimum(bmax_mem, f["cap"]), 0.0)
    # A fixed batch keeps its own (smaller) shape: the step costs then do not repeat for
    # every prompt and output length (sweep evaluates its "max" entries apart).
    want = np.asarray(want_max)
    if not want.any():
        b = np.asarray(batch, dtype=float)
    elif want.all():
        b = bmax
    else:
        b = np.where(want, bmax, batch)
    ctx_ok = (i + o) <= f["max_ctx"]
    fits = valid & ctx_ok & (b >= 1) & (b <= bmax_mem)
    bc = np.maximum(b, 1.0)
    # The forward pass over the prompt gives each sequence's first token (time to first
    # token); the other o - 1 tokens take one decode step each, over caches of i .. i+o-2
    # tokens, which decode sums. step1 (the step over i) is the TPOT of one-token outputs.
    prefill = core.prefill_seconds(f, bc, i, 0.0)
    co = core.decode_coefficients(f, bc)  # the batch's step costs, shared by the three below
    step1 = core.decode_step_seconds(f, bc, i, co)
    decode = core.decode_total_seconds(f, bc, i, o - 1.0, co)
    tpot = np.where(o > 1, decode / np.maximum(o - 1.0, 1.0), step1)
    mem_t, comp_t, _ = core.decode_step_terms(f, bc, i + o * 0.5, co)
    fixed, per_seq, kv_seq, act_seq = core.memory_terms(f, i, o)
    return {
        "fits": fits, "ctx_ok": ctx_ok, "batch": b, "bmax": bmax, "bmax_mem": bmax_mem,
        "prefill": prefill, "step1": step1, "decode": decode, "ttft": prefill,
        # prefill + decode is kernel.batch_pass_seconds, summed here from the parts reported
        "tpot": tpot, "tput": bc * o / (prefill + decode),
        "compute_bound": comp_t > mem_t,
        "mem_needed": fixed + bc * per_seq,
        "kv_gpu": bc * kv_seq, "act": fixed - core.weights_memory_per_gpu(f) - f["runtime"] + bc * act_seq,
    }


def _precision_order(g, spec):
    return [p for p in ("fp8", "int8", "int4")
            if p in spec["weight_precisions"] and peak_flops(g, p, spec) is not None]


def min_gpus_to_fit(model, gpu, precision="bf16", *, batch_size=1, input_tokens=512,
                    output_tokens=128, kv_precision=None, engine=None, flash_attention=True,
                    max_gpus: int = MAX_GPUS, calibration=None, layout=None) -> int | None:
    """Smallest valid GPU count whose replica holds ``batch_size`` sequences, or None.

    Parameters as for :func:`estimate`; ``max_gpus`` bounds the search. Returns None when
    no count up to ``max_gpus`` fits or the lengths exceed the model's context.
    """
    m, g, engine_id, spec, precision, kv_precision, _ = resolve_inputs(
        model, gpu, 1, precision, kv_precision, engine)
    layout = check_layout(layout, m, spec)
    b = positive_int("batch_size", batch_size)
    i = positive_int("input_tokens", input_tokens)
    o = positive_int("output_tokens", output_tokens)
    if i + o > m.max_context_tokens:
        return None
    cal = as_calibration(calibration)
    for n in range(1, max_gpus + 1):
        if gpu_count_problem(m, n, spec):
            continue
        f = model_features(m, g, spec, engine_id, precision, kv_precision, n, flash_attention, cal,
                           layout)
        if float(core.max_batch_by_memory(f, float(i), float(o))) >= b:
            return n
    return None


def estimate_on_fewest_gpus(model, gpu, *, precision="bf16", batch_size=1, input_tokens=512,
                            output_tokens=128, max_gpus: int = 8, calibration=None) -> Estimate | None:
    """:func:`estimate` on the fewest GPUs of ``gpu`` that hold ``batch_size`` sequences.

    A model too large for one card runs tensor-parallel on the smallest valid count
    (:func:`min_gpus_to_fit`, at most ``max_gpus``, default one 8-GPU server); the estimate's
    ``n_gpus`` says how many. Returns None when no count up to ``max_gpus`` holds it.
    """
    n = min_gpus_to_fit(model, gpu, precision, batch_size=batch_size, input_tokens=input_tokens,
                        output_tokens=output_tokens, max_gpus=max_gpus, calibration=calibration)
    if n is None:
        return None
    return estimate(model, gpu, n_gpus=n, precision=precision, batch_size=batch_size,
                    input_tokens=input_tokens, output_tokens=output_tokens, calibration=calibration)


def output_tokens_per_s_per_gpu(model, gpu, precision="bf16", *, batch_size=1, input_tokens=512,
                                output_tokens=128, max_gpus: int = 8) -> tuple[float | None, int | None]:
    """Output tokens/s per GPU of the smallest replica of ``gpu`` that holds ``model``.

    The throughput of :func:`estimate_on_fewest_gpus` shared by its GPUs, so costs per
    GPU-hour and tokens per GPU compare cards of any size.

    Returns
    -------
    (float or None, int or None)
        Tokens/s per GPU [tokens/s] and the GPU count used; ``(None, None)`` when no count
        up to ``max_gpus`` holds the model.
    """
    e = estimate_on_fewest_gpus(model, gpu, precision=precision, batch_size=batch_size,
                                input_tokens=input_tokens, output_tokens=output_tokens, max_gpus=max_gpus)
    if e is None:
        return None, None
    return e.output_tokens_per_s / e.n_gpus, e.n_gpus


def estimate(model, gpu, *, n_gpus=1, precision="bf16", kv_precision=None, batch_size=1,
             input_tokens=512, output_tokens=128, engine=None, flash_attention=True,
             calibration=None, layout=None, max_batch=None, max_output_tokens=None) -> Estimate:
    """Memory fit, latency and throughput of serving ``model`` on ``n_gpus`` x ``gpu``.

    Parameters
    ----------
    model : str or catalog.LLM
        Catalog id (``catalog.llms()``) or object.
    gpu : str or catalog.GPU
        Catalog id (``catalog.gpus()``) or object.
    n_gpus : int
        GPUs in one replica (tensor parallel, or layer split for llama.cpp/exllamav2).
    precision : str
        Weight precision: fp16, bf16, fp8, int8 or int4 (int8/int4 weight-only).
    kv_precision : str, optional
        KV-cache storage precision; default 16-bit, except fp8 for fp4 weights and for fp8
        weights on engines that quantize the cache with them (``fp8_kv_with_fp8_weights`` in
        :data:`ENGINES`: TensorRT-LLM, NIM, the generic server; vLLM and SGLang keep the
        model's 16-bit type unless told).
    batch_size : int or "max"
        Concurrent sequences; "max" = the most that fit memory at these lengths, capped by
        the engine's default limit (:data:`ENGINES`). A sequence counts the KV cache of its
        prompt and of all its output where the engine reserves the whole length at admission,
        of half its output where it hands out blocks as tokens are generated (the mean over
        staggered sequences in steady state; ``kv_allocation`` in :data:`ENGINES`).
    input_tokens, output_tokens : int
        Prompt and generated lengths per sequence. [tokens]
    engine : str, optional
        None (generic well-tuned server), vllm, tensorrt-llm, sglang, tgi, nim, llama.cpp,
        exllamav2, lmdeploy, mlc-llm: memory defaults and calibrated efficiency factors.
    flash_attention : bool
        False materializes the attention score matrix (extra memory traffic and workspace
        that grow with the square of the prompt length).
    calibration : Calibration, optional
        Factors to use instead of the stored ``calibration.json``.
    layout : str, optional
        Parallel layout of a multi-GPU replica (:data:`hwcost.perf.features.LAYOUTS`):
        ``"tp"`` (default) tensor parallel; ``"ep"`` experts split by expert parallelism;
        ``"dp-attention+ep"`` attention data parallel plus expert parallel, where each GPU
        holds the non-expert weights and its own sequences' KV cache and each MoE layer
        costs two all-to-alls (see :mod:`hwcost.perf.kernel`). The expert layouts need a
        mixture-of-experts model.
    max_batch : int, optional
        The engine's limit on concurrent sequences as the server was started (vLLM
        ``--max-num-seqs``, SGLang ``--max-running-requests``, TensorRT-LLM
        ``max_batch_size``); ``batch_size="max"`` fills memory up to it. Default: the
        engine's own default (``max_batch_size`` in ``engines.json``; none for the generic
        engine). The ``max_batch`` column of a benchmark row means the same.
    max_output_tokens : int, optional
        Output lengths spread around the mean ``output_tokens`` up to this cap (exponential,
        as in chat datasets; ShareGPT as vLLM's and SGLang's benchmark clients sample it caps
        at :data:`hwcost.perf.fit.SHAREGPT_MAX_TOTAL_TOKENS` less ``input_tokens``). Long
        answers hold their slots longest, so a sequence holds more KV cache on average
        (:func:`hwcost.perf.kernel.spread_length_occupancy_ratio`, up to twice its output
        share) and ``batch_size="max"`` fits fewer; the timings stay those of the mean
        lengths. Default: every output ``output_tokens`` long.

    Returns
    -------
    Estimate
        ``ttft_s`` = ``prefill_s`` (the forward pass over batch x input tokens gives every
        sequence's first token); the other output_tokens - 1 tokens take one decode step
        each at contexts input .. input+output-2, which ``decode_s`` sums; ``tpot_s`` =
        their mean (the step at context input when output_tokens is 1);
        ``output_tokens_per_s`` = batch x output_tokens / (prefill_s + decode_s);
        ``tokens_per_s_per_request`` = 1 / tpot_s.

    Raises
    ------
    ValueError
        Unknown precision or engine, non-positive sizes, a GPU count the model's heads do not
        allow, or a precision the GPU has no tensor support for (fp8 before Hopper/Ada).
    """
    explicit_kv = kv_precision is not None
    m, g, engine_id, spec, precision, kv_precision, n = resolve_inputs(
        model, gpu, n_gpus, precision, kv_precision, engine)
    layout = check_layout(layout, m, spec)
    want_max = isinstance(batch_size, str) and batch_size.strip().lower() == "max"
    b_req = 1 if want_max else positive_int("batch_size", batch_size)
    if isinstance(batch_size, str) and not want_max:
        raise HwcostError(f"batch_size must be a positive integer or 'max', got {batch_size!r}")
    i = positive_int("input_tokens", input_tokens)
    o = positive_int("output_tokens", output_tokens)
    cal = as_calibration(calibration)
    f = model_features(m, g, spec, engine_id, precision, kv_precision, n, flash_attention, cal,
                       layout)
    if max_batch is not None:
        f = with_sequence_limit(f, positive_int("max_batch", max_batch))
    if max_output_tokens is not None:
        cap = _output_cap(positive_int("max_output_tokens", max_output_tokens), o)
        f = with_spread_output_lengths(f, float(o), float(cap))
    r = {k: np.asarray(v) for k, v in evaluate(f, float(b_req), float(i), float(o), want_max).items()}
    fits = bool(r["fits"])
    b = int(r["batch"]) if want_max else b_req
    bmax = int(max(0.0, float(r["bmax"])))
    share_total = float(core.kv_memory_share(f)) * n
    kv_gb = max(b, 1) * float(core.kv_sequence_bytes(f, float(i + o))) * share_total / 1e9

    reason, suggestion, s_n, s_p = "", None, None, None
    if not fits:
        if not bool(r["ctx_ok"]):
            reason = (f"input_tokens + output_tokens = {i + o} exceeds the context window of "
                      f"{m.id} ({m.max_context_tokens} tokens)")
        else:
            need = float(r["mem_needed"]) / 1e9
            usable = float(core.memory_usable(f, max(b, 1), float(i), float(o))) / 1e9
            what = f"batch {b}" if not want_max else "even one sequence"
            reason = (f"{what} of {i}+{o} tokens needs {need:.1f} GB per GPU but {engine_id} "
                      f"can use {usable:.1f} GB of each {g.memory_gb:g} GB {g.id} "
                      f"({g.memory_gb * DEVICE_MEMORY_BYTES_PER_GB / 1e9:.1f} x 10^9 bytes) "
                      f"(weights {float(core.weights_memory_per_gpu(f)) / 1e9:.1f} GB per GPU "
                      f"on {n} GPU(s))")
            s_n = min_gpus_to_fit(m, g, precision, batch_size=max(b, 1), input_tokens=i,
                                  output_tokens=o, kv_precision=kv_precision, engine=engine_id,
                                  flash_attention=flash_attention, calibration=cal, layout=layout)
            for p in _precision_order(g, spec):
                if WEIGHT_BITS[p] >= WEIGHT_BITS[precision]:
                    continue
                kvp = kv_precision if explicit_kv else default_kv_precision(p, g, spec)
                fp = model_features(m, g, spec, engine_id, p, kvp, n, flash_attention, cal, layout)
                if float(core.max_batch_by_memory(fp, float(i), float(o))) >= max(b, 1):
                    s_p = p
                    break
            parts = []
            if s_n is not None:
                parts.append(f"{s_n} x {g.id} at {precision}")
            if s_p is not None:
                parts.append(f"{n} x {g.id} at {s_p}")
            suggestion = ("fits on " + " or ".join(parts)) if parts else (
                f"no replica of up to {MAX_GPUS} {g.id} GPUs holds this; shorten the sequences "
                "or choose a GPU with more memory")
            if want_max and bmax < 1:
                reason = "no sequence fits: " + reason

    band = cal.error_band("decode" if b == 1 else "throughput")
    tband = cal.error_band("ttft")

    def t(key):
        return float(r[key]) if fits else None

    tpot = t("tpot")
    prefill = t("prefill")
    decode = t("decode")
    return Estimate(
        fits=fits, reason=reason, suggestion=suggestion, suggested_n_gpus=s_n,
        suggested_precision=s_p, model_id=m.id, gpu_id=g.id, engine=engine_id, n_gpus=n,
        precision=precision, kv_precision=kv_precision, batch_size=b, input_tokens=i,
        output_tokens=o, flash_attention=bool(flash_attention),
        weights_gb=f["w_bytes"] / 1e9, kv_cache_gb=kv_gb,
        kv_cache_bytes_per_token=f["kv_f"] + f["kv_s"],
        activation_gb=float(r["act"]) / 1e9,
        memory_per_gpu_gb=float(r["mem_needed"]) / 1e9,
        usable_memory_per_gpu_gb=float(core.memory_usable(f, max(b, 1), float(i), float(o))) / 1e9,
        max_batch_size=bmax,
        prefill_s=prefill, ttft_s=t("ttft"), tpot_s=tpot, decode_s=decode,
        e2e_s=(prefill + decode) if fits else None,
        output_tokens_per_s=t("tput"),
        tokens_per_s_per_request=(1.0 / tpot) if fits else None,
        bound=("compute" if bool(r["compute_bound"]) else "memory") if fits else None,
        bandwidth_efficiency=f["eta_bw"] * f["wo_bw"], compute_efficiency=f["eta_c"] * f["wo_c"],
        step_overhead_s=f["ovh"],
        error_band=band, ttft_error_band=tband, layout=layout,
    )




# ----------------------------------------------------------------------------------------
# Roofline
# ----------------------------------------------------------------------------------------
def arithmetic_intensity(model, precision="bf16", batch_size=1, context_tokens=0,
                         kv_precision=None) -> float:
    """FLOPs per byte moved in one decode step of ``batch_size`` sequences [FLOP/B].

    Weights (MoE: the experts a batch touches) and KV of ``context_tokens`` per sequence.
    Compare with :func:`ridge_point`: below it the step is memory-bound.
    """
    m = catalog.llm(model)
    precision = check_precision(precision)
    kvp = check_precision(kv_precision, "kv_precision") if kv_precision else (
        "fp8" if precision == "fp8" else ("bf16" if precision in WEIGHT_ONLY else precision))
    f = model_numbers(m, precision, kvp, engine_specs()["generic"])
    b = float(positive_int("batch_size", batch_size))
    c = float(context_tokens)
    if not math.isfinite(c) or c < 0:
        raise HwcostError(f"context_tokens must be >= 0, got {context_tokens!r}")
    cw = min(c, f["window"])
    flops = 2 * f["p_flops"] * b + b * (f["attn_dec_f"] * c + f["attn_dec_s"] * cw)
    mem = float(core.weights_read_bytes(f, b)) + b * (f["kv_f"] * c + f["kv_s"] * cw)
    return flops / mem


def ridge_point(gpu, precision="bf16", engine=None) -> float:
    """Peak FLOPs per byte of memory bandwidth of ``gpu`` at ``precision`` [FLOP/B]."""
    g = catalog.gpu(gpu)
    spec = engine_specs()[resolve_engine_id(engine)]
    precision = check_precision(precision)
    peak = peak_flops(g, precision, spec)
    if peak is None:
        raise HwcostError(f"GPU {g.id!r} has no {precision} tensor support")
    return peak / (g.mem_bw_gbps * 1e9)


def ridge_batch_size(model, gpu, precision="bf16", context_tokens=0, *, n_gpus=1,
                     kv_precision=None, engine=None, max_batch=65536, calibration=None) -> int | None:
    """Smallest batch at which a decode step becomes compute-bound (calibrated rates), or None.

    Memory fit is not checked. With long contexts the KV traffic grows with the batch as fast
    as the FLOPs, and the step may never become compute-bound: None.
    """
    st = step_times(model, gpu, n_gpus=n_gpus, precision=precision, kv_precision=kv_precision,
                    engine=engine, calibration=calibration)
    b = np.arange(1, int(max_batch) + 1, dtype=float)
    mem, comp, _ = core.decode_step_terms(st._f, b, float(context_tokens))
    hit = np.nonzero(comp >= mem)[0]
    return int(b[hit[0]]) if hit.size else None


# ----------------------------------------------------------------------------------------
# Sweep
# ----------------------------------------------------------------------------------------
_REASONS = ("", "precision not supported on this GPU/engine",
            "n_gpus not allowed by the model's heads", "exceeds the model's context window",
            "does not fit in memory", "expert-parallel layout needs a mixture-of-experts model")


def _as_list(x) -> list:
    if isinstance(x, (str, catalog.GPU, catalog.LLM)) or not isinstance(x, Iterable):
        return [x]
    return list(x)


def _evaluate_fixed_and_max(f, batches, i_arr, o_arr, valid, shape):
    """:func:`evaluate` of a sweep's grid, the fixed batch sizes and the "max" entries (-1 in
    ``batches``) apart: a fixed batch's step costs vary along the batch axis only, a
    "max" batch's along the lengths too, so evaluating them together would repeat every step
    cost for every length. Each result is given the grid's full ``shape``."""
    groups = [(np.flatnonzero(batches > 0), False), (np.flatnonzero(batches < 0), True)]
    parts = []
    for idx, want_max in groups:
        if idx.size == 0:
            continue
        b = batches[idx].reshape(1, 1, 1, 1, -1, 1, 1)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            part = evaluate(f, b, i_arr, o_arr, want_max, valid)
        sub = shape[:4] + (idx.size,) + shape[5:]
        parts.append((idx, {k: np.broadcast_to(v, sub) for k, v in part.items()}))
    if len(parts) == 1:
        return parts[0][1]
    order = np.argsort(np.concatenate([idx for idx, _ in parts]), kind="stable")
    return {k: np.take(np.concatenate([p[k] for _, p in parts], axis=4), order, axis=4)
            for k in parts[0][1]}


def sweep(models, gpus, *, precisions=("bf16",), n_gpus=(1,), batch_sizes=(1,),
          input_tokens=(512,), output_tokens=(128,), engine=None, kv_precision=None,
          flash_attention=True, calibration=None, layout=None) -> pd.DataFrame:
    """:func:`estimate` over the Cartesian grid of all arguments, vectorized.

    Parameters
    ----------
    models, gpus : id/object or sequence of them
    precisions : str or sequence of str
    n_gpus, batch_sizes, input_tokens, output_tokens : int or sequence
        ``batch_sizes`` may contain "max".
    engine, kv_precision, flash_attention, calibration, layout
        One value each, as for :func:`estimate` (kv_precision None = each precision's default).
        An expert-parallel ``layout`` leaves dense models with ``fits`` False.

    Returns
    -------
    pandas.DataFrame
        One row per configuration: model_id, gpu_id, precision, n_gpus, batch_size (resolved),
        input_tokens, output_tokens, fits, reason, weights_gb, kv_cache_gb,
        memory_per_gpu_gb, max_batch_size, prefill_s, ttft_s, tpot_s, decode_s,
        output_tokens_per_s, tokens_per_s_per_request, bound. Combinations the model or GPU
        does not allow (fp8 on A100, a GPU count the heads do not divide) are kept with
        ``fits`` False and a reason instead of raising; timing columns are NaN (pandas'
        missing value) where ``fits`` is False.
    """
    ms = [catalog.llm(x) for x in _as_list(models)]
    gs = [catalog.gpu(x) for x in _as_list(gpus)]
    ps = [check_precision(p) for p in _as_list(precisions)]
    ns = [positive_int("n_gpus", x) for x in _as_list(n_gpus)]
    bs_raw = _as_list(batch_sizes)
    bs = []
    for x in bs_raw:
        if isinstance(x, str):
            if x.strip().lower() != "max":
                raise HwcostError(f"batch_sizes entries must be positive integers or 'max', got {x!r}")
            bs.append(-1.0)
        else:
            bs.append(float(positive_int("batch_size", x)))
    ins = [float(positive_int("input_tokens", x)) for x in _as_list(input_tokens)]
    outs = [float(positive_int("output_tokens", x)) for x in _as_list(output_tokens)]
    engine_id = resolve_engine_id(engine)
    spec = engine_specs()[engine_id]
    layout = check_layout(layout, None, spec)
    kvp = check_precision(kv_precision, "kv_precision") if kv_precision is not None else None
    cal = as_calibration(calibration)
    M, G, P, N, B, I, O = len(ms), len(gs), len(ps), len(ns), len(bs), len(ins), len(outs)

    # Model x precision features, shape (M, 1, P, 1, 1, 1, 1).
    mp = [[model_numbers(m, p, kvp or default_kv_precision(p, gs[0], spec), spec) for p in ps] for m in ms]
    mkeys = mp[0][0].keys()
    f = {}
    for k in mkeys:
        f[k] = np.array([[float(mp[a][c][k]) for c in range(P)] for a in range(M)]).reshape(M, 1, P, 1, 1, 1, 1)
    # GPU x precision features, shape (1, G, P, 1, 1, 1, 1); GPU x n for links.
    peak = np.full((G, P), np.nan)
    attn_rate = np.ones((G, P))
    names = ("eta_bw", "eta_c", "eta_cp", "wo_bw", "wo_c", "step", "layer")
    fac = {k: np.ones((G, P)) for k in names}
    kv_of = [[kvp or default_kv_precision(p, g, spec) for p in ps] for g in gs]
    for gi, g in enumerate(gs):
        for pi, p in enumerate(ps):
            one = product_numbers(g, p, kv_of[gi][pi], spec, cal, engine_id)
            if p in spec["weight_precisions"] and not (g.vendor == "amd" and not spec["amd_support"]):
                peak[gi, pi] = one["peak"] if one["peak"] is not None else np.nan
                attn_rate[gi, pi] = one["attn_rate"]
            for k in names:
                fac[k][gi, pi] = one[k]
    shape_gp = (1, G, P, 1, 1, 1, 1)
    valid_prec = np.isfinite(peak).reshape(shape_gp)
    f["peak"] = np.where(np.isfinite(peak), peak, 1.0).reshape(shape_gp)
    f["attn_rate"] = attn_rate.reshape(shape_gp)
    for k in ("eta_bw", "eta_c", "eta_cp", "wo_bw", "wo_c"):
        f[k] = fac[k].reshape(shape_gp)
    # Models whose products run at another precision than their weights' on some GPU
    # (math_precision: MXFP4 experts with MXFP8 activations) take that one's rate and factors.
    swaps = [(a, gi, pi, mp) for a, m in enumerate(ms) for gi, g in enumerate(gs)
             for pi, p in enumerate(ps)
             if np.isfinite(peak[gi, pi]) and (mp := math_precision(m, g, p, spec)) != p]
    if swaps:
        keys = ("peak", "attn_rate", "eta_bw", "eta_c", "eta_cp", "wo_bw", "wo_c")
        for k in keys:
            f[k] = np.broadcast_to(f[k], (M, G, P, 1, 1, 1, 1)).copy()
        for a, gi, pi, mp in swaps:
            one = product_numbers(gs[gi], mp, kv_of[gi][pi], spec, cal, engine_id)
            for k in keys:
                f[k][a, gi, pi] = one[k]
    f["ovh"] = overhead_seconds(fac["step"].reshape(shape_gp), fac["layer"].reshape(shape_gp),
                                 f["n_layers"], f["moe_layers"], cal.moe_layer_overhead_s,
                                 f["mla_layers"], np.array([
                                     cal.mla_layer_overhead_on(gpu_class(g)) for g in gs]
                                 ).reshape(1, G, 1, 1, 1, 1, 1))
    f["ovh_prefill"] = f["ovh"] * prefill_overhead_ratio(spec, cal)
    f["ovh_seq"] = cal.sequence_step_overhead_s
    f["mem"] = np.array([float(g.memory_gb) * DEVICE_MEMORY_BYTES_PER_GB for g in gs]).reshape(
        1, G, 1, 1, 1, 1, 1)
    f["bw"] = np.array([float(g.mem_bw_gbps) * 1e9 for g in gs]).reshape(1, G, 1, 1, 1, 1, 1)
    links = np.array([[link_bandwidth_latency(g, n, cal) for n in ns] for g in gs])  # (G, N, 2)
    f["link_bw"] = links[:, :, 0].reshape(1, G, 1, N, 1, 1, 1)
    f["link_lat"] = links[:, :, 1].reshape(1, G, 1, N, 1, 1, 1)
    f["link_bw_mid"] = np.array([[midsize_link_bandwidth(g, n, cal) for n in ns] for g in gs]
                                ).reshape(1, G, 1, N, 1, 1, 1)
    f["n"] = np.array(ns, dtype=float).reshape(1, 1, 1, N, 1, 1, 1)
    f["sync"] = sync = synchronization_slowdown(f["n"], cal.sync_jitter,
                                                spec["multi_gpu_mode"] == "tensor")
    f = wait_for_latest_gpu(f, sync)  # efficiencies now (1, G, P, N, 1, 1, 1)
    lay = [[layout_numbers(m, n, layout) for n in ns] for m in ms]
    for k in ("dp", "imb", "a2a"):
        f[k] = np.array([[d[k] for d in row] for row in lay]).reshape(M, 1, 1, N, 1, 1, 1)
    valid_layout = np.array([layout == "tp" or routed_expert_params(m) > 0 for m in ms]).reshape(
        M, 1, 1, 1, 1, 1, 1)
    f["mla"] = f["mla"].astype(bool)
    f.update(engine_numbers(spec, flash_attention))
    f["cap"] = np.array([batch_cap(spec, g) for g in gs]).reshape(1, G, 1, 1, 1, 1, 1)
    f["graph_max"] = np.array([[decode_graph_max_batch(spec, g, n) for n in ns] for g in gs]
                              ).reshape(1, G, 1, N, 1, 1, 1)
    valid_n = np.array([[gpu_count_problem(m, n, spec) is None for n in ns] for m in ms]).reshape(M, 1, 1, N, 1, 1, 1)
    i_arr = np.array(ins).reshape(1, 1, 1, 1, 1, I, 1)
    o_arr = np.array(outs).reshape(1, 1, 1, 1, 1, 1, O)
    valid = valid_prec & valid_n & valid_layout
    shape = (M, G, P, N, B, I, O)
    total = int(np.prod(shape))
    r = _evaluate_fixed_and_max(f, np.array(bs), i_arr, o_arr, valid, shape)

    def full(x):
        return np.broadcast_to(x, shape).reshape(total)

    fits = full(r["fits"])
    reason = np.where(~full(valid_prec), 1, np.where(~full(valid_n), 2, np.where(
        ~full(valid_layout), 5, np.where(~full(r["ctx_ok"]), 3, np.where(~fits, 4, 0))))).astype(np.int8)

    def timing(x):
        return np.where(fits, full(x), np.nan)

    def codes(labels, axis):
        uniq = list(dict.fromkeys(labels))
        idx = np.array([uniq.index(x) for x in labels]).reshape([-1 if k == axis else 1 for k in range(7)])
        return pd.Categorical.from_codes(full(idx), categories=uniq)

    prefill = timing(r["prefill"])
    decode = timing(r["decode"])
    tpot = timing(r["tpot"])
    n_full = full(f["n"])
    share = core.kv_memory_share(f)
    kv_gb = full(np.maximum(r["batch"], 1.0) * core.kv_sequence_bytes(f, i_arr + o_arr) * share * f["n"]) / 1e9
    data = {
        "model_id": codes([m.id for m in ms], 0),
        "gpu_id": codes([g.id for g in gs], 1),
        "precision": codes(ps, 2),
        "n_gpus": n_full.astype(np.int64),
        "batch_size": full(r["batch"]).astype(np.int64),
        "input_tokens": full(i_arr).astype(np.int64),
        "output_tokens": full(o_arr).astype(np.int64),
        "fits": fits,
        "reason": pd.Categorical.from_codes(reason, categories=list(_REASONS)),
        "weights_gb": full(f["w_bytes"]) / 1e9,
        "kv_cache_gb": kv_gb,
        "memory_per_gpu_gb": full(r["mem_needed"]) / 1e9,
        "max_batch_size": np.maximum(full(r["bmax"]), 0).astype(np.int64),
        "prefill_s": prefill,
        "ttft_s": timing(r["ttft"]),
        "tpot_s": tpot,
        "decode_s": decode,
        "output_tokens_per_s": timing(r["tput"]),
        "tokens_per_s_per_request": 1.0 / tpot,
        "bound": pd.Categorical.from_codes(
            np.where(fits, full(r["compute_bound"]).astype(np.int8), -1), categories=["memory", "compute"]),
    }
    return pd.DataFrame(data, copy=False)


# ----------------------------------------------------------------------------------------
# Engines table
# ----------------------------------------------------------------------------------------
def engines(calibration=None) -> pd.DataFrame:
    """Engine capabilities, memory defaults, docs URL and the efficiency factors in use.

    Factor columns: ``bandwidth_efficiency``, ``compute_efficiency`` (for NVIDIA HBM GPUs;
    GDDR and AMD GPUs shift them, see calibration.json), ``step_overhead_s`` (fixed cost of a
    forward pass [s]), ``layer_overhead_s`` (fixed cost per layer [s]; a routed-MoE layer
    adds the calibration's ``moe_layer_overhead_s``, a latent-attention layer its
    ``mla_layer_overhead_s``), ``overhead_log_change_per_year`` (change of those two fixed
    costs' logarithm per year of measurement date [1/yr]; 0 where the fit has no trend),
    ``overhead_date`` (the date they apply at, that of the calibration table's newest
    measurement; None without one; :func:`hwcost.perf.calibration_as_of` moves them) and ``calibration_rows``
    (benchmark rows the fit used; 0 = generic factors).
    """
    cal = as_calibration(calibration)
    rows = []
    for key, spec in engine_specs().items():
        ef = cal.engine_factors(key)
        row = {"engine": key}
        row.update({k: v for k, v in spec.items() if k not in ("prior", "weight_bits")})
        row["weight_bits"] = json.dumps(spec.get("weight_bits", {}))
        row["quantization_formats"] = "; ".join(spec["quantization_formats"])
        row["weight_precisions"] = "; ".join(spec["weight_precisions"])
        row["bandwidth_efficiency"] = float(ef["bandwidth_efficiency"])
        row["compute_efficiency"] = float(ef["compute_efficiency"])
        row["step_overhead_s"] = float(ef["step_overhead_s"])
        row["layer_overhead_s"] = float(ef.get("layer_overhead_s", 0.0))
        row["overhead_log_change_per_year"] = float(ef.get("overhead_log_change_per_year", 0.0))
        row["overhead_date"] = ef.get("overhead_date")
        row["calibration_rows"] = int(cal.data.get("engines", {}).get(key, {}).get("n_rows", 0))
        rows.append(row)
    return pd.DataFrame(rows).set_index("engine")


def engines_dict() -> dict:
    cal = default_calibration()
    out = {}
    for key, spec in engine_specs().items():
        d = {k: v for k, v in spec.items() if k != "prior"}
        d["factors"] = dict(cal.engine_factors(key))
        out[key] = d
    return out
