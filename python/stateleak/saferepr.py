"""A bounded `repr` that never raises and never runs for long."""

from __future__ import annotations

import reprlib
from typing import Any

_REPR = reprlib.Repr()
_REPR.maxstring = 60
_REPR.maxother = 60
_REPR.maxlist = _REPR.maxdict = _REPR.maxset = _REPR.maxtuple = 5
_REPR.maxlevel = 2


def safe_repr(value: Any, limit: int = 80) -> str:
    try:
        text = _REPR.repr(value)
    except Exception:  # noqa: BLE001 - a user's __repr__ may raise anything
        text = f"<{type(value).__name__} object>"
    return text if len(text) <= limit else text[: limit - 3] + "..."
