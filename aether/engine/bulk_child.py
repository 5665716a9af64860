"""A large pass parsed and written by a child process, so the daemon's heap never holds one.

CPython's small-object allocator gives a 1 MiB arena back to the OS only once every object
in it is gone, and a cold pass leaves a few long-lived objects (caches, the graph's module
map, names) in nearly every arena it filled: an `aether watch` that indexed 143,000 symbols
itself idled at 222 MB after releasing all it could, and at 126 MB with its cold pass made
by a child (`python bench/watch.py`). So when a full pass would read many files (a first
index, a branch switch), the writer has a child process run that pass (the same Indexer, the
same store, static SIRs and vectors when the provider is static), relays its progress, and
then makes its own pass, which finds every file current.

The child is the writer's hands, not a second writer: the writer starts it, waits for it,
and stops it (a stopping daemon terminates it; a dead daemon ends it, see parent_watch). If
it fails, the writer's own pass does the work, as it always did.

    python -m aether.engine.bulk_child --parent PID [--static] [--max-workers N]
    (the settings as one line of JSON on stdin; progress as `files DONE TOTAL` lines on stdout)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys

from aether.config import Settings
from aether.engine.engine import Engine
from aether.engine.indexer import Indexer, ProgressFn
from aether.engine.parent_watch import exit_with_parent
from aether.logs import setup_logging
from aether.providers.static import StaticProvider

log = logging.getLogger(__name__)

BULK_CHILD_FILES = 400  # a full pass parsing at least this many files runs in a child
STOP_GRACE_S = 5.0


async def index_in_child(settings: Settings, *, static: bool, max_workers: int | None,
                         on_files: ProgressFn) -> bool:
    """Run a full index pass in a child process, relaying its file progress. True when it
    finished; False when it failed (the caller's own pass then does the work)."""
    args = [sys.executable, "-m", "aether.engine.bulk_child", "--parent", str(os.getpid())]
    if static:
        args.append("--static")
    if max_workers:
        args += ["--max-workers", str(max_workers)]
    proc = await asyncio.create_subprocess_exec(
        *args, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write(settings.model_dump_json().encode() + b"\n")
        await proc.stdin.drain()
        proc.stdin.close()
        async for line in proc.stdout:  # ends when the child does
            kind, _, rest = line.decode(errors="replace").partition(" ")
            done, _, total = rest.partition(" ")
            if kind == "files" and done.isdigit() and total.strip().isdigit():
                on_files(int(done), int(total))
        code = await proc.wait()
        if code != 0:
            log.warning("the index pass in a child process failed (exit %d): "
                        "this process does it", code)
        return code == 0
    finally:
        if proc.returncode is None:  # cancelled (a stopping daemon): end it, then wait
            proc.terminate()
            try:
                await asyncio.wait_for(asyncio.shield(proc.wait()), STOP_GRACE_S)
            except TimeoutError:
                proc.kill()
                await proc.wait()


async def _run(settings: Settings, *, static: bool, max_workers: int | None) -> None:
    def progress(done: int, total: int) -> None:
        sys.stdout.write(f"files {done} {total}\n")
        sys.stdout.flush()

    engine = await Engine.open(settings, StaticProvider() if static else None)
    try:
        if static:  # SIRs and vectors as well: all of a static pass's work
            await engine.index(progress, max_workers=max_workers)
        else:  # a model's SIRs are the writer's (its limiter, meter and circuit)
            report = await Indexer(settings, engine.store, static=False,
                                   max_workers=max_workers).run(progress)
            if report.cold:
                await engine.store.compact()
    finally:
        await engine.close()


def main() -> None:
    ap = argparse.ArgumentParser(prog="aether-bulk-child")
    ap.add_argument("--parent", type=int, required=True)
    ap.add_argument("--static", action="store_true")
    ap.add_argument("--max-workers", type=int)
    args = ap.parse_args()
    exit_with_parent(args.parent)
    settings = Settings.model_validate_json(sys.stdin.readline())
    key = settings.inference.api_key()
    setup_logging(settings.log_dir, secrets=[key] if key else [])
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_run(settings, static=args.static, max_workers=args.max_workers))


if __name__ == "__main__":
    main()
