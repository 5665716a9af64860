"""The `aether` command. Thin: parse arguments, call the engine, print."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from aether import __version__
from aether.config import ConfigError, Settings, load_settings
from aether.engine.engine import AmbiguousTarget, Engine, IndexSummary, UnknownTarget
from aether.engine.writer_lock import WriterLock, current_writer
from aether.logs import setup_logging
from aether.present import SearchView, search_match, sir_view
from aether.store.db import StoreError
from aether.workspace import PathOutsideWorkspace


class CliError(Exception):
    pass


def _overrides(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """The flags that override `[inference]` settings (unset ones are None and ignored)."""
    return {"inference": {k: getattr(args, k, None) for k in ("provider", "model", "endpoint")}}


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(args.workspace, _overrides(args))


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")


def _dump(model: Any) -> None:
    _out(json.dumps(model.model_dump(mode="json") if hasattr(model, "model_dump") else model,
                    indent=2, ensure_ascii=False))


# ---------------------------------------------------------------------------- commands


async def cmd_index(args: argparse.Namespace, engine: Engine) -> int:
    lock = WriterLock(engine.settings.data_dir)
    if not lock.try_acquire("aether index"):
        writer = current_writer(engine.settings.data_dir) or {}
        raise CliError(
            f"another aether process (pid {writer.get('pid', '?')}, "
            f"{writer.get('command', 'aether')}) is indexing this workspace and keeps it "
            "current; `aether status` shows its progress")
    try:
        if sys.stdout.isatty() and not args.json:
            summary = await _index_with_bar(engine)
        else:
            summary = await engine.index()
    finally:
        lock.release()
    counts = await engine.store.counts()
    r, s = summary.index, summary.sirs
    if args.json:
        _out(json.dumps({
            "files_seen": r.files_seen, "files_parsed": r.files_parsed,
            "files_unchanged": r.files_unchanged, "files_skipped": r.files_skipped,
            "files_deleted": r.files_deleted, "skip_reasons": r.skip_reasons,
            "symbol_count": counts.symbol_count, "symbols_changed": r.symbols_changed,
            "sir_attempted": s.attempted, "sir_ok": counts.ok_count,
            "sir_stale": counts.stale_count, "sir_pending": counts.pending_count,
            "seconds": round(r.seconds, 3),
        }, indent=2))
        return 0
    skipped = f", {r.files_skipped} skipped" if r.files_skipped else ""
    deleted = f", {r.files_deleted} deleted" if r.files_deleted else ""
    _out(f"Indexed {engine.settings.workspace}")
    _out(f"  files    {counts.file_count} ({r.files_parsed} parsed, "
         f"{r.files_unchanged} unchanged{skipped}{deleted})")
    _out(f"  symbols  {counts.symbol_count} ({r.symbols_changed} new or changed)")
    _out(f"  SIRs     {counts.ok_count} ok / {counts.stale_count} stale / "
         f"{counts.pending_count} pending  [{engine.provider.name}]")
    _out(f"  time     {r.seconds:.2f} s")
    if counts.stale_count:
        _out("  some SIRs are stale: `aether status` says why")
    return 0


async def _index_with_bar(engine: Engine) -> IndexSummary:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    with Progress("[progress.description]{task.description}", BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn(), transient=True) as bar:
        files = bar.add_task("files", total=None)
        sirs = bar.add_task("SIRs", total=None, visible=False)

        def on_files(done: int, total: int) -> None:
            bar.update(files, completed=done, total=total)

        def on_sirs(done: int, total: int) -> None:
            bar.update(sirs, completed=done, total=total, visible=total > 0)

        return await engine.index(on_files, on_sirs)


async def cmd_search(args: argparse.Namespace, engine: Engine) -> int:
    outcome = await engine.search(args.query, args.limit, args.mode)
    view = SearchView(
        query=outcome.query, limit=outcome.limit, mode_requested=outcome.mode_requested,
        mode_used=outcome.mode_used, fallback_reason=outcome.fallback_reason,
        result_count=len(outcome.records), matches=[search_match(r) for r in outcome.records],
    )
    if args.json:
        _dump(view)
        return 0
    if outcome.fallback_reason:
        _out(f"({outcome.fallback_reason})")
    if not view.matches:
        _out(f"no symbols match {args.query!r}")
    for m in view.matches:
        flag = "" if m.sir_status == "ok" else f"  [{m.sir_status}]"
        _out(f"{m.file_path}:{m.start_line}  {m.kind} {m.qualified_name}{flag}")
        if m.summary:
            _out(f"    {m.summary}")
    return 0


async def cmd_sir(args: argparse.Namespace, engine: Engine) -> int:
    try:
        record = await engine.resolve(args.target)
    except (UnknownTarget, AmbiguousTarget) as exc:
        raise CliError(str(exc)) from None
    view = sir_view(record)
    if args.json:
        _dump(view)
        return 0
    _out(f"{view.kind} {view.qualified_name}  ({view.file_path}:{view.start_line}-{view.end_line})")
    _out(f"  {view.signature}")
    _out(f"  status: {view.sir_status}" + (f" ({view.stale_reason})" if view.stale_reason else ""))
    if view.warning:
        _out(f"  ⚠ {view.warning}")
    if view.sir:
        _out(f"  intent: {view.sir['intent']}")
        for key in ("inputs", "outputs", "side_effects", "dependencies", "error_modes"):
            if view.sir.get(key):
                _out(f"  {key.replace('_', ' ')}: " + "; ".join(view.sir[key]))
        _out(f"  confidence: {view.sir['confidence']:.2f}  by {view.provider}"
             + (f"/{view.model}" if view.model else "") + f" at {view.updated_at}")
    return 0


async def cmd_status(args: argparse.Namespace, engine: Engine) -> int:
    view = await engine.status()
    if args.json:
        _dump(view)
        return 0
    _out(f"workspace  {view.workspace}")
    _out(f"database   {view.db_path}")
    _out(f"files      {view.file_count} indexed, {view.skipped_file_count} skipped")
    _out(f"symbols    {view.symbol_count}")
    _out(f"SIRs       {view.ok_count} ok / {view.stale_count} stale / {view.pending_count} pending"
         f"  (provider {view.provider}{'/' + view.model if view.model else ''})")
    _out(f"indexed    {view.last_indexed_at or 'never'}")
    _out(f"health     {view.health.status}"
         + (": " + "; ".join(view.health.reasons) if view.health.reasons else ""))
    if view.writer:
        _out(f"writer     pid {view.writer['pid']} ({view.writer.get('command')}) "
             f"since {view.writer.get('since')}")
    if view.guard:
        g = view.guard
        _out(f"guard      circuit {g.get('circuit_state')}, {g.get('requests', 0)} requests, "
             f"{g.get('retries', 0)} retries, {g.get('throttled_waits', 0)} throttled waits")
    return 0


# ---------------------------------------------------------------------------- wiring

Command = Callable[[argparse.Namespace, Engine], Coroutine[Any, Any, int]]


async def _run(args: argparse.Namespace, command: Command) -> int:
    settings = _settings(args)
    key = settings.inference.api_key()
    setup_logging(settings.log_dir, level=logging.WARNING if not args.verbose else logging.INFO,
                  secrets=[key] if key else [])
    engine = await Engine.open(settings)
    try:
        return await command(args, engine)
    finally:
        await engine.close()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aether", description="A live structured summary (SIR) of every symbol.")
    parser.add_argument("--version", action="version", version=f"aether {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--workspace", "-w", default=".", help="workspace root (default: .)")
    common.add_argument("--verbose", "-v", action="store_true", help="log more to stderr")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", parents=[common], help="index the workspace once and exit")
    p.add_argument("--provider", choices=["static", "openai", "gemini", "anthropic"])
    p.add_argument("--model")
    p.add_argument("--endpoint")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("search", parents=[common], help="ranked search over symbols and SIRs")
    p.add_argument("query")
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--mode", choices=["lexical", "semantic"], default="lexical")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("sir", parents=[common], help="one symbol's SIR and its status")
    p.add_argument("target", help="symbol id, qualified name, or path:line")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_sir)

    p = sub.add_parser("status", parents=[common], help="counts and health")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("watch", parents=[common],
                       help="headless daemon: index, then keep the index current as files change")
    p.add_argument("--provider", choices=["static", "openai", "gemini", "anthropic"])
    p.add_argument("--model")
    p.add_argument("--endpoint")
    p.set_defaults(server="watch")

    for name, text in (("lsp", "language server over stdio (editors)"),
                       ("mcp", "MCP server over stdio (AI agents)")):
        p = sub.add_parser(name, help=text)
        p.add_argument("--workspace", "-w", default=None,
                       help="workspace root (lsp: default from the client's root; mcp: .)")
        p.add_argument("--verbose", "-v", action="store_true", help="log more to stderr")
        p.add_argument("--provider", choices=["static", "openai", "gemini", "anthropic"])
        p.add_argument("--model")
        p.add_argument("--endpoint")
        # Language clients add --stdio on their own; stdio is the only transport anyway.
        p.add_argument("--stdio", action="store_true", help=argparse.SUPPRESS)
        p.set_defaults(server=name)
    return parser


def _serve(args: argparse.Namespace) -> int:
    """stdio servers own the event loop and stdout; nothing here may print."""
    overrides = _overrides(args)
    if args.server == "watch":
        from aether.watch import run as run_watch

        return run_watch(args.workspace, overrides, verbose=args.verbose)
    if args.server == "lsp":
        from aether import lsp

        return lsp.run(args.workspace, overrides, verbose=args.verbose)
    from aether import mcp

    return mcp.run(args.workspace or ".", overrides, verbose=args.verbose)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if getattr(args, "server", None):
            return _serve(args)
        return asyncio.run(_run(args, args.func))
    except (CliError, ConfigError, StoreError, PathOutsideWorkspace) as exc:
        sys.stderr.write(f"aether: error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("aether: interrupted\n")
        return 130
