"""Margins of ranked answers: SLO margin against the error band, price ages, cost ranges."""

import datetime as dt

import pandas as pd
import pytest

from hwcost import catalog, margins, recommend
from hwcost.workload import SLO, Workload

TODAY = dt.date(2026, 12, 6)


def test_slow_end_of_a_time_divides_by_the_low_speed_ratio():
    # measured speed fell to 0.866 x the prediction for one validation row in ten:
    # a predicted 0.66 s can take 0.66 / 0.866 = 0.7621 s
    assert margins.latency_upper_s(0.66, (0.866, 1.432)) == pytest.approx(0.762125, rel=1e-6)
    with pytest.raises(ValueError, match="low end must be > 0"):
        margins.latency_upper_s(1.0, (0.0, 1.2))


BANDS = {"ttft": (0.8, 1.2), "decode": (0.9, 1.1), "throughput": (0.5, 1.25)}


@pytest.mark.parametrize("ttft, tpot, batch, verdict", [
    (0.6, 0.04, 1, "clear"),  # 0.6 / 0.8 = 0.75 <= 0.8; 0.04 / 0.9 = 0.0444 <= 0.05
    (0.7, 0.04, 1, "at risk: p95 TTFT up to 0.875 s against 0.8 s"),
    (0.6, 0.04, 8, "at risk: p95 TPOT up to 0.08 s against 0.05 s"),  # batched: / 0.5
    (0.9, 0.04, 1, "misses: p95 TTFT 0.9 s over 0.8 s"),
    (None, None, None, "not modelled"),
])
def test_slo_margin_verdicts(ttft, tpot, batch, verdict):
    slo = SLO(ttft_s=0.8, tpot_s=0.05)
    assert margins.slo_margin(ttft, tpot, slo, batch_size=batch, bands=BANDS)[2] == verdict


def test_no_target_is_not_a_risk():
    up_t, up_p, verdict = margins.slo_margin(0.5, 0.02, SLO(), batch_size=1, bands=BANDS)
    assert verdict == "no target" and up_t == pytest.approx(0.625) and up_p == pytest.approx(0.02 / 0.9)


def test_error_bands_come_from_the_stored_calibration():
    from hwcost import perf

    cal = perf.stored_calibration()
    assert margins.error_bands()["ttft"] == cal.error_band("ttft")
    for low, high in margins.error_bands().values():
        assert 0 < low <= 1 <= high


def test_price_age_counts_days_to_the_reference_date():
    assert margins.price_age_days("2025-06-25", TODAY) == 529
    assert margins.price_age_days(dt.date(2026, 12, 6), TODAY) == 0
    assert margins.price_age_days(None, TODAY) is None


@pytest.fixture(scope="module")
def table():
    w = Workload("llama-3.1-70b", 2000, 500, 200)
    c = recommend.Constraints(slo=SLO(ttft_s=1.0, tpot_s=0.1))
    return margins.annotate(recommend.rank(w, c, simulate=False), c, rows=None, today=TODAY)


def test_every_row_names_the_prices_it_rests_on_with_their_dates(table):
    ok = table[table["feasible"]]
    api = ok[ok["kind"] == "api"].iloc[0]
    row = catalog.api_prices().set_index("id").loc[api["offer_id"]]
    assert api["prices_used"] == api["offer_id"]
    assert api["price_as_of"] == pd.Timestamp(row["as_of"]).date().isoformat()
    assert api["price_age_days"] == (TODAY - pd.Timestamp(row["as_of"]).date()).days
    assert api["price_stale"] == (api["price_age_days"] > 180)
    cloud = ok[ok["kind"] == "cloud"].iloc[0]
    assert cloud["prices_used"] == cloud["offer_id"]
    own = ok[ok["kind"] == "self-hosted"].iloc[0]
    # an owned option pays the hardware's street price and the electricity tariff (colocation
    # for datacenter GPUs, office for consumer and workstation cards, as recommend.rank)
    energy = (recommend.DATACENTER_ENERGY_ID if catalog.gpu(own["gpu_id"]).segment == "datacenter"
              else recommend.OFFICE_ENERGY_ID)
    # and the host cost of its purchase unit, where the unit sets one (per GPU or per box)
    unit = catalog.purchase_unit(own["gpu_id"])
    host = (unit["host_usd_per_gpu_typical"] is not None or unit["min_host_usd_per_box"] is not None)
    assert own["prices_used"] == (f"{own['gpu_id']}-new, {own['gpu_id']}, {energy}" if host
                                  else f"{own['gpu_id']}-new, {energy}")


def test_only_owned_totals_have_a_range_and_it_brackets_the_typical_total(table):
    ok = table[table["feasible"]]
    for kind, rows in ok.groupby("kind"):
        lo, mid, hi = rows["total_usd_p10"].astype(float), rows["total_usd"], rows["total_usd_p90"].astype(float)
        if kind == "self-hosted":
            assert (lo < mid).all() and (mid < hi).all()
        else:  # list prices are quotes, not ranges
            assert (lo == mid).all() and (hi == mid).all()


def test_stale_threshold_is_applied(table):
    c = table.attrs["constraints"]
    strict = margins.annotate(table, c, rows=5, today=TODAY, max_price_age_days=1)
    ages = strict["price_age_days"].head(5)
    assert list(strict["price_stale"].head(5)) == [a > 1 for a in ages]
    with pytest.raises(ValueError, match="max_price_age_days"):
        margins.annotate(table, c, max_price_age_days=0)


@pytest.mark.parametrize("row, note", [
    ({"kind": "self-hosted", "spares": 0, "gpus_total": 2, "replicas": 1}, "one machine with no spare"),
    ({"kind": "cloud", "spares": 0, "gpus_total": 16, "replicas": 2}, "no spare replica"),
    ({"kind": "self-hosted", "spares": 1, "gpus_total": 4, "replicas": 2}, "all 2 replicas"),
    ({"kind": "self-hosted", "spares": 1, "gpus_total": 16, "replicas": 4}, None),
    ({"kind": "api", "spares": None, "gpus_total": None, "replicas": None}, None),
])
def test_redundancy_note(row, note):
    got = margins.redundancy_note(row)
    assert (got is None) if note is None else got.startswith(note)


def test_warnings_name_the_rank_and_the_reason(table):
    lines = margins.warnings(table[table["feasible"]], rows=3)
    assert all(ln.startswith("#") for ln in lines)


def test_summary_columns_read_as_the_cli_shows_them():
    t = pd.DataFrame({
        "slo_margin": ["clear", "at risk: p95 TTFT up to 0.94 s against 0.8 s", "not modelled", "no target", None],
        "total_usd_p10": [90_000.0, 1000.0, 232.14, None, None],
        "total_usd_p90": [120_500.0, 1000.2, 232.14, None, None],
        "price_age_days": [40, 529, 12, None, None],
        "price_stale": [False, True, False, None, None],
    }, index=[3, 4, 5, 6, 7])
    out = margins.summary_columns(t)
    assert list(out.index) == [3, 4, 5, 6, 7]
    assert list(out["margin"]) == ["ok", "at risk", "n/m", "-", "-"]
    assert list(out["p10-p90"]) == ["90,000-120,500", "list price", "list price", "-", "-"]
    assert list(out["price_age_d"]) == ["40", "529!", "12", "-", "-"]
    assert margins.range_text(1.5, 2.25, lambda x: f"{x:.2f}") == "1.50-2.25"
