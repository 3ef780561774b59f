from __future__ import annotations

import json
import re
import shutil
import sys
import textwrap
from pathlib import Path

import pytest

CACHE = """
class Cache:
    items = {}

    def put(self, key, value):
        self.items[key] = value
"""


def write(pytester: pytest.Pytester, **files: str) -> None:
    for name, text in files.items():
        path = pytester.path / (name if "." in name else f"{name}.py")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def test_inert_without_the_flag(pytester, run_suite):
    write(pytester, **{"app/__init__.py": "", "app/cache.py": CACHE})
    write(pytester, test_a="from app.cache import Cache\n\ndef test_a():\n    Cache().put('k', 1)\n")
    result = run_suite()
    result.assert_outcomes(passed=1)
    assert re.search(r"=+ stateleak =+", result.stdout.str()) is None


def test_class_dict_written_through_self_is_named(pytester, run_suite):
    write(pytester, **{"app/__init__.py": "", "app/cache.py": CACHE})
    write(
        pytester,
        test_cache="""
        from app.cache import Cache

        def test_put():
            Cache().put("user-1", {"name": "A"})

        def test_reads():
            assert Cache() is not None
        """,
    )
    result = run_suite("--stateleak", "--stateleak-json", "out.json")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "test_cache.py::test_put left shared state changed:",
            # The static finding it confirms follows when the analysis is on PATH.
            "    app.cache.Cache.items: 1 key added: 'user-1'*",
        ]
    )
    document = json.loads((pytester.path / "out.json").read_text())
    assert [(c["test"], c["object"], c["kind"]) for c in document["changes"]] == [
        ("test_cache.py::test_put", "app.cache.Cache.items", "mutated")
    ]
    # CPython 3.12+ tells which line changed a watched dict, as it happens.
    writer = "app/cache.py:6" if sys.version_info >= (3, 12) else None
    assert document["changes"][0]["writer"] == writer
    assert "test_reads" not in result.stdout.str().split("short test summary")[0].split("stateleak")[-1]


def test_module_dict_and_list_append(pytester, run_suite):
    write(
        pytester,
        **{
            "app/__init__.py": "",
            "app/store.py": "_prefs = {}\nlog = []\n\ndef remember(k, v):\n    _prefs[k] = v\n    log.append(k)\n",
        },
    )
    write(
        pytester, test_store="from app.store import remember\n\ndef test_remember():\n    remember('theme', 'dark')\n"
    )
    result = run_suite("--stateleak")
    result.stdout.fnmatch_lines(["    app.store._prefs: 1 key added: 'theme'*", "    app.store.log: 1 item appended*"])


def test_mutable_default(pytester, run_suite):
    write(
        pytester,
        **{
            "jobs/__init__.py": "",
            "jobs/runner.py": """
            class Runner:
                def __init__(self, plugins=[]):
                    self.plugins = plugins
                    self.plugins.append("audit")
            """,
        },
    )
    write(pytester, test_runner="from jobs.runner import Runner\n\ndef test_run():\n    Runner()\n")
    result = run_suite("--stateleak")
    result.stdout.fnmatch_lines(["    jobs.runner.Runner.__init__.<default plugins>: 1 item appended*"])


def test_os_environ(pytester, run_suite):
    write(pytester, test_env="import os\n\ndef test_sets():\n    os.environ['STATELEAK_DEMO'] = '1'\n")
    result = run_suite("--stateleak")
    result.stdout.fnmatch_lines(["    os.environ: 1 key added: 'STATELEAK_DEMO'"])


def test_restoring_fixtures_are_not_blamed(pytester, run_suite):
    write(pytester, **{"app/__init__.py": "", "app/cache.py": CACHE})
    write(
        pytester,
        test_restore="""
        import os
        import sys
        import pytest
        from app.cache import Cache

        @pytest.fixture
        def cached():
            Cache().put("temporary", 1)
            yield
            del Cache.items["temporary"]

        def test_with_monkeypatch(monkeypatch):
            monkeypatch.setenv("STATELEAK_DEMO", "1")
            monkeypatch.syspath_prepend("/nowhere")
            monkeypatch.setattr(Cache, "items", {"other": 2})

        def test_with_fixture(cached):
            assert "temporary" in Cache.items

        def test_chdir(tmp_path, monkeypatch):
            monkeypatch.chdir(tmp_path)
        """,
    )
    result = run_suite("--stateleak")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["no test left watched state changed (3 tests watched)"])


def test_lazy_initialisation_is_reported_once_not_blamed(pytester, run_suite):
    write(
        pytester,
        **{
            "app/__init__.py": "",
            "app/client.py": "_client = None\n\ndef client():\n    global _client\n"
            "    if _client is None:\n        _client = object()\n    return _client\n",
        },
    )
    write(
        pytester,
        test_client="from app.client import client\n\ndef test_a():\n    client()\n\ndef test_b():\n    client()\n",
    )
    result = run_suite("--stateleak")
    result.stdout.fnmatch_lines(
        [
            "lazy one-time initialisation (reported once, not blamed):",
            "    app.client._client: rebound from None to <object object at *> (during test_client.py::test_a)",
            "no test left watched state changed (2 tests watched)",
        ]
    )


def test_fail_mode_and_allow_list(pytester, run_suite):
    write(pytester, **{"app/__init__.py": "", "app/cache.py": CACHE, "app/memo.py": "memo = {}\n"})
    write(
        pytester,
        test_fail="""
        from app.cache import Cache
        from app import memo

        def test_leaks():
            Cache().put("k", 1)

        def test_intended_cache():
            memo.memo["k"] = 1
        """,
    )
    write(pytester, **{"pyproject.toml": '[tool.stateleak]\ndynamic-allow = ["app.memo.*"]\n'})
    result = run_suite("--stateleak=fail")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*stateleak: this test left shared state changed:*", "*app.cache.Cache.items*"])
    assert "app.memo.memo" not in result.stdout.str()


def test_a_bad_allow_list_is_a_usage_error(pytester, run_suite):
    write(pytester, test_a="def test_a():\n    pass\n")
    write(pytester, **{"pyproject.toml": '[tool.stateleak]\ndynamic-allow = "app.*"\n'})
    result = run_suite("--stateleak")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*stateleak: [[]tool.stateleak[]] dynamic-allow must be a list of strings*"])


def test_static_findings_are_linked_from_a_findings_file(pytester, run_suite):
    write(pytester, **{"app/__init__.py": "", "app/cache.py": CACHE})
    write(pytester, test_a="from app.cache import Cache\n\ndef test_a():\n    Cache().put('k', 1)\n")
    finding = {"code": "SL101", "path": "app/cache.py", "line": 6, "message": "m", "object": "app.cache.Cache.items"}
    write(pytester, **{"findings.json": json.dumps({"version": 1, "findings": [finding]})})
    result = run_suite("--stateleak", "--stateleak-findings", "findings.json", "--stateleak-json", "out.json")
    result.stdout.fnmatch_lines(["    app.cache.Cache.items: 1 key added: 'k' *(confirms SL101 at app/cache.py:6)"])
    change = json.loads((pytester.path / "out.json").read_text())["changes"][0]
    assert change["static_finding"]["code"] == "SL101"


def test_findings_without_object_field_degrade_with_a_note(pytester, run_suite):
    write(pytester, test_a="def test_a():\n    pass\n")
    write(pytester, **{"findings.json": json.dumps({"findings": [{"code": "SL101", "path": "x.py", "line": 1}]})})
    result = run_suite("--stateleak", "--stateleak-findings", "findings.json")
    result.stdout.fnmatch_lines(["note: the static analysis gave 1 finding(s) without an `object` field*"])


POLLUTED_SUITE = """
from app.cache import Cache

def test_a_clean():
    pass

def test_b_pollutes():
    Cache().put("user", "A")

def test_c_victim():
    assert "user" not in Cache.items
"""


def test_polluter_search_names_the_test_and_the_object(pytester, run_suite):
    write(pytester, **{"app/__init__.py": "", "app/cache.py": CACHE})
    write(pytester, test_order=POLLUTED_SUITE)
    result = run_suite("--stateleak", "--stateleak-json", "out.json")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            "test_order.py::test_b_pollutes leaves `app.cache.Cache.items` changed (1 key added: 'user'), "
            "written at app/cache.py:6*; test_order.py::test_c_victim fails after it and passes when that "
            "object is restored (`app.cache.Cache.items`)"
        ]
    )
    polluters = json.loads((pytester.path / "out.json").read_text())["polluters"]
    assert polluters[0]["polluter"] == "test_order.py::test_b_pollutes"
    assert polluters[0]["objects"][0]["writer"] == "app/cache.py:6"


def test_polluter_candidates_that_change_what_the_victim_reads_come_first(pytester, run_suite):
    write(
        pytester,
        **{"app/__init__.py": "", "app/store.py": "prefs = {}\nhistory = []\n"},
    )
    write(
        pytester,
        test_order="""
        from app import store

        def test_sets_a_pref():
            store.prefs["theme"] = "dark"

        def test_appends_history():
            store.history.append("visit")

        def test_victim():
            assert store.prefs == {}
        """,
    )
    result = run_suite("--stateleak", "--stateleak-json", "out.json")
    result.assert_outcomes(passed=2, failed=1)
    polluter = json.loads((pytester.path / "out.json").read_text())["polluters"][0]
    assert polluter["polluter"] == "test_order.py::test_sets_a_pref"
    # The closest earlier test changed only `history`, which the victim never reads: not run.
    assert polluter["candidates_tried"] == ["test_order.py::test_sets_a_pref"]


def test_polluter_search_under_xdist(pytester, run_suite):
    pytest.importorskip("xdist")
    write(pytester, **{"app/__init__.py": "", "app/cache.py": CACHE})
    write(pytester, test_order=POLLUTED_SUITE)
    write(pytester, test_other="def test_other_1():\n    pass\n\ndef test_other_2():\n    pass\n")
    result = run_suite("-p", "xdist", "-n", "2", "--dist", "loadfile", "--stateleak")
    result.assert_outcomes(passed=4, failed=1)
    result.stdout.fnmatch_lines(
        ["test_order.py::test_b_pollutes leaves `app.cache.Cache.items` changed*passes when that object is restored*"]
    )


def test_a_test_that_fails_alone_is_not_blamed_on_others(pytester, run_suite):
    write(pytester, **{"app/__init__.py": "", "app/cache.py": CACHE})
    write(
        pytester,
        test_alone="from app.cache import Cache\n\ndef test_b():\n    Cache().put('k', 1)\n\n"
        "def test_broken():\n    assert False\n",
    )
    result = run_suite("--stateleak")
    result.stdout.fnmatch_lines(["test_alone.py::test_broken fails when run alone too*"])


EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "remix"


def test_the_example_end_to_end_with_the_analysis_on_path(pytester, run_suite):
    shutil.copytree(EXAMPLE, pytester.path, dirs_exist_ok=True)
    write(
        pytester,
        test_remix="""
        from run import handle_request

        def test_song_a():
            assert handle_request("Song A", ["kick"]) == ["sample rendered for 'Song A'"]

        def test_song_b():
            assert handle_request("Song B", ["kick"]) == ["sample rendered for 'Song B'"]
        """,
    )
    result = run_suite("--stateleak")
    output = result.stdout.str()
    if "note: the `stateleak` command was not found" in output or "without an `object` field" in output:
        pytest.skip("the `stateleak` command on PATH gives no `object` field")
    result.stdout.fnmatch_lines(
        [
            "    remix.pattern.PatternRemixer._samplecache: 1 key added: 'kick' "
            "*(confirms SL101 at remix/pattern.py:12)",
            "test_remix.py::test_song_a leaves `remix.pattern.PatternRemixer._samplecache` changed (1 key added: "
            "'kick'), written at remix/pattern.py:12, predicted by SL101 at remix/pattern.py:12; "
            "test_remix.py::test_song_b fails after it and passes when that object is restored*",
        ]
    )
