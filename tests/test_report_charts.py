"""Interactive charts in the HTML report: the specification travels in the notebook's output
metadata, the page draws it with a local Vega bundle, and the static SVG stays as fallback."""

import base64
import copy
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from hwcost import charts, outputs, report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")

CHART_CODE = """import pandas as pd
from hwcost import charts, notebook as nb
nb.setup()
charts.line(pd.DataFrame({"batch": [1, 2, 4], "tps": [10.0, 18.0, 30.0]}), "batch", "tps",
            title="Speed by batch")"""


@pytest.fixture(scope="module")
def executed(tmp_path_factory) -> Path:
    """A one-chart notebook executed by a kernel, as a page of the report is."""
    folder = tmp_path_factory.mktemp("charts")
    node = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Speed\n\nHow fast is it?"),
        nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(CHART_CODE),
    ])
    node.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                   "language": "python"}
    src = folder / "src.ipynb"
    nbformat.write(node, str(src))
    return report.execute(src, folder / "speed.ipynb", {}, timeout_s=120)


def _chart_output(path: Path) -> dict:
    nb = nbformat.read(str(path), as_version=4)
    return next(o for o in nb.cells[-1].outputs if "image/svg+xml" in o.get("data", {}))


def _page_spec(page: str, chart_id: str = "hwcost-chart-0") -> dict:
    call = re.search(r'hwcostChart\("' + chart_id + r'", (.*?)\);</script>', page, re.S)
    return json.loads(call.group(1))


def test_chart_output_carries_its_specification_in_metadata(executed):
    out = _chart_output(executed)
    assert set(out["data"]) >= {"image/svg+xml", "image/png"}
    spec = charts.spec_of_output(out)
    expected = charts.line(pd.DataFrame({"batch": [1, 2, 4], "tps": [10.0, 18.0, 30.0]}),
                           "batch", "tps", title="Speed by batch").to_dict()
    assert spec["mark"] == {"type": "line", "point": True}
    assert spec["title"] == "Speed by batch"
    assert spec["encoding"]["tooltip"] == expected["encoding"]["tooltip"]
    assert list(spec["datasets"].values())[0] == [{"batch": 1, "tps": 10.0}, {"batch": 2, "tps": 18.0},
                                                  {"batch": 4, "tps": 30.0}]
    assert spec["config"]["view"]["continuousWidth"] == charts.WIDTH  # the theme travels too
    # one line of compact JSON text, so a notebook file grows by the data and no more
    assert "\n" not in out["metadata"]["hwcost"]["vegalite"]


def test_nbval_compares_the_chart_and_skips_its_metadata(executed, tmp_path):
    nb = nbformat.read(str(executed), as_version=4)
    # the chart cell twice: the first with other metadata, the second with another SVG
    chart = nb.cells[-1]
    twin = nbformat.from_dict(copy.deepcopy(dict(chart)))
    twin["id"] = f"{chart.get('id', 'chart')}-twin"
    nb.cells.append(twin)
    out = next(o for o in chart.outputs if "image/svg+xml" in o.get("data", {}))
    out["metadata"]["hwcost"]["vegalite"] = charts.spec_text({"title": "not this chart"})
    other = next(o for o in twin.outputs if "image/svg+xml" in o.get("data", {}))
    other["data"]["image/svg+xml"] = other["data"]["image/svg+xml"].replace("Speed by batch", "Other")
    changed = tmp_path / "changed.ipynb"
    nbformat.write(nb, str(changed))
    cfg = Path(__file__).parent / "nbval_sanitize.cfg"
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval",
         "--nbval-current-env", "--nbval-sanitize-with", str(cfg), str(changed)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path)
    summary = run.stdout.strip().splitlines()[-1]
    # only the changed SVG fails (were metadata compared, both chart cells would)
    n_cells = sum(c.cell_type == "code" for c in nb.cells)
    assert re.search(rf"\b1 failed, {n_cells - 1} passed\b", summary), run.stdout[-2000:]
    assert f"Cell {n_cells - 1}" in run.stdout.split("mismatch 'image/svg+xml'")[0]
    assert "mismatch 'image/svg+xml'" in run.stdout


def test_page_embeds_the_specification_and_keeps_the_svg(executed, tmp_path):
    page = report.to_html(executed, tmp_path / "speed.html").read_text(encoding="utf-8")
    out = _chart_output(executed)
    assert _page_spec(page) == charts.spec_of_output(out)
    static = re.search(r'<div class="hwcost-chart" id="hwcost-chart-0"><img alt="chart: Speed by batch" '
                       r'class="hwcost-chart-static" src="data:image/svg\+xml;base64,([^"]+)"', page)
    assert base64.b64decode(static.group(1)).decode("utf-8") == out["data"]["image/svg+xml"]
    assert page.count('<script src="vega-bundle.js"></script>') == 1
    assert page.index('<script src="vega-bundle.js">') < page.index("function hwcostChart")
    assert page.index("function hwcostChart") < page.index('hwcostChart("hwcost-chart-0"')
    assert '"actions":{"export":true,"source":false,"compiled":false,"editor":false}' in \
        page.replace(" ", "")
    assert not re.search(r'<(script|link)[^>]+(src|href)="(https?:)?//', page), "no network resources"
    assert "data:image/png;base64,iVBORw0KGgo" not in page.split("<main>", 1)[1]  # SVG, not PNG


def test_bundle_written_once_beside_the_page(executed, tmp_path):
    first = report.to_html(executed, tmp_path / "a.html")
    bundle = tmp_path / report.VEGA_BUNDLE
    text = bundle.read_text(encoding="utf-8")
    assert text == report.vega_bundle_text() and len(text) > 100_000
    assert "vegaEmbed" in text and "http://" not in text[:200]
    assert outputs.written_by_hwcost(bundle)
    stamp = bundle.stat().st_mtime_ns, bundle.stat().st_ino
    report.to_html(executed, tmp_path / "b.html")  # a second page: the same file, untouched
    assert (bundle.stat().st_mtime_ns, bundle.stat().st_ino) == stamp
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".js") == [report.VEGA_BUNDLE]
    # a page written elsewhere gets its own copy beside it
    other = report.to_html(executed, tmp_path / "elsewhere" / "c.html")
    assert (other.parent / report.VEGA_BUNDLE).read_text(encoding="utf-8") == text
    assert first.read_text(encoding="utf-8").count("vega-bundle.js") == 1


def test_a_users_file_named_like_the_bundle_is_kept(executed, tmp_path):
    mine = tmp_path / report.VEGA_BUNDLE
    mine.write_text("// my own script\n", encoding="utf-8")
    report.to_html(executed, tmp_path / "speed.html")
    assert (tmp_path / (report.VEGA_BUNDLE + ".bak")).read_text() == "// my own script\n"
    assert mine.read_text(encoding="utf-8") == report.vega_bundle_text()


def test_pages_without_a_chart_specification_load_no_script(tmp_path):
    node = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Plain\n\nNo chart?")])
    src = tmp_path / "plain.ipynb"
    nbformat.write(node, str(src))
    page = report.to_html(src, tmp_path / "plain.html").read_text(encoding="utf-8")
    assert "vega-bundle.js" not in page and "hwcostChart" not in page
    assert not (tmp_path / report.VEGA_BUNDLE).exists()


def test_a_specification_cannot_close_its_script(tmp_path):
    chart = charts.line(pd.DataFrame({"x": [1, 2], "y": [3.0, 4.0]}), "x", "y",
                        title="a </script><script>alert(1)</script> b <!-- c")
    charts.enable()
    bundle, metadata = chart._repr_mimebundle_()
    node = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("chart")])
    node.cells[0].outputs = [nbformat.v4.new_output("display_data", data=bundle, metadata=metadata)]
    src = tmp_path / "odd.ipynb"
    nbformat.write(node, str(src))
    page = report.to_html(src, tmp_path / "odd.html").read_text(encoding="utf-8")
    script = page.split('hwcostChart("hwcost-chart-0", ', 1)[1].split("</script>", 1)[0]
    assert "<" not in script
    assert _page_spec(page)["title"] == "a </script><script>alert(1)</script> b <!-- c"


def test_local_scripts_survive_the_external_script_filter():
    page = ('<script src="vega-bundle.js"></script><script src="https://cdn.example/x.js"></script>'
            '<script src=""></script><script>hwcostChart("hwcost-chart-0", {"a":"src=\\"http://x\\""});'
            '</script>')
    kept = report._remove_external_scripts(page)
    assert kept == ('<script src="vega-bundle.js"></script><script>hwcostChart("hwcost-chart-0", '
                    '{"a":"src=\\"http://x\\""});</script>')


def _dump_dom(page: Path) -> str:
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-extensions",
           "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
           "--virtual-time-budget=5000", "--dump-dom", page.as_uri()]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=True).stdout


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed")
def test_page_draws_the_chart_with_vega_offline(executed, tmp_path):
    page = report.to_html(executed, tmp_path / "speed.html")
    dom = _dump_dom(page)
    live = re.search(r'<div class="hwcost-chart" id="hwcost-chart-0"><div class="hwcost-chart-live '
                     r'vega-embed[^"]*"[^>]*>(.*?)</svg>', dom, re.S)
    assert live, dom[-3000:]
    assert 'role="graphics-document"' in live.group(1)
    assert re.search(r'<svg[^>]+class="marks"', live.group(1))
    assert "Speed by batch" in live.group(1)
    assert 'class="hwcost-chart-static"' not in dom  # swapped for the live chart
    # without the bundle (a page copied alone) the static chart stays
    (tmp_path / report.VEGA_BUNDLE).unlink()
    dom = _dump_dom(page)
    assert re.search(r'<img alt="chart: Speed by batch" class="hwcost-chart-static" '
                     r'src="data:image/svg\+xml;base64,', dom)
    assert "vega-embed" not in dom.split("<main>", 1)[1]
