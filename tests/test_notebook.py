"""Notebook helpers: parameter validation, recorded results, formatting."""

import json

import pytest

from hwcost import notebook as nb


def test_coerces_papermill_types():
    p = nb.parameters(input_tokens="512", utilization=1, gpu="H100 SXM", model="Llama-3.1-70B",
                      requests_per_day=50, precision="INT4", gpus="h100,a100")
    assert p.input_tokens == 512 and isinstance(p.input_tokens, int)
    assert p.utilization == 1.0
    assert p.gpu == "h100-sxm" and p.model == "llama-3.1-70b"
    assert p.precision == "int4"
    assert p.gpus == ("h100-sxm", "a100-80gb-sxm")


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"input_tokens": 0}, "input_tokens must be a whole number >= 1"),
        ({"input_tokens": 12.5}, "whole number"),
        ({"utilization": 1.5}, "fraction in (0, 1]"),
        ({"gpu": "h10"}, "closest ids"),
        ({"precision": "fp6"}, "one of fp16, bf16, fp8, int8, int4, fp4"),
        ({"requests_per_day": "many"}, "requests_per_day must be a finite number > 0"),
        ({"mystery": 3}, "no validation rule"),
    ],
)
def test_bad_values_are_named(kwargs, fragment):
    with pytest.raises(nb.ParameterError) as err:
        nb.parameters(**kwargs)
    assert fragment in str(err.value)
    assert list(kwargs)[0] in str(err.value)


def test_all_problems_reported_at_once():
    with pytest.raises(nb.ParameterError) as err:
        nb.parameters(input_tokens=-1, output_tokens=0)
    assert "input_tokens" in str(err.value) and "output_tokens" in str(err.value)


def test_recorded_results_roundtrip():
    notebook = {"cells": [
        {"cell_type": "code", "outputs": [{"output_type": "display_data",
                                            "data": {nb.RESULTS_MIME: {"a": 1}}}]},
        {"cell_type": "code", "outputs": [{"output_type": "display_data",
                                            "data": {nb.RESULTS_MIME: {"b": 2.5, "a": 3}}}]},
    ]}
    assert nb.recorded_results(json.loads(json.dumps(notebook))) == {"a": 3, "b": 2.5}


def test_record_refuses_non_finite():
    with pytest.raises(ValueError, match="not finite"):
        nb._jsonable(float("nan"))


def test_formatting():
    assert nb.usd(1.2449) == "$1.24"
    assert nb.usd(0.06088) == "$0.0609"
    assert nb.usd(26280) == "$26,280"
    assert nb.pct(0.0031) == "0.31%"
    assert nb.pct(0.53) == "53%"
    assert nb.num(1234.5678) == "1,235"
    assert nb.num(0.012345) == "0.0123"


def test_rerun_command_is_hwcost_run_with_yaml_scalars():
    cmd = nb.rerun_command("07_cost_scenarios", requests_per_day=2000, model="llama-3.1-70b",
                           privacy_required_flag=True, scenario="my file.yaml", gpus=["l40s", "a10"])
    assert cmd == ("hwcost run 07_cost_scenarios -p requests_per_day 2000 -p model llama-3.1-70b "
                   "-p privacy_required_flag true -p scenario 'my file.yaml' -p gpus l40s,a10")
    # what hwcost run reads back is what the page ran with
    from hwcost.cli import _scalar

    assert _scalar("true") is True and _scalar("2000") == 2000 and _scalar("l40s,a10") == "l40s,a10"


def test_run_parameters_come_from_the_runner(monkeypatch):
    monkeypatch.delenv(nb.RUN_PARAMETERS_ENV, raising=False)
    assert nb.run_parameters() == {}
    monkeypatch.setenv(nb.RUN_PARAMETERS_ENV, '{"requests_per_day": 50000, "privacy_required_flag": true}')
    assert nb.run_parameters() == {"requests_per_day": 50000, "privacy_required_flag": True}
    monkeypatch.setenv(nb.RUN_PARAMETERS_ENV, "not json")
    assert nb.run_parameters() == {}


def test_rules_for_yearly_amounts_and_settings():
    p = nb.parameters(ops_usd_per_year="20_000", colocation_usd_per_month=0,
                      server_energy_setting=" us-industrial-colo ")
    assert p.ops_usd_per_year == 20000.0 and p.colocation_usd_per_month == 0.0
    assert p.server_energy_setting == "us-industrial-colo"
    with pytest.raises(nb.ParameterError, match="ops_usd_per_year must be a finite number >= 0.*, got -1"):
        nb.parameters(ops_usd_per_year=-1)
    with pytest.raises(nb.ParameterError, match="server_energy_setting must be one of the ids in energy.csv, got '  '"):
        nb.parameters(server_energy_setting="  ")


def test_coefficient_of_variation_is_a_number_at_least_zero():
    p = nb.parameters(output_tokens_cv="0.5", input_tokens_cv=0)
    assert p.output_tokens_cv == 0.5 and p.input_tokens_cv == 0.0
    assert nb.parameters(output_tokens_cv=2).output_tokens_cv == 2.0  # above 1 is allowed
    with pytest.raises(nb.ParameterError, match="output_tokens_cv must be a finite number >= 0.*, got -0.1"):
        nb.parameters(output_tokens_cv=-0.1)
    with pytest.raises(nb.ParameterError, match="output_tokens_cv must be a finite number >= 0.*, got 'wide'"):
        nb.parameters(output_tokens_cv="wide")


def test_show_status_is_an_audit_status_or_all():
    assert nb.parameters(show_status="Disagrees").show_status == "disagrees"
    assert nb.parameters(show_status="all").show_status == "all"
    with pytest.raises(nb.ParameterError, match="show_status must be one of .*implausible input.*, got 'wrong'"):
        nb.parameters(show_status="wrong")


def test_dollar_amounts_are_safe_in_markdown():
    span = "<span>&#36;</span>"
    assert nb.DOLLAR_IN_MARKDOWN == span
    assert nb.escape_currency("costs $2.45 vs $1.91") == f"costs {span}2.45 vs {span}1.91"
    # an amount escaped by hand is converted too; a formula's dollars are left alone
    assert nb.escape_currency("$-0.5 and $x$ and \\$3") == f"{span}-0.5 and $x$ and {span}3"
    assert nb.money(1234.5) == f"{span}1,234" == nb.escape_currency(nb.usd(1234.5))
    assert nb.escape_currency(nb.money(3600)) == nb.money(3600)  # idempotent
    assert "$" not in nb.money(30_000)


def test_count_agrees_in_number():
    assert nb.count(1, "risk") == "1 risk"
    assert nb.count(3, "risk") == "3 risks"
    assert nb.count(0, "GPU") == "0 GPUs"
    assert nb.count(2, "replica", "replicas") == "2 replicas"


def test_table_is_stable_readable_and_math_free():
    import pandas as pd

    df = pd.DataFrame({"claim": ["costs $2.80 vs $1.33", "x"], "usd": [0.16320001, 26280.4],
                       "n": pd.array([1, None], dtype="Int64")})
    html = nb.table(df, name="t1").to_html()
    assert html == nb.table(df, name="t1").to_html()  # same bytes on every run
    assert "mathjax_ignore" in html and "T_t1" in html
    assert "0.1632" in html and "26,280" in html and "nan" not in html.lower() and "&lt;NA&gt;" not in html
    assert "td.col0" in html and "text-align: left" in html  # the text column
    assert repr(nb.table(df, name="t1")) == "<table: t1, 2 rows x 3 columns>"
    assert nb.table(df, name="t1")._repr_html_() == html
    with pytest.raises(ValueError, match="table name"):
        nb.table(df, name="two words")


def test_price_age_reference_is_a_date_or_today():
    import datetime as dt

    assert nb.parameters(price_age_reference_setting=" 2026-12-06 ").price_age_reference_setting \
        == dt.date(2026, 12, 6)
    assert nb.parameters(price_age_reference_setting=dt.date(2025, 1, 31)).price_age_reference_setting \
        == dt.date(2025, 1, 31)  # a scenario file's YAML gives a date
    assert nb.parameters(price_age_reference_setting="Today").price_age_reference_setting \
        == dt.date.today()
    with pytest.raises(nb.ParameterError, match="price_age_reference_setting must be a date as "
                                                "YYYY-MM-DD or 'today', got '6/12/2026'"):
        nb.parameters(price_age_reference_setting="6/12/2026")
