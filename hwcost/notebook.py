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
from pathlib import Path

from .errors import HwcostError, ParameterError  # noqa: F401  (re-exported)
from .parameters import Parameters, parameters  # noqa: F401  (re-exported)

RESULTS_MIME = "application/vnd.hwcost.results+json"


def setup() -> None:
    """Enable the chart theme and static renderer and sensible pandas display options."""
    import pandas as pd

    from . import charts

    charts.enable()
    pd.set_option("display.max_columns", 30)
    pd.set_option("display.width", 160)
    pd.set_option("display.max_colwidth", 80)


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
        raise HwcostError(f"table name must be a word (letters, digits, _ or -), got {name!r}")
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
            raise HwcostError(f"recorded result is not finite: {value!r}")
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
        raise HwcostError(f"cannot format {x!r} as USD")
    a = abs(x)
    if digits is None:
        digits = 0 if a >= 1000 else 2 if a >= 1 else 3 if a >= 0.1 else 4
    return f"${x:,.{digits}f}"


def pct(x: float, digits: int = 0) -> str:
    """Format a fraction as a percentage: 0.0031 -> '0.31%' (at least two significant)."""
    if x is None or not math.isfinite(x):
        raise HwcostError(f"cannot format {x!r} as a percentage")
    value = 100 * x
    if value != 0 and abs(value) < 1 and digits == 0:
        digits = max(1, 1 - int(math.floor(math.log10(abs(value)))))
    return f"{value:.{digits}f}%"


def num(x: float, digits: int = 3) -> str:
    """Format a number to ``digits`` significant figures with thousands separators."""
    if x is None or not math.isfinite(x):
        raise HwcostError(f"cannot format {x!r}")
    if x == 0:
        return "0"
    magnitude = int(math.floor(math.log10(abs(x))))
    decimals = max(0, digits - 1 - magnitude)
    rounded = round(x, decimals)
    return f"{rounded:,.{decimals}f}"
