"""Save-to-SIR latency of a running daemon, and its idle cost.

    python bench/watch.py [PATH ...]     (default: the standard library + site-packages)

Starts `aether watch` (static provider) on a private copy of the given trees (at least 2,000
files), waits for the first index, then makes 50 body edits to random functions, one at a
time, and measures from each save until the store holds the new SIR for that symbol
(debounce included). Then measures the idle daemon's CPU over 10 s and its RSS, and its RSS
again once it has released what an idle daemon lets go (the search model, vectors, caches:
RELEASE_IDLE_S after the last use).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from functools import partial
from pathlib import Path

from measure import wait_for

from aether.engine.daemon import RELEASE_IDLE_S

EDITS = 50
MIN_FILES = 2000


def _sir_updated(conn: sqlite3.Connection, sid: bytes, before: int | None) -> str | None:
    """"updated": a SIR newer than `before` (ms, schema v19) describes the code now stored
    (a static SIR keeps no source hash of its own: schema v22); "gone": the edit fell inside
    a multi-line signature, so the symbol now has a new id (a rename). `sid`: the id as
    stored."""
    if conn.execute("SELECT 1 FROM symbols WHERE id = ?", (sid,)).fetchone() is None:
        return "gone"
    row = conn.execute(
        "SELECT r.created_at, COALESCE(r.source_hash, s.content_hash) = s.content_hash "
        "FROM sir r "
        "JOIN symbols s ON s.seq = r.seq WHERE s.id = ?", (sid,)).fetchone()
    return "updated" if row and row[1] == 1 and row[0] != before else None


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    paths = sysconfig.get_paths()
    ap = argparse.ArgumentParser()
    ap.add_argument("trees", nargs="*", default=[paths["stdlib"], paths["purelib"]])
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repo"
        for i, tree in enumerate(args.trees):
            shutil.copytree(tree, root / f"t{i}", symlinks=True,
                            ignore=shutil.ignore_patterns("__pycache__", "site-packages"))
        proc = subprocess.Popen([sys.executable, "-m", "aether", "watch", "--workspace",
                                 str(root)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            db = root / ".aether/aether.db"
            started = time.perf_counter()

            def indexed() -> bool:
                if not db.exists():
                    return False
                try:
                    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
                    meta = conn.execute("SELECT value FROM meta WHERE key='last_indexed_at'")
                    done = meta.fetchone() is not None
                    conn.close()
                    return done
                except sqlite3.Error:
                    return False

            wait_for(indexed)
            time.sleep(1.0)  # let the first pass's SIR step finish
            conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
            nfiles = conn.execute("SELECT COUNT(*) FROM files").fetchone()[0]
            nsym = conn.execute("SELECT COUNT(*) FROM symbols").fetchone()[0]
            first = time.perf_counter() - started
            print(f"files {nfiles}, symbols {nsym}, first index {first:.1f} s")
            if nfiles < MIN_FILES:
                print(f"warning: fewer than {MIN_FILES} files")
            candidates = conn.execute(  # file, language and kind by number (schema v22)
                "SELECT s.id, f.path, s.end_line FROM symbols s JOIN files f ON f.id = s.file "
                "JOIN symbol_labels k ON k.id = s.kind JOIN symbol_labels l "
                "ON l.id = s.language WHERE k.text = 'function' AND l.text = 'python' "
                "AND s.end_line - s.start_line BETWEEN 2 AND 40"
            ).fetchall()
            latencies: list[float] = []
            missed = renamed = 0
            for n, (sid, rel, line) in enumerate(rng.sample(candidates, EDITS)):
                before = conn.execute("SELECT r.created_at FROM sir r JOIN symbols s "
                                      "ON s.seq = r.seq WHERE s.id = ?", (sid,)).fetchone()
                path = root / rel
                lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
                # a comment before the body's last line: same id, new content hash
                last = lines[line - 1]
                indent = last[: len(last) - len(last.lstrip())] or "    "
                lines.insert(line - 1, f"{indent}# bench edit {n}\n")
                t0 = time.perf_counter()
                path.write_text("".join(lines), encoding="utf-8")
                try:
                    outcome = wait_for(
                        partial(_sir_updated, conn, sid, before[0] if before else None), 30,
                        every=0.005)  # it times the save: poll finely
                except TimeoutError:
                    print(f"missed: {rel}:{line}")
                    missed += 1
                    continue
                if outcome == "gone":
                    renamed += 1
                    continue
                latencies.append((time.perf_counter() - t0) * 1000)
            latencies.sort()
            p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
            if missed:
                print(f"{missed} edit(s) never showed an updated SIR")
            if renamed:
                print(f"{renamed} edit(s) landed in a multi-line signature (a new id): not timed")
            print(f"save -> SIR readable   p50 {statistics.median(latencies):7.1f} ms   "
                  f"p99 {p99:7.1f} ms   max {latencies[-1]:7.1f} ms   (goal p50 < 300 ms)")
            time.sleep(2.0)
            cpu0, t0 = _cpu_seconds(proc.pid), time.perf_counter()
            time.sleep(10.0)
            cpu = (_cpu_seconds(proc.pid) - cpu0) / (time.perf_counter() - t0) * 100
            print(f"idle daemon            CPU {cpu:5.2f} %   RSS {_rss_mb(proc.pid):6.1f} MB")
            time.sleep(max(0.0, RELEASE_IDLE_S + 10 - (time.perf_counter() - t0) - 2))
            print(f"idle, after release    RSS {_rss_mb(proc.pid):6.1f} MB   "
                  f"({RELEASE_IDLE_S:.0f} s unused; goal <= 120 MB at 100k symbols)")
        finally:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
