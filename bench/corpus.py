#!/usr/bin/env python3
"""Builds the pinned benchmark corpus: real Python code from PyPI wheels.

    python3 bench/corpus.py DEST            # the full corpus (~1.2 million lines)
    python3 bench/corpus.py DEST --smoke    # a small corpus (Flask and requests) for CI

Wheels are downloaded with `pip download --no-deps` into DEST/.wheels (kept, so a second run does
not download again) and only their `.py` files are unpacked, one folder per package:
DEST/<package>-<version>/.... The script is idempotent: a package folder that is already complete
is left alone. Other code (the "real code at scale" test) may import `build_corpus` and `PACKAGES`.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import zipfile
from pathlib import Path

# The pinned corpus. Changing a version changes every figure in BENCHMARKS.md.
PACKAGES: list[tuple[str, str]] = [
    ("Django", "5.1.4"),
    ("SQLAlchemy", "2.0.36"),
    ("sympy", "1.13.3"),
    ("botocore", "1.35.90"),
    ("Flask", "3.1.0"),
    ("Werkzeug", "3.1.3"),
    ("requests", "2.32.3"),
]

# Small, pure-Python packages: enough for CI to exercise every step of the benchmark.
SMOKE_PACKAGES: list[tuple[str, str]] = [
    ("Flask", "3.1.0"),
    ("requests", "2.32.3"),
]

# Written last into a package folder; its presence means the folder is complete.
COMPLETE_MARKER = ".complete"


def _wheel_for(wheels: Path, name: str, version: str) -> Path | None:
    """The downloaded wheel of `name`==`version`, if any (wheel names normalise `-` to `_`)."""
    normalised = name.replace("-", "_").lower()
    for wheel in sorted(wheels.glob("*.whl")):
        stem = wheel.name.lower()
        if stem.startswith(f"{normalised}-{version}-"):
            return wheel
    return None


def pip_download(wheels: Path, requirement: str, *options: str) -> None:
    """`pip download --no-deps` of one binary distribution into `wheels`."""
    wheels.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            *options,
            "--disable-pip-version-check",
            "--quiet",
            "--dest",
            str(wheels),
            requirement,
        ],
        check=True,
    )


def download_wheel(wheels: Path, name: str, version: str) -> Path:
    wheel = _wheel_for(wheels, name, version)
    if wheel is not None:
        return wheel
    pip_download(wheels, f"{name}=={version}")
    wheel = _wheel_for(wheels, name, version)
    if wheel is None:
        raise RuntimeError(f"pip did not leave a wheel of {name}=={version} in {wheels}")
    return wheel


def unpack_python_files(wheel: Path, dest: Path, importable_only: bool = False) -> int:
    """Extracts the `.py` members of `wheel` under `dest`; returns how many.

    With `importable_only`, the `<name>.data/` members (scripts and data files installed
    elsewhere, such as a second copy of a single-module package) are left out.
    """
    count = 0
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.infolist():
            if member.is_dir() or not member.filename.endswith(".py"):
                continue
            if importable_only and member.filename.split("/", 1)[0].endswith(".data"):
                continue
            target = dest / member.filename
            # A wheel is untrusted input: never write outside `dest`.
            if not target.resolve().is_relative_to(dest.resolve()):
                raise RuntimeError(f"{wheel.name}: member {member.filename!r} escapes the corpus")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.read(member))
            count += 1
    return count


def build_corpus(dest: Path, packages: list[tuple[str, str]] = PACKAGES) -> list[Path]:
    """Downloads and unpacks `packages` under `dest`; returns the package folders."""
    dest.mkdir(parents=True, exist_ok=True)
    wheels = dest / ".wheels"
    folders = []
    for name, version in packages:
        folder = dest / f"{name.lower()}-{version}"
        if not (folder / COMPLETE_MARKER).exists():
            wheel = download_wheel(wheels, name, version)
            count = unpack_python_files(wheel, folder)
            (folder / COMPLETE_MARKER).write_text(f"{wheel.name}\n{count} files\n")
        folders.append(folder)
    return folders


def count_lines(folders: list[Path]) -> tuple[int, int, int]:
    """Files, lines and bytes of the `.py` files under `folders`."""
    files = lines = size = 0
    for folder in folders:
        for path in folder.rglob("*.py"):
            data = path.read_bytes()
            files += 1
            lines += data.count(b"\n")
            size += len(data)
    return files, lines, size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dest", type=Path, help="folder to fill (created if missing)")
    parser.add_argument("--smoke", action="store_true", help="the small CI corpus")
    args = parser.parse_args()
    folders = build_corpus(args.dest, SMOKE_PACKAGES if args.smoke else PACKAGES)
    files, lines, size = count_lines(folders)
    print(f"{args.dest}: {files} files, {lines} lines, {size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
