"""A team's own benchmark runs, read into rows of the benchmark table.

Three formats are read:

- ``vllm bench serve --save-result`` JSON (one object; ``--append-result`` writes one per
  line). The file names the model (``model_id``) and the load (``max_concurrency``,
  ``request_rate``) but not the hardware: pass ``gpu=`` (and ``n_gpus=``, ``precision=``), or
  record them at run time with ``--metadata gpu=h100-sxm n_gpus=1 precision=bf16`` (metadata
  keys are written at the top level of the file and read here).
- GuideLLM reports (``guidellm ... --output kind=json`` or ``yaml``; report schema version 2:
  ``benchmarks[*].config.strategy`` and ``benchmarks[*].metrics``).
- A plain CSV with one run per row (see :data:`CSV_COLUMNS`).

Every run becomes :class:`ServingRun` and then benchmark rows through one mapping
(:func:`benchmark_rows`), so the three formats agree. The mapping keeps only the metrics the
static performance model predicts for the same conditions:

- a run at concurrency 1 gives ``ttft_s``, ``tpot_s`` and ``output_tokens_per_s`` at batch 1;
- a closed-loop run at concurrency N > 1 gives ``output_tokens_per_s`` and ``tpot_s`` at
  concurrency N (``load`` ``concurrency``: predicted in the closed loop's steady state, each
  new prompt's prefill interrupting the running batch); its TTFT is left out: under load a
  prompt's first token waits for other prompts' prefill and for running decode iterations,
  which is not the whole-batch prefill the ``ttft_s`` metric describes;
- an open-loop run at a request rate gives ``tpot_s`` at its mean concurrency, in the same
  steady state (mean concurrency measured by GuideLLM; for vLLM, Little's law: completed
  requests per second x mean end-to-end latency); its throughput is the offered load, not a
  capacity, and is left out;
- runs with speculative decoding (acceptance figures in the file) are left out: the table's
  rows describe plain decoding.

Medians are used for latencies (the bundled rows are medians or means of steady runs).
Each left-out figure is listed in ``attrs["skipped"]`` with its reason.
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from hwcost import catalog
from hwcost.errors import HwcostError

CSV_COLUMNS = ("model_id", "gpu_id", "n_gpus", "engine", "precision", "concurrency",
               "request_rate", "input_tokens", "output_tokens", "ttft_s", "tpot_s",
               "output_tokens_per_s")
"""Columns of the plain CSV format. ``concurrency`` or ``request_rate`` (one of them) says
the load; ``ttft_s``, ``tpot_s`` and ``output_tokens_per_s`` may be left empty; optional
``mean_concurrency`` (measured), ``kv_precision``, ``source`` and ``as_of`` columns are read
when present."""

ROW_COLUMNS = ("id", "engine", "gpu_id", "n_gpus", "model_id", "precision", "kv_precision",
               "load", "batch_size", "input_tokens", "output_tokens", "metric", "value", "source",
               "as_of", "notes")


@dataclass(frozen=True)
class ServingRun:
    """One benchmark run against a serving endpoint, format-independent.

    Attributes
    ----------
    model_id, gpu_id, engine, precision : str
        Catalog ids (``engine`` as :func:`hwcost.perf.engines` names it).
    n_gpus : int
        GPUs serving the model (one replica).
    concurrency : int or None
        Closed-loop concurrency (requests in flight), None for an open-loop run.
    request_rate : float or None
        Offered requests per second of an open-loop run; None (or inf) for closed loop.
    mean_concurrency : float or None
        Measured mean requests in flight. [requests]
    input_tokens, output_tokens : float
        Mean prompt and generated tokens per request. [tokens]
    ttft_s, tpot_s : float or None
        Median time to first token and time per output token after the first. [s]
    output_tokens_per_s : float or None
        Generated tokens per second of the whole run. [tokens/s]
    speculative : bool
        The server ran speculative decoding.
    source : str
        Where the figures come from (file name and run).
    """

    model_id: str
    gpu_id: str
    engine: str
    precision: str
    n_gpus: int
    concurrency: int | None
    request_rate: float | None
    mean_concurrency: float | None
    input_tokens: float
    output_tokens: float
    ttft_s: float | None
    tpot_s: float | None
    output_tokens_per_s: float | None
    speculative: bool = False
    kv_precision: str | None = None
    source: str = "user run"
    as_of: str | None = None


# ----------------------------------------------------------------------------------------
# Id resolution
# ----------------------------------------------------------------------------------------
def model_id(name: str) -> str:
    """Catalog id of a model named by catalog id, alias, name or Hugging Face repository.

    Tries the catalog lookup, then the ``hf_repo`` column (case-insensitive), then the last
    path component without a trailing ``-Instruct``/``-chat``/``-hf`` style suffix.
    """
    if not isinstance(name, str) or not name.strip():
        raise HwcostError(f"model must be a non-empty string, got {name!r}")
    text = name.strip()
    try:
        return catalog.llm(text).id
    except ValueError:
        pass
    table = catalog.llms()
    repos = table["hf_repo"].fillna("").str.lower()
    hit = table.loc[repos == text.lower(), "id"]
    if len(hit):
        return str(hit.iloc[0])
    tail = text.rstrip("/").split("/")[-1]
    for cand in (tail, re.sub(r"(?i)[-_.](instruct|chat|it|hf|fp8|awq|gptq|int4|int8)(?=$|[-_.]).*$", "", tail)):
        try:
            return catalog.llm(cand).id
        except ValueError:
            continue
    raise HwcostError(f"model {name!r} is not in the catalog (ids, aliases, names and "
                     f"hf_repo were tried); pass model= with a catalog id, e.g. "
                     f"{', '.join(list(table['id'])[:3])}")


def _gpu_id(name) -> str:
    if name is None or (isinstance(name, float) and math.isnan(name)) or str(name).strip() == "":
        raise HwcostError("the GPU is not recorded in the file: pass gpu= (a catalog GPU id, "
                         "e.g. h100-sxm), or for vllm bench serve add --metadata gpu=<id>")
    return catalog.gpu(str(name).strip()).id


def _number(value, what: str, *, allow_none=True):
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "none", "null")):
        if allow_none:
            return None
        raise HwcostError(f"{what} is missing")
    if isinstance(value, str) and value.strip().lower() in ("inf", "infinity"):
        return math.inf
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise HwcostError(f"{what} must be a number, got {value!r}") from None
    if math.isnan(x):
        if allow_none:
            return None
        raise HwcostError(f"{what} is missing")
    if x < 0:
        raise HwcostError(f"{what} must be >= 0, got {value!r}")
    return x


def _pick(given, recorded, default=None):
    """What the file records, else what the caller gave, else ``default``."""
    if recorded not in (None, ""):
        return recorded
    return given if given is not None else default


# ----------------------------------------------------------------------------------------
# vLLM
# ----------------------------------------------------------------------------------------
def _read_json_objects(path: Path) -> list[dict]:
    text = path.read_text(encoding="utf-8")
    try:
        obj = json.loads(text)
        return obj if isinstance(obj, list) else [obj]
    except json.JSONDecodeError:
        objs = []
        for k, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    objs.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise HwcostError(f"{path.name}: line {k} is not JSON ({exc.msg})") from None
        return objs


def vllm_runs(path, *, gpu=None, model=None, engine=None, n_gpus=None, precision=None,
              kv_precision=None) -> list[ServingRun]:
    """Runs in a ``vllm bench serve --save-result`` (or ``--append-result``) JSON file.

    Keyword arguments fill in what the file does not record (``model_id`` and the
    ``--metadata`` keys ``gpu``, ``n_gpus``, ``engine``, ``precision``, ``kv_precision``), as
    they fill the empty cells of a CSV: what a file records wins.
    """
    path = Path(path)
    runs = []
    for k, d in enumerate(_read_json_objects(path)):
        if not isinstance(d, dict) or "output_throughput" not in d or "median_tpot_ms" not in d:
            raise HwcostError(f"{path.name}: run {k} lacks output_throughput / median_tpot_ms; "
                             "expected a 'vllm bench serve --save-result' file")
        completed = _number(d.get("completed"), "completed", allow_none=False)
        if not completed:
            raise HwcostError(f"{path.name}: run {k} completed no request")
        rate = _number(d.get("request_rate"), "request_rate")
        conc = d.get("max_concurrency")
        conc = None if conc in (None, "") else int(_number(conc, "max_concurrency"))
        closed = rate is None or math.isinf(rate)
        mean_conc = None
        if not closed and d.get("mean_e2el_ms") is not None:
            mean_conc = float(d["request_throughput"]) * float(d["mean_e2el_ms"]) / 1e3
        spec = any(str(key).startswith("spec_decode") for key in d)
        runs.append(ServingRun(
            model_id=model_id(_pick(model, d.get("model") or d.get("model_id"))),
            gpu_id=_gpu_id(_pick(gpu, d.get("gpu"))),
            engine=str(_pick(engine, d.get("engine"), "vllm")),
            precision=str(_pick(precision, d.get("precision"), "bf16")),
            kv_precision=_pick(kv_precision, d.get("kv_precision")),
            n_gpus=int(_number(_pick(n_gpus, d.get("n_gpus"), 1), "n_gpus")),
            concurrency=conc if closed else None,
            request_rate=None if closed else rate,
            mean_concurrency=mean_conc,
            input_tokens=float(d["total_input_tokens"]) / completed,
            output_tokens=float(d["total_output_tokens"]) / completed,
            ttft_s=_ms(d.get("median_ttft_ms")),
            tpot_s=_ms(d.get("median_tpot_ms")),
            output_tokens_per_s=_number(d.get("output_throughput"), "output_throughput"),
            speculative=spec,
            source=f"{path.name} (vllm bench serve, run {k}, {d.get('date', 'undated')})",
            as_of=_vllm_date(d.get("date")),
        ))
    return runs


def _ms(v):
    x = _number(v, "latency")
    return None if x is None else x / 1e3


def _vllm_date(text) -> str | None:
    m = re.match(r"(\d{4})(\d{2})(\d{2})", str(text or ""))
    return f"{m.group(1)}-{m.group(2)}-{m.group(3)}" if m else None


# ----------------------------------------------------------------------------------------
# GuideLLM
# ----------------------------------------------------------------------------------------
def _summary(metrics: dict, name: str, stat: str):
    """``metrics[name]['successful'][stat]`` of a GuideLLM status distribution summary."""
    node = metrics.get(name)
    if not isinstance(node, dict):
        return None
    node = node.get("successful", node)
    if not isinstance(node, dict):
        return None
    v = node.get(stat)
    if v is None and stat == "median":
        v = (node.get("percentiles") or {}).get("p50")
    return None if v is None else float(v)


def guidellm_runs(path, *, gpu=None, model=None, engine="vllm", n_gpus=1, precision="bf16",
                  kv_precision=None) -> list[ServingRun]:
    """Runs in a GuideLLM benchmarks report (JSON or YAML, report schema version 2).

    One run per entry of ``benchmarks``: the strategy gives the load (``synchronous`` =
    concurrency 1, ``concurrent`` = ``streams``, ``throughput`` = all requests at once,
    ``constant``/``poisson`` = ``rate``), and the metrics the medians of
    ``time_to_first_token_ms`` and ``inter_token_latency_ms`` (vLLM's TPOT: first token
    excluded), the mean of ``output_tokens_per_second``, ``request_concurrency``,
    ``prompt_token_count`` and ``output_token_count``.
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        report = yaml.safe_load(text)
    else:
        report = json.loads(text)
    if not isinstance(report, dict) or not isinstance(report.get("benchmarks"), list):
        raise HwcostError(f"{path.name}: no 'benchmarks' list; expected a GuideLLM report "
                         "(guidellm ... --output kind=json)")
    runs = []
    for k, b in enumerate(report["benchmarks"]):
        cfg = b.get("config") or b.get("args") or {}
        strat = cfg.get("strategy") or {}
        kind = strat.get("type_") or strat.get("type")
        met = b.get("metrics") or {}
        mean_conc = _summary(met, "request_concurrency", "mean")
        conc, rate = None, None
        if kind == "synchronous":
            conc = 1
        elif kind == "concurrent":
            conc = int(strat["streams"])
        elif kind == "throughput":
            conc = int(strat.get("max_concurrency") or round(mean_conc or 0)) or None
        elif kind in ("constant", "poisson", "async"):
            rate = float(strat["rate"])
        else:
            raise HwcostError(f"{path.name}: benchmark {k} has strategy {kind!r}; accepted: "
                             "synchronous, concurrent, throughput, constant, poisson")
        if conc is None and rate is None:
            raise HwcostError(f"{path.name}: benchmark {k}: no concurrency recorded")
        backend = cfg.get("backend") or {}
        recorded_model = (backend.get("model") if isinstance(backend, dict) else None) or \
            (report.get("config") or {}).get("model")
        inp = _summary(met, "prompt_token_count", "mean")
        out = _summary(met, "output_token_count", "mean")
        if not inp or not out:
            raise HwcostError(f"{path.name}: benchmark {k} lacks prompt/output token counts")
        ttft = _summary(met, "time_to_first_token_ms", "median")
        itl = _summary(met, "inter_token_latency_ms", "median")
        runs.append(ServingRun(
            model_id=model_id(_pick(model, recorded_model)),
            gpu_id=_gpu_id(gpu), engine=str(engine), precision=str(precision),
            kv_precision=kv_precision, n_gpus=int(n_gpus),
            concurrency=conc, request_rate=rate, mean_concurrency=mean_conc,
            input_tokens=inp, output_tokens=out,
            ttft_s=None if ttft is None else ttft / 1e3,
            tpot_s=None if itl is None else itl / 1e3,
            output_tokens_per_s=_summary(met, "output_tokens_per_second", "mean"),
            source=f"{path.name} (GuideLLM, benchmark {k}, {kind})",
        ))
    return runs


# ----------------------------------------------------------------------------------------
# Plain CSV
# ----------------------------------------------------------------------------------------
def csv_runs(path, **defaults) -> list[ServingRun]:
    """Runs in a plain CSV (:data:`CSV_COLUMNS`); keyword arguments fill empty columns."""
    path = Path(path)
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    if not rows:
        raise HwcostError(f"{path.name}: no rows")
    need = {"model_id", "gpu_id", "input_tokens", "output_tokens"} - set(rows[0]) - set(
        k.removesuffix("_id") and k for k in defaults)
    need = {c for c in need if not defaults.get(c.removesuffix("_id")) and not defaults.get(c)}
    if need:
        raise HwcostError(f"{path.name}: missing column(s) {', '.join(sorted(need))}; "
                         f"expected {', '.join(CSV_COLUMNS)}")
    runs = []
    for k, r in enumerate(rows, 2):
        def get(col, default=None, r=r):
            v = (r.get(col) or "").strip()
            return v if v else defaults.get(col, defaults.get(col.removesuffix("_id"), default))

        where = f"{path.name} line {k}"
        conc = _number(get("concurrency"), f"{where}: concurrency")
        rate = _number(get("request_rate"), f"{where}: request_rate")
        if conc is None and (rate is None or math.isinf(rate)):
            raise HwcostError(f"{where}: give concurrency (closed loop) or request_rate")
        if conc is not None and (conc < 1 or conc != int(conc)):
            raise HwcostError(f"{where}: concurrency must be an integer >= 1, got {conc!r}")
        runs.append(ServingRun(
            model_id=model_id(get("model_id")), gpu_id=_gpu_id(get("gpu_id")),
            engine=str(get("engine", "vllm")), precision=str(get("precision", "bf16")),
            kv_precision=get("kv_precision"),
            n_gpus=int(_number(get("n_gpus", 1), f"{where}: n_gpus", allow_none=False)),
            concurrency=None if conc is None else int(conc),
            request_rate=None if conc is not None else rate,
            mean_concurrency=_number(get("mean_concurrency"), f"{where}: mean_concurrency"),
            input_tokens=_number(get("input_tokens"), f"{where}: input_tokens", allow_none=False),
            output_tokens=_number(get("output_tokens"), f"{where}: output_tokens", allow_none=False),
            ttft_s=_number(get("ttft_s"), f"{where}: ttft_s"),
            tpot_s=_number(get("tpot_s"), f"{where}: tpot_s"),
            output_tokens_per_s=_number(get("output_tokens_per_s"), f"{where}: output_tokens_per_s"),
            source=str(get("source", f"{path.name} line {k}")), as_of=get("as_of"),
        ))
    return runs


# ----------------------------------------------------------------------------------------
# Runs -> benchmark rows
# ----------------------------------------------------------------------------------------
def benchmark_rows(runs) -> pd.DataFrame:
    """Benchmark-table rows (:data:`ROW_COLUMNS`) for the metrics each run measures as the
    performance model defines them (see the module notes); ``attrs['skipped']`` lists the rest."""
    rows, skipped = [], []
    for k, r in enumerate(runs):
        base = dict(engine=r.engine, gpu_id=r.gpu_id, n_gpus=r.n_gpus, model_id=r.model_id,
                    precision=r.precision, kv_precision=r.kv_precision,
                    input_tokens=max(1, round(r.input_tokens)),
                    output_tokens=max(1, round(r.output_tokens)),
                    source=r.source, as_of=r.as_of or "")
        tag = f"user-{k}-{r.model_id}-{r.gpu_id}-{r.engine}"
        if r.speculative:
            skipped.append((r.source, "speculative decoding was on; rows describe plain decoding"))
            continue
        if r.concurrency is not None:
            batch = int(r.concurrency)
            load = f"closed loop, concurrency {batch}"
            metrics = [("output_tokens_per_s", r.output_tokens_per_s, batch),
                       ("tpot_s", r.tpot_s, batch)]
            if batch == 1:
                metrics.append(("ttft_s", r.ttft_s, 1))
            elif r.ttft_s is not None:
                skipped.append((r.source, "TTFT under concurrency > 1 includes waiting for other "
                                          "prompts and decode iterations"))
        else:
            if not r.mean_concurrency or r.mean_concurrency <= 0:
                skipped.append((r.source, "open-loop run without a mean concurrency"))
                continue
            batch = max(1, round(r.mean_concurrency))
            load = (f"open loop at {r.request_rate:g} requests/s, mean concurrency "
                    f"{r.mean_concurrency:.2f}")
            metrics = [("tpot_s", r.tpot_s, batch)]
            if r.output_tokens_per_s is not None:
                skipped.append((r.source, "throughput of an open-loop run is the offered load"))
        for metric, value, b in metrics:
            if value is None or not value > 0 or not math.isfinite(value):
                continue
            rows.append(dict(base, id=f"{tag}-{metric}-b{b}".replace(".", "_"), batch_size=str(b),
                             load="concurrency", metric=metric, value=float(value),
                             notes=f"imported user measurement; {load}"))
    df = pd.DataFrame(rows, columns=list(ROW_COLUMNS))
    df.attrs["skipped"] = skipped
    return df


def read_runs(path, **kwargs) -> pd.DataFrame:
    """Benchmark rows from one measurement file of any supported format (detected from the
    content): ``vllm bench serve`` JSON, GuideLLM JSON/YAML or the plain CSV."""
    path = Path(os.fspath(path))
    if not path.is_file():
        raise HwcostError(f"measurement file {str(path)!r} not found")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        runs = csv_runs(path, **{k: v for k, v in kwargs.items() if v is not None})
    elif suffix in (".yaml", ".yml"):
        runs = guidellm_runs(path, **{k: v for k, v in kwargs.items() if v is not None})
    elif suffix in (".json", ".jsonl"):
        head = path.read_text(encoding="utf-8")[:200000]
        if '"benchmarks"' in head:
            runs = guidellm_runs(path, **{k: v for k, v in kwargs.items() if v is not None})
        else:
            runs = vllm_runs(path, **kwargs)
    else:
        raise HwcostError(f"measurement file {path.name!r}: unknown format {suffix or '(none)'}; "
                         "accepted: .json/.jsonl (vllm bench serve, GuideLLM), .yaml (GuideLLM), .csv")
    return benchmark_rows(runs)
