"""The package as users install it: a wheel built from the repository works outside the checkout."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--quiet", "-w", str(out)],
        capture_output=True, text=True, timeout=600,
    )
    if done.returncode != 0:
        pytest.fail(f"building the wheel failed:\n{done.stdout}\n{done.stderr}")
    (path,) = out.glob("hwcost-*.whl")
    return path


def test_wheel_carries_the_data_tables_and_the_calibration(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for table in ("gpus", "llms", "cloud_prices", "api_prices", "hardware_prices", "energy",
                  "benchmarks"):
        assert f"hwcost/data/{table}.csv" in names
    assert "hwcost/data/scenarios/privacy-enterprise-rag.yaml" in names
    assert "hwcost/perf/calibration.json" in names
    assert "hwcost/perf/engines.json" in names
    assert {"hwcost/article/audit.py", "hwcost/serving/engine.py"} <= names


def test_installed_wheel_recommends_outside_the_checkout(wheel, tmp_path):
    # A fresh environment outside the checkout. Its dependencies come from this environment's
    # site-packages through a path file (installing them again from the network would only
    # slow the test); hwcost itself comes from the wheel alone.
    env_dir = tmp_path / "env"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    py = env_dir / "bin" / "python"
    site = Path(subprocess.check_output(
        [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        text=True).strip())
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                           "--no-index", "--target", str(site), str(wheel)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HWCOST_")}
    env.pop("PYTHONPATH", None)
    where = subprocess.run([str(py), "-c", "import hwcost, sys; print(hwcost.__file__)"],
                           cwd=work, env=env, capture_output=True, text=True, timeout=120)
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).is_relative_to(env_dir), where.stdout
    done = subprocess.run(
        [str(py), "-m", "hwcost", "recommend", "--model", "llama-3.1-8b", "--requests-per-day",
         "5000", "--ttft-p95", "1s", "--tpot-p95", "100ms", "--top", "3"],
        cwd=work, env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "llama-3.1-8b: 5,000 requests/day" in done.stdout
    assert "Best:" in done.stdout
    assert not any(work.iterdir())  # nothing written where it ran
