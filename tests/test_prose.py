"""Generated sentences read right off the defaults (no "4 GPUs vs 4", no "1 risks")."""

import pytest

from hwcost import notebook as nb
from hwcost import recommend


def _row(kind, gpus, gpu_hours, usd_per_gpu_hour, replicas=1, notes=""):
    return {"kind": kind, "gpus_total": gpus, "usd_per_gpu_hour": usd_per_gpu_hour,
            "total_usd": gpu_hours * usd_per_gpu_hour, "replicas": replicas, "notes": notes,
            "utilization": 0.5, "usd_per_million_tokens": 1.0}


def test_cost_driver_never_compares_a_count_with_itself():
    # an always-on plan against an autoscaled one with the same GPUs at the peak hour
    a = _row("cloud", 4, 35_040, 2.0)
    b = _row("cloud", 4, 26_280, 2.0)
    text = recommend._cost_driver(a, b)
    assert text == "1.3x the GPU-hours (35,040 vs 26,280, 4 GPUs at the peak hour in both)"
    assert "4 GPUs vs 4" not in text
    c = _row("self-hosted", 8, 35_040, 1.0, replicas=2)
    d = _row("self-hosted", 4, 17_520, 1.0, replicas=1)
    assert recommend._cost_driver(c, d) == "2.0x the GPU-hours (8 GPUs vs 4, 2 replicas vs 1)"


@pytest.mark.parametrize("n, text", [(0, "0 options"), (1, "1 option"), (2, "2 options"),
                                     (1000, "1,000 options")])
def test_counts_agree_in_number(n, text):
    assert nb.count(n, "option") == text


@pytest.mark.parametrize("name", ["internal-batch-summarization", "startup-chat-app",
                                  "article-scenario-1"])
def test_memo_reads_right_for_other_cases(name):
    import datetime as dt
    import re

    from hwcost import memo, scenario

    m = memo.build(scenario.load(name).case, today=dt.date(2026, 12, 6), sensitivity=False)
    text = m.to_markdown()
    assert "(s)" not in text and not re.search(r"\bnan\b", text, re.I)
    assert not re.search(r"(?<![\w;])\$\d", text)
    kind = memo.KIND_LABELS[m.recommendation["kind"]]
    assert f"**{m.recommendation['option']}** ({kind})" in text
    # what would change the decision never names the recommendation itself as the alternative
    assert all(m.recommendation["option"] not in ln.split(" costs ")[0] for ln in m.changes
               if ln.startswith("The best"))
    if m.recommendation["kind"] == "api":
        assert m.recommendation["capex_usd"] == 0 and "Latency not modelled" in text
