"""Hover latency through a real LSP client over stdio, on a large and a 10x smaller repository.

    python bench/hover.py [PATH] [--hovers 300] [--files 5]

PATH defaults to this interpreter's standard library. A private copy is indexed first with the
static provider (in-process, like `aether index`); the small repository is every tenth file
of the large one. Then `aether lsp` runs as a subprocess, a handful of files are opened, and
hovers land on random symbols in them. Prints p50/p99 per size, and the large/small ratio.
Goal: p50 < 10 ms, p99 < 30 ms, flat in repository size.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import statistics
import sys
import sysconfig
import tempfile
import time
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.client import LanguageClient

from aether.config import load_settings
from aether.engine.engine import Engine
from aether.store.records import SymbolRecord
from aether.workspace import iter_source_files

REPO = Path(__file__).resolve().parent.parent
IGNORE = shutil.ignore_patterns("__pycache__", "site-packages", "test", "tests", "idle_test")


async def index(root: Path) -> tuple[int, dict[str, list[SymbolRecord]]]:
    """Index `root` (static provider); return the symbol count and, per file, its symbols."""
    engine = await Engine.open(load_settings(root, {"inference": {"provider": "static"}}))
    try:
        await engine.index()
        count = (await engine.store.counts()).symbol_count
        files = [f.rel_path for f in iter_source_files(root) if f.language == "python"]
        per_file = {p: await engine.store.symbols_in_file(p) for p in files}
        return count, {p: s for p, s in per_file.items() if s}
    finally:
        await engine.close()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def measure(root: Path, per_file: dict[str, list[SymbolRecord]], hovers: int,
                  nfiles: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    candidates = sorted(p for p, syms in per_file.items() if len(syms) >= 20)
    chosen = rng.sample(candidates, min(nfiles, len(candidates)))
    client = LanguageClient("aether-bench", "1")
    idle = asyncio.Event()

    @client.feature("aether/status")
    def _status(ls: LanguageClient, params: Any) -> None:
        state = params["state"] if isinstance(params, dict) else params.state  # namedtuple
        if state == "idle":
            idle.set()

    @client.feature(types.WINDOW_WORK_DONE_PROGRESS_CREATE)
    def _create(params: types.WorkDoneProgressCreateParams) -> None:
        return None

    @client.feature(types.PROGRESS)
    def _progress(params: types.ProgressParams) -> None:
        return None

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    await client.start_io(sys.executable, "-m", "aether", "lsp", "--provider", "static",
                          env=env, cwd=str(REPO))  # never a cwd that shadows modules
    try:
        await client.initialize_async(types.InitializeParams(
            capabilities=types.ClientCapabilities(
                window=types.WindowClientCapabilities(work_done_progress=True)),
            root_uri=root.as_uri()))
        client.initialized(types.InitializedParams())
        await asyncio.wait_for(idle.wait(), 600)

        targets: list[tuple[str, SymbolRecord]] = []
        for rel in chosen:
            uri = (root / rel).as_uri()
            client.text_document_did_open(types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri, language_id="python", version=1,
                    text=(root / rel).read_text(encoding="utf-8"))))
            targets += [(uri, s) for s in per_file[rel]]

        async def hover(uri: str, sym: SymbolRecord) -> tuple[float, bool]:
            # on the symbol's name: its header line, a little past the `def`/`class`
            pos = types.Position(line=sym.start_line - 1, character=sym.start_col + 5)
            started = time.perf_counter()
            res = await client.text_document_hover_async(types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=uri), position=pos))
            return (time.perf_counter() - started) * 1000, res is not None

        for uri, sym in rng.sample(targets, min(20, len(targets))):  # warm-up, not measured
            await hover(uri, sym)
        times, hits = [], 0
        for _ in range(hovers):
            ms, hit = await hover(*rng.choice(targets))
            times.append(ms)
            hits += hit

        # after an unsaved edit every hover in that file re-parses once
        edit_times = []
        for i, rel in enumerate(chosen):
            uri = (root / rel).as_uri()
            text = (root / rel).read_text(encoding="utf-8") + f"\n# edit {i}\n"
            client.text_document_did_change(types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))
            ms, _ = await hover(uri, rng.choice(per_file[rel]))
            edit_times.append(ms)
        await client.shutdown_async(None)
        client.exit(None)
        return {"files": chosen, "sizes": [(root / r).stat().st_size for r in chosen],
                "p50": statistics.median(times), "p99": pct(times, 0.99), "max": max(times),
                "hit_rate": hits / hovers, "edit_p50": statistics.median(edit_times),
                "edit_max": max(edit_times)}
    finally:
        await client.stop()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("path", nargs="?", default=sysconfig.get_paths()["stdlib"])
    ap.add_argument("--hovers", type=int, default=300)
    ap.add_argument("--files", type=int, default=5)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        large = Path(tmp) / "large"
        shutil.copytree(args.path, large, symlinks=True, ignore=IGNORE)
        small = Path(tmp) / "small"
        for i, f in enumerate(sorted(iter_source_files(large), key=lambda f: f.rel_path)):
            if i % 10 == 0:
                dest = small / f.rel_path
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(large / f.rel_path, dest)
        results = {}
        for name, root in (("large", large), ("small", small)):
            started = time.perf_counter()
            count, per_file = asyncio.run(index(root))
            took = time.perf_counter() - started
            print(f"{name}: {count} symbols, indexed in {took:.1f} s", flush=True)
            r = asyncio.run(measure(root, per_file, args.hovers, args.files, args.seed))
            results[name] = r
            print(f"  hover over {args.hovers} random symbols in {len(r['files'])} open files "
                  f"({min(r['sizes']) // 1000}-{max(r['sizes']) // 1000} kB): "
                  f"p50 {r['p50']:.2f} ms  p99 {r['p99']:.2f} ms  max {r['max']:.2f} ms  "
                  f"(hover found {r['hit_rate']:.0%})")
            print(f"  first hover after an unsaved edit (re-parse): p50 {r['edit_p50']:.2f} ms  "
                  f"max {r['edit_max']:.2f} ms", flush=True)
        lg, sm = results["large"], results["small"]
        print(f"ratio large/small  p50 {lg['p50'] / sm['p50']:.2f}  p99 {lg['p99'] / sm['p99']:.2f}"
              "   (goal: flat, ~1)")
        print(f"goal p50 < 10 ms: {'met' if max(lg['p50'], sm['p50']) < 10 else 'MISSED'};  "
              f"p99 < 30 ms: {'met' if max(lg['p99'], sm['p99']) < 30 else 'MISSED'}")


if __name__ == "__main__":
    main()
