"""Test-wide settings."""

from hypothesis import settings

# Property tests draw the same examples on every run, so a red CI run always reproduces.
settings.register_profile("hwcost", derandomize=True, print_blob=True)
settings.load_profile("hwcost")

import os
import tempfile

# The user's own tables (~/.hwcost/<table>.csv) must not change what the tests compute: point
# HWCOST_HOME at an empty folder for the whole run (notebook kernels inherit it).
os.environ["HWCOST_HOME"] = tempfile.mkdtemp(prefix="hwcost-home-")
for _name in list(os.environ):
    if _name.startswith("HWCOST_") and _name.endswith(("_CSV", "_REPLACE")):
        del os.environ[_name]

# The groups of tests that take longest (a whole notebook refitted, every report page drawn in
# Chromium, JupyterLab started) go first: `make test` hands whole modules (and test classes) to
# its two workers in collection order, so a long group started last would run alone at the end.
SLOWEST_FIRST = (
    "tests/test_notebooks.py::TestExecute_10_model_validation",
    "tests/test_report.py",
    "tests/test_report_charts.py",
    "tests/test_money_rendering.py",
    "tests/test_notebooks.py::TestExecute_11_decision_memo",
    "tests/test_notebooks.py::TestExecute_08_selection_flowchart",
    "tests/test_scenario_report.py",
    "notebooks/11_decision_memo.ipynb",
)


def _rank(item) -> int:
    for i, prefix in enumerate(SLOWEST_FIRST):
        if item.nodeid == prefix or item.nodeid.startswith(prefix + "::"):
            return i
    return len(SLOWEST_FIRST)


def pytest_collection_modifyitems(config, items):
    items.sort(key=_rank)  # stable: the order within a group and among the rest is kept
