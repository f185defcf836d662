"""What each inference optimization does to memory, speed and the price of a token.

One function per lever, all computed with :mod:`hwcost.perf` (physics), :mod:`hwcost.serving`
(queues) and :mod:`hwcost.economics` (money); nothing here has physics of its own beyond
the what-if model transformations documented below.

Levers
------
Quantization
    :func:`quantization_table`: weights, fewest GPUs, batch-1 speed on the same hardware and
    cost per token at the operating batch, for every precision the GPU runs.
Batching
    :func:`batch_size_effect` (one batch against another, the article's example) and
    :func:`scheduler_comparison` (static, dynamic and continuous batching in the serving
    simulator: latency at a fixed rate, highest rate within an SLO, users served per GPU).
Model caching
    :func:`load_time_table` (weights over read bandwidth) and :func:`keep_warm_vs_scale_to_zero`
    (an always-on replica against one that starts on demand, at sparse traffic).
Speculative decoding
    :func:`speculative_table` (Leviathan et al.'s expected speedup over acceptance rate, draft
    length and draft cost) and :func:`speculative_at_batch` (the same with the draft cost and
    the verification cost taken from the step times at a batch size).
Flash attention
    :func:`flash_attention_table`: prefill time and memory with and without it at growing
    prompt lengths.
What-ifs
    :func:`distill` and :func:`prune_layers` return a smaller model (fewer layers of the same
    shape, so weights, FLOPs and KV cache shrink together); :func:`prune_tokens` shortens the
    prompt. Their sizes are inputs: the quality they cost is outside this package.
Stacking
    :func:`lever_waterfall` applies the levers one after another and returns the USD per
    million output tokens after each step.

Cost convention: ``usd_per_million_output_tokens = replica_usd_per_hour / (3600 x
output_tokens_per_s x utilization) x 1e6`` (:func:`hwcost.economics.cost_per_million_tokens`)
where ``output_tokens_per_s`` is the generated-token throughput of the replica at its batch,
the time spent on the prompts included. This is the article's convention (its cost per 1M
tokens divides an hourly price by a generation rate). Prompt tokens are not counted in the
denominator, unlike ``usd_per_million_tokens`` in :mod:`hwcost.recommend`, which divides by
input + output tokens: for requests of ``input_tokens`` + ``output_tokens`` that figure is
``usd_per_million_output_tokens x output_tokens / (input_tokens + output_tokens)``.

The operating batch (:func:`operating_batch`) is the largest batch that fits memory, stays
within the engine's batch cap and keeps the time per output token within a target: the
batch continuous batching holds at high load when admission is limited by a latency target.

References
----------
Leviathan, Kalman & Matias, "Fast Inference from Transformers via Speculative Decoding",
ICML 2023 (Eq. 1, Theorem 3.8). Dao et al., "FlashAttention", NeurIPS 2022; Dao,
"FlashAttention-2", ICLR 2024. Yu et al., "Orca", OSDI 2022 and Kwon et al., "Efficient Memory
Management for Large Language Model Serving with PagedAttention", SOSP 2023 (continuous
batching). Frantar et al., "GPTQ", ICLR 2023; Lin et al., "AWQ", MLSys 2024 (weight-only
quantization). Hinton, Vinyals & Dean, "Distilling the Knowledge in a Neural Network", 2015;
Sanh et al., "DistilBERT", 2019 (a student with half the layers). Men et al., "ShortGPT:
Layers in Large Language Models are More Redundant Than You Expect", 2024; Gromov et al.,
"The Unreasonable Ineffectiveness of the Deeper Layers", 2024 (layer pruning). Jiang et al.,
"LLMLingua: Compressing Prompts for Accelerated Inference of Large Language Models", EMNLP
2023 (prompt token pruning). Muralidharan et al., "Compact Language Models via Pruning and
Knowledge Distillation", 2024 (pruning followed by distillation).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from . import catalog, economics, perf, serving, validate
from .errors import HwcostError
from .units import SECONDS_PER_HOUR
from .workload import SLO, Workload

__all__ = [
    "SECONDS_PER_HOUR",
    "DEFAULT_IDLE_TIMEOUT_S",
    "STORAGE_READ_GBPS",
    "WHAT_IF_SOURCES",
    "gpu_rate",
    "operating_batch",
    "Speculation",
    "Point",
    "serving_point",
    "quantization_table",
    "cheapest_precision",
    "batch_size_effect",
    "scheduler_comparison",
    "load_time_table",
    "keep_warm_vs_scale_to_zero",
    "speculative_table",
    "SpeculativeResult",
    "speculative_at_batch",
    "flash_attention_table",
    "prune_layers",
    "distill",
    "prune_tokens",
    "lever_waterfall",
]

#: Idle time after which a scale-to-zero replica stops, unless given. [s]
DEFAULT_IDLE_TIMEOUT_S = 300.0

#: Sustained read bandwidth of places a model's weights are loaded from [GB/s]: line rates
#: converted to bytes (10 GbE = 10 Gbit/s / 8) and datasheet sequential reads of NVMe drives.
STORAGE_READ_GBPS = {
    "10 GbE network store": 1.25,
    "NVMe SSD, PCIe 3.0": 2.0,
    "25 GbE network store": 3.125,
    "NVMe SSD, PCIe 4.0": 7.0,
    "100 GbE network store": 12.5,
}
STORAGE_NOTES = {
    "10 GbE network store": "line rate 10 Gbit/s / 8 bits per byte; real reads are lower",
    "NVMe SSD, PCIe 3.0": "sequential read of PCIe 3.0 x4 drives (about 3.5 GB/s peak), "
                          "sustained lower on large files",
    "25 GbE network store": "line rate 25 Gbit/s / 8",
    "NVMe SSD, PCIe 4.0": "sequential read of fast PCIe 4.0 x4 drives, e.g. Samsung 990 PRO "
                          "datasheet: 7,450 MB/s",
    "100 GbE network store": "line rate 100 Gbit/s / 8",
}

#: What the source article says about the what-if levers, and the literature behind them.
WHAT_IF_SOURCES = {
    "distillation": ("article: 'smaller models with 85-95% of larger model quality ... 50-80% "
                     "cost reduction possible'; modelled as a student with fewer layers of the "
                     "same shape (Sanh et al. 2019, DistilBERT: half the layers)"),
    "layer pruning": ("article: 'Removing less-important layers or neurons. 10-30% reduction "
                      "with minimal quality loss'; Men et al. 2024 (ShortGPT), Gromov et al. "
                      "2024"),
    "token pruning": ("article: 'Reduces computation 15-30% with minimal quality loss on "
                      "long-context tasks'; modelled as a shorter prompt (Jiang et al. 2023, "
                      "LLMLingua)"),
}


# ----------------------------------------------------------------------------------------
# Validation helpers
# ----------------------------------------------------------------------------------------
def _number(name: str, value) -> float:
    return validate.number(name, value)


def _positive(name: str, value) -> float:
    return validate.positive(name, value)


def _non_negative(name: str, value) -> float:
    return validate.non_negative(name, value)


def _fraction(name: str, value) -> float:
    return validate.fraction(name, value)


def _count(name: str, value) -> int:
    return validate.positive_int(name, value)


def _usd_per_million(usd_per_hour: float, tokens_per_s: float, utilization: float = 1.0) -> float:
    return float(economics.cost_per_million_tokens(usd_per_hour, tokens_per_s, utilization))


# ----------------------------------------------------------------------------------------
# Prices and the operating batch
# ----------------------------------------------------------------------------------------
def gpu_rate(gpu, provider: str | None = None, pricing: str = "on-demand") -> economics.CloudRate:
    """The catalog price of one GPU-hour: the provider's cheapest offer, else the cheapest.

    Parameters
    ----------
    gpu : str or catalog.GPU
        GPU id or object.
    provider : str, optional
        Provider slug (``runpod``, ``lambda``, ...). When the provider has no such offer for
        this GPU, the cheapest offer of any provider is used (the ``provider`` of the result
        says which).
    pricing : str
        ``on-demand``, ``spot`` or ``reserved``.

    Returns
    -------
    hwcost.economics.CloudRate
        ``usd_per_gpu_hour`` [USD/h], ``provider``, ``offer_id``.

    Raises
    ------
    ValueError
        No catalog offer for this GPU at this pricing.
    """
    g = catalog.gpu(gpu)
    if provider is not None:
        try:
            return economics.cloud_rate(provider, g, pricing)
        except ValueError:
            pass
    offers = economics.cloud_offers(g, pricing=pricing)
    if offers.empty:
        with_offers = sorted(set(economics.cloud_offers(pricing=pricing)["gpu_id"]))
        raise HwcostError(f"no {pricing} cloud offer for GPU {g.id!r} in the catalog; GPUs with "
                         f"offers: {', '.join(with_offers)}")
    return economics.cloud_rate(str(offers.iloc[0]["provider"]), g, pricing)


def _fewest_gpus(model, gpu, precision, input_tokens, output_tokens, engine, flash_attention=True):
    n = perf.min_gpus_to_fit(model, gpu, precision, batch_size=1, input_tokens=input_tokens,
                             output_tokens=output_tokens, engine=engine,
                             flash_attention=flash_attention)
    if n is None:
        m = catalog.llm(model)
        raise HwcostError(f"{m.id} at {precision} does not fit any replica of up to "
                         f"{perf.MAX_GPUS} x {catalog.gpu(gpu).id} with {input_tokens}+"
                         f"{output_tokens} tokens")
    return n


def operating_batch(model, gpu, *, n_gpus: int = 1, precision: str = "bf16",
                    input_tokens: int = 512, output_tokens: int = 256,
                    tpot_target_s: float | None = None, engine=None,
                    flash_attention: bool = True) -> int:
    """Largest batch that fits memory with ``tpot_s <= tpot_target_s``.

    :func:`hwcost.perf.largest_batch_meeting` with a TPOT target only (one answer for the
    package): memory and the target decide, not the engine's default sequence cap.

    Parameters
    ----------
    model, gpu, n_gpus, precision, input_tokens, output_tokens, engine, flash_attention
        As for :func:`hwcost.perf.estimate`.
    tpot_target_s : float, optional
        Time per output token target. [s] None: memory alone.

    Returns
    -------
    int
        [sequences]; 0 when not even one sequence fits, or batch 1 misses the target.
    """
    target = None if tpot_target_s is None else _positive("tpot_target_s", tpot_target_s)
    return perf.largest_batch_meeting(model, gpu, tpot_target_s=target, n_gpus=n_gpus,
                                      precision=precision, input_tokens=input_tokens,
                                      output_tokens=output_tokens, engine=engine,
                                      flash_attention=flash_attention)


# ----------------------------------------------------------------------------------------
# Speculative decoding
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Speculation:
    """A draft model proposing tokens for the target to verify.

    Parameters
    ----------
    draft_model : str or catalog.LLM
        The small model (it must share the target's tokenizer in practice).
    acceptance_rate : float
        Probability the target accepts a drafted token, in [0, 1]. [-]
    draft_tokens : int
        Tokens drafted per verification step, >= 1. [tokens]
    """

    draft_model: object
    acceptance_rate: float
    draft_tokens: int

    def __post_init__(self):
        catalog.llm(self.draft_model)
        a = _number("acceptance_rate", self.acceptance_rate)
        if not 0 <= a <= 1:
            raise HwcostError(f"acceptance_rate must be in [0, 1], got {self.acceptance_rate!r}")
        object.__setattr__(self, "acceptance_rate", a)
        object.__setattr__(self, "draft_tokens", _count("draft_tokens", self.draft_tokens))


def speculative_table(acceptance_rates=(0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9),
                      draft_tokens=(2, 4, 8), draft_cost_ratios=(0.05,)) -> pd.DataFrame:
    """Expected speedup of speculative decoding over the grid of its three inputs.

    ``speedup = (1 - a^(k+1)) / ((1 - a)(k c + 1))`` (:func:`hwcost.perf.speculative_speedup`),
    valid when one verification pass costs what one plain decode step costs (memory-bound
    decode at small batch).

    Parameters
    ----------
    acceptance_rates : sequence of float
        ``a`` in [0, 1]. [-]
    draft_tokens : sequence of int
        ``k`` >= 1. [tokens]
    draft_cost_ratios : sequence of float
        ``c``: one draft step over one target step, >= 0. [-]

    Returns
    -------
    DataFrame
        ``acceptance_rate, draft_tokens, draft_cost_ratio, speedup`` [x] and
        ``latency_reduction`` (``1 - 1/speedup``; negative when it slows down) [-].
    """
    a, k, c = np.meshgrid(np.asarray(acceptance_rates, float), np.asarray(draft_tokens, float),
                          np.asarray(draft_cost_ratios, float), indexing="ij")
    s = np.asarray(perf.speculative_speedup(a.ravel(), k.ravel(), c.ravel()), dtype=float)
    return pd.DataFrame({
        "acceptance_rate": a.ravel(), "draft_tokens": k.ravel().astype(int),
        "draft_cost_ratio": c.ravel(), "speedup": s, "latency_reduction": 1.0 - 1.0 / s,
    })


@dataclass(frozen=True)
class SpeculativeResult:
    """Speculative decoding at one batch size (see :func:`speculative_at_batch`).

    Attributes
    ----------
    speedup : float
        Tokens per second with speculation over without. [x]
    expected_tokens_per_step : float
        ``(1 - a^(k+1)) / (1 - a)``: tokens one verification yields on average. [tokens]
    draft_cost_ratio : float
        One draft step over one target decode step at this batch. [-]
    verify_cost_ratio : float
        One verification pass (k + 1 tokens per sequence) over one target decode step. [-]
    batch_size : int
    draft_weights_gb : float
        Memory the draft's weights add. [GB]
    """

    speedup: float
    expected_tokens_per_step: float
    draft_cost_ratio: float
    verify_cost_ratio: float
    batch_size: int
    draft_weights_gb: float


def speculative_at_batch(model, gpu, speculation: Speculation, *, batch_size: int = 1,
                         context_tokens: int = 512, n_gpus: int = 1, precision: str = "bf16",
                         engine=None) -> SpeculativeResult:
    """Speedup of speculative decoding at a batch size, with costs from the step times.

    ``speedup = E / (k c_B + v_B)`` with ``E = (1 - a^(k+1)) / (1 - a)`` tokens per
    verification, ``c_B`` the draft's decode step over the target's at batch ``B`` and
    ``v_B`` the target's pass over ``k + 1`` tokens per sequence over its one-token step.
    At batch 1 a decode step is memory-bound, ``v_B`` is close to 1 and this is Leviathan et
    al.'s Eq. 1; at large batch the step is compute-bound, verifying ``k + 1`` tokens costs
    up to ``k + 1`` steps and speculation stops paying.

    The verification pass is timed as a decode step of ``B (k + 1)`` tokens reading each
    sequence's KV cache once (attention FLOPs of the extra query tokens are not counted: a
    small share). The draft runs on one GPU of the same kind at the same precision.

    Parameters
    ----------
    model, gpu : target model and GPU (ids or objects)
    speculation : Speculation
    batch_size : int
        Sequences decoded together. [sequences]
    context_tokens : int
        Context per sequence during decode. [tokens]
    n_gpus, precision, engine
        The target's replica, as for :func:`hwcost.perf.step_times`.

    Returns
    -------
    SpeculativeResult
    """
    b = _count("batch_size", batch_size)
    ctx = _positive("context_tokens", context_tokens)
    a, k = speculation.acceptance_rate, speculation.draft_tokens
    st = perf.step_times(model, gpu, n_gpus=n_gpus, precision=precision, engine=engine)
    sd = perf.step_times(speculation.draft_model, gpu, n_gpus=1, precision=precision, engine=engine)
    t_target = float(st.decode_step_seconds(b, b * ctx))
    t_verify = float(st.decode_step_seconds(b * (k + 1), b * ctx))
    t_draft = float(sd.decode_step_seconds(b, b * ctx))
    expected = float(perf.speculative_speedup(a, k, 0.0))
    c, v = t_draft / t_target, t_verify / t_target
    return SpeculativeResult(
        speedup=expected / (k * c + v), expected_tokens_per_step=expected, draft_cost_ratio=c,
        verify_cost_ratio=v, batch_size=b,
        draft_weights_gb=perf.weights_bytes(speculation.draft_model, precision, engine) / 1e9,
    )


# ----------------------------------------------------------------------------------------
# One serving configuration and its cost
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Point:
    """A replica configuration with its speed and cost (see :func:`serving_point`).

    Attributes
    ----------
    model_id, gpu_id, precision : str
    n_gpus, batch_size : int
        GPUs of the replica; sequences decoded together. [-]
    flash_attention : bool
    input_tokens, output_tokens : int
        Per request. [tokens]
    params_b : float
        Parameters of the (possibly transformed) model. [billions]
    weights_gb : float
        [GB]
    speculative_speedup : float
        1 when speculation is off (or would slow this batch down). [x]
    ttft_s, tpot_s : float
        Time to first token with the batch's prompts together; time per output token. [s]
    output_tokens_per_s : float
        Generated tokens per second of the replica, prompts included. [tokens/s]
    usd_per_hour : float
        Price of the replica (GPUs x price per GPU-hour). [USD/h]
    usd_per_million_output_tokens : float
        [USD/1M tokens]
    meets_tpot_target : bool
        False when even batch 1 is slower than the target (batch 1 is used then).
    note : str
    """

    model_id: str
    gpu_id: str
    precision: str
    n_gpus: int
    batch_size: int
    flash_attention: bool
    input_tokens: int
    output_tokens: int
    params_b: float
    weights_gb: float
    speculative_speedup: float
    ttft_s: float
    tpot_s: float
    output_tokens_per_s: float
    usd_per_hour: float
    usd_per_million_output_tokens: float
    meets_tpot_target: bool
    note: str = ""

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def serving_point(model, gpu, *, usd_per_gpu_hour: float, precision: str = "bf16",
                  n_gpus: int | None = None, batch_size="slo", tpot_target_s: float | None = None,
                  flash_attention: bool = True, input_tokens: int = 512,
                  output_tokens: int = 256, speculation: Speculation | None = None,
                  utilization: float = 1.0, engine=None) -> Point:
    """Speed and cost of one replica configuration.

    Parameters
    ----------
    model, gpu : ids or catalog objects (a transformed model from :func:`distill` or
        :func:`prune_layers` works too)
    usd_per_gpu_hour : float
        Price of one GPU-hour. [USD/h]
    precision : str
        Weight precision (:data:`hwcost.perf.PRECISIONS`).
    n_gpus : int, optional
        GPUs per replica; default the fewest that hold the model and one sequence.
    batch_size : int or "slo"
        Sequences decoded together; ``"slo"`` = :func:`operating_batch` with
        ``tpot_target_s`` (batch 1 when even that misses the target).
    tpot_target_s : float, optional
        [s]
    flash_attention : bool
    input_tokens, output_tokens : int
        [tokens]
    speculation : Speculation, optional
        Applied when :func:`speculative_at_batch` says it speeds this batch up; decode time
        is divided by the speedup.
    utilization : float
        Share of paid hours the replica is busy, in (0, 1]. [-]
    engine : str, optional

    Returns
    -------
    Point
    """
    price = _positive("usd_per_gpu_hour", usd_per_gpu_hour)
    u = _fraction("utilization", utilization)
    i = _count("input_tokens", input_tokens)
    o = _count("output_tokens", output_tokens)
    n = _fewest_gpus(model, gpu, precision, i, o, engine, flash_attention) if n_gpus is None \
        else _count("n_gpus", n_gpus)
    meets = True
    if isinstance(batch_size, str):
        if batch_size != "slo":
            raise HwcostError(f"batch_size must be a whole number or 'slo', got {batch_size!r}")
        b = operating_batch(model, gpu, n_gpus=n, precision=precision, input_tokens=i,
                            output_tokens=o, tpot_target_s=tpot_target_s, engine=engine,
                            flash_attention=flash_attention)
        if b == 0:
            b, meets = 1, False
    else:
        b = _count("batch_size", batch_size)
    e = perf.estimate(model, gpu, n_gpus=n, precision=precision, batch_size=b, input_tokens=i,
                      output_tokens=o, engine=engine, flash_attention=flash_attention)
    if not e.fits:
        raise HwcostError(f"{e.model_id} at {precision} on {n} x {e.gpu_id} with batch {b} does "
                         f"not fit: {e.reason}")
    if tpot_target_s is not None and e.tpot_s > float(tpot_target_s):
        meets = False
    speedup, note = 1.0, ""
    if speculation is not None:
        r = speculative_at_batch(model, gpu, speculation, batch_size=b,
                                 context_tokens=i + o / 2, n_gpus=n, precision=precision,
                                 engine=engine)
        if r.speedup > 1.0:
            speedup = r.speedup
        else:
            note = f"speculation off: it would slow batch {b} down ({r.speedup:.2f}x)"
    decode = e.decode_s / speedup
    tput = b * o / (e.prefill_s + decode)
    replica_usd = price * n
    m = catalog.llm(model)
    return Point(
        model_id=m.id, gpu_id=e.gpu_id, precision=e.precision, n_gpus=n, batch_size=b,
        flash_attention=bool(flash_attention), input_tokens=i, output_tokens=o,
        params_b=float(m.total_params_b), weights_gb=float(e.weights_gb),
        speculative_speedup=float(speedup), ttft_s=float(e.ttft_s),
        tpot_s=float(e.tpot_s) / speedup, output_tokens_per_s=float(tput),
        usd_per_hour=replica_usd, usd_per_million_output_tokens=_usd_per_million(replica_usd, tput, u),
        meets_tpot_target=meets, note=note,
    )


# ----------------------------------------------------------------------------------------
# Quantization
# ----------------------------------------------------------------------------------------
def quantization_table(model, gpu, *, usd_per_gpu_hour: float, baseline: str = "bf16",
                       precisions: Sequence[str] | None = None, input_tokens: int = 512,
                       output_tokens: int = 256, tpot_target_s: float | None = None,
                       utilization: float = 1.0, engine=None) -> pd.DataFrame:
    """Memory, fit, speed and cost of a model at each weight precision on one GPU type.

    For each precision: the weights, the fewest GPUs that hold the model and one sequence,
    the batch-1 speed on the baseline's GPU count (same hardware, so the ratio isolates the
    precision), and the cost per token of the fewest-GPU replica at its operating batch.

    Batch-1 decode reads every weight once per token, so its speed follows the bytes read:
    the bandwidth-bound prediction of the speedup is ``weights_gb(baseline) /
    weights_gb(precision)`` (``bytes_speedup``); ``speedup_vs_baseline`` is what
    :mod:`hwcost.perf` computes with its per-step overhead, KV reads and the efficiency of
    weight-only kernels included.

    Parameters
    ----------
    model, gpu : ids or objects
    usd_per_gpu_hour : float
        [USD/h]
    baseline : str
        Precision the others are compared with.
    precisions : sequence of str, optional
        Precisions to try; those the GPU or engine cannot run get ``supported`` False.
        Default: the baseline, then fp8, int8 and int4.
    input_tokens, output_tokens : int
        [tokens]
    tpot_target_s : float, optional
        Target for the operating batch. [s]
    utilization : float
        (0, 1]. [-]
    engine : str, optional

    Returns
    -------
    DataFrame
        One row per precision: ``precision, supported, reason, weights_gb,
        weights_vs_baseline, n_gpus, bytes_speedup, tokens_per_s_per_request,
        speedup_vs_baseline, batch_size, output_tokens_per_s, usd_per_hour,
        usd_per_million_output_tokens, saving_vs_baseline``. Numbers are NaN on
        unsupported rows.
    """
    base = perf.estimate(model, gpu, precision=baseline, input_tokens=input_tokens,
                         output_tokens=output_tokens, engine=engine,
                         n_gpus=_fewest_gpus(model, gpu, baseline, input_tokens, output_tokens, engine))
    base_point = serving_point(model, gpu, usd_per_gpu_hour=usd_per_gpu_hour, precision=baseline,
                               tpot_target_s=tpot_target_s, input_tokens=input_tokens,
                               output_tokens=output_tokens, utilization=utilization, engine=engine)
    if precisions is None:
        precisions = [baseline] + [p for p in ("fp8", "int8", "int4") if p != baseline]
    rows = []
    for p in precisions:
        row = {"precision": p, "supported": True, "reason": ""}
        try:
            same_hw = perf.estimate(model, gpu, precision=p, n_gpus=base.n_gpus,
                                    input_tokens=input_tokens, output_tokens=output_tokens,
                                    engine=engine)
            pt = serving_point(model, gpu, usd_per_gpu_hour=usd_per_gpu_hour, precision=p,
                               tpot_target_s=tpot_target_s, input_tokens=input_tokens,
                               output_tokens=output_tokens, utilization=utilization,
                               engine=engine)
        except ValueError as exc:
            row.update(supported=False, reason=str(exc).split(";")[0])
            rows.append(row)
            continue
        row.update(
            weights_gb=same_hw.weights_gb,
            weights_vs_baseline=same_hw.weights_gb / base.weights_gb,
            n_gpus=pt.n_gpus,
            bytes_speedup=base.weights_gb / same_hw.weights_gb,
            tokens_per_s_per_request=same_hw.tokens_per_s_per_request,
            speedup_vs_baseline=same_hw.tokens_per_s_per_request / base.tokens_per_s_per_request,
            batch_size=pt.batch_size, output_tokens_per_s=pt.output_tokens_per_s,
            usd_per_hour=pt.usd_per_hour,
            usd_per_million_output_tokens=pt.usd_per_million_output_tokens,
            saving_vs_baseline=1.0 - pt.usd_per_million_output_tokens
            / base_point.usd_per_million_output_tokens,
        )
        rows.append(row)
    cols = ["precision", "supported", "reason", "weights_gb", "weights_vs_baseline", "n_gpus",
            "bytes_speedup", "tokens_per_s_per_request", "speedup_vs_baseline", "batch_size",
            "output_tokens_per_s", "usd_per_hour", "usd_per_million_output_tokens",
            "saving_vs_baseline"]
    df = pd.DataFrame(rows).reindex(columns=cols)
    df["supported"] = df["supported"].astype(bool)
    df["reason"] = df["reason"].fillna("")
    return df


def cheapest_precision(table: pd.DataFrame, exclude: str | None = None) -> str:
    """The supported precision with the lowest cost per token in a :func:`quantization_table`."""
    ok = table[table["supported"]]
    if exclude is not None:
        ok = ok[ok["precision"] != exclude]
    if ok.empty:
        raise HwcostError("no supported precision in the table" +
                         (f" besides {exclude}" if exclude else ""))
    return str(ok.sort_values("usd_per_million_output_tokens", kind="stable").iloc[0]["precision"])


# ----------------------------------------------------------------------------------------
# Batching
# ----------------------------------------------------------------------------------------
def batch_size_effect(model, gpu, *, usd_per_gpu_hour: float, batch_sizes=(1, 8),
                      n_gpus: int | None = None, precision: str = "bf16",
                      input_tokens: int = 512, output_tokens: int = 256,
                      engine=None) -> pd.DataFrame:
    """What decoding several requests together does to each user and to the bill.

    Parameters
    ----------
    model, gpu, n_gpus, precision, input_tokens, output_tokens, engine
        As for :func:`hwcost.perf.estimate` (``n_gpus`` default: the fewest that fit).
    usd_per_gpu_hour : float
        [USD/h]
    batch_sizes : sequence of int
        The first is the reference.

    Returns
    -------
    DataFrame
        ``batch_size, tokens_per_s_per_request`` (what one user sees, 1/tpot_s),
        ``output_tokens_per_s`` (the replica), ``throughput_vs_first`` [x], ``e2e_s`` (one
        request, prompts of the batch together) [s], ``extra_latency_s`` (vs the first) [s],
        ``usd_per_request`` at full load [USD] and ``cost_reduction`` (vs the first) [-].
    """
    price = _positive("usd_per_gpu_hour", usd_per_gpu_hour)
    n = _fewest_gpus(model, gpu, precision, input_tokens, output_tokens, engine) if n_gpus is None \
        else _count("n_gpus", n_gpus)
    rows = []
    for b in batch_sizes:
        e = perf.estimate(model, gpu, n_gpus=n, precision=precision, batch_size=_count("batch_size", b),
                          input_tokens=input_tokens, output_tokens=output_tokens, engine=engine)
        if not e.fits:
            raise HwcostError(f"batch {b} does not fit: {e.reason}")
        requests_per_s = e.output_tokens_per_s / output_tokens
        rows.append({"batch_size": int(b), "tokens_per_s_per_request": e.tokens_per_s_per_request,
                     "output_tokens_per_s": e.output_tokens_per_s, "e2e_s": e.e2e_s,
                     "usd_per_request": price * n / SECONDS_PER_HOUR / requests_per_s})
    df = pd.DataFrame(rows)
    df["throughput_vs_first"] = df["output_tokens_per_s"] / df["output_tokens_per_s"].iloc[0]
    df["extra_latency_s"] = df["e2e_s"] - df["e2e_s"].iloc[0]
    df["cost_reduction"] = 1.0 - df["usd_per_request"] / df["usd_per_request"].iloc[0]
    return df[["batch_size", "tokens_per_s_per_request", "output_tokens_per_s",
               "throughput_vs_first", "e2e_s", "extra_latency_s", "usd_per_request",
               "cost_reduction"]]


def scheduler_comparison(model, gpu, workload: Workload, slo: SLO, *, usd_per_gpu_hour: float,
                         n_gpus: int | None = None, precision: str = "bf16", engine=None,
                         batch_size: int | None = None, static_timeout_s: float = 0.5,
                         schedulers=serving.SCHEDULERS, n_requests: int = 600,
                         seed: int = 0) -> pd.DataFrame:
    """Static, dynamic and continuous batching on one replica, in the serving simulator.

    For each scheduler: the p95 latencies at the workload's peak-hour rate, then the highest
    Poisson rate meeting ``slo`` (:func:`hwcost.serving.max_rate`), the users it serves at
    once there (Little's law: rate x mean time in system) and the cost per token at that
    rate.

    Parameters
    ----------
    model, gpu : ids or objects
    workload : Workload
        Peak rate and token lengths (with their spread: ``output_tokens_cv``).
    slo : SLO
    usd_per_gpu_hour : float
        [USD/h]
    n_gpus : int, optional
        GPUs per replica; default the fewest that fit.
    precision, engine
        As for :func:`hwcost.perf.step_times`.
    batch_size : int, optional
        Batch of the static and dynamic schedulers (static waits for it); default
        :func:`operating_batch` with the SLO's ``tpot_s``. Continuous batching keeps the
        engine's cap and the KV cache as its only limits.
    static_timeout_s : float
        Longest wait of the oldest request before a partial static batch starts. [s]
    schedulers : sequence of str
    n_requests, seed : int
        Simulated requests per evaluation and their seed.

    Returns
    -------
    DataFrame
        One row per scheduler: ``scheduler, max_batch_size`` (static/dynamic: ``batch_size``;
        continuous: the engine cap, else the sequences the KV cache holds), ``ttft_s_p95,
        tpot_s_p95, e2e_s_p95`` at the peak rate [s], ``busy_fraction`` there, ``saturation_requests_per_s``,
        ``max_requests_per_s`` within the SLO [1/s], ``requests_per_day`` at that rate,
        ``concurrent_users`` at that rate (0 when no rate meets the SLO),
        ``output_tokens_per_s`` [tokens/s], ``usd_per_million_output_tokens`` [USD/1M tokens;
        ``<NA>`` when no rate meets the SLO] and ``reason``.
    """
    price = _positive("usd_per_gpu_hour", usd_per_gpu_hour)
    n = _fewest_gpus(model, gpu, precision, workload.input_tokens, workload.output_tokens,
                     engine) if n_gpus is None else _count("n_gpus", n_gpus)
    st = perf.step_times(model, gpu, n_gpus=n, precision=precision, engine=engine)
    if batch_size is None:
        batch_size = max(1, operating_batch(model, gpu, n_gpus=n, precision=precision,
                                            input_tokens=workload.input_tokens,
                                            output_tokens=workload.output_tokens,
                                            tpot_target_s=slo.tpot_s, engine=engine))
    rows = []
    for s in schedulers:
        kw = {"scheduler": s, "n_requests": n_requests, "seed": seed}
        if s == "static":
            kw.update(max_batch_size=batch_size, static_timeout_s=static_timeout_s)
        elif s == "dynamic":
            kw.update(max_batch_size=batch_size, tpot_target_s=slo.tpot_s)
        at_peak = serving.simulate(st, workload, **kw)
        lim = serving.max_rate(st, None, workload, slo, rel_tol=0.02, **kw)
        cap = st.max_batch_size or st.kv_capacity_tokens // (workload.input_tokens + workload.output_tokens)
        row = {"scheduler": s, "max_batch_size": batch_size if s != "continuous" else int(cap),
               "ttft_s_p95": at_peak.percentile("ttft_s", 95),
               "tpot_s_p95": at_peak.percentile("tpot_s", 95),
               "e2e_s_p95": at_peak.percentile("e2e_s", 95),
               "busy_fraction": at_peak.busy_fraction,
               "saturation_requests_per_s": lim.saturation_requests_per_s or 0.0,
               "max_requests_per_s": lim.requests_per_s, "requests_per_day": lim.requests_per_day,
               "concurrent_users": 0.0, "output_tokens_per_s": lim.output_tokens_per_s,
               "usd_per_million_output_tokens": pd.NA, "reason": lim.reason}
        if lim.feasible and lim.requests_per_s > 0:
            arr = serving.Arrivals.from_workload(workload, n_requests, seed=seed,
                                                 rate_per_s=lim.requests_per_s)
            kw_sim = {k: v for k, v in kw.items() if k not in ("n_requests", "seed")}
            run = serving.simulate(st, arr, warmup_fraction=0.1, **kw_sim)
            req = run.requests.iloc[run.warmup_requests:]
            done = req[~req["rejected"]]
            row["concurrent_users"] = lim.requests_per_s * float(done["e2e_s"].mean())
            row["usd_per_million_output_tokens"] = _usd_per_million(price * n, lim.output_tokens_per_s)
        rows.append(row)
    df = pd.DataFrame(rows)
    df["usd_per_million_output_tokens"] = df["usd_per_million_output_tokens"].astype("Float64")
    return df


# ----------------------------------------------------------------------------------------
# Model caching
# ----------------------------------------------------------------------------------------
def load_time_table(model, precision: str = "bf16",
                    read_gbps: Mapping[str, float] | None = None, engine=None) -> pd.DataFrame:
    """Time to read a model's weights from each storage medium.

    Parameters
    ----------
    model : id or object
    precision : str
    read_gbps : mapping of medium -> GB/s, optional
        Default :data:`STORAGE_READ_GBPS`.
    engine : str, optional

    Returns
    -------
    DataFrame
        ``medium, read_gbps, weights_gb, load_s`` (weights / bandwidth) [s], ``note``;
        slowest first.
    """
    media = dict(STORAGE_READ_GBPS if read_gbps is None else read_gbps)
    w = perf.weights_bytes(model, precision, engine) / 1e9
    rows = [{"medium": k, "read_gbps": _positive(f"read_gbps[{k!r}]", v), "weights_gb": w,
             "load_s": perf.model_load_seconds(model, precision, v, engine),
             "note": STORAGE_NOTES.get(k, "")} for k, v in media.items()]
    return pd.DataFrame(rows).sort_values("load_s", ascending=False, kind="stable").reset_index(drop=True)


def keep_warm_vs_scale_to_zero(model, gpu, *, requests_per_day: Sequence[float],
                               usd_per_gpu_hour: float, cold_start_s: float,
                               idle_timeout_s: float = DEFAULT_IDLE_TIMEOUT_S,
                               precision: str = "bf16",
                               n_gpus: int | None = None, input_tokens: int = 512,
                               output_tokens: int = 256, billing_granularity_s: float = 1.0,
                               engine=None) -> pd.DataFrame:
    """An always-warm replica against one that starts on demand, over traffic volumes.

    Both serve one request at a time at batch 1 (sparse traffic). The scale-to-zero replica
    bills its sessions plus ``cold_start_s`` each (start-up and weight load, billed but idle)
    and stops ``idle_timeout_s`` after its last request; a request that finds it stopped
    waits ``cold_start_s`` more (:func:`hwcost.economics.request_cost`).

    Parameters
    ----------
    model, gpu : ids or objects
    requests_per_day : sequence of float
        Volumes to compare. [1/day]
    usd_per_gpu_hour : float
        [USD/h]
    cold_start_s : float
        Start-up plus weight load. [s]
    idle_timeout_s : float
        [s]
    precision, n_gpus, input_tokens, output_tokens, engine
        As for :func:`hwcost.perf.estimate` (``n_gpus`` default: the fewest that fit).
    billing_granularity_s : float
        [s]

    Returns
    -------
    DataFrame
        ``requests_per_day, always_on_usd_per_day, scale_to_zero_usd_per_day,
        always_on_usd_per_million_output_tokens, scale_to_zero_usd_per_million_output_tokens,
        cold_start_request_share, keep_warm_premium`` (always-on / scale-to-zero cost) and
        ``cheaper`` (which billing costs less).
    """
    n = _fewest_gpus(model, gpu, precision, input_tokens, output_tokens, engine) if n_gpus is None \
        else _count("n_gpus", n_gpus)
    e = perf.estimate(model, gpu, n_gpus=n, precision=precision, input_tokens=input_tokens,
                      output_tokens=output_tokens, engine=engine)
    cold = _non_negative("cold_start_s", cold_start_s)
    rows = []
    for r in requests_per_day:
        w = Workload(e.model_id, _positive("requests_per_day", r), input_tokens, output_tokens)
        warm = economics.request_cost(w, economics.Deployment.from_estimate(
            e, usd_per_gpu_hour, billing="always-on"))
        zero = economics.request_cost(w, economics.Deployment.from_estimate(
            e, usd_per_gpu_hour, billing="scale-to-zero", cold_start_s=cold,
            idle_timeout_s=idle_timeout_s, billing_granularity_s=billing_granularity_s))
        rows.append({
            "requests_per_day": float(r), "always_on_usd_per_day": warm.usd_per_day,
            "scale_to_zero_usd_per_day": zero.usd_per_day,
            "always_on_usd_per_million_output_tokens": warm.usd_per_million_output_tokens,
            "scale_to_zero_usd_per_million_output_tokens": zero.usd_per_million_output_tokens,
            "cold_start_request_share": zero.cold_start_request_share,
            "keep_warm_premium": warm.usd_per_day / zero.usd_per_day,
            "cheaper": "scale to zero" if zero.usd_per_day < warm.usd_per_day else "always on",
        })
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------------------
# Flash attention
# ----------------------------------------------------------------------------------------
def flash_attention_table(model, gpu, *, input_tokens: Sequence[int] | None = None,
                          n_gpus: int | None = None, precision: str = "bf16",
                          output_tokens: int = 128, batch_size: int = 1,
                          engine=None) -> pd.DataFrame:
    """Prefill time and memory with and without flash attention at growing prompt lengths.

    Without flash attention the ``T x T`` attention score matrix of every head is written to
    memory and read back (time) and held as a buffer (memory); flash attention computes the
    softmax in on-chip tiles and never stores it (Dao et al. 2022). Times come from
    :func:`hwcost.perf.step_times` and are given whether or not the configuration fits;
    ``fits_*`` says whether it does.

    Parameters
    ----------
    model, gpu : ids or objects
    input_tokens : sequence of int, optional
        Prompt lengths; default powers of two from 1,024 up to the model's context window
        (at most 131,072), less ``output_tokens``. [tokens]
    n_gpus : int, optional
        Default the fewest GPUs that hold the model with flash attention at the shortest
        prompt.
    precision, output_tokens, batch_size, engine
        As for :func:`hwcost.perf.estimate`.

    Returns
    -------
    DataFrame
        ``input_tokens, prefill_s_flash, prefill_s_no_flash, prefill_speedup,
        memory_per_gpu_gb_flash, memory_per_gpu_gb_no_flash, fits_flash, fits_no_flash,
        max_batch_size_flash, max_batch_size_no_flash``; ``n_gpus`` in ``df.attrs``.
    """
    m = catalog.llm(model)
    o = _count("output_tokens", output_tokens)
    b = _count("batch_size", batch_size)
    if input_tokens is None:
        top = min(m.max_context_tokens, 131_072) - o
        input_tokens = [2 ** k for k in range(10, 18) if 2 ** k <= top]
    lengths = [_count("input_tokens", t) for t in input_tokens]
    if not lengths:
        raise HwcostError(f"no prompt length fits {m.id}'s context of {m.max_context_tokens} tokens")
    n = _fewest_gpus(m, gpu, precision, min(lengths), o, engine) if n_gpus is None \
        else _count("n_gpus", n_gpus)
    st = {fa: perf.step_times(m, gpu, n_gpus=n, precision=precision, engine=engine,
                              flash_attention=fa) for fa in (True, False)}
    rows = []
    for t in lengths:
        row = {"input_tokens": t}
        for fa, tag in ((True, "flash"), (False, "no_flash")):
            e = perf.estimate(m, gpu, n_gpus=n, precision=precision, batch_size=b, input_tokens=t,
                              output_tokens=o, engine=engine, flash_attention=fa)
            row[f"prefill_s_{tag}"] = float(st[fa].prefill_seconds(b * t, 0, b))
            row[f"memory_per_gpu_gb_{tag}"] = e.memory_per_gpu_gb
            row[f"fits_{tag}"] = bool(e.fits)
            row[f"max_batch_size_{tag}"] = int(e.max_batch_size)
        rows.append(row)
    df = pd.DataFrame(rows)
    df["prefill_speedup"] = df["prefill_s_no_flash"] / df["prefill_s_flash"]
    df = df[["input_tokens", "prefill_s_flash", "prefill_s_no_flash", "prefill_speedup",
             "memory_per_gpu_gb_flash", "memory_per_gpu_gb_no_flash", "fits_flash",
             "fits_no_flash", "max_batch_size_flash", "max_batch_size_no_flash"]]
    df.attrs["n_gpus"] = n
    return df


# ----------------------------------------------------------------------------------------
# What-if model transformations
# ----------------------------------------------------------------------------------------
def _embedding_params(m: catalog.LLM) -> float:
    """Embedding parameters (input + output, once if tied), judged from the shapes.

    Mirrors the judgement :mod:`hwcost.perf` makes: tied when the published total is closer
    to layers + one embedding matrix than to layers + two.
    """
    emb = float(m.vocab_size * m.hidden_size)
    if m.is_moe:
        return 2 * emb
    attn = m.hidden_size * m.n_heads * m.head_dim * 2 + 2 * m.hidden_size * m.n_kv_heads * m.head_dim
    body = m.n_layers * (attn + 3 * m.hidden_size * m.intermediate_size)
    total = m.total_params_b * 1e9
    tied = abs(total - (body + emb)) < abs(total - (body + 2 * emb))
    return emb if tied else 2 * emb


def _keep_layers(model, keep_fraction: float, label: str, what: str) -> catalog.LLM:
    m = catalog.llm(model)
    f = _fraction(what, keep_fraction)
    layers = max(1, int(round(m.n_layers * f)))
    if layers == m.n_layers:
        return m
    kept = layers / m.n_layers
    emb = min(_embedding_params(m), 0.5 * m.total_params_b * 1e9) / 1e9
    total = emb + (m.total_params_b - emb) * kept
    active = emb + (m.active_params_b - emb) * kept
    dense = m.n_dense_layers
    if dense:
        dense = max(0, min(dense, layers - 1))
    return dataclasses.replace(
        m, id=f"{m.id}-{label}-{layers}l", name=f"{m.name} ({label}, {layers} of {m.n_layers} layers)",
        aliases=(), n_layers=layers, total_params_b=total, active_params_b=active,
        n_dense_layers=dense,
        notes=f"what-if: {label} of {m.id} keeping {layers} of {m.n_layers} layers of the same shape",
    )


def prune_layers(model, keep_fraction: float) -> catalog.LLM:
    """The model with only ``keep_fraction`` of its transformer layers (what-if).

    Layers keep their shape, so weights, matrix FLOPs and KV cache per token all shrink by
    the kept share of layers; embeddings stay. Which layers go, and what that costs in
    quality, is the pruning method's business (Men et al. 2024; Gromov et al. 2024).

    Parameters
    ----------
    model : id or catalog.LLM
    keep_fraction : float
        Share of layers kept, in (0, 1]; rounded to whole layers (at least one). [-]

    Returns
    -------
    catalog.LLM
        A new model object (``id`` ``<model>-pruned-<n>l``), usable wherever a catalog model
        is; the model itself when no layer is removed.
    """
    return _keep_layers(model, keep_fraction, "pruned", "keep_fraction")


def distill(model, size_fraction: float) -> catalog.LLM:
    """A student of ``size_fraction`` of the model's layer parameters (what-if).

    Modelled as DistilBERT built its student (Sanh et al. 2019): the teacher's layer shape
    with fewer layers, so weights, FLOPs and KV cache per token shrink together. Students of
    other shapes (narrower, fewer KV heads) differ in KV cache; the size is what the article's
    cost claim rests on.

    Parameters
    ----------
    model : id or catalog.LLM
    size_fraction : float
        Student layers over teacher layers, in (0, 1]. [-]

    Returns
    -------
    catalog.LLM
        A new model object (``id`` ``<model>-distilled-<n>l``).
    """
    return _keep_layers(model, size_fraction, "distilled", "size_fraction")


def prune_tokens(input_tokens: int, keep_fraction: float) -> int:
    """Prompt tokens left after pruning ``1 - keep_fraction`` of them (at least one). [tokens]"""
    t = _count("input_tokens", input_tokens)
    return max(1, int(round(t * _fraction("keep_fraction", keep_fraction))))


# ----------------------------------------------------------------------------------------
# Stacking the levers
# ----------------------------------------------------------------------------------------
def lever_waterfall(model, gpu, *, usd_per_gpu_hour: float, precision: str = "bf16",
                    quantized_precision: str | None = None, input_tokens: int = 512,
                    output_tokens: int = 256, tpot_target_s: float | None = None,
                    speculation: Speculation | None = None, layers_kept_fraction: float = 1.0,
                    prompt_kept_fraction: float = 1.0, distilled_size_fraction: float = 1.0,
                    utilization: float = 1.0, workload: Workload | None = None,
                    engine=None) -> pd.DataFrame:
    """USD per million output tokens after each lever, applied one after another.

    Steps (each keeps the ones before it):

    0. ``baseline``: ``precision``, batch 1, no flash attention, fewest GPUs that fit;
    1. ``quantization``: ``quantized_precision`` (default: the cheapest other precision of
       :func:`quantization_table`), fewest GPUs at that precision;
    2. ``flash attention``;
    3. ``speculative decoding``: ``speculation`` at batch 1 (where it speeds it up,
       :func:`speculative_at_batch`);
    4. ``batching``: the operating batch (:func:`operating_batch` with ``tpot_target_s``),
       speculation kept only where it still speeds that batch up;
    5. ``layer pruning``: :func:`prune_layers` with ``layers_kept_fraction``;
    6. ``token pruning``: the prompt cut to ``prompt_kept_fraction`` (:func:`prune_tokens`);
    7. ``distillation``: :func:`distill` of the pruned model with ``distilled_size_fraction``
       (prune, then distil into a smaller student, as Muralidharan et al. 2024 do).

    A lever whose setting leaves things unchanged (fraction 1, no speculation) stays in the
    table with no change. Every step re-derives the fewest GPUs and the operating batch.

    Parameters
    ----------
    model, gpu : ids or objects
    usd_per_gpu_hour : float
        [USD/h]
    precision, quantized_precision : str
    input_tokens, output_tokens : int
        [tokens]
    tpot_target_s : float, optional
        [s]
    speculation : Speculation, optional
    layers_kept_fraction, prompt_kept_fraction, distilled_size_fraction : float
        (0, 1]; 1 = lever not used. [-]
    utilization : float
        (0, 1]. [-]
    workload : Workload, optional
        Traffic to price each step at as well: always-on replicas for the busiest hour
        (:func:`hwcost.economics.request_cost`), adding ``replicas_at_peak``,
        ``gpus_at_peak`` and ``usd_per_million_output_tokens_at_traffic``. A lever that
        raises throughput saves money at this traffic only where it removes GPUs.
    engine : str, optional

    Returns
    -------
    DataFrame
        One row per step: ``step, lever, precision, n_gpus, batch_size, flash_attention,
        speculative_speedup, params_b, input_tokens, output_tokens_per_s, usd_per_hour,
        usd_per_million_output_tokens, change_usd`` (vs the step before),
        ``change_pct`` (vs the step before, negative = cheaper), ``meets_tpot_target``,
        ``note`` (and the traffic columns with ``workload``).
    """
    common = dict(usd_per_gpu_hour=usd_per_gpu_hour, output_tokens=output_tokens,
                  tpot_target_s=tpot_target_s, utilization=utilization, engine=engine)
    if quantized_precision is None:
        table = quantization_table(model, gpu, baseline=precision, input_tokens=input_tokens,
                                   **common)
        quantized_precision = cheapest_precision(table, exclude=precision)
    pruned = prune_layers(model, layers_kept_fraction)
    short = prune_tokens(input_tokens, prompt_kept_fraction)
    student = distill(pruned, distilled_size_fraction)
    q = quantized_precision
    base = dict(model=model, precision=q, flash_attention=True, input_tokens=input_tokens)
    steps = [
        ("baseline", dict(model=model, precision=precision, batch_size=1, flash_attention=False,
                          input_tokens=input_tokens), f"{precision}, one request at a time"),
        ("quantization", dict(model=model, precision=q, batch_size=1, flash_attention=False,
                              input_tokens=input_tokens), f"{precision} -> {q} weights"),
        ("flash attention", dict(base, batch_size=1), "no score matrix in memory"),
        ("speculative decoding", dict(base, batch_size=1, speculation=speculation),
         "draft and verify, one request at a time"),
        ("batching", dict(base, batch_size="slo", speculation=speculation),
         "operating batch within the TPOT target"),
        ("layer pruning", dict(base, model=pruned, batch_size="slo", speculation=speculation),
         WHAT_IF_SOURCES["layer pruning"]),
        ("token pruning", dict(base, model=pruned, batch_size="slo", input_tokens=short,
                               speculation=speculation), WHAT_IF_SOURCES["token pruning"]),
        ("distillation", dict(base, model=student, batch_size="slo", input_tokens=short,
                              speculation=speculation), WHAT_IF_SOURCES["distillation"]),
    ]
    rows = []
    for k, (lever, kw, why) in enumerate(steps):
        pt = serving_point(gpu=gpu, **kw, **common)
        note = f"{why}; {pt.note}" if pt.note else why
        if lever == "speculative decoding" and speculation is None:
            note = "not used (no draft model)"
        rows.append({"step": k, "lever": lever, "precision": pt.precision, "n_gpus": pt.n_gpus,
                     "batch_size": pt.batch_size, "flash_attention": pt.flash_attention,
                     "speculative_speedup": pt.speculative_speedup, "params_b": pt.params_b,
                     "input_tokens": pt.input_tokens, "output_tokens_per_s": pt.output_tokens_per_s,
                     "usd_per_hour": pt.usd_per_hour,
                     "usd_per_million_output_tokens": pt.usd_per_million_output_tokens,
                     "meets_tpot_target": pt.meets_tpot_target, "note": note})
        if workload is not None:
            rc = economics.request_cost(workload, economics.Deployment(
                usd_per_gpu_hour=usd_per_gpu_hour, output_tokens_per_s=pt.output_tokens_per_s,
                n_gpus=pt.n_gpus))
            rows[-1].update(replicas_at_peak=rc.replicas_peak,
                            gpus_at_peak=rc.replicas_peak * pt.n_gpus,
                            usd_per_million_output_tokens_at_traffic=rc.usd_per_million_output_tokens)
    df = pd.DataFrame(rows)
    cost = df["usd_per_million_output_tokens"]
    df["change_usd"] = cost.diff().fillna(0.0)
    df["change_pct"] = (cost / cost.shift(1) - 1.0).fillna(0.0) * 100.0
    return df
