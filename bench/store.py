"""Store size benchmark: what each table and index of `.aether/aether.db` costs after a cold
`aether index` (static SIRs, search vectors, graph edges), against the indexed source bytes.

    python bench/store.py [PATH]          (default: this interpreter's standard library)
    python bench/store.py ~/.cache/aether-bench/Django-5.2.tar.gz   (a .tar.gz is extracted)
    python bench/store.py --keep /tmp/db  (also copy the database there, for a closer look)

Indexes a private copy of PATH, checkpoints the WAL, then prints the page bytes of every
table and index from `dbstat` (grouped: a table with its indexes, an FTS5 table with its
shadow tables), each one's share, the database's size, the source bytes and the ratio
db/source (goal <= 2). The ratio is the figure to compare across runs: both sides come from
this one run.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sqlite3
import sysconfig
import tarfile
import tempfile
import time
from pathlib import Path

from aether.config import load_settings
from aether.engine.engine import Engine
from aether.workspace import iter_source_files


async def cold_index(root: Path) -> tuple[float, Path]:
    engine = await Engine.open(load_settings(root))
    try:
        started = time.perf_counter()
        await engine.index()
        elapsed = time.perf_counter() - started
        return elapsed, engine.store.path
    finally:
        await engine.close()


def owner_of(conn: sqlite3.Connection) -> dict[str, str]:
    """Every b-tree name -> the table it belongs to (an index to its table, an FTS5 shadow
    table `x_data` to `x`)."""
    owners: dict[str, str] = {}
    rows = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall()
    virtual = {name for kind, name, _t, sql in rows
               if kind == "table" and (sql or "").upper().startswith("CREATE VIRTUAL")}
    for kind, name, table, _sql in rows:
        owner = table
        for v in virtual:
            if name.startswith(v + "_"):
                owner = v
        owners[name] = owner if kind in ("index", "table") else name
    return owners


def report(db: Path, source_bytes: int) -> None:
    conn = sqlite3.connect(db)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        stats = conn.execute(
            "SELECT name, SUM(pgsize), SUM(ncell) FROM dbstat GROUP BY name").fetchall()
        owners = owner_of(conn)
        rows = {r[0]: conn.execute(f'SELECT COUNT(*) FROM "{r[0]}"').fetchone()[0]
                for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                      "AND name NOT LIKE 'sqlite_%'")
                if not r[0].endswith(("_data", "_idx", "_content", "_docsize", "_config"))}
    finally:
        conn.close()
    total = sum(s[1] for s in stats)
    groups: dict[str, list[tuple[str, int]]] = {}
    for name, size, _cells in stats:
        groups.setdefault(owners.get(name, name), []).append((name, size))
    print(f"{'table / b-tree':<36} {'MB':>8} {'share':>7}  rows")
    for owner, parts in sorted(groups.items(), key=lambda g: -sum(s for _, s in g[1])):
        size = sum(s for _, s in parts)
        count = rows.get(owner)
        print(f"{owner:<36} {size / 1e6:8.2f} {size / total:7.1%}  "
              f"{'' if count is None else count}")
        if len(parts) > 1:
            for name, part in sorted(parts, key=lambda p: -p[1]):
                print(f"  {name:<34} {part / 1e6:8.2f}")
    db_bytes = db.stat().st_size
    wal = db.with_name(db.name + "-wal")
    wal_bytes = wal.stat().st_size if wal.exists() else 0
    print(f"database file        {db_bytes / 1e6:8.1f} MB (+ WAL {wal_bytes / 1e6:.1f} MB)")
    print(f"indexed source       {source_bytes / 1e6:8.1f} MB")
    print(f"ratio db/source      {db_bytes / source_bytes:8.2f}   (goal <= 2)")


def private_copy(path: Path, tmp: Path) -> Path:
    root = tmp / "repo"
    if path.is_file() and path.name.endswith((".tar.gz", ".tgz")):
        with tarfile.open(path) as tar:
            tar.extractall(tmp / "src", filter="data")
        tops = list((tmp / "src").iterdir())
        shutil.move(tops[0] if len(tops) == 1 else tmp / "src", root)
    else:
        shutil.copytree(path, root, symlinks=True,
                        ignore=shutil.ignore_patterns("__pycache__", "site-packages"))
    return root


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("path", nargs="?", default=sysconfig.get_paths()["stdlib"])
    ap.add_argument("--keep", type=Path, help="copy the database here afterwards")
    args = ap.parse_args()
    source = Path(args.path).expanduser()
    if not source.exists():
        raise SystemExit(f"no such file or folder: {source}")
    with tempfile.TemporaryDirectory() as tmp:
        root = private_copy(source, Path(tmp))
        files = list(iter_source_files(root))
        source_bytes = sum(f.size for f in files)
        elapsed, db = asyncio.run(cold_index(root))
        print(f"files {len(files)}, cold index {elapsed:.1f} s")
        report(db, source_bytes)
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            shutil.copy2(db, args.keep / db.name)
            print(f"kept {args.keep / db.name}")


if __name__ == "__main__":
    main()
