"""The source article's figures as data, each recomputed and classified.

The article this project started from ("Selecting Hardware for LLM Inference", a guide with
cloud prices, self-hosting economics, two cost scenarios, optimization tips and an FAQ)
states many numbers. Each quantitative claim is a :class:`Claim`: its section, the claim's
text, the value and unit it states, the inputs the article gives, and a function that
recomputes it from those inputs with :mod:`hwcost.economics` (money) and
:mod:`hwcost.perf` (physics), or from the catalog (prices, specs). :func:`audit` evaluates
them all into one table.

Status of a claim:

- ``agrees``: the recomputed value matches within the claim's tolerance;
- ``disagrees``: it does not (``difference_pct`` gives the size: claimed vs recomputed);
- ``implausible input``: the arithmetic holds, but an input (typically a price) lies far
  outside the catalog's range, or the claim *is* such a price;
- ``not checkable``: nothing to recompute (no hardware named, a matter of opinion, a
  quality metric); the reason says why and, where possible, what the numbers say.

How a claimed value is compared with the recomputed one (``relation``):

- ``approx`` (default): point vs point, relative difference within ``tolerance``; a point
  vs a recomputed range, inside the range; a claimed range vs a recomputed point, the point
  inside the claimed range; range vs range, the two overlap. ``difference_pct`` is 0 when
  inside/overlapping, otherwise the gap relative to the nearest recomputed value.
- ``span``: the claimed range describes the whole spread (``"APIs cost $0.50-15"``): each
  end is compared with the recomputed end; ``difference_pct`` is the larger gap.
- ``at_least`` / ``at_most``: the claim is a bound (``"2x or more"``, ``"leads on cost"``).

Recomputations from :mod:`hwcost.perf` carry its error band (``Estimate.error_band``): a
claimed throughput within ``[prediction x low, prediction x high]`` is not refuted.

:func:`scenario_comparison` puts the article's two scenarios next to the corrected,
utilization-aware answer computed with :mod:`hwcost.perf` and current catalog prices.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import math
import re
import textwrap
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable

import pandas as pd

from .. import catalog, economics, perf, serving, validate
from ..errors import HwcostError
from ..requirements import SLO, Workload

AGREES = "agrees"
DISAGREES = "disagrees"
IMPLAUSIBLE = "implausible input"
NOT_CHECKABLE = "not checkable"
STATUSES = (AGREES, DISAGREES, IMPLAUSIBLE, NOT_CHECKABLE)
RELATIONS = ("approx", "span", "at_least", "at_most")

ARTICLE = "Selecting Hardware for LLM Inference (source article, seed/*.txt)"

# How far outside the catalog's [low, high] purchase-price range an input may be before it
# is called implausible (a factor, either way).
IMPLAUSIBLE_FACTOR = 1.5
# Share of board power a GPU draws when idle; used where an always-on GPU is almost never
# busy. One assumption for the whole package, defined (and documented) in economics.
IDLE_POWER_FRACTION = economics.IDLE_POWER_FRACTION
# Latency targets a replica's capacity is computed at in corrected_options: the defaults of
# recommend.Constraints (first token within 1 s, 100 ms per token after it, at the 95th
# percentile). Capacity without a target (the largest batch memory holds) is what an offline
# batch job gets, and its first token can take tens of seconds.
CAPACITY_SLO = SLO(ttft_s=1.0, tpot_s=0.1)
# Sustained read rates of local NVMe storage used for model-load times. [GB/s]
NVME_READ_GBPS = (2.0, 7.0)

AUDIT_COLUMNS = (
    "claim_id", "section", "claim", "claimed_value", "claimed_high", "claimed_unit", "inputs",
    "recomputed_value", "recomputed_low", "recomputed_high", "as_written_value", "status",
    "difference_pct", "reason",
)


# ----------------------------------------------------------------------------------------
# Data structures
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Check:
    """What a recompute function found.

    Parameters
    ----------
    value : float, optional
        Recomputed central value (None when nothing can be recomputed).
    low, high : float, optional
        Recomputed range, when the inputs are ranges or the answer depends on a setting.
    reason : str
        One line: how it was recomputed and what it means.
    implausible : str, optional
        Why an input is implausible (set -> status ``implausible input`` if the arithmetic
        holds).
    as_written : float, optional
        The article's own formula evaluated exactly as printed, where it prints one.
    status : str, optional
        Force a status (``not checkable``; ``implausible input`` for a price claim far
        outside the catalog).
    """

    value: float | None = None
    low: float | None = None
    high: float | None = None
    reason: str = ""
    implausible: str | None = None
    as_written: float | None = None
    status: str | None = None


@dataclass(frozen=True)
class Claim:
    """One quantitative claim of the article, with the function that recomputes it.

    ``inputs`` are ``(name, value, unit)`` triples as the article states them (or, where it
    states none, as the recomputation assumes them; the reason says which).
    ``claimed_high`` is set when the article gives a range (``claimed_value`` is then its
    low end).
    """

    claim_id: str
    section: str
    claim: str
    claimed_value: float | None
    claimed_unit: str
    inputs: tuple = ()
    recompute: Callable[[dict], Check] | None = None
    claimed_high: float | None = None
    tolerance: float = 0.05
    relation: str = "approx"
    reason: str = ""

    def __post_init__(self):
        if self.relation not in RELATIONS:
            raise HwcostError(f"relation must be one of {', '.join(RELATIONS)}, got {self.relation!r}")
        if self.claimed_high is not None and self.claimed_value is not None \
                and self.claimed_high < self.claimed_value:
            raise HwcostError(f"claim {self.claim_id}: claimed range low > high "
                             f"({self.claimed_value} > {self.claimed_high})")

    @property
    def input_values(self) -> dict:
        return {name: value for name, value, _unit in self.inputs}

    def inputs_text(self) -> str:
        def fmt(v):
            if isinstance(v, tuple):
                return "-".join(f"{x:g}" for x in v)
            return f"{v:g}" if isinstance(v, (int, float)) else str(v)

        return "; ".join(f"{n}={fmt(v)} {u}".rstrip() for n, v, u in self.inputs)

    def check(self) -> Check:
        if self.recompute is None:
            return Check(reason=self.reason, status=NOT_CHECKABLE)
        return self.recompute(self.input_values)

    def evaluate(self) -> dict:
        """One row of :func:`audit`."""
        c = self.check()
        lo = c.low if c.low is not None else c.value
        hi = c.high if c.high is not None else c.value
        reason = c.reason or self.reason
        diff = None
        if c.status == NOT_CHECKABLE or self.claimed_value is None or lo is None:
            status = NOT_CHECKABLE
        else:
            a = self.claimed_value
            b = self.claimed_high if self.claimed_high is not None else a
            ok, diff = compare(a, b, lo, hi, self.tolerance, self.relation)
            if c.status is not None:
                status = c.status
            elif not ok:
                status = DISAGREES
            elif c.implausible:
                status = IMPLAUSIBLE
            else:
                status = AGREES
            if c.implausible and c.implausible not in reason:
                reason = f"{reason}; implausible input: {c.implausible}" if reason else c.implausible
        value = c.value if c.value is not None else (
            (lo + hi) / 2 if lo is not None and hi is not None else None)
        return {
            "claim_id": self.claim_id,
            "section": self.section,
            "claim": self.claim,
            "claimed_value": self.claimed_value,
            "claimed_high": self.claimed_high,
            "claimed_unit": self.claimed_unit,
            "inputs": self.inputs_text(),
            "recomputed_value": value,
            "recomputed_low": c.low,
            "recomputed_high": c.high,
            "as_written_value": c.as_written,
            "status": status,
            "difference_pct": diff,
            "reason": reason,
        }


def compare(a: float, b: float, c: float, d: float, tolerance: float,
            relation: str = "approx") -> tuple[bool, float]:
    """Compare a claimed interval [a, b] with a recomputed interval [c, d].

    Returns ``(agrees, difference_pct)``; see the module docstring for the rules.
    Points are intervals with equal ends. ``difference_pct`` is claimed minus recomputed,
    relative to the recomputed value, in percent (0 when the claim is satisfied exactly).
    """
    for name, v in (("a", a), ("b", b), ("c", c), ("d", d)):
        if v is None or not math.isfinite(v):
            raise HwcostError(f"compare: {name} must be a finite number, got {v!r}")
    if a > b or c > d:
        raise HwcostError(f"compare: ranges must have low <= high, got [{a}, {b}] and [{c}, {d}]")
    if c <= 0:
        raise HwcostError(f"compare: recomputed values must be > 0, got {c}")

    def rel(x, ref):
        return (x - ref) / ref

    if relation == "at_least":  # the truth is at least a
        diff = 0.0 if d >= a else rel(a, d)
    elif relation == "at_most":  # the truth is at most b
        diff = 0.0 if c <= b else rel(b, c)
    elif relation == "span":
        lo, hi = rel(a, c), rel(b, d)
        diff = lo if abs(lo) >= abs(hi) else hi
    else:
        if b < c:
            diff = rel(b, c)
        elif a > d:
            diff = rel(a, d)
        else:
            diff = 0.0 if (a != b or c != d) else rel(a, c)
    return abs(diff) <= tolerance + 1e-12, 100.0 * diff


# ----------------------------------------------------------------------------------------
# Helpers for recompute functions
# ----------------------------------------------------------------------------------------
def _usd(x: float) -> str:
    if x >= 100:
        return f"${x:,.0f}"
    if x >= 1:
        return f"${x:,.2f}"
    return f"${x:.3g}"


def _est(model, gpu, n_gpus=1, precision="bf16", batch_size=1, input_tokens=500, output_tokens=150):
    # Cached on the catalog entities, not their ids: a user's table is a different key.
    return _est_cached(catalog.llm(model), catalog.gpu(gpu), n_gpus, precision, batch_size,
                       input_tokens, output_tokens)


@lru_cache(maxsize=4096)
def _est_cached(model, gpu, n_gpus, precision, batch_size, input_tokens, output_tokens):
    return perf.estimate(model, gpu, n_gpus=n_gpus, precision=precision, batch_size=batch_size,
                         input_tokens=input_tokens, output_tokens=output_tokens)


def _band(est) -> tuple[float, float]:
    lo, hi = est.error_band
    return est.output_tokens_per_s * lo, est.output_tokens_per_s * hi


def _offer(provider, gpu, offering=None, gpus_per_instance=None) -> pd.Series:
    rate = economics.cloud_rate(provider, gpu, offering=offering, gpus_per_instance=gpus_per_instance)
    df = catalog.cloud_prices()
    return df[df["id"] == rate.offer_id].iloc[0]


def _cloud_price_check(provider, gpu, offering=None, gpus_per_instance=None, per="instance"):
    def run(_x):
        row = _offer(provider, gpu, offering, gpus_per_instance)
        value = float(row["usd_per_hour"] if per == "instance" else row["usd_per_gpu_hour"])
        return Check(value=value, reason=f"catalog offer {row['id']}: {_usd(value)}/h as of {row['as_of']}")
    return run


def _hardware_range(gpu, condition="new") -> tuple[float, float, float]:
    hw = catalog.hardware_prices()
    g = catalog.gpu(gpu).id
    row = hw[(hw["gpu_id"] == g) & (hw["condition"] == condition)].iloc[0]
    return float(row["usd_low"]), float(row["usd_typical"]), float(row["usd_high"])


def _implausible_gpu_price(gpu, usd_per_gpu: float) -> str | None:
    lo, typ, hi = _hardware_range(gpu)
    if usd_per_gpu < lo / IMPLAUSIBLE_FACTOR or usd_per_gpu > hi * IMPLAUSIBLE_FACTOR:
        return (f"{_usd(usd_per_gpu)} per {catalog.gpu(gpu).id} vs the catalog's "
                f"{_usd(lo)}-{_usd(hi)} (new, typical {_usd(typ)})")
    return None


def _hardware_price_check(gpu, n_gpus=1):
    """A claim that *is* a purchase price: catalog range; far outside -> implausible."""
    def run(x):
        lo, typ, hi = _hardware_range(gpu)
        claimed = x["usd_total"] / n_gpus
        far = _implausible_gpu_price(gpu, claimed)
        what = f"{n_gpus} x " if n_gpus > 1 else ""
        return Check(value=typ * n_gpus, low=lo * n_gpus, high=hi * n_gpus,
                     reason=f"catalog: {what}{catalog.gpu(gpu).id} new {_usd(lo * n_gpus)}-"
                            f"{_usd(hi * n_gpus)} (typical {_usd(typ * n_gpus)})",
                     status=IMPLAUSIBLE if far else None, implausible=far)
    return run


def _energy_range(setting="us-industrial-colo"):
    en = catalog.energy()
    row = en[en["id"] == setting].iloc[0]
    return row


def _not_checkable(reason: str):
    def run(_x):
        return Check(reason=reason, status=NOT_CHECKABLE)
    return run


# ----------------------------------------------------------------------------------------
# Recompute functions that need more than one line
# ----------------------------------------------------------------------------------------
def _rc_4090_13b_throughput(x):
    no = _est("llama-2-13b", "rtx-4090", precision="bf16")
    e8 = _est("llama-2-13b", "rtx-4090", precision="int8")
    e4 = _est("llama-2-13b", "rtx-4090", precision="int4")
    lo, _ = _band(e8)
    _, hi = _band(e4)
    return Check(
        value=(e8.output_tokens_per_s + e4.output_tokens_per_s) / 2, low=lo, high=hi,
        reason=(f"13B does not fit a 24 GB card at 16-bit ({no.weights_gb:.0f} GB of weights); "
                f"batch 1, 500+150 tokens: int8 {e8.output_tokens_per_s:.0f}, int4 "
                f"{e4.output_tokens_per_s:.0f} tokens/s predicted (error band "
                f"x{e8.error_band[0]:.2f}-{e8.error_band[1]:.2f})"))


def _rc_a100_throughput(_x):
    parts = []
    for m, label in (("llama-2-13b", "13B"), ("qwen2.5-32b", "32B")):
        b1 = _est(m, "a100-80gb-sxm", batch_size=1)
        b8 = _est(m, "a100-80gb-sxm", batch_size=8)
        parts.append(f"{label} BF16 {b1.output_tokens_per_s:.0f} at batch 1, "
                     f"{b8.output_tokens_per_s:.0f} at batch 8")
    return Check(status=NOT_CHECKABLE, reason=(
        "batch size not stated; predicted tokens/s: " + "; ".join(parts)
        + " (250-400 needs batching for 13B and more for 30B)"))


def _rc_min_gpus(model, gpu, precisions):
    def run(_x):
        counts = {p: perf.min_gpus_to_fit(model, gpu, p, input_tokens=500, output_tokens=200)
                  for p in precisions}
        found = [n for n in counts.values() if n is not None]
        if not found:
            return Check(status=NOT_CHECKABLE, reason=f"{model} fits no replica of {gpu}")
        text = ", ".join(f"{p}: {n}" for p, n in counts.items())
        first = counts[precisions[0]]
        return Check(value=first if first is not None else max(found), low=min(found), high=max(found),
                     reason=f"fewest {catalog.gpu(gpu).id} GPUs that hold {model} "
                            f"(500+200 tokens, batch 1) by precision: {text}")
    return run


def _rc_h100_70b_throughput(x):
    no16 = perf.min_gpus_to_fit("llama-3.1-70b", "h100-sxm", "bf16", input_tokens=500, output_tokens=200)
    no8 = perf.min_gpus_to_fit("llama-3.1-70b", "h100-sxm", "fp8", input_tokens=500, output_tokens=200)
    b8 = _est("llama-3.1-70b", "h100-sxm", precision="int4", batch_size=8, output_tokens=200)
    bmax = _est("llama-3.1-70b", "h100-sxm", precision="int4", batch_size="max", output_tokens=200)
    lo, _ = _band(b8)
    _, hi = _band(bmax)
    return Check(value=None, low=lo, high=hi, reason=(
        f"on one 80 GB H100 a 70B model fits only at 4-bit (BF16 needs {no16}, FP8 {no8} GPUs); "
        f"int4, 500+200 tokens: {b8.output_tokens_per_s:.0f} tokens/s at batch 8, "
        f"{bmax.output_tokens_per_s:.0f} at batch {bmax.batch_size} (error band "
        f"x{bmax.error_band[0]:.2f}-{bmax.error_band[1]:.2f})"))


def _rc_s2_optimal_batch(x):
    bmax = _est("llama-3.1-70b", "h100-sxm", precision="int4", batch_size="max", output_tokens=200)
    lo, hi = _band(bmax)
    return Check(value=bmax.output_tokens_per_s, low=lo, high=hi, reason=(
        f"70B fits one H100 only at 4-bit; at its largest batch ({bmax.batch_size}) the model "
        f"predicts {bmax.output_tokens_per_s:.0f} output tokens/s (error band "
        f"x{bmax.error_band[0]:.2f}-{bmax.error_band[1]:.2f})"))


def _rc_l40s_vs_4090(_x):
    a = _est("llama-2-13b", "l40s", precision="int8")
    b = _est("llama-2-13b", "rtx-4090", precision="int8")
    la = catalog.gpu("l40s")
    lb = catalog.gpu("rtx-4090")
    return Check(value=a.output_tokens_per_s / b.output_tokens_per_s, reason=(
        f"13B int8 at batch 1: L40S {a.output_tokens_per_s:.0f} vs RTX 4090 "
        f"{b.output_tokens_per_s:.0f} tokens/s ({la.mem_bw_gbps:g} vs {lb.mem_bw_gbps:g} GB/s); "
        f"the L40S has {la.memory_gb:g} GB vs {lb.memory_gb:g} GB and costs $2.25 vs $0.34 per "
        f"GPU-hour in the article (6.6x)"))


def _power_range_usd_per_hour(n_gpus, tdp_w, setting="us-industrial-colo"):
    row = _energy_range(setting)
    lo = economics.power_usd_per_hour(tdp_w, 1.0, row["pue_low"], row["usd_per_kwh_low"]) * n_gpus
    typ = economics.power_usd_per_hour(tdp_w, 1.0, row["pue_typical"], row["usd_per_kwh_typical"]) * n_gpus
    hi = economics.power_usd_per_hour(tdp_w, 1.0, row["pue_high"], row["usd_per_kwh_high"]) * n_gpus
    return lo, typ, hi, row


def _rc_cluster_energy_year(x):
    lo, typ, hi, row = _power_range_usd_per_hour(8, catalog.gpu("h100-sxm").tdp_w)
    y = economics.HOURS_PER_YEAR
    return Check(value=typ * y, low=lo * y, high=hi * y, reason=(
        f"8 x 700 W at full power x PUE {row['pue_low']:g}-{row['pue_high']:g} x "
        f"${row['usd_per_kwh_low']:g}-{row['usd_per_kwh_high']:g}/kWh ({row['id']}) x 8,760 h; "
        f"GPUs only, the host adds more"))


def _catalog_cluster_tco(n_gpus=8):
    """``n_gpus`` owned H100 SXM at full power in colocation, no staff: the one model
    (GPUs on a 4/8-GPU HGX board, host, networking, colocation, maintenance, capital)."""
    return economics.ownership_cost("h100-sxm", 1, n_gpus, utilization=1.0, operations_usd_per_year=0.0)


def _rc_cluster_total(x):
    capex = x["capex_usd"] / x["hours_3y"]
    ops = x["opex_usd_per_year"] / economics.HOURS_PER_YEAR
    real = _catalog_cluster_tco(8)
    return Check(value=capex + ops, reason=(
        f"its own inputs give {_usd(capex)} + {_usd(ops)} = {_usd(capex + ops)}/h; at catalog "
        f"prices an 8x H100 server (GPUs, host, networking) costs {_usd(real.capex_usd)} -> "
        f"{_usd(real.usd_per_hour)}/h, {_usd(real.usd_per_gpu_hour)} per GPU-hour"),
        implausible=_implausible_gpu_price("h100-sxm", 10_000 / 8))


def _s1_workload():
    return Workload("llama-2-13b", requests_per_day=50, input_tokens=500, output_tokens=150)


def _rc_s1_cloud_request(x):
    w = _s1_workload()
    r = economics.request_cost(w, economics.Deployment(x["usd_per_hour"], x["tokens_per_s"]))
    as_written = x["usd_per_hour"] * 3600 / (86_400 * x["requests_per_s"] * 650) / x["requests_per_day"]
    return Check(value=r.usd_per_request, as_written=as_written, reason=(
        f"always on: {_usd(x['usd_per_hour'])}/h x 24 h / 50 requests = "
        f"{_usd(r.usd_per_request)} per request; the printed formula evaluates to "
        f"{as_written:.3g}"))


def _rc_s1_cloud_token(x):
    per_request = x["usd_per_hour"] * 24 / x["requests_per_day"]
    per_token = per_request / x["tokens_per_request"]
    return Check(value=per_token, as_written=2.80 / 650, reason=(
        f"{_usd(per_request)} per request / 650 tokens = ${per_token:.3g} per token "
        f"(${per_token * 1e6:,.0f} per 1M tokens); the article's 0.0043 is its $2.80 / 650"))


def _rc_s1_self_hosted_hourly(x):
    amort = economics.amortized_usd_per_hour(x["gpu_usd"], x["years"])
    kwh_lo, kwh_hi = x["usd_per_kwh"]
    idle = economics.power_usd_per_hour(x["tdp_w"], IDLE_POWER_FRACTION, 1.0, kwh_lo)
    full = economics.power_usd_per_hour(x["tdp_w"], 1.0, 1.0, kwh_hi)
    return Check(value=None, low=amort + idle, high=amort + full, reason=(
        f"{_usd(amort)}/h amortization + 450 W at ${kwh_lo:g}-{kwh_hi:g}/kWh, idle "
        f"({IDLE_POWER_FRACTION:.0%} of TDP, as at 0.3 % utilization) to full power: "
        f"{_usd(amort + idle)}-{_usd(amort + full)}/h; the article adds $0.10/h of "
        f"'electricity', 1 kW worth"))


def _rc_s1_self_hosted_request(x):
    w = _s1_workload()
    r = economics.request_cost(w, economics.Deployment(x["usd_per_hour"], x["tokens_per_s"]))
    as_written = x["usd_per_hour"] * 3600 / (86_400 * x["requests_per_s"] * 650) / x["requests_per_day"]
    return Check(value=r.usd_per_request, as_written=as_written, reason=(
        f"{_usd(x['usd_per_hour'])}/h x 24 h / 50 requests = {_usd(r.usd_per_request)} per "
        f"request; the printed formula evaluates to {as_written:.3g}"))


def _rc_s1_requests_per_s(x):
    value = x["tokens_per_s"] / x["tokens_per_request"]
    e4 = _est("llama-2-13b", "rtx-4090", precision="int4")
    return Check(value=value, reason=(
        f"120 / 650 = {value:.4f}, but it runs the 500 prompt tokens at decode speed; "
        f"prefill is far faster: predicted {1 / e4.e2e_s:.2f} requests/s at batch 1 "
        f"(int4, {e4.e2e_s:.2f} s per request)"))


# One reading of the article's Scenario 2 "Throughput: 600 tokens/second at optimal batch",
# used by every claim that rests on it: 600 *output* tokens per second. It is the decode
# throughput of a batch (what "throughput at optimal batch" measures and what hwcost.perf
# predicts as output_tokens_per_s); with the scenario's 500 input + 200 output tokens a
# request, the GPU then handles 600 x 700 / 200 = 2,100 input and output tokens a second.
ARTICLE_S2_OUTPUT_TOKENS_PER_S = 600.0
ARTICLE_S2_READING = ("the article's 600 tokens/s read as output tokens per second (decode "
                      "throughput at its batch), 2,100 input + output tokens/s at 500 in / 200 out")


def _rc_s2_utilization(output_tokens_per_s, label):
    def run(x):
        u = economics.utilization(x["requests_per_day"], x["output_tokens_per_request"],
                                  output_tokens_per_s)
        w = Workload("llama-3.1-70b", x["requests_per_day"], 500, 200)
        r = economics.request_cost(w, economics.Deployment(x["usd_per_hour"], 1000.0,
                                                           n_gpus=1))
        return Check(value=100 * u, reason=(
            f"{x['requests_per_day']:,.0f} x {x['output_tokens_per_request']:.0f} output tokens / "
            f"(86,400 s x {output_tokens_per_s:,.0f} output tokens/s) = {u:.2%} busy "
            f"({ARTICLE_S2_READING}); {label} always on costs "
            f"{_usd(r.usd_per_day)}/day = {_usd(r.usd_per_request)} per request = "
            f"{_usd(r.usd_per_million_tokens)} per 1M tokens"))
    return run


def _rc_quant_speedup(precision):
    def run(x):
        base = _est("llama-2-13b", "a100-80gb-sxm", precision="fp16")
        q = _est("llama-2-13b", "a100-80gb-sxm", precision=precision)
        ratio = q.output_tokens_per_s / base.output_tokens_per_s
        return Check(value=ratio, as_written=x["quantized_tokens_per_s"] / x["fp16_tokens_per_s"],
                     reason=(f"batch-1 decode reads all weights per token, so speed follows bytes: "
                             f"{base.weights_gb:.1f} -> {q.weights_gb:.1f} GB; predicted "
                             f"{ratio:.2f}x on an A100 80GB (13B, 500+150 tokens)"))
    return run


def _batch_ratio_range():
    ratios, extra = [], []
    for m in ("llama-3.1-8b", "llama-2-13b"):
        b1 = _est(m, "h100-sxm", batch_size=1)
        b8 = _est(m, "h100-sxm", batch_size=8)
        ratios.append(b8.output_tokens_per_s / b1.output_tokens_per_s)
        extra.append(b8.e2e_s - b1.e2e_s)
    return min(ratios), max(ratios), min(extra), max(extra)


def _rc_batch8_throughput(x):
    lo, hi, _, _ = _batch_ratio_range()
    return Check(value=x["batch1_tokens_per_s"] * (lo + hi) / 2, low=x["batch1_tokens_per_s"] * lo,
                 high=x["batch1_tokens_per_s"] * hi, as_written=x["batch8_tokens_per_s"] / x["batch1_tokens_per_s"],
                 reason=(f"decode at small batch is bound by weight reads, so 8 sequences cost "
                         f"little more than 1: predicted {lo:.1f}-{hi:.1f}x the batch-1 rate "
                         f"(8B and 13B on an H100, 500+150 tokens); the article implies 5x"))


def _rc_batch_cost(x):
    lo, hi, _, _ = _batch_ratio_range()
    own = 1 - x["batch1_tokens_per_s"] / x["batch8_tokens_per_s"]
    return Check(value=100 * own, low=100 * own, high=100 * (1 - 1 / hi), reason=(
        f"cost per request falls with throughput: the article's own 200 -> 1,000 tokens/s is "
        f"{own:.0%} less; predicted {1 - 1 / lo:.0%}-{1 - 1 / hi:.0%} on an H100"))


def _rc_multiuser_latency(x):
    _, _, lo, hi = _batch_ratio_range()
    return Check(value=None, low=lo, high=hi, reason=(
        f"end-to-end time of a 500+150-token request at batch 8 minus batch 1 on an H100: "
        f"{lo * 1000:.0f} ms (8B) to {hi * 1000:.0f} ms (13B), BF16"))


def _rc_multiuser_throughput(x):
    lo, hi, _, _ = _batch_ratio_range()
    return Check(value=None, low=lo, high=hi, reason=(
        f"predicted batch-8 / batch-1 throughput on an H100: {lo:.1f}x (13B) to {hi:.1f}x (8B), "
        f"BF16, 500+150 tokens; memory-bound decode scales almost linearly at small batch"))


def _rc_model_load(_x):
    lo_gbps, hi_gbps = NVME_READ_GBPS
    small = perf.model_load_seconds("llama-2-13b", "int8", hi_gbps)
    big = perf.model_load_seconds("llama-3.1-70b", "int4", lo_gbps)
    return Check(value=None, low=small, high=big, reason=(
        f"weights / read rate, for the article's scenario models as they fit their GPUs: "
        f"13B int8 at {hi_gbps:g} GB/s {small:.1f} s to 70B int4 at {lo_gbps:g} GB/s {big:.0f} s "
        f"(NVMe {lo_gbps:g}-{hi_gbps:g} GB/s), before engine start-up"))


def _rc_speculative(_x):
    lo = perf.speculative_speedup(0.5, 4, 0.05)
    hi = perf.speculative_speedup(0.8, 4, 0.05)
    return Check(value=None, low=100 * (1 - 1 / lo), high=100 * (1 - 1 / hi), reason=(
        f"expected speedup (Leviathan et al. 2023, Eq. 1) for acceptance 0.5-0.8, 4 drafted "
        f"tokens, draft step 5 % of a target step: {lo:.2f}-{hi:.2f}x, i.e. "
        f"{1 - 1 / lo:.0%}-{1 - 1 / hi:.0%} less time per token; 20-30 % fits acceptance "
        f"below about 0.4 or a costlier draft"))


def _largest_model_that_fits(gpu, precision="int4"):
    models = tuple(catalog.llm(m) for m in catalog.llm_ids())
    return _largest_model_that_fits_cached(catalog.gpu(gpu), precision, models)


@lru_cache(maxsize=256)
def _largest_model_that_fits_cached(gpu, precision, models):
    best = None
    for m in models:
        e = perf.estimate(m, gpu, precision=precision, batch_size=1, input_tokens=512, output_tokens=256)
        if e.fits:
            p = float(m.total_params_b)
            if best is None or p > best[1]:
                best = (m.id, p)
    return best


def _rc_largest_fit(gpu):
    def run(_x):
        best = _largest_model_that_fits(gpu)
        b16 = _largest_model_that_fits(gpu, "bf16")
        if best is None:
            return Check(status=NOT_CHECKABLE, reason=f"no catalog model fits {gpu}")
        return Check(value=best[1], reason=(
            f"largest catalog model that fits one {catalog.gpu(gpu).id} at 4-bit (batch 1, "
            f"512+256 tokens): {best[0]} ({best[1]:g}B); at 16-bit: "
            f"{b16[0] + f' ({b16[1]:g}B)' if b16 else 'none'}"))
    return run


def _rc_4090_concurrency(_x):
    a = _est("llama-2-13b", "rtx-4090", precision="int8", batch_size="max")
    b = _est("llama-3.1-8b", "rtx-4090", precision="bf16", batch_size="max")
    lo, hi = sorted((a.batch_size, b.batch_size))
    return Check(value=None, low=lo, high=hi, reason=(
        f"sequences of 500+150 tokens whose KV cache fits beside the weights: 13B int8 "
        f"{a.batch_size}, 8B BF16 {b.batch_size}"))


def _rc_bandwidth(gpu):
    def run(_x):
        g = catalog.gpu(gpu)
        return Check(value=g.mem_bw_gbps / 1000, reason=f"catalog {g.id}: {g.mem_bw_gbps:g} GB/s")
    return run


def _h100_a100_ratio(batch_size):
    a = _est("llama-2-13b", "a100-80gb-sxm", batch_size=batch_size)
    h = _est("llama-2-13b", "h100-sxm", batch_size=batch_size)
    return h.output_tokens_per_s / a.output_tokens_per_s


def _rc_h100_a100(batch_size, extra=""):
    def run(_x):
        ratio = _h100_a100_ratio(batch_size)
        bw = catalog.gpu("h100-sxm").mem_bw_gbps / catalog.gpu("a100-80gb-sxm").mem_bw_gbps
        return Check(value=ratio, reason=(
            f"predicted H100 SXM / A100 80GB SXM throughput, 13B BF16, batch {batch_size}: "
            f"{ratio:.2f}x; bandwidth ratio 3.35/2.039 = {bw:.2f}{extra}"))
    return run


def _rc_break_even_hours(x):
    t = economics.SelfHostedTCO(gpu_usd=x["capex_usd"], tdp_w=700, usd_per_kwh=0.1,
                                average_load=1e-9, operations_usd_per_year=12 * x["opex_usd_per_month"])
    b = economics.break_even(t, x["cloud_usd_per_gpu_hour"])
    implied = [x["capex_usd"] / h + x["opex_usd_per_month"] / economics.HOURS_PER_MONTH for h in (10_000, 8_000)]
    real = _owned_h100_server().inputs
    rb = economics.break_even(real, x["cloud_usd_per_gpu_hour"])
    at_catalog = (f"{rb.gpu_hours:,.0f} h" if rb.reached else "never")
    return Check(value=b.gpu_hours, reason=(
        f"{_usd(x['capex_usd'])} / ({_usd(x['cloud_usd_per_gpu_hour'])}/h - $500/730 h) = "
        f"{b.gpu_hours:,.0f} GPU-hours; 8,000-10,000 h would need a cloud rate of "
        f"{_usd(implied[0])}-{_usd(implied[1])}/h; at catalog prices (one GPU of an 8x H100 "
        f"server, {_usd(real.capex_usd / real.n_gpus)} up front, colocation and upkeep) {at_catalog}"),
        implausible=_implausible_gpu_price("h100-sxm", x["capex_usd"]))


def _rc_break_even_months(x):
    t = economics.SelfHostedTCO(gpu_usd=x["capex_usd"], tdp_w=700, usd_per_kwh=0.1,
                                average_load=1e-9, operations_usd_per_year=12 * x["opex_usd_per_month"])
    b = economics.break_even(t, x["cloud_usd_per_gpu_hour"])
    return Check(value=b.months, as_written=10_000 / economics.HOURS_PER_MONTH, reason=(
        f"{b.months:.1f} months at 730 h/month against {_usd(x['cloud_usd_per_gpu_hour'])}/h; "
        f"even its own 8,000-10,000 h are 11.0-13.7 months of 24/7 use, not 15+"),
        implausible=_implausible_gpu_price("h100-sxm", x["capex_usd"]))


def _rc_api_input_range(_x):
    api = catalog.api_prices()
    col = api["usd_per_million_input_tokens"]
    lo_row = api.loc[col.idxmin()]
    hi_row = api.loc[col.idxmax()]
    out = api["usd_per_million_output_tokens"] / col
    return Check(value=None, low=float(col.min()), high=float(col.max()), reason=(
        f"catalog input prices: {_usd(col.min())} ({lo_row['id']}) to {_usd(col.max())} "
        f"({hi_row['id']}) per 1M; output tokens cost {out.min():.0f}-{out.max():.0f}x input"))


def _well_used_usd_per_million_tokens(model, gpu, precision, input_tokens, output_tokens):
    """Owned hardware at the capacity rule's utilization and its largest batch (hwcost.perf),
    in boxes of its purchase unit, without staff. [USD per 1M input + output tokens]"""
    from ..requirements import MAX_UTILIZATION

    est = _est(model, gpu, precision=precision, batch_size="max", input_tokens=input_tokens,
               output_tokens=output_tokens)
    box = economics.purchase_plan(gpu, 1, 1).max_gpus_per_box
    own = economics.ownership_cost(gpu, box, 1, utilization=MAX_UTILIZATION, operations_usd_per_year=0.0)
    tokens_per_s = est.output_tokens_per_s * (input_tokens + output_tokens) / output_tokens
    return float(economics.cost_per_million_tokens(own.usd_per_gpu_hour, tokens_per_s, MAX_UTILIZATION))


def _rc_self_hosted_range(_x):
    h100 = _owned_h100_server()
    article = float(economics.cost_per_million_tokens(
        h100.usd_per_gpu_hour, ARTICLE_S2_OUTPUT_TOKENS_PER_S * 700 / 200))
    s1 = _well_used_usd_per_million_tokens("llama-2-13b", "rtx-4090", "fp8", 500, 150)
    s2 = _well_used_usd_per_million_tokens("llama-3.1-70b", "h100-sxm", "fp8", 500, 200)
    low = min(article, s1, s2)
    w = _s1_workload()
    u = economics.utilization(w.requests_per_day, w.tokens_per_request, 120)
    rtx = economics.ownership_cost("rtx-4090", 1, 1, utilization=max(u, 1e-9), energy="us-residential",
                                   operations_usd_per_year=0.0)
    high = float(economics.cost_per_million_tokens(rtx.usd_per_gpu_hour, 120, u))
    return Check(value=None, low=low, high=high, reason=(
        f"owned hardware at catalog prices (host, power, colocation or office, maintenance, "
        f"capital; staff on top): well used, {_usd(s1)}/1M for Scenario 1's 13B on RTX 4090 boxes "
        f"and {_usd(s2)}/1M for Scenario 2's 70B on H100 servers (FP8, largest batch, 90 % busy), "
        f"{_usd(article)}/1M for an H100 at {ARTICLE_S2_READING}; an owned RTX 4090 "
        f"({_usd(rtx.usd_per_gpu_hour)}/h) at Scenario 1's {u:.2%} utilization {_usd(high)}/1M: "
        f"the low end is far below the article's $0.15"))


def _owned_h100_server():
    """One GPU of an owned 8x H100 server, fully used, no staff: the package's one model."""
    return economics.ownership_cost("h100-sxm", 8, 1, utilization=1.0, operations_usd_per_year=0.0)


def _rc_api_crossover(_x):
    real = _owned_h100_server()
    offers = catalog.api_prices()
    offers = offers[offers["llm_id"].isin(["llama-3.1-70b", "llama-3.3-70b"])]
    results = []
    for _, row in offers.iterrows():
        api = economics.api_price(row["id"])
        c = economics.api_crossover(api, replica_usd_per_hour=real.usd_per_gpu_hour,
                                    output_tokens_per_s=ARTICLE_S2_OUTPUT_TOKENS_PER_S,
                                    input_tokens=500, output_tokens=200)
        results.append((row["id"], c))
    reached = [(i, c) for i, c in results if c.reached]
    never = [i for i, c in results if not c.reached]
    if not reached:
        return Check(status=NOT_CHECKABLE, reason="self-hosting one H100 never beats any 70B API")
    lo = min(reached, key=lambda t: t[1].tokens_per_month)
    hi = max(reached, key=lambda t: t[1].tokens_per_month)
    note = (f"; never against {', '.join(never)} (a fully used H100 costs more per token)"
            if never else "")
    return Check(value=None, low=lo[1].tokens_per_month, high=hi[1].tokens_per_month, reason=(
        f"one GPU of an owned 8x H100 server ({_usd(real.usd_per_gpu_hour)}/h with host, "
        f"colocation, maintenance and capital; no staff) at {ARTICLE_S2_READING} beats 70B APIs from "
        f"{lo[1].tokens_per_month / 1e9:.2f}B ({lo[0]}) to {hi[1].tokens_per_month / 1e9:.2f}B "
        f"({hi[0]}) tokens/month{note}"))


def _rc_generation_gain(_x):
    a = catalog.gpu("a100-80gb-sxm")
    h = catalog.gpu("h100-sxm")
    b = catalog.gpu("b200")
    r1 = h.mem_bw_gbps / a.mem_bw_gbps
    r2 = b.mem_bw_gbps / h.mem_bw_gbps
    return Check(value=None, low=min(r1, r2), high=max(r1, r2), reason=(
        f"memory bandwidth (what batch-1 decode follows) per 2-year generation: A100 "
        f"({a.launch_year}) -> H100 ({h.launch_year}) {r1:.2f}x, H100 -> B200 ({b.launch_year}) "
        f"{r2:.2f}x; per rental dollar less: RunPod A100 $1.39 -> H100 $2.69 is 1.94x the price"))


def _rc_refresh(_x):
    a100 = catalog.gpu("a100-80gb-sxm")
    row = _energy_range()
    running = economics.power_usd_per_hour(a100.tdp_w, 1.0, row["pue_typical"], row["usd_per_kwh_typical"])
    used = _hardware_range_used("a100-80gb-sxm")
    new = _owned_h100_server().inputs
    keep_tps = _est("llama-2-13b", "a100-80gb-sxm", batch_size=8).output_tokens_per_s
    new_tps = _est("llama-2-13b", "h100-sxm", batch_size=8).output_tokens_per_s
    df = economics.refresh_comparison(keep_running_usd_per_gpu_hour=running, keep_tokens_per_s=keep_tps,
                                      new_tco=new, new_tokens_per_s=new_tps, years=2,
                                      keep_resale_usd_now=used, keep_resale_usd_later=used / 2)
    keep, move = df["usd_per_million_tokens"]
    return Check(status=NOT_CHECKABLE, reason=(
        f"a rule of thumb, not a figure; economics.refresh_comparison: keeping an owned A100 "
        f"(power + resale forgone, assumed to halve in 2 years) {_usd(keep)}/1M vs buying an "
        f"H100 {_usd(move)}/1M (13B, batch 8, fully busy)"))


def _hardware_range_used(gpu):
    hw = catalog.hardware_prices()
    rows = hw[(hw["gpu_id"] == gpu) & (hw["condition"] == "used")]
    if rows.empty:
        return _hardware_range(gpu)[1]
    return float(rows.iloc[0]["usd_typical"])


def _rc_under_100_requests(_x):
    w = Workload("llama-3.1-8b", 100, 500, 150)
    always = economics.request_cost(w, economics.Deployment(0.34, 120))
    apis = economics.api_prices_for("llama-3.1-8b")
    api = economics.api_price(apis.iloc[0]["id"])
    per = economics.api_cost(w, api).usd_per_request
    return Check(status=NOT_CHECKABLE, reason=(
        f"a routing rule; at 100 requests/day an always-on RunPod 4090 costs "
        f"{_usd(always.usd_per_request)}/request, an 8B model API ({api.id}) "
        f"${per:.2g}/request"))


def _rc_memory(gpu):
    def run(_x):
        g = catalog.gpu(gpu)
        return Check(value=float(g.memory_gb), reason=f"catalog {g.id}: {g.memory_gb:g} GB")
    return run


def _daily_capacity(model, gpu, n_gpus=1, precision="bf16", input_tokens=500, output_tokens=150):
    """Requests per day one replica serves at its largest batch (no latency target)."""
    e = _est(model, gpu, n_gpus=n_gpus, precision=precision, batch_size="max",
             input_tokens=input_tokens, output_tokens=output_tokens)
    return e.output_tokens_per_s / output_tokens * 86_400, e


def _rc_traffic_fit(model, gpu, label, n_gpus=1, precision="bf16", output_tokens=150, replicas=1):
    """A 'best for N daily requests' rule: what share of the hardware's capacity N is."""
    def run(x):
        cap, e = _daily_capacity(model, gpu, n_gpus, precision, output_tokens=output_tokens)
        cap *= replicas
        lo, hi = x["requests_per_day"] if isinstance(x["requests_per_day"], tuple) else (
            x["requests_per_day"], x["requests_per_day"])
        what = f"{replicas} replicas of " if replicas > 1 else ""
        return Check(status=NOT_CHECKABLE, reason=(
            f"a recommendation, not a figure; {label} ({what}{catalog.llm(model).id} "
            f"{precision.upper()} on {n_gpus} x {catalog.gpu(gpu).id}, 500+{output_tokens} tokens, "
            f"largest batch {e.batch_size}, no latency target) serves about {cap:,.0f} requests/day, "
            f"so {lo:,.0f}" + (f"-{hi:,.0f}" if hi != lo else "") + f" requests/day keep it "
            f"{lo / cap:.2%}" + (f"-{hi / cap:.2%}" if hi != lo else "") + " busy"))
    return run


# ----------------------------------------------------------------------------------------
# The claims
# ----------------------------------------------------------------------------------------
WT = "Understanding Inference Workload Types"
CLOUD = "Cloud GPU Providers for Inference"
SELF = "Self-Hosted Inference Hardware"
S1 = "Cost-Per-Token Analysis: Scenario 1 (13B chat)"
S2 = "Cost-Per-Token Analysis: Scenario 2 (70B, high volume)"
OPT = "Inference Optimization Strategies"
SIZE = "Model Size vs. GPU Matching"
WHEN = "When to Use Each Option / Practical Selection Flowchart"
ADV = "Advanced Inference Optimization Techniques"
COSTOPT = "Inference Cost Optimization Strategies"
SCALE = "Inference Scaling Patterns"
PATTERNS = "Real-World Deployment Patterns"
FAQ = "FAQ"

H = economics.HOURS_PER_YEAR


def _c(claim_id, section, claim, value, unit, inputs=(), recompute=None, **kw) -> Claim:
    return Claim(claim_id, section, claim, value, unit, tuple(inputs), recompute, **kw)


CLAIMS: tuple[Claim, ...] = (
    # -- workload types ------------------------------------------------------------------
    _c("workload-chat-latency", WT, "Users expect responses within 500ms-1 second.", 0.5, "s",
       claimed_high=1.0, reason="a statement about user expectations with no source; "
       "hwcost.serving checks a latency target against a deployment instead"),
    _c("workload-chat-batch", WT, "Batch size is typically 1-4.", 1, "sequences", claimed_high=4,
       reason="concurrency follows from traffic (arrival rate x request time, Little's law), "
       "not from the use case; hwcost.serving computes it"),
    # -- cloud providers -----------------------------------------------------------------
    _c("runpod-4090-price", CLOUD, "RunPod RTX 4090 ($0.34/hour)", 0.34, "USD/h",
       [("provider", "runpod", ""), ("gpu", "rtx-4090", "")],
       _cloud_price_check("runpod", "rtx-4090", "community")),
    _c("runpod-4090-throughput", CLOUD, "Throughput roughly 80-150 tokens/second for 13B model.",
       80, "tokens/s", [("model", "13B", ""), ("gpu", "rtx-4090", "")], _rc_4090_13b_throughput,
       claimed_high=150),
    _c("runpod-4090-usd-per-mtok", CLOUD,
       "Cost-per-1M tokens (100K tokens × $0.34/hour ÷ 3600 ÷ 120 tokens/sec ≈ $0.78/1M tokens).",
       0.78, "USD/1M tokens", [("usd_per_hour", 0.34, "USD/h"), ("tokens_per_s", 120, "tokens/s")],
       lambda x: Check(value=economics.cost_per_million_tokens(x["usd_per_hour"], x["tokens_per_s"]),
                       as_written=100_000 * x["usd_per_hour"] / 3600 / x["tokens_per_s"],
                       reason="0.34 / 3600 / 120 x 1e6 = $0.787: the figure holds at 100 % "
                              "utilization, but the formula as printed gives 0.0787 (100K should "
                              "read 1M)")),
    _c("runpod-a100-price", CLOUD, "RunPod A100 ($1.39/hour)", 1.39, "USD/h",
       [("provider", "runpod", ""), ("gpu", "a100-80gb-sxm", "")],
       _cloud_price_check("runpod", "a100-80gb-sxm", "community")),
    _c("runpod-a100-throughput", CLOUD,
       "Handles 13B-30B models comfortably at 250-400 tokens/second depending on batch size.",
       250, "tokens/s", [("gpu", "a100-80gb-sxm", "")], _rc_a100_throughput, claimed_high=400),
    _c("best-for-a100-traffic", CLOUD, "RunPod A100 ... Best for: Medium-scale inference (100-1000 daily "
       "requests)", 100, "requests/day", [("requests_per_day", (100, 1000), "1/day")],
       _rc_traffic_fit("llama-2-13b", "a100-80gb-sxm", "one A100 80GB"), claimed_high=1000),
    _c("runpod-a100-usd-per-mtok", CLOUD, "Cost-per-1M tokens: roughly $1.39 per million", 1.39,
       "USD/1M tokens", [("usd_per_hour", 1.39, "USD/h"), ("tokens_per_s", (250, 400), "tokens/s")],
       lambda x: Check(low=economics.cost_per_million_tokens(x["usd_per_hour"], x["tokens_per_s"][1]),
                       high=economics.cost_per_million_tokens(x["usd_per_hour"], x["tokens_per_s"][0]),
                       reason="1.39 / 3600 / (250-400) x 1e6 = $0.97-1.54 at 100 % utilization; "
                              "$1.39 (the hourly price) holds at 278 tokens/s")),
    _c("runpod-a100-vs-4090", CLOUD, "slightly more expensive than 4090 per token", 1.2,
       "x (ratio; 'slightly' read as at most 1.2x)",
       [("a100_usd_per_mtok", 1.39, "USD/1M"), ("rtx4090_usd_per_mtok", 0.787, "USD/1M")],
       lambda x: Check(value=x["a100_usd_per_mtok"] / x["rtx4090_usd_per_mtok"],
                       reason="by the article's own figures 1.39 / 0.787 = 1.77x"),
       relation="at_most"),
    _c("runpod-a100-70b-gpus", CLOUD, "Limitations: 70B models require careful optimization or "
       "multiple GPUs.", 2, "GPUs (A100 80GB, at least)", [("model", "llama-3.1-70b", "")],
       _rc_min_gpus("llama-3.1-70b", "a100-80gb-sxm", ("bf16", "int8", "int4")), relation="at_least"),
    _c("runpod-4090-70b-gpus", CLOUD, "Limitations: Can't efficiently serve larger models (70B+)",
       2, "GPUs (RTX 4090, at least)", [("model", "llama-3.1-70b", "")],
       _rc_min_gpus("llama-3.1-70b", "rtx-4090", ("bf16", "int8", "int4")), relation="at_least"),
    _c("runpod-h100-price", CLOUD, "RunPod H100 ($2.69/hour)", 2.69, "USD/h",
       [("provider", "runpod", ""), ("gpu", "h100-sxm", "")],
       _cloud_price_check("runpod", "h100-sxm", "community")),
    _c("runpod-h100-70b-throughput", CLOUD, "Achieves 500-800 tokens/second for 70B models.", 500,
       "tokens/s", [("model", "llama-3.1-70b", ""), ("gpu", "h100-sxm", "")],
       _rc_h100_70b_throughput, claimed_high=800),
    _c("runpod-h100-usd-per-mtok", CLOUD, "Cost-per-1M tokens: roughly $1.21/million.", 1.21,
       "USD/1M tokens", [("usd_per_hour", 2.69, "USD/h"), ("tokens_per_s", (500, 800), "tokens/s")],
       lambda x: Check(low=economics.cost_per_million_tokens(x["usd_per_hour"], x["tokens_per_s"][1]),
                       high=economics.cost_per_million_tokens(x["usd_per_hour"], x["tokens_per_s"][0]),
                       reason="2.69 / 3600 / (500-800) x 1e6 = $0.93-1.49 at 100 % utilization")),
    _c("best-for-h100-traffic", CLOUD, "RunPod H100 ... Best for: Large model serving (70B+), high-volume "
       "inference (5K+ daily requests)", 5000, "requests/day", [("requests_per_day", 5000, "1/day")],
       _rc_traffic_fit("llama-3.1-70b", "h100-sxm", "one H100", precision="int4", output_tokens=200)),
    _c("coreweave-l40s-bundle-price", CLOUD, "CoreWeave offers L40S in 8-GPU bundles at $18/hour total.",
       18.0, "USD/h (8 GPUs)", [("provider", "coreweave", ""), ("gpu", "l40s", "")],
       _cloud_price_check("coreweave", "l40s", gpus_per_instance=8)),
    _c("coreweave-l40s-per-gpu", CLOUD, "CoreWeave 8xL40S ($18/hour, $2.25/GPU)", 2.25, "USD/GPU-h",
       [("usd_per_hour", 18.0, "USD/h"), ("gpus_per_instance", 8, "")],
       lambda x: Check(value=economics.bundle_usd_per_gpu_hour(x["usd_per_hour"], x["gpus_per_instance"]),
                       reason="18.00 / 8 = $2.25")),
    _c("coreweave-l40s-vs-4090", CLOUD, "Alternative to 4090 with different memory layout. Roughly "
       "equivalent performance for most inference workloads.", 1.0, "x (L40S / RTX 4090 throughput)",
       [("model", "llama-2-13b int8", "")], _rc_l40s_vs_4090, tolerance=0.2),
    _c("coreweave-a100-bundle-price", CLOUD, "CoreWeave 8xA100 ($21.60/hour)", 21.60, "USD/h (8 GPUs)",
       [("provider", "coreweave", ""), ("gpu", "a100-80gb-sxm", "")],
       _cloud_price_check("coreweave", "a100-80gb-sxm", gpus_per_instance=8)),
    _c("coreweave-a100-per-gpu", CLOUD, "CoreWeave 8xA100 ($21.60/hour, $2.70/GPU)", 2.70, "USD/GPU-h",
       [("usd_per_hour", 21.60, "USD/h"), ("gpus_per_instance", 8, "")],
       lambda x: Check(value=economics.bundle_usd_per_gpu_hour(x["usd_per_hour"], x["gpus_per_instance"]),
                       reason="21.60 / 8 = $2.70")),
    _c("coreweave-h100-bundle-price", CLOUD, "CoreWeave 8xH100 ($49.24/hour)", 49.24, "USD/h (8 GPUs)",
       [("provider", "coreweave", ""), ("gpu", "h100-sxm", "")],
       _cloud_price_check("coreweave", "h100-sxm", gpus_per_instance=8)),
    _c("coreweave-h100-per-gpu", CLOUD, "CoreWeave 8xH100 ($49.24/hour, $6.16/GPU)", 6.16, "USD/GPU-h",
       [("usd_per_hour", 49.24, "USD/h"), ("gpus_per_instance", 8, "")],
       lambda x: Check(value=economics.bundle_usd_per_gpu_hour(x["usd_per_hour"], x["gpus_per_instance"]),
                       reason="49.24 / 8 = $6.155")),
    # -- self-hosted hardware ------------------------------------------------------------
    _c("rtx4090-memory", SELF, "Nvidia RTX 4090 (24GB VRAM)", 24, "GB", [("gpu", "rtx-4090", "")],
       _rc_memory("rtx-4090")),
    _c("rtx4090-price", SELF, "Consumer GPU around $1,600 retail.", 1600, "USD",
       [("usd_total", 1600, "USD")], _hardware_price_check("rtx-4090")),
    _c("rtx4090-hours", SELF, "3 years (26,280 hours)", 26_280, "h", [("years", 3, "years")],
       lambda x: Check(value=x["years"] * H, reason="3 x 8,760 h")),
    _c("rtx4090-amortized", SELF, "Economics: $1,600 amortized over 3 years (26,280 hours) = $0.061/hour.",
       0.061, "USD/h", [("gpu_usd", 1600, "USD"), ("years", 3, "years")],
       lambda x: Check(value=economics.amortized_usd_per_hour(x["gpu_usd"], x["years"]),
                       reason="1,600 / 26,280 = $0.0609/h (no resale value)")),
    _c("rtx4090-electricity", SELF, "Requires home/office electricity ($0.10-0.20/hour)", 0.10, "USD/h",
       [("tdp_w", 450, "W"), ("usd_per_kwh", (0.10, 0.20), "USD/kWh")],
       lambda x: Check(low=economics.power_usd_per_hour(x["tdp_w"], 1.0, 1.0, x["usd_per_kwh"][0]),
                       high=economics.power_usd_per_hour(x["tdp_w"], 1.0, 1.0, x["usd_per_kwh"][1]),
                       reason="450 W x $0.10-0.20/kWh = $0.045-0.090/h even at full power 24/7; "
                              "$0.10-0.20/h looks like the price per kWh taken as a price per hour"),
       claimed_high=0.20, relation="span"),
    _c("rtx4090-effective", SELF, "Effective cost: ~$0.16-0.26/hour (electricity + overhead).", 0.16,
       "USD/h", [("amortized_usd_per_hour", 1600 / 26_280, "USD/h"), ("tdp_w", 450, "W"),
                 ("usd_per_kwh", (0.10, 0.20), "USD/kWh")],
       lambda x: Check(low=x["amortized_usd_per_hour"] + economics.power_usd_per_hour(x["tdp_w"], 1, 1, x["usd_per_kwh"][0]),
                       high=x["amortized_usd_per_hour"] + economics.power_usd_per_hour(x["tdp_w"], 1, 1, x["usd_per_kwh"][1]),
                       as_written=0.061 + 0.10,
                       reason="the article adds $0.061 amortization + its $0.10-0.20 'electricity' "
                              "and no overhead; with 450 W at $0.10-0.20/kWh at full power: "
                              "$0.106-0.151/h"),
       claimed_high=0.26, relation="span"),
    _c("rtx6000ada-memory", SELF, "Nvidia RTX 6000 Ada (48GB VRAM)", 48, "GB", [("gpu", "rtx-6000-ada", "")],
       _rc_memory("rtx-6000-ada")),
    _c("best-for-6000ada-traffic", SELF, "RTX 6000 Ada ... Best for: Small teams, modest traffic (100-1000 "
       "daily queries)", 100, "requests/day", [("requests_per_day", (100, 1000), "1/day")],
       _rc_traffic_fit("llama-2-13b", "rtx-6000-ada", "one RTX 6000 Ada"), claimed_high=1000),
    _c("rtx6000ada-price", SELF, "Production GPU around $3,000.", 3000, "USD",
       [("usd_total", 3000, "USD")], _hardware_price_check("rtx-6000-ada")),
    _c("rtx6000ada-effective", SELF, "Effective cost: ~$0.25-0.35/hour amortized.", 0.25, "USD/h",
       [("gpu_usd", 3000, "USD"), ("years", 3, "years"), ("tdp_w", 300, "W"),
        ("usd_per_kwh", (0.10, 0.20), "USD/kWh")],
       lambda x: Check(
           low=economics.amortized_usd_per_hour(x["gpu_usd"], x["years"])
           + economics.power_usd_per_hour(x["tdp_w"], 1, 1, x["usd_per_kwh"][0]),
           high=economics.amortized_usd_per_hour(x["gpu_usd"], x["years"])
           + economics.power_usd_per_hour(x["tdp_w"], 1, 1, x["usd_per_kwh"][1]),
           reason=f"$3,000 / 26,280 h + 300 W at $0.10-0.20/kWh = $0.144-0.174/h; at the catalog's "
                  f"typical price the same method gives "
                  f"{_usd(economics.amortized_usd_per_hour(_hardware_range('rtx-6000-ada')[1], x['years']) + economics.power_usd_per_hour(x['tdp_w'], 1, 1, x['usd_per_kwh'][0]))}-"
                  f"{_usd(economics.amortized_usd_per_hour(_hardware_range('rtx-6000-ada')[1], x['years']) + economics.power_usd_per_hour(x['tdp_w'], 1, 1, x['usd_per_kwh'][1]))}/h",
           implausible=_implausible_gpu_price("rtx-6000-ada", x["gpu_usd"])),
       claimed_high=0.35, relation="span"),
    _c("h100x8-hardware-price", SELF, "GPU Cluster (8x H100): $10,000 hardware cost", 10_000, "USD (8 GPUs)",
       [("usd_total", 10_000, "USD")], _hardware_price_check("h100-sxm", n_gpus=8)),
    _c("h100x8-capex", SELF, "$10,000 hardware cost + $5,000 networking/setup = $15,000 CapEx.", 15_000,
       "USD", [("hardware_usd", 10_000, "USD"), ("networking_setup_usd", 5_000, "USD")],
       lambda x: Check(value=x["hardware_usd"] + x["networking_setup_usd"], reason="10,000 + 5,000",
                       implausible=_implausible_gpu_price("h100-sxm", x["hardware_usd"] / 8))),
    _c("h100x8-energy", SELF, "Operational cost: ~$8,000/year electricity, cooling.", 8_000, "USD/year",
       [("n_gpus", 8, ""), ("tdp_w", 700, "W")], _rc_cluster_energy_year),
    _c("h100x8-amortized", SELF, "Effective cost: ~$0.90/hour amortized over 3 years", 0.90, "USD/h",
       [("capex_usd", 15_000, "USD"), ("hours_3y", 26_280, "h")],
       lambda x: Check(value=x["capex_usd"] / x["hours_3y"],
                       reason="15,000 / 26,280 h = $0.571/h; $0.90/h would be $23,650 of capex",
                       implausible=_implausible_gpu_price("h100-sxm", 10_000 / 8))),
    _c("h100x8-operational", SELF, "+ $0.40/hour operational", 0.40, "USD/h",
       [("opex_usd_per_year", 8_000, "USD/year")],
       lambda x: Check(value=x["opex_usd_per_year"] / H, reason="8,000 / 8,760 h = $0.913/h")),
    _c("h100x8-total", SELF, "= $1.30/hour.", 1.30, "USD/h (8 GPUs)",
       [("capex_usd", 15_000, "USD"), ("hours_3y", 26_280, "h"), ("opex_usd_per_year", 8_000, "USD/year")],
       _rc_cluster_total),
    _c("best-for-h100x8-traffic", SELF, "GPU Cluster (8x H100) ... Best for: High-volume inference (50K+ daily "
       "requests)", 50_000, "requests/day", [("requests_per_day", 50_000, "1/day")],
       _rc_traffic_fit("llama-3.1-70b", "h100-sxm", "an 8 x H100 cluster",
                       n_gpus=4, output_tokens=200, replicas=2)),
    # -- scenario 1 ------------------------------------------------------------------------
    _c("s1-throughput", S1, "Using RunPod 4090: Throughput: ~120 tokens/second", 120, "tokens/s",
       [("model", "13B", ""), ("gpu", "rtx-4090", "")], _rc_4090_13b_throughput),
    _c("s1-requests-per-s", S1, "Requests per second: 120 / 650 = 0.185 req/sec", 0.185, "requests/s",
       [("tokens_per_s", 120, "tokens/s"), ("tokens_per_request", 650, "tokens")], _rc_s1_requests_per_s),
    _c("s1-utilization", S1, "With 50 requests daily, utilization: 50 / (86,400 sec × 0.185) = 0.3% "
       "(vastly underutilized)", 0.3, "%",
       [("requests_per_day", 50, "1/day"), ("tokens_per_request", 650, "tokens"), ("tokens_per_s", 120, "tokens/s")],
       lambda x: Check(value=100 * economics.utilization(x["requests_per_day"], x["tokens_per_request"], x["tokens_per_s"]),
                       as_written=100 * 50 / (86_400 * 0.185),
                       reason="50 x 650 / (86,400 x 120) = 0.31 %"), tolerance=0.10),
    _c("s1-cloud-usd-per-request", S1, "Cost per token: $0.34/hour × 3600 ÷ (86,400 × 0.185 × 650) ÷ 50 "
       "requests ≈ $2.80/request", 2.80, "USD/request",
       [("usd_per_hour", 0.34, "USD/h"), ("tokens_per_s", 120, "tokens/s"), ("requests_per_s", 0.185, "1/s"),
        ("requests_per_day", 50, "1/day")], _rc_s1_cloud_request),
    _c("s1-cloud-usd-per-token", S1, "or $0.0043 per token", 0.0043, "USD/token",
       [("usd_per_hour", 0.34, "USD/h"), ("requests_per_day", 50, "1/day"), ("tokens_per_request", 650, "tokens")],
       _rc_s1_cloud_token),
    _c("s1-self-hosted-hourly", S1, "Using Self-Hosted RTX 4090: Amortized cost: $0.16/hour", 0.16, "USD/h",
       [("gpu_usd", 1600, "USD"), ("years", 3, "years"), ("tdp_w", 450, "W"), ("usd_per_kwh", (0.10, 0.20), "USD/kWh")],
       _rc_s1_self_hosted_hourly),
    _c("s1-self-hosted-usd-per-request", S1, "Cost per token: $0.16 × 3600 ÷ (86,400 × 0.185 × 650) ÷ 50 "
       "requests ≈ $1.33/request", 1.33, "USD/request",
       [("usd_per_hour", 0.16, "USD/h"), ("tokens_per_s", 120, "tokens/s"), ("requests_per_s", 0.185, "1/s"),
        ("requests_per_day", 50, "1/day")], _rc_s1_self_hosted_request),
    _c("s1-savings", S1, "Savings vs. cloud: 53%", 53, "%",
       [("self_hosted_usd_per_hour", 0.16, "USD/h"), ("cloud_usd_per_hour", 0.34, "USD/h")],
       lambda x: Check(value=100 * (1 - x["self_hosted_usd_per_hour"] / x["cloud_usd_per_hour"]),
                       as_written=100 * (1 - 1.33 / 2.80),
                       reason="1 - 0.16 / 0.34 = 52.9 % (the same for any volume: both are always on)")),
    # -- scenario 2 ------------------------------------------------------------------------
    _c("s2-throughput", S2, "Using RunPod H100: Throughput: 600 tokens/second at optimal batch", 600,
       "tokens/s", [("model", "llama-3.1-70b", ""), ("gpu", "h100-sxm", "")], _rc_s2_optimal_batch),
    _c("s2-cloud-price", S2, "Cost: $2.69/hour", 2.69, "USD/h", [("provider", "runpod", ""), ("gpu", "h100-sxm", "")],
       _cloud_price_check("runpod", "h100-sxm", "community")),
    _c("s2-cloud-usd-per-mtok", S2, "Cost per 1M tokens: ($2.69/3600) × 1M / 600 = $1.24/million tokens",
       1.24, "USD/1M tokens", [("usd_per_hour", 2.69, "USD/h"), ("tokens_per_s", 600, "tokens/s")],
       lambda x: Check(value=economics.cost_per_million_tokens(x["usd_per_hour"], x["tokens_per_s"]),
                       reason="2.69 / 3600 x 1e6 / 600 = $1.245, at 100 % utilization")),
    _c("s2-cloud-utilization", S2, "Cost per 1M tokens ... = $1.24/million tokens (assumes the GPU is "
       "busy all the time)", 100, "% utilization (implied)",
       [("requests_per_day", 2000, "1/day"), ("output_tokens_per_request", 200, "tokens"), ("usd_per_hour", 2.69, "USD/h")],
       _rc_s2_utilization(ARTICLE_S2_OUTPUT_TOKENS_PER_S, "one H100")),
    _c("s2-cluster-throughput", S2, "Throughput: 2,400 tokens/second (4 GPU linear scaling)", 2400, "tokens/s",
       [("tokens_per_s_per_gpu", 600, "tokens/s"), ("n_gpus", 4, "")],
       lambda x: Check(value=x["tokens_per_s_per_gpu"] * x["n_gpus"],
                       reason="4 x 600: linear when the GPUs serve as 4 independent replicas "
                              "(4-bit each); one BF16 replica over 4 GPUs instead predicts "
                              f"{_est('llama-3.1-70b', 'h100-sxm', n_gpus=4, batch_size='max', output_tokens=200).output_tokens_per_s:,.0f} "
                              "tokens/s at its largest batch")),
    _c("s2-cluster-amortized-per-gpu", S2, "Amortized hardware: $3,600 ÷ 26,280 hours = $0.137/hour per GPU",
       0.137, "USD/GPU-h", [("gpu_usd", 3600, "USD"), ("years", 3, "years")],
       lambda x: Check(value=economics.amortized_usd_per_hour(x["gpu_usd"], x["years"]),
                       reason=f"3,600 / 26,280 = $0.137/h; at the catalog's typical "
                              f"{_usd(_hardware_range('h100-sxm')[1])} it is "
                              f"{_usd(_hardware_range('h100-sxm')[1] / 26280)}/h before the server",
                       implausible=_implausible_gpu_price("h100-sxm", x["gpu_usd"]))),
    _c("s2-cluster-amortized", S2, "= $0.55/hour for 4", 0.55, "USD/h (4 GPUs)",
       [("usd_per_gpu_hour", 3600 / 26280, "USD/h"), ("n_gpus", 4, "")],
       lambda x: Check(value=x["usd_per_gpu_hour"] * x["n_gpus"], reason="4 x 0.137 = $0.548/h",
                       implausible=_implausible_gpu_price("h100-sxm", 3600))),
    _c("s2-cluster-power", S2, "Electricity/cooling: $0.80/hour", 0.80, "USD/h (4 GPUs)",
       [("n_gpus", 4, ""), ("tdp_w", 700, "W")],
       lambda x: (lambda lo, typ, hi, row: Check(value=typ, low=lo, high=hi, reason=(
           f"4 x 700 W at full power x PUE {row['pue_low']:g}-{row['pue_high']:g} x "
           f"${row['usd_per_kwh_low']:g}-{row['usd_per_kwh_high']:g}/kWh ({row['id']}) = "
           f"{_usd(lo)}-{_usd(hi)}/h, typical {_usd(typ)}; GPUs only")))(
           *_power_range_usd_per_hour(x["n_gpus"], x["tdp_w"]))),
    _c("s2-cluster-total", S2, "Total: $1.35/hour", 1.35, "USD/h (4 GPUs)",
       [("amortized_usd_per_hour", 0.55, "USD/h"), ("power_usd_per_hour", 0.80, "USD/h")],
       lambda x: Check(value=x["amortized_usd_per_hour"] + x["power_usd_per_hour"],
                       reason=f"0.55 + 0.80; at catalog prices 4 owned H100s cost "
                              f"{_usd(_catalog_cluster_tco(4).usd_per_hour)}/h",
                       implausible=_implausible_gpu_price("h100-sxm", 3600))),
    _c("s2-cluster-usd-per-mtok", S2, "Cost per 1M tokens: ($1.35/3600) × 1M / 2,400 = $0.156/million tokens",
       0.156, "USD/1M tokens", [("usd_per_hour", 1.35, "USD/h"), ("tokens_per_s", 2400, "tokens/s")],
       lambda x: Check(value=economics.cost_per_million_tokens(x["usd_per_hour"], x["tokens_per_s"]),
                       reason="1.35 / 3600 x 1e6 / 2,400 = $0.156, at 100 % utilization",
                       implausible=_implausible_gpu_price("h100-sxm", 3600))),
    _c("s2-cloud-vs-self-ratio", S2, "(8.7x cheaper than cloud)", 8.7, "x",
       [("cloud_usd_per_mtok", 2.69 / 3600 * 1e6 / 600, "USD/1M"), ("self_usd_per_mtok", 1.35 / 3600 * 1e6 / 2400, "USD/1M")],
       lambda x: Check(value=x["cloud_usd_per_mtok"] / x["self_usd_per_mtok"],
                       reason="1.245 / 0.156 = 7.97x by its own figures (and the self-hosted side "
                              "rests on a $3,600 H100)")),
    _c("s2-cluster-utilization", S2, "Self-hosted 4x H100 cost per 1M tokens $0.156 (assumes the "
       "cluster is busy all the time)", 100, "% utilization (implied)",
       [("requests_per_day", 2000, "1/day"), ("output_tokens_per_request", 200, "tokens"), ("usd_per_hour", 1.35, "USD/h")],
       _rc_s2_utilization(4 * ARTICLE_S2_OUTPUT_TOKENS_PER_S, "the 4-GPU cluster at its $1.35/h")),
    # -- quantization ----------------------------------------------------------------------
    _c("quant-13b-fp16-memory", OPT, "13B float16 model: 26GB VRAM", 26, "GB", [("model", "llama-2-13b", "")],
       lambda x: Check(value=perf.weights_bytes("llama-2-13b", "fp16") / 1e9,
                       reason="13.02e9 parameters x 2 bytes (weights only; KV cache and runtime come on top)")),
    _c("quant-13b-int8-memory", OPT, "13B int8 model: 13GB VRAM", 13, "GB", [("model", "llama-2-13b", "")],
       lambda x: Check(value=perf.weights_bytes("llama-2-13b", "int8") / 1e9,
                       reason="int8 weights with 16-bit embeddings and scales (hwcost.perf.weights_bytes)")),
    _c("quant-13b-int4-memory", OPT, "13B int4 model: 7GB VRAM", 7, "GB", [("model", "llama-2-13b", "")],
       lambda x: Check(value=perf.weights_bytes("llama-2-13b", "int4") / 1e9,
                       reason="4-bit groups of 128 with FP16 scales, 16-bit embeddings"), tolerance=0.10),
    _c("quant-13b-fp16-speed", OPT, "13B float16 model: ... 150 tokens/sec", 150, "tokens/s",
       reason="no GPU named; at batch 1 every token reads all 26 GB of weights, so 150 tokens/s "
              "needs 3.9 TB/s of effective bandwidth, more than an H100 SXM's 3.35 TB/s peak"),
    _c("quant-13b-int8-speedup", OPT, "13B int8 model: 13GB VRAM, 200 tokens/sec (33% faster, half memory)",
       200 / 150, "x (vs float16)", [("fp16_tokens_per_s", 150, "tokens/s"), ("quantized_tokens_per_s", 200, "tokens/s")],
       _rc_quant_speedup("int8"), tolerance=0.10),
    _c("quant-13b-int4-speedup", OPT, "13B int4 model: 7GB VRAM, 250 tokens/sec (67% faster, minimal quality loss)",
       250 / 150, "x (vs float16)", [("fp16_tokens_per_s", 150, "tokens/s"), ("quantized_tokens_per_s", 250, "tokens/s")],
       _rc_quant_speedup("int4"), tolerance=0.10),
    # -- batching ------------------------------------------------------------------------
    _c("batch-1-speed", OPT, "Batch size 1: 200 tokens/second per user", 200, "tokens/s",
       reason="no model or GPU named"),
    _c("batch-8-throughput", OPT, "Batch size 8: 1,000 tokens/second total", 1000, "tokens/s",
       [("batch1_tokens_per_s", 200, "tokens/s"), ("batch8_tokens_per_s", 1000, "tokens/s")],
       _rc_batch8_throughput, tolerance=0.20),
    _c("batch-8-more-users", OPT, "(500 more users served, higher latency for each)", 500, "users",
       [("batch_size", 8, "sequences")],
       lambda x: Check(value=x["batch_size"] - 1,
                       reason="batch 8 serves 8 streams at once instead of 1: 7 more, at 1,000 / 8 = "
                              "125 tokens/s each; 500 matches no reading of the example")),
    _c("batch-cost-per-request", COSTOPT, "Example: Batching 8 requests increases per-request latency "
       "100ms but reduces cost-per-request 40%.", 40, "% lower cost per request",
       [("batch1_tokens_per_s", 200, "tokens/s"), ("batch8_tokens_per_s", 1000, "tokens/s")], _rc_batch_cost),
    _c("batch-latency-100ms", COSTOPT, "Batching 8 requests increases per-request latency 100ms", 0.1, "s",
       reason="no model, GPU or request length named; see the FAQ's H100 version (faq-multiuser-latency)"),
    # -- caching, speculative decoding -------------------------------------------------
    _c("model-load-time", OPT, "Model-loading takes 1-5 seconds, important if requests are sparse.", 1, "s",
       [("read_gbps", NVME_READ_GBPS, "GB/s")], _rc_model_load, claimed_high=5, relation="span",
       tolerance=0.25),
    _c("speculative-latency", OPT, "Speculative Decoding: ... Reduces latency 20-30% for single-token generation.",
       20, "% lower latency", [("acceptance_rate", (0.5, 0.8), ""), ("draft_tokens", 4, ""), ("draft_cost_ratio", 0.05, "")],
       _rc_speculative, claimed_high=30),
    _c("speculative-latency-advanced", ADV, "Token Streaming and Speculative Decoding: ... Reduces effective "
       "generation latency 20-30%.", 20, "% lower latency",
       [("acceptance_rate", (0.5, 0.8), ""), ("draft_tokens", 4, ""), ("draft_cost_ratio", 0.05, "")],
       _rc_speculative, claimed_high=30),
    # -- model size vs GPU -----------------------------------------------------------------
    _c("size-405b-h100", SIZE, "405B Models: Cloud: H100 cluster (4+) or B200", 4, "GPUs (H100, at least)",
       [("model", "llama-3.1-405b", "")],
       _rc_min_gpus("llama-3.1-405b", "h100-sxm", ("bf16", "fp8", "int4")), relation="at_least"),
    _c("size-405b-self-hosted", SIZE, "405B Models: Self-hosted: 4-8x H100, B200", 4, "GPUs (H100)",
       [("model", "llama-3.1-405b", "")],
       _rc_min_gpus("llama-3.1-405b", "h100-sxm", ("bf16", "fp8", "int4")), claimed_high=8),
    # -- advanced / cost optimization --------------------------------------------------
    _c("flash-attention-speedup", ADV, "On A100/H100, Flash Attention V2 provides 2-3x speedup for long "
       "sequences without accuracy loss.", 2, "x", claimed_high=3,
       reason="a kernel-level figure; FlashAttention-2 (Dao, 2023) reports about 2x over "
              "FlashAttention-1 for the attention kernel; end-to-end decode is dominated by weight "
              "reads and gains less"),
    _c("continuous-batching-gain", ADV, "Continuous batching: Utilization improves 30-50%, enabling serving "
       "2-3x more concurrent users on same GPU.", 2, "x users", claimed_high=3,
       reason="depends on the spread of output lengths; vLLM (Kwon et al., SOSP 2023) reports "
              "2-4x throughput over earlier servers at equal latency"),
    _c("quantization-quality", COSTOPT, "4-bit or 8-bit quantization ... Quality impact 1-5% for most tasks.",
       1, "% quality", claimed_high=5, reason="a model-quality figure; hwcost models cost and speed only"),
    _c("quantization-savings", COSTOPT, "50% smaller model fits on smaller GPU. Cost savings often 30-50%.",
       30, "% cost", claimed_high=50,
       reason="depends on the GPUs swapped; e.g. 13B at int8 on a RunPod 4090 ($0.34/h) instead of "
              "an A100 ($1.39/h) is 76 % less per hour"),
    _c("distillation-pruning", COSTOPT, "Distillation: 85-95% of larger model quality, 50-80% cost reduction; "
       "layer pruning 10-30%; token pruning 15-30%.", 50, "% cost", claimed_high=80,
       reason="model-quality trade-offs outside hwcost's scope"),
    # -- scaling -----------------------------------------------------------------------
    _c("scale-4090-concurrent-users", SCALE, "Single RTX 4090 serves 10-50 concurrent users depending on model "
       "and batch size.", 10, "sequences", [("gpu", "rtx-4090", ""), ("tokens_per_request", 650, "tokens")],
       _rc_4090_concurrency, claimed_high=50, relation="span", tolerance=0.20),
    _c("scale-distributed-users", SCALE, "Distributed Inference (Multiple Machines): Best for: 1000+ "
       "concurrent users", 1000, "concurrent users",
       reason="a rule of thumb; concurrency per replica is set by KV-cache memory (e.g. "
              "scale-4090-concurrent-users), so the number of machines follows from users / "
              "sequences per replica, not from a fixed threshold"),
    _c("scale-tensor-parallel-threshold", SCALE, "Break-even: At 50+ concurrent users or >30B models, tensor "
       "parallelism becomes necessary.", 30, "B params",
       reason="depends on GPU memory and precision: a 70B model fits one 80 GB GPU at 4-bit, "
              "and concurrency is limited by KV-cache memory, not a user count"),
    # -- when to use / flowchart / patterns ----------------------------------------------
    _c("flowchart-under-100-requests", WHEN, "Traffic Volume: <100 daily requests → Cloud GPU. >10K daily "
       "requests → Self-hosted.", 100, "requests/day", [("requests_per_day", 100, "1/day")], _rc_under_100_requests),
    _c("when-traffic-thresholds", WHEN, "Cloud for traffic under 10K requests daily; self-hosted for 10K+ "
       "daily requests; short-term projects under 6 months; long-term 2+ years.", 10_000, "requests/day",
       reason="an always-on GPU costs the same per hour at any volume; volume sets utilization "
              "and the replica count (see scenario_comparison and economics.api_crossover)"),
    _c("flowchart-sla-availability", WHEN, "Latency <100ms SLA / >500ms SLA; Availability 99%+ → redundant "
       "cloud, >90% → self-hosted or basic cloud.", 99, "% availability",
       reason="routing rules without a cost or latency figure to recompute"),
    _c("patterns-timelines", PATTERNS, "Timeline: 6-12 months typical transition; 12-24 months before "
       "internal infrastructure makes sense.", 6, "months", claimed_high=24,
       reason="anecdotal timelines, no inputs given"),
    # -- FAQ -------------------------------------------------------------------------------
    _c("faq-4090-up-to-30b", FAQ, "RTX 4090 serves up to 30B models well at acceptable latency for "
       "single-user scenarios.", 30, "B params", [("gpu", "rtx-4090", "")], _rc_largest_fit("rtx-4090"),
       tolerance=0.15),
    _c("faq-6000ada-up-to-70b", FAQ, "RTX 6000 Ada (if available) serves up to 70B efficiently.", 70,
       "B params", [("gpu", "rtx-6000-ada", "")], _rc_largest_fit("rtx-6000-ada"), tolerance=0.15),
    _c("faq-h100-bandwidth", FAQ, "Memory bandwidth difference (3.35 TB/s vs. 1.935 TB/s): H100", 3.35,
       "TB/s", [("gpu", "h100-sxm", "")], _rc_bandwidth("h100-sxm")),
    _c("faq-a100-bandwidth", FAQ, "Memory bandwidth difference (3.35 TB/s vs. 1.935 TB/s): A100", 1.935,
       "TB/s", [("gpu", "a100-80gb-sxm", "")],
       lambda x: Check(value=catalog.gpu("a100-80gb-sxm").mem_bw_gbps / 1000,
                       reason="1.935 TB/s is the A100 80GB PCIe; like-for-like with the 3.35 TB/s "
                              "H100 SXM is the A100 80GB SXM at 2.039 TB/s")),
    _c("faq-h100-vs-a100-moderate-batch", FAQ, "translates to roughly 1.5-2x throughput improvement on LLMs at "
       "moderate batch sizes.", 1.5, "x", [("batch_size", 8, "sequences")], _rc_h100_a100(8), claimed_high=2.0),
    _c("faq-h100-vs-a100-batch-1", FAQ, "For single-token latency (batch size 1), improvements are more modest "
       "(20-30%) because computation becomes bottleneck rather than memory bandwidth.", 1.2, "x",
       [("batch_size", 1, "sequences")],
       _rc_h100_a100(1, "; batch-1 decode is memory-bound, so the gain is the bandwidth ratio, not 20-30 %"),
       claimed_high=1.3),
    _c("faq-h100-vs-a100-high-batch", FAQ, "At high batch sizes (8-32), H100 advantage reaches 2x or more.", 2.0,
       "x", [("batch_size", 32, "sequences")], _rc_h100_a100(32), relation="at_least"),
    _c("faq-quantization-memory", FAQ, "Quantization to int8 or int4 ... reducing memory 50%.", 50, "%",
       [("model", "llama-2-13b", "")],
       lambda x: Check(low=100 * (1 - perf.weights_bytes("llama-2-13b", "int8") / perf.weights_bytes("llama-2-13b", "fp16")),
                       high=100 * (1 - perf.weights_bytes("llama-2-13b", "int4") / perf.weights_bytes("llama-2-13b", "fp16")),
                       reason="weights shrink 49 % at int8 and 72 % at int4 (13B)")),
    _c("faq-quantization-quality", FAQ, "Quantization ... typically reduces output quality by 1-5%", 1, "%",
       claimed_high=5, reason="a model-quality figure; hwcost models cost and speed only"),
    _c("faq-break-even-gpu-hours", FAQ, "For H100-equivalent hardware ($10,000 CapEx + $500/month operating), "
       "break-even is roughly 8,000-10,000 GPU-hours.", 8_000, "GPU-hours",
       [("capex_usd", 10_000, "USD"), ("opex_usd_per_month", 500, "USD/month"),
        ("cloud_usd_per_gpu_hour", 2.69, "USD/h (the article's H100 rate)")],
       _rc_break_even_hours, claimed_high=10_000),
    _c("faq-break-even-months", FAQ, "If you're using 1 GPU 24/7 for 15+ months, self-hosting is cheaper.", 15,
       "months", [("capex_usd", 10_000, "USD"), ("opex_usd_per_month", 500, "USD/month"),
                  ("cloud_usd_per_gpu_hour", 2.69, "USD/h")], _rc_break_even_months),
    _c("faq-break-even-short-term", FAQ, "For episodic or shorter-term use (under 6 months), cloud is better "
       "due to no CapEx.", 6, "months (break-even at least)",
       [("capex_usd", 10_000, "USD"), ("opex_usd_per_month", 500, "USD/month"),
        ("cloud_usd_per_gpu_hour", 2.69, "USD/h")],
       lambda x: Check(value=_rc_break_even_months(x).value,
                       reason="break-even at 6.8 months against $2.69/h, so under 6 months renting wins"),
       relation="at_least"),
    _c("faq-multiuser-latency", FAQ, "At 8 concurrent users on a single H100, latency increases ~100ms per user",
       0.1, "s", [("gpu", "h100-sxm", ""), ("batch_size", 8, "sequences")], _rc_multiuser_latency,
       tolerance=0.25),
    _c("faq-multiuser-throughput", FAQ, "but GPU throughput improves 5-6x.", 5, "x",
       [("gpu", "h100-sxm", ""), ("batch_size", 8, "sequences")], _rc_multiuser_throughput, claimed_high=6,
       tolerance=0.10),
    _c("faq-api-input-prices", FAQ, "APIs cost $0.50-15 per 1M input tokens depending on model.", 0.50,
       "USD/1M input tokens", [("table", "api_prices", "")], _rc_api_input_range, claimed_high=15,
       relation="span", tolerance=0.25),
    _c("faq-self-hosted-usd-per-mtok", FAQ, "Self-hosted infrastructure costs $0.15-2.00 per 1M depending on "
       "hardware and utilization.", 0.15, "USD/1M tokens", [("scenarios", "article's", "")],
       _rc_self_hosted_range, claimed_high=2.00, relation="span", tolerance=0.25),
    _c("faq-api-crossover-volume", FAQ, "For small applications (under 100M tokens monthly), APIs are often "
       "simpler and less expensive. For larger applications (1B+ tokens), self-hosting becomes cheaper",
       1e8, "tokens/month", [("model_class", "70B", ""), ("tokens_per_s", 600, "tokens/s")],
       _rc_api_crossover, claimed_high=1e9),
    _c("faq-generation-gain", FAQ, "Technology improvements average 1.5-2x per 2 years.", 1.5, "x per 2 years",
       [("gpus", "a100-80gb-sxm, h100-sxm, b200", "")], _rc_generation_gain, claimed_high=2.0,
       relation="span", tolerance=0.15),
    _c("faq-refresh-cycle", FAQ, "plan refresh cycles every 3-4 years or when cost-per-token drops below 50% "
       "of current hardware.", 3, "years", claimed_high=4, recompute=_rc_refresh),
    _c("faq-coreweave-leads-on-cost", FAQ, "CoreWeave leads on cost", 1.0,
       "x (CoreWeave / cheapest per-GPU price; 'leads' = at most 1)",
       [("coreweave_h100", 6.16, "USD/GPU-h"), ("runpod_h100", 2.69, "USD/GPU-h"),
        ("coreweave_a100", 2.70, "USD/GPU-h"), ("runpod_a100", 1.39, "USD/GPU-h")],
       lambda x: Check(low=x["coreweave_a100"] / x["runpod_a100"], high=x["coreweave_h100"] / x["runpod_h100"],
                       reason="by the article's own prices CoreWeave is 1.94x (A100) and 2.29x (H100) "
                              "RunPod's per GPU-hour"),
       relation="at_most"),
)


# ----------------------------------------------------------------------------------------
# Public API
# ----------------------------------------------------------------------------------------
def claims() -> tuple[Claim, ...]:
    """Every audited claim, in article order."""
    return CLAIMS


def claim(claim_id: str) -> Claim:
    """One claim by id (unknown -> ValueError with the closest ids)."""
    for c in CLAIMS:
        if c.claim_id == claim_id:
            return c
    raise validate.unknown(claim_id, [c.claim_id for c in CLAIMS], "claim id")


def audit(claim_list=None, *, max_tolerance: float | None = None) -> pd.DataFrame:
    """Every claim of the article with its recomputed value and status.

    Parameters
    ----------
    claim_list : sequence of Claim, optional
        Default: every claim (:func:`claims`).
    max_tolerance : float, optional
        Cap on each claim's own relative tolerance, >= 0 (0.02 = within 2 %); the stricter
        of the two applies, so a smaller cap never adds an ``agrees``. None keeps each
        claim's own tolerance (5 % for most, up to 25 % for rough figures). [-]

    Returns
    -------
    DataFrame
        Columns :data:`AUDIT_COLUMNS`: ``claim_id, section, claim, claimed_value,
        claimed_high, claimed_unit, inputs, recomputed_value, recomputed_low,
        recomputed_high, as_written_value, status, difference_pct, reason``. Numbers are
        nullable floats (``<NA>`` where a claim has no such value: ranges, not checkable).
    """
    chosen = CLAIMS if claim_list is None else tuple(claim_list)
    if max_tolerance is not None:
        cap = validate.non_negative("max_tolerance", max_tolerance, array=True)
        chosen = tuple(dataclasses.replace(c, tolerance=min(c.tolerance, cap)) for c in chosen)
    with catalog.bundled_only():  # the article is checked against the sourced tables only
        rows = [c.evaluate() for c in chosen]
    return _typed_frame(rows, AUDIT_COLUMNS, floats=(
        "claimed_value", "claimed_high", "recomputed_value", "recomputed_low", "recomputed_high",
        "as_written_value", "difference_pct"))


def summary(df: pd.DataFrame | None = None) -> pd.DataFrame:
    """Claims per status (all four statuses listed, zero where none)."""
    df = audit() if df is None else df
    counts = df["status"].value_counts()
    return pd.DataFrame({"status": list(STATUSES), "claims": [int(counts.get(s, 0)) for s in STATUSES]})


# ----------------------------------------------------------------------------------------
# Scenario comparison: the article's figures next to the corrected answer
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ScenarioSpec:
    """One of the article's scenarios."""

    number: int
    title: str
    model: str
    requests_per_day: float
    input_tokens: int
    output_tokens: int

    def workload(self) -> Workload:
        return Workload(self.model, self.requests_per_day, self.input_tokens, self.output_tokens)


SCENARIOS = {
    1: ScenarioSpec(1, "Scenario 1: 13B real-time chat, 50 requests/day", "llama-2-13b", 50, 500, 150),
    2: ScenarioSpec(2, "Scenario 2: 70B, 2,000 requests/day", "llama-3.1-70b", 2000, 500, 200),
}

COMPARISON_COLUMNS = (
    "scenario", "option", "basis", "gpu_id", "n_gpus", "precision", "usd_per_hour",
    "output_tokens_per_s", "utilization", "usd_per_day", "usd_per_request",
    "usd_per_million_tokens", "notes",
)


def _article_rows(spec: ScenarioSpec) -> list[dict]:
    tokens = spec.input_tokens + spec.output_tokens
    if spec.number == 1:
        return [
            dict(option="RunPod RTX 4090, on demand", gpu_id="rtx-4090", n_gpus=1, precision=None,
                 usd_per_hour=0.34, output_tokens_per_s=None, utilization=50 * tokens / (86_400 * 120),
                 usd_per_day=None, usd_per_request=2.80, usd_per_million_tokens=0.78,
                 notes="article: 120 tokens/s counted over prompt + output; $/1M at full use"),
            dict(option="Self-hosted RTX 4090", gpu_id="rtx-4090", n_gpus=1, precision=None,
                 usd_per_hour=0.16, output_tokens_per_s=None, utilization=50 * tokens / (86_400 * 120),
                 usd_per_day=None, usd_per_request=1.33, usd_per_million_tokens=None,
                 notes="article: $0.061 amortization + $0.10 electricity"),
        ]
    return [
        dict(option="RunPod H100, on demand", gpu_id="h100-sxm", n_gpus=1, precision=None,
             usd_per_hour=2.69, output_tokens_per_s=None, utilization=None, usd_per_day=None,
             usd_per_request=None, usd_per_million_tokens=1.24,
             notes="article: 600 tokens/s, utilization not considered (100 % implied)"),
        dict(option="Self-hosted 4x H100", gpu_id="h100-sxm", n_gpus=4, precision=None,
             usd_per_hour=1.35, output_tokens_per_s=None, utilization=None, usd_per_day=None,
             usd_per_request=None, usd_per_million_tokens=0.156,
             notes="article: $3,600 per H100, 2,400 tokens/s, 100 % implied"),
    ]


def _deployment(spec, gpu, usd_per_gpu_hour, *, n_gpus=1, precision, billing="always-on",
                cold_start_s=0.0, label, granularity=1.0):
    """Capacity at the largest batch that fits; single-request time at batch 1."""
    single = _est(spec.model, gpu, n_gpus=n_gpus, precision=precision, batch_size=1,
                  input_tokens=spec.input_tokens, output_tokens=spec.output_tokens)
    full = _est(spec.model, gpu, n_gpus=n_gpus, precision=precision, batch_size="max",
                input_tokens=spec.input_tokens, output_tokens=spec.output_tokens)
    if not (single.fits and full.fits):
        raise HwcostError(f"{spec.model} does not fit {n_gpus} x {gpu} at {precision}: {single.reason}")
    d = economics.Deployment(usd_per_gpu_hour=usd_per_gpu_hour, output_tokens_per_s=full.output_tokens_per_s,
                             n_gpus=n_gpus, billing=billing, cold_start_s=cold_start_s,
                             single_request_s=single.e2e_s, billing_granularity_s=granularity, label=label)
    return d, full


def _row(spec, option, d, full, precision, notes, gpu_id, cost=None):
    cost = cost or economics.request_cost(spec.workload(), d)
    return dict(option=option, gpu_id=gpu_id, n_gpus=d.n_gpus, precision=precision,
                usd_per_hour=d.usd_per_replica_hour, output_tokens_per_s=full.output_tokens_per_s,
                utilization=cost.utilization, usd_per_day=cost.usd_per_day,
                usd_per_request=cost.usd_per_request, usd_per_million_tokens=cost.usd_per_million_tokens,
                notes=notes)


def _corrected_rows(spec: ScenarioSpec, energy_home: str, energy_dc: str, read_gbps: float) -> list[dict]:
    w = spec.workload()
    rows = []
    if spec.number == 1:
        gpu, prec = "rtx-4090", "int8"
        rate = economics.cloud_rate("runpod", gpu, offering="community")
        cold = perf.model_load_seconds(spec.model, prec, read_gbps)
        d, full = _deployment(spec, gpu, rate.usd_per_gpu_hour, precision=prec, label="runpod 4090 always-on")
        rows.append(_row(spec, "RunPod RTX 4090, on demand, always on", d, full, prec,
                         f"{rate.offer_id}; 13B needs int8 to fit 24 GB; capacity at batch {full.batch_size}",
                         gpu))
        d2, _ = _deployment(spec, gpu, rate.usd_per_gpu_hour, precision=prec, billing="scale-to-zero",
                            cold_start_s=cold, label="runpod 4090 scale-to-zero",
                            granularity=rate.billing_granularity_s)
        c2 = economics.request_cost(w, d2)
        rows.append(_row(spec, "RunPod RTX 4090, scale to zero", d2, full, prec,
                         f"per-second billing, 5 min idle timeout, {cold:.0f} s cold start (model load at "
                         f"{read_gbps:g} GB/s) hits {c2.cold_start_request_share:.1%} of requests", gpu, c2))
        u = economics.request_cost(w, d).utilization
        own = economics.ownership_cost(gpu, 1, 1, utilization=max(u, 1e-9), energy=energy_home,
                                       operations_usd_per_year=0.0)
        d3, _ = _deployment(spec, gpu, own.usd_per_gpu_hour, precision=prec, label="own 4090")
        rows.append(_row(spec, "Self-hosted RTX 4090", d3, full, prec,
                         f"buys {own.plan.bill_of_materials()}: {_usd(own.capex_usd)} up front (card, "
                         f"dedicated host, setup), 3 years, {energy_home} electricity, idle most of "
                         f"the day; no staff time", gpu))
        api_model = "llama-3.1-8b"
    else:
        gpu = "h100-sxm"
        rate = economics.cloud_rate("runpod", gpu, offering="community")
        cold = perf.model_load_seconds(spec.model, "int4", read_gbps)
        d, full = _deployment(spec, gpu, rate.usd_per_gpu_hour, precision="int4", label="runpod h100")
        rows.append(_row(spec, "RunPod H100, on demand, always on", d, full, "int4",
                         f"{rate.offer_id}; 70B fits one 80 GB GPU only at 4-bit", gpu))
        d2, _ = _deployment(spec, gpu, rate.usd_per_gpu_hour, precision="int4", billing="scale-to-zero",
                            cold_start_s=cold, label="runpod h100 scale-to-zero",
                            granularity=rate.billing_granularity_s)
        c2 = economics.request_cost(w, d2)
        rows.append(_row(spec, "RunPod H100, scale to zero", d2, full, "int4",
                         f"{cold:.0f} s cold start hits {c2.cold_start_request_share:.1%} of requests; at this "
                         f"volume the GPU hardly ever gets to stop", gpu, c2))
        d3, full3 = _deployment(spec, gpu, rate.usd_per_gpu_hour, n_gpus=2, precision="fp8",
                                label="runpod 2x h100 fp8")
        rows.append(_row(spec, "RunPod 2x H100 FP8, always on", d3, full3, "fp8",
                         "8-bit weights keep quality closer to BF16", gpu))
        for n, prec in ((1, "int4"), (4, "bf16")):
            probe, _ = _deployment(spec, gpu, 1.0, n_gpus=n, precision=prec, label="probe")
            u = economics.request_cost(w, probe).utilization
            plan = economics.purchase_plan(gpu, 1, n)
            own = economics.ownership_cost(gpu, 1, n, utilization=max(u * n / plan.n_gpus_bought, 1e-9),
                                           energy=energy_dc, operations_usd_per_year=0.0)
            # the replica pays for everything bought: a 1-GPU replica still buys the 4-GPU board
            dn, fulln = _deployment(spec, gpu, own.usd_per_hour / n, n_gpus=n, precision=prec,
                                    label=f"own {n}x h100")
            rows.append(_row(spec, f"Self-hosted {n}x H100 {prec.upper()}", dn, fulln, prec,
                             f"buys {own.plan.bill_of_materials()}: {_usd(own.capex_usd)} up front, "
                             f"{_usd(own.running_usd_per_year)}/year running, 3 years, {energy_dc}; "
                             f"no staff time", gpu))
        api_model = "llama-3.1-70b"
    apis = economics.api_prices_for(api_model)
    for api_id in (apis.iloc[0]["id"], apis.iloc[-1]["id"]):
        api = economics.api_price(api_id)
        c = economics.api_cost(w, api)
        rows.append(dict(option=f"API {api.provider} ({api_model})", gpu_id=None, n_gpus=None,
                         precision=None, usd_per_hour=None, output_tokens_per_s=None, utilization=None,
                         usd_per_day=c.usd_per_day, usd_per_request=c.usd_per_request,
                         usd_per_million_tokens=c.usd_per_million_tokens,
                         notes=f"{api.id}: ${api.usd_per_million_input_tokens:g} in / "
                               f"${api.usd_per_million_output_tokens:g} out per 1M"
                               + (" (no 13B API; the nearest open model)" if spec.number == 1 else "")))
    return rows


def scenario_comparison(scenario=None, *, energy_home: str = "us-residential",
                        energy_datacenter: str = "us-industrial-colo",
                        read_gbps: float = 2.0) -> pd.DataFrame:
    """The article's scenarios next to the corrected, utilization-aware answer.

    For each scenario the article's own figures (``basis="article"``) are followed by
    options computed with :mod:`hwcost.perf` (throughput that fits the GPU's memory) and
    current catalog prices (``basis="corrected"``): always-on and scale-to-zero cloud,
    self-hosting at catalog TCO (power at idle draw for the share of the day the GPU is
    idle), and the cheapest and dearest API serving the same open model.

    Parameters
    ----------
    scenario : int or None
        1, 2 or None (both).
    energy_home, energy_datacenter : str
        ``catalog.energy()`` ids for the home card and the data-center GPUs.
    read_gbps : float
        Storage read rate for the cold start of scale-to-zero. [GB/s]

    Returns
    -------
    DataFrame
        Columns :data:`COMPARISON_COLUMNS`; costs in USD, utilization as a share (0-1).
    """
    if scenario is None:
        numbers = sorted(SCENARIOS)
    elif scenario in SCENARIOS:
        numbers = [scenario]
    else:
        raise HwcostError(f"scenario must be one of {sorted(SCENARIOS)} or None, got {scenario!r}")
    for name, value in (("energy_home", energy_home), ("energy_datacenter", energy_datacenter)):
        known = set(catalog.energy()["id"])
        if value not in known:
            raise validate.unknown(value, known, f"energy setting ({name})")
    read_gbps = validate.positive("read_gbps", read_gbps, array=True)
    rows = []
    for n in numbers:
        spec = SCENARIOS[n]
        for r in _article_rows(spec):
            rows.append({"scenario": spec.title, "basis": "article", **r})
        for r in _corrected_rows(spec, energy_home, energy_datacenter, read_gbps):
            rows.append({"scenario": spec.title, "basis": "corrected", **r})
    return _typed_frame(rows, COMPARISON_COLUMNS, floats=(
        "usd_per_hour", "output_tokens_per_s", "utilization", "usd_per_day", "usd_per_request",
        "usd_per_million_tokens"), ints=("n_gpus",))


def _on_sourced_tables(func):
    """Run ``func`` on the bundled tables only: the article is checked against sourced data,
    whatever price tables the user has loaded (see :func:`hwcost.catalog.bundled_only`)."""
    @functools.wraps(func)
    def run(*args, **kwargs):
        with catalog.bundled_only():
            return func(*args, **kwargs)
    return run


scenario_comparison = _on_sourced_tables(scenario_comparison)


# ----------------------------------------------------------------------------------------
# Reading the audit: a compact table, and which numbers of the article it covers
# ----------------------------------------------------------------------------------------
ARTICLE_DIR = Path(__file__).resolve().parents[3] / "shared" / "seed"
"""Where the article's text is kept beside the repository (``../shared/seed/*.txt``)."""

COVERAGE_COLUMNS = ("line", "number", "value", "coverage", "claim_ids", "note", "context")
COVERAGE = ("audited here", "audited elsewhere", "label", "not audited")

_NUMBER = re.compile(r"(?<![\w.])(\$)?(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)"
                     r"(?:\s?([KMB])(?![A-Za-z]))?(\s?%)?")
_SCALE = {"K": 1e3, "M": 1e6, "B": 1e9}


def article_text(directory: str | Path | None = None) -> str | None:
    """The source article's text (every ``*.txt`` in ``directory``, in name order).

    Parameters
    ----------
    directory : str or Path, optional
        Default :data:`ARTICLE_DIR`.

    Returns
    -------
    str or None
        None when the folder or its text files are absent (the audit itself needs only the
        claims stored in this module).
    """
    folder = Path(ARTICLE_DIR if directory is None else directory)
    files = sorted(folder.glob("*.txt")) if folder.is_dir() else []
    if not files:
        return None
    return "\n".join(f.read_text(encoding="utf-8") for f in files)


def _numbers(text: str):
    """(match, raw value, value with K/M/B applied) for each number written in ``text``."""
    out = []
    for m in _NUMBER.finditer(text):
        raw = float(m.group(2).replace(",", ""))
        out.append((m, raw, raw * _SCALE.get(m.group(3), 1.0)))
    return out


def _claim_numbers(c: Claim) -> set:
    values = set()
    for _m, raw, scaled in _numbers(c.claim):
        values |= {round(raw, 6), round(scaled, 6)}
    for v in (c.claimed_value, c.claimed_high):
        if v is not None:
            values.add(round(float(v), 6))
    for _name, v, _unit in c.inputs:
        for x in (v if isinstance(v, tuple) else (v,)):
            if isinstance(x, (int, float)) and not isinstance(x, bool):
                values.add(round(float(x), 6))
    return values


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.lower()).strip()


def _quote(line: str, c: Claim) -> tuple[bool, int]:
    """Whether claim ``c`` quotes (part of) this article line, and the longest shared text."""
    l = _norm(line)
    best, quoted = 0, False
    for fragment in re.split(r"\.\.\.|…|;", c.claim):
        f = _norm(fragment)
        if len(f) < 6:
            continue
        m = difflib.SequenceMatcher(None, l, f, autojunk=False).find_longest_match(0, len(l), 0, len(f))
        best = max(best, m.size)
        quoted |= m.size >= min(20, 0.8 * len(f), 0.8 * len(l))
    return quoted, best


def _label(line: str, m, raw: float) -> str | None:
    """Why a number is a name or label rather than a quantity (None: it is a quantity)."""
    before, after = line[:m.start()], line[m.end():]
    plain = m.group(1) is None and m.group(4) is None and m.group(3) is None
    if line.lstrip().lower().startswith("assumption:"):
        return "scenario input (used by the scenario's claims)"
    if re.search(r"\b(RTX|GTX|Pattern|Scenario)\s$", before):
        return "product name or label"
    if plain and before.endswith("(") and after.startswith(")"):
        return "list marker"
    if plain and "," not in m.group(2) and raw.is_integer() and 1990 <= raw <= 2099:
        return "date or title"
    if plain and re.match(r"/7\b", after) or re.search(r"\b24/$", before):
        return "idiom (24/7)"
    if m.group(1) is None and (m.group(3) == "B" or (plain and re.match(r"-\d+B\b", after))):
        return "model size (names a model class)"
    return None


def number_coverage(text: str | None = None, claim_list=None) -> pd.DataFrame:
    """Every number written in the article and whether a claim of the audit covers it.

    A number on an article line is ``audited here`` when a claim that quotes that line (a
    fragment of the claim's text matches the line) states the same value (as claimed value,
    input, or in its text); else ``label`` when it is a product name, list marker, date,
    model size or scenario input; else ``audited elsewhere`` when the value belongs to claims
    that do not quote the line (a repeated figure, or a paraphrase: a weaker match, worth a
    look); otherwise ``not audited``.

    Parameters
    ----------
    text : str, optional
        The article; default :func:`article_text`. When no text is found, the result is
        empty (columns only).
    claim_list : sequence of Claim, optional
        Default: every claim.

    Returns
    -------
    DataFrame
        Columns :data:`COVERAGE_COLUMNS`: ``line`` (1-based), ``number`` (as written),
        ``value``, ``coverage`` (one of :data:`COVERAGE`), ``claim_ids`` (up to three,
        comma-separated), ``note``, ``context`` (the line, shortened).
    """
    text = article_text() if text is None else text
    chosen = CLAIMS if claim_list is None else tuple(claim_list)
    if text is None:
        return pd.DataFrame(columns=list(COVERAGE_COLUMNS))
    index = [(c, _claim_numbers(c)) for c in chosen]
    rows = []
    for i, line in enumerate(text.splitlines(), start=1):
        for m, raw, scaled in _numbers(line):
            keys = {round(raw, 6), round(scaled, 6)}
            scored = [(c, *_quote(line, c)) for c, values in index if values & keys]
            scored.sort(key=lambda t: -t[2])  # closest wording first
            having = [c for c, _q, _n in scored]
            here = [c for c, quoted, _n in scored if quoted]
            label = _label(line, m, raw)
            if here:
                coverage, ids, note = COVERAGE[0], here, ""
            elif label:
                coverage, ids, note = COVERAGE[2], [], label
            elif having:
                coverage, ids, note = COVERAGE[1], having, "same value in a claim quoting another line"
            else:
                coverage, ids, note = COVERAGE[3], [], ""
            rows.append({"line": i, "number": m.group(0).strip(), "value": scaled, "coverage": coverage,
                         "claim_ids": ", ".join(c.claim_id for c in ids[:3]), "note": note,
                         "context": textwrap.shorten(line.strip(), 110, placeholder=" …")})
    return pd.DataFrame(rows, columns=list(COVERAGE_COLUMNS))


def _fmt(x) -> str:
    if x is None or pd.isna(x):
        return ""
    x = float(x)
    a = abs(x)
    if a >= 1000:
        return f"{x:,.0f}"
    if a == 0:
        return "0"
    return f"{x:.3g}"


def _fmt_range(value, low, high) -> str:
    if low is not None and not pd.isna(low) and high is not None and not pd.isna(high) \
            and float(low) != float(high):
        return f"{_fmt(low)}-{_fmt(high)}"
    return _fmt(value)


def _signed_pct(d: float) -> str:
    """A difference in whole percent with its sign; one that rounds to zero reads "0"."""
    text = f"{d:+,.0f}"
    return "0" if text in ("+0", "-0") else text


def readable_audit(df: pd.DataFrame | None = None, *, width: int = 90) -> pd.DataFrame:
    """The audit as a table to read: numbers formatted, long text shortened.

    Parameters
    ----------
    df : DataFrame, optional
        An :func:`audit` table; default the full audit.
    width : int
        Longest claim and reason text kept, >= 20 (cut at a word, marked with "…"). [characters]

    Returns
    -------
    DataFrame
        ``section, claim, claimed, unit, recomputed, as_printed, status, difference_pct,
        reason`` as strings (``claimed`` and ``recomputed`` show ranges as ``low-high``;
        ``as_printed`` is the article's formula evaluated as printed, where it prints one;
        empty where there is nothing); ``difference_pct`` rounded, empty when not checkable.
    """
    df = audit() if df is None else df
    width = validate.positive_int("width", width)
    short = lambda t: textwrap.shorten(str(t), width, placeholder=" …")  # noqa: E731
    out = pd.DataFrame({
        "section": df["section"],
        "claim": df["claim"].map(short),
        "claimed": [_fmt_range(v, v, h) for v, h in zip(df["claimed_value"], df["claimed_high"])],
        "unit": df["claimed_unit"].map(lambda u: textwrap.shorten(str(u), 28, placeholder=" …")),
        "recomputed": [_fmt_range(v, lo, hi) for v, lo, hi in
                       zip(df["recomputed_value"], df["recomputed_low"], df["recomputed_high"])],
        "as_printed": df["as_written_value"].map(_fmt),
        "status": df["status"],
        "difference_pct": [("" if pd.isna(d) else _signed_pct(float(d))) for d in df["difference_pct"]],
        "reason": df["reason"].map(short),
    })
    return out.reset_index(drop=True)


# ----------------------------------------------------------------------------------------
# Any workload, corrected: the options side by side
# ----------------------------------------------------------------------------------------
OPTION_COLUMNS = (
    "option", "kind", "gpu_id", "n_gpus", "precision", "usd_per_hour", "output_tokens_per_s",
    "utilization", "replicas_peak", "usd_per_day", "usd_per_request", "usd_per_million_tokens",
    "cold_start_request_share", "notes",
)
OPTION_KINDS = ("cloud, always on", "cloud, scale to zero", "self-hosted", "API")


def fitting_precision(model, gpu, *, n_gpus: int = 1, preferred: str = "bf16", input_tokens: int = 512,
                      output_tokens: int = 128) -> tuple[str, str]:
    """The weight precision to serve at: ``preferred`` when it fits, else the best that does.

    "Fits" means at least one sequence of ``input_tokens + output_tokens`` fits the replica's
    memory beside the weights (:func:`hwcost.perf.estimate`). Otherwise the highest
    precision below ``preferred`` that fits on the same GPUs is used (fp8, then int8, then
    int4, as the GPU supports them).

    Returns
    -------
    (str, str)
        The precision and a sentence saying why (empty when ``preferred`` fits).

    Raises
    ------
    ValueError
        When no precision fits ``n_gpus`` x ``gpu``; the message gives perf's suggestion.
    """
    e = perf.estimate(model, gpu, n_gpus=n_gpus, precision=preferred, batch_size=1,
                      input_tokens=input_tokens, output_tokens=output_tokens)
    if e.fits:
        return e.precision, ""
    if e.suggested_precision is None:
        raise HwcostError(f"{e.model_id} fits no precision on {n_gpus} x {e.gpu_id}: {e.reason}; "
                         f"{e.suggestion}")
    need = (f"{e.suggested_n_gpus} x {e.gpu_id} needed at {e.precision.upper()}"
            if e.suggested_n_gpus else f"no replica holds it at {e.precision.upper()}")
    q = perf.estimate(model, gpu, n_gpus=n_gpus, precision=e.suggested_precision, batch_size=1,
                      input_tokens=input_tokens, output_tokens=output_tokens)
    return e.suggested_precision, (
        f"{e.model_id} does not fit {n_gpus} x {e.gpu_id} ({_gpu_memory_gb(e.gpu_id):g} GB each) at "
        f"{e.precision.upper()} ({e.weights_gb:.0f} GB of weights; {need}); it fits at "
        f"{q.precision.upper()} ({q.weights_gb:.0f} GB of weights)")


def _gpu_memory_gb(gpu) -> float:
    """Memory of one GPU. [GB]"""
    return float(catalog.gpu(gpu).memory_gb)


@dataclass(frozen=True)
class CorrectedOptions:
    """A workload priced every way: cloud always on, cloud scale-to-zero, owned, API.

    See :func:`corrected_options`. Costs in USD; ``table`` has :data:`OPTION_COLUMNS`.
    """

    workload: Workload
    gpu_id: str
    n_gpus: int
    precision: str
    precision_note: str
    capacity: perf.Estimate = field(repr=False)
    single: perf.Estimate = field(repr=False)
    cloud: economics.CloudRate
    cloud_usd_per_replica_hour: float
    tco: economics.TCOResult | None = field(repr=False)
    owned_usd_per_replica_hour_full_load: float | None
    cold_start_s: float
    api_offers: pd.DataFrame = field(repr=False, compare=False)
    table: pd.DataFrame = field(repr=False, compare=False)
    notes: tuple = ()
    output_tokens_per_s: float | None = None
    slo: SLO | None = None
    rate_limit: serving.RateLimit | None = field(default=None, repr=False)
    operations_usd_per_year: float = 0.0
    cloud_operations_usd_per_year: float = 0.0
    ownership: economics.OwnershipCost | None = field(default=None, repr=False)

    def row(self, kind: str) -> pd.Series:
        """The first row of ``table`` of an option kind (:data:`OPTION_KINDS`)."""
        hit = self.table[self.table["kind"] == kind]
        if hit.empty:
            raise HwcostError(f"no option of kind {kind!r}; present: {', '.join(dict.fromkeys(self.table['kind']))}")
        return hit.iloc[0]

    def hybrid_kwargs(self) -> dict:
        """Keyword arguments for :func:`hwcost.economics.hybrid_cost` / ``hybrid_sweep``.

        Owned replicas at the cost of ownership of full boxes (the package's one model:
        purchase units, host, colocation, maintenance, capital) with GPUs at full power (a
        baseline replica is busy),
        cloud replicas at the rental rate, billed cold start = model load time, each replica
        serving :attr:`output_tokens_per_s` (the latency-aware capacity). Staff time is left
        out: it is a fixed cost per deployment, so it does not change which split is cheapest.
        """
        if self.owned_usd_per_replica_hour_full_load is None:
            raise HwcostError(f"no purchase price for {self.gpu_id} in the catalog: no owned baseline")
        return dict(owned_usd_per_replica_hour=self.owned_usd_per_replica_hour_full_load,
                    cloud_usd_per_replica_hour=self.cloud_usd_per_replica_hour,
                    replica_output_tokens_per_s=self.output_tokens_per_s,
                    cloud_cold_start_s=self.cold_start_s)


def corrected_options(workload: Workload, gpu, *, provider: str = "runpod", offering: str | None = None,
                      precision: str = "bf16", n_gpus: int = 1, energy: str = "us-industrial-colo",
                      read_gbps: float = 2.0, max_utilization: float = 1.0,
                      slo: SLO | None = CAPACITY_SLO,
                      staff_fraction: float = economics.SELF_HOSTED_STAFF_FRACTION,
                      cloud_staff_fraction: float = economics.CLOUD_STAFF_FRACTION) -> CorrectedOptions:
    """Price a workload the utilization-aware way on one GPU type, against hosted APIs.

    Replica capacity is the highest Poisson request rate one replica serves within ``slo``
    (:func:`hwcost.serving.max_rate`: continuous batching, latency at the SLO's percentile,
    at most 90 % of saturation) times the output tokens per request; with ``slo=None``, the
    throughput at the largest batch memory holds (:func:`hwcost.perf.estimate`, no latency
    target, an optimistic bound for interactive traffic). Single-request time at batch 1
    (for scale-to-zero sessions). The precision is ``precision`` if the model fits, else the best that does
    (:func:`fitting_precision`). Options:

    - cloud, always on: the catalog's cheapest on-demand ``provider`` offer for ``gpu``,
      replicas for the busiest hour running 24 h (a replica on part of a multi-GPU bundle
      pays the whole bundle), plus ``cloud_staff_fraction`` of an administrator (also added
      to scale-to-zero);
    - cloud, scale to zero: the same rate, an instance started per burst of requests and
      stopped after 5 idle minutes, billed at the offer's granularity; each start bills and
      waits the model load (weights / ``read_gbps``);
    - self-hosted: the catalog's typical purchase price and server share, 3 years, the
      ``energy`` setting's electricity and PUE, power at idle draw for the idle share of the
      day (:data:`IDLE_POWER_FRACTION`), plus ``staff_fraction`` of an administrator
      (:func:`hwcost.economics.operations_usd_per_year`);
    - API: the cheapest and dearest offer for the model's size class
      (:func:`hwcost.economics.api_offers_for_class`).

    Parameters
    ----------
    workload : Workload
        Requests per day, tokens per request, daily profile.
    gpu : str
        Catalog GPU id.
    provider, offering : str
        Cloud provider slug and optional offering (``community``, ``secure``, ...).
    precision : str
        Preferred weight precision.
    n_gpus : int
        GPUs per replica.
    energy : str
        ``catalog.energy()`` id for the owned GPUs.
    read_gbps : float
        Storage read rate for the model load of a cold start. [GB/s]
    max_utilization : float
        Busy share at which another replica is added, in (0, 1]. [-]
    slo : SLO or None
        Latency targets the capacity must meet (default :data:`CAPACITY_SLO`); None for
        the largest batch memory holds.
    staff_fraction, cloud_staff_fraction : float
        Share of one administrator for owned GPUs and for a serving stack on rented ones
        (defaults 0.10 and 0.05; 0 leaves staff out). [-]

    Returns
    -------
    CorrectedOptions

    Raises
    ------
    ValueError
        When no request rate meets ``slo`` on one replica.
    """
    if not isinstance(workload, Workload):
        raise HwcostError(f"workload must be a hwcost.workload.Workload, got {type(workload).__name__}")
    g = catalog.gpu(gpu)
    n_gpus = validate.positive_int("n_gpus", n_gpus)
    read_gbps = validate.positive("read_gbps", read_gbps, array=True)
    known = set(catalog.energy()["id"])
    if energy not in known:
        raise validate.unknown(energy, known, "energy setting")
    w = workload
    prec, note = fitting_precision(w.model, g.id, n_gpus=n_gpus, preferred=precision,
                                   input_tokens=w.input_tokens, output_tokens=w.output_tokens)
    single = _est(w.model, g.id, n_gpus=n_gpus, precision=prec, batch_size=1,
                  input_tokens=w.input_tokens, output_tokens=w.output_tokens)
    full = _est(w.model, g.id, n_gpus=n_gpus, precision=prec, batch_size="max",
                input_tokens=w.input_tokens, output_tokens=w.output_tokens)
    limit = None
    if slo is None:
        capacity_tps = full.output_tokens_per_s
    else:
        if not isinstance(slo, SLO):
            raise HwcostError(f"slo must be a hwcost.workload.SLO or None, got {type(slo).__name__}")
        limit = serving.max_rate(w.model, g.id, w, slo, n_gpus=n_gpus, precision=prec)
        if not limit.feasible:
            raise HwcostError(f"{w.model} on {n_gpus} x {g.id} at {prec} meets no request rate within "
                             f"{slo}: {limit.reason}")
        capacity_tps = limit.output_tokens_per_s
    ops_own = economics.operations_usd_per_year(validate.non_negative("staff_fraction", staff_fraction, array=True))
    ops_cloud = economics.operations_usd_per_year(
        validate.non_negative("cloud_staff_fraction", cloud_staff_fraction, array=True))
    rate = economics.cloud_rate(provider, g.id, offering=offering)
    cold = perf.model_load_seconds(w.model, prec, read_gbps)
    common = dict(output_tokens_per_s=capacity_tps, n_gpus=n_gpus,
                  max_utilization=max_utilization, single_request_s=single.e2e_s)
    whole = rate.gpus_per_instance > n_gpus
    always = rate.deployment(whole_instance=whole, label="cloud always on", **common)
    s2z = rate.deployment(whole_instance=whole, billing="scale-to-zero", cold_start_s=cold,
                          label="cloud scale to zero", **common)
    notes = []
    if note:
        notes.append(note)
    if whole:
        notes.append(f"{rate.offer_id} rents {rate.gpus_per_instance} GPUs together; a {n_gpus}-GPU replica "
                     f"pays the whole instance")
    rows = []

    def add(option, kind, d, cost, text, precision_=prec, gpu_id=g.id):
        rows.append(dict(option=option, kind=kind, gpu_id=gpu_id, n_gpus=n_gpus, precision=precision_,
                         usd_per_hour=d.usd_per_replica_hour, output_tokens_per_s=capacity_tps,
                         utilization=cost.utilization, replicas_peak=cost.replicas_peak,
                         usd_per_day=cost.usd_per_day, usd_per_request=cost.usd_per_request,
                         usd_per_million_tokens=cost.usd_per_million_tokens,
                         cold_start_request_share=cost.cold_start_request_share, notes=text))

    c1 = economics.request_cost(w, always)
    staff = f"; staff {_usd(ops_cloud)}/year" if ops_cloud else ""
    add(f"{rate.provider} {g.id}, always on", OPTION_KINDS[0], always, _with_staff(c1, w, ops_cloud),
        f"{rate.offer_id}, {_usd(rate.usd_per_gpu_hour)}/GPU-h as of catalog{staff}")
    c2 = _with_staff(economics.request_cost(w, s2z), w, ops_cloud)
    add(f"{rate.provider} {g.id}, scale to zero", OPTION_KINDS[1], s2z, c2,
        f"{cold:.0f} s cold start (weights at {read_gbps:g} GB/s), billed per "
        f"{rate.billing_granularity_s:g} s{staff}")
    tco = owned_full = ownership = None
    try:
        # the package's one cost-of-ownership model: whole purchase units (one replica of an
        # SXM part buys its 4- or 8-GPU board), host, colocation or PUE, maintenance, capital
        plan = economics.purchase_plan(g.id, 1, n_gpus)
        per_box = max(1, plan.max_gpus_per_box // n_gpus)
        # busy time against saturation (the largest batch), the package's one definition
        replica_busy = min(1.0, w.output_tokens_per_day() / 86_400.0 / full.output_tokens_per_s)
        busy = max(replica_busy * n_gpus / plan.n_gpus_bought, 1e-9)
        ownership = economics.ownership_cost(g.id, 1, n_gpus, utilization=busy, energy=energy,
                                             operations_usd_per_year=ops_own)
        # a replica of a fleet of full boxes, at full power, without staff (hybrid baseline)
        owned_full = economics.ownership_cost(g.id, per_box, n_gpus, utilization=1.0, energy=energy,
                                              operations_usd_per_year=0.0).usd_per_hour / per_box
    except ValueError as exc:
        notes.append(f"no self-hosted option: {exc}")
    else:
        tco = economics.self_hosted_tco(ownership.inputs)
        own = economics.Deployment(usd_per_gpu_hour=ownership.usd_per_hour / n_gpus,
                                   label="self-hosted", **common)
        add(f"self-hosted {n_gpus} x {g.id}", OPTION_KINDS[2], own, economics.request_cost(w, own),
            f"buys {ownership.plan.bill_of_materials()}: {_usd(ownership.capex_usd)} up front, "
            f"{_usd(ownership.running_usd_per_year)}/year running, capital over "
            f"{ownership.inputs.amortization_years:g} years, {energy}; "
            + (f"staff {_usd(ops_own)}/year" if ops_own else "no staff time"))
        if ownership.plan.spare_gpus:
            notes.append(f"{g.id} is sold as {ownership.plan.sold_as}: one {n_gpus}-GPU replica buys "
                         f"{ownership.plan.n_gpus_bought} GPUs ({ownership.plan.spare_gpus} spare)")
    offers = economics.api_offers_for_class(w.model)
    picks = offers.iloc[[0, -1]] if len(offers) > 1 else offers
    for _, o in picks.iterrows():
        api = economics.api_price(o["id"])
        c = economics.api_cost(w, api)
        rows.append(dict(option=f"API {o['id']}", kind=OPTION_KINDS[3], gpu_id=None, n_gpus=None,
                         precision=None, usd_per_hour=None, output_tokens_per_s=None, utilization=None,
                         replicas_peak=None, usd_per_day=c.usd_per_day, usd_per_request=c.usd_per_request,
                         usd_per_million_tokens=c.usd_per_million_tokens, cold_start_request_share=None,
                         notes=f"{o['llm_id']}: {_usd(api.usd_per_million_input_tokens)} in / "
                               f"{_usd(api.usd_per_million_output_tokens)} out per 1M"
                               + ("" if o["exact"] else " (nearest model with an API)")))
    table = _typed_frame(rows, OPTION_COLUMNS, floats=(
        "usd_per_hour", "output_tokens_per_s", "utilization", "usd_per_day", "usd_per_request",
        "usd_per_million_tokens", "cold_start_request_share"), ints=("n_gpus", "replicas_peak"))
    return CorrectedOptions(workload=w, gpu_id=g.id, n_gpus=n_gpus, precision=prec, precision_note=note,
                            capacity=full, single=single, cloud=rate,
                            cloud_usd_per_replica_hour=always.usd_per_replica_hour, tco=tco,
                            ownership=ownership,
                            owned_usd_per_replica_hour_full_load=owned_full, cold_start_s=cold,
                            api_offers=offers, table=table, notes=tuple(notes),
                            output_tokens_per_s=float(capacity_tps), slo=slo, rate_limit=limit,
                            operations_usd_per_year=float(ops_own),
                            cloud_operations_usd_per_year=float(ops_cloud))


def _with_staff(cost: economics.RequestCost, w: Workload, usd_per_year: float) -> economics.RequestCost:
    """``cost`` with a fixed yearly staff cost added, spread over the day's requests."""
    per_day = cost.usd_per_day + usd_per_year / (economics.HOURS_PER_YEAR / 24)
    return dataclasses.replace(
        cost, usd_per_day=per_day, usd_per_request=per_day / w.requests_per_day,
        usd_per_million_tokens=per_day / (w.requests_per_day * w.tokens_per_request) * 1e6,
        usd_per_million_output_tokens=per_day / (w.requests_per_day * w.output_tokens) * 1e6,
        usd_per_month=per_day * economics.HOURS_PER_MONTH / 24)


def _typed_frame(rows, columns, floats=(), ints=()) -> pd.DataFrame:
    """A DataFrame with nullable numeric columns: missing values are <NA>, never NaN."""
    data = {}
    for col in columns:
        values = [r.get(col) for r in rows]
        if col in floats:
            data[col] = pd.array([None if v is None else float(v) for v in values], dtype="Float64")
        elif col in ints:
            data[col] = pd.array([None if v is None else int(v) for v in values], dtype="Int64")
        else:
            data[col] = pd.Series(values, dtype=object)
    return pd.DataFrame(data, columns=list(columns))
