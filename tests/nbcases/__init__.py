"""Known answers for each notebook, one module per notebook (``nbXX_*.py``).

Each module defines ``STEM`` (the notebook's file stem), ``PARAMS`` (an alternative parameter
set), ``check_default(results)`` (run on the committed notebook, executed with its defaults)
and ``check_alternative(results, default_results)`` (run on a fresh papermill execution with
``PARAMS``). ``results`` are the values the notebook recorded with ``hwcost.notebook.record``.
"""

import importlib
import pkgutil

CASES = {}
for _info in pkgutil.iter_modules(__path__):
    if _info.name.startswith("nb"):
        _mod = importlib.import_module(f"{__name__}.{_info.name}")
        CASES[_mod.STEM] = {
            "params": _mod.PARAMS,
            "check_default": _mod.check_default,
            "check_alternative": _mod.check_alternative,
        }
