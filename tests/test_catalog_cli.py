"""'hwcost catalog' lists the new GPUs with their sources and marks user rows."""

import io

import pandas as pd

from hwcost import catalog, cli

NEW_GPUS = ("a10g", "t4", "l40", "rtx-a6000", "rtx-pro-6000", "h200-nvl", "b300", "gb300",
            "mi355x", "gaudi3")


def _csv(argv):
    out, err = io.StringIO(), io.StringIO()
    assert cli.main(argv + ["--format", "csv"], out=out, err=err) == 0, err.getvalue()
    return pd.read_csv(io.StringIO(out.getvalue()))


def test_catalog_gpus_lists_the_new_gpus_with_sources():
    df = _csv(["catalog", "gpus"]).set_index("id")
    for g in NEW_GPUS:
        assert df.loc[g, "source"].count("http") >= 1, g
        assert df.loc[g, "origin"] == "bundled"
    assert df.loc["b300", "fp4_tflops"] == 13500
    assert pd.isna(df.loc["h200-nvl", "fp4_tflops"])


def test_catalog_marks_user_rows(tmp_path, monkeypatch):
    src = pd.read_csv(catalog.DATA_DIR / "cloud_prices.csv", dtype=str, keep_default_na=False)
    mine = src[src["id"] == "runpod-secure-h100-sxm-1x"].copy()
    mine["usd_per_hour"] = mine["usd_per_gpu_hour"] = "1.99"
    path = tmp_path / "mine.csv"
    mine.to_csv(path, index=False)
    monkeypatch.setenv(catalog.ENV_VARS["cloud_prices"], str(path))
    df = _csv(["catalog", "prices", "--gpu", "h100-sxm"]).set_index("id")
    assert df.loc["runpod-secure-h100-sxm-1x", "origin"] == "user"
    assert df.loc["runpod-secure-h100-sxm-1x", "usd_per_gpu_hour"] == 1.99
    assert (df.drop(index="runpod-secure-h100-sxm-1x")["origin"] == "bundled").all()
