"""Replay: run inputs A, B, A... in one interpreter and compare each answer with a fresh process's.

The fresh answers come from a fork server: a child forked right after the target is imported,
before any input runs, which forks the processes jobs run in, so every job starts from the state
a new worker process would have. A fork costs tens of milliseconds in a large process, so:
this process answers the first input itself (nothing has run in it yet); a forked worker answers
one input after another for as long as every watched object in it stays as it was after import
(`--fresh fork`: a fork per input); a difference found against such a worker is confirmed
against a fork that ran that input alone, so a reported difference is always against a fresh
process; and the jobs of a fork per input are sent ahead, so that forks overlap. Where `fork`
is missing, each job runs in a new subprocess that imports the target again.

When an answer differs, the shared objects changed since the start are the suspects; each is
confirmed by replaying the earlier inputs in a fresh process, restoring that one object, and
getting the fresh answer back. A traced replay names the line that wrote it.
"""

from __future__ import annotations

import collections
import copy
import importlib
import os
import pickle
import select
import struct
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from stateleak import findings as static
from stateleak import http
from stateleak.locate import WriteLocator
from stateleak.saferepr import safe_repr
from stateleak.watch import Change, Snapshot, Watcher, assign, diff, resolve

INTERFACES = ("call", "wsgi", "asgi")


class TargetError(Exception):
    """The target cannot be imported or is not callable."""


@dataclass(frozen=True)
class Outcome:
    """A probe's answer, or the exception it raised; `text` is the repr used when values cannot travel."""

    ok: bool
    value: Any
    text: str
    portable: bool = True

    def same_as(self, other: Outcome) -> bool:
        if self.ok != other.ok:
            return False
        if self.portable and other.portable:
            try:
                return bool(self.value == other.value)
            except Exception:  # noqa: BLE001 - a user's __eq__ may raise anything
                pass
        return self.text == other.text

    def show(self) -> str:
        return safe_repr(self.value, 200) if self.ok else f"raised {self.text}"

    def portable_copy(self) -> Outcome:
        try:
            pickle.dumps(self.value)
            return self
        except Exception:  # noqa: BLE001 - anything may fail to pickle
            return Outcome(self.ok, None, self.text, portable=False)

    def detached(self) -> Outcome:
        """A copy that later changes to the answer's objects do not reach (as if sent by a fork)."""
        try:
            return Outcome(self.ok, pickle.loads(pickle.dumps(self.value)), self.text)
        except Exception:  # noqa: BLE001 - anything may fail to pickle
            return Outcome(self.ok, None, self.text, portable=False)


@dataclass(frozen=True)
class Probe:
    label: str
    payload: Any  # call arguments (a tuple), or an http.Request; None when the input is bad
    error: str = ""


@dataclass(frozen=True)
class Target:
    """What to call: `spec` is `module:attribute`, importable again in a subprocess."""

    spec: str
    interface: str
    function: Callable[..., Any]

    def invoke(self, payload: Any) -> Outcome:
        try:
            if self.interface == "wsgi":
                value: Any = http.call_wsgi(self.function, payload)
            elif self.interface == "asgi":
                value = http.call_asgi(self.function, payload)
            else:
                value = self.function(*payload)
        except (Exception, SystemExit) as error:  # noqa: BLE001 - the probe reports it
            text = f"{type(error).__name__}: {error}"
            return Outcome(False, text, text)
        return Outcome(True, value, _full_repr(value))


def _full_repr(value: Any) -> str:
    try:
        return repr(value)
    except Exception:  # noqa: BLE001
        return f"<{type(value).__name__} object>"


def load_target(spec: str, interface: str = "auto") -> Target:
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise TargetError(f"`{spec}` is not MODULE:ATTRIBUTE (e.g. `app:application`)")
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except Exception as error:  # noqa: BLE001 - any error while importing the user's module
        raise TargetError(f"cannot import `{module_name}`: {type(error).__name__}: {error}") from error
    value: Any = module
    for part in attribute.split("."):
        try:
            value = getattr(value, part)
        except AttributeError:
            raise TargetError(f"`{module_name}` has no attribute `{attribute}`") from None
    if not callable(value):
        raise TargetError(f"`{spec}` is not callable (it is a {type(value).__name__})")
    if interface == "auto":
        interface = "asgi" if http.is_asgi(value) else "wsgi"
    return Target(spec, interface, value)


def spec_of(function: Callable[..., Any]) -> str:
    module = getattr(function, "__module__", None) or ""
    qualname = getattr(function, "__qualname__", None) or ""
    return f"{module}:{qualname}"


# -- jobs, run in a fresh process ------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    kind: str  # "fresh", "restored", "locate"
    index: int
    paths: tuple[str, ...] = ()
    # For a fresh job: run it in a process that has run nothing else, even where a worker
    # that stayed pristine could answer.
    alone: bool = False


def execute(job: Job, target: Target, probes: Sequence[Probe], root: Path) -> Any:
    """Runs one job from the state right after import; the caller gives a fresh process."""
    if job.kind == "fresh":
        return target.invoke(probes[job.index].payload).portable_copy()
    if job.kind == "restored":
        saved = {}
        for path in job.paths:
            found, value = resolve(path)
            if found:
                saved[path] = _copy(value)
        for probe in probes[: job.index]:
            if probe.payload is not None:
                target.invoke(probe.payload)
        for path, value in saved.items():
            assign(path, value)
        return target.invoke(probes[job.index].payload).portable_copy()
    writers: dict[str, tuple[str, int]] = {}
    for number, probe in enumerate(probes[: job.index]):
        if probe.payload is None:
            continue
        locator = WriteLocator([p for p in job.paths if p not in writers], root)
        with locator.tracing():
            target.invoke(probe.payload)
        for path, where in locator.writers.items():
            writers[path] = (where, number)
    return writers


def _copy(value: Any) -> Any:
    try:
        return copy.deepcopy(value)
    except Exception:  # noqa: BLE001 - some objects refuse to be copied; keep the reference
        return value


class ForkServer:
    """A child forked after import that forks the processes jobs run in (POSIX only).

    With `pristine` (whether this process's watched state is still as it was right after
    import), fresh answers come from a worker that serves one input after another while every
    watched object stays as it was: a fork per input costs tens of milliseconds in a large
    process. The worker is replaced by a new fork as soon as an input leaves anything watched
    changed. Every other job, and a fresh job with `alone`, runs in a fork of its own.
    `reused` tells whether the last answer came from a worker that had answered before.
    """

    def __init__(self, run: Callable[[Job], Any], pristine: Callable[[], bool] | None = None) -> None:
        jobs_read, self._jobs = os.pipe()
        self._results, results_write = os.pipe()
        self.reused = False
        self.pid = os.fork()
        if self.pid == 0:  # pragma: no cover - runs in the child; its results are what is tested
            os.close(self._jobs)
            os.close(self._results)
            _serve(jobs_read, results_write, run, pristine)
        os.close(jobs_read)
        os.close(results_write)

    def submit(self, job: Job) -> None:
        """Sends a job; its answer is read by `result`, in the order the jobs were sent."""
        _send(self._jobs, job)

    def result(self) -> Any:
        answer, self.reused = _receive(self._results)
        return answer

    def run(self, job: Job) -> Any:
        self.submit(job)
        return self.result()

    def close(self) -> None:
        _send(self._jobs, None)
        os.close(self._jobs)
        os.close(self._results)
        os.waitpid(self.pid, 0)


def _serve(
    jobs: int, results: int, run: Callable[[Job], Any], pristine: Callable[[], bool] | None
) -> None:  # pragma: no cover - runs in the fork server
    status = 0
    worker: _Worker | None = None
    # Forks already running jobs sent ahead, oldest first: their answers go back in that order.
    running: collections.deque[tuple[int, int]] = collections.deque()
    try:
        while True:
            if running and (len(running) >= JOBS_AHEAD or not _readable(jobs)):
                child, answer_read = running.popleft()
                _send(results, (_answer_of(child, answer_read), False))
                _reap()
                continue
            job = _receive(jobs)
            if job is None:
                break
            if pristine is None or job.kind != "fresh" or job.alone:
                running.append(_start_alone(job, run))
                continue
            while running:  # answers go back in the order the jobs came
                child, answer_read = running.popleft()
                _send(results, (_answer_of(child, answer_read), False))
            if worker is None:
                worker = _Worker(run, pristine)
            reused = worker.served > 0
            answer, clean = worker.ask(job)
            if not clean:
                worker.stop()
                worker = None
            _send(results, (answer, reused))
    except BaseException:  # noqa: BLE001 - the parent sees the closed pipe
        status = 1
    if worker is not None:
        worker.stop()
    os._exit(status)


# How many jobs may run at once in forks of the fork server: sent ahead, a fork's cost (tens of
# milliseconds in a large process) overlaps with the work of the replay and of the other forks.
JOBS_AHEAD = 3


def _readable(fd: int) -> bool:  # pragma: no cover - in the fork server
    return bool(select.select([fd], [], [], 0)[0])


def _start_alone(job: Job, run: Callable[[Job], Any]) -> tuple[int, int]:  # pragma: no cover - in the fork server
    answer_read, answer_write = os.pipe()
    child = os.fork()
    if child == 0:
        try:
            os.close(answer_read)
            _send(answer_write, _answer(job, run))
        finally:
            os._exit(0)  # never back into the server's loop
    os.close(answer_write)
    return child, answer_read


def _answer_of(child: int, answer_read: int) -> Any:  # pragma: no cover - in the fork server
    try:
        answer = _receive(answer_read)
    except EOFError:
        answer = JobFailed("the fresh process died before answering")
    os.close(answer_read)
    # Reaped later: a large process takes milliseconds to exit, and the answer is here already.
    _exited.append(child)
    return answer


_exited: list[int] = []


def _reap() -> None:  # pragma: no cover - in the fork server
    while _exited:
        os.waitpid(_exited.pop(), 0)


def _answer(job: Job, run: Callable[[Job], Any]) -> Any:  # pragma: no cover - in a job's process
    try:
        return run(job)
    except BaseException as error:  # noqa: BLE001 - reported to the parent
        return JobFailed(f"{type(error).__name__}: {error}")


class _Worker:  # pragma: no cover - runs in the fork server
    """A fork of the fork server that answers fresh jobs while its watched state stays pristine."""

    def __init__(self, run: Callable[[Job], Any], pristine: Callable[[], bool]) -> None:
        jobs_read, self.jobs = os.pipe()
        self.answers, answers_write = os.pipe()
        self.served = 0
        self.pid = os.fork()
        if self.pid == 0:
            try:
                os.close(self.jobs)
                os.close(self.answers)
                clean = True
                while clean:
                    job = _receive(jobs_read)
                    if job is None:
                        break
                    answer = _answer(job, run)
                    clean = pristine()
                    _send(answers_write, (answer, clean))
            finally:
                os._exit(0)  # never back into the server's loop
        os.close(jobs_read)
        os.close(answers_write)

    def ask(self, job: Job) -> tuple[Any, bool]:
        self.served += 1
        _send(self.jobs, job)
        try:
            answer, clean = _receive(self.answers)
        except EOFError:
            return JobFailed("the fresh process died before answering"), False
        return answer, bool(clean)

    def stop(self) -> None:
        try:
            _send(self.jobs, None)
        except OSError:
            pass  # it has exited already
        os.close(self.jobs)
        os.close(self.answers)
        os.waitpid(self.pid, 0)


@dataclass(frozen=True)
class JobFailed:
    message: str


def _send(fd: int, value: Any) -> None:
    data = pickle.dumps(value)
    view = memoryview(struct.pack(">Q", len(data)) + data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _receive(fd: int) -> Any:
    header = _read_exactly(fd, 8)
    (length,) = struct.unpack(">Q", header)
    return pickle.loads(_read_exactly(fd, length))


def _read_exactly(fd: int, size: int) -> bytes:
    chunks = []
    while size:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            raise EOFError("pipe closed")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


class SubprocessRunner:
    """Runs each job in a new interpreter that imports the target again (where there is no fork)."""

    def __init__(self, target: Target, probes: Sequence[Probe], root: Path) -> None:
        self.state = {
            "spec": target.spec,
            "interface": target.interface,
            "probes": list(probes),
            "root": str(root),
        }
        self.reused = False  # every job runs in a new interpreter
        self._sent: collections.deque[Job] = collections.deque()

    def submit(self, job: Job) -> None:
        self._sent.append(job)

    def result(self) -> Any:
        return self.run(self._sent.popleft())

    def run(self, job: Job) -> Any:
        with tempfile.TemporaryDirectory(prefix="stateleak-") as scratch:
            request, answer = Path(scratch) / "job.pickle", Path(scratch) / "answer.pickle"
            request.write_bytes(pickle.dumps({**self.state, "job": job, "sys_path": sys.path}))
            done = subprocess.run(
                [sys.executable, "-m", "stateleak", "_job", str(request), str(answer)],
                capture_output=True,
                text=True,
            )
            if not answer.is_file():
                return JobFailed(f"the fresh process failed: {done.stderr.strip()[-500:]}")
            return pickle.loads(answer.read_bytes())

    def close(self) -> None:
        pass


def run_job_file(request: Path, answer: Path) -> int:
    """The entry point of a subprocess job: `python -m stateleak _job REQUEST ANSWER`."""
    state = pickle.loads(request.read_bytes())
    sys.path[:] = state["sys_path"]
    try:
        target = load_target(state["spec"], state["interface"])
        result: Any = execute(state["job"], target, state["probes"], Path(state["root"]))
    except Exception as error:  # noqa: BLE001 - reported to the parent
        result = JobFailed(f"{type(error).__name__}: {error}")
    answer.write_bytes(pickle.dumps(result))
    return 0


# -- the replay itself -------------------------------------------------------------------------


@dataclass
class Leak:
    """A shared object that changed between the fresh state and a differing answer."""

    path: str
    detail: str
    restored_gives_fresh: bool | None = None
    writer: str | None = None
    written_by_probe: int | None = None
    finding: static.StaticFinding | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "object": self.path,
            "change": self.detail,
            "confirmed": self.restored_gives_fresh,
            "writer": self.writer,
            "written_by_probe": self.written_by_probe,
            "static_finding": self.finding.as_json() if self.finding else None,
        }


@dataclass
class ProbeResult:
    number: int
    label: str
    here: Outcome | None = None
    fresh: Outcome | None = None
    error: str = ""
    leaks: list[Leak] = field(default_factory=list)
    # The fresh answer came from a fork that had answered earlier inputs, leaving every watched
    # object as it was (never so for an answer that differs).
    fresh_reused: bool = False

    @property
    def differs(self) -> bool:
        return self.here is not None and self.fresh is not None and not self.here.same_as(self.fresh)


_REUSED_FORK = "a fork after import that answered earlier inputs and left every watched object unchanged"


@dataclass
class ReplayResult:
    target: str
    probes: list[ProbeResult]
    notes: list[str] = field(default_factory=list)

    @property
    def leaked(self) -> bool:
        return any(probe.differs for probe in self.probes)

    @property
    def had_errors(self) -> bool:
        return any(p.error or (p.here is not None and not p.here.ok) for p in self.probes)

    def exit_status(self) -> int:
        """1 when an answer differs from a fresh process's, 2 when a probe could not run, else 0."""
        return 1 if self.leaked else 2 if self.had_errors else 0

    def report(self) -> str:
        lines = [f"replay of {self.target}: {len(self.probes)} probe(s) in one interpreter"]
        lines += [f"note: {note}" for note in self.notes]
        for probe in self.probes:
            head = f"probe {probe.number} {probe.label}:"
            if probe.error:
                lines.append(f"{head} error: {probe.error}")
                continue
            assert probe.here is not None and probe.fresh is not None
            if not probe.differs:
                source = _REUSED_FORK if probe.fresh_reused else "a fresh process"
                lines.append(f"{head} same answer as {source} ({probe.here.show()})")
                continue
            lines.append(f"{head} DIFFERS from a fresh process")
            lines.append(f"    here:  {probe.here.show()}")
            lines.append(f"    fresh: {probe.fresh.show()}")
            if not probe.leaks:
                lines.append(
                    "    no watched object changed since the start (the difference may come from time or randomness)"
                )
            for leak in probe.leaks:
                lines.append(f"    {leak.path}: {leak.detail}")
                if leak.writer:
                    lines.append(f"        written at {leak.writer} (during probe {leak.written_by_probe})")
                if leak.restored_gives_fresh is not None:
                    verdict = "gives" if leak.restored_gives_fresh else "does not give"
                    lines.append(f"        restoring only this object {verdict} the fresh answer")
                if leak.finding:
                    lines.append(f"        predicted by {leak.finding.code} at {leak.finding.location()}")
        if self.leaked:
            lines.append("result: LEAK - an answer depends on what earlier inputs left in shared state")
        elif self.had_errors:
            lines.append("result: no answer differed, but some probes could not run (see above)")
        else:
            lines.append("result: every answer matches a fresh process")
        return "\n".join(lines)

    def as_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "leaked": self.leaked,
            "notes": self.notes,
            "probes": [
                {
                    "probe": p.number,
                    "input": p.label,
                    "error": p.error or None,
                    "differs": p.differs,
                    "answer": p.here.show() if p.here else None,
                    "fresh_answer": p.fresh.show() if p.fresh else None,
                    "fresh_from_reused_fork": p.fresh_reused,
                    "leaks": [leak.as_json() for leak in p.leaks],
                }
                for p in self.probes
            ],
        }


def run_probes(
    target: Target,
    probes: Sequence[Probe],
    *,
    root: Path,
    findings: static.Findings | None = None,
    fresh: str = "auto",
) -> ReplayResult:
    """Runs every probe here, each against a fresh process, and explains the differences."""
    findings = findings or static.Findings({})
    root = root.resolve()
    watcher = Watcher(root, extra=findings.objects())
    start = watcher.snapshot()
    # fork copies one thread only: with others running, a lock one of them holds stays locked.
    threads = threading.active_count()
    use_fork = fresh == "fork" or (fresh == "auto" and hasattr(os, "fork") and threads == 1)
    jobs: ForkServer | SubprocessRunner
    pristine: Callable[[], bool] | None = None
    if use_fork:
        # Unless `fork` asks for a fork per input, a fresh answer may come from a fork that
        # answered earlier inputs and was left with every watched object as it was at the start
        # (as `start` records). A difference is then confirmed in a fork of its own.
        if fresh != "fork":
            pristine = lambda: not diff(start, watcher.snapshot())  # noqa: E731
        jobs = ForkServer(lambda job: execute(job, target, probes, root), pristine)
    else:
        jobs = SubprocessRunner(target, probes, root)
    result = ReplayResult(f"{target.spec} ({target.interface})", [], [findings.note] if findings.note else [])
    if fresh == "auto" and not use_fork and hasattr(os, "fork"):
        result.notes.append(f"fresh answers come from new subprocesses: this process runs {threads} threads")
    try:
        fresh_answers: dict[str, Any] = {}
        snapshots: list[Snapshot] = []
        ran_here = False
        here: Outcome | None = None
        # Fresh jobs are sent ahead, in the order their answers are needed (a fork in reuse mode
        # serves one input at a time, in order).
        upcoming = collections.deque(_first_occurrences(probes, skip_first=use_fork))
        ahead = 1 if pristine is not None or not use_fork else JOBS_AHEAD
        sent: collections.deque[str] = collections.deque()

        def fetch(wanted: str) -> None:
            while wanted not in fresh_answers:
                while upcoming and len(sent) < ahead:
                    key, index = upcoming.popleft()
                    jobs.submit(Job("fresh", index))
                    sent.append(key)
                fresh_answers[sent.popleft()] = (jobs.result(), jobs.reused)

        for number, probe in enumerate(probes):
            snapshots.append(watcher.snapshot() if number else start)
            outcome = ProbeResult(number + 1, probe.label, error=probe.error)
            result.probes.append(outcome)
            if probe.error:
                continue
            same_input = repr(probe.payload)
            if use_fork and not ran_here:
                # Nothing has run here since the fork server was forked: this process is in the
                # state a fork would start from, and its own first answer is a fresh one.
                here = target.invoke(probe.payload)
                ran_here = True
                fresh_answers[same_input] = (here.detached(), False)
            fetch(same_input)
            answer, reused = fresh_answers[same_input]
            if isinstance(answer, JobFailed):
                outcome.error = f"no fresh answer: {answer.message}"
                continue
            outcome.fresh, outcome.fresh_reused = answer, reused
            outcome.here = here if here is not None else target.invoke(probe.payload)
            here = None
            if outcome.differs and reused:
                # A difference is claimed only against a process that ran this input alone.
                answer = jobs.run(Job("fresh", number, alone=True))
                fresh_answers[same_input] = (answer, False)
                if isinstance(answer, JobFailed):
                    outcome.error = f"no fresh answer: {answer.message}"
                    continue
                outcome.fresh, outcome.fresh_reused = answer, False
        while sent:  # every input is fetched where it first runs; this drains nothing, but keeps order safe
            fresh_answers[sent.popleft()] = (jobs.result(), jobs.reused)
        for number, outcome in enumerate(result.probes):
            if outcome.differs and outcome.fresh is not None:
                changes = diff(start, snapshots[number])
                outcome.leaks = _explain(jobs, number, changes, outcome.fresh, findings)
    finally:
        jobs.close()
    return result


def _first_occurrences(probes: Sequence[Probe], skip_first: bool) -> list[tuple[str, int]]:
    """Each distinct runnable input with the index of its first probe; with `skip_first`, not the
    very first input (this process answers it fresh itself)."""
    seen: dict[str, int] = {}
    for index, probe in enumerate(probes):
        if not probe.error:
            seen.setdefault(repr(probe.payload), index)
    firsts = list(seen.items())
    return firsts[1:] if skip_first else firsts


def _explain(
    jobs: ForkServer | SubprocessRunner,
    number: int,
    changes: list[Change],
    fresh: Outcome,
    findings: static.Findings,
) -> list[Leak]:
    leaks = [Leak(c.path, c.detail) for c in changes]
    if not leaks:
        return leaks
    written = jobs.run(Job("locate", number, tuple(leak.path for leak in leaks)))
    for leak in leaks:
        if isinstance(written, dict) and leak.path in written:
            where, by_probe = written[leak.path]
            leak.writer, leak.written_by_probe = where, by_probe + 1
        leak.finding = findings.for_object(leak.path, leak.writer)
        answer = jobs.run(Job("restored", number, (leak.path,)))
        if isinstance(answer, Outcome):
            leak.restored_gives_fresh = answer.same_as(fresh)
    return leaks


def replay(
    function: Callable[..., Any],
    inputs: Sequence[Any],
    *,
    root: str | Path | None = None,
    findings: static.Findings | None = None,
    fresh: str = "auto",
) -> ReplayResult:
    """Calls `function` with each input in turn (a tuple is the positional arguments, anything else
    the single argument) and compares each answer with a fresh process's answer to the same input.
    """
    target = Target(spec_of(function), "call", function)
    probes = [Probe(safe_repr(item, 120), item if isinstance(item, tuple) else (item,)) for item in inputs]
    return run_probes(target, probes, root=Path(root or os.getcwd()), findings=findings, fresh=fresh)
