"""Tests of bench/apps.py's labelling logic and of the committed labels (no network needed)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import apps
import corpus

LABELS = Path(__file__).resolve().parent / "labels"


def finding(path: str, line: int, code: str = "SL101", fingerprint: str = "") -> dict[str, Any]:
    return {
        "package": "pkg-1.0",
        "path": path,
        "line": line,
        "column": 1,
        "code": code,
        "message": f"a finding at {path}:{line}",
        "fingerprint": fingerprint or f"fp-{path}-{line}-{code}",
    }


def label(found: dict[str, Any], kind: str = "real-bug", claim: bool = True) -> dict[str, Any]:
    return {
        "fingerprint": found["fingerprint"],
        "code": found["code"],
        "where": apps.where(found),
        "claim": claim,
        "kind": kind,
        "reason": "read the code",
    }


def write_labels(tmp_path: Path, labels: list[dict[str, Any]]) -> Path:
    path = tmp_path / "labels.jsonl"
    path.write_text("".join(json.dumps(item) + "\n" for item in labels))
    return path


def test_few_findings_are_all_looked_at_in_report_order() -> None:
    findings = [finding("b.py", 2), finding("a.py", 9), finding("a.py", 3)]
    assert [apps.where(f) for f in apps.sample(findings)] == [
        "a.py:3",
        "a.py:9",
        "b.py:2",
    ]


def test_the_sample_is_seeded_and_does_not_depend_on_file_order() -> None:
    findings = [finding(f"m{i:03}.py", i) for i in range(150)]
    first = apps.sample(findings)
    again = apps.sample(list(reversed(findings)))
    assert len(first) == apps.SAMPLE_SIZE
    assert first == again
    assert first != apps.sorted_findings(findings)[: apps.SAMPLE_SIZE]


def test_a_label_follows_its_finding_when_the_line_moves() -> None:
    before = finding("a.py", 10, fingerprint="f1")
    after = finding("a.py", 14, fingerprint="f1")
    pairs, unlabelled = apps.match_labels([after], [label(before)])
    assert [(f["line"], lab["where"]) for f, lab in pairs] == [(14, "a.py:10")]
    assert unlabelled == []


def test_a_shared_fingerprint_is_matched_line_for_line_first() -> None:
    one, two = (
        finding("a.py", 5, fingerprint="same"),
        finding("a.py", 8, fingerprint="same"),
    )
    labels = [label(two, kind="intentional"), label(one, kind="real-bug")]
    pairs, _ = apps.match_labels([one, two], labels)
    assert [(f["line"], lab["kind"]) for f, lab in pairs] == [
        (5, "real-bug"),
        (8, "intentional"),
    ]


def test_new_findings_and_other_rules_are_unlabelled() -> None:
    old = finding("a.py", 5, fingerprint="f1")
    other_rule = finding("a.py", 5, code="SL402", fingerprint="f1")
    new = finding("b.py", 1)
    pairs, unlabelled = apps.match_labels([other_rule, new, old], [label(old)])
    assert [f["code"] for f, _ in pairs] == ["SL101"]
    assert unlabelled == [other_rule, new]


def test_a_reworded_finding_keeps_its_label_and_is_listed_to_re_read() -> None:
    same, changed = finding("a.py", 1), finding("a.py", 2)
    labels = [
        {**label(same), "message": same["message"]},
        {**label(changed), "message": "the old wording"},
    ]
    pairs, unlabelled = apps.match_labels([same, changed], labels)
    assert unlabelled == []
    assert [apps.where(f) for f, _ in apps.reworded(pairs)] == ["a.py:2"]


def test_labels_of_findings_no_longer_reported_are_listed() -> None:
    kept, dropped = finding("a.py", 1), finding("a.py", 2)
    vanished = apps.gone([kept], [label(kept), label(dropped, kind="false-claim", claim=False)])
    assert [item["where"] for item in vanished] == ["a.py:2"]


def group(*members: dict[str, Any], fingerprint: str = "fp-group") -> dict[str, Any]:
    """The finding reported for `members` (one rule, one place, several shared objects)."""
    return {
        **members[0],
        "fingerprint": fingerprint,
        "message": members[0]["message"] + "; the same change is also reported for ...",
        "members": [
            {"object": f"m.C{i}.x", "message": m["message"], "fingerprint": m["fingerprint"], "definition": None}
            for i, m in enumerate(members)
        ],
    }


def test_a_group_whose_members_agree_takes_their_label() -> None:
    one, two = finding("a.py", 4, fingerprint="m1"), finding("a.py", 4, fingerprint="m2")
    reported = group(one, two)
    labels = [label(one, kind="intentional"), {**label(two, kind="intentional"), "related_claim": False}]
    pairs, unlabelled, mixed = apps.match_places([reported], labels)
    assert unlabelled == [] and mixed == []
    [(found, agreed)] = pairs
    assert found is reported
    assert (agreed["kind"], agreed["claim"], agreed["related_claim"]) == ("intentional", True, False)


def test_a_label_of_the_group_wins_over_its_members() -> None:
    one, two = finding("a.py", 4, fingerprint="m1"), finding("a.py", 4, fingerprint="m2")
    reported = group(one, two)
    labels = [label(one), label(two), label(reported, kind="startup-only")]
    pairs, unlabelled, _ = apps.match_places([reported], labels)
    assert unlabelled == []
    assert [lab["kind"] for _, lab in pairs] == ["startup-only"]


def test_a_group_with_disagreeing_member_labels_is_mixed_not_unlabelled() -> None:
    one, two = finding("a.py", 4, fingerprint="m1"), finding("a.py", 4, fingerprint="m2")
    disagreeing = [label(one, kind="intentional"), label(two, kind="real-bug")]
    pairs, unlabelled, mixed = apps.match_places([group(one, two)], disagreeing)
    assert pairs == [] and unlabelled == [] and len(mixed) == 1


def test_a_partly_labelled_group_asks_for_its_unlabelled_members() -> None:
    one, two = finding("a.py", 4, fingerprint="m1"), finding("a.py", 4, fingerprint="m2")
    pairs, unlabelled, mixed = apps.match_places([group(one, two)], [label(one)])
    assert pairs == [] and len(mixed) == 1
    # The member's own fingerprint stays when objects join or leave the group.
    assert [f["fingerprint"] for f in unlabelled] == ["m2"]
    pairs, unlabelled, mixed = apps.match_places([group(one, two)], [])
    assert pairs == [] and [f["fingerprint"] for f in unlabelled] == ["fp-group"] and mixed == []


def test_per_object_figures_count_every_member() -> None:
    one, two, alone = (
        finding("a.py", 4, fingerprint="m1"),
        finding("a.py", 4, fingerprint="m2"),
        finding("b.py", 1),
    )
    objects = apps.per_object([group(one, two), alone])
    assert [f["fingerprint"] for f in objects] == ["m1", "m2", alone["fingerprint"]]
    assert all(f["members"] == [] for f in objects[:2])
    assert objects[2] is alone


def test_a_member_or_a_group_still_reported_keeps_its_label() -> None:
    one, two = finding("a.py", 4, fingerprint="m1"), finding("a.py", 4, fingerprint="m2")
    reported = group(one, two)
    labels = [label(one), label(two), label(reported), label(finding("c.py", 1))]
    assert [item["where"] for item in apps.gone([reported], labels)] == ["c.py:1"]


def test_figures_count_true_claims_and_real_bugs_per_rule() -> None:
    a, b, c = finding("a.py", 1), finding("a.py", 2), finding("a.py", 3, code="SL402")
    pairs = [
        (a, {**label(a, kind="real-bug"), "related_claim": False}),
        (b, label(b, kind="false-claim", claim=False)),
        (c, label(c, kind="startup-only")),
    ]
    rows = apps.figures(pairs)
    assert rows[2] == "| SL101 | 2 | 1 (50 %) | 0 (0 %) | 1 (50 %) | 0 | 0 | 1 |"
    assert rows[3] == "| SL402 | 1 | 1 (100 %) | 1 (100 %) | 0 (0 %) | 0 | 1 | 0 |"
    assert rows[4] == "| all | 3 | 2 (67 %) | 1 (33 %) | 1 (33 %) | 0 | 1 | 1 |"


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"claim": 1}, "`claim` must be true or false"),
        ({"kind": "bug"}, "`kind` must be one of"),
        ({"reason": " "}, "`reason` must be a non-empty string"),
        ({"related_claim": "no"}, "`related_claim`, when given, must be true or false"),
        (
            {"kind": "real-bug", "claim": False},
            "kind false-claim goes with claim false",
        ),
        (
            {"kind": "false-claim", "claim": True},
            "kind false-claim goes with claim false",
        ),
    ],
)
def test_bad_labels_are_refused_with_their_line(tmp_path: Path, change: dict[str, Any], problem: str) -> None:
    good = label(finding("a.py", 1))
    path = write_labels(tmp_path, [good, {**label(finding("b.py", 2)), **change}])
    with pytest.raises(ValueError, match=f"labels.jsonl:2: {problem}"):
        apps.load_labels(path)


def test_a_finding_labelled_twice_is_refused(tmp_path: Path) -> None:
    item = label(finding("a.py", 1))
    with pytest.raises(ValueError, match="a second label for the same finding"):
        apps.load_labels(write_labels(tmp_path, [item, item]))


@pytest.mark.parametrize(
    ("findings_file", "labels_file"),
    [
        ("apps-main-findings.json", "apps-main.jsonl"),
        ("apps-round2-findings.json", "apps-round2.jsonl"),
        ("apps-round3-findings.json", "apps-round3.jsonl"),
        ("apps-round4-findings.json", "apps-round4.jsonl"),
        ("apps-round5-findings.json", "apps-round5.jsonl"),
        ("apps-round8-findings.json", "apps-round8.jsonl"),
        ("apps-round9-findings.json", "apps-round9.jsonl"),
        ("apps-round10-findings.json", "apps-round10.jsonl"),
        ("apps-round11-findings.json", "apps-round11.jsonl"),
        ("apps-round12-findings.json", "apps-round12.jsonl"),
        ("apps-round13-findings.json", "apps-round13.jsonl"),
        ("apps-round14-findings.json", "apps-round14.jsonl"),
        ("apps-round15-findings.json", "apps-round15.jsonl"),
        ("apps-round16-findings.json", "apps-round16.jsonl"),
        ("apps-round17-findings.json", "apps-round17.jsonl"),
        ("apps-round18-findings.json", "apps-round18.jsonl"),
        ("apps-round19-findings.json", "apps-round19.jsonl"),
        ("apps-round20-findings.json", "apps-round20.jsonl"),
        ("apps-round21-findings.json", "apps-round21.jsonl"),
        ("apps-round22-findings.json", "apps-round22.jsonl"),
        ("apps-round23-findings.json", "apps-round23.jsonl"),
        ("apps-round24-findings.json", "apps-round24.jsonl"),
    ],
)
def test_every_finding_of_the_committed_run_has_a_valid_label(findings_file: str, labels_file: str) -> None:
    document = json.loads((LABELS / findings_file).read_text())
    labels = apps.load_labels(LABELS / labels_file)
    pairs, unlabelled = apps.match_labels(apps.sorted_findings(document["findings"]), labels)
    assert unlabelled == []
    assert len(pairs) == len(labels) == len(document["findings"])
    assert all(lab["where"] == apps.where(f) for f, lab in pairs)


@pytest.mark.parametrize(
    ("run", "after", "unseen_labels", "every_object"),
    [
        ("round27", "round27-after", "round27-unseen", False),
        ("round29", "round29-after", "round29-unseen", False),
        ("round34", "round34-after", "round34-unseen", False),
        ("round35", "round35-after", "round35-unseen", True),
        # Round 37 labelled its packages in two batches; the second run holds both.
        ("round37b", "round37-after", "round37-unseen", True),
        # Round 38 labelled three batches; the third run holds all of them.
        ("round38c", "round38-after", "round38-unseen", True),
        # Round 39 labelled four batches; the last run holds all of them.
        ("round39e", "round39-after", "round39-unseen", True),
        ("round40a", "round40-after", "round40-unseen", True),
        ("round41a", "round41-after", "round41-unseen", True),
        ("round42a", "round42-after", "round42-unseen", True),
        # Round 42's second batch was run with the round's merged tree, which drops some of the
        # first batch's findings: it is checked on its own.
        ("round42b", "round42b-after", "round42b-unseen", True),
        # Round 43 labelled three batches at once, each run with the round's start binary over the
        # labelled packages and its own; one cumulative file holds every batch's labels.
        ("round43a", "round43-after", "round43-lbla", True),
        ("round43b", "round43-after", "round43-lblb", True),
        ("round43c", "round43-after", "round43-lblc", True),
        # Round 44's batches, each run with the round's start binary (main 222f39b) over the
        # packages pinned so far and labelled before any fix of the round.
        ("round44a", "round44-after", "round44-lbla", True),
        ("round44b", "round44-after", "round44-lblb", True),
        ("round44c", "round44-after", "round44-lblc", True),
        ("round44d", "round44-after", "round44-lbld", True),
        # Round 45's batches, each run with the round's start binary (main 36c56e9) over the
        # packages pinned so far and labelled before any fix of the round; lbld brought no
        # finding on its eight packages (an empty labels file, and
        # test_round45d_s_packages_brought_no_finding checks the run says so).
        ("round45a", "round45-after", "round45-lbla", True),
        ("round45b", "round45-after", "round45-lblb", True),
        ("round45c", "round45-after", "round45-lblc", True),
        ("round45d", "round45-after", "round45-lbld", True),
    ],
)
def test_unseen_rounds_label_every_finding_and_the_unseen_ones_exactly(
    run: str, after: str, unseen_labels: str, every_object: bool
) -> None:
    """The cumulative labels cover the whole run; the unseen labels are the new packages' findings
    (from round 35 on, every member of a grouped finding too)."""
    document = json.loads((LABELS / f"apps-{run}-findings.json").read_text())
    findings = apps.sorted_findings(document["findings"])
    _, unlabelled, mixed = apps.match_places(findings, apps.load_labels(LABELS / f"apps-{after}.jsonl"))
    assert unlabelled == mixed == []
    unseen = apps.load_labels(LABELS / f"apps-{unseen_labels}.jsonl")
    packages = {label["where"].split("/", 1)[0] for label in unseen}
    of_unseen = [f for f in findings if f["package"] in packages]
    pairs, unlabelled, mixed = apps.match_places(of_unseen, unseen)
    assert unlabelled == mixed == []
    assert len(pairs) == len(of_unseen)
    assert all(lab["where"] == apps.where(f) for f, lab in pairs)
    if not every_object:
        assert len(pairs) == len(unseen)
        return
    object_pairs, objects_unlabelled = apps.match_labels(apps.per_object(of_unseen), unseen)
    assert objects_unlabelled == []

    def key(label: dict[str, object]) -> tuple[object, ...]:
        return (label["fingerprint"], label["code"], label["where"], label.get("object"))

    used = {key(lab) for _, lab in pairs} | {key(lab) for _, lab in object_pairs}
    assert [key(lab) for lab in unseen if key(lab) not in used] == []


def test_the_pins_name_pure_python_wheels_outside_the_benchmark_corpus() -> None:
    packages = apps.load_pins()
    assert len(packages) >= 10
    held_back = {
        "celery",
        "tornado",
        "sanic",
        "scrapy",
        "starlette",
        "fastapi",
        "wagtail",
        "mailman",
        "buildbot",
        "apache-superset",
        "djangorestframework",
        "ansible-core",
    }
    benchmark = {name.lower() for name, _ in corpus.PACKAGES}
    for package in packages:
        assert package.name.lower() not in held_back | benchmark
        assert package.wheel.endswith("-none-any.whl")
        assert len(package.sha256) == 64


def test_round45d_s_packages_brought_no_finding() -> None:
    """lbld's eight unseen packages were all analysed (no parse error) and gave no finding, so an
    empty labels file is the whole of their labels, not a missing one."""
    document = json.loads((LABELS / "apps-round45d-findings.json").read_text())
    eight = {
        "mcp-2.3.0",
        "rq-scheduler-0.14.0",
        "quart-auth-0.12.0",
        "quart-cors-0.8.0",
        "aiohttp-cors-0.8.1",
        "aiohttp-jinja2-1.6",
        "aiohttp-security-0.5.0",
        "aiohttp-apispec-0.7.6",
    }
    assert all(document["packages"][name]["files"] > 0 for name in eight)
    assert all(document["packages"][name]["errors"] == 0 for name in eight)
    assert [f for f in document["findings"] if f["package"] in eight] == []
    assert apps.load_labels(LABELS / "apps-round45-lbld.jsonl") == []
