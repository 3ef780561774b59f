"""The static analysis's findings, keyed by the import path of the shared object each names."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class StaticFinding:
    code: str
    path: str
    line: int
    message: str

    def location(self) -> str:
        return f"{self.path}:{self.line}"

    def as_json(self) -> dict[str, Any]:
        return {"code": self.code, "path": self.path, "line": self.line, "message": self.message}


class Findings:
    """The findings by object path; `note` says why there are none when the analysis was not used."""

    def __init__(
        self,
        by_object: dict[str, list[StaticFinding]],
        note: str = "",
        without_object: list[StaticFinding] | None = None,
    ) -> None:
        self.by_object = by_object
        self.note = note
        # Findings whose object the analysis could not name: linked only at a known writer line.
        self.without_object = without_object or []

    def as_json(self) -> dict[str, Any]:
        """The findings in the analysis's own JSON shape, as `parse` reads it."""
        findings = [{"object": obj, **finding.as_json()} for obj, found in self.by_object.items() for finding in found]
        findings += [{"object": None, **finding.as_json()} for finding in self.without_object]
        return {"findings": findings, "note": self.note}

    def objects(self) -> list[str]:
        return sorted(self.by_object)

    def for_object(self, path: str, writer: str | None = None) -> StaticFinding | None:
        """The finding on `path`, or on the object that holds it (`a.b` for `a.b.<default x>`):
        the one at the observed `writer` line (`file:line`) if any, else the lowest code."""
        while path:
            found = self.by_object.get(path)
            if found:
                at_writer = [f for f in found if writer and _same_place(writer, f.location())]
                return at_writer[0] if at_writer else min(found, key=lambda f: (f.code, f.path, f.line))
            if "." not in path:
                break
            path = path.rsplit(".", 1)[0]
        at_writer = [f for f in self.without_object if writer and _same_place(writer, f.location())]
        return min(at_writer, key=lambda f: f.code) if at_writer else None


def _same_place(one: str, other: str) -> bool:
    """`file:line` places written relative to different folders."""
    one, other = one.replace(os.sep, "/"), other.replace(os.sep, "/")
    return one == other or one.endswith("/" + other) or other.endswith("/" + one)


def _per_object(findings: Any) -> list[tuple[dict[str, Any], Any, Any]]:
    """Each finding with its object and message; a finding that names several shared objects
    changed at one place (its `members`) once per object, with that object's own message."""
    out: list[tuple[dict[str, Any], Any, Any]] = []
    for finding in findings if isinstance(findings, list) else []:
        if not isinstance(finding, dict):
            continue
        members = finding.get("members")
        if isinstance(members, list) and members:
            out += [(finding, m.get("object"), m.get("message", "")) for m in members if isinstance(m, dict)]
        else:
            out.append((finding, finding.get("object"), finding.get("message", "")))
    return out


def parse(document: Any) -> Findings:
    """Findings from the analysis's JSON output; a finding without `object` cannot be linked."""
    by_object: dict[str, list[StaticFinding]] = {}
    without_object: list[StaticFinding] = []
    findings = document.get("findings", []) if isinstance(document, dict) else []
    for finding, obj, message in _per_object(findings):
        static = StaticFinding(
            code=str(finding.get("code", "")),
            path=str(finding.get("path", "")),
            line=int(finding.get("line", 0) or 0),
            message=str(message),
        )
        if isinstance(obj, str) and obj:
            by_object.setdefault(obj, []).append(static)
        else:
            without_object.append(static)
    note = str(document.get("note", "")) if isinstance(document, dict) else ""
    if without_object and not by_object:
        note = (
            f"the static analysis gave {len(without_object)} finding(s) without an `object` field: "
            "watching the project's modules and process state only (such a finding is linked to a "
            "change only where the line that wrote it is known)"
        )
    return Findings(by_object, note, without_object)


def load_file(path: Path) -> Findings:
    try:
        return parse(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as error:
        return Findings({}, f"could not read static findings from {path}: {error}")


def find_binary() -> str | None:
    """The `stateleak` command installed with this interpreter, else the one on PATH."""
    name = "stateleak.exe" if os.name == "nt" else "stateleak"
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("stateleak")


def run_analysis(root: Path, timeout: float = 300.0) -> Findings:
    """Runs `stateleak check` on `root` once; any failure degrades to watching without findings."""
    binary = find_binary()
    if binary is None:
        return Findings({}, "the `stateleak` command was not found: no static findings to link")
    command = [binary, "check", "--output-format", "json", str(root)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=root)
        document = json.loads(done.stdout)
    except (OSError, subprocess.SubprocessError, ValueError) as error:
        return Findings({}, f"the static analysis could not run ({' '.join(command)}): {error}")
    return parse(document)


def load(root: Path, findings_file: str | None) -> tuple[Findings, str]:
    """The findings to link, from `findings_file` when given, else by running the analysis."""
    findings = load_file(Path(findings_file)) if findings_file else run_analysis(root)
    source = findings_file or "stateleak check"
    return findings, source
