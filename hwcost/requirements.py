"""What a team asks for: the workload, its latency targets and the constraints on a plan.

One definition shared by ``economics`` (volume against capacity), ``serving`` (arrivals for
the simulator), ``recommend`` (every option ranked for the case), the ``hwcost`` command,
scenario files and the notebooks:

- :class:`Workload`: traffic volume, its daily shape, token lengths;
- :class:`SLO`: latency targets at a percentile;
- :class:`Constraints`: what an acceptable option must satisfy and what may be considered;
- :class:`Case`: the three together, built by :func:`build_case`, the one case builder. Its
  override rule is the same for the command line, scenario files and notebooks: a value given
  explicitly (not ``None``) wins over the base case (a scenario), which wins over the defaults.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace

import numpy as np

from . import catalog
from .staffing import CLOUD_STAFF_FRACTION, SELF_HOSTED_STAFF_FRACTION, operations_usd_per_year

HOURS_PER_MONTH = 730.0  # 8760 h / 12

HOURS_PER_DAY = 24
SECONDS_PER_DAY = 86_400.0

# Relative requests per hour (local time) of a business-hours interactive service: quiet at
# night, rising from 07:00, peak around 10:00-16:00. Normalised to mean 1. An illustrative
# shape, not a measurement: pass your own ``daily_profile`` from your traffic logs.
BUSINESS_HOURS_PROFILE = (
    0.25, 0.2, 0.18, 0.18, 0.2, 0.3, 0.55, 0.9, 1.3, 1.6, 1.75, 1.8,
    1.7, 1.75, 1.8, 1.75, 1.6, 1.4, 1.15, 0.95, 0.8, 0.6, 0.45, 0.32,
)
FLAT_PROFILE = (1.0,) * HOURS_PER_DAY


def _positive(name: str, value, allow_zero: bool = False) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not np.isfinite(number) or number < 0 or (number == 0 and not allow_zero):
        wanted = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {wanted}, got {value!r}")
    return number


def _positive_int(name: str, value) -> int:
    number = _positive(name, value)
    if number != int(number):
        raise ValueError(f"{name} must be a whole number of tokens, got {value!r}")
    return int(number)


@dataclass(frozen=True)
class Workload:
    """A steady traffic pattern for one model.

    Parameters
    ----------
    model : str
        Catalog model id (``llama-3.1-70b``).
    requests_per_day : float
        Mean requests per day. [1/day]
    input_tokens : int
        Mean prompt length per request. [tokens]
    output_tokens : int
        Mean generated length per request. [tokens]
    daily_profile : tuple of 24 float, optional
        Relative traffic per hour of day; scaled to mean 1. Default: flat.
    input_tokens_cv, output_tokens_cv : float
        Coefficient of variation (sd / mean) of the lengths, for simulation with
        log-normal lengths; 0 = fixed lengths.
    """

    model: str
    requests_per_day: float
    input_tokens: int = 512
    output_tokens: int = 256
    daily_profile: tuple[float, ...] = FLAT_PROFILE
    input_tokens_cv: float = 0.0
    output_tokens_cv: float = 0.0

    def __post_init__(self):
        if not isinstance(self.model, str) or not self.model.strip():
            raise ValueError(f"model must be a catalog id, got {self.model!r}")
        object.__setattr__(self, "requests_per_day", _positive("requests_per_day", self.requests_per_day))
        object.__setattr__(self, "input_tokens", _positive_int("input_tokens", self.input_tokens))
        object.__setattr__(self, "output_tokens", _positive_int("output_tokens", self.output_tokens))
        for name in ("input_tokens_cv", "output_tokens_cv"):
            object.__setattr__(self, name, _positive(name, getattr(self, name), allow_zero=True))
        profile = tuple(float(x) for x in self.daily_profile)
        if len(profile) != HOURS_PER_DAY:
            raise ValueError(
                f"daily_profile must have 24 hourly values, got {len(profile)}"
            )
        if any((not np.isfinite(x)) or x < 0 for x in profile) or sum(profile) <= 0:
            raise ValueError(
                f"daily_profile values must be finite, >= 0 and not all zero, got {profile}"
            )
        mean = sum(profile) / HOURS_PER_DAY
        object.__setattr__(self, "daily_profile", tuple(x / mean for x in profile))

    @property
    def tokens_per_request(self) -> int:
        """Input plus output tokens of one request. [tokens]"""
        return self.input_tokens + self.output_tokens

    @property
    def mean_requests_per_s(self) -> float:
        """Mean arrival rate over the day. [1/s]"""
        return self.requests_per_day / SECONDS_PER_DAY

    @property
    def peak_requests_per_s(self) -> float:
        """Arrival rate in the busiest hour of the daily profile. [1/s]"""
        return self.mean_requests_per_s * max(self.daily_profile)

    @property
    def peak_to_mean(self) -> float:
        return max(self.daily_profile)

    def hourly_requests(self) -> np.ndarray:
        """Requests in each hour of the day (24 values summing to ``requests_per_day``)."""
        return np.asarray(self.daily_profile) * self.requests_per_day / HOURS_PER_DAY

    def output_tokens_per_day(self) -> float:
        return self.requests_per_day * self.output_tokens

    def input_tokens_per_day(self) -> float:
        return self.requests_per_day * self.input_tokens


@dataclass(frozen=True)
class SLO:
    """Latency targets at a percentile. ``None`` = no target on that metric.

    Parameters
    ----------
    ttft_s : float, optional
        Time to first token target. [s]
    tpot_s : float, optional
        Time per output token target (mean decode step seen by a request). [s]
    e2e_s : float, optional
        End-to-end request latency target. [s]
    percentile : float
        Percentile the targets apply to, in (0, 100]. Default 95.
    """

    ttft_s: float | None = None
    tpot_s: float | None = None
    e2e_s: float | None = None
    percentile: float = 95.0

    def __post_init__(self):
        for name in ("ttft_s", "tpot_s", "e2e_s"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, _positive(name, value))
        p = _positive("percentile", self.percentile)
        if p > 100:
            raise ValueError(f"percentile must be in (0, 100], got {self.percentile!r}")
        object.__setattr__(self, "percentile", p)

    def targets(self) -> dict[str, float]:
        """The targets that are set, by canonical metric name."""
        return {k: v for k, v in (("ttft_s", self.ttft_s), ("tpot_s", self.tpot_s), ("e2e_s", self.e2e_s)) if v is not None}


PROFILES = {"flat": FLAT_PROFILE, "business-hours": BUSINESS_HOURS_PROFILE}

# Weeks-scale shapes of traffic, used by the article's "when to use each option" rules.
TRAFFIC_PATTERNS = ("stable", "variable", "baseline-plus-bursts")


# ----------------------------------------------------------------------------------------
# Constraints
# ----------------------------------------------------------------------------------------
KINDS = ("cloud", "self-hosted", "api")


def fraction_or_percent(name: str, value) -> float:
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
    energy_id : str, optional
        ``energy.csv`` id used for self-hosted electricity price and PUE. By default a
        datacenter GPU is priced in colocation (:data:`DATACENTER_ENERGY_ID`) and a consumer
        or workstation card in an office (:data:`OFFICE_ENERGY_ID`).
    hardware_condition : str
        ``new`` or ``used`` hardware prices for self-hosted options.
    amortization_years : float
        Service life over which self-hosted hardware is written off (straight line, no
        resale). A horizon shorter than this is charged its share of the purchase, as if the
        hardware kept its book value (resold or reused); set it equal to the horizon to
        charge the whole purchase to the project. [years]
    operations_usd_per_year : float
        Staff time and overhead of running your own hardware, whole deployment; added to
        every self-hosted option. None by default: :func:`operations_usd_per_year` prices a
        share of an administrator's time (see :data:`SELF_HOSTED_STAFF_FRACTION`). [USD/year]
    cloud_operations_usd_per_year : float
        Staff time for running the serving stack on rented GPUs (engine upgrades,
        monitoring, on-call), whole deployment; added to every cloud option. Hosted APIs
        carry none (integration work is the same for every option and is left out). None
        by default (see :data:`CLOUD_STAFF_FRACTION`). [USD/year]
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
    energy_id: str | None = None
    hardware_condition: str = "new"
    amortization_years: float = 3.0
    operations_usd_per_year: float | None = None
    cloud_operations_usd_per_year: float | None = None
    cloud_autoscale: bool = True
    include_substitute_models: bool = True

    def __post_init__(self):
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731
        if not isinstance(self.slo, SLO):
            raise ValueError(f"slo must be a hwcost.workload.SLO, got {type(self.slo).__name__}")
        for name in ("availability", "replica_availability", "spot_availability"):
            set_(name, fraction_or_percent(name, getattr(self, name)))
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
        for name in ("amortization_years",):
            v = float(getattr(self, name))
            if not math.isfinite(v) or v <= 0:
                raise ValueError(f"{name} must be a number > 0, got {getattr(self, name)!r}")
            set_(name, v)
        defaults = {"operations_usd_per_year": SELF_HOSTED_STAFF_FRACTION,
                    "cloud_operations_usd_per_year": CLOUD_STAFF_FRACTION}
        for name in ("operations_usd_per_year", "cloud_operations_usd_per_year"):
            if getattr(self, name) is None:
                set_(name, float(operations_usd_per_year(defaults[name])))
            ops = float(getattr(self, name))
            if not math.isfinite(ops) or ops < 0:
                raise ValueError(f"{name} must be a number >= 0, got {getattr(self, name)!r}")
            set_(name, ops)
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


# ----------------------------------------------------------------------------------------
# One case, and the one way to build it
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    """A workload with its constraints, and what the article's flowchart needs besides.

    Attributes
    ----------
    workload : Workload
    constraints : Constraints
        With the latency targets in ``constraints.slo``.
    traffic_pattern : str or None
        ``stable``, ``variable`` or ``baseline-plus-bursts`` (weeks-scale shape, for the
        article's "when to use" rules).
    source : str
        ``parameters`` or ``scenario <name>``.
    """

    workload: Workload
    constraints: Constraints
    traffic_pattern: str | None = None
    source: str = "parameters"

    @property
    def slo(self) -> SLO:
        return self.constraints.slo

    def with_constraints(self, **changes) -> "Case":
        """The same case with some :class:`Constraints` fields changed."""
        return replace(self, constraints=replace(self.constraints, **changes))


WORKLOAD_FIELDS = ("model", "requests_per_day", "input_tokens", "output_tokens", "daily_profile",
                   "input_tokens_cv", "output_tokens_cv")
SLO_FIELDS = ("ttft_s", "tpot_s", "e2e_s", "percentile")


def constraint_fields() -> tuple[str, ...]:
    """Names of the :class:`Constraints` fields other than ``slo``."""
    return tuple(f.name for f in fields(Constraints) if f.name != "slo")


def _profile(value):
    if isinstance(value, str):
        if value not in PROFILES:
            raise ValueError(f"daily_profile must be one of {', '.join(PROFILES)} or 24 numbers, "
                             f"got {value!r}")
        return PROFILES[value]
    return tuple(value)


def build_case(base: Case | None = None, *, source: str | None = None, **values) -> Case:
    """The one case builder: the command line, scenario files and notebooks all use it.

    Parameters
    ----------
    base : Case, optional
        The case to start from (a scenario's); default: the defaults of :class:`Workload`,
        :class:`SLO` and :class:`Constraints`.
    source : str, optional
        Where the case comes from (``parameters``, ``scenario <name>``); default the base's.
    **values
        Any of :data:`WORKLOAD_FIELDS` (``daily_profile`` as ``flat``, ``business-hours`` or 24
        numbers), :data:`SLO_FIELDS`, ``traffic_pattern`` and the :class:`Constraints` fields.
        A value of ``None`` means "not given".

    Returns
    -------
    Case
        Override rule: a value given here wins over ``base``, which wins over the defaults.

    Raises
    ------
    ValueError
        An unknown name (with the accepted names) or a value its class refuses.
    """
    given = {k: v for k, v in values.items() if v is not None}
    known = set(WORKLOAD_FIELDS) | set(SLO_FIELDS) | set(constraint_fields()) | {"traffic_pattern"}
    unknown = sorted(set(given) - known)
    if unknown:
        raise ValueError(f"unknown case field(s) {', '.join(unknown)}; accepted: "
                         f"{', '.join(sorted(known))}")
    w = {k: given[k] for k in WORKLOAD_FIELDS if k in given}
    if "daily_profile" in w:
        w["daily_profile"] = _profile(w["daily_profile"])
    if "model" in w:
        w["model"] = catalog.llm(str(w["model"])).id
    if base is not None:
        workload = replace(base.workload, **w) if w else base.workload
    else:
        if "model" not in w or "requests_per_day" not in w:
            raise ValueError("a case needs a model and requests_per_day (or a scenario that "
                             "gives them)")
        workload = Workload(**w)
    s = {k: given[k] for k in SLO_FIELDS if k in given}
    base_constraints = base.constraints if base is not None else None
    slo = base_constraints.slo if base_constraints is not None else SLO()
    if s:
        slo = replace(slo, **s)
    c = {k: given[k] for k in constraint_fields() if k in given}
    if c.get("budget_usd") == 0:
        c["budget_usd"] = None  # 0 = no cap, as on the command line
    if base_constraints is not None:
        constraints = replace(base_constraints, slo=slo, **c)
    else:
        constraints = Constraints(slo=slo, **c)
    pattern = given.get("traffic_pattern", base.traffic_pattern if base is not None else None)
    if pattern is not None and pattern not in TRAFFIC_PATTERNS:
        raise ValueError(f"traffic_pattern must be one of {', '.join(TRAFFIC_PATTERNS)}, "
                         f"got {pattern!r}")
    src = source or (base.source if base is not None else "parameters")
    return Case(workload, constraints, pattern, src)


def case_values(case: Case) -> dict:
    """A case as flat canonical names (the inverse of :func:`build_case`).

    ``build_case(**case_values(c))`` gives ``c`` back (but its ``source``); the report passes
    these to every notebook that declares a parameter of the same name, so a scenario means
    the same on every page. ``daily_profile`` is a profile name where it is one of
    :data:`PROFILES`, else the 24 numbers.
    """
    w = case.workload
    profile = next((k for k, v in PROFILES.items()
                    if np.allclose(np.asarray(v) / np.mean(v), w.daily_profile)),
                   tuple(w.daily_profile))
    out = {k: getattr(w, k) for k in WORKLOAD_FIELDS if k != "daily_profile"}
    out["daily_profile"] = profile
    out.update({k: getattr(case.constraints.slo, k) for k in SLO_FIELDS})
    out.update({k: getattr(case.constraints, k) for k in constraint_fields()})
    out["traffic_pattern"] = case.traffic_pattern
    return out


# ----------------------------------------------------------------------------------------
# A case as notebook parameters (the one mapping the report and scenario files use)
# ----------------------------------------------------------------------------------------
# Notebook parameter names that carry a case field. A notebook's parameter rule is chosen by
# its name's suffix (``_s``, ``_flag``, ``_fraction``, ``_setting``, ``_pct``), so some fields
# travel under a suffixed name; each name maps to (case field, conversion).
def _staff_pct(usd_per_year):
    return None if usd_per_year is None else round(
        100.0 * usd_per_year / operations_usd_per_year(1.0), 6)


NOTEBOOK_PARAMETERS = {
    "model": ("model", None),
    "requests_per_day": ("requests_per_day", None),
    "input_tokens": ("input_tokens", None),
    "output_tokens": ("output_tokens", None),
    "input_tokens_cv": ("input_tokens_cv", None),
    "output_tokens_cv": ("output_tokens_cv", None),
    "output_tokens_cv_pct": ("output_tokens_cv", lambda v: None if v is None else round(100.0 * v, 6)),
    "daily_profile_setting": ("daily_profile", lambda v: v if isinstance(v, str) else None),
    "traffic_pattern_setting": ("traffic_pattern", None),
    "ttft_target_s": ("ttft_s", None),
    "ttft_p95_s": ("ttft_s", None),
    "tpot_target_s": ("tpot_s", None),
    "tpot_p95_s": ("tpot_s", None),
    "availability_fraction": ("availability", None),
    "privacy_required_flag": ("privacy", None),
    "horizon_months": ("horizon_months", None),
    "budget_usd": ("budget_usd", lambda v: 0 if v is None else v),
    "amortization_years": ("amortization_years", None),
    "energy_setting": ("energy_id", None),
    "server_energy_setting": ("energy_id", None),
    "self_hosted_staff_pct": ("operations_usd_per_year", _staff_pct),
    "staff_base_pct": ("staff_base_fraction", lambda v: None if v is None else round(100.0 * v, 6)),
    "staff_per_box_pct": ("staff_per_box_fraction", lambda v: None if v is None else round(100.0 * v, 6)),
    "window_hours": ("window_hours", None),
    "window_start_hour": ("window_start_hour", None),
    "cached_input_share_fraction": ("cached_input_share", None),
    "cloud_staff_pct": ("cloud_operations_usd_per_year", _staff_pct),
}


def notebook_parameters(case: Case, declared=None) -> dict:
    """The notebook parameters that carry ``case``: ``{parameter name: value}``.

    Every name in :data:`NOTEBOOK_PARAMETERS` whose case field has a value (a latency target
    the case does not set, a custom daily profile or no electricity setting is left to the
    notebook's default). With ``declared`` (names a notebook declares), only those.
    ``hwcost report --scenario`` passes these to every notebook, so a scenario's SLO, privacy,
    availability, traffic shape, horizon, budget, electricity and staff mean the same on every
    page as in ``hwcost recommend --scenario``.
    """
    values = case_values(case)
    out = {}
    for name, (field_name, convert) in NOTEBOOK_PARAMETERS.items():
        if declared is not None and name not in declared:
            continue
        value = values.get(field_name)
        if convert is not None:
            value = convert(value)
        if value is None:
            continue
        if isinstance(value, (np.floating, np.integer)):
            value = value.item()
        out[name] = value
    return out


_METRIC_LABELS = {"ttft_s": "TTFT", "tpot_s": "TPOT", "e2e_s": "end-to-end latency"}


def describe_case(case: Case) -> dict[str, str]:
    """Every constraint of a case in words, keyed by case field (for reports and memos)."""
    w, c = case.workload, case.constraints
    values = case_values(case)
    profile = values["daily_profile"]
    out = {
        "model": f"model {w.model}",
        "requests_per_day": f"{w.requests_per_day:,.0f} requests/day",
        "input_tokens": f"{w.input_tokens:,} input tokens",
        "output_tokens": f"{w.output_tokens:,} output tokens",
        "daily_profile": f"daily traffic {profile if isinstance(profile, str) else 'custom profile'}",
        "output_tokens_cv": f"output length variation (CV) {w.output_tokens_cv:g}",
        "input_tokens_cv": f"input length variation (CV) {w.input_tokens_cv:g}",
    }
    for key in ("ttft_s", "tpot_s", "e2e_s"):
        v = getattr(c.slo, key)
        out[key] = (f"p{c.slo.percentile:g} {_METRIC_LABELS[key]} <= {v:g} s" if v is not None
                    else f"no {_METRIC_LABELS[key]} target")
    out.update({
        "availability": f"availability {c.availability:.2%}",
        "privacy": "privacy required (own hardware only)" if c.privacy else "privacy not required",
        "horizon_months": f"horizon {c.horizon_months:g} months",
        "budget_usd": f"budget {c.budget_usd:,.0f} USD" if c.budget_usd else "no budget cap",
        "amortization_years": f"hardware written off over {c.amortization_years:g} years",
        "energy_id": f"electricity {c.energy_id}" if c.energy_id else
                     "electricity by GPU class (colocation or office)",
        "operations_usd_per_year": (
            f"staff for owned hardware {_staff_pct(c.operations_usd_per_year):g}% of an administrator"
            if c.operations_usd_per_year is not None else
            f"staff for owned hardware {100 * getattr(c, 'staff_base_fraction', 0):g}% of an "
            f"administrator plus {100 * getattr(c, 'staff_per_box_fraction', 0):g}% per box"),
        "cloud_operations_usd_per_year": (
            f"staff for rented GPUs {_staff_pct(c.cloud_operations_usd_per_year):g}% of an "
            "administrator" if c.cloud_operations_usd_per_year is not None else
            "staff for rented GPUs: none"),
        "traffic_pattern": f"traffic pattern {case.traffic_pattern}" if case.traffic_pattern
                           else "traffic pattern not given",
    })
    if c.data_residency:
        out["data_residency"] = f"data must stay in {c.data_residency}"
    return out
