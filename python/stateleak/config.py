"""The `[tool.stateleak]` settings the dynamic half reads from pyproject.toml."""

from __future__ import annotations

import fnmatch
import sys
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.9 and 3.10
    import tomli as tomllib


class ConfigError(Exception):
    pass


def dynamic_allow(root: Path) -> list[str]:
    """`dynamic-allow`: object paths (shell-style patterns) whose changes are intended."""
    table = _tool_table(root)
    allow = table.get("dynamic-allow", [])
    if not isinstance(allow, list) or not all(isinstance(item, str) for item in allow):
        raise ConfigError("[tool.stateleak] dynamic-allow must be a list of strings")
    return allow


def _tool_table(root: Path) -> dict[str, Any]:
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file():
        return {}
    try:
        document = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"{pyproject}: {error}") from error
    table = document.get("tool", {}).get("stateleak", {})
    return table if isinstance(table, dict) else {}


def is_allowed(path: str, allow: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(path, pattern) for pattern in allow)
