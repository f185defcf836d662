"""pyproject.toml, its pinned set and environment.yml name the same packages and versions."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _project():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _pinned() -> dict[str, str]:
    pins = {}
    for req in _project()["optional-dependencies"]["pinned"]:
        name, _, version = req.partition("==")
        assert version, f"pinned requirement {req!r} must use =="
        pins[_name(name)] = version.strip()
    return pins


def _conda() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    out = {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict) or _name(dep) in ("python", "pip"):
            continue
        name, _, version = dep.partition("=")
        out[_name(name)] = version
    return out


def test_every_dependency_is_pinned():
    project = _project()
    declared = {_name(r) for r in project["dependencies"]}
    declared |= {_name(r) for r in project["optional-dependencies"]["test"]}
    assert declared == set(_pinned())


def test_environment_yml_matches_pins():
    assert _conda() == _pinned()


def test_pins_satisfy_ranges():
    from packaging.requirements import Requirement

    pins = _pinned()
    project = _project()
    for req in project["dependencies"] + project["optional-dependencies"]["test"]:
        r = Requirement(req)
        assert r.specifier.contains(pins[_name(r.name)]), (req, pins[_name(r.name)])


def test_readme_explains_every_dependency():
    readme = (ROOT / "README.md").read_text().lower()
    for name in _pinned():
        assert f"`{name}`" in readme, f"README does not say why {name} is a dependency"
