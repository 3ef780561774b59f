#!/usr/bin/env python3
"""Instructions per stage and thread from a callgrind run cut by stage marks.

Run stateleak with `STATELEAK_STAGE_MARKS=1` under
`valgrind --tool=callgrind --fair-sched=yes --separate-threads=yes
--callgrind-out-file=DIR/cg.out --dump-after='*stage_ended*'`, then
`python3 bench/stage_split.py DIR NAME,NAME,...` with the stages' names in the order they end.
A thread's k-th dump is its k-th stage; the longest thread of a stage is its share of the
critical path, and the sum over stages (plus the longest remainder after the last mark) is the
run's critical path on that many threads.
"""

import glob
import re
import sys


def total(path: str) -> int:
    for line in open(path, encoding="utf-8", errors="replace"):
        if line.startswith(("summary:", "totals:")):
            return int(line.split()[1])
    return 0


def main() -> None:
    folder, names = sys.argv[1], sys.argv[2].split(",")
    dumps: dict[int, list[tuple[int, int]]] = {}
    rest: dict[int, int] = {}
    for dump in glob.glob(folder + "/cg.out*"):
        cut = re.search(r"cg\.out\.(\d+)-(\d+)$", dump)
        if cut:
            dumps.setdefault(int(cut.group(2)), []).append((int(cut.group(1)), total(dump)))
            continue
        end = re.search(r"cg\.out-(\d+)$", dump)
        if end:
            rest[int(end.group(1))] = total(dump)
    threads = sorted(t for t in dumps if t != 1)
    print("| stage | " + " / ".join(f"thread {t}" for t in threads) + " | longest |")
    print("| --- | ---: | ---: |")
    path, whole = 0, sum(rest.values())
    for k, name in enumerate(names):
        counts = [sorted(dumps[t])[k][1] if k < len(dumps[t]) else 0 for t in threads]
        print(f"| {name} | " + " / ".join(f"{c / 1e6:,.0f}" for c in counts) + f" | {max(counts) / 1e6:,.0f} |")
        path += max(counts)
        whole += sum(counts)
    path += max(rest.values(), default=0)
    print(
        "remainders after the last mark (M): "
        + ", ".join(f"thread {t}: {c / 1e6:,.0f}" for t, c in sorted(rest.items()))
    )
    print(f"sum {whole / 1e6:,.0f} M, critical path {path / 1e6:,.0f} M, bound {whole / path:.3f}x")


if __name__ == "__main__":
    main()
