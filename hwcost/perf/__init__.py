"""First-principles LLM inference performance: memory fit, prefill and decode times, throughput.

The subpackage: :mod:`~hwcost.perf.kernel` (vectorized arithmetic), :mod:`~hwcost.perf.features`
(precisions, engines, efficiency factors, memory fit, links), :mod:`~hwcost.perf.fit`
(calibration fit and validation), :mod:`~hwcost.perf.api` (the estimate API).

Numbers come from the hardware (``hwcost.catalog.gpus()``) and the model architecture
(``hwcost.catalog.llms()``), scaled by a few efficiency factors fitted to published
measurements (``data/benchmarks.csv``; see :func:`calibrate` and :func:`validate`).

The model, per GPU of a replica of ``n_gpus`` GPUs:

- **Weights** [bytes] = parameters x bits per parameter / 8. Quantized formats carry scale
  overhead (int4 = 4.156 bits: group-128 FP16 scales and 4-bit zero points); embeddings and
  lm_head stay 16-bit (engines with their own file formats, e.g. llama.cpp GGUF, override).
  MoE routed-expert weights are counted from the layer shapes (3 x hidden x expert width x
  experts x MoE layers); models published with 4-bit experts only (gpt-oss, MXFP4) keep
  attention and router weights 16-bit at ``int4``.
- **KV cache** [bytes/token] = 2 x layers x KV heads x head_dim x bytes (GQA/MHA);
  MLA (DeepSeek-V3) stores (kv_lora_rank + qk_rope_head_dim) per layer; sliding-window layers
  hold at most ``window`` tokens.
- **Decode step** [s] = max(weight bytes / (bandwidth x eta_bw), linear FLOPs / (peak x eta_c))
  + max(KV bytes / (bandwidth x eta_bw), attention FLOPs / (attention peak x eta_c)) (the
  products and the attention are separate kernels, each at its own roofline; the attention
  runs at the KV cache's type, FP8 or 16-bit, not the weights', :func:`attention_peak_flops`)
  + fixed overhead +
  communication. Weights read: MoE shared weights plus the expected distinct experts
  ``E (1 - (1 - k/E)^B)`` of a batch of B tokens. MLA attention decodes in the absorbed
  latent form, 2 x heads x (2 kv_lora_rank + rope) FLOPs per query-key pair and layer.
  Fixed overhead = step + layer x layers + moe_layer x routed-MoE layers + mla_layer x
  latent-attention layers: kernel chains run per layer whatever the batch; a routed-MoE layer
  adds routing, permutation and the grouped-GEMM launches, an MLA layer its latent projections
  and absorbed products (:func:`overhead_seconds`). The MLA layer's cost is a software figure:
  the fit reads it at each measurement's date (a log-linear trend,
  ``mla_layer_overhead_log_change_per_year``) and with a factor on AMD Instinct parts
  (``mla_layer_overhead_amd_factor``); estimates use it at the calibration's
  ``mla_layer_overhead_date`` (:meth:`Calibration.mla_layer_overhead_on`). Each engine's
  step and layer costs are software figures too: the fit reads them at each row's date on the
  engine's own trend (``overhead_log_change_per_year``), estimates at the calibration's
  ``overhead_date``; :func:`calibration_as_of` moves both kinds of cost to another date.
- **Prefill** [s]: 2 x active parameters x tokens + attention (4 x heads x head_dim per
  query-key pair and layer) against peak x eta_cp (prefill GEMMs are large and regular and
  reach a higher share of peak than batched decode), or the memory traffic if larger
  (without flash attention the T^2 score matrix is written and read back), plus the per-pass
  fixed cost x the prefill overhead ratio.
- **Tensor parallel**: 2 all-reduces per layer, ring cost 2 (n-1)/n x message / link
  bandwidth + a fixed latency each; every layer waits for the latest GPU, which stretches
  memory and compute time by ``1 + sync_jitter x (H_n - 1)`` (:func:`synchronization_slowdown`).
  Engines that split by layers (llama.cpp) divide memory, not time.
- **Parallel layouts** (``layout=``, :data:`LAYOUTS`): ``ep`` splits the routed experts whole
  across GPUs (the busiest GPU carries ``1 + imb / sqrt(tokens)`` times its share,
  :func:`moe_load_imbalance`); ``dp-attention+ep`` also runs attention data parallel: every
  GPU holds the non-expert weights and only its own sequences' KV cache, and each MoE layer
  costs two all-to-alls (dispatch, combine) instead of the all-reduces.
- **Memory fit**: weights + activation workspace + runtime + batch x KV per sequence within
  the engine's budget (vLLM uses 0.9 of memory; TensorRT-LLM gives 0.9 of what is free to the
  KV cache; llama.cpp keeps no reserve). See :data:`ENGINES`.

Decisions worth knowing:

- ``int8`` and ``int4`` are weight-only (W8A16/W4A16): they run on any GPU by dequantizing
  to 16-bit, so their math runs at the 16-bit tensor rate, at a fitted share of its
  efficiency (``weight_only_efficiency_factor``: the dequantization runs in the product's
  inner loop), reading their weights at a share of the streaming efficiency
  (``weight_only_bandwidth_factor``); the KV cache and the attention keep the plain ones.
  ``fp8`` needs FP8 tensor cores (Hopper, Ada, Blackwell, MI300): ``fp8`` on an A100 is a
  ValueError. FP8 and FP4 products reach fitted shares of the 16-bit compute efficiency at
  their doubled and quadrupled peaks (``fp8_compute_factor``, ``fp4_compute_factor``: block
  scales and rescaling).
- KV precision defaults to 16-bit; fp8 for fp4 weights, and for fp8 weights on engines that
  quantize the cache with them (TensorRT-LLM, NIM, the generic server; vLLM and SGLang keep
  the model's type unless told). FP8/INT8 KV caches are a storage format and are accepted on
  every GPU.
- Tensor parallelism needs ``n_gpus`` to divide the attention heads, and either divide the KV
  heads or (more GPUs than KV heads) be a multiple of them, each KV head then replicated on
  ``n_gpus / n_kv_heads`` GPUs, as vLLM and TensorRT-LLM do. MLA's latent cache is replicated
  on every GPU. Layer-split engines accept any ``n_gpus`` up to the number of layers.
- An explicit ``batch_size`` larger than the engine's default cap is accepted (the cap is a
  setting); ``batch_size="max"`` uses the smaller of memory and the cap.

Accuracy: :func:`validate` (every benchmark row, with the stored out-of-sample figures in
``attrs``), :func:`cross_validate` (leave one source, GPU or engine out), :func:`holdout_errors`.
Your own runs: :func:`fit_overlay` on ``vllm bench serve`` / GuideLLM / CSV results
(:mod:`~hwcost.perf.measurements`), :func:`save_overlay`, :func:`load_calibration`, and the
``HWCOST_CALIBRATION`` environment variable that makes a calibration file the default.

Glossary of canonical names: ``ttft_s`` (time to first token), ``tpot_s`` (time per output
token after the first), ``output_tokens_per_s`` (aggregate generated tokens per second of
the whole batch), ``mem_bw_gbps``, ``memory_gb``, ``n_gpus``, ``precision``.

References
----------
Kwon et al., "Efficient Memory Management for Large Language Model Serving with
PagedAttention", SOSP 2023. Pope et al., "Efficiently Scaling Transformer Inference",
MLSys 2023. Leviathan, Kalman & Matias, "Fast Inference from Transformers via Speculative
Decoding", ICML 2023. Frantar et al., "GPTQ", ICLR 2023; Lin et al., "AWQ", MLSys 2024
(group-wise int4 with FP16 scales). DeepSeek-AI, "DeepSeek-V3 Technical Report", 2024 (MLA).
"""

from . import measurements  # noqa: F401,E402
from .api import (  # noqa: F401
    Estimate,
    StepTimes,
    arithmetic_intensity,
    decode_step_seconds,
    engines,
    estimate,
    estimate_on_fewest_gpus,
    min_gpus_to_fit,
    output_tokens_per_s_per_gpu,
    prefill_seconds,
    ridge_batch_size,
    ridge_point,
    step_times,
    sweep,
)
from .batch import largest_batch_meeting, max_batch_by_memory, ttft_joining_seconds  # noqa: F401
from .features import (  # noqa: F401  # noqa: F401,E402
    CALIBRATION_ENV_VAR,
    CALIBRATION_PATH,
    DEVICE_MEMORY_BYTES_PER_GB,
    EMBEDDING_BITS,
    ENGINES_PATH,
    ERROR_BAND_PERCENTILES,
    KV_BITS,
    LAYOUTS,
    LINK_EFFICIENCY,
    MAX_GPUS,
    PCIE_ALLREDUCE_LATENCY_S,
    PCIE_GBPS,
    PRECISIONS,
    REGIMES,
    WEIGHT_BITS,
    WEIGHT_ONLY,
    Calibration,
    Link,
    attention_peak_flops,
    gpu_class,
    kv_cache_bytes,
    kv_cache_bytes_per_token,
    link,
    load_calibration,
    model_load_seconds,
    moe_expert_visits,
    moe_load_imbalance,
    speculative_speedup,
    stored_calibration,
    synchronization_slowdown,
    valid_gpu_counts,
    weights_bytes,
)
from .fit import (  # noqa: F401  # noqa: F401,E402
    GLOBAL_FACTORS,
    calibrate,
    calibration_as_of,
    cross_validate,
    error_summary,
    fit_overlay,
    global_factors,
    holdout_errors,
    leave_one_source_out,
    out_of_sample_summary,
    out_of_sample_table,
    overlay_comparison,
    save_overlay,
    validate,
)
from .kernel import ALLREDUCE_MIDSIZE_MAX_BYTES  # noqa: F401

__all__ = [
    "PRECISIONS",
    "LAYOUTS",
    "WEIGHT_BITS",
    "KV_BITS",
    "ENGINES",
    "Estimate",
    "StepTimes",
    "Link",
    "link",
    "estimate",
    "step_times",
    "sweep",
    "weights_bytes",
    "kv_cache_bytes_per_token",
    "kv_cache_bytes",
    "decode_step_seconds",
    "prefill_seconds",
    "estimate_on_fewest_gpus",
    "min_gpus_to_fit",
    "output_tokens_per_s_per_gpu",
    "model_load_seconds",
    "speculative_speedup",
    "arithmetic_intensity",
    "ridge_point",
    "ridge_batch_size",
    "attention_peak_flops",
    "synchronization_slowdown",
    "calibrate",
    "calibration_as_of",
    "validate",
    "GLOBAL_FACTORS",
    "global_factors",
    "leave_one_source_out",
    "cross_validate",
    "holdout_errors",
    "error_summary",
    "out_of_sample_summary",
    "out_of_sample_table",
    "fit_overlay",
    "save_overlay",
    "overlay_comparison",
    "load_calibration",
    "CALIBRATION_ENV_VAR",
    "engines",
]


def __getattr__(name):
    if name == "ENGINES":
        from .api import engines_dict

        return engines_dict()
    raise AttributeError(f"module 'hwcost.perf' has no attribute {name!r}")
