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


# ---- notebooks 07 and 08: the sentences their cells build, on every branch --------------------
from hwcost import narrative  # noqa: E402


def test_span_and_times_never_repeat_a_value():
    assert nb.span(7.0901, 7.0899, lambda v: f"{v:.2f}B") == "7.09B"
    assert nb.span(1.2, 7.09, lambda v: f"{v:.2f}B") == "1.20B-7.09B"
    assert nb.times(1.0, "the cost of X") == "the same as the cost of X"
    assert nb.times(1.0004, "the cost of X") == "about the same as the cost of X"
    assert nb.times(2.5, "the cost of X") == "2.50 times the cost of X"
    assert "1 times" not in nb.times(0.9999, "y") and "1.00 times" not in nb.times(1.001, "y")


@pytest.mark.parametrize("x, text", [(0, "0%"), (8.5e-47, "less than 0.01%"), (0.0031, "0.31%"),
                                     (0.25, "25%")])
def test_share_has_no_runs_of_zeros(x, text):
    assert nb.share(x) == text


def test_scale_to_zero_equal_cost_is_not_a_comparison():
    # a request every 3 s inside a 300 s timeout: the instance never stops, same daily bill
    text = narrative.scale_to_zero(83.5, 83.5, 2.88, 300, 8.5e-47, 33)
    assert text == ("Scale-to-zero pays the same $83.50 a day as leaving the GPU on: a request arrives "
                    "every 3 s on average, inside the 300 s idle timeout, so the instance never stops. "
                    "Fewer than 1 request in 10,000 waits 33 s for a cold start.")
    assert "instead of" not in text
    # equal bills to the cent while a few requests still meet a cold start: "rarely", not "never"
    few = narrative.scale_to_zero(83.5, 83.498, 43.2, 300, 0.00084, 36)
    assert few == ("Scale-to-zero pays the same $83.50 a day as leaving the GPU on: a request arrives every 43 s "
                   "on average, inside the 300 s idle timeout, so the instance rarely stops. 0.084% of "
                   "requests wait 36 s for a cold start.")


def test_scale_to_zero_saving_branches():
    rarely = narrative.scale_to_zero(83.5, 80.0, 43.2, 300, 0.001, 33)
    assert rarely == ("Scale-to-zero pays $80.00 a day instead of $83.50, hardly less: a request arrives "
                      "every 43 s on average, inside the 300 s idle timeout, so the instance rarely stops; "
                      "0.10% of requests wait 33 s for a cold start.")
    idle = narrative.scale_to_zero(83.5, 5.0, 8640, 300, 0.9, 33)
    assert idle == "Scale-to-zero pays $5.00 a day instead of $83.50; 90% of requests wait 33 s for a cold start."


def test_api_of_another_model_is_named():
    assert narrative.api_model_note("API deepinfra-qwen3-32b", "qwen3-32b", "qwen2.5-32b") == (
        " (it sells qwen3-32b, not qwen2.5-32b: a model of the nearest size with an API offer)")
    assert narrative.api_model_note("API together-llama-3.1-70b", "llama-3.1-70b", "llama-3.1-70b") == ""
    assert narrative.api_model_note("RunPod H100, on demand, always on", None, "qwen2.5-32b") == ""


@pytest.mark.parametrize("low, high, reached, expected", [
    (0, 0, False, "do not hold for this model class: one owned replica beats none of these APIs at any "
                  "volume, so the API stays cheaper well above 1B tokens a month."),
    (5e7, 2e8, True, "are too pessimistic for this model class: self-hosting wins from 50M tokens a month, "
                     "below the 100M under which the article says an API is cheaper, and later against "
                     "the cheapest API."),
    (4e8, 4e8, True, "hold in direction: below 100M tokens the API wins, and self-hosting wins from 0.40B, "
                     "earlier than the article's 1B."),
    (7.09e9, 7.09e9, True, "hold in direction: below 100M tokens the API wins; but self-hosting wins only "
                           "above 7.09B, not from 1B."),
])
def test_article_thresholds_every_branch(low, high, reached, expected):
    assert narrative.article_thresholds(low, high, reached) == expected


def test_api_crossover_never_reached_does_not_claim_a_win():
    text = narrative.api_crossover(2, 3.65, 0.0, 0.0, False, 639e6, 0.9, None, (0.145, 0.365))
    assert text.startswith("Owning a replica never beats the 2 API offers for this model class")
    assert "wins below 100M" not in text and "at your volume" not in text
    assert "$0.145-$0.365" in text
    one = narrative.api_crossover(1, 3.65, 7.09e9, 7.09e9, True, 639e6, 0.285, 10.94, (0.2, 0.2))
    assert "from **7.09B tokens a month**" in one and "1 API offer for" in one
    assert "charge $0.200 for this mix" in one


def test_hybrid_split_and_volume():
    assert narrative.hybrid_split(0, 5) == "owns none and rents every replica by the hour"
    assert narrative.hybrid_split(5, 5) == "owns all **5** and rents nothing"
    assert narrative.hybrid_split(2, 5) == "owns **2** and rents the rest by the hour"
    assert narrative.hybrid_volume(1e6, 1e6, 5, 1) == ""
    text = narrative.hybrid_volume(1_000_000, 30_000, 1, 0)
    assert "`hybrid_requests_per_day` = 1,000,000, not your 30,000 requests a day" in text
    assert "nothing to split" in text
    assert "peak hour needs 3 replicas and the cheapest split owns **1**" in narrative.hybrid_volume(
        1_000_000, 300_000, 3, 1)


def test_owned_break_even_when_owning_is_dearer():
    assert narrative.owned_break_even(0.77) == ("An owned replica costs 77% of a rented one per hour, so it "
                                                "pays off when it is busy more than 18.5 hours a day")
    assert "never pays off" in narrative.owned_break_even(1.3)


def test_estimate_example_says_how_many_gpus_hold_the_model():
    from hwcost import notebook as nb
    from hwcost import perf

    one = perf.estimate_on_fewest_gpus("llama-3.1-8b", "h100-sxm", batch_size=1)
    text = nb.estimate_example("llama-3.1-8b", "H100 SXM", one, one, 1)
    assert text.startswith("Example, llama-3.1-8b on one H100 SXM: at batch 1 the estimate is ")
    big = perf.estimate_on_fewest_gpus("qwen2.5-72b", "h100-sxm", batch_size=1)
    big16 = perf.estimate_on_fewest_gpus("qwen2.5-72b", "h100-sxm", batch_size=16)
    text = nb.estimate_example("qwen2.5-72b", "H100 SXM", big, big16, 16)
    assert f"on {big.n_gpus} H100 SXM (the fewest that hold it)" in text and big.n_gpus == 2
    assert f"{big.output_tokens_per_s:,.0f} tokens/s" in text


def test_quiet_against_served_runs_a_large_model_on_the_fewest_gpus():
    from hwcost import serving

    t = serving.quiet_against_served("qwen2.5-72b", "a100-80gb-sxm", concurrencies=(1, 4))
    assert t.attrs["n_gpus"] == 2 and list(t.index) == [1, 4]
    none = serving.quiet_against_served("llama-3.1-405b", "rtx-4090", concurrencies=(1,))
    assert none.attrs["n_gpus"] is None and len(none) == 0


# --- 07_cost_scenarios ---------------------------------------------------------------------------

def test_usd_any_keeps_three_figures_below_a_cent():
    from hwcost import narrative

    assert narrative.usd_any(0.000123456) == "$0.000123"
    assert narrative.usd_any(0.00456) == "$0.00456"
    assert narrative.usd_any(0.0123) == "$0.0123"
    assert narrative.usd_any(2.5) == "$2.50"


def test_owning_cost_sentence():
    from hwcost import narrative

    assert narrative.owning_cost("h100-sxm", "one 8-GPU server", 250_000, 60_000, 20_000,
                                 0.0042) == (
        "Owning means buying what h100-sxm is sold as, one 8-GPU server: $250,000 up front, "
        "then $60,000 a year to run ($20,000 of it staff time), $0.00420 per request. ")


def test_scenario_arithmetic_summary_counts_the_failing_lines():
    from hwcost import narrative

    assert narrative.scenario_arithmetic_summary(9, 2) == (
        "- **The article's scenario arithmetic does not hold:** 7 of its 9 scenario lines "
        "disagree or rest on an implausible price. An always-on GPU costs its hourly price "
        "whatever it serves, so at low volume the cost per request is the daily rent divided by "
        "the requests.\n")


def test_api_or_own_summary_both_branches():
    from hwcost import narrative

    assert narrative.api_or_own_summary(1.2e9, 7.09e9, True) == (
        "- **API or own:** one owned replica, staff time included, beats this model class's "
        "APIs only from 1.20B-7.09B tokens a month.\n")
    assert narrative.api_or_own_summary(7.09e9, 7.09e9, True).endswith("from 7.09B tokens a month.\n")
    assert narrative.api_or_own_summary(0.0, 0.0, False) == (
        "- **API or own:** owning a replica never beats this model class's APIs.\n")
# --- 02_provider_pricing ---------------------------------------------------------------------


def test_token_cost_scope_names_the_gpu_types_left_out():
    from hwcost import narrative

    text = narrative.token_cost_scope("llama-3.1-70b", "int8", 32, 500, 200, 1.0, 0.1, 40, 50,
                                      [("rtx-4090", "needs 2 GPUs")], [("t4", 0.25)])
    assert text == ("**llama-3.1-70b** at int8, **batch 32** (500 prompt + 200 generated tokens "
                    "per sequence), priced at **100% utilization** (every paid hour busy at that "
                    "batch: the best case). 40 of 50 offers can hold it; not these GPU types: "
                    "rtx-4090 (needs 2 GPUs). Too slow for 100 ms per token at this batch, and "
                    "left out: t4 (250 ms).")
    text = narrative.token_cost_scope("llama-3.1-8b", "bf16", 1, 100, 50, 0.5, 0.05, 50, 50, [], [])
    assert text == ("**llama-3.1-8b** at bf16, **batch 1** (100 prompt + 50 generated tokens per "
                    "sequence), priced at **50% utilization**. 50 of 50 offers can hold it.")


_TOP = {"id": "x-h100", "provider": "xcloud", "n_gpus": 2.0, "gpu_id": "h100-sxm",
        "output_tokens_per_s": 1234.4, "usd_per_replica_hour": 4.5, "tpot_s": 0.025,
        "usd_per_million_output_tokens": 1.25, "usd_per_million_tokens": 0.375}


def test_cheapest_token_offer_with_and_without_an_offer_on_the_chosen_gpu():
    from hwcost import narrative

    head = ("The cheapest on-demand offer per token is **x-h100**: a replica of 2 x h100-sxm "
            "produces 1,234 tokens/s for $4.50/h (25 ms per token for each of its 32 sequences), "
            "**$1.25 per million generated tokens** ($0.375 per million if prompt tokens are "
            "counted too).")
    assert narrative.cheapest_token_offer(_TOP, 32, "l40s") == (
        head + " No on-demand l40s offer can hold this configuration.")
    l40s = {"id": "y-l40s", "usd_per_million_output_tokens": 2.5}
    assert narrative.cheapest_token_offer(_TOP, 32, "l40s", l40s) == (
        head + " On l40s the best is y-l40s at $2.50.")


def test_coreweave_h100_bundle_rounds_the_per_gpu_price():
    from hwcost import narrative

    bundle = {"usd_per_hour": 49.24, "usd_per_gpu_hour": 6.155, "usd_per_gpu_hour_cents": 6.16,
              "premium_fraction": 0.2, "single_offer_id": "z-h100", "single_usd_per_gpu_hour": 5.13}
    assert narrative.coreweave_h100_bundle(bundle) == (
        "CoreWeave's 8 x H100 node: $49.24 / 8 = **$6.155** per GPU-hour, which rounds half-up "
        "to **$6.16**: the article's $6.16 is the correct rounding (a binary float rounded "
        "naively can print $6.15). Per GPU it is 20% above the cheapest one-GPU H100 (z-h100, "
        "$5.13), and a single one-GPU replica on it pays $49.24/h.")


def test_spot_and_reserved_discounts():
    import pandas as pd

    from hwcost import narrative

    spot = pd.DataFrame({"discount_fraction": [0.6, 0.7, 0.8],
                         "effective_discount_fraction": [0.5, 0.6, 0.7]})
    reserved = pd.Series([0.3, 0.4])
    assert narrative.spot_and_reserved(spot, reserved, 0.1) == (
        "3 spot offers have an on-demand twin: discounts of 60% to 80% (median 70%); losing 10% "
        "of spot time to interruptions leaves a median 60%. Reserved offers save 30% to 40%.")
    assert narrative.spot_and_reserved(spot.iloc[:0], reserved.iloc[:0], 0.1) == (
        "No spot offer in the price table in use has an on-demand twin. ")


def test_provider_verdict_without_a_coreweave_offer():
    import pandas as pd

    from hwcost import narrative

    prov = pd.DataFrame({"provider": ["acme", "beta"], "gpu_usd_per_gpu_hour": [2.0, 3.0],
                         "gpu_rank": [1.0, 2.0], "price_index": [0.9, 1.1],
                         "n_gpu_types": [3, 5], "finest_billing_s": [1, 3600],
                         "single_gpu": [True, False]})
    lead = {"status": "wrong", "reason": "acme is cheaper"}
    text = narrative.provider_verdict(prov, "h100-sxm", "llama-3.1-70b", None, None,
                                      prov.iloc[0], prov.iloc[1], lead, _TOP)
    assert text == (
        "- **Cost per GPU-hour on h100-sxm:** cheapest on demand is **acme** ($2.00); CoreWeave "
        "ranks nowhere (it has no such offer). The lowest price index is **acme** (0.90 over 3 "
        "GPU type(s)); CoreWeave's is not computed (no CoreWeave offer in the table), and "
        "`hwcost.seed` rates the article's claim **wrong**: acme is cheaper.\n"
        "- **Cost per million tokens of llama-3.1-70b:** **xcloud** (x-h100, $1.25) on any GPU; "
        "no on-demand h100-sxm offer fits.\n"
        "- **Flexibility:** beta rents the most GPU types (5); per-second billing: acme; only "
        "8-GPU nodes: beta.\n"
        "- **Support:** not measurable from prices; ask for SLAs and response times.")


def test_price_history_note_for_a_class_without_prices_and_for_stale_classes():
    import pandas as pd

    from hwcost import narrative

    tail = ("A line falls when a cheaper offer enters the record or an offer is repriced; "
            "`hwcost prices import` says which. ")
    assert narrative.price_history_note(120, 7, "l40s", pd.DataFrame(), [], 180) == (
        "The history holds 120 prices; 7 cloud offers have been repriced at least once. No "
        "on-demand l40s price is recorded. " + tail
        + "Every GPU class has a price newer than 180 days.")
    own = pd.DataFrame({"usd_per_gpu_hour": [3.0, 2.25], "as_of": ["2025-01-01", "2026-06-01"],
                        "n_offers": [1, 4]})
    assert narrative.price_history_note(120, 7, "h100-sxm", own, ["v100", "t4"], 90) == (
        "The history holds 120 prices; 7 cloud offers have been repriced at least once. For "
        "h100-sxm the cheapest recorded on-demand GPU-hour went from $3.00 (2025-01-01, 1 "
        "offer(s) on record) to $2.25 (2026-06-01, 4 offers). " + tail
        + "**Stale:** the newest price of v100, t4 is older than 90 days; import a fresh "
        "snapshot before relying on them.")


def test_provider_pricing_meaning_without_coreweave_or_spot():
    from hwcost import narrative

    best_od = {"provider": "acme", "usd_per_gpu_hour": 2.0}
    text = narrative.provider_pricing_meaning("llama-3.1-70b", "int8", 32, 0.5, 0.1, "h100-sxm",
                                              _TOP, best_od, 3.25, None)
    assert text == (
        "For **llama-3.1-70b** at int8 and batch 32, the cheapest on-demand way to rent it is "
        "**x-h100** at $1.25 per million generated tokens at 50% utilization, each sequence "
        "getting a token every 25 ms (offers slower than 100 ms left out). For the h100-sxm "
        "class, acme has the lowest on-demand GPU-hour ($2.00), and offers for the same GPU "
        "differ 3.2-fold, so shopping around matters as much as the choice of GPU. The "
        "article's \"CoreWeave leads on cost\" does not hold for on-demand prices (price index "
        "n/a); its 8-GPU nodes suit workloads that fill eight GPUs. The per-token figures count "
        "50% of paid hours as busy at batch 32; each halving of that share doubles them. Check "
        "the price ages before you sign.")
    text = narrative.provider_pricing_meaning("llama-3.1-70b", "int8", 32, 0.5, 0.1, "h100-sxm",
                                              _TOP, best_od, 3.25, 1.234, 0.7)
    assert "(price index 1.23)" in text
    assert "eight GPUs. Spot saves up to 70% where interruptions are tolerable. The per" in text
# 08 selection flowchart


def test_top_option_cost_owned_and_rented():
    assert narrative.top_option_cost("self-hosted", "2x RTX 4090", 4000.0, 1234.4) == (
        "buys 2x RTX 4090: $4,000 up front, then $1,234 a year to run. ")
    assert narrative.top_option_cost("api", "pay per token", 0.0, 5120.0) == (
        "needs nothing up front (pay per token) and costs $5,120 a year. ")


def test_runner_up_bullets_one_line_per_option():
    assert narrative.runner_up_bullets([2, 3], ["A", "B"], ["dearer", "too slow"]) == (
        "- **#2** A: dearer\n- **#3** B: too slow")
    assert narrative.runner_up_bullets([], [], []) == ""


def test_owned_plan_with_and_without_an_owned_option():
    own = {"bill_of_materials": "1x L40S server", "capex_usd": 12000.0,
           "running_usd_per_year": 3000.0}
    assert narrative.owned_plan(own, 0.125) == (
        "Owned, the cheapest plan buys 1x L40S server: $12,000 up front and $3,000 a year to run. "
        "Owned hardware beats renting only while it takes less than 12.5% of an administrator's "
        "time. ")
    assert narrative.owned_plan(None, 0) == ""
    assert narrative.owned_plan(None, -0.1) == ""


def test_case_extras_lists_only_what_applies():
    assert narrative.case_extras(None, 0, 0.0, 0) == ""
    assert narrative.case_extras(8, 22, 0.5, 20000) == (
        ", processed within 8 h a day from 22:00, 50% of input tokens cached at APIs, "
        "up-front budget $20,000")


def test_article_comparison_marks_disagreement():
    assert narrative.article_comparison("GPU", "H100", "L40S", False, "cheaper per token") == (
        "- On the GPU, the article says *H100* and the computed optimum is *L40S*: they "
        "**disagree** (cheaper per token).")
    assert narrative.article_comparison("deployment", "API", "API", True, "") == (
        "- On the deployment, the article says *API* and the computed optimum is *API*: they "
        "agree.")
# ---- notebook 03: self-hosting economics --------------------------------------------------

def test_article_break_even_both_branches():
    head = ("With the article's own inputs the formula gives **5,000 GPU-hours = 6.8 months** of "
            "24/7 use (both rated wrong), not 8,000-10,000 h or 15+ months, and $10,000 does not "
            "buy an H100. At catalog prices one GPU of the server ($40,000 up front) used 24/7 "
            "against x-h100 at $2.49/h ")
    text = narrative.article_break_even(5000, 6.85, "wrong", 40000, "x-h100", 2.49, 30.0, 21900,
                                        36)
    assert text == head + ("breaks even after **30.0 months (21,900 GPU-hours)**, within its "
                           "36-month service life.")
    late = narrative.article_break_even(5000, 6.85, "wrong", 40000, "x-h100", 2.49, 40.0, 29200, 36)
    assert late.endswith("after the end of its 36-month service life.")
    never = narrative.article_break_even(5000, 6.85, "wrong", 40000, "x-h100", 2.49, None, None, 36)
    assert never == head + "**never breaks even**: renting costs less than running the owned GPU."


def test_self_hosting_conclusion_names_the_closest_option_and_the_staff_gap():
    text = narrative.self_hosting_conclusion(
        0.5, {"A": 1.2, "B": 4.0}, {"A": 0.8, "B": 2.0}, {"A": 0.9, "B": None}, 3.0, 200.0, 0.35,
        0.35)
    assert text == (
        "At catalog prices and 50% utilization, an owned GPU-hour of work costs $1.20 (A), "
        "$4.00 (B), against $0.800, $2.00 to rent the same class. The closest to the cloud price "
        "is the A at 1.50x. Utilization is the lever: paying back within the 3-year life needs "
        "90% (A), more than 100 % (B) utilization; and the article's cheap self-hosting figures "
        "rest on purchase prices far below today's street prices and on electricity counted per "
        "kWh as if per hour. Staffed as a business deployment rather than with $200 a year of "
        "upkeep, one owned card costs $0.350 more per busy hour, 1.0x the whole rent of an "
        "RTX 4090. Buy when the hardware will be busy for most of its 3-year life, when data "
        "must stay in-house, or when rental capacity is scarce; otherwise rent, and keep paid-off "
        "hardware until a new generation costs less than half per token.")
    covered = narrative.self_hosting_conclusion(
        0.5, {"A": 1.2}, {"A": 0.8}, {"A": 0.9}, 3.0, 2000.0, -0.1, 0.35)
    assert "Staffed as a business" not in covered and "1.50x" in covered


def test_refresh_verdict_every_branch():
    gain = ' The article\'s generation gain ("1.5-2x per 2 years") is rated *plausible*: why.'
    keep = narrative.refresh_verdict("m", "fp8", [], [], [("A -> B", 0.8, 2.0, 1.6),
                                                          ("C -> D", 0.9, 3.0, 2.7)],
                                     "plausible", "why")
    assert keep == ("**A -> B:** moving costs 0.80x keeping per token ($2.00 vs $1.60 per "
                    "million). **C -> D:** moving costs 0.90x keeping per token ($3.00 vs $2.70 "
                    "per million). By the article's 50 % rule: keep both. Paid-off hardware is "
                    "hard to beat: the new generation is faster, but it carries its whole capital "
                    "cost against the old one's running cost." + gain)
    move = narrative.refresh_verdict("m", "fp8", ["C -> D"], ["2 x b200"],
                                     [("A -> B", 0.4, 2.0, 5.0)], "plausible", "why")
    assert move == ("No replica of up to 8 GPUs holds m at FP8 on both sides of C -> D, so that "
                    "pair gets a refresh comparison. Tokens/s are per GPU of the smallest replica "
                    "that holds the model (2 x b200). **A -> B:** moving costs 0.40x keeping per "
                    "token ($2.00 vs $5.00 per million). By the article's 50 % rule: refresh "
                    "A -> B. The new generation's speed outweighs its capital cost." + gain)
    none = narrative.refresh_verdict("m", "fp8", ["A -> B", "C -> D"], [], [], "plausible", "why")
    assert none == ("No replica of up to 8 GPUs holds m at FP8 on both sides of A -> B and C -> D, "
                    "so neither pair gets a refresh comparison. " + gain)


def test_break_even_by_option_every_branch():
    text = narrative.break_even_by_option(
        0.5, 36, {"A": 20.0, "B": 50.0, "C": None}, {"A": 7300, "B": 18250, "C": None},
        {"A": 0.3, "B": 0.7, "C": None}, {"A": 1500.0, "B": -250.0, "C": -9000.0})
    assert text == (
        "**A:** break-even after 20.0 months (7,300 GPU-hours) at 50% use; paying back within "
        "its 36-month life needs 30% utilization; NPV over the life $1,500 per GPU. "
        "**B:** break-even after 50.0 months (18,250 GPU-hours), beyond its service life at 50% "
        "use; paying back within its 36-month life needs 70% utilization; NPV over the life "
        "-$250.00 per GPU. **C:** never breaks even at 50% use; paying back within its 36-month "
        "life needs more than 100 % utilization (never); NPV over the life -$9,000 per GPU. "
        "A negative NPV means renting the same hours is cheaper over the service life.")


def test_business_staffing_both_branches():
    head = ("Staff time is 10% of the A busy hour, 2% of the B busy hour. A business that staffs "
            "its deployments as `07_cost_scenarios` and `08_selection_flowchart` do "
            "(`economics.operations_usd_per_year`: 50% of a systems administrator, $60,000 a "
            "year, for owned hardware; 10%, $12,000, for a serving stack on rented GPUs) pays the "
            "difference on top")
    tail = " Set `card_ops_usd_per_year` to 48000 to see the card options that way."
    shares = {"A": 0.1, "B": 0.02}
    more = narrative.business_staffing(shares, 0.5, 60000, 0.1, 12000, 10.0, 0.35)
    assert more == head + (": owning one card would then cost **$10.00 more per busy hour** than "
                           "shown here, against $0.350 to rent an RTX 4090." + tail)
    covered = narrative.business_staffing(shares, 0.5, 60000, 0.1, 12000, -1.0, 0.35)
    assert covered == head + ", which the card upkeep set here already covers." + tail


def test_out_of_sample_trend_names_the_rows_each_figure_was_scored_on():
    import pandas as pd

    oos = pd.DataFrame({"check": ["leave one source out", "holdout", "holdout"],
                        "regime": ["all", "all", "decode"],
                        "median_pct": [15.81, 16.4, 91.0], "p90_pct": [68.9, 160.4, 191.0],
                        "n": [215, 26, 10], "median_pct_previous": [13.9, 10.1, 14.0],
                        "p90_pct_previous": [54.5041, 31.8, 34.0], "n_previous": [165, 21, 10]})
    assert narrative.out_of_sample_trend(oos) == (
        " Against the previous calibration, over all rows: leave one source out median 13.9% -> "
        "15.8%, p90 55% -> 69% (165 -> 215 rows); holdout median 10.1% -> 16.4%, p90 32% -> 160% "
        "(21 -> 26 rows). The two were scored on different rows: measurements added to the table "
        "since count in the second figure only, so each change mixes the model's and the table's.")
    same = oos.assign(n_previous=oos["n"])[oos["check"] != "holdout"]
    assert narrative.out_of_sample_trend(same).endswith(
        "(215 -> 215 rows) (the previous calibration had no hold-out: every row was in its fit, "
        "so part of any change is the rows now held out).")
    assert narrative.out_of_sample_trend(oos.assign(median_pct_previous=float("nan"))) == ""
