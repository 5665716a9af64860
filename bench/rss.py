"""Resident memory against repository size: the cold index's peak (workers included), the
idle `aether watch`, and the idle `aether mcp` after an agent used it.

    python bench/rss.py [--sizes 10k,50k,100k,300k] [--edits 5] [--settle 8]
                        [--python OTHER_VENV/bin/python] [--imports]

Corpora are real source already on this machine, built once into ~/.cache/aether-bench/rss/
and reused: this interpreter's standard library (~72k symbols) and Django 5.2 (from
~/.cache/aether-bench/Django-5.2.tar.gz, fetched with `pip download django==5.2 --no-deps
--no-binary :all: -d ~/.cache/aether-bench`). 10k and 50k are subsets of the standard library
by files; 100k is the standard library and Django side by side; 300k is three copies of that
side by side (`copy1/`, `copy2/`, `copy3/`).

For each size, with the static provider and the database in a private state folder:
1. `aether index`: peak RSS of its whole process tree (parse workers, forkserver), sampled
   from /proc every 50 ms; the symbol count is read from the store.
2. `aether watch` (as a user starts it): once its first pass is idle and it has settled,
   its idle RSS; then `--edits` saves to real files (each waits for the store), settle, RSS;
   `--idle-wait` seconds later (nothing used meanwhile), its idle RSS again.
3. `aether mcp` driven by the `mcp` SDK stdio client: a search, a get_sir and a
   file+line lookup (what an editor hover asks), settle, RSS ("active"); then the same
   edits and one more search, and `--idle-wait` seconds later, RSS ("idle").
Files edited are restored afterwards. Prints a table and RSS growth between sizes against
symbol growth (sub-linear: the RSS ratio stays below the symbol ratio).
`--python` runs another build's `aether` (its interpreter), for a before/after in one run.
`--imports` also prints the floor: RSS of a bare interpreter that only imports what each
surface imports.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import itertools
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from mcp import ClientSession, StdioServerParameters, stdio_client
from measure import PeakSampler, stored_mtime, wait_for

from aether.engine.memory import tree_rss_mb

CACHE = Path.home() / ".cache/aether-bench"
CORPORA = CACHE / "rss"
DJANGO = CACHE / "Django-5.2.tar.gz"
# Definitions a file holds, estimated without parsing (72,952 in the standard library, which
# indexes to 71,907 symbols)
DEFINITION = re.compile(rb"^[ \t]*(?:async[ \t]+def|def|class)[ \t]", re.MULTILINE)
SIZES = {"10k": 10_000, "50k": 50_000, "100k": 100_000, "300k": 300_000}
IGNORE = shutil.ignore_patterns("__pycache__", "site-packages", ".aether")
PASS_LIMIT_S = 1800.0  # any one index pass; a benchmark must end


# ---------------------------------------------------------------------------- corpora

def _stdlib_files() -> list[Path]:
    root = Path(sysconfig.get_paths()["stdlib"])
    return sorted(p for p in root.rglob("*.py")
                  if "site-packages" not in p.parts and "__pycache__" not in p.parts)


def _django(dest: Path) -> None:
    with tarfile.open(DJANGO) as tar:
        tar.extractall(dest.parent / "_django", filter="data")
    shutil.move(dest.parent / "_django/Django-5.2", dest)
    shutil.rmtree(dest.parent / "_django")


def _subset(dest: Path, target_symbols: int) -> None:
    """Standard-library files in path order until they hold about `target_symbols`."""
    root = Path(sysconfig.get_paths()["stdlib"])
    budget = target_symbols
    for p in _stdlib_files():
        if budget <= 0:
            break
        out = dest / p.relative_to(root)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(p, out)
        budget -= len(DEFINITION.findall(p.read_bytes()))


def _side_by_side(dest: Path) -> None:
    shutil.copytree(sysconfig.get_paths()["stdlib"], dest / "cpython", ignore=IGNORE,
                    symlinks=True)
    _django(dest / "django")


def corpus(size: str) -> Path:
    dest = CORPORA / size
    if (dest / ".complete").exists():
        return dest
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    if SIZES[size] <= 50_000:
        _subset(dest, SIZES[size])
    elif size == "100k":
        _side_by_side(dest)
    else:
        for i in range(1, 1 + SIZES[size] // 100_000):
            _side_by_side(dest / f"copy{i}")
    (dest / ".complete").write_text("")
    return dest


# ---------------------------------------------------------------------------- measuring

def symbols(db: Path) -> int:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return int(conn.execute("SELECT count(*) FROM symbols").fetchone()[0])
    finally:
        conn.close()


EDIT = re.compile(rb'\n\ndef _rss_edit_\d+_\d+\(values\):\n    """Sum the values plus \d+\."""\n'
                  rb"    return sum\(values\) \+ \d+\n")


class Edits:
    """Saves to real files of the corpus (a new function appended), restored at the end (and
    stripped at the start, should a killed run have left one)."""

    def __init__(self, root: Path, n: int) -> None:
        files = sorted(p for p in root.rglob("*.py") if 4000 < p.stat().st_size < 40_000)
        step = max(1, len(files) // max(1, n))
        self.files = files[::step][:n]
        self.root = root
        self.saved = {p: EDIT.sub(b"", p.read_bytes()) for p in self.files}
        self.round = 0

    def apply(self, db: Path) -> None:
        """Edit each file once, waiting after each save until the store has it."""
        self.round += 1
        for i, path in enumerate(self.files):
            path.write_bytes(self.saved[path] + (
                f"\n\ndef _rss_edit_{self.round}_{i}(values):\n"
                f'    """Sum the values plus {i}."""\n'
                f"    return sum(values) + {i}\n").encode())
            rel, mtime = path.relative_to(self.root).as_posix(), path.stat().st_mtime_ns
            wait_for(lambda rel=rel, mtime=mtime: stored_mtime(db, rel) == mtime, 120)

    def restore(self) -> None:
        for path, data in self.saved.items():
            path.write_bytes(data)


def aether(python: str, *args: str) -> list[str]:
    return [python, "-m", "aether", *args, "--provider", "static"]


def cold_index(python: str, root: Path, state: Path) -> tuple[float, float]:
    """(peak RSS of the process tree in MB, seconds)."""
    started = time.perf_counter()
    proc = subprocess.Popen(aether(python, "index", "--workspace", str(root),
                                   "--state-dir", str(state)),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=state)
    with PeakSampler(proc.pid) as sampler:
        try:
            _, err = proc.communicate(timeout=PASS_LIMIT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    if proc.returncode:
        raise RuntimeError(f"aether index failed: {err.decode()[-2000:]}")
    return sampler.peak, time.perf_counter() - started


def watch_rss(python: str, root: Path, state: Path, edits: Edits, settle: float,
              idle_wait: float) -> tuple[float, float, float]:
    """(idle RSS after the first pass, RSS just after the edits, idle RSS `idle_wait`
    seconds later), MB."""
    proc = subprocess.Popen(aether(python, "watch", "--workspace", str(root),
                                   "--state-dir", str(state)),
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=state,
                            text=True)
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + PASS_LIMIT_S
        for line in proc.stdout:  # bounded by the process and the deadline
            if line.startswith("idle (writer)") or time.monotonic() > deadline:
                break
        threading.Thread(target=proc.stdout.read, daemon=True).start()  # keep the pipe open
        time.sleep(settle)
        idle = tree_rss_mb(proc.pid)
        edits.apply(state / "aether.db")
        time.sleep(settle)
        active = tree_rss_mb(proc.pid)
        time.sleep(idle_wait)
        return idle, active, tree_rss_mb(proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()


def _server_pid(marker: str) -> int:
    """The `aether mcp` child the stdio client started (found by its workspace argument)."""
    todo = [os.getpid()]
    while todo:
        pid = todo.pop()
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                kids = [int(c) for c in
                        Path(f"/proc/{pid}/task/{tid}/children").read_text().split()]
            except OSError:
                continue
            for kid in kids:
                try:
                    cmd = Path(f"/proc/{kid}/cmdline").read_bytes().decode(errors="replace")
                except OSError:
                    continue
                if marker in cmd and "mcp" in cmd:
                    return kid
                todo.append(kid)
    raise RuntimeError("the aether mcp process was not found")


async def mcp_rss(python: str, root: Path, state: Path, edits: Edits, settle: float,
                  idle_wait: float) -> tuple[float, float]:
    """(RSS after a search, a get_sir and a file+line lookup; idle RSS `idle_wait` seconds
    after the edits and one more search), MB."""
    params = StdioServerParameters(
        command=python, args=aether(python, "mcp", "--workspace", str(root),
                                    "--state-dir", str(state))[1:], cwd=str(state))
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        await session.call_tool("aether_status", {"wait_s": 600})
        found = await session.call_tool("aether_search", {"query": "parse the date string"})
        sid = _first(found.structured_content or {}, "symbol_id")
        await session.call_tool("aether_get_sir", {"symbol_id": sid})
        path, line = edits.files[0].relative_to(root).as_posix(), 20
        await session.call_tool("aether_explain", {"file": path, "line": line})
        await asyncio.sleep(settle)
        pid = _server_pid(str(state))
        active = tree_rss_mb(pid)
        await asyncio.to_thread(edits.apply, state / "aether.db")
        await session.call_tool("aether_search", {"query": "sum the values"})
        await asyncio.sleep(idle_wait)
        return active, tree_rss_mb(pid)


def _first(answer: dict[str, object], key: str) -> str | None:
    matches = answer.get("matches")
    if isinstance(matches, list) and matches and isinstance(matches[0], dict):
        value = matches[0].get(key)
        return str(value) if value else None
    return None


def import_floor(python: str) -> dict[str, float]:
    """RSS of a bare interpreter, and of one that only imports each surface's modules."""
    probes = {
        "python": "pass",
        "numpy": "import numpy",
        "wordllama": "import wordllama",
        "mcp sdk": "import mcp.server, pydantic",
        "pygls": "import pygls.lsp.server",
        "aether.watch": "import aether.watch",
        "aether.mcp": "import aether.mcp.server",
        "aether.lsp": "import aether.lsp.server",
        "model loaded": ("from aether.engine.search.embedder import LocalEmbedder; "
                         "LocalEmbedder().embed(['x'])"),
    }
    out = {}
    for name, code in probes.items():
        script = (f"{code}\nimport re\n"
                  "print(re.search(r'VmRSS:\\s+(\\d+)', open('/proc/self/status').read())[1])")
        done = subprocess.run([python, "-c", script], capture_output=True, text=True,
                              cwd=tempfile.gettempdir(), timeout=120)
        out[name] = int(done.stdout.strip() or 0) / 1024 if done.returncode == 0 else -1.0
    return out


# ---------------------------------------------------------------------------- report

@dataclass(slots=True)
class Row:
    size: str
    symbols: int = 0
    cold_peak: float = 0.0
    cold_s: float = 0.0
    watch_first: float = 0.0  # idle after the first pass
    watch_active: float = 0.0  # just after the edits
    watch_idle: float = 0.0  # idle a while after the edits
    mcp_active: float = 0.0  # just after the lookups
    mcp_idle: float = 0.0  # idle a while after the edits and a search
    db_mb: float = 0.0
    notes: list[str] = field(default_factory=list)


def measure(python: str, size: str, edits_n: int, settle: float, idle_wait: float) -> Row:
    row = Row(size)
    root = corpus(size)
    edits = Edits(root, edits_n)
    with tempfile.TemporaryDirectory(prefix=f"aether-rss-{size}-") as tmp:
        state = Path(tmp)
        try:
            row.cold_peak, row.cold_s = cold_index(python, root, state)
            row.symbols = symbols(state / "aether.db")
            row.db_mb = (state / "aether.db").stat().st_size / 2**20
            row.watch_first, row.watch_active, row.watch_idle = watch_rss(
                python, root, state, edits, settle, idle_wait)
            row.mcp_active, row.mcp_idle = asyncio.run(mcp_rss(python, root, state, edits,
                                                               settle, idle_wait))
        finally:
            edits.restore()
    return row


def print_table(rows: list[Row], python: str) -> None:
    print(f"\naether from {python}   (RSS in MB; `idle`: a while after the last use)")
    print(f"{'size':>5} {'symbols':>8} {'db MB':>6} {'cold s':>7} {'cold peak':>10} "
          f"{'watch 1st':>10} {'active':>7} {'idle':>6} {'mcp active':>11} {'idle':>6}")
    for r in rows:
        print(f"{r.size:>5} {r.symbols:>8,} {r.db_mb:>6.0f} {r.cold_s:>7.1f} "
              f"{r.cold_peak:>10.0f} {r.watch_first:>10.0f} {r.watch_active:>7.0f} "
              f"{r.watch_idle:>6.0f} {r.mcp_active:>11.0f} {r.mcp_idle:>6.0f}")
    print("growth between sizes: RSS ratio (and RSS ratio / symbol ratio; < 1.0 is "
          "sub-linear)")
    for a, b in itertools.pairwise(rows):
        if not (a.symbols and a.cold_peak and a.watch_idle and a.mcp_idle):
            continue
        k = b.symbols / a.symbols
        cells = [f"{name} x{y / x:.2f} ({y / x / k:.2f})" for name, x, y in (
            ("cold peak", a.cold_peak, b.cold_peak), ("watch idle", a.watch_idle, b.watch_idle),
            ("mcp active", a.mcp_active, b.mcp_active), ("mcp idle", a.mcp_idle, b.mcp_idle))]
        print(f"  {a.size}->{b.size}: symbols x{k:.2f}   " + "   ".join(cells))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10k,50k,100k,300k")
    ap.add_argument("--edits", type=int, default=5)
    ap.add_argument("--settle", type=float, default=8.0,
                    help="seconds to let a daemon settle (its memory check runs every 5 s)")
    ap.add_argument("--idle-wait", type=float, default=70.0,
                    help="seconds after the last use before the idle reading (a daemon "
                         "drops its search model and vectors after 60 s unused)")
    ap.add_argument("--python", default=sys.executable,
                    help="interpreter whose aether is measured (another build: before/after)")
    ap.add_argument("--imports", action="store_true", help="also measure the import floor")
    args = ap.parse_args()
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        sys.exit(f"unknown size {unknown[0]!r}: use {', '.join(SIZES)}")
    if not DJANGO.exists() and any(SIZES[s] > 50_000 for s in sizes):
        sys.exit(f"{DJANGO} is missing: pip download django==5.2 --no-deps "
                 f"--no-binary :all: -d {CACHE}")
    if args.imports:
        for name, mb in import_floor(args.python).items():
            print(f"import floor {name:>14}: {mb:6.1f} MB")
    CORPORA.mkdir(parents=True, exist_ok=True)
    lock = (CORPORA / ".lock").open("w")
    try:  # two runs would edit (and restore) the same files under each other
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        sys.exit(f"another bench/rss.py is running (it holds {CORPORA / '.lock'})")
    rows = []
    for size in sizes:
        row = measure(args.python, size, args.edits, args.settle, args.idle_wait)
        print(f"{size}: {row.symbols:,} symbols, cold peak {row.cold_peak:.0f} MB "
              f"({row.cold_s:.0f} s), watch {row.watch_first:.0f}/{row.watch_active:.0f}/"
              f"{row.watch_idle:.0f} MB, mcp {row.mcp_active:.0f}/{row.mcp_idle:.0f} MB",
              flush=True)
        rows.append(row)
    print_table(rows, args.python)


if __name__ == "__main__":
    if not re.match(r"linux", sys.platform):
        sys.exit("bench/rss.py reads /proc: Linux only")
    main()
