"""Bad input gets a clear answer up front; nothing the user wrote is lost (issue 15)."""

import types

import pytest

from hwcost import notebook as nb
from hwcost.errors import HwcostError, ParameterError


# ----------------------------------------------------------------------------------------
# Notebook parameters: upper bounds, context window, misspelled names
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, message", [
    ({"n_samples": 1e30}, "n_samples must be a whole number >= 1 and <= 1,000,000, got 1e+30"),
    ({"max_gpu_count": 1e30}, "max_gpu_count must be a whole number >= 1 and <= 1024, got 1e+30"),
    ({"batch_size": 100000}, "batch_size must be a whole number >= 1 and <= 4096, got 100000"),
    ({"requests_per_day": 1e30}, "requests_per_day must be a finite number > 0 and <= 1e+12"),
    ({"requests_per_day": True}, "requests_per_day must be a finite number > 0 and <= 1e+12, got True"),
    ({"seed": -1}, "seed must be a whole number >= 0"),
    ({"provider": "runpdo"}, "did you mean 'runpod'?"),
    ({"energy_setting": "us-residentail"}, "did you mean 'us-residential'"),
    ({"privacy_required_flag": 1}, "privacy_required_flag must be true or false, got 1"),
])
def test_out_of_range_parameters_fail_up_front(kwargs, message):
    with pytest.raises(ParameterError) as info:
        nb.parameters(**kwargs)
    assert message in str(info.value)


def test_prompt_beyond_the_context_window_is_refused_up_front():
    # llama-3.1-70b reads 131,072 tokens: notebook 01/02 with input_tokens 10,000,000
    with pytest.raises(ParameterError, match="context window of llama-3.1-70b"):
        nb.parameters(model="llama-3.1-70b", input_tokens=10_000_000, output_tokens=256)
    p = nb.parameters(model="llama-3.1-70b", input_tokens=130_000, output_tokens=1_000)
    assert p.input_tokens == 130_000


def test_text_spelling_a_number_is_read_at_the_entry_layer():
    p = nb.parameters(requests_per_day="1e5", input_tokens="2_048", n_samples="5000")
    assert p.requests_per_day == 1e5 and p.input_tokens == 2048 and p.n_samples == 5000


def test_a_misspelled_papermill_parameter_is_refused(monkeypatch):
    import IPython

    history = ["import hwcost", 'requests_per_day = 2000\nmodel = "llama-3.1-8b"\n',
               "# Parameters\nrequest_per_day = 20000\n"]
    user_ns = {"In": history, "nb": nb}
    shell = types.SimpleNamespace(user_ns=user_ns)
    monkeypatch.setattr(IPython, "get_ipython", lambda: shell)
    cell = 'p = nb.parameters(requests_per_day=2000, model="llama-3.1-8b")'
    with pytest.raises(ParameterError) as info:
        exec(cell, user_ns)  # as a notebook cell runs: the kernel's namespace is its globals
    assert str(info.value) == ("this notebook has no parameter 'request_per_day'; "
                               "did you mean 'requests_per_day'?")
    # the same call from library code (a scenario's own parameters) is not the notebook's
    assert nb.parameters(requests_per_day=2000, model="llama-3.1-8b").requests_per_day == 2000
    history[-1] = "# Parameters\nrequests_per_day = 20000\n"
    exec(cell, user_ns)
    assert user_ns["p"].requests_per_day == 2000


def test_parameter_errors_are_hwcost_errors():
    assert issubclass(ParameterError, HwcostError) and issubclass(ParameterError, ValueError)


# ----------------------------------------------------------------------------------------
# YAML: bounded size and alias expansion, keys named
# ----------------------------------------------------------------------------------------
import io  # noqa: E402
import time  # noqa: E402

from hwcost import cli, scenario  # noqa: E402
from hwcost.errors import ScenarioError  # noqa: E402

BILLION_LAUGHS = "\n".join(
    ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    + [f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]"
       for i in range(8)]
    + ["name: x", "source: y", "workload: {model: llama-3.1-8b, requests_per_day: *i}"]
)


def run(*argv):
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_nested_aliases_are_refused_quickly_with_a_short_message(tmp_path):
    path = tmp_path / "laughs.yaml"
    path.write_text(BILLION_LAUGHS)
    assert path.stat().st_size < 600
    start = time.monotonic()
    with pytest.raises(ScenarioError, match="more than 100,000 values once its aliases"):
        scenario.load(path)
    code, out, err = run("recommend", "--scenario", str(path))
    assert time.monotonic() - start < 5
    assert code == 2 and len(err) < 500 and "Traceback" not in err


def test_a_recursive_alias_is_refused():
    with pytest.raises(ScenarioError, match="recursive alias"):
        scenario.load_yaml("a: &a [*a]\n", "f.yaml")


def test_parameter_files_are_read_with_the_same_bounded_loader(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(BILLION_LAUGHS)
    code, out, err = run("run", "07", "-f", str(path), "--output-dir", str(tmp_path / "out"))
    assert code == 2 and "aliases" in err and len(err) < 500
    assert not (tmp_path / "out").exists()


SCENARIO = """\
name: t
source: test
workload: {{model: llama-3.1-8b, requests_per_day: 2000}}
{extra}
"""


@pytest.mark.parametrize("extra, key, message", [
    ("constraints: {horizon_months: abc}", "constraints.horizon_months",
     "horizon_months must be a finite number > 0 and <= 1200, got 'abc'"),
    ("constraints: {max_gpus: 2.7}", "constraints.max_gpus",
     "max_gpus must be a whole number >= 1 and <= 4096, got 2.7"),
    ("constraints: {n_gpus_options: [1.5, 2]}", "constraints.n_gpus_options",
     "n_gpus_options must be a whole number >= 1 and <= 72, got 1.5"),
    ("constraints: {privacy: 'yes'}", "constraints.privacy", "privacy must be true or false"),
    ("constraints: {replica_availability: 0}", "constraints.replica_availability",
     "replica_availability must be a fraction like 0.999"),
])
def test_constraint_type_errors_name_the_key(tmp_path, extra, key, message):
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO.format(extra=extra))
    with pytest.raises(ScenarioError) as info:
        scenario.load(path)
    assert f"key '{key}': {message}" in str(info.value)


def test_requests_per_day_true_is_not_one_request(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO.format(extra="").replace("2000", "true"))
    with pytest.raises(ScenarioError, match="workload.requests_per_day.*got True"):
        scenario.load(path)


def test_numbers_written_as_text_in_yaml_are_numbers(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO.format(extra="constraints: {horizon_months: '24'}")
                    .replace("2000", "1e5"))  # PyYAML reads 1e5 as text
    sc = scenario.load(path)
    assert sc.workload.requests_per_day == 1e5 and sc.constraints.horizon_months == 24.0


def test_a_scenario_path_that_is_a_directory_is_named(tmp_path):
    with pytest.raises(ScenarioError, match="is a directory"):
        scenario.load(tmp_path)


# ----------------------------------------------------------------------------------------
# CSV tables: BOM, duplicate columns, encoding, directories
# ----------------------------------------------------------------------------------------
from hwcost import catalog  # noqa: E402
from hwcost.errors import CatalogError  # noqa: E402


def _energy_text():
    return (catalog.DATA_DIR / "energy.csv").read_text(encoding="utf-8")


def test_a_utf8_bom_is_read_like_plain_utf8(tmp_path):
    path = tmp_path / "energy.csv"
    path.write_bytes(b"\xef\xbb\xbf" + _energy_text().encode("utf-8"))
    assert list(catalog.energy(path=path)["id"]) == list(catalog.energy()["id"])


def test_a_column_given_twice_is_refused(tmp_path):
    lines = _energy_text().splitlines()
    header = lines[0].split(",")
    lines = [ln + "," + ln.split(",")[1] for ln in lines]  # the second column again, last
    path = tmp_path / "energy.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(CatalogError, match=f"row 1 \\(header\\): column\\(s\\) {header[1]} given twice"):
        catalog.energy(path=path)


def test_a_latin1_file_names_file_row_and_column(tmp_path):
    lines = _energy_text().splitlines()
    cols = lines[0].split(",")
    source = cols.index("source")
    cells = next(__import__("csv").reader([lines[2]]))
    cells[source] = "Caf\xe9 " + cells[source]
    import csv as _csv
    buf = io.StringIO()
    _csv.writer(buf, lineterminator="\n").writerow(cells)
    lines[2] = buf.getvalue().rstrip("\n")
    path = tmp_path / "energy.csv"
    path.write_bytes(("\n".join(lines) + "\n").encode("latin-1"))
    with pytest.raises(CatalogError) as info:
        catalog.energy(path=path)
    assert str(info.value).startswith(f"{path}: row 3, column 'source': byte 0xe9 is not UTF-8")


def test_a_table_path_that_is_a_directory(tmp_path, monkeypatch):
    with pytest.raises(CatalogError, match="is a directory; expected a CSV file"):
        catalog.energy(path=tmp_path)
    monkeypatch.setenv("HWCOST_GPUS_CSV", str(tmp_path))
    code, out, err = run("catalog", "gpus")
    assert code == 2 and "is a directory" in err and "Traceback" not in err


# ----------------------------------------------------------------------------------------
# Outputs: atomic, recorded, never over a user's file or an input notebook
# ----------------------------------------------------------------------------------------
import nbformat  # noqa: E402

from hwcost import outputs, report  # noqa: E402


def _tiny(path, body="print(x * 2)"):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell("# Tiny\n\nDoes it run?"),
                nbformat.v4.new_code_cell("x = 1  # int", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell(body)]
    nbformat.write(nb, str(path))
    return path


def test_write_keeps_a_file_hwcost_did_not_write(tmp_path):
    user = tmp_path / "index.html"
    user.write_text("my own page")
    outputs.write(user, "report index")
    assert (tmp_path / "index.html.bak").read_text() == "my own page"
    assert user.read_text() == "report index" and outputs.written_by_hwcost(user)
    outputs.write(user, "report index, again")  # hwcost's own file: replaced, no new backup
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".hwcost-manifest.json", "index.html", "index.html.bak"]
    user.write_text("edited by hand")  # changed since hwcost wrote it: kept again
    outputs.write(user, "third")
    assert (tmp_path / "index.html.bak1").read_text() == "edited by hand"


def test_a_failed_report_keeps_the_users_index(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "index.html").write_text("the user's index")
    bad = _tiny(tmp_path / "01_bad.ipynb", "1 / 0")
    with pytest.raises(report.NotebookFailed, match="index.html lists them"):
        report.build(out, notebook_paths=[bad], log=lambda m: None)
    # the user's page is kept beside hwcost's index, which names the failed notebook
    assert (out / "index.html.bak").read_text() == "the user's index"
    index = (out / "index.html").read_text()
    assert "Not built" in index and "01_bad.ipynb" in index and "ZeroDivisionError" in index


def test_run_never_overwrites_its_input_notebook(tmp_path):
    src = _tiny(tmp_path / "01_workload_types.ipynb")
    before = src.read_bytes()
    code, out, err = run("run", str(src), "-p", "x", "4", "--output-dir", str(tmp_path))
    assert code == 2 and "is the input notebook itself" in err and "Traceback" not in err
    assert src.read_bytes() == before
    with pytest.raises(HwcostError, match="input notebook"):
        report.build(tmp_path, notebook_paths=[src], log=lambda m: None)
    assert src.read_bytes() == before


def test_run_of_a_missing_path_fails_instead_of_running_a_bundled_notebook(tmp_path):
    code, out, err = run("run", "../no_such_dir/00_index.ipynb", "--output-dir", str(tmp_path))
    assert code == 2 and "notebook '../no_such_dir/00_index.ipynb' not found" in err
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------------------
# recommend: typos, filters that match nothing, context windows, --all --top
# ----------------------------------------------------------------------------------------
from hwcost import recommend  # noqa: E402
from hwcost.errors import HwcostWarning  # noqa: E402
from hwcost.requirements import SLO, Constraints, Workload  # noqa: E402


def test_a_misspelled_provider_is_refused_with_a_did_you_mean():
    code, out, err = run("recommend", "--model", "llama-3.1-8b", "--requests-per-day", "2000",
                         "--provider", "runpdo")
    assert code == 2 and out == ""
    assert err == ("hwcost: error: providers must be names from cloud_prices.csv or "
                   "api_prices.csv, got 'runpdo'; did you mean 'runpod'?\n")


def test_a_provider_that_matches_nothing_warns():
    # openai sells API access to its own models only: no option for llama-3.1-8b
    code, out, err = run("recommend", "--model", "llama-3.1-8b", "--requests-per-day", "2000",
                         "--provider", "openai", "--all", "--format", "csv")
    assert "hwcost: warning: provider 'openai' matches no option for this workload" in err
    with pytest.warns(HwcostWarning, match="provider 'openai' matches no option"):
        recommend.rank(Workload("llama-3.1-8b", 2000), Constraints(providers=("openai",)),
                       strict=False, simulate=False)


def test_apis_are_infeasible_beyond_the_context_window():
    w = Workload("llama-3.1-70b", 2000, input_tokens=1_000_000, output_tokens=200)
    table = recommend.rank(w, Constraints(), strict=False, simulate=False)
    api = table[table["kind"] == "api"]
    assert len(api) and not api["feasible"].any()
    assert all("context window: input_tokens + output_tokens = 1,000,200 exceeds" in fails
               for fails in api["fails"])
    assert not table["feasible"].any()


def test_all_with_top_shows_the_first_rows():
    code, out, err = run("recommend", "--model", "llama-3.1-8b", "--requests-per-day", "2000",
                         "--all", "--top", "3", "--format", "csv")
    assert code == 0, err
    assert len(out.strip().splitlines()) == 1 + 3
    code, out, err = run("recommend", "--model", "llama-3.1-8b", "--requests-per-day", "2000",
                         "--all", "--top", "3")
    assert "(showing 3)" in out


def test_huge_traffic_is_refused_not_overflowed():
    code, out, err = run("recommend", "--model", "llama-3.1-8b", "--requests-per-day", "1e30")
    assert code == 2
    assert "--requests-per-day must be a finite number > 0 and <= 1e+12, got '1e30'" in err
    with pytest.raises(HwcostError, match="requests_per_day must be a finite number > 0 and <= 1e"):
        Workload("llama-3.1-8b", 1e30)


# ----------------------------------------------------------------------------------------
# serving.simulate: a prompt beyond the context window says why
# ----------------------------------------------------------------------------------------
from hwcost import serving  # noqa: E402


def test_simulate_with_every_prompt_beyond_the_context_window_says_why():
    w = Workload("llama-3.1-8b", 20_000, input_tokens=200_000, output_tokens=100)
    with pytest.raises(HwcostError, match=r"every request is longer than the context window of "
                                          r"llama-3.1-8b \(131,072 tokens\)"):
        serving.simulate("llama-3.1-8b", w, gpu="h100-sxm", n_requests=50)


def test_simulate_names_why_requests_were_rejected():
    # 100,000-token prompts fit llama-3.1-8b's window but not the KV cache left on a 24 GB card
    w = Workload("llama-3.1-8b", 20_000, input_tokens=100_000, output_tokens=100)
    result = serving.simulate("llama-3.1-8b", w, gpu="rtx-4090", n_requests=20)
    ok, why = result.meets(SLO())
    assert result.n_rejected == 20 and not ok
    assert why.startswith("20 of 20 requests were rejected (20 needing more KV cache than one "
                          "replica holds (")


def test_a_catalog_filter_that_matches_nothing_warns():
    gpus_with_offers = set(catalog.cloud_prices()["gpu_id"])
    bare = next(g for g in catalog.gpus()["id"] if g not in gpus_with_offers)
    code, out, err = run("catalog", "prices", "--gpu", bare, "--format", "csv")
    assert code == 0 and err == f"hwcost: warning: 'catalog prices' has no row for GPU {bare!r}\n"
    code, out, err = run("catalog", "prices", "--gpu", "h100-sxn")
    assert code == 2 and "closest ids: h100-sxm" in err


def test_a_bug_shows_its_traceback_and_bad_input_never_does(monkeypatch):
    def broken(args, out, err):
        raise KeyError("internal")

    monkeypatch.setattr(cli, "cmd_estimate", broken)
    code, out, err = run("estimate", "--model", "llama-3.1-8b", "--gpu", "h100-sxm")
    assert code == cli.EXIT_BUG
    assert "Traceback (most recent call last)" in err and "KeyError: 'internal'" in err
    assert "this is a bug, please report it" in err
    monkeypatch.undo()
    code, out, err = run("estimate", "--model", "llama-3.1-8b", "--gpu", "h100-sxm",
                         "--batch-size", "0")
    assert code == 2 and "Traceback" not in err
    assert err.startswith("hwcost: error: --batch-size must be a whole number >= 1")


def test_scenario_latency_targets_may_be_durations(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO.format(extra="slo: {ttft_p95_s: 500ms, tpot_p95_s: 0.05}"))
    assert scenario.load(path).slo.ttft_s == pytest.approx(0.5)
    path.write_text(SCENARIO.format(extra="slo: {ttft_p95_s: soon}"))
    with pytest.raises(ScenarioError, match="key 'slo.ttft_p95_s': ttft_p95_s must be a duration"):
        scenario.load(path)


@pytest.mark.parametrize("path", report.notebooks(), ids=lambda p: p.stem)
def test_every_notebooks_defaults_pass_its_validation(path):
    import ast

    defaults = {k: ast.literal_eval(v) for k, v in report.declared_parameters(path).items()}
    assert nb.parameters(**defaults).as_dict().keys() == defaults.keys()


def test_economics_never_returns_an_infinity():
    from hwcost import economics

    with pytest.raises(HwcostError, match="beyond the floating-point range"):
        economics.cost_per_million_tokens(1e300, 1e-300)
    assert economics.cost_per_million_tokens(2.0, 1000.0) == pytest.approx(2.0 / 3.6)


def test_expected_failures_raise_the_error_family():
    """A plain ValueError reaching the command is shown as a bug: raise HwcostError instead."""
    import re
    from pathlib import Path

    package = Path(catalog.__file__).resolve().parent
    plain = [f"{p.relative_to(package.parent)}:{i}" for p in sorted(package.rglob("*.py"))
             for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
             if re.search(r"\b(raise|return) ValueError\(", line)]
    assert plain == [], "raise HwcostError (hwcost.errors) instead of ValueError at " + ", ".join(plain)


@pytest.mark.parametrize("content, message", [
    (b"garbage", "not a notebook (invalid JSON at line 1, column 1"),
    (b"\xff\xfe", "not a notebook (byte 0 is not UTF-8)"),
    (b"[1, 2]", "not a notebook (no list of cells)"),
])
def test_a_file_that_is_not_a_notebook_is_named(tmp_path, content, message):
    path = tmp_path / "mine.ipynb"
    path.write_bytes(content)
    code, out, err = run("run", str(path), "--output-dir", str(tmp_path / "out"))
    assert code == 2 and f"{path}: {message}" in err and "Traceback" not in err


def test_an_output_folder_that_is_a_file_is_named(tmp_path):
    path = tmp_path / "taken"
    path.write_text("mine")
    code, out, err = run("run", "00", "--output-dir", str(path))
    assert code == 2 and f"--output-dir {path} is a file" in err
    with pytest.raises(HwcostError, match="is a file; choose a folder"):
        report.build(path, log=lambda m: None)
    assert path.read_text() == "mine"


def test_simulate_rejects_requests_beyond_the_context_window():
    # lengths spread around 100,000 tokens: the tail beyond llama-3.1-8b's 131,072 is turned
    # away even where an H200's KV cache would hold it
    w = Workload("llama-3.1-8b", 20_000, input_tokens=100_000, output_tokens=100,
                 input_tokens_cv=0.6)
    result = serving.simulate("llama-3.1-8b", w, gpu="h200-sxm", n_requests=60, seed=1)
    r = result.requests
    too_long = (r["input_tokens"] + r["output_tokens"]) > 131_072
    assert too_long.any() and r.loc[too_long, "rejected"].all()
    assert not r.loc[~too_long, "rejected"].any()
    assert "longer than the context window of llama-3.1-8b (131,072 tokens)" in result.rejection_reason
