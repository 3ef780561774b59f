"""Snapshots see every kind of change, whether they read the state again or rely on dict watchers
(CPython 3.12+) to know what did not change."""

from __future__ import annotations

import importlib
import platform
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from stateleak import watch
from stateleak.watch import Watcher, diff

HAS_DICT_WATCHERS = sys.version_info >= (3, 12) and platform.python_implementation() == "CPython"

STATE = """
import collections

registry = {"a": {"inner": {"x": 1}}}
items = []
tags = set()
ordered = collections.OrderedDict(a=1, b=2)
counts = collections.defaultdict(int)


class Config:
    options = {}
    level = 1


class Service:
    def __init__(self):
        self.seen = {}


service = Service()
"""


@pytest.fixture
def state(tmp_path: Path) -> Iterator[ModuleType]:
    package = f"watched_{uuid.uuid4().hex[:8]}"
    (tmp_path / package).mkdir()
    (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / package / "state.py").write_text(textwrap.dedent(STATE))
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module(f"{package}.state")
    finally:
        sys.path.remove(str(tmp_path))
        for name in [name for name in sys.modules if name.startswith(package)]:
            del sys.modules[name]


def _watcher(root: Path, dict_watchers: bool) -> Watcher:
    if dict_watchers and not HAS_DICT_WATCHERS:
        pytest.skip("dict watchers need CPython 3.12+")
    watcher = Watcher(root)
    if dict_watchers:
        assert watcher._dicts is not None, "dict watchers should be in use on this interpreter"
    else:
        watcher._dicts = None
    return watcher


def _settle(watcher: Watcher) -> watch.Snapshot:
    # The first snapshot starts watching, the second trusts the watch, the third reuses a walk.
    for _ in range(3):
        last = watcher.snapshot()
    return last


MUTATIONS: list[tuple[str, str, str]] = [
    ("registry['b'] = 1", "registry", "1 key added: 'b'"),
    ("registry['a']['inner']['x'] = 2", "registry", "1 key changed: 'a'"),
    ("items.append(1)", "items", "1 item appended"),
    ("tags.add(1)", "tags", "1 item added: 1"),
    ("ordered.move_to_end('a')", "ordered", "contents changed"),
    ("counts['z'] += 1", "counts", "1 key added: 'z'"),
    ("Config.options['k'] = 1", "Config.options", "1 key added: 'k'"),
    ("Config.level = 2", "Config.level", "rebound: 1 -> 2"),
    ("service.seen['k'] = 1", "service", "attribute set"),
    ("service.__dict__ = {'seen': {'k': 1}}", "service", "attribute set"),
    ("globals()['items'] = [1]", "items", "rebound: list of 0 -> list of 1"),
]


@pytest.mark.parametrize("dict_watchers", [True, False], ids=["dict-watchers", "fingerprints"])
@pytest.mark.parametrize(("statement", "path", "detail"), MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_every_change_is_seen(state: ModuleType, dict_watchers: bool, statement: str, path: str, detail: str) -> None:
    watcher = _watcher(Path(state.__file__).parent.parent, dict_watchers)
    before = _settle(watcher)
    exec(statement, vars(state))
    changes = diff(before, watcher.snapshot())
    full_path = f"{state.__name__}.{path}"
    assert [(c.path, c.detail) for c in changes if c.path.startswith(state.__name__)] == [(full_path, detail)]


@pytest.mark.parametrize("dict_watchers", [True, False], ids=["dict-watchers", "fingerprints"])
def test_a_change_between_snapshots_is_seen_once(state: ModuleType, dict_watchers: bool) -> None:
    watcher = _watcher(Path(state.__file__).parent.parent, dict_watchers)
    first = _settle(watcher)
    state.registry["b"] = 1
    second = watcher.snapshot()
    third = watcher.snapshot()
    assert [c.path for c in diff(first, second) if c.path.startswith(state.__name__)] == [f"{state.__name__}.registry"]
    assert [c.path for c in diff(second, third) if c.path.startswith(state.__name__)] == []


@pytest.mark.skipif(not HAS_DICT_WATCHERS, reason="dict watchers need CPython 3.12+")
def test_unchanged_dicts_are_not_read_again(state: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    watcher = _watcher(Path(state.__file__).parent.parent, True)
    _settle(watcher)
    recorded: list[Any] = []
    real_record = watch.record
    monkeypatch.setattr(watch, "record", lambda value, *a, **k: recorded.append(value) or real_record(value, *a, **k))
    watcher.snapshot()
    # Lists, sets and OrderedDicts (which reorder unseen) are read every time; dicts and classes
    # are not.
    assert sorted(type(value).__name__ for value in recorded) == ["OrderedDict", "list", "set"]


def test_the_interpreter_exits_cleanly_while_dicts_are_watched(state: ModuleType, tmp_path: Path) -> None:
    # Shutdown clears watched module dicts after ctypes is gone: the callback must be removed first.
    program = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(Path(state.__file__).parent.parent)!r})
        import {state.__name__}
        from stateleak.watch import Watcher
        watcher = Watcher(__import__("pathlib").Path({str(Path(state.__file__).parent.parent)!r}))
        watcher.snapshot()
        watcher.snapshot()
        """
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
