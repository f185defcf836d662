"""What serving costs: cloud rental, owned hardware (TCO) and hosted APIs, per token.

This module knows nothing of FLOPs or bandwidth: it takes throughput (``tokens_per_s``,
``output_tokens_per_s``, usually from :mod:`hwcost.perf`) and prices.

Units are always in the names: ``usd_per_hour``, ``usd_per_gpu_hour``, ``usd_per_kwh``,
``usd_per_million_tokens``, ``tokens_per_s``. Time constants: one year is 8,760 h (365 days),
one month 730 h (a twelfth of a year).

Contents
--------
Core
    :func:`cost_per_million_tokens`, :func:`utilization`, :func:`billed_seconds`,
    :func:`power_usd_per_hour`, :func:`bundle_usd_per_gpu_hour`.
The request view
    :class:`Deployment` + :class:`~hwcost.workload.Workload` -> :func:`request_cost` ->
    :class:`RequestCost` (per request, per day, per million tokens, utilization derived from
    volume against capacity; always-on, hourly autoscaling or scale-to-zero with a cold start).
Cloud
    :class:`CloudRate`, :func:`cloud_rate` (catalog lookup), :func:`cloud_offers`.
Self-hosting
    :class:`SelfHostedTCO` -> :func:`self_hosted_tco` -> :class:`TCOResult`;
    :func:`tco_inputs_from_catalog`; :func:`break_even`; :func:`npv`.
Utilization of owned hardware
    :func:`average_load`, :func:`self_hosted_usd_per_busy_gpu_hour`,
    :func:`break_even_curve`, :func:`break_even_utilization`.
API
    :class:`ApiPrice`, :func:`api_price`, :func:`api_prices_for`, :func:`api_request_cost`,
    :func:`api_crossover`, :func:`api_crossovers`, :func:`api_offers_for_class`,
    :func:`api_crossovers_for_offers`, :func:`monthly_cost_curve`.
Owning a fleet (the one cost-of-ownership model used by recommend, the notebooks, the CLI
and the article audit)
    :func:`purchase_plan` -> :class:`PurchasePlan` (GPUs rounded up to whole purchase units:
    cards, 4/8-GPU boards, NVL72 racks; boxes, racks, kW; bill of materials);
    :func:`ownership_cost` -> :class:`OwnershipCost` (capex up front, running cost per year,
    every component, staff per box, colocation per kW-month); :func:`ownership_cost_range`
    (low / typical / high catalog values).
Hybrid and refresh
    :func:`hybrid_cost`, :func:`hybrid_sweep`, :func:`refresh_comparison`.
Staff
    :func:`operations_usd_per_year` (a share of one administrator's time, BLS wage grossed
    up to total compensation); :data:`SELF_HOSTED_STAFF_FRACTION` (0.10, owned hardware) and
    :data:`CLOUD_STAFF_FRACTION` (0.05, a serving stack on rented GPUs) are the defaults used
    by :mod:`hwcost.recommend` and :func:`hwcost.seed.corrected_options`.
Uncertainty
    :class:`Range`, :func:`sample`, :func:`monte_carlo`, :func:`tornado`.

Bad input (a price <= 0, a utilization outside (0, 1], an amortization of 0 years, a range
with low > high, an unknown provider or GPU) raises ``ValueError`` naming the value. No
function returns NaN or infinity: where an answer does not exist (self-hosting never breaks
even) the result says so in a ``reached`` flag and a ``reason``.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np
import pandas as pd

from . import catalog, validate
from .errors import HwcostError
from .staffing import (  # noqa: F401  (re-exported: staffing is part of the cost model)
    ADMIN_WAGE_USD_PER_YEAR,
    CLOUD_STAFF_FRACTION,
    SELF_HOSTED_STAFF_FRACTION,
    STAFF_BASE_FRACTION,
    STAFF_PER_BOX_FRACTION,
    WAGE_SHARE_OF_COMPENSATION,
    operations_usd_per_year,
)
from .units import HOURS_PER_DAY, HOURS_PER_MONTH, HOURS_PER_YEAR, SECONDS_PER_DAY, SECONDS_PER_HOUR  # noqa: F401
from .workload import Workload

TOKENS_PER_MILLION = 1e6

BILLING_MODES = ("always-on", "autoscale", "scale-to-zero")
PRICING = ("on-demand", "spot", "reserved")


# ----------------------------------------------------------------------------------------
# Validation helpers (scalars or numpy arrays; never let NaN or inf through)
# ----------------------------------------------------------------------------------------
def _num(name: str, value, *, low: float | None = 0.0, low_open: bool = True,
         high: float | None = None, high_open: bool = False, what: str | None = None):
    """Validate a number or array; return float for scalars and float ndarray otherwise."""
    return validate.number(name, value, low=low, low_open=low_open, high=high,
                           high_open=high_open, rule=what, array=True)


def _positive(name, value):
    return validate.positive(name, value, array=True)


def _non_negative(name, value):
    return validate.non_negative(name, value, array=True)


def _fraction(name, value):
    """A share in (0, 1], such as a utilization."""
    return validate.fraction(name, value, array=True)


def _share(name, value):
    """A share in [0, 1], such as a resale fraction."""
    return validate.fraction(name, value, allow_zero=True, array=True)


def _count(name, value, minimum: int = 1) -> int:
    """A whole number >= ``minimum`` (0 or 1)."""
    return validate.non_negative_int(name, value) if minimum == 0 else \
        validate.positive_int(name, value)


def _choice(name, value, choices):
    return validate.choice(name, value, choices)


def _out(x):
    """Return a float for 0-d results, an ndarray otherwise; never an infinity.

    Inputs each within their rules can still multiply past the floating-point range (a price
    of 1e300 USD over 1e300 hours): that is refused rather than returned as ``inf``.
    """
    arr = np.asarray(x, dtype=float)
    if np.isinf(arr).any():
        raise HwcostError("the inputs give a result beyond the floating-point range (about "
                          "1.8e308); check the magnitudes of prices, hours and token rates")
    return float(arr) if arr.ndim == 0 else arr


# ----------------------------------------------------------------------------------------
# Core formulas
# ----------------------------------------------------------------------------------------
def cost_per_million_tokens(hourly_usd, tokens_per_s, utilization=1.0):
    """Cost of one million tokens on hardware billed by the hour.

    ``usd_per_million_tokens = hourly_usd / (3600 * tokens_per_s * utilization) * 1e6``

    Parameters
    ----------
    hourly_usd : float or array
        Price of the hardware for one hour (one GPU-hour, or the whole replica). [USD/h]
    tokens_per_s : float or array
        Tokens produced per second by that hardware while busy. [tokens/s]
    utilization : float or array
        Share of paid hours the hardware is busy, in (0, 1]. [-]

    Returns
    -------
    float or ndarray
        Cost of one million tokens. [USD/1M tokens]

    Examples
    --------
    >>> round(cost_per_million_tokens(2.69, 600), 3)
    1.245
    """
    h = _positive("hourly_usd", hourly_usd)
    t = _positive("tokens_per_s", tokens_per_s)
    u = _fraction("utilization", utilization)
    with np.errstate(over="ignore"):  # _out refuses what overflows, with a clear message
        cost = np.asarray(h) / (SECONDS_PER_HOUR * np.asarray(t) * np.asarray(u)) * TOKENS_PER_MILLION
    return _out(cost)


def utilization(requests_per_day, tokens_per_request, tokens_per_s):
    """Share of the day a server is busy: work per day over capacity per day.

    ``utilization = requests_per_day * tokens_per_request / (86400 * tokens_per_s)``

    Parameters
    ----------
    requests_per_day : float or array
        Requests served per day. [1/day]
    tokens_per_request : float or array
        Tokens per request counted at the rate ``tokens_per_s``. [tokens]
    tokens_per_s : float or array
        Throughput of the server. [tokens/s]

    Returns
    -------
    float or ndarray
        Busy share of the day. [-] Values above 1 mean one server cannot keep up.
    """
    r = _positive("requests_per_day", requests_per_day)
    n = _positive("tokens_per_request", tokens_per_request)
    t = _positive("tokens_per_s", tokens_per_s)
    return _out(np.asarray(r) * np.asarray(n) / (SECONDS_PER_DAY * np.asarray(t)))


def billed_seconds(seconds, granularity_s=1.0, minimum_s=0.0):
    """Time billed for a session: rounded up to the billing granularity, with a minimum.

    Parameters
    ----------
    seconds : float or array
        Time the instance ran. [s]
    granularity_s : float
        Billing increment: 1 = per second, 60 = per minute, 3600 = per hour. [s]
    minimum_s : float
        Minimum charge per session. [s]

    Returns
    -------
    float or ndarray
        Billed time. [s]
    """
    s = _non_negative("seconds", seconds)
    g = _positive("granularity_s", granularity_s)
    m = _non_negative("minimum_s", minimum_s)
    # the small epsilon keeps 3600.0000001 from being billed as two hours
    units = np.ceil(np.asarray(s) / g - 1e-9)
    return _out(np.maximum(units * g, m))


def power_usd_per_hour(tdp_w, average_load=1.0, pue=1.0, usd_per_kwh=0.15):
    """Electricity cost of one device for one hour.

    ``usd_per_hour = tdp_w / 1000 * average_load * pue * usd_per_kwh``

    Parameters
    ----------
    tdp_w : float or array
        Board power (TDP/TBP) of the device, plus any host share you want counted. [W]
    average_load : float or array
        Average draw as a share of ``tdp_w`` over wall-clock time, in (0, 1]. An idle
        GPU draws roughly 10-20 % of TDP; a busy one 70-100 %. [-]
    pue : float or array
        Power usage effectiveness of the facility (facility power / IT power), >= 1. [-]
    usd_per_kwh : float or array
        Electricity price. [USD/kWh]

    Returns
    -------
    float or ndarray
        Cost of electricity per device-hour. [USD/h]

    References
    ----------
    The Green Grid, "PUE: a comprehensive examination of the metric", White Paper 49 (2012).
    """
    w = _positive("tdp_w", tdp_w)
    a = _fraction("average_load", average_load)
    p = _num("pue", pue, low=1.0, low_open=False, what="a finite number >= 1")
    e = _positive("usd_per_kwh", usd_per_kwh)
    return _out(np.asarray(w) / 1000.0 * np.asarray(a) * np.asarray(p) * np.asarray(e))


def bundle_usd_per_gpu_hour(usd_per_hour, gpus_per_instance):
    """Per-GPU price of a multi-GPU instance (an 8-GPU node at USD 49.24/h is 6.155/GPU-h).

    Parameters
    ----------
    usd_per_hour : float or array
        Price of the whole instance. [USD/h]
    gpus_per_instance : int
        GPUs in the instance. [-]

    Returns
    -------
    float or ndarray
        Price of one GPU-hour. [USD/h]
    """
    h = _positive("usd_per_hour", usd_per_hour)
    n = _count("gpus_per_instance", gpus_per_instance)
    return _out(np.asarray(h) / n)


def amortized_usd_per_hour(capex_usd, years, resale_usd=0.0, hours_per_year=HOURS_PER_YEAR):
    """Straight-line amortization of a purchase over its service life.

    ``(capex_usd - resale_usd) / (years * hours_per_year)``; the article's RTX 4090 line,
    USD 1,600 over 3 years = 26,280 h, is USD 0.0609/h.

    Parameters
    ----------
    capex_usd : float or array
        Purchase price. [USD]
    years : float or array
        Amortization period, > 0. [years]
    resale_usd : float or array
        Value recovered at the end, < ``capex_usd``. [USD]
    hours_per_year : float
        Hours the asset is counted per year (8,760 for always-on). [h]

    Returns
    -------
    float or ndarray
        Capital cost per hour. [USD/h]
    """
    c = _positive("capex_usd", capex_usd)
    y = _positive("years (amortization period)", years)
    r = _non_negative("resale_usd", resale_usd)
    if np.any(np.asarray(r) >= np.asarray(c)):
        raise HwcostError(f"resale_usd must be below capex_usd, got {resale_usd!r} >= {capex_usd!r}")
    h = _positive("hours_per_year", hours_per_year)
    return _out((np.asarray(c) - np.asarray(r)) / (np.asarray(y) * h))


# ----------------------------------------------------------------------------------------
# The request view: a workload served by a deployment
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Deployment:
    """Replicas of a model on GPUs, priced per GPU-hour, and how they are billed.

    Parameters
    ----------
    usd_per_gpu_hour : float
        Price of one GPU-hour (cloud rate, or the owned GPU's TCO). [USD/h]
    output_tokens_per_s : float
        Output tokens one replica produces per second at its operating batch, including the
        time spent on prefill (``perf.Estimate.output_tokens_per_s``). [tokens/s]
    n_gpus : int
        GPUs per replica (tensor parallel degree). [-]
    billing : str
        ``always-on`` (replicas run 24 h, enough for the busiest hour), ``autoscale``
        (replicas follow the hourly profile, each billed by the hour it runs, at least
        ``min_replicas``) or ``scale-to-zero`` (an instance starts when a request arrives and
        stops after ``idle_timeout_s`` without requests).
    billing_granularity_s : float
        Billing increment of one instance session: 1, 60 or 3600. [s]
    cold_start_s : float
        Time from instance start to serving (container + model load), billed but idle;
        requests arriving to a stopped instance wait this long. [s]
    idle_timeout_s : float
        Scale-to-zero: time an instance stays up after its last request. [s]
    single_request_s : float, optional
        Time one request occupies a replica when it is alone (``ttft_s + (output_tokens - 1)
        * tpot_s`` at batch 1). Used for scale-to-zero sessions. Default:
        ``output_tokens / output_tokens_per_s``.
    max_utilization : float
        Highest share of capacity a replica may be loaded to before another is added, in
        (0, 1]; below 1 leaves headroom for latency. [-]
    min_replicas : int, optional
        Replicas kept running at all times. Default 1 for ``always-on``, 0 otherwise. [-]
    label : str
        Name shown in tables.
    """

    usd_per_gpu_hour: float
    output_tokens_per_s: float
    n_gpus: int = 1
    billing: str = "always-on"
    billing_granularity_s: float = 1.0
    cold_start_s: float = 0.0
    idle_timeout_s: float = 300.0
    single_request_s: float | None = None
    max_utilization: float = 1.0
    min_replicas: int | None = None
    label: str = ""

    def __post_init__(self):
        set_ = object.__setattr__
        set_(self, "usd_per_gpu_hour", _positive("usd_per_gpu_hour", self.usd_per_gpu_hour))
        set_(self, "output_tokens_per_s", _positive("output_tokens_per_s", self.output_tokens_per_s))
        set_(self, "n_gpus", _count("n_gpus", self.n_gpus))
        _choice("billing", self.billing, BILLING_MODES)
        set_(self, "billing_granularity_s", _positive("billing_granularity_s", self.billing_granularity_s))
        set_(self, "cold_start_s", _non_negative("cold_start_s", self.cold_start_s))
        set_(self, "idle_timeout_s", _non_negative("idle_timeout_s", self.idle_timeout_s))
        if self.single_request_s is not None:
            set_(self, "single_request_s", _positive("single_request_s", self.single_request_s))
        set_(self, "max_utilization", _fraction("max_utilization", self.max_utilization))
        if self.min_replicas is None:
            set_(self, "min_replicas", 1 if self.billing == "always-on" else 0)
        set_(self, "min_replicas", _count("min_replicas", self.min_replicas, minimum=0))
        if self.billing == "always-on" and self.min_replicas == 0:
            raise HwcostError("min_replicas must be >= 1 for billing='always-on', got 0")

    @property
    def usd_per_replica_hour(self) -> float:
        """Price of one replica for one hour. [USD/h]"""
        return self.usd_per_gpu_hour * self.n_gpus

    @classmethod
    def from_estimate(cls, estimate, usd_per_gpu_hour: float, **kwargs) -> "Deployment":
        """Build from a ``perf.Estimate`` (throughput, GPUs, batch-1 request time).

        Raises ``ValueError`` if the estimate does not fit (``fits`` is False).
        """
        if not getattr(estimate, "fits", False):
            raise HwcostError(
                f"estimate for {getattr(estimate, 'model_id', '?')} on "
                f"{getattr(estimate, 'gpu_id', '?')} does not fit: {getattr(estimate, 'reason', '')}"
            )
        kwargs.setdefault("n_gpus", estimate.n_gpus)
        kwargs.setdefault(
            "label",
            f"{estimate.gpu_id} x{estimate.n_gpus} {estimate.precision} batch {estimate.batch_size}",
        )
        if "single_request_s" not in kwargs and estimate.batch_size == 1:
            e2e = getattr(estimate, "e2e_s", None)
            kwargs["single_request_s"] = e2e if e2e is not None else (
                estimate.ttft_s + max(estimate.output_tokens - 1, 0) * estimate.tpot_s)
        return cls(usd_per_gpu_hour=usd_per_gpu_hour,
                   output_tokens_per_s=estimate.output_tokens_per_s, **kwargs)


@dataclass(frozen=True)
class RequestCost:
    """What a workload costs on a deployment (see :func:`request_cost`). Units in names."""

    label: str
    billing: str
    requests_per_day: float
    usd_per_day: float
    usd_per_request: float
    usd_per_million_tokens: float
    usd_per_million_output_tokens: float
    utilization: float
    replicas_peak: int
    billed_gpu_hours_per_day: float
    busy_gpu_hours_per_day: float
    cold_start_request_share: float
    usd_per_month: float

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def _scale_to_zero_hour(rate_per_s, busy_s, timeout_s, cold_s, granularity_s):
    """Expected billed seconds and cold-start probability of one instance in one hour.

    Poisson arrivals at ``rate_per_s``; each request keeps the instance up for ``busy_s +
    timeout_s`` after it arrives. The instance is up for the union of those windows:
    a share ``1 - exp(-rate * L)`` of the time; a request finds it stopped with probability
    ``exp(-rate * L)`` and then starts a session that also bills ``cold_s`` and rounds up to
    ``granularity_s``.
    """
    if rate_per_s <= 0:
        return 0.0, 0.0
    window = busy_s + timeout_s
    p_cold = math.exp(-rate_per_s * window)
    up_s = SECONDS_PER_HOUR * (1.0 - p_cold)
    sessions = rate_per_s * SECONDS_PER_HOUR * p_cold
    if sessions <= 0:
        return SECONDS_PER_HOUR, 0.0
    mean_session = up_s / sessions + cold_s
    billed = sessions * float(billed_seconds(mean_session, granularity_s))
    return min(billed, SECONDS_PER_HOUR + cold_s), p_cold


def request_cost(workload: Workload, deployment: Deployment) -> RequestCost:
    """Cost per request, per day and per million tokens of serving ``workload``.

    Utilization is derived, not assumed: busy GPU-hours (requests x output tokens /
    throughput at the operating batch, i.e. the share of the replica's capacity the volume
    uses) over billed GPU-hours. An always-on GPU that is 0.3 % busy costs its full
    hourly price; the cost lands on the few requests it serves.

    Billing modes (per hour ``h`` of the workload's daily profile, arrival rate ``r_h``,
    replica capacity ``c = output_tokens_per_s * max_utilization / output_tokens``):

    - ``always-on``: ``max(min_replicas, max_h ceil(r_h / c))`` replicas for 24 h.
    - ``autoscale``: ``max(min_replicas, ceil(r_h / c))`` replicas in hour ``h``, each
      scale-up billing one ``cold_start_s``.
    - ``scale-to-zero``: hours needing at most one replica use a Poisson on/off model
      (see :func:`_scale_to_zero_hour`); busier hours run ``ceil(r_h / c)`` replicas.

    Parameters
    ----------
    workload : hwcost.workload.Workload
        Requests per day, input and output tokens per request, hourly profile.
    deployment : Deployment
        Price, throughput and billing of the replicas.

    Returns
    -------
    RequestCost
        ``usd_per_request``, ``usd_per_day``, ``usd_per_million_tokens`` (input + output),
        ``usd_per_million_output_tokens``, ``utilization`` (busy / billed), ``replicas_peak``,
        GPU-hours, and the share of requests that meet a cold start.

    Examples
    --------
    100 requests/day on one always-on USD 1.00/h GPU: USD 24/day, USD 0.24 per request.
    """
    if not isinstance(workload, Workload):
        raise HwcostError(f"workload must be a hwcost.workload.Workload, got {type(workload).__name__}")
    if not isinstance(deployment, Deployment):
        raise HwcostError(f"deployment must be an economics.Deployment, got {type(deployment).__name__}")
    d = deployment
    rates = workload.hourly_requests() / SECONDS_PER_HOUR  # [1/s] per hour of day
    service_s = workload.output_tokens / d.output_tokens_per_s  # replica-seconds per request
    capacity = d.output_tokens_per_s * d.max_utilization / workload.output_tokens  # [1/s]
    needed = np.ceil(rates / capacity - 1e-12).astype(int)
    busy_replica_h = float(np.sum(rates * SECONDS_PER_HOUR * service_s)) / SECONDS_PER_HOUR
    cold_share = 0.0
    if d.billing == "always-on":
        replicas = max(d.min_replicas, int(needed.max()))
        replica_hours = replicas * HOURS_PER_DAY
        peak = replicas
    elif d.billing == "autoscale":
        per_hour = np.maximum(needed, d.min_replicas)
        ups = np.maximum(np.diff(np.concatenate([per_hour[-1:], per_hour])), 0)
        replica_hours = float(per_hour.sum()) + float(ups.sum()) * d.cold_start_s / SECONDS_PER_HOUR
        peak = int(per_hour.max())
    else:  # scale-to-zero
        single_s = d.single_request_s or service_s
        billed_s = 0.0
        cold_requests = 0.0
        for rate, n in zip(rates, needed):
            if n <= 1:
                s, p_cold = _scale_to_zero_hour(rate, single_s, d.idle_timeout_s,
                                                d.cold_start_s, d.billing_granularity_s)
                billed_s += max(s, d.min_replicas * SECONDS_PER_HOUR)
                cold_requests += p_cold * rate * SECONDS_PER_HOUR
            else:
                billed_s += max(n, d.min_replicas) * SECONDS_PER_HOUR
        replica_hours = billed_s / SECONDS_PER_HOUR
        peak = max(int(needed.max()), d.min_replicas, 1)
        cold_share = cold_requests / workload.requests_per_day
    billed_gpu_h = replica_hours * d.n_gpus
    busy_gpu_h = busy_replica_h * d.n_gpus
    usd_per_day = billed_gpu_h * d.usd_per_gpu_hour
    tokens = workload.requests_per_day * workload.tokens_per_request
    out_tokens = workload.requests_per_day * workload.output_tokens
    return RequestCost(
        label=d.label,
        billing=d.billing,
        requests_per_day=workload.requests_per_day,
        usd_per_day=float(usd_per_day),
        usd_per_request=float(usd_per_day / workload.requests_per_day),
        usd_per_million_tokens=float(usd_per_day / tokens * TOKENS_PER_MILLION),
        usd_per_million_output_tokens=float(usd_per_day / out_tokens * TOKENS_PER_MILLION),
        utilization=float(min(busy_gpu_h / billed_gpu_h, 1.0)),
        replicas_peak=int(peak),
        billed_gpu_hours_per_day=float(billed_gpu_h),
        busy_gpu_hours_per_day=float(busy_gpu_h),
        cold_start_request_share=float(cold_share),
        usd_per_month=float(usd_per_day * HOURS_PER_MONTH / HOURS_PER_DAY),
    )


def request_costs(workload: Workload, deployments) -> pd.DataFrame:
    """:func:`request_cost` for several deployments, one row each, cheapest first."""
    rows = [request_cost(workload, d).as_dict() for d in deployments]
    if not rows:
        raise HwcostError("deployments must not be empty")
    return pd.DataFrame(rows).sort_values("usd_per_request", kind="stable").reset_index(drop=True)


# ----------------------------------------------------------------------------------------
# Cloud
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CloudRate:
    """One cloud offer, per GPU-hour.

    Parameters
    ----------
    usd_per_gpu_hour : float
        Price of one GPU-hour (instance price / GPUs per instance). [USD/h]
    pricing : str
        ``on-demand``, ``spot`` (interruptible) or ``reserved`` (committed).
    billing_granularity_s : float
        Billing increment. [s]
    gpus_per_instance : int
        GPUs rented together (8-GPU bundles are priced per GPU here). [-]
    commitment_months : int
        Months paid whether used or not (reserved). [months]
    interruption_overhead : float
        Spot only: share of paid time lost to preemptions and restarts (re-load, redo),
        in [0, 1). The effective price is ``usd_per_gpu_hour / (1 - overhead)``. [-]
    provider, offer_id : str
        Where it comes from.
    """

    usd_per_gpu_hour: float
    pricing: str = "on-demand"
    billing_granularity_s: float = 1.0
    gpus_per_instance: int = 1
    commitment_months: int = 0
    interruption_overhead: float = 0.0
    provider: str = ""
    offer_id: str = ""
    gpu_id: str = ""

    def __post_init__(self):
        object.__setattr__(self, "usd_per_gpu_hour", _positive("usd_per_gpu_hour", self.usd_per_gpu_hour))
        _choice("pricing", self.pricing, PRICING)
        object.__setattr__(self, "billing_granularity_s",
                           _positive("billing_granularity_s", self.billing_granularity_s))
        _count("gpus_per_instance", self.gpus_per_instance)
        _count("commitment_months", self.commitment_months, minimum=0)
        _num("interruption_overhead", self.interruption_overhead, low=0.0, low_open=False,
             high=1.0, high_open=True, what="in [0, 1)")

    @property
    def usd_per_instance_hour(self) -> float:
        """Price of the whole instance. [USD/h]"""
        return self.usd_per_gpu_hour * self.gpus_per_instance

    @property
    def effective_usd_per_gpu_hour(self) -> float:
        """Price per useful GPU-hour after spot interruptions. [USD/h]"""
        return self.usd_per_gpu_hour / (1.0 - self.interruption_overhead)

    @property
    def commitment_usd(self) -> float:
        """Total paid for a reserved commitment per GPU (0 for on-demand/spot). [USD]"""
        return self.usd_per_gpu_hour * self.commitment_months * HOURS_PER_MONTH

    def replica_usd_per_gpu_hour(self, n_gpus: int = 1, *, whole_instance: bool = False) -> float:
        """Effective price per GPU-hour of a replica of ``n_gpus`` GPUs. [USD/h]

        With ``whole_instance=False`` (default) the per-GPU price applies: the instance's
        other GPUs run other replicas. With ``whole_instance=True`` a replica pays for every
        instance it touches: a 1-GPU replica on an 8-GPU node at USD 49.24/h costs
        USD 49.24/h, i.e. USD 49.24 per GPU-hour it uses.
        """
        n = _count("n_gpus", n_gpus)
        if not whole_instance:
            return self.effective_usd_per_gpu_hour
        instances = math.ceil(n / self.gpus_per_instance)
        return self.effective_usd_per_gpu_hour * instances * self.gpus_per_instance / n

    def deployment(self, output_tokens_per_s: float, *, n_gpus: int = 1, whole_instance: bool = False,
                   **kwargs) -> Deployment:
        """A :class:`Deployment` at this rate (reserved capacity is always on).

        ``whole_instance``: see :meth:`replica_usd_per_gpu_hour`.
        """
        kwargs.setdefault("billing_granularity_s", self.billing_granularity_s)
        if self.pricing == "reserved":
            kwargs["billing"] = "always-on"
        kwargs.setdefault("label", self.offer_id or f"{self.provider} {self.pricing}")
        return Deployment(usd_per_gpu_hour=self.replica_usd_per_gpu_hour(n_gpus, whole_instance=whole_instance),
                          output_tokens_per_s=output_tokens_per_s, n_gpus=n_gpus, **kwargs)


def _closest(value: str, known, kind: str) -> HwcostError:
    return validate.unknown(value, known, kind)


def cloud_offers(gpu=None, *, provider: str | None = None, pricing: str | None = None,
                 prices: pd.DataFrame | None = None) -> pd.DataFrame:
    """Cloud offers from the catalog, filtered, cheapest per GPU-hour first.

    Parameters
    ----------
    gpu : str or catalog.GPU, optional
        GPU id or alias (unknown ids raise ``ValueError`` with the closest ids).
    provider : str, optional
        Provider slug (``runpod``, ``coreweave``, ...).
    pricing : str, optional
        ``on-demand``, ``spot`` or ``reserved``.
    prices : DataFrame, optional
        A table with the columns of ``catalog.cloud_prices()``; default the catalog's.
    """
    df = catalog.cloud_prices() if prices is None else prices
    if gpu is not None:
        gpu_id = catalog.gpu(gpu).id
        df = df[df["gpu_id"] == gpu_id]
    if provider is not None:
        known = set(df["provider"]) if gpu is None else set(
            (catalog.cloud_prices() if prices is None else prices)["provider"])
        if provider.lower() not in known:
            raise _closest(provider, known, "provider")
        df = df[df["provider"] == provider.lower()]
    if pricing is not None:
        _choice("pricing", pricing, PRICING)
        df = df[df["pricing"] == pricing]
    return df.sort_values("usd_per_gpu_hour", kind="stable").reset_index(drop=True)


def cloud_rate(provider: str, gpu, pricing: str = "on-demand", *, offering: str | None = None,
               gpus_per_instance: int | None = None, prices: pd.DataFrame | None = None,
               interruption_overhead: float = 0.0) -> CloudRate:
    """The cheapest matching catalog offer as a :class:`CloudRate`.

    Parameters
    ----------
    provider : str
        Provider slug, e.g. ``runpod``. Unknown -> ``ValueError`` with the closest.
    gpu : str or catalog.GPU
        GPU id or alias. Unknown -> ``catalog.CatalogError`` (a ValueError).
    pricing : str
        ``on-demand``, ``spot`` or ``reserved``.
    offering : str, optional
        ``community``, ``secure``, ``standard``, ...
    gpus_per_instance : int, optional
        Pick the 1-GPU or the 8-GPU bundle.
    interruption_overhead : float
        See :class:`CloudRate`.
    """
    df = cloud_offers(gpu, provider=provider, pricing=pricing, prices=prices)
    if offering is not None:
        if offering not in set(df["offering"]):
            raise _closest(offering, df["offering"], f"offering for {provider} {gpu}")
        df = df[df["offering"] == offering]
    if gpus_per_instance is not None:
        df = df[df["gpus_per_instance"] == gpus_per_instance]
    if df.empty:
        raise HwcostError(
            f"no {pricing} offer for GPU {gpu!r} from provider {provider!r}"
            + (f" with {gpus_per_instance} GPUs per instance" if gpus_per_instance else "")
        )
    row = df.iloc[0]
    return CloudRate(
        usd_per_gpu_hour=float(row["usd_per_gpu_hour"]),
        pricing=row["pricing"],
        billing_granularity_s=float(row["billing_granularity_s"]),
        gpus_per_instance=int(row["gpus_per_instance"]),
        commitment_months=int(row["commitment_months"]),
        interruption_overhead=interruption_overhead,
        provider=row["provider"],
        offer_id=row["id"],
        gpu_id=row["gpu_id"],
    )


# ----------------------------------------------------------------------------------------
# Self-hosting: total cost of ownership
# ----------------------------------------------------------------------------------------
def capital_recovery_factor(discount_rate, years):
    """Share of a purchase to pay each year so that its value is recovered with interest.

    ``r / (1 - (1 + r) ** -years)``; equal to ``1 / years`` when ``r = 0``.

    Parameters
    ----------
    discount_rate : float or array
        Cost of capital per year, >= 0. [1/year]
    years : float or array
        Service life, > 0. [years]

    References
    ----------
    E. L. Grant, W. G. Ireson, R. S. Leavenworth, *Principles of Engineering Economy*
    (capital recovery factor, A/P).
    """
    r = np.asarray(_num("discount_rate", discount_rate, low=0.0, low_open=False, high=1.0))
    n = np.asarray(_positive("years (amortization period)", years))
    with np.errstate(divide="ignore", invalid="ignore"):
        crf = np.where(r > 0, r / (1.0 - (1.0 + np.where(r > 0, r, 1.0)) ** -n), 1.0 / n)
    return _out(crf)


def self_hosted_usd_per_gpu_hour(gpu_usd, tdp_w, usd_per_kwh, *, n_gpus=1, server_share_usd=0.0,
                                 networking_usd=0.0, setup_usd=0.0, amortization_years=3.0,
                                 resale_fraction=0.0, average_load=1.0, host_power_w=0.0,
                                 pue=1.0, colocation_usd_per_year=0.0,
                                 operations_usd_per_year=0.0,  # noqa: F811
                                 maintenance_fraction_per_year=0.0, discount_rate=0.0,
                                 label=None):
    """Effective cost of one owned GPU-hour, by component (vectorized over every input).

    Takes the fields of :class:`SelfHostedTCO` (so a dict from
    :func:`tco_inputs_from_catalog` can be sampled by :func:`monte_carlo`). Whole-deployment
    amounts (networking, setup, colocation, operations) are split evenly over ``n_gpus``.

    - capex: ``(gpu_usd + server_share_usd + (networking_usd + setup_usd) / n_gpus) *
      CRF(r, years)`` less the resale of GPU and server share (``resale_fraction`` of their
      price) times the sinking-fund factor ``r / ((1 + r) ** years - 1)`` (both ``1/years``
      at r = 0), per 8,760 h;
    - power: ``(tdp_w + host_power_w) / 1000 * average_load * pue * usd_per_kwh``;
    - colocation (rack space, cooling fees) and operations (staff, overhead) per year / 8,760;
    - maintenance (failures, spares, support): ``maintenance_fraction_per_year`` x hardware
      price / 8,760.

    Returns
    -------
    dict of float or ndarray
        ``capex``, ``power``, ``colocation``, ``operations``, ``maintenance``, ``total``,
        each [USD per GPU-hour].

    Examples
    --------
    The article's RTX 4090: USD 1,600 over 3 years, no resale, nothing else:
    ``self_hosted_usd_per_gpu_hour(1600, 450, 0.15)["capex"]`` = 1600 / 26280 = 0.0609.
    """
    n = np.asarray(_num("n_gpus", n_gpus, low=1.0, low_open=False, what="a number >= 1"))
    gpu_usd = np.asarray(_positive("gpu_usd", gpu_usd))
    tdp = np.asarray(_positive("tdp_w", tdp_w))
    kwh = np.asarray(_positive("usd_per_kwh", usd_per_kwh))
    server = np.asarray(_non_negative("server_share_usd", server_share_usd))
    fixed = (np.asarray(_non_negative("networking_usd", networking_usd))
             + np.asarray(_non_negative("setup_usd", setup_usd))) / n
    years = np.asarray(_positive("amortization_years", amortization_years))
    resale = np.asarray(_num("resale_fraction", resale_fraction, low=0.0, low_open=False,
                             high=1.0, high_open=True, what="in [0, 1)"))
    load = np.asarray(_fraction("average_load", average_load))
    host = np.asarray(_non_negative("host_power_w", host_power_w))
    pue = np.asarray(_num("pue", pue, low=1.0, low_open=False, what="a finite number >= 1"))
    colo = np.asarray(_non_negative("colocation_usd_per_year", colocation_usd_per_year)) / n
    ops = np.asarray(_non_negative("operations_usd_per_year", operations_usd_per_year)) / n
    maint = np.asarray(_non_negative("maintenance_fraction_per_year", maintenance_fraction_per_year))
    r = np.asarray(_num("discount_rate", discount_rate, low=0.0, low_open=False, high=1.0))

    hardware = gpu_usd + server
    crf = np.asarray(capital_recovery_factor(r, years))
    sinking = crf - r  # r / ((1+r)^n - 1); = 1/n at r = 0
    capex_per_year = (hardware + fixed) * crf - resale * hardware * sinking
    parts = {
        "capex": capex_per_year / HOURS_PER_YEAR,
        "power": (tdp + host) / 1000.0 * load * pue * kwh,
        "colocation": colo / HOURS_PER_YEAR,
        "operations": ops / HOURS_PER_YEAR,
        "maintenance": maint * hardware / HOURS_PER_YEAR,
    }
    arrays = np.broadcast_arrays(*parts.values())
    parts = dict(zip(parts, arrays))
    parts["total"] = sum(arrays)
    return {k: _out(v) for k, v in parts.items()}


def self_hosted_usd_per_million_tokens(tokens_per_s, utilization=1.0, **tco_fields):
    """Owned hardware's cost per million tokens (vectorized; takes SelfHostedTCO fields).

    ``self_hosted_usd_per_gpu_hour(**tco_fields)["total"] * n_gpus`` priced through
    :func:`cost_per_million_tokens` at ``tokens_per_s`` (of all ``n_gpus`` together) and
    ``utilization``. [USD/1M tokens]
    """
    total = self_hosted_usd_per_gpu_hour(**tco_fields)["total"]
    n = tco_fields.get("n_gpus", 1)
    return cost_per_million_tokens(np.asarray(total) * np.asarray(n, dtype=float), tokens_per_s, utilization)


@dataclass(frozen=True)
class SelfHostedTCO:
    """Inputs of owning GPUs. Per-GPU amounts unless the name says the whole deployment.

    Parameters
    ----------
    gpu_usd : float
        Purchase price of one GPU. [USD]
    tdp_w : float
        Board power of one GPU. [W]
    usd_per_kwh : float
        Electricity price. [USD/kWh]
    n_gpus : int
        GPUs bought. [-]
    server_share_usd : float
        Host cost per GPU (chassis, CPUs, RAM, NICs, storage / GPUs per server). [USD]
    networking_usd, setup_usd : float
        Whole deployment: switches and cabling; installation, racking, burn-in. [USD]
    amortization_years : float
        Service life, > 0. [years]
    resale_fraction : float
        Value of GPUs and servers at the end of the service life as a share of their price,
        in [0, 1). [-]
    average_load : float
        Average power draw as a share of ``tdp_w + host_power_w`` over wall-clock time,
        in (0, 1]. [-]
    host_power_w : float
        Host power attributed to one GPU (CPUs, fans, NICs). [W]
    pue : float
        Facility power usage effectiveness, >= 1 (1.0 at home). [-]
    colocation_usd_per_year : float
        Whole deployment: rack space, cooling, remote hands. [USD/year]
    operations_usd_per_year : float
        Whole deployment: staff time and overhead. [USD/year]
    maintenance_fraction_per_year : float
        Failures, spares, support contracts as a share of hardware price per year. [1/year]
    discount_rate : float
        Cost of capital per year (0 = straight-line amortization). [1/year]
    label : str
    """

    gpu_usd: float
    tdp_w: float
    usd_per_kwh: float
    n_gpus: int = 1
    server_share_usd: float = 0.0
    networking_usd: float = 0.0
    setup_usd: float = 0.0
    amortization_years: float = 3.0
    resale_fraction: float = 0.0
    average_load: float = 1.0
    host_power_w: float = 0.0
    pue: float = 1.0
    colocation_usd_per_year: float = 0.0
    operations_usd_per_year: float = 0.0
    maintenance_fraction_per_year: float = 0.0
    discount_rate: float = 0.0
    label: str = ""

    def __post_init__(self):
        set_ = object.__setattr__
        set_(self, "n_gpus", _count("n_gpus", self.n_gpus))
        for name in ("networking_usd", "setup_usd", "colocation_usd_per_year", "operations_usd_per_year"):
            set_(self, name, _non_negative(name, getattr(self, name)))
        # validates every other field (and that none is an array)
        for f in dataclasses.fields(self):
            if f.name not in ("n_gpus", "label"):
                value = getattr(self, f.name)
                if np.ndim(value) != 0:
                    raise HwcostError(f"{f.name} must be a single number, got {value!r}")
                set_(self, f.name, float(_num(f.name, value, low=None)))
        # validates the combination; kept so that self_hosted_tco(inputs) is computed once
        set_(self, "_result", self_hosted_tco(self))

    @property
    def capex_usd(self) -> float:
        """Everything bought up front, whole deployment. [USD]"""
        return (self.gpu_usd + self.server_share_usd) * self.n_gpus + self.networking_usd + self.setup_usd

    @property
    def hardware_usd(self) -> float:
        """GPUs and servers (what can be resold), whole deployment. [USD]"""
        return (self.gpu_usd + self.server_share_usd) * self.n_gpus

    def replace(self, **changes) -> "SelfHostedTCO":
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class TCOResult:
    """Cost of owned GPUs per GPU-hour of wall-clock time, by component. [USD/h]"""

    inputs: SelfHostedTCO
    capex_usd_per_gpu_hour: float
    power_usd_per_gpu_hour: float
    colocation_usd_per_gpu_hour: float
    operations_usd_per_gpu_hour: float
    maintenance_usd_per_gpu_hour: float
    usd_per_gpu_hour: float

    @property
    def usd_per_hour(self) -> float:
        """All GPUs of the deployment. [USD/h]"""
        return self.usd_per_gpu_hour * self.inputs.n_gpus

    @property
    def running_usd_per_gpu_hour(self) -> float:
        """Everything except capital (what keeps costing if the hardware is kept). [USD/h]"""
        return self.usd_per_gpu_hour - self.capex_usd_per_gpu_hour

    @property
    def capex_usd(self) -> float:
        return self.inputs.capex_usd

    @property
    def usd_per_year(self) -> float:
        return self.usd_per_hour * HOURS_PER_YEAR

    def usd_per_million_tokens(self, tokens_per_s, utilization=1.0):
        """Cost per million tokens of the whole deployment producing ``tokens_per_s``. [USD/1M]"""
        return cost_per_million_tokens(self.usd_per_hour, tokens_per_s, utilization)

    def breakdown(self) -> pd.DataFrame:
        """One row per component: ``component, usd_per_gpu_hour, share``."""
        parts = {
            "capex": self.capex_usd_per_gpu_hour,
            "power": self.power_usd_per_gpu_hour,
            "colocation": self.colocation_usd_per_gpu_hour,
            "operations": self.operations_usd_per_gpu_hour,
            "maintenance": self.maintenance_usd_per_gpu_hour,
        }
        df = pd.DataFrame({"component": list(parts), "usd_per_gpu_hour": list(parts.values())})
        df["share"] = df["usd_per_gpu_hour"] / self.usd_per_gpu_hour
        return df


def self_hosted_tco(inputs: SelfHostedTCO) -> TCOResult:
    """Effective cost per GPU-hour of owned hardware (see :func:`self_hosted_usd_per_gpu_hour`)."""
    if not isinstance(inputs, SelfHostedTCO):
        raise HwcostError(f"inputs must be a SelfHostedTCO, got {type(inputs).__name__}")
    fields = {f.name: getattr(inputs, f.name) for f in dataclasses.fields(inputs)}
    done = inputs.__dict__.get("_result")  # computed once, when the inputs were validated
    if done is not None:
        return done
    gpu_usd, tdp_w, kwh = fields.pop("gpu_usd"), fields.pop("tdp_w"), fields.pop("usd_per_kwh")
    parts = self_hosted_usd_per_gpu_hour(gpu_usd, tdp_w, kwh, **fields)
    return TCOResult(
        inputs=inputs,
        capex_usd_per_gpu_hour=parts["capex"],
        power_usd_per_gpu_hour=parts["power"],
        colocation_usd_per_gpu_hour=parts["colocation"],
        operations_usd_per_gpu_hour=parts["operations"],
        maintenance_usd_per_gpu_hour=parts["maintenance"],
        usd_per_gpu_hour=parts["total"],
    )


def _tco(x) -> TCOResult:
    if isinstance(x, TCOResult):
        return x
    if isinstance(x, SelfHostedTCO):
        return self_hosted_tco(x)
    raise HwcostError(f"expected a SelfHostedTCO or TCOResult, got {type(x).__name__}")


@dataclass(frozen=True)
class Range:
    """An uncertain input: low, typical (most likely) and high value.

    Sampled by :func:`sample` from a PERT distribution (a beta distribution on
    [low, high] with mode ``typical`` and shape 4: ``alpha = 1 + 4 (typical - low) /
    (high - low)``, ``beta = 1 + 4 (high - typical) / (high - low)``), or from a triangular
    distribution with ``distribution="triangular"``. ``low == high`` is a constant.

    References
    ----------
    D. Vose, *Risk Analysis: A Quantitative Guide*, 3rd ed., Wiley 2008, sec. 9.1 (PERT).
    """

    low: float
    typical: float
    high: float
    distribution: str = "pert"

    def __post_init__(self):
        for name in ("low", "typical", "high"):
            object.__setattr__(self, name, _num(f"Range.{name}", getattr(self, name), low=None))
        if self.low > self.high:
            raise HwcostError(f"Range low must be <= high, got low={self.low:g} > high={self.high:g}")
        if not (self.low <= self.typical <= self.high):
            raise HwcostError(
                f"Range typical must lie in [low, high], got {self.typical:g} outside "
                f"[{self.low:g}, {self.high:g}]"
            )
        _choice("distribution", self.distribution, ("pert", "triangular"))

    @classmethod
    def between(cls, low: float, high: float, **kwargs) -> "Range":
        """A range whose typical value is the midpoint."""
        low = _num("Range.low", low, low=None)
        high = _num("Range.high", high, low=None)
        if low > high:
            raise HwcostError(f"Range low must be <= high, got low={low:g} > high={high:g}")
        return cls(low, (low + high) / 2.0, high, **kwargs)

    @property
    def mean(self) -> float:
        """Mean of the distribution (PERT: (low + 4 typical + high) / 6)."""
        if self.distribution == "pert":
            return (self.low + 4 * self.typical + self.high) / 6.0
        return (self.low + self.typical + self.high) / 3.0


def _energy_row(energy: str) -> pd.Series:
    """The ``energy.csv`` row of setting ``energy`` (shared: read only); an unknown id names
    the closest ones. Kept until the table's file changes (a ranking looks rows up per GPU)."""
    return _energy_row_of(catalog.table_version("energy"), energy)


@functools.lru_cache(maxsize=256)
def _energy_row_of(version: tuple, energy: str) -> pd.Series:
    en = catalog.energy()
    pos = np.flatnonzero(en["id"].to_numpy() == energy)
    if not pos.size:
        raise _closest(energy, en["id"], "energy setting")
    return en.iloc[int(pos[0])]


def _hardware_row(gpu_id: str, condition: str) -> pd.Series:
    """The ``hardware_prices.csv`` row of a GPU in a condition (shared: read only), kept as
    :func:`_energy_row` keeps it; a GPU without a price, or without one in that condition,
    is an error naming what there is."""
    return _hardware_row_of(catalog.table_version("hardware_prices"), gpu_id, condition)


@functools.lru_cache(maxsize=1024)
def _hardware_row_of(version: tuple, gpu_id: str, condition: str) -> pd.Series:
    hw = catalog.hardware_prices()
    rows = np.flatnonzero(hw["gpu_id"].to_numpy() == gpu_id)
    if not rows.size:
        raise _closest(gpu_id, hw["gpu_id"], "GPU with a purchase price")
    conditions = hw["condition"].to_numpy()[rows]
    if condition not in set(conditions):
        raise HwcostError(f"no {condition!r} price for {gpu_id}; available: "
                          f"{', '.join(sorted(set(conditions)))}")
    return hw.iloc[int(rows[conditions == condition][0])]


def tco_inputs_from_catalog(gpu, *, energy: str = "us-industrial-colo", condition: str = "new",
                            n_gpus: int = 1, **overrides) -> dict:
    """Inputs of :class:`SelfHostedTCO` from the catalog, as :class:`Range` where uncertain.

    GPU price and server share from ``catalog.hardware_prices()`` (low/typical/high),
    electricity price and PUE from ``catalog.energy()``, ``tdp_w`` from ``catalog.gpus()``.
    ``overrides`` replace any entry (plain numbers or Ranges). Use :func:`typical_inputs` for
    the single typical case, or pass the dict to :func:`monte_carlo`.

    Raises ``ValueError`` for an unknown GPU, energy setting or condition, or a GPU with no
    purchase price in the catalog.
    """
    g = catalog.gpu(gpu)
    row = _hardware_row(g.id, condition)
    erow = _energy_row(energy)
    out = {
        "gpu_usd": Range(row["usd_low"], row["usd_typical"], row["usd_high"]),
        "server_share_usd": Range(row["server_share_usd_low"], row["server_share_usd_typical"],
                                  row["server_share_usd_high"]),
        "tdp_w": float(g.tdp_w),
        "usd_per_kwh": Range(erow["usd_per_kwh_low"], erow["usd_per_kwh_typical"], erow["usd_per_kwh_high"]),
        "pue": Range(erow["pue_low"], erow["pue_typical"], erow["pue_high"]),
        "n_gpus": n_gpus,
    }
    for key in overrides:
        if key not in {f.name for f in dataclasses.fields(SelfHostedTCO)}:
            raise HwcostError(f"unknown SelfHostedTCO input {key!r}")
    out.update(overrides)
    return out


def typical_inputs(inputs: Mapping) -> dict:
    """Replace every :class:`Range` by its typical value."""
    return {k: (v.typical if isinstance(v, Range) else v) for k, v in inputs.items()}


def tco_from_catalog(gpu, **kwargs) -> SelfHostedTCO:
    """A :class:`SelfHostedTCO` at the catalog's typical values (see :func:`tco_inputs_from_catalog`)."""
    values = typical_inputs(tco_inputs_from_catalog(gpu, **kwargs))
    values.setdefault("label", f"own {catalog.gpu(gpu).id} x{values.get('n_gpus', 1)}")
    return SelfHostedTCO(**values)


# ----------------------------------------------------------------------------------------
# Break-even and net present value
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BreakEven:
    """When buying pays back against renting.

    ``months`` and ``gpu_hours`` are None when it never does (``reached`` False); the
    ``reason`` says why.
    """

    reached: bool
    months: float | None
    gpu_hours: float | None
    upfront_usd_per_gpu: float
    cloud_usd_per_gpu_hour: float
    savings_usd_per_gpu_month: float
    reason: str


def break_even(tco, cloud_usd_per_gpu_hour, *, gpu_hours_per_month=HOURS_PER_MONTH,
               discount_rate: float | None = None) -> BreakEven:
    """Months and GPU-hours of use after which owning is cheaper than renting.

    Owned hardware costs its capital up front (per GPU: ``capex_usd / n_gpus``) and its
    running cost (power, colocation, operations, maintenance) every month whether used or
    not; cloud costs ``cloud_usd_per_gpu_hour`` for each hour used. Monthly saving:
    ``s = cloud * gpu_hours_per_month - running_usd_per_gpu_hour * 730``;
    break-even ``months = upfront / s`` (``gpu_hours = months * gpu_hours_per_month``).
    With ``discount_rate`` r (per year, monthly rate ``i = (1 + r)**(1/12) - 1``), the month
    where discounted savings repay the capital: ``-ln(1 - upfront * i / s) / ln(1 + i)``.
    Resale value is ignored (it only shortens the break-even).

    Parameters
    ----------
    tco : SelfHostedTCO or TCOResult
        The owned option.
    cloud_usd_per_gpu_hour : float
        Rental price it is compared with. [USD/h]
    gpu_hours_per_month : float
        GPU-hours of use per GPU per month, in (0, 730]. [h]
    discount_rate : float, optional
        Cost of capital per year. [1/year]

    Examples
    --------
    USD 10,000 up front and USD 500/month against USD 2.69/h used 730 h a month:
    10000 / (2.69 * 730 - 500) = 6.83 months = 4,987 GPU-hours.
    """
    t = _tco(tco)
    cloud = _positive("cloud_usd_per_gpu_hour", cloud_usd_per_gpu_hour)
    hours = _num("gpu_hours_per_month", gpu_hours_per_month, low=0.0,
                 high=HOURS_PER_MONTH * 1.0001, what=f"in (0, {HOURS_PER_MONTH:g}]")
    upfront = t.inputs.capex_usd / t.inputs.n_gpus
    running_month = t.running_usd_per_gpu_hour * HOURS_PER_MONTH
    savings = cloud * hours - running_month
    if savings <= 0:
        return BreakEven(False, None, None, upfront, cloud, savings,
                         f"never: renting {hours:g} h/month at USD {cloud:g}/h costs USD "
                         f"{cloud * hours:,.0f}/month, no more than running owned hardware "
                         f"(USD {running_month:,.0f}/month)")
    if discount_rate is None or discount_rate == 0:
        months = upfront / savings
        reason = (f"USD {upfront:,.0f} / (USD {cloud:g}/h x {hours:g} h - USD {running_month:,.0f}) "
                  f"per month")
    else:
        r = _num("discount_rate", discount_rate, low=0.0, low_open=False, high=1.0)
        i = (1.0 + r) ** (1.0 / 12.0) - 1.0
        x = upfront * i / savings
        if x >= 1:
            return BreakEven(False, None, None, upfront, cloud, savings,
                             f"never: at {r:.1%}/year the interest on USD {upfront:,.0f} exceeds "
                             f"the saving of USD {savings:,.0f}/month")
        months = -math.log(1.0 - x) / math.log(1.0 + i)
        reason = f"discounted at {r:.1%}/year; saving USD {savings:,.0f}/month"
    return BreakEven(True, months, months * hours, upfront, cloud, savings, reason)


def npv(tco, cloud_usd_per_gpu_hour, *, months: float, discount_rate: float = 0.0,
        gpu_hours_per_month: float = HOURS_PER_MONTH) -> float:
    """Net present value of owning instead of renting, per GPU, over ``months``. [USD]

    ``NPV = -upfront + sum_{m=1..M} s / (1 + i)**m + resale(M) / (1 + i)**M`` with the
    monthly saving ``s`` of :func:`break_even`, ``i = (1 + r)**(1/12) - 1`` and the hardware
    value ``resale(M)`` falling linearly from its price to ``resale_fraction`` x price over
    the amortization period. Positive = owning is cheaper.
    """
    t = _tco(tco)
    cloud = _positive("cloud_usd_per_gpu_hour", cloud_usd_per_gpu_hour)
    m = _positive("months", months)
    r = _num("discount_rate", discount_rate, low=0.0, low_open=False, high=1.0)
    hours = _num("gpu_hours_per_month", gpu_hours_per_month, low=0.0,
                 high=HOURS_PER_MONTH * 1.0001, what=f"in (0, {HOURS_PER_MONTH:g}]")
    inp = t.inputs
    upfront = inp.capex_usd / inp.n_gpus
    savings = cloud * hours - t.running_usd_per_gpu_hour * HOURS_PER_MONTH
    i = (1.0 + r) ** (1.0 / 12.0) - 1.0
    annuity = m if i == 0 else (1.0 - (1.0 + i) ** -m) / i
    hardware = inp.hardware_usd / inp.n_gpus
    life_months = inp.amortization_years * 12.0
    value = hardware - (hardware - inp.resale_fraction * hardware) * min(m / life_months, 1.0)
    return -upfront + savings * annuity + value / (1.0 + i) ** m


# ----------------------------------------------------------------------------------------
# Utilization of owned hardware: cost per busy hour, break-even against renting by the hour
# ----------------------------------------------------------------------------------------
IDLE_POWER_FRACTION = 0.10
"""Share of full power an owned GPU (and its host) draws while idle. An assumption: idle
draw of recent NVIDIA boards is roughly 5-15 % of their TDP. [-]"""


def average_load(utilization, idle_power_fraction=IDLE_POWER_FRACTION):
    """Average power draw as a share of full power, for a GPU busy ``utilization`` of the time.

    ``average_load = idle_power_fraction + (1 - idle_power_fraction) * utilization``

    Parameters
    ----------
    utilization : float or array
        Busy share of wall-clock time, in (0, 1]. [-]
    idle_power_fraction : float or array
        Draw while idle as a share of full power, in [0, 1]. [-]

    Returns
    -------
    float or ndarray
        Share of full power, in (0, 1]. [-]
    """
    u = _fraction("utilization", utilization)
    idle = _share("idle_power_fraction", idle_power_fraction)
    return _out(np.asarray(idle) + (1.0 - np.asarray(idle)) * np.asarray(u))


def self_hosted_usd_per_busy_gpu_hour(utilization=1.0, idle_power_fraction=IDLE_POWER_FRACTION,
                                      **tco_fields):
    """Cost of one busy hour of an owned GPU, by component (vectorized over every input).

    Owned hardware costs every wall-clock hour whether it works or not, so each component of
    :func:`self_hosted_usd_per_gpu_hour` is divided by ``utilization``; power is computed at
    ``average_load(utilization, idle_power_fraction)`` instead of a given ``average_load``.
    This is the number to set against a cloud price paid only for the hours used.

    Parameters
    ----------
    utilization : float or array
        Busy share of wall-clock hours, in (0, 1]. [-]
    idle_power_fraction : float or array
        Idle draw as a share of full power, in [0, 1]. [-]
    **tco_fields
        The fields of :class:`SelfHostedTCO` except ``average_load`` (e.g. a dict from
        :func:`tco_inputs_from_catalog`, sampled by :func:`monte_carlo`).

    Returns
    -------
    dict of float or ndarray
        ``capex``, ``power``, ``colocation``, ``operations``, ``maintenance``, ``total``,
        each [USD per busy GPU-hour].

    Examples
    --------
    A USD 1,600 card over 3 years used half the time costs 2 x 0.0609 = USD 0.122 of
    capital per busy hour.
    """
    if "average_load" in tco_fields:
        raise HwcostError("pass utilization (and idle_power_fraction), not average_load: the load "
                         "follows from the utilization here")
    tco_fields.pop("label", None)
    u = np.asarray(_fraction("utilization", utilization))
    load = average_load(u, idle_power_fraction)
    gpu_usd = tco_fields.pop("gpu_usd")
    tdp = tco_fields.pop("tdp_w")
    kwh = tco_fields.pop("usd_per_kwh")
    parts = self_hosted_usd_per_gpu_hour(gpu_usd, tdp, kwh, average_load=load, **tco_fields)
    return {k: _out(np.asarray(v) / u) for k, v in parts.items()}


def _at_utilization(tco, utilization: float, idle_power_fraction: float) -> SelfHostedTCO:
    return _tco(tco).inputs.replace(average_load=float(average_load(utilization, idle_power_fraction)))


def break_even_curve(tco, cloud_usd_per_gpu_hour, utilizations, *,
                     idle_power_fraction=IDLE_POWER_FRACTION,
                     discount_rate: float | None = None) -> pd.DataFrame:
    """:func:`break_even` at each utilization, with the power draw that utilization implies.

    Owned: the capital up front, then the running cost every month with power at
    :func:`average_load`; cloud: ``cloud_usd_per_gpu_hour`` for the ``utilization * 730``
    hours used each month.

    Parameters
    ----------
    tco : SelfHostedTCO or TCOResult
        The owned option (its ``average_load`` is replaced).
    cloud_usd_per_gpu_hour : float
        Rental price. [USD/h]
    utilizations : array-like
        Busy shares to evaluate, each in (0, 1]. [-]
    idle_power_fraction : float
        Idle draw as a share of full power. [-]
    discount_rate : float, optional
        Cost of capital per year. [1/year]

    Returns
    -------
    DataFrame
        ``utilization, gpu_hours_per_month, reached, months, gpu_hours,
        savings_usd_per_gpu_month``; ``months`` and ``gpu_hours`` are ``<NA>`` where owning
        never pays back.
    """
    us = np.atleast_1d(_fraction("utilizations", np.asarray(utilizations, dtype=float)))
    rows = []
    for u in us:
        hours = float(u) * HOURS_PER_MONTH
        b = break_even(_at_utilization(tco, float(u), idle_power_fraction), cloud_usd_per_gpu_hour,
                       gpu_hours_per_month=hours, discount_rate=discount_rate)
        rows.append({"utilization": float(u), "gpu_hours_per_month": hours, "reached": b.reached,
                     "months": b.months, "gpu_hours": b.gpu_hours,
                     "savings_usd_per_gpu_month": b.savings_usd_per_gpu_month})
    df = pd.DataFrame(rows)
    for col in ("months", "gpu_hours"):
        df[col] = pd.array([None if v is None else float(v) for v in df[col]], dtype="Float64")
    return df


def break_even_utilization(tco, cloud_usd_per_gpu_hour, *,
                           idle_power_fraction=IDLE_POWER_FRACTION, months: float | None = None,
                           discount_rate: float = 0.0) -> float | None:
    """Lowest utilization at which owning beats renting: at all, or within ``months``.

    With ``F`` the running cost per GPU-hour other than power (colocation, operations,
    maintenance), ``P`` the power cost at full draw, ``i`` the idle fraction and ``c`` the
    cloud price, the monthly saving ``s(u) = 730 * (c * u - F - P * (i + (1 - i) * u))`` is
    linear in ``u``. Without ``months``: the utilization where ``s(u) > 0`` (owning pays back
    eventually), ``u* = (F + P * i) / (c - P * (1 - i))``. With ``months``: the
    utilization where the discounted savings of ``months`` months repay the capital,
    ``s(u) * A = upfront`` with the annuity factor ``A = (1 - (1 + j)^-months) / j`` at the
    monthly rate ``j = (1 + discount_rate)^(1/12) - 1`` (``A = months`` at 0), i.e.
    ``u* = (F + P * i + upfront / (730 * A)) / (c - P * (1 - i))``.

    Parameters
    ----------
    tco : SelfHostedTCO or TCOResult
        The owned option (its ``average_load`` is ignored).
    cloud_usd_per_gpu_hour : float
        Rental price. [USD/h]
    idle_power_fraction : float
        Idle draw as a share of full power, in [0, 1]. [-]
    months : float, optional
        Pay back within this many months (e.g. the service life). [months]
    discount_rate : float
        Cost of capital per year, used with ``months``. [1/year]

    Returns
    -------
    float or None
        ``u*`` in (0, 1], or None when no utilization up to 1 is enough. [-]
    """
    cloud = _positive("cloud_usd_per_gpu_hour", cloud_usd_per_gpu_hour)
    idle = float(_share("idle_power_fraction", idle_power_fraction))
    full = self_hosted_tco(_at_utilization(tco, 1.0, 0.0))
    power = full.power_usd_per_gpu_hour
    fixed = full.running_usd_per_gpu_hour - power
    if months is not None:
        m = _positive("months", months)
        r = _num("discount_rate", discount_rate, low=0.0, low_open=False, high=1.0)
        j = (1.0 + r) ** (1.0 / 12.0) - 1.0
        annuity = m if j == 0 else (1.0 - (1.0 + j) ** -m) / j
        upfront = full.inputs.capex_usd / full.inputs.n_gpus
        fixed += upfront / (HOURS_PER_MONTH * annuity)
    denominator = cloud - power * (1.0 - idle)
    if denominator <= 0:
        return None
    u = (fixed + power * idle) / denominator
    return float(u) if u <= 1.0 else None


# ----------------------------------------------------------------------------------------
# Hosted APIs
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ApiPrice:
    """A hosted model's per-token prices. [USD per 1M tokens]"""

    usd_per_million_input_tokens: float
    usd_per_million_output_tokens: float
    provider: str = ""
    model: str = ""
    id: str = ""
    llm_id: str | None = None
    batch_usd_per_million_input_tokens: float | None = None
    batch_usd_per_million_output_tokens: float | None = None
    cached_usd_per_million_input_tokens: float | None = None

    def __post_init__(self):
        for name in ("usd_per_million_input_tokens", "usd_per_million_output_tokens"):
            object.__setattr__(self, name, _positive(name, getattr(self, name)))
        for name in ("batch_usd_per_million_input_tokens", "batch_usd_per_million_output_tokens",
                     "cached_usd_per_million_input_tokens"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, float) and math.isnan(value)):
                object.__setattr__(self, name, _positive(name, value))
            else:
                object.__setattr__(self, name, None)

    @property
    def has_batch(self) -> bool:
        """The provider publishes batch prices (input and output) for this offer."""
        return (self.batch_usd_per_million_input_tokens is not None
                and self.batch_usd_per_million_output_tokens is not None)

    def batch(self) -> "ApiPrice":
        """The same offer at its batch prices (results within the provider's batch window,
        typically 24 h). Raises ``ValueError`` when none are published."""
        if not self.has_batch:
            raise HwcostError(f"{self.id or self.model}: no batch prices in the catalog")
        return dataclasses.replace(
            self, id=f"{self.id}-batch" if self.id else "",
            usd_per_million_input_tokens=self.batch_usd_per_million_input_tokens,
            usd_per_million_output_tokens=self.batch_usd_per_million_output_tokens,
            batch_usd_per_million_input_tokens=None, batch_usd_per_million_output_tokens=None,
            cached_usd_per_million_input_tokens=None)

    def input_usd_per_million_tokens(self, cached_input_share: float = 0.0) -> float:
        """Price of a million input tokens of which ``cached_input_share`` hit the
        provider's prompt cache (billed at the cached price where one is published). [USD/1M]"""
        s = float(_share("cached_input_share", cached_input_share))
        cached = self.cached_usd_per_million_input_tokens
        if cached is None or s == 0:
            return self.usd_per_million_input_tokens
        return (1 - s) * self.usd_per_million_input_tokens + s * cached

    def usd_per_request(self, input_tokens, output_tokens):
        """Price of one request, input and output tokens billed separately. [USD]"""
        return api_request_cost(input_tokens, output_tokens, self)

    def blended_usd_per_million_tokens(self, input_tokens, output_tokens):
        """Price per million tokens of a request mix (input + output counted). [USD/1M]"""
        i = np.asarray(_positive("input_tokens", input_tokens))
        o = np.asarray(_positive("output_tokens", output_tokens))
        return _out((i * self.usd_per_million_input_tokens + o * self.usd_per_million_output_tokens) / (i + o))


def _optional_price(row, name):
    value = row.get(name) if hasattr(row, "get") else None
    if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
        return None
    return float(value)


def _api_row_to_price(row) -> ApiPrice:
    llm_id = row["llm_id"]
    if llm_id is not None and not isinstance(llm_id, str):
        llm_id = None
    # batch and cached-input prices are optional columns (empty where not published)
    return ApiPrice(float(row["usd_per_million_input_tokens"]), float(row["usd_per_million_output_tokens"]),
                    provider=row["provider"], model=row["model"], id=row["id"], llm_id=llm_id,
                    batch_usd_per_million_input_tokens=_optional_price(row, "batch_usd_per_million_input_tokens"),
                    batch_usd_per_million_output_tokens=_optional_price(row, "batch_usd_per_million_output_tokens"),
                    cached_usd_per_million_input_tokens=_optional_price(row, "cached_usd_per_million_input_tokens"))


def api_price(api_id: str, *, prices: pd.DataFrame | None = None) -> ApiPrice:
    """Look up an API offer by its id (``together-llama-3.1-70b``) or by provider model name.

    Unknown -> ``ValueError`` listing the closest ids.
    """
    df = catalog.api_prices() if prices is None else prices
    key = str(api_id).strip().lower()
    for col in ("id", "model"):
        hit = df[df[col].str.lower() == key]
        if not hit.empty:
            return _api_row_to_price(hit.iloc[0])
    raise _closest(api_id, df["id"], "API offer")


def api_prices_for(llm=None, *, provider: str | None = None,
                   prices: pd.DataFrame | None = None) -> pd.DataFrame:
    """API offers serving a catalog model (by ``llm_id``) and/or from a provider.

    Adds ``usd_per_million_blended_tokens`` at 3 input tokens per output token for ranking
    (change the mix with :meth:`ApiPrice.blended_usd_per_million_tokens`).
    """
    df = catalog.api_prices() if prices is None else prices
    if llm is not None:
        llm_id = catalog.llm(llm).id
        df = df[df["llm_id"] == llm_id]
    if provider is not None:
        if provider.lower() not in set(df["provider"]) and provider.lower() not in set(
                (catalog.api_prices() if prices is None else prices)["provider"]):
            raise _closest(provider, (catalog.api_prices() if prices is None else prices)["provider"],
                           "API provider")
        df = df[df["provider"] == provider.lower()]
    df = df.copy()
    df["usd_per_million_blended_tokens"] = (
        3 * df["usd_per_million_input_tokens"] + df["usd_per_million_output_tokens"]) / 4
    return df.sort_values("usd_per_million_blended_tokens", kind="stable").reset_index(drop=True)


def api_request_cost(input_tokens, output_tokens, api: ApiPrice):
    """Price of one request to a hosted API. [USD]

    ``(input_tokens * usd_per_million_input_tokens + output_tokens *
    usd_per_million_output_tokens) / 1e6``
    """
    if not isinstance(api, ApiPrice):
        raise HwcostError(f"api must be an ApiPrice, got {type(api).__name__}")
    i = np.asarray(_non_negative("input_tokens", input_tokens))
    o = np.asarray(_non_negative("output_tokens", output_tokens))
    return _out((i * api.usd_per_million_input_tokens + o * api.usd_per_million_output_tokens)
                / TOKENS_PER_MILLION)


def api_cost(workload: Workload, api: ApiPrice) -> RequestCost:
    """A workload's cost on a hosted API, as a :class:`RequestCost` (no GPUs billed).

    The workload's ``cached_input_share`` of input tokens is billed at the offer's cached-input
    price where the catalog has one (:meth:`ApiPrice.input_usd_per_million_tokens`); pass
    ``api.batch()`` for the batch tier.
    """
    if not isinstance(workload, Workload):
        raise HwcostError(f"workload must be a hwcost.workload.Workload, got {type(workload).__name__}")
    share = float(getattr(workload, "cached_input_share", 0.0) or 0.0)
    if share and api.cached_usd_per_million_input_tokens is not None:
        api = dataclasses.replace(api, usd_per_million_input_tokens=api.input_usd_per_million_tokens(share))
    per_request = float(api_request_cost(workload.input_tokens, workload.output_tokens, api))
    per_day = per_request * workload.requests_per_day
    return RequestCost(
        label=api.id or f"{api.provider} {api.model}",
        billing="per-token",
        requests_per_day=workload.requests_per_day,
        usd_per_day=per_day,
        usd_per_request=per_request,
        usd_per_million_tokens=per_request / workload.tokens_per_request * TOKENS_PER_MILLION,
        usd_per_million_output_tokens=per_request / workload.output_tokens * TOKENS_PER_MILLION,
        utilization=1.0,
        replicas_peak=0,
        billed_gpu_hours_per_day=0.0,
        busy_gpu_hours_per_day=0.0,
        cold_start_request_share=0.0,
        usd_per_month=per_day * HOURS_PER_MONTH / HOURS_PER_DAY,
    )


@dataclass(frozen=True)
class Crossover:
    """Monthly volume above which self-hosting is cheaper than an API.

    ``tokens_per_month`` (input + output) is where one always-on replica first costs no more
    than the API; ``always_cheaper_above_tokens_per_month`` is where self-hosting stays
    cheaper at every larger volume (adding replicas in steps can briefly hand the lead back).
    Both None when self-hosting never wins (``reached`` False).
    """

    reached: bool
    tokens_per_month: float | None
    requests_per_month: float | None
    always_cheaper_above_tokens_per_month: float | None
    replica_usd_per_month: float
    replica_capacity_tokens_per_month: float
    api_usd_per_million_tokens: float
    self_hosted_usd_per_million_tokens_at_capacity: float
    reason: str


def api_crossover(api: ApiPrice, *, replica_usd_per_hour: float, output_tokens_per_s: float,
                  input_tokens: float, output_tokens: float,
                  max_utilization: float = 1.0) -> Crossover:
    """Monthly token volume where self-hosting a model class beats its API price.

    Self-hosted cost per month is a staircase: ``ceil(V / K) * M`` for volume ``V``, replica
    capacity ``K`` (tokens/month, input + output, at ``max_utilization``) and replica cost
    ``M`` (USD/month, always on); the API costs ``p * V`` with the blended price ``p`` of the
    request mix. If ``M / K > p`` (a full replica costs more per token than the API)
    self-hosting never wins; otherwise it first wins at ``V1 = M / p`` and always wins above
    ``k * M / p`` with ``k = ceil(K / (K - M / p)) - 1``.

    Parameters
    ----------
    api : ApiPrice
    replica_usd_per_hour : float
        Cost of one replica (cloud rate x GPUs, or TCO per hour). [USD/h]
    output_tokens_per_s : float
        Replica throughput in output tokens at its operating batch. [tokens/s]
    input_tokens, output_tokens : float
        Mean tokens per request. [tokens]
    max_utilization : float
        Highest busy share of a replica, in (0, 1]. [-]
    """
    if not isinstance(api, ApiPrice):
        raise HwcostError(f"api must be an ApiPrice, got {type(api).__name__}")
    hourly = _positive("replica_usd_per_hour", replica_usd_per_hour)
    tps = _positive("output_tokens_per_s", output_tokens_per_s)
    i = _positive("input_tokens", input_tokens)
    o = _positive("output_tokens", output_tokens)
    u = _fraction("max_utilization", max_utilization)
    p = float(api.blended_usd_per_million_tokens(i, o)) / TOKENS_PER_MILLION  # USD/token
    monthly = hourly * HOURS_PER_MONTH
    capacity = tps * (i + o) / o * u * HOURS_PER_MONTH * SECONDS_PER_HOUR  # tokens/month
    at_capacity = monthly / capacity * TOKENS_PER_MILLION
    first = monthly / p
    common = dict(replica_usd_per_month=monthly, replica_capacity_tokens_per_month=capacity,
                  api_usd_per_million_tokens=p * TOKENS_PER_MILLION,
                  self_hosted_usd_per_million_tokens_at_capacity=at_capacity)
    if first > capacity * (1 + 1e-12):
        return Crossover(False, None, None, None, reason=(
            f"never: a fully used replica costs USD {at_capacity:.3g}/1M tokens, more than the "
            f"API's USD {p * 1e6:.3g}/1M"), **common)
    if first >= capacity * (1 - 1e-12):
        k = 1
    else:
        k = max(math.ceil(capacity / (capacity - first) - 1e-12) - 1, 1)
    return Crossover(True, first, first / (i + o), k * first, reason=(
        f"one replica costs USD {monthly:,.0f}/month = {first / 1e6:,.0f}M tokens at the API's "
        f"USD {p * 1e6:.3g}/1M; a replica holds {capacity / 1e6:,.0f}M tokens/month"), **common)


def api_crossovers(llm, *, replica_usd_per_hour: float, output_tokens_per_s: float,
                   input_tokens: float, output_tokens: float, max_utilization: float = 1.0,
                   prices: pd.DataFrame | None = None) -> pd.DataFrame:
    """:func:`api_crossover` against every API offer serving the model class ``llm``.

    Returns
    -------
    DataFrame
        ``id, provider, api_usd_per_million_tokens, reached, tokens_per_month,
        requests_per_month, always_cheaper_above_tokens_per_month``, earliest crossover
        first (offers where self-hosting never wins last, with ``reached`` False and empty
        volumes).
    """
    offers = api_prices_for(llm, prices=prices)
    if offers.empty:
        raise HwcostError(f"no API offer in the catalog serves {catalog.llm(llm).id!r}")
    return api_crossovers_for_offers(offers, replica_usd_per_hour=replica_usd_per_hour,
                                     output_tokens_per_s=output_tokens_per_s,
                                     input_tokens=input_tokens, output_tokens=output_tokens,
                                     max_utilization=max_utilization)


def api_crossovers_for_offers(offers: pd.DataFrame, *, replica_usd_per_hour: float,
                              output_tokens_per_s: float, input_tokens: float,
                              output_tokens: float, max_utilization: float = 1.0) -> pd.DataFrame:
    """:func:`api_crossover` for each row of an API price table (e.g. :func:`api_offers_for_class`).

    Columns as :func:`api_crossovers` plus ``llm_id``; earliest crossover first.
    """
    if not isinstance(offers, pd.DataFrame) or offers.empty:
        raise HwcostError("offers must be a non-empty DataFrame with the columns of catalog.api_prices()")
    rows = []
    for _, row in offers.iterrows():
        c = api_crossover(_api_row_to_price(row), replica_usd_per_hour=replica_usd_per_hour,
                          output_tokens_per_s=output_tokens_per_s, input_tokens=input_tokens,
                          output_tokens=output_tokens, max_utilization=max_utilization)
        rows.append({"id": row["id"], "provider": row["provider"], "llm_id": row["llm_id"],
                     "api_usd_per_million_tokens": c.api_usd_per_million_tokens, "reached": c.reached,
                     "tokens_per_month": c.tokens_per_month, "requests_per_month": c.requests_per_month,
                     "always_cheaper_above_tokens_per_month": c.always_cheaper_above_tokens_per_month})
    df = pd.DataFrame(rows)
    for col in ("tokens_per_month", "requests_per_month", "always_cheaper_above_tokens_per_month"):
        df[col] = pd.array([None if v is None else float(v) for v in df[col]], dtype="Float64")
    order = df["tokens_per_month"].astype("float64").fillna(float(np.finfo(float).max))
    return df.iloc[np.argsort(order.to_numpy(), kind="stable")].reset_index(drop=True)


def _is_moe(m) -> bool:
    return m.active_params_b is not None and m.active_params_b < 0.9 * m.total_params_b


def api_offers_for_class(llm, *, size_tolerance: float = 0.15,
                         prices: pd.DataFrame | None = None) -> pd.DataFrame:
    """API offers for a model's size class: the open models an API sells that are nearest.

    The class is anchored on the catalog model with API offers whose total parameter count
    is nearest to ``llm``'s on a log scale (``llm`` itself when it has offers), among models
    of the same kind (dense or mixture-of-experts); every model with offers whose total
    parameters lie within ``size_tolerance`` of that anchor joins the class (Llama 3.1 70B,
    Llama 3.3 70B and Qwen2.5 72B form one class). Closed models (no ``llm_id``) never do.

    Parameters
    ----------
    llm : str or catalog.LLM
        The model to be served.
    size_tolerance : float
        Relative difference in total parameters within which models share a class, >= 0. [-]
    prices : DataFrame, optional
        A table with the columns of ``catalog.api_prices()``; default the catalog's.

    Returns
    -------
    DataFrame
        The rows of ``api_prices`` in the class, with ``usd_per_million_blended_tokens``
        (3 input : 1 output) and ``exact`` (True where the offer serves ``llm`` itself),
        cheapest blended price first. Raises ``ValueError`` if no open model has offers.
    """
    tol = _non_negative("size_tolerance", size_tolerance)
    target = catalog.llm(llm)
    df = catalog.api_prices() if prices is None else prices
    df = df[df["llm_id"].map(lambda v: isinstance(v, str) and bool(v))]
    if df.empty:
        raise HwcostError("no API offer in the price table names an open catalog model (llm_id)")
    models = {i: catalog.llm(i) for i in sorted(set(df["llm_id"]))}
    same_kind = {i: m for i, m in models.items() if _is_moe(m) == _is_moe(target)} or models
    anchor = min(same_kind.values(),
                 key=lambda m: (abs(math.log(m.total_params_b / target.total_params_b)),
                                m.id != target.id, m.id))
    members = [i for i, m in same_kind.items()
               if abs(m.total_params_b - anchor.total_params_b) <= tol * anchor.total_params_b]
    out = df[df["llm_id"].isin(members)].copy()
    out["usd_per_million_blended_tokens"] = (
        3 * out["usd_per_million_input_tokens"] + out["usd_per_million_output_tokens"]) / 4
    out["exact"] = out["llm_id"] == target.id
    return out.sort_values(["usd_per_million_blended_tokens", "id"], kind="stable").reset_index(drop=True)


def monthly_cost_curve(offers: pd.DataFrame, *, replica_usd_per_hour: float,
                       output_tokens_per_s: float, input_tokens: float, output_tokens: float,
                       tokens_per_month, max_utilization: float = 1.0,
                       label: str = "self-hosted") -> pd.DataFrame:
    """Monthly cost against monthly volume: always-on replicas vs each API offer.

    Replicas: ``ceil(V / K) * M`` (the staircase of :func:`api_crossover`: ``K`` tokens a
    replica serves per month at ``max_utilization``, ``M`` its monthly cost); API:
    ``p * V`` with the offer's blended price ``p`` for the request mix.

    Parameters
    ----------
    offers : DataFrame
        Rows of ``catalog.api_prices()`` (e.g. from :func:`api_offers_for_class`).
    replica_usd_per_hour : float
        Cost of one replica. [USD/h]
    output_tokens_per_s : float
        Output tokens one replica produces per second at its operating batch. [tokens/s]
    input_tokens, output_tokens : float
        Mean tokens per request. [tokens]
    tokens_per_month : array-like
        Volumes (input + output tokens) to evaluate, > 0. [tokens/month]
    max_utilization : float
        Busy share at which another replica is added, in (0, 1]. [-]
    label : str
        Name of the replica option in the ``option`` column.

    Returns
    -------
    DataFrame
        Long format: ``option, kind ('replicas' or 'api'), tokens_per_month,
        usd_per_month, usd_per_million_tokens``.
    """
    v = np.atleast_1d(np.asarray(_positive("tokens_per_month", tokens_per_month), dtype=float))
    hourly = _positive("replica_usd_per_hour", replica_usd_per_hour)
    tps = _positive("output_tokens_per_s", output_tokens_per_s)
    i = _positive("input_tokens", input_tokens)
    o = _positive("output_tokens", output_tokens)
    u = _fraction("max_utilization", max_utilization)
    capacity = tps * (i + o) / o * u * HOURS_PER_MONTH * SECONDS_PER_HOUR
    replicas = np.ceil(v / capacity - 1e-12)
    frames = [pd.DataFrame({"option": label, "kind": "replicas", "tokens_per_month": v,
                            "usd_per_month": replicas * hourly * HOURS_PER_MONTH})]
    for _, row in offers.iterrows():
        price = float(_api_row_to_price(row).blended_usd_per_million_tokens(i, o))
        frames.append(pd.DataFrame({"option": f"API {row['id']}", "kind": "api",
                                    "tokens_per_month": v, "usd_per_month": price * v / TOKENS_PER_MILLION}))
    df = pd.concat(frames, ignore_index=True)
    df["usd_per_million_tokens"] = df["usd_per_month"] / df["tokens_per_month"] * TOKENS_PER_MILLION
    return df


# ----------------------------------------------------------------------------------------
# Hybrid: owned baseline plus cloud burst
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class HybridResult:
    """Daily cost of an owned baseline plus cloud burst replicas (see :func:`hybrid_cost`)."""

    owned_replicas: int
    usd_per_day: float
    usd_per_request: float
    owned_usd_per_day: float
    cloud_usd_per_day: float
    cloud_replica_hours_per_day: float
    owned_utilization: float
    by_hour: pd.DataFrame = field(repr=False, compare=False)


def hybrid_cost(workload: Workload, *, owned_replicas: int, owned_usd_per_replica_hour: float,
                cloud_usd_per_replica_hour: float, replica_output_tokens_per_s: float,
                max_utilization: float = 1.0, cloud_cold_start_s: float = 0.0) -> HybridResult:
    """Owned replicas serve the baseline around the clock; cloud replicas rent the overflow.

    For each hour ``h`` of the workload's profile the replicas needed are
    ``ceil(r_h / c)`` (``c`` = replica capacity in requests/s at ``max_utilization``); owned
    ones are used first, the rest are rented for that hour, each start also billing
    ``cloud_cold_start_s``. Owned replicas cost their TCO every hour whether busy or not.

    Parameters
    ----------
    workload : Workload
    owned_replicas : int
        Owned replicas (0 = all cloud, autoscaled by the hour). [-]
    owned_usd_per_replica_hour, cloud_usd_per_replica_hour : float
        Cost of one replica-hour (TCO x GPUs; cloud rate x GPUs). [USD/h]
    replica_output_tokens_per_s : float
        Throughput of one replica. [tokens/s]
    max_utilization : float
        Busy share at which another replica is added, in (0, 1]. [-]
    cloud_cold_start_s : float
        Billed start-up time of a cloud replica. [s]
    """
    if not isinstance(workload, Workload):
        raise HwcostError(f"workload must be a hwcost.workload.Workload, got {type(workload).__name__}")
    owned = _count("owned_replicas", owned_replicas, minimum=0)
    own_rate = _positive("owned_usd_per_replica_hour", owned_usd_per_replica_hour)
    cloud_rate_ = _positive("cloud_usd_per_replica_hour", cloud_usd_per_replica_hour)
    tps = _positive("replica_output_tokens_per_s", replica_output_tokens_per_s)
    u = _fraction("max_utilization", max_utilization)
    cold = _non_negative("cloud_cold_start_s", cloud_cold_start_s)
    rates = workload.hourly_requests() / SECONDS_PER_HOUR
    capacity = tps * u / workload.output_tokens
    needed = np.ceil(rates / capacity - 1e-12).astype(int)
    cloud = np.maximum(needed - owned, 0)
    starts = np.maximum(np.diff(np.concatenate([cloud[-1:], cloud])), 0)
    busy_replica_h = rates * SECONDS_PER_HOUR * workload.output_tokens / tps / SECONDS_PER_HOUR
    owned_busy = np.minimum(busy_replica_h, owned)
    cloud_hours = float(cloud.sum()) + float(starts.sum()) * cold / SECONDS_PER_HOUR
    owned_usd = owned * own_rate * HOURS_PER_DAY
    cloud_usd = cloud_hours * cloud_rate_
    total = owned_usd + cloud_usd
    by_hour = pd.DataFrame({
        "hour": np.arange(HOURS_PER_DAY),
        "requests": workload.hourly_requests(),
        "replicas_needed": needed,
        "owned_replicas": owned,
        "cloud_replicas": cloud,
        "owned_utilization": owned_busy / owned if owned else np.zeros(HOURS_PER_DAY),
    })
    return HybridResult(
        owned_replicas=owned,
        usd_per_day=total,
        usd_per_request=total / workload.requests_per_day,
        owned_usd_per_day=owned_usd,
        cloud_usd_per_day=cloud_usd,
        cloud_replica_hours_per_day=cloud_hours,
        owned_utilization=float(owned_busy.sum() / (owned * HOURS_PER_DAY)) if owned else 0.0,
        by_hour=by_hour,
    )


def hybrid_sweep(workload: Workload, *, max_owned: int | None = None, **kwargs) -> pd.DataFrame:
    """:func:`hybrid_cost` for 0 .. ``max_owned`` owned replicas (default: the peak need).

    Columns ``owned_replicas, usd_per_day, usd_per_request, owned_usd_per_day,
    cloud_usd_per_day, cloud_replica_hours_per_day, owned_utilization, cheapest``.
    """
    if max_owned is None:
        probe = hybrid_cost(workload, owned_replicas=0, **kwargs)
        max_owned = int(probe.by_hour["replicas_needed"].max())
    max_owned = _count("max_owned", max_owned, minimum=0)
    rows = []
    for k in range(max_owned + 1):
        r = hybrid_cost(workload, owned_replicas=k, **kwargs)
        rows.append({f.name: getattr(r, f.name) for f in dataclasses.fields(r) if f.name != "by_hour"})
    df = pd.DataFrame(rows)
    df["cheapest"] = df["usd_per_day"] == df["usd_per_day"].min()
    return df


# ----------------------------------------------------------------------------------------
# Hardware refresh
# ----------------------------------------------------------------------------------------
def refresh_comparison(*, keep_running_usd_per_gpu_hour: float, keep_tokens_per_s: float,
                       new_tco, new_tokens_per_s: float, years: float = 2.0,
                       keep_resale_usd_now: float = 0.0, keep_resale_usd_later: float = 0.0,
                       utilization: float = 1.0) -> pd.DataFrame:
    """Cost per token of keeping a GPU generation vs moving to the next, over ``years``.

    Keeping: the running cost (power, colocation, operations, maintenance) plus the resale
    value given up by not selling now, ``(resale_now - resale_later) / (years * 8760)``.
    Moving: the new GPU's full TCO per GPU-hour (capital included). Each option's cost per
    million tokens at ``utilization``, and the ratio new / keep.

    Parameters
    ----------
    keep_running_usd_per_gpu_hour : float
        Running cost of an owned old GPU (``TCOResult.running_usd_per_gpu_hour``). [USD/h]
    keep_tokens_per_s, new_tokens_per_s : float
        Throughput per GPU of each generation on the workload. [tokens/s]
    new_tco : SelfHostedTCO or TCOResult
    years : float
        Horizon of the comparison. [years]
    keep_resale_usd_now, keep_resale_usd_later : float
        Value of an old GPU if sold now / at the end of the horizon. [USD]
    utilization : float
        Busy share of either option, in (0, 1]. [-]

    Returns
    -------
    DataFrame
        ``option, usd_per_gpu_hour, tokens_per_s, usd_per_million_tokens, relative_cost``.
    """
    run = _positive("keep_running_usd_per_gpu_hour", keep_running_usd_per_gpu_hour)
    keep_tps = _positive("keep_tokens_per_s", keep_tokens_per_s)
    new_tps = _positive("new_tokens_per_s", new_tokens_per_s)
    y = _positive("years", years)
    now = _non_negative("keep_resale_usd_now", keep_resale_usd_now)
    later = _non_negative("keep_resale_usd_later", keep_resale_usd_later)
    if later > now:
        raise HwcostError(f"keep_resale_usd_later must be <= keep_resale_usd_now, got {later:g} > {now:g}")
    u = _fraction("utilization", utilization)
    t = _tco(new_tco)
    keep_hourly = run + (now - later) / (y * HOURS_PER_YEAR)
    rows = [
        ("keep", keep_hourly, keep_tps),
        ("move", t.usd_per_gpu_hour, new_tps),
    ]
    df = pd.DataFrame(rows, columns=["option", "usd_per_gpu_hour", "tokens_per_s"])
    df["usd_per_million_tokens"] = cost_per_million_tokens(df["usd_per_gpu_hour"].to_numpy(),
                                                           df["tokens_per_s"].to_numpy(), u)
    df["relative_cost"] = df["usd_per_million_tokens"] / df["usd_per_million_tokens"].iloc[0]
    return df


# ----------------------------------------------------------------------------------------
# Uncertainty: seeded Monte Carlo and tornado tables
# ----------------------------------------------------------------------------------------
def sample(value, n: int, rng: np.random.Generator):
    """``n`` draws of a :class:`Range` (PERT or triangular); a number is repeated."""
    n = _count("n", n)
    if isinstance(value, Range):
        lo, mode, hi = value.low, value.typical, value.high
        if hi == lo:
            return np.full(n, lo)
        if value.distribution == "triangular":
            return rng.triangular(lo, mode, hi, size=n)
        a = 1.0 + 4.0 * (mode - lo) / (hi - lo)
        b = 1.0 + 4.0 * (hi - mode) / (hi - lo)
        return lo + (hi - lo) * rng.beta(a, b, size=n)
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return np.full(n, float(value))
    return value  # strings and other settings pass through unchanged


def _outputs(result, n: int | None = None) -> dict:
    if isinstance(result, Mapping):
        out = {str(k): np.asarray(v, dtype=float) for k, v in result.items()}
    else:
        out = {"value": np.asarray(result, dtype=float)}
    for k, v in out.items():
        if not np.all(np.isfinite(v)):
            raise HwcostError(f"output {k!r} has non-finite values (NaN or inf); check the inputs")
        if n is not None and v.shape not in ((n,), ()):
            raise HwcostError(f"output {k!r} has shape {v.shape}; the function must be vectorized "
                             f"over its inputs (expected ({n},))")
        if n is not None and v.shape == ():
            out[k] = np.full(n, float(v))
    return out


@dataclass(frozen=True)
class MonteCarloResult:
    """Seeded samples of inputs and outputs, and their percentiles.

    ``summary`` has one row per output: ``output, p10, p50, p90, mean``.
    """

    samples: pd.DataFrame = field(repr=False)
    summary: pd.DataFrame
    seed: int
    n: int

    def percentile(self, q: float, output: str = "value") -> float:
        if output not in self.samples:
            raise _closest(output, self.summary["output"], "output")
        q = _num("q", q, low=0.0, low_open=False, high=100.0)
        return float(np.percentile(self.samples[output], q))

    def p(self, output: str = "value") -> tuple[float, float, float]:
        """(P10, P50, P90) of one output."""
        return tuple(self.percentile(q, output) for q in (10, 50, 90))


def monte_carlo(func: Callable, inputs: Mapping, *, n: int = 10_000, seed: int = 0) -> MonteCarloResult:
    """Propagate uncertain inputs through ``func`` by seeded Monte Carlo.

    Parameters
    ----------
    func : callable
        Called once as ``func(**{name: array of n draws})``; must be vectorized (every
        function in this module is). Returns an array, or a dict of arrays (several outputs).
    inputs : mapping
        Input name -> :class:`Range` (sampled), number (constant) or any other value
        (passed through).
    n : int
        Number of draws.
    seed : int
        Seed of ``numpy.random.default_rng``; the same seed gives the same result.

    Returns
    -------
    MonteCarloResult
        ``summary`` with P10/P50/P90 and mean per output; ``samples`` with every draw.

    Examples
    --------
    >>> r = monte_carlo(lambda usd_per_kwh: power_usd_per_hour(450, 1.0, 1.0, usd_per_kwh),
    ...                 {"usd_per_kwh": Range(0.10, 0.15, 0.20)}, n=2000, seed=1)
    >>> 0.06 < r.p()[1] < 0.075
    True
    """
    n = _count("n", n)
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise HwcostError(f"seed must be an integer, got {seed!r}")
    rng = np.random.default_rng(seed)
    drawn = {k: sample(v, n, rng) for k, v in inputs.items()}
    outputs = _outputs(func(**drawn), n)
    samples = pd.DataFrame({k: v for k, v in drawn.items() if isinstance(v, np.ndarray)})
    for k, v in outputs.items():
        samples[k] = v
    summary = pd.DataFrame([
        {"output": k, "p10": float(np.percentile(v, 10)), "p50": float(np.percentile(v, 50)),
         "p90": float(np.percentile(v, 90)), "mean": float(np.mean(v))}
        for k, v in outputs.items()
    ])
    return MonteCarloResult(samples=samples, summary=summary, seed=int(seed), n=n)


def tornado(func: Callable, inputs: Mapping, *, output: str | None = None) -> pd.DataFrame:
    """Sensitivity table: the output with each uncertain input at its low and high value.

    Every other input stays at its typical value. Rows are ranked by ``swing =
    |output_high - output_low|``, largest first (the order of a tornado chart).

    Returns
    -------
    DataFrame
        ``input, low, typical, high, output_low, output_high, output_base, swing, rank``.
    """
    base_inputs = typical_inputs(inputs)

    def run(values) -> float:
        res = _outputs(func(**values))
        key = output or ("value" if "value" in res else None)
        if key is None:
            if len(res) != 1:
                raise HwcostError(f"func returns several outputs ({', '.join(res)}); pass output=")
            key = next(iter(res))
        if key not in res:
            raise _closest(key, res, "output")
        return float(res[key])

    base = run(base_inputs)
    rows = []
    for name, value in inputs.items():
        if not isinstance(value, Range):
            continue
        lo = run({**base_inputs, name: value.low})
        hi = run({**base_inputs, name: value.high})
        rows.append({"input": name, "low": value.low, "typical": value.typical, "high": value.high,
                     "output_low": lo, "output_high": hi, "output_base": base, "swing": abs(hi - lo)})
    if not rows:
        raise HwcostError("tornado needs at least one input given as a Range")
    df = pd.DataFrame(rows).sort_values("swing", ascending=False, kind="stable").reset_index(drop=True)
    df["rank"] = np.arange(1, len(df) + 1)
    return df


# ----------------------------------------------------------------------------------------
# Owning a fleet: what can be bought, what it costs up front and every year
# ----------------------------------------------------------------------------------------
# Financing and upkeep of owned hardware: cost of capital per year, value left after the
# service life, repairs/spares/support per year as a share of the hardware price. The same
# defaults as 03_self_hosting_economics (assumptions; move them there or here).
DISCOUNT_RATE = 0.08
RESALE_FRACTION = 0.2
MAINTENANCE_FRACTION_PER_YEAR = 0.03
# Networking (switch ports, cables, optics) and setup (racking, burn-in) per box, by segment:
# the article's "$5,000 networking/setup" for one 8-GPU server; a few hundred dollars of
# switch port, cabling and an afternoon for a desk-side box (assumption).
NETWORKING_SETUP_USD_PER_BOX = {"datacenter": 5000.0, "workstation": 500.0, "consumer": 500.0}
# Host power per GPU where the catalog gives no box power: a dual-socket server's CPUs, fans
# and NICs over its GPUs (~2 kW over 8), a desktop host per card (as in 03). Assumptions. [W]
HOST_POWER_W_PER_GPU = {"datacenter": 250.0, "workstation": 100.0, "consumer": 100.0}
# Power an air-cooled rack takes in a colocation hall for racks of GPU servers (high-density
# AI colocation runs 20-100 kW per rack; 40 kW = four 10 kW servers). An NVL72 is its own rack. [kW]
RACK_KW = 40.0
ESTIMATES = ("low", "typical", "high")

CONSUMER_CAVEAT = (
    "GeForce card: NVIDIA's GeForce driver licence excludes datacenter deployment, there is "
    "no ECC on the memory and no enterprise support; fine in an office or lab, check the "
    "licence before racking it")
WORKSTATION_CAVEAT = "workstation card: desk-side box, no redundant power or remote management"


@dataclass(frozen=True)
class PurchasePlan:
    """GPUs rounded up to what can be bought, and what they come in.

    Attributes
    ----------
    gpu_id, sold_as : str
        The GPU and how it is sold (``card``, ``workstation``, ``hgx-4``, ``hgx-8``,
        ``oam-ubb-8``, ``nvl72-rack``; see ``data/purchase_units.csv``).
    segment : str
        ``datacenter``, ``workstation`` or ``consumer`` (from ``gpus.csv``).
    gpus_per_unit, max_gpus_per_box : int
        GPUs bought together, and the most one box (server, workstation, rack) holds.
    gpus_per_replica, replicas : int
        What is served: replicas of ``gpus_per_replica`` GPUs, each inside one box.
    n_gpus_needed, n_gpus_bought, spare_gpus : int
        GPUs the replicas use, GPUs bought, and the difference (bought but idle). [GPUs]
    n_units, n_boxes, n_racks : int
        Purchase units, boxes, and datacenter racks (0 for desk-side boxes).
    kw : float
        Nameplate power of all boxes (what a colocation contract commits to). [kW]
    host_w_per_gpu : float
        Host power attributed to each GPU at full load. [W]
    """

    gpu_id: str
    sold_as: str
    segment: str
    gpus_per_unit: int
    max_gpus_per_box: int
    gpus_per_replica: int
    replicas: int
    n_gpus_needed: int
    n_gpus_bought: int
    spare_gpus: int
    n_units: int
    n_boxes: int
    n_racks: int
    kw: float
    host_w_per_gpu: float

    @property
    def caveat(self) -> str:
        """Licence/ECC/support note for consumer and workstation cards ("" otherwise)."""
        return {"consumer": CONSUMER_CAVEAT, "workstation": WORKSTATION_CAVEAT}.get(self.segment, "")

    def bill_of_materials(self) -> str:
        """One line: boxes, GPUs (with the spares), racks and power."""
        unit = {"card": "server", "workstation": "box", "hgx-4": "HGX server",
                "hgx-8": "HGX server", "oam-ubb-8": "OAM server",
                "nvl72-rack": "NVL72 rack"}.get(self.sold_as, "box")
        plural = "es" if unit.endswith("x") else "s"
        parts = [f"{self.n_boxes} {unit}{'' if self.n_boxes == 1 else plural}",
                 f"{self.n_gpus_bought} x {self.gpu_id}"
                 + (f" ({self.spare_gpus} spare)" if self.spare_gpus else "")]
        if self.n_racks:
            parts.append(f"{self.n_racks} rack{'' if self.n_racks == 1 else 's'}")
        parts.append(f"{self.kw:.1f} kW")
        return ", ".join(parts)


def _purchase_row(g) -> dict:
    """The GPU's purchase_units row, or a card-by-card default for a GPU the table lacks."""
    try:
        return catalog.purchase_unit(g.id)
    except catalog.CatalogError:
        box = 8 if g.segment == "datacenter" else 4
        return {"gpu_id": g.id, "sold_as": "card", "gpus_per_unit": 1, "max_gpus_per_box": box,
                "host_usd_per_gpu_low": None, "host_usd_per_gpu_typical": None,
                "host_usd_per_gpu_high": None, "min_host_usd_per_box": None, "box_kw": None}


def purchase_plan(gpu, replicas: int = 1, gpus_per_replica: int = 1) -> PurchasePlan:
    """Round ``replicas`` x ``gpus_per_replica`` GPUs up to what can be bought.

    A replica never spans boxes. Boxes are filled with whole replicas
    (``max_gpus_per_box // gpus_per_replica`` each); the last box holds the rest, rounded
    up to whole purchase units (a 4-GPU HGX board, an 8-GPU UBB, a 72-GPU NVL72 rack).

    Parameters
    ----------
    gpu : str or catalog.GPU
    replicas : int
        Model copies to serve (spares included). [-]
    gpus_per_replica : int
        GPUs per copy (tensor or pipeline parallel). [-]

    Returns
    -------
    PurchasePlan

    Raises
    ------
    ValueError
        When one replica needs more GPUs than one box holds (an NVLink domain cannot be
        bought larger than the box).

    Examples
    --------
    One 70B replica on one H200 still buys a 4-GPU HGX board (3 spare GPUs); one replica on
    4 GB200 GPUs buys a 72-GPU NVL72 rack.
    """
    g = gpu if isinstance(gpu, catalog.GPU) else catalog.gpu(gpu)
    r = _count("replicas", replicas)
    n = _count("gpus_per_replica", gpus_per_replica)
    row = _purchase_row(g)
    unit, box = int(row["gpus_per_unit"]), int(row["max_gpus_per_box"])
    if n > box:
        raise HwcostError(f"a replica of {n} x {g.id} does not fit one box: a {row['sold_as']} box "
                         f"holds at most {box} GPUs")
    per_box = box // n
    full, rest = divmod(r, per_box)
    in_full_box = math.ceil(per_box * n / unit) * unit  # cards are not bought to fill a box
    last = math.ceil(rest * n / unit) * unit if rest else 0
    bought = full * in_full_box + last
    boxes = full + (1 if rest else 0)
    if row["box_kw"] is not None:
        host_w = max(float(row["box_kw"]) * 1000.0 / box - float(g.tdp_w), 0.0)
    else:
        host_w = HOST_POWER_W_PER_GPU.get(g.segment, HOST_POWER_W_PER_GPU["datacenter"])
    kw = bought * (float(g.tdp_w) + host_w) / 1000.0
    if row["sold_as"] == "nvl72-rack":
        racks = boxes
    elif g.segment == "datacenter":
        racks = math.ceil(kw / RACK_KW - 1e-9)
    else:
        racks = 0
    return PurchasePlan(gpu_id=g.id, sold_as=row["sold_as"], segment=g.segment,
                        gpus_per_unit=unit, max_gpus_per_box=box, gpus_per_replica=n,
                        replicas=r, n_gpus_needed=r * n, n_gpus_bought=bought,
                        spare_gpus=bought - r * n, n_units=bought // unit, n_boxes=boxes,
                        n_racks=racks, kw=kw, host_w_per_gpu=host_w)


@dataclass(frozen=True)
class OwnershipCost:
    """What an owned fleet costs: up front, every year, and by component.

    Money per year is for the whole fleet at the given utilization. ``capital_usd_per_year``
    is the purchase spread over the service life with interest, less resale (capital
    recovery); ``running_usd_per_year`` is everything paid while the hardware runs.

    Attributes
    ----------
    plan : PurchasePlan
    inputs : SelfHostedTCO
        The same fleet as inputs of :func:`self_hosted_tco` (whole fleet, per-GPU amounts), for
        :func:`break_even`, :func:`npv` and :func:`self_hosted_usd_per_busy_gpu_hour`.
    estimate : str
        ``low``, ``typical`` or ``high`` catalog values.
    energy : str
        ``energy.csv`` id; ``colocation`` True when it prices a kW-month.
    utilization : float
        Busy share of the GPUs bought. [-]
    gpu_usd, host_usd, networking_setup_usd, capex_usd : float
        Up front: GPUs, hosts (chassis, CPUs, memory, NICs), networking and setup; total. [USD]
    capital_usd_per_year, power_usd_per_year, colocation_usd_per_year,
    maintenance_usd_per_year, staff_usd_per_year : float
        The yearly components. [USD/year]
    running_usd_per_year, total_usd_per_year : float
        All but capital; all. [USD/year]
    usd_per_gpu_hour : float
        ``total_usd_per_year`` per GPU bought per hour. [USD/h]
    staff_fraction : float
        Share of one administrator (base + per box x boxes). [-]
    """

    plan: PurchasePlan
    inputs: SelfHostedTCO
    estimate: str
    energy: str
    colocation: bool
    utilization: float
    gpu_usd: float
    host_usd: float
    networking_setup_usd: float
    capex_usd: float
    capital_usd_per_year: float
    power_usd_per_year: float
    colocation_usd_per_year: float
    maintenance_usd_per_year: float
    staff_usd_per_year: float
    staff_fraction: float
    running_usd_per_year: float
    total_usd_per_year: float
    usd_per_gpu_hour: float

    @property
    def usd_per_hour(self) -> float:
        """The whole fleet per wall-clock hour. [USD/h]"""
        return self.total_usd_per_year / HOURS_PER_YEAR

    def yearly_at(self, utilization, idle_power_fraction=IDLE_POWER_FRACTION) -> dict:
        """The same fleet at another utilization: only power changes (it follows
        :func:`average_load`). A dict of ``utilization, power_usd_per_year,
        running_usd_per_year, total_usd_per_year, usd_per_gpu_hour``, equal to the fields of
        ``ownership_cost(..., utilization=utilization)``; cheap, for sweeps. [USD/year]"""
        u = float(_fraction("utilization", utilization))
        full = self.power_usd_per_year / self.inputs.average_load
        power = full * float(average_load(u, idle_power_fraction))
        running = self.running_usd_per_year - self.power_usd_per_year + power
        total = self.total_usd_per_year - self.power_usd_per_year + power
        return {"utilization": u, "power_usd_per_year": power, "running_usd_per_year": running,
                "total_usd_per_year": total,
                "usd_per_gpu_hour": total / (self.plan.n_gpus_bought * HOURS_PER_YEAR)}

    def total_usd(self, years: float) -> float:
        """Cost over ``years``: capital recovery plus running cost. [USD]"""
        return self.total_usd_per_year * _positive("years", years)

    def breakdown(self) -> pd.DataFrame:
        """One row per yearly component: ``component, usd_per_year, usd_per_gpu_hour, share``."""
        parts = {"capital": self.capital_usd_per_year, "power": self.power_usd_per_year,
                 "colocation": self.colocation_usd_per_year,
                 "maintenance": self.maintenance_usd_per_year, "staff": self.staff_usd_per_year}
        df = pd.DataFrame({"component": list(parts), "usd_per_year": list(parts.values())})
        df["usd_per_gpu_hour"] = df["usd_per_year"] / (self.plan.n_gpus_bought * HOURS_PER_YEAR)
        df["share"] = df["usd_per_year"] / self.total_usd_per_year
        return df

    def to_dict(self) -> dict:
        """Flat fields for a table row (plan fields included, ``bill_of_materials`` as text)."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
               if f.name not in ("plan", "inputs")}
        out.update({f.name: getattr(self.plan, f.name) for f in dataclasses.fields(self.plan)})
        out["bill_of_materials"] = self.plan.bill_of_materials()
        out["caveat"] = self.plan.caveat
        return out


def _pick(value, estimate: str) -> float:
    if isinstance(value, Range):
        return float(getattr(value, estimate))
    return float(value)


_PRICES: dict[tuple, tuple] = {}


def _ownership_prices(g, row, energy, condition, estimate):
    """(gpu_usd, host_usd_per_gpu, usd_per_kwh, pue, colocation USD per kW-month or None) at
    one estimate, from the catalog; cached until a table file changes."""
    key = (g.id, energy, condition, estimate, catalog.table_version("hardware_prices"),
           catalog.table_version("energy"), catalog.table_version("purchase_units"))
    if key not in _PRICES:
        if len(_PRICES) > 4096:
            _PRICES.clear()
        inputs = tco_inputs_from_catalog(g, energy=energy, condition=condition)
        if row["host_usd_per_gpu_typical"] is not None:
            host = Range(row["host_usd_per_gpu_low"], row["host_usd_per_gpu_typical"],
                         row["host_usd_per_gpu_high"])
        else:
            host = inputs["server_share_usd"]
        erow = _energy_row(energy)
        rate = erow[f"colocation_usd_per_kw_month_{estimate}"]
        if rate is None or pd.isna(rate):
            rate, pue = None, _pick(inputs["pue"], estimate)
        else:
            # the colocation fee covers the facility: energy is metered at the IT load
            rate, pue = float(rate), 1.0
        _PRICES[key] = (_pick(inputs["gpu_usd"], estimate), _pick(host, estimate),
                        _pick(inputs["usd_per_kwh"], estimate), pue, rate)
    return _PRICES[key]


def ownership_cost(gpu, replicas: int = 1, gpus_per_replica: int = 1, *, utilization=1.0,
                   energy: str | None = None, condition: str = "new", estimate: str = "typical",
                   amortization_years: float = 3.0, discount_rate: float = DISCOUNT_RATE,
                   resale_fraction: float = RESALE_FRACTION,
                   maintenance_fraction_per_year: float = MAINTENANCE_FRACTION_PER_YEAR,
                   idle_power_fraction: float = IDLE_POWER_FRACTION,
                   staff_base_fraction: float = STAFF_BASE_FRACTION,
                   staff_per_box_fraction: float = STAFF_PER_BOX_FRACTION,
                   operations_usd_per_year: float | None = None,
                   networking_setup_usd_per_box: float | None = None) -> OwnershipCost:
    """The one cost-of-ownership model: an owned fleet, bought in whole units, by component.

    1. :func:`purchase_plan` rounds the GPUs up to whole purchase units and boxes.
    2. Up front (``capex_usd``): GPUs at the catalog price; hosts at the purchase unit's
       host cost per GPU (``purchase_units.csv``) or else the ``hardware_prices.csv`` server
       share, and at least the unit's ``min_host_usd_per_box`` per box; networking and setup
       per box (:data:`NETWORKING_SETUP_USD_PER_BOX`).
    3. Every year, through :func:`self_hosted_usd_per_gpu_hour` (one formula for all
       callers): capital recovery at ``discount_rate`` over ``amortization_years`` less
       ``resale_fraction`` of the hardware; power of GPUs and hosts at
       ``average_load(utilization, idle_power_fraction)``; with a colocation rate in the
       energy setting, the committed kW (nameplate of the boxes) x USD per kW-month and the
       energy metered at the IT load, else the energy x PUE; maintenance as a share of the
       hardware price; staff as ``staff_base_fraction + staff_per_box_fraction x boxes`` of
       one administrator (:func:`operations_usd_per_year`), or a flat
       ``operations_usd_per_year``.

    Parameters
    ----------
    gpu : str or catalog.GPU
    replicas, gpus_per_replica : int
        What must be served (spares included). [-]
    utilization : float
        Busy share of the GPUs *bought*, in (0, 1]. [-]
    energy : str, optional
        ``energy.csv`` id; default: colocation (``us-industrial-colo``) for datacenter GPUs,
        an office (``us-commercial``) for workstation and consumer cards.
    condition : {"new", "used"}
    estimate : {"low", "typical", "high"}
        Which catalog value of each uncertain price (GPU, host, electricity, PUE,
        colocation) to use: ``low`` gives the lowest cost.
    amortization_years, discount_rate, resale_fraction, maintenance_fraction_per_year,
    idle_power_fraction
        See :class:`SelfHostedTCO` and :func:`average_load`. [years], [1/year], [-]
    staff_base_fraction, staff_per_box_fraction : float
        Shares of one administrator for the deployment and per box. [-]
    operations_usd_per_year : float, optional
        A flat staff cost for the whole fleet instead of the shares. [USD/year]
    networking_setup_usd_per_box : float, optional
        Override of :data:`NETWORKING_SETUP_USD_PER_BOX`. [USD]

    Returns
    -------
    OwnershipCost

    Examples
    --------
    One DGX-class 8x H100 server at 70 % load in colocation (USD 196 per kW-month, typical
    catalog prices): about USD 156k a year, USD 2.2 per GPU-hour.
    """
    g = gpu if isinstance(gpu, catalog.GPU) else catalog.gpu(gpu)
    _choice("estimate", estimate, ESTIMATES)
    plan = purchase_plan(g, replicas, gpus_per_replica)
    u = float(_fraction("utilization", utilization))
    if energy is None:
        energy = "us-industrial-colo" if g.segment == "datacenter" else "us-commercial"
    row = _purchase_row(g)
    gpu_usd, host_usd, kwh, pue, colo_rate = _ownership_prices(g, row, energy, condition, estimate)
    if row.get("min_host_usd_per_box"):
        # a box costs at least its minimum host however few GPUs it holds
        per_box = math.ceil(plan.n_gpus_bought / plan.n_boxes)
        host_usd = max(host_usd, float(row["min_host_usd_per_box"]) / per_box)
    colocation = colo_rate is not None
    colo_per_year = plan.kw * colo_rate * 12.0 if colocation else 0.0
    if networking_setup_usd_per_box is None:
        net = NETWORKING_SETUP_USD_PER_BOX.get(g.segment, NETWORKING_SETUP_USD_PER_BOX["datacenter"])
    else:
        net = float(_non_negative("networking_setup_usd_per_box", networking_setup_usd_per_box))
    if operations_usd_per_year is None:
        staff_fraction = (float(_non_negative("staff_base_fraction", staff_base_fraction))
                          + float(_non_negative("staff_per_box_fraction", staff_per_box_fraction))
                          * plan.n_boxes)
        staff = float(operations_usd_per_year_from_fraction(staff_fraction))
    else:
        staff = float(_non_negative("operations_usd_per_year", operations_usd_per_year))
        staff_fraction = staff / float(operations_usd_per_year_from_fraction(1.0))
    n = plan.n_gpus_bought
    tco = SelfHostedTCO(
        gpu_usd=gpu_usd, tdp_w=float(g.tdp_w), usd_per_kwh=kwh, n_gpus=n, server_share_usd=host_usd,
        networking_usd=net * plan.n_boxes, amortization_years=amortization_years,
        resale_fraction=resale_fraction, average_load=float(average_load(u, idle_power_fraction)),
        host_power_w=plan.host_w_per_gpu, pue=pue, colocation_usd_per_year=colo_per_year,
        operations_usd_per_year=staff, maintenance_fraction_per_year=maintenance_fraction_per_year,
        discount_rate=discount_rate, label=f"own {plan.bill_of_materials()}")
    r = self_hosted_tco(tco)
    parts = {"capex": r.capex_usd_per_gpu_hour, "power": r.power_usd_per_gpu_hour,
             "colocation": r.colocation_usd_per_gpu_hour, "operations": r.operations_usd_per_gpu_hour,
             "maintenance": r.maintenance_usd_per_gpu_hour, "total": r.usd_per_gpu_hour}
    per_year = {k: float(v) * n * HOURS_PER_YEAR for k, v in parts.items()}
    running = (per_year["power"] + per_year["colocation"] + per_year["maintenance"]
               + per_year["operations"])
    return OwnershipCost(
        plan=plan, inputs=tco, estimate=estimate, energy=energy, colocation=bool(colocation),
        utilization=u,
        gpu_usd=gpu_usd * n, host_usd=host_usd * n, networking_setup_usd=net * plan.n_boxes,
        capex_usd=(gpu_usd + host_usd) * n + net * plan.n_boxes,
        capital_usd_per_year=per_year["capex"], power_usd_per_year=per_year["power"],
        colocation_usd_per_year=per_year["colocation"],
        maintenance_usd_per_year=per_year["maintenance"], staff_usd_per_year=staff,
        staff_fraction=staff_fraction, running_usd_per_year=running,
        total_usd_per_year=per_year["total"], usd_per_gpu_hour=float(parts["total"]))


def operations_usd_per_year_from_fraction(fraction: float) -> float:
    """:func:`operations_usd_per_year` at the package's wage figures (a scalar). [USD/year]"""
    return float(operations_usd_per_year(fraction))


def ownership_cost_range(gpu, replicas: int = 1, gpus_per_replica: int = 1, **kwargs) -> pd.DataFrame:
    """:func:`ownership_cost` at the catalog's low, typical and high values, one row each.

    Columns: ``estimate`` and every field of :meth:`OwnershipCost.to_dict`.
    """
    if "estimate" in kwargs:
        raise HwcostError("ownership_cost_range evaluates every estimate; do not pass estimate=")
    return pd.DataFrame([ownership_cost(gpu, replicas, gpus_per_replica, estimate=e, **kwargs).to_dict()
                         for e in ESTIMATES])


def ownership_inputs(gpu, replicas: int = 1, gpus_per_replica: int = 1, **kwargs) -> dict:
    """The fleet of :func:`ownership_cost` as :class:`SelfHostedTCO` fields, uncertain ones as
    :class:`Range` (low, typical, high catalog values), for :func:`monte_carlo`,
    :func:`tornado` and :func:`self_hosted_usd_per_busy_gpu_hour`.

    ``average_load`` and ``label`` are left out (the utilization sets the load there).
    """
    if "estimate" in kwargs:
        raise HwcostError("ownership_inputs spans every estimate; do not pass estimate=")
    fleets = [ownership_cost(gpu, replicas, gpus_per_replica, estimate=e, **kwargs).inputs
              for e in ESTIMATES]
    out = {}
    for f in dataclasses.fields(SelfHostedTCO):
        if f.name in ("average_load", "label"):
            continue
        lo, typ, hi = (getattr(t, f.name) for t in fleets)
        if f.name == "n_gpus" or lo == typ == hi:
            out[f.name] = typ
        else:
            lo, hi = min(lo, typ, hi), max(lo, typ, hi)
            out[f.name] = Range(lo, typ, hi)
    return out
