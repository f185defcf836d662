"""hwcost.recommend: the article's flowchart, constraints, scenarios and the ranked options."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hwcost import catalog, recommend, scenario
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
    with pytest.raises(ValueError, match="unknown precision"):
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
