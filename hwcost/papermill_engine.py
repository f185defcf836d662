"""The ``hwcost-resilient`` papermill engine, for running notebooks with papermill itself.

``papermill --engine hwcost-resilient --execution-timeout 600 IN.ipynb OUT.ipynb`` executes
like papermill's default engine but picks up kernel replies that nbclient can miss after a
widget cell (nbclient issue 312), so the run never waits for the timeout; ``hwcost run`` uses
the same engine. Registered through the ``papermill.engine`` entry point in pyproject.toml.
"""

from .report import resilient_engine

ResilientEngine = resilient_engine()
