"""pytester runs; the plugin comes from the `pytest11` entry point when the package is installed,
else (tests run from a checkout with PYTHONPATH=python) it is named with `-p`."""

from __future__ import annotations

import os
import sys
from importlib.metadata import entry_points

import pytest

import stateleak

pytest_plugins = ["pytester"]


def _installed() -> bool:
    if sys.version_info >= (3, 10):
        found = entry_points(group="pytest11")
    else:
        found = entry_points().get("pytest11", [])
    return any(ep.value == "stateleak.plugin" for ep in found)


PLUGIN_ARGS: list[str] = [] if _installed() else ["-p", "stateleak.plugin"]


@pytest.fixture(autouse=True)
def package_importable_in_subprocesses(monkeypatch: pytest.MonkeyPatch) -> None:
    """Child interpreters import the package from where this one did (a checkout or a venv)."""
    source = os.path.dirname(os.path.dirname(os.path.abspath(stateleak.__file__)))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [source, os.environ.get("PYTHONPATH")])))


@pytest.fixture
def run_suite(pytester: pytest.Pytester):
    """Runs pytest on the files written into `pytester`'s directory, in a subprocess."""

    def run(*args: str) -> pytest.RunResult:
        return pytester.runpytest_subprocess(*PLUGIN_ARGS, "-p", "no:cacheprovider", *args)

    return run
