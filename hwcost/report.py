"""Execute notebooks with papermill and build the offline HTML report in ``reports/``.

The report is a folder: each executed notebook as ``.ipynb`` and ``.html``, and an
``index.html`` linking them with the question each answers. The HTML needs no network:
charts are inline SVG (see :mod:`hwcost.charts`), and no external script is referenced.
"""

from __future__ import annotations

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
CELL_TIMEOUT_S = 300
# A known race in headless execution can leave the client waiting for a reply the kernel
# already sent (nbclient issue 312) until the cell timeout; one retry, announced, covers it.
RETRIES = 1


# How long one wait for a kernel message lasts before waiting again. Short waits make a
# reply that arrived without waking the waiting coroutine visible at the next wait.
REPLY_POLL_S = 0.5


@dataclass(frozen=True)
class NotebookInfo:
    path: Path
    title: str
    question: str

    @property
    def stem(self) -> str:
        return self.path.stem


def _resilient_engine_name() -> str:
    """Register (once) a papermill engine whose client waits for kernel replies in short polls.

    Headless execution of a cell that creates widgets sometimes leaves nbclient waiting on the
    shell channel for a reply the kernel already sent, until the cell timeout (nbclient issue
    312). Polling in short waits picks that reply up at the next poll. Timeouts, dead kernels
    and errors behave as in nbclient.
    """
    import asyncio
    import logging
    from queue import Empty
    from time import monotonic

    from nbclient.client import timestamp
    from nbclient.exceptions import CellExecutionComplete, CellTimeoutError
    from nbclient.util import ensure_async
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines
    from papermill.utils import merge_kwargs, remove_args

    name = "hwcost-resilient"
    if name in papermill_engines._engines:
        return name

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
                                     **kwargs):
            kwargs = remove_args(["input_path"], **kwargs)
            safe_kwargs = remove_args(["timeout", "startup_timeout"], **kwargs)
            final_kwargs = merge_kwargs(
                safe_kwargs,
                timeout=execution_timeout if execution_timeout else kwargs.get("timeout"),
                startup_timeout=start_timeout, kernel_name=kernel_name,
                log=logging.getLogger("papermill"), log_output=log_output,
                stdout_file=stdout_file, stderr_file=stderr_file,
            )
            return ResilientClient(nb_man, **final_kwargs).execute()

    papermill_engines.register(name, ResilientEngine)
    return name


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


def _absolute_table_paths() -> None:
    """Make ``HWCOST_<TABLE>_CSV`` paths absolute before a kernel starts.

    Notebooks execute with ``notebooks/`` as their working directory; a relative path the user
    gave from where they ran the command must still point at their file.
    """
    from .catalog import ENV_VARS

    for var in ENV_VARS.values():
        value = os.environ.get(var)
        if value and not os.path.isabs(value):
            os.environ[var] = str(Path(value).resolve())


def strip_volatile(nb_json: dict) -> dict:
    """Drop run timestamps and other volatile metadata so committed notebooks diff cleanly."""
    nb_json.get("metadata", {}).pop("papermill", None)
    nb_json.get("metadata", {}).pop("widgets", None)
    for cell in nb_json.get("cells", []):
        meta = cell.get("metadata", {})
        meta.pop("papermill", None)
        meta.pop("execution", None)
    return nb_json


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
    """Convert an executed notebook to self-contained HTML (no external scripts)."""
    import nbformat
    from nbconvert import HTMLExporter

    from .notebook import RESULTS_MIME

    nb = nbformat.read(str(notebook), as_version=4)
    nb.metadata.pop("widgets", None)  # widget state would pull the widget manager from a CDN
    for cell in nb.cells:  # recorded results are for tests, not readers
        if cell.get("outputs"):
            cell.outputs = [o for o in cell.outputs if RESULTS_MIME not in o.get("data", {})]
    exporter = HTMLExporter(template_name="lab")
    exporter.mathjax_url = ""
    exporter.require_js_url = ""
    exporter.exclude_input_prompt = False
    body, _ = exporter.from_notebook_node(nb)
    body = _remove_external_scripts(body)
    outputs.write(Path(output), body)
    return Path(output)


def _remove_external_scripts(text: str) -> str:
    """Drop script tags that load from the network (or from an empty URL)."""
    return re.sub(r'<script[^>]*\ssrc="(https?://[^"]*|)"[^>]*>\s*</script>', "", text)


def write_index(infos: Sequence[NotebookInfo], directory: Path, *, scenario: str | None = None,
                elapsed_s: float | None = None) -> Path:
    rows = "\n".join(
        f'<li><a href="{html.escape(i.stem)}.html">{html.escape(i.title)}</a>'
        f'<br><span class="q">{html.escape(i.question)}</span></li>'
        for i in infos
    )
    subtitle = f"Scenario: {html.escape(scenario)}" if scenario else "Default parameters"
    when = time.strftime("%Y-%m-%d")
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>hwcost report</title>
<style>
body {{ font-family: DejaVu Sans, Helvetica, Arial, sans-serif; max-width: 52rem; margin: 2rem auto; line-height: 1.45; color: #222; }}
li {{ margin: 0 0 0.9rem 0; }} .q {{ color: #555; }} a {{ color: #0072B2; font-weight: bold; }}
</style></head>
<body>
<h1>hwcost: what to serve an LLM on, and what it costs</h1>
<p>{subtitle}. Built {when}{f" in {elapsed_s:.0f} s" if elapsed_s else ""}. Each page is an executed notebook; the
<code>.ipynb</code> beside it can be opened in JupyterLab.</p>
<ol>
{rows}
</ol>
</body></html>
"""
    out = Path(directory) / "index.html"
    outputs.write(out, page)
    return out


def build(directory: Path = REPORT_DIR, *, parameters: Mapping[str, Mapping] | None = None,
          notebook_paths: Sequence[Path] | None = None, scenario: str | None = None,
          log=print) -> Path:
    """Execute every notebook and write the report; returns the index path.

    ``parameters`` maps a notebook stem (or ``"*"`` for all notebooks that declare the
    name) to papermill parameters.
    """
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise HwcostError(f"output folder {directory} is a file; choose a folder")
    paths = list(notebook_paths or notebooks())
    if not paths:
        raise HwcostError(f"no notebooks found in {NOTEBOOK_DIR}")
    parameters = dict(parameters or {})
    infos = []
    start = time.monotonic()
    failures = []
    for i, path in enumerate(paths, 1):
        declared = declared_parameters(path)
        params = {k: v for k, v in parameters.get("*", {}).items() if k in declared}
        params.update(parameters.get(path.stem, {}))
        log(f"[{i}/{len(paths)}] {path.name} ... (elapsed {time.monotonic() - start:.0f} s)")
        out_nb = directory / path.name
        outputs.check_not_input(out_nb, paths)
        kept = outputs.make_room(out_nb)
        if kept is not None:
            log(f"  {out_nb} was not written by hwcost; kept it as {kept.name}")
        try:
            execute(path, out_nb, params, log=log)
        except NotebookFailed as exc:
            log(f"  FAILED: {exc}")
            failures.append(str(exc))
            continue
        nb_json = strip_volatile(json.loads(out_nb.read_text(encoding="utf-8")))
        _atomic_write(out_nb, json.dumps(nb_json, indent=1, ensure_ascii=False) + "\n")
        outputs.record(out_nb)
        to_html(out_nb, directory / f"{path.stem}.html")
        infos.append(describe(path))
    elapsed = time.monotonic() - start
    if failures:  # the index is left as it was: it never lists a page that failed
        raise NotebookFailed(
            f"{len(failures)} of {len(paths)} notebooks failed (index.html not rewritten):\n  "
            + "\n  ".join(failures)
        )
    index = write_index(infos, directory, scenario=scenario, elapsed_s=elapsed)
    log(f"Report written to {index} ({len(paths)} notebooks, {elapsed:.0f} s)")
    return index


if __name__ == "__main__":  # pragma: no cover
    try:
        build()
    except NotebookFailed as exc:
        print(exc, file=sys.stderr)
        sys.exit(1)
