"""Alias of :mod:`hwcost.article.audit`, kept so that ``from hwcost import seed`` keeps working."""

import sys

from .article import audit as _audit

sys.modules[__name__] = _audit
