"""What is being served: traffic volume, its daily shape, token lengths and latency targets.

One definition shared by ``economics`` (volume against capacity), ``serving`` (arrivals for
the simulator) and ``recommend`` (the user's case).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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
