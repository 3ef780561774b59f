"""Linkage of the static findings and the run-time proof, over the rule documents' cases.

    python3 bench/dynamic/linkage.py [--stateleak target/release/stateleak] [--interpreter PYTHON]

Every case of docs/rules/*.md (its code blocks, not its `fixed` ones) is written to a folder of its
own and analysed with every rule selected by its code (`--select ALL` leaves out the rules that are
off by default). Then, in a new interpreter per case, its modules are imported and driven: every
function and class the case defines is called with generated arguments (for a class: an instance,
then each of its own methods), all of it once per input, and `stateleak.replay` runs the inputs A,
B, A, comparing each answer with a fresh process's. A watcher snapshot before and after the replay
gives the objects the calls changed.

Printed: how many static findings name an object the calls changed (confirmed at run time), how
many changed objects no finding names (dynamic reports with no static finding; in leak cases and
in safe look-alikes), and of the differences the replay proved, how many are explained by a changed
object a static finding names. Generated arguments reach only part of each case's code: a finding
not confirmed is one this driver did not exercise, not one shown wrong.
"""

from __future__ import annotations

import argparse
import functools
import json
import re
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from common import REPO, environment, venv_python

# The frameworks the rule documents' cases import, so that those cases can run too.
FRAMEWORKS = [
    "flask>=3,<4",
    "fastapi>=0.110,<1",
    "attrs>=23",
    "requests>=2.31,<3",
    "celery>=5.3,<6",
    "django>=4.2,<6",
    "djangorestframework>=3.14,<4",
    "tornado>=6,<7",
    "aiohttp>=3.9,<4",
    "msgspec>=0.18,<1",
]

HEADING = re.compile(r"^#+\s*(.*)$")
EXPECT = re.compile(r"#\s*expect:\s*([A-Z0-9, ]+)")

DRIVER = r"""
import importlib, inspect, json, re, sys
from pathlib import Path

import stateleak
from stateleak import findings as static
from stateleak.watch import Watcher, diff

root = Path(sys.argv[1])
found = static.load_file(Path(sys.argv[2]))
sys.path.insert(0, str(root))
modules = []
for name in json.loads(sys.argv[3]):
    try:
        modules.append(importlib.import_module(name))
    except BaseException as error:  # a case may need a framework this interpreter lacks
        print(json.dumps({"import_error": f"{name}: {type(error).__name__}: {error}"}))
        sys.exit(0)

VALUES = {"A": ["alpha", 1, {"key": "alpha"}, ["alpha"]], "B": ["beta", 2, {"key": "beta"}, ["beta"]]}


def required(function):
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return None
    return sum(
        1
        for p in parameters
        if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    )


ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def call(function, which):
    count = required(function)
    if count is None:
        return "<no signature>"
    for value in VALUES[which]:
        try:
            # Addresses differ from process to process: they are not what an answer says.
            return ADDRESS.sub(" at 0x...", repr(function(*[value] * count)))
        except BaseException as error:
            last = f"raised {type(error).__name__}"
    return last


def own_callables():
    for module in modules:
        for name, value in sorted(vars(module).items()):
            if getattr(value, "__module__", None) != module.__name__ or name.startswith("__"):
                continue
            if inspect.isclass(value):
                yield f"{module.__name__}.{name}", value, True
            elif inspect.isfunction(value) or inspect.iscoroutinefunction(value):
                yield f"{module.__name__}.{name}", value, False


def drive(which):
    answers = []
    for path, value, is_class in own_callables():
        if not is_class:
            answers.append((path, call(value, which)))
            continue
        count = required(value)
        try:
            instance = value(*[VALUES[which][0]] * (count or 0))
        except BaseException as error:
            answers.append((path, f"raised {type(error).__name__}"))
            continue
        for name, member in sorted(vars(value).items()):
            if inspect.isfunction(member) and not name.startswith("__"):
                answers.append((f"{path}.{name}", call(getattr(instance, name), which)))
    return answers


watcher = Watcher(root, extra=found.objects())
before = watcher.snapshot()
result = stateleak.replay(drive, ["A", "B", "A"], root=root, findings=found)
process = ("os.", "sys.", "logging.", "warnings.")
changes = [c for c in diff(before, watcher.snapshot()) if not c.path.startswith(process)]
proved = [
    {"probe": p.number, "explained": [k.path for k in p.leaks], "linked": [k.path for k in p.leaks if k.finding]}
    for p in result.probes
    if p.differs
]
print(json.dumps({"changed": sorted({c.path for c in changes}), "proved": proved}))
"""


@dataclass
class Case:
    document: str
    title: str
    files: list[tuple[str, str]] = field(default_factory=list)

    @property
    def expected(self) -> int:
        return sum(len(EXPECT.findall(body)) for _, body in self.files)


def parse_document(path: Path) -> list[Case]:
    """The cases as the rule tests read them: a heading starts one; its `py` blocks are its files."""
    cases: list[Case] = []
    current = Case(path.name, "")
    lines = iter(path.read_text(encoding="utf-8").splitlines())
    for line in lines:
        heading = HEADING.match(line)
        if heading and not line.startswith("#!"):
            if current.files:
                cases.append(current)
            current = Case(path.name, heading.group(1))
        elif line.startswith("```"):
            words = line[3:].split()
            body = []
            for inner in lines:
                if inner.startswith("```"):
                    break
                body.append(inner)
            if not words or words[0] not in ("py", "python") or "ignore" in words or "fixed" in words:
                continue
            titles = [w[len('title="') : -1] for w in words if w.startswith('title="') and w.endswith('"')]
            current.files.append((titles[0] if titles else "test.py", "\n".join(body) + "\n"))
    if current.files:
        cases.append(current)
    return cases


def module_names(case: Case) -> list[str]:
    names = []
    for title, _ in case.files:
        parts = title[: -len(".py")].split("/")
        if parts[-1] == "__init__":
            parts.pop()
        names.append(".".join(parts))
    return [name for name in names if name]


def run_case(case: Case, folder: Path, stateleak: str, python: str) -> dict:
    for title, body in case.files:
        target = folder / title
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(body, encoding="utf-8")
    # Packages need their __init__.py to import the same way the analysis reads them.
    for title, _ in case.files:
        for parent in (folder / title).parents:
            if parent == folder:
                break
            (parent / "__init__.py").touch(exist_ok=True)
    analysed = subprocess.run(
        [stateleak, "check", "--no-cache", "--select", every_rule(stateleak), "--output-format", "json", "."],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
    )
    document = json.loads(analysed.stdout or '{"findings": []}')
    (folder / ".findings.json").write_text(json.dumps(document), encoding="utf-8")
    objects = sorted({f["object"] for f in document["findings"] if f.get("object")})
    outcome = {"case": f"{case.document} {case.title}", "leak_case": case.expected > 0, "objects": objects}
    try:
        driven = subprocess.run(
            [python, "-c", DRIVER, str(folder), str(folder / ".findings.json"), json.dumps(module_names(case))],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=60,
            env=environment(),
        )
        last = driven.stdout.strip().splitlines()[-1] if driven.stdout.strip() else ""
        outcome.update(json.loads(last) if last.startswith("{") else {"driver_error": driven.stderr[-300:]})
    except subprocess.TimeoutExpired:
        outcome["driver_error"] = "timed out"
    return outcome


@functools.cache
def every_rule(stateleak: str) -> str:
    """Every rule's code, comma-separated: the rule tests enable each document's own rule, and
    `ALL` leaves out the rules that are off by default (only a full code turns those on)."""
    listed = subprocess.run([stateleak, "rule", "--list"], capture_output=True, text=True, check=True)
    return ",".join(line.split()[0] for line in listed.stdout.splitlines() if line.strip())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stateleak", default=str(REPO / "target" / "release" / "stateleak"))
    parser.add_argument(
        "--interpreter",
        default="/root/.pyenv/versions/3.13.0/bin/python3",
        help="the CPython the cases run on (in a venv with the frameworks they import)",
    )
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--json", metavar="FILE", help="also write every case's outcome to FILE")
    options = parser.parse_args()
    python = str(venv_python(options.interpreter, FRAMEWORKS, "-frameworks"))
    cases = [case for doc in sorted((REPO / "docs" / "rules").glob("*.md")) for case in parse_document(doc)]
    with tempfile.TemporaryDirectory(prefix="stateleak-linkage-") as scratch:
        folders = [Path(scratch) / f"case{index:03}" for index in range(len(cases))]
        for folder in folders:
            folder.mkdir()
        with ThreadPoolExecutor(options.jobs) as pool:
            outcomes = list(
                pool.map(lambda pair: run_case(pair[0], pair[1], options.stateleak, python), zip(cases, folders))
            )
    if options.json:
        Path(options.json).write_text(json.dumps(outcomes, indent=1) + "\n", encoding="utf-8")
    report(outcomes)


def report(outcomes: list[dict]) -> None:
    driven = [o for o in outcomes if "changed" in o]
    objects = sum(len(o["objects"]) for o in driven)
    confirmed = sum(len(set(o["objects"]) & set(o["changed"])) for o in driven)
    unnamed = {kind: 0 for kind in ("leak", "safe")}
    for o in driven:
        unnamed["leak" if o["leak_case"] else "safe"] += len(set(o["changed"]) - set(o["objects"]))
    print(
        f"{len(outcomes)} cases ({sum(o['leak_case'] for o in outcomes)} with an expected finding), "
        f"{len(driven)} imported and driven"
    )
    not_driven = [o for o in outcomes if "changed" not in o]
    print(f"  not driven: {len(not_driven)} (import errors: {sum('import_error' in o for o in not_driven)})")
    print(f"static findings naming an object, in driven cases: {objects}")
    print(f"  confirmed at run time (the object changed while the case ran): {confirmed} ({pct(confirmed, objects)})")
    print(
        f"objects changed at run time that no finding names: {unnamed['leak'] + unnamed['safe']} "
        f"({unnamed['leak']} in leak cases, {unnamed['safe']} in safe look-alikes)"
    )
    for kind, leak_case in (("leak cases", True), ("safe look-alikes", False)):
        proved = [o for o in driven if o["leak_case"] == leak_case and o["proved"]]
        explained = [o for o in proved if any(p["explained"] for p in o["proved"])]
        linked = [o for o in proved if any(p["linked"] for p in o["proved"])]
        print(
            f"{kind} where the replay proved a leak (an answer differs from a fresh process's): {len(proved)}; "
            f"explained by a changed object: {len(explained)}; mapped to a static finding: {len(linked)} "
            f"({pct(len(linked), len(proved))})"
        )


def pct(part: int, whole: int) -> str:
    return f"{part / whole * 100:.0f} %" if whole else "n/a"


if __name__ == "__main__":
    main()
