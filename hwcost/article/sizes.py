"""The source article's "Model Size vs. GPU Matching" table, read and checked against the catalog.

:data:`ARTICLE_SIZE_TABLE` is the table, one entry per GPU option it names (with how an
ambiguous name is read), and :data:`SIZE_CLASS_MODELS` a catalog model for each size class.
:func:`hwcost.matching.check_size_table` says for each option whether the GPU(s) hold a model
of that size class and at which precision; ``hwcost.matching`` re-exports these names.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class ArticleOption:
    """One GPU option of one row of the article's "Model Size vs. GPU Matching" section.

    ``text`` is the article's line; ``gpu_id`` and ``n_gpus`` are how it is read here and
    ``reading`` says why (where the text is ambiguous).
    """

    size_class: str
    setting: str
    text: str
    gpu_id: str
    n_gpus: int
    reading: str = ""


#: A catalog model for each of the article's size classes (chosen with long context windows
#: so that long-prompt checks stay possible; Llama-2's 4,096-token window would not).
SIZE_CLASS_MODELS = {
    "7B": "qwen2.5-7b",
    "13B": "qwen2.5-14b",
    "30B": "qwen2.5-32b",
    "70B": "llama-3.1-70b",
    "405B": "llama-3.1-405b",
}

_A = ArticleOption
#: The article's "Model Size vs. GPU Matching" section, one entry per GPU option it names.
ARTICLE_SIZE_TABLE: tuple[ArticleOption, ...] = (
    _A("7B", "cloud", "Cloud: RTX 4090 adequate, minimal cost", "rtx-4090", 1),
    _A("7B", "self-hosted", "Self-hosted: RTX 4090 or better for local serving", "rtx-4090", 1),
    _A("13B", "cloud", "Cloud: RTX 4090 or L40S", "rtx-4090", 1),
    _A("13B", "cloud", "Cloud: RTX 4090 or L40S", "l40s", 1),
    _A("13B", "self-hosted", "Self-hosted: RTX 4090, RTX 6000", "rtx-4090", 1),
    _A("13B", "self-hosted", "Self-hosted: RTX 4090, RTX 6000", "rtx-6000-ada", 1,
       "'RTX 6000' read as the 48 GB RTX 6000 Ada (the older Quadro RTX 6000 has 24 GB)"),
    _A("30B", "cloud", "Cloud: A100 recommended", "a100-80gb-sxm", 1,
       "'A100' read as the 80 GB A100 (the 40 GB part holds less)"),
    _A("30B", "self-hosted", "Self-hosted: A100 or RTX 6000 Ada", "a100-80gb-pcie", 1,
       "'A100' read as the 80 GB PCIe card usual in own servers"),
    _A("30B", "self-hosted", "Self-hosted: A100 or RTX 6000 Ada", "rtx-6000-ada", 1),
    _A("70B", "cloud", "Cloud: H100 or A100 with careful optimization", "h100-sxm", 1),
    _A("70B", "cloud", "Cloud: H100 or A100 with careful optimization", "a100-80gb-sxm", 1),
    _A("70B", "self-hosted", "Self-hosted: H100, dual A100, or A100-class GPU", "h100-pcie", 1),
    _A("70B", "self-hosted", "Self-hosted: H100, dual A100, or A100-class GPU", "a100-80gb-pcie", 2,
       "'dual A100' = 2 x A100 80 GB"),
    _A("70B", "self-hosted", "Self-hosted: H100, dual A100, or A100-class GPU", "a100-80gb-pcie", 1),
    _A("405B", "cloud", "Cloud: H100 cluster (4+) or B200", "h100-sxm", 4, "'4+' checked at 4"),
    _A("405B", "cloud", "Cloud: H100 cluster (4+) or B200", "b200", 1,
       "'B200' checked as one GPU; an 8-GPU B200 server is another reading"),
    _A("405B", "self-hosted", "Self-hosted: 4-8x H100, B200", "h100-sxm", 4, "low end of '4-8x'"),
    _A("405B", "self-hosted", "Self-hosted: 4-8x H100, B200", "h100-sxm", 8, "high end of '4-8x'"),
    _A("405B", "self-hosted", "Self-hosted: 4-8x H100, B200", "b200", 1,
       "'B200' checked as one GPU"),
)
del _A


def size_table() -> pd.DataFrame:
    """:data:`ARTICLE_SIZE_TABLE` as a DataFrame (with the representative ``model_id``)."""
    rows = [{"size_class": o.size_class, "setting": o.setting, "article_says": o.text,
             "model_id": SIZE_CLASS_MODELS[o.size_class], "gpu_id": o.gpu_id,
             "n_gpus": o.n_gpus, "reading": o.reading} for o in ARTICLE_SIZE_TABLE]
    return pd.DataFrame(rows)
