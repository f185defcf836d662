"""One look for every chart, rendered statically so it shows everywhere.

Charts are Altair specifications rendered by vl-convert into a single output bundle holding
both SVG and PNG, with the Vega-Lite specification in the output's metadata:

- the HTML report shows the SVG and, once its local copy of Vega (``vega-bundle.js`` beside
  the pages) has run, replaces it by the same chart made interactive (tooltips; pan and zoom
  where a chart enables them), with no network access (:func:`hwcost.report.to_html`);
- JupyterLab shows the PNG while a freshly cloned notebook is untrusted and the SVG once
  trusted;
- GitHub's notebook viewer shows the image as well.

The SVG is byte-identical between runs, so committed outputs can be compared by nbval;
the PNG is not compared.

Chart builders used by several notebooks live here too; each returns an ``alt.Chart`` whose
``to_dict()`` is tested.
"""

from __future__ import annotations

import base64
import json
import sys

import numpy as np
import pandas as pd

from .errors import HwcostError


def _import_altair():
    """Altair, imported without jsonschema's optional IRI format checker.

    jsonschema imports ``rfc3987_syntax`` when Altair loads it, if installed, and that
    module builds a grammar at import (about 1.3-2.8 s: jsonschema issue 1428) for a string
    format no chart schema uses. While Altair and jsonschema load, the module is marked
    absent, so jsonschema skips that one check as it does when the package is not installed;
    the mark is then removed, so a later ``import rfc3987_syntax`` works as usual. A process
    that has imported it already keeps it.
    """
    marked = "rfc3987_syntax" not in sys.modules and "jsonschema" not in sys.modules
    if marked:
        sys.modules["rfc3987_syntax"] = None
    try:
        import altair
    finally:
        if marked and sys.modules.get("rfc3987_syntax", False) is None:
            del sys.modules["rfc3987_syntax"]
    return altair


alt = _import_altair()

THEME_NAME = "hwcost"
RENDERER_NAME = "hwcost-static"

# Colour-blind-safe categorical palette (Okabe & Ito, 2008).
PALETTE = (
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7",
    "#56B4E9", "#F0E442", "#000000",
)
FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"
WIDTH = 520
HEIGHT = 300
PNG_SCALE = 1.5


def theme_config() -> dict:
    """The Vega-Lite ``config`` of the hwcost theme."""
    return {
        "config": {
            "view": {"continuousWidth": WIDTH, "continuousHeight": HEIGHT, "stroke": None},
            "background": "white",
            "font": FONT,
            "range": {"category": list(PALETTE)},
            "axis": {
                "labelFontSize": 11,
                "titleFontSize": 12,
                "titleFontWeight": "normal",
                "gridColor": "#e6e6e6",
                "domainColor": "#888888",
                "tickColor": "#888888",
            },
            "legend": {"labelFontSize": 11, "titleFontSize": 12, "titleFontWeight": "normal"},
            "title": {"fontSize": 14, "anchor": "start", "fontWeight": "bold", "subtitleFontSize": 11,
                      "subtitleColor": "#555555"},
            "line": {"strokeWidth": 2},
            "point": {"size": 50, "filled": True},
            "bar": {"color": PALETTE[0]},
        }
    }


def _render_bundle(spec: dict, **_metadata) -> tuple[dict, dict]:
    """Altair renderer: one display bundle with SVG and PNG made by vl-convert.

    The chart is laid out once (Vega-Lite to SVG); the PNG rasterizes that SVG rather than
    running the Vega pipeline a second time (about a third less time per chart).

    The Vega-Lite specification travels in the output's metadata (:data:`SPEC_METADATA_KEY`,
    compact JSON text): viewers show the SVG or PNG and ignore it, output comparisons skip
    metadata, and the HTML report turns it back into an interactive chart
    (:func:`hwcost.report.to_html`).
    """
    import vl_convert as vlc

    svg = vlc.vegalite_to_svg(spec)
    png = vlc.svg_to_png(svg, scale=PNG_SCALE)
    bundle = {
        "image/svg+xml": svg,
        "image/png": base64.b64encode(png).decode("ascii"),
        "text/plain": "<chart: " + _title_of(spec) + ">",
    }
    try:
        text = spec_text(spec)
    except ValueError:  # a value JSON cannot hold (NaN): the static chart only
        return bundle, {}
    return bundle, {SPEC_METADATA_KEY: {"vegalite": text}}


#: Key of a chart output's metadata that holds its Vega-Lite specification.
SPEC_METADATA_KEY = "hwcost"


def spec_text(spec: dict) -> str:
    """A Vega-Lite specification as compact JSON text (one line in a notebook file)."""
    return json.dumps(spec, separators=(",", ":"), ensure_ascii=False, allow_nan=False,
                      sort_keys=False)


def spec_of_output(output) -> dict | None:
    """The Vega-Lite specification a chart output carries in its metadata, or None."""
    meta = (output.get("metadata") or {}).get(SPEC_METADATA_KEY)
    text = meta.get("vegalite") if isinstance(meta, dict) else None
    if not isinstance(text, str):
        return None
    try:
        spec = json.loads(text)
    except ValueError:
        return None
    return spec if isinstance(spec, dict) else None


def _title_of(spec: dict) -> str:
    title = spec.get("title")
    if isinstance(title, dict):
        title = title.get("text")
    if isinstance(title, list):
        title = " ".join(title)
    return str(title) if title else "chart"


def enable() -> None:
    """Register and enable the hwcost theme and static renderer (idempotent)."""
    if THEME_NAME not in alt.theme.names():
        alt.theme.register(THEME_NAME, enable=False)(lambda: alt.theme.ThemeConfig(theme_config()))
    alt.theme.enable(THEME_NAME)
    if RENDERER_NAME not in alt.renderers.names():
        alt.renderers.register(RENDERER_NAME, _render_bundle)
    alt.renderers.enable(RENDERER_NAME)
    alt.data_transformers.disable_max_rows()


def to_png(chart: alt.TopLevelMixin, scale: float = PNG_SCALE) -> bytes:
    """PNG bytes of a chart, with the hwcost theme applied."""
    import vl_convert as vlc

    enable()
    return vlc.vegalite_to_png(chart.to_dict(), scale=scale)


def to_svg(chart: alt.TopLevelMixin) -> str:
    """SVG text of a chart, with the hwcost theme applied."""
    import vl_convert as vlc

    enable()
    return vlc.vegalite_to_svg(chart.to_dict())


# ----------------------------------------------------------------------------------------
# Shared chart builders
# ----------------------------------------------------------------------------------------
def _require(df: pd.DataFrame, columns) -> pd.DataFrame:
    """The columns a chart uses (only those travel into the specification)."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise HwcostError(
            f"chart data lacks column(s) {', '.join(missing)}; has {', '.join(map(str, df.columns))}"
        )
    return df[list(dict.fromkeys(columns))].reset_index(drop=True)


def line(df: pd.DataFrame, x: str, y: str, *, color: str | None = None, title: str = "",
         x_title: str | None = None, y_title: str | None = None, log_x: bool = False,
         log_y: bool = False, points: bool = True) -> alt.Chart:
    """A line chart of ``y`` against ``x`` (one line per ``color`` value)."""
    df = _require(df, [c for c in (x, y, color) if c])
    enc = {
        "x": alt.X(x, title=x_title or x, scale=alt.Scale(type="log") if log_x else alt.Undefined),
        "y": alt.Y(y, title=y_title or y, scale=alt.Scale(type="log") if log_y else alt.Undefined),
        "tooltip": [c for c in (x, y, color) if c],
    }
    if color:
        enc["color"] = alt.Color(color, title=color)
    return alt.Chart(df, title=title).mark_line(point=points).encode(**enc)


def bar(df: pd.DataFrame, x: str, y: str, *, color: str | None = None, title: str = "",
        x_title: str | None = None, y_title: str | None = None, sort: str | None = "-x") -> alt.Chart:
    """A horizontal bar chart: quantitative ``x`` per category ``y``."""
    df = _require(df, [c for c in (x, y, color) if c])
    enc = {
        "x": alt.X(x, title=x_title or x),
        "y": alt.Y(y, title=y_title or y, sort=sort),
        "tooltip": [c for c in (y, x, color) if c],
    }
    if color:
        enc["color"] = alt.Color(color, title=color)
    return alt.Chart(df, title=title).mark_bar().encode(**enc)


def scatter(df: pd.DataFrame, x: str, y: str, *, color: str | None = None, title: str = "",
            x_title: str | None = None, y_title: str | None = None, log_x: bool = False,
            log_y: bool = False, label: str | None = None) -> alt.Chart:
    """A scatter plot; ``label`` adds a text label next to each point."""
    df = _require(df, [c for c in (x, y, color, label) if c])
    enc = {
        "x": alt.X(x, title=x_title or x, scale=alt.Scale(type="log") if log_x else alt.Undefined),
        "y": alt.Y(y, title=y_title or y, scale=alt.Scale(type="log") if log_y else alt.Undefined),
        "tooltip": [c for c in (label, x, y, color) if c],
    }
    if color:
        enc["color"] = alt.Color(color, title=color)
    base = alt.Chart(df, title=title)
    chart = base.mark_point().encode(**enc)
    if label:
        text = base.mark_text(align="left", dx=6, fontSize=10).encode(
            x=enc["x"], y=enc["y"], text=alt.Text(label)
        )
        return chart + text
    return chart


def shared_labels(df: pd.DataFrame, x: str, y: str, label: str, *, x_frac: float = 0.03,
                  y_frac: float = 0.03, log_x: bool = False, log_y: bool = False) -> pd.Series:
    """Text labels for a scatter, one per cluster of points that would overprint.

    Points closer than ``x_frac`` of the x range and ``y_frac`` of the y range (measured on
    a log axis where ``log_x``/``log_y``) form a cluster; its first point gets the members'
    labels joined by " / ", the others get "".

    Returns
    -------
    pandas.Series
        Aligned with ``df.index``.
    """
    import numpy as np

    df = _require(df, [x, y, label]).set_axis(df.index)

    def scaled(col, log):
        v = df[col].astype(float).to_numpy()
        if log:
            v = np.log10(np.maximum(v, 1e-300))
        span = float(np.nanmax(v) - np.nanmin(v)) or 1.0
        return (v - np.nanmin(v)) / span

    xs, ys = scaled(x, log_x), scaled(y, log_y)
    heads: list[int] = []
    members: dict[int, list[int]] = {}
    for i in np.lexsort((ys, xs)):
        head = next((h for h in heads if abs(xs[h] - xs[i]) <= x_frac and abs(ys[h] - ys[i]) <= y_frac),
                    None)
        if head is None:
            heads.append(i)
            members[i] = [i]
        else:
            members[head].append(i)
    names = df[label].astype(str).to_numpy()
    out = [""] * len(df)
    for head, group in members.items():
        out[head] = " / ".join(names[j] for j in group)
    return pd.Series(out, index=df.index, name="label")


def tornado(df: pd.DataFrame, *, input_col: str = "input", low_col: str = "output_low",
            high_col: str = "output_high", base_value: float | None = None,
            title: str = "", x_title: str = "") -> alt.Chart:
    """A tornado chart: one bar per input from its low to its high output, widest on top."""
    df = _require(df, [input_col, low_col, high_col])
    data = df.assign(_swing=(df[high_col] - df[low_col]).abs())
    bars = alt.Chart(data, title=title).mark_bar().encode(
        x=alt.X(low_col, title=x_title or "output"),
        x2=high_col,
        y=alt.Y(input_col, title=None, sort=alt.EncodingSortField("_swing", order="descending")),
        tooltip=[input_col, low_col, high_col],
    )
    if base_value is None:
        return bars
    rule = alt.Chart(pd.DataFrame({"base": [base_value]})).mark_rule(color="#333333").encode(x="base")
    return bars + rule


#: Points drawn on a line only to carry its tooltips: invisible, and clipped to the plot so they
#: never widen the chart (the static chart is unchanged).
HOVER_POINTS = alt.OverlayMarkDef(opacity=0, size=80, clip=True)
#: The legend of a line with :data:`HOVER_POINTS`: line strokes, as for a line alone (points
#: would otherwise turn its symbols into circles).
LINE_LEGEND = alt.Legend(symbolType="stroke")
USD = "$,.2f"  # tooltip format of an amount in dollars


def _tip(field: str, title: str | None = None, fmt: str | None = None) -> alt.Tooltip:
    """A tooltip entry: ``field`` (with its type, e.g. ``"usd:Q"``), titled and formatted."""
    return alt.Tooltip(field, title=title if title is not None else alt.Undefined,
                       format=fmt if fmt is not None else alt.Undefined)


def _log2_batch_axis(title: str = "batch size [sequences]") -> alt.X:
    return alt.X("batch_size:Q", scale=alt.Scale(type="log", base=2), title=title)


def _title(text: str, subtitle: str | None = None):
    return alt.TitleParams(text, subtitle=subtitle) if subtitle else text


# ----------------------------------------------------------------------------------------
# The catalog (00_index)
# ----------------------------------------------------------------------------------------
def gpu_memory_bandwidth_chart(gpus: pd.DataFrame, *, title: str = "",
                               memory_domain_gb=(16, 320)) -> alt.LayerChart:
    """Memory bandwidth against memory capacity, one labelled point per GPU.

    Parameters
    ----------
    gpus : pandas.DataFrame
        One row per GPU: ``id``, ``segment``, ``memory_gb`` [GB] and ``mem_bw_gbps`` [GB/s]
        (as from :func:`hwcost.catalog.gpus`).
    title : str
        Chart title.
    memory_domain_gb : tuple of float
        Ends of the logarithmic memory axis. [GB]

    Returns
    -------
    altair.LayerChart
        Points coloured by segment and their labels (GPUs that would overprint share one).
    """
    df = _require(gpus, ["id", "segment", "memory_gb", "mem_bw_gbps"]).sort_values(
        ["memory_gb", "mem_bw_gbps"])
    df["label"] = shared_labels(df, "memory_gb", "mem_bw_gbps", "id", log_x=True)
    base = alt.Chart(df, title=title)
    x = alt.X("memory_gb:Q", title="memory per GPU [GB] (log scale)",
              scale=alt.Scale(type="log", domain=list(memory_domain_gb)))
    y = alt.Y("mem_bw_gbps:Q", title="memory bandwidth [GB/s]")
    points = base.mark_point(filled=True, size=50).encode(
        x=x, y=y, color=alt.Color("segment:N", title="segment"),
        tooltip=["id", "memory_gb", "mem_bw_gbps"])
    text = base.mark_text(align="left", dx=7, fontSize=10).encode(x=x, y=y, text="label:N")
    return (points + text).properties(width=640, height=360)


# ----------------------------------------------------------------------------------------
# Cloud prices (02_provider_pricing)
# ----------------------------------------------------------------------------------------
def memory_bandwidth_price_chart(offers: pd.DataFrame, *, title: str = "") -> alt.LayerChart:
    """Price per GB of memory against price per TB/s of bandwidth, one labelled point per offer.

    Parameters
    ----------
    offers : pandas.DataFrame
        ``gpu_id`` (the label), ``id`` (offer), ``usd_per_gpu_hour`` [USD/h],
        ``usd_per_gb_hour`` [USD/(GB h)] and ``usd_per_tbps_hour`` [USD/(TB/s h)] (as from
        :func:`hwcost.pricing.offer_value`, e.g. the cheapest offer per GPU type).
    title : str
        Chart title.

    Returns
    -------
    altair.LayerChart
        Points on log-log axes, labelled with their GPU.
    """
    df = _require(offers, ["gpu_id", "id", "usd_per_gpu_hour", "usd_per_gb_hour",
                           "usd_per_tbps_hour"])
    points = alt.Chart(df).mark_point(filled=True, size=60).encode(
        x=alt.X("usd_per_gb_hour:Q", title="price per GB of memory [USD per GB-hour]",
                scale=alt.Scale(type="log"), axis=alt.Axis(format="$.3f", tickCount=5)),
        y=alt.Y("usd_per_tbps_hour:Q", title="price per TB/s of bandwidth [USD per TB/s-hour]",
                scale=alt.Scale(type="log"), axis=alt.Axis(format="$.2f")),
        tooltip=["gpu_id", "id", "usd_per_gpu_hour", "usd_per_gb_hour", "usd_per_tbps_hour"])
    text = points.mark_text(align="left", dx=7, fontSize=10).encode(text="gpu_id:N")
    return (points + text).properties(title=title)


def price_trend_chart(trend: pd.DataFrame, *, title: str = "") -> alt.Chart:
    """Cheapest price per GPU-hour of each GPU class against the price date, as steps.

    Parameters
    ----------
    trend : pandas.DataFrame
        ``gpu_id``, ``as_of`` (date), ``usd_per_gpu_hour`` [USD/h], ``n_offers`` and
        ``cheapest_offer`` (as from :func:`hwcost.pricing.price_trend`).
    title : str
        Chart title.

    Returns
    -------
    altair.Chart
        One stepped line per GPU class on a log price axis.
    """
    df = _require(trend, ["gpu_id", "as_of", "usd_per_gpu_hour", "n_offers", "cheapest_offer"])
    df = df.assign(date=pd.to_datetime(df["as_of"]).dt.strftime("%Y-%m-%d"),
                   as_of=df["as_of"].astype(str))
    return alt.Chart(df).mark_line(interpolate="step-after", point=True).encode(
        x=alt.X("date:T", title="price date"),
        y=alt.Y("usd_per_gpu_hour:Q", title="cheapest on-demand price [USD per GPU-hour]",
                scale=alt.Scale(type="log")),
        color=alt.Color("gpu_id:N", title="GPU"),
        tooltip=["gpu_id", "as_of", "usd_per_gpu_hour", "n_offers", "cheapest_offer"],
    ).properties(title=title, width=560, height=300)


# ----------------------------------------------------------------------------------------
# Decision memo (11_decision_memo)
# ----------------------------------------------------------------------------------------
def sensitivity_totals_chart(sensitivity: pd.DataFrame, *, recommended_total_usd: float,
                             title: str = "") -> alt.LayerChart:
    """Total of the winning option under each change, against the recommendation's total.

    Parameters
    ----------
    sensitivity : pandas.DataFrame
        One row per change: ``factor``, ``setting``, ``best_option``, ``total_usd`` [USD]
        and ``same_decision`` (bool) (as :attr:`hwcost.memo.Memo.sensitivity`); rows without
        a total are left out.
    recommended_total_usd : float
        The recommendation's total over the horizon (vertical rule). [USD]
    title : str
        Chart title.

    Returns
    -------
    altair.LayerChart
        One bar per change, labelled "factor: setting", coloured by whether the decision
        stays the same; 22 pixels high per bar.
    """
    df = _require(sensitivity, ["factor", "setting", "best_option", "total_usd",
                                "same_decision"]).dropna(subset=["total_usd"])
    df = df.assign(label=df["factor"] + ": " + df["setting"],
                   decision=df["same_decision"].map({True: "same", False: "changes"}))
    rule = alt.Chart(pd.DataFrame({"total_usd": [recommended_total_usd]})).mark_rule(
        color="#333333").encode(x="total_usd:Q")
    bars = alt.Chart(df, title=title).mark_bar().encode(
        x=alt.X("total_usd:Q", title="total over the horizon [USD]"),
        y=alt.Y("label:N", title=None, sort=None),
        color=alt.Color("decision:N", title="decision",
                        scale=alt.Scale(domain=["same", "changes"])),
        tooltip=["label", "best_option", "total_usd"])
    return (bars + rule).properties(width=420, height=22 * len(df))


# ----------------------------------------------------------------------------------------
# 03: self-hosting economics
# ----------------------------------------------------------------------------------------
def busy_gpu_hour_cost_chart(parts: pd.DataFrame, bands: pd.DataFrame, *, options,
                             title: str = "") -> alt.FacetChart:
    """Cost of a busy GPU-hour by component, with its P10-P90 band and the cloud price.

    Parameters
    ----------
    parts : pandas.DataFrame
        One row per option and cost component: ``option``, ``component`` and ``usd``
        [USD per busy GPU-hour].
    bands : pandas.DataFrame
        One row per option: ``option``, ``p10``, ``p50`` and ``p90`` of the total
        [USD per busy GPU-hour] and ``cloud``, the cheapest cloud rate [USD/GPU-hour].
    options : sequence of str
        Order of the panels.
    title : str
        Chart title.

    Returns
    -------
    altair.FacetChart
        One panel per option (independent y scales): stacked components, a black P10-P90
        rule with a tick at the P50 and a white diamond at the cloud price.
    """
    parts = _require(parts, ["option", "component", "usd"])
    bands = _require(bands, ["option", "p10", "p50", "p90", "cloud"])
    data = pd.concat([parts, bands], ignore_index=True)
    base = alt.Chart().encode(
        x=alt.X("option:N", title=None, axis=alt.Axis(labels=False, ticks=False)))
    bars = base.mark_bar().encode(
        y=alt.Y("sum(usd):Q", title="USD per busy GPU-hour"),
        color=alt.Color("component:N", title="component"),
        order=alt.Order("component:N"),
        tooltip=["option:N", "component:N",
                 _tip("sum(usd):Q", "USD per busy GPU-hour", "$.3f")],
    ).transform_filter("isValid(datum.component)")
    spread = ["option:N", _tip("p10:Q", "P10 [USD/h]", "$.3f"), _tip("p50:Q", "P50 [USD/h]", "$.3f"),
              _tip("p90:Q", "P90 [USD/h]", "$.3f")]
    band = base.mark_rule(strokeWidth=2, color="black").encode(
        y="p10:Q", y2="p90:Q", tooltip=spread).transform_filter("isValid(datum.p10)")
    mid = base.mark_tick(color="black", thickness=2, size=18).encode(
        y="p50:Q", tooltip=spread).transform_filter("isValid(datum.p50)")
    cloud = base.mark_point(shape="diamond", filled=True, size=160, color="white",
                            stroke="black", strokeWidth=1.5, opacity=1).encode(
        y="cloud:Q", tooltip=["option:N", _tip("cloud:Q", "cheapest cloud [USD/GPU-hour]", "$.3f")],
    ).transform_filter("isValid(datum.cloud)")
    return alt.layer(bars, band, mid, cloud, data=data).properties(width=150, height=280).facet(
        column=alt.Column("option:N", title=None, sort=list(options))
    ).resolve_scale(y="independent").properties(title=title)


def break_even_months_chart(curves: pd.DataFrame, *, service_life_months: float,
                            title: str = "") -> alt.LayerChart:
    """Months until buying beats renting against GPU-hours used per month, one line per option.

    Parameters
    ----------
    curves : pandas.DataFrame
        ``gpu_hours_per_month`` [GPU-hours per GPU per month], ``months`` (break-even)
        [months] and ``option`` (as from :func:`hwcost.economics.break_even_curve`, the
        reached points only).
    service_life_months : float
        End of the service life, drawn as a dashed labelled rule. [months]
    title : str
        Chart title.
    """
    lines = line(curves, "gpu_hours_per_month", "months", color="option",
                 x_title="GPU-hours used per GPU per month (730 = always busy)",
                 y_title="break-even [months]", log_y=True)
    rule = alt.Chart(pd.DataFrame({"months": [service_life_months]})).mark_rule(
        strokeDash=[6, 4], color="#555555").encode(y="months:Q")
    text = alt.Chart(pd.DataFrame({"months": [service_life_months],
                                   "label": ["end of service life"]})).mark_text(
        align="left", dx=4, dy=-6, color="#555555").encode(
        y="months:Q", x=alt.value(4), text="label:N")
    return (lines + rule + text).properties(title=title)


def busy_gpu_hour_tornado_chart(tornado: pd.DataFrame) -> alt.Chart:
    """Change in the cost of a busy GPU-hour when one input moves from low to high.

    Parameters
    ----------
    tornado : pandas.DataFrame
        One row per option and input: ``option``, ``input``, ``low`` and ``high`` (the
        input's range), ``low_change`` and ``high_change`` (relative change of the cost,
        0.1 is 10 %) and ``swing`` (inputs are sorted by their largest swing).

    Returns
    -------
    altair.Chart
        Horizontal bars from ``low_change`` to ``high_change``, one row per input, offset
        and coloured by option.
    """
    df = _require(tornado, ["option", "input", "low", "high", "low_change", "high_change",
                            "swing"])
    order = df.groupby("input")["swing"].max().sort_values(ascending=False).index.tolist()
    return alt.Chart(df, title="Change in the cost of a busy GPU-hour when one input moves "
                     "from low to high").mark_bar().encode(
        x=alt.X("low_change:Q", title="change vs the typical case", axis=alt.Axis(format="%")),
        x2="high_change:Q",
        y=alt.Y("input:N", sort=order, title=None), yOffset=alt.YOffset("option:N"),
        color=alt.Color("option:N", title="option"),
        tooltip=["option", "input", "low", "high", alt.Tooltip("low_change:Q", format=".0%"),
                 alt.Tooltip("high_change:Q", format=".0%")]).properties(height=320)


# ----------------------------------------------------------------------------------------
# 08: selection flowchart
# ----------------------------------------------------------------------------------------
def cost_latency_frontier_chart(pareto: pd.DataFrame, *, horizon_months: float,
                                title: str = "") -> alt.FacetChart:
    """Total cost against latency for every option, the Pareto frontier joined.

    Parameters
    ----------
    pareto : pandas.DataFrame
        One row per option and latency metric: ``option``, ``kind``, ``total_usd`` [USD],
        ``latency_s`` [s], ``metric`` (panel, e.g. "p95 TTFT") and ``frontier``
        ("on the frontier" or "dominated").
    horizon_months : float
        Planning horizon, named in the y-axis title. [months]
    title : str
        Chart title.

    Returns
    -------
    altair.FacetChart
        One panel per metric (in reverse alphabetical order, independent x scales): faint
        points for every option, the frontier as a line through bold points.
    """
    df = _require(pareto, ["option", "kind", "total_usd", "latency_s", "metric", "frontier"])
    xy = dict(x=alt.X("latency_s:Q", title="latency at the SLO percentile [s]"),
              y=alt.Y("total_usd:Q", title=f"total cost over {horizon_months:g} months [USD]",
                      scale=alt.Scale(type="log")))
    kind = alt.Color("kind:N", title="kind")
    on_front = "datum.frontier == 'on the frontier'"
    dots = alt.Chart(df).mark_point(opacity=0.3, size=20).encode(
        **xy, color=kind, tooltip=["option", "kind", _tip("total_usd:Q", "total [USD]", "$,.0f"),
                                   _tip("latency_s:Q", "latency [s]", ".3g")])
    edge = alt.Chart(df).mark_line(color="#333333").encode(
        **xy, order="latency_s:Q").transform_filter(on_front)
    tops = alt.Chart(df).mark_point(size=90, filled=True, opacity=1).encode(
        **xy, color=kind, tooltip=["option", "total_usd", "latency_s"]).transform_filter(on_front)
    return alt.layer(dots, edge, tops).properties(width=330, height=280).facet(
        column=alt.Column("metric:N", title=None, sort=sorted(set(df["metric"]), reverse=True)),
        title=title).resolve_scale(x="independent")


def staff_time_cost_chart(lines: pd.DataFrame, *, horizon_months: float) -> alt.Chart:
    """Total cost of the best option of each kind against the staff time for owned hardware.

    Parameters
    ----------
    lines : pandas.DataFrame
        ``staff_fraction`` (share of one administrator, 0.05 is 5 %), ``kind`` and
        ``total_usd`` [USD] (as :attr:`hwcost.recommend.staff_sensitivity` ``.lines``).
    horizon_months : float
        Planning horizon, named in the y-axis title. [months]
    """
    df = _require(lines, ["staff_fraction", "kind", "total_usd"])
    df = df.assign(staff_pct=100 * df["staff_fraction"], option="best " + df["kind"])
    return alt.Chart(df, title="Best option of each kind against the staff time for "
                     "owned hardware").mark_line(point=HOVER_POINTS).encode(
        x=alt.X("staff_pct:Q", title="staff time for owned hardware [% of one administrator]"),
        y=alt.Y("total_usd:Q", title=f"total over {horizon_months:g} months [USD]",
                scale=alt.Scale(type="log")),
        color=alt.Color("option:N", title=None, legend=LINE_LEGEND),
        tooltip=["option", _tip("staff_pct:Q", "staff time [%]", ".0f"),
                 _tip("total_usd:Q", "total [USD]", "$,.0f")])


# ----------------------------------------------------------------------------------------
# Workloads and batching (01_workload_types)
# ----------------------------------------------------------------------------------------
def bandwidth_speed_chart(table: pd.DataFrame, *, title: str = "") -> alt.LayerChart:
    """Batch-1 speed against the replica's memory bandwidth, with the bandwidth bound.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per GPU: ``gpu_id``, ``segment``, ``min_n_gpus``, ``replica_bw_gbps``
        [GB/s], ``tokens_per_s_per_request`` [tokens/s] and
        ``bandwidth_bound_tokens_per_s`` [tokens/s] (as from
        :func:`hwcost.matching.bandwidth_speed_table`).
    title : str
        Chart title.

    Returns
    -------
    altair.LayerChart
        Points coloured by segment, their labels (points that would overprint share one)
        and the dashed bandwidth bound.
    """
    x, y = "replica_bw_gbps", "tokens_per_s_per_request"
    df = _require(table, ["gpu_id", "segment", "min_n_gpus", x, y, "bandwidth_bound_tokens_per_s"])
    df = df.assign(label=shared_labels(df, x, y, "gpu_id", x_frac=0.05, y_frac=0.06))
    points = alt.Chart(df, title=title).mark_point(size=70, filled=True).encode(
        x=alt.X(f"{x}:Q", title="memory bandwidth of the replica [GB/s]"),
        y=alt.Y(f"{y}:Q", title="batch-1 speed [tokens/s]"),
        color=alt.Color("segment:N", title="segment"),
        tooltip=["gpu_id", "min_n_gpus", y],
    )
    text = points.mark_text(align="left", dx=6, fontSize=9).encode(
        text="label:N", color=alt.value("#444")
    )
    bound = alt.Chart(df).mark_line(color="#999", strokeDash=[4, 3]).encode(
        x=f"{x}:Q", y="bandwidth_bound_tokens_per_s:Q"
    )
    return points + text + bound


def batch_throughput_chart(curve: pd.DataFrame, marks: pd.DataFrame, *, tpot_target_s: float,
                           title: str = "") -> alt.HConcatChart:
    """Replica throughput and per-user speed against batch size, side by side.

    Parameters
    ----------
    curve : pandas.DataFrame
        ``batch_size``, ``output_tokens_per_s`` and ``tokens_per_s_per_request``
        [tokens/s] (as from :func:`hwcost.matching.batch_curve`).
    marks : pandas.DataFrame
        Batch sizes to mark with a dashed rule: ``batch_size`` and ``what`` (legend text).
    tpot_target_s : float
        Time-per-output-token target [s], drawn as ``1 / tpot_target_s`` on the speed panel.
    title : str
        Title over both panels.
    """
    curve = _require(curve, ["batch_size", "output_tokens_per_s", "tokens_per_s_per_request"])
    marks = _require(marks, ["batch_size", "what"])
    x = _log2_batch_axis()
    rule = alt.Chart(marks).mark_rule(strokeDash=[5, 3]).encode(
        x="batch_size:Q",
        color=alt.Color("what:N", title="batch where", scale=alt.Scale(scheme="dark2"),
                        legend=alt.Legend(orient="bottom", labelLimit=320, columns=2)),
        tooltip=["what", "batch_size"],
    )
    agg = alt.Chart(curve).mark_line(point=True, color=PALETTE[0]).encode(
        x=x, y=alt.Y("output_tokens_per_s:Q", title="aggregate output [tokens/s]"),
        tooltip=["batch_size", _tip("output_tokens_per_s:Q", "aggregate [tokens/s]", ",.0f"),
                 _tip("tokens_per_s_per_request:Q", "per request [tokens/s]", ",.1f")])
    per = alt.Chart(curve).mark_line(point=True, color=PALETTE[1]).encode(
        x=x, y=alt.Y("tokens_per_s_per_request:Q", title="per request [tokens/s]"),
        tooltip=["batch_size", _tip("tokens_per_s_per_request:Q", "per request [tokens/s]", ",.1f"),
                 _tip("output_tokens_per_s:Q", "aggregate [tokens/s]", ",.0f")])
    target = alt.Chart(pd.DataFrame({"y": [1 / tpot_target_s]})).mark_rule(
        color=PALETTE[3]).encode(y="y:Q")
    return alt.hconcat(
        (agg + rule).properties(width=300, height=260, title="Throughput of the replica"),
        (per + target + rule).properties(width=300, height=260, title="Speed each user sees"),
    ).properties(title=alt.TitleParams(
        title, subtitle=f"red line: the TPOT target of {tpot_target_s:g} s; "
        "dashed: batch sizes named in the legend"))


def roofline_chart(intensity: pd.DataFrame, *, ridge_point: float, memory_batch: int,
                   title: str = "") -> alt.LayerChart:
    """Decode arithmetic intensity against batch size, with the GPU's ridge point.

    Parameters
    ----------
    intensity : pandas.DataFrame
        ``batch_size`` and ``arithmetic_intensity`` [FLOP/byte].
    ridge_point : float
        Peak tensor rate / peak bandwidth [FLOP/byte] (red rule).
    memory_batch : int
        Batch size that fills memory (dashed rule).
    title : str
        Chart title.
    """
    df = _require(intensity, ["batch_size", "arithmetic_intensity"])
    roof = alt.Chart(df, title=title).mark_line(point=True).encode(
        x=_log2_batch_axis(),
        y=alt.Y("arithmetic_intensity:Q", scale=alt.Scale(type="log"), title="FLOPs per byte"),
        tooltip=["batch_size", _tip("arithmetic_intensity:Q", "FLOPs per byte", ".3g")],
    )
    ridge = alt.Chart(pd.DataFrame({"y": [ridge_point], "label": ["ridge point"]})).mark_rule(
        color=PALETTE[3]).encode(y="y:Q")
    mem = alt.Chart(pd.DataFrame({"x": [memory_batch]})).mark_rule(
        strokeDash=[5, 3], color="#555").encode(x="x:Q")
    return (roof + ridge + mem).properties(width=480, height=260)


# ----------------------------------------------------------------------------------------
# Model x GPU fit (05_model_gpu_matching)
# ----------------------------------------------------------------------------------------
#: Fill of each GPU-count band, fewest GPUs first (light green to dark brown; grey: none).
GPU_COUNT_COLOURS = ("#c7e9c0", "#a1d99b", "#fdd49e", "#fdae6b", "#f16913", "#a63603", "#d9d9d9")
_DARK_FILLS = ("#f16913", "#a63603")


def gpu_count_grid_chart(grid: pd.DataFrame, *, models, gpus, precisions, bands,
                         subtitle: str = "") -> alt.FacetChart:
    """Fewest GPUs per replica for every model x GPU, one panel per precision.

    Parameters
    ----------
    grid : pandas.DataFrame
        ``model_id``, ``gpu_id``, ``precision``, ``gpus_needed`` (cell text) and ``band``
        (as from :func:`hwcost.matching.fit_labels`).
    models, gpus, precisions : sequence of str
        Order of the rows, columns and panels.
    bands : sequence of str
        The GPU-count bands, fewest first and "none" last
        (:data:`hwcost.matching.GPU_COUNT_BANDS`), coloured by :data:`GPU_COUNT_COLOURS`.
    subtitle : str
        Chart subtitle (what the replica must hold).
    """
    bands = list(bands)
    if len(bands) != len(GPU_COUNT_COLOURS):
        raise HwcostError(f"bands must be {len(GPU_COUNT_COLOURS)} names, got {bands!r}")
    df = _require(grid, ["model_id", "gpu_id", "precision", "gpus_needed", "band"])
    base = alt.Chart(df).encode(
        x=alt.X("gpu_id:N", sort=list(gpus), title="GPU"),
        y=alt.Y("model_id:N", sort=list(models), title="model"),
    )
    cells = base.mark_rect().encode(color=alt.Color(
        "band:N", title="GPUs per replica", sort=bands,
        scale=alt.Scale(domain=bands, range=list(GPU_COUNT_COLOURS))),
        tooltip=["model_id", "gpu_id", "precision", "gpus_needed"])
    dark = [b for b, c in zip(bands, GPU_COUNT_COLOURS) if c in _DARK_FILLS]
    labels = base.mark_text(fontSize=10).encode(text="gpus_needed:N", color=alt.condition(
        alt.FieldOneOfPredicate("band", dark), alt.value("white"), alt.value("black")))
    return alt.layer(cells, labels).properties(width=420, height=24 * len(list(models))).facet(
        row=alt.Row("precision:N", sort=list(precisions), title="weight precision"),
    ).properties(title=alt.TitleParams("Fewest GPUs per replica", subtitle=subtitle))


def speed_vs_throughput_chart(configs: pd.DataFrame, *, title: str = "") -> alt.Chart:
    """One user's speed against throughput per GPU, one point per GPU and precision.

    Parameters
    ----------
    configs : pandas.DataFrame
        ``gpu_id``, ``precision``, ``min_n_gpus``, ``tokens_per_s_per_request`` (batch 1)
        [tokens/s], ``output_tokens_per_s`` (largest batch) and
        ``output_tokens_per_s_per_gpu`` [tokens/s].
    title : str
        Chart title.
    """
    df = _require(configs, ["gpu_id", "precision", "min_n_gpus", "tokens_per_s_per_request",
                            "output_tokens_per_s", "output_tokens_per_s_per_gpu"])
    return alt.Chart(df, title=title).mark_point(size=90, filled=True).encode(
        x=alt.X("tokens_per_s_per_request:Q", title="batch-1 speed [tokens/s per request]"),
        y=alt.Y("output_tokens_per_s_per_gpu:Q",
                title="max-batch throughput per GPU [tokens/s]"),
        color=alt.Color("gpu_id:N", title="GPU", scale=alt.Scale(scheme="tableau10")),
        shape=alt.Shape("precision:N", title="precision"),
        tooltip=["gpu_id", "precision", "min_n_gpus", "tokens_per_s_per_request",
                 "output_tokens_per_s"],
    )


# ----------------------------------------------------------------------------------------
# Scaling (06_scaling_patterns)
# ----------------------------------------------------------------------------------------
def parallelism_throughput_chart(table: pd.DataFrame, *, title: str = "",
                                 subtitle: str = "") -> alt.Chart:
    """Replica throughput against batch size: tensor against pipeline parallel, per link.

    Parameters
    ----------
    table : pandas.DataFrame
        ``strategy``, ``link``, ``batch_size``, ``output_tokens_per_s`` [tokens/s] and
        ``tpot_s`` [s] (as from :func:`hwcost.scaling.pipeline_vs_tensor_by_link`).
    title, subtitle : str
        Chart title and subtitle.
    """
    df = _require(table, ["strategy", "link", "batch_size", "output_tokens_per_s", "tpot_s"])
    return alt.Chart(df, title=alt.TitleParams(title, subtitle=subtitle)).mark_line(
        point=True).encode(
        x=alt.X("batch_size:Q", scale=alt.Scale(type="log"), title="sequences decoded together"),
        y=alt.Y("output_tokens_per_s:Q", scale=alt.Scale(type="log"),
                title="output tokens per second, replica"),
        color=alt.Color("strategy:N", title="split"),
        strokeDash=alt.StrokeDash("link:N", title="link"),
        tooltip=["strategy", "link", "batch_size", "output_tokens_per_s", "tpot_s"],
    )


def latency_vs_rate_chart(curve: pd.DataFrame, *, peak_requests_per_s: float,
                          ttft_target_s: float, tpot_target_s: float,
                          model: str = "") -> alt.VConcatChart:
    """p95 time to first token and time per output token against arrival rate, stacked.

    Parameters
    ----------
    curve : pandas.DataFrame
        ``requests_per_s`` [requests/s], ``ttft_s`` and ``tpot_s`` [s] (p95) and
        ``replicas`` (line label), as from :func:`hwcost.scaling.latency_vs_rate`.
    peak_requests_per_s : float
        The workload's rate (dashed rule). [requests/s]
    ttft_target_s, tpot_target_s : float
        The targets (red rules). [s]
    model : str
        Named in the panel titles.
    """
    df = _require(curve, ["requests_per_s", "ttft_s", "tpot_s", "replicas"])

    def panel(metric, target, label):
        lines = line(df, "requests_per_s", metric, color="replicas", log_y=True,
                     title=f"{model}: p95 {label} against arrival rate",
                     x_title="arrival rate [requests/s]", y_title=f"p95 {label} [s]")
        rate = alt.Chart(pd.DataFrame({"requests_per_s": [peak_requests_per_s]})).mark_rule(
            strokeDash=[4, 4]).encode(x="requests_per_s:Q")
        goal = alt.Chart(pd.DataFrame({metric: [target]})).mark_rule(color=PALETTE[3]).encode(
            y=f"{metric}:Q")
        return (lines + rate + goal).properties(height=220)

    return alt.vconcat(panel("ttft_s", ttft_target_s, "time to first token"),
                       panel("tpot_s", tpot_target_s, "time per output token"))


# ----------------------------------------------------------------------------------------
# The source article's audit (09_source_audit)
# ----------------------------------------------------------------------------------------
#: Fill of each audit verdict, in the order of ``hwcost.seed.STATUSES`` (agrees, disagrees,
#: implausible input, not checkable).
AUDIT_STATUS_COLOURS = ("#009E73", "#D55E00", "#E69F00", "#999999")


def audit_by_section_chart(by_section: pd.DataFrame, *, sections, statuses) -> alt.Chart:
    """Stacked bars: the article's claims per section, coloured by verdict.

    Parameters
    ----------
    by_section : pandas.DataFrame
        ``section``, ``status`` and ``claims`` (count) [-].
    sections : sequence of str
        Section order, top to bottom.
    statuses : sequence of str
        The verdicts in stacking and legend order (:data:`hwcost.seed.STATUSES`), coloured by
        :data:`AUDIT_STATUS_COLOURS`.
    """
    statuses = list(statuses)
    if len(statuses) != len(AUDIT_STATUS_COLOURS):
        raise HwcostError(f"statuses must be {len(AUDIT_STATUS_COLOURS)} names, got {statuses!r}")
    df = _require(by_section, ["section", "status", "claims"])
    colours = alt.Scale(domain=statuses, range=list(AUDIT_STATUS_COLOURS))
    return alt.Chart(df, title="The article's claims by section and verdict").mark_bar().encode(
        x=alt.X("claims:Q", title="claims [-]"),
        y=alt.Y("section:N", sort=list(sections), title=None, axis=alt.Axis(labelLimit=360)),
        color=alt.Color("status:N", scale=colours, title="status", sort=statuses),
        order=alt.Order("status_order:Q"),
        tooltip=["section", "status", "claims"],
    ).transform_calculate(
        status_order=f"indexof({statuses}, datum.status)"
    ).properties(width=360)


# ----------------------------------------------------------------------------------------
# Model validation (10_model_validation)
# ----------------------------------------------------------------------------------------
def out_of_sample_error_chart(current: pd.DataFrame, previous: pd.DataFrame) -> alt.FacetChart:
    """Median and 90th-percentile error per regime, this calibration beside the previous one.

    Parameters
    ----------
    current, previous : pandas.DataFrame
        ``check``, ``regime``, ``median_pct`` and ``p90_pct`` [%] (as from
        :func:`hwcost.perf.out_of_sample_table`); rows of regime ``all`` are left out.

    Returns
    -------
    altair.FacetChart
        One panel per check: a bar (median) and a tick (90th percentile) per regime and
        calibration.
    """
    cols = ["check", "regime", "median_pct", "p90_pct"]
    long = pd.concat([_require(current, cols).assign(calibration="in use"),
                      _require(previous, cols).assign(calibration="previous")])
    long = long[long["regime"] != "all"]
    base = alt.Chart(long).encode(
        x=alt.X("regime:N", title=None), xOffset=alt.XOffset("calibration:N"),
        color=alt.Color("calibration:N", title="calibration"),
        tooltip=["check", "regime", "calibration", _tip("median_pct:Q", "median error [%]", ".1f"),
                 _tip("p90_pct:Q", "90th percentile error [%]", ".1f")])
    bars = base.mark_bar(opacity=0.8).encode(y=alt.Y(
        "median_pct:Q", title="absolute error [%]: bar = median, tick = 90th percentile"))
    ticks = base.mark_tick(thickness=2, size=14).encode(y="p90_pct:Q")
    return (bars + ticks).properties(width=150, height=220).facet(
        column=alt.Column("check:N", title=None))


def _parity_panel(df: pd.DataFrame, unit: str, target_pct: float) -> alt.LayerChart:
    d = df[df["unit"] == unit]
    lo = d[["measured", "predicted"]].min().min() / 1.5
    hi = d[["measured", "predicted"]].max().max() * 1.5
    bands = ((1, "y = x"), (1 + target_pct / 100, f"+{target_pct:g}%"),
             (1 - target_pct / 100, f"-{target_pct:g}%"))
    lines = pd.DataFrame([{"x": x, "y": x * f, "line": name} for x in (lo, hi)
                          for f, name in bands])
    scale = alt.Scale(type="log", domain=[lo, hi])
    axis = alt.Axis(labelOverlap="greedy")
    pts = alt.Chart(d).mark_point(filled=True, size=45, opacity=0.8).encode(
        x=alt.X("measured:Q", scale=scale, title=f"measured [{unit}]", axis=axis),
        y=alt.Y("predicted:Q", scale=scale, title=f"predicted [{unit}]", axis=axis),
        color=alt.Color("regime:N", title="regime"), shape=alt.Shape("engine:N", title="engine"),
        tooltip=["id", "gpu_id", "model_id", "metric", "measured", "predicted", "error_pct"])
    ref = alt.Chart(lines).mark_line(color="#777").encode(
        x="x:Q", y="y:Q", detail="line:N", strokeDash=alt.condition(
            alt.datum.line == "y = x", alt.value([1, 0]), alt.value([4, 3])))
    # many points: drag to pan, scroll to zoom, each panel on its own. Zooming clips the marks
    # to the plot; the padded domain keeps every point inside it, so the static chart changes
    # only by the sub-pixel corners of the reference lines' ends at the plot's edge.
    zoom = alt.selection_interval(bind="scales", name="zoom_" + "".join(
        ch if ch.isalnum() else "_" for ch in unit))
    return (ref + pts.add_params(zoom)).properties(width=300, height=300, title=f"{unit}")


def parity_chart(validation: pd.DataFrame, *, target_pct: float) -> alt.HConcatChart:
    """Predicted against measured on log-log axes, speeds and times side by side.

    Parameters
    ----------
    validation : pandas.DataFrame
        One row per measurement: ``id``, ``gpu_id``, ``model_id``, ``engine``, ``regime``,
        ``metric``, ``unit`` (``tokens/s`` or ``seconds``), ``measured``, ``predicted`` and
        ``error_pct`` [%] (as from :func:`hwcost.perf.validate`, with ``unit`` added).
    target_pct : float
        The error target [%], drawn as dashed lines either side of y = x.
    """
    df = _require(validation, ["id", "gpu_id", "model_id", "engine", "regime", "metric", "unit",
                               "measured", "predicted", "error_pct"])
    return alt.hconcat(_parity_panel(df, "tokens/s", target_pct),
                       _parity_panel(df, "seconds", target_pct)).resolve_scale(
        color="shared", shape="shared").properties(title=alt.TitleParams(
            "Predicted against measured, log-log",
            subtitle=f"solid: y = x; dashed: ±{target_pct:g}% (the target)"))


def error_by_regime_chart(regime: pd.DataFrame, *, target_pct: float) -> alt.LayerChart:
    """Median absolute percentage error per regime, in sample and leaving one source out.

    Parameters
    ----------
    regime : pandas.DataFrame
        Indexed by regime (a row ``all`` is left out), with ``mdape_pct`` (in sample) and
        ``loso_mdape_pct`` (leave one source out) [%].
    target_pct : float
        The error target [%] (dashed rule).
    """
    df = _require(regime.drop(index="all", errors="ignore").rename_axis("regime").reset_index(),
                  ["regime", "mdape_pct", "loso_mdape_pct"])
    bars = df.melt(id_vars="regime", value_vars=["mdape_pct", "loso_mdape_pct"],
                   var_name="check", value_name="mdape")
    bars["check"] = bars["check"].map({"mdape_pct": "in sample",
                                       "loso_mdape_pct": "leave one source out"})
    chart = alt.Chart(bars).mark_bar().encode(
        x=alt.X("mdape:Q", title="median absolute percentage error [%]"),
        y=alt.Y("regime:N", title=None), yOffset="check:N",
        color=alt.Color("check:N", title=None, legend=alt.Legend(orient="bottom")),
        tooltip=["regime", "check", "mdape"])
    rule = alt.Chart(pd.DataFrame({"x": [target_pct]})).mark_rule(
        color=PALETTE[3], strokeDash=[4, 3]).encode(x="x:Q")
    return (chart + rule).properties(width=420, height=200, title=alt.TitleParams(
        "Median absolute percentage error by regime",
        subtitle=f"dashed: the {target_pct:g}% target"))


def gpu_speedup_chart(curves: pd.DataFrame, references: pd.DataFrame, claim: pd.DataFrame, *,
                      y_title: str, title: str = "", subtitle: str = "") -> alt.LayerChart:
    """Predicted speed ratio of two GPUs against batch size, with reference ratios and a claim.

    Parameters
    ----------
    curves : pandas.DataFrame
        ``batch_size``, ``measure`` (line label) and ``ratio`` (GPU / baseline speed) [1].
    references : pandas.DataFrame
        ``y`` (a ratio) [1] and ``what`` (legend text): dashed horizontal rules.
    claim : pandas.DataFrame
        ``lo`` and ``hi`` [1]: a claimed range, shaded.
    y_title, title, subtitle : str
        Axis title, chart title and subtitle.
    """
    curves = _require(curves, ["batch_size", "measure", "ratio"])
    legend = alt.Legend(orient="bottom", columns=1, labelLimit=400)
    line_ = alt.Chart(curves).mark_line(point=True).encode(
        x=_log2_batch_axis(),
        y=alt.Y("ratio:Q", title=y_title, scale=alt.Scale(zero=False)),
        strokeDash=alt.StrokeDash("measure:N", title=None, legend=legend),
        tooltip=["measure", "batch_size", _tip("ratio:Q", "ratio", ".3f")])
    rules = alt.Chart(_require(references, ["y", "what"])).mark_rule(strokeDash=[5, 3]).encode(
        y="y:Q", color=alt.Color("what:N", title=None, legend=legend),
        tooltip=["what", _tip("y:Q", "ratio", ".3f")])
    band = alt.Chart(_require(claim, ["lo", "hi"])).mark_rect(color=PALETTE[3],
                                                              opacity=0.18).encode(
        y="lo:Q", y2="hi:Q")
    return (band + line_ + rules).properties(width=480, height=280, title=alt.TitleParams(
        title, subtitle=subtitle))


# ----------------------------------------------------------------------------------------
# Optimization levers (04_optimization_strategies)
# ----------------------------------------------------------------------------------------
def lever_waterfall_chart(waterfall: pd.DataFrame, *, format_usd, title: str = "") -> alt.LayerChart:
    """Cost per million output tokens, lever by lever: a floating bar from before to after.

    Parameters
    ----------
    waterfall : pandas.DataFrame
        One row per step in order: ``lever``, ``step`` (0 for the baseline),
        ``usd_per_million_output_tokens`` [USD] and ``change_pct`` [%] (as from
        :func:`hwcost.optimization.lever_waterfall`).
    format_usd : callable
        Formats the amount printed beside each bar's end (e.g. :func:`hwcost.notebook.usd`).
    title : str
        Chart title.
    """
    wf = _require(waterfall, ["lever", "step", "usd_per_million_output_tokens", "change_pct"])
    cost = wf["usd_per_million_output_tokens"]
    steps = wf.assign(
        start=cost.shift(1).fillna(cost.iloc[0]), end=cost,
        kind=np.where(wf["step"] == 0, "baseline",
                      np.where(wf["change_pct"] < 0, "saves", "no saving")))
    steps["label"] = steps["end"].map(format_usd)
    order = list(steps["lever"])
    base = alt.Chart(steps, title=alt.TitleParams(
        title, subtitle="log scale; each bar runs from the cost before the lever to the cost "
        "after it"))
    bars = base.mark_bar(size=28).encode(
        x=alt.X("lever:N", sort=order, title=None, axis=alt.Axis(labelAngle=-30)),
        y=alt.Y("start:Q", scale=alt.Scale(type="log"), title="USD per 1M output tokens"),
        y2="end:Q", color=alt.Color("kind:N", title=None, scale=alt.Scale(
            domain=["baseline", "saves", "no saving"], range=["#555555", PALETTE[2], PALETTE[1]])),
        tooltip=["lever", _tip("start:Q", "before [USD per 1M output tokens]", "$,.3f"),
                 _tip("end:Q", "after [USD per 1M output tokens]", "$,.3f"),
                 _tip("change_pct:Q", "change [%]", "+.1f")])
    ends = base.mark_tick(thickness=2, size=28, color="#222222").encode(
        x=alt.X("lever:N", sort=order), y="end:Q")
    text = base.mark_text(dx=24, align="left", fontSize=10).encode(
        x=alt.X("lever:N", sort=order), y="end:Q", text="label:N")
    return (bars + ends + text).properties(width=620, height=320)


# ----------------------------------------------------------------------------------------
# 07: cost scenarios
# ----------------------------------------------------------------------------------------
def _log_cost_bar_x(usd_per_request: pd.Series) -> dict:
    """Log-scale cost-per-request bars from the power of ten below the cheapest one."""
    return dict(
        x=alt.X("usd_per_request:Q", scale=alt.Scale(type="log"),
                title="cost per request [USD, log scale]"),
        # bars on a log axis need a base: the power of ten at or below the smallest cost
        x2=alt.datum(10 ** int(np.floor(np.log10(usd_per_request.min())))),
    )


def scenario_cost_per_request_chart(scenarios: pd.DataFrame, *, title: str = "") -> alt.Chart:
    """Cost per request of each option in the article's scenarios, as printed and corrected.

    Parameters
    ----------
    scenarios : pandas.DataFrame
        One row per option and basis: ``scenario`` (row label), ``option`` (bar label),
        ``basis`` (e.g. ``article`` or ``corrected``; the colour) and ``usd_per_request``
        [USD] (as from :func:`hwcost.seed.scenario_comparison`).
    title : str
        Chart title.
    """
    df = _require(scenarios, ["scenario", "option", "basis", "usd_per_request"])
    df["usd_per_request"] = df["usd_per_request"].astype(float)
    return alt.Chart(df, title=title).mark_bar().encode(
        **_log_cost_bar_x(df["usd_per_request"]),
        y=alt.Y("option:N", sort=None, title=None, axis=alt.Axis(labelLimit=300)),
        color=alt.Color("basis:N", title="basis"),
        row=alt.Row("scenario:N", title=None, header=alt.Header(labelAngle=0, labelAlign="left")),
        tooltip=["option", "basis", "usd_per_request"],
    ).resolve_scale(y="independent").properties(width=380)


def option_cost_per_request_chart(options: pd.DataFrame, *, kinds, title: str = "") -> alt.Chart:
    """Cost per request of each way to serve one workload, cheapest first.

    Parameters
    ----------
    options : pandas.DataFrame
        ``option`` (bar label), ``kind`` (the colour) and ``usd_per_request`` [USD] (as in
        the table of :func:`hwcost.seed.corrected_options`).
    kinds : sequence of str
        Option kinds in legend order (:data:`hwcost.seed.OPTION_KINDS`).
    title : str
        Chart title.
    """
    df = _require(options, ["option", "kind", "usd_per_request"])
    df["usd_per_request"] = df["usd_per_request"].astype(float)
    return alt.Chart(df, title=title).mark_bar().encode(
        **_log_cost_bar_x(df["usd_per_request"]),
        y=alt.Y("option:N", sort="x", title=None, axis=alt.Axis(labelLimit=300)),
        color=alt.Color("kind:N", title="option", sort=list(kinds)),
        tooltip=["option", "usd_per_request"],
    )


def monthly_cost_vs_volume_chart(curve: pd.DataFrame, marks: pd.DataFrame, *,
                                 title: str = "") -> alt.LayerChart:
    """Monthly cost against token volume: replica steps, API lines and marked volumes.

    Parameters
    ----------
    curve : pandas.DataFrame
        ``tokens_per_month`` [tokens/month], ``usd_per_month`` [USD/month], ``option`` (line
        label) and ``kind`` (``replicas``, drawn as steps, or ``api``) (as from
        :func:`hwcost.economics.monthly_cost_curve`).
    marks : pandas.DataFrame
        Volumes to mark with a dashed rule: ``tokens_per_month`` and ``label``.
    title : str
        Chart title.
    """
    df = _require(curve, ["tokens_per_month", "usd_per_month", "option", "kind"])
    marks = _require(marks, ["tokens_per_month", "label"])
    enc = dict(
        x=alt.X("tokens_per_month:Q", scale=alt.Scale(type="log"),
                title="volume [tokens/month, input + output]"),
        y=alt.Y("usd_per_month:Q", scale=alt.Scale(type="log"), title="cost [USD/month]"),
        color=alt.Color("option:N", title=None, legend=alt.Legend(
            orient="bottom", columns=2, symbolType=LINE_LEGEND.symbolType)),
        tooltip=["option", _tip("tokens_per_month:Q", "tokens/month", ",.3s"),
                 _tip("usd_per_month:Q", "USD/month", "$,.0f")])
    steps = alt.Chart(df[df["kind"] == "replicas"]).mark_line(
        interpolate="step-after", point=HOVER_POINTS).encode(**enc)
    apis = alt.Chart(df[df["kind"] == "api"]).mark_line(point=HOVER_POINTS).encode(**enc)
    rules = alt.Chart(marks).mark_rule(strokeDash=[4, 3], color="#555555").encode(
        x="tokens_per_month:Q")
    text = alt.Chart(marks).mark_text(angle=270, align="right", dx=-4, dy=-4, fontSize=10,
                                      baseline="bottom").encode(
        x="tokens_per_month:Q", y=alt.value(0), text="label:N")
    return (steps + apis + rules + text).properties(title=title)


def hybrid_daily_cost_chart(sweep: pd.DataFrame, *, title: str = "") -> alt.LayerChart:
    """Daily cost, total and its owned and rented parts, against the number of owned replicas.

    Parameters
    ----------
    sweep : pandas.DataFrame
        ``owned_replicas``, ``usd_per_day``, ``owned_usd_per_day`` and ``cloud_usd_per_day``
        [USD/day] (as from :func:`hwcost.economics.hybrid_sweep`); the cheapest total is
        marked with a diamond.
    title : str
        Chart title.
    """
    df = _require(sweep, ["owned_replicas", "usd_per_day", "owned_usd_per_day",
                          "cloud_usd_per_day"])
    optimum = df.loc[df["usd_per_day"].idxmin()]
    parts = {"usd_per_day": "total", "owned_usd_per_day": "owned",
             "cloud_usd_per_day": "rented (burst)"}
    long = df.melt(id_vars="owned_replicas", value_vars=list(parts), var_name="part",
                   value_name="usd")
    long["part"] = long["part"].map(parts)
    lines = alt.Chart(long, title=title).mark_line(point=True).encode(
        x=alt.X("owned_replicas:Q", title="owned replicas [-]",
                axis=alt.Axis(tickMinStep=1, format="d")),
        y=alt.Y("usd:Q", title="cost [USD/day]"),
        color=alt.Color("part:N", title=None, sort=list(parts.values())),
        tooltip=["owned_replicas", "part", _tip("usd:Q", "USD/day", "$,.0f")])
    owned = int(optimum["owned_replicas"])
    best = alt.Chart(pd.DataFrame([{"owned_replicas": owned, "usd": optimum["usd_per_day"],
                                    "label": f"cheapest: {owned} owned"}]))
    point = best.mark_point(size=220, shape="diamond", color="#D55E00", filled=True).encode(
        x="owned_replicas:Q", y="usd:Q")
    label = best.mark_text(dy=-18, fontSize=11, color="#D55E00").encode(
        x="owned_replicas:Q", y="usd:Q", text="label:N")
    return lines + point + label


def replicas_by_hour_chart(by_hour: pd.DataFrame, *, title: str = "") -> alt.Chart:
    """Replicas in each hour of the day, stacked: owned and in use, owned and idle, rented.

    Parameters
    ----------
    by_hour : pandas.DataFrame
        ``hour`` [h], ``owned_replicas``, ``replicas_needed`` and ``cloud_replicas`` (as in
        :attr:`hwcost.economics.HybridResult.by_hour`).
    title : str
        Chart title.
    """
    df = _require(by_hour, ["hour", "owned_replicas", "replicas_needed", "cloud_replicas"])
    in_use = np.minimum(df["owned_replicas"], df["replicas_needed"])
    kinds = ["owned, in use", "owned, idle", "rented"]
    hours = pd.DataFrame({"hour": df["hour"], kinds[0]: in_use,
                          kinds[1]: df["owned_replicas"] - in_use, kinds[2]: df["cloud_replicas"]})
    hours = hours.melt(id_vars="hour", var_name="kind", value_name="replicas")
    return alt.Chart(hours, title=title).mark_bar().encode(
        x=alt.X("hour:O", title="hour of day [h]"), y=alt.Y("replicas:Q", title="replicas [-]"),
        color=alt.Color("kind:N", title=None, sort=kinds),
        order=alt.Order("kind:N"),
        tooltip=["hour", "kind", "replicas"]).properties(height=220)
