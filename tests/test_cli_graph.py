"""`aether outline|source|callers|callees|impact` as a user runs them: real subprocesses on
the fixture repository of tests/test_graph_edges.py."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import write
from tests.test_cli import aether
from tests.test_graph_edges import PY_FILES, make_repo
from tests.test_mcp_graph import git


def test_graph_commands_text_and_json(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    make_repo(root, PY_FILES)
    ws = ("--workspace", str(root))
    assert aether("index", *ws).returncode == 0

    res = aether("outline", "pkg/models.py", *ws)
    assert res.returncode == 0, res.stderr
    assert [line.split()[-1] for line in res.stdout.splitlines()
            if line.strip()[:1].isdigit()] == ["Model", "Model.save", "Model.validate",
                                                "helper"]
    outline = json.loads(aether("outline", "pkg/models.py", "--json", *ws).stdout)
    assert outline["symbols"][0]["children"][0]["qualified_name"] == "Model.save"

    src = json.loads(aether("source", "Model.validate", "--json", *ws).stdout)
    assert src["source"] == "def validate(self):\n        return helper(1)"
    assert "return helper(1)" in aether("source", "Model.validate", *ws).stdout

    res = aether("callers", "pkg/models.py:13", *ws)
    assert res.returncode == 0, res.stderr
    assert "pkg/use.py:11  run  [import]" in res.stdout
    assert "3 resolved" in res.stdout
    data = json.loads(aether("callers", "Model.validate", "--depth", "2", "--json", *ws).stdout)
    assert {(e["depth"], e["caller"]["qualified_name"]) for e in data["callers"]} == {
        (1, "Model.save"), (2, "run")}

    res = aether("callees", "run", *ws)
    assert "external: builtins.len, os.getcwd" in res.stdout
    assert "unresolved: unknown_thing" in res.stdout
    data = json.loads(aether("callees", "run", "--json", *ws).stdout)
    assert data["coverage"]["resolved"] == 5 and data["coverage"]["ambiguous"] == 1

    git(root, "init", "-q")
    git(root, "add", "pkg")
    git(root, "commit", "-q", "-m", "fixture")
    write(root, "pkg/other.py", PY_FILES["pkg/other.py"].replace("return 1\n", "return 5\n", 1))
    data = json.loads(aether("impact", "--ref", "HEAD", "--json", *ws).stdout)
    assert [s["symbol"]["qualified_name"] for s in data["changed"]] == ["helper"]
    assert [s["symbol"]["qualified_name"] for s in data["callers"]] == ["run"]
    data = json.loads(aether("impact", "pkg/models.py:9", "--json", "--depth", "1", *ws).stdout)
    assert [s["symbol"]["qualified_name"] for s in data["changed"]] == ["Model.validate"]
    assert [s["symbol"]["qualified_name"] for s in data["callers"]] == ["Model.save"]


def test_impact_against_git_in_a_workspace_inside_a_bigger_repository(tmp_path: Path) -> None:
    repo = tmp_path / "monorepo"
    root = repo / "packages" / "app"
    make_repo(root, PY_FILES)
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "fixture")
    write(repo, "README", "a change outside the workspace\n")
    write(root, "pkg/other.py", PY_FILES["pkg/other.py"].replace("return 1\n", "return 5\n", 1))
    ws = ("--workspace", str(root))
    assert aether("index", *ws).returncode == 0
    data = json.loads(aether("impact", "--ref", "HEAD", "--json", *ws).stdout)
    assert [s["symbol"]["qualified_name"] for s in data["changed"]] == ["helper"]
    assert [s["symbol"]["qualified_name"] for s in data["callers"]] == ["run"]


def test_graph_commands_refuse_bad_input(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    make_repo(root, PY_FILES)
    ws = ("--workspace", str(root))
    assert aether("index", *ws).returncode == 0
    for args, message in ((("callers", "nope"), "unknown symbol: nope"),
                          (("callers", "run", "--depth", "99"), "depth must be between 1 and 3"),
                          (("source", "run", "--max-tokens", "0"), "max_tokens must be between"),
                          (("outline", "../x.py"), "outside the workspace"),
                          (("impact",), "exactly one"),
                          (("impact", "--ref", "HEAD"), "not in a git repository"),
                          (("callees", "helper"), "2 symbols are named 'helper'")):
        res = aether(*args, *ws)
        assert res.returncode != 0, args
        assert message in res.stderr, (args, res.stderr)
        assert "Traceback" not in res.stderr


def test_an_overloaded_function_is_one_symbol_with_its_callers(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    make_repo(root, {"ctx.py": '''
        from typing import overload


        class Context:
            @overload
            def invoke(self, cb: int) -> int: ...

            @overload
            def invoke(self, cb: str) -> str: ...

            def invoke(self, cb):
                return cb


        def run():
            c = Context()
            return c.invoke(1)
        '''})
    ws = ("--workspace", str(root))
    assert aether("index", *ws).returncode == 0
    # three signatures, one symbol: named alone, with its call resolved (not "one of 3")
    res = aether("callers", "Context.invoke", "--json", *ws)
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["answer"] == "has_callers"
    assert [(e["caller"]["qualified_name"], e["provenance"]) for e in data["callers"]] == [
        ("run", "local")]
    src = json.loads(aether("source", "Context.invoke", "--json", *ws).stdout)["source"]
    assert src.startswith("@overload") and src.endswith("return cb")


def test_a_qualified_name_may_use_any_languages_separator(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    make_repo(root, {
        "src/lib.rs": '''
            struct Counter { n: u32 }
            impl Counter {
                fn bump(&mut self) { self.n += 1; }
            }
            ''',
        "cache.cpp": "namespace ns { class Cache { public: int get() { return 1; } }; }\n",
        "Query.php": "<?php\nnamespace Http\\Psr7;\n"
                     "final class Query { public static function parse($s) { return []; } }\n",
    })
    ws = ("--workspace", str(root))
    assert aether("index", *ws).returncode == 0
    # stored as `Counter.bump` and `ns::Cache::get`; asked the way each is written
    for asked, stored in (("Counter::bump", "Counter.bump"), ("Counter.bump", "Counter.bump"),
                          ("ns.Cache.get", "ns::Cache::get"),
                          ("ns::Cache::get", "ns::Cache::get"),
                          # no symbol has the whole name asked: the ones it ends
                          ("Cache::get", "ns::Cache::get"),
                          ("Query::parse", "Http\\Psr7\\Query::parse"),
                          ("Psr7.Query.parse", "Http\\Psr7\\Query::parse")):
        res = aether("source", asked, "--json", *ws)
        assert res.returncode == 0, (asked, res.stderr)
        assert json.loads(res.stdout)["symbol"]["qualified_name"] == stored, asked
    res = aether("source", "Counter::missing", *ws)
    assert res.returncode != 0 and "unknown symbol: Counter::missing" in res.stderr
    res = aether("source", "ache::get", *ws)  # a suffix ends at a separator, not mid-name
    assert res.returncode != 0 and "unknown symbol: ache::get" in res.stderr


def test_a_skipped_file_says_why_it_has_no_symbols(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    make_repo(root, {"pkg/app.py": "def run():\n    return 1\n"})
    (root / "pkg" / "blob.py").write_bytes(b"def f():\n    return 1\n\x00\x01" * 20)
    ws = ("--workspace", str(root))
    assert aether("index", *ws).returncode == 0
    res = aether("outline", "pkg/blob.py", *ws)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == ("no symbols indexed in pkg/blob.py "
                                  "(pkg/blob.py is not indexed: binary content)")
    res = aether("source", "pkg/blob.py:1", *ws)
    assert res.returncode != 0
    assert res.stderr.strip().endswith(
        "no symbol encloses pkg/blob.py:1 (pkg/blob.py is not indexed: binary content)")
