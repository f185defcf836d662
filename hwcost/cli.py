"""The ``hwcost`` command: recommend, estimate, run and report notebooks, list the catalog.

Every subcommand has ``--help`` with examples. Errors print one line,
``hwcost: error: ...``, on stderr and exit with status 2 (bad usage or input) or 1 (a run
that failed, such as a notebook raising); never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import re
import sys
import traceback
import warnings
from pathlib import Path
from typing import Sequence

import pandas as pd

from . import validate
from .errors import HwcostError, HwcostWarning, NoFeasibleOption, NotebookFailed, UsageError
from .requirements import MAX_GPUS, MAX_REQUESTS_PER_DAY, MAX_TOKENS

#: Rows ``hwcost recommend`` shows when --top is not given.
DEFAULT_TOP = 15
#: Largest number read from the command line where no tighter bound applies.
MAX_NUMBER = 1e15

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_BUG = 3  # an internal error (a traceback is printed)

def _typed(rule, **bounds):
    """An argparse type: text that spells a number becomes the number, then ``rule`` decides
    (the one validation layer, :mod:`hwcost.validate`)."""
    def parse(text: str):
        value = validate.number_from_text(text.strip().rstrip("%") if rule is validate.non_negative
                                          else text)
        try:
            return rule("value", value, **bounds)
        except validate.InvalidValue as exc:  # show the value as it was typed
            wording = str(exc).removeprefix("value ").rpartition(", got ")[0]
            raise argparse.ArgumentTypeError(f"{wording}, got {text!r}") from None

    parse.__name__ = rule.__name__
    return parse


def _batch_size(text: str):
    """``--batch-size``: a positive integer up to 4,096, or ``max``."""
    if text.strip().lower() == "max":
        return "max"
    try:
        return _typed(validate.positive_int, high=4096)(text)
    except argparse.ArgumentTypeError as exc:
        raise argparse.ArgumentTypeError(f"{exc} (or 'max')") from None


def parse_duration(text: str) -> float:
    """``"1s"``, ``"500ms"``, ``"0.8"`` (seconds), ``"2min"`` -> seconds. [s]"""
    try:
        return validate.duration("value", str(text))
    except validate.InvalidValue as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("value ")) from None


_positive_number = _typed(validate.positive, high=MAX_NUMBER)
_non_negative_number = _typed(validate.non_negative, high=10_000)
_positive_int = _typed(validate.positive_int, high=MAX_TOKENS)


def _csv_list(text: str) -> list[str]:
    items = [t.strip() for t in str(text).split(",") if t.strip()]
    if not items:
        raise argparse.ArgumentTypeError(f"must be a comma-separated list of ids, got {text!r}")
    return items


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``hwcost: error: ... (see 'hwcost X --help')``."""

    def error(self, message):  # noqa: D401
        # "argument --top: must be ..." reads "--top must be ..." (the one wording)
        message = re.sub(r"^argument ([^:\s/]+)(?:/\S+)?: must be ", r"\1 must be ", message)
        raise UsageError(f"{message} (see '{self.prog} --help')")


class _Formatter(argparse.RawDescriptionHelpFormatter):
    def __init__(self, prog):
        super().__init__(prog, max_help_position=32, width=100)


def _add_format(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=("table", "csv", "json"), default="table",
                   help="output format (default: a human-readable table)")


# ----------------------------------------------------------------------------------------
# Output
# ----------------------------------------------------------------------------------------
def _json_default(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, (tuple, set)):
        return list(value)
    return str(value)


def _clean_records(df: pd.DataFrame) -> list[dict]:
    records = []
    for row in df.to_dict(orient="records"):
        clean = {}
        for k, v in row.items():
            if isinstance(v, float) and not math.isfinite(v):
                v = None
            elif v is pd.NA or v is pd.NaT:
                v = None
            clean[k] = v
        records.append(clean)
    return records


def _emit(df: pd.DataFrame, fmt: str, out, *, float_format=None) -> None:
    if fmt == "csv":
        df.to_csv(out, index=False, lineterminator="\n")
    elif fmt == "json":
        json.dump(_clean_records(df), out, indent=1, default=_json_default)
        out.write("\n")
    else:
        with pd.option_context("display.width", 250, "display.max_columns", 50,
                               "display.max_colwidth", 60):
            text = df.to_string(index=False, na_rep="-", float_format=float_format)
        out.write(text + "\n")


def _fmt_float(x: float) -> str:
    """Compact number for tables: 4 significant digits, thousands separators from 10,000."""
    if x is None or not math.isfinite(x):
        return "-"
    a = abs(x)
    if a == 0:
        return "0"
    if a >= 10_000:
        return f"{x:,.0f}"
    if a < 1e-3:
        return f"{x:.3g}"
    return f"{x:.4g}"


# ----------------------------------------------------------------------------------------
# recommend
# ----------------------------------------------------------------------------------------
RECOMMEND_EXAMPLES = """\
examples:
  hwcost recommend --model llama-3.1-70b --requests-per-day 2000 \\
      --input-tokens 500 --output-tokens 200 --ttft-p95 1s --tpot-p95 100ms
  hwcost recommend --scenario data/scenarios/privacy-enterprise-rag.yaml --top 5
  hwcost recommend --model llama-3.1-8b --requests-per-day 50000 --ttft-p95 500ms \\
      --availability 99.9% --no-api --format csv > options.csv
  hwcost recommend --model qwen2.5-72b --requests-per-day 8000 --privacy --all
  hwcost recommend --model llama-3.1-8b --requests-per-day 20000 \\
      --self-hosted-staff-pct 25 --cloud-staff-pct 0
  hwcost recommend --model llama-3.1-8b --requests-per-day 20000 --staff-per-box-pct 10
  hwcost recommend --model llama-3.1-70b --requests-per-day 200000 --ttft-p95 1s \\
      --segment datacenter --budget-usd 250000
  hwcost recommend --model llama-3.1-8b --requests-per-day 1000000 --window-hours 8 \\
      --window-start-hour 22 --cached-input-share 0.5

Columns: rank, option, kind (cloud / self-hosted / api), gpu_id, n_gpus, precision,
replicas, ttft_s and tpot_s (at the SLO percentile), capex_usd (bought up front),
running_usd_per_year, total_usd over the horizon, usd_per_million_tokens, n_gpus_bought and
bill_of_materials (what is bought or rented), limit (what caps the option), pareto (on the
cost-latency frontier), fails (the hard constraint an option fails) and why (why the
options above it win); csv and json add segment, spare_gpus, every cost component and the
caveat on consumer cards.
"""

TABLE_COLUMNS = ("rank", "option", "n_gpus", "precision", "replicas", "ttft_s", "tpot_s",
                 "capex_usd", "running_usd_per_year", "total_usd", "usd_per_million_tokens",
                 "bill_of_materials", "limit", "pareto")


def _recommend_case(args):
    """The case the flags describe: ``requirements.build_case`` over the scenario, if any.

    A flag given on the command line wins over the scenario, which wins over the defaults
    (the one override rule of :func:`hwcost.requirements.build_case`).
    """
    from . import recommend, requirements, scenario

    base = scenario.load(args.scenario).case if args.scenario else None
    if base is None and (not args.model or not args.requests_per_day):
        raise UsageError("--model and --requests-per-day are required unless --scenario is given "
                         "(see 'hwcost recommend --help')")
    values = dict(
        model=args.model, requests_per_day=args.requests_per_day or None,
        input_tokens=args.input_tokens or None, output_tokens=args.output_tokens or None,
        daily_profile=args.profile or None,
        ttft_s=args.ttft_p95, tpot_s=args.tpot_p95, e2e_s=args.e2e_p95, percentile=args.percentile,
        availability=args.availability, privacy=True if args.privacy else None,
        data_residency=args.data_residency or None, horizon_months=args.horizon_months,
        budget_usd=args.budget_usd, energy_id=args.energy or None, max_gpus=args.max_gpus or None,
        window_hours=args.window_hours, window_start_hour=args.window_start_hour,
        cached_input_share=args.cached_input_share,
    )
    for flag, name in (("no_cloud", "allow_cloud"), ("no_self_hosted", "allow_self_hosted"),
                       ("no_api", "allow_api")):
        if getattr(args, flag):
            values[name] = False
    for opt in ("engines", "precisions", "gpus", "providers", "segments"):
        value = getattr(args, opt)
        if value:
            values[opt] = tuple(v for group in value for v in group)
    for flag, name in (("self_hosted_staff_pct", "operations_usd_per_year"),
                       ("cloud_staff_pct", "cloud_operations_usd_per_year")):
        pct = getattr(args, flag)
        if pct is not None:
            values[name] = float(recommend.operations_usd_per_year(pct / 100.0))
    for flag, name in (("staff_base_pct", "staff_base_fraction"),
                       ("staff_per_box_pct", "staff_per_box_fraction")):
        pct = getattr(args, flag)
        if pct is not None:
            values[name] = pct / 100.0
    return requirements.build_case(base, **values)


def _recommend_inputs(args):
    case = _recommend_case(args)
    return case.workload, case.constraints


def cmd_recommend(args, out, err) -> int:
    import warnings

    from . import margins, recommend

    workload, constraints = _recommend_inputs(args)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", HwcostWarning)
        try:
            table = recommend.rank(workload, constraints, strict=not args.all)
        finally:
            for w in caught:
                if issubclass(w.category, HwcostWarning):
                    err.write(f"hwcost: warning: {_one_line(w.message)}\n")
    feasible = table[table["feasible"]]
    shown = table if args.all else feasible
    # --top applies with --all too: the first N rows, ranked options first
    top = args.top if args.top is not None else (None if args.all else DEFAULT_TOP)
    if top:
        shown = shown.head(top)
    shown = margins.annotate(shown, constraints, rows=len(shown),
                             max_price_age_days=args.max_price_age_days)
    if args.format != "table":
        _emit(shown, args.format, out)
        return 0
    slo = constraints.slo
    targets = ", ".join(f"{k} <= {v:g} s" for k, v in slo.targets().items()) or "none"
    out.write(
        f"{workload.model}: {workload.requests_per_day:,.0f} requests/day, "
        f"{workload.input_tokens} input + {workload.output_tokens} output tokens; "
        f"p{slo.percentile:g} {targets}; availability {constraints.availability:.2%}; "
        f"horizon {constraints.horizon_months:g} months"
        + (f"; processed within {workload.window_hours:g} h from {workload.window_start_hour:g}:00"
           if workload.window_hours else "")
        + ("; privacy: self-hosted only" if constraints.privacy else "") + "\n"
        + "capex_usd is paid up front (owned hardware, whole purchase units); "
        "running_usd_per_year every year; total_usd over the horizon\n"
    )
    out.write(f"{len(feasible)} feasible of {len(table)} options considered"
              f" (showing {len(shown)}).\n\n")
    cols = [c for c in TABLE_COLUMNS if c in shown.columns]
    if args.all:
        cols += [c for c in ("fails",) if c in shown.columns]
    view = shown[cols].copy()
    for col in view.columns:
        if str(view[col].dtype) == "Int64":
            view[col] = view[col].astype(object).where(view[col].notna(), "-")
    if "pareto" in view:
        view["pareto"] = view["pareto"].map(lambda v: "*" if v is True else "")
    view = view.join(margins.summary_columns(shown, fmt=_fmt_float))
    _emit(view, "table", out, float_format=_fmt_float)
    out.write(f"\nmargin: 'at risk' = a predicted p{slo.percentile:g} latency meets its target "
              "but the slow end of the model's error band does not; p10-p90: total over the "
              "catalog's hardware and electricity price ranges (list prices are exact); "
              f"price_age_d: days since the oldest price used, '!' over "
              f"{args.max_price_age_days} days.\n")
    if len(feasible):
        best = feasible.iloc[0]
        out.write(f"\nBest: {best['option']} -- {best['why']}\n")
        if best["bill_of_materials"]:
            out.write(f"  buys/rents: {best['bill_of_materials']}\n")
        if best["caveat"]:
            out.write(f"  caveat: {best['caveat']}\n")
        for _, row in feasible.iloc[1:min(len(feasible), 4)].iterrows():
            out.write(f"  #{int(row['rank'])} {row['option']}: {row['why']}\n")
    warnings = margins.warnings(shown[shown["feasible"]], rows=min(len(shown), 5))
    if warnings:
        out.write("\nMargins:\n" + "".join(f"  {w}\n" for w in warnings))
    return 0


# ----------------------------------------------------------------------------------------
# memo
# ----------------------------------------------------------------------------------------
def _memo_command(argv: Sequence[str] | None) -> str:
    import shlex

    return "hwcost memo " + " ".join(shlex.quote(a) for a in (argv or []) if a != "memo")


def cmd_memo(args, out, err) -> int:
    import datetime as dt

    from . import memo

    case = _recommend_case(args)
    formats = tuple(dict.fromkeys(v for group in (args.formats or [["md", "html"]]) for v in group))
    bad = [f for f in formats if f not in ("md", "html")]
    if bad:
        raise UsageError(f"--format {','.join(bad)}: expected md, html or both")
    today = None
    if args.today:
        try:
            today = dt.date.fromisoformat(args.today)
        except ValueError:
            raise UsageError(f"--today {args.today!r}: expected a date as YYYY-MM-DD") from None
    m = memo.build(case, today=today, max_price_age_days=args.max_price_age_days,
                   sensitivity=not args.no_sensitivity, command=getattr(args, "_command", ""))
    name = args.name or (case.source.split(" ", 1)[1] if case.source.startswith("scenario ")
                         else f"memo-{case.workload.model}")
    if not re.fullmatch(r"[\w.-]+", name):
        raise UsageError(f"--name {name!r}: use letters, digits, '.', '-' or '_'")
    directory = Path(args.output_dir) if args.output_dir else Path("memos")
    paths = memo.write(m, directory, stem=name, formats=formats)
    if args.stdout:
        out.write(m.to_markdown(dollar="backslash"))
    for path in paths:
        out.write(f"{path}\n")
    return 0


# ----------------------------------------------------------------------------------------
# estimate
# ----------------------------------------------------------------------------------------
ESTIMATE_EXAMPLES = """\
examples:
  hwcost estimate --model llama-3.1-70b --gpu h100-sxm --n-gpus 2 --precision fp8
  hwcost estimate --model llama-3.1-8b --gpu rtx-4090 --batch-size 8 \\
      --input-tokens 500 --output-tokens 200 --format json
  hwcost estimate --model qwen3-32b --gpu h100-sxm --engine vllm --batch-size max \\
      --input-tokens 217 --output-tokens 201 --max-output-tokens 1831
"""


def cmd_estimate(args, out, err) -> int:
    from . import perf

    est = perf.estimate(
        args.model, args.gpu, n_gpus=args.n_gpus, precision=args.precision,
        kv_precision=args.kv_precision, batch_size=args.batch_size,
        input_tokens=args.input_tokens, output_tokens=args.output_tokens, engine=args.engine,
        layout=args.layout, max_batch=args.max_batch, max_output_tokens=args.max_output_tokens,
    )
    import dataclasses

    record = {k: v for k, v in dataclasses.asdict(est).items()}
    if args.format == "json":
        json.dump(_clean_records(pd.DataFrame([record]))[0], out, indent=1, default=_json_default)
        out.write("\n")
        return 0
    if args.format == "csv":
        _emit(pd.DataFrame([record]), "csv", out)
        return 0
    width = max(len(k) for k in record)
    for key, value in record.items():
        if isinstance(value, float):
            value = _fmt_float(value)
        elif value is None:
            value = "-"
        out.write(f"{key:<{width}}  {value}\n")
    if not est.fits:
        out.write(f"\ndoes not fit: {est.reason}\n")
    return 0


# ----------------------------------------------------------------------------------------
# calibrate
# ----------------------------------------------------------------------------------------
CALIBRATE_EXAMPLES = """\
examples:
  hwcost calibrate c1.json c8.json -o my_calibration.json
  hwcost calibrate report.json --gpu l40s --engine vllm -o my_calibration.json
  hwcost calibrate data/calibration_runs_example.csv

Reads your benchmark runs (vllm bench serve --save-result JSON, GuideLLM reports, plain
CSV), fits a calibration overlay for their GPU and engine on top of the bundled calibration
and prints measured against predicted, before and after. With -o the overlay is written
(atomically; an existing file is kept unless --force); use it with --calibration FILE or
HWCOST_CALIBRATION=FILE. --gpu, --model, --engine, --n-gpus and --precision fill in what a
file does not record (GuideLLM reports never record the GPU).
"""


def cmd_calibrate(args, out, err) -> int:
    from . import perf

    frames, skipped = [], []
    for k, path in enumerate(args.files):
        rows = perf.measurements.read_runs(path, gpu=args.gpu, model=args.model, engine=args.engine,
                                           n_gpus=args.n_gpus, precision=args.precision)
        skipped += rows.attrs.get("skipped", [])
        frames.append(rows.assign(id=[f"{k}-{i}" for i in rows["id"]]))
    rows = pd.concat(frames, ignore_index=True)
    if rows.empty:
        raise UsageError("no usable measurement in " + ", ".join(args.files)
                         + ("; left out: " + "; ".join(f"{s}: {w}" for s, w in skipped) if skipped else ""))
    cal = perf.fit_overlay(rows)
    table = perf.overlay_comparison(cal)[["gpu_id", "engine", "model_id", "metric", "batch_size",
                                          "measured", "predicted_before", "predicted_after",
                                          "error_before_pct", "error_after_pct"]]
    if args.output:
        target = Path(args.output)
        if target.exists() and not args.force:
            raise UsageError(f"{target} exists; pass --force to replace it")
        perf.save_overlay(cal, target)
    if args.format != "table":
        _emit(table, args.format, out)
    else:
        _emit(table, "table", out, float_format=_fmt_float)
        for e in cal.data["overlay"]["entries"]:
            out.write(f"\n{e['gpu_id']} / {e['engine']}: {e['n_rows']} rows; shifts: bandwidth logit "
                      f"{e['bandwidth_logit_shift']:+.3f}, compute logit {e['compute_logit_shift']:+.3f}, "
                      f"fixed costs x{math.exp(e['overhead_log_shift']):.3f}")
        out.write("\n")
    for source, why in skipped:
        err.write(f"left out: {source}: {why}\n")
    if args.output:
        err.write(f"overlay written to {args.output}; use --calibration {args.output}\n")
    return 0


# ----------------------------------------------------------------------------------------
# run / report
# ----------------------------------------------------------------------------------------
RUN_EXAMPLES = """\
examples:
  hwcost run 07 -p requests_per_day 20000 -p model llama-3.1-8b
  hwcost run notebooks/02_provider_pricing.ipynb -f my_params.yaml
  hwcost run workload_types -p gpu l40s -p model llama-3.1-8b --output-dir my-report

Writes runs/NAME.ipynb and runs/NAME.html (written atomically; runs/ is kept apart from the
report in reports/, whose index says which parameters its pages used). A parameter the
notebook does not declare is refused. Values are read as YAML scalars (-p n_gpus 2 is a
number, -p gpu h100-sxm a string, -p privacy_required_flag true a boolean); the notebook
validates them. Every cell runs under a timeout, and a kernel reply that a bare papermill or
nbconvert run can miss (nbclient issue 312) is picked up, so a run never hangs.
"""

MEMO_EXAMPLES = """\
examples:
  hwcost memo --scenario data/scenarios/privacy-enterprise-rag.yaml
  hwcost memo --model qwen2.5-32b --requests-per-day 30000 --input-tokens 1000 \\
      --output-tokens 250 --ttft-p95 800ms --tpot-p95 60ms --privacy --profile business-hours
  hwcost memo --scenario startup-chat-app --format md --stdout --output-dir decision

Writes DIR/NAME.md and DIR/NAME.html (one page, no code; written atomically). The case is
read exactly as by 'hwcost recommend' (same flags, same scenario files), so the two agree.
"""

REPORT_EXAMPLES = """\
examples:
  hwcost report
  hwcost report --scenario data/scenarios/startup-chat-app.yaml
  hwcost report --scenario article-scenario-2 --output-dir my-report

Executes every notebook in notebooks/ (with the scenario's workload and notebook_parameters
when given, the notebooks' defaults otherwise) and writes REPORT/index.html.
"""


def _scalar(text: str):
    import yaml

    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    if isinstance(value, (dict, list)) or value is None and text.strip().lower() not in (
            "null", "none", "~"):
        return text
    return value


def _read_params_file(path: str) -> dict:
    from .scenario import MAX_YAML_BYTES, load_yaml

    p = Path(path)
    if not p.is_file():
        raise UsageError(f"{path}: parameters file not found" if not p.exists()
                         else f"{path}: not a file; expected a YAML mapping of parameters")
    if p.stat().st_size > MAX_YAML_BYTES:
        raise UsageError(f"{path}: larger than {MAX_YAML_BYTES:,} bytes")
    try:
        data = load_yaml(p.read_text(encoding="utf-8-sig"), path)
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UsageError(f"{path}: expected a mapping of parameter names to values")
    return {str(k): v for k, v in data.items()}


def cmd_run(args, out, err) -> int:
    from . import report

    nb_path = report.resolve_notebook(args.notebook)
    params = {}
    if args.file:
        params.update(_read_params_file(args.file))
    for name, value in args.param or []:
        params[name] = _scalar(value)
    declared = report.declared_parameters(nb_path)
    unknown = sorted(set(params) - set(declared))
    if unknown:
        raise UsageError(
            f"{nb_path.name} declares no parameter {', '.join(map(repr, unknown))}; "
            f"it declares: {', '.join(declared) or 'none'}"
        )
    out_dir = Path(args.output_dir) if args.output_dir else report.RUN_DIR
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"--output-dir {out_dir} is a file; choose a folder")
    target = out_dir / f"{nb_path.stem}.ipynb"
    from . import outputs

    outputs.check_not_input(target, [nb_path])
    err.write(f"executing {nb_path.name} -> {target}\n")
    kept = outputs.make_room(target)
    if kept is not None:
        err.write(f"{target} was not written by hwcost; kept it as {kept.name}\n")
    report.execute(nb_path, target, params, log=lambda m: err.write(m + "\n"))
    nb_json = report.strip_volatile(json.loads(target.read_text(encoding="utf-8")))
    outputs.atomic_write(target, json.dumps(nb_json, indent=1, ensure_ascii=False) + "\n")
    outputs.record(target)
    if not args.no_html:
        html = report.to_html(target, out_dir / f"{nb_path.stem}.html")
        out.write(f"{target}\n{html}\n")
    else:
        out.write(f"{target}\n")
    return 0


class _Progress:
    """Turn report.build's ``[i/n] name ...`` lines into a progress bar on stderr."""

    _LINE = re.compile(r"^\[(\d+)/(\d+)\]\s+(\S+)")

    def __init__(self, stream, width: int = 24):
        self.stream = stream
        self.width = width
        self.total = 0

    def __call__(self, message: str) -> None:
        m = self._LINE.match(message)
        if message.startswith("Report written") and self.total:
            self.stream.write(f"[{'#' * self.width}] {self.total}/{self.total} done\n")
        if m:
            i, n = int(m.group(1)), int(m.group(2))
            self.total = n
            done = int(self.width * (i - 1) / n)
            bar = "#" * done + "." * (self.width - done)
            self.stream.write(f"[{bar}] {i}/{n} {m.group(3)}{message[m.end():]}\n")
        else:
            self.stream.write(message + "\n")
        self.stream.flush()


def cmd_report(args, out, err) -> int:
    from . import report, scenario

    parameters = None
    sc = None
    paths = report.notebooks()
    if args.scenario:
        sc = scenario.load(args.scenario)
        sc.check_notebooks({p.stem: report.declared_parameters(p) for p in paths})
        parameters = sc.report_parameters()
    directory = Path(args.output_dir) if args.output_dir else report.REPORT_DIR
    index = report.build(directory, parameters=parameters, notebook_paths=paths, scenario=sc,
                         log=_Progress(err))
    out.write(f"{index}\n")
    return 0


# ----------------------------------------------------------------------------------------
# catalog
# ----------------------------------------------------------------------------------------
CATALOG_EXAMPLES = """\
examples:
  hwcost catalog gpus
  hwcost catalog llms --format csv
  hwcost catalog prices --gpu h100-sxm
  hwcost catalog api-prices --format json
"""

CATALOG_VIEWS = {
    "gpus": ("gpus", ("id", "name", "memory_gb", "mem_bw_gbps", "bf16_tflops", "fp8_tflops",
                      "fp4_tflops", "tdp_w", "interconnect", "launch_year", "origin", "source")),
    "llms": ("llms", ("id", "name", "total_params_b", "active_params_b", "n_layers",
                      "n_kv_heads", "attention", "max_context_tokens", "native_precision",
                      "origin")),
    "prices": ("cloud_prices", ("id", "provider", "pricing", "gpu_id", "gpus_per_instance",
                                "usd_per_hour", "usd_per_gpu_hour", "billing_granularity_s",
                                "region", "as_of", "origin")),
    "hardware-prices": ("hardware_prices", ("gpu_id", "condition", "usd_low", "usd_typical",
                                            "usd_high", "server_share_usd_typical", "as_of",
                                            "origin")),
    "api-prices": ("api_prices", ("id", "provider", "model", "llm_id",
                                  "usd_per_million_input_tokens",
                                  "usd_per_million_output_tokens",
                                  "cached_usd_per_million_input_tokens",
                                  "batch_usd_per_million_input_tokens", "as_of", "origin")),
    "energy": ("energy", ("id", "region", "setting", "usd_per_kwh_low", "usd_per_kwh_typical",
                          "usd_per_kwh_high", "pue_typical", "colocation_usd_per_kw_month_typical",
                          "as_of", "origin")),
    "purchase-units": ("purchase_units", ("gpu_id", "sold_as", "gpus_per_unit", "max_gpus_per_box",
                                          "host_usd_per_gpu_typical", "min_host_usd_per_box",
                                          "box_kw", "as_of", "origin")),
    "benchmarks": ("benchmarks", ("id", "engine", "gpu_id", "n_gpus", "model_id", "precision",
                                  "batch_size", "input_tokens", "output_tokens", "metric",
                                  "value", "origin")),
}


def cmd_catalog(args, out, err) -> int:
    from . import catalog

    table, columns = CATALOG_VIEWS[args.table]
    df = catalog.load_table(table)
    if args.gpu:
        gpu_id = catalog.gpu(args.gpu).id
        col = "id" if table == "gpus" else "gpu_id"
        if col not in df:
            raise UsageError(f"--gpu does not apply to 'catalog {args.table}'")
        df = df[df[col] == gpu_id]
        if df.empty:
            err.write(f"hwcost: warning: 'catalog {args.table}' has no row for GPU {gpu_id!r}\n")
    if args.format == "table":
        df = df[list(columns)]
        for col in df.columns:
            if df[col].map(lambda v: isinstance(v, tuple)).any():
                df[col] = df[col].map(lambda v: ";".join(v) if isinstance(v, tuple) else v)
    else:
        df = df.copy()
        for col in df.columns:
            if df[col].map(lambda v: isinstance(v, tuple)).any():
                df[col] = df[col].map(lambda v: ";".join(v) if isinstance(v, tuple) else v)
    _emit(df, args.format, out, float_format=_fmt_float)
    return 0


# ----------------------------------------------------------------------------------------
# model add
# ----------------------------------------------------------------------------------------
MODEL_EXAMPLES = """\
examples:
  hwcost model add ~/models/Qwen3-32B/config.json --hf-repo Qwen/Qwen3-32B
  hwcost model add config.json --id my-finetune --dry-run
  hwcost recommend --model my-finetune --requests-per-day 5000
"""


def cmd_model_add(args, out, err) -> int:
    from . import catalog

    row = catalog.llm_row_from_hf_config(args.config, id=args.id, name=args.name,
                                         hf_repo=args.hf_repo, aliases=args.alias)
    bundled = set(catalog.llms(path=catalog.DATA_DIR / "llms.csv")["id"])
    if not args.dry_run:
        path, added, replaced = catalog.save_user_rows("llms", [row], args.to,
                                                       overwrite=args.overwrite)
    shown = pd.DataFrame([{k: row[k] for k in ("id", "total_params_b", "active_params_b",
                                               "n_layers", "attention", "n_experts",
                                               "n_experts_active", "max_context_tokens",
                                               "native_precision")}])
    _emit(shown, args.format, out, float_format=_fmt_float)
    if args.format == "table":
        if args.dry_run:
            err.write("dry run: nothing written\n")
        else:
            verb = "replaced in" if replaced else "added to"
            over = " (overrides the bundled row with this id)" if row["id"] in bundled else ""
            err.write(f"{row['id']} {verb} {path}{over}\n")
    return 0


# ----------------------------------------------------------------------------------------
# prices import
# ----------------------------------------------------------------------------------------
PRICES_EXAMPLES = """\
examples:
  hwcost prices import my_cloud_prices_2027-01.csv
  hwcost prices import api_snapshot.csv --table api_prices --dry-run
"""


def cmd_prices_import(args, out, err) -> int:
    from . import catalog

    result = catalog.import_price_snapshot(args.snapshot, table=args.table,
                                           history=args.history, write=not args.dry_run)
    _emit(result.changes, args.format, out, float_format=_fmt_float)
    if args.format == "table":
        n = len(result.changes)
        what = "no price changed" if n == 0 else f"{n} price(s) changed or new"
        where = "dry run: nothing written" if args.dry_run else f"history: {result.history}"
        err.write(f"{result.table}: {result.rows} row(s) read, {what}; {where}\n")
    return 0


# ----------------------------------------------------------------------------------------
# Parser
# ----------------------------------------------------------------------------------------
MAIN_DESCRIPTION = """\
hwcost: what hardware to serve an LLM on, and what it costs.

examples:
  hwcost recommend --model llama-3.1-70b --requests-per-day 2000 \\
      --input-tokens 500 --output-tokens 200 --ttft-p95 1s
  hwcost estimate --model llama-3.1-8b --gpu rtx-4090 --precision int4
  hwcost run 02 -p gpu h100-sxm
  hwcost report --scenario data/scenarios/startup-chat-app.yaml
  hwcost catalog gpus
"""


def _add_case_arguments(p: argparse.ArgumentParser) -> None:
    """The workload, SLO, constraint and staff flags shared by ``recommend`` and ``memo``."""
    g = p.add_argument_group("workload")
    g.add_argument("--scenario", metavar="FILE",
                   help="scenario YAML (data/scenarios/...); other options override it")
    g.add_argument("--model", help="catalog model id, e.g. llama-3.1-70b")
    g.add_argument("--requests-per-day", type=_typed(validate.positive, high=MAX_REQUESTS_PER_DAY), metavar="N",
                   help="mean requests per day [1/day]")
    g.add_argument("--input-tokens", type=_positive_int, metavar="N",
                   help="mean prompt length [tokens] (default 512)")
    g.add_argument("--output-tokens", type=_positive_int, metavar="N",
                   help="mean generated length [tokens] (default 256)")
    g.add_argument("--profile", choices=("flat", "business-hours"),
                   help="daily traffic shape (default flat)")
    g.add_argument("--window-hours", type=_positive_number, metavar="H",
                   help="batch work: the day's requests are processed within H hours (e.g. 8 "
                        "for a nightly run) [h]")
    g.add_argument("--window-start-hour", type=_non_negative_number, metavar="H",
                   help="hour of day the window opens (default 0 = midnight) [h]")
    g.add_argument("--cached-input-share", type=_non_negative_number, metavar="S",
                   help="share of input tokens billed at an API's cached-input price, 0-1 "
                        "(default 0)")
    g = p.add_argument_group("latency SLO (durations: 1s, 500ms, 0.8)")
    g.add_argument("--ttft-p95", type=parse_duration, metavar="T", help="time to first token target")
    g.add_argument("--tpot-p95", type=parse_duration, metavar="T", help="time per output token target")
    g.add_argument("--e2e-p95", type=parse_duration, metavar="T", help="end-to-end latency target")
    g.add_argument("--percentile", type=_typed(validate.positive, high=100), metavar="P",
                   help="percentile the targets apply to (default 95)")
    g = p.add_argument_group("constraints")
    g.add_argument("--availability", metavar="A", help="target, e.g. 99.9%% or 0.999 (default 99%%)")
    g.add_argument("--privacy", action="store_true", help="data may not leave your infrastructure "
                                                          "(self-hosted only)")
    g.add_argument("--data-residency", metavar="REGION", help="region the data must stay in")
    g.add_argument("--horizon-months", type=_typed(validate.positive, high=1200), metavar="M",
                   help="planning horizon [months] (default 12)")
    g.add_argument("--budget-usd", type=_positive_number, metavar="USD",
                   help="cap on the money spent up front: capex of owned hardware [USD]")
    g.add_argument("--no-cloud", action="store_true", help="exclude cloud GPU rentals")
    g.add_argument("--no-self-hosted", action="store_true", help="exclude buying hardware")
    g.add_argument("--no-api", action="store_true", help="exclude hosted APIs")
    g.add_argument("--gpu", dest="gpus", action="append", type=_csv_list, metavar="IDS",
                   help="only these GPU ids (repeat or comma-separate)")
    g.add_argument("--precision", dest="precisions", action="append", type=_csv_list,
                   metavar="P", help="only these precisions (fp16, bf16, fp8, int8, int4)")
    g.add_argument("--engine", dest="engines", action="append", type=_csv_list, metavar="E",
                   help="serving engines to consider (default: generic)")
    g.add_argument("--provider", dest="providers", action="append", type=_csv_list, metavar="P",
                   help="only these cloud/API providers")
    g.add_argument("--energy", metavar="ID", help="energy.csv id for self-hosted power "
                                                  "(default: colocation for datacenter GPUs, "
                                                  "office for consumer/workstation cards)")
    g.add_argument("--max-gpus", type=_typed(validate.positive_int, high=MAX_GPUS), metavar="N",
                   help="cap on GPUs in a plan")
    g.add_argument("--segment", dest="segments", action="append", type=_csv_list, metavar="S",
                   help="only these segments: datacenter, workstation, consumer (owned GPUs), "
                        "cloud, api (repeat or comma-separate)")
    g = p.add_argument_group("operations staff (share of one systems administrator's time, "
                             "priced at the U.S. median wage with benefits)")
    g.add_argument("--self-hosted-staff-pct", type=_non_negative_number, metavar="P",
                   help="a flat staff time for owned hardware, whole deployment, instead of "
                        "the per-box rule [%%] (0 leaves staff out)")
    g.add_argument("--staff-base-pct", type=_non_negative_number, metavar="P",
                   help="staff time for an owned deployment, before its boxes [%%] (default 5)")
    g.add_argument("--staff-per-box-pct", type=_non_negative_number, metavar="P",
                   help="staff time per owned box (server, workstation, rack) [%%] (default 5)")
    g.add_argument("--cloud-staff-pct", type=_non_negative_number, metavar="P",
                   help="staff time for a serving stack on rented GPUs [%%] (default 5; "
                        "APIs carry none)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="hwcost", description=MAIN_DESCRIPTION, formatter_class=_Formatter)
    from . import __version__

    parser.add_argument("--version", action="version", version=f"hwcost {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("recommend", help="rank every hardware option for a workload",
                       description="Rank every feasible way to serve a workload by total cost "
                                   "over the planning horizon, subject to the latency SLO.\n\n"
                                   + RECOMMEND_EXAMPLES,
                       formatter_class=_Formatter)
    _add_case_arguments(p)
    g = p.add_argument_group("output")
    g.add_argument("--top", type=_typed(validate.positive_int, high=1_000_000), metavar="N",
                   help=f"rows to show (default {DEFAULT_TOP} feasible ones; with --all, every "
                        "option unless --top is given)")
    g.add_argument("--all", action="store_true",
                   help="show every option, with the constraint each infeasible one fails")
    g.add_argument("--max-price-age-days", type=_positive_int, default=180, metavar="N",
                   help="flag prices older than this [days] (default 180)")
    _add_format(g)
    p.set_defaults(func=cmd_recommend)

    p = sub.add_parser("memo", help="write a one-page decision memo (Markdown and HTML)",
                       description="Rank every option for a case and write a one-page decision "
                                   "memo: the question, the recommendation and the best option "
                                   "of each kind, capex and running cost with P10-P90, the bill "
                                   "of materials, every assumption and price with its date, "
                                   "risks, sensitivity and what would change the decision.\n\n"
                                   + MEMO_EXAMPLES,
                       formatter_class=_Formatter)
    _add_case_arguments(p)
    g = p.add_argument_group("output")
    g.add_argument("--output-dir", metavar="DIR",
                   help="where to write NAME.md and NAME.html (default memos/)")
    g.add_argument("--name", metavar="NAME",
                   help="file stem (default: the scenario's name, else memo-MODEL)")
    g.add_argument("--format", dest="formats", action="append", type=_csv_list, metavar="F",
                   help="md, html or both (default both)")
    g.add_argument("--max-price-age-days", type=_positive_int, default=180, metavar="N",
                   help="flag prices older than this [days] (default 180)")
    g.add_argument("--today", metavar="YYYY-MM-DD",
                   help="date price ages are counted to (default: today)")
    g.add_argument("--no-sensitivity", action="store_true",
                   help="skip the sensitivity table (six fewer rankings)")
    g.add_argument("--stdout", action="store_true", help="also print the Markdown")
    p.set_defaults(func=cmd_memo)

    p = sub.add_parser("estimate", help="one perf.estimate result",
                       description="Memory fit, latency and throughput of one configuration "
                                   "(hwcost.perf.estimate).\n\n" + ESTIMATE_EXAMPLES,
                       formatter_class=_Formatter)
    p.add_argument("--model", required=True, help="catalog model id")
    p.add_argument("--gpu", required=True, help="catalog GPU id")
    p.add_argument("--n-gpus", type=_typed(validate.positive_int, high=MAX_GPUS), default=1, metavar="N",
                   help="GPUs per replica (tensor parallel) (default 1)")
    p.add_argument("--precision", default="bf16", help="weight precision (default bf16)")
    p.add_argument("--kv-precision", default=None, help="KV-cache precision (default: as weights)")
    p.add_argument("--batch-size", type=_batch_size, default=1, metavar="N|max",
                   help="concurrent sequences, or 'max' for the most that fit memory up to the "
                        "engine's sequence limit (default 1)")
    p.add_argument("--input-tokens", type=_positive_int, default=512, metavar="N")
    p.add_argument("--output-tokens", type=_positive_int, default=128, metavar="N")
    p.add_argument("--max-output-tokens", type=_positive_int, default=None, metavar="N",
                   help="output lengths spread around --output-tokens up to N (chat datasets): "
                        "'max' then fits fewer sequences (default: all equal)")
    p.add_argument("--engine", default=None, help="serving engine id (default generic)")
    p.add_argument("--max-batch", type=_typed(validate.positive_int, high=65536), default=None,
                   metavar="N", help="the server's sequence limit (vLLM --max-num-seqs; "
                                     "default: the engine's own)")
    p.add_argument("--layout", default=None,
                   help="parallel layout of a multi-GPU replica: tp, ep or dp-attention+ep "
                        "(default tp)")
    _add_format(p)
    p.set_defaults(func=cmd_estimate)

    p = sub.add_parser("calibrate", help="fit the model to your own benchmark runs",
                       description="Fit a calibration overlay to your own benchmark runs and show "
                                   "measured against predicted before and after.\n\n"
                                   + CALIBRATE_EXAMPLES,
                       formatter_class=_Formatter)
    p.add_argument("files", nargs="+", metavar="FILE",
                   help="vllm bench serve JSON, GuideLLM report (JSON/YAML) or CSV")
    p.add_argument("-o", "--output", metavar="FILE", help="write the overlay here (JSON)")
    p.add_argument("--force", action="store_true", help="replace an existing --output file")
    p.add_argument("--gpu", default=None, help="catalog GPU id, where a file does not record it")
    p.add_argument("--model", default=None, help="catalog model id, where a file does not record it")
    p.add_argument("--engine", default=None, help="engine id, where a file does not record it")
    p.add_argument("--n-gpus", type=_positive_int, default=None, metavar="N",
                   help="GPUs of the replica, where a file does not record it")
    p.add_argument("--precision", default=None, help="weight precision, where a file does not record it")
    _add_format(p)
    p.set_defaults(func=cmd_calibrate)

    p = sub.add_parser("run", help="execute one notebook with parameters into runs/",
                       description="Execute one notebook with papermill and write the "
                                   "executed notebook and its HTML.\n\n" + RUN_EXAMPLES,
                       formatter_class=_Formatter)
    p.add_argument("notebook", help="notebook path, file name, stem or unique prefix (03)")
    p.add_argument("-p", "--param", nargs=2, action="append", metavar=("NAME", "VALUE"),
                   help="set a parameter (repeatable)")
    p.add_argument("-f", "--file", metavar="PARAMS.yaml", help="parameters from a YAML mapping")
    p.add_argument("--output-dir", metavar="DIR", help="where to write (default runs/)")
    p.add_argument("--no-html", action="store_true", help="skip the HTML conversion")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("report", help="execute the whole collection into an HTML report",
                       description="Execute every notebook and write an offline HTML report."
                                   "\n\n" + REPORT_EXAMPLES,
                       formatter_class=_Formatter)
    p.add_argument("--scenario", metavar="FILE",
                   help="scenario YAML or bundled stem (default: notebook defaults)")
    p.add_argument("--output-dir", metavar="DIR", help="where to write (default reports/)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("catalog", help="list the data catalog",
                       description="List a catalog table (validated on load).\n\n"
                                   + CATALOG_EXAMPLES,
                       formatter_class=_Formatter)
    p.add_argument("table", choices=tuple(CATALOG_VIEWS),
                   help="gpus, llms, prices (cloud), hardware-prices, api-prices, energy, "
                        "purchase-units (how each GPU is bought), benchmarks")
    p.add_argument("--gpu", help="only rows for this GPU")
    _add_format(p)
    p.set_defaults(func=cmd_catalog)

    p = sub.add_parser("model", help="add a model to your catalog from its config.json",
                       description="Models in your own catalog.\n\n" + MODEL_EXAMPLES,
                       formatter_class=_Formatter)
    msub = p.add_subparsers(dest="model_command", metavar="ACTION", parser_class=_Parser)
    q = msub.add_parser("add", help="read a Hugging Face config.json into your llms table",
                        description="Count total and active parameters from the shapes in a "
                                    "Hugging Face config.json, validate the row and save it "
                                    "to your llms table (HWCOST_LLMS_CSV, else "
                                    "~/.hwcost/llms.csv).\n\n" + MODEL_EXAMPLES,
                        formatter_class=_Formatter)
    q.add_argument("config", metavar="CONFIG.json", help="the model's config.json")
    q.add_argument("--id", help="catalog id (default: the file or folder name)")
    q.add_argument("--name", help="display name (default: the id)")
    q.add_argument("--hf-repo", metavar="ORG/NAME", help="Hugging Face repository")
    q.add_argument("--alias", action="append", default=[], metavar="NAME",
                   help="another name to look the model up by (repeatable)")
    q.add_argument("--to", metavar="FILE", help="user table to write (default as above)")
    q.add_argument("--overwrite", action="store_true",
                   help="replace a row with the same id already in your table")
    q.add_argument("--dry-run", action="store_true", help="print the row, write nothing")
    _add_format(q)
    q.set_defaults(func=cmd_model_add)

    p = sub.add_parser("prices", help="import a price snapshot into the dated price history",
                       description="Price history.\n\n" + PRICES_EXAMPLES,
                       formatter_class=_Formatter)
    psub = p.add_subparsers(dest="prices_command", metavar="ACTION", parser_class=_Parser)
    q = psub.add_parser("import", help="validate a snapshot, append it to the history, "
                                       "report what changed",
                        description="Validate a price snapshot (a cloud_prices, api_prices or "
                                    "hardware_prices CSV), append it to the dated history "
                                    "file and report each price that changed since the "
                                    "history last saw it.\n\n" + PRICES_EXAMPLES,
                        formatter_class=_Formatter)
    q.add_argument("snapshot", metavar="SNAPSHOT.csv", help="the snapshot file")
    q.add_argument("--table", choices=("cloud_prices", "api_prices", "hardware_prices"),
                   help="which table the snapshot holds (default: told from its columns)")
    q.add_argument("--history", metavar="FILE",
                   help="history file (default: HWCOST_PRICE_HISTORY_CSV, else "
                        "~/.hwcost/price_history.csv)")
    q.add_argument("--dry-run", action="store_true", help="report the changes, write nothing")
    _add_format(q)
    q.set_defaults(func=cmd_prices_import)
    _add_calibration_option(sub)
    return parser


CALIBRATED_COMMANDS = ("recommend", "estimate", "run", "report", "memo")
"""Subcommands that take ``--calibration FILE`` (those whose figures rest on predicted speed)."""


def _add_calibration_option(sub) -> None:
    for name in CALIBRATED_COMMANDS:
        p = sub.choices.get(name)
        if p is not None:
            p.add_argument("--calibration", metavar="FILE",
                           help="your own benchmark runs (vllm bench serve JSON, GuideLLM report, "
                                "CSV) or a saved overlay: predictions for their GPU and engine "
                                "follow them (also: HWCOST_CALIBRATION=FILE)")


@contextlib.contextmanager
def _calibration(path):
    """Use the calibration file ``path`` for this command, notebooks' kernels included."""
    if not path:
        yield
        return
    from .perf import CALIBRATION_ENV_VAR, features, load_calibration

    full = str(Path(path).expanduser().resolve())
    load_calibration(full)  # fail now, with the file named, not inside a notebook
    before = os.environ.get(CALIBRATION_ENV_VAR)
    os.environ[CALIBRATION_ENV_VAR] = full
    features.default_calibration.cache_clear()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(CALIBRATION_ENV_VAR, None)
        else:
            os.environ[CALIBRATION_ENV_VAR] = before
        features.default_calibration.cache_clear()
#: Longest error message printed; a longer one is cut (a value can be huge). [characters]
MAX_MESSAGE_CHARS = 2000


def _one_line(message: str) -> str:
    lines = [ln.strip() for ln in str(message)[:MAX_MESSAGE_CHARS * 2].splitlines() if ln.strip()]
    text = "; ".join(lines) if lines else "failed"
    return text if len(text) <= MAX_MESSAGE_CHARS else text[:MAX_MESSAGE_CHARS - 3] + "..."


def main(argv: Sequence[str] | None = None, *, out=None, err=None) -> int:
    """Entry point of the ``hwcost`` console script; returns the exit status."""
    out = out or sys.stdout
    err = err or sys.stderr
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # --help / --version
            return int(exc.code or 0)
        if not getattr(args, "func", None):
            parser.print_help(out)
            return EXIT_USAGE
        if getattr(args, "availability", None) is not None:
            from .requirements import fraction_or_percent

            args.availability = fraction_or_percent("--availability", args.availability)
        args._command = _memo_command(argv) if args.command == "memo" else ""
        with _calibration(getattr(args, "calibration", None)), warnings.catch_warnings():
            warnings.simplefilter("always", HwcostWarning)
            library_show = warnings.showwarning

            def show(message, category, *rest, **kw):
                if issubclass(category, HwcostWarning):
                    err.write(f"hwcost: warning: {_one_line(message)}\n")
                else:  # a library's own warning keeps its usual form
                    library_show(message, category, *rest, **kw)

            warnings.showwarning = show
            return args.func(args, out, err)
    except UsageError as exc:
        err.write(f"hwcost: error: {_one_line(exc)}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        err.write("hwcost: error: interrupted\n")
        return 130
    except BrokenPipeError:
        return 0
    except (NotebookFailed, NoFeasibleOption) as exc:
        err.write(f"hwcost: error: {_one_line(exc)}\n")
        return EXIT_FAILED
    except HwcostError as exc:
        err.write(f"hwcost: error: {_one_line(exc)}\n")
        return EXIT_USAGE
    except OSError as exc:  # a file that cannot be read or written: the message names it
        err.write(f"hwcost: error: {_one_line(exc)}\n")
        return EXIT_FAILED
    except Exception:  # noqa: BLE001 -- anything else is a bug: show where it is
        err.write(traceback.format_exc())
        err.write("hwcost: internal error: this is a bug, please report it with the command "
                  "line and the traceback above\n")
        return EXIT_BUG


def _entry() -> None:  # pragma: no cover
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    _entry()
