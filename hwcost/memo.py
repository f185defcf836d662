"""A one-page decision memo for a team: what to serve a model on, what it costs, how sure.

:func:`build` ranks every option for a case (:func:`hwcost.recommend.rank`), annotates the
leaders with their margins (:func:`hwcost.margins.annotate`) and gathers what a platform
lead pastes into a decision document:

- the question, in one sentence built from the case;
- the recommendation and the best option of each kind (owned, rented, API, hybrid);
- capex, running cost per year and the horizon total with its P10-P90 range;
- the bill of materials of the recommendation;
- an assumptions table: every parameter, and every price used with its source and ``as_of``
  date (stale ones flagged);
- risks: SLO margin against the performance model's error band, single points of failure,
  consumer hardware, quantization, price age, unmodelled API latency;
- sensitivity: traffic x0.5 and x2, prices at their low and high ends, staff time, horizon;
- what would change the decision.

:meth:`Memo.to_markdown` and :meth:`Memo.to_html` render it (no code, one page); the same
numbers come out of ``hwcost memo`` and notebook ``11_decision_memo``, since both call
:func:`build`.
"""

from __future__ import annotations

import datetime as _dt
import html as _html
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from . import catalog, margins
from .errors import HwcostError
from .notebook import DOLLAR_IN_MARKDOWN, count, escape_currency, money

#: Ways :meth:`Memo.to_markdown` writes the dollar sign of an amount.
MARKDOWN_DOLLARS = ("span", "backslash")
KIND_LABELS = {"self-hosted": "owned", "cloud": "rented", "api": "API", "hybrid": "hybrid"}
KIND_ORDER = ("self-hosted", "cloud", "api", "hybrid")
# Columns that issue-11 style rankings may carry; used when present.
COST_COLUMNS = ("capex_usd", "running_usd_per_year", "bill_of_materials", "n_gpus_bought",
                "spare_gpus", "segment", "caveat")
TRAFFIC_FACTORS = (0.5, 2.0)
STAFF_FACTORS = (0.0, 2.0)
# Horizon alternatives as multiples of the case's horizon.
HORIZON_FACTORS = (0.5, 2.0)


def _missing(x) -> bool:
    if x is None:
        return True
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def _num(x, default=None):
    return default if _missing(x) else float(x)


@dataclass(frozen=True)
class Memo:
    """Everything a decision memo states, as data; render with :meth:`to_markdown`.

    Attributes
    ----------
    case : hwcost.recommend.Case
    table : DataFrame
        The ranking with margins (:func:`hwcost.margins.annotate`) on its leading rows.
    question : str
    recommendation : dict
        The #1 row with ``capex_usd``, ``running_usd_per_year``, ``total_usd_p10/p90``.
    options : DataFrame
        Best option of each kind: ``kind, option, status, total_usd, total_usd_p10,
        total_usd_p90, capex_usd, running_usd_per_year, times_the_cost_of_1, slo_margin,
        price_as_of``.
    bill_of_materials : DataFrame
        ``item, quantity, unit_usd, usd, note`` for the recommendation.
    assumptions : DataFrame
        ``assumption, value, source, as_of, age_days, stale``.
    risks : list of str
    sensitivity : DataFrame
        ``factor, setting, best_option, best_kind, total_usd, change_pct, same_decision``.
    changes : list of str
        What would change the decision.
    today : datetime.date
    """

    case: Any
    table: pd.DataFrame = field(repr=False)
    question: str
    recommendation: Mapping[str, Any]
    options: pd.DataFrame = field(repr=False)
    bill_of_materials: pd.DataFrame = field(repr=False)
    assumptions: pd.DataFrame = field(repr=False)
    risks: tuple[str, ...]
    sensitivity: pd.DataFrame = field(repr=False)
    changes: tuple[str, ...]
    today: _dt.date
    command: str = ""

    def to_markdown(self, *, dollar: str = "span") -> str:
        """The memo as Markdown, dollar amounts safe from math renderers.

        Parameters
        ----------
        dollar : {"span", "backslash"}
            How a ``$`` before an amount is written. ``"span"``
            (:data:`hwcost.notebook.DOLLAR_IN_MARKDOWN`) for a notebook's output: JupyterLab
            pairs backslash-escaped dollars into a formula. ``"backslash"`` (``\\$3,600``) for a
            Markdown file (:func:`write`, ``hwcost memo``): GitHub shows a plain ``$`` and the
            text still reads right when pasted as plain text.
        """
        if dollar not in MARKDOWN_DOLLARS:
            raise HwcostError(f"dollar={dollar!r}: expected one of {', '.join(MARKDOWN_DOLLARS)}")
        text = escape_currency(_render_markdown(self))
        if dollar == "backslash":
            text = text.replace(DOLLAR_IN_MARKDOWN, "\\$")
        return text

    def to_html(self) -> str:
        """The memo as a standalone HTML page (no script, no external resource)."""
        return _render_html(self)


# ----------------------------------------------------------------------------------------
# Building
# ----------------------------------------------------------------------------------------
def _years(constraints) -> float:
    return constraints.horizon_months / 12.0


def _hardware_row(gpu_id: str, constraints):
    hw = catalog.hardware_prices()
    m = hw[(hw["gpu_id"] == gpu_id) & (hw["condition"] == constraints.hardware_condition)]
    return None if m.empty else m.iloc[0]


def capex_and_running(row: Mapping, constraints) -> tuple[float, float]:
    """Purchase price and running cost per year of one ranked option. [USD], [USD/year]

    Uses the ranking's ``capex_usd`` and ``running_usd_per_year`` when it has them. Otherwise,
    for owned hardware, capex is every GPU bought (spares included) at the catalog's typical
    price plus its host share, and the running cost is the horizon total less the part of the
    purchase the horizon carries (``capex x horizon / amortization``), per year; rented GPUs
    and APIs have no capex and run at their total per year.
    """
    years = _years(constraints)
    if "capex_usd" in row and not _missing(row.get("capex_usd")) \
            and "running_usd_per_year" in row and not _missing(row.get("running_usd_per_year")):
        return float(row["capex_usd"]), float(row["running_usd_per_year"])
    total = _num(row.get("total_usd"), 0.0)
    if row.get("kind") != "self-hosted":
        return 0.0, total / years
    hw = _hardware_row(row.get("gpu_id"), constraints)
    gpus = int(_num(row.get("gpus_total"), 0))
    if hw is None or gpus == 0:
        return 0.0, total / years
    capex = gpus * (float(hw["usd_typical"]) + float(hw["server_share_usd_typical"]))
    carried = capex * min(1.0, years / constraints.amortization_years)
    return capex, max(0.0, total - carried) / years


def _hybrid(table: pd.DataFrame, case) -> dict:
    """Owned replicas for the base load, rented replicas of the same configuration for peaks.

    Priced with :func:`hwcost.economics.hybrid_cost` at the best owned configuration that is
    also offered for rent; spares and staff of the owned part come from its ranked row.
    """
    from . import economics

    c = case.constraints
    ok = table[table["feasible"]]
    if c.privacy or not c.allow_cloud or not c.allow_self_hosted:
        why = "privacy rules out rented GPUs" if c.privacy else "rented or owned GPUs excluded"
        return {"kind": "hybrid", "status": f"not allowed: {why}"}
    owned = ok[ok["kind"] == "self-hosted"]
    cloud = ok[ok["kind"] == "cloud"]
    for _, o in owned.iterrows():
        same = cloud[(cloud["gpu_id"] == o["gpu_id"]) & (cloud["n_gpus"] == o["n_gpus"])
                     & (cloud["precision"] == o["precision"]) & (cloud["engine"] == o["engine"])]
        if same.empty:
            continue
        r = same.iloc[0]
        cap = _num(o.get("capacity_requests_per_s"))
        if not cap:
            continue
        n = int(o["n_gpus"])
        own_h = float(o["usd_per_gpu_hour"]) * n
        rent_h = float(r["usd_per_gpu_hour"]) * n
        tps = cap * case.workload.output_tokens
        sweep = economics.hybrid_sweep(case.workload, owned_usd_per_replica_hour=own_h,
                                       cloud_usd_per_replica_hour=rent_h,
                                       replica_output_tokens_per_s=tps,
                                       max_utilization=utilization_cap(c))
        mixed = sweep[(sweep["owned_replicas"] > 0) & (sweep["cloud_usd_per_day"] > 0)]
        if mixed.empty:
            return {"kind": "hybrid", "status": "no mix: the traffic never exceeds one "
                                                "replica's worth at any hour, so a mix is pure"}
        best = mixed.sort_values("usd_per_day").iloc[0]
        days = c.horizon_hours / 24.0
        spares = int(_num(o.get("spares"), 0))
        total = float(best["usd_per_day"]) * days + spares * own_h * c.horizon_hours
        k = int(best["owned_replicas"])
        return {"kind": "hybrid", "status": "priced",
                "option": f"{k} owned + rented at peaks: {o['option'].replace(' self-hosted', '')}"
                          f" @ {r['offer_id']}",
                "total_usd": total, "gpu_id": o["gpu_id"], "n_gpus": n,
                "gpus_total": (k + spares) * n, "offer_id": r["offer_id"],
                "note": f"{count(k, 'owned replica')} (+{spares} spare) around the clock, "
                        f"{best['cloud_replica_hours_per_day']:.1f} rented replica-hours a day"}
    return {"kind": "hybrid", "status": "not priced: no owned configuration is also offered "
                                        "for rent"}


def _profile_name(profile) -> str:
    from .scenario import PROFILES

    def norm(p):
        mean = sum(p) / len(p)
        return tuple(round(x / mean, 9) for x in p)

    return next((k for k, v in PROFILES.items() if norm(v) == norm(profile)), "custom")


def _question(case) -> str:
    w, c = case.workload, case.constraints
    llm = catalog.llm(w.model)
    targets = [f"p{c.slo.percentile:g} {n} at most {v:g} s"
               for n, v in (("TTFT", c.slo.ttft_s), ("TPOT", c.slo.tpot_s),
                            ("end-to-end latency", c.slo.e2e_s)) if v is not None]
    profile = "flat over the day" if len(set(w.daily_profile)) == 1 else "peaking in business hours"
    return (f"Where should we serve {llm.name} for {w.requests_per_day:,.0f} requests a day "
            f"({w.input_tokens:,} input + {w.output_tokens:,} output tokens each, traffic "
            f"{profile}), with {', '.join(targets) if targets else 'no latency target'}, "
            f"availability {c.availability:.2%}, data "
            + ("that must stay on our own hardware" if c.privacy else "that may leave our hardware")
            + (f", a budget of {money(c.budget_usd)}" if c.budget_usd else "")
            + f", over {c.horizon_months:g} months, and what will it cost?")


_METRIC = {"ttft_s": "TTFT", "tpot_s": "TPOT", "e2e_s": "end-to-end"}


def _short_source(text, limit: int = 160) -> str:
    """The first reference of a catalog ``source`` (the rest is in the catalog row)."""
    text = str(text or "").strip()
    first = text.split("; ")[0]
    if len(first) > limit:
        first = first[:limit].rsplit(" ", 1)[0] + " ..."
    return first + (" (and more in the catalog)" if first != text else "")


def utilization_cap(c) -> float:
    """The share of a replica's saturation that planning counts on (``max_utilization``, or the
    constraints' own rule when they leave it unset)."""
    cap = getattr(c, "utilization_cap", None)
    return float(cap) if cap is not None else float(c.max_utilization)


def staff_text(c) -> str:
    """The staff time for owned hardware in words (a flat amount, or base + per box)."""
    from . import economics

    unit = economics.operations_usd_per_year(1.0)
    if c.operations_usd_per_year is not None:
        return (f"{c.operations_usd_per_year / unit:.0%} of one administrator = "
                f"{money(c.operations_usd_per_year)} a year")
    base = getattr(c, "staff_base_fraction", 0.0)
    per_box = getattr(c, "staff_per_box_fraction", 0.0)
    return (f"{base:.0%} of one administrator plus {per_box:.0%} per box "
            f"({money(unit)} per full-time administrator a year)")


def _parameter_rows(case, source: str) -> list[dict]:
    from . import economics, recommend

    w, c = case.workload, case.constraints
    d = recommend.Constraints()
    src = lambda name: source if getattr(c, name) != getattr(d, name) else "hwcost default"
    staff_cloud = (c.cloud_operations_usd_per_year or 0.0) / economics.operations_usd_per_year(1.0)
    profile = _profile_name(w.daily_profile)
    rows = [
        ("model", f"{w.model} ({catalog.llm(w.model).name})", source),
        ("requests per day", f"{w.requests_per_day:,.0f} (peak hour "
                             f"{w.peak_requests_per_s:.3g} requests/s)", source),
        ("tokens per request", f"{w.input_tokens:,} input + {w.output_tokens:,} output", source),
        ("daily traffic profile", profile, source),
        ("latency targets", ", ".join(f"p{c.slo.percentile:g} {_METRIC.get(k, k)} <= {v:g} s"
                                      for k, v in c.slo.targets().items()) or "none", source),
        ("availability target", f"{c.availability:.2%}", src("availability")),
        ("privacy", "required (own hardware only)" if c.privacy else "not required",
         src("privacy")),
        ("planning horizon", f"{c.horizon_months:g} months", src("horizon_months")),
        ("budget cap", money(c.budget_usd) if c.budget_usd else "none", src("budget_usd")),
        ("amortization of owned hardware", f"{c.amortization_years:g} years",
         src("amortization_years")),
        ("hardware condition", c.hardware_condition, src("hardware_condition")),
        ("replica availability (one replica up)", f"{c.replica_availability:.0%}",
         src("replica_availability")),
        ("highest planned utilization of a replica", f"{utilization_cap(c):.0%} of saturation",
         src("max_utilization")),
        ("idle power of an owned GPU", f"{recommend.IDLE_POWER_FRACTION:.0%} of board power",
         "hwcost.economics.IDLE_POWER_FRACTION"),
        ("staff for owned hardware", staff_text(c),
         f"BLS median wage ({money(economics.ADMIN_WAGE_USD_PER_YEAR)}, OOH May 2024) / "
         f"{economics.WAGE_SHARE_OF_COMPENSATION:.0%} wage share (BLS ECEC); shares assumed"),
        ("staff for rented GPUs", f"{staff_cloud:.0%} of one administrator = "
                                  f"{money(c.cloud_operations_usd_per_year or 0.0)} a year",
         "as above; APIs carry none"),
        ("electricity setting", c.energy_id or "colocation for datacenter GPUs, office for "
                                               "consumer and workstation cards",
         src("energy_id")),
    ]
    return [dict(assumption=a, value=v, source=s, as_of="", age_days=None, stale=None)
            for a, v, s in rows]


def _price_rows(rows: list[Mapping], constraints, today, limit) -> list[dict]:
    seen, out = set(), []
    for row in rows:
        for p in margins.prices_used(row, constraints):
            if p["id"] in seen:
                continue
            seen.add(p["id"])
            age = margins.price_age_days(p["as_of"], today)
            as_of = margins.as_date(p["as_of"])
            out.append(dict(assumption=f"price: {p['table']} {p['id']}", value=p["what"],
                            source=_short_source(p["source"]),
                            as_of=as_of.isoformat() if as_of else "",
                            age_days=age, stale=None if age is None else bool(age > limit)))
    return out


def _bill_of_materials(row: Mapping, case) -> pd.DataFrame:
    c = case.constraints
    cols = ["item", "quantity", "unit_usd", "usd", "note"]
    given = row.get("bill_of_materials")
    if isinstance(given, pd.DataFrame):
        return given
    if isinstance(given, (list, tuple)) and given and isinstance(given[0], Mapping):
        return pd.DataFrame(list(given))
    if isinstance(given, str) and given.strip():
        return _bom_from_components(row, given.strip(), c, cols)
    years = _years(c)
    kind = row.get("kind")
    rows = []
    if kind == "self-hosted":
        g = catalog.gpu(row["gpu_id"])
        hw = _hardware_row(row["gpu_id"], c)
        gpus = int(row["gpus_total"])
        spares = int(_num(row.get("spares"), 0)) * int(row["n_gpus"])
        if hw is not None:
            rows.append(dict(item=f"{g.name} GPU ({c.hardware_condition})", quantity=gpus,
                             unit_usd=float(hw["usd_typical"]),
                             usd=gpus * float(hw["usd_typical"]),
                             note=f"{count(row['replicas'], 'replica')} of "
                                  f"{count(row['n_gpus'], 'GPU')}"
                                  + (f", {count(spares, 'GPU')} of them spare" if spares
                                     else ", no spare")))
            rows.append(dict(item="host share per GPU (server, CPU, memory, power supply)",
                             quantity=gpus, unit_usd=float(hw["server_share_usd_typical"]),
                             usd=gpus * float(hw["server_share_usd_typical"]),
                             note="catalog typical share of a host"))
        capex, running = capex_and_running(row, c)
        rows.append(dict(item="running cost (electricity with PUE, staff)", quantity=years,
                         unit_usd=running, usd=running * years, note="per year x horizon years"))
    elif kind == "cloud":
        rows.append(dict(item=f"rented {row['offer_id']}", quantity=int(row["gpus_total"]),
                         unit_usd=_num(row.get("usd_per_gpu_hour")),
                         usd=_num(row.get("total_usd")) - c.cloud_operations_usd_per_year * years,
                         note="GPUs billed at peak (unit: USD per GPU-hour, mean over the horizon)"))
        rows.append(dict(item="staff for the serving stack", quantity=years,
                         unit_usd=c.cloud_operations_usd_per_year,
                         usd=c.cloud_operations_usd_per_year * years, note="per year"))
    elif kind == "api":
        rows.append(dict(item=f"hosted API {row['offer_id']}", quantity=None, unit_usd=None,
                         usd=_num(row.get("total_usd")),
                         note=f"{_num(row.get('usd_per_million_tokens')):.3g} USD per million tokens "
                              "(input and output together)"))
    return pd.DataFrame(rows, columns=cols)


# Components of an owned option's cost, when the ranking carries them: capex items, then
# running items per year.
CAPEX_COMPONENTS = (("gpu_usd", "GPUs"), ("host_usd", "hosts (servers, CPU, memory, power)"),
                    ("networking_setup_usd", "networking and setup"))
RUNNING_COMPONENTS = (("capital_usd_per_year", "capital (interest less resale)"),
                      ("power_usd_per_year", "electricity"),
                      ("colocation_usd_per_year", "colocation"),
                      ("maintenance_usd_per_year", "maintenance"),
                      ("staff_usd_per_year", "staff"))


def _bom_from_components(row: Mapping, what: str, c, cols) -> pd.DataFrame:
    """The bill of materials from the ranking's own line and cost components."""
    years = _years(c)
    rows = [dict(item=what, quantity=None, unit_usd=None,
                 usd=_num(row.get("capex_usd")) if row.get("kind") == "self-hosted" else None,
                 note="bought up front" if row.get("kind") == "self-hosted" else "")]
    for key, label in CAPEX_COMPONENTS:
        v = _num(row.get(key))
        if v:
            rows.append(dict(item=f"  {label}", quantity=None, unit_usd=None, usd=v, note="capex"))
    for key, label in RUNNING_COMPONENTS:
        v = _num(row.get(key))
        if v:
            rows.append(dict(item=f"  {label}", quantity=years, unit_usd=v, usd=v * years,
                             note="per year x horizon years"))
    if row.get("kind") != "self-hosted":
        run = _num(row.get("running_usd_per_year"))
        if run:
            rows.append(dict(item="running cost", quantity=years, unit_usd=run, usd=run * years,
                             note="per year x horizon years"))
    return pd.DataFrame(rows, columns=cols)


def _risks(rec: Mapping, options: pd.DataFrame, case, limit: int) -> list[str]:
    c = case.constraints
    out = []
    margin = rec.get("slo_margin")
    if isinstance(margin, str) and margin.startswith("at risk"):
        out.append(f"**SLO margin inside the model's error band**: {margin[len('at risk: '):]}. "
                   "The prediction meets the target, but measurements of similar setups fell "
                   "that much slower for one in ten validation rows; benchmark before buying.")
    elif margin == "clear":
        ttft_u, tpot_u = _num(rec.get("ttft_upper_s")), _num(rec.get("tpot_upper_s"))
        ups = [f"{n} up to {u:.3g} s" for n, u in (("TTFT", ttft_u), ("TPOT", tpot_u)) if u]
        out.append("**SLO margin**: the targets hold even at the slow end of the model's "
                   f"error band ({', '.join(ups)}).")
    elif margin == "not modelled":
        out.append("**Latency not modelled**: a hosted API's latency, rate limits and "
                   "availability are the provider's; measure its p95 before relying on it.")
    note = margins.redundancy_note(rec)
    if note:
        out.append(f"**Single point of failure**: {note} (availability target "
                   f"{c.availability:.2%}; each replica assumed up {c.replica_availability:.0%}).")
    seg = rec.get("segment") if not _missing(rec.get("segment")) else (
        catalog.gpu(rec["gpu_id"]).segment if not _missing(rec.get("gpu_id")) else None)
    if seg in ("consumer", "workstation") and rec.get("kind") == "self-hosted":
        out.append(f"**{seg.capitalize()} hardware**: no datacenter warranty or support "
                   "contract; check the GPU driver's licence terms for datacenter use and plan "
                   "for replacements from retail stock.")
    if not _missing(rec.get("caveat")) and str(rec.get("caveat")).strip():
        out.append(f"**Caveat**: {rec['caveat']}")
    native = catalog.llm(case.workload.model).native_precision
    prec = rec.get("precision")
    if not _missing(prec) and prec and prec not in (native, "bf16", "fp16"):
        out.append(f"**Quantization**: the plan serves {prec} weights where the model ships in "
                   f"{native}; check answer quality on your own evaluation set before committing.")
    stale = [o for o in options.itertuples() if getattr(o, "price_stale", None) is True]
    if rec.get("price_stale") is True:
        out.append(f"**Price age**: the recommendation rests on a price dated "
                   f"{rec.get('price_as_of')} ({int(rec.get('price_age_days'))} days old, over "
                   f"{limit} days); re-quote before signing.")
    elif stale:
        out.append("**Price age**: " + ", ".join(f"the best {KIND_LABELS[o.kind]} option's "
                                                 f"price dates from {o.price_as_of}"
                                                 for o in stale)
                   + f" (over {limit} days); the comparison may have moved.")
    return out


def _sensitivity(case, base: Mapping, base_table: pd.DataFrame, options: pd.DataFrame,
                 simulate: bool) -> pd.DataFrame:
    from . import economics, recommend

    w, c = case.workload, case.constraints
    rows = []

    def add(factor, setting, table_or_row):
        if isinstance(table_or_row, pd.DataFrame):
            ok = table_or_row[table_or_row["feasible"]]
            top = ok.iloc[0] if len(ok) else None
        else:
            top = table_or_row
        if top is None:
            rows.append(dict(factor=factor, setting=setting, best_option="no feasible option",
                             best_kind="", total_usd=None, change_pct=None, same_decision=False))
            return
        rows.append(dict(factor=factor, setting=setting, best_option=top["option"],
                         best_kind=KIND_LABELS.get(top["kind"], top["kind"]),
                         total_usd=float(top["total_usd"]),
                         change_pct=100 * (float(top["total_usd"]) / float(base["total_usd"]) - 1),
                         same_decision=top["option"] == base["option"]))

    def rerank(workload=w, constraints=c):
        return recommend.rank(workload, constraints, strict=False, simulate=simulate)

    for f in TRAFFIC_FACTORS:
        add("traffic", f"x{f:g} ({w.requests_per_day * f:,.0f} requests/day)",
            rerank(workload=replace(w, requests_per_day=w.requests_per_day * f)))
    # Prices at their ends: owned options at P10 / P90 of their catalog ranges; list prices fixed.
    ann = base_table
    for label, col in (("low", "total_usd_p10"), ("high", "total_usd_p90")):
        cands = ann[ann["feasible"] & ann[col].notna()]
        if len(cands):
            pick = cands.assign(total_usd=cands[col].astype(float)).sort_values("total_usd").iloc[0]
            add("prices", f"{label} end of the hardware and electricity ranges", pick)
    unit = economics.operations_usd_per_year(1.0)
    for f in STAFF_FACTORS:
        if c.operations_usd_per_year is not None:
            new = c.operations_usd_per_year * f
            changed = replace(c, operations_usd_per_year=float(new))
            setting = f"{new / unit:.0%} of an administrator"
        else:  # base share plus a share per box
            share = getattr(c, "staff_base_fraction", 0.0) * f
            per_box = getattr(c, "staff_per_box_fraction", 0.0) * f
            changed = replace(c, staff_base_fraction=share, staff_per_box_fraction=per_box)
            setting = f"{share:.0%} of an administrator plus {per_box:.0%} per box"
        add("staff for owned hardware", setting, rerank(constraints=changed))
    for f in HORIZON_FACTORS:
        months = c.horizon_months * f
        add("horizon", f"{months:g} months", rerank(constraints=replace(c, horizon_months=months)))
    return pd.DataFrame(rows, columns=["factor", "setting", "best_option", "best_kind",
                                       "total_usd", "change_pct", "same_decision"])


def _changes(rec: Mapping, options: pd.DataFrame, sens: pd.DataFrame, table: pd.DataFrame,
             case) -> list[str]:
    from . import recommend

    out = []
    total = float(rec["total_usd"])
    others = options[(options["status"] == "priced") & (options["kind"] != rec["kind"])]
    for o in others.sort_values("total_usd").itertuples():
        ratio = o.total_usd / total
        more = (f"{ratio - 1:.0%} more" if ratio < 2 else f"{ratio:.3g} times as much")
        rise = f"rises by {ratio - 1:.0%}" if ratio < 2 else f"grows {ratio:.3g}-fold"
        out.append(f"The best {KIND_LABELS[o.kind]} option ({o.option}) costs {more} over the "
                   f"horizon; it wins only if the recommendation's total {rise} or its own "
                   f"falls by {1 - 1 / ratio:.0%}.")
    for r in sens[~sens["same_decision"]].itertuples():
        out.append(f"With {r.factor} at {r.setting}, the best option becomes {r.best_option} "
                   f"({r.best_kind}).")
    if rec["kind"] == "self-hosted":
        try:
            cross = recommend.staff_sensitivity(table).crossover
        except (ValueError, TypeError):  # no owned option, or staff not a flat amount
            cross = {}
        for k, s in cross.items():
            if s > 0:
                out.append(f"Owned hardware stays ahead of the best {KIND_LABELS[k]} option while "
                           f"its staff time stays below {s:.0%} of one administrator.")
    if case.constraints.privacy:
        out.append("Dropping the privacy requirement would admit rented GPUs and hosted APIs.")
    if not out:
        out.append("No alternative within the factors tested changes the decision.")
    return out


def build(case=None, constraints=None, *, today: _dt.date | None = None,
          max_price_age_days: int = margins.MAX_PRICE_AGE_DAYS, sensitivity: bool = True,
          simulate: bool = True, source: str | None = None, command: str = "") -> Memo:
    """Rank, annotate and summarise one case into a :class:`Memo`.

    Parameters
    ----------
    case : hwcost.recommend.Case or hwcost.workload.Workload
        The case (from :func:`hwcost.recommend.case`, a scenario, or CLI flags); a Workload
        needs ``constraints``.
    today : datetime.date, optional
        Reference date for price ages (default: the current date).
    max_price_age_days : int
        Prices older than this are flagged. [days]
    sensitivity : bool
        Re-rank for the sensitivity table (six more rankings).
    simulate : bool
        Passed to :func:`hwcost.recommend.rank`.

    Raises
    ------
    hwcost.recommend.NoFeasibleOption
        When no option meets every constraint (naming what to relax).
    """
    from . import recommend, requirements

    if not isinstance(case, requirements.Case):
        if constraints is None:
            constraints = requirements.Constraints()
        case = requirements.Case(case, constraints)
    today = today or _dt.date.today()
    table = recommend.rank(case.workload, case.constraints, simulate=simulate)
    table = margins.annotate(table, case.constraints, rows=40, today=today,
                             max_price_age_days=max_price_age_days)
    ok = table[table["feasible"]]
    rec = ok.iloc[0].to_dict()
    c = case.constraints
    rec["capex_usd"], rec["running_usd_per_year"] = capex_and_running(rec, c)

    kinds = []
    for kind in ("self-hosted", "cloud", "api"):
        rows = ok[ok["kind"] == kind]
        if len(rows):
            r = rows.iloc[0].to_dict()
            cap, run = capex_and_running(r, c)
            kinds.append(dict(kind=kind, option=r["option"], status="priced",
                              total_usd=r["total_usd"], total_usd_p10=r["total_usd_p10"],
                              total_usd_p90=r["total_usd_p90"], capex_usd=cap,
                              running_usd_per_year=run, slo_margin=r["slo_margin"],
                              price_as_of=r["price_as_of"], price_stale=r["price_stale"],
                              price_age_days=r["price_age_days"], row=r))
        else:
            allowed = {"self-hosted": c.allow_self_hosted, "cloud": c.allow_cloud,
                       "api": c.allow_api}[kind]
            bad = table[table["kind"] == kind]
            if not allowed:
                status = "excluded by the case"
            elif len(bad):
                first = str(bad.iloc[0]["fails"]).split(";")[0]
                status = f"none feasible: {first}"
            else:
                status = "none in the catalog for this model"
            kinds.append(dict(kind=kind, option="-", status=status))
    hy = _hybrid(ok, case)
    if hy.get("status") == "priced":
        hy.update(total_usd_p10=hy["total_usd"], total_usd_p90=hy["total_usd"],
                  capex_usd=None, running_usd_per_year=None, slo_margin="as its owned part",
                  price_as_of=None, price_stale=None, price_age_days=None, row=None)
    else:
        hy.setdefault("option", "-")
    kinds.append(hy)
    options = pd.DataFrame(kinds)
    options["times_the_cost_of_1"] = [
        (float(t) / float(rec["total_usd"])) if not _missing(t) else None
        for t in options.get("total_usd", pd.Series([None] * len(options)))]

    used_rows = [rec] + [k["row"] for k in kinds if k.get("row")]
    source = source or case.source
    assumptions = pd.DataFrame(_parameter_rows(case, source)
                               + _price_rows(used_rows, c, today, max_price_age_days))
    bom = _bill_of_materials(rec, case)
    risks = _risks(rec, options, case, max_price_age_days)
    sens = _sensitivity(case, rec, table, options, simulate) if sensitivity else pd.DataFrame(
        columns=["factor", "setting", "best_option", "best_kind", "total_usd", "change_pct",
                 "same_decision"])
    changes = _changes(rec, options, sens, table, case)
    return Memo(case=case, table=table, question=_question(case), recommendation=rec,
                options=options.drop(columns=["row"], errors="ignore"), bill_of_materials=bom,
                assumptions=assumptions, risks=tuple(risks), sensitivity=sens,
                changes=tuple(changes), today=today, command=command)


# ----------------------------------------------------------------------------------------
# Rendering
# ----------------------------------------------------------------------------------------
def _cell(x) -> str:
    if _missing(x):
        return "-"
    text = str(x).replace("|", "\\|").replace("\n", " ")
    return text


def _md_table(df: pd.DataFrame) -> str:
    head = "| " + " | ".join(df.columns) + " |"
    rule = "|" + "|".join("---" for _ in df.columns) + "|"
    body = ["| " + " | ".join(_cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([head, rule] + body)


def _range(lo, mid, hi) -> str:
    if _missing(lo) or _missing(hi) or abs(float(hi) - float(lo)) < 0.5:
        return money(mid)
    return f"{money(mid)} (P10-P90 {money(lo)}-{money(hi)})"


def _render_markdown(m: Memo) -> str:
    rec, c = m.recommendation, m.case.constraints
    years = _years(c)
    L = [f"# Decision memo: serving {catalog.llm(m.case.workload.model).name}", ""]
    origin = (f"scenario file {m.case.source.split(' ', 1)[1]}"
              if m.case.source.startswith("scenario ") else "the parameters given")
    L.append(f"*Case: {origin}. Prepared with hwcost; price ages counted to "
             f"{m.today.isoformat()}.*")
    L += ["", "## Question", "", m.question, "", "## Recommendation", ""]
    kind = KIND_LABELS.get(rec["kind"], rec["kind"])
    L.append(
        f"**{rec['option']}** ({kind}): {_range(rec.get('total_usd_p10'), rec['total_usd'], rec.get('total_usd_p90'))} "
        f"over {c.horizon_months:g} months, {money(rec['usd_per_million_tokens'])} per million "
        f"tokens. " + (f"Capex {money(rec['capex_usd'])}; running cost "
                       if rec["capex_usd"] > 0 else "Nothing to buy up front; running cost ")
        + f"{money(rec['running_usd_per_year'])} a year."
        + (f" It meets the targets at p{c.slo.percentile:g} TTFT {rec['ttft_s']:.3g} s and TPOT "
           f"{rec['tpot_s']:.3g} s (predicted)." if not _missing(rec.get("ttft_s"))
           and not _missing(rec.get("tpot_s")) else ""))
    if rec["kind"] == "self-hosted" and years < c.amortization_years \
            and _missing(rec.get("capital_usd_per_year")):
        L.append("")
        L.append(f"The horizon total carries {years / c.amortization_years:.0%} of the purchase "
                 f"(written off over {c.amortization_years:g} years); the rest is spent up front "
                 "and recovered only if the hardware keeps serving.")
    L += ["", "### Best option of each kind", ""]
    view = []
    for o in m.options.itertuples():
        priced = o.status == "priced"
        view.append({
            "kind": KIND_LABELS.get(o.kind, o.kind),
            "option": o.option if priced else f"- ({o.status})",
            "total over horizon": _range(getattr(o, "total_usd_p10", None), o.total_usd,
                                         getattr(o, "total_usd_p90", None)) if priced else "-",
            "capex": (money(o.capex_usd) if o.capex_usd > 0 else "none")
            if priced and not _missing(o.capex_usd) else "-",
            "running a year": money(o.running_usd_per_year)
            if priced and not _missing(o.running_usd_per_year) else "-",
            "vs #1": f"{o.times_the_cost_of_1:.2f}x" if priced else "-",
            "SLO margin": o.slo_margin if priced and not _missing(o.slo_margin) else "-",
            "oldest price": (f"{o.price_as_of}" + (" (stale)" if o.price_stale is True else ""))
            if priced and not _missing(getattr(o, "price_as_of", None)) else "-",
        })
    L.append(_md_table(pd.DataFrame(view)))
    L += ["", "## Bill of materials", ""]
    bom = m.bill_of_materials.copy()
    if len(bom):
        bom_view = pd.DataFrame({
            "item": bom["item"],
            "quantity": [("-" if _missing(q) else f"{float(q):g}") for q in bom["quantity"]],
            "unit": [("-" if _missing(u) else money(u)) for u in bom["unit_usd"]],
            "amount": [("-" if _missing(u) else money(u)) for u in bom["usd"]],
            "note": bom["note"]})
        L.append(_md_table(bom_view))
    else:
        L.append("Nothing to buy.")
    L += ["", "## Risks", ""]
    L += [f"- {r}" for r in m.risks] or ["- None flagged."]
    L += ["", "## Sensitivity", "",
          "Each row changes one input and ranks again; *same* means the recommendation stands.",
          ""]
    if len(m.sensitivity):
        s = m.sensitivity
        L.append(_md_table(pd.DataFrame({
            "factor": s["factor"], "setting": s["setting"], "best option": s["best_option"],
            "kind": s["best_kind"],
            "total": [money(v) if not _missing(v) else "-" for v in s["total_usd"]],
            "vs base": [f"{round(v) + 0:+d}%" if not _missing(v) else "-" for v in s["change_pct"]],
            "decision": ["same" if v else "**changes**" for v in s["same_decision"]]})))
    L += ["", "## What would change the decision", ""]
    L += [f"- {x}" for x in m.changes]
    L += ["", "## Assumptions", "",
          f"Every parameter and every price used; prices older than "
          f"{m.table.attrs.get('max_price_age_days', margins.MAX_PRICE_AGE_DAYS)} days are "
          "marked stale.", ""]
    a = m.assumptions
    L.append(_md_table(pd.DataFrame({
        "assumption": a["assumption"], "value": a["value"], "source": a["source"],
        "as of": a["as_of"].replace("", "-"),
        "age": [("-" if _missing(v) else f"{int(v)} days" + (" **stale**" if s is True else ""))
                for v, s in zip(a["age_days"], a["stale"])]})))
    if m.command:
        L += ["", f"*Reproduce: `{m.command}`*"]
    return "\n".join(L) + "\n"


_CSS = """body{font-family:DejaVu Sans,Helvetica,Arial,sans-serif;max-width:60rem;margin:2rem auto;
line-height:1.4;color:#222;font-size:14px}table{border-collapse:collapse;margin:.5rem 0}
td,th{border:1px solid #ccc;padding:.2rem .4rem;vertical-align:top;text-align:left}
th{background:#f3f3f3}h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:1.4rem}
h3{font-size:1.05rem}code{font-size:.9em}
@media print{body{margin:0;font-size:11px}}"""


def markdown_to_html(text: str, title: str = "hwcost") -> str:
    """A standalone page from Markdown (mistune, tables on; no script, no external resource)."""
    import mistune

    render = mistune.create_markdown(plugins=["table"], escape=False)
    body = render(text)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{_html.escape(title)}</title><style>{_CSS}</style></head>\n"
            f"<body>\n{body}</body></html>\n")


def _render_html(m: Memo) -> str:
    return markdown_to_html(m.to_markdown(),
                            f"Decision memo: {catalog.llm(m.case.workload.model).name}")


def write(memo: Memo, directory: str | Path, *, stem: str = "memo",
          formats: tuple[str, ...] = ("md", "html")) -> list[Path]:
    """Write the memo as ``stem.md`` and ``stem.html`` (each written atomically; a file of the
    same name that hwcost did not write is kept beside it as ``NAME.bak``)."""
    from . import outputs

    bad = set(formats) - {"md", "html"}
    if bad:
        raise HwcostError(f"unknown memo format(s) {', '.join(sorted(bad))}; accepted: md, html")
    out = []
    for fmt in formats:
        path = Path(directory) / f"{stem}.{fmt}"
        outputs.write(path, memo.to_markdown(dollar="backslash") if fmt == "md" else memo.to_html())
        out.append(path)
    return out
