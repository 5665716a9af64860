"""Search quality, speed and size.

    python bench/search.py [--no-stdlib] [--cache ~/.cache/aether-bench]

1. Quality: the questions of bench/search_queries.py over three real packages (httpx from
   PyPI, axios and commander from npm), indexed with the default `static` provider. Prints
   MRR@10 and Recall@10 per repository and per mode (lexical, semantic, hybrid).
2. Speed and size on the standard library of this interpreter (without site-packages): a
   cold index and the share of it spent making vectors, search latency p50/p99 per mode
   in-process (and the CPU time p50, steadier on a shared machine), and the vectors' size
   on disk and in memory.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
from mcp import ClientSession, StdioServerParameters, stdio_client  # noqa: E402
from search_queries import QUERIES, REPOS  # noqa: E402

from aether.config import load_settings  # noqa: E402
from aether.engine.engine import Engine  # noqa: E402
from aether.engine.search import MODES  # noqa: E402

K = 10


def fetch(cache: Path, kind: str, spec: str, folder: str) -> Path:
    """Download and unpack once into the cache; third-party code is never committed."""
    dest = cache / folder
    if dest.is_dir():
        return dest
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        if kind == "pypi":
            subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                            "--no-binary", ":all:", spec, "-d", tmp], check=True)
        else:
            subprocess.run(["npm", "pack", spec, "--silent"], cwd=tmp, check=True,
                           stdout=subprocess.DEVNULL)
        archive = next(Path(tmp).glob("*.t*gz"))
        with tarfile.open(archive) as tar:
            tar.extractall(tmp, filter="data")
        unpacked = Path(tmp) / ("package" if kind == "npm" else folder)
        shutil.copytree(unpacked, dest)
    return dest


async def open_indexed(src: Path, work: Path, *,
                       vectors: bool = True) -> tuple[Engine, float, float]:
    """A cold index of a private copy; (engine, seconds in all, seconds making vectors)."""
    shutil.copytree(src, work, ignore=shutil.ignore_patterns(".aether", "__pycache__",
                                                               "site-packages"))
    engine = await Engine.open(load_settings(work, {"search": {"vectors": vectors}}))
    started = time.perf_counter()
    summary = await engine.index()
    total = time.perf_counter() - started
    vectors = summary.vectors.seconds if summary.vectors else 0.0
    return engine, total, vectors


async def quality(cache: Path) -> dict[str, dict[str, tuple[float, float]]]:
    results: dict[str, dict[str, tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for repo, (kind, spec, folder) in REPOS.items():
            src = fetch(cache, kind, spec, folder)
            engine, _, _ = await open_indexed(src, Path(tmp) / repo)
            try:
                for _, answers in QUERIES[repo]:
                    for a in answers:
                        if not await engine.store.symbols_by_qualified_name(a):
                            raise SystemExit(f"{repo}: answer {a!r} is not a symbol")
                results[repo] = {}
                for mode in ("lexical", "semantic", "hybrid"):
                    rr, rec = [], []
                    for query, answers in QUERIES[repo]:
                        out = await engine.search(query, K, mode)
                        if out.mode_used != mode:
                            raise SystemExit(f"{mode} fell back: {out.fallback_reason}")
                        names = [r.qualified_name for r in out.records]
                        ranks = [i for i, n in enumerate(names) if n in answers]
                        rr.append(1.0 / (ranks[0] + 1) if ranks else 0.0)
                        rec.append(len({names[i] for i in ranks}) / len(set(answers)))
                    results[repo][mode] = (statistics.mean(rr), statistics.mean(rec))
            finally:
                await engine.close()
    return results


def vector_bytes_on_disk(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        row = conn.execute("SELECT SUM(pgsize) FROM dbstat WHERE name = 'symbol_vectors' "
                           "OR name LIKE 'sqlite_autoindex_symbol_vectors%'").fetchone()
        return int(row[0] or 0)
    finally:
        conn.close()


async def stdlib(queries: list[str]) -> None:
    src = Path(sysconfig.get_paths()["stdlib"])
    with tempfile.TemporaryDirectory() as tmp:
        # The baseline: the same cold index without vectors, measured in this run.
        plain, bare, _ = await open_indexed(src, Path(tmp) / "stdlib-plain", vectors=False)
        await plain.close()
        engine, cold, vec_s = await open_indexed(src, Path(tmp) / "stdlib")
        try:
            symbols = (await engine.store.counts()).symbol_count
            assert engine.vectors is not None
            m = await engine.vectors.matrix(engine.store)
            assert m is not None
            print(f"\nstdlib: {symbols} symbols")
            # Vectors are made while the parse workers work (VectorOverlap): what a user
            # waits for is the difference between the two cold indexes.
            print(f"  cold index {cold:6.1f} s with vectors ({vec_s:5.1f} s of embedding, "
                  f"mostly overlapped), {bare:6.1f} s without: vectors add "
                  f"{cold / bare - 1:.0%} to the wait")
            print(f"  vectors on disk {vector_bytes_on_disk(engine.settings.db_path) / 1e6:.1f} MB"
                  f", in memory {m.nbytes() / 1e6:.1f} MB")
            for mode in MODES:
                times, cpu = [], []
                for _ in range(3):
                    for q in queries:
                        t, c = time.perf_counter(), time.process_time()
                        await engine.search(q, 20, mode)
                        times.append((time.perf_counter() - t) * 1000)
                        cpu.append((time.process_time() - c) * 1000)
                times.sort()
                cpu.sort()
                p50 = times[len(times) // 2]
                p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
                # CPU time (this process, all threads) moves far less than wall time when
                # other processes share the cores: compare it across runs
                print(f"  {mode:8s} search p50 {p50:5.1f} ms  p99 {p99:5.1f} ms  "
                      f"cpu p50 {cpu[len(cpu) // 2]:5.1f} ms  "
                      f"({len(times)} queries, in-process)")
        finally:
            await engine.close()
        await through_mcp(engine.settings.workspace, queries)


async def through_mcp(root: Path, queries: list[str]) -> None:
    """The same queries through `aether mcp` over stdio with the SDK's client (hybrid)."""
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "aether", "mcp", "--workspace", str(root)],
        env={**os.environ, "PYTHONPATH": str(BENCH.parent)},
        cwd=str(root))
    times: list[float] = []
    async with (stdio_client(params, errlog=sys.stderr) as (read, write),
                ClientSession(read, write) as session):
        await session.initialize()
        await session.call_tool("aether_status", {"wait_s": 120})
        for q in queries[:20]:  # warm-up: the matrix loads on the first semantic query
            await session.call_tool("aether_search", {"query": q})
        for _ in range(3):
            for q in queries:
                t = time.perf_counter()
                result = await session.call_tool("aether_search", {"query": q, "limit": 20})
                times.append((time.perf_counter() - t) * 1000)
                sc = result.structured_content or {}
                if result.is_error or sc.get("mode_used") != "hybrid":
                    raise SystemExit(f"aether_search {q!r}: {result.content}")
    times.sort()
    print(f"  hybrid   search p50 {times[len(times) // 2]:5.1f} ms  "
          f"p99 {times[min(len(times) - 1, int(len(times) * 0.99))]:5.1f} ms  "
          f"({len(times)} queries, MCP stdio client)")


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "aether-bench")
    ap.add_argument("--no-stdlib", action="store_true")
    ap.add_argument("--no-quality", action="store_true", help="only the standard library part")
    args = ap.parse_args()
    results = {} if args.no_quality else await quality(args.cache)
    print(f"{'repo':10s} {'queries':>7s}  " + "  ".join(f"{m:>17s}" for m in
                                                         ("lexical", "semantic", "hybrid")))
    print(f"{'':10s} {'':7s}  " + "  ".join(f"{'MRR@10  R@10':>17s}" for _ in range(3)))
    totals: dict[str, list[float]] = {}
    for repo, by_mode in results.items():
        cells = []
        for mode in ("lexical", "semantic", "hybrid"):
            mrr, rec = by_mode[mode]
            totals.setdefault(mode, []).append(mrr)
            cells.append(f"{mrr:8.3f} {rec:6.3f}")
        print(f"{repo:10s} {len(QUERIES[repo]):7d}  " + "  ".join(f"{c:>17s}" for c in cells))
    if totals:
        print("mean MRR@10: " + ", ".join(f"{m} {statistics.mean(v):.3f}"
                                          for m, v in totals.items()))
    if not args.no_stdlib:
        queries = [q for qs in QUERIES.values() for q, _ in qs]
        queries += ["HTTPConnection", "urlopen", "get", "json.loads", "parse_args", "Thread"]
        await stdlib(queries)


if __name__ == "__main__":
    asyncio.run(main())
