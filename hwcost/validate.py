"""One rule per kind of value, one wording for every failure.

Every public function of hwcost checks its arguments with these rules, so the same value gets
the same answer everywhere, worded ``<name> must be <rule>, got <value>``::

    >>> positive_int("n_gpus", 0)
    Traceback (most recent call last):
    ...
    hwcost.errors.InvalidValue: n_gpus must be a whole number >= 1, got 0

Conventions
-----------
- Booleans are never numbers (``True`` is not 1 request per day).
- Library functions take numbers, not text: ``"3"`` is refused here. The entry layers that
  receive text (the CLI, scenario YAML, notebook parameters, parameter files) turn it into a
  number first with :func:`number_from_text`, which reads ``"3"``, ``"1e5"``, ``"20_000"``
  and ``"20,000"``.
- NaN and infinities are refused by every number rule.
- An upper bound is given wherever a larger value would overflow the arithmetic or exceed
  what the models describe (a context window, a count of GPUs).
"""

from __future__ import annotations

import datetime as _dt
import difflib
import math
import numbers
import re
from collections.abc import Iterable

import numpy as np

from .errors import HwcostError


class InvalidValue(HwcostError):
    """An argument or parameter has a value that cannot be used."""


# ----------------------------------------------------------------------------------------
# Wording
# ----------------------------------------------------------------------------------------
def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def fail(name: str, rule: str, value) -> InvalidValue:
    """The one error of this module: ``<name> must be <rule>, got <value!r>``."""
    return InvalidValue(f"{name} must be {rule}, got {_shown(value)}")


def _fmt(x) -> str:
    if isinstance(x, numbers.Integral):
        return f"{int(x):,}" if abs(int(x)) >= 100_000 else str(int(x))
    return f"{float(x):g}"


def did_you_mean(value, known: Iterable[str], *, n: int = 3) -> str:
    """``"did you mean 'x'?"`` for the closest known spellings, or the full list."""
    known = sorted({str(k) for k in known})
    close = difflib.get_close_matches(str(value).strip().lower(), known, n=n, cutoff=0.6)
    if close:
        return "did you mean " + " or ".join(repr(c) for c in close) + "?"
    if len(known) <= 12:
        return "accepted: " + ", ".join(known)
    return f"{len(known)} accepted, e.g. " + ", ".join(known[:8])


# ----------------------------------------------------------------------------------------
# Numbers
# ----------------------------------------------------------------------------------------
_NUMBER_TEXT = re.compile(r"^[+-]?(\d[\d_,]*\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def number_from_text(value):
    """For entry layers: ``"3"`` -> 3, ``"1e5"`` -> 100000.0, ``"20,000"`` -> 20000.

    Anything that is not text spelling a number is returned unchanged (so the rule that
    follows reports it). Integers stay integers.
    """
    if not isinstance(value, str):
        return value
    text = value.strip()
    if not _NUMBER_TEXT.match(text):
        lowered = text.lower()
        if lowered in ("nan", "inf", "+inf", "-inf", "infinity", "-infinity", ".inf", "-.inf",
                       ".nan"):
            return float(lowered.replace(".", "")) if "inf" in lowered else math.nan
        return value
    plain = text.replace("_", "").replace(",", "")
    try:
        if re.fullmatch(r"[+-]?\d+", plain):
            return int(plain)
        return float(plain)
    except (ValueError, OverflowError):  # pragma: no cover - the pattern admits only numbers
        return value


def _is_number(value) -> bool:
    """A real number that converts to a float (huge integers do not)."""
    if not isinstance(value, (numbers.Real, np.number)) or isinstance(value, (bool, np.bool_)):
        return False
    try:
        float(value)
    except (OverflowError, TypeError, ValueError):
        return False
    return True


def _bounds_rule(kind: str, low, low_open: bool, high, high_open: bool) -> str:
    parts = []
    if low is not None:
        parts.append(f"{'>' if low_open else '>='} {_fmt(low)}")
    if high is not None:
        parts.append(f"{'<' if high_open else '<='} {_fmt(high)}")
    return kind + (" " + " and ".join(parts) if parts else "")


def number(name: str, value, *, low=None, low_open: bool = False, high=None,
           high_open: bool = False, rule: str | None = None, array: bool = False):
    """A finite real number within optional bounds.

    Parameters
    ----------
    name : str
        What the value is called where the user wrote it (``requests_per_day``).
    value : int or float
        The value; ``bool`` and text are refused.
    low, high : float, optional
        Bounds; open (strict) when ``low_open`` / ``high_open``.
    rule : str, optional
        Wording of the rule in the error, default built from the bounds.
    array : bool
        Also accept a list or numpy array (every element is checked); returns an ndarray.

    Returns
    -------
    float, or ndarray when ``array`` and ``value`` is not a scalar.
    """
    if isinstance(value, float) or (type(value) is int and abs(value) < 2**1023) \
            or _is_number(value):
        # a plain float or int skips the general number test: the common case
        x = float(value)
        if math.isfinite(x) \
                and (low is None or (x > low if low_open else x >= low)) \
                and (high is None or (x < high if high_open else x <= high)):
            return x
        raise fail(name, rule or _bounds_rule("a finite number", low, low_open, high, high_open), value)
    what = rule or _bounds_rule("a finite number", low, low_open, high, high_open)
    if not array or isinstance(value, (str, bool, bytes)) or value is None:
        raise fail(name, what, value)
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):
        raise fail(name, what, value) from None
    if arr.dtype.kind not in "iuf" or arr.ndim == 0 and not _is_number(arr.item()):
        raise fail(name, what, value)
    arr = arr.astype(float)
    ok = np.isfinite(arr)
    if low is not None:
        ok &= (arr > low) if low_open else (arr >= low)
    if high is not None:
        ok &= (arr < high) if high_open else (arr <= high)
    if not np.all(ok):
        bad = float(arr[~ok].flat[0])
        raise InvalidValue(f"{name} must be {what}, got {bad!r} (in an array)")
    return float(arr) if arr.ndim == 0 else arr


def positive(name: str, value, *, high=None, array: bool = False) -> float:
    """A finite number > 0 (and <= ``high`` when given)."""
    return number(name, value, low=0, low_open=True, high=high, array=array)


def non_negative(name: str, value, *, high=None, array: bool = False) -> float:
    """A finite number >= 0 (and <= ``high`` when given)."""
    return number(name, value, low=0, high=high, array=array)


def fraction(name: str, value, *, allow_zero: bool = False, array: bool = False) -> float:
    """A share in (0, 1] such as a utilization, or in [0, 1] with ``allow_zero``."""
    rule = "a fraction in [0, 1]" if allow_zero else "a fraction in (0, 1]"
    return number(name, value, low=0, low_open=not allow_zero, high=1, rule=rule, array=array)


_PERCENT_RULE = "a fraction like 0.999 or a percentage like 99.9%, at most 100%"


def fraction_or_percent(name: str, value) -> float:
    """An availability-like share: ``0.999``, ``99.9`` or ``"99.9%"`` -> 0.999.

    A number above 1 is read as a percentage; text may end in ``%``.
    """
    pct = False
    if isinstance(value, str):
        text = value.strip()
        pct = text.endswith("%")
        parsed = number_from_text(text[:-1].strip() if pct else text)
        if not _is_number(parsed):
            raise fail(name, _PERCENT_RULE, value)
        x = float(parsed)
    elif _is_number(value):
        x = float(value)
    else:
        raise fail(name, _PERCENT_RULE, value)
    if pct or (math.isfinite(x) and x > 1):
        x /= 100
    if not (math.isfinite(x) and 0 < x <= 1):
        raise fail(name, _PERCENT_RULE, value)
    return x


def _whole(name: str, value, minimum: int, high) -> int:
    rule = _bounds_rule("a whole number", minimum, False, high, False)
    if not (_is_number(value) and math.isfinite(float(value)) and float(value).is_integer()):
        raise fail(name, rule, value)
    n = int(value)
    if n < minimum or (high is not None and n > high):
        raise fail(name, rule, value)
    return n


def positive_int(name: str, value, *, high: int | None = None) -> int:
    """A whole number >= 1 (``2.0`` is accepted as 2; ``2.5`` and ``True`` are not)."""
    return _whole(name, value, 1, high)


def non_negative_int(name: str, value, *, high: int | None = None) -> int:
    """A whole number >= 0."""
    return _whole(name, value, 0, high)


# ----------------------------------------------------------------------------------------
# Durations
# ----------------------------------------------------------------------------------------
_DURATION = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*(ms|s|sec|min|m|h)?\s*$")
_UNITS_S = {None: 1.0, "s": 1.0, "sec": 1.0, "ms": 1e-3, "min": 60.0, "m": 60.0, "h": 3600.0}
DURATION_RULE = "a duration > 0 like 1s, 500ms, 0.8 (seconds) or 2min"


def duration(name: str, value, *, high: float | None = None) -> float:
    """Seconds from a number (``0.8``) or text (``"1s"``, ``"500ms"``, ``"2min"``). [s]"""
    rule = DURATION_RULE if high is None else f"{DURATION_RULE}, at most {_fmt(high)} s"
    if isinstance(value, str):
        m = _DURATION.match(value)
        if not m:
            raise fail(name, rule, value)
        seconds = float(m.group(1)) * _UNITS_S[m.group(2)]
    elif _is_number(value):
        seconds = float(value)
    else:
        raise fail(name, rule, value)
    if not math.isfinite(seconds) or seconds <= 0 or (high is not None and seconds > high):
        raise fail(name, rule, value)
    return seconds


# ----------------------------------------------------------------------------------------
# Choices and ids
# ----------------------------------------------------------------------------------------
def choice(name: str, value, choices: Iterable[str]) -> str:
    """One of ``choices`` (case and surrounding spaces ignored), with a did-you-mean."""
    choices = tuple(choices)
    if isinstance(value, str):
        text = value.strip().lower()
        for c in choices:
            if text == str(c).lower():
                return c
    rule = "one of " + ", ".join(map(str, choices))
    err = fail(name, rule, value)
    if isinstance(value, str):
        close = difflib.get_close_matches(value.strip().lower(), [str(c).lower() for c in choices],
                                          n=1, cutoff=0.6)
        if close:
            err = InvalidValue(f"{err}; did you mean {close[0]!r}?")
    raise err


def text(name: str, value) -> str:
    """A non-empty piece of text (surrounding spaces removed)."""
    if not isinstance(value, str) or not value.strip():
        raise fail(name, "a non-empty text", value)
    return value.strip()


def optional(rule, name: str, value, **kwargs):
    """``None`` stays ``None``; anything else must pass ``rule``."""
    return None if value is None else rule(name, value, **kwargs)


def unknown(value, known: Iterable[str], kind: str) -> HwcostError:
    """The error for an id that is not among ``known``: ``unknown <kind> <value>; closest: ...``
    (or ``known: ...`` when nothing is close). Returned, for the caller to raise."""
    known = sorted(set(str(k) for k in known))
    close = difflib.get_close_matches(str(value).lower(), known, n=4, cutoff=0.4)
    hint = f"closest: {', '.join(close)}" if close else f"known: {', '.join(known)}"
    return HwcostError(f"unknown {kind} {value!r}; {hint}")


def as_date(value) -> _dt.date | None:
    """The calendar day of ``value`` (a date, a datetime or a pandas timestamp, or text that
    starts ``YYYY-MM-DD``); None when it holds none. Lenient on purpose: price tables'
    ``as_of`` cells and user dates both pass through it; a rule that must refuse a bad date
    checks for None."""
    if value is None:
        return None
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    if hasattr(value, "date"):
        return value.date()
    try:
        return _dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None
