#!/usr/bin/env python3
"""CPU time per stage and kind of work, from `perf record` samples with DWARF stacks.

Record one run on one thread and print its samples:

    perf record -F 1000 --call-graph dwarf,16384 -o F \\
        BIN check bench/corpus/full --no-cache --threads 1 --output-format concise
    perf script -i F > F.txt
    python3 bench/cpu_matrix.py F.txt

Each sample is put in a stage by the functions on its stack (the first stage function found
from the outermost frame; a stage nested in another, the values stage in the link, wins) and in a
kind by its leaf: the interner (`facts::intern`, `facts::interned`, `facts/interner.rs`), the
allocator, hash tables, `memcpy`/`memcmp`, the kernel (page faults, `madvise`, the rest), or
code (everything else). Shares are of all samples; the software clock samples CPU time, so a
share times the run's CPU time is that cell's time, and a stage's instructions (callgrind) over
its time are its instructions per CPU second.
"""

import collections
import re
import sys
from collections.abc import Iterator

# (stage, pattern): the first match from the outermost frame inwards, except that a stage marked
# final stops the search (nothing inside it is another stage).
STAGES = [
    ("link/values", "project::values::Values::build", True),
    ("link/edges", "callgraph::CallGraph::build", False),
    ("model", "model::", True),
    ("rules", "rules::", True),
    ("nesting scan", "syntax::nesting", True),
    ("refusals", "syntax::rejected", True),
    ("extraction", "syntax::extract::extract", True),
    ("parse", "ruff_python_parser", False),
    ("read", "read_source", False),
    ("discover", "discover::", False),
]


def stage_of(frames: list[str]) -> str:
    found = None
    for frame in reversed(frames):
        for name, pattern, final in STAGES:
            if pattern in frame:
                found = name
                if final:
                    return found
                break
    if found is not None:
        return found
    if any("project::" in frame for frame in frames):
        return "link/other"
    if any("check::Analysis" in frame for frame in frames):
        return "model"
    return "other"


def kind_of(frames: list[str], kernel: bool) -> str:
    leaf = frames[0] if frames else ""
    if kernel:
        stack = " ".join(frames)
        if "page_fault" in stack:
            return "kernel: page faults"
        if "madvise" in stack or "munmap" in stack:
            return "kernel: madvise"
        return "kernel: other"
    near = " ".join(frames[:4])
    if re.search(r"\b_?mi_|mimalloc|__rust_(re)?alloc|__rust_dealloc", leaf):
        return "allocator"
    if re.search(r"facts::intern|facts::interned|interner::|recent_slot|same_bytes", near) and (
        "stateleak" in leaf or re.search(r"memcmp|bcmp|LocalKey", leaf)
    ):
        return "interner"
    if re.search(r"memmove|memcpy|memset", leaf):
        return "memcpy"
    if re.search(r"memcmp|bcmp", leaf):
        return "memcmp"
    if "hashbrown" in leaf:
        return "hash tables"
    return "code"


def samples(path: str) -> Iterator[list[str]]:
    frames: list[str] | None = None
    for line in open(path, encoding="utf-8", errors="replace"):
        if not line.strip():
            if frames:
                yield frames
            frames = None
        elif not line.startswith((" ", "\t")):
            frames = []
        elif frames is not None:
            parts = line.strip().split(" ", 1)
            if len(parts) == 2:
                frames.append(re.sub(r"\+0x[0-9a-f]+", "", parts[1]))
    if frames:
        yield frames


def main() -> None:
    cells: collections.Counter[tuple[str, str]] = collections.Counter()
    stages: collections.Counter[str] = collections.Counter()
    kinds: collections.Counter[str] = collections.Counter()
    total = 0
    for frames in samples(sys.argv[1]):
        kernel = any("kallsyms" in frame for frame in frames[:3])
        stage, kind = stage_of(frames), kind_of(frames, kernel)
        cells[stage, kind] += 1
        stages[stage] += 1
        kinds[kind] += 1
        total += 1
    columns = [kind for kind, _ in kinds.most_common()]
    print("| stage | all | " + " | ".join(columns) + " |")
    print("| --- | ---: | " + " | ".join("---:" for _ in columns) + " |")
    for stage, count in stages.most_common():
        row = [f"{100 * cells[stage, kind] / total:.1f}" for kind in columns]
        print(f"| {stage} | {100 * count / total:.1f} | " + " | ".join(row) + " |")
    row = [f"{100 * kinds[kind] / total:.1f}" for kind in columns]
    print("| all | 100.0 | " + " | ".join(row) + f" |\n\n{total} samples")


if __name__ == "__main__":
    main()
