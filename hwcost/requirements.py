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

from dataclasses import dataclass, field, fields, replace

import numpy as np

from . import catalog, validate
from .errors import HwcostError
from .staffing import (  # noqa: F401
    CLOUD_STAFF_FRACTION,
    SELF_HOSTED_STAFF_FRACTION,
    STAFF_BASE_FRACTION,
    STAFF_PER_BOX_FRACTION,
    operations_usd_per_year,
)
from .units import HOURS_PER_DAY, HOURS_PER_MONTH, SECONDS_PER_DAY  # noqa: F401  (re-exported)

# Relative requests per hour (local time) of a business-hours interactive service: quiet at
# night, rising from 07:00, peak around 10:00-16:00. Normalised to mean 1. An illustrative
# shape, not a measurement: pass your own ``daily_profile`` from your traffic logs.
BUSINESS_HOURS_PROFILE = (
    0.25, 0.2, 0.18, 0.18, 0.2, 0.3, 0.55, 0.9, 1.3, 1.6, 1.75, 1.8,
    1.7, 1.75, 1.8, 1.75, 1.6, 1.4, 1.15, 0.95, 0.8, 0.6, 0.45, 0.32,
)
FLAT_PROFILE = (1.0,) * HOURS_PER_DAY


#: Most requests per day a workload may describe (about 12 million per second): far above
#: any deployment, and low enough that replica counts and costs stay exact. [1/day]
MAX_REQUESTS_PER_DAY = 1e12
#: Longest prompt or output of one request the models describe (the largest context window
#: in the catalog is 10 million tokens). [tokens]
MAX_TOKENS = 10_000_000
#: Most GPUs in one replica or one plan. [GPUs]
MAX_GPUS = 4096
#: Longest planning horizon (a century). [months]
MAX_HORIZON_MONTHS = 1200


def _positive(name: str, value, allow_zero: bool = False) -> float:
    rule = validate.non_negative if allow_zero else validate.positive
    return rule(name, value)


def _positive_int(name: str, value) -> int:
    return validate.positive_int(name, value, high=MAX_TOKENS)


def window_mask(start_hour: float, hours: float) -> tuple[float, ...]:
    """Share of each hour of the day inside a window of ``hours`` from ``start_hour``
    (wrapping past midnight): 24 values in [0, 1] summing to ``hours``."""
    out = []
    for h in range(HOURS_PER_DAY):
        inside = 0.0
        for shift in (0.0, HOURS_PER_DAY):  # the window may wrap past midnight
            lo, hi = start_hour - shift, start_hour - shift + hours
            inside += max(0.0, min(h + 1.0, hi) - max(float(h), lo))
        out.append(min(inside, 1.0))
    return tuple(out)


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
    window_hours : float, optional
        Batch work: the day's requests are processed within this many hours (8 = a nightly
        window), starting at ``window_start_hour``; outside it no request arrives. The
        daily profile is cut to the window (and rescaled to mean 1), so the peak rate is the
        day's volume over the window. None = requests arrive over the whole day. [h]
    window_start_hour : float
        Hour of day the window opens (0 = midnight), in [0, 24). [h]
    cached_input_share : float
        Share of input tokens a hosted API serves from its prompt cache (a shared system
        prompt, a document asked about repeatedly), billed at the cached-input price where the
        provider publishes one; in [0, 1]. [-]
    """

    model: str
    requests_per_day: float
    input_tokens: int = 512
    output_tokens: int = 256
    daily_profile: tuple[float, ...] = FLAT_PROFILE
    input_tokens_cv: float = 0.0
    output_tokens_cv: float = 0.0
    window_hours: float | None = None
    window_start_hour: float = 0.0
    cached_input_share: float = 0.0

    def __post_init__(self):
        if not isinstance(self.model, str) or not self.model.strip():
            raise HwcostError(f"model must be a catalog id, got {self.model!r}")
        object.__setattr__(self, "requests_per_day", validate.positive(
            "requests_per_day", self.requests_per_day, high=MAX_REQUESTS_PER_DAY))
        object.__setattr__(self, "input_tokens", _positive_int("input_tokens", self.input_tokens))
        object.__setattr__(self, "output_tokens", _positive_int("output_tokens", self.output_tokens))
        for name in ("input_tokens_cv", "output_tokens_cv"):
            object.__setattr__(self, name, _positive(name, getattr(self, name), allow_zero=True))
        if isinstance(self.daily_profile, str) or not hasattr(self.daily_profile, "__len__"):
            raise validate.fail("daily_profile", "24 hourly numbers", self.daily_profile)
        profile = tuple(validate.non_negative("daily_profile", self.daily_profile, array=True))
        if len(profile) != HOURS_PER_DAY:
            raise HwcostError(
                f"daily_profile must have 24 hourly values, got {len(profile)}"
            )
        if any((not np.isfinite(x)) or x < 0 for x in profile) or sum(profile) <= 0:
            raise HwcostError(
                f"daily_profile values must be finite, >= 0 and not all zero, got {profile}"
            )
        start = _positive("window_start_hour", self.window_start_hour, allow_zero=True)
        if start >= HOURS_PER_DAY:
            raise HwcostError(f"window_start_hour must be in [0, 24), got {self.window_start_hour!r}")
        object.__setattr__(self, "window_start_hour", start)
        if self.window_hours is not None:
            hours = _positive("window_hours", self.window_hours)
            if hours > HOURS_PER_DAY:
                raise HwcostError(f"window_hours must be in (0, 24], got {self.window_hours!r}")
            object.__setattr__(self, "window_hours", hours)
            cut = tuple(x * w for x, w in zip(profile, window_mask(start, hours)))
            if sum(cut) <= 0:
                raise HwcostError(f"daily_profile has no traffic inside the {hours:g} h window "
                                 f"starting at {start:g} h")
            profile = cut
        share = _positive("cached_input_share", self.cached_input_share, allow_zero=True)
        if share > 1:
            raise HwcostError(f"cached_input_share must be in [0, 1], got {self.cached_input_share!r}")
        object.__setattr__(self, "cached_input_share", share)
        mean = sum(profile) / HOURS_PER_DAY
        object.__setattr__(self, "daily_profile", tuple(x / mean for x in profile))

    @property
    def is_batch(self) -> bool:
        """Work processed within a window (``window_hours`` given). [-]"""
        return self.window_hours is not None

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
        p = validate.positive("percentile", self.percentile, high=100)
        object.__setattr__(self, "percentile", p)

    def targets(self) -> dict[str, float]:
        """The targets that are set, by canonical metric name."""
        pairs = (("ttft_s", self.ttft_s), ("tpot_s", self.tpot_s), ("e2e_s", self.e2e_s))
        return {k: v for k, v in pairs if v is not None}


# ----------------------------------------------------------------------------------------
# One capacity rule (recommend, the serving simulator, the CLI, scenario files, notebooks)
# ----------------------------------------------------------------------------------------
# A replica's planning capacity is the highest request rate at which it meets every latency
# target, and at most this share of its saturation throughput (the rate with requests always
# waiting): a queue that nearly never drains is not capacity, and a simulation of a few
# thousand requests cannot show a queue that builds slowly at 99 %.
MAX_UTILIZATION = 0.9
# With no latency target (batch work judged only on finishing within its window) a replica
# may run close to saturation: the small margin covers length variation and restarts.
BATCH_MAX_UTILIZATION = 0.97


def planning_utilization(slo: "SLO | None" = None) -> float:
    """Share of a replica's saturation throughput that capacity planning counts on.

    :data:`MAX_UTILIZATION` when ``slo`` sets a latency target, else
    :data:`BATCH_MAX_UTILIZATION`. Busy time is measured against the same saturation
    throughput: a replica serving ``r`` requests/s with saturation rate ``s`` is busy
    ``r / s`` of the time (:func:`busy_share`). [-]
    """
    if slo is not None and slo.targets():
        return MAX_UTILIZATION
    return BATCH_MAX_UTILIZATION


def busy_share(requests_per_s, saturation_requests_per_s):
    """Share of time a replica is busy: its load over its saturation throughput. [-]

    The one busy-time definition: utilization of owned or rented replicas is reported
    against saturation (what the hardware could do flat out), not against the lower
    capacity that latency targets allow.
    """
    r = np.asarray(requests_per_s, dtype=float)
    s = np.asarray(saturation_requests_per_s, dtype=float)
    if np.any(s <= 0) or not np.all(np.isfinite(s)):
        raise HwcostError(f"saturation_requests_per_s must be > 0, got {saturation_requests_per_s!r}")
    out = r / s
    return float(out) if out.ndim == 0 else out


PROFILES = {"flat": FLAT_PROFILE, "business-hours": BUSINESS_HOURS_PROFILE}

# Weeks-scale shapes of traffic, used by the article's "when to use each option" rules.
TRAFFIC_PATTERNS = ("stable", "variable", "baseline-plus-bursts")


# ----------------------------------------------------------------------------------------
# Constraints
# ----------------------------------------------------------------------------------------
KINDS = ("cloud", "self-hosted", "api")


fraction_or_percent = validate.fraction_or_percent


def _as_tuple(name: str, value, check=None) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        items = [v.strip() for v in value.split(",") if v.strip()]
    elif isinstance(value, (list, tuple, set, frozenset)) and all(isinstance(v, str) for v in value):
        items = [v.strip() for v in value if v.strip()]
    else:
        raise validate.fail(name, "a list of ids or a comma-separated text", value)
    if not items:
        raise validate.fail(name, "a list of at least one id when given", value)
    return tuple(check(v) if check else v for v in items)


GPU_SEGMENTS = ("datacenter", "workstation", "consumer")
SEGMENTS = GPU_SEGMENTS + ("cloud", "api")


def _segment(value: str) -> str:
    return validate.choice("segments", str(value).strip().lower(), SEGMENTS)


def _precision(value: str) -> str:
    return validate.choice("precisions", value, catalog.PRECISIONS)


def known_providers() -> tuple[str, ...]:
    """Every provider named in the cloud and API price tables (:func:`hwcost.catalog.providers`)."""
    return tuple(catalog.providers())


def _provider(value: str) -> str:
    text = value.strip().lower()
    known = known_providers()
    if text not in known:
        rule = "names from cloud_prices.csv or api_prices.csv"
        raise validate.InvalidValue(f"{validate.fail('providers', rule, value)}; "
                                    f"{validate.did_you_mean(text, known)}")
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
        Cap on the money spent up front: the capex of owned hardware (GPUs, hosts,
        networking, setup). Rented GPUs and hosted APIs spend nothing up front. [USD]
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
    max_utilization : float, optional
        Highest share of a replica's saturation throughput planned for at peak; default
        :func:`planning_utilization` of the SLO (:data:`MAX_UTILIZATION` with latency
        targets, :data:`BATCH_MAX_UTILIZATION` without). [1]
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
    operations_usd_per_year : float, optional
        A flat staff cost for running your own hardware, whole deployment, whatever its size.
        None by default: staff is ``staff_base_fraction + staff_per_box_fraction x boxes`` of
        one administrator (:func:`operations_usd_per_year`). [USD/year]
    staff_base_fraction, staff_per_box_fraction : float
        Shares of one administrator for an owned deployment and for each box (server,
        workstation, rack) in it (:data:`STAFF_BASE_FRACTION`,
        :data:`STAFF_PER_BOX_FRACTION`). [1]
    segments : tuple of str, optional
        Which options to consider by segment: ``datacenter``, ``workstation`` and
        ``consumer`` (owned GPUs of that segment), ``cloud`` (rented), ``api`` (hosted).
        Default: all. [-]
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
    max_utilization: float | None = None
    energy_id: str | None = None
    hardware_condition: str = "new"
    amortization_years: float = 3.0
    operations_usd_per_year: float | None = None
    cloud_operations_usd_per_year: float | None = None
    cloud_autoscale: bool = True
    include_substitute_models: bool = True
    staff_base_fraction: float = STAFF_BASE_FRACTION
    staff_per_box_fraction: float = STAFF_PER_BOX_FRACTION
    segments: tuple[str, ...] | None = None

    def __post_init__(self):
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731
        if not isinstance(self.slo, SLO):
            raise HwcostError(f"slo must be a hwcost.workload.SLO, got {type(self.slo).__name__}")
        for name in ("availability", "replica_availability", "spot_availability"):
            set_(name, fraction_or_percent(name, getattr(self, name)))
        for name in ("privacy", "allow_cloud", "allow_self_hosted", "allow_api",
                     "cloud_autoscale", "include_substitute_models"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise validate.fail(name, "true or false", getattr(self, name))
            set_(name, bool(getattr(self, name)))
        set_("horizon_months", validate.positive("horizon_months", self.horizon_months,
                                                 high=MAX_HORIZON_MONTHS))
        set_("budget_usd", validate.optional(validate.positive, "budget_usd", self.budget_usd))
        set_("max_utilization", validate.optional(validate.fraction, "max_utilization",
                                                  self.max_utilization))
        if self.data_residency is not None:
            text = str(self.data_residency).strip()
            set_("data_residency", catalog.residency(text) if text else None)
        set_("precisions", _as_tuple("precisions", self.precisions, _precision))
        set_("engines", _as_tuple("engines", self.engines, lambda v: v.lower()))
        set_("gpus", _as_tuple("gpus", self.gpus, lambda v: catalog.gpu(v).id))
        set_("providers", _as_tuple("providers", self.providers, _provider))
        options = self.n_gpus_options
        if isinstance(options, (str, bytes)) or not hasattr(options, "__iter__") or not len(options):
            raise validate.fail("n_gpus_options", "a list of whole numbers from 1 to 72", options)
        counts = tuple(validate.positive_int("n_gpus_options", n, high=72) for n in options)
        set_("n_gpus_options", tuple(sorted(set(counts))))
        set_("max_gpus", validate.optional(validate.positive_int, "max_gpus", self.max_gpus,
                                           high=MAX_GPUS))
        set_("amortization_years", validate.positive("amortization_years",
                                                     self.amortization_years, high=100))
        for name in ("staff_base_fraction", "staff_per_box_fraction"):
            set_(name, validate.non_negative(name, getattr(self, name)))
        set_("segments", _as_tuple("segments", self.segments, _segment))
        if self.cloud_operations_usd_per_year is None:
            set_("cloud_operations_usd_per_year", float(operations_usd_per_year(CLOUD_STAFF_FRACTION)))
        for name in ("operations_usd_per_year", "cloud_operations_usd_per_year"):
            if getattr(self, name) is None:
                continue  # owned hardware: staff per box (see staff_usd_per_year)
            set_(name, validate.non_negative(name, getattr(self, name)))
        set_("hardware_condition", validate.choice("hardware_condition", self.hardware_condition,
                                                   ("new", "used")))
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
            raise HwcostError("contradictory constraints: " + "; ".join(problems))

    @property
    def horizon_hours(self) -> float:
        """Planning horizon in hours. [h]"""
        return self.horizon_months * HOURS_PER_MONTH

    def allowed_kinds(self) -> tuple[str, ...]:
        seg = self.segments
        kinds = []
        if self.allow_cloud and not self.privacy and (seg is None or "cloud" in seg):
            kinds.append("cloud")
        if self.allow_self_hosted and (seg is None or set(seg) & set(GPU_SEGMENTS)):
            kinds.append("self-hosted")
        if self.allow_api and not self.privacy and (seg is None or "api" in seg):
            kinds.append("api")
        return tuple(kinds)

    @property
    def utilization_cap(self) -> float:
        """``max_utilization``, or the capacity rule's share for this SLO when not given. [1]"""
        if self.max_utilization is None:
            return planning_utilization(self.slo)
        return self.max_utilization

    def allows_segment(self, segment: str) -> bool:
        """An owned GPU of this segment may be considered."""
        return self.segments is None or segment in self.segments

    def staff_usd_per_year(self, n_boxes: int) -> float:
        """Staff for an owned deployment of ``n_boxes`` boxes: the flat
        ``operations_usd_per_year`` when given, else base + per-box shares. [USD/year]"""
        if self.operations_usd_per_year is not None:
            return float(self.operations_usd_per_year)
        return float(operations_usd_per_year(self.staff_base_fraction
                                             + self.staff_per_box_fraction * int(n_boxes)))


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
                   "input_tokens_cv", "output_tokens_cv", "window_hours", "window_start_hour",
                   "cached_input_share")
SLO_FIELDS = ("ttft_s", "tpot_s", "e2e_s", "percentile")


def constraint_fields() -> tuple[str, ...]:
    """Names of the :class:`Constraints` fields other than ``slo``."""
    return tuple(f.name for f in fields(Constraints) if f.name != "slo")


def daily_profile(value) -> tuple[float, ...]:
    """A daily profile from its name (:data:`PROFILES`) or 24 relative hourly weights.

    Raises
    ------
    HwcostError
        An unknown name, or something that is neither a name nor a list of numbers.
    """
    if isinstance(value, str):
        if value not in PROFILES:
            raise HwcostError(f"daily_profile must be one of {', '.join(PROFILES)} or 24 numbers, "
                              f"got {value!r}")
        return PROFILES[value]
    if isinstance(value, (list, tuple)):
        return tuple(value)
    raise HwcostError(f"daily_profile must be one of {', '.join(PROFILES)} or 24 numbers, "
                      f"got {value!r}")


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
        raise HwcostError(f"unknown case field(s) {', '.join(unknown)}; accepted: "
                         f"{', '.join(sorted(known))}")
    w = {k: given[k] for k in WORKLOAD_FIELDS if k in given}
    if "daily_profile" in w:
        w["daily_profile"] = daily_profile(w["daily_profile"])
    if "model" in w:
        w["model"] = catalog.llm(str(w["model"])).id
    if base is not None:
        workload = replace(base.workload, **w) if w else base.workload
    else:
        if "model" not in w or "requests_per_day" not in w:
            raise HwcostError("a case needs a model and requests_per_day (or a scenario that "
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
        raise HwcostError(f"traffic_pattern must be one of {', '.join(TRAFFIC_PATTERNS)}, "
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
