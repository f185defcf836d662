"""Batch limits of one replica: the most sequences memory holds, and the most that meet a latency target.

One function per question, used by ``matching``, ``optimization``, ``scaling`` and the
notebooks alike.
"""

from __future__ import annotations

import math

import numpy as np

from hwcost import catalog

from ..errors import HwcostError
from .api import step_times, sweep


def max_batch_by_memory(model, gpu, *, n_gpus: int = 1, precision: str = "bf16",
                        input_tokens: int = 512, output_tokens: int = 128, engine=None,
                        flash_attention: bool = True, limit: int = 1 << 22) -> int:
    """Most sequences of ``input_tokens + output_tokens`` one replica holds in memory.

    The engine's default cap on concurrent sequences is ignored (it is a setting, see
    :func:`hwcost.perf.estimate`); the answer is where ``perf.estimate(...).fits`` turns
    False. 0 when not even one sequence fits (or the lengths exceed the context window).

    Returns
    -------
    int
        [sequences]
    """
    model, gpu = catalog.llm(model), catalog.gpu(gpu)

    def fits(batches):
        df = sweep(model, gpu, precisions=precision, n_gpus=n_gpus,
                   batch_sizes=[int(x) for x in batches], input_tokens=input_tokens,
                   output_tokens=output_tokens, engine=engine, flash_attention=flash_attention)
        return df["fits"].to_numpy()

    powers = [1 << k for k in range(int(math.log2(limit)) + 1)]
    ok = fits(powers)
    if not ok[0]:
        return 0
    if ok.all():
        return int(powers[-1])
    k = int(np.argmin(ok))  # first power that does not fit
    lo, hi = powers[k - 1], powers[k]
    while hi - lo > 1:
        cand = np.unique(np.linspace(lo, hi, num=min(hi - lo + 1, 257)).astype(int))
        good = cand[fits(cand)]
        lo = int(good.max())
        hi = int(cand[cand > lo].min())
    return lo


def ttft_joining_seconds(model, gpu, batch, *, n_gpus=1, precision="bf16", input_tokens=512,
                         output_tokens=128, engine=None):
    """Time to first token of one request joining ``batch - 1`` running sequences [s].

    One continuous-batching iteration runs the newcomer's whole prompt together with one
    decode token of each running sequence (weights read once); that pass gives the
    newcomer's first token, as :func:`hwcost.perf.estimate` counts it. The running
    sequences sit at the mean context ``input_tokens + output_tokens / 2``.
    """
    st = step_times(model, gpu, n_gpus=n_gpus, precision=precision, engine=engine)
    b = np.asarray(batch, dtype=float)
    ctx = input_tokens + output_tokens / 2.0
    running = b - 1.0
    return np.asarray(st.iteration_seconds(float(input_tokens), running, running * ctx))


def largest_batch_meeting(model, gpu, *, ttft_target_s: float | None = None,
                          tpot_target_s: float | None = None, n_gpus: int = 1,
                          precision: str = "bf16", input_tokens: int = 512,
                          output_tokens: int = 128, engine=None, flash_attention: bool = True,
                          arrival: str = "together") -> int:
    """Largest batch that fits memory with ``ttft_s <= ttft_target_s`` and ``tpot_s <= tpot_target_s``.

    The one answer to "how many sequences can one replica run within a latency target":
    ``optimization.operating_batch`` and ``matching.largest_batch_meeting`` are this function.
    Memory and the targets decide; the engine's default cap on concurrent sequences does not
    (it is a setting, like vLLM's ``max_num_seqs``; see :func:`max_batch_by_memory`). Both
    times grow with the batch, so every smaller batch meets the targets too. A target of
    None is not checked; with no target the answer is :func:`max_batch_by_memory`.

    Parameters
    ----------
    model, gpu, n_gpus, precision, input_tokens, output_tokens, engine, flash_attention
        As for :func:`hwcost.perf.estimate`.
    ttft_target_s, tpot_target_s : float, optional
        Latency targets. [s]
    arrival : {"together", "joining"}
        ``together``: the time to first token of a batch whose prompts arrive at once
        (:func:`hwcost.perf.estimate`, the conservative case); ``joining``: that of one
        request joining ``batch - 1`` running sequences (``ttft_joining_s`` of
        :func:`batch_curve`, steady state under continuous batching).

    Returns
    -------
    int
        [sequences]; 0 when even batch 1 misses a target or does not fit.
    """
    if arrival not in ("together", "joining"):
        raise HwcostError(f"arrival must be 'together' or 'joining', got {arrival!r}")
    for name, v in (("ttft_target_s", ttft_target_s), ("tpot_target_s", tpot_target_s)):
        if v is not None and (not math.isfinite(float(v)) or float(v) <= 0):
            raise HwcostError(f"{name} must be a positive number of seconds or None, got {v!r}")
    model, gpu = catalog.llm(model), catalog.gpu(gpu)
    bmax = max_batch_by_memory(model, gpu, n_gpus=n_gpus, precision=precision,
                               input_tokens=input_tokens, output_tokens=output_tokens, engine=engine,
                               flash_attention=flash_attention)
    if bmax < 1:
        return 0
    if ttft_target_s is None and tpot_target_s is None:
        return bmax
    df = sweep(model, gpu, precisions=precision, n_gpus=n_gpus,
               batch_sizes=list(range(1, bmax + 1)), input_tokens=input_tokens,
               output_tokens=output_tokens, engine=engine, flash_attention=flash_attention)
    ok = df["fits"].to_numpy().copy()
    if ttft_target_s is not None:
        ttft = df["ttft_s"].to_numpy() if arrival == "together" else ttft_joining_seconds(
            model, gpu, df["batch_size"].to_numpy(), n_gpus=n_gpus, precision=precision,
            input_tokens=input_tokens, output_tokens=output_tokens, engine=engine)
        ok &= ttft <= float(ttft_target_s)
    if tpot_target_s is not None:
        ok &= (df["tpot_s"] <= float(tpot_target_s)).to_numpy()
    if not ok[0]:
        return 0
    # First failure ends the run (times grow with batch; guard against ties at the edge).
    bad = np.nonzero(~ok)[0]
    return int(df["batch_size"].iloc[bad[0] - 1]) if bad.size else int(df["batch_size"].iloc[-1])
