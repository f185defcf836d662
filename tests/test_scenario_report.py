"""A scenario means the same on every page: ``hwcost report --scenario`` passes each constraint
to every notebook with a parameter for it, and says on each page which ones it uses."""

import json
import re

import pytest

from hwcost import notebook as nb
from hwcost import report, requirements, scenario

SCENARIOS = scenario.bundled()
NOTEBOOKS = report.notebooks()


def _ids(paths):
    return [p.stem for p in paths]


@pytest.mark.parametrize("path", SCENARIOS, ids=_ids(SCENARIOS))
def test_every_page_gets_every_constraint_it_has_a_parameter_for(path):
    sc = scenario.load(path)
    params = sc.report_parameters()
    mapped = requirements.notebook_parameters(sc.case)
    for page in NOTEBOOKS:
        declared = report.declared_parameters(page)
        got = report._page_parameters(page, params)
        for name in declared:
            if name in sc.notebook_parameters.get(page.stem, {}):
                continue  # the file's own notebook_parameters win
            if name in mapped and name not in sc.notebook_parameters.get("*", {}):
                assert got[name] == mapped[name], (page.stem, name)
        if "scenario" in declared:
            # pages that build the whole case read the file itself: the same case as recommend
            assert scenario.load(got["scenario"]).case == sc.case


def test_the_mapping_carries_each_constraint_under_every_name():
    sc = scenario.load("privacy-enterprise-rag")
    m = requirements.notebook_parameters(sc.case)
    assert m["ttft_target_s"] == m["ttft_p95_s"] == 2.0
    assert m["tpot_target_s"] == m["tpot_p95_s"] == 0.08
    assert m["privacy_required_flag"] is True and m["availability_fraction"] == 0.999
    assert m["daily_profile_setting"] == "business-hours" and m["horizon_months"] == 36
    assert m["energy_setting"] == "us-commercial" and m["budget_usd"] == 0
    # owned hardware: the cost model's staff shares (no flat amount); rented: 5 %
    assert m["staff_base_pct"] == 5 and m["staff_per_box_pct"] == 5 and m["cloud_staff_pct"] == 5
    assert "self_hosted_staff_pct" not in m
    # a target the scenario does not set is left to the notebook's default
    no_slo = requirements.build_case(model="llama-3.1-8b", requests_per_day=10)
    assert "ttft_target_s" not in requirements.notebook_parameters(no_slo)
    startup = requirements.notebook_parameters(scenario.load("startup-chat-app").case)
    assert startup["budget_usd"] == 150_000 and startup["output_tokens_cv_pct"] == 50


def _validated(page, params) -> dict:
    """Run a page's parameters cell, papermill's injected cell and its validation cell."""
    import nbformat
    from papermill.parameterize import parameterize_notebook

    node = nbformat.read(str(page), as_version=4)
    node.metadata["papermill"] = {}
    node = parameterize_notebook(node, params, kernel_name="python3", language="python")
    code = [c for c in node.cells if c.cell_type == "code"]
    tags = [c.metadata.get("tags", []) for c in code]
    first = next(i for i, t in enumerate(tags) if "parameters" in t)
    ns = {}
    imports = "\n".join(ln for c in code[:first] for ln in c.source.splitlines()
                        if ln.startswith(("import ", "from ")))
    exec(compile(imports, f"{page.stem} imports", "exec"), ns)  # noqa: S102
    for cell in code[first:]:
        exec(compile(cell.source, f"{page.stem}", "exec"), ns)  # noqa: S102 (our notebooks)
        if "nb.parameters(" in cell.source:
            return ns["p"].as_dict()
    raise AssertionError(f"{page.stem}: no validation cell")


@pytest.mark.parametrize("path", SCENARIOS, ids=_ids(SCENARIOS))
def test_pages_validate_the_scenario_values_they_receive(path):
    sc = scenario.load(path)
    params = sc.report_parameters()
    for page in NOTEBOOKS:
        got = report._page_parameters(page, params)
        p = _validated(page, got)
        for name, value in got.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                assert p[name] == pytest.approx(value), (page.stem, name)
            elif isinstance(value, bool):
                assert p[name] is value, (page.stem, name)


@pytest.mark.parametrize("path", SCENARIOS, ids=_ids(SCENARIOS))
def test_each_page_says_which_constraints_it_uses(path):
    sc = scenario.load(path)
    params = sc.report_parameters()
    words = requirements.describe_case(sc.case)
    for page in NOTEBOOKS:
        got = report._page_parameters(page, params)
        banner = report.scenario_banner(sc, got)
        assert banner.startswith(f"**Scenario {sc.name}.**")
        for field in report.scenario_fields(got):
            if field in words:
                assert words[field] in banner, (page.stem, field)
        # the key constraints appear on every page: used, or named as not modelled there
        for field in report.KEY_FIELDS:
            assert words[field] in banner, (page.stem, field)
    privacy = words["privacy"]
    for stem in ("08_selection_flowchart", "11_decision_memo"):
        page = report.resolve_notebook(stem)
        banner = report.scenario_banner(sc, report._page_parameters(page, params))
        assert "This page uses: " in banner and privacy in banner.split(" It has no parameter")[0]


def test_index_lists_the_scenario_and_the_article(tmp_path):
    sc = scenario.load("privacy-enterprise-rag")
    infos = [report.describe(p) for p in NOTEBOOKS]
    banners = {p.stem: report.scenario_banner(sc, report._page_parameters(p, sc.report_parameters()))
               for p in NOTEBOOKS}
    page = report.write_index(infos, tmp_path, scenario=sc, banners=banners).read_text()
    for text in requirements.describe_case(sc.case).values():
        assert text.replace("<", "&lt;") in page
    assert report.ARTICLE_TITLE in page and report.ARTICLE_PUBLISHER in page
    assert "Default parameters" not in page


@pytest.mark.notebooks
def test_privacy_scenario_page_08_ranks_owned_hardware_first(tmp_path):
    sc = scenario.load("privacy-enterprise-rag")
    page = report.resolve_notebook("08")
    index = report.build(tmp_path, parameters=sc.report_parameters(), notebook_paths=[page],
                         scenario=sc, jobs=1, log=lambda m: None)
    results = nb.recorded_results(tmp_path / page.name)
    assert results["top_kind"] == "self-hosted" and results["n_feasible_by_kind"]["api"] == 0
    assert results["horizon_months"] == 36 and results["requests_per_day"] == 8000
    html = (tmp_path / f"{page.stem}.html").read_text(encoding="utf-8")
    # the case as the page states it (its privacy section also ranks the case the other way)
    assert re.search(r"availability 99\.9%, privacy required, 36 months", html)
    assert "Scenario privacy-enterprise-rag" in html
    # the footer reproduces the page as it ran
    footer = "".join(json.loads((tmp_path / page.name).read_text())["cells"][-1]["outputs"][-1]
                     ["data"]["text/markdown"])
    assert "hwcost run 08_selection_flowchart -p " in footer
    assert "-p scenario privacy-enterprise-rag" in footer and "-p privacy_required_flag true" in footer
    assert index.exists()


def test_case_from_a_scenario_takes_workload_fields_the_scenario_leaves_at_default():
    from hwcost import recommend

    # a notebook passes its own values for fields a scenario may not set (here a workload
    # field): they apply where the scenario leaves the default, and never raise
    c = recommend.case(scenario="privacy-enterprise-rag", input_tokens_cv=0.3)
    assert c.workload.input_tokens_cv == 0.3 and c.constraints.privacy is True
    kept = recommend.case(scenario="startup-chat-app", input_tokens_cv=0.3)
    assert kept.workload.input_tokens_cv == 0.5  # the scenario's own value wins
