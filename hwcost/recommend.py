"""What to serve a workload on: the article's selection flowchart, and a computed ranking.

Two answers to the same question, kept side by side so that a reader can see where they part:

- :func:`flowchart` encodes the source article's "Practical Selection Flowchart" and its
  "When to Use Each Option" rules as data (:data:`FLOWCHART_RULES`, :data:`WHEN_TO_USE_RULES`)
  with every threshold a parameter (:class:`Thresholds`). It returns the path taken through
  the rules and the verdict they give, without computing anything about the hardware.
- :func:`rank` enumerates every option that could serve the workload (GPU type, GPUs per
  replica, precision, engine; a cloud offer, self-hosted hardware, or a hosted API), sizes
  each with :mod:`hwcost.perf` and :mod:`hwcost.serving`, prices it with
  :mod:`hwcost.economics`, and ranks the options that meet the constraints by their total
  cost over the planning horizon. Every row says what limits it and why the options above
  it win; the rows that fail a hard constraint are kept, with the constraint they fail.

:func:`compare` puts the two side by side.

Owned options are priced by the package's one cost-of-ownership model,
:func:`hwcost.economics.ownership_cost`: GPUs are rounded up to what can be bought (whole
cards, 4/8-GPU boards, NVL72 racks; ``n_gpus_bought``, ``spare_gpus``, ``bill_of_materials``),
and each row carries the money up front (``capex_usd``, which ``budget_usd`` caps), the
running cost per year and every component. Staff time is priced explicitly: owned hardware
carries ``Constraints.staff_base_fraction`` plus ``staff_per_box_fraction`` per box of one
administrator (5 % + 5 % per box; ``operations_usd_per_year`` sets a flat amount instead) and
``Constraints.cloud_operations_usd_per_year`` (a serving stack on rented GPUs) defaults to
5 % (:data:`CLOUD_STAFF_FRACTION`; pass 0 to leave staff out); :func:`operations_usd_per_year` turns a
share of one systems administrator's time into dollars (BLS median wage and wage share), and
:func:`staff_sensitivity` shows how far a
ranking depends on it. :func:`case` builds a workload and its constraints from flat
parameters or a scenario file; :func:`summary`, :func:`distinct`, :func:`best_by_kind`,
:func:`pareto_front` and :func:`failures_by_constraint` are readable views of a ranking;
:func:`patterns` replays the article's "Real-World Deployment Patterns"
(:data:`DEPLOYMENT_PATTERNS`) as small presets.

How :func:`rank` sizes an option
--------------------------------
Every GPU x precision x GPUs-per-replica x engine configuration is evaluated at once with
``perf.sweep`` over a grid of batch sizes; a short queueing model of continuous batching
(see :func:`_screen`) turns that into the highest request rate one replica serves within the
SLO percentiles, and what stops it serving more (the ``limit``: memory capacity for the KV
cache, memory bandwidth or compute of the decode step, the tensor-parallel interconnect, or
queueing of prefills). Replicas follow from the peak-hour rate. The configurations of the
cheapest options are then re-sized with the discrete-event simulator
(:func:`hwcost.serving.replicas_needed`), and the ranking is redone until the leading
configurations are all simulated (``latency_source`` says which rows were).

Availability rule
-----------------
A replica (one model copy on ``n_gpus`` GPUs) is assumed to be up a fraction
``Constraints.replica_availability`` of the time (default 0.99), independently of the others.
With ``N`` replicas needed for capacity, the plan adds the fewest spares ``k`` such that the
probability that at least ``N`` of the ``N + k`` replicas are up reaches the availability
target (a binomial tail). With the defaults a target of 99% needs no spare and 99.9% needs
one (``N + 1``), for any ``N`` up to about ten. Spot instances are assumed to be up only
``Constraints.spot_availability`` (default 0.95) of the time. Hosted APIs are assumed to meet
the target (their own SLA is not modelled).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, replace
from typing import Mapping

import numpy as np
import pandas as pd

from . import catalog, economics
from .article.flowchart import (  # noqa: F401  (the article's rules, re-exported)
    ARTICLE,
    ARTICLE_GPUS,
    FLOWCHART_RULES,
    WHEN_TO_USE_RULES,
    FlowchartResult,
    Rule,
    Step,
    Thresholds,
    flowchart,
)
from .article.patterns import (  # noqa: F401  (the article's patterns, re-exported)
    DEPLOYMENT_PATTERNS,
    PATTERN_CLOSE,
    PATTERN_COLUMNS,
    Pattern,
)
from .errors import HwcostError, HwcostWarning, NoFeasibleOption  # noqa: F401  (re-exported)
from .requirements import (  # noqa: F401  (Constraints and KINDS re-exported)
    HOURS_PER_MONTH,
    KINDS,
    SLO,
    TRAFFIC_PATTERNS,
    Constraints,
    Workload,
    build_case,
    fraction_or_percent,
)
from .requirements import Case as _BaseCase
from .serving import queueing

# staff-time pricing (hwcost.staffing), re-exported here for callers of recommend
from .staffing import (  # noqa: F401
    ADMIN_WAGE_USD_PER_YEAR,
    CLOUD_STAFF_FRACTION,
    SELF_HOSTED_STAFF_FRACTION,
    STAFF_BASE_FRACTION,
    STAFF_PER_BOX_FRACTION,
    WAGE_SHARE_OF_COMPENSATION,
    operations_usd_per_year,
)


def spares_needed(n_replicas: int, availability: float, replica_availability: float,
                  max_spares: int = 16) -> int | None:
    """Fewest spare replicas so that ``n_replicas`` are up with probability >= ``availability``.

    Parameters
    ----------
    n_replicas : int
        Replicas needed to carry the load. [replicas]
    availability : float
        Target probability that at least ``n_replicas`` are up. [1]
    replica_availability : float
        Probability that one replica is up, independently of the others. [1]
    max_spares : int
        Give up (return None) beyond this many spares.

    Returns
    -------
    int or None
        Spare replicas ``k`` (0 when one set suffices); None when even ``max_spares`` spares
        do not reach the target.

    Notes
    -----
    P(at least N of N+k up) = sum_{j=N}^{N+k} C(N+k, j) a^j (1-a)^(N+k-j) (binomial tail).
    """
    n = int(n_replicas)
    if n < 1:
        raise HwcostError(f"n_replicas must be >= 1, got {n_replicas!r}")
    a = float(replica_availability)
    for k in range(max_spares + 1):
        total = n + k
        p_up = sum(math.comb(total, j) * a**j * (1 - a) ** (total - j) for j in range(n, total + 1))
        if p_up >= availability - 1e-12:
            return k
    return None


# ----------------------------------------------------------------------------------------
# Ranking every option for a workload
# ----------------------------------------------------------------------------------------
# Batch sizes evaluated per configuration (concurrent sequences of one replica). Values below
# one stand for light load (a replica idle part of the time) and reuse the batch-1 step.
BATCH_GRID = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512)
_LIGHT = (0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75)
SIMULATED_CONFIGS = 6  # leading configurations checked with the serving simulator
SIM_REQUESTS = 1000  # simulated requests per check
IDLE_POWER_FRACTION = economics.IDLE_POWER_FRACTION  # one assumption for the whole package
MAX_GPUS_PER_MACHINE = 8  # per-GPU cloud offers: GPUs rentable together in one machine

COLUMNS = (
    "rank", "option", "kind", "provider", "offer_id", "gpu_id", "n_gpus", "parallelism",
    "precision", "engine",
    "replicas", "spares", "gpus_total", "batch_size", "max_batch_size",
    "capacity_requests_per_s", "utilization", "ttft_s", "tpot_s", "e2e_s", "latency_source",
    "usd_per_gpu_hour", "usd_per_hour", "total_usd", "usd_per_million_tokens",
    "segment", "capex_usd", "running_usd_per_year", "n_gpus_bought", "spare_gpus",
    "bill_of_materials", "gpu_usd", "host_usd", "networking_setup_usd", "capital_usd_per_year",
    "power_usd_per_year", "colocation_usd_per_year", "maintenance_usd_per_year",
    "staff_usd_per_year", "total_usd_low", "total_usd_high", "caveat", "limit",
    "sized_by", "pareto", "feasible", "fails", "why", "notes",
)


def _residency_ok(region, wanted: str) -> bool:
    return catalog.region_matches(region, wanted)


#: Note on an option whose price comes from the user's own table (catalog ``origin`` user).
USER_PRICE_NOTE = "price from your table"


class FilterMatchesNothing(HwcostWarning):
    """A provider or data-residency filter left no cloud or API offer to consider."""


# Step times by (model, GPU, n_gpus, precision, engine, calibration). The key holds the catalog
# entities themselves, not their ids, so a changed table (a user's HWCOST_GPUS_CSV) is a new key.
_STEP_CACHE: dict = {}


def _obj(kind: str, key):
    """Catalog entity by id (the catalog caches lookups per version of its tables)."""
    if not isinstance(key, str):
        return key
    return catalog.gpu(key) if kind == "gpu" else catalog.llm(key)


def _step_times(model_id, gpu_id, n, precision, engine):
    """``perf.step_times`` cached per (model, gpu, n_gpus, precision, engine, calibration)."""
    from . import perf

    # keyed on the entities (a user's table is a new key) and the calibration in use
    # (HWCOST_CALIBRATION may name a user's file)
    m, g = _obj("llm", model_id), _obj("gpu", gpu_id)
    key = (m, g, n, precision, engine, id(perf.stored_calibration()))
    if key not in _STEP_CACHE:
        if len(_STEP_CACHE) > 4096:
            _STEP_CACHE.clear()
        _STEP_CACHE[key] = perf.step_times(m, g, n_gpus=n, precision=precision, engine=engine)
    return _STEP_CACHE[key]


def _interconnect_share(model_id, gpu_id, n, precision, engine, batch, context) -> float:
    """Share of one decode step spent in tensor-parallel communication (0 for one GPU)."""
    if n <= 1:
        return 0.0
    st = _step_times(model_id, gpu_id, n, precision, engine)
    b = float(max(batch, 1.0))
    return float(st.comm_seconds(b)) / float(st.decode_step_seconds(b, b * float(context)))


def _screen(workload: Workload, constraints: Constraints, gpu_ids, engines) -> pd.DataFrame:
    """Every GPU x precision x n_gpus x engine configuration, sized analytically.

    For each configuration and each batch size ``b`` on :data:`BATCH_GRID` (and light-load
    fractions below one), ``perf.sweep`` gives the mean decode step ``tpot(b)`` over the
    request's context range and the prefill time ``p`` of one prompt;
    :func:`hwcost.serving.queueing.screen_latency` turns them into the request rate and the
    latency percentiles at each load (continuous batching with interleaved prefills and an
    M/D/1 prefill queue). The largest rate meeting
    every target, capped at ``Constraints.utilization_cap`` of the saturation rate (the one
    capacity rule, :func:`hwcost.requirements.planning_utilization`), is the planning
    capacity of one replica. The serving simulator then checks the leading options.
    """
    from . import perf

    q = constraints.slo.percentile / 100.0
    I, O = workload.input_tokens, workload.output_tokens
    precisions = constraints.precisions or catalog.PRECISIONS
    counts = tuple(n for n in constraints.n_gpus_options
                   if constraints.max_gpus is None or n <= constraints.max_gpus)
    frames = []
    for engine in engines:
        df = perf.sweep(_obj("llm", workload.model), [_obj("gpu", g) for g in gpu_ids],
                        precisions=precisions, n_gpus=counts,
                        batch_sizes=BATCH_GRID, input_tokens=I, output_tokens=O, engine=engine)
        df["engine"] = engine
        frames.append(df)
    B = len(BATCH_GRID)
    out = []
    for df in frames:
        C = len(df) // B

        def grid(col, dtype=float, df=df, C=C):
            if dtype is float:
                return df[col].to_numpy(dtype=dtype, na_value=np.nan).reshape(C, B)
            return df[col].to_numpy().reshape(C, B)

        n_arr = grid("n_gpus")
        if not np.all(n_arr == n_arr[:, :1]):  # pragma: no cover - guards the reshape
            raise RuntimeError("perf.sweep row order changed; cannot reshape by batch size")
        fits = grid("fits", None).astype(bool)
        tpot = grid("tpot_s")
        ttft = grid("ttft_s")
        prefill = grid("prefill_s")
        bound = grid("bound", None)
        bmax = df["max_batch_size"].to_numpy().reshape(C, B)[:, 0].astype(float)
        reason = df["reason"].astype(str).to_numpy().reshape(C, B)[:, 0]
        gpu = df["gpu_id"].astype(str).to_numpy().reshape(C, B)[:, 0]
        prec = df["precision"].astype(str).to_numpy().reshape(C, B)[:, 0]
        n_gpus = n_arr[:, 0].astype(int)
        weights_gb = df["weights_gb"].to_numpy().reshape(C, B)[:, 0]
        mem_gb = df["memory_per_gpu_gb"].to_numpy().reshape(C, B)[:, 0]
        engine = df["engine"].iloc[0]

        # Batch axis: light-load fractions (batch-1 step) then the grid.
        b_all = np.array(_LIGHT + BATCH_GRID, dtype=float)
        L = len(_LIGHT)
        tp = np.concatenate([np.repeat(tpot[:, :1], L, axis=1), tpot], axis=1)
        ok_fit = np.concatenate([np.repeat(fits[:, :1], L, axis=1), fits], axis=1)
        ok_fit &= b_all[None, :] <= np.maximum(bmax[:, None], 1.0)
        p1 = prefill[:, :1]
        step1 = (ttft[:, :1] - prefill[:, :1])
        lat = queueing.screen_latency(b_all, tp, tpot, BATCH_GRID, p1, step1, O, q, ok_fit)
        lam, b_q, wait_q = lat.rate, lat.batch_q, lat.wait_q
        ttft_q, tpot_q, e2e_q = lat.ttft_q, lat.tpot_q, lat.e2e_q
        slo = constraints.slo
        ok_mem = b_q <= np.maximum(bmax[:, None], 1.0)
        ok_tpot = tpot_q <= slo.tpot_s if slo.tpot_s is not None else np.ones_like(ok_fit)
        ok_ttft = ttft_q <= slo.ttft_s if slo.ttft_s is not None else np.ones_like(ok_fit)
        ok_e2e = e2e_q <= slo.e2e_s if slo.e2e_s is not None else np.ones_like(ok_fit)
        ok = ok_fit & ok_mem & ok_tpot & ok_ttft & ok_e2e
        lam_ok = np.where(ok, lam, -1.0)
        j_best = np.argmax(lam_ok, axis=1)
        lam_slo = np.where(ok.any(axis=1), lam_ok[np.arange(C), j_best], 0.0)
        lam_sat = np.nanmax(np.where(ok_fit, lam, np.nan), axis=1, initial=0.0)
        lam_sat = np.where(np.isfinite(lam_sat), lam_sat, 0.0)
        lam_plan = np.minimum(lam_slo, constraints.utilization_cap * lam_sat)
        spec = perf.ENGINES.get(engine or "generic", {})
        for c in range(C):
            engine_cap = perf.features.batch_cap(spec, catalog.gpu(gpu[c]))
            row = {
                "gpu_id": gpu[c], "n_gpus": int(n_gpus[c]), "precision": prec[c],
                "engine": engine, "weights_gb": float(weights_gb[c]),
                "memory_per_gpu_gb": float(mem_gb[c]), "max_batch_size": int(max(bmax[c], 0)),
                "fits": bool(fits[c, 0]), "reason": reason[c],
                "capacity_rps": float(lam_plan[c]), "saturation_rps": float(lam_sat[c]),
                "p1_s": float(p1[c, 0]) if np.isfinite(p1[c, 0]) else None,
                "fail": "", "fail_kind": "", "limit": "", "relax": None,
            }
            if not fits[c, 0]:
                kind = {"does not fit in memory": "memory capacity",
                        "precision not supported on this GPU/engine": "precision",
                        "n_gpus not allowed by the model's heads": "parallelism",
                        "exceeds the model's context window": "context window"}.get(reason[c], reason[c])
                detail = reason[c]
                if kind == "memory capacity":
                    detail = (f"{workload.model} at {prec[c]} needs {mem_gb[c]:.1f} GB per GPU on "
                              f"{n_gpus[c]} x {gpu[c]} (weights {weights_gb[c]:.0f} GB in total)")
                row.update(fail=f"{kind}: {detail}", fail_kind=kind, limit=kind)
                out.append(row)
                continue
            # Latency floor (light load) for messages about an SLO nothing meets.
            floor = {"ttft_s": float(ttft_q[c, 0]), "tpot_s": float(tpot_q[c, 0]),
                     "e2e_s": float(e2e_q[c, 0])}
            row["floor"] = floor
            if not ok[c].any():
                misses = [(m, floor[m], t) for m, t in slo.targets().items() if floor[m] > t]
                if not misses:
                    misses = [("queueing", float("nan"), float("nan"))]
                m, v, t = misses[0]
                b1_bound = "bandwidth" if bound[c, 0] == "memory" else "compute"
                if m == "ttft_s":
                    lim = "compute"
                elif m == "queueing":
                    lim = "queueing"
                else:
                    lim = b1_bound
                if math.isfinite(v):
                    detail = "; ".join(f"p{slo.percentile:g} {mm} {vv:.3g} s > {tt:g} s"
                                       for mm, vv, tt in misses) + " even at light load"
                else:
                    detail = "no load level meets every target at once"
                row.update(fail=f"slo: {detail}", fail_kind="slo", limit=lim,
                           relax={mm: vv for mm, vv, tt in misses if math.isfinite(vv)})
                out.append(row)
                continue
            j = int(j_best[c])
            row.update(batch=float(b_all[j]), ttft_q=float(ttft_q[c, j]),
                       tpot_q=float(tpot_q[c, j]), e2e_q=float(e2e_q[c, j]))
            # Latency against load up to the planning point, for rows loaded below it.
            upto = ok_fit[c] & (lam[c] <= lam[c, j] + 1e-12)
            order = np.argsort(lam[c][upto], kind="stable")
            row["curve"] = tuple(np.asarray(a[c][upto][order], dtype=float)
                                 for a in (lam, ttft_q, tpot_q, e2e_q, np.broadcast_to(b_all, lam.shape)))
            # What stops the replica taking more load.
            if lam_slo[c] > constraints.utilization_cap * lam_sat[c]:
                jb = int(np.nanargmax(np.where(ok_fit[c], lam[c], np.nan)))
                if bmax[c] < engine_cap:
                    lim = "memory capacity"
                else:
                    lim = _bound_label(bound[c, max(jb - L, 0)], workload, gpu[c], int(n_gpus[c]),
                                       prec[c], engine, b_all[jb])
            elif j + 1 >= len(b_all) or not ok_fit[c, j + 1]:
                lim = "memory capacity"
            else:
                k = j + 1
                if not ok_mem[c, k]:
                    lim = "memory capacity"
                elif slo.ttft_s is not None and not ok_ttft[c, k]:
                    lim = "queueing" if wait_q[c, k] > p1[c, 0] else "compute"
                else:
                    lim = _bound_label(bound[c, max(k - L, 0)], workload, gpu[c], int(n_gpus[c]),
                                       prec[c], engine, b_all[k])
            row["limit"] = lim
            out.append(row)
    return pd.DataFrame(out)


def _bound_label(bound, workload, gpu_id, n, precision, engine, batch) -> str:
    """``bandwidth`` / ``compute`` from the decode step, ``interconnect`` when the
    tensor-parallel all-reduces take at least 40% of the step."""
    share = _interconnect_share(workload.model, gpu_id, n, precision, engine, batch,
                                workload.input_tokens + workload.output_tokens / 2)
    if share >= 0.4:
        return "interconnect"
    return "bandwidth" if bound == "memory" else "compute"


def _engines(constraints: Constraints) -> tuple:
    from . import perf

    if not constraints.engines:
        return (None,)
    known = sorted(perf.ENGINES)
    out = []
    for e in constraints.engines:
        if e in ("generic", "none"):
            out.append(None)
            continue
        if e not in known:
            import difflib

            close = difflib.get_close_matches(e, known, n=3, cutoff=0.4)
            raise HwcostError(f"unknown engine {e!r}; "
                             + (f"closest: {', '.join(close)}" if close else f"expected one of {', '.join(known)}"))
        out.append(e)
    return tuple(dict.fromkeys(out))


def _label(gpu_id, n, precision, engine) -> str:
    text = f"{n}x {gpu_id} {precision}"
    return text + (f" [{engine}]" if engine else "")


def _parallelism(n: int, engine) -> str:
    """How a replica spreads over its GPUs: ``none``, ``tensor`` or ``layer`` (split by layers)."""
    if n <= 1:
        return "none"
    from . import perf

    mode = perf.ENGINES.get(engine or "generic", {}).get("multi_gpu_mode", "tensor")
    return "layer" if mode == "layer" else "tensor"


def _quality_note(precision: str, native: str) -> str:
    if precision in ("int4", "int8") or (precision == "fp8" and native not in ("fp8",)):
        return (f"{precision} weights: expect a small quality loss (the article: 1-5%); test on "
                "your task")
    return ""


class _Plan:
    """Per-configuration sizing: replicas at peak, latencies and where they came from."""

    __slots__ = ("key", "screen", "n_peak", "ttft", "tpot", "e2e", "source", "fail", "batch",
                 "capacity")

    def __init__(self, key, screen_row, peak_rps):
        self.key = key
        self.screen = screen_row
        self.fail = screen_row["fail"]
        self.source = "analytic"
        self.capacity = screen_row["capacity_rps"]
        self.n_peak = None
        self.ttft = self.tpot = self.e2e = self.batch = None
        if not self.fail:
            self.set_replicas(max(1, math.ceil(peak_rps / self.capacity - 1e-9)), peak_rps)

    def set_replicas(self, n_peak: int, peak_rps: float) -> None:
        self.n_peak = int(n_peak)
        lam, ttft, tpot, e2e, b = self.screen["curve"]
        load = peak_rps / self.n_peak
        if lam.size == 0:
            return
        self.ttft = float(np.interp(load, lam, ttft))
        self.tpot = float(np.interp(load, lam, tpot))
        self.e2e = float(np.interp(load, lam, e2e))
        self.batch = float(np.interp(load, lam, b))


def _simulate_plan(plan: _Plan, workload: Workload, constraints: Constraints, peak_rps: float):
    """Check a configuration with the serving simulator; update its plan in place."""
    from . import serving

    gpu_id, n, precision, engine = plan.key
    st = _step_times(workload.model, gpu_id, n, precision, engine)
    try:
        res = serving.replicas_needed(st, None, workload, constraints.slo,
                                      n_requests=SIM_REQUESTS, seed=0,
                                      max_utilization=constraints.utilization_cap,
                                      max_replicas=max(4 * (plan.n_peak or 1), 64))
    except ValueError as exc:
        plan.fail = f"slo: simulation: {exc}"
        return
    plan.source = "simulated"
    if not res.feasible:
        reason = res.reason.split(": ", 1)[-1]
        plan.fail = f"slo: simulated at the peak rate: {reason}"
        return
    plan.set_replicas(int(res.replicas), peak_rps)
    plan.ttft, plan.tpot, plan.e2e = res.ttft_s, res.tpot_s, res.e2e_s
    plan.capacity = min(plan.capacity, res.saturation_requests_per_s or plan.capacity) \
        if plan.capacity else res.saturation_requests_per_s


def rank(workload: Workload, constraints: Constraints | None = None, *, strict: bool = True,
         simulate: bool = True, sort_by: str = "total_usd") -> pd.DataFrame:
    """Every way to serve ``workload``, priced over the horizon and ranked.

    Parameters
    ----------
    workload : hwcost.workload.Workload
        Model, requests per day with their daily profile, input and output tokens.
    constraints : Constraints, optional
        SLO, availability, privacy, horizon, budget and what to consider.
    strict : bool
        Raise :class:`NoFeasibleOption` when no option meets every constraint (the
        message names the binding constraint and what would relax it). With False, the
        table is returned with no ranked row.
    simulate : bool
        Check the leading configurations with :func:`hwcost.serving.replicas_needed`
        (discrete-event simulation at the peak-hour rate) when the SLO sets targets.
    sort_by : {"total_usd", "usd_per_million_tokens"}
        Ranking key (the two give the same order for one workload).

    Returns
    -------
    pandas.DataFrame
        One row per option, the ranked ones first (``rank`` 1, 2, ...), then those that
        fail a hard constraint (``feasible`` False, ``fails`` naming every constraint they
        fail). Columns (units in the names): ``option, kind`` (cloud, self-hosted, api, or
        hardware for a configuration that fails before any offer is priced), ``provider,
        offer_id, gpu_id, n_gpus, parallelism`` (none, tensor, or layer split),
        ``precision, engine, replicas`` (at the peak hour,
        spares included), ``spares, gpus_total, batch_size`` (mean concurrent sequences per
        replica at peak), ``max_batch_size, capacity_requests_per_s`` (per replica, within
        the SLO), ``utilization`` (mean busy share of what is paid for), ``ttft_s, tpot_s,
        e2e_s`` (at the SLO percentile at the peak hour), ``latency_source`` (simulated,
        analytic, or not modelled for APIs), ``usd_per_gpu_hour, usd_per_hour`` (mean),
        ``total_usd`` (over the horizon), ``usd_per_million_tokens`` (input + output),
        ``segment`` (datacenter, workstation, consumer for owned GPUs; cloud; api),
        ``capex_usd`` (bought up front; 0 for rented GPUs and APIs),
        ``running_usd_per_year``, ``n_gpus_bought, spare_gpus`` (GPUs paid for, and those no
        replica uses), ``bill_of_materials`` (boxes, GPUs, racks, kW; or what is rented), the
        owned cost components ``gpu_usd, host_usd, networking_setup_usd`` [USD] and
        ``capital_usd_per_year, power_usd_per_year, colocation_usd_per_year,
        maintenance_usd_per_year, staff_usd_per_year`` [USD/year], ``total_usd_low,
        total_usd_high`` (owned options at the catalog's low and high prices; rented GPUs
        and APIs have one price), ``caveat`` (licence,
        ECC and support note on consumer and workstation cards),
        ``limit`` (what caps a replica: memory capacity, bandwidth, compute,
        interconnect, queueing), ``sized_by`` (what set the GPU count), ``pareto`` (on the
        cost-latency frontier), ``why`` (why the options above it win) and ``notes``.

    Notes
    -----
    Pricing: cloud offers bill whole instances (an 8-GPU instance costs 8 GPUs even when
    the replica uses 2; several replicas share an instance when they fit); offers sold per
    GPU (one GPU per instance in the catalog) rent up to 8 together in one machine. With
    ``cloud_autoscale`` on-demand and spot replicas follow the hourly profile (at least one
    replica, spares kept all day); reserved capacity runs all the time and bills at least
    its commitment; a replica on several GPUs of an offer sold per GPU assumes the provider
    rents that many together (a note says so). Self-hosted options buy replicas for the peak
    hour, rounded up to whole purchase units and boxes, priced by
    :func:`hwcost.economics.ownership_cost` (GPUs and hosts, networking and setup per box,
    capital with interest and resale, power of GPUs and hosts at load and idle -- idle draw
    :data:`IDLE_POWER_FRACTION` -- colocation per kW-month or PUE, maintenance, staff per
    box); cloud options add ``cloud_operations_usd_per_year`` over the horizon. APIs bill tokens
    (:func:`hwcost.economics.api_cost`); their latency and availability are not modelled.
    The catalog's tables are read once for the whole ranking (:func:`hwcost.catalog.tables_held`).
    """
    with catalog.tables_held():
        return _rank(workload, constraints, strict=strict, simulate=simulate, sort_by=sort_by)


def _rank(workload, constraints, *, strict, simulate, sort_by) -> pd.DataFrame:
    from . import economics

    if not isinstance(workload, Workload):
        raise HwcostError(f"workload must be a hwcost.workload.Workload, got {type(workload).__name__}")
    constraints = constraints or Constraints()
    if not isinstance(constraints, Constraints):
        raise HwcostError(f"constraints must be a recommend.Constraints, got {type(constraints).__name__}")
    if sort_by not in ("total_usd", "usd_per_million_tokens"):
        raise HwcostError(f"sort_by must be 'total_usd' or 'usd_per_million_tokens', got {sort_by!r}")
    model = _obj("llm", catalog.llm(workload.model).id)
    if model.id != workload.model:
        workload = replace(workload, model=model.id)
    kinds = constraints.allowed_kinds()
    engines = _engines(constraints)
    gpu_ids = list(constraints.gpus or catalog.gpu_ids())
    peak = workload.peak_requests_per_s
    days = constraints.horizon_hours / 24.0
    tokens_total = workload.requests_per_day * workload.tokens_per_request * days

    screen = _screen(workload, constraints, gpu_ids, engines)
    plans: dict[tuple, _Plan] = {}
    for row in screen.to_dict(orient="records"):
        key = (row["gpu_id"], row["n_gpus"], row["precision"], row["engine"])
        plans[key] = _Plan(key, row, peak)
    # Fewest GPUs that hold the model, per (gpu, precision, engine): to tell sizing apart.
    min_fit: dict[tuple, int] = {}
    for (g, n, p, e), plan in plans.items():
        if plan.screen["fits"]:
            min_fit[(g, p, e)] = min(n, min_fit.get((g, p, e), n))

    # Where each owned GPU runs (its energy setting), or why it cannot be priced.
    tco_inputs = {}
    hw = catalog.hardware_prices()
    priced = set(zip(hw["gpu_id"], hw["condition"]))
    energies = set(catalog.energy()["id"])
    for g in gpu_ids:
        energy = constraints.energy_id or (
            DATACENTER_ENERGY_ID if _obj("gpu", g).segment == "datacenter" else OFFICE_ENERGY_ID)
        if energy in energies and (g, constraints.hardware_condition) in priced:
            tco_inputs[g] = {"energy": energy}
            continue
        try:  # the catalog's own message: an unknown energy setting, or no price for this GPU
            economics.tco_inputs_from_catalog(_obj("gpu", g), energy=energy,
                                              condition=constraints.hardware_condition)
            tco_inputs[g] = {"energy": energy}
        except ValueError as exc:
            if "energy" in str(exc):
                raise
            tco_inputs[g] = str(exc)
    offer_rows: dict[str, list[dict]] = {}
    if constraints.allow_cloud and constraints.allows_segment("cloud"):
        offers = catalog.cloud_prices()
        if constraints.providers:
            offers = offers[offers["provider"].isin(constraints.providers)]
        if constraints.data_residency and len(offers):
            inside = [_residency_ok(r, constraints.data_residency) for r in offers["region"]]
            if not any(inside):
                stated = sorted({r for r in offers["region"] if isinstance(r, str) and r})
                warnings.warn(
                    f"data_residency {constraints.data_residency!r} matches no cloud offer; "
                    f"offer regions in the catalog: {', '.join(stated) or 'none stated'}",
                    FilterMatchesNothing, stacklevel=2)
        for o in offers[offers["gpu_id"].isin(gpu_ids)].to_dict(orient="records"):
            offer_rows.setdefault(o["gpu_id"], []).append(o)
    apis = (_api_rows(workload, constraints)
            if constraints.allow_api and constraints.allows_segment("api") else [])
    _warn_unmatched_providers(constraints, offer_rows, apis, workload)

    # Option rows per configuration, rebuilt only for the configuration a simulation changed
    # (the rows are copied before ranking, which writes into them).
    row_cache: dict[tuple, list[dict]] = {}

    def build(changed: tuple | None = None) -> list[dict]:
        rows = []
        for key, plan in plans.items():
            if key not in row_cache or key == changed:
                row_cache[key] = _option_rows(key, plan, workload, constraints, kinds, offer_rows,
                                              tco_inputs, min_fit, days, tokens_total)
            rows.extend({**r, "fails": list(r["fails"])} for r in row_cache[key])
        slo_met = any(not p.fail or not p.fail.startswith("slo") for p in plans.values()
                      if p.screen["fits"])
        rows.extend(_api_option_rows(apis, workload, constraints, days, tokens_total, slo_met))
        return rows

    rows = build()
    targets = constraints.slo.targets()
    if simulate and targets:
        checked = 0
        for _ in range(3 * SIMULATED_CONFIGS):
            feasible = sorted((r for r in rows if not r["fails"] and r["kind"] != "api"),
                              key=lambda r: (r[sort_by], r["e2e_s"] or 0.0))
            todo = None
            seen = []
            for r in feasible:
                key = (r["gpu_id"], r["n_gpus"], r["precision"],
                       None if r["engine"] == "generic" else r["engine"])
                if key in seen:
                    continue
                seen.append(key)
                if plans[key].source != "simulated":
                    todo = key
                    break
                if len(seen) >= SIMULATED_CONFIGS:
                    break
            if todo is None or checked >= 3 * SIMULATED_CONFIGS:
                break
            _simulate_plan(plans[todo], workload, constraints, peak)
            checked += 1
            rows = build(todo)
    table = _finish(rows, workload, constraints, sort_by)
    if strict and not table["feasible"].any():
        raise NoFeasibleOption(_explain_infeasible(table, plans, workload, constraints), table)
    return table


def _warn_unmatched_providers(constraints, offer_rows, apis, workload) -> None:
    """Warn about each provider asked for that offers nothing for this workload."""
    if not constraints.providers:
        return
    used = {o["provider"] for rows in offer_rows.values() for o in rows}
    used |= {price.provider for price, _ in apis}
    for provider in constraints.providers:
        if provider not in used:
            warnings.warn(f"provider {provider!r} matches no option for this workload (no cloud "
                          f"offer of the GPUs considered and no API serving {workload.model} "
                          "or a model of its size); the ranking leaves it out",
                          FilterMatchesNothing, stacklevel=3)


def _api_rows(workload: Workload, constraints: Constraints) -> list[tuple]:
    """(ApiPrice, served model id) for the workload's model, or same-size substitutes."""
    from . import economics

    prices = catalog.api_prices()
    if constraints.providers:
        prices = prices[prices["provider"].isin(constraints.providers)]
    own = economics.api_prices_for(_obj("llm", workload.model), prices=prices)
    out = [(economics.api_price(r["id"], prices=prices), workload.model)
           for r in own.to_dict(orient="records")]
    if out or not constraints.include_substitute_models:
        return out
    size = _obj("llm", workload.model).total_params_b
    llms = catalog.llms()
    for r in prices.to_dict(orient="records"):
        llm_id = r["llm_id"]
        if not isinstance(llm_id, str):
            continue
        other = float(llms.loc[llms["id"] == llm_id, "total_params_b"].iloc[0])
        if abs(other / size - 1) <= 0.15:
            out.append((economics.api_price(r["id"], prices=prices), llm_id))
    return out


def _api_option_rows(apis, workload, constraints, days, tokens_total,
                     slo_met_somewhere: bool) -> list[dict]:
    """Rows for hosted APIs. Their latency is not modelled: they pass the SLO unless no
    modelled hardware meets it at all (an API runs on the same kind of hardware).

    Batch work (no latency target) also gets each offer's batch tier where the provider
    publishes one; the workload's ``cached_input_share`` is billed at cached-input prices."""
    from . import economics

    rows = []
    mine = set(catalog.api_prices().query("origin == 'user'")["id"]) if apis else set()
    tiers = []
    for price, served in apis:
        tiers.append((price, served, ""))
        if not constraints.slo.targets() and price.has_batch:
            tiers.append((price.batch(), served, "batch"))
    for price, served, tier in tiers:
        fails = []
        if constraints.slo.targets() and not slo_met_somewhere:
            fails.append("slo: API latency is not modelled, and no modelled hardware meets "
                         "the targets")
        window = _obj("llm", served).max_context_tokens
        if workload.tokens_per_request > window:
            fails.append(f"context window: input_tokens + output_tokens = "
                         f"{workload.tokens_per_request:,} exceeds the context window of "
                         f"{served} ({window:,} tokens)")
        if constraints.privacy:
            fails.append("privacy: prompts would be sent to a third-party API")
        if constraints.data_residency:
            fails.append(f"data_residency: where {price.provider} processes data is not in the "
                         f"catalog (needed: {constraints.data_residency})")
        cost = economics.api_cost(workload, price)
        total = cost.usd_per_day * days
        notes = ["latency and availability are the provider's (not modelled)"]
        if price.id in mine:
            notes.insert(0, USER_PRICE_NOTE)
        if tier == "batch":
            notes.append("batch tier: results within the provider's batch window (typically "
                         "24 h)" + (f", longer than the {workload.window_hours:g} h window"
                                    if workload.window_hours and workload.window_hours < 24 else ""))
        if workload.cached_input_share and price.cached_usd_per_million_input_tokens is not None:
            notes.append(f"{workload.cached_input_share:.0%} of input tokens at the cached-input "
                         f"price")
        if served != workload.model:
            notes.insert(0, f"serves {served}, a model of the same size class, not {workload.model}")
        rows.append(_row(
            option=f"API {price.id}", kind="api", provider=price.provider, offer_id=price.id,
            total_usd=total, usd_per_hour=total / (days * 24.0),
            usd_per_million_tokens=total / tokens_total * 1e6, latency_source="not modelled",
            limit="provider", sized_by="per token", fails=fails, notes="; ".join(notes),
            utilization=1.0, segment="api", capex_usd=0.0,
            running_usd_per_year=total / (constraints.horizon_months / 12.0),
            bill_of_materials="billed per token", caveat="",
        ))
    return rows


def _row(**values) -> dict:
    row = {c: None for c in COLUMNS}
    row.update(values)
    return row


_OWNERSHIP: dict = {}


def _ownership(gpu_id, replicas, n, energy, constraints, estimate="typical"):
    """``economics.ownership_cost`` of a fleet at full load, once per fleet and constraints
    (the rows then take :meth:`~hwcost.economics.OwnershipCost.yearly_at` their utilization)."""
    key = (gpu_id, replicas, n, energy, constraints.hardware_condition, constraints.amortization_years,
           constraints.staff_base_fraction, constraints.staff_per_box_fraction,
           constraints.operations_usd_per_year, estimate)
    if key not in _OWNERSHIP:
        if len(_OWNERSHIP) > 4096:
            _OWNERSHIP.clear()
        _OWNERSHIP[key] = economics.ownership_cost(
            _obj("gpu", gpu_id), replicas, n, utilization=1.0, energy=energy, estimate=estimate,
            condition=constraints.hardware_condition, amortization_years=constraints.amortization_years,
            staff_base_fraction=constraints.staff_base_fraction,
            staff_per_box_fraction=constraints.staff_per_box_fraction,
            operations_usd_per_year=constraints.operations_usd_per_year)
    return _OWNERSHIP[key]


def _option_rows(key, plan: _Plan, workload, constraints, kinds, offer_rows, tco_inputs,
                 min_fit, days, tokens_total) -> list[dict]:
    from . import economics

    gpu_id, n, precision, engine = key
    scr = plan.screen
    common = dict(gpu_id=gpu_id, n_gpus=n, precision=precision, engine=engine or "generic",
                  parallelism=_parallelism(n, engine), max_batch_size=scr["max_batch_size"],
                  limit=scr["limit"])
    label = _label(gpu_id, n, precision, engine)
    if plan.fail:
        return [_row(option=label, kind="hardware", fails=[plan.fail],
                     latency_source=plan.source if plan.fail.startswith("slo") else None,
                     notes="fails before any offer is priced", **common)]
    peak = workload.peak_requests_per_s
    rates = workload.hourly_requests() / 3600.0
    needed = np.maximum(1, np.ceil(plan.n_peak * rates / peak - 1e-9)).astype(int)
    sat = scr["saturation_rps"] or plan.capacity
    busy_replica_h_per_day = workload.requests_per_day / sat / 3600.0
    mf = min_fit.get((gpu_id, precision, engine), n)
    if plan.n_peak > 1:
        sized = f"traffic: {plan.n_peak} replicas at the peak hour"
    elif n == mf:
        sized = f"memory: the model needs {n} GPU{'' if n == 1 else 's'} of this type"
    else:
        sized = f"latency: {n} GPUs where {mf} would hold the model"
    quality = _quality_note(precision, _obj("llm", workload.model).native_precision)
    lat = dict(ttft_s=plan.ttft, tpot_s=plan.tpot, e2e_s=plan.e2e, latency_source=plan.source,
               batch_size=plan.batch, capacity_requests_per_s=plan.capacity)
    years = constraints.horizon_months / 12.0
    out = []

    def finish(row, fails, total, paid_gpu_h, gpus_total, spares, capex=0.0):
        if constraints.max_gpus is not None and gpus_total > constraints.max_gpus:
            fails.append(f"max_gpus: needs {gpus_total} GPUs > {constraints.max_gpus}")
        if constraints.budget_usd is not None and capex > constraints.budget_usd:
            fails.append(f"budget: {capex:,.0f} USD up front > {constraints.budget_usd:,.0f} USD")
        if row.get("running_usd_per_year") is None:
            row["running_usd_per_year"] = total / years
        row.update(total_usd=total, usd_per_hour=total / (days * 24.0), capex_usd=capex,
                   usd_per_million_tokens=total / tokens_total * 1e6,
                   usd_per_gpu_hour=total / paid_gpu_h if paid_gpu_h > 0 else None,
                   gpus_total=int(gpus_total), spares=int(spares), fails=fails,
                   sized_by=sized + (f"; +{spares} spare(s) for {constraints.availability:.2%}"
                                     if spares else ""),
                   **lat, **common)
        out.append(row)

    segment = _obj("gpu", gpu_id).segment
    if constraints.allow_self_hosted and constraints.allows_segment(segment):
        fails = []
        notes = [quality] if quality else []
        k = spares_needed(plan.n_peak, constraints.availability, constraints.replica_availability)
        if k is None:
            fails.append("availability: no number of spare replicas reaches the target")
            k = 0
        replicas = plan.n_peak + k
        gpus = replicas * n
        inputs = tco_inputs.get(gpu_id)
        own = None
        try:
            bought = economics.purchase_plan(_obj("gpu", gpu_id), replicas, n)
        except ValueError as exc:
            fails.append(f"interconnect: {exc}")
            bought = None
        busy = min(1.0, busy_replica_h_per_day * n / (24.0 * (bought.n_gpus_bought if bought else gpus)))
        if isinstance(inputs, str):
            fails.append(f"price: {inputs}")
        elif bought is not None:
            own = _ownership(gpu_id, replicas, n, inputs["energy"], constraints)
        extra = {}
        if own is not None:
            at = own.yearly_at(max(busy, 1e-9), IDLE_POWER_FRACTION)  # only power follows the load
            total = at["total_usd_per_year"] * years
            paid = own.plan.n_gpus_bought * constraints.horizon_hours
            extra = {c: getattr(own, c) for c in (
                "gpu_usd", "host_usd", "networking_setup_usd", "capital_usd_per_year",
                "colocation_usd_per_year", "maintenance_usd_per_year", "staff_usd_per_year",
                "capex_usd")}
            extra.update(power_usd_per_year=at["power_usd_per_year"],
                         running_usd_per_year=at["running_usd_per_year"])
            # the same fleet at the catalog's low and high prices (GPU, host, power, colocation)
            for est in ("low", "high"):
                other = _ownership(gpu_id, replicas, n, inputs["energy"], constraints, est)
                extra[f"total_usd_{est}"] = (other.yearly_at(max(busy, 1e-9), IDLE_POWER_FRACTION)
                                             ["total_usd_per_year"] * years)
            extra.update(n_gpus_bought=own.plan.n_gpus_bought, spare_gpus=own.plan.spare_gpus,
                         bill_of_materials=own.plan.bill_of_materials(), caveat=own.plan.caveat)
            if own.plan.spare_gpus:
                notes.append(f"bought as {own.plan.sold_as} ({own.plan.gpus_per_unit} GPUs per "
                             f"unit): {own.plan.spare_gpus} GPU{'' if own.plan.spare_gpus == 1 else 's'} spare")
            gpus_total = own.plan.n_gpus_bought
        else:
            total, paid, gpus_total = 0.0, gpus * constraints.horizon_hours, gpus
        capex = extra.pop("capex_usd", 0.0)
        row = _row(option=f"{label} self-hosted", kind="self-hosted", provider="self-hosted",
                   offer_id=f"{gpu_id}-{constraints.hardware_condition}", replicas=replicas,
                   utilization=busy, notes="; ".join(notes), segment=segment, **extra)
        finish(row, fails, total, paid, gpus_total, k, capex)

    for o in offer_rows.get(gpu_id, []):
        fails = []
        notes = [quality] if quality else []
        if o.get("origin") == "user":
            notes.insert(0, USER_PRICE_NOTE)
        if constraints.privacy:
            fails.append("privacy: the data would leave your infrastructure")
        if constraints.data_residency and not _residency_ok(o["region"], constraints.data_residency):
            fails.append(f"data_residency: offer region {o['region']!r} is not "
                         f"{constraints.data_residency!r}")
        per_gpu = int(o["gpus_per_instance"]) == 1
        if per_gpu:
            inst_gpus, per_inst = n, 1
            if n > MAX_GPUS_PER_MACHINE:
                fails.append(f"interconnect: a replica needs {n} GPUs in one machine")
            elif n > 1:
                notes.append(f"assumes {o['provider']} rents {n} of these GPUs together in one "
                             f"machine (the catalog lists a 1-GPU offer)")
        elif n > int(o["gpus_per_instance"]):
            inst_gpus, per_inst = int(o["gpus_per_instance"]), 1
            fails.append(f"interconnect: a replica needs {n} GPUs in one instance; this "
                         f"instance has {inst_gpus}")
        else:
            inst_gpus = int(o["gpus_per_instance"])
            per_inst = inst_gpus // n
        inst_price = float(o["usd_per_gpu_hour"]) * inst_gpus
        spot = o["pricing"] == "spot"
        a = constraints.spot_availability if spot else constraints.replica_availability
        # An instance is the unit that fails (replicas sharing it go down together): spares
        # are whole instances, by the same binomial rule as replicas.
        n_inst = math.ceil(plan.n_peak / per_inst)
        k = spares_needed(n_inst, constraints.availability, a)
        if k is None:
            fails.append(f"availability: {o['pricing']} instances (assumed up {a:.0%}) cannot "
                         f"reach {constraints.availability:.2%}")
            k = 0
        reserved = o["pricing"] == "reserved"
        if reserved or not constraints.cloud_autoscale:
            inst_h = np.full(24, n_inst + k)
        else:
            inst_h = np.ceil(needed / per_inst).astype(int) + k
        if reserved:
            months = max(constraints.horizon_months, float(o["commitment_months"]))
            if o["commitment_months"] > constraints.horizon_months:
                notes.append(f"pays the {o['commitment_months']}-month commitment, longer than "
                             "the horizon")
            total = int(inst_h.max()) * inst_price * months * HOURS_PER_MONTH
            paid = int(inst_h.max()) * inst_gpus * months * HOURS_PER_MONTH
        else:
            total = float(inst_h.sum()) * inst_price * days
            paid = float(inst_h.sum()) * inst_gpus * days
        total += constraints.cloud_operations_usd_per_year * constraints.horizon_months / 12.0
        spare_replicas = k * per_inst
        used = (plan.n_peak + spare_replicas) * n
        billed = int(inst_h.max()) * inst_gpus
        if not per_gpu and used < billed:
            notes.append(f"{inst_gpus}-GPU instances: {used} of {billed} GPUs used at peak")
        if spot:
            notes.append("spot: may be interrupted")
        busy_gpu_h = busy_replica_h_per_day * n * days
        n_peak_inst = int(inst_h.max())
        plural = "s" if n_peak_inst > 1 else ""
        what = (f"{n_peak_inst} GPU{plural}" if per_gpu and inst_gpus == 1
                else f"{n_peak_inst} x {inst_gpus}-GPU instance{plural}")
        row = _row(option=f"{label} @ {o['id']}", kind="cloud", provider=o["provider"],
                   offer_id=o["id"], replicas=plan.n_peak + spare_replicas,
                   utilization=min(1.0, busy_gpu_h / paid) if paid else None,
                   notes="; ".join(notes), segment="cloud", n_gpus_bought=billed,
                   spare_gpus=max(billed - used, 0), caveat="",
                   staff_usd_per_year=constraints.cloud_operations_usd_per_year,
                   bill_of_materials=f"rented: {what} of {o['id']} at the peak hour")
        finish(row, fails, total, paid, billed, spare_replicas)
    return out


_KIND_ORDER = {"self-hosted": 0, "cloud": 1, "api": 2, "hardware": 3}


def _cost_driver(a: Mapping, b: Mapping) -> str:
    """Why option ``b`` is cheaper than option ``a``, in a clause."""
    if b["kind"] == "api" and a["kind"] != "api":
        return (f"#1 is a hosted API billed per token ({b['usd_per_million_tokens']:.3g} USD/1M), "
                f"while this pays for {a['gpus_total']} GPU{'' if a['gpus_total'] == 1 else 's'} busy "
                f"{a['utilization']:.0%} of the time")
    if a["kind"] == "api":
        if b["kind"] == "api":
            return (f"its tokens cost {a['usd_per_million_tokens']:.3g} USD/1M vs "
                    f"{b['usd_per_million_tokens']:.3g}")
        return (f"token pricing ({a['usd_per_million_tokens']:.3g} USD/1M) costs more than "
                f"{b['gpus_total']} GPU{'' if b['gpus_total'] == 1 else 's'} at {b['utilization']:.0%} utilization")
    gh_a = a["total_usd"] / a["usd_per_gpu_hour"]
    gh_b = b["total_usd"] / b["usd_per_gpu_hour"]
    parts = []
    if gh_a > 1.05 * gh_b:
        extra = ""
        if a["notes"] and "GPUs used at peak" in a["notes"]:
            extra = ", part of the instance idle"
        elif a["replicas"] and b["replicas"] and a["replicas"] > b["replicas"]:
            extra = f", {a['replicas']} replicas vs {b['replicas']}"
        if a["gpus_total"] == b["gpus_total"] and not extra:
            # same GPUs at the peak hour: the difference is how long they are paid for
            parts.append(f"{gh_a / gh_b:.1f}x the GPU-hours ({gh_a:,.0f} vs {gh_b:,.0f}, "
                         f"{a['gpus_total']} GPUs at the peak hour in both)")
        else:
            parts.append(f"{gh_a / gh_b:.1f}x the GPU-hours ({a['gpus_total']} GPUs vs "
                         f"{b['gpus_total']}{extra})")
    if a["usd_per_gpu_hour"] > 1.05 * b["usd_per_gpu_hour"]:
        how = {"self-hosted": "owned", "cloud": "rented"}
        parts.append(f"{a['usd_per_gpu_hour']:.3g} USD per GPU-hour {how[a['kind']]} vs "
                     f"{b['usd_per_gpu_hour']:.3g} {how[b['kind']]}")
    if not parts:
        return "about the same GPU-hours at about the same price"
    return " and ".join(parts)


def _finish(rows: list[dict], workload: Workload, constraints: Constraints,
            sort_by: str) -> pd.DataFrame:
    for r in rows:
        r["feasible"] = not r["fails"]
    ok = [r for r in rows if r["feasible"]]
    bad = [r for r in rows if not r["feasible"]]
    ok.sort(key=lambda r: (r[sort_by], r["e2e_s"] if r["e2e_s"] is not None else math.inf,
                           r["option"]))
    bad.sort(key=lambda r: (_KIND_ORDER.get(r["kind"], 9), r["total_usd"] or 0.0, r["option"]))
    # Pareto frontier of cost against latency (rows whose latency is modelled).
    best_e2e = math.inf
    for r in ok:
        e2e = r["e2e_s"]
        r["pareto"] = e2e is not None and e2e < best_e2e - 1e-12
        if r["pareto"]:
            best_e2e = e2e
    for i, r in enumerate(ok):
        r["rank"] = i + 1
        if i == 0:
            if r["kind"] == "api":
                r["why"] = (f"cheapest option meeting every constraint: tokens at "
                            f"{r['usd_per_million_tokens']:.3g} USD/1M (latency not modelled)")
            else:
                r["why"] = (f"cheapest option meeting every constraint; a replica is limited by "
                            f"{r['limit']}; {r['sized_by']}")
            continue
        top = ok[0]
        ratio = r["total_usd"] / top["total_usd"] if top["total_usd"] > 0 else 1.0
        if ratio < 2:
            text = f"costs {(ratio - 1) * 100:.0f}% more than #1: {_cost_driver(r, top)}"
        else:  # "9304% more" reads worse than "94 times"
            text = f"costs {ratio:.3g} times as much as #1: {_cost_driver(r, top)}"
        if r["pareto"]:
            cheaper_api = any(o["kind"] == "api" for o in ok[:i])
            text += ("; on the cost-latency frontier (faster than every cheaper option whose "
                     "latency is modelled; cheaper hosted APIs are not compared on latency)"
                     if cheaper_api else
                     "; on the cost-latency frontier (faster than every cheaper option)")
        elif r["e2e_s"] is not None:
            dom = next((o for o in ok[:i] if o["e2e_s"] is not None and o["e2e_s"] <= r["e2e_s"]),
                       None)
            if dom is not None:
                text += f"; #{dom['rank']} is cheaper and at least as fast"
        r["why"] = text
    for r in bad:
        r["rank"] = None
        r["pareto"] = False
        r["fails"] = "; ".join(r["fails"])
        r["why"] = f"fails {r['fails'].split(':')[0]}"
    for r in ok:
        r["fails"] = ""
    df = pd.DataFrame(ok + bad, columns=list(COLUMNS))
    for col in ("rank", "n_gpus", "replicas", "spares", "gpus_total", "max_batch_size",
                "n_gpus_bought", "spare_gpus"):
        df[col] = pd.array([None if v is None or (isinstance(v, float) and math.isnan(v))
                            else int(v) for v in df[col]], dtype="Int64")
    for col in ("batch_size", "capacity_requests_per_s", "utilization", "ttft_s", "tpot_s",
                "e2e_s", "usd_per_gpu_hour", "usd_per_hour", "total_usd",
                "usd_per_million_tokens", "capex_usd", "running_usd_per_year", "gpu_usd",
                "host_usd", "networking_setup_usd", "capital_usd_per_year", "power_usd_per_year",
                "colocation_usd_per_year", "maintenance_usd_per_year", "staff_usd_per_year",
                "total_usd_low", "total_usd_high"):
        df[col] = pd.to_numeric(df[col], errors="coerce").astype(float)
    for col in ("total_usd_low", "total_usd_high"):  # rented GPUs and APIs: one catalog price
        df[col] = df[col].where(df[col].notna() | (df["kind"] == "self-hosted"), df["total_usd"])
    df["pareto"] = df["pareto"].astype(bool)
    df["feasible"] = df["feasible"].astype(bool)
    df = df.fillna({"fails": "", "notes": "", "why": "", "provider": "", "offer_id": "",
                    "sized_by": "", "limit": "", "latency_source": "", "segment": "",
                    "bill_of_materials": "", "caveat": ""})
    df.attrs["workload"] = workload
    df.attrs["constraints"] = constraints
    return df


_RELAX = {
    "privacy": "allow cloud or API options (privacy=false) or allow self-hosted hardware",
    "data_residency": "choose offers in that region or allow self-hosted hardware",
    "precision": "allow a precision the GPUs support (int8/int4 run anywhere)",
    "parallelism": "allow a GPU count that divides the model's attention heads",
    "context window": "shorten input_tokens + output_tokens to the model's context window",
    "interconnect": "choose offers with enough GPUs per instance",
}


def _explain_infeasible(table: pd.DataFrame, plans: Mapping, workload: Workload,
                        constraints: Constraints) -> str:
    """One line: which constraint binds, and what would relax it."""
    fails = [f for f in table["fails"] if f]
    if not fails:
        return "no option to consider: check allow_cloud/allow_self_hosted/allow_api and gpus"
    kinds = [[part.split(":")[0].strip() for part in f.split("; ")] for f in fails]
    single = [k[0] for k in kinds if len(k) == 1]
    pool = single or [k for ks in kinds for k in ks]
    counts = pd.Series(pool).value_counts()
    order = ("budget", "slo", "max_gpus", "availability", "privacy", "data_residency",
             "memory capacity", "interconnect", "price")
    binding = next((k for k in order if k in counts.index), counts.index[0])
    slo = constraints.slo
    if binding == "budget":
        over = table[table["fails"].str.startswith("budget") & ~table["fails"].str.contains("; ")]
        best = over.sort_values("capex_usd").iloc[0] if len(over) else table.sort_values(
            "capex_usd").iloc[0]
        return (f"contradictory constraints: budget_usd={constraints.budget_usd:,.0f} is below the "
                f"smallest up-front spend among the options meeting the other constraints "
                f"({best['option']}: {best['capex_usd']:,.0f} USD of hardware); raise the budget "
                f"to at least that, or allow rented GPUs or APIs")
    if binding == "slo":
        floors = {}
        for plan in plans.values():
            for m, v in (plan.screen.get("relax") or {}).items():
                if m not in floors or v < floors[m][0]:
                    floors[m] = (v, _label(*plan.key))
        if floors:
            parts = [f"{m} p{slo.percentile:g} <= {getattr(slo, m):g} s (the fastest option, "
                     f"{who}, reaches {v:.3g} s even at light load)" for m, (v, who) in floors.items()]
            relax = "; ".join(f"relax {m.replace('_s', '')}_p{slo.percentile:g} to >= {v:.3g} s"
                              for m, (v, _) in floors.items())
            return (f"no option meets the latency SLO: binding: {', '.join(parts)}; {relax}, or "
                    f"allow faster GPUs, more GPUs per replica or a lower precision")
        sim = [f for f in fails if "simulat" in f]
        detail = sim[0] if sim else fails[0]
        return (f"no option meets the latency SLO at the peak rate ({detail}); relax the "
                f"targets or allow more GPUs per replica")
    if binding == "memory capacity":
        most = max(constraints.n_gpus_options)
        cap = ""
        if constraints.max_gpus is not None and constraints.max_gpus < most:
            most, cap = constraints.max_gpus, f" (max_gpus={constraints.max_gpus})"
        return (f"no GPU configuration holds {workload.model} with up to {most} GPUs per "
                f"replica{cap} at the allowed precisions; allow more GPUs per replica, int4/int8 "
                f"precision, or GPUs with more memory")
    if binding == "max_gpus":
        need = min(int(v) for v in table["gpus_total"].dropna()) if table["gpus_total"].notna().any() else 0
        return (f"every option needs more than max_gpus={constraints.max_gpus} GPUs (the smallest "
                f"needs {need}); raise max_gpus")
    if binding == "availability":
        return (f"availability {constraints.availability:.4%} cannot be reached; lower the target "
                f"or raise replica_availability")
    example = next(f for f in fails if f.startswith(binding))
    return (f"no option meets every constraint: binding: {example}; "
            f"{_RELAX.get(binding, 'relax that constraint')}")


def compare(flow: FlowchartResult, table: pd.DataFrame) -> pd.DataFrame:
    """The article's verdict beside the computed optimum.

    Parameters
    ----------
    flow : FlowchartResult
        From :func:`flowchart`.
    table : DataFrame
        From :func:`rank`.

    Returns
    -------
    DataFrame
        Rows ``deployment`` and ``gpu`` with columns ``article``, ``computed``, ``agree``
        and ``note`` (where the article's choice ranks in the computed table).
    """
    ok = table[table["feasible"]]
    if ok.empty:
        raise HwcostError("the table has no feasible option to compare with")
    best = ok.iloc[0]
    kind = best["kind"]
    deploy_agree = flow.deployment == "either" or flow.deployment == kind or (
        flow.deployment == "hybrid")
    same_kind = ok[ok["kind"] == flow.deployment] if flow.deployment in ("cloud", "self-hosted") else ok
    note_d = ""
    if not same_kind.empty and flow.deployment in ("cloud", "self-hosted"):
        r = same_kind.iloc[0]
        note_d = (f"the best option, #1, is {flow.deployment}" if r["option"] == best["option"] else
                  f"best {flow.deployment} option is #{int(r['rank'])} ({r['option']}), "
                  f"{r['total_usd'] / best['total_usd']:.2f}x the cost of #1")
    gpu_rows = ok[ok["gpu_id"].isin(flow.gpu_ids)]
    if gpu_rows.empty:
        gpu_note = f"no feasible option uses {', '.join(flow.gpu_ids)}"
        failing = table[table["gpu_id"].isin(flow.gpu_ids)]
        if not failing.empty:
            gpu_note += f" ({failing.iloc[0]['fails'].split(';')[0]})"
    else:
        r = gpu_rows.iloc[0]
        gpu_note = (f"the best option, #1, runs on {r['gpu_id']}" if r["option"] == best["option"] else
                    f"best option on {r['gpu_id']} is #{int(r['rank'])} ({r['option']}), "
                    f"{r['total_usd'] / best['total_usd']:.2f}x the cost of #1")
    return pd.DataFrame([
        {"question": "deployment", "article": flow.deployment, "computed": kind,
         "agree": bool(deploy_agree), "note": note_d},
        {"question": "gpu", "article": flow.gpu,
         "computed": f"{best['gpu_id']} x{best['n_gpus']}" if best["kind"] != "api" else "API",
         "agree": bool(best["gpu_id"] in flow.gpu_ids), "note": gpu_note},
    ])


# Where owned hardware runs when Constraints.energy_id is not given: datacenter GPUs (SXM/OAM
# servers, 700 W parts) in a colocation facility, consumer and workstation cards in an office.
DATACENTER_ENERGY_ID = "us-industrial-colo"
OFFICE_ENERGY_ID = "us-commercial"


@dataclass(frozen=True)
class StaffSensitivity:
    """How the best option of each kind moves with the staff time for owned hardware.

    Attributes
    ----------
    lines : DataFrame
        ``staff_fraction`` [1], ``kind``, ``total_usd`` [USD]: the best option of each kind
        over the horizon at each staff share (only the self-hosted line moves).
    self_hosted_without_staff_usd : float
        The best owned option's total with no staff time. [USD]
    crossover : dict
        ``{kind: staff fraction}`` at which the best owned option costs as much as the best
        option of that kind; negative when that kind is cheaper even with no staff. [1]
    """

    lines: pd.DataFrame
    self_hosted_without_staff_usd: float
    crossover: Mapping[str, float]


def staff_sensitivity(table: pd.DataFrame, staff_fractions=None, *,
                      wage_usd_per_year: float = ADMIN_WAGE_USD_PER_YEAR,
                      wage_share: float = WAGE_SHARE_OF_COMPENSATION) -> StaffSensitivity:
    """Best owned option against a flat staff share for its deployment, other kinds fixed.

    The best owned option of the ranking is kept (its hardware, power and colocation); its
    staff cost (the ``staff_usd_per_year`` it was ranked with: a base share plus a share per
    box, or a flat amount) is replaced by ``operations_usd_per_year(f) x horizon`` for each
    share ``f`` of one administrator. Fleets of many boxes were ranked with more staff than
    small ones, so another owned option may lead at a different share: rerun :func:`rank`
    with ``staff_per_box_fraction`` to see that.

    Parameters
    ----------
    table : DataFrame
        From :func:`rank` (its ``attrs["constraints"]`` give the horizon and the staff cost
        it was ranked with); must hold a feasible self-hosted option.
    staff_fractions : array_like, optional
        Shares of one administrator to evaluate; default 0 to 0.3 in steps of 0.01. [1]
    wage_usd_per_year, wage_share
        As in :func:`operations_usd_per_year`.

    Returns
    -------
    StaffSensitivity
    """
    c = table.attrs.get("constraints")
    if not isinstance(c, Constraints):
        raise HwcostError("table must come from recommend.rank (its attrs hold the constraints)")
    best = best_by_kind(table).set_index("kind")["total_usd"]
    if "self-hosted" not in best.index:
        raise HwcostError("the table has no feasible self-hosted option")
    years = c.horizon_months / 12.0
    ok = table[table["feasible"] & (table["kind"] == "self-hosted")]
    hw = float(best["self-hosted"] - float(ok.iloc[0]["staff_usd_per_year"]) * years)
    f = np.linspace(0.0, 0.3, 31) if staff_fractions is None else np.asarray(staff_fractions, float)
    per_year = operations_usd_per_year(f, wage_usd_per_year=wage_usd_per_year, wage_share=wage_share)
    frames = [pd.DataFrame({"staff_fraction": f, "kind": k,
                            "total_usd": hw + per_year * years if k == "self-hosted" else float(v)})
              for k, v in best.items()]
    unit = operations_usd_per_year(1.0, wage_usd_per_year=wage_usd_per_year, wage_share=wage_share)
    cross = {k: float((v - hw) / years / unit) for k, v in best.items()
             if k != "self-hosted"} if unit > 0 else {}
    return StaffSensitivity(pd.concat(frames, ignore_index=True), hw, cross)


# ----------------------------------------------------------------------------------------
# One case from notebook-style parameters, and readable views of a ranking
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case(_BaseCase):
    """A :class:`hwcost.requirements.Case` that can run the article's flowchart and the ranking.

    Attributes
    ----------
    workload : Workload
    constraints : Constraints
    traffic_pattern : str or None
        ``stable``, ``variable`` or ``baseline-plus-bursts`` (weeks-scale shape, for the
        article's "when to use" rules).
    source : str
        ``parameters`` or ``scenario <name>``.
    """

    @classmethod
    def of(cls, base: _BaseCase) -> "Case":
        """The same case, with :meth:`flowchart` and :meth:`rank`."""
        return cls(base.workload, base.constraints, base.traffic_pattern, base.source)

    def flowchart(self, thresholds: Thresholds | None = None, **conditions) -> FlowchartResult:
        """:func:`flowchart` for this case.

        The article's "latency SLA" is read as the tightest response-start target: the TTFT
        target, else the end-to-end target, else the TPOT target. ``conditions`` are the
        qualitative inputs of :func:`flowchart` (``ops_expertise=False``, ...).
        """
        slo = self.constraints.slo
        sla = next((v for v in (slo.ttft_s, slo.e2e_s, slo.tpot_s) if v is not None), None)
        return flowchart(self.workload.requests_per_day, self.workload.model, latency_sla_s=sla,
                         availability=self.constraints.availability,
                         privacy=self.constraints.privacy,
                         horizon_months=self.constraints.horizon_months,
                         traffic_pattern=self.traffic_pattern,
                         thresholds=Thresholds() if thresholds is None else thresholds,
                         **conditions)

    def rank(self, **kwargs) -> pd.DataFrame:
        """:func:`rank` for this case (``kwargs`` go to :func:`rank`)."""
        return rank(self.workload, self.constraints, **kwargs)


def case(model: str = "llama-3.1-70b", requests_per_day: float = 2000.0,
         input_tokens: int = 512, output_tokens: int = 128, *, daily_profile: str = "flat",
         traffic_pattern: str | None = None, ttft_s: float | None = None,
         tpot_s: float | None = None, e2e_s: float | None = None, percentile: float = 95,
         availability: float = 0.99, privacy: bool = False, horizon_months: float = 12.0,
         budget_usd: float | None = None, scenario: str | None = None,
         **constraint_fields) -> Case:
    """Build a :class:`Case` from a notebook's parameters, or from a scenario file.

    Parameters
    ----------
    model, requests_per_day, input_tokens, output_tokens
        The workload (catalog model id; [1/day]; [tokens]).
    daily_profile : {"flat", "business-hours"}
        Hour-by-hour shape of the day.
    traffic_pattern : {"stable", "variable", "baseline-plus-bursts"}, optional
        Weeks-scale shape, used by the article's rules only.
    ttft_s, tpot_s, e2e_s : float, optional
        Latency targets at ``percentile``. [s]
    availability, privacy, horizon_months
        As in :class:`Constraints`.
    budget_usd : float, optional
        Cap on total cost over the horizon; None or 0 = no cap. [USD]
    scenario : str, optional
        Name of a bundled scenario (``data/scenarios``) or a YAML path; ``None``, ``""`` or
        ``"none"`` for none. With a scenario, the scenario's case is the base of
        :func:`hwcost.requirements.build_case`: its workload, SLO and constraints replace the
        parameters above (a notebook passes every parameter, so none counts as given), and
        ``constraint_fields`` apply only to the fields the scenario leaves at their defaults.
    **constraint_fields
        Any other :class:`Constraints` field (``operations_usd_per_year=...``).

    Returns
    -------
    Case
    """
    from . import scenario as scenario_mod

    if scenario is not None and str(scenario).strip().lower() not in ("", "none"):
        sc = scenario_mod.load(str(scenario).strip())
        from dataclasses import fields as dataclass_fields

        defaults = Constraints()
        workload_defaults = {f.name: f.default for f in dataclass_fields(type(sc.workload))}

        def left_at_default(name):  # a Constraints field, or a workload field (batch window)
            if hasattr(defaults, name):
                return getattr(sc.constraints, name) == getattr(defaults, name)
            return name in workload_defaults and getattr(sc.workload, name) == workload_defaults[name]

        keep = {k: v for k, v in constraint_fields.items() if left_at_default(k)}
        return Case.of(build_case(sc.case, traffic_pattern=traffic_pattern, **keep))
    return Case.of(build_case(
        model=model, requests_per_day=requests_per_day, input_tokens=input_tokens,
        output_tokens=output_tokens, daily_profile=daily_profile, traffic_pattern=traffic_pattern,
        ttft_s=ttft_s, tpot_s=tpot_s, e2e_s=e2e_s, percentile=percentile,
        availability=availability, privacy=privacy, horizon_months=horizon_months,
        budget_usd=0 if budget_usd is None else budget_usd, **constraint_fields))


def distinct(table: pd.DataFrame) -> pd.DataFrame:
    """Drop rows that repeat a better-ranked row in everything but the precision label.

    bf16 and fp16 of one configuration cost and perform the same; the first (better
    ranked) of such rows is kept. Order is preserved.
    """
    key = table[["kind", "provider", "offer_id", "gpu_id", "n_gpus", "engine"]].astype(str)
    for col in ("total_usd", "ttft_s", "tpot_s"):
        key[col] = table[col].round(6).astype(str)
    return table[~key.duplicated()]


SUMMARY_COLUMNS = {
    "rank": "rank", "option": "option", "kind": "kind", "total_usd": "total_usd",
    "usd_per_million_tokens": "usd_per_million_tokens", "ttft_s": "ttft_p95_s",
    "tpot_s": "tpot_p95_s", "gpus_total": "gpus_total", "utilization": "utilization",
    "limit": "limit",
}


def summary(table: pd.DataFrame, n: int | None = 8, *, why: bool = False) -> pd.DataFrame:
    """The leading rows of a :func:`rank` table, rounded, for reading.

    Columns: :data:`SUMMARY_COLUMNS` (latencies renamed with the SLO percentile, ``ttft_p95_s``
    at the default 95), plus ``why`` when asked. Latencies that are not modelled (APIs) read
    ``not modelled``; GPU counts and utilization of APIs read ``-`` (an API bills tokens, so
    nothing paid for sits idle; its 1.0 in :func:`rank` is not a measured load). No NaN is
    left.
    """
    rows = table if n is None else table.head(n)
    cols = dict(SUMMARY_COLUMNS)
    c = table.attrs.get("constraints")
    if c is not None:
        q = f"{c.slo.percentile:g}"
        cols.update(ttft_s=f"ttft_p{q}_s", tpot_s=f"tpot_p{q}_s")
    out = rows[list(cols) + (["why"] if why else [])].rename(columns=cols).copy()
    out["total_usd"] = out["total_usd"].round(0).astype("int64")
    out["usd_per_million_tokens"] = out["usd_per_million_tokens"].round(3)
    out["utilization"] = ["-" if k == "api" or pd.isna(v) else round(float(v), 3)
                          for v, k in zip(out["utilization"], rows["kind"])]
    for col in (cols["ttft_s"], cols["tpot_s"]):
        out[col] = [("not modelled" if k == "api" else "n/a") if pd.isna(v) else round(float(v), 3)
                    for v, k in zip(out[col], rows["kind"])]
    for col in ("rank", "gpus_total"):
        out[col] = [("-" if pd.isna(v) else int(v)) for v in out[col]]
    return out.reset_index(drop=True)


def best_by_kind(table: pd.DataFrame) -> pd.DataFrame:
    """The best-ranked feasible option of each kind (self-hosted, cloud, api), by rank."""
    ok = table[table["feasible"]]
    return ok.groupby("kind", sort=False).head(1).sort_values("rank")


def pareto_front(table: pd.DataFrame, latency: str = "ttft_s") -> pd.Series:
    """Feasible options on the frontier of total cost against one latency.

    An option is on the frontier when no other feasible option is at most as costly and
    strictly faster, or strictly cheaper and at most as slow. Options whose latency is not
    modelled (APIs) are never on it.

    Parameters
    ----------
    table : DataFrame
        From :func:`rank`.
    latency : {"ttft_s", "tpot_s", "e2e_s"}
        The latency column (at the SLO percentile). [s]

    Returns
    -------
    pandas.Series of bool
        Aligned with ``table``.
    """
    if latency not in ("ttft_s", "tpot_s", "e2e_s"):
        raise HwcostError(f"latency must be ttft_s, tpot_s or e2e_s, got {latency!r}")
    out = pd.Series(False, index=table.index)
    ok = table[table["feasible"] & table[latency].notna()]
    order = ok.sort_values(["total_usd", latency], kind="stable")
    best = math.inf
    for idx, lat in zip(order.index, order[latency]):
        if lat < best - 1e-12:
            out[idx] = True
            best = lat
    return out


# Names the ``fails`` column starts a failure with (``"<constraint>: <detail>"``).
CONSTRAINT_NAMES = ("memory capacity", "precision", "parallelism", "context window", "slo",
                    "privacy", "data_residency", "interconnect", "availability", "budget",
                    "max_gpus", "price")


def _split_fails(fails: str) -> dict[str, str]:
    """``{constraint: detail}`` from a ``fails`` text (details may contain "; " too)."""
    out: dict[str, str] = {}
    last = None
    for part in (p for p in str(fails).split("; ") if p):
        name, _, detail = part.partition(":")
        name = name.strip()
        if name in CONSTRAINT_NAMES or last is None:
            if name not in out:
                out[name] = detail.strip()
            last = name
        else:
            out[last] += "; " + part
    return out


def failures_by_constraint(table: pd.DataFrame) -> pd.DataFrame:
    """Options that fail a hard constraint, grouped by the constraint.

    Returns
    -------
    DataFrame
        One row per constraint (``privacy``, ``memory capacity``, ``slo``, ``budget``, ...):
        ``options`` (rows failing it, alone or with others), ``only_this`` (rows failing
        nothing else: relaxing this constraint alone would admit them), ``kinds`` (which
        kinds of option), ``example`` and ``reason`` (one failing row). Sorted by
        ``options``, largest first.
    """
    rows = []
    bad = table[~table["feasible"]]
    for option, kind, fails in zip(bad["option"], bad["kind"], bad["fails"]):
        found = _split_fails(fails)
        for name, reason in found.items():
            rows.append({"constraint": name, "option": option, "kind": kind,
                         "only": len(found) == 1, "reason": reason})
    cols = ["constraint", "options", "only_this", "kinds", "example", "reason"]
    if not rows:
        return pd.DataFrame(columns=cols)
    df = pd.DataFrame(rows)
    out = df.groupby("constraint", sort=False).agg(
        options=("option", "size"), only_this=("only", "sum"),
        kinds=("kind", lambda k: ", ".join(sorted(set(k)))),
        example=("option", "first"), reason=("reason", "first")).reset_index()
    out["only_this"] = out["only_this"].astype(int)
    return out.sort_values(["options", "constraint"], ascending=[False, True],
                           kind="stable").reset_index(drop=True)[cols]


# ----------------------------------------------------------------------------------------
# The article's four deployment patterns (data in hwcost.article.patterns), ranked
# ----------------------------------------------------------------------------------------
def patterns(pattern_list=DEPLOYMENT_PATTERNS, *, simulate: bool = False,
             **constraint_fields) -> pd.DataFrame:
    """Rank each deployment pattern's preset and set its optimum beside the article's advice.

    Parameters
    ----------
    pattern_list : sequence of Pattern
        Default: :data:`DEPLOYMENT_PATTERNS`.
    simulate : bool
        Check the leading options with the serving simulator (slower); the analytic screen
        alone by default.
    **constraint_fields
        :class:`Constraints` fields applied to every preset (operations costs, energy...).

    Returns
    -------
    DataFrame
        One row per pattern (:data:`PATTERN_COLUMNS`): the computed #1 option, the best
        option on GPUs (cloud or self-hosted: the article's patterns leave hosted APIs
        out), the best option that follows the advice (its rank, and its cost relative to
        #1 and to the best GPU option; None when no feasible option follows it), and a
        ``verdict``: ``agrees`` (#1 follows the advice),
        ``close`` (the advised option within :data:`PATTERN_CLOSE` of #1), ``disagrees``,
        or ``no option follows the advice``.
    """
    rows = []
    for pat in pattern_list:
        w = dict(pat.workload)
        c = dict(pat.constraints, **constraint_fields)
        table = case(**w, **c).rank(strict=False, simulate=simulate)
        ok = table[table["feasible"]]
        top = ok.iloc[0] if len(ok) else None
        advised = ok[pat.follows_advice(ok)]
        gpu_ok = ok[ok["kind"] != "api"]
        best_gpu = gpu_ok.iloc[0] if len(gpu_ok) else None
        row = {"pattern": pat.title, "article_advice": pat.advice, "model": w["model"],
               "requests_per_day": float(w["requests_per_day"]),
               "top_option": top["option"] if top is not None else None,
               "top_kind": top["kind"] if top is not None else None,
               "top_total_usd": float(top["total_usd"]) if top is not None else None,
               "best_gpu_option": best_gpu["option"] if best_gpu is not None else None,
               "best_gpu_total_usd": float(best_gpu["total_usd"]) if best_gpu is not None else None,
               "advised_option": None, "advised_rank": None, "advised_total_usd": None,
               "advised_cost_ratio": None, "advised_vs_best_gpu": None}
        if len(advised):
            a = advised.iloc[0]
            ratio = float(a["total_usd"] / top["total_usd"])
            row.update(advised_option=a["option"], advised_rank=int(a["rank"]),
                       advised_total_usd=float(a["total_usd"]), advised_cost_ratio=ratio,
                       advised_vs_best_gpu=float(a["total_usd"] / best_gpu["total_usd"]))
            row["verdict"] = ("agrees" if int(a["rank"]) == 1 else
                              "close" if ratio <= PATTERN_CLOSE else "disagrees")
        else:
            row["verdict"] = "no option follows the advice"
        rows.append(row)
    df = pd.DataFrame(rows, columns=list(PATTERN_COLUMNS))
    df["advised_rank"] = df["advised_rank"].astype("Int64")
    return df
