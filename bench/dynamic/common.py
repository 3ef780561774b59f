"""What the dynamic-half benchmarks share: virtual environments per interpreter, timed runs."""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
WORK = REPO / "target" / "bench-dynamic"
REQUIREMENTS = ["pytest>=8,<10", "pytest-xdist>=3.5,<4", "tomli>=1.1; python_version < '3.11'"]


def venv_python(interpreter: str, extra: list[str] | None = None, label: str = "") -> Path:
    """A venv for `interpreter` with pytest (and `extra`, in a venv named with `label`); the
    package is imported from python/ (PYTHONPATH)."""
    name = Path(interpreter).resolve().parent.parent.name or "python"
    venv = WORK / f"venv-{name}{label}"
    python = venv / "bin" / "python"
    if not python.is_file():
        subprocess.run([interpreter, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", *REQUIREMENTS, *(extra or [])], check=True)
    return python


def environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO / "python")
    env.pop("PYTEST_ADDOPTS", None)
    return env


def timed(command: list[str], cwd: Path) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (user + system, children included) and exit status."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=environment(), capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode not in (0, 1):
        sys.stderr.write(done.stdout[-3000:] + done.stderr[-3000:])
    return wall, cpu, done.returncode


def median(values: list[float]) -> float:
    return statistics.median(values)
