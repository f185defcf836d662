"""Execute notebooks with papermill and build the offline HTML report in ``reports/``.

The report is a folder: each executed notebook as ``.ipynb`` and ``.html``, and an
``index.html`` linking them with the question each answers. The HTML needs no network:
each chart is its SVG, redrawn as an interactive Vega chart (values on hover, pan and zoom
where enabled) by ``vega-bundle.js``, a local copy of Vega written beside the pages (see
:func:`to_html`); no external script is referenced.
"""

from __future__ import annotations

import base64
import functools
import html
import json
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from . import outputs
from .errors import HwcostError, NotebookFailed  # noqa: F401  (re-exported)

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
REPORT_DIR = ROOT / "reports"
RUN_DIR = ROOT / "runs"  # where `hwcost run` writes, apart from the report
CELL_TIMEOUT_S = 300
# A known race in headless execution can leave the client waiting for a reply the kernel
# already sent (nbclient issue 312) until the cell timeout; one retry, announced, covers it.
RETRIES = 1


# How long one wait for a kernel message lasts before waiting again. Short waits make a
# reply that arrived without waking the waiting coroutine visible at the next wait.
REPLY_POLL_S = 0.5

# Kernel start-up for headless runs. jsonschema imports the optional IRI checker
# ``rfc3987_syntax`` when Altair loads it, which builds a grammar for about 1.3 s per kernel
# (jsonschema issue 1428) for a format no chart schema uses; marking the module absent makes
# jsonschema skip that one check, as it does when the package is not installed.
# ``hwcost.charts`` does the same while it imports Altair, in any process; the kernels keep
# the mark for a page's whole run, which also covers a page that imports Altair first.
KERNEL_ARGUMENTS = ("--IPKernelApp.exec_lines=import sys; sys.modules.setdefault('rfc3987_syntax', None)",)
# Notebooks executed at once by :func:`build` (each in its own kernel); HWCOST_REPORT_JOBS
# overrides it. Two keep both cores of a small machine busy.
REPORT_JOBS = 2


@dataclass(frozen=True)
class NotebookInfo:
    path: Path
    title: str
    question: str

    @property
    def stem(self) -> str:
        return self.path.stem


ENGINE_NAME = "hwcost-resilient"


def _resilient_engine_name() -> str:
    """Register (once) :func:`resilient_engine` with papermill; returns its name."""
    from papermill.engines import papermill_engines

    if ENGINE_NAME not in papermill_engines._engines:
        papermill_engines.register(ENGINE_NAME, resilient_engine())
    return ENGINE_NAME


@functools.lru_cache(maxsize=1)
def resilient_engine():
    """A papermill engine whose client waits for kernel replies in short polls.

    Headless execution of a cell that creates widgets sometimes leaves nbclient waiting on the
    shell channel for a reply the kernel already sent, until the cell timeout (nbclient issue
    312). Polling in short waits picks that reply up at the next poll. Timeouts, dead kernels
    and errors behave as in nbclient. Installed as the papermill engine ``hwcost-resilient``
    (``papermill --engine hwcost-resilient --execution-timeout 600 IN OUT``).
    """
    import asyncio
    import logging
    from queue import Empty
    from time import monotonic

    from nbclient.client import timestamp
    from nbclient.exceptions import CellExecutionComplete, CellTimeoutError
    from nbclient.util import ensure_async
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine
    from papermill.utils import merge_kwargs, remove_args

    class ResilientClient(PapermillNotebookClient):
        async def _async_poll_for_reply(self, msg_id, cell, timeout, task_poll_output_msg,
                                        task_poll_kernel_alive):
            deadline = None if timeout is None else monotonic() + timeout
            while True:
                remaining = None if deadline is None else deadline - monotonic()
                if remaining is not None and remaining <= 0:
                    # out of time: let nbclient report the timeout its usual way
                    return await super()._async_poll_for_reply(
                        msg_id, cell, 0, task_poll_output_msg, task_poll_kernel_alive)
                wait = REPLY_POLL_S if remaining is None else min(REPLY_POLL_S, remaining)
                try:
                    msg = await ensure_async(self.kc.shell_channel.get_msg(timeout=wait))
                except Empty:
                    continue
                if msg["parent_header"].get("msg_id") != msg_id:
                    continue
                if self.record_timing:
                    cell["metadata"]["execution"]["shell.execute_reply"] = timestamp(msg)
                try:
                    await asyncio.wait_for(task_poll_output_msg, self.iopub_timeout)
                except (asyncio.TimeoutError, Empty):
                    if self.raise_on_iopub_timeout:
                        task_poll_kernel_alive.cancel()
                        raise CellTimeoutError.error_from_timeout_and_cell(
                            "Timeout waiting for IOPub output", self.iopub_timeout, cell
                        ) from None
                    self.log.warning("Timeout waiting for IOPub output")
                task_poll_kernel_alive.cancel()
                return msg

        async def _async_poll_output_msg(self, parent_msg_id, cell, cell_index):
            while True:
                try:
                    msg = await ensure_async(self.kc.iopub_channel.get_msg(timeout=REPLY_POLL_S))
                except Empty:
                    continue
                if msg["parent_header"].get("msg_id") == parent_msg_id:
                    try:
                        self.process_message(msg, cell, cell_index)
                    except CellExecutionComplete:
                        return

    class ResilientEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False, stdout_file=None,
                                     stderr_file=None, start_timeout=60, execution_timeout=None,
                                     kernel_env=None, **kwargs):
            kwargs = remove_args(["input_path"], **kwargs)
            safe_kwargs = remove_args(["timeout", "startup_timeout"], **kwargs)
            final_kwargs = merge_kwargs(
                safe_kwargs,
                timeout=execution_timeout if execution_timeout else kwargs.get("timeout"),
                startup_timeout=start_timeout, kernel_name=kernel_name,
                log=logging.getLogger("papermill"), log_output=log_output,
                stdout_file=stdout_file, stderr_file=stderr_file,
                extra_arguments=list(KERNEL_ARGUMENTS),
            )
            client = ResilientClient(nb_man, **final_kwargs)
            return client.execute(env=kernel_env) if kernel_env is not None else client.execute()

    return ResilientEngine


def notebooks(directory: Path = NOTEBOOK_DIR) -> list[Path]:
    """The collection's notebooks in reading order (file name order)."""
    return sorted(p for p in Path(directory).glob("*.ipynb") if not p.name.startswith("."))


def resolve_notebook(name: str, directory: Path = NOTEBOOK_DIR) -> Path:
    """Find a notebook by path, file name, stem, or unique prefix ("03")."""
    candidate = Path(name)
    if candidate.suffix == ".ipynb" and candidate.is_file():
        return candidate
    if len(candidate.parts) > 1 or candidate.is_absolute():
        # a path, not a name: it must exist (never run a bundled notebook in its place)
        raise HwcostError(f"notebook {name!r} not found" if not candidate.exists()
                          else f"{name!r} is not a notebook file (.ipynb)")
    pool = notebooks(directory)
    stems = {p.stem: p for p in pool}
    key = candidate.stem if candidate.suffix == ".ipynb" else candidate.name
    if key in stems:
        return stems[key]
    matches = [p for p in pool if p.stem.startswith(key) or key in p.stem]
    if len(matches) == 1:
        return matches[0]
    choices = ", ".join(p.stem for p in pool)
    if matches:
        raise HwcostError(f"notebook {name!r} is ambiguous: {', '.join(p.stem for p in matches)}")
    raise HwcostError(f"unknown notebook {name!r}; expected one of: {choices}")


def _read_notebook(path) -> dict:
    """A notebook file's JSON, or an error naming the file and what is wrong with it."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise HwcostError(f"{path}: not a notebook (byte {exc.start} is not UTF-8)") from None
    except json.JSONDecodeError as exc:
        raise HwcostError(f"{path}: not a notebook (invalid JSON at line {exc.lineno}, column "
                          f"{exc.colno}: {exc.msg})") from None
    except OSError as exc:
        raise HwcostError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise HwcostError(f"{path}: not a notebook (no list of cells)")
    return data


def describe(path: Path) -> NotebookInfo:
    """Title (first heading) and question (first sentence after it) of a notebook."""
    data = _read_notebook(path)
    title, question = path.stem, ""
    for cell in data.get("cells", []):
        if cell.get("cell_type") != "markdown":
            continue
        text = "".join(cell.get("source", []))
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        for i, ln in enumerate(lines):
            if ln.startswith("#"):
                title = ln.lstrip("#").strip()
                rest = " ".join(lines[i + 1:])
                break
        else:
            rest = " ".join(lines)
        rest = re.sub(r"\*\*|__|`", "", rest)
        match = re.search(r"(.+?\?)", rest)
        question = match.group(1).strip() if match else rest.split(". ")[0].strip()
        break
    return NotebookInfo(Path(path), title, question)


def declared_parameters(path: Path) -> dict[str, str]:
    """Names and default source text of the parameters a notebook declares."""
    data = _read_notebook(path)
    for cell in data.get("cells", []):
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            out = {}
            for line in "".join(cell.get("source", [])).splitlines():
                m = re.match(r"^([A-Za-z_]\w*)\s*(?::[^=]+)?=\s*(.+?)\s*(#.*)?$", line)
                if m:
                    out[m.group(1)] = m.group(2)
            return out
    return {}


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _atomic_write(path: Path, text: str) -> None:
    outputs.atomic_write(path, text)


def execute(notebook: Path, output: Path, parameters: Mapping | None = None, *,
            timeout_s: int = CELL_TIMEOUT_S, retries: int = RETRIES, log=print) -> Path:
    """Execute ``notebook`` with papermill into ``output`` (written atomically).

    Raises
    ------
    NotebookFailed
        If a cell raises; the message names the notebook, the cell and the error.
    ValueError
        If a parameter name is not declared in the notebook's ``parameters`` cell.
    """
    import papermill as pm

    notebook = Path(notebook)
    parameters = dict(parameters or {})
    declared = declared_parameters(notebook)
    unknown = sorted(set(parameters) - set(declared))
    if unknown:
        raise HwcostError(
            f"{notebook.name} declares no parameter {', '.join(map(repr, unknown))}; "
            f"it declares: {', '.join(declared) or 'none'}"
        )
    _absolute_table_paths()
    output = Path(output)
    outputs.check_not_input(output, [notebook])
    output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=output.parent, prefix=f".{output.stem}.", suffix=".ipynb")
    os.close(fd)
    attempt = 0
    try:
        while True:
            try:
                pm.execute_notebook(
                    str(notebook), tmp, parameters=parameters, cwd=str(notebook.parent),
                    execution_timeout=timeout_s, progress_bar=False, log_output=False,
                    kernel_name="python3", engine_name=_resilient_engine_name(),
                    kernel_env=_kernel_env(parameters),
                )
                break
            except pm.PapermillExecutionError as exc:
                if exc.ename == "KeyboardInterrupt":
                    raise
                raise NotebookFailed(
                    f"{notebook.name}: cell {exc.cell_index} (execution count {exc.exec_count}) "
                    f"raised {exc.ename}: {exc.evalue}"
                ) from None
            except Exception as exc:  # timeouts and lost kernel replies
                if attempt < retries and "timeout" in type(exc).__name__.lower() + str(exc).lower():
                    attempt += 1
                    log(f"  {notebook.name}: no reply from the kernel within {timeout_s} s; "
                        f"retrying ({attempt}/{retries})")
                    continue
                raise NotebookFailed(f"{notebook.name}: execution failed: {exc}") from None
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, output)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return output


def _kernel_env(parameters: Mapping) -> dict:
    """The kernel's environment: ours, plus the parameters the page runs with (for its footer)."""
    from .notebook import RUN_PARAMETERS_ENV

    env = dict(os.environ)
    env[RUN_PARAMETERS_ENV] = json.dumps(dict(parameters), default=str)
    return env


def _absolute_table_paths() -> None:
    """Make ``HWCOST_<TABLE>_CSV`` and ``HWCOST_CALIBRATION`` paths absolute before a kernel starts.

    Notebooks execute with ``notebooks/`` as their working directory; a relative path the user
    gave from where they ran the command must still point at their file.
    """
    from .catalog import ENV_VARS
    from .perf import CALIBRATION_ENV_VAR

    for var in (*ENV_VARS.values(), CALIBRATION_ENV_VAR):
        value = os.environ.get(var)
        if value and not os.path.isabs(value):
            os.environ[var] = str(Path(value).resolve())


def strip_volatile(nb_json: dict) -> dict:
    """Drop run timestamps and other volatile metadata so committed notebooks diff cleanly.

    Also writes dollar amounts in Markdown cells the one safe way (:func:`hwcost.notebook.
    escape_currency`) and gives widget outputs a plain-text fallback that says what they are.
    """
    nb_json.get("metadata", {}).pop("papermill", None)
    nb_json.get("metadata", {}).pop("widgets", None)
    from .notebook import escape_currency

    for cell in nb_json.get("cells", []):
        meta = cell.get("metadata", {})
        meta.pop("papermill", None)
        meta.pop("execution", None)
        if cell.get("cell_type") == "markdown":
            # the same money rule as generated prose (hwcost.notebook.DOLLAR_IN_MARKDOWN)
            src = cell.get("source", "")
            text = "".join(src) if isinstance(src, list) else src
            fixed = escape_currency(text)
            if fixed != text:
                cell["source"] = fixed
        for output in cell.get("outputs", []) or []:
            data = output.get("data", {})
            if WIDGET_MIME in data:
                # without a live kernel (GitHub, a fresh JupyterLab) the plain-text fallback is
                # what shows: say what the cell is, not "interactive(children=(...".
                data["text/plain"] = WIDGET_TEXT
    return nb_json


WIDGET_TEXT = "Interactive explorer: run this notebook in JupyterLab to use it."


def refresh(notebook: Path, *, log=print) -> Path:
    """Re-execute a committed notebook with its defaults and replace it with the result.

    The notebook is executed into a temporary file first; the original is replaced only
    when every cell succeeded, with volatile metadata stripped.
    """
    notebook = Path(notebook)
    fd, tmp = tempfile.mkstemp(dir=notebook.parent, prefix=f".{notebook.stem}.", suffix=".ipynb")
    os.close(fd)
    try:
        execute(notebook, Path(tmp), {}, log=log)
        os.chmod(tmp, 0o666 & ~_umask())
        nb_json = strip_volatile(json.loads(Path(tmp).read_text(encoding="utf-8")))
        _atomic_write(notebook, json.dumps(nb_json, indent=1, ensure_ascii=False) + "\n")
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return notebook


def to_html(notebook: Path, output: Path) -> Path:
    """Convert an executed notebook to a self-contained HTML page (no network access).

    Each chart output that carries its Vega-Lite specification (:func:`hwcost.charts.
    spec_of_output`) becomes the static SVG plus a short inline script that redraws the chart
    interactively with Vega (tooltips; pan and zoom where the chart enables them). Vega is
    loaded from :data:`VEGA_BUNDLE`, a local file written beside ``output``
    (:func:`write_vega_bundle`); without it, or without JavaScript and in print, the SVG shows.
    """
    import nbformat
    from nbconvert import HTMLExporter

    from .notebook import RESULTS_MIME

    output = Path(output)
    nb = nbformat.read(str(notebook), as_version=4)
    nb.metadata.pop("widgets", None)  # widget state would pull the widget manager from a CDN
    charts = 0
    for cell in nb.cells:  # recorded results are for tests, not readers
        if cell.get("outputs"):
            kept = []
            for o in cell.outputs:
                data = o.get("data", {})
                if RESULTS_MIME in data:
                    continue
                if WIDGET_MIME in data:
                    o = _widget_note(o)
                else:
                    live = _live_chart(o, charts)
                    if live is not None:
                        o, charts = live, charts + 1
                kept.append(o)
            cell.outputs = kept
    exporter = HTMLExporter(template_name="lab")
    exporter.mathjax_url = ""
    exporter.require_js_url = ""
    exporter.exclude_input_prompt = False
    body, _ = exporter.from_notebook_node(nb)
    body = _hide_code(_remove_external_scripts(body))
    if charts:
        write_vega_bundle(output.parent)
        body = body.replace("</head>", _VEGA_HEAD + "</head>", 1)
    outputs.write(output, body)
    return output


# Interactive charts. The page loads Vega, Vega-Lite and vega-embed from one local file beside
# it; each chart is its static SVG plus a call that draws the same specification with Vega and
# swaps it in once drawn (the SVG stays when the script cannot run).
VEGA_BUNDLE = "vega-bundle.js"
VEGA_EMBED_OPTIONS = {"renderer": "svg",
                      "actions": {"export": True, "source": False, "compiled": False,
                                  "editor": False}}
_VEGA_HEAD = f"""<script src="{VEGA_BUNDLE}"></script>
<script>
function hwcostChart(id, spec) {{
  var box = document.getElementById(id);
  if (!box || typeof window.vegaEmbed !== "function") return;
  var live = document.createElement("div");
  live.className = "hwcost-chart-live";
  live.style.display = "none";
  box.appendChild(live);
  window.vegaEmbed(live, spec, {json.dumps(VEGA_EMBED_OPTIONS)}).then(function () {{
    var still = box.querySelector(".hwcost-chart-static");
    if (still) still.remove();
    live.style.display = "";
  }}).catch(function (err) {{
    live.remove();
    if (window.console) console.warn("chart " + id + " stays static: " + err);
  }});
}}
</script>
<style>
@media print {{ .hwcost-chart .vega-embed details {{ display: none; }} }}
</style>
"""


@functools.lru_cache(maxsize=1)
def vega_bundle_text() -> str:
    """The JavaScript of Vega, Vega-Lite and vega-embed in one offline script (from vl-convert).

    It defines ``vegaEmbed``, ``vega`` and ``vegaLite`` on ``window``.
    """
    import vl_convert as vlc

    return vlc.javascript_bundle()


def write_vega_bundle(directory: Path) -> Path:
    """Write :data:`VEGA_BUNDLE` into ``directory`` unless an identical copy is there."""
    path = Path(directory) / VEGA_BUNDLE
    text = vega_bundle_text()
    try:
        if path.is_file() and path.stat().st_size == len(text.encode("utf-8")) \
                and path.read_text(encoding="utf-8") == text:
            return path
    except (OSError, UnicodeDecodeError):
        pass
    outputs.write(path, text)
    return path


def _script_json(value) -> str:
    """JSON safe inside an inline ``<script>`` (no ``</script>`` or ``<!--`` can appear)."""
    return (json.dumps(value, ensure_ascii=False, separators=(",", ":"))
            .replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _live_chart(output, number: int):
    """A chart output with its specification as HTML: the SVG and the call that redraws it.

    None for any other output (it is exported as it is).
    """
    import nbformat

    from .charts import spec_of_output

    svg = output.get("data", {}).get("image/svg+xml")
    spec = spec_of_output(output)
    if spec is None or not svg:
        return None
    svg = "".join(svg) if isinstance(svg, list) else svg
    alt = output.get("data", {}).get("text/plain", "chart")
    alt = "".join(alt) if isinstance(alt, list) else alt
    chart_id = f"hwcost-chart-{number}"
    # the SVG as an image, as nbconvert shows one: inline SVGs would share their clip ids
    image = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    page = (f'<div class="hwcost-chart" id="{chart_id}">'
            f'<img class="hwcost-chart-static" alt="{html.escape(alt.strip("<>"))}" '
            f'src="data:image/svg+xml;base64,{image}"></div>\n'
            f'<script>hwcostChart("{chart_id}", {_script_json(spec)});</script>')
    return nbformat.v4.new_output("display_data", data={"text/html": page})


WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
WIDGET_NOTE = ("*Interactive explorer: open the notebook (the `.ipynb` beside this page) in "
               "JupyterLab and run it to use the sliders. Every number on this page comes from "
               "the cells above, not from the explorer.*")
# A checkbox before the cells, and style rules that hide code (and code cells without output)
# until it is ticked: the reader sees prose, tables and charts, and can open the code. CSS only.
_CODE_TOGGLE = (
    '<input type="checkbox" id="hwcost-show-code" class="hwcost-show-code">'
    '<label for="hwcost-show-code" class="hwcost-show-code-label">Show the code</label>'
)
_CODE_STYLE = """<style>
.hwcost-show-code-label { font: 0.85rem sans-serif; color: #555; cursor: pointer; margin-left: 0.3rem; }
.hwcost-show-code { margin: 1rem 0 0 1rem; }
.hwcost-show-code:not(:checked) ~ .jp-CodeCell .jp-Cell-inputWrapper { display: none; }
.hwcost-show-code:not(:checked) ~ .jp-CodeCell.jp-mod-noOutputs { display: none; }
.hwcost-show-code:not(:checked) ~ .jp-CodeCell .jp-OutputPrompt { visibility: hidden; }
</style>
"""


def _widget_note(output):
    """A widget's output in static HTML: a note instead of its ``interactive(...)`` text."""
    import nbformat

    return nbformat.v4.new_output("display_data", data={"text/markdown": WIDGET_NOTE})


def _hide_code(page: str) -> str:
    """Hide code cells' input behind a "Show the code" checkbox (no script needed)."""
    if "<main>" not in page:
        return page
    page = page.replace("<main>", "<main>\n" + _CODE_TOGGLE, 1)
    return page.replace("</head>", _CODE_STYLE + "</head>", 1)


def _remove_external_scripts(text: str) -> str:
    """Drop script tags that load from the network (or from an empty URL)."""
    return re.sub(r'<script[^>]*\ssrc="(https?://[^"]*|)"[^>]*>\s*</script>', "", text)


# The constraints a reader must see on every page that uses them (case fields).
KEY_FIELDS = ("ttft_s", "tpot_s", "availability", "privacy", "daily_profile", "horizon_months",
              "budget_usd", "energy_id", "operations_usd_per_year", "cloud_operations_usd_per_year")
# The article the collection starts from. Its text names no author; the publisher is read from
# the sources it cites (its own cost benchmarks) and the date from its "as of" notes.
ARTICLE_TITLE = "Selecting Hardware for LLM Inference"
ARTICLE_PUBLISHER = "DeployBase.AI"
ARTICLE_DATE = "March 2026"


def _scenario_case(scenario):
    return getattr(scenario, "case", None)


def scenario_fields(parameters: Mapping) -> list[str]:
    """The case fields a page receives through ``parameters`` (all of them with ``scenario``)."""
    from .requirements import NOTEBOOK_PARAMETERS

    if "scenario" in parameters and str(parameters["scenario"]).strip().lower() not in ("", "none"):
        return _all_fields()
    return list(dict.fromkeys(NOTEBOOK_PARAMETERS[n][0] for n in parameters
                              if n in NOTEBOOK_PARAMETERS))


def _all_fields() -> list[str]:
    from .requirements import SLO_FIELDS, WORKLOAD_FIELDS, constraint_fields

    return ([f for f in WORKLOAD_FIELDS + SLO_FIELDS if f != "percentile"]
            + list(constraint_fields()) + ["traffic_pattern"])


def scenario_banner(scenario, parameters: Mapping) -> str:
    """Markdown for the top of a page run for a scenario: what it takes from the scenario.

    Lists, in words, every constraint the page receives (through a parameter of its own or
    by reading the whole scenario), and the key constraints it has no parameter for.
    """
    from .requirements import describe_case

    case = _scenario_case(scenario)
    words = describe_case(case)
    fields = scenario_fields(parameters)
    taken = [f for f in words if f in fields]
    shown = [words[f] for f in taken]
    missing = [words[f] for f in KEY_FIELDS if f in words and f not in taken]
    text = f"**Scenario {scenario.name}.** "
    text += ("This page uses: " + "; ".join(shown) + "." if shown else
             "This page takes no parameter from the scenario.")
    if missing:
        text += (" It has no parameter for: " + "; ".join(missing)
                 + " (they do not change what it computes).")
    return text


def _index_rows(infos, banners) -> str:
    rows = []
    for i in infos:
        note = banners.get(i.stem)
        rows.append(f'<li><a href="{html.escape(i.stem)}.html">{html.escape(i.title)}</a>'
                    f'<br><span class="q">{html.escape(i.question)}</span>'
                    + (f'<br><span class="s">{_inline_md(note)}</span>' if note else "")
                    + "</li>")
    return "\n".join(rows)


def _inline_md(text: str) -> str:
    out = html.escape(text)
    return re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", out)


def write_index(infos: Sequence[NotebookInfo], directory: Path, *, scenario=None,
                elapsed_s: float | None = None, banners: Mapping[str, str] | None = None,
                jobs: int | None = None,
                failed: Sequence[tuple[NotebookInfo, str]] = ()) -> Path:
    """Write ``index.html``: the article, the scenario's full constraints, every page, and the
    pages that failed with the reason.

    ``scenario`` is a :class:`hwcost.scenario.Scenario` (its constraints are listed) or a
    name; ``banners`` maps a page's stem to the scenario note shown under its link.
    """
    from .requirements import describe_case

    banners = dict(banners or {})
    rows = _index_rows(infos, banners)
    if failed:
        rows += "\n</ol>\n<h2>Not built</h2>\n<ul>\n" + "\n".join(
            f'<li class="failed"><b>{html.escape(i.title)}</b> ({html.escape(i.stem)}.ipynb) '
            f'failed: <span class="why">{html.escape(reason)}</span></li>'
            for i, reason in failed
        ) + "\n</ul>\n<ol>"
    case = _scenario_case(scenario)
    if case is not None:
        words = describe_case(case)
        items = "".join(f"<li>{html.escape(v)}</li>" for v in words.values())
        desc = html.escape(getattr(scenario, "description", "") or "")
        subtitle = (f"<p><b>Scenario: {html.escape(scenario.name)}</b>. {desc}</p>"
                    f"<p>Its constraints, passed to every page that has a parameter for them "
                    f"(the note under each page says which it uses):</p><ul class=\"c\">{items}</ul>")
    elif scenario:
        subtitle = f"<p>Scenario: {html.escape(str(scenario))}.</p>"
    else:
        subtitle = "<p>Every page ran with its default parameters.</p>"
    when = time.strftime("%Y-%m-%d")
    timing = (f" in {elapsed_s:.0f} s" + (f" ({jobs} notebooks at a time)" if jobs else "")
              if elapsed_s else "")
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>hwcost report</title>
<style>
body {{ font-family: DejaVu Sans, Helvetica, Arial, sans-serif; max-width: 52rem; margin: 2rem auto;
       line-height: 1.45; color: #222; }}
li {{ margin: 0 0 0.9rem 0; }} .q {{ color: #555; }} .s {{ color: #333; font-size: 0.9rem; }}
a {{ color: #0072B2; font-weight: bold; }} .why {{ color: #D55E00; }}
ul.c li {{ margin: 0.1rem 0; }}
</style></head>
<body>
<h1>hwcost: what to serve an LLM on, and what it costs</h1>
<p>Starting point: <i>{ARTICLE_TITLE}</i>, {ARTICLE_PUBLISHER}, {ARTICLE_DATE}. Every figure in it
is recomputed here; page 09 lists the ones that do not hold.</p>
{subtitle}
<p>Built {when}{timing}. Each page is an executed notebook; the <code>.ipynb</code> beside it can be
opened in JupyterLab. Code is hidden on the pages (tick "Show the code" to read it). Charts are
interactive and need no network: hover a point or a bar for its values, drag and scroll to pan and
zoom where a chart allows it (the measured-against-predicted panels); without JavaScript they show
as static images.</p>
<ol>
{rows}
</ol>
</body></html>
"""
    out = Path(directory) / "index.html"
    outputs.write(out, page)
    return out


def _page_parameters(path: Path, parameters: Mapping[str, Mapping]) -> dict:
    declared = declared_parameters(path)
    params = {k: v for k, v in parameters.get("*", {}).items() if k in declared}
    params.update(parameters.get(path.stem, {}))
    return params


def _build_one(path: Path, directory: Path, params: dict, banner: str | None) -> tuple[list[str], str | None]:
    """Execute one page and convert it; returns (log lines, failure or None)."""
    lines: list[str] = []
    out_nb = directory / path.name
    kept = outputs.make_room(out_nb)
    if kept is not None:
        lines.append(f"  {out_nb} was not written by hwcost; kept it as {kept.name}")
    try:
        execute(path, out_nb, params, log=lines.append)
    except NotebookFailed as exc:
        return lines, str(exc)
    nb_json = strip_volatile(json.loads(out_nb.read_text(encoding="utf-8")))
    if banner:
        nb_json["cells"].insert(1, {"cell_type": "markdown", "id": "hwcost-scenario-note",
                                    "metadata": {"tags": ["scenario"]}, "source": banner})
    _atomic_write(out_nb, json.dumps(nb_json, indent=1, ensure_ascii=False) + "\n")
    outputs.record(out_nb)
    to_html(out_nb, directory / f"{path.stem}.html")
    return lines, None


def report_jobs() -> int:
    """Notebooks :func:`build` executes at once: ``HWCOST_REPORT_JOBS`` or :data:`REPORT_JOBS`."""
    text = os.environ.get("HWCOST_REPORT_JOBS", "").strip()
    if not text:
        return REPORT_JOBS
    try:
        jobs = int(text)
    except ValueError:
        jobs = 0
    if jobs < 1:
        raise HwcostError(f"HWCOST_REPORT_JOBS={text!r}: expected a whole number >= 1")
    return jobs


def build(directory: Path = REPORT_DIR, *, parameters: Mapping[str, Mapping] | None = None,
          notebook_paths: Sequence[Path] | None = None, scenario=None,
          log=print, jobs: int | None = None) -> Path:
    """Execute every notebook and write the report; returns the index path.

    ``parameters`` maps a notebook stem (or ``"*"`` for all notebooks that declare the
    name) to papermill parameters. ``scenario`` (a :class:`hwcost.scenario.Scenario`) adds a
    note at the top of each page saying which of its constraints the page uses, and lists
    them all in the index. ``jobs`` notebooks run at once, each in its own kernel (default
    :func:`report_jobs`).
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise HwcostError(f"output folder {directory} is a file; choose a folder")
    paths = list(notebook_paths or notebooks())
    if not paths:
        raise HwcostError(f"no notebooks found in {NOTEBOOK_DIR}")
    parameters = dict(parameters or {})
    jobs = max(1, min(jobs or report_jobs(), len(paths)))
    has_case = _scenario_case(scenario) is not None
    plan = []
    for path in paths:
        params = _page_parameters(path, parameters)
        plan.append((path, params, scenario_banner(scenario, params) if has_case else None))
    _absolute_table_paths()
    start = time.monotonic()
    failures, banners = [], {}
    n = len(plan)
    for path, _, _ in plan:  # never write over an input notebook
        outputs.check_not_input(directory / path.name, paths)
    # the pages' charts load Vega from one file beside them: written here, once, before the
    # pages are converted in parallel (each then finds it in place)
    write_vega_bundle(directory)

    def report_done(i, path, lines, failure):
        for line in lines:
            log(line)
        log(f"[{i}/{n}] {path.name} {'FAILED' if failure else 'done'} "
            f"(elapsed {time.monotonic() - start:.0f} s)")
        if failure:
            log(f"  FAILED: {failure}")
            failures.append(failure)

    if jobs == 1:
        for i, (path, params, banner) in enumerate(plan, 1):
            log(f"[{i}/{n}] {path.name} ... (elapsed {time.monotonic() - start:.0f} s)")
            lines, failure = _build_one(path, directory, params, banner)
            for line in lines:
                log(line)
            if failure:
                log(f"  FAILED: {failure}")
                failures.append(failure)
    else:
        ctx = multiprocessing.get_context("fork" if sys.platform != "win32" else "spawn")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
            futures = [(path, pool.submit(_build_one, path, directory, params, banner))
                       for path, params, banner in plan]
            for i, (path, fut) in enumerate(futures, 1):
                lines, failure = fut.result()
                report_done(i, path, lines, failure)
    infos, failed = [], []
    for path, _params, banner in plan:
        reason = next((f for f in failures if f.startswith(f"{path.name}:")), None)
        if reason is None and (directory / f"{path.stem}.html").exists():
            infos.append(describe(path))
            if banner:
                banners[path.stem] = banner
        elif reason is not None:
            failed.append((describe(path), reason))
    elapsed = time.monotonic() - start
    index = write_index(infos, directory, scenario=scenario, elapsed_s=elapsed, banners=banners,
                        jobs=jobs if jobs > 1 else None, failed=failed)
    if failures:  # the index lists them; the error says so too
        raise NotebookFailed(
            f"{len(failures)} of {len(paths)} notebooks failed ({index} lists them):\n  "
            + "\n  ".join(failures)
        )
    log(f"Report written to {index} ({len(paths)} notebooks, {elapsed:.0f} s)")
    return index


if __name__ == "__main__":  # pragma: no cover
    try:
        build()
    except NotebookFailed as exc:
        print(exc, file=sys.stderr)
        sys.exit(1)
