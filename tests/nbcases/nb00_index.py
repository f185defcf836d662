from hwcost import catalog, report

STEM = "00_index"
# a threshold longer than any price's age flags nothing
PARAMS = {"max_price_age_days": 36_500}  # the largest accepted: every price counts as fresh


def check_default(r):
    assert r["n_gpus_in_catalog"] == len(catalog.gpus())
    assert r["n_models_in_catalog"] == len(catalog.llms())
    assert r["n_benchmarks"] >= 30
    # the index lists every notebook of the collection, itself included
    assert r["n_notebooks"] == len(report.notebooks()) >= 10


def check_alternative(r, default):
    assert r["n_stale_prices"] == 0
    assert r["n_cloud_offers"] == default["n_cloud_offers"]
