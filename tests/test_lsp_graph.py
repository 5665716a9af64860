"""The call graph in an editor: the real `aether lsp` over stdio, driven by pytest-lsp's
client, on the fixture repository of tests/test_graph_edges.py."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types

from tests.fakeprovider import FakeProvider
from tests.helpers import trusted_config, write
from tests.test_graph_edges import PY_FILES, make_repo
from tests.test_lsp import _line_of, eventually, lsp
from tests.test_mcp_graph import git


def doc(uri: str) -> types.TextDocumentIdentifier:
    return types.TextDocumentIdentifier(uri=uri)


def pos(line: int, character: int) -> types.Position:
    return types.Position(line=line, character=character)


async def test_outline_call_hierarchy_definition_references_and_lenses(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    make_repo(root, PY_FILES)
    git(root, "init", "-q")
    git(root, "add", "pkg")
    git(root, "commit", "-q", "-m", "fixture")
    async with lsp(root) as s:
        await s.idle()
        client = s.client
        models = s.open("pkg/models.py")
        use = s.open("pkg/use.py")

        outline = await client.text_document_document_symbol_async(
            types.DocumentSymbolParams(text_document=doc(models)))
        assert outline is not None
        tree = [(d.name, [c.name for c in d.children or []]) for d in outline
                if isinstance(d, types.DocumentSymbol)]
        assert tree == [("Model", ["save", "validate"]), ("helper", [])]

        helper_line = _line_of(root, "pkg/models.py", "def helper")
        items = await client.text_document_prepare_call_hierarchy_async(
            types.CallHierarchyPrepareParams(text_document=doc(models),
                                             position=pos(helper_line, 5)))
        assert items is not None and [i.name for i in items] == ["helper"]
        incoming = await client.call_hierarchy_incoming_calls_async(
            types.CallHierarchyIncomingCallsParams(item=items[0]))
        assert incoming is not None
        assert {(c.from_.name, c.from_ranges[0].start.line) for c in incoming} == {
            ("Model.validate", 9), ("helper", 15), ("run", 10)}
        assert {c.from_.detail for c in incoming if c.from_.name == "run"} == {
            "pkg/use.py · import"}

        run_line = _line_of(root, "pkg/use.py", "def run")
        (run_item,) = await client.text_document_prepare_call_hierarchy_async(
            types.CallHierarchyPrepareParams(text_document=doc(use),
                                             position=pos(run_line, 5))) or []
        outgoing = await client.call_hierarchy_outgoing_calls_async(
            types.CallHierarchyOutgoingCallsParams(item=run_item))
        assert outgoing is not None
        names = {(c.to.name, "ambiguous" in (c.to.detail or "")) for c in outgoing}
        assert names == {("Model", False), ("Model.save", False), ("helper", False),
                         ("run", False), ("Worker.process", True), ("Job.process", True)}

        h_line = _line_of(root, "pkg/use.py", "h(3)")
        found = await client.text_document_definition_async(types.DefinitionParams(
            text_document=doc(use), position=pos(h_line, 4)))
        assert isinstance(found, list)
        assert [(loc.uri, loc.range.start.line) for loc in found] == [(models, helper_line)]
        w_line = _line_of(root, "pkg/use.py", "w.process()")
        found = await client.text_document_definition_async(types.DefinitionParams(
            text_document=doc(use), position=pos(w_line, 7)))
        assert isinstance(found, list)
        assert sorted(loc.uri.rsplit("/", 1)[-1] for loc in found) == ["other.py", "third.py"]
        len_line = _line_of(root, "pkg/use.py", "len(")
        assert await client.text_document_definition_async(types.DefinitionParams(
            text_document=doc(use), position=pos(len_line, 5))) is None

        refs = await client.text_document_references_async(types.ReferenceParams(
            text_document=doc(models), position=pos(helper_line, 5),
            context=types.ReferenceContext(include_declaration=True)))
        assert refs is not None
        assert sorted((r.uri.rsplit("/", 1)[-1], r.range.start.line) for r in refs) == [
            ("models.py", 9), ("models.py", 12), ("models.py", 15), ("use.py", 10)]

        lenses = await client.text_document_code_lens_async(
            types.CodeLensParams(text_document=doc(models)))
        assert lenses is not None
        titles = {(lens.range.start.line, lens.command.title) for lens in lenses
                  if lens.command}
        assert titles == {(3, "1 caller · SIR ok"), (4, "1 caller · SIR ok"),
                          (8, "1 caller · SIR ok"), (12, "3 callers · SIR ok")}
        assert all(lens.command and lens.command.command == "aether.refreshSymbol"
                   for lens in lenses)

        # aether.impact: what the uncommitted edit touches
        write(root, "pkg/other.py",
              PY_FILES["pkg/other.py"].replace("return 1\n", "return 4\n", 1))
        impact = await s.command("aether.impact", {"ref": "HEAD", "depth": 1})
        assert [c["symbol"]["qualified_name"] for c in impact["changed"]] == ["helper"]
        assert [c["symbol"]["qualified_name"] for c in impact["callers"]] == ["run"]
        assert (await s.command("aether.impact"))["git_ref"] == "HEAD"
        for bad in ({"ref": 3}, {"ref": "no-such-rev"}, {"ref": "HEAD", "depth": 99}):
            try:
                await s.command("aether.impact", bad)
            except Exception as exc:  # a JSON-RPC error, never a crash
                assert "ref" in str(exc) or "git diff" in str(exc) or "depth" in str(exc)
            else:
                raise AssertionError(f"aether.impact accepted {bad}")


async def test_code_lens_command_regenerates_a_stale_sir(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    make_repo(root, PY_FILES)
    rel = "pkg/models.py"
    with FakeProvider() as fake:
        trusted_config(root, "inference", {
            "provider": "openai", "endpoint": fake.endpoint("openai"), "model": "fake-model",
            "timeout_s": 2.0, "deadline_s": 4.0, "max_attempts": 2, "backoff_base_s": 0.01,
            "backoff_cap_s": 0.02, "breaker_threshold": 2, "breaker_cooldown_s": 0.3,
            "retry_stale_s": 3600.0, "requests_per_minute": 100_000.0})
        async with lsp(root) as s:
            await s.idle()
            uri = s.open(rel)
            line = _line_of(root, rel, "def helper")

            async def lens_title() -> str | None:
                lenses = await s.client.text_document_code_lens_async(
                    types.CodeLensParams(text_document=doc(uri))) or []
                for lens in lenses:
                    if lens.range.start.line == line and lens.command:
                        return lens.command.title
                return None

            assert await lens_title() == "3 callers · SIR ok"
            fake.set_default("503")
            text = (root / rel).read_text().replace("return helper(n - 1)",
                                                    "return helper(n - 2)")
            write(root, rel, text)
            s.replace(uri, text)
            s.save(uri)

            async def stale() -> bool:
                return await lens_title() == "3 callers · SIR stale"

            await eventually(stale)
            lenses = await s.client.text_document_code_lens_async(
                types.CodeLensParams(text_document=doc(uri))) or []
            (command,) = [lens.command for lens in lenses
                          if lens.range.start.line == line and lens.command]
            fake.set_default("ok")

            async def regenerated() -> bool:
                res = await s.command(command.command, *(command.arguments or []))
                return bool(res["sir_status"] == "ok" and res["qualified_name"] == "helper")

            await eventually(regenerated)
            assert await lens_title() == "3 callers · SIR ok"


async def test_stored_columns_reach_the_client_in_utf16(tmp_path: Path) -> None:
    """Stored columns are bytes; a call after `é` and `😀` on its line, a method after a
    non-ASCII name, land where the editor counts them (UTF-16 code units)."""
    root = tmp_path / "ws"
    write(root, "pkg/__init__.py", "")
    write(root, "pkg/uni.py",
          'def target():\n    return 1\n\n\n'
          'def caller():\n    s = "héllo😀"; return target()\n\n\n'
          'class Ünï:  # ü\n    def meth(self):\n        return target()\n')
    line = '    s = "héllo😀"; return target()'
    want = len(line[:line.index("target")].encode("utf-16-le")) // 2
    assert want != len(line[:line.index("target")].encode("utf-8"))  # the case is real
    async with lsp(root) as s:
        await s.idle()
        uri = s.open("pkg/uni.py")
        refs = await s.client.text_document_references_async(types.ReferenceParams(
            text_document=doc(uri), position=pos(0, 5),
            context=types.ReferenceContext(include_declaration=False)))
        assert refs is not None
        sites = sorted((r.range.start.line, r.range.start.character, r.range.end.character)
                       for r in refs)
        assert sites == [(5, want, want + 6), (10, 15, 21)]
        (item,) = await s.client.text_document_prepare_call_hierarchy_async(
            types.CallHierarchyPrepareParams(text_document=doc(uri),
                                             position=pos(5, want + 1))) or []
        assert item.name == "caller"
        outgoing = await s.client.call_hierarchy_outgoing_calls_async(
            types.CallHierarchyOutgoingCallsParams(item=item)) or []
        assert [(c.to.name, c.from_ranges[0].start.character) for c in outgoing] == [
            ("target", want)]
        found = await s.client.text_document_definition_async(types.DefinitionParams(
            text_document=doc(uri), position=pos(5, want + 6)))  # the cursor just after the name
        assert isinstance(found, list) and [loc.range.start for loc in found] == [pos(0, 4)]
        symbols = await s.client.workspace_symbol_async(
            types.WorkspaceSymbolParams(query="caller"))
        ranges = {sym.name: sym.location.range for sym in symbols or []
                  if isinstance(sym, types.SymbolInformation)}
        # `caller` ends with the non-ASCII line
        assert ranges["caller"].end == pos(5, len(line.encode("utf-16-le")) // 2)
