"""Watch-mode overhead of `pytest --stateleak` on a real project's test suite.

    python3 bench/dynamic/overhead.py [--runs 3] [INTERPRETER ...]
    python3 bench/dynamic/overhead.py --callgrind [INTERPRETER ...]
    python3 bench/dynamic/overhead.py --attribute [--runs 3] [INTERPRETER ...]

Downloads the pinned sdist of more-itertools (it ships its tests), then runs its suite with and
without `--stateleak` (no polluter search: the suite passes) on each interpreter, alternating, and
prints the median CPU time (user + system) of each and the overhead. CPU time, not wall time: the
suite sleeps in places and the machine may be shared. On a busy machine even CPU time swings by
tens of percent; `--callgrind` counts the instructions of one run of each under valgrind instead
(slow: tens of minutes), and `--attribute` times stateleak's own code inside each watched run
(bench/dynamic/stateleak_attribution.py), which lower-bounds the overhead: pytest's own cost of
calling the hooks is not in it.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tarfile
from pathlib import Path

from common import WORK, environment, median, timed, venv_python

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


def instructions(command: list[str], cwd: Path, label: str) -> int:
    """Instructions executed by `command` under callgrind: steady where CPU time is not (a busy VM)."""
    out = WORK / f"callgrind-{label}.out"
    subprocess.run(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *command],
        cwd=cwd,
        env=environment(),
        capture_output=True,
        check=False,
    )
    for line in out.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith(("summary:", "totals:")):
            return int(line.split()[1])
    raise RuntimeError(f"no totals in {out}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--callgrind", action="store_true", help="count instructions (one run each) instead")
    parser.add_argument(
        "--attribute", action="store_true", help="time stateleak's own code inside watched runs instead"
    )
    parser.add_argument("interpreters", nargs="*", default=DEFAULT_INTERPRETERS)
    options = parser.parse_args()
    tree = source_tree()
    base = ["-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", "tests"]
    watch = ["-p", "stateleak.plugin", "--stateleak", "--stateleak-no-search"]
    for interpreter in options.interpreters:
        python = str(venv_python(interpreter))
        if options.attribute:
            shares = []
            for _ in range(options.runs):
                done = subprocess.run(
                    [python, *base, "-p", "stateleak_attribution", *watch],
                    cwd=tree,
                    env={**environment(), "PYTHONPATH": f"{environment()['PYTHONPATH']}:{Path(__file__).parent}"},
                    capture_output=True,
                    text=True,
                )
                line = next(x for x in done.stderr.splitlines() if x.startswith("STATELEAK-ATTRIBUTION"))
                own, total = (float(part.split("=")[1]) for part in line.split()[1:3])
                shares.append((own, total))
                print(f"  {line}")
            own, total = median([o for o, _ in shares]), median([t for _, t in shares])
            print(
                f"{interpreter}: stateleak's own code {own:.2f} s of {total:.2f} s CPU in the watched run: "
                f"+{own / (total - own) * 100:.1f} % over the rest"
            )
            continue
        if options.callgrind:
            name = Path(interpreter).resolve().parent.parent.name
            plain_count = instructions([python, *base], tree, f"{name}-plain")
            watched_count = instructions([python, *base, *watch], tree, f"{name}-watched")
            print(
                f"{interpreter}: {PROJECT} {VERSION} suite {plain_count / 1e9:.2f} G instructions, "
                f"with --stateleak {watched_count / 1e9:.2f} G: +{(watched_count / plain_count - 1) * 100:.1f} %"
            )
            continue
        plain, watched = [], []
        for _ in range(options.runs):
            plain.append(timed([python, *base], tree)[1])
            watched.append(timed([python, *base, *watch], tree)[1])
        p, w = median(plain), median(watched)
        print(
            f"{interpreter}: {PROJECT} {VERSION} suite {p:.2f} s CPU, "
            f"with --stateleak {w:.2f} s: +{(w / p - 1) * 100:.0f} %"
        )


if __name__ == "__main__":
    main()
