"""Every finding of one stateleak binary on the benchmark corpus and the app packages, as text.

A change that should not move findings (a speed-up, a refactoring) is checked by writing a snapshot
with the binary before and after it and comparing the two files with `diff`:

    python3 bench/snapshot.py --stateleak BIN_BEFORE --out bench/work/before.txt
    python3 bench/snapshot.py --stateleak BIN_AFTER --out bench/work/after.txt
    diff bench/work/before.txt bench/work/after.txt

Each line is one finding's whole JSON (keys sorted), after the run it came from: `corpus` (the
default codes on the benchmark corpus), `corpus-all` (every code on it, those off by default too),
`app-NAME` (every code on one app package of `bench/apps.toml`, as `bench/apps.py run` unpacks it).
Lines are sorted, so the file does not depend on the order findings are printed in. A finding that
names several shared objects changed at one place is one line without its `members`, followed by
one line per member: the finding's line, ` member `, and the member's JSON.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
# Every rule, including those off by default, which `--select ALL` leaves off (only a full code
# turns one of those on).
EVERY_CODE = ",".join(sorted(path.stem for path in (BENCH.parent / "docs" / "rules").glob("SL*.md")))


def findings(stateleak: Path, target: Path, select_all: bool, cwd: Path) -> list[str]:
    """Every finding of one `check` run, each as its JSON text with sorted keys (and its members'
    lines after it)."""
    command = [str(stateleak), "check", "--isolated", "--no-cache", "--output-format", "json"]
    if select_all:
        command += ["--select", EVERY_CODE]
    # Exit status 1 means findings were reported; anything else is a failure of the run.
    run = subprocess.run([*command, str(target)], cwd=cwd, capture_output=True, text=True, check=False)
    if run.returncode not in (0, 1):
        sys.exit(f"{' '.join(command)} {target}: exit status {run.returncode}\n{run.stderr}")
    lines = []
    for finding in json.loads(run.stdout)["findings"]:
        members = finding.pop("members", [])
        text = json.dumps(finding, sort_keys=True)
        lines.append(text)
        lines += [f"{text} member {json.dumps(member, sort_keys=True)}" for member in members]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stateleak", type=Path, default=Path("target/release/stateleak"))
    parser.add_argument("--corpus", type=Path, default=BENCH / "corpus" / "full", help="default: bench/corpus/full")
    parser.add_argument("--apps", type=Path, default=BENCH / "apps", help="default: bench/apps")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    stateleak = args.stateleak.resolve()
    if not args.corpus.is_dir():
        sys.exit(f"{args.corpus}: no corpus (python3 bench/corpus.py makes it)")
    # Paths in findings are relative to the folder checked from: the corpus, or bench/apps (as
    # `bench/apps.py` shows them), so snapshots of two checkouts compare.
    lines = [f"corpus {text}" for text in findings(stateleak, Path("."), False, args.corpus)]
    lines += [f"corpus-all {text}" for text in findings(stateleak, Path("."), True, args.corpus)]
    apps = sorted(path for path in args.apps.iterdir() if path.is_dir()) if args.apps.is_dir() else []
    for app in (path for path in apps if not path.name.startswith(".")):
        lines += [f"app-{app.name} {text}" for text in findings(stateleak, Path(app.name), True, args.apps)]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("".join(f"{line}\n" for line in sorted(lines)))
    print(f"{len(lines)} lines -> {args.out}")


if __name__ == "__main__":
    main()
