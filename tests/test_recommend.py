"""hwcost.recommend: the article's flowchart, constraints, scenarios and the ranked options."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hwcost import catalog, economics, recommend, scenario
from hwcost.recommend import Constraints, Thresholds, flowchart, spares_needed
from hwcost.workload import SLO, Workload


# ----------------------------------------------------------------------------------------
# Flowchart
# ----------------------------------------------------------------------------------------
def _fired(result):
    return {s.rule for s in result.path if s.fired}


def test_flowchart_article_scenario_2_path():
    # 70.55B params with the 5% naming tolerance is a "30-70B" model -> H100; 2,000/day is
    # under the when-to-use 10K cloud line; 99.9% availability -> redundant cloud.
    r = flowchart(2000, "llama-3.1-70b", latency_sla_s=1.0, availability=0.999)
    assert r.gpu == "H100"
    assert r.gpu_ids[0] == "h100-sxm"
    assert r.deployment == "cloud"
    assert _fired(r) == {"size-large", "latency-relaxed", "availability-high", "privacy-standard",
                         "cloud-low-traffic"}
    assert r.latency_advice.startswith("less hardware-sensitive")


@pytest.mark.parametrize(
    "size_b, gpu",
    [(7, "RTX 4090"), (12.9, "RTX 4090"), (13.02, "A100"), (30, "A100"), (32.76, "H100"),
     (70, "H100"), (72.71, "H100"), (74, "B200 / multi-GPU"), (405, "B200 / multi-GPU")],
)
def test_flowchart_model_size_bands(size_b, gpu):
    # 13.02B (Llama 2 13B) is a 13B model: "<13B" does not hold even with the tolerance.
    assert flowchart(1000, size_b).gpu == gpu


def test_size_tolerance_is_a_parameter():
    strict = Thresholds(size_tolerance=0.0)
    assert flowchart(1000, 70.55, thresholds=strict).gpu == "B200 / multi-GPU"
    assert flowchart(1000, 70.55).gpu == "H100"


def test_flowchart_traffic_thresholds():
    low = flowchart(50, 7)
    assert "traffic-low" in _fired(low) and low.deployment == "cloud"
    high = flowchart(20_000, 7, availability=0.95)
    assert "traffic-high" in _fired(high)
    assert high.deployment == "self-hosted"
    # moving the threshold moves the verdict
    moved = flowchart(20_000, 7, availability=0.95,
                      thresholds=Thresholds(self_hosted_above_requests_per_day=50_000,
                                            cloud_traffic_below_requests_per_day=50_000))
    assert "traffic-high" not in _fired(moved)
    assert moved.deployment == "cloud"


def test_privacy_is_decisive():
    r = flowchart(50, 7, availability=0.999, privacy=True, horizon_months=3)
    assert r.deployment == "self-hosted"
    assert "privacy-sensitive" in _fired(r)
    assert "privacy-standard" not in _fired(r)


def test_hybrid_when_traffic_rules_disagree_and_hybrid_rules():
    # stable 10K+ traffic votes self-hosted; a variable pattern would vote cloud
    r = flowchart(20_000, 70, traffic_pattern="baseline-plus-bursts")
    assert r.deployment == "hybrid"
    r = flowchart(20_000, 70, growing=True)
    assert r.deployment == "hybrid"


def test_unknown_inputs_are_not_evaluated():
    r = flowchart(1000, 7)
    skipped = {s.rule for s in r.path if s.value is None}
    assert {"latency-tight", "availability-high", "cloud-no-ops", "self-long-term"} <= skipped
    frame = r.to_frame()
    assert list(frame.columns) == ["rule", "factor", "value", "test", "fired", "outcome", "text",
                                   "section"]
    assert len(frame) == len(recommend.FLOWCHART_RULES) + len(recommend.WHEN_TO_USE_RULES)
    assert set(frame["section"]) == {"Practical Selection Flowchart", "When to Use Each Option"}


def test_availability_branches_exclusive():
    r = flowchart(1000, 7, availability="99.9%")
    assert "availability-high" in _fired(r) and "availability-basic" not in _fired(r)
    r = flowchart(1000, 7, availability=0.95)
    assert "availability-basic" in _fired(r) and "availability-high" not in _fired(r)
    r = flowchart(1000, 7, availability=0.8)
    assert not {"availability-high", "availability-basic"} & _fired(r)


def test_latency_branches():
    assert flowchart(1000, 7, latency_sla_s=0.05).latency_advice.startswith("optimize")
    assert flowchart(1000, 7, latency_sla_s=0.3).latency_advice == ""


def test_flowchart_bad_input():
    with pytest.raises(ValueError, match="requests_per_day"):
        flowchart(-1, 7)
    with pytest.raises(catalog.CatalogError, match="closest"):
        flowchart(100, "llama-3.1-70")
    with pytest.raises(ValueError, match="traffic_pattern"):
        flowchart(100, 7, traffic_pattern="spiky")


@settings(max_examples=60, deadline=None)
@given(rpd=st.floats(0, 1e6), size=st.floats(0.5, 1000),
       privacy=st.booleans())
def test_flowchart_always_decides_gpu_and_privacy_wins(rpd, size, privacy):
    r = flowchart(rpd, size, privacy=privacy)
    assert r.gpu in recommend.ARTICLE_GPUS
    assert sum(s.fired for s in r.path if s.factor == "model_size_b") == 1
    if privacy:
        assert r.deployment == "self-hosted"
    assert r.deployment in ("cloud", "self-hosted", "hybrid", "either")


# ----------------------------------------------------------------------------------------
# Constraints and the availability rule
# ----------------------------------------------------------------------------------------
def test_spares_known_answers():
    # one replica at 99%: a 99% target needs no spare, 99.9% needs N+1 (1 - 0.01^2 = 0.9999)
    assert spares_needed(1, 0.99, 0.99) == 0
    assert spares_needed(1, 0.999, 0.99) == 1
    # 4 replicas: P(all 4 up) = 0.99^4 = 0.9606 < 0.99; with one spare
    # P(>= 4 of 5) = 0.99^5 + 5*0.99^4*0.01 = 0.99902 >= 0.999
    assert spares_needed(4, 0.99, 0.99) == 1
    assert spares_needed(4, 0.999, 0.99) == 1
    assert spares_needed(4, 0.9999, 0.99) == 2
    assert spares_needed(1, 0.999999, 0.5, max_spares=3) is None


@settings(max_examples=50, deadline=None)
@given(n=st.integers(1, 20), target=st.floats(0.5, 0.9999), a=st.floats(0.9, 0.999))
def test_spares_monotone_in_target(n, target, a):
    k = spares_needed(n, target, a, max_spares=40)
    assert k is not None
    k_higher = spares_needed(n, min(0.99999, target + (1 - target) / 2), a, max_spares=40)
    assert k_higher is not None and k_higher >= k


def test_constraints_accept_percentages_and_reject_contradictions():
    assert Constraints(availability="99.9%").availability == pytest.approx(0.999)
    assert Constraints(availability=99.9).availability == pytest.approx(0.999)
    with pytest.raises(ValueError, match="privacy=true allows only self-hosted"):
        Constraints(privacy=True, allow_self_hosted=False)
    with pytest.raises(ValueError, match="all false"):
        Constraints(allow_cloud=False, allow_self_hosted=False, allow_api=False)
    with pytest.raises(ValueError, match="data_residency"):
        Constraints(data_residency="EU", allow_cloud=False, allow_self_hosted=False)
    with pytest.raises(ValueError, match="precisions must be one of fp16, bf16, fp8, int8, int4, fp4, got 'fp12'"):
        Constraints(precisions=("fp12",))
    with pytest.raises(catalog.CatalogError, match="closest"):
        Constraints(gpus=("h1000",))
    with pytest.raises(ValueError, match="horizon_months"):
        Constraints(horizon_months=0)


def test_privacy_leaves_only_self_hosted_kinds():
    assert Constraints(privacy=True).allowed_kinds() == ("self-hosted",)
    assert Constraints().allowed_kinds() == ("cloud", "self-hosted", "api")


# ----------------------------------------------------------------------------------------
# Scenario files
# ----------------------------------------------------------------------------------------
def test_bundled_scenarios_load_and_cite_their_source():
    paths = scenario.bundled()
    names = {p.stem for p in paths}
    assert {"article-scenario-1", "article-scenario-2", "startup-chat-app",
            "internal-batch-summarization", "privacy-enterprise-rag"} <= names
    for p in paths:
        s = scenario.load(p)
        assert s.name == p.stem
        assert s.source or s.description
        if s.name.startswith("article"):
            assert "Cost-Per-Token Analysis" in s.source
    s2 = scenario.load("article-scenario-2")
    assert (s2.workload.model, s2.workload.requests_per_day, s2.workload.input_tokens,
            s2.workload.output_tokens) == ("llama-3.1-70b", 2000, 500, 200)
    assert scenario.load("privacy-enterprise-rag").constraints.privacy is True


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "s.yaml"
    p.write_text(text, encoding="utf-8")
    return p


GOOD = """\
name: t
source: test
workload:
  model: llama-3.1-8b
  requests_per_day: 100
slo:
  ttft_p95_s: 1
"""


def test_scenario_errors_name_file_key_and_reason(tmp_path):
    p = _write(tmp_path, GOOD.replace("requests_per_day", "requests_per_dya"))
    with pytest.raises(scenario.ScenarioError) as exc:
        scenario.load(p)
    msg = str(exc.value)
    assert str(p) in msg and "workload.requests_per_dya" in msg and "accepted keys" in msg
    assert "requests_per_day" in msg

    p = _write(tmp_path, GOOD + "constraints:\n  availabilty: 0.99\n")
    with pytest.raises(scenario.ScenarioError, match=r"constraints\.availabilty.*accepted keys"):
        scenario.load(p)

    p = _write(tmp_path, GOOD.replace("llama-3.1-8b", "llama-3.1-8"))
    with pytest.raises(scenario.ScenarioError, match=r"workload\.model.*closest ids"):
        scenario.load(p)

    p = _write(tmp_path, GOOD + "slo:\n  tpot_p95_s: 1\n")
    with pytest.raises(scenario.ScenarioError, match="given twice"):
        scenario.load(p)

    p = _write(tmp_path, "name: t\nworkload: [unclosed\n")
    with pytest.raises(scenario.ScenarioError, match=r"malformed YAML: line \d+"):
        scenario.load(p)

    p = _write(tmp_path, GOOD.replace("source: test\n", ""))
    with pytest.raises(scenario.ScenarioError, match="'source'.*represents"):
        scenario.load(p)

    p = _write(tmp_path, GOOD.replace("ttft_p95_s: 1", "ttft_p95_s: -1"))
    with pytest.raises(scenario.ScenarioError, match=r"slo\.ttft_p95_s"):
        scenario.load(p)

    p = _write(tmp_path, GOOD + "constraints:\n  privacy: true\n  allow_self_hosted: false\n")
    with pytest.raises(scenario.ScenarioError, match="contradictory"):
        scenario.load(p)

    p = _write(tmp_path, GOOD + "notebook_parameters:\n  '*':\n    gpu: h1000\n")
    with pytest.raises(scenario.ScenarioError, match=r"notebook_parameters\.\*.*gpu"):
        scenario.load(p)

    with pytest.raises(scenario.ScenarioError, match="not found"):
        scenario.load(tmp_path / "missing.yaml")


def test_scenario_report_parameters_merge(tmp_path):
    p = _write(tmp_path, GOOD + "notebook_parameters:\n  '*':\n    model: llama-3.1-70b\n"
                                "  02_x:\n    gpu: h100-sxm\n")
    s = scenario.load(p)
    params = s.report_parameters()
    assert params["*"]["model"] == "llama-3.1-70b"  # the file overrides the workload
    assert params["*"]["requests_per_day"] == 100
    assert params["02_x"] == {"gpu": "h100-sxm"}


# ----------------------------------------------------------------------------------------
# rank
# ----------------------------------------------------------------------------------------

W70 = Workload("llama-3.1-70b", 2000, 500, 200)
# Known-answer tests of hardware and price arithmetic leave staff time out explicitly.
NO_STAFF = dict(operations_usd_per_year=0.0, cloud_operations_usd_per_year=0.0)
SLO1 = SLO(ttft_s=1.0, tpot_s=0.1)
LIMITS = {"memory capacity", "bandwidth", "compute", "interconnect", "queueing", "provider",
          "precision", "parallelism", "context window"}


@pytest.fixture(scope="module")
def full_70b():
    """The full catalog for the article's scenario 2 (one rank call, shared)."""
    return recommend.rank(W70, Constraints(slo=SLO1))


def test_70b_bf16_never_ranks_on_a_single_24gb_card(full_70b):
    gpus = catalog.gpus().set_index("id")
    t = full_70b
    mem = t["gpu_id"].map(gpus["memory_gb"])
    # (the T4 has no BF16 math at all: that row fails on precision before memory)
    has_math = pd.Series([isinstance(g, str) and catalog.gpu(g).tensor_tflops(p) is not None
                          for g, p in zip(t["gpu_id"], t["precision"])], index=t.index)
    small = (mem <= 24) & (t["n_gpus"] == 1) & t["precision"].isin(["bf16", "fp16"]) & has_math
    assert small.any()  # the configurations are listed...
    assert not (small & t["feasible"]).any()  # ...but never ranked
    assert t.loc[small, "fails"].str.startswith("memory capacity").all()
    assert t.loc[small, "rank"].isna().all()
    # 141 GB of bf16 weights never rank on fewer GPUs than hold them
    ok = t[t["feasible"] & t["precision"].isin(["bf16", "fp16"]) & (t["kind"] != "api")]
    assert (ok["gpu_id"].map(gpus["memory_gb"]) * ok["n_gpus"] > 141).all()


def test_rank_table_invariants(full_70b):
    t = full_70b
    assert list(t.columns) == list(recommend.COLUMNS)
    ok = t[t["feasible"]]
    assert list(ok["rank"]) == list(range(1, len(ok) + 1))
    assert ok["total_usd"].is_monotonic_increasing
    assert (ok["fails"] == "").all() and (t.loc[~t["feasible"], "fails"] != "").all()
    assert set(t["limit"]) <= LIMITS
    assert set(t["kind"]) == {"cloud", "self-hosted", "api", "hardware"}
    # cost per million tokens is total cost over tokens served over the horizon
    tokens = 2000 * 700 * 365
    assert np.allclose(ok["usd_per_million_tokens"], ok["total_usd"] / tokens * 1e6)
    # Pareto rows: cheaper than every faster row, faster than every cheaper row
    timed = ok[ok["e2e_s"].notna()]
    for _, r in timed[timed["pareto"]].iterrows():
        cheaper = timed[timed["total_usd"] < r["total_usd"]]
        assert (cheaper["e2e_s"] > r["e2e_s"]).all()
    for _, r in timed[~timed["pareto"]].iterrows():
        dominating = timed[(timed["total_usd"] <= r["total_usd"]) & (timed["e2e_s"] <= r["e2e_s"])
                           & (timed.index != r.name)]
        assert len(dominating)
    # every ranked option below #1 says why the top one beats it
    assert ok["why"].iloc[0].startswith("cheapest option")
    assert ok["why"].iloc[1:].str.contains(r"more than #1|times as much as #1").all()
    ratio = ok["total_usd"] / ok["total_usd"].iloc[0]
    assert ok.loc[ratio >= 2, "why"].str.contains("times as much as #1").all()
    # the leading hardware options are checked by simulation
    hw = ok[ok["kind"] != "api"]
    assert (hw["latency_source"].iloc[:3] == "simulated").all()
    assert (hw["ttft_s"] <= 1.0).all() and (hw["tpot_s"] <= 0.1).all()


def test_privacy_removes_api_and_cloud_rows():
    c = Constraints(slo=SLO1, privacy=True, gpus=("h100-sxm", "a100-80gb-sxm", "rtx-4090"))
    t = recommend.rank(W70, c)
    ok = t[t["feasible"]]
    assert len(ok) and set(ok["kind"]) == {"self-hosted"}
    others = t[t["kind"].isin(["cloud", "api"])]
    assert len(others) and others["fails"].str.contains("privacy").all()


def test_cloud_prices_whole_instances_known_answers():
    # 70B fp8 on 2 H100s; no autoscaling, 99% availability: one replica all year.
    c = Constraints(slo=SLO1, gpus=("h100-sxm",), precisions=("fp8",), allow_self_hosted=False,
                    allow_api=False, cloud_autoscale=False, providers=("runpod", "coreweave"),
                    **NO_STAFF)
    t = recommend.rank(W70, c).set_index("option")
    hours = 365 * 24
    # per-GPU offer: 2 GPUs x 2.69 USD/h
    assert t.loc["2x h100-sxm fp8 @ runpod-community-h100-sxm-1x", "total_usd"] == pytest.approx(
        2 * 2.69 * hours)
    # the 8-GPU CoreWeave instance is paid in full (49.24 USD/h) although 2 GPUs are used
    row = t.loc["2x h100-sxm fp8 @ coreweave-standard-h100-sxm-8x"]
    assert row["total_usd"] == pytest.approx(49.24 * hours)
    assert row["gpus_total"] == 8
    assert "2 of 8 GPUs used" in row["notes"]
    assert "GPU-hours" in row["why"]
    # and 8 GPUs per replica fit that instance once
    assert t.loc["8x h100-sxm fp8 @ coreweave-standard-h100-sxm-8x", "total_usd"] == pytest.approx(
        49.24 * hours)
    # 70B fp8 weights (70.6 GB) fit one 80 GiB (85.9e9 bytes) H100: a 1-GPU replica is an option
    assert t.loc["1x h100-sxm fp8 @ runpod-community-h100-sxm-1x", "total_usd"] > 0


def test_reserved_commitment_and_horizon_scaling():
    base = dict(slo=SLO1, gpus=("h100-sxm",), precisions=("fp8",), n_gpus_options=(2,),
                allow_self_hosted=False, allow_api=False, providers=("digitalocean", "runpod"),
                **NO_STAFF)
    t6 = recommend.rank(W70, Constraints(horizon_months=6, **base)).set_index("offer_id")
    t12 = recommend.rank(W70, Constraints(horizon_months=12, **base)).set_index("offer_id")
    od = "runpod-community-h100-sxm-1x"
    assert t12.loc[od, "total_usd"] == pytest.approx(2 * t6.loc[od, "total_usd"])
    # a 12-month reservation costs the same over 6 months as over 12
    rv = "digitalocean-gpu-droplet-h100-sxm-1x-reserved-12m"
    assert t6.loc[rv, "total_usd"] == pytest.approx(t12.loc[rv, "total_usd"])
    assert t6.loc[rv, "total_usd"] == pytest.approx(2 * 3.26 * 12 * 730)
    assert "commitment" in t6.loc[rv, "notes"]


def test_availability_adds_spares():
    base = dict(slo=SLO1, gpus=("h100-sxm",), precisions=("fp8",), n_gpus_options=(2,),
                allow_api=False, providers=("runpod", "coreweave"), cloud_autoscale=False,
                **NO_STAFF)
    lo = recommend.rank(W70, Constraints(availability=0.99, **base)).set_index("offer_id")
    hi = recommend.rank(W70, Constraints(availability=0.999, **base)).set_index("offer_id")
    own = "h100-sxm-new"
    assert (lo.loc[own, "replicas"], hi.loc[own, "replicas"]) == (1, 2)
    # H100 SXM comes on 4-GPU boards: the spare 2-GPU replica uses the board's idle GPUs
    assert (lo.loc[own, "gpus_total"], hi.loc[own, "gpus_total"]) == (4, 4)
    assert (lo.loc[own, "spare_gpus"], hi.loc[own, "spare_gpus"]) == (2, 0)
    od = "runpod-community-h100-sxm-1x"
    assert hi.loc[od, "total_usd"] == pytest.approx(2 * lo.loc[od, "total_usd"])
    # spot replicas are assumed less available: more spares for the same target
    spot = "coreweave-standard-h100-sxm-8x-spot"
    assert lo.loc[spot, "spares"] > lo.loc[od, "spares"]


def test_self_hosted_cost_per_gpu_hour_brackets():
    c = Constraints(slo=SLO1, gpus=("h100-sxm",), precisions=("fp8",), n_gpus_options=(2,),
                    allow_cloud=False, allow_api=False, **NO_STAFF)
    row = recommend.rank(W70, c).iloc[0]
    # the one cost-of-ownership model, on the GPUs bought (a 4-GPU HGX board), in colocation
    own = economics.ownership_cost("h100-sxm", int(row["replicas"]), 2, utilization=row["utilization"],
                                   energy=recommend.DATACENTER_ENERGY_ID, operations_usd_per_year=0)
    assert row["n_gpus_bought"] == own.plan.n_gpus_bought == 4
    assert row["usd_per_gpu_hour"] == pytest.approx(own.usd_per_gpu_hour)
    assert row["total_usd"] == pytest.approx(row["usd_per_gpu_hour"] * 4 * 8760)
    assert row["capex_usd"] == pytest.approx(4 * (30_000 + 9_000) + 5_000)
    parts = ["capital_usd_per_year", "power_usd_per_year", "colocation_usd_per_year",
             "maintenance_usd_per_year", "staff_usd_per_year"]
    assert row[parts].sum() == pytest.approx(row["total_usd"])
    assert row["running_usd_per_year"] == pytest.approx(row["total_usd"] - row["capital_usd_per_year"])
    # operations cost is added per deployment
    c2 = Constraints(slo=SLO1, gpus=("h100-sxm",), precisions=("fp8",), n_gpus_options=(2,),
                     allow_cloud=False, allow_api=False, operations_usd_per_year=10_000)
    row2 = recommend.rank(W70, c2).iloc[0]
    assert row2["total_usd"] - row["total_usd"] == pytest.approx(10_000, rel=1e-6)


def test_budget_below_cheapest_is_a_contradiction():
    with pytest.raises(recommend.NoFeasibleOption) as exc:
        recommend.rank(W70, Constraints(slo=SLO1, budget_usd=10, allow_cloud=False, allow_api=False))
    msg = str(exc.value)
    assert "budget_usd=10" in msg and "up-front spend" in msg and "raise the budget" in msg
    assert isinstance(exc.value, ValueError)
    assert not exc.value.table["feasible"].any()


def test_slo_nothing_meets_names_binding_constraint_and_relaxation():
    c = Constraints(slo=SLO(tpot_s=0.001), allow_api=True)
    with pytest.raises(recommend.NoFeasibleOption) as exc:
        recommend.rank(W70, c)
    msg = str(exc.value)
    assert "tpot_s p95 <= 0.001 s" in msg and "relax tpot_p95 to >=" in msg
    floor = float(msg.split("relax tpot_p95 to >= ")[1].split(" s")[0])
    # the floor is what the fastest configuration reaches at light load
    assert 0.001 < floor < 0.05
    t = recommend.rank(W70, c, strict=False)
    assert not t["feasible"].any()
    assert t.loc[t["kind"] == "api", "fails"].str.startswith("slo").all()


def test_memory_bound_model_message():
    c = Constraints(slo=SLO1, n_gpus_options=(1,), gpus=("rtx-4090", "l40s"),
                    precisions=("bf16",), allow_api=False)
    with pytest.raises(recommend.NoFeasibleOption, match="no GPU configuration holds"):
        recommend.rank(W70, c)


def test_unknown_ids_name_closest():
    with pytest.raises(catalog.CatalogError, match="closest"):
        recommend.rank(Workload("llama-3.1-7b", 100), Constraints(slo=SLO1))
    with pytest.raises(ValueError, match="unknown engine 'vlm'.*vllm"):
        recommend.rank(W70, Constraints(slo=SLO1, engines=("vlm",)))


def test_data_residency_filters_by_region():
    c = Constraints(slo=SLO1, gpus=("h100-sxm",), precisions=("fp8",),
                    data_residency="us:us-east-1", allow_self_hosted=True)
    assert c.data_residency == "US:us-east-1"
    t = recommend.rank(W70, c)
    ok = t[t["feasible"]]
    assert set(ok.loc[ok["kind"] == "cloud", "provider"]) <= {"aws"}
    assert "self-hosted" in set(ok["kind"])
    assert t.loc[t["kind"] == "api", "fails"].str.contains("data_residency").all()


def test_simulation_switch_and_engines():
    c = Constraints(slo=SLO1, gpus=("h100-sxm",), precisions=("fp8",), engines=("vllm", "sglang"),
                    allow_api=False)
    t = recommend.rank(W70, c, simulate=False)
    assert set(t.loc[t["feasible"], "latency_source"]) == {"analytic"}
    assert set(t["engine"]) == {"vllm", "sglang"}


@settings(max_examples=12, deadline=None)
@given(rpd=st.floats(100, 2e6))
def test_more_traffic_never_costs_less(rpd):
    c = Constraints(slo=SLO(ttft_s=2.0, tpot_s=0.1), gpus=("h100-sxm",), precisions=("fp8",),
                    allow_api=False, providers=("runpod",), cloud_autoscale=False)
    lo = recommend.rank(Workload("llama-3.1-8b", rpd, 500, 200), c, simulate=False)
    hi = recommend.rank(Workload("llama-3.1-8b", rpd * 3, 500, 200), c, simulate=False)
    for kind in ("cloud", "self-hosted"):
        a = lo[lo["feasible"] & (lo["kind"] == kind)]["total_usd"].min()
        b = hi[hi["feasible"] & (hi["kind"] == kind)]["total_usd"].min()
        assert b >= a * (1 - 1e-9)


def test_substitute_api_model_is_marked():
    # No API serves Llama 2 70B; Llama 3.x 70B (70.55B, within 15% of 68.98B) substitutes.
    t = recommend.rank(Workload("llama-2-70b", 500, 500, 150), Constraints(slo=SLO1),
                       simulate=False)
    api = t[t["kind"] == "api"]
    assert len(api) >= 2
    assert api["notes"].str.contains(r"serves (?:llama-3\.[13]-70b|qwen2\.5-72b), a model of the "
                                     r"same size class, not llama-2-70b").all()
    without = recommend.rank(Workload("llama-2-70b", 500, 500, 150),
                             Constraints(slo=SLO1, include_substitute_models=False),
                             simulate=False)
    assert not (without["kind"] == "api").any()


def test_compare_article_with_computed(full_70b):
    flow = flowchart(2000, "llama-3.1-70b", latency_sla_s=1.0, availability=0.99)
    cmp = recommend.compare(flow, full_70b)
    assert list(cmp["question"]) == ["deployment", "gpu"]
    assert cmp.loc[1, "article"] == "H100"
    # the computed optimum is not an H100 replica for 2,000 requests a day
    assert not cmp.loc[1, "agree"]
    assert "best option on h100" in cmp.loc[1, "note"]


# ----------------------------------------------------------------------------------------
# Operations staff, cases, readable views and the deployment patterns
# ----------------------------------------------------------------------------------------
def test_operations_usd_per_year_known_answers():
    # a tenth of a U.S. median administrator (96,800 USD wage, 70% of compensation)
    assert recommend.operations_usd_per_year(0.1) == pytest.approx(0.1 * 96_800 / 0.70)
    assert recommend.operations_usd_per_year(0) == 0.0
    assert recommend.operations_usd_per_year(0.5, wage_usd_per_year=60_000,
                                             wage_share=1.0) == pytest.approx(30_000)
    arr = recommend.operations_usd_per_year(np.array([0.0, 0.1, 0.2]))
    assert np.allclose(arr, [0.0, 13_828.57, 27_657.14], atol=0.01)
    with pytest.raises(ValueError, match="staff_fraction"):
        recommend.operations_usd_per_year(-0.1)
    with pytest.raises(ValueError, match="wage_share"):
        recommend.operations_usd_per_year(0.1, wage_share=0)


def test_cloud_operations_cost_added_per_deployment_over_the_horizon():
    base = dict(slo=SLO1, gpus=("h100-sxm",), precisions=("fp8",), n_gpus_options=(2,),
                providers=("runpod", "deepinfra"), horizon_months=24, operations_usd_per_year=0.0)
    t0 = recommend.rank(W70, Constraints(cloud_operations_usd_per_year=0.0, **base),
                        simulate=False).set_index("option")
    t1 = recommend.rank(W70, Constraints(cloud_operations_usd_per_year=6_000, **base),
                        simulate=False).set_index("option")
    diff = t1["total_usd"] - t0.loc[t1.index, "total_usd"]
    kinds = t1["kind"]
    # 6,000 USD a year for two years on every cloud row; nothing on self-hosted or API rows
    assert np.allclose(diff[kinds == "cloud"], 12_000)
    assert np.allclose(diff[kinds.isin(["self-hosted", "api"])], 0.0)
    assert (kinds == "cloud").any() and (kinds == "api").any()
    with pytest.raises(ValueError, match="cloud_operations_usd_per_year"):
        Constraints(cloud_operations_usd_per_year=-1)


def test_case_from_parameters():
    c = recommend.case("Llama 3.1 70B", 2000, 500, 200, ttft_s=1.0, tpot_s=0.1,
                       availability=0.999, horizon_months=36, budget_usd=0,
                       daily_profile="business-hours", operations_usd_per_year=5_000)
    assert c.workload.model == "llama-3.1-70b" and c.workload.requests_per_day == 2000
    assert c.constraints.budget_usd is None and c.constraints.operations_usd_per_year == 5_000
    assert c.workload.peak_requests_per_s > c.workload.mean_requests_per_s
    assert c.source == "parameters"
    # the flowchart reads the TTFT target as the article's latency SLA
    flow = c.flowchart()
    assert flow.gpu == "H100"
    assert next(s for s in flow.path if s.rule == "latency-relaxed").fired
    assert flow.deployment == flowchart(2000, "llama-3.1-70b", latency_sla_s=1.0,
                                        availability=0.999, horizon_months=36).deployment
    with pytest.raises(ValueError, match="daily_profile"):
        recommend.case("llama-3.1-8b", 100, daily_profile="weekends")
    with pytest.raises(ValueError, match="traffic_pattern"):
        recommend.case("llama-3.1-8b", 100, traffic_pattern="spiky")


def test_case_from_scenario_keeps_its_constraints():
    c = recommend.case("llama-3.1-8b", 10, availability=0.9, scenario="privacy-enterprise-rag",
                       operations_usd_per_year=7_000, max_utilization=0.5)
    assert c.source == "scenario privacy-enterprise-rag"
    assert c.workload.model == "qwen2.5-72b" and c.workload.requests_per_day == 8000
    assert c.constraints.privacy and c.constraints.availability == pytest.approx(0.999)
    # fields the scenario leaves at their defaults take the given values
    assert c.constraints.operations_usd_per_year == 7_000
    assert c.constraints.max_utilization == 0.5
    assert c.flowchart().deployment == "self-hosted"
    assert recommend.case("llama-3.1-8b", 10, scenario="none").source == "parameters"


@pytest.fixture(scope="module")
def small_8b():
    c = Constraints(slo=SLO1, gpus=("rtx-4090", "l40s"), n_gpus_options=(1, 2),
                    providers=("runpod", "deepinfra", "together"), **NO_STAFF)
    return recommend.rank(Workload("llama-3.1-8b", 5000, 500, 200), c, simulate=False)


def test_distinct_keeps_the_better_of_bf16_fp16_twins(small_8b):
    ok = small_8b[small_8b["feasible"]]
    d = recommend.distinct(ok)
    assert 0 < len(d) < len(ok)
    key = ["kind", "offer_id", "gpu_id", "n_gpus", "total_usd", "ttft_s", "tpot_s"]
    assert not d[key].astype(str).duplicated().any()
    # only 16-bit twins go: every dropped row has a kept row with the same numbers
    dropped = ok.loc[~ok.index.isin(d.index)]
    assert set(dropped["precision"]) <= {"bf16", "fp16"}
    assert list(d["rank"]) == sorted(d["rank"])


def test_best_by_kind_and_summary(small_8b):
    best = recommend.best_by_kind(small_8b)
    assert sorted(best["kind"]) == ["api", "cloud", "self-hosted"]
    ok = small_8b[small_8b["feasible"]]
    for _, r in best.iterrows():
        assert r["total_usd"] == ok.loc[ok["kind"] == r["kind"], "total_usd"].min()
    s = recommend.summary(ok, 40, why=True)
    assert len(s) == min(40, len(ok)) and "why" in s and "ttft_p95_s" in s
    assert not s.isna().any().any()
    api = s[s["kind"] == "api"]
    assert len(api) and (api["ttft_p95_s"] == "not modelled").all() and (api["gpus_total"] == "-").all()
    assert (api["utilization"] == "-").all()
    gpu = s[s["kind"] != "api"]
    assert gpu["utilization"].map(lambda u: isinstance(u, float) and 0 < u <= 1).all()


def test_pareto_front_hand_built():
    t = pd.DataFrame({
        "option": list("abcdef"),
        "feasible": [True, True, True, True, True, False],
        "total_usd": [100.0, 200.0, 200.0, 300.0, 50.0, 10.0],
        "ttft_s": [1.0, 0.5, 0.8, 0.6, None, 0.1],
    })
    front = recommend.pareto_front(t, "ttft_s")
    # a (cheapest timed), b (faster for more); c, d dominated by b; e untimed; f infeasible
    assert list(front) == [True, True, False, False, False, False]
    with pytest.raises(ValueError, match="latency"):
        recommend.pareto_front(t, "speed")


def test_pareto_front_of_a_ranking_is_undominated(small_8b):
    for lat in ("ttft_s", "tpot_s"):
        front = recommend.pareto_front(small_8b, lat)
        ok = small_8b[small_8b["feasible"] & small_8b[lat].notna()]
        assert front.any() and not front[~small_8b["feasible"]].any()
        for idx in front[front].index:
            r = ok.loc[idx]
            better = ok[(ok["total_usd"] <= r["total_usd"]) & (ok[lat] < r[lat] - 1e-12)]
            assert better.empty
        # the cheapest timed option is on the frontier
        assert front[ok.sort_values(["total_usd", lat]).index[0]]


def test_failures_by_constraint_hand_built():
    t = pd.DataFrame({
        "option": ["a", "b", "c", "d", "e"],
        "kind": ["cloud", "api", "self-hosted", "hardware", "cloud"],
        "feasible": [False, False, False, False, True],
        "fails": ["privacy: the data would leave your infrastructure",
                  "privacy: prompts would be sent; budget: 9 USD > 1 USD",
                  "price: no 'new' price for x; available: used",
                  "memory capacity: needs 140 GB", ""],
    })
    f = recommend.failures_by_constraint(t).set_index("constraint")
    assert f.loc["privacy", "options"] == 2 and f.loc["privacy", "only_this"] == 1
    assert f.loc["budget", "options"] == 1 and f.loc["budget", "only_this"] == 0
    # "available: used" is part of the price message, not a constraint of its own
    assert "available" not in f.index
    assert f.loc["price", "reason"] == "no 'new' price for x; available: used"
    assert f.loc["privacy", "kinds"] == "api, cloud"
    assert f["options"].is_monotonic_decreasing
    assert recommend.failures_by_constraint(t[t["feasible"]]).empty


def test_privacy_failures_cover_every_cloud_and_api_row():
    c = Constraints(slo=SLO1, gpus=("rtx-4090", "l40s"), n_gpus_options=(1, 2),
                    providers=("runpod", "deepinfra"), privacy=True)
    t = recommend.rank(Workload("llama-3.1-8b", 5000, 500, 200), c, simulate=False)
    f = recommend.failures_by_constraint(t).set_index("constraint")
    assert f.loc["privacy", "options"] == int(t["kind"].isin(["cloud", "api"]).sum())
    assert set(t.loc[t["feasible"], "kind"]) == {"self-hosted"}


def test_deployment_patterns_quote_the_article():
    from hwcost import seed

    text = seed.article_text()
    if text is None:
        pytest.skip("source article not available")
    flat = " ".join(text.split())
    for pat in recommend.DEPLOYMENT_PATTERNS:
        assert " ".join(pat.quote.split()) in flat, pat.id
        recommend.case(**pat.workload, **pat.constraints)  # every preset is a valid case


def test_patterns_verdicts():
    fast = dict(gpus=("rtx-4090",), n_gpus_options=(1,), precisions=("fp8",),
                allow_api=False)
    w = dict(model="llama-3.1-8b", requests_per_day=1000, input_tokens=500, output_tokens=200)
    own = recommend.Pattern("own", "own", "q", "self-hosted: RTX 4090", w,
                            dict(ttft_s=5.0, tpot_s=0.2, **fast), "self-hosted", None, ("rtx-4090",))
    rent = recommend.Pattern("rent", "rent", "q", "cloud: RunPod", w,
                             dict(ttft_s=5.0, tpot_s=0.2, **fast), "cloud", ("runpod",))
    nobody = recommend.Pattern("x", "x", "q", "cloud: nowhere", w,
                               dict(ttft_s=5.0, tpot_s=0.2, **fast), "cloud", ("nonexistent",))
    t = recommend.patterns((own, rent, nobody), operations_usd_per_year=0.0,
                           cloud_operations_usd_per_year=0.0)
    assert list(t.columns) == list(recommend.PATTERN_COLUMNS)
    # with no staff cost an owned 4090 undercuts renting one all year
    assert t.loc[0, "verdict"] == "agrees" and t.loc[0, "advised_rank"] == 1
    assert t.loc[0, "advised_cost_ratio"] == pytest.approx(1.0)
    assert t.loc[1, "verdict"] in ("close", "disagrees") and t.loc[1, "advised_rank"] > 1
    assert t.loc[1, "advised_cost_ratio"] > 1
    assert t.loc[2, "verdict"] == "no option follows the advice"
    assert pd.isna(t.loc[2, "advised_option"])
    # a large staff cost for owned hardware turns the first verdict
    t2 = recommend.patterns((own,), operations_usd_per_year=50_000.0,
                            cloud_operations_usd_per_year=0.0)
    assert t2.loc[0, "verdict"] == "disagrees" and t2.loc[0, "top_kind"] == "cloud"


def test_staff_sensitivity_is_linear_and_crosses_where_costs_meet(small_8b):
    years = small_8b.attrs["constraints"].horizon_months / 12
    sens = recommend.staff_sensitivity(small_8b, [0.0, 0.1, 0.2])
    best = recommend.best_by_kind(small_8b).set_index("kind")["total_usd"]
    # ranked with no staff cost: the 0 share reproduces the table
    assert sens.self_hosted_without_staff_usd == pytest.approx(best["self-hosted"])
    own = sens.lines[sens.lines["kind"] == "self-hosted"]["total_usd"].to_numpy()
    step = recommend.operations_usd_per_year(0.1) * years
    assert np.allclose(np.diff(own), step)
    for k in ("api", "cloud"):
        other = sens.lines[sens.lines["kind"] == k]["total_usd"]
        assert np.allclose(other, best[k])
        f = sens.crossover[k]
        at = sens.self_hosted_without_staff_usd + recommend.operations_usd_per_year(max(f, 0)) * years
        if f > 0:
            assert at == pytest.approx(best[k])
    # a ranking made with staff cost gives the same hardware-only figure
    c = replace(small_8b.attrs["constraints"], operations_usd_per_year=20_000.0)
    t2 = recommend.rank(Workload("llama-3.1-8b", 5000, 500, 200), c, simulate=False)
    s2 = recommend.staff_sensitivity(t2)
    assert s2.self_hosted_without_staff_usd == pytest.approx(sens.self_hosted_without_staff_usd)
    assert s2.crossover["cloud"] == pytest.approx(sens.crossover["cloud"])
    with pytest.raises(ValueError, match="self-hosted"):
        recommend.staff_sensitivity(small_8b[small_8b["kind"] != "self-hosted"])


def test_staff_time_is_priced_by_default():
    c = Constraints(slo=SLO1)
    # owned: 5 % of one administrator plus 5 % per box (10 % for one box); rented: 5 %
    assert c.operations_usd_per_year is None
    assert c.staff_usd_per_year(1) == pytest.approx(0.1 * 96_800 / 0.70)
    assert c.staff_usd_per_year(12) == pytest.approx(0.65 * 96_800 / 0.70)
    assert c.cloud_operations_usd_per_year == pytest.approx(0.05 * 96_800 / 0.70)
    assert Constraints(slo=SLO1, operations_usd_per_year=0).operations_usd_per_year == 0


def test_frontier_reason_does_not_claim_speed_over_apis():
    c = Constraints(slo=SLO1, gpus=("h100-sxm", "rtx-4090"), providers=("runpod", "deepinfra"))
    t = recommend.rank(W70, c, simulate=False)
    ok = t[t["feasible"]].reset_index(drop=True)
    assert ok.loc[0, "kind"] == "api"  # at 2,000 requests a day an API is cheapest
    frontier = ok[ok["pareto"] & (ok["kind"] != "api")]
    assert len(frontier)
    assert frontier["why"].str.contains("hosted APIs are not compared on latency").all()


def test_rank_follows_a_changed_gpu_table(tmp_path, monkeypatch):
    # No cache may outlive a change of the user's tables: halve every GPU's memory bandwidth in
    # a user table and the batch-1 decode step of the same option must roughly double.
    from hwcost import catalog

    w = Workload("llama-3.1-8b", 1000, 500, 200)
    c = recommend.Constraints(slo=SLO(), gpus=("h100-sxm",), allow_api=False, allow_cloud=False,
                              n_gpus_options=(1,), precisions=("bf16",))
    before = recommend._step_times("llama-3.1-8b", "h100-sxm", 1, "bf16", None).decode_step_seconds(1, 700)
    table = catalog.gpus().drop(columns=["origin"])
    table["mem_bw_gbps"] = table["mem_bw_gbps"] / 2
    path = tmp_path / "gpus.csv"
    table.to_csv(path, index=False)
    monkeypatch.setenv("HWCOST_GPUS_CSV", str(path))
    after = recommend._step_times("llama-3.1-8b", "h100-sxm", 1, "bf16", None).decode_step_seconds(1, 700)
    assert 1.6 < after / before < 2.05
    ranked = recommend.rank(w, c, simulate=False)
    assert (ranked["gpu_id"] == "h100-sxm").any()
# ----------------------------------------------------------------------------------------
# Costs a team can buy: purchase units, capex and running cost, staff per box, segments
# ----------------------------------------------------------------------------------------
BOARD = {"h100-sxm": 4, "h200-sxm": 4, "b200": 8, "mi300x": 8, "gb200": 72}
W70_200K = Workload("llama-3.1-70b", 200_000, 500, 200)


@pytest.fixture(scope="module")
def rank_200k():
    c = Constraints(slo=SLO1, gpus=tuple(catalog.gpu_ids()), allow_api=False)
    return recommend.rank(W70_200K, c, simulate=False, strict=False)


def test_owned_board_parts_come_in_whole_boards(rank_200k):
    own = rank_200k[(rank_200k["kind"] == "self-hosted") & rank_200k["n_gpus_bought"].notna()]
    on_boards = own[own["gpu_id"].isin(list(BOARD))]
    assert len(on_boards) > 10
    for gpu_id, bought in zip(on_boards["gpu_id"], on_boards["n_gpus_bought"]):
        assert bought % BOARD[gpu_id] == 0, (gpu_id, bought)
    gb = own[own["gpu_id"] == "gb200"]
    assert len(gb) and (gb["n_gpus_bought"] >= 72).all()
    assert (own["n_gpus_bought"] == own["replicas"] * own["n_gpus"] + own["spare_gpus"]).all()


def test_first_owned_board_option_at_200k_requests_buys_a_board(rank_200k):
    ok = rank_200k[rank_200k["feasible"]]
    first = ok[(ok["kind"] == "self-hosted") & ok["gpu_id"].isin(list(BOARD))].iloc[0]
    assert first["n_gpus_bought"] >= 4
    board = economics.ownership_cost(first["gpu_id"], 1, BOARD[first["gpu_id"]],
                                     utilization=first["utilization"])
    assert first["total_usd"] >= board.total_usd_per_year * 0.999
    # a single owned H200 is never priced as one GPU: its row buys the 4-GPU HGX board
    h200 = ok[(ok["kind"] == "self-hosted") & (ok["gpu_id"] == "h200-sxm") & (ok["n_gpus"] == 1)]
    assert (h200["n_gpus_bought"] == 4).all() and (h200["spare_gpus"] == 3).all()
    assert h200["bill_of_materials"].str.contains("4 x h200-sxm").all()


def test_every_row_splits_capex_and_running_cost(rank_200k):
    ok = rank_200k[rank_200k["feasible"]]
    own = ok[ok["kind"] == "self-hosted"]
    assert (own["capex_usd"] > 0).all() and (own["running_usd_per_year"] > 0).all()
    assert own["total_usd"].to_numpy() == pytest.approx(
        (own["capital_usd_per_year"] + own["running_usd_per_year"]).to_numpy())
    cloud = ok[ok["kind"] == "cloud"]
    assert (cloud["capex_usd"] == 0).all()
    assert cloud["running_usd_per_year"].to_numpy() == pytest.approx(cloud["total_usd"].to_numpy())
    assert set(ok["segment"]) <= {"datacenter", "workstation", "consumer", "cloud"}
    consumer = ok[ok["segment"] == "consumer"]
    assert len(consumer) and consumer["caveat"].str.contains("licence").all()
    assert (ok.loc[ok["segment"] == "datacenter", "caveat"] == "").all()


def test_budget_caps_the_money_spent_up_front():
    base = dict(slo=SLO1, gpus=("h100-sxm", "rtx-4090"), precisions=("fp8",), providers=("runpod",))
    free = recommend.rank(W70, Constraints(**base), simulate=False)
    own = free[free["feasible"] & (free["kind"] == "self-hosted")]
    cap = float(own["capex_usd"].min()) + 1
    t = recommend.rank(W70, Constraints(budget_usd=cap, **base), simulate=False)
    ok = t[t["feasible"]]
    assert (ok["capex_usd"] <= cap).all()
    assert (ok["kind"] == "cloud").any()  # renting spends nothing up front
    over = t[t["fails"].str.startswith("budget")]
    assert len(over) and over["fails"].str.contains("USD up front").all()


def test_segment_filter_keeps_only_those_segments():
    c = Constraints(slo=SLO1, segments=("consumer", "workstation"))
    t = recommend.rank(W70, c, simulate=False, strict=False)
    priced = t[t["kind"] != "hardware"]
    assert set(priced["segment"]) <= {"consumer", "workstation"}
    assert set(priced["kind"]) == {"self-hosted"}
    with pytest.raises(ValueError, match="segments must be one of datacenter, workstation, consumer, cloud, "
                                         "api, got 'gpu'"):
        Constraints(segments=("gpu",))


def test_staff_per_box_weighs_on_a_twelve_box_fleet_more_than_one_box():
    w = Workload("llama-3.1-70b", 2_500_000, 500, 200)
    base = dict(slo=SLO1, gpus=("rtx-4090",), precisions=("fp8",), n_gpus_options=(4,),
                allow_cloud=False, allow_api=False, availability=0.9)
    small = Workload("llama-3.1-70b", 2_000, 500, 200)

    def owned(workload, per_box):
        t = recommend.rank(workload, Constraints(staff_per_box_fraction=per_box, **base), simulate=False)
        return t[t["feasible"]].iloc[0]

    fleet, fleet_more = owned(w, 0.05), owned(w, 0.10)
    one, one_more = owned(small, 0.05), owned(small, 0.10)
    boxes = int(fleet["bill_of_materials"].split(" boxes")[0])
    assert boxes >= 10 and one["bill_of_materials"].startswith("1 box,")
    assert fleet_more["total_usd"] - fleet["total_usd"] == pytest.approx(
        boxes * (one_more["total_usd"] - one["total_usd"]))
    assert fleet_more["staff_usd_per_year"] > one_more["staff_usd_per_year"]


def test_owned_totals_carry_the_catalog_price_range(rank_200k):
    ok = rank_200k[rank_200k["feasible"]]
    own = ok[ok["kind"] == "self-hosted"]
    assert (own["total_usd_low"] < own["total_usd"]).all()
    assert (own["total_usd"] < own["total_usd_high"]).all()
    rented = ok[ok["kind"] != "self-hosted"]
    assert (rented["total_usd_low"] == rented["total_usd"]).all()
    assert (rented["total_usd_high"] == rented["total_usd"]).all()
