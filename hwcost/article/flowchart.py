"""The source article's "Practical Selection Flowchart" and "When to Use Each Option" rules, as data.

:func:`flowchart` walks the rules for one case and says which fired and why; every number
the rules use is in :class:`Thresholds`, so a notebook can move them. ``hwcost.recommend``
re-exports these names; the ranking itself (what is actually cheapest) is
:func:`hwcost.recommend.rank`.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from typing import Any, Mapping

import pandas as pd

from .. import catalog
from ..errors import HwcostError
from ..requirements import TRAFFIC_PATTERNS, fraction_or_percent

ARTICLE = "Selecting Hardware for LLM Inference (source article)"


# ----------------------------------------------------------------------------------------
# The article's flowchart and "when to use each option" rules, as data
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Thresholds:
    """Every number the article's rules use, so a notebook can move them.

    Defaults are the article's values ("Practical Selection Flowchart" and "When to Use Each
    Option"). Sizes are in billions of parameters [B], rates in requests per day [1/day],
    latencies in seconds [s], availability as a fraction [1], horizons in months.
    """

    cloud_below_requests_per_day: float = 100.0  # flowchart: "<100 daily requests -> Cloud GPU"
    self_hosted_above_requests_per_day: float = 10_000.0  # flowchart: ">10K -> Self-hosted"
    cloud_traffic_below_requests_per_day: float = 10_000.0  # when to use: cloud "under 10K daily"
    self_hosted_traffic_from_requests_per_day: float = 10_000.0  # self-hosted "10K+ daily"
    small_model_below_b: float = 13.0  # "<13B -> RTX 4090"
    medium_model_up_to_b: float = 30.0  # "13-30B -> A100"
    large_model_up_to_b: float = 70.0  # "30-70B -> H100"; above: "70B+ -> B200/Multi-GPU"
    # Models are named by a rounded size (Llama 3.1 70B has 70.55B parameters): the upper
    # bounds "up to 30B" and "up to 70B" include models up to this fraction larger. "<13B" is
    # strict (a 13.02B model is a 13B model).
    size_tolerance: float = 0.05
    tight_latency_below_s: float = 0.1  # "<100ms SLA"
    relaxed_latency_above_s: float = 0.5  # ">500ms SLA"
    redundant_availability_from: float = 0.99  # "99%+ -> Redundant cloud or premium provider"
    basic_availability_above: float = 0.90  # ">90% -> Self-hosted or basic cloud acceptable"
    short_term_below_months: float = 6.0  # cloud: "Short-term projects (under 6 months)"
    long_term_from_months: float = 24.0  # self-hosted: "Long-term deployments (2+ years)"


@dataclass(frozen=True)
class Rule:
    """One branch of the article's rules.

    ``factor`` is the input it reads, ``op`` and ``threshold`` (a :class:`Thresholds` field
    name, or a literal) the test, and ``deployment`` / ``gpu`` / ``advice`` what it says
    when the test holds. ``text`` quotes the branch; ``section`` is where it is.
    """

    id: str
    factor: str
    op: str
    threshold: Any
    text: str
    section: str
    deployment: str | None = None  # "cloud", "self-hosted", "hybrid", "either"
    gpu: str | None = None
    advice: str | None = None


_FLOW = "Practical Selection Flowchart"
_WHEN = "When to Use Each Option"

FLOWCHART_RULES: tuple[Rule, ...] = (
    Rule("traffic-low", "requests_per_day", "<", "cloud_below_requests_per_day",
         "Traffic Volume: <100 daily requests -> Cloud GPU", _FLOW, deployment="cloud"),
    Rule("traffic-high", "requests_per_day", ">", "self_hosted_above_requests_per_day",
         "Traffic Volume: >10K daily requests -> Self-hosted", _FLOW, deployment="self-hosted"),
    Rule("size-small", "model_size_b", "<", "small_model_below_b",
         "Model Size: <13B -> RTX 4090", _FLOW, gpu="RTX 4090"),
    Rule("size-medium", "model_size_b", "<=", "medium_model_up_to_b",
         "Model Size: 13-30B -> A100", _FLOW, gpu="A100"),
    Rule("size-large", "model_size_b", "<=", "large_model_up_to_b",
         "Model Size: 30-70B -> H100", _FLOW, gpu="H100"),
    Rule("size-xl", "model_size_b", ">", "large_model_up_to_b",
         "Model Size: 70B+ -> B200/Multi-GPU", _FLOW, gpu="B200 / multi-GPU"),
    Rule("latency-tight", "latency_sla_s", "<", "tight_latency_below_s",
         "Latency Requirements: <100ms SLA -> Optimize hardware choice and batching carefully",
         _FLOW, advice="optimize hardware choice and batching carefully"),
    Rule("latency-relaxed", "latency_sla_s", ">", "relaxed_latency_above_s",
         "Latency Requirements: >500ms SLA -> Less hardware-sensitive, focus on cost",
         _FLOW, advice="less hardware-sensitive: focus on cost"),
    Rule("availability-high", "availability", ">=", "redundant_availability_from",
         "Availability Requirements: 99%+ -> Redundant cloud or premium provider", _FLOW,
         deployment="cloud", advice="redundant cloud or premium provider"),
    Rule("availability-basic", "availability", ">", "basic_availability_above",
         "Availability Requirements: >90% -> Self-hosted or basic cloud acceptable", _FLOW,
         deployment="either", advice="self-hosted or basic cloud acceptable"),
    Rule("privacy-sensitive", "privacy", "==", True,
         "Privacy Requirements: Sensitive data -> Self-hosted", _FLOW, deployment="self-hosted"),
    Rule("privacy-standard", "privacy", "==", False,
         "Privacy Requirements: Standard data -> Cloud acceptable", _FLOW, deployment="either"),
)

WHEN_TO_USE_RULES: tuple[Rule, ...] = (
    Rule("cloud-variable-traffic", "traffic_pattern", "==", "variable",
         "Choose Cloud for: Highly variable traffic (spikes unpredictable)", _WHEN, deployment="cloud"),
    Rule("cloud-model-churn", "frequent_model_changes", "==", True,
         "Choose Cloud for: Multiple model serving with frequent changes", _WHEN, deployment="cloud"),
    Rule("cloud-no-ops", "ops_expertise", "==", False,
         "Choose Cloud for: No operational infrastructure expertise", _WHEN, deployment="cloud"),
    Rule("cloud-short-term", "horizon_months", "<", "short_term_below_months",
         "Choose Cloud for: Short-term projects (under 6 months)", _WHEN, deployment="cloud"),
    Rule("cloud-low-traffic", "requests_per_day", "<", "cloud_traffic_below_requests_per_day",
         "Choose Cloud for: Traffic under 10K requests daily", _WHEN, deployment="cloud"),
    Rule("self-stable-traffic", "stable_high_traffic", "==", True,
         "Choose Self-Hosted for: Stable, predictable traffic (10K+ daily requests)", _WHEN,
         deployment="self-hosted"),
    Rule("self-long-term", "horizon_months", ">=", "long_term_from_months",
         "Choose Self-Hosted for: Long-term deployments (2+ years)", _WHEN, deployment="self-hosted"),
    Rule("self-privacy", "privacy", "==", True,
         "Choose Self-Hosted for: Privacy/data residency requirements", _WHEN, deployment="self-hosted"),
    Rule("self-cost-critical", "cost_critical", "==", True,
         "Choose Self-Hosted for: Cost-critical applications", _WHEN, deployment="self-hosted"),
    Rule("self-customization", "needs_customization", "==", True,
         "Choose Self-Hosted for: Need for infrastructure customization", _WHEN, deployment="self-hosted"),
    Rule("hybrid-baseline-burst", "traffic_pattern", "==", "baseline-plus-bursts",
         "Choose Hybrid for: Baseline load on self-hosted, burst capacity on cloud", _WHEN,
         deployment="hybrid"),
    Rule("hybrid-mixed-workloads", "mixed_workloads", "==", True,
         "Choose Hybrid for: Different workloads on different infrastructure", _WHEN,
         deployment="hybrid"),
    Rule("hybrid-gradual", "growing", "==", True,
         "Choose Hybrid for: Gradual scaling from cloud to self-hosted", _WHEN, deployment="hybrid"),
)

# The article's GPU names mapped to catalog ids (the first id is the one the verdict uses).
ARTICLE_GPUS: Mapping[str, tuple[str, ...]] = {
    "RTX 4090": ("rtx-4090",),
    "A100": ("a100-80gb-sxm", "a100-80gb-pcie", "a100-40gb-sxm"),
    "H100": ("h100-sxm", "h100-pcie", "h100-nvl"),
    "B200 / multi-GPU": ("b200",),
}

_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
        "==": operator.eq}


@dataclass(frozen=True)
class Step:
    """One rule evaluated on the way through the flowchart."""

    rule: str
    factor: str
    value: Any
    test: str
    fired: bool
    text: str
    section: str
    outcome: str


@dataclass(frozen=True)
class FlowchartResult:
    """The verdict of the article's rules for one case, and how it was reached.

    Attributes
    ----------
    deployment : str
        ``cloud``, ``self-hosted``, ``hybrid`` or ``either`` (the rules do not decide).
    gpu : str
        The article's GPU for the model size ("H100").
    gpu_ids : tuple of str
        Catalog ids for that GPU (the first is the canonical one).
    latency_advice, availability_advice : str
        What the latency and availability branches say ("" when none fires).
    votes : dict
        Rules that voted for each deployment.
    reason : str
        How the verdict follows from the votes.
    path : tuple of Step
        Every rule evaluated, in order, with ``fired`` True for the ones that held.
    """

    deployment: str
    gpu: str
    gpu_ids: tuple[str, ...]
    latency_advice: str
    availability_advice: str
    votes: Mapping[str, tuple[str, ...]]
    reason: str
    path: tuple[Step, ...]

    def fired(self) -> tuple[Step, ...]:
        return tuple(s for s in self.path if s.fired)

    def to_frame(self, fired_only: bool = False) -> pd.DataFrame:
        """The path as a table: rule, factor, value, test, fired, outcome, text, section."""
        steps = self.fired() if fired_only else self.path
        return pd.DataFrame(
            [{"rule": s.rule, "factor": s.factor, "value": s.value, "test": s.test,
              "fired": s.fired, "outcome": s.outcome, "text": s.text, "section": s.section}
             for s in steps],
            columns=["rule", "factor", "value", "test", "fired", "outcome", "text", "section"],
        )

    def summary(self) -> str:
        parts = [f"deployment: {self.deployment}", f"GPU: {self.gpu}"]
        if self.latency_advice:
            parts.append(f"latency: {self.latency_advice}")
        if self.availability_advice:
            parts.append(f"availability: {self.availability_advice}")
        return "; ".join(parts)


def _model_size_b(model) -> float:
    if isinstance(model, (int, float)) and not isinstance(model, bool):
        size = float(model)
    else:
        size = float(catalog.llm(model).total_params_b)
    if not math.isfinite(size) or size <= 0:
        raise HwcostError(f"model size must be a number of billions of parameters > 0, got {model!r}")
    return size


def flowchart(
    requests_per_day: float,
    model: str | float,
    latency_sla_s: float | None = None,
    availability: float | None = None,
    privacy: bool = False,
    *,
    horizon_months: float | None = None,
    traffic_pattern: str | None = None,
    frequent_model_changes: bool | None = None,
    ops_expertise: bool | None = None,
    cost_critical: bool | None = None,
    needs_customization: bool | None = None,
    mixed_workloads: bool | None = None,
    growing: bool | None = None,
    thresholds: Thresholds = Thresholds(),
) -> FlowchartResult:
    """Walk the article's selection flowchart and "when to use each option" rules.

    Parameters
    ----------
    requests_per_day : float
        Mean traffic. [1/day]
    model : str or float
        Catalog model id (its total parameter count is used) or a size. [B params]
    latency_sla_s : float, optional
        The tightest latency target (e.g. the TTFT p95 target). [s]
    availability : float, optional
        Availability target as a fraction (0.999) or percentage (99.9). [1]
    privacy : bool
        Sensitive data (privacy or data-residency requirement).
    horizon_months : float, optional
        How long the deployment is planned for. [months]
    traffic_pattern : {"stable", "variable", "baseline-plus-bursts"}, optional
        Shape of the traffic over weeks (not the daily profile).
    frequent_model_changes, ops_expertise, cost_critical, needs_customization,
    mixed_workloads, growing : bool, optional
        The qualitative conditions of "When to Use Each Option"; None = unknown, and the
        rule is skipped.
    thresholds : Thresholds
        The numbers in the rules (the article's by default).

    Returns
    -------
    FlowchartResult

    Notes
    -----
    The article lists the branches but not how to combine them; this function combines
    them as follows (a documented reading, not the article's text):

    1. Privacy is decisive: sensitive data -> ``self-hosted``.
    2. Any fired hybrid rule, or votes for both cloud and self-hosted from the traffic
       rules, -> ``hybrid``.
    3. Otherwise the deployment with more votes wins; a tie or no votes -> ``either``.
    """
    rpd = float(requests_per_day)
    if not math.isfinite(rpd) or rpd < 0:
        raise HwcostError(f"requests_per_day must be a number >= 0, got {requests_per_day!r}")
    size = _model_size_b(model)
    if latency_sla_s is not None:
        latency_sla_s = float(latency_sla_s)
        if not math.isfinite(latency_sla_s) or latency_sla_s <= 0:
            raise HwcostError(f"latency_sla_s must be > 0, got {latency_sla_s!r}")
    if availability is not None:
        availability = fraction_or_percent("availability", availability)
    if traffic_pattern is not None and traffic_pattern not in TRAFFIC_PATTERNS:
        raise HwcostError(
            f"traffic_pattern must be one of {', '.join(TRAFFIC_PATTERNS)}, got {traffic_pattern!r}"
        )
    # Sizes are compared with a tolerance: the bound of a band includes models named by it.
    tol = 1 + thresholds.size_tolerance
    size_for_bands = size / tol
    stable_high = None
    if traffic_pattern is not None:
        stable_high = (traffic_pattern == "stable"
                       and rpd >= thresholds.self_hosted_traffic_from_requests_per_day)
    values = {
        "requests_per_day": rpd,
        "model_size_b": size_for_bands,
        "latency_sla_s": latency_sla_s,
        "availability": availability,
        "privacy": bool(privacy),
        "horizon_months": horizon_months,
        "traffic_pattern": traffic_pattern,
        "frequent_model_changes": frequent_model_changes,
        "ops_expertise": ops_expertise,
        "cost_critical": cost_critical,
        "needs_customization": needs_customization,
        "mixed_workloads": mixed_workloads,
        "growing": growing,
        "stable_high_traffic": stable_high,
    }
    path: list[Step] = []
    gpu = None
    latency_advice = availability_advice = ""
    votes: dict[str, list[str]] = {"cloud": [], "self-hosted": [], "hybrid": []}
    for rule in FLOWCHART_RULES + WHEN_TO_USE_RULES:
        value = values[rule.factor]
        if rule.factor == "model_size_b" and rule.op == "<":
            value = size  # "<13B" is strict: a 13.02B model is a 13B model, not a small one
        limit = getattr(thresholds, rule.threshold) if isinstance(rule.threshold, str) and hasattr(
            thresholds, rule.threshold) else rule.threshold
        shown = size if rule.factor == "model_size_b" else value
        test = f"{rule.factor} {rule.op} {limit:g}" if isinstance(limit, (int, float)) and not isinstance(
            limit, bool) else f"{rule.factor} {rule.op} {limit}"
        if rule.factor == "model_size_b" and rule.op != "<":
            test += f" (with {thresholds.size_tolerance:.0%} tolerance)"
        if value is None:
            path.append(Step(rule.id, rule.factor, None, test, False, rule.text, rule.section,
                             "not evaluated (input not given)"))
            continue
        # Size bands are exclusive: only the first band that holds applies.
        if rule.factor == "model_size_b" and gpu is not None:
            path.append(Step(rule.id, rule.factor, shown, test, False, rule.text, rule.section,
                             "skipped (an earlier size band applied)"))
            continue
        if rule.id == "availability-basic" and availability_advice:
            path.append(Step(rule.id, rule.factor, shown, test, False, rule.text, rule.section,
                             "skipped (the 99%+ branch applied)"))
            continue
        fired = bool(_OPS[rule.op](value, limit))
        outcome = ""
        if fired:
            bits = []
            if rule.deployment:
                bits.append(f"deployment: {rule.deployment}")
                if rule.deployment in votes:
                    votes[rule.deployment].append(rule.id)
            if rule.gpu:
                gpu = rule.gpu
                bits.append(f"GPU: {rule.gpu}")
            if rule.advice and rule.factor == "latency_sla_s":
                latency_advice = rule.advice
            if rule.advice and rule.factor == "availability":
                availability_advice = rule.advice
            if rule.advice:
                bits.append(rule.advice)
            outcome = "; ".join(bits)
        path.append(Step(rule.id, rule.factor, shown, test, fired, rule.text, rule.section, outcome))

    if privacy:
        deployment = "self-hosted"
        reason = "sensitive data: the privacy branch decides (self-hosted)"
    elif votes["hybrid"]:
        deployment = "hybrid"
        reason = f"hybrid rule(s) fired: {', '.join(votes['hybrid'])}"
    elif ({"traffic-high", "self-stable-traffic"} & set(votes["self-hosted"])
          and {"traffic-low", "cloud-low-traffic", "cloud-variable-traffic"} & set(votes["cloud"])):
        deployment = "hybrid"
        reason = "traffic rules point both ways (baseline self-hosted, bursts on cloud)"
    else:
        n_cloud, n_self = len(votes["cloud"]), len(votes["self-hosted"])
        if n_cloud > n_self:
            deployment = "cloud"
        elif n_self > n_cloud:
            deployment = "self-hosted"
        else:
            deployment = "either"
        reason = (f"{n_cloud} rule(s) for cloud ({', '.join(votes['cloud']) or 'none'}), "
                  f"{n_self} for self-hosted ({', '.join(votes['self-hosted']) or 'none'})")
    return FlowchartResult(
        deployment=deployment,
        gpu=gpu,
        gpu_ids=ARTICLE_GPUS[gpu],
        latency_advice=latency_advice,
        availability_advice=availability_advice,
        votes={k: tuple(v) for k, v in votes.items()},
        reason=reason,
        path=tuple(path),
    )
