"""Speed of fitting the performance model: ``perf.calibrate`` and ``perf.fit_overlay``.

Run ``python tests/benchmarks/bench_calibration.py``. Times one fit of the bundled
calibration to ``data/benchmarks.csv`` (``loso=False``: the cross-validation refits it once
per source, GPU and engine and is not part of a fit) and one overlay fit to the example runs
in ``data/calibration_runs_example.csv``; prints the best of three and whether each meets the
target of < 10 s. Nothing is written. numpy is asked to use one thread.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from hwcost import catalog, perf  # noqa: E402

TARGET_S = 10.0


def best_of(fn, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> bool:
    table = catalog.benchmarks()
    example = catalog.DATA_DIR / "calibration_runs_example.csv"
    fit_s = best_of(lambda: perf.calibrate(loso=False))
    overlay_s = best_of(lambda: perf.fit_overlay(example))
    print(f"perf.calibrate, one fit to {len(table)} benchmark rows: {fit_s:.2f} s "
          f"(best of 3); target < {TARGET_S:g} s: {'met' if fit_s < TARGET_S else 'MISSED'}")
    print(f"perf.fit_overlay, {example.name}: {overlay_s:.2f} s (best of 3); target < "
          f"{TARGET_S:g} s: {'met' if overlay_s < TARGET_S else 'MISSED'}")
    return fit_s < TARGET_S and overlay_s < TARGET_S


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
