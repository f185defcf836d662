"""Sentences built from computed results, worded for every branch.

A notebook's conclusions are generated from variables; the branches (equal amounts, a
crossover never reached, nothing owned, a model without an API of its own) are decided here,
where they are tested, so a notebook cell only passes numbers in.
"""

from __future__ import annotations

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
