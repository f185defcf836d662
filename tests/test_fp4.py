"""FP4 (NVFP4 / MXFP4) as a precision: bits, tensor rate where the hardware has it, refusal where not."""

import pytest

from hwcost import catalog, perf
from hwcost.perf import features


def test_fp4_is_a_catalog_precision_with_block_scale_bits():
    assert "fp4" in catalog.PRECISIONS and "fp4" in perf.PRECISIONS
    # NVFP4: 4-bit E2M1 values and one 8-bit scale per 16 values
    assert perf.WEIGHT_BITS["fp4"] == 4.5
    assert perf.KV_BITS["fp4"] == 4.5


def test_fp4_runs_on_b200_with_the_fp4_tensor_rate():
    b200 = catalog.gpu("b200")
    assert features.peak_flops(b200, "fp4", features.engine_specs()["generic"]) == 9000e12
    e = perf.estimate("llama-3.1-70b", "b200", n_gpus=1, precision="fp4", batch_size=8,
                      input_tokens=1000, output_tokens=200)
    assert e.fits and e.precision == "fp4"
    # 70.55e9 parameters: the two 128,256 x 8,192 embedding tables stay 16-bit, the rest
    # is 4.5 bits: (70.55e9 - 2 * 1,050,673,152) * 4.5 / 8 + 2 * 1,050,673,152 * 2 bytes
    assert e.weights_gb == pytest.approx(42.70506, rel=1e-5)
    assert e.kv_precision == "fp8"  # FP4 recipes keep the KV cache in FP8


def test_fp4_is_refused_on_h100_naming_what_it_accepts():
    with pytest.raises(ValueError) as err:
        perf.estimate("llama-3.1-8b", "h100-sxm", n_gpus=1, precision="fp4", batch_size=1,
                      input_tokens=100, output_tokens=10)
    text = str(err.value)
    assert "'h100-sxm' has no fp4 tensor support" in text
    assert "accepted on this GPU: fp16, bf16, fp8, int8, int4" in text


@pytest.mark.parametrize("gpu, tflops", [
    ("b200", 9000), ("gb200", 10000), ("b300", 13500), ("gb300", 15000),
    ("rtx-pro-6000", 2015), ("rtx-5090", 1676), ("mi355x", 10066.3),
])
def test_fp4_rates_of_blackwell_and_cdna4(gpu, tflops):
    assert catalog.gpu(gpu).tensor_tflops("fp4") == tflops


@pytest.mark.parametrize("gpu", ["h100-sxm", "h200-nvl", "mi300x", "gaudi3", "l40", "t4"])
def test_gpus_without_fp4_math_have_no_rate(gpu):
    assert catalog.gpu(gpu).tensor_tflops("fp4") is None


def test_an_engine_without_fp4_refuses_it_by_name():
    with pytest.raises(ValueError, match="does not serve 'fp4' weights; accepted: fp16, bf16, int8, int4"):
        perf.estimate("llama-3.1-8b", "b200", n_gpus=1, precision="fp4", engine="llama.cpp",
                      batch_size=1, input_tokens=100, output_tokens=10)


def test_gaudi_runs_only_on_engines_that_support_it():
    e = perf.estimate("llama-3.1-8b", "gaudi3", n_gpus=1, precision="bf16", engine="vllm",
                      batch_size=1, input_tokens=100, output_tokens=10)
    assert e.fits
    with pytest.raises(ValueError, match="does not run on Intel accelerators such as 'gaudi3'"):
        perf.estimate("llama-3.1-8b", "gaudi3", n_gpus=1, precision="bf16", engine="tensorrt-llm",
                      batch_size=1, input_tokens=100, output_tokens=10)
