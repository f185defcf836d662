"""How far each ranked answer can be trusted: SLO margins, price ages and cost ranges.

A ranking (:func:`hwcost.recommend.rank`) gives point estimates. Three things decide how
much weight a row can bear, and :func:`annotate` adds each to the rows asked for:

- **SLO margin.** The performance model's predictions carry an error band from
  leave-one-source-out validation (:data:`hwcost.perf.ERROR_BAND_PERCENTILES`, stored in
  the calibration): for a time, the measured value lay between ``predicted / high`` and
  ``predicted / low`` for 80% of the validation rows. An option whose predicted latency
  meets its target while the band's slow end does not is **at risk**.
- **Price age.** Every price a row rests on (cloud offer, API price list, hardware street
  price, electricity tariff) has an ``as_of`` date; rows whose oldest price is older than
  ``max_price_age_days`` are flagged.
- **Cost range.** P10 and P90 of the horizon total over the price ranges the catalog holds
  (hardware and host street price low/typical/high, electricity price and PUE low/typical/
  high; PERT draws, :func:`hwcost.economics.sample`). Cloud and API list prices are exact
  quotes, so their range is the point value; the performance error band is reported as a
  risk, not folded into the range.
"""

from __future__ import annotations

import datetime as _dt
import math

import numpy as np
import pandas as pd

from . import catalog
from .errors import HwcostError
from .validate import as_date  # noqa: F401  (margins.as_date, where callers know it)

# Prices older than this are flagged (the same default as notebooks 00 and 02). [days]
MAX_PRICE_AGE_DAYS = 180
# Draws for the P10-P90 cost range, seeded so a report reads the same on every run.
COST_RANGE_SAMPLES = 2000
COST_RANGE_SEED = 0
MARGIN_COLUMNS = ("ttft_upper_s", "tpot_upper_s", "slo_margin", "prices_used", "price_as_of",
                  "price_age_days", "price_stale", "total_usd_p10", "total_usd_p90")


def _calibration():
    from . import perf

    return perf.stored_calibration()


def error_bands() -> dict[str, tuple[float, float]]:
    """The model's error band per regime: ``{"ttft": (low, high), "decode": ..., "throughput": ...}``.

    Each is (P10, P90) of measured / predicted speed (:data:`hwcost.perf.ERROR_BAND_PERCENTILES`);
    for a time, divide the prediction by them.
    """
    cal = _calibration()
    return {r: cal.error_band(r) for r in ("ttft", "decode", "throughput")}


def latency_upper_s(predicted_s: float, band: tuple[float, float]) -> float:
    """The slow end of a predicted time's error band: ``predicted_s / band[0]``. [s]

    Examples
    --------
    >>> latency_upper_s(0.66, (0.866, 1.432))  # doctest: +ELLIPSIS
    0.762...
    """
    low = float(band[0])
    if not low > 0:
        raise HwcostError(f"error band low end must be > 0, got {band!r}")
    return float(predicted_s) / low


def slo_margin(ttft_s, tpot_s, slo, *, batch_size=None, bands=None) -> tuple[float | None, float | None, str]:
    """Predicted latencies against the SLO targets, with the model's error band.

    Returns
    -------
    (ttft_upper_s, tpot_upper_s, verdict)
        ``verdict`` is ``"not modelled"`` (no latency, e.g. an API), ``"no target"``,
        ``"at risk: p95 TTFT up to X s against Y s"`` when a prediction meets its target but
        the band's slow end does not, ``"misses: ..."`` when a prediction is over its target,
        or ``"clear"`` when even the slow end meets every target.
    """
    bands = bands or error_bands()
    targets = slo.targets() if slo is not None else {}

    def _value(x):
        return None if x is None or (isinstance(x, float) and math.isnan(x)) or pd.isna(x) else float(x)

    ttft, tpot = _value(ttft_s), _value(tpot_s)
    if ttft is None and tpot is None:
        return None, None, "not modelled"
    decode_regime = "decode" if batch_size is not None and _value(batch_size) is not None \
        and float(batch_size) <= 1 else "throughput"
    upper = {
        "ttft_s": None if ttft is None else latency_upper_s(ttft, bands["ttft"]),
        "tpot_s": None if tpot is None else latency_upper_s(tpot, bands[decode_regime]),
    }
    if not targets:
        return upper["ttft_s"], upper["tpot_s"], "no target"
    risky, missed = [], []
    for key, label, pred in (("ttft_s", "TTFT", ttft), ("tpot_s", "TPOT", tpot)):
        target = targets.get(key)
        if target is None or pred is None or upper[key] is None:
            continue
        if pred > target:
            missed.append(f"p{slo.percentile:g} {label} {pred:.3g} s over {target:g} s")
        elif target < upper[key]:
            risky.append(f"p{slo.percentile:g} {label} up to {upper[key]:.3g} s against {target:g} s")
    if missed:
        verdict = "misses: " + "; ".join(missed)
    else:
        verdict = ("at risk: " + "; ".join(risky)) if risky else "clear"
    return upper["ttft_s"], upper["tpot_s"], verdict


def default_energy_id(gpu_id: str, constraints) -> str:
    """The electricity tariff a self-hosted option pays (as :func:`hwcost.recommend.rank`)."""
    from . import recommend

    if getattr(constraints, "energy_id", None):
        return constraints.energy_id
    segment = catalog.gpu(gpu_id).segment
    return recommend.DATACENTER_ENERGY_ID if segment == "datacenter" else recommend.OFFICE_ENERGY_ID


def prices_used(row, constraints) -> list[dict]:
    """Every catalog price a ranked row rests on: ``table, id, what, source, as_of``."""
    kind = row.get("kind")
    out = []
    if kind == "cloud":
        df = catalog.cloud_prices().set_index("id")
        if row.get("offer_id") in df.index:
            r = df.loc[row["offer_id"]]
            out.append(dict(table="cloud_prices", id=row["offer_id"],
                            what=f"{r['provider']} {r['pricing']} {r['gpu_id']} "
                                 f"{float(r['usd_per_gpu_hour']):.4g} USD per GPU-hour",
                            source=r["source"], as_of=r["as_of"]))
    elif kind == "api":
        df = catalog.api_prices().set_index("id")
        if row.get("offer_id") in df.index:
            r = df.loc[row["offer_id"]]
            out.append(dict(table="api_prices", id=row["offer_id"],
                            what=f"{r['provider']} {r['model']}: "
                                 f"{float(r['usd_per_million_input_tokens']):.4g} in / "
                                 f"{float(r['usd_per_million_output_tokens']):.4g} out USD per "
                                 "million tokens",
                            source=r["source"], as_of=r["as_of"]))
    elif kind == "self-hosted":
        gpu_id = row.get("gpu_id")
        condition = getattr(constraints, "hardware_condition", "new")
        hw = catalog.hardware_prices()
        m = hw[(hw["gpu_id"] == gpu_id) & (hw["condition"] == condition)]
        unit = _purchase_unit(gpu_id)
        unit_host = unit is not None and not _blank(unit.get("host_usd_per_gpu_typical"))
        if len(m):
            r = m.iloc[0]
            # the host share counts only where the purchase unit gives no host cost of its own
            host = ("" if unit_host else
                    f", host share {float(r['server_share_usd_typical']):,.0f} USD")
            out.append(dict(table="hardware_prices", id=f"{gpu_id}-{condition}",
                            what=f"{gpu_id} ({condition}) {float(r['usd_typical']):,.0f} USD "
                                 f"(range {float(r['usd_low']):,.0f}-{float(r['usd_high']):,.0f})"
                                 + host,
                            source=r["source"], as_of=r["as_of"]))
        if unit is not None and (unit_host or not _blank(unit.get("min_host_usd_per_box"))):
            out.append(dict(table="purchase_units", id=gpu_id, what=host_cost_text(row, unit),
                            source=unit.get("source", ""), as_of=unit.get("as_of")))
        energy_id = default_energy_id(gpu_id, constraints)
        en = catalog.energy().set_index("id")
        if energy_id in en.index:
            e = en.loc[energy_id]
            out.append(dict(table="energy", id=energy_id,
                            what=f"electricity {float(e['usd_per_kwh_typical']):.3g} USD/kWh "
                                 f"(range {float(e['usd_per_kwh_low']):.3g}-"
                                 f"{float(e['usd_per_kwh_high']):.3g}), PUE "
                                 f"{float(e['pue_typical']):.3g}",
                            source=e["source"], as_of=e["as_of"]))
    return out


def _blank(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _purchase_unit(gpu_id) -> dict | None:
    try:
        return catalog.purchase_unit(gpu_id)
    except (catalog.CatalogError, HwcostError):
        return None


def host_cost_text(row, unit: dict) -> str:
    """The host cost an owned option uses, as the memo quotes it: the total over its boxes and
    per box (what its bill of materials and total carry), and the purchase unit's figures it
    comes from (``purchase_units.csv``)."""
    parts = []
    if not _blank(unit.get("host_usd_per_gpu_typical")):
        parts.append(f"{float(unit['host_usd_per_gpu_typical']):,.0f} USD per GPU (range "
                     f"{float(unit['host_usd_per_gpu_low']):,.0f}-"
                     f"{float(unit['host_usd_per_gpu_high']):,.0f})")
    else:
        parts.append("the hardware price's host share per GPU")
    if not _blank(unit.get("min_host_usd_per_box")):
        parts.append(f"at least {float(unit['min_host_usd_per_box']):,.0f} USD per box")
    basis = ", ".join(parts)
    host_usd = row.get("host_usd")
    boxes = _boxes(row)
    if _blank(host_usd) or not boxes:
        return f"{unit.get('sold_as', 'box')} host: {basis}"
    host_usd = float(host_usd)
    return (f"hosts {host_usd:,.0f} USD = {boxes} {'box' if boxes == 1 else 'boxes'} x "
            f"{host_usd / boxes:,.0f} USD per box ({unit.get('sold_as', 'box')}: {basis})")


def _boxes(row) -> int | None:
    """Boxes an owned option buys (its purchase plan), or None when the row cannot say."""
    from . import economics

    try:
        plan = economics.purchase_plan(row.get("gpu_id"), int(row.get("replicas")),
                                       int(row.get("n_gpus")))
    except (TypeError, ValueError, HwcostError):
        return None
    bought = row.get("n_gpus_bought")
    if not _blank(bought) and int(bought) != plan.n_gpus_bought:
        return None
    return plan.n_boxes


def price_age_days(as_of, today: _dt.date | None = None) -> int | None:
    """Days from a price's ``as_of`` date to ``today`` (default: the current date). [days]"""
    d = as_date(as_of)
    if d is None:
        return None
    return ((today or _dt.date.today()) - d).days


def _self_hosted_ratio_range(row, constraints, n: int, seed: int) -> tuple[float, float] | None:
    """P10/P90 of a self-hosted row's cost per GPU-hour over its typical value."""
    from . import economics, recommend

    gpu_id = row.get("gpu_id")
    try:
        inputs = economics.tco_inputs_from_catalog(
            gpu_id, energy=default_energy_id(gpu_id, constraints),
            condition=getattr(constraints, "hardware_condition", "new"))
    except ValueError:
        return None
    gpus = int(row.get("gpus_total") or 1)
    util = row.get("utilization")
    util = 1.0 if util is None or pd.isna(util) else float(util)
    load = economics.average_load(util, recommend.IDLE_POWER_FRACTION)
    ops = constraints.operations_usd_per_year
    if ops is None:  # staff by boxes: the ranking's own figure for this row
        ops = row.get("staff_usd_per_year")
        ops = 0.0 if ops is None or pd.isna(ops) else float(ops)
    rng = np.random.default_rng(seed)
    draws = {k: economics.sample(inputs[k], n, rng)
             for k in ("gpu_usd", "server_share_usd", "usd_per_kwh", "pue")}
    common = dict(n_gpus=gpus, average_load=load, amortization_years=constraints.amortization_years,
                  operations_usd_per_year=ops or 0.0)
    typical = economics.typical_inputs(inputs)
    base = float(economics.self_hosted_usd_per_gpu_hour(
        typical["gpu_usd"], inputs["tdp_w"], typical["usd_per_kwh"],
        server_share_usd=typical["server_share_usd"], pue=typical["pue"], **common)["total"])
    sampled = economics.self_hosted_usd_per_gpu_hour(
        draws["gpu_usd"], inputs["tdp_w"], draws["usd_per_kwh"],
        server_share_usd=draws["server_share_usd"], pue=draws["pue"], **common)["total"]
    lo, hi = np.percentile(np.asarray(sampled, dtype=float), (10, 90))
    return float(lo / base), float(hi / base)


def annotate(table: pd.DataFrame, constraints=None, *, rows: int | None = 15,
             today: _dt.date | None = None, max_price_age_days: int = MAX_PRICE_AGE_DAYS,
             n_samples: int = COST_RANGE_SAMPLES, seed: int = COST_RANGE_SEED) -> pd.DataFrame:
    """Add the margins of :data:`MARGIN_COLUMNS` to the leading feasible rows of a ranking.

    Parameters
    ----------
    table : DataFrame
        From :func:`hwcost.recommend.rank` (its ``attrs["constraints"]`` is used when
        ``constraints`` is not given).
    constraints : hwcost.recommend.Constraints, optional
    rows : int or None
        Annotate the first ``rows`` rows (None: all). Others keep empty margins.
    today : datetime.date, optional
        Reference date for price ages (default: the current date).
    max_price_age_days : int
        Prices older than this are stale. [days]

    Returns
    -------
    DataFrame
        A copy with ``ttft_upper_s, tpot_upper_s`` (slow end of the error band at the SLO
        percentile [s]), ``slo_margin`` (``clear``, ``at risk: ...``, ``not modelled``, ``no
        target``), ``prices_used`` (catalog ids), ``price_as_of`` (oldest price's date),
        ``price_age_days``, ``price_stale`` and ``total_usd_p10, total_usd_p90`` [USD].
    """
    constraints = constraints if constraints is not None else table.attrs.get("constraints")
    if constraints is None:
        raise HwcostError("annotate needs the constraints the table was ranked under")
    if max_price_age_days <= 0:
        raise HwcostError(f"max_price_age_days must be > 0, got {max_price_age_days!r}")
    out = table.copy()
    for col in MARGIN_COLUMNS:
        out[col] = None
    bands = error_bands()
    idx = list(out.index if rows is None else out.index[:rows])
    ratio_cache: dict[tuple, tuple[float, float] | None] = {}
    for i in idx:
        row = out.loc[i].to_dict()
        up_t, up_p, verdict = slo_margin(row.get("ttft_s"), row.get("tpot_s"), constraints.slo,
                                         batch_size=row.get("batch_size"), bands=bands)
        used = prices_used(row, constraints)
        dates = [(as_date(u["as_of"]), u["id"]) for u in used if as_date(u["as_of"])]
        oldest = min(dates)[0] if dates else None
        age = price_age_days(oldest, today) if oldest else None
        total = row.get("total_usd")
        p10 = p90 = total
        if row.get("kind") == "self-hosted" and total is not None and not pd.isna(total):
            key = (row.get("gpu_id"), row.get("gpus_total"), round(float(row.get("utilization") or 1), 3))
            if key not in ratio_cache:
                ratio_cache[key] = _self_hosted_ratio_range(row, constraints, n_samples, seed)
            r = ratio_cache[key]
            if r is not None:
                p10, p90 = float(total) * r[0], float(total) * r[1]
        out.at[i, "ttft_upper_s"] = up_t
        out.at[i, "tpot_upper_s"] = up_p
        out.at[i, "slo_margin"] = verdict
        out.at[i, "prices_used"] = ", ".join(u["id"] for u in used)
        out.at[i, "price_as_of"] = oldest.isoformat() if oldest else None
        out.at[i, "price_age_days"] = age
        out.at[i, "price_stale"] = None if age is None else bool(age > max_price_age_days)
        out.at[i, "total_usd_p10"] = p10
        out.at[i, "total_usd_p90"] = p90
    out.attrs.update(table.attrs)
    out.attrs["max_price_age_days"] = max_price_age_days
    return out


def warnings(table: pd.DataFrame, *, rows: int | None = None) -> list[str]:
    """Plain sentences for the annotated rows that are at risk or rest on a stale price."""
    out = []
    view = table if rows is None else table.head(rows)
    limit = table.attrs.get("max_price_age_days", MAX_PRICE_AGE_DAYS)
    for _, r in view.iterrows():
        label = f"#{int(r['rank'])} {r['option']}" if pd.notna(r.get("rank")) else str(r["option"])
        if isinstance(r.get("slo_margin"), str) and r["slo_margin"].startswith("at risk"):
            out.append(f"{label}: SLO margin inside the model's error band "
                       f"({r['slo_margin'][len('at risk: '):]})")
        if r.get("price_stale") is True:
            out.append(f"{label}: rests on a price dated {r['price_as_of']} "
                       f"({int(r['price_age_days'])} days old, over {limit} days)")
        note = redundancy_note(r)
        if note:
            out.append(f"{label}: {note}")
    return out


def margin_flag(verdict) -> str:
    """A short reading of ``slo_margin``: ``ok``, ``at risk``, ``n/m`` (not modelled) or ``-``."""
    if not isinstance(verdict, str):
        return "-"
    if verdict.startswith("at risk"):
        return "at risk"
    return {"clear": "ok", "not modelled": "n/m", "no target": "-"}.get(verdict, verdict)


def range_text(low, high, fmt=lambda x: f"{x:,.0f}") -> str:
    """P10-P90 of a total as text; ``list price`` when the two agree to half a dollar. [USD]"""
    if low is None or high is None or low != low or high != high:
        return "-"
    if abs(high - low) < 0.5:
        return "list price"
    return f"{fmt(low)}-{fmt(high)}"


def summary_columns(table: pd.DataFrame, fmt=lambda x: f"{x:,.0f}") -> pd.DataFrame:
    """The margin columns a ranking shows (``hwcost recommend``, notebook 08), for annotated rows.

    Returns a DataFrame on ``table``'s index with ``margin`` (:func:`margin_flag`), ``p10-p90``
    (:func:`range_text` of the total, ``fmt`` formatting each end) and ``price_age_d`` (days
    since the oldest price used, ``!`` when it is over the staleness limit).
    """
    return pd.DataFrame({
        "margin": [margin_flag(v) for v in table["slo_margin"]],
        "p10-p90": [range_text(lo, hi, fmt) for lo, hi in zip(table["total_usd_p10"], table["total_usd_p90"])],
        "price_age_d": [("-" if a is None or a != a else f"{int(a)}" + ("!" if st else ""))
                        for a, st in zip(table["price_age_days"], table["price_stale"])],
    }, index=table.index)


def redundancy_note(row) -> str | None:
    """A warning when a GPU plan has no spare replica, or puts all of them in one machine."""
    if row.get("kind") not in ("self-hosted", "cloud"):
        return None
    spares = 0 if pd.isna(row.get("spares")) else int(row.get("spares"))
    gpus = 0 if pd.isna(row.get("gpus_total")) else int(row.get("gpus_total"))
    replicas = 0 if pd.isna(row.get("replicas")) else int(row.get("replicas"))
    one_box = 0 < gpus <= 8
    if spares == 0:
        return ("one machine with no spare: a failed GPU or host stops the service" if one_box
                else "no spare replica: a failure leaves the peak hour short")
    if one_box and replicas > 1 and row.get("kind") == "self-hosted":
        return (f"all {replicas} replicas, spare included, fit in one {gpus}-GPU machine: a host "
                "or power failure stops them together")
    return None
