import datetime as dt

import pandas as pd
import pytest

from hwcost import catalog, recommend

STEM = "08_selection_flowchart"
# sensitive data at 25 times the traffic: only owned hardware may serve it; price ages to the
# day of the run
PARAMS = {"privacy_required_flag": True, "requests_per_day": 50_000,
          "price_age_reference_setting": "today"}

TOKENS_PER_REQUEST = 500 + 200  # the notebook's default input + output tokens
ADMIN_USD = 96_800 / 0.70  # BLS median wage grossed up by the 70% wage share


def _tokens(r):
    return r["requests_per_day"] * TOKENS_PER_REQUEST * r["horizon_months"] * 730 / 24


def _common(r):
    # staff cost: 10% and 5% of one administrator
    assert r["ops_self_usd_per_year"] == pytest.approx(0.10 * ADMIN_USD, rel=1e-5)
    assert r["ops_cloud_usd_per_year"] == pytest.approx(0.05 * ADMIN_USD, rel=1e-5)
    assert r["tokens_over_horizon"] == pytest.approx(_tokens(r), rel=1e-5)
    # cost per million tokens is the total over the tokens served
    assert r["top_usd_per_million_tokens"] == pytest.approx(
        r["top_total_usd"] / r["tokens_over_horizon"] * 1e6, rel=1e-4)
    assert sum(r["n_feasible_by_kind"].values()) == r["n_feasible"]
    # capex is paid up front (owned hardware only); the horizon total adds the running cost
    years = r["horizon_months"] / 12
    if r["top_kind"] == "self-hosted":
        assert r["top_capex_usd"] > 0
    else:
        assert r["top_capex_usd"] == 0
        assert r["top_running_usd_per_year"] * years == pytest.approx(r["top_total_usd"], rel=1e-4)
    # an owned option pays at least its staff over the horizon
    years = r["horizon_months"] / 12
    assert r["best_total_usd_by_kind"]["self-hosted"] >= r["ops_self_usd_per_year"] * years
    # privacy removes every cloud and API option and keeps every owned one
    priv = r["private_feasible_by_kind"]
    assert priv["cloud"] == 0 and priv["api"] == 0
    assert priv["self-hosted"] == r["n_feasible_by_kind"]["self-hosted"] > 0
    assert r["private_top_kind"] == "self-hosted"
    # 70B at 16-bit does not fit small cards: memory capacity is always a failing constraint
    assert r["failures"]["memory capacity"] > 0
    assert r["n_frontier_ttft"] >= 1 and r["n_frontier_tpot"] >= 1
    # the five pattern presets; an advised option never beats the best GPU option
    assert len(r["pattern_verdicts"]) == len(recommend.DEPLOYMENT_PATTERNS) == 5
    assert set(r["pattern_verdicts"]) <= {"agrees", "close", "disagrees",
                                         "no option follows the advice"}
    assert all(x == -1.0 or x >= 1 - 1e-6 for x in r["pattern_advised_vs_best_gpu"])
    assert r["flow_gpu"] == "H100"  # 70.55B is a "30-70B" model with the naming tolerance


def check_default(r):
    _common(r)
    # the article's rules for 2,000/day, 1 s, 99%, no privacy, 36 months: two cloud votes
    # (traffic under 10K, 99%+ availability) against one self-hosted (2+ years)
    assert r["flow_deployment"] == "cloud"
    assert (r["flow_votes_cloud"], r["flow_votes_self_hosted"]) == (2, 1)
    # price ages count to the notebook's reference date, not to the day it runs
    if r["top_kind"] == "api":
        prices = catalog.api_prices().set_index("id")
        as_of = pd.Timestamp(prices.loc[r["top_offer_id"], "as_of"]).date()
        assert r["top_price_age_days"] == (dt.date(2026, 12, 6) - as_of).days
    assert r["n_feasible_by_kind"]["api"] > 0 and r["n_feasible_by_kind"]["cloud"] > 0
    assert r["public_best_total_usd_by_kind"] == pytest.approx(r["best_total_usd_by_kind"], rel=1e-5)
    if r["top_kind"] == "api":  # an API total is its catalog token price times the tokens
        price = catalog.api_prices().set_index("id").loc[r["top_offer_id"]]
        per_request = (500 * price["usd_per_million_input_tokens"]
                       + 200 * price["usd_per_million_output_tokens"]) / 1e6
        days = r["horizon_months"] * 730 / 24
        assert r["top_total_usd"] == pytest.approx(per_request * r["requests_per_day"] * days, rel=1e-4)
    # staff sensitivity: the best owned option meets the best cloud option at the crossover share
    years = r["horizon_months"] / 12
    hw = r["self_hosted_hardware_usd"]
    best = r["best_total_usd_by_kind"]
    assert hw == pytest.approx(best["self-hosted"] - r["ops_self_usd_per_year"] * years, abs=1.0)
    cross = r["staff_crossover_share"]["cloud"]
    assert hw + cross * ADMIN_USD * years == pytest.approx(best["cloud"], rel=1e-4)


def check_alternative(r, default):
    _common(r)
    assert r["flow_deployment"] == "self-hosted"  # sensitive data decides
    assert r["top_kind"] == "self-hosted"
    assert set(r["top5_kinds"]) == {"self-hosted"}
    assert r["n_feasible_by_kind"]["cloud"] == 0 and r["n_feasible_by_kind"]["api"] == 0
    # 25 times the traffic: 25 times the tokens and the API bill; never a cheaper owned plan
    assert r["tokens_over_horizon"] == pytest.approx(25 * default["tokens_over_horizon"], rel=1e-5)
    assert r["public_best_total_usd_by_kind"]["api"] == pytest.approx(
        25 * default["public_best_total_usd_by_kind"]["api"], rel=1e-5)
    assert r["best_total_usd_by_kind"]["self-hosted"] >= default["best_total_usd_by_kind"]["self-hosted"]
    # the pattern presets do not depend on the case
    assert r["pattern_verdicts"] == default["pattern_verdicts"]
