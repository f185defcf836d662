import pytest

from hwcost import catalog

STEM = "03_self_hosting_economics"
# German household electricity for the cards, and a two-year service life
PARAMS = {"energy_setting": "eu-residential-de", "amortization_years": 2.0}

GPUS = ("rtx-4090", "rtx-6000-ada", "h100-sxm")
CLOUD_CLASS = {"rtx-4090": "rtx-4090", "rtx-6000-ada": "l40s", "h100-sxm": "h100-sxm"}


def _energy(setting):
    row = catalog.energy().set_index("id").loc[setting]
    return row["usd_per_kwh_typical"] * row["pue_typical"]


# Host per GPU as bought (data/purchase_units.csv): a dedicated desktop host for the GeForce
# card, a workstation host for the RTX 6000 Ada, the catalog's server share in an HGX server;
# networking and setup per box (USD 500 for a desk-side box, USD 5,000 for a server).
HOST_USD = {"rtx-4090": 1500, "rtx-6000-ada": 3000, "h100-sxm": 9000}
NETWORKING_PER_GPU = {"rtx-4090": 500, "rtx-6000-ada": 500, "h100-sxm": 5000 / 8}


def _capex_usd_per_hour(gpu, years, rate=0.08, resale=0.2):
    """Capital recovery with interest, less the resale value's sinking fund, per 8,760 h.

    Networking and setup are shared by the box's GPUs and not resold.
    """
    hw = catalog.hardware_prices()
    row = hw[(hw["gpu_id"] == gpu) & (hw["condition"] == "new")].iloc[0]
    hardware = row["usd_typical"] + HOST_USD[gpu]
    fixed = NETWORKING_PER_GPU[gpu]
    crf = rate / (1 - (1 + rate) ** -years)
    return ((hardware + fixed) * crf - resale * hardware * (crf - rate)) / 8760


def _check_common(r):
    for g in GPUS:
        od = catalog.cloud_prices()
        od = od[(od["gpu_id"] == CLOUD_CLASS[g]) & (od["pricing"] == "on-demand")]
        assert r[f"{g}_cloud_usd_per_gpu_hour"] == pytest.approx(od["usd_per_gpu_hour"].min())
        p10, p50, p90 = (r[f"{g}_p{q}_usd_per_busy_gpu_hour"] for q in (10, 50, 90))
        assert 0 < p10 < p50 < p90
        assert p10 < r[f"{g}_usd_per_busy_gpu_hour"] < p90
        # paying back within the service life needs more than the chosen utilization exactly
        # when the break-even at that utilization comes after the end of the life
        needed = r.get(f"{g}_utilization_to_pay_back", 2.0)
        months = r.get(f"{g}_break_even_months", float("inf"))
        assert (needed > r["utilization"]) == (months > r["service_life_months"])
    assert r["service_life_months"] == pytest.approx(12 * r["amortization_years"])
    # the article's FAQ: 10,000 / (2.69 - 500 / 730) GPU-hours, / 730 h per month
    assert r["article_break_even_gpu_hours"] == pytest.approx(10_000 / (2.69 - 500 / 730), rel=1e-4)
    assert r["article_break_even_months"] == pytest.approx(r["article_break_even_gpu_hours"] / 730, rel=1e-4)
    assert r["article_rtx4090-amortized"] == "agrees"
    assert r["article_rtx4090-electricity"] == "disagrees"
    assert r["article_h100x8-capex"] == "implausible input"
    assert r["refresh_4090_relative_cost"] > 0 and r["refresh_h100_relative_cost"] > 0
    # staff: the yearly amount per machine over 8,760 h, divided by the busy share; the server's
    # is shared by its 8 GPUs
    for g in ("rtx-4090", "rtx-6000-ada"):
        assert r[f"{g}_operations_usd_per_busy_gpu_hour"] == pytest.approx(
            r["ops_card_usd_per_year"] / 8760 / r["utilization"], rel=1e-4)
    assert r["h100-sxm_operations_usd_per_busy_gpu_hour"] == pytest.approx(
        r["ops_server_usd_per_year"] / 8 / 8760 / r["utilization"], rel=1e-4)
    # a business staffing owned hardware at 10 % of an administrator and rented GPUs at 5 %
    # (BLS median wage / 0.70 wage share) pays the difference over this notebook's card upkeep
    admin = 96_800 / 0.70
    assert r["business_extra_usd_per_busy_gpu_hour"] == pytest.approx(
        ((0.10 - 0.05) * admin - r["ops_card_usd_per_year"]) / 8760 / r["utilization"], rel=1e-4)


def check_default(r):
    _check_common(r)
    # the one model's 8x H100 server: USD 317,000 up front (8 x (30,000 + 9,000) + 5,000);
    # colocation on the DGX H100's 10.2 kW at USD 196 per kW-month
    assert r["h100-sxm_capex_usd"] == pytest.approx(317_000)
    assert r["h100-sxm_n_gpus_bought"] == 8
    assert r["h100_server_colocation_usd_per_year"] == pytest.approx(10.2 * 196 * 12)
    assert 2.0 <= r["h100_server_usd_per_gpu_hour"] <= 2.3
    assert 140_000 <= r["h100_server_usd_per_year"] <= 175_000
    assert r["ops_server_usd_per_year"] == pytest.approx(0.10 * 96_800 / 0.70, rel=1e-4)
    # (450 W + 100 W host) x (0.1 + 0.9 x 0.5) load x PUE x USD/kWh of the home setting
    tdp = catalog.gpu("rtx-4090").tdp_w
    assert r["rtx-4090_power_usd_per_gpu_hour"] == pytest.approx(
        (tdp + 100) / 1000 * 0.55 * _energy("us-residential"), rel=1e-5)
    for g in GPUS:
        assert r[f"{g}_capex_usd_per_gpu_hour"] == pytest.approx(_capex_usd_per_hour(g, 3.0), rel=1e-4)


def check_alternative(r, default):
    _check_common(r)
    ratio = _energy("eu-residential-de") / _energy("us-residential")
    for g in ("rtx-4090", "rtx-6000-ada"):
        assert r[f"{g}_power_usd_per_gpu_hour"] == pytest.approx(default[f"{g}_power_usd_per_gpu_hour"] * ratio,
                                                                  rel=1e-4)
        assert r[f"{g}_power_usd_per_gpu_hour"] > default[f"{g}_power_usd_per_gpu_hour"]
    # the server's electricity setting did not change
    assert r["h100-sxm_power_usd_per_gpu_hour"] == pytest.approx(default["h100-sxm_power_usd_per_gpu_hour"])
    for g in GPUS:
        # two years instead of three: more capital per hour, a dearer busy hour
        assert r[f"{g}_capex_usd_per_gpu_hour"] == pytest.approx(_capex_usd_per_hour(g, 2.0), rel=1e-4)
        assert r[f"{g}_capex_usd_per_gpu_hour"] > default[f"{g}_capex_usd_per_gpu_hour"]
        assert r[f"{g}_usd_per_busy_gpu_hour"] > default[f"{g}_usd_per_busy_gpu_hour"]
        assert r[f"{g}_cloud_usd_per_gpu_hour"] == default[f"{g}_cloud_usd_per_gpu_hour"]
