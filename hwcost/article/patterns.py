"""The source article's four "Real-World Deployment Patterns" as small presets, ranked.

Each pattern is a workload and constraints in the article's words; :func:`patterns` ranks
every option for each with :func:`hwcost.recommend.rank` and sets the article's advice beside
the optimum.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import pandas as pd

from .. import catalog
from ..recommend import case, rank  # noqa: F401
from ..requirements import Constraints  # noqa: F401
from .flowchart import ARTICLE_GPUS

# ----------------------------------------------------------------------------------------
# The article's four deployment patterns as small presets
# ----------------------------------------------------------------------------------------
_PATTERNS = "Real-World Deployment Patterns"
PATTERN_CLOSE = 1.10  # the advised option within 10% of the optimum counts as "close"


@dataclass(frozen=True)
class Pattern:
    """One of the article's deployment patterns, made concrete enough to rank.

    ``workload`` and ``constraints`` are keyword arguments of :func:`case` that describe a
    team in the pattern's situation (our reading; the article gives no numbers beyond the
    10K-requests threshold). ``advice_*`` select the ranked options that follow the
    article's advice: kind, and where given providers, GPU ids and pricing.
    """

    id: str
    title: str
    quote: str
    advice: str
    workload: Mapping[str, Any]
    constraints: Mapping[str, Any]
    advice_kind: str
    advice_providers: tuple[str, ...] | None = None
    advice_gpus: tuple[str, ...] | None = None
    advice_pricing: tuple[str, ...] | None = None

    def follows_advice(self, table: pd.DataFrame) -> pd.Series:
        """Rows of a :func:`rank` table that follow the article's advice (bool Series)."""
        m = table["kind"] == self.advice_kind
        if self.advice_providers:
            m &= table["provider"].isin(self.advice_providers)
        if self.advice_gpus:
            m &= table["gpu_id"].isin(self.advice_gpus)
        if self.advice_pricing:
            pricing = catalog.cloud_prices().set_index("id")["pricing"]
            m &= table["offer_id"].map(pricing).isin(self.advice_pricing)
        return m


_H100 = ARTICLE_GPUS["H100"]
_CHAT_70B = dict(model="llama-3.1-70b", input_tokens=500, output_tokens=200,
                 daily_profile="business-hours")
_CHAT_SLO = dict(ttft_s=1.0, tpot_s=0.1)

DEPLOYMENT_PATTERNS: tuple[Pattern, ...] = (
    Pattern("1-start", "Pattern 1: startup, at launch",
            "Start: Cloud (RunPod H100) for operational simplicity and flexibility.",
            "cloud: RunPod H100",
            dict(_CHAT_70B, requests_per_day=2_000, traffic_pattern="variable"),
            dict(_CHAT_SLO, availability=0.99, horizon_months=12),
            "cloud", ("runpod",), _H100),
    Pattern("1-grown", "Pattern 1: startup, after growth",
            "Transition: Self-hosted (H100 cluster) when traffic exceeds 10K daily requests "
            "and growth stabilizes.",
            "self-hosted: H100 cluster",
            dict(_CHAT_70B, requests_per_day=20_000, traffic_pattern="stable"),
            dict(_CHAT_SLO, availability=0.99, horizon_months=24),
            "self-hosted", None, _H100),
    Pattern("2", "Pattern 2: production, predictable traffic",
            "Start: Lambda Labs for SLA guarantees and dedicated support.",
            "cloud: Lambda",
            dict(_CHAT_70B, requests_per_day=5_000, daily_profile="flat", traffic_pattern="stable"),
            dict(_CHAT_SLO, availability=0.999, horizon_months=12),
            "cloud", ("lambda",)),
    Pattern("3", "Pattern 3: cost-optimized batch",
            "Use: CoreWeave or RunPod with committed capacity for baseline. Burst: Spot "
            "pricing or cheaper providers for peaks.",
            "cloud: committed or spot capacity",
            dict(model="llama-3.3-70b", requests_per_day=30_000, input_tokens=3000,
                 output_tokens=300, daily_profile="flat", traffic_pattern="stable"),
            dict(ttft_s=30.0, tpot_s=0.25, availability=0.95, horizon_months=24),
            "cloud", None, None, ("reserved", "spot")),
    Pattern("4", "Pattern 4: hybrid, the local part",
            "Local: Small RTX 4090 for development and low-priority inference.",
            "self-hosted: RTX 4090",
            dict(model="llama-3.1-8b", requests_per_day=1_000, input_tokens=500,
                 output_tokens=200, daily_profile="flat", traffic_pattern="stable"),
            dict(ttft_s=5.0, tpot_s=0.2, availability=0.9, horizon_months=24),
            "self-hosted", None, ("rtx-4090",)),
)

PATTERN_COLUMNS = ("pattern", "article_advice", "model", "requests_per_day", "top_option",
                   "top_kind", "top_total_usd", "best_gpu_option", "best_gpu_total_usd",
                   "advised_option", "advised_rank", "advised_total_usd", "advised_cost_ratio",
                   "advised_vs_best_gpu", "verdict")


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
