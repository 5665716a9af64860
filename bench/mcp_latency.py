"""`aether_get_sir` latency through the real MCP stdio client, on a repository of >= 10,000
symbols.

    python bench/mcp_latency.py [PATH] [--calls 3000] [--seed 1]

PATH defaults to this interpreter's standard library. A private copy is indexed first with the
static provider (in-process, like `aether index`); then `aether mcp` runs as a subprocess, the
client waits for its reconcile pass to go idle, and times `aether_get_sir` round trips on
random symbols, by symbol_id, by qualified name and by file + line (after a warm-up).
Prints p50/p99 per lookup kind. Goal: p50 < 5 ms, p99 < 20 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import sys
import sysconfig
import tempfile
import time
from pathlib import Path
from typing import Any

from mcp import ClientSession, StdioServerParameters, stdio_client

from aether.config import load_settings
from aether.engine.engine import Engine
from aether.store.records import SymbolRecord
from aether.workspace import iter_source_files

REPO = Path(__file__).resolve().parent.parent

IGNORE = shutil.ignore_patterns("__pycache__", "site-packages", "test", "tests", "idle_test")
GOAL_P50_MS, GOAL_P99_MS = 5.0, 20.0
MIN_SYMBOLS = 10_000


async def index(root: Path) -> tuple[int, list[SymbolRecord]]:
    """Index `root` (static provider); return the symbol count and every symbol."""
    engine = await Engine.open(load_settings(root, {"inference": {"provider": "static"}}))
    try:
        await engine.index()
        count = (await engine.store.counts()).symbol_count
        symbols: list[SymbolRecord] = []
        for f in iter_source_files(root):
            symbols += await engine.store.symbols_in_file(f.rel_path)
        return count, symbols
    finally:
        await engine.close()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def unique_names(symbols: list[SymbolRecord]) -> list[SymbolRecord]:
    seen: dict[str, int] = {}
    for s in symbols:
        seen[s.qualified_name] = seen.get(s.qualified_name, 0) + 1
    return [s for s in symbols if seen[s.qualified_name] == 1]


def server_params(root: Path) -> StdioServerParameters:
    """`aether mcp` on `root` with the static provider, run from this checkout."""
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "aether", "mcp", "--workspace", str(root), "--provider", "static"],
        env={"PYTHONPATH": str(REPO)}, cwd=str(root))


async def measure(root: Path, symbols: list[SymbolRecord], calls: int,
                  seed: int) -> dict[str, list[float]]:
    rng = random.Random(seed)
    unique = unique_names(symbols)
    kinds: dict[str, Any] = {
        "symbol_id": lambda s: {"symbol_id": s.id},
        "qualified_name": lambda s: {"qualified_name": s.qualified_name},
        "file+line": lambda s: {"file": s.file_path, "line": s.start_line},
    }
    params = server_params(root)
    out: dict[str, list[float]] = {k: [] for k in [*kinds, "ping (floor)"]}
    async with (stdio_client(params, errlog=sys.stderr) as (read, write),
                ClientSession(read, write) as session):
        await session.initialize()
        status = await session.call_tool("aether_status", {"wait_s": 60})
        assert status.structured_content is not None
        state = status.structured_content["daemon"]["state"]
        if state != "idle":
            sys.stderr.write(f"warning: the daemon is still {state}\n")
        for s in rng.sample(symbols, 200):  # warm-up
            await session.call_tool("aether_get_sir", {"symbol_id": s.id})
        for _ in range(500):  # the floor: an MCP ping round trip through the same SDK stack
            t0 = time.perf_counter()
            await session.send_ping()
            out["ping (floor)"].append((time.perf_counter() - t0) * 1000)
        for _ in range(calls):
            kind = rng.choice(list(kinds))
            s = rng.choice(unique if kind == "qualified_name" else symbols)
            t0 = time.perf_counter()
            result = await session.call_tool("aether_get_sir", kinds[kind](s))
            out[kind].append((time.perf_counter() - t0) * 1000)
            if result.is_error:
                raise SystemExit(f"aether_get_sir failed for {kinds[kind](s)}: "
                                 f"{result.content}")
    return out


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", default=sysconfig.get_paths()["stdlib"])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="aether-bench-mcp-") as tmp:
        root = Path(tmp) / "repo"
        shutil.copytree(args.path, root, ignore=IGNORE, symlinks=True)
        t0 = time.perf_counter()
        count, symbols = await index(root)
        print(f"repository  {args.path} (copy): {count} symbols, indexed in "
              f"{time.perf_counter() - t0:.1f} s")
        if count < MIN_SYMBOLS:
            print(f"warning: fewer than {MIN_SYMBOLS} symbols")
        times = await measure(root, symbols, args.calls, args.seed)
    floor = times.pop("ping (floor)")
    every = [t for ts in times.values() for t in ts]
    print(f"aether_get_sir over MCP stdio, {len(every)} calls "
          f"(goal p50 < {GOAL_P50_MS:g} ms, p99 < {GOAL_P99_MS:g} ms)")
    for kind, ts in (*times.items(), ("all", every), ("ping (floor)", floor)):
        print(f"  {kind:15s} n={len(ts):5d}  p50 {pct(ts, 0.5):6.2f} ms  "
              f"p99 {pct(ts, 0.99):6.2f} ms  max {max(ts):6.2f} ms")
    p50, p99 = pct(every, 0.5), pct(every, 0.99)
    print(f"ratio to goal: p50 {p50 / GOAL_P50_MS:.2f}x, p99 {p99 / GOAL_P99_MS:.2f}x "
          f"({'met' if p50 < GOAL_P50_MS and p99 < GOAL_P99_MS else 'NOT met'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
