"""Call-graph tool latency through the real MCP stdio client: `aether_callers` (depth 1 and
3, with references), `aether_callees` (depth 2) and `aether_impact` (a symbol, depth 2).

    python bench/graph_latency.py [PATH] [--calls 200] [--seed 1]

PATH defaults to this interpreter's standard library. A private copy is indexed first with the
static provider (in-process, like `aether index`); then `aether mcp` runs as a subprocess, the
client waits for its reconcile pass to go idle, and times each tool on the same random
symbols (sampled by id, so another checkout run with the same seed asks the same questions)
after a warm-up. Prints p50/p99 per tool and an MCP ping round trip as the floor.

To compare two versions back to back, run this script from each checkout (it starts `aether
mcp` from the checkout it lives in) with the same PATH and seed; compare the per-tool p50s
against each run's own ping floor.
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

from mcp import ClientSession, stdio_client
from mcp_latency import server_params

from aether.config import load_settings
from aether.engine.engine import Engine
from aether.workspace import iter_source_files

REPO = Path(__file__).resolve().parent.parent
IGNORE = shutil.ignore_patterns("__pycache__", "site-packages", "test", "tests", "idle_test")


async def index(root: Path) -> list[str]:
    """Index `root` (static provider); return every symbol id, sorted."""
    engine = await Engine.open(load_settings(root, {"inference": {"provider": "static"}}))
    try:
        await engine.index()
        ids: list[str] = []
        for f in iter_source_files(root):
            ids += [s.id for s in await engine.store.symbols_in_file(f.rel_path)]
        return sorted(ids)
    finally:
        await engine.close()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


TOOLS: dict[str, tuple[str, Any]] = {
    "callers d1": ("aether_callers", lambda s: {"symbol_id": s, "depth": 1,
                                               "include_references": True}),
    "callers d3": ("aether_callers", lambda s: {"symbol_id": s, "depth": 3}),
    "callees d2": ("aether_callees", lambda s: {"symbol_id": s, "depth": 2}),
    "impact d2": ("aether_impact", lambda s: {"symbols": [s], "depth": 2}),
}


async def measure(root: Path, ids: list[str], calls: int, seed: int) -> dict[str, list[float]]:
    sample = random.Random(seed).sample(ids, min(calls, len(ids)))
    params = server_params(root)
    out: dict[str, list[float]] = {k: [] for k in [*TOOLS, "ping (floor)"]}
    async with (stdio_client(params, errlog=sys.stderr) as (read, write),
                ClientSession(read, write) as session):
        await session.initialize()
        state = ""
        for _ in range(5):  # up to 5 minutes for the reconcile pass
            status = await session.call_tool("aether_status", {"wait_s": 60})
            if status.structured_content is None:
                raise SystemExit(f"aether_status failed: {status.content}")
            state = status.structured_content["daemon"]["state"]
            if state == "idle":
                break
        else:
            sys.stderr.write(f"warning: the daemon is still {state}\n")
        for s in sample[:20]:  # warm-up
            for tool, args in TOOLS.values():
                await session.call_tool(tool, args(s))
        for _ in range(300):
            t0 = time.perf_counter()
            await session.send_ping()
            out["ping (floor)"].append((time.perf_counter() - t0) * 1000)
        for s in sample:
            for kind, (tool, args) in TOOLS.items():
                t0 = time.perf_counter()
                result = await session.call_tool(tool, args(s))
                out[kind].append((time.perf_counter() - t0) * 1000)
                if result.is_error:
                    raise SystemExit(f"{tool} failed for {args(s)}: {result.content}")
    return out


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", default=sysconfig.get_paths()["stdlib"])
    parser.add_argument("--calls", type=int, default=200, help="symbols asked about")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="aether-bench-graph-") as tmp:
        root = Path(tmp) / "repo"
        shutil.copytree(args.path, root, ignore=IGNORE, symlinks=True)
        t0 = time.perf_counter()
        ids = await index(root)
        print(f"repository  {args.path} (copy): {len(ids)} symbols, indexed in "
              f"{time.perf_counter() - t0:.1f} s; aether from {REPO}")
        times = await measure(root, ids, args.calls, args.seed)
    floor = times["ping (floor)"]
    for kind, ts in times.items():
        print(f"  {kind:13s} n={len(ts):4d}  p50 {pct(ts, 0.5):6.2f} ms  "
              f"p99 {pct(ts, 0.99):6.2f} ms  p50/floor {pct(ts, 0.5) / pct(floor, 0.5):6.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
