"""Operations staff: a share of one administrator's time, priced from BLS figures.

A base layer (it imports nothing from hwcost) so that :class:`hwcost.requirements.Constraints`
can default its staff costs without importing :mod:`hwcost.economics`, which re-exports
everything here.
"""

from __future__ import annotations

import math

import numpy as np

from .errors import HwcostError

# Median annual wage of network and computer systems administrators in the United States,
# May 2024 (BLS Occupational Outlook Handbook, "Network and Computer Systems Administrators",
# Pay: https://www.bls.gov/ooh/computer-and-information-technology/network-and-computer-systems-administrators.htm;
# the May 2022 edition gave $90,520).
ADMIN_WAGE_USD_PER_YEAR = 96_800.0
# Wages and salaries as a share of employers' total compensation cost (the rest is benefits);
# BLS Employer Costs for Employee Compensation, private industry: 69.5% in June 2015, 70.6% in
# June 2008 (https://www.bls.gov/news.release/archives/ecec_09092015.htm).
WAGE_SHARE_OF_COMPENSATION = 0.70
# Share of one administrator's time an owned inference deployment takes (OS, driver and
# engine updates, monitoring, hardware failures and replacements, on-call): about four hours
# a week. An assumption, not a measurement; the source article calls the operational burden
# of self-hosting "significant" without a figure beyond "$500/month operating" per
# H100-equivalent (FAQ).
SELF_HOSTED_STAFF_FRACTION = 0.10
# Share for running the serving stack on rented GPUs (engine upgrades, monitoring, on-call;
# no hardware): half the self-hosted share. Also an assumption.
CLOUD_STAFF_FRACTION = 0.05
# Staff for owned hardware by fleet size: a base share of one administrator for the
# deployment (monitoring, on-call, the serving stack) plus a share per box (OS and driver
# updates, hardware failures and RMAs). One box carries the two together,
# SELF_HOSTED_STAFF_FRACTION; twelve boxes 0.05 + 12 x 0.05 = 0.65 of an administrator.
# Assumptions, not measurements: both are parameters (economics.ownership_cost,
# requirements.Constraints).
STAFF_BASE_FRACTION = 0.05
STAFF_PER_BOX_FRACTION = SELF_HOSTED_STAFF_FRACTION - STAFF_BASE_FRACTION


def operations_usd_per_year(staff_fraction, *,
                            wage_usd_per_year: float = ADMIN_WAGE_USD_PER_YEAR,
                            wage_share: float = WAGE_SHARE_OF_COMPENSATION):
    """Yearly cost of a share of one systems administrator's time.

    ``staff_fraction * wage_usd_per_year / wage_share`` (the wage grossed up to the
    employer's full cost with benefits).

    Parameters
    ----------
    staff_fraction : float or array_like
        Share of one full-time administrator (0.1 = about four hours a week). [1]
    wage_usd_per_year : float
        Annual wage of that administrator (default: U.S. median, BLS). [USD/year]
    wage_share : float
        Wages as a share of the employer's total compensation cost (BLS ECEC). [1]

    Returns
    -------
    float or ndarray
        [USD/year]

    Examples
    --------
    ``operations_usd_per_year(0.1)`` = 0.1 x 96,800 / 0.70 = 13,829 USD/year.

    References
    ----------
    U.S. Bureau of Labor Statistics, Occupational Outlook Handbook, Network and Computer
    Systems Administrators (median pay, May 2024); Employer Costs for Employee Compensation
    news releases (wages about 70% of compensation in private industry).
    """
    f = np.asarray(staff_fraction, dtype=float)
    w = float(wage_usd_per_year)
    s = float(wage_share)
    if not np.all(np.isfinite(f)) or np.any(f < 0):
        raise HwcostError(f"staff_fraction must be numbers >= 0, got {staff_fraction!r}")
    if not math.isfinite(w) or w < 0:
        raise HwcostError(f"wage_usd_per_year must be a number >= 0, got {wage_usd_per_year!r}")
    if not 0 < s <= 1:
        raise HwcostError(f"wage_share must be in (0, 1], got {wage_share!r}")
    out = f * w / s
    return float(out) if out.ndim == 0 else out
