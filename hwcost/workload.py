"""Traffic volume, daily shape, token lengths and latency targets.

Kept for existing imports: the definitions live in :mod:`hwcost.requirements`, with the
constraints and the case builder.
"""

from .requirements import (  # noqa: F401
    BUSINESS_HOURS_PROFILE,
    FLAT_PROFILE,
    HOURS_PER_DAY,
    SECONDS_PER_DAY,
    SLO,
    Workload,
)
