"""The one cost-of-ownership model: purchase units, capex and running cost, staff per box."""

import math

import pytest

from hwcost import economics


def test_dgx_class_h100_server_in_colocation_known_answer():
    # 8x H100 SXM at 70 % load, USD 196 per kW-month on the DGX H100's 10.2 kW, catalog typical
    # prices: an independent estimate gives ~2.19 USD/GPU-h and ~154k USD per server-year.
    c = economics.ownership_cost("h100-sxm", replicas=1, gpus_per_replica=8, utilization=0.7,
                                 energy="us-industrial-colo")
    assert c.plan.n_gpus_bought == 8 and c.plan.n_boxes == 1
    assert 2.0 <= c.usd_per_gpu_hour <= 2.3
    assert 140_000 <= c.total_usd_per_year <= 175_000
    # hand-computed parts: 8 x (30,000 GPU + 9,000 host) + 5,000 networking/setup up front;
    # colocation 10.2 kW x 196 USD x 12 months; maintenance 3 % of the hardware
    assert c.capex_usd == pytest.approx(317_000)
    assert c.colocation_usd_per_year == pytest.approx(10.2 * 196 * 12)
    assert c.maintenance_usd_per_year == pytest.approx(0.03 * 312_000)
    # energy metered at the IT load (no PUE on top of a kW-month fee): 10.2 kW x 0.73 x 0.09
    assert c.power_usd_per_year == pytest.approx(10.2 * (0.1 + 0.9 * 0.7) * 8760 * 0.09)
    assert c.running_usd_per_year + c.capital_usd_per_year == pytest.approx(c.total_usd_per_year)
    assert c.breakdown()["share"].sum() == pytest.approx(1.0)


@pytest.mark.parametrize("gpu_id, board", [("h100-sxm", 4), ("h200-sxm", 4), ("b200", 8),
                                            ("mi300x", 8), ("a100-80gb-sxm", 4)])
@pytest.mark.parametrize("replicas, n", [(1, 1), (3, 1), (1, 2), (3, 2), (5, 2), (2, 4), (3, 8)])
def test_board_parts_are_bought_in_whole_boards(gpu_id, board, replicas, n):
    plan = economics.purchase_plan(gpu_id, replicas, n)
    assert plan.n_gpus_bought % board == 0
    assert plan.n_gpus_bought >= replicas * n
    assert plan.spare_gpus == plan.n_gpus_bought - replicas * n
    assert plan.spare_gpus < board + plan.max_gpus_per_box  # never a whole box too many


def test_one_h200_replica_buys_a_four_gpu_board():
    plan = economics.purchase_plan("h200-sxm", 1, 1)
    assert (plan.n_gpus_bought, plan.spare_gpus, plan.n_boxes) == (4, 3, 1)
    assert plan.bill_of_materials() == "1 HGX server, 4 x h200-sxm (3 spare), 1 rack, 5.1 kW"


def test_gb200_is_bought_by_the_rack():
    plan = economics.purchase_plan("gb200", 1, 4)
    assert (plan.n_gpus_bought, plan.n_racks, plan.kw) == (72, 1, pytest.approx(120.0))
    plan = economics.purchase_plan("gb200", 19, 4)  # 76 GPUs: two racks
    assert (plan.n_gpus_bought, plan.n_boxes) == (144, 2)


def test_replicas_fill_boxes_without_spanning_them():
    # 3 replicas of 3 GPUs in 4-card boxes: one replica per box
    plan = economics.purchase_plan("rtx-4090", 3, 3)
    assert (plan.n_boxes, plan.n_gpus_bought) == (3, 9)
    with pytest.raises(ValueError, match="holds at most 4 GPUs"):
        economics.purchase_plan("rtx-4090", 1, 8)


def test_consumer_box_carries_a_dedicated_host_and_a_caveat():
    c = economics.ownership_cost("rtx-4090", 1, 4, utilization=0.5)
    assert c.host_usd == pytest.approx(4 * 1500)
    assert "licence" in c.plan.caveat and "ECC" in c.plan.caveat
    assert economics.purchase_plan("h100-sxm", 1, 8).caveat == ""


def test_staff_grows_with_boxes():
    one = economics.ownership_cost("rtx-4090", 1, 4, utilization=0.5)
    fleet = economics.ownership_cost("rtx-4090", 12, 4, utilization=0.5)
    assert fleet.plan.n_boxes == 12
    assert one.staff_fraction == pytest.approx(0.10)
    assert fleet.staff_fraction == pytest.approx(0.05 + 12 * 0.05)

    def extra(replicas):
        lo = economics.ownership_cost("rtx-4090", replicas, 4, utilization=0.5)
        hi = economics.ownership_cost("rtx-4090", replicas, 4, utilization=0.5, staff_per_box_fraction=0.10)
        return hi.total_usd_per_year - lo.total_usd_per_year

    assert extra(12) == pytest.approx(12 * extra(1))
    assert extra(1) == pytest.approx(economics.operations_usd_per_year(0.05))


def test_flat_staff_override():
    c = economics.ownership_cost("l40s", 2, 1, operations_usd_per_year=6000)
    assert c.staff_usd_per_year == 6000


def test_office_setting_applies_pue_and_no_colocation_fee():
    c = economics.ownership_cost("l40s", 1, 1, utilization=1.0, energy="us-commercial")
    assert c.colocation_usd_per_year == 0 and not c.colocation
    # 350 W card + 250 W host share at full load, PUE 1.05, 0.13 USD/kWh
    assert c.power_usd_per_year == pytest.approx(0.6 * 1.05 * 0.13 * 8760)


def test_low_typical_high_estimates_are_ordered():
    df = economics.ownership_cost_range("h100-sxm", 1, 8, utilization=0.7)
    assert list(df["estimate"]) == ["low", "typical", "high"]
    assert df["total_usd_per_year"].is_monotonic_increasing
    assert df["capex_usd"].is_monotonic_increasing


def test_horizon_total_is_years_of_the_yearly_cost():
    c = economics.ownership_cost("h100-sxm", 1, 8)
    assert c.total_usd(2.0) == pytest.approx(2 * c.total_usd_per_year)
    with pytest.raises(ValueError, match="estimate"):
        economics.ownership_cost("h100-sxm", 1, 8, estimate="median")


def test_gpu_without_purchase_unit_row_is_bought_card_by_card(monkeypatch):
    from hwcost import catalog

    def missing(_gpu, path=None):
        raise catalog.CatalogError("no purchase unit")

    monkeypatch.setattr(catalog, "purchase_unit", missing)
    plan = economics.purchase_plan("h100-pcie", 3, 1)
    assert (plan.sold_as, plan.n_gpus_bought, plan.n_boxes) == ("card", 3, 1)
    assert math.isclose(plan.host_w_per_gpu, economics.HOST_POWER_W_PER_GPU["datacenter"])


def test_a_one_card_server_pays_a_whole_server_host():
    one = economics.ownership_cost("l40s", 1, 1)
    eight = economics.ownership_cost("l40s", 8, 1)
    assert one.host_usd == pytest.approx(10_000)  # the minimum host of a server
    assert eight.host_usd == pytest.approx(8 * 4_000)  # the catalog's host share per GPU
    assert eight.plan.n_boxes == 1


def test_ownership_inputs_span_the_catalog_ranges():
    kw = dict(utilization=0.7)
    inputs = economics.ownership_inputs("h100-sxm", 1, 8, **kw)
    assert isinstance(inputs["gpu_usd"], economics.Range)
    assert (inputs["gpu_usd"].low, inputs["gpu_usd"].typical, inputs["gpu_usd"].high) == (25_000, 30_000, 40_000)
    assert isinstance(inputs["colocation_usd_per_year"], economics.Range)
    assert inputs["n_gpus"] == 8 and inputs["pue"] == 1.0
    typical = economics.typical_inputs(inputs)
    busy = economics.self_hosted_usd_per_busy_gpu_hour(0.7, **typical)
    c = economics.ownership_cost("h100-sxm", 1, 8, **kw)
    assert busy["total"] * 0.7 == pytest.approx(c.usd_per_gpu_hour)


def test_yearly_at_another_utilization_equals_a_fresh_computation():
    full = economics.ownership_cost("l40s", 3, 2, utilization=1.0)
    for u in (0.05, 0.4, 0.9):
        fresh = economics.ownership_cost("l40s", 3, 2, utilization=u)
        at = full.yearly_at(u)
        for k in ("power_usd_per_year", "running_usd_per_year", "total_usd_per_year", "usd_per_gpu_hour"):
            assert at[k] == pytest.approx(getattr(fresh, k)), k
