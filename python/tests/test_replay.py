from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from stateleak import replay
from stateleak.findings import Findings, StaticFinding, parse

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "remix"
SONGS = ["('Song A', ['kick'])", "('Song B', ['kick', 'hat'])", "('Song A', ['kick'])"]


def cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "stateleak", "replay", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120)


def each(option: str, values: list[str]) -> list[str]:
    return [arg for value in values for arg in (option, value)]


def test_the_example_leak_is_proved_in_one_command():
    done = cli(EXAMPLE, "run:handle_request", *each("--call", SONGS), "--no-analysis")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "probe 2 ('Song B', ['kick', 'hat']): DIFFERS from a fresh process" in done.stdout
    assert "    remix.pattern.PatternRemixer._samplecache: 1 key added: 'kick'" in done.stdout
    assert "written at remix/pattern.py:12 (during probe 1)" in done.stdout
    assert "restoring only this object gives the fresh answer" in done.stdout


def test_the_fixed_example_passes():
    done = cli(EXAMPLE, "fixed:handle_request", *each("--call", SONGS), "--no-analysis")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "result: every answer matches a fresh process" in done.stdout


def test_the_leak_is_linked_to_the_static_finding_at_the_writer(tmp_path):
    cache = "remix.pattern.PatternRemixer._samplecache"
    reset = {"code": "SL103", "path": "remix/maintenance.py", "line": 9, "message": "reset", "object": cache}
    write = {"code": "SL101", "path": "remix/pattern.py", "line": 12, "message": "shared", "object": cache}
    findings = tmp_path / "findings.json"
    findings.write_text(json.dumps({"version": 1, "findings": [reset, write]}))
    done = cli(EXAMPLE, "run:handle_request", *each("--call", SONGS), "--findings", str(findings), "--json")
    assert done.returncode == 1
    leak = json.loads(done.stdout)["probes"][1]["leaks"][0]
    assert leak["object"] == "remix.pattern.PatternRemixer._samplecache"
    assert (leak["static_finding"]["code"], leak["static_finding"]["line"]) == ("SL101", 12)
    assert leak["confirmed"] is True


WSGI_APP = """
from urllib.parse import parse_qs

_greeted = []


def application(environ, start_response):
    name = parse_qs(environ["QUERY_STRING"]).get("name", ["nobody"])[0]
    if environ["PATH_INFO"] == "/echo":
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        text = f"{environ.get('HTTP_X_TEAM')}|{environ.get('HTTP_COOKIE')}|{body.decode()}"
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [text.encode()]
    _greeted.append(name)
    start_response("200 OK", [("Content-Type", "text/plain"), ("Date", "now")])
    return [f"hello {name}, you are visitor {len(_greeted)}".encode()]
"""

ASGI_APP = """
sessions = {}


async def app(scope, receive, send):
    message = await receive()
    user = scope["query_string"].decode().partition("=")[2]
    sessions.setdefault("last", user)
    body = f"{scope['method']} {scope['path']} for {user}; first user {sessions['last']}; {message['body'].decode()}"
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": body.encode()})
"""


@pytest.fixture
def apps(tmp_path: Path) -> Path:
    (tmp_path / "wsgiapp.py").write_text(textwrap.dedent(WSGI_APP))
    (tmp_path / "asgiapp.py").write_text(textwrap.dedent(ASGI_APP))
    (tmp_path / "notimporting.py").write_text("import no_such_module_anywhere\n")
    return tmp_path


def test_wsgi_app(apps):
    requests = ["GET /hi?name=a", "GET /hi?name=b", "GET /hi?name=a"]
    done = cli(apps, "wsgiapp:application", *each("--request", requests), "--no-analysis")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "replay of wsgiapp:application (wsgi)" in done.stdout
    assert "probe 1 GET /hi?name=a: same answer as a fresh process" in done.stdout
    assert "probe 2 GET /hi?name=b: DIFFERS from a fresh process" in done.stdout
    assert "    wsgiapp._greeted: 1 item appended" in done.stdout
    assert "written at wsgiapp.py:14 (during probe 1)" in done.stdout


def test_asgi_app_with_a_body(apps):
    post = "POST /items?user=ann\nContent-Type: text/plain\n\npayload"
    done = cli(apps, "asgiapp:app", "--request", post, "--request", "GET /items?user=bob", "--no-analysis")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "replay of asgiapp:app (asgi)" in done.stdout
    assert "POST /items for ann; first user ann; payload" in done.stdout
    assert "    asgiapp.sessions: 1 key added: 'last'" in done.stdout


def test_headers_cookies_bodies_and_a_requests_file(apps):
    requests = apps / "requests.http"
    requests.write_text("POST /echo\nX-Team: red\n\nbody one\n###\nPOST /echo\n\nbody two\n")
    done = cli(
        apps,
        "wsgiapp:application",
        "--requests-file",
        str(requests),
        "--cookie",
        "session=s1",
        "--header",
        "X-Team: blue",
        "--no-analysis",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "blue,red|session=s1|body one" in done.stdout
    assert "blue|session=s1|body two" in done.stdout


def test_an_app_that_does_not_import(apps):
    done = cli(apps, "notimporting:app", "--request", "GET /", "--no-analysis")
    assert done.returncode == 2
    assert "error: cannot import `notimporting`: ModuleNotFoundError: No module named 'no_such_module_anywhere'" in (
        done.stderr
    )


def test_a_request_that_does_not_parse_leaves_the_others_running(apps):
    done = cli(apps, "wsgiapp:application", "--request", "FETCH", "--request", "GET /hi?name=a", "--no-analysis")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "probe 1 FETCH: error: not a request line: 'FETCH'" in done.stdout
    assert "probe 2 GET /hi?name=a: same answer as a fresh process" in done.stdout


def test_a_callable_that_raises_is_reported_and_the_others_run(tmp_path):
    (tmp_path / "calc.py").write_text("def invert(x):\n    return 1 / x\n")
    done = cli(tmp_path, "calc:invert", "--call", "0", "--call", "4", "--call", "not a literal(", "--no-analysis")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "probe 1 0: same answer as a fresh process (raised ZeroDivisionError: division by zero)" in done.stdout
    assert "probe 2 4: same answer as a fresh process (0.25)" in done.stdout
    assert "probe 3 not a literal(: error: not a Python literal" in done.stdout


_memo: dict[str, str] = {}


def greet(name: str) -> str:
    return _memo.setdefault("greeting", f"hello {name}")


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
@pytest.mark.parametrize("fresh", ["fork", "subprocess", "auto"])
def test_the_python_api_on_a_plain_callable(fresh):
    root = Path(__file__).resolve().parent
    finding = StaticFinding("SL102", "test_replay.py", 1, "module dict")
    findings = Findings({"test_replay._memo": [finding]})
    _memo.clear()
    try:
        result = replay(greet, ["ann", "bob"], root=root, findings=findings, fresh=fresh)
    finally:
        _memo.clear()
    assert result.exit_status() == 1, result.report()
    second = result.probes[1]
    assert second.differs and second.here is not None and second.fresh is not None
    assert (second.here.value, second.fresh.value) == ("hello ann", "hello bob")
    assert [(leak.path, leak.restored_gives_fresh) for leak in second.leaks] == [("test_replay._memo", True)]
    assert second.leaks[0].finding == finding


def test_a_finding_that_names_several_objects_is_linked_to_each():
    member = {"object": "app.B._help", "message": "`_help` of `B`", "fingerprint": "f2", "definition": None}
    grouped = {
        "code": "SL101",
        "path": "app.py",
        "line": 5,
        "object": "app.A._help",
        "message": "`_help` of `A`; the same change is also reported for 1 other shared object: `app.B._help`",
        "members": [
            {"object": "app.A._help", "message": "`_help` of `A`", "fingerprint": "f1", "definition": None},
            member,
        ],
    }
    alone = {"code": "SL102", "path": "app.py", "line": 9, "object": "app.CACHE", "message": "one dict"}
    findings = parse({"findings": [grouped, alone]})
    assert findings.objects() == ["app.A._help", "app.B._help", "app.CACHE"]
    assert findings.for_object("app.B._help") == StaticFinding("SL101", "app.py", 5, "`_help` of `B`")
    assert findings.for_object("app.CACHE") == StaticFinding("SL102", "app.py", 9, "one dict")


REUSED = "same answer as a fork after import that answered earlier inputs and left every watched object unchanged"


def test_a_pristine_fork_answers_many_inputs_and_fork_mode_forks_each(tmp_path):
    pids = tmp_path / "pids.txt"
    (tmp_path / "svc.py").write_text(
        textwrap.dedent(
            f"""
            import os

            def double(x):
                with open({str(pids)!r}, "a") as log:
                    log.write(f"{{os.getpid()}}\\n")
                return x * 2
            """
        )
    )
    calls = each("--call", ["1", "2", "3", "4"])
    done = cli(tmp_path, "svc:double", *calls, "--no-analysis")
    assert done.returncode == 0, done.stdout + done.stderr
    # This process answers the first input (fresh: nothing ran before it); one fork the others.
    assert len(set(pids.read_text().split())) == 2
    assert "probe 2 2: same answer as a fresh process (4)" in done.stdout
    assert f"probe 3 3: {REUSED} (6)" in done.stdout
    pids.unlink()
    done = cli(tmp_path, "svc:double", *calls, "--no-analysis", "--fresh", "fork")
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(set(pids.read_text().split())) == 4
    assert REUSED not in done.stdout


def test_what_a_reused_fork_cannot_see_and_fork_mode_can(tmp_path):
    # A closure is not watched: the reused fork ran input 1 as this process did, so both say 2
    # for input 2, and the report says exactly that; a fork per input proves the leak.
    (tmp_path / "counter.py").write_text(
        textwrap.dedent(
            """
            def _make():
                seen = []

                def count(x):
                    if x:
                        seen.append(x)
                    return len(seen)

                return count

            count = _make()
            """
        )
    )
    calls = each("--call", ["0", "1", "2"])
    done = cli(tmp_path, "counter:count", *calls, "--no-analysis")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"probe 3 2: {REUSED} (2)" in done.stdout
    done = cli(tmp_path, "counter:count", *calls, "--no-analysis", "--fresh", "fork")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "probe 3 2: DIFFERS from a fresh process" in done.stdout
    assert "no watched object changed since the start" in done.stdout


def test_a_difference_against_a_reused_fork_is_confirmed_in_a_fork_of_its_own(tmp_path):
    # The answer depends on how many times the function ran in this process: the reused fork
    # answers 2 for the third input, this process 3; only a fork that ran the input alone (1)
    # may stand for a fresh process in the report.
    (tmp_path / "counter.py").write_text(
        textwrap.dedent(
            """
            def _make():
                calls = []

                def count(x):
                    calls.append(x)
                    return len(calls)

                return count

            count = _make()
            """
        )
    )
    done = cli(tmp_path, "counter:count", *each("--call", ["1", "2", "3"]), "--no-analysis", "--json")
    assert done.returncode == 1, done.stdout + done.stderr
    third = json.loads(done.stdout)["probes"][2]
    assert (third["answer"], third["fresh_answer"], third["fresh_from_reused_fork"]) == ("3", "1", False)


def test_a_finding_without_an_object_is_linked_at_the_line_that_wrote(tmp_path):
    (tmp_path / "hits.py").write_text(
        "count = 0\n\n\ndef hit(x):\n    global count\n    count += 1\n    return count\n"
    )
    finding = {"code": "SL201", "path": "hits.py", "line": 6, "message": "rebinds a module global", "object": None}
    (tmp_path / "findings.json").write_text(json.dumps({"findings": [finding]}))
    done = cli(tmp_path, "hits:hit", *each("--call", ["1", "2"]), "--findings", "findings.json")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "written at hits.py:6 (during probe 1)" in done.stdout
    assert "predicted by SL201 at hits.py:6" in done.stdout
