"""Bad input gets a clear answer up front; nothing the user wrote is lost (issue 15)."""

import types

import pytest

from hwcost import notebook as nb
from hwcost.errors import HwcostError, ParameterError


# ----------------------------------------------------------------------------------------
# Notebook parameters: upper bounds, context window, misspelled names
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, message", [
    ({"n_samples": 1e30}, "n_samples must be a whole number >= 1 and <= 1,000,000, got 1e+30"),
    ({"max_gpu_count": 1e30}, "max_gpu_count must be a whole number >= 1 and <= 1024, got 1e+30"),
    ({"batch_size": 100000}, "batch_size must be a whole number >= 1 and <= 4096, got 100000"),
    ({"requests_per_day": 1e30}, "requests_per_day must be a finite number > 0 and <= 1e+12"),
    ({"requests_per_day": True}, "requests_per_day must be a finite number > 0 and <= 1e+12, got True"),
    ({"seed": -1}, "seed must be a whole number >= 0"),
    ({"provider": "runpdo"}, "did you mean 'runpod'?"),
    ({"energy_setting": "us-residentail"}, "did you mean 'us-residential'"),
    ({"privacy_required_flag": 1}, "privacy_required_flag must be true or false, got 1"),
])
def test_out_of_range_parameters_fail_up_front(kwargs, message):
    with pytest.raises(ParameterError) as info:
        nb.parameters(**kwargs)
    assert message in str(info.value)


def test_prompt_beyond_the_context_window_is_refused_up_front():
    # llama-3.1-70b reads 131,072 tokens: notebook 01/02 with input_tokens 10,000,000
    with pytest.raises(ParameterError, match="context window of llama-3.1-70b"):
        nb.parameters(model="llama-3.1-70b", input_tokens=10_000_000, output_tokens=256)
    p = nb.parameters(model="llama-3.1-70b", input_tokens=130_000, output_tokens=1_000)
    assert p.input_tokens == 130_000


def test_text_spelling_a_number_is_read_at_the_entry_layer():
    p = nb.parameters(requests_per_day="1e5", input_tokens="2_048", n_samples="5000")
    assert p.requests_per_day == 1e5 and p.input_tokens == 2048 and p.n_samples == 5000


def test_a_misspelled_papermill_parameter_is_refused(monkeypatch):
    import IPython

    history = ["import hwcost", 'requests_per_day = 2000\nmodel = "llama-3.1-8b"\n',
               "# Parameters\nrequest_per_day = 20000\n"]
    shell = types.SimpleNamespace(user_ns={"In": history})
    monkeypatch.setattr(IPython, "get_ipython", lambda: shell)
    with pytest.raises(ParameterError) as info:
        nb.parameters(requests_per_day=2000, model="llama-3.1-8b")
    assert str(info.value) == ("this notebook has no parameter 'request_per_day'; "
                               "did you mean 'requests_per_day'?")
    history[-1] = "# Parameters\nrequests_per_day = 20000\n"
    assert nb.parameters(requests_per_day=20000, model="llama-3.1-8b").requests_per_day == 20000


def test_parameter_errors_are_hwcost_errors():
    assert issubclass(ParameterError, HwcostError) and issubclass(ParameterError, ValueError)
