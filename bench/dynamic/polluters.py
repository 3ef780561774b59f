"""Polluter search on a generated suite of 2,000 tests with one polluter and one victim.

    python3 bench/dynamic/polluters.py [--tests 2000]

Prints the suite's own time, and the whole diagnosis: the run with `--stateleak` (watching every
test, then the search in fresh processes) until the polluter and the object are named.
"""

from __future__ import annotations

import argparse
import shutil

from common import WORK, timed, venv_python

CACHE = "class Cache:\n    items = {}\n\n    def put(self, key, value):\n        self.items[key] = value\n"


def generate(tests: int) -> None:
    suite = WORK / "pollution-suite"
    shutil.rmtree(suite, ignore_errors=True)
    (suite / "app").mkdir(parents=True)
    (suite / "pytest.ini").write_text("[pytest]\n")  # the suite is its own rootdir
    (suite / "app" / "__init__.py").write_text("")
    (suite / "app" / "cache.py").write_text(CACHE)
    per_file, polluter, victim = 100, tests // 4, 3 * tests // 4
    for first in range(0, tests, per_file):
        lines = ["from app.cache import Cache", ""]
        for number in range(first, min(first + per_file, tests)):
            if number == polluter:
                lines += [f"def test_{number:05}():", "    Cache().put('user', 'A')", ""]
            elif number == victim:
                lines += [f"def test_{number:05}():", "    assert 'user' not in Cache.items", ""]
            else:
                lines += [f"def test_{number:05}():", f"    assert sum(range({number % 50})) >= 0", ""]
        (suite / f"test_{first // per_file:03}.py").write_text("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tests", type=int, default=2000)
    parser.add_argument("--python", default="/root/.pyenv/versions/3.13.0/bin/python3")
    options = parser.parse_args()
    generate(options.tests)
    suite = WORK / "pollution-suite"
    base = [str(venv_python(options.python)), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly"]
    wall, cpu, _ = timed(base, suite)
    print(f"suite of {options.tests} tests: {wall:.2f} s wall, {cpu:.2f} s CPU")
    wall2, cpu2, _ = timed([*base, "-p", "stateleak.plugin", "--stateleak", "--stateleak-json", "out.json"], suite)
    print(
        f"diagnosis (--stateleak, search included): {wall2:.2f} s wall, {cpu2:.2f} s CPU: "
        f"{wall2 / wall:.2f}x wall, {cpu2 / cpu:.2f}x CPU"
    )
    report = (suite / "out.json").read_text()
    print("polluter named:", '"polluter": "test_005.py::test_00500"' in report)


if __name__ == "__main__":
    main()
