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

import ast
import datetime as _dt
import sys
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Mapping

from . import catalog, validate
from .errors import ParameterError
from .requirements import MAX_REQUESTS_PER_DAY, MAX_TOKENS

# ----------------------------------------------------------------------------------------
# Parameter validation
# ----------------------------------------------------------------------------------------
#: Upper bounds of the values notebooks compute with: beyond them arithmetic overflows or the
#: models describe nothing real (a batch of a million sequences, 1e30 Monte Carlo draws).
MAX_NUMBER = 1e15
MAX_BATCH_SIZE = 4096
MAX_COUNT = 1024
MAX_SAMPLES = 1_000_000
MAX_SEED = 2**32 - 1


def _checked(rule, name, value, **kwargs):
    """Text that spells a number becomes the number (papermill and YAML give text), then
    ``rule`` decides; its error is a :class:`ParameterError` with the one wording."""
    try:
        return rule(name, validate.number_from_text(value), **kwargs)
    except validate.InvalidValue as exc:
        raise ParameterError(str(exc)) from None


def _number(name, value, high=MAX_NUMBER) -> float:
    return _checked(validate.number, name, value, low=-high, high=high)


def _positive(name, value, high=MAX_NUMBER) -> float:
    return _checked(validate.positive, name, value, high=high)


def _non_negative(name, value, high=MAX_NUMBER) -> float:
    return _checked(validate.non_negative, name, value, high=high)


def _positive_int(name, value, high=MAX_COUNT) -> int:
    return _checked(validate.positive_int, name, value, high=high)


def _fraction(name, value) -> float:
    return _checked(validate.fraction, name, value)


def _bounded(rule, high):
    return lambda name, value: rule(name, value, high=high)


def _choice(choices):
    def check(name, value):
        try:
            return validate.choice(name, value, choices)
        except validate.InvalidValue as exc:
            raise ParameterError(str(exc)) from None

    return check


def _catalog_id(table: str, what: str):
    def check(name, value):
        from . import catalog

        known = sorted(set(catalog.load_table(table)[what]))
        if isinstance(value, str) and value.strip().lower() in known:
            return value.strip().lower()
        raise ParameterError(f"{validate.fail(name, f'one of the {what}s in {table}.csv', value)}; "
                             f"{validate.did_you_mean(value, known)}")

    return check


def _gpu(name, value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ParameterError(str(validate.fail(name, "a catalog GPU id", value)))
    try:
        return catalog.gpu(value).id
    except catalog.CatalogError as exc:
        raise ParameterError(f"{name}: {exc}") from None


def _model(name, value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ParameterError(str(validate.fail(name, "a catalog model id", value)))
    try:
        return catalog.llm(value).id
    except catalog.CatalogError as exc:
        raise ParameterError(f"{name}: {exc}") from None


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
    text = value.strip().lower() if isinstance(value, str) else None
    if text in ("true", "yes"):
        return True
    if text in ("false", "no"):
        return False
    raise ParameterError(str(validate.fail(name, "true or false", value)))


def _text(name, value) -> str:
    try:
        return validate.text(name, value)
    except validate.InvalidValue as exc:
        raise ParameterError(str(exc)) from None


def _engine(name, value):
    if value is None or str(value).strip().lower() in ("", "none", "generic"):
        return None
    from . import perf

    engines = sorted(perf.ENGINES) if hasattr(perf, "ENGINES") else []
    text = str(value).strip().lower()
    if engines and text not in engines:
        raise ParameterError(f"{validate.fail(name, 'None or one of ' + ', '.join(engines), value)}"
                             f"; {validate.did_you_mean(text, engines)}")
    return text


def _audit_status(name, value) -> str:
    from . import seed

    return _choice(("all",) + tuple(seed.STATUSES))(name, value)


def _reference_date(name, value) -> _dt.date:
    """A date ages are counted to: a ``datetime.date``, ``YYYY-MM-DD`` or ``today``."""
    text = value.strip() if isinstance(value, str) else value
    if isinstance(text, str) and text.lower() == "today":
        return _dt.date.today()
    day = validate.as_date(text) if not isinstance(text, str) or len(text) == 10 else None
    if day is None:
        raise ParameterError(str(validate.fail(name, "a date as YYYY-MM-DD or 'today'", value)))
    return day


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
    "percentile": _bounded(_positive, 100),
    "seed": lambda n, v: _checked(validate.non_negative_int, n, v, high=MAX_SEED),
    "n_gpus": _positive_int,
    "batch_size": _bounded(_positive_int, MAX_BATCH_SIZE),
    "max_price_age_days": _bounded(_positive_int, 36_500),
    "price_age_reference_setting": _reference_date,
    "draft_tokens": _bounded(_positive_int, 64),
    "n_samples": _bounded(_positive_int, MAX_SAMPLES),
    "amortization_years": _bounded(_positive, 100),
    "discount_rate": _bounded(_non_negative, 10),
    "resale_fraction": lambda n, v: _checked(validate.fraction, n, v, allow_zero=True),
    "provider": _catalog_id("cloud_prices", "provider"),
    "region": _text,
    "energy_setting": _catalog_id("energy", "id"),
    "server_energy_setting": _catalog_id("energy", "id"),
    "scenario": _text,
    "scheduler": _choice(("static", "dynamic", "continuous")),
    "show_status": _audit_status,
}
_BY_SUFFIX = (
    ("_tokens", _bounded(_positive_int, MAX_TOKENS)),
    ("_per_day", _bounded(_positive, MAX_REQUESTS_PER_DAY)),
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
    ("_months", _bounded(_positive, 1200)),
    ("_years", _bounded(_positive, 100)),
    ("_hours", _positive),
    ("_fraction", _fraction),
    ("_pct", _bounded(_non_negative, 10_000)),
    ("_cv", _bounded(_non_negative, 100)),  # coefficient of variation: standard deviation / mean [1]
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
    if not problems:
        problems += _context_window_problems(clean)
    problems += _injected_unknown(values, sys._getframe(1).f_globals)
    if problems:
        raise ParameterError("; ".join(problems))
    return Parameters(MappingProxyType(clean))


def _context_window_problems(clean: Mapping) -> list[str]:
    """A prompt plus its output must fit the context window of ``model`` (and ``draft_model``)."""
    tokens = sum(int(clean.get(k) or 0) for k in ("input_tokens", "output_tokens"))
    problems = []
    for key in ("model", "draft_model"):
        if key in clean and tokens:
            window = catalog.llm(clean[key]).max_context_tokens
            if window and tokens > window:
                problems.append(
                    f"input_tokens + output_tokens must be at most the context window of "
                    f"{clean[key]} ({window:,} tokens), got {tokens:,}")
    return problems


INJECTED_CELL_HEADER = "# Parameters"


def _assigned_names(source: str) -> list[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    return [t.id for node in tree.body if isinstance(node, ast.Assign)
            for t in node.targets if isinstance(t, ast.Name)]


def _injected_unknown(values: Mapping, caller_globals: Mapping) -> list[str]:
    """Names papermill injected that the notebook does not validate (a misspelled ``-p``).

    papermill only warns about a parameter the notebook does not declare and runs with the
    defaults; inside a kernel, the cell it injected (``# Parameters`` first) is in the input
    history, so the notebook can refuse the run instead. Only a call from a notebook cell
    itself is checked (a scenario validating its own parameters inside a kernel is not).
    """
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency
        return []
    shell = get_ipython()
    user_ns = getattr(shell, "user_ns", None) if shell is not None else None
    if user_ns is None or caller_globals is not user_ns:
        return []
    history = user_ns.get("In")
    if not history:
        return []
    injected = [c for c in history if isinstance(c, str) and c.startswith(INJECTED_CELL_HEADER)]
    if not injected:
        return []
    unknown = [n for n in _assigned_names(injected[-1]) if n not in values]
    return [f"this notebook has no parameter {n!r}; "
            f"{validate.did_you_mean(n, values)}" for n in unknown]


