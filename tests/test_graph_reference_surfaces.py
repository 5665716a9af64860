"""References on every surface: the real `aether mcp` (mcp SDK client), `aether lsp`
(pytest-lsp) and the CLI, on the reference fixture of tests/test_graph_references.py."""

from __future__ import annotations

import json
from pathlib import Path

from lsprotocol import types

from tests.test_cli import aether
from tests.test_graph_edges import make_repo
from tests.test_graph_references import PY_FILES
from tests.test_lsp import _line_of, lsp
from tests.test_mcp import connect, ok, wait_idle


def repo(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    make_repo(root, PY_FILES)
    return root


async def test_mcp_callers_count_and_list_references_and_impact_follows_them(
        tmp_path: Path) -> None:
    root = repo(tmp_path)
    async with connect(root) as session:
        await wait_idle(session)
        helper = await ok(session, "aether_callers", {"qualified_name": "helper"})
        assert helper["callers"] == [] and helper["reference_count"] == 2
        assert helper["references"] == []
        listed = await ok(session, "aether_callers",
                          {"qualified_name": "helper", "include_references": True})
        assert {(e["file_path"], e["line"], e["kind"], e["provenance"],
                 e["caller"]["qualified_name"]) for e in listed["references"]} == {
            ("pkg/use.py", 7, "reference", "import", "A.m"),
            ("pkg/use.py", 8, "reference", "import", "A.m")}
        base = await ok(session, "aether_callers",
                        {"qualified_name": "Base", "include_references": True})
        assert base["reference_count"] == 3  # class A(Base), -> Base, isinstance(zs, Base)
        # a changed base class impacts its subclass and the methods that name it
        impact = await ok(session, "aether_impact", {"symbols": ["Base"], "depth": 1})
        assert {(s["symbol"]["qualified_name"], s["depth"]) for s in impact["callers"]} == {
            ("A", 1), ("A.m", 1)}


async def test_lsp_references_include_reference_sites(tmp_path: Path) -> None:
    root = repo(tmp_path)
    async with lsp(root) as s:
        await s.idle()
        base = s.open("pkg/base.py")
        helper_line = _line_of(root, "pkg/base.py", "def helper")
        refs = await s.client.text_document_references_async(types.ReferenceParams(
            text_document=types.TextDocumentIdentifier(uri=base),
            position=types.Position(line=helper_line, character=5),
            context=types.ReferenceContext(include_declaration=False)))
        assert refs is not None
        assert sorted((r.uri.rsplit("/", 1)[-1], r.range.start.line, r.range.start.character)
                      for r in refs) == [("use.py", 6, 17), ("use.py", 7, 28)]


def test_cli_callers_references(tmp_path: Path) -> None:
    root = repo(tmp_path)
    ws = ("--workspace", str(root))
    assert aether("index", *ws).returncode == 0
    res = aether("callers", "Base", *ws)
    assert res.returncode == 0, res.stderr
    assert "3 reference(s) without a call" in res.stdout
    res = aether("callers", "Base", "--references", *ws)
    assert "references (3):" in res.stdout
    assert "pkg/use.py:5  A  [import]" in res.stdout
    data = json.loads(aether("callers", "Base", "--references", "--json", *ws).stdout)
    assert {(e["line"], e["kind"]) for e in data["references"]} == {
        (5, "reference"), (6, "reference"), (10, "reference")}
