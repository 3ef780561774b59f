"""`pytest --stateleak`: which test left which shared object changed.

Registered through the `pytest11` entry point and inert unless `--stateleak` is given. Each test
is charged with the net change of watched state between before its setup and after its teardown,
so a fixture that restores what it changed is not blamed. Under pytest-xdist each worker watches
its own tests and sends the changes to the controller on the teardown report; the controller
reports, and searches for polluters among each worker's own earlier tests.
"""

from __future__ import annotations

import copy
import json
import os
import unittest
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from stateleak import config as settings
from stateleak import findings as static
from stateleak.locate import NameRecorder, WriteLocator
from stateleak.polluters import TestRun, search, write_outcomes
from stateleak.watch import Change, Snapshot, Watcher, assign, diff, resolve

_PROPERTY = "stateleak"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("stateleak", "state leaking between tests (stateleak)")
    group.addoption(
        "--stateleak",
        nargs="?",
        const="report",
        default=None,
        choices=("report", "fail"),
        help="watch shared state; report tests that leave it changed (=fail: make them fail)",
    )
    group.addoption("--stateleak-json", metavar="FILE", help="write the changes found as JSON to FILE")
    group.addoption(
        "--stateleak-findings",
        metavar="FILE",
        help="read the static findings from FILE (`stateleak check --output-format json`) "
        "instead of running the analysis",
    )
    group.addoption(
        "--stateleak-no-search",
        action="store_true",
        help="do not search for the test that polluted a failing test",
    )
    # Used by the polluter search's own confirmation runs.
    group.addoption(
        "--stateleak-restore",
        metavar="OBJECT",
        help=_internal("restore OBJECT before every test but the first"),
    )
    group.addoption(
        "--stateleak-locate",
        metavar="OBJECT",
        action="append",
        default=[],
        help=_internal("trace writes to OBJECT"),
    )
    group.addoption(
        "--stateleak-reads",
        action="store_true",
        help=_internal("record the names the tests read"),
    )
    group.addoption(
        "--stateleak-outcomes",
        metavar="FILE",
        help=_internal("write each test's outcome and writers to FILE"),
    )


def _internal(text: str) -> str:
    return f"(used by the polluter search) {text}"


def pytest_configure(config: pytest.Config) -> None:
    if (
        config.getoption("stateleak_restore")
        or config.getoption("stateleak_locate")
        or config.getoption("stateleak_outcomes")
        or config.getoption("stateleak_reads")
    ):
        config.pluginmanager.register(ConfirmationRun(config), "stateleak-confirmation")
    if config.getoption("stateleak"):
        config.pluginmanager.register(StateleakPlugin(config), "stateleak-watch")


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


class StateleakPlugin:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.root = Path(str(config.rootpath)).resolve()
        self.fail = config.getoption("stateleak") == "fail"
        try:
            self.allow = settings.dynamic_allow(self.root)
        except settings.ConfigError as error:
            raise pytest.UsageError(f"stateleak: {error}") from None
        self.findings = static.Findings({}, "")
        self.findings_source = ""
        self.watcher = Watcher(self.root)
        self._baseline: Snapshot | None = None
        self._lazy: dict[str, tuple[str, Change]] = {}
        # Controller side: the tests in the order each worker ran them.
        self.runs: dict[str, list[TestRun]] = {}
        self._failed: dict[str, bool] = {}

    # -- setup -------------------------------------------------------------------------------

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        shared = getattr(self.config, "workerinput", {}).get("stateleak_findings")
        if shared is not None:
            self.findings = static.parse(json.loads(shared))
            self.findings_source = "the controller's static findings"
        else:
            self.findings, self.findings_source = static.load(self.root, self.config.getoption("stateleak_findings"))
        self.watcher = Watcher(self.root, extra=self.findings.objects(), skip_class=_is_test_class)

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        # The analysis runs once, in the controller; the workers get what it found.
        node.workerinput["stateleak_findings"] = json.dumps(self.findings.as_json())

    # -- watching ----------------------------------------------------------------------------

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Generator[None, None, None]:
        if self._baseline is None:
            self._baseline = self.watcher.snapshot()
        return (yield)

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_teardown(self, item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, None, None]:
        result = yield
        before = self._baseline or {}
        after = self.watcher.snapshot()
        self._baseline = after
        leaks = self._leaks(item.nodeid, before, after)
        payload = {
            "worker": os.environ.get("PYTEST_XDIST_WORKER", "main"),
            "leaks": [self._entry(item.nodeid, change) for change in leaks],
            "lazy": [
                {"object": path, "detail": change.detail}
                for path, (test, change) in self._lazy.items()
                if test == item.nodeid
            ],
        }
        # Plain lists and dicts of strings: pytest-xdist's channel carries them as they are.
        item.user_properties.append((_PROPERTY, payload))
        if self.fail and leaks:
            pytest.fail(
                "stateleak: this test left shared state changed:\n"
                + "\n".join(f"  {c.path}: {c.detail}" for c in leaks),
                pytrace=False,
            )
        return result

    def _leaks(self, test: str, before: Snapshot, after: Snapshot) -> list[Change]:
        leaks = []
        for change in diff(before, after):
            if change.kind == "lazy-init":
                self._lazy.setdefault(change.path, (test, change))
                continue
            if settings.is_allowed(change.path, self.allow):
                continue
            leaks.append(change)
        return leaks

    def _entry(self, test: str, change: Change) -> dict[str, Any]:
        writer = self.watcher.writer_of(change.path)
        finding = self.findings.for_object(change.path, writer)
        return {
            "test": test,
            **change.as_json(),
            "writer": writer,
            "static_finding": finding.as_json() if finding else None,
        }

    # -- controller: collecting, reporting, searching -----------------------------------------

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed and report.when in ("setup", "call"):
            self._failed[report.nodeid] = True
        if report.when != "teardown":
            return
        for name, value in report.user_properties:
            if name != _PROPERTY:
                continue
            payload = value if isinstance(value, dict) else json.loads(str(value))
            self.runs.setdefault(payload["worker"], []).append(
                TestRun(
                    nodeid=report.nodeid,
                    leaks=payload["leaks"],
                    lazy=payload["lazy"],
                    failed=self._failed.pop(report.nodeid, False),
                )
            )

    def _all_runs(self) -> list[TestRun]:
        return [run for worker in sorted(self.runs) for run in self.runs[worker]]

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if _is_worker(self.config):
            return
        self.diagnoses = []
        if not self.config.getoption("stateleak_no_search"):
            self.diagnoses = search(self.runs, self.config)
        target = self.config.getoption("stateleak_json")
        if target:
            runs = self._all_runs()
            document = {
                "version": 1,
                "static_findings": self.findings_source,
                "note": self.findings.note,
                "writer_note": "the writer's file:line is recorded as the change is made on CPython 3.12+ "
                "for a dict (a watched dict, or the module or class namespace a name was bound in); for "
                "other containers and older versions it is found by the polluter search's confirmation "
                "runs (a traced re-run of the polluting test), and null elsewhere",
                "changes": [leak for run in runs for leak in run.leaks],
                "lazy_initialisation": [{"test": run.nodeid, **lazy} for run in runs for lazy in run.lazy],
                "polluters": [d.as_json() for d in self.diagnoses],
            }
            Path(target).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if _is_worker(self.config):
            return
        write = terminalreporter.write_line
        terminalreporter.section("stateleak")
        if self.findings.note:
            write(f"note: {self.findings.note}")
        runs = self._all_runs()
        leaking = [run for run in runs if run.leaks]
        for run in leaking:
            write(f"{run.nodeid} left shared state changed:")
            for leak in run.leaks:
                finding = leak["static_finding"]
                confirms = f" (confirms {finding['code']} at {finding['path']}:{finding['line']})" if finding else ""
                written = f" (written at {leak['writer']})" if leak["writer"] else ""
                write(f"    {leak['object']}: {leak['detail']}{written}{confirms}")
        lazy = [(run.nodeid, item) for run in runs for item in run.lazy]
        if lazy:
            write("lazy one-time initialisation (reported once, not blamed):")
            for test, item in lazy:
                write(f"    {item['object']}: {item['detail']} (during {test})")
        for diagnosis in getattr(self, "diagnoses", []):
            write(diagnosis.sentence())
        if not leaking:
            write(f"no test left watched state changed ({len(runs)} tests watched)")


def _is_test_class(cls: type) -> bool:
    return issubclass(cls, unittest.TestCase) or cls.__name__.startswith("Test")


class ConfirmationRun:
    """In a polluter search's child run: restores one object, traces writers, records outcomes."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.restore_path: str | None = config.getoption("stateleak_restore")
        self.locate: list[str] = config.getoption("stateleak_locate")
        self.outcomes_file: str | None = config.getoption("stateleak_outcomes")
        self.root = Path(str(config.rootpath)).resolve()
        self.saved: Any = None
        self.first = True
        self.outcomes: dict[str, str] = {}
        self.writers: dict[str, str] = {}
        self.names = NameRecorder() if config.getoption("stateleak_reads") else None

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, None, Any]:
        if self.restore_path:
            if self.first:
                found, value = resolve(self.restore_path)
                self.saved = (found, copy.deepcopy(value) if found else None)
            elif self.saved[0]:
                assign(self.restore_path, copy.deepcopy(self.saved[1]))
        if self.first and self.locate:
            locator = WriteLocator(self.locate, self.root)
            with locator.tracing():
                result = yield
            self.writers.update(locator.writers)
        elif self.names is not None:
            with self.names.recording():
                result = yield
        else:
            result = yield
        self.first = False
        return result

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed:
            self.outcomes[report.nodeid] = "failed"
        else:
            self.outcomes.setdefault(report.nodeid, "passed")

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.outcomes_file:
            names = self.names.names() if self.names is not None else None
            write_outcomes(Path(self.outcomes_file), self.outcomes, self.writers, names)
