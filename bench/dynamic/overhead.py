"""Watch-mode overhead of `pytest --stateleak` on a real project's test suite.

    python3 bench/dynamic/overhead.py [--runs 3] [INTERPRETER ...]

Downloads the pinned sdist of more-itertools (it ships its tests), then runs its suite with and
without `--stateleak` (no polluter search: the suite passes) on each interpreter, alternating, and
prints the median CPU time (user + system) of each and the overhead. CPU time, not wall time: the
suite sleeps in places and the machine may be shared.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tarfile
from pathlib import Path

from common import WORK, median, timed, venv_python

PROJECT, VERSION = "more-itertools", "10.5.0"
DEFAULT_INTERPRETERS = ["/root/.pyenv/versions/3.9.18/bin/python3", "/root/.pyenv/versions/3.13.0/bin/python3"]


def source_tree() -> Path:
    tree = WORK / f"{PROJECT}-{VERSION}"
    if not tree.is_dir():
        WORK.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--no-binary",
                ":all:",
                f"{PROJECT}=={VERSION}",
                "-d",
                str(WORK),
            ],
            check=True,
        )
        with tarfile.open(WORK / f"{PROJECT}-{VERSION}.tar.gz") as archive:
            archive.extractall(WORK)
    return tree


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("interpreters", nargs="*", default=DEFAULT_INTERPRETERS)
    options = parser.parse_args()
    tree = source_tree()
    base = ["-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", "tests"]
    for interpreter in options.interpreters:
        python = str(venv_python(interpreter))
        plain, watched = [], []
        for _ in range(options.runs):
            plain.append(timed([python, *base], tree)[1])
            watched.append(
                timed([python, *base, "-p", "stateleak.plugin", "--stateleak", "--stateleak-no-search"], tree)[1]
            )
        p, w = median(plain), median(watched)
        print(
            f"{interpreter}: {PROJECT} {VERSION} suite {p:.2f} s CPU, "
            f"with --stateleak {w:.2f} s: +{(w / p - 1) * 100:.0f} %"
        )


if __name__ == "__main__":
    main()
