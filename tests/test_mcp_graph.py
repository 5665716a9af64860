"""The call-graph MCP tools end to end: the real `aether mcp` over stdio, driven by the `mcp`
SDK client, on a fixture repository whose call graph is known (tests/test_graph_edges.py)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.helpers import write
from tests.test_graph_edges import PY_FILES, make_repo
from tests.test_mcp import connect, error, ok, wait_idle

GRAPH_TOOLS = {"aether_file_outline", "aether_get_source", "aether_callers", "aether_callees",
               "aether_impact", "aether_context"}


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
                   cwd=root, check=True, capture_output=True)


def repo(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    make_repo(root, PY_FILES)
    git(root, "init", "-q")
    git(root, "add", "pkg")
    git(root, "commit", "-q", "-m", "fixture")
    return root


def sites(edges: list[dict]) -> set[tuple[str, int, str, str]]:
    return {(e["file_path"], e["line"], e["provenance"],
             (e["caller"] or e["target"] or {}).get("qualified_name", e["callee"]))
            for e in edges}


async def test_graph_tools_answer_with_provenance_and_coverage(tmp_path: Path) -> None:
    root = repo(tmp_path)
    async with connect(root) as session:
        await wait_idle(session)
        tools = {t.name: t for t in (await session.list_tools()).tools}
        assert set(tools) >= GRAPH_TOOLS
        for name in GRAPH_TOOLS:
            assert tools[name].output_schema is not None, name
            assert tools[name].annotations is not None
            assert tools[name].annotations.read_only_hint is True

        outline = await ok(session, "aether_file_outline", {"file": "pkg/models.py"})
        assert [(n["qualified_name"], [c["qualified_name"] for c in n["children"]])
                for n in outline["symbols"]] == [
            ("Model", ["Model.save", "Model.validate"]), ("helper", [])]
        assert outline["symbol_count"] == 4
        assert all(n["intent"] and n["sir_status"] == "ok" for n in outline["symbols"])

        src = await ok(session, "aether_get_source", {"qualified_name": "Model.save"})
        assert src["source"] == ("def save(self):\n        self.validate()\n"
                                 '        return osp.join("a", "b")')
        assert (src["start_line"], src["end_line"]) == (5, 7)
        raw = (root / "pkg/models.py").read_bytes()
        assert raw[src["start_byte"]:src["end_byte"]].decode() == src["source"]
        assert src["changed_since_sir"] is False and src["truncated"] is False
        around = await ok(session, "aether_get_source",
                          {"qualified_name": "Model.save", "context_lines": 1})
        assert around["source"].startswith("class Model:\n") and around["start_line"] == 4
        cut = await ok(session, "aether_get_source",
                       {"qualified_name": "Model.save", "max_tokens": 5})
        assert cut["truncated"] is True and len(cut["source"]) <= 20

        helper = {"file": "pkg/models.py", "line": 13}
        callers = await ok(session, "aether_callers", helper)
        assert callers["answer"] == "has_callers"
        assert sites(callers["callers"]) == {
            ("pkg/models.py", 10, "local", "Model.validate"),
            ("pkg/models.py", 16, "local", "helper"),
            ("pkg/use.py", 11, "import", "run")}
        assert callers["coverage"]["resolved"] == 3
        deep = await ok(session, "aether_callers", {"qualified_name": "Model.validate",
                                                    "depth": 2})
        assert {(e["depth"], e["caller"]["qualified_name"]) for e in deep["callers"]} == {
            (1, "Model.save"), (2, "run")}

        maybe = await ok(session, "aether_callers", {"qualified_name": "Worker.process"})
        assert maybe["answer"] == "unknown" and maybe["callers"] == []
        assert [(e["caller"]["qualified_name"], e["candidate_count"])
                for e in maybe["ambiguous"]] == [("run", 2)]
        assert maybe["coverage"]["ambiguous"] == 1 and "ambiguous" in maybe["note"]
        nobody = await ok(session, "aether_callers", {"qualified_name": "Job"})
        assert nobody["answer"] == "no_callers" and nobody["coverage"]["unresolved"] == 0

        callees = await ok(session, "aether_callees", {"qualified_name": "run"})
        assert callees["answer"] == "has_callees"
        assert {e["target"]["qualified_name"] for e in callees["callees"]} == {
            "Model", "Model.save", "helper", "run"}
        assert {e["external_target"] for e in callees["external"]} == {
            "os.getcwd", "builtins.len"}
        assert [e["callee"] for e in callees["unresolved"]] == ["unknown_thing"]
        assert [len(e["candidates"]) for e in callees["ambiguous"]] == [2]
        assert callees["coverage"] | {"by_provenance": {}} == {
            "resolved": 5, "ambiguous": 1, "external": 2, "unresolved": 1,
            "by_provenance": {}, "truncated": False, "graph_complete": True}

        context = await ok(session, "aether_context",
                           {"qualified_name": "Model.save", "max_tokens": 2000})
        assert context["sir"]["intent"] and "self.validate()" in context["source"]
        assert [c["qualified_name"] for c in context["callers"]] == ["run"]
        assert [c["qualified_name"] for c in context["callees"]] == ["Model.validate"]
        assert context["tokens_used"] <= 2000 and context["truncated"] is False
        tight = await ok(session, "aether_context",
                         {"qualified_name": "Model.save", "max_tokens": 60})
        assert tight["truncated"] is True and tight["tokens_used"] <= 60

        # impact of an uncommitted edit, through git diff
        write(root, "pkg/models.py",
              PY_FILES["pkg/models.py"].replace("return helper(n - 1)", "return helper(n - 2)"))
        impact = await ok(session, "aether_impact", {"git_ref": "HEAD"})
        assert [s["symbol"]["qualified_name"] for s in impact["changed"]] == ["helper"]
        assert {(s["symbol"]["qualified_name"], s["depth"]) for s in impact["callers"]} == {
            ("Model.validate", 1), ("run", 1), ("Model.save", 2)}
        by_file = await ok(session, "aether_impact", {"files": ["pkg/other.py"], "depth": 1})
        assert {s["symbol"]["qualified_name"] for s in by_file["changed"]} == {
            "helper", "Worker", "Worker.process"}
        assert [s["symbol"]["qualified_name"] for s in by_file["callers"]] == ["run"]


async def test_graph_tools_refuse_bad_input_plainly(tmp_path: Path) -> None:
    root = repo(tmp_path)
    (root / "pkg" / "blob.py").write_bytes(b"def f():\n    return 1\n\x00\x01\x02" * 50)
    write(root, "pkg/consts.py", "LIMIT = 10\n")
    write(root, "pkg/NOTES.md", "# notes\n")
    async with connect(root) as session:
        await wait_idle(session)
        # a file with no symbols says why: skipped (and the reason), no language, or none
        for file, note in (("pkg/blob.py", "pkg/blob.py is not indexed: binary content"),
                           ("pkg/NOTES.md", "pkg/NOTES.md is not indexed: no supported "
                                            "language"),
                           ("pkg/consts.py", "no symbols: module-level code only")):
            outline = await ok(session, "aether_file_outline", {"file": file})
            assert (outline["symbol_count"], outline["note"]) == (0, note), file
        assert "(pkg/blob.py is not indexed: binary content)" in await error(
            session, "aether_get_source", {"file": "pkg/blob.py", "line": 1})
        assert "(pkg/blob.py is not indexed: binary content)" in await error(
            session, "aether_explain", {"file": "pkg/blob.py", "line": 1})
        assert "(the file has no symbols)" in await error(
            session, "aether_explain", {"file": "pkg/consts.py", "line": 1})
        assert "unknown symbol: nope" in await error(session, "aether_callers",
                                                     {"qualified_name": "nope"})
        ambiguous = await error(session, "aether_callees", {"qualified_name": "helper"})
        assert "2 symbols are named 'helper'" in ambiguous
        # both are `helper`: the way to pick one is its id or its place, not its name again
        assert "Pass one of these as symbol_id, or file and line:" in ambiguous
        assert "outside the workspace" in await error(session, "aether_file_outline",
                                                      {"file": "../etc/passwd"})
        assert "no such file" in await error(session, "aether_file_outline",
                                             {"file": "pkg/nothing.py"})
        assert "depth" in await error(session, "aether_callers",
                                      {"qualified_name": "run", "depth": 99})
        assert "max_tokens" in await error(session, "aether_context",
                                           {"qualified_name": "run", "max_tokens": 0})
        assert "max_tokens" in await error(session, "aether_get_source",
                                           {"qualified_name": "run", "max_tokens": 0})
        assert "exactly one" in await error(session, "aether_impact", {})
        assert "exactly one" in await error(session, "aether_impact",
                                            {"files": ["pkg/use.py"], "git_ref": "HEAD"})
        assert "git diff" in await error(session, "aether_impact", {"git_ref": "no-such-rev"})
        assert "not a git revision" in await error(session, "aether_impact",
                                                   {"git_ref": "--output=/tmp/x"})
        # ... and the server keeps serving
        assert (await ok(session, "aether_callers", {"qualified_name": "run"}))["answer"]
