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

    def watch(self, mapping: dict[Any, Any]) -> bool:
        """Starts watching `mapping`; whether it was already watched before this call."""
        address = id(mapping)
        if address in self._watched:
            return True
        _WATCH(_WATCHER_ID, mapping)
        self._watched.add(address)
        return False

    def changed(self) -> set[int]:
        """The addresses of the watched dicts changed since the last call."""
        dirty, self._dirty = self._dirty, set()
        return dirty


_subscriptions: list[Subscription] = []


def _on_event(event: int, address: int, key: int, new_value: int) -> int:
    # Runs inside the dict operation: record, never touch a Python dict here.
    for subscription in _subscriptions:
        subscription._dirty.add(address)
        if event == _DEALLOCATED:
            subscription._watched.discard(address)
    return 0


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


def subscribe(owner: object) -> Subscription | None:
    """A subscription that lives as long as `owner`; None where dict watchers are unavailable."""
    if not _register():
        return None
    subscription = Subscription()
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
