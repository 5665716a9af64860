"""What an agent sees of `aether mcp`, through the real stdio server and the SDK client:
the `instructions`, tool annotations and descriptions, `detail` brief/full, `size_tokens`,
and `cursor` paging that never loses or repeats a result."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mcp import ClientSession, stdio_client

from aether.mcp.answers import estimate_tokens
from tests.helpers import write
from tests.test_mcp import error, ok, server_params, text_of, wait_idle

N_FUNCS = 7  # functions in the paged file: with limit 3, pages of 3, 3 and 1


def many_functions(root: Path) -> None:
    write(root, "pkg/many.py", "\n\n".join(
        f'def parse_chunk_{i}(data):\n    """Parse chunk {i} of the data."""\n'
        f"    return data[{i}]\n" for i in range(N_FUNCS)) + "\n")
    calls = "\n".join(f"    out.append(parse_chunk_{i}(data))" for i in range(N_FUNCS))
    write(root, "pkg/dispatch.py", "from pkg.many import " + ", ".join(
        f"parse_chunk_{i}" for i in range(N_FUNCS))
        + f"\n\n\ndef dispatch(data):\n    out = []\n{calls}\n    return out\n")


async def pages(session: ClientSession, tool: str, args: dict[str, Any],
                ) -> list[dict[str, Any]]:
    """Every page of a list, following next_cursor (bounded: a cursor loop fails)."""
    answers = [await ok(session, tool, args)]
    for _ in range(N_FUNCS + 1):
        cursor = answers[-1].get("next_cursor")
        if cursor is None:
            return answers
        answers.append(await ok(session, tool, {**args, "cursor": cursor}))
    raise AssertionError(f"{tool}: more pages than results")


async def test_initialize_gives_instructions_and_tools_are_described_for_a_model(
        workspace: Path, tmp_path: Path) -> None:
    errlog = (tmp_path / "stderr.log").open("w")
    async with (stdio_client(server_params(workspace), errlog=errlog) as (read, write_),
                ClientSession(read, write_) as session):
        init = await session.initialize()
        text = init.instructions or ""
        assert "aether_search" in text and "aether_get_sir" in text and "grep" in text
        assert "stale" in text and "sir_status" in text and "cursor" in text
        tools = {t.name: t for t in (await session.list_tools()).tools}
        named = {word.strip(".,;:/`") for word in text.split() if word.startswith("aether_")}
        assert named <= set(tools), named - set(tools)  # never a tool this server lacks
        for tool in tools.values():
            a = tool.annotations
            assert a is not None, tool.name
            assert a.idempotent_hint is True and a.read_only_hint is not None, tool.name
            assert "  " not in (tool.description or "") and "\n" not in (tool.description or "")
            assert (tool.description or "").startswith("Use "), tool.name
            props = tool.input_schema["properties"]
            assert props["detail"]["enum"] == ["brief", "full"], tool.name
            assert "title" not in json.dumps(tool.input_schema), tool.name
            assert "size_tokens" in (tool.output_schema or {})["properties"], tool.name
        read_only = {n for n, t in tools.items() if t.annotations and t.annotations.read_only_hint}
        assert read_only == set(tools) - {"aether_refresh"}
        assert all(tools[n].annotations.open_world_hint is False for n in read_only)  # type: ignore[union-attr]
        for lister in ("aether_search", "aether_symbol_lookup"):
            props = tools[lister].input_schema["properties"]
            assert props["detail"]["default"] == "brief" and "cursor" in props
            assert "next_cursor" in (tools[lister].output_schema or {})["properties"]
        # What the model reads stays small (issue 15: under 2,500 tokens for all tools): each
        # tool's name, description, input schema and annotations; what tools share (the
        # paging pair, the symbol locator) is said once, above
        facing = [t.model_dump(by_alias=True, exclude_none=True,
                               include={"name", "description", "inputSchema", "annotations"})
                  for t in tools.values()]
        assert estimate_tokens(json.dumps(facing, separators=(",", ":"))) < 2500
        dumped = json.dumps(facing)
        assert "maxLength" not in dumped and '"null"' not in dumped and "2147483647" not in dumped
        assert "description" not in tools["aether_search"].input_schema["properties"]["cursor"]
        assert "description" not in tools["aether_callers"].input_schema["properties"]["line"]
        assert "symbol_id" in text and "next_cursor as cursor" in text
    errlog.close()


async def test_detail_size_and_paging_through_stdio(workspace: Path, tmp_path: Path) -> None:
    many_functions(workspace)
    errlog = (tmp_path / "stderr.log").open("w")
    async with (stdio_client(server_params(workspace), errlog=errlog) as (read, write_),
                ClientSession(read, write_) as session):
        await session.initialize()
        await wait_idle(session)

        # A file's symbols, three a page: every one exactly once, in line order.
        lookup = {"path": "pkg/many.py", "limit": 3}
        answers = await pages(session, "aether_symbol_lookup", lookup)
        assert [a["result_count"] for a in answers] == [3, 3, 1]
        assert [a["truncated"] for a in answers] == [True, True, False]
        names = [m["qualified_name"] for a in answers for m in a["matches"]]
        assert names == [f"parse_chunk_{i}" for i in range(N_FUNCS)]

        # Ranked search pages the same way: same matches as one big page, no repeats.
        query = {"query": "parse chunk data", "limit": 3}
        paged = [m["symbol_id"] for a in await pages(session, "aether_search", query)
                 for m in a["matches"]]
        whole = await ok(session, "aether_search", {**query, "limit": 50})
        assert whole["next_cursor"] is None
        assert paged == [m["symbol_id"] for m in whole["matches"]]
        assert len(paged) == len(set(paged)) >= N_FUNCS

        # brief (the default for lists) vs full; size_tokens is the answer's own size.
        brief = await ok(session, "aether_symbol_lookup", {"path": "pkg/many.py"})
        full = await ok(session, "aether_symbol_lookup", {"path": "pkg/many.py",
                                                          "detail": "full"})
        assert all("sir" not in m and "signature" not in m for m in brief["matches"])
        assert all(m["sir"]["intent"] and m["signature"].startswith("def parse_chunk_")
                   for m in full["matches"])
        assert brief["size_tokens"] < full["size_tokens"]
        for answer in (brief, full):
            result = await session.call_tool("aether_symbol_lookup", {
                "path": "pkg/many.py", "detail": "full" if answer is full else "brief"})
            assert abs(answer["size_tokens"] - estimate_tokens(text_of(result))) <= 2
            assert ": " not in text_of(result)[:200] and "\n" not in text_of(result)  # compact

        one = await ok(session, "aether_get_sir", {"qualified_name": "parse_chunk_2"})
        short = await ok(session, "aether_get_sir", {"qualified_name": "parse_chunk_2",
                                                     "detail": "brief"})
        assert one["provider"] is not None and "provider" not in short
        assert short["sir"]["intent"] == one["sir"]["intent"] and short["sir_status"] == "ok"
        assert 0 < short["size_tokens"] < one["size_tokens"]

        # The graph tools page and brief the same way.
        outline = await pages(session, "aether_file_outline", {"file": "pkg/many.py",
                                                               "limit": 3})
        assert [len(a["symbols"]) for a in outline] == [3, 3, 1]
        assert all("signature" not in s for a in outline for s in a["symbols"])
        full_outline = await ok(session, "aether_file_outline", {"file": "pkg/many.py",
                                                                 "detail": "full"})
        assert all(s["signature"].startswith("def ") for s in full_outline["symbols"])
        callees = await pages(session, "aether_callees", {"qualified_name": "dispatch",
                                                          "limit": 3})
        targets = [e["target"]["qualified_name"] for a in callees for e in a["callees"]]
        assert sorted(targets) == sorted(f"parse_chunk_{i}" for i in range(N_FUNCS))
        assert len(callees) == 3 and all(a["size_tokens"] > 0 for a in callees)

        # A cursor is bound to its request; a made-up one is refused, not misread.
        cursor = (await ok(session, "aether_search", query))["next_cursor"]
        assert "different request" in await error(session, "aether_search",
                                                  {"query": "other words", "cursor": cursor})
        assert "not one AETHER returned" in await error(
            session, "aether_symbol_lookup", {"path": "pkg/many.py", "cursor": "%%%"})
    errlog.close()
