#!/usr/bin/env python3
"""The labelled app corpus: stateleak's findings on real applications, judged by hand.

    python3 bench/apps.py run [--stateleak BIN] [--out FILE]   # findings JSON + per-package counts
    python3 bench/apps.py sample FINDINGS                      # the findings to label (seeded)
    python3 bench/apps.py score FINDINGS [--labels FILE]       # figures; lists what is unlabelled

`run` downloads the wheels pinned in bench/apps.toml (checked against their sha256) into
bench/apps/.wheels, unpacks only their `.py` files to bench/apps/<name>-<version>/ (all ignored by
git), runs `stateleak check --output-format json --no-cache --isolated` on each package folder
alone (the working directory is bench/apps, so paths start with the package folder) and writes
one JSON document with every finding, tagged with its package.

`sample` and `score` look at every finding, or at a seeded random sample of SAMPLE_SIZE when there
are more. Labels (bench/labels/apps-main.jsonl) are keyed by fingerprint, rule and path:line; a
findings file from another binary gets the labels of the findings whose rule and fingerprint match
(the line may move), and the ones left unlabelled are listed so that they can be labelled.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10 has no tomllib; tomli is the same parser under its own name
    import tomli as tomllib

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import COMPLETE_MARKER, pip_download, unpack_python_files

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
PINS = BENCH / "apps.toml"
APPS = BENCH / "apps"
DEFAULT_LABELS = BENCH / "labels" / "apps-main.jsonl"
DEFAULT_FINDINGS = BENCH / "work" / "apps-findings.json"

# Fixed so that the sample (and so the figures) can be reproduced from the findings file alone.
SAMPLE_SEED = 20261130
SAMPLE_SIZE = 60

KINDS = ("real-bug", "intentional", "startup-only", "false-claim")
# A finding is worth a maintainer's time when it is a real or latent bug.
WORTH_FIXING = ("real-bug",)


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    wheel: str
    sha256: str

    @property
    def folder(self) -> str:
        return f"{self.name}-{self.version}"


def load_pins(path: Path = PINS) -> list[Package]:
    data = tomllib.loads(path.read_text())
    return [Package(p["name"], p["version"], p["wheel"], p["sha256"]) for p in data["package"]]


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def download(package: Package, wheels: Path) -> Path:
    """The pinned wheel, downloaded once with pip and checked byte for byte."""
    wheel = wheels / package.wheel
    if not wheel.exists():
        # Pure-Python wheels only: the same file on every machine, so one sha256 pins it.
        pure_python = ("--platform", "any", "--implementation", "py", "--abi", "none")
        pip_download(
            wheels,
            f"{package.name}=={package.version}",
            *pure_python,
            "--python-version",
            "3.13",
        )
    if not wheel.exists():
        raise RuntimeError(f"pip did not leave {package.wheel} in {wheels}")
    digest = sha256_of(wheel)
    if digest != package.sha256:
        raise RuntimeError(f"{package.wheel}: sha256 {digest}, pinned {package.sha256}")
    return wheel


def build_apps(packages: list[Package], dest: Path = APPS) -> None:
    for package in packages:
        folder = dest / package.folder
        if (folder / COMPLETE_MARKER).exists():
            continue
        wheel = download(package, dest / ".wheels")
        count = unpack_python_files(wheel, folder, importable_only=True)
        (folder / COMPLETE_MARKER).write_text(f"{package.wheel}\n{count} files\n")


def check_package(stateleak: Path, package: Package, apps: Path) -> dict[str, Any]:
    result = subprocess.run(
        [
            str(stateleak),
            "check",
            "--output-format",
            "json",
            "--no-cache",
            "--isolated",
            package.folder,
        ],
        check=False,
        cwd=apps,
        capture_output=True,
        text=True,
    )
    if result.returncode not in (0, 1):
        raise RuntimeError(f"stateleak failed on {package.folder} ({result.returncode}): {result.stderr}")
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def run(stateleak: Path, out: Path) -> None:
    packages = load_pins()
    build_apps(packages)
    findings: list[dict[str, Any]] = []
    summaries: dict[str, Any] = {}
    for package in packages:
        report = check_package(stateleak, package, APPS)
        for finding in report["findings"]:
            findings.append({"package": package.folder, **finding})
        summaries[package.folder] = report["summary"]
    out.parent.mkdir(parents=True, exist_ok=True)
    # `--version` and the commit checked out beside the binary: what made the findings file.
    version = subprocess.run([str(stateleak), "--version"], check=True, capture_output=True, text=True).stdout.strip()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        check=False,
        cwd=stateleak.parent,
        capture_output=True,
        text=True,
    ).stdout.strip()
    document = {
        "stateleak": f"{version}, checkout {commit or 'unknown'}",
        "packages": summaries,
        "findings": findings,
    }
    out.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
    print_counts(document)
    print(f"wrote {out}")


def print_counts(document: dict[str, Any]) -> None:
    per_package: dict[str, Counter[str]] = {name: Counter() for name in document["packages"]}
    for finding in document["findings"]:
        per_package[finding["package"]][finding["code"]] += 1
    print("| package | files | errors | findings | by rule |")
    print("| --- | ---: | ---: | ---: | --- |")
    for name, summary in document["packages"].items():
        rules = ", ".join(f"{code} {n}" for code, n in sorted(per_package[name].items()))
        print(f"| {name} | {summary['files']} | {summary['errors']} | {summary['findings']} | {rules} |")
    total = Counter(f["code"] for f in document["findings"])
    rules = ", ".join(f"{code} {n}" for code, n in sorted(total.items()))
    print(
        f"| all | {sum(s['files'] for s in document['packages'].values())} | "
        f"{sum(s['errors'] for s in document['packages'].values())} | "
        f"{len(document['findings'])} | {rules} |"
    )


def where(finding: dict[str, Any]) -> str:
    return f"{finding['path']}:{finding['line']}"


def sorted_findings(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """In report order, whatever order the findings file has."""
    return sorted(findings, key=lambda f: (f["path"], f["line"], f["column"], f["code"]))


def sample(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every finding, or SAMPLE_SIZE of them drawn with SAMPLE_SEED; in report order."""
    ordered = sorted_findings(findings)
    if len(ordered) <= SAMPLE_SIZE:
        return ordered
    chosen = set(random.Random(SAMPLE_SEED).sample(range(len(ordered)), SAMPLE_SIZE))
    return [f for i, f in enumerate(ordered) if i in chosen]


def load_labels(path: Path) -> list[dict[str, Any]]:
    """The labels of `path`, checked: one per finding, each complete and consistent."""
    labels = []
    seen = set()
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        label = json.loads(line)
        problem = label_problem(label)
        # Two objects of one short name changed at one place share a fingerprint: their labels
        # name the `object` too.
        key = (label.get("fingerprint"), label.get("code"), label.get("where"), label.get("object"))
        if problem is None and key in seen:
            problem = "a second label for the same finding"
        if problem is not None:
            raise ValueError(f"{path}:{number}: {problem}")
        seen.add(key)
        labels.append(label)
    return labels


def label_problem(label: dict[str, Any]) -> str | None:
    for field in ("fingerprint", "code", "where", "reason"):
        if not isinstance(label.get(field), str) or not label[field].strip():
            return f"`{field}` must be a non-empty string"
    if not isinstance(label.get("claim"), bool):
        return "`claim` must be true or false"
    if not isinstance(label.get("related_claim", True), bool):
        return "`related_claim`, when given, must be true or false"
    if label.get("kind") not in KINDS:
        return f"`kind` must be one of {', '.join(KINDS)}"
    if (label["kind"] == "false-claim") == label["claim"]:
        return "kind false-claim goes with claim false, and only with it"
    return None


def take_label(finding: dict[str, Any], unused: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Removes from `unused` and returns a label of the finding's rule and fingerprint (the one at
    the same path:line first, since one fingerprint may stand for several findings)."""
    candidates = [
        label for label in unused if label["fingerprint"] == finding["fingerprint"] and label["code"] == finding["code"]
    ]
    candidates.sort(key=lambda label: label["where"] != where(finding))
    if not candidates:
        return None
    unused.remove(candidates[0])
    return candidates[0]


def match_labels(
    findings: list[dict[str, Any]], labels: list[dict[str, Any]]
) -> tuple[list[tuple[dict[str, Any], dict[str, Any]]], list[dict[str, Any]]]:
    """Pairs each finding with a label of the same rule and fingerprint; returns the pairs and the
    unlabelled."""
    unused = list(labels)
    pairs = []
    unlabelled = []
    for finding in findings:
        label = take_label(finding, unused)
        if label is None:
            unlabelled.append(finding)
        else:
            pairs.append((finding, label))
    return pairs, unlabelled


def members_of(finding: dict[str, Any]) -> list[dict[str, Any]]:
    """The one-object findings a reported finding stands for: its members (a finding that names
    several shared objects changed at one place), or itself."""
    members: list[dict[str, Any]] = finding.get("members") or []
    if not members:
        return [finding]
    return [
        {**finding, "fingerprint": m["fingerprint"], "message": m["message"], "object": m["object"], "members": []}
        for m in members
    ]


def per_object(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every one-object finding, as stateleak reported them before it grouped them by place."""
    return [member for finding in findings for member in members_of(finding)]


def match_places(
    findings: list[dict[str, Any]], labels: list[dict[str, Any]]
) -> tuple[list[tuple[dict[str, Any], dict[str, Any]]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Pairs each reported finding with a label: its own (by fingerprint), or, for a finding that
    names several objects, the label every member has when all members are labelled and agree on
    claim and kind. Returns the pairs, the unlabelled and the mixed: the groups with some member
    labelled whose members' labels disagree or are partly missing. A mixed group is scored per
    object only; its unlabelled members are listed among the unlabelled with the fingerprints they
    have alone, which stay when objects join or leave the group."""
    unused = list(labels)
    pairs = []
    unlabelled = []
    mixed = []
    for finding in findings:
        label = take_label(finding, unused)
        if label is not None:
            pairs.append((finding, label))
            continue
        members = members_of(finding)
        if len(members) == 1:
            unlabelled.append(finding)
            continue
        member_labels = [take_label(member, unused) for member in members]
        known = [label for label in member_labels if label is not None]
        verdicts = {(label["claim"], label["kind"]) for label in known}
        if len(known) == len(members) and len(verdicts) == 1:
            agreed = {
                **known[0],
                "fingerprint": finding["fingerprint"],
                "related_claim": all(label.get("related_claim", True) is True for label in known),
                "message": finding["message"],
            }
            pairs.append((finding, agreed))
        elif known:
            unused.extend(known)
            mixed.append(finding)
            unlabelled.extend(member for member, label in zip(members, member_labels) if label is None)
        else:
            unlabelled.append(finding)
    return pairs, unlabelled, mixed


def percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f} %" if whole else "n/a"


def wholly_true_claim(label: dict[str, Any]) -> bool:
    """The message is true, and so are the labels the finding puts on its related locations."""
    return bool(label["claim"]) and label.get("related_claim", True) is True


def figures(pairs: list[tuple[dict[str, Any], dict[str, Any]]]) -> list[str]:
    """A Markdown table: per rule and in all, true claims and real-or-latent bugs."""
    rows = [
        (
            "| rule | labelled | true claims | true, related labels too "
            "| real or latent bugs | intentional | start-up only | false claims |"
        ),
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    by_rule: dict[str, list[dict[str, Any]]] = {}
    for finding, label in pairs:
        by_rule.setdefault(finding["code"], []).append(label)
    groups = [*sorted(by_rule.items()), ("all", [label for _, label in pairs])]
    for rule, labels in groups:
        n = len(labels)
        kinds = Counter(label["kind"] for label in labels)
        true_claims = sum(1 for label in labels if label["claim"])
        wholly_true = sum(1 for label in labels if wholly_true_claim(label))
        worth = sum(kinds[kind] for kind in WORTH_FIXING)
        rows.append(
            f"| {rule} | {n} | {true_claims} ({percent(true_claims, n)}) "
            f"| {wholly_true} ({percent(wholly_true, n)}) | {worth} ({percent(worth, n)}) "
            f"| {kinds['intentional']} | {kinds['startup-only']} | {kinds['false-claim']} |"
        )
    return rows


def label_stub(finding: dict[str, Any]) -> dict[str, Any]:
    return {
        "fingerprint": finding["fingerprint"],
        "code": finding["code"],
        "where": where(finding),
        "claim": None,
        "kind": None,
        "reason": "",
        "message": finding["message"],
    }


def gone(findings: list[dict[str, Any]], labels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The labels whose finding is no longer reported (by rule and fingerprint): neither as a
    finding of its own, nor as a group, nor as a member of one."""
    reported = Counter((f["code"], f["fingerprint"]) for f in per_object(findings))
    reported.update((f["code"], f["fingerprint"]) for f in findings if f.get("members"))
    left = []
    for label in labels:
        key = (label["code"], label["fingerprint"])
        if reported[key]:
            reported[key] -= 1
        else:
            left.append(label)
    return left


def reworded(
    pairs: list[tuple[dict[str, Any], dict[str, Any]]],
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """The pairs whose finding's message is no longer the one the label was written for."""
    return [
        (finding, label) for finding, label in pairs if label.get("message", finding["message"]) != finding["message"]
    ]


def score(document: dict[str, Any], labels: list[dict[str, Any]], every: bool) -> int:
    findings = document["findings"]
    chosen = sorted_findings(findings) if every else sample(findings)
    pairs, unlabelled, mixed = match_places(chosen, labels)
    looked_at = "all" if len(chosen) == len(findings) else f"a sample of {len(chosen)} (seed {SAMPLE_SEED})"
    objects = per_object(chosen)
    print(
        f"{len(findings)} findings ({document.get('stateleak', 'stateleak ?')}); {looked_at} "
        f"looked at; {len(pairs)} labelled, {len(mixed)} mixed (members' labels disagree or are partly "
        f"missing: scored per object only), {len(unlabelled)} not yet (findings, or members of mixed ones)."
    )
    print()
    print("Per place (what is reported: one finding per rule and change expression):")
    print()
    print("\n".join(figures(pairs)))
    object_pairs, unlabelled_objects = match_labels(objects, labels)
    print()
    print(
        f"Per object (every shared object of a finding counted, as before grouping): {len(objects)} "
        f"findings; {len(object_pairs)} labelled, {len(unlabelled_objects)} not yet."
    )
    print()
    print("\n".join(figures(object_pairs)))
    grouped = [f for f in chosen if f.get("members")]
    if grouped:
        labelled_places = {id(finding): label for finding, label in pairs}
        print()
        print(f"{len(grouped)} findings name several shared objects:")
        for finding in grouped:
            label = labelled_places.get(id(finding))
            if label is not None:
                verdict = f"[{label['kind']}]"
            else:
                verdict = "[mixed labels]" if finding in mixed else "[unlabelled]"
            print(f"  {finding['code']} {where(finding)}: {len(finding['members'])} objects {verdict}")
    changed = reworded(object_pairs)
    if changed:
        print()
        print(f"{len(changed)} carried-over labels are of reworded findings (re-read them):")
        for finding, label in changed:
            print(f"  {finding['code']} {where(finding)} [{label['kind']}]: {finding['message']}")
    vanished = gone(findings, labels)
    if vanished:
        kinds = Counter(label["kind"] for label in vanished)
        summary = ", ".join(f"{kind} {kinds[kind]}" for kind in KINDS if kinds[kind])
        print()
        print(f"{len(vanished)} labelled findings are no longer reported ({summary}):")
        for label in vanished:
            print(f"  {label['code']} {label['where']} [{label['kind']}]")
    if unlabelled:
        print()
        print("Unlabelled (add these lines to the labels with claim, kind and reason):")
        for finding in unlabelled:
            print(json.dumps(label_stub(finding), ensure_ascii=False))
    return 1 if unlabelled or unlabelled_objects else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run", help="build the corpus, run stateleak, write the findings")
    run_parser.add_argument("--stateleak", type=Path, default=REPO / "target" / "release" / "stateleak")
    run_parser.add_argument("--out", type=Path, default=DEFAULT_FINDINGS)
    sample_parser = commands.add_parser("sample", help="print the findings to label, as label stubs")
    score_parser = commands.add_parser("score", help="figures from the labels; list the unlabelled")
    score_parser.add_argument("--labels", type=Path, default=DEFAULT_LABELS)
    for sub in (sample_parser, score_parser):
        sub.add_argument("findings", type=Path, help="a findings file written by `run`")
        sub.add_argument("--all", action="store_true", help="every finding, not the seeded sample")
    args = parser.parse_args()

    if args.command == "run":
        run(args.stateleak.resolve(), args.out)
        return 0
    document = json.loads(args.findings.read_text())
    if args.command == "sample":
        chosen = (sorted_findings if args.all else sample)(document["findings"])
        for finding in chosen:
            print(json.dumps(label_stub(finding), ensure_ascii=False))
        return 0
    return score(document, load_labels(args.labels), args.all)


if __name__ == "__main__":
    sys.exit(main())
