"""MCP resources and prompts of `aether mcp`, through the real stdio server and the SDK's
`Client`: what they return, and a `notifications/resources/updated` when a SIR changes."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import anyio
import pytest
from mcp import Client, ClientSession, stdio_client
from mcp.shared.exceptions import MCPError
from mcp.shared.subscriptions import ResourceUpdated
from mcp.types import ResourceUpdatedNotification, TextContent, TextResourceContents

from tests.helpers import write
from tests.test_mcp import server_params

EVENT_WAIT_S = 30


async def read_json(client: Client, uri: str) -> dict:
    result = await client.read_resource(uri)
    (content,) = result.contents
    assert isinstance(content, TextResourceContents) and content.mime_type == "application/json"
    return json.loads(content.text)


async def test_resources_and_an_update_when_a_sir_changes(workspace: Path) -> None:
    async with Client(server_params(workspace)) as client:
        status = await client.call_tool("aether_status", {"wait_s": 60})
        assert status.structured_content and status.structured_content["daemon"]["state"] == "idle"

        listed = {str(r.uri) for r in (await client.list_resources()).resources}
        assert "aether://status" in listed
        templates = {t.uri_template for t in
                     (await client.list_resource_templates()).resource_templates}
        assert templates == {"aether://file/{+path}/outline", "aether://symbol/{symbol_id}"}

        assert (await read_json(client, "aether://status"))["daemon"]["state"] == "idle"
        outline = await read_json(client, "aether://file/pkg/session.py/outline")
        names = [s["qualified_name"] for s in outline["symbols"]]
        assert "Session.send" in names and names == sorted(
            names, key=lambda n: next(s["start_line"] for s in outline["symbols"]
                                      if s["qualified_name"] == n))
        send = next(s for s in outline["symbols"] if s["qualified_name"] == "Session.send")
        uri = f"aether://symbol/{send['symbol_id']}"
        sir = await read_json(client, uri)
        assert sir["qualified_name"] == "Session.send" and sir["sir"]["intent"]

        with pytest.raises(MCPError):
            await client.read_resource("aether://file/../outside.py/outline")
        with pytest.raises(MCPError):
            await client.read_resource("aether://symbol/0123456789abcdef0123456789abcdef")

        async with client.listen(resource_subscriptions=[uri]) as events:
            refreshed = await client.call_tool("aether_refresh",
                                               {"symbol_id": send["symbol_id"]})
            assert not refreshed.is_error
            with anyio.fail_after(EVENT_WAIT_S):
                async for event in events:
                    if isinstance(event, ResourceUpdated) and event.uri == uri:
                        break


async def test_prompts_assemble_context(workspace: Path) -> None:
    write(workspace, "app/boot.py",
          "from pkg.session import load_token\n\n\ndef boot():\n    return load_token('x')\n")
    async with Client(server_params(workspace)) as client:
        await client.call_tool("aether_status", {"wait_s": 60})
        names = {p.name for p in (await client.list_prompts()).prompts}
        assert {"explain_symbol", "review_change"} <= names

        explained = await client.get_prompt("explain_symbol", {"name": "Session.send"})
        text = "".join(m.content.text for m in explained.messages
                       if isinstance(m.content, TextContent))
        assert "`Session.send`" in text and '"intent"' in text and "Session.__init__" in text

        review = await client.get_prompt("review_change", {"file": "pkg/session.py"})
        text = "".join(m.content.text for m in review.messages
                       if isinstance(m.content, TextContent))
        for name in ("Session.send", "Session.__init__", "load_token"):
            assert f'"qualified_name": "{name}"' in text
        assert "- boot (app/boot.py:4)" in text  # a caller, from the call graph
        with pytest.raises(MCPError):
            await client.get_prompt("review_change", {"file": "../elsewhere.py"})


async def test_resources_subscribe_for_2025_clients(workspace: Path, tmp_path: Path) -> None:
    """Clients on the 2025 protocol (ClientSession's handshake) subscribe with
    resources/subscribe and get notifications/resources/updated."""
    updated: list[str] = []
    got = anyio.Event()

    async def on_message(message: object) -> None:
        if isinstance(message, ResourceUpdatedNotification):
            updated.append(str(message.params.uri))
            got.set()

    errlog = (tmp_path / "stderr.log").open("w")
    async with (stdio_client(server_params(workspace), errlog=errlog) as (read, write),
                ClientSession(read, write, message_handler=on_message) as session):
        init = await session.initialize()
        assert init.capabilities.resources and init.capabilities.resources.subscribe
        await session.call_tool("aether_status", {"wait_s": 60})
        found = await session.call_tool("aether_symbol_lookup", {"name": "load_token"})
        assert found.structured_content
        symbol_id = found.structured_content["matches"][0]["symbol_id"]
        uri = f"aether://symbol/{symbol_id}"
        with warnings.catch_warnings():  # deprecated for 2026 clients, the way for 2025 ones
            warnings.simplefilter("ignore")
            await session.subscribe_resource(uri)
        assert not (await session.call_tool("aether_refresh", {"symbol_id": symbol_id})).is_error
        with anyio.fail_after(EVENT_WAIT_S):
            while uri not in updated:
                await got.wait()
                got = anyio.Event()
    errlog.close()
