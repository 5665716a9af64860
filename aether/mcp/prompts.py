"""MCP prompts (user-chosen templates, e.g. slash commands in Claude Code and Zed) that
assemble their context from the same engine reads as the tools, so the model starts with the
summaries instead of fetching them turn by turn:
- `explain_symbol(name)`: the symbol's SIR and status, and the symbols of its file;
- `review_change(file)`: every symbol of a changed file with its SIR and status, the callers
  the call graph knows (`aether.engine.graph.impact`), and what to check before accepting
  the change."""

from __future__ import annotations

import json

from mcp.server import MCPServer

from aether.engine import graph
from aether.mcp.app import App, resolve_one, tool_errors, workspace_path
from aether.present import search_match, sir_view

MAX_LISTED_CALLERS = 30


def _block(data: object) -> str:
    return "```json\n" + json.dumps(data, indent=1, ensure_ascii=False) + "\n```"


def register(server: MCPServer[App], app: App) -> None:
    @server.prompt(name="explain_symbol", title="Explain a symbol",
                   description="Explain what a function, method or class does, from its SIR")
    async def explain_symbol(name: str) -> str:
        daemon, engine = app.live()
        with tool_errors():
            rec = await resolve_one(engine, daemon, None, name, None, None)
            around = await engine.store.symbols_in_file(rec.file_path)
        view = sir_view(rec).model_dump(mode="json", exclude={"sir_hash"})
        neighbours = [f"- {r.qualified_name} ({r.kind}, line {r.start_line})"
                      for r in around if r.id != rec.id][:30]
        caution = (f"\nIts summary is {rec.sir_status}: say so, and read the source where "
                   "it matters." if rec.sir_status != "ok" else "")
        return (f"Explain what `{rec.qualified_name}` in `{rec.file_path}` does: its purpose, "
                "inputs and outputs, side effects, what can go wrong, and how it is used. "
                f"Start from AETHER's summary below; read the source (lines {rec.start_line}-"
                f"{rec.end_line}) only for what it leaves out.{caution}\n\n{_block(view)}\n\n"
                f"Other symbols in the same file:\n" + "\n".join(neighbours or ["(none)"]))

    @server.prompt(name="review_change", title="Review a change",
                   description="Review a changed file symbol by symbol, from AETHER's SIRs")
    async def review_change(file: str) -> str:
        _, engine = app.live()
        with tool_errors():
            rel = workspace_path(engine, file)
            records = await engine.store.symbols_in_file(rel)
        if not records:
            raise ValueError(f"no symbols are indexed in {rel}")
        symbols = [search_match(r, full=True).model_dump(mode="json", exclude={"language"})
                   for r in records]
        with tool_errors():
            impact = await graph.impact(engine, files=(rel,), depth=1)
        callers = [f"- {c.symbol.qualified_name} ({c.symbol.file_path}:{c.symbol.start_line})"
                   f": {c.symbol.intent or 'no summary yet'}"
                   for c in impact.callers[:MAX_LISTED_CALLERS]]
        more = len(impact.callers) - len(callers)
        stale = [r.qualified_name for r in records if r.sir_status != "ok"]
        note = (f"\nThese summaries may describe older code ({', '.join(stale[:10])}): "
                "compare with the diff." if stale else "")
        return (f"Review the change to `{rel}`. For each symbol it touches: does the new code "
                "still do what its summary says (intent, outputs, error modes)? Did side "
                "effects or error handling change? Which callers could break? "
                f"aether_callers and aether_get_source give more.{note}\n\n"
                f"AETHER's summaries of the file's symbols:\n\n{_block(symbols)}\n\n"
                "Callers in other code (call graph, direct):\n"
                + "\n".join(callers or ["(none found)"])
                + (f"\n… and {more} more (aether_impact)" if more > 0 else ""))
