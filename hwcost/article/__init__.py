"""Everything about the source article: its claims as data, their recomputation and audit,
its flowchart and "when to use" rules, its size table and its deployment patterns.

- :mod:`~hwcost.article.audit`: every figure of the article, recomputed and audited
  (``hwcost.seed`` is an alias of this module);
- :mod:`~hwcost.article.flowchart`: the selection flowchart and rules as data;
- :mod:`~hwcost.article.sizes`: the model-size-to-GPU table, checked against the catalog;
- :mod:`~hwcost.article.patterns`: the four deployment patterns, ranked.

The article's text itself stays outside the repository; the coverage scan in
:func:`hwcost.article.audit.number_coverage` runs where it is available.
"""

from . import audit, flowchart  # noqa: F401
