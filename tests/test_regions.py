"""Normalized regions, exact data-residency matching and filters that match nothing."""

import warnings

import pytest

from hwcost import catalog, recommend
from hwcost.requirements import SLO, Constraints, Workload


def test_every_bundled_region_is_normalized():
    regions = catalog.cloud_prices()["region"]
    stated = [r for r in regions if isinstance(r, str)]
    assert stated and all(catalog.REGION_PATTERN.match(r) for r in stated)


@pytest.mark.parametrize("region, wanted, ok", [
    ("US:us-east-1", "us", True),
    ("US:us-east-1", "US:us-east-1", True),
    ("US:us-east-1", "us:us-west-2", False),
    ("US", "us:us-east-1", False),  # the offer does not say which US region
    ("DE:eu-central-1", "eu", True),  # EU covers its member states
    ("DE:eu-central-1", "de", True),
    ("EU", "de", False),  # somewhere in the EU is not necessarily Germany
    ("GB", "eu", False),
    ("GLOBAL", "us", False),
    (None, "us", False),
    ("", "eu", False),
])
def test_residency_matches_exactly(region, wanted, ok):
    assert catalog.region_matches(region, wanted) is ok


@pytest.mark.parametrize("bad", ["us-east", "europe", "GLOBAL", "u"])
def test_residency_request_must_be_a_region(bad):
    with pytest.raises(catalog.CatalogError, match="is not a region; expected an area code"):
        Constraints(data_residency=bad)


def test_bad_region_in_a_user_table_is_named(tmp_path):
    import pandas as pd

    df = pd.read_csv(catalog.DATA_DIR / "cloud_prices.csv", dtype=str, keep_default_na=False).head(1)
    df["region"] = "us-east-1"
    path = tmp_path / "mine.csv"
    df.to_csv(path, index=False)
    with pytest.raises(catalog.CatalogError, match=r"row 2, column 'region': not a region 'us-east-1'"):
        catalog.cloud_prices(path)


def test_unknown_provider_names_the_closest():
    with pytest.raises(ValueError, match="got 'corewave'; did you mean 'coreweave'"):
        Constraints(providers=("corewave",))
    assert Constraints(providers=("CoreWeave",)).providers == ("coreweave",)


W = Workload(model="llama-3.1-8b", requests_per_day=2000, input_tokens=500, output_tokens=200)
SLO1 = SLO(ttft_s=2.0, tpot_s=0.1)


def test_residency_that_matches_no_offer_warns_and_fails_cloud_options():
    c = Constraints(slo=SLO1, gpus=("h100-sxm",), precisions=("fp8",), data_residency="eu",
                    allow_api=False)
    with pytest.warns(recommend.FilterMatchesNothing, match="'EU' matches no cloud offer"):
        t = recommend.rank(W, c, simulate=False)
    cloud = t[t["kind"] == "cloud"]
    assert len(cloud) and cloud["fails"].str.contains("data_residency").all()
    assert t.loc[t["kind"] == "self-hosted", "feasible"].any()


def test_provider_filter_that_matches_nothing_warns():
    c = Constraints(slo=SLO1, gpus=("rtx-4090",), precisions=("fp8",), providers=("azure",),
                    allow_self_hosted=True, allow_api=True)
    with pytest.warns(recommend.FilterMatchesNothing, match="provider 'azure' matches no option"):
        recommend.rank(W, c, simulate=False)


def test_a_matching_residency_does_not_warn():
    c = Constraints(slo=SLO1, gpus=("h100-sxm",), precisions=("fp8",), data_residency="us",
                    allow_api=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", recommend.FilterMatchesNothing)
        t = recommend.rank(W, c, simulate=False)
    ok = t[(t["kind"] == "cloud") & t["feasible"]]
    region = catalog.cloud_prices().set_index("id")["region"]
    assert len(ok) and all(region[o].split(":")[0] == "US" for o in ok["offer_id"])
