"""Chart builders are tested on their specification; rendering is static and stable."""

import altair as alt
import pandas as pd
import pytest

from hwcost import charts


def test_busy_gpu_hour_cost_chart_stacks_components_with_band_and_cloud():
    parts = pd.DataFrame({"option": ["A", "A", "B"], "component": ["capital", "power", "capital"],
                          "usd": [0.3, 0.1, 2.0]})
    bands = pd.DataFrame({"option": ["A", "B"], "p10": [0.3, 1.5], "p50": [0.4, 2.0],
                          "p90": [0.6, 2.9], "cloud": [0.34, 2.4]})
    spec = charts.busy_gpu_hour_cost_chart(parts, bands, options=["B", "A"], title="C").to_dict()
    assert spec["title"] == "C"
    assert spec["facet"]["column"] == {"field": "option", "sort": ["B", "A"], "title": None,
                                       "type": "nominal"}
    assert spec["resolve"] == {"scale": {"y": "independent"}}
    bars, band, mid, cloud = spec["spec"]["layer"]
    assert bars["mark"] == {"type": "bar"}
    assert bars["encoding"]["y"]["aggregate"] == "sum"
    assert _enc(bars, "y") == ("usd", "quantitative", "USD per busy GPU-hour")
    assert _enc(bars, "color") == ("component", "nominal", "component")
    assert band["mark"] == {"type": "rule", "color": "black", "strokeWidth": 2}
    assert (band["encoding"]["y"]["field"], band["encoding"]["y2"]["field"]) == ("p10", "p90")
    assert mid["mark"]["type"] == "tick" and mid["encoding"]["y"]["field"] == "p50"
    assert cloud["mark"]["shape"] == "diamond" and cloud["encoding"]["y"]["field"] == "cloud"
    assert (spec["spec"]["width"], spec["spec"]["height"]) == (150, 280)
    assert len(spec["datasets"][spec["data"]["name"]]) == 5
    # hover for values: the stacked component, the P10-P50-P90 spread, the cloud price
    assert _tips(bars) == ["option", "component", "usd"]
    assert bars["encoding"]["tooltip"][2] == {"aggregate": "sum", "field": "usd", "format": "$.3f",
                                              "title": "USD per busy GPU-hour", "type": "quantitative"}
    assert _tips(band) == _tips(mid) == ["option", "p10", "p50", "p90"]
    assert _tips(cloud) == ["option", "cloud"]


def test_break_even_months_chart_lines_and_service_life():
    curves = pd.DataFrame({"gpu_hours_per_month": [365.0, 730.0], "months": [40.0, 18.0],
                           "option": ["A", "A"]})
    spec = charts.break_even_months_chart(curves, service_life_months=36.0, title="B").to_dict()
    assert spec["title"] == "B"
    lines, rule, text = spec["layer"]
    assert lines["mark"] == {"type": "line", "point": True}
    assert _enc(lines, "x") == ("gpu_hours_per_month", "quantitative",
                                "GPU-hours used per GPU per month (730 = always busy)")
    assert _enc(lines, "y") == ("months", "quantitative", "break-even [months]")
    assert lines["encoding"]["y"]["scale"] == {"type": "log"}
    assert _enc(lines, "color") == ("option", "nominal", "option")
    assert rule["mark"] == {"type": "rule", "color": "#555555", "strokeDash": [6, 4]}
    assert spec["datasets"][rule["data"]["name"]] == [{"months": 36.0}]
    assert spec["datasets"][text["data"]["name"]] == [{"months": 36.0,
                                                       "label": "end of service life"}]


def test_busy_gpu_hour_tornado_chart_sorted_by_largest_swing():
    tor = pd.DataFrame({"option": ["A", "A", "B"], "input": ["pue", "utilization", "pue"],
                        "low": [1.1, 0.25, 1.1], "high": [1.5, 0.75, 1.5],
                        "low_change": [-0.02, 0.6, -0.3], "high_change": [0.03, -0.2, 0.4],
                        "swing": [0.05, 0.8, 0.7]})
    spec = charts.busy_gpu_hour_tornado_chart(tor).to_dict()
    assert spec["title"] == ("Change in the cost of a busy GPU-hour when one input moves "
                             "from low to high")
    assert spec["mark"] == {"type": "bar"}
    assert _enc(spec, "x") == ("low_change", "quantitative", "change vs the typical case")
    assert spec["encoding"]["x"]["axis"] == {"format": "%"}
    assert spec["encoding"]["x2"] == {"field": "high_change"}
    assert spec["encoding"]["y"]["sort"] == ["utilization", "pue"]
    assert spec["encoding"]["yOffset"] == {"field": "option", "type": "nominal"}
    assert _enc(spec, "color") == ("option", "nominal", "option")
    assert spec["height"] == 320


def test_cost_latency_frontier_chart_panels_and_frontier():
    pareto = pd.DataFrame({"option": ["x", "y", "x", "y"], "kind": ["cloud"] * 4,
                           "total_usd": [1e4, 2e4, 1e4, 2e4], "latency_s": [0.5, 0.2, 0.05, 0.03],
                           "metric": ["p95 TTFT", "p95 TTFT", "p95 TPOT", "p95 TPOT"],
                           "frontier": ["on the frontier"] * 4})
    spec = charts.cost_latency_frontier_chart(pareto, horizon_months=24, title="F").to_dict()
    assert spec["title"] == "F"
    assert spec["facet"]["column"]["sort"] == ["p95 TTFT", "p95 TPOT"]
    assert spec["resolve"] == {"scale": {"x": "independent"}}
    dots, edge, tops = spec["spec"]["layer"]
    assert dots["mark"] == {"type": "point", "opacity": 0.3, "size": 20}
    assert _enc(dots, "x") == ("latency_s", "quantitative",
                               "latency at the SLO percentile [s]")
    assert _enc(dots, "y") == ("total_usd", "quantitative",
                               "total cost over 24 months [USD]")
    assert dots["encoding"]["y"]["scale"] == {"type": "log"}
    assert _enc(dots, "color") == ("kind", "nominal", "kind")
    assert edge["mark"] == {"type": "line", "color": "#333333"}
    assert edge["transform"] == [{"filter": "datum.frontier == 'on the frontier'"}]
    assert tops["mark"] == {"type": "point", "filled": True, "opacity": 1, "size": 90}
    assert [t["field"] for t in tops["encoding"]["tooltip"]] == ["option", "total_usd",
                                                                 "latency_s"]
    assert _tips(dots) == ["option", "kind", "total_usd", "latency_s"]
    assert dots["encoding"]["tooltip"][2]["format"] == "$,.0f"


def test_staff_time_cost_chart_in_percent_per_kind():
    lines = pd.DataFrame({"staff_fraction": [0.0, 0.5, 0.0, 0.5], "kind": ["self-hosted",
                          "self-hosted", "cloud", "cloud"], "total_usd": [1e4, 9e4, 3e4, 3e4]})
    spec = charts.staff_time_cost_chart(lines, horizon_months=36).to_dict()
    assert spec["title"] == "Best option of each kind against the staff time for owned hardware"
    # invisible points carry the tooltips (a line alone would show its first point's)
    assert spec["mark"] == {"type": "line", "point": {"opacity": 0, "size": 80, "clip": True}}
    assert _tips(spec) == ["option", "staff_pct", "total_usd"]
    assert spec["encoding"]["color"]["legend"] == {"symbolType": "stroke"}  # lines, not points
    assert _enc(spec, "x") == ("staff_pct", "quantitative",
                               "staff time for owned hardware [% of one administrator]")
    assert _enc(spec, "y") == ("total_usd", "quantitative", "total over 36 months [USD]")
    assert spec["encoding"]["y"]["scale"] == {"type": "log"}
    assert _enc(spec, "color") == ("option", "nominal", None)
    rows = spec["datasets"][spec["data"]["name"]]
    assert [(r["staff_pct"], r["option"]) for r in rows] == [
        (0.0, "best self-hosted"), (50.0, "best self-hosted"), (0.0, "best cloud"),
        (50.0, "best cloud")]


DF = pd.DataFrame({"batch": [1, 2, 4], "tps": [50.0, 95.0, 170.0], "gpu": ["a", "a", "b"],
                   "extra": [object(), object(), object()]})


def test_line_spec_fields_and_titles():
    spec = charts.line(DF, "batch", "tps", color="gpu", title="Throughput",
                       x_title="batch size", y_title="tokens/s", log_x=True).to_dict()
    assert spec["mark"]["type"] == "line"
    assert spec["encoding"]["x"]["field"] == "batch"
    assert spec["encoding"]["x"]["title"] == "batch size"
    assert spec["encoding"]["x"]["scale"]["type"] == "log"
    assert spec["encoding"]["color"]["field"] == "gpu"
    assert spec["title"] == "Throughput"


def test_only_used_columns_travel():
    spec = charts.bar(DF, "tps", "gpu").to_dict()
    (values,) = spec["datasets"].values()
    assert set(values[0]) == {"tps", "gpu"}


def test_missing_column_is_named():
    with pytest.raises(ValueError, match="lacks column.*nope"):
        charts.scatter(DF, "batch", "nope")


def test_scatter_with_labels_is_layered():
    spec = charts.scatter(DF, "batch", "tps", label="gpu").to_dict()
    assert [layer["mark"]["type"] for layer in spec["layer"]] == ["point", "text"]


def test_tornado_sorted_by_swing():
    df = pd.DataFrame({"input": ["price", "power"], "output_low": [1.0, 1.9], "output_high": [3.0, 2.1]})
    spec = charts.tornado(df, base_value=2.0).to_dict()
    bars = spec["layer"][0]
    assert bars["encoding"]["y"]["sort"] == {"field": "_swing", "order": "descending"}
    assert bars["encoding"]["x2"]["field"] == "output_high"


def test_renderer_emits_svg_and_png_and_svg_is_stable():
    charts.enable()
    chart = charts.line(DF, "batch", "tps", title="T")
    bundle = chart._repr_mimebundle_()
    bundle = bundle[0] if isinstance(bundle, tuple) else bundle
    assert set(bundle) >= {"image/svg+xml", "image/png"}
    assert bundle["image/svg+xml"].startswith("<svg")
    assert charts.to_svg(chart) == charts.to_svg(chart)
    assert charts.to_png(chart)[:8] == b"\x89PNG\r\n\x1a\n"
    assert alt.theme.active == charts.THEME_NAME


def test_shared_labels_join_points_that_would_overprint():
    df = pd.DataFrame({"x": [1.0, 1.01, 5.0, 10.0], "y": [10.0, 10.1, 50.0, 100.0],
                       "id": ["a", "b", "c", "d"]})
    labels = charts.shared_labels(df, "x", "y", "id")
    assert list(labels) == ["a / b", "", "c", "d"]
    # with tighter tolerances every point keeps its own label
    far = charts.shared_labels(df, "x", "y", "id", x_frac=0.001, y_frac=0.001)
    assert list(far) == ["a", "b", "c", "d"]


def _spec(chart) -> dict:
    spec = chart.to_dict()
    spec.pop("config", None)
    return spec


def _tips(layer) -> list[str]:
    """The fields a layer shows on hover, in order."""
    return [t["field"] for t in layer["encoding"]["tooltip"]]


def _enc(layer, channel):
    e = layer["encoding"][channel]
    return e.get("field"), e.get("type"), e.get("title")


def test_bandwidth_speed_chart_points_labels_and_bound():
    table = pd.DataFrame({"gpu_id": ["l40s", "h100-sxm", "h200-sxm"], "segment": ["dc", "dc", "dc"],
                          "min_n_gpus": [1, 1, 1], "replica_bw_gbps": [864.0, 3350.0, 3360.0],
                          "tokens_per_s_per_request": [40.0, 140.0, 141.0],
                          "bandwidth_bound_tokens_per_s": [54.0, 209.0, 210.0]})
    spec = _spec(charts.bandwidth_speed_chart(table, title="speed follows bandwidth"))
    points, text, bound = spec["layer"]
    assert points["mark"] == {"type": "point", "filled": True, "size": 70}
    assert points["title"] == "speed follows bandwidth"
    assert _enc(points, "x") == ("replica_bw_gbps", "quantitative",
                                 "memory bandwidth of the replica [GB/s]")
    assert _enc(points, "y") == ("tokens_per_s_per_request", "quantitative",
                                 "batch-1 speed [tokens/s]")
    assert _enc(points, "color") == ("segment", "nominal", "segment")
    assert text["mark"]["type"] == "text" and text["encoding"]["text"]["field"] == "label"
    assert bound["mark"] == {"type": "line", "color": "#999", "strokeDash": [4, 3]}
    assert _enc(bound, "y") == ("bandwidth_bound_tokens_per_s", "quantitative", None)
    # the two HBM3 parts overprint: one label names both
    (values,) = spec["datasets"].values()
    assert [v["label"] for v in values] == ["l40s", "h100-sxm / h200-sxm", ""]


def test_batch_throughput_chart_two_panels_with_target():
    curve = pd.DataFrame({"batch_size": [1, 8], "output_tokens_per_s": [30.0, 200.0],
                          "tokens_per_s_per_request": [30.0, 25.0]})
    marks = pd.DataFrame({"batch_size": [8], "what": ["memory full"]})
    spec = _spec(charts.batch_throughput_chart(curve, marks, tpot_target_s=0.05, title="T"))
    assert spec["title"] == {"text": "T", "subtitle": "red line: the TPOT target of 0.05 s; "
                             "dashed: batch sizes named in the legend"}
    left, right = spec["hconcat"]
    assert [left["title"], right["title"]] == ["Throughput of the replica", "Speed each user sees"]
    agg, rule = left["layer"]
    assert agg["mark"] == {"type": "line", "color": "#0072B2", "point": True}
    assert agg["encoding"]["x"]["scale"] == {"base": 2, "type": "log"}
    assert _enc(agg, "y") == ("output_tokens_per_s", "quantitative", "aggregate output [tokens/s]")
    assert _enc(rule, "color") == ("what", "nominal", "batch where")
    per, target, _ = right["layer"]
    assert _enc(per, "y") == ("tokens_per_s_per_request", "quantitative", "per request [tokens/s]")
    assert target["mark"] == {"type": "rule", "color": "#D55E00"}
    assert spec["datasets"][target["data"]["name"]] == [{"y": 20.0}]
    assert _tips(agg) == ["batch_size", "output_tokens_per_s", "tokens_per_s_per_request"]
    assert _tips(per) == ["batch_size", "tokens_per_s_per_request", "output_tokens_per_s"]
    assert _tips(rule) == ["what", "batch_size"]


def test_roofline_chart_log_axes_and_rules():
    df = pd.DataFrame({"batch_size": [1, 2, 4], "arithmetic_intensity": [1.0, 2.0, 3.9]})
    spec = _spec(charts.roofline_chart(df, ridge_point=295.0, memory_batch=4, title="R"))
    roof, ridge, mem = spec["layer"]
    assert roof["title"] == "R" and roof["mark"] == {"type": "line", "point": True}
    assert _enc(roof, "x") == ("batch_size", "quantitative", "batch size [sequences]")
    assert roof["encoding"]["y"]["scale"] == {"type": "log"}
    assert _enc(roof, "y") == ("arithmetic_intensity", "quantitative", "FLOPs per byte")
    assert spec["datasets"][ridge["data"]["name"]] == [{"y": 295.0, "label": "ridge point"}]
    assert mem["mark"] == {"type": "rule", "strokeDash": [5, 3], "color": "#555"}
    assert spec["datasets"][mem["data"]["name"]] == [{"x": 4}]
    assert (spec["width"], spec["height"]) == (480, 260)
    assert _tips(roof) == ["batch_size", "arithmetic_intensity"]


def test_gpu_count_grid_chart_facets_by_precision():
    bands = ("1", "2", "3-4", "5-8", "9-16", "over 16", "none")
    grid = pd.DataFrame({"model_id": ["m1", "m1"], "gpu_id": ["g1", "g2"],
                         "precision": ["bf16", "bf16"], "gpus_needed": ["1", "12"],
                         "band": ["1", "9-16"]})
    spec = _spec(charts.gpu_count_grid_chart(grid, models=["m1", "m2"], gpus=["g2", "g1"],
                                             precisions=["bf16", "int4"], bands=bands,
                                             subtitle="4 sequences"))
    assert spec["title"] == {"text": "Fewest GPUs per replica", "subtitle": "4 sequences"}
    assert spec["facet"]["row"] == {"field": "precision", "sort": ["bf16", "int4"],
                                    "title": "weight precision", "type": "nominal"}
    inner = spec["spec"]
    assert (inner["width"], inner["height"]) == (420, 48)
    cells, labels = inner["layer"]
    assert cells["mark"]["type"] == "rect"
    assert cells["encoding"]["color"]["scale"] == {
        "domain": list(bands),
        "range": ["#c7e9c0", "#a1d99b", "#fdd49e", "#fdae6b", "#f16913", "#a63603", "#d9d9d9"]}
    assert cells["encoding"]["x"] == {"field": "gpu_id", "sort": ["g2", "g1"], "title": "GPU",
                                      "type": "nominal"}
    assert labels["encoding"]["text"] == {"field": "gpus_needed", "type": "nominal"}
    assert _tips(cells) == ["model_id", "gpu_id", "precision", "gpus_needed"]
    assert labels["encoding"]["color"]["condition"]["test"] == {
        "field": "band", "oneOf": ["9-16", "over 16"]}
    with pytest.raises(ValueError, match="bands must be 7 names"):
        charts.gpu_count_grid_chart(grid, models=["m1"], gpus=["g1"], precisions=["bf16"],
                                    bands=bands[:3])


def test_speed_vs_throughput_chart_encodings():
    configs = pd.DataFrame({"gpu_id": ["h100-sxm"], "precision": ["fp8"], "min_n_gpus": [2],
                            "tokens_per_s_per_request": [60.0], "output_tokens_per_s": [4000.0],
                            "output_tokens_per_s_per_gpu": [2000.0]})
    spec = _spec(charts.speed_vs_throughput_chart(configs, title="70B"))
    assert spec["title"] == "70B"
    assert spec["mark"] == {"type": "point", "filled": True, "size": 90}
    assert _enc(spec, "x") == ("tokens_per_s_per_request", "quantitative",
                               "batch-1 speed [tokens/s per request]")
    assert _enc(spec, "y") == ("output_tokens_per_s_per_gpu", "quantitative",
                               "max-batch throughput per GPU [tokens/s]")
    assert spec["encoding"]["color"]["scale"] == {"scheme": "tableau10"}
    assert _enc(spec, "shape") == ("precision", "nominal", "precision")


def test_parallelism_throughput_chart_log_axes_dashed_by_link():
    table = pd.DataFrame({"strategy": ["tensor parallel", "pipeline parallel"],
                          "link": ["nvlink", "nvlink"], "batch_size": [1, 1],
                          "output_tokens_per_s": [100.0, 30.0], "tpot_s": [0.01, 0.033]})
    spec = _spec(charts.parallelism_throughput_chart(table, title="TP vs PP", subtitle="note"))
    assert spec["title"] == {"text": "TP vs PP", "subtitle": "note"}
    assert spec["mark"] == {"type": "line", "point": True}
    assert _enc(spec, "x") == ("batch_size", "quantitative", "sequences decoded together")
    assert spec["encoding"]["y"]["scale"] == {"type": "log"}
    assert _enc(spec, "y") == ("output_tokens_per_s", "quantitative",
                               "output tokens per second, replica")
    assert _enc(spec, "color") == ("strategy", "nominal", "split")
    assert _enc(spec, "strokeDash") == ("link", "nominal", "link")


def test_latency_vs_rate_chart_two_panels_with_rate_and_targets():
    curve = pd.DataFrame({"requests_per_s": [1.0, 2.0], "ttft_s": [0.2, 0.5],
                          "tpot_s": [0.02, 0.03], "replicas": ["1 replica(s)"] * 2})
    spec = _spec(charts.latency_vs_rate_chart(curve, peak_requests_per_s=1.5, ttft_target_s=1.0,
                                              tpot_target_s=0.05, model="m"))
    top, bottom = spec["vconcat"]
    assert top["height"] == 220
    lines, rate, goal = top["layer"]
    assert lines["title"] == "m: p95 time to first token against arrival rate"
    assert _enc(lines, "y") == ("ttft_s", "quantitative", "p95 time to first token [s]")
    assert lines["encoding"]["y"]["scale"] == {"type": "log"}
    assert rate["mark"] == {"type": "rule", "strokeDash": [4, 4]}
    assert spec["datasets"][rate["data"]["name"]] == [{"requests_per_s": 1.5}]
    assert goal["mark"] == {"type": "rule", "color": "#D55E00"}
    assert spec["datasets"][goal["data"]["name"]] == [{"ttft_s": 1.0}]
    assert _enc(bottom["layer"][0], "y") == ("tpot_s", "quantitative",
                                             "p95 time per output token [s]")
    assert spec["datasets"][bottom["layer"][2]["data"]["name"]] == [{"tpot_s": 0.05}]


def test_audit_by_section_chart_stacks_verdicts_in_order():
    statuses = ("agrees", "disagrees", "implausible input", "not checkable")
    by_section = pd.DataFrame({"section": ["Pricing", "Pricing", "Scaling"],
                               "status": ["agrees", "disagrees", "agrees"], "claims": [5, 2, 3]})
    spec = _spec(charts.audit_by_section_chart(by_section, sections=["Scaling", "Pricing"],
                                               statuses=statuses))
    assert spec["title"] == "The article's claims by section and verdict"
    assert spec["mark"] == {"type": "bar"} and spec["width"] == 360
    assert _enc(spec, "x") == ("claims", "quantitative", "claims [-]")
    assert spec["encoding"]["y"]["sort"] == ["Scaling", "Pricing"]
    assert spec["encoding"]["color"]["scale"] == {
        "domain": list(statuses), "range": ["#009E73", "#D55E00", "#E69F00", "#999999"]}
    assert spec["encoding"]["order"] == {"field": "status_order", "type": "quantitative"}
    assert spec["transform"] == [{"calculate": "indexof(['agrees', 'disagrees', 'implausible "
                                  "input', 'not checkable'], datum.status)", "as": "status_order"}]
    with pytest.raises(ValueError, match="statuses must be 4 names"):
        charts.audit_by_section_chart(by_section, sections=["Pricing"], statuses=statuses[:2])


def test_out_of_sample_error_chart_bars_and_ticks_per_check():
    now = pd.DataFrame({"check": ["holdout", "holdout"], "regime": ["decode", "all"],
                        "median_pct": [8.0, 9.0], "p90_pct": [20.0, 25.0], "n": [10, 30]})
    prev = now.assign(median_pct=[10.0, 11.0])
    spec = _spec(charts.out_of_sample_error_chart(now, prev))
    assert spec["facet"] == {"column": {"field": "check", "title": None, "type": "nominal"}}
    bars, ticks = spec["spec"]["layer"]
    assert bars["mark"] == {"type": "bar", "opacity": 0.8}
    assert _enc(bars, "y") == ("median_pct", "quantitative",
                               "absolute error [%]: bar = median, tick = 90th percentile")
    assert ticks["mark"] == {"type": "tick", "size": 14, "thickness": 2}
    assert _enc(ticks, "y") == ("p90_pct", "quantitative", None)
    assert _enc(spec["spec"]["layer"][0], "xOffset") == ("calibration", "nominal", None)
    (values,) = spec["datasets"].values()  # the "all" rows are left out
    assert [(r["calibration"], r["median_pct"]) for r in values] == [("in use", 8.0),
                                                                     ("previous", 10.0)]
    assert _tips(bars) == _tips(ticks) == ["check", "regime", "calibration", "median_pct",
                                           "p90_pct"]


def test_parity_chart_log_axes_and_target_lines():
    v = pd.DataFrame({"id": ["a", "b"], "gpu_id": ["h100-sxm"] * 2, "model_id": ["m"] * 2,
                      "engine": ["vllm"] * 2, "regime": ["decode", "ttft"],
                      "metric": ["output_tokens_per_s", "ttft_s"], "unit": ["tokens/s", "seconds"],
                      "measured": [100.0, 0.2], "predicted": [90.0, 0.3],
                      "error_pct": [-10.0, 50.0]})
    spec = _spec(charts.parity_chart(v, target_pct=15))
    assert spec["title"] == {"text": "Predicted against measured, log-log",
                             "subtitle": "solid: y = x; dashed: ±15% (the target)"}
    assert spec["resolve"] == {"scale": {"color": "shared", "shape": "shared"}}
    speed, times = spec["hconcat"]
    assert (speed["title"], times["title"]) == ("tokens/s", "seconds")
    ref, pts = speed["layer"]
    assert pts["encoding"]["x"]["scale"] == {"domain": [90.0 / 1.5, 100.0 * 1.5], "type": "log"}
    assert _enc(pts, "y") == ("predicted", "quantitative", "predicted [tokens/s]")
    assert _enc(pts, "shape") == ("engine", "nominal", "engine")
    lines = spec["datasets"][ref["data"]["name"]]
    assert {r["line"] for r in lines} == {"y = x", "+15%", "-15%"}
    assert [r["y"] for r in lines if r["line"] == "+15%"] == pytest.approx([60.0 * 1.15,
                                                                           150.0 * 1.15])
    # many points: values on hover, drag to pan and scroll to zoom (scales bound to an interval)
    assert _tips(pts) == ["id", "gpu_id", "model_id", "metric", "measured", "predicted",
                          "error_pct"]
    zooms = {p["name"]: p for p in spec["params"]}
    assert sorted(zooms) == ["zoom_seconds", "zoom_tokens_s"]  # each panel zooms on its own
    for zoom in zooms.values():
        assert zoom["bind"] == "scales" and zoom["select"] == {"type": "interval"}
        assert len(zoom["views"]) == 1
    assert zooms["zoom_tokens_s"]["views"] != zooms["zoom_seconds"]["views"]


def test_error_by_regime_chart_two_bars_per_regime_and_target():
    regime = pd.DataFrame({"mdape_pct": [5.0, 7.0], "loso_mdape_pct": [9.0, 8.0]},
                          index=pd.Index(["decode", "all"], name="regime"))
    spec = _spec(charts.error_by_regime_chart(regime, target_pct=15))
    assert spec["title"] == {"text": "Median absolute percentage error by regime",
                             "subtitle": "dashed: the 15% target"}
    bars, rule = spec["layer"]
    assert _enc(bars, "x") == ("mdape", "quantitative", "median absolute percentage error [%]")
    assert bars["encoding"]["yOffset"] == {"field": "check", "type": "nominal"}
    assert spec["datasets"][bars["data"]["name"]] == [
        {"regime": "decode", "check": "in sample", "mdape": 5.0},
        {"regime": "decode", "check": "leave one source out", "mdape": 9.0}]
    assert rule["mark"] == {"type": "rule", "color": "#D55E00", "strokeDash": [4, 3]}
    assert spec["datasets"][rule["data"]["name"]] == [{"x": 15}]


def test_gpu_speedup_chart_claim_band_lines_and_references():
    curves = pd.DataFrame({"batch_size": [1, 8], "measure": ["decode steps only"] * 2,
                           "ratio": [1.6, 1.9]})
    refs = pd.DataFrame({"y": [1.64], "what": ["bandwidth ratio"]})
    claim = pd.DataFrame({"lo": [1.3], "hi": [1.5]})
    spec = _spec(charts.gpu_speedup_chart(curves, refs, claim, y_title="H100 / A100 speed",
                                          title="T", subtitle="S"))
    assert spec["title"] == {"text": "T", "subtitle": "S"}
    band, line, rules = spec["layer"]
    assert band["mark"] == {"type": "rect", "color": "#D55E00", "opacity": 0.18}
    assert band["encoding"]["y2"] == {"field": "hi"}
    assert _enc(line, "y") == ("ratio", "quantitative", "H100 / A100 speed")
    assert line["encoding"]["y"]["scale"] == {"zero": False}
    assert line["encoding"]["x"]["scale"] == {"base": 2, "type": "log"}
    assert _enc(line, "strokeDash") == ("measure", "nominal", None)
    assert _enc(rules, "color") == ("what", "nominal", None)
    assert (spec["width"], spec["height"]) == (480, 280)
    assert _tips(line) == ["measure", "batch_size", "ratio"]
    assert _tips(rules) == ["what", "y"]


def test_lever_waterfall_chart_bars_run_from_previous_cost():
    wf = pd.DataFrame({"lever": ["baseline", "quantization", "batching"], "step": [0, 1, 2],
                       "usd_per_million_output_tokens": [10.0, 6.0, 6.5],
                       "change_pct": [0.0, -40.0, 8.3]})
    spec = _spec(charts.lever_waterfall_chart(wf, format_usd=lambda x: f"${x:.2f}", title="W"))
    assert spec["layer"][0]["title"] == {
        "text": "W",
        "subtitle": "log scale; each bar runs from the cost before the lever to the cost after it"}
    assert (spec["width"], spec["height"]) == (620, 320)
    bars, ends, text = spec["layer"]
    assert bars["mark"] == {"type": "bar", "size": 28}
    assert bars["encoding"]["x"]["sort"] == ["baseline", "quantization", "batching"]
    assert _enc(bars, "y") == ("start", "quantitative", "USD per 1M output tokens")
    assert bars["encoding"]["y"]["scale"] == {"type": "log"}
    assert bars["encoding"]["y2"] == {"field": "end"}
    assert bars["encoding"]["color"]["scale"] == {"domain": ["baseline", "saves", "no saving"],
                                                  "range": ["#555555", "#009E73", "#E69F00"]}
    assert ends["mark"]["type"] == "tick" and text["encoding"]["text"]["field"] == "label"
    (values,) = spec["datasets"].values()
    assert [(r["start"], r["end"], r["kind"], r["label"]) for r in values] == [
        (10.0, 10.0, "baseline", "$10.00"), (10.0, 6.0, "saves", "$6.00"),
        (6.0, 6.5, "no saving", "$6.50")]
    assert _tips(bars) == ["lever", "start", "end", "change_pct"]
    assert [t.get("format") for t in bars["encoding"]["tooltip"]] == [None, "$,.3f", "$,.3f", "+.1f"]


def test_gpu_memory_bandwidth_chart_log_memory_axis_and_shared_labels():
    gpus = pd.DataFrame({"id": ["h200-sxm", "l4", "h100-sxm"],
                         "segment": ["datacenter", "inference", "datacenter"],
                         "memory_gb": [141.0, 24.0, 80.0], "mem_bw_gbps": [4800.0, 300.0, 3350.0],
                         "tdp_w": [700, 72, 700]})
    spec = _spec(charts.gpu_memory_bandwidth_chart(gpus, title="G"))
    assert (spec["width"], spec["height"]) == (640, 360)
    points, text = spec["layer"]
    assert points["title"] == "G"
    assert points["mark"] == {"type": "point", "filled": True, "size": 50}
    assert _enc(points, "x") == ("memory_gb", "quantitative", "memory per GPU [GB] (log scale)")
    assert points["encoding"]["x"]["scale"] == {"domain": [16, 320], "type": "log"}
    assert _enc(points, "y") == ("mem_bw_gbps", "quantitative", "memory bandwidth [GB/s]")
    assert _enc(points, "color") == ("segment", "nominal", "segment")
    assert text["mark"] == {"type": "text", "align": "left", "dx": 7, "fontSize": 10}
    assert _enc(text, "text") == ("label", "nominal", None)
    # sorted by memory; with a 100x memory span on a log axis every GPU keeps its own label
    (values,) = spec["datasets"].values()
    assert [(v["id"], v["label"]) for v in values] == [("l4", "l4"), ("h100-sxm", "h100-sxm"),
                                                       ("h200-sxm", "h200-sxm")]
    assert "tdp_w" not in values[0]


def test_memory_bandwidth_price_chart_log_axes_in_dollars_and_gpu_labels():
    offers = pd.DataFrame({"gpu_id": ["l4", "h100-sxm"], "id": ["a-l4-1x", "b-h100-sxm-8x"],
                           "usd_per_gpu_hour": [0.8, 2.5], "memory_gb": [24.0, 80.0],
                           "usd_per_gb_hour": [0.8 / 24, 2.5 / 80],
                           "usd_per_tbps_hour": [0.8 / 0.3, 2.5 / 3.35]})
    spec = _spec(charts.memory_bandwidth_price_chart(offers, title="P"))
    assert spec["title"] == "P"
    points, text = spec["layer"]
    assert points["mark"] == {"type": "point", "filled": True, "size": 60}
    assert _enc(points, "x") == ("usd_per_gb_hour", "quantitative",
                                 "price per GB of memory [USD per GB-hour]")
    assert points["encoding"]["x"]["scale"] == {"type": "log"}
    assert points["encoding"]["x"]["axis"] == {"format": "$.3f", "tickCount": 5}
    assert _enc(points, "y") == ("usd_per_tbps_hour", "quantitative",
                                 "price per TB/s of bandwidth [USD per TB/s-hour]")
    assert points["encoding"]["y"]["axis"] == {"format": "$.2f"}
    assert [t["field"] for t in points["encoding"]["tooltip"]] == [
        "gpu_id", "id", "usd_per_gpu_hour", "usd_per_gb_hour", "usd_per_tbps_hour"]
    assert text["mark"] == {"type": "text", "align": "left", "dx": 7, "fontSize": 10}
    assert _enc(text, "text") == ("gpu_id", "nominal", None)
    (values,) = spec["datasets"].values()
    assert "memory_gb" not in values[0]


def test_price_trend_chart_steps_on_a_log_price_axis():
    import datetime

    trend = pd.DataFrame({"gpu_id": ["a10", "a10"],
                          "as_of": [datetime.date(2025, 6, 5), datetime.date(2026, 5, 7)],
                          "usd_per_gpu_hour": [3.2, 0.86], "n_offers": [1, 2],
                          "cheapest_offer": ["x-a10-1x", "y-a10-1x"], "stale": [False, False]})
    spec = _spec(charts.price_trend_chart(trend, title="Trend"))
    assert spec["title"] == "Trend" and (spec["width"], spec["height"]) == (560, 300)
    assert spec["mark"] == {"type": "line", "interpolate": "step-after", "point": True}
    assert _enc(spec, "x") == ("date", "temporal", "price date")
    assert _enc(spec, "y") == ("usd_per_gpu_hour", "quantitative",
                               "cheapest on-demand price [USD per GPU-hour]")
    assert spec["encoding"]["y"]["scale"] == {"type": "log"}
    assert _enc(spec, "color") == ("gpu_id", "nominal", "GPU")
    (values,) = spec["datasets"].values()
    assert values[1] == {"gpu_id": "a10", "as_of": "2026-05-07", "usd_per_gpu_hour": 0.86,
                         "n_offers": 2, "cheapest_offer": "y-a10-1x", "date": "2026-05-07"}


def test_sensitivity_totals_chart_bars_by_decision_and_the_recommended_total():
    sens = pd.DataFrame({"factor": ["traffic", "prices", "horizon"],
                         "setting": ["x0.5", "high end", "12 months"],
                         "best_option": ["own 1 x l40s", "api: x", None],
                         "best_kind": ["owned", "api", None],
                         "total_usd": [90_000.0, 120_000.0, float("nan")],
                         "change_pct": [-10.0, 20.0, float("nan")],
                         "same_decision": [True, False, False]})
    spec = _spec(charts.sensitivity_totals_chart(sens, recommended_total_usd=100_000.0,
                                                 title="S"))
    assert (spec["width"], spec["height"]) == (420, 44)  # the row without a total is left out
    bars, rule = spec["layer"]
    assert bars["title"] == "S" and bars["mark"] == {"type": "bar"}
    assert _enc(bars, "x") == ("total_usd", "quantitative", "total over the horizon [USD]")
    assert bars["encoding"]["y"] == {"field": "label", "sort": None, "title": None,
                                     "type": "nominal"}
    assert _enc(bars, "color") == ("decision", "nominal", "decision")
    assert bars["encoding"]["color"]["scale"] == {"domain": ["same", "changes"]}
    assert rule["mark"] == {"type": "rule", "color": "#333333"}
    assert spec["datasets"][rule["data"]["name"]] == [{"total_usd": 100_000.0}]
    values = spec["datasets"][bars["data"]["name"]]
    assert [(v["label"], v["decision"]) for v in values] == [("traffic: x0.5", "same"),
                                                             ("prices: high end", "changes")]


def test_scenario_cost_per_request_chart_log_bars_from_a_power_of_ten_one_row_per_scenario():
    scenarios = pd.DataFrame({"scenario": ["Scenario 1", "Scenario 1", "Scenario 2"],
                              "option": ["GPU (article)", "GPU (corrected)", "API (corrected)"],
                              "basis": ["article", "corrected", "corrected"],
                              "usd_per_request": [0.0005, 0.0418, 0.00032], "other": [1, 2, 3]})
    spec = _spec(charts.scenario_cost_per_request_chart(scenarios, title="S"))
    assert spec["title"] == "S" and spec["width"] == 380
    assert spec["mark"] == {"type": "bar"}
    assert _enc(spec, "x") == ("usd_per_request", "quantitative",
                               "cost per request [USD, log scale]")
    assert spec["encoding"]["x"]["scale"] == {"type": "log"}
    assert spec["encoding"]["x2"] == {"datum": 0.0001}  # 10^floor(log10(0.00032))
    assert spec["encoding"]["y"] == {"field": "option", "type": "nominal", "sort": None,
                                     "title": None, "axis": {"labelLimit": 300}}
    assert _enc(spec, "color") == ("basis", "nominal", "basis")
    assert _enc(spec, "row") == ("scenario", "nominal", None)
    assert spec["encoding"]["row"]["header"] == {"labelAngle": 0, "labelAlign": "left"}
    assert [t["field"] for t in spec["encoding"]["tooltip"]] == ["option", "basis",
                                                                 "usd_per_request"]
    assert spec["resolve"] == {"scale": {"y": "independent"}}
    (values,) = spec["datasets"].values()
    assert "other" not in values[0]


def test_option_cost_per_request_chart_cheapest_first_coloured_by_kind():
    options = pd.DataFrame({"option": ["rent, always on", "own", "API x"],
                            "kind": ["cloud, always on", "self-hosted", "API"],
                            "usd_per_request": ["0.25", "0.04", "0.0007"]})
    spec = _spec(charts.option_cost_per_request_chart(
        options, kinds=("cloud, always on", "self-hosted", "API"), title="O"))
    assert spec["title"] == "O" and spec["mark"] == {"type": "bar"}
    assert _enc(spec, "x") == ("usd_per_request", "quantitative",
                               "cost per request [USD, log scale]")
    assert spec["encoding"]["x"]["scale"] == {"type": "log"}
    assert spec["encoding"]["x2"] == {"datum": 0.0001}
    assert spec["encoding"]["y"] == {"field": "option", "type": "nominal", "sort": "x",
                                     "title": None, "axis": {"labelLimit": 300}}
    assert _enc(spec, "color") == ("kind", "nominal", "option")
    assert spec["encoding"]["color"]["sort"] == ["cloud, always on", "self-hosted", "API"]
    assert [t["field"] for t in spec["encoding"]["tooltip"]] == ["option", "usd_per_request"]
    (values,) = spec["datasets"].values()
    assert [v["usd_per_request"] for v in values] == [0.25, 0.04, 0.0007]  # text to numbers


def test_monthly_cost_vs_volume_chart_replica_steps_api_lines_and_marked_volumes():
    curve = pd.DataFrame({"tokens_per_month": [1e6, 1e9, 1e6, 1e9],
                          "usd_per_month": [2000.0, 4000.0, 0.5, 500.0],
                          "option": ["replicas", "replicas", "API a", "API a"],
                          "kind": ["replicas", "replicas", "api", "api"]})
    marks = pd.DataFrame({"tokens_per_month": [1e8, 3e7], "label": ["article", "your volume"]})
    spec = _spec(charts.monthly_cost_vs_volume_chart(curve, marks, title="M"))
    assert spec["title"] == "M"
    steps, apis, rules, text = spec["layer"]
    assert steps["mark"] == {"type": "line", "interpolate": "step-after",
                             "point": {"opacity": 0, "size": 80, "clip": True}}
    assert apis["mark"] == {"type": "line", "point": {"opacity": 0, "size": 80, "clip": True}}
    assert _tips(steps) == _tips(apis) == ["option", "tokens_per_month", "usd_per_month"]
    for layer in (steps, apis):
        assert _enc(layer, "x") == ("tokens_per_month", "quantitative",
                                    "volume [tokens/month, input + output]")
        assert _enc(layer, "y") == ("usd_per_month", "quantitative", "cost [USD/month]")
        assert layer["encoding"]["x"]["scale"] == layer["encoding"]["y"]["scale"] == {
            "type": "log"}
        assert _enc(layer, "color") == ("option", "nominal", None)
        assert layer["encoding"]["color"]["legend"] == {"orient": "bottom", "columns": 2,
                                                        "symbolType": "stroke"}
    assert [v["usd_per_month"] for v in spec["datasets"][steps["data"]["name"]]] == [2000.0,
                                                                                       4000.0]
    assert [v["usd_per_month"] for v in spec["datasets"][apis["data"]["name"]]] == [0.5, 500.0]
    assert rules["mark"] == {"type": "rule", "strokeDash": [4, 3], "color": "#555555"}
    assert _enc(rules, "x") == ("tokens_per_month", "quantitative", None)
    assert text["mark"] == {"type": "text", "angle": 270, "align": "right", "dx": -4, "dy": -4,
                            "fontSize": 10, "baseline": "bottom"}
    assert _enc(text, "text") == ("label", "nominal", None)
    assert text["encoding"]["y"] == {"value": 0}


def test_hybrid_daily_cost_chart_three_lines_and_the_cheapest_split_marked():
    sweep = pd.DataFrame({"owned_replicas": [0, 1, 2], "usd_per_day": [420.0, 390.0, 400.0],
                          "owned_usd_per_day": [0.0, 100.0, 200.0],
                          "cloud_usd_per_day": [420.0, 290.0, 200.0]})
    spec = _spec(charts.hybrid_daily_cost_chart(sweep, title="H"))
    lines, point, label = spec["layer"]
    assert lines["title"] == "H" and lines["mark"] == {"type": "line", "point": True}
    assert _enc(lines, "x") == ("owned_replicas", "quantitative", "owned replicas [-]")
    assert lines["encoding"]["x"]["axis"] == {"tickMinStep": 1, "format": "d"}
    assert _enc(lines, "y") == ("usd", "quantitative", "cost [USD/day]")
    assert _enc(lines, "color") == ("part", "nominal", None)
    assert lines["encoding"]["color"]["sort"] == ["total", "owned", "rented (burst)"]
    long = spec["datasets"][lines["data"]["name"]]
    assert [(v["owned_replicas"], v["part"], v["usd"]) for v in long[:4]] == [
        (0, "total", 420.0), (1, "total", 390.0), (2, "total", 400.0), (0, "owned", 0.0)]
    assert len(long) == 9
    assert _tips(lines) == ["owned_replicas", "part", "usd"]
    assert point["mark"] == {"type": "point", "size": 220, "shape": "diamond",
                             "color": "#D55E00", "filled": True}
    assert label["mark"] == {"type": "text", "dy": -18, "fontSize": 11, "color": "#D55E00"}
    assert _enc(label, "text") == ("label", "nominal", None)
    assert spec["datasets"][point["data"]["name"]] == [
        {"owned_replicas": 1, "usd": 390.0, "label": "cheapest: 1 owned"}]


def test_replicas_by_hour_chart_stacks_owned_in_use_idle_and_rented():
    by_hour = pd.DataFrame({"hour": [9, 3], "owned_replicas": [2, 2], "replicas_needed": [5, 1],
                            "cloud_replicas": [3, 0], "usd": [1.0, 2.0]})
    spec = _spec(charts.replicas_by_hour_chart(by_hour, title="R"))
    assert spec["title"] == "R" and spec["height"] == 220
    assert spec["mark"] == {"type": "bar"}
    assert _enc(spec, "x") == ("hour", "ordinal", "hour of day [h]")
    assert _enc(spec, "y") == ("replicas", "quantitative", "replicas [-]")
    assert _enc(spec, "color") == ("kind", "nominal", None)
    assert spec["encoding"]["color"]["sort"] == ["owned, in use", "owned, idle", "rented"]
    assert spec["encoding"]["order"] == {"field": "kind", "type": "nominal"}
    (values,) = spec["datasets"].values()
    assert [(v["hour"], v["kind"], v["replicas"]) for v in values] == [
        (9, "owned, in use", 2), (3, "owned, in use", 1), (9, "owned, idle", 0),
        (3, "owned, idle", 1), (9, "rented", 3), (3, "rented", 0)]
    assert _tips(spec) == ["hour", "kind", "replicas"]


def test_importing_the_charts_skips_the_iri_grammar_and_leaves_it_importable():
    # jsonschema's optional IRI checker builds a grammar for seconds at import; hwcost.charts
    # loads Altair without it and leaves no mark behind, so a later import works as usual
    import subprocess
    import sys

    code = "import sys, hwcost.charts; print(sys.modules.get('rfc3987_syntax', 'absent'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "absent"
    # a process that has the module already keeps it (a stand-in, to skip the grammar here)
    code = ("import sys, types; m = types.ModuleType('rfc3987_syntax'); "
            "sys.modules['rfc3987_syntax'] = m; import hwcost.charts; "
            "print(sys.modules['rfc3987_syntax'] is m)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"
