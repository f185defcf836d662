"""Speed of ``hwcost.perf.sweep``: configurations evaluated per second on one core.

Run ``python tests/benchmarks/bench_perf_sweep.py`` (``make bench``). It sweeps a grid of
catalog models x GPUs x precisions x GPU counts x batch sizes x prompt and output lengths,
builds the result DataFrame, and prints the best of a few runs. Target: >= 1,000,000
configurations per second. numpy is asked to use one thread (BLAS is not involved anyway).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from hwcost import catalog, perf  # noqa: E402

TARGET = 1_000_000


def grid():
    return dict(
        models=catalog.llm_ids()[:8],
        gpus=catalog.gpu_ids()[:10],
        precisions=("bf16", "fp8", "int8", "int4"),
        n_gpus=(1, 2, 4, 8),
        batch_sizes=(1, 2, 4, 8, 16, 32, 64, 128, 256, "max"),
        input_tokens=(128, 512, 1024, 2048, 4096, 8192),
        output_tokens=(64, 128, 256, 512, 1024),
    )


def main(repeats: int = 3) -> float:
    kwargs = grid()
    warnings.simplefilter("ignore")
    perf.sweep(**{**kwargs, "models": kwargs["models"][:1]})  # warm caches
    best = float("inf")
    rows = 0
    for _ in range(repeats):
        t0 = time.perf_counter()
        df = perf.sweep(**kwargs)
        best = min(best, time.perf_counter() - t0)
        rows = len(df)
    rate = rows / best
    fits = float(df["fits"].mean())
    print(f"perf.sweep: {rows:,} configurations in {best:.3f} s = {rate:,.0f} configurations/s "
          f"on one core ({fits:.0%} fit); target {TARGET:,}/s: {'met' if rate >= TARGET else 'NOT met'}")
    return rate


if __name__ == "__main__":
    main()
