"""The ``hwcost`` command, end to end: through ``hwcost.cli.main`` and through the installed
entry point (``python -m hwcost.cli`` in a subprocess)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from hwcost import catalog, cli, report

ROOT = Path(__file__).resolve().parent.parent


def run(*argv):
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def run_subprocess(*argv, timeout=120):
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, "-m", "hwcost.cli", *argv], capture_output=True,
                          text=True, cwd=ROOT, env=env, timeout=timeout)
    return proc.returncode, proc.stdout, proc.stderr


def assert_one_line_error(code, err, *fragments, expected_code=2):
    assert code == expected_code, err
    # progress lines may precede it; the error itself is one line, the last
    lines = [ln for ln in err.strip().splitlines() if not ln.startswith(("executing ", "[IPKernelApp]"))]
    assert len(lines) == 1, err
    assert lines[0].startswith("hwcost: error: ")
    assert "Traceback" not in err
    for f in fragments:
        assert f in lines[0], lines[0]


# ----------------------------------------------------------------------------------------
# Parsing helpers
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, seconds", [("1s", 1.0), ("500ms", 0.5), ("0.8", 0.8),
                                           ("2min", 120.0), (" 250 ms ", 0.25), ("1e-1s", 0.1)])
def test_parse_duration(text, seconds):
    assert cli.parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "fast", "-1s", "0s", "1 parsec"])
def test_parse_duration_rejects(text):
    with pytest.raises(Exception, match="duration"):
        cli.parse_duration(text)


# ----------------------------------------------------------------------------------------
# Help and usage errors
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("command", [[], ["recommend"], ["estimate"], ["run"], ["report"],
                                     ["catalog"]])
def test_help_everywhere_has_examples(command, capsys):
    code = cli.main(command + ["--help"])
    assert code == 0
    text = capsys.readouterr().out
    assert "usage: hwcost" in text
    assert "examples:" in text


def test_no_command_prints_help():
    code, out, err = run()
    assert code == 2 and "usage: hwcost" in out


def test_usage_errors_are_one_line():
    code, out, err = run("catalog", "nothing")
    assert_one_line_error(code, err, "invalid choice", "hwcost catalog --help")
    code, out, err = run("recommend", "--ttft-p95", "soon")
    assert_one_line_error(code, err, "--ttft-p95 must be a duration > 0", "got 'soon'")
    code, out, err = run("recommend", "--model", "llama-3.1-8b")
    assert_one_line_error(code, err, "--requests-per-day")
    code, out, err = run("bogus")
    assert_one_line_error(code, err, "invalid choice")


# ----------------------------------------------------------------------------------------
# catalog
# ----------------------------------------------------------------------------------------
def test_catalog_gpus_table_lists_every_gpu():
    code, out, err = run("catalog", "gpus")
    assert code == 0, err
    for gpu_id in catalog.gpu_ids():
        assert gpu_id in out
    assert "mem_bw_gbps" in out.splitlines()[0]


def test_catalog_csv_and_json_round_trip():
    code, out, _ = run("catalog", "llms", "--format", "csv")
    assert code == 0
    df = pd.read_csv(io.StringIO(out))
    assert list(df["id"]) == catalog.llm_ids()
    assert list(df.columns) == list(catalog.llms().columns)
    code, out, _ = run("catalog", "prices", "--format", "json", "--gpu", "H100 SXM")
    rows = json.loads(out)
    assert rows and {r["gpu_id"] for r in rows} == {"h100-sxm"}
    assert all("usd_per_gpu_hour" in r for r in rows)


def test_catalog_unknown_gpu_names_closest():
    code, out, err = run("catalog", "prices", "--gpu", "h100-sx")
    assert_one_line_error(code, err, "unknown GPU 'h100-sx'", "closest ids", "h100-sxm")


# ----------------------------------------------------------------------------------------
# run / report with a tiny notebook
# ----------------------------------------------------------------------------------------
def _tiny_notebook(directory: Path, name="tiny.ipynb", body="y = 2 * x\nprint('y =', y)"):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Tiny\n\nWhat is twice x?"),
        nbformat.v4.new_code_cell("x = 1  # a number\nlabel = 'a'  # text",
                                  metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(body),
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    path = directory / name
    nbformat.write(nb, str(path))
    return path


def _outputs_text(path: Path) -> str:
    nb = nbformat.read(str(path), as_version=4)
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                   for o in c.get("outputs", []))


@pytest.mark.notebooks
def test_run_executes_with_parameters_and_writes_html(tmp_path):
    nb = _tiny_notebook(tmp_path)
    params = tmp_path / "p.yaml"
    params.write_text("label: b\nx: 3\n", encoding="utf-8")
    out_dir = tmp_path / "reports"
    code, out, err = run("run", str(nb), "-f", str(params), "-p", "x", "21",
                         "--output-dir", str(out_dir))
    assert code == 0, err
    executed = out_dir / "tiny.ipynb"
    assert executed.exists() and (out_dir / "tiny.html").exists()
    assert "y = 42" in _outputs_text(executed)  # -p overrides -f, and "21" arrives as a number
    # no temporary files left behind; the manifest records what hwcost wrote
    assert [p.name for p in out_dir.glob(".*")] == [".hwcost-manifest.json"]
    html = (out_dir / "tiny.html").read_text(encoding="utf-8")
    assert "y = 42" in html and 'src="http' not in html


def test_run_refuses_undeclared_parameter(tmp_path):
    nb = _tiny_notebook(tmp_path)
    code, out, err = run("run", str(nb), "-p", "z", "1", "--output-dir", str(tmp_path / "r"))
    assert_one_line_error(code, err, "declares no parameter 'z'", "x, label")
    assert not (tmp_path / "r" / "tiny.ipynb").exists()


def test_run_bad_parameters_file(tmp_path):
    nb = _tiny_notebook(tmp_path)
    bad = tmp_path / "p.yaml"
    bad.write_text("x: [1\n", encoding="utf-8")
    code, out, err = run("run", str(nb), "-f", str(bad))
    assert_one_line_error(code, err, "p.yaml", "malformed YAML")
    code, out, err = run("run", str(nb), "-f", str(tmp_path / "none.yaml"))
    assert_one_line_error(code, err, "not found")


@pytest.mark.notebooks
def test_run_failing_notebook_exits_1_with_cell(tmp_path):
    nb = _tiny_notebook(tmp_path, body="raise ValueError('x must be even')")
    code, out, err = run("run", str(nb), "--output-dir", str(tmp_path / "r"))
    assert_one_line_error(code, err, "tiny.ipynb", "ValueError", "x must be even",
                          expected_code=1)
    assert not (tmp_path / "r" / "tiny.ipynb").exists()


@pytest.mark.notebooks
def test_report_with_scenario_runs_collection(tmp_path, monkeypatch):
    nb_dir = tmp_path / "nbs"
    nb_dir.mkdir()
    _tiny_notebook(nb_dir, "01_a.ipynb")
    nb = nbformat.read(str(_tiny_notebook(nb_dir, "02_b.ipynb")), as_version=4)
    nb.cells[1].source = "requests_per_day = 1.0  # [1/day]"
    nb.cells[2].source = "print('rpd =', requests_per_day)"
    nbformat.write(nb, str(nb_dir / "02_b.ipynb"))
    real_notebooks = report.notebooks
    monkeypatch.setattr(report, "notebooks", lambda directory=nb_dir: real_notebooks(nb_dir))
    code, out, err = run("report", "--scenario", "article-scenario-2",
                         "--output-dir", str(tmp_path / "rep"))
    assert code == 0, err
    assert "[" in err and "1/2" in err and "2/2" in err  # progress bar lines
    assert (tmp_path / "rep" / "index.html").exists()
    assert "rpd = 2000.0" in _outputs_text(tmp_path / "rep" / "02_b.ipynb")
    index = (tmp_path / "rep" / "index.html").read_text(encoding="utf-8")
    assert "article-scenario-2" in index


def test_report_scenario_parameters_checked_against_notebooks(tmp_path, monkeypatch):
    nb_dir = tmp_path / "nbs"
    nb_dir.mkdir()
    _tiny_notebook(nb_dir, "01_a.ipynb")
    real_notebooks = report.notebooks
    monkeypatch.setattr(report, "notebooks", lambda directory=nb_dir: real_notebooks(nb_dir))
    sc = tmp_path / "s.yaml"
    base = "name: s\nsource: t\nworkload: {model: llama-3.1-8b, requests_per_day: 10}\n"
    sc.write_text(base + "notebook_parameters:\n  01_b: {input_tokens: 2}\n", encoding="utf-8")
    code, out, err = run("report", "--scenario", str(sc), "--output-dir", str(tmp_path / "r"))
    assert_one_line_error(code, err, "s.yaml", "notebook_parameters.01_b", "no notebook named",
                          "01_a")
    sc.write_text(base + "notebook_parameters:\n  01_a: {y_count: 2}\n", encoding="utf-8")
    code, out, err = run("report", "--scenario", str(sc), "--output-dir", str(tmp_path / "r"))
    assert_one_line_error(code, err, "notebook_parameters.01_a.y_count", "declared: label, x")
    assert not (tmp_path / "r").exists()


def test_report_malformed_scenario(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nsource: y\nworkload:\n  model: llama-3.1-8b\n  rpd: 3\n",
                   encoding="utf-8")
    code, out, err = run("report", "--scenario", str(bad))
    assert_one_line_error(code, err, "bad.yaml", "workload.rpd", "accepted keys")


# ----------------------------------------------------------------------------------------
# The installed entry point
# ----------------------------------------------------------------------------------------
def test_entry_point_subprocess_catalog_and_error():
    code, out, err = run_subprocess("catalog", "gpus", "--format", "csv")
    assert code == 0, err
    assert pd.read_csv(io.StringIO(out))["id"].tolist() == catalog.gpu_ids()
    code, out, err = run_subprocess("catalog", "prices", "--gpu", "a1000")
    assert_one_line_error(code, err, "unknown GPU")


# ----------------------------------------------------------------------------------------
# recommend / estimate
# ----------------------------------------------------------------------------------------
ARTICLE_2 = ["recommend", "--model", "llama-3.1-70b", "--requests-per-day", "2000",
             "--input-tokens", "500", "--output-tokens", "200", "--ttft-p95", "1s",
             "--tpot-p95", "100ms"]


def test_recommend_table_output():
    code, out, err = run(*ARTICLE_2, "--top", "5")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("llama-3.1-70b: 2,000 requests/day, 500 input + 200 output tokens")
    assert "p95 ttft_s <= 1 s, tpot_s <= 0.1 s" in lines[0]
    start = next(i for i, ln in enumerate(lines) if ln.strip().startswith("rank"))
    header = lines[start]
    for col in ("option", "total_usd", "usd_per_million_tokens", "limit", "pareto"):
        assert col in header
    ranked = []
    for ln in lines[start + 1:]:
        if not ln.strip():
            break
        ranked.append(ln)
    assert [int(ln.split()[0]) for ln in ranked] == [1, 2, 3, 4, 5]
    assert any(ln.startswith("Best: ") for ln in lines)


def test_recommend_csv_and_json_agree_with_rank():
    from hwcost import recommend
    from hwcost.workload import SLO, Workload

    code, out, err = run(*ARTICLE_2, "--format", "csv", "--top", "8")
    assert code == 0, err
    df = pd.read_csv(io.StringIO(out))
    from hwcost import margins

    assert list(df.columns) == list(recommend.COLUMNS) + list(margins.MARGIN_COLUMNS)
    assert list(df["rank"]) == list(range(1, 9))
    expected = recommend.rank(Workload("llama-3.1-70b", 2000, 500, 200),
                              recommend.Constraints(slo=SLO(ttft_s=1.0, tpot_s=0.1)))
    assert list(df["option"]) == list(expected["option"].head(8))
    assert df["total_usd"].tolist() == pytest.approx(expected["total_usd"].head(8).tolist())
    code, out, err = run(*ARTICLE_2, "--format", "json", "--top", "3")
    rows = json.loads(out)
    assert [r["rank"] for r in rows] == [1, 2, 3]
    assert rows[0]["option"] == expected["option"].iloc[0]


def test_recommend_privacy_and_all():
    code, out, err = run(*ARTICLE_2, "--privacy", "--gpu", "h100-sxm,a100-80gb-sxm",
                         "--format", "csv", "--all")
    assert code == 0, err
    df = pd.read_csv(io.StringIO(out), keep_default_na=False)
    ok = df[df["feasible"]]
    assert set(ok["kind"]) == {"self-hosted"}
    assert df.loc[df["kind"].isin(["cloud", "api"]), "fails"].str.contains("privacy").all()


def test_recommend_scenario_with_override():
    code, out, err = run("recommend", "--scenario", "article-scenario-2", "--requests-per-day",
                         "4000", "--format", "json", "--top", "1")
    assert code == 0, err
    code2, out2, _ = run("recommend", "--scenario", "data/scenarios/article-scenario-2.yaml",
                         "--format", "json", "--top", "1")
    a, b = json.loads(out)[0], json.loads(out2)[0]
    assert a["total_usd"] > b["total_usd"]  # twice the traffic costs more


@pytest.mark.parametrize("argv, fragments, code", [
    (["--budget-usd", "10", "--no-cloud", "--no-api"], ["budget_usd=10", "up-front spend"], 1),
    (["--tpot-p95", "1ms"], ["tpot_s p95 <= 0.001 s", "relax tpot_p95"], 1),
    (["--privacy", "--no-self-hosted"], ["contradictory constraints", "privacy"], 2),
    (["--availability", "101%"], ["availability"], 2),
    (["--gpu", "h100-sx"], ["unknown GPU 'h100-sx'", "closest ids"], 2),
    (["--engine", "vlm"], ["unknown engine 'vlm'", "vllm"], 2),
])
def test_recommend_bad_input_one_line(argv, fragments, code):
    rc, out, err = run(*ARTICLE_2, *argv)
    assert_one_line_error(rc, err, *fragments, expected_code=code)


def test_recommend_staff_options_price_staff_time():
    from hwcost import recommend

    def totals(*extra):
        code, out, err = run(*ARTICLE_2, "--gpu", "h100-sxm,rtx-4090", "--all", "--format", "csv",
                             *extra)
        assert code == 0, err
        return pd.read_csv(io.StringIO(out)).set_index("option")

    base = totals()
    none = totals("--self-hosted-staff-pct", "0", "--cloud-staff-pct", "0")
    more = totals("--self-hosted-staff-pct", "25", "--cloud-staff-pct", "10%")
    years = 12 / 12.0  # default horizon
    per_pct = recommend.operations_usd_per_year(0.01)  # one percent of an administrator [USD/year]
    for kind, default_pct, more_pct in (("self-hosted", 10, 25), ("cloud", 5, 10)):
        rows = base.index[(base["kind"] == kind) & base["feasible"]]
        assert len(rows) > 0
        diff_none = base.loc[rows, "total_usd"] - none.loc[rows, "total_usd"]
        diff_more = more.loc[rows, "total_usd"] - base.loc[rows, "total_usd"]
        assert diff_none.tolist() == pytest.approx([default_pct * per_pct * years] * len(rows))
        assert diff_more.tolist() == pytest.approx(
            [(more_pct - default_pct) * per_pct * years] * len(rows))
    api = base.index[base["kind"] == "api"]
    assert none.loc[api, "total_usd"].tolist() == pytest.approx(base.loc[api, "total_usd"].tolist())
    rc, out, err = run(*ARTICLE_2, "--cloud-staff-pct", "-5")
    assert_one_line_error(rc, err, "--cloud-staff-pct", "--cloud-staff-pct must be a finite number >= 0")
    assert "--self-hosted-staff-pct 25 --cloud-staff-pct 0" in cli.RECOMMEND_EXAMPLES


def test_recommend_unknown_model():
    code, out, err = run("recommend", "--model", "llama-3.1-7b", "--requests-per-day", "10")
    assert_one_line_error(code, err, "unknown model 'llama-3.1-7b'", "llama-3.1-8b")


def test_estimate_prints_one_result():
    from hwcost import perf

    code, out, err = run("estimate", "--model", "llama-3.1-70b", "--gpu", "h100-sxm",
                         "--n-gpus", "2", "--precision", "fp8", "--format", "json")
    assert code == 0, err
    got = json.loads(out)
    want = perf.estimate("llama-3.1-70b", "h100-sxm", n_gpus=2, precision="fp8",
                         input_tokens=512, output_tokens=128)
    assert got["fits"] is True
    assert got["tpot_s"] == pytest.approx(want.tpot_s)
    assert got["ttft_s"] == pytest.approx(want.ttft_s)
    code, out, err = run("estimate", "--model", "llama-3.1-70b", "--gpu", "rtx-4090")
    assert code == 0
    assert "does not fit" in out and "rtx-4090" in out
    code, out, err = run("estimate", "--model", "llama-3.1-70b", "--gpu", "rtx-409")
    assert_one_line_error(code, err, "unknown GPU 'rtx-409'")


def test_estimate_takes_max_batch_and_spread_lengths():
    from hwcost import perf

    args = ("estimate", "--model", "qwen3-32b", "--gpu", "h100-sxm", "--engine", "vllm",
            "--batch-size", "max", "--input-tokens", "217", "--output-tokens", "201",
            "--format", "json")
    code, out, err = run(*args, "--max-output-tokens", "1831", "--max-batch", "64")
    assert code == 0, err
    want = perf.estimate("qwen3-32b", "h100-sxm", engine="vllm", batch_size="max",
                         input_tokens=217, output_tokens=201, max_output_tokens=1831,
                         max_batch=64)
    got = json.loads(out)
    assert got["batch_size"] == want.batch_size == 64
    assert got["output_tokens_per_s"] == pytest.approx(want.output_tokens_per_s, rel=1e-12)
    code, out, err = run(*args, "--max-output-tokens", "1831")
    spread = json.loads(out)["batch_size"]
    code, out, err = run(*args)
    assert spread < json.loads(out)["batch_size"] <= 256
    code, out, err = run(*args, "--max-output-tokens", "150")
    assert_one_line_error(code, err, "max_output_tokens=150")
    code, out, err = run("estimate", "--model", "qwen3-32b", "--gpu", "h100-sxm", "--batch-size", "most")
    assert_one_line_error(code, err, "'most'", "'max'", expected_code=2)


def test_entry_point_subprocess_recommend():
    code, out, err = run_subprocess(*ARTICLE_2, "--format", "csv", "--top", "3")
    assert code == 0, err
    df = pd.read_csv(io.StringIO(out))
    assert list(df["rank"]) == [1, 2, 3]
    code, out, err = run_subprocess(*ARTICLE_2, "--tpot-p95", "1ms")
    assert_one_line_error(code, err, "relax", expected_code=1)
    code, out, err = run_subprocess("recommend", "--scenario", "nope.yaml")
    assert_one_line_error(code, err, "nope.yaml", "not found")


def test_recommend_segment_window_and_capex_flags():
    code, out, err = run("recommend", "--model", "llama-3.1-8b", "--requests-per-day", "1000000",
                         "--input-tokens", "800", "--output-tokens", "20", "--window-hours", "8",
                         "--window-start-hour", "22", "--segment", "consumer,workstation",
                         "--precision", "fp8", "--format", "csv")
    assert code == 0, err
    df = pd.read_csv(io.StringIO(out))
    assert set(df["segment"]) <= {"consumer", "workstation"}
    assert (df["capex_usd"] > 0).all() and df["bill_of_materials"].str.contains("box").all()
    assert df.loc[df["segment"] == "consumer", "caveat"].str.contains("licence").all()
    code, out, err = run("recommend", "--model", "llama-3.1-8b", "--requests-per-day", "1000000",
                         "--window-hours", "8", "--segment", "consumer", "--precision", "fp8",
                         "--top", "3")
    assert code == 0, err
    assert "processed within 8 h from 0:00" in out and "capex_usd is paid up front" in out
    assert "caveat: GeForce card" in out
    rc, out, err = run("recommend", "--model", "llama-3.1-8b", "--requests-per-day", "1000",
                       "--segment", "gpu")
    assert_one_line_error(rc, err, "segment", "'gpu'", "datacenter, workstation, consumer, cloud, api")


def test_catalog_purchase_units_view():
    code, out, err = run("catalog", "purchase-units", "--gpu", "gb200", "--format", "csv")
    assert code == 0, err
    df = pd.read_csv(io.StringIO(out))
    assert (df["sold_as"].iloc[0], int(df["gpus_per_unit"].iloc[0])) == ("nvl72-rack", 72)
