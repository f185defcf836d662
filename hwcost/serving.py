"""Latency under load and capacity planning: a discrete-event simulator of LLM serving.

One replica (one model instance on ``n_gpus`` GPUs) serves a stream of requests. Its step
times come from :mod:`hwcost.perf` (``perf.step_times``): a prefill pass costs
``prefill_seconds(prompt tokens)``, a decode iteration ``decode_step_seconds(batch,
total context)``, a mixed iteration ``iteration_seconds(prompt tokens, batch, context)``.
Three schedulers:

- ``"static"``: wait until ``max_batch_size`` requests queue or the oldest has waited
  ``static_timeout_s``; pad prompts to the longest, decode until the longest output is done;
- ``"dynamic"``: start as soon as the server is free with what is queued (after at most
  ``max_queue_delay_s``), batch size capped so the slowest step meets ``tpot_target_s``:
  the batch adapts to queue depth and a latency target; still runs to completion;
- ``"continuous"``: iteration-level scheduling (Orca, vLLM): finished sequences leave and
  queued ones join at every iteration, admission limited by the KV cache
  (``kv_capacity_tokens``) and ``max_batch_size``, preemption (recompute) of the newest
  request when the cache fills. Without chunked prefill the prompts of newly admitted
  requests get a prefill-only pass while the running batch waits (vLLM's original
  scheduler); with ``chunked_prefill_tokens`` every iteration carries the running batch's
  decode step plus up to that many prompt tokens (stall-free batching, Sarathi-Serve).

Timing conventions follow ``perf.estimate``: a request's first token comes out of its
first decode step after its prefill (``ttft_s`` = queueing + prefill + one decode step);
``tpot_s`` is the mean time between its later tokens (the first step's duration when it
generates a single token); ``e2e_s`` runs from arrival to its last token. With one request
at a time the simulator reproduces ``perf.estimate(batch_size=1)`` exactly.

Speed: the loop advances by scheduler events (arrivals that can be admitted,
completions, a full KV cache), not by token: a stretch of decode-only iterations is summed
in closed form from a piecewise-affine fit of ``decode_step_seconds`` in the context,
verified exact to 1e-9 at start-up. 100,000 requests take about a second on one core
(``tests/benchmarks/bench_serving.py``). Mixed iterations (chunked prefill) are fitted the
same way once a (prompt tokens, batch) shape recurs; with varied prompt lengths most are
new shapes that call ``iteration_seconds`` directly, about ten times slower.

Several replicas: arrivals are dealt round-robin (a stateless load balancer), so the
replicas are independent. Join-shortest-queue balancing does somewhat better at high load,
so replica counts from round-robin are on the safe side.

References
----------
G.-I. Yu et al., "Orca: A Distributed Serving System for Transformer-Based Generative
Models", OSDI 2022 (iteration-level scheduling).
W. Kwon et al., "Efficient Memory Management for Large Language Model Serving with
PagedAttention", SOSP 2023 (KV-cache admission, preemption by recomputation).
A. Agrawal et al., "Taming Throughput-Latency Tradeoff in LLM Inference with
Sarathi-Serve", OSDI 2024 (chunked prefill).
L. Kleinrock, "Queueing Systems, Volume 1: Theory", Wiley 1975 (M/G/1, Pollaczek-Khinchine).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import gammaincinv

from ._serving_arrivals import Arrivals, Lengths
from ._serving_engine import CostModel, decode_total, run_continuous, run_request_batched
from .workload import SLO, Workload

__all__ = [
    "Arrivals", "Lengths", "SimResult", "simulate", "unloaded_latency", "CapacityPlan",
    "replicas_needed", "RateLimit", "max_rate", "SCHEDULERS", "METRICS", "PERCENTILES",
]

SCHEDULERS = ("continuous", "static", "dynamic")
METRICS = ("ttft_s", "tpot_s", "e2e_s")
PERCENTILES = (50, 90, 95, 99)
DEFAULT_N_GPUS = (1, 2, 4, 8)
_STEP_METHODS = ("prefill_seconds", "decode_step_seconds", "iteration_seconds")


# ----------------------------------------------------------------------------------------
# Inputs
# ----------------------------------------------------------------------------------------

# Highest share of a replica's saturation throughput that capacity planning counts on: a
# queue that nearly never drains is not capacity (a simulation of a few thousand requests
# cannot show a queue that builds slowly at 99%).
MAX_UTILIZATION = 0.9

def _is_step_times(obj) -> bool:
    return all(callable(getattr(obj, m, None)) for m in _STEP_METHODS) and hasattr(
        obj, "kv_capacity_tokens")


def _step_times(system, gpu=None, *, n_gpus=1, precision="bf16", kv_precision=None,
                engine=None):
    """A StepTimes object: ``system`` itself, or ``perf.step_times(system, gpu, ...)``."""
    if _is_step_times(system):
        if gpu is not None:
            raise ValueError("pass either step times or a model with a gpu, not both "
                             f"(got step times and gpu={gpu!r})")
        return system
    if gpu is None:
        raise ValueError(
            f"simulate needs step times or a (model, gpu) pair; got model={system!r} and no gpu"
        )
    from . import perf  # imported here: perf is the layer above; keep import cheap

    return perf.step_times(system, gpu, n_gpus=n_gpus, precision=precision,
                           kv_precision=kv_precision, engine=engine)


def _positive_int(name: str, value, *, allow_none: bool = False) -> int | None:
    if value is None and allow_none:
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a whole number >= 1, got {value!r}") from None
    if not math.isfinite(x) or x < 1 or x != int(x):
        raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")
    return int(x)


def _non_negative(name: str, value, *, allow_none: bool = False) -> float | None:
    if value is None and allow_none:
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number >= 0, got {value!r}") from None
    if not math.isfinite(x) or x < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return x


@dataclass(frozen=True)
class _Config:
    scheduler: str
    max_batch: int
    kv_capacity: int
    chunk: int | None
    static_timeout_s: float
    max_queue_delay_s: float
    tpot_target_s: float | None
    max_queue: int | None


def _config(st, scheduler, max_batch_size, chunked_prefill_tokens, static_timeout_s,
            max_queue_delay_s, tpot_target_s, max_queue) -> _Config:
    if scheduler not in SCHEDULERS:
        raise ValueError(f"scheduler must be one of {SCHEDULERS}, got {scheduler!r}")
    cap_raw = getattr(st, "kv_capacity_tokens", None)
    try:
        cap = float(cap_raw)
    except (TypeError, ValueError):
        cap = float("nan")
    if not (cap >= 1):
        raise ValueError(
            f"the replica has no room for a KV cache (kv_capacity_tokens = {cap_raw!r}): the "
            "model does not fit; use more GPUs per replica, a smaller precision or a larger GPU"
        )
    engine_cap = getattr(st, "max_batch_size", None)
    if max_batch_size is None:
        # no engine cap: memory alone limits continuous batching; request-level batching
        # needs a batch size to wait for
        max_batch_size = engine_cap or (int(min(cap, 2**31)) if scheduler == "continuous" else 256)
    mb = _positive_int("max_batch_size", max_batch_size)
    chunk = _positive_int("chunked_prefill_tokens", chunked_prefill_tokens, allow_none=True)
    if chunk is not None and scheduler != "continuous":
        raise ValueError(f"chunked_prefill_tokens applies to the continuous scheduler only, "
                         f"got scheduler={scheduler!r}")
    tt = _non_negative("tpot_target_s", tpot_target_s, allow_none=True)
    if tt is not None and tt == 0:
        raise ValueError(f"tpot_target_s must be > 0, got {tpot_target_s!r}")
    if tt is not None and scheduler != "dynamic":
        raise ValueError(f"tpot_target_s applies to the dynamic scheduler only, "
                         f"got scheduler={scheduler!r}")
    return _Config(
        scheduler=scheduler, max_batch=mb, kv_capacity=int(min(cap, 2**62)), chunk=chunk,
        static_timeout_s=_non_negative("static_timeout_s", static_timeout_s),
        max_queue_delay_s=_non_negative("max_queue_delay_s", max_queue_delay_s),
        tpot_target_s=tt,
        max_queue=_positive_int("max_queue", max_queue, allow_none=True),
    )


def _run_replica(cost: CostModel, cfg: _Config, t, L, N) -> dict:
    if cfg.scheduler == "continuous":
        return run_continuous(cost, t, L, N, max_batch=cfg.max_batch, cap=cfg.kv_capacity,
                              chunk=cfg.chunk, max_queue=cfg.max_queue)
    if cfg.scheduler == "static":
        return run_request_batched(cost, t, L, N, max_batch=cfg.max_batch, cap=cfg.kv_capacity,
                                   wait_s=cfg.static_timeout_s, tpot_target=None,
                                   max_queue=cfg.max_queue)
    return run_request_batched(cost, t, L, N, max_batch=cfg.max_batch, cap=cfg.kv_capacity,
                               wait_s=cfg.max_queue_delay_s, tpot_target=cfg.tpot_target_s,
                               max_queue=cfg.max_queue)


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
            raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
        q = _non_negative("q", q)
        if q > 100:
            raise ValueError(f"q must be in [0, 100], got {q!r}")
        values = self._measured()[metric].to_numpy()
        values = values[~np.isnan(values)]
        return float(np.percentile(values, q)) if values.size else float("nan")

    def meets(self, slo: SLO) -> tuple[bool, str]:
        """Whether the run meets ``slo`` (every target at its percentile, nothing rejected),
        and a sentence saying why not."""
        if not isinstance(slo, SLO):
            raise ValueError(f"slo must be a hwcost.workload.SLO, got {slo!r}")
        if self.n_rejected:
            return False, f"{self.n_rejected} of {self.n_requests} requests were rejected"
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


def _assemble(cfg: _Config, arrivals: Arrivals, replica: np.ndarray, raw: dict, busy: float,
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


def _simulate(st, cfg: _Config, arrivals: Arrivals, replicas: int, warmup_fraction: float,
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
             n_requests: int = 2000, seed: int = 0) -> SimResult:
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

    Returns
    -------
    SimResult
    """
    st = _step_times(system, gpu, n_gpus=n_gpus, precision=precision,
                     kv_precision=kv_precision, engine=engine)
    if isinstance(arrivals, Workload):
        arrivals = Arrivals.from_workload(arrivals, _positive_int("n_requests", n_requests),
                                          seed=seed)
    if not isinstance(arrivals, Arrivals):
        raise ValueError(f"arrivals must be a serving.Arrivals or a Workload, got {arrivals!r}")
    cfg = _config(st, scheduler, max_batch_size, chunked_prefill_tokens, static_timeout_s,
                  max_queue_delay_s, tpot_target_s, max_queue)
    replicas = _positive_int("replicas", replicas)
    wf = _non_negative("warmup_fraction", warmup_fraction)
    if wf >= 1:
        raise ValueError(f"warmup_fraction must be in [0, 1), got {warmup_fraction!r}")
    return _simulate(st, cfg, arrivals, replicas, wf)


# ----------------------------------------------------------------------------------------
# Unloaded latency (no queueing, batch 1)
# ----------------------------------------------------------------------------------------
def _unloaded_arrays(cost: CostModel, L: np.ndarray, N: np.ndarray) -> dict[str, np.ndarray]:
    """Batch-1 latencies of each (prompt, output) pair: prefill, then one decode step per
    output token at context prompt + j (j = 0 .. output - 1), the first inside the TTFT."""
    ttft = np.empty(L.size)
    e2e = np.empty(L.size)
    tpot = np.empty(L.size)
    cache: dict = {}
    for j, (l, m) in enumerate(zip(L.tolist(), N.tolist())):
        key = (l, m)
        if key not in cache:
            pre = cost.prefill(l, 0)
            s0 = cost.first(1, l)
            dec = decode_total(cost, 1, l, m)
            cache[key] = (pre + s0, (dec - s0) / (m - 1) if m > 1 else s0, pre + dec)
        ttft[j], tpot[j], e2e[j] = cache[key]
    return {"ttft_s": ttft, "tpot_s": tpot, "e2e_s": e2e}


def unloaded_latency(system, input_tokens: int, output_tokens: int, *, gpu=None,
                     n_gpus: int = 1, precision: str = "bf16", kv_precision: str | None = None,
                     engine: str | None = None) -> dict[str, float]:
    """Latency of one request alone on the replica (batch 1, no queue).

    Returns ``{"ttft_s", "tpot_s", "e2e_s"}`` [s], the floor no replica count can beat
    and what the simulator approaches at low load (equal to ``perf.estimate`` at batch 1).
    """
    st = _step_times(system, gpu, n_gpus=n_gpus, precision=precision,
                     kv_precision=kv_precision, engine=engine)
    L = _positive_int("input_tokens", input_tokens)
    N = _positive_int("output_tokens", output_tokens)
    cost = CostModel(st, 1, max(int(getattr(st, "kv_capacity_tokens", 0) or 0), L + N))
    out = _unloaded_arrays(cost, np.array([L]), np.array([N]))
    return {k: float(v[0]) for k, v in out.items()}


# ----------------------------------------------------------------------------------------
# Capacity planning
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Probe:
    """Everything the capacity search needs for one replica configuration."""

    st: Any
    cfg: _Config
    cost: CostModel
    L: np.ndarray
    N: np.ndarray
    u: np.ndarray  # uniforms for common-random-number arrivals
    saturation_rps: float
    max_utilization: float
    warmup: float
    slo: SLO

    @property
    def rate_limit(self) -> float:
        """Highest per-replica rate the search accepts. [1/s]"""
        return self.max_utilization * self.saturation_rps

    def arrivals(self, rate: float, replicas: int = 1) -> Arrivals:
        """What one of ``replicas`` round-robin replicas sees of Poisson traffic at
        ``rate``: gaps are Gamma(replicas, 1/rate), drawn by inversion from fixed uniforms,
        so more replicas or a lower rate stretch every gap (common random numbers)."""
        gaps = gammaincinv(float(replicas), self.u) / rate
        return Arrivals(np.cumsum(gaps), self.L, self.N, "capacity probe")

    def check(self, rate: float, replicas: int = 1) -> tuple[bool, str, SimResult | None]:
        per_replica = rate / replicas
        if per_replica > self.rate_limit * (1 + 1e-12):
            return False, (
                f"{per_replica:.4g} requests/s per replica is above max_utilization "
                f"{self.max_utilization:g} x its saturation throughput "
                f"{self.saturation_rps:.4g}/s"), None
        res = _simulate(self.st, self.cfg, self.arrivals(rate, replicas), 1, self.warmup,
                        self.cost)
        ok, why = res.meets(self.slo)
        return ok, why, res


def _probe(st, workload: Workload, slo: SLO, opts: dict) -> tuple[_Probe | None, str]:
    """Build a probe, or return the reason no load level can meet the SLO."""
    cfg = _config(st, **opts["cfg"])
    cost = CostModel(st, cfg.max_batch, cfg.kv_capacity)
    n = opts["n_requests"]
    rng = np.random.default_rng(opts["seed"])
    u = rng.random(n)
    L = Lengths.from_cv(workload.input_tokens, workload.input_tokens_cv).sample(n, rng)
    N = Lengths.from_cv(workload.output_tokens, workload.output_tokens_cv).sample(n, rng)
    too_long = (L + N) > cfg.kv_capacity
    if too_long.any():
        return None, (
            f"{int(too_long.sum())} of {n} sampled requests need more KV cache "
            f"(prompt + output up to {int((L + N).max())} tokens) than the replica holds "
            f"({cfg.kv_capacity} tokens)"
        )
    floor = _unloaded_arrays(cost, L, N)
    for metric, target in slo.targets().items():
        values = floor[metric][~np.isnan(floor[metric])]
        if not values.size:
            continue
        value = float(np.percentile(values, slo.percentile))
        if value > target:
            what = {"ttft_s": "the prefill alone, plus one decode step",
                    "tpot_s": "decode steps at batch 1",
                    "e2e_s": "prefill and decode at batch 1"}[metric]
            return None, (
                f"infeasible: even unloaded, p{slo.percentile:g} {metric} is {value:.3g} s "
                f"({what}) > target {target:g} s; more replicas cannot help"
            )
    # Saturation throughput: every request queued at time 0.
    sat = _simulate(st, cfg, Arrivals(np.zeros(n), L, N, "saturation"), 1, 0.0, cost)
    return _Probe(st, cfg, cost, L, N, u, sat.requests_per_s, opts["max_utilization"],
                  opts["warmup"], slo), ""


def _slo_values(res: SimResult | None, slo: SLO) -> dict[str, float | None]:
    if res is None or res.n_completed == 0:
        return {m: None for m in METRICS}
    out = {}
    for m in METRICS:
        v = res.percentile(m, slo.percentile)
        out[m] = None if math.isnan(v) else v
    return out


def _capacity_options(workload, slo, *, scheduler, max_batch_size, chunked_prefill_tokens,
                      static_timeout_s, max_queue_delay_s, tpot_target_s, n_requests, seed,
                      warmup_fraction, max_utilization) -> dict:
    if not isinstance(workload, Workload):
        raise ValueError(f"workload must be a hwcost.workload.Workload, got {workload!r}")
    if not isinstance(slo, SLO):
        raise ValueError(f"slo must be a hwcost.workload.SLO, got {slo!r}")
    if not slo.targets():
        raise ValueError("slo sets no target; give at least one of ttft_s, tpot_s, e2e_s")
    warmup = _non_negative("warmup_fraction", warmup_fraction)
    if warmup >= 1:
        raise ValueError(f"warmup_fraction must be in [0, 1), got {warmup_fraction!r}")
    util = _non_negative("max_utilization", max_utilization)
    if not 0 < util <= 1:
        raise ValueError(f"max_utilization must be in (0, 1], got {max_utilization!r}")
    if scheduler not in SCHEDULERS:
        raise ValueError(f"scheduler must be one of {SCHEDULERS}, got {scheduler!r}")
    return {
        "cfg": dict(scheduler=scheduler, max_batch_size=max_batch_size,
                    chunked_prefill_tokens=chunked_prefill_tokens,
                    static_timeout_s=static_timeout_s, max_queue_delay_s=max_queue_delay_s,
                    tpot_target_s=tpot_target_s, max_queue=None),
        "n_requests": _positive_int("n_requests", n_requests),
        "seed": seed, "warmup": warmup, "max_utilization": util,
    }


@dataclass(frozen=True)
class CapacityPlan:
    """The smallest deployment meeting an SLO at the workload's peak rate.

    Attributes
    ----------
    feasible : bool
        Whether some replica count meets the SLO.
    reason : str
        Why not, or what decided the chosen option.
    replicas, n_gpus_per_replica, total_gpus : int or None
        The chosen deployment (None when infeasible).
    peak_requests_per_s : float
        Arrival rate planned for (the workload's busiest hour). [1/s]
    percentile : float
        Percentile the SLO applies to.
    ttft_s, tpot_s, e2e_s : float or None
        Latencies at that percentile in the simulation of the chosen deployment. [s]
    saturation_requests_per_s : float or None
        Throughput of one replica fully loaded (its capacity). [1/s]
    utilization : float or None
        Peak rate per replica over saturation throughput.
    options : DataFrame
        One row per GPUs-per-replica option tried: ``n_gpus, feasible, replicas,
        total_gpus, ttft_s, tpot_s, e2e_s, saturation_requests_per_s, reason`` (``<NA>``
        where an option cannot work; ``reason`` says why).
    """

    feasible: bool
    reason: str
    replicas: int | None
    n_gpus_per_replica: int | None
    total_gpus: int | None
    peak_requests_per_s: float
    percentile: float
    ttft_s: float | None
    tpot_s: float | None
    e2e_s: float | None
    saturation_requests_per_s: float | None
    utilization: float | None
    options: pd.DataFrame


def _search_replicas(probe: _Probe, rate: float, max_replicas: int):
    """Smallest R meeting the SLO (growing search, then bisection): (R, result, reason)."""
    r_lo = max(1, math.ceil(rate / probe.rate_limit * (1 - 1e-12)))  # utilization bound
    if r_lo > max_replicas:
        return None, None, (f"needs more than max_replicas={max_replicas} replicas "
                            f"(the utilization bound alone needs {r_lo})")
    results: dict[int, tuple[bool, str, SimResult | None]] = {}

    def ok(r):
        if r not in results:
            results[r] = probe.check(rate, r)
        return results[r][0]

    bad, good = r_lo - 1, r_lo
    while not ok(good):
        bad = good
        if good >= max_replicas:
            return None, results[good][2], (
                f"fails the SLO even with max_replicas={max_replicas}: {results[good][1]}")
        good = min(max_replicas, max(good + 1, math.ceil(good * 1.5)))
    while good - bad > 1:
        mid = (good + bad) // 2
        if ok(mid):
            good = mid
        else:
            bad = mid
    why = results[good][1]
    if good - 1 in results:
        why += f"; {good - 1} replica(s) fail: {results[good - 1][1]}"
    elif good > 1:
        why += (f"; {good - 1} replica(s) would run above max_utilization "
                f"{probe.max_utilization:g} x saturation")
    return good, results[good][2], why


def replicas_needed(model, gpu, workload: Workload, slo: SLO, *, n_gpus=None,
                    precision: str = "bf16", kv_precision: str | None = None,
                    engine: str | None = None, scheduler: str = "continuous",
                    max_batch_size: int | None = None,
                    chunked_prefill_tokens: int | None = None, static_timeout_s: float = 1.0,
                    max_queue_delay_s: float = 0.0, tpot_target_s: float | None = None,
                    n_requests: int = 2000, seed: int = 0, warmup_fraction: float = 0.1,
                    max_utilization: float = MAX_UTILIZATION, max_replicas: int = 10_000) -> CapacityPlan:
    """Fewest GPUs (replicas x GPUs per replica) meeting ``slo`` at the peak-hour rate.

    For each GPUs-per-replica option: the replica's saturation throughput is measured by
    simulating all requests queued at once; the search starts from the utilization bound
    (peak rate over ``max_utilization`` x saturation), grows the replica count until the
    SLO holds and bisects back to the smallest count that meets it. Each count is judged
    on ``n_requests`` simulated requests of one replica which, under round-robin routing,
    sees every ``replicas``-th arrival of the Poisson peak-hour stream (Gamma-distributed
    gaps); the replicas are statistically alike.

    Parameters
    ----------
    model : model id, ``catalog.LLM`` or StepTimes
        The model (with ``gpu``), or ready step times (then ``gpu`` must be None and the
        replica size is the step times' ``n_gpus``).
    gpu : GPU id or ``catalog.GPU``
    workload : Workload
        Traffic: ``peak_requests_per_s`` and token lengths (log-normal by its CVs).
    slo : SLO
        Targets at a percentile.
    n_gpus : int or sequence of int, optional
        GPUs per replica to consider; default 1, 2, 4 and 8.
    precision, kv_precision, engine
        Passed to ``perf.step_times``.
    scheduler, max_batch_size, chunked_prefill_tokens, static_timeout_s,
    max_queue_delay_s, tpot_target_s
        As in :func:`simulate`.
    n_requests, seed : int
        Simulated requests per evaluation and their seed.
    warmup_fraction : float
        Leading share of requests left out of the percentiles.
    max_utilization : float
        Highest accepted ratio of a replica's rate to its saturation throughput, in
        (0, 1]. A finite run cannot show queues that take longer than the run to build
        up, and near saturation they always do; this keeps the plan off that edge.
    max_replicas : int
        Give up (infeasible) beyond this many replicas.

    Returns
    -------
    CapacityPlan
        ``feasible=False`` with a ``reason`` when no option meets the SLO (for example the
        prefill alone exceeds the TTFT target, or the model does not fit).
    """
    opts = _capacity_options(
        workload, slo, scheduler=scheduler, max_batch_size=max_batch_size,
        chunked_prefill_tokens=chunked_prefill_tokens, static_timeout_s=static_timeout_s,
        max_queue_delay_s=max_queue_delay_s, tpot_target_s=tpot_target_s,
        n_requests=n_requests, seed=seed, warmup_fraction=warmup_fraction,
        max_utilization=max_utilization)
    max_replicas = _positive_int("max_replicas", max_replicas)
    rate = workload.peak_requests_per_s
    if _is_step_times(model):
        if gpu is not None:
            raise ValueError("pass either step times as model (gpu=None) or a model and a gpu")
        options = [(int(getattr(model, "n_gpus", 1) or 1), model)]
    else:
        if gpu is None:
            raise ValueError(f"replicas_needed needs a gpu for model {model!r}")
        if n_gpus is None:
            counts = DEFAULT_N_GPUS
        elif np.ndim(n_gpus) == 0:
            counts = (n_gpus,)
        else:
            counts = tuple(n_gpus)
        if not counts:
            raise ValueError("n_gpus must name at least one GPU count")
        counts = tuple(_positive_int("n_gpus", c) for c in counts)
        options = []
        errors = []
        for c in counts:
            try:
                options.append((c, _step_times(model, gpu, n_gpus=c, precision=precision,
                                               kv_precision=kv_precision, engine=engine)))
            except ValueError as exc:  # e.g. a GPU count the model's heads do not divide
                errors.append((c, str(exc)))
        if not options:  # nothing valid at all: an input error, say it
            raise ValueError("; ".join(f"n_gpus={c}: {e}" for c, e in errors))
    rows = [{"n_gpus": c, "feasible": False, "replicas": None, "total_gpus": None,
             "ttft_s": None, "tpot_s": None, "e2e_s": None,
             "saturation_requests_per_s": None, "reason": e}
            for c, e in ([] if _is_step_times(model) else errors)]
    best = None
    for count, st in options:
        row = {"n_gpus": count, "feasible": False, "replicas": None, "total_gpus": None,
               "ttft_s": None, "tpot_s": None, "e2e_s": None,
               "saturation_requests_per_s": None, "reason": ""}
        rows.append(row)
        try:
            probe, why = _probe(st, workload, slo, opts)
        except ValueError as exc:
            if "kv_capacity_tokens" not in str(exc):
                raise
            probe, why = None, str(exc)  # the model does not fit this replica
        if probe is None:
            row["reason"] = why
            continue
        row["saturation_requests_per_s"] = probe.saturation_rps
        r, res, why = _search_replicas(probe, rate, max_replicas)
        row["reason"] = why
        if r is not None:
            row.update(feasible=True, replicas=r, total_gpus=r * count, **_slo_values(res, slo))
            key = (r * count, count)
            if best is None or key < best[0]:
                best = (key, row, probe)
    table = pd.DataFrame(rows, columns=list(rows[0].keys())).sort_values(
        "n_gpus", kind="stable").reset_index(drop=True)
    # missing values (options that cannot work) as <NA>, not NaN
    table = table.astype({"replicas": "Int64", "total_gpus": "Int64", "ttft_s": "Float64",
                          "tpot_s": "Float64", "e2e_s": "Float64",
                          "saturation_requests_per_s": "Float64"})
    if best is None:
        reasons = "; ".join(f"{r['n_gpus']} GPU(s)/replica: {r['reason']}" for r in rows)
        return CapacityPlan(False, f"no option meets the SLO: {reasons}", None, None, None,
                            rate, slo.percentile, None, None, None, None, None, table)
    _, row, probe = best
    return CapacityPlan(
        True, f"fewest GPUs of {len(rows)} option(s); {row['reason']}",
        row["replicas"], row["n_gpus"], row["total_gpus"], rate, slo.percentile,
        row["ttft_s"], row["tpot_s"], row["e2e_s"], probe.saturation_rps,
        rate / row["replicas"] / probe.saturation_rps, table,
    )


@dataclass(frozen=True)
class RateLimit:
    """The highest request rate one replica sustains within an SLO.

    Attributes
    ----------
    feasible : bool
        False when no positive rate meets the SLO.
    reason : str
    requests_per_s : float
        Highest Poisson arrival rate found meeting the SLO (0 when infeasible). [1/s]
    requests_per_day : float
        The same per day. [1/day]
    output_tokens_per_s : float
        Output tokens per second at that rate. [1/s]
    saturation_requests_per_s : float or None
        Throughput when fully loaded. [1/s]
    utilization : float
        ``requests_per_s`` over the saturation throughput.
    percentile : float
    ttft_s, tpot_s, e2e_s : float or None
        Latencies at that rate and percentile. [s]
    n_gpus : int
        GPUs in the replica.
    """

    feasible: bool
    reason: str
    requests_per_s: float
    requests_per_day: float
    output_tokens_per_s: float
    saturation_requests_per_s: float | None
    utilization: float
    percentile: float
    ttft_s: float | None
    tpot_s: float | None
    e2e_s: float | None
    n_gpus: int


def max_rate(model, gpu, workload: Workload, slo: SLO, *, n_gpus: int = 1,
             precision: str = "bf16", kv_precision: str | None = None,
             engine: str | None = None, scheduler: str = "continuous",
             max_batch_size: int | None = None, chunked_prefill_tokens: int | None = None,
             static_timeout_s: float = 1.0, max_queue_delay_s: float = 0.0,
             tpot_target_s: float | None = None, n_requests: int = 2000, seed: int = 0,
             warmup_fraction: float = 0.1, max_utilization: float = MAX_UTILIZATION,
             rel_tol: float = 0.01) -> RateLimit:
    """Highest Poisson arrival rate one replica serves within ``slo``.

    Bisection on the rate up to ``max_utilization`` x the replica's saturation
    throughput; every evaluation runs the same requests with arrival times scaled by the
    rate (common random numbers, so latency moves monotonically with the rate along the
    search). The workload's ``requests_per_day`` is ignored; its token lengths are used.

    Parameters
    ----------
    model, gpu, n_gpus, precision, kv_precision, engine
        As in :func:`replicas_needed` (``model`` may be step times, then ``gpu=None``).
    workload : Workload
        Token lengths.
    slo : SLO
    scheduler, max_batch_size, chunked_prefill_tokens, static_timeout_s,
    max_queue_delay_s, tpot_target_s, n_requests, seed, warmup_fraction, max_utilization
        As in :func:`replicas_needed`.
    rel_tol : float
        Stop when the bracket is narrower than this share of the rate.

    Returns
    -------
    RateLimit
    """
    opts = _capacity_options(
        workload, slo, scheduler=scheduler, max_batch_size=max_batch_size,
        chunked_prefill_tokens=chunked_prefill_tokens, static_timeout_s=static_timeout_s,
        max_queue_delay_s=max_queue_delay_s, tpot_target_s=tpot_target_s,
        n_requests=n_requests, seed=seed, warmup_fraction=warmup_fraction,
        max_utilization=max_utilization)
    rel_tol = _non_negative("rel_tol", rel_tol)
    if not 0 < rel_tol < 1:
        raise ValueError(f"rel_tol must be in (0, 1), got {rel_tol!r}")
    st = _step_times(model, gpu, n_gpus=n_gpus, precision=precision,
                     kv_precision=kv_precision, engine=engine)
    count = int(getattr(st, "n_gpus", None) or n_gpus)
    none = dict(ttft_s=None, tpot_s=None, e2e_s=None)
    try:
        probe, why = _probe(st, workload, slo, opts)
    except ValueError as exc:
        if "kv_capacity_tokens" not in str(exc):
            raise
        probe, why = None, str(exc)
    if probe is None:
        return RateLimit(False, why, 0.0, 0.0, 0.0, None, 0.0, slo.percentile, n_gpus=count,
                         **none)
    hi = probe.rate_limit
    ok, why, res = probe.check(hi)
    if ok:
        lo, best, why = hi, res, f"limited by max_utilization={probe.max_utilization:g}"
    else:
        lo, best = 0.0, None
        while hi - lo > rel_tol * hi:
            mid = 0.5 * (lo + hi)
            ok, _, res = probe.check(mid)
            if ok:
                lo, best = mid, res
            else:
                hi = mid
        if best is None:
            _, why, _ = probe.check(lo + rel_tol * hi)
            return RateLimit(False, f"fails the SLO even at {rel_tol * hi:.3g} requests/s: "
                             f"{why}", 0.0, 0.0, 0.0, probe.saturation_rps, 0.0,
                             slo.percentile, n_gpus=count, **none)
        why = f"bisection to {rel_tol:g} relative; {hi:.4g} requests/s fails the SLO"
    return RateLimit(
        True, why, lo, lo * 86_400.0, lo * float(probe.N.mean()), probe.saturation_rps,
        lo / probe.saturation_rps, slo.percentile, n_gpus=count, **_slo_values(best, slo),
    )
