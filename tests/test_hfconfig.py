"""Parameter counts from Hugging Face config.json files, against the publishers' figures."""

import io
import json
from pathlib import Path

import pandas as pd
import pytest

from hwcost import catalog, cli, hfconfig

CONFIGS = Path(__file__).parent / "hf_configs"


def arch(name):
    return hfconfig.architecture(json.loads((CONFIGS / f"{name}.json").read_text()))


# Exact counts worked by hand from the shapes (see each comment), and the published figure.
@pytest.mark.parametrize("name, total, active, published_total_b", [
    # 2 x 128,256 x 4,096 embeddings + 32 x (attention 41,943,040 + MLP 176,160,768 + norms 8,192)
    # + final norm 4,096
    ("llama-3.1-8b", 8_030_261_248, 8_030_261_248, 8.03),
    # Qwen2: query/key/value biases; 2 x 152,064 x 8,192 + 80 x 877,684,736 + 8,192
    ("qwen2.5-72b", 72_706_203_648, 72_706_203_648, 72.7),
    # 8 experts x 3 x 4,096 x 14,336 per layer, 2 active
    ("mixtral-8x7b", 46_702_792_704, 12_879_925_248, 46.7),
    ("mistral-7b", 7_241_732_096, 7_241_732_096, 7.24),
    # Qwen3: per-head query/key RMSNorm (2 x 128 per layer)
    ("qwen3-32b", 32_762_123_264, 32_762_123_264, 32.8),
    ("qwen3-30b-a3b", 30_532_122_624, 3_353_032_704, 30.5),
    ("qwen3-235b-a22b", 235_093_634_560, 22_190_763_520, 235.1),
    # MLA: 187,107,328 attention weights per layer; 3 dense layers, 58 MoE layers of
    # 256 routed (8 active) + 1 shared expert of 3 x 7,168 x 2,048
    ("deepseek-v3", 671_026_419_200, 37_552_297_472, 671.0),
    # Gemma: tied embeddings, four norms per layer
    ("gemma-2-27b", 27_227_128_320, 27_227_128_320, 27.2),
])
def test_counts_match_hand_computation_and_published_size(name, total, active, published_total_b):
    p = arch(name).params
    assert p.total == total
    assert p.active == active
    assert p.total / 1e9 == pytest.approx(published_total_b, abs=0.06)


@pytest.mark.parametrize("name, published_active_b", [
    ("mixtral-8x7b", 12.9), ("qwen3-30b-a3b", 3.3), ("qwen3-235b-a22b", 22.2),
    ("llama-4-scout", 17.2), ("llama-4-maverick", 17.2), ("kimi-k2", 32.9),
])
def test_active_counts_with_both_embedding_tables(name, published_active_b):
    assert arch(name).params.active / 1e9 == pytest.approx(published_active_b, abs=0.06)


@pytest.mark.parametrize("name, published_active_b", [("deepseek-v3", 36.6), ("gpt-oss-120b", 5.1)])
def test_publishers_that_leave_the_input_embedding_out(name, published_active_b):
    # DeepSeek (README_WEIGHTS: 36.6B activated incl. 0.9B output head) and OpenAI quote
    # active parameters without the input embedding table
    p = arch(name).params
    assert (p.active - p.embedding) / 1e9 == pytest.approx(published_active_b, abs=0.05)


def test_moe_totals_of_recent_models():
    assert arch("gpt-oss-120b").params.total / 1e9 == pytest.approx(116.8, abs=0.05)
    assert arch("llama-4-maverick").params.total / 1e9 == pytest.approx(400.7, abs=0.05)
    # Scout's 109B includes the vision encoder; the language model alone is 107.8B
    assert arch("llama-4-scout").params.total / 1e9 == pytest.approx(107.8, abs=0.05)
    assert arch("kimi-k2").params.total / 1e12 == pytest.approx(1.026, abs=0.001)
    # V3.2 adds a sparse-attention indexer (64 heads x 128) to every layer: +0.85B
    extra = arch("deepseek-v3.2-exp").params.total - arch("deepseek-v3").params.total
    assert extra == 61 * (1536 * 64 * 128 + 7168 * 128 + 2 * 128 + 7168 * 64)


def test_layer_kinds_and_attention():
    g3 = arch("gemma-3-27b")
    assert (g3.sliding_window_tokens, g3.sliding_layer_fraction) == (1024, 0.8333)
    assert g3.tied_embeddings and g3.vocab_size == 262_208  # transformers defaults
    oss = arch("gpt-oss-120b")
    assert (oss.sliding_window_tokens, oss.sliding_layer_fraction) == (128, 0.5)
    assert oss.native_precision == "mxfp4"
    scout = arch("llama-4-scout")
    assert (scout.sliding_window_tokens, scout.sliding_layer_fraction) == (8192, 0.75)
    mav = arch("llama-4-maverick")
    assert (mav.n_dense_layers, mav.n_shared_experts, mav.intermediate_size) == (24, 1, 16384)
    ds = arch("deepseek-v3")
    assert (ds.attention, ds.kv_lora_rank, ds.qk_rope_head_dim, ds.n_dense_layers) == ("mla", 512, 64, 3)
    assert ds.native_precision == "fp8"
    assert arch("mistral-7b").sliding_layer_fraction == 1.0
    assert arch("qwen2.5-72b").sliding_window_tokens is None  # use_sliding_window false
    assert arch("qwen3-32b").attention == "gqa"


def test_unsupported_model_type_lists_the_accepted_ones():
    with pytest.raises(catalog.CatalogError, match="model_type 'bert' is not supported; accepted: llama, qwen2"):
        hfconfig.architecture({"model_type": "bert", "hidden_size": 768})


def test_missing_shape_is_named(tmp_path):
    cfg = json.loads((CONFIGS / "qwen3-32b.json").read_text())
    del cfg["num_hidden_layers"]
    path = tmp_path / "config.json"
    path.write_text(json.dumps(cfg))
    with pytest.raises(catalog.CatalogError, match=r"config.json: config.json has no 'num_hidden_layers'"):
        catalog.llm_from_hf_config(path)
    path.write_text("{not json")
    with pytest.raises(catalog.CatalogError, match="not valid JSON"):
        catalog.llm_from_hf_config(path)


def test_llm_from_hf_config_gives_a_validated_catalog_model():
    m = catalog.llm_from_hf_config(CONFIGS / "qwen3-30b-a3b.json", hf_repo="Qwen/Qwen3-30B-A3B")
    assert m.id == "qwen3-30b-a3b"
    assert (m.total_params_b, m.active_params_b) == (30.532, 3.353)
    assert (m.n_experts, m.n_experts_active, m.moe_intermediate_size) == (128, 8, 768)
    assert m.source == "https://huggingface.co/Qwen/Qwen3-30B-A3B/blob/main/config.json"


def test_bundled_rows_added_from_configs_agree_with_the_function():
    """The llms.csv rows computed with llm_from_hf_config still match it."""
    for name, row_id in [("qwen3-32b", "qwen3-32b"), ("qwen3-30b-a3b", "qwen3-30b-a3b"),
                         ("qwen3-235b-a22b", "qwen3-235b-a22b"), ("gemma-3-27b", "gemma-3-27b"),
                         ("llama-4-scout", "llama-4-scout"), ("llama-4-maverick", "llama-4-maverick"),
                         ("kimi-k2", "kimi-k2"), ("deepseek-v3.2-exp", "deepseek-v3.2")]:
        computed = catalog.llm_from_hf_config(CONFIGS / f"{name}.json", id=row_id)
        bundled = catalog.llm(row_id)
        for field in ("total_params_b", "active_params_b", "n_layers", "hidden_size", "n_heads",
                      "n_kv_heads", "n_experts", "n_experts_active", "moe_intermediate_size",
                      "n_dense_layers", "vocab_size", "attention", "sliding_window_tokens"):
            assert getattr(bundled, field) == getattr(computed, field), (row_id, field)


# ----------------------------------------------------------------------------------------
# hwcost model add
# ----------------------------------------------------------------------------------------
def run(argv):
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(argv, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_model_add_saves_to_the_user_table_and_recommend_finds_it(tmp_path, monkeypatch):
    mine = tmp_path / "my_llms.csv"
    monkeypatch.setenv(catalog.ENV_VARS["llms"], str(mine))
    code, out, err = run(["model", "add", str(CONFIGS / "qwen3-32b.json"), "--id", "my-qwen3-32b",
                          "--hf-repo", "Qwen/Qwen3-32B", "--format", "csv"])
    assert code == 0, err
    assert "my-qwen3-32b,32.762,32.762,64,gqa" in out
    m = catalog.llm("my-qwen3-32b")
    assert m.total_params_b == 32.762
    df = catalog.llms()
    assert df.loc[df["id"] == "my-qwen3-32b", "origin"].item() == "user"
    assert (df["origin"] == "bundled").sum() == len(catalog.llms(replace=False)) - 1
    # the same id again is refused rather than overwriting the user's row
    code, _, err = run(["model", "add", str(CONFIGS / "qwen3-32b.json"), "--id", "my-qwen3-32b"])
    assert code == 2 and "already has a row 'my-qwen3-32b'" in err and "--overwrite" in err
    code, _, err = run(["model", "add", str(CONFIGS / "deepseek-v3.json"), "--id", "my-ds"])
    assert code == 0, err
    assert [r.split(",")[0] for r in mine.read_text().splitlines()[1:]] == ["my-qwen3-32b", "my-ds"]
    code, out, err = run(["recommend", "--model", "my-ds", "--requests-per-day", "20000",
                          "--format", "csv"])
    assert code == 0, err
    ranked = pd.read_csv(io.StringIO(out))
    assert (ranked["rank"] == 1).sum() == 1
    # 671B weights need at least 671e9 x 4 bits = 336 GB: five or more 80 GB GPUs per replica
    own = ranked[ranked["kind"] == "self-hosted"]
    assert len(own) and (own.loc[own["gpu_id"] == "h100-sxm", "n_gpus"] >= 5).all()


def test_model_add_dry_run_writes_nothing(tmp_path, monkeypatch):
    mine = tmp_path / "my_llms.csv"
    monkeypatch.setenv(catalog.ENV_VARS["llms"], str(mine))
    code, out, err = run(["model", "add", str(CONFIGS / "qwen3-30b-a3b.json"), "--dry-run"])
    assert code == 0 and "dry run" in err and "qwen3-30b-a3b" in out
    assert not mine.exists()
