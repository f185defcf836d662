"""Scenario files: one team's situation in YAML, validated on load.

A scenario names a workload, its latency targets, the constraints on where it may run, and
optionally the notebook parameters ``hwcost report --scenario`` passes to the collection.
The bundled scenarios are in ``data/scenarios/``. Layout (all keys but ``name``,
``workload`` and one of ``source``/``description`` are optional)::

    name: article-scenario-2
    description: What the file represents, in a sentence or two.
    source: Where the numbers come from (document + section, or URL).
    workload:
      model: llama-3.1-70b          # catalog id
      requests_per_day: 2000        # [1/day]
      input_tokens: 500             # [tokens]
      output_tokens: 200            # [tokens]
      daily_profile: flat           # flat | business-hours | 24 relative hourly weights
      input_tokens_cv: 0.0          # coefficient of variation of lengths
      output_tokens_cv: 0.0
      window_hours: 8               # batch work: the day's requests within 8 h [h] (optional)
      window_start_hour: 22         # when the window opens [h]
      cached_input_share: 0.5       # input tokens billed at an API's cached-input price [-]
    slo:
      ttft_p95_s: 1.0               # [s]
      tpot_p95_s: 0.1               # [s]
      e2e_p95_s: 30                 # [s]
      percentile: 95                # the percentile the three targets apply to
    constraints:                    # any field of hwcost.requirements.Constraints but slo
      availability: 0.999
      privacy: false
      horizon_months: 12
      budget_usd: 250000            # cap on the money paid up front for owned hardware [USD]
      segments: [datacenter, cloud, api]   # which options to consider
    notebook_parameters:            # notebook stem, or "*" for every notebook declaring it
      "*": {energy_setting: us-commercial}

Every error names the file, the key (dotted path) and what is accepted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

from . import catalog, parameters, validate
from .errors import HwcostError, ScenarioError
from .requirements import (
    FLAT_PROFILE,
    PROFILES,  # noqa: F401  (re-exported: scenario.PROFILES names the bundled profiles)
    SLO,
    WORKLOAD_FIELDS,
    Case,
    Constraints,
    Workload,
    constraint_fields,
    daily_profile,
)

SCENARIO_DIR = catalog.DATA_DIR / "scenarios"

TOP_KEYS = ("name", "description", "source", "workload", "slo", "constraints",
            "notebook_parameters")
WORKLOAD_KEYS = WORKLOAD_FIELDS  # the case builder's workload fields (window_hours, ...)
SLO_KEYS = ("ttft_p95_s", "tpot_p95_s", "e2e_p95_s", "percentile")


@dataclass(frozen=True)
class Scenario:
    """A validated scenario file.

    Attributes
    ----------
    name, description, source : str
    workload : Workload
    slo : SLO
    constraints : hwcost.requirements.Constraints
        With ``slo`` filled in.
    notebook_parameters : dict
        ``{notebook stem or "*": {parameter: value}}`` as written in the file.
    path : Path or None
    """

    name: str
    description: str
    source: str
    workload: Workload
    slo: SLO
    constraints: Constraints
    notebook_parameters: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    path: Path | None = None

    @property
    def case(self) -> Case:
        """The scenario as a :class:`hwcost.requirements.Case` (the base of ``build_case``)."""
        return Case(self.workload, self.constraints, None, f"scenario {self.name}")

    def reference(self) -> str:
        """How a notebook's ``scenario`` parameter names this file: the stem of a bundled
        scenario, else its absolute path (notebooks run with ``notebooks/`` as their working
        directory)."""
        if self.path is None:
            return self.name
        path = Path(self.path).resolve()
        if path.parent == SCENARIO_DIR.resolve():
            return path.stem
        return str(path)

    def report_parameters(self) -> dict[str, dict[str, Any]]:
        """Parameters for :func:`hwcost.report.build`.

        Every notebook parameter that carries a part of the case
        (:func:`hwcost.requirements.notebook_parameters`: workload, latency targets,
        availability, privacy, traffic shape, horizon, budget, electricity, staff) and
        ``scenario`` (the file itself, for notebooks that build the whole case from it) go to
        every notebook that declares them (``"*"``); the file's ``notebook_parameters``
        override them.
        """
        from .requirements import notebook_parameters

        derived = notebook_parameters(self.case)
        derived["scenario"] = self.reference()
        out: dict[str, dict[str, Any]] = {"*": derived}
        for key, values in self.notebook_parameters.items():
            out.setdefault(key, {}).update(values)
        return out

    def check_notebooks(self, declared: Mapping[str, Any]) -> None:
        """Check ``notebook_parameters`` against the notebooks that will run.

        Parameters
        ----------
        declared : mapping
            ``{notebook stem: names of the parameters it declares}`` for the notebooks that
            will run (``hwcost.report.declared_parameters`` gives the names).

        Every stem must name one of those notebooks and every parameter given for a stem must
        be declared by it. Names under ``"*"`` go to the notebooks that declare them and are
        only checked by value (on load).

        Raises
        ------
        ScenarioError
            Naming the file, the key and the accepted names.
        """
        declared = {stem: set(names) for stem, names in declared.items()}
        for stem, values in self.notebook_parameters.items():
            if stem == "*":
                continue
            if stem not in declared:
                raise _fail(self.path, f"notebook_parameters.{stem}",
                            f"no notebook named {stem!r}; notebooks: {', '.join(declared) or 'none'}")
            for name in values:
                if name not in declared[stem]:
                    raise _fail(self.path, f"notebook_parameters.{stem}.{name}",
                                f"not a parameter of {stem}; declared: "
                                f"{', '.join(sorted(declared[stem])) or 'none'}")


class _UniqueKeyLoader(yaml.SafeLoader):
    """Safe YAML loader that rejects a key given twice in one mapping."""


def _construct_mapping(loader, node, deep=False):
    seen = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} given twice (first on line {seen[key] + 1})",
                key_node.start_mark,
            )
        seen[key] = key_node.start_mark.line
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)

#: Largest scenario or parameters file read. [bytes]
MAX_YAML_BYTES = 1_000_000
#: Most values a YAML document may hold once its aliases (``*name``) are followed: nested
#: aliases expand exponentially (a few hundred bytes can stand for billions of values).
MAX_YAML_NODES = 100_000


def _expanded_nodes(node, limit: int) -> int:
    """Nodes under ``node`` with every alias expanded, counting no further than ``limit``."""
    memo: dict[int, int] = {}
    active: set[int] = set()

    def size(n) -> int:
        key = id(n)
        if key in memo:
            return memo[key]
        if key in active:
            raise ScenarioError("an alias refers to a value that contains it (a recursive alias)")
        active.add(key)
        total = 1
        children = n.value if isinstance(n, yaml.SequenceNode) else (
            [x for pair in n.value for x in pair] if isinstance(n, yaml.MappingNode) else [])
        for child in children:
            total += size(child)
            if total > limit:
                break
        active.discard(key)
        memo[key] = total
        return total

    return size(node)


def load_yaml(text: str, where) -> Any:
    """Parse one YAML document safely: plain data only (no ``!!python`` tags), no key given
    twice, at most :data:`MAX_YAML_BYTES` and :data:`MAX_YAML_NODES` values once aliases are
    followed.

    Raises
    ------
    ScenarioError
        Naming ``where`` and, for malformed YAML, the line and column.
    """
    if len(text) > MAX_YAML_BYTES:
        raise ScenarioError(f"{where}: larger than {MAX_YAML_BYTES:,} bytes; scenario and "
                            "parameter files are short")
    loader = _UniqueKeyLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        try:
            n = _expanded_nodes(node, MAX_YAML_NODES)
        except ScenarioError as exc:
            raise ScenarioError(f"{where}: {exc}") from None
        if n > MAX_YAML_NODES:
            raise ScenarioError(
                f"{where}: holds more than {MAX_YAML_NODES:,} values once its aliases (*name) "
                "are followed; write the values out instead of nesting aliases")
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = str(getattr(exc, "problem", None) or str(exc).splitlines()[0])
        raise ScenarioError(f"{where}: malformed YAML: {at}{problem[:200]}") from None
    finally:
        loader.dispose()


#: Constraint fields that hold text or lists of ids (every other one is a number or a flag).
_TEXT_CONSTRAINTS = ("data_residency", "energy_id", "hardware_condition", "engines",
                     "precisions", "gpus", "providers", "availability", "replica_availability",
                     "spot_availability")


def _numbers_from_text(values: dict, skip=()) -> dict:
    """YAML reads ``1e5`` as text: numbers written as text become numbers (the entry layer)."""
    return {k: v if k in skip else validate.number_from_text(v) for k, v in values.items()}


def _fail(path, key: str, reason: str) -> ScenarioError:
    where = f"{path}: " if path else ""
    return ScenarioError(f"{where}key '{key}': {reason}" if key else f"{where}{reason}")


def _mapping(path, key: str, value, accepted: tuple[str, ...] | None) -> dict:
    if not isinstance(value, Mapping):
        raise _fail(path, key, f"expected a mapping, got {type(value).__name__} {value!r}")
    if accepted is not None:
        for k in value:
            if k not in accepted:
                dotted = f"{key}.{k}" if key else str(k)
                raise _fail(path, dotted, f"unknown key; accepted keys: {', '.join(accepted)}")
    return dict(value)


def _profile(path, value):
    if value is None:
        return FLAT_PROFILE
    try:
        return daily_profile(value)
    except HwcostError as exc:
        raise _fail(path, "workload.daily_profile", str(exc)) from None


def parse(data: Any, path: str | Path | None = None) -> Scenario:
    """Validate a scenario given as a mapping (what ``yaml.safe_load`` returns).

    Raises
    ------
    ScenarioError
        Naming the file, the key and the reason.
    """
    if data is None:
        raise _fail(path, "", "empty file; expected a mapping with keys " + ", ".join(TOP_KEYS))
    top = _mapping(path, "", data, TOP_KEYS)
    for key in ("name", "workload"):
        if key not in top:
            raise _fail(path, key, "missing; a scenario needs " + ", ".join(("name", "workload")))
    if not (top.get("source") or top.get("description")):
        raise _fail(path, "source",
                    "missing; say what the scenario represents in 'source' or 'description'")
    for key in ("name", "description", "source"):
        if key in top and not isinstance(top[key], str):
            raise _fail(path, key, f"expected text, got {top[key]!r}")
    name = top["name"].strip()
    if not name:
        raise _fail(path, "name", "expected a non-empty name")

    w = _mapping(path, "workload", top["workload"], WORKLOAD_KEYS)
    for key in ("model", "requests_per_day"):
        if key not in w:
            raise _fail(path, f"workload.{key}", "missing")
    try:
        model = catalog.llm(str(w["model"])).id
    except catalog.CatalogError as exc:
        raise _fail(path, "workload.model", str(exc)) from None
    kwargs = _numbers_from_text({k: v for k, v in w.items() if k not in ("model", "daily_profile")})
    try:
        workload = Workload(model=model, daily_profile=_profile(path, w.get("daily_profile")),
                            **kwargs)
    except ScenarioError:
        raise
    except (ValueError, TypeError) as exc:
        first = str(exc).split(" ", 1)[0]
        key = first if first in WORKLOAD_KEYS else next(
            (k for k in sorted(WORKLOAD_KEYS, key=len, reverse=True) if k in str(exc)), "")
        raise _fail(path, f"workload.{key}" if key else "workload", str(exc)) from None

    s = _numbers_from_text(_mapping(path, "slo", top.get("slo") or {}, SLO_KEYS))
    for key in ("ttft_p95_s", "tpot_p95_s", "e2e_p95_s"):  # "500ms" as well as 0.5
        if isinstance(s.get(key), str):
            try:
                s[key] = validate.duration(key, s[key])
            except validate.InvalidValue as exc:
                raise _fail(path, f"slo.{key}", str(exc)) from None
    try:
        slo = SLO(ttft_s=s.get("ttft_p95_s"), tpot_s=s.get("tpot_p95_s"),
                  e2e_s=s.get("e2e_p95_s"), percentile=s.get("percentile", 95))
    except (ValueError, TypeError) as exc:
        key = {"ttft_s": "ttft_p95_s", "tpot_s": "tpot_p95_s", "e2e_s": "e2e_p95_s"}
        bad = next((v for k, v in key.items() if str(exc).startswith(k)), "percentile")
        raise _fail(path, f"slo.{bad}", str(exc)) from None

    allowed = constraint_fields()
    c = _numbers_from_text(_mapping(path, "constraints", top.get("constraints") or {}, allowed),
                           skip=_TEXT_CONSTRAINTS)
    try:
        constraints = Constraints(slo=slo, **c)
    except (ValueError, TypeError) as exc:
        first = str(exc).split(" ", 1)[0]
        key = first if first in c else next(
            (k for k in sorted(c, key=len, reverse=True) if k in str(exc)), "")
        raise _fail(path, f"constraints.{key}" if key else "constraints", str(exc)) from None

    nb_params = _mapping(path, "notebook_parameters", top.get("notebook_parameters") or {}, None)
    clean_params: dict[str, dict[str, Any]] = {}
    for stem, values in nb_params.items():
        values = _mapping(path, f"notebook_parameters.{stem}", values, None)
        try:
            parameters.parameters(**{str(k): v for k, v in values.items()})
        except ValueError as exc:
            raise _fail(path, f"notebook_parameters.{stem}", str(exc)) from None
        clean_params[str(stem)] = dict(values)

    return Scenario(
        name=name,
        description=(top.get("description") or "").strip(),
        source=(top.get("source") or "").strip(),
        workload=workload,
        slo=slo,
        constraints=constraints,
        notebook_parameters=clean_params,
        path=Path(path) if path else None,
    )


def load(path: str | Path) -> Scenario:
    """Read and validate a scenario file.

    Parameters
    ----------
    path : str or Path
        A YAML file, or the stem of a bundled scenario (``article-scenario-2``).

    Raises
    ------
    ScenarioError
        File missing, malformed YAML (with the line), unknown key (with the accepted keys)
        or a bad value.
    """
    p = Path(path)
    if not p.exists() and p.suffix == "" and (SCENARIO_DIR / f"{p.name}.yaml").exists():
        p = SCENARIO_DIR / f"{p.name}.yaml"
    if not p.exists():
        known = [s.stem for s in bundled()]
        raise ScenarioError(f"{path}: scenario file not found; bundled scenarios: "
                            f"{', '.join(known)}; {validate.did_you_mean(p.stem, known)}")
    if p.is_dir():
        raise ScenarioError(f"{p}: is a directory; expected a scenario YAML file")
    if p.stat().st_size > MAX_YAML_BYTES:
        raise ScenarioError(f"{p}: larger than {MAX_YAML_BYTES:,} bytes; scenario and "
                            "parameter files are short")
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{p}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    except OSError as exc:
        raise ScenarioError(f"{p}: cannot read: {exc.strerror or exc}") from None
    return parse(load_yaml(text, p), p)


def bundled() -> list[Path]:
    """The scenario files shipped in ``data/scenarios/``."""
    return sorted(SCENARIO_DIR.glob("*.yaml"))
