"""Arbitrary input never gets a traceback, a NaN or a stray file (issue 15).

Property-based: hypothesis drives the ``hwcost`` command (in process), scenario files and the
notebook parameter validation with arbitrary values, and checks that every answer is either a
result with finite numbers or a one-line error that names the input, that nothing outside the
output folder is touched, and that no internal error escapes. Examples are derandomized and few,
so the suite is fast and gives the same verdict on every run.
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from hwcost import cli, report, scenario
from hwcost import notebook as nb
from hwcost.errors import HwcostError, ParameterError

ROOT = Path(__file__).resolve().parent.parent

PROPERTY = settings(derandomize=True, database=None, deadline=None,
                    phases=(Phase.explicit, Phase.reuse, Phase.generate),
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])

# Text a user could type where a number is expected, and values YAML or papermill can give.
NUMBER_TEXT = st.one_of(
    st.integers(min_value=-10**40, max_value=10**40).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", " ", "nan", "inf", "-inf", "1e30", "1e309", "0", "-0", "0.0", "1_000",
                     "2,000", "10%", "true", "false", "none", "1s", "abc", "１２", "0x10",
                     "9" * 400]),
    st.text(max_size=12),
)
ANY_VALUE = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-10**30, max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20), NUMBER_TEXT,
    st.lists(st.integers(min_value=-5, max_value=5), max_size=3),
)


def run(*argv):
    out, err = io.StringIO(), io.StringIO()
    code = cli.main([str(a) for a in argv], out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def _tree_state(*dirs: Path) -> dict[str, float]:
    state = {}
    for d in dirs:
        for p in d.rglob("*"):
            if p.is_file():
                state[str(p)] = p.stat().st_mtime_ns
    return state


@pytest.fixture()
def sandbox(tmp_path, monkeypatch):
    """Run in an empty folder and check that the checkout's inputs are left alone."""
    monkeypatch.chdir(tmp_path)
    watched = (ROOT / "data", ROOT / "notebooks", ROOT / "hwcost")
    before = _tree_state(*watched)
    yield tmp_path
    assert _tree_state(*watched) == before


def assert_clean_answer(code: int, out: str, err: str, names: tuple[str, ...]):
    """A result with finite numbers, or a one-line error naming one of ``names``."""
    assert "Traceback" not in err and "internal error" not in err, err
    if code == 0:
        cells = [c.strip().lower() for row in csv.reader(io.StringIO(out)) for c in row]
        assert not {"nan", "inf", "-inf", "infinity"} & set(cells), out[:500]
        return
    assert code in (cli.EXIT_USAGE, cli.EXIT_FAILED), (code, err)
    lines = [ln for ln in err.splitlines() if not ln.startswith("hwcost: warning:")]
    assert len(lines) == 1 and lines[0].startswith("hwcost: error: "), err
    if code == cli.EXIT_USAGE:
        assert any(n in lines[0] for n in names), (names, lines[0])


# ----------------------------------------------------------------------------------------
# The command line
# ----------------------------------------------------------------------------------------
ESTIMATE_OPTIONS = {
    "--n-gpus": ("--n-gpus", "n_gpus"),
    "--batch-size": ("--batch-size", "batch_size"),
    "--input-tokens": ("--input-tokens", "input_tokens", "context window"),
    "--output-tokens": ("--output-tokens", "output_tokens", "context window"),
    "--precision": ("precision",),
    "--kv-precision": ("kv_precision", "precision"),
    "--engine": ("engine",),
    "--gpu": ("GPU", "gpu"),
    "--model": ("model",),
}


@PROPERTY
@given(option=st.sampled_from(sorted(ESTIMATE_OPTIONS)), value=NUMBER_TEXT)
def test_estimate_answers_any_value_cleanly(sandbox, option, value):
    argv = {"--model": "llama-3.1-8b", "--gpu": "h100-sxm", option: value}
    code, out, err = run("estimate", *[f"{k}={v}" for k, v in argv.items()], "--format", "csv")
    assert_clean_answer(code, out, err, ESTIMATE_OPTIONS[option] + (option,))
    assert list(sandbox.iterdir()) == []


RECOMMEND_OPTIONS = {
    "--requests-per-day": ("--requests-per-day",),
    "--input-tokens": ("--input-tokens", "context window"),
    "--output-tokens": ("--output-tokens",),
    "--horizon-months": ("--horizon-months",),
    "--budget-usd": ("--budget-usd",),
    "--availability": ("availability",),
    "--percentile": ("--percentile",),
    "--max-gpus": ("--max-gpus", "max_gpus"),
    "--top": ("--top",),
    "--ttft-p95": ("--ttft-p95",),
    "--self-hosted-staff-pct": ("--self-hosted-staff-pct",),
    "--provider": ("providers",),
    "--gpu": ("GPU", "gpu"),
    "--precision": ("precisions",),
    "--energy": ("energy",),
}


@PROPERTY.__class__(PROPERTY, max_examples=15)
@given(option=st.sampled_from(sorted(RECOMMEND_OPTIONS)), value=NUMBER_TEXT)
def test_recommend_answers_any_value_cleanly(sandbox, option, value):
    argv = {"--model": "llama-3.1-8b", "--requests-per-day": "2000", option: value}
    code, out, err = run("recommend", *[f"{k}={v}" for k, v in argv.items()], "--no-self-hosted",
                         "--format", "csv")
    assert_clean_answer(code, out, err, RECOMMEND_OPTIONS[option] + (option,))
    assert list(sandbox.iterdir()) == []


# ----------------------------------------------------------------------------------------
# Scenario files
# ----------------------------------------------------------------------------------------
SCENARIO_KEYS = (
    [("workload", k) for k in scenario.WORKLOAD_KEYS if k != "model"]
    + [("slo", k) for k in scenario.SLO_KEYS]
    + [("constraints", k) for k in ("availability", "privacy", "horizon_months", "budget_usd",
                                    "n_gpus_options", "max_gpus", "max_utilization", "providers",
                                    "amortization_years", "operations_usd_per_year")]
)


@PROPERTY.__class__(PROPERTY, max_examples=60)
@given(where=st.sampled_from(SCENARIO_KEYS), value=ANY_VALUE)
def test_scenario_values_are_accepted_or_named(sandbox, where, value):
    section, key = where
    data = {"name": "p", "source": "property test",
            "workload": {"model": "llama-3.1-8b", "requests_per_day": 2000}}
    data.setdefault(section, {})[key] = value
    path = sandbox / "s.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    try:
        sc = scenario.load(path)
    except HwcostError as exc:
        assert f"key '{section}.{key}'" in str(exc) or f"key '{section}'" in str(exc), str(exc)
        assert len(str(exc)) < 1000
        return
    w = sc.workload
    for number in (w.requests_per_day, w.input_tokens, w.output_tokens,
                   sc.constraints.horizon_months, sc.constraints.availability):
        assert math.isfinite(number) and number > 0


# ----------------------------------------------------------------------------------------
# Notebook parameters
# ----------------------------------------------------------------------------------------
DECLARED = sorted({(p.stem, name) for p in report.notebooks()
                   for name in report.declared_parameters(p)})


@PROPERTY.__class__(PROPERTY, max_examples=150)
@given(where=st.sampled_from(DECLARED), value=ANY_VALUE)
def test_notebook_parameters_are_accepted_or_named(where, value):
    stem, name = where
    try:
        p = nb.parameters(**{name: value})
    except ParameterError as exc:
        assert name in str(exc), str(exc)
        return
    clean = p.as_dict()[name]
    for item in clean if isinstance(clean, tuple) else (clean,):
        if isinstance(item, float):
            assert math.isfinite(item)
    assert not isinstance(value, bool) or isinstance(clean, bool) or clean is None


@pytest.mark.notebooks
def test_hwcost_run_refuses_a_bad_value_in_the_validation_cell(tmp_path):
    import nbformat

    src = tmp_path / "in" / "tiny.ipynb"
    src.parent.mkdir()
    book = nbformat.v4.new_notebook()
    book.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                   "language": "python"}
    book.cells = [nbformat.v4.new_code_cell("max_price_age_days = 180  # days",
                                            metadata={"tags": ["parameters"]}),
                  nbformat.v4.new_code_cell("from hwcost import notebook as nb\n"
                                            "p = nb.parameters(max_price_age_days=max_price_age_days)")]
    nbformat.write(book, str(src))
    out_dir = tmp_path / "out"
    before = _tree_state(ROOT / "notebooks", ROOT / "data", src.parent)
    code, out, err = run("run", src, "-p", "max_price_age_days", "1e30", "--output-dir", out_dir,
                         "--no-html")
    lines = [ln for ln in err.splitlines()
             if ln.startswith("hwcost:") and not ln.startswith("hwcost: warning")]
    assert code == cli.EXIT_FAILED and len(lines) == 1 and "Traceback" not in err
    assert "max_price_age_days must be a whole number >= 1 and <= 36500, got 1e+30" in lines[0]
    assert _tree_state(ROOT / "notebooks", ROOT / "data", src.parent) == before
    assert not out_dir.exists() or [p.name for p in out_dir.iterdir()] == []
    json.dumps(out)  # plain text
