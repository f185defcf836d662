"""The source article's "Model Size vs. GPU Matching" table, read and checked against the catalog.

:data:`ARTICLE_SIZE_TABLE` is the table, one entry per GPU option it names (with how an
ambiguous name is read); :func:`check_size_table` says for each option whether the GPU(s) hold
a model of that size class and at which precision. ``hwcost.matching`` re-exports these names.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .. import catalog, perf
from ..matching import fit_table, max_batch_by_memory, sorted_precisions


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


def _replica(model, gpu, n, precision, batch_size, input_tokens, output_tokens, engine):
    """(estimate, step_times) of one replica, or None where the combination is not allowed."""
    try:
        est = perf.estimate(model, gpu, n_gpus=n, precision=precision, batch_size=batch_size,
                            input_tokens=input_tokens, output_tokens=output_tokens, engine=engine)
        st = perf.step_times(model, gpu, n_gpus=n, precision=precision, engine=engine)
    except ValueError:
        return None
    return est, st


def check_size_table(precisions=("bf16", "fp8", "int8", "int4"), *, batch_size: int = 1,
                     input_tokens: int = 512, output_tokens: int = 128, engine=None,
                     models: dict | None = None) -> pd.DataFrame:
    """Does each GPU option of the article's size table hold its size class's model?

    For each option, the precisions are tried from the most bits to the fewest (bf16, fp8,
    int8, int4); the first at which ``n_gpus`` of the GPU hold ``batch_size`` sequences of
    ``input_tokens + output_tokens`` is the option's ``precision``.

    Parameters
    ----------
    precisions : sequence of str
        Precisions to try.
    batch_size, input_tokens, output_tokens, engine
        As for :func:`hwcost.perf.estimate`.
    models : dict, optional
        Size class -> catalog model id, overriding :data:`SIZE_CLASS_MODELS`.

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`size_table` plus ``params_b`` [1e9], ``precision`` (``none``
        where nothing fits), ``weights_gb`` at that precision [GB], ``kv_room_gb`` (memory
        left for the KV cache across the replica) [GB], ``max_sequences`` (sequences of
        ``input_tokens + output_tokens`` whose KV fits) [sequences], ``tokens_per_s_per_request``
        at batch 1 [tokens/s], ``min_n_gpus_16bit`` (fewest of this GPU at 16-bit; 0 = none
        up to 64), ``holds`` (``yes, 16-bit`` / ``only at fp8`` ... / ``no``) and ``verdict``
        (one line).
    """
    ps = sorted_precisions(precisions)
    reps = dict(SIZE_CLASS_MODELS, **(models or {}))
    base = size_table()
    objs = {k: catalog.llm(v) for k, v in reps.items()}
    gobj = {g: catalog.gpu(g) for g in base["gpu_id"].unique()}
    base["model_id"] = base["size_class"].map(lambda s: objs[s].id)
    counts = fit_table([objs[s] for s in base["size_class"].unique()], list(gobj.values()),
                       ["bf16", ps[-1]],
                       batch_size=batch_size, input_tokens=input_tokens,
                       output_tokens=output_tokens, engine=engine, max_gpus=64)
    fewest = {(r.model_id, r.gpu_id, r.precision): (int(r.min_n_gpus) if r.status == "fits" else 0)
            for r in counts.itertuples()}
    rows = []
    for o in base.itertuples(index=False):
        m, g = objs[o.size_class], gobj[o.gpu_id]
        found = None
        for p in ps:
            r = _replica(m, g, o.n_gpus, p, batch_size, input_tokens, output_tokens, engine)
            if r is not None and r[0].fits:
                found = (p, *r)
                break
        n16 = fewest[(m.id, o.gpu_id, "bf16")]
        row = {"params_b": float(m.total_params_b), "min_n_gpus_16bit": int(n16)}
        gpu_text = f"{o.n_gpus} x {o.gpu_id}" if o.n_gpus > 1 else f"one {o.gpu_id}"
        if found is None:
            row.update(precision="none", weights_gb=0.0, kv_room_gb=0.0, max_sequences=0,
                       tokens_per_s_per_request=0.0, holds="no")
            need = f"{n16} at 16-bit" if n16 else "more than 64 at 16-bit"
            lowest = fewest[(m.id, o.gpu_id, ps[-1])]
            if lowest:
                need += f", {lowest} at {ps[-1]}"
            row["verdict"] = f"{gpu_text} cannot hold {m.id} at any precision tried; needs {need}"
        else:
            p, est, st = found
            kv_gb = st.kv_capacity_tokens * st.kv_cache_bytes_per_token / 1e9
            seqs = max_batch_by_memory(m, g, n_gpus=o.n_gpus, precision=p,
                                       input_tokens=input_tokens, output_tokens=output_tokens,
                                       engine=engine)
            holds = "yes, 16-bit" if p in ("bf16", "fp16") else f"only at {p}"
            row.update(precision=p, weights_gb=float(est.weights_gb), kv_room_gb=float(kv_gb),
                       max_sequences=int(seqs),
                       tokens_per_s_per_request=float(est.tokens_per_s_per_request), holds=holds)
            row["verdict"] = (f"{gpu_text} holds {m.id} at {p} with {kv_gb:.1f} GB left for "
                              f"the KV cache ({seqs} sequences of {input_tokens + output_tokens} "
                              "tokens)")
        rows.append(row)
    extra = pd.DataFrame(rows)
    return pd.concat([base.reset_index(drop=True), extra], axis=1)
