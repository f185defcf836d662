"""The decision memo: what it recommends, what it lists, and that it agrees with recommend."""

import datetime as dt
import re

import pytest

from hwcost import catalog, cli, margins, memo, recommend, scenario

TODAY = dt.date(2026, 12, 6)
BARE_DOLLAR = re.compile(r"(?<![\w;])\$\d")


@pytest.fixture(scope="module")
def private():
    return memo.build(scenario.load("privacy-enterprise-rag").case, today=TODAY)


@pytest.fixture(scope="module")
def public():
    case = recommend.case("llama-3.1-70b", 2000, 500, 200, ttft_s=1.0, tpot_s=0.1,
                          horizon_months=36)
    return memo.build(case, today=TODAY, sensitivity=False)


def test_privacy_scenario_recommends_owned_hardware(private):
    rec = private.recommendation
    assert rec["kind"] == "self-hosted"
    status = private.options.set_index("kind")["status"]
    assert status["self-hosted"] == "priced"
    assert status["cloud"].startswith("none feasible: privacy")
    assert status["hybrid"].startswith("not allowed: privacy")
    md = private.to_markdown()
    assert "data that must stay on our own hardware" in md
    assert "privacy | required (own hardware only)" in md


def test_memo_agrees_with_recommend_to_the_cent(private):
    sc = scenario.load("privacy-enterprise-rag")
    top = recommend.rank(sc.workload, sc.constraints).iloc[0]
    assert private.recommendation["option"] == top["option"]
    assert private.recommendation["total_usd"] == pytest.approx(top["total_usd"], abs=0.005)


def test_assumptions_list_every_price_used_with_its_date(private):
    a = private.assumptions.set_index("assumption")
    for p in margins.prices_used(private.recommendation, private.case.constraints):
        row = a.loc[f"price: {p['table']} {p['id']}"]
        assert row["as_of"] == margins.as_date(p["as_of"]).isoformat()
        assert row["age_days"] == (TODAY - margins.as_date(p["as_of"])).days
        assert row["stale"] == (row["age_days"] > margins.MAX_PRICE_AGE_DAYS)
    for name in ("availability target", "privacy", "planning horizon", "staff for owned hardware",
                 "amortization of owned hardware", "electricity setting", "latency targets"):
        assert name in a.index


def test_capex_and_running_cost_add_up_to_the_horizon_total(private):
    rec, c = private.recommendation, private.case.constraints
    years = c.horizon_months / 12
    top = private.table[private.table["feasible"]].iloc[0]
    if "capex_usd" in private.table.columns:  # the cost model's own split
        assert rec["capex_usd"] == pytest.approx(top["capex_usd"])
        assert rec["running_usd_per_year"] == pytest.approx(top["running_usd_per_year"])
        assert 0 < rec["running_usd_per_year"] * years < rec["total_usd"]
    else:  # every GPU bought at the typical price and host share; the horizon carries its part
        hw = catalog.hardware_prices().query(
            f"gpu_id == '{rec['gpu_id']}' and condition == 'new'").iloc[0]
        assert rec["capex_usd"] == pytest.approx(
            int(rec["gpus_total"]) * (hw["usd_typical"] + hw["server_share_usd_typical"]))
        carried = rec["capex_usd"] * min(1, years / c.amortization_years)
        assert rec["running_usd_per_year"] * years + carried == pytest.approx(rec["total_usd"])
    assert rec["total_usd_p10"] < rec["total_usd"] < rec["total_usd_p90"]


def test_columns_from_the_cost_model_are_used_when_present():
    c = recommend.Constraints(horizon_months=24)
    row = {"kind": "self-hosted", "total_usd": 50_000.0, "capex_usd": 20_000.0,
           "running_usd_per_year": 15_000.0, "gpu_id": "h100-sxm", "gpus_total": 1}
    assert memo.capex_and_running(row, c) == (20_000.0, 15_000.0)
    assert memo.capex_and_running({"kind": "api", "total_usd": 1200.0}, c) == (0.0, 600.0)


def test_sensitivity_changes_one_input_at_a_time(private):
    s = private.sensitivity
    assert list(s["factor"]) == ["traffic", "traffic", "prices", "prices",
                                 "staff for owned hardware", "staff for owned hardware",
                                 "horizon", "horizon"]
    base = private.recommendation["total_usd"]
    assert s["change_pct"].tolist() == pytest.approx((100 * (s["total_usd"] / base - 1)).tolist())
    assert list(s["same_decision"]) == [o == private.recommendation["option"] for o in s["best_option"]]
    # the price ends are the owned options' P10 and P90 over the catalog's ranges
    low, high = s[s["factor"] == "prices"]["total_usd"]
    assert low <= private.recommendation["total_usd_p10"] + 1e-6
    assert high <= private.recommendation["total_usd_p90"] + 1e-6
    staff0 = s[(s["factor"] == "staff for owned hardware")].iloc[0]
    assert staff0["total_usd"] < base
    for ln in private.changes:
        assert ln.endswith(".")


def test_public_case_has_every_kind(public):
    status = public.options.set_index("kind")["status"]
    assert status["self-hosted"] == status["cloud"] == status["api"] == "priced"
    ratios = public.options["times_the_cost_of_1"].dropna()
    assert (ratios >= 1 - 1e-9).all()
    if public.recommendation["kind"] == "api":
        assert any("Latency not modelled" in r for r in public.risks)


def test_rendering_has_no_math_dollars_no_code_and_no_network(private):
    md = private.to_markdown()
    assert not BARE_DOLLAR.search(md)
    for heading in ("## Question", "## Recommendation", "### Best option of each kind",
                    "## Bill of materials", "## Risks", "## Sensitivity",
                    "## What would change the decision", "## Assumptions"):
        assert heading in md
    page = private.to_html()
    assert "<script" not in page and not re.search(r'(src|href)="https?://', page)
    assert "<table>" in page
    total = f"{private.recommendation['total_usd']:,.0f}"
    assert f"<span>$</span>{total}" in page  # a plain dollar: the page loads no math renderer


def test_cli_memo_writes_both_formats_for_a_scenario(tmp_path, private):
    out, err = [], []

    class W:
        def __init__(self, sink):
            self.sink = sink

        def write(self, s):
            self.sink.append(s)

        def flush(self):
            pass

    code = cli.main(["memo", "--scenario", "data/scenarios/privacy-enterprise-rag.yaml",
                     "--output-dir", str(tmp_path), "--today", "2026-12-06", "--no-sensitivity"],
                    out=W(out), err=W(err))
    assert code == 0, "".join(err)
    md = (tmp_path / "privacy-enterprise-rag.md").read_text(encoding="utf-8")
    assert (tmp_path / "privacy-enterprise-rag.html").exists()
    assert f"**{private.recommendation['option']}** (owned)" in md
    assert "hwcost memo --scenario data/scenarios/privacy-enterprise-rag.yaml" in md
    code = cli.main(["memo", "--model", "llama-3.1-8b", "--requests-per-day", "100",
                     "--format", "pdf", "--output-dir", str(tmp_path)], out=W(out), err=W(err))
    assert code == 2 and "expected md, html or both" in "".join(err)


def test_bill_of_materials_uses_the_rankings_own_line_and_components():
    c = recommend.Constraints(horizon_months=24)
    row = dict(kind="self-hosted", capex_usd=40_000.0, gpu_usd=30_000.0, host_usd=8_000.0,
               networking_setup_usd=2_000.0, power_usd_per_year=3_000.0,
               staff_usd_per_year=12_931.0, running_usd_per_year=15_931.0,
               bill_of_materials="1 server, 4 x rtx-5090 (1 spare), 2.1 kW")
    bom = memo._bill_of_materials(row, recommend.Case(None, c))
    assert bom["item"].iloc[0] == row["bill_of_materials"] and bom["usd"].iloc[0] == 40_000
    capex = bom[bom["note"] == "capex"]["usd"].sum()
    running = bom[bom["note"] == "per year x horizon years"]["usd"].sum()
    assert capex == row["capex_usd"]  # GPUs + hosts + networking
    assert running == pytest.approx(row["running_usd_per_year"] * 2)


def test_markdown_file_writes_plain_escaped_dollars(tmp_path, private):
    import mistune

    (md_path, html_path) = memo.write(private, tmp_path, stem="m")
    text = md_path.read_text(encoding="utf-8")
    total = f"{private.recommendation['total_usd']:,.0f}"
    assert f"(owned): \\${total} (P10-P90 \\$" in text
    assert "<span>" not in text and "&#36;" not in text
    assert not re.search(r"(?<!\\)\$\d", text)  # every amount's dollar is escaped
    # CommonMark (GitHub) reads "\$" as a plain dollar sign
    rendered = mistune.create_markdown(plugins=["table"])(text)
    assert f"${total} (P10-P90 $" in rendered and "\\$" not in rendered
    # the notebook output keeps the span (JupyterLab pairs escaped dollars into a formula),
    # and the HTML memo is as before
    assert f"<span>&#36;</span>{total}" in private.to_markdown()
    assert private.to_markdown(dollar="backslash") == text
    assert f"<span>$</span>{total}" in html_path.read_text(encoding="utf-8")
    with pytest.raises(memo.HwcostError, match="dollar='euro': expected one of span, backslash"):
        private.to_markdown(dollar="euro")


def test_assumptions_quote_the_host_cost_the_bill_of_materials_uses(private):
    rec = private.recommendation
    a = private.assumptions.set_index("assumption")
    unit = catalog.purchase_unit(rec["gpu_id"])
    row = a.loc[f"price: purchase_units {rec['gpu_id']}"]
    bom = private.bill_of_materials.set_index("item")
    hosts = bom.loc["  hosts (servers, CPU, memory, power)", "usd"]
    quoted = float(re.match(r"hosts ([\d,]+) USD = 1 box x ([\d,]+) USD per box", row["value"])
                   .group(1).replace(",", ""))
    assert quoted == hosts == rec["host_usd"] == 6_000  # 4 RTX 5090 in one box at 1,500 each
    assert f"{unit['host_usd_per_gpu_typical']:,.0f} USD per GPU" in row["value"]
    assert row["as_of"] == unit["as_of"].isoformat()
    assert row["source"] == memo._short_source(unit["source"])  # purchase_units.csv's source
    # the hardware price row no longer quotes a host share the total does not use
    hw = a.loc[f"price: hardware_prices {rec['gpu_id']}-new", "value"]
    assert "host share" not in hw
    md = private.to_markdown(dollar="backslash")
    assert "hosts 6,000 USD = 1 box x 6,000 USD per box" in md and "| \\$6,000 | capex |" in md
