"""Known answers for each notebook: an alternative parameter set and checks on the results
each run records (``hwcost.notebook.record``).

``check_default(results)`` runs on the committed notebook (executed with its defaults);
``check_alternative(results, default_results)`` on a fresh papermill run with ``params``.
"""

from hwcost import catalog


def _index_default(r):
    assert r["n_gpus_in_catalog"] == len(catalog.gpus())
    assert r["n_models_in_catalog"] == len(catalog.llms())
    assert r["n_benchmarks"] >= 30


def _index_alternative(r, default):
    # a threshold longer than any price's age flags nothing
    assert r["n_stale_prices"] == 0
    assert r["n_cloud_offers"] == default["n_cloud_offers"]


CASES = {
    "00_index": {
        "params": {"max_price_age_days": 100_000},
        "check_default": _index_default,
        "check_alternative": _index_alternative,
    },
}
