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
import operator
from dataclasses import dataclass, field, fields, replace
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from . import catalog
from .workload import SLO, Workload

ARTICLE = "Selecting Hardware for LLM Inference (source article)"
HOURS_PER_MONTH = 730.0  # 8760 h / 12


class NoFeasibleOption(ValueError):
    """No option meets every constraint; the message names the binding constraint.

    The full table (every option with the constraint it fails) is in ``.table``.
    """

    def __init__(self, message: str, table: pd.DataFrame | None = None):
        super().__init__(message)
        self.table = table


# ----------------------------------------------------------------------------------------
# Constraints
# ----------------------------------------------------------------------------------------
KINDS = ("cloud", "self-hosted", "api")


def _fraction_or_percent(name: str, value) -> float:
    """Accept 0.999, 99.9 or '99.9%' for an availability target."""
    text = str(value).strip()
    try:
        number = float(text.rstrip("%"))
    except ValueError:
        raise ValueError(f"{name} must be a fraction like 0.999 or a percentage like 99.9%, "
                         f"got {value!r}") from None
    if text.endswith("%") or number > 1:
        number /= 100
    if not (0 < number < 1) and number != 1:
        raise ValueError(f"{name} must be in (0, 1] (or a percentage up to 100%), got {value!r}")
    return number


def _as_tuple(name: str, value, check=None) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        items = [v.strip() for v in value.split(",") if v.strip()]
    else:
        items = [str(v).strip() for v in value]
    if not items:
        raise ValueError(f"{name} must list at least one value when given, got {value!r}")
    return tuple(check(v) if check else v for v in items)


def _precision(value: str) -> str:
    text = str(value).strip().lower()
    if text not in catalog.PRECISIONS:
        raise ValueError(f"unknown precision {value!r}; expected one of {', '.join(catalog.PRECISIONS)}")
    return text


@dataclass(frozen=True)
class Constraints:
    """What an acceptable option must satisfy, and what may be considered.

    Parameters
    ----------
    slo : SLO
        Latency targets at a percentile (``SLO(ttft_s=1.0, tpot_s=0.1)``). [s]
    availability : float
        Fraction of time the service must be up, e.g. 0.999 (``99.9`` and ``"99.9%"`` are
        accepted). See the module's availability rule. [1]
    privacy : bool
        The data may not leave infrastructure you control: removes cloud and API options.
    data_residency : str, optional
        Region the data must stay in (matched case-insensitively against a cloud offer's
        ``region``; API options fail it, self-hosted options pass it).
    horizon_months : float
        Planning horizon over which total cost is counted. [months]
    budget_usd : float, optional
        Cap on the total cost over the horizon. [USD]
    allow_cloud, allow_self_hosted, allow_api : bool
        Which kinds of option to consider.
    engines : tuple of str, optional
        Serving engines to consider (``perf`` engine ids); default: the generic engine only.
    precisions : tuple of str, optional
        Weight precisions to consider; default: all of ``catalog.PRECISIONS``.
    gpus : tuple of str, optional
        GPU ids to consider; default: the whole catalog.
    providers : tuple of str, optional
        Cloud/API providers to consider; default: all.
    n_gpus_options : tuple of int
        GPUs per replica (tensor parallel degree) to try. [GPUs]
    max_gpus : int, optional
        Cap on the total GPUs of a plan. [GPUs]
    replica_availability : float
        Assumed availability of one replica (on-demand cloud or self-hosted). [1]
    spot_availability : float
        Assumed availability of one replica on spot instances. [1]
    max_utilization : float
        Highest fraction of a replica's SLO-compliant capacity planned for at peak. [1]
    energy_id : str
        ``energy.csv`` id used for self-hosted electricity price and PUE.
    hardware_condition : str
        ``new`` or ``used`` hardware prices for self-hosted options.
    cloud_autoscale : bool
        Cloud options follow the daily profile hour by hour (replicas are added and
        removed); self-hosted options are sized for the peak hour and run all day.
    include_substitute_models : bool
        API options may serve a different model of the same size class (within 15% of the
        parameter count) when no API serves the workload's model itself.
    """

    slo: SLO = field(default_factory=SLO)
    availability: float = 0.99
    privacy: bool = False
    data_residency: str | None = None
    horizon_months: float = 12.0
    budget_usd: float | None = None
    allow_cloud: bool = True
    allow_self_hosted: bool = True
    allow_api: bool = True
    engines: tuple[str, ...] | None = None
    precisions: tuple[str, ...] | None = None
    gpus: tuple[str, ...] | None = None
    providers: tuple[str, ...] | None = None
    n_gpus_options: tuple[int, ...] = (1, 2, 4, 8)
    max_gpus: int | None = None
    replica_availability: float = 0.99
    spot_availability: float = 0.95
    max_utilization: float = 0.8
    energy_id: str = "us-commercial"
    hardware_condition: str = "new"
    cloud_autoscale: bool = True
    include_substitute_models: bool = True

    def __post_init__(self):
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731
        if not isinstance(self.slo, SLO):
            raise ValueError(f"slo must be a hwcost.workload.SLO, got {type(self.slo).__name__}")
        for name in ("availability", "replica_availability", "spot_availability"):
            set_(name, _fraction_or_percent(name, getattr(self, name)))
        for name in ("privacy", "allow_cloud", "allow_self_hosted", "allow_api",
                     "cloud_autoscale", "include_substitute_models"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise ValueError(f"{name} must be true or false, got {getattr(self, name)!r}")
            set_(name, bool(getattr(self, name)))
        h = float(self.horizon_months)
        if not math.isfinite(h) or h <= 0:
            raise ValueError(f"horizon_months must be a number > 0, got {self.horizon_months!r}")
        set_("horizon_months", h)
        if self.budget_usd is not None:
            b = float(self.budget_usd)
            if not math.isfinite(b) or b <= 0:
                raise ValueError(f"budget_usd must be a number > 0, got {self.budget_usd!r}")
            set_("budget_usd", b)
        u = float(self.max_utilization)
        if not 0 < u <= 1:
            raise ValueError(f"max_utilization must be in (0, 1], got {self.max_utilization!r}")
        set_("max_utilization", u)
        if self.data_residency is not None:
            text = str(self.data_residency).strip()
            set_("data_residency", text or None)
        set_("precisions", _as_tuple("precisions", self.precisions, _precision))
        set_("engines", _as_tuple("engines", self.engines, lambda v: v.lower()))
        set_("gpus", _as_tuple("gpus", self.gpus, lambda v: catalog.gpu(v).id))
        set_("providers", _as_tuple("providers", self.providers, lambda v: v.lower()))
        counts = tuple(int(n) for n in self.n_gpus_options)
        if not counts or any(n < 1 or n > 72 for n in counts):
            raise ValueError(f"n_gpus_options must be whole numbers in 1..72, got {self.n_gpus_options!r}")
        set_("n_gpus_options", tuple(sorted(set(counts))))
        if self.max_gpus is not None and int(self.max_gpus) < 1:
            raise ValueError(f"max_gpus must be >= 1, got {self.max_gpus!r}")
        if self.hardware_condition not in ("new", "used"):
            raise ValueError(f"hardware_condition must be 'new' or 'used', got {self.hardware_condition!r}")
        self._check_contradictions()

    def _check_contradictions(self) -> None:
        problems = []
        if not (self.allow_cloud or self.allow_self_hosted or self.allow_api):
            problems.append("allow_cloud, allow_self_hosted and allow_api are all false: nothing to consider")
        if self.privacy and not self.allow_self_hosted:
            problems.append(
                "privacy=true allows only self-hosted options, but allow_self_hosted=false"
            )
        if self.data_residency and not (self.allow_cloud or self.allow_self_hosted):
            problems.append(
                f"data_residency={self.data_residency!r} cannot be met by API options, "
                "and cloud and self-hosted options are not allowed"
            )
        if self.availability >= 1:
            problems.append("availability=100% cannot be met by any plan; use e.g. 0.9999")
        if self.max_gpus is not None and min(self.n_gpus_options) > int(self.max_gpus):
            problems.append(
                f"max_gpus={self.max_gpus} is below the smallest n_gpus_options "
                f"({min(self.n_gpus_options)})"
            )
        if problems:
            raise ValueError("contradictory constraints: " + "; ".join(problems))

    @property
    def horizon_hours(self) -> float:
        """Planning horizon in hours. [h]"""
        return self.horizon_months * HOURS_PER_MONTH

    def allowed_kinds(self) -> tuple[str, ...]:
        kinds = []
        if self.allow_cloud and not self.privacy:
            kinds.append("cloud")
        if self.allow_self_hosted:
            kinds.append("self-hosted")
        if self.allow_api and not self.privacy:
            kinds.append("api")
        return tuple(kinds)


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
        raise ValueError(f"n_replicas must be >= 1, got {n_replicas!r}")
    a = float(replica_availability)
    for k in range(max_spares + 1):
        total = n + k
        p_up = sum(math.comb(total, j) * a**j * (1 - a) ** (total - j) for j in range(n, total + 1))
        if p_up >= availability - 1e-12:
            return k
    return None


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
TRAFFIC_PATTERNS = ("stable", "variable", "baseline-plus-bursts")


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
        raise ValueError(f"model size must be a number of billions of parameters > 0, got {model!r}")
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
        raise ValueError(f"requests_per_day must be a number >= 0, got {requests_per_day!r}")
    size = _model_size_b(model)
    if latency_sla_s is not None:
        latency_sla_s = float(latency_sla_s)
        if not math.isfinite(latency_sla_s) or latency_sla_s <= 0:
            raise ValueError(f"latency_sla_s must be > 0, got {latency_sla_s!r}")
    if availability is not None:
        availability = _fraction_or_percent("availability", availability)
    if traffic_pattern is not None and traffic_pattern not in TRAFFIC_PATTERNS:
        raise ValueError(
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
