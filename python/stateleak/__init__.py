"""stateleak's run-time half: proof that state leaks between requests and between tests.

`stateleak.replay(callable, inputs)` runs inputs in one interpreter and compares each answer with a
fresh process's; `pytest --stateleak` names the test that left a shared object changed.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stateleak.replaying import ReplayResult, replay

__all__ = ["ReplayResult", "replay"]


def __getattr__(name: str) -> Any:
    # The replay machinery is imported on first use: the pytest plugin, loaded in every session
    # that has the package installed, needs none of it.
    if name in __all__:
        return getattr(importlib.import_module("stateleak.replaying"), name)
    raise AttributeError(f"module 'stateleak' has no attribute {name!r}")
