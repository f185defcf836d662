"""Vectorized physics of LLM inference: the arithmetic behind :mod:`hwcost.perf`.

Everything here works on numpy arrays that broadcast against each other, so one code path
serves a single :func:`hwcost.perf.api`, the serving simulator's per-step calls and a
million-configuration :func:`hwcost.perf.sweep`. Inputs are plain numbers (SI units: bytes,
seconds, FLOP, FLOP/s, bytes/s); turning catalog entries into these numbers is done in
:mod:`hwcost.perf`.

Model of one forward pass (per GPU of a replica of ``n`` GPUs), a roofline per kernel class::

    t = roofline(weight bytes / (bandwidth * eta_bw), linear flops / (peak * eta_c))
        + max(KV bytes / (bandwidth * eta_bw), attention flops / (attention peak * eta_c))
        + overhead + communication

where ``roofline`` is the smooth roofline of :func:`roofline_seconds` (the larger of the two
away from the ridge, 1.41x either at it). Weight-only formats (int8, int4) stream their weights
at ``wo_bw`` x ``eta_bw`` and run their products at ``wo_c`` x ``eta_c``; the KV cache and
the attention keep the plain efficiencies. A tensor-parallel replica's efficiencies already
carry its synchronization slowdown (every layer waits for the latest GPU,
:func:`hwcost.perf.features.synchronization_slowdown`).

``peak`` is the tensor rate of the weights' math, ``attention peak`` that of the KV cache's
type (``attn_rate`` = their ratio, :func:`hwcost.perf.features.attention_peak_flops`): an
FP8 or FP4 model attends at the FP8 or 16-bit rate of its cache, not at its weights' rate.

The matrix products and the attention are separate kernels run one after the other: a step
whose products are compute-bound while its attention streams the KV cache pays both, not
the larger of the two sums (Williams, Waterman & Patterson, "Roofline", CACM 2009, apply the
bound per kernel);

with ``overhead = step + layer x n_layers + moe_layer x moe_layers + mla_layer x mla_layers``
(kernel chains per layer, more of them in routed-MoE and latent-attention layers; see
:func:`hwcost.perf.features.overhead_seconds`) and, for prefill, ``eta_cp`` in place of ``eta_c``;

- bytes: weights read once per pass (MoE: shared weights plus the experts the pass's tokens
  touch), KV cache read and written, and, without flash attention, the attention score
  matrix written and read back;
- flops: 2 x (active parameters excluding the embedding lookup) per token (routed experts
  computed in whole row tiles, :func:`expert_tile_padding`), plus
  4 x heads x head_dim per (query, key) pair and layer for attention (MLA: the expanded form
  in prefill, the absorbed latent form in decode, see ``model_numbers``);
- communication: tensor parallelism does 2 all-reduces per layer of tokens x hidden x 2 bytes,
  a ring costs 2 (n-1)/n x message / link bandwidth plus a fixed latency per all-reduce, the
  first 16 MiB of a message at the link's measured mid-size rate (:func:`ring_allreduce_seconds`);
  layer (pipeline) split passes activations n-1 times and runs the stages one after another.

Parallel layouts of a tensor-parallel replica of ``n`` GPUs (feature keys ``dp``, ``imb``,
``a2a``; see :func:`hwcost.perf.features.layout_numbers`):

- ``tp``: every weight matrix, attention head and KV head split n ways (above);
- ``ep``: attention and dense weights split as under ``tp``; each GPU holds ``E / n`` whole
  routed experts and runs them for every token routed to it. Total expert work is unchanged,
  but the busiest GPU gets more than its 1/n share of the routed tokens (load imbalance,
  :func:`expert_share`); tokens are already on every GPU, so the MoE output is all-reduced as
  under ``tp``;
- ``dp-attention+ep``: attention data parallelism: each GPU holds all non-expert weights and
  runs attention for its own ``1/n`` of the sequences, so it reads only its own sequences'
  KV (under ``tp`` an MLA latent cache, which has no heads to split, is read in full by every
  GPU); experts split as under ``ep``; each MoE layer sends a GPU's tokens to the GPUs holding
  their experts and back: two all-to-alls (dispatch, combine) per MoE layer of ``tokens x
  remote GPUs per token x hidden x 2 bytes``, each ``latency + bytes sent / link bandwidth``.

References
----------
Pope et al., "Efficiently Scaling Transformer Inference", MLSys 2023 (memory- vs compute-bound
decode, partitioning). Kaplan et al., "Scaling Laws for Neural Language Models", 2020
(2 FLOPs per parameter per token). Patarasuk & Yuan, "Bandwidth optimal all-reduce
algorithms for clusters of workstations", JPDC 2009 (ring all-reduce 2 (n-1)/n). Dao et al.,
"FlashAttention", NeurIPS 2022 (no materialized T^2 score matrix). Lepikhin et al., "GShard",
ICLR 2021 (expert parallelism, dispatch and combine all-to-alls). DeepSeek-AI, "DeepSeek-V3
Technical Report", 2024, sections 3.2 and 3.4 (expert parallelism with data-parallel attention
for MLA in serving; per-GPU expert load imbalance). SGLang ``--enable-dp-attention`` and
TensorRT-LLM ``enable_attention_dp`` documentation (the same layout in the engines).
"""

from __future__ import annotations

import numpy as np

# Bytes moved per element of the attention score matrix when it is materialized (no flash
# attention): write S = QK^T, read it for softmax, write P, read P for PV, 2 bytes each.
SCORE_BYTES_PER_ELEMENT = 8.0
# Bytes per element of the materialized score buffer held in memory (FP32 softmax input).
SCORE_BUFFER_BYTES = 4.0
# Activation bytes per element (BF16/FP16 hidden states).
ACT_BYTES = 2.0
# Largest all-reduce message [B] sent at the mid-size rate (:func:`ring_allreduce_seconds`):
# 16 MiB, twice the largest size of the published message-size sweeps that show the
# mid-size rate (8 MiB, rccl-tests on 8x MI300X) and twice vLLM's custom all-reduce limit
# (8 MiB); chosen among 8, 16 and 32 MiB by the leave-one-source-out error.
ALLREDUCE_MIDSIZE_MAX_BYTES = 16.0 * 2**20
# Exponent of the smooth roofline of the matrix products (:func:`roofline_seconds`): 2,
# chosen among 2, 3, 5 and the hard maximum by the leave-one-source, -GPU and -engine-out
# and hold-out errors (at the ridge a product takes 1.41x its memory or compute time).
ROOFLINE_EXPONENT = 2.0
# A window so large it never binds (finite so that 0 x window stays 0).
NO_WINDOW = float(2**52)
# Row tiles of the grouped (per-expert) matrix products of a MoE layer: each expert's token
# rows run in whole tiles, a partly filled tile costing as much as a full one. The kernels
# pick the tile from the rows they get, a power of two from 16 (the smallest tensor-core dot
# of Triton's fused-MoE kernels; vLLM's fused_moe pads each expert's tokens to its
# BLOCK_SIZE_M) up to 64 (Hopper's warpgroup MMA works on 64-row operands, NVIDIA PTX ISA
# "wgmma.mma_async" shapes m64nNk16; CUTLASS grouped GEMMs tile by 64 or 128 rows).
EXPERT_TILE_ROWS = 64.0
MIN_EXPERT_TILE_ROWS = 16.0


def expected_experts_fraction(moe_k_over_e, tokens):
    """Expected fraction of a layer's experts touched by ``tokens`` tokens.

    With top-k routing over E experts and independent uniform routing, the expected number
    of distinct experts is ``E * (1 - (1 - k/E)**tokens)``; this returns that over E.
    Dense models pass ``moe_k_over_e = 0`` and get 0.
    """
    return 1.0 - (1.0 - moe_k_over_e) ** tokens


def weights_read_bytes(f, tokens):
    """Bytes of weights one forward pass over ``tokens`` tokens reads, whole replica [B]."""
    return f["w_fixed"] + f["w_expert"] * expected_experts_fraction(f["moe_frac"], tokens)


def time_divisor(f):
    """How many GPUs work in parallel on one pass: n for tensor parallel, 1 for layer split."""
    return np.where(f["tensor"], f["n"], 1.0)


def attention_share(f, sequences):
    """Share of the pass's per-sequence work (non-expert layers, attention) on its busiest GPU.

    ``1/n`` under tensor parallelism (``1`` for layer split, whose stages run in sequence);
    under attention data parallelism each GPU runs whole sequences, the busiest
    ``ceil(sequences / n)`` of them: ``ceil(s / n) / s`` (1 for a single sequence).
    """
    s = np.maximum(sequences, 1.0)
    dp = f["dp"]
    return np.where(dp > 1, np.ceil(s / dp) / s, 1.0 / time_divisor(f))


def expert_share(f, tokens):
    """Share of the pass's routed-expert work on its busiest GPU.

    ``1/n`` when every GPU holds a slice of every expert (tensor parallel); under expert
    parallelism the busiest GPU's routed tokens exceed the mean by the load-imbalance factor
    ``1 + imb / sqrt(tokens)`` (:func:`hwcost.perf.features.moe_load_imbalance`).
    """
    return (1.0 + f["imb"] / np.sqrt(np.maximum(tokens, 1.0))) / time_divisor(f)


def fixed_weight_share(f):
    """Share of the non-expert weights each GPU reads per pass: 1 under attention data
    parallelism (replicated), ``1 / n`` under tensor parallelism, 1 for layer split (every
    stage's weights are read in sequence)."""
    return np.where(f["dp"] > 1, 1.0, 1.0 / time_divisor(f))


def weights_read_per_gpu(f, tokens):
    """Bytes of weights the busiest GPU reads in one pass over ``tokens`` tokens [B].

    Non-expert weights times :func:`fixed_weight_share`; the experts the tokens touch split
    over the GPUs (a GPU's ``E / n`` experts under expert parallelism, a ``1/n`` slice of
    each under tensor parallelism: the same bytes).
    """
    return (f["w_fixed"] * fixed_weight_share(f)
            + f["w_expert"] * expected_experts_fraction(f["moe_frac"], tokens) / time_divisor(f))


def weights_memory_per_gpu(f):
    """Bytes of weights stored on each GPU [B]: the routed experts split n ways, the other
    weights split n ways too, except under attention data parallelism (replicated)."""
    n = f["n"]
    other = f["w_bytes"] - f["w_expert"]
    return other * np.where(f["dp"] > 1, 1.0, 1.0 / n) + f["w_expert"] / n


def kv_time_share(f):
    """Share of the replica's KV traffic on the critical path of one GPU.

    Tensor parallel splits KV heads across GPUs; with more GPUs than KV heads each head is
    replicated on n / n_kv GPUs, so a GPU holds 1/n_kv of the KV. MLA's latent cache is
    replicated on every GPU. Layer split runs all layers in sequence: the whole KV. Under
    attention data parallelism the share depends on the batch (:func:`attention_share`);
    :func:`kv_share_of_pass` gives it.
    """
    n = f["n"]
    gqa = np.maximum(n, f["n_kv"]) / (f["n_kv"] * n)
    share = np.where(f["mla"], 1.0, gqa)
    return np.where(f["tensor"], share, 1.0)


def kv_share_of_pass(f, sequences):
    """Share of a pass's KV traffic on its busiest GPU: :func:`kv_time_share`, or under
    attention data parallelism the busiest GPU's share of the sequences."""
    return np.where(f["dp"] > 1, attention_share(f, sequences), kv_time_share(f))


def kv_memory_share(f):
    """Share of the replica's KV cache stored on one GPU (with replication, see above)."""
    n = f["n"]
    gqa = np.maximum(n, f["n_kv"]) / (f["n_kv"] * n)
    share = np.where(f["mla"], 1.0, gqa)
    return np.where(f["tensor"] & (f["dp"] <= 1), share, 1.0 / n)


def ring_allreduce_seconds(message_bytes, n, link_bytes_per_s, latency_s,
                           midsize_bytes_per_s=None):
    """One ring all-reduce of ``message_bytes`` over ``n`` GPUs [s] (0 for one GPU).

    ``latency_s + 2 (n - 1)/n x message_bytes / link_bytes_per_s``: the ring sends
    ``2 (n - 1)/n`` of the message per GPU, the bandwidth-optimal amount (Patarasuk & Yuan).
    With ``midsize_bytes_per_s``, the first :data:`ALLREDUCE_MIDSIZE_MAX_BYTES` of the
    message move at that rate and only the rest at ``link_bytes_per_s``: collectives of the
    sizes a decode step or a prefill chunk sends do not reach the streaming rate that
    large-message sweeps report (see :func:`hwcost.perf.features.midsize_link_bandwidth`).
    The package's only all-reduce formula; ``hwcost.scaling.allreduce_seconds`` checks its
    arguments and calls it.
    """
    n = np.maximum(n, 1.0)
    m = np.asarray(message_bytes, dtype=float)
    if midsize_bytes_per_s is None:
        transfer = m / link_bytes_per_s
    else:
        head = np.minimum(m, ALLREDUCE_MIDSIZE_MAX_BYTES)
        transfer = head / midsize_bytes_per_s + (m - head) / link_bytes_per_s
    return np.where(n > 1, latency_s + 2.0 * (n - 1.0) / n * transfer, 0.0)


def decode_overhead_seconds(f, batch):
    """Fixed cost of a decode step of ``batch`` sequences [s]: ``ovh``, the replay of a
    captured graph, up to the engine's largest captured batch per attention rank
    (``graph_max``, :func:`hwcost.perf.features.decode_graph_max_batch`); above it the
    step's kernels are launched one by one and it pays ``ovh_prefill``, an eager pass's
    fixed cost. Features without ``graph_max`` capture every batch."""
    limit = f.get("graph_max")
    if limit is None or not np.any(np.isfinite(limit)):
        return f["ovh"]
    per_rank = batch / np.maximum(f["dp"], 1.0)
    return np.where(per_rank > limit, f["ovh_prefill"], f["ovh"])


def sequence_host_seconds(f, sequences):
    """Host time a decode pass spends on its running sequences [s]: ``ovh_seq`` per sequence
    (sampling, stop checks, scheduling and output handling loop over them; features without
    the figure, older calibrations, spend none)."""
    return sequences * f.get("ovh_seq", 0.0)


def comm_seconds(f, tokens, passes=1.0):
    """Inter-GPU communication time of ``passes`` forward passes over ``tokens`` tokens [s].

    Tensor parallel (and ``ep``): two ring all-reduces per layer and pass, each of the pass's
    ``tokens / passes`` activations (:func:`ring_allreduce_seconds` at the link's mid-size
    and large-message rates, ``link_bw_mid`` and ``link_bw``). Attention data parallel:
    two all-to-alls per MoE layer (:func:`all_to_all_seconds`) of each GPU's ``tokens / n``
    tokens at the mid-size rate (their messages, split over the peers, are smaller still than
    an all-reduce's); its non-expert layers are replicated and exchange nothing. Layer split: one
    activation hand-off per stage boundary.
    """
    n = f["n"]
    msg = tokens * f["hidden"] * ACT_BYTES
    ring = 2.0 * f["n_layers"] * passes * ring_allreduce_seconds(
        msg / passes, n, f["link_bw"], f["link_lat"], f["link_bw_mid"])
    a2a = 2.0 * f["moe_layers"] * all_to_all_seconds(
        tokens / np.maximum(f["dp"], 1.0) * f["a2a"], f["link_bw_mid"], passes * f["link_lat"])
    pipe = (n - 1.0) * (passes * f["link_lat"] + msg / f["link_bw"])
    return np.where(n > 1, np.where(f["tensor"], np.where(f["dp"] > 1, a2a, ring), pipe), 0.0)


def all_to_all_seconds(bytes_sent, link_bytes_per_s, latency_s):
    """One all-to-all in which each GPU sends ``bytes_sent`` to the others [s].

    ``latency_s + bytes_sent / link_bytes_per_s``: every GPU sends and receives at once over
    its own link (NVLink switch, Infinity Fabric mesh), so the exchange takes as long as one
    GPU's outgoing bytes at its per-direction bandwidth.
    """
    return latency_s + bytes_sent / link_bytes_per_s


def roofline_seconds(memory_s, compute_s):
    """Time of the matrix products that must stream ``memory_s`` worth of weights and run
    ``compute_s`` worth of arithmetic [s]: the smooth roofline
    ``(memory^p + compute^p)^(1/p)``, ``p`` = :data:`ROOFLINE_EXPONENT`.

    Far from the ridge it is the larger of the two (within 0.5 % once one is ten times the
    other); at the ridge it is ``2^(1/p)`` times either, because a product's operand loads
    and its arithmetic overlap only as far as its pipeline of staged tiles reaches: a tile's
    math waits for its operands, and the loads wait for free stages. The hard ``max`` of the
    classic roofline (Williams et al.) is the limit ``p -> inf``.
    """
    hi = np.maximum(memory_s, compute_s)
    lo = np.minimum(memory_s, compute_s)
    ratio = lo / np.where(hi > 0, hi, 1.0)
    return hi * (1.0 + ratio**ROOFLINE_EXPONENT) ** (1.0 / ROOFLINE_EXPONENT)


def roofline_seconds_scalar(memory_s: float, compute_s: float) -> float:
    """:func:`roofline_seconds` of two Python floats, without numpy's per-call cost (the
    serving simulator's per-iteration path)."""
    hi, lo = (memory_s, compute_s) if memory_s > compute_s else (compute_s, memory_s)
    ratio = lo / hi if hi > 0.0 else 0.0
    return hi * (1.0 + ratio**ROOFLINE_EXPONENT) ** (1.0 / ROOFLINE_EXPONENT)


def weight_product_rates(f, eta_compute="eta_c"):
    """Rates of a pass's matrix products over the weights: ``(bytes/s, FLOP/s)``.

    The weights stream at ``bw x eta_bw x wo_bw`` and their products run at
    ``peak x eta x wo_c`` (``eta_compute``: ``eta_c`` for decode steps, ``eta_cp`` for
    prefill); ``wo_bw`` and ``wo_c`` are the weight-only formats' shares
    (:func:`hwcost.perf.features.efficiency_factors`, 1 for other precisions). The KV cache
    and the attention use the plain ``bw x eta_bw`` and the attention peak.
    """
    return f["bw"] * f["eta_bw"] * f["wo_bw"], f["peak"] * f[eta_compute] * f["wo_c"]


def decode_coefficients(f, batch):
    """Affine coefficients of one decode step of ``batch`` sequences.

    Returns ``(m0, mf, ms, c0, cf, cs, sf, ss, fixed)`` such that, for a per-sequence
    context of ``c`` tokens and ``cw = min(c, window)``: memory time = m0 + mf c + ms cw,
    compute time = c0 + cf c + cs cw, and the step takes
    ``roofline(m0, c0) + max(mf c + ms cw, cf c + cs cw) + sf c + ss cw + fixed`` [s] (the
    matrix products and the attention each at their own roofline). The ``sf``/``ss`` terms are the
    materialized score matrix without flash attention: separate memory-bound kernels
    (softmax) that do not overlap the matrix products. The KV terms read the cache
    ``kv_read`` times (:func:`hwcost.perf.features.gqa_kv_read_factor`: once, except for an
    engine release whose attention loaded a grouped-query cache per query head). ``fixed``
    is the pass's fixed cost, its collectives and the host's work for each running sequence
    (:func:`sequence_host_seconds`).
    """
    bw = f["bw"] * f["eta_bw"]
    peak = f["peak"] * f["eta_c"]
    a = attention_share(f, batch)
    kv_t = kv_share_of_pass(f, batch)
    noflash = 1.0 - f["flash"]
    bw_w, peak_w = weight_product_rates(f)
    m0 = weights_read_per_gpu(f, batch) / bw_w
    # a grouped-query cache read once per query head where the kernel does not share it
    kv_bw = bw / f["kv_read"]
    mf = batch * f["kv_f"] * kv_t / kv_bw
    ms = batch * f["kv_s"] * kv_t / kv_bw
    c0 = linear_flops(f, batch, a) / peak_w
    peak_a = peak * f["attn_rate"]  # attention at the cache's type (features)
    cf = batch * f["attn_dec_f"] * a / peak_a
    cs = batch * f["attn_dec_s"] * a / peak_a
    sf = noflash * batch * f["score_f"] * a / bw
    ss = noflash * batch * f["score_s"] * a / bw
    fixed = decode_overhead_seconds(f, batch) + comm_seconds(f, batch) + sequence_host_seconds(f, batch)
    return m0, mf, ms, c0, cf, cs, sf, ss, fixed


def expert_tile_padding(f, tokens):
    """Factor (>= 1) by which whole-tile execution inflates the routed experts' FLOPs.

    ``tokens`` tokens each pick ``k`` of ``E`` experts: an expert receives on average
    ``r = tokens k / E`` rows, and the experts that receive any (a fraction ``u``,
    :func:`expected_experts_fraction`) get ``r / u`` each. Each of those runs
    ``ceil((r / u) / tile) x tile`` rows (:data:`EXPERT_TILE_ROWS`), so the factor is
    ``tile x ceil(r / u / tile) / (r / u)``. Large batches and prefill chunks fill their tiles
    (factor near 1); a decode batch of a few hundred sequences over 128-256 experts leaves
    most tiles half empty (factor near 2). Dense models: 1.
    """
    t = np.maximum(tokens, 1.0)
    touched = np.maximum(expected_experts_fraction(f["moe_frac"], t), 1e-12)
    # rows per touched expert: (tokens x k) / (E x touched), with k / E = moe_frac
    per_expert = np.maximum(t * f["moe_frac"] / touched, 1e-12)
    # Rows are whole: an expected count within 1e-6 of a tile edge is on it, not past it.
    rows = per_expert * (1.0 - 1e-6)
    tile = np.clip(2.0 ** np.ceil(np.log2(np.maximum(rows, 1.0))), MIN_EXPERT_TILE_ROWS,
                   EXPERT_TILE_ROWS)
    padded = tile * np.ceil(rows / tile)
    return np.where(f["moe_experts"] > 0, np.maximum(padded / per_expert, 1.0), 1.0)


def linear_flops(f, tokens, share):
    """Matrix-product FLOPs of ``tokens`` tokens on the busiest GPU: the non-expert part at
    ``share`` (:func:`attention_share`), the routed experts at :func:`expert_share` and
    computed in whole tiles (:func:`expert_tile_padding`)."""
    p_exp = f["p_expert"]
    experts = p_exp * expert_tile_padding(f, tokens) * expert_share(f, tokens)
    return 2.0 * tokens * ((f["p_flops"] - p_exp) * share + experts)


def decode_step_terms(f, batch, context, coefficients=None):
    """(memory time, compute time, additive time) of one decode step; context per sequence [s].

    Totals over the step's kernels, for telling which bound dominates; the step's duration is
    :func:`decode_step_seconds` (roofline per kernel class). ``coefficients``: those of
    :func:`decode_coefficients` for ``batch``, when the caller has them already."""
    m0, mf, ms, c0, cf, cs, sf, ss, fixed = coefficients or decode_coefficients(f, batch)
    cw = np.minimum(context, f["window"])
    return m0 + mf * context + ms * cw, c0 + cf * context + cs * cw, sf * context + ss * cw + fixed


def verify_step_seconds(f, batch, context, tokens_per_sequence):
    """One speculative-decoding verification pass: ``batch`` sequences of ``context`` cached
    tokens each, every sequence checking ``tokens_per_sequence`` tokens (the drafted ones
    plus one) in a single forward pass [s].

    Weights are read once for the pass (MoE: the experts ``batch x tokens_per_sequence``
    tokens visit); each sequence's KV cache is read once (its queries share it); the matrix
    products, attention and fixed costs are those of ``batch x tokens_per_sequence`` tokens.
    ``tokens_per_sequence = 1`` is :func:`decode_step_seconds`.
    """
    q = tokens_per_sequence
    m0, _, _, c0, cf, cs, sf, ss, fixed = decode_coefficients(f, batch * q)
    _, mf, ms, _, _, _, _, _, _ = decode_coefficients(f, batch)
    cw = np.minimum(context, f["window"])
    attn = np.maximum(mf * context + ms * cw, cf * context + cs * cw)
    return roofline_seconds(m0, c0) + attn + sf * context + ss * cw + fixed


def decode_step_seconds(f, batch, context, coefficients=None):
    """Duration of one decode step of ``batch`` sequences of ``context`` tokens each [s].

    Roofline per kernel class: ``roofline(weights, linear FLOPs) + max(KV, attention FLOPs)``
    plus the additive terms of :func:`decode_step_terms` (``coefficients`` as there).
    """
    m0, mf, ms, c0, cf, cs, sf, ss, fixed = coefficients or decode_coefficients(f, batch)
    cw = np.minimum(context, f["window"])
    attn = np.maximum(mf * context + ms * cw, cf * context + cs * cw)
    return roofline_seconds(m0, c0) + attn + sf * context + ss * cw + fixed


def _sum_affine(a, b, lo, hi):
    """sum_{i=lo}^{hi-1} (a + b i) for integer i (0 when hi <= lo)."""
    k = np.maximum(hi - lo, 0.0)
    return k * a + b * k * (lo + hi - 1.0) * 0.5


def _sum_max_affine(p0, p1, q0, q1, lo, hi):
    """Exact sum over integers i in [lo, hi) of max(p0 + p1 i, q0 + q1 i)."""
    d0 = np.asarray(p0 - q0, dtype=float)
    d1 = np.asarray(p1 - q1, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        root = -d0 / d1
    # d1 > 0: p wins from ceil(root) on; d1 < 0: p wins up to floor(root); d1 == 0: everywhere or nowhere.
    up = np.clip(np.ceil(np.where(d1 > 0, root, 0.0)), lo, hi)
    down = np.clip(np.floor(np.where(d1 < 0, root, 0.0)) + 1.0, lo, hi)
    flat = np.where(d0 >= 0, lo, hi)  # split point: p used on [split, hi)
    split_up = np.where(d1 > 0, up, flat)
    # For d1 < 0 p is used on [lo, down), q on [down, hi).
    p_sum = np.where(d1 < 0, _sum_affine(p0, p1, lo, down), _sum_affine(p0, p1, split_up, hi))
    q_sum = np.where(d1 < 0, _sum_affine(q0, q1, down, hi), _sum_affine(q0, q1, lo, split_up))
    return p_sum + q_sum


def decode_total_seconds(f, batch, first_context, steps, coefficients=None):
    """Sum of ``steps`` decode steps at contexts first_context, first_context + 1, ... [s].

    Exact closed form (no loop over steps): the matrix products cost the same every step;
    within each side of the sliding window the attention's memory and compute times are
    affine in the step index, so the sum of their maximum splits at the crossing point.
    ``coefficients`` as for :func:`decode_step_terms`.
    """
    m0, mf, ms, c0, cf, cs, sf, ss, fixed = coefficients or decode_coefficients(f, batch)
    w = f["window"]
    i0 = first_context
    n_out = steps
    # Steps i with context i0 + i <= window see min(c, w) = c.
    n_a = np.clip(w - i0 + 1.0, 0.0, n_out)
    # Segment A: context c = i0 + i.
    pa0 = (mf + ms) * i0
    pa1 = mf + ms
    qa0 = (cf + cs) * i0
    qa1 = cf + cs
    sum_a = _sum_max_affine(pa0, pa1, qa0, qa1, 0.0, n_a)
    extra_a = _sum_affine((sf + ss) * i0, sf + ss, 0.0, n_a)
    # Segment B: min(c, w) = w.
    pb0 = ms * w + mf * i0
    qb0 = cs * w + cf * i0
    sum_b = _sum_max_affine(pb0, mf, qb0, cf, n_a, n_out)
    extra_b = _sum_affine(ss * w + sf * i0, sf, n_a, n_out)
    return sum_a + sum_b + extra_a + extra_b + n_out * (fixed + roofline_seconds(m0, c0))


def closed_loop_seconds(f, concurrency, input_tokens, output_tokens):
    """Steady state of ``concurrency`` requests always in flight (a closed loop) [s].

    Every request prefills its prompt in a pass of its own (:func:`prefill_seconds` of one
    sequence, which gives its first token) while the running batch waits, then decodes its
    other ``o - 1`` tokens in steps of the full batch; when it ends, the next request takes
    its place. Over one request's life the batch runs ``o - 1`` decode steps
    (:func:`decode_total_seconds`, contexts ``i .. i + o - 2``, together ``D``) and
    every one of the ``c`` requests in flight is replaced once, so a cycle of ``c``
    completions lasts ``D + c P1`` and each request's decode is interrupted by the other
    ``c - 1`` prefills. This is the mean of what the serving simulator
    (:func:`hwcost.serving.at_concurrency`, no chunking) converges to.

    Returns
    -------
    (tpot, output_tokens_per_s)
        ``(D + (c - 1) P1) / (o - 1)`` [s] and ``c o / (D + c P1)`` [tokens/s].
    """
    c = np.maximum(concurrency, 1.0)
    o = np.maximum(output_tokens, 1.0)
    decode = decode_total_seconds(f, c, input_tokens, o - 1.0)
    prefill_one = prefill_seconds(f, 1.0, input_tokens, 0.0)
    return (decode + (c - 1.0) * prefill_one) / np.maximum(o - 1.0, 1.0), c * o / (decode + c * prefill_one)


def batch_pass_seconds(f, batch, input_tokens, output_tokens):
    """One batch of ``batch`` requests from prompt to last token [s]: a prefill of every
    prompt (:func:`prefill_seconds`, which gives each first token) and ``o - 1`` decode
    steps (:func:`decode_total_seconds`)."""
    o = np.maximum(output_tokens, 1.0)
    return (prefill_seconds(f, batch, input_tokens, 0.0)
            + decode_total_seconds(f, batch, input_tokens, o - 1.0))


def finite_run_seconds(f, batch, n_requests, input_tokens, output_tokens):
    """Wall time of a finite run of ``n_requests`` equal requests on ``batch`` slots [s].

    An offline benchmark submits all its requests at once; the engine admits as many as fit
    (``batch``, never more than there are requests) and admits the next ones as slots free.
    With equal lengths the slots free together, so the run goes in ``k = ceil(N / B)``
    batches, the last one holding the remaining ``N - (k - 1) B`` requests: a run that
    ends on a partly filled batch spends the same weight reads and fixed costs per step on
    fewer tokens. ``N / B`` whole batches is the steady state the per-batch throughput
    assumes. Each batch costs :func:`batch_pass_seconds`.
    """
    n = np.maximum(n_requests, 1.0)
    b = np.clip(batch, 1.0, n)
    # Requests are whole: a quotient within 1e-9 of an integer is that integer.
    full = np.ceil(n / b - 1e-9) - 1.0
    last = n - full * b
    return (full * batch_pass_seconds(f, b, input_tokens, output_tokens)
            + batch_pass_seconds(f, last, input_tokens, output_tokens))


# Points of the trapezoid rule over the drain of a run with spread output lengths.
DRAIN_GRID_POINTS = 65


def truncated_exponential_scale(mean, cap):
    """Scale ``m`` of an exponential truncated at ``cap`` whose mean is ``mean``.

    The truncated mean is ``m - cap e^(-cap/m) / (1 - e^(-cap/m))``, below ``m``; solved by
    fixed-point iteration (it converges for ``cap > 2 mean``, and ``mean`` is clipped to
    0.45 ``cap`` so that it does). A cap five times the mean raises the scale by about 4 %,
    ten times by 0.05 %.
    """
    mu = np.minimum(np.maximum(mean, 1e-9), 0.45 * cap)
    m = mu
    for _ in range(200):
        e = np.exp(-cap / m)
        step = mu + cap * e / (1.0 - e)
        done = np.all(np.abs(step - m) <= 1e-12 * m)
        m = step
        if done:
            break
    return m


def _spread_decode_steps(output_tokens, max_output_tokens):
    """Mean, cap and exponential scale of the decode steps (output tokens after the first)
    of spread output lengths: ``(steps, cap, scale)`` [tokens] (see
    :func:`varied_finite_run_seconds`)."""
    steps = np.maximum(np.asarray(output_tokens, dtype=float) - 1.0, 1e-9)
    cap = np.maximum(np.asarray(max_output_tokens, dtype=float) - 1.0, 2.5 * steps)
    return steps, cap, truncated_exponential_scale(steps, cap)


def spread_length_occupancy_ratio(output_tokens, max_output_tokens):
    """How much more KV cache a slot holds on average when output lengths spread [-].

    A request that generates ``L`` tokens holds its slot for ``L`` steps, so the requests
    running at any moment are a length-biased sample: the time-averaged output a slot
    holds is ``E[L^2] / E[L]`` (reserved: the whole length) or half that (blocks given as
    tokens come), against ``E[L]`` and ``E[L] / 2`` with equal lengths. The ratio
    ``E[L^2] / E[L]^2`` multiplies the output share of a sequence's KV
    (:func:`hwcost.perf.features.kv_output_share`). Lengths as in
    :func:`varied_finite_run_seconds`: ``L = 1 + X``, ``X`` exponential of mean
    ``output_tokens - 1`` truncated at ``max_output_tokens - 1``, whose second moment is
    ``(2 m^2 - e^(-c/m) (c^2 + 2 m c + 2 m^2)) / (1 - e^(-c/m))`` for scale ``m`` and cap
    ``c``. Untruncated the ratio tends to 2 for long answers (1.98 at a mean of 100
    tokens); equal lengths give 1.
    """
    steps, cap, m = _spread_decode_steps(output_tokens, max_output_tokens)
    tail = np.exp(-cap / m)
    x2 = (2.0 * m * m - tail * (cap * cap + 2.0 * m * cap + 2.0 * m * m)) / (1.0 - tail)
    mean = 1.0 + steps
    return (1.0 + 2.0 * steps + x2) / (mean * mean)


def varied_finite_run_seconds(f, batch, n_requests, input_tokens, output_tokens,
                              max_output_tokens):
    """Wall time of a finite run of ``n_requests`` requests whose output lengths vary [s].

    Prompts of ``input_tokens`` each; decode steps per request (output tokens after the
    first) exponential with mean ``output_tokens - 1``, truncated at
    ``max_output_tokens - 1`` (:func:`truncated_exponential_scale`), which is how output
    lengths of chat datasets such as ShareGPT spread (many short answers, a long tail).
    The engine keeps ``B = min(batch, N)`` slots busy while requests queue, admitting one
    as another ends, then drains: the last requests finish one by one and the steps run at
    a shrinking batch. With exponential lives the requests running when the queue empties
    have the same spread of remaining steps as new ones (no memory), so

    - prefill: the ``N`` prompts in ``N / B`` passes of ``B`` (:func:`prefill_seconds`);
    - queue phase: ``(N - B) (o - 1) / B`` steps at the full batch, each the mean full
      step over contexts ``i .. i + o - 2`` (:func:`decode_total_seconds`);
    - drain: ``integral over s of P(any alive at s) x step(alive | any, i + (o - 1) / 2)``
      for ``s`` from 0 to the cap, with ``S(s)`` the survival of one request,
      ``P(any) = 1 - (1 - S)^B`` and ``alive | any = B S / P(any)`` (trapezoid rule,
      :data:`DRAIN_GRID_POINTS`).

    Equal lengths (:func:`finite_run_seconds`) leave no drain: the same ``N`` and ``B`` then
    take less time whenever ``N > B``.
    """
    n = np.maximum(n_requests, 1.0)
    b = np.clip(batch, 1.0, n)
    i = np.asarray(input_tokens, dtype=float)
    steps, cap, scale = _spread_decode_steps(output_tokens, max_output_tokens)
    prefill = (n / b) * prefill_seconds(f, b, i, 0.0)
    step_full = decode_total_seconds(f, b, i, steps) / steps
    queue = np.maximum(n - b, 0.0) * steps / b * step_full
    shape = np.broadcast(n, b, i, steps).shape
    grid = np.linspace(0.0, 1.0, DRAIN_GRID_POINTS).reshape((-1,) + (1,) * len(shape))
    tail = np.exp(-cap / scale)
    survival = np.clip((np.exp(-grid * cap / scale) - tail) / (1.0 - tail), 0.0, 1.0)
    p_any = 1.0 - (1.0 - survival) ** b
    alive = np.maximum(b * survival / np.maximum(p_any, 1e-300), 1.0)
    y = p_any * decode_step_seconds(f, alive, i + steps / 2.0)
    drain = (y.sum(axis=0) - 0.5 * (y[0] + y[-1])) * cap / (DRAIN_GRID_POINTS - 1)
    return prefill + queue + drain


def _window_pairs(new, ctx, window):
    """Causal (query, key) pairs of ``new`` queries after ``ctx`` cached keys, keys capped at window."""
    m = np.clip(window - ctx, 0.0, new)
    return m * ctx + m * (m + 1.0) * 0.5 + (new - m) * window


def prefill_terms(f, sequences, new_tokens, context_tokens=0.0):
    """Work of a prefill, per GPU: ``(kv_bytes, score_bytes, linear_flops, attention_flops, tokens)``.

    kv_bytes: cached KV read once plus the new tokens' KV written; score_bytes: without
    flash attention, the score matrix written and read back; linear and attention FLOPs.
    Weights are accounted for by the caller.
    """
    tokens = sequences * new_tokens
    a = attention_share(f, sequences)
    kv_t = kv_share_of_pass(f, sequences)
    w = f["window"]
    pairs_f = sequences * (new_tokens * context_tokens + new_tokens * (new_tokens + 1.0) * 0.5)
    pairs_s = sequences * _window_pairs(new_tokens, context_tokens, w)
    kv_bytes = (
        sequences * (f["kv_f"] * context_tokens + f["kv_s"] * np.minimum(context_tokens, w)) * kv_t
        + tokens * (f["kv_f"] + f["kv_s"]) * kv_t
    )
    score_bytes = (1.0 - f["flash"]) * (f["score_f"] * pairs_f + f["score_s"] * pairs_s) * a
    lin = linear_flops(f, tokens, a)
    attn = (f["attn_f"] * pairs_f + f["attn_s"] * pairs_s) * a
    return kv_bytes, score_bytes, lin, attn, tokens


def prefill_seconds(f, sequences, new_tokens, context_tokens=0.0):
    """One prefill of ``sequences`` prompts of ``new_tokens`` each after ``context_tokens`` cached [s].

    The pass is split into chunks of at most ``chunk`` tokens (``max(1, T / chunk)`` passes),
    each re-reading the weights and paying the per-pass overhead ``ovh_prefill`` (larger
    than a decode step's: prefill passes have variable shapes, so engines run them without
    captured CUDA graphs, and they carry request setup). Matrix products run at the prefill
    compute efficiency ``eta_cp`` (large, regular GEMMs, see :func:`decode_coefficients`).
    The forward pass over the prompt also yields each sequence's first output token.
    """
    kv_bytes, score_bytes, lin, attn, tokens = prefill_terms(f, sequences, new_tokens, context_tokens)
    passes = np.maximum(1.0, tokens / f["chunk"])
    per_pass = np.minimum(tokens, f["chunk"])
    bw = f["bw"] * f["eta_bw"]
    peak = f["peak"] * f["eta_cp"]
    bw_w, peak_w = weight_product_rates(f, "eta_cp")
    t = (roofline_seconds(passes * weights_read_per_gpu(f, per_pass) / bw_w, lin / peak_w)
         + np.maximum(kv_bytes / bw, attn / (peak * f["attn_rate"])) + score_bytes / bw)
    return t + passes * f["ovh_prefill"] + comm_seconds(f, tokens, passes)


def kv_sequence_bytes(f, seq_tokens):
    """KV-cache bytes of one sequence of ``seq_tokens`` tokens, whole replica, no replication [B]."""
    return f["kv_f"] * seq_tokens + f["kv_s"] * np.minimum(seq_tokens, f["window"])


def memory_terms(f, input_tokens, output_tokens):
    """Per-GPU memory model: ``(fixed, per_sequence, kv_per_sequence, act_per_sequence)`` [B].

    fixed = weights / n + activation workspace of one prefill chunk + runtime (CUDA context,
    graphs); per_sequence = KV a sequence holds (with replication) + its logits (FP32) +
    without flash attention its materialized prompt score matrix. A sequence holds the KV of
    its prompt and of ``kv_out`` of its output: all of it where the engine reserves the whole
    length at admission, half where blocks come as tokens are generated (the mean over a
    steady stream of staggered sequences; :func:`hwcost.perf.features.kv_output_share`).
    """
    adiv = time_divisor(f)
    seq = input_tokens + f["kv_out"] * output_tokens
    kv_seq = kv_sequence_bytes(f, seq) * kv_memory_share(f)
    act_fixed = f["chunk"] * (4.0 * f["hidden"] + 2.0 * f["i_mlp"] / adiv) * ACT_BYTES
    scores = (1.0 - f["flash"]) * SCORE_BUFFER_BYTES * f["n_heads"] / adiv * input_tokens * input_tokens
    act_seq = f["vocab"] * 4.0 + scores
    fixed = weights_memory_per_gpu(f) + act_fixed + f["runtime"]
    return fixed, kv_seq + act_seq, kv_seq, act_seq


def max_batch_by_memory(f, input_tokens, output_tokens):
    """Largest batch whose weights, workspace and KV fit one GPU's budget (float, may be < 1)."""
    fixed, per_seq, kv_seq, act_seq = memory_terms(f, input_tokens, output_tokens)
    mem = f["mem"]
    frac = f["mem_frac"]
    total_mode = (frac * mem - fixed) / per_seq
    free_mode = frac * (mem - fixed) / (kv_seq + frac * act_seq)
    return np.floor(np.where(f["free_mode"], free_mode, total_mode))


def memory_needed(f, batch, input_tokens, output_tokens):
    """Per-GPU memory a batch needs: weights, workspace, runtime and KV [B]."""
    fixed, per_seq, _, _ = memory_terms(f, input_tokens, output_tokens)
    return fixed + batch * per_seq


def memory_usable(f, batch, input_tokens, output_tokens):
    """Per-GPU memory the engine lets the configuration use (its reserve excluded) [B]."""
    fixed, per_seq, kv_seq, act_seq = memory_terms(f, input_tokens, output_tokens)
    mem = f["mem"]
    frac = f["mem_frac"]
    free_budget = fixed + batch * act_seq + frac * (mem - fixed - batch * act_seq)
    return np.where(f["free_mode"], free_budget, frac * mem)
