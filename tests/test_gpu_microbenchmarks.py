"""data/gpu_microbenchmarks.csv: published achievable bandwidth and GEMM rates, checked
against the GPU catalog and against physical limits."""

import datetime as dt
import re
from pathlib import Path

import pandas as pd
import pytest

DATA = Path(__file__).resolve().parents[1] / "data"
COLUMNS = ["gpu_id", "quantity", "measured_value", "unit", "datasheet_value",
           "fraction_of_datasheet", "method", "precision", "source", "as_of", "notes"]
UNIT = {"memory_bandwidth": "GB/s", "gemm": "TFLOP/s"}
# Open lower bound, closed upper bound, of the plausible fraction of the datasheet value.
FRACTION_RANGE = {"memory_bandwidth": (0.3, 1.0), "gemm": (0.2, 1.05)}


@pytest.fixture(scope="module")
def table():
    return pd.read_csv(DATA / "gpu_microbenchmarks.csv", keep_default_na=False)


@pytest.fixture(scope="module")
def gpus():
    return pd.read_csv(DATA / "gpus.csv", keep_default_na=False).set_index("id")


def _datasheet(gpus, row):
    """The catalog value a row's fraction is taken against [GB/s or TFLOP/s]."""
    if row.quantity == "memory_bandwidth":
        return float(gpus.at[row.gpu_id, "mem_bw_gbps"])
    return float(gpus.at[row.gpu_id, f"{row.precision}_tflops"])


def test_columns_and_quantities(table):
    assert list(table.columns) == COLUMNS
    assert set(table["quantity"]) == {"memory_bandwidth", "gemm"}
    assert (table["unit"] == table["quantity"].map(UNIT)).all()


def test_every_gpu_is_in_the_catalog(table, gpus):
    unknown = set(table["gpu_id"]) - set(gpus.index)
    assert not unknown, f"gpu_id not in data/gpus.csv: {sorted(unknown)}"


def test_every_row_has_a_source_and_an_iso_date(table):
    assert table["source"].map(lambda s: bool(re.search(r"https?://\S+", s))).all()
    dates = table["as_of"].map(dt.date.fromisoformat)  # raises on a non-ISO date
    assert (dates <= dt.date.today()).all()
    assert (dates >= dt.date(2020, 1, 1)).all()


def test_precision_is_given_for_gemm_only(table):
    gemm = table["quantity"] == "gemm"
    assert set(table.loc[gemm, "precision"]) <= {"bf16", "fp8"}
    assert (table.loc[~gemm, "precision"] == "").all()


def test_datasheet_value_is_the_catalog_value(table, gpus):
    for row in table.itertuples():
        if "variant" in row.notes.lower():
            continue
        assert row.datasheet_value == pytest.approx(_datasheet(gpus, row), abs=1e-6), row


def test_fraction_is_measured_over_datasheet(table):
    fraction = table["measured_value"] / table["datasheet_value"]
    assert (fraction - table["fraction_of_datasheet"]).abs().max() < 1e-3


@pytest.mark.parametrize("quantity", sorted(FRACTION_RANGE))
def test_fractions_are_physically_plausible(table, quantity):
    low, high = FRACTION_RANGE[quantity]
    f = table.loc[table["quantity"] == quantity, "fraction_of_datasheet"]
    assert len(f) > 0
    assert ((f > low) & (f <= high)).all(), f[(f <= low) | (f > high)]


def test_known_published_figures(table):
    # stas00/ml-engineering MAMF table: H100 SXM BF16 794.5 of 989 TFLOP/s (80.3% there).
    row = table[(table["gpu_id"] == "h100-sxm") & (table["measured_value"] == 794.5)]
    assert len(row) == 1
    assert row["fraction_of_datasheet"].item() == pytest.approx(794.5 / 989.4, abs=1e-4)
    # RRZE-HPC gpu-benches gpu-stream read kernel on MI300X: 4199 of 5300 GB/s.
    row = table[(table["gpu_id"] == "mi300x") & (table["measured_value"] == 4199)]
    assert row["fraction_of_datasheet"].tolist() == [0.7923]
