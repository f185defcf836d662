"""hwcost: what hardware to serve an LLM on, and what it really costs.

Modules (data flows down this list):

- ``catalog``: sourced tables in ``data/`` (GPUs, models, prices, energy, benchmarks)
- ``workload``: traffic, token lengths and latency targets
- ``perf``: memory fit, prefill and decode step times, throughput (first principles)
- ``serving``: latency under load, capacity planning (simulation)
- ``economics``: cloud, self-hosted and API cost per token, TCO, uncertainty
- ``seed``: the source article's figures, recomputed and audited
- ``recommend``: the selection flowchart and a ranked recommendation
- ``charts``, ``notebook``, ``cli``: presentation

Canonical quantity names (units in the suffix) are listed in ``hwcost.glossary``.
"""

__version__ = "0.1.0"
