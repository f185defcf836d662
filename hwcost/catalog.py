"""The sourced data catalog: GPUs, models, prices, energy and published benchmarks.

This is the only module that reads files in ``data/``. Every table is validated on load;
a bad value raises :class:`CatalogError` naming the file, the row (1-based line number in the
file, header = line 1), the column, the value and what would be accepted.

Any table can be replaced by a user's own CSV with the same columns, either per call
(``gpus(path="my_gpus.csv")``) or for the whole process with an environment variable
(``HWCOST_GPUS_CSV=my_gpus.csv``). The variable names are listed in :data:`ENV_VARS`.

Lookups (:func:`gpu`, :func:`llm`) are case-insensitive, accept the aliases listed in the
tables ("H100 SXM", "h100") and, for an unknown id, list the closest ids.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as _dt
import difflib
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import pandas as pd

from .errors import CatalogError  # noqa: F401  (re-exported)

DATA_DIR = Path(__file__).resolve().parent.parent / "data"

PRECISIONS = ("fp16", "bf16", "fp8", "int8", "int4")

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

ENV_VARS = {name: f"HWCOST_{name.upper()}_CSV" for name in SCHEMAS}

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


def _read_table(name: str, path: Path) -> pd.DataFrame:
    schema = SCHEMAS[name]
    if not path.exists():
        raise CatalogError(f"{name} table not found: {path}")
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise CatalogError(f"{path}: empty file; expected a header row") from None
        expected = [c.name for c in schema]
        # an optional column absent from the file reads as empty (older user tables still load)
        missing = [c.name for c in schema if c.required and c.name not in header]
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
    df.attrs["source_file"] = str(path)
    df.attrs["lines"] = lines
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


_CACHE: dict[tuple[str, str, float], pd.DataFrame] = {}


def _resolve_path(name: str, path: str | os.PathLike | None) -> Path:
    if path is not None:
        return Path(path)
    env = os.environ.get(ENV_VARS[name])
    if env:
        return Path(env)
    return DATA_DIR / f"{name}.csv"


def _cached(name: str, path: str | os.PathLike | None = None) -> tuple[pd.DataFrame, tuple]:
    """The validated table (shared: callers must not modify it) and its cache key."""
    if name not in SCHEMAS:
        raise CatalogError(
            f"unknown table {name!r}; expected one of {', '.join(sorted(SCHEMAS))}"
        )
    p = _resolve_path(name, path)
    try:
        mtime = p.stat().st_mtime
    except FileNotFoundError:
        raise CatalogError(f"{name} table not found: {p}") from None
    key = (name, str(p.resolve()), mtime)
    if key not in _CACHE:
        df = _read_table(name, p)
        _cross_check(name, p, df)
        _CACHE[key] = df
    return _CACHE[key], key


def load_table(name: str, path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Load and validate one catalog table.

    Parameters
    ----------
    name : str
        Table name, one of ``gpus``, ``llms``, ``cloud_prices``, ``hardware_prices``,
        ``api_prices``, ``energy``, ``benchmarks``, ``purchase_units``.
    path : path-like, optional
        A CSV with the same columns to use instead of the bundled table. When omitted the
        environment variable ``HWCOST_<NAME>_CSV`` is honoured, then ``data/<name>.csv``.

    Returns
    -------
    pandas.DataFrame
        A copy; changing it does not change the catalog.
    """
    df, _ = _cached(name, path)
    out = df.copy()
    out.attrs = dict(df.attrs)
    return out


def _cross_check(name: str, path: Path, df: pd.DataFrame) -> None:
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
                path, df.attrs["lines"][pos], col, value, f"unknown {other} id",
                "an id from " + other + ".csv" + (f" (closest: {', '.join(close)})" if close else ""),
            )


def gpus(path=None) -> pd.DataFrame:
    """GPUs: memory, bandwidth, dense tensor throughput per precision, power, links."""
    return load_table("gpus", path)


def llms(path=None) -> pd.DataFrame:
    """Model architectures read from each model's ``config.json``."""
    return load_table("llms", path)


def cloud_prices(path=None) -> pd.DataFrame:
    """Cloud GPU offers: instance and per-GPU hourly prices, billing granularity."""
    return load_table("cloud_prices", path)


def hardware_prices(path=None) -> pd.DataFrame:
    """Purchase prices of GPUs (low/typical/high) and their share of a server."""
    return load_table("hardware_prices", path)


def api_prices(path=None) -> pd.DataFrame:
    """Hosted API prices per million input and output tokens."""
    return load_table("api_prices", path)


def energy(path=None) -> pd.DataFrame:
    """Electricity price ranges and PUE ranges per setting."""
    return load_table("energy", path)


def purchase_units(path=None) -> pd.DataFrame:
    """How each GPU is bought: the unit (card, 4/8-GPU board, NVL72 rack), box size, host cost
    per GPU where it differs from ``hardware_prices``, and a full box's power where known.

    Rows may name GPUs that ``gpus.csv`` does not list (yet): they are kept and ignored by
    lookups of other GPUs. Use :func:`purchase_unit` for one GPU's row.
    """
    return load_table("purchase_units", path)


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


def benchmarks(path=None) -> pd.DataFrame:
    """Published inference measurements used to calibrate and validate ``hwcost.perf``."""
    return load_table("benchmarks", path)


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

    def tensor_tflops(self, precision: str) -> float | None:
        """Dense tensor rate for matrix math in ``precision`` [TFLOP/s], None if unsupported."""
        precision = precision.lower()
        field = {
            "fp16": "fp16_tflops",
            "bf16": "bf16_tflops",
            "fp8": "fp8_tflops",
            "int8": "int8_tops",
            "int4": "int4_tops",
        }.get(precision)
        if field is None:
            raise ValueError(f"unknown precision {precision!r}; expected one of {', '.join(PRECISIONS)}")
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
