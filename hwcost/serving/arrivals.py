"""Request streams for the serving simulator: arrival times and token lengths.

Private helper of :mod:`hwcost.serving`; use ``serving.Arrivals`` and ``serving.Lengths``.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from .. import validate
from ..errors import HwcostError
from ..units import HOURS_PER_DAY, SECONDS_PER_HOUR
from ..workload import Workload


def _number(name: str, value, *, positive: bool = True, allow_zero: bool = False) -> float:
    if allow_zero or not positive:
        return validate.non_negative(name, value)
    return validate.positive(name, value)


def _count(name: str, value) -> int:
    return validate.positive_int(name, value)


# ----------------------------------------------------------------------------------------
# Token lengths
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Lengths:
    """A distribution of token counts per request (prompt or output).

    Build with :meth:`fixed`, :meth:`lognormal` or :meth:`geometric`; a plain ``int``
    is accepted wherever a ``Lengths`` is and means :meth:`fixed`.

    Parameters
    ----------
    kind : {"fixed", "lognormal", "geometric"}
        Family.
    mean : float
        Mean length. [tokens]
    sd : float
        Standard deviation (``lognormal`` only; 0 otherwise). [tokens]
    """

    kind: str
    mean: float
    sd: float = 0.0

    def __post_init__(self):
        if self.kind not in ("fixed", "lognormal", "geometric"):
            raise HwcostError(
                f"Lengths kind must be 'fixed', 'lognormal' or 'geometric', got {self.kind!r}"
            )
        mean = _number("mean token length", self.mean)
        if mean < 1:
            raise HwcostError(f"mean token length must be >= 1 token, got {self.mean!r}")
        if self.kind == "fixed" and mean != int(mean):
            raise HwcostError(f"a fixed token length must be a whole number, got {self.mean!r}")
        sd = _number("token length sd", self.sd, allow_zero=True)
        if self.kind != "lognormal" and sd != 0:
            raise HwcostError(
                f"sd applies to lognormal lengths only, got sd={self.sd!r} for {self.kind}")
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "sd", sd)

    @classmethod
    def fixed(cls, tokens: int) -> "Lengths":
        """Every request has ``tokens`` tokens. [tokens]"""
        return cls("fixed", tokens)

    @classmethod
    def lognormal(cls, mean: float, sd: float) -> "Lengths":
        """Log-normal with the given mean and standard deviation, rounded to whole tokens
        (at least 1). ``sd = 0`` gives fixed lengths (rounded mean). [tokens]"""
        return cls("lognormal", mean, sd)

    @classmethod
    def geometric(cls, mean: float) -> "Lengths":
        """Geometric on {1, 2, ...} with the given mean: the discrete memoryless law, so a
        fixed per-token cost gives (nearly) exponential service times, as in M/M/1. [tokens]"""
        return cls("geometric", mean)

    @classmethod
    def from_cv(cls, mean: float, cv: float) -> "Lengths":
        """Log-normal with coefficient of variation ``cv`` (sd / mean); fixed if ``cv == 0``."""
        cv = _number("cv", cv, allow_zero=True)
        if cv == 0:
            return cls.fixed(int(round(_number("mean", mean))))
        return cls.lognormal(mean, cv * mean)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` lengths as an int64 array (always ``n`` draws from ``rng``, whatever the kind,
        so streams stay aligned across kinds). [tokens]"""
        if self.kind == "fixed":
            rng.random(n)
            return np.full(n, int(self.mean), dtype=np.int64)
        if self.kind == "geometric":
            return rng.geometric(1.0 / self.mean, size=n).astype(np.int64)
        if self.sd == 0:
            rng.random(n)
            return np.full(n, max(1, int(round(self.mean))), dtype=np.int64)
        sigma2 = math.log1p((self.sd / self.mean) ** 2)
        mu = math.log(self.mean) - sigma2 / 2
        x = rng.lognormal(mu, math.sqrt(sigma2), size=n)
        return np.maximum(1, np.rint(x)).astype(np.int64)


def _as_lengths(name: str, value) -> Lengths:
    if isinstance(value, Lengths):
        return value
    if isinstance(value, (int, np.integer, float, np.floating)) and not isinstance(value, bool):
        return Lengths.fixed(_count(name, value))
    raise HwcostError(f"{name} must be a whole number of tokens or a serving.Lengths, got {value!r}")


# ----------------------------------------------------------------------------------------
# Arrivals
# ----------------------------------------------------------------------------------------
def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a, copy=True)
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class Arrivals:
    """A stream of requests: arrival times and token lengths, sorted by arrival.

    Build with :meth:`poisson`, :meth:`gamma_bursty`, :meth:`mmpp`, :meth:`daily_profile`,
    :meth:`from_workload` or :meth:`from_trace`, or directly from arrays.

    Parameters
    ----------
    arrival_s : array of float
        Arrival time of each request, non-decreasing, >= 0. [s]
    input_tokens : array of int
        Prompt length of each request, >= 1. [tokens]
    output_tokens : array of int
        Tokens generated for each request, >= 1. [tokens]
    description : str
        How the stream was made (for reports).
    """

    arrival_s: np.ndarray
    input_tokens: np.ndarray
    output_tokens: np.ndarray
    description: str = field(default="custom")

    def __post_init__(self):
        t = np.asarray(self.arrival_s, dtype=float).ravel()
        n = t.size
        if n == 0:
            raise HwcostError("Arrivals needs at least one request, got an empty stream")
        if not np.all(np.isfinite(t)) or np.any(t < 0):
            bad = int(np.flatnonzero(~np.isfinite(t) | (t < 0))[0])
            raise HwcostError(f"arrival_s must be finite and >= 0; request {bad} has {t[bad]!r}")
        if np.any(np.diff(t) < 0):
            bad = int(np.flatnonzero(np.diff(t) < 0)[0]) + 1
            raise HwcostError(
                f"arrival_s must be sorted (non-decreasing); request {bad} arrives at {t[bad]!r} "
                f"s, before request {bad - 1} at {t[bad - 1]!r} s"
            )
        tokens = {}
        for name in ("input_tokens", "output_tokens"):
            raw = np.asarray(getattr(self, name))
            if raw.ndim == 0:
                raw = np.full(n, raw)
            raw = raw.ravel()
            if raw.size != n:
                raise HwcostError(f"{name} has {raw.size} values for {n} arrivals")
            x = raw.astype(float)
            bad = ~np.isfinite(x) | (x < 1) | (x != np.floor(x))
            if np.any(bad):
                i = int(np.flatnonzero(bad)[0])
                raise HwcostError(
                    f"{name} must be whole numbers >= 1 token; request {i} has {raw[i]!r}"
                )
            tokens[name] = x.astype(np.int64)
        object.__setattr__(self, "arrival_s", _frozen(t))
        object.__setattr__(self, "input_tokens", _frozen(tokens["input_tokens"]))
        object.__setattr__(self, "output_tokens", _frozen(tokens["output_tokens"]))

    def __len__(self) -> int:
        return int(self.arrival_s.size)

    @property
    def n_requests(self) -> int:
        return len(self)

    @property
    def span_s(self) -> float:
        """Time from the first to the last arrival. [s]"""
        return float(self.arrival_s[-1] - self.arrival_s[0])

    @property
    def mean_requests_per_s(self) -> float:
        """Observed mean arrival rate, (n - 1) / span (inf-free: 0 for a single instant). [1/s]"""
        return (len(self) - 1) / self.span_s if self.span_s > 0 else 0.0

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {"arrival_s": self.arrival_s, "input_tokens": self.input_tokens,
             "output_tokens": self.output_tokens}
        )

    def take(self, index) -> "Arrivals":
        """The sub-stream of the requests at ``index`` (sorted positions)."""
        idx = np.asarray(index)
        return Arrivals(self.arrival_s[idx], self.input_tokens[idx], self.output_tokens[idx],
                        self.description)

    # -- generators ------------------------------------------------------------------
    @staticmethod
    def _horizon(n, duration_s) -> tuple[int | None, float | None]:
        if (n is None) == (duration_s is None):
            raise HwcostError("give exactly one of n (number of requests) or duration_s")
        if n is not None:
            return _count("n", n), None
        return None, _number("duration_s", duration_s)

    @classmethod
    def _with_lengths(cls, times, input_tokens, output_tokens, rng, description):
        lin = _as_lengths("input_tokens", input_tokens)
        lout = _as_lengths("output_tokens", output_tokens)
        n = times.size
        if n == 0:
            raise HwcostError(f"{description}: no request arrived in the horizon; "
                             "raise the rate or the duration")
        return cls(times, lin.sample(n, rng), lout.sample(n, rng), description)

    @classmethod
    def poisson(cls, rate_per_s: float, n: int | None = None, *, duration_s: float | None = None,
                input_tokens=512, output_tokens=128, seed: int = 0) -> "Arrivals":
        """Poisson arrivals (exponential gaps) at ``rate_per_s``.

        Parameters
        ----------
        rate_per_s : float
            Mean arrival rate. [1/s]
        n : int, optional
            Number of requests (first arrival after one gap). Give ``n`` or ``duration_s``.
        duration_s : float, optional
            Horizon; the count is then Poisson. [s]
        input_tokens, output_tokens : int or Lengths
            Prompt and output lengths. [tokens]
        seed : int
            Random seed. With ``n`` given, the same seed at another rate gives the same
            stream with times scaled by the rate ratio (common random numbers).
        """
        rate = _number("rate_per_s", rate_per_s)
        n, duration = cls._horizon(n, duration_s)
        rng = np.random.default_rng(seed)
        if n is not None:
            times = np.cumsum(rng.standard_exponential(n)) / rate
        else:
            k = rng.poisson(rate * duration)
            times = np.sort(rng.random(k) * duration)
        return cls._with_lengths(times, input_tokens, output_tokens, rng,
                                 f"poisson {rate:g}/s")

    @classmethod
    def gamma_bursty(cls, rate_per_s: float, cv: float, n: int | None = None, *,
                     duration_s: float | None = None, input_tokens=512, output_tokens=128,
                     seed: int = 0) -> "Arrivals":
        """Renewal arrivals with Gamma-distributed gaps: mean ``1 / rate_per_s`` and
        coefficient of variation ``cv`` (1 = Poisson, > 1 bursty, < 1 smoother). [1/s]"""
        rate = _number("rate_per_s", rate_per_s)
        cv = _number("cv", cv)
        n, duration = cls._horizon(n, duration_s)
        rng = np.random.default_rng(seed)
        shape = 1.0 / cv**2
        scale = 1.0 / (rate * shape)
        if n is not None:
            times = np.cumsum(rng.gamma(shape, scale, size=n))
        else:
            chunks, t_end = [], 0.0
            block = max(16, int(rate * duration * 1.1) + 16)
            while t_end <= duration:
                gaps = rng.gamma(shape, scale, size=block)
                c = t_end + np.cumsum(gaps)
                chunks.append(c)
                t_end = float(c[-1])
            times = np.concatenate(chunks)
            times = times[times <= duration]
        return cls._with_lengths(times, input_tokens, output_tokens, rng,
                                 f"gamma renewal {rate:g}/s cv {cv:g}")

    @classmethod
    def mmpp(cls, rates_per_s: Sequence[float], mean_dwell_s, n: int | None = None, *,
             duration_s: float | None = None, input_tokens=512, output_tokens=128,
             seed: int = 0) -> "Arrivals":
        """Markov-modulated Poisson process: Poisson at ``rates_per_s[k]`` while a hidden
        state is ``k``; the state holds for an exponential time of mean ``mean_dwell_s[k]``
        and then jumps to another state chosen uniformly. Starts in the stationary law.

        Parameters
        ----------
        rates_per_s : sequence of float
            Arrival rate in each state (>= 0, at least one > 0). [1/s]
        mean_dwell_s : float or sequence of float
            Mean time spent in each state per visit. [s]

        References
        ----------
        W. Fischer and K. Meier-Hellstern, "The Markov-modulated Poisson process (MMPP)
        cookbook", Performance Evaluation 18(2), 1993.
        """
        rates = np.asarray([_number("rates_per_s", r, allow_zero=True) for r in rates_per_s])
        if rates.size < 2 or not np.any(rates > 0):
            raise HwcostError(
                f"rates_per_s needs >= 2 states with some rate > 0, got {rates_per_s!r}")
        dwell_in = np.broadcast_to(np.asarray(mean_dwell_s, dtype=float), rates.shape)
        dwell = np.asarray([_number("mean_dwell_s", d) for d in dwell_in])
        n, duration = cls._horizon(n, duration_s)
        rng = np.random.default_rng(seed)
        k = rates.size
        stationary = dwell / dwell.sum()  # uniform jumps: time share proportional to dwell
        state = int(rng.choice(k, p=stationary))
        chunks, t0, total = [], 0.0, 0
        while True:
            block = 256
            steps = rng.integers(1, k, size=block)  # jump to a different state
            states = (state + np.concatenate(([0], np.cumsum(steps[:-1])))) % k
            state = int((states[-1] + steps[-1]) % k)
            sojourn = rng.exponential(dwell[states])
            starts = t0 + np.concatenate(([0.0], np.cumsum(sojourn[:-1])))
            counts = rng.poisson(rates[states] * sojourn)
            times = (np.repeat(starts, counts)
                     + rng.random(counts.sum()) * np.repeat(sojourn, counts))
            chunks.append(np.sort(times))
            total += times.size
            t0 = float(starts[-1] + sojourn[-1])
            if (n is not None and total >= n) or (duration is not None and t0 > duration):
                break
        times = np.concatenate(chunks)
        times = times[:n] if n is not None else times[times <= duration]
        return cls._with_lengths(times, input_tokens, output_tokens, rng,
                                 f"mmpp rates {list(rates)}/s")

    @classmethod
    def daily_profile(cls, requests_per_hour, *, days: int = 1, input_tokens=None,
                      output_tokens=None, seed: int = 0) -> "Arrivals":
        """Non-homogeneous Poisson arrivals over whole days, constant rate within each hour.

        Parameters
        ----------
        requests_per_hour : Workload or sequence of 24 float
            Expected requests in each hour of the day; a ``Workload`` gives
            ``workload.hourly_requests()`` and its token lengths (log-normal with the
            workload's coefficients of variation). [1/h]
        days : int
            Number of days to generate.
        input_tokens, output_tokens : int or Lengths, optional
            Lengths; default from the workload, else 512 and 128. [tokens]
        """
        if isinstance(requests_per_hour, Workload):
            w = requests_per_hour
            hourly = w.hourly_requests()
            if input_tokens is None:
                input_tokens = Lengths.from_cv(w.input_tokens, w.input_tokens_cv)
            if output_tokens is None:
                output_tokens = Lengths.from_cv(w.output_tokens, w.output_tokens_cv)
        else:
            hourly = np.asarray(
                [_number("requests_per_hour", x, allow_zero=True) for x in requests_per_hour]
            )
            if hourly.size != HOURS_PER_DAY or hourly.sum() <= 0:
                raise HwcostError(
                    "requests_per_hour must have 24 values >= 0, not all zero, got "
                    f"{hourly.size} values summing to {hourly.sum():g}"
                )
        input_tokens = 512 if input_tokens is None else input_tokens
        output_tokens = 128 if output_tokens is None else output_tokens
        days = _count("days", days)
        rng = np.random.default_rng(seed)
        expected = np.tile(hourly, days)
        counts = rng.poisson(expected)
        starts = np.arange(expected.size) * SECONDS_PER_HOUR
        times = np.sort(np.repeat(starts, counts) + rng.random(counts.sum()) * SECONDS_PER_HOUR)
        return cls._with_lengths(times, input_tokens, output_tokens, rng,
                                 f"daily profile, {days} day(s), {hourly.sum():g} requests/day")

    @classmethod
    def from_workload(cls, workload: Workload, n: int = 2000, *, rate_per_s: float | None = None,
                      seed: int = 0) -> "Arrivals":
        """Poisson arrivals at the workload's peak-hour rate (or ``rate_per_s``) with its
        token lengths (log-normal by the workload's coefficients of variation)."""
        if not isinstance(workload, Workload):
            raise HwcostError(f"workload must be a hwcost.workload.Workload, got {workload!r}")
        rate = workload.peak_requests_per_s if rate_per_s is None else rate_per_s
        return cls.poisson(
            rate, n, seed=seed,
            input_tokens=Lengths.from_cv(workload.input_tokens, workload.input_tokens_cv),
            output_tokens=Lengths.from_cv(workload.output_tokens, workload.output_tokens_cv),
        )

    @classmethod
    def from_trace(cls, path: str | os.PathLike, *, sort: bool = False) -> "Arrivals":
        """Read a request trace (CSV): one row per request with its arrival time and lengths.

        Accepted column names (case-insensitive): time ``timestamp_s``, ``arrival_s``,
        ``time_s`` (seconds) or ``timestamp`` (seconds, or date-times); prompt
        ``input_tokens``, ``prompt_tokens`` or ``ContextTokens``; output ``output_tokens``,
        ``completion_tokens`` or ``GeneratedTokens`` (the last two as in the Azure LLM
        inference traces). Times are shifted so the first request arrives at 0.

        Parameters
        ----------
        path : str or path
            CSV file.
        sort : bool
            Sort rows by time instead of rejecting an unsorted trace.
        """
        path = os.fspath(path)
        try:
            df = pd.read_csv(path)
        except FileNotFoundError:
            raise HwcostError(f"trace file {path!r} does not exist") from None
        except (pd.errors.EmptyDataError, pd.errors.ParserError) as exc:
            raise HwcostError(f"trace file {path!r} is not a readable CSV: {exc}") from None
        lower = {str(c).strip().lower(): c for c in df.columns}
        wanted = {
            "time": ("timestamp_s", "arrival_s", "time_s", "timestamp"),
            "input": ("input_tokens", "prompt_tokens", "contexttokens"),
            "output": ("output_tokens", "completion_tokens", "generatedtokens"),
        }
        found, missing = {}, []
        for role, names in wanted.items():
            col = next((lower[x] for x in names if x in lower), None)
            if col is None:
                missing.append(f"{role} (one of {', '.join(names)})")
            found[role] = col
        if missing:
            raise HwcostError(
                f"trace file {path!r} lacks column(s): {'; '.join(missing)}; "
                f"it has {list(map(str, df.columns))}"
            )
        if len(df) == 0:
            raise HwcostError(f"trace file {path!r} has no rows")
        raw_t = df[found["time"]]
        t = pd.to_numeric(raw_t, errors="coerce")
        if t.isna().any():
            parsed = pd.to_datetime(raw_t, errors="coerce", utc=True)
            if parsed.isna().any():
                row = int(np.flatnonzero(parsed.isna().to_numpy())[0])
                raise HwcostError(
                    f"trace file {path!r} line {row + 2}: time {raw_t.iloc[row]!r} in column "
                    f"{found['time']!r} is neither seconds nor a date-time"
                )
            t = (parsed - parsed.min()).dt.total_seconds()
        t = t.to_numpy(dtype=float)
        if not np.all(np.isfinite(t)):
            row = int(np.flatnonzero(~np.isfinite(t))[0])
            raise HwcostError(f"trace file {path!r} line {row + 2}: time is not finite")
        tok = {}
        for role in ("input", "output"):
            col = found[role]
            x = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float)
            bad = ~np.isfinite(x) | (x < 1) | (x != np.floor(x))
            if np.any(bad):
                row = int(np.flatnonzero(bad)[0])
                raise HwcostError(
                    f"trace file {path!r} line {row + 2}, column {col!r}: "
                    f"{df[col].iloc[row]!r} is not a whole number of tokens >= 1"
                )
            tok[role] = x.astype(np.int64)
        order = np.arange(t.size)
        if np.any(np.diff(t) < 0):
            if not sort:
                row = int(np.flatnonzero(np.diff(t) < 0)[0]) + 1
                raise HwcostError(
                    f"trace file {path!r} timestamps are not sorted: line {row + 2} "
                    f"({t[row]!r}) comes before line {row + 1} ({t[row - 1]!r}); "
                    "sort the file or pass sort=True"
                )
            order = np.argsort(t, kind="stable")
        t = t[order] - t[order][0]
        return cls(t, tok["input"][order], tok["output"][order], f"trace {os.path.basename(path)}")

    # -- transforms used by the capacity search ----------------------------------------
    def replica_share(self, replicas: int, k: int) -> "Arrivals":
        """The requests a round-robin router sends to replica ``k`` of ``replicas``."""
        return self.take(np.arange(k, len(self), replicas))
