"""Price snapshots: validation, the dated history, what changed."""

import datetime as dt
import io

import pandas as pd
import pytest

from hwcost import catalog, cli


def _snapshot(tmp_path, table, edits, name="snap.csv"):
    df = pd.read_csv(catalog.DATA_DIR / f"{table}.csv", dtype=str, keep_default_na=False)
    for key, col, value in edits:
        df.loc[df[catalog.key_columns(table)[0]] == key, col] = value
    path = tmp_path / name
    df.to_csv(path, index=False)
    return path


def test_bundled_history_holds_every_price_row_by_date():
    h = catalog.price_history()
    cloud = catalog.cloud_prices(replace=False)
    assert set(cloud["id"]) <= set(h.loc[h["table"] == "cloud_prices", "key"])
    assert h["as_of"].min() == min(catalog.load_table(t, replace=False)["as_of"].min()
                                   for t in catalog.PRICE_METRICS)
    assert (h["value"] > 0).all()


def test_import_reports_changes_and_appends_to_the_history(tmp_path):
    hist = tmp_path / "history.csv"
    hist.write_text((catalog.DATA_DIR / "price_history.csv").read_text())
    before = len(catalog.price_history(hist))
    row = catalog.cloud_prices(replace=False).query("id == 'runpod-secure-h100-sxm-1x'").iloc[0]
    snap = _snapshot(tmp_path, "cloud_prices", [
        ("runpod-secure-h100-sxm-1x", "usd_per_hour", "2.99"),
        ("runpod-secure-h100-sxm-1x", "usd_per_gpu_hour", "2.99"),
        ("runpod-secure-h100-sxm-1x", "as_of", "2026-12-01"),
    ])
    res = catalog.import_price_snapshot(snap, history=hist, imported_on=dt.date(2026, 12, 2))
    assert res.table == "cloud_prices"
    ch = res.changes.set_index("key")
    assert ch.loc["runpod-secure-h100-sxm-1x", "old_value"] == row["usd_per_gpu_hour"]
    assert ch.loc["runpod-secure-h100-sxm-1x", "new_value"] == 2.99
    assert ch.loc["runpod-secure-h100-sxm-1x", "change_pct"] == pytest.approx(100 * (2.99 / 3.49 - 1))
    after = catalog.price_history(hist)
    # only the changed price is new to the history; unchanged rows already recorded are kept once
    assert len(after) == before + res.appended and res.appended >= 1
    assert (after.iloc[:before].reset_index(drop=True)
            .equals(catalog.price_history(catalog.DATA_DIR / "price_history.csv")))
    # importing the same snapshot again changes nothing
    again = catalog.import_price_snapshot(snap, history=hist)
    assert again.appended == 0 and len(again.changes) == 0


def test_a_bad_snapshot_is_rejected_and_the_history_left_alone(tmp_path):
    hist = tmp_path / "history.csv"
    hist.write_text((catalog.DATA_DIR / "price_history.csv").read_text())
    text = hist.read_text()
    snap = _snapshot(tmp_path, "cloud_prices", [("runpod-secure-h100-sxm-1x", "gpu_id", "h100-sxn")])
    with pytest.raises(catalog.CatalogError, match="snap.csv: row .*closest: h100-sxm"):
        catalog.import_price_snapshot(snap, history=hist)
    assert hist.read_text() == text


def test_cli_prices_import_and_dry_run(tmp_path, monkeypatch):
    hist = tmp_path / "history.csv"
    hist.write_text((catalog.DATA_DIR / "price_history.csv").read_text())
    monkeypatch.setenv(catalog.PRICE_HISTORY_ENV_VAR, str(hist))
    snap = _snapshot(tmp_path, "api_prices", [
        ("together-llama-3.1-8b-turbo", "usd_per_million_input_tokens", "0.10"),
        ("together-llama-3.1-8b-turbo", "as_of", "2026-12-01"),
    ])
    text = hist.read_text()
    out, err = io.StringIO(), io.StringIO()
    assert cli.main(["prices", "import", str(snap), "--dry-run"], out=out, err=err) == 0
    assert "api_prices" in err.getvalue() and "dry run" in err.getvalue()
    assert "together-llama-3.1-8b-turbo" in out.getvalue()
    assert hist.read_text() == text
    out, err = io.StringIO(), io.StringIO()
    assert cli.main(["prices", "import", str(snap)], out=out, err=err) == 0
    h = catalog.price_history(hist)
    last = h[(h["key"] == "together-llama-3.1-8b-turbo")
             & (h["metric"] == "usd_per_million_input_tokens")].iloc[-1]
    assert (last["value"], last["as_of"]) == (0.10, dt.date(2026, 12, 1))


def test_price_trend_takes_the_cheapest_price_in_effect_on_each_date():
    from hwcost import pricing

    def rec(key, value, day):
        return {"table": "cloud_prices", "key": key, "item": "h100-sxm", "provider": key.split("-")[0],
                "metric": "usd_per_gpu_hour", "value": value, "as_of": dt.date(2026, *day),
                "imported_on": dt.date(2026, *day), "source": "test"}

    hist = pd.DataFrame([rec("lambda-on-demand-cloud-h100-sxm-1x", 4.29, (1, 1)),
                         rec("runpod-secure-h100-sxm-1x", 3.49, (3, 1)),
                         rec("lambda-on-demand-cloud-h100-sxm-1x", 2.99, (6, 1)),
                         rec("coreweave-standard-h100-sxm-8x-spot", 1.00, (2, 1))])  # spot: left out
    t = pricing.price_trend(hist, today=dt.date(2026, 11, 27), max_age_days=180)
    assert list(t["as_of"]) == [dt.date(2026, 1, 1), dt.date(2026, 3, 1), dt.date(2026, 6, 1)]
    assert list(t["usd_per_gpu_hour"]) == [4.29, 3.49, 2.99]
    assert list(t["n_offers"]) == [1, 2, 2]
    assert t["cheapest_offer"].iloc[-1] == "lambda-on-demand-cloud-h100-sxm-1x"
    assert not t["stale"].any()  # the newest price, 2026-06-01, is 179 days old
    assert pricing.price_trend(hist, today=dt.date(2026, 12, 1), max_age_days=180)["stale"].all()
