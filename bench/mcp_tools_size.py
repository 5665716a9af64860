"""How much an agent pays to know AETHER's tools: the `tools/list` payload and the
`instructions`, in estimated tokens (`aether.mcp.answers.estimate_tokens`), as a real MCP
client receives them, against the SDK's uncompacted schemas as the baseline.

    python bench/mcp_tools_size.py

"Model-facing" is what agent hosts pass to the model (name, description, input schema,
annotations); output schemas are validated by clients and rarely shown to the model."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from mcp import Client

from aether.mcp.answers import estimate_tokens
from aether.mcp.app import App
from aether.mcp.server import build_server

MODEL_FACING = ("name", "description", "inputSchema", "annotations")


def tokens(obj: Any) -> int:
    return estimate_tokens(json.dumps(obj, separators=(",", ":"), ensure_ascii=False))


async def measure(compact: bool) -> tuple[list[dict[str, Any]], str]:
    server = build_server(App(startup_error="bench"), compact=compact)
    async with Client(server) as client:
        listed = await client.list_tools()
    tools = [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in listed.tools]
    return tools, server.instructions or ""


async def main() -> None:
    base, _ = await measure(compact=False)
    tools, instructions = await measure(compact=True)
    seen = [{k: t[k] for k in MODEL_FACING if k in t} for t in tools]
    base_seen = [{k: t[k] for k in MODEL_FACING if k in t} for t in base]
    print(f"{'tool':24} {'payload':>8} {'model-facing':>13} {'outputSchema':>13}")
    for t, m in zip(tools, seen, strict=True):
        print(f"{t['name']:24} {tokens(t):8} {tokens(m):13} {tokens(t.get('outputSchema')):13}")
    total, total_seen = tokens({"tools": tools}), tokens(seen)
    base_total, base_seen_total = tokens({"tools": base}), tokens(base_seen)
    print(f"\n{len(tools)} tools; instructions {estimate_tokens(instructions)} tokens")
    print(f"tools/list payload   {total:6} tokens (baseline {base_total}, "
          f"ratio {total / base_total:.2f})")
    print(f"model-facing part    {total_seen:6} tokens (baseline {base_seen_total}, "
          f"ratio {total_seen / base_seen_total:.2f}); "
          f"{total_seen / len(tools):.0f} a tool")


if __name__ == "__main__":
    asyncio.run(main())
