"""Growth exponents of stateleak's cost on generated adversarial shapes.

Each shape is generated at doubling sizes; stateleak runs on each once (``--no-cache``), and the
CPU time (user + system, from the kernel, so that other load on the machine barely matters) and
peak RSS are recorded. The growth exponent between two sizes is log(cost ratio) / log(size
ratio); the one printed is the least-squares slope over the sizes whose run took long enough to
measure. Near linear means an exponent of at most 1.2.

    python3 bench/scaling.py [--stateleak PATH] [--shape NAME] [--scale F]
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 1.2
# Runs shorter than this are mostly process start-up and are left out of the fit.
MIN_SECONDS = 0.05


def write(folder: Path, name: str, text: str) -> None:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def inheritance_chain(folder: Path, n: int) -> None:
    """K classes, each inheriting the previous one."""
    lines = ["class C0:\n    items = []\n\n    def add(self, x):\n        self.items.append(x)\n"]
    lines += [f"class C{i}(C{i - 1}):\n    pass\n" for i in range(1, n)]
    write(folder, "chain.py", "\n".join(lines))


def class_level_lists(folder: Path, n: int) -> None:
    """One class with N class-level lists, all appended to in one method."""
    fields = "".join(f"    l{i} = []\n" for i in range(n))
    appends = "".join(f"        self.l{i}.append(x)\n" for i in range(n))
    write(folder, "lists.py", f"class Big:\n{fields}\n    def add(self, x):\n{appends}")


def per_file_ignores(folder: Path, n: int) -> None:
    """N findings in N/20 files, and N/4 `per-file-ignores` entries that match none of them."""
    files = max(1, n // 20)
    for f in range(files):
        body = "".join(
            f"class C{i}:\n    items = []\n\n    def add(self, x):\n        self.items.append(x)\n\n" for i in range(20)
        )
        write(folder, f"pkg/m{f}.py", body)
    entries = "".join(f'"other/x{i}_*.py" = ["SL101"]\n' for i in range(n // 4))
    write(folder, "stateleak.toml", f"[per-file-ignores]\n{entries}")


def large_file(folder: Path, n: int) -> None:
    """One file of N kilobytes of ordinary statements (peak memory is the cost that matters)."""
    line = "value_{i} = compute(alpha, beta, [1, 2, 3], {{'k': 'v'}})\n"
    count = n * 1024 // len(line.format(i=100000))
    write(folder, "big.py", "".join(line.format(i=i) for i in range(count)))


def large_files(folder: Path, n: int) -> None:
    """N files of 10 MiB each, checked with 2 threads: at most one of them is parsed at a time."""
    for f in range(n):
        large_file(folder / f"f{f}", 10240)


@dataclass
class Shape:
    name: str
    generate: Callable[[Path, int], None]
    sizes: list[int]
    unit: str
    measure_memory: bool = False
    threads: int | None = None


SHAPES = [
    Shape("inheritance-chain", inheritance_chain, [8000, 16000, 32000, 64000], "classes"),
    Shape("class-level-lists", class_level_lists, [6250, 12500, 25000, 50000], "lists"),
    Shape("per-file-ignores", per_file_ignores, [2500, 5000, 10000, 20000], "findings"),
    Shape("large-file", large_file, [1280, 2560, 5120, 10240], "KiB", measure_memory=True),
    Shape("large-files-2-threads", large_files, [1, 2, 4], "files", measure_memory=True, threads=2),
]


def run(stateleak: Path, folder: Path, threads: int | None) -> tuple[float, float]:
    """CPU seconds and peak RSS (MiB) of one `stateleak check` in `folder`."""
    command = [str(stateleak), "check", "--no-cache", "--output-format", "concise", "."]
    if threads is not None:
        command += ["--threads", str(threads)]
    with tempfile.TemporaryFile() as stderr_file:
        process = subprocess.Popen(
            command,
            cwd=folder,
            stdout=subprocess.DEVNULL,
            stderr=stderr_file,
        )
        _, status, usage = os.wait4(process.pid, 0)
        stderr_file.seek(0)
        stderr = stderr_file.read().decode(errors="replace")
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        sys.exit(f"stateleak failed with {code} in {folder}:\n{stderr}")
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def slope(points: list[tuple[float, float]]) -> float:
    xs = [math.log(x) for x, _ in points]
    ys = [math.log(y) for _, y in points]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    numerator = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    denominator = sum((x - mean_x) ** 2 for x in xs)
    return numerator / denominator


def measure(stateleak: Path, shape: Shape, scale: float) -> float:
    print(f"{shape.name}:")
    times: list[tuple[float, float]] = []
    memory: list[tuple[float, float]] = []
    for size in (max(1, int(s * scale)) for s in shape.sizes):
        folder = Path(tempfile.mkdtemp(prefix=f"stateleak-{shape.name}-"))
        try:
            shape.generate(folder, size)
            seconds, rss = run(stateleak, folder, shape.threads)
        finally:
            shutil.rmtree(folder)
        print(f"  {size:>7} {shape.unit:<8} {seconds:8.2f} s CPU {rss:9.1f} MiB peak")
        if seconds >= MIN_SECONDS:
            times.append((size, seconds))
        memory.append((size, rss))
    series = memory if shape.measure_memory else times
    if len(series) < 2:
        print("  too fast to measure")
        return 0.0
    exponent = slope(series)
    what = "memory" if shape.measure_memory else "time"
    verdict = "ok" if exponent <= LIMIT else f"OVER {LIMIT}"
    print(f"  growth exponent ({what}): {exponent:.2f} {verdict}")
    return exponent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stateleak", type=Path, default=ROOT / "target/release/stateleak")
    parser.add_argument("--shape", choices=[s.name for s in SHAPES], action="append")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every size")
    args = parser.parse_args()
    args.stateleak = args.stateleak.resolve()
    if not args.stateleak.exists():
        sys.exit(f"{args.stateleak} not found: run `cargo build --release` first")
    chosen = [s for s in SHAPES if not args.shape or s.name in args.shape]
    over = [s.name for s in chosen if measure(args.stateleak, s, args.scale) > LIMIT]
    if over:
        sys.exit(f"growth over {LIMIT}: {', '.join(over)}")


if __name__ == "__main__":
    main()
