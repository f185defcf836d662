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
