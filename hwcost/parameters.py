"""Notebook parameters: one rule per name, so every notebook validates its inputs alike.

Typical use, right after the cell tagged ``parameters``::

    p = nb.parameters(model=model, gpu=gpu, precision=precision, requests_per_day=requests_per_day)

``parameters`` coerces the loose types papermill passes (``-p input_tokens 512`` arrives as
an int, ``-p utilization 1`` as an int, ``-r gpu h100`` as a string) and validates every value
by the rules for its name, failing with one clear message that names the parameter, the value
and what is accepted. Names follow the project's canonical names; the rule is chosen by the
name or its unit suffix. Scenario files validate their ``notebook_parameters`` with the same
rules. (``hwcost.notebook`` re-exports :func:`parameters`.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Mapping

from . import catalog
from .errors import ParameterError


# ----------------------------------------------------------------------------------------
# Parameter validation
# ----------------------------------------------------------------------------------------
def _number(name, value) -> float:
    if isinstance(value, bool):
        raise ParameterError(f"parameter {name}={value!r}: expected a number, got a boolean")
    try:
        number = float(str(value).replace("_", "")) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        raise ParameterError(f"parameter {name}={value!r}: expected a number") from None
    if not math.isfinite(number):
        raise ParameterError(f"parameter {name}={value!r}: expected a finite number")
    return number


def _positive(name, value) -> float:
    number = _number(name, value)
    if number <= 0:
        raise ParameterError(f"parameter {name}={value!r}: expected a number > 0")
    return number


def _non_negative(name, value) -> float:
    number = _number(name, value)
    if number < 0:
        raise ParameterError(f"parameter {name}={value!r}: expected a number >= 0")
    return number


def _positive_int(name, value) -> int:
    number = _number(name, value)
    if number <= 0 or number != int(number):
        raise ParameterError(f"parameter {name}={value!r}: expected a whole number > 0")
    return int(number)


def _fraction(name, value) -> float:
    number = _number(name, value)
    if not 0 < number <= 1:
        raise ParameterError(f"parameter {name}={value!r}: expected a fraction in (0, 1]")
    return number


def _choice(choices):
    def check(name, value):
        text = str(value).strip().lower()
        if text not in choices:
            raise ParameterError(
                f"parameter {name}={value!r}: expected one of {', '.join(choices)}"
            )
        return text

    return check


def _gpu(name, value) -> str:
    try:
        return catalog.gpu(str(value)).id
    except catalog.CatalogError as exc:
        raise ParameterError(f"parameter {name}={value!r}: {exc}") from None


def _model(name, value) -> str:
    try:
        return catalog.llm(str(value)).id
    except catalog.CatalogError as exc:
        raise ParameterError(f"parameter {name}={value!r}: {exc}") from None


def _list_of(check):
    def check_list(name, value):
        if isinstance(value, str):
            items = [v.strip() for v in value.split(",") if v.strip()]
        else:
            try:
                items = list(value)
            except TypeError:
                items = [value]
        if not items:
            raise ParameterError(f"parameter {name}={value!r}: expected a non-empty list")
        return tuple(check(f"{name}[{i}]", v) for i, v in enumerate(items))

    return check_list


def _bool(name, value) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise ParameterError(f"parameter {name}={value!r}: expected true or false")


def _text(name, value) -> str:
    text = str(value).strip()
    if not text:
        raise ParameterError(f"parameter {name}: expected a non-empty text")
    return text


def _engine(name, value):
    if value is None or str(value).strip().lower() in ("", "none", "generic"):
        return None
    from . import perf

    engines = sorted(perf.ENGINES) if hasattr(perf, "ENGINES") else []
    text = str(value).strip().lower()
    if engines and text not in engines:
        raise ParameterError(
            f"parameter {name}={value!r}: expected None or one of {', '.join(engines)}"
        )
    return text


def _audit_status(name, value) -> str:
    from . import seed

    return _choice(("all",) + tuple(seed.STATUSES))(name, value)


# Rules by exact name first, then by suffix.
_BY_NAME = {
    "gpu": _gpu,
    "gpus": _list_of(_gpu),
    "model": _model,
    "models": _list_of(_model),
    "draft_model": _model,
    "precision": _choice(catalog.PRECISIONS),
    "precisions": _list_of(_choice(catalog.PRECISIONS)),
    "kv_precision": _choice(catalog.PRECISIONS),
    "engine": _engine,
    "utilization": _fraction,
    "acceptance_rate": _fraction,
    "percentile": _positive,
    "seed": lambda n, v: int(_non_negative(n, v)),
    "n_gpus": _positive_int,
    "batch_size": _positive_int,
    "max_price_age_days": _positive_int,
    "draft_tokens": _positive_int,
    "n_samples": _positive_int,
    "amortization_years": _positive,
    "discount_rate": _non_negative,
    "resale_fraction": lambda n, v: _fraction(n, v) if _number(n, v) > 0 else 0.0,
    "provider": _text,
    "region": _text,
    "energy_setting": _text,
    "scenario": _text,
    "scheduler": _choice(("static", "dynamic", "continuous")),
    "show_status": _audit_status,
}
_BY_SUFFIX = (
    ("_tokens", _positive_int),
    ("_per_day", _positive),
    ("_per_s", _positive),
    ("_s", _positive),
    ("_usd", _non_negative),
    ("_usd_per_hour", _positive),
    ("_usd_per_kwh", _positive),
    ("_usd_per_month", _non_negative),
    ("_usd_per_year", _non_negative),
    ("_setting", _text),
    ("_gb", _positive),
    ("_gbps", _positive),
    ("_months", _positive),
    ("_years", _positive),
    ("_hours", _positive),
    ("_fraction", _fraction),
    ("_pct", _non_negative),
    ("_cv", _non_negative),  # coefficient of variation: standard deviation / mean [1]
    ("_ratio", _positive),
    ("_count", _positive_int),
    ("_w", _positive),
    ("_flag", _bool),
)


def _rule_for(name: str):
    if name in _BY_NAME:
        return _BY_NAME[name]
    for suffix, rule in sorted(_BY_SUFFIX, key=lambda s: -len(s[0])):
        if name.endswith(suffix):
            return rule
    if name.startswith(("show_", "use_", "include_")):
        return _bool
    return None


@dataclass(frozen=True)
class Parameters:
    """Validated notebook parameters; read them as attributes (``p.gpu``)."""

    values: Mapping[str, Any]

    def __getattr__(self, name):
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None

    def as_dict(self) -> dict:
        return dict(self.values)


def parameters(**values) -> Parameters:
    """Validate and coerce notebook parameters by their names.

    Raises
    ------
    ParameterError
        Naming every parameter whose value cannot be used and what would be accepted.
    """
    problems = []
    clean = {}
    for name, value in values.items():
        rule = _rule_for(name)
        if rule is None:
            problems.append(
                f"parameter {name!r} has no validation rule; name it with a unit suffix "
                "(_tokens, _s, _usd, _per_day, ...) or a known name"
            )
            continue
        try:
            clean[name] = rule(name, value)
        except ParameterError as exc:
            problems.append(str(exc))
    if problems:
        raise ParameterError("; ".join(problems))
    return Parameters(MappingProxyType(clean))


