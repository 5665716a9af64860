"""Where a cold index spends its CPU: a profile by stage, not a benchmark (no goal, no ratio).

    python bench/cold_profile.py [PATH] [--skip-writer]
                                      (default: this interpreter's standard library)

1. The parse workers' part, run here in one process, file after file (as a worker runs its
   chunks: cyclic GC frozen and seldom), each stage timed in CPU seconds: the parse, the
   combined query's captures, definitions and imports, call sites / references / type facts
   (`file_analysis`), the static analyser (`static_sirs`), SIR preparation (canonical JSON,
   search words, packing: `PreparedSir.of_static`), vector texts, and the pickling of the
   outcome a worker sends back. Shares are of the sum.
2. The writer process of a real cold index (`Engine.index()` on a private copy): its CPU by
   thread (the event loop, SQLite's connection threads, the embedding threads), and the
   SQLite writer thread's CPU by statement, read by timing each call the store queues on
   its aiosqlite connections. The parse workers' own CPU is `bench/index.py`'s.

Stages are this script's split of `aether.engine.parse_worker.parse_file`, which runs them
in this order; a file that fails to parse is left out of both.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import pickle
import shutil
import sysconfig
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiosqlite.core
from tree_sitter import QueryCursor

from aether.config import load_settings
from aether.engine.engine import Engine
from aether.engine.parse_worker import WORKER_GC_THRESHOLD, ParseOutcome
from aether.engine.vector_text import vector_texts
from aether.sir.static import static_sirs
from aether.store.records import FileRecord, PreparedSir
from aether.symbols.definitions import collect_definitions
from aether.symbols.extract import ParsedSource, file_analysis, parse_tree
from aether.symbols.imports import collect_imports
from aether.symbols.languages import grammar
from aether.workspace import iter_source_files

STAGES = ("parse", "captures", "definitions", "file_analysis", "static_sirs",
          "sir_preparation", "vector_texts", "pickling")


def worker_stages(root: Path) -> tuple[dict[str, float], int, int]:
    """CPU seconds per stage over every file under `root`; files and symbols done."""
    spent = dict.fromkeys(STAGES, 0.0)
    clock = time.thread_time
    files = symbols = 0
    gc.freeze()
    saved = gc.get_threshold()
    gc.set_threshold(WORKER_GC_THRESHOLD, *saved[1:])
    try:
        for src in iter_source_files(root):
            source = (root / src.rel_path).read_bytes()
            t0 = clock()
            try:
                tree = parse_tree(src.language, source, 30.0)
            except Exception:  # a grammar's bad day is not this profile's
                continue
            t1 = clock()
            g = grammar(src.language)
            captures = QueryCursor(g.combined).captures(tree.root_node)
            t2 = clock()
            definitions = collect_definitions(src.language, src.rel_path, source, captures)
            imports = collect_imports(src.language, source, captures)
            parsed = ParsedSource(src.rel_path, src.language, source, tree, definitions,
                                  imports, captures)
            t3 = clock()
            analysis = file_analysis(parsed)
            t4 = clock()
            docs: dict[str, str] = {}
            sirs = static_sirs(parsed, docs)
            t5 = clock()
            prepared = {sid: PreparedSir.of_static(d, doc=docs.get(sid, ""))
                        for sid, d in sirs.items()}
            t6 = clock()
            texts = vector_texts(((s.id, s.name, s.qualified_name) for s in analysis.symbols),
                                 {sid: (p.sir_json, p.sir_hash, sirs[sid].get("intent"))
                                  for sid, p in prepared.items()})
            t7 = clock()
            record = FileRecord(src.rel_path, len(source), src.mtime_ns, src.language)
            pickle.dumps(ParseOutcome(record, analysis, static_sirs=prepared,
                                      vector_texts=texts), pickle.HIGHEST_PROTOCOL)
            t8 = clock()
            for stage, took in zip(STAGES, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4,
                                             t6 - t5, t7 - t6, t8 - t7), strict=True):
                spent[stage] += took
            files += 1
            symbols += len(analysis.symbols)
    finally:
        gc.set_threshold(*saved)
        gc.unfreeze()
    return spent, files, symbols


class StatementClock:
    """CPU of each call queued on the store's aiosqlite connections, in their own threads,
    keyed by its SQL (or by the method called, for fetches and commits)."""

    def __init__(self) -> None:
        self.spent: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
        self._original: Any = None

    def __enter__(self) -> StatementClock:
        original = self._original = aiosqlite.core.Connection._execute
        spent = self.spent

        async def timed(conn: Any, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
            first = args[0] if args and isinstance(args[0], str) else getattr(fn, "__name__",
                                                                                 "call")
            key = " ".join(first.split())[:90]

            def call() -> Any:
                started = time.thread_time()
                try:
                    return fn(*args, **kwargs)
                finally:
                    entry = spent[key]
                    entry[0] += 1
                    entry[1] += time.thread_time() - started

            return await original(conn, call)

        aiosqlite.core.Connection._execute = timed  # type: ignore[method-assign,assignment]
        return self

    def __exit__(self, *_exc: object) -> None:
        aiosqlite.core.Connection._execute = self._original  # type: ignore[method-assign]


def thread_cpu() -> dict[int, tuple[str, float]]:
    """CPU seconds of each live thread of this process, with its kind (Linux: /proc)."""
    tick = float(os.sysconf("SC_CLK_TCK"))
    out: dict[int, tuple[str, float]] = {}
    for t in threading.enumerate():
        if t.native_id is None:
            continue
        try:
            with open(f"/proc/self/task/{t.native_id}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        kind = ("SQLite connections" if "_connection_worker" in t.name
                else "event loop" if t is threading.main_thread()
                else "executor (embedding)" if t.name.startswith("asyncio_") else t.name)
        out[t.native_id] = (kind, (int(fields[11]) + int(fields[12])) / tick)
    return out


def cpu_since(before: dict[int, tuple[str, float]]) -> dict[str, float]:
    """Each kind of thread's CPU since `before` (threads started since count whole)."""
    out: dict[str, float] = defaultdict(float)
    for tid, (kind, cpu) in thread_cpu().items():
        out[kind] += cpu - before.get(tid, (kind, 0.0))[1]
    return out


async def writer_profile(root: Path) -> tuple[float, float, dict[str, float],
                                              dict[str, list[float]]]:
    engine = await Engine.open(load_settings(root))
    try:
        with StatementClock() as statements:
            before = thread_cpu()
            started, own = time.perf_counter(), time.process_time()
            await engine.index()
            wall, own = time.perf_counter() - started, time.process_time() - own
            threads = cpu_since(before)
    finally:
        await engine.close()
    return wall, own, threads, statements.spent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("path", nargs="?", default=sysconfig.get_paths()["stdlib"])
    ap.add_argument("--skip-writer", action="store_true", help="the worker stages only")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repo"
        shutil.copytree(args.path, root, symlinks=True,
                        ignore=shutil.ignore_patterns("__pycache__", "site-packages"))
        spent, files, symbols = worker_stages(root)
        total = sum(spent.values())
        print(f"parse workers' stages, one process: {files} files, {symbols} symbols, "
              f"{total:.2f} CPU-s")
        for stage in STAGES:
            print(f"  {stage:18s} {spent[stage]:7.2f} s  {100 * spent[stage] / total:5.1f}%")
        if args.skip_writer:
            return
        wall, own, threads, statements = asyncio.run(writer_profile(root))
        print(f"\nwriter process of a cold index: {wall:.2f} s wall, {own:.2f} CPU-s "
              "(parse workers not included)")
        for name, cpu in sorted(threads.items(), key=lambda kv: -kv[1]):
            print(f"  thread {name:24s} {cpu:7.2f} s")
        # the pool's threads (results read and unpickled) end with the pass
        print(f"  threads ended meanwhile   {own - sum(threads.values()):7.2f} s")
        sql = sum(v[1] for v in statements.values())
        print(f"  SQLite calls, by statement ({sql:.2f} CPU-s in all):")
        for key, (count, cpu) in sorted(statements.items(), key=lambda kv: -kv[1][1])[:15]:
            print(f"    {cpu:6.2f} s {int(count):5d}x  {key}")


if __name__ == "__main__":
    main()
