"""First-principles LLM inference performance: memory fit, prefill and decode times, throughput.

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
- **Decode step** [s] = max(bytes moved / (bandwidth x eta_bw), FLOPs / (peak x eta_c))
  + fixed overhead + all-reduce time. Bytes = weights read (MoE: shared weights plus the
  expected distinct experts ``E (1 - (1 - k/E)^B)`` of a batch of B tokens) + KV read.
  Fixed overhead = step + layer x (layers + moe_factor x expert visits): kernel chains run
  per layer whatever the batch, and each expert a token visits in a MoE layer (top-k plus
  shared experts) adds routing, permutation and a small grouped GEMM (:func:`_overhead_seconds`).
- **Prefill** [s]: 2 x active parameters x tokens + attention (4 x heads x head_dim per
  query-key pair and layer) against peak x eta_cp (prefill GEMMs are large and regular and
  reach a higher share of peak than batched decode), or the memory traffic if larger
  (without flash attention the T^2 score matrix is written and read back), plus the per-pass
  fixed cost x the prefill overhead ratio.
- **Tensor parallel**: 2 all-reduces per layer, ring cost 2 (n-1)/n x message / link
  bandwidth + a fixed latency each. Engines that split by layers (llama.cpp) divide memory,
  not time.
- **Memory fit**: weights + activation workspace + runtime + batch x KV per sequence within
  the engine's budget (vLLM uses 0.9 of memory; TensorRT-LLM gives 0.9 of what is free to the
  KV cache; llama.cpp keeps no reserve). See :data:`ENGINES`.

Decisions worth knowing:

- ``int8`` and ``int4`` are weight-only (W8A16/W4A16): they run on any GPU by dequantizing
  to 16-bit, so their math runs at the 16-bit tensor rate. ``fp8`` needs FP8 tensor cores
  (Hopper, Ada, Blackwell, MI300): ``fp8`` on an A100 is a ValueError.
- KV precision defaults to the activation precision: fp8 for fp8, otherwise 16-bit. FP8/INT8
  KV caches are a storage format and are accepted on every GPU.
- Tensor parallelism needs ``n_gpus`` to divide the attention heads, and either divide the KV
  heads or (more GPUs than KV heads) be a multiple of them, each KV head then replicated on
  ``n_gpus / n_kv_heads`` GPUs, as vLLM and TensorRT-LLM do. MLA's latent cache is replicated
  on every GPU. Layer-split engines accept any ``n_gpus`` up to the number of layers.
- An explicit ``batch_size`` larger than the engine's default cap is accepted (the cap is a
  setting); ``batch_size="max"`` uses the smaller of memory and the cap.

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

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from hwcost import _perf_core as core
from hwcost import catalog

__all__ = [
    "PRECISIONS",
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
    "min_gpus_to_fit",
    "model_load_seconds",
    "speculative_speedup",
    "arithmetic_intensity",
    "ridge_point",
    "ridge_batch_size",
    "calibrate",
    "validate",
    "leave_one_source_out",
    "engines",
]

PRECISIONS = ("fp16", "bf16", "fp8", "int8", "int4")

#: Generic bits per parameter of the quantized (linear-layer) weights. int4: 4 bits plus a
#: 16-bit scale and a 4-bit zero point per group of 128 (AWQ/GPTQ layout) = 4.156.
WEIGHT_BITS = {"fp16": 16.0, "bf16": 16.0, "fp8": 8.0, "int8": 8.0, "int4": 4.0 + 20.0 / 128.0}
#: Bits per element of a KV-cache entry. int8/int4 follow llama.cpp's q8_0 / q4_0 blocks
#: (32 values + one FP16 scale).
KV_BITS = {"fp16": 16.0, "bf16": 16.0, "fp8": 8.0, "int8": 8.5, "int4": 4.5}
#: Precisions stored below 16 bits as weight-only formats (math at the 16-bit rate).
WEIGHT_ONLY = ("int8", "int4")
#: Bits of embeddings and lm_head under generic quantization (kept in 16-bit).
EMBEDDING_BITS = 16.0
#: Native checkpoint formats that quantize only the routed experts to 4 bits (the other
#: weights stay 16-bit): gpt-oss ships MXFP4 experts with BF16 attention and router.
NATIVE_EXPERT_ONLY_4BIT = ("mxfp4",)

# All-reduce latency over a PCIe path (no NVLink); not fitted (no multi-GPU PCIe tensor
# parallel measurements in the table). NCCL ring latency over PCIe is tens of microseconds.
PCIE_ALLREDUCE_LATENCY_S = 30e-6
# Achieved fraction of the link's per-direction bandwidth in a ring all-reduce.
LINK_EFFICIENCY = 0.8
# Per-direction PCIe x16 bandwidth by generation [GB/s].
PCIE_GBPS = {3: 16.0, 4: 32.0, 5: 64.0, 6: 128.0, 7: 256.0}
# Largest GPU count tried when looking for the smallest replica that fits.
MAX_GPUS = 128
# Percentiles of measured / predicted speed (leave-one-source-out) that bound the error
# band each estimate carries.
ERROR_BAND_PERCENTILES = (10, 90)
# Device memory is sold in binary units: an "80 GB" H100 holds 80 GiB = 85.9e9 bytes (HBM and
# GDDR parts come in power-of-two densities; nvidia-smi reports 81,559 MiB for an H100 SXM,
# with the remainder held back by the driver and ECC, which the engine reserve covers).
# Everything hwcost reports in GB (weights_gb, kv_cache_gb, memory_per_gpu_gb) is 10^9 bytes.
DEVICE_MEMORY_BYTES_PER_GB = 2**30

_HERE = Path(__file__).resolve().parent
ENGINES_PATH = _HERE / "engines.json"
CALIBRATION_PATH = _HERE / "calibration.json"

_REGIMES = ("decode", "ttft", "throughput")


# ----------------------------------------------------------------------------------------
# Engines and calibration
# ----------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _engine_specs() -> dict:
    with open(ENGINES_PATH, encoding="utf-8") as fh:
        return json.load(fh)["engines"]


def _engine_id(engine) -> str:
    if engine is None:
        return "generic"
    if not isinstance(engine, str):
        raise ValueError(f"engine must be a string or None, got {engine!r}")
    key = engine.strip().lower().replace("_", "-")
    aliases = {"trt-llm": "tensorrt-llm", "trtllm": "tensorrt-llm", "tensorrt": "tensorrt-llm",
               "llamacpp": "llama.cpp", "llama-cpp": "llama.cpp", "ollama": "llama.cpp",
               "text-generation-inference": "tgi", "exllama": "exllamav2", "none": "generic"}
    key = aliases.get(key, key)
    specs = _engine_specs()
    if key not in specs:
        accepted = ", ".join(["None"] + [k for k in specs if k != "generic"])
        raise ValueError(f"unknown engine {engine!r}; accepted: {accepted}")
    return key


@dataclass(frozen=True)
class Calibration:
    """Fitted efficiency factors (see :func:`calibrate`); ``data`` mirrors calibration.json."""

    data: dict = field(hash=False, compare=False)

    def engine_factors(self, engine_id: str) -> dict:
        engines = self.data.get("engines", {})
        if engine_id in engines:
            return engines[engine_id]
        if "generic" in engines:
            return engines["generic"]
        return _engine_specs()[engine_id]["prior"]

    def class_shift(self, gpu_class: str) -> tuple[float, float]:
        c = self.data.get("gpu_classes", {}).get(gpu_class, {})
        return float(c.get("bandwidth_logit_shift", 0.0)), float(c.get("compute_logit_shift", 0.0))

    @property
    def weight_only_factor(self) -> float:
        return float(self.data.get("weight_only_efficiency_factor", 1.0))

    @property
    def prefill_overhead_ratio(self) -> float:
        return float(self.data.get("prefill_overhead_ratio", 1.0))

    @property
    def fp8_compute_factor(self) -> float:
        return float(self.data.get("fp8_compute_factor", 1.0))

    @property
    def allreduce_latency_s(self) -> float:
        return float(self.data.get("allreduce_latency_s", 10e-6))

    @property
    def moe_expert_overhead_factor(self) -> float:
        """Extra fixed cost per expert a token visits in a MoE layer, in dense layers' cost."""
        return float(self.data.get("moe_expert_overhead_factor", 0.0))

    @property
    def prefill_compute_logit_shift(self) -> float:
        """Logit shift from the batched-decode to the prefill compute efficiency."""
        return float(self.data.get("prefill_compute_logit_shift", 0.0))

    def error_band(self, regime: str) -> tuple[float, float]:
        band = self.data.get("error_bands", {}).get(regime)
        if not band:
            return (0.5, 2.0)
        return (float(band[0]), float(band[1]))

    def to_json(self) -> str:
        return json.dumps(self.data, indent=1, sort_keys=False) + "\n"


def _prior_calibration() -> Calibration:
    specs = _engine_specs()
    return Calibration({
        "engines": {k: dict(v["prior"]) for k, v in specs.items()},
        "gpu_classes": {},
        "weight_only_efficiency_factor": 1.0,
        "allreduce_latency_s": 10e-6,
        "moe_expert_overhead_factor": 0.25,
        "prefill_compute_logit_shift": 0.0,
        "error_bands": {},
        "note": "priors only (no calibration.json found)",
    })


@lru_cache(maxsize=1)
def _default_calibration() -> Calibration:
    try:
        with open(CALIBRATION_PATH, encoding="utf-8") as fh:
            return Calibration(json.load(fh))
    except (OSError, ValueError):
        warnings.warn(
            f"{CALIBRATION_PATH.name} missing or unreadable; using prior efficiency factors "
            "(run hwcost.perf.calibrate(write=True))",
            stacklevel=3,
        )
        return _prior_calibration()


def stored_calibration() -> Calibration:
    """The factors in use: ``hwcost/calibration.json`` as last written by :func:`calibrate`."""
    return _default_calibration()


def _calibration(calibration) -> Calibration:
    if calibration is None:
        return _default_calibration()
    if isinstance(calibration, Calibration):
        return calibration
    if isinstance(calibration, dict):
        return Calibration(calibration)
    raise ValueError(f"calibration must be a Calibration, a dict or None, got {type(calibration).__name__}")


def gpu_class(gpu) -> str:
    """Efficiency class of a GPU: ``amd``, ``hbm`` (NVIDIA HBM parts) or ``gddr`` (GDDR/LPDDR)."""
    g = catalog.gpu(gpu)
    if g.vendor == "amd":
        return "amd"
    return "hbm" if "HBM" in g.memory_type.upper() else "gddr"


def _logit(p):
    return math.log(p / (1.0 - p))


def _sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z))


def _factors(cal: Calibration, engine_id: str, gclass: str, precision: str) -> dict:
    """Efficiency factors of a configuration.

    Returns a dict: ``eta_bw`` (memory streaming), ``eta_c`` (batched-decode matrix
    products), ``eta_cp`` (prefill matrix products), all fractions of peak; ``step`` (fixed cost of a forward pass [s]) and ``layer`` (fixed cost per dense
    layer [s]) from which :func:`_overhead_seconds` builds the per-pass overhead.
    """
    ef = cal.engine_factors(engine_id)
    sb, sc = cal.class_shift(gclass)
    zb = _logit(min(max(ef["bandwidth_efficiency"], 1e-6), 1 - 1e-9)) + sb
    zc = _logit(min(max(ef["compute_efficiency"], 1e-6), 1 - 1e-9)) + sc
    eb = _sigmoid(zb)
    ec = _sigmoid(zc)
    ecp = _sigmoid(zc + cal.prefill_compute_logit_shift)
    if precision in WEIGHT_ONLY:
        q = cal.weight_only_factor
        eb, ec, ecp = eb * q, ec * q, ecp * q
    if precision == "fp8":
        ec *= cal.fp8_compute_factor
        ecp *= cal.fp8_compute_factor
    return {"eta_bw": eb, "eta_c": ec, "eta_cp": ecp,
            "step": float(ef["step_overhead_s"]), "layer": float(ef.get("layer_overhead_s", 0.0))}


def _overhead_seconds(step, layer, n_layers, moe_visits, moe_factor):
    """Fixed cost of one forward pass [s]: ``step + layer x (n_layers + moe_factor x moe_visits)``.

    Every layer launches a chain of kernels (norms, attention, projections, MLP) whose
    launch, synchronisation and ramp-up latencies do not shrink with the batch. A routed-MoE
    layer adds routing (gate GEMM, top-k), token permutation and one small grouped-GEMM
    problem per expert a token visits (``moe_visits`` = MoE layers x (top-k + shared
    experts), see :func:`moe_expert_visits`), each worth ``moe_factor`` dense layers. Tensor
    parallelism does not divide this time (every GPU runs every layer).
    """
    return step + layer * (n_layers + moe_factor * moe_visits)


# ----------------------------------------------------------------------------------------
# Input checking
# ----------------------------------------------------------------------------------------
def _check_precision(precision, what="precision") -> str:
    if not isinstance(precision, str) or precision.strip().lower() not in PRECISIONS:
        raise ValueError(f"unknown {what} {precision!r}; accepted: {', '.join(PRECISIONS)}")
    return precision.strip().lower()


def _positive_int(name, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer, float, np.floating)):
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if not math.isfinite(float(value)) or float(value) != int(value) or int(value) < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _activation_precision(gpu: catalog.GPU, spec: dict) -> str:
    """16-bit format that weight-only formats dequantize to."""
    if spec.get("fp16_accumulate") or gpu.bf16_tflops is None:
        return "fp16"
    return "bf16"


def _peak_flops(gpu: catalog.GPU, precision: str, spec: dict) -> float | None:
    """Dense tensor rate the math of ``precision`` runs at on ``gpu`` [FLOP/s], None if none."""
    math_prec = _activation_precision(gpu, spec) if precision in WEIGHT_ONLY else precision
    rate = gpu.tensor_tflops(math_prec)
    if rate is None:
        return None
    if math_prec == "fp16" and spec.get("fp16_accumulate") and gpu.segment == "consumer":
        rate *= 2.0  # GeForce: FP16-accumulate tensor rate is twice the FP32-accumulate one
    return float(rate) * 1e12


def _check_gpu_precision(gpu: catalog.GPU, precision: str, spec: dict, engine_id: str) -> None:
    if precision not in spec["weight_precisions"]:
        raise ValueError(
            f"engine {engine_id!r} does not serve {precision!r} weights; accepted: "
            f"{', '.join(spec['weight_precisions'])}"
        )
    if gpu.vendor == "amd" and not spec["amd_support"]:
        raise ValueError(f"engine {engine_id!r} does not run on AMD GPUs such as {gpu.id!r}")
    if _peak_flops(gpu, precision, spec) is None:
        ok = [p for p in PRECISIONS if p in spec["weight_precisions"] and _peak_flops(gpu, p, spec)]
        raise ValueError(
            f"GPU {gpu.id!r} has no {precision} tensor support; accepted on this GPU: "
            f"{', '.join(ok)} (int8/int4 are weight-only and run on any GPU)"
        )


def valid_gpu_counts(model, engine=None, max_gpus: int = MAX_GPUS) -> list[int]:
    """GPU counts a replica of ``model`` may use with ``engine`` (see module notes)."""
    m = catalog.llm(model)
    spec = _engine_specs()[_engine_id(engine)]
    return [n for n in range(1, max_gpus + 1) if _gpu_count_problem(m, n, spec) is None]


def _gpu_count_problem(m: catalog.LLM, n: int, spec: dict) -> str | None:
    if n == 1:
        return None
    if spec["multi_gpu_mode"] == "layer":
        if n > m.n_layers:
            return f"n_gpus={n} exceeds the model's {m.n_layers} layers (layer split)"
        return None
    if m.n_heads % n:
        return f"n_gpus={n} does not divide the {m.n_heads} attention heads of {m.id}"
    if m.attention != "mla":
        kv = m.n_kv_heads
        if n <= kv and kv % n:
            return f"n_gpus={n} does not divide the {kv} KV heads of {m.id}"
        if n > kv and n % kv:
            return (f"n_gpus={n} exceeds the {kv} KV heads of {m.id} and is not a multiple "
                    f"of them (KV heads are replicated n_gpus / n_kv_heads times)")
    return None


def _check_n_gpus(m: catalog.LLM, n, spec: dict) -> int:
    n = _positive_int("n_gpus", n)
    problem = _gpu_count_problem(m, n, spec)
    if problem:
        ok = [k for k in range(1, 65) if _gpu_count_problem(m, k, spec) is None]
        raise ValueError(f"{problem}; accepted: {', '.join(map(str, ok))}")
    return n


# ----------------------------------------------------------------------------------------
# Features: catalog entries -> numbers for the core
# ----------------------------------------------------------------------------------------
def _tied_embeddings(m: catalog.LLM) -> bool:
    """Whether input and output embeddings share one matrix (judged from the parameter count)."""
    if m.is_moe:
        return False
    attn = m.hidden_size * m.n_heads * m.head_dim * 2 + 2 * m.hidden_size * m.n_kv_heads * m.head_dim
    body = m.n_layers * (attn + 3 * m.hidden_size * m.intermediate_size)
    emb = m.vocab_size * m.hidden_size
    total = m.total_params_b * 1e9
    return abs(total - (body + emb)) < abs(total - (body + 2 * emb))


def _routed_expert_params(m: catalog.LLM) -> float:
    """Parameters of the routed experts of a MoE model, from its layer shapes (0 for dense).

    Each routed expert is a gated MLP (gate, up and down projections: 3 x hidden x
    moe_intermediate) in every MoE layer (all layers but the leading dense ones). Shared
    experts run for every token and count with the fixed weights. Counting from the shapes
    avoids the ambiguity of published "active parameter" figures, which some model cards give
    with and some without the input embedding. Falls back to the published totals when the
    shapes do not fit inside them.
    """
    if not (m.is_moe and m.n_experts_active and m.n_experts > m.n_experts_active):
        return 0.0
    total = m.total_params_b * 1e9
    width = m.moe_intermediate_size or m.intermediate_size
    layers = m.n_layers - (m.n_dense_layers or 0)
    shaped = 3.0 * m.hidden_size * width * m.n_experts * layers
    if 0 < shaped < total:
        return float(shaped)
    active = m.active_params_b * 1e9
    return (total - active) * m.n_experts / (m.n_experts - m.n_experts_active)


def moe_expert_visits(m: catalog.LLM) -> int:
    """Expert MLPs one token runs through, summed over layers (0 for dense models).

    Routed-MoE layers x (routed experts per token + shared experts). Each visit is a separate
    small expert GEMM plus its share of routing, permutation and combination work, so the
    fixed cost of a MoE layer at small batch grows with it (see :func:`_overhead_seconds`).
    """
    if not (m.is_moe and m.n_experts_active and m.n_experts > m.n_experts_active):
        return 0
    per_layer = m.n_experts_active + (m.n_shared_experts or 0)
    return int((m.n_layers - (m.n_dense_layers or 0)) * per_layer)


def _model_numbers(m: catalog.LLM, precision: str, kv_precision: str, spec: dict) -> dict:
    """Weights, KV and FLOP figures of ``m`` at these precisions (whole replica)."""
    total = m.total_params_b * 1e9
    emb = float(m.vocab_size * m.hidden_size)
    tied = _tied_embeddings(m)
    emb_params = min(emb * (1 if tied else 2), 0.5 * total)
    override = spec.get("weight_bits", {}).get(precision)
    if override is not None:
        body_bits = emb_bits = float(override)
    else:
        body_bits = WEIGHT_BITS[precision]
        emb_bits = min(EMBEDDING_BITS, max(body_bits, EMBEDDING_BITS))
    expert_total = _routed_expert_params(m)
    moe_frac = m.n_experts_active / m.n_experts if expert_total > 0 else 0.0
    # Checkpoints published with only the experts in a 4-bit format (gpt-oss: MXFP4) keep
    # attention, router and shared weights in 16-bit; int4 serves that published layout.
    expert_bits = body_bits
    if (override is None and precision == "int4" and expert_total > 0
            and str(m.native_precision).lower() in NATIVE_EXPERT_ONLY_4BIT):
        body_bits = EMBEDDING_BITS
    body = total - emb_params
    other = max(body - expert_total, 0.0)
    w_bytes = other * body_bits / 8 + expert_total * expert_bits / 8 + emb_params * emb_bits / 8
    # A pass reads every weight except the input-embedding table (only B rows of it); with
    # tied embeddings the shared matrix is read once as lm_head.
    w_fixed = other * body_bits / 8 + emb * emb_bits / 8
    w_expert = expert_total * expert_bits / 8
    # Matrix-multiply parameters per token: every non-expert weight but the input-embedding
    # lookup, plus the k routed experts a token visits.
    p_flops = total - (0.0 if tied else emb) - expert_total * (1.0 - moe_frac)

    layers = m.n_layers
    if m.sliding_window_tokens:
        frac = m.sliding_layer_fraction if m.sliding_layer_fraction is not None else 1.0
        l_slide = round(frac * layers)
        window = float(m.sliding_window_tokens)
    else:
        l_slide, window = 0, core.NO_WINDOW
    l_full = layers - l_slide
    kv_bytes = KV_BITS[kv_precision] / 8
    if m.attention == "mla":
        per_layer = (m.kv_lora_rank + m.qk_rope_head_dim) * kv_bytes
    else:
        per_layer = 2 * m.n_kv_heads * m.head_dim * kv_bytes
    attn_pair = 4.0 * m.n_heads * m.head_dim
    if m.is_moe:
        i_mlp = max(m.intermediate_size if m.n_dense_layers else 0,
                    (m.n_experts_active + (m.n_shared_experts or 0)) * (m.moe_intermediate_size or m.intermediate_size))
    else:
        i_mlp = m.intermediate_size
    return {
        "w_bytes": w_bytes, "w_fixed": w_fixed, "w_expert": w_expert, "moe_frac": moe_frac,
        "p_flops": p_flops,
        "attn_f": attn_pair * l_full, "attn_s": attn_pair * l_slide,
        "kv_f": per_layer * l_full, "kv_s": per_layer * l_slide, "window": window,
        "score_f": core.SCORE_BYTES_PER_ELEMENT * m.n_heads * l_full,
        "score_s": core.SCORE_BYTES_PER_ELEMENT * m.n_heads * l_slide,
        "n_layers": float(layers), "moe_visits": float(moe_expert_visits(m)),
        "hidden": float(m.hidden_size), "i_mlp": float(i_mlp),
        "vocab": float(m.vocab_size), "n_heads": float(m.n_heads), "n_kv": float(m.n_kv_heads),
        "mla": m.attention == "mla", "max_ctx": float(m.max_context_tokens),
    }


def _fast_link(g: catalog.GPU, n: int) -> bool:
    """NVLink / Infinity Fabric between all GPUs of the replica (a 2-GPU bridge covers only 2)."""
    ic = g.interconnect.lower()
    return ic.startswith(("nvlink", "infinity")) and not (ic == "nvlink-bridge" and n > 2)


def _link(g: catalog.GPU, n: int, cal: Calibration) -> tuple[float, float]:
    """(per-direction bandwidth [B/s], all-reduce latency [s]) between the replica's GPUs."""
    ic = g.interconnect.lower()
    if _fast_link(g, n):
        return g.interconnect_gbps / 2 * 1e9 * LINK_EFFICIENCY, cal.allreduce_latency_s
    gen = int(g.pcie_gen) if g.pcie_gen else 4
    gbps = g.interconnect_gbps / 2 if ic.startswith("pcie") else PCIE_GBPS.get(gen, 32.0)
    return gbps * 1e9 * LINK_EFFICIENCY, PCIE_ALLREDUCE_LATENCY_S


@dataclass(frozen=True)
class Link:
    """The link between the GPUs of one replica, as the performance model uses it.

    Attributes
    ----------
    kind : str
        ``"nvlink"``, ``"infinity-fabric"`` or ``"pcie"``.
    link_gbps : float
        Achieved bandwidth per direction (catalog figure / 2 x :data:`LINK_EFFICIENCY`;
        PCIe of the card's generation when the fast link does not reach every GPU). [GB/s]
    latency_s : float
        Fixed latency of one all-reduce over that link. [s]
    """

    kind: str
    link_gbps: float
    latency_s: float


def link(gpu, n_gpus: int = 2, *, calibration=None) -> Link:
    """The link a replica of ``n_gpus`` x ``gpu`` communicates over (see :class:`Link`).

    NVLink / Infinity Fabric counts only when it joins every GPU of the replica: a 2-GPU
    NVLink bridge (``nvlink-bridge``) serves 2 GPUs, and larger replicas of such cards talk
    over PCIe. The all-reduce latency of a fast link is the calibrated one
    (:meth:`Calibration.allreduce_latency_s`); PCIe uses :data:`PCIE_ALLREDUCE_LATENCY_S`.

    Parameters
    ----------
    gpu : id or catalog.GPU
    n_gpus : int
        GPUs in the replica (>= 1).
    calibration : Calibration, optional
        Defaults to the stored calibration.

    Returns
    -------
    Link
    """
    g = catalog.gpu(gpu)
    n = _positive_int("n_gpus", n_gpus)
    bw, lat = _link(g, n, _calibration(calibration))
    if _fast_link(g, n):
        kind = "infinity-fabric" if g.interconnect.lower().startswith("infinity") else "nvlink"
    else:
        kind = "pcie"
    return Link(kind=kind, link_gbps=bw / 1e9, latency_s=float(lat))


def _features(m, g, spec, engine_id, precision, kv_precision, n, flash, cal) -> dict:
    f = _model_numbers(m, precision, kv_precision, spec)
    fac = _factors(cal, engine_id, gpu_class(g), precision)
    ovh = _overhead_seconds(fac["step"], fac["layer"], f["n_layers"], f["moe_visits"],
                            cal.moe_expert_overhead_factor)
    link_bw, link_lat = _link(g, n, cal)
    cap = spec.get("max_batch_size")
    f.update({
        "mem": float(g.memory_gb) * DEVICE_MEMORY_BYTES_PER_GB, "bw": float(g.mem_bw_gbps) * 1e9,
        "peak": _peak_flops(g, precision, spec),
        "link_bw": link_bw, "link_lat": link_lat,
        "n": float(n), "tensor": spec["multi_gpu_mode"] == "tensor", "flash": 1.0 if flash else 0.0,
        "eta_bw": fac["eta_bw"], "eta_c": fac["eta_c"], "eta_cp": fac["eta_cp"],
        "ovh": ovh, "ovh_prefill": ovh * cal.prefill_overhead_ratio, "ovh_step": float(fac["step"]),
        "mem_frac": float(spec["memory_fraction"]), "free_mode": spec["memory_fraction_of"] == "free",
        "runtime": float(spec["runtime_overhead_gb"]) * 1e9, "chunk": float(spec["prefill_chunk_tokens"]),
        "cap": float(cap) if cap else math.inf,
    })
    return f


def _resolve(model, gpu, n_gpus, precision, kv_precision, engine):
    m = catalog.llm(model)
    g = catalog.gpu(gpu)
    engine_id = _engine_id(engine)
    spec = _engine_specs()[engine_id]
    precision = _check_precision(precision)
    _check_gpu_precision(g, precision, spec, engine_id)
    if kv_precision is None:
        kv_precision = _default_kv(precision, g, spec)
    else:
        kv_precision = _check_precision(kv_precision, "kv_precision")
    n = _check_n_gpus(m, n_gpus, spec)
    return m, g, engine_id, spec, precision, kv_precision, n


# ----------------------------------------------------------------------------------------
# Helpers for notebooks
# ----------------------------------------------------------------------------------------
def weights_bytes(model, precision: str = "bf16", engine=None) -> float:
    """Bytes of a model's weights at ``precision``.

    Parameters
    ----------
    model : str or catalog.LLM
        Catalog id or object.
    precision : str
        One of :data:`PRECISIONS`. Quantized formats keep embeddings and lm_head in 16-bit
        and pay scale overhead (:data:`WEIGHT_BITS`) unless ``engine`` uses its own format
        (llama.cpp GGUF: 8.5 / 4.85 bits on every tensor).
    engine : str, optional
        Serving engine (see :data:`ENGINES`).

    Returns
    -------
    float
        Weight bytes of the whole model. [B]

    Examples
    --------
    Llama-2-7B (6.74e9 parameters) in fp16 is 13.48e9 bytes.
    """
    m = catalog.llm(model)
    spec = _engine_specs()[_engine_id(engine)]
    return float(_model_numbers(m, _check_precision(precision), "bf16", spec)["w_bytes"])


def kv_cache_bytes_per_token(model, kv_precision: str = "bf16") -> float:
    """KV-cache bytes one token adds while the context is shorter than any sliding window.

    2 x layers x KV heads x head_dim x bytes for MHA/GQA; layers x (kv_lora_rank +
    qk_rope_head_dim) x bytes for MLA. Once a context passes the window, windowed layers
    stop growing: use :func:`kv_cache_bytes` for a given length.

    Parameters
    ----------
    model : str or catalog.LLM
    kv_precision : str
        Storage format of the cache, one of :data:`PRECISIONS` (:data:`KV_BITS`).

    Returns
    -------
    float
        [B/token]; Llama-3.1-70B in bf16: 327,680.
    """
    m = catalog.llm(model)
    f = _model_numbers(m, "bf16", _check_precision(kv_precision, "kv_precision"), _engine_specs()["generic"])
    return float(f["kv_f"] + f["kv_s"])


def kv_cache_bytes(model, kv_precision: str = "bf16", context_tokens: int = 1) -> float:
    """KV-cache bytes of one sequence of ``context_tokens`` tokens (sliding windows capped) [B]."""
    m = catalog.llm(model)
    f = _model_numbers(m, "bf16", _check_precision(kv_precision, "kv_precision"), _engine_specs()["generic"])
    c = float(_positive_int("context_tokens", context_tokens))
    return float(core.kv_sequence_bytes(f, c))


def model_load_seconds(model, precision: str = "bf16", read_gbps: float = 2.0, engine=None) -> float:
    """Time to read a model's weights from storage or network [s].

    Parameters
    ----------
    model : str or catalog.LLM
    precision : str
        Weight precision (:data:`PRECISIONS`).
    read_gbps : float
        Sustained read bandwidth of the source. [GB/s] (NVMe SSD 2-7, page cache 10-50,
        10 GbE network 1.25, 100 GbE 12.5)
    engine : str, optional

    Returns
    -------
    float
        weights_bytes / read bandwidth. [s]
    """
    try:
        bw = float(read_gbps)
    except (TypeError, ValueError):
        raise ValueError(f"read_gbps must be a positive number, got {read_gbps!r}") from None
    if not math.isfinite(bw) or bw <= 0:
        raise ValueError(f"read_gbps must be a positive number, got {read_gbps!r}")
    return weights_bytes(model, precision, engine) / (bw * 1e9)


def speculative_speedup(acceptance_rate, draft_tokens, draft_cost_ratio):
    """Expected speedup of speculative decoding over plain decoding.

    Parameters
    ----------
    acceptance_rate : float or array
        Probability ``a`` that the target model accepts a drafted token, in [0, 1].
    draft_tokens : int or array
        Tokens ``k`` drafted per verification step (>= 1).
    draft_cost_ratio : float or array
        Cost ``c`` of one draft step relative to one target step (>= 0).

    Returns
    -------
    float or ndarray
        ``(1 - a**(k+1)) / ((1 - a) (k c + 1))``; ``(k+1)/(k c + 1)`` at a = 1.

    References
    ----------
    Leviathan, Kalman & Matias, "Fast Inference from Transformers via Speculative
    Decoding", ICML 2023, Eq. 1 and Theorem 3.8.
    """
    a = np.asarray(acceptance_rate, dtype=float)
    k = np.asarray(draft_tokens, dtype=float)
    c = np.asarray(draft_cost_ratio, dtype=float)
    if np.any(~np.isfinite(a)) or np.any((a < 0) | (a > 1)):
        raise ValueError(f"acceptance_rate must be in [0, 1], got {acceptance_rate!r}")
    if np.any(~np.isfinite(k)) or np.any((k < 1) | (k != np.floor(k))):
        raise ValueError(f"draft_tokens must be an integer >= 1, got {draft_tokens!r}")
    if np.any(~np.isfinite(c)) or np.any(c < 0):
        raise ValueError(f"draft_cost_ratio must be >= 0, got {draft_cost_ratio!r}")
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = np.where(a < 1, (1 - a ** (k + 1)) / np.where(a < 1, 1 - a, 1.0), k + 1)
    out = expected / (k * c + 1)
    return float(out) if out.ndim == 0 else out


# ----------------------------------------------------------------------------------------
# Step times (used by the serving simulator; estimate uses the same functions)
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StepTimes:
    """Per-iteration timing of one replica, vectorized over numpy inputs.

    Build with :func:`step_times`. Attributes are the replica's KV capacity and limits;
    methods return seconds and accept arrays.
    """

    model_id: str
    gpu_id: str
    engine: str
    precision: str
    kv_precision: str
    n_gpus: int
    flash_attention: bool
    kv_cache_bytes_per_token: float
    kv_capacity_tokens: int
    max_batch_size: int | None
    bandwidth_efficiency: float
    compute_efficiency: float
    step_overhead_s: float
    _f: dict = field(repr=False, compare=False, hash=False)

    def decode_step_seconds(self, batch_size, context_tokens):
        """One decode iteration of ``batch_size`` sequences holding ``context_tokens`` in total [s]."""
        b = np.asarray(batch_size, dtype=float)
        c = np.asarray(context_tokens, dtype=float)
        _check_nonneg("batch_size", b, strict=True)
        _check_nonneg("context_tokens", c)
        return _scalar(core.decode_step_seconds(self._f, b, c / b))

    def prefill_seconds(self, new_tokens, context_tokens=0, n_sequences=1):
        """One forward pass over ``new_tokens`` prompt tokens after ``context_tokens`` cached [s].

        ``n_sequences`` splits the tokens over that many equal prompts (attention is per
        prompt); ``context_tokens`` is per sequence.
        """
        t = np.asarray(new_tokens, dtype=float)
        c = np.asarray(context_tokens, dtype=float)
        s = np.asarray(n_sequences, dtype=float)
        _check_nonneg("new_tokens", t, strict=True)
        _check_nonneg("context_tokens", c)
        _check_nonneg("n_sequences", s, strict=True)
        return _scalar(core.prefill_seconds(self._f, s, t / s, c))

    def comm_seconds(self, tokens):
        """Inter-GPU communication time of one forward pass over ``tokens`` tokens [s].

        Tensor-parallel engines: two ring all-reduces of ``tokens x hidden x 2 B`` per layer,
        each ``latency + 2 (n-1)/n x message / link bandwidth``. Layer-split engines: one
        activation hand-off per stage boundary. 0 for one GPU. This is the communication
        term already inside :meth:`decode_step_seconds` (``tokens`` = batch size),
        :meth:`prefill_seconds` and :meth:`iteration_seconds`; it is exposed to show the
        share of a step the link takes.
        """
        t = np.asarray(tokens, dtype=float)
        _check_nonneg("tokens", t, strict=True)
        return _scalar(core.comm_seconds(self._f, t))

    def stage_overhead_seconds(self, n_stages=1):
        """Fixed cost of one decode pass through a pipeline stage holding ``1/n_stages`` of the layers [s].

        :attr:`step_overhead_s` is ``step + layer x (layers + MoE visits)``
        (:func:`_overhead_seconds`): each stage pays the per-pass part ``step`` in full and
        the per-layer part for its own layers only. ``n_stages=1`` gives
        :attr:`step_overhead_s`.
        """
        k = np.asarray(n_stages, dtype=float)
        _check_nonneg("n_stages", k, strict=True)
        step = self._f["ovh_step"]
        return _scalar(step + (self._f["ovh"] - step) / k)

    def iteration_seconds(self, prefill_tokens, decode_batch_size, decode_context_tokens,
                          prefill_context_tokens=0):
        """One continuous-batching iteration: a prefill chunk plus one decode token per sequence.

        Weights are read once for both; the chunk attends to itself and to
        ``prefill_context_tokens`` cached tokens of its own sequence; the decode sequences
        hold ``decode_context_tokens`` in total. [s]
        """
        f = self._f
        p = np.asarray(prefill_tokens, dtype=float)
        b = np.asarray(decode_batch_size, dtype=float)
        dc = np.asarray(decode_context_tokens, dtype=float)
        pc = np.asarray(prefill_context_tokens, dtype=float)
        for name, v in (("prefill_tokens", p), ("decode_batch_size", b),
                        ("decode_context_tokens", dc), ("prefill_context_tokens", pc)):
            _check_nonneg(name, v)
        tokens = p + b
        if np.any(tokens <= 0):
            raise ValueError("an iteration needs prefill_tokens + decode_batch_size > 0")
        ctx = np.where(b > 0, dc / np.maximum(b, 1.0), 0.0)
        m0, mf, ms, c0, cf, cs, sf, ss, _ = core.decode_coefficients(f, b)
        bw = f["bw"] * f["eta_bw"]
        cw = np.minimum(ctx, f["window"])
        dec_kv_t = mf * ctx + ms * cw  # time of the decode part's KV reads
        dec_flops_t = c0 + cf * ctx + cs * cw
        dec_score = (sf * ctx + ss * cw) * bw
        pkv, pscore, pflops, _ = core.prefill_terms(f, np.where(p > 0, 1.0, 0.0), p, pc)
        mem_t = core.weights_read_bytes(f, tokens) / core.time_divisor(f) / bw + dec_kv_t + pkv / bw
        comp_t = dec_flops_t + pflops / (f["peak"] * f["eta_cp"])
        t = np.maximum(mem_t, comp_t) + (dec_score + pscore) / bw
        ovh = np.where(p > 0, f["ovh_prefill"], f["ovh"])
        return _scalar(t + ovh + core.comm_seconds(f, tokens))


def _scalar(x):
    x = np.asarray(x)
    return float(x) if x.ndim == 0 else x


def _check_nonneg(name, v, strict=False):
    bad = ~np.isfinite(v) | ((v <= 0) if strict else (v < 0))
    if np.any(bad):
        wanted = "> 0" if strict else ">= 0"
        raise ValueError(f"{name} must be finite and {wanted}, got {v[bad].ravel()[:3].tolist()}")


def step_times(model, gpu, *, n_gpus=1, precision="bf16", kv_precision=None, engine=None,
               flash_attention=True, calibration=None) -> StepTimes:
    """Per-step timing functions of one replica (see :class:`StepTimes`).

    ``kv_capacity_tokens`` is the number of KV tokens the replica holds after weights,
    workspace, runtime and the engine's reserve, at :attr:`kv_cache_bytes_per_token` each
    (sliding-window layers counted in full: a conservative figure for long contexts).
    """
    m, g, engine_id, spec, precision, kv_precision, n = _resolve(
        model, gpu, n_gpus, precision, kv_precision, engine)
    cal = _calibration(calibration)
    f = _features(m, g, spec, engine_id, precision, kv_precision, n, flash_attention, cal)
    per_token = f["kv_f"] + f["kv_s"]
    # Per-GPU memory left for KV after weights, one chunk's workspace, runtime and reserve.
    fixed, _, _, _ = core.memory_terms(f, 1.0, 0.0)
    fixed = float(fixed)
    free = f["mem_frac"] * (f["mem"] - fixed) if f["free_mode"] else f["mem_frac"] * f["mem"] - fixed
    kv_per_gpu_token = per_token * float(core.kv_memory_share(f))
    capacity = max(0, int(free // kv_per_gpu_token))
    cap = spec.get("max_batch_size")
    return StepTimes(
        model_id=m.id, gpu_id=g.id, engine=engine_id, precision=precision,
        kv_precision=kv_precision, n_gpus=n, flash_attention=bool(flash_attention),
        kv_cache_bytes_per_token=float(per_token), kv_capacity_tokens=capacity,
        max_batch_size=int(cap) if cap else None,
        bandwidth_efficiency=f["eta_bw"], compute_efficiency=f["eta_c"], step_overhead_s=f["ovh"],
        _f=f,
    )


def decode_step_seconds(model, gpu, batch_size=1, context_tokens=512, **kwargs) -> float:
    """One decode step of ``batch_size`` sequences of ``context_tokens`` each [s].

    Keyword arguments (``n_gpus``, ``precision``, ``kv_precision``, ``engine``,
    ``flash_attention``) as for :func:`estimate`. Accepts arrays for the two sizes.
    """
    st = step_times(model, gpu, **kwargs)
    b = np.asarray(batch_size, dtype=float)
    return st.decode_step_seconds(b, b * np.asarray(context_tokens, dtype=float))


def prefill_seconds(model, gpu, input_tokens=512, batch_size=1, **kwargs) -> float:
    """Prefill of ``batch_size`` prompts of ``input_tokens`` each, no cached context [s]."""
    st = step_times(model, gpu, **kwargs)
    b = np.asarray(batch_size, dtype=float)
    return st.prefill_seconds(b * np.asarray(input_tokens, dtype=float), 0, b)


# ----------------------------------------------------------------------------------------
# Estimate
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Estimate:
    """Performance of one configuration. Times in seconds, memory in GB (10^9 bytes).

    Timing fields are None when ``fits`` is False. ``error_band = (low, high)``: measured
    ``output_tokens_per_s`` and ``tokens_per_s_per_request`` fell between low x and high x
    the prediction for 80% of the validation rows of this regime (decode at batch 1,
    throughput otherwise); ``ttft_error_band`` likewise for ``ttft_s``. For a time, divide:
    measured time lies in [pred / high, pred / low].
    """

    fits: bool
    reason: str
    suggestion: str | None
    suggested_n_gpus: int | None
    suggested_precision: str | None
    model_id: str
    gpu_id: str
    engine: str
    n_gpus: int
    precision: str
    kv_precision: str
    batch_size: int
    input_tokens: int
    output_tokens: int
    flash_attention: bool
    weights_gb: float
    kv_cache_gb: float
    kv_cache_bytes_per_token: float
    activation_gb: float
    memory_per_gpu_gb: float
    usable_memory_per_gpu_gb: float
    max_batch_size: int
    prefill_s: float | None
    ttft_s: float | None
    tpot_s: float | None
    decode_s: float | None
    e2e_s: float | None
    output_tokens_per_s: float | None
    tokens_per_s_per_request: float | None
    bound: str | None
    bandwidth_efficiency: float
    compute_efficiency: float
    step_overhead_s: float
    error_band: tuple[float, float]
    ttft_error_band: tuple[float, float]

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _evaluate(f, batch, input_tokens, output_tokens, want_max, valid=True):
    """Vectorized evaluation of configurations; returns a dict of arrays (see sweep)."""
    i = input_tokens
    o = output_tokens
    bmax_mem = core.max_batch_by_memory(f, i, o)
    bmax = np.maximum(np.minimum(bmax_mem, f["cap"]), 0.0)
    b = np.where(want_max, bmax, batch)
    ctx_ok = (i + o) <= f["max_ctx"]
    fits = valid & ctx_ok & (b >= 1) & (b <= bmax_mem)
    bc = np.maximum(b, 1.0)
    # Time to first token = the forward pass over the prompt plus the first decode step
    # (at context i); the other o - 1 tokens take one decode step each at contexts
    # i+1 .. i+o-1. decode sums all o steps.
    prefill = core.prefill_seconds(f, bc, i, 0.0)
    step1 = core.decode_step_seconds(f, bc, i)
    rest = core.decode_total_seconds(f, bc, i + 1.0, o - 1.0)
    decode = step1 + rest
    tpot = np.where(o > 1, rest / np.maximum(o - 1.0, 1.0), step1)
    mem_t, comp_t, _ = core.decode_step_terms(f, bc, i + o * 0.5)
    fixed, per_seq, kv_seq, act_seq = core.memory_terms(f, i, o)
    return {
        "fits": fits, "ctx_ok": ctx_ok, "batch": b, "bmax": bmax, "bmax_mem": bmax_mem,
        "prefill": prefill, "step1": step1, "decode": decode, "ttft": prefill + step1,
        "tpot": tpot, "tput": bc * o / (prefill + decode),
        "compute_bound": comp_t > mem_t,
        "mem_needed": fixed + bc * per_seq,
        "kv_gpu": bc * kv_seq, "act": fixed - f["w_bytes"] / f["n"] - f["runtime"] + bc * act_seq,
    }


def _precision_order(g, spec):
    return [p for p in ("fp8", "int8", "int4")
            if p in spec["weight_precisions"] and _peak_flops(g, p, spec) is not None]


def min_gpus_to_fit(model, gpu, precision="bf16", *, batch_size=1, input_tokens=512,
                    output_tokens=128, kv_precision=None, engine=None, flash_attention=True,
                    max_gpus: int = MAX_GPUS, calibration=None) -> int | None:
    """Smallest valid GPU count whose replica holds ``batch_size`` sequences, or None.

    Parameters as for :func:`estimate`; ``max_gpus`` bounds the search. Returns None when
    no count up to ``max_gpus`` fits or the lengths exceed the model's context.
    """
    m, g, engine_id, spec, precision, kv_precision, _ = _resolve(
        model, gpu, 1, precision, kv_precision, engine)
    b = _positive_int("batch_size", batch_size)
    i = _positive_int("input_tokens", input_tokens)
    o = _positive_int("output_tokens", output_tokens)
    if i + o > m.max_context_tokens:
        return None
    cal = _calibration(calibration)
    for n in range(1, max_gpus + 1):
        if _gpu_count_problem(m, n, spec):
            continue
        f = _features(m, g, spec, engine_id, precision, kv_precision, n, flash_attention, cal)
        if float(core.max_batch_by_memory(f, float(i), float(o))) >= b:
            return n
    return None


def estimate(model, gpu, *, n_gpus=1, precision="bf16", kv_precision=None, batch_size=1,
             input_tokens=512, output_tokens=128, engine=None, flash_attention=True,
             calibration=None) -> Estimate:
    """Memory fit, latency and throughput of serving ``model`` on ``n_gpus`` x ``gpu``.

    Parameters
    ----------
    model : str or catalog.LLM
        Catalog id (``catalog.llms()``) or object.
    gpu : str or catalog.GPU
        Catalog id (``catalog.gpus()``) or object.
    n_gpus : int
        GPUs in one replica (tensor parallel, or layer split for llama.cpp/exllamav2).
    precision : str
        Weight precision: fp16, bf16, fp8, int8 or int4 (int8/int4 weight-only).
    kv_precision : str, optional
        KV-cache storage precision; default fp8 for fp8 weights, else 16-bit.
    batch_size : int or "max"
        Concurrent sequences; "max" = the most that fit memory at these lengths, capped by
        the engine's default limit (:data:`ENGINES`).
    input_tokens, output_tokens : int
        Prompt and generated lengths per sequence. [tokens]
    engine : str, optional
        None (generic well-tuned server), vllm, tensorrt-llm, sglang, tgi, nim, llama.cpp,
        exllamav2: memory defaults and calibrated efficiency factors.
    flash_attention : bool
        False materializes the attention score matrix (extra memory traffic and workspace
        that grow with the square of the prompt length).
    calibration : Calibration, optional
        Factors to use instead of the stored ``calibration.json``.

    Returns
    -------
    Estimate
        ``ttft_s`` = ``prefill_s`` (the forward pass over batch x input tokens) plus the
        first decode step at context input; the other output_tokens - 1 tokens take one
        decode step each at contexts input+1 .. input+output-1; ``decode_s`` sums all
        output_tokens steps; ``tpot_s`` = the mean of the steps after the first (the first
        step itself when output_tokens is 1); ``output_tokens_per_s`` = batch x
        output_tokens / (prefill_s + decode_s); ``tokens_per_s_per_request`` = 1 / tpot_s.

    Raises
    ------
    ValueError
        Unknown precision or engine, non-positive sizes, a GPU count the model's heads do not
        allow, or a precision the GPU has no tensor support for (fp8 before Hopper/Ada).
    """
    explicit_kv = kv_precision is not None
    m, g, engine_id, spec, precision, kv_precision, n = _resolve(
        model, gpu, n_gpus, precision, kv_precision, engine)
    want_max = isinstance(batch_size, str) and batch_size.strip().lower() == "max"
    b_req = 1 if want_max else _positive_int("batch_size", batch_size)
    if isinstance(batch_size, str) and not want_max:
        raise ValueError(f"batch_size must be a positive integer or 'max', got {batch_size!r}")
    i = _positive_int("input_tokens", input_tokens)
    o = _positive_int("output_tokens", output_tokens)
    cal = _calibration(calibration)
    f = _features(m, g, spec, engine_id, precision, kv_precision, n, flash_attention, cal)
    r = {k: np.asarray(v) for k, v in _evaluate(f, float(b_req), float(i), float(o), want_max).items()}
    fits = bool(r["fits"])
    b = int(r["batch"]) if want_max else b_req
    bmax = int(max(0.0, float(r["bmax"])))
    share_total = float(core.kv_memory_share(f)) * n
    kv_gb = max(b, 1) * float(core.kv_sequence_bytes(f, float(i + o))) * share_total / 1e9

    reason, suggestion, s_n, s_p = "", None, None, None
    if not fits:
        if not bool(r["ctx_ok"]):
            reason = (f"input_tokens + output_tokens = {i + o} exceeds the context window of "
                      f"{m.id} ({m.max_context_tokens} tokens)")
        else:
            need = float(r["mem_needed"]) / 1e9
            usable = float(core.memory_usable(f, max(b, 1), float(i), float(o))) / 1e9
            what = f"batch {b}" if not want_max else "even one sequence"
            reason = (f"{what} of {i}+{o} tokens needs {need:.1f} GB per GPU but {engine_id} "
                      f"can use {usable:.1f} GB of each {g.memory_gb:g} GB {g.id} "
                      f"({g.memory_gb * DEVICE_MEMORY_BYTES_PER_GB / 1e9:.1f} x 10^9 bytes) "
                      f"(weights {f['w_bytes'] / n / 1e9:.1f} GB per GPU on {n} GPU(s))")
            s_n = min_gpus_to_fit(m, g, precision, batch_size=max(b, 1), input_tokens=i,
                                  output_tokens=o, kv_precision=kv_precision, engine=engine_id,
                                  flash_attention=flash_attention, calibration=cal)
            for p in _precision_order(g, spec):
                if WEIGHT_BITS[p] >= WEIGHT_BITS[precision]:
                    continue
                kvp = kv_precision if explicit_kv else _default_kv(p, g, spec)
                fp = _features(m, g, spec, engine_id, p, kvp, n, flash_attention, cal)
                if float(core.max_batch_by_memory(fp, float(i), float(o))) >= max(b, 1):
                    s_p = p
                    break
            parts = []
            if s_n is not None:
                parts.append(f"{s_n} x {g.id} at {precision}")
            if s_p is not None:
                parts.append(f"{n} x {g.id} at {s_p}")
            suggestion = ("fits on " + " or ".join(parts)) if parts else (
                f"no replica of up to {MAX_GPUS} {g.id} GPUs holds this; shorten the sequences "
                "or choose a GPU with more memory")
            if want_max and bmax < 1:
                reason = "no sequence fits: " + reason

    band = cal.error_band("decode" if b == 1 else "throughput")
    tband = cal.error_band("ttft")

    def t(key):
        return float(r[key]) if fits else None

    tpot = t("tpot")
    prefill = t("prefill")
    decode = t("decode")
    return Estimate(
        fits=fits, reason=reason, suggestion=suggestion, suggested_n_gpus=s_n,
        suggested_precision=s_p, model_id=m.id, gpu_id=g.id, engine=engine_id, n_gpus=n,
        precision=precision, kv_precision=kv_precision, batch_size=b, input_tokens=i,
        output_tokens=o, flash_attention=bool(flash_attention),
        weights_gb=f["w_bytes"] / 1e9, kv_cache_gb=kv_gb,
        kv_cache_bytes_per_token=f["kv_f"] + f["kv_s"],
        activation_gb=float(r["act"]) / 1e9,
        memory_per_gpu_gb=float(r["mem_needed"]) / 1e9,
        usable_memory_per_gpu_gb=float(core.memory_usable(f, max(b, 1), float(i), float(o))) / 1e9,
        max_batch_size=bmax,
        prefill_s=prefill, ttft_s=t("ttft"), tpot_s=tpot, decode_s=decode,
        e2e_s=(prefill + decode) if fits else None,
        output_tokens_per_s=t("tput"),
        tokens_per_s_per_request=(1.0 / tpot) if fits else None,
        bound=("compute" if bool(r["compute_bound"]) else "memory") if fits else None,
        bandwidth_efficiency=f["eta_bw"], compute_efficiency=f["eta_c"], step_overhead_s=f["ovh"],
        error_band=band, ttft_error_band=tband,
    )


def _default_kv(precision, g, spec):
    if precision == "fp8":
        return "fp8"
    if precision in WEIGHT_ONLY:
        return _activation_precision(g, spec)
    return precision


# ----------------------------------------------------------------------------------------
# Roofline
# ----------------------------------------------------------------------------------------
def arithmetic_intensity(model, precision="bf16", batch_size=1, context_tokens=0,
                         kv_precision=None) -> float:
    """FLOPs per byte moved in one decode step of ``batch_size`` sequences [FLOP/B].

    Weights (MoE: the experts a batch touches) and KV of ``context_tokens`` per sequence.
    Compare with :func:`ridge_point`: below it the step is memory-bound.
    """
    m = catalog.llm(model)
    precision = _check_precision(precision)
    kvp = _check_precision(kv_precision, "kv_precision") if kv_precision else (
        "fp8" if precision == "fp8" else ("bf16" if precision in WEIGHT_ONLY else precision))
    f = _model_numbers(m, precision, kvp, _engine_specs()["generic"])
    b = float(_positive_int("batch_size", batch_size))
    c = float(context_tokens)
    if not math.isfinite(c) or c < 0:
        raise ValueError(f"context_tokens must be >= 0, got {context_tokens!r}")
    cw = min(c, f["window"])
    flops = 2 * f["p_flops"] * b + b * (f["attn_f"] * c + f["attn_s"] * cw)
    mem = float(core.weights_read_bytes(f, b)) + b * (f["kv_f"] * c + f["kv_s"] * cw)
    return flops / mem


def ridge_point(gpu, precision="bf16", engine=None) -> float:
    """Peak FLOPs per byte of memory bandwidth of ``gpu`` at ``precision`` [FLOP/B]."""
    g = catalog.gpu(gpu)
    spec = _engine_specs()[_engine_id(engine)]
    precision = _check_precision(precision)
    peak = _peak_flops(g, precision, spec)
    if peak is None:
        raise ValueError(f"GPU {g.id!r} has no {precision} tensor support")
    return peak / (g.mem_bw_gbps * 1e9)


def ridge_batch_size(model, gpu, precision="bf16", context_tokens=0, *, n_gpus=1,
                     kv_precision=None, engine=None, max_batch=65536, calibration=None) -> int | None:
    """Smallest batch at which a decode step becomes compute-bound (calibrated rates), or None.

    Memory fit is not checked. With long contexts the KV traffic grows with the batch as fast
    as the FLOPs, and the step may never become compute-bound: None.
    """
    st = step_times(model, gpu, n_gpus=n_gpus, precision=precision, kv_precision=kv_precision,
                    engine=engine, calibration=calibration)
    b = np.arange(1, int(max_batch) + 1, dtype=float)
    mem, comp, _ = core.decode_step_terms(st._f, b, float(context_tokens))
    hit = np.nonzero(comp >= mem)[0]
    return int(b[hit[0]]) if hit.size else None


# ----------------------------------------------------------------------------------------
# Sweep
# ----------------------------------------------------------------------------------------
_REASONS = ("", "precision not supported on this GPU/engine",
            "n_gpus not allowed by the model's heads", "exceeds the model's context window",
            "does not fit in memory")


def _as_list(x) -> list:
    if isinstance(x, (str, catalog.GPU, catalog.LLM)) or not isinstance(x, Iterable):
        return [x]
    return list(x)


def sweep(models, gpus, *, precisions=("bf16",), n_gpus=(1,), batch_sizes=(1,),
          input_tokens=(512,), output_tokens=(128,), engine=None, kv_precision=None,
          flash_attention=True, calibration=None) -> pd.DataFrame:
    """:func:`estimate` over the Cartesian grid of all arguments, vectorized.

    Parameters
    ----------
    models, gpus : id/object or sequence of them
    precisions : str or sequence of str
    n_gpus, batch_sizes, input_tokens, output_tokens : int or sequence
        ``batch_sizes`` may contain "max".
    engine, kv_precision, flash_attention, calibration
        One value each, as for :func:`estimate` (kv_precision None = each precision's default).

    Returns
    -------
    pandas.DataFrame
        One row per configuration: model_id, gpu_id, precision, n_gpus, batch_size (resolved),
        input_tokens, output_tokens, fits, reason, weights_gb, kv_cache_gb,
        memory_per_gpu_gb, max_batch_size, prefill_s, ttft_s, tpot_s, decode_s,
        output_tokens_per_s, tokens_per_s_per_request, bound. Combinations the model or GPU
        does not allow (fp8 on A100, a GPU count the heads do not divide) are kept with
        ``fits`` False and a reason instead of raising; timing columns are NaN (pandas'
        missing value) where ``fits`` is False.
    """
    ms = [catalog.llm(x) for x in _as_list(models)]
    gs = [catalog.gpu(x) for x in _as_list(gpus)]
    ps = [_check_precision(p) for p in _as_list(precisions)]
    ns = [_positive_int("n_gpus", x) for x in _as_list(n_gpus)]
    bs_raw = _as_list(batch_sizes)
    bs = []
    for x in bs_raw:
        if isinstance(x, str):
            if x.strip().lower() != "max":
                raise ValueError(f"batch_sizes entries must be positive integers or 'max', got {x!r}")
            bs.append(-1.0)
        else:
            bs.append(float(_positive_int("batch_size", x)))
    ins = [float(_positive_int("input_tokens", x)) for x in _as_list(input_tokens)]
    outs = [float(_positive_int("output_tokens", x)) for x in _as_list(output_tokens)]
    engine_id = _engine_id(engine)
    spec = _engine_specs()[engine_id]
    kvp = _check_precision(kv_precision, "kv_precision") if kv_precision is not None else None
    cal = _calibration(calibration)
    M, G, P, N, B, I, O = len(ms), len(gs), len(ps), len(ns), len(bs), len(ins), len(outs)

    # Model x precision features, shape (M, 1, P, 1, 1, 1, 1).
    mp = [[_model_numbers(m, p, kvp or _default_kv(p, gs[0], spec), spec) for p in ps] for m in ms]
    mkeys = mp[0][0].keys()
    f = {}
    for k in mkeys:
        f[k] = np.array([[float(mp[a][c][k]) for c in range(P)] for a in range(M)]).reshape(M, 1, P, 1, 1, 1, 1)
    # GPU x precision features, shape (1, G, P, 1, 1, 1, 1); GPU x n for links.
    peak = np.full((G, P), np.nan)
    names = ("eta_bw", "eta_c", "eta_cp", "step", "layer")
    fac = {k: np.ones((G, P)) for k in names}
    for gi, g in enumerate(gs):
        for pi, p in enumerate(ps):
            if p in spec["weight_precisions"] and not (g.vendor == "amd" and not spec["amd_support"]):
                pk = _peak_flops(g, p, spec)
                peak[gi, pi] = pk if pk is not None else np.nan
            one = _factors(cal, engine_id, gpu_class(g), p)
            for k in names:
                fac[k][gi, pi] = one[k]
    shape_gp = (1, G, P, 1, 1, 1, 1)
    valid_prec = np.isfinite(peak).reshape(shape_gp)
    f["peak"] = np.where(np.isfinite(peak), peak, 1.0).reshape(shape_gp)
    for k in ("eta_bw", "eta_c", "eta_cp"):
        f[k] = fac[k].reshape(shape_gp)
    f["ovh"] = _overhead_seconds(fac["step"].reshape(shape_gp), fac["layer"].reshape(shape_gp),
                                 f["n_layers"], f["moe_visits"], cal.moe_expert_overhead_factor)
    f["ovh_prefill"] = f["ovh"] * cal.prefill_overhead_ratio
    f["mem"] = np.array([float(g.memory_gb) * DEVICE_MEMORY_BYTES_PER_GB for g in gs]).reshape(
        1, G, 1, 1, 1, 1, 1)
    f["bw"] = np.array([float(g.mem_bw_gbps) * 1e9 for g in gs]).reshape(1, G, 1, 1, 1, 1, 1)
    links = np.array([[_link(g, n, cal) for n in ns] for g in gs])  # (G, N, 2)
    f["link_bw"] = links[:, :, 0].reshape(1, G, 1, N, 1, 1, 1)
    f["link_lat"] = links[:, :, 1].reshape(1, G, 1, N, 1, 1, 1)
    f["n"] = np.array(ns, dtype=float).reshape(1, 1, 1, N, 1, 1, 1)
    f["mla"] = f["mla"].astype(bool)
    f.update({
        "tensor": spec["multi_gpu_mode"] == "tensor", "flash": 1.0 if flash_attention else 0.0,
        "mem_frac": float(spec["memory_fraction"]), "free_mode": spec["memory_fraction_of"] == "free",
        "runtime": float(spec["runtime_overhead_gb"]) * 1e9, "chunk": float(spec["prefill_chunk_tokens"]),
        "cap": float(spec["max_batch_size"]) if spec.get("max_batch_size") else math.inf,
    })
    valid_n = np.array([[_gpu_count_problem(m, n, spec) is None for n in ns] for m in ms]).reshape(M, 1, 1, N, 1, 1, 1)
    b_arr = np.array(bs).reshape(1, 1, 1, 1, B, 1, 1)
    i_arr = np.array(ins).reshape(1, 1, 1, 1, 1, I, 1)
    o_arr = np.array(outs).reshape(1, 1, 1, 1, 1, 1, O)
    valid = valid_prec & valid_n
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        r = _evaluate(f, b_arr, i_arr, o_arr, b_arr < 0, valid)
    shape = (M, G, P, N, B, I, O)
    total = int(np.prod(shape))

    def full(x):
        return np.broadcast_to(x, shape).reshape(total)

    fits = full(r["fits"])
    reason = np.where(~full(valid_prec), 1, np.where(~full(valid_n), 2, np.where(
        ~full(r["ctx_ok"]), 3, np.where(~fits, 4, 0)))).astype(np.int8)

    def timing(x):
        return np.where(fits, full(x), np.nan)

    def codes(labels, axis):
        uniq = list(dict.fromkeys(labels))
        idx = np.array([uniq.index(x) for x in labels]).reshape([-1 if k == axis else 1 for k in range(7)])
        return pd.Categorical.from_codes(full(idx), categories=uniq)

    prefill = timing(r["prefill"])
    decode = timing(r["decode"])
    tpot = timing(r["tpot"])
    n_full = full(f["n"])
    share = core.kv_memory_share({"n": f["n"], "n_kv": f["n_kv"], "mla": f["mla"], "tensor": f["tensor"]})
    kv_gb = full(np.maximum(r["batch"], 1.0) * core.kv_sequence_bytes(f, i_arr + o_arr) * share * f["n"]) / 1e9
    data = {
        "model_id": codes([m.id for m in ms], 0),
        "gpu_id": codes([g.id for g in gs], 1),
        "precision": codes(ps, 2),
        "n_gpus": n_full.astype(np.int64),
        "batch_size": full(r["batch"]).astype(np.int64),
        "input_tokens": full(i_arr).astype(np.int64),
        "output_tokens": full(o_arr).astype(np.int64),
        "fits": fits,
        "reason": pd.Categorical.from_codes(reason, categories=list(_REASONS)),
        "weights_gb": full(f["w_bytes"]) / 1e9,
        "kv_cache_gb": kv_gb,
        "memory_per_gpu_gb": full(r["mem_needed"]) / 1e9,
        "max_batch_size": np.maximum(full(r["bmax"]), 0).astype(np.int64),
        "prefill_s": prefill,
        "ttft_s": timing(r["ttft"]),
        "tpot_s": tpot,
        "decode_s": decode,
        "output_tokens_per_s": timing(r["tput"]),
        "tokens_per_s_per_request": 1.0 / tpot,
        "bound": pd.Categorical.from_codes(
            np.where(fits, full(r["compute_bound"]).astype(np.int8), -1), categories=["memory", "compute"]),
    }
    return pd.DataFrame(data, copy=False)


# ----------------------------------------------------------------------------------------
# Engines table
# ----------------------------------------------------------------------------------------
def engines(calibration=None) -> pd.DataFrame:
    """Engine capabilities, memory defaults, docs URL and the efficiency factors in use.

    Factor columns: ``bandwidth_efficiency``, ``compute_efficiency`` (for NVIDIA HBM GPUs;
    GDDR and AMD GPUs shift them, see calibration.json), ``step_overhead_s`` (fixed cost of a
    forward pass [s]), ``layer_overhead_s`` (fixed cost per layer [s]; each expert a token
    visits in a routed-MoE layer adds ``moe_expert_overhead_factor`` times as much) and
    ``calibration_rows``
    (benchmark rows the fit used; 0 = generic factors).
    """
    cal = _calibration(calibration)
    rows = []
    for key, spec in _engine_specs().items():
        ef = cal.engine_factors(key)
        row = {"engine": key}
        row.update({k: v for k, v in spec.items() if k not in ("prior", "weight_bits")})
        row["weight_bits"] = json.dumps(spec.get("weight_bits", {}))
        row["quantization_formats"] = "; ".join(spec["quantization_formats"])
        row["weight_precisions"] = "; ".join(spec["weight_precisions"])
        row["bandwidth_efficiency"] = float(ef["bandwidth_efficiency"])
        row["compute_efficiency"] = float(ef["compute_efficiency"])
        row["step_overhead_s"] = float(ef["step_overhead_s"])
        row["layer_overhead_s"] = float(ef.get("layer_overhead_s", 0.0))
        row["calibration_rows"] = int(cal.data.get("engines", {}).get(key, {}).get("n_rows", 0))
        rows.append(row)
    return pd.DataFrame(rows).set_index("engine")


def _engines_dict() -> dict:
    cal = _default_calibration()
    out = {}
    for key, spec in _engine_specs().items():
        d = {k: v for k, v in spec.items() if k != "prior"}
        d["factors"] = dict(cal.engine_factors(key))
        out[key] = d
    return out


def __getattr__(name):
    if name == "ENGINES":
        return _engines_dict()
    raise AttributeError(f"module 'hwcost.perf' has no attribute {name!r}")


# ----------------------------------------------------------------------------------------
# Calibration and validation (implemented in _perf_calib)
# ----------------------------------------------------------------------------------------
def calibrate(benchmarks=None, *, write: bool = False, path=None, loso: bool = True) -> Calibration:
    """Refit the efficiency factors to published measurements (reproducible).

    Parameters
    ----------
    benchmarks : DataFrame or path, optional
        Rows in the ``data/benchmarks.csv`` format; default the bundled table.
    write : bool
        Write the result to ``path`` (default ``hwcost/calibration.json``) atomically
        (temporary file + ``os.replace``). Nothing is written otherwise.
    loso : bool
        Also run the leave-one-source-out validation and take the error bands from its
        out-of-sample residuals.

    Returns
    -------
    Calibration
    """
    from hwcost import _perf_calib

    return _perf_calib.calibrate(benchmarks, write=write, path=path, loso=loso)


def validate(benchmarks=None, calibration=None) -> pd.DataFrame:
    """Predicted against measured value for every benchmark row.

    Returns a DataFrame with id, engine, gpu_id, model_id, n_gpus, precision, batch_size,
    input_tokens, output_tokens, metric, regime (decode / ttft / throughput), measured,
    predicted, error_pct ((predicted - measured) / measured x 100), batch_size_used, source.
    """
    from hwcost import _perf_calib

    return _perf_calib.validate(benchmarks, calibration)


def leave_one_source_out(benchmarks=None) -> pd.DataFrame:
    """Refit without each source in turn and predict that source's rows (out-of-sample).

    Same columns as :func:`validate` plus ``held_out_source``. ``df.attrs['mdape_pct']``
    holds the median absolute percentage error per regime and overall.
    """
    from hwcost import _perf_calib

    return _perf_calib.leave_one_source_out(benchmarks)
