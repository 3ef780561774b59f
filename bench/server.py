#!/usr/bin/env python3
"""Measures `stateleak server` on the benchmark corpus: the time from an edit to its diagnostics.

    python3 bench/server.py                      # corpus in bench/corpus (built when missing)
    python3 bench/server.py --corpus DIR         # an existing corpus (see bench/corpus.py)
    python3 bench/server.py --write              # also rewrite the server section of BENCHMARKS.md

The corpus is copied to bench/work/server/ (the server writes its cache into the workspace, and a
shared corpus stays untouched). The script plays the editor over standard input and output:
initialize, wait for the first analysis, open one file, then alternately add and remove a class
whose attribute leaks (SL101) in that buffer (an edit that changes what the project link reads:
the server links again). Then, with the class in place, it alternately adds and removes a
`# noqa: SL101` on the leaking line (an edit that keeps what the link reads: the server swaps the
file's facts into the linked project it kept). Last, it alternately adds and removes a `print()`
call above the class (an edit that changes what the link reads but not what the values of names
are learnt from: the server links again with the values it kept). Then it alternately reads the
class's dict through a local before the store and back (an edit that adds a value flow: the server
updates the values of names where the edit reaches, as it does for edits of assignments and
arguments that keep the file's definitions and imports, unless that reaches a name holding its cap
of values). Last, each round first adds or removes (untimed) a class nothing uses, which
renumbers the values, and then edits the value flow as before (timed): the values renumbered keep
what an update needs. Last, it alternately adds an `import json` among the file's imports and
takes it away (an edit of what the module binds: the server updates the values, since nothing
outside the file looks the name up in it). Then it alternately appends `Model = Model` (a name
other modules import, still bound to the class) and takes it away, and last alternately appends
`DEFERRED = object()` (a module binding other modules import, bound to another object) and takes
it away: the server updates the values, re-planning the flows of the files that name it.
Each timed round is the wall time from sending the
`didChange` to receiving the `publishDiagnostics` of that file (so it includes the server's
debounce). The first rounds of each kind are untimed warm-up. Memory is the server's resident set
(`VmRSS`) after the rounds and its peak (`VmHWM`), from /proc. Where each kind of edit's time goes
is printed below the table: the median of each stage's time as the server logs it after each
analysis (`window/logMessage`; a server that does not log its stages gets no such table). Last,
per kind, the wall against the time the server's threads ran on a core and were ready but waited
for one (`/proc/PID/task/*/schedstat`): on a shared machine the wait, not the work, may be most
of the wall.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

import corpus

ROOT = Path(__file__).resolve().parent.parent
EDITED = Path("django-5.1.4/django/db/models/base.py")
LEAK = "\n\nclass _BenchLeak:\n    items = {}\n\n    def put(self, key, value):\n        self.items[key] = value\n"
SUPPRESSED = LEAK.replace("= value\n", "= value  # noqa: SL101\n")
# A call no value flows through; it moves the class's lines, so the diagnostics change.
CALLED = "\n\nprint()" + LEAK
# A new local bound to the class's dict: a value flow, so the values are updated; the store
# moves one line down, so the diagnostics change.
FLOWS = LEAK.replace("self.items[key] = value", "items = self.items\n        items[key] = value")
# A class nothing uses, with no value flows: adding or removing it renumbers the values.
UNUSED = "\n\nclass _BenchUnused:\n    pass\n"
# An import the file did not have, among its imports; the class's lines move, so the
# diagnostics change.
IMPORT_AFTER = "import inspect\n"
IMPORT = "import json\n"
# `Model` rebound at module level, a name other modules import from the file
# (`django/db/models/__init__.py`): the class still wins the module's scope, so nothing outside
# looks up anything new and the values are updated (round 22; before, they were learnt again);
# the class's lines move, so the diagnostics change.
REBIND = "\n\nModel = Model\n"
# `DEFERRED` (bound earlier in the file to `Deferred()`) rebound to another object at module
# level, a name `django/db/models/__init__.py` imports from the file: the files that name it are
# re-planned and the values updated (round 23; before, they were learnt again); the class's
# lines move, so the diagnostics change.
REBIND_OTHER = "\n\nDEFERRED = object()\n"
BEGIN = "<!-- bench:server:begin -->"
END = "<!-- bench:server:end -->"


STAGES_LOGGED = "stateleak: analysed: "


def parse_stages(text: str) -> dict[str, float]:
    """`extract 1.0 ms; link 300.2 ms; ...` as milliseconds by stage."""
    stages: dict[str, float] = {}
    for part in text.split("; "):
        name, _, value = part.rpartition(" ")[0].rpartition(" ")
        stages[name] = stages.get(name, 0.0) + float(value)
    return stages


def median_stages(logs: list[dict[str, float]]) -> dict[str, float]:
    """Each stage's median over the analyses that ran it."""
    names = dict.fromkeys(name for log in logs for name in log)
    return {name: statistics.median(log[name] for log in logs if name in log) for name in names}


class Client:
    """The editor's side of a JSON-RPC connection over a child's pipes."""

    def __init__(self, command: list[str], cwd: Path) -> None:
        self.process = subprocess.Popen(command, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.next_id = 0
        # The stage times of each analysis the server logged (`window/logMessage`), in order.
        self.stage_logs: list[dict[str, float]] = []

    def send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        stdin = self.process.stdin
        assert stdin is not None
        stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        stdin.flush()

    def receive(self) -> dict[str, Any]:
        stdout: IO[bytes] | None = self.process.stdout
        assert stdout is not None
        length = 0
        while True:
            line = stdout.readline()
            if not line:
                raise RuntimeError("the server closed its output")
            if line in (b"\r\n", b"\n"):
                break
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        message: dict[str, Any] = json.loads(stdout.read(length))
        if message.get("method") == "window/logMessage":
            text = message["params"]["message"]
            if text.startswith(STAGES_LOGGED):
                self.stage_logs.append(parse_stages(text[len(STAGES_LOGGED) :]))
        if "id" in message and "method" in message:
            # The server's own requests (registrations) are accepted.
            self.send({"id": message["id"], "result": None})
        return message

    def request(self, method: str, params: Any) -> Any:
        self.next_id += 1
        self.send({"id": self.next_id, "method": method, "params": params})
        while True:
            message = self.receive()
            if message.get("id") == self.next_id and "method" not in message:
                return message.get("result")

    def notify(self, method: str, params: Any) -> None:
        self.send({"method": method, "params": params})

    def wait_for_diagnostics(self, uri: str) -> list[Any]:
        while True:
            message = self.receive()
            if message.get("method") == "textDocument/publishDiagnostics" and (message["params"]["uri"] == uri):
                diagnostics: list[Any] = message["params"]["diagnostics"]
                return diagnostics

    def memory_mb(self) -> tuple[float, float]:
        """Resident set now and at its peak, in MB."""
        fields: dict[str, float] = {}
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        for line in status.splitlines():
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                fields[name] = int(value.split()[0]) / 1024
        return fields["VmRSS"], fields["VmHWM"]

    def cpu_seconds(self) -> float:
        """User and system time the server has used so far."""
        stat = Path(f"/proc/{self.process.pid}/stat").read_text()
        # Fields after the command name (which may hold spaces), from the third on.
        fields = stat[stat.rindex(")") + 2 :].split()
        ticks = int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    def scheduled_ms(self) -> tuple[float, float]:
        """Time the server's threads have run on a core, and have waited for one while ready to
        run (the kernel's run queue), so far, in ms (`/proc/PID/task/*/schedstat`; zeros where
        the kernel does not keep it). Threads that ended are not counted (the pool's do not end)."""
        ran = waited = 0
        for task in Path(f"/proc/{self.process.pid}/task").iterdir():
            try:
                fields = (task / "schedstat").read_text().split()
            except OSError:
                continue
            ran += int(fields[0])
            waited += int(fields[1])
        return ran / 1e6, waited / 1e6

    def close(self) -> int:
        self.request("shutdown", None)
        self.notify("exit", None)
        return self.process.wait(timeout=60)


def copy_corpus(source: Path, dest: Path) -> None:
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(source, dest, ignore=shutil.ignore_patterns(".wheels", ".stateleak_cache"))


def measure(binary: Path, workspace: Path, rounds: int, warmup: int) -> dict[str, Any]:
    client = Client([str(binary), "server"], workspace)
    uri = (workspace / EDITED).as_uri()
    started = time.perf_counter()
    client.request(
        "initialize",
        {
            "processId": os.getpid(),
            "rootUri": workspace.as_uri(),
            "workspaceFolders": [{"uri": workspace.as_uri(), "name": "corpus"}],
            "capabilities": {},
        },
    )
    client.notify("initialized", {})
    # Requests are answered after pending analyses: this one waits for the first.
    client.request(
        "textDocument/hover",
        {"textDocument": {"uri": uri}, "position": {"line": 0, "character": 0}},
    )
    first_analysis = time.perf_counter() - started
    text = (workspace / EDITED).read_text()
    client.notify(
        "textDocument/didOpen",
        {
            "textDocument": {
                "uri": uri,
                "languageId": "python",
                "version": 1,
                "text": text,
            }
        },
    )
    client.request(
        "textDocument/hover",
        {"textDocument": {"uri": uri}, "position": {"line": 0, "character": 0}},
    )
    version = 2

    def change(new_text: str) -> list[Any]:
        """Replaces the buffer's text; returns the file's diagnostics published after it."""
        nonlocal version
        version += 1
        client.notify(
            "textDocument/didChange",
            {"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": new_text}]},
        )
        return client.wait_for_diagnostics(uri)

    def hover() -> None:
        """A request, answered after every analysis before it (and its log) is done."""
        client.request(
            "textDocument/hover",
            {"textDocument": {"uri": uri}, "position": {"line": 0, "character": 0}},
        )

    stages: dict[str, dict[str, float]] = {}
    # Per kind of edit: the median of each timed round's wall, and of its server time on a
    # core and waiting for one (ms), to tell work from a busy machine.
    schedule: dict[str, tuple[float, float, float]] = {}

    def timed_rounds(
        kind: str,
        texts: tuple[str, str],
        leaks: tuple[bool, bool],
        first: tuple[str, str] | None = None,
    ) -> tuple[list[float], float]:
        """Alternates the buffer between two texts; returns the timed rounds and CPU per round.
        With `first`, each round first sends its text from there, untimed (its CPU counts)."""
        nonlocal version
        times: list[float] = []
        ran: list[float] = []
        waited: list[float] = []
        hover()
        client.stage_logs.clear()
        cpu_before = 0.0
        for round_number in range(warmup + rounds):
            if round_number == warmup:
                cpu_before = client.cpu_seconds()
            which = round_number % 2
            if first is not None:
                # It may leave the file's diagnostics as they were (then none are published):
                # a request is answered once it is analysed. Its stage log is dropped (the one
                # of the round before, logged after its diagnostics, is taken first).
                hover()
                version += 1
                client.notify(
                    "textDocument/didChange",
                    {
                        "textDocument": {"uri": uri, "version": version},
                        "contentChanges": [{"text": first[which]}],
                    },
                )
                logged = len(client.stage_logs)
                hover()
                del client.stage_logs[logged:]
            scheduled = client.scheduled_ms()
            sent = time.perf_counter()
            diagnostics = change(texts[which])
            elapsed = time.perf_counter() - sent
            now_scheduled = client.scheduled_ms()
            has_leak = any(d.get("code") == "SL101" for d in diagnostics)
            if has_leak != leaks[which]:
                raise RuntimeError(f"round {round_number}: unexpected diagnostics {diagnostics}")
            if round_number >= warmup:
                times.append(elapsed)
                ran.append(now_scheduled[0] - scheduled[0])
                waited.append(now_scheduled[1] - scheduled[1])
        cpu = (client.cpu_seconds() - cpu_before) / rounds
        hover()
        stages[kind] = median_stages(client.stage_logs[warmup:])
        schedule[kind] = (
            statistics.median(times) * 1000,
            statistics.median(ran),
            statistics.median(waited),
        )
        return times, cpu

    times, cpu = timed_rounds("links again", (text + LEAK, text), (True, False))
    if (warmup + rounds) % 2 == 0:
        # The last round removed the class: it is put back first (untimed), so that each round
        # below changes the file's diagnostics.
        change(text + LEAK)
    kept_times, kept_cpu = timed_rounds("keeps the link", (text + SUPPRESSED, text + LEAK), (False, True))
    if (warmup + rounds) % 2 == 1:
        # The last round suppressed the finding: it is taken back first (untimed).
        change(text + LEAK)
    call_times, call_cpu = timed_rounds("keeps the values", (text + CALLED, text + LEAK), (True, True))
    if (warmup + rounds) % 2 == 1:
        change(text + LEAK)
    flow_times, flow_cpu = timed_rounds("updates the values", (text + FLOWS, text + LEAK), (True, True))
    if (warmup + rounds) % 2 == 1:
        change(text + LEAK)
    # Each round first adds or removes a class nothing uses (untimed: the values are renumbered),
    # then edits a value flow (timed): the values are updated if renumbering kept what an
    # update needs, else learnt again.
    renumbered_times, renumbered_cpu = timed_rounds(
        "updates renumbered values",
        (text + FLOWS + UNUSED, text + LEAK),
        (True, True),
        first=(text + LEAK + UNUSED, text + FLOWS),
    )
    if (warmup + rounds) % 2 == 1:
        change(text + LEAK)
    imported = text.replace(IMPORT_AFTER, IMPORT_AFTER + IMPORT, 1)
    import_times, import_cpu = timed_rounds("adds an import", (imported + LEAK, text + LEAK), (True, True))
    if (warmup + rounds) % 2 == 1:
        change(text + LEAK)
    rebind_times, rebind_cpu = timed_rounds(
        "rebinds an imported name", (text + REBIND + LEAK, text + LEAK), (True, True)
    )
    if (warmup + rounds) % 2 == 1:
        # `REBIND` and `REBIND_OTHER` are as long: going from one to the other moves no
        # diagnostic, so none would be published and the round below would wait forever.
        change(text + LEAK)
    other_times, other_cpu = timed_rounds(
        "rebinds an imported name to another object",
        (text + REBIND_OTHER + LEAK, text + LEAK),
        (True, True),
    )
    rss, peak = client.memory_mb()
    status = client.close()
    if status != 0:
        raise RuntimeError(f"the server exited with status {status}")
    return {
        "first_analysis": first_analysis,
        "times": times,
        "cpu": cpu,
        "kept_times": kept_times,
        "kept_cpu": kept_cpu,
        "call_times": call_times,
        "call_cpu": call_cpu,
        "flow_times": flow_times,
        "flow_cpu": flow_cpu,
        "renumbered_times": renumbered_times,
        "renumbered_cpu": renumbered_cpu,
        "import_times": import_times,
        "import_cpu": import_cpu,
        "rebind_times": rebind_times,
        "rebind_cpu": rebind_cpu,
        "other_times": other_times,
        "other_cpu": other_cpu,
        "rss": rss,
        "peak": peak,
        "stages": stages,
        "schedule": schedule,
    }


def report(figures: dict[str, Any], files: int, lines: int, commit: str) -> str:
    times = figures["times"]
    median = statistics.median(times) * 1000
    worst = max(times) * 1000
    kept = figures["kept_times"]
    kept_median = statistics.median(kept) * 1000
    called = figures["call_times"]
    called_median = statistics.median(called) * 1000
    flowed = figures["flow_times"]
    flowed_median = statistics.median(flowed) * 1000
    renumbered = figures["renumbered_times"]
    renumbered_median = statistics.median(renumbered) * 1000
    imported = figures["import_times"]
    imported_median = statistics.median(imported) * 1000
    rebound = figures["rebind_times"]
    rebound_median = statistics.median(rebound) * 1000
    other = figures["other_times"]
    other_median = statistics.median(other) * 1000
    load = os.getloadavg()[0]
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())

    def row(what: str, measured: str, target: float | None = None, value: float = 0) -> str:
        if target is None:
            return f"| {what} | {measured} | | |"
        met = "yes" if value <= target else "no"
        unit = measured.split()[-1]
        return f"| {what} | {measured} | ≤ {target:.0f} {unit} | {met} |"

    heading = (
        f"Measured {when} by `python3 bench/server.py`: stateleak {commit}, "
        f"{files:,} files, {lines:,} lines, load average {load:.2f} after the run."
    )
    return "\n".join(
        [
            heading,
            "",
            "| what | measured | target | met |",
            "| --- | ---: | ---: | :---: |",
            row(
                "first analysis (cold, from `initialize`)",
                f"{figures['first_analysis']:.2f} s",
            ),
            row(
                f"edit to diagnostics, warm: median of {len(times)}",
                f"{median:.0f} ms",
                300,
                median,
            ),
            row("edit to diagnostics, warm: slowest", f"{worst:.0f} ms"),
            row(
                "server CPU time (user + system) per edit",
                f"{figures['cpu'] * 1000:.0f} ms",
            ),
            row(
                f"edit keeping the link (a `# noqa`) to diagnostics: median of {len(kept)}",
                f"{kept_median:.0f} ms",
                300,
                kept_median,
            ),
            row(
                "server CPU time per edit keeping the link",
                f"{figures['kept_cpu'] * 1000:.0f} ms",
            ),
            row(
                f"edit adding a call, values kept (a `print()`) to diagnostics: median of {len(called)}",
                f"{called_median:.0f} ms",
                300,
                called_median,
            ),
            row(
                "server CPU time per edit adding a call, values kept",
                f"{figures['call_cpu'] * 1000:.0f} ms",
            ),
            row(
                f"edit adding a value flow, values updated (an alias) to diagnostics: median of {len(flowed)}",
                f"{flowed_median:.0f} ms",
                300,
                flowed_median,
            ),
            row(
                "server CPU time per edit adding a value flow",
                f"{figures['flow_cpu'] * 1000:.0f} ms",
            ),
            row(
                "edit adding a value flow right after an unused class was added or removed "
                f"(values renumbered, then updated) to diagnostics: median of {len(renumbered)}",
                f"{renumbered_median:.0f} ms",
                300,
                renumbered_median,
            ),
            row(
                "server CPU time per such pair of edits (the class's untimed)",
                f"{figures['renumbered_cpu'] * 1000:.0f} ms",
            ),
            row(
                f"edit adding or removing an import (`import json`) to diagnostics: median of {len(imported)}",
                f"{imported_median:.0f} ms",
                300,
                imported_median,
            ),
            row(
                "server CPU time per edit adding or removing an import",
                f"{figures['import_cpu'] * 1000:.0f} ms",
            ),
            row(
                "edit rebinding a name other modules import (`Model = Model`) to diagnostics: "
                f"median of {len(rebound)}",
                f"{rebound_median:.0f} ms",
                300,
                rebound_median,
            ),
            row(
                "server CPU time per edit rebinding an imported name",
                f"{figures['rebind_cpu'] * 1000:.0f} ms",
            ),
            row(
                "edit rebinding a name other modules import to another object "
                f"(`DEFERRED = object()`) to diagnostics: median of {len(other)}",
                f"{other_median:.0f} ms",
                300,
                other_median,
            ),
            row(
                "server CPU time per edit rebinding an imported name to another object",
                f"{figures['other_cpu'] * 1000:.0f} ms",
            ),
            row(
                "resident memory after the edits",
                f"{figures['rss']:.0f} MB",
                300,
                figures["rss"],
            ),
            row(
                "peak resident memory",
                f"{figures['peak']:.0f} MB",
                300,
                figures["peak"],
            ),
        ]
    )


def stage_table(stages: dict[str, dict[str, float]]) -> str:
    """Where each kind of edit's time goes: median milliseconds by stage (none from a server
    that does not log its stages)."""
    kinds = [kind for kind, logged in stages.items() if logged]
    if not kinds:
        return ""
    names = list(dict.fromkeys(name for kind in kinds for name in stages[kind]))
    lines = [
        "Where an edit's time goes (the server's own stage times, median ms; debounce and transport not included):",
        "",
        "| stage | " + " | ".join(f"edit that {kind}" for kind in kinds) + " |",
        "| --- |" + " ---: |" * len(kinds),
    ]
    for name in names:
        cells = [f"{stages[kind][name]:.1f}" if name in stages[kind] else "" for kind in kinds]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def schedule_table(schedule: dict[str, tuple[float, float, float]]) -> str:
    """Per kind of edit, the wall from the edit to its diagnostics against the server's time on
    a core and waiting for one (the kernel's figures; none where it keeps none)."""
    if not schedule or all(ran == 0 and waited == 0 for _, ran, waited in schedule.values()):
        return ""
    lines = [
        "The wall against the server's threads' time on a core and ready but waiting for one "
        "(`/proc/PID/task/*/schedstat`, summed over threads, median per round, ms; two threads "
        "running at once count twice):",
        "",
        "| edit that | wall | on a core | waiting for a core |",
        "| --- | ---: | ---: | ---: |",
    ]
    for kind, (wall, ran, waited) in schedule.items():
        lines.append(f"| {kind} | {wall:.0f} | {ran:.0f} | {waited:.0f} |")
    return "\n".join(lines)


def write_section(text: str) -> None:
    page = ROOT / "BENCHMARKS.md"
    content = page.read_text()
    start, end = content.index(BEGIN) + len(BEGIN), content.index(END)
    page.write_text(content[:start] + "\n" + text + "\n" + content[end:])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "bench" / "corpus")
    parser.add_argument("--stateleak", type=Path, help="the binary (default: a release build)")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--write", action="store_true", help="rewrite BENCHMARKS.md's section")
    args = parser.parse_args()

    binary = args.stateleak
    if binary is None:
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
        binary = ROOT / "target" / "release" / "stateleak"
    folders = corpus.build_corpus(args.corpus)
    files, lines, _ = corpus.count_lines(folders)
    workspace = ROOT / "bench" / "work" / "server"
    copy_corpus(args.corpus, workspace)
    figures = measure(binary.resolve(), workspace.resolve(), args.rounds, args.warmup)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    text = report(figures, files, lines, commit)
    stages = stage_table(figures["stages"])
    if stages:
        text += "\n\n" + stages
    scheduled = schedule_table(figures["schedule"])
    if scheduled:
        text += "\n\n" + scheduled
    print(text)
    if args.write:
        write_section(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
