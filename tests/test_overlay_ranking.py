"""A one-row price file changes the ranking, and the option priced from it says so."""

import pandas as pd

from hwcost import catalog, recommend
from hwcost.requirements import SLO, Constraints, Workload

W = Workload(model="llama-3.1-70b", requests_per_day=20_000, input_tokens=500, output_tokens=200)
C = Constraints(slo=SLO(ttft_s=2.0, tpot_s=0.1), gpus=("h100-sxm",), precisions=("fp8",),
                allow_self_hosted=False, allow_api=False, cloud_autoscale=False)


def test_one_row_price_overlay_changes_the_ranking(tmp_path, monkeypatch):
    before = recommend.rank(W, C, simulate=False)
    first = before[before["rank"] == 1].iloc[0]
    assert first["offer_id"] != "lambda-on-demand-cloud-h100-sxm-1x"
    df = pd.read_csv(catalog.DATA_DIR / "cloud_prices.csv", dtype=str, keep_default_na=False)
    mine = df[df["id"] == "lambda-on-demand-cloud-h100-sxm-1x"].copy()
    mine["usd_per_hour"] = mine["usd_per_gpu_hour"] = "0.99"  # a negotiated price
    path = tmp_path / "negotiated.csv"
    mine.to_csv(path, index=False)
    monkeypatch.setenv(catalog.ENV_VARS["cloud_prices"], str(path))
    after = recommend.rank(W, C, simulate=False)
    top = after[after["rank"] == 1].iloc[0]
    assert top["offer_id"] == "lambda-on-demand-cloud-h100-sxm-1x"
    assert top["notes"].startswith(recommend.USER_PRICE_NOTE)
    assert top["total_usd"] < first["total_usd"]
    # every other offer is still considered, at its bundled price
    assert set(after["offer_id"]) == set(before["offer_id"])
    others = after[after["offer_id"] != "lambda-on-demand-cloud-h100-sxm-1x"]
    assert not others["notes"].str.contains(recommend.USER_PRICE_NOTE).any()
