"""Indexing benchmark: raw tree-sitter parse vs `aether index` cold, warm, and one edit.

    python bench/index.py [PATH]      (default: this interpreter's standard library)

Prints each figure and the ratios cold/raw-parse and warm/cold. All runs happen in this one
process on a private copy of PATH, so the ratios are comparable on a noisy machine.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sysconfig
import tempfile
import time
from pathlib import Path

from aether.config import load_settings
from aether.engine.engine import Engine
from aether.symbols.languages import parser_for
from aether.workspace import iter_source_files


def raw_parse_seconds(root: Path) -> tuple[float, int, int]:
    """Single-core tree-sitter parse of every file the indexer would read."""
    files = list(iter_source_files(root))
    blobs = [(f.language, (root / f.rel_path).read_bytes()) for f in files]
    started = time.perf_counter()
    for language, data in blobs:
        parser_for(language).parse(data)
    return time.perf_counter() - started, len(blobs), sum(len(b) for _, b in blobs)


async def timed_index(root: Path, paths: list[str] | None = None) -> tuple[float, int]:
    engine = await Engine.open(load_settings(root))
    try:
        started = time.perf_counter()
        await engine.index(paths=paths)
        elapsed = time.perf_counter() - started
        return elapsed, (await engine.store.counts()).symbol_count
    finally:
        await engine.close()


def pick_function(root: Path) -> Path:
    for f in sorted(iter_source_files(root), key=lambda f: f.size):
        if f.language == "python" and f.size > 2000:
            text = (root / f.rel_path).read_text(encoding="utf-8", errors="replace")
            if "\ndef " in text:
                return root / f.rel_path
    raise SystemExit("no Python file with a top-level function to edit")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("path", nargs="?", default=sysconfig.get_paths()["stdlib"])
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repo"
        shutil.copytree(args.path, root, symlinks=True,
                        ignore=shutil.ignore_patterns("__pycache__", "site-packages"))
        raw, nfiles, nbytes = raw_parse_seconds(root)
        print(f"files {nfiles}, {nbytes / 1e6:.1f} MB")
        print(f"raw parse (1 core)     {raw:8.3f} s   {nbytes / 1e6 / raw:6.1f} MB/s")
        cold, nsym = asyncio.run(timed_index(root))
        print(f"aether index cold      {cold:8.3f} s   {nsym} symbols")
        warm, _ = asyncio.run(timed_index(root))
        print(f"aether index warm      {warm:8.3f} s")
        target = pick_function(root)
        text = target.read_text(encoding="utf-8", errors="replace")
        target.write_text(text.replace("\ndef ", "\ndef _bench_edit():\n    return 1\n\ndef ", 1),
                          encoding="utf-8")
        rel = target.relative_to(root).as_posix()
        edit, _ = asyncio.run(timed_index(root, [rel]))
        print(f"one edited file        {edit * 1000:8.1f} ms  ({rel}; what a save costs)")
        target.write_text(text, encoding="utf-8")
        rescan, _ = asyncio.run(timed_index(root))
        print(f"edit + full rescan     {rescan * 1000:8.1f} ms  (walks the whole tree)")
        print(f"ratio cold/raw-parse   {cold / raw:8.2f}   (goal <= 3)")
        print(f"ratio warm/cold        {warm / cold:8.3f}   (goal <= 0.05)")


if __name__ == "__main__":
    main()
