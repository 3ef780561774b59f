"""`python -m stateleak replay MODULE:APP --request "GET /a" ...`"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from stateleak import findings as static
from stateleak import http
from stateleak.replaying import INTERFACES, Probe, TargetError, load_target, run_job_file, run_probes
from stateleak.saferepr import safe_repr

USAGE_ERROR = 2


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["_job"] and len(arguments) == 3:
        return run_job_file(Path(arguments[1]), Path(arguments[2]))
    parser = _parser()
    options = parser.parse_args(arguments)
    if options.command != "replay":
        parser.print_help()
        return USAGE_ERROR
    return _replay(options)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m stateleak", description="stateleak's run-time proofs")
    commands = parser.add_subparsers(dest="command")
    replay = commands.add_parser(
        "replay",
        help="run inputs A, B, A... in one interpreter and compare each answer with a fresh process's",
        description="Runs each input in this interpreter, in order, and compares its answer with the "
        "answer a fresh process gives; names the shared objects behind every difference. "
        "Exit status: 1 when an answer differs, 2 when a probe could not run, 0 otherwise.",
    )
    replay.add_argument("target", metavar="MODULE:APP", help="a WSGI or ASGI app, or a plain callable with --call")
    replay.add_argument(
        "--request",
        action="append",
        default=[],
        metavar="TEXT",
        help='a request: "METHOD /path?query", optionally followed by header lines, a blank line and a body',
    )
    replay.add_argument("--requests-file", metavar="FILE", help="requests in a file, separated by lines of ###")
    replay.add_argument(
        "--header", action="append", default=[], metavar="'NAME: VALUE'", help="a header for every request"
    )
    replay.add_argument(
        "--cookie", action="append", default=[], metavar="NAME=VALUE", help="a cookie for every request"
    )
    replay.add_argument(
        "--call",
        action="append",
        default=[],
        metavar="LITERAL",
        help="call MODULE:APP with these arguments (a Python literal; a tuple is the positional arguments)",
    )
    replay.add_argument("--interface", choices=("auto", *INTERFACES), default="auto")
    replay.add_argument("--root", default=".", help="the project's root: modules under it are watched")
    source = replay.add_mutually_exclusive_group()
    source.add_argument("--findings", metavar="FILE", help="static findings (stateleak check --output-format json)")
    source.add_argument("--no-analysis", action="store_true", help="do not run the static analysis")
    replay.add_argument(
        "--fresh",
        choices=("auto", "fork", "subprocess"),
        default="auto",
        help="how fresh answers are made: auto reuses a fork after import while every watched object stays "
        "unchanged (differences are confirmed in a fork of their own); fork: a fork per input",
    )
    replay.add_argument("--json", action="store_true", help="print the result as JSON")
    return parser


def _replay(options: argparse.Namespace) -> int:
    root = Path(options.root).resolve()
    if options.call and (options.request or options.requests_file):
        print("error: give either --call (a plain callable) or requests (an app), not both", file=sys.stderr)
        return USAGE_ERROR
    interface = "call" if options.call else options.interface
    try:
        probes = _call_probes(options.call) if options.call else _request_probes(options)
    except OSError as error:
        print(f"error: {error}", file=sys.stderr)
        return USAGE_ERROR
    if not probes:
        print("error: nothing to replay: give --request, --requests-file or --call", file=sys.stderr)
        return USAGE_ERROR
    sys.path.insert(0, str(root))
    try:
        target = load_target(options.target, interface)
    except TargetError as error:
        print(f"error: {error}", file=sys.stderr)
        return USAGE_ERROR
    if options.no_analysis:
        findings = static.Findings({}, "static analysis not run (--no-analysis)")
    else:
        findings, _ = static.load(root, options.findings)
    result = run_probes(target, probes, root=root, findings=findings, fresh=options.fresh)
    print(json.dumps(result.as_json(), indent=2) if options.json else result.report())
    return result.exit_status()


def _call_probes(literals: list[str]) -> list[Probe]:
    probes = []
    for text in literals:
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError) as error:
            probes.append(Probe(text, None, f"not a Python literal: {text!r} ({error})"))
            continue
        probes.append(Probe(safe_repr(value, 120), value if isinstance(value, tuple) else (value,)))
    return probes


def _request_probes(options: argparse.Namespace) -> list[Probe]:
    texts = list(options.request)
    if options.requests_file:
        texts += http.split_requests_file(Path(options.requests_file).read_text(encoding="utf-8"))
    shared = []
    for header in options.header:
        name, sep, value = header.partition(":")
        shared.append((name.strip(), value.strip()))
    if options.cookie:
        shared.append(("Cookie", "; ".join(options.cookie)))
    probes = []
    for text in texts:
        try:
            request = http.parse_request(text, shared)
        except http.RequestError as error:
            probes.append(Probe(text.splitlines()[0] if text else "<empty>", None, str(error)))
            continue
        probes.append(Probe(request.label(), request))
    return probes


if __name__ == "__main__":
    sys.exit(main())
