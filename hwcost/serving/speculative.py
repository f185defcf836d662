"""Speculative decoding in the serving simulator: a draft model or multi-token prediction.

Each decode round of a sequence drafts ``k`` tokens (``k`` steps of a small draft model, or
of the target's multi-token-prediction head), then the target verifies them in one forward
pass over ``k + 1`` tokens per sequence (``StepTimes.verify_step_seconds``), keeping the
accepted prefix plus one token of its own. With each drafted token accepted with
probability ``a`` independently, a round yields ``(1 - a^(k+1)) / (1 - a)`` tokens on
average (Leviathan et al., Theorem 3.8; ``perf.speculative_speedup`` is the same ratio for
one sequence).

In the simulator a round is spread over the tokens it yields: every decode iteration of the
batch costs ``(k x draft step + verification) / expected tokens`` and produces one token per
sequence, so TPOT and throughput are right on average while each request still produces
its tokens one iteration at a time (a mean-field treatment: the spread of tokens per round
between sequences is not simulated, which understates TPOT percentiles a little). Prefill
and the prompt part of a mixed iteration are unchanged. The draft model's KV cache is not
subtracted from the target's capacity (small beside the target's, and zero for MTP).

References
----------
Y. Leviathan, M. Kalman, Y. Matias, "Fast Inference from Transformers via Speculative
Decoding", ICML 2023. DeepSeek-AI, "DeepSeek-V3 Technical Report", 2024 (multi-token
prediction used for speculative decoding).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import HwcostError

__all__ = ["SpeculativeDecoding", "speculative_step_times"]


@dataclass(frozen=True)
class SpeculativeDecoding:
    """How a replica drafts and verifies tokens.

    Attributes
    ----------
    draft_tokens : int
        Tokens drafted per round, ``k`` (>= 1).
    acceptance_rate : float
        Probability that the target accepts one drafted token, in [0, 1] (engines report it,
        e.g. ``spec_decode_acceptance_rate`` in ``vllm bench serve`` results, in percent).
    draft : StepTimes, optional
        Step times of a separate draft model on the same GPUs (``perf.step_times(draft_model,
        gpu, ...)``); its decode step is the draft cost.
    draft_cost_ratio : float, optional
        Without ``draft``: the cost of one draft step as a share of the target's decode step
        (multi-token prediction: one extra layer, about ``1 / n_layers``).
    """

    draft_tokens: int
    acceptance_rate: float
    draft: object | None = None
    draft_cost_ratio: float | None = None

    def __post_init__(self):
        k = self.draft_tokens
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise HwcostError(f"draft_tokens must be an integer >= 1, got {k!r}")
        a = self.acceptance_rate
        if not isinstance(a, (int, float)) or not 0 <= a <= 1 or math.isnan(a):
            raise HwcostError(f"acceptance_rate must be in [0, 1], got {a!r}")
        if (self.draft is None) == (self.draft_cost_ratio is None):
            raise HwcostError("give either draft (a draft model's step times) or draft_cost_ratio "
                             "(multi-token prediction), not both and not neither")
        if self.draft_cost_ratio is not None:
            c = self.draft_cost_ratio
            if not isinstance(c, (int, float)) or not 0 <= c < math.inf:
                raise HwcostError(f"draft_cost_ratio must be a number >= 0, got {c!r}")
        if self.draft is not None and not callable(getattr(self.draft, "decode_step_seconds", None)):
            raise HwcostError("draft must be step times (perf.step_times(...)) with decode_step_seconds")

    @property
    def tokens_per_round(self) -> float:
        """Expected tokens a round yields per sequence: ``(1 - a^(k+1)) / (1 - a)``."""
        a, k = float(self.acceptance_rate), int(self.draft_tokens)
        return float(k + 1) if a >= 1 else (1.0 - a ** (k + 1)) / (1.0 - a)


class _SpeculativeStepTimes:
    """Step times of a replica decoding speculatively (see the module notes)."""

    scalar_iteration_is_cheap = False

    def __init__(self, st, spec: SpeculativeDecoding):
        self.st = st
        self.spec = spec
        self.kv_capacity_tokens = st.kv_capacity_tokens
        self.max_batch_size = st.max_batch_size
        self._per_token = 1.0 / spec.tokens_per_round

    def decode_step_seconds(self, batch_size, context_tokens):
        """Average time of one decode iteration that yields one token per sequence [s]."""
        k = self.spec.draft_tokens
        verify = self.st.verify_step_seconds(batch_size, context_tokens, k + 1)
        if self.spec.draft is not None:
            draft = self.spec.draft.decode_step_seconds(batch_size, context_tokens)
        else:
            draft = self.spec.draft_cost_ratio * self.st.decode_step_seconds(batch_size, context_tokens)
        return (k * np.asarray(draft) + np.asarray(verify)) * self._per_token

    def prefill_seconds(self, new_tokens, context_tokens=0, n_sequences=1):
        return self.st.prefill_seconds(new_tokens, context_tokens, n_sequences=n_sequences)

    def iteration_seconds(self, prefill_tokens, decode_batch_size, decode_context_tokens,
                          prefill_context_tokens=0):
        plain = self.st.iteration_seconds(prefill_tokens, decode_batch_size, decode_context_tokens,
                                          prefill_context_tokens=prefill_context_tokens)
        b = np.asarray(decode_batch_size, dtype=float)
        if not np.any(b > 0):
            return plain
        safe_b = np.maximum(b, 1.0)
        ctx = np.maximum(np.asarray(decode_context_tokens, dtype=float), safe_b)
        delta = self.decode_step_seconds(safe_b, ctx) - self.st.decode_step_seconds(safe_b, ctx)
        out = plain + np.where(b > 0, delta, 0.0)
        return float(out) if np.ndim(out) == 0 else out


def speculative_step_times(st, spec: SpeculativeDecoding | None):
    """``st`` itself without ``spec``, else step times whose decode iterations decode
    speculatively (for :func:`hwcost.serving.simulate`)."""
    if spec is None:
        return st
    if not isinstance(spec, SpeculativeDecoding):
        raise HwcostError(f"speculative must be a serving.SpeculativeDecoding or None, got {spec!r}")
    if not callable(getattr(st, "verify_step_seconds", None)):
        raise HwcostError("speculative decoding needs step times with verify_step_seconds "
                         "(perf.step_times(...))")
    return _SpeculativeStepTimes(st, spec)
