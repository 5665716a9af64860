"""`aether mcp --http`: the same tools and daemon over Streamable HTTP, driven by the SDK's
own streamable HTTP client, with and without the bearer token."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import httpx
import httpx2
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from tests.test_mcp import REPO, TOOLS

TOKEN = "s3cret-token-for-tests"
START_TIMEOUT_S = 60


@contextlib.asynccontextmanager
async def http_server(root: Path, bind: str = "127.0.0.1:0",
                      token: str | None = TOKEN) -> AsyncIterator[str]:
    """`aether mcp --http` as a real process; yields its URL (read from its stderr)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("AETHER_MCP_TOKEN", None)
    if token is not None:
        env["AETHER_MCP_TOKEN"] = token
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "aether", "mcp", "--http", bind, "--workspace", str(root),
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE)
    assert proc.stderr is not None
    try:
        url = ""
        with anyio.fail_after(START_TIMEOUT_S):
            while not url:
                line = (await proc.stderr.readline()).decode()
                assert line, "the server exited before serving"
                if "serving MCP at " in line:
                    url = line.split("serving MCP at ")[1].split()[0]
        yield url
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            with anyio.fail_after(30):
                code = await proc.wait()
            assert code == 0


async def test_http_with_the_token_serves_the_same_tools(workspace: Path) -> None:
    async with http_server(workspace) as url:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with (httpx2.AsyncClient(headers=headers, timeout=30) as http,
                    streamable_http_client(url, http_client=http) as (read, write),
                    ClientSession(read, write) as session):
            init = await session.initialize()
            assert init.instructions and "aether_search" in init.instructions
            assert {t.name for t in (await session.list_tools()).tools} == TOOLS
            status = await session.call_tool("aether_status", {"wait_s": 60})
            assert status.structured_content and status.structured_content["daemon"][
                "state"] == "idle"
            found = await session.call_tool("aether_symbol_lookup", {"name": "Session.send"})
            assert not found.is_error and found.structured_content
            assert found.structured_content["matches"][0]["qualified_name"] == "Session.send"


async def test_http_without_or_with_a_wrong_token_is_refused(workspace: Path) -> None:
    async with http_server(workspace) as url:
        body = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "t", "version": "1"}}}
        accept = {"accept": "application/json, text/event-stream"}
        async with httpx.AsyncClient(timeout=30) as plain:
            for auth in ({}, {"authorization": "Bearer wrong"}, {"authorization": TOKEN}):
                refused = await plain.post(url, json=body, headers={**accept, **auth})
                assert refused.status_code == 401, auth
            allowed = await plain.post(url, json=body, headers={
                **accept, "authorization": f"Bearer {TOKEN}"})
            assert allowed.status_code == 200
        # The SDK client gets no session: its initialize fails with the server's refusal.
        with pytest.raises(BaseExceptionGroup) as failed:
            with anyio.fail_after(30):
                async with (httpx2.AsyncClient(timeout=30) as http,
                            streamable_http_client(url, http_client=http) as (read, write),
                            ClientSession(read, write) as session):
                    await session.initialize()
        assert failed.group_contains(MCPError, match="error response")


async def test_loopback_without_a_token_and_other_addresses_need_one(
        workspace: Path) -> None:
    async with (http_server(workspace, token=None) as url,
                httpx2.AsyncClient(timeout=30) as http,
                streamable_http_client(url, http_client=http) as (read, write),
                ClientSession(read, write) as session):
        await session.initialize()
        assert len((await session.list_tools()).tools) == len(TOOLS)
    env = {k: v for k, v in os.environ.items() if k != "AETHER_MCP_TOKEN"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "aether", "mcp", "--http", "0.0.0.0:0", "--workspace",
        str(workspace), env={**env, "PYTHONPATH": str(REPO)}, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    with anyio.fail_after(60):
        _, err = await proc.communicate()
    assert proc.returncode == 2 and b"AETHER_MCP_TOKEN" in err
    assert b"Traceback" not in err
