"""Polluter search: for a test that fails in the suite and passes alone, which earlier test left
which object changed.

Candidates are the tests that ran earlier on the same worker and left watched state changed, the
closest first; those that changed an object the victim reads by name (recorded while it runs
alone) are tried before the others. Each is confirmed in fresh processes: the victim alone must pass, after the
candidate it must fail, and with only the suspected object restored after the candidate it must
pass again. No run repeats the whole suite: each child runs one or two tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAX_VICTIMS = 5
MAX_CANDIDATES = 10


@dataclass
class TestRun:
    __test__ = False  # not a test class, whatever pytest thinks of the name

    nodeid: str
    leaks: list[dict[str, Any]]
    lazy: list[dict[str, Any]]
    failed: bool


@dataclass
class Diagnosis:
    victim: str
    verdict: str  # "polluted", "fails-alone", "not-found"
    polluter: str | None = None
    objects: list[dict[str, Any]] = field(default_factory=list)
    message: str = ""
    tried: list[str] = field(default_factory=list)  # the candidates run after, in order

    def sentence(self) -> str:
        return self.message

    def as_json(self) -> dict[str, Any]:
        return {
            "victim": self.victim,
            "verdict": self.verdict,
            "polluter": self.polluter,
            "objects": self.objects,
            "message": self.message,
            "candidates_tried": self.tried,
        }


def write_outcomes(path: Path, outcomes: dict[str, str], writers: dict[str, str], names: list[str] | None) -> None:
    document = {"outcomes": outcomes, "writers": writers, "names": names}
    path.write_text(json.dumps(document), encoding="utf-8")


def may_read(path: str, names: set[str]) -> bool:
    """Whether code that loads only `names` can read the watched object at `path` by name."""
    if path.startswith(("os.", "sys.", "logging.", "warnings.")):
        return True  # process state: read through too many names to tell
    parts = path.split(".")
    if parts[-1].startswith("<default "):
        return parts[-2] in names  # a function's default: read when the function runs
    return parts[-1] in names


class Runner:
    """Runs a few tests in a fresh pytest process and reads back their outcomes."""

    def __init__(self, config: Any) -> None:
        # Test ids are relative to the rootdir: the children run there, with the same settings.
        self.cwd = str(config.rootpath)
        self.settings = [f"--rootdir={config.rootpath}"]
        if config.inipath is not None:
            self.settings += ["-c", str(config.inipath)]
        self.plugin_args: list[str] = []
        plugin = sys.modules.get("stateleak.plugin")
        if plugin is not None and config.pluginmanager.get_name(plugin) != "stateleak":
            self.plugin_args = ["-p", "stateleak.plugin"]  # loaded with -p, not by entry point
        self.runs = 0

    def run(self, tests: Sequence[str], extra: Sequence[str] = ()) -> tuple[dict[str, str], dict[str, str]]:
        outcomes, writers, _ = self.run_reading(tests, extra)
        return outcomes, writers

    def run_reading(
        self, tests: Sequence[str], extra: Sequence[str] = ()
    ) -> tuple[dict[str, str], dict[str, str], list[str] | None]:
        """The outcomes, the writers found and (with `--stateleak-reads`) the names read."""
        self.runs += 1
        with tempfile.TemporaryDirectory(prefix="stateleak-") as scratch:
            outcomes = Path(scratch) / "outcomes.json"
            command = [
                sys.executable,
                "-m",
                "pytest",
                *self.plugin_args,
                "-o",
                "addopts=",
                "-p",
                "no:randomly",
                "-p",
                "no:cacheprovider",
                "-q",
                *self.settings,
                "--stateleak-outcomes",
                str(outcomes),
                *extra,
                *tests,
            ]
            env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST")}
            subprocess.run(command, cwd=self.cwd, env=env, capture_output=True, text=True)
            try:
                document = json.loads(outcomes.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                return {}, {}, None
            return document.get("outcomes", {}), document.get("writers", {}), document.get("names")


def search(runs_by_worker: dict[str, list[TestRun]], config: Any) -> list[Diagnosis]:
    victims: list[tuple[TestRun, list[TestRun]]] = []
    for worker in sorted(runs_by_worker):
        runs = runs_by_worker[worker]
        for index, run in enumerate(runs):
            if run.failed:
                earlier = [r for r in reversed(runs[:index]) if r.leaks]
                if earlier:
                    victims.append((run, earlier))
    if not victims:
        return []
    runner = Runner(config)
    return [_diagnose(runner, victim, candidates) for victim, candidates in victims[:MAX_VICTIMS]]


def _diagnose(runner: Runner, victim: TestRun, candidates: list[TestRun]) -> Diagnosis:
    alone, _, names = runner.run_reading([victim.nodeid], ["--stateleak-reads"])
    if victim.nodeid not in alone:
        return Diagnosis(
            victim.nodeid, "not-found", message=f"{victim.nodeid} could not be run alone in a fresh process"
        )
    if alone[victim.nodeid] != "passed":
        return Diagnosis(
            victim.nodeid,
            "fails-alone",
            message=f"{victim.nodeid} fails when run alone too: not polluted by an earlier test",
        )
    if names is not None:
        # The candidates that changed an object the victim reads by name are tried first; the
        # others only if none of those makes it fail (an object may be read through an alias).
        read = set(names)
        readers = [c for c in candidates if any(may_read(leak["object"], read) for leak in c.leaks)]
        candidates = readers + [c for c in candidates if c not in readers]
    candidates = candidates[:MAX_CANDIDATES]
    tried: list[str] = []
    for candidate in candidates:
        tried.append(candidate.nodeid)
        objects = [leak["object"] for leak in candidate.leaks]
        locate = [arg for obj in objects for arg in ("--stateleak-locate", obj)]
        after, writers = runner.run([candidate.nodeid, victim.nodeid], locate)
        if after.get(victim.nodeid) != "failed":
            continue
        confirmed = []
        for leak in candidate.leaks:
            restored, _ = runner.run([candidate.nodeid, victim.nodeid], ["--stateleak-restore", leak["object"]])
            if restored.get(victim.nodeid) == "passed":
                confirmed.append({**leak, "writer": writers.get(leak["object"]) or leak.get("writer")})
        diagnosis = _polluted(victim, candidate, confirmed)
        diagnosis.tried = tried
        return diagnosis
    return Diagnosis(
        victim.nodeid,
        "not-found",
        message=f"{victim.nodeid} fails in the suite and passes alone, but no earlier test that left "
        f"watched state changed makes it fail ({len(candidates)} tried)",
        tried=tried,
    )


def _polluted(victim: TestRun, candidate: TestRun, confirmed: list[dict[str, Any]]) -> Diagnosis:
    if not confirmed:
        changed = ", ".join(f"`{leak['object']}`" for leak in candidate.leaks)
        message = (
            f"{candidate.nodeid} makes {victim.nodeid} fail (it fails after it, passes alone); "
            f"restoring any one of the objects it left changed ({changed}) does not make it pass"
        )
        return Diagnosis(victim.nodeid, "polluted", candidate.nodeid, [], message)
    parts = []
    for leak in confirmed:
        text = f"`{leak['object']}` changed ({leak['detail']})"
        if leak.get("writer"):
            text += f", written at {leak['writer']}"
        finding = leak.get("static_finding")
        if finding:
            text += f", predicted by {finding['code']} at {finding['path']}:{finding['line']}"
        parts.append(text)
    objects = " and ".join(f"`{leak['object']}`" for leak in confirmed)
    message = (
        f"{candidate.nodeid} leaves {'; '.join(parts)}; {victim.nodeid} fails after it and passes "
        f"when {'that object is' if len(confirmed) == 1 else 'those objects are'} restored ({objects})"
    )
    return Diagnosis(victim.nodeid, "polluted", candidate.nodeid, confirmed, message)
