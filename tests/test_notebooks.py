"""The notebook collection: structure of the committed notebooks, and execution with a
second parameter set asserting on recorded results.

nbval (run by ``make test`` on ``notebooks/``) separately re-executes every committed notebook
with its defaults and compares the outputs.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from nbcases import CASES

from hwcost import catalog, report
from hwcost import notebook as nb

NOTEBOOKS = report.notebooks()
STEMS = [p.stem for p in NOTEBOOKS]
MAX_LOGIC_LINES = 20
# Code lines stay readable too: a cell is kept short by moving logic into the package, not by
# widening its lines (the parameters cell keeps one parameter and its comment per line).
MAX_LINE_CHARS = 100
NAN_INF = re.compile(r"(?<![\w.])(nan|NaN|inf|-inf)(?![\w])")


def nbformat_cell(source: str):
    import nbformat

    return nbformat.v4.new_code_cell(source)


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _tags(cell) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def _text_of(output) -> str:
    parts = []
    if "text" in output:
        t = output["text"]
        parts.append("".join(t) if isinstance(t, list) else t)
    for key in ("text/plain", "text/html", "text/markdown"):
        v = output.get("data", {}).get(key)
        if v:
            parts.append("".join(v) if isinstance(v, list) else v)
    return "\n".join(parts)


def test_the_collection_is_complete():
    expected = {f"{i:02d}" for i in range(12)}
    assert {s[:2] for s in STEMS} >= expected, f"notebooks present: {STEMS}"


def test_every_notebook_has_a_case():
    assert set(STEMS) <= set(CASES), f"no alternative parameter set for {set(STEMS) - set(CASES)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=STEMS)
class TestStructure:
    def test_opens_with_its_question(self, path):
        first = _load(path)["cells"][0]
        text = "".join(first["source"])
        assert first["cell_type"] == "markdown" and text.startswith("# ")
        assert "?" in text, "the first cell states the question the notebook answers"

    def test_one_parameters_cell_then_validation(self, path):
        from papermill.translators import PythonTranslator

        cells = [c for c in _load(path)["cells"] if c["cell_type"] == "code"]
        tagged = [i for i, c in enumerate(cells) if "parameters" in _tags(c)]
        assert len(tagged) == 1
        source = "".join(cells[tagged[0]]["source"])
        assigned = [ln.split("=")[0].split(":")[0].strip() for ln in source.splitlines()
                    if ln.strip() and not ln.strip().startswith("#")]
        parsed = PythonTranslator.inspect(nbformat_cell(source))
        assert [p.name for p in parsed] == assigned, "papermill reads every parameter line"
        for p in parsed:
            assert p.help.strip(), f"parameter {p.name} needs a comment with unit and allowed values"
            assert not any(ch in p.default for ch in "()[]{}") or p.default.startswith(("[", "(")), (
                f"parameter {p.name} must be a plain literal, got {p.default}"
            )
        following = "".join(cells[tagged[0] + 1]["source"])
        assert "nb.parameters(" in following, "the cell after parameters validates them"
        assert all(f"{p.name}={p.name}" in following.replace(" ", "") for p in parsed)

    def test_committed_executed_without_errors(self, path):
        cells = [c for c in _load(path)["cells"] if c["cell_type"] == "code"]
        assert all(c.get("execution_count") for c in cells), "every code cell is executed"
        assert any(c.get("outputs") for c in cells)
        for c in cells:
            for o in c.get("outputs", []):
                assert o["output_type"] != "error", f"error output: {o.get('ename')}"
                if o.get("name") == "stderr":
                    assert "Traceback" not in o.get("text", "")

    def test_no_nan_inf_or_cdn_in_outputs(self, path):
        for c in _load(path)["cells"]:
            if c["cell_type"] != "code" or "nbval-ignore-output" in _tags(c):
                continue
            for o in c.get("outputs", []):
                text = _text_of(o)
                assert not NAN_INF.search(text), f"NaN/inf in output of: {''.join(c['source'])[:80]}"
                assert "cdn.jsdelivr" not in json.dumps(o) and "unpkg.com" not in json.dumps(o)

    def test_has_static_chart_and_widget_explorer(self, path):
        cells = [c for c in _load(path)["cells"] if c["cell_type"] == "code"]
        bundles = [o.get("data", {}) for c in cells for o in c.get("outputs", [])]
        assert any("image/svg+xml" in b and "image/png" in b for b in bundles), "a static chart"
        widget_cells = [c for c in cells if "ipywidgets" in "".join(c["source"]) or "widgets." in "".join(c["source"])]
        assert widget_cells, "an ipywidgets explorer"
        assert all("nbval-ignore-output" in _tags(c) for c in widget_cells if "interact" in "".join(c["source"]))

    def test_money_in_markdown_never_pairs_into_math(self, path):
        # JupyterLab 4 reads the text between two dollar signs (escaped or not) as a formula:
        # every amount must go through nb.money / nb.md (hwcost.notebook.DOLLAR_IN_MARKDOWN)
        dollar = re.compile(r"\\?\$(?=-?\d)")
        for c in _load(path)["cells"]:
            texts = ["".join(c["source"])] if c["cell_type"] == "markdown" else [
                "".join(o.get("data", {}).get("text/markdown", "")) for o in c.get("outputs", [])]
            for text in texts:
                assert not dollar.search(text), f"a dollar amount that can turn into math: {text[:120]}"

    def test_code_lines_fit_the_width(self, path):
        for c in _load(path)["cells"]:
            if c["cell_type"] != "code" or "parameters" in _tags(c):
                continue
            wide = [ln for ln in "".join(c["source"]).splitlines() if len(ln) > MAX_LINE_CHARS]
            assert not wide, f"{len(wide)} line(s) over {MAX_LINE_CHARS} characters: {wide[0][:80]}"

    def test_cells_are_short(self, path):
        for c in _load(path)["cells"]:
            if c["cell_type"] != "code":
                continue
            logic = [ln for ln in "".join(c["source"]).splitlines()
                     if ln.strip() and not ln.strip().startswith("#")]
            assert len(logic) <= MAX_LOGIC_LINES, (
                f"a cell of {len(logic)} lines belongs in the package: {''.join(c['source'])[:80]}"
            )

    def test_ends_with_meaning_and_rerun_command(self, path):
        cells = _load(path)["cells"]
        tail = json.dumps(cells[-3:])
        assert "What this means" in tail
        # the footer prints the hwcost run command (a path that cannot hang), not bare papermill
        footer = json.dumps(cells[-1].get("outputs", []))
        assert "hwcost run" in footer and "papermill " not in footer

    def test_default_results_recorded(self, path):
        results = nb.recorded_results(path)
        assert results, "the notebook records its headline results"
        CASES[path.stem]["check_default"](results)


class _Execute:
    notebook: Path

    def test_alternative_parameters(self, tmp_path):
        case = CASES[self.notebook.stem]
        out = report.execute(self.notebook, tmp_path / self.notebook.name, case["params"], timeout_s=240)
        data = _load(out)
        for c in data["cells"]:
            for o in c.get("outputs", []):
                assert o["output_type"] != "error"
                if c["cell_type"] == "code" and "nbval-ignore-output" not in _tags(c):
                    assert not NAN_INF.search(_text_of(o)), "NaN/inf in an output"
        results = nb.recorded_results(data)
        case["check_alternative"](results, nb.recorded_results(self.notebook))


for _path in NOTEBOOKS:
    _name = "TestExecute_" + re.sub(r"\W", "_", _path.stem)
    globals()[_name] = pytest.mark.notebooks(type(_name, (_Execute,), {"notebook": _path}))


def test_bad_parameter_value_fails_clearly(tmp_path):
    with pytest.raises(report.NotebookFailed, match="max_price_age_days"):
        report.execute(report.resolve_notebook("00"), tmp_path / "x.ipynb",
                       {"max_price_age_days": -3}, timeout_s=120)


def test_undeclared_parameter_rejected(tmp_path):
    with pytest.raises(ValueError, match="declares no parameter 'max_age'"):
        report.execute(report.resolve_notebook("00"), tmp_path / "x.ipynb", {"max_age": 3})


def test_catalog_counts_match_index():
    results = nb.recorded_results(report.resolve_notebook("00"))
    assert results["n_gpus_in_catalog"] == len(catalog.gpus())
