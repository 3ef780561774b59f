"""A pytest plugin for `overhead.py --attribute`: the CPU time spent in stateleak's own code.

Loaded with `-p stateleak_attribution` before `stateleak.plugin`; wraps the plugin's per-test work
(snapshots, differences, the report hook) and times the package's import,
then prints that total beside the process's whole CPU time. Both come from the same run, so their
ratio holds better than two runs' CPU times on a busy machine.
"""

from __future__ import annotations

import functools
import sys
import time
from typing import Any

_started = time.process_time()
from stateleak import plugin, watch  # noqa: E402 - the import is what is timed

_spent = {"import": time.process_time() - _started}


def _timed(owner: Any, name: str) -> None:
    original = getattr(owner, name)

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.process_time()
        try:
            return original(*args, **kwargs)
        finally:
            _spent[name] = _spent.get(name, 0.0) + time.process_time() - start

    setattr(owner, name, wrapper)


_timed(watch.Watcher, "snapshot")
_timed(plugin.StateleakPlugin, "_leaks")
_timed(plugin.StateleakPlugin, "_entry")
_timed(plugin.StateleakPlugin, "pytest_runtest_logreport")


def pytest_unconfigure(config: Any) -> None:
    own = sum(_spent.values())
    total = time.process_time()
    parts = ", ".join(f"{name} {seconds:.3f} s" for name, seconds in sorted(_spent.items()))
    sys.stderr.write(f"STATELEAK-ATTRIBUTION own={own:.3f} total={total:.3f} ({parts})\n")
