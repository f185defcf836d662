"""Model features for the performance model: precisions and their bits, engine specs and the
calibrated efficiency factors, memory fit checks, interconnect links, and the per-configuration
feature dictionary that :mod:`hwcost.perf.kernel` evaluates. See :mod:`hwcost.perf`.
"""

from __future__ import annotations

import json
import math
import os
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from hwcost import catalog, validate
from hwcost.errors import HwcostError

from . import kernel as core

PRECISIONS = catalog.PRECISIONS

#: Generic bits per parameter of the quantized (linear-layer) weights. int4: 4 bits plus a
#: 16-bit scale and a 4-bit zero point per group of 128 (AWQ/GPTQ layout) = 4.156. fp4: NVFP4,
#: 4-bit E2M1 values plus one FP8 scale per block of 16 = 4.5 (OCP MXFP4, one 8-bit scale per
#: 32, is 4.25; the larger NVFP4 figure is kept for both).
WEIGHT_BITS = {"fp16": 16.0, "bf16": 16.0, "fp8": 8.0, "int8": 8.0, "int4": 4.0 + 20.0 / 128.0,
               "fp4": 4.0 + 8.0 / 16.0}
#: Bits per element of a KV-cache entry. int8/int4 follow llama.cpp's q8_0 / q4_0 blocks
#: (32 values + one FP16 scale); fp4 is an NVFP4 cache (16 values + one FP8 scale).
KV_BITS = {"fp16": 16.0, "bf16": 16.0, "fp8": 8.0, "int8": 8.5, "int4": 4.5, "fp4": 4.5}
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

REGIMES = ("decode", "ttft", "throughput")

LAYOUTS = ("tp", "ep", "dp-attention+ep")
"""Parallel layouts of a multi-GPU replica (see :mod:`hwcost.perf.kernel`): ``tp`` plain
tensor parallelism (layer split for llama.cpp/ExLlamaV2); ``ep`` attention tensor parallel
with the routed experts split by expert parallelism; ``dp-attention+ep`` attention data
parallelism with expert parallelism (SGLang ``--enable-dp-attention --ep N``, vLLM
``--data-parallel-size N --enable-expert-parallel``, TensorRT-LLM ``enable_attention_dp``,
its "DEP" configurations)."""
_LAYOUT_ALIASES = {"dep": "dp-attention+ep", "dp+ep": "dp-attention+ep", "tep": "ep",
                   "tp+ep": "ep", "tensor": "tp"}


# ----------------------------------------------------------------------------------------
# Engines and calibration
# ----------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def engine_specs() -> dict:
    with open(ENGINES_PATH, encoding="utf-8") as fh:
        return json.load(fh)["engines"]


def resolve_engine_id(engine) -> str:
    if engine is None:
        return "generic"
    if not isinstance(engine, str):
        raise HwcostError(f"engine must be a string or None, got {engine!r}")
    key = engine.strip().lower().replace("_", "-")
    aliases = {"trt-llm": "tensorrt-llm", "trtllm": "tensorrt-llm", "tensorrt": "tensorrt-llm",
               "llamacpp": "llama.cpp", "llama-cpp": "llama.cpp", "ollama": "llama.cpp",
               "text-generation-inference": "tgi", "exllama": "exllamav2", "turbomind": "lmdeploy",
               "mlc": "mlc-llm", "mlcllm": "mlc-llm", "mlc-engine": "mlc-llm", "none": "generic"}
    key = aliases.get(key, key)
    specs = engine_specs()
    if key not in specs:
        accepted = ", ".join(["None"] + [k for k in specs if k != "generic"])
        raise HwcostError(f"unknown engine {engine!r}; accepted: {accepted}")
    return key


#: Share of a sequence's output tokens whose KV cache it holds on average, by the engine's
#: ``kv_allocation`` (engines.json): blocks given as tokens are generated hold, over a steady
#: stream of staggered sequences, the prompt plus half the output; a reservation holds all of it.
KV_OUTPUT_SHARE = {"on_demand": 0.5, "reserved": 1.0}


def kv_output_share(spec: dict) -> float:
    """Share of a sequence's output whose KV the engine keeps in memory on average [-]
    (:data:`KV_OUTPUT_SHARE` of its ``kv_allocation``; ``reserved`` where unset)."""
    kind = spec.get("kv_allocation", "reserved")
    if kind not in KV_OUTPUT_SHARE:
        raise HwcostError(f"unknown kv_allocation {kind!r}; accepted: {', '.join(KV_OUTPUT_SHARE)}")
    return KV_OUTPUT_SHARE[kind]


#: The GPU class whose latent-attention layers take the calibration's own factor
#: (:meth:`Calibration.mla_layer_overhead_on`; the fit's ``mla_amd`` parameter).
MLA_FACTOR_CLASS = "amd"


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
        return engine_specs()[engine_id]["prior"]

    def class_shift(self, gpu_class: str) -> tuple[float, float]:
        c = self.data.get("gpu_classes", {}).get(gpu_class, {})
        return float(c.get("bandwidth_logit_shift", 0.0)), float(c.get("compute_logit_shift", 0.0))

    @property
    def weight_only_factor(self) -> float:
        """Share of the 16-bit compute efficiency that int8/int4 weight-only matrix products
        reach [-] (the weights are dequantized in the product's inner loop)."""
        return float(self.data.get("weight_only_efficiency_factor", 1.0))

    @property
    def weight_only_bandwidth_factor(self) -> float:
        """Share of the streaming efficiency at which int8/int4 weight-only products read
        their weights [-]. Calibrations written before it existed applied the compute factor
        to every byte: that value."""
        return float(self.data.get("weight_only_bandwidth_factor", self.weight_only_factor))

    @property
    def prefill_overhead_ratio(self) -> float:
        """Fixed cost of a prefill pass / that of a decode step [-], for engines that launch
        a prefill pass's kernels one by one from the host (``eager_prefill``)."""
        return float(self.data.get("prefill_overhead_ratio", 1.0))

    @property
    def compiled_prefill_overhead_ratio(self) -> float:
        """The same ratio for engines that run prefill as one compiled pass (TensorRT
        engines, TurboMind, TVM) [-]. Calibrations written before it existed used the one
        ratio for every engine: that value."""
        return float(self.data.get("compiled_prefill_overhead_ratio", self.prefill_overhead_ratio))

    @property
    def fp8_compute_factor(self) -> float:
        return float(self.data.get("fp8_compute_factor", 1.0))

    @property
    def fp4_compute_factor(self) -> float:
        """Share of the compute efficiency that FP4 products reach of the FP4 tensor peak
        [-] (block-scaled NVFP4 / MXFP4 GEMMs rescale every 16 or 32 elements); 1 in
        calibrations written before it existed."""
        return float(self.data.get("fp4_compute_factor", 1.0))

    @property
    def allreduce_latency_s(self) -> float:
        return float(self.data.get("allreduce_latency_s", 10e-6))

    @property
    def sync_jitter(self) -> float:
        """Mean delay of one GPU's share of a pass as a fraction of the pass [-]: tensor-
        parallel GPUs meet at every collective and each waits for the latest
        (:func:`synchronization_slowdown`). Calibrations written before it existed carry
        none: 0."""
        return float(self.data.get("sync_jitter", 0.0))

    @property
    def sequence_step_overhead_s(self) -> float:
        """Host time per running sequence per decode step [s] (sampling, stop checks,
        scheduling and output handling loop over the sequences). Calibrations written before
        it existed carry none: 0."""
        return float(self.data.get("sequence_step_overhead_s", 0.0))

    @property
    def moe_layer_overhead_s(self) -> float:
        """Fixed cost of one routed-MoE layer per forward pass on top of a dense layer's [s]
        (routing, token permutation, grouped-GEMM launches; see :func:`overhead_seconds`).
        Calibrations written before it existed carry none: 0."""
        return float(self.data.get("moe_layer_overhead_s", 0.0))

    @property
    def mla_layer_overhead_s(self) -> float:
        """Fixed cost of one multi-head latent attention (MLA) layer per forward pass on top of
        a dense layer's [s] (the latent down/up projections, their norms and the absorbed
        per-head products are kernels a grouped-query attention layer does not run; see
        :func:`overhead_seconds`). Calibrations written before it existed carry none: 0."""
        return float(self.data.get("mla_layer_overhead_s", 0.0))

    @property
    def mla_layer_overhead_amd_factor(self) -> float:
        """Ratio of the MLA layer cost on AMD Instinct GPUs to that on NVIDIA ones [-]: the
        latent-attention kernels of the ROCm stacks (AITER, Triton) run more, slower
        launches than FlashMLA / FlashInfer / TensorRT-LLM's. 1 in calibrations written
        before it existed."""
        return float(self.data.get("mla_layer_overhead_amd_factor", 1.0))

    @property
    def mla_layer_overhead_log_change_per_year(self) -> float:
        """Change of the logarithm of the MLA layer cost per year of measurement date [1/yr]
        (negative: the engines' MLA kernels got faster). The fit reads each measurement at
        its own date; estimates use the cost at :attr:`mla_layer_overhead_date`. 0 in
        calibrations written before it existed."""
        return float(self.data.get("mla_layer_overhead_log_change_per_year", 0.0))

    @property
    def mla_layer_overhead_date(self) -> str | None:
        """Date (ISO) at which :attr:`mla_layer_overhead_s` applies: that of the newest
        latent-attention measurement the calibration was fitted to. None in calibrations
        written before it existed."""
        value = self.data.get("mla_layer_overhead_date")
        return str(value) if value else None

    def mla_layer_overhead_on(self, gpu_class_id: str) -> float:
        """:attr:`mla_layer_overhead_s` on a GPU class (``hbm``, ``gddr``, ``amd``) [s]:
        the parts of :data:`MLA_FACTOR_CLASS` pay :attr:`mla_layer_overhead_amd_factor`
        times it."""
        factor = self.mla_layer_overhead_amd_factor if gpu_class_id == MLA_FACTOR_CLASS else 1.0
        return self.mla_layer_overhead_s * factor

    @property
    def achievable_basis(self) -> bool:
        """True when the engine efficiencies are shares of each GPU's achievable rates
        (:func:`achievable_fractions`, ``"efficiency_basis": "achievable"``), False when they
        are shares of the datasheet rates (calibrations written before that basis, and
        hand-made ones without the key)."""
        return self.data.get("efficiency_basis", "datasheet") == "achievable"

    @property
    def prefill_compute_logit_shift(self) -> float:
        """Logit shift from the batched-decode to the prefill compute efficiency."""
        return float(self.data.get("prefill_compute_logit_shift", 0.0))

    def overlay_shift(self, gpu_id: str, engine_id: str) -> tuple[float, float, float]:
        """Shifts a user's calibration overlay (:func:`hwcost.perf.fit_overlay`) applies to
        one GPU and engine: ``(bandwidth logit, compute logit, log overhead)``; zeros when
        the overlay has no entry for them. An entry for the exact GPU and engine wins over
        one for the GPU with any engine (``engine`` ``"*"``)."""
        entries = (self.data.get("overlay") or {}).get("entries") or ()
        best = None
        for e in entries:
            if e.get("gpu_id") != gpu_id:
                continue
            if e.get("engine") == engine_id:
                best = e
                break
            if e.get("engine") == "*" and best is None:
                best = e
        if best is None:
            return (0.0, 0.0, 0.0)
        return (float(best.get("bandwidth_logit_shift", 0.0)),
                float(best.get("compute_logit_shift", 0.0)),
                float(best.get("overhead_log_shift", 0.0)))

    def error_band(self, regime: str) -> tuple[float, float]:
        band = self.data.get("error_bands", {}).get(regime)
        if not band:
            return (0.5, 2.0)
        return (float(band[0]), float(band[1]))

    def to_json(self) -> str:
        return json.dumps(self.data, indent=1, sort_keys=False) + "\n"


#: Prior host time per running sequence per decode step [s] (the fit's prior centre,
#: :data:`hwcost.perf.fit.PRIOR_SEQUENCE_STEP`, and the figure when no calibration exists).
SEQUENCE_STEP_OVERHEAD_PRIOR_S = 3e-6


def _prior_calibration() -> Calibration:
    specs = engine_specs()
    return Calibration({
        "engines": {k: dict(v["prior"]) for k, v in specs.items()},
        "gpu_classes": {},
        "weight_only_efficiency_factor": 1.0,
        "allreduce_latency_s": 10e-6,
        "moe_layer_overhead_s": 50e-6,
        "mla_layer_overhead_s": 50e-6,
        "sequence_step_overhead_s": SEQUENCE_STEP_OVERHEAD_PRIOR_S,
        "prefill_compute_logit_shift": 0.0,
        "error_bands": {},
        "note": "priors only (no calibration.json found)",
    })


CALIBRATION_ENV_VAR = "HWCOST_CALIBRATION"
"""Environment variable naming a calibration file (a user overlay, a full calibration or a
measurement file, see :func:`load_calibration`) that replaces the stored calibration as the
default everywhere: estimates, sweeps, the simulator, ``recommend`` and notebooks."""


def default_calibration() -> Calibration:
    """The calibration in use: :data:`CALIBRATION_ENV_VAR`'s file when set, else the stored one."""
    path = os.environ.get(CALIBRATION_ENV_VAR, "").strip()
    if path:
        try:
            st = os.stat(path)
        except OSError:
            raise HwcostError(f"{CALIBRATION_ENV_VAR}={path!r}: no such file") from None
        return _loaded_calibration(os.path.abspath(path), st.st_mtime_ns, st.st_size)
    return _bundled_calibration()


@lru_cache(maxsize=8)
def _loaded_calibration(path: str, mtime_ns: int, size: int) -> Calibration:
    return load_calibration(path)


# Fitting an overlay to raw measurements is hwcost.perf.fit's job, a layer above this one: it
# registers its fitter here when it is imported (importing hwcost.perf always imports it), so
# load_calibration reads measurement files without this module importing fit.
_OVERLAY_FITTER = None


def register_overlay_fitter(fitter) -> None:
    """Set the function ``fitter(path, base_calibration) -> Calibration`` used by
    :func:`load_calibration` for measurement files (``hwcost.perf.fit`` registers its own)."""
    global _OVERLAY_FITTER
    _OVERLAY_FITTER = fitter


def load_calibration(path) -> Calibration:
    """A calibration from a file.

    Accepted: a user overlay written by :func:`hwcost.perf.save_overlay` (applied on top of
    the stored calibration, which is never rewritten); a full calibration JSON as written by
    :func:`hwcost.perf.calibrate`; or a measurement file (``vllm bench serve --save-result``
    JSON, GuideLLM report, plain CSV; see :mod:`hwcost.perf.measurements`), from which an
    overlay is fitted on the spot.
    """
    p = Path(os.fspath(path))
    if not p.is_file():
        raise HwcostError(f"calibration file {str(p)!r} not found")
    if p.suffix.lower() == ".json":
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise HwcostError(f"calibration file {p.name!r} is not readable JSON: {exc}") from None
        if isinstance(data, dict) and "overlay" in data and "engines" not in data:
            base = _bundled_calibration()
            return Calibration({**base.data, "overlay": data["overlay"]})
        if isinstance(data, dict) and "engines" in data:
            return Calibration(data)
    if _OVERLAY_FITTER is None:  # pragma: no cover - hwcost.perf imports fit, which registers
        raise HwcostError(f"calibration file {p.name!r}: measurement files need hwcost.perf.fit")
    return _OVERLAY_FITTER(p, bundled_calibration())


def bundled_calibration() -> Calibration:
    """``hwcost/perf/calibration.json`` as shipped (as last written by :func:`calibrate`),
    whatever :data:`CALIBRATION_ENV_VAR` says."""
    return _bundled_calibration()


@lru_cache(maxsize=1)
def _bundled_calibration() -> Calibration:
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


def _clear_calibration_caches() -> None:
    _bundled_calibration.cache_clear()
    _loaded_calibration.cache_clear()


default_calibration.cache_clear = _clear_calibration_caches


def stored_calibration() -> Calibration:
    """The factors in use: ``hwcost/perf/calibration.json`` as last written by :func:`calibrate`,
    or the file :data:`CALIBRATION_ENV_VAR` names."""
    return default_calibration()


def as_calibration(calibration) -> Calibration:
    if calibration is None:
        return default_calibration()
    if isinstance(calibration, Calibration):
        return calibration
    if isinstance(calibration, dict):
        return Calibration(calibration)
    raise HwcostError(f"calibration must be a Calibration, a dict or None, got {type(calibration).__name__}")


def gpu_class(gpu) -> str:
    """Efficiency class of a GPU: ``amd``, ``hbm`` (NVIDIA HBM parts) or ``gddr`` (GDDR/LPDDR)."""
    g = catalog.gpu(gpu)
    return _efficiency_class(g.vendor, g.memory_type)


def logit(p):
    return math.log(p / (1.0 - p))


def sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z))


# Largest achievable fraction of a datasheet rate: GeForce cards boost past the clock behind
# their datasheet figure, so a measured GEMM may slightly exceed it; the model never does.
MAX_ACHIEVABLE_FRACTION = 1.0


@lru_cache(maxsize=1)
def _microbenchmark_fractions() -> dict:
    """Median measured fraction of datasheet per (gpu_id, quantity) from the cited table
    (:func:`hwcost.catalog.gpu_microbenchmarks`; GEMMs at BF16)."""
    df = catalog.gpu_microbenchmarks()
    df = df[(df["quantity"] == "memory_bandwidth") | (df["precision"] == "bf16")]
    medians = df.groupby(["gpu_id", "quantity"])["fraction_of_datasheet"].median()
    return {key: min(float(v), MAX_ACHIEVABLE_FRACTION) for key, v in medians.items()}


def _efficiency_class(vendor: str, memory_type: str) -> str:
    if vendor == "amd":
        return "amd"
    return "hbm" if "HBM" in memory_type.upper() else "gddr"


@lru_cache(maxsize=1)
def _measured_gpu_kinds() -> dict:
    """(vendor, segment, efficiency class) of every GPU in the microbenchmark table, from the
    bundled GPU table: what was measured is a fact of those products, whatever a user's
    catalog says about its own entries."""
    measured = {gpu_id for gpu_id, _ in _microbenchmark_fractions()}
    table = catalog.bundled_gpus()
    return {r.id: (r.vendor, r.segment, _efficiency_class(r.vendor, r.memory_type))
            for r in table.itertuples() if r.id in measured}


def achievable_fractions(gpu) -> tuple[float, float]:
    """Achievable share of a GPU's datasheet memory bandwidth and 16-bit tensor rate [-].

    The median of the published microbenchmarks in ``data/gpu_microbenchmarks.csv``
    (streaming-copy/read kernels for bandwidth, large square BF16 GEMMs for compute, capped
    at 1); a GPU without measurements takes the median over the measured GPUs of its vendor,
    segment and efficiency class (:func:`gpu_class`), else of its class, else of all. The
    engines' efficiencies (:func:`efficiency_factors`) are shares of these achievable rates,
    so a GPU the serving benchmarks never measured still gets its own memory system and
    tensor cores.

    Returns
    -------
    (bandwidth fraction, GEMM fraction)
    """
    return _achievable_fractions(catalog.gpu(gpu))


@lru_cache(maxsize=256)
def _achievable_fractions(g: catalog.GPU) -> tuple[float, float]:
    # Keyed on the GPU entity (not its id): an edited catalog row is a different key.
    table = _microbenchmark_fractions()
    kinds = _measured_gpu_kinds()
    kind = (g.vendor, g.segment, gpu_class(g))
    out = []
    for quantity in ("memory_bandwidth", "gemm"):
        own = table.get((g.id, quantity))
        if own is None:
            values = [(kinds.get(i), v) for (i, q), v in table.items() if q == quantity]
            pool = ([v for k, v in values if k == kind]
                    or [v for k, v in values if k is not None and k[2] == kind[2]]
                    or [v for _, v in values])
            own = float(np.median(pool))
        out.append(own)
    return out[0], out[1]


def efficiency_factors(cal: Calibration, engine_id: str, gclass: str, precision: str,
                       gpu=None) -> dict:
    """Efficiency factors of a configuration.

    Returns a dict: ``eta_bw`` (memory streaming), ``eta_c`` (batched-decode matrix
    products), ``eta_cp`` (prefill matrix products), all fractions of peak; ``wo_bw`` and
    ``wo_c``, the shares of ``eta_bw`` and of ``eta_c`` / ``eta_cp`` that weight-only (int8,
    int4) products reach on their weights (1 for other precisions; the KV cache and the
    attention are not dequantized weights and keep the plain efficiencies); ``step`` (fixed
    cost of a forward pass [s]) and ``layer`` (fixed cost per dense layer [s]) from which
    :func:`overhead_seconds` builds the per-pass overhead. Under an achievable-basis
    calibration (:attr:`Calibration.achievable_basis`) each efficiency is the GPU's
    achievable fraction (:func:`achievable_fractions` of ``gpu``) times the engine's share of
    it (logistic, shifted by the GPU class); otherwise the engine's share of the datasheet.
    """
    ef = cal.engine_factors(engine_id)
    sb, sc = cal.class_shift(gclass)
    use = gpu is not None and cal.achievable_basis
    a_bw, a_c = achievable_fractions(gpu) if use else (1.0, 1.0)
    zb = logit(min(max(ef["bandwidth_efficiency"], 1e-6), 1 - 1e-9)) + sb
    zc = logit(min(max(ef["compute_efficiency"], 1e-6), 1 - 1e-9)) + sc
    eb = a_bw * sigmoid(zb)
    ec = a_c * sigmoid(zc)
    ecp = a_c * sigmoid(zc + cal.prefill_compute_logit_shift)
    wo = precision in WEIGHT_ONLY
    wo_bw = cal.weight_only_bandwidth_factor if wo else 1.0
    wo_c = cal.weight_only_factor if wo else 1.0
    low = {"fp8": cal.fp8_compute_factor, "fp4": cal.fp4_compute_factor}.get(precision, 1.0)
    ec *= low
    ecp *= low
    return {"eta_bw": eb, "eta_c": ec, "eta_cp": ecp, "wo_bw": wo_bw, "wo_c": wo_c,
            "step": float(ef["step_overhead_s"]), "layer": float(ef.get("layer_overhead_s", 0.0))}


def overlay_factors(cal: Calibration, fac: dict, gpu_id: str, engine_id: str) -> dict:
    """:func:`efficiency_factors` after a user's overlay for this GPU and engine: the
    efficiencies' logits shifted, the fixed costs scaled (see
    :meth:`Calibration.overlay_shift`)."""
    dzb, dzc, dlo = cal.overlay_shift(gpu_id, engine_id)
    if not (dzb or dzc or dlo):
        return fac
    out = dict(fac)
    out["eta_bw"] = shifted_efficiency(fac["eta_bw"], dzb)
    out["eta_c"] = shifted_efficiency(fac["eta_c"], dzc)
    out["eta_cp"] = shifted_efficiency(fac["eta_cp"], dzc)
    out["step"] = fac["step"] * math.exp(dlo)
    out["layer"] = fac["layer"] * math.exp(dlo)
    return out


def shifted_efficiency(eta, dz):
    """``sigmoid(logit(eta) + dz)`` for scalars or arrays (an overlay's shift)."""
    eta = np.clip(np.asarray(eta, dtype=float), 1e-9, 1 - 1e-9)
    out = 1.0 / (1.0 + np.exp(-(np.log(eta / (1.0 - eta)) + dz)))
    return float(out) if out.ndim == 0 else out


def harmonic_number(n):
    """``H_n = 1 + 1/2 + ... + 1/n`` of whole numbers ``n >= 0`` (array-like; ``H_0 = 0``)."""
    k = np.rint(np.asarray(n, dtype=float)).astype(int)
    if np.any(k < 0):
        raise HwcostError(f"harmonic_number needs whole numbers >= 0, got {n!r}")
    table = np.concatenate(([0.0], np.cumsum(1.0 / np.arange(1, max(int(k.max(initial=0)), 1) + 1))))
    return table[k]


def synchronization_slowdown(n_gpus, jitter, tensor=True):
    """Time of a tensor-parallel pass over the time of one GPU's share of it [-]:
    ``1 + jitter x (H_n - 1)`` for ``n_gpus > 1`` GPUs that split every layer, else 1.

    The GPUs of a tensor-parallel replica meet at every all-reduce (or all-to-all), so each
    layer ends when the latest GPU ends. Model each GPU's share of the pass as its expected
    time plus a delay (clock and power throttling, memory-channel and launch-queue
    contention) drawn from an exponential distribution of mean ``jitter`` x that time: the
    latest of ``n`` such delays has mean ``H_n`` x ``jitter`` (Renyi's representation of
    exponential order statistics), ``H_n - 1`` of it more than one GPU alone waits. One GPU
    pays the mean delay too, but that is part of what its efficiency measures. Layer-split
    (pipeline) engines do not meet per layer: no slowdown.

    Parameters
    ----------
    n_gpus : int or array
        GPUs in the replica.
    jitter : float
        Mean delay as a fraction of the pass (:attr:`Calibration.sync_jitter`) [-].
    tensor : bool or array
        Whether the engine splits layers across the GPUs (tensor or expert parallel).

    References
    ----------
    Renyi, "On the theory of order statistics", Acta Math. Hungarica 4, 1953. Dean &
    Barroso, "The Tail at Scale", CACM 56(2), 2013.
    """
    n = np.maximum(np.asarray(n_gpus, dtype=float), 1.0)
    excess = harmonic_number(n) - 1.0
    return 1.0 + np.where(np.asarray(tensor, dtype=bool) & (n > 1), float(jitter) * excess, 0.0)


def with_sequence_limit(f: dict, max_batch) -> dict:
    """``f`` with its batch cap set to the sequence limit a server was started with
    (``max_batch``: vLLM ``--max-num-seqs``, SGLang ``--max-running-requests``,
    TensorRT-LLM ``max_batch_size``); None, or NaN where an array of rows has none, keeps
    the engine's default (``max_batch_size`` in ``engines.json``). The one place estimates
    and the fit's benchmark rows apply it."""
    if max_batch is None:
        return f
    limit = np.asarray(max_batch, dtype=float)
    return {**f, "cap": np.where(np.isfinite(limit), limit, f["cap"])}


def with_spread_output_lengths(f: dict, output_tokens, max_output_tokens) -> dict:
    """``f`` with the KV a sequence holds for its output raised for output lengths that
    spread around ``output_tokens`` up to ``max_output_tokens`` (chat datasets such as
    ShareGPT; :func:`hwcost.perf.kernel.spread_length_occupancy_ratio`): long answers hold
    their slots longest, so memory fits fewer sequences than at equal lengths. None, or NaN
    where an array of rows has equal lengths, keeps ``f``. The one place estimates and the
    fit's ShareGPT rows apply it."""
    if max_output_tokens is None:
        return f
    cap = np.asarray(max_output_tokens, dtype=float)
    spread = np.isfinite(cap)
    ratio = core.spread_length_occupancy_ratio(
        output_tokens, np.where(spread, cap, 10.0 * np.asarray(output_tokens, dtype=float)))
    return {**f, "kv_out": f["kv_out"] * np.where(spread, ratio, 1.0)}


# The efficiencies every layer's wait for the latest GPU stretches (wait_for_latest_gpu).
SYNCED_EFFICIENCIES = ("eta_bw", "eta_c", "eta_cp")


def wait_for_latest_gpu(fac: dict, sync) -> dict:
    """``fac`` with its efficiencies (``eta_bw``, ``eta_c``, ``eta_cp``) divided by a
    replica's :func:`synchronization_slowdown` ``sync``: the one place the slowdown enters
    the memory and compute time of estimates, the sweep and the fit alike."""
    return {**fac, **{k: fac[k] / sync for k in SYNCED_EFFICIENCIES}}


def overhead_seconds(step, layer, n_layers, moe_layers, moe_layer_s, mla_layers=0.0,
                     mla_layer_s=0.0):
    """Fixed cost of one forward pass [s]:
    ``step + layer x n_layers + moe_layer_s x moe_layers + mla_layer_s x mla_layers``.

    Every layer launches a chain of kernels (norms, attention, projections, MLP) whose
    launch, synchronisation and ramp-up latencies do not shrink with the batch: ``layer``
    each, an engine's own figure. A routed-MoE layer runs a fixed chain more (gate GEMM, top-k,
    token permutation and its inverse, the grouped-GEMM launches), ``moe_layer_s`` each
    whatever the engine and however many experts a token visits: the MoE kernels, not the
    engine's dense-layer overhead, set it, and the bytes of the experts touched are costed
    with the weights. A multi-head latent attention layer (DeepSeek-V2/V3) runs a longer chain
    than a grouped-query one (query and key-value down-projections, their norms, the query
    up-projection, the absorbed key and value products per head around the attention kernel,
    and with block-scaled FP8 weights an activation quantization before each product):
    ``mla_layer_s`` each. Tensor parallelism does not divide this time (every GPU runs every
    layer).
    """
    return step + layer * n_layers + moe_layer_s * moe_layers + mla_layer_s * mla_layers


# ----------------------------------------------------------------------------------------
# Input checking
# ----------------------------------------------------------------------------------------
def check_precision(precision, what="precision") -> str:
    if not isinstance(precision, str) or precision.strip().lower() not in PRECISIONS:
        raise HwcostError(f"unknown {what} {precision!r}; accepted: {', '.join(PRECISIONS)}")
    return precision.strip().lower()


def positive_int(name, value) -> int:
    return validate.positive_int(name, value)


def activation_precision(gpu: catalog.GPU, spec: dict) -> str:
    """16-bit format that weight-only formats dequantize to."""
    if spec.get("fp16_accumulate") or gpu.bf16_tflops is None:
        return "fp16"
    return "bf16"


def weight_math_precision(gpu: catalog.GPU, precision: str, spec: dict) -> str:
    """Type the matrix products of ``precision`` weights run in on ``gpu``.

    The weights' own type, except for weight-only formats (int8, int4): dequantized to the
    16-bit activation type (:func:`activation_precision`), or, where the engine multiplies
    them by activations quantized to int8 (``int8_quantized_matmul``: llama.cpp's mul_mat_q
    kernels), int8 on NVIDIA GPUs with int8 tensor cores.
    """
    if precision not in WEIGHT_ONLY:
        return precision
    if (spec.get("int8_quantized_matmul") and gpu.vendor == "nvidia"
            and gpu.tensor_tflops("int8") is not None):
        return "int8"
    return activation_precision(gpu, spec)


def math_precision(m: catalog.LLM, gpu: catalog.GPU, precision: str, spec: dict) -> str:
    """Precision whose tensor rate and efficiency factors a configuration's matrix products
    take (:func:`peak_flops`, :func:`efficiency_factors`): ``precision`` itself, except where
    the engine multiplies a model's native MXFP4 experts (:data:`NATIVE_EXPERT_ONLY_4BIT`,
    served as ``int4``) by activations quantized to another type on GPUs with FP4 tensor
    cores (``mxfp4_moe_activations`` in ``engines.json``: TensorRT-LLM's MoE backend on
    Blackwell runs MXFP4 weights with MXFP8 activations at the FP8 rate): that type. Elsewhere
    such weights are dequantized, weight-only (Hopper, other engines)."""
    act = spec.get("mxfp4_moe_activations")
    if (act and precision == "int4" and routed_expert_params(m) > 0
            and str(m.native_precision).lower() in NATIVE_EXPERT_ONLY_4BIT
            and gpu.tensor_tflops("fp4") is not None and gpu.tensor_tflops(act) is not None):
        return act
    return precision


#: Kernel paths that became an engine's default on a date (``<path>_since`` in
#: ``engines.json``; off for benchmark rows dated earlier): int8 products of quantized
#: weights (llama.cpp), decode attention that loads a key-value head once for its query group
#: (TensorRT-LLM's XQA kernels), attention and KV cache limited to the model's own sliding
#: window (TensorRT-LLM's engines used the window only when the user passed it), a
#: larger default batch cap on large-memory GPUs (vLLM, :func:`batch_cap`), and prefill
#: passes launched operation by operation (TensorRT-LLM's PyTorch backend, after its
#: compiled engines: :func:`prefill_overhead_ratio`). Only a path with a ``_since`` date is
#: turned off; what a missing flag means is the path's own reader's to say
#: (:func:`weight_math_precision`: off, :func:`gqa_kv_read_factor`, :func:`model_numbers`'
#: window and :func:`prefill_overhead_ratio`: on, :func:`batch_cap`: the plain
#: ``max_batch_size``).
DATED_KERNEL_PATHS = ("int8_quantized_matmul", "gqa_shared_kv_reads", "model_sliding_window",
                      "large_gpu_batch_cap", "eager_prefill")


def engine_as_of(spec: dict, as_of) -> dict:
    """``spec`` as the engine ran on ``as_of`` (a benchmark row's date: a date or
    ``YYYY-MM-DD``): a kernel path that became its default later
    (:data:`DATED_KERNEL_PATHS`, ``<path>_since``) is off. None or a blank date keeps
    ``spec`` (the engine as it is now)."""
    day = str(as_of)[:10]  # None, NaN and NaT read as text that is not a date: kept
    if not day[:1].isdigit():
        return spec
    off = [path for path in DATED_KERNEL_PATHS
           if spec.get(path, True) and spec.get(f"{path}_since") and day < spec[f"{path}_since"]]
    out = {**spec, **dict.fromkeys(off, False)} if off else spec
    rule_sets = spec.get("decode_graph_max_batch")
    if rule_sets:
        # the rule sets in force on that day (decode_graph_max_batch uses the newest)
        out = {**out, "decode_graph_max_batch": [
            r for r in rule_sets if r["since"] is None or r["since"] <= day] or rule_sets[:1]}
    return out


def decode_graph_max_batch(spec: dict, gpu: catalog.GPU, n: int) -> float:
    """Largest decode batch per attention rank that replays a captured graph [sequences].

    Larger decode steps are launched operation by operation from the host and pay the fixed
    cost of an eager pass (:func:`hwcost.perf.kernel.decode_overhead_seconds`). From the
    engine's ``decode_graph_max_batch`` (SGLang's ``--cuda-graph-max-bs`` defaults, which
    depend on GPU memory and on whether the replica has 4 or more GPUs, and changed on
    dated releases: :func:`engine_as_of` keeps those in force on a date); its newest rule set
    applies. ``inf`` for engines that capture every batch they run.

    Examples
    --------
    SGLang on one H100 (80 GiB): 256 since 2025-09-12, 160 before; on one RTX 4090 (24 GiB):
    24 since then, 8 from 2024-12-05, 160 before.
    """
    rule_sets = spec.get("decode_graph_max_batch")
    if not rule_sets:
        return math.inf
    memory_gib = gpu_memory_gib(gpu)
    for below_gib, under_four, from_four in rule_sets[-1]["rules"]:
        if below_gib is None or memory_gib < float(below_gib):
            return float(under_four if n < 4 else from_four)
    return math.inf


#: Share of the extra key-value loads of an attention kernel that does not share a group's
#: loads (see :func:`gqa_kv_read_factor`) that reach device memory; the rest hit the L2 cache,
#: since the query heads of a group run at about the same time. Chosen among 0.25, 0.4, 0.5,
#: 0.65 and 1 by the leave-one-source, -GPU and -engine-out errors and the hold-out's.
GQA_KV_REREAD_FRACTION = 0.5


def gqa_kv_read_factor(m: catalog.LLM, spec: dict) -> float:
    """How many times a decode step reads the KV cache from memory [-]: 1 where the engine's
    decode attention loads each key-value head once for the query heads that share it
    (grouped-query attention kernels: TensorRT-LLM's XQA, FlashAttention's and FlashInfer's
    decode), else ``1 + GQA_KV_REREAD_FRACTION x (n_heads / n_kv_heads - 1)``: a kernel that
    gives each query head its own thread blocks (TensorRT-LLM's masked multi-head attention
    before XQA) loads the group's cache once per query head. Multi-head and latent attention:
    1."""
    if spec.get("gqa_shared_kv_reads", True) or m.attention != "gqa" or m.n_heads <= m.n_kv_heads:
        return 1.0
    return 1.0 + GQA_KV_REREAD_FRACTION * (m.n_heads / m.n_kv_heads - 1.0)


def peak_flops(gpu: catalog.GPU, precision: str, spec: dict) -> float | None:
    """Dense tensor rate the math of ``precision`` runs at on ``gpu`` [FLOP/s], None if none."""
    math_prec = weight_math_precision(gpu, precision, spec)
    rate = gpu.tensor_tflops(math_prec)
    if rate is None:
        return None
    if math_prec == "fp16" and spec.get("fp16_accumulate") and gpu.segment == "consumer":
        rate *= 2.0  # GeForce: FP16-accumulate tensor rate is twice the FP32-accumulate one
    return float(rate) * 1e12


def attention_peak_flops(gpu: catalog.GPU, kv_precision: str, spec: dict) -> float | None:
    """Dense tensor rate of the attention products (QK^T and PV) on ``gpu`` [FLOP/s].

    They multiply activations by the cached keys and values, not by weights, so they run at
    the cache's type, never the weights': FP8 where the KV cache is FP8 and the GPU has FP8
    tensor cores (the FP8 attention kernels of FlashAttention-3, FlashMLA and TensorRT-LLM),
    else the 16-bit activation type (an FP8 or FP4 model with a 16-bit cache attends in 16
    bits; an int8 or int4 cache is dequantized first).
    """
    fp8 = kv_precision == "fp8" and gpu.tensor_tflops("fp8") is not None
    return peak_flops(gpu, "fp8" if fp8 else activation_precision(gpu, spec), spec)


def attention_rate_ratio(gpu: catalog.GPU, precision: str, kv_precision: str, spec: dict) -> float:
    """:func:`attention_peak_flops` over :func:`peak_flops` of the weights' math (1 where
    either is unknown): the ``attn_rate`` feature the kernel divides attention time by."""
    weights = peak_flops(gpu, precision, spec)
    attention = attention_peak_flops(gpu, kv_precision, spec)
    return float(attention / weights) if weights and attention else 1.0


def _check_gpu_precision(gpu: catalog.GPU, precision: str, spec: dict, engine_id: str) -> None:
    if precision not in spec["weight_precisions"]:
        raise HwcostError(
            f"engine {engine_id!r} does not serve {precision!r} weights; accepted: "
            f"{', '.join(spec['weight_precisions'])}"
        )
    if gpu.vendor == "amd" and not spec["amd_support"]:
        raise HwcostError(f"engine {engine_id!r} does not run on AMD GPUs such as {gpu.id!r}")
    if gpu.vendor == "intel" and not spec.get("intel_support", False):
        raise HwcostError(f"engine {engine_id!r} does not run on Intel accelerators such as {gpu.id!r}")
    if peak_flops(gpu, precision, spec) is None:
        ok = [p for p in PRECISIONS if p in spec["weight_precisions"] and peak_flops(gpu, p, spec)]
        raise HwcostError(
            f"GPU {gpu.id!r} has no {precision} tensor support; accepted on this GPU: "
            f"{', '.join(ok)} (int8/int4 are weight-only and run on any GPU; fp4 needs FP4 "
            f"tensor cores: NVIDIA Blackwell, AMD CDNA 4)"
        )


def valid_gpu_counts(model, engine=None, max_gpus: int = MAX_GPUS) -> list[int]:
    """GPU counts a replica of ``model`` may use with ``engine`` (see module notes)."""
    m = catalog.llm(model)
    spec = engine_specs()[resolve_engine_id(engine)]
    return [n for n in range(1, max_gpus + 1) if gpu_count_problem(m, n, spec) is None]


def gpu_count_problem(m: catalog.LLM, n: int, spec: dict) -> str | None:
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
    n = positive_int("n_gpus", n)
    problem = gpu_count_problem(m, n, spec)
    if problem:
        ok = [k for k in range(1, 65) if gpu_count_problem(m, k, spec) is None]
        raise HwcostError(f"{problem}; accepted: {', '.join(map(str, ok))}")
    return n


# ----------------------------------------------------------------------------------------
# Features: catalog entries -> numbers for the core
# ----------------------------------------------------------------------------------------
def tied_embeddings(m: catalog.LLM) -> bool:
    """Whether input and output embeddings share one matrix (judged from the parameter count)."""
    if m.is_moe:
        return False
    attn = m.hidden_size * m.n_heads * m.head_dim * 2 + 2 * m.hidden_size * m.n_kv_heads * m.head_dim
    body = m.n_layers * (attn + 3 * m.hidden_size * m.intermediate_size)
    emb = m.vocab_size * m.hidden_size
    total = m.total_params_b * 1e9
    return abs(total - (body + emb)) < abs(total - (body + 2 * emb))


def routed_expert_params(m: catalog.LLM) -> float:
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

    Routed-MoE layers x (routed experts per token + shared experts): the expert GEMMs a
    token's pass runs (their bytes and FLOPs are costed with the weights; the fixed cost of
    a MoE layer does not grow with them, see :func:`overhead_seconds`).
    """
    if not (m.is_moe and m.n_experts_active and m.n_experts > m.n_experts_active):
        return 0
    per_layer = m.n_experts_active + (m.n_shared_experts or 0)
    return int((m.n_layers - (m.n_dense_layers or 0)) * per_layer)


def model_numbers(m: catalog.LLM, precision: str, kv_precision: str, spec: dict) -> dict:
    """Weights, KV and FLOP figures of ``m`` at these precisions (whole replica)."""
    total = m.total_params_b * 1e9
    emb = float(m.vocab_size * m.hidden_size)
    tied = tied_embeddings(m)
    emb_params = min(emb * (1 if tied else 2), 0.5 * total)
    override = spec.get("weight_bits", {}).get(precision)
    if override is not None:
        body_bits = emb_bits = float(override)
    else:
        body_bits = WEIGHT_BITS[precision]
        emb_bits = min(EMBEDDING_BITS, max(body_bits, EMBEDDING_BITS))
    expert_total = routed_expert_params(m)
    moe_frac = m.n_experts_active / m.n_experts if expert_total > 0 else 0.0
    # Checkpoints published with only the experts in a 4-bit format (gpt-oss: MXFP4) keep
    # attention, router and shared weights in 16-bit; int4 and fp4 serve that published layout.
    expert_bits = body_bits
    if (override is None and precision in ("int4", "fp4") and expert_total > 0
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
    # An engine that does not apply the model's sliding window (model_sliding_window off)
    # attends over, and caches, the whole context on every layer.
    if m.sliding_window_tokens and spec.get("model_sliding_window", True):
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
    dec_pair = attn_pair
    if m.attention == "mla":
        # Prefill expands the latent cache into per-head keys of head_dim + rope dims and
        # values of head_dim: 2 x heads x (2 head_dim + rope) FLOPs per (query, key) pair.
        # Decode runs the absorbed form (FlashMLA, the engines' MLA decode kernels): every
        # head attends over the 512 + 64-dim latent itself, scores over kv_lora_rank + rope
        # and values over kv_lora_rank: 2 x heads x (2 kv_lora_rank + rope) per pair, 4.25x
        # the prefill figure for DeepSeek-V3/R1 (DeepSeek-V2 report, section 2.1.3; FlashMLA
        # README: decode compute-bound at 580 TFLOP/s on H800).
        attn_pair = 2.0 * m.n_heads * (2.0 * m.head_dim + m.qk_rope_head_dim)
        dec_pair = 2.0 * m.n_heads * (2.0 * m.kv_lora_rank + m.qk_rope_head_dim)
    if m.is_moe:
        i_mlp = max(m.intermediate_size if m.n_dense_layers else 0,
                    (m.n_experts_active + (m.n_shared_experts or 0)) * (m.moe_intermediate_size or m.intermediate_size))
    else:
        i_mlp = m.intermediate_size
    return {
        "w_bytes": w_bytes, "w_fixed": w_fixed, "w_expert": w_expert, "moe_frac": moe_frac,
        "p_flops": p_flops, "p_expert": expert_total * moe_frac,
        "moe_experts": float(m.n_experts) if expert_total > 0 else 0.0,
        "moe_layers": float(m.n_layers - (m.n_dense_layers or 0)) if expert_total > 0 else 0.0,
        "attn_f": attn_pair * l_full, "attn_s": attn_pair * l_slide,
        "attn_dec_f": dec_pair * l_full, "attn_dec_s": dec_pair * l_slide,
        "kv_f": per_layer * l_full, "kv_s": per_layer * l_slide, "window": window,
        "kv_read": gqa_kv_read_factor(m, spec),
        "score_f": core.SCORE_BYTES_PER_ELEMENT * m.n_heads * l_full,
        "score_s": core.SCORE_BYTES_PER_ELEMENT * m.n_heads * l_slide,
        "n_layers": float(layers),
        "hidden": float(m.hidden_size), "i_mlp": float(i_mlp),
        "vocab": float(m.vocab_size), "n_heads": float(m.n_heads), "n_kv": float(m.n_kv_heads),
        "mla": m.attention == "mla", "max_ctx": float(m.max_context_tokens),
        "mla_layers": float(layers) if m.attention == "mla" else 0.0,
    }


def fast_link(g: catalog.GPU, n: int) -> bool:
    """NVLink / Infinity Fabric between all GPUs of the replica (a 2-GPU bridge covers only 2)."""
    ic = g.interconnect.lower()
    return ic.startswith(("nvlink", "infinity")) and not (ic == "nvlink-bridge" and n > 2)


@lru_cache(maxsize=4)
def _allreduce_rows(quantity: str) -> dict:
    """Published all-reduce measurements of one ``quantity`` (``bus_bandwidth`` in GB/s,
    ``time`` in us, as ``data/collective_microbenchmarks.csv`` states them):
    gpu_id -> [(n_gpus, message bytes (0 where not stated), value)]
    (:func:`hwcost.catalog.collective_microbenchmarks`)."""
    df = catalog.collective_microbenchmarks()
    df = df[(df["collective"] == "all_reduce") & (df["quantity"] == quantity)]
    rows: dict = {}
    for r in df.itertuples():
        size = 0.0 if math.isnan(r.message_bytes) else float(r.message_bytes)
        rows.setdefault(r.gpu_id, []).append((int(r.n_gpus), size, float(r.measured_value)))
    return rows


def measured_bus_bandwidth(gpu, n: int) -> float | None:
    """Published all-reduce bus bandwidth of ``n`` x ``gpu`` at large messages [B/s].

    From ``data/collective_microbenchmarks.csv`` (nccl-tests / rccl-tests ``busbw``): among
    the measurements over the same kind of link as ``n`` GPUs use (:func:`fast_link`: a
    bridged pair of PCIe cards says nothing of four cards over PCIe), the one at the GPU
    count nearest ``n``, at its largest message. ``busbw`` is defined so that a ring
    all-reduce of S bytes takes ``2 (n - 1)/n x S / busbw``, the form of
    :func:`hwcost.perf.kernel.ring_allreduce_seconds`. None when nothing is published.
    """
    g = catalog.gpu(gpu)
    rows = [r for r in _allreduce_rows("bus_bandwidth").get(g.id, ())
            if fast_link(g, r[0]) == fast_link(g, n)]
    if not rows:
        return None
    best = min(rows, key=lambda r: (abs(r[0] - n), -r[1]))
    return best[2] * 1e9


#: Message sizes [B] whose published all-reduce times give the mid-size rate
#: (:func:`measured_midsize_bus_bandwidth`): from a decode batch's activations (256 KiB)
#: to the largest size still sent at that rate (:data:`kernel.ALLREDUCE_MIDSIZE_MAX_BYTES`).
MIDSIZE_MESSAGE_BYTES = (256.0 * 2**10, core.ALLREDUCE_MIDSIZE_MAX_BYTES)


def measured_midsize_bus_bandwidth(gpu, n: int) -> float | None:
    """All-reduce bus bandwidth of ``n`` x ``gpu`` at the message sizes inference sends [B/s].

    The slope of the published all-reduce time against message size between 256 KiB and
    :data:`kernel.ALLREDUCE_MIDSIZE_MAX_BYTES` (``data/collective_microbenchmarks.csv``,
    ``quantity`` ``time``; nccl-tests, rccl-tests and the engines' own all-reduce kernels
    alike), as a bus bandwidth: ``2 (n' - 1)/n' / slope`` for the ``n'`` GPUs measured, at
    the GPU count nearest ``n`` over the same kind of link with two sizes or more. The
    slope excludes the fixed latency, which the calibration fits. None when unpublished.

    At these sizes the collectives run well below their large-message rate (fewer channels,
    low-latency protocols, one-shot and two-shot kernels; README, "How accurate").
    """
    g = catalog.gpu(gpu)
    lo, hi = MIDSIZE_MESSAGE_BYTES
    rows = [(k, size, us * 1e-6) for k, size, us in _allreduce_rows("time").get(g.id, ())
            if lo <= size <= hi and fast_link(g, k) == fast_link(g, n)]
    counts = sorted({r[0] for r in rows if len({x[1] for x in rows if x[0] == r[0]}) >= 2},
                    key=lambda k: abs(k - n))
    if not counts:
        return None
    k = counts[0]
    size = np.array([r[1] for r in rows if r[0] == k])
    secs = np.array([r[2] for r in rows if r[0] == k])
    slope = float(np.polyfit(size, secs, 1)[0])
    return 2.0 * (k - 1.0) / k / slope if slope > 0 else None


@lru_cache(maxsize=1)
def midsize_bandwidth_ratio() -> float:
    """Median over the published systems of mid-size over large-message all-reduce bus
    bandwidth (:func:`measured_midsize_bus_bandwidth` / :func:`measured_bus_bandwidth`):
    the share of its streaming rate a link reaches at inference's message sizes where no
    message-size sweep is published."""
    ratios = []
    for gpu_id, rows in _allreduce_rows("time").items():
        for n in sorted({r[0] for r in rows}):
            mid, large = measured_midsize_bus_bandwidth(gpu_id, n), measured_bus_bandwidth(gpu_id, n)
            if mid and large:
                ratios.append(mid / large)
    return float(np.median(ratios)) if ratios else 1.0


def midsize_link_bandwidth(g: catalog.GPU, n: int, cal: Calibration) -> float:
    """Per-direction all-reduce bandwidth for messages up to
    :data:`kernel.ALLREDUCE_MIDSIZE_MAX_BYTES` [B/s] (``link_bw_mid``).

    The published mid-size rate (:func:`measured_midsize_bus_bandwidth`), at most the
    large-message bandwidth of :func:`link_bandwidth_latency`; elsewhere that bandwidth
    times :func:`midsize_bandwidth_ratio`. Datasheet-basis calibrations use the
    large-message bandwidth throughout (the form they were fitted with).
    """
    large, _ = link_bandwidth_latency(g, n, cal)
    if n <= 1 or not cal.achievable_basis:
        return large
    mid = measured_midsize_bus_bandwidth(g, n)
    return min(mid, large) if mid is not None else large * midsize_bandwidth_ratio()


def link_bandwidth_latency(g: catalog.GPU, n: int, cal: Calibration) -> tuple[float, float]:
    """(per-direction bandwidth [B/s], all-reduce latency [s]) between the replica's GPUs.

    The bandwidth is the published all-reduce bus bandwidth of the system
    (:func:`measured_bus_bandwidth`), at most the link's per-direction rate; without a
    measurement, :data:`LINK_EFFICIENCY` of that rate.
    """
    ic = g.interconnect.lower()
    if fast_link(g, n):
        nominal, latency = g.interconnect_gbps / 2 * 1e9, cal.allreduce_latency_s
    else:
        gen = int(g.pcie_gen) if g.pcie_gen else 4
        gbps = g.interconnect_gbps / 2 if ic.startswith("pcie") else PCIE_GBPS.get(gen, 32.0)
        nominal, latency = gbps * 1e9, PCIE_ALLREDUCE_LATENCY_S
    measured = measured_bus_bandwidth(g, n) if n > 1 and cal.achievable_basis else None
    if measured is None:
        return nominal * LINK_EFFICIENCY, latency
    return min(measured, nominal), latency


@dataclass(frozen=True)
class Link:
    """The link between the GPUs of one replica, as the performance model uses it.

    Attributes
    ----------
    kind : str
        ``"nvlink"``, ``"infinity-fabric"`` or ``"pcie"``.
    link_gbps : float
        Achieved all-reduce bandwidth per direction: the published bus bandwidth of the
        system where one is measured (:func:`measured_bus_bandwidth`), otherwise the
        catalog figure / 2 x :data:`LINK_EFFICIENCY` (PCIe of the card's generation when the
        fast link does not reach every GPU). [GB/s]
    latency_s : float
        Fixed latency of one all-reduce over that link. [s]
    midsize_link_gbps : float
        Achieved all-reduce bandwidth per direction for messages up to
        :data:`kernel.ALLREDUCE_MIDSIZE_MAX_BYTES` (a decode step's activations, a prefill
        chunk's): :func:`midsize_link_bandwidth`. [GB/s]
    """

    kind: str
    link_gbps: float
    latency_s: float
    midsize_link_gbps: float


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
    n = positive_int("n_gpus", n_gpus)
    cal = as_calibration(calibration)
    bw, lat = link_bandwidth_latency(g, n, cal)
    if fast_link(g, n):
        kind = "infinity-fabric" if g.interconnect.lower().startswith("infinity") else "nvlink"
    else:
        kind = "pcie"
    return Link(kind=kind, link_gbps=bw / 1e9, latency_s=float(lat),
                midsize_link_gbps=midsize_link_bandwidth(g, n, cal) / 1e9)


def gpu_memory_gib(gpu: catalog.GPU) -> float:
    """Device memory as the engines' defaults test it (what the driver reports) [GiB]."""
    return float(gpu.memory_gb) * DEVICE_MEMORY_BYTES_PER_GB / 2**30


def batch_cap(spec: dict, gpu: catalog.GPU) -> float:
    """The engine's default cap on concurrent sequences on ``gpu`` [sequences], inf if none.

    ``max_batch_size``, or, where the spec has a ``large_gpu_batch_cap`` (vLLM's, with its
    figures and source in ``engines.json``), that rule's ``max_batch_size`` on GPUs with at
    least ``min_memory_gib`` of memory whose id contains none of ``except_gpu_ids_containing``.
    """
    rule = spec.get("large_gpu_batch_cap")
    cap = spec.get("max_batch_size")
    memory_gib = gpu_memory_gib(gpu)
    if rule and (memory_gib >= float(rule["min_memory_gib"])
                 and not any(x in gpu.id for x in rule.get("except_gpu_ids_containing", ()))):
        cap = rule["max_batch_size"]
    return float(cap) if cap else math.inf


def engine_numbers(spec: dict, flash) -> dict:
    """The engine's memory and batching defaults as kernel features (:mod:`kernel`): memory
    reserve and its basis, runtime memory, prefill chunk, how much of each output a sequence's
    KV holds (:func:`kv_output_share`), tensor or layer split, fused attention, and whether
    prefill passes are launched operation by operation (``eager``, 1 or 0:
    :func:`prefill_overhead_ratio`). The batch cap depends on the GPU too: callers add it
    (``cap``, :func:`batch_cap`)."""
    return {
        "tensor": spec["multi_gpu_mode"] == "tensor", "flash": 1.0 if flash else 0.0,
        "mem_frac": float(spec["memory_fraction"]), "free_mode": spec["memory_fraction_of"] == "free",
        "runtime": float(spec["runtime_overhead_gb"]) * 1e9, "chunk": float(spec["prefill_chunk_tokens"]),
        "kv_out": kv_output_share(spec),
        "eager": 1.0 if spec.get("eager_prefill", True) else 0.0,
    }


def prefill_overhead_ratio(spec: dict, cal: Calibration) -> float:
    """Fixed cost of a prefill pass / that of a decode step [-] on the engine ``spec``.

    Decode steps replay captured graphs in every modern engine; a prefill pass does so only
    where the whole pass is compiled (TensorRT engines, LMDeploy's TurboMind, MLC's TVM
    functions: ``eager_prefill`` false in ``engines.json``,
    :attr:`Calibration.compiled_prefill_overhead_ratio`). Elsewhere its kernels are launched
    one by one from the host (vLLM, SGLang, TGI, TensorRT-LLM's PyTorch backend, llama.cpp
    above one token): :attr:`Calibration.prefill_overhead_ratio`. A spec without the flag
    counts as eager.
    """
    if spec.get("eager_prefill", True):
        return cal.prefill_overhead_ratio
    return cal.compiled_prefill_overhead_ratio


def product_numbers(g: catalog.GPU, math_prec: str, kv_precision: str, spec: dict,
                    cal: Calibration, engine_id: str) -> dict:
    """Rates and factors of products at ``math_prec`` (:func:`math_precision`) on ``g``:
    ``peak`` (:func:`peak_flops`, None where the GPU has no such tensor rate), ``attn_rate``
    (:func:`attention_rate_ratio`) and :func:`efficiency_factors` after the user's overlay
    (:func:`overlay_factors`), before the tensor-parallel wait (:func:`wait_for_latest_gpu`)."""
    fac = overlay_factors(cal, efficiency_factors(cal, engine_id, gpu_class(g), math_prec, g),
                          g.id, engine_id)
    return {**fac, "peak": peak_flops(g, math_prec, spec),
            "attn_rate": attention_rate_ratio(g, math_prec, kv_precision, spec)}


def model_features(m, g, spec, engine_id, precision, kv_precision, n, flash, cal,
                   layout: str = "tp") -> dict:
    f = model_numbers(m, precision, kv_precision, spec)
    f.update(layout_numbers(m, n, check_layout(layout, m, spec)))
    fac = product_numbers(g, math_precision(m, g, precision, spec), kv_precision, spec, cal,
                          engine_id)
    ovh = overhead_seconds(fac["step"], fac["layer"], f["n_layers"], f["moe_layers"],
                           cal.moe_layer_overhead_s, f["mla_layers"],
                           cal.mla_layer_overhead_on(gpu_class(g)))
    link_bw, link_lat = link_bandwidth_latency(g, n, cal)
    sync = float(synchronization_slowdown(n, cal.sync_jitter, spec["multi_gpu_mode"] == "tensor"))
    fac = wait_for_latest_gpu(fac, sync)
    f.update({
        "mem": float(g.memory_gb) * DEVICE_MEMORY_BYTES_PER_GB, "bw": float(g.mem_bw_gbps) * 1e9,
        "peak": fac["peak"], "attn_rate": fac["attn_rate"],
        "link_bw": link_bw, "link_lat": link_lat, "n": float(n),
        "link_bw_mid": midsize_link_bandwidth(g, n, cal),
        "eta_bw": fac["eta_bw"], "eta_c": fac["eta_c"], "eta_cp": fac["eta_cp"],
        "wo_bw": fac["wo_bw"], "wo_c": fac["wo_c"], "sync": sync,
        "ovh": ovh, "ovh_prefill": ovh * prefill_overhead_ratio(spec, cal), "ovh_step": float(fac["step"]),
        "ovh_seq": cal.sequence_step_overhead_s,
    })
    f.update(engine_numbers(spec, flash))
    f["cap"] = batch_cap(spec, g)
    f["graph_max"] = decode_graph_max_batch(spec, g, n)
    return f


def check_layout(layout, m: catalog.LLM | None = None, spec: dict | None = None) -> str:
    """The layout id of ``layout`` (None = ``"tp"``), checked against the model and engine.

    Expert parallel layouts need a routed-MoE model and a tensor-parallel engine.
    """
    if layout is None:
        return "tp"
    if not isinstance(layout, str):
        raise HwcostError(f"layout must be a string or None, got {layout!r}; accepted: "
                         + ", ".join(LAYOUTS))
    key = layout.strip().lower()
    key = _LAYOUT_ALIASES.get(key, key)
    if key not in LAYOUTS:
        raise HwcostError(f"unknown layout {layout!r}; accepted: {', '.join(LAYOUTS)}")
    if key != "tp" and m is not None and routed_expert_params(m) <= 0:
        raise HwcostError(f"layout {layout!r} splits routed experts, but {m.id} is not a "
                         "mixture-of-experts model; accepted for it: tp")
    if key != "tp" and spec is not None and spec["multi_gpu_mode"] != "tensor":
        raise HwcostError(f"layout {layout!r} needs a tensor-parallel engine; this engine "
                         "splits layers; accepted: tp")
    return key


def expected_max_standard_normal(n):
    """Expected largest of ``n`` independent standard normal draws (Blom's approximation).

    ``Phi^-1((n - 0.375) / (n + 0.25))``: 0 for n = 1, 0.59 for 2, 1.43 for 8 (exact values
    0, 0.564, 1.424; Blom, "Statistical Estimates and Transformed Beta-Variables", 1958).
    """
    from statistics import NormalDist

    n = float(n)
    return NormalDist().inv_cdf((n - 0.375) / (n + 0.25)) if n > 1 else 0.0


def moe_load_imbalance(n_experts, experts_per_token, n_gpus) -> float:
    """Coefficient ``imb`` of the busiest GPU's routed load under expert parallelism.

    Each of ``T`` tokens picks ``k`` of ``E`` experts; a GPU holds ``E / n`` of them. With
    uniform routing the number of a token's experts on one GPU is hypergeometric, mean
    ``k / n``, variance ``v = k (1/n) (1 - 1/n) (E - k) / (E - 1)``; over ``T`` independent
    tokens the load is about normal, and the busiest of ``n`` GPUs carries
    ``T k / n + z_n sqrt(T v)`` routes (``z_n``: :func:`expected_max_standard_normal`), that
    is ``1 + imb / sqrt(T)`` times the mean with ``imb = z_n sqrt(v) n / k``. Uniform routing
    is the balanced limit that load-balancing losses and expert re-placement aim at
    (DeepSeek-V3 report, section 2.1.2; EPLB); skewed real traffic is worse.

    Returns
    -------
    float
        [-]; 0 for one GPU.
    """
    e, k, n = float(n_experts), float(experts_per_token), float(n_gpus)
    if n <= 1 or e <= k or k <= 0:
        return 0.0
    var = k * (1.0 / n) * (1.0 - 1.0 / n) * (e - k) / (e - 1.0)
    return expected_max_standard_normal(n) * math.sqrt(var) * n / k


def remote_gpus_per_token(experts_per_token, n_gpus) -> float:
    """Expected number of other GPUs one token's ``k`` experts sit on (uniform routing).

    A GPU holds one of a token's experts with probability ``1 - (1 - 1/n)^k``; the token is
    sent once to each such GPU other than its own: ``(n - 1) (1 - (1 - 1/n)^k)``.
    """
    n, k = float(n_gpus), float(experts_per_token)
    if n <= 1:
        return 0.0
    return (n - 1.0) * (1.0 - (1.0 - 1.0 / n) ** k)


def layout_numbers(m: catalog.LLM, n: int, layout: str) -> dict:
    """Feature keys of a parallel layout (see :mod:`hwcost.perf.kernel`).

    ``dp``: attention data-parallel degree (``n`` under ``dp-attention+ep``, else 1);
    ``imb``: :func:`moe_load_imbalance` (0 unless experts are split by expert parallelism);
    ``a2a``: bytes one token sends in one all-to-all, ``remote GPUs x hidden x 2`` [B].
    """
    ep = layout in ("ep", "dp-attention+ep") and routed_expert_params(m) > 0 and n > 1
    k = float(m.n_experts_active or 0)
    return {
        "dp": float(n) if layout == "dp-attention+ep" else 1.0,
        "imb": moe_load_imbalance(m.n_experts, k, n) if ep else 0.0,
        "a2a": (remote_gpus_per_token(k, n) * m.hidden_size * core.ACT_BYTES) if ep else 0.0,
    }


def resolve_inputs(model, gpu, n_gpus, precision, kv_precision, engine):
    m = catalog.llm(model)
    g = catalog.gpu(gpu)
    engine_id = resolve_engine_id(engine)
    spec = engine_specs()[engine_id]
    precision = check_precision(precision)
    _check_gpu_precision(g, precision, spec, engine_id)
    if kv_precision is None:
        kv_precision = default_kv_precision(precision, g, spec)
    else:
        kv_precision = check_precision(kv_precision, "kv_precision")
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
    spec = engine_specs()[resolve_engine_id(engine)]
    return float(model_numbers(m, check_precision(precision), "bf16", spec)["w_bytes"])


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
    f = model_numbers(m, "bf16", check_precision(kv_precision, "kv_precision"), engine_specs()["generic"])
    return float(f["kv_f"] + f["kv_s"])


def kv_cache_bytes(model, kv_precision: str = "bf16", context_tokens: int = 1) -> float:
    """KV-cache bytes of one sequence of ``context_tokens`` tokens (sliding windows capped) [B]."""
    m = catalog.llm(model)
    f = model_numbers(m, "bf16", check_precision(kv_precision, "kv_precision"), engine_specs()["generic"])
    c = float(positive_int("context_tokens", context_tokens))
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
        raise HwcostError(f"read_gbps must be a positive number, got {read_gbps!r}") from None
    if not math.isfinite(bw) or bw <= 0:
        raise HwcostError(f"read_gbps must be a positive number, got {read_gbps!r}")
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
        raise HwcostError(f"acceptance_rate must be in [0, 1], got {acceptance_rate!r}")
    if np.any(~np.isfinite(k)) or np.any((k < 1) | (k != np.floor(k))):
        raise HwcostError(f"draft_tokens must be an integer >= 1, got {draft_tokens!r}")
    if np.any(~np.isfinite(c)) or np.any(c < 0):
        raise HwcostError(f"draft_cost_ratio must be >= 0, got {draft_cost_ratio!r}")
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = np.where(a < 1, (1 - a ** (k + 1)) / np.where(a < 1, 1 - a, 1.0), k + 1)
    out = expected / (k * c + 1)
    return float(out) if out.ndim == 0 else out


# ----------------------------------------------------------------------------------------
# Step times (used by the serving simulator; estimate uses the same functions)
# ----------------------------------------------------------------------------------------

def default_kv_precision(precision, g, spec):
    """KV-cache precision an engine uses when none is named: FP8 for FP4 weights (TensorRT-LLM
    and vLLM NVFP4/MXFP4 recipes) and for FP8 weights where the engine's
    ``fp8_kv_with_fp8_weights`` says so (TensorRT-LLM); else the 16-bit activation type
    (vLLM, SGLang and most servers default to the model's data type)."""
    if precision == "fp4" or (precision == "fp8" and spec.get("fp8_kv_with_fp8_weights", True)):
        return "fp8"
    if precision == "fp8" or precision in WEIGHT_ONLY:
        return activation_precision(g, spec)
    return precision
