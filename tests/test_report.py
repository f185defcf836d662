"""The HTML report: builds, names failures, and renders offline with every chart visible."""

import contextlib
import functools
import html
import http.server
import json
import re
import shutil
import subprocess
import threading
import urllib.parse
from pathlib import Path

import nbformat
import pytest

from hwcost import report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def _tiny_notebook(path: Path, body: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_markdown_cell("# A tiny notebook\n\nDoes it run?"),
        nbformat.v4.new_code_cell("x = 1  # int"),
        nbformat.v4.new_code_cell(body),
    ]
    nb.cells[1].metadata["tags"] = ["parameters"]
    nbformat.write(nb, str(path))
    return path


@pytest.mark.notebooks
def test_build_reports_progress_and_writes_index(tmp_path):
    src = _tiny_notebook(tmp_path / "01_tiny.ipynb", "print(x * 2)")
    lines = []
    index = report.build(tmp_path / "out", notebook_paths=[src], log=lines.append)
    assert index.exists() and (tmp_path / "out" / "01_tiny.html").exists()
    assert (tmp_path / "out" / "01_tiny.ipynb").exists()
    assert any(line.startswith("[1/1] 01_tiny.ipynb") and "elapsed" in line for line in lines)
    assert "Does it run?" in index.read_text()
    executed = json.loads((tmp_path / "out" / "01_tiny.ipynb").read_text())
    assert "".join(executed["cells"][-1]["outputs"][0]["text"]) == "2\n"


@pytest.mark.notebooks
def test_build_names_failing_notebook_and_cell(tmp_path):
    good = _tiny_notebook(tmp_path / "01_good.ipynb", "print(x)")
    bad = _tiny_notebook(tmp_path / "02_bad.ipynb", "1 / 0")
    with pytest.raises(report.NotebookFailed) as err:
        report.build(tmp_path / "out", notebook_paths=[good, bad], log=lambda s: None)
    text = str(err.value)
    assert "02_bad.ipynb" in text and "cell" in text and "ZeroDivisionError" in text
    assert (tmp_path / "out" / "01_good.html").exists()
    # the index still lists what was built, and names what failed and why
    index = (tmp_path / "out" / "index.html").read_text()
    assert 'href="01_good.html"' in index and 'href="02_bad.html"' not in index
    assert "Not built" in index and "02_bad.ipynb" in index and "ZeroDivisionError" in index


def test_existing_output_replaced_only_on_success(tmp_path):
    bad = _tiny_notebook(tmp_path / "bad.ipynb", "raise RuntimeError('boom')")
    out = tmp_path / "result.ipynb"
    out.write_text("previous result")
    with pytest.raises(report.NotebookFailed):
        report.execute(bad, out, {}, timeout_s=60)
    assert out.read_text() == "previous result"


def test_describe_and_declared_parameters():
    path = report.resolve_notebook("00")
    info = report.describe(path)
    assert info.question.endswith("?")
    assert "max_price_age_days" in report.declared_parameters(path)


def test_resolve_unknown_notebook_lists_choices():
    with pytest.raises(ValueError, match="unknown notebook 'zz'.*00_index"):
        report.resolve_notebook("zz")


def _chart_count(path: Path, *, with_spec: bool = False) -> int:
    from hwcost.charts import spec_of_output

    nb = json.loads(path.read_text())
    return sum(
        1 for c in nb["cells"] if c["cell_type"] == "code"
        for o in c.get("outputs", []) if "image/svg+xml" in o.get("data", {})
        and (not with_spec or spec_of_output(o) is not None)
    )


# Counts, once Vega has drawn, the charts shown: drawn by Vega (live) or still static SVG images.
PROBE = """<script>
window.addEventListener('load', function () { setTimeout(function () {
  var imgs = Array.prototype.slice.call(document.images);
  var still = imgs.filter(function (i) { return i.src.indexOf('data:image/svg+xml') === 0; });
  var broken = still.filter(function (i) { return !(i.complete && i.naturalWidth > 0); });
  var live = document.querySelectorAll('.hwcost-chart .vega-embed svg.marks').length;
  document.body.setAttribute('data-charts', still.length + live);
  document.body.setAttribute('data-live', live);
  document.body.setAttribute('data-broken', broken.length);
}, 500); });
</script></body>"""

# Loads every probed page in a frame of its own and, once each has counted, writes their counts
# into this page, so one browser run checks them all (the pages are served from one origin).
FRAMES = """<!DOCTYPE html><html><body><script>
var pages = %s, counts = {}, left = pages.length;
pages.forEach(function (name) {
  var frame = document.createElement('iframe');
  frame.style.width = '1100px'; frame.style.height = '700px';
  frame.onload = function () { setTimeout(function () {
    var b = frame.contentDocument.body;
    counts[name] = ['data-charts', 'data-live', 'data-broken'].map(function (k) {
      return b.getAttribute(k); });
    if (--left === 0) { document.body.setAttribute('data-counts', JSON.stringify(counts)); }
  }, 1500); };
  frame.src = name;
  document.body.appendChild(frame);
});
</script></body></html>"""


def _render(url: str, budget_ms: int = 5000) -> str:
    """The DOM of ``url`` once loaded; every request goes to a dead proxy (nothing loads from
    the network) except those to ``url``'s own host and port."""
    here = urllib.parse.urlsplit(url).netloc
    cmd = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-extensions",
        "--proxy-server=127.0.0.1:9", f"--proxy-bypass-list={here}",
        f"--virtual-time-budget={budget_ms}", "--dump-dom", url,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=True).stdout


@contextlib.contextmanager
def _served(directory: Path):
    """``directory`` over HTTP on 127.0.0.1 (a free port) while the block runs."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(directory))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed")
def test_report_renders_offline_with_every_chart(tmp_path):
    infos = []
    for path in report.notebooks():
        report.to_html(path, tmp_path / f"{path.stem}.html")
        infos.append(report.describe(path))
    index = report.write_index(infos, tmp_path)
    probes = []
    for path in report.notebooks():
        text = (tmp_path / f"{path.stem}.html").read_text()
        assert not re.search(r'<(script|link)[^>]+(src|href)="https?://', text), "no network resources"
        probes.append(f"probe_{path.stem}.html")
        (tmp_path / probes[-1]).write_text(text.replace("</body>", PROBE, 1))
    (tmp_path / "frames.html").write_text(FRAMES % json.dumps(probes))
    with _served(tmp_path) as origin:
        links = re.findall(r'href="([^"]+\.html)"', _render(f"{origin}/{index.name}"))
        dom = _render(f"{origin}/frames.html", budget_ms=60000)
    assert sorted(links) == sorted(f"{p.stem}.html" for p in report.notebooks())
    found = re.search(r'data-counts="([^"]+)"', dom)
    assert found, "the pages did not all finish loading"
    counts = json.loads(html.unescape(found.group(1)))
    for path in report.notebooks():
        charts, live, broken = (int(x) for x in counts[f"probe_{path.stem}.html"])
        assert charts == _chart_count(path) and charts > 0, path.name
        assert broken == 0, f"{broken} charts did not render in {path.stem}.html"
        # every chart that carries its specification is drawn by Vega from the local bundle
        assert live == _chart_count(path, with_spec=True), path.name


def test_relative_table_paths_survive_the_notebook_working_directory(tmp_path, monkeypatch):
    from hwcost import catalog

    mine = tmp_path / "my_prices.csv"
    mine.write_text((catalog.DATA_DIR / "cloud_prices.csv").read_text())
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(catalog.ENV_VARS["cloud_prices"], "my_prices.csv")
    (tmp_path / "nbdir").mkdir()  # the kernel runs in the notebook's folder, not the caller's
    nb = _tiny_notebook(tmp_path / "nbdir" / "t.ipynb",
                        "from hwcost import catalog\nprint(catalog.cloud_prices().attrs['source_file'])")
    (tmp_path / "sub").mkdir()
    out = report.execute(nb, tmp_path / "sub" / "out.ipynb", {}, timeout_s=120)
    printed = "".join(json.loads(out.read_text())["cells"][-1]["outputs"][0]["text"]).strip()
    assert printed == str(mine.resolve())


def test_html_hides_code_behind_a_checkbox_and_replaces_widget_text(tmp_path):
    page = report.to_html(report.resolve_notebook("08"), tmp_path / "08.html").read_text()
    main = page.split("<main>", 1)[1]
    # the toggle comes before every cell, so the CSS sibling rule reaches all of them
    assert main.lstrip().startswith('<input type="checkbox" id="hwcost-show-code"')
    assert ".hwcost-show-code:not(:checked) ~ .jp-CodeCell .jp-Cell-inputWrapper { display: none; }" in page
    assert "interactive(children=" not in page
    assert "Interactive explorer: open the notebook" in page


def test_run_writes_to_its_own_folder():
    assert report.RUN_DIR != report.REPORT_DIR and report.RUN_DIR.name == "runs"


def test_report_jobs_from_the_environment(monkeypatch):
    monkeypatch.delenv("HWCOST_REPORT_JOBS", raising=False)
    assert report.report_jobs() == report.REPORT_JOBS == 2
    monkeypatch.setenv("HWCOST_REPORT_JOBS", "1")
    assert report.report_jobs() == 1
    monkeypatch.setenv("HWCOST_REPORT_JOBS", "zero")
    with pytest.raises(ValueError, match="HWCOST_REPORT_JOBS='zero'"):
        report.report_jobs()


def test_kernels_skip_the_iri_grammar_and_know_their_parameters(tmp_path):
    nb = _tiny_notebook(tmp_path / "t.ipynb",
                        "import sys, os, json\n"
                        "print(sys.modules.get('rfc3987_syntax', 'absent'))\n"
                        "print(os.environ.get('HWCOST_RUN_PARAMETERS'))")
    out = report.execute(nb, tmp_path / "out.ipynb", {}, timeout_s=120)
    printed = "".join(json.loads(out.read_text())["cells"][-1]["outputs"][0]["text"]).split("\n")
    assert printed[0] == "None" and printed[1] == "{}"


def test_committed_widget_outputs_say_what_they_are():
    for path in report.notebooks():
        for cell in json.loads(path.read_text())["cells"]:
            for out in cell.get("outputs", []):
                data = out.get("data", {})
                if report.WIDGET_MIME in data:
                    assert data["text/plain"] == report.WIDGET_TEXT, path.name
    node = {"cells": [{"metadata": {}, "outputs": [{"data": {
        report.WIDGET_MIME: {"model_id": "x"}, "text/plain": "interactive(children=(..."}}]}]}
    out = report.strip_volatile(node)["cells"][0]["outputs"][0]["data"]
    assert out["text/plain"] == report.WIDGET_TEXT and out[report.WIDGET_MIME] == {"model_id": "x"}


def test_the_resilient_engine_is_installed_for_papermill_itself():
    import tomllib

    from papermill.engines import Engine

    from hwcost import papermill_engine

    meta = tomllib.loads((report.ROOT / "pyproject.toml").read_text())
    target = meta["project"]["entry-points"]["papermill.engine"][report.ENGINE_NAME]
    assert target == "hwcost.papermill_engine:ResilientEngine"
    assert issubclass(papermill_engine.ResilientEngine, Engine)
    assert papermill_engine.ResilientEngine is report.resilient_engine()


def test_refresh_writes_markdown_money_the_safe_way():
    span = "<span>&#36;</span>"
    node = {"cells": [{"cell_type": "markdown", "metadata": {},
                       "source": ["APIs cost \\$0.50-15 per 1M; a card costs $600 a year; $x$ stays\n"]}]}
    out = report.strip_volatile(node)["cells"][0]["source"]
    assert out == f"APIs cost {span}0.50-15 per 1M; a card costs {span}600 a year; $x$ stays\n"
