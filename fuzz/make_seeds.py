"""Writes the fuzz seed corpora from the rule documents and examples/.

corpus/check_project/:
Each case of docs/rules/*.md becomes one seed; its code blocks become files, joined with the
`#>> path` marker lines that fuzz/src/project.rs splits on. Each example project becomes one seed.

corpus/cache_decoder/: the facts caches stateleak writes for each example project and for the
repository's own Python trees (the build fingerprint in them does not matter to the decoder).
"""

from __future__ import annotations

import hashlib
import pathlib
import re
import subprocess
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = pathlib.Path(__file__).resolve().parent / "corpus" / "check_project"
MARKER = "#>> "


# Deep code from short inputs (see fuzz/src/project.rs): `head@@open@@close@@tail` repeated.
NESTING_TEMPLATES = [
    ("neg.py *30000", "x = @@-@@@@y\n"),
    ("attr.py *30000", "x = a@@.b@@@@\n"),
    ("paren.py *2000", "x = @@(@@)@@\n"),
    ("fstr.py *3000", "x = @@f'{@@}'@@\n"),
    ("nots.py *30000", "@@not @@@@x\n"),
    ("lam.py *30000", "f = @@lambda: @@@@1\n"),
    ("pow.py *30000", "x = 2@@**2@@@@\n"),
    ("tern.py *30000", "x = @@a if b else @@@@c\n"),
    ("call.py *30000", "x = f@@()@@@@\n"),
    ("self.py *30000", "class C:\n    def f(self):\n        self@@.b@@@@.append(1)\n"),
    ("sum.py *30000", "x = a@@ + a@@@@\n"),
    ("fstr_spec.py *30000", "x = f'{a:@@{@@}@@}'\n"),
]


def cases(document: str):
    """Yields the list of (path, text) files of each case of a rule document."""
    files = []
    lines = iter(document.splitlines())
    for line in lines:
        if line.startswith("#") and not line.startswith("#!"):
            if files:
                yield files
            files = []
        elif line.startswith("```"):
            info = line[3:].split()
            body = []
            for inner in lines:
                if inner.startswith("```"):
                    break
                body.append(inner + "\n")
            if not info or info[0] not in ("py", "python") or "ignore" in info:
                continue
            title = next(
                (m.group(1) for w in info[1:] if (m := re.match(r'title="(.*)"', w))),
                None,
            )
            files.append((title or f"test{len(files)}.py", "".join(body)))
    if files:
        yield files


def seed(files) -> bytes:
    parts = []
    for path, text in files:
        parts.append(f"{MARKER}{path}\n{text}")
    return "".join(parts).encode()


def cache_seeds(projects: list[pathlib.Path]) -> None:
    """One facts cache per project, written by `stateleak check --cache-dir`."""
    out = OUT.parent / "cache_decoder"
    out.mkdir(parents=True, exist_ok=True)
    for project in projects:
        with tempfile.TemporaryDirectory() as cache:
            subprocess.run(
                [
                    "cargo",
                    "run",
                    "--quiet",
                    "--",
                    "check",
                    "--cache-dir",
                    cache,
                    str(project),
                ],
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=False,
            )
            data = (pathlib.Path(cache) / "facts.bin").read_bytes()
        (out / hashlib.sha1(data).hexdigest()).write_bytes(data)
    print(f"{len(projects)} seeds in {out}")


def main():
    cache_seeds(
        [p for p in sorted((ROOT / "examples").iterdir()) if p.is_dir()]
        + [ROOT / "python", ROOT / "bench", ROOT / "scripts"]
    )
    OUT.mkdir(parents=True, exist_ok=True)
    seeds = []
    for document in sorted((ROOT / "docs" / "rules").glob("*.md")):
        seeds.extend(seed(files) for files in cases(document.read_text()))
    for example in sorted(p for p in (ROOT / "examples").iterdir() if p.is_dir()):
        files = [(str(p.relative_to(example)), p.read_text()) for p in sorted(example.rglob("*.py"))]
        seeds.append(seed(files))
    seeds.extend(f"{MARKER}{name}\n{text}".encode() for name, text in NESTING_TEMPLATES)
    for data in seeds:
        (OUT / hashlib.sha1(data).hexdigest()).write_bytes(data)
    print(f"{len(seeds)} seeds in {OUT}")


if __name__ == "__main__":
    main()
