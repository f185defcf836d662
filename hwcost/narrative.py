"""Sentences built from computed results, worded for every branch.

A notebook's conclusions are generated from variables; the branches (equal amounts, a
crossover never reached, nothing owned, a model without an API of its own) are decided here,
where they are tested, so a notebook cell only passes numbers in.
"""

from __future__ import annotations

from .notebook import share, span, usd

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


# ---- notebook 03: self-hosting economics ---------------------------------------------------
from .notebook import pct  # noqa: E402


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
