"""The serving simulator: one replica's requests through static, dynamic or continuous
batching, with KV-cache admission, preemption and chunked prefill. See :mod:`hwcost.serving`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from .. import validate
from ..errors import HwcostError
from ..workload import SLO, Workload
from .arrivals import Arrivals
from .engine import CostModel, decode_total, run_continuous, run_request_batched
from .speculative import speculative_step_times

__all__ = ["SimResult", "simulate", "unloaded_latency", "SCHEDULERS", "METRICS", "PERCENTILES"]

SCHEDULERS = ("continuous", "static", "dynamic")
METRICS = ("ttft_s", "tpot_s", "e2e_s")
PERCENTILES = (50, 90, 95, 99)
DEFAULT_N_GPUS = (1, 2, 4, 8)
_STEP_METHODS = ("prefill_seconds", "decode_step_seconds", "iteration_seconds")


# ----------------------------------------------------------------------------------------
# Inputs
# ----------------------------------------------------------------------------------------

# Highest share of a replica's saturation throughput that capacity planning counts on: the
# package's one capacity rule (hwcost.requirements.MAX_UTILIZATION, with latency targets).
from ..requirements import MAX_UTILIZATION  # noqa: E402,F401


def is_step_times(obj) -> bool:
    return all(callable(getattr(obj, m, None)) for m in _STEP_METHODS) and hasattr(
        obj, "kv_capacity_tokens")


def as_step_times(system, gpu=None, *, n_gpus=1, precision="bf16", kv_precision=None,
                engine=None, layout=None):
    """A StepTimes object: ``system`` itself, or ``perf.step_times(system, gpu, ...)``
    (``layout``: the replica's parallel layout, see :data:`hwcost.perf.LAYOUTS`)."""
    if is_step_times(system):
        if gpu is not None:
            raise HwcostError("pass either step times or a model with a gpu, not both "
                             f"(got step times and gpu={gpu!r})")
        return system
    if gpu is None:
        raise HwcostError(
            f"simulate needs step times or a (model, gpu) pair; got model={system!r} and no gpu"
        )
    from .. import perf  # imported here: perf is the layer above; keep import cheap

    return perf.step_times(system, gpu, n_gpus=n_gpus, precision=precision,
                           kv_precision=kv_precision, engine=engine, layout=layout)


def positive_int(name: str, value, *, allow_none: bool = False) -> int | None:
    if value is None and allow_none:
        return None
    return validate.positive_int(name, value)


def non_negative(name: str, value, *, allow_none: bool = False) -> float | None:
    if value is None and allow_none:
        return None
    return validate.non_negative(name, value)


@dataclass(frozen=True)
class SimConfig:
    scheduler: str
    max_batch: int
    kv_capacity: int
    chunk: int | None
    static_timeout_s: float
    max_queue_delay_s: float
    tpot_target_s: float | None
    max_queue: int | None
    max_request_tokens: int | None = None  # the model's context window: longer is rejected


def sim_config(st, scheduler, max_batch_size, chunked_prefill_tokens, static_timeout_s,
            max_queue_delay_s, tpot_target_s, max_queue) -> SimConfig:
    if scheduler not in SCHEDULERS:
        raise HwcostError(f"scheduler must be one of {SCHEDULERS}, got {scheduler!r}")
    cap_raw = getattr(st, "kv_capacity_tokens", None)
    try:
        cap = float(cap_raw)
    except (TypeError, ValueError):
        cap = float("nan")
    if not (cap >= 1):
        raise HwcostError(
            f"the replica has no room for a KV cache (kv_capacity_tokens = {cap_raw!r}): the "
            "model does not fit; use more GPUs per replica, a smaller precision or a larger GPU"
        )
    engine_cap = getattr(st, "max_batch_size", None)
    if max_batch_size is None:
        # no engine cap: memory alone limits continuous batching; request-level batching
        # needs a batch size to wait for
        max_batch_size = engine_cap or (int(min(cap, 2**31)) if scheduler == "continuous" else 256)
    mb = positive_int("max_batch_size", max_batch_size)
    chunk = positive_int("chunked_prefill_tokens", chunked_prefill_tokens, allow_none=True)
    if chunk is not None and scheduler != "continuous":
        raise HwcostError(f"chunked_prefill_tokens applies to the continuous scheduler only, "
                         f"got scheduler={scheduler!r}")
    tt = non_negative("tpot_target_s", tpot_target_s, allow_none=True)
    if tt is not None and tt == 0:
        raise HwcostError(f"tpot_target_s must be > 0, got {tpot_target_s!r}")
    if tt is not None and scheduler != "dynamic":
        raise HwcostError(f"tpot_target_s applies to the dynamic scheduler only, "
                         f"got scheduler={scheduler!r}")
    return SimConfig(
        scheduler=scheduler, max_batch=mb, kv_capacity=int(min(cap, 2**62)), chunk=chunk,
        static_timeout_s=non_negative("static_timeout_s", static_timeout_s),
        max_queue_delay_s=non_negative("max_queue_delay_s", max_queue_delay_s),
        tpot_target_s=tt,
        max_queue=positive_int("max_queue", max_queue, allow_none=True),
        max_request_tokens=_context_window(st),
    )


def _run_replica(cost: CostModel, cfg: SimConfig, t, L, N) -> dict:
    if cfg.scheduler == "continuous":
        return run_continuous(cost, t, L, N, max_batch=cfg.max_batch, cap=cfg.kv_capacity,
                              chunk=cfg.chunk, max_queue=cfg.max_queue,
                              max_request_tokens=cfg.max_request_tokens)
    if cfg.scheduler == "static":
        return run_request_batched(cost, t, L, N, max_batch=cfg.max_batch, cap=cfg.kv_capacity,
                                   wait_s=cfg.static_timeout_s, tpot_target=None,
                                   max_queue=cfg.max_queue,
                                   max_request_tokens=cfg.max_request_tokens)
    return run_request_batched(cost, t, L, N, max_batch=cfg.max_batch, cap=cfg.kv_capacity,
                               wait_s=cfg.max_queue_delay_s, tpot_target=cfg.tpot_target_s,
                               max_queue=cfg.max_queue,
                               max_request_tokens=cfg.max_request_tokens)


# ----------------------------------------------------------------------------------------
# Results
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class SimResult:
    """What one simulation run measured.

    Attributes
    ----------
    scheduler : str
        ``"continuous"``, ``"static"`` or ``"dynamic"``.
    replicas : int
        Replicas the arrivals were dealt to (round-robin).
    n_requests, n_completed, n_rejected : int
        Requests offered, served to the end, and turned away (a request whose prompt plus
        output exceeds the KV cache, or one arriving at a full queue when ``max_queue``).
    n_preempted : int
        Preemptions (a request can be preempted more than once).
    duration_s : float
        From the first arrival to the last completion. [s]
    output_tokens_per_s : float
        Output tokens of completed requests per second of ``duration_s``, all replicas. [1/s]
    requests_per_s : float
        Completed requests per second of ``duration_s``. [1/s]
    busy_fraction : float
        Share of ``duration_s`` the replicas spent running iterations (mean over replicas).
    percentiles : DataFrame
        Index ``p50, p90, p95, p99``, columns ``ttft_s, tpot_s, e2e_s`` [s], over completed
        requests after the warm-up; NaN only when no request completed.
    requests : DataFrame
        One row per request: ``replica, arrival_s, input_tokens, output_tokens,
        admitted_s, first_token_s, finish_s, queue_s, ttft_s, tpot_s, e2e_s, preemptions,
        rejected`` (times NaN for rejected requests).
    queue : DataFrame
        ``time_s, waiting, running``: requests queued (not yet admitted) and admitted but not
        finished, after each change, all replicas together.
    warmup_requests : int
        Leading requests left out of ``percentiles`` (start-up transient).
    """

    scheduler: str
    replicas: int
    n_requests: int
    n_completed: int
    n_rejected: int
    n_preempted: int
    duration_s: float
    output_tokens_per_s: float
    requests_per_s: float
    busy_fraction: float
    percentiles: pd.DataFrame
    requests: pd.DataFrame
    queue: pd.DataFrame
    warmup_requests: int = 0
    rejection_reason: str = ""

    @property
    def throughput(self) -> float:
        """Alias of ``output_tokens_per_s``. [1/s]"""
        return self.output_tokens_per_s

    def _measured(self) -> pd.DataFrame:
        r = self.requests.iloc[self.warmup_requests:]
        return r[~r["rejected"]]

    def percentile(self, metric: str, q: float) -> float:
        """The ``q``-th percentile (0-100) of ``metric`` over measured requests. [s]"""
        if metric not in METRICS:
            raise HwcostError(f"metric must be one of {METRICS}, got {metric!r}")
        q = non_negative("q", q)
        if q > 100:
            raise HwcostError(f"q must be in [0, 100], got {q!r}")
        values = self._measured()[metric].to_numpy()
        values = values[~np.isnan(values)]
        return float(np.percentile(values, q)) if values.size else float("nan")

    def meets(self, slo: SLO) -> tuple[bool, str]:
        """Whether the run meets ``slo`` (every target at its percentile, nothing rejected),
        and a sentence saying why not."""
        if not isinstance(slo, SLO):
            raise HwcostError(f"slo must be a hwcost.workload.SLO, got {slo!r}")
        if self.n_rejected:
            why = f" ({self.rejection_reason})" if self.rejection_reason else ""
            return False, f"{self.n_rejected} of {self.n_requests} requests were rejected{why}"
        if self.n_completed == 0:
            return False, "no request completed"
        misses = []
        for metric, target in slo.targets().items():
            value = self.percentile(metric, slo.percentile)
            if math.isnan(value):  # only one-token requests: no time per output token
                continue
            if value > target:
                misses.append(f"p{slo.percentile:g} {metric} {value:.3g} s > target {target:g} s")
        return (not misses), ("; ".join(misses) if misses else "meets the SLO")

    def summary(self) -> dict[str, Any]:
        """Headline numbers as a flat dict (for tables and recorded notebook results)."""
        out = {
            "scheduler": self.scheduler, "replicas": self.replicas,
            "n_requests": self.n_requests, "n_completed": self.n_completed,
            "n_rejected": self.n_rejected, "n_preempted": self.n_preempted,
            "output_tokens_per_s": self.output_tokens_per_s,
            "requests_per_s": self.requests_per_s, "busy_fraction": self.busy_fraction,
        }
        for p in self.percentiles.index:
            for m in METRICS:
                out[f"{m}_{p}"] = float(self.percentiles.loc[p, m])
        return out


def _percentile_table(req: pd.DataFrame, warmup: int) -> pd.DataFrame:
    r = req.iloc[warmup:]
    r = r[~r["rejected"]]
    data = {}
    for m in METRICS:
        v = r[m].to_numpy()
        v = v[~np.isnan(v)]
        data[m] = np.percentile(v, PERCENTILES) if v.size else np.full(len(PERCENTILES), np.nan)
    return pd.DataFrame(data, index=[f"p{p}" for p in PERCENTILES])


def _queue_table(arrival, admitted, finish, rejected) -> pd.DataFrame:
    ok = ~rejected
    t = np.concatenate((arrival[ok], admitted[ok], finish[ok]))
    k = int(ok.sum())
    dw = np.concatenate((np.ones(k), -np.ones(k), np.zeros(k)))
    dr = np.concatenate((np.zeros(k), np.ones(k), -np.ones(k)))
    order = np.argsort(t, kind="stable")
    t, w, r = t[order], np.cumsum(dw[order]), np.cumsum(dr[order])
    last = np.r_[t[1:] != t[:-1], True] if t.size else np.zeros(0, bool)
    return pd.DataFrame({"time_s": t[last], "waiting": w[last].astype(np.int64),
                         "running": r[last].astype(np.int64)})


def _assemble(cfg: SimConfig, arrivals: Arrivals, replica: np.ndarray, raw: dict, busy: float,
              replicas: int, warmup: int) -> SimResult:
    arr = arrivals.arrival_s
    n = arr.size
    admitted = np.asarray(raw["admit"], dtype=float)
    first = np.asarray(raw["first"], dtype=float)
    finish = np.asarray(raw["finish"], dtype=float)
    rejected = np.asarray(raw["rejected"], dtype=bool)
    step0 = np.asarray(raw["step0"], dtype=float)
    N = arrivals.output_tokens
    # as perf.estimate: mean time between later tokens; a one-token request's only step
    tpot = np.where(N > 1, (finish - first) / np.maximum(N - 1, 1), step0)
    req = pd.DataFrame({
        "replica": replica.astype(np.int64),
        "arrival_s": arr,
        "input_tokens": arrivals.input_tokens,
        "output_tokens": N,
        "admitted_s": admitted,
        "first_token_s": first,
        "finish_s": finish,
        "queue_s": admitted - arr,
        "ttft_s": first - arr,
        "tpot_s": tpot,
        "e2e_s": finish - arr,
        "preemptions": np.asarray(raw["preemptions"], dtype=np.int64),
        "rejected": rejected,
    })
    done = ~rejected
    n_done = int(done.sum())
    if n_done:
        duration = float(finish[done].max() - arr.min())
    else:
        duration = 0.0
    rate = (lambda x: x / duration) if duration > 0 else (lambda x: 0.0)
    return SimResult(
        scheduler=cfg.scheduler, replicas=replicas, n_requests=n, n_completed=n_done,
        n_rejected=int(rejected.sum()), n_preempted=int(req["preemptions"].sum()),
        duration_s=duration,
        output_tokens_per_s=float(rate(float(N[done].sum()))),
        requests_per_s=float(rate(float(n_done))),
        busy_fraction=float(min(1.0, busy / (replicas * duration))) if duration > 0 else 0.0,
        percentiles=_percentile_table(req, warmup), requests=req,
        queue=_queue_table(arr, admitted, finish, rejected), warmup_requests=warmup,
    )


def simulate_config(st, cfg: SimConfig, arrivals: Arrivals, replicas: int, warmup_fraction: float,
              cost: CostModel | None = None) -> SimResult:
    cost = cost or CostModel(st, cfg.max_batch, cfg.kv_capacity)
    n = len(arrivals)
    t_all = arrivals.arrival_s.tolist()
    L_all = arrivals.input_tokens.tolist()
    N_all = arrivals.output_tokens.tolist()
    keys = ("admit", "first", "finish", "step0", "preemptions", "rejected")
    raw = {k: [None] * n for k in keys}
    replica = np.arange(n) % replicas
    busy = 0.0
    for k in range(min(replicas, n)):
        idx = range(k, n, replicas)
        out = _run_replica(cost, cfg, t_all[k::replicas], L_all[k::replicas],
                           N_all[k::replicas])
        for key in keys:
            col = raw[key]
            for pos, v in zip(idx, out[key]):
                col[pos] = v
        busy += out["busy_s"]
    warmup = int(math.floor(warmup_fraction * n))
    return _assemble(cfg, arrivals, replica, raw, busy, min(replicas, n), warmup)


def simulate(system, arrivals, *, gpu=None, n_gpus: int = 1, precision: str = "bf16",
             kv_precision: str | None = None, engine: str | None = None,
             scheduler: str = "continuous", max_batch_size: int | None = None,
             chunked_prefill_tokens: int | None = None, static_timeout_s: float = 1.0,
             max_queue_delay_s: float = 0.0, tpot_target_s: float | None = None,
             max_queue: int | None = None, replicas: int = 1, warmup_fraction: float = 0.0,
             n_requests: int = 2000, seed: int = 0, speculative=None,
             layout: str | None = None) -> SimResult:
    """Simulate serving a request stream on one or more identical replicas.

    Parameters
    ----------
    system : StepTimes, or model id / ``catalog.LLM``
        Step times (``perf.step_times(...)`` or any object with ``prefill_seconds``,
        ``decode_step_seconds``, ``iteration_seconds``, ``kv_capacity_tokens`` and
        ``max_batch_size``), or a model to pass to ``perf.step_times`` with ``gpu``.
    arrivals : Arrivals or Workload
        The requests. A ``Workload`` means ``n_requests`` Poisson arrivals at its peak-hour
        rate with its token lengths (``Arrivals.from_workload``).
    gpu, n_gpus, precision, kv_precision, engine
        Passed to ``perf.step_times`` when ``system`` is a model. [-]
    scheduler : {"continuous", "static", "dynamic"}
        Batching policy (see the module docstring).
    max_batch_size : int, optional
        Concurrent sequences per replica (static: the batch it waits for). Default: the
        step times' engine cap; without one, memory alone limits continuous batching and
        request-level batching uses 256.
    chunked_prefill_tokens : int, optional
        Continuous only: prompt tokens processed per iteration (None = whole prompts).
        [tokens]
    static_timeout_s : float
        Static only: longest wait of the oldest queued request before a partial batch
        starts. [s]
    max_queue_delay_s : float
        Dynamic only: how long the oldest request may wait for the batch to fill. [s]
    tpot_target_s : float, optional
        Dynamic only: cap the batch so its slowest decode step stays within this. [s]
    max_queue : int, optional
        Requests per replica allowed to wait beyond the free batch slots; later arrivals
        are rejected (None = unbounded).
    replicas : int
        Identical replicas; arrivals are dealt round-robin.
    warmup_fraction : float
        Share of the leading requests left out of the percentiles, in [0, 1).
    n_requests, seed : int
        Used only when ``arrivals`` is a ``Workload``.
    speculative : SpeculativeDecoding, optional
        Decode speculatively (draft model or multi-token prediction, with an acceptance
        rate); see :mod:`hwcost.serving.speculative`. Continuous batching only.
    layout : str, optional
        Parallel layout of a multi-GPU replica of a model id (``tp``, ``ep``,
        ``dp-attention+ep``; see :data:`hwcost.perf.LAYOUTS`): its step times, expert
        all-to-alls and per-GPU KV cache.

    Returns
    -------
    SimResult
    """
    st = as_step_times(system, gpu, n_gpus=n_gpus, precision=precision,
                       kv_precision=kv_precision, engine=engine, layout=layout)
    if speculative is not None:
        if scheduler != "continuous":
            raise HwcostError("speculative decoding is simulated with continuous batching only; "
                             f"got scheduler={scheduler!r}")
        st = speculative_step_times(st, speculative)
    if isinstance(arrivals, Workload):
        arrivals = Arrivals.from_workload(arrivals, positive_int("n_requests", n_requests),
                                          seed=seed)
    if not isinstance(arrivals, Arrivals):
        raise HwcostError(f"arrivals must be a serving.Arrivals or a Workload, got {arrivals!r}")
    cfg = sim_config(st, scheduler, max_batch_size, chunked_prefill_tokens, static_timeout_s,
                  max_queue_delay_s, tpot_target_s, max_queue)
    replicas = positive_int("replicas", replicas)
    wf = non_negative("warmup_fraction", warmup_fraction)
    if wf >= 1:
        raise HwcostError(f"warmup_fraction must be in [0, 1), got {warmup_fraction!r}")
    tokens = np.asarray(arrivals.input_tokens) + np.asarray(arrivals.output_tokens)
    window = _context_window(st)
    if window and tokens.size and tokens.min() > window:
        raise HwcostError(
            f"every request is longer than the context window of {st.model_id} ({window:,} "
            f"tokens): input + output tokens are {int(tokens.min()):,} or more; shorten the "
            "prompts or choose a model with a longer context")
    result = simulate_config(st, cfg, arrivals, replicas, wf)
    if result.n_rejected:
        result = replace(result, rejection_reason=_rejection_reason(st, tokens, window))
    return result


def _context_window(st) -> int | None:
    """The context window of the model behind ``st``, when it is a catalog model."""
    from .. import catalog

    model_id = getattr(st, "model_id", None)
    try:
        return catalog.llm(model_id).max_context_tokens if isinstance(model_id, str) else None
    except catalog.CatalogError:
        return None


def _rejection_reason(st, tokens: np.ndarray, window: int | None) -> str:
    """Why requests were turned away: context window, KV cache, or the queue limit."""
    parts = []
    if window:
        n = int((tokens > window).sum())
        if n:
            parts.append(f"{n} longer than the context window of {st.model_id} ({window:,} tokens)")
    cap = getattr(st, "kv_capacity_tokens", None)
    if cap:
        n = int((tokens > cap).sum())
        if n:
            parts.append(f"{n} needing more KV cache than one replica holds ({int(cap):,} tokens)")
    return "; ".join(parts) or "the queue was full"


# ----------------------------------------------------------------------------------------
# Unloaded latency (no queueing, batch 1)
# ----------------------------------------------------------------------------------------
def unloaded_arrays(cost: CostModel, L: np.ndarray, N: np.ndarray) -> dict[str, np.ndarray]:
    """Batch-1 latencies of each (prompt, output) pair: the prefill pass gives the first
    token (TTFT), then one decode step per further token at context prompt + j
    (j = 0 .. output - 2); TPOT of a one-token request is the step it would take next."""
    ttft = np.empty(L.size)
    e2e = np.empty(L.size)
    tpot = np.empty(L.size)
    cache: dict = {}
    for j, (l, m) in enumerate(zip(L.tolist(), N.tolist())):
        key = (l, m)
        if key not in cache:
            pre = cost.prefill(l, 0)
            dec = decode_total(cost, 1, l, m - 1) if m > 1 else 0.0
            per_token = dec / (m - 1) if m > 1 else cost.first(1, l)
            cache[key] = (pre, per_token, pre + dec)
        ttft[j], tpot[j], e2e[j] = cache[key]
    return {"ttft_s": ttft, "tpot_s": tpot, "e2e_s": e2e}


def unloaded_latency(system, input_tokens: int, output_tokens: int, *, gpu=None,
                     n_gpus: int = 1, precision: str = "bf16", kv_precision: str | None = None,
                     engine: str | None = None, layout: str | None = None) -> dict[str, float]:
    """Latency of one request alone on the replica (batch 1, no queue).

    Returns ``{"ttft_s", "tpot_s", "e2e_s"}`` [s], the floor no replica count can beat
    and what the simulator approaches at low load (equal to ``perf.estimate`` at batch 1).
    """
    st = as_step_times(system, gpu, n_gpus=n_gpus, precision=precision,
                       kv_precision=kv_precision, engine=engine, layout=layout)
    L = positive_int("input_tokens", input_tokens)
    N = positive_int("output_tokens", output_tokens)
    cost = CostModel(st, 1, max(int(getattr(st, "kv_capacity_tokens", 0) or 0), L + N))
    out = unloaded_arrays(cost, np.array([L]), np.array([N]))
    return {k: float(v[0]) for k, v in out.items()}


# ----------------------------------------------------------------------------------------
# Capacity planning
# ----------------------------------------------------------------------------------------
