"""What every notebook does: set up, validate its parameters, narrate, record results.

``nb.parameters(...)``, right after the cell tagged ``parameters``, is
:func:`hwcost.parameters.parameters` (the rules per name live there, shared with scenario
files). This module formats money and numbers for generated prose, shows tables and the rerun
command.

``record(**values)`` stores headline results in the executed notebook (an output of type
``application/vnd.hwcost.results+json`` that viewers do not show) so tests and the report can
read them back with :func:`recorded_results`.
"""

from __future__ import annotations

import json
import math
import os
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
# A dollar sign that starts an amount, escaped or not ("$3,600", "\\$3,600", "$-0.5").
_CURRENCY = re.compile(r"\\?\$(?=-?\d)")
# How a dollar sign is written in Markdown. JupyterLab 4 pairs any two "$" (escaped with a
# backslash, as an entity, or in a plain span) into a formula; an entity inside a span is
# left alone there, on GitHub and in nbconvert's HTML, and shows as "$".
DOLLAR_IN_MARKDOWN = "<span>&#36;</span>"


def escape_currency(text: str) -> str:
    """Make each ``$`` that starts an amount safe from math renderers.

    Markdown renderers with math support (JupyterLab, GitHub, MathJax in HTML) read the text
    between two dollar signs as a formula, so "costs $2.45 vs $1.91" would lose its numbers.
    Each ``$`` (or ``\\$``) followed by a digit becomes :data:`DOLLAR_IN_MARKDOWN`, which
    every view shows as a plain ``$``. Dollar signs not followed by a digit are left alone.
    """
    return _CURRENCY.sub(DOLLAR_IN_MARKDOWN, text)


def money(x: float, digits: int | None = None) -> str:
    """A USD amount for Markdown: :func:`usd` made safe (``<span>&#36;</span>3,600``).

    The one helper narration uses for money; plain-text places (tables, the CLI) use
    :func:`usd`. :func:`md` applies the same conversion to whatever it shows.
    """
    return escape_currency(usd(x, digits))


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


# The parameters a notebook was executed with, as JSON: set by the runner
# (:func:`hwcost.report.execute`) in the kernel's environment so the page can print the command
# that reproduces it.
RUN_PARAMETERS_ENV = "HWCOST_RUN_PARAMETERS"


def run_parameters() -> dict:
    """The parameters this kernel's notebook was executed with (empty: its defaults)."""
    text = os.environ.get(RUN_PARAMETERS_ENV, "")
    try:
        values = json.loads(text) if text else {}
    except ValueError:
        return {}
    return values if isinstance(values, dict) else {}


def _cli_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        value = ",".join(str(v) for v in value)
    return shlex.quote(str(value))


def rerun_command(notebook: str, **params) -> str:
    """The ``hwcost run`` command that executes ``notebook`` with ``params``.

    ``hwcost run`` executes through the package's runner, which bounds every cell with a
    timeout and picks up kernel replies that a bare papermill or nbconvert run can miss (the
    widget-cell race of nbclient issue 312), so the command cannot hang. Values are written
    as ``hwcost run`` reads them (YAML scalars: ``true``, ``2000``, ``llama-3.1-70b``).
    """
    stem = Path(notebook).stem
    parts = ["hwcost", "run", stem]
    for name, value in params.items():
        parts += ["-p", name, _cli_value(value)]
    return " ".join(parts)


def show_rerun(notebook: str, **example) -> None:
    """Show the command that reproduces this page as it was run, and an example to adapt.

    The parameters come from :func:`run_parameters` (what the runner executed the page with);
    ``example`` is a different parameter set worth trying.
    """
    ran = run_parameters()
    text = ("**Reproduce this page** (" + ("with the parameters it was run with"
                                           if ran else "with its default parameters")
            + "):\n\n```bash\n" + rerun_command(notebook, **ran) + "\n```")
    if example:
        text += ("\n\n**With your own numbers**, for example:\n\n```bash\n"
                 + rerun_command(notebook, **example) + "\n```")
    text += ("\n\n`hwcost run` writes the executed notebook and its HTML to `runs/` "
             "(`--output-dir` to change), bounds every cell with a timeout and never waits on a "
             "lost kernel reply.")
    md(text)


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


def count(n, noun: str, plural: str | None = None) -> str:
    """``n`` and the noun, singular for one: ``count(1, "risk")`` = "1 risk", else "3 risks"."""
    n = int(n)
    return f"{n:,} {noun if n == 1 else (plural or noun + 's')}"


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


def span(low: float, high: float, fmt=num) -> str:
    """A range as written, one value when both ends read the same: "7.09B", not "7.09B-7.09B"."""
    a, b = fmt(low), fmt(high)
    return a if a == b else f"{a}-{b}"


def times(ratio: float, what: str, digits: int = 3) -> str:
    """``ratio`` of ``what`` in words: "2.5 times the cost of X", "about the same as the cost of X".

    A ratio that rounds to 1 at ``digits`` significant figures reads "about the same as"; never
    "1 times".
    """
    text = num(ratio, digits)
    if float(text.replace(",", "")) == 1:
        return f"{'the same as' if ratio == 1 else 'about the same as'} {what}"
    return f"{text} times {what}"


def share(x: float, smallest: float = 1e-4) -> str:
    """A fraction as a percentage, "less than 0.01%" below ``smallest`` (never 30 zeros)."""
    if x is None or not math.isfinite(x):
        raise HwcostError(f"cannot format {x!r} as a percentage")
    if x == 0:
        return "0%"
    if 0 < x < smallest:
        return f"less than {100 * smallest:g}%"
    return pct(x)


def estimate_example(model: str, gpu_name: str, batch1, batched, batch_size: int) -> str:
    """A sentence on two :class:`hwcost.perf.Estimate` s with their error bands.

    ``batch1`` at batch 1 and ``batched`` at ``batch_size``, each on the GPU count it holds
    (said when it is more than one): speed in tokens/s with the band's P10-P90, and the time
    to first token in ms with its band.
    """
    where = (f"one {gpu_name}" if batch1.n_gpus == 1
             else f"{batch1.n_gpus} {gpu_name} (the fewest that hold it)")
    tps1, tpsb = batch1.output_tokens_per_s, batched.output_tokens_per_s
    more = f" on {batched.n_gpus} GPUs" if batched.n_gpus != batch1.n_gpus else ""
    low, high = batch1.ttft_s / batch1.ttft_error_band[1], batch1.ttft_s / batch1.ttft_error_band[0]
    return (f"Example, {model} on {where}: at batch 1 the estimate is {tps1:,.0f} tokens/s, "
            f"expected between {tps1 * batch1.error_band[0]:,.0f} and "
            f"{tps1 * batch1.error_band[1]:,.0f}; at batch {batch_size}{more}, {tpsb:,.0f} "
            f"tokens/s ({tpsb * batched.error_band[0]:,.0f}-{tpsb * batched.error_band[1]:,.0f}); "
            f"time to first token {batch1.ttft_s * 1e3:.0f} ms ({low * 1e3:.0f}-{high * 1e3:.0f} ms). ")
