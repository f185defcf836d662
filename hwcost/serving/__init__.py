"""Latency under load and capacity planning: a discrete-event simulator of LLM serving.

The subpackage: :mod:`~hwcost.serving.arrivals` (request streams), :mod:`~hwcost.serving.engine`
(the event loop), :mod:`~hwcost.serving.simulator` (``simulate``), :mod:`~hwcost.serving.capacity`
(replicas for a target, largest sustainable rate) and :mod:`~hwcost.serving.queueing` (the
analytic screen that sizes every configuration before simulation).

One replica (one model instance on ``n_gpus`` GPUs) serves a stream of requests. Its step
times come from :mod:`hwcost.perf` (``perf.step_times``): a prefill pass costs
``prefill_seconds(prompt tokens)``, a decode iteration ``decode_step_seconds(batch,
total context)``, a mixed iteration ``iteration_seconds(prompt tokens, batch, context)``.
Three schedulers:

- ``"static"``: wait until ``max_batch_size`` requests queue or the oldest has waited
  ``static_timeout_s``; pad prompts to the longest, decode until the longest output is done;
- ``"dynamic"``: start as soon as the server is free with what is queued (after at most
  ``max_queue_delay_s``), batch size capped so the slowest step meets ``tpot_target_s``:
  the batch adapts to queue depth and a latency target; still runs to completion;
- ``"continuous"``: iteration-level scheduling (Orca, vLLM): finished sequences leave and
  queued ones join at every iteration, admission limited by the KV cache
  (``kv_capacity_tokens``) and ``max_batch_size``, preemption (recompute) of the newest
  request when the cache fills. Without chunked prefill the prompts of newly admitted
  requests get a prefill-only pass while the running batch waits (vLLM's original
  scheduler); with ``chunked_prefill_tokens`` every iteration carries the running batch's
  decode step plus up to that many prompt tokens (stall-free batching, Sarathi-Serve).

Timing conventions follow ``perf.estimate``: a request's first token comes out of the pass
that ends its prefill (``ttft_s`` = queueing + prefill); ``tpot_s`` is the mean time between
its later tokens, one decode step each (the step a second token would take when it generates
a single token); ``e2e_s`` runs from arrival to its last token. With one request
at a time the simulator reproduces ``perf.estimate(batch_size=1)`` exactly.

Speed: the loop advances by scheduler events (arrivals that can be admitted,
completions, a full KV cache), not by token: a stretch of decode-only iterations is summed
in closed form from a piecewise-affine fit of ``decode_step_seconds`` in the context,
verified exact to 1e-9 at start-up. 100,000 requests take about a second on one core
(``tests/benchmarks/bench_serving.py``), with chunked prefill too: a mixed iteration is one
call of ``StepTimes.iteration_seconds`` on plain numbers (a few microseconds).

Speculative decoding (a draft model or multi-token prediction, with an acceptance rate):
``simulate(..., speculative=SpeculativeDecoding(...))``, see :mod:`~hwcost.serving.speculative`.

Latency at a load as benchmark tools measure it: :func:`at_concurrency` (closed loop, N
requests in flight) and :func:`at_rate` (Poisson arrivals at R per second), in
:mod:`~hwcost.serving.load`.

Several replicas: arrivals are dealt round-robin (a stateless load balancer), so the
replicas are independent. Join-shortest-queue balancing does somewhat better at high load,
so replica counts from round-robin are on the safe side.

References
----------
G.-I. Yu et al., "Orca: A Distributed Serving System for Transformer-Based Generative
Models", OSDI 2022 (iteration-level scheduling).
W. Kwon et al., "Efficient Memory Management for Large Language Model Serving with
PagedAttention", SOSP 2023 (KV-cache admission, preemption by recomputation).
A. Agrawal et al., "Taming Throughput-Latency Tradeoff in LLM Inference with
Sarathi-Serve", OSDI 2024 (chunked prefill).
L. Kleinrock, "Queueing Systems, Volume 1: Theory", Wiley 1975 (M/G/1, Pollaczek-Khinchine).
"""

from .arrivals import Arrivals, Lengths
from .capacity import CapacityPlan, RateLimit, max_rate, replicas_needed
from .load import LoadPoint, at_concurrency, at_rate, quiet_against_served
from .simulator import (
    DEFAULT_N_GPUS,
    MAX_UTILIZATION,
    METRICS,
    PERCENTILES,
    SCHEDULERS,
    SimResult,
    simulate,
    unloaded_latency,
)
from .speculative import SpeculativeDecoding

__all__ = [
    "Arrivals", "Lengths", "SimResult", "simulate", "unloaded_latency", "CapacityPlan",
    "replicas_needed", "RateLimit", "max_rate", "SCHEDULERS", "METRICS", "PERCENTILES",
    "DEFAULT_N_GPUS", "MAX_UTILIZATION", "LoadPoint", "at_concurrency", "at_rate",
    "quiet_against_served",
    "SpeculativeDecoding",
]
