"""What every notebook does: set up, validate its parameters, narrate, record results.

Typical use, right after the cell tagged ``parameters``::

    p = nb.parameters(model=model, gpu=gpu, precision=precision, requests_per_day=requests_per_day)

``parameters`` coerces the loose types papermill passes (``-p input_tokens 512`` arrives as
an int, ``-p utilization 1`` as an int, ``-r gpu h100`` as a string) and validates every value
by the rules for its name, failing with one clear message that names the parameter, the value
and what is accepted. Names follow the project's canonical names; the rule is chosen by the
name or its unit suffix.

``record(**values)`` stores headline results in the executed notebook (an output of type
``application/vnd.hwcost.results+json`` that viewers do not show) so tests and the report can
read them back with :func:`recorded_results`.
"""

from __future__ import annotations

import json
import math
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from . import catalog

RESULTS_MIME = "application/vnd.hwcost.results+json"


class ParameterError(ValueError):
    """A notebook parameter has a value that cannot be used."""


def setup() -> None:
    """Enable the chart theme and static renderer and sensible pandas display options."""
    import pandas as pd

    from . import charts

    charts.enable()
    pd.set_option("display.max_columns", 30)
    pd.set_option("display.width", 160)
    pd.set_option("display.max_colwidth", 80)


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


# ----------------------------------------------------------------------------------------
# Narration and recorded results
# ----------------------------------------------------------------------------------------
_CURRENCY = re.compile(r"(?<!\\)\$(?=-?\d)")


def escape_currency(text: str) -> str:
    """Escape each ``$`` that starts an amount (``$2.45`` -> ``\\$2.45``).

    Markdown renderers with math support (JupyterLab, GitHub) read the text between two
    dollar signs as a formula, so "costs $2.45 vs $1.91" would lose its numbers; an escaped
    dollar shows as a plain ``$``. Dollar signs not followed by a digit are left alone.
    """
    return _CURRENCY.sub(r"\\$", text)


def md(text: str) -> None:
    """Show Markdown built from variables (so reruns never leave stale numbers).

    Dollar amounts are escaped (:func:`escape_currency`) so they never turn into math.
    """
    from IPython.display import Markdown, display

    display(Markdown(escape_currency(text)))


def _cell_number(x) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return ""
    try:
        import pandas as pd

        if pd.isna(x):
            return ""
    except (TypeError, ValueError):
        pass
    x = float(x)
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.4g}"


class Table:
    """A styled table for notebooks: shows as HTML, and as ``<table: name, rows x columns>``
    in plain text (no memory address, so committed outputs do not change between runs)."""

    def __init__(self, styler, name: str, shape: tuple[int, int]):
        self.styler = styler
        self.name = name
        self.shape = shape

    def to_html(self) -> str:
        return self.styler.to_html()

    def _repr_html_(self) -> str:
        return self.to_html()

    def __repr__(self) -> str:
        return f"<table: {self.name}, {self.shape[0]} rows x {self.shape[1]} columns>"


def table(df, *, name: str = "hwcost") -> Table:
    """Show a DataFrame as a table to read: no index, text left-aligned and wrapped.

    Numbers are shown to 4 significant digits (thousands separated, no exponent above 1,000),
    missing values as empty cells. The table is marked so that JupyterLab's math renderer
    leaves dollar amounts alone ("$2.80 ... $1.33" is not a formula), and its HTML is the same
    on every run (``name`` is the table's id; give each table of a notebook its own).

    Returns
    -------
    Table
        Its ``styler`` is the pandas Styler; ``to_html()`` gives the HTML.
    """
    if not re.fullmatch(r"[A-Za-z][\w-]*", name):
        raise ValueError(f"table name must be a word (letters, digits, _ or -), got {name!r}")
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    numeric = [c for c in df.columns if is_numeric_dtype(df[c]) and not is_bool_dtype(df[c])]
    text = [i for i, c in enumerate(df.columns) if c not in numeric]
    styles = [{"selector": "th", "props": "text-align: left; vertical-align: bottom;"},
              {"selector": "td", "props": "vertical-align: top;"}]
    styles += [{"selector": f"td.col{i}", "props": "text-align: left; white-space: normal;"} for i in text]
    styler = (df.style.hide(axis="index").set_uuid(name)
              .format({c: _cell_number for c in numeric}, na_rep="")
              .set_table_styles(styles)
              .set_table_attributes('class="tex2jax_ignore mathjax_ignore"'))
    return Table(styler, name, df.shape)


def _jsonable(value):
    try:
        import numpy as np

        if isinstance(value, np.generic):
            value = value.item()
    except ImportError:  # pragma: no cover
        pass
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"recorded result is not finite: {value!r}")
        return float(f"{value:.6g}")
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)


def record(**values) -> None:
    """Store headline results in the executed notebook (invisible to readers)."""
    from IPython.display import display

    display({RESULTS_MIME: {k: _jsonable(v) for k, v in values.items()}}, raw=True)


def recorded_results(notebook: str | Path | dict) -> dict:
    """All values recorded with :func:`record` in an executed notebook, merged in order."""
    if isinstance(notebook, dict):
        data = notebook
    else:
        data = json.loads(Path(notebook).read_text(encoding="utf-8"))
    results: dict = {}
    for cell in data.get("cells", []):
        for output in cell.get("outputs", []) or []:
            payload = output.get("data", {}).get(RESULTS_MIME)
            if payload:
                results.update(payload)
    return results


def rerun_command(notebook: str, **params) -> str:
    """The papermill command that reruns ``notebook`` with ``params``."""
    stem = Path(notebook).stem
    parts = ["papermill", f"notebooks/{stem}.ipynb", f"reports/{stem}.ipynb"]
    for name, value in params.items():
        if isinstance(value, (list, tuple)):
            value = ",".join(str(v) for v in value)
        flag = "-p" if isinstance(value, (int, float)) and not isinstance(value, bool) else "-r"
        parts += [flag, name, shlex.quote(str(value))]
    return " ".join(parts)


def show_rerun(notebook: str, **params) -> None:
    """Show how to rerun this notebook, with papermill and with ``hwcost run``."""
    stem = Path(notebook).stem
    hw = ["hwcost", "run", stem] + [
        f"-p {k} {shlex.quote(','.join(map(str, v)) if isinstance(v, (list, tuple)) else str(v))}"
        for k, v in params.items()
    ]
    md(
        "**Rerun with your own numbers**\n\n```bash\n"
        + rerun_command(notebook, **params)
        + "\n# or\n"
        + " ".join(hw)
        + "\n```"
    )


# ----------------------------------------------------------------------------------------
# Formatting
# ----------------------------------------------------------------------------------------
def usd(x: float, digits: int | None = None) -> str:
    """Format a USD amount with sensible precision: $0.0061, $1.25, $2,690."""
    if x is None or not math.isfinite(x):
        raise ValueError(f"cannot format {x!r} as USD")
    a = abs(x)
    if digits is None:
        digits = 0 if a >= 1000 else 2 if a >= 1 else 3 if a >= 0.1 else 4
    return f"${x:,.{digits}f}"


def pct(x: float, digits: int = 0) -> str:
    """Format a fraction as a percentage: 0.0031 -> '0.31%' (at least two significant)."""
    if x is None or not math.isfinite(x):
        raise ValueError(f"cannot format {x!r} as a percentage")
    value = 100 * x
    if value != 0 and abs(value) < 1 and digits == 0:
        digits = max(1, 1 - int(math.floor(math.log10(abs(value)))))
    return f"{value:.{digits}f}%"


def num(x: float, digits: int = 3) -> str:
    """Format a number to ``digits`` significant figures with thousands separators."""
    if x is None or not math.isfinite(x):
        raise ValueError(f"cannot format {x!r}")
    if x == 0:
        return "0"
    magnitude = int(math.floor(math.log10(abs(x))))
    decimals = max(0, digits - 1 - magnitude)
    rounded = round(x, decimals)
    return f"{rounded:,.{decimals}f}"
