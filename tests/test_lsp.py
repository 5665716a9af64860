"""`aether lsp` end to end: the real server in a subprocess, driven by pytest-lsp's client
over stdio, exactly as an editor would."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities, make_test_lsp_client

from tests.fakeprovider import FakeProvider
from tests.helpers import trusted_config, write

REPO = Path(__file__).resolve().parent.parent
STATUS_KEYS = {"state", "files_done", "files_total", "symbol_count", "sir_count",
               "stale_count", "pending_count", "circuit", "message"}


class Session:
    """A client connected to a fresh `aether lsp`, with what the server sent it."""

    def __init__(self, client: LanguageClient, root: Path) -> None:
        self.client = client
        self.root = root
        self.statuses: list[dict[str, Any]] = []
        self.versions: dict[str, int] = {}

    def uri(self, rel: str) -> str:
        return (self.root / rel).as_uri()

    def open(self, rel: str, text: str | None = None, language: str = "python") -> str:
        uri = self.uri(rel)
        if text is None:
            text = (self.root / rel).read_text(encoding="utf-8")
        self.versions[uri] = 1
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id=language, version=1,
                                                 text=text)))
        return uri

    def replace(self, uri: str, text: str) -> None:
        """A full-text didChange (unsaved edit)."""
        self.versions[uri] += 1
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri,
                                                                version=self.versions[uri]),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))

    def edit(self, uri: str, line: int, start: int, end: int, new: str) -> None:
        """An incremental didChange on one line (unsaved edit)."""
        self.versions[uri] += 1
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri,
                                                                version=self.versions[uri]),
            content_changes=[types.TextDocumentContentChangePartial(
                range=types.Range(start=types.Position(line=line, character=start),
                                  end=types.Position(line=line, character=end)),
                text=new)]))

    def save(self, uri: str) -> None:
        self.client.text_document_did_save(types.DidSaveTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=uri)))

    async def hover(self, uri: str, line: int, character: int = 8) -> str | None:
        result = await self.client.text_document_hover_async(types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line, character=character)))
        if result is None:
            return None
        assert isinstance(result.contents, types.MarkupContent)
        assert result.contents.kind == types.MarkupKind.Markdown
        return result.contents.value

    async def command(self, name: str, *args: Any) -> Any:
        return await self.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=name, arguments=list(args) or None))

    async def idle(self) -> dict[str, Any]:
        """Wait until the server reports an idle state after having started."""
        await eventually(lambda: self.statuses and self.statuses[-1]["state"] == "idle"
                         and self.statuses[-1]["symbol_count"] > 0)
        return self.statuses[-1]


async def eventually(check: Callable[[], Any], within: float = 60.0) -> Any:
    """Poll until `check()` is truthy: a bound on waiting, not a timing assertion."""
    deadline = time.monotonic() + within
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def lsp(root: Path, *, folders: bool = True,
              single_file: bool = False) -> AsyncIterator[Session]:
    """`single_file`: no root and no folders, as an editor's single-file mode sends, with
    the server started in the workspace folder."""
    client = make_test_lsp_client()
    session = Session(client, root)

    @client.feature("aether/status")
    def _status(ls: LanguageClient, params: Any) -> None:
        # pygls hands custom notification params over as a namedtuple
        session.statuses.append(params._asdict() if hasattr(params, "_asdict") else params)

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    # cwd: not the workspace, whose modules `python -m` would put first on sys.path
    # (unless the test asks for it: its fixture has no module named `aether`)
    await client.start_io(sys.executable, "-m", "aether", "lsp", env=env,
                          cwd=str(root if single_file else REPO))
    try:
        await client.initialize_session(types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            root_uri=None if single_file else root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="ws")]
            if folders and not single_file else None))
        yield session
        await client.shutdown_session()
        assert client._server is not None
        assert await asyncio.wait_for(client._server.wait(), 30) == 0
    finally:
        await _stop(client)


async def _stop(client: LanguageClient) -> None:
    """After a failed test too: stdin EOF ends the server (and a kill if it would not)."""
    server = client._server
    if server is not None and server.returncode is None:
        if server.stdin is not None:
            server.stdin.close()
        try:
            await asyncio.wait_for(server.wait(), 30)
        except TimeoutError:
            server.kill()
    await client.stop()


async def raw_request(client: LanguageClient, method: str, params: Any) -> Any:
    """Send params as given, bypassing the client's typed serialisation."""
    proto: Any = client.protocol
    proto.get_message_type = lambda _method: None
    try:
        return await asyncio.wait_for(proto.send_request_async(method, params), 30)
    finally:
        del proto.get_message_type


def _line_of(root: Path, rel: str, needle: str) -> int:
    for i, line in enumerate((root / rel).read_text().splitlines()):
        if needle in line:
            return i
    raise AssertionError(f"{needle!r} not in {rel}")


# ---------------------------------------------------------------------------- static provider


async def test_hover_sections_status_and_symbols(workspace: Path) -> None:
    async with lsp(workspace) as s:
        status = await s.idle()
        assert set(status) >= STATUS_KEYS
        assert all(set(st) >= STATUS_KEYS for st in s.statuses)
        assert {st["state"] for st in s.statuses} >= {"indexing", "idle"}
        assert status["symbol_count"] == 4 and status["stale_count"] == 0

        # work-done progress: created by the server, begun and ended
        reports = [r for rs in s.client.progress_reports.values() for r in rs]
        assert any(isinstance(r, types.WorkDoneProgressBegin) for r in reports)
        await eventually(lambda: any(isinstance(r, types.WorkDoneProgressEnd)
                                     for rs in s.client.progress_reports.values() for r in rs))

        uri = s.open("pkg/session.py")
        text = await s.hover(uri, _line_of(workspace, "pkg/session.py", "def send"))
        assert text is not None
        assert "Session.send" in text and "**Intent:**" in text
        assert "Send a request and return the decoded JSON body" in text
        assert "**Inputs**" in text
        assert not text.startswith("⚠")
        # the class body outside any method is the class itself
        cls = await s.hover(uri, _line_of(workspace, "pkg/session.py", '"""An HTTP session'))
        assert cls is not None and "**Session** · class" in cls

        # hover never over nothing: an import line, a blank line, past the end
        assert await s.hover(uri, 0) is None
        assert await s.hover(uri, 3) is None
        assert await s.hover(uri, 500) is None

        found = await s.client.workspace_symbol_async(types.WorkspaceSymbolParams(
            query="load_token"))
        assert found
        top = found[0]
        assert isinstance(top, types.SymbolInformation)
        assert top.name == "load_token" and top.kind == types.SymbolKind.Function
        assert top.location.uri == uri
        assert top.location.range.start.line == _line_of(workspace, "pkg/session.py",
                                                         "def load_token")
        methods = await s.client.workspace_symbol_async(types.WorkspaceSymbolParams(
            query="send"))
        assert any(m.name == "send" and m.container_name == "Session" for m in methods or [])
        typed = await s.client.workspace_symbol_async(types.WorkspaceSymbolParams(query="Ses"))
        assert typed and typed[0].name == "Session"  # as-you-type: a name prefix
        assert await s.client.workspace_symbol_async(
            types.WorkspaceSymbolParams(query="?!")) == []

        st = await s.command("aether.status")
        assert set(st) >= STATUS_KEYS
        assert Path(st["workspace"]).name == workspace.name
        assert st["db_path"].endswith("aether.db")
        assert st["health"] == {"status": "healthy", "reasons": []} and not st["read_only"]

        line = _line_of(workspace, "pkg/session.py", "def load_token")
        res = await s.command("aether.refreshSymbol",
                              {"uri": uri, "position": {"line": line, "character": 6}})
        assert res["sir_status"] == "ok" and res["last_error"] is None
        assert res["qualified_name"] == "load_token"


async def test_single_file_mode_serves_the_folder_the_editor_runs_in(workspace: Path) -> None:
    async with lsp(workspace, single_file=True) as s:
        await s.idle()
        st = await s.command("aether.status")
        assert st["workspace"] == str(workspace)
        uri = s.open("pkg/session.py")
        text = await s.hover(uri, _line_of(workspace, "pkg/session.py", "def send"))
        assert text is not None and "Session.send" in text


async def test_unsaved_edits_new_symbols_and_save(workspace: Path) -> None:
    rel = "pkg/session.py"
    async with lsp(workspace) as s:
        await s.idle()
        uri = s.open(rel)
        line = _line_of(workspace, rel, "raise KeyError(name)")
        fresh = await s.hover(uri, line)
        assert fresh is not None and not fresh.startswith("⚠")

        # edit the body without saving: the summary describes an earlier version
        s.edit(uri, line, 8, len("        raise KeyError(name)"), "return ''")
        edited = await s.hover(uri, line)
        assert edited is not None
        first = edited.splitlines()[0]
        assert first.startswith("⚠ AETHER: this summary describes an earlier version")
        assert "**Intent:**" in edited  # the last summary is still shown below the banner

        # a function that exists only in the buffer: no summary yet
        text = ((workspace / rel).read_text().replace("raise KeyError(name)", "return ''")
                + "\n\ndef brand_new(x: int) -> int:\n    return x\n")
        s.replace(uri, text)
        new_line = text.splitlines().index("def brand_new(x: int) -> int:")
        unsaved = await s.hover(uri, new_line + 1)
        assert unsaved is not None and "no summary yet — save the file" in unsaved.splitlines()[0]
        assert "brand\\_new" in unsaved
        # the edited function still shows the banner in the new version
        edited_again = await s.hover(uri, line)
        assert edited_again is not None and "earlier version" in edited_again

        # save: the file is re-indexed and the new symbol gets its summary
        (workspace / rel).write_text(text)
        s.save(uri)

        async def summarised() -> bool:
            value = await s.hover(uri, new_line + 1)
            return value is not None and "**Intent:**" in value and not value.startswith("⚠")

        await eventually(summarised)
        assert await s.hover(uri, line) is not None
        assert not (await s.hover(uri, line) or "").startswith("⚠")


async def test_injection_in_docstrings_is_escaped(workspace: Path) -> None:
    write(workspace, "pkg/evil.py", '''
        def evil(a):
            """Run [x](command:evil) then <img src=x onerror=alert(1)> and ![i](http://e/i.png)."""
            return a
    ''')
    async with lsp(workspace) as s:
        await s.idle()
        uri = s.open("pkg/evil.py")
        text = await s.hover(uri, 1)
        assert text is not None and "**Intent:**" in text
        assert "command" in text and "img src" in text  # the text is there ...
        assert "command:evil" not in text  # ... but inert: no command URI,
        for live in (r"\]\(", r"<img", r"!\[", r"\[x\]"):  # no link, HTML or image
            assert not re.search(r"(?<!\\)" + live, text), live


async def test_no_hover_outside_workspace_unsupported_or_unparsable(
        workspace: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.py"
    outside.write_text("def outside():\n    return 1\n")
    write(workspace, "notes.txt", "def not_code():\n    pass\n")
    write(workspace, "node_modules/dep/x.py", "def hidden():\n    pass\n")
    async with lsp(workspace) as s:
        await s.idle()
        out_uri = s.open(str(outside))  # absolute: joining keeps it outside the root
        assert out_uri == outside.as_uri()
        assert await s.hover(out_uri, 0) is None
        # via a path that climbs out of the workspace
        sneaky = s.uri("pkg/../../outside.py")
        assert await s.hover(sneaky, 0) is None
        assert await s.hover(s.open("notes.txt", language="plaintext"), 0) is None
        assert await s.hover(s.open("node_modules/dep/x.py"), 0) is None
        assert await s.hover("untitled:Untitled-1", 0) is None
        # a file not opened in the editor is read from disk
        closed = await s.hover(s.uri("pkg/session.py"),
                               _line_of(workspace, "pkg/session.py", "def send"))
        assert closed is not None and "Session.send" in closed
        # garbage in a buffer: no hover, and the server is still fine
        junk = s.open("pkg/junk.py", text="\x00\x01 ))) def (((\n" * 50)
        assert await s.hover(junk, 3) is None

        # malformed requests get JSON-RPC errors and the server keeps serving
        with pytest.raises(Exception, match=r"uri|position|Invalid|takes"):
            await s.command("aether.refreshSymbol", {"uri": 3})
        with pytest.raises(Exception, match="no symbol"):
            await s.command("aether.refreshSymbol",
                            {"uri": s.uri("pkg/session.py"),
                             "position": {"line": 0, "character": 0}})
        with pytest.raises(Exception, match="not defined"):
            await s.command("aether.nope")
        with pytest.raises(Exception, match=r"[Ii]nvalid"):
            await raw_request(s.client, "textDocument/hover",
                              {"textDocument": {"uri": 7}, "position": "x"})
        assert await s.hover(s.uri("pkg/session.py"), 0) is None
        ok = await s.hover(s.uri("pkg/session.py"),
                           _line_of(workspace, "pkg/session.py", "def send"))
        assert ok is not None


@pytest.mark.parametrize("how", ["stdin_eof", "sigterm"])
async def test_ends_cleanly_without_exit(workspace: Path, how: str) -> None:
    client = make_test_lsp_client()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    await client.start_io(sys.executable, "-m", "aether", "lsp", "--workspace",
                          str(workspace), env=env)
    try:
        await client.initialize_session(types.InitializeParams(
            capabilities=client_capabilities("neovim")))
        await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="aether.indexWorkspace"))
        server = client._server
        assert server is not None and server.stdin is not None
        if how == "sigterm":
            server.terminate()
        else:
            server.stdin.close()
        assert await asyncio.wait_for(server.wait(), 60) == 0
        db = workspace / ".aether/aether.db"
        assert db.exists()
    finally:
        await _stop(client)


def test_stdout_carries_only_protocol(workspace: Path) -> None:
    """Everything on stdout parses as LSP frames, even with verbose logging; a body that is
    not JSON, not UTF-8 or not a message gets a JSON-RPC error with a null id; a client that
    sends `shutdown` while a request is still in flight gets its answer and exit code 0."""
    import json
    import subprocess

    def send(obj: dict[str, Any]) -> None:
        send_raw(json.dumps(obj).encode())

    def send_raw(body: bytes) -> None:
        assert proc.stdin is not None
        proc.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        proc.stdin.flush()

    def receive() -> dict[str, Any]:
        assert proc.stdout is not None
        length = None
        while True:
            line = proc.stdout.readline()
            assert line.endswith(b"\r\n"), line  # nothing but headers and bodies
            if line == b"\r\n":
                break
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        assert length is not None
        message: dict[str, Any] = json.loads(proc.stdout.read(length))
        assert message["jsonrpc"] == "2.0"
        return message

    def answer(msg_id: int | None) -> dict[str, Any]:
        while True:
            message = receive()
            if message.get("id") == msg_id and "method" not in message:
                return message

    proc = subprocess.Popen([sys.executable, "-m", "aether", "lsp", "--verbose"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=str(workspace),
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        send({"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"processId": None, "rootUri": workspace.as_uri(), "capabilities": {}}})
        assert "capabilities" in answer(1)["result"]
        send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        send({"jsonrpc": "2.0", "id": 2, "method": "workspace/executeCommand",
              "params": {"command": "aether.status"}})
        assert set(answer(2)["result"]) >= STATUS_KEYS
        for body, code, says in [
                (b'{"jsonrpc":"2.0","id":5,"method":"textDocument/hover", broken', -32700,
                 "JSONDecodeError"),
                (b'{"jsonrpc":"2.0","id":6,"method":"\xff\xfe"}', -32700, "UnicodeDecodeError"),
                (b"[1, 2]", -32600, "a JSON list"),
                (b"42", -32600, "a JSON int")]:
            send_raw(body)
            error = answer(None)["error"]
            assert error["code"] == code and says in error["message"], error
        send({"jsonrpc": "2.0", "id": 7, "method": "workspace/executeCommand",
              "params": {"command": "aether.status"}})
        assert set(answer(7)["result"]) >= STATUS_KEYS  # and the session goes on
        # shutdown with a request still pending (the refresh waits on a symbol's SIR)
        uri = (workspace / "pkg/session.py").as_uri()
        send({"jsonrpc": "2.0", "id": 3, "method": "workspace/executeCommand",
              "params": {"command": "aether.refreshSymbol",
                         "arguments": [{"uri": uri, "position": {"line": 20, "character": 5}}]}})
        send({"jsonrpc": "2.0", "id": 4, "method": "shutdown"})
        assert answer(4).get("result", "missing") is None
        send({"jsonrpc": "2.0", "method": "exit"})
        assert proc.wait(60) == 0
        assert proc.stdout is not None
        rest = proc.stdout.read()  # whatever came after the last answer: frames too
        while rest:
            header, sep, rest = rest.partition(b"\r\n\r\n")
            assert sep and header.startswith(b"Content-Length: "), header[:80]
            length = int(header.split(b"\r\n")[0].split(b": ")[1])
            assert json.loads(rest[:length])["jsonrpc"] == "2.0"
            rest = rest[length:]
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    assert proc.stderr is not None
    assert b"INFO" in proc.stderr.read()  # the logs went to stderr ...
    assert (workspace / ".aether/logs/aether.log").exists()  # ... and to the log file


# ---------------------------------------------------------------------------- failing provider


def _fake_config(root: Path, endpoint: str) -> None:
    trusted_config(root, "inference", {
        "provider": "openai", "endpoint": endpoint, "model": "fake-model", "timeout_s": 2.0,
        "deadline_s": 4.0, "max_attempts": 2, "backoff_base_s": 0.01, "backoff_cap_s": 0.02,
        "breaker_threshold": 2, "breaker_cooldown_s": 0.3, "retry_stale_s": 3600.0})


async def test_stale_banner_after_provider_failure_then_recovery(workspace: Path) -> None:
    rel = "pkg/session.py"
    with FakeProvider() as fake:
        _fake_config(workspace, fake.endpoint("openai"))
        async with lsp(workspace) as s:
            status = await s.idle()
            assert status["sir_count"] == 4 and status["stale_count"] == 0
            uri = s.open(rel)
            line = _line_of(workspace, rel, "def load_token")
            fresh = await s.hover(uri, line)
            assert fresh is not None and "Summarises load\\_token" in fresh
            assert not fresh.startswith("⚠")

            # the provider goes down, then the function is edited and saved
            fake.set_default("503")
            text = (workspace / rel).read_text().replace("raise KeyError(name)", "return ''")
            (workspace / rel).write_text(text)
            s.replace(uri, text)
            s.save(uri)

            async def stale_hover() -> str | None:
                value = await s.hover(uri, line)  # "earlier version" until the attempt fails
                return value if value and "summary is stale" in value.splitlines()[0] else None

            banner = (await eventually(stale_hover)).splitlines()[0]
            assert banner.startswith("⚠ AETHER: this summary is stale — the last attempt (")
            assert ") failed: " in banner and "503" in banner
            stale = await s.hover(uri, line)
            assert stale is not None and "Summarises load\\_token" in stale  # last good SIR

            # a forced refresh fails the same way and says so
            target = {"uri": uri, "position": {"line": line, "character": 6}}
            res = await s.command("aether.refreshSymbol", target)
            assert res["sir_status"] == "stale" and res["stale_reason"] == "failed"
            assert "503" in res["last_error"] or "circuit" in res["last_error"]

            await eventually(lambda: any(st["circuit"] == "open" for st in s.statuses))
            warnings = [m for m in s.client.messages if m.type == types.MessageType.Warning]
            assert len(warnings) == 1 and "provider" in warnings[0].message
            await eventually(lambda: s.statuses[-1]["stale_count"] >= 1)

            # recovery: the next refresh succeeds and the banner is gone
            fake.set_default("ok")

            async def healed() -> bool:
                out = await s.command("aether.refreshSymbol", target)
                return bool(out["sir_status"] == "ok" and out["last_error"] is None)

            await eventually(healed)
            recovered = await s.hover(uri, line)
            assert recovered is not None and not recovered.startswith("⚠")
            assert "**Intent:**" in recovered
            await eventually(lambda: [m for m in s.client.messages
                                      if m.type == types.MessageType.Info])
            infos = [m for m in s.client.messages if m.type == types.MessageType.Info]
            warnings = [m for m in s.client.messages if m.type == types.MessageType.Warning]
            assert len(infos) == 1 and "recovered" in infos[0].message
            assert len(warnings) == 1  # no spam while half-open probes failed
