"""The analytic queueing screen: latency percentiles of a continuous-batching replica at every
load, in closed form, so that thousands of configurations can be sized before the simulator
checks the leading ones.

A continuous-batching replica holding ``b`` sequences on average serves

    lambda(b) = b / (output_tokens * tpot(b) + b * p)            [requests/s]

(each request costs ``output_tokens`` decode iterations shared by ``b`` sequences and its own
prefill ``p``); prefills take a share ``rho = lambda p`` of the time and stretch the decode
steps to ``tpot(b) / (1 - rho)``. At percentile ``q`` the screen takes the q-quantile of the
batch (Poisson, mean ``b``), the q-quantile of prefills interleaved during one request's decode
(Poisson, mean ``lambda (output_tokens - 1) tpot``), and the prefill queue's wait
``p / (2 (1 - rho)) ln(rho / (1 - q))`` (exponential tail of an M/D/1 queue, Kingman's
heavy-traffic approximation).

References
----------
L. Kleinrock, "Queueing Systems, Volume 1: Theory", Wiley 1975 (M/D/1). J. F. C. Kingman, "The
single server queue in heavy traffic", Proc. Cambridge Phil. Soc. 57, 1961.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

__all__ = ["normal_quantile", "poisson_quantile", "ScreenLatency", "screen_latency"]


def normal_quantile(q: float) -> float:
    """The standard normal's q-quantile (``q`` clipped to (1e-9, 1 - 1e-9))."""
    return NormalDist().inv_cdf(min(max(q, 1e-9), 1 - 1e-9))


def poisson_quantile(q: float, mu) -> np.ndarray:
    """Smallest ``k`` with ``P(Poisson(mu) <= k) >= q``, vectorized over ``mu``.

    Exact summation up to a mean of 400, the normal approximation with a continuity
    correction above.
    """
    mu = np.asarray(mu, dtype=float)
    out = np.zeros(mu.shape)
    small = mu <= 400
    if np.any(small):
        m = mu[small]
        kmax = int(np.ceil(m.max() + 12 * np.sqrt(m.max() + 1) + 20)) if m.size else 0
        pmf = np.exp(-m)
        cdf = pmf.copy()
        k_at = np.where(cdf >= q, 0.0, np.nan)
        for k in range(1, kmax + 1):
            pmf = pmf * m / k
            cdf = cdf + pmf
            k_at = np.where(np.isnan(k_at) & (cdf >= q), float(k), k_at)
        out[small] = np.where(np.isnan(k_at), kmax, k_at)
    if np.any(~small):
        m = mu[~small]
        out[~small] = np.ceil(m + normal_quantile(q) * np.sqrt(m) + 0.5)
    return out


@dataclass(frozen=True)
class ScreenLatency:
    """Arrays of shape (configurations, load levels) from :func:`screen_latency`.

    ``rate`` [requests/s], ``busy`` (prefill share of time, rho), ``batch_q`` (the q-quantile
    batch), ``wait_q`` [s] (prefill queue wait), ``ttft_q``, ``tpot_q``, ``e2e_q`` [s].
    """

    rate: np.ndarray
    busy: np.ndarray
    batch_q: np.ndarray
    wait_q: np.ndarray
    ttft_q: np.ndarray
    tpot_q: np.ndarray
    e2e_q: np.ndarray


def screen_latency(batch, tpot, tpot_grid, batch_grid, prefill_s, first_step_s, output_tokens: int,
                   q: float, fits) -> ScreenLatency:
    """Latency percentiles of each configuration at each mean batch (load level).

    Parameters
    ----------
    batch : ndarray (L,)
        Mean sequences in flight at each load level (fractions below one for light load).
    tpot : ndarray (C, L)
        Mean decode step at each level's batch [s].
    tpot_grid : ndarray (C, G)
        Mean decode step on ``batch_grid`` (NaN where it does not fit) [s], interpolated
        in log batch to the q-quantile batch.
    batch_grid : sequence (G,)
        Whole batch sizes of ``tpot_grid``.
    prefill_s, first_step_s : ndarray (C, 1)
        One prompt's prefill (which gives its first token) and any step before the first
        token beyond it (0 for the engines modelled) [s].
    output_tokens : int
        Generated tokens per request.
    q : float
        The percentile as a fraction, e.g. 0.95.
    fits : ndarray (C, L) of bool
        Levels the replica can hold; others are computed at zero load.

    Returns
    -------
    ScreenLatency
    """
    b_all = np.asarray(batch, dtype=float)
    tp = np.asarray(tpot, dtype=float)
    p1 = np.asarray(prefill_s, dtype=float)
    step1 = np.asarray(first_step_s, dtype=float)
    O = int(output_tokens)
    C = tp.shape[0]
    with np.errstate(invalid="ignore", divide="ignore"):
        lam = b_all / (max(O - 1, 0) * tp + b_all * p1)
        rho = lam * p1
        tau = tp / (1 - rho)
        b_q = poisson_quantile(q, np.where(fits, b_all, 0.0))
        logb = np.log(np.asarray(batch_grid, dtype=float))
        tp_q = np.empty_like(tp)
        for c in range(C):
            valid = np.isfinite(tpot_grid[c])
            if valid.sum() >= 2:
                tp_q[c] = np.interp(np.log(np.maximum(b_q[c], 1.0)), logb[valid], tpot_grid[c][valid])
            else:
                tp_q[c] = tp[c]
        n_int = poisson_quantile(q, np.where(fits, lam * max(O - 1, 0) * tau, 0.0))
        tpot_q = tp_q + n_int * p1 / max(O - 1, 1)
        wait_q = np.where(rho > 1 - q,
                          p1 / (2 * (1 - rho)) * np.log(np.maximum(rho, 1e-300) / (1 - q)), 0.0)
        ttft_q = p1 + step1 + tp + wait_q
        e2e_q = ttft_q + max(O - 1, 0) * tpot_q
    return ScreenLatency(lam, rho, b_q, wait_q, ttft_q, tpot_q, e2e_q)
