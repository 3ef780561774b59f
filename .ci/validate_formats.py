"""Validates stateleak's CI output formats against their consumers' schemas and parsers.

Usage: validate_formats.py REPORTS_DIR SCHEMAS_DIR, where REPORTS_DIR holds `gitlab.json`,
`rdjson.json`, `junit.xml` and `lines.jsonl` from one run.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import jsonschema
import junitparser
import xmlschema


def validate_json(report: Path, schema: Path) -> int:
    """Validates a JSON report; returns how many entries it holds."""
    document = json.loads(report.read_text(encoding="utf-8"))
    jsonschema.validate(document, json.loads(schema.read_text(encoding="utf-8")))
    entries = document if isinstance(document, list) else document["diagnostics"]
    return len(entries)


def validate_junit(report: Path, schema: Path) -> int:
    """Validates JUnit XML with the XSD and reads it as junitparser does; returns its cases."""
    xmlschema.XMLSchema(str(schema)).validate(str(report))
    xml = junitparser.JUnitXml.fromfile(str(report))
    cases = 0
    problems = 0
    for suite in xml:
        for case in suite:
            cases += 1
            problems += sum(isinstance(r, (junitparser.Failure, junitparser.Error)) for r in case.result)
    if problems != xml.failures + xml.errors:
        raise ValueError(f"{problems} failing cases, but the counts say {xml.failures + xml.errors}")
    return cases


def validate_lines(report: Path) -> int:
    """Each line of json-lines is one JSON object with a known kind."""
    kinds = {"finding", "unused_suppression", "error"}
    lines = report.read_text(encoding="utf-8").splitlines()
    for line in lines:
        entry = json.loads(line)
        if entry.get("kind") not in kinds:
            raise ValueError(f"unknown kind in {line}")
    return len(lines)


def main() -> int:
    reports, schemas = Path(sys.argv[1]), Path(sys.argv[2])
    counts = {
        "gitlab": validate_json(reports / "gitlab.json", schemas / "gitlab-codequality.schema.json"),
        "rdjson": validate_json(reports / "rdjson.json", schemas / "rdjson.schema.json"),
        "junit": validate_junit(reports / "junit.xml", schemas / "junit.xsd"),
        "json-lines": validate_lines(reports / "lines.jsonl"),
    }
    print(", ".join(f"{name}: {count} entries valid" for name, count in counts.items()))
    if len(set(counts.values())) != 1:
        print(f"the formats disagree on the number of entries: {counts}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
