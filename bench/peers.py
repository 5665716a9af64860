"""AETHER side by side with two peers on the same source, each through its own MCP stdio server.

    python bench/peers.py [PATH]    (default: Django 5.2 from ~/.cache/aether-bench)

The peers are never project dependencies; install them into their own virtualenv first:

    python -m venv ~/.cache/aether-bench/peers-venv
    ~/.cache/aether-bench/peers-venv/bin/pip install jcodemunch-mcp code-index-mcp
    pip download django==5.2 --no-deps --no-binary :all: -d ~/.cache/aether-bench

For each tool, on a private copy of PATH: cold index wall time (AETHER: `aether index`; the
peers: their own index tool, called over MCP), peak RSS of the whole process tree during the
index (sampled from /proc every 50 ms), the on-disk size of what it stored (AETHER:
`.aether/`; the peers get a private HOME and TMPDIR, measured after), then the latency of one
symbol lookup and one search through MCP (median of 5). Ratios are peer / AETHER, measured
in this run. Peers run with no network access configured beyond loopback (no keys set).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from measure import PeakSampler

CACHE = Path.home() / ".cache/aether-bench"
PEERS = CACHE / "peers-venv/bin"
LOOKUP_NAME = "get_object_or_404"
SEARCH_QUERY = "render template response"


@dataclass
class Row:
    tool: str
    index_s: float = float("nan")
    peak_mb: float = float("nan")
    disk_mb: float = float("nan")
    lookup_ms: float = float("nan")
    search_ms: float = float("nan")
    note: str = ""


def du_mb(path: Path) -> float:
    total = 0
    for p in path.rglob("*"):
        if p.is_file() and not p.is_symlink():
            total += p.stat().st_size
    return total / 1e6


def source_tree(tmp: Path, given: str | None) -> Path:
    if given:
        return Path(given)
    sdist = CACHE / "Django-5.2.tar.gz"
    if not sdist.exists():
        raise SystemExit(f"missing {sdist}: see the docstring for the pip download line")
    with tarfile.open(sdist) as tar:
        tar.extractall(tmp / "src", filter="data")
    return tmp / "src/Django-5.2"


async def median_ms(call: Callable[[], Awaitable[Any]], n: int = 5) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        await call()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


async def session_run(command: list[str], env: dict[str, str],
                      body: Callable[[ClientSession], Awaitable[None]]) -> None:
    params = StdioServerParameters(command=command[0], args=command[1:], env=env)
    async with stdio_client(params) as (r, w), ClientSession(r, w) as s:
        await s.initialize()
        await body(s)


def private_env(home: Path) -> dict[str, str]:
    (home / "tmp").mkdir(parents=True, exist_ok=True)
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home),
            "TMPDIR": str(home / "tmp"), "NO_PROXY": "*", "HTTP_PROXY": "http://127.0.0.1:9",
            "HTTPS_PROXY": "http://127.0.0.1:9"}


async def bench_aether(root: Path) -> Row:
    row = Row("aether")
    with PeakSampler() as peak:
        t0 = time.perf_counter()
        await asyncio.to_thread(
            subprocess.run, [sys.executable, "-m", "aether", "index", "--workspace", str(root)],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        row.index_s = time.perf_counter() - t0
    row.peak_mb, row.disk_mb = peak.peak, du_mb(root / ".aether")

    async def body(s: ClientSession) -> None:
        row.lookup_ms = await median_ms(
            lambda: s.call_tool("aether_symbol_lookup", {"name": LOOKUP_NAME}))
        row.search_ms = await median_ms(
            lambda: s.call_tool("aether_search", {"query": SEARCH_QUERY}))

    await session_run([sys.executable, "-m", "aether", "mcp", "--workspace", str(root)],
                      {**os.environ}, body)
    return row


async def bench_code_index(root: Path, home: Path) -> Row:
    row = Row("code-index-mcp")
    exe = PEERS / "code-index-mcp"
    if not exe.exists():
        row.note = "not installed"
        return row

    async def body(s: ClientSession) -> None:
        with PeakSampler() as peak:
            t0 = time.perf_counter()
            await s.call_tool("set_project_path", {"path": str(root)})
            await s.call_tool("build_deep_index", {})
            row.index_s = time.perf_counter() - t0
        row.peak_mb = peak.peak
        row.lookup_ms = await median_ms(lambda: s.call_tool(
            "get_symbol_body", {"file_path": "django/shortcuts.py", "symbol_name": LOOKUP_NAME}))
        row.search_ms = await median_ms(lambda: s.call_tool(
            "search_code_advanced", {"pattern": SEARCH_QUERY.split()[0]}))

    await session_run([str(exe)], private_env(home), body)
    row.disk_mb = du_mb(home)
    return row


async def bench_jcodemunch(root: Path, home: Path) -> Row:
    row = Row("jcodemunch-mcp")
    exe = PEERS / "jcodemunch-mcp"
    if not exe.exists():
        row.note = "not installed"
        return row

    def order(action: str, args: dict[str, Any]) -> dict[str, Any]:
        return {"action": action, "args": args, "allow_state_change": True}

    async def body(s: ClientSession) -> None:
        with PeakSampler() as peak:
            t0 = time.perf_counter()
            res = await s.call_tool("order", order("index_folder", {"path": str(root)}))
            row.index_s = time.perf_counter() - t0
        row.peak_mb = peak.peak
        text = res.content[0].text if res.content else ""  # type: ignore[union-attr]
        repo = _repo_id(text) or str(root)
        row.lookup_ms = await median_ms(lambda: s.call_tool(
            "order", order("search_symbols", {"repo": repo, "query": LOOKUP_NAME})))
        row.search_ms = await median_ms(lambda: s.call_tool(
            "order", order("search_text", {"repo": repo, "query": SEARCH_QUERY})))

    await session_run([str(exe)], private_env(home), body)
    row.disk_mb = du_mb(home)
    return row


def _repo_id(text: str) -> str | None:
    import json

    try:
        data = json.loads(text)
    except ValueError:
        return None
    found = data.get("repo") if isinstance(data, dict) else None
    return str(found) if found else None


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("path", nargs="?")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        src = source_tree(tmp, args.path)
        rows = []
        for name in ("aether", "code-index-mcp", "jcodemunch-mcp"):
            root = tmp / name / "repo"
            shutil.copytree(src, root, symlinks=True,
                            ignore=shutil.ignore_patterns("__pycache__"))
            home = tmp / name / "home"
            if name == "aether":
                rows.append(asyncio.run(bench_aether(root)))
            elif name == "code-index-mcp":
                rows.append(asyncio.run(bench_code_index(root, home)))
            else:
                rows.append(asyncio.run(bench_jcodemunch(root, home)))
        base = rows[0]
        print(f"{'tool':16s} {'index s':>9s} {'peak MB':>9s} {'disk MB':>9s} "
              f"{'lookup ms':>10s} {'search ms':>10s}")
        for r in rows:
            print(f"{r.tool:16s} {r.index_s:9.2f} {r.peak_mb:9.1f} {r.disk_mb:9.1f} "
                  f"{r.lookup_ms:10.1f} {r.search_ms:10.1f} {r.note}")
        print("ratios peer/aether (> 1: aether is ahead)")
        for r in rows[1:]:
            print(f"{r.tool:16s} {r.index_s / base.index_s:9.2f} {r.peak_mb / base.peak_mb:9.2f} "
                  f"{r.disk_mb / base.disk_mb:9.2f} {r.lookup_ms / base.lookup_ms:10.2f} "
                  f"{r.search_ms / base.search_ms:10.2f}")


if __name__ == "__main__":
    main()
