"""Soak: does a running `aether watch` hold its memory flat while files keep changing?

    python bench/soak.py [PATH] [--edits 300] [--every 25]
    (default PATH: Django 5.2 from ~/.cache/aether-bench, fetched with
     `pip download django==5.2 --no-deps --no-binary :all: -d ~/.cache/aether-bench`,
     else this interpreter's standard library)

Indexes a private copy of PATH with `aether index`, then starts `aether watch` (static
provider) on it, as a daemon started on an indexed repository is (`--cold`: let the daemon
do the first index itself), then edits random Python files one at a time (a new function
each time: new symbols, new SIRs, new search rows), waiting for each save to reach the
store, and samples the resident memory of the daemon's process tree every `--every` edits.
The baseline is the sample after warm-up (the first `--every` edits); the ratio
last/baseline should stay near 1.0.
`--daemon-python OTHER_VENV/bin/python` runs another build's daemon, for a before/after.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sqlite3
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import time
from pathlib import Path

from measure import stored_mtime, wait_for

from aether.engine.memory import tree_rss_mb

CACHE = Path.home() / ".cache/aether-bench"


def default_tree(tmp: Path) -> Path:
    sdist = CACHE / "Django-5.2.tar.gz"
    if sdist.exists():
        with tarfile.open(sdist) as tar:
            tar.extractall(tmp / "src", filter="data")
        return tmp / "src/Django-5.2"
    return Path(sysconfig.get_paths()["stdlib"])


def indexed(db: Path) -> bool:
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            return conn.execute("SELECT 1 FROM meta WHERE key = 'last_indexed_at'"
                                ).fetchone() is not None
        finally:
            conn.close()
    except sqlite3.Error:
        return False


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("path", nargs="?")
    ap.add_argument("--edits", type=int, default=300)
    ap.add_argument("--every", type=int, default=25)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--cold", action="store_true", help="the daemon does the first index")
    ap.add_argument("--daemon-python", default=sys.executable,
                    help="interpreter whose aether runs the daemon (to measure another build)")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        src = Path(args.path) if args.path else default_tree(tmp)
        root = tmp / "repo"
        shutil.copytree(src, root, symlinks=True,
                        ignore=shutil.ignore_patterns("__pycache__", "site-packages"))
        files = sorted(p for p in root.rglob("*.py") if p.stat().st_size > 2000)
        db = root / ".aether/aether.db"
        if not args.cold:
            subprocess.run([args.daemon_python, "-m", "aether", "index", "--workspace",
                            str(root)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           cwd=tmp, check=True)
        proc = subprocess.Popen([args.daemon_python, "-m", "aether", "watch", "--workspace",
                                 str(root)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                cwd=tmp)  # not this checkout: `-m` puts the cwd on sys.path
        try:
            wait_for(lambda: indexed(db))
            time.sleep(2.0)  # the first pass's SIR step and the post-pass trim
            print(f"files {len(list(root.rglob('*.py')))}, first index done, "
                  f"RSS {tree_rss_mb(proc.pid):.1f} MB")
            samples: list[tuple[int, float]] = []
            for n in range(1, args.edits + 1):
                path = rng.choice(files)
                rel = path.relative_to(root).as_posix()
                text = path.read_text(encoding="utf-8", errors="replace")
                path.write_text(text + f"\n\ndef _soak_{n}(x):\n    return x + {n}\n",
                                encoding="utf-8")
                mtime = path.stat().st_mtime_ns
                wait_for(lambda rel=rel, mtime=mtime: stored_mtime(db, rel) == mtime, 60)
                if n % args.every == 0:
                    time.sleep(0.5)  # the pass's post-write trim
                    samples.append((n, tree_rss_mb(proc.pid)))
                    print(f"edit {n:5d}   RSS {samples[-1][1]:7.1f} MB", flush=True)
            base = samples[0][1]
            last = samples[-1][1]
            peak = max(r for _, r in samples)
            print(f"baseline (after {samples[0][0]} edits) {base:.1f} MB, last {last:.1f} MB, "
                  f"peak {peak:.1f} MB")
            print(f"ratio last/baseline {last / base:.3f}   peak/baseline {peak / base:.3f}"
                  "   (flat: ~1.0)")
        finally:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
