"""Importers of a team's own benchmark runs and the calibration overlay fitted to them.

The files in tests/measurements/ follow the documented formats: ``vllm bench serve
--save-result`` (vllm/benchmarks/serve.py: the result dict plus ``--metadata`` keys at the
top level; ``--append-result`` writes one object per line) and GuideLLM's report schema
version 2 (benchmarks[*].config.strategy, benchmarks[*].metrics.<name>.successful.median).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hwcost import perf
from hwcost.errors import HwcostError
from hwcost.perf import features, measurements

HERE = Path(__file__).resolve().parent / "measurements"


def _rows(df, metric):
    return df[df.metric == metric].reset_index(drop=True)


def test_vllm_single_run_at_concurrency_one():
    df = measurements.read_runs(HERE / "vllm_bench_serve_c1.json")
    assert sorted(df.metric) == ["output_tokens_per_s", "tpot_s", "ttft_s"]
    assert set(df.batch_size) == {"1"}
    assert set(df.model_id) == {"llama-3.1-8b"}       # from the Hugging Face repo name
    assert set(df.gpu_id) == {"h100-sxm"}             # from --metadata gpu=h100-sxm
    assert set(df.engine) == {"vllm"}
    assert set(df.input_tokens) == {1024} and set(df.output_tokens) == {128}  # 20480 / 20
    assert _rows(df, "ttft_s").value[0] == pytest.approx(0.039)    # median, ms -> s
    assert _rows(df, "tpot_s").value[0] == pytest.approx(0.0114)
    assert _rows(df, "output_tokens_per_s").value[0] == pytest.approx(85.0)
    assert set(df.as_of) == {"2026-12-01"}


def test_vllm_appended_runs_map_load_to_the_right_metric():
    df = measurements.read_runs(HERE / "vllm_bench_serve_append.jsonl", gpu="h100-sxm")
    # closed loop at concurrency 8: throughput and TPOT at batch 8, TTFT left out
    c8 = df[df.batch_size == "8"]
    assert sorted(c8.metric) == ["output_tokens_per_s", "tpot_s"]
    assert _rows(c8, "output_tokens_per_s").value[0] == pytest.approx(819.2)
    # open loop at 4 requests/s: Little's law 4.0 x 1.150 s = 4.6 in flight -> batch 5
    rate = df[df.notes.str.contains("open loop")]
    assert list(rate.metric) == ["tpot_s"] and list(rate.batch_size) == ["5"]
    assert rate.value.iloc[0] == pytest.approx(0.0085)
    reasons = [why for _, why in df.attrs["skipped"]]
    assert any("speculative" in r for r in reasons)      # the EAGLE run is not used
    assert any("offered load" in r for r in reasons)
    assert any("TTFT under concurrency" in r for r in reasons)
    assert len(df) == 3


def test_vllm_without_gpu_says_how_to_record_it():
    with pytest.raises(HwcostError, match="--metadata gpu="):
        measurements.read_runs(HERE / "vllm_bench_serve_append.jsonl")


def test_guidellm_report():
    df = measurements.read_runs(HERE / "guidellm_report.json", gpu="l40s")
    assert set(df.model_id) == {"qwen2.5-7b"}
    assert sorted(df.batch_size.unique()) == ["1", "16", "3"]   # synchronous, 16 streams, rate 3 (2.9 in flight)
    sync = df[df.batch_size == "1"]
    assert sorted(sync.metric) == ["output_tokens_per_s", "tpot_s", "ttft_s"]
    # TPOT is the inter-token latency (first token excluded), not time_per_output_token_ms
    assert _rows(sync, "tpot_s").value[0] == pytest.approx(0.022)
    assert _rows(sync, "ttft_s").value[0] == pytest.approx(0.060)
    assert set(df.input_tokens) == {512} and set(df.output_tokens) == {256}
    assert list(df[df.batch_size == "3"].metric) == ["tpot_s"]


def test_plain_csv():
    df = measurements.read_runs(HERE / "runs.csv")
    assert len(df) == 5
    assert set(df.gpu_id) == {"a100-80gb-sxm"}
    assert _rows(df[df.batch_size == "16"], "output_tokens_per_s").value[0] == 780
    assert [why for _, why in df.attrs["skipped"]] == ["open-loop run without a mean concurrency"]


def test_bad_files(tmp_path):
    with pytest.raises(HwcostError, match="not found"):
        measurements.read_runs(tmp_path / "missing.json")
    (tmp_path / "x.txt").write_text("a")
    with pytest.raises(HwcostError, match="unknown format"):
        measurements.read_runs(tmp_path / "x.txt")
    (tmp_path / "bad.json").write_text(json.dumps({"completed": 3}))
    with pytest.raises(HwcostError, match="vllm bench serve"):
        measurements.read_runs(tmp_path / "bad.json", gpu="h100-sxm")
    bad = (HERE / "runs.csv").read_text().replace("bf16,16,", "bf16,0,")
    (tmp_path / "bad.csv").write_text(bad)
    with pytest.raises(HwcostError, match="concurrency must be an integer >= 1"):
        measurements.read_runs(tmp_path / "bad.csv")
    with pytest.raises(HwcostError, match="not in the catalog"):
        measurements.model_id("acme/NoSuchModel-3B")


# ------------------------------------------------------------------------------------------
# Overlay
# ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def overlay():
    return perf.fit_overlay(HERE / "vllm_bench_serve_c1.json")


def test_overlay_brings_predictions_within_measurement_noise(overlay):
    cmp = perf.overlay_comparison(overlay)
    assert len(cmp) == 3
    assert cmp.error_before_pct.abs().max() > 20      # the runs disagree with the bundle ...
    assert cmp.error_after_pct.abs().max() < 3        # ... and the overlay follows them
    (entry,) = overlay.data["overlay"]["entries"]
    assert (entry["gpu_id"], entry["engine"], entry["n_rows"]) == ("h100-sxm", "vllm", 3)
    assert entry["bandwidth_logit_shift"] < 0          # slower decode than the bundle predicts


def test_overlay_applies_to_its_gpu_and_engine_only(overlay):
    kw = dict(engine="vllm", batch_size=1, input_tokens=1024, output_tokens=128)
    mine = perf.estimate("llama-3.1-8b", "h100-sxm", calibration=overlay, **kw)
    assert mine.tpot_s == pytest.approx(0.0114, rel=0.02)
    for gpu, engine in (("a100-80gb-sxm", "vllm"), ("h100-sxm", "tensorrt-llm")):
        kw2 = dict(kw, engine=engine)
        assert perf.estimate("llama-3.1-8b", gpu, calibration=overlay, **kw2).tpot_s == \
            perf.estimate("llama-3.1-8b", gpu, **kw2).tpot_s
    # the sweep and the simulator's step times see the same overlay
    sw = perf.sweep("llama-3.1-8b", "h100-sxm", batch_sizes=1, input_tokens=1024,
                    output_tokens=128, engine="vllm", calibration=overlay)
    assert sw.tpot_s.iloc[0] == pytest.approx(mine.tpot_s, rel=1e-9)
    st = perf.step_times("llama-3.1-8b", "h100-sxm", engine="vllm", calibration=overlay)
    assert st.bandwidth_efficiency == pytest.approx(mine.bandwidth_efficiency)


def test_overlay_file_round_trip_and_environment_variable(overlay, tmp_path, monkeypatch):
    bundled = json.loads(features.CALIBRATION_PATH.read_text())
    path = perf.save_overlay(overlay, tmp_path / "mine.json")
    on_disk = json.loads(path.read_text())
    assert set(on_disk) == {"overlay"}                 # the bundled factors are not copied
    loaded = perf.load_calibration(path)
    kw = dict(engine="vllm", batch_size=1, input_tokens=1024, output_tokens=128)
    want = perf.estimate("llama-3.1-8b", "h100-sxm", calibration=overlay, **kw).tpot_s
    assert perf.estimate("llama-3.1-8b", "h100-sxm", calibration=loaded, **kw).tpot_s == pytest.approx(want)
    # a measurement file works directly as a calibration file (fitted on load)
    direct = perf.load_calibration(HERE / "vllm_bench_serve_c1.json")
    assert perf.estimate("llama-3.1-8b", "h100-sxm", calibration=direct, **kw).tpot_s == pytest.approx(want)
    before = perf.estimate("llama-3.1-8b", "h100-sxm", **kw).tpot_s
    monkeypatch.setenv(perf.CALIBRATION_ENV_VAR, str(path))
    assert perf.estimate("llama-3.1-8b", "h100-sxm", **kw).tpot_s == pytest.approx(want)
    monkeypatch.setenv(perf.CALIBRATION_ENV_VAR, str(tmp_path / "nope.json"))
    with pytest.raises(HwcostError, match="HWCOST_CALIBRATION"):
        perf.estimate("llama-3.1-8b", "h100-sxm", **kw)
    monkeypatch.delenv(perf.CALIBRATION_ENV_VAR)
    assert perf.estimate("llama-3.1-8b", "h100-sxm", **kw).tpot_s == before
    assert json.loads(features.CALIBRATION_PATH.read_text()) == bundled   # never rewritten


def test_overlay_validate_uses_the_overlay(overlay):
    rows = measurements.read_runs(HERE / "vllm_bench_serve_c1.json")
    v = perf.validate(rows, overlay)
    after = perf.overlay_comparison(overlay).predicted_after
    np.testing.assert_allclose(v.predicted, after, rtol=1e-5)  # stored to 6 digits


def test_ranking_step_times_follow_the_calibration_in_use(overlay, tmp_path, monkeypatch):
    from hwcost import recommend

    key = ("llama-3.1-8b", "h100-sxm", 1, "bf16", "vllm")
    plain = recommend._step_times(*key)
    monkeypatch.setenv(perf.CALIBRATION_ENV_VAR, str(perf.save_overlay(overlay, tmp_path / "o.json")))
    mine = recommend._step_times(*key)
    assert mine.bandwidth_efficiency < plain.bandwidth_efficiency
    monkeypatch.delenv(perf.CALIBRATION_ENV_VAR)
    assert recommend._step_times(*key).bandwidth_efficiency == plain.bandwidth_efficiency


def test_cli_calibration_option_moves_estimate(tmp_path):
    import io

    from hwcost import cli

    def run(*argv):
        out, err = io.StringIO(), io.StringIO()
        code = cli.main(list(argv), out=out, err=err)
        return code, out.getvalue(), err.getvalue()

    args = ["estimate", "--model", "llama-3.1-8b", "--gpu", "h100-sxm", "--engine", "vllm",
            "--input-tokens", "1024", "--output-tokens", "128", "--format", "json"]
    code, plain, _ = run(*args)
    assert code == 0
    code, mine, _ = run(*args, "--calibration", str(HERE / "vllm_bench_serve_c1.json"))
    assert code == 0
    assert json.loads(mine)["tpot_s"] == pytest.approx(0.0114, rel=0.02)
    # without the run the bundled calibration is more than 10 % faster than this H100 measured
    assert json.loads(plain)["tpot_s"] < 0.9 * 0.0114
    assert perf.CALIBRATION_ENV_VAR not in __import__("os").environ   # restored afterwards
    code, _, err = run(*args, "--calibration", str(tmp_path / "missing.json"))
    assert code == 2 and "missing.json" in err
    # every calibrated command takes the option
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name in cli.CALIBRATED_COMMANDS:
        if name in sub.choices:
            assert "--calibration" in sub.choices[name]._option_string_actions


def test_cli_calibrate_prints_before_and_after_and_keeps_existing_files(tmp_path):
    import io

    from hwcost import cli

    out, err = io.StringIO(), io.StringIO()
    target = tmp_path / "mine.json"
    argv = ["calibrate", str(HERE / "vllm_bench_serve_c1.json"), str(HERE / "guidellm_report.json"),
            "--gpu", "l40s", "-o", str(target), "--format", "json"]
    # --gpu fills in the GuideLLM report only: the vLLM file records its own GPU
    assert cli.main(argv, out=out, err=err) == 0, err.getvalue()
    rows = json.loads(out.getvalue())
    assert {r["gpu_id"] for r in rows} == {"h100-sxm", "l40s"}
    # a least-squares fit: the squared log errors shrink in total (one row may trade off)
    import math

    def sse(key):
        return sum(math.log(1 + r[key] / 100) ** 2 for r in rows)

    assert sse("error_after_pct") < sse("error_before_pct")
    assert "left out" in err.getvalue() and target.exists()
    saved = json.loads(target.read_text())
    assert {(e["gpu_id"], e["engine"]) for e in saved["overlay"]["entries"]} == {("h100-sxm", "vllm"), ("l40s", "vllm")}
    before = target.read_text()
    assert cli.main(argv, out=io.StringIO(), err=(e2 := io.StringIO())) == 2
    assert "--force" in e2.getvalue() and target.read_text() == before
    assert cli.main(argv + ["--force"], out=io.StringIO(), err=io.StringIO()) == 0


def test_guidellm_yaml_report_reads_like_json(tmp_path):
    import yaml

    report = json.loads((HERE / "guidellm_report.json").read_text())
    path = tmp_path / "benchmarks.yaml"
    path.write_text(yaml.safe_dump(report))
    a = measurements.read_runs(HERE / "guidellm_report.json", gpu="l40s")
    b = measurements.read_runs(path, gpu="l40s")
    assert list(a.metric) == list(b.metric) and np.allclose(a.value, b.value)
