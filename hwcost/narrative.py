"""Sentences built from computed results, worded for every branch.

A notebook's conclusions are generated from variables; the branches (equal amounts, a
crossover never reached, nothing owned, a model without an API of its own) are decided here,
where they are tested, so a notebook cell only passes numbers in.
"""

from __future__ import annotations

import math

from .notebook import pct, share, span, usd

ARTICLE_API_BELOW_TOKENS = 1e8  # the article's FAQ: APIs are cheaper below 100M tokens a month
ARTICLE_OWN_ABOVE_TOKENS = 1e9  # the article's FAQ: self-hosting is cheaper above 1B tokens a month


def _billions(tokens: float) -> str:
    return f"{tokens / 1e9:.2f}B"


def scale_to_zero(always_usd_per_day: float, scale_to_zero_usd_per_day: float, gap_s: float,
                  idle_timeout_s: float, cold_start_share: float, cold_start_s: float) -> str:
    """What scaling a rented GPU to zero saves, and what it costs in cold starts.

    Parameters
    ----------
    always_usd_per_day, scale_to_zero_usd_per_day : float
        Daily cost of the replica left on and scaled to zero. [USD/day]
    gap_s : float
        Mean time between requests. [s]
    idle_timeout_s : float
        Idle time after which a scaled-to-zero instance stops. [s]
    cold_start_share : float
        Share of requests that wait for a cold start. [-]
    cold_start_s : float
        Length of a cold start. [s]
    """
    a, z = usd(always_usd_per_day), usd(scale_to_zero_usd_per_day)
    inside = gap_s < idle_timeout_s
    why = (f"a request arrives every {gap_s:,.0f} s on average, inside the {idle_timeout_s:.0f} s idle "
           f"timeout, so the instance {'never' if cold_start_share < 1e-4 else 'rarely'} stops")
    if a == z:
        text = f"Scale-to-zero pays the same {a} a day as leaving the GPU on" + (f": {why}. " if inside else ". ")
    else:
        text = f"Scale-to-zero pays {z} a day instead of {a}" + (f", hardly less: {why}; " if inside else "; ")
    if cold_start_share < 1e-4:
        waits = f"fewer than 1 request in 10,000 waits {cold_start_s:.0f} s for a cold start."
    else:
        waits = f"{share(cold_start_share)} of requests wait {cold_start_s:.0f} s for a cold start."
    return text + (waits[0].upper() + waits[1:] if text.endswith(". ") else waits)


def api_model_note(option: str, llm_id: str | None, model: str) -> str:
    """For an API option selling another model than ``model``, a note naming it; else ""."""
    if not option.startswith("API ") or not isinstance(llm_id, str) or not llm_id or llm_id == model:
        return ""
    return f" (it sells {llm_id}, not {model}: a model of the nearest size with an API offer)"


def owned_break_even(owned_to_rented: float) -> str:
    """When an owned replica pays off against a rented one costing ``1 / owned_to_rented`` as much
    per hour."""
    if owned_to_rented >= 1:
        return (f"An owned replica costs {owned_to_rented:.2f} times a rented one per hour, so owning never "
                f"pays off here, even busy around the clock")
    return (f"An owned replica costs {owned_to_rented:.0%} of a rented one per hour, so it pays off when it "
            f"is busy more than {owned_to_rented * 24:.1f} hours a day")


def article_thresholds(low_tokens_per_month: float, high_tokens_per_month: float, reached: bool) -> str:
    """The article's "API below 100M, self-hosting above 1B tokens a month" against the crossovers.

    ``low`` and ``high`` are the volumes from which one owned replica beats the dearest and the
    cheapest API offer; ``reached`` is False when it beats none at any volume.
    """
    if not reached:
        return ("do not hold for this model class: one owned replica beats none of these APIs at any "
                "volume, so the API stays cheaper well above 1B tokens a month.")
    later = ", and later against the cheapest API" if _billions(high_tokens_per_month) != _billions(
        low_tokens_per_month) else ""
    if low_tokens_per_month < ARTICLE_API_BELOW_TOKENS:
        return (f"are too pessimistic for this model class: self-hosting wins from "
                f"{low_tokens_per_month / 1e6:,.0f}M tokens a month, below the 100M under which the "
                f"article says an API is cheaper{later}.")
    if low_tokens_per_month < ARTICLE_OWN_ABOVE_TOKENS:
        return (f"hold in direction: below 100M tokens the API wins, and self-hosting wins from "
                f"{_billions(low_tokens_per_month)}, earlier than the article's 1B{later}.")
    return (f"hold in direction: below 100M tokens the API wins; but self-hosting wins only above "
            f"{_billions(low_tokens_per_month)}, not from 1B{later}.")


def api_crossover(n_offers: int, owned_usd_per_hour: float, low_tokens_per_month: float,
                  high_tokens_per_month: float, reached: bool, volume_tokens_per_month: float,
                  at_capacity_usd_per_million: float, at_volume_usd_per_million: float | None,
                  api_usd_per_million: tuple[float, float]) -> str:
    """One owned replica against the API offers of the model's class, and the article's thresholds.

    Parameters
    ----------
    n_offers : int
        API offers compared.
    owned_usd_per_hour : float
        One owned replica, staff time included. [USD/h]
    low_tokens_per_month, high_tokens_per_month : float
        Volume from which the replica beats the dearest and the cheapest offer. [tokens/month]
    reached : bool
        Whether it beats any offer at all.
    volume_tokens_per_month : float
        The workload's volume. [tokens/month]
    at_capacity_usd_per_million, at_volume_usd_per_million : float
        Owned cost per million tokens fully used and at the workload's volume (None: no
        owned option priced). [USD/1M tokens]
    api_usd_per_million : (float, float)
        Cheapest and dearest API price for the workload's input/output mix. [USD/1M tokens]
    """
    offers = f"{n_offers} API offer{'' if n_offers == 1 else 's'} for this model class"
    if reached:
        text = (f"Against the {offers}, one owned replica ({usd(owned_usd_per_hour)}/h with staff) becomes "
                f"cheaper from **{span(low_tokens_per_month, high_tokens_per_month, _billions)} tokens a "
                f"month**")
    else:
        text = (f"Owning a replica never beats the {offers}: fully used, with staff time, it costs "
                f"more per token than the dearest of them")
    text += (f"; your workload is {volume_tokens_per_month / 1e6:,.0f}M tokens a month. Fully used within "
             f"the latency targets, the owned replica costs {usd(at_capacity_usd_per_million)} per million "
             f"tokens")
    if at_volume_usd_per_million is not None:
        text += f", at your volume {usd(at_volume_usd_per_million)} (section 3)"
    lo, hi = api_usd_per_million
    text += (f": the article's $0.15-2.00 describes well-used hardware only. The APIs charge "
             f"{span(lo, hi, usd)} for this mix of input and output. The article's thresholds "
             + article_thresholds(low_tokens_per_month, high_tokens_per_month, reached))
    return text


def hybrid_split(owned: int, peak: int) -> str:
    """How many of the ``peak`` replicas a split owns, in words ("owns **2** and rents the rest")."""
    if owned <= 0:
        return "owns none and rents every replica by the hour"
    if owned >= peak:
        return f"owns all **{peak:,}** and rents nothing"
    return f"owns **{owned:,}** and rents the rest by the hour"


def hybrid_volume(hybrid_requests_per_day: float, requests_per_day: float, own_peak: int,
                  own_owned: int) -> str:
    """Why the owned-plus-burst section may use another volume than the workload, and the
    workload's own answer (``own_peak`` replicas at its peak hour, ``own_owned`` owned at the
    cheapest split); empty when the two volumes are the same."""
    if round(hybrid_requests_per_day) == round(requests_per_day):
        return ""
    if own_peak <= 1:
        own = ("one replica covers even its peak hour, so there is nothing to split: the question is "
               "only whether to own or rent it (above)")
    else:
        own = f"the peak hour needs {own_peak:,} replicas and the cheapest split {hybrid_split(own_owned, own_peak)}"
    return (f"This section uses `hybrid_requests_per_day` = {hybrid_requests_per_day:,.0f}, not your "
            f"{requests_per_day:,.0f} requests a day, to show where owning a base and renting bursts "
            f"pays. At your volume {own}. ")


# --- 07_cost_scenarios ---------------------------------------------------------------------------

def usd_any(usd_value: float) -> str:
    """A dollar amount as `usd` writes it, with three significant figures below one cent.

    Parameters
    ----------
    usd_value : float
        Amount [USD], positive.
    """
    if usd_value >= 0.01:
        return usd(usd_value)
    return f"${usd_value:.{2 - math.floor(math.log10(usd_value))}f}"


def owning_cost(gpu_id: str, bill_of_materials: str, capex_usd: float,
                running_usd_per_year: float, staff_usd_per_year: float,
                usd_per_request: float) -> str:
    """The sentence on what owning the hardware costs, up front, per year and per request.

    Parameters
    ----------
    gpu_id : str
        GPU as the catalog names it.
    bill_of_materials : str
        What is bought, in words.
    capex_usd : float
        Purchase price [USD].
    running_usd_per_year : float
        Running cost, staff included [USD/year].
    staff_usd_per_year : float
        Staff time within the running cost [USD/year].
    usd_per_request : float
        Cost per request [USD].
    """
    return (f"Owning means buying what {gpu_id} is sold as, {bill_of_materials}: "
            f"{usd(capex_usd)} up front, then {usd(running_usd_per_year)} a year to run "
            f"({usd(staff_usd_per_year)} of it staff time), {usd_any(usd_per_request)} per "
            "request. ")


def scenario_arithmetic_summary(n_lines: int, n_agree: int) -> str:
    """The conclusion's bullet on how many of the article's scenario lines fail.

    Parameters
    ----------
    n_lines : int
        Scenario lines audited.
    n_agree : int
        Lines whose recomputed value agrees with the article.
    """
    return ("- **The article's scenario arithmetic does not hold:** "
            f"{n_lines - n_agree} of its {n_lines} scenario lines disagree or rest on an "
            "implausible price. An always-on GPU costs its hourly price whatever it serves, so at "
            "low volume the cost per request is the daily rent divided by the requests.\n")


def api_or_own_summary(low_tokens_per_month: float, high_tokens_per_month: float,
                       reached: bool) -> str:
    """The conclusion's bullet on the volume from which one owned replica beats the APIs.

    Parameters
    ----------
    low_tokens_per_month, high_tokens_per_month : float
        Lowest and highest crossover over the API offers reached [tokens/month].
    reached : bool
        Whether any API offer is beaten at all.
    """
    if not reached:
        return "- **API or own:** owning a replica never beats this model class's APIs.\n"
    return ("- **API or own:** one owned replica, staff time included, beats this model "
            "class's APIs only from "
            f"{span(low_tokens_per_month / 1e9, high_tokens_per_month / 1e9, lambda v: f'{v:.2f}B')}"
            " tokens a month.\n")
# --- 02_provider_pricing ---------------------------------------------------------------------


def token_cost_scope(model: str, precision: str, batch_size: int, input_tokens: int,
                     output_tokens: int, utilization: float, tpot_target_s: float, n_fit: int,
                     n_offers: int, misfits: list, slow: list) -> str:
    """Say what is priced, how many offers hold it and which GPU types are left out.

    ``misfits`` holds ``(gpu_id, reason)`` pairs, ``slow`` holds ``(gpu_id, tpot_s)`` pairs
    (tpot_s [s] per generated token of each sequence).
    """
    text = (f"**{model}** at {precision}, **batch {batch_size}** ({input_tokens} prompt + "
            f"{output_tokens} generated tokens per sequence), priced at **{pct(utilization)} "
            f"utilization**")
    if utilization == 1:
        text += " (every paid hour busy at that batch: the best case)"
    text += f". {n_fit} of {n_offers} offers can hold it"
    if misfits:
        text += "; not these GPU types: " + "; ".join(f"{g} ({why})" for g, why in misfits)
    text += "."
    if slow:
        text += (f" Too slow for {tpot_target_s * 1000:.0f} ms per token at this batch, and left "
                 "out: " + "; ".join(f"{g} ({t * 1000:.0f} ms)" for g, t in slow) + ".")
    return text


def cheapest_token_offer(top, batch_size: int, gpu: str, best_same_class=None) -> str:
    """Describe the cheapest offer per token and the best one on the chosen GPU class.

    ``top`` and ``best_same_class`` are rows of :func:`hwcost.pricing.token_costs`;
    ``best_same_class`` is None when no offer of class ``gpu`` holds the configuration.
    """
    text = (f"The cheapest on-demand offer per token is **{top['id']}**: a replica of "
            f"{int(top['n_gpus'])} x {top['gpu_id']} produces "
            f"{top['output_tokens_per_s']:,.0f} tokens/s for "
            f"{usd(top['usd_per_replica_hour'])}/h ({top['tpot_s'] * 1000:.0f} ms per token for "
            f"each of its {batch_size} sequences), "
            f"**{usd(top['usd_per_million_output_tokens'])} per million generated tokens** "
            f"({usd(top['usd_per_million_tokens'])} per million if prompt tokens are counted "
            "too).")
    if best_same_class is not None:
        return text + (f" On {gpu} the best is {best_same_class['id']} at "
                       f"{usd(best_same_class['usd_per_million_output_tokens'])}.")
    return text + f" No on-demand {gpu} offer can hold this configuration."


def coreweave_h100_bundle(bundle) -> str:
    """Check the article's CoreWeave 8 x H100 per-GPU rounding; ``bundle`` is a row of
    :func:`hwcost.pricing.bundle_comparison`."""
    return (f"CoreWeave's 8 x H100 node: {usd(bundle['usd_per_hour'])} / 8 = "
            f"**${bundle['usd_per_gpu_hour']:.4g}** per GPU-hour, which rounds half-up to "
            f"**{usd(bundle['usd_per_gpu_hour_cents'])}**: the article's $6.16 is the correct "
            "rounding (a binary float rounded naively can print $6.15). Per GPU it is "
            f"{pct(bundle['premium_fraction'])} above the cheapest one-GPU H100 "
            f"({bundle['single_offer_id']}, {usd(bundle['single_usd_per_gpu_hour'])}), and a "
            f"single one-GPU replica on it pays {usd(bundle['usd_per_hour'])}/h.")


def spot_and_reserved(spot, reserved, interruption_overhead_fraction: float) -> str:
    """Summarize spot and reserved discounts; ``spot`` is the spot rows of
    :func:`hwcost.pricing.discounts`, ``reserved`` the reserved rows' ``discount_fraction``."""
    if len(spot):
        d = spot["discount_fraction"]
        text = (f"{len(spot)} spot offers have an on-demand twin: discounts of {pct(d.min())} "
                f"to {pct(d.max())} (median {pct(d.median())}); losing "
                f"{pct(interruption_overhead_fraction)} of spot time to interruptions leaves a "
                f"median {pct(spot['effective_discount_fraction'].median())}. ")
    else:
        text = "No spot offer in the price table in use has an on-demand twin. "
    if len(reserved):
        text += f"Reserved offers save {pct(reserved.min())} to {pct(reserved.max())}."
    return text


def provider_verdict(prov, gpu: str, model: str, cw_rank, cw_index, low_index, most_types,
                     lead, top, best_same_class=None) -> str:
    """Bullet list answering the article's provider comparison (cost, tokens, flexibility).

    ``prov`` is :func:`hwcost.pricing.provider_summary`; ``low_index`` and ``most_types`` its
    rows with the lowest price index and the most GPU types; ``lead`` the audit row of the
    article's claim; ``top`` and ``best_same_class`` rows of :func:`hwcost.pricing.token_costs`.
    """
    import pandas as pd

    if cw_rank is not None and not pd.isna(cw_rank):
        cw_text = f"{int(cw_rank)} of {int(prov['gpu_rank'].max())}"
    else:
        cw_text = "nowhere (it has no such offer)"
    if best_same_class is not None:
        class_text = (f"**{best_same_class['provider']}** "
                      f"({usd(best_same_class['usd_per_million_output_tokens'])}) on {gpu}")
    else:
        class_text = f"no on-demand {gpu} offer fits"
    cw_index_text = (f"{cw_index:.2f}" if cw_index is not None
                     else "not computed (no CoreWeave offer in the table)")
    first = prov.iloc[0]
    per_second = ", ".join(prov[prov["finest_billing_s"] == 1]["provider"])
    nodes_only = ", ".join(prov[~prov["single_gpu"]]["provider"]) or "none"
    return (f"- **Cost per GPU-hour on {gpu}:** cheapest on demand is **{first['provider']}** "
            f"({usd(float(first['gpu_usd_per_gpu_hour']))}); CoreWeave ranks {cw_text}. The "
            f"lowest price index is **{low_index['provider']}** "
            f"({float(low_index['price_index']):.2f} over {low_index['n_gpu_types']} "
            f"GPU type(s)); CoreWeave's is {cw_index_text}, and `hwcost.seed` rates the "
            f"article's claim **{lead['status']}**: {lead['reason']}.\n"
            f"- **Cost per million tokens of {model}:** **{top['provider']}** ({top['id']}, "
            f"{usd(top['usd_per_million_output_tokens'])}) on any GPU; {class_text}.\n"
            f"- **Flexibility:** {most_types['provider']} rents the most GPU types "
            f"({most_types['n_gpu_types']}); per-second billing: {per_second}; only 8-GPU "
            f"nodes: {nodes_only}.\n"
            "- **Support:** not measurable from prices; ask for SLAs and response times.")


def price_history_note(n_history_rows: int, n_repriced: int, gpu: str, own, stale_classes: list,
                       max_age_days: int) -> str:
    """Describe the price record: repricings, the chosen class's trend, stale classes.

    ``own`` is the rows of :func:`hwcost.pricing.price_trend` for ``gpu``, oldest first.
    """
    if len(own):
        a, b = own.iloc[0], own.iloc[-1]
        moved = (f"For {gpu} the cheapest recorded on-demand GPU-hour went from "
                 f"{usd(a['usd_per_gpu_hour'])} ({a['as_of']}, {a['n_offers']} offer(s) on "
                 f"record) to {usd(b['usd_per_gpu_hour'])} ({b['as_of']}, {b['n_offers']} offers)")
    else:
        moved = f"No on-demand {gpu} price is recorded"
    text = (f"The history holds {n_history_rows} prices; {n_repriced} cloud offers have been "
            f"repriced at least once. {moved}. A line falls when a cheaper offer enters the "
            "record or an offer is repriced; `hwcost prices import` says which. ")
    if stale_classes:
        return text + (f"**Stale:** the newest price of {', '.join(stale_classes)} is older than "
                       f"{max_age_days} days; import a fresh snapshot before relying on them.")
    return text + f"Every GPU class has a price newer than {max_age_days} days."


def provider_pricing_meaning(model: str, precision: str, batch_size: int, utilization: float,
                             tpot_target_s: float, gpu: str, top, best_od, spread: float,
                             cw_index, max_spot_discount=None) -> str:
    """The conclusion of 02_provider_pricing.

    ``top``: cheapest token offer row; ``best_od``: cheapest on-demand offer of class ``gpu``;
    ``spread``: dearest over cheapest GPU-hour of that class [-]; ``max_spot_discount``: the
    largest spot discount [-], None without spot offers.
    """
    cw_text = f"{cw_index:.2f}" if cw_index is not None else "n/a"
    spot_text = ("" if max_spot_discount is None else
                 f"Spot saves up to {pct(max_spot_discount)} where interruptions are tolerable. ")
    return (f"For **{model}** at {precision} and batch {batch_size}, the cheapest on-demand way "
            f"to rent it is **{top['id']}** at {usd(top['usd_per_million_output_tokens'])} per "
            f"million generated tokens at {pct(utilization)} utilization, each sequence getting "
            f"a token every {top['tpot_s'] * 1000:.0f} ms (offers slower than "
            f"{tpot_target_s * 1000:.0f} ms left out). For the {gpu} class, "
            f"{best_od['provider']} has the lowest on-demand GPU-hour "
            f"({usd(best_od['usd_per_gpu_hour'])}), and offers for the same GPU differ "
            f"{spread:.1f}-fold, so shopping around matters as much as the choice of GPU. The "
            "article's \"CoreWeave leads on cost\" does not hold for on-demand prices (price "
            f"index {cw_text}); its 8-GPU nodes suit workloads that fill eight GPUs. "
            f"{spot_text}The per-token figures count {pct(utilization)} of paid hours as busy "
            f"at batch {batch_size}; each halving of that share doubles them. Check the price "
            "ages before you sign.")
# 08 selection flowchart


def top_option_cost(kind: str, bill_of_materials: str, capex_usd: float,
                    running_usd_per_year: float) -> str:
    """What the #1 option needs up front and a year, to follow "it ".

    Parameters
    ----------
    kind : str
        ``self-hosted``, ``cloud`` or ``api``.
    bill_of_materials : str
        What the option buys or rents.
    capex_usd : float
        Money spent up front. [USD]
    running_usd_per_year : float
        Yearly running cost. [USD/year]
    """
    if kind == "self-hosted":
        return (f"buys {bill_of_materials}: {usd(capex_usd)} up front, then "
                f"{usd(running_usd_per_year)} a year to run. ")
    return (f"needs nothing up front ({bill_of_materials}) and costs "
            f"{usd(running_usd_per_year)} a year. ")


def runner_up_bullets(ranks, options, whys) -> str:
    """One bullet per option after the first: "- **#2** option: why it loses"."""
    return "\n".join(f"- **#{int(r)}** {o}: {w}" for r, o, w in zip(ranks, options, whys))


def owned_plan(own_best, cloud_staff_break_even: float) -> str:
    """The cheapest owned plan and the staff share below which owning beats renting.

    Parameters
    ----------
    own_best : mapping or None
        The cheapest owned option, with ``bill_of_materials``, ``capex_usd`` [USD] and
        ``running_usd_per_year`` [USD/year]; None when no owned plan is feasible.
    cloud_staff_break_even : float
        Staff share of an administrator below which owning beats the best rented option;
        0 or less when it never does. [-]
    """
    text = ""
    if own_best is not None:
        text += (f"Owned, the cheapest plan buys {own_best['bill_of_materials']}: "
                 f"{usd(own_best['capex_usd'])} up front and "
                 f"{usd(own_best['running_usd_per_year'])} a year to run. ")
    if cloud_staff_break_even > 0:
        text += ("Owned hardware beats renting only while it takes less than "
                 f"{pct(cloud_staff_break_even, 1)} of an administrator's time. ")
    return text


def case_extras(window_hours: float | None, window_start_hour: float, cached_input_share: float,
                budget_usd: float) -> str:
    """The optional clauses of a case's description, each starting ", " ("" when none applies).

    Parameters
    ----------
    window_hours : float or None
        Hours a day within which batch requests are processed; None or 0 for all day. [h]
    window_start_hour : float
        Hour of the day the window opens. [h]
    cached_input_share : float
        Share of input tokens billed at an API's cached-input price. [-]
    budget_usd : float
        Cap on money spent up front; 0 for none. [USD]
    """
    return ((f", processed within {window_hours:g} h a day from {window_start_hour:g}:00"
             if window_hours else "")
            + (f", {pct(cached_input_share)} of input tokens cached at APIs"
               if cached_input_share else "")
            + (f", up-front budget {usd(budget_usd)}" if budget_usd else ""))


def article_comparison(question: str, article: str, computed: str, agree: bool, note: str) -> str:
    """A bullet saying whether the article's answer to ``question`` is the computed optimum."""
    verb = "agree" if agree else "**disagree**"
    return (f"- On the {question}, the article says *{article}* and the computed optimum is "
            f"*{computed}*: they {verb}" + (f" ({note})." if note else "."))
# ---- notebook 03: self-hosting economics ---------------------------------------------------


def article_break_even(article_gpu_hours: float, article_months: float, status: str,
                       upfront_usd: float, offer_id: str, rent_usd_per_gpu_hour: float,
                       months: float | None, gpu_hours: float | None, life_months: float) -> str:
    """The article's FAQ break-even recomputed, then one owned H100 used 24/7 against renting.

    Parameters
    ----------
    article_gpu_hours, article_months : float
        Break-even from the article's own inputs. [GPU-h], [month]
    status : str
        Audit status of those two figures.
    upfront_usd : float
        Up-front cost of one GPU of the server. [USD]
    offer_id : str
        Rental offer compared against.
    rent_usd_per_gpu_hour : float
        Its price. [USD/GPU-h]
    months, gpu_hours : float or None
        Break-even of the owned GPU at full use; None when it never breaks even. [month], [GPU-h]
    life_months : float
        Service life. [month]
    """
    text = (f"With the article's own inputs the formula gives **{article_gpu_hours:,.0f} GPU-hours = "
            f"{article_months:.1f} months** of 24/7 use (both rated {status}), not "
            "8,000-10,000 h or 15+ months, and $10,000 does not buy an H100. "
            f"At catalog prices one GPU of the server ({usd(upfront_usd)} up front) used 24/7 "
            f"against {offer_id} at {usd(rent_usd_per_gpu_hour)}/h ")
    if months is None:
        return text + "**never breaks even**: renting costs less than running the owned GPU."
    when = "within" if months <= life_months else "after the end of"
    return text + (f"breaks even after **{months:.1f} months ({gpu_hours:,.0f} GPU-hours)**, "
                   f"{when} its {life_months:.0f}-month service life.")


def self_hosting_conclusion(utilization: float, owned_usd_per_busy_gpu_hour: dict,
                            rent_usd_per_gpu_hour: dict, pay_back_utilization: dict,
                            amortization_years: float, card_ops_usd_per_year: float,
                            business_extra_usd_per_busy_gpu_hour: float,
                            card_rent_usd_per_gpu_hour: float) -> str:
    """Notebook 03's conclusion: owned against rented, the utilization lever, when to buy.

    Parameters
    ----------
    utilization : float
        Busy share of the hours. [-]
    owned_usd_per_busy_gpu_hour, rent_usd_per_gpu_hour : dict
        Per option, the owned cost of a busy GPU-hour and the cheapest rent. [USD/GPU-h]
    pay_back_utilization : dict
        Per option, the utilization that pays back within the life; None if none does. [-]
    amortization_years : float
        Service life. [year]
    card_ops_usd_per_year : float
        Upkeep of one card as set. [USD/year]
    business_extra_usd_per_busy_gpu_hour : float
        What staffing a card like a business deployment adds. [USD/GPU-h]
    card_rent_usd_per_gpu_hour : float
        Rent of the card compared against (an RTX 4090). [USD/GPU-h]
    """
    options = list(owned_usd_per_busy_gpu_hour)
    best = min(options, key=lambda k: owned_usd_per_busy_gpu_hour[k] / rent_usd_per_gpu_hour[k])
    extra = business_extra_usd_per_busy_gpu_hour
    text = (f"At catalog prices and {pct(utilization)} utilization, an owned GPU-hour of work costs "
            + ", ".join(f"{usd(owned_usd_per_busy_gpu_hour[k])} ({k})" for k in options)
            + f", against {', '.join(usd(rent_usd_per_gpu_hour[k]) for k in options)} to rent the "
            f"same class. The closest to the cloud price is the {best} at "
            f"{owned_usd_per_busy_gpu_hour[best] / rent_usd_per_gpu_hour[best]:.2f}x. "
            "Utilization is the lever: paying back within the "
            f"{amortization_years:g}-year life needs "
            + ", ".join(f"{pct(pay_back_utilization[k]) if pay_back_utilization[k] else 'more than 100 %'}"
                        f" ({k})" for k in options)
            + " utilization; and the article's cheap self-hosting figures rest on purchase prices far "
            "below today's street prices and on electricity counted per kWh as if per hour. ")
    if extra > 0:
        text += (f"Staffed as a business deployment rather than with ${card_ops_usd_per_year:,.0f} a "
                 f"year of upkeep, one owned card costs {usd(extra)} more per busy hour, "
                 f"{extra / card_rent_usd_per_gpu_hour:.1f}x the whole rent of an RTX 4090. ")
    return text + (f"Buy when the hardware will be busy for most of its {amortization_years:g}-year "
                   "life, when data must stay in-house, or when rental capacity is scarce; otherwise "
                   "rent, and keep paid-off hardware until a new generation costs less than half per "
                   "token.")


def refresh_verdict(model: str, precision: str, missing: list, replicas: list,
                    comparisons: list, gain_status: str, gain_reason: str) -> str:
    """Keep paid-off GPUs or move to the next generation, by the article's 50 % rule.

    Parameters
    ----------
    model, precision : str
        Model served and its weight precision.
    missing : list of str
        Pairs with no replica of up to 8 GPUs holding the model on both sides.
    replicas : list of str
        Replicas of more than one GPU, as "n x gpu".
    comparisons : list of tuple
        Per pair compared: (pair, move-to-keep cost per token [-], move and keep cost
        [USD per million tokens]).
    gain_status, gain_reason : str
        Audit of the article's generation gain.
    """
    text = ""
    if missing:
        who = "that pair gets" if len(missing) == 1 else "neither pair gets"
        text += (f"No replica of up to 8 GPUs holds {model} at {precision.upper()} on both sides of "
                 f"{' and '.join(missing)}, so {who} a refresh comparison. ")
    if replicas:
        text += ("Tokens/s are per GPU of the smallest replica that holds the model ("
                 + ", ".join(replicas) + "). ")
    text += " ".join(f"**{pair}:** moving costs {rel:.2f}x keeping per token "
                     f"({usd(move)} vs {usd(keep)} per million)."
                     for pair, rel, move, keep in comparisons)
    if comparisons:
        moves = [pair for pair, rel, _, _ in comparisons if rel < 0.5]
        rule = ("refresh " + ", ".join(moves) if moves
                else "keep" + (" both" if len(comparisons) > 1 else ""))
        text += (f" By the article's 50 % rule: {rule}. "
                 + ("The new generation's speed outweighs its capital cost." if moves else
                    "Paid-off hardware is hard to beat: the new generation is faster, but it "
                    "carries its whole capital cost against the old one's running cost."))
    return text + (f" The article's generation gain (\"1.5-2x per 2 years\") is rated "
                   f"*{gain_status}*: {gain_reason}.")


def break_even_by_option(utilization: float, life_months: float, months: dict, gpu_hours: dict,
                         pay_back_utilization: dict, npv_usd: dict) -> str:
    """Per owned option: when it breaks even against renting, what pays back, and its NPV.

    Parameters
    ----------
    utilization : float
        Busy share of the hours. [-]
    life_months : float
        Service life. [month]
    months, gpu_hours : dict
        Per option, break-even time and GPU-hours; None where it never breaks even.
        [month], [GPU-h]
    pay_back_utilization : dict
        Per option, the utilization that pays back within the life; None if none does. [-]
    npv_usd : dict
        Per option, net present value of owning rather than renting one GPU. [USD]
    """
    def one(k):
        m, u, v = months[k], pay_back_utilization[k], npv_usd[k]
        when = ("never breaks even" if m is None else
                f"break-even after {m:.1f} months ({gpu_hours[k]:,.0f} GPU-hours)"
                + (", beyond its service life" if m > life_months else ""))
        need = f"{pct(u)} utilization" if u else "more than 100 % utilization (never)"
        return (f"**{k}:** {when} at {pct(utilization)} use; paying back within its "
                f"{life_months:.0f}-month life needs {need}; NPV over the life "
                f"{'-' if v < 0 else ''}{usd(abs(v))} per GPU.")
    return (" ".join(one(k) for k in months)
            + " A negative NPV means renting the same hours is cheaper over the service life.")


def business_staffing(staff_share: dict, owned_staff_fraction: float, owned_usd_per_year: float,
                      rented_staff_fraction: float, rented_usd_per_year: float,
                      extra_usd_per_busy_gpu_hour: float, card_rent_usd_per_gpu_hour: float) -> str:
    """Staff in each busy hour, and what staffing a card like a business deployment adds.

    Parameters
    ----------
    staff_share : dict
        Per option, the share of a busy GPU-hour that is staff time. [-]
    owned_staff_fraction, rented_staff_fraction : float
        Share of a systems administrator for owned hardware and for rented GPUs. [-]
    owned_usd_per_year, rented_usd_per_year : float
        What those shares cost. [USD/year]
    extra_usd_per_busy_gpu_hour : float
        Business staffing minus the card upkeep set, per busy hour. [USD/GPU-h]
    card_rent_usd_per_gpu_hour : float
        Rent of an RTX 4090. [USD/GPU-h]
    """
    extra = extra_usd_per_busy_gpu_hour
    shares = ", ".join(f"{pct(v)} of the {k} busy hour" for k, v in staff_share.items())
    gap = (f": owning one card would then cost **{usd(extra)} more per busy hour** than shown "
           f"here, against {usd(card_rent_usd_per_gpu_hour)} to rent an RTX 4090." if extra > 0
           else ", which the card upkeep set here already covers.")
    return (f"Staff time is {shares}. A business that staffs its deployments as "
            "`07_cost_scenarios` and `08_selection_flowchart` do "
            f"(`economics.operations_usd_per_year`: {pct(owned_staff_fraction)} of a systems "
            f"administrator, {usd(owned_usd_per_year)} a year, for owned hardware; "
            f"{pct(rented_staff_fraction)}, {usd(rented_usd_per_year)}, for a serving stack on "
            f"rented GPUs) pays the difference on top{gap} Set `card_ops_usd_per_year` to "
            f"{owned_usd_per_year - rented_usd_per_year:.0f} to see the card options that way.")


def out_of_sample_trend(oos) -> str:
    """How the out-of-sample errors moved against the previous calibration, over all rows.

    Parameters
    ----------
    oos : pandas.DataFrame
        :func:`hwcost.perf.out_of_sample_table` of the calibration merged with the previous
        one's on ``check`` and ``regime`` (columns ``median_pct``, ``p90_pct``, ``n`` and the
        same with ``_previous``). [%, rows]

    Returns an empty string when there is no previous figure; otherwise one sentence per
    change, and a warning when the two were scored on different rows (a grown table).
    """
    both = oos.dropna(subset=["median_pct_previous"])
    both = both[both["regime"] == "all"]
    if both.empty:
        return ""
    parts = [f"{r.check} median {r.median_pct_previous:.1f}% -> {r.median_pct:.1f}%, "
             f"p90 {r.p90_pct_previous:.0f}% -> {r.p90_pct:.0f}% "
             f"({int(r.n_previous)} -> {int(r.n)} rows)" for r in both.itertuples()]
    text = " Against the previous calibration, over all rows: " + "; ".join(parts)
    if (both["check"] == "holdout").any():
        text += "."
    else:
        text += (" (the previous calibration had no hold-out: every row was in its fit, so part "
                 "of any change is the rows now held out).")
    if (both["n"] != both["n_previous"]).any():
        text += (" The two were scored on different rows: measurements added to the table since "
                 "count in the second figure only, so each change mixes the model's and the "
                 "table's.")
    return text
