"""Absurd requests get clear answers: lone surrogates and broken JSON over MCP, 100 KB
symbol queries, 60,000-character searches, lines past 2^63, a refresh of a huge file with a
short wait, a 12 MB buffer edited 200 times. Real servers over real stdio."""

from __future__ import annotations

import asyncio
import copy
import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.workspace import TextDocument

from aether.lsp.documents import EditedDocument
from tests.fakeprovider import FakeProvider
from tests.test_lsp import _line_of, lsp
from tests.test_mcp import (
    _handshake,
    _raw_server,
    _receive,
    _send,
    configure_openai,
    connect,
    ok,
    wait_idle,
)


async def _send_raw(proc: asyncio.subprocess.Process, line: str) -> None:
    assert proc.stdin is not None
    proc.stdin.write(line.encode() + b"\n")
    await proc.stdin.drain()


async def test_mcp_answers_undecodable_messages_and_carries_on(workspace: Path) -> None:
    proc = await _raw_server(workspace)
    try:
        await _handshake(proc)
        await _send_raw(proc, '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":'
                              '{"name":"aether_search","arguments":{"query":"\\ud800"}}}')
        answer = await _receive(proc, 7)
        assert answer["error"]["code"] == -32602
        assert "surrogate" in answer["error"]["message"]
        await _send_raw(proc, '{"jsonrpc":"2.0","id":8,"method":"tools/call", broken')
        answer = await _receive(proc, None)  # type: ignore[arg-type]
        assert answer["error"]["code"] == -32700
        # valid JSON that is not one JSON-RPC message: a batch, a bare value, no version
        for line, msg_id, why in [
                ('[{"jsonrpc":"2.0","id":11,"method":"ping"}]', None, "batching"),
                ("42", None, "a JSON int"),
                ('{"id":12,"method":"ping"}', 12, '"jsonrpc": "2.0"'),
                ('{"jsonrpc":"2.0","id":13}', 13, "neither a request")]:
            await _send_raw(proc, line)
            answer = await _receive(proc, msg_id)  # type: ignore[arg-type]
            assert answer["error"]["code"] == -32600 and why in answer["error"]["message"]
        # a valid surrogate pair is fine, and the session goes on
        await _send_raw(proc, '{"jsonrpc":"2.0","id":9,"method":"tools/call","params":'
                              '{"name":"aether_search","arguments":{"query":"\\ud83d\\ude00 x"}}}')
        answer = await _receive(proc, 9)
        assert answer["result"]["structuredContent"]["query"] == "\U0001f600 x"
        await _send(proc, {"jsonrpc": "2.0", "id": 10, "method": "tools/call", "params": {
            "name": "aether_get_sir", "arguments": {"file": "pkg/session.py",
                                                    "line": 2**63}}})
        answer = await _receive(proc, 10)
        assert answer["result"]["isError"]
        text = answer["result"]["content"][0]["text"]
        assert text == ("Error executing tool aether_get_sir: invalid arguments: line: Input "
                        "should be less than or equal to 2147483647 "
                        "(got 9223372036854775808)")
        # a misspelt tool gets the names it was near; fields that fail get a line each
        await _send(proc, {"jsonrpc": "2.0", "id": 14, "method": "tools/call", "params": {
            "name": "aether_sir", "arguments": {}}})
        text = (await _receive(proc, 14))["result"]["content"][0]["text"]
        assert text.startswith("Unknown tool: aether_sir; did you mean aether_get_sir")
        assert "(tools: aether_status, " in text
        await _send(proc, {"jsonrpc": "2.0", "id": 15, "method": "tools/call", "params": {
            "name": "aether_callers", "arguments": {"qualified_name": "f", "depth": 9,
                                                    "include_references": "many"}}})
        text = (await _receive(proc, 15))["result"]["content"][0]["text"]
        assert "validation error" not in text and "https://" not in text
        assert "depth: Input should be less than or equal to 3 (got 9)" in text
        assert "; include_references: Input should be a valid boolean" in text
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()


def test_cli_search_and_sir_refuse_absurd_input(workspace: Path) -> None:
    def aether(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "aether", *args, "--workspace",
                               str(workspace)], capture_output=True, text=True, timeout=60)

    assert aether("index").returncode == 0
    res = aether("search", "ab " * 20_000)
    assert res.returncode == 2 and res.stderr.count("\n") == 1
    assert "60,000 characters long; the limit is 1,024" in res.stderr
    res = aether("sir", f"pkg/session.py:{2**63}")
    assert res.returncode == 2 and res.stderr.count("\n") == 1
    assert "out of range" in res.stderr
    for limit in ("0", "501"):
        res = aether("search", "session", "--limit", limit)
        assert res.returncode == 2
        assert res.stderr == f"aether: error: --limit must be between 1 and 500 (got {limit})\n"


async def test_lsp_huge_symbol_query_and_huge_buffer(workspace: Path) -> None:
    async with lsp(workspace) as s:
        await s.idle()
        with pytest.raises(JsonRpcException) as caught:
            await s.client.workspace_symbol_async(
                types.WorkspaceSymbolParams(query="q" * 100_000))
        assert "limit is 1,024" in caught.value.message
        assert caught.value.data is None  # never a traceback for the client

        # 12 MB, edited 200 times one keystroke at a time: never parsed, hover says why
        big = "value = 1\n" * 1_200_000
        uri = s.open("pkg/big.py", big)
        for i in range(200):
            s.edit(uri, 5 + i, 0, 0, "x")
        text = await s.hover(uri, 3)
        assert text is not None and "larger than the 1,048,576-byte indexing limit" in text
        # the server is still responsive and right about small files
        small = s.open("pkg/session.py")
        line = _line_of(workspace, "pkg/session.py", "raise KeyError(name)")
        assert "**Intent:**" in (await s.hover(small, line) or "")


def test_edited_document_matches_pygls_on_random_edits() -> None:
    """Same text as pygls' own TextDocument after each of many random incremental edits."""
    rng = random.Random(7)
    start = "".join(f"line {i} é😀\n" if i % 3 else f"x{i}\r\n" for i in range(60))
    ours = EditedDocument("file:///t.py", start, version=1)
    ref = TextDocument("file:///t.py", start, version=1)
    pieces = ["", "a", "\n", "b\nc", "😀", "\r\n", "zz\n\n"]
    for _ in range(400):
        lines = ref.lines
        sl = rng.randrange(len(lines) + 1)
        el = min(len(lines), sl + rng.randrange(3))
        sc = rng.randrange(4)
        ec = rng.randrange(4) if el > sl else sc + rng.randrange(3)
        change = types.TextDocumentContentChangePartial(
            range=types.Range(start=types.Position(line=sl, character=sc),
                              end=types.Position(line=el, character=ec)),
            text=rng.choice(pieces))
        ref.apply_change(copy.deepcopy(change))  # pygls may clamp the range in place
        ours.apply_change(change)
        assert ours.source == ref.source
        assert ours.char_count == len(ref.source)


@pytest.mark.timeout(120)
async def test_refresh_of_a_huge_file_honours_wait_and_caps_the_answer(workspace: Path
                                                                       ) -> None:
    body = "".join(f"def f{i}(x):\n    return x + {i}\n\n\n" for i in range(300))
    (workspace / "pkg/many.py").write_text(body)
    with FakeProvider() as fake:
        configure_openai(workspace, fake, max_concurrency=1)
        async with connect(workspace) as session:
            await wait_idle(session)
            fake.latency_s = 0.05  # from now on 300 attempts take >= 15 s: far past wait_s
            before = fake.count
            data: dict[str, Any] = await ok(session, "aether_refresh",
                                            {"file": "pkg/many.py", "wait_s": 1.0})
            at_answer = fake.count - before
            assert data["requested"] == 300 and data["completed"] is False
            assert at_answer < 300  # it answered while the work went on
            assert data["attempted"] <= at_answer + 2
            assert len(data["symbols"]) == 50 and data["truncated"] is True
            assert "continue in the background" in data["message"]
            assert len(json.dumps(data)) < 200_000
