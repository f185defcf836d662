"""Cloud offers compared per unit of what serving needs: GPU-hours, memory, bandwidth, tokens.

A cloud price list says what one GPU-hour costs. Serving a model needs something more
specific: enough memory to hold the weights and the KV cache, and memory bandwidth to read
them once per decode step. This module turns ``catalog.cloud_prices()`` into comparisons
along those lines:

- :func:`offer_value`: every offer with its price per GB of memory and per TB/s of memory
  bandwidth (``usd_per_gb_hour``, ``usd_per_tbps_hour``). Batch-1 decode reads every
  weight once per token, so its speed follows bandwidth and its cost per token follows
  ``usd_per_tbps_hour``; memory decides what fits and how large the batch can grow.
- :func:`token_costs`: cost per million tokens of a model on every offer, at the throughput
  :func:`hwcost.perf.estimate` predicts for a batch size and the fewest GPUs that hold it.
- :func:`bundle_comparison`: multi-GPU instances priced per GPU, next to the cheapest
  single-GPU offer of the same GPU.
- :func:`discounts`: spot and reserved prices against the same provider's on-demand price.
- :func:`provider_summary`: per provider, how close its prices come to the cheapest and how
  flexible its offers are (GPU types, single GPUs, billing increment, spot).
- :func:`price_ages`: how old each price is.

Units are in the column names: ``usd_per_gpu_hour`` [USD/h], ``usd_per_gb_hour``
[USD per GB of GPU memory per hour], ``usd_per_tbps_hour`` [USD per TB/s of memory
bandwidth per hour], ``usd_per_million_output_tokens`` [USD/1M generated tokens].
Shares (``discount_fraction``, ``premium_fraction``) are fractions, not percentages.

Bad input raises ``ValueError`` naming the value; no function returns NaN or infinity:
where a number does not exist (a model that fits no GPU count, an offer without an
on-demand counterpart) the cell is ``<NA>`` in a nullable column and a ``reason`` says why.
"""

from __future__ import annotations

import datetime as _dt
import math
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

from . import catalog, economics, perf, validate
from .errors import HwcostError, ParameterError

TB_PER_GB = 1e-3
"""TB/s per GB/s. [-]"""

OFFER_COLUMNS = (
    "id", "provider", "offering", "pricing", "commitment_months", "gpu_id",
    "gpus_per_instance", "usd_per_hour", "usd_per_gpu_hour", "billing_granularity_s", "as_of",
)

TOKEN_COST_COLUMNS = (
    "id", "provider", "pricing", "gpu_id", "gpus_per_instance", "usd_per_gpu_hour", "fits",
    "n_gpus", "batch_size", "output_tokens_per_s", "tpot_s", "ttft_s", "usd_per_replica_hour",
    "usd_per_million_output_tokens", "usd_per_million_tokens", "one_replica_usd_per_hour",
    "one_replica_usd_per_million_output_tokens", "reason",
)


def _prices(prices) -> pd.DataFrame:
    df = catalog.cloud_prices() if prices is None else prices
    missing = [c for c in OFFER_COLUMNS if c not in df.columns]
    if missing:
        raise HwcostError(f"prices lacks column(s) {', '.join(missing)}; expected the columns of "
                         f"catalog.cloud_prices()")
    if df.empty:
        raise HwcostError("prices has no rows")
    return df


def _nullable(values) -> pd.arrays.FloatingArray:
    return pd.array([None if v is None else float(v) for v in values], dtype="Float64")


def round_half_up(x: float, digits: int = 2) -> float:
    """Round as prices are rounded (half away from zero), on the decimal value as written.

    Binary floats make ``round(6.155, 2)`` give 6.15 (6.155 is stored as 6.15499...);
    prices are quoted with half-up rounding of the decimal figure, so 49.24 / 8 = 6.155
    is USD 6.16.

    Parameters
    ----------
    x : float
        Value to round.
    digits : int
        Decimal places, >= 0.

    Returns
    -------
    float
    """
    if isinstance(x, bool) or not isinstance(x, (int, float, np.integer, np.floating)) \
            or not math.isfinite(float(x)):
        raise HwcostError(f"x must be a finite number, got {x!r}")
    d = validate.non_negative_int("digits", digits)
    q = Decimal(1).scaleb(-d)
    return float(Decimal(repr(float(x))).quantize(q, rounding=ROUND_HALF_UP))


# ----------------------------------------------------------------------------------------
# Price per unit of memory and bandwidth
# ----------------------------------------------------------------------------------------
def offer_value(prices: pd.DataFrame | None = None, *, gpus: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every cloud offer with its price per GB of GPU memory and per TB/s of bandwidth.

    ``usd_per_gb_hour = usd_per_gpu_hour / memory_gb`` and
    ``usd_per_tbps_hour = usd_per_gpu_hour / (mem_bw_gbps / 1000)``.

    Parameters
    ----------
    prices : DataFrame, optional
        Columns of ``catalog.cloud_prices()``; default the catalog's.
    gpus : DataFrame, optional
        Columns of ``catalog.gpus()``; default the catalog's.

    Returns
    -------
    DataFrame
        The offer columns (:data:`OFFER_COLUMNS`) plus ``memory_gb`` [GB], ``mem_bw_tbps``
        [TB/s], ``usd_per_gb_hour`` [USD/(GB h)], ``usd_per_tbps_hour`` [USD/((TB/s) h)],
        cheapest per TB/s first.
    """
    df = _prices(prices)[list(OFFER_COLUMNS)]
    specs = (catalog.gpus() if gpus is None else gpus)[["id", "memory_gb", "mem_bw_gbps"]]
    unknown = sorted(set(df["gpu_id"]) - set(specs["id"]))
    if unknown:
        raise HwcostError(f"offers name GPU(s) missing from the GPU table: {', '.join(unknown)}")
    out = df.merge(specs.rename(columns={"id": "gpu_id"}), on="gpu_id", how="left")
    out["mem_bw_tbps"] = out.pop("mem_bw_gbps") * TB_PER_GB
    out["usd_per_gb_hour"] = out["usd_per_gpu_hour"] / out["memory_gb"]
    out["usd_per_tbps_hour"] = out["usd_per_gpu_hour"] / out["mem_bw_tbps"]
    return out.sort_values(["usd_per_tbps_hour", "id"], kind="stable").reset_index(drop=True)


def cheapest(df: pd.DataFrame, by="gpu_id", value: str = "usd_per_gpu_hour") -> pd.DataFrame:
    """The row with the lowest ``value`` in each group of ``by`` (ties: first in order).

    Parameters
    ----------
    df : DataFrame
        Any table with the ``by`` and ``value`` columns (e.g. :func:`offer_value`).
    by : str or list of str
        Grouping column(s).
    value : str
        Column to minimize.

    Returns
    -------
    DataFrame
        One row per group, sorted by ``value``.
    """
    cols = [by] if isinstance(by, str) else list(by)
    for c in cols + [value]:
        if c not in df.columns:
            raise HwcostError(f"column {c!r} not in the table; has {', '.join(map(str, df.columns))}")
    ordered = df.sort_values(value, kind="stable")
    return ordered.drop_duplicates(cols, keep="first").reset_index(drop=True)


def busiest_provider(gpu=None, *, prices: pd.DataFrame | None = None) -> str:
    """The provider with the most offers for ``gpu`` in the price table in use (any GPU when
    none lists it): a stand-in when a notebook's provider is absent from a user's table."""
    offers = _prices(prices)
    if gpu is not None:
        g = catalog.gpu(gpu).id
        if (offers["gpu_id"] == g).any():
            offers = offers[offers["gpu_id"] == g]
    return str(offers["provider"].mode()[0])


def cheapest_offer(gpu, *, pricing: str = "on-demand", prices: pd.DataFrame | None = None) -> economics.CloudRate:
    """The cheapest offer per GPU-hour for ``gpu`` from any provider, as a CloudRate.

    Raises ``ValueError`` when no provider offers that GPU at that pricing.
    """
    gpu_id = catalog.gpu(gpu).id
    df = economics.cloud_offers(gpu_id, pricing=pricing, prices=_prices(prices))
    if df.empty:
        raise HwcostError(f"no {pricing} cloud offer for GPU {gpu_id!r}; try cloud_equivalent()")
    row = df.iloc[0]
    return economics.cloud_rate(row["provider"], gpu_id, pricing, offering=row["offering"],
                                gpus_per_instance=int(row["gpus_per_instance"]), prices=prices)


def cloud_equivalent(gpu, *, prices: pd.DataFrame | None = None, gpus: pd.DataFrame | None = None) -> str:
    """The GPU to rent when comparing with owning ``gpu``: itself if offered, else the nearest.

    Nearest: among offered GPUs of the same vendor, those of the same segment if any (a
    consumer card compares with a consumer card), then the closest memory capacity, then
    the closest memory bandwidth (ratios on a log scale). An RTX 6000 Ada (48 GB, 960 GB/s;
    no cloud offer) maps to the L40S (48 GB, 864 GB/s, the same Ada die).

    Returns
    -------
    str
        A GPU id with at least one offer in ``prices``.
    """
    g = catalog.gpu(gpu)
    offered = set(_prices(prices)["gpu_id"])
    if g.id in offered:
        return g.id
    table = catalog.gpus() if gpus is None else gpus
    cand = table[table["id"].isin(offered) & (table["vendor"] == g.vendor)]
    if cand.empty:
        cand = table[table["id"].isin(offered)]
    same = cand[cand["segment"] == g.segment]
    if not same.empty:
        cand = same
    key = (np.abs(np.log(cand["memory_gb"].to_numpy(float) / g.memory_gb)) * 1e3
           + np.abs(np.log(cand["mem_bw_gbps"].to_numpy(float) / g.mem_bw_gbps)))
    return str(cand["id"].to_numpy()[int(np.argmin(key))])


# ----------------------------------------------------------------------------------------
# Cost per token on every offer
# ----------------------------------------------------------------------------------------
def _first_sentence(text: str) -> str:
    return str(text).split(";")[0].strip()


def check_servable(model, *, precision: str = "bf16", batch_size: int = 1,
                   input_tokens: int = 512, output_tokens: int = 128,
                   tpot_target_s: float | None = None, max_gpus: int = 8) -> None:
    """Fail early, naming the parameters, when no on-demand cloud offer serves the request mix.

    A notebook calls this right after validating its parameters, so that a batch or prompt
    no catalog GPU can hold (or none can serve within ``tpot_target_s``) gets a clear message
    instead of an empty table in a later cell.

    Raises
    ------
    hwcost.errors.ParameterError
        Naming batch_size, input_tokens, output_tokens or tpot_target_s and what to change.
    """
    costs = token_costs(model, precision=precision, batch_size=batch_size,
                        input_tokens=input_tokens, output_tokens=output_tokens,
                        max_gpus=max_gpus)
    costs = costs[costs["pricing"] == "on-demand"]
    what = (f"{getattr(model, 'id', model)} at {precision} with batch_size {batch_size} x "
            f"({input_tokens:,} input + {output_tokens:,} output tokens)")
    fits = costs[costs["fits"]]
    if fits.empty:
        raise ParameterError(f"no on-demand cloud offer holds {what} on up to {max_gpus} GPUs; "
                             "lower batch_size, input_tokens or output_tokens")
    if tpot_target_s is not None:
        fastest = float(fits["tpot_s"].astype(float).min())
        if not fastest <= tpot_target_s:
            raise ParameterError(
                f"no on-demand cloud offer serves {what} within tpot_target_s = "
                f"{tpot_target_s:g} s (the fastest takes {fastest:.3g} s per token); lower "
                "batch_size or raise tpot_target_s")


def token_costs(model, *, prices: pd.DataFrame | None = None, precision: str = "bf16",
                batch_size: int = 1, input_tokens: int = 512, output_tokens: int = 128,
                utilization: float = 1.0, engine=None, max_gpus: int = 8) -> pd.DataFrame:
    """Cost per million tokens of ``model`` on every cloud offer.

    For each GPU type the replica is the fewest GPUs that hold ``batch_size`` sequences of
    ``input_tokens + output_tokens`` (:func:`hwcost.perf.min_gpus_to_fit`), and its
    throughput is :func:`hwcost.perf.estimate`'s ``output_tokens_per_s`` at that batch
    (prefill time included). That throughput assumes every paid hour runs the full batch;
    its latency is in the ``tpot_s`` (time per output token of each sequence) and ``ttft_s``
    (first token when the whole batch's prompts are prefilled together: an upper bound for a
    continuous-batching server, where a new request waits for its own prompt) columns, to
    check against a latency target. Each offer is then priced:

    - ``usd_per_replica_hour = n_gpus * usd_per_gpu_hour`` (GPUs rented at the offer's
      per-GPU price: the other GPUs of a bundle run further replicas, and providers that
      list one-GPU prices rent multi-GPU machines at the same rate per GPU);
    - ``usd_per_million_output_tokens = usd_per_replica_hour / (3600 * output_tokens_per_s
      * utilization) * 1e6`` (:func:`hwcost.economics.cost_per_million_tokens`);
    - ``usd_per_million_tokens``: the same spend over prompt and generated tokens,
      ``x output_tokens / (input_tokens + output_tokens)``;
    - ``one_replica_usd_per_hour``: what a single replica costs when the whole instance must
      be rented (``ceil(n_gpus / gpus_per_instance)`` instances), and its cost per token.

    Parameters
    ----------
    model : str or catalog.LLM
    prices : DataFrame, optional
        Columns of ``catalog.cloud_prices()``; default the catalog's.
    precision : str
        Weight precision (``catalog.PRECISIONS``).
    batch_size : int
        Concurrent sequences per replica. [-]
    input_tokens, output_tokens : int
        Prompt and generated tokens per request. [tokens]
    utilization : float
        Share of paid hours the replica is busy at that batch, in (0, 1]. [-]
    engine : str, optional
        Serving engine (``perf.ENGINES``); None = a generic well-tuned server.
    max_gpus : int
        Largest replica considered. [-]

    Returns
    -------
    DataFrame
        Columns :data:`TOKEN_COST_COLUMNS`, offers that fit first, cheapest per token first.
        ``fits`` False rows (precision unsupported, no GPU count up to ``max_gpus`` holds
        the batch) have ``<NA>`` numbers and a ``reason``.
    """
    df = _prices(prices)
    m = catalog.llm(model)
    u = validate.fraction("utilization", utilization, array=True)
    b = validate.positive_int("batch_size", batch_size)
    i = validate.positive_int("input_tokens", input_tokens)
    o = validate.positive_int("output_tokens", output_tokens)
    n_max = validate.positive_int("max_gpus", max_gpus)
    if precision not in catalog.PRECISIONS:
        raise HwcostError(f"precision must be one of {', '.join(catalog.PRECISIONS)}, got {precision!r}")
    per_gpu = {}
    for gpu_id in sorted(set(df["gpu_id"])):
        try:
            n = perf.min_gpus_to_fit(m, gpu_id, precision, batch_size=b, input_tokens=i,
                                     output_tokens=o, engine=engine, max_gpus=n_max)
        except ValueError as exc:
            per_gpu[gpu_id] = (None, _first_sentence(exc))
            continue
        if n is None:
            per_gpu[gpu_id] = (None, f"{b} sequences of {i}+{o} tokens fit no replica of up to "
                                     f"{n_max} x {gpu_id} at {precision}")
            continue
        e = perf.estimate(m, gpu_id, n_gpus=n, precision=precision, batch_size=b,
                          input_tokens=i, output_tokens=o, engine=engine)
        per_gpu[gpu_id] = (e, "") if e.fits else (None, e.reason)
    rows = []
    for _, r in df.iterrows():
        e, reason = per_gpu[r["gpu_id"]]
        row = {k: r[k] for k in ("id", "provider", "pricing", "gpu_id", "gpus_per_instance", "usd_per_gpu_hour")}
        row.update(fits=e is not None, reason=reason)
        if e is not None:
            replica = e.n_gpus * float(r["usd_per_gpu_hour"])
            whole = math.ceil(e.n_gpus / int(r["gpus_per_instance"])) * float(r["usd_per_hour"])
            per_out = economics.cost_per_million_tokens(replica, e.output_tokens_per_s, u)
            row.update(n_gpus=e.n_gpus, batch_size=e.batch_size, output_tokens_per_s=e.output_tokens_per_s,
                       tpot_s=e.tpot_s, ttft_s=e.ttft_s, usd_per_replica_hour=replica,
                       usd_per_million_output_tokens=per_out,
                       usd_per_million_tokens=per_out * o / (i + o),
                       one_replica_usd_per_hour=whole,
                       one_replica_usd_per_million_output_tokens=economics.cost_per_million_tokens(
                           whole, e.output_tokens_per_s, u))
        rows.append(row)
    out = pd.DataFrame(rows)
    for col in TOKEN_COST_COLUMNS:
        if col not in out:
            out[col] = None
    for col in ("n_gpus", "batch_size"):
        out[col] = pd.array([None if v is None or v != v else int(v) for v in out[col]], dtype="Int64")
    for col in ("output_tokens_per_s", "tpot_s", "ttft_s", "usd_per_replica_hour", "usd_per_million_output_tokens",
                "usd_per_million_tokens", "one_replica_usd_per_hour", "one_replica_usd_per_million_output_tokens"):
        out[col] = _nullable(None if v is None or v != v else v for v in out[col])
    order = out["usd_per_million_output_tokens"].astype("float64").fillna(np.finfo(float).max)
    out = out.iloc[np.lexsort((out["id"].to_numpy(), order.to_numpy(), ~out["fits"].to_numpy()))]
    return out[list(TOKEN_COST_COLUMNS)].reset_index(drop=True)


# ----------------------------------------------------------------------------------------
# Bundles, discounts, providers, ages
# ----------------------------------------------------------------------------------------
def bundle_comparison(prices: pd.DataFrame | None = None) -> pd.DataFrame:
    """Multi-GPU instances priced per GPU, next to the cheapest one-GPU offer of that GPU.

    ``usd_per_gpu_hour = usd_per_hour / gpus_per_instance``
    (:func:`hwcost.economics.bundle_usd_per_gpu_hour`), shown exactly and rounded half-up to
    cents as a price list would; ``premium_fraction = usd_per_gpu_hour /
    single_usd_per_gpu_hour - 1`` against the cheapest one-GPU offer of the same GPU and
    pricing from any provider (``<NA>`` where there is none).

    Returns
    -------
    DataFrame
        ``id, provider, pricing, gpu_id, gpus_per_instance, usd_per_hour, usd_per_gpu_hour,
        usd_per_gpu_hour_cents, single_offer_id, single_provider, single_usd_per_gpu_hour,
        premium_fraction``,
        by GPU then per-GPU price.
    """
    df = _prices(prices)
    singles = cheapest(df[df["gpus_per_instance"] == 1], ["gpu_id", "pricing"])
    single = {(r.gpu_id, r.pricing): r for r in singles.itertuples()}
    rows = []
    for r in df[df["gpus_per_instance"] > 1].itertuples():
        per_gpu = float(economics.bundle_usd_per_gpu_hour(r.usd_per_hour, int(r.gpus_per_instance)))
        s = single.get((r.gpu_id, r.pricing))
        rows.append({
            "id": r.id, "provider": r.provider, "pricing": r.pricing, "gpu_id": r.gpu_id,
            "gpus_per_instance": int(r.gpus_per_instance), "usd_per_hour": float(r.usd_per_hour),
            "usd_per_gpu_hour": per_gpu, "usd_per_gpu_hour_cents": round_half_up(per_gpu, 2),
            "single_offer_id": s.id if s is not None else "n/a",
            "single_provider": s.provider if s is not None else "n/a",
            "single_usd_per_gpu_hour": float(s.usd_per_gpu_hour) if s is not None else None,
            "premium_fraction": per_gpu / float(s.usd_per_gpu_hour) - 1 if s is not None else None,
        })
    out = pd.DataFrame(rows)
    if out.empty:
        return pd.DataFrame(columns=["id", "provider", "pricing", "gpu_id", "gpus_per_instance", "usd_per_hour",
                                     "usd_per_gpu_hour", "usd_per_gpu_hour_cents", "single_offer_id",
                                     "single_provider", "single_usd_per_gpu_hour", "premium_fraction"])
    for col in ("single_usd_per_gpu_hour", "premium_fraction"):
        out[col] = _nullable(out[col].tolist())
    return out.sort_values(["gpu_id", "usd_per_gpu_hour"], kind="stable").reset_index(drop=True)


def discounts(prices: pd.DataFrame | None = None, *, interruption_overhead: float = 0.0) -> pd.DataFrame:
    """Spot and reserved prices against the same provider's on-demand price.

    An offer is matched with the on-demand offer of the same provider, offering, GPU and
    GPUs per instance. ``discount_fraction = 1 - usd_per_gpu_hour / on_demand``. Spot time
    can be taken back: with ``interruption_overhead`` (share of paid spot time lost to
    preemptions, restarts and model reloads) the effective spot price is ``usd_per_gpu_hour
    / (1 - overhead)`` (:attr:`hwcost.economics.CloudRate.effective_usd_per_gpu_hour`);
    reserved prices bind ``commitment_months`` of payment whether used or not
    (``commitment_usd_per_gpu = usd_per_gpu_hour * months * 730``).

    Parameters
    ----------
    prices : DataFrame, optional
    interruption_overhead : float
        In [0, 1). [-]

    Returns
    -------
    DataFrame
        ``id, provider, gpu_id, gpus_per_instance, pricing, commitment_months,
        on_demand_usd_per_gpu_hour, usd_per_gpu_hour, discount_fraction,
        effective_usd_per_gpu_hour, effective_discount_fraction, commitment_usd_per_gpu``,
        deepest effective discount first. Offers without an on-demand counterpart are left
        out.
    """
    df = _prices(prices)
    overhead = validate.number("interruption_overhead", interruption_overhead, low=0.0,
                               high=1.0, high_open=True, rule="in [0, 1)", array=True)
    key = ["provider", "offering", "gpu_id", "gpus_per_instance"]
    od = df[df["pricing"] == "on-demand"].drop_duplicates(key)[key + ["usd_per_gpu_hour"]]
    other = df[df["pricing"] != "on-demand"]
    m = other.merge(od.rename(columns={"usd_per_gpu_hour": "on_demand_usd_per_gpu_hour"}), on=key, how="inner")
    if m.empty:
        return pd.DataFrame(columns=["id", "provider", "gpu_id", "gpus_per_instance", "pricing", "commitment_months",
                                     "on_demand_usd_per_gpu_hour", "usd_per_gpu_hour", "discount_fraction",
                                     "effective_usd_per_gpu_hour", "effective_discount_fraction",
                                     "commitment_usd_per_gpu"])
    spot = (m["pricing"] == "spot").to_numpy()
    m["discount_fraction"] = 1 - m["usd_per_gpu_hour"] / m["on_demand_usd_per_gpu_hour"]
    m["effective_usd_per_gpu_hour"] = np.where(spot, m["usd_per_gpu_hour"] / (1 - overhead), m["usd_per_gpu_hour"])
    m["effective_discount_fraction"] = 1 - m["effective_usd_per_gpu_hour"] / m["on_demand_usd_per_gpu_hour"]
    m["commitment_usd_per_gpu"] = m["usd_per_gpu_hour"] * m["commitment_months"] * economics.HOURS_PER_MONTH
    cols = ["id", "provider", "gpu_id", "gpus_per_instance", "pricing", "commitment_months",
            "on_demand_usd_per_gpu_hour", "usd_per_gpu_hour", "discount_fraction",
            "effective_usd_per_gpu_hour", "effective_discount_fraction", "commitment_usd_per_gpu"]
    return m.sort_values(["effective_discount_fraction", "id"], ascending=[False, True],
                         kind="stable")[cols].reset_index(drop=True)


def provider_summary(prices: pd.DataFrame | None = None, *, gpu=None, pricing: str = "on-demand") -> pd.DataFrame:
    """Per provider: price level against the cheapest provider, and flexibility of offers.

    ``price_index`` is the geometric mean, over the GPU types the provider offers at
    ``pricing``, of its cheapest per-GPU price divided by the cheapest price of that GPU
    among all providers (1.0 = the cheapest on every GPU it offers). Flexibility is shown by
    ``n_gpu_types``, ``single_gpu`` (any one-GPU offer), ``finest_billing_s`` (the smallest
    billing increment) and ``has_spot``. With ``gpu``, ``gpu_usd_per_gpu_hour`` is the
    provider's cheapest price for that GPU and ``gpu_rank`` its rank (1 = cheapest);
    ``<NA>`` where it does not offer it.

    Returns
    -------
    DataFrame
        ``provider, n_offers, n_gpu_types, single_gpu, finest_billing_s, has_spot,
        has_reserved, price_index, gpu_usd_per_gpu_hour, gpu_rank``, lowest price index
        first (or by ``gpu_rank`` when ``gpu`` is given).
    """
    df = _prices(prices)
    validate.choice("pricing", pricing, economics.PRICING)
    priced = df[df["pricing"] == pricing]
    best = priced.groupby("gpu_id")["usd_per_gpu_hour"].min()
    own = priced.groupby(["provider", "gpu_id"])["usd_per_gpu_hour"].min().reset_index()
    own["ratio"] = own["usd_per_gpu_hour"] / own["gpu_id"].map(best)
    index = own.groupby("provider")["ratio"].apply(lambda r: float(np.exp(np.mean(np.log(r)))))
    g = df.groupby("provider")
    out = pd.DataFrame({
        "n_offers": g.size(),
        "n_gpu_types": g["gpu_id"].nunique(),
        "single_gpu": g["gpus_per_instance"].min() == 1,
        "finest_billing_s": g["billing_granularity_s"].min().astype(int),
        "has_spot": g["pricing"].apply(lambda p: bool((p == "spot").any())),
        "has_reserved": g["pricing"].apply(lambda p: bool((p == "reserved").any())),
    })
    out["price_index"] = _nullable([index.get(p) for p in out.index])
    out = out.reset_index().rename(columns={"index": "provider"})
    if gpu is not None:
        gpu_id = catalog.gpu(gpu).id
        here = own[own["gpu_id"] == gpu_id].set_index("provider")["usd_per_gpu_hour"]
        ranks = here.rank(method="min")
        out["gpu_usd_per_gpu_hour"] = _nullable([here.get(p) for p in out["provider"]])
        out["gpu_rank"] = pd.array([None if p not in ranks else int(ranks[p]) for p in out["provider"]],
                                   dtype="Int64")
        sort = out["gpu_rank"].astype("float64").fillna(np.inf)
        secondary = out["price_index"].astype("float64").fillna(np.inf)
        return out.iloc[np.lexsort((out["provider"].to_numpy(), secondary.to_numpy(), sort.to_numpy()))] \
            .reset_index(drop=True)
    key = out["price_index"].astype("float64").fillna(np.inf)
    return out.iloc[np.lexsort((out["provider"].to_numpy(), key.to_numpy()))].reset_index(drop=True)


def price_ages(prices: pd.DataFrame | None = None, *, today: _dt.date | None = None,
               max_age_days: int = 180) -> pd.DataFrame:
    """Age of each offer's price and whether it is older than ``max_age_days``.

    Parameters
    ----------
    prices : DataFrame, optional
    today : datetime.date, optional
        Reference date; default the current date.
    max_age_days : int
        Prices older than this are ``stale``. [days]

    Returns
    -------
    DataFrame
        ``id, provider, gpu_id, as_of, age_days, stale``, oldest first.
    """
    df = _prices(prices)
    limit = validate.positive_int("max_age_days", max_age_days)
    today = today or _dt.date.today()
    if not isinstance(today, _dt.date):
        raise HwcostError(f"today must be a datetime.date, got {today!r}")
    ages = [(today - d).days for d in df["as_of"]]
    out = df[["id", "provider", "gpu_id", "as_of"]].copy()
    out["age_days"] = ages
    out["stale"] = out["age_days"] > limit
    return out.sort_values(["age_days", "id"], ascending=[False, True], kind="stable").reset_index(drop=True)


def price_trend(history: pd.DataFrame | None = None, *, prices: pd.DataFrame | None = None,
                pricing: str = "on-demand", today: _dt.date | None = None,
                max_age_days: int = 180) -> pd.DataFrame:
    """Cheapest price per GPU-hour of each GPU class on every date the history records.

    On each date an offer is priced at its latest recorded price dated on or before it; the
    class price is the lowest over the class's offers of the given ``pricing`` (offers are
    matched to their pricing model through the current price table). The history is
    :func:`hwcost.catalog.price_history` (the bundled rows by date plus every imported
    snapshot).

    Parameters
    ----------
    history : DataFrame, optional
        Default :func:`hwcost.catalog.price_history`.
    prices : DataFrame, optional
        Current offers (for each offer's pricing model); default ``catalog.cloud_prices()``.
    pricing : str
        ``on-demand``, ``spot`` or ``reserved``.
    today : datetime.date, optional
        Reference date for ``stale``; default the current date.
    max_age_days : int
        A class whose newest price is older than this is ``stale``. [days]

    Returns
    -------
    DataFrame
        ``gpu_id, as_of, usd_per_gpu_hour, n_offers, cheapest_offer, stale``, by GPU and date.
    """
    hist = catalog.price_history() if history is None else history
    offers = _prices(prices)
    limit = validate.positive_int("max_age_days", max_age_days)
    today = today or _dt.date.today()
    kind = dict(zip(offers["id"], offers["pricing"]))
    h = hist[(hist["table"] == "cloud_prices") & (hist["metric"] == "usd_per_gpu_hour")]
    h = h[[kind.get(k) == pricing for k in h["key"]]]
    rows = []
    for gpu_id, g in h.groupby("item", sort=True):
        g = g.sort_values(["as_of", "imported_on"], kind="stable")
        newest = max(g["as_of"])
        for day in sorted(set(g["as_of"])):
            known = g[g["as_of"] <= day].groupby("key").tail(1)
            best = known.loc[known["value"].idxmin()]
            rows.append({"gpu_id": gpu_id, "as_of": day, "usd_per_gpu_hour": float(best["value"]),
                         "n_offers": len(known), "cheapest_offer": best["key"],
                         "stale": (today - newest).days > limit})
    cols = ["gpu_id", "as_of", "usd_per_gpu_hour", "n_offers", "cheapest_offer", "stale"]
    return pd.DataFrame(rows, columns=cols)
