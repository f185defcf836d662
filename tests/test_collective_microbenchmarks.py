"""data/collective_microbenchmarks.csv: published all-reduce measurements per GPU system.

Every row must name a catalog GPU, carry a source and a publication date, use the unit of its
quantity, and be physically possible on the catalog's link bandwidth:

- ring, tree or mesh all-reduce moves 2(n-1)/n of the buffer over each GPU's links, and
  nccl-tests/rccl-tests define busbw = algbw x 2(n-1)/n, so busbw cannot exceed the
  per-direction link bandwidth (``interconnect_gbps / 2``);
- with NVLink SHARP (``algo=nvls``) the switch reduces, so a GPU sends its buffer once and
  receives the result once: algbw cannot exceed the per-direction link bandwidth, and busbw
  can reach 2(n-1)/n of it (published H100/H200 figures of ~480 GB/s on 450 GB/s links).
"""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import pytest

from hwcost import catalog

COLUMNS = ["gpu_id", "n_gpus", "collective", "library", "quantity", "measured_value", "unit",
           "message_bytes", "method", "source", "as_of", "notes"]
UNITS = {"bus_bandwidth": "GB/s", "latency": "us", "time": "us"}


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return pd.read_csv(catalog.DATA_DIR / "collective_microbenchmarks.csv", dtype=str,
                       keep_default_na=False)


@pytest.fixture(scope="module")
def link_gbps_per_direction() -> dict[str, float]:
    gpus = pd.read_csv(catalog.DATA_DIR / "gpus.csv", dtype=str, keep_default_na=False)
    return {row.id: float(row.interconnect_gbps) / 2 for row in gpus.itertuples()}


def _algorithm(method: str) -> str:
    found = re.search(r"algo=([a-z]+)", method)
    assert found, f"method {method!r} names no algo=..."
    return found.group(1)


def _bus_bandwidth_limit(row, link: float) -> float:
    n = int(row.n_gpus)
    return link * 2 * (n - 1) / n if _algorithm(row.method) == "nvls" else link


def test_columns_and_vocabulary(table):
    assert list(table.columns) == COLUMNS
    assert set(table.collective) == {"all_reduce"}
    assert set(table.library) <= {"nccl", "rccl", "custom", "hccl"}
    assert set(table.quantity) <= set(UNITS)
    assert {_algorithm(m) for m in table.method} <= {"default", "ring", "tree", "nvls", "oneshot"}


def test_every_gpu_is_in_the_catalog(table, link_gbps_per_direction):
    assert set(table.gpu_id) <= set(link_gbps_per_direction)


def test_every_row_has_a_source_and_an_iso_publication_date(table):
    for row in table.itertuples():
        assert "http" in row.source, row
        date = dt.date.fromisoformat(row.as_of)
        assert dt.date(2019, 1, 1) <= date <= dt.date.today(), row


def test_units_match_quantities(table):
    for row in table.itertuples():
        assert row.unit == UNITS[row.quantity], row


def test_values_gpu_counts_and_message_sizes(table):
    for row in table.itertuples():
        assert float(row.measured_value) > 0, row
        assert int(row.n_gpus) >= 2, row
        if row.message_bytes:
            assert int(row.message_bytes) >= 4, row
        else:  # only an unstated size may be left out, and the notes must say so
            assert "message size not stated" in row.notes, row


def test_small_messages_are_latency_and_decode_sizes_are_times(table):
    sized = table[table.message_bytes != ""]
    latency = sized[sized.quantity == "latency"].message_bytes.astype(int)
    assert latency.max() <= 65536
    bandwidth = sized[sized.quantity == "bus_bandwidth"].message_bytes.astype(int)
    assert bandwidth.min() >= 64 * 2**20


def test_bus_bandwidth_is_within_the_link_bandwidth(table, link_gbps_per_direction):
    rows = table[table.quantity == "bus_bandwidth"]
    for row in rows.itertuples():
        limit = _bus_bandwidth_limit(row, link_gbps_per_direction[row.gpu_id])
        assert float(row.measured_value) <= limit, (row.gpu_id, row.measured_value, limit)


def test_published_nvls_figures_exceed_the_link_rate_and_say_why(table, link_gbps_per_direction):
    # H100/H200 NVLS busbw ~480 GB/s on 450 GB/s links: allowed only because the switch
    # reduces, and the row's notes must explain it.
    over = [row for row in table[table.quantity == "bus_bandwidth"].itertuples()
            if float(row.measured_value) > link_gbps_per_direction[row.gpu_id]]
    assert {row.gpu_id for row in over} == {"h100-sxm", "h200-sxm"}
    for row in over:
        assert _algorithm(row.method) == "nvls" and "SHARP" in row.notes, row


def test_times_imply_a_possible_bus_bandwidth(table, link_gbps_per_direction):
    timed = table[(table.quantity != "bus_bandwidth") & (table.message_bytes != "")]
    for row in timed.itertuples():
        n = int(row.n_gpus)
        implied = 2 * (n - 1) / n * int(row.message_bytes) / (float(row.measured_value) * 1e3)
        limit = _bus_bandwidth_limit(row, link_gbps_per_direction[row.gpu_id])
        assert implied <= limit, (row.gpu_id, row.message_bytes, implied, limit)


def test_time_grows_with_message_size_from_64_kib(table):
    # Same system, library and method: from 64 KiB up a larger all-reduce never finishes
    # sooner. Below that, protocol switches break the order (MI300X eager: 8 B took 16.61 us,
    # 1 KiB 13.11 us), so small sizes are left out.
    timed = table[table.quantity.isin(["latency", "time"]) & (table.message_bytes != "")]
    timed = timed[timed.message_bytes.astype(int) >= 65536]
    for _, group in timed.groupby(["gpu_id", "n_gpus", "library", "method"]):
        ordered = group.assign(b=group.message_bytes.astype(int),
                               t=group.measured_value.astype(float)).sort_values("b")
        assert ordered.t.is_monotonic_increasing, ordered[["b", "t"]]


def test_mi300x_rccl_figures_from_the_amd_blog(table):
    # AMD ROCm blog (2025-03-02), rccl-tests on 8x MI300X: 318.98 GB/s busbw at 16 GiB,
    # 16.61 us at 8 B eager, 6.32 us at 32 B with graph launch.
    mi = table[table.gpu_id == "mi300x"]
    peak = mi[mi.quantity == "bus_bandwidth"].measured_value.astype(float).max()
    assert peak == pytest.approx(318.98)
    assert peak / 448 == pytest.approx(0.712, abs=0.001)  # well short of 7 x 64 GB/s
    small = mi[(mi.quantity == "latency")].measured_value.astype(float)
    assert small.min() == pytest.approx(6.32) and small.max() == pytest.approx(16.61)


def test_derived_times_follow_from_the_published_bus_bandwidth(table):
    # Azure ND H100 v5: busbw 43.70 GB/s at 1 MiB on 8 GPUs -> 1.75 x 1048576 B / 43.70 GB/s.
    row = table[(table.gpu_id == "h100-sxm") & (table.quantity == "time")
                & (table.message_bytes == "1048576")].iloc[0]
    assert float(row.measured_value) == pytest.approx(1.75 * 1048576 / 43.70e3, abs=0.01)
    assert "derived" in row.method
