"""Indexing benchmark: raw tree-sitter parse vs `aether index` cold, warm, and a saved file.

    python bench/index.py [PATH] [--saves N] [--profile FILE]
                                      (default: this interpreter's standard library)

All runs happen in this one process on a private copy of PATH, so the ratios are comparable
on a noisy machine:

- raw parse: every file the indexer would read, parsed by tree-sitter on one core;
- cold: a first `Engine.index()` (static SIRs, search rows and vectors, graph edges);
- warm: the same again with nothing changed;
- save: what the daemon does for one saved file, with the engine already open: a new
  function written into a file, then `index(paths=[file])`; timed until another
  connection sees the new function's SIR (the goal), and until the whole pass (graph,
  vectors) returns; repeated `--saves` times (each a new function), medians reported;
- edit + full rescan: one edited file found by walking the whole tree.

The cold index's CPU is printed too (this process, all threads, and its descendants: the
parse workers under the forkserver, read from /proc while they live; Linux only): on a
shared machine CPU-seconds move far less than wall time, and the cold index is CPU-bound
on two cores (its wall time is about the tree's CPU over the cores).

`--profile FILE` runs the cold index under cProfile (this process only: the parse workers
are not in it; use `py-spy record --subprocesses` for them) and prints the top functions.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import os
import pstats
import shutil
import statistics
import sysconfig
import tempfile
import time
from pathlib import Path

from aether.config import load_settings
from aether.engine.engine import Engine
from aether.store.db import Store
from aether.symbols.languages import parser_for
from aether.workspace import iter_source_files

COLD_GOAL = 2.0  # cold index / raw parse
WARM_GOAL = 0.03  # warm no-change index / cold
SAVE_GOAL_MS = 30.0  # one saved file to its SIR in the store
HAVE_PROC = os.path.isdir("/proc")  # the process tree's CPU is read from it (Linux)


def raw_parse_seconds(root: Path) -> tuple[float, int, int]:
    """Single-core tree-sitter parse of every file the indexer would read."""
    files = list(iter_source_files(root))
    blobs = [(f.language, (root / f.rel_path).read_bytes()) for f in files]
    started = time.perf_counter()
    for language, data in blobs:
        parser_for(language).parse(data)
    return time.perf_counter() - started, len(blobs), sum(len(b) for _, b in blobs)


class TreeCPU:
    """CPU seconds (user + system) of this process's descendants, sampled from /proc while
    they live: parse workers are grandchildren (the forkserver's), which RUSAGE_CHILDREN
    never sees."""

    TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

    def __init__(self) -> None:
        self.last: dict[int, float] = {}

    def sample(self) -> None:
        parents: dict[int, int] = {}
        cpu: dict[int, float] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue  # gone meanwhile
            parents[int(entry)] = int(fields[1])
            cpu[int(entry)] = (int(fields[11]) + int(fields[12])) / self.TICK
        ours = {os.getpid()}
        for _ in range(4):  # children, grandchildren, ...: a few levels at most
            ours |= {pid for pid, parent in parents.items() if parent in ours}
        for pid in ours - {os.getpid()}:
            self.last[pid] = cpu[pid]

    async def watch(self, interval: float = 0.1) -> None:
        for _ in range(10**7):  # bounded; cancelled when the pass ends
            self.sample()
            await asyncio.sleep(interval)

    @property
    def seconds(self) -> float:
        return sum(self.last.values())


async def timed_index(root: Path, paths: list[str] | None = None,
                      profile: cProfile.Profile | None = None,
                      cpu: list[float] | None = None) -> tuple[float, int]:
    """Wall seconds and symbols; `cpu` receives [this process's CPU seconds, its
    descendants'] when /proc is there to read."""
    engine = await Engine.open(load_settings(root))
    tree = TreeCPU() if cpu is not None and HAVE_PROC else None
    watcher = asyncio.create_task(tree.watch()) if tree is not None else None
    try:
        if profile is not None:
            profile.enable()
        started, own = time.perf_counter(), time.process_time()
        await engine.index(paths=paths)
        elapsed, own = time.perf_counter() - started, time.process_time() - own
        if profile is not None:
            profile.disable()
        if watcher is not None and tree is not None and cpu is not None:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            tree.sample()
            cpu[:] = [own, tree.seconds]
        return elapsed, (await engine.store.counts()).symbol_count
    finally:
        if watcher is not None:
            watcher.cancel()
        await engine.close()


def pick_function(root: Path) -> Path:
    for f in sorted(iter_source_files(root), key=lambda f: f.size):
        if f.language == "python" and f.size > 2000:
            text = (root / f.rel_path).read_text(encoding="utf-8", errors="replace")
            if "\ndef " in text:
                return root / f.rel_path
    raise SystemExit("no Python file with a top-level function to edit")


def write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


async def sir_seen(reader: Store, name: str) -> float:
    """When another connection (a reader process's) first sees `name` with a fresh SIR;
    polled every millisecond through the store's own queries (any schema)."""
    for _ in range(600_000):  # bounded: 10 minutes
        found = await reader.symbols_by_qualified_name(name)
        if found and found[0].sir_status == "ok" and found[0].source_hash == found[0].content_hash:
            return time.perf_counter()
        await asyncio.sleep(0.001)
    raise SystemExit(f"no SIR for {name} in the store")


async def save_path(root: Path, target: Path, text: str, saves: int
                    ) -> tuple[list[float], list[float]]:
    """Per save, engine open throughout (as in the daemon, which calls the same
    `index(paths=...)` after its debounce): seconds until another connection sees the new
    function's SIR, and until the whole pass (vectors, graph) is done."""
    rel = target.relative_to(root).as_posix()
    to_sir: list[float] = []
    whole: list[float] = []
    settings = load_settings(root)
    engine = await Engine.open(settings)
    reader = await Store.open(settings.db_path, read_only=True)
    try:
        for i in range(saves):
            name = f"_bench_save_{i}"
            write(target, text.replace("\ndef ", f"\ndef {name}():\n    return {i}\n\ndef ", 1))
            watch = asyncio.create_task(sir_seen(reader, name))
            started = time.perf_counter()
            await engine.index(paths=[rel])
            whole.append(time.perf_counter() - started)
            to_sir.append(await watch - started)
        write(target, text)
        await engine.index(paths=[rel])
    finally:
        await reader.close()
        await engine.close()
    return to_sir, whole


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("path", nargs="?", default=sysconfig.get_paths()["stdlib"])
    ap.add_argument("--saves", type=int, default=15, help="saved-file repetitions")
    ap.add_argument("--profile", metavar="FILE", help="cProfile the cold index into FILE")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repo"
        shutil.copytree(args.path, root, symlinks=True,
                        ignore=shutil.ignore_patterns("__pycache__", "site-packages"))
        raw, nfiles, nbytes = raw_parse_seconds(root)
        print(f"files {nfiles}, {nbytes / 1e6:.1f} MB")
        print(f"raw parse (1 core)     {raw:8.3f} s   {nbytes / 1e6 / raw:6.1f} MB/s")
        profile = cProfile.Profile() if args.profile else None
        cpu: list[float] = []
        cold, nsym = asyncio.run(timed_index(root, profile=profile, cpu=cpu))
        print(f"aether index cold      {cold:8.3f} s   {nsym} symbols")
        if cpu:
            print(f"cold CPU (process tree){sum(cpu):7.2f} s   (writer process {cpu[0]:.2f} s, "
                  f"parse workers {cpu[1]:.2f} s; {sum(cpu) / raw:.2f}x the raw parse)")
        warm, _ = asyncio.run(timed_index(root))
        print(f"aether index warm      {warm:8.3f} s")
        target = pick_function(root)
        text = target.read_text(encoding="utf-8", errors="replace")
        to_sir, whole = asyncio.run(save_path(root, target, text, max(1, args.saves)))
        save_ms = statistics.median(to_sir) * 1000
        rel = target.relative_to(root).as_posix()
        print(f"one saved file -> SIR  {save_ms:8.1f} ms  median of {len(to_sir)}, worst "
              f"{max(to_sir) * 1000:.1f} ms ({rel}, engine open; seen by a reader)")
        print(f"one saved file, pass   {statistics.median(whole) * 1000:8.1f} ms  median "
              "(the whole index(paths=[file]): SIR, graph, vectors)")
        write(target, text + "\n")
        rescan, _ = asyncio.run(timed_index(root))
        print(f"edit + full rescan     {rescan * 1000:8.1f} ms  (walks the whole tree)")
        print(f"ratio cold/raw-parse   {cold / raw:8.2f}   (goal <= {COLD_GOAL:g})")
        print(f"ratio warm/cold        {warm / cold:8.3f}   (goal <= {WARM_GOAL:g})")
        print(f"save / goal            {save_ms / SAVE_GOAL_MS:8.2f}   "
              f"(goal <= 1: {SAVE_GOAL_MS:g} ms)")
        if profile is not None:
            profile.dump_stats(args.profile)
            print(f"\ncProfile of the cold index (this process) -> {args.profile}")
            pstats.Stats(args.profile).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
