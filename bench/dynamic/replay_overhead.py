"""Time added per replay probe in a process of about 100 MB.

    python3 bench/dynamic/replay_overhead.py [--probes 50] [--megabytes 100] [--fresh fork]

A project module holds the ballast (a list of 1 kB byte strings); the callable is trivial, so the
time measured is the replay's own: the snapshot before each probe, and the fresh answer (by
default from a forked worker that stays pristine; `--fresh fork`: a fork of the 100 MB
post-import process per distinct input).
"""

from __future__ import annotations

import argparse
import subprocess
import textwrap

from common import WORK, environment, venv_python

CHILD = """
import os, resource, sys, time
sys.path.insert(0, {root!r})
import svc
from stateleak import replay

inputs = list(range({probes}))
start = time.perf_counter()
for item in inputs:
    svc.handler(item)
direct = time.perf_counter() - start
start = time.perf_counter()
result = replay(svc.handler, inputs, root={root!r}, fresh={fresh!r})
replayed = time.perf_counter() - start
assert result.exit_status() == 0, result.report()
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
added = (replayed - direct) / len(inputs) * 1000
print(f"--fresh {fresh}: {{len(inputs)}} probes in a {{rss:.0f}} MB process: {{added:.1f}} ms added per probe")
start = time.perf_counter()
for _ in range(10):
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
print(f"one bare fork of this process: {{(time.perf_counter() - start) * 100:.1f}} ms")
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--probes", type=int, default=50)
    parser.add_argument("--megabytes", type=int, default=100)
    parser.add_argument("--python", default="/root/.pyenv/versions/3.13.0/bin/python3")
    parser.add_argument("--fresh", default="auto", choices=("auto", "fork", "subprocess"))
    options = parser.parse_args()
    root = WORK / "replay-100mb"
    root.mkdir(parents=True, exist_ok=True)
    ballast = f"ballast = [bytes(1000) for _ in range({options.megabytes} * 1000)]\n"
    (root / "svc.py").write_text(ballast + "\n\ndef handler(item):\n    return item * 2\n")
    script = textwrap.dedent(CHILD.format(root=str(root), probes=options.probes, fresh=options.fresh))
    python = str(venv_python(options.python))
    subprocess.run([python, "-c", script], check=True, env=environment())


if __name__ == "__main__":
    main()
