"""`aether mcp` end to end: the real server in a subprocess, driven over stdio by the `mcp`
SDK's own client, exactly as Claude Code, Cursor or VS Code would; HTTP providers are the
fault-injecting fake on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.types import CallToolResult, TextContent

from aether.store.db import Store
from tests.fakeprovider import FakeProvider
from tests.helpers import trusted_config, write

REPO = Path(__file__).resolve().parent.parent
TOOLS = {"aether_status", "aether_symbol_lookup", "aether_search", "aether_get_sir",
         "aether_explain", "aether_refresh", "aether_file_outline", "aether_get_source",
         "aether_callers", "aether_callees", "aether_impact", "aether_context"}
SAMPLE_SYMBOLS = {"Session", "Session.__init__", "Session.send", "load_token"}
EXIT_WAIT_S = 30  # bound on how long a clean exit may take (a hang fails, not a slow exit)


def server_params(root: Path) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable, args=["-m", "aether", "mcp", "--workspace", str(root)],
        env={**os.environ, "PYTHONPATH": str(REPO)}, cwd=str(root))


@contextlib.asynccontextmanager
async def connect(root: Path) -> AsyncIterator[ClientSession]:
    errlog = (root.parent / "mcp-stderr.log").open("a", encoding="utf-8")
    try:
        async with (stdio_client(server_params(root), errlog=errlog) as (read, write_),
                    ClientSession(read, write_) as session):
            await session.initialize()
            yield session
    finally:
        errlog.close()


def configure_openai(root: Path, fake: FakeProvider, **extra: Any) -> None:
    settings = {
        "provider": "openai", "endpoint": fake.endpoint("openai"), "model": "fake-model",
        "max_attempts": 1, "timeout_s": 5.0, "deadline_s": 5.0, "backoff_base_s": 0.01,
        "backoff_cap_s": 0.05, "retry_stale_s": 3600.0, "breaker_threshold": 50,
        "requests_per_minute": 100_000.0, **extra,
    }
    trusted_config(root, "inference", settings)


async def call(session: ClientSession, name: str, args: dict[str, Any] | None = None,
               **kw: Any) -> CallToolResult:
    return await session.call_tool(name, args or {}, **kw)


async def ok(session: ClientSession, name: str, args: dict[str, Any] | None = None,
             **kw: Any) -> dict[str, Any]:
    """A successful call's structured result, checked against its JSON text rendering."""
    result = await call(session, name, args, **kw)
    assert not result.is_error, text_of(result)
    data = result.structured_content
    assert isinstance(data, dict)
    assert data["schema_version"] == 1
    assert json.loads(text_of(result)) == data
    return data


async def error(session: ClientSession, name: str, args: dict[str, Any]) -> str:
    result = await call(session, name, args)
    assert result.is_error, result
    return text_of(result)


def text_of(result: CallToolResult) -> str:
    return "".join(c.text for c in result.content if isinstance(c, TextContent))


async def wait_idle(session: ClientSession) -> dict[str, Any]:
    status = await ok(session, "aether_status", {"wait_s": 60})
    assert status["daemon"]["state"] == "idle", status["daemon"]
    return status


def resolved(path: Path) -> str:
    return str(path.resolve())


def line_of(root: Path, rel: str, needle: str) -> int:
    lines = (root / rel).read_text(encoding="utf-8").splitlines()
    return next(i for i, text in enumerate(lines, 1) if needle in text)


# ---------------------------------------------------------------------------- tools


async def test_lists_tools_with_input_and_output_schemas(workspace: Path) -> None:
    async with connect(workspace) as session:
        tools = {t.name: t for t in (await session.list_tools()).tools}
        assert set(tools) == TOOLS
        for tool in tools.values():
            assert tool.description
            assert tool.output_schema is not None, tool.name
            assert "schema_version" in tool.output_schema["properties"], tool.name
            assert tool.input_schema["type"] == "object"
        assert tools["aether_get_sir"].annotations is not None
        assert tools["aether_get_sir"].annotations.read_only_hint is True
        assert tools["aether_refresh"].annotations is not None
        assert tools["aether_refresh"].annotations.read_only_hint is False
        assert set(tools["aether_explain"].input_schema["required"]) == {"file", "line"}
        assert {"symbol_id", "qualified_name", "file", "line"} <= set(
            tools["aether_get_sir"].input_schema["properties"])
        outputs = {name: tool.output_schema or {} for name, tool in tools.items()}
        assert {"sir_status", "last_error", "last_attempt_at", "warning", "provider", "model",
                "updated_at"} <= set(outputs["aether_get_sir"]["properties"])
        assert {"mode_requested", "mode_used", "fallback_reason", "result_count",
                "matches"} <= set(outputs["aether_search"]["properties"])
        assert {"state", "files_done", "files_total"} <= set(
            outputs["aether_status"]["$defs"]["DaemonView"]["properties"])
        assert "hover_markdown" in outputs["aether_explain"]["properties"]


async def test_every_tool_on_the_fixture_workspace(workspace: Path) -> None:
    rel = "pkg/session.py"
    async with connect(workspace) as session:
        status = await wait_idle(session)
        assert status["symbol_count"] == len(SAMPLE_SYMBOLS)
        assert status["ok_count"] == len(SAMPLE_SYMBOLS)
        assert status["provider"] == "static"
        assert status["health"]["status"] == "healthy"
        assert status["daemon"]["role"] == "writer"
        assert status["workspace"] == resolved(workspace)

        found = await ok(session, "aether_symbol_lookup", {"name": "send"})
        assert found["match"] == "name"
        assert [m["qualified_name"] for m in found["matches"]] == ["Session.send"]
        found = await ok(session, "aether_symbol_lookup", {"name": "Session.send"})
        assert found["match"] == "qualified_name" and found["result_count"] == 1
        # as developers write it: a call, the module in front, with or without the file
        for asked in ({"name": "Session.send()"}, {"name": "pkg.session.Session.send"},
                      {"name": "Session.send()", "path": rel}):
            found = await ok(session, "aether_symbol_lookup", asked)
            assert (found["match"], [m["qualified_name"] for m in found["matches"]]) == (
                "qualified_name", ["Session.send"]), asked
        in_file = await ok(session, "aether_symbol_lookup", {"path": rel})
        assert in_file["match"] == "file"
        assert {m["qualified_name"] for m in in_file["matches"]} == SAMPLE_SYMBOLS
        classes = await ok(session, "aether_symbol_lookup", {"path": rel, "kind": "class"})
        assert [m["qualified_name"] for m in classes["matches"]] == ["Session"]
        capped = await ok(session, "aether_symbol_lookup", {"path": rel, "limit": 2})
        assert capped["result_count"] == 2 and capped["truncated"] is True
        nothing = await ok(session, "aether_symbol_lookup", {"name": "no_such_thing"})
        assert nothing["result_count"] == 0 and nothing["match"] == "none"
        assert "no_such_thing" in nothing["note"]
        typo = await ok(session, "aether_symbol_lookup", {"name": "load_tokn"})
        assert typo["result_count"] == 0 and "did you mean: load_token" in typo["note"]

        search = await ok(session, "aether_search", {"query": "token"})
        assert search["mode_requested"] == "hybrid" and search["mode_used"] == "hybrid"
        assert search["result_count"] == len(search["matches"]) >= 1
        assert search["matches"][0]["qualified_name"] == "load_token"
        assert search["matches"][0]["why"] and search["matches"][0]["is_test"] is False
        both = await ok(session, "aether_search", {"query": "token", "include_tests": True,
                                                   "mode": "lexical"})
        assert both["mode_used"] == "lexical" and both["suggestions"] == []

        sir = await ok(session, "aether_get_sir", {"qualified_name": "Session.send"})
        assert sir["sir_status"] == "ok" and sir["warning"] is None
        assert sir["sir"]["intent"] and sir["provider"] == "static"
        assert sir["file_path"] == rel and sir["last_error"] is None
        assert sir["last_attempt_at"] and sir["updated_at"]
        by_id = await ok(session, "aether_get_sir", {"symbol_id": sir["symbol_id"]})
        assert by_id == sir
        body = line_of(workspace, rel, "response = httpx.post")
        by_line = await ok(session, "aether_get_sir", {"file": rel, "line": body})
        assert by_line["symbol_id"] == sir["symbol_id"]
        absolute = await ok(session, "aether_get_sir",
                            {"file": str(workspace / rel), "line": body})
        assert absolute["symbol_id"] == sir["symbol_id"]

        explained = await ok(session, "aether_explain", {"file": rel, "line": body})
        assert explained["symbol"]["qualified_name"] == "Session.send"
        assert [m["qualified_name"] for m in explained["enclosing"]] == ["Session"]
        assert "Session.send" in explained["hover_markdown"]
        assert "**Intent:**" in explained["hover_markdown"]
        assert not explained["hover_markdown"].startswith("⚠")
        header = line_of(workspace, rel, "class Session")
        cls = await ok(session, "aether_explain", {"file": rel, "line": header, "column": 1})
        assert cls["symbol"]["qualified_name"] == "Session" and cls["enclosing"] == []

        one = await ok(session, "aether_refresh", {"qualified_name": "load_token"})
        assert one["requested"] == 1 and one["completed"] is True
        assert one["ok_count"] == 1 and one["stale_count"] == 0
        assert one["symbols"][0]["qualified_name"] == "load_token"
        whole = await ok(session, "aether_refresh", {"file": rel})
        assert whole["requested"] == len(SAMPLE_SYMBOLS) == whole["ok_count"]
        assert {s["qualified_name"] for s in whole["symbols"]} == SAMPLE_SYMBOLS


async def test_refresh_reports_progress_when_asked(workspace: Path) -> None:
    rel = "pkg/session.py"
    seen: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total, message))

    async with connect(workspace) as session:
        await wait_idle(session)
        result = await ok(session, "aether_refresh", {"file": rel},
                          progress_callback=on_progress)
        assert result["completed"] is True
    assert seen, "no progress notifications"
    assert seen[0][0] == 0 and seen[-1][0] == seen[-1][1] == len(SAMPLE_SYMBOLS)
    assert [p for p, _, _ in seen] == sorted(p for p, _, _ in seen)


async def test_answers_and_reports_progress_while_indexing(workspace: Path) -> None:
    """A slow provider keeps the first pass running: lookups answer from the store meanwhile,
    and a status call that waits streams indexing progress."""
    for i in range(3):
        write(workspace, f"pkg/extra_{i}.py",
              "\n".join(f"def extra_{i}_{j}(x):\n    return x + {j}\n" for j in range(4)))
    total = len(SAMPLE_SYMBOLS) + 12
    seen: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total_: float | None, message: str | None) -> None:
        seen.append((progress, total_, message))

    with FakeProvider(default="ok:0.4") as fake:
        configure_openai(workspace, fake, max_concurrency=1)
        async with connect(workspace) as session:
            status = await ok(session, "aether_status")
            assert status["daemon"]["state"] in ("starting", "indexing")
            # The store answers while summaries are still being made.
            found = await ok(session, "aether_symbol_lookup", {"path": "pkg/extra_2.py"})
            assert found["result_count"] in (0, 4)
            done = await ok(session, "aether_status", {"wait_s": 60},
                            progress_callback=on_progress)
            assert done["daemon"]["state"] == "idle"
            assert done["symbol_count"] == done["ok_count"] == total
            assert done["provider"] == "openai" and done["model"] == "fake-model"
            assert done["guard"] is not None
    assert seen, "no progress notifications while indexing"
    assert all(t == 100 for _, t, _ in seen)
    assert all(m and m.startswith("indexing") for _, _, m in seen)
    assert [p for p, _, _ in seen] == sorted(p for p, _, _ in seen)


async def test_stale_sir_with_warning_then_recovery(workspace: Path) -> None:
    rel = "pkg/session.py"
    with FakeProvider(default="ok") as fake:
        configure_openai(workspace, fake)
        async with connect(workspace) as session:
            status = await wait_idle(session)
            assert status["ok_count"] == len(SAMPLE_SYMBOLS)
            good = await ok(session, "aether_get_sir", {"qualified_name": "Session.send"})
            assert good["sir"]["intent"] == "Summarises Session.send (fake provider)."
            assert good["provider"] == "openai" and good["model"] == "fake-model"

            fake.set_default("503")
            failed = await ok(session, "aether_refresh",
                              {"qualified_name": "Session.send", "wait_s": 30})
            assert failed["completed"] is True and failed["stale_count"] == 1
            assert "failed" in failed["message"]

            stale = await ok(session, "aether_get_sir", {"qualified_name": "Session.send"})
            assert stale["sir_status"] == "stale" and stale["stale_reason"] == "failed"
            assert stale["sir"] == good["sir"]  # the last good SIR is kept
            assert stale["last_error"] and "\n" not in stale["last_error"]
            assert stale["last_attempt_at"] and stale["last_attempt_at"] != good[
                "last_attempt_at"]
            assert stale["warning"] == (
                f"This summary may be out of date: the last attempt at "
                f"{stale['last_attempt_at']} failed: {stale['last_error']}")
            line = line_of(workspace, rel, "response = httpx.post")
            hover = await ok(session, "aether_explain", {"file": rel, "line": line})
            assert hover["symbol"]["sir_status"] == "stale"
            assert hover["hover_markdown"].startswith("⚠ AETHER: this summary is stale")
            status = await ok(session, "aether_status")
            assert status["stale_count"] == 1 and status["health"]["status"] == "degraded"
            assert status["guard"]["requests"] >= len(SAMPLE_SYMBOLS) + 1

            fake.set_default("ok")
            healed = await ok(session, "aether_refresh",
                              {"qualified_name": "Session.send", "wait_s": 30})
            assert healed["completed"] is True and healed["ok_count"] == 1
            fresh = await ok(session, "aether_get_sir", {"qualified_name": "Session.send"})
            assert fresh["sir_status"] == "ok" and fresh["last_error"] is None
            assert fresh["warning"] is None and fresh["stale_reason"] is None
            assert (await ok(session, "aether_status"))["stale_count"] == 0


async def test_bad_arguments_and_paths_are_tool_errors(workspace: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    write(outside, "secret.py", "def leaked():\n    return 'TOP-SECRET'\n")
    (workspace / "link").symlink_to(outside, target_is_directory=True)
    write(workspace, "pkg/a.py", "def helper():\n    return 1\n")
    write(workspace, "pkg/b.py", "def helper():\n    return 2\n")
    async with connect(workspace) as session:
        await wait_idle(session)
        for args in ({"file": "../outside/secret.py", "line": 1},
                     {"file": str(outside / "secret.py"), "line": 1},
                     {"file": "link/secret.py", "line": 1},
                     {"file": "pkg/../../outside/secret.py", "line": 1}):
            for tool in ("aether_get_sir", "aether_explain"):
                message = await error(session, tool, args)
                assert "outside the workspace" in message, (tool, args, message)
                assert "TOP-SECRET" not in message
        for path in ("../outside/secret.py", "link/secret.py"):
            assert "outside the workspace" in await error(session, "aether_symbol_lookup",
                                                          {"path": path})
        assert "outside the workspace" in await error(session, "aether_refresh",
                                                      {"file": "link/secret.py"})

        assert "exactly one" in await error(session, "aether_get_sir", {})
        assert "exactly one" in await error(
            session, "aether_get_sir", {"symbol_id": "ab" * 16, "qualified_name": "helper"})
        assert "both" in await error(session, "aether_get_sir", {"file": "pkg/a.py"})
        assert "unknown symbol: nope" in await error(session, "aether_get_sir",
                                                     {"qualified_name": "nope"})
        assert "unknown symbol id" in await error(session, "aether_get_sir",
                                                  {"symbol_id": "0" * 32})
        ambiguous = await error(session, "aether_get_sir", {"qualified_name": "helper"})
        assert "2 symbols" in ambiguous
        assert "pkg/a.py:1" in ambiguous and "pkg/b.py:1" in ambiguous
        assert "symbol_id" in ambiguous
        assert "only common words" in await error(session, "aether_search",
                                                  {"query": "the of a"})
        assert "no symbol encloses" in await error(session, "aether_explain",
                                                   {"file": "pkg/session.py", "line": 1})
        assert "not indexed" in await error(session, "aether_explain",
                                            {"file": "nowhere.py", "line": 3})
        # Malformed arguments: wrong types, out of range, missing, unknown tool.
        malformed: list[tuple[str, dict[str, Any]]] = [
            ("aether_explain", {"file": "pkg/a.py", "line": 0}),
            ("aether_explain", {"file": "pkg/a.py", "line": "one"}),
            ("aether_explain", {"line": 1}),
            ("aether_search", {"query": ""}),
            ("aether_search", {"query": "x", "mode": "psychic"}),
            ("aether_search", {"query": "x", "limit": 10_000}),
            ("aether_status", {"wait_s": -1}),
            ("aether_refresh", {"qualified_name": "helper", "wait_s": 1e9}),
            ("aether_symbol_lookup", {}),
            ("aether_get_sir", {"file": "pkg/a.py\x00", "line": 1}),
            ("aether_teleport", {})]
        for tool, bad in malformed:
            await error(session, tool, bad)
        # ... and the server keeps serving.
        sir = await ok(session, "aether_get_sir", {"file": "pkg/a.py", "line": 2})
        assert sir["qualified_name"] == "helper" and sir["file_path"] == "pkg/a.py"


# ---------------------------------------------------------------------------- lifecycle


async def _raw_server(root: Path) -> asyncio.subprocess.Process:
    with (root.parent / "mcp-stderr.log").open("ab") as errlog:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "aether", "mcp", "--workspace", str(root),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=errlog,
            cwd=str(root), env={**os.environ, "PYTHONPATH": str(REPO)})


async def _send(proc: asyncio.subprocess.Process, message: dict[str, Any]) -> None:
    assert proc.stdin is not None
    proc.stdin.write((json.dumps(message) + "\n").encode())
    await proc.stdin.drain()


async def _receive(proc: asyncio.subprocess.Process, request_id: int) -> dict[str, Any]:
    """Read stdout up to the response to `request_id`; every line must be JSON-RPC."""
    assert proc.stdout is not None
    while True:
        line = await asyncio.wait_for(proc.stdout.readline(), 60)
        assert line, "the server closed stdout"
        message = json.loads(line)  # anything but protocol on stdout fails here
        assert message.get("jsonrpc") == "2.0", message
        if message.get("id") == request_id:
            return message


async def _handshake(proc: asyncio.subprocess.Process) -> None:
    await _send(proc, {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "test", "version": "0"}}})
    reply = await _receive(proc, 1)
    assert reply["result"]["serverInfo"]["name"] == "aether"
    await _send(proc, {"jsonrpc": "2.0", "method": "notifications/initialized"})
    await _send(proc, {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                       "params": {"name": "aether_status", "arguments": {}}})
    status = await _receive(proc, 2)
    assert status["result"]["structuredContent"]["schema_version"] == 1


async def _integrity(root: Path) -> str:
    store = await Store.open(root / ".aether" / "aether.db")
    try:
        return await store.integrity_check()
    finally:
        await store.close()


async def test_stdin_eof_exits_zero(workspace: Path) -> None:
    proc = await _raw_server(workspace)
    try:
        await _handshake(proc)
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.close()
        rest = await asyncio.wait_for(proc.stdout.read(), EXIT_WAIT_S)
        for line in rest.splitlines():
            assert json.loads(line)["jsonrpc"] == "2.0"
        assert await asyncio.wait_for(proc.wait(), EXIT_WAIT_S) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert await _integrity(workspace) == "ok"


async def test_sigterm_while_indexing_exits_zero(workspace: Path) -> None:
    for i in range(4):
        write(workspace, f"pkg/more_{i}.py",
              "\n".join(f"def more_{i}_{j}():\n    return {j}\n" for j in range(5)))
    with FakeProvider(default="ok:0.3") as fake:
        configure_openai(workspace, fake, max_concurrency=1)
        proc = await _raw_server(workspace)
        try:
            await _handshake(proc)  # the first pass is now making summaries, slowly
            proc.send_signal(signal.SIGTERM)  # stdin stays open
            assert await asyncio.wait_for(proc.wait(), EXIT_WAIT_S) == 0
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    assert await _integrity(workspace) == "ok"
    # Everything written before the stop is consistent and readable by the next process.
    async with connect(workspace) as session:
        status = await wait_idle(session)
        assert status["symbol_count"] == len(SAMPLE_SYMBOLS) + 20


@pytest.mark.parametrize("config", ["[inference]\nprovider = 'telepathy'\n", "not = [toml"])
async def test_bad_configuration_is_reported_by_every_tool(workspace: Path,
                                                           config: str) -> None:
    write(workspace, ".aether/config.toml", config)
    async with connect(workspace) as session:
        assert {t.name for t in (await session.list_tools()).tools} == TOOLS
        for tool, args in (("aether_status", {}), ("aether_search", {"query": "x"})):
            message = await error(session, tool, args)
            assert "AETHER cannot start:" in message
            assert "config.toml" in message
