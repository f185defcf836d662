"""Latency at a given load: "TPOT and TTFT at concurrency N" and "at request rate R".

Benchmark tools measure a serving endpoint in two ways, and each has one function here, both
through the simulator (:func:`hwcost.serving.simulate`), so that arriving prompts' prefill
interleaves with the running batch's decode steps (or is chunked into them) as it does in the
engine; a quiet batch's decode step (``perf.estimate``) leaves that out and under-predicts
TPOT under load.

- :func:`at_concurrency`: a closed loop of ``concurrency`` clients, each sending its next
  request when the previous one finishes (``vllm bench serve --max-concurrency N
  --request-rate inf``, GuideLLM ``concurrent``). Simulated as every request queued at time 0
  with the replica admitting at most ``concurrency`` at a time: a request is admitted exactly
  when another finishes. TTFT is counted from admission (when a client would have sent it).
- :func:`at_rate`: an open loop of Poisson arrivals at ``rate_per_s`` (``--request-rate R``,
  GuideLLM ``poisson``); TTFT includes any queueing.

Both return a :class:`LoadPoint` of medians (the figures benchmark reports lead with) and
95th percentiles over the steady part of the run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import HwcostError
from .arrivals import Arrivals
from .simulator import as_step_times, positive_int, simulate

__all__ = ["LoadPoint", "at_concurrency", "at_rate", "quiet_against_served"]

CLOSED_LOOP_ROUNDS = 12
"""Requests per client in :func:`at_concurrency`; the first and last round are left out."""


@dataclass(frozen=True)
class LoadPoint:
    """Latency and throughput of one replica at one load.

    Attributes
    ----------
    concurrency : float
        Requests in flight on average (the set concurrency of a closed loop; Little's law,
        rate x mean end-to-end latency, for an open loop). [requests]
    requests_per_s : float
        Completed requests per second in the steady part of the run. [1/s]
    ttft_s, ttft_p95_s : float
        Median and 95th percentile time to first token. [s]
    tpot_s, tpot_p95_s : float
        Median and 95th percentile time per output token after the first. [s]
    output_tokens_per_s : float
        Generated tokens per second of the replica, steady part. [1/s]
    chunked_prefill_tokens : int or None
        Prompt tokens per iteration the run used (None: whole-prompt prefill passes).
    """

    concurrency: float
    requests_per_s: float
    ttft_s: float
    ttft_p95_s: float
    tpot_s: float
    tpot_p95_s: float
    output_tokens_per_s: float
    chunked_prefill_tokens: int | None


def _point(req, conc, span, chunk) -> LoadPoint:
    ttft = req["ttft_s"].to_numpy()
    tpot = req["tpot_s"].to_numpy()
    tokens = float(req["output_tokens"].sum())
    n = len(req)
    return LoadPoint(
        concurrency=float(conc), requests_per_s=n / span if span > 0 else float("nan"),
        ttft_s=float(np.median(ttft)), ttft_p95_s=float(np.percentile(ttft, 95)),
        tpot_s=float(np.median(tpot)), tpot_p95_s=float(np.percentile(tpot, 95)),
        output_tokens_per_s=tokens / span if span > 0 else float("nan"),
        chunked_prefill_tokens=chunk)


def at_concurrency(system, concurrency: int, input_tokens: int, output_tokens: int, *,
                   gpu=None, n_gpus: int = 1, precision: str = "bf16", kv_precision=None,
                   engine=None, chunked_prefill_tokens: int | None = None,
                   rounds: int = CLOSED_LOOP_ROUNDS, speculative=None,
                   layout: str | None = None) -> LoadPoint:
    """TTFT, TPOT and throughput with ``concurrency`` requests always in flight.

    Parameters
    ----------
    system : StepTimes or model id
        As :func:`hwcost.serving.simulate` (with ``gpu``, ``n_gpus``, ... for a model id).
    concurrency : int
        Closed-loop clients (requests in flight). [requests]
    input_tokens, output_tokens : int
        Every request's prompt and generated tokens. [tokens]
    chunked_prefill_tokens : int, optional
        Prompt tokens per iteration (vLLM V1 and SGLang chunk by default; None: a prompt's
        prefill runs as its own pass while the batch waits).
    rounds : int
        Requests per client (>= 3); the first and last round (ramp-up, drain) are left out.
    speculative : SpeculativeDecoding, optional
        Decode speculatively (see :mod:`hwcost.serving.speculative`).
    layout : str, optional
        Parallel layout of a multi-GPU replica of a model id (``tp``, ``ep``,
        ``dp-attention+ep``; see :data:`hwcost.perf.LAYOUTS`).

    Returns
    -------
    LoadPoint
        Medians over the steady rounds; TTFT counted from the moment a client sends.
    """
    st = as_step_times(system, gpu, n_gpus=n_gpus, precision=precision,
                       kv_precision=kv_precision, engine=engine, layout=layout)
    c = positive_int("concurrency", concurrency)
    k = positive_int("rounds", rounds)
    if k < 3:
        raise HwcostError(f"rounds must be >= 3 (the first and last are left out), got {rounds!r}")
    i = positive_int("input_tokens", input_tokens)
    o = positive_int("output_tokens", output_tokens)
    n = c * k
    outputs = np.full(n, o)
    # Start in steady state: in a closed loop of equal requests the ones in flight are spread
    # evenly over their lifetimes, so the first round's requests stop after 1/c, 2/c, ... of
    # the output (left out of the figures). Started together, equal requests would stay in
    # lockstep (prefill waves), which jitter in real servers breaks up.
    outputs[:c] = np.maximum(1, np.round(o * np.arange(1, c + 1) / c)).astype(int)
    arrivals = Arrivals(np.zeros(n), np.full(n, i), outputs)
    res = simulate(st, arrivals, max_batch_size=c, chunked_prefill_tokens=chunked_prefill_tokens,
                   speculative=speculative)
    req = res.requests.sort_values("admitted_s", kind="stable").reset_index(drop=True)
    req = req.assign(ttft_s=req["first_token_s"] - req["admitted_s"])
    steady = req.iloc[c:n - c]
    # Completion rate: in a closed loop every admission follows a completion, so the
    # admissions after the first steady one, over the time they span, count completions.
    t0, t1 = float(steady["admitted_s"].min()), float(req["admitted_s"].max())
    span = t1 - t0
    point = _point(steady, c, span, chunked_prefill_tokens)
    if not span > 0:
        return point
    rps = (n - c - 1) / span
    return LoadPoint(**{**point.__dict__, "requests_per_s": rps,
                        "output_tokens_per_s": rps * o})


def at_rate(system, rate_per_s: float, input_tokens: int, output_tokens: int, *, gpu=None,
            n_gpus: int = 1, precision: str = "bf16", kv_precision=None, engine=None,
            chunked_prefill_tokens: int | None = None, n_requests: int = 2000,
            seed: int = 0, speculative=None, layout: str | None = None) -> LoadPoint:
    """TTFT, TPOT and throughput of Poisson arrivals at ``rate_per_s`` requests per second.

    Parameters are as :func:`at_concurrency` (``speculative`` included), with ``rate_per_s``
    [1/s] the offered load,
    ``n_requests`` the run's length and ``seed`` its random stream. The first 10 % of
    requests (start-up) are left out. Above the replica's capacity the queue grows without
    bound and TTFT with the run's length: compare with ``serving.max_rate``.
    """
    st = as_step_times(system, gpu, n_gpus=n_gpus, precision=precision,
                       kv_precision=kv_precision, engine=engine, layout=layout)
    i = positive_int("input_tokens", input_tokens)
    o = positive_int("output_tokens", output_tokens)
    arrivals = Arrivals.poisson(rate_per_s, positive_int("n_requests", n_requests), seed=seed,
                                input_tokens=i, output_tokens=o)
    res = simulate(st, arrivals, chunked_prefill_tokens=chunked_prefill_tokens,
                   speculative=speculative)
    req = res.requests
    steady = req.iloc[len(req) // 10:]
    steady = steady[~steady["rejected"]]
    span = float(steady["finish_s"].max() - steady["arrival_s"].min())
    rps = len(steady) / span if span > 0 else float("nan")
    conc = rps * float(steady["e2e_s"].mean())  # Little's law
    return _point(steady, conc, span, chunked_prefill_tokens)


def quiet_against_served(model, gpu, *, concurrencies=(1, 4, 16, 64), input_tokens: int = 1024,
                         output_tokens: int = 128, engine=None,
                         chunked_prefill_tokens: int = 2048, n_gpus: int | None = None) -> pd.DataFrame:
    """A quiet batch's step (``perf.estimate``) against the same concurrency served.

    For each concurrency that fits: the static estimate (all prompts prefilled together, then
    decode steps of the full batch), and :func:`at_concurrency` with each prompt's prefill run
    as its own pass and chunked into the decode steps.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``concurrency``: ``tpot_ms_static``, ``tpot_ms_whole_prefill``,
        ``tpot_ms_chunked_<chunked_prefill_tokens>``, ``ttft_ms_static`` and
        ``ttft_ms_served`` (chunked) [ms], ``tokens_per_s_static`` and
        ``tokens_per_s_served`` (chunked) [tokens/s]. ``attrs["n_gpus"]`` is the replica's
        GPU count: ``n_gpus``, or (None) the fewest, up to 8, that hold one request; no rows
        when none does.
    """
    from .. import perf  # imported here: perf is the layer above

    chunk = positive_int("chunked_prefill_tokens", chunked_prefill_tokens)
    if n_gpus is None:
        n_gpus = perf.min_gpus_to_fit(model, gpu, engine=engine, input_tokens=input_tokens,
                                      output_tokens=output_tokens, max_gpus=8)
    rows = []
    if n_gpus is not None:
        steps = perf.step_times(model, gpu, n_gpus=n_gpus, engine=engine)
    for c in concurrencies if n_gpus is not None else ():
        quiet = perf.estimate(model, gpu, n_gpus=n_gpus, engine=engine, batch_size=c,
                              input_tokens=input_tokens, output_tokens=output_tokens)
        if not quiet.fits:
            continue
        whole = at_concurrency(steps, c, input_tokens, output_tokens)
        chunked = at_concurrency(steps, c, input_tokens, output_tokens,
                                 chunked_prefill_tokens=chunk)
        rows.append({"concurrency": c, "tpot_ms_static": quiet.tpot_s * 1e3,
                     "tpot_ms_whole_prefill": whole.tpot_s * 1e3,
                     f"tpot_ms_chunked_{chunk}": chunked.tpot_s * 1e3,
                     "ttft_ms_static": quiet.ttft_s * 1e3, "ttft_ms_served": chunked.ttft_s * 1e3,
                     "tokens_per_s_static": quiet.output_tokens_per_s,
                     "tokens_per_s_served": chunked.output_tokens_per_s})
    columns = ["concurrency", "tpot_ms_static", "tpot_ms_whole_prefill", f"tpot_ms_chunked_{chunk}",
               "ttft_ms_static", "ttft_ms_served", "tokens_per_s_static", "tokens_per_s_served"]
    out = pd.DataFrame(rows, columns=columns).set_index("concurrency")
    out.attrs["n_gpus"] = n_gpus
    return out
