"""Chart builders are tested on their specification; rendering is static and stable."""

import altair as alt
import pandas as pd
import pytest

from hwcost import charts

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
