"""The one validation layer: every rule, its wording, booleans and text refused."""

import math

import numpy as np
import pytest

from hwcost import validate as v
from hwcost.errors import HwcostError


def test_positive_int_accepts_whole_numbers_and_refuses_the_rest():
    assert v.positive_int("n_gpus", 4) == 4
    assert v.positive_int("n_gpus", 4.0) == 4
    assert v.positive_int("n_gpus", np.int64(8)) == 8
    for bad in (0, -1, 2.5, True, False, "3", None, math.nan, math.inf, [2]):
        with pytest.raises(v.InvalidValue, match=r"^n_gpus must be a whole number >= 1, got "):
            v.positive_int("n_gpus", bad)


def test_wording_names_value_and_rule():
    with pytest.raises(HwcostError) as info:
        v.positive_int("batch_size", 100_001, high=100_000)
    assert str(info.value) == "batch_size must be a whole number >= 1 and <= 100,000, got 100001"
    with pytest.raises(ValueError) as info:
        v.positive("requests_per_day", True)
    assert str(info.value) == "requests_per_day must be a finite number > 0, got True"


def test_non_negative_int_and_number():
    assert v.non_negative_int("seed", 0) == 0
    assert v.non_negative("discount_rate", 0) == 0.0
    with pytest.raises(v.InvalidValue, match="must be a finite number >= 0, got -0.1"):
        v.non_negative("discount_rate", -0.1)


def test_fraction_and_share():
    assert v.fraction("utilization", 1) == 1.0
    assert v.fraction("resale_fraction", 0, allow_zero=True) == 0.0
    with pytest.raises(v.InvalidValue, match=r"utilization must be a fraction in \(0, 1\], got 0"):
        v.fraction("utilization", 0)
    with pytest.raises(v.InvalidValue, match=r"in \[0, 1\], got 1.5"):
        v.fraction("resale_fraction", 1.5, allow_zero=True)


def test_fraction_or_percent():
    assert v.fraction_or_percent("availability", 0.999) == 0.999
    assert v.fraction_or_percent("availability", 99.9) == pytest.approx(0.999)
    assert v.fraction_or_percent("availability", "99.9%") == pytest.approx(0.999)
    assert v.fraction_or_percent("availability", "0.5%") == pytest.approx(0.005)
    for bad in ("abc", 0, -5, 101, "150%", True, math.nan, None):
        with pytest.raises(v.InvalidValue, match="availability must be a fraction like 0.999"):
            v.fraction_or_percent("availability", bad)


def test_number_bounds_and_arrays():
    assert v.positive("x", 2, high=10) == 2.0
    with pytest.raises(v.InvalidValue, match=r"x must be a finite number > 0 and <= 10, got 11"):
        v.positive("x", 11, high=10)
    arr = v.positive("price", [1.0, 2.0], array=True)
    assert isinstance(arr, np.ndarray) and arr.tolist() == [1.0, 2.0]
    with pytest.raises(v.InvalidValue, match=r"price must be a finite number > 0, got -1.0 \(in an array\)"):
        v.positive("price", np.array([1.0, -1.0]), array=True)
    with pytest.raises(v.InvalidValue, match="got True"):
        v.positive("price", True, array=True)
    with pytest.raises(v.InvalidValue, match="got '3'"):
        v.positive("price", "3", array=True)


def test_duration():
    assert v.duration("ttft", "1s") == 1.0
    assert v.duration("ttft", "100ms") == pytest.approx(0.1)
    assert v.duration("ttft", "2min") == 120.0
    assert v.duration("ttft", 0.8) == 0.8
    for bad in ("0s", "fast", -1, True, "1 parsec", math.inf):
        with pytest.raises(v.InvalidValue, match="ttft must be a duration > 0 like 1s"):
            v.duration("ttft", bad)


def test_choice_with_did_you_mean():
    assert v.choice("precision", " BF16 ", ("fp16", "bf16")) == "bf16"
    with pytest.raises(v.InvalidValue) as info:
        v.choice("precision", "bf61", ("fp16", "bf16", "fp8"))
    assert str(info.value) == ("precision must be one of fp16, bf16, fp8, got 'bf61'; "
                               "did you mean 'bf16'?")


def test_did_you_mean_lists_close_spellings():
    assert v.did_you_mean("runpdo", ["runpod", "lambda", "aws"]) == "did you mean 'runpod'?"
    assert v.did_you_mean("zzz", ["a", "b"]) == "accepted: a, b"


def test_number_from_text_is_for_entry_layers():
    assert v.number_from_text("3") == 3 and isinstance(v.number_from_text("3"), int)
    assert v.number_from_text("1e5") == 100000.0
    assert v.number_from_text("20_000") == 20000
    assert v.number_from_text("20,000") == 20000
    assert v.number_from_text("h100") == "h100"
    assert v.number_from_text(True) is True
    assert math.isnan(v.number_from_text("nan"))


def test_huge_integers_are_refused_not_overflowed():
    with pytest.raises(v.InvalidValue, match="n_samples must be a whole number >= 1 and <= 1,000,000"):
        v.positive_int("n_samples", 10**400, high=1_000_000)
    with pytest.raises(v.InvalidValue, match="requests_per_day must be a finite number > 0"):
        v.positive("requests_per_day", 10**400)
