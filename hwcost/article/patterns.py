"""The source article's four "Real-World Deployment Patterns" as small presets, ranked.

Each pattern is a workload and constraints in the article's words, with the article's advice;
:func:`hwcost.recommend.patterns` ranks every option for each and sets the advice beside the
optimum. ``hwcost.recommend`` re-exports these names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import pandas as pd

from .. import catalog
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
