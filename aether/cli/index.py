"""`aether index`: one pass over the workspace, with a progress bar on a terminal."""

from __future__ import annotations

import argparse
import json
import sys

from aether.cli.common import CliError, add_provider_flags, out
from aether.cli.estimate import cmd_estimate
from aether.engine.engine import Engine, IndexSummary
from aether.engine.writer_lock import WriterLock, current_writer
from aether.store.db import StoreDamaged
from aether.workspace import display_path

SKIPPED_SHOWN = 20  # skipped files listed in text; --json lists them all


async def cmd_index(args: argparse.Namespace, engine: Engine) -> int:
    if args.dry_run:
        return await cmd_estimate(args, engine)
    if engine.store.read_only:
        raise CliError(f"the database {engine.store.path} is read-only: it can be read "
                       "(search, sir, status) but not indexed; pass --state-dir (or set "
                       "AETHER_STATE_DIR) to index into a folder you can write")
    lock = WriterLock(engine.settings.data_dir)
    if not lock.try_acquire("aether index"):
        writer = current_writer(engine.settings.data_dir) or {}
        raise CliError(
            f"another aether process (pid {writer.get('pid', '?')}, "
            f"{writer.get('command', 'aether')}) is indexing this workspace and keeps it "
            "current; `aether status` shows its progress")
    try:
        try:
            if engine.store.problem:
                raise StoreDamaged(engine.store.problem)
            summary = await _index_once(args, engine)
        except StoreDamaged:
            # the writer repairs: damaged file aside, readable SIRs kept, then a full rebuild
            recovery = await engine.repair()
            sys.stderr.write(f"aether: {recovery.reason}; moved it to {recovery.moved_to}, "
                             f"kept {recovery.salvaged_sirs} SIR(s), rebuilding\n")
            summary = await _index_once(args, engine)
    finally:
        lock.release()
    counts = await engine.store.counts()
    r, s, v = summary.index, summary.sirs, summary.vectors
    if args.json:
        out(json.dumps({
            "files_seen": r.files_seen, "files_parsed": r.files_parsed,
            "files_unchanged": r.files_unchanged, "files_skipped": r.files_skipped,
            "files_deleted": r.files_deleted, "skip_reasons": r.skip_reasons,
            "skipped": [{"path": p, "reason": why} for p, why in r.skipped_paths],
            "symbol_count": counts.symbol_count, "symbols_changed": r.symbols_changed,
            "sir_attempted": s.attempted, "sirs_salvaged": r.sirs_salvaged,
            "sir_ok": counts.ok_count,
            "sir_stale": counts.stale_count, "sir_pending": counts.pending_count,
            "seconds": round(r.seconds + s.seconds, 3),
            "parse_seconds": round(r.seconds - r.write_seconds, 3),
            "write_seconds": round(r.write_seconds, 3),
            "inference_seconds": round(s.seconds, 3),
            "sir_deferred": s.deferred, "spend_cap": s.cap_message,
            "vectors_embedded": v.embedded if v else 0,
            "vector_seconds": round(v.seconds, 3) if v else 0.0,
            "vector_model": v.model if v else None,
            "vector_fallback_reason": v.fallback_reason if v else None,
        }, indent=2))
        return 0
    skipped = f", {r.files_skipped} skipped" if r.files_skipped else ""
    deleted = f", {r.files_deleted} deleted" if r.files_deleted else ""
    out(f"Indexed {display_path(str(engine.settings.workspace))}")
    out(f"  files    {counts.file_count} ({r.files_parsed} parsed, "
        f"{r.files_unchanged} unchanged{skipped}{deleted})")
    for path, why in r.skipped_paths[:SKIPPED_SHOWN]:
        out(f"    skipped {display_path(path)}: {display_path(why)}")
    if len(r.skipped_paths) > SKIPPED_SHOWN:
        out(f"    … and {len(r.skipped_paths) - SKIPPED_SHOWN} more (`aether index --json`)")
    out(f"  symbols  {counts.symbol_count} ({r.symbols_changed} new or changed)")
    out(f"  SIRs     {counts.ok_count} ok / {counts.stale_count} stale / "
         f"{counts.pending_count} pending  [{engine.provider.name}]")
    out(f"  time     {r.seconds + s.seconds:.2f} s (parse {r.seconds - r.write_seconds:.2f} s, "
        f"write {r.write_seconds:.2f} s, inference {s.seconds:.2f} s)")
    if v is not None:
        out(f"  vectors  {v.embedded} embedded for semantic search ({v.seconds:.2f} s, "
            f"{v.model})")
        if v.fallback_reason:
            out(f"    {v.fallback_reason}")
    if s.cap_message:
        out(f"  {s.cap_message} ({s.deferred} symbol(s) left as they were)")
    if counts.stale_count:
        out("  some SIRs are stale: `aether status` says why")
    return 0


async def _index_once(args: argparse.Namespace, engine: Engine) -> IndexSummary:
    if sys.stdout.isatty() and not args.json:
        return await index_with_bar(engine)
    return await engine.index()


async def index_with_bar(engine: Engine) -> IndexSummary:
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


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("index", parents=[common], help="index the workspace once and exit")
    add_provider_flags(p)
    p.add_argument("--dry-run", action="store_true",
                   help="send nothing: say what the pass would cost (as `aether estimate`)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_index)
