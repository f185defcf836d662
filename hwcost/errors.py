"""The one family of expected failures.

Everything hwcost raises on purpose (bad input, an unknown id, a constraint nothing meets, a
notebook that failed) is a :class:`HwcostError`. It subclasses ``ValueError`` so code that
caught ``ValueError`` keeps working. Anything else that escapes is a bug: the ``hwcost``
command prints a one-line message for a ``HwcostError`` and a traceback, marked as a bug, for
anything else.

This module imports nothing from hwcost, so every layer can use it.
"""

from __future__ import annotations


class HwcostError(ValueError):
    """An expected failure; the message says what was wrong and what is accepted."""


class UsageError(HwcostError):
    """A command-line invocation that cannot be carried out as written."""


class CatalogError(HwcostError):
    """A data table or a lookup in it failed; the message names the file, row and column."""


class ParameterError(HwcostError):
    """A notebook parameter has a value that cannot be used."""


class ScenarioError(HwcostError):
    """A scenario file cannot be used; the message names the file, the key and the reason."""


class NoFeasibleOption(HwcostError):
    """No option meets every constraint; the message names the binding constraint.

    The full table (every option with the constraint it fails) is in ``.table``.
    """

    def __init__(self, message: str, table=None):
        super().__init__(message)
        self.table = table


class NotebookFailed(HwcostError, RuntimeError):
    """A notebook raised while executing; the message names the notebook and the cell.

    Also a ``RuntimeError``, as it was before the error family existed.
    """


class HwcostWarning(UserWarning):
    """Input that is valid but probably not what was meant (a filter that matches nothing)."""


__all__ = ["HwcostError", "HwcostWarning", "UsageError", "CatalogError", "ParameterError",
           "ScenarioError", "NoFeasibleOption", "NotebookFailed"]
