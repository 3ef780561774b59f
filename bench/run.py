#!/usr/bin/env python3
"""Benchmarks stateleak against Ruff on a pinned corpus of real code (see bench/README.md).

    python3 bench/run.py            # full corpus (~1.2 million lines); updates BENCHMARKS.md
    python3 bench/run.py --smoke    # small corpus, 2 rounds; what CI runs (no thresholds)

Every figure comes from the operating system: wall time from a monotonic clock around the child,
CPU time and peak resident memory from `wait4`'s resource usage of that child alone. Commands are
run in alternating rounds (the order rotates every round) after one untimed warm-up each, and the
median and the range over the rounds are reported.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpus as corpus_module  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"
RUFF_VERSION = "0.17.6"
RUFF_SELECT = "RUF012,B006,B019,RUF008,RUF009,PLW0603,B039"


def ruff_uncached(ruff: Path, corpus: Path) -> list[str]:
    """Ruff's cold run over the corpus with the rule selection closest to stateleak's."""
    return [
        str(ruff),
        "check",
        "--no-cache",
        "--isolated",
        "--exit-zero",
        "--select",
        RUFF_SELECT,
        str(corpus.resolve()),
    ]


BEGIN_MARK = "<!-- bench:results:begin -->"
END_MARK = "<!-- bench:results:end -->"

# The targets of issue 14, as (label, measured name, limit, comparison, unit).
TARGETS = [
    ("cold (`--no-cache`) wall ≤ 1.0 × Ruff's", "vs_ruff", 1.0, "le", "×"),
    ("cold, 1 thread: instructions ≤ 1.0 × Ruff's (callgrind)", "instructions_vs_ruff", 1.0, "le", "×"),
    ("post-parse instructions ≤ 1.4 G (check − parse-only, 1 thread)", "post_parse_g", 1.4, "le", " G"),
    ("warm, nothing changed: wall ≤ 0.5 × Ruff's warm run", "warm_vs_ruff_warm", 0.5, "le", "×"),
    ("warm, one function added to one file: wall ≤ 0.15 s", "one_changed_s", 0.15, "le", " s"),
    ("peak RSS with the cache ≤ 100 MB", "rss_mb", 100.0, "le", " MB"),
    ("peak RSS with the cache, ×4 corpus ≤ 2.5 × ×1", "rss_x4", 2.5, "le", "×"),
    ("1 → 2 threads ≥ 1.8 × faster", "thread_speedup", 1.8, "ge", "×"),
]

# Where the instructions of a 1-thread `stateleak check --no-cache` go: (stage, function whose
# inclusive count is the stage's).
STAGES = [
    ("Ruff's lexer and parser (`ruff_python_parser` 0.0.10)", "ruff_python_parser::parser::Parser::parse"),
    ("nesting pre-scan (`syntax::nesting::check`)", "stateleak::syntax::nesting::check"),
    ("fact extraction", "stateleak::syntax::extract::extract"),
    (
        "dropping syntax trees",
        "core::ptr::drop_in_place<ruff_python_parser::Parsed<ruff_python_ast::generated::ModModule>>",
    ),
    ("link (modules, hierarchy, call graph)", "stateleak::project::Project::link_named"),
    ("of which the values stage", "stateleak::project::values::Values::build"),
    ("rules", "as stateleak::rules::Rule>::check"),
    ("discovery", "stateleak::discover::discover_excluding"),
]


@dataclass
class Sample:
    wall: float
    cpu: float
    rss_kb: int


@dataclass
class Measured:
    name: str
    samples: list[Sample] = field(default_factory=list)

    def walls(self) -> list[float]:
        return [s.wall for s in self.samples]

    @property
    def wall(self) -> float:
        return statistics.median(self.walls())

    @property
    def cpu(self) -> float:
        return statistics.median(s.cpu for s in self.samples)

    @property
    def rss_mb(self) -> float:
        return max(s.rss_kb for s in self.samples) / 1024


@dataclass
class Command:
    name: str
    argv: list[str]
    cwd: Path = REPO
    env: dict[str, str] = field(default_factory=dict)
    # Run before every timed run (and not timed): resets state such as the cache.
    prepare: Callable[[], None] | None = None


def run_once(command: Command) -> Sample:
    if command.prepare is not None:
        command.prepare()
    env = dict(os.environ, **command.env)
    started = time.perf_counter()
    process = subprocess.Popen(
        command.argv,
        cwd=command.cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    # stateleak exits 1 when it has findings; 2 or a signal is a failure of the benchmark.
    if process.returncode not in (0, 1):
        raise RuntimeError(f"{command.name} failed ({process.returncode}): {' '.join(command.argv)}")
    return Sample(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss)


def measure(commands: list[Command], rounds: int, label: str) -> dict[str, Measured]:
    """Runs `commands` in `rounds` alternating rounds, after one untimed warm-up each."""
    results = {c.name: Measured(c.name) for c in commands}
    for command in commands:
        run_once(command)
    for round_number in range(rounds):
        shift = round_number % len(commands)
        for command in commands[shift:] + commands[:shift]:
            results[command.name].samples.append(run_once(command))
        walls = ", ".join(f"{c.name} {results[c.name].samples[-1].wall:.3f}s" for c in commands)
        print(f"  [{label}] round {round_number + 1}/{rounds}: {walls}", flush=True)
    return results


def build_stateleak() -> Path:
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=REPO, check=True)
    metadata = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--no-deps"],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    )
    return Path(json.loads(metadata.stdout)["target_directory"]) / "release" / "stateleak"


def install_ruff() -> Path | None:
    """Ruff from PyPI in its own virtual environment; `None` if it cannot be installed."""
    venv = BENCH / ".venv"
    ruff = venv / "bin" / "ruff"
    try:
        if ruff.exists():
            version = subprocess.run([ruff, "--version"], capture_output=True, text=True).stdout
            if version.split() == ["ruff", RUFF_VERSION]:
                return ruff
        if not (venv / "bin" / "python").exists():
            subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        subprocess.run(
            [
                venv / "bin" / "python",
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                f"ruff=={RUFF_VERSION}",
            ],
            check=True,
        )
        return ruff
    except (OSError, subprocess.CalledProcessError) as error:
        print(f"warning: Ruff {RUFF_VERSION} could not be installed ({error}); its column is left out")
        return None


def prepare_corpus(smoke: bool) -> tuple[Path, str]:
    """The corpus folder and a description of where it came from."""
    dest = BENCH / "corpus" / ("smoke" if smoke else "full")
    packages = corpus_module.SMOKE_PACKAGES if smoke else corpus_module.PACKAGES
    try:
        corpus_module.build_corpus(dest, packages)
        return dest, ", ".join(f"{n} {v}" for n, v in packages)
    except (OSError, RuntimeError, subprocess.CalledProcessError) as error:
        if not smoke:
            raise
        # CI without network still exercises every step, on the repository's own Python files.
        print(f"warning: the smoke corpus could not be downloaded ({error}); using examples/ and docs/")
        fallback = BENCH / "work" / "offline-corpus"
        shutil.rmtree(fallback, ignore_errors=True)
        for source in [REPO / "examples"]:
            shutil.copytree(source, fallback / source.name)
        return fallback, "the repository's examples (offline fallback)"


def copies(corpus: Path, times: int) -> Path:
    """`times` real copies of the corpus side by side (same content, different paths)."""
    dest = BENCH / "work" / f"x{times}"
    marker = dest / ".complete"
    if marker.exists() and marker.read_text() == str(corpus):
        return dest
    shutil.rmtree(dest, ignore_errors=True)
    for i in range(times):
        shutil.copytree(corpus, dest / f"copy{i}", ignore=shutil.ignore_patterns(".wheels"))
    marker.write_text(str(corpus))
    return dest


def corpus_size(folder: Path) -> tuple[int, int, int]:
    files = lines = size = 0
    for path in folder.rglob("*.py"):
        if ".wheels" in path.parts:
            continue
        data = path.read_bytes()
        files += 1
        lines += data.count(b"\n")
        size += len(data)
    return files, lines, size


def stateleak_json(stateleak: Path, corpus: Path, cwd: Path, extra: list[str]) -> dict[str, Any]:
    result = subprocess.run(
        [stateleak, "check", "--output-format", "json", *extra, corpus],
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    if result.returncode not in (0, 1):
        raise RuntimeError(f"stateleak check failed ({result.returncode}): {result.stderr}")
    report: dict[str, Any] = json.loads(result.stdout)
    report.pop("elapsed", None)
    report.get("summary", {}).pop("elapsed", None)
    return report


def callgrind(argv: list[str], out: Path, env: dict[str, str] | None = None) -> int | None:
    """Instructions executed by `argv` (callgrind, every thread); `None` without valgrind."""
    if shutil.which("valgrind") is None:
        return None
    result = subprocess.run(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *argv],
        check=False,
        env=dict(os.environ, **(env or {})),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    for line in result.stderr.splitlines():
        if "Collected :" in line:
            return int(line.split("Collected :")[1].split()[0])
    return None


def stage_instructions(profile: Path) -> dict[str, int]:
    """Inclusive instructions of each stage's function in a callgrind profile (rules summed)."""
    annotated = subprocess.run(
        ["callgrind_annotate", "--inclusive=yes", "--threshold=100", str(profile.resolve())],
        check=False,
        # Run from the checkout, callgrind_annotate merges a function's entries under relative and
        # absolute source paths and reports less than its inclusive count.
        cwd="/",
        capture_output=True,
        text=True,
    ).stdout
    inclusive: dict[str, int] = {}
    for line in annotated.splitlines():
        # `  123,456 (12.3%)  file:function [binary]`: the function's own entry.
        parts = line.strip().split(None, 2)
        if len(parts) < 3 or not parts[0].replace(",", "").isdigit() or not parts[2].endswith("]"):
            continue
        function = parts[2].rsplit(" [", 1)[0].split(":", 1)[-1]
        count = int(parts[0].replace(",", ""))
        inclusive[function] = max(inclusive.get(function, 0), count)
    stages: dict[str, int] = {}
    for label, function in STAGES:
        if function.startswith("as "):
            stages[label] = sum(c for f, c in inclusive.items() if f.endswith(function))
        else:
            stages[label] = inclusive.get(function, 0)
    return stages


def files_to_edit(folder: Path) -> tuple[Path, Path]:
    """The files that the one-file-changed runs edit: two mid-sized modules of the copy."""
    candidates = sorted(p for p in folder.rglob("*.py") if 2_000 < p.stat().st_size < 20_000)
    middle = len(candidates) // 2
    return candidates[middle], candidates[middle + 1]


def main() -> int:
    parser = argparse.ArgumentParser(description="Benchmark stateleak against Ruff.")
    parser.add_argument("--smoke", action="store_true", help="small corpus, for CI")
    parser.add_argument("--rounds", type=int, help="timed rounds per comparison (default 5; smoke 2)")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="default: every core")
    parser.add_argument("--stateleak", type=Path, help="binary to measure (default: cargo build --release)")
    parser.add_argument("--output", type=Path, help="Markdown file whose results section is replaced")
    parser.add_argument("--corpus", type=Path, help="an existing corpus folder (built by corpus.py)")
    parser.add_argument("--no-callgrind", action="store_true", help="skip the instruction counts")
    args = parser.parse_args()
    rounds = args.rounds or (2 if args.smoke else 5)
    output = args.output or (BENCH / "work" / "BENCHMARKS.smoke.md" if args.smoke else REPO / "BENCHMARKS.md")
    threads = args.threads

    load_before = os.getloadavg()
    stateleak = args.stateleak or build_stateleak()
    ruff = install_ruff()
    if args.corpus is not None:
        corpus, provenance = args.corpus, f"the corpus in {args.corpus}"
    else:
        corpus, provenance = prepare_corpus(args.smoke)
    files, lines, size = corpus_size(corpus)
    print(f"corpus {corpus}: {files} files, {lines} lines, {size / 1e6:.1f} MB; {threads} threads")

    work = BENCH / "work"
    cache_cwd = work / "cache-cwd"
    cache_cwd.mkdir(parents=True, exist_ok=True)

    def clear_cache() -> None:
        shutil.rmtree(cache_cwd / ".stateleak_cache", ignore_errors=True)

    def check(
        name: str,
        path: Path,
        n: int = threads,
        cache: bool = False,
        prepare: Callable[[], None] | None = None,
        cwd: Path = cache_cwd,
    ) -> Command:
        argv = [str(stateleak), "check", "--threads", str(n), str(path.resolve())]
        if cache:
            # Named, since a copy inside a repository would otherwise keep its cache at the
            # repository's root, which `clear_cache` does not clear.
            argv[2:2] = ["--cache-dir", str(cwd / ".stateleak_cache")]
        else:
            argv.insert(2, "--no-cache")
        return Command(name, argv, cwd=cwd, prepare=prepare)

    parse_only = Command("parse-only", [str(stateleak), "parse-only", "--threads", str(threads), str(corpus.resolve())])
    main_commands = [check("stateleak", corpus), parse_only]
    if ruff is not None:
        main_commands.insert(
            1,
            Command("ruff", ruff_uncached(ruff, corpus), env={"RAYON_NUM_THREADS": str(threads)}),
        )

    print("comparison (stateleak --no-cache, ruff --no-cache, parse-only)")
    results = measure(main_commands, rounds, "compare")
    print("threads (stateleak --no-cache)")
    thread_results = measure(
        [check("1 thread", corpus, 1), check(f"{max(threads, 2)} threads", corpus, max(threads, 2))], rounds, "threads"
    )
    print("size (stateleak with the cache, cold: memory as users run it)")
    x1, x2, x4 = copies(corpus, 1), copies(corpus, 2), copies(corpus, 4)
    size_results = measure(
        [check(name, path, cache=True, prepare=clear_cache) for name, path in [("×1", corpus), ("×2", x2), ("×4", x4)]],
        rounds,
        "size",
    )
    print("cache (cold run that writes the cache, warm re-run, one file changed twice; Ruff cold and warm)")
    edit_cwd = work / "cache-cwd-edit"
    edit_cwd.mkdir(parents=True, exist_ok=True)
    # Two kinds of edit, each in its own file and a different text every run, so that every run
    # meets one changed file. A comment leaves the file's facts as they were, so the run is
    # replayed; a new function changes them, so the project is linked again, as after most edits.
    commented, extended = files_to_edit(x1)
    originals = {path: path.read_bytes() for path in (commented, extended)}
    edits = iter(range(1_000_000))

    def add_a_comment() -> None:
        commented.write_bytes(originals[commented] + f"\n# edited {next(edits)}\n".encode())

    def with_a_new_function() -> bytes:
        edit = next(edits)
        return originals[extended] + f"\n\ndef _edited_{edit}():\n    return {edit}\n".encode()

    def replace_the_function() -> None:
        extended.write_bytes(with_a_new_function())

    # The file as the cache holds it (an untimed run on the original text), then one function
    # added: the edit since the last run is exactly that.
    def add_a_function() -> None:
        extended.write_bytes(originals[extended])
        settle = added.argv
        subprocess.run(settle, cwd=added.cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        extended.write_bytes(with_a_new_function())

    # Its own working directory, so its cache outlives the cold run's clearing.
    added = check("warm, one function added", x1, cache=True, prepare=add_a_function, cwd=edit_cwd)
    cache_commands = [
        check("cold, writing the cache", corpus, cache=True, prepare=clear_cache),
        check("warm, nothing changed", corpus, cache=True),
        check("warm, one comment added", x1, cache=True, prepare=add_a_comment, cwd=edit_cwd),
        added,
        check("warm, one function renamed", x1, cache=True, prepare=replace_the_function, cwd=edit_cwd),
    ]
    if ruff is not None:
        ruff_cache = work / "ruff-cache"
        ruff_cached = [
            str(ruff),
            "check",
            "--cache-dir",
            str(ruff_cache),
            "--isolated",
            "--exit-zero",
            "--select",
            RUFF_SELECT,
            str(corpus.resolve()),
        ]
        cache_commands += [
            Command(
                "ruff cold, writing its cache",
                ruff_cached,
                env={"RAYON_NUM_THREADS": str(threads)},
                prepare=lambda: shutil.rmtree(ruff_cache, ignore_errors=True),
            ),
            Command("ruff warm, nothing changed", ruff_cached, env={"RAYON_NUM_THREADS": str(threads)}),
        ]
    cache_results = measure(cache_commands, rounds, "cache")
    for path, original in originals.items():
        path.write_bytes(original)

    instructions: dict[str, int | None] = {}
    stages: dict[str, int] = {}
    if not args.no_callgrind:
        print("instructions (callgrind, 1 thread)")
        profile = work / "callgrind.stateleak.out"
        instructions["stateleak"] = callgrind(
            [str(stateleak), "check", "--no-cache", "--threads", "1", str(corpus.resolve())], profile
        )
        instructions["parse-only"] = callgrind(
            [str(stateleak), "parse-only", "--threads", "1", str(corpus.resolve())], work / "callgrind.parse-only.out"
        )
        if ruff is not None:
            instructions["ruff"] = callgrind(
                ruff_uncached(ruff, corpus),
                work / "callgrind.ruff.out",
                env={"RAYON_NUM_THREADS": "1"},
            )
        if instructions["stateleak"] is not None and shutil.which("callgrind_annotate"):
            stages = stage_instructions(profile)

    # The cache must not change the output: compare a cold and a warm JSON report.
    clear_cache()
    cold_report = stateleak_json(stateleak, corpus.resolve(), cache_cwd, [])
    warm_report = stateleak_json(stateleak, corpus.resolve(), cache_cwd, [])
    uncached_report = stateleak_json(stateleak, corpus.resolve(), cache_cwd, ["--no-cache"])
    same_output = cold_report == warm_report == uncached_report
    if not same_output:
        print("error: the warm re-run's output differs from the cold run's")

    load_after = os.getloadavg()
    s = results["stateleak"]
    ruff_warm = cache_results.get("ruff warm, nothing changed")
    warm = cache_results["warm, nothing changed"]
    counted = {k: v for k, v in instructions.items() if v is not None}
    figures = {
        "vs_ruff": s.wall / results["ruff"].wall if "ruff" in results else None,
        "instructions_vs_ruff": counted["stateleak"] / counted["ruff"]
        if {"stateleak", "ruff"} <= counted.keys()
        else None,
        "post_parse_g": (counted["stateleak"] - counted["parse-only"]) / 1e9
        if {"stateleak", "parse-only"} <= counted.keys()
        else None,
        "warm_vs_ruff_warm": warm.wall / ruff_warm.wall if ruff_warm else None,
        "one_changed_s": cache_results["warm, one function added"].wall,
        "rss_mb": size_results["×1"].rss_mb,
        "rss_x4": size_results["×4"].rss_mb / size_results["×1"].rss_mb,
        "thread_speedup": thread_results["1 thread"].wall / thread_results[f"{max(threads, 2)} threads"].wall,
    }
    # The same ratios on CPU time, which the load of a shared machine disturbs less than wall time
    # (meaningless for the thread speed-up and the memory).
    cpu_figures = {
        "vs_ruff": s.cpu / results["ruff"].cpu if "ruff" in results else None,
        "warm_vs_ruff_warm": warm.cpu / ruff_warm.cpu if ruff_warm else None,
        "one_changed_s": cache_results["warm, one function added"].cpu,
    }
    report = render(
        args,
        rounds,
        threads,
        provenance,
        (files, lines, size),
        stateleak,
        ruff,
        results,
        thread_results,
        size_results,
        cache_results,
        figures,
        cpu_figures,
        (load_before, load_after),
        cold_report,
        same_output,
        counted,
        stages,
    )
    write_section(output, report)
    print(f"wrote {output}")
    print(report)
    return 0 if same_output else 1


def fmt_range(m: Measured) -> str:
    return f"{min(m.walls()):.3f}–{max(m.walls()):.3f}"


def table(
    rows: dict[str, Measured],
    files: int,
    lines: int,
    baseline: str | None = None,
    copies: dict[str, int] | None = None,
) -> list[str]:
    out = [
        "| command | median wall (s) | range (s) | CPU (s) | peak RSS (MB) | files/s | lines/s |"
        + (" ratio |" if baseline else ""),
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |" + (" ---: |" if baseline else ""),
    ]
    for name, m in rows.items():
        n = (copies or {}).get(name, 1)
        row = (
            f"| {name} | {m.wall:.3f} | {fmt_range(m)} | {m.cpu:.3f} | {m.rss_mb:.1f} "
            f"| {n * files / m.wall:,.0f} | {n * lines / m.wall:,.0f} |"
        )
        if baseline:
            row += f" {m.wall / rows[baseline].wall:.2f} |"
        out.append(row)
    return out


def render(
    args: argparse.Namespace,
    rounds: int,
    threads: int,
    provenance: str,
    size: tuple[int, int, int],
    stateleak: Path,
    ruff: Path | None,
    results: dict[str, Measured],
    thread_results: dict[str, Measured],
    size_results: dict[str, Measured],
    cache_results: dict[str, Measured],
    figures: dict[str, float | None],
    cpu_figures: dict[str, float | None],
    loads: tuple[tuple[float, float, float], tuple[float, float, float]],
    cold_report: dict[str, Any],
    same_output: bool,
    instructions: dict[str, int],
    stages: dict[str, int],
) -> str:
    files, lines, nbytes = size
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    revision = (
        subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
        or "unknown"
    )
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO, capture_output=True, text=True
    ).stdout.strip()
    cpu_model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ruff_label = f"Ruff {RUFF_VERSION}" if ruff else "Ruff (not installed)"
    summary = cold_report.get("summary", {})
    lines_out = [
        f"Measured {now} by `python3 bench/run.py{' --smoke' if args.smoke else ''}`"
        f"{f' --rounds {args.rounds}' if args.rounds else ''}: stateleak {revision}"
        f"{' with uncommitted changes' if dirty else ''}, {ruff_label}.",
        "",
        f"- Machine: {os.cpu_count()} cores ({cpu_model}), {platform.system()} {platform.release()}, "
        f"load average {loads[0][0]:.2f} before and {loads[1][0]:.2f} after the run"
        f"{' (a shared, busy machine: expect noise)' if max(loads[0][0], loads[1][0]) > 1.0 else ''}.",
        f"- Corpus: {provenance}: {files:,} files, {lines:,} lines, {nbytes / 1e6:.1f} MB.",
        f"- {rounds} timed rounds per table, order rotating each round, after one untimed warm-up; "
        f"{threads} threads unless stated. Wall: median and range; CPU (user + system) and peak RSS "
        "(the child's `ru_maxrss`) from `wait4`.",
        f"- stateleak found {summary.get('findings', '?')} findings and {summary.get('errors', '?')} "
        f"file errors; the warm re-run's JSON output is "
        f"{'identical to the cold run' if same_output else 'DIFFERENT from the cold run (a bug)'}.",
        "",
        "### stateleak, Ruff and the parse-only floor",
        "",
        f"`stateleak check --no-cache`, `ruff check --no-cache --isolated --exit-zero --select {RUFF_SELECT}`"
        " and `stateleak parse-only`; ratio to stateleak.",
        "",
        *table(results, files, lines, "stateleak"),
        "",
        "### Threads",
        "",
        *table(thread_results, files, lines, "1 thread"),
        "",
        "### Corpus size (copies of the corpus side by side, with the cache, cold)",
        "",
        *table(size_results, files, lines, "×1", {"×1": 1, "×2": 2, "×4": 4}),
        "",
        "### Cache",
        "",
        (
            "A cold run with an empty `.stateleak_cache/` (it writes the cache), a re-run on the "
            "unchanged tree (it replays the run), re-runs after one file of a copy of the corpus "
            "changed (a new edit before every run: a comment appended to one file, which leaves its "
            "facts as they were and is replayed; a function appended to another file as the cache "
            "holds it, which keeps the values and renumbers them; or, in that file, the function "
            "the last run saw replaced by one of another name, which links the project again), "
            "and Ruff with its cache, cold and warm."
        ),
        "",
        *table(cache_results, files, lines, None),
        "",
        "### Instructions (callgrind, 1 thread)",
        "",
        *(
            instruction_lines(instructions, stages)
            if instructions
            else ["Not measured (no valgrind, or `--no-callgrind`)."]
        ),
        "",
        "### Against the targets",
        "",
        *(["The targets are set for the full corpus; on the smoke corpus they mean little.", ""] if args.smoke else []),
        "| target | measured | met | same figure on CPU time |",
        "| --- | ---: | :---: | ---: |",
    ]
    for label, key, limit, how, unit in TARGETS:
        value = figures.get(key)
        if value is None:
            lines_out.append(f"| {label} | n/a | – | |")
            continue
        met = value <= limit if how == "le" else value >= limit
        cpu = cpu_figures.get(key)
        cpu_text = f"{cpu:.2f}{unit}" if cpu is not None else ""
        lines_out.append(f"| {label} | {value:.2f}{unit} | {'yes' if met else 'no'} | {cpu_text} |")
    return "\n".join(lines_out)


def instruction_lines(instructions: dict[str, int], stages: dict[str, int]) -> list[str]:
    out = [
        (
            "`stateleak check --no-cache --threads 1`, `stateleak parse-only --threads 1` and Ruff "
            "with `RAYON_NUM_THREADS=1`, each under `valgrind --tool=callgrind`."
        ),
        "",
        "| command | instructions (G) |",
        "| --- | ---: |",
        *(f"| {name} | {count / 1e9:.2f} |" for name, count in instructions.items()),
    ]
    if stages and "stateleak" in instructions:
        total = instructions["stateleak"]
        out += [
            "",
            (
                "Where stateleak's instructions go (inclusive counts of each stage's function; "
                "`callgrind_annotate --inclusive=yes bench/work/callgrind.stateleak.out`):"
            ),
            "",
            "| stage | instructions (G) | share |",
            "| --- | ---: | ---: |",
            *(f"| {label} | {count / 1e9:.2f} | {100 * count / total:.0f} % |" for label, count in stages.items()),
        ]
    return out


def write_section(path: Path, body: str) -> None:
    """Replaces the generated section of `path` (between the markers), keeping the rest."""
    section = f"{BEGIN_MARK}\n{body}\n{END_MARK}"
    text = path.read_text() if path.exists() else ""
    if BEGIN_MARK in text and END_MARK in text:
        before, rest = text.split(BEGIN_MARK, 1)
        _, after = rest.split(END_MARK, 1)
        text = before + section + after
    else:
        text = (text.rstrip() + "\n\n" if text else "# Benchmarks\n\n") + section + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


if __name__ == "__main__":
    sys.exit(main())
