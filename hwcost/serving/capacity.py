"""Capacity planning with the serving simulator: replicas for a latency target, and the
largest request rate one replica sustains. See :mod:`hwcost.serving` for the simulator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import gammaincinv

from ..errors import HwcostError
from ..workload import SLO, Workload
from .arrivals import Arrivals, Lengths
from .engine import CostModel
from .simulator import (
    DEFAULT_N_GPUS,
    MAX_UTILIZATION,
    METRICS,
    SCHEDULERS,
    SimConfig,
    SimResult,
    as_step_times,
    is_step_times,
    non_negative,
    positive_int,
    sim_config,
    simulate_config,
    unloaded_arrays,
)


@dataclass(frozen=True)
class _Probe:
    """Everything the capacity search needs for one replica configuration."""

    st: Any
    cfg: SimConfig
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
        res = simulate_config(self.st, self.cfg, self.arrivals(rate, replicas), 1, self.warmup,
                        self.cost)
        ok, why = res.meets(self.slo)
        return ok, why, res


def _probe(st, workload: Workload, slo: SLO, opts: dict) -> tuple[_Probe | None, str]:
    """Build a probe, or return the reason no load level can meet the SLO."""
    cfg = sim_config(st, **opts["cfg"])
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
    floor = unloaded_arrays(cost, L, N)
    for metric, target in slo.targets().items():
        values = floor[metric][~np.isnan(floor[metric])]
        if not values.size:
            continue
        value = float(np.percentile(values, slo.percentile))
        if value > target:
            what = {"ttft_s": "the prefill alone",
                    "tpot_s": "decode steps at batch 1",
                    "e2e_s": "prefill and decode at batch 1"}[metric]
            return None, (
                f"infeasible: even unloaded, p{slo.percentile:g} {metric} is {value:.3g} s "
                f"({what}) > target {target:g} s; more replicas cannot help"
            )
    # Saturation throughput: every request queued at time 0.
    sat = simulate_config(st, cfg, Arrivals(np.zeros(n), L, N, "saturation"), 1, 0.0, cost)
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
        raise HwcostError(f"workload must be a hwcost.workload.Workload, got {workload!r}")
    if not isinstance(slo, SLO):
        raise HwcostError(f"slo must be a hwcost.workload.SLO, got {slo!r}")
    if not slo.targets():
        raise HwcostError("slo sets no target; give at least one of ttft_s, tpot_s, e2e_s")
    warmup = non_negative("warmup_fraction", warmup_fraction)
    if warmup >= 1:
        raise HwcostError(f"warmup_fraction must be in [0, 1), got {warmup_fraction!r}")
    util = non_negative("max_utilization", max_utilization)
    if not 0 < util <= 1:
        raise HwcostError(f"max_utilization must be in (0, 1], got {max_utilization!r}")
    if scheduler not in SCHEDULERS:
        raise HwcostError(f"scheduler must be one of {SCHEDULERS}, got {scheduler!r}")
    return {
        "cfg": dict(scheduler=scheduler, max_batch_size=max_batch_size,
                    chunked_prefill_tokens=chunked_prefill_tokens,
                    static_timeout_s=static_timeout_s, max_queue_delay_s=max_queue_delay_s,
                    tpot_target_s=tpot_target_s, max_queue=None),
        "n_requests": positive_int("n_requests", n_requests),
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
    max_replicas = positive_int("max_replicas", max_replicas)
    rate = workload.peak_requests_per_s
    if is_step_times(model):
        if gpu is not None:
            raise HwcostError("pass either step times as model (gpu=None) or a model and a gpu")
        options = [(int(getattr(model, "n_gpus", 1) or 1), model)]
    else:
        if gpu is None:
            raise HwcostError(f"replicas_needed needs a gpu for model {model!r}")
        if n_gpus is None:
            counts = DEFAULT_N_GPUS
        elif np.ndim(n_gpus) == 0:
            counts = (n_gpus,)
        else:
            counts = tuple(n_gpus)
        if not counts:
            raise HwcostError("n_gpus must name at least one GPU count")
        counts = tuple(positive_int("n_gpus", c) for c in counts)
        options = []
        errors = []
        for c in counts:
            try:
                options.append((c, as_step_times(model, gpu, n_gpus=c, precision=precision,
                                               kv_precision=kv_precision, engine=engine)))
            except ValueError as exc:  # e.g. a GPU count the model's heads do not divide
                errors.append((c, str(exc)))
        if not options:  # nothing valid at all: an input error, say it
            raise HwcostError("; ".join(f"n_gpus={c}: {e}" for c, e in errors))
    rows = [{"n_gpus": c, "feasible": False, "replicas": None, "total_gpus": None,
             "ttft_s": None, "tpot_s": None, "e2e_s": None,
             "saturation_requests_per_s": None, "reason": e}
            for c, e in ([] if is_step_times(model) else errors)]
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
    rel_tol = non_negative("rel_tol", rel_tol)
    if not 0 < rel_tol < 1:
        raise HwcostError(f"rel_tol must be in (0, 1), got {rel_tol!r}")
    st = as_step_times(model, gpu, n_gpus=n_gpus, precision=precision,
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
