"""Which dicts changed since the last look: CPython 3.12+'s dict watchers, through ctypes.

`PyDict_AddWatcher` registers one callback per process; `PyDict_Watch` makes a dict call it before
every change (item set or deleted, clear, update, deallocation). The callback only records the
dict's address, so a snapshot can keep what it recorded of an untouched dict instead of
fingerprinting it again. Module and class namespaces are dicts too (a class's through its
mapping proxy), so a rebound global or class attribute is seen the same way.

Where the API is missing (CPython before 3.12, other interpreters) or cannot be had (no watcher
id left), `subscribe()` returns None and callers fall back to comparing by fingerprint.
Set `STATELEAK_NO_DICT_WATCH=1` to force that fallback (to compare both paths).
"""

from __future__ import annotations

import atexit
import ctypes
import gc
import os
import platform
import sys
import weakref
from dataclasses import dataclass, field
from typing import Any

# PyDict_WatchEvent's last member (ADDED, MODIFIED, DELETED, CLONED, CLEARED, DEALLOCATED).
_DEALLOCATED = 5


@dataclass(eq=False)
class Subscription:
    """The dicts one snapshotter watches, and those changed since it last took `changed()`.

    A dict counts as watched only from the moment `watch` returns: what was recorded of it
    before may predate a change nobody was told about, so callers record it once more after.
    """

    _dirty: set[int] = field(default_factory=set)
    _watched: set[int] = field(default_factory=set)
    # Files under this folder are the project's: the writer of a change is the innermost frame
    # in one of them (else the frame that made it).
    root: str = ""
    # (file, line) of the code that first changed each dict since the last `changed()`.
    _writers: dict[int, tuple[str, int]] = field(default_factory=dict)

    def watch(self, mapping: dict[Any, Any]) -> bool:
        """Starts watching `mapping`; whether it was already watched before this call."""
        address = id(mapping)
        if address in self._watched:
            return True
        _WATCH(_WATCHER_ID, mapping)
        self._watched.add(address)
        return False

    def changed(self) -> tuple[set[int], dict[int, tuple[str, int]]]:
        """The addresses of the watched dicts changed since the last call, and where the first
        change of each was made."""
        dirty, self._dirty = self._dirty, set()
        writers, self._writers = self._writers, {}
        return dirty, writers


_subscriptions: list[Subscription] = []


def _on_event(event: int, address: int, key: int, new_value: int) -> int:
    # Runs inside the dict operation, before it: records, and never touches the dict changed.
    for subscription in _subscriptions:
        if address not in subscription._dirty:
            subscription._dirty.add(address)
            if event != _DEALLOCATED:
                subscription._writers[address] = _writer(subscription.root)
        if event == _DEALLOCATED:
            subscription._watched.discard(address)
    return 0


def _writer(root: str) -> tuple[str, int]:
    frame = sys._getframe(2)  # past this function and the callback: the code changing the dict
    first = (frame.f_code.co_filename, frame.f_lineno)
    for _ in range(_WRITER_DEPTH):
        if root and frame.f_code.co_filename.startswith(root):
            return frame.f_code.co_filename, frame.f_lineno
        if frame.f_back is None:
            break
        frame = frame.f_back
    return first


# How many callers up a project frame is looked for (a change made inside a library call).
_WRITER_DEPTH = 20


_CALLBACK_TYPE = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)
_WATCHER_ID = -1
_callback: Any = None
_WATCH: Any = None


def _register() -> bool:
    global _WATCHER_ID, _callback, _WATCH
    if _WATCHER_ID >= 0:
        return True
    if (
        sys.version_info < (3, 12)
        or platform.python_implementation() != "CPython"
        or os.environ.get("STATELEAK_NO_DICT_WATCH")
    ):
        return False
    api = ctypes.pythonapi
    add_watcher = api.PyDict_AddWatcher
    add_watcher.argtypes = [_CALLBACK_TYPE]
    add_watcher.restype = ctypes.c_int
    watch = api.PyDict_Watch
    watch.argtypes = [ctypes.c_int, ctypes.py_object]
    watch.restype = ctypes.c_int
    callback = _CALLBACK_TYPE(_on_event)
    try:
        watcher_id = add_watcher(callback)
    except (OSError, ValueError, RuntimeError):
        return False  # every watcher id taken
    if watcher_id < 0:
        return False
    _WATCHER_ID, _callback, _WATCH = watcher_id, callback, watch
    # Interpreter shutdown clears module dicts, some watched, after ctypes is torn down: the
    # callback must be gone by then.
    clear_watcher = api.PyDict_ClearWatcher
    clear_watcher.argtypes = [ctypes.c_int]
    clear_watcher.restype = ctypes.c_int
    atexit.register(clear_watcher, watcher_id)
    return True


def subscribe(owner: object, root: str = "") -> Subscription | None:
    """A subscription that lives as long as `owner`; None where dict watchers are unavailable.
    `root`: the folder whose files are the project's (see `Subscription.root`)."""
    if not _register():
        return None
    subscription = Subscription(root=root)
    _subscriptions.append(subscription)
    weakref.finalize(owner, _subscriptions.remove, subscription)
    return subscription


def class_namespace(cls: type) -> dict[str, Any] | None:
    """The dict behind `vars(cls)`, which is a read-only proxy of it."""
    proxy = vars(cls)
    for referent in gc.get_referents(proxy):
        if type(referent) is dict and referent.keys() == proxy.keys():
            return referent
    return None
