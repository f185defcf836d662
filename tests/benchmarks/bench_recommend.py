"""Wall time of ``recommend.rank`` over the full catalog for one workload (target < 2 s).

Every GPU x precision x GPUs per replica (1, 2, 4, 8) configuration, every cloud offer,
self-hosted hardware and the hosted APIs, with the serving simulator checking the leading
configurations. Run: ``python tests/benchmarks/bench_recommend.py``.
"""

from __future__ import annotations

import time
import warnings

from hwcost import catalog, recommend
from hwcost.workload import BUSINESS_HOURS_PROFILE, SLO, Workload

TARGET_S = 2.0


def main() -> int:
    warnings.simplefilter("ignore")
    catalog.gpus(), catalog.llms(), catalog.cloud_prices(), catalog.api_prices()  # load once
    cases = {
        "article scenario 2 (70B, 2,000/day)": (
            Workload("llama-3.1-70b", 2000, 500, 200),
            recommend.Constraints(slo=SLO(ttft_s=1.0, tpot_s=0.1))),
        "busy chat (8B, 200,000/day, 99.9%)": (
            Workload("llama-3.1-8b", 200_000, 800, 300, daily_profile=BUSINESS_HOURS_PROFILE),
            recommend.Constraints(slo=SLO(ttft_s=0.5, tpot_s=0.05), availability=0.999)),
    }
    worst = 0.0
    for name, (workload, constraints) in cases.items():
        recommend._STEP_CACHE.clear()
        start = time.perf_counter()
        table = recommend.rank(workload, constraints)
        elapsed = time.perf_counter() - start
        worst = max(worst, elapsed)
        simulated = int((table["latency_source"] == "simulated").sum())
        print(f"recommend.rank, {name}: {elapsed:.2f} s for {len(table)} options "
              f"({int(table['feasible'].sum())} feasible, {simulated} rows simulated)")
    print(f"slowest: {worst:.2f} s (target < {TARGET_S:.0f} s): {'OK' if worst < TARGET_S else 'SLOW'}")
    return 0 if worst < TARGET_S else 1


if __name__ == "__main__":
    raise SystemExit(main())
