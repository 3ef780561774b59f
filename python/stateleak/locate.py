"""Finds the line that writes a watched object, by tracing project code while it runs.

Used only on short confirmation runs (one test, a few requests), never on the whole suite: after
every line of project code, the fingerprints of the few suspected objects are compared with their
last values, and a change is charged to the line that just ran. `sys.settrace` has this on every
supported version; on 3.12+ `sys.monitoring` would be cheaper but gives no more precision here.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

from stateleak.watch import fingerprint, resolve


def _state(path: str) -> tuple[int, int]:
    found, value = resolve(path)
    return (id(value), fingerprint(value)) if found else (0, 0)


def _where(frame: FrameType) -> str:
    return f"{os.path.relpath(frame.f_code.co_filename)}:{frame.f_lineno}"


class WriteLocator:
    def __init__(self, paths: list[str], root: Path) -> None:
        self.paths = list(paths)
        self.root = str(root) + os.sep
        self.writers: dict[str, str] = {}
        self._last: dict[str, tuple[int, int]] = {}
        self._line: str | None = None
        self._own_file = os.path.dirname(os.path.abspath(__file__)) + os.sep

    def _is_project(self, filename: str) -> bool:
        return (
            filename.startswith(self.root)
            and not filename.startswith(self._own_file)
            and "site-packages" not in filename
        )

    def _check(self) -> None:
        for path in self.paths:
            if path in self.writers:
                continue
            now = _state(path)
            if now != self._last[path]:
                self._last[path] = now
                if self._line is not None:
                    self.writers[path] = self._line

    def _global(self, frame: FrameType, event: str, arg: Any) -> Any:
        if event == "call" and self._is_project(os.path.abspath(frame.f_code.co_filename)):
            return self._local
        return None

    def _local(self, frame: FrameType, event: str, arg: Any) -> Any:
        self._check()
        if event == "line":
            self._line = _where(frame)
        elif event == "return":
            # What the caller does next with the value (a store, say) belongs to the caller's line.
            caller = frame.f_back
            if caller is not None and self._is_project(os.path.abspath(caller.f_code.co_filename)):
                self._line = _where(caller)
        return self._local

    @contextmanager
    def tracing(self) -> Iterator[WriteLocator]:
        self._last = {path: _state(path) for path in self.paths}
        previous = sys.gettrace()
        sys.settrace(self._global)
        threading.settrace(self._global)
        try:
            yield self
        finally:
            sys.settrace(previous)
            threading.settrace(previous)
            self._check()


class NameRecorder:
    """The names the code run meanwhile can read: the globals and attributes every function that
    ran loads (`co_names`), and those functions' own names. A shared object whose name is not
    among them was not read by name (it may still be read through an alias)."""

    def __init__(self) -> None:
        self._codes: set[Any] = set()

    def _profile(self, frame: FrameType, event: str, arg: Any) -> None:
        if event == "call":
            self._codes.add(frame.f_code)

    def names(self) -> list[str]:
        found: set[str] = set()
        for code in self._codes:
            found.update(code.co_names)
            found.add(code.co_name)
        return sorted(found)

    @contextmanager
    def recording(self) -> Iterator[NameRecorder]:
        previous = sys.getprofile()
        sys.setprofile(self._profile)
        threading.setprofile(self._profile)
        try:
            yield self
        finally:
            sys.setprofile(previous)
            threading.setprofile(previous)
