"""Model architectures from Hugging Face ``config.json`` files: parameter counts and catalog rows.

A ``config.json`` states the shapes of a model, not its size. This module counts the weights
those shapes imply, tensor by tensor, the way the checkpoint stores them:

- **Embeddings**: ``vocab_size x hidden_size`` for the input table, and the same again for the
  output head unless ``tie_word_embeddings`` shares one matrix.
- **Attention** (per layer): grouped-query projections ``hidden x heads x head_dim`` (query,
  output) and ``hidden x kv_heads x head_dim`` (key, value), with biases where the family has
  them (Qwen2's query/key/value, gpt-oss everywhere) and per-head query/key RMSNorm weights
  (Qwen3, Gemma 3). Multi-head latent attention (DeepSeek-V3, Kimi K2) stores low-rank
  factors instead: ``hidden x q_lora_rank``, ``q_lora_rank x heads x (nope + rope)``,
  ``hidden x (kv_lora_rank + rope)``, ``kv_lora_rank x heads x (nope + v)`` and
  ``heads x v x hidden``, plus the DeepSeek-V3.2 sparse-attention indexer.
- **MLP**: a gated MLP is three ``hidden x width`` matrices. A mixture-of-experts layer holds
  ``n_experts`` of them (routed), ``n_shared`` always-on experts and a router
  ``hidden x n_experts``; which layers are MoE follows each family's rule (DeepSeek's leading
  dense layers, Qwen3-MoE's ``decoder_sparse_step``/``mlp_only_layers``, Llama 4's
  ``interleave_moe_layer_step``).
- **Norms**: two RMSNorm vectors per layer (four in Gemma 2/3) and a final one.

Active parameters are the weights one token passes through: everything but the routed
experts, plus ``n_experts_per_tok`` routed experts per MoE layer. Both embedding tables are
counted, as Mistral and Qwen count them (Mixtral-8x7B 12.9B, Qwen3-30B-A3B 3.3B); DeepSeek
and OpenAI quote active parameters without the input table (DeepSeek-V3 36.6B + 0.9B
embedding ~ 37.5B here; gpt-oss-120b 5.1B + 0.6B). ``ParameterCount.embedding`` gives the
input table so either convention can be recovered.

Multimodal checkpoints (Gemma 3, Llama 4) are counted for their language model only
(``text_config``); the vision encoder, a few hundred million to ~1 billion weights, is left
out, so their totals sit slightly below the published ones (Llama 4 Scout: 107.8B text of
109B).

Values absent from a file take the defaults of the ``transformers`` configuration class of
that family (e.g. Gemma 3: vocabulary 262,208, 131,072 positions, one global layer in six).
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import CatalogError

#: model_type values this module reads, by family.
DENSE_TYPES = ("llama", "qwen2", "qwen3", "mistral", "gemma2", "gemma3", "gemma3_text")
MOE_TYPES = ("mixtral", "qwen3_moe", "gpt_oss", "llama4", "llama4_text")
MLA_TYPES = ("deepseek_v3", "deepseek_v32", "kimi_k2")
MODEL_TYPES = DENSE_TYPES + MOE_TYPES + MLA_TYPES

# Defaults of the transformers configuration classes, used where a file omits a key.
_DEFAULTS = {
    "llama": {"tie_word_embeddings": False},
    "qwen2": {"tie_word_embeddings": False},
    "qwen3": {"tie_word_embeddings": False},
    "mistral": {"tie_word_embeddings": False},
    "mixtral": {"tie_word_embeddings": False, "num_local_experts": 8, "num_experts_per_tok": 2},
    "qwen3_moe": {"tie_word_embeddings": False, "decoder_sparse_step": 1},
    "gemma2": {"tie_word_embeddings": True},
    "gemma3_text": {
        "tie_word_embeddings": True,
        "vocab_size": 262_208,
        "max_position_embeddings": 131_072,
        "sliding_window": 4096,
        "sliding_window_pattern": 6,
    },
    "gpt_oss": {"tie_word_embeddings": False},
    "llama4_text": {"tie_word_embeddings": False, "interleave_moe_layer_step": 1},
    "deepseek_v3": {"tie_word_embeddings": False, "first_k_dense_replace": 0, "moe_layer_freq": 1},
}
_FAMILY = {
    "gemma3": "gemma3_text",
    "llama4": "llama4_text",
    "deepseek_v32": "deepseek_v3",
    "kimi_k2": "deepseek_v3",
}


class HFConfigError(CatalogError):
    """A config.json cannot be read into a model architecture."""


@dataclass(frozen=True)
class ParameterCount:
    """Weights of a model counted from its shapes [parameters]."""

    total: int
    active: int
    embedding: int  # the input embedding table
    lm_head: int  # the output projection (0 when tied to the input table)


@dataclass(frozen=True)
class Architecture:
    """What a config.json says about a model, in the catalog's terms."""

    model_type: str
    n_layers: int
    hidden_size: int
    n_heads: int
    n_kv_heads: int
    head_dim: int
    intermediate_size: int
    vocab_size: int
    max_context_tokens: int
    attention: str  # "mha", "gqa" or "mla"
    tied_embeddings: bool
    n_experts: int | None
    n_experts_active: int | None
    n_shared_experts: int | None
    moe_intermediate_size: int | None
    n_dense_layers: int | None
    sliding_window_tokens: int | None
    sliding_layer_fraction: float | None
    kv_lora_rank: int | None
    qk_rope_head_dim: int | None
    native_precision: str
    params: ParameterCount


def _get(cfg: dict, key: str, default=None, required=False):
    value = cfg.get(key, default)
    if value is None and required:
        raise HFConfigError(f"config.json has no {key!r} (needed to count the weights)")
    return value


def _positive_int(cfg: dict, key: str, default=None) -> int:
    value = _get(cfg, key, default, required=True)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value) or value < 1:
        raise HFConfigError(f"config.json {key!r} is {value!r}; expected a positive integer")
    return int(value)


def _text_config(cfg: dict) -> tuple[str, dict]:
    """The language-model part of a config and its family (multimodal files nest it)."""
    if not isinstance(cfg, dict):
        raise HFConfigError("config.json must hold a JSON object")
    model_type = cfg.get("model_type")
    if model_type not in MODEL_TYPES:
        raise HFConfigError(
            f"model_type {model_type!r} is not supported; accepted: {', '.join(MODEL_TYPES)}"
        )
    text = dict(cfg)
    if isinstance(cfg.get("text_config"), dict):
        text = {k: v for k, v in cfg.items() if k not in ("text_config", "vision_config")}
        text.update(cfg["text_config"])
    family = _FAMILY.get(model_type, model_type)
    for key, value in _DEFAULTS.get(family, {}).items():
        if text.get(key) is None:
            text[key] = value
    return family, text


def _native_precision(cfg: dict) -> str:
    quant = cfg.get("quantization_config") or {}
    method = str(quant.get("quant_method", "")).lower()
    if method == "fp8" or str(quant.get("fmt", "")).lower().startswith("e4m3"):
        return "fp8"
    if method == "mxfp4":
        return "mxfp4"
    if method in ("awq", "gptq") and quant.get("bits") == 4:
        return "int4"
    dtype = str(cfg.get("torch_dtype") or cfg.get("dtype") or "bfloat16").lower()
    return {"float16": "fp16", "bfloat16": "bf16", "float32": "fp32"}.get(dtype, dtype)


def _layer_kinds(family: str, text: dict, n_layers: int) -> tuple[int | None, float | None]:
    """Sliding-window size [tokens] and the fraction of layers that use it."""
    types = text.get("layer_types")
    if isinstance(types, list) and len(types) == n_layers:
        local = sum(1 for t in types if str(t) in ("sliding_attention", "chunked_attention"))
        window = text.get("sliding_window") or text.get("attention_chunk_size")
        return (int(window), local / n_layers) if local and window else (None, None)
    if family == "llama4_text" and text.get("attention_chunk_size"):
        rope = text.get("no_rope_layers")
        if isinstance(rope, list) and len(rope) == n_layers:
            local = sum(1 for r in rope if r)
        else:  # every fourth layer is a global layer without RoPE
            local = n_layers - n_layers // 4
        return int(text["attention_chunk_size"]), local / n_layers
    window = text.get("sliding_window")
    if not window:
        return None, None
    if family in ("qwen2", "qwen3", "qwen3_moe") and not text.get("use_sliding_window"):
        return None, None
    if family == "gemma2":
        return int(window), 0.5
    if family == "gemma3_text":
        pattern = int(text.get("sliding_window_pattern") or 6)
        return int(window), (pattern - 1) / pattern
    if family in ("mistral", "mixtral"):
        return int(window), 1.0
    return None, None


def architecture(cfg: dict) -> Architecture:
    """Read a parsed config.json into an :class:`Architecture` with counted parameters.

    Parameters
    ----------
    cfg : dict
        The JSON object of a Hugging Face ``config.json``; ``model_type`` one of
        :data:`MODEL_TYPES`.

    Returns
    -------
    Architecture
        Shapes in the catalog's terms and the :class:`ParameterCount` they imply.

    Raises
    ------
    HFConfigError
        For an unsupported ``model_type`` or a missing or non-positive shape, naming the key.
    """
    family, text = _text_config(cfg)
    hidden = _positive_int(text, "hidden_size")
    n_layers = _positive_int(text, "num_hidden_layers")
    n_heads = _positive_int(text, "num_attention_heads")
    n_kv = _positive_int(text, "num_key_value_heads", n_heads)
    vocab = _positive_int(text, "vocab_size")
    inter = _positive_int(text, "intermediate_size")
    head_dim = text.get("head_dim") or hidden // n_heads
    head_dim = _positive_int({"head_dim": head_dim}, "head_dim")
    tied = bool(text.get("tie_word_embeddings", cfg.get("tie_word_embeddings", False)))
    norms_per_layer = 4 if family in ("gemma2", "gemma3_text") else 2

    # ---- attention, per layer
    kv_lora = rope_dim = None
    if family == "deepseek_v3":
        q_lora = text.get("q_lora_rank")
        kv_lora = _positive_int(text, "kv_lora_rank")
        nope = _positive_int(text, "qk_nope_head_dim")
        rope_dim = _positive_int(text, "qk_rope_head_dim")
        v_dim = _positive_int(text, "v_head_dim")
        qk = nope + rope_dim
        if q_lora:
            attn = hidden * q_lora + q_lora + q_lora * n_heads * qk
        else:
            attn = hidden * n_heads * qk
        attn += hidden * (kv_lora + rope_dim) + kv_lora + kv_lora * n_heads * (nope + v_dim)
        attn += n_heads * v_dim * hidden
        if text.get("index_n_heads") and text.get("index_head_dim"):  # V3.2 sparse-attention indexer
            ih, idim = int(text["index_n_heads"]), int(text["index_head_dim"])
            attn += (q_lora or hidden) * ih * idim + hidden * idim + 2 * idim + hidden * ih
        head_dim = v_dim
        n_kv = n_heads
        attention = "mla"
    else:
        q_out, kv_out = n_heads * head_dim, n_kv * head_dim
        attn = hidden * q_out + 2 * hidden * kv_out + q_out * hidden
        bias = bool(text.get("attention_bias")) or family == "qwen2"
        if bias:
            attn += q_out + 2 * kv_out
        if bias and family == "gpt_oss":
            attn += hidden + n_heads  # output bias and per-head attention sinks
        if family in ("qwen3", "qwen3_moe", "gemma3_text"):
            attn += 2 * head_dim  # query and key RMSNorm
        attention = "mha" if n_kv == n_heads else "gqa"

    # ---- MLP, per layer kind
    n_exp = k_exp = shared = moe_width = None
    dense_layers = n_layers
    dense_width = inter
    router = expert = shared_params = 0
    if family == "mixtral":
        n_exp, k_exp = _positive_int(text, "num_local_experts"), _positive_int(text, "num_experts_per_tok")
        moe_width, shared = inter, 0
        moe_layers = n_layers
    elif family == "qwen3_moe":
        n_exp, k_exp = _positive_int(text, "num_experts"), _positive_int(text, "num_experts_per_tok")
        moe_width, shared = _positive_int(text, "moe_intermediate_size"), 0
        step = int(text.get("decoder_sparse_step") or 1)
        only_dense = set(text.get("mlp_only_layers") or [])
        moe_layers = sum(1 for i in range(n_layers) if i not in only_dense and (i + 1) % step == 0)
    elif family == "gpt_oss":
        n_exp = _positive_int(text, "num_local_experts")
        k_exp = _positive_int(text, "num_experts_per_tok", text.get("experts_per_token"))
        moe_width, shared = inter, 0
        moe_layers = n_layers
    elif family == "llama4_text":
        n_exp, k_exp = _positive_int(text, "num_local_experts"), _positive_int(text, "num_experts_per_tok")
        moe_width, shared = inter, 1
        dense_width = int(text.get("intermediate_size_mlp") or inter)
        listed = text.get("moe_layers")
        if isinstance(listed, list):
            moe_layers = len(listed)
        else:
            step = int(text.get("interleave_moe_layer_step") or 1)
            moe_layers = len(range(step - 1, n_layers, step))
    elif family == "deepseek_v3":
        n_exp, k_exp = _positive_int(text, "n_routed_experts"), _positive_int(text, "num_experts_per_tok")
        moe_width = _positive_int(text, "moe_intermediate_size")
        shared = int(text.get("n_shared_experts") or 0)
        first_dense = int(text.get("first_k_dense_replace") or 0)
        freq = int(text.get("moe_layer_freq") or 1)
        moe_layers = sum(1 for i in range(first_dense, n_layers) if i % freq == 0)
    else:
        moe_layers = 0
    dense_layers = n_layers - moe_layers
    dense_mlp = 3 * hidden * dense_width
    if moe_layers:
        expert = 3 * hidden * moe_width
        if family == "gpt_oss":
            expert += 2 * moe_width + hidden  # gate/up and down biases
        router = hidden * n_exp
        if family == "gpt_oss":
            router += n_exp
        if family == "deepseek_v3" and text.get("topk_method") == "noaux_tc":
            router += n_exp  # expert-score correction bias
        shared_params = shared * 3 * hidden * moe_width

    norms = norms_per_layer * hidden
    emb = vocab * hidden
    head = 0 if tied else vocab * hidden
    fixed = n_layers * (attn + norms) + dense_layers * dense_mlp + hidden + emb + head
    moe_fixed = moe_layers * (router + shared_params)
    total = fixed + moe_fixed + moe_layers * (n_exp or 0) * expert
    active = fixed + moe_fixed + moe_layers * (k_exp or 0) * expert

    window, fraction = _layer_kinds(family, text, n_layers)
    max_ctx = text.get("max_position_embeddings")
    return Architecture(
        model_type=str(cfg["model_type"]),
        n_layers=n_layers,
        hidden_size=hidden,
        n_heads=n_heads,
        n_kv_heads=n_kv,
        head_dim=head_dim,
        intermediate_size=dense_width,
        vocab_size=vocab,
        max_context_tokens=_positive_int({"max_position_embeddings": max_ctx}, "max_position_embeddings"),
        attention=attention,
        tied_embeddings=tied,
        n_experts=n_exp,
        n_experts_active=k_exp,
        n_shared_experts=shared if n_exp else None,
        moe_intermediate_size=moe_width,
        n_dense_layers=dense_layers if n_exp else None,
        sliding_window_tokens=window,
        sliding_layer_fraction=None if fraction is None else round(fraction, 4),
        kv_lora_rank=kv_lora,
        qk_rope_head_dim=rope_dim,
        native_precision=_native_precision({**text, **cfg}),
        params=ParameterCount(total=int(total), active=int(active), embedding=int(emb), lm_head=int(head)),
    )
