"""The sourced data catalog: bundled tables are valid, bad tables fail with file/row/column."""

import datetime as dt
import math
import os
import shutil

import pandas as pd
import pytest

from hwcost import catalog

TABLES = sorted(catalog.SCHEMAS)


@pytest.mark.parametrize("name", TABLES)
def test_bundled_table_loads_with_source_and_date(name):
    df = catalog.load_table(name)
    assert len(df) > 0
    assert df["source"].map(lambda s: isinstance(s, str) and len(s) > 5).all()
    assert (df["as_of"] <= dt.date.today()).all()
    assert list(df.columns) == [c.name for c in catalog.SCHEMAS[name]] + ["origin"]
    assert set(df["origin"]) == {"bundled"}


def test_required_gpus_present():
    ids = set(catalog.gpus()["id"])
    wanted = {
        "rtx-3090", "rtx-4090", "rtx-5090", "rtx-6000-ada", "l4", "l40s", "a10",
        "a100-40gb-sxm", "a100-80gb-pcie", "a100-80gb-sxm", "h100-pcie", "h100-sxm",
        "h100-nvl", "h200-sxm", "b200", "mi300x",
    }
    assert wanted <= ids


def test_required_models_present():
    ids = set(catalog.llms()["id"])
    wanted = {
        "llama-2-7b", "llama-2-13b", "llama-2-70b", "llama-3.1-8b", "llama-3.1-70b",
        "llama-3.1-405b", "llama-3.3-70b", "mistral-7b", "mixtral-8x7b", "qwen2.5-7b",
        "qwen2.5-32b", "qwen2.5-72b", "gemma-2-27b", "deepseek-v3", "gpt-oss-20b",
        "gpt-oss-120b",
    }
    assert wanted <= ids


def test_known_datasheet_values():
    h100 = catalog.gpu("h100-sxm")
    assert h100.memory_gb == 80 and h100.mem_bw_gbps == 3350
    # dense, not the 1979 TFLOPS sparse figure
    assert 980 <= h100.bf16_tflops <= 1000
    a100 = catalog.gpu("a100-80gb-sxm")
    assert a100.fp8_tflops is None  # Ampere has no FP8 tensor cores
    assert a100.tensor_tflops("fp8") is None
    assert a100.tensor_tflops("bf16") == 312
    mi = catalog.gpu("mi300x")
    assert mi.memory_gb == 192 and 1300 <= mi.fp16_tflops <= 1310


def test_known_architectures():
    m = catalog.llm("llama-3.1-70b")
    assert (m.n_layers, m.n_kv_heads, m.head_dim) == (80, 8, 128)
    assert catalog.llm("llama-2-7b").max_context_tokens == 4096
    ds = catalog.llm("deepseek-v3")
    assert ds.attention == "mla" and ds.kv_lora_rank == 512 and ds.is_moe
    assert ds.active_params_b < ds.total_params_b


def test_benchmarks_cover_regimes_and_gpus():
    b = catalog.benchmarks()
    assert len(b) >= 30
    gpus = set(b["gpu_id"])
    assert len(gpus) >= 6
    assert gpus & {"rtx-4090", "rtx-3090"}, "a consumer card"
    assert "mi300x" in gpus, "an AMD card"
    metrics = set(b["metric"])
    assert {"ttft_s", "output_tokens_per_s"} <= metrics
    assert metrics & {"tokens_per_s_per_request", "tpot_s"}


@pytest.mark.parametrize(
    "query, expected",
    [("H100 SXM", "h100-sxm"), ("h100", "h100-sxm"), ("RTX 4090", "rtx-4090"),
     ("rtx_4090", "rtx-4090"), ("MI300X", "mi300x"), ("A100 80GB SXM", "a100-80gb-sxm")],
)
def test_gpu_lookup_is_case_insensitive_with_aliases(query, expected):
    assert catalog.gpu(query).id == expected


def test_llm_lookup_aliases():
    assert catalog.llm("Llama-3.1-70B").id == "llama-3.1-70b"


def test_unknown_gpu_lists_closest_ids():
    with pytest.raises(catalog.CatalogError) as err:
        catalog.gpu("h10")
    text = str(err.value)
    assert "'h10'" in text and "h100-sxm" in text


def test_entity_passes_through():
    g = catalog.gpu("l4")
    assert catalog.gpu(g) is g
    with pytest.raises(dataclasses_frozen_error()):
        g.memory_gb = 1


def dataclasses_frozen_error():
    import dataclasses

    return dataclasses.FrozenInstanceError


# ---------------------------------------------------------------------------------------
# Validation of user tables
# ---------------------------------------------------------------------------------------
def _copy_table(tmp_path, name):
    path = tmp_path / f"{name}.csv"
    shutil.copy(catalog.DATA_DIR / f"{name}.csv", path)
    return path


def _edit(path, row, column, value):
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df.loc[row, column] = value
    df.to_csv(path, index=False)


@pytest.mark.parametrize(
    "column, value, fragment",
    [
        ("mem_bw_gbps", "25000", "implausibly large"),
        ("mem_bw_gbps", "-5", "positive"),
        ("mem_bw_gbps", "3.35 TB/s", "not a number"),
        ("memory_gb", "", "missing value"),
        ("source", "", "missing value"),
        ("as_of", "2999-01-01", "future"),
        ("as_of", "last year", "not a date"),
        ("vendor", "acme", "one of"),
    ],
)
def test_bad_gpu_values_name_file_row_column(tmp_path, column, value, fragment):
    path = _copy_table(tmp_path, "gpus")
    _edit(path, 2, column, value)
    with pytest.raises(catalog.CatalogError) as err:
        catalog.gpus(path)
    text = str(err.value)
    assert str(path) in text
    assert "row 4" in text  # header is row 1, data row index 2 is file line 4
    assert f"column '{column}'" in text
    assert fragment in text


def test_missing_column(tmp_path):
    path = _copy_table(tmp_path, "gpus")
    df = pd.read_csv(path, dtype=str, keep_default_na=False).drop(columns=["mem_bw_gbps"])
    df.to_csv(path, index=False)
    with pytest.raises(catalog.CatalogError, match="missing column.*mem_bw_gbps"):
        catalog.gpus(path)


def test_duplicate_id(tmp_path):
    path = _copy_table(tmp_path, "gpus")
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    pd.concat([df, df.iloc[[0]]]).to_csv(path, index=False)
    with pytest.raises(catalog.CatalogError, match="duplicate"):
        catalog.gpus(path)


def test_zero_price_rejected(tmp_path):
    path = _copy_table(tmp_path, "cloud_prices")
    _edit(path, 0, "usd_per_hour", "0")
    with pytest.raises(catalog.CatalogError, match="usd_per_hour"):
        catalog.cloud_prices(path)


def test_per_gpu_price_must_match_instance_price(tmp_path):
    path = _copy_table(tmp_path, "cloud_prices")
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df.loc[0, "usd_per_gpu_hour"] = str(float(df.loc[0, "usd_per_gpu_hour"]) * 2)
    df.to_csv(path, index=False)
    with pytest.raises(catalog.CatalogError, match="inconsistent"):
        catalog.cloud_prices(path)


def test_unknown_gpu_reference_in_prices(tmp_path):
    path = _copy_table(tmp_path, "cloud_prices")
    _edit(path, 0, "gpu_id", "h100-sxn")
    with pytest.raises(catalog.CatalogError, match="closest: h100-sxm"):
        catalog.cloud_prices(path)


def test_range_order_checked(tmp_path):
    path = _copy_table(tmp_path, "energy")
    _edit(path, 0, "usd_per_kwh_low", "1.5")
    with pytest.raises(catalog.CatalogError, match="low <= typical <= high"):
        catalog.energy(path)


def test_env_var_substitutes_a_table(tmp_path, monkeypatch):
    path = _copy_table(tmp_path, "gpus")
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    row = df[df["id"] == "h100-sxm"].copy()
    row["id"] = "my-gpu"
    row["aliases"] = "My GPU"
    row["mem_bw_gbps"] = "4000"
    pd.concat([df, row]).to_csv(path, index=False)
    monkeypatch.setenv(catalog.ENV_VARS["gpus"], str(path))
    assert catalog.gpu("my gpu").mem_bw_gbps == 4000


def test_returned_frames_are_copies():
    df = catalog.gpus()
    df.loc[0, "memory_gb"] = -1
    assert catalog.gpus().loc[0, "memory_gb"] > 0


# ---------------------------------------------------------------------------------------
# User overlays: rows added to the bundled tables, overriding by key
# ---------------------------------------------------------------------------------------
def _one_row(tmp_path, table, key, **changes):
    """A user file holding one bundled row (chosen by its key) with some values changed."""
    df = pd.read_csv(catalog.DATA_DIR / f"{table}.csv", dtype=str, keep_default_na=False)
    row = df[df[catalog.key_columns(table)[0]] == key].head(1).copy()
    for col, value in changes.items():
        row[col] = value
    path = tmp_path / f"my_{table}.csv"
    row.to_csv(path, index=False)
    return path


def test_one_row_overlay_overrides_a_bundled_price_and_keeps_the_rest(tmp_path, monkeypatch):
    bundled = catalog.cloud_prices()
    path = _one_row(tmp_path, "cloud_prices", "lambda-on-demand-cloud-h100-sxm-1x",
                    usd_per_hour="1.50", usd_per_gpu_hour="1.50")
    monkeypatch.setenv(catalog.ENV_VARS["cloud_prices"], str(path))
    df = catalog.cloud_prices()
    assert len(df) == len(bundled)
    row = df[df["id"] == "lambda-on-demand-cloud-h100-sxm-1x"].iloc[0]
    assert row["usd_per_gpu_hour"] == 1.50 and row["origin"] == "user"
    assert (df["origin"] == "user").sum() == 1
    assert df.attrs["overridden"] == ["lambda-on-demand-cloud-h100-sxm-1x"]
    # the override keeps the bundled row's place in the table
    assert list(df["id"]) == list(bundled["id"])


def test_tables_held_reads_each_table_once_for_the_block(tmp_path, monkeypatch):
    path = _one_row(tmp_path, "cloud_prices", "lambda-on-demand-cloud-h100-sxm-1x",
                    usd_per_hour="1.50", usd_per_gpu_hour="1.50")
    monkeypatch.setenv(catalog.ENV_VARS["cloud_prices"], str(path))

    def price():
        df = catalog.cloud_prices()
        return float(df.loc[df["id"] == "lambda-on-demand-cloud-h100-sxm-1x", "usd_per_gpu_hour"].iloc[0])

    def rewrite(usd):
        text = path.read_text().replace("1.50", usd)
        path.write_text(text)
        st = path.stat()
        os.utime(path, (st.st_atime, st.st_mtime + 10))  # a later modification time

    assert price() == 1.50
    with catalog.tables_held():
        assert price() == 1.50
        rewrite("1.25")
        with catalog.tables_held():
            assert price() == 1.50  # as read at the start of the outer block
        assert price() == 1.50
        # a table not yet read in the block is read from its files then
        assert catalog.gpu("h100-sxm").id == "h100-sxm"
    assert price() == 1.25  # outside, every lookup sees the file as it is now
    with catalog.tables_held(), catalog.bundled_only():
        bundled = catalog.cloud_prices()
        assert (bundled["origin"] == "bundled").all()
    assert price() == 1.25


def test_selections_share_the_tables_row_provenance():
    # pandas copies a table's attrs on every selection; the per-row file and line lists are
    # immutable, so the copies share them rather than copying an entry per row each time
    df = catalog.cloud_prices()
    part = df[df["provider"] == df["provider"].iloc[0]]
    assert part.attrs["files"] is df.attrs["files"] and part.attrs["lines"] is df.attrs["lines"]
    assert df.iloc[3].attrs["lines"] is df.attrs["lines"]
    assert len(df.attrs["lines"]) == len(df) and df.attrs["lines"][0] == 2
    with pytest.raises(TypeError):
        df.attrs["lines"][0] = 5


def test_overlay_adds_new_rows_after_the_bundled_ones(tmp_path):
    path = _one_row(tmp_path, "cloud_prices", "lambda-on-demand-cloud-h100-sxm-1x",
                    id="acme-h100-negotiated", provider="acme", usd_per_hour="1.20",
                    usd_per_gpu_hour="1.20")
    df = catalog.cloud_prices(path)
    assert len(df) == len(catalog.cloud_prices()) + 1
    assert df.iloc[-1]["id"] == "acme-h100-negotiated" and df.iloc[-1]["origin"] == "user"
    assert df.attrs["overridden"] == []


def test_replace_uses_only_the_user_rows(tmp_path, monkeypatch):
    path = _one_row(tmp_path, "cloud_prices", "lambda-on-demand-cloud-h100-sxm-1x")
    assert len(catalog.cloud_prices(path, replace=True)) == 1
    monkeypatch.setenv(catalog.ENV_VARS["cloud_prices"], str(path))
    monkeypatch.setenv(catalog.REPLACE_ENV_VARS["cloud_prices"], "1")
    assert list(catalog.cloud_prices()["id"]) == ["lambda-on-demand-cloud-h100-sxm-1x"]
    monkeypatch.setenv(catalog.REPLACE_ENV_VARS["cloud_prices"], "perhaps")
    with pytest.raises(catalog.CatalogError, match="HWCOST_CLOUD_PRICES_REPLACE.*yes/no"):
        catalog.cloud_prices()


def test_replace_without_a_user_table_names_both_variables(monkeypatch):
    monkeypatch.delenv(catalog.ENV_VARS["gpus"], raising=False)
    monkeypatch.setenv(catalog.REPLACE_ENV_VARS["gpus"], "yes")
    with pytest.raises(catalog.CatalogError, match="HWCOST_GPUS_CSV.*HWCOST_GPUS_REPLACE"):
        catalog.gpus()


def test_user_table_may_leave_out_optional_columns(tmp_path):
    path = _one_row(tmp_path, "gpus", "h100-sxm", id="my-h100", aliases="", name="My H100")
    df = pd.read_csv(path, dtype=str, keep_default_na=False).drop(columns=["fp4_tflops", "notes"])
    df.to_csv(path, index=False)
    g = catalog.gpus(path)
    mine = g[g["id"] == "my-h100"].iloc[0]
    assert math.isnan(mine["fp4_tflops"]) and mine["origin"] == "user"
    assert catalog.gpu("my-h100", path).tensor_tflops("fp4") is None


def test_user_price_may_name_a_user_gpu(tmp_path, monkeypatch):
    (tmp_path / "bad").mkdir()
    gpu_path = _one_row(tmp_path, "gpus", "h100-sxm", id="my-h100", aliases="", name="My H100")
    price_path = _one_row(tmp_path, "cloud_prices", "lambda-on-demand-cloud-h100-sxm-1x",
                          id="acme-my-h100", gpu_id="my-h100")
    monkeypatch.setenv(catalog.ENV_VARS["gpus"], str(gpu_path))
    df = catalog.cloud_prices(price_path)
    assert df.iloc[-1]["gpu_id"] == "my-h100"
    bad = _one_row(tmp_path / "bad", "cloud_prices", "lambda-on-demand-cloud-h100-sxm-1x",
                   id="acme-typo", gpu_id="my-h10")
    with pytest.raises(catalog.CatalogError, match=r"my_cloud_prices.csv: row 2.*closest: my-h100"):
        catalog.cloud_prices(bad)


def test_bundled_only_ignores_the_users_tables(tmp_path, monkeypatch):
    path = _one_row(tmp_path, "cloud_prices", "lambda-on-demand-cloud-h100-sxm-1x")
    monkeypatch.setenv(catalog.ENV_VARS["cloud_prices"], str(path))
    monkeypatch.setenv(catalog.REPLACE_ENV_VARS["cloud_prices"], "1")
    assert len(catalog.cloud_prices()) == 1
    with catalog.bundled_only():
        df = catalog.cloud_prices()
        assert len(df) > 1 and set(df["origin"]) == {"bundled"}
    assert len(catalog.cloud_prices()) == 1
# ----------------------------------------------------------------------------------------
# Purchase units and colocation rates
# ----------------------------------------------------------------------------------------
def test_every_catalog_gpu_has_a_purchase_unit():
    units = set(catalog.purchase_units()["gpu_id"])
    assert set(catalog.gpu_ids()) <= units


@pytest.mark.parametrize("gpu_id, sold_as, unit, box", [
    ("h100-sxm", "hgx-4", 4, 8), ("h200-sxm", "hgx-4", 4, 8), ("b200", "hgx-8", 8, 8),
    ("mi300x", "oam-ubb-8", 8, 8), ("gb200", "nvl72-rack", 72, 72), ("rtx-4090", "workstation", 1, 4),
    ("l40s", "card", 1, 8),
])
def test_purchase_units_of_known_parts(gpu_id, sold_as, unit, box):
    row = catalog.purchase_unit(gpu_id)
    assert (row["sold_as"], row["gpus_per_unit"], row["max_gpus_per_box"]) == (sold_as, unit, box)


def test_purchase_unit_lookup_takes_aliases_and_suggests_ids():
    assert catalog.purchase_unit("H100 SXM")["gpu_id"] == "h100-sxm"
    with pytest.raises(catalog.CatalogError, match="closest: h100-sxm"):
        catalog.purchase_unit("h100-sxn")


def test_purchase_units_may_name_gpus_the_gpu_table_lacks(tmp_path):
    # rows for GPUs added to gpus.csv elsewhere must not break loading
    path = _copy_table(tmp_path, "purchase_units")
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    extra = df.iloc[[0]].copy()
    extra["gpu_id"] = "future-gpu"
    pd.concat([df, extra]).to_csv(path, index=False)
    assert "future-gpu" in set(catalog.purchase_units(path)["gpu_id"])


def test_box_must_hold_whole_purchase_units(tmp_path):
    path = _copy_table(tmp_path, "purchase_units")
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    row = int(df.index[df["gpu_id"] == "h100-sxm"][0])
    _edit(path, row, "max_gpus_per_box", "6")
    with pytest.raises(catalog.CatalogError, match="multiple of gpus_per_unit"):
        catalog.purchase_units(path)


def test_optional_range_must_be_complete(tmp_path):
    path = _copy_table(tmp_path, "energy")
    _edit(path, 2, "colocation_usd_per_kw_month_high", "")
    with pytest.raises(catalog.CatalogError, match="all three values, or none"):
        catalog.energy(path)


def test_colocation_rate_of_the_colocation_setting():
    row = catalog.energy().set_index("id").loc["us-industrial-colo"]
    assert row["colocation_usd_per_kw_month_typical"] == 196
    assert catalog.energy().set_index("id").loc["us-residential"].isna()["colocation_usd_per_kw_month_typical"]


def test_older_energy_table_without_colocation_columns_loads(tmp_path):
    path = _copy_table(tmp_path, "energy")
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df.drop(columns=[c for c in df if c.startswith("colocation")]).to_csv(path, index=False)
    assert catalog.energy(path)["colocation_usd_per_kw_month_typical"].isna().all()
