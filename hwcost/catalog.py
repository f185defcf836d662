"""The sourced data catalog: GPUs, models, prices, energy and published benchmarks.

This is the only module that reads files in ``data/``. Every table is validated on load;
a bad value raises :class:`CatalogError` naming the file, the row (1-based line number in the
file, header = line 1), the column, the value and what would be accepted.

A user extends any table with a CSV of their own rows (same columns; optional columns may be
left out), either per call (``gpus(path="my_gpus.csv")``) or for the whole process with an
environment variable (``HWCOST_GPUS_CSV=my_gpus.csv``, names in :data:`ENV_VARS`). Its rows are
added to the bundled table, and a row with the key of a bundled row (``id``; ``gpu_id`` and
``condition`` for hardware prices) replaces it: one negotiated price is a one-row file. To use
only the user's rows, pass ``replace=True`` or set ``HWCOST_<TABLE>_REPLACE=1``
(:data:`REPLACE_ENV_VARS`). Every loaded table has an ``origin`` column (``bundled`` or
``user``).

Lookups (:func:`gpu`, :func:`llm`) are case-insensitive, accept the aliases listed in the
tables ("H100 SXM", "h100") and, for an unknown id, list the closest ids.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import datetime as _dt
import difflib
import functools
import io
import math
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Iterable

import pandas as pd

from .errors import CatalogError, HwcostError  # noqa: F401  (re-exported)

# The sourced tables are package data (hwcost/data, a link to the repository's data/ folder in a
# checkout), so an installed wheel finds them too.
DATA_DIR = Path(str(resources.files("hwcost").joinpath("data")))

#: Weight/KV precisions. ``fp4`` is a 4-bit floating-point format with block scales, the
#: tensor-core math of NVIDIA Blackwell (NVFP4: E2M1 values, one FP8 scale per 16) and AMD
#: CDNA 4 (OCP MXFP4: one 8-bit power-of-two scale per 32); it runs only on GPUs with an
#: ``fp4_tflops`` rate. ``int8``/``int4`` are weight-only integer formats.
PRECISIONS = ("fp16", "bf16", "fp8", "int8", "int4", "fp4")

# How a GPU is bought (data/purchase_units.csv, column sold_as): a single card, an NVIDIA
# HGX baseboard of 4 or 8 SXM modules, an AMD universal baseboard of 8 OAM modules, a whole
# NVL72 rack, or cards for a workstation/desktop box.
SOLD_AS = ("card", "workstation", "hgx-4", "hgx-8", "oam-ubb-8", "nvl72-rack")


# ----------------------------------------------------------------------------------------
# Column specifications
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Col:
    name: str
    kind: str  # "str", "slug", "float", "int", "date", "list", "choice", "bool"
    required: bool = True  # empty cell allowed when False
    low: float | None = None  # inclusive plausible bounds
    high: float | None = None
    choices: tuple[str, ...] = ()
    positive: bool = False  # strictly > 0

    def describe(self) -> str:
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        if self.kind in ("float", "int"):
            rng = []
            if self.positive:
                rng.append("> 0")
            if self.low is not None:
                rng.append(f">= {self.low:g}")
            if self.high is not None:
                rng.append(f"<= {self.high:g}")
            return ("an integer" if self.kind == "int" else "a number") + (
                " " + " and ".join(rng) if rng else ""
            )
        if self.kind == "date":
            return "a date YYYY-MM-DD not in the future"
        if self.kind == "slug":
            return "a lower-case slug (letters, digits, '.', '-')"
        return "a non-empty text" if self.required else "text"


def _f(name, low=None, high=None, required=True, positive=False):
    return _Col(name, "float", required, low, high, positive=positive)


def _i(name, low=None, high=None, required=True, positive=False):
    return _Col(name, "int", required, low, high, positive=positive)


def _s(name, required=True):
    return _Col(name, "str", required)


def _c(name, choices, required=True):
    return _Col(name, "choice", required, choices=tuple(choices))


_PROVENANCE = (_s("source"), _Col("as_of", "date"), _s("notes", required=False))

SCHEMAS: dict[str, tuple[_Col, ...]] = {
    "gpus": (
        _Col("id", "slug"),
        _c("vendor", ("nvidia", "amd", "intel", "apple")),
        _s("name"),
        _Col("aliases", "list", required=False),
        _c("segment", ("consumer", "workstation", "datacenter")),
        _f("memory_gb", 4, 1024, positive=True),
        _s("memory_type"),
        _f("mem_bw_gbps", 50, 20000, positive=True),
        _f("bf16_tflops", 1, 20000, required=False, positive=True),
        _f("fp16_tflops", 1, 20000, positive=True),
        _f("fp8_tflops", 1, 40000, required=False, positive=True),
        _f("int8_tops", 1, 40000, required=False, positive=True),
        _f("int4_tops", 1, 80000, required=False, positive=True),
        _f("fp4_tflops", 1, 80000, required=False, positive=True),
        _f("tdp_w", 10, 3000, positive=True),
        _s("interconnect"),
        _f("interconnect_gbps", 1, 10000, positive=True),
        _i("pcie_gen", 3, 7, required=False),
        _s("form_factor"),
        _i("launch_year", 2012, 2035),
        *_PROVENANCE,
    ),
    "llms": (
        _Col("id", "slug"),
        _s("name"),
        _s("hf_repo", required=False),
        _Col("aliases", "list", required=False),
        _f("total_params_b", 0.01, 5000, positive=True),
        _f("active_params_b", 0.01, 5000, positive=True),
        _i("n_layers", 1, 1000, positive=True),
        _i("hidden_size", 64, 65536, positive=True),
        _i("n_heads", 1, 1024, positive=True),
        _i("n_kv_heads", 1, 1024, positive=True),
        _i("head_dim", 16, 1024, positive=True),
        _i("intermediate_size", 64, 1_000_000, positive=True),
        _i("n_experts", 1, 4096, required=False, positive=True),
        _i("n_experts_active", 1, 4096, required=False, positive=True),
        _i("n_shared_experts", 0, 64, required=False),
        _i("moe_intermediate_size", 16, 1_000_000, required=False, positive=True),
        _i("n_dense_layers", 0, 1000, required=False),
        _i("vocab_size", 1000, 2_000_000, positive=True),
        _i("max_context_tokens", 512, 100_000_000, positive=True),
        _c("attention", ("mha", "gqa", "mla")),
        _i("sliding_window_tokens", 1, 10_000_000, required=False, positive=True),
        _f("sliding_layer_fraction", 0, 1, required=False),
        _i("kv_lora_rank", 1, 65536, required=False, positive=True),
        _i("qk_rope_head_dim", 1, 1024, required=False, positive=True),
        _s("native_precision"),
        *_PROVENANCE,
    ),
    "cloud_prices": (
        _Col("id", "slug"),
        _Col("provider", "slug"),
        _s("offering"),
        _c("pricing", ("on-demand", "spot", "reserved")),
        _i("commitment_months", 0, 120),
        _Col("gpu_id", "slug"),
        _i("gpus_per_instance", 1, 72, positive=True),
        _f("usd_per_hour", 0.01, 2000, positive=True),
        _f("usd_per_gpu_hour", 0.01, 200, positive=True),
        _i("billing_granularity_s", 1, 86400, positive=True),
        _s("region", required=False),
        _s("instance_type", required=False),
        *_PROVENANCE,
    ),
    "hardware_prices": (
        _Col("gpu_id", "slug"),
        _c("condition", ("new", "used")),
        _f("usd_low", 50, 500_000, positive=True),
        _f("usd_typical", 50, 500_000, positive=True),
        _f("usd_high", 50, 500_000, positive=True),
        _f("server_share_usd_low", 0, 500_000),
        _f("server_share_usd_typical", 0, 500_000),
        _f("server_share_usd_high", 0, 500_000),
        *_PROVENANCE,
    ),
    "api_prices": (
        _Col("id", "slug"),
        _Col("provider", "slug"),
        _s("model"),
        _Col("llm_id", "slug", required=False),
        _f("usd_per_million_input_tokens", 0.001, 1000, positive=True),
        _f("usd_per_million_output_tokens", 0.001, 1000, positive=True),
        _f("batch_usd_per_million_input_tokens", 0.0001, 1000, required=False, positive=True),
        _f("batch_usd_per_million_output_tokens", 0.0001, 1000, required=False, positive=True),
        _f("cached_usd_per_million_input_tokens", 0.0001, 1000, required=False, positive=True),
        *_PROVENANCE,
    ),
    "energy": (
        _Col("id", "slug"),
        _s("region"),
        _c("setting", ("home", "office", "colocation", "datacenter")),
        _f("usd_per_kwh_low", 0.005, 2, positive=True),
        _f("usd_per_kwh_typical", 0.005, 2, positive=True),
        _f("usd_per_kwh_high", 0.005, 2, positive=True),
        _f("pue_low", 1.0, 3.0),
        _f("pue_typical", 1.0, 3.0),
        _f("pue_high", 1.0, 3.0),
        _f("colocation_usd_per_kw_month_low", 0, 2000, required=False),
        _f("colocation_usd_per_kw_month_typical", 0, 2000, required=False),
        _f("colocation_usd_per_kw_month_high", 0, 2000, required=False),
        *_PROVENANCE,
    ),
    "purchase_units": (
        _Col("gpu_id", "slug"),
        _c("sold_as", SOLD_AS),
        _i("gpus_per_unit", 1, 576, positive=True),
        _i("max_gpus_per_box", 1, 576, positive=True),
        _f("host_usd_per_gpu_low", 0, 500_000, required=False),
        _f("host_usd_per_gpu_typical", 0, 500_000, required=False),
        _f("host_usd_per_gpu_high", 0, 500_000, required=False),
        _f("min_host_usd_per_box", 0, 500_000, required=False),
        _f("box_kw", 0.05, 2000, required=False, positive=True),
        *_PROVENANCE,
    ),
    "benchmarks": (
        _Col("id", "slug"),
        _Col("engine", "slug"),
        _Col("gpu_id", "slug"),
        _i("n_gpus", 1, 72, positive=True),
        _Col("model_id", "slug"),
        _c("precision", PRECISIONS),
        _c("kv_precision", PRECISIONS, required=False),
        _c("layout", ("tp", "ep", "dp-attention+ep"), required=False),
        _c("load", ("batch", "concurrency"), required=False),
        _i("num_requests", 1, 10_000_000, required=False, positive=True),
        _i("max_batch", 1, 10_000_000, required=False, positive=True),
        _c("lengths", ("fixed", "sharegpt"), required=False),
        _c("flash_attention", ("on", "off"), required=False),
        _s("batch_size"),
        _i("input_tokens", 1, 10_000_000, positive=True),
        _i("output_tokens", 1, 10_000_000, positive=True),
        _c(
            "metric",
            (
                "output_tokens_per_s",
                "tokens_per_s_per_request",
                "tpot_s",
                "ttft_s",
                "prefill_tokens_per_s",
            ),
        ),
        _f("value", 1e-6, 1e9, positive=True),
        *_PROVENANCE,
    ),
}

#: Reference tables: cited measurements the performance model reads as they are bundled
#: (no user overlay; a team's own measurements enter as a calibration, see hwcost.perf).
REFERENCE_SCHEMAS: dict[str, tuple[_Col, ...]] = {
    "gpu_microbenchmarks": (
        _Col("gpu_id", "slug"), _c("quantity", ("memory_bandwidth", "gemm")),
        _f("measured_value", positive=True), _s("unit"),
        _f("datasheet_value", positive=True), _f("fraction_of_datasheet", positive=True, high=1.2),
        _s("method"), _c("precision", ("bf16", "fp16", "fp8"), required=False), *_PROVENANCE,
    ),
    "collective_microbenchmarks": (
        _Col("gpu_id", "slug"), _i("n_gpus", low=2), _c("collective", ("all_reduce",)),
        _c("library", ("nccl", "rccl", "custom", "hccl")),
        _c("quantity", ("bus_bandwidth", "latency", "time")), _f("measured_value", positive=True),
        _s("unit"), _f("message_bytes", positive=True, required=False),
        _s("method"), *_PROVENANCE,
    ),
}


#: Environment variable naming a user table for each catalog table. Its rows are added to
#: the bundled table; a row whose key (``id``; ``gpu_id`` + ``condition`` for hardware
#: prices) is already there replaces the bundled row.
ENV_VARS = {name: f"HWCOST_{name.upper()}_CSV" for name in SCHEMAS}
#: Set to ``1`` (or ``true``/``yes``) to make the user table replace the bundled one outright.
REPLACE_ENV_VARS = {name: f"HWCOST_{name.upper()}_REPLACE" for name in SCHEMAS}
#: Values of the ``origin`` column every loaded table carries.
ORIGINS = ("bundled", "user")

# Columns whose values must be unique within a table.
_UNIQUE = {
    "gpus": ("id",),
    "llms": ("id",),
    "cloud_prices": ("id",),
    "hardware_prices": (("gpu_id", "condition"),),
    "api_prices": ("id",),
    "energy": ("id",),
    "benchmarks": ("id",),
    "purchase_units": ("gpu_id",),
}

# Ranges stored as low/typical/high that must be ordered.
_RANGES = {
    "hardware_prices": ("usd", "server_share_usd"),
    "energy": ("usd_per_kwh", "pue"),
}
# Optional ranges: all three cells empty, or all three given and ordered.
_OPTIONAL_RANGES = {
    "energy": ("colocation_usd_per_kw_month",),
    "purchase_units": ("host_usd_per_gpu",),
}

_SLUG = re.compile(r"^[a-z0-9][a-z0-9.\-]*$")


# ----------------------------------------------------------------------------------------
# Loading and validation
# ----------------------------------------------------------------------------------------
def _today() -> _dt.date:
    return _dt.date.today()


def _err(path: Path, line: int, col: str, value: str, problem: str, accepted: str) -> CatalogError:
    shown = value if value != "" else "(empty)"
    return CatalogError(
        f"{path}: row {line}, column '{col}': {problem} {shown!r}; expected {accepted}"
    )


def _parse_cell(path: Path, line: int, col: _Col, raw: str):
    value = raw.strip()
    if value == "":
        if col.required:
            raise _err(path, line, col.name, raw, "missing value", col.describe())
        return () if col.kind == "list" else None
    if col.kind in ("str",):
        return value
    if col.kind == "slug":
        if not _SLUG.match(value):
            raise _err(path, line, col.name, raw, "not a valid id", col.describe())
        return value
    if col.kind == "list":
        return tuple(p.strip() for p in value.split(";") if p.strip())
    if col.kind == "choice":
        low = value.lower()
        if low not in col.choices:
            raise _err(path, line, col.name, raw, "unknown value", col.describe())
        return low
    if col.kind == "date":
        try:
            date = _dt.date.fromisoformat(value)
        except ValueError:
            raise _err(path, line, col.name, raw, "not a date", col.describe()) from None
        if date > _today():
            raise _err(path, line, col.name, raw, "date in the future", col.describe())
        return date
    if col.kind in ("float", "int"):
        try:
            number = float(value)
        except ValueError:
            hint = " (units belong in the column name, not the cell)" if re.search(
                r"[a-zA-Z]", value
            ) else ""
            raise _err(path, line, col.name, raw, "not a number" + hint, col.describe()) from None
        if not math.isfinite(number):
            raise _err(path, line, col.name, raw, "not a finite number", col.describe())
        if col.kind == "int":
            if number != int(number):
                raise _err(path, line, col.name, raw, "not an integer", col.describe())
            number = int(number)
        if col.positive and number <= 0:
            raise _err(path, line, col.name, raw, "must be positive, got", col.describe())
        if col.low is not None and number < col.low:
            raise _err(path, line, col.name, raw, "implausibly small value", col.describe())
        if col.high is not None and number > col.high:
            raise _err(path, line, col.name, raw, "implausibly large value", col.describe())
        return number
    raise AssertionError(col.kind)  # pragma: no cover


def _read_text(path: Path) -> str:
    """A CSV file's text: UTF-8, with or without the byte-order mark spreadsheets write.

    Raises
    ------
    CatalogError
        For a directory, an unreadable file, or bytes that are not UTF-8 (with the row and
        column of the first one).
    """
    if path.is_dir():
        raise CatalogError(f"{path}: is a directory; expected a CSV file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CatalogError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        prefix = data[data.rfind(b"\n", 0, exc.start) + 1:exc.start].decode("utf-8", "replace")
        header = next(csv.reader([data.split(b"\n", 1)[0].decode("utf-8-sig", "replace")]), [])
        field = next(csv.reader([prefix]), [""])
        where = (f"column '{header[len(field) - 1].strip()}'" if line > 1 and len(field) <= len(header)
                 else f"character {len(prefix) + 1}")
        raise CatalogError(
            f"{path}: row {line}, {where}: byte 0x{data[exc.start]:02x} is not UTF-8 (a Latin-1 "
            "or Windows file?); save the file as UTF-8 (in a spreadsheet: CSV UTF-8)") from None


def _read_table(name: str, path: Path) -> pd.DataFrame:
    schema = SCHEMAS[name] if name in SCHEMAS else REFERENCE_SCHEMAS[name]
    if not path.exists():
        raise CatalogError(f"{name} table not found: {path}")
    with io.StringIO(_read_text(path), newline="") as fh:
        reader = csv.reader(fh)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise CatalogError(f"{path}: empty file; expected a header row") from None
        twice = sorted({h for h in header if header.count(h) > 1})
        if twice:
            raise CatalogError(f"{path}: row 1 (header): column(s) {', '.join(twice)} given "
                               "twice; each column once")
        expected = [c.name for c in schema]
        # Optional columns may be left out (older files keep loading when a column is added).
        missing = [c.name for c in schema if c.name not in header and c.required]
        if missing:
            raise CatalogError(
                f"{path}: row 1 (header): missing column(s) {', '.join(missing)}; "
                f"expected columns {', '.join(expected)}"
            )
        unknown = [h for h in header if h not in expected]
        if unknown:
            raise CatalogError(
                f"{path}: row 1 (header): unknown column(s) {', '.join(unknown)}; "
                f"expected columns {', '.join(expected)} (units belong in the column name)"
            )
        index = {h: i for i, h in enumerate(header)}
        records = []
        lines = []
        for record in reader:
            line = reader.line_num
            if not record or all(not c.strip() for c in record):
                continue
            if len(record) != len(header):
                raise CatalogError(
                    f"{path}: row {line}: {len(record)} fields, expected {len(header)} "
                    f"(quote cells that contain commas)"
                )
            records.append(
                {c.name: _parse_cell(path, line, c, record[index[c.name]] if c.name in index else "")
                 for c in schema}
            )
            lines.append(line)
    if not records:
        raise CatalogError(f"{path}: no data rows")
    df = pd.DataFrame.from_records(records, columns=[c.name for c in schema])
    df = _numeric(name, df)
    df.attrs["source_file"] = str(path)
    df.attrs["lines"] = _PerRow(lines)
    _check_table(name, path, df, lines)
    return df


def _check_table(name: str, path: Path, df: pd.DataFrame, lines: list[int]) -> None:
    for key in _UNIQUE.get(name, ()):
        cols = list(key) if isinstance(key, tuple) else [key]
        dup = df.duplicated(subset=cols, keep="first")
        if dup.any():
            pos = int(dup.to_numpy().nonzero()[0][0])
            value = "/".join(str(df.iloc[pos][c]) for c in cols)
            raise _err(path, lines[pos], "/".join(cols), value, "duplicate", "unique values")
    for prefix in _RANGES.get(name, ()):
        lo, ty, hi = (df[f"{prefix}_{s}"] for s in ("low", "typical", "high"))
        bad = ~((lo <= ty) & (ty <= hi))
        if bad.any():
            pos = int(bad.to_numpy().nonzero()[0][0])
            raise _err(
                path,
                lines[pos],
                f"{prefix}_low/typical/high",
                f"{lo.iloc[pos]:g}/{ty.iloc[pos]:g}/{hi.iloc[pos]:g}",
                "range out of order",
                "low <= typical <= high",
            )
    for prefix in _OPTIONAL_RANGES.get(name, ()):
        cols = [f"{prefix}_{s}" for s in ("low", "typical", "high")]
        given = df[cols].notna()
        for pos in range(len(df)):
            row = df.iloc[pos]
            if given.iloc[pos].all():
                lo, ty, hi = (float(row[c]) for c in cols)
                if not lo <= ty <= hi:
                    raise _err(path, lines[pos], f"{prefix}_low/typical/high",
                               f"{lo:g}/{ty:g}/{hi:g}", "range out of order", "low <= typical <= high")
            elif given.iloc[pos].any():
                shown = "/".join("" if pd.isna(row[c]) else f"{row[c]:g}" for c in cols)
                raise _err(path, lines[pos], f"{prefix}_low/typical/high", shown,
                           "incomplete range", "all three values, or none")
    if name == "purchase_units":
        bad = df["max_gpus_per_box"] % df["gpus_per_unit"] != 0
        if bad.any():
            pos = int(bad.to_numpy().nonzero()[0][0])
            raise _err(path, lines[pos], "max_gpus_per_box", str(df["max_gpus_per_box"].iloc[pos]),
                       "not a whole number of purchase units:",
                       f"a multiple of gpus_per_unit ({df['gpus_per_unit'].iloc[pos]})")
    if name == "cloud_prices":
        implied = df["usd_per_hour"] / df["gpus_per_instance"]
        bad = (implied - df["usd_per_gpu_hour"]).abs() > 0.005 * implied + 0.0051
        if bad.any():
            pos = int(bad.to_numpy().nonzero()[0][0])
            raise _err(
                path,
                lines[pos],
                "usd_per_gpu_hour",
                f"{df['usd_per_gpu_hour'].iloc[pos]:g}",
                "inconsistent with usd_per_hour / gpus_per_instance:",
                f"{implied.iloc[pos]:.4f}",
            )
    if name == "cloud_prices":
        for pos, region in enumerate(df["region"]):
            if isinstance(region, str) and not REGION_PATTERN.match(region):
                raise _err(path, lines[pos], "region", region, "not a region", REGION_FORMAT)
    if name == "llms":
        bad = df["active_params_b"] > df["total_params_b"] + 1e-9
        if bad.any():
            pos = int(bad.to_numpy().nonzero()[0][0])
            raise _err(
                path, lines[pos], "active_params_b", f"{df['active_params_b'].iloc[pos]:g}",
                "larger than total_params_b:", "active_params_b <= total_params_b",
            )
        bad = df["n_heads"] % df["n_kv_heads"] != 0
        if bad.any():
            pos = int(bad.to_numpy().nonzero()[0][0])
            raise _err(
                path, lines[pos], "n_kv_heads", str(df["n_kv_heads"].iloc[pos]),
                "does not divide n_heads:", "a divisor of n_heads",
            )
    if name == "benchmarks":
        for pos, raw in enumerate(df["batch_size"]):
            if raw != "max" and not (raw.isdigit() and int(raw) > 0):
                raise _err(
                    path, lines[pos], "batch_size", raw, "not a batch size",
                    "a positive integer or 'max'",
                )


_CACHE: dict[tuple, pd.DataFrame] = {}


def _numeric(name: str, df: pd.DataFrame) -> pd.DataFrame:
    """Numeric columns as numbers (empty cells NaN), however the rows were put together."""
    for col in SCHEMAS[name] if name in SCHEMAS else REFERENCE_SCHEMAS[name]:
        if col.kind in ("float", "int"):
            df[col.name] = pd.to_numeric(df[col.name])
    return df


def key_columns(name: str) -> tuple[str, ...]:
    """Columns that identify a row of table ``name`` (what a user row overrides by)."""
    if name == "hardware_prices":
        return ("gpu_id", "condition")
    if name == "purchase_units":
        return ("gpu_id",)
    return ("id",)


def _replace_flag(name: str) -> bool:
    raw = os.environ.get(REPLACE_ENV_VARS[name], "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise CatalogError(
        f"{REPLACE_ENV_VARS[name]}={os.environ[REPLACE_ENV_VARS[name]]!r} is not a yes/no value; "
        "expected 1, true, yes (replace the bundled table) or 0, false, no (add to it)"
    )


def user_dir() -> Path:
    """Folder of the user's own tables, ``<table>.csv`` (``$HWCOST_HOME``, default ``~/.hwcost``).

    A file there is read as the user table of that name when ``HWCOST_<TABLE>_CSV`` is not
    set; ``hwcost model add`` saves models to ``llms.csv`` there.
    """
    return Path(os.environ.get("HWCOST_HOME") or "~/.hwcost").expanduser()


class _PerRow(tuple):
    """Per-row provenance of a catalog table (each row's file and line, in ``attrs``).

    Immutable, so the copy of a table's ``attrs`` that pandas makes on every selection
    (``df[mask]``, ``df.iloc[i]``) shares it instead of copying one entry per row each time.
    """

    __slots__ = ()

    def __deepcopy__(self, memo):
        return self

    def __copy__(self):
        return self


_BUNDLED_ONLY = [0]


@contextlib.contextmanager
def bundled_only():
    """Within this block every table is the bundled one: the user's tables are not read.

    For checks that are about the sourced data itself, such as the audit of the source
    article's claims against the catalog (a user's own price table says nothing about what
    the article got right).
    """
    _BUNDLED_ONLY[0] += 1
    try:
        yield
    finally:
        _BUNDLED_ONLY[0] -= 1


@functools.lru_cache(maxsize=None)
def _bundled_resolved(name: str) -> Path:
    """The bundled file of table ``name`` with links resolved (the package's data folder is
    fixed once imported, so this is worked out once per table: resolving a path is a system
    call per link on every lookup otherwise)."""
    return (DATA_DIR / f"{name}.csv").resolve()


def table_sources(name: str, path: str | os.PathLike | None = None,
                  replace: bool | None = None) -> tuple[Path | None, Path | None]:
    """The bundled file and the user file that make up table ``name``.

    Parameters
    ----------
    name : str
        Table name (:data:`SCHEMAS`).
    path : path-like, optional
        The user's table; default: the file named by ``HWCOST_<NAME>_CSV``, if set, else
        ``<name>.csv`` in :func:`user_dir` if it exists.
    replace : bool, optional
        True: the user table replaces the bundled one; False: its rows are added to the bundled
        table, overriding rows with the same key. Default: ``HWCOST_<NAME>_REPLACE``, else False.

    Returns
    -------
    (bundled, user) : tuple of Path or None
        ``bundled`` is None when replaced; ``user`` is None when the user gave no table.
    """
    if name not in SCHEMAS:
        raise CatalogError(f"unknown table {name!r}; expected one of {', '.join(sorted(SCHEMAS))}")
    if _BUNDLED_ONLY[0] and path is None:
        return DATA_DIR / f"{name}.csv", None
    user = Path(path) if path is not None else None
    if user is None and os.environ.get(ENV_VARS[name]):
        user = Path(os.environ[ENV_VARS[name]])
    if user is None and (user_dir() / f"{name}.csv").exists():
        user = user_dir() / f"{name}.csv"
    replace = _replace_flag(name) if replace is None else bool(replace)
    bundled = DATA_DIR / f"{name}.csv"
    if replace and user is None:
        raise CatalogError(
            f"replacing the bundled {name} table needs a user table: set {ENV_VARS[name]} "
            f"(or pass path=) as well as {REPLACE_ENV_VARS[name]}"
        )
    if user is not None and user.exists() and user.resolve() == _bundled_resolved(name):
        user = None  # the bundled file itself
    return (None if replace else bundled), user


def _merge(name: str, bundled: pd.DataFrame, user: pd.DataFrame) -> pd.DataFrame:
    """Bundled rows, each replaced by the user row with its key, then the new user rows."""
    cols = list(key_columns(name))
    ukeys = [tuple(str(v) for v in r) for r in user[cols].itertuples(index=False)]
    upos = {k: i for i, k in enumerate(ukeys)}
    pieces, files, lines, used = [], [], [], set()
    for i, r in enumerate(bundled[cols].itertuples(index=False)):
        k = tuple(str(v) for v in r)
        if k in upos:
            j = upos[k]
            used.add(j)
            pieces.append(("user", j))
        else:
            pieces.append(("bundled", i))
    pieces += [("user", j) for j in range(len(user)) if j not in used]
    src = {"bundled": bundled, "user": user}
    df = pd.concat([src[o].iloc[[i]] for o, i in pieces], ignore_index=True)
    for o, i in pieces:
        files.append(src[o].attrs["files"][i])
        lines.append(src[o].attrs["lines"][i])
    df.attrs["files"], df.attrs["lines"] = _PerRow(files), _PerRow(lines)
    df.attrs["overridden"] = [" / ".join(ukeys[i]) for o, i in pieces if o == "user" and i in used]
    return df


def _mtime(p: Path, name: str) -> float:
    try:
        return p.stat().st_mtime
    except FileNotFoundError:
        raise CatalogError(f"{name} table not found: {p}") from None


_HELD: list = [0, {}]


@contextlib.contextmanager
def tables_held():
    """Within this block each table is read once: later lookups take it as it was then.

    Outside it every lookup checks the table's files (which file, and whether it changed
    since it was read), a few system calls each; a computation that looks up thousands of
    GPUs, models and prices (:func:`hwcost.recommend.rank`) holds the tables instead, as a
    table edited in the middle of one answer should not change half of it. Blocks nest.
    """
    _HELD[0] += 1
    try:
        yield
    finally:
        _HELD[0] -= 1
        if not _HELD[0]:
            _HELD[1].clear()


def _cached(name: str, path: str | os.PathLike | None = None,
            replace: bool | None = None) -> tuple[pd.DataFrame, tuple]:
    """The validated table (shared: callers must not modify it) and its cache key."""
    if _HELD[0]:
        held = (name, None if path is None else str(path), replace, bool(_BUNDLED_ONLY[0]))
        if held not in _HELD[1]:
            _HELD[1][held] = _cached_from_files(name, path, replace)
        return _HELD[1][held]
    return _cached_from_files(name, path, replace)


def _cached_from_files(name: str, path: str | os.PathLike | None,
                       replace: bool | None) -> tuple[pd.DataFrame, tuple]:
    bundled, user = table_sources(name, path, replace)
    parts = tuple((str(_bundled_resolved(name) if p is bundled else p.resolve()), _mtime(p, name))
                  for p in (bundled, user) if p is not None)
    key = (name, bundled is not None, user is not None) + parts
    if key not in _CACHE:
        frames = {}
        for origin, p in (("bundled", bundled), ("user", user)):
            if p is None:
                continue
            df = _read_table(name, p)
            df["origin"] = origin
            df.attrs["files"] = _PerRow([str(p)] * len(df))
            frames[origin] = df
        if len(frames) == 2:
            df = _numeric(name, _merge(name, frames["bundled"], frames["user"]))
        else:
            (df,) = frames.values()
            df.attrs["overridden"] = []
        df.attrs["source_file"] = str(user if user is not None else bundled)
        df.attrs["bundled_file"] = str(bundled) if bundled is not None else None
        df.attrs["user_file"] = str(user) if user is not None else None
        _cross_check(name, df)
        _CACHE[key] = df
    return _CACHE[key], key


def load_table(name: str, path: str | os.PathLike | None = None,
               replace: bool | None = None) -> pd.DataFrame:
    """Load and validate one catalog table, with the user's rows.

    Parameters
    ----------
    name : str
        Table name, one of ``gpus``, ``llms``, ``cloud_prices``, ``hardware_prices``,
        ``api_prices``, ``energy``, ``benchmarks``, ``purchase_units``.
    path : path-like, optional
        A user CSV with the table's columns (optional columns may be left out). Its rows are
        added to the bundled table and override bundled rows with the same key
        (:func:`key_columns`). When omitted, the file named by ``HWCOST_<NAME>_CSV`` is used,
        if set.
    replace : bool, optional
        Use the user table instead of the bundled one. Default: ``HWCOST_<NAME>_REPLACE``.

    Returns
    -------
    pandas.DataFrame
        A copy; changing it does not change the catalog. Column ``origin`` says where each row
        comes from (``bundled`` or ``user``); ``attrs`` hold ``source_file`` (the user file if
        any), ``bundled_file``, ``user_file`` and ``overridden`` (keys of bundled rows the user
        replaced).
    """
    df, _ = _cached(name, path, replace)
    out = df.copy()
    out.attrs = {k: (list(v) if isinstance(v, list) else v) for k, v in df.attrs.items()}
    return out


def _cross_check(name: str, df: pd.DataFrame) -> None:
    """References to other tables must resolve (only against the bundled/env tables)."""
    refs = {
        "cloud_prices": (("gpu_id", "gpus"),),
        "hardware_prices": (("gpu_id", "gpus"),),
        "api_prices": (("llm_id", "llms"),),
        "benchmarks": (("gpu_id", "gpus"), ("model_id", "llms")),
    }.get(name, ())
    for col, other in refs:
        known = set(load_table(other)["id"])
        for pos, value in enumerate(df[col]):
            if value is None or (isinstance(value, float) and math.isnan(value)) or value in known:
                continue
            close = difflib.get_close_matches(value, sorted(known), n=3, cutoff=0.5)
            raise _err(
                df.attrs["files"][pos], df.attrs["lines"][pos], col, value, f"unknown {other} id",
                "an id from " + other + ".csv" + (f" (closest: {', '.join(close)})" if close else ""),
            )


def gpus(path=None, replace=None) -> pd.DataFrame:
    """GPUs: memory, bandwidth, dense tensor throughput per precision, power, links."""
    return load_table("gpus", path, replace)


def llms(path=None, replace=None) -> pd.DataFrame:
    """Model architectures read from each model's ``config.json``."""
    return load_table("llms", path, replace)


def cloud_prices(path=None, replace=None) -> pd.DataFrame:
    """Cloud GPU offers: instance and per-GPU hourly prices, billing granularity."""
    return load_table("cloud_prices", path, replace)


def hardware_prices(path=None, replace=None) -> pd.DataFrame:
    """Purchase prices of GPUs (low/typical/high) and their share of a server."""
    return load_table("hardware_prices", path, replace)


def api_prices(path=None, replace=None) -> pd.DataFrame:
    """Hosted API prices per million input and output tokens."""
    return load_table("api_prices", path, replace)


def energy(path=None, replace=None) -> pd.DataFrame:
    """Electricity price ranges and PUE ranges per setting."""
    return load_table("energy", path, replace)


def purchase_units(path=None, replace=None) -> pd.DataFrame:
    """How each GPU is bought: the unit (card, 4/8-GPU board, NVL72 rack), box size, host cost
    per GPU where it differs from ``hardware_prices``, and a full box's power where known.

    Rows may name GPUs that ``gpus.csv`` does not list (yet): they are kept and ignored by
    lookups of other GPUs. Use :func:`purchase_unit` for one GPU's row.
    """
    return load_table("purchase_units", path, replace)


def purchase_unit(gpu_id, path=None) -> dict:
    """The ``purchase_units`` row of one GPU as a dict.

    ``gpu_id`` may be a catalog id, an alias or a :class:`GPU`. A GPU with no row raises
    :class:`CatalogError` listing the closest ids that have one.
    """
    table, version = _cached("purchase_units", path)
    if version not in _PURCHASE_ROWS:
        rows = {}
        for record in table.to_dict(orient="records"):
            clean = {}
            for k, v in record.items():
                if isinstance(v, float) and math.isnan(v):
                    v = None
                elif hasattr(v, "item"):
                    v = v.item()  # numpy scalar -> int or float
                clean[k] = v
            rows[clean["gpu_id"]] = clean
        _PURCHASE_ROWS[version] = rows
    rows = _PURCHASE_ROWS[version]
    key = gpu_id.id if isinstance(gpu_id, GPU) else str(gpu_id).strip().lower()
    if key not in rows:
        try:
            key = gpu(key).id
        except CatalogError:
            pass
    if key not in rows:
        known = list(rows)
        close = difflib.get_close_matches(key, known, n=3, cutoff=0.5)
        raise CatalogError(
            f"no purchase unit for GPU {gpu_id!r} in {table.attrs.get('source_file', 'purchase_units.csv')}"
            + (f"; closest: {', '.join(close)}" if close else f"; known: {', '.join(known)}"))
    return dict(rows[key])


_PURCHASE_ROWS: dict[tuple, dict] = {}


def table_version(name: str, path=None) -> tuple:
    """A key that changes when a table's file changes (path and modification time): for
    callers that cache values derived from the table."""
    return _cached(name, path)[1]


def benchmarks(path=None, replace=None) -> pd.DataFrame:
    """Published inference measurements used to calibrate and validate ``hwcost.perf``."""
    return load_table("benchmarks", path, replace)


# ----------------------------------------------------------------------------------------
# Entities
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GPU:
    """One accelerator, as in ``data/gpus.csv`` (units in the field names)."""

    id: str
    vendor: str
    name: str
    aliases: tuple[str, ...]
    segment: str
    memory_gb: float
    memory_type: str
    mem_bw_gbps: float
    bf16_tflops: float | None
    fp16_tflops: float
    fp8_tflops: float | None
    int8_tops: float | None
    int4_tops: float | None
    tdp_w: float
    interconnect: str
    interconnect_gbps: float
    pcie_gen: int | None
    form_factor: str
    launch_year: int
    source: str
    as_of: _dt.date
    notes: str | None = None
    #: Dense FP4 tensor rate (NVFP4 / MXFP4) [TFLOP/s]; None where the GPU has no FP4 math.
    fp4_tflops: float | None = None

    def tensor_tflops(self, precision: str) -> float | None:
        """Dense tensor rate for matrix math in ``precision`` [TFLOP/s], None if unsupported."""
        precision = precision.lower()
        field = {
            "fp16": "fp16_tflops",
            "bf16": "bf16_tflops",
            "fp8": "fp8_tflops",
            "int8": "int8_tops",
            "int4": "int4_tops",
            "fp4": "fp4_tflops",
        }.get(precision)
        if field is None:
            raise HwcostError(f"unknown precision {precision!r}; expected one of {', '.join(PRECISIONS)}")
        return getattr(self, field)

    @property
    def has_nvlink(self) -> bool:
        return self.interconnect.startswith(("nvlink", "infinity"))


@dataclass(frozen=True)
class LLM:
    """One model architecture, as in ``data/llms.csv``."""

    id: str
    name: str
    hf_repo: str | None
    aliases: tuple[str, ...]
    total_params_b: float
    active_params_b: float
    n_layers: int
    hidden_size: int
    n_heads: int
    n_kv_heads: int
    head_dim: int
    intermediate_size: int
    n_experts: int | None
    n_experts_active: int | None
    n_shared_experts: int | None
    moe_intermediate_size: int | None
    n_dense_layers: int | None
    vocab_size: int
    max_context_tokens: int
    attention: str
    sliding_window_tokens: int | None
    sliding_layer_fraction: float | None
    kv_lora_rank: int | None
    qk_rope_head_dim: int | None
    native_precision: str
    source: str
    as_of: _dt.date
    notes: str | None = None

    @property
    def is_moe(self) -> bool:
        return bool(self.n_experts) and self.n_experts > 1


@lru_cache(maxsize=None)
def _reference(name: str) -> pd.DataFrame:
    return _read_table(name, DATA_DIR / f"{name}.csv")


def gpu_microbenchmarks() -> pd.DataFrame:
    """Published achievable memory bandwidth and GEMM rate per GPU
    (``data/gpu_microbenchmarks.csv``, a reference table: bundled only). A copy."""
    return _reference("gpu_microbenchmarks").copy()


def collective_microbenchmarks() -> pd.DataFrame:
    """Published all-reduce bus bandwidths, latencies and times per GPU system
    (``data/collective_microbenchmarks.csv``, a reference table: bundled only). A copy."""
    return _reference("collective_microbenchmarks").copy()


def bundled_gpus() -> pd.DataFrame:
    """The bundled GPU table alone (no user rows): the products that reference tables
    measured. A copy."""
    with bundled_only():
        return gpus()


def _norm(text: str) -> str:
    return re.sub(r"[\s_/]+", "-", str(text).strip().lower())


_INDEXES: dict[tuple, dict[str, int]] = {}
_ENTITIES: dict[tuple, object] = {}


def _name_index(table: pd.DataFrame) -> dict[str, int]:
    """Normalised id, alias and name -> row position (ids win over aliases)."""
    names: dict[str, int] = {}
    for pos, row in enumerate(table.itertuples(index=False)):
        names.setdefault(_norm(row.id), pos)
    for pos, row in enumerate(table.itertuples(index=False)):
        for alias in list(row.aliases) + [row.name]:
            names.setdefault(_norm(alias), pos)
    return names


def _lookup(table: pd.DataFrame, key: str, kind: str, names: dict[str, int] | None = None) -> pd.Series:
    if not isinstance(key, str) or not key.strip():
        raise CatalogError(f"{kind} id must be a non-empty string, got {key!r}")
    wanted = _norm(key)
    names = names if names is not None else _name_index(table)
    if wanted in names:
        return table.iloc[names[wanted]]
    ids = list(table["id"])
    close = difflib.get_close_matches(wanted, ids, n=4, cutoff=0.4)
    for alias, pos in names.items():
        if len(close) >= 4:
            break
        if difflib.SequenceMatcher(None, wanted, alias).ratio() > 0.7 and ids[pos] not in close:
            close.append(ids[pos])
    hint = f"closest ids: {', '.join(close)}" if close else f"known ids: {', '.join(ids)}"
    raise CatalogError(f"unknown {kind} {key!r}; {hint}")


def _cached_entity(name: str, cls, key, kind: str, path):
    table, table_key = _cached(name, path)
    if not isinstance(key, str):
        raise CatalogError(f"{kind} id must be a non-empty string, got {key!r}")
    ent_key = (table_key, _norm(key))
    if ent_key not in _ENTITIES:
        if table_key not in _INDEXES:
            _INDEXES[table_key] = _name_index(table)
        _ENTITIES[ent_key] = _entity(cls, _lookup(table, key, kind, _INDEXES[table_key]))
    return _ENTITIES[ent_key]


def _entity(cls, row: pd.Series):
    values = {}
    for field in dataclasses.fields(cls):
        v = row[field.name]
        if isinstance(v, float) and math.isnan(v):
            v = None
        values[field.name] = v
    return cls(**values)


def gpu(id_or_gpu, path=None) -> GPU:
    """Look up a GPU by id, alias or name (case-insensitive); a :class:`GPU` passes through."""
    if isinstance(id_or_gpu, GPU):
        return id_or_gpu
    return _cached_entity("gpus", GPU, id_or_gpu, "GPU", path)


def llm(id_or_llm, path=None) -> LLM:
    """Look up a model by id, alias or name (case-insensitive); an :class:`LLM` passes through."""
    if isinstance(id_or_llm, LLM):
        return id_or_llm
    return _cached_entity("llms", LLM, id_or_llm, "model", path)


def gpu_ids(path=None) -> list[str]:
    return list(gpus(path)["id"])


def llm_ids(path=None) -> list[str]:
    return list(llms(path)["id"])


def summary() -> pd.DataFrame:
    """Rows, oldest and newest ``as_of`` and source file of every table."""
    rows = []
    for name in SCHEMAS:
        df = load_table(name)
        rows.append(
            {
                "table": name,
                "rows": len(df),
                "oldest_as_of": min(df["as_of"]),
                "newest_as_of": max(df["as_of"]),
                "file": Path(df.attrs["source_file"]).name,
            }
        )
    return pd.DataFrame(rows)


PRICE_TABLES = ("cloud_prices", "hardware_prices", "api_prices", "energy")


def price_ages(today: _dt.date | None = None) -> pd.DataFrame:
    """Every price row with its age in days: columns ``table, id, as_of, age_days, source``."""
    today = today or _today()
    frames = []
    for name in PRICE_TABLES:
        df = load_table(name)
        ident = df["id"] if "id" in df else df["gpu_id"] + "/" + df["condition"]
        frames.append(
            pd.DataFrame(
                {
                    "table": name,
                    "id": ident,
                    "as_of": df["as_of"],
                    "age_days": [(today - d).days for d in df["as_of"]],
                    "source": df["source"],
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def price_age_days(as_of: Iterable[_dt.date], today: _dt.date | None = None) -> list[int]:
    """Age of each ``as_of`` date in days, relative to ``today`` (default: the current date)."""
    today = today or _today()
    return [(today - d).days for d in as_of]


# ----------------------------------------------------------------------------------------
# Models from Hugging Face config.json files; saving rows to the user's tables
# ----------------------------------------------------------------------------------------
def _validated_row(name: str, values: dict, where: str) -> pd.DataFrame:
    """One row checked exactly as a line of a CSV file would be (``where`` names it)."""
    schema = SCHEMAS[name]
    rec = {c.name: _parse_cell(Path(where), 2, c, "" if values.get(c.name) is None else str(values[c.name]))
           for c in schema}
    df = _numeric(name, pd.DataFrame.from_records([rec], columns=[c.name for c in schema]))
    _check_table(name, Path(where), df, [2])
    return df


def _fmt_number(x: float, digits: int = 3) -> str:
    return f"{round(float(x), digits):g}"


def llm_row_from_hf_config(path, *, id: str | None = None, name: str | None = None,
                           hf_repo: str | None = None, aliases: Iterable[str] = (),
                           source: str | None = None, as_of: _dt.date | None = None) -> dict:
    """A validated ``llms`` row (column -> text) read from a Hugging Face ``config.json``.

    Parameters
    ----------
    path : path-like
        The ``config.json`` file (any name).
    id : str, optional
        Catalog id; default: the file name without ``.json`` (the folder name for a file named
        ``config.json``), lower-cased.
    name, hf_repo, aliases, source, as_of : optional
        Display name (default: the id), Hugging Face repository ("org/name"), extra lookup
        names, where the file came from (default: the repository's config URL, else the file
        path) and the date it was read (default: today).

    Returns
    -------
    dict
        Every ``llms`` column as text; parameter counts from :func:`hwcost.hfconfig.architecture`.

    Raises
    ------
    CatalogError
        The file is missing or not JSON, its ``model_type`` is not supported, a shape is missing,
        or the row fails the ``llms`` checks.
    """
    import json

    from . import hfconfig

    p = Path(path)
    try:
        cfg = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CatalogError(f"config file not found: {p}") from None
    except json.JSONDecodeError as exc:
        raise CatalogError(f"{p}: not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}") from None
    try:
        a = hfconfig.architecture(cfg)
    except CatalogError as exc:
        raise CatalogError(f"{p}: {exc}") from None
    if id is None:
        stem = p.parent.name if p.stem == "config" else p.stem
        id = re.sub(r"[^a-z0-9.\-]+", "-", stem.lower()).strip("-.")
    hf_repo = hf_repo or cfg.get("_name_or_path") or None
    if source is None:
        source = (f"https://huggingface.co/{hf_repo}/blob/main/config.json" if hf_repo
                  else f"config.json read from {p}")
    pc = a.params
    row = {
        "id": id,
        "name": name or id,
        "hf_repo": hf_repo,
        "aliases": ";".join(aliases),
        "total_params_b": _fmt_number(pc.total / 1e9),
        "active_params_b": _fmt_number(pc.active / 1e9),
        "n_layers": a.n_layers,
        "hidden_size": a.hidden_size,
        "n_heads": a.n_heads,
        "n_kv_heads": a.n_kv_heads,
        "head_dim": a.head_dim,
        "intermediate_size": a.intermediate_size,
        "n_experts": a.n_experts,
        "n_experts_active": a.n_experts_active,
        "n_shared_experts": a.n_shared_experts,
        "moe_intermediate_size": a.moe_intermediate_size,
        "n_dense_layers": a.n_dense_layers,
        "vocab_size": a.vocab_size,
        "max_context_tokens": a.max_context_tokens,
        "attention": a.attention,
        "sliding_window_tokens": a.sliding_window_tokens,
        "sliding_layer_fraction": a.sliding_layer_fraction,
        "kv_lora_rank": a.kv_lora_rank,
        "qk_rope_head_dim": a.qk_rope_head_dim,
        "native_precision": a.native_precision,
        "source": source,
        "as_of": (as_of or _today()).isoformat(),
        "notes": (
            f"params counted from the config shapes by hwcost.hfconfig (model_type {a.model_type}): "
            f"{pc.total:,} total, {pc.active:,} active per token, both counting the input "
            f"embedding ({pc.embedding:,}) and output head ({pc.lm_head:,}"
            f"{', tied' if a.tied_embeddings else ''}). max_position_embeddings {a.max_context_tokens}."
        ),
    }
    _validated_row("llms", row, str(p))
    return row


def llm_from_hf_config(path, **row_options) -> LLM:
    """A validated :class:`LLM` read from a Hugging Face ``config.json`` (not saved).

    Keyword arguments are those of :func:`llm_row_from_hf_config`; to add the model to the
    user's catalog use :func:`save_user_rows` (what ``hwcost model add`` does).
    """
    row = llm_row_from_hf_config(path, **row_options)
    df = _validated_row("llms", row, str(path))
    return _entity(LLM, df.iloc[0])


def save_user_rows(name: str, rows: list[dict], path: str | os.PathLike | None = None, *,
                   overwrite: bool = False) -> tuple[Path, list[str], list[str]]:
    """Add rows to the user's table ``name`` (atomically; existing rows are kept).

    Parameters
    ----------
    name : str
        Table name (:data:`SCHEMAS`).
    rows : list of dict
        Column -> value (text or number); each is validated as a row of that table.
    path : path-like, optional
        The user file; default: ``HWCOST_<NAME>_CSV`` if set, else ``<name>.csv`` in
        :func:`user_dir`. Created with a header if absent.
    overwrite : bool
        Replace a user row with the same key. Without it such a row is an error (a user row
        is never silently lost); overriding a *bundled* row is always allowed.

    Returns
    -------
    (path, added, replaced) : the file written, and the keys added and replaced.
    """
    import tempfile

    if name not in SCHEMAS:
        raise CatalogError(f"unknown table {name!r}; expected one of {', '.join(sorted(SCHEMAS))}")
    if path is None:
        path = os.environ.get(ENV_VARS[name]) or (user_dir() / f"{name}.csv")
    target = Path(path)
    columns = [c.name for c in SCHEMAS[name]]
    existing: list[dict] = []
    header = list(columns)
    if target.exists():
        with open(target, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            header = list(reader.fieldnames or [])
            existing = [dict(r) for r in reader]
        header += [c for c in columns if c not in header]
    keys = key_columns(name)
    pos = {tuple(r.get(k, "") for k in keys): i for i, r in enumerate(existing)}
    added, replaced = [], []
    for row in rows:
        text = {c: "" if row.get(c) is None else str(row[c]) for c in columns}
        _validated_row(name, text, str(target))
        k = tuple(text[c] for c in keys)
        label = " / ".join(k)
        if k in pos:
            if not overwrite:
                raise CatalogError(
                    f"{target}: already has a row {label!r}; pass overwrite=True "
                    "(hwcost: --overwrite) to replace it"
                )
            existing[pos[k]] = {**existing[pos[k]], **text}
            replaced.append(label)
        else:
            pos[k] = len(existing)
            existing.append(text)
            added.append(label)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=header, lineterminator="\n", extrasaction="ignore")
            w.writeheader()
            w.writerows(existing)
        # the whole file must still load (with the bundled rows it overrides) before it replaces
        # the user's file
        _read_table(name, Path(tmp))
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target, added, replaced


# ----------------------------------------------------------------------------------------
# Price history: dated snapshots of the price tables
# ----------------------------------------------------------------------------------------
#: Price columns the history follows, per table.
PRICE_METRICS = {
    "cloud_prices": ("usd_per_gpu_hour",),
    "api_prices": ("usd_per_million_input_tokens", "usd_per_million_output_tokens"),
    "hardware_prices": ("usd_typical",),
}
#: Environment variable naming the history file (default ``data/price_history.csv``).
PRICE_HISTORY_ENV_VAR = "HWCOST_PRICE_HISTORY_CSV"
#: A price older than this is flagged as stale [days].
STALE_AFTER_DAYS = 180

_HISTORY_SCHEMA = (
    _c("table", tuple(PRICE_METRICS)),
    _s("key"),
    _s("item", required=False),
    _s("provider", required=False),
    _c("metric", tuple(m for ms in PRICE_METRICS.values() for m in ms)),
    _f("value", 0, 1_000_000, positive=True),
    _Col("as_of", "date"),
    _Col("imported_on", "date"),
    _s("source"),
)
HISTORY_COLUMNS = tuple(c.name for c in _HISTORY_SCHEMA)


@dataclass(frozen=True)
class PriceImport:
    """What :func:`import_price_snapshot` did."""

    table: str
    rows: int  # rows in the snapshot
    changes: pd.DataFrame  # one row per changed or new price
    history: Path  # the history file (written unless a dry run)
    appended: int  # history rows appended


def price_history_path() -> Path:
    """The history file: ``$HWCOST_PRICE_HISTORY_CSV``, else ``data/price_history.csv``."""
    return Path(os.environ.get(PRICE_HISTORY_ENV_VAR) or DATA_DIR / "price_history.csv")


def price_history(path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Every price the history has seen, one row per (table, key, metric, as_of).

    Columns: ``table, key, item, provider, metric, value, as_of, imported_on, source`` where
    ``key`` is the row id (``gpu_id/condition`` for hardware prices), ``item`` the GPU or
    model it prices and ``value`` the price in the metric's unit (``usd_per_gpu_hour``,
    ``usd_per_million_input_tokens``, ...). Validated like the catalog tables.
    """
    p = Path(path) if path is not None else price_history_path()
    if not p.exists():
        return pd.DataFrame(columns=list(HISTORY_COLUMNS))
    with open(p, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = [h.strip() for h in next(reader, [])]
        missing = [c for c in HISTORY_COLUMNS if c not in header]
        if missing:
            raise CatalogError(f"{p}: row 1 (header): missing column(s) {', '.join(missing)}; "
                               f"expected columns {', '.join(HISTORY_COLUMNS)}")
        idx = {h: i for i, h in enumerate(header)}
        recs = []
        for record in reader:
            if not record or all(not c.strip() for c in record):
                continue
            if len(record) != len(header):
                raise CatalogError(f"{p}: row {reader.line_num}: {len(record)} fields, expected {len(header)}")
            recs.append({c.name: _parse_cell(p, reader.line_num, c, record[idx[c.name]])
                         for c in _HISTORY_SCHEMA})
    df = pd.DataFrame.from_records(recs, columns=list(HISTORY_COLUMNS))
    df["value"] = pd.to_numeric(df["value"])
    df.attrs["source_file"] = str(p)
    return df


def _history_rows(table: str, df: pd.DataFrame, imported_on: _dt.date) -> pd.DataFrame:
    if table == "hardware_prices":
        keys = df["gpu_id"] + "/" + df["condition"]
        items, providers = df["gpu_id"], pd.Series([""] * len(df), index=df.index)
    elif table == "cloud_prices":
        keys, items, providers = df["id"], df["gpu_id"], df["provider"]
    else:
        keys = df["id"]
        items = df["llm_id"].where(df["llm_id"].notna(), df["model"])
        providers = df["provider"]
    frames = []
    for metric in PRICE_METRICS[table]:
        frames.append(pd.DataFrame({
            "table": table, "key": keys.to_numpy(), "item": items.to_numpy(),
            "provider": providers.to_numpy(), "metric": metric,
            "value": pd.to_numeric(df[metric]).to_numpy(), "as_of": df["as_of"].to_numpy(),
            "imported_on": imported_on, "source": df["source"].to_numpy(),
        }))
    return pd.concat(frames, ignore_index=True)[list(HISTORY_COLUMNS)]


def _guess_price_table(path: Path) -> str:
    with open(path, newline="", encoding="utf-8") as fh:
        header = {h.strip() for h in next(csv.reader(fh), [])}
    for table in PRICE_METRICS:
        if all(c.name in header for c in SCHEMAS[table] if c.required):
            return table
    raise CatalogError(
        f"{path}: its columns match none of the price tables ({', '.join(PRICE_METRICS)}); "
        "pass the table name (hwcost: --table)"
    )


def _write_csv_atomically(path: Path, df: pd.DataFrame) -> None:
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as fh:
            df.to_csv(fh, index=False, lineterminator="\n")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def import_price_snapshot(snapshot, *, table: str | None = None, history=None,
                          write: bool = True, imported_on: _dt.date | None = None) -> PriceImport:
    """Validate a price snapshot, append it to the dated history and say what changed.

    Parameters
    ----------
    snapshot : path-like
        A CSV with the columns of ``cloud_prices``, ``api_prices`` or ``hardware_prices``
        (validated exactly as those tables; GPU and model ids must exist).
    table : str, optional
        Which table the snapshot holds; default: told from its columns.
    history : path-like, optional
        History file; default :func:`price_history_path`. Created if absent; otherwise the
        snapshot's prices are appended (rows already recorded with the same date and value are
        not repeated) and the file is replaced atomically, so an interrupted import leaves the
        old history whole.
    write : bool
        False: report the changes only.
    imported_on : datetime.date, optional
        Date recorded for the import (default today).

    Returns
    -------
    PriceImport
        ``changes`` has one row per price that is new to the history or differs from the latest
        recorded value: ``table, key, item, provider, metric, old_value, new_value,
        change_pct, old_as_of, new_as_of``.
    """
    snap = Path(snapshot)
    if not snap.exists():
        raise CatalogError(f"price snapshot not found: {snap}")
    table = table or _guess_price_table(snap)
    if table not in PRICE_METRICS:
        raise CatalogError(f"unknown price table {table!r}; expected one of {', '.join(PRICE_METRICS)}")
    df = _read_table(table, snap)
    df.attrs["files"] = _PerRow([str(snap)] * len(df))
    _cross_check(table, df)
    hist_path = Path(history) if history is not None else price_history_path()
    old = price_history(hist_path)
    new = _history_rows(table, df, imported_on or _today())
    latest = {}
    if len(old):
        for r in old.sort_values(["as_of", "imported_on"], kind="stable").itertuples(index=False):
            latest[(r.table, r.key, r.metric)] = (r.value, r.as_of)
    changes = []
    for r in new.itertuples(index=False):
        prev = latest.get((r.table, r.key, r.metric))
        if prev is not None and math.isclose(prev[0], r.value, rel_tol=1e-9, abs_tol=1e-12):
            continue
        changes.append({
            "table": r.table, "key": r.key, "item": r.item, "provider": r.provider,
            "metric": r.metric,
            "old_value": math.nan if prev is None else prev[0], "new_value": r.value,
            "change_pct": math.nan if prev is None else 100.0 * (r.value / prev[0] - 1.0),
            "old_as_of": None if prev is None else prev[1], "new_as_of": r.as_of,
        })
    cols = ["table", "key", "item", "provider", "metric", "old_value", "new_value",
            "change_pct", "old_as_of", "new_as_of"]
    changes = pd.DataFrame(changes, columns=cols)
    seen = set()
    if len(old):
        seen = {(r.table, r.key, r.metric, r.as_of, round(r.value, 9)) for r in old.itertuples(index=False)}
    fresh = new[[(r.table, r.key, r.metric, r.as_of, round(r.value, 9)) not in seen
                 for r in new.itertuples(index=False)]]
    if write and len(fresh):
        _write_csv_atomically(hist_path, pd.concat([old, fresh], ignore_index=True)[list(HISTORY_COLUMNS)])
    return PriceImport(table=table, rows=len(df), changes=changes, history=hist_path,
                       appended=len(fresh) if write else 0)


# ----------------------------------------------------------------------------------------
# Regions: where an offer runs, and data-residency matching
# ----------------------------------------------------------------------------------------
#: Member states of the European Union (ISO 3166-1 alpha-2), covered by the area code ``EU``.
EU_COUNTRIES = ("AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR",
                "HU", "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI",
                "SK")
#: A region: an area code (ISO 3166-1 alpha-2 country such as ``US`` or ``DE``, ``EU`` for an
#: offer somewhere in the EU, ``GLOBAL`` for marketplaces whose hosts can be anywhere),
#: optionally ``:`` and the provider's own region id (``US:us-east-1``, ``US:eastus``).
#: Empty = the provider does not say.
REGION_PATTERN = re.compile(r"^(?P<area>[A-Z]{2}|GLOBAL)(?::(?P<rid>[a-z0-9][a-z0-9-]*))?$")
REGION_FORMAT = ("an area code (ISO 3166-1 country such as US or DE, EU, or GLOBAL), optionally "
                 "followed by ':' and the provider's region id, e.g. US:us-east-1")


def residency(wanted: str) -> str:
    """A ``data_residency`` request in canonical form (``EU``, ``US``, ``US:us-east-1``).

    Area codes are case-insensitive; the provider region id is lower-cased. ``GLOBAL`` and
    malformed values are refused, naming the accepted forms.
    """
    text = str(wanted).strip()
    area, _, rid = text.partition(":")
    canon = area.upper() + (":" + rid.strip().lower() if rid.strip() else "")
    m = REGION_PATTERN.match(canon)
    if not m or m.group("area") == "GLOBAL":
        raise CatalogError(f"data residency {wanted!r} is not a region; expected "
                           + REGION_FORMAT.replace(", or GLOBAL", ""))
    return canon


def region_matches(region, wanted: str) -> bool:
    """Whether an offer in ``region`` keeps data in ``wanted`` (see :func:`residency`).

    Areas match exactly, except that ``EU`` also accepts every EU member state; a wanted
    provider region id must match exactly. An offer with no stated region, or ``GLOBAL``,
    never matches: where the data goes is unknown.
    """
    if not isinstance(region, str) or not region:
        return False
    got = REGION_PATTERN.match(region)
    want = REGION_PATTERN.match(residency(wanted))
    if not got or got.group("area") == "GLOBAL":
        return False
    area, w_area = got.group("area"), want.group("area")
    if not (area == w_area or (w_area == "EU" and area in EU_COUNTRIES)):
        return False
    return want.group("rid") is None or got.group("rid") == want.group("rid")


def providers() -> list[str]:
    """Every provider named in the cloud and API price tables (with the user's rows)."""
    return sorted(set(load_table("cloud_prices")["provider"]) | set(load_table("api_prices")["provider"]))
